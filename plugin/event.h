/*-------------------------------------------------------------------------
 * event.h
 *	  Debezium change events: the key and the envelope (before, after,
 *	  source, op, ts_ms, transaction), with or without the schema block.
 *
 * This is the only code that formats an event: the decoding callbacks
 * (cdc_kafka.c) and the snapshot function (snapshot.c) both call it, so a
 * streamed change and a snapshot read of the same row look the same.
 * Everything is appended to a caller's StringInfo; nothing is kept.
 *-------------------------------------------------------------------------
 */
#ifndef CDC_KAFKA_EVENT_H
#define CDC_KAFKA_EVENT_H

#include "access/htup.h"
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include "options.h"
#include "relcache.h"

/* A tuple taken apart once, for the key and the value alike. */
typedef struct CdcRow
{
	Datum	   *values;			/* by attribute of the changed relation */
	bool	   *nulls;
	/*
	 * Only the replica identity columns are set (the old tuple of a delete
	 * or key change under REPLICA IDENTITY DEFAULT/INDEX); Debezium fills
	 * the other required columns with their type's zero value.
	 */
	bool		identity_only;
} CdcRow;

/* Where an event comes from: Debezium's "source" block. */
typedef struct CdcSource
{
	const char *snapshot;		/* "false", "true" or "last" */
	TimestampTz commit_time;	/* becomes source.ts_ms */
	/*
	 * First element of source.sequence: as Debezium's lsn_commit, the end of
	 * the last transaction the stream delivered before this event's
	 * (Invalid = null: none yet in this session, or a snapshot read).
	 */
	XLogRecPtr	last_commit_lsn;
	XLogRecPtr	lsn;			/* the change's own LSN; Invalid = null */
	TransactionId xid;			/* Invalid = null */
} CdcSource;

/* Debezium's "transaction" block, when transaction metadata is on. */
typedef struct CdcTxnBlock
{
	TransactionId xid;
	XLogRecPtr	lsn;			/* id is "xid:lsn" of the event, as Debezium's */
	int64		total_order;
	int64		collection_order;
} CdcTxnBlock;

extern void event_init(const CdcOptions *opts);
extern void event_deform(CdcRow *row, HeapTuple tuple, TupleDesc desc,
						 bool identity_only);
extern bool event_keys_equal(const CdcRelation *rel, const CdcRow *a,
							 const CdcRow *b);

extern void event_append_key(StringInfo buf, const CdcRelation *rel,
							 const CdcRow *row);
/*
 * The key's payload alone, {"id":1}: what Kafka Connect's header converter
 * writes for Debezium's __debezium.newkey/oldkey headers.
 */
extern void event_append_key_payload(StringInfo buf, const CdcRelation *rel,
									 const CdcRow *row);
/*
 * Under REPLICA IDENTITY FULL the old image holds the TOASTed values an
 * update's new tuple lacks (unchanged, not in the WAL): Debezium then uses
 * them instead of its placeholder.  Copies them into row.
 */
extern void event_fill_unchanged_toast(const CdcRelation *rel, CdcRow *row,
									   const CdcRow *old);
extern void event_append_change(StringInfo buf, const CdcRelation *rel,
								char op, const CdcRow *before,
								const CdcRow *after, const CdcSource *src,
								const CdcTxnBlock *txn);
extern void event_append_message_key(StringInfo buf, const char *prefix);
extern void event_append_message(StringInfo buf, const char *prefix,
								 const char *content, Size content_size,
								 const CdcSource *src);
/*
 * Transaction metadata.  The id is "xid:id_lsn", id_lsn being the
 * transaction's first LSN for BEGIN and its commit's end for END, as
 * Debezium's ids are.
 */
extern void event_append_txn_key(StringInfo buf, TransactionId xid,
								 XLogRecPtr id_lsn);
/* BEGIN when collections is NULL; END lists "schema.table":count pairs */
extern void event_append_txn_status(StringInfo buf, TransactionId xid,
									XLogRecPtr id_lsn,
									TimestampTz commit_time,
									int64 event_count,
									const char *collections_json);
/*
 * Schema blocks of a table's key and envelope, from the JSON of its
 * fields (comma-separated field schemas); palloc'd, built once per table.
 */
extern char *event_key_schema(const char *topic, const char *fields);
extern char *event_value_schema(const char *topic, const char *fields);
extern char *event_txn_topic(void);
extern char *event_message_topic(void);

#endif							/* CDC_KAFKA_EVENT_H */
