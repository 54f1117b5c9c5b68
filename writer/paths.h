/*-------------------------------------------------------------------------
 *
 * paths.h
 *	  Turning table, schema and topic names into directory names that can
 *	  never leave the configured root.
 *
 * Names are escaped, not rejected: every byte outside [A-Za-z0-9_] becomes
 * "-xx" (lower-case hex), so the result uses only [A-Za-z0-9_-], is never
 * "." or "..", never contains '/', and distinct names stay distinct.  A name
 * too long for one directory is shortened to a prefix, "--" and a hash of
 * the whole name (paths.c says why that stays distinct too).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PATHS_H
#define CDC_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* Longest escaped component we produce (below NAME_MAX). */
#define PATHS_MAX_COMPONENT 240

/*
 * Escapes (and if need be shortens) name into out, which has more than
 * PATHS_MAX_COMPONENT bytes; false + errstr if name is empty.
 */
extern bool paths_sanitize(const char *name, char *out, size_t outlen,
						   char *errstr, size_t errlen);

/* true if paths_sanitize shortened the name that gave component. */
extern bool paths_is_shortened(const char *component);

/*
 * "<sanitized schema>/<sanitized table>": the table's key in the object
 * store of the root (which keeps it inside the root, symlinks included).
 */
extern bool paths_table_key(const char *schema, const char *table,
							char *out, size_t outlen,
							char *errstr, size_t errlen);

#endif							/* CDC_PATHS_H */
