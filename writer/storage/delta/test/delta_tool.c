/*-------------------------------------------------------------------------
 *
 * delta_tool.c
 *	  Test driver for delta_log.c and delta_checkpoint*.c, used by
 *	  t/200_parquet_duckdb.pl, t/210_writer_checkpoint_start.pl and
 *	  t/240_writer_ls.pl:
 *
 *	  delta_tool append DIR APPID OFFSET ROWS [evolve] [interval=N]
 *		  write a Parquet data file of ROWS rows (values from OFFSET) and
 *		  commit it with a txn (APPID, OFFSET + ROWS - 1); "evolve" adds a
 *		  column "note" to the schema
 *	  delta_tool show DIR          print version, txns and live files
 *	  delta_tool race DIR          two handles commit the same version:
 *		  the second must get DELTA_CONFLICT
 *	  delta_tool state DIR         open the table, print how (stderr) and
 *		  its whole replayed state (delta_write_state)
 *	  delta_tool cp-read FILE...   read checkpoint parts and print their
 *		  actions; exit 2 with the reader's message on a bad file
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "delta_checkpoint.h"
#include "delta_log.h"
#include "parquet.h"

/* Opens the table at dir, or says why not on stderr. */
static DeltaTable *
open_table(const char *dir)
{
	char		errstr[512];
	DeltaTable *t = delta_open(dir, errstr, sizeof(errstr));

	if (t == NULL)
		fprintf(stderr, "open: %s\n", errstr);
	return t;
}

static int
cmd_append(int argc, char **argv)
{
	const char *dir = argv[2];
	const char *app = argv[3];
	long		offset = atol(argv[4]);
	long		rows = atol(argv[5]);
	bool		evolve = false;
	int			interval = 10;
	PqColumnDef cols[5] = {
		{"id", PQ_INT64, 0, 0, false},
		{"name", PQ_STRING, 0, 0, true},
		{"amount", PQ_DECIMAL, 10, 2, true},
		{"ts", PQ_TIMESTAMP_US, 0, 0, true},
		{"note", PQ_STRING, 0, 0, true},
	};
	int			ncols;
	DeltaColumn dcols[5] = {0};
	char		types[5][32];
	char		errstr[512];
	char		rel[128];
	char		full[4096];
	DeltaTable *t;
	PqWriter   *w;
	PqFileStats st;
	char	   *stats;
	DeltaAdd	add;
	DeltaTxn	txn;
	DeltaCommit c = {0};
	DeltaResult r;

	for (int a = 6; a < argc; a++)
	{
		if (strcmp(argv[a], "evolve") == 0)
			evolve = true;
		else if (strncmp(argv[a], "interval=", 9) == 0)
			interval = atoi(argv[a] + 9);
	}
	ncols = evolve ? 5 : 4;
	t = open_table(dir);
	if (t == NULL)
		return 2;
	delta_set_checkpoint_interval(t, interval);
	if (delta_txn_version(t, app) >= offset)
	{
		printf("skip %s %" PRId64 "\n", app, delta_txn_version(t, app));
		delta_close(t);
		return 0;
	}
	snprintf(rel, sizeof(rel), "part-%s-%ld.zstd.parquet", app, offset);
	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	w = parquet_open(full, cols, ncols, NULL, errstr, sizeof(errstr));
	if (w == NULL)
	{
		fprintf(stderr, "parquet: %s\n", errstr);
		return 2;
	}
	for (long i = offset; i < offset + rows; i++)
	{
		char		buf[64];
		int			n = snprintf(buf, sizeof(buf), "name_%ld", i % 7);

		parquet_set_int64(w, 0, i);
		if (i % 5 != 0)
			parquet_set_bytes(w, 1, buf, n);
		parquet_set_int64(w, 2, i * 101);
		parquet_set_int64(w, 3, 1700000000000000LL + i * 1000LL);
		if (evolve && i % 2 == 0)
			parquet_set_bytes(w, 4, "n\xc3\xb6te", 5);
		if (!parquet_end_row(w, errstr, sizeof(errstr)))
		{
			fprintf(stderr, "row: %s\n", errstr);
			parquet_abort(w);
			return 2;
		}
	}
	if (!parquet_close(w, &st, errstr, sizeof(errstr)))
	{
		fprintf(stderr, "close: %s\n", errstr);
		return 2;
	}
	stats = parquet_stats_json(&st);
	for (int i = 0; i < ncols; i++)
	{
		dcols[i].name = (char *) cols[i].name;
		dcols[i].type = (char *) delta_type_for(&cols[i], types[i], 32);
		dcols[i].nullable = cols[i].nullable;
	}
	add.path = rel;
	add.size = st.file_size;
	add.modification_time = 0;
	add.stats_json = stats;
	txn.app_id = app;
	txn.version = offset + rows - 1;
	txn.last_updated = 0;
	c.schema = dcols;
	c.nschema = ncols;
	c.adds = &add;
	c.nadds = 1;
	c.txns = &txn;
	c.ntxns = 1;
	c.operation_parameters_json = "{\"outputMode\":\"Append\"}";
	r = delta_commit(t, &c, errstr, sizeof(errstr));
	free(stats);
	parquet_file_stats_free(&st);
	if (r != DELTA_OK)
	{
		fprintf(stderr, "commit: %s\n", errstr);
		delta_close(t);
		return r == DELTA_CONFLICT ? 3 : 2;
	}
	if (errstr[0])
		fprintf(stderr, "warning: %s\n", errstr);
	printf("version %" PRId64 "\n", delta_version(t));
	delta_close(t);
	return 0;
}

