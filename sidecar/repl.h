/*-------------------------------------------------------------------------
 * repl.h
 *	  The replication connection, as pg_recvlogical drives it: connect with
 *	  replication=database, create/drop the slot, START_REPLICATION, read
 *	  XLogData, answer keepalives, send standby status updates.  Owns the
 *	  PGconn; knows nothing of Kafka.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_REPL_H
#define SIDECAR_REPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

typedef struct Repl
{
	PGconn	   *conn;			/* owned */
	char	   *copybuf;		/* owned (PQfreemem); last message read */
	char	   *dbname;			/* owned; from IDENTIFY_SYSTEM */
	uint64_t	server_wal_end; /* walEnd of the last keepalive */
	uint64_t	received;		/* start LSN of the last XLogData */
	bool		reply_requested;	/* the last keepalive asked for a reply */
	bool		keepalive_seen; /* a keepalive arrived since last asked */
	bool		retryable;		/* the last error may pass on a retry */
} Repl;

/* repl_read() results */
#define REPL_DATA		1
#define REPL_NONE		0		/* timeout, keepalive or wake-up */
#define REPL_ERROR		(-1)	/* errstr set; see retryable */

/*
 * Connect; replication = true for the streaming connection (also runs
 * IDENTIFY_SYSTEM), false for the snapshot's ordinary one.
 */
extern bool repl_connect(Repl *r, const char *conninfo, bool replication,
						 char *errstr, size_t errstr_size);
extern void repl_close(Repl *r);

/*
 * CREATE_REPLICATION_SLOT ... LOGICAL cdc_kafka; *existed when it was
 * already there (then nothing else happens).  With export_snapshot, the
 * snapshot's name goes to snapshot (which must hold 64 bytes).  A temporary
 * slot lives as long as this connection.
 */
extern bool repl_create_slot(Repl *r, const char *slot, bool temporary,
							 bool export_snapshot, char *snapshot, bool *existed,
							 uint64_t *consistent_lsn, char *errstr, size_t errstr_size);
extern bool repl_drop_slot(Repl *r, const char *slot, char *errstr, size_t errstr_size);

/*
 * Can the server keep a slot across a failover (PostgreSQL 17 and later,
 * not a standby)?  If not, *why says why.
 */
extern bool repl_failover_supported(Repl *r, const char **why);

/* ALTER_REPLICATION_SLOT slot (FAILOVER true): standbys that sync slots keep it */
extern bool repl_set_slot_failover(Repl *r, const char *slot,
								   char *errstr, size_t errstr_size);

/* options: names[i] = values[i] (value NULL for a bare flag) */
extern bool repl_start(Repl *r, const char *slot, uint64_t startpos,
					   const char *const *names, const char *const *values, int noptions,
					   char *errstr, size_t errstr_size);

/*
 * Read the next message, waiting up to timeout_ms or until wake_fd is
 * readable.  REPL_DATA: *data, *len is an XLogData payload, valid until the
 * next call.
 */
extern int	repl_read(Repl *r, int timeout_ms, int wake_fd, const char **data,
					  size_t *len, char *errstr, size_t errstr_size);

extern bool repl_send_feedback(Repl *r, uint64_t flush_lsn, bool reply_requested,
							   char *errstr, size_t errstr_size);

/* "X/X" parsing, as pg_lsn input */
extern bool repl_parse_lsn(const char *text, uint64_t *lsn);

#endif							/* SIDECAR_REPL_H */
