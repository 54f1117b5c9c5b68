/*-------------------------------------------------------------------------
 *
 * json_out.h
 *	  Appending JSON string literals to a ByteBuf (Delta stats and log
 *	  lines are built by hand, so every name and value goes through here).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_JSON_OUT_H
#define CDC_JSON_OUT_H

#include "bytebuf.h"

/* Appends "..." with JSON escapes; bytes >= 0x80 are copied (UTF-8). */
extern void json_out_string(ByteBuf *b, const char *s, size_t len);
extern void json_out_cstring(ByteBuf *b, const char *s);

#endif							/* CDC_JSON_OUT_H */
