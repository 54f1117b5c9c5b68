/*-------------------------------------------------------------------------
 * kafka_conf.h
 *	  The bridge between config.c's "kafka." group and librdkafka: validate a
 *	  property when it is set, apply the group to an rd_kafka_conf_t.
 *-------------------------------------------------------------------------
 */
#ifndef CDC_KAFKA_CONF_H
#define CDC_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "config.h"

/* ConfigValidator for the "kafka." group: librdkafka decides. */
extern bool kafka_conf_validate(const char *name, const char *value,
								char *errstr, size_t errstr_size);

/* rd_kafka_conf_set() every "kafka." key of cfg, prefix stripped. */
extern bool kafka_conf_apply(const Config *cfg, rd_kafka_conf_t *conf,
							 char *errstr, size_t errstr_size);

/* Set one property; errstr names the key on failure. */
extern bool kafka_conf_set(rd_kafka_conf_t *conf, const char *name,
						   const char *value, char *errstr, size_t errstr_size);

#endif							/* CDC_KAFKA_CONF_H */
