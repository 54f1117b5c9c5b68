/*-------------------------------------------------------------------------
 *
 * fuzz_event.c
 *	  libFuzzer target: the Delta writer's message decoding (event.c and
 *	  decimal.c).  The input is KEY \x1e VALUE (no \x1e: a value without a
 *	  key), as writer/test/event_dump reads it.  Every value of a decoded
 *	  row is touched, and a string must be valid UTF-8: the decoder's
 *	  promise, checked here, so breaking it is a crash too.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "event.h"

/* RFC 3629, written again on purpose: an independent check of event.c's */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;)
	{
		unsigned	c = s[i],
					cp,
					len;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
		if (len == 0 || i + len > n)
			return 0;
		cp = c & (0x7F >> len);
		for (unsigned k = 1; k < len; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
			(len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	EventParser *p = event_parser_new();
	const uint8_t *sep = memchr(data, 0x1e, size);
	const char *key = NULL,
			   *value = (const char *) data;
	size_t		keylen = 0,
				vallen = size;
	EventRow	row;
	char		errstr[512];
	char		text[128];

	if (sep)
	{
		key = (const char *) data;
		keylen = sep - data;
		value = (const char *) sep + 1;
		vallen = size - keylen - 1;
	}
	if (event_parse(p, key, keylen, value, vallen, &row, errstr,
					sizeof(errstr)) == EVENT_ROW)
	{
		for (int i = 0; i < row.nvalues; i++)
		{
			const EventValue *v = &row.values[i];

			if (!valid_utf8((const unsigned char *) v->name, strlen(v->name)))
				abort();
			if ((v->type == EV_STRING || v->type == EV_JSON) &&
				!valid_utf8((const unsigned char *) v->s, v->len))
				abort();
			if (v->type == EV_DECIMAL)
				decimal_text(v->dec, v->scale, text, sizeof(text));
		}
	}
	event_parser_free(p);
	return 0;
}
