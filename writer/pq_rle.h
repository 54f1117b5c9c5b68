/*-------------------------------------------------------------------------
 *
 * pq_rle.h
 *	  Parquet's RLE / bit-packed hybrid encoding, used for definition and
 *	  repetition levels and for dictionary indices.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PQ_RLE_H
#define CDC_PQ_RLE_H

#include "bytebuf.h"

/* Appends the hybrid encoding of v[0..n) at bit width bw (1..32). */
extern void pq_rle_encode(ByteBuf *out, const uint32_t *v, size_t n, int bw);

/* Same for byte-sized values (levels). */
extern void pq_rle_encode_u8(ByteBuf *out, const uint8_t *v, size_t n, int bw);

/* Bits needed to store max_value (at least 1). */
extern int	pq_rle_bit_width(uint32_t max_value);

#endif							/* CDC_PQ_RLE_H */
