/*-------------------------------------------------------------------------
 * producer.c
 *	  Kafka side of the sidecar.  Durability comes only from dr_msg_cb:
 *	  an event counts as written once librdkafka reports it delivered with
 *	  acks=all.  A failed delivery is never retried here: the idempotent
 *	  producer has already retried, and a gap could reorder a partition, so
 *	  the session stops without confirming past it.
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "kafka_conf.h"
#include "log.h"
#include "producer.h"

/* Settings exactly-once depends on: the user may not change them. */
static const char *const producer_forced[][2] = {
	{"enable.idempotence", "true"},
	{"acks", "all"},
	/*
	 * A failed batch followed by delivered ones would leave a gap that the
	 * position check, which trusts each partition to be gapless, would skip
	 * over after a restart: make librdkafka stop instead (__FATAL).
	 */
	{"enable.gapless.guarantee", "true"},
	/*
	 * One request in flight per broker.  With more, a request that fails
	 * (not written) while a later one to the same partition succeeds has
	 * its messages reported delivered: librdkafka takes the later success
	 * to mean the broker checked the sequence, but Apache Kafka accepts any
	 * sequence from a producer id it has no state for on that partition (a
	 * new run's first requests), and the mock broker never checks.  Those
	 * messages were lost, yet confirmed (doc/sidecar.md, "Exactly once").
	 */
	{"max.in.flight.requests.per.connection", "1"},
	{"max.in.flight", "1"},		/* its alias */
	{NULL, NULL}
};

/* Defaults the user may override. */
static const char *const producer_defaults[][2] = {
	{"partitioner", "murmur2_random"},
	/* retry forever: a broker outage must hold events, not drop them */
	{"message.timeout.ms", "0"},
	/*
	 * Idempotent, librdkafka (to 2.x at least) sends a partition's next
	 * batch only once the one in flight is acknowledged; meanwhile its
	 * broker thread spins (poll with no timeout) as soon as the oldest
	 * waiting message is older than linger.ms.  5 ms is less than a
	 * loaded broker takes to answer: that spin was a third to half of
	 * the sidecar's CPU (bench/e2e).  A batch also leaves as soon as it
	 * is full, so this delays only small transactions.
	 */
	{"linger.ms", "20"},
	/*
	 * lz4: 6x (schemas off) to 20x (schemas on) fewer bytes on the broker
	 * than none, for less CPU in all (sending less costs less than
	 * compressing); zstd saves another 2x of bytes for more CPU
	 * (bench/e2e, doc/sidecar.md)
	 */
	{"compression.type", "lz4"},
	{"queue.buffering.max.messages", "100000"},
	/*
	 * Two batches (message.max.bytes each): one in flight and the next
	 * filling.  More only ages the waiting messages past linger.ms (see
	 * above) and costs memory; producer_size_queue raises it with
	 * message.max.bytes.
	 */
	{"queue.buffering.max.kbytes", "2048"},
	{"client.id", "cdc_kafka_sidecar"},
	{NULL, NULL}
};

/*
 * Copies the JSON string value that follows "name" in text into out:
 * enough to name a table from an event's source block.
 */
static void
producer_json_field(const char *text, size_t len, const char *name,
					char *out, size_t outlen)
{
	size_t		nlen = strlen(name);
	const char *p = memmem(text, len, name, nlen);
	size_t		o = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	for (p += nlen; p < text + len && *p != '"' && o + 1 < outlen; p++)
		out[o++] = *p == '\\' && p + 1 < text + len ? *++p : *p;
	out[o] = '\0';
}

/*
 * "event of N bytes for table S.T (topic X), key K": what a user needs to
 * find the row that Kafka refused as too large.
 */
void
producer_describe_event(const char *topic, const void *key, size_t key_len,
						const void *value, size_t value_len,
						char *buf, size_t size)
{
	const char *v = value;
	const char *source = NULL;
	const char *k = key;
	size_t		klen = key ? key_len : 0;
	const char *payload;
	char		schema[128] = "";
	char		table[128] = "";

	/* the source block is the payload's last object: find its last mention */
	for (const char *p = v; v && p < v + value_len;)
	{
		const char *hit = memmem(p, v + value_len - p, "\"source\":{", 10);

		if (hit == NULL)
			break;
		source = hit;
		p = hit + 10;
	}
	if (source)
	{
		producer_json_field(source, v + value_len - source, "\"schema\":\"",
							schema, sizeof(schema));
		producer_json_field(source, v + value_len - source, "\"table\":\"",
							table, sizeof(table));
	}
	/* with schemas on, the key's payload says more than its schema */
	if (k && (payload = memmem(k, klen, "\"payload\":", 10)) != NULL)
	{
		klen -= payload + 10 - k;
		k = payload + 10;
		if (klen > 0 && k[klen - 1] == '}')
			klen--;
	}
	snprintf(buf, size, "event of %zu bytes for table %s%s%s (topic %s), key %.*s%s",
			 key_len + value_len, schema, schema[0] ? "." : "",
			 table[0] ? table : "?", topic,
			 (int) (klen > 200 ? 200 : klen), k ? k : "null",
			 klen > 200 ? "..." : "");
}

