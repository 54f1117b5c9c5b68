/*-------------------------------------------------------------------------
 *
 * consumer.c
 *	  librdkafka consumer for the Delta writer.
 *
 * Positions come from the Delta logs, not from Kafka: when partitions are
 * assigned, each one is started at its table's txn version + 1 (or at the
 * beginning when the log has none), so a crash between a Delta commit and
 * a Kafka offset commit can neither skip nor repeat a message.  Kafka's
 * committed group offsets are written after each Delta commit, async, only
 * as a hint for monitoring tools (consumer lag).
 *
 * On revocation every table is committed before the partitions go, so the
 * next owner starts exactly where this one stopped.
 *
 * With assignment=static the writer takes every partition of the listed
 * topics itself (rd_kafka_assign, no group membership): a restart starts
 * at once instead of waiting for the group to expire the dead member, at
 * the price of not sharing partitions between instances, and with no
 * group offsets committed for lag monitors (the Delta log has them).
 *
 * Owns: the rd_kafka_t, the topic -> table map.  Does not own: row
 * building (event.c, table.c).
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "consumer.h"
#include "event.h"
#include "kafka_conf.h"
#include "log.h"

typedef struct TopicTable
{
	char	   *topic;			/* owned */
	char	   *key;			/* "<schema>/<table>" before sanitising */
	Table	   *table;			/* shared by topics with the same key; NULL
								 * when it could not be opened */
	bool		owner;			/* this entry closes the table */
	bool		failed;			/* the table failed: its partitions wait */
} TopicTable;

struct Consumer
{
	rd_kafka_t *rk;
	ConsumerOptions opts;
	DeadLetter *dl;
	EventParser *parser;
	TopicTable *tables;
	int			ntables;
	const rd_kafka_topic_t *last_rkt;	/* cache of the last lookup */
	Table	   *last_table;
	bool		fatal;
	int64_t		rows;			/* appended since start */
	int64_t		bad;			/* dead-lettered since start */
	rd_kafka_topic_partition_list_t *paused;	/* partitions held back */
	int			failed_tables;	/* tables that failed since start */
};

static void pause_partition(Consumer *c, const char *topic, int32_t partition);

/*
 * A failure that concerns one table (its directory, its log, a commit):
 * one error line, and every partition of its topics waits until the
 * writer restarts; what it held uncommitted is dropped, to be read again.
 * The other tables go on.
 */
static void
fail_table(Consumer *c, const char *topic, Table *t, const char *why)
{
	rd_kafka_topic_partition_list_t *parts = NULL;

	log_error("table of %s: %s: its partitions are paused until a restart",
			  topic, why);
	c->failed_tables++;
	for (int i = 0; i < c->ntables; i++)
		if ((t != NULL && c->tables[i].table == t) ||
			strcmp(c->tables[i].topic, topic) == 0)
			c->tables[i].failed = true;
	c->last_rkt = NULL;
	c->last_table = NULL;
	if (rd_kafka_assignment(c->rk, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		for (int i = 0; i < parts->cnt; i++)
			for (int k = 0; k < c->ntables; k++)
				if (c->tables[k].failed &&
					strcmp(c->tables[k].topic, parts->elems[i].topic) == 0)
					pause_partition(c, parts->elems[i].topic, parts->elems[i].partition);
		rd_kafka_topic_partition_list_destroy(parts);
	}
}

/*
 * Finds or opens the table of a topic; NULL when it failed (now or
 * before: fail_table said why), or on c->fatal.
 */
static Table *
consumer_table(Consumer *c, const char *topic)
{
	char		schema[256],
				name[256],
				key[600],
				err[512];
	TopicTable *nt;
	Table	   *t = NULL;
	bool		owner = true;

	for (int i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i].topic, topic) == 0)
			return c->tables[i].failed ? NULL : c->tables[i].table;
	table_names_from_topic(topic, schema, sizeof(schema), name, sizeof(name));
	snprintf(key, sizeof(key), "%s/%s", schema, name);
	for (int i = 0; i < c->ntables; i++)
	{
		if (strcmp(c->tables[i].key, key) == 0 && c->tables[i].table != NULL)
		{
			/* another prefix for the same table: one log, one writer */
			t = c->tables[i].table;
			owner = false;
			break;
		}
	}
	if (t == NULL)
		t = table_open(c->opts.store, topic, &c->opts.table, err, sizeof(err));
	nt = realloc(c->tables, (c->ntables + 1) * sizeof(TopicTable));
	if (nt == NULL)
	{
		if (owner && t)
			table_close(t);
		c->fatal = true;
		return NULL;
	}
	c->tables = nt;
	nt[c->ntables].topic = strdup(topic);
	nt[c->ntables].key = strdup(key);
	nt[c->ntables].table = t;
	nt[c->ntables].owner = owner && t != NULL;
	nt[c->ntables].failed = false;
	c->ntables++;
	if (t == NULL)
	{
		fail_table(c, topic, NULL, err);
		return NULL;
	}
	return t;
}

