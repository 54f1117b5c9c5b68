/*-------------------------------------------------------------------------
 * run.c
 *	  The session loop.  Reads one replication message at a time, produces
 *	  its events, and confirms to Postgres only what lsn_track says Kafka
 *	  holds.  Back-pressure: when librdkafka's queue or the transaction ring
 *	  is full, the loop stops reading the socket (the server buffers, then
 *	  waits) but keeps sending status updates, so wal_sender_timeout never
 *	  fires.
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"
#include "heartbeat.h"
#include "log.h"
#include "lsn_track.h"
#include "partitioner.h"
#include "position.h"
#include "producer.h"
#include "repl.h"
#include "run.h"
#include "snapshot.h"

#define LSN_FMT "%X/%X"
#define LSN_ARGS(lsn) (uint32_t) ((lsn) >> 32), (uint32_t) (lsn)
#define SIDECAR_MAX_OPTIONS 64
#define SIDECAR_KAFKA_TIMEOUT_MS 10000
#define SIDECAR_READ_BATCH 1024	/* frames between two housekeeping passes */
#define SIDECAR_FEEDBACK_MIN_MS 100 /* least time between two status updates */

typedef enum StreamResult
{
	STREAM_CONTINUE,			/* setup done: go on streaming */
	STREAM_STOPPED,				/* signal, or nothing more to do */
	STREAM_RETRY,				/* transient: reconnect after a backoff */
	STREAM_FATAL				/* needs a human */
} StreamResult;

typedef struct Sidecar
{
	const Config *cfg;			/* not owned */
	SidecarSignals *sig;		/* not owned */
	const char *conninfo;
	const char *slot;
	bool		frame_headers;	/* asked the plugin for headers=true */
	const char *opt_names[SIDECAR_MAX_OPTIONS];	/* point into cfg */
	const char *opt_values[SIDECAR_MAX_OPTIONS];
	int			noptions;
	const char *topic_prefix;	/* plugin option, NULL: database name */
	bool		schemas;		/* plugin option schemas (default true) */

	Repl		repl;
	bool		streaming;		/* repl is in COPY BOTH */
	bool		slot_ready;		/* --create-slot (and snapshot) done */
	Producer	producer;
	LsnTrack	track;
	PositionTable positions;
	KafkaTopicSpec topic_spec;	/* topic.creation.default.* */
	KafkaTopicConfig *topic_configs;	/* owned; ends with a NULL name */

	uint64_t	endpos;			/* -E: stop here; 0 = never */
	bool		endpos_reached;
	uint64_t	sent_lsn;		/* flush LSN last reported */
	int64_t		last_feedback_ms;
	int			status_interval_ms;
	bool		tombstones;

	Heartbeat	heartbeat;
	bool		heartbeat_topic_ready;	/* exists (or was created) */

	int64_t		started_ms;		/* for the time-to-first-event log line */
	bool		first_logged;
	int64_t		stats_ms;
	int64_t		last_stats_ms;
	uint64_t	events;			/* events produced (tombstones included) */
	uint64_t	skipped;		/* events Kafka already held */
	uint64_t	last_events;
	uint64_t	last_bytes;

	char		errstr[512];
} Sidecar;

/* Sleep up to ms, waking early on a signal. */
static void
sidecar_sleep(Sidecar *s, int64_t ms)
{
	int64_t		until = clock_monotonic_ms() + ms;

	while (!s->sig->stop && clock_monotonic_ms() < until)
	{
		if (s->producer.rk)
			producer_poll(&s->producer, 50);
		else
			usleep(50000);
	}
}

/*
 * Report the confirmable LSN.  With nothing in flight, every transaction
 * the server sent before its last keepalive is in Kafka (or filtered out),
 * so the keepalive's walEnd may be confirmed: that is what advances an idle
 * slot.
 */
