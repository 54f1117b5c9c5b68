/*-------------------------------------------------------------------------
 * config.h
 *	  key=value configuration shared by the daemons: a defaults table per
 *	  daemon (printed by --help), "-c FILE" and "-X key=value" through one
 *	  setter, precedence defaults < file < flags whatever the order on the
 *	  command line, unknown keys are errors, secrets are masked on output.
 *
 *	  Prefixed groups ("kafka.", "plugin.") hold open-ended keys that are
 *	  passed on (to librdkafka, to the output plugin); each group may have a
 *	  validator, so a bad key is rejected when it is set, with its name.
 *
 *	  Owns: parsing, validation, storage of the strings.  Does not own:
 *	  what the keys mean (the daemons), librdkafka (kafka_conf.c).
 *-------------------------------------------------------------------------
 */
#ifndef CDC_CONFIG_H
#define CDC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum ConfigType
{
	CONFIG_STRING,
	CONFIG_INT,					/* long long within [min, max] */
	CONFIG_BOOL,				/* true/false, on/off, yes/no, 1/0 */
	CONFIG_ENUM					/* one of "choices", "|"-separated */
} ConfigType;

/* ConfigDef.flags */
#define CONFIG_F_SECRET		0x01	/* value never printed */
#define CONFIG_F_CONNINFO	0x02	/* libpq string: printed without password */

typedef struct ConfigDef
{
	const char *name;			/* dotted key, e.g. "topic.prefix" */
	ConfigType	type;
	const char *defval;			/* NULL: unset unless given */
	const char *choices;		/* CONFIG_ENUM only */
	long long	min;			/* CONFIG_INT only, inclusive */
	long long	max;
	int			flags;
	const char *help;			/* one line for --help */
} ConfigDef;

/* Validates a key of a prefixed group; "name" has the prefix stripped. */
typedef bool (*ConfigValidator) (const char *name, const char *value,
								 char *errstr, size_t errstr_size);

typedef struct ConfigPrefix
{
	const char *prefix;			/* e.g. "kafka." */
	ConfigValidator validate;	/* NULL: any key accepted */
	/*
	 * Accept keys without a prefix if the validator takes them, as kcat's -X
	 * does ("-X acks=all" is "-X kafka.acks=all").
	 */
	bool		bare;
	const char *help;
} ConfigPrefix;

typedef enum ConfigSource
{
	CONFIG_SRC_DEFAULT = 0,
	CONFIG_SRC_FILE,
	CONFIG_SRC_FLAG
} ConfigSource;

typedef struct Config Config;

/* Both arrays end with an entry whose name/prefix is NULL; not copied. */
extern Config *config_create(const ConfigDef *defs, const ConfigPrefix *prefixes);
extern void config_destroy(Config *cfg);

extern bool config_set(Config *cfg, const char *key, const char *value,
					   ConfigSource src, char *errstr, size_t errstr_size);
/* "key=value" as given to -X */
extern bool config_set_pair(Config *cfg, const char *pair, ConfigSource src,
							char *errstr, size_t errstr_size);
/* key=value lines, "#" comments, blank lines; errors name FILE:LINE */
extern bool config_load_file(Config *cfg, const char *path,
							 char *errstr, size_t errstr_size);

/* Lookups of keys in the defs table; NULL when unset. */
extern const char *config_get(const Config *cfg, const char *name);
extern long long config_get_int(const Config *cfg, const char *name);
extern bool config_get_bool(const Config *cfg, const char *name);
extern bool config_is_set(const Config *cfg, const char *name);

/*
 * Iterate over the keys set in a prefixed group, in the order they were
 * first set: "*iter" starts at 0; "name" has the prefix stripped.
 */
extern bool config_prefix_next(const Config *cfg, const char *prefix, int *iter,
							   const char **name, const char **value);

extern bool config_parse_bool(const char *value, bool *result);
extern bool config_parse_pg_bool(const char *value, bool *result);

/* The defaults table, for --help. */
extern void config_print_help(const Config *cfg, FILE *out);
/* Effective settings with their origin, secrets masked, for -X dump. */
extern void config_dump(const Config *cfg, FILE *out);

/*
 * The printable form of a value: "********" for secrets (keys containing
 * "password" or "secret", "sasl.*" keys, CONFIG_F_SECRET), a connection
 * string without its password (CONFIG_F_CONNINFO); else the value itself.
 */
extern const char *config_mask_value(const char *key, const char *value,
									 int flags, char *buf, size_t bufsize);
extern void config_mask_conninfo(const char *conninfo, char *buf, size_t bufsize);

#endif							/* CDC_CONFIG_H */
