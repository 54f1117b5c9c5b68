/*-------------------------------------------------------------------------
 *
 * event_dump.c
 *	  Test driver for event.c: reads messages from stdin, one a line, as
 *	  KEY \x1e VALUE (kcat -K's form; an empty value is a tombstone), and
 *	  prints one JSON line per message with what the writer would store:
 *
 *	    {"result":"row","op":"c","values":[["name","type","text"],...]}
 *	    {"result":"bad","reason":"..."}      (dead-lettered)
 *	    {"result":"skip"}
 *
 *	  type is the value's kind (string, binary as hex, int, double,
 *	  decimal, date, timestamp, bool, json, null).
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytebuf.h"
#include "decimal.h"
#include "event.h"
#include "json_out.h"

static void
dump_value(ByteBuf *b, const EventValue *v)
{
	static const char *const names[] = {
		[EV_NULL] = "null",[EV_BOOL] = "bool",[EV_INT] = "int",
		[EV_DOUBLE] = "double",[EV_STRING] = "string",[EV_BINARY] = "binary",
		[EV_DECIMAL] = "decimal",[EV_DATE] = "date",
		[EV_TIMESTAMP] = "timestamp",[EV_JSON] = "json"
	};
	char		buf[128];

	bytebuf_append(b, "[", 1);
	json_out_cstring(b, v->name);
	bytebuf_append(b, ",", 1);
	json_out_cstring(b, names[v->type]);
	bytebuf_append(b, ",", 1);
	switch (v->type)
	{
		case EV_NULL:
			bytebuf_append(b, "null", 4);
			break;
		case EV_STRING:
		case EV_JSON:
			json_out_string(b, v->s, v->len);
			break;
		case EV_BINARY:
			bytebuf_append(b, "\"", 1);
			for (size_t i = 0; i < v->len; i++)
			{
				snprintf(buf, sizeof(buf), "%02x", (unsigned char) v->s[i]);
				bytebuf_append(b, buf, 2);
			}
			bytebuf_append(b, "\"", 1);
			break;
		case EV_DECIMAL:
			decimal_text(v->dec, v->scale, buf, sizeof(buf));
			json_out_cstring(b, buf);
			break;
		case EV_DOUBLE:
			snprintf(buf, sizeof(buf), "%.17g", v->d);
			json_out_cstring(b, buf);
			break;
		default:
			snprintf(buf, sizeof(buf), "%" PRId64, v->i);
			json_out_cstring(b, buf);
			break;
	}
	bytebuf_append(b, "]", 1);
}

int
main(void)
{
	EventParser *p = event_parser_new();
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;
	ByteBuf		out = {0};

	while ((n = getline(&line, &cap, stdin)) > 0)
	{
		char	   *sep;
		EventRow	row;
		char		errstr[512];
		EventResult r;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		sep = memchr(line, '\x1e', n);
		if (sep == NULL)
			sep = line - 1;		/* no key */
		r = event_parse(p, sep >= line && sep > line ? line : NULL,
						sep >= line ? (size_t) (sep - line) : 0,
						sep + 1 < line + n ? sep + 1 : NULL,
						line + n - (sep + 1), &row, errstr, sizeof(errstr));
		out.len = 0;
		if (r == EVENT_BAD)
		{
			bytebuf_append(&out, "{\"result\":\"bad\",\"reason\":", 25);
			json_out_cstring(&out, errstr);
			bytebuf_append(&out, "}", 1);
		}
		else if (r == EVENT_SKIP)
			bytebuf_append(&out, "{\"result\":\"skip\"}", 17);
		else
		{
			char		op[2] = {row.op, '\0'};

			bytebuf_append(&out, "{\"result\":\"row\",\"op\":", 21);
			json_out_cstring(&out, op);
			bytebuf_append(&out, ",\"values\":[", 11);
			for (int i = 0; i < row.nvalues; i++)
			{
				if (i > 0)
					bytebuf_append(&out, ",", 1);
				dump_value(&out, &row.values[i]);
			}
			bytebuf_append(&out, "]}", 2);
		}
		bytebuf_append(&out, "\n", 1);
		fwrite(out.data, 1, out.len, stdout);
	}
	free(line);
	bytebuf_free(&out);
	event_parser_free(p);
	return 0;
}