static bool
sidecar_feedback(Sidecar *s, bool force)
{
	int64_t		now = clock_monotonic_ms();
	uint64_t	confirmed;

	producer_poll(&s->producer, 0);
	confirmed = lsn_track_advance(&s->track);
	if (lsn_track_count(&s->track) == 0 && s->track.pending_total == 0 &&
		s->repl.server_wal_end > confirmed)
		confirmed = s->track.confirmed = s->repl.server_wal_end;
	if (!s->first_logged && s->producer.delivered > 0)
	{
		s->first_logged = true;
		log_info("first event acknowledged by Kafka %lld ms after start",
				 (long long) (now - s->started_ms));
	}
	if (!s->streaming || confirmed == 0)
		return true;
	/*
	 * On time (status interval), when asked, or when there is news; news at
	 * most every SIDECAR_FEEDBACK_MIN_MS, so that a stream of small
	 * transactions does not turn into a status update per batch for the
	 * walsender to process.
	 */
	if (!force && !s->repl.reply_requested &&
		now - s->last_feedback_ms < s->status_interval_ms &&
		(confirmed == s->sent_lsn || now - s->last_feedback_ms < SIDECAR_FEEDBACK_MIN_MS))
		return true;
	if (!repl_send_feedback(&s->repl, confirmed, false, s->errstr, sizeof(s->errstr)))
		return false;
	if (confirmed != s->sent_lsn)
		log_debug("confirmed " LSN_FMT, LSN_ARGS(confirmed));
	s->sent_lsn = confirmed;
	s->last_feedback_ms = now;
	s->repl.reply_requested = false;
	return true;
}

/* ProducerWaitCb: keep Postgres informed while we do not read. */
static void
sidecar_wait_cb(void *arg)
{
	Sidecar    *s = arg;

	if (s->streaming && !sidecar_feedback(s, false))
	{
		/* the stream loop will see the broken connection on its next read */
		log_debug("feedback while waiting: %s", s->errstr);
	}
}

static void
sidecar_stats(Sidecar *s, bool force)
{
	int64_t		now = clock_monotonic_ms();
	double		secs = (now - s->last_stats_ms) / 1000.0;
	uint64_t	lag = s->repl.server_wal_end > s->track.confirmed ?
		s->repl.server_wal_end - s->track.confirmed : 0;

	if (!force && (s->stats_ms <= 0 || now - s->last_stats_ms < s->stats_ms))
		return;
	if (secs <= 0)
		secs = 1;
	log_info("stats: %.0f events/s, %.0f bytes/s, %" PRIu64 " events, %" PRIu64
			 " skipped, confirmed " LSN_FMT ", lag %" PRIu64 " bytes, in flight %" PRIu64 " messages in %" PRIu64 " transactions",
			 (s->events - s->last_events) / secs,
			 (s->producer.bytes - s->last_bytes) / secs,
			 s->events, s->skipped, LSN_ARGS(s->track.confirmed), lag,
			 producer_in_flight(&s->producer), lsn_track_count(&s->track));
	s->last_events = s->events;
	s->last_bytes = s->producer.bytes;
	s->last_stats_ms = now;
}

/*
 * The topic's position entry; while Kafka cannot tell us what it holds
 * (broker down at first sight of a topic), wait and retry: producing
 * without knowing could duplicate.
 */
static PositionTopic *
sidecar_topic(Sidecar *s, const char *topic, size_t len, bool learn)
{
	int64_t		backoff = 500;

	for (;;)
	{
		PositionTopic *t = position_topic(&s->positions, s->producer.rk, topic, len,
										  learn, s->errstr, sizeof(s->errstr));

		if (t || s->sig->stop)
			return t;
		log_warn("%s; retrying", s->errstr);
		sidecar_wait_cb(s);
		sidecar_sleep(s, backoff);
		sidecar_wait_cb(s);
		backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
	}
}

/* Produce one event or tombstone unless Kafka already has it. */
static bool
sidecar_produce(Sidecar *s, PositionTopic *t, const Frame *f, bool tombstone,
				uint64_t id)
{
	int32_t		part = partitioner_partition(f->key, f->key_len, t->partitions);
	Position	pos = {f->commit_lsn, f->seq, tombstone ? 1 : 0};

	if (position_cmp(&pos, &t->max[part]) <= 0)
	{
		if (s->skipped++ == 0)
		{
			char		txt[POSITION_TEXT_LEN];

			position_format(&pos, txt, sizeof(txt));
			log_info("skipping events Kafka already holds, from %s [%d] position %s",
					 t->name, part, txt);
		}
		return true;
	}
	if (id)
		lsn_track_add(&s->track, id);
	if (!producer_send(&s->producer, t->rkt, part, f->key, f->key_len,
					   tombstone ? NULL : f->value, tombstone ? -1 : f->value_len,
					   f->headers, f->nheaders,
					   &pos, id, sidecar_wait_cb, s, &s->sig->stop,
					   s->errstr, sizeof(s->errstr)))
	{
		/* never acked, so this transaction can never be confirmed */
		return false;
	}
	t->max[part] = pos;
	s->events++;
	return true;
}

