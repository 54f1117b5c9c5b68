/*-------------------------------------------------------------------------
 *
 * pq_page.c
 *	  Decodes a Parquet column chunk's pages into levels and values (see
 *	  pq_page.h).
 *
 * A chunk is an optional DICTIONARY_PAGE followed by data pages.  A
 * DATA_PAGE (v1) body is compressed as a whole and holds repetition then
 * definition levels, each an RLE/bit-packed hybrid run prefixed by its
 * 4-byte length, then the values.  A DATA_PAGE_V2 keeps its levels
 * uncompressed and unprefixed in front (lengths in the header) and
 * compresses only the values, unless is_compressed is false.  Values are
 * PLAIN, dictionary indices (PLAIN_DICTIONARY / RLE_DICTIONARY: a bit
 * width byte, then hybrid runs), for booleans RLE, and the delta encodings
 * that "format version 2" writers (DuckDB's PARQUET_VERSION v2, Arrow)
 * use: DELTA_BINARY_PACKED integers, DELTA_LENGTH_BYTE_ARRAY and
 * DELTA_BYTE_ARRAY strings.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_codec.h"
#include "pq_page.h"
#include "pq_rle.h"
#include "thrift_read.h"

/* parquet.thrift PageType and Encoding */
#define PQ_PAGE_DATA		0
#define PQ_PAGE_DICTIONARY	2
#define PQ_PAGE_DATA_V2		3
#define PQ_ENC_PLAIN		0
#define PQ_ENC_PLAIN_DICT	2
#define PQ_ENC_RLE			3
#define PQ_ENC_DELTA_BINARY	5
#define PQ_ENC_DELTA_LENGTH	6
#define PQ_ENC_DELTA_BYTES	7
#define PQ_ENC_RLE_DICT		8

/* A cap on one chunk's level entries: RLE runs can claim any count. */
#define PQ_MAX_CHUNK_VALUES ((int64_t) 64 * 1024 * 1024)
#define PQ_MAX_PAGE_BYTES ((int64_t) 1024 * 1024 * 1024)

/*
 * A cap on the string bytes one chunk's values stand for.  Dictionary
 * indices and DELTA_BYTE_ARRAY prefixes repeat earlier bytes for free, so
 * a tiny file can describe terabytes; the caller walks (and copies) every
 * value.  1 GiB is far above what a checkpoint row group holds (delta-rs
 * writes up to a million rows per row group; a stats string is hundreds
 * of bytes).
 */
#define PQ_MAX_CHUNK_STRING_BYTES ((int64_t) 1024 * 1024 * 1024)

/*
 * DELTA_BINARY_PACKED block size: writers use 128 (parquet-mr, Arrow) to a
 * few thousand; the bound keeps the miniblock byte arithmetic small.
 */
#define PQ_MAX_DELTA_BLOCK	(1 << 16)

typedef struct PqPageHeader
{
	int			type;
	int64_t		uncompressed;
	int64_t		compressed;
	int64_t		num_values;
	int			encoding;
	int			def_encoding;
	int			rep_encoding;
	int64_t		def_len;		/* v2 only */
	int64_t		rep_len;		/* v2 only */
	bool		is_compressed;	/* v2 only */
} PqPageHeader;

/*
 * The dictionary: values decoded once, looked up by index.  A string
 * dictionary's bytes are copied once into the chunk's strs (at base), and
 * a data page value refers to its entry there rather than copying it.
 */
typedef struct PqDict
{
	bool		present;
	PqColumnValues vals;		/* levels unused */
	size_t		base;			/* BYTE_ARRAY: offset of vals.strs in out->strs */
} PqDict;

