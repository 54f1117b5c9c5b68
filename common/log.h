/*-------------------------------------------------------------------------
 * log.h
 *	  Logging for the daemons: one line per event on stderr (or a file that
 *	  SIGHUP reopens), levels error/warn/info/debug.
 *
 *	  Owns the line format and the log destination; does not own the
 *	  decision of what is worth logging, nor any masking of secrets (callers
 *	  pass masked text, see config_mask_value()).
 *-------------------------------------------------------------------------
 */
#ifndef CDC_LOG_H
#define CDC_LOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum LogLevel
{
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
} LogLevel;

/* Program name printed on every line; the pointer must stay valid. */
extern void log_init(const char *progname);
extern void log_set_level(LogLevel level);
extern LogLevel log_get_level(void);
extern bool log_level_parse(const char *name, LogLevel *level);

/*
 * Send lines to "path" (appending) instead of stderr; NULL goes back to
 * stderr.  log_reopen() reopens the same path, for SIGHUP after a rotation.
 */
extern bool log_open(const char *path, char *errstr, size_t errstr_size);
extern bool log_reopen(char *errstr, size_t errstr_size);
extern void log_close(void);

extern void log_msg(LogLevel level, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { \
		if (log_get_level() >= LOG_LEVEL_DEBUG) \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif							/* CDC_LOG_H */
