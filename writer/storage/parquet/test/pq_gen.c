/*-------------------------------------------------------------------------
 *
 * pq_gen.c
 *	  Test driver for parquet.c: writes a Parquet file of a named shape
 *	  whose values follow formulas of the row number, so that the TAP test
 *	  can recompute them independently and compare with what DuckDB reads.
 *	  Prints the Delta stats JSON of the file on stdout.
 *
 *	  pq_gen all|bench OUT [rows=N] [page=B] [rowgroup=B] [zstd=L] [dict=0|1]
 *		[dictmax=B]
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parquet.h"

static const PqColumnDef all_cols[] = {
	{"b", PQ_BOOLEAN, 0, 0, true},
	{"i32", PQ_INT32, 0, 0, true},
	{"i64", PQ_INT64, 0, 0, false},
	{"f", PQ_FLOAT, 0, 0, true},
	{"d", PQ_DOUBLE, 0, 0, true},
	{"s", PQ_STRING, 0, 0, true},
	{"big", PQ_STRING, 0, 0, true},
	{"bin", PQ_BINARY, 0, 0, true},
	{"dt", PQ_DATE, 0, 0, true},
	{"ts", PQ_TIMESTAMP_US, 0, 0, true},
	{"dec1", PQ_DECIMAL, 10, 2, true},
	{"dec2", PQ_DECIMAL, 38, 6, true},
	{"color", PQ_STRING, 0, 0, false},
	{"small", PQ_INT32, 0, 0, false},
	{"grow", PQ_STRING, 0, 0, false},
};

static const char *colors[] = {"red", "green", "blue", "\xc3\xbf" "ellow"};

static char *big_string;

static void
row_all(PqWriter *w, long i)
{
	char		buf[128];

	if (i % 7 == 0)
		parquet_set_null(w, 0);
	else
		parquet_set_bool(w, 0, i % 3 == 0);
	if (i == 1)
		parquet_set_int32(w, 1, INT32_MIN);
	else if (i == 2)
		parquet_set_int32(w, 1, INT32_MAX);
	else if (i % 5 != 0)
		parquet_set_int32(w, 1, (int32_t) (i * 7919 - 400000));
	if (i == 3)
		parquet_set_int64(w, 2, INT64_MAX);
	else
		parquet_set_int64(w, 2, i * 1000000007LL - 123456789012LL);
	if (i % 11 != 0)
		parquet_set_double(w, 3, i * 0.25);
	if (i % 13 != 0)
		parquet_set_double(w, 4, i * 1.5 - 100.125);
	if (i % 17 == 1)
		parquet_set_bytes(w, 5, "", 0);
	else if (i % 17 == 2)
	{
		snprintf(buf, sizeof(buf), "h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac %ld", i);
		parquet_set_bytes(w, 5, buf, strlen(buf));
	}
	else if (i % 17 != 0)
	{
		snprintf(buf, sizeof(buf), "str%ld", i);
		parquet_set_bytes(w, 5, buf, strlen(buf));
	}
	if (i == 5)
		parquet_set_bytes(w, 6, big_string, strlen(big_string));
	else if (i % 19 != 0)
	{
		snprintf(buf, sizeof(buf), "b%ld", i);
		parquet_set_bytes(w, 6, buf, strlen(buf));
	}
	if (i % 29 != 0)
	{
		uint8_t		bin[4] = {(uint8_t) (i % 256), 0, 255, (uint8_t) (i / 256 % 256)};

		parquet_set_bytes(w, 7, bin, i % 4);
	}
	if (i % 23 != 0)
		parquet_set_int32(w, 8, (int32_t) (i * 37 - 20000));
	if (i % 31 != 0)
		parquet_set_int64(w, 9, 1700000000000000LL + i * 1234567891LL);
	if (i % 2 == 0)
		parquet_set_int64(w, 10, i * 12345LL - 5000000LL);
	else
	{
		/* same formula through the big-endian bytes path */
		int64_t		v = i * 12345LL - 5000000LL;
		uint8_t		be[8];

		for (int k = 0; k < 8; k++)
			be[k] = (uint8_t) ((uint64_t) v >> (56 - 8 * k));
		parquet_set_bytes(w, 10, be, 8);
	}
	if (i % 37 != 0)
	{
		/* (i * 10^20 + i), negative for odd i */
		__int128	v = (__int128) i * 100000000000000000LL * 1000 + i;
		uint8_t		be[16];

		if (i % 2)
			v = -v;
		for (int k = 15; k >= 0; k--)
		{
			be[k] = (uint8_t) (v & 0xff);
			v >>= 8;
		}
		parquet_set_bytes(w, 11, be, 16);
	}
	parquet_set_bytes(w, 12, colors[i % 4], strlen(colors[i % 4]));
	parquet_set_int32(w, 13, (int32_t) (i % 10));
	/* repetitive, then distinct: dictionary first, PLAIN after fallback */
	if (i % 1000 < 500)
		snprintf(buf, sizeof(buf), "g%ld", i % 3);
	else
		snprintf(buf, sizeof(buf), "g%ld", i);
	parquet_set_bytes(w, 14, buf, strlen(buf));
}

