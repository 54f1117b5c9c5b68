/*-------------------------------------------------------------------------
 *
 * table_dir.c
 *	  Test driver for paths.c, used by t/200_parquet_duckdb.pl: the
 *	  directory the writer gives a schema and table under a root, and the
 *	  object store's check that it stays inside the root.
 *
 *	  table_dir ROOT SCHEMA TABLE
 *		  prints ROOT/<key>, or "error <why>" and exits 1
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include "objstore.h"
#include "paths.h"

int
main(int argc, char **argv)
{
	char		errstr[512];
	char		out[4096];
	char		key[4200];
	char		stage[4096];
	ObjStore   *store;
	bool		ok;

	if (argc != 4)
	{
		fprintf(stderr, "usage: table_dir ROOT SCHEMA TABLE\n");
		return 1;
	}
	store = objstore_open(argv[1], NULL, errstr, sizeof(errstr));
	ok = store != NULL &&
		paths_table_key(argv[2], argv[3], out, sizeof(out), errstr, sizeof(errstr));
	snprintf(key, sizeof(key), "%s/_delta_log/probe", out);
	ok = ok && objstore_stage_path(store, key, stage, sizeof(stage),
								   errstr, sizeof(errstr));
	if (ok)
		printf("%s/%s\n", objstore_describe(store), out);
	else
		printf("error %s\n", errstr);
	objstore_close(store);
	return ok ? 0 : 1;
}
