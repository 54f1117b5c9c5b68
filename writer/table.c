/*-------------------------------------------------------------------------
 *
 * table.c
 *	  Per-table state of the Delta writer: columns and their evolution, the
 *	  open Parquet file, the offsets it covers, the flush policy and the
 *	  commit that makes a file and its offsets visible together.
 *
 * Exactly-once rests on one rule: a txn version (the last offset of a
 * topic-partition) is written in the same Delta commit as the rows of
 * every message up to it, and nothing else records progress.  A crash
 * before the commit leaves an unreferenced Parquet file and the old txn
 * version, so the messages are read and written again; after it, the
 * restart seeks past them.
 *
 * Columns only grow: a new source column ends the current file (commit),
 * then a metaData action with the wider schema goes into the next commit.
 * A column whose source type changed keeps its Delta type; values are
 * converted when that loses nothing, else the message is dead-lettered.
 * Every column is nullable, so rows without a column (deletes carrying
 * only the key, older schema versions) are valid.
 *
 * Owns: Table.  Does not own: Parquet or log encoding (parquet.c,
 * delta_log.c), Kafka (consumer.c), event parsing (event.c).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bytebuf.h"
#include "clock.h"
#include "decimal.h"
#include "delta_log.h"
#include "json_out.h"
#include "log.h"
#include "paths.h"
#include "table.h"

/* how case_alias() names a column */
#define CASE_ALIAS_PREFIX "__case_"

/* The change-log columns added to every table, in this order. */
typedef enum MetaColumn
{
	META_OP,
	META_LSN,
	META_TXID,
	META_TS_MS,
	META_TOPIC,
	META_PARTITION,
	META_OFFSET,
	META_KAFKA_TS,
	META_COUNT
} MetaColumn;

static const struct
{
	const char *name;
	PqType		type;
	const char *delta_type;
}			meta_columns[META_COUNT] =
{
	{"__op", PQ_STRING, "string"},
	{"__source_lsn", PQ_INT64, "long"},
	{"__source_txid", PQ_INT64, "long"},
	{"__source_ts_ms", PQ_INT64, "long"},
	{"__kafka_topic", PQ_STRING, "string"},
	{"__kafka_partition", PQ_INT32, "integer"},
	{"__kafka_offset", PQ_INT64, "long"},
	{"__kafka_timestamp", PQ_TIMESTAMP_US, "timestamp"},
};

typedef struct TableColumn
{
	char	   *name;			/* owned */
	char	   *delta_type;		/* owned: Delta type name */
	char	   *physical;		/* owned: column mapping's physical name, or
								 * NULL when the table maps no columns */
	int64_t		id;				/* column mapping id, 0 = none */
	PqColumnDef def;			/* def.name aliases physical, else name */
} TableColumn;

/* A topic-partition feeding this table. */
typedef struct TablePart
{
	char	   *topic;			/* owned */
	int32_t		partition;
	int64_t		consumed;		/* last offset handled, -1 none */
	int64_t		committed;		/* txn version in the log, -1 none */
} TablePart;

/* A value converted to its column's type, not yet handed to Parquet. */
typedef enum StagedKind
{
	ST_NULL,
	ST_BOOL,
	ST_I32,
	ST_I64,
	ST_DOUBLE,
	ST_BYTES,					/* ptr, len */
	ST_TEXT						/* off, len into the row's text buffer */
} StagedKind;

typedef struct Staged
{
	StagedKind	kind;
	int64_t		i;
	double		d;
	const char *ptr;
	size_t		off;
	size_t		len;
	unsigned char dec[16];		/* a wide decimal's bytes (ptr points here) */
} Staged;

struct Table
{
	ObjStore   *store;			/* where the table lives (borrowed) */
	char		key[PATHS_MAX_COMPONENT * 2 + 2];	/* "<schema>/<table>" */
	char	   *dir;			/* for messages: store and key */
	DeltaTable *delta;
	TableOptions opts;

	TableColumn *cols;
	int			ncols;
	bool		mapped;			/* column mapping on (see add_source_column) */
	bool		case_aliases;	/* a column is named by case_alias() */
	int64_t		max_id;			/* highest column mapping id given */
	int			meta[META_COUNT];	/* column index of each meta column */
	int		   *hint;			/* value index -> last matching column */
	int			nhint;

	TablePart  *parts;
	int			nparts;
	int			last_part;		/* cache for the common one-partition case */

	PqWriter   *pq;				/* open file, NULL when none */
	char		file_name[128];
	char		stage[PATH_MAX];	/* where the open file is written until
									 * the commit puts it in the store */
	int64_t		file_rows;
	bool		pending;		/* offsets or rows since the last commit */
	int64_t		pending_since_ms;	/* monotonic */

	Staged	   *staged;			/* ncols entries */
	ByteBuf		text;			/* rendered texts of the current row */
	ByteBuf		skipped;		/* JSON array text of offset ranges skipped
								 * since the last commit (table_skipped) */
};

const char *
table_dir(const Table *t)
{
	return t->dir;
}

void
table_names_from_topic(const char *topic, char *schema, size_t schemalen,
					   char *table, size_t tablelen)
{
	const char *last = strrchr(topic, '.');
	const char *prev = NULL;
	const char *p;

	if (last == NULL)
	{
		/* no prefix and no schema: a table in "default" */
		snprintf(schema, schemalen, "default");
		snprintf(table, tablelen, "%s", topic);
		return;
	}
	for (p = topic; p < last; p++)
		if (*p == '.')
			prev = p;
	if (prev == NULL)
		snprintf(schema, schemalen, "%.*s", (int) (last - topic), topic);
	else
		snprintf(schema, schemalen, "%.*s", (int) (last - prev - 1), prev + 1);
	snprintf(table, tablelen, "%s", last + 1);
	/* "a..b", "a.b.": an empty part still needs a directory name */
	if (schema[0] == '\0')
		snprintf(schema, schemalen, "_");
	if (table[0] == '\0')
		snprintf(table, tablelen, "_");
}

