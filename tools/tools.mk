# tools/: the mock Kafka broker for tests and for users without Kafka.
TOOLS_OBJS = tools/mock_broker.o

DAEMONS += tools/cdc_kafka_mock_broker
DAEMON_OBJS += $(TOOLS_OBJS)

tools/cdc_kafka_mock_broker: $(TOOLS_OBJS) common/log.o
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)