static void
pq_page_read_header(ThriftReader *tr, PqPageHeader *h)
{
	int16_t		last = 0,
				id;
	uint8_t		ft;

	memset(h, 0, sizeof(*h));
	h->type = -1;
	h->is_compressed = true;
	h->def_encoding = h->rep_encoding = PQ_ENC_RLE;
	while (thrift_read_field(tr, &last, &id, &ft))
	{
		if (id == 1 && ft == THRIFT_I32)
			h->type = thrift_read_i32(tr);
		else if (id == 2 && ft == THRIFT_I32)
			h->uncompressed = thrift_read_i32(tr);
		else if (id == 3 && ft == THRIFT_I32)
			h->compressed = thrift_read_i32(tr);
		else if ((id == 5 || id == 7 || id == 8) && ft == THRIFT_STRUCT)
		{
			int16_t		slast = 0,
						sid;
			int			which = id;

			while (thrift_read_field(tr, &slast, &sid, &ft))
			{
				if (sid == 1 && ft == THRIFT_I32)
					h->num_values = thrift_read_i32(tr);
				else if (which == 5 && sid == 2 && ft == THRIFT_I32)
					h->encoding = thrift_read_i32(tr);
				else if (which == 5 && sid == 3 && ft == THRIFT_I32)
					h->def_encoding = thrift_read_i32(tr);
				else if (which == 5 && sid == 4 && ft == THRIFT_I32)
					h->rep_encoding = thrift_read_i32(tr);
				else if (which == 7 && sid == 2 && ft == THRIFT_I32)
					h->encoding = thrift_read_i32(tr);
				else if (which == 8 && sid == 4 && ft == THRIFT_I32)
					h->encoding = thrift_read_i32(tr);
				else if (which == 8 && sid == 5 && ft == THRIFT_I32)
					h->def_len = thrift_read_i32(tr);
				else if (which == 8 && sid == 6 && ft == THRIFT_I32)
					h->rep_len = thrift_read_i32(tr);
				else if (which == 8 && sid == 7 &&
						 (ft == THRIFT_BOOL_TRUE || ft == THRIFT_BOOL_FALSE))
					h->is_compressed = ft == THRIFT_BOOL_TRUE;
				else
					thrift_read_skip(tr, ft);
			}
		}
		else
			thrift_read_skip(tr, ft);
	}
}

static void
pq_page_grow_values(PqColumnValues *v, int64_t extra, bool strings)
{
	if (v->nvalues + extra <= v->cap_values)
		return;
	while (v->cap_values < v->nvalues + extra)
		v->cap_values = v->cap_values ? v->cap_values * 2 : 256;
	if (strings)
		v->str_off = bytebuf_xrealloc(v->str_off, v->cap_values * sizeof(size_t));
	else
		v->ints = bytebuf_xrealloc(v->ints, v->cap_values * sizeof(int64_t));
}

/* Counts len string bytes against the chunk's budget. */
static bool
pq_page_str_budget(PqColumnValues *v, size_t len, char *errstr, size_t errlen)
{
	if ((uint64_t) len > (uint64_t) (PQ_MAX_CHUNK_STRING_BYTES - v->str_bytes))
	{
		snprintf(errstr, errlen, "strings in the chunk exceed %" PRId64
				 " bytes", PQ_MAX_CHUNK_STRING_BYTES);
		return false;
	}
	v->str_bytes += len;
	return true;
}

static bool
pq_page_put_str(PqColumnValues *v, const uint8_t *s, size_t len,
				char *errstr, size_t errlen)
{
	if (!pq_page_str_budget(v, len, errstr, errlen))
		return false;
	pq_page_grow_values(v, 1, true);
	v->str_off[v->nvalues++] = v->strs.len;
	bytebuf_append(&v->strs, s, len);
	bytebuf_putc(&v->strs, '\0');
	return true;
}

/* A value equal to the len-byte string already at strs offset off. */
static bool
pq_page_put_ref(PqColumnValues *v, size_t off, size_t len,
				char *errstr, size_t errlen)
{
	if (!pq_page_str_budget(v, len, errstr, errlen))
		return false;
	pq_page_grow_values(v, 1, true);
	v->str_off[v->nvalues++] = off;
	return true;
}

static void
pq_page_put_int(PqColumnValues *v, int64_t x)
{
	pq_page_grow_values(v, 1, false);
	v->ints[v->nvalues++] = x;
}

