/*-------------------------------------------------------------------------
 * position.c
 *	  Positions, their header text, and learning what Kafka holds.
 *
 *	  The header is text ("0/16B3750:3:0", LSN as PostgreSQL writes it), so
 *	  that kcat users can read it and other tools can compare it.
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "position.h"

int
position_cmp(const Position *a, const Position *b)
{
	if (a->commit_lsn != b->commit_lsn)
		return a->commit_lsn < b->commit_lsn ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->sub != b->sub)
		return a->sub < b->sub ? -1 : 1;
	return 0;
}

/* Appends v in the given base, upper case, no leading zeros. */
static char *
position_put(char *o, uint64_t v, unsigned base)
{
	char		tmp[24];
	int			n = 0;

	do
	{
		tmp[n++] = "0123456789ABCDEF"[v % base];
		v /= base;
	} while (v);
	while (n)
		*o++ = tmp[--n];
	return o;
}

/*
 * "%X/%X:%llu:%u", by hand: this runs once per message and snprintf was a
 * visible share of the sidecar's CPU.
 */
int
position_format(const Position *p, char *buf, size_t size)
{
	char		tmp[POSITION_TEXT_LEN];
	char	   *o = tmp;
	int			len;

	o = position_put(o, (uint32_t) (p->commit_lsn >> 32), 16);
	*o++ = '/';
	o = position_put(o, (uint32_t) p->commit_lsn, 16);
	*o++ = ':';
	o = position_put(o, p->seq, 10);
	*o++ = ':';
	o = position_put(o, p->sub, 10);
	len = (int) (o - tmp);
	if (size > 0)
	{
		size_t		n = (size_t) len < size - 1 ? (size_t) len : size - 1;

		memcpy(buf, tmp, n);
		buf[n] = '\0';
	}
	return len;
}

bool
position_parse(const char *text, size_t len, Position *p)
{
	char		buf[POSITION_TEXT_LEN];
	unsigned int hi,
				lo,
				sub;
	uint64_t	seq;
	int			n = 0;

	if (text == NULL || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (sscanf(buf, "%X/%X:%" SCNu64 ":%u%n", &hi, &lo, &seq, &sub, &n) != 4 ||
		(size_t) n != len)
		return false;
	p->commit_lsn = ((uint64_t) hi << 32) | lo;
	p->seq = seq;
	p->sub = sub;
	return true;
}

bool
position_table_init(PositionTable *pt, rd_kafka_conf_t *consumer_conf,
					int lookback, int timeout_ms, const KafkaTopicSpec *create,
					volatile sig_atomic_t *stop, char *errstr, size_t errstr_size)
{
	char		err[512];

	memset(pt, 0, sizeof(*pt));
	pt->nbuckets = 256;
	pt->buckets = calloc(pt->nbuckets, sizeof(PositionTopic *));
	pt->lookback = lookback;
	pt->timeout_ms = timeout_ms;
	pt->create = create;
	pt->stop = stop;
	if (pt->buckets == NULL)
	{
		rd_kafka_conf_destroy(consumer_conf);
		snprintf(errstr, errstr_size, "out of memory");
		return false;
	}
	/*
	 * Made now, it connects to the cluster while the sidecar connects to
	 * PostgreSQL: a restart's first event no longer waits for a consumer
	 * to start (and to close) before it can be produced.
	 */
	pt->reader = rd_kafka_new(RD_KAFKA_CONSUMER, consumer_conf, err, sizeof(err));
	if (pt->reader == NULL)
	{
		rd_kafka_conf_destroy(consumer_conf);
		snprintf(errstr, errstr_size, "could not create the tail reader: %s", err);
		return false;
	}
	return true;
}

void
position_table_free(PositionTable *pt)
{
	for (size_t i = 0; i < pt->nbuckets; i++)
	{
		PositionTopic *t = pt->buckets[i];

		while (t)
		{
			PositionTopic *next = t->next;

			if (t->rkt)
				rd_kafka_topic_destroy(t->rkt);
			free(t->name);
			free(t->max);
			free(t);
			t = next;
		}
	}
	free(pt->buckets);
	if (pt->reader)
	{
		rd_kafka_consumer_close(pt->reader);
		rd_kafka_destroy(pt->reader);
	}
	memset(pt, 0, sizeof(*pt));
}

void
position_table_tick(PositionTable *pt)
{
	rd_kafka_message_t *m;

	rd_kafka_poll(pt->reader, 0);	/* errors: logged, then freed */
	while ((m = rd_kafka_consumer_poll(pt->reader, 0)) != NULL)
	{
		if (m->err)
			log_debug("tail reader: %s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
}

static size_t
position_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	return h;
}

/*
 * Waits on Kafka are cut into slices, so that a stop request is seen within
 * one: a broker that cannot be reached otherwise holds a metadata request
 * for its whole timeout.
 */
#define POSITION_SLICE_MS 250

static int
position_slice(int64_t deadline, int slice)
{
	int64_t		left = deadline - clock_monotonic_ms();

	return left < slice ? (int) (left > 1 ? left : 1) : slice;
}

/*
 * Metadata for one topic, asked again while the answer is "not yet": a topic
 * the broker is auto-creating answers LEADER_NOT_AVAILABLE or UNKNOWN_TOPIC
 * for a moment; no broker up within a slice gives __TRANSPORT, no answer
 * within it __TIMED_OUT (then the next slice is longer).  *mdp is set only
 * on success, with the topic's own error folded into the result.  With
 * create, a topic still unknown (the broker does not create topics) is
 * created once, as configured; *created says so.
 */
static rd_kafka_resp_err_t
position_metadata(PositionTable *pt, rd_kafka_t *rk, const char *topic,
				  const KafkaTopicSpec *create, bool *created,
				  const struct rd_kafka_metadata **mdp,
				  char *errstr, size_t errstr_size)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;
	int64_t		deadline = clock_monotonic_ms() + pt->timeout_ms;
	int			slice = POSITION_SLICE_MS;
	bool		create_asked = false;

	for (;;)
	{
		int64_t		sent_ms = clock_monotonic_ms();

		err = rd_kafka_metadata(rk, 0, rkt, &md, position_slice(deadline, slice));
		if (!err && md->topic_cnt == 1 && md->topics[0].err)
		{
			err = md->topics[0].err;
			rd_kafka_metadata_destroy(md);
			md = NULL;
		}
		if (err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
			err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
			err != RD_KAFKA_RESP_ERR__TRANSPORT &&
			err != RD_KAFKA_RESP_ERR__TIMED_OUT)
			break;
		if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
			slice *= 2;
		if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && create && !create_asked)
		{
			create_asked = true;
			if (!kafka_topic_create(rk, topic, create, pt->timeout_ms, created,
									errstr, errstr_size))
			{
				err = RD_KAFKA_RESP_ERR__FAIL;
				break;
			}
		}
		if (*pt->stop || clock_monotonic_ms() >= deadline)
			break;
		/* not in a tight loop when the answer came at once */
		if (clock_monotonic_ms() - sent_ms < 5)
			usleep(5000);
	}
	rd_kafka_topic_destroy(rkt);
	if (err && md)
	{
		rd_kafka_metadata_destroy(md);
		md = NULL;
	}
	*mdp = md;
	return *pt->stop ? RD_KAFKA_RESP_ERR__INTR : err;
}

