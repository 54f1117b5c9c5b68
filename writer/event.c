/*-------------------------------------------------------------------------
 *
 * event.c
 *	  Debezium JSON change event -> change-log row values.
 *
 * With schemas on, a message is {"schema": S, "payload": P} and S is the
 * same 1-2 KB for every message of a table version.  S is recognised by a
 * memcmp against the previous message's schema (else found by a cheap
 * scanner and looked up in a cache keyed by its hash), parsed with json-c
 * once per version, and P of inserts, updates and snapshot reads is read
 * by an allocation-free scanner (scan_fast), as are deletes carrying
 * "before".  Everything else (other key orders, schemaless envelopes,
 * deletes known by their key only, and every malformed message)
 * goes through json-c: slower, same values, and the error messages.
 *
 * Mapping of Kafka Connect / Debezium types to Delta types (doc/writer.md):
 * int8/int16 -> short, int32 -> integer, int64 -> long, float -> float,
 * double -> double, boolean, string, bytes -> binary, Decimal -> decimal(p,s)
 * (string when p > 38), VariableScaleDecimal -> string, Date -> date,
 * Timestamp/MicroTimestamp/NanoTimestamp/ZonedTimestamp -> timestamp,
 * arrays, maps and structs -> string holding their JSON text.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bytebuf.h"
#include "decimal.h"
#include "event.h"

/* How a field's payload value is read. */
typedef enum EventKind
{
	EK_BOOL,
	EK_SHORT,
	EK_INT,
	EK_LONG,
	EK_FLOAT,
	EK_DOUBLE,
	EK_STRING,
	EK_BYTES,
	EK_DECIMAL,					/* base64 unscaled, precision <= 38 */
	EK_DECIMAL_TEXT,			/* base64 unscaled, precision > 38: text */
	EK_VARDECIMAL,				/* {"scale":s,"value":base64}: text */
	EK_DATE,
	EK_TS_MS,
	EK_TS_US,
	EK_TS_NS,
	EK_TS_ZONED,				/* ISO-8601 string */
	EK_JSON_TEXT				/* array, map, struct: JSON text */
} EventKind;

typedef struct EventField
{
	char	   *name;
	EventKind	kind;
	PqColumnDef want;
	char		want_type[32];
} EventField;

typedef struct EventSchema
{
	uint64_t	hash;
	size_t		len;
	char	   *bytes;			/* the schema block, for an exact compare */
	int			nfields;
	EventField *fields;
} EventSchema;

/*
 * Decoded bytes and texts of one event, in blocks that never move (values
 * point into them); all but the first are freed at the next event.
 */
typedef struct ScratchBlock
{
	struct ScratchBlock *next;
	size_t		cap;
	size_t		used;
	char		data[];
} ScratchBlock;

#define SCRATCH_BLOCK 65536

/* Distinct schema versions alive at once; the cache is cleared when full. */
#define EVENT_SCHEMA_SLOTS 256

struct EventParser
{
	struct json_tokener *tok;
	struct json_object *payload;	/* current message, owned */
	struct json_object *keyobj; /* current key, owned (deletes only) */
	EventSchema *slots[EVENT_SCHEMA_SLOTS];
	int			nslots_used;
	EventSchema *last;			/* schema of the previous message */
	int64_t		schemas_parsed;
	int64_t		slow_parsed;	/* messages read through json-c */
	EventValue *values;
	int			values_cap;
	ScratchBlock *scratch;		/* decoded bytes and texts of this event */
	const char *scan_error;		/* why the last token was refused */
};

static const char *const empty_schema_text = "";

/* ---- small helpers ---------------------------------------------------- */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/*
 * Returns the end of the JSON value starting at p, or NULL if it is not
 * well formed enough to delimit (json-c validates it later if it matters).
 */
static const char *
skip_value(const char *p, const char *end)
{
	int			depth = 0;

	if (p >= end)
		return NULL;
	if (*p != '{' && *p != '[' && *p != '"')
	{
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
			   *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
			p++;
		return p;
	}
	while (p < end)
	{
		char		c = *p++;

		if (c == '"')
		{
			while (p < end && *p != '"')
			{
				if (*p == '\\')
					p++;
				p++;
			}
			if (p >= end)
				return NULL;
			p++;
			if (depth == 0)
				return p;
		}
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
		{
			if (--depth == 0)
				return p;
		}
	}
	return NULL;
}

/* Matches a literal (such as "\"payload\"") at p; returns the end or NULL. */
static const char *
match(const char *p, const char *end, const char *lit)
{
	size_t		n = strlen(lit);

	if ((size_t) (end - p) < n || memcmp(p, lit, n) != 0)
		return NULL;
	return p + n;
}

/* Checks UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = s[i];

		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
		{
			if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
				return false;
			i += 2;
		}
		else if (c >= 0xE0 && c <= 0xEF)
		{
			if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
				(c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F))
				return false;
			i += 3;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
				(s[i + 3] & 0xC0) != 0x80 || (c == 0xF0 && s[i + 1] < 0x90) ||
				(c == 0xF4 && s[i + 1] > 0x8F))
				return false;
			i += 4;
		}
		else
			return false;
	}
	return true;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
read_hex4(const char *s, const char *end, unsigned *out)
{
	unsigned	v = 0;

	if (end - s < 4)
		return false;
	for (int i = 0; i < 4; i++)
	{
		int			h = hexval(s[i]);

		if (h < 0)
			return false;
		v = (v << 4) | (unsigned) h;
	}
	*out = v;
	return true;
}

/*
 * JSON text is UTF-8 (RFC 8259), and a \u escape of a UTF-16 surrogate
 * must be half of a pair.  json-c lets both through (invalid bytes as they
 * are, a lone surrogate as U+FFFD), so the json-c path checks the whole
 * text first: a message the scanner refuses for its strings is refused by
 * json-c's path as well, never stored changed.  With names, a member name
 * with a \u0000 escape is refused too: json-c's keys are C strings, which
 * would cut it short (a column "a\u0000b" stored as "a"), and no
 * PostgreSQL column has one.  Returns what is wrong, or NULL.
 */
