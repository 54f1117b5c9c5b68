/*-------------------------------------------------------------------------
 *
 * pq_codec.c
 *	  Page decompression for the Parquet reader (see pq_codec.h).
 *
 * Every codec is told the exact output size from the page header and a
 * result of any other size is an error: a page that decompresses short
 * would otherwise be decoded from uninitialised memory.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "pq_codec.h"

const char *
pq_codec_name(int codec)
{
	switch (codec)
	{
		case PQ_CODEC_UNCOMPRESSED:
			return "UNCOMPRESSED";
		case PQ_CODEC_SNAPPY:
			return "SNAPPY";
		case PQ_CODEC_GZIP:
			return "GZIP";
		case 3:
			return "LZO";
		case 4:
			return "BROTLI";
		case 5:
			return "LZ4";
		case PQ_CODEC_ZSTD:
			return "ZSTD";
		case 7:
			return "LZ4_RAW";
	}
	return "unknown";
}

static bool
pq_codec_gunzip(const uint8_t *src, size_t srclen, uint8_t *dst,
				size_t dstlen, char *errstr, size_t errlen)
{
	z_stream	zs;
	int			rc;

	memset(&zs, 0, sizeof(zs));
	/* 32 + MAX_WBITS: accept gzip (the spec) and zlib headers */
	if (inflateInit2(&zs, 32 + MAX_WBITS) != Z_OK)
	{
		snprintf(errstr, errlen, "GZIP: could not initialise zlib");
		return false;
	}
	zs.next_in = (Bytef *) src;
	zs.avail_in = (uInt) srclen;
	zs.next_out = dst;
	zs.avail_out = (uInt) dstlen;
	rc = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	if (rc != Z_STREAM_END || zs.total_out != dstlen)
	{
		snprintf(errstr, errlen, "GZIP: corrupt data (%s)",
				 zs.msg ? zs.msg : "wrong size");
		return false;
	}
	return true;
}

bool
pq_codec_decompress(int codec, const uint8_t *src, size_t srclen,
					uint8_t *dst, size_t dstlen, char *errstr, size_t errlen)
{
	switch (codec)
	{
		case PQ_CODEC_UNCOMPRESSED:
			if (srclen != dstlen)
			{
				snprintf(errstr, errlen, "uncompressed page: %zu bytes, "
						 "header says %zu", srclen, dstlen);
				return false;
			}
			memcpy(dst, src, dstlen);
			return true;
		case PQ_CODEC_SNAPPY:
			{
				size_t		n = 0;

				if (snappy_uncompressed_length((const char *) src, srclen, &n) != SNAPPY_OK ||
					n != dstlen)
				{
					snprintf(errstr, errlen, "SNAPPY: corrupt data or wrong size");
					return false;
				}
				n = dstlen;
				if (snappy_uncompress((const char *) src, srclen, (char *) dst, &n) != SNAPPY_OK ||
					n != dstlen)
				{
					snprintf(errstr, errlen, "SNAPPY: corrupt data");
					return false;
				}
				return true;
			}
		case PQ_CODEC_GZIP:
			if (srclen > UINT32_MAX || dstlen > UINT32_MAX)
			{
				snprintf(errstr, errlen, "GZIP: page too large");
				return false;
			}
			return pq_codec_gunzip(src, srclen, dst, dstlen, errstr, errlen);
		case PQ_CODEC_ZSTD:
			{
				size_t		n = ZSTD_decompress(dst, dstlen, src, srclen);

				if (ZSTD_isError(n) || n != dstlen)
				{
					snprintf(errstr, errlen, "ZSTD: %s",
							 ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
					return false;
				}
				return true;
			}
	}
	snprintf(errstr, errlen, "compression codec %s (%d) is not supported",
			 pq_codec_name(codec), codec);
	return false;
}
