/*-------------------------------------------------------------------------
 *
 * parquet.c
 *	  Streaming writer of flat Parquet files (see parquet.h).
 *
 * Layout per row group and column: an optional dictionary page, then v1
 * data pages, each page body (definition levels, then values) compressed
 * with zstd as one unit.  Pages are encoded and compressed as soon as they
 * fill, so the row group in memory is mostly compressed bytes; the
 * dictionary page is written first but built last, which is why data pages
 * are kept in a per-column buffer until the row group is flushed.
 *
 * Dictionary decisions, per column chunk: a column starts in dictionary
 * mode; when its first 4096 values, or its first page if shorter, are more
 * than half distinct, they are re-encoded PLAIN and the dictionary dropped
 * (ids, timestamps); when the dictionary outgrows dictionary_max_bytes, the
 * remaining pages of the chunk are PLAIN (what parquet-java does).
 *
 * Statistics are kept per chunk (footer min_value/max_value/null_count)
 * and per file (rendered for the Delta add action's stats).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "json_out.h"
#include "parquet.h"
#include "pq_rle.h"
#include "thrift.h"

/* Parquet enums (parquet.thrift). */
#define PT_BOOLEAN		0
#define PT_INT32		1
#define PT_INT64		2
#define PT_FLOAT		4
#define PT_DOUBLE		5
#define PT_BYTE_ARRAY	6
#define PT_FLBA			7
#define ENC_PLAIN		0
#define ENC_RLE			3
#define ENC_RLE_DICT	8
#define CT_UTF8			0
#define CT_DECIMAL		5
#define CT_DATE			6
#define CT_TIMESTAMP_MICROS 10
#define CT_INT_16		16
#define CODEC_UNCOMPRESSED 0
#define CODEC_ZSTD		6
#define PAGE_DATA		0
#define PAGE_DICT		2

/* Larger chunk statistics are left out of the footer (readers cope). */
#define PQ_MAX_STAT_BYTES 4096
/* Delta truncates string statistics to this many characters. */
#define PQ_DELTA_STRING_PREFIX 32
#define PQ_DECIMAL_FLBA_LEN 16

typedef enum PqKind
{
	K_BOOL,
	K_I32,
	K_I64,
	K_FLOAT,
	K_DOUBLE,
	K_BYTES,
	K_FLBA
} PqKind;

typedef struct PqStats
{
	int64_t		null_count;
	bool		has;			/* min/max set */
	bool		nan;			/* a NaN was seen (Delta min/max omitted) */
	__int128	imin, imax;		/* integer kinds and decimals */
	double		dmin, dmax;		/* float, double */
	ByteBuf		bmin, bmax;		/* byte arrays */
} PqStats;

typedef struct PqChunkMeta
{
	int64_t		start;			/* file offset of the chunk */
	int64_t		data_page_offset;
	int64_t		dict_page_offset;	/* -1 if none */
	int64_t		num_values;
	int64_t		uncompressed;	/* incl. page headers */
	int64_t		compressed;
	bool		used_dict;
	bool		used_plain;
	int64_t		null_count;
	uint8_t    *min;			/* PLAIN-encoded statistics, or NULL */
	uint8_t    *max;
	uint32_t	min_len, max_len;
} PqChunkMeta;

typedef struct PqRowGroupMeta
{
	int64_t		num_rows;
	int64_t		uncompressed;
	int64_t		compressed;
	PqChunkMeta *chunks;		/* ncols */
} PqRowGroupMeta;

typedef struct PqColumn
{
	char	   *name;
	PqType		type;
	PqKind		kind;
	int			width;			/* fixed value size, 0 for byte arrays */
	int			precision;
	int			scale;
	bool		nullable;
	int32_t		field_id;		/* SchemaElement.field_id, 0 = none */
	bool		row_set;		/* set in the current row */

	/* the page being filled */
	uint8_t    *defs;			/* definition level per value */
	size_t		defs_cap;
	uint32_t	page_values;	/* incl. nulls */
	uint32_t	page_nonnull;
	size_t		page_bytes;		/* PLAIN-equivalent size */
	ByteBuf		plain;			/* values in PLAIN mode (bools: 1 byte) */
	uint32_t   *idx;			/* dictionary indices in dict mode */
	size_t		idx_cap;

	/* dictionary of the current chunk */
	bool		dict_mode;
	ByteBuf		dict;			/* PLAIN-encoded entries */
	uint32_t   *dict_off;
	uint32_t   *dict_hash;
	uint32_t	dict_n;
	uint32_t	dict_cap;
	uint32_t   *ht;				/* open addressing: entry + 1, 0 = empty */
	uint32_t	ht_mask;
	uint32_t	dict_pages;		/* data pages written with the dictionary */
	uint64_t	dict_values;	/* values those pages encode */
	uint32_t	plain_pages;

	/* the current chunk */
	ByteBuf		pages;			/* encoded data pages */
	int64_t		chunk_values;
	int64_t		chunk_uncompressed;
	PqStats		chunk_stats;
	PqStats		file_stats;
} PqColumn;

struct PqWriter
{
	char	   *path;
	int			fd;
	PqOptions	opt;
	int			ncols;
	PqColumn   *cols;
	int64_t		offset;			/* bytes written so far */
	int64_t		num_rows;
	int64_t		rg_rows;
	size_t		buffered;		/* bytes held for the current row group */
	PqRowGroupMeta *rgs;
	int			nrgs;
	int			rgs_cap;
	ZSTD_CCtx  *cctx;
	ByteBuf		body;			/* scratch: page body */
	ByteBuf		zbuf;			/* scratch: compressed body */
	ByteBuf		hdr;			/* scratch: page header */
	ByteBuf		val;			/* scratch: one PLAIN byte-array value */
	bool		failed;
	char		error[256];
};

static void
pq_fail(PqWriter *w, const char *fmt,...)
{
	va_list		ap;

	if (w->failed)
		return;
	w->failed = true;
	va_start(ap, fmt);
	vsnprintf(w->error, sizeof(w->error), fmt, ap);
	va_end(ap);
}

void
parquet_options_default(PqOptions *opt)
{
	opt->row_group_bytes = 64 * 1024 * 1024;
	opt->page_bytes = 1024 * 1024;
	opt->zstd_level = 3;
	opt->dictionary = true;
	opt->dictionary_max_bytes = 1024 * 1024;
	opt->created_by = NULL;
}

static uint32_t
pq_hash(const uint8_t *p, size_t n)
{
	uint64_t	h = 0x9E3779B97F4A7C15ULL ^ n;
	uint64_t	k;

	while (n >= 8)
	{
		memcpy(&k, p, 8);
		h = (h ^ k) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
		p += 8;
		n -= 8;
	}
	k = 0;
	memcpy(&k, p, n);
	h = (h ^ k) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	return (uint32_t) h;
}

/* ---------- statistics ---------- */

static void
pq_stats_int(PqStats *s, __int128 v)
{
	if (!s->has)
	{
		s->imin = s->imax = v;
		s->has = true;
	}
	else if (v < s->imin)
		s->imin = v;
	else if (v > s->imax)
		s->imax = v;
}

