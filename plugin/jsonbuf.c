/*-------------------------------------------------------------------------
 * jsonbuf.c
 *	  JSON string escaping and base64, appended straight into a StringInfo.
 *
 * Every string of every event passes through jsonbuf_append_string, so it
 * copies runs of bytes that need no escaping with one memcpy and looks up
 * each byte in a 256-entry table.  Escapes follow what Jackson (and so
 * Kafka's JsonConverter) writes: \" \\ \b \f \n \r \t, \u00XX for the other
 * control characters, everything else (including non-ASCII UTF-8 and DEL)
 * verbatim.  Only UTF8 databases pass non-ASCII bytes through: for others
 * see jsonbuf_append_string.
 *
 * This file does not know about types or events; typemap.c and event.c do.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "mb/pg_wchar.h"

#include "jsonbuf.h"

/*
 * For each byte: 0 if it is copied as is, else the character after the
 * backslash ('u' meaning \u00XX).
 */
static const char jsonbuf_escape[256] = {
	/* 0x00 .. 0x1f: control characters */
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	/* 0x20 .. 0x2f */
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x30 .. 0x5b */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x5c: backslash */
	'\\',
	/* 0x5d .. 0xff are all zero */
};

/* For a JSON document copied as it is (only its encoding changes). */
static const char jsonbuf_verbatim[256] = {0};

static const char jsonbuf_hex[] = "0123456789abcdef";

/* Append a \u00XX escape of byte c. */
static inline void
jsonbuf_append_u00(StringInfo buf, unsigned char c)
{
	char		esc[6];

	esc[0] = '\\';
	esc[1] = 'u';
	esc[2] = '0';
	esc[3] = '0';
	esc[4] = jsonbuf_hex[c >> 4];
	esc[5] = jsonbuf_hex[c & 0x0f];
	appendBinaryStringInfo(buf, esc, 6);
}

/*
 * Escape s[0..len) without the quotes, ASCII as escape[] says.  With
 * check_utf8 set, every non-ASCII sequence is validated: a valid UTF-8
 * character is copied, any other byte becomes \u00XX (its Latin-1 reading).
 * That is for SQL_ASCII databases, whose text is usually UTF-8 but may be
 * any bytes, which would make the document invalid UTF-8.
 */
static void
jsonbuf_escape_body(StringInfo buf, const char *s, int len, bool check_utf8,
					const char *escape)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		const unsigned char *run = p;
		char		e;

		if (check_utf8)
		{
			while (p < end && escape[*p] == 0 && *p < 0x80)
				p++;
		}
		else
		{
			while (p < end && escape[*p] == 0)
				p++;
		}
		if (p > run)
			appendBinaryStringInfo(buf, (const char *) run, p - run);
		if (p >= end)
			break;

		if (*p >= 0x80)
		{
			int			n = pg_utf_mblen(p);

			if (n <= end - p && pg_utf8_islegal(p, n))
			{
				appendBinaryStringInfo(buf, (const char *) p, n);
				p += n;
			}
			else
				jsonbuf_append_u00(buf, *p++);
			continue;
		}

		e = escape[*p];
		if (e == 'u')
			jsonbuf_append_u00(buf, *p);
		else
		{
			char		esc[2];

			esc[0] = '\\';
			esc[1] = e;
			appendBinaryStringInfo(buf, esc, 2);
		}
		p++;
	}
}

/*
 * Escape valid UTF-8 s[0..len) with every non-ASCII character as \uXXXX
 * (a surrogate pair above U+FFFF), so the result is plain ASCII.
 */
static void
jsonbuf_escape_body_ascii(StringInfo buf, const char *s, int len,
						  const char *escape)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + len;

	while (p < end)
	{
		const unsigned char *run = p;
		pg_wchar	c;
		int			n;

		while (p < end && *p < 0x80)
			p++;
		if (p > run)
			jsonbuf_escape_body(buf, (const char *) run, p - run, false, escape);
		if (p >= end)
			break;

		n = pg_utf_mblen(p);
		if (n > end - p)
			n = end - p;
		c = utf8_to_unicode(p);
		if (c > 0xffff)
		{
			appendStringInfo(buf, "\\u%04x\\u%04x",
							 0xd800 + ((c - 0x10000) >> 10),
							 0xdc00 + ((c - 0x10000) & 0x3ff));
		}
		else
			appendStringInfo(buf, "\\u%04x", c);
		p += n;
	}
}

/* s[0..len) in UTF-8 whatever the server encoding, ASCII as escape[] says. */
static void
jsonbuf_append_utf8(StringInfo buf, const char *s, int len, const char *escape)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_UTF8)
		jsonbuf_escape_body(buf, s, len, false, escape);
	else if (encoding == PG_SQL_ASCII)
		jsonbuf_escape_body(buf, s, len, true, escape);
	else
	{
		/*
		 * Other server encodings: the document must be valid whether it is
		 * read as UTF-8 (Kafka consumers, via the walsender) or in the
		 * server encoding (pg_logical_slot_get_changes' text), so convert to
		 * UTF-8, which every server encoding maps into, and write non-ASCII
		 * characters as \u escapes.
		 */
		char	   *conv = pg_server_to_any(s, len, PG_UTF8);

		/* unconverted (an empty string), conv is s: not NUL-terminated */
		jsonbuf_escape_body_ascii(buf, conv, conv == s ? len : strlen(conv),
								  escape);
		if (conv != s)
			pfree(conv);
	}
}

void
jsonbuf_append_string(StringInfo buf, const char *s, int len)
{
	/* Reserve room for the common case: nothing to escape. */
	enlargeStringInfo(buf, len + 2);
	buf->data[buf->len++] = '"';
	jsonbuf_append_utf8(buf, s, len, jsonbuf_escape);
	appendStringInfoCharMacro(buf, '"');
}

/*
 * Outside its strings a JSON document is ASCII, so converting it as a
 * string's body, with nothing escaped but non-ASCII characters, leaves it
 * the same document, in UTF-8.
 */
void
jsonbuf_append_json(StringInfo buf, const char *json, int len)
{
	jsonbuf_append_utf8(buf, json, len, jsonbuf_verbatim);
}

void
jsonbuf_append_cstring(StringInfo buf, const char *s)
{
	jsonbuf_append_string(buf, s, strlen(s));
}

void
jsonbuf_append_base64(StringInfo buf, const char *data, int len)
{
	int			enclen = pg_b64_enc_len(len);
	int			written;

	enlargeStringInfo(buf, enclen + 2);
	buf->data[buf->len++] = '"';
	if (len > 0)
	{
#if PG_VERSION_NUM >= 180000
		/* bytes are uint8 in the base64 API since PostgreSQL 18 */
		written = pg_b64_encode((const uint8 *) data, len,
								buf->data + buf->len, enclen);
#else
		written = pg_b64_encode(data, len, buf->data + buf->len, enclen);
#endif
		if (written < 0)
			elog(ERROR, "could not encode %d bytes as base64", len);
		buf->len += written;
	}
	buf->data[buf->len++] = '"';
	buf->data[buf->len] = '\0';
}

char *
jsonbuf_quote(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	jsonbuf_append_cstring(&buf, s);
	return buf.data;
}
