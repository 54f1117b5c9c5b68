/*-------------------------------------------------------------------------
 * jsonbuf.h
 *	  JSON text helpers shared by every part of the plugin: string escaping
 *	  and base64, appended straight into a StringInfo.
 *-------------------------------------------------------------------------
 */
#ifndef CDC_KAFKA_JSONBUF_H
#define CDC_KAFKA_JSONBUF_H

#include "lib/stringinfo.h"

/* Append s[0..len) as a quoted JSON string; invalid bytes never escape it. */
extern void jsonbuf_append_string(StringInfo buf, const char *s, int len);
extern void jsonbuf_append_cstring(StringInfo buf, const char *s);
/* Append the valid JSON document json[0..len), in UTF-8 as the strings are. */
extern void jsonbuf_append_json(StringInfo buf, const char *json, int len);
/* Append s as a quoted JSON string holding base64 of data[0..len). */
extern void jsonbuf_append_base64(StringInfo buf, const char *data, int len);
/* A palloc'd quoted JSON string literal for s (for caching). */
extern char *jsonbuf_quote(const char *s);

#endif							/* CDC_KAFKA_JSONBUF_H */