static const PqColumnDef bench_cols[] = {
	{"id", PQ_INT64, 0, 0, false},
	{"name", PQ_STRING, 0, 0, true},
	{"amount", PQ_DECIMAL, 10, 2, true},
	{"ts", PQ_TIMESTAMP_US, 0, 0, true},
};

static void
row_bench(PqWriter *w, long i)
{
	char		buf[64];
	int			n;

	parquet_set_int64(w, 0, i);
	n = snprintf(buf, sizeof(buf), "customer_%ld", i % 1000);
	parquet_set_bytes(w, 1, buf, n);
	parquet_set_int64(w, 2, (i * 7919) % 1000000);
	parquet_set_int64(w, 3, 1700000000000000LL + i * 1000003LL);
}

int
main(int argc, char **argv)
{
	PqOptions	opt;
	long		rows = 1000;
	const PqColumnDef *cols;
	int			ncols;
	void		(*row) (PqWriter *, long);
	PqWriter   *w;
	PqFileStats st;
	char		errstr[512];
	char	   *json;
	struct timespec t0,
				t1;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s all|bench OUT [rows=N] [page=B] "
				"[rowgroup=B] [zstd=L] [dict=0|1] [dictmax=B]\n", argv[0]);
		return 1;
	}
	parquet_options_default(&opt);
	for (int a = 3; a < argc; a++)
	{
		if (strncmp(argv[a], "rows=", 5) == 0)
			rows = atol(argv[a] + 5);
		else if (strncmp(argv[a], "page=", 5) == 0)
			opt.page_bytes = atol(argv[a] + 5);
		else if (strncmp(argv[a], "rowgroup=", 9) == 0)
			opt.row_group_bytes = atol(argv[a] + 9);
		else if (strncmp(argv[a], "zstd=", 5) == 0)
			opt.zstd_level = atoi(argv[a] + 5);
		else if (strncmp(argv[a], "dictmax=", 8) == 0)
			opt.dictionary_max_bytes = atol(argv[a] + 8);
		else if (strncmp(argv[a], "dict=", 5) == 0)
			opt.dictionary = atoi(argv[a] + 5) != 0;
		else
		{
			fprintf(stderr, "unknown argument \"%s\"\n", argv[a]);
			return 1;
		}
	}
	if (strcmp(argv[1], "all") == 0)
	{
		cols = all_cols;
		ncols = sizeof(all_cols) / sizeof(all_cols[0]);
		row = row_all;
		big_string = malloc(1024 * 1024 + 4);
		memset(big_string, 'x', 1024 * 1024);
		strcpy(big_string + 1024 * 1024, "end");
	}
	else if (strcmp(argv[1], "bench") == 0)
	{
		cols = bench_cols;
		ncols = sizeof(bench_cols) / sizeof(bench_cols[0]);
		row = row_bench;
	}
	else
	{
		fprintf(stderr, "unknown shape \"%s\"\n", argv[1]);
		return 1;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	w = parquet_open(argv[2], cols, ncols, &opt, errstr, sizeof(errstr));
	if (w == NULL)
	{
		fprintf(stderr, "%s\n", errstr);
		return 2;
	}
	for (long i = 0; i < rows; i++)
	{
		row(w, i);
		if (!parquet_end_row(w, errstr, sizeof(errstr)))
		{
			fprintf(stderr, "row %ld: %s\n", i, errstr);
			parquet_abort(w);
			return 2;
		}
	}
	if (!parquet_close(w, &st, errstr, sizeof(errstr)))
	{
		fprintf(stderr, "%s\n", errstr);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	json = parquet_stats_json(&st);
	printf("%s\n", json);
	fprintf(stderr, "rows=%ld bytes=%lld seconds=%.3f\n", rows,
			(long long) st.file_size,
			(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(json);
	parquet_file_stats_free(&st);
	free(big_string);
	return 0;
}