static bool
pq_page_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7)
	{
		if (*p >= end)
			return false;
		*v |= (uint64_t) (**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return true;
	}
	return false;
}

/*
 * DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value
 * count, first value), then blocks of a min delta, one bit width per
 * miniblock and the bit-packed deltas.  Decodes n values into out (n must
 * match the header's count) and sets *used to the bytes consumed, which
 * the byte-array encodings need to find what follows.
 */
static bool
pq_page_delta_binary(const uint8_t *data, size_t len, int64_t n, int64_t *out,
					 size_t *used)
{
	const uint8_t *p = data;
	const uint8_t *end = data + len;
	uint64_t	block,
				nmini,
				total,
				u;
	uint64_t	per_mini;
	uint64_t	prev;
	int64_t		got = 0;

	if (!pq_page_uvarint(&p, end, &block) || !pq_page_uvarint(&p, end, &nmini) ||
		!pq_page_uvarint(&p, end, &total) || !pq_page_uvarint(&p, end, &u))
		return false;
	/* as the spec says: a block is a multiple of 128 values, a miniblock
	 * of 32; the size is bounded too */
	if (block == 0 || block % 128 != 0 || block > PQ_MAX_DELTA_BLOCK ||
		nmini == 0 || block % nmini != 0 || (block / nmini) % 32 != 0 ||
		total != (uint64_t) n)
		return false;
	per_mini = block / nmini;
	prev = (u >> 1) ^ -(u & 1);
	if (n > 0)
		out[got++] = (int64_t) prev;
	while (got < n)
	{
		uint64_t	zz;
		uint64_t	min_delta;
		const uint8_t *widths;

		if (!pq_page_uvarint(&p, end, &zz) || (uint64_t) (end - p) < nmini)
			return false;
		min_delta = (zz >> 1) ^ -(zz & 1);
		widths = p;
		p += nmini;
		for (uint64_t m = 0; m < nmini && got < n; m++)
		{
			int			bw = widths[m];
			uint64_t	nbytes;
			uint64_t	acc = 0;
			int			bits = 0;
			const uint8_t *q = p;

			/* per_mini <= 64k and bw <= 64: no overflow */
			if (bw > 64)
				return false;
			nbytes = per_mini * bw / 8;
			if (nbytes > (uint64_t) (end - p))
				return false;
			for (uint64_t k = 0; k < per_mini && got < n; k++)
			{
				uint64_t	delta = 0;
				int			have = 0;

				/* up to 64 bits per value: gather in two steps if needed */
				while (have < bw)
				{
					int			take;

					if (bits == 0)
					{
						acc = *q++;
						bits = 8;
					}
					take = bw - have < bits ? bw - have : bits;
					delta |= (acc & ((1u << take) - 1)) << have;
					acc >>= take;
					bits -= take;
					have += take;
				}
				prev += min_delta + delta;
				out[got++] = (int64_t) prev;
			}
			p += nbytes;
		}
	}
	*used = p - data;
	return true;
}

/* DELTA_LENGTH_BYTE_ARRAY: the lengths (DELTA_BINARY_PACKED), then the
 * bytes back to back.  With prefixes (DELTA_BYTE_ARRAY), each value is the
 * previous value's first prefixes[i] bytes followed by its suffix. */
