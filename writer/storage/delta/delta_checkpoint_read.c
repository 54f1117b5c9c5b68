/*-------------------------------------------------------------------------
 *
 * delta_checkpoint_read.c
 *	  Reads a classic (V1) Delta checkpoint, single file or multi-part, and
 *	  hands its actions to a DeltaCheckpointSink (see delta_checkpoint.h).
 *
 * Owns record assembly for the few shapes a checkpoint has: optional
 * structs of scalars, and maps / lists of strings under metaData.  Leaves
 * are found by path, so extra columns (stats_parsed, tags, deletionVector,
 * V2 fields) and any column order are fine, and a missing optional leaf
 * reads as all-null.  Maps and lists are found by their prefix
 * (metaData.configuration.*), whatever the writer named the repeated
 * group (key_value, map, list, bag).  The Parquet decoding is pq_read.c;
 * what an action does to the table state is delta_log.c's.
 *
 * Work is one row group at a time: its needed column chunks are decoded,
 * its rows applied, and the chunks freed before the next row group.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta_checkpoint.h"
#include "pq_read.h"

typedef enum CpField
{
	F_TXN_APP,
	F_TXN_VERSION,
	F_TXN_UPDATED,
	F_ADD_PATH,
	F_ADD_SIZE,
	F_ADD_MTIME,
	F_ADD_STATS,
	F_META_ID,
	F_META_SCHEMA,
	F_META_CREATED,
	F_META_PARTCOLS,			/* list<string> */
	F_META_CONF_KEY,			/* map<string,string> */
	F_META_CONF_VALUE,
	F_META_NAME,
	F_META_DESCRIPTION,
	F_META_FORMAT,
	F_META_FORMAT_OPTION_KEY,	/* map<string,string> */
	F_META_FORMAT_OPTION_VALUE,
	F_PROTO_READER,
	F_PROTO_WRITER,
	F_COUNT
} CpField;

typedef enum CpKindOf
{
	K_INT,
	K_STRING,
	K_LIST						/* repeated leaf, any scalar type */
} CpKindOf;

static const struct
{
	const char *path;			/* below the top-level column, or a prefix */
	const char *top;
	CpKindOf	kind;
}			cp_fields[F_COUNT] = {
	[F_TXN_APP] = {"appId", DELTA_CP_TXN, K_STRING},
	[F_TXN_VERSION] = {"version", DELTA_CP_TXN, K_INT},
	[F_TXN_UPDATED] = {"lastUpdated", DELTA_CP_TXN, K_INT},
	[F_ADD_PATH] = {"path", DELTA_CP_ADD, K_STRING},
	[F_ADD_SIZE] = {"size", DELTA_CP_ADD, K_INT},
	[F_ADD_MTIME] = {"modificationTime", DELTA_CP_ADD, K_INT},
	[F_ADD_STATS] = {"stats", DELTA_CP_ADD, K_STRING},
	[F_META_ID] = {"id", DELTA_CP_METADATA, K_STRING},
	[F_META_SCHEMA] = {"schemaString", DELTA_CP_METADATA, K_STRING},
	[F_META_CREATED] = {"createdTime", DELTA_CP_METADATA, K_INT},
	[F_META_PARTCOLS] = {"partitionColumns", DELTA_CP_METADATA, K_LIST},
	[F_META_CONF_KEY] = {"configuration", DELTA_CP_METADATA, K_LIST},
	[F_META_CONF_VALUE] = {"configuration", DELTA_CP_METADATA, K_LIST},
	[F_META_NAME] = {"name", DELTA_CP_METADATA, K_STRING},
	[F_META_DESCRIPTION] = {"description", DELTA_CP_METADATA, K_STRING},
	[F_META_FORMAT] = {"format.provider", DELTA_CP_METADATA, K_STRING},
	[F_META_FORMAT_OPTION_KEY] = {"format.options", DELTA_CP_METADATA, K_LIST},
	[F_META_FORMAT_OPTION_VALUE] = {"format.options", DELTA_CP_METADATA, K_LIST},
	[F_PROTO_READER] = {"minReaderVersion", DELTA_CP_PROTOCOL, K_INT},
	[F_PROTO_WRITER] = {"minWriterVersion", DELTA_CP_PROTOCOL, K_INT},
};