static const char *
json_text_problem(const char *s, size_t len, bool names)
{
	bool		in_string = false,
				nul = false;

	if (!utf8_valid((const unsigned char *) s, len))
		return "not valid JSON: a string is not valid UTF-8 or has a lone "
			"surrogate escape";
	for (size_t i = 0; i < len; i++)
	{
		unsigned	cp,
					lo;

		if (s[i] == '"')
		{
			const char *next = in_string && nul && names ?
				skip_ws(s + i + 1, s + len) : NULL;

			if (next && next < s + len && *next == ':')
				return "a member name holds a NUL character (\\u0000)";
			in_string = !in_string;
			nul = false;
			continue;
		}
		if (s[i] != '\\')
			continue;
		if (i + 1 < len && s[i + 1] == 'u' && read_hex4(s + i + 2, s + len, &cp))
		{
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return "not valid JSON: a string is not valid UTF-8 or has a "
					"lone surrogate escape";
			if (cp >= 0xD800 && cp <= 0xDBFF)
			{
				if (i + 12 > len || s[i + 6] != '\\' || s[i + 7] != 'u' ||
					!read_hex4(s + i + 8, s + len, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return "not valid JSON: a string is not valid UTF-8 or "
						"has a lone surrogate escape";
				i += 6;
			}
			nul |= cp == 0;
			i += 4;
		}
		i++;					/* the escaped character */
	}
	return NULL;
}

/* 64-bit hash, a word at a time: only needs to spread schema versions. */
static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t	h = 0x9E3779B97F4A7C15ULL ^ len;
	size_t		i = 0;

	for (; i + 8 <= len; i += 8)
	{
		uint64_t	w;

		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	return h ? h : 1;
}

static char *
scratch_alloc(EventParser *p, size_t n)
{
	ScratchBlock *b = p->scratch;

	if (b == NULL || b->cap - b->used < n)
	{
		size_t		cap = n > SCRATCH_BLOCK ? n : SCRATCH_BLOCK;

		b = bytebuf_xmalloc(sizeof(ScratchBlock) + cap);
		b->cap = cap;
		b->used = 0;
		b->next = p->scratch;
		p->scratch = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

/* Forgets the previous event's bytes, keeping the first block. */
static void
scratch_reset(EventParser *p)
{
	while (p->scratch && p->scratch->next)
	{
		ScratchBlock *b = p->scratch;

		p->scratch = b->next;
		free(b);
	}
	if (p->scratch)
		p->scratch->used = 0;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes base64 (standard or URL-safe, padding optional); -1 if bad. */
static long
base64_decode(const char *in, size_t len, unsigned char *out)
{
	unsigned int acc = 0;
	int			bits = 0;
	long		n = 0;
	size_t		i;

	while (len > 0 && in[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++)
	{
		int			v = b64val((unsigned char) in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[n++] = (unsigned char) (acc >> bits);
		}
	}
	return n;
}

static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

/*
 * Parses an ISO-8601 timestamp ("2018-06-20T13:13:16.945104Z", also with a
 * space, a +hh:mm offset, or no zone meaning UTC) into UTC microseconds.
 */
static bool
parse_iso_timestamp(const char *s, size_t len, int64_t *out)
{
	const char *p = s,
			   *end = s + len;
	int64_t		year = 0;
	int			mon,
				day,
				hh = 0,
				mi = 0,
				ss = 0,
				ndig = 0;
	int64_t		frac = 0;
	int			fdig = 0;
	int			sign = 1;
	int64_t		offset_s = 0;

	if (len == 8 && memcmp(s, "infinity", 8) == 0)
	{
		*out = INT64_MAX;
		return true;
	}
	if (len == 9 && memcmp(s, "-infinity", 9) == 0)
	{
		*out = -INT64_MAX;
		return true;
	}
	if (p < end && (*p == '-' || *p == '+'))
		sign = (*p++ == '-') ? -1 : 1;
	while (p < end && isdigit((unsigned char) *p))
	{
		year = year * 10 + (*p++ - '0');
		ndig++;
	}
	if (ndig < 4 || end - p < 6 || p[0] != '-' || p[3] != '-' ||
		!isdigit((unsigned char) p[1]) || !isdigit((unsigned char) p[2]) ||
		!isdigit((unsigned char) p[4]) || !isdigit((unsigned char) p[5]))
		return false;
	mon = (p[1] - '0') * 10 + (p[2] - '0');
	day = (p[4] - '0') * 10 + (p[5] - '0');
	p += 6;
	if (p < end && (*p == 'T' || *p == ' '))
	{
		if (end - p < 9 || p[3] != ':' || p[6] != ':')
			return false;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mi = (p[4] - '0') * 10 + (p[5] - '0');
		ss = (p[7] - '0') * 10 + (p[8] - '0');
		p += 9;
		if (p < end && *p == '.')
		{
			p++;
			while (p < end && isdigit((unsigned char) *p))
			{
				if (fdig < 6)
				{
					frac = frac * 10 + (*p - '0');
					fdig++;
				}
				p++;
			}
			while (fdig < 6)
			{
				frac *= 10;
				fdig++;
			}
		}
	}
	if (p < end && *p == 'Z')
		p++;
	else if (p < end && (*p == '+' || *p == '-'))
	{
		int			osign = *p == '-' ? -1 : 1;
		int			oh,
					om = 0;

		p++;
		if (end - p < 2)
			return false;
		oh = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (p < end && *p == ':')
			p++;
		if (end - p >= 2)
		{
			om = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
		offset_s = osign * (oh * 3600 + om * 60);
	}
	if (p != end || mon < 1 || mon > 12 || day < 1 || day > 31 ||
		hh > 23 || mi > 59 || ss > 60)
		return false;
	*out = ((days_from_civil(sign * year, mon, day) * 86400 +
			 hh * 3600 + mi * 60 + ss - offset_s) * 1000000) + frac;
	return true;
}

/* ---- schema blocks ---------------------------------------------------- */

static const char *
get_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
		!json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void
field_set(EventField *f, EventKind kind, PqType type, const char *delta_type)
{
	f->kind = kind;
	f->want.type = type;
	f->want.nullable = true;
	snprintf(f->want_type, sizeof(f->want_type), "%s", delta_type);
}

/* Chooses how to read and store one field from its Connect schema. */
static void
field_from_schema(EventField *f, struct json_object *fs)
{
	const char *type = get_string(fs, "type");
	const char *name = get_string(fs, "name");

	if (type == NULL)
		type = "string";
	if (name)
	{
		if (strcmp(name, "io.debezium.time.Date") == 0 ||
			strcmp(name, "org.apache.kafka.connect.data.Date") == 0)
			return field_set(f, EK_DATE, PQ_DATE, "date");
		if (strcmp(name, "io.debezium.time.Timestamp") == 0 ||
			strcmp(name, "org.apache.kafka.connect.data.Timestamp") == 0)
			return field_set(f, EK_TS_MS, PQ_TIMESTAMP_US, "timestamp");
		if (strcmp(name, "io.debezium.time.MicroTimestamp") == 0)
			return field_set(f, EK_TS_US, PQ_TIMESTAMP_US, "timestamp");
		if (strcmp(name, "io.debezium.time.NanoTimestamp") == 0)
			return field_set(f, EK_TS_NS, PQ_TIMESTAMP_US, "timestamp");
		if (strcmp(name, "io.debezium.time.ZonedTimestamp") == 0)
			return field_set(f, EK_TS_ZONED, PQ_TIMESTAMP_US, "timestamp");
		if (strcmp(name, "io.debezium.data.VariableScaleDecimal") == 0)
			return field_set(f, EK_VARDECIMAL, PQ_STRING, "string");
		if (strcmp(name, "org.apache.kafka.connect.data.Decimal") == 0)
		{
			struct json_object *params;
			const char *sc = NULL,
					   *pr = NULL;
			int			scale,
						precision;

			if (json_object_object_get_ex(fs, "parameters", &params))
			{
				sc = get_string(params, "scale");
				pr = get_string(params, "connect.decimal.precision");
			}
			scale = sc ? atoi(sc) : 0;
			/* no precision (money, numeric without typmod): widest we have */
			precision = pr ? atoi(pr) : 38;
			if (scale < 0 || precision < 1 || precision > 38 || scale > precision)
			{
				field_set(f, EK_DECIMAL_TEXT, PQ_STRING, "string");
				f->want.scale = scale;
				return;
			}
			field_set(f, EK_DECIMAL, PQ_DECIMAL, "");
			f->want.precision = precision;
			f->want.scale = scale;
			snprintf(f->want_type, sizeof(f->want_type), "decimal(%d,%d)",
					 precision, scale);
			return;
		}
	}
	if (strcmp(type, "boolean") == 0)
		return field_set(f, EK_BOOL, PQ_BOOLEAN, "boolean");
	if (strcmp(type, "int8") == 0 || strcmp(type, "int16") == 0)
		return field_set(f, EK_SHORT, PQ_INT16, "short");
	if (strcmp(type, "int32") == 0)
		return field_set(f, EK_INT, PQ_INT32, "integer");
	if (strcmp(type, "int64") == 0)
		return field_set(f, EK_LONG, PQ_INT64, "long");
	if (strcmp(type, "float") == 0 || strcmp(type, "float32") == 0)
		return field_set(f, EK_FLOAT, PQ_FLOAT, "float");
	if (strcmp(type, "double") == 0 || strcmp(type, "float64") == 0)
		return field_set(f, EK_DOUBLE, PQ_DOUBLE, "double");
	if (strcmp(type, "bytes") == 0)
		return field_set(f, EK_BYTES, PQ_BINARY, "binary");
	if (strcmp(type, "string") == 0)
		return field_set(f, EK_STRING, PQ_STRING, "string");
	/* array, map, struct and anything newer: keep the JSON text */
	field_set(f, EK_JSON_TEXT, PQ_STRING, "string");
}

static void
schema_free(EventSchema *s)
{
	int			i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nfields; i++)
		free(s->fields[i].name);
	free(s->fields);
	if (s->bytes != empty_schema_text)
		free(s->bytes);
	free(s);
}

/* Builds the field list of a row struct schema ({"type":"struct","fields"}). */
static bool
schema_fields(EventSchema *s, struct json_object *row, char *errstr,
			  size_t errlen)
{
	struct json_object *fields;
	size_t		n,
				i;

	if (!json_object_object_get_ex(row, "fields", &fields) ||
		!json_object_is_type(fields, json_type_array))
	{
		snprintf(errstr, errlen, "schema: row struct has no valid \"fields\"");
		return false;
	}
	n = json_object_array_length(fields);
	s->fields = bytebuf_xcalloc(n ? n : 1, sizeof(EventField));
	for (i = 0; i < n; i++)
	{
		struct json_object *fs = json_object_array_get_idx(fields, i);
		struct json_object *fv;
		const char *fname;
		EventField *f;

		if (!json_object_object_get_ex(fs, "field", &fv) ||
			!json_object_is_type(fv, json_type_string))
			continue;
		fname = json_object_get_string(fv);
		/* as PostgreSQL names a column: not empty, no NUL, UTF-8 */
		if (fname[0] == '\0' ||
			strlen(fname) != (size_t) json_object_get_string_len(fv) ||
			!utf8_valid((const unsigned char *) fname, strlen(fname)))
		{
			snprintf(errstr, errlen, "schema: a column name is empty, holds a "
					 "NUL character or is not valid UTF-8");
			return false;
		}
		f = &s->fields[s->nfields];
		f->name = bytebuf_xstrdup(fname);
		field_from_schema(f, fs);
		f->want.name = f->name;
		s->nfields++;
	}
	return true;
}

/*
 * Parses an envelope schema: the row's fields are those of the "after"
 * struct (or "before": a delete-only topic may carry just one).
 */
static EventSchema *
schema_parse(const char *text, size_t len, char *errstr, size_t errlen)
{
	struct json_object *root,
			   *fields,
			   *row = NULL;
	EventSchema *s;
	size_t		i,
				n;
	const char *why;

	if ((why = json_text_problem(text, len, true)) != NULL)
	{
		snprintf(errstr, errlen, "schema: %s", why);
		return NULL;
	}
	root = json_tokener_parse(text);
	if (root == NULL || !json_object_is_type(root, json_type_object))
	{
		snprintf(errstr, errlen, "schema is not a JSON object");
		json_object_put(root);
		return NULL;
	}
	if (json_object_object_get_ex(root, "fields", &fields) &&
		json_object_is_type(fields, json_type_array))
	{
		n = json_object_array_length(fields);
		for (i = 0; i < n; i++)
		{
			struct json_object *f = json_object_array_get_idx(fields, i);
			const char *fname = get_string(f, "field");

			if (fname && strcmp(fname, "after") == 0)
				row = f;
			else if (fname && strcmp(fname, "before") == 0 && row == NULL)
				row = f;
		}
	}
	s = bytebuf_xcalloc(1, sizeof(EventSchema));
	/* no before/after struct (truncate- or message-only): no columns */
	if (row != NULL && !schema_fields(s, row, errstr, errlen))
	{
		schema_free(s);
		json_object_put(root);
		return NULL;
	}
	json_object_put(root);
	s->len = len;
	return s;
}

static EventSchema *
schema_lookup(EventParser *p, const char *text, size_t len,
			  char *errstr, size_t errlen)
{
	uint64_t	h = hash_bytes(text, len);
	int			slot = (int) (h % EVENT_SCHEMA_SLOTS);
	int			i;
	EventSchema *s;
	char	   *copy;

	for (i = 0; i < EVENT_SCHEMA_SLOTS; i++)
	{
		int			k = (slot + i) % EVENT_SCHEMA_SLOTS;

		s = p->slots[k];
		if (s == NULL)
			break;
		if (s->hash == h && s->len == len && memcmp(s->bytes, text, len) == 0)
			return s;
	}
	/* A new version.  A full cache means schemas churn: start over. */
	if (p->nslots_used >= EVENT_SCHEMA_SLOTS / 2)
	{
		for (i = 0; i < EVENT_SCHEMA_SLOTS; i++)
		{
			schema_free(p->slots[i]);
			p->slots[i] = NULL;
		}
		p->nslots_used = 0;
		p->last = NULL;
	}
	copy = bytebuf_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	s = schema_parse(copy, len, errstr, errlen);
	if (s == NULL)
	{
		free(copy);
		return NULL;
	}
	s->bytes = copy;
	s->hash = h;
	p->schemas_parsed++;
	for (i = 0; i < EVENT_SCHEMA_SLOTS; i++)
	{
		int			k = (slot + i) % EVENT_SCHEMA_SLOTS;

		if (p->slots[k] == NULL)
		{
			p->slots[k] = s;
			p->nslots_used++;
			break;
		}
	}
	return s;
}

/* ---- values ----------------------------------------------------------- */

static const char *
json_type_label(struct json_object *v)
{
	return json_type_to_name(json_object_get_type(v));
}

static bool
read_int(struct json_object *v, int64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	*out = json_object_get_int64(v);
	return errno == 0;
}

static int64_t
mul_clamp(int64_t v, int64_t m)
{
	if (v > INT64_MAX / m)
		return INT64_MAX;
	if (v < -INT64_MAX / m)
		return -INT64_MAX;
	return v * m;
}

static void
reserve_values(EventParser *p, int n)
{
	if (n > p->values_cap)
	{
		int			cap = n < 32 ? 32 : n * 2;

		p->values = bytebuf_xrealloc(p->values, cap * sizeof(EventValue));
		p->values_cap = cap;
	}
}

/* ---- the envelope ----------------------------------------------------- */

EventParser *
event_parser_new(void)
{
	EventParser *p = calloc(1, sizeof(EventParser));

	if (p == NULL)
		return NULL;
	p->tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (p->tok == NULL)
	{
		free(p);
		return NULL;
	}
	json_tokener_set_flags(p->tok, JSON_TOKENER_VALIDATE_UTF8);
	return p;
}

void
event_parser_free(EventParser *p)
{
	int			i;

	if (p == NULL)
		return;
	json_object_put(p->payload);
	json_object_put(p->keyobj);
	json_tokener_free(p->tok);
	for (i = 0; i < EVENT_SCHEMA_SLOTS; i++)
		schema_free(p->slots[i]);
	free(p->values);
	while (p->scratch)
	{
		ScratchBlock *b = p->scratch;

		p->scratch = b->next;
		free(b);
	}
	free(p);
}

int64_t
event_schemas_parsed(const EventParser *p)
{
	return p->schemas_parsed;
}

int64_t
event_slow_parsed(const EventParser *p)
{
	return p->slow_parsed;
}

static struct json_object *
parse_json(EventParser *p, const char *s, size_t len, size_t *consumed,
		   char *errstr, size_t errlen)
{
	struct json_object *o;
	enum json_tokener_error jerr;
	const char *why;

	if ((why = json_text_problem(s, len, true)) != NULL)
	{
		snprintf(errstr, errlen, "%s", why);
		return NULL;
	}
	json_tokener_reset(p->tok);
	o = json_tokener_parse_ex(p->tok, s, (int) len);
	jerr = json_tokener_get_error(p->tok);
	if (o == NULL)
	{
		snprintf(errstr, errlen, "not valid JSON: %s",
				 jerr == json_tokener_continue ? "unexpected end of input" :
				 json_tokener_error_desc(jerr));
		return NULL;
	}
	*consumed = json_tokener_get_parse_end(p->tok);
	return o;
}

/* Whole-document path: any key order, or no schema at all. */
static struct json_object *
parse_slow(EventParser *p, const char *value, size_t vallen,
		   const EventSchema **schema, char *errstr, size_t errlen)
{
	struct json_object *doc,
			   *sch,
			   *pay;
	size_t		used;
	const char *rest;

	doc = parse_json(p, value, vallen, &used, errstr, errlen);
	if (doc == NULL)
		return NULL;
	rest = skip_ws(value + used, value + vallen);
	if (rest != value + vallen)
	{
		json_object_put(doc);
		snprintf(errstr, errlen, "not valid JSON: trailing data");
		return NULL;
	}
	if (!json_object_is_type(doc, json_type_object))
	{
		snprintf(errstr, errlen, "value is a JSON %s, not an object",
				 json_type_label(doc));
		json_object_put(doc);
		return NULL;
	}
	if (json_object_object_get_ex(doc, "schema", &sch))
	{
		const char *text;

		if (!json_object_object_get_ex(doc, "payload", &pay))
		{
			json_object_put(doc);
			snprintf(errstr, errlen, "value has a \"schema\" but no \"payload\"");
			return NULL;
		}
		if (json_object_is_type(sch, json_type_null))
			*schema = NULL;
		else
		{
			text = json_object_to_json_string_ext(sch, JSON_C_TO_STRING_PLAIN);
			*schema = schema_lookup(p, text, strlen(text), errstr, errlen);
			if (*schema == NULL)
			{
				json_object_put(doc);
				return NULL;
			}
		}
		json_object_get(pay);
		json_object_put(doc);
		return pay;
	}
	*schema = NULL;
	return doc;
}

/*
 * The head of {"schema":S,"payload":P}: where S is and where P starts.  S
 * is mostly the previous message's schema (p->last), recognised by a memcmp
 * of its bytes (a complete JSON value, so a matching prefix ends where it
 * ends) instead of scanning and hashing them; *schema is then set, else
 * NULL and S must be looked up.  false: the message has another shape.
 */
static bool
split_envelope(EventParser *p, const char *value, const char *end,
			   const char **sstart, const char **send,
			   const EventSchema **schema, const char **payload)
{
	const char *q = skip_ws(value, end);

	if (q >= end || *q != '{')
		return false;
	q = skip_ws(q + 1, end);
	if ((q = match(q, end, "\"schema\"")) == NULL)
		return false;
	q = skip_ws(q, end);
	if (q >= end || *q != ':')
		return false;
	*sstart = skip_ws(q + 1, end);
	if (p->last && (size_t) (end - *sstart) > p->last->len &&
		memcmp(*sstart, p->last->bytes, p->last->len) == 0)
	{
		*send = *sstart + p->last->len;
		*schema = p->last;
	}
	else
	{
		*schema = NULL;
		if (*sstart >= end || **sstart != '{' ||
			(*send = skip_value(*sstart, end)) == NULL)
			return false;
	}
	q = skip_ws(*send, end);
	if (q >= end || *q != ',')
		return false;
	q = skip_ws(q + 1, end);
	if ((q = match(q, end, "\"payload\"")) == NULL)
		return false;
	q = skip_ws(q, end);
	if (q >= end || *q != ':')
		return false;
	*payload = skip_ws(q + 1, end);
	return true;
}

/*
 * Fast path for {"schema":S,"payload":P}: the schema by its bytes, only P
 * through json-c.  Returns NULL with errstr empty when the shape differs.
 */
static struct json_object *
parse_fast(EventParser *p, const char *value, size_t vallen,
		   const EventSchema **schema, char *errstr, size_t errlen)
{
	const char *end = value + vallen;
	const char *q;
	const char *sstart,
			   *send;
	struct json_object *pay;
	size_t		used;

	errstr[0] = '\0';
	if (!split_envelope(p, value, end, &sstart, &send, schema, &q))
		return NULL;
	pay = parse_json(p, q, end - q, &used, errstr, errlen);
	if (pay == NULL)
		return NULL;
	q = skip_ws(q + used, end);
	if (q >= end || *q != '}' || skip_ws(q + 1, end) != end)
	{
		/* more members or garbage: let the full parser judge */
		json_object_put(pay);
		errstr[0] = '\0';
		return NULL;
	}
	if (*schema == NULL)
		*schema = schema_lookup(p, sstart, send - sstart, errstr, errlen);
	if (*schema == NULL)
	{
		json_object_put(pay);
		return NULL;
	}
	p->last = (EventSchema *) *schema;
	return pay;
}


/* ---- tokens and values ------------------------------------------------ */

/*
 * Every value is read here, from its JSON token, by decode_value: the
 * scanner below hands it the token as written in the message, the json-c
 * path (other key orders, schemaless envelopes, deletes known by their
 * key) the token json-c renders from what it parsed.  So a value means
 * the same whichever path reads it, and one check decides what is stored:
 * strings are strict UTF-8 (RFC 3629), decimals are exact.
 *
 * The common case, {"schema":S,"payload":P} with S known, is read without
 * json-c: one pass over P, values pointing into the message (or into the
 * scratch blocks when a string has escapes).  Anything unexpected makes it
 * give up, and the json-c path parses the message again and says what is
 * wrong.  Nested arrays and objects keep their JSON text as written.
 */

/*
 * A string token at *pp (on its opening quote): its text, unescaped, in
 * (*out, *len); *pp moves past the closing quote.
 */
static bool
scan_string(EventParser *p, const char **pp, const char *end,
			const char **out, size_t *len)
{
	const char *s = *pp + 1;
	const char *q = s;
	bool		escapes = false;
	char	   *dst;
	size_t		n = 0;

	p->scan_error = "a malformed string";
	while (q < end && *q != '"')
	{
		if ((unsigned char) *q < 0x20)
			return false;
		if (*q == '\\')
		{
			escapes = true;
			q++;
		}
		q++;
	}
	if (q >= end)
		return false;
	*pp = q + 1;
	p->scan_error = "a string that is not valid UTF-8";
	if (!escapes)
	{
		if (!utf8_valid((const unsigned char *) s, q - s))
			return false;
		*out = s;
		*len = q - s;
		return true;
	}
	dst = scratch_alloc(p, q - s + 1);
	for (const char *c = s; c < q; c++)
	{
		unsigned	cp,
					lo;

		if (*c != '\\')
		{
			dst[n++] = *c;
			continue;
		}
		c++;
		switch (*c)
		{
			case '"':
			case '\\':
			case '/':
				dst[n++] = *c;
				break;
			case 'b':
				dst[n++] = '\b';
				break;
			case 'f':
				dst[n++] = '\f';
				break;
			case 'n':
				dst[n++] = '\n';
				break;
			case 'r':
				dst[n++] = '\r';
				break;
			case 't':
				dst[n++] = '\t';
				break;
			case 'u':
				if (!read_hex4(c + 1, q, &cp))
					return false;
				c += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					if (q - c < 7 || c[1] != '\\' || c[2] != 'u' ||
						!read_hex4(c + 3, q, &lo) || lo < 0xDC00 || lo > 0xDFFF)
						return false;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					c += 6;
				}
				else if (cp >= 0xDC00 && cp <= 0xDFFF)
					return false;
				/* \uXXXX is 6 bytes of input for at most 3 of output (4 for 12) */
				if (cp < 0x80)
					dst[n++] = (char) cp;
				else if (cp < 0x800)
				{
					dst[n++] = (char) (0xC0 | (cp >> 6));
					dst[n++] = (char) (0x80 | (cp & 0x3F));
				}
				else if (cp < 0x10000)
				{
					dst[n++] = (char) (0xE0 | (cp >> 12));
					dst[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
					dst[n++] = (char) (0x80 | (cp & 0x3F));
				}
				else
				{
					dst[n++] = (char) (0xF0 | (cp >> 18));
					dst[n++] = (char) (0x80 | ((cp >> 12) & 0x3F));
					dst[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
					dst[n++] = (char) (0x80 | (cp & 0x3F));
				}
				break;
			default:
				return false;
		}
	}
	if (!utf8_valid((const unsigned char *) dst, n))
		return false;
	*out = dst;
	*len = n;
	return true;
}

/*
 * A JSON number at *pp: an exact int64 (is_int) or else a double (an
 * integer too large for int64 included).  *text, *textlen: the token.
 */
static bool
scan_number(EventParser *p, const char **pp, const char *end, bool *is_int,
			int64_t *iv, double *dv)
{
	const char *s = *pp;
	const char *q = s;
	uint64_t	acc = 0;
	int			digits = 0;
	bool		neg = false,
				fits = true;
	char	   *buf,
			   *e;

	if (q < end && *q == '-')
	{
		neg = true;
		q++;
	}
	while (q < end && *q >= '0' && *q <= '9')
	{
		if (acc > (UINT64_MAX - 9) / 10)
			fits = false;
		acc = acc * 10 + (uint64_t) (*q - '0');
		digits++;
		q++;
	}
	if (digits == 0)
		return false;
	if (fits && acc <= (uint64_t) INT64_MAX + neg &&
		!(q < end && (*q == '.' || *q == 'e' || *q == 'E')))
	{
		*iv = neg ? (int64_t) (0 - acc) : (int64_t) acc;
		*dv = (double) *iv;
		*is_int = true;
		*pp = q;
		return true;
	}
	while (q < end && (isdigit((unsigned char) *q) || *q == '.' || *q == 'e' ||
					   *q == 'E' || *q == '+' || *q == '-'))
		q++;
	buf = scratch_alloc(p, q - s + 1);
	memcpy(buf, s, q - s);
	buf[q - s] = '\0';
	*dv = strtod(buf, &e);
	if (*e != '\0')
		return false;
	*is_int = false;
	*pp = q;
	return true;
}

typedef bool (*ScanMember) (EventParser *p, void *arg, const char *key,
							size_t keylen, int index, const char **pp,
							const char *end);
static bool scan_object(EventParser *p, const char **pp, const char *end,
						ScanMember cb, void *arg);

/* {"scale":s,"value":base64} of a VariableScaleDecimal */
typedef struct VarDecimalScan
{
	bool		has_scale;
	int64_t		scale;
	const char *value;
	size_t		len;
} VarDecimalScan;

static bool
scan_vardecimal_member(EventParser *p, void *arg, const char *key,
					   size_t keylen, int index, const char **pp,
					   const char *end)
{
	VarDecimalScan *vs = arg;
	bool		is_int;
	double		dv;

	if (keylen == 5 && memcmp(key, "scale", 5) == 0)
		return (vs->has_scale = scan_number(p, pp, end, &is_int, &vs->scale, &dv) && is_int);
	if (keylen == 5 && memcmp(key, "value", 5) == 0)
		return **pp == '"' && scan_string(p, pp, end, &vs->value, &vs->len);
	return false;
}

/* What a token is, for error messages. */
static const char *
token_label(const char *q, const char *end)
{
	if (q >= end)
		return "nothing";
	switch (*q)
	{
		case '"':
			return "string";
		case '{':
			return "object";
		case '[':
			return "array";
		case 't':
		case 'f':
			return "boolean";
		case 'n':
			return "null";
		default:
			return "number";
	}
}

/*
 * Base64 string token -> bytes in the scratch; *n: their count.  NULL when
 * it is not one (p->scan_error says why).
 */
static unsigned char *
decode_base64_token(EventParser *p, const char **pp, const char *end, long *n)
{
	const char *str;
	size_t		len;
	unsigned char *buf;

	if (*pp >= end || **pp != '"')
	{
		p->scan_error = NULL;
		return NULL;
	}
	if (!scan_string(p, pp, end, &str, &len))
		return NULL;
	buf = (unsigned char *) scratch_alloc(p, len + 1);
	if ((*n = base64_decode(str, len, buf)) < 0)
	{
		p->scan_error = NULL;
		return NULL;
	}
	return buf;
}

/*
 * Unscaled bytes of a decimal rendered as text (precision > 38 and
 * VariableScaleDecimal), or NULL with p->scan_error saying why.
 */
static const char *
decimal_token_text(EventParser *p, const unsigned char *buf, long n, int64_t scale)
{
	char	   *text;

	if (n == 0)
	{
		p->scan_error = "an empty decimal (no digits)";
		return NULL;
	}
	if (n > DECIMAL_MAX_BYTES)
	{
		p->scan_error = "a decimal with more digits than PostgreSQL's numeric holds";
		return NULL;
	}
	if (scale < DECIMAL_MIN_SCALE || scale > DECIMAL_MAX_SCALE)
	{
		p->scan_error = "a decimal scale outside -1000..16383";
		return NULL;
	}
	text = scratch_alloc(p, decimal_text_cap(n, (int) scale));
	decimal_be_text(buf, n, (int) scale, text);
	return text;
}

/* A schemaless value: typed by its token alone (table.c converts it). */
static bool
decode_untyped(EventParser *p, const char **pp, const char *end,
			   EventValue *out)
{
	const char *q = *pp;
	const char *e;
	bool		is_int;

	out->untyped = true;
	out->want.nullable = true;
	switch (*q)
	{
		case 't':
		case 'f':
			if (end - q >= 4 && memcmp(q, "true", 4) == 0)
				out->i = 1;
			else if (!(end - q >= 5 && memcmp(q, "false", 5) == 0))
				return false;
			*pp = q + (out->i ? 4 : 5);
			out->type = EV_BOOL;
			out->want.type = PQ_BOOLEAN;
			out->want_type = "boolean";
			return true;
		case '"':
			if (!scan_string(p, pp, end, &out->s, &out->len))
				return false;
			out->type = EV_STRING;
			break;
		case '{':
		case '[':
			p->scan_error = "JSON text that is not valid UTF-8";
			if ((e = skip_value(q, end)) == NULL || json_text_problem(q, e - q, false) != NULL)
				return false;
			out->type = EV_JSON;
			out->s = q;
			out->len = e - q;
			*pp = e;
			break;
		default:
			if (!scan_number(p, pp, end, &is_int, &out->i, &out->d))
				return false;
			out->s = q;
			out->len = *pp - q;
			out->type = is_int ? EV_INT : EV_DOUBLE;
			out->want.type = is_int ? PQ_INT64 : PQ_DOUBLE;
			out->want_type = is_int ? "long" : "double";
			return true;
	}
	out->want.type = PQ_STRING;
	out->want_type = "string";
	return true;
}

/*
 * The one value decoder: the token at *pp read as field f says (NULL: a
 * schemaless value), into out, whose name and want the caller has set.
 * false: errstr says why, naming the column.
 */
static bool
decode_value(EventParser *p, const EventField *f, const char **pp,
			 const char *end, EventValue *out, char *errstr, size_t errlen)
{
	const char *q = *pp;
	const char *expect = f ? f->want_type : "a JSON value";
	bool		is_int;
	int64_t		iv = 0;
	double		dv = 0;
	unsigned char *buf;
	long		n;

	p->scan_error = NULL;
	if (q < end && *q == 'n')
	{
		if (end - q < 4 || memcmp(q, "null", 4) != 0)
			goto bad;
		*pp = q + 4;
		out->type = EV_NULL;
		return true;
	}
	if (q >= end)
		goto bad;
	if (f == NULL)
	{
		if (decode_untyped(p, pp, end, out))
			return true;
		goto bad;
	}
	switch (f->kind)
	{
		case EK_BOOL:
			if (end - q >= 4 && memcmp(q, "true", 4) == 0)
				out->i = 1;
			else if (!(end - q >= 5 && memcmp(q, "false", 5) == 0))
				break;
			*pp = q + (out->i ? 4 : 5);
			out->type = EV_BOOL;
			return true;
		case EK_SHORT:
		case EK_INT:
		case EK_LONG:
		case EK_DATE:
		case EK_TS_MS:
		case EK_TS_US:
		case EK_TS_NS:
			if (*q == '"' || !scan_number(p, pp, end, &is_int, &iv, &dv) || !is_int)
				break;
			if ((f->kind == EK_SHORT && (iv < -32768 || iv > 32767)) ||
				((f->kind == EK_INT || f->kind == EK_DATE) &&
				 (iv < INT32_MIN || iv > INT32_MAX)))
			{
				p->scan_error = "a number out of its range";
				break;
			}
			out->i = iv;
			out->type = EV_INT;
			if (f->kind == EK_DATE)
				out->type = EV_DATE;
			else if (f->kind == EK_TS_MS || f->kind == EK_TS_US || f->kind == EK_TS_NS)
			{
				out->type = EV_TIMESTAMP;
				if (f->kind == EK_TS_MS)
					out->i = mul_clamp(iv, 1000);
				else if (f->kind == EK_TS_NS)
					out->i = iv / 1000;
			}
			return true;
		case EK_FLOAT:
		case EK_DOUBLE:
			if (*q == '"')
			{
				const char *str;
				size_t		len;

				/* Jackson writes non-finite doubles as strings */
				if (!scan_string(p, pp, end, &str, &len))
					break;
				if (!((len == 3 && memcmp(str, "NaN", 3) == 0) ||
					  (len == 8 && memcmp(str, "Infinity", 8) == 0) ||
					  (len == 9 && memcmp(str, "-Infinity", 9) == 0)))
				{
					p->scan_error = NULL;
					break;
				}
				out->d = str[0] == 'N' ? NAN : str[0] == '-' ? -INFINITY : INFINITY;
			}
			else if (scan_number(p, pp, end, &is_int, &iv, &dv))
				out->d = dv;
			else
				break;
			out->type = EV_DOUBLE;
			return true;
		case EK_STRING:
			if (*q != '"' || !scan_string(p, pp, end, &out->s, &out->len))
				break;
			out->type = EV_STRING;
			return true;
		case EK_TS_ZONED:
			expect = "ISO-8601 timestamp string";
			if (*q != '"' || !scan_string(p, pp, end, &out->s, &out->len) ||
				!parse_iso_timestamp(out->s, out->len, &out->i))
				break;
			out->type = EV_TIMESTAMP;
			return true;
		case EK_BYTES:
			expect = "base64 string";
			if ((buf = decode_base64_token(p, pp, end, &n)) == NULL)
				break;
			out->type = EV_BINARY;
			out->s = (const char *) buf;
			out->len = n;
			return true;
		case EK_DECIMAL:
			expect = "base64 string of a decimal";
			if ((buf = decode_base64_token(p, pp, end, &n)) == NULL)
				break;
			if (n == 0)
				p->scan_error = "an empty decimal (no digits)";
			else if (!decimal_from_be(buf, n, &out->dec))
				p->scan_error = "a decimal of more than 38 digits";
			else
			{
				out->type = EV_DECIMAL;
				out->scale = f->want.scale;
				return true;
			}
			break;
		case EK_DECIMAL_TEXT:
			expect = "base64 string of a decimal";
			if ((buf = decode_base64_token(p, pp, end, &n)) == NULL ||
				(out->s = decimal_token_text(p, buf, n, f->want.scale)) == NULL)
				break;
			out->type = EV_STRING;
			out->len = strlen(out->s);
			return true;
		case EK_VARDECIMAL:
			{
				VarDecimalScan vs;

				expect = "{\"scale\":int,\"value\":base64}";
				memset(&vs, 0, sizeof(vs));
				if (*q != '{' || !scan_object(p, pp, end, scan_vardecimal_member, &vs) ||
					!vs.has_scale || vs.value == NULL)
					break;
				buf = (unsigned char *) scratch_alloc(p, vs.len + 1);
				p->scan_error = NULL;
				if ((n = base64_decode(vs.value, vs.len, buf)) < 0 ||
					(out->s = decimal_token_text(p, buf, n, vs.scale)) == NULL)
					break;
				out->type = EV_STRING;
				out->len = strlen(out->s);
				return true;
			}
		case EK_JSON_TEXT:
			{
				const char *e = skip_value(q, end);

				p->scan_error = "JSON text that is not valid UTF-8";
				if (e == NULL || e == q || json_text_problem(q, e - q, false) != NULL)
					break;
				out->type = EV_STRING;
				out->s = q;
				out->len = e - q;
				*pp = e;
				return true;
			}
	}
bad:
	if (p->scan_error)
		snprintf(errstr, errlen, "column \"%s\": expected %s, got %s",
				 out->name, expect, p->scan_error);
	else
		snprintf(errstr, errlen, "column \"%s\": expected %s, got %s",
				 out->name, expect, token_label(q, end));
	return false;
}

/* Every field null, ready for a row object. */
static void
reset_values(const EventSchema *s, EventValue *values)
{
	for (int i = 0; i < s->nfields; i++)
	{
		EventValue *v = &values[i];

		memset(v, 0, sizeof(*v));
		v->name = s->fields[i].name;
		v->want = s->fields[i].want;
		v->want_type = s->fields[i].want_type;
		v->type = EV_NULL;
	}
}

/*
 * The json-c path's row: each member rendered back to its token and read
 * by decode_value, typed by schema s (NULL: schemaless).
 */
static bool
row_values(EventParser *p, const EventSchema *s, struct json_object *row,
		   EventRow *out, char *errstr, size_t errlen)
{
	int			i = 0;

	if (!json_object_is_type(row, json_type_object))
	{
		snprintf(errstr, errlen, "row is a JSON %s, not an object",
				 json_type_label(row));
		return false;
	}
	reserve_values(p, s ? s->nfields : json_object_object_length(row));
	if (s)
		reset_values(s, p->values);
	json_object_object_foreach(row, k, v)
	{
		EventValue *val;
		const char *text,
				   *q;

		if (s)
		{
			int			f;

			for (f = 0; f < s->nfields; f++)
				if (strcmp(s->fields[f].name, k) == 0)
					break;
			if (f == s->nfields)
				continue;		/* not in the schema: ignored */
			val = &p->values[f];
		}
		else
		{
			if (!utf8_valid((const unsigned char *) k, strlen(k)))
			{
				snprintf(errstr, errlen, "a column name is not valid UTF-8");
				return false;
			}
			if (k[0] == '\0')
			{
				snprintf(errstr, errlen, "a column has an empty name");
				return false;
			}
			val = &p->values[i++];
			memset(val, 0, sizeof(*val));
			val->name = k;
			val->want.name = k;
		}
		text = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
												  JSON_C_TO_STRING_NOSLASHESCAPE) : "null";
		q = text;
		if (!decode_value(p, s ? &s->fields[val - p->values] : NULL, &q,
						  text + strlen(text), val, errstr, errlen))
			return false;
	}
	out->nvalues = s ? s->nfields : i;
	out->values = p->values;
	return true;
}

/* Parses members of the object at *pp, calling back per key. */
static bool
scan_object(EventParser *p, const char **pp, const char *end, ScanMember cb,
			void *arg)
{
	const char *q = skip_ws(*pp, end);
	int			index = 0;

	if (q >= end || *q != '{')
		return false;
	q = skip_ws(q + 1, end);
	if (q < end && *q == '}')
	{
		*pp = q + 1;
		return true;
	}
	for (;;)
	{
		const char *key;
		size_t		keylen;

		if (q >= end || *q != '"' || !scan_string(p, &q, end, &key, &keylen) ||
			memchr(key, '\0', keylen) != NULL)
			return false;
		q = skip_ws(q, end);
		if (q >= end || *q != ':')
			return false;
		q = skip_ws(q + 1, end);
		if (!cb(p, arg, key, keylen, index++, &q, end))
			return false;
		q = skip_ws(q, end);
		if (q < end && *q == ',')
		{
			q = skip_ws(q + 1, end);
			continue;
		}
		if (q < end && *q == '}')
		{
			*pp = q + 1;
			return true;
		}
		return false;
	}
}

static bool
skip_member(const char **pp, const char *end)
{
	const char *e = skip_value(*pp, end);

	if (e == NULL || e == *pp)
		return false;
	*pp = e;
	return true;
}

static bool
key_is(const char *key, size_t keylen, const char *lit)
{
	return strlen(lit) == keylen && memcmp(key, lit, keylen) == 0;
}

typedef struct RowScan
{
	const EventSchema *schema;
	EventValue *values;
	char	   *errstr;
	size_t		errlen;
} RowScan;

static bool
scan_row_member(EventParser *p, void *arg, const char *key, size_t keylen,
				int index, const char **pp, const char *end)
{
	RowScan    *rs = arg;
	const EventSchema *s = rs->schema;
	int			i = -1;

	/* row members come in schema order: try that position first */
	if (index < s->nfields && key_is(key, keylen, s->fields[index].name))
		i = index;
	else
	{
		for (int k = 0; k < s->nfields; k++)
			if (key_is(key, keylen, s->fields[k].name))
			{
				i = k;
				break;
			}
	}
	if (i < 0)
		return skip_member(pp, end);	/* not in the schema: ignored */
	return decode_value(p, &s->fields[i], pp, end, &rs->values[i], rs->errstr,
						rs->errlen);
}

typedef struct SourceScan
{
	EventRow   *row;
} SourceScan;

static bool
scan_source_member(EventParser *p, void *arg, const char *key, size_t keylen,
				   int index, const char **pp, const char *end)
{
	EventRow   *row = ((SourceScan *) arg)->row;
	bool	   *has = NULL;
	int64_t    *dst = NULL;
	bool		is_int;
	double		dv;

	if (key_is(key, keylen, "lsn"))
	{
		has = &row->has_lsn;
		dst = &row->lsn;
	}
	else if (key_is(key, keylen, "txId"))
	{
		has = &row->has_txid;
		dst = &row->txid;
	}
	else if (key_is(key, keylen, "ts_ms"))
	{
		has = &row->has_ts_ms;
		dst = &row->ts_ms;
	}
	if (has == NULL)
		return skip_member(pp, end);
	if (end - *pp >= 4 && memcmp(*pp, "null", 4) == 0)
	{
		*pp += 4;
		*has = false;
		return true;
	}
	if (!scan_number(p, pp, end, &is_int, dst, &dv) || !is_int)
		return false;
	*has = true;
	return true;
}

typedef struct EnvelopeScan
{
	RowScan		rs;				/* "before"/"after" are read into rs.values */
	SourceScan	ss;				/* "source" into ss.row */
	bool		before;			/* rs.values hold a "before" object */
	bool		after;			/* rs.values hold an "after" object */
	const char *op;
	size_t		oplen;
} EnvelopeScan;

/*
 * Debezium writes before, after, source, op: the row is read in passing,
 * "after" replacing "before" when both are objects (an update under
 * REPLICA IDENTITY FULL); which one counts is decided once op is known.
 */
static bool
scan_envelope_member(EventParser *p, void *arg, const char *key, size_t keylen,
					 int index, const char **pp, const char *end)
{
	EnvelopeScan *es = arg;

	if ((key_is(key, keylen, "after") || key_is(key, keylen, "before")) &&
		**pp == '{')
	{
		bool		after = key[0] == 'a';

		if (es->after)
			return skip_member(pp, end);	/* "before" after "after" */
		reset_values(es->rs.schema, es->rs.values);
		es->before = !after;
		es->after = after;
		return scan_object(p, pp, end, scan_row_member, &es->rs);
	}
	if (key_is(key, keylen, "source") && **pp == '{')
		return scan_object(p, pp, end, scan_source_member, &es->ss);
	if (key_is(key, keylen, "op"))
		return **pp == '"' && scan_string(p, pp, end, &es->op, &es->oplen);
	return skip_member(pp, end);
}

/* The fast path; false: use the json-c path (nothing of out is kept). */
static bool
scan_fast(EventParser *p, const char *value, size_t vallen, EventRow *out)
{
	const char *end = value + vallen;
	const char *q;
	const char *sstart,
			   *send;
	const EventSchema *schema;
	EnvelopeScan es;
	char		err[512];

	if (!split_envelope(p, value, end, &sstart, &send, &schema, &q))
		return false;
	if (schema == NULL)
	{
		if ((schema = schema_lookup(p, sstart, send - sstart, err, sizeof(err))) == NULL)
			return false;
		p->last = (EventSchema *) schema;
	}

	reserve_values(p, schema->nfields);
	memset(&es, 0, sizeof(es));
	es.rs.schema = schema;
	es.rs.values = p->values;
	es.rs.errstr = err;
	es.rs.errlen = sizeof(err);
	es.ss.row = out;
	if (!scan_object(p, &q, end, scan_envelope_member, &es))
		return false;
	q = skip_ws(q, end);
	if (q >= end || *q != '}' || skip_ws(q + 1, end) != end)
		return false;
	/* truncates, deletes without "before", anything odd: json-c path */
	if (es.op == NULL || es.oplen != 1 ||
		!((strchr("cru", es.op[0]) && es.after) || (es.op[0] == 'd' && es.before)))
		return false;
	out->op = es.op[0];
	out->nvalues = schema->nfields;
	out->values = p->values;
	out->schema_id = schema->hash;
	return true;
}

static bool
get_opt_int(struct json_object *o, const char *key, bool *has, int64_t *out,
			char *errstr, size_t errlen)
{
	struct json_object *v;

	*has = false;
	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
		json_object_is_type(v, json_type_null))
		return true;
	if (!read_int(v, out))
	{
		snprintf(errstr, errlen, "source.%s: expected int64, got %s", key,
				 json_type_label(v));
		return false;
	}
	*has = true;
	return true;
}

/* The key's columns as values. */
static bool
key_values(EventParser *p, const char *key, size_t keylen, EventRow *out,
		   char *errstr, size_t errlen)
{
	struct json_object *sch,
			   *pay;
	size_t		used;
	EventSchema ks;
	bool		ok;

	if (key == NULL)
	{
		/* a keyless table's delete without before: nothing to identify */
		out->nvalues = 0;
		out->values = p->values;
		return true;
	}
	p->keyobj = parse_json(p, key, keylen, &used, errstr, errlen);
	if (p->keyobj != NULL && skip_ws(key + used, key + keylen) != key + keylen)
	{
		snprintf(errstr, errlen, "not valid JSON: trailing data");
		json_object_put(p->keyobj);
		p->keyobj = NULL;
	}
	if (p->keyobj == NULL)
	{
		char		why[256];

		snprintf(why, sizeof(why), "%s", errstr);
		snprintf(errstr, errlen, "delete without \"before\" and a key that is %s",
				 why);
		return false;
	}
	if (json_object_object_get_ex(p->keyobj, "schema", &sch) &&
		json_object_object_get_ex(p->keyobj, "payload", &pay))
	{
		char		kerr[256];

		memset(&ks, 0, sizeof(ks));
		if (json_object_is_type(sch, json_type_object) &&
			schema_fields(&ks, sch, kerr, sizeof(kerr)))
		{
			ok = row_values(p, &ks, pay, out, errstr, errlen);
			/* values point at field names: keep them in the scratch */
			for (int i = 0; ok && i < out->nvalues; i++)
			{
				size_t		n = strlen(ks.fields[i].name) + 1;
				char	   *c = scratch_alloc(p, n);

				if (c == NULL)
				{
					ok = false;
					snprintf(errstr, errlen, "key too large");
					break;
				}
				memcpy(c, ks.fields[i].name, n);
				p->values[i].name = c;
				p->values[i].want.name = c;
				if (p->values[i].want_type != NULL)
				{
					size_t		tn = strlen(ks.fields[i].want_type) + 1;
					char	   *tc = scratch_alloc(p, tn);

					if (tc)
					{
						memcpy(tc, ks.fields[i].want_type, tn);
						p->values[i].want_type = tc;
					}
				}
			}
			for (int i = 0; i < ks.nfields; i++)
				free(ks.fields[i].name);
			free(ks.fields);
			return ok;
		}
		/* no usable key schema: the key's own member names */
		for (int i = 0; i < ks.nfields; i++)
			free(ks.fields[i].name);
		free(ks.fields);
		return row_values(p, NULL, pay, out, errstr, errlen);
	}
	return row_values(p, NULL, p->keyobj, out, errstr, errlen);
}


/*
 * Deletes without "before": the key holds the row's identity columns, each
 * of them a value (a key that names no row is refused, not stored as a
 * row of nulls).
 */
static bool
row_from_key(EventParser *p, const char *key, size_t keylen, EventRow *out,
			 char *errstr, size_t errlen)
{
	if (!key_values(p, key, keylen, out, errstr, errlen))
		return false;
	if (key != NULL && out->nvalues == 0)
	{
		snprintf(errstr, errlen, "delete without \"before\" and a key without columns");
		return false;
	}
	for (int i = 0; key != NULL && i < out->nvalues; i++)
		if (out->values[i].type == EV_NULL)
		{
			snprintf(errstr, errlen, "delete without \"before\" and key column \"%s\" null",
					 out->values[i].name);
			return false;
		}
	return true;
}

EventResult
event_parse(EventParser *p, const char *key, size_t keylen,
			const char *value, size_t vallen, EventRow *out,
			char *errstr, size_t errlen)
{
	const EventSchema *schema = NULL;
	struct json_object *pay,
			   *src = NULL,
			   *opv,
			   *row = NULL;
	const char *op;

	memset(out, 0, sizeof(*out));
	errstr[0] = '\0';
	json_object_put(p->payload);
	p->payload = NULL;
	json_object_put(p->keyobj);
	p->keyobj = NULL;
	if (value == NULL)
		return EVENT_SKIP;

	scratch_reset(p);
	if (scan_fast(p, value, vallen, out))
		return EVENT_ROW;
	/* start over with json-c */
	p->slow_parsed++;
	memset(out, 0, sizeof(*out));
	scratch_reset(p);
	pay = parse_fast(p, value, vallen, &schema, errstr, errlen);
	if (pay == NULL && errstr[0] == '\0')
		pay = parse_slow(p, value, vallen, &schema, errstr, errlen);
	if (pay == NULL)
		return EVENT_BAD;
	p->payload = pay;

	if (!json_object_is_type(pay, json_type_object))
	{
		snprintf(errstr, errlen, "payload is a JSON %s, not an object",
				 json_type_label(pay));
		return EVENT_BAD;
	}
	if (!json_object_object_get_ex(pay, "op", &opv) ||
		!json_object_is_type(opv, json_type_string))
	{
		struct json_object *st;

		/*
		 * Transaction metadata (BEGIN/END on <prefix>.transaction, which a
		 * pattern such as ^prefix\..* also matches) is not a row change.
		 */
		if (json_object_object_get_ex(pay, "status", &st) &&
			json_object_is_type(st, json_type_string) &&
			(strcmp(json_object_get_string(st), "BEGIN") == 0 ||
			 strcmp(json_object_get_string(st), "END") == 0))
			return EVENT_SKIP;
		snprintf(errstr, errlen, "payload has no \"op\" string");
		return EVENT_BAD;
	}
	op = json_object_get_string(opv);
	if (strlen(op) != 1 || strchr("crudtm", op[0]) == NULL)
	{
		snprintf(errstr, errlen, "unknown op \"%.16s\"", op);
		return EVENT_BAD;
	}
	out->op = op[0];
	if (json_object_object_get_ex(pay, "source", &src) &&
		!json_object_is_type(src, json_type_object))
		src = NULL;
	if (!get_opt_int(src, "lsn", &out->has_lsn, &out->lsn, errstr, errlen) ||
		!get_opt_int(src, "txId", &out->has_txid, &out->txid, errstr, errlen) ||
		!get_opt_int(src, "ts_ms", &out->has_ts_ms, &out->ts_ms, errstr, errlen))
		return EVENT_BAD;
	out->schema_id = schema ? schema->hash : 0;
	out->values = p->values;

	switch (out->op)
	{
		case 'c':
		case 'r':
		case 'u':
			if (!json_object_object_get_ex(pay, "after", &row) ||
				json_object_is_type(row, json_type_null))
			{
				snprintf(errstr, errlen, "op \"%c\" without \"after\"", out->op);
				return EVENT_BAD;
			}
			break;
		case 'd':
			if (!json_object_object_get_ex(pay, "before", &row) ||
				json_object_is_type(row, json_type_null))
				return row_from_key(p, key, keylen, out, errstr, errlen) ?
					EVENT_ROW : EVENT_BAD;
			break;
		default:
			/* truncate, message: a row of nulls that records the event */
			return EVENT_ROW;
	}
	if (!row_values(p, schema, row, out, errstr, errlen))
		return EVENT_BAD;
	return EVENT_ROW;
}
