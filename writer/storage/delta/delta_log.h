/*-------------------------------------------------------------------------
 *
 * delta_log.h
 *	  Reading and appending a Delta table's _delta_log (reader version 1,
 *	  writer version 2; reader 2, writer 5 with column mapping): replay,
 *	  txn versions, atomic commits, checkpoints.
 *
 * delta_open starts from the newest complete classic checkpoint (its own,
 * written every checkpoint_interval commits, or another engine's) and
 * replays the JSON commits after it; an unreadable checkpoint gives way to
 * the next older complete one, and without a usable checkpoint it replays
 * every JSON commit from version 0, which then must all exist (another
 * engine's log cleanup deletes those a checkpoint covers).
 *
 * A commit is the object store's put-if-absent of its version (link()
 * locally, PUT If-None-Match: * on S3), which fails if the version exists:
 * a version is never overwritten, and losing the race returns
 * DELTA_CONFLICT (the caller stops, or re-opens the table and re-checks
 * its txn versions).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_DELTA_LOG_H
#define CDC_DELTA_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "objstore.h"
#include "parquet.h"

typedef struct DeltaColumn
{
	char	   *name;
	char	   *type;			/* Delta type: string, long, integer, short,
								 * byte, boolean, double, float, date,
								 * timestamp, binary, decimal(p,s) */
	bool		nullable;
	/* column mapping (PROTOCOL.md "Column Mapping"): both set, or neither */
	char	   *physical_name;	/* the name in data files and stats */
	int64_t		id;				/* delta.columnMapping.id, 0 = none */
} DeltaColumn;

typedef struct DeltaAdd
{
	const char *path;			/* relative to the table dir, no escaping
								 * needed: [A-Za-z0-9._/-] only */
	int64_t		size;			/* bytes */
	int64_t		modification_time;	/* ms since epoch */
	const char *stats_json;		/* parquet_stats_json() or NULL */
} DeltaAdd;

typedef struct DeltaTxn
{
	const char *app_id;
	int64_t		version;		/* last Kafka offset included */
	int64_t		last_updated;	/* ms since epoch */
} DeltaTxn;

typedef struct DeltaCommit
{
	/* new schema, or NULL/0 to keep the table's (required on version 0) */
	const DeltaColumn *schema;
	int			nschema;
	const DeltaAdd *adds;
	int			nadds;
	const DeltaTxn *txns;
	int			ntxns;
	const char *operation;		/* commitInfo operation, NULL = "STREAMING
								 * UPDATE" */
	const char *operation_parameters_json;	/* JSON object text or NULL */
	int64_t		timestamp;		/* ms; 0 = now */
} DeltaCommit;

typedef enum DeltaResult
{
	DELTA_OK = 0,
	DELTA_ERROR,				/* I/O or format error, errstr says which */
	DELTA_CONFLICT				/* the version exists: another writer */
} DeltaResult;

typedef struct DeltaTable DeltaTable;

/*
 * Opens the table whose files are under key ("" or "schema/table") in
 * store (borrowed: it must outlive the table) and replays the log.  A
 * missing log is an empty table (version -1).
 */
extern DeltaTable *delta_open_store(ObjStore *store, const char *key,
									char *errstr, size_t errlen);

/*
 * The same for a table given by its own location (a path, file:// or
 * s3:// URL; S3 settings from the environment), as the tools open one.
 */
extern DeltaTable *delta_open(const char *table_url, char *errstr,
							  size_t errlen);

/*
 * The table as of version (>= 0), for reading only: a commit after it
 * would conflict.  Fails if the log never reached that version, or the
 * commits and checkpoints to rebuild it are gone.
 */
extern DeltaTable *delta_open_version(const char *table_url, int64_t version,
									  char *errstr, size_t errlen);

/*
 * How delta_open replayed the log (which checkpoint it started from, or why
 * it could not use one), or NULL for a new table; *is_warning is set when
 * a checkpoint was unreadable and an older checkpoint or JSON replay from
 * version 0 stood in.
 */
extern const char *delta_open_notice(const DeltaTable *t, bool *is_warning);

/*
 * Writes the replayed state (protocol, metaData, txns, live files) as
 * sorted text, so tests can compare two ways of opening a table.
 */
extern void delta_write_state(const DeltaTable *t, FILE *out);