static bool
sidecar_frame(Sidecar *s, const Frame *f, bool *fatal)
{
	uint64_t	id;

	*fatal = true;
	/* a full ring: wait for Kafka to acknowledge the oldest transactions */
	while ((id = lsn_track_begin(&s->track, f->commit_lsn)) == 0)
	{
		producer_poll(&s->producer, 100);
		sidecar_wait_cb(s);
		if (s->sig->stop || s->producer.failed)
		{
			*fatal = s->producer.failed;
			snprintf(s->errstr, sizeof(s->errstr), "%s",
					 s->producer.failed ? producer_failure(&s->producer) : "interrupted");
			return false;
		}
	}
	if (f->kind == FRAME_COMMIT)
	{
		lsn_track_end(&s->track, id);
		return true;
	}
	else
	{
		PositionTopic *t = sidecar_topic(s, f->topic, f->topic_len, true);

		if (t == NULL ||
			!sidecar_produce(s, t, f, false, id) ||
			(f->op == 'd' && s->tombstones && f->key != NULL &&
			 !sidecar_produce(s, t, f, true, id)))
		{
			/*
			 * Only a signal is benign here: any other failure left an event
			 * counted as pending that will never be acknowledged.
			 */
			*fatal = !s->sig->stop;
			if (s->producer.failed)
				snprintf(s->errstr, sizeof(s->errstr), "%s", producer_failure(&s->producer));
			return false;
		}
	}
	return true;
}

/* SnapshotEmit: rows are produced untracked, before any stream position. */
static bool
sidecar_snapshot_emit(void *arg, const char *topic, const char *key, int32_t key_len,
					  const char *value, int32_t value_len,
					  char *errstr, size_t errstr_size)
{
	Sidecar    *s = arg;
	PositionTopic *t = sidecar_topic(s, topic, strlen(topic), false);
	Frame		f = {0};

	if (t == NULL)
	{
		snprintf(errstr, errstr_size, "interrupted");
		return false;
	}
	f.kind = FRAME_EVENT;
	f.op = 'r';
	f.commit_lsn = 0;
	f.seq = s->events + 1;
	f.key = key;
	f.key_len = key_len;
	f.value = value;
	f.value_len = value_len;
	if (!sidecar_produce(s, t, &f, false, PRODUCER_UNTRACKED))
	{
		snprintf(errstr, errstr_size, "%s", s->errstr);
		return false;
	}
	return true;
}

/* Slot position as the server has it; also tells a missing slot early. */
static bool
sidecar_slot_lsn(Sidecar *s, bool *exists, uint64_t *confirmed)
{
	char		sql[256];
	PGresult   *res;
	bool		ok;

	/*
	 * A replication connection takes only simple queries; the slot name is
	 * checked to be [a-z0-9_] by main.c, so quoting it is safe.
	 */
	snprintf(sql, sizeof(sql),
			 "SELECT confirmed_flush_lsn, plugin, database FROM pg_catalog.pg_replication_slots WHERE slot_name = '%s'",
			 s->slot);
	res = PQexec(s->repl.conn, sql);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;

	*exists = false;
	*confirmed = 0;
	if (!ok)
	{
		snprintf(s->errstr, sizeof(s->errstr), "could not read slot \"%s\": %s",
				 s->slot, PQresultErrorMessage(res));
		s->repl.retryable = true;
	}
	else if (PQntuples(res) == 1)
	{
		*exists = true;
		if (strcmp(PQgetvalue(res, 0, 1), "cdc_kafka") != 0)
		{
			snprintf(s->errstr, sizeof(s->errstr),
					 "replication slot \"%s\" uses plugin \"%s\", not cdc_kafka",
					 s->slot, PQgetvalue(res, 0, 1));
			s->repl.retryable = false;
			ok = false;
		}
		else if (!PQgetisnull(res, 0, 0))
			repl_parse_lsn(PQgetvalue(res, 0, 0), confirmed);
	}
	PQclear(res);
	return ok;
}