static bool
pq_page_delta_strings(const uint8_t *data, size_t len, int64_t n,
					  bool prefixed, PqColumnValues *out,
					  char *errstr, size_t errlen)
{
	int64_t    *prefix = NULL;
	int64_t    *lens = bytebuf_xmalloc((n > 0 ? n : 1) * sizeof(int64_t));
	size_t		used = 0;
	size_t		at = 0;
	ByteBuf		value = {0};
	bool		ok = true;

	if (prefixed)
	{
		prefix = bytebuf_xmalloc((n > 0 ? n : 1) * sizeof(int64_t));
		ok = pq_page_delta_binary(data, len, n, prefix, &used);
		at = used;
	}
	ok = ok && pq_page_delta_binary(data + at, len - at, n, lens, &used);
	at += used;
	if (!ok)
		snprintf(errstr, errlen, "corrupt delta-encoded strings");
	for (int64_t i = 0; ok && i < n; i++)
	{
		int64_t		keep = prefixed ? prefix[i] : 0;

		if (lens[i] < 0 || (uint64_t) lens[i] > len - at ||
			keep < 0 || (size_t) keep > value.len)
		{
			snprintf(errstr, errlen, "corrupt delta-encoded strings");
			ok = false;
			break;
		}
		/* the whole previous value again: share it, do not copy */
		if (i > 0 && lens[i] == 0 && (size_t) keep == value.len)
		{
			ok = pq_page_put_ref(out, out->str_off[out->nvalues - 1],
								 value.len, errstr, errlen);
			continue;
		}
		value.len = keep;
		bytebuf_append(&value, data + at, lens[i]);
		at += lens[i];
		ok = pq_page_put_str(out, value.data, value.len, errstr, errlen);
	}
	bytebuf_free(&value);
	free(prefix);
	free(lens);
	return ok;
}

/* Appends n PLAIN values of the leaf's type from p[0..len). */
static bool
pq_page_plain(const uint8_t *p, size_t len, int physical, int64_t n,
			  PqColumnValues *out, char *errstr, size_t errlen)
{
	size_t		at = 0;

	for (int64_t i = 0; i < n; i++)
	{
		switch (physical)
		{
			case PQ_PHYS_BOOLEAN:
				if ((size_t) (i / 8) >= len)
					goto short_data;
				pq_page_put_int(out, (p[i / 8] >> (i % 8)) & 1);
				break;
			case PQ_PHYS_INT32:
				{
					int32_t		x;

					if (len - at < 4)
						goto short_data;
					memcpy(&x, p + at, 4);
					at += 4;
					pq_page_put_int(out, x);
					break;
				}
			case PQ_PHYS_INT64:
				{
					int64_t		x;

					if (len - at < 8)
						goto short_data;
					memcpy(&x, p + at, 8);
					at += 8;
					pq_page_put_int(out, x);
					break;
				}
			case PQ_PHYS_BYTE_ARRAY:
				{
					uint32_t	sl;

					if (len - at < 4)
						goto short_data;
					memcpy(&sl, p + at, 4);
					at += 4;
					if (len - at < sl)
						goto short_data;
					if (!pq_page_put_str(out, p + at, sl, errstr, errlen))
						return false;
					at += sl;
					break;
				}
			default:
				snprintf(errstr, errlen, "physical type %d is not supported",
						 physical);
				return false;
		}
	}
	return true;

short_data:
	snprintf(errstr, errlen, "PLAIN values run past the end of the page");
	return false;
}

/* Decodes n levels (bit width from max_level) into dst. */
static bool
pq_page_levels(const uint8_t *p, size_t len, int max_level, int64_t n,
			   uint8_t *dst, char *errstr, size_t errlen)
{
	uint32_t   *tmp = bytebuf_xmalloc((n > 0 ? n : 1) * sizeof(uint32_t));
	bool		ok = pq_rle_decode(p, len, pq_rle_bit_width(max_level), tmp, n);

	for (int64_t i = 0; ok && i < n; i++)
	{
		if (tmp[i] > (uint32_t) max_level)
			ok = false;
		dst[i] = (uint8_t) tmp[i];
	}
	free(tmp);
	if (!ok)
		snprintf(errstr, errlen, "corrupt repetition/definition levels");
	return ok;
}

/* v1 levels: a 4-byte length, then the hybrid runs; advances *p. */
static bool
pq_page_levels_v1(const uint8_t **p, const uint8_t *end, int encoding,
				  int max_level, int64_t n, uint8_t *dst,
				  char *errstr, size_t errlen)
{
	uint32_t	len;

	if (encoding != PQ_ENC_RLE)
	{
		snprintf(errstr, errlen, "level encoding %d is not supported", encoding);
		return false;
	}
	if (end - *p < 4)
	{
		snprintf(errstr, errlen, "page too short for its levels");
		return false;
	}
	memcpy(&len, *p, 4);
	*p += 4;
	if ((size_t) (end - *p) < len)
	{
		snprintf(errstr, errlen, "levels run past the end of the page");
		return false;
	}
	if (!pq_page_levels(*p, len, max_level, n, dst, errstr, errlen))
		return false;
	*p += len;
	return true;
}