/* Points a column's Parquet definition at its name in the data files. */
static void
alias_def_name(TableColumn *c)
{
	c->def.name = c->physical ? c->physical : c->name;
	c->def.field_id = (int32_t) c->id;
}

/*
 * A new column's physical name (buf >= 48 bytes): the one its name gives
 * (delta_new_physical_name), unless a column renamed by another engine
 * has that one already.
 */
static void
new_physical_name(const Table *t, const char *name, char *buf)
{
	delta_new_physical_name(name, buf);
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].physical && strcmp(t->cols[i].physical, buf) == 0)
		{
			delta_new_physical_name(NULL, buf);
			return;
		}
}

/*
 * Adds a column.  physical and id are column mapping's (from the log), or
 * NULL and 0 for a new column, which gets a fresh id and a "col-<uuid>"
 * physical name when the table maps columns.
 */
static bool
add_column(Table *t, const char *name, const char *delta_type,
		   const char *physical, int64_t id, char *errstr, size_t errlen)
{
	TableColumn *nc;
	TableColumn *c;
	PqType		type;
	int			precision = 0,
				scale = 0;
	char		fresh[48];

	if (!delta_type_parse(delta_type, &type, &precision, &scale))
	{
		snprintf(errstr, errlen, "column \"%s\": unsupported Delta type \"%s\"",
				 name, delta_type);
		return false;
	}
	nc = realloc(t->cols, (t->ncols + 1) * sizeof(TableColumn));
	if (nc == NULL)
		goto oom;
	t->cols = nc;
	c = &t->cols[t->ncols];
	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	c->delta_type = strdup(delta_type);
	if (!c->name || !c->delta_type)
	{
		free(c->name);
		free(c->delta_type);
		goto oom;
	}
	if (t->mapped && physical == NULL)
	{
		new_physical_name(t, name, fresh);
		physical = fresh;
	}
	if (t->mapped && id <= 0)
		id = t->max_id + 1;
	if (id > t->max_id)
		t->max_id = id;
	c->physical = physical ? bytebuf_xstrdup(physical) : NULL;
	c->id = id;
	c->def.type = type;
	c->def.precision = precision;
	c->def.scale = scale;
	c->def.nullable = true;
	alias_def_name(c);
	if (strncmp(name, CASE_ALIAS_PREFIX, strlen(CASE_ALIAS_PREFIX)) == 0)
		t->case_aliases = true;
	t->ncols++;
	free(t->staged);
	t->staged = calloc(t->ncols, sizeof(Staged));
	if (t->staged == NULL)
		goto oom;
	return true;
oom:
	snprintf(errstr, errlen, "out of memory");
	return false;
}

static int
find_column(const Table *t, const char *name)
{
	for (int i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return i;
	return -1;
}

/*
 * Column names that begin with "__" are the writer's (the change-log
 * columns and any it adds later).  A source column whose name begins with
 * "__" is stored with one more "_" in front ("__op" -> "___op"), so
 * distinct source names stay distinct and never meet a change-log column.
 */
static bool
source_is_reserved(const char *src)
{
	return src[0] == '_' && src[1] == '_';
}

/*
 * Delta's column names are one name but for case (delta_names_clash), so a
 * source column whose name clashes with a column the table already has is
 * stored as "__case_<h>_<name>", h the first 32 bits of the SHA-256 of its
 * source name in hex: its name stays readable and findable, and two such
 * columns ("mixed", "MIXED" next to "Mixed") differ by h.  It begins with
 * "__", so no source column is ever stored under it.  Returns a malloc'ed
 * name.
 */
static char *
case_alias(const char *src)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t		n = strlen(src);
	char	   *alias = bytebuf_xmalloc(sizeof(CASE_ALIAS_PREFIX) + 9 + n);
	char	   *p = alias + strlen(CASE_ALIAS_PREFIX);

	if (!EVP_Digest(src, n, md, &mdlen, EVP_sha256(), NULL) || mdlen < 4)
		memset(md, 0, 4);		/* no digest: still a name, just not spread */
	memcpy(alias, CASE_ALIAS_PREFIX, strlen(CASE_ALIAS_PREFIX));
	for (int i = 0; i < 4; i++)
	{
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 15];
	}
	*p++ = '_';
	memcpy(p, src, n + 1);
	return alias;
}

/* Column index of source column src, or -1. */
static int
find_source_column(const Table *t, const char *src)
{
	char	   *alias;
	int			i;

	for (i = 0; i < t->ncols; i++)
	{
		const char *c = t->cols[i].name;

		if (source_is_reserved(src) ? c[0] == '_' && strcmp(c + 1, src) == 0 :
			strcmp(c, src) == 0)
			return i;
	}
	if (!t->case_aliases)
		return -1;
	alias = case_alias(src);
	i = find_column(t, alias);
	free(alias);
	return i;
}

/* Makes sure the change-log columns exist and notes where they are. */
static bool
ensure_meta_columns(Table *t, char *errstr, size_t errlen)
{
	for (int m = 0; m < META_COUNT; m++)
	{
		int			i = find_column(t, meta_columns[m].name);

		if (i < 0)
		{
			if (!add_column(t, meta_columns[m].name, meta_columns[m].delta_type,
							NULL, 0, errstr, errlen))
				return false;
			i = t->ncols - 1;
		}
		t->meta[m] = i;
	}
	return true;
}

/*
 * A schema or table name too long for a directory gets a shortened one
 * (paths.c); a new table then records both names in its metaData
 * configuration, so the directory can be traced back to its source.
 */
static void
record_source_names(Table *t, const char *schema, const char *name)
{
	char		comp[PATHS_MAX_COMPONENT + 1],
				err[512];
	bool		shortened = false;

	if (paths_sanitize(schema, comp, sizeof(comp), err, sizeof(err)))
		shortened |= paths_is_shortened(comp);
	if (paths_sanitize(name, comp, sizeof(comp), err, sizeof(err)))
		shortened |= paths_is_shortened(comp);
	if (shortened &&
		delta_set_config(t->delta, "cdc_kafka.source.schema", schema) &&
		delta_set_config(t->delta, "cdc_kafka.source.table", name))
		log_info("table %s: directory name shortened for %s.%s", t->dir,
				 schema, name);
}