/* SELECT pg_copy_logical_replication_slot(from, to): the temporary made permanent. */
static bool
sidecar_copy_slot(Sidecar *s, const char *from, const char *to)
{
	Repl		db;
	const char *params[2] = {from, to};
	PGresult   *res;
	bool		ok;

	if (!repl_connect(&db, s->conninfo, false, s->errstr, sizeof(s->errstr)))
		return false;
	res = PQexecParams(db.conn,
					   "SELECT pg_catalog.pg_copy_logical_replication_slot($1, $2, false)",
					   2, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		snprintf(s->errstr, sizeof(s->errstr), "could not create replication slot \"%s\": %s",
				 to, PQresultErrorMessage(res));
	PQclear(res);
	repl_close(&db);
	return ok;
}

/*
 * The slot was just made: with slot.failover, where the server supports
 * it, it becomes a failover slot, which standbys with sync_replication_slots
 * keep in step, so that streaming continues on a promoted standby.  (Made
 * afterwards because the snapshot's temporary slot, which becomes the
 * permanent one, cannot be a failover slot.)
 */
static bool
sidecar_slot_created(Sidecar *s, uint64_t consistent)
{
	const char *why;
	bool		failover = false;

	if (config_get_bool(s->cfg, "slot.failover"))
	{
		if (!repl_failover_supported(&s->repl, &why))
			log_info("replication slot \"%s\" is not a failover slot: %s", s->slot, why);
		else if (!repl_set_slot_failover(&s->repl, s->slot, s->errstr, sizeof(s->errstr)))
			return false;
		else
			failover = true;
	}
	log_info("created replication slot \"%s\"%s at " LSN_FMT, s->slot,
			 failover ? " (failover)" : "", LSN_ARGS(consistent));
	return true;
}

/*
 * Creates the slot if asked, and snapshots if it is new.  *done when
 * snapshot.mode=initial_only has finished its work.
 *
 * The snapshot is read through a TEMPORARY slot, which the server drops if
 * this process dies half way; only once every row is acknowledged does
 * pg_copy_logical_replication_slot() make the permanent slot, at the same
 * position.  So a slot that exists always had its snapshot, and a crash
 * during the snapshot leaves nothing behind: the next start takes it again.
 */
/*
 * A plugin older than the sidecar does not know headers=true (options[1]):
 * stream without Kafka headers rather than not at all, so that the sidecar
 * can be upgraded before the plugin.  False if that is not why it failed.
 */
static bool
sidecar_start_without_headers(Sidecar *s, uint64_t startpos)
{
	if (!s->frame_headers || strstr(s->errstr, "\"headers\" is unknown") == NULL)
		return false;
	log_warn("the plugin does not know the option headers (an older cdc_kafka): streaming without "
			 "Debezium's __debezium.newkey/oldkey headers until it is upgraded");
	s->frame_headers = false;
	memmove(&s->opt_names[1], &s->opt_names[2], sizeof(s->opt_names[0]) * (s->noptions - 2));
	memmove(&s->opt_values[1], &s->opt_values[2], sizeof(s->opt_values[0]) * (s->noptions - 2));
	s->noptions--;
	return repl_start(&s->repl, s->slot, startpos, s->opt_names, s->opt_values,
					  s->noptions, s->errstr, sizeof(s->errstr));
}

static StreamResult
sidecar_setup_slot(Sidecar *s, bool *done)
{
	const char *mode = config_get(s->cfg, "snapshot.mode");
	bool		want_snapshot = strcmp(mode, "never") != 0;
	bool		initial_only = strcmp(mode, "initial_only") == 0;
	bool		exists;
	bool		existed;
	char		snapname[64];
	char		tmpslot[64];
	uint64_t	consistent;
	uint64_t	rows;
	SnapshotRequest req;

	*done = false;
	/*
	 * initial_only reads through its temporary slot and streams nothing: a
	 * permanent slot of that name, in use or not, is no reason to skip the
	 * snapshot (or to stream it).
	 */
	if (!initial_only)
	{
		if (!sidecar_slot_lsn(s, &exists, &consistent))
			return s->repl.retryable ? STREAM_RETRY : STREAM_FATAL;
		if (exists)
		{
			log_info("replication slot \"%s\" exists; reusing it", s->slot);
			return STREAM_CONTINUE;
		}
	}
	if (!want_snapshot)
	{
		if (!repl_create_slot(&s->repl, s->slot, false, false, snapname, &existed,
							  &consistent, s->errstr, sizeof(s->errstr)))
			return s->repl.retryable ? STREAM_RETRY : STREAM_FATAL;
		return sidecar_slot_created(s, consistent) ? STREAM_CONTINUE : STREAM_FATAL;
	}

	snprintf(tmpslot, sizeof(tmpslot), "%.54s_snapshot", s->slot);
	if (!repl_create_slot(&s->repl, tmpslot, true, true, snapname, &existed,
						  &consistent, s->errstr, sizeof(s->errstr)))
		return s->repl.retryable ? STREAM_RETRY : STREAM_FATAL;
	if (existed)
	{
		snprintf(s->errstr, sizeof(s->errstr),
				 "replication slot \"%s\" exists: another sidecar is taking the snapshot of \"%s\"",
				 tmpslot, s->slot);
		return STREAM_FATAL;
	}
	log_info("snapshot %s: starting at " LSN_FMT, snapname, LSN_ARGS(consistent));

	memset(&req, 0, sizeof(req));
	req.conninfo = s->conninfo;
	req.snapshot_name = snapname;
	req.snapshot_lsn = consistent;
	req.opt_names = s->opt_names;
	req.opt_values = s->opt_values;
	req.noptions = s->noptions;
	req.emit = sidecar_snapshot_emit;
	req.emit_arg = s;
	req.stop = &s->sig->stop;
	if (!snapshot_run(&req, &rows, s->errstr, sizeof(s->errstr)) ||
		!producer_drain(&s->producer, -1, NULL, NULL, &s->sig->stop))
	{
		/* the temporary slot goes with the connection: nothing to undo */
		if (s->producer.failed)
			snprintf(s->errstr, sizeof(s->errstr), "%s", producer_failure(&s->producer));
		else if (s->sig->stop && s->errstr[0] == '\0')
			snprintf(s->errstr, sizeof(s->errstr), "interrupted");
		log_error("snapshot failed: %s; no slot created", s->errstr);
		return s->sig->stop ? STREAM_STOPPED : STREAM_FATAL;
	}
	log_info("snapshot %s: %" PRIu64 " row(s) delivered", snapname, rows);
	if (initial_only)
	{
		/* no stream follows: no slot is left behind to retain WAL */
		*done = true;
		return STREAM_CONTINUE;
	}
	if (!sidecar_copy_slot(s, tmpslot, s->slot))
		return STREAM_FATAL;
	if (!repl_drop_slot(&s->repl, tmpslot, s->errstr, sizeof(s->errstr)))
		log_warn("%s", s->errstr);	/* it goes with the connection anyway */
	return sidecar_slot_created(s, consistent) ? STREAM_CONTINUE : STREAM_FATAL;
}

/* -E: stop reading; the shutdown drains Kafka and confirms what it holds. */
static StreamResult
sidecar_endpos_reached(Sidecar *s)
{
	log_info("end position " LSN_FMT " reached", LSN_ARGS(s->endpos));
	s->endpos_reached = true;
	return STREAM_STOPPED;
}

/* One connection's life: connect, (create, snapshot,) stream. */
static StreamResult
sidecar_stream(Sidecar *s, uint64_t startpos, bool *connected)
{
	bool		exists;
	uint64_t	slot_lsn;
	const char *data;
	size_t		len;
	int			rc;
	bool		fatal;

	*connected = false;
	s->errstr[0] = '\0';
	if (!repl_connect(&s->repl, s->conninfo, true, s->errstr, sizeof(s->errstr)))
		return s->repl.retryable ? STREAM_RETRY : STREAM_FATAL;
	*connected = true;
	heartbeat_set_server(&s->heartbeat, s->producer.rk,
						 s->topic_prefix ? s->topic_prefix : s->repl.dbname);
	/*
	 * The heartbeat topic, like an event topic, is created by the sidecar
	 * where the broker does not create topics (learn = false: its content
	 * is never read back).
	 */
	if (s->heartbeat.rkt && !s->heartbeat_topic_ready)
	{
		const char *hb = rd_kafka_topic_name(s->heartbeat.rkt);

		if (sidecar_topic(s, hb, strlen(hb), false) == NULL)
			return STREAM_STOPPED;	/* only a signal ends its retries */
		s->heartbeat_topic_ready = true;
	}
	/* until it has succeeded once: a retry after a broken connection too */
	if (!s->slot_ready && config_get_bool(s->cfg, "slot.create"))
	{
		bool		done;
		StreamResult r = sidecar_setup_slot(s, &done);

		if (r != STREAM_CONTINUE)
			return r;
		if (done)
			return STREAM_STOPPED;
	}
	s->slot_ready = true;
	if (!sidecar_slot_lsn(s, &exists, &slot_lsn))
		return s->repl.retryable ? STREAM_RETRY : STREAM_FATAL;
	if (!exists)
	{
		snprintf(s->errstr, sizeof(s->errstr),
				 "replication slot \"%s\" does not exist (create it with --create-slot)",
				 s->slot);
		return STREAM_FATAL;
	}
	if (slot_lsn > s->track.confirmed)
		s->track.confirmed = slot_lsn;
	s->sent_lsn = s->track.confirmed;
	if (s->endpos && s->track.confirmed >= s->endpos)
	{
		log_info("slot \"%s\" is already at " LSN_FMT ", past the end position",
				 s->slot, LSN_ARGS(s->track.confirmed));
		return STREAM_STOPPED;
	}

	if (!repl_start(&s->repl, s->slot, startpos, s->opt_names, s->opt_values,
					s->noptions, s->errstr, sizeof(s->errstr)) &&
		!sidecar_start_without_headers(s, startpos))
		return s->repl.retryable ? STREAM_RETRY : STREAM_FATAL;
	s->streaming = true;
	log_info("streaming slot \"%s\" of database \"%s\" from " LSN_FMT,
			 s->slot, s->repl.dbname,
			 LSN_ARGS(startpos ? startpos : s->track.confirmed));

	while (!s->sig->stop)
	{
		int64_t		now = clock_monotonic_ms();
		int			wait = s->status_interval_ms - (int) (now - s->last_feedback_ms);

		if (s->sig->reopen_log)
		{
			char		err[512];

			s->sig->reopen_log = 0;
			if (!log_reopen(err, sizeof(err)))
				log_error("%s", err);
			else
				log_info("log file reopened");
		}
		if (s->producer.failed)
		{
			snprintf(s->errstr, sizeof(s->errstr), "%s", producer_failure(&s->producer));
			return STREAM_FATAL;
		}
		if (!sidecar_feedback(s, false))
			return STREAM_RETRY;
		/*
		 * Kafka holds every transaction up to -E.  Do not wait for a
		 * keepalive past it: the walsender skips the one it sends on
		 * catching up when our confirmation reached it first.
		 */
		if (s->endpos && s->track.confirmed >= s->endpos)
			return sidecar_endpos_reached(s);
		heartbeat_tick(&s->heartbeat, &s->producer, s->track.confirmed, now);
		position_table_tick(&s->positions);
		sidecar_stats(s, false);

		if (wait > 1000)
			wait = 1000;		/* heartbeats, stats, signals */
		if (s->track.confirmed != s->sent_lsn && wait > SIDECAR_FEEDBACK_MIN_MS)
			wait = SIDECAR_FEEDBACK_MIN_MS;	/* news to report soon */
		if (wait < 1)
			wait = 1;
		rc = repl_read(&s->repl, wait, s->producer.wake_fd[0], &data, &len,
					   s->errstr, sizeof(s->errstr));

		/*
		 * Take what libpq has buffered in one go; the housekeeping above
		 * (syscalls, librdkafka locks) runs once per batch, not per event.
		 */
		for (int n = 0; rc == REPL_DATA;)
		{
			size_t		size;

			/* as pg_recvlogical: a message past -E is left for next time */
			if (s->endpos && s->repl.received > s->endpos)
				return sidecar_endpos_reached(s);
			for (size_t off = 0; off < len; off += size)
			{
				Frame		f;

				if (!frame_parse(data + off, len - off, s->frame_headers, &f, &size,
								 s->errstr, sizeof(s->errstr)))
					return STREAM_FATAL;
				/* so is a frame decoded past it, in a message before it */
				if (s->endpos && f.change_lsn > s->endpos)
					return sidecar_endpos_reached(s);
				if (!sidecar_frame(s, &f, &fatal))
				{
					if (s->sig->stop && !fatal)
						return STREAM_STOPPED;
					return fatal ? STREAM_FATAL : STREAM_RETRY;
				}
				n++;
			}
			if (s->endpos && s->repl.received == s->endpos)
				return sidecar_endpos_reached(s);
			if (n >= SIDECAR_READ_BATCH || s->sig->stop)
				break;
			rc = repl_read(&s->repl, 0, -1, &data, &len, s->errstr, sizeof(s->errstr));
		}
		if (rc == REPL_ERROR)
			return s->repl.retryable ? STREAM_RETRY : STREAM_FATAL;
		/* the server has sent everything before its keepalive's walEnd */
		if (s->endpos && s->repl.server_wal_end >= s->endpos)
			return sidecar_endpos_reached(s);
	}
	return STREAM_STOPPED;
}

/* Collects the plugin options: -o/plugin.* keys, plus format=kafka with headers. */
static bool
sidecar_options(Sidecar *s, char *errstr, size_t errstr_size)
{
	int			iter = 0;
	const char *name;
	const char *value;

	s->opt_names[0] = "format";
	s->opt_values[0] = "kafka";
	s->opt_names[1] = "headers";
	s->opt_values[1] = "true";
	s->noptions = 2;
	s->frame_headers = true;
	s->schemas = true;
	while (config_prefix_next(s->cfg, "plugin.", &iter, &name, &value))
	{
		if (strcmp(name, "format") == 0 || strcmp(name, "headers") == 0)
		{
			if (strcmp(value, strcmp(name, "format") == 0 ? "kafka" : "true") != 0)
			{
				snprintf(errstr, errstr_size,
						 "plugin option %s must be %s for the sidecar", name,
						 strcmp(name, "format") == 0 ? "kafka" : "true");
				return false;
			}
			continue;
		}
		if (s->noptions == SIDECAR_MAX_OPTIONS)
		{
			snprintf(errstr, errstr_size, "too many plugin options");
			return false;
		}
		if (strcmp(name, "topic-prefix") == 0)
			s->topic_prefix = value;
		if (strcmp(name, "schemas") == 0)
		{
			bool		b = true;

			/* the server validates the value; read it as it does */
			config_parse_pg_bool(value[0] ? value : "true", &b);
			s->schemas = b;
		}
		s->opt_names[s->noptions] = name;
		s->opt_values[s->noptions] = value[0] ? value : NULL;
		s->noptions++;
	}
	return true;
}

static int
sidecar_drop_slot(Sidecar *s)
{
	if (!repl_connect(&s->repl, s->conninfo, true, s->errstr, sizeof(s->errstr)) ||
		!repl_drop_slot(&s->repl, s->slot, s->errstr, sizeof(s->errstr)))
	{
		log_error("%s", s->errstr);
		repl_close(&s->repl);
		return 2;
	}
	log_info("dropped replication slot \"%s\"", s->slot);
	repl_close(&s->repl);
	return 0;
}

/*
 * How to create a missing topic (topic.creation.*), as Debezium's default
 * topic creation group; NULL when topic.creation.enable is off.
 */
static const KafkaTopicSpec *
sidecar_topic_spec(Sidecar *s)
{
	const char *prefix = "topic.creation.default.";
	int			iter = 0;
	int			n = 0;
	const char *name;
	const char *value;

	if (!config_get_bool(s->cfg, "topic.creation.enable"))
		return NULL;
	while (config_prefix_next(s->cfg, prefix, &iter, &name, &value))
		n++;
	s->topic_configs = calloc(n + 1, sizeof(KafkaTopicConfig));
	if (s->topic_configs == NULL)
		return NULL;
	iter = n = 0;
	while (config_prefix_next(s->cfg, prefix, &iter, &name, &value))
	{
		s->topic_configs[n].name = name;
		s->topic_configs[n++].value = value;
	}
	s->topic_spec.partitions =
		(int) config_get_int(s->cfg, "topic.creation.default.partitions");
	s->topic_spec.replication_factor =
		(int) config_get_int(s->cfg, "topic.creation.default.replication.factor");
	s->topic_spec.configs = s->topic_configs;
	return &s->topic_spec;
}

/* false when Kafka did not acknowledge everything in time */
static bool
sidecar_shutdown(Sidecar *s)
{
	bool		drained;
	struct rusage ru;
	int			timeout = (int) config_get_int(s->cfg, "shutdown.timeout.ms");

	/* a second signal during the flush cuts it short */
	s->sig->stop = 0;
	if (producer_in_flight(&s->producer) > 0)
		log_info("flushing %llu message(s)",
				 (unsigned long long) producer_in_flight(&s->producer));
	drained = producer_drain(&s->producer, timeout, sidecar_wait_cb, s, &s->sig->stop);
	if (s->streaming && !sidecar_feedback(s, true))
		log_warn("final feedback: %s", s->errstr);
	if (s->stats_ms > 0)
		sidecar_stats(s, true);
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		ru.ru_maxrss = 0;
	log_info("stopped; confirmed " LSN_FMT ", %" PRIu64 " events, CPU %.2f s, peak RSS %ld kB",
			 LSN_ARGS(s->track.confirmed), s->events,
			 ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
			 (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6, ru.ru_maxrss);
	return drained;
}

int
sidecar_run(const Config *cfg, SidecarAction action, SidecarSignals *sig)
{
	Sidecar    *s = calloc(1, sizeof(Sidecar));
	rd_kafka_conf_t *cconf = NULL;
	uint64_t	startpos = 0;
	int64_t		backoff,
				backoff_min,
				backoff_max;
	bool		first = true;
	bool		ever_connected = false;
	char		last_error[512] = "";
	int			code = 0;

	if (s == NULL)
		return 2;
	s->started_ms = clock_monotonic_ms();
	s->cfg = cfg;
	s->sig = sig;
	s->conninfo = config_get(cfg, "database.conninfo");
	s->slot = config_get(cfg, "slot.name");
	s->status_interval_ms = (int) config_get_int(cfg, "status.interval.s") * 1000;
	if (s->status_interval_ms <= 0)
		s->status_interval_ms = 10000;
	s->tombstones = config_get_bool(cfg, "tombstones.on.delete");
	s->stats_ms = config_get_int(cfg, "stats.interval.s") * 1000;
	backoff_min = config_get_int(cfg, "reconnect.backoff.ms");
	backoff_max = config_get_int(cfg, "reconnect.backoff.max.ms");
	backoff = backoff_min;
	if (config_is_set(cfg, "start.lsn"))
		repl_parse_lsn(config_get(cfg, "start.lsn"), &startpos);
	if (config_is_set(cfg, "end.lsn"))
		repl_parse_lsn(config_get(cfg, "end.lsn"), &s->endpos);

	if (action == SIDECAR_DROP_SLOT)
	{
		code = sidecar_drop_slot(s);
		free(s);
		return code;
	}
	if (strcmp(config_get(cfg, "snapshot.mode"), "initial_only") == 0 &&
		!config_get_bool(cfg, "slot.create"))
	{
		log_error("snapshot.mode=initial_only needs --create-slot (it snapshots through a new slot)");
		free(s);
		return 1;
	}
	if (!sidecar_options(s, s->errstr, sizeof(s->errstr)))
	{
		log_error("%s", s->errstr);
		free(s);
		return 1;
	}
	if (!lsn_track_init(&s->track, (uint64_t) config_get_int(cfg, "max.inflight.transactions"), 0) ||
		!producer_init(&s->producer, cfg, &s->track, &cconf, s->errstr, sizeof(s->errstr)) ||
		!position_table_init(&s->positions, cconf,
							 (int) config_get_int(cfg, "position.lookback"),
							 SIDECAR_KAFKA_TIMEOUT_MS, sidecar_topic_spec(s), &sig->stop,
							 s->errstr, sizeof(s->errstr)))
	{
		log_error("%s", s->errstr);
		if (s->producer.rk)
			producer_destroy(&s->producer);
		lsn_track_free(&s->track);
		free(s);
		return 1;
	}
	heartbeat_init(&s->heartbeat, cfg, s->schemas);
	s->heartbeat.last_ms = s->last_stats_ms = s->last_feedback_ms = clock_monotonic_ms();

	for (;;)
	{
		bool		connected;
		StreamResult r = sidecar_stream(s, first ? startpos : 0, &connected);

		if (connected)
			ever_connected = true;
		if (r == STREAM_STOPPED)
			break;
		if (r == STREAM_FATAL || (!ever_connected && first))
		{
			/* at start, an unreachable or misconfigured endpoint is an error */
			log_error("%s", s->errstr);
			code = 2;
			break;
		}
		/*
		 * One line per state change: the same failure again, without a
		 * streaming session in between, is logged at debug level.
		 */
		if (s->streaming)
			last_error[0] = '\0';
		if (strcmp(s->errstr, last_error) != 0)
			log_warn("%s; reconnecting in %lld ms", s->errstr, (long long) backoff);
		else
			log_debug("%s; reconnecting in %lld ms", s->errstr, (long long) backoff);
		snprintf(last_error, sizeof(last_error), "%s", s->errstr);
		s->streaming = false;
		lsn_track_forget_incomplete(&s->track);
		repl_close(&s->repl);
		first = false;
		sidecar_sleep(s, backoff);
		if (s->sig->stop)
			break;
		backoff = connected ? backoff_min : (backoff * 2 > backoff_max ? backoff_max : backoff * 2);
	}

	if (!sidecar_shutdown(s) && s->endpos_reached && code == 0)
	{
		/* -E promises everything up to it is in Kafka */
		log_error("end position reached, but Kafka did not acknowledge every event: %s",
				  s->producer.failed ? producer_failure(&s->producer) : "shutdown.timeout.ms passed");
		code = 2;
	}
	repl_close(&s->repl);
	heartbeat_free(&s->heartbeat);
	position_table_free(&s->positions);
	free(s->topic_configs);
	producer_destroy(&s->producer);
	lsn_track_free(&s->track);
	free(s);
	return code;
}