static bool
pq_page_values(const uint8_t *p, size_t len, const PqPageHeader *h,
			   const PqReadLeaf *leaf, const PqDict *dict, int64_t n,
			   PqColumnValues *out, char *errstr, size_t errlen)
{
	switch (h->encoding)
	{
		case PQ_ENC_PLAIN:
			return pq_page_plain(p, len, leaf->physical, n, out, errstr, errlen);
		case PQ_ENC_PLAIN_DICT:
		case PQ_ENC_RLE_DICT:
			{
				uint32_t   *idx;
				bool		ok = true;
				bool		strings = leaf->physical == PQ_PHYS_BYTE_ARRAY;

				if (!dict->present)
				{
					snprintf(errstr, errlen, "dictionary-encoded page without "
							 "a dictionary page");
					return false;
				}
				if (n == 0)
					return true;
				if (len < 1 || p[0] > 32)
				{
					snprintf(errstr, errlen, "bad dictionary index bit width");
					return false;
				}
				idx = bytebuf_xmalloc(n * sizeof(uint32_t));
				if (!pq_rle_decode(p + 1, len - 1, p[0], idx, n))
				{
					snprintf(errstr, errlen, "corrupt dictionary indices");
					free(idx);
					return false;
				}
				for (int64_t i = 0; i < n; i++)
				{
					if (idx[i] >= (uint64_t) dict->vals.nvalues)
					{
						snprintf(errstr, errlen, "dictionary index %u out of "
								 "range (%" PRId64 " entries)", idx[i],
								 dict->vals.nvalues);
						ok = false;
						break;
					}
					if (strings)
					{
						const PqColumnValues *dv = &dict->vals;
						size_t		off = dv->str_off[idx[i]];
						size_t		next = idx[i] + 1 < (uint64_t) dv->nvalues ?
							dv->str_off[idx[i] + 1] : dv->strs.len;

						/* entries are NUL-terminated: length is next - off - 1 */
						if (!pq_page_put_ref(out, dict->base + off,
											 next - off - 1, errstr, errlen))
						{
							ok = false;
							break;
						}
					}
					else
						pq_page_put_int(out, dict->vals.ints[idx[i]]);
				}
				free(idx);
				return ok;
			}
		case PQ_ENC_DELTA_BINARY:
			if (leaf->physical == PQ_PHYS_INT32 || leaf->physical == PQ_PHYS_INT64)
			{
				int64_t    *ints = bytebuf_xmalloc((n > 0 ? n : 1) * sizeof(int64_t));
				size_t		used;
				bool		ok = pq_page_delta_binary(p, len, n, ints, &used);

				for (int64_t i = 0; ok && i < n; i++)
					pq_page_put_int(out, leaf->physical == PQ_PHYS_INT32 ?
									(int32_t) ints[i] : ints[i]);
				free(ints);
				if (ok)
					return true;
				snprintf(errstr, errlen, "corrupt DELTA_BINARY_PACKED values");
				return false;
			}
			break;
		case PQ_ENC_DELTA_LENGTH:
		case PQ_ENC_DELTA_BYTES:
			if (leaf->physical == PQ_PHYS_BYTE_ARRAY)
			{
				return pq_page_delta_strings(p, len, n,
											 h->encoding == PQ_ENC_DELTA_BYTES,
											 out, errstr, errlen);
			}
			break;
		case PQ_ENC_RLE:
			if (leaf->physical == PQ_PHYS_BOOLEAN)
			{
				uint32_t	blen;
				uint32_t   *bits;
				bool		ok;

				if (len < 4)
					break;
				memcpy(&blen, p, 4);
				if (blen > len - 4)
					break;
				bits = bytebuf_xmalloc((n > 0 ? n : 1) * sizeof(uint32_t));
				ok = pq_rle_decode(p + 4, blen, 1, bits, n);
				for (int64_t i = 0; ok && i < n; i++)
					pq_page_put_int(out, bits[i]);
				free(bits);
				if (ok)
					return true;
				snprintf(errstr, errlen, "corrupt RLE booleans");
				return false;
			}
			break;
	}
	snprintf(errstr, errlen, "value encoding %d is not supported for "
			 "physical type %d", h->encoding, leaf->physical);
	return false;
}