/*
 * Tells Kafka where the table's partitions are (a hint, async).  Not with
 * assignment=static: there is no group member to commit for (the broker
 * answers "Unknown member"), and the positions are in the Delta log.
 */
static void
commit_hints(Consumer *c, Table *t)
{
	rd_kafka_topic_partition_list_t *list;
	int			iter = 0;
	const char *topic;
	int32_t		partition;
	int64_t		offset;

	if (c->opts.static_assign)
		return;
	list = rd_kafka_topic_partition_list_new(4);

	while (table_committed_next(t, &iter, &topic, &partition, &offset))
		rd_kafka_topic_partition_list_add(list, topic, partition)->offset = offset + 1;
	if (list->cnt > 0)
		rd_kafka_commit(c->rk, list, 1);
	rd_kafka_topic_partition_list_destroy(list);
}

/* The first topic of table t (for messages). */
static const char *
table_topic(const Consumer *c, const Table *t)
{
	for (int i = 0; i < c->ntables; i++)
		if (c->tables[i].table == t)
			return c->tables[i].topic;
	return "?";
}

static bool
table_failed(const Consumer *c, const Table *t)
{
	for (int i = 0; i < c->ntables; i++)
		if (c->tables[i].table == t)
			return c->tables[i].failed;
	return false;
}

static bool
flush_table(Consumer *c, Table *t)
{
	char		err[512] = "";
	char		why[700];

	if (table_failed(c, t))
		return true;
	if (table_flush(t, err, sizeof(err)) != TABLE_OK)
	{
		snprintf(why, sizeof(why), "%s: commit failed: %s", table_dir(t), err);
		fail_table(c, table_topic(c, t), t, why);
		return false;
	}
	commit_hints(c, t);
	return true;
}

static bool
flush_all(Consumer *c)
{
	bool		ok = true;

	for (int i = 0; i < c->ntables && !c->fatal; i++)
		if (c->tables[i].owner && !c->tables[i].failed &&
			table_has_pending(c->tables[i].table))
			ok = flush_table(c, c->tables[i].table) && ok;
	return ok && !c->fatal;
}

static bool
is_paused(const Consumer *c, const char *topic, int32_t partition)
{
	return c->paused->cnt > 0 &&
		rd_kafka_topic_partition_list_find(c->paused, topic, partition) != NULL;
}

/*
 * Holds a partition back until the writer restarts: nothing more of it is
 * read or committed.  The caller has logged the one error line saying why.
 */