Table *
table_open(ObjStore *store, const char *topic, const TableOptions *opts,
		   char *errstr, size_t errlen)
{
	char		schema[256],
				name[256],
				key[sizeof(((Table *) 0)->key)],
				dir[4096];
	Table	   *t;
	const DeltaColumn *cols;
	int			ncols = 0;

	table_names_from_topic(topic, schema, sizeof(schema), name, sizeof(name));
	if (!paths_table_key(schema, name, key, sizeof(key), errstr, errlen))
		return NULL;
	t = calloc(1, sizeof(Table));
	if (t == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		return NULL;
	}
	t->opts = *opts;
	t->last_part = -1;
	t->store = store;
	strcpy(t->key, key);
	snprintf(dir, sizeof(dir), "%s/%s", objstore_describe(store), key);
	t->dir = strdup(dir);
	t->delta = delta_open_store(store, key, errstr, errlen);
	if (t->delta == NULL || t->dir == NULL ||
		!delta_writable(t->delta, errstr, errlen))
	{
		table_close(t);
		return NULL;
	}
	delta_set_checkpoint_interval(t->delta, opts->checkpoint_interval);
	record_source_names(t, schema, name);
	{
		bool		warning;
		const char *notice = delta_open_notice(t->delta, &warning);

		if (notice && warning)
			log_warn("table %s: %s", dir, notice);
		else if (notice)
			log_info("table %s: %s", dir, notice);
	}
	cols = delta_schema(t->delta, &ncols);
	t->mapped = delta_column_mapping(t->delta);
	t->max_id = delta_max_column_id(t->delta);
	for (int i = 0; i < ncols; i++)
	{
		if (!add_column(t, cols[i].name, cols[i].type, cols[i].physical_name,
						cols[i].id, errstr, errlen))
		{
			table_close(t);
			return NULL;
		}
	}
	/*
	 * The meta columns of a new table are added after the first row's source
	 * columns (table_append), so that SELECT * shows the row first.
	 */
	if (ncols > 0 && !ensure_meta_columns(t, errstr, errlen))
	{
		table_close(t);
		return NULL;
	}
	log_info("table %s: version %" PRId64 ", %d columns", dir,
			 delta_version(t->delta), t->ncols);
	return t;
}

void
table_close(Table *t)
{
	if (t == NULL)
		return;
	if (t->pq)
		parquet_abort(t->pq);	/* removes the staged file */
	if (t->delta)
		delta_close(t->delta);
	for (int i = 0; i < t->ncols; i++)
	{
		free(t->cols[i].name);
		free(t->cols[i].delta_type);
		free(t->cols[i].physical);
	}
	for (int i = 0; i < t->nparts; i++)
		free(t->parts[i].topic);
	free(t->cols);
	free(t->parts);
	free(t->hint);
	free(t->staged);
	bytebuf_free(&t->text);
	bytebuf_free(&t->skipped);
	free(t->dir);
	free(t);
}

static TablePart *
get_part(Table *t, const char *topic, int32_t partition)
{
	TablePart  *np;
	TablePart  *p;

	if (t->last_part >= 0)
	{
		p = &t->parts[t->last_part];
		if (p->partition == partition && strcmp(p->topic, topic) == 0)
			return p;
	}
	for (int i = 0; i < t->nparts; i++)
	{
		p = &t->parts[i];
		if (p->partition == partition && strcmp(p->topic, topic) == 0)
		{
			t->last_part = i;
			return p;
		}
	}
	np = realloc(t->parts, (t->nparts + 1) * sizeof(TablePart));
	if (np == NULL)
		return NULL;
	t->parts = np;
	p = &t->parts[t->nparts];
	p->topic = strdup(topic);
	if (p->topic == NULL)
		return NULL;
	p->partition = partition;
	p->consumed = -1;
	p->committed = -1;
	t->last_part = t->nparts++;
	return p;
}

static void
app_id(char *buf, size_t len, const char *topic, int32_t partition)
{
	snprintf(buf, len, "%s-%" PRId32, topic, partition);
}

int64_t
table_resume_offset(Table *t, bool refresh, const char *topic,
					int32_t partition, char *errstr, size_t errlen)
{
	char		id[512];
	TablePart  *p;
	int64_t		v;

	if (refresh && !delta_refresh(t->delta, errstr, errlen))
		return -2;
	app_id(id, sizeof(id), topic, partition);
	v = delta_txn_version(t->delta, id);
	p = get_part(t, topic, partition);
	if (p == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		return -2;
	}
	/* never go back behind what this process holds uncommitted */
	if (p->consumed < v)
		p->consumed = v;
	p->committed = v;
	if (v >= 0)
		return v + 1;
	/* Kafka adds partitions after the others: is this one newer than us? */
	for (int32_t q = 0; q < partition; q++)
	{
		app_id(id, sizeof(id), topic, q);
		if (delta_txn_version(t->delta, id) >= 0)
			return 0;
	}
	return -1;
}

int64_t
table_position(Table *t, const char *topic, int32_t partition)
{
	TablePart  *p = get_part(t, topic, partition);

	return p ? p->consumed : -1;
}

void
table_forget(Table *t, const char *topic, int32_t partition)
{
	for (int i = 0; i < t->nparts; i++)
	{
		if (t->parts[i].partition == partition &&
			strcmp(t->parts[i].topic, topic) == 0)
		{
			free(t->parts[i].topic);
			t->parts[i] = t->parts[--t->nparts];
			t->last_part = -1;
			return;
		}
	}
}

