/*-------------------------------------------------------------------------
 * lsn_track.h
 *	  Which LSN may be confirmed to Postgres: a bounded ring of in-flight
 *	  transactions, each counting its events not yet acknowledged by Kafka
 *	  (bottledwater's xact_list).  A transaction's commit LSN becomes
 *	  confirmable once it is complete (its C frame arrived), none of its
 *	  events is pending, and every older transaction is confirmable too.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_LSN_TRACK_H
#define SIDECAR_LSN_TRACK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct LsnTrackEntry
{
	uint64_t	commit_lsn;
	uint64_t	pending;		/* events produced, not yet acknowledged */
	bool		complete;		/* its C frame has been seen */
} LsnTrackEntry;

typedef struct LsnTrack
{
	LsnTrackEntry *ring;		/* owned; capacity entries */
	uint64_t	capacity;
	uint64_t	head;			/* id of the oldest entry */
	uint64_t	tail;			/* id of the next entry; count = tail - head */
	uint64_t	confirmed;		/* highest commit LSN fully acknowledged */
	uint64_t	pending_total;	/* events in flight, all transactions */
} LsnTrack;

/*
 * Entry ids are 1-based and never reused, so they can travel as librdkafka
 * message opaques; id 0 means "not tracked".
 */
extern bool lsn_track_init(LsnTrack *t, uint64_t capacity, uint64_t confirmed);
extern void lsn_track_free(LsnTrack *t);

/*
 * The entry for the transaction with this commit LSN: the newest one if it
 * has this LSN (the same transaction, maybe resent after a reconnect), else a
 * new one.  0 when the ring is full: the caller polls Kafka and retries.
 */
extern uint64_t lsn_track_begin(LsnTrack *t, uint64_t commit_lsn);
extern void lsn_track_add(LsnTrack *t, uint64_t id);
extern void lsn_track_ack(LsnTrack *t, uint64_t id);
extern void lsn_track_end(LsnTrack *t, uint64_t id);

/* Pops every finished transaction at the head; returns t->confirmed. */
extern uint64_t lsn_track_advance(LsnTrack *t);

/*
 * After a reconnect: drops a trailing incomplete entry with no pending
 * events; one with events in flight stays, complete but confirming nothing.
 */
extern void lsn_track_forget_incomplete(LsnTrack *t);

static inline uint64_t
lsn_track_count(const LsnTrack *t)
{
	return t->tail - t->head;
}

#endif							/* SIDECAR_LSN_TRACK_H */
