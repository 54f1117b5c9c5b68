/*-------------------------------------------------------------------------
 * kafka_topics.h
 *	  Creating a Kafka topic through the admin API (CreateTopics), for a
 *	  broker that does not create topics on first use.
 *-------------------------------------------------------------------------
 */
#ifndef CDC_KAFKA_TOPICS_H
#define CDC_KAFKA_TOPICS_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

/* A topic-level setting (cleanup.policy, compression.type, ...). */
typedef struct KafkaTopicConfig
{
	const char *name;
	const char *value;
} KafkaTopicConfig;

typedef struct KafkaTopicSpec
{
	int			partitions;		/* -1: the broker's num.partitions */
	int			replication_factor; /* -1: the broker's default.replication.factor */
	const KafkaTopicConfig *configs;	/* not owned; ends with a NULL name */
} KafkaTopicSpec;

/*
 * Creates "topic" unless it exists (*created says which), then waits until
 * the metadata shows every partition with a leader, so that producing can
 * start at once.  Works with any rd_kafka_t; errstr names the topic.
 */
extern bool kafka_topic_create(rd_kafka_t *rk, const char *topic,
							   const KafkaTopicSpec *spec, int timeout_ms,
							   bool *created, char *errstr, size_t errstr_size);

#endif							/* CDC_KAFKA_TOPICS_H */