static bool
pq_page_data(const uint8_t *body, const uint8_t *raw, size_t rawlen,
			 const PqPageHeader *h, int codec, const PqReadLeaf *leaf,
			 const PqDict *dict, PqColumnValues *out,
			 char *errstr, size_t errlen)
{
	int64_t		n = h->num_values;
	int64_t		nonnull = 0;
	uint8_t    *rep,
			   *def;
	uint8_t    *vbuf = NULL;
	const uint8_t *vp;
	size_t		vlen;
	bool		ok;

	if (n < 0 || out->nlevels + n > PQ_MAX_CHUNK_VALUES)
	{
		snprintf(errstr, errlen, "page value count %" PRId64 " out of range", n);
		return false;
	}
	if (out->nlevels + n > out->cap_levels)
	{
		out->cap_levels = out->nlevels + n > out->cap_levels * 2 ?
			out->nlevels + n : out->cap_levels * 2;
		out->rep = bytebuf_xrealloc(out->rep, out->cap_levels > 0 ? out->cap_levels : 1);
		out->def = bytebuf_xrealloc(out->def, out->cap_levels > 0 ? out->cap_levels : 1);
	}
	if (n == 0)
		return true;			/* and out->rep may still be NULL */
	rep = out->rep + out->nlevels;
	def = out->def + out->nlevels;
	memset(rep, 0, n);
	memset(def, leaf->max_def, n);

	if (h->type == PQ_PAGE_DATA)
	{
		const uint8_t *p = body;
		const uint8_t *end = body + h->uncompressed;

		if (leaf->max_rep > 0 &&
			!pq_page_levels_v1(&p, end, h->rep_encoding, leaf->max_rep, n,
							   rep, errstr, errlen))
			return false;
		if (leaf->max_def > 0 &&
			!pq_page_levels_v1(&p, end, h->def_encoding, leaf->max_def, n,
							   def, errstr, errlen))
			return false;
		vp = p;
		vlen = end - p;
	}
	else
	{
		/* v2: levels stay uncompressed in front of the values */
		int64_t		vcomp,
					vraw;

		if (h->rep_len < 0 || h->def_len < 0 ||
			h->rep_len + h->def_len > (int64_t) rawlen ||
			h->rep_len + h->def_len > h->uncompressed)
		{
			snprintf(errstr, errlen, "DATA_PAGE_V2 level lengths out of range");
			return false;
		}
		if (leaf->max_rep > 0 &&
			!pq_page_levels(raw, h->rep_len, leaf->max_rep, n, rep, errstr, errlen))
			return false;
		if (leaf->max_def > 0 &&
			!pq_page_levels(raw + h->rep_len, h->def_len, leaf->max_def, n, def,
							errstr, errlen))
			return false;
		vcomp = rawlen - h->rep_len - h->def_len;
		vraw = h->uncompressed - h->rep_len - h->def_len;
		vp = raw + h->rep_len + h->def_len;
		vlen = vcomp;
		if (h->is_compressed && codec != PQ_CODEC_UNCOMPRESSED)
		{
			vbuf = bytebuf_xmalloc(vraw > 0 ? vraw : 1);
			if (!pq_codec_decompress(codec, vp, vcomp, vbuf, vraw, errstr, errlen))
			{
				free(vbuf);
				return false;
			}
			vp = vbuf;
			vlen = vraw;
		}
	}
	for (int64_t i = 0; i < n; i++)
		nonnull += def[i] == leaf->max_def;
	ok = pq_page_values(vp, vlen, h, leaf, dict, nonnull, out, errstr, errlen);
	free(vbuf);
	if (ok)
		out->nlevels += n;
	return ok;
}

