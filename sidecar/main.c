/*-------------------------------------------------------------------------
 * main.c
 *	  cdc_kafka_sidecar: command line, configuration, signals.  Everything
 *	  else is in run.c.  Flags follow pg_recvlogical; every flag is also a
 *	  configuration key, so -c FILE can hold the whole setup.
 *-------------------------------------------------------------------------
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "kafka_conf.h"
#include "log.h"
#include "repl.h"
#include "run.h"

/* The defaults, defined once; --help prints this table. */
static const ConfigDef sidecar_config_defs[] = {
	{"database.conninfo", CONFIG_STRING, "", NULL, 0, 0, CONFIG_F_CONNINFO,
	"libpq connection string of the database to stream (-d)"},
	{"slot.name", CONFIG_STRING, "cdc_kafka", NULL, 0, 0, 0,
	"logical replication slot (-S)"},
	{"slot.create", CONFIG_BOOL, "false", NULL, 0, 0, 0,
	"create the slot if it does not exist (--create-slot)"},
	{"slot.failover", CONFIG_BOOL, "true", NULL, 0, 0, 0,
	"a slot --create-slot makes is a failover slot (PostgreSQL 17+, on a primary)"},
	{"start.lsn", CONFIG_STRING, "", NULL, 0, 0, 0,
	"LSN to start streaming from, X/X; default: the slot's (-I)"},
	{"end.lsn", CONFIG_STRING, "", NULL, 0, 0, 0,
	"stop at this LSN (X/X) once Kafka holds every transaction committed by it, exit 0 (-E)"},
	{"status.interval.s", CONFIG_INT, "10", NULL, 1, 3600, 0,
	"seconds between status updates to the server (-s)"},
	{"snapshot.mode", CONFIG_ENUM, "initial", "initial|never|initial_only", 0, 0, 0,
	"initial snapshot when the slot is created"},
	{"tombstones.on.delete", CONFIG_BOOL, "true", NULL, 0, 0, 0,
	"produce a tombstone (null value) after each delete"},
	{"heartbeat.interval.ms", CONFIG_INT, "0", NULL, 0, 86400000, 0,
	"heartbeat message interval, 0 = off"},
	{"topic.heartbeat.prefix", CONFIG_STRING, "__debezium-heartbeat", NULL, 0, 0, 0,
	"heartbeat topic is <this>.<topic prefix>"},
	{"topic.creation.enable", CONFIG_BOOL, "true", NULL, 0, 0, 0,
	"create a topic the broker neither has nor creates itself, through the admin API"},
	{"topic.creation.default.partitions", CONFIG_INT, "-1", NULL, -1, 1000000, 0,
	"partitions of a topic the sidecar creates; -1: the broker's num.partitions"},
	{"topic.creation.default.replication.factor", CONFIG_INT, "-1", NULL, -1, 32767, 0,
	"replication factor of a topic the sidecar creates; -1: the broker's default.replication.factor"},
	{"heartbeat.action.query", CONFIG_STRING, "", NULL, 0, 0, 0,
	"SQL run in the database at each heartbeat, so an idle database makes WAL"},
	{"max.inflight.transactions", CONFIG_INT, "10000", NULL, 1, 10000000, 0,
	"transactions produced but not yet acknowledged before reading pauses"},
	{"position.lookback", CONFIG_INT, "16", NULL, 1, 100000, 0,
	"messages read back per partition to learn what Kafka holds"},
	{"reconnect.backoff.ms", CONFIG_INT, "500", NULL, 10, 600000, 0,
	"first wait before reconnecting to PostgreSQL"},
	{"reconnect.backoff.max.ms", CONFIG_INT, "10000", NULL, 10, 3600000, 0,
	"longest wait between reconnection attempts"},
	{"shutdown.timeout.ms", CONFIG_INT, "30000", NULL, 0, 3600000, 0,
	"how long SIGTERM waits for Kafka to acknowledge what is in flight"},
	{"stats.interval.s", CONFIG_INT, "0", NULL, 0, 86400, 0,
	"seconds between stats log lines, 0 = off (--stats)"},
	{"log.level", CONFIG_ENUM, "info", "error|warn|info|debug", 0, 0, 0,
	"log level; each -v raises it"},
	{"log.file", CONFIG_STRING, "", NULL, 0, 0, 0,
	"log to this file instead of stderr; SIGHUP reopens it (-L)"},
	{NULL}
};

static const ConfigPrefix sidecar_config_prefixes[] = {
	{"kafka.", kafka_conf_validate, true,
	"librdkafka property, e.g. kafka.bootstrap.servers (prefix optional)"},
	{"topic.creation.default.", NULL, false,
	"setting of a topic the sidecar creates, e.g. topic.creation.default.cleanup.policy=compact"},
	{"plugin.", NULL, false,
	"output plugin option, e.g. plugin.include-transaction=true (-o)"},
	{NULL}
};

/* Signal flags: the only state shared with handlers (common/daemon.c). */
static SidecarSignals sidecar_signals;

