/*-------------------------------------------------------------------------
 * mock_broker.c
 *	  cdc_kafka_mock_broker: librdkafka's mock Kafka cluster (rdkafka_mock.h)
 *	  as a standalone process on loopback, for tests and for users without
 *	  a Kafka cluster.
 *
 *	  Prints the bootstrap address as its first stdout line, then obeys one
 *	  command per stdin line, answering "ok ..." or "error: ..." per line:
 *	    down <broker_id> | up <broker_id>
 *	    error <ApiKeyName|num> <errcode|ERR_NAME> <count> [<rtt_ms>]
 *	    topic <name>[:partitions]
 *	    quit
 *	  SIGTERM/SIGINT (and, without -d, end of stdin) stop it cleanly.
 *
 *	  Limits are librdkafka's: memory only, about 5 MB kept per partition
 *	  (older messages silently dropped), topics auto-created with 4
 *	  partitions unless pre-created with -t.  rdkafka_mock.h is marked
 *	  experimental, so every call into it stays in this file.
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "log.h"

#define MOCK_MAX_TOPICS 64

typedef struct MockState
{
	rd_kafka_t *rk;				/* owns the cluster's threads */
	rd_kafka_mock_cluster_t *mcluster;
	int			broker_cnt;
} MockState;

static volatile sig_atomic_t mock_stop = 0;

static void
mock_sigexit_handler(int signo)
{
	mock_stop = 1;
}

/* Kafka protocol ApiKeys by name, for the "error" command. */
static const struct
{
	const char *name;
	int16_t		key;
}			mock_apikeys[] =
{
	{"Produce", 0}, {"Fetch", 1}, {"ListOffsets", 2}, {"Metadata", 3},
	{"OffsetCommit", 8}, {"OffsetFetch", 9}, {"FindCoordinator", 10},
	{"JoinGroup", 11}, {"Heartbeat", 12}, {"LeaveGroup", 13},
	{"SyncGroup", 14}, {"DescribeGroups", 15}, {"ListGroups", 16},
	{"ApiVersions", 18}, {"CreateTopics", 19}, {"InitProducerId", 22},
	{"AddPartitionsToTxn", 24}, {"AddOffsetsToTxn", 25}, {"EndTxn", 26},
	{"TxnOffsetCommit", 28}, {NULL, 0}
};

static bool
mock_parse_apikey(const char *s, int16_t *key)
{
	char	   *end;
	long		v;

	for (int i = 0; mock_apikeys[i].name; i++)
	{
		if (strcasecmp(s, mock_apikeys[i].name) == 0)
		{
			*key = mock_apikeys[i].key;
			return true;
		}
	}
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 0 || v > 100)
		return false;
	*key = (int16_t) v;
	return true;
}

static bool
mock_parse_errcode(const char *s, rd_kafka_resp_err_t *err)
{
	const struct rd_kafka_err_desc *descs;
	size_t		cnt;
	char	   *end;
	long		v;

	v = strtol(s, &end, 10);
	if (end != s && *end == '\0')
	{
		*err = (rd_kafka_resp_err_t) v;
		return true;
	}
	if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0)
		s += 18;
	rd_kafka_get_err_descs(&descs, &cnt);
	for (size_t i = 0; i < cnt; i++)
	{
		if (descs[i].name && strcasecmp(descs[i].name, s) == 0)
		{
			*err = descs[i].code;
			return true;
		}
	}
	return false;
}

static bool
mock_create_topic(MockState *ms, const char *spec, char *errstr, size_t errstr_size)
{
	char		name[256];
	const char *colon = strrchr(spec, ':');
	int			parts = 1;
	size_t		len = colon ? (size_t) (colon - spec) : strlen(spec);
	rd_kafka_resp_err_t err;

	if (len == 0 || len >= sizeof(name))
	{
		snprintf(errstr, errstr_size, "invalid topic \"%s\"", spec);
		return false;
	}
	memcpy(name, spec, len);
	name[len] = '\0';
	if (colon)
	{
		char	   *end;

		parts = (int) strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end != '\0' || parts < 1 || parts > 1000)
		{
			snprintf(errstr, errstr_size, "invalid partition count in \"%s\"", spec);
			return false;
		}
	}
	err = rd_kafka_mock_topic_create(ms->mcluster, name, parts,
									 ms->broker_cnt < 3 ? ms->broker_cnt : 3);
	if (err)
	{
		snprintf(errstr, errstr_size, "could not create topic \"%s\": %s",
				 name, rd_kafka_err2str(err));
		return false;
	}
	return true;
}

static bool
mock_parse_broker(MockState *ms, const char *s, int32_t *id)
{
	char	   *end;
	long		v = s ? strtol(s, &end, 10) : 0;

	if (s == NULL || end == s || *end != '\0' || v < 1 || v > ms->broker_cnt)
		return false;
	*id = (int32_t) v;
	return true;
}

