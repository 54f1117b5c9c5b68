/*-------------------------------------------------------------------------
 *
 * pq_codec.h
 *	  Decompression of Parquet page bodies: UNCOMPRESSED, SNAPPY (raw
 *	  block format, libsnappy), GZIP (zlib) and ZSTD (libzstd).
 *
 * Reading side only; the writer's data files compress with zstd in
 * parquet.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PQ_CODEC_H
#define CDC_PQ_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* parquet.thrift CompressionCodec */
#define PQ_CODEC_UNCOMPRESSED	0
#define PQ_CODEC_SNAPPY			1
#define PQ_CODEC_GZIP			2
#define PQ_CODEC_ZSTD			6

/*
 * Decompresses src[0..srclen) into dst, which must come out exactly
 * dstlen bytes long (the page header's uncompressed size).
 */
extern bool pq_codec_decompress(int codec, const uint8_t *src, size_t srclen,
								uint8_t *dst, size_t dstlen,
								char *errstr, size_t errlen);

extern const char *pq_codec_name(int codec);

#endif							/* CDC_PQ_CODEC_H */
