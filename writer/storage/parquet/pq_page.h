/*-------------------------------------------------------------------------
 *
 * pq_page.h
 *	  Decoding one Parquet column chunk's pages (internal to pq_read.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PQ_PAGE_H
#define CDC_PQ_PAGE_H

#include "pq_read.h"

/*
 * Decodes chunk[0..len) (dictionary page, then DATA_PAGE / DATA_PAGE_V2
 * pages) compressed with codec, appending num_values level entries and
 * their values to *out.
 */
extern bool pq_page_decode_chunk(const uint8_t *chunk, size_t len, int codec,
								 const PqReadLeaf *leaf, int64_t num_values,
								 PqColumnValues *out,
								 char *errstr, size_t errlen);

#endif							/* CDC_PQ_PAGE_H */