/* Runs one command line; returns false on "quit". */
static bool
mock_command(MockState *ms, char *line)
{
	char	   *save = NULL;
	char	   *cmd = strtok_r(line, " \t\r\n", &save);
	char	   *a1 = cmd ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char	   *a2 = a1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char	   *a3 = a2 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char	   *a4 = a3 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	char		errstr[512];
	int32_t		id;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

	if (cmd == NULL)
		return true;
	if (strcmp(cmd, "quit") == 0)
	{
		printf("ok quit\n");
		fflush(stdout);
		return false;
	}
	else if (strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0)
	{
		if (!mock_parse_broker(ms, a1, &id))
		{
			printf("error: broker id must be 1..%d\n", ms->broker_cnt);
			fflush(stdout);
			return true;
		}
		err = cmd[0] == 'd' ? rd_kafka_mock_broker_set_down(ms->mcluster, id)
			: rd_kafka_mock_broker_set_up(ms->mcluster, id);
		log_info("broker %d %s", id, cmd);
	}
	else if (strcmp(cmd, "error") == 0)
	{
		int16_t		apikey;
		rd_kafka_resp_err_t code;
		long		cnt = a3 ? strtol(a3, NULL, 10) : 0;
		long		rtt = a4 ? strtol(a4, NULL, 10) : 0;

		if (a1 == NULL || !mock_parse_apikey(a1, &apikey) ||
			a2 == NULL || !mock_parse_errcode(a2, &code) || cnt < 1 || cnt > 100000 ||
			rtt < 0 || rtt > 600000)
		{
			printf("error: usage: error <ApiKeyName|num> <errcode|NAME> <count> [<rtt_ms>]\n");
			fflush(stdout);
			return true;
		}
		/*
		 * Per-broker error lists, also without a delay: once a broker has
		 * a list for an API, the mock no longer reads the cluster's list
		 * for it.  Later requests on the same connection are still served
		 * (and written) at once; their answers queue behind a delayed one.
		 */
		for (int32_t b = 1; b <= ms->broker_cnt && !err; b++)
			for (long i = 0; i < cnt && !err; i++)
				err = rd_kafka_mock_broker_push_request_error_rtts(ms->mcluster, b, apikey,
																   1, code, (int) rtt);
		log_info("next %ld %s requests per broker fail with %s after %ld ms",
				 cnt, a1, rd_kafka_err2name(code), rtt);
	}
	else if (strcmp(cmd, "topic") == 0)
	{
		if (a1 == NULL || !mock_create_topic(ms, a1, errstr, sizeof(errstr)))
		{
			printf("error: %s\n", a1 ? errstr : "usage: topic <name>[:partitions]");
			fflush(stdout);
			return true;
		}
	}
	else
	{
		printf("error: unknown command \"%s\"\n", cmd);
		fflush(stdout);
		return true;
	}
	if (err)
		printf("error: %s\n", rd_kafka_err2str(err));
	else
		printf("ok %s%s%s\n", cmd, a1 ? " " : "", a1 ? a1 : "");
	fflush(stdout);
	return true;
}

static void
mock_usage(FILE *out)
{
	fprintf(out,
			"Usage: cdc_kafka_mock_broker [-b N] [-t topic[:partitions]]... [-f FILE] [-d] [-v]\n"
			"Runs librdkafka's mock Kafka cluster on loopback and prints its bootstrap\n"
			"address as the first line of stdout.\n\n"
			"  -b, --brokers=N     number of brokers (default 1)\n"
			"  -t, --topic=T[:P]   pre-create topic T with P partitions (default 1;\n"
			"                      repeatable; topics not created are auto-created\n"
			"                      with 4 partitions)\n"
			"  -f, --file=FILE     also write the bootstrap address to FILE\n"
			"  -d, --daemon        daemon-like: ignore stdin, run until SIGTERM/SIGINT\n"
			"  -v, --verbose       verbose (librdkafka and command log on stderr)\n"
			"  -h, --help          this help\n\n"
			"Commands on stdin, one per line (answered by \"ok ...\" or \"error: ...\"):\n"
			"  down ID | up ID                      take broker ID (1..N) down or up\n"
			"  error API ERR COUNT [RTT]            fail the next COUNT requests of API\n"
			"                                       (name like Produce, or number) on each broker\n"
			"                                       with ERR (name like NOT_LEADER_FOR_PARTITION,\n"
			"                                       or number), answered after RTT ms (default 0)\n"
			"  topic T[:P]                          create a topic\n"
			"  quit                                 exit (so does end of input)\n");
}