static const char sidecar_help[] =
"cdc_kafka_sidecar streams a cdc_kafka logical replication slot to Kafka,\n"
"exactly once.\n\n"
"Usage:\n  cdc_kafka_sidecar [OPTION]...\n\n"
"Options:\n"
"  -d, --dbname=CONNSTR     connection string (database.conninfo)\n"
"  -S, --slot=SLOT          replication slot (slot.name)\n"
"  -o, --option=NAME[=VALUE] plugin option (plugin.NAME); format=kafka and headers=true are implied\n"
"  -I, --startpos=LSN       where to start streaming (start.lsn)\n"
"  -E, --endpos=LSN         stop at LSN, once Kafka holds it all (end.lsn)\n"
"  -s, --status-interval=SECS  status update interval (status.interval.s)\n"
"      --create-slot        create the slot (and snapshot) if missing\n"
"      --drop-slot          drop the slot and exit\n"
"      --stats=SECS         log throughput, lag and in-flight counts\n"
"  kafka.* keys go to librdkafka (-X kafka.bootstrap.servers=...)\n";

static const struct option sidecar_long_options[] = {
	{"dbname", required_argument, NULL, 'd'},
	{"slot", required_argument, NULL, 'S'},
	{"option", required_argument, NULL, 'o'},
	{"startpos", required_argument, NULL, 'I'},
	{"endpos", required_argument, NULL, 'E'},
	{"status-interval", required_argument, NULL, 's'},
	{"create-slot", no_argument, NULL, 1},
	{"drop-slot", no_argument, NULL, 2},
	{"stats", required_argument, NULL, 3},
	{NULL, 0, NULL, 0}
};

/* Slot names as PostgreSQL allows them; they are quoted into commands. */
static bool
sidecar_valid_slot(const char *name)
{
	size_t		n = strlen(name);

	if (n == 0 || n > 63)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* The sidecar's own flags: each sets its configuration key. */
static bool
sidecar_flag(Config *cfg, int c, const char *value, void *arg,
			 char *errstr, size_t errlen)
{
	SidecarAction *action = arg;
	const char *key = NULL;
	char		plugin_key[300];

	switch (c)
	{
		case 'd':
			key = "database.conninfo";
			break;
		case 'S':
			key = "slot.name";
			break;
		case 'o':
			{
				const char *eq = strchr(value, '=');
				int			n = eq ? (int) (eq - value) : (int) strlen(value);

				snprintf(plugin_key, sizeof(plugin_key), "plugin.%.*s", n, value);
				key = plugin_key;
				value = eq ? eq + 1 : "";
			}
			break;
		case 'I':
			key = "start.lsn";
			break;
		case 'E':
			key = "end.lsn";
			break;
		case 's':
			key = "status.interval.s";
			break;
		case 1:
			key = "slot.create";
			value = "true";
			break;
		case 2:
			*action = SIDECAR_DROP_SLOT;
			return true;
		case 3:
			key = "stats.interval.s";
			break;
		default:
			snprintf(errstr, errlen, "unknown option");
			return false;
	}
	return config_set(cfg, key, value, CONFIG_SRC_FLAG, errstr, errlen);
}

int
main(int argc, char **argv)
{
	Config	   *cfg = config_create(sidecar_config_defs, sidecar_config_prefixes);
	SidecarAction action = SIDECAR_STREAM;
	DaemonSpec	spec = {"cdc_kafka_sidecar", sidecar_help, "d:S:o:I:E:s:",
	sidecar_long_options, sidecar_flag, &action};
	char		errstr[512];
	bool		ok = true;
	uint64_t	lsn;
	int			code;

	/*
	 * libpq mallocs each replication message (up to the plugin's
	 * batch-bytes, 64 kB), and glibc consolidates its fastbins, which
	 * librdkafka's per-message frees keep full, before every such large
	 * request: a fifth of the sidecar's CPU.  Without fastbins small chunks
	 * still go through the thread cache.
	 */
#ifdef M_MXFAST
	mallopt(M_MXFAST, 0);
#endif
	log_init("cdc_kafka_sidecar");
	if (cfg == NULL)
		return DAEMON_EXIT_RUNTIME;
	code = daemon_parse_args(&spec, cfg, argc, argv);
	if (code >= 0)
	{
		config_destroy(cfg);
		return code;
	}
	/* cross-key checks */
	if (ok && !config_is_set(cfg, "database.conninfo"))
	{
		snprintf(errstr, sizeof(errstr), "no database given: use -d CONNSTR");
		ok = false;
	}
	if (ok && !sidecar_valid_slot(config_get(cfg, "slot.name")))
	{
		snprintf(errstr, sizeof(errstr),
				 "invalid slot name \"%s\": use 1 to 63 lower-case letters, digits and underscores",
				 config_get(cfg, "slot.name"));
		ok = false;
	}
	for (int i = 0; ok && i < 2; i++)
	{
		const char *name = i == 0 ? "start.lsn" : "end.lsn";

		if (config_is_set(cfg, name) &&
			(!repl_parse_lsn(config_get(cfg, name), &lsn) || (i == 1 && lsn == 0)))
		{
			snprintf(errstr, sizeof(errstr), "invalid %s \"%s\": expected X/X%s",
					 name, config_get(cfg, name), i == 1 ? ", after 0/0" : "");
			ok = false;
		}
	}
	if (!ok)
	{
		log_error("%s", errstr);
		config_destroy(cfg);
		return DAEMON_EXIT_CONFIG;
	}
	daemon_signals(&sidecar_signals.stop, &sidecar_signals.reopen_log);

	code = sidecar_run(cfg, action, &sidecar_signals);
	config_destroy(cfg);
	log_close();
	return code;
}
