/*-------------------------------------------------------------------------
 *
 * json_out.c
 *	  JSON string escaping (see json_out.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include "json_out.h"

void
json_out_string(ByteBuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	bytebuf_reserve(b, len + 2);
	bytebuf_putc(b, '"');
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		switch (c)
		{
			case '"':
				bytebuf_append(b, "\\\"", 2);
				break;
			case '\\':
				bytebuf_append(b, "\\\\", 2);
				break;
			case '\n':
				bytebuf_append(b, "\\n", 2);
				break;
			case '\r':
				bytebuf_append(b, "\\r", 2);
				break;
			case '\t':
				bytebuf_append(b, "\\t", 2);
				break;
			default:
				if (c < 0x20)
				{
					char		esc[6] = {'\\', 'u', '0', '0',
					hex[c >> 4], hex[c & 15]};

					bytebuf_append(b, esc, 6);
				}
				else
					bytebuf_putc(b, c);
		}
	}
	bytebuf_putc(b, '"');
}

void
json_out_cstring(ByteBuf *b, const char *s)
{
	json_out_string(b, s, strlen(s));
}