static int32_t
position_partition_count(PositionTable *pt, rd_kafka_t *rk, const char *topic,
						 char *errstr, size_t errstr_size)
{
	const struct rd_kafka_metadata *md;
	bool		created = false;
	rd_kafka_resp_err_t err = position_metadata(pt, rk, topic, pt->create, &created,
												&md, errstr, errstr_size);
	int32_t		n = -1;

	if (err == RD_KAFKA_RESP_ERR__INTR)
		snprintf(errstr, errstr_size, "interrupted");
	else if (err == RD_KAFKA_RESP_ERR__FAIL)
		;						/* the creation's own error */
	else if (err)
		snprintf(errstr, errstr_size, "metadata for topic \"%s\": %s",
				 topic, rd_kafka_err2str(err));
	else if (md->topic_cnt != 1 || md->topics[0].partition_cnt < 1)
		snprintf(errstr, errstr_size, "metadata for topic \"%s\": no partitions", topic);
	else
	{
		n = md->topics[0].partition_cnt;
		if (created)
			log_info("topic %s did not exist and the broker does not create topics: "
					 "created it with %d partition(s), replication factor %d "
					 "(topic.creation.default.*)",
					 topic, n, md->topics[0].partitions[0].replica_cnt);
	}
	if (md)
		rd_kafka_metadata_destroy(md);
	return n;
}

