# tools/: the mock Kafka broker for tests and for users without Kafka, and
# cdc_kafka_topics, which creates topics on a real broker.
TOOLS_OBJS = tools/mock_broker.o tools/topics.o

DAEMONS += tools/cdc_kafka_mock_broker tools/cdc_kafka_topics
DAEMON_OBJS += $(TOOLS_OBJS)

tools/cdc_kafka_mock_broker: tools/mock_broker.o common/log.o
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

tools/cdc_kafka_topics: tools/topics.o common/kafka_topics.o
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)