static void
pq_stats_double(PqStats *s, double v)
{
	if (isnan(v))
	{
		s->nan = true;
		return;
	}
	if (!s->has)
	{
		s->dmin = s->dmax = v;
		s->has = true;
	}
	else if (v < s->dmin)
		s->dmin = v;
	else if (v > s->dmax)
		s->dmax = v;
}

static int
pq_bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t		n = alen < blen ? alen : blen;
	int			c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

static void
pq_stats_bytes(PqStats *s, const uint8_t *p, size_t n)
{
	if (!s->has)
	{
		s->bmin.len = s->bmax.len = 0;
		bytebuf_append(&s->bmin, p, n);
		bytebuf_append(&s->bmax, p, n);
		s->has = true;
		return;
	}
	if (pq_bytes_cmp(p, n, s->bmin.data, s->bmin.len) < 0)
	{
		s->bmin.len = 0;
		bytebuf_append(&s->bmin, p, n);
	}
	else if (pq_bytes_cmp(p, n, s->bmax.data, s->bmax.len) > 0)
	{
		s->bmax.len = 0;
		bytebuf_append(&s->bmax, p, n);
	}
}

static __int128
pq_flba_to_int(const uint8_t *p)
{
	__int128	v = (int8_t) p[0];

	for (int i = 1; i < PQ_DECIMAL_FLBA_LEN; i++)
		v = v * 256 + p[i];
	return v;
}

static void
pq_int_to_flba(__int128 v, uint8_t *p)
{
	for (int i = PQ_DECIMAL_FLBA_LEN - 1; i >= 0; i--)
	{
		p[i] = (uint8_t) (v & 0xff);
		v >>= 8;
	}
}

/* Updates stats from one PLAIN-encoded value (byte arrays: without the
 * length prefix). */
static void
pq_stats_value(PqColumn *c, PqStats *s, const uint8_t *p, size_t n)
{
	switch (c->kind)
	{
		case K_BOOL:
			pq_stats_int(s, p[0]);
			break;
		case K_I32:
			{
				int32_t		v;

				memcpy(&v, p, 4);
				pq_stats_int(s, v);
				break;
			}
		case K_I64:
			{
				int64_t		v;

				memcpy(&v, p, 8);
				pq_stats_int(s, v);
				break;
			}
		case K_FLOAT:
			{
				float		v;

				memcpy(&v, p, 4);
				pq_stats_double(s, v);
				break;
			}
		case K_DOUBLE:
			{
				double		v;

				memcpy(&v, p, 8);
				pq_stats_double(s, v);
				break;
			}
		case K_BYTES:
			pq_stats_bytes(s, p, n);
			break;
		case K_FLBA:
			pq_stats_int(s, pq_flba_to_int(p));
			break;
	}
}

static void
pq_stats_merge(PqColumn *c, PqStats *into, const PqStats *from)
{
	into->null_count += from->null_count;
	into->nan |= from->nan;
	if (!from->has)
		return;
	switch (c->kind)
	{
		case K_FLOAT:
		case K_DOUBLE:
			pq_stats_double(into, from->dmin);
			pq_stats_double(into, from->dmax);
			break;
		case K_BYTES:
			pq_stats_bytes(into, from->bmin.data, from->bmin.len);
			pq_stats_bytes(into, from->bmax.data, from->bmax.len);
			break;
		default:
			pq_stats_int(into, from->imin);
			pq_stats_int(into, from->imax);
	}
}

static void
pq_stats_reset(PqStats *s)
{
	s->null_count = 0;
	s->has = false;
	s->nan = false;
	s->bmin.len = s->bmax.len = 0;
}

/* PLAIN encoding of a statistic for the footer; false if not written. */
static bool
pq_stats_encode(PqColumn *c, const PqStats *s, bool want_max,
				uint8_t **out, uint32_t *outlen)
{
	uint8_t		tmp[16];
	const uint8_t *p = tmp;
	size_t		n;

	if (!s->has)
		return false;
	switch (c->kind)
	{
		case K_BOOL:
			tmp[0] = (uint8_t) (want_max ? s->imax : s->imin);
			n = 1;
			break;
		case K_I32:
			{
				int32_t		v = (int32_t) (want_max ? s->imax : s->imin);

				memcpy(tmp, &v, 4);
				n = 4;
				break;
			}
		case K_I64:
			{
				int64_t		v = (int64_t) (want_max ? s->imax : s->imin);

				memcpy(tmp, &v, 8);
				n = 8;
				break;
			}
		case K_FLOAT:
			{
				float		v = (float) (want_max ? s->dmax : s->dmin);

				memcpy(tmp, &v, 4);
				n = 4;
				break;
			}
		case K_DOUBLE:
			{
				double		v = want_max ? s->dmax : s->dmin;

				memcpy(tmp, &v, 8);
				n = 8;
				break;
			}
		case K_FLBA:
			pq_int_to_flba(want_max ? s->imax : s->imin, tmp);
			n = PQ_DECIMAL_FLBA_LEN;
			break;
		case K_BYTES:
		default:
			p = want_max ? s->bmax.data : s->bmin.data;
			n = want_max ? s->bmax.len : s->bmin.len;
			if (s->bmin.len > PQ_MAX_STAT_BYTES ||
				s->bmax.len > PQ_MAX_STAT_BYTES)
				return false;
			break;
	}
	*out = bytebuf_xmalloc(n);
	if (n > 0)
		memcpy(*out, p, n);
	*outlen = (uint32_t) n;
	return true;
}

/* ---------- opening ---------- */

static bool
pq_column_init(PqColumn *c, const PqColumnDef *def, const PqOptions *opt,
			   char *errstr, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->type = def->type;
	c->precision = def->precision;
	c->scale = def->scale;
	c->nullable = def->nullable;
	c->field_id = def->field_id;
	switch (def->type)
	{
		case PQ_BOOLEAN:
			c->kind = K_BOOL;
			c->width = 1;
			break;
		case PQ_INT32:
		case PQ_INT16:
		case PQ_DATE:
			c->kind = K_I32;
			c->width = 4;
			break;
		case PQ_INT64:
		case PQ_TIMESTAMP_US:
			c->kind = K_I64;
			c->width = 8;
			break;
		case PQ_FLOAT:
			c->kind = K_FLOAT;
			c->width = 4;
			break;
		case PQ_DOUBLE:
			c->kind = K_DOUBLE;
			c->width = 8;
			break;
		case PQ_STRING:
		case PQ_BINARY:
			c->kind = K_BYTES;
			c->width = 0;
			break;
		case PQ_DECIMAL:
			if (def->precision < 1 || def->precision > 38 ||
				def->scale < 0 || def->scale > def->precision)
			{
				snprintf(errstr, errlen,
						 "column \"%s\": invalid decimal(%d,%d)",
						 def->name, def->precision, def->scale);
				return false;
			}
			c->kind = def->precision <= 18 ? K_I64 : K_FLBA;
			c->width = def->precision <= 18 ? 8 : PQ_DECIMAL_FLBA_LEN;
			break;
		default:
			snprintf(errstr, errlen, "column \"%s\": unknown type %d",
					 def->name, (int) def->type);
			return false;
	}
	c->name = bytebuf_xstrdup(def->name);
	c->dict_mode = opt->dictionary && c->kind != K_BOOL;
	return true;
}