static void
producer_dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	Producer   *p = opaque;
	uint64_t	id = (uint64_t) (uintptr_t) m->_private;

	p->in_flight--;
	if (m->err)
	{
		if (id == PRODUCER_HEARTBEAT)
		{
			log_warn("heartbeat to %s not delivered: %s",
					 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
			return;
		}
		if (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE &&
			m->len + m->key_len > p->too_large)
		{
			/*
			 * The broker refuses a whole batch: name its largest message,
			 * the one that cannot fit.
			 */
			char		what[400];

			producer_describe_event(rd_kafka_topic_name(m->rkt), m->key, m->key_len,
									m->payload, m->len, what, sizeof(what));
			snprintf(p->failure, sizeof(p->failure),
					 "Kafka refused an %s as too large (the broker's message.max.bytes "
					 "or the topic's max.message.bytes)", what);
			p->too_large = m->len + m->key_len;
		}
		else if (!p->failed)
			snprintf(p->failure, sizeof(p->failure),
					 "delivery to %s [%d] failed: %s",
					 rd_kafka_topic_name(m->rkt), m->partition,
					 rd_kafka_err2str(m->err));
		p->failed = true;
		return;
	}
	p->delivered++;
	p->bytes += m->len + m->key_len;
	p->last_error[0] = '\0';	/* Kafka works again: log the next error */
	if (id != PRODUCER_UNTRACKED && id != PRODUCER_HEARTBEAT)
		lsn_track_ack(p->track, id);
}

static void
producer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	Producer   *p = opaque;
	char		fatal[400];

	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		if (p->too_large)
			return;				/* the cause is already named */
		rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
		snprintf(p->failure, sizeof(p->failure), "fatal Kafka error: %s", fatal);
		p->failed = p->fatal = true;
		return;
	}
	/*
	 * Transient (broker down, all brokers down): librdkafka retries.  It
	 * reports every failed attempt; log a state change once.
	 */
	if (strcmp(reason, p->last_error) == 0)
		log_debug("kafka: %s", reason);
	else
		log_warn("kafka: %s", reason);
	snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
}

static void
producer_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	/* errors also reach error_cb, which logs them once */
	if (level <= 2)
		log_error("kafka %s: %s", fac, buf);
	else
		log_debug("kafka %s: %s", fac, buf);
}

static long long
producer_conf_int(rd_kafka_conf_t *conf, const char *name)
{
	char		buf[32];
	size_t		size = sizeof(buf);

	if (rd_kafka_conf_get(conf, name, buf, &size) != RD_KAFKA_CONF_OK)
		return 0;
	return atoll(buf);
}

/*
 * librdkafka refuses a message larger than its whole queue as "queue
 * full", however long one waits for room: the queue must hold the
 * largest message Kafka takes, or such an event would stall the stream
 * for good.  The default also grows to two of them (a batch in flight,
 * the next one filling) when message.max.bytes is raised.
 */
static bool
producer_size_queue(rd_kafka_conf_t *conf, bool user_set,
					char *errstr, size_t errstr_size)
{
	long long	max_message = producer_conf_int(conf, "message.max.bytes");
	long long	kbytes = producer_conf_int(conf, "queue.buffering.max.kbytes");
	char		buf[32];

	if (user_set)
	{
		if (kbytes * 1024 >= max_message)
			return true;
		snprintf(errstr, errstr_size,
				 "kafka.queue.buffering.max.kbytes=%lld cannot hold one message of "
				 "kafka.message.max.bytes=%lld: an event that large would wait for "
				 "room forever", kbytes, max_message);
		return false;
	}
	if (kbytes * 1024 >= 2 * max_message)
		return true;
	snprintf(buf, sizeof(buf), "%lld", (2 * max_message + 1023) / 1024);
	return kafka_conf_set(conf, "queue.buffering.max.kbytes", buf, errstr, errstr_size);
}

