/*-------------------------------------------------------------------------
 * snapshot.h
 *	  The initial snapshot: every row of every published table, read in the
 *	  snapshot exported by the slot's creation, through the extension's
 *	  cdc_kafka.snapshot_events(), so that snapshot and stream meet without
 *	  gap or overlap.  Knows nothing of Kafka: rows go to a callback.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_SNAPSHOT_H
#define SIDECAR_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One row event; the strings are valid during the call only. */
typedef bool (*SnapshotEmit) (void *arg, const char *topic,
							  const char *key, int32_t key_len,
							  const char *value, int32_t value_len,
							  char *errstr, size_t errstr_size);

typedef struct SnapshotRequest
{
	const char *conninfo;		/* not owned */
	const char *snapshot_name;	/* from CREATE_REPLICATION_SLOT */
	uint64_t	snapshot_lsn;	/* its consistent point: the events' source.lsn */
	const char *const *opt_names;	/* plugin options, as streamed */
	const char *const *opt_values;
	int			noptions;
	SnapshotEmit emit;
	void	   *emit_arg;
	volatile int *stop;			/* set by a signal: abandon */
} SnapshotRequest;

/*
 * *rows counts the events emitted.  source.snapshot is Debezium 2.7's:
 * "first" on the first event, "last" on the last, each table's first and
 * last rows "first_in_data_collection" and "last_in_data_collection"
 * (the plugin's marks), "true" on the others.
 */
extern bool snapshot_run(const SnapshotRequest *req, uint64_t *rows,
						 char *errstr, size_t errstr_size);

#endif							/* SIDECAR_SNAPSHOT_H */
