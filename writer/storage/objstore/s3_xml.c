/*-------------------------------------------------------------------------
 *
 * s3_xml.c
 *	  Small XML documents through expat (see s3_xml.h).
 *
 * The documents are a few kB (a listing page is at most 1000 keys), so
 * the text of the current element is collected in one growing buffer and
 * the element stack is a fixed array: S3's documents nest 3 or 4 deep,
 * and anything deeper than S3_XML_DEPTH is simply not reported.
 *
 *-------------------------------------------------------------------------
 */
#include <expat.h>
#include <stdio.h>
#include <string.h>

#include "s3_xml.h"

#define S3_XML_DEPTH 16
#define S3_XML_NAME 64

typedef struct S3XmlState
{
	S3XmlFn		fn;
	void	   *arg;
	int			depth;
	char		names[S3_XML_DEPTH][S3_XML_NAME];
	ByteBuf		text;
} S3XmlState;

/* "http://s3.amazonaws.com/doc/2006-03-01/ Key" (namespace separator ' ') */
static const char *
s3_xml_local(const char *name)
{
	const char *sp = strrchr(name, ' ');

	return sp ? sp + 1 : name;
}

static void XMLCALL
s3_xml_start(void *data, const char *name, const char **attrs)
{
	S3XmlState *st = data;

	if (st->depth < S3_XML_DEPTH)
		snprintf(st->names[st->depth], S3_XML_NAME, "%s", s3_xml_local(name));
	st->depth++;
	st->text.len = 0;
}

static void XMLCALL
s3_xml_end(void *data, const char *name)
{
	S3XmlState *st = data;

	st->depth--;
	if (st->depth < S3_XML_DEPTH)
	{
		bytebuf_putc(&st->text, '\0');
		st->fn(st->depth > 0 ? st->names[st->depth - 1] : "",
			   st->names[st->depth], (const char *) st->text.data, st->arg);
	}
	st->text.len = 0;
}

static void XMLCALL
s3_xml_chars(void *data, const char *s, int len)
{
	S3XmlState *st = data;

	bytebuf_append(&st->text, s, len);
}

bool
s3_xml_parse(const char *doc, size_t len, S3XmlFn fn, void *arg,
			 char *errstr, size_t errlen)
{
	XML_Parser p = XML_ParserCreateNS(NULL, ' ');
	S3XmlState st = {fn, arg, 0};
	bool		ok;

	if (p == NULL)
	{
		snprintf(errstr, errlen, "out of memory creating an XML parser");
		return false;
	}
	XML_SetUserData(p, &st);
	XML_SetElementHandler(p, s3_xml_start, s3_xml_end);
	XML_SetCharacterDataHandler(p, s3_xml_chars);
	ok = XML_Parse(p, doc, (int) len, 1) == XML_STATUS_OK;
	if (!ok)
		snprintf(errstr, errlen, "malformed XML (line %lu: %s)",
				 (unsigned long) XML_GetCurrentLineNumber(p),
				 XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	bytebuf_free(&st.text);
	return ok;
}

typedef struct S3XmlFind
{
	const char *name;
	char	   *out;
	size_t		outlen;
	bool		found;
} S3XmlFind;

static void
s3_xml_find_fn(const char *parent, const char *name, const char *text,
			   void *arg)
{
	S3XmlFind  *f = arg;

	if (!f->found && strcmp(name, f->name) == 0)
	{
		snprintf(f->out, f->outlen, "%s", text);
		f->found = true;
	}
}

bool
s3_xml_find(const char *doc, size_t len, const char *name, char *out,
			size_t outlen)
{
	S3XmlFind	f = {name, out, outlen, false};
	char		err[128];

	if (len == 0)
		return false;
	if (!s3_xml_parse(doc, len, s3_xml_find_fn, &f, err, sizeof(err)))
		return false;
	return f.found;
}

void
s3_xml_escape(ByteBuf *buf, const char *text)
{
	for (const char *p = text; *p; p++)
	{
		switch (*p)
		{
			case '<':
				bytebuf_puts(buf, "&lt;");
				break;
			case '>':
				bytebuf_puts(buf, "&gt;");
				break;
			case '&':
				bytebuf_puts(buf, "&amp;");
				break;
			case '"':
				bytebuf_puts(buf, "&quot;");
				break;
			default:
				bytebuf_putc(buf, (uint8_t) *p);
		}
	}
}