/* Highest position among one message's headers, if it has one. */
static bool
position_of_message(const rd_kafka_message_t *m, Position *p)
{
	rd_kafka_headers_t *hdrs;
	const void *val;
	size_t		size;

	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	if (rd_kafka_header_get_last(hdrs, POSITION_HEADER, &val, &size) !=
		RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	return position_parse(val, size, p);
}

/*
 * Reads the last "lookback" messages of every partition with the tail
 * reader (assign, no group: nothing is committed anywhere), from
 * OFFSET_TAIL, until each partition reports its end, then unassigns.  The
 * consumer finds the end offsets itself, so every wait here is a poll that
 * a stop request cuts short.
 */
static bool
position_learn(PositionTable *pt, PositionTopic *t, char *errstr, size_t errstr_size)
{
	rd_kafka_topic_partition_list_t *parts;
	bool	   *done;
	int			remaining = t->partitions;
	rd_kafka_t *crk = pt->reader;
	bool		assigned = false;
	int64_t		deadline;
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e;
	bool		ok = false;

	done = calloc(t->partitions, sizeof(bool));
	parts = rd_kafka_topic_partition_list_new(t->partitions);
	for (int32_t p = 0; p < t->partitions; p++)
		rd_kafka_topic_partition_list_add(parts, t->name, p)->offset =
			RD_KAFKA_OFFSET_TAIL(pt->lookback);

	/*
	 * Partition leaders known before the assignment, or the consumer waits
	 * 500 ms before it asks for the end offsets.
	 */
	if ((e = position_metadata(pt, crk, t->name, NULL, NULL, &md,
							   errstr, errstr_size)) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		if (e == RD_KAFKA_RESP_ERR__INTR)
			snprintf(errstr, errstr_size, "interrupted");
		else
			snprintf(errstr, errstr_size, "tail reader: metadata for topic \"%s\": %s",
					 t->name, rd_kafka_err2str(e));
		goto done;
	}
	rd_kafka_metadata_destroy(md);
	deadline = clock_monotonic_ms() + pt->timeout_ms;
	if (done == NULL || rd_kafka_assign(crk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		snprintf(errstr, errstr_size, "tail reader: could not assign %s", t->name);
		goto done;
	}
	assigned = true;
	while (remaining > 0)
	{
		rd_kafka_message_t *m;
		Position	pos;

		if (*pt->stop)
		{
			snprintf(errstr, errstr_size, "interrupted");
			goto done;
		}
		m = rd_kafka_consumer_poll(crk, position_slice(deadline, POSITION_SLICE_MS));
		if (m == NULL)
		{
			if (clock_monotonic_ms() < deadline)
				continue;
			snprintf(errstr, errstr_size, "timed out reading the tail of %s", t->name);
			goto done;
		}
		/* the timeout is for a reader that stopped moving, not a long one */
		deadline = clock_monotonic_ms() + pt->timeout_ms;
		if (m->rkt && strcmp(rd_kafka_topic_name(m->rkt), t->name) != 0)
			;					/* fetched for an earlier topic's assignment */
		else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		{
			/*
			 * The end: also when the last offset holds no message (a
			 * compacted-away record or a transaction marker of another
			 * producer), and for an empty partition.
			 */
			if (m->partition >= 0 && m->partition < t->partitions &&
				!done[m->partition])
			{
				done[m->partition] = true;
				remaining--;
			}
		}
		else if (m->err)
		{
			/* informational (e.g. a broker connection went down): keep on */
			log_debug("tail reader: %s", rd_kafka_message_errstr(m));
		}
		else if (m->partition >= 0 && m->partition < t->partitions &&
				 !done[m->partition])
		{
			int64_t		lo,
						hi;

			if (position_of_message(m, &pos) &&
				position_cmp(&pos, &t->max[m->partition]) > 0)
				t->max[m->partition] = pos;
			/* the last message: no need to wait for the end's report */
			if (rd_kafka_get_watermark_offsets(crk, t->name, m->partition, &lo, &hi) ==
				RD_KAFKA_RESP_ERR_NO_ERROR && m->offset >= hi - 1)
			{
				done[m->partition] = true;
				remaining--;
			}
		}
		rd_kafka_message_destroy(m);
	}
	ok = true;

done:
	if (assigned)
		rd_kafka_assign(crk, NULL);	/* stop fetching; kept for the next topic */
	rd_kafka_topic_partition_list_destroy(parts);
	free(done);
	return ok;
}

PositionTopic *
position_topic(PositionTable *pt, rd_kafka_t *rk, const char *topic,
			   size_t topic_len, bool learn, char *errstr, size_t errstr_size)
{
	size_t		b;
	PositionTopic *t;

	/* the cache first: the hash is not needed for a run of one topic */
	if (pt->last && pt->last->name_len == topic_len &&
		memcmp(pt->last->name, topic, topic_len) == 0)
		return pt->last;
	b = position_hash(topic, topic_len) % pt->nbuckets;
	for (t = pt->buckets[b]; t; t = t->next)
	{
		if (t->name_len == topic_len && memcmp(t->name, topic, topic_len) == 0)
			return (pt->last = t);
	}

	t = calloc(1, sizeof(PositionTopic));
	if (t == NULL || (t->name = strndup(topic, topic_len)) == NULL)
	{
		free(t);
		snprintf(errstr, errstr_size, "out of memory");
		return NULL;
	}
	t->name_len = topic_len;
	t->partitions = position_partition_count(pt, rk, t->name, errstr, errstr_size);
	if (t->partitions < 1 ||
		(t->max = calloc(t->partitions, sizeof(Position))) == NULL ||
		(learn && !position_learn(pt, t, errstr, errstr_size)) ||
		(t->rkt = rd_kafka_topic_new(rk, t->name, NULL)) == NULL)
	{
		free(t->max);
		free(t->name);
		free(t);
		return NULL;
	}
	if (learn)
	{
		char		txt[POSITION_TEXT_LEN] = "";
		Position	top = {0, 0, 0};

		for (int32_t p = 0; p < t->partitions; p++)
			if (position_cmp(&t->max[p], &top) > 0)
				top = t->max[p];
		position_format(&top, txt, sizeof(txt));
		log_info("topic %s: %d partition(s), highest position held %s",
				 t->name, t->partitions, txt);
	}
	t->next = pt->buckets[b];
	pt->buckets[b] = t;
	pt->ntopics++;
	return (pt->last = t);
}
