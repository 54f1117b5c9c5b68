/*-------------------------------------------------------------------------
 * lsn_track.c
 *	  Acknowledgements to confirmable LSN.  The durability rule of the whole
 *	  sidecar lives here: the flush LSN sent to Postgres never passes a
 *	  transaction with an event Kafka has not acknowledged.
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "lsn_track.h"

#define LSN_TRACK_ENTRY(t, id) (&(t)->ring[((id) - 1) % (t)->capacity])

bool
lsn_track_init(LsnTrack *t, uint64_t capacity, uint64_t confirmed)
{
	t->ring = calloc(capacity, sizeof(LsnTrackEntry));
	t->capacity = capacity;
	t->head = t->tail = 1;
	t->confirmed = confirmed;
	t->pending_total = 0;
	return t->ring != NULL;
}

void
lsn_track_free(LsnTrack *t)
{
	free(t->ring);
	t->ring = NULL;
}

uint64_t
lsn_track_begin(LsnTrack *t, uint64_t commit_lsn)
{
	LsnTrackEntry *e;

	if (t->tail > t->head)
	{
		e = LSN_TRACK_ENTRY(t, t->tail - 1);
		if (e->commit_lsn == commit_lsn)
			return t->tail - 1;
	}
	if (lsn_track_count(t) == t->capacity)
		return 0;
	e = LSN_TRACK_ENTRY(t, t->tail);
	e->commit_lsn = commit_lsn;
	e->pending = 0;
	e->complete = false;
	return t->tail++;
}

void
lsn_track_add(LsnTrack *t, uint64_t id)
{
	LSN_TRACK_ENTRY(t, id)->pending++;
	t->pending_total++;
}

void
lsn_track_ack(LsnTrack *t, uint64_t id)
{
	/* an entry cannot be popped while it has pending events */
	if (id < t->head || id >= t->tail)
		abort();
	LSN_TRACK_ENTRY(t, id)->pending--;
	t->pending_total--;
}

void
lsn_track_end(LsnTrack *t, uint64_t id)
{
	LSN_TRACK_ENTRY(t, id)->complete = true;
}

uint64_t
lsn_track_advance(LsnTrack *t)
{
	while (t->head < t->tail)
	{
		LsnTrackEntry *e = LSN_TRACK_ENTRY(t, t->head);

		if (!e->complete || e->pending > 0)
			break;
		if (e->commit_lsn > t->confirmed)
			t->confirmed = e->commit_lsn;
		t->head++;
	}
	return t->confirmed;
}

void
lsn_track_forget_incomplete(LsnTrack *t)
{
	if (t->tail > t->head)
	{
		LsnTrackEntry *e = LSN_TRACK_ENTRY(t, t->tail - 1);

		if (e->complete)
			return;
		if (e->pending == 0)
			t->tail--;
		else
		{
			/*
			 * The server sends the transaction again, whole, maybe after
			 * others it sends again first, so this entry would never see
			 * its C frame.  It stays only to hold the confirmation back
			 * until Kafka acknowledges its events in flight, and confirms
			 * nothing itself.
			 */
			e->complete = true;
			e->commit_lsn = 0;
		}
	}
}
