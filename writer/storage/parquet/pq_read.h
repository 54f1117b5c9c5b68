/*-------------------------------------------------------------------------
 *
 * pq_read.h
 *	  A small Parquet reader: the footer, the schema tree as leaf columns
 *	  with their maximum definition and repetition levels, and one column
 *	  chunk at a time decoded into levels and values.  Written for Delta
 *	  checkpoints (struct, map and list columns of booleans, integers and
 *	  strings) as Spark, delta-rs, DuckDB and this writer produce them.
 *
 * Owns file access and footer parsing; page decoding is pq_page.c, codecs
 * pq_codec.c.  Record assembly (what the levels mean for a given schema)
 * is the caller's.  Everything read from the file is bounds-checked: a
 * corrupt file yields an error message, never a crash or an overread.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PQ_READ_H
#define CDC_PQ_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytebuf.h"

/* parquet.thrift Type (physical types) */
#define PQ_PHYS_BOOLEAN		0
#define PQ_PHYS_INT32		1
#define PQ_PHYS_INT64		2
#define PQ_PHYS_BYTE_ARRAY	6

/* Levels are stored in bytes; nothing Delta writes nests this deep. */
#define PQ_READ_MAX_LEVEL	64

typedef struct PqReadLeaf
{
	char	   *path;			/* dotted names below the root, owned */
	int			physical;		/* PQ_PHYS_* or another parquet.thrift Type */
	int			max_def;
	int			max_rep;
	int			elem_def;		/* def level at which the innermost repeated
								 * ancestor has an element (0 if none) */
} PqReadLeaf;

/*
 * One column chunk, decoded: a level entry per value slot (nulls and empty
 * lists included), and the non-null values in order.  Each entry whose def
 * equals the leaf's max_def consumes the next value.
 */
typedef struct PqColumnValues
{
	int64_t		nlevels;
	uint8_t    *rep;			/* nlevels entries, owned */
	uint8_t    *def;			/* nlevels entries, owned */
	int64_t		nvalues;
	int64_t    *ints;			/* BOOLEAN, INT32, INT64: nvalues, owned */
	size_t	   *str_off;		/* BYTE_ARRAY: offsets into strs, owned */
	ByteBuf		strs;			/* NUL-terminated values; a dictionary's
								 * entries once, indices point into them */
	int64_t		str_bytes;		/* string bytes the values stand for, shared
								 * ones counted each time (see pq_page.c) */
	int64_t		cap_levels;
	int64_t		cap_values;
} PqColumnValues;

typedef struct PqReader PqReader;

extern PqReader *pq_read_open(const char *path, char *errstr, size_t errlen);
extern void pq_read_close(PqReader *r);

extern int	pq_read_num_row_groups(const PqReader *r);
extern int64_t pq_read_row_group_rows(const PqReader *r, int rg);

/* Leaf columns, in schema order. */
extern int	pq_read_num_leaves(const PqReader *r);
extern const PqReadLeaf *pq_read_leaf(const PqReader *r, int i);

/* Index of the leaf with this dotted path, or -1. */
extern int	pq_read_find_leaf(const PqReader *r, const char *path);

/*
 * Reads and decodes leaf's chunk of row group rg into *out (which the
 * caller frees with pq_column_values_free).  A chunk whose level count
 * does not match the row group is an error.
 */
extern bool pq_read_column(PqReader *r, int rg, int leaf, PqColumnValues *out,
						   char *errstr, size_t errlen);

extern void pq_column_values_free(PqColumnValues *v);

/* String value i of a BYTE_ARRAY column. */
static inline const char *
pq_column_str(const PqColumnValues *v, int64_t i)
{
	return (const char *) v->strs.data + v->str_off[i];
}

#endif							/* CDC_PQ_READ_H */
