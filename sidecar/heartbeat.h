/*-------------------------------------------------------------------------
 * heartbeat.h
 *	  Debezium's heartbeats: a message to __debezium-heartbeat.<prefix>
 *	  every heartbeat.interval.ms, and optionally heartbeat.action.query run
 *	  in the captured database, so that a database whose captured tables are
 *	  idle still produces WAL for its slot to advance over.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_HEARTBEAT_H
#define SIDECAR_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "producer.h"

typedef struct Heartbeat
{
	int64_t		interval_ms;	/* 0: off */
	int64_t		last_ms;
	bool		schemas;		/* wrap key and value as the events are */
	const char *topic_prefix;	/* from cfg: topic.heartbeat.prefix */
	const char *action_query;	/* from cfg; NULL: none */
	const char *conninfo;		/* from cfg */
	rd_kafka_topic_t *rkt;		/* owned */
	PGconn	   *conn;			/* owned; for the action query, opened lazily */
	bool		action_running; /* sent, its results not yet collected */
	bool		action_skipped; /* a tick found it still running (logged) */
	char		key[512];
} Heartbeat;

extern void heartbeat_init(Heartbeat *hb, const Config *cfg, bool schemas);

/* Names the server once known (the topic prefix, else the database). */
extern void heartbeat_set_server(Heartbeat *hb, rd_kafka_t *rk,
								const char *dbname_or_prefix);

/* Sends a heartbeat when one is due; never fails the caller. */
extern void heartbeat_tick(Heartbeat *hb, Producer *p, uint64_t confirmed_lsn,
						   int64_t now_ms);

extern void heartbeat_free(Heartbeat *hb);

#endif							/* SIDECAR_HEARTBEAT_H */