static void
pause_partition(Consumer *c, const char *topic, int32_t partition)
{
	rd_kafka_topic_partition_list_t *one;
	rd_kafka_resp_err_t err;

	if (is_paused(c, topic, partition))
		return;
	rd_kafka_topic_partition_list_add(c->paused, topic, partition);
	one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(one, topic, partition);
	if ((err = rd_kafka_pause_partitions(c->rk, one)) != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warn("pausing %s [%" PRId32 "]: %s", topic, partition,
				 rd_kafka_err2str(err));
	rd_kafka_topic_partition_list_destroy(one);
}

/*
 * The offset to read topic [partition] from, when the Delta log says
 * `next` comes next: `next` itself while Kafka still holds it.  When
 * retention has deleted it, the offsets up to Kafka's earliest are lost
 * and only the user may accept that: offset.gap=pause (the default) says
 * which offsets are gone and returns -1 (the caller pauses the partition);
 * offset.gap=skip records the range in the dead-letter file and in the
 * next commit, and returns the earliest offset Kafka holds.
 */
static int64_t
check_gap(Consumer *c, Table *t, const char *topic, int32_t partition,
		  int64_t next)
{
	int64_t		lo,
				hi;
	rd_kafka_resp_err_t err;
	char		reason[512],
				dlerr[512];

	err = rd_kafka_query_watermark_offsets(c->rk, topic, partition, &lo, &hi, 10000);
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		log_error("%s [%" PRId32 "]: cannot read the offsets Kafka holds (%s): "
				  "partition paused", topic, partition, rd_kafka_err2str(err));
		return -1;
	}
	if (lo <= next)
		return next;
	snprintf(reason, sizeof(reason),
			 "offsets %" PRId64 "..%" PRId64 " are gone from Kafka (the Delta log's next "
			 "offset is %" PRId64 ", the earliest Kafka holds is %" PRId64 ")",
			 next, lo - 1, next, lo);
	if (!c->opts.skip_gaps)
	{
		log_error("%s [%" PRId32 "]: %s: partition paused; offset.gap=skip "
				  "accepts the loss and records it", topic, partition, reason);
		return -1;
	}
	log_warn("%s [%" PRId32 "]: %s: skipped (offset.gap=skip)", topic, partition, reason);
	strncat(reason, ", skipped (offset.gap=skip)", sizeof(reason) - strlen(reason) - 1);
	if (c->dl && !deadletter_write(c->dl, topic, partition, next, reason,
								   NULL, 0, NULL, 0, dlerr, sizeof(dlerr)))
	{
		log_error("%s", dlerr);
		c->fatal = true;
		return -1;
	}
	table_skipped(t, topic, partition, next, lo - 1);
	return lo;
}

/*
 * Sets each partition's start offset from its table's log; the partitions
 * that must wait (an offset gap, an unreadable log) are named in *hold.
 */
static bool
resume_offsets(Consumer *c, rd_kafka_topic_partition_list_t *parts,
			   rd_kafka_topic_partition_list_t *hold)
{
	char		errstr[512];
	Table	  **refreshed = calloc(parts->cnt + 1, sizeof(Table *));
	int			nrefreshed = 0;
	bool		ok = true;

	if (refreshed == NULL)
	{
		c->fatal = true;
		return false;
	}
	for (int i = 0; i < parts->cnt && ok; i++)
	{
		rd_kafka_topic_partition_t *p = &parts->elems[i];
		Table	   *t = consumer_table(c, p->topic);
		bool		refresh = true;
		int64_t		off = -2;

		if (c->fatal)
		{
			ok = false;
			break;
		}
		/* the log is read again once per table, not once per partition */
		for (int j = 0; j < nrefreshed && refresh; j++)
			refresh = refreshed[j] != t;
		if (t != NULL && refresh)
			refreshed[nrefreshed++] = t;
		if (t != NULL &&
			(off = table_resume_offset(t, refresh, p->topic, p->partition,
									   errstr, sizeof(errstr))) == -2)
			fail_table(c, p->topic, t, errstr);
		if (off == -2)
		{
			/* the table failed: the partition waits */
			rd_kafka_topic_partition_list_add(hold, p->topic, p->partition);
			p->offset = RD_KAFKA_OFFSET_END;
			continue;
		}
		if (off >= 0 && (off = check_gap(c, t, p->topic, p->partition, off)) < 0)
		{
			if (c->fatal)
			{
				ok = false;
				break;
			}
			rd_kafka_topic_partition_list_add(hold, p->topic, p->partition);
			p->offset = RD_KAFKA_OFFSET_END;
			continue;
		}
		p->offset = off >= 0 ? off : RD_KAFKA_OFFSET_BEGINNING;
		if (off >= 0)
			log_info("assigned %s [%" PRId32 "] @%" PRId64 " (from the Delta log)",
					 p->topic, p->partition, off);
		else
			log_info("assigned %s [%" PRId32 "] from the beginning (no txn in the Delta log)",
					 p->topic, p->partition);
	}
	free(refreshed);
	return ok;
}

/* Pauses what resume_offsets held back, once the partitions are assigned. */
static void
pause_held(Consumer *c, rd_kafka_topic_partition_list_t *hold)
{
	for (int i = 0; i < hold->cnt; i++)
		pause_partition(c, hold->elems[i].topic, hold->elems[i].partition);
	rd_kafka_topic_partition_list_destroy(hold);
}

