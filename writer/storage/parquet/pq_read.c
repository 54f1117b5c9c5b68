/*-------------------------------------------------------------------------
 *
 * pq_read.c
 *	  Parquet footer, schema and column chunk access (see pq_read.h).
 *
 * The file ends with FileMetaData (Thrift compact), its 4-byte length and
 * "PAR1".  Only the footer is kept in memory; a column chunk is read with
 * pread() when asked for and freed once decoded, so a caller that works
 * one row group at a time holds at most that row group's chunks.
 *
 * Leaves get their levels from the schema tree: every non-REQUIRED node
 * on the path adds a definition level, every REPEATED one a repetition
 * level.  Column chunks are matched to leaves by path_in_schema, not by
 * position.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pq_page.h"
#include "pq_read.h"
#include "thrift_read.h"

#define PQ_MAGIC "PAR1"
#define PQ_MAX_FOOTER (64 * 1024 * 1024)
#define PQ_MAX_CHUNK ((int64_t) 1024 * 1024 * 1024)

/* parquet.thrift FieldRepetitionType */
#define PQ_REQUIRED	0
#define PQ_REPEATED	2

typedef struct PqChunkMeta
{
	bool		present;
	int			codec;
	int64_t		num_values;
	int64_t		start;			/* dictionary page, else first data page */
	int64_t		size;			/* total_compressed_size */
} PqChunkMeta;

typedef struct PqRowGroup
{
	int64_t		num_rows;
	PqChunkMeta *chunks;		/* one per leaf, owned */
} PqRowGroup;

struct PqReader
{
	int			fd;
	char	   *path;
	int64_t		file_size;
	int64_t		num_rows;
	PqReadLeaf *leaves;
	int			nleaves;
	PqRowGroup *rgs;
	int			nrgs;
};

/* A SchemaElement, as much as the tree walk needs. */
typedef struct PqSchemaNode
{
	char		name[256];
	int			type;			/* -1 for groups */
	int			repetition;
	int			nchildren;
} PqSchemaNode;

static void
pq_read_schema_node(ThriftReader *tr, PqSchemaNode *n)
{
	int16_t		last = 0,
				id;
	uint8_t		ft;

	memset(n, 0, sizeof(*n));
	n->type = -1;
	while (thrift_read_field(tr, &last, &id, &ft))
	{
		if (id == 1 && ft == THRIFT_I32)
			n->type = thrift_read_i32(tr);
		else if (id == 3 && ft == THRIFT_I32)
			n->repetition = thrift_read_i32(tr);
		else if (id == 4 && ft == THRIFT_BINARY)
		{
			uint32_t	len;
			const uint8_t *s = thrift_read_binary(tr, &len);

			if (len >= sizeof(n->name))
				len = sizeof(n->name) - 1;
			if (s)
				memcpy(n->name, s, len);
			n->name[len] = '\0';
		}
		else if (id == 5 && ft == THRIFT_I32)
			n->nchildren = thrift_read_i32(tr);
		else
			thrift_read_skip(tr, ft);
	}
}