bool
producer_init(Producer *p, const Config *cfg, LsnTrack *track,
			  rd_kafka_conf_t **consumer_conf, char *errstr, size_t errstr_size)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_conf_t *cconf = rd_kafka_conf_new();
	int			iter = 0;
	const char *name;
	const char *value;
	bool		have_bootstrap = false;
	bool		queue_set = false;
	char		err[512];

	memset(p, 0, sizeof(*p));
	p->track = track;
	p->wake_fd[0] = p->wake_fd[1] = -1;

	while (config_prefix_next(cfg, "kafka.", &iter, &name, &value))
	{
		if (strcmp(name, "bootstrap.servers") == 0 || strcmp(name, "metadata.broker.list") == 0)
			have_bootstrap = true;
		if (strcmp(name, "queue.buffering.max.kbytes") == 0)
			queue_set = true;
		for (int i = 0; producer_forced[i][0]; i++)
		{
			if (strcmp(name, producer_forced[i][0]) == 0 &&
				strcmp(value, producer_forced[i][1]) != 0)
			{
				snprintf(errstr, errstr_size,
						 "kafka.%s must be %s: exactly-once delivery depends on it",
						 name, producer_forced[i][1]);
				goto fail;
			}
		}
	}
	if (!have_bootstrap)
	{
		snprintf(errstr, errstr_size, "kafka.bootstrap.servers is not set");
		goto fail;
	}
	for (int i = 0; producer_defaults[i][0]; i++)
		if (!kafka_conf_set(conf, producer_defaults[i][0], producer_defaults[i][1],
							errstr, errstr_size))
			goto fail;
	for (int i = 0; producer_forced[i][0]; i++)
		if (!kafka_conf_set(conf, producer_forced[i][0], producer_forced[i][1],
							errstr, errstr_size))
			goto fail;
	if (!kafka_conf_apply(cfg, conf, errstr, errstr_size) ||
		!kafka_conf_apply(cfg, cconf, errstr, errstr_size) ||
		!producer_size_queue(conf, queue_set, errstr, errstr_size))
		goto fail;
	/* the tail reader: no group, nothing committed, stops at the end */
	if (!kafka_conf_set(cconf, "enable.partition.eof", "true", errstr, errstr_size) ||
		!kafka_conf_set(cconf, "enable.auto.commit", "false", errstr, errstr_size) ||
		!kafka_conf_set(cconf, "auto.offset.reset", "earliest", errstr, errstr_size) ||
		!kafka_conf_set(cconf, "group.id", "cdc_kafka_sidecar.tail", errstr, errstr_size) ||
		/* an empty partition reports its end with the first, empty fetch */
		!kafka_conf_set(cconf, "fetch.wait.max.ms", "10", errstr, errstr_size))
		goto fail;
	rd_kafka_conf_set_log_cb(cconf, producer_log_cb);

	rd_kafka_conf_set_opaque(conf, p);
	rd_kafka_conf_set_dr_msg_cb(conf, producer_dr_msg_cb);
	rd_kafka_conf_set_error_cb(conf, producer_error_cb);
	rd_kafka_conf_set_log_cb(conf, producer_log_cb);

	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (p->rk == NULL)
	{
		snprintf(errstr, errstr_size, "could not create the Kafka producer: %s", err);
		goto fail;
	}
	conf = NULL;				/* owned by rk now */

	/* Lets the main loop sleep in select() and still serve acks at once. */
	if (pipe2(p->wake_fd, O_NONBLOCK | O_CLOEXEC) != 0)
	{
		snprintf(errstr, errstr_size, "pipe: %s", strerror(errno));
		goto fail;
	}
	{
		rd_kafka_queue_t *q = rd_kafka_queue_get_main(p->rk);

		rd_kafka_queue_io_event_enable(q, p->wake_fd[1], "1", 1);
		rd_kafka_queue_destroy(q);
	}
	*consumer_conf = cconf;
	return true;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	rd_kafka_conf_destroy(cconf);
	producer_destroy(p);
	return false;
}