bool
table_committed_next(const Table *t, int *iter, const char **topic,
					 int32_t *partition, int64_t *offset)
{
	while (*iter < t->nparts)
	{
		const TablePart *p = &t->parts[(*iter)++];

		if (p->committed >= 0)
		{
			*topic = p->topic;
			*partition = p->partition;
			*offset = p->committed;
			return true;
		}
	}
	return false;
}

static void
mark_pending(Table *t)
{
	if (!t->pending)
	{
		t->pending = true;
		t->pending_since_ms = clock_monotonic_ms();
	}
}

void
table_consumed(Table *t, const char *topic, int32_t partition, int64_t offset)
{
	TablePart  *p = get_part(t, topic, partition);

	if (p && offset > p->consumed)
	{
		p->consumed = offset;
		mark_pending(t);
	}
}

void
table_skipped(Table *t, const char *topic, int32_t partition, int64_t from,
			  int64_t to)
{
	char		range[512];

	snprintf(range, sizeof(range), "%s [%" PRId32 "] @%" PRId64 "..%" PRId64,
			 topic, partition, from, to);
	if (t->skipped.len > 0)
		bytebuf_append(&t->skipped, ",", 1);
	json_out_cstring(&t->skipped, range);
	table_consumed(t, topic, partition, to);
}

bool
table_has_pending(const Table *t)
{
	return t->pending;
}

bool
table_flush_due(const Table *t, int64_t now_ms)
{
	if (!t->pending)
		return false;
	if (t->pq)
	{
		if (t->file_rows >= t->opts.flush_rows)
			return true;
		if (parquet_estimated_size(t->pq) >= t->opts.flush_bytes)
			return true;
	}
	return now_ms - t->pending_since_ms >= t->opts.flush_interval_ms;
}

/* ---- converting values to column types -------------------------------- */

/* Stages a rendered text (copied into the row's text buffer). */
static void
stage_text(Table *t, Staged *s, const char *txt, size_t len)
{
	s->kind = ST_TEXT;
	s->off = t->text.len;
	s->len = len;
	bytebuf_append(&t->text, txt, len);
}

static void
render_timestamp(int64_t us, char *buf, size_t len)
{
	time_t		secs = (time_t) (us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
	int64_t		frac = us - (int64_t) secs * 1000000;
	struct tm	tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, frac);
}

/* Text form of any value, for string columns. */
static void
stage_as_text(Table *t, const EventValue *v, Staged *s)
{
	char		buf[128];

	switch (v->type)
	{
		case EV_STRING:
		case EV_BINARY:
		case EV_JSON:
			stage_text(t, s, v->s, v->len);
			return;
		case EV_BOOL:
			snprintf(buf, sizeof(buf), "%s", v->i ? "true" : "false");
			break;
		case EV_INT:
			snprintf(buf, sizeof(buf), "%" PRId64, v->i);
			break;
		case EV_DOUBLE:
			/* a schemaless number keeps its text as written */
			if (v->untyped)
			{
				stage_text(t, s, v->s, v->len);
				return;
			}
			snprintf(buf, sizeof(buf), "%.17g", v->d);
			break;
		case EV_DECIMAL:
			decimal_text(v->dec, v->scale, buf, sizeof(buf));
			break;
		case EV_DATE:
			render_timestamp(v->i * 86400 * 1000000, buf, sizeof(buf));
			buf[10] = '\0';
			break;
		case EV_TIMESTAMP:
			render_timestamp(v->i, buf, sizeof(buf));
			break;
		case EV_NULL:
			s->kind = ST_NULL;
			return;
	}
	stage_text(t, s, buf, strlen(buf));
}

static bool
stage_decimal(const TableColumn *c, __int128 v, int scale, Staged *s)
{
	if (!decimal_rescale(v, scale, c->def.precision, c->def.scale, &v))
		return false;
	if (c->def.precision <= 18)
	{
		s->kind = ST_I64;
		s->i = (int64_t) v;
	}
	else
	{
		/* 16 bytes big-endian two's complement, copied by parquet */
		unsigned char *be = s->dec;

		for (int i = 15; i >= 0; i--)
		{
			be[i] = (unsigned char) (v & 0xff);
			v >>= 8;
		}
		s->kind = ST_BYTES;
		s->ptr = (const char *) s->dec;
		s->len = 16;
	}
	return true;
}

/*
 * Converts v to column c's type; false (with errstr) if it does not fit.
 * A schemaless value (v->untyped) converts more freely: its JSON type is
 * all it says, so an integer may fill a timestamp and a number or a string
 * a decimal.
 */
static bool
stage_value(Table *t, const TableColumn *c, const EventValue *v, Staged *s,
			char *errstr, size_t errlen)
{
	bool		is_int = v->type == EV_INT || v->type == EV_DATE ||
		v->type == EV_TIMESTAMP;

	memset(s, 0, sizeof(*s));
	if (v->type == EV_NULL)
		return true;
	switch (c->def.type)
	{
		case PQ_STRING:
			stage_as_text(t, v, s);
			return true;
		case PQ_BOOLEAN:
			if (v->type != EV_BOOL)
				goto mismatch;
			s->kind = ST_BOOL;
			s->i = v->i;
			return true;
		case PQ_INT32:
		case PQ_INT16:
		case PQ_DATE:
			{
				int64_t		lo = INT32_MIN,
							hi = INT32_MAX;

				if (c->def.type == PQ_INT16)
				{
					lo = INT16_MIN;
					hi = INT16_MAX;
				}
				if (!is_int || v->type == EV_TIMESTAMP ||
					(c->def.type != PQ_DATE && v->type == EV_DATE) ||
					v->i < lo || v->i > hi)
					goto mismatch;
				s->kind = ST_I32;
				s->i = v->i;
				return true;
			}
		case PQ_INT64:
			if (!is_int || v->type == EV_DATE)
				goto mismatch;
			s->kind = ST_I64;
			s->i = v->i;
			return true;
		case PQ_TIMESTAMP_US:
			if (v->type != EV_TIMESTAMP && !(v->untyped && v->type == EV_INT))
				goto mismatch;
			s->kind = ST_I64;
			s->i = v->i;
			return true;
		case PQ_FLOAT:
		case PQ_DOUBLE:
			if (v->type != EV_DOUBLE && !is_int)
				goto mismatch;
			s->kind = ST_DOUBLE;
			s->d = v->type == EV_DOUBLE ? v->d : (double) v->i;
			return true;
		case PQ_DECIMAL:
			{
				__int128	dv;

				s->ptr = (const char *) s->dec;
				if (v->type == EV_DECIMAL)
				{
					if (stage_decimal(c, v->dec, v->scale, s))
						return true;
				}
				else if (v->type == EV_INT)
				{
					if (stage_decimal(c, (__int128) v->i, 0, s))
						return true;
				}
				else if ((v->type == EV_STRING || (v->untyped && v->type == EV_DOUBLE)) &&
						 decimal_parse_text(v->s, v->len, c->def.scale, &dv) &&
						 stage_decimal(c, dv, c->def.scale, s))
					return true;
				goto mismatch;
			}
		case PQ_BINARY:
			if (v->type != EV_BINARY && v->type != EV_STRING)
				goto mismatch;
			s->kind = ST_BYTES;
			s->ptr = v->s;
			s->len = v->len;
			return true;
	}
mismatch:
	snprintf(errstr, errlen, "column \"%s\" (%s) cannot hold this value",
			 c->name, c->delta_type);
	return false;
}