static int
cmd_show(const char *dir)
{
	DeltaTable *t = open_table(dir);
	const DeltaColumn *cols;
	int			ncols;

	if (t == NULL)
		return 2;
	printf("version %" PRId64 "\n", delta_version(t));
	cols = delta_schema(t, &ncols);
	for (int i = 0; i < ncols; i++)
		printf("column %s %s %s\n", cols[i].name, cols[i].type,
			   cols[i].nullable ? "null" : "notnull");
	for (int i = 0; i < delta_num_files(t); i++)
		printf("file %s\n", delta_file_path(t, i));
	delta_close(t);
	return 0;
}

static int
cmd_state(const char *dir)
{
	DeltaTable *t = open_table(dir);
	const char *notice;
	bool		warning;

	if (t == NULL)
		return 2;
	notice = delta_open_notice(t, &warning);
	if (notice)
		fprintf(stderr, "%s: %s\n", warning ? "warning" : "notice", notice);
	delta_write_state(t, stdout);
	delta_close(t);
	return 0;
}

static bool
print_protocol(void *arg, int min_reader, int min_writer, const char *what,
			   char *errstr, size_t errlen)
{
	printf("protocol %d %d\n", min_reader, min_writer);
	return true;
}

static bool
print_metadata(void *arg, const DeltaMetadataAction *md, char *errstr,
			   size_t errlen)
{
	printf("metaData %s name %s description %s format %s options ",
		   md->id ? md->id : "-", md->name ? md->name : "-",
		   md->description ? md->description : "-",
		   md->format_provider ? md->format_provider : "-");
	for (int i = 0; i < md->nformat_options; i++)
		printf("%s%s=%s", i > 0 ? "," : "", md->format_option_keys[i],
			   md->format_option_values[i]);
	printf(" partitionColumns %d createdTime %" PRId64 " schema %s\n",
		   md->npartition_columns, md->created_time,
		   md->schema_string ? md->schema_string : "-");
	for (int i = 0; i < md->nconfig; i++)
		printf("configuration %s=%s\n", md->config_keys[i], md->config_values[i]);
	return true;
}

static void
print_txn(void *arg, const char *app_id, int64_t version, int64_t last_updated)
{
	printf("txn %s %" PRId64 " %" PRId64 "\n", app_id, version, last_updated);
}

static void
print_add(void *arg, const char *path, int64_t size, int64_t mtime,
		  const char *stats)
{
	printf("add %s %" PRId64 " %" PRId64 " %s\n", path, size, mtime,
		   stats ? stats : "-");
}

static int
cmd_cp_read(int nparts, char **parts)
{
	char		errstr[512];
	DeltaCheckpointSink sink = {NULL, print_protocol, print_metadata,
	print_txn, print_add};

	if (!delta_checkpoint_read((const char *const *) parts, nparts, &sink,
							   errstr, sizeof(errstr)))
	{
		fprintf(stderr, "cp-read: %s\n", errstr);
		return 2;
	}
	return 0;
}

static int
cmd_txn(const char *dir, const char *app)
{
	DeltaTable *t = open_table(dir);

	if (t == NULL)
		return 2;
	printf("%" PRId64 "\n", delta_txn_version(t, app));
	delta_close(t);
	return 0;
}

static int
cmd_race(const char *dir)
{
	char		errstr[512];
	DeltaTable *a = delta_open(dir, errstr, sizeof(errstr));
	DeltaTable *b = delta_open(dir, errstr, sizeof(errstr));
	DeltaTxn	txn = {"race", 1, 0};
	DeltaCommit c = {0};
	DeltaResult ra,
				rb;
	int64_t		before;

	if (a == NULL || b == NULL)
	{
		fprintf(stderr, "open: %s\n", errstr);
		return 2;
	}
	before = delta_version(a);
	c.txns = &txn;
	c.ntxns = 1;
	ra = delta_commit(a, &c, errstr, sizeof(errstr));
	printf("first %s\n", ra == DELTA_OK ? "ok" : errstr);
	txn.version = 2;
	rb = delta_commit(b, &c, errstr, sizeof(errstr));
	printf("second %s\n", rb == DELTA_CONFLICT ? "conflict" :
		   rb == DELTA_OK ? "ok" : "error");
	printf("message %s\n", errstr);
	/* after a refresh the loser sees the winner's txn and can go on */
	if (!delta_refresh(b, errstr, sizeof(errstr)))
		return 2;
	printf("refreshed %" PRId64 " -> %" PRId64 " txn %" PRId64 "\n", before,
		   delta_version(b), delta_txn_version(b, "race"));
	delta_close(a);
	delta_close(b);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 6 && strcmp(argv[1], "append") == 0)
		return cmd_append(argc, argv);
	if (argc == 3 && strcmp(argv[1], "show") == 0)
		return cmd_show(argv[2]);
	if (argc == 3 && strcmp(argv[1], "state") == 0)
		return cmd_state(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "cp-read") == 0)
		return cmd_cp_read(argc - 2, argv + 2);
	if (argc == 4 && strcmp(argv[1], "txn") == 0)
		return cmd_txn(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "race") == 0)
		return cmd_race(argv[2]);
	fprintf(stderr, "usage: delta_tool append|show|state|cp-read|txn|race ...\n");
	return 1;
}