/* One needed leaf of the current row group, with its read cursor. */
typedef struct CpColumn
{
	int			leaf;			/* -1: not in the file, all null */
	const PqReadLeaf *info;
	PqColumnValues vals;
	int64_t		level;			/* next level entry */
	int64_t		value;			/* next value */
	int64_t		row_end;		/* level entries of the current row end here */
} CpColumn;

/* The n-th leaf (0-based) whose path starts with "top.name.". */
static int
cp_find_under(const PqReader *r, const char *top, const char *name, int nth)
{
	char		prefix[256];
	size_t		plen;

	snprintf(prefix, sizeof(prefix), "%s.%s.", top, name);
	plen = strlen(prefix);
	for (int i = 0; i < pq_read_num_leaves(r); i++)
	{
		if (strncmp(pq_read_leaf(r, i)->path, prefix, plen) == 0 && nth-- == 0)
			return i;
	}
	return -1;
}

static bool
cp_map_leaves(const PqReader *r, CpColumn *cols, const char *file,
			  char *errstr, size_t errlen)
{
	for (int f = 0; f < F_COUNT; f++)
	{
		const PqReadLeaf *l;
		bool		type_ok;

		memset(&cols[f], 0, sizeof(CpColumn));
		if (cp_fields[f].kind == K_LIST)
			cols[f].leaf = cp_find_under(r, cp_fields[f].top, cp_fields[f].path,
										 f == F_META_CONF_VALUE ||
										 f == F_META_FORMAT_OPTION_VALUE ? 1 : 0);
		else
		{
			char		path[256];

			snprintf(path, sizeof(path), "%s.%s", cp_fields[f].top,
					 cp_fields[f].path);
			cols[f].leaf = pq_read_find_leaf(r, path);
		}
		if (cols[f].leaf < 0)
			continue;
		l = pq_read_leaf(r, cols[f].leaf);
		cols[f].info = l;
		switch (cp_fields[f].kind)
		{
			case K_INT:
				type_ok = l->max_rep == 0 && (l->physical == PQ_PHYS_INT32 ||
											  l->physical == PQ_PHYS_INT64);
				break;
			case K_STRING:
				type_ok = l->max_rep == 0 && l->physical == PQ_PHYS_BYTE_ARRAY;
				break;
			default:
				type_ok = l->max_rep == 1 && l->physical == PQ_PHYS_BYTE_ARRAY;
				break;
		}
		if (!type_ok)
		{
			snprintf(errstr, errlen, "\"%s\": column \"%s\" has an unexpected "
					 "type (physical %d, repetition depth %d)", file, l->path,
					 l->physical, l->max_rep);
			return false;
		}
	}
	return true;
}

/* Positions every column on the next row's level entries. */
static void
cp_next_row(CpColumn *cols)
{
	for (int f = 0; f < F_COUNT; f++)
	{
		CpColumn   *c = &cols[f];

		if (c->leaf < 0)
			continue;
		c->row_end = c->level + 1;
		while (c->row_end < c->vals.nlevels && c->vals.rep[c->row_end] != 0)
			c->row_end++;
	}
}

/* Moves past the current row, consuming its values. */
static void
cp_end_row(CpColumn *cols)
{
	for (int f = 0; f < F_COUNT; f++)
	{
		CpColumn   *c = &cols[f];

		if (c->leaf < 0)
			continue;
		for (; c->level < c->row_end; c->level++)
			if (c->vals.def[c->level] == c->info->max_def)
				c->value++;
	}
}

/* Scalar of the current row; NULL when null or absent. */
static const char *
cp_str(const CpColumn *c)
{
	if (c->leaf < 0 || c->vals.def[c->level] != c->info->max_def)
		return NULL;
	return pq_column_str(&c->vals, c->value);
}

static bool
cp_int(const CpColumn *c, int64_t *v)
{
	if (c->leaf < 0 || c->vals.def[c->level] != c->info->max_def)
		return false;
	*v = c->vals.ints[c->value];
	return true;
}

static int64_t
cp_int_or(const CpColumn *c, int64_t dflt)
{
	int64_t		v;

	return cp_int(c, &v) ? v : dflt;
}

