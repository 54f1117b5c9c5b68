/*-------------------------------------------------------------------------
 *
 * table.h
 *	  One Delta table being written: its columns, the Parquet file being
 *	  filled, the Kafka offsets that file covers, and when to commit it.
 *
 * A table is fed by one or more topic-partitions.  Each commit adds the
 * file written since the last commit and, in the same log entry, a txn
 * action per topic-partition (appId "<topic>-<partition>", version = the
 * last offset consumed), which is where a restart resumes.  The Kafka side
 * (assignment, seeking, offset hints) is consumer.c's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_WRITER_TABLE_H
#define CDC_WRITER_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "deadletter.h"
#include "event.h"
#include "objstore.h"
#include "parquet.h"

typedef struct TableOptions
{
	int64_t		flush_rows;		/* commit at this many rows */
	int64_t		flush_bytes;	/* ... or this many (estimated) file bytes */
	int64_t		flush_interval_ms;	/* ... or when the oldest uncommitted
									 * message is this old */
	int			checkpoint_interval;	/* Delta checkpoint every N commits */
	PqOptions	parquet;
	DeadLetter *deadletter;		/* fsynced before every commit, which holds
								 * the offsets of what it was given */
} TableOptions;

typedef enum TableResult
{
	TABLE_OK,
	TABLE_BAD_ROW,				/* the row does not fit: dead-letter it */
	TABLE_FATAL					/* I/O error or Delta conflict: stop */
} TableResult;

typedef struct Table Table;

/*
 * Opens the table for topic "<prefix>.<schema>.<table>" at key
 * "<schema>/<table>" of store (borrowed: it must outlive the table).
 */
extern Table *table_open(ObjStore *store, const char *topic,
						 const TableOptions *opts, char *errstr, size_t errlen);
extern void table_close(Table *t);

extern const char *table_dir(const Table *t);

/* Splits a topic name into schema and table (last two dot-separated parts). */
extern void table_names_from_topic(const char *topic, char *schema,
								   size_t schemalen, char *table,
								   size_t tablelen);

/*
 * Offset to resume topic-partition from: the txn version in the log + 1;
 * 0 when the log has none but has one of a lower partition of the topic
 * (the partition was added since: its offsets from 0 belong to the table);
 * else -1.  With refresh, re-reads the log first
 * (another writer may have committed while the partition was not ours);
 * the caller asks for it once per table per assignment, as each re-read
 * costs a request on object storage.
 */
extern int64_t table_resume_offset(Table *t, bool refresh, const char *topic,
								   int32_t partition, char *errstr,
								   size_t errlen);

/*
 * Appends one change-log row for the message at topic [partition] @offset.
 * TABLE_BAD_ROW leaves the table as it was (the caller dead-letters the
 * message and calls table_consumed).
 */
extern TableResult table_append(Table *t, const char *topic, int32_t partition,
								int64_t offset, int64_t kafka_ts_ms,
								const EventRow *row, char *errstr,
								size_t errlen);

/* Records a message that produced no row (tombstone, dead letter). */
extern void table_consumed(Table *t, const char *topic, int32_t partition,
						   int64_t offset);

/*
 * Records that offsets from..to of topic [partition] are gone from Kafka
 * and were skipped (offset.gap=skip): consumed up to `to`, and the range
 * named in the next commit's commitInfo (operationParameters.skippedOffsets).
 */
extern void table_skipped(Table *t, const char *topic, int32_t partition,
						  int64_t from, int64_t to);

/* Last offset handled (appended or consumed) for topic [partition], or -1. */
extern int64_t table_position(Table *t, const char *topic, int32_t partition);

/* true when a flush threshold is reached (now_ms: monotonic clock). */
extern bool table_flush_due(const Table *t, int64_t now_ms);

/* true when something is held that a commit would make durable. */
extern bool table_has_pending(const Table *t);

/*
 * Commits the open file and the consumed offsets as one Delta version.
 * Nothing held: nothing done.
 */
extern TableResult table_flush(Table *t, char *errstr, size_t errlen);

/* Forgets topic [partition] (revoked); call after a flush. */
extern void table_forget(Table *t, const char *topic, int32_t partition);

/* Iterates the committed positions: *iter starts at 0. */
extern bool table_committed_next(const Table *t, int *iter, const char **topic,
								 int32_t *partition, int64_t *offset);

#endif							/* CDC_WRITER_TABLE_H */
