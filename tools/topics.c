/*-------------------------------------------------------------------------
 * topics.c
 *	  cdc_kafka_topics: creates Kafka topics through the admin API (the
 *	  sidecar's own code, common/kafka_topics.c), for tests, the demo and
 *	  the benchmarks on a real broker, where kcat cannot create a topic.
 *
 *	  cdc_kafka_topics -b BOOTSTRAP [-r RF] [-c NAME=VALUE]... TOPIC[:PARTITIONS]...
 *
 *	  Prints "created TOPIC" or "exists TOPIC" for each; exits 0 once every
 *	  topic has a leader for every partition, 1 on a usage error, 2 when
 *	  Kafka refused or did not answer.
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_topics.h"

#define TOPICS_MAX_CONFIGS 64

static void
topics_usage(FILE *out)
{
	fprintf(out,
			"Usage: cdc_kafka_topics -b BOOTSTRAP [-r RF] [-c NAME=VALUE]... TOPIC[:PARTITIONS]...\n"
			"Creates each topic unless it exists and waits for its partition leaders.\n\n"
			"  -b BOOTSTRAP  Kafka bootstrap servers\n"
			"  -r RF         replication factor (default: the broker's default.replication.factor)\n"
			"  -c NAME=VALUE topic setting, e.g. -c cleanup.policy=compact (repeatable)\n"
			"  -t MS         how long to wait for Kafka (default 30000)\n"
			"  PARTITIONS    default: the broker's num.partitions\n");
}

int
main(int argc, char **argv)
{
	KafkaTopicConfig configs[TOPICS_MAX_CONFIGS + 1];
	int			nconfigs = 0;
	const char *bootstrap = NULL;
	int			rf = -1;
	int			timeout_ms = 30000;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char		errstr[512];
	int			rc = 0;
	int			c;

	while ((c = getopt(argc, argv, "b:r:c:t:h")) != -1)
	{
		switch (c)
		{
			case 'b':
				bootstrap = optarg;
				break;
			case 'r':
				rf = atoi(optarg);
				break;
			case 't':
				timeout_ms = atoi(optarg);
				break;
			case 'c':
				{
					char	   *eq = strchr(optarg, '=');

					if (eq == NULL || eq == optarg || nconfigs == TOPICS_MAX_CONFIGS)
					{
						fprintf(stderr, "cdc_kafka_topics: -c needs NAME=VALUE (at most %d)\n",
								TOPICS_MAX_CONFIGS);
						return 1;
					}
					*eq = '\0';
					configs[nconfigs].name = optarg;
					configs[nconfigs++].value = eq + 1;
					break;
				}
			case 'h':
				topics_usage(stdout);
				return 0;
			default:
				topics_usage(stderr);
				return 1;
		}
	}
	configs[nconfigs].name = NULL;
	if (bootstrap == NULL || optind == argc || rf == 0 || timeout_ms <= 0)
	{
		topics_usage(stderr);
		return 1;
	}

	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
	{
		fprintf(stderr, "cdc_kafka_topics: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL)
	{
		fprintf(stderr, "cdc_kafka_topics: %s\n", errstr);
		return 2;
	}
	for (int i = optind; i < argc && rc == 0; i++)
	{
		char		name[256];
		const char *colon = strrchr(argv[i], ':');
		KafkaTopicSpec spec = {-1, rf, configs};
		bool		created;

		snprintf(name, sizeof(name), "%.*s",
				 colon ? (int) (colon - argv[i]) : (int) strlen(argv[i]), argv[i]);
		if (colon && (spec.partitions = atoi(colon + 1)) < 1)
		{
			fprintf(stderr, "cdc_kafka_topics: invalid partition count in \"%s\"\n", argv[i]);
			rc = 1;
		}
		else if (!kafka_topic_create(rk, name, &spec, timeout_ms, &created,
									 errstr, sizeof(errstr)))
		{
			fprintf(stderr, "cdc_kafka_topics: %s\n", errstr);
			rc = 2;
		}
		else
			printf("%s %s\n", created ? "created" : "exists", name);
	}
	rd_kafka_destroy(rk);
	return rc;
}
