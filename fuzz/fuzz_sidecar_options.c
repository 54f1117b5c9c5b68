/*-------------------------------------------------------------------------
 *
 * fuzz_sidecar_options.c
 *	  libFuzzer target: cdc_kafka_sidecar's command line and configuration
 *	  file (plugin options -o included), through its own main() with
 *	  "-X dump" first; see fuzz_writer_options.c for the input.
 *
 *-------------------------------------------------------------------------
 */
#define main cdc_kafka_sidecar_main
#include "../sidecar/main.c"
#undef main

#include "fuzz_argv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_argv_run(data, size, "cdc_kafka_sidecar", cdc_kafka_sidecar_main);
}