void
producer_destroy(Producer *p)
{
	if (p->rk)
	{
		rd_kafka_queue_t *q = rd_kafka_queue_get_main(p->rk);

		rd_kafka_queue_io_event_enable(q, -1, NULL, 0);
		rd_kafka_queue_destroy(q);
		if (p->in_flight > 0)
			log_warn("%llu message(s) not delivered at exit",
					 (unsigned long long) p->in_flight);
		rd_kafka_destroy(p->rk);
		p->rk = NULL;
	}
	for (int i = 0; i < 2; i++)
	{
		if (p->wake_fd[i] >= 0)
			close(p->wake_fd[i]);
		p->wake_fd[i] = -1;
	}
}

void
producer_poll(Producer *p, int timeout_ms)
{
	char		buf[256];

	while (read(p->wake_fd[0], buf, sizeof(buf)) > 0)
		;
	rd_kafka_poll(p->rk, timeout_ms);
}

bool
producer_send(Producer *p, rd_kafka_topic_t *rkt, int32_t partition,
			  const void *key, int32_t key_len, const void *value, int32_t value_len,
			  const FrameHeader *headers, int nheaders,
			  const Position *pos, uint64_t opaque, ProducerWaitCb wait_cb,
			  void *wait_arg, volatile int *stop, char *errstr, size_t errstr_size)
{
	char		hdr[POSITION_TEXT_LEN];
	int			hlen = position_format(pos, hdr, sizeof(hdr));
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new((size_t) nheaders + 1);
	rd_kafka_resp_err_t err;

	rd_kafka_header_add(hdrs, POSITION_HEADER, -1, hdr, hlen);
	for (int i = 0; i < nheaders; i++)
		rd_kafka_header_add(hdrs, headers[i].name, headers[i].name_len,
							headers[i].value,
							headers[i].value_len < 0 ? 0 : headers[i].value_len);
	for (;;)
	{
		/* on success the message owns hdrs; on failure they stay ours */
		err = rd_kafka_producev(p->rk,
								RD_KAFKA_V_RKT(rkt),
								RD_KAFKA_V_PARTITION(partition),
								RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
								RD_KAFKA_V_KEY((void *) key, key_len < 0 ? 0 : (size_t) key_len),
								RD_KAFKA_V_VALUE((void *) value,
												 value_len < 0 ? 0 : (size_t) value_len),
								RD_KAFKA_V_HEADERS(hdrs),
								RD_KAFKA_V_OPAQUE((void *) (uintptr_t) opaque),
								RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		/* Back-pressure: the caller stops reading the slot meanwhile. */
		rd_kafka_poll(p->rk, 100);
		if (wait_cb)
			wait_cb(wait_arg);
		if ((stop && *stop) || p->failed)
		{
			rd_kafka_headers_destroy(hdrs);
			snprintf(errstr, errstr_size, "interrupted");
			return false;
		}
	}
	if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
	{
		char		what[400];

		rd_kafka_headers_destroy(hdrs);
		producer_describe_event(rd_kafka_topic_name(rkt), key,
								key_len < 0 ? 0 : (size_t) key_len, value,
								value_len < 0 ? 0 : (size_t) value_len, what, sizeof(what));
		snprintf(errstr, errstr_size, "an %s is larger than kafka.message.max.bytes", what);
		return false;
	}
	if (err)
	{
		rd_kafka_headers_destroy(hdrs);
		snprintf(errstr, errstr_size, "could not produce to %s [%d]: %s",
				 rd_kafka_topic_name(rkt), partition, rd_kafka_err2str(err));
		return false;
	}
	p->produced++;
	p->in_flight++;
	return true;
}

const char *
producer_failure(Producer *p)
{
	int64_t		until = clock_monotonic_ms() + 1000;

	/*
	 * A fatal error comes before the delivery reports of the batch that
	 * caused it; those name the message (a too large one, say).
	 */
	while (p->fatal && !p->too_large && p->in_flight > 0 &&
		   clock_monotonic_ms() < until)
		rd_kafka_poll(p->rk, 10);
	p->fatal = false;
	return p->failure;
}

bool
producer_drain(Producer *p, int timeout_ms, ProducerWaitCb wait_cb,
			   void *wait_arg, volatile int *stop)
{
	int64_t		start = clock_monotonic_ms();

	while (p->in_flight > 0 && !p->failed)
	{
		/* flush, not poll: what waits for linger.ms leaves now */
		rd_kafka_flush(p->rk, 100);
		if (wait_cb)
			wait_cb(wait_arg);
		if (stop && *stop)
			return false;
		if (timeout_ms >= 0 && clock_monotonic_ms() - start > timeout_ms)
			return false;
	}
	return !p->failed;
}
