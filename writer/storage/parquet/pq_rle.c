/*-------------------------------------------------------------------------
 *
 * pq_rle.c
 *	  RLE / bit-packed hybrid encoder and decoder (Parquet Encodings.md).
 *
 * A run of 8 or more equal values becomes an RLE run (varint count << 1,
 * then the value in ceil(bw/8) little-endian bytes); everything else is
 * bit-packed in groups of 8 values (varint groups << 1 | 1), LSB first.
 * Only the last group of the whole sequence may be padded, because the
 * reader knows the value count only for the page, so bit-packed sections
 * end on a group boundary where a long run starts.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "pq_rle.h"

#define PQ_RLE_DEFINE(NAME, T) \
void \
NAME(ByteBuf *out, const T *v, size_t n, int bw) \
{ \
	int			vbytes = (bw + 7) / 8; \
	size_t		i = 0; \
 \
	while (i < n) \
	{ \
		size_t		r = 1; \
 \
		while (i + r < n && v[i + r] == v[i]) \
			r++; \
		if (r >= 8) \
		{ \
			uint32_t	val = v[i]; \
 \
			bytebuf_put_uvarint(out, (uint64_t) r << 1); \
			bytebuf_append(out, &val, vbytes); \
			i += r; \
			continue; \
		} \
		{ \
			size_t		start = i; \
			size_t		groups = 0; \
			uint64_t	acc = 0; \
			int			bits = 0; \
 \
			/* extend the section until a run of >= 8 starts on a group edge */ \
			for (;;) \
			{ \
				size_t		k = 1; \
 \
				i += 8; \
				groups++; \
				if (i >= n) \
					break; \
				while (k < 8 && i + k < n && v[i + k] == v[i]) \
					k++; \
				if (k >= 8) \
					break; \
			} \
			bytebuf_put_uvarint(out, ((uint64_t) groups << 1) | 1); \
			bytebuf_reserve(out, groups * bw); \
			for (size_t j = start; j < start + groups * 8; j++) \
			{ \
				uint64_t	val = j < n ? v[j] : 0; \
 \
				acc |= val << bits; \
				bits += bw; \
				while (bits >= 8) \
				{ \
					out->data[out->len++] = (uint8_t) acc; \
					acc >>= 8; \
					bits -= 8; \
				} \
			} \
			if (i > n) \
				i = n; \
		} \
	} \
}

PQ_RLE_DEFINE(pq_rle_encode, uint32_t)
PQ_RLE_DEFINE(pq_rle_encode_u8, uint8_t)

void
pq_rle_encode_levels(ByteBuf *out, const uint8_t *v, size_t n,
					 uint32_t max_level)
{
	size_t		at = out->len;
	uint32_t	len;

	bytebuf_put_le32(out, 0);	/* patched below */
	pq_rle_encode_u8(out, v, n, pq_rle_bit_width(max_level));
	len = (uint32_t) (out->len - at - 4);
	memcpy(out->data + at, &len, 4);
}

int
pq_rle_bit_width(uint32_t max_value)
{
	int			bw = 1;

	while (bw < 32 && (max_value >> bw) != 0)
		bw++;
	return bw;
}

bool
pq_rle_decode(const uint8_t *data, size_t len, int bw, uint32_t *out, size_t n)
{
	const uint8_t *p = data;
	const uint8_t *end = data + len;
	int			vbytes;
	uint32_t	mask;
	size_t		i = 0;

	if (bw < 0 || bw > 32)
		return false;
	vbytes = (bw + 7) / 8;
	mask = bw == 32 ? 0xffffffffu : ((1u << bw) - 1);
	if (bw == 0)
	{
		/* one possible value: the level/index is always 0 */
		memset(out, 0, n * sizeof(uint32_t));
		return true;
	}
	while (i < n)
	{
		uint64_t	header = 0;
		int			shift = 0;

		for (;;)
		{
			if (p >= end || shift > 35)
				return false;
			header |= (uint64_t) (*p & 0x7f) << shift;
			shift += 7;
			if ((*p++ & 0x80) == 0)
				break;
		}
		if (header & 1)
		{
			/* bit-packed: (header >> 1) groups of 8 values, LSB first */
			uint64_t	count = (header >> 1) * 8;
			uint64_t	acc = 0;
			int			bits = 0;

			if (count == 0 || (header >> 1) * (uint64_t) bw > (uint64_t) (end - p))
				return false;
			for (uint64_t k = 0; k < count; k++)
			{
				while (bits < bw)
				{
					acc |= (uint64_t) *p++ << bits;
					bits += 8;
				}
				if (i < n)
					out[i++] = (uint32_t) acc & mask;
				acc >>= bw;
				bits -= bw;
			}
		}
		else
		{
			uint64_t	count = header >> 1;
			uint32_t	val = 0;

			if (count == 0 || (size_t) (end - p) < (size_t) vbytes)
				return false;
			for (int b = 0; b < vbytes; b++)
				val |= (uint32_t) p[b] << (8 * b);
			p += vbytes;
			if (val & ~mask)
				return false;
			for (uint64_t k = 0; k < count && i < n; k++)
				out[i++] = val;
		}
	}
	return true;
}
