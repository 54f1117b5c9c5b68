/*-------------------------------------------------------------------------
 * log.c
 *	  One line per event: "<UTC time> <program> <LEVEL>: <message>".
 *
 *	  The logger is process-wide state by nature (every module logs, and
 *	  librdkafka's log callback has no useful opaque), so it lives in one
 *	  file-scope struct here and nowhere else.  librdkafka calls its log
 *	  callback from its own threads, so the stream is used and replaced
 *	  (SIGHUP's reopen) under a lock.
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

typedef struct LogState
{
	const char *progname;		/* not owned */
	LogLevel	level;
	FILE	   *out;			/* NULL means stderr */
	char	   *path;			/* owned; NULL when logging to stderr */
} LogState;

static LogState log_state = {"cdc_kafka", LOG_LEVEL_INFO, NULL, NULL};
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;	/* guards out */

static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

void
log_init(const char *progname)
{
	log_state.progname = progname;
}

void
log_set_level(LogLevel level)
{
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_state.level = level;
}

LogLevel
log_get_level(void)
{
	return log_state.level;
}

bool
log_level_parse(const char *name, LogLevel *level)
{
	for (int i = 0; i <= LOG_LEVEL_DEBUG; i++)
	{
		if (strcasecmp(name, log_level_names[i]) == 0)
		{
			*level = (LogLevel) i;
			return true;
		}
	}
	return false;
}

static bool
log_open_path(const char *path, char *errstr, size_t errstr_size)
{
	FILE	   *f = fopen(path, "a");

	if (f == NULL)
	{
		snprintf(errstr, errstr_size, "could not open log file \"%s\": %s",
				 path, strerror(errno));
		return false;
	}
	/* Line buffered: a line is visible as soon as it is written. */
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&log_lock);
	if (log_state.out != NULL)
		fclose(log_state.out);
	log_state.out = f;
	pthread_mutex_unlock(&log_lock);
	return true;
}

bool
log_open(const char *path, char *errstr, size_t errstr_size)
{
	char	   *copy;

	if (path == NULL || path[0] == '\0')
	{
		log_close();
		return true;
	}
	copy = strdup(path);
	if (copy == NULL)
	{
		snprintf(errstr, errstr_size, "out of memory");
		return false;
	}
	if (!log_open_path(copy, errstr, errstr_size))
	{
		free(copy);
		return false;
	}
	free(log_state.path);
	log_state.path = copy;
	return true;
}

bool
log_reopen(char *errstr, size_t errstr_size)
{
	if (log_state.path == NULL)
		return true;
	/* On failure the old stream stays open, so lines still go somewhere. */
	return log_open_path(log_state.path, errstr, errstr_size);
}

void
log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_state.out != NULL)
		fclose(log_state.out);
	log_state.out = NULL;
	pthread_mutex_unlock(&log_lock);
	free(log_state.path);
	log_state.path = NULL;
}

void
log_msg(LogLevel level, const char *fmt,...)
{
	FILE	   *out;
	struct timeval tv;
	struct tm	tm;
	char		ts[32];
	char		line[4096];
	va_list		ap;
	size_t		len;

	if (level > log_state.level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One event, one line: fold embedded newlines (server messages). */
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' '))
		line[--len] = '\0';
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';

	/* A single fprintf call keeps the line whole. */
	pthread_mutex_lock(&log_lock);
	out = log_state.out ? log_state.out : stderr;
	fprintf(out, "%s.%03dZ %s %s: %s\n", ts, (int) (tv.tv_usec / 1000),
			log_state.progname, log_level_names[level], line);
	if (out == stderr)
		fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
