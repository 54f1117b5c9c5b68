/*-------------------------------------------------------------------------
 *
 * main.c
 *	  cdc_delta_writer: Kafka change topics -> Delta Lake tables.
 *
 *	  cdc_delta_writer -b BROKERS -r ROOT (-t TOPIC ... | -p PATTERN)
 *					   [-c FILE] [-X key=value ...] [-v]
 *	  cdc_delta_writer ls TABLE_PATH [VERSION]	(list_files.c)
 *
 * Owns the command line, the configuration table, the signals and the
 * exit code (0 clean stop, 1 usage or configuration, 2 runtime failure).
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "consumer.h"
#include "daemon.h"
#include "deadletter.h"
#include "kafka_conf.h"
#include "list_files.h"
#include "log.h"

static const ConfigDef writer_config[] = {
	{"root", CONFIG_STRING, NULL, NULL, 0, 0, 0,
	"where the tables go, <root>/<schema>/<table>: a directory, file:///dir or s3://bucket/prefix (-r)"},
	{"topics", CONFIG_STRING, NULL, NULL, 0, 0, 0,
	"comma-separated topics to consume (-t)"},
	{"topic.pattern", CONFIG_STRING, NULL, NULL, 0, 0, 0,
	"regular expression of topics to consume, anchored at the start (-p)"},
	{"assignment", CONFIG_ENUM, "group", "group|static", 0, 0, 0,
	"group: share partitions through the consumer group; static: take all partitions of -t topics"},
	{"offset.gap", CONFIG_ENUM, "pause", "pause|skip", 0, 0, 0,
	"when the Delta log's next offset is gone from Kafka: pause the partition, or skip the lost offsets and record them"},
	{"flush.rows", CONFIG_INT, "100000", NULL, 1, 1000000000, 0,
	"commit a table after this many rows"},
	{"flush.bytes", CONFIG_INT, "67108864", NULL, 4096, 1LL << 40, 0,
	"... or when its open Parquet file reaches this many bytes (estimate)"},
	{"flush.interval.ms", CONFIG_INT, "5000", NULL, 1, 86400000, 0,
	"... or when its oldest uncommitted message is this old"},
	{"deadletter.path", CONFIG_STRING, "", NULL, 0, 0, 0,
	"file of undecodable messages (empty: <root>/_deadletter.jsonl; required with an s3:// root)"},
	{"parquet.compression.level", CONFIG_INT, "3", NULL, 0, 19, 0,
	"zstd level of the data files (0: uncompressed)"},
	{"parquet.dictionary", CONFIG_BOOL, "true", NULL, 0, 0, 0,
	"dictionary-encode columns while the dictionary stays small"},
	{"parquet.page.bytes", CONFIG_INT, "1048576", NULL, 1024, 1LL << 30, 0,
	"uncompressed bytes per data page"},
	{"parquet.row_group.bytes", CONFIG_INT, "134217728", NULL, 65536, 1LL << 40, 0,
	"compressed bytes per row group (memory held per open file)"},
	{"checkpoint.interval", CONFIG_INT, "10", NULL, 0, 1000000, 0,
	"write a Delta checkpoint every N commits (0: never)"},
	{"s3.endpoint", CONFIG_STRING, "", NULL, 0, 0, 0,
	"S3 endpoint URL (empty: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS's for the region)"},
	{"s3.region", CONFIG_STRING, "", NULL, 0, 0, 0,
	"S3 region (empty: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's, else us-east-1)"},
	{"s3.profile", CONFIG_STRING, "", NULL, 0, 0, 0,
	"profile of ~/.aws/credentials and ~/.aws/config (empty: $AWS_PROFILE, else default)"},
	{"s3.path_style", CONFIG_ENUM, "auto", "auto|true|false", 0, 0, 0,
	"path-style URLs (http://host/bucket/key); auto: with an explicit endpoint"},
	{"s3.ca_file", CONFIG_STRING, "", NULL, 0, 0, 0,
	"CA bundle (PEM) to verify the S3 endpoint's TLS certificate (empty: the system's)"},
	{"s3.multipart.threshold", CONFIG_INT, "67108864", NULL, 5242880, 5LL << 30, 0,
	"data files larger than this go up in parts (bytes)"},
	{"s3.part.size", CONFIG_INT, "16777216", NULL, 5242880, 5LL << 30, 0,
	"bytes per part of a multipart upload"},
	{"s3.max_attempts", CONFIG_INT, "6", NULL, 1, 100, 0,
	"attempts per S3 request (network errors, 5xx, throttling), with exponential backoff"},
	{"s3.staging.dir", CONFIG_STRING, "", NULL, 0, 0, 0,
	"local directory for data files on their way to S3 (empty: $TMPDIR, else /tmp)"},
	{"log.level", CONFIG_ENUM, "info", "error|warn|info|debug", 0, 0, 0,
	"log verbosity (-v raises it)"},
	{"log.file", CONFIG_STRING, "", NULL, 0, 0, 0,
	"log to this file instead of stderr (SIGHUP reopens it)"},
	{NULL}
};

static const ConfigPrefix writer_prefixes[] = {
	{"kafka.", kafka_conf_validate, true,
	"librdkafka consumer properties (prefix stripped), e.g. kafka.group.id"},
	{NULL}
};

static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t reopen_requested = 0;

static const char writer_help[] =
"cdc_delta_writer consumes Debezium change topics into Delta Lake tables.\n\n"
"Usage:\n"
"  cdc_delta_writer -b BROKERS -r ROOT (-t TOPIC ... | -p PATTERN) [OPTION]...\n"
"  cdc_delta_writer ls TABLE_PATH [VERSION]   print the table's live Parquet\n"
"                                             files (latest or given version)\n\n"
"Options:\n"
"  -b, --brokers=LIST     Kafka bootstrap servers (kafka.bootstrap.servers)\n"
"  -t, --topic=TOPIC      consume TOPIC (repeatable)\n"
"  -p, --pattern=REGEX    consume every topic matching REGEX\n"
"  -r, --root=ROOT        tables go to ROOT/<schema>/<table>; ROOT is a\n"
"                         directory, file:///dir or s3://bucket/prefix\n";

static const struct option writer_long_options[] = {
	{"brokers", required_argument, NULL, 'b'},
	{"topic", required_argument, NULL, 't'},
	{"pattern", required_argument, NULL, 'p'},
	{"root", required_argument, NULL, 'r'},
	{NULL, 0, NULL, 0}
};

/* The writer's own flags: each sets its configuration key; -t adds one. */
static bool
writer_flag(Config *cfg, int c, const char *value, void *arg,
			char *errstr, size_t errlen)
{
	switch (c)
	{
		case 'b':
			return config_set(cfg, "kafka.bootstrap.servers", value,
							  CONFIG_SRC_FLAG, errstr, errlen);
		case 't':
			{
				const char *old = config_get(cfg, "topics");
				size_t		len = (old ? strlen(old) : 0) + strlen(value) + 2;
				char	   *all = malloc(len);
				bool		ok;

				if (all == NULL)
				{
					snprintf(errstr, errlen, "out of memory");
					return false;
				}
				snprintf(all, len, "%s%s%s", old && old[0] ? old : "",
						 old && old[0] ? "," : "", value);
				ok = config_set(cfg, "topics", all, CONFIG_SRC_FLAG, errstr, errlen);
				free(all);
				return ok;
			}
		case 'p':
			return config_set(cfg, "topic.pattern", value, CONFIG_SRC_FLAG,
							  errstr, errlen);
		case 'r':
			return config_set(cfg, "root", value, CONFIG_SRC_FLAG, errstr, errlen);
	}
	snprintf(errstr, errlen, "unknown option");
	return false;
}