PqWriter *
parquet_open(const char *path, const PqColumnDef *cols, int ncols,
			 const PqOptions *opt, char *errstr, size_t errlen)
{
	PqWriter   *w;
	PqOptions	defaults;

	if (opt == NULL)
	{
		parquet_options_default(&defaults);
		opt = &defaults;
	}
	if (ncols <= 0)
	{
		snprintf(errstr, errlen, "a Parquet file needs at least one column");
		return NULL;
	}
	w = calloc(1, sizeof(PqWriter));
	if (w == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		return NULL;
	}
	w->opt = *opt;
	if (w->opt.page_bytes < 1024)
		w->opt.page_bytes = 1024;
	w->opt.created_by = bytebuf_xstrdup(opt->created_by ? opt->created_by :
										"cdc_kafka version 1.0.0 (build cdc_kafka)");
	w->ncols = ncols;
	w->cols = calloc(ncols, sizeof(PqColumn));
	w->fd = -1;
	for (int i = 0; i < ncols; i++)
	{
		if (!pq_column_init(&w->cols[i], &cols[i], &w->opt, errstr, errlen))
		{
			w->ncols = i;
			parquet_abort(w);
			return NULL;
		}
	}
	w->path = bytebuf_xstrdup(path);
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
	{
		snprintf(errstr, errlen, "could not create \"%s\": %s", path,
				 strerror(errno));
		free(w->path);
		w->path = NULL;
		parquet_abort(w);
		return NULL;
	}
	if (opt->zstd_level > 0)
		w->cctx = ZSTD_createCCtx();
	if (write(w->fd, "PAR1", 4) != 4)
	{
		snprintf(errstr, errlen, "could not write \"%s\": %s", path,
				 strerror(errno));
		parquet_abort(w);
		return NULL;
	}
	w->offset = 4;
	return w;
}

/* ---------- pages ---------- */

static bool
pq_write_all(PqWriter *w, const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n > 0)
	{
		ssize_t		r = write(w->fd, q, n);

		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			pq_fail(w, "could not write \"%s\": %s", w->path, strerror(errno));
			return false;
		}
		q += r;
		n -= r;
		w->offset += r;
	}
	return true;
}

/* Compresses w->body into w->zbuf (or copies it); returns the codec size. */
static size_t
pq_compress(PqWriter *w)
{
	size_t		bound;
	size_t		r;

	if (w->cctx == NULL)
	{
		w->zbuf.len = 0;
		bytebuf_append(&w->zbuf, w->body.data, w->body.len);
		return w->zbuf.len;
	}
	bound = ZSTD_compressBound(w->body.len);
	w->zbuf.len = 0;
	bytebuf_reserve(&w->zbuf, bound);
	r = ZSTD_compressCCtx(w->cctx, w->zbuf.data, bound, w->body.data,
						  w->body.len, w->opt.zstd_level);
	if (ZSTD_isError(r))
	{
		pq_fail(w, "zstd: %s", ZSTD_getErrorName(r));
		r = 0;
	}
	w->zbuf.len = r;
	return r;
}

static void
pq_page_header(PqWriter *w, int type, size_t uncompressed, size_t compressed,
			   uint32_t num_values, int encoding)
{
	ThriftWriter tw;

	w->hdr.len = 0;
	thrift_init(&tw, &w->hdr);
	thrift_struct_begin(&tw);
	thrift_field_i32(&tw, 1, type);
	thrift_field_i32(&tw, 2, (int32_t) uncompressed);
	thrift_field_i32(&tw, 3, (int32_t) compressed);
	if (type == PAGE_DATA)
	{
		thrift_field_struct_begin(&tw, 5);
		thrift_field_i32(&tw, 1, (int32_t) num_values);
		thrift_field_i32(&tw, 2, encoding);
		thrift_field_i32(&tw, 3, ENC_RLE);
		thrift_field_i32(&tw, 4, ENC_RLE);
		thrift_struct_end(&tw);
	}
	else
	{
		thrift_field_struct_begin(&tw, 7);
		thrift_field_i32(&tw, 1, (int32_t) num_values);
		thrift_field_i32(&tw, 2, ENC_PLAIN);
		thrift_struct_end(&tw);
	}
	thrift_struct_end(&tw);
}

static void
pq_dict_clear(PqWriter *w, PqColumn *c)
{
	w->buffered -= c->dict.len;
	c->dict.len = 0;
	c->dict_n = 0;
	if (c->ht)
		memset(c->ht, 0, (c->ht_mask + 1) * sizeof(uint32_t));
}

/* Size of dictionary entry i in its PLAIN form. */
static inline size_t
pq_dict_entry_len(const PqColumn *c, uint32_t i)
{
	if (c->width)
		return c->width;
	{
		uint32_t	len;

		memcpy(&len, c->dict.data + c->dict_off[i], 4);
		return 4 + len;
	}
}

/*
 * Mostly distinct values on the first page (ids, offsets, timestamps): a
 * dictionary does not pay.  Decided when the page closes, or as soon as
 * PQ_DICT_SAMPLE values show it (sample > 1), which spares hashing every
 * value of a large first page into a dictionary that is then dropped.
 */
#define PQ_DICT_SAMPLE 4096

static inline bool
pq_dict_not_paying(const PqColumn *c, uint32_t sample)
{
	return c->dict_mode && c->dict_pages == 0 && c->plain_pages == 0 &&
		c->page_nonnull >= sample &&
		(uint64_t) c->dict_n * 2 > c->page_nonnull;
}

/* The first page's values so far, PLAIN; the dictionary dropped. */
static void
pq_dict_to_plain(PqWriter *w, PqColumn *c)
{
	c->plain.len = 0;
	for (uint32_t i = 0; i < c->page_nonnull; i++)
		bytebuf_append(&c->plain, c->dict.data + c->dict_off[c->idx[i]],
					   pq_dict_entry_len(c, c->idx[i]));
	pq_dict_clear(w, c);
	c->dict_mode = false;
}