/* Turns the depth-first schema list into leaves. */
static bool
pq_read_schema(PqReader *r, ThriftReader *tr, char *errstr, size_t errlen)
{
	uint8_t		et;
	uint32_t	n;
	PqSchemaNode node;
	/* per open group: children left, def, rep, elem_def, path length */
	int			remaining[PQ_READ_MAX_LEVEL + 1];
	int			defs[PQ_READ_MAX_LEVEL + 1];
	int			reps[PQ_READ_MAX_LEVEL + 1];
	int			elem_defs[PQ_READ_MAX_LEVEL + 1];
	size_t		plen[PQ_READ_MAX_LEVEL + 1];
	char		path[4096];
	int			depth = 0;

	if (!thrift_read_list(tr, &et, &n) || et != THRIFT_STRUCT || n == 0)
	{
		snprintf(errstr, errlen, "bad schema list in the footer");
		return false;
	}
	pq_read_schema_node(tr, &node);
	if (node.nchildren <= 0 || (uint32_t) node.nchildren >= n)
	{
		snprintf(errstr, errlen, "schema root has %d children for %u elements",
				 node.nchildren, n);
		return false;
	}
	remaining[0] = node.nchildren;
	defs[0] = reps[0] = elem_defs[0] = 0;
	plen[0] = 0;
	path[0] = '\0';
	r->leaves = bytebuf_xcalloc(n, sizeof(PqReadLeaf));
	for (uint32_t i = 1; i < n; i++)
	{
		int			d,
					rp,
					ed;
		size_t		pl;

		if (depth < 0 || remaining[depth] <= 0)
		{
			snprintf(errstr, errlen, "schema element %u is outside the tree", i);
			return false;
		}
		pq_read_schema_node(tr, &node);
		if (!thrift_read_ok(tr))
			break;
		remaining[depth]--;
		d = defs[depth] + (node.repetition != PQ_REQUIRED ? 1 : 0);
		rp = reps[depth] + (node.repetition == PQ_REPEATED ? 1 : 0);
		ed = node.repetition == PQ_REPEATED ? d : elem_defs[depth];
		pl = plen[depth];
		if (pl + strlen(node.name) + 2 >= sizeof(path) ||
			d > PQ_READ_MAX_LEVEL || rp > PQ_READ_MAX_LEVEL)
		{
			snprintf(errstr, errlen, "schema nested too deep");
			return false;
		}
		snprintf(path + pl, sizeof(path) - pl, "%s%s", pl ? "." : "", node.name);
		if (node.nchildren > 0)
		{
			if (depth + 1 > PQ_READ_MAX_LEVEL)
			{
				snprintf(errstr, errlen, "schema nested too deep");
				return false;
			}
			depth++;
			remaining[depth] = node.nchildren;
			defs[depth] = d;
			reps[depth] = rp;
			elem_defs[depth] = ed;
			plen[depth] = strlen(path);
			continue;
		}
		{
			PqReadLeaf *l = &r->leaves[r->nleaves++];

			l->path = bytebuf_xstrdup(path);
			l->physical = node.type;
			l->max_def = d;
			l->max_rep = rp;
			l->elem_def = ed;
		}
		while (depth > 0 && remaining[depth] == 0)
			depth--;
	}
	if (!thrift_read_ok(tr))
	{
		snprintf(errstr, errlen, "corrupt schema in the footer: %s", tr->why);
		return false;
	}
	if (depth != 0 || remaining[0] != 0)
	{
		snprintf(errstr, errlen, "schema tree has fewer elements than its "
				 "groups declare");
		return false;
	}
	return true;
}

static void
pq_read_path_in_schema(ThriftReader *tr, char *out, size_t outlen)
{
	uint8_t		et;
	uint32_t	n;
	size_t		at = 0;

	out[0] = '\0';
	if (!thrift_read_list(tr, &et, &n))
		return;
	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t	len;
		const uint8_t *s;

		if (et != THRIFT_BINARY)
		{
			thrift_read_skip(tr, et);
			continue;
		}
		s = thrift_read_binary(tr, &len);
		if (s == NULL)
			return;
		if (at + len + 2 < outlen)
		{
			if (at > 0)
				out[at++] = '.';
			memcpy(out + at, s, len);
			at += len;
			out[at] = '\0';
		}
	}
}

