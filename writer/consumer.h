/*-------------------------------------------------------------------------
 *
 * consumer.h
 *	  The Kafka side of the Delta writer: subscription, assignment at the
 *	  offsets recorded in the Delta logs, the poll loop, offset hints.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_WRITER_CONSUMER_H
#define CDC_WRITER_CONSUMER_H

#include <signal.h>
#include <stdbool.h>

#include "config.h"
#include "deadletter.h"
#include "table.h"

typedef struct ConsumerOptions
{
	ObjStore   *store;			/* tables go to <store>/<schema>/<table> */
	const char *topics;			/* comma-separated names, or NULL */
	const char *pattern;		/* regex (anchored with ^), or NULL */
	bool		static_assign;	/* assign every partition of "topics"
								 * directly, no consumer group */
	bool		skip_gaps;		/* offset.gap=skip: go past offsets Kafka no
								 * longer holds, recording them */
	TableOptions table;
} ConsumerOptions;

typedef struct Consumer Consumer;

/*
 * Builds the librdkafka consumer from cfg's "kafka." keys and subscribes
 * (static assignment: opens the tables and seeks now).  On failure
 * *runtime_failure tells a runtime failure (a table that cannot be opened,
 * Kafka metadata) from a configuration error.
 */
extern Consumer *consumer_new(const Config *cfg, const ConsumerOptions *opts,
							  DeadLetter *dl, bool *runtime_failure,
							  char *errstr, size_t errlen);

/*
 * Consumes until *stop is set (then commits what it holds) or a fatal
 * error; *reopen (SIGHUP) reopens the log file.  Returns 0 on a clean stop, 2 on a runtime failure.
 */
extern int	consumer_run(Consumer *c, volatile sig_atomic_t *stop,
						 volatile sig_atomic_t *reopen);

extern void consumer_free(Consumer *c);

#endif							/* CDC_WRITER_CONSUMER_H */
