/*-------------------------------------------------------------------------
 *
 * list_files.c
 *	  "cdc_delta_writer ls TABLE_PATH [VERSION]": prints, one per line, the
 *	  Parquet files that make up a Delta table at its latest version (or at
 *	  VERSION), as paths a reader opens directly: TABLE_PATH joined with
 *	  each add action's path, percent-decoded as the Delta protocol
 *	  encodes it.  read_parquet([...]) over them in DuckDB, pandas or any
 *	  Parquet reader is the table's snapshot, without a Delta library.
 *
 *	  Only reads: the log replay is delta_log.c's (checkpoints included),
 *	  nothing is created or written.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "delta_log.h"
#include "list_files.h"
#include "log.h"

/*
 * Prints an add action's path as a file path: relative paths under dir,
 * "file:" URIs as their path; %XX decoded (Delta stores URI-encoded paths,
 * e.g. a partition value with a space as "%20").
 */
static void
print_file(const char *dir, const char *path)
{
	const char *p = path;

	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	else if (strncmp(p, "file:", 5) == 0)
		p += 5;
	else if (strstr(p, "://") == NULL && p[0] != '/')
		printf("%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/");
	for (; *p; p++)
	{
		if (p[0] == '%' && isxdigit((unsigned char) p[1]) &&
			isxdigit((unsigned char) p[2]))
		{
			char		hex[3] = {p[1], p[2], '\0'};

			putchar((int) strtol(hex, NULL, 16));
			p += 2;
		}
		else
			putchar(*p);
	}
	putchar('\n');
}

int
list_files_main(int argc, char **argv)
{
	char		errstr[512];
	char		logdir[4096];
	const char *dir;
	int64_t		version = -1;
	struct stat st;
	DeltaTable *t;

	if (argc < 2 || argc > 3)
	{
		fprintf(stderr, "Usage: cdc_delta_writer ls TABLE_PATH [VERSION]\n");
		return 1;
	}
	dir = argv[1];
	if (argc == 3)
	{
		char	   *end;

		errno = 0;
		version = strtoll(argv[2], &end, 10);
		if (errno != 0 || end == argv[2] || *end != '\0' || version < 0)
		{
			log_error("invalid version \"%s\": give a number from 0", argv[2]);
			return 1;
		}
	}
	/*
	 * A directory without a log is not a table (an s3:// or file:// root
	 * is looked at by listing its log: no commit, no table).
	 */
	snprintf(logdir, sizeof(logdir), "%s/_delta_log", dir);
	if (strstr(dir, "://") == NULL && (stat(logdir, &st) != 0 || !S_ISDIR(st.st_mode)))
	{
		log_error("\"%s\" is not a Delta table (no _delta_log directory)", dir);
		return 1;
	}
	t = version >= 0 ? delta_open_version(dir, version, errstr, sizeof(errstr))
		: delta_open(dir, errstr, sizeof(errstr));
	if (t == NULL)
	{
		log_error("%s", errstr);
		return 2;
	}
	if (delta_version(t) < 0)
	{
		log_error("\"%s\" has no commit yet", dir);
		delta_close(t);
		return 1;
	}
	for (int i = 0; i < delta_num_files(t); i++)
		print_file(dir, delta_file_path(t, i));
	delta_close(t);
	if (fflush(stdout) != 0 || ferror(stdout))
	{
		log_error("could not write the file list: %s", strerror(errno));
		return 2;
	}
	return 0;
}
