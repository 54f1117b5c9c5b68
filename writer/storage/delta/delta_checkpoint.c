/*-------------------------------------------------------------------------
 *
 * delta_checkpoint.c
 *	  Writes a V1 Delta checkpoint Parquet file (see delta_checkpoint.h).
 *
 * The file has one row per action: protocol, metaData, then one per txn
 * and one per live add.  Every top-level column is an optional struct and
 * exactly one is set per row.  Maps (partitionValues, format.options,
 * configuration) and the partitionColumns list are repeated groups, so
 * each leaf gets repetition and definition levels computed here from the
 * schema tree below; pages are PLAIN, zstd-compressed as the Delta
 * protocol recommends for checkpoints (a sixth of the size for 100 adds:
 * paths and stats repeat).  remove rows are never written:
 * this writer only appends, so the remove columns are all null.  The
 * top-level column names are shared with the reader (delta_checkpoint.h).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "bytebuf.h"
#include "delta_checkpoint.h"
#include "pq_rle.h"
#include "thrift.h"

#define PT_BOOLEAN		0
#define PT_INT32		1
#define PT_INT64		2
#define PT_BYTE_ARRAY	6
#define REQ 0
#define OPT 1
#define REP 2
#define CT_NONE			-1
#define CT_UTF8			0
#define CT_MAP			1
#define CT_LIST			3
#define GROUP			-1

typedef struct CpNode
{
	const char *name;
	int			repetition;
	int			nchildren;		/* groups only */
	int			type;			/* physical type, GROUP for groups */
	int			converted;
} CpNode;