/* ---- files and commits ------------------------------------------------ */

static bool
open_file(Table *t, char *errstr, size_t errlen)
{
	PqColumnDef *defs;
	char		key[sizeof(t->key) + sizeof(t->file_name) + 1];
	unsigned char rnd[8];
	int			fd;
	static uint64_t counter;

	/* a random name: a crashed run's orphan can never be reused */
	fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, rnd, sizeof(rnd)) != sizeof(rnd))
	{
		uint64_t	x = (uint64_t) clock_wall_ms() ^ ((uint64_t) getpid() << 32) ^ ++counter;

		memcpy(rnd, &x, sizeof(rnd));
	}
	if (fd >= 0)
		close(fd);
	snprintf(t->file_name, sizeof(t->file_name),
			 "part-00000-%02x%02x%02x%02x-%02x%02x-%02x%02x-%" PRIx64 "-c000.zstd.parquet",
			 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7],
			 (uint64_t) clock_wall_ms());
	/* written aside, then put in the store by the commit that adds it */
	snprintf(key, sizeof(key), "%s/%s", t->key, t->file_name);
	if (!objstore_stage_path(t->store, key, t->stage, sizeof(t->stage),
							 errstr, errlen))
		return false;
	defs = malloc(t->ncols * sizeof(PqColumnDef));
	if (defs == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		return false;
	}
	for (int i = 0; i < t->ncols; i++)
		defs[i] = t->cols[i].def;
	t->pq = parquet_open(t->stage, defs, t->ncols, &t->opts.parquet, errstr, errlen);
	free(defs);
	t->file_rows = 0;
	return t->pq != NULL;
}

/* The table's columns as the Delta log describes them (malloc'd). */
static DeltaColumn *
delta_schema_of(const Table *t)
{
	DeltaColumn *schema = calloc(t->ncols ? t->ncols : 1, sizeof(DeltaColumn));

	if (schema == NULL)
		return NULL;
	for (int i = 0; i < t->ncols; i++)
	{
		schema[i].name = t->cols[i].name;
		schema[i].type = t->cols[i].delta_type;
		schema[i].nullable = true;
		schema[i].physical_name = t->cols[i].physical;
		schema[i].id = t->cols[i].id;
	}
	return schema;
}

/*
 * Our columns against the log's (as last read), when the table maps
 * columns: another writer may have added a column we added too, or given
 * an id we gave.  A column the log has takes the log's id and physical
 * name, and a column it lacks an id above every id of the log's.  The
 * physical names agree unless both turned mapping on at once (see
 * delta_new_physical_name and start_mapping).  A file we hold with rows
 * is written: its columns keep the physical names (and Parquet field_ids)
 * we gave them.  Mode name reads a file by physical name, so only another
 * physical name keeps it from being committed; mode id reads by field_id,
 * so another id does too.  The table then stops.
 */
static bool
match_log_mapping(Table *t, const DeltaColumn *cols, int ncols, char *errstr,
				  size_t errlen)
{
	int64_t		next = delta_max_column_id(t->delta);
	bool		by_id = delta_column_mapping_by_id(t->delta);
	bool		renumber = false;

	for (int i = 0; i < t->ncols; i++)
	{
		TableColumn *c = &t->cols[i];
		const DeltaColumn *lc = NULL;
		const char *physical;

		for (int k = 0; k < ncols && lc == NULL; k++)
			if (strcmp(cols[k].name, c->name) == 0)
				lc = &cols[k];
		if (lc == NULL)
		{
			renumber |= c->id <= next;
			continue;
		}
		/* an unmapped log's columns are in its files under their names */
		physical = lc->physical_name ? lc->physical_name : lc->name;
		if (t->file_rows > 0 &&
			(strcmp(c->physical, physical) != 0 ||
			 (by_id && lc->id != c->id)))
		{
			snprintf(errstr, errlen, "another writer gave column \"%s\" "
					 "physical name \"%s\" and id %" PRId64 ", the file we "
					 "hold has \"%s\" and id %" PRId64, c->name, physical,
					 lc->id, c->physical, c->id);
			return false;
		}
		free(c->physical);
		c->physical = bytebuf_xstrdup(physical);
		if (lc->id > 0)
			c->id = lc->id;
		alias_def_name(c);
	}
	for (int i = 0; renumber && i < t->ncols; i++)
	{
		TableColumn *c = &t->cols[i];
		bool		in_log = false;

		for (int k = 0; k < ncols && !in_log; k++)
			in_log = strcmp(cols[k].name, c->name) == 0;
		if (in_log)
			continue;
		if (by_id && t->file_rows > 0)
		{
			snprintf(errstr, errlen, "another writer gave column id %" PRId64
					 " of \"%s\" in the file we hold to another column",
					 c->id, c->name);
			return false;
		}
		c->id = ++next;
		alias_def_name(c);
	}
	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].id > next)
			next = t->cols[i].id;
	if (next > t->max_id)
		t->max_id = next;
	return true;
}

