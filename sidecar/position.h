/*-------------------------------------------------------------------------
 * position.h
 *	  Exactly-once without Kafka transactions: every message the sidecar
 *	  produces carries its position in a header, and per topic-partition the
 *	  sidecar knows the highest position Kafka already holds (read from the
 *	  partition's tail the first time a topic is seen, then raised by every
 *	  produce).  A frame at or below that position is a replay after a crash
 *	  or reconnect, and is skipped.
 *
 *	  Correct because, per partition, messages are produced in position
 *	  order and the idempotent producer writes them in order without gaps.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_POSITION_H
#define SIDECAR_POSITION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kafka_topics.h"

#define POSITION_HEADER "cdc_kafka.pos"
#define POSITION_TEXT_LEN 64

/* Total order: commit LSN, then seq, then sub (0 event, 1 its tombstone). */
typedef struct Position
{
	uint64_t	commit_lsn;		/* 0 for snapshot rows */
	uint64_t	seq;
	uint32_t	sub;
} Position;

typedef struct PositionTopic
{
	char	   *name;			/* owned */
	size_t		name_len;
	rd_kafka_topic_t *rkt;		/* owned; the producer's handle */
	int32_t		partitions;
	Position   *max;			/* owned; per partition, highest held */
	struct PositionTopic *next; /* hash chain */
} PositionTopic;

typedef struct PositionTable
{
	PositionTopic **buckets;	/* owned */
	size_t		nbuckets;
	size_t		ntopics;
	PositionTopic *last;		/* lookup cache: events come in runs */
	int			lookback;		/* messages read back per partition */
	int			timeout_ms;		/* per metadata/read operation */
	volatile sig_atomic_t *stop;	/* not owned: set, waits give up */
	const KafkaTopicSpec *create;	/* not owned; NULL: never create topics */
	rd_kafka_t *reader;			/* owned; the tail reader, a consumer made
								 * at start so that its connection is up by
								 * the first event, kept for later topics */
} PositionTable;

extern int	position_cmp(const Position *a, const Position *b);
extern int	position_format(const Position *p, char *buf, size_t size);
extern bool position_parse(const char *text, size_t len, Position *p);

/* Takes consumer_conf (the tail reader's settings) in all cases. */
extern bool position_table_init(PositionTable *pt, rd_kafka_conf_t *consumer_conf,
								int lookback, int timeout_ms,
								const KafkaTopicSpec *create,
								volatile sig_atomic_t *stop,
								char *errstr, size_t errstr_size);
extern void position_table_free(PositionTable *pt);

/*
 * Serves what the idle tail reader queued meanwhile (broker connections it
 * lost, e.g. to the broker's connections.max.idle.ms): call it regularly,
 * or those would pile up for the life of the process.
 */
extern void position_table_tick(PositionTable *pt);

/*
 * The topic's entry, learning it on first sight: partition count from
 * metadata (creating the topic with pt->create if the broker answers that
 * it does not exist, i.e. it does not create topics itself), highest
 * positions from each partition's last "lookback" messages.  With learn = false (a new snapshot) Kafka's content is not
 * read: everything counts as new.  NULL with errstr on failure (retry), or
 * "interrupted" once *stop is set.
 */
extern PositionTopic *position_topic(PositionTable *pt, rd_kafka_t *rk,
									 const char *topic, size_t topic_len,
									 bool learn, char *errstr, size_t errstr_size);

#endif							/* SIDECAR_POSITION_H */