static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	Consumer   *c = opaque;
	bool		cooperative = strcmp(rd_kafka_rebalance_protocol(rk),
									 "COOPERATIVE") == 0;
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
	{
		rd_kafka_topic_partition_list_t *hold = rd_kafka_topic_partition_list_new(1);

		if (!resume_offsets(c, parts, hold))
		{
			rd_kafka_topic_partition_list_destroy(hold);
			return;				/* fatal: the loop stops */
		}
		if (cooperative)
			error = rd_kafka_incremental_assign(rk, parts);
		else
			rerr = rd_kafka_assign(rk, parts);
		pause_held(c, hold);
	}
	else
	{
		/* commit what we hold before the partitions move elsewhere */
		flush_all(c);
		for (int i = 0; i < parts->cnt; i++)
		{
			rd_kafka_topic_partition_t *p = &parts->elems[i];

			log_info("revoked %s [%" PRId32 "]", p->topic, p->partition);
			rd_kafka_topic_partition_list_del(c->paused, p->topic, p->partition);
			for (int k = 0; k < c->ntables; k++)
				if (strcmp(c->tables[k].topic, p->topic) == 0 && c->tables[k].table)
					table_forget(c->tables[k].table, p->topic, p->partition);
		}
		if (cooperative)
			error = rd_kafka_incremental_unassign(rk, parts);
		else
			rerr = rd_kafka_assign(rk, NULL);
	}
	if (error)
	{
		log_error("assignment failed: %s", rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		c->fatal = true;
	}
	else if (rerr)
	{
		log_error("assignment failed: %s", rd_kafka_err2str(rerr));
		c->fatal = true;
	}
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	Consumer   *c = opaque;

	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		char		buf[512];

		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		log_error("fatal Kafka error: %s", buf);
		c->fatal = true;
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
	{
		/* it concerns every table, and retrying will not change it */
		log_error("Kafka refused the login: %s", reason);
		c->fatal = true;
		return;
	}
	/* transient (broker down, all brokers down): librdkafka retries */
	log_warn("Kafka: %s", reason);
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	if (level <= 3)
		log_error("librdkafka %s: %s", fac, buf);
	else if (level <= 5)
		log_info("librdkafka %s: %s", fac, buf);
	else
		log_debug("librdkafka %s: %s", fac, buf);
}

/* The value of librdkafka property key as configured (kafka.*), or NULL. */
static const char *
kafka_key_value(const Config *cfg, const char *key)
{
	int			iter = 0;
	const char *name,
			   *value;

	while (config_prefix_next(cfg, "kafka.", &iter, &name, &value))
		if (strcmp(name, key) == 0)
			return value;
	return NULL;
}

static bool
has_kafka_key(const Config *cfg, const char *key)
{
	return kafka_key_value(cfg, key) != NULL;
}

