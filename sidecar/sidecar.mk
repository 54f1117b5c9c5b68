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
	sidecar/snapshot.o

DAEMONS += sidecar/cdc_kafka_sidecar
DAEMON_OBJS += $(SIDECAR_OBJS)

sidecar/cdc_kafka_sidecar: $(SIDECAR_OBJS) $(COMMON_OBJS)
	$(DAEMON_CC) $(DAEMON_CFLAGS) -o $@ $^ $(DAEMON_LIBS)