static void
pq_close_page(PqWriter *w, PqColumn *c)
{
	size_t		comp;
	int			encoding;

	if (c->page_values == 0)
		return;

	if (pq_dict_not_paying(c, 1))
		pq_dict_to_plain(w, c);

	w->body.len = 0;
	if (c->nullable)
	{
		size_t		at = w->body.len;
		uint32_t	n;

		bytebuf_put_le32(&w->body, 0);
		if (c->page_nonnull == c->page_values)
		{
			/* no nulls: one RLE run of 1s */
			bytebuf_put_uvarint(&w->body, (uint64_t) c->page_values << 1);
			bytebuf_putc(&w->body, 1);
		}
		else
			pq_rle_encode_u8(&w->body, c->defs, c->page_values, 1);
		n = (uint32_t) (w->body.len - at - 4);
		memcpy(w->body.data + at, &n, 4);
	}
	if (c->page_nonnull == 0)
	{
		/* all nulls: no values, and no reason to start a dictionary */
		encoding = ENC_PLAIN;
	}
	else if (c->dict_mode)
	{
		int			bw = pq_rle_bit_width(c->dict_n > 0 ? c->dict_n - 1 : 0);

		bytebuf_putc(&w->body, (uint8_t) bw);
		pq_rle_encode(&w->body, c->idx, c->page_nonnull, bw);
		encoding = ENC_RLE_DICT;
		c->dict_pages++;
		c->dict_values += c->page_nonnull;
		/* values keep being new: later pages of this chunk go PLAIN */
		if ((uint64_t) c->dict_n * 2 > c->dict_values)
			c->dict_mode = false;
	}
	else
	{
		if (c->kind == K_BOOL)
		{
			/* PLAIN booleans are bit-packed, LSB first */
			size_t		nbytes = (c->page_nonnull + 7) / 8;

			bytebuf_reserve(&w->body, nbytes);
			memset(w->body.data + w->body.len, 0, nbytes);
			for (uint32_t i = 0; i < c->page_nonnull; i++)
				if (c->plain.data[i])
					w->body.data[w->body.len + i / 8] |= 1 << (i % 8);
			w->body.len += nbytes;
		}
		else
			bytebuf_append(&w->body, c->plain.data, c->plain.len);
		encoding = ENC_PLAIN;
		c->plain_pages++;
	}
	comp = pq_compress(w);
	pq_page_header(w, PAGE_DATA, w->body.len, comp, c->page_values, encoding);
	bytebuf_append(&c->pages, w->hdr.data, w->hdr.len);
	bytebuf_append(&c->pages, w->zbuf.data, comp);
	c->chunk_values += c->page_values;
	c->chunk_uncompressed += w->hdr.len + w->body.len;

	w->buffered -= c->page_bytes;
	w->buffered += w->hdr.len + comp;
	c->page_values = 0;
	c->page_nonnull = 0;
	c->page_bytes = 0;
	c->plain.len = 0;
}

/* ---------- appending values ---------- */

static inline void
pq_push_def(PqColumn *c, uint8_t d)
{
	if (!c->nullable)
		return;
	if (c->page_values >= c->defs_cap)
	{
		c->defs_cap = c->defs_cap ? c->defs_cap * 2 : 1024;
		c->defs = bytebuf_xrealloc(c->defs, c->defs_cap);
	}
	c->defs[c->page_values] = d;
}

