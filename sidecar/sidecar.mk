# sidecar/: the replication slot to Kafka daemon.
SIDECAR_OBJS = \
	sidecar/main.o \
	sidecar/run.o \
	sidecar/repl.o \
	sidecar/frame.o \
	sidecar/producer.o \
	sidecar/partitioner.o \
	sidecar/position.o \
	sidecar/lsn_track.o \
	sidecar/snapshot.o \
	sidecar/heartbeat.o

DAEMONS += sidecar/cdc_kafka_sidecar
DAEMON_OBJS += $(SIDECAR_OBJS)

sidecar/cdc_kafka_sidecar: $(SIDECAR_OBJS) $(COMMON_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

# Unit tests of the pure parts (t/106_sidecar_units.pl runs them); built
# with everything, never installed.
SIDECAR_UNIT_OBJS = sidecar/unit_test.o sidecar/frame.o sidecar/lsn_track.o \
	sidecar/position.o sidecar/partitioner.o common/config.o common/log.o \
	common/kafka_topics.o
DAEMON_OBJS += sidecar/unit_test.o

all: sidecar/sidecar_unit_test
sidecar/sidecar_unit_test: $(SIDECAR_UNIT_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)

clean: clean-sidecar-units
.PHONY: clean-sidecar-units
clean-sidecar-units:
	rm -f sidecar/sidecar_unit_test
