/*-------------------------------------------------------------------------
 * heartbeat.c
 *	  Heartbeat messages and heartbeat.action.query.  Best effort by design:
 *	  a failed heartbeat is logged and retried at the next interval, never
 *	  an error of the stream.
 *-------------------------------------------------------------------------
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "heartbeat.h"
#include "log.h"

void
heartbeat_init(Heartbeat *hb, const Config *cfg, bool schemas)
{
	memset(hb, 0, sizeof(*hb));
	hb->interval_ms = config_get_int(cfg, "heartbeat.interval.ms");
	hb->schemas = schemas;
	hb->conninfo = config_get(cfg, "database.conninfo");
	if (config_is_set(cfg, "heartbeat.action.query"))
		hb->action_query = config_get(cfg, "heartbeat.action.query");
	hb->topic_prefix = config_get(cfg, "topic.heartbeat.prefix");
}

/*
 * The server name as the plugin makes its default topic prefix of the
 * database name: every character outside [a-zA-Z0-9._-] becomes '_', one
 * per UTF-16 unit.  That also makes it safe in the JSON key.
 */
static void
heartbeat_server_name(const char *in, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *) in;
	size_t		o = 0;

	while (*s && o + 2 < size)
	{
		unsigned char c = *s;
		int			n = 1;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			out[o++] = (char) c;
		else
		{
			/* a UTF-8 sequence's length; a stray byte counts as one */
			if (c >= 0xC0)
				n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
			for (int i = 1; i < n; i++)
				if ((s[i] & 0xC0) != 0x80)
					n = 1;
			out[o++] = '_';
			if (n == 4)
				out[o++] = '_';
		}
		s += n;
	}
	out[o] = '\0';
}

void
heartbeat_set_server(Heartbeat *hb, rd_kafka_t *rk, const char *dbname_or_prefix)
{
	char		topic[512];
	char		server[256];

	if (hb->interval_ms <= 0 || hb->rkt != NULL)
		return;
	heartbeat_server_name(dbname_or_prefix, server, sizeof(server));
	/* Debezium's ServerNameKey, with its schema when events carry one */
	if (hb->schemas)
		snprintf(hb->key, sizeof(hb->key),
				 "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
				 "\"optional\":false,\"field\":\"serverName\"}],\"optional\":false,"
				 "\"name\":\"io.debezium.connector.common.ServerNameKey\"},"
				 "\"payload\":{\"serverName\":\"%s\"}}", server);
	else
		snprintf(hb->key, sizeof(hb->key), "{\"serverName\":\"%s\"}", server);
	snprintf(topic, sizeof(topic), "%s.%s", hb->topic_prefix, server);
	hb->rkt = rd_kafka_topic_new(rk, topic, NULL);
}

static void
heartbeat_action_close(Heartbeat *hb)
{
	PQfinish(hb->conn);
	hb->conn = NULL;
	hb->action_running = false;
}

/*
 * Collects the results of the action query sent at an earlier tick, if it
 * is done; false while it still runs.  Never waits: PQconsumeInput reads
 * only what has arrived.
 */
static bool
heartbeat_action_done(Heartbeat *hb)
{
	PGresult   *res;

	if (!hb->action_running)
		return true;
	if (!PQconsumeInput(hb->conn))
	{
		log_warn("heartbeat.action.query failed: %s", PQerrorMessage(hb->conn));
		heartbeat_action_close(hb);
		return true;
	}
	if (PQisBusy(hb->conn))
		return false;
	while ((res = PQgetResult(hb->conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
			log_warn("heartbeat.action.query failed: %s", PQresultErrorMessage(res));
		PQclear(res);
	}
	hb->action_running = false;
	/* a broken connection is reopened next time */
	if (PQstatus(hb->conn) != CONNECTION_OK)
		heartbeat_action_close(hb);
	return true;
}

/*
 * Sends the action query and returns: a query that waits (for a lock, say)
 * must not hold up the stream and its status updates.  Its results are
 * collected at a later tick, and while it runs no other is sent.
 */
static void
heartbeat_action(Heartbeat *hb)
{
	const char *keys[] = {"dbname", "fallback_application_name", NULL};
	const char *vals[] = {hb->conninfo, "cdc_kafka_sidecar heartbeat", NULL};

	if (!heartbeat_action_done(hb))
	{
		if (!hb->action_skipped)
			log_warn("heartbeat.action.query: the previous one still runs; "
					 "skipping until it is done");
		hb->action_skipped = true;
		return;
	}
	hb->action_skipped = false;
	if (hb->conn == NULL)
	{
		hb->conn = PQconnectdbParams(keys, vals, 1);
		if (PQstatus(hb->conn) != CONNECTION_OK)
		{
			log_warn("heartbeat.action.query: could not connect: %s",
					 PQerrorMessage(hb->conn));
			heartbeat_action_close(hb);
			return;
		}
	}
	if (!PQsendQuery(hb->conn, hb->action_query))
	{
		log_warn("heartbeat.action.query failed: %s", PQerrorMessage(hb->conn));
		heartbeat_action_close(hb);
		return;
	}
	hb->action_running = true;
}

void
heartbeat_tick(Heartbeat *hb, Producer *p, uint64_t confirmed_lsn, int64_t now_ms)
{
	char		value[320];
	char		errstr[512];
	Position	pos = {confirmed_lsn, 0, 0};
	long long	ts_ms;
	volatile sig_atomic_t give_up = 1;

	if (hb->interval_ms <= 0 || hb->rkt == NULL || now_ms - hb->last_ms < hb->interval_ms)
		return;
	hb->last_ms = now_ms;
	ts_ms = (long long) clock_wall_ms();
	if (hb->schemas)
		snprintf(value, sizeof(value),
				 "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\","
				 "\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
				 "\"name\":\"io.debezium.connector.common.Heartbeat\"},"
				 "\"payload\":{\"ts_ms\":%lld}}", ts_ms);
	else
		snprintf(value, sizeof(value), "{\"ts_ms\":%lld}", ts_ms);
	/* a full queue skips this heartbeat rather than wait for room */
	if (!producer_send(p, hb->rkt, RD_KAFKA_PARTITION_UA, hb->key, (int32_t) strlen(hb->key),
					   value, (int32_t) strlen(value), NULL, 0, &pos, PRODUCER_HEARTBEAT,
					   NULL, NULL, &give_up, errstr, sizeof(errstr)))
		log_warn("heartbeat: %s", strcmp(errstr, "interrupted") == 0 ?
				 "skipped: the producer queue is full" : errstr);
	if (hb->action_query)
		heartbeat_action(hb);
}

void
heartbeat_free(Heartbeat *hb)
{
	if (hb->rkt)
		rd_kafka_topic_destroy(hb->rkt);
	if (hb->conn)
		PQfinish(hb->conn);
	memset(hb, 0, sizeof(*hb));
}