static void
pq_dict_rehash(PqColumn *c)
{
	uint32_t	cap = c->ht ? (c->ht_mask + 1) * 2 : 1024;

	free(c->ht);
	c->ht = calloc(cap, sizeof(uint32_t));
	if (c->ht == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	c->ht_mask = cap - 1;
	for (uint32_t i = 0; i < c->dict_n; i++)
	{
		uint32_t	slot = c->dict_hash[i] & c->ht_mask;

		while (c->ht[slot])
			slot = (slot + 1) & c->ht_mask;
		c->ht[slot] = i + 1;
	}
}

/* Index of the value (PLAIN form p[0..n), key = bytes after any length
 * prefix) in the dictionary, inserting it if new. */
static uint32_t
pq_dict_lookup(PqWriter *w, PqColumn *c, const uint8_t *p, size_t n,
			   const uint8_t *key, size_t keylen)
{
	uint32_t	h = pq_hash(key, keylen);
	uint32_t	slot;

	if (c->ht == NULL || (c->dict_n + 1) * 2 > c->ht_mask + 1)
		pq_dict_rehash(c);
	slot = h & c->ht_mask;
	while (c->ht[slot])
	{
		uint32_t	e = c->ht[slot] - 1;

		if (c->dict_hash[e] == h && pq_dict_entry_len(c, e) == n &&
			memcmp(c->dict.data + c->dict_off[e], p, n) == 0)
			return e;
		slot = (slot + 1) & c->ht_mask;
	}
	if (c->dict_n == c->dict_cap)
	{
		c->dict_cap = c->dict_cap ? c->dict_cap * 2 : 256;
		c->dict_off = bytebuf_xrealloc(c->dict_off,
									   c->dict_cap * sizeof(uint32_t));
		c->dict_hash = bytebuf_xrealloc(c->dict_hash,
										c->dict_cap * sizeof(uint32_t));
	}
	c->dict_off[c->dict_n] = (uint32_t) c->dict.len;
	c->dict_hash[c->dict_n] = h;
	bytebuf_append(&c->dict, p, n);
	w->buffered += n;
	c->ht[slot] = c->dict_n + 1;
	pq_stats_value(c, &c->chunk_stats, key, keylen);
	return c->dict_n++;
}

/*
 * Appends a non-null value given in PLAIN form (p, n); key/keylen is the
 * value without the byte-array length prefix (for hashing and stats).
 */
static void
pq_append(PqWriter *w, PqColumn *c, const uint8_t *p, size_t n,
		  const uint8_t *key, size_t keylen)
{
	if (c->row_set)
	{
		pq_fail(w, "column \"%s\" set twice in one row", c->name);
		return;
	}
	c->row_set = true;
	pq_push_def(c, 1);
	if (c->dict_mode)
	{
		/* a dictionary cannot hold more than 4 GB of entries */
		if (c->dict.len + n > UINT32_MAX)
		{
			pq_close_page(w, c);
			c->dict_mode = false;
		}
	}
	if (c->dict_mode)
	{
		uint32_t	e = pq_dict_lookup(w, c, p, n, key, keylen);

		if (c->page_nonnull >= c->idx_cap)
		{
			c->idx_cap = c->idx_cap ? c->idx_cap * 2 : 1024;
			c->idx = bytebuf_xrealloc(c->idx, c->idx_cap * sizeof(uint32_t));
		}
		c->idx[c->page_nonnull] = e;
	}
	else
	{
		bytebuf_append(&c->plain, p, n);
		pq_stats_value(c, &c->chunk_stats, key, keylen);
	}
	c->page_values++;
	c->page_nonnull++;
	c->page_bytes += n;
	w->buffered += n;
	if (c->page_nonnull == PQ_DICT_SAMPLE && pq_dict_not_paying(c, PQ_DICT_SAMPLE))
		pq_dict_to_plain(w, c);
	else if (c->dict_mode && c->dict.len > w->opt.dictionary_max_bytes)
	{
		/* dictionary too big: this chunk continues in PLAIN */
		pq_close_page(w, c);
		c->dict_mode = false;
	}
	else if (c->page_bytes >= w->opt.page_bytes)
		pq_close_page(w, c);
}

static void
pq_append_null(PqWriter *w, PqColumn *c)
{
	pq_push_def(c, 0);
	c->page_values++;
	c->chunk_stats.null_count++;
	/* count the level so that all-null pages still close */
	c->page_bytes += 1;
	w->buffered += 1;
	if (c->page_bytes >= w->opt.page_bytes)
		pq_close_page(w, c);
}

static inline PqColumn *
pq_col(PqWriter *w, int col)
{
	if (col < 0 || col >= w->ncols)
	{
		pq_fail(w, "column index %d out of range", col);
		return NULL;
	}
	return &w->cols[col];
}

void
parquet_set_null(PqWriter *w, int col)
{
	PqColumn   *c = pq_col(w, col);

	if (c == NULL)
		return;
	if (!c->nullable)
	{
		pq_fail(w, "column \"%s\" is not nullable", c->name);
		return;
	}
	if (c->row_set)
	{
		pq_fail(w, "column \"%s\" set twice in one row", c->name);
		return;
	}
	c->row_set = true;
	pq_append_null(w, c);
}

void
parquet_set_bool(PqWriter *w, int col, bool v)
{
	PqColumn   *c = pq_col(w, col);
	uint8_t		b = v ? 1 : 0;

	if (c == NULL)
		return;
	if (c->kind != K_BOOL)
	{
		pq_fail(w, "column \"%s\" is not boolean", c->name);
		return;
	}
	pq_append(w, c, &b, 1, &b, 1);
}

void
parquet_set_int32(PqWriter *w, int col, int32_t v)
{
	PqColumn   *c = pq_col(w, col);

	if (c == NULL)
		return;
	if (c->kind != K_I32)
	{
		if (c->kind == K_I64 || c->kind == K_FLBA)
		{
			parquet_set_int64(w, col, v);
			return;
		}
		pq_fail(w, "column \"%s\" does not take int32", c->name);
		return;
	}
	pq_append(w, c, (uint8_t *) &v, 4, (uint8_t *) &v, 4);
}

void
parquet_set_int64(PqWriter *w, int col, int64_t v)
{
	PqColumn   *c = pq_col(w, col);

	if (c == NULL)
		return;
	if (c->kind == K_I64)
		pq_append(w, c, (uint8_t *) &v, 8, (uint8_t *) &v, 8);
	else if (c->kind == K_FLBA)
	{
		uint8_t		b[PQ_DECIMAL_FLBA_LEN];

		pq_int_to_flba(v, b);
		pq_append(w, c, b, sizeof(b), b, sizeof(b));
	}
	else if (c->kind == K_I32 && v >= INT32_MIN && v <= INT32_MAX)
	{
		int32_t		v32 = (int32_t) v;

		pq_append(w, c, (uint8_t *) &v32, 4, (uint8_t *) &v32, 4);
	}
	else
		pq_fail(w, "column \"%s\" does not take int64 %lld", c->name,
				(long long) v);
}

void
parquet_set_double(PqWriter *w, int col, double v)
{
	PqColumn   *c = pq_col(w, col);

	if (c == NULL)
		return;
	if (c->kind == K_DOUBLE)
		pq_append(w, c, (uint8_t *) &v, 8, (uint8_t *) &v, 8);
	else if (c->kind == K_FLOAT)
	{
		float		f = (float) v;

		pq_append(w, c, (uint8_t *) &f, 4, (uint8_t *) &f, 4);
	}
	else
		pq_fail(w, "column \"%s\" does not take double", c->name);
}

void
parquet_set_bytes(PqWriter *w, int col, const void *data, size_t len)
{
	PqColumn   *c = pq_col(w, col);

	if (c == NULL)
		return;
	if (c->kind == K_BYTES)
	{
		uint8_t    *dst;
		uint32_t	n32 = (uint32_t) len;

		if (len > INT32_MAX)
		{
			pq_fail(w, "column \"%s\": value of %zu bytes too large",
					c->name, len);
			return;
		}
		/* build the PLAIN form (length prefix + bytes) in scratch */
		w->val.len = 0;
		bytebuf_reserve(&w->val, len + 4);
		dst = w->val.data;
		memcpy(dst, &n32, 4);
		if (len)
			memcpy(dst + 4, data, len);
		pq_append(w, c, dst, len + 4, dst + 4, len);
	}
	else if (c->type == PQ_DECIMAL)
	{
		const uint8_t *p = data;
		__int128	v;

		if (len < 1 || len > PQ_DECIMAL_FLBA_LEN)
		{
			pq_fail(w, "column \"%s\": decimal of %zu bytes", c->name, len);
			return;
		}
		v = (int8_t) p[0];
		for (size_t i = 1; i < len; i++)
			v = v * 256 + p[i];
		if (c->kind == K_FLBA)
		{
			uint8_t		b[PQ_DECIMAL_FLBA_LEN];

			pq_int_to_flba(v, b);
			pq_append(w, c, b, sizeof(b), b, sizeof(b));
		}
		else if (v >= INT64_MIN && v <= INT64_MAX)
		{
			int64_t		v64 = (int64_t) v;

			pq_append(w, c, (uint8_t *) &v64, 8, (uint8_t *) &v64, 8);
		}
		else
			pq_fail(w, "column \"%s\": decimal out of range for "
					"precision %d", c->name, c->precision);
	}
	else
		pq_fail(w, "column \"%s\" does not take bytes", c->name);
}

/* ---------- row groups ---------- */

static void
pq_flush_chunk(PqWriter *w, PqColumn *c, PqChunkMeta *m)
{
	memset(m, 0, sizeof(*m));
	pq_close_page(w, c);
	m->start = w->offset;
	m->dict_page_offset = -1;
	m->uncompressed = c->chunk_uncompressed;
	if (c->dict_pages > 0)
	{
		size_t		comp;

		w->body.len = 0;
		bytebuf_append(&w->body, c->dict.data, c->dict.len);
		comp = pq_compress(w);
		pq_page_header(w, PAGE_DICT, w->body.len, comp, c->dict_n, 0);
		m->dict_page_offset = w->offset;
		m->uncompressed += w->hdr.len + w->body.len;
		pq_write_all(w, w->hdr.data, w->hdr.len);
		pq_write_all(w, w->zbuf.data, comp);
	}
	m->data_page_offset = w->offset;
	pq_write_all(w, c->pages.data, c->pages.len);
	m->compressed = w->offset - m->start;
	m->num_values = c->chunk_values;
	m->used_dict = c->dict_pages > 0;
	m->used_plain = c->plain_pages > 0;
	m->null_count = c->chunk_stats.null_count;
	if (pq_stats_encode(c, &c->chunk_stats, false, &m->min, &m->min_len) &&
		!pq_stats_encode(c, &c->chunk_stats, true, &m->max, &m->max_len))
	{
		free(m->min);
		m->min = NULL;
	}
	pq_stats_merge(c, &c->file_stats, &c->chunk_stats);

	/* reset for the next chunk */
	pq_stats_reset(&c->chunk_stats);
	pq_dict_clear(w, c);
	c->dict_mode = w->opt.dictionary && c->kind != K_BOOL;
	c->dict_pages = c->plain_pages = 0;
	c->dict_values = 0;
	c->pages.len = 0;
	c->chunk_values = 0;
	c->chunk_uncompressed = 0;
}

static bool
pq_flush_row_group(PqWriter *w)
{
	PqRowGroupMeta *rg;

	if (w->rg_rows == 0)
		return !w->failed;
	if (w->nrgs == w->rgs_cap)
	{
		w->rgs_cap = w->rgs_cap ? w->rgs_cap * 2 : 8;
		w->rgs = bytebuf_xrealloc(w->rgs, w->rgs_cap * sizeof(PqRowGroupMeta));
	}
	rg = &w->rgs[w->nrgs++];
	memset(rg, 0, sizeof(*rg));
	rg->num_rows = w->rg_rows;
	rg->chunks = calloc(w->ncols, sizeof(PqChunkMeta));
	for (int i = 0; i < w->ncols; i++)
	{
		pq_flush_chunk(w, &w->cols[i], &rg->chunks[i]);
		rg->uncompressed += rg->chunks[i].uncompressed;
		rg->compressed += rg->chunks[i].compressed;
	}
	w->rg_rows = 0;
	w->buffered = 0;
	/* release page buffers grown by a big row group (memory bound) */
	return !w->failed;
}

bool
parquet_end_row(PqWriter *w, char *errstr, size_t errlen)
{
	for (int i = 0; i < w->ncols; i++)
	{
		PqColumn   *c = &w->cols[i];

		if (!c->row_set)
		{
			if (!c->nullable)
				pq_fail(w, "column \"%s\" is not nullable", c->name);
			else
				pq_append_null(w, c);
		}
		c->row_set = false;
	}
	if (w->failed)
	{
		snprintf(errstr, errlen, "%s", w->error);
		return false;
	}
	w->num_rows++;
	w->rg_rows++;
	if (w->buffered >= w->opt.row_group_bytes && !pq_flush_row_group(w))
	{
		snprintf(errstr, errlen, "%s", w->error);
		return false;
	}
	return true;
}

int64_t
parquet_estimated_size(const PqWriter *w)
{
	return w->offset + (int64_t) w->buffered;
}

/* ---------- footer ---------- */

static void
pq_schema_element(ThriftWriter *tw, PqColumn *c)
{
	thrift_elem_struct_begin(tw);
	switch (c->kind)
	{
		case K_BOOL:
			thrift_field_i32(tw, 1, PT_BOOLEAN);
			break;
		case K_I32:
			thrift_field_i32(tw, 1, PT_INT32);
			break;
		case K_I64:
			thrift_field_i32(tw, 1, PT_INT64);
			break;
		case K_FLOAT:
			thrift_field_i32(tw, 1, PT_FLOAT);
			break;
		case K_DOUBLE:
			thrift_field_i32(tw, 1, PT_DOUBLE);
			break;
		case K_BYTES:
			thrift_field_i32(tw, 1, PT_BYTE_ARRAY);
			break;
		case K_FLBA:
			thrift_field_i32(tw, 1, PT_FLBA);
			thrift_field_i32(tw, 2, PQ_DECIMAL_FLBA_LEN);
			break;
	}
	thrift_field_i32(tw, 3, c->nullable ? 1 : 0);
	thrift_field_string(tw, 4, c->name);
	/* converted_type (6), scale (7), precision (8) */
	switch (c->type)
	{
		case PQ_STRING:
			thrift_field_i32(tw, 6, CT_UTF8);
			break;
		case PQ_INT16:
			thrift_field_i32(tw, 6, CT_INT_16);
			break;
		case PQ_DATE:
			thrift_field_i32(tw, 6, CT_DATE);
			break;
		case PQ_TIMESTAMP_US:
			thrift_field_i32(tw, 6, CT_TIMESTAMP_MICROS);
			break;
		case PQ_DECIMAL:
			thrift_field_i32(tw, 6, CT_DECIMAL);
			thrift_field_i32(tw, 7, c->scale);
			thrift_field_i32(tw, 8, c->precision);
			break;
		default:
			break;
	}
	if (c->field_id > 0)
		thrift_field_i32(tw, 9, c->field_id);
	/* logicalType (10) */
	switch (c->type)
	{
		case PQ_STRING:
			thrift_field_struct_begin(tw, 10);
			thrift_field_struct_begin(tw, 1);	/* STRING */
			thrift_struct_end(tw);
			thrift_struct_end(tw);
			break;
		case PQ_INT16:
			thrift_field_struct_begin(tw, 10);
			thrift_field_struct_begin(tw, 10);	/* INTEGER */
			thrift_field_i8(tw, 1, 16); /* bitWidth */
			thrift_field_bool(tw, 2, true); /* isSigned */
			thrift_struct_end(tw);
			thrift_struct_end(tw);
			break;
		case PQ_DATE:
			thrift_field_struct_begin(tw, 10);
			thrift_field_struct_begin(tw, 6);	/* DATE */
			thrift_struct_end(tw);
			thrift_struct_end(tw);
			break;
		case PQ_TIMESTAMP_US:
			thrift_field_struct_begin(tw, 10);
			thrift_field_struct_begin(tw, 8);	/* TIMESTAMP */
			thrift_field_bool(tw, 1, true); /* isAdjustedToUTC */
			thrift_field_struct_begin(tw, 2);	/* unit */
			thrift_field_struct_begin(tw, 2);	/* MICROS */
			thrift_struct_end(tw);
			thrift_struct_end(tw);
			thrift_struct_end(tw);
			thrift_struct_end(tw);
			break;
		case PQ_DECIMAL:
			thrift_field_struct_begin(tw, 10);
			thrift_field_struct_begin(tw, 5);	/* DECIMAL */
			thrift_field_i32(tw, 1, c->scale);
			thrift_field_i32(tw, 2, c->precision);
			thrift_struct_end(tw);
			thrift_struct_end(tw);
			break;
		default:
			break;
	}
	thrift_struct_end(tw);
}

static int
pq_physical_type(PqColumn *c)
{
	static const int map[] = {
		[K_BOOL] = PT_BOOLEAN,[K_I32] = PT_INT32,[K_I64] = PT_INT64,
		[K_FLOAT] = PT_FLOAT,[K_DOUBLE] = PT_DOUBLE,
		[K_BYTES] = PT_BYTE_ARRAY,[K_FLBA] = PT_FLBA
	};

	return map[c->kind];
}

static void
pq_write_footer_meta(PqWriter *w, ByteBuf *out)
{
	ThriftWriter tw;

	thrift_init(&tw, out);
	thrift_struct_begin(&tw);
	thrift_field_i32(&tw, 1, 1);
	thrift_field_list_begin(&tw, 2, THRIFT_STRUCT, w->ncols + 1);
	thrift_elem_struct_begin(&tw);
	thrift_field_string(&tw, 4, "spark_schema");
	thrift_field_i32(&tw, 5, w->ncols);
	thrift_struct_end(&tw);
	for (int i = 0; i < w->ncols; i++)
		pq_schema_element(&tw, &w->cols[i]);
	thrift_field_i64(&tw, 3, w->num_rows);
	thrift_field_list_begin(&tw, 4, THRIFT_STRUCT, w->nrgs);
	for (int r = 0; r < w->nrgs; r++)
	{
		PqRowGroupMeta *rg = &w->rgs[r];

		thrift_elem_struct_begin(&tw);
		thrift_field_list_begin(&tw, 1, THRIFT_STRUCT, w->ncols);
		for (int i = 0; i < w->ncols; i++)
		{
			PqChunkMeta *m = &rg->chunks[i];
			PqColumn   *c = &w->cols[i];
			int			nenc = 2 + (m->used_dict ? 1 : 0);

			thrift_elem_struct_begin(&tw);	/* ColumnChunk */
			thrift_field_i64(&tw, 2, m->start);
			thrift_field_struct_begin(&tw, 3);	/* ColumnMetaData */
			thrift_field_i32(&tw, 1, pq_physical_type(c));
			thrift_field_list_begin(&tw, 2, THRIFT_I32, nenc);
			thrift_elem_i32(&tw, ENC_PLAIN);
			thrift_elem_i32(&tw, ENC_RLE);
			if (m->used_dict)
				thrift_elem_i32(&tw, ENC_RLE_DICT);
			thrift_field_list_begin(&tw, 3, THRIFT_BINARY, 1);
			thrift_elem_string(&tw, c->name);
			thrift_field_i32(&tw, 4, w->cctx ? CODEC_ZSTD : CODEC_UNCOMPRESSED);
			thrift_field_i64(&tw, 5, m->num_values);
			thrift_field_i64(&tw, 6, m->uncompressed);
			thrift_field_i64(&tw, 7, m->compressed);
			thrift_field_i64(&tw, 9, m->data_page_offset);
			if (m->dict_page_offset >= 0)
				thrift_field_i64(&tw, 11, m->dict_page_offset);
			thrift_field_struct_begin(&tw, 12);	/* Statistics */
			thrift_field_i64(&tw, 3, m->null_count);
			if (m->min && m->max)
			{
				thrift_field_binary(&tw, 5, m->max, m->max_len);
				thrift_field_binary(&tw, 6, m->min, m->min_len);
			}
			thrift_struct_end(&tw);
			thrift_struct_end(&tw);	/* ColumnMetaData */
			thrift_struct_end(&tw);	/* ColumnChunk */
		}
		thrift_field_i64(&tw, 2, rg->uncompressed);
		thrift_field_i64(&tw, 3, rg->num_rows);
		thrift_field_i64(&tw, 5, rg->chunks[0].start);
		thrift_field_i64(&tw, 6, rg->compressed);
		thrift_field_i16(&tw, 7, (int16_t) r);
		thrift_struct_end(&tw);
	}
	thrift_field_string(&tw, 6, w->opt.created_by);
	thrift_field_list_begin(&tw, 7, THRIFT_STRUCT, w->ncols);
	for (int i = 0; i < w->ncols; i++)
	{
		thrift_elem_struct_begin(&tw);
		thrift_field_struct_begin(&tw, 1);	/* TypeDefinedOrder */
		thrift_struct_end(&tw);
		thrift_struct_end(&tw);
	}
	thrift_struct_end(&tw);
}

/* ---------- Delta statistics rendering ---------- */

/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm). */
static void
pq_civil(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t		z = days + 719468;
	int64_t		era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t		doe = z - era * 146097;
	int64_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t		mp = (5 * doy + 2) / 153;

	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t
pq_floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static char *
pq_render_date(int64_t days)
{
	int64_t		y;
	int			m,
				d;
	char		buf[32];

	pq_civil(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return NULL;
	snprintf(buf, sizeof(buf), "\"%04d-%02d-%02d\"", (int) y, m, d);
	return bytebuf_xstrdup(buf);
}

/* Delta keeps timestamps to milliseconds: round min down, max up. */
static char *
pq_render_timestamp(int64_t us, bool round_up)
{
	int64_t		ms = pq_floor_div(us, 1000);
	int64_t		days,
				rem,
				y;
	int			m,
				d;
	char		buf[64];

	if (round_up && ms * 1000 != us)
		ms++;
	days = pq_floor_div(ms, 86400000);
	rem = ms - days * 86400000;
	pq_civil(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return NULL;
	snprintf(buf, sizeof(buf), "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
			 (int) y, m, d, (int) (rem / 3600000), (int) (rem / 60000 % 60),
			 (int) (rem / 1000 % 60), (int) (rem % 1000));
	return bytebuf_xstrdup(buf);
}

static char *
pq_render_decimal(__int128 v, int scale)
{
	char		digits[64];
	char		buf[80];
	int			n = 0;
	bool		neg = v < 0;
	unsigned __int128 u = neg ? -(unsigned __int128) v : (unsigned __int128) v;
	char	   *p = buf;

	do
	{
		digits[n++] = '0' + (int) (u % 10);
		u /= 10;
	} while (u != 0);
	while (n <= scale)
		digits[n++] = '0';
	if (neg)
		*p++ = '-';
	for (int i = n - 1; i >= 0; i--)
	{
		*p++ = digits[i];
		if (i == scale && scale > 0)
			*p++ = '.';
	}
	*p = '\0';
	return bytebuf_xstrdup(buf);
}

/* Byte length of the first max_chars UTF-8 characters of s. */
static size_t
pq_utf8_prefix(const uint8_t *s, size_t len, int max_chars)
{
	size_t		i = 0;

	for (int n = 0; n < max_chars && i < len; n++)
	{
		i++;
		while (i < len && (s[i] & 0xC0) == 0x80)
			i++;
	}
	return i;
}

static char *
pq_render_string(const ByteBuf *b, bool is_max)
{
	size_t		plen = pq_utf8_prefix(b->data, b->len, PQ_DELTA_STRING_PREFIX);
	ByteBuf		out = {0};
	char	   *r;

	if (plen < b->len && is_max)
	{
		/*
		 * A truncated maximum must stay >= the real one: append U+10FFFF,
		 * which sorts after every character the prefix could continue
		 * with (what Spark's Delta writer does).
		 */
		ByteBuf		tmp = {0};

		bytebuf_append(&tmp, b->data, plen);
		bytebuf_append(&tmp, "\xf4\x8f\xbf\xbf", 4);
		json_out_string(&out, (const char *) tmp.data, tmp.len);
		bytebuf_free(&tmp);
	}
	else
		json_out_string(&out, (const char *) b->data, plen);
	bytebuf_putc(&out, '\0');
	r = (char *) out.data;
	return r;
}

static char *
pq_render(PqColumn *c, const PqStats *s, bool is_max)
{
	char		buf[64];

	if (!s->has || s->nan)
		return NULL;
	switch (c->type)
	{
		case PQ_INT16:
		case PQ_INT32:
		case PQ_INT64:
			snprintf(buf, sizeof(buf), "%lld",
					 (long long) (is_max ? s->imax : s->imin));
			return bytebuf_xstrdup(buf);
		case PQ_DATE:
			return pq_render_date((int64_t) (is_max ? s->imax : s->imin));
		case PQ_TIMESTAMP_US:
			return pq_render_timestamp((int64_t) (is_max ? s->imax : s->imin),
									   is_max);
		case PQ_DECIMAL:
			return pq_render_decimal(is_max ? s->imax : s->imin, c->scale);
		case PQ_DOUBLE:
		case PQ_FLOAT:
			{
				double		v = is_max ? s->dmax : s->dmin;

				if (!isfinite(v))
					return NULL;
				if (c->type == PQ_FLOAT)
					snprintf(buf, sizeof(buf), "%.9g", v);
				else
					snprintf(buf, sizeof(buf), "%.17g", v);
				return bytebuf_xstrdup(buf);
			}
		case PQ_STRING:
			return pq_render_string(is_max ? &s->bmax : &s->bmin, is_max);
		default:
			/* boolean, binary: Delta keeps only null counts */
			return NULL;
	}
}

/* ---------- closing ---------- */

static void
pq_free(PqWriter *w)
{
	if (w->fd >= 0)
		close(w->fd);
	for (int i = 0; i < w->ncols; i++)
	{
		PqColumn   *c = &w->cols[i];

		free(c->name);
		free(c->defs);
		bytebuf_free(&c->plain);
		free(c->idx);
		bytebuf_free(&c->dict);
		free(c->dict_off);
		free(c->dict_hash);
		free(c->ht);
		bytebuf_free(&c->pages);
		bytebuf_free(&c->chunk_stats.bmin);
		bytebuf_free(&c->chunk_stats.bmax);
		bytebuf_free(&c->file_stats.bmin);
		bytebuf_free(&c->file_stats.bmax);
	}
	for (int r = 0; r < w->nrgs; r++)
	{
		for (int i = 0; i < w->ncols; i++)
		{
			free(w->rgs[r].chunks[i].min);
			free(w->rgs[r].chunks[i].max);
		}
		free(w->rgs[r].chunks);
	}
	free(w->rgs);
	free(w->cols);
	if (w->cctx)
		ZSTD_freeCCtx(w->cctx);
	bytebuf_free(&w->body);
	bytebuf_free(&w->zbuf);
	bytebuf_free(&w->hdr);
	bytebuf_free(&w->val);
	free((char *) w->opt.created_by);
	free(w->path);
	free(w);
}

/*
 * The file's directory entry must be durable before a Delta commit refers
 * to it, or a crash could leave a committed add pointing at nothing.
 */
static void
pq_fsync_parent(PqWriter *w)
{
	char	   *dir = bytebuf_xstrdup(w->path);
	char	   *slash = strrchr(dir, '/');
	int			fd;

	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		pq_fail(w, "could not fsync directory \"%s\": %s", dir,
				strerror(errno));
	if (fd >= 0)
		close(fd);
	free(dir);
}

bool
parquet_close(PqWriter *w, PqFileStats *out, char *errstr, size_t errlen)
{
	ByteBuf		meta = {0};
	uint32_t	mlen;

	if (!w->failed)
	{
		for (int i = 0; i < w->ncols; i++)
			if (w->cols[i].row_set)
				pq_fail(w, "parquet_close in the middle of a row");
	}
	if (!w->failed)
		pq_flush_row_group(w);
	if (!w->failed)
	{
		pq_write_footer_meta(w, &meta);
		mlen = (uint32_t) meta.len;
		bytebuf_put_le32(&meta, mlen);
		bytebuf_append(&meta, "PAR1", 4);
		pq_write_all(w, meta.data, meta.len);
		bytebuf_free(&meta);
	}
	if (!w->failed && fsync(w->fd) != 0)
		pq_fail(w, "could not fsync \"%s\": %s", w->path, strerror(errno));
	if (!w->failed)
	{
		int			rc = close(w->fd);

		w->fd = -1;
		if (rc != 0)
			pq_fail(w, "could not close \"%s\": %s", w->path, strerror(errno));
	}
	if (!w->failed)
		pq_fsync_parent(w);
	if (w->failed)
	{
		snprintf(errstr, errlen, "%s", w->error);
		pq_free(w);
		return false;
	}
	if (out)
	{
		out->file_size = w->offset;
		out->num_rows = w->num_rows;
		out->ncols = w->ncols;
		out->cols = calloc(w->ncols, sizeof(PqColumnStats));
		for (int i = 0; i < w->ncols; i++)
		{
			PqColumn   *c = &w->cols[i];
			PqColumnStats *cs = &out->cols[i];

			cs->name = bytebuf_xstrdup(c->name);
			cs->null_count = c->file_stats.null_count;
			cs->min_json = pq_render(c, &c->file_stats, false);
			cs->max_json = pq_render(c, &c->file_stats, true);
			if (cs->min_json == NULL || cs->max_json == NULL)
			{
				free(cs->min_json);
				free(cs->max_json);
				cs->min_json = cs->max_json = NULL;
			}
		}
	}
	pq_free(w);
	return true;
}

void
parquet_abort(PqWriter *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
	{
		close(w->fd);
		w->fd = -1;
	}
	if (w->path)
		unlink(w->path);
	pq_free(w);
}

void
parquet_file_stats_free(PqFileStats *st)
{
	for (int i = 0; i < st->ncols; i++)
	{
		free(st->cols[i].name);
		free(st->cols[i].min_json);
		free(st->cols[i].max_json);
	}
	free(st->cols);
	st->cols = NULL;
	st->ncols = 0;
}

char *
parquet_stats_json(const PqFileStats *st)
{
	ByteBuf		b = {0};
	char		num[32];
	bool		first;

	snprintf(num, sizeof(num), "%lld", (long long) st->num_rows);
	bytebuf_puts(&b, "{\"numRecords\":");
	bytebuf_puts(&b, num);
	for (int pass = 0; pass < 2; pass++)
	{
		bytebuf_puts(&b, pass == 0 ? ",\"minValues\":{" : ",\"maxValues\":{");
		first = true;
		for (int i = 0; i < st->ncols; i++)
		{
			const char *v = pass == 0 ? st->cols[i].min_json :
				st->cols[i].max_json;

			if (v == NULL)
				continue;
			if (!first)
				bytebuf_putc(&b, ',');
			first = false;
			json_out_cstring(&b, st->cols[i].name);
			bytebuf_putc(&b, ':');
			bytebuf_puts(&b, v);
		}
		bytebuf_putc(&b, '}');
	}
	bytebuf_puts(&b, ",\"nullCount\":{");
	for (int i = 0; i < st->ncols; i++)
	{
		if (i > 0)
			bytebuf_putc(&b, ',');
		json_out_cstring(&b, st->cols[i].name);
		snprintf(num, sizeof(num), ":%lld", (long long) st->cols[i].null_count);
		bytebuf_puts(&b, num);
	}
	bytebuf_puts(&b, "}}");
	bytebuf_putc(&b, '\0');
	return (char *) b.data;
}
