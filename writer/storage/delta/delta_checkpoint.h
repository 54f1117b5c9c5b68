/*-------------------------------------------------------------------------
 *
 * delta_checkpoint.h
 *	  Writing and reading classic (V1) Delta checkpoints: Parquet files
 *	  with one row per action and the nested struct columns txn, add,
 *	  remove, metaData and protocol of PROTOCOL.md "Checkpoint Schema".
 *
 * Internal to delta_log.c.  Writing takes the reconciled table state.
 * Reading (delta_checkpoint_read.c) does no reconciliation of its own: it
 * hands each action to delta_log.c's apply functions through a
 * DeltaCheckpointSink, the same ones JSON replay uses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_DELTA_CHECKPOINT_H
#define CDC_DELTA_CHECKPOINT_H

#include <limits.h>

#include "bytebuf.h"
#include "delta_log.h"

/*
 * A metaData action, every field PROTOCOL.md gives it; pointers are
 * borrowed.  The table state keeps each field as read, so that a metaData
 * the writer writes (a new schema, a checkpoint, a version checksum) keeps
 * what another engine set: a name, a description (Spark's table comment),
 * format options, table properties.  partitionColumns is only counted: the
 * writer refuses partitioned tables.
 */
typedef struct DeltaMetadataAction
{
	const char *id;
	const char *name;			/* NULL if absent or null */
	const char *description;	/* NULL if absent or null */
	const char *format_provider;	/* NULL if absent: "parquet" */
	const char *const *format_option_keys;
	const char *const *format_option_values;
	int			nformat_options;
	const char *schema_string;
	int			npartition_columns;
	const char *const *config_keys;
	const char *const *config_values;
	int			nconfig;
	int64_t		created_time;	/* ms, DELTA_DEFAULT_CREATED_TIME if absent */
} DeltaMetadataAction;

typedef struct DeltaCheckpointInput
{
	int			min_reader;
	int			min_writer;
	DeltaMetadataAction meta;	/* created_time < 0: none written */
	const DeltaTxn *txns;
	int			ntxns;
	const DeltaAdd *adds;
	int			nadds;
} DeltaCheckpointInput;

/*
 * Appends the checkpoint's Parquet file to *file; *nactions is the number
 * of rows (actions) in it.  delta_log.c writes it out as it writes commits.
 */
extern void delta_checkpoint_build(const DeltaCheckpointInput *in,
								   ByteBuf *file, int64_t *nactions);

/*
 * What a field missing from an action means, for JSON commits and
 * checkpoint rows alike.
 */
#define DELTA_DEFAULT_MIN_READER	1
#define DELTA_DEFAULT_MIN_WRITER	2
#define DELTA_DEFAULT_TXN_VERSION	(-1)
#define DELTA_DEFAULT_CREATED_TIME	(-1)

/*
 * A protocol version as read (JSON or Parquet, 64-bit) before it is kept
 * as an int: outside 1..INT_MAX it is corrupt, and truncating it could
 * make a large one look supported.
 */
static inline bool
delta_protocol_version_ok(int64_t v)
{
	return v >= 1 && v <= INT_MAX;
}

/* The top-level columns of a checkpoint (one per action kind). */
#define DELTA_CP_TXN		"txn"
#define DELTA_CP_ADD		"add"
#define DELTA_CP_REMOVE		"remove"
#define DELTA_CP_METADATA	"metaData"
#define DELTA_CP_PROTOCOL	"protocol"



/*
 * Receives a checkpoint's actions; strings are valid only during the call.
 * remove rows are tombstones (files that are no longer live) and are not
 * passed on.
 */
typedef struct DeltaCheckpointSink
{
	void	   *arg;
	bool		(*protocol) (void *arg, int min_reader, int min_writer,
							 const char *what, char *errstr, size_t errlen);
	bool		(*metadata) (void *arg, const DeltaMetadataAction *md,
							 char *errstr, size_t errlen);
	void		(*txn) (void *arg, const char *app_id, int64_t version,
						int64_t last_updated);
	void		(*add) (void *arg, const char *path, int64_t size,
						int64_t modification_time, const char *stats);
} DeltaCheckpointSink;

/*
 * Reads the checkpoint parts[0..nparts) (Parquet, any common writer) into
 * sink.  False with errstr naming the file and the reason when a part
 * cannot be read or lacks protocol or metaData; the sink may have received
 * some actions by then.
 */
extern bool delta_checkpoint_read(const char *const *parts, int nparts,
								  const DeltaCheckpointSink *sink,
								  char *errstr, size_t errlen);

#endif							/* CDC_DELTA_CHECKPOINT_H */
