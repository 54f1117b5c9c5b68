/*-------------------------------------------------------------------------
 *
 * fuzz_writer_options.c
 *	  libFuzzer target: cdc_delta_writer's command line and configuration
 *	  file, through its own main() (renamed) with "-X dump" first, so it
 *	  parses, checks and prints the configuration and returns.  Input: one
 *	  argument per line; after a line "--config-text" the rest is the text
 *	  of a configuration file given with -c.  LeakSanitizer checks that
 *	  every exit path frees what it allocated.
 *
 *-------------------------------------------------------------------------
 */
#define main cdc_delta_writer_main
#include "../writer/main.c"
#undef main

#include "fuzz_argv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_argv_run(data, size, "cdc_delta_writer", cdc_delta_writer_main);
}
