/*-------------------------------------------------------------------------
 *
 * daemon.h
 *	  The scaffold both daemons share: the command-line flags every daemon
 *	  takes, logging set-up, signals and exit codes.  Each daemon adds its
 *	  own flags (each one a configuration key too) and its run loop.
 *
 * Shared flags: -c FILE (key=value lines), -X KEY=VALUE, -X dump, -L FILE
 * (log.file), -v (more logging, repeatable), -V (version), -h (help).
 * Precedence is the configuration's: defaults < -c FILE < flags, whatever
 * the order on the command line.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_DAEMON_H
#define CDC_DAEMON_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* The project's version, printed by -V of every program. */
#define DAEMON_VERSION "1.0"

/* Exit codes, the same for every daemon. */
#define DAEMON_EXIT_OK 0		/* done, or stopped by SIGTERM/SIGINT */
#define DAEMON_EXIT_CONFIG 1	/* usage or configuration error */
#define DAEMON_EXIT_RUNTIME 2	/* failure while running */

typedef struct DaemonSpec
{
	const char *name;			/* program name, for messages */
	const char *help;			/* --help text before the common options
								 * (what it does, usage, its own options) */
	const char *short_opts;		/* its own getopt letters, e.g. "b:t:" */
	const struct option *long_opts; /* its own long options, {NULL} ended */
	/* one of its own flags: false + errstr when the value is bad */
	bool		(*flag) (Config *cfg, int c, const char *value, void *arg,
						 char *errstr, size_t errlen);
	void	   *arg;			/* passed to flag: the daemon's own state */
} DaemonSpec;

/*
 * Parses argv into cfg and sets up logging (log.level raised by each -v,
 * log.file).  Returns -1 when the daemon should run, else the exit code
 * to return at once: after -h, -V or -X dump (0), or after an error it
 * has logged (DAEMON_EXIT_CONFIG).
 */
extern int	daemon_parse_args(const DaemonSpec *spec, Config *cfg, int argc,
							  char **argv);

/*
 * SIGTERM and SIGINT set *stop, SIGHUP sets *reopen (the log file is
 * reopened by the run loop), SIGPIPE is ignored.  The flags must outlive
 * the process's run.
 */
extern void daemon_signals(volatile sig_atomic_t *stop,
						   volatile sig_atomic_t *reopen);

#endif							/* CDC_DAEMON_H */