/*
 * Takes the columns other writers added to the log's schema (the log as
 * last read): a commit must not drop them from it.  Only between files: a
 * Parquet file has one schema.  When another writer turned column mapping
 * on (see start_mapping), the file we hold named every column by its name.
 */
static bool
adopt_log_columns(Table *t, char *errstr, size_t errlen)
{
	int			ncols = 0;
	const DeltaColumn *cols = delta_schema(t->delta, &ncols);

	if (delta_column_mapping(t->delta) && !t->mapped)
	{
		t->mapped = true;
		for (int i = 0; i < t->ncols; i++)
		{
			free(t->cols[i].physical);
			t->cols[i].physical = bytebuf_xstrdup(t->cols[i].name);
			t->cols[i].id = 0;
			alias_def_name(&t->cols[i]);
		}
		log_info("table %s: column mapping turned on by another writer", t->dir);
	}
	if (t->mapped && !match_log_mapping(t, cols, ncols, errstr, errlen))
		return false;
	for (int i = 0; i < ncols; i++)
	{
		/* an unmapped log's columns are in its files under their names */
		const char *physical = cols[i].physical_name ? cols[i].physical_name :
			t->mapped ? cols[i].name : NULL;

		if (find_column(t, cols[i].name) >= 0)
			continue;
		for (int k = 0; k < t->ncols; k++)
			if (delta_names_clash(t->cols[k].name, cols[i].name))
			{
				/*
				 * Both added one name but for case at once: Delta takes
				 * one of them, and our file is written.  After a restart,
				 * ours is stored under its case_alias() name.
				 */
				snprintf(errstr, errlen, "another writer added column \"%s\", "
						 "which equals our new column \"%s\" but for case",
						 cols[i].name, t->cols[k].name);
				return false;
			}
		if (!add_column(t, cols[i].name, cols[i].type, physical, cols[i].id,
						errstr, errlen))
			return false;
	}
	return ncols == 0 || ensure_meta_columns(t, errstr, errlen);
}

/*
 * After losing a commit race: re-read the log.  Appends by other writers
 * (other partitions of a shared consumer group) do not conflict with ours,
 * as in Delta's own optimistic concurrency for blind appends; the commit is
 * retried at the next version, with any columns they added kept.  If one of
 * our partitions moved in the log, someone else consumes it: a real
 * conflict, and the caller stops.
 */
static bool
concurrent_append_ok(Table *t, char *errstr, size_t errlen)
{
	char		id[512];

	if (!delta_refresh(t->delta, errstr, errlen))
		return false;
	for (int i = 0; i < t->nparts; i++)
	{
		TablePart  *p = &t->parts[i];

		app_id(id, sizeof(id), p->topic, p->partition);
		if (delta_txn_version(t->delta, id) != p->committed)
		{
			snprintf(errstr, errlen,
					 "another writer committed %s up to offset %" PRId64 " (we hold %" PRId64 ")",
					 id, delta_txn_version(t->delta, id), p->committed);
			return false;
		}
	}
	if (!adopt_log_columns(t, errstr, errlen))
		return false;
	log_debug("table %s: version %" PRId64 " was another writer's; retrying",
			  t->dir, delta_version(t->delta));
	return true;
}

