/*-------------------------------------------------------------------------
 * producer.h
 *	  The librdkafka producer: idempotent, acks=all, every message stamped
 *	  with its position; delivery reports feed lsn_track.  Owns the
 *	  rd_kafka_t; does not own the tracker.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_PRODUCER_H
#define SIDECAR_PRODUCER_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "lsn_track.h"
#include "frame.h"
#include "position.h"

/* Message opaques besides lsn_track ids. */
#define PRODUCER_UNTRACKED	0		/* must be delivered (snapshot rows) */
#define PRODUCER_HEARTBEAT	UINT64_MAX	/* best effort */

/* Called while the producer waits for room, to keep Postgres informed. */
typedef void (*ProducerWaitCb) (void *arg);

typedef struct Producer
{
	rd_kafka_t *rk;				/* owned */
	LsnTrack   *track;			/* not owned */
	int			wake_fd[2];		/* pipe librdkafka writes to when it has events */
	bool		failed;			/* a delivery failed: stop, confirm nothing more */
	bool		fatal;			/* failed by a fatal error, reports maybe still due */
	char		failure[512];
	size_t		too_large;		/* size of the largest event refused as too large */
	uint64_t	produced;		/* messages handed to librdkafka */
	uint64_t	in_flight;		/* handed over, no delivery report yet */
	char		last_error[512];	/* to log a repeated Kafka error once */
	uint64_t	delivered;
	uint64_t	bytes;			/* key + value bytes delivered */
} Producer;

/*
 * The sidecar's librdkafka settings, then the user's "kafka." keys.  The
 * consumer template (for position.c's tail reader) gets the user's keys
 * only.
 */
extern bool producer_init(Producer *p, const Config *cfg, LsnTrack *track,
						  rd_kafka_conf_t **consumer_conf,
						  char *errstr, size_t errstr_size);
extern void producer_destroy(Producer *p);

/*
 * Produce one message (key, value and headers copied), with the position
 * header and the nheaders headers the plugin gave.  On a full queue, polls
 * and calls wait_cb until there is room, or until *stop is set (returns
 * false with errstr "interrupted").
 */
extern bool producer_send(Producer *p, rd_kafka_topic_t *rkt, int32_t partition,
						  const void *key, int32_t key_len,
						  const void *value, int32_t value_len,
						  const FrameHeader *headers, int nheaders,
						  const Position *pos, uint64_t opaque,
						  ProducerWaitCb wait_cb, void *wait_arg,
						  volatile int *stop, char *errstr, size_t errstr_size);

/* Why the producer failed (once failed is set). */
extern const char *producer_failure(Producer *p);

/* "event of N bytes for table S.T (topic X), key K", for error messages. */
extern void producer_describe_event(const char *topic, const void *key, size_t key_len,
									const void *value, size_t value_len,
									char *buf, size_t size);

/* Serve delivery reports; drains the wake-up pipe. */
extern void producer_poll(Producer *p, int timeout_ms);

/* Wait until every message is delivered, failed, or *stop / timeout. */
extern bool producer_drain(Producer *p, int timeout_ms, ProducerWaitCb wait_cb,
						   void *wait_arg, volatile int *stop);

static inline uint64_t
producer_in_flight(const Producer *p)
{
	return p->in_flight;
}

#endif							/* SIDECAR_PRODUCER_H */