bool
pq_page_decode_chunk(const uint8_t *chunk, size_t len, int codec,
					 const PqReadLeaf *leaf, int64_t num_values,
					 PqColumnValues *out, char *errstr, size_t errlen)
{
	size_t		at = 0;
	PqDict		dict = {0};
	bool		ok = true;

	if (leaf->physical != PQ_PHYS_BOOLEAN && leaf->physical != PQ_PHYS_INT32 &&
		leaf->physical != PQ_PHYS_INT64 && leaf->physical != PQ_PHYS_BYTE_ARRAY)
	{
		snprintf(errstr, errlen, "physical type %d is not supported",
				 leaf->physical);
		return false;
	}
	while (ok && out->nlevels < num_values)
	{
		ThriftReader tr;
		PqPageHeader h;
		const uint8_t *raw;
		uint8_t    *body = NULL;

		if (at >= len)
		{
			snprintf(errstr, errlen, "chunk ends after %" PRId64 " of %"
					 PRId64 " values", out->nlevels, num_values);
			ok = false;
			break;
		}
		thrift_read_init(&tr, chunk + at, len - at);
		pq_page_read_header(&tr, &h);
		if (!thrift_read_ok(&tr))
		{
			snprintf(errstr, errlen, "corrupt page header: %s", tr.why);
			ok = false;
			break;
		}
		at = tr.p - chunk;
		if (h.compressed < 0 || h.uncompressed < 0 ||
			h.uncompressed > PQ_MAX_PAGE_BYTES ||
			(size_t) h.compressed > len - at)
		{
			snprintf(errstr, errlen, "page sizes out of range");
			ok = false;
			break;
		}
		raw = chunk + at;
		at += h.compressed;
		if (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DICTIONARY)
		{
			body = bytebuf_xmalloc(h.uncompressed > 0 ? h.uncompressed : 1);
			if (!pq_codec_decompress(codec, raw, h.compressed, body,
									 h.uncompressed, errstr, errlen))
			{
				free(body);
				ok = false;
				break;
			}
		}
		switch (h.type)
		{
			case PQ_PAGE_DICTIONARY:
				if (dict.present)
					pq_column_values_free(&dict.vals);
				if (h.encoding != PQ_ENC_PLAIN && h.encoding != PQ_ENC_PLAIN_DICT)
				{
					snprintf(errstr, errlen, "dictionary encoding %d is not "
							 "supported", h.encoding);
					ok = false;
				}
				else if (h.num_values < 0 || h.num_values > h.uncompressed * 8)
				{
					snprintf(errstr, errlen, "dictionary size out of range");
					ok = false;
				}
				else
					ok = pq_page_plain(body, h.uncompressed, leaf->physical,
									   h.num_values, &dict.vals, errstr, errlen);
				dict.present = true;
				/*
				 * The entries' bytes, once: data pages refer to them.  They
				 * stay until the chunk is freed, so a chunk of many
				 * dictionary pages counts them all against the budget.
				 */
				if (ok && leaf->physical == PQ_PHYS_BYTE_ARRAY)
				{
					ok = pq_page_str_budget(out, dict.vals.strs.len, errstr, errlen);
					dict.base = out->strs.len;
					if (ok)
						bytebuf_append(&out->strs, dict.vals.strs.data,
									   dict.vals.strs.len);
				}
				break;
			case PQ_PAGE_DATA:
			case PQ_PAGE_DATA_V2:
				ok = pq_page_data(body, raw, h.compressed, &h, codec, leaf,
								  &dict, out, errstr, errlen);
				break;
			default:
				/* INDEX_PAGE and future page types carry no values */
				break;
		}
		free(body);
	}
	if (dict.present)
		pq_column_values_free(&dict.vals);
	return ok;
}