TableResult
table_flush(Table *t, char *errstr, size_t errlen)
{
	DeltaColumn *schema = NULL;
	DeltaTxn   *txns = NULL;
	char	  (*ids)[512] = NULL;
	DeltaAdd	add;
	DeltaCommit c;
	PqFileStats st;
	char	   *stats = NULL;
	int			ntxns = 0;
	int64_t		now = clock_wall_ms();
	int64_t		rows = t->file_rows;
	char		offsets[512] = "";	/* for the log line */
	size_t		olen = 0;
	DeltaResult r;
	TableResult result = TABLE_FATAL;
	ByteBuf		params = {0};

	if (!t->pending)
		return TABLE_OK;
	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	if (t->pq)
	{
		bool		ok = parquet_close(t->pq, &st, errstr, errlen);
		char		key[sizeof(t->key) + sizeof(t->file_name) + 1];

		t->pq = NULL;
		/*
		 * The file goes into the store before the commit that adds it is
		 * written, so no reader ever sees a commit without its file.  A
		 * failed put fails the flush: the rows are still in Kafka, and the
		 * next run writes them again.
		 */
		snprintf(key, sizeof(key), "%s/%s", t->key, t->file_name);
		if (ok && objstore_put_file(t->store, key, t->stage, errstr, errlen) != OBJSTORE_OK)
			ok = false;
		if (!ok)
		{
			unlink(t->stage);
			parquet_file_stats_free(&st);
			return TABLE_FATAL;
		}
		stats = parquet_stats_json(&st);
		add.path = t->file_name;
		add.size = st.file_size;
		add.modification_time = now;
		add.stats_json = stats;
		c.adds = &add;
		c.nadds = 1;
	}
	txns = calloc(t->nparts ? t->nparts : 1, sizeof(DeltaTxn));
	ids = calloc(t->nparts ? t->nparts : 1, sizeof(*ids));
	if (!txns || !ids)
	{
		snprintf(errstr, errlen, "out of memory");
		goto done;
	}
	for (int i = 0; i < t->nparts; i++)
	{
		TablePart  *p = &t->parts[i];

		if (p->consumed <= p->committed)
			continue;
		app_id(ids[ntxns], sizeof(ids[ntxns]), p->topic, p->partition);
		txns[ntxns].app_id = ids[ntxns];
		txns[ntxns].version = p->consumed;
		txns[ntxns].last_updated = now;
		ntxns++;
	}
	if (c.nadds == 0 && ntxns == 0)
	{
		t->pending = false;
		result = TABLE_OK;
		goto done;
	}
	/* dead letters first: their offsets are in this commit */
	if (t->opts.deadletter &&
		!deadletter_sync(t->opts.deadletter, errstr, errlen))
		goto done;

	/*
	 * Another writer may have widened the schema since we read the log (a
	 * rebalance refreshes it): keep its columns.  And offsets of messages
	 * that made no row (bad ones, tombstones, transaction events) before a
	 * new table's first row still need a first commit, which needs a
	 * schema: the change-log columns; its first row adds the rest.
	 */
	if (!adopt_log_columns(t, errstr, errlen) ||
		(t->ncols == 0 && !ensure_meta_columns(t, errstr, errlen)))
		goto done;
	if ((schema = delta_schema_of(t)) == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		goto done;
	}
	c.txns = txns;
	c.ntxns = ntxns;
	c.operation = "STREAMING UPDATE";
	c.timestamp = now;
	if (t->skipped.len > 0)
	{
		/* {"skippedOffsets":"[\"topic [p] @a..b\",...]"}: values are strings */
		ByteBuf		arr = {0};

		bytebuf_append(&arr, "[", 1);
		bytebuf_append(&arr, t->skipped.data, t->skipped.len);
		bytebuf_append(&arr, "]", 1);
		bytebuf_append(&params, "{\"skippedOffsets\":", 18);
		json_out_string(&params, (const char *) arr.data, arr.len);
		bytebuf_append(&params, "}", 2);
		bytebuf_free(&arr);
		c.operation_parameters_json = (const char *) params.data;
	}
	for (int attempt = 0;; attempt++)
	{
		c.schema = schema;
		c.nschema = t->ncols;
		r = delta_commit(t->delta, &c, errstr, errlen);
		if (r != DELTA_CONFLICT || attempt >= 100)
			break;
		/* another writer got this version first: see if we may go on */
		if (!concurrent_append_ok(t, errstr, errlen))
		{
			r = DELTA_CONFLICT;
			break;
		}
		/* the other writer's commits may have widened our columns */
		free(schema);
		if ((schema = delta_schema_of(t)) == NULL)
		{
			snprintf(errstr, errlen, "out of memory");
			goto done;
		}
	}
	if (r != DELTA_OK)
	{
		if (r == DELTA_CONFLICT)
			log_error("table %s: %s; stopping", t->dir, errstr);
		goto done;
	}
	if (errstr[0])
	{
		/* the commit stands; only its .crc or checkpoint failed */
		log_warn("table %s: %s", t->dir, errstr);
		errstr[0] = '\0';
	}
	/* what an operator looks for: one line per commit, with its offsets */
	for (int i = 0; i < t->nparts; i++)
	{
		TablePart  *p = &t->parts[i];

		if (p->consumed > p->committed && olen < sizeof(offsets))
			olen += snprintf(offsets + olen, sizeof(offsets) - olen, "%s%s [%d] @%" PRId64,
							 olen ? ", " : "", p->topic, (int) p->partition, p->consumed);
		p->committed = p->consumed;
	}
	t->pending = false;
	t->file_rows = 0;
	t->skipped.len = 0;
	log_info("table %s: committed version %" PRId64 ": %" PRId64 " row(s), up to %s",
			 t->dir, delta_version(t->delta), rows, offsets);
	result = TABLE_OK;
done:
	bytebuf_free(&params);
	free(stats);
	parquet_file_stats_free(&st);
	free(schema);
	free(txns);
	free(ids);
	return result;
}

/*
 * A schemaless null says nothing about its column's type: the column is
 * created by the first non-null value (until then the rows read as null).
 */
static bool
untyped_null(const EventValue *v)
{
	return v->type == EV_NULL && v->want_type == NULL;
}

/*
 * Column mapping (PROTOCOL.md "Column Mapping", mode name) is turned on for
 * a table when a column arrives whose name Delta allows only with it
 * (delta_name_needs_mapping).  The columns already in the log keep their
 * names as physical names, as the protocol enables mapping on a table with
 * data, so files already committed stay readable; every other column gets
 * "col-<uuid>".  The commit that follows carries the protocol upgrade
 * (reader 2, writer 5) and the metaData.  Mapping is never turned off.
 */
static void
start_mapping(Table *t)
{
	int			nlog = 0;
	const DeltaColumn *logcols = delta_schema(t->delta, &nlog);

	t->mapped = true;
	for (int i = 0; i < t->ncols; i++)
	{
		TableColumn *c = &t->cols[i];
		char		fresh[48];
		bool		committed = false;

		for (int k = 0; k < nlog && !committed; k++)
			committed = strcmp(logcols[k].name, c->name) == 0;
		if (!committed)
			new_physical_name(t, c->name, fresh);
		c->physical = bytebuf_xstrdup(committed ? c->name : fresh);
		c->id = ++t->max_id;
		alias_def_name(c);
	}
	log_info("table %s: column mapping on (a column name needs it)", t->dir);
}

/* Adds the column of source value v, named by the rules above. */
static bool
add_source_column(Table *t, const EventValue *v, char *errstr, size_t errlen)
{
	size_t		n = strlen(v->name);
	char	   *buf = bytebuf_xmalloc(n + 2);
	char	   *alias = NULL;
	const char *name;
	bool		ok;

	buf[0] = '_';
	memcpy(buf + 1, v->name, n + 1);
	name = source_is_reserved(v->name) ? buf : buf + 1;
	for (int i = 0; i < t->ncols && alias == NULL; i++)
		if (delta_names_clash(t->cols[i].name, name))
			name = alias = case_alias(v->name);
	for (int i = 0; i < t->ncols && alias != NULL; i++)
		if (delta_names_clash(t->cols[i].name, alias))
		{
			/* two source names equal but for case, and the same h */
			snprintf(errstr, errlen, "column \"%s\": its name and the name it "
					 "would take, \"%s\", are both taken (names equal but "
					 "for case)", v->name, alias);
			free(alias);
			free(buf);
			return false;
		}
	if (!t->mapped && delta_name_needs_mapping(name))
		start_mapping(t);
	ok = add_column(t, name, v->want_type ? v->want_type : "string", NULL, 0,
					errstr, errlen);
	if (ok && alias != NULL)
		log_info("table %s: column \"%s\" is stored as \"%s\" (another "
				 "column's name equals it but for case)", t->dir, v->name, alias);
	free(alias);
	free(buf);
	return ok;
}

