/*-------------------------------------------------------------------------
 * run.h
 *	  The sidecar's session: slot setup, snapshot, the streaming loop that
 *	  ties repl.c, producer.c, position.c and lsn_track.c together, the
 *	  reconnect policy, heartbeats, stats and shutdown.
 *-------------------------------------------------------------------------
 */
#ifndef SIDECAR_RUN_H
#define SIDECAR_RUN_H

#include <signal.h>

#include "config.h"

typedef struct SidecarSignals
{
	volatile sig_atomic_t stop;	/* SIGTERM/SIGINT: flush, confirm, exit 0 */
	volatile sig_atomic_t reopen_log;	/* SIGHUP */
} SidecarSignals;

typedef enum SidecarAction
{
	SIDECAR_STREAM,				/* the normal run */
	SIDECAR_DROP_SLOT			/* --drop-slot */
} SidecarAction;

/* Returns the exit code: 0 done, 1 configuration, 2 runtime failure. */
extern int	sidecar_run(const Config *cfg, SidecarAction action, SidecarSignals *sig);

#endif							/* SIDECAR_RUN_H */
