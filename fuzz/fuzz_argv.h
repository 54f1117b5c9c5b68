/*-------------------------------------------------------------------------
 *
 * fuzz_argv.h
 *	  The options targets' common part: fuzzer input -> argv (one argument
 *	  per line, at most FUZZ_MAX_ARGS) and an optional configuration file
 *	  (the text after a line "--config-text", passed as -c through a
 *	  memfd), then the daemon's main with "-X dump" first.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_FUZZ_ARGV_H
#define CDC_FUZZ_ARGV_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_MAX_ARGS 64

static inline int
fuzz_argv_run(const uint8_t *data, size_t size, const char *prog,
			  int (*daemon_main) (int, char **))
{
	char	   *copy = malloc(size + 1);
	char	   *argv[FUZZ_MAX_ARGS + 5];
	char		cpath[64];
	int			argc = 0,
				fd = -1;
	char	   *line,
			   *save = NULL;
	char	   *conf = NULL;

	memcpy(copy, data, size);
	copy[size] = '\0';
	if ((conf = strstr(copy, "\n--config-text\n")) != NULL)
	{
		*conf = '\0';
		conf += strlen("\n--config-text\n");
	}
	argv[argc++] = (char *) prog;
	argv[argc++] = "-Xdump";
	for (line = strtok_r(copy, "\n", &save); line && argc < FUZZ_MAX_ARGS;
		 line = strtok_r(NULL, "\n", &save))
		argv[argc++] = line;
	if (conf && (fd = memfd_create("fuzz-config", 0)) >= 0)
	{
		if (write(fd, conf, strlen(conf)) >= 0)
		{
			snprintf(cpath, sizeof(cpath), "/proc/self/fd/%d", fd);
			argv[argc++] = "-c";
			argv[argc++] = cpath;
		}
	}
	argv[argc] = NULL;
	optind = 0;					/* getopt starts over */
	daemon_main(argc, argv);
	if (fd >= 0)
		close(fd);
	free(copy);
	return 0;
}

#endif							/* CDC_FUZZ_ARGV_H */