static bool
pq_read_column_chunk(PqReader *r, ThriftReader *tr, PqRowGroup *rg,
					 uint32_t pos, char *errstr, size_t errlen)
{
	int16_t		last = 0,
				id;
	uint8_t		ft;
	char		path[4096] = "";
	PqChunkMeta m = {0};
	int64_t		data_off = -1,
				dict_off = -1;
	bool		external = false;
	int			leaf;

	while (thrift_read_field(tr, &last, &id, &ft))
	{
		if (id == 1 && ft == THRIFT_BINARY)
		{
			uint32_t	len;

			thrift_read_binary(tr, &len);
			external = len > 0;
		}
		else if (id == 3 && ft == THRIFT_STRUCT)
		{
			int16_t		mlast = 0;

			while (thrift_read_field(tr, &mlast, &id, &ft))
			{
				if (id == 3 && ft == THRIFT_LIST)
					pq_read_path_in_schema(tr, path, sizeof(path));
				else if (id == 4 && ft == THRIFT_I32)
					m.codec = thrift_read_i32(tr);
				else if (id == 5 && ft == THRIFT_I64)
					m.num_values = thrift_read_i64(tr);
				else if (id == 7 && ft == THRIFT_I64)
					m.size = thrift_read_i64(tr);
				else if (id == 9 && ft == THRIFT_I64)
					data_off = thrift_read_i64(tr);
				else if (id == 11 && ft == THRIFT_I64)
					dict_off = thrift_read_i64(tr);
				else
					thrift_read_skip(tr, ft);
			}
		}
		else
			thrift_read_skip(tr, ft);
	}
	if (!thrift_read_ok(tr))
		return true;			/* the caller reports the Thrift error */
	if (external)
	{
		snprintf(errstr, errlen, "column \"%.256s\" is stored in another file "
				 "(not supported)", path);
		return false;
	}
	/* chunks come in schema order: try the leaf at this position first */
	if (pos < (uint32_t) r->nleaves && strcmp(r->leaves[pos].path, path) == 0)
		leaf = pos;
	else
		leaf = pq_read_find_leaf(r, path);
	if (leaf < 0)
	{
		snprintf(errstr, errlen, "column chunk \"%.256s\" is not in the schema", path);
		return false;
	}
	if (rg->chunks[leaf].present)
	{
		snprintf(errstr, errlen, "column chunk \"%.256s\" appears twice in a row "
				 "group", path);
		return false;
	}
	/* some writers put 0 in dictionary_page_offset when there is none */
	m.start = (dict_off >= 4 && dict_off < data_off) ? dict_off : data_off;
	/* compared as a subtraction: start + size can overflow */
	if (m.start < 4 || m.size < 0 || m.size > PQ_MAX_CHUNK ||
		m.start > r->file_size - m.size || m.num_values < 0)
	{
		snprintf(errstr, errlen, "column chunk \"%.256s\" has a bad offset or size",
				 path);
		return false;
	}
	m.present = true;
	rg->chunks[leaf] = m;
	return true;
}

static bool
pq_read_row_groups(PqReader *r, ThriftReader *tr, char *errstr, size_t errlen)
{
	uint8_t		et;
	uint32_t	n;

	if (!thrift_read_list(tr, &et, &n) || et != THRIFT_STRUCT)
	{
		snprintf(errstr, errlen, "bad row group list in the footer");
		return false;
	}
	r->rgs = bytebuf_xcalloc(n + 1, sizeof(PqRowGroup));
	for (uint32_t i = 0; i < n; i++)
	{
		PqRowGroup *rg = &r->rgs[r->nrgs++];
		int16_t		last = 0,
					id;
		uint8_t		ft;
		bool		have_rows = false;

		while (thrift_read_field(tr, &last, &id, &ft))
		{
			if (id == 1 && ft == THRIFT_LIST)
			{
				uint8_t		cet;
				uint32_t	nc;

				if (rg->chunks != NULL)
				{
					snprintf(errstr, errlen, "row group %u repeats its column "
							 "list", i);
					return false;
				}
				if (!thrift_read_list(tr, &cet, &nc) || cet != THRIFT_STRUCT)
					break;

				/*
				 * The format requires a chunk per leaf.  Checked before
				 * allocating: slots for every leaf in every row group would
				 * otherwise cost leaves x row groups however small the
				 * footer.
				 */
				if (nc != (uint32_t) r->nleaves)
				{
					snprintf(errstr, errlen, "row group %u has %u column chunks "
							 "for %d leaf columns", i, nc, r->nleaves);
					return false;
				}
				rg->chunks = bytebuf_xcalloc(r->nleaves, sizeof(PqChunkMeta));
				for (uint32_t c = 0; c < nc; c++)
					if (!pq_read_column_chunk(r, tr, rg, c, errstr, errlen))
						return false;
			}
			else if (id == 3 && ft == THRIFT_I64)
			{
				rg->num_rows = thrift_read_i64(tr);
				have_rows = true;
			}
			else
				thrift_read_skip(tr, ft);
		}
		if (!thrift_read_ok(tr))
			return true;		/* the caller reports the Thrift error */
		if (rg->chunks == NULL || !have_rows)
		{
			snprintf(errstr, errlen, "row group %u has no %s", i,
					 rg->chunks == NULL ? "column list" : "row count");
			return false;
		}
		if (rg->num_rows < 0)
		{
			snprintf(errstr, errlen, "row group %u has a negative row count", i);
			return false;
		}
	}
	return true;
}

