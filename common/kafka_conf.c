/*-------------------------------------------------------------------------
 * kafka_conf.c
 *	  librdkafka properties from the daemon configuration.
 *
 *	  rd_kafka_conf_set() also accepts topic-level properties (they go to
 *	  the default topic configuration), so one setter serves both, as in
 *	  kcat's try_conf_set().
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "kafka_conf.h"

bool
kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
			   char *errstr, size_t errstr_size)
{
	char		err[512];

	if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK)
	{
		/* librdkafka's message may echo the value: never for secrets */
		char		buf[64];
		const char *shown = config_mask_value(name, value, 0, buf, sizeof(buf));

		if (shown != value)
			snprintf(errstr, errstr_size, "invalid Kafka property \"%s\"", name);
		else
			snprintf(errstr, errstr_size, "invalid Kafka property \"%s\": %s",
					 name, err);
		return false;
	}
	return true;
}

bool
kafka_conf_validate(const char *name, const char *value,
					char *errstr, size_t errstr_size)
{
	rd_kafka_conf_t *scratch = rd_kafka_conf_new();
	bool		ok = kafka_conf_set(scratch, name, value, errstr, errstr_size);

	rd_kafka_conf_destroy(scratch);
	return ok;
}

bool
kafka_conf_apply(const Config *cfg, rd_kafka_conf_t *conf,
				 char *errstr, size_t errstr_size)
{
	int			iter = 0;
	const char *name;
	const char *value;

	while (config_prefix_next(cfg, "kafka.", &iter, &name, &value))
	{
		if (!kafka_conf_set(conf, name, value, errstr, errstr_size))
			return false;
	}
	return true;
}
