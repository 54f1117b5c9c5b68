/*-------------------------------------------------------------------------
 *
 * paths.h
 *	  Turning table, schema and topic names into directory names that can
 *	  never leave the configured root.
 *
 * Names are escaped, not rejected: every byte outside [A-Za-z0-9_] becomes
 * "-xx" (lower-case hex), so the result uses only [A-Za-z0-9_-], is never
 * "." or "..", never contains '/', and distinct names stay distinct.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PATHS_H
#define CDC_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* Longest escaped component we produce (below NAME_MAX). */
#define PATHS_MAX_COMPONENT 240

/* Escapes name into out; false + errstr if empty or too long. */
extern bool paths_sanitize(const char *name, char *out, size_t outlen,
						   char *errstr, size_t errlen);

/*
 * <root>/<sanitized schema>/<sanitized table>; creates the directories
 * (mkdir -p) and verifies with realpath() that the result is inside root
 * (so a symlink planted under root cannot redirect it either).  out gets
 * the canonical path.
 */
extern bool paths_table_dir(const char *root, const char *schema,
							const char *table, char *out, size_t outlen,
							char *errstr, size_t errlen);

/* true if realpath(path) is root itself or below realpath(root). */
extern bool paths_inside(const char *root, const char *path);

#endif							/* CDC_PATHS_H */
