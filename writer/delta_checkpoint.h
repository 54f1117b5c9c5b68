/*-------------------------------------------------------------------------
 *
 * delta_checkpoint.h
 *	  Writing a classic (V1) Delta checkpoint: one Parquet file with one
 *	  row per action and the nested struct columns txn, add, remove,
 *	  metaData and protocol of PROTOCOL.md "Checkpoint Schema".
 *
 * Internal to delta_log.c; the caller passes the reconciled table state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_DELTA_CHECKPOINT_H
#define CDC_DELTA_CHECKPOINT_H

#include "delta_log.h"

typedef struct DeltaCheckpointInput
{
	int			min_reader;
	int			min_writer;
	const char *meta_id;
	const char *schema_string;
	int64_t		created_time;	/* ms, < 0 if unknown */
	const char *const *config_keys;
	const char *const *config_values;
	int			nconfig;
	const DeltaTxn *txns;
	int			ntxns;
	const DeltaAdd *adds;
	int			nadds;
} DeltaCheckpointInput;

/*
 * Writes the checkpoint to path (via a temporary file and rename); on
 * success *nactions is the number of rows (actions) written.
 */
extern bool delta_checkpoint_write(const char *path,
								   const DeltaCheckpointInput *in,
								   int64_t *nactions,
								   char *errstr, size_t errlen);

#endif							/* CDC_DELTA_CHECKPOINT_H */
