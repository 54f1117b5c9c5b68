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
					int lookback, int timeout_ms, const KafkaTopicSpec *create)
{
	memset(pt, 0, sizeof(*pt));
	pt->nbuckets = 256;
	pt->buckets = calloc(pt->nbuckets, sizeof(PositionTopic *));
	pt->lookback = lookback;
	pt->timeout_ms = timeout_ms;
	pt->consumer_conf = consumer_conf;
	pt->create = create;
	return pt->buckets != NULL;
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
	if (pt->consumer_conf)
		rd_kafka_conf_destroy(pt->consumer_conf);
	memset(pt, 0, sizeof(*pt));
}

static size_t
position_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	return h;
}

static int32_t
position_partition_count(PositionTable *pt, rd_kafka_t *rk, const char *topic,
						 char *errstr, size_t errstr_size)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;
	int32_t		n = -1;
	bool		asked = false;
	bool		created = false;

	/*
	 * A topic the broker is auto-creating answers LEADER_NOT_AVAILABLE or
	 * UNKNOWN_TOPIC for a moment: ask again soon rather than back off.
	 */
	for (int attempt = 0; attempt < 200; attempt++)
	{
		err = rd_kafka_metadata(rk, 0, rkt, &md, pt->timeout_ms);
		if (err || md->topic_cnt != 1 ||
			(md->topics[0].err != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
			 md->topics[0].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART))
			break;
		/*
		 * Unknown, and the broker did not start creating it (no
		 * auto.create.topics.enable): create it once, as configured.
		 */
		if (md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART &&
			pt->create && !asked)
		{
			asked = true;
			if (!kafka_topic_create(rk, topic, pt->create, pt->timeout_ms, &created,
									errstr, errstr_size))
			{
				rd_kafka_metadata_destroy(md);
				rd_kafka_topic_destroy(rkt);
				return -1;
			}
		}
		rd_kafka_metadata_destroy(md);
		md = NULL;
		usleep(5000);
	}
	if (err)
		snprintf(errstr, errstr_size, "metadata for topic \"%s\": %s",
				 topic, rd_kafka_err2str(err));
	else if (md->topic_cnt != 1 || md->topics[0].err ||
			 md->topics[0].partition_cnt < 1)
		snprintf(errstr, errstr_size, "metadata for topic \"%s\": %s", topic,
				 md->topic_cnt == 1 && md->topics[0].err ?
				 rd_kafka_err2str(md->topics[0].err) : "no partitions");
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
	rd_kafka_topic_destroy(rkt);
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
 * Reads the last messages of every non-empty partition with a throw-away
 * consumer (assign, no group: nothing is committed anywhere).
 */
static bool
position_learn(PositionTable *pt, rd_kafka_t *prk, PositionTopic *t,
			   char *errstr, size_t errstr_size)
{
	rd_kafka_topic_partition_list_t *parts;
	int64_t    *high;
	int			remaining = 0;
	rd_kafka_t *crk = NULL;
	rd_kafka_conf_t *conf;
	char		err[512];
	bool		ok = false;

	high = calloc(t->partitions, sizeof(int64_t));
	parts = rd_kafka_topic_partition_list_new(t->partitions);
	for (int32_t p = 0; p < t->partitions; p++)
	{
		int64_t		lo,
					hi;
		rd_kafka_resp_err_t e;

		e = rd_kafka_query_watermark_offsets(prk, t->name, p, &lo, &hi, pt->timeout_ms);
		if (e)
		{
			snprintf(errstr, errstr_size, "watermarks of %s [%d]: %s",
					 t->name, p, rd_kafka_err2str(e));
			goto done;
		}
		high[p] = hi > lo ? hi : 0;
		if (hi > lo)
		{
			int64_t		from = hi - pt->lookback > lo ? hi - pt->lookback : lo;

			rd_kafka_topic_partition_list_add(parts, t->name, p)->offset = from;
			remaining++;
		}
	}
	if (remaining == 0)
	{
		ok = true;
		goto done;
	}

	conf = rd_kafka_conf_dup(pt->consumer_conf);
	crk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (crk == NULL)
	{
		rd_kafka_conf_destroy(conf);
		snprintf(errstr, errstr_size, "tail reader: %s", err);
		goto done;
	}
	if (rd_kafka_assign(crk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		snprintf(errstr, errstr_size, "tail reader: could not assign %s", t->name);
		goto done;
	}
	while (remaining > 0)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(crk, pt->timeout_ms);
		Position	pos;

		if (m == NULL)
		{
			snprintf(errstr, errstr_size, "timed out reading the tail of %s", t->name);
			goto done;
		}
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
		{
			/*
			 * The end: also when the last offset holds no message (a
			 * compacted-away record or a transaction marker of another
			 * producer), which would never arrive.
			 */
			if (m->partition >= 0 && m->partition < t->partitions &&
				high[m->partition] > 0)
			{
				high[m->partition] = 0;
				remaining--;
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err)
		{
			/* informational (e.g. a broker connection went down): keep on */
			log_debug("tail reader: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->partition >= 0 && m->partition < t->partitions)
		{
			if (position_of_message(m, &pos) &&
				position_cmp(&pos, &t->max[m->partition]) > 0)
				t->max[m->partition] = pos;
			/* high[p] is cleared once reached: count each partition once */
			if (high[m->partition] > 0 && m->offset >= high[m->partition] - 1)
			{
				high[m->partition] = 0;
				remaining--;
			}
		}
		rd_kafka_message_destroy(m);
	}
	ok = true;

done:
	if (crk)
	{
		rd_kafka_consumer_close(crk);
		rd_kafka_destroy(crk);
	}
	rd_kafka_topic_partition_list_destroy(parts);
	free(high);
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
		(learn && !position_learn(pt, rk, t, errstr, errstr_size)) ||
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