static bool
pq_read_pread(PqReader *r, void *buf, size_t len, int64_t off,
			  char *errstr, size_t errlen)
{
	uint8_t    *p = buf;

	while (len > 0)
	{
		ssize_t		n = pread(r->fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			snprintf(errstr, errlen, "could not read \"%s\": %s", r->path,
					 n < 0 ? strerror(errno) : "unexpected end of file");
			return false;
		}
		p += n;
		len -= n;
		off += n;
	}
	return true;
}

PqReader *
pq_read_open(const char *path, char *errstr, size_t errlen)
{
	PqReader   *r = bytebuf_xcalloc(1, sizeof(PqReader));
	struct stat st;
	uint8_t		tail[8];
	uint32_t	flen;
	uint8_t    *footer = NULL;
	ThriftReader tr;
	int16_t		last = 0,
				id;
	uint8_t		ft;
	bool		have_schema = false;
	bool		have_row_groups = false;
	char		why[512] = "";

	r->path = bytebuf_xstrdup(path);
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st) != 0)
	{
		snprintf(errstr, errlen, "could not open \"%s\": %s", path,
				 strerror(errno));
		pq_read_close(r);
		return NULL;
	}
	r->file_size = st.st_size;
	if (r->file_size < 12)
	{
		snprintf(why, sizeof(why), "too short for a Parquet file");
		goto bad;
	}
	if (!pq_read_pread(r, tail, 4, 0, errstr, errlen))
		goto fail;
	if (memcmp(tail, PQ_MAGIC, 4) != 0)
	{
		snprintf(why, sizeof(why), "no PAR1 magic at the start");
		goto bad;
	}
	if (!pq_read_pread(r, tail, 8, r->file_size - 8, errstr, errlen))
		goto fail;
	if (memcmp(tail + 4, PQ_MAGIC, 4) != 0)
	{
		snprintf(why, sizeof(why), "no PAR1 magic at the end (truncated?)");
		goto bad;
	}
	memcpy(&flen, tail, 4);
	if (flen == 0 || flen > PQ_MAX_FOOTER || (int64_t) flen > r->file_size - 12)
	{
		snprintf(why, sizeof(why), "footer length %u does not fit the file", flen);
		goto bad;
	}
	footer = bytebuf_xmalloc(flen);
	if (!pq_read_pread(r, footer, flen, r->file_size - 8 - flen, errstr, errlen))
		goto fail;

	thrift_read_init(&tr, footer, flen);
	while (thrift_read_field(&tr, &last, &id, &ft))
	{
		/*
		 * A field given twice is corrupt, not an update: a second row group
		 * list would be read over the first one's bookkeeping.  Row groups
		 * need the leaves, so the schema (field 2) must come first, as
		 * Thrift writes fields in id order.
		 */
		if ((id == 2 || id == 4) && ft == THRIFT_LIST)
		{
			if (id == 2 ? have_schema : have_row_groups)
			{
				snprintf(why, sizeof(why), "footer repeats its %s",
						 id == 2 ? "schema" : "row group list");
				goto bad;
			}
			if (id == 4 && !have_schema)
			{
				snprintf(why, sizeof(why), "footer has row groups before its "
						 "schema");
				goto bad;
			}
			if (id == 2 && !pq_read_schema(r, &tr, why, sizeof(why)))
				goto bad;
			if (id == 4 && !pq_read_row_groups(r, &tr, why, sizeof(why)))
				goto bad;
			if (id == 2)
				have_schema = true;
			else
				have_row_groups = true;
		}
		else if (id == 3 && ft == THRIFT_I64)
			r->num_rows = thrift_read_i64(&tr);
		else
			thrift_read_skip(&tr, ft);
	}
	if (!thrift_read_ok(&tr))
	{
		snprintf(why, sizeof(why), "corrupt footer: %s", tr.why);
		goto bad;
	}
	if (!have_schema)
	{
		snprintf(why, sizeof(why), "footer has no schema");
		goto bad;
	}
	if (r->num_rows < 0)
	{
		snprintf(why, sizeof(why), "negative row count %" PRId64, r->num_rows);
		goto bad;
	}
	free(footer);
	return r;