/* Every partition of every listed topic, from the cluster's metadata. */
static bool
static_assign(Consumer *c, char *errstr, size_t errlen)
{
	rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
	rd_kafka_topic_partition_list_t *hold = rd_kafka_topic_partition_list_new(1);
	char	   *copy = strdup(c->opts.topics ? c->opts.topics : "");
	char	   *save = NULL;
	bool		ok = true;
	rd_kafka_resp_err_t err;

	for (char *tok = strtok_r(copy, ", ", &save); tok && ok;
		 tok = strtok_r(NULL, ", ", &save))
	{
		rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, tok, NULL);
		const struct rd_kafka_metadata *md = NULL;

		err = rd_kafka_metadata(c->rk, 0, rkt, &md, 30000);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
			md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
			md->topics[0].partition_cnt > 0)
		{
			for (int i = 0; i < md->topics[0].partition_cnt; i++)
				rd_kafka_topic_partition_list_add(parts, tok,
												  md->topics[0].partitions[i].id);
		}
		else
		{
			snprintf(errstr, errlen, "topic \"%s\": no partitions (%s)", tok,
					 rd_kafka_err2str(err ? err :
									  md && md->topic_cnt == 1 ? md->topics[0].err :
									  RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
			ok = false;
		}
		if (md)
			rd_kafka_metadata_destroy(md);
		rd_kafka_topic_destroy(rkt);
	}
	free(copy);
	if (ok && parts->cnt == 0)
	{
		snprintf(errstr, errlen, "assignment=static needs topics (-t)");
		ok = false;
	}
	if (ok && !resume_offsets(c, parts, hold))
	{
		snprintf(errstr, errlen, "could not read the tables' positions");
		ok = false;
	}
	if (ok && (err = rd_kafka_assign(c->rk, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		snprintf(errstr, errlen, "could not assign partitions: %s",
				 rd_kafka_err2str(err));
		ok = false;
	}
	pause_held(c, hold);
	rd_kafka_topic_partition_list_destroy(parts);
	return ok;
}

Consumer *
consumer_new(const Config *cfg, const ConsumerOptions *opts, DeadLetter *dl,
			 bool *runtime_failure,
			 char *errstr, size_t errlen)
{
	Consumer   *c = calloc(1, sizeof(Consumer));
	rd_kafka_conf_t *conf;
	rd_kafka_topic_partition_list_t *subs;
	rd_kafka_resp_err_t err;
	const char *reset = kafka_key_value(cfg, "auto.offset.reset");
	static const char *const defaults[][2] = {
		{"group.id", "cdc_delta_writer"},
		/* a position Kafka no longer holds is reported, never skipped */
		{"auto.offset.reset", "error"},
		/* bounds what librdkafka prefetches (memory); wake_fetcher keeps
		 * a small queue from costing throughput */
		{"queued.max.messages.kbytes", "16384"},
	};

	if (c == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		return NULL;
	}
	if (reset && strcmp(reset, "error") != 0)
	{
		/* librdkafka would skip them in silence: only offset.gap=skip may */
		snprintf(errstr, errlen, "kafka.auto.offset.reset=%s would skip offsets "
				 "Kafka no longer holds without a record: the writer starts "
				 "where the Delta log says, and offset.gap=skip accepts a gap",
				 reset);
		free(c);
		return NULL;
	}
	c->opts = *opts;
	c->opts.table.deadletter = dl;
	c->paused = rd_kafka_topic_partition_list_new(1);
	c->dl = dl;
	c->parser = event_parser_new();
	conf = rd_kafka_conf_new();
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!has_kafka_key(cfg, defaults[i][0]) &&
			!kafka_conf_set(conf, defaults[i][0], defaults[i][1], errstr, errlen))
			goto fail_conf;
	if (!kafka_conf_apply(cfg, conf, errstr, errlen))
		goto fail_conf;
	/* progress lives in the Delta log; these are never ours to change */
	if (!kafka_conf_set(conf, "enable.auto.commit", "false", errstr, errlen) ||
		!kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, errlen))
		goto fail_conf;
	rd_kafka_conf_set_opaque(conf, c);
	rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errlen);
	if (c->rk == NULL)
		goto fail_conf;
	/* rd_kafka_new owns conf from here */
	rd_kafka_poll_set_consumer(c->rk);

	if (opts->static_assign)
	{
		if (!static_assign(c, errstr, errlen))
		{
			*runtime_failure = true;
			consumer_free(c);
			return NULL;
		}
		return c;
	}
	subs = rd_kafka_topic_partition_list_new(8);
	if (opts->pattern)
	{
		char		pat[1024];

		snprintf(pat, sizeof(pat), "%s%s", opts->pattern[0] == '^' ? "" : "^",
				 opts->pattern);
		rd_kafka_topic_partition_list_add(subs, pat, RD_KAFKA_PARTITION_UA);
	}
	if (opts->topics)
	{
		char	   *copy = strdup(opts->topics);
		char	   *save = NULL;

		for (char *tok = strtok_r(copy, ", ", &save); tok;
			 tok = strtok_r(NULL, ", ", &save))
			rd_kafka_topic_partition_list_add(subs, tok, RD_KAFKA_PARTITION_UA);
		free(copy);
	}
	if (subs->cnt == 0)
	{
		rd_kafka_topic_partition_list_destroy(subs);
		snprintf(errstr, errlen, "no topics: give -t TOPIC or -p PATTERN");
		consumer_free(c);
		return NULL;
	}
	err = rd_kafka_subscribe(c->rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (err)
	{
		snprintf(errstr, errlen, "could not subscribe: %s", rd_kafka_err2str(err));
		consumer_free(c);
		return NULL;
	}
	return c;

fail_conf:
	if (c->rk == NULL)
		rd_kafka_conf_destroy(conf);
	consumer_free(c);
	return NULL;
}

/*
 * Kafka no longer holds the position being fetched (retention passed it
 * while the writer lagged): the same check as at assignment, then go on
 * from where it says or pause.
 */
