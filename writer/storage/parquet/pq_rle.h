/*-------------------------------------------------------------------------
 *
 * pq_rle.h
 *	  Parquet's RLE / bit-packed hybrid encoding, used for definition and
 *	  repetition levels and for dictionary indices: encoder and decoder.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PQ_RLE_H
#define CDC_PQ_RLE_H

#include <stdbool.h>

#include "bytebuf.h"

/* Appends the hybrid encoding of v[0..n) at bit width bw (1..32). */
extern void pq_rle_encode(ByteBuf *out, const uint32_t *v, size_t n, int bw);

/* Same for byte-sized values (levels). */
extern void pq_rle_encode_u8(ByteBuf *out, const uint8_t *v, size_t n, int bw);

/*
 * Repetition or definition levels v[0..n) (at most max_level) as a data
 * page v1 holds them: a 4-byte little-endian length, then the encoding.
 */
extern void pq_rle_encode_levels(ByteBuf *out, const uint8_t *v, size_t n,
								 uint32_t max_level);

/*
 * Decodes exactly n values at bit width bw (0..32) from data[0..len) into
 * out; false if the data ends first or a run is malformed.  Trailing
 * bytes are ignored (a page's last bit-packed group may be padded).
 */
extern bool pq_rle_decode(const uint8_t *data, size_t len, int bw,
						  uint32_t *out, size_t n);

/* Bits needed to store max_value (at least 1). */
extern int	pq_rle_bit_width(uint32_t max_value);

#endif							/* CDC_PQ_RLE_H */