/* Depth-first schema (PROTOCOL.md "Checkpoint Schema", subset we write). */
static const CpNode cp_schema[] = {
	{"spark_schema", REQ, 5, GROUP, CT_NONE},
	{DELTA_CP_TXN, OPT, 3, GROUP, CT_NONE},
	{"appId", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"version", OPT, 0, PT_INT64, CT_NONE},
	{"lastUpdated", OPT, 0, PT_INT64, CT_NONE},
	{DELTA_CP_ADD, OPT, 6, GROUP, CT_NONE},
	{"path", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"partitionValues", OPT, 1, GROUP, CT_MAP},
	{"key_value", REP, 2, GROUP, CT_NONE},
	{"key", REQ, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"value", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"size", OPT, 0, PT_INT64, CT_NONE},
	{"modificationTime", OPT, 0, PT_INT64, CT_NONE},
	{"dataChange", OPT, 0, PT_BOOLEAN, CT_NONE},
	{"stats", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{DELTA_CP_REMOVE, OPT, 3, GROUP, CT_NONE},
	{"path", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"deletionTimestamp", OPT, 0, PT_INT64, CT_NONE},
	{"dataChange", OPT, 0, PT_BOOLEAN, CT_NONE},
	{DELTA_CP_METADATA, OPT, 8, GROUP, CT_NONE},
	{"id", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"name", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"description", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"format", OPT, 2, GROUP, CT_NONE},
	{"provider", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"options", OPT, 1, GROUP, CT_MAP},
	{"key_value", REP, 2, GROUP, CT_NONE},
	{"key", REQ, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"value", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"schemaString", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"partitionColumns", OPT, 1, GROUP, CT_LIST},
	{"list", REP, 1, GROUP, CT_NONE},
	{"element", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"configuration", OPT, 1, GROUP, CT_MAP},
	{"key_value", REP, 2, GROUP, CT_NONE},
	{"key", REQ, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"value", OPT, 0, PT_BYTE_ARRAY, CT_UTF8},
	{"createdTime", OPT, 0, PT_INT64, CT_NONE},
	{DELTA_CP_PROTOCOL, OPT, 2, GROUP, CT_NONE},
	{"minReaderVersion", OPT, 0, PT_INT32, CT_NONE},
	{"minWriterVersion", OPT, 0, PT_INT32, CT_NONE},
};

#define CP_NNODES ((int) (sizeof(cp_schema) / sizeof(cp_schema[0])))
#define CP_MAX_DEPTH 6
#define CP_MAX_LEAVES 32

/* Top-level groups, in schema order; a row sets exactly one. */
typedef enum CpKind
{
	CP_TXN,
	CP_ADD,
	CP_REMOVE,
	CP_META,
	CP_PROTOCOL
} CpKind;

typedef struct CpLeaf
{
	const char *path[CP_MAX_DEPTH];
	int			npath;
	int			type;
	int			max_def;
	int			max_rep;
	int			container_def;	/* def level of an empty map/list */
	CpKind		top;
	int			node;			/* index in cp_schema */
	/* encoded column */
	ByteBuf		reps;			/* one byte per level entry */
	ByteBuf		defs;
	ByteBuf		values;			/* PLAIN; booleans one byte each */
	int64_t		nvalues;		/* level entries */
	int64_t		nonnull;
} CpLeaf;

typedef struct CpRow
{
	CpKind		kind;
	int			index;			/* into txns / adds */
} CpRow;

/* One value produced for a leaf; s == NULL && !is_int means null. */
typedef struct CpVal
{
	const char *s;
	int64_t		i;
	bool		is_int;
} CpVal;

static int
cp_build_leaves(CpLeaf *leaves)
{
	const char *stack[CP_MAX_DEPTH];
	int			remaining[CP_MAX_DEPTH];
	int			defs[CP_MAX_DEPTH];
	int			reps[CP_MAX_DEPTH];
	int			cdef[CP_MAX_DEPTH];
	int			depth = 0;
	int			nleaves = 0;
	int			top = -1;

	remaining[0] = cp_schema[0].nchildren;
	defs[0] = reps[0] = 0;
	cdef[0] = -1;
	for (int i = 1; i < CP_NNODES; i++)
	{
		const CpNode *n = &cp_schema[i];
		int			d = defs[depth] + (n->repetition != REQ ? 1 : 0);
		int			r = reps[depth] + (n->repetition == REP ? 1 : 0);
		int			c = n->repetition == REP ? defs[depth] : cdef[depth];

		if (depth == 0)
			top++;
		remaining[depth]--;
		if (n->type == GROUP)
		{
			depth++;
			stack[depth - 1] = n->name;
			remaining[depth] = n->nchildren;
			defs[depth] = d;
			reps[depth] = r;
			cdef[depth] = c;
			continue;
		}
		{
			CpLeaf	   *l = &leaves[nleaves++];

			memset(l, 0, sizeof(*l));
			for (int k = 0; k < depth; k++)
				l->path[k] = stack[k];
			l->path[depth] = n->name;
			l->npath = depth + 1;
			l->type = n->type;
			l->max_def = d;
			l->max_rep = r;
			l->container_def = c;
			l->top = (CpKind) top;
			l->node = i;
		}
		while (depth > 0 && remaining[depth] == 0)
			depth--;
	}
	return nleaves;
}

/*
 * The map a repeated metaData leaf belongs to (configuration or
 * format.options): its keys, values and count; 0 for partitionColumns
 * (always empty: the writer writes unpartitioned tables).
 */
static int
cp_meta_map(const DeltaCheckpointInput *in, const CpLeaf *l,
			const char *const **keys, const char *const **values)
{
	const DeltaMetadataAction *md = &in->meta;

	if (strcmp(l->path[1], "configuration") == 0)
	{
		*keys = md->config_keys;
		*values = md->config_values;
		return md->nconfig;
	}
	if (strcmp(l->path[1], "format") == 0)
	{
		*keys = md->format_option_keys;
		*values = md->format_option_values;
		return md->nformat_options;
	}
	return 0;
}

/* Leaf values for a row of the leaf's own kind; returns the count, or -1
 * for a scalar (one value in *v). */
static int
cp_values(const DeltaCheckpointInput *in, const CpLeaf *l, CpRow row,
		  CpVal *v, int max)
{
	const char *leaf = l->path[l->npath - 1];

	memset(v, 0, sizeof(CpVal));
	switch (row.kind)
	{
		case CP_TXN:
			{
				const DeltaTxn *t = &in->txns[row.index];

				if (strcmp(leaf, "appId") == 0)
					v->s = t->app_id;
				else if (strcmp(leaf, "version") == 0)
				{
					v->i = t->version;
					v->is_int = true;
				}
				else
				{
					v->i = t->last_updated;
					v->is_int = true;
				}
				return -1;
			}
		case CP_ADD:
			{
				const DeltaAdd *a = &in->adds[row.index];

				if (l->max_rep > 0)
					return 0;	/* unpartitioned: empty map */
				if (strcmp(leaf, "path") == 0)
					v->s = a->path;
				else if (strcmp(leaf, "size") == 0)
				{
					v->i = a->size;
					v->is_int = true;
				}
				else if (strcmp(leaf, "modificationTime") == 0)
				{
					v->i = a->modification_time;
					v->is_int = true;
				}
				else if (strcmp(leaf, "dataChange") == 0)
				{
					/* checkpointed adds are not new data */
					v->i = 0;
					v->is_int = true;
				}
				else if (strcmp(leaf, "stats") == 0)
					v->s = a->stats_json;
				return -1;
			}
		case CP_META:
			if (l->max_rep > 0)
			{
				const char *const *keys = NULL;
				const char *const *values = NULL;
				int			n = cp_meta_map(in, l, &keys, &values);

				n = n < max ? n : max;
				for (int i = 0; i < n; i++)
				{
					memset(&v[i], 0, sizeof(CpVal));
					v[i].s = strcmp(leaf, "key") == 0 ? keys[i] : values[i];
				}
				return n;
			}
			if (strcmp(leaf, "id") == 0)
				v->s = in->meta.id;
			else if (strcmp(leaf, "name") == 0)
				v->s = in->meta.name;
			else if (strcmp(leaf, "description") == 0)
				v->s = in->meta.description;
			else if (strcmp(leaf, "provider") == 0)
				v->s = in->meta.format_provider ? in->meta.format_provider :
					"parquet";
			else if (strcmp(leaf, "schemaString") == 0)
				v->s = in->meta.schema_string;
			else if (strcmp(leaf, "createdTime") == 0 &&
					 in->meta.created_time >= 0)
			{
				v->i = in->meta.created_time;
				v->is_int = true;
			}
			return -1;
		case CP_PROTOCOL:
			v->i = strcmp(leaf, "minReaderVersion") == 0 ? in->min_reader :
				in->min_writer;
			v->is_int = true;
			return -1;
		case CP_REMOVE:
			break;
	}
	return -1;
}

static void
cp_put_value(CpLeaf *l, const CpVal *v)
{
	switch (l->type)
	{
		case PT_BYTE_ARRAY:
			{
				uint32_t	n = (uint32_t) strlen(v->s);

				bytebuf_put_le32(&l->values, n);
				bytebuf_append(&l->values, v->s, n);
				break;
			}
		case PT_INT64:
			bytebuf_append(&l->values, &v->i, 8);
			break;
		case PT_INT32:
			{
				int32_t		x = (int32_t) v->i;

				bytebuf_append(&l->values, &x, 4);
				break;
			}
		case PT_BOOLEAN:
			bytebuf_putc(&l->values, v->i ? 1 : 0);
			break;
	}
	l->nonnull++;
}

static void
cp_level(CpLeaf *l, int rep, int def)
{
	bytebuf_putc(&l->reps, (uint8_t) rep);
	bytebuf_putc(&l->defs, (uint8_t) def);
	l->nvalues++;
}

static void
cp_emit(const DeltaCheckpointInput *in, CpLeaf *l, CpRow row)
{
	CpVal		one;
	CpVal	   *vals = &one;
	int			max = 1;
	int			n;

	if (row.kind != l->top)
	{
		cp_level(l, 0, 0);
		return;
	}
	/* a metaData map: an element per entry, however many */
	if (row.kind == CP_META && l->max_rep > 0)
	{
		const char *const *keys;
		const char *const *values;
		int			n_entries = cp_meta_map(in, l, &keys, &values);

		if (n_entries > 1)
		{
			max = n_entries;
			vals = bytebuf_xcalloc(max, sizeof(CpVal));
		}
	}
	n = cp_values(in, l, row, vals, max);
	if (n < 0)
	{
		if (vals[0].s == NULL && !vals[0].is_int)
			cp_level(l, 0, l->max_def - 1);
		else
		{
			cp_level(l, 0, l->max_def);
			cp_put_value(l, &vals[0]);
		}
	}
	else if (n == 0)
		cp_level(l, 0, l->container_def);
	else
	{
		for (int i = 0; i < n; i++)
		{
			int			rep = i == 0 ? 0 : l->max_rep;

			if (vals[i].s == NULL && !vals[i].is_int)
				cp_level(l, rep, l->max_def - 1);
			else
			{
				cp_level(l, rep, l->max_def);
				cp_put_value(l, &vals[i]);
			}
		}
	}
	if (vals != &one)
		free(vals);
}

/*
 * Encodes the leaf's single data page (header + zstd-compressed body) into
 * out; its size before and after compression in *uncompressed and
 * *compressed, header included.
 */
static void
cp_page(CpLeaf *l, ByteBuf *out, int64_t *uncompressed, int64_t *compressed)
{
	ByteBuf		body = {0};
	ByteBuf		zbody = {0};
	ByteBuf		hdr = {0};
	ThriftWriter tw;
	size_t		zlen;

	if (l->max_rep > 0)
		pq_rle_encode_levels(&body, l->reps.data, l->nvalues, l->max_rep);
	if (l->max_def > 0)
		pq_rle_encode_levels(&body, l->defs.data, l->nvalues, l->max_def);
	if (l->type == PT_BOOLEAN)
	{
		size_t		nbytes = (l->nonnull + 7) / 8;

		bytebuf_reserve(&body, nbytes);
		memset(body.data + body.len, 0, nbytes);
		for (int64_t i = 0; i < l->nonnull; i++)
			if (l->values.data[i])
				body.data[body.len + i / 8] |= 1 << (i % 8);
		body.len += nbytes;
	}
	else
		bytebuf_append(&body, l->values.data, l->values.len);

	bytebuf_reserve(&zbody, ZSTD_compressBound(body.len));
	zlen = ZSTD_compress(zbody.data, ZSTD_compressBound(body.len),
						 body.data, body.len, 3);
	if (ZSTD_isError(zlen))		/* only on a bad argument: never expected */
	{
		fprintf(stderr, "checkpoint: zstd: %s\n", ZSTD_getErrorName(zlen));
		abort();
	}
	zbody.len = zlen;

	thrift_init(&tw, &hdr);
	thrift_struct_begin(&tw);
	thrift_field_i32(&tw, 1, 0);	/* DATA_PAGE */
	thrift_field_i32(&tw, 2, (int32_t) body.len);
	thrift_field_i32(&tw, 3, (int32_t) zbody.len);
	thrift_field_struct_begin(&tw, 5);
	thrift_field_i32(&tw, 1, (int32_t) l->nvalues);
	thrift_field_i32(&tw, 2, 0);	/* PLAIN */
	thrift_field_i32(&tw, 3, 3);	/* RLE */
	thrift_field_i32(&tw, 4, 3);
	thrift_struct_end(&tw);
	thrift_struct_end(&tw);
	bytebuf_append(out, hdr.data, hdr.len);
	bytebuf_append(out, zbody.data, zbody.len);
	*uncompressed = hdr.len + body.len;
	*compressed = hdr.len + zbody.len;
	bytebuf_free(&body);
	bytebuf_free(&zbody);
	bytebuf_free(&hdr);
}

static void
cp_footer(ByteBuf *out, CpLeaf *leaves, int nleaves, int64_t nrows,
		  const int64_t *offsets, const int64_t *usizes, const int64_t *zsizes)
{
	ThriftWriter tw;
	int64_t		utotal = 0;
	int64_t		ztotal = 0;

	for (int i = 0; i < nleaves; i++)
	{
		utotal += usizes[i];
		ztotal += zsizes[i];
	}
	thrift_init(&tw, out);
	thrift_struct_begin(&tw);
	thrift_field_i32(&tw, 1, 1);
	thrift_field_list_begin(&tw, 2, THRIFT_STRUCT, CP_NNODES);
	for (int i = 0; i < CP_NNODES; i++)
	{
		const CpNode *n = &cp_schema[i];

		thrift_elem_struct_begin(&tw);
		if (n->type != GROUP)
			thrift_field_i32(&tw, 1, n->type);
		if (i > 0)
			thrift_field_i32(&tw, 3, n->repetition);
		thrift_field_string(&tw, 4, n->name);
		if (n->type == GROUP)
			thrift_field_i32(&tw, 5, n->nchildren);
		if (n->converted != CT_NONE)
			thrift_field_i32(&tw, 6, n->converted);
		if (n->converted == CT_UTF8 || n->converted == CT_MAP ||
			n->converted == CT_LIST)
		{
			/* LogicalType union: STRING = 1, MAP = 2, LIST = 3 */
			thrift_field_struct_begin(&tw, 10);
			thrift_field_struct_begin(&tw, n->converted == CT_UTF8 ? 1 :
									  n->converted == CT_MAP ? 2 : 3);
			thrift_struct_end(&tw);
			thrift_struct_end(&tw);
		}
		thrift_struct_end(&tw);
	}
	thrift_field_i64(&tw, 3, nrows);
	thrift_field_list_begin(&tw, 4, THRIFT_STRUCT, 1);
	thrift_elem_struct_begin(&tw);
	thrift_field_list_begin(&tw, 1, THRIFT_STRUCT, nleaves);
	for (int i = 0; i < nleaves; i++)
	{
		CpLeaf	   *l = &leaves[i];

		thrift_elem_struct_begin(&tw);
		thrift_field_i64(&tw, 2, offsets[i]);
		thrift_field_struct_begin(&tw, 3);
		thrift_field_i32(&tw, 1, l->type);
		thrift_field_list_begin(&tw, 2, THRIFT_I32, 2);
		thrift_elem_i32(&tw, 0);
		thrift_elem_i32(&tw, 3);
		thrift_field_list_begin(&tw, 3, THRIFT_BINARY, l->npath);
		for (int k = 0; k < l->npath; k++)
			thrift_elem_string(&tw, l->path[k]);
		thrift_field_i32(&tw, 4, 6);	/* ZSTD */
		thrift_field_i64(&tw, 5, l->nvalues);
		thrift_field_i64(&tw, 6, usizes[i]);
		thrift_field_i64(&tw, 7, zsizes[i]);
		thrift_field_i64(&tw, 9, offsets[i]);
		thrift_struct_end(&tw);
		thrift_struct_end(&tw);
	}
	thrift_field_i64(&tw, 2, utotal);
	thrift_field_i64(&tw, 3, nrows);
	thrift_field_i64(&tw, 5, offsets[0]);
	thrift_field_i64(&tw, 6, ztotal);
	thrift_field_i16(&tw, 7, 0);
	thrift_struct_end(&tw);
	thrift_field_string(&tw, 6, "cdc_kafka version 1.0.0 (build cdc_kafka)");
	thrift_struct_end(&tw);
}

void
delta_checkpoint_build(const DeltaCheckpointInput *in, ByteBuf *file,
					   int64_t *nactions)
{
	CpLeaf		leaves[CP_MAX_LEAVES];
	int			nleaves = cp_build_leaves(leaves);
	int64_t		nrows = 2 + in->ntxns + in->nadds;
	int64_t		offsets[CP_MAX_LEAVES];
	int64_t		usizes[CP_MAX_LEAVES];
	int64_t		zsizes[CP_MAX_LEAVES];
	ByteBuf		meta = {0};

	for (int64_t r = 0; r < nrows; r++)
	{
		CpRow		row;

		if (r == 0)
			row.kind = CP_PROTOCOL, row.index = 0;
		else if (r == 1)
			row.kind = CP_META, row.index = 0;
		else if (r < 2 + in->ntxns)
			row.kind = CP_TXN, row.index = (int) (r - 2);
		else
			row.kind = CP_ADD, row.index = (int) (r - 2 - in->ntxns);
		for (int i = 0; i < nleaves; i++)
			cp_emit(in, &leaves[i], row);
	}
	bytebuf_append(file, "PAR1", 4);
	for (int i = 0; i < nleaves; i++)
	{
		offsets[i] = (int64_t) file->len;
		cp_page(&leaves[i], file, &usizes[i], &zsizes[i]);
	}
	cp_footer(&meta, leaves, nleaves, nrows, offsets, usizes, zsizes);
	bytebuf_append(file, meta.data, meta.len);
	bytebuf_put_le32(file, (uint32_t) meta.len);
	bytebuf_append(file, "PAR1", 4);

	for (int i = 0; i < nleaves; i++)
	{
		bytebuf_free(&leaves[i].reps);
		bytebuf_free(&leaves[i].defs);
		bytebuf_free(&leaves[i].values);
	}
	bytebuf_free(&meta);
	*nactions = nrows;
}