static void
offset_out_of_range(Consumer *c, const char *topic, int32_t partition)
{
	Table	   *t = consumer_table(c, topic);
	int64_t		next,
				off;
	rd_kafka_topic_partition_list_t *one;
	rd_kafka_error_t *error;

	if (t == NULL || is_paused(c, topic, partition))
		return;
	next = table_position(t, topic, partition) + 1;
	off = check_gap(c, t, topic, partition, next);
	if (off < 0)
	{
		pause_partition(c, topic, partition);
		return;
	}
	one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(one, topic, partition)->offset = off;
	if ((error = rd_kafka_seek_partitions(c->rk, one, 10000)) != NULL)
	{
		log_error("%s [%" PRId32 "]: seeking to %" PRId64 ": %s: partition paused",
				  topic, partition, off, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
		pause_partition(c, topic, partition);
	}
	rd_kafka_topic_partition_list_destroy(one);
}

static void
handle_message(Consumer *c, rd_kafka_message_t *m)
{
	const char *topic;
	Table	   *t;
	EventRow	row;
	EventResult er;
	TableResult tr;
	char		err[512];
	rd_kafka_timestamp_type_t tstype;
	int64_t		ts;

	if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && m->rkt)
	{
		offset_out_of_range(c, rd_kafka_topic_name(m->rkt), m->partition);
		return;
	}
	if (m->err)
	{
		if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
			log_warn("consume error: %s", rd_kafka_message_errstr(m));
		return;
	}
	if (m->rkt == c->last_rkt)
		t = c->last_table;
	else
	{
		t = consumer_table(c, rd_kafka_topic_name(m->rkt));
		if (t == NULL)
		{
			/* its table failed: this partition waits too */
			if (!c->fatal)
				pause_partition(c, rd_kafka_topic_name(m->rkt), m->partition);
			return;
		}
		c->last_rkt = m->rkt;
		c->last_table = t;
	}
	topic = rd_kafka_topic_name(m->rkt);
	/* fetched before its pause took effect */
	if (is_paused(c, topic, m->partition))
		return;
	/* already in the table (a re-fetch after a rebalance) */
	if (m->offset <= table_position(t, topic, m->partition))
		return;

	er = event_parse(c->parser, m->key, m->key_len, m->payload, m->len,
					 &row, err, sizeof(err));
	if (er == EVENT_SKIP)
	{
		table_consumed(t, topic, m->partition, m->offset);
		return;
	}
	if (er == EVENT_ROW)
	{
		ts = rd_kafka_message_timestamp(m, &tstype);
		tr = table_append(t, topic, m->partition, m->offset, ts, &row,
						  err, sizeof(err));
		if (tr == TABLE_OK)
		{
			c->rows++;
			return;
		}
		if (tr == TABLE_FATAL)
		{
			char		why[700];

			snprintf(why, sizeof(why), "%s: %s", table_dir(t), err);
			fail_table(c, topic, t, why);
			return;
		}
	}
	/* EVENT_BAD or TABLE_BAD_ROW: keep the bytes, go on with the table */
	c->bad++;
	if (c->dl)
	{
		char		dlerr[512];

		if (!deadletter_write(c->dl, topic, m->partition, m->offset, err,
							  m->key, m->key_len, m->payload, m->len,
							  dlerr, sizeof(dlerr)))
		{
			log_error("%s", dlerr);
			c->fatal = true;
			return;
		}
	}
	else
		log_warn("%s [%" PRId32 "] @%" PRId64 ": %s (skipped, no dead-letter file)",
				 topic, m->partition, m->offset, err);
	table_consumed(t, topic, m->partition, m->offset);
}

/*
 * librdkafka 2.0.2 stops fetching a partition while its prefetch queue is
 * over queued.max.messages.kbytes and looks again only about once a
 * second (2.1 made that fetch.queue.backoff.ms).  When our queue runs dry
 * while a partition is known to have more (its cached high watermark is
 * past our position), a seek to where we are wakes the fetcher at once.
 * The queue is empty, so the seek drops nothing.
 */