bad:
	snprintf(errstr, errlen, "\"%s\" is not a readable Parquet file: %s",
			 path, why);
fail:
	free(footer);
	pq_read_close(r);
	return NULL;
}

void
pq_read_close(PqReader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (int i = 0; i < r->nleaves; i++)
		free(r->leaves[i].path);
	free(r->leaves);
	for (int i = 0; i < r->nrgs; i++)
		free(r->rgs[i].chunks);
	free(r->rgs);
	free(r->path);
	free(r);
}

int
pq_read_num_row_groups(const PqReader *r)
{
	return r->nrgs;
}

int64_t
pq_read_row_group_rows(const PqReader *r, int rg)
{
	return r->rgs[rg].num_rows;
}

int
pq_read_num_leaves(const PqReader *r)
{
	return r->nleaves;
}

const PqReadLeaf *
pq_read_leaf(const PqReader *r, int i)
{
	return &r->leaves[i];
}

int
pq_read_find_leaf(const PqReader *r, const char *path)
{
	for (int i = 0; i < r->nleaves; i++)
		if (strcmp(r->leaves[i].path, path) == 0)
			return i;
	return -1;
}

bool
pq_read_column(PqReader *r, int rg, int leaf, PqColumnValues *out,
			   char *errstr, size_t errlen)
{
	const PqChunkMeta *m = &r->rgs[rg].chunks[leaf];
	const PqReadLeaf *l = &r->leaves[leaf];
	uint8_t    *buf;
	bool		ok;
	char		why[512];

	memset(out, 0, sizeof(*out));
	if (!m->present)
	{
		snprintf(errstr, errlen, "\"%s\": row group %d has no chunk for "
				 "column \"%s\"", r->path, rg, l->path);
		return false;
	}
	buf = bytebuf_xmalloc(m->size > 0 ? m->size : 1);
	ok = pq_read_pread(r, buf, m->size, m->start, errstr, errlen);
	if (ok && !pq_page_decode_chunk(buf, m->size, m->codec, l, m->num_values,
									out, why, sizeof(why)))
	{
		snprintf(errstr, errlen, "\"%s\": column \"%s\", row group %d: %s",
				 r->path, l->path, rg, why);
		ok = false;
	}
	free(buf);
	if (ok)
	{
		/* a row starts at every repetition level 0 */
		int64_t		rows = 0;

		for (int64_t i = 0; i < out->nlevels; i++)
			rows += out->rep[i] == 0;
		if (rows != r->rgs[rg].num_rows)
		{
			snprintf(errstr, errlen, "\"%s\": column \"%s\" has %" PRId64
					 " rows, its row group %" PRId64, r->path, l->path,
					 rows, r->rgs[rg].num_rows);
			ok = false;
		}
	}
	if (!ok)
		pq_column_values_free(out);
	return ok;
}

void
pq_column_values_free(PqColumnValues *v)
{
	free(v->rep);
	free(v->def);
	free(v->ints);
	free(v->str_off);
	bytebuf_free(&v->strs);
	memset(v, 0, sizeof(*v));
}