/*
 * Elements of a repeated leaf in the current row: entries whose def reaches
 * the repeated group are elements; of those, def == max_def has a value.
 * Fills out[] (NULL for a null element) and returns the count.
 */
static int
cp_elements(const CpColumn *c, const char **out, int max)
{
	int64_t		value = c->value;
	int			n = 0;

	if (c->leaf < 0)
		return 0;
	for (int64_t i = c->level; i < c->row_end; i++)
	{
		bool		has = c->vals.def[i] == c->info->max_def;

		if (c->vals.def[i] >= c->info->elem_def && n < max)
			out[n++] = has ? pq_column_str(&c->vals, value) : NULL;
		if (has)
			value++;
	}
	return n;
}

static int
cp_count_elements(const CpColumn *c)
{
	int			n = 0;

	if (c->leaf < 0)
		return 0;
	for (int64_t i = c->level; i < c->row_end; i++)
		n += c->vals.def[i] >= c->info->elem_def;
	return n;
}

/*
 * A map<string,string> of the current row (its key and value leaves) into
 * *keys and *values (malloc'd, strings valid as long as the row group's
 * columns); returns the count, or -1 with errstr set when the keys and
 * values do not pair up.  A map key is never null; a null value reads as
 * "", as in JSON.
 */
static int
cp_map(const CpColumn *key_col, const CpColumn *value_col, const char *what,
	   const char ***keys, const char ***values, char *errstr, size_t errlen)
{
	int			n = cp_count_elements(key_col);
	int			nk,
				nv,
				kept = 0;

	*keys = bytebuf_xcalloc(n + 1, sizeof(char *));
	*values = bytebuf_xcalloc(n + 1, sizeof(char *));
	nk = cp_elements(key_col, *keys, n);
	nv = value_col->leaf >= 0 ? cp_elements(value_col, *values, n) : nk;
	if (nv != nk)
	{
		snprintf(errstr, errlen, "metaData.%s has %d keys and %d values",
				 what, nk, nv);
		return -1;
	}
	for (int i = 0; i < nk; i++)
	{
		if ((*keys)[i] == NULL)
			continue;
		(*keys)[kept] = (*keys)[i];
		(*values)[kept] = (*values)[i] ? (*values)[i] : "";
		kept++;
	}
	return kept;
}

static bool
cp_apply_metadata(CpColumn *cols, const DeltaCheckpointSink *sink,
				  char *errstr, size_t errlen)
{
	DeltaMetadataAction md = {0};
	const char **keys,
			  **values,
			  **opt_keys,
			  **opt_values;
	bool		ok;

	md.id = cp_str(&cols[F_META_ID]);
	md.name = cp_str(&cols[F_META_NAME]);
	md.description = cp_str(&cols[F_META_DESCRIPTION]);
	md.format_provider = cp_str(&cols[F_META_FORMAT]);
	md.nformat_options = cp_map(&cols[F_META_FORMAT_OPTION_KEY],
								&cols[F_META_FORMAT_OPTION_VALUE], "format.options",
								&opt_keys, &opt_values, errstr, errlen);
	md.format_option_keys = opt_keys;
	md.format_option_values = opt_values;
	md.schema_string = cp_str(&cols[F_META_SCHEMA]);
	md.npartition_columns = cp_count_elements(&cols[F_META_PARTCOLS]);
	md.nconfig = cp_map(&cols[F_META_CONF_KEY], &cols[F_META_CONF_VALUE],
						"configuration",
						&keys, &values, errstr, errlen);
	md.config_keys = keys;
	md.config_values = values;
	md.created_time = cp_int_or(&cols[F_META_CREATED], DELTA_DEFAULT_CREATED_TIME);
	ok = md.nformat_options >= 0 && md.nconfig >= 0 &&
		sink->metadata(sink->arg, &md, errstr, errlen);
	free(keys);
	free(values);
	free(opt_keys);
	free(opt_values);
	return ok;
}