static void
wake_fetcher(Consumer *c)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_topic_partition_list_t *lagging;
	rd_kafka_error_t *error;

	if (rd_kafka_assignment(c->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	rd_kafka_position(c->rk, parts);
	lagging = rd_kafka_topic_partition_list_new(parts->cnt > 0 ? parts->cnt : 1);
	for (int i = 0; i < parts->cnt; i++)
	{
		rd_kafka_topic_partition_t *p = &parts->elems[i];
		int64_t		lo,
					hi;

		if (p->offset < 0 || is_paused(c, p->topic, p->partition) ||
			rd_kafka_get_watermark_offsets(c->rk, p->topic, p->partition,
										   &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
			hi <= p->offset)
			continue;
		rd_kafka_topic_partition_list_add(lagging, p->topic, p->partition)->offset = p->offset;
	}
	if (lagging->cnt > 0)
	{
		error = rd_kafka_seek_partitions(c->rk, lagging, 0);
		if (error)
		{
			log_debug("waking the fetcher: %s", rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
		}
	}
	rd_kafka_topic_partition_list_destroy(lagging);
	rd_kafka_topic_partition_list_destroy(parts);
}

int
consumer_run(Consumer *c, volatile sig_atomic_t *stop,
			 volatile sig_atomic_t *reopen)
{
	int64_t		last_check = clock_monotonic_ms();
	int64_t		last_stats = last_check;
	int64_t		last_rows = 0;
	unsigned	npolled = 0;
	bool		got_message = false;
	int64_t		last_wake = 0;
	int			rc;

	while (!*stop && !c->fatal)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 10);
		int64_t		now;

		if (*reopen)
		{
			char		err[512];

			*reopen = 0;
			if (!log_reopen(err, sizeof(err)))
				log_warn("%s", err);
		}

		if (m)
		{
			handle_message(c, m);
			rd_kafka_message_destroy(m);
			/* size thresholds matter per row; time ones can wait a bit */
			if (c->last_table && !c->fatal &&
				table_flush_due(c->last_table, last_check))
				flush_table(c, c->last_table);
		}
		else if (got_message || clock_monotonic_ms() - last_wake >= 50)
		{
			/* just ran dry, or every 50 ms while idle (cheap, but not free) */
			wake_fetcher(c);
			last_wake = clock_monotonic_ms();
		}
		got_message = m != NULL;
		/* the clock only every 64 messages: it shows in profiles */
		if (m && (++npolled & 63) != 0)
			continue;
		now = clock_monotonic_ms();
		if (now - last_check >= 50)
		{
			for (int i = 0; i < c->ntables && !c->fatal; i++)
				if (c->tables[i].owner && !c->tables[i].failed &&
					table_flush_due(c->tables[i].table, now))
					flush_table(c, c->tables[i].table);
			last_check = now;
		}
		if (now - last_stats >= 30000)
		{
			if (c->rows != last_rows || c->paused->cnt > 0)
				log_info("%" PRId64 " rows written (%.0f rows/s), %" PRId64 " dead-lettered, "
						 "%d partition(s) paused, %d table(s) failed",
						 c->rows, (c->rows - last_rows) * 1000.0 / (now - last_stats),
						 c->bad, c->paused->cnt, c->failed_tables);
			last_rows = c->rows;
			last_stats = now;
		}
	}
	if (c->fatal)
	{
		/* nothing more is committed: the log stays at its last good version */
		log_error("stopping after a fatal error; restart resumes from the Delta log");
		return 2;
	}
	rc = flush_all(c) ? 0 : 2;
	log_info("stopping: %" PRId64 " rows written, %" PRId64 " dead-lettered, "
			 "%d partition(s) paused, %d table(s) failed; "
			 "%" PRId64 " schema versions, %" PRId64 " messages read by json-c",
			 c->rows, c->bad, c->paused->cnt, c->failed_tables,
			 event_schemas_parsed(c->parser),
			 event_slow_parsed(c->parser));
	return rc;
}

void
consumer_free(Consumer *c)
{
	if (c == NULL)
		return;
	if (c->rk)
	{
		rd_kafka_resp_err_t err;

		/* the revoke callback may commit once more; then leave the group */
		err = rd_kafka_consumer_close(c->rk);
		if (err)
			log_warn("closing the consumer: %s", rd_kafka_err2str(err));
		rd_kafka_destroy(c->rk);
	}
	for (int i = 0; i < c->ntables; i++)
	{
		if (c->tables[i].owner)
			table_close(c->tables[i].table);
		free(c->tables[i].topic);
		free(c->tables[i].key);
	}
	free(c->tables);
	event_parser_free(c->parser);
	rd_kafka_topic_partition_list_destroy(c->paused);
	free(c);
}
