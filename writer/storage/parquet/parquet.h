/*-------------------------------------------------------------------------
 *
 * parquet.h
 *	  A streaming writer for flat Parquet files (one level of optional
 *	  primitive columns), as the Delta writer needs for its data files.
 *
 * The caller appends rows column by column and ends each row; the writer
 * keeps at most one row group in memory (compressed pages plus the page
 * being filled) and writes it out when it reaches row_group_bytes, so
 * memory is bounded by the options, not by the file size.  It writes
 * dictionary encoding (RLE_DICTIONARY, falling back to PLAIN when the
 * dictionary grows too big), RLE definition levels for nullable columns,
 * zstd-compressed v1 data pages, chunk statistics and the logical types
 * Delta uses.  Nested columns (Delta checkpoints) are written by
 * delta_checkpoint.c, not here.
 *
 * Ownership: strings passed in are copied; PqFileStats returned by
 * parquet_close belongs to the caller (parquet_file_stats_free).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_PARQUET_H
#define CDC_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum PqType
{
	PQ_BOOLEAN,
	PQ_INT32,
	PQ_INT16,					/* INT32 annotated INT(16, signed) */
	PQ_INT64,
	PQ_FLOAT,
	PQ_DOUBLE,
	PQ_STRING,					/* BYTE_ARRAY, UTF8 */
	PQ_BINARY,					/* BYTE_ARRAY */
	PQ_DATE,					/* INT32 days since 1970-01-01 */
	PQ_TIMESTAMP_US,			/* INT64 microseconds since epoch, UTC */
	PQ_DECIMAL					/* precision <= 18: INT64; else 16-byte
								 * FIXED_LEN_BYTE_ARRAY; unscaled value */
} PqType;

typedef struct PqColumnDef
{
	const char *name;			/* copied by parquet_open */
	PqType		type;
	int			precision;		/* PQ_DECIMAL only, 1..38 */
	int			scale;			/* PQ_DECIMAL only, 0..precision */
	bool		nullable;		/* OPTIONAL vs REQUIRED in the schema */
	int32_t		field_id;		/* SchemaElement.field_id (Delta column mapping
								 * id), 0 = none */
} PqColumnDef;

typedef struct PqOptions
{
	size_t		row_group_bytes;	/* flush a row group at this many
									 * buffered (compressed) bytes */
	size_t		page_bytes;		/* close a data page at this many
								 * uncompressed value bytes */
	int			zstd_level;		/* 0 = no compression, else zstd level */
	bool		dictionary;		/* try dictionary encoding first */
	size_t		dictionary_max_bytes;	/* fall back to PLAIN past this
										 * dictionary size per chunk */
	const char *created_by;		/* NULL = "cdc_kafka version 1.0.0 (build
								 * cdc_kafka)" */
} PqOptions;

/* Statistics of one column over the whole file, rendered for Delta stats. */
typedef struct PqColumnStats
{
	char	   *name;			/* column name (owned) */
	int64_t		null_count;
	char	   *min_json;		/* JSON value text (e.g. 3, "abc",
								 * "2024-01-01T00:00:00.000Z", 1.50) or NULL
								 * when unknown / not collected for the type */
	char	   *max_json;		/* same; NULL when a truncated string max
								 * cannot be bounded */
} PqColumnStats;

typedef struct PqFileStats
{
	int64_t		file_size;		/* bytes on disk */
	int64_t		num_rows;
	int			ncols;
	PqColumnStats *cols;		/* ncols entries, owned */
} PqFileStats;

typedef struct PqWriter PqWriter;

extern void parquet_options_default(PqOptions *opt);

/* Creates (truncates) path and writes the magic; NULL + errstr on error. */
extern PqWriter *parquet_open(const char *path, const PqColumnDef *cols,
							  int ncols, const PqOptions *opt,
							  char *errstr, size_t errlen);

/*
 * Per-row setters: call at most once per column per row; a column not set
 * before parquet_end_row is null (an error for a non-nullable column).
 * The setters never fail; a type mismatch is reported by parquet_end_row.
 *	 int32: PQ_INT32, PQ_DATE
 *	 int64: PQ_INT64, PQ_TIMESTAMP_US, PQ_DECIMAL (unscaled value)
 *	 double: PQ_DOUBLE, PQ_FLOAT
 *	 bytes: PQ_STRING, PQ_BINARY, PQ_DECIMAL (big-endian two's complement
 *			unscaled value, 1..16 bytes, sign-extended); data is copied
 */
extern void parquet_set_null(PqWriter *w, int col);
extern void parquet_set_bool(PqWriter *w, int col, bool v);
extern void parquet_set_int32(PqWriter *w, int col, int32_t v);
extern void parquet_set_int64(PqWriter *w, int col, int64_t v);
extern void parquet_set_double(PqWriter *w, int col, double v);
extern void parquet_set_bytes(PqWriter *w, int col, const void *data,
							  size_t len);

/* Ends the row; may write a row group.  false + errstr on error. */
extern bool parquet_end_row(PqWriter *w, char *errstr, size_t errlen);

/* Bytes written to the file so far plus buffered bytes (estimate). */
extern int64_t parquet_estimated_size(const PqWriter *w);

/*
 * Writes the last row group and the footer, fsyncs the file and its
 * directory, closes it and frees w (also on failure).  On success fills
 * *out (if not NULL).  On failure the file may be left behind; unlink it.
 */
extern bool parquet_close(PqWriter *w, PqFileStats *out,
						  char *errstr, size_t errlen);

/* Closes, unlinks the file and frees w. */
extern void parquet_abort(PqWriter *w);

extern void parquet_file_stats_free(PqFileStats *st);

/*
 * Delta "stats" JSON for an add action:
 * {"numRecords":N,"minValues":{..},"maxValues":{..},"nullCount":{..}}.
 * Returns a malloc'd string.
 */
extern char *parquet_stats_json(const PqFileStats *st);

#endif							/* CDC_PARQUET_H */