/* Adds the columns a row has and the table lacks (after a commit). */
static TableResult
evolve(Table *t, const EventRow *row, char *errstr, size_t errlen)
{
	bool		fresh = t->ncols == 0;
	int			added = 0;

	for (int i = 0; i < row->nvalues; i++)
	{
		const EventValue *v = &row->values[i];

		if (find_source_column(t, v->name) >= 0 || untyped_null(v))
			continue;
		if (t->pq && t->file_rows > 0)
		{
			/* a Parquet file has one schema: close this one first */
			if (table_flush(t, errstr, errlen) != TABLE_OK)
				return TABLE_FATAL;
			/* ... whose commit may have taken it from another writer's */
			if (find_source_column(t, v->name) >= 0)
				continue;
		}
		else if (t->pq)
		{
			parquet_abort(t->pq);
			t->pq = NULL;
		}
		if (!add_source_column(t, v, errstr, errlen))
			return TABLE_FATAL;
		added++;
	}
	if (fresh && !ensure_meta_columns(t, errstr, errlen))
		return TABLE_FATAL;
	if (added && !fresh)
		log_info("table %s: %d new column(s), now %d", t->dir, added, t->ncols);
	return TABLE_OK;
}

TableResult
table_append(Table *t, const char *topic, int32_t partition, int64_t offset,
			 int64_t kafka_ts_ms, const EventRow *row, char *errstr,
			 size_t errlen)
{
	TablePart  *part;
	char		opbuf[2] = {row->op, '\0'};
	Staged	   *s;
	TableResult r;
	bool		need_evolve = t->ncols == 0;

	if (t->nhint < row->nvalues)
	{
		int		   *nh = realloc(t->hint, row->nvalues * sizeof(int));

		if (nh == NULL)
			goto oom;
		for (int i = t->nhint; i < row->nvalues; i++)
			nh[i] = i;
		t->hint = nh;
		t->nhint = row->nvalues;
	}
	/* map values to columns, usually at the same position as last time */
	for (int i = 0; i < row->nvalues && !need_evolve; i++)
	{
		int			h = t->hint[i];

		if (h >= 0 && h < t->ncols && !source_is_reserved(row->values[i].name) &&
			strcmp(t->cols[h].name, row->values[i].name) == 0)
			continue;
		h = find_source_column(t, row->values[i].name);
		if (h < 0 && !untyped_null(&row->values[i]))
			need_evolve = true;
		t->hint[i] = h;
	}
	if (need_evolve)
	{
		if ((r = evolve(t, row, errstr, errlen)) != TABLE_OK)
			return r;
		for (int i = 0; i < row->nvalues; i++)
			t->hint[i] = find_source_column(t, row->values[i].name);
	}

	/* stage everything first: a bad value must not leave half a row */
	for (int i = 0; i < t->ncols; i++)
		t->staged[i].kind = ST_NULL;
	t->text.len = 0;
	for (int i = 0; i < row->nvalues; i++)
	{
		const TableColumn *c;

		if (t->hint[i] < 0)
			continue;			/* an untyped null of a column not yet seen */
		c = &t->cols[t->hint[i]];

		if (!stage_value(t, c, &row->values[i], &t->staged[t->hint[i]],
						 errstr, errlen))
			return TABLE_BAD_ROW;
	}

	part = get_part(t, topic, partition);
	if (part == NULL)
		goto oom;
	if (t->pq == NULL && !open_file(t, errstr, errlen))
		return TABLE_FATAL;

	for (int i = 0; i < t->ncols; i++)
	{
		s = &t->staged[i];
		switch (s->kind)
		{
			case ST_NULL:
				break;
			case ST_BOOL:
				parquet_set_bool(t->pq, i, s->i != 0);
				break;
			case ST_I32:
				parquet_set_int32(t->pq, i, (int32_t) s->i);
				break;
			case ST_I64:
				parquet_set_int64(t->pq, i, s->i);
				break;
			case ST_DOUBLE:
				parquet_set_double(t->pq, i, s->d);
				break;
			case ST_BYTES:
				parquet_set_bytes(t->pq, i, s->ptr, s->len);
				break;
			case ST_TEXT:
				parquet_set_bytes(t->pq, i, t->text.data + s->off, s->len);
				break;
		}
	}
	parquet_set_bytes(t->pq, t->meta[META_OP], opbuf, 1);
	if (row->has_lsn)
		parquet_set_int64(t->pq, t->meta[META_LSN], row->lsn);
	if (row->has_txid)
		parquet_set_int64(t->pq, t->meta[META_TXID], row->txid);
	if (row->has_ts_ms)
		parquet_set_int64(t->pq, t->meta[META_TS_MS], row->ts_ms);
	parquet_set_bytes(t->pq, t->meta[META_TOPIC], topic, strlen(topic));
	parquet_set_int32(t->pq, t->meta[META_PARTITION], partition);
	parquet_set_int64(t->pq, t->meta[META_OFFSET], offset);
	if (kafka_ts_ms >= 0)
		parquet_set_int64(t->pq, t->meta[META_KAFKA_TS], kafka_ts_ms * 1000);
	if (!parquet_end_row(t->pq, errstr, errlen))
		return TABLE_FATAL;
	t->file_rows++;
	if (offset > part->consumed)
		part->consumed = offset;
	mark_pending(t);
	return TABLE_OK;
oom:
	snprintf(errstr, errlen, "out of memory");
	return TABLE_FATAL;
}