static void
log_objstore_debug(const char *line)
{
	log_debug("%s", line);
}

/* The object store of the root, with the s3.* keys. */
static ObjStore *
open_root(const Config *cfg, const char *root, char *errstr, size_t errlen)
{
	ObjStoreOptions o;
	const char *ps = config_get(cfg, "s3.path_style");

	memset(&o, 0, sizeof(o));
	o.endpoint = config_get(cfg, "s3.endpoint");
	o.region = config_get(cfg, "s3.region");
	o.profile = config_get(cfg, "s3.profile");
	o.path_style = strcmp(ps, "true") == 0 ? 1 : strcmp(ps, "false") == 0 ? 0 : -1;
	o.ca_file = config_get(cfg, "s3.ca_file");
	o.multipart_threshold = config_get_int(cfg, "s3.multipart.threshold");
	o.part_size = config_get_int(cfg, "s3.part.size");
	o.max_attempts = (int) config_get_int(cfg, "s3.max_attempts");
	o.staging_dir = config_get(cfg, "s3.staging.dir");
	o.log_debug = log_objstore_debug;
	return objstore_open(root, &o, errstr, errlen);
}

int
main(int argc, char **argv)
{
	DaemonSpec	spec = {"cdc_delta_writer", writer_help, "b:t:p:r:",
	writer_long_options, writer_flag, NULL};
	Config	   *cfg;
	char		errstr[512];
	ConsumerOptions copts = {0};
	DeadLetter *dl = NULL;
	Consumer   *consumer;
	char		dlpath[4096];
	const char *s;
	const char *root;
	bool		runtime_failure = false;
	int			rc;

	log_init("cdc_delta_writer");

	/*
	 * librdkafka receives every fetch into a new buffer.  By default glibc
	 * serves such sizes with mmap and gives the top of the heap back to the
	 * kernel once it is free, so each fetch faulted in fresh zeroed pages:
	 * a sixth of the writer's CPU, in the kernel (bench/delta).  Freed
	 * memory is kept for the next fetch instead; the peak stays what the
	 * flush and fetch limits make it.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);

	if (argc >= 2 && strcmp(argv[1], "ls") == 0)
		return list_files_main(argc - 1, argv + 1);
	cfg = config_create(writer_config, writer_prefixes);
	if (cfg == NULL)
	{
		log_error("out of memory");
		return DAEMON_EXIT_RUNTIME;
	}
	rc = daemon_parse_args(&spec, cfg, argc, argv);
	if (rc >= 0)
		goto done;

	root = config_get(cfg, "root");
	copts.topics = config_get(cfg, "topics");
	copts.pattern = config_get(cfg, "topic.pattern");
	if (root == NULL || root[0] == '\0')
	{
		log_error("no table root: give -r DIR (or root=DIR)");
		rc = DAEMON_EXIT_CONFIG;
		goto done;
	}
	if ((copts.topics == NULL || !copts.topics[0]) &&
		(copts.pattern == NULL || !copts.pattern[0]))
	{
		log_error("no topics: give -t TOPIC or -p PATTERN");
		rc = DAEMON_EXIT_CONFIG;
		goto done;
	}
	if (copts.topics && copts.pattern)
	{
		log_error("give either topics (-t) or a pattern (-p), not both");
		rc = DAEMON_EXIT_CONFIG;
		goto done;
	}
	copts.static_assign = strcmp(config_get(cfg, "assignment"), "static") == 0;
	if (copts.static_assign && copts.pattern)
	{
		log_error("assignment=static needs topics (-t), not a pattern");
		rc = DAEMON_EXIT_CONFIG;
		goto done;
	}
	copts.skip_gaps = strcmp(config_get(cfg, "offset.gap"), "skip") == 0;
	copts.table.flush_rows = config_get_int(cfg, "flush.rows");
	copts.table.flush_bytes = config_get_int(cfg, "flush.bytes");
	copts.table.flush_interval_ms = config_get_int(cfg, "flush.interval.ms");
	copts.table.checkpoint_interval = (int) config_get_int(cfg, "checkpoint.interval");
	parquet_options_default(&copts.table.parquet);
	copts.table.parquet.zstd_level = (int) config_get_int(cfg, "parquet.compression.level");
	copts.table.parquet.dictionary = config_get_bool(cfg, "parquet.dictionary");
	copts.table.parquet.page_bytes = config_get_int(cfg, "parquet.page.bytes");
	copts.table.parquet.row_group_bytes = config_get_int(cfg, "parquet.row_group.bytes");

	copts.store = open_root(cfg, root, errstr, sizeof(errstr));
	if (copts.store == NULL)
	{
		log_error("%s", errstr);
		rc = DAEMON_EXIT_CONFIG;
		goto done;
	}
	s = config_get(cfg, "deadletter.path");
	if ((s == NULL || s[0] == '\0') && objstore_is_remote(copts.store))
	{
		/* a dead-letter file is appended to and fsynced: it stays local */
		log_error("with an object-store root (%s), set deadletter.path to a local file",
				  objstore_describe(copts.store));
		rc = DAEMON_EXIT_CONFIG;
		goto done;
	}
	if (s == NULL || s[0] == '\0')
	{
		snprintf(dlpath, sizeof(dlpath), "%s/_deadletter.jsonl",
				 objstore_describe(copts.store));
		s = dlpath;
	}
	dl = deadletter_open(s, errstr, sizeof(errstr));
	if (dl == NULL)
	{
		log_error("%s", errstr);
		rc = DAEMON_EXIT_CONFIG;
		goto done;
	}

	daemon_signals(&stop_requested, &reopen_requested);

	consumer = consumer_new(cfg, &copts, dl, &runtime_failure, errstr,
							sizeof(errstr));
	if (consumer == NULL)
	{
		log_error("%s", errstr);
		rc = runtime_failure ? DAEMON_EXIT_RUNTIME : DAEMON_EXIT_CONFIG;
		goto done;
	}
	log_info("consuming %s%s into %s", copts.topics ? "topics " : "pattern ",
			 copts.topics ? copts.topics : copts.pattern,
			 objstore_describe(copts.store));
	rc = consumer_run(consumer, &stop_requested, &reopen_requested);
	consumer_free(consumer);
	{
		ObjStoreStats st;

		/* what the tables cost the store (bench/delta reads it) */
		objstore_stats(copts.store, &st);
		log_info("%s: %" PRId64 " requests (%" PRId64 " retried), %" PRId64 " bytes written",
				 objstore_describe(copts.store), st.requests, st.retries,
				 st.bytes_uploaded);
	}
done:
	/* every exit frees what it holds (LeakSanitizer: fuzz/, scripts/sanitize.sh) */
	if (dl)
		deadletter_close(dl);
	if (copts.store)
		objstore_close(copts.store);
	config_destroy(cfg);
	log_close();
	return rc;
}
