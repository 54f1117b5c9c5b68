# common/: configuration, logging and librdkafka glue shared by the daemons.
COMMON_OBJS = \
	common/config.o \
	common/daemon.o \
	common/kafka_conf.o \
	common/kafka_topics.o \
	common/log.o

DAEMON_OBJS += $(COMMON_OBJS)