/* Reads commits that appeared since the last replay (other writers). */
extern bool delta_refresh(DeltaTable *t, char *errstr, size_t errlen);

extern void delta_close(DeltaTable *t);

/* Latest committed version, -1 for an empty table. */
extern int64_t delta_version(const DeltaTable *t);

/* Latest txn version of app_id, -1 if none. */
extern int64_t delta_txn_version(const DeltaTable *t, const char *app_id);

/* Current schema: columns (owned by t, valid until the next commit or
 * refresh); NULL/0 for an empty table. */
extern const DeltaColumn *delta_schema(const DeltaTable *t, int *ncols);

/* Live files (adds without a later remove), in no particular order. */
extern int	delta_num_files(const DeltaTable *t);
extern const char *delta_file_path(const DeltaTable *t, int i);

/*
 * Writes version delta_version(t) + 1.  Version 0 gets protocol + metaData;
 * later versions get metaData only when c->schema differs from the
 * current one, with every other field of the table's metaData kept (see
 * DeltaMetadataAction) and each existing column's field metadata.  A schema whose columns carry mapping ids turns column
 * mapping on (mode name): the commit then also upgrades the protocol to
 * reader 2 / writer 5 and records delta.columnMapping.maxColumnId; once on,
 * every column must carry an id and a physical name.  After the commit,
 * writes the version's checksum (<version>.crc) when the state is known
 * exactly, and a checkpoint when the new version is a multiple of the
 * checkpoint interval (a failing .crc or checkpoint is only a warning in
 * errstr; the commit stands and DELTA_OK is returned).
 */
extern DeltaResult delta_commit(DeltaTable *t, const DeltaCommit *c,
								char *errstr, size_t errlen);

/*
 * Sets a metaData configuration entry of a table not yet created (version
 * -1), written with its first commit; false if the table exists.
 */
extern bool delta_set_config(DeltaTable *t, const char *key, const char *value);

/*
 * true when the table maps columns (mode name or id on reader 2 / writer
 * 5): its data files and stats use each column's physical_name.
 */
extern bool delta_column_mapping(const DeltaTable *t);

/* true for column mapping mode id: readers find columns by Parquet field_id. */
extern bool delta_column_mapping_by_id(const DeltaTable *t);

/* delta.columnMapping.maxColumnId (0 without mapping). */
extern int64_t delta_max_column_id(const DeltaTable *t);

/*
 * true when a column name is one Delta allows only with column mapping:
 * a space, one of ,;{}()= or a control character, or longer than
 * DELTA_MAX_PLAIN_NAME bytes.
 */
#define DELTA_MAX_PLAIN_NAME 255
extern bool delta_name_needs_mapping(const char *name);

/*
 * true when two column names are one to Delta: Spark compares them without
 * regard to case ("Mixed" and "mixed", "Äpfel" and "äpfel"), so a table
 * cannot have both, with column mapping or without.  Names are UTF-8.
 */
extern bool delta_names_clash(const char *a, const char *b);

/*
 * A new column's physical name, "col-<uuid>" (buf >= 48 bytes): a UUID
 * derived from its name (version 8 over SHA-256), so that two writers
 * adding one column at once name it alike; a random one for a NULL name.
 */
extern void delta_new_physical_name(const char *name, char *buf);

/*
 * false (errstr says why) when the table's protocol asks for what this
 * writer does not write: writer versions 3 and 4 with a CHECK constraint,
 * a generated column or the change data feed on.  delta_commit refuses
 * such a table too.
 */
extern bool delta_writable(const DeltaTable *t, char *errstr, size_t errlen);

/* Default 10; 0 disables checkpoints. */
extern void delta_set_checkpoint_interval(DeltaTable *t, int interval);

/* Writes <version>.checkpoint.parquet and _last_checkpoint now. */
extern bool delta_checkpoint(DeltaTable *t, char *errstr, size_t errlen);

/* Delta type name for a Parquet column (buf >= 32 bytes). */
extern const char *delta_type_for(const PqColumnDef *col, char *buf,
								  size_t buflen);

/* Parses a Delta primitive type name; false if unsupported. */
extern bool delta_type_parse(const char *type, PqType *pqtype,
							 int *precision, int *scale);

#endif							/* CDC_DELTA_LOG_H */