static bool
mock_write_file(const char *path, const char *text, char *errstr, size_t errstr_size)
{
	char		tmp[4096];
	FILE	   *f;

	/* write then rename: a reader never sees a half-written address */
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int) getpid());
	f = fopen(tmp, "w");
	if (f == NULL || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 ||
		rename(tmp, path) != 0)
	{
		snprintf(errstr, errstr_size, "could not write \"%s\": %s", path, strerror(errno));
		return false;
	}
	return true;
}

static void
mock_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	log_debug("rdkafka %s: %s", fac, buf);
}

int
main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"topic", required_argument, NULL, 't'},
		{"file", required_argument, NULL, 'f'},
		{"daemon", no_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	MockState	ms = {NULL, NULL, 1};
	const char *topics[MOCK_MAX_TOPICS];
	int			ntopics = 0;
	const char *file = NULL;
	bool		daemon_mode = false;
	rd_kafka_conf_t *conf;
	char		errstr[512];
	struct sigaction sa;
	int			c;
	char		line[1024];
	size_t		linelen = 0;
	bool		running = true;

	log_init("cdc_kafka_mock_broker");
	log_set_level(LOG_LEVEL_WARN);
	while ((c = getopt_long(argc, argv, "b:t:f:dvh", long_opts, NULL)) != -1)
	{
		switch (c)
		{
			case 'b':
				ms.broker_cnt = atoi(optarg);
				if (ms.broker_cnt < 1 || ms.broker_cnt > 32)
				{
					fprintf(stderr, "cdc_kafka_mock_broker: -b must be 1..32\n");
					return 1;
				}
				break;
			case 't':
				if (ntopics == MOCK_MAX_TOPICS)
				{
					fprintf(stderr, "cdc_kafka_mock_broker: too many -t\n");
					return 1;
				}
				topics[ntopics++] = optarg;
				break;
			case 'f':
				file = optarg;
				break;
			case 'd':
				daemon_mode = true;
				break;
			case 'v':
				log_set_level(log_get_level() + 1);
				break;
			case 'h':
				mock_usage(stdout);
				return 0;
			default:
				mock_usage(stderr);
				return 1;
		}
	}
	if (optind < argc)
	{
		mock_usage(stderr);
		return 1;
	}

	/* The cluster needs a client handle to live in; it never connects. */
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, mock_log_cb);
	ms.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (ms.rk == NULL)
	{
		fprintf(stderr, "cdc_kafka_mock_broker: %s\n", errstr);
		return 2;
	}
	ms.mcluster = rd_kafka_mock_cluster_new(ms.rk, ms.broker_cnt);
	if (ms.mcluster == NULL)
	{
		fprintf(stderr, "cdc_kafka_mock_broker: could not create the mock cluster\n");
		rd_kafka_destroy(ms.rk);
		return 2;
	}
	for (int i = 0; i < ntopics; i++)
	{
		if (!mock_create_topic(&ms, topics[i], errstr, sizeof(errstr)))
		{
			fprintf(stderr, "cdc_kafka_mock_broker: %s\n", errstr);
			rd_kafka_mock_cluster_destroy(ms.mcluster);
			rd_kafka_destroy(ms.rk);
			return 1;
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = mock_sigexit_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("%s\n", rd_kafka_mock_cluster_bootstraps(ms.mcluster));
	fflush(stdout);
	if (file && !mock_write_file(file, rd_kafka_mock_cluster_bootstraps(ms.mcluster),
								 errstr, sizeof(errstr)))
	{
		fprintf(stderr, "cdc_kafka_mock_broker: %s\n", errstr);
		rd_kafka_mock_cluster_destroy(ms.mcluster);
		rd_kafka_destroy(ms.rk);
		return 2;
	}
	log_info("mock cluster with %d broker(s) at %s", ms.broker_cnt,
			 rd_kafka_mock_cluster_bootstraps(ms.mcluster));

	while (running && !mock_stop)
	{
		struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
		ssize_t		n;

		if (daemon_mode)
		{
			pause();			/* returns on a signal */
			continue;
		}
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		n = read(STDIN_FILENO, line + linelen, sizeof(line) - 1 - linelen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;				/* end of input: our parent is gone */
		linelen += (size_t) n;
		line[linelen] = '\0';
		for (char *nl; running && (nl = strchr(line, '\n')) != NULL;)
		{
			*nl = '\0';
			running = mock_command(&ms, line);
			linelen -= (size_t) (nl + 1 - line);
			memmove(line, nl + 1, linelen + 1);
		}
		if (linelen == sizeof(line) - 1)
			linelen = 0;		/* an absurd line: drop it */
	}

	rd_kafka_mock_cluster_destroy(ms.mcluster);
	rd_kafka_destroy(ms.rk);
	if (file)
		unlink(file);
	return 0;
}