/* Applies the rows of one row group. */
static bool
cp_apply_rows(CpColumn *cols, int64_t nrows, const char *file,
			  const DeltaCheckpointSink *sink, bool *saw_protocol,
			  bool *saw_metadata, char *errstr, size_t errlen)
{
	for (int64_t row = 0; row < nrows; row++)
	{
		const char *s;
		int64_t		reader,
					writer;

		cp_next_row(cols);
		if ((s = cp_str(&cols[F_TXN_APP])) != NULL)
			sink->txn(sink->arg, s,
					  cp_int_or(&cols[F_TXN_VERSION], DELTA_DEFAULT_TXN_VERSION),
					  cp_int_or(&cols[F_TXN_UPDATED], 0));
		if ((s = cp_str(&cols[F_ADD_PATH])) != NULL)
			sink->add(sink->arg, s, cp_int_or(&cols[F_ADD_SIZE], 0),
					  cp_int_or(&cols[F_ADD_MTIME], 0),
					  cp_str(&cols[F_ADD_STATS]));
		if (cp_str(&cols[F_META_ID]) || cp_str(&cols[F_META_SCHEMA]))
		{
			char		why[512];

			if (!cp_apply_metadata(cols, sink, why, sizeof(why)))
			{
				snprintf(errstr, errlen, "\"%s\": %s", file, why);
				return false;
			}
			*saw_metadata = true;
		}
		if (cp_int(&cols[F_PROTO_READER], &reader) |
			cp_int(&cols[F_PROTO_WRITER], &writer))
		{
			reader = cp_int_or(&cols[F_PROTO_READER], DELTA_DEFAULT_MIN_READER);
			writer = cp_int_or(&cols[F_PROTO_WRITER], DELTA_DEFAULT_MIN_WRITER);
			/* checked before the int conversion: 2^32 + 1 must not pass as 1 */
			if (!delta_protocol_version_ok(reader) ||
				!delta_protocol_version_ok(writer))
			{
				snprintf(errstr, errlen, "\"%s\": protocol version out of range "
						 "(minReaderVersion %" PRId64 ", minWriterVersion %"
						 PRId64 ")", file, reader, writer);
				return false;
			}
			if (!sink->protocol(sink->arg, (int) reader, (int) writer, file,
								errstr, errlen))
				return false;
			*saw_protocol = true;
		}
		cp_end_row(cols);
	}
	return true;
}

static bool
cp_read_part(const char *file, const DeltaCheckpointSink *sink,
			 bool *saw_protocol, bool *saw_metadata,
			 char *errstr, size_t errlen)
{
	PqReader   *r = pq_read_open(file, errstr, errlen);
	CpColumn	cols[F_COUNT];
	bool		any_leaf = false;
	bool		ok;

	if (r == NULL)
		return false;
	ok = cp_map_leaves(r, cols, file, errstr, errlen);
	for (int f = 0; ok && f < F_COUNT; f++)
		any_leaf |= cols[f].leaf >= 0;

	/*
	 * Without any needed leaf no row can carry an action, and the row
	 * count is then checked against no decoded column: skip the row
	 * groups rather than walk up to 2^63 empty rows.
	 */
	for (int rg = 0; ok && any_leaf && rg < pq_read_num_row_groups(r); rg++)
	{
		for (int f = 0; ok && f < F_COUNT; f++)
		{
			cols[f].level = cols[f].value = 0;
			if (cols[f].leaf >= 0)
				ok = pq_read_column(r, rg, cols[f].leaf, &cols[f].vals,
									errstr, errlen);
		}
		if (ok)
			ok = cp_apply_rows(cols, pq_read_row_group_rows(r, rg), file, sink,
							   saw_protocol, saw_metadata, errstr, errlen);
		for (int f = 0; f < F_COUNT; f++)
			pq_column_values_free(&cols[f].vals);
	}
	pq_read_close(r);
	return ok;
}

bool
delta_checkpoint_read(const char *const *parts, int nparts,
					  const DeltaCheckpointSink *sink,
					  char *errstr, size_t errlen)
{
	bool		saw_protocol = false;
	bool		saw_metadata = false;

	for (int i = 0; i < nparts; i++)
	{
		if (!cp_read_part(parts[i], sink, &saw_protocol, &saw_metadata,
						  errstr, errlen))
			return false;
	}
	if (!saw_protocol || !saw_metadata)
	{
		snprintf(errstr, errlen, "\"%s\": checkpoint has no %s action",
				 parts[0], saw_protocol ? "metaData" : "protocol");
		return false;
	}
	return true;
}
