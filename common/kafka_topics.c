/*-------------------------------------------------------------------------
 * kafka_topics.c
 *	  CreateTopics through librdkafka's admin API, then a wait for the new
 *	  topic's leaders: a broker acknowledges the creation once its
 *	  controller has it, a moment before every broker serves it.
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <unistd.h>

#include "clock.h"
#include "kafka_topics.h"

/* Does the metadata show the topic with a leader for every partition? */
static bool
kafka_topic_ready(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int timeout_ms)
{
	const struct rd_kafka_metadata *md = NULL;
	bool		ready;

	if (rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return false;
	ready = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
		md->topics[0].partition_cnt > 0;
	for (int i = 0; ready && i < md->topics[0].partition_cnt; i++)
		ready = md->topics[0].partitions[i].leader >= 0;
	rd_kafka_metadata_destroy(md);
	return ready;
}

static bool
kafka_topic_request(rd_kafka_t *rk, const char *topic, const KafkaTopicSpec *spec,
					int timeout_ms, bool *created, char *errstr, size_t errstr_size)
{
	char		err[512];
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *opts = NULL;
	rd_kafka_queue_t *q = NULL;
	rd_kafka_event_t *ev = NULL;
	bool		ok = false;

	nt = rd_kafka_NewTopic_new(topic, spec->partitions, spec->replication_factor,
							   err, sizeof(err));
	if (nt == NULL)
	{
		snprintf(errstr, errstr_size, "topic \"%s\": %s", topic, err);
		return false;
	}
	for (const KafkaTopicConfig *c = spec->configs; c && c->name; c++)
	{
		if (rd_kafka_NewTopic_set_config(nt, c->name, c->value) != RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			snprintf(errstr, errstr_size, "topic \"%s\": invalid setting \"%s\"",
					 topic, c->name);
			goto done;
		}
	}
	opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	if (rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, err, sizeof(err)) ||
		rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, err, sizeof(err)))
	{
		snprintf(errstr, errstr_size, "topic \"%s\": %s", topic, err);
		goto done;
	}
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
	ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
	if (ev == NULL)
		snprintf(errstr, errstr_size, "topic \"%s\": no answer to CreateTopics", topic);
	else if (rd_kafka_event_error(ev))
		snprintf(errstr, errstr_size, "topic \"%s\": CreateTopics: %s", topic,
				 rd_kafka_event_error_string(ev));
	else
	{
		size_t		n = 0;
		const rd_kafka_topic_result_t **res =
			rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
		rd_kafka_resp_err_t terr = n == 1 ? rd_kafka_topic_result_error(res[0]) :
			RD_KAFKA_RESP_ERR__BAD_MSG;

		if (terr == RD_KAFKA_RESP_ERR_NO_ERROR ||
			terr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
		{
			*created = terr == RD_KAFKA_RESP_ERR_NO_ERROR;
			ok = true;
		}
		else
			snprintf(errstr, errstr_size, "could not create topic \"%s\": %s", topic,
					 n == 1 && rd_kafka_topic_result_error_string(res[0]) ?
					 rd_kafka_topic_result_error_string(res[0]) :
					 rd_kafka_err2str(terr));
	}

done:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (q)
		rd_kafka_queue_destroy(q);
	if (opts)
		rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_NewTopic_destroy(nt);
	return ok;
}

bool
kafka_topic_create(rd_kafka_t *rk, const char *topic, const KafkaTopicSpec *spec,
				   int timeout_ms, bool *created, char *errstr, size_t errstr_size)
{
	rd_kafka_topic_t *rkt;
	int64_t		deadline = clock_monotonic_ms() + timeout_ms;
	bool		ready = false;

	*created = false;
	if (!kafka_topic_request(rk, topic, spec, timeout_ms, created, errstr, errstr_size))
		return false;
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rkt == NULL)
	{
		snprintf(errstr, errstr_size, "topic \"%s\": %s", topic,
				 rd_kafka_err2str(rd_kafka_last_error()));
		return false;
	}
	while (!(ready = kafka_topic_ready(rk, rkt, 1000)) &&
		   clock_monotonic_ms() < deadline)
		usleep(20000);
	rd_kafka_topic_destroy(rkt);
	if (!ready)
		snprintf(errstr, errstr_size,
				 "topic \"%s\" was created but has no leader for every partition after %d ms",
				 topic, timeout_ms);
	return ready;
}
