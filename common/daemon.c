/*-------------------------------------------------------------------------
 *
 * daemon.c
 *	  Command line, logging set-up and signals of the daemons (see
 *	  daemon.h).
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "daemon.h"
#include "log.h"

#define DAEMON_MAX_OPTS 64

static const char daemon_common_short[] = "c:X:L:vVh";

static const struct option daemon_common_long[] = {
	{"config", required_argument, NULL, 'c'},
	{"log-file", required_argument, NULL, 'L'},
	{"verbose", no_argument, NULL, 'v'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0}
};

static void
daemon_help(const DaemonSpec *spec, const Config *cfg, FILE *out)
{
	fputs(spec->help, out);
	fprintf(out,
			"  -c, --config=FILE      read KEY=VALUE lines (# comments); flags win\n"
			"  -X KEY=VALUE           set a configuration key\n"
			"  -X dump                print the effective configuration and exit\n"
			"  -L, --log-file=FILE    log to FILE (log.file); SIGHUP reopens it\n"
			"  -v, --verbose          more log output (repeatable)\n"
			"  -V, --version          print the version and exit\n"
			"  -h, --help             this help\n\n"
			"Exit status: %d done (or stopped by SIGTERM/SIGINT), %d usage or\n"
			"configuration error, %d runtime failure.\n\n",
			DAEMON_EXIT_OK, DAEMON_EXIT_CONFIG, DAEMON_EXIT_RUNTIME);
	config_print_help(cfg, out);
}

int
daemon_parse_args(const DaemonSpec *spec, Config *cfg, int argc, char **argv)
{
	struct option longs[DAEMON_MAX_OPTS];
	char		shorts[128];
	const char *config_file = NULL;
	char		errstr[512];
	bool		dump = false;
	bool		ok = true;
	int			verbose = 0;
	int			n = 0;
	int			c;
	LogLevel	level;

	/* the daemon's own options, then the common ones */
	for (const struct option *o = spec->long_opts; o && o->name && n < DAEMON_MAX_OPTS - 8; o++)
		longs[n++] = *o;
	for (const struct option *o = daemon_common_long; o->name; o++)
		longs[n++] = *o;
	memset(&longs[n], 0, sizeof(longs[n]));
	snprintf(shorts, sizeof(shorts), "%s%s", daemon_common_short,
			 spec->short_opts ? spec->short_opts : "");

	while (ok && (c = getopt_long(argc, argv, shorts, longs, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				config_file = optarg;
				break;
			case 'X':
				if (strcmp(optarg, "dump") == 0)
					dump = true;
				else
					ok = config_set_pair(cfg, optarg, CONFIG_SRC_FLAG, errstr,
										 sizeof(errstr));
				break;
			case 'L':
				ok = config_set(cfg, "log.file", optarg, CONFIG_SRC_FLAG, errstr,
								sizeof(errstr));
				break;
			case 'v':
				verbose++;
				break;
			case 'V':
				printf("%s %s (librdkafka %s)\n", spec->name, DAEMON_VERSION,
					   rd_kafka_version_str());
				return DAEMON_EXIT_OK;
			case 'h':
				daemon_help(spec, cfg, stdout);
				return DAEMON_EXIT_OK;
			case '?':
				fprintf(stderr, "Try \"%s --help\" for more information.\n", spec->name);
				return DAEMON_EXIT_CONFIG;
			default:
				ok = spec->flag(cfg, c, optarg, spec->arg, errstr, sizeof(errstr));
				break;
		}
	}
	if (ok && optind < argc)
	{
		snprintf(errstr, sizeof(errstr), "unexpected argument \"%s\"", argv[optind]);
		ok = false;
	}
	/* flags were set first but win: config_set ranks by source */
	if (ok && config_file)
		ok = config_load_file(cfg, config_file, errstr, sizeof(errstr));
	if (ok && dump)
	{
		config_dump(cfg, stdout);
		return DAEMON_EXIT_OK;
	}
	if (ok && config_is_set(cfg, "log.file") && config_get(cfg, "log.file")[0])
		ok = log_open(config_get(cfg, "log.file"), errstr, sizeof(errstr));
	if (!ok)
	{
		log_error("%s", errstr);
		return DAEMON_EXIT_CONFIG;
	}
	log_level_parse(config_get(cfg, "log.level"), &level);
	level += verbose;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_set_level(level);
	return -1;
}

static volatile sig_atomic_t *daemon_stop_flag;
static volatile sig_atomic_t *daemon_reopen_flag;

static void
daemon_stop_handler(int signo)
{
	*daemon_stop_flag = 1;
}

static void
daemon_hup_handler(int signo)
{
	*daemon_reopen_flag = 1;
}

void
daemon_signals(volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen)
{
	struct sigaction sa;

	daemon_stop_flag = stop;
	daemon_reopen_flag = reopen;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = daemon_stop_handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = daemon_hup_handler;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
