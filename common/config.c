/*-------------------------------------------------------------------------
 * config.c
 *	  The daemons' key=value configuration (see config.h for the rules).
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define CONFIG_MASK "********"

typedef struct ConfigItem
{
	char	   *key;			/* owned; full key, prefix included */
	char	   *value;			/* owned; NULL when unset */
	ConfigSource src;
} ConfigItem;

struct Config
{
	const ConfigDef *defs;		/* not owned */
	int			ndefs;
	const ConfigPrefix *prefixes;	/* not owned; may be NULL */
	ConfigItem *values;			/* ndefs entries, parallel to defs */
	ConfigItem *extra;			/* keys of prefixed groups */
	int			nextra;
	int			extra_cap;
};

static const char *const config_src_names[] = {"default", "file", "flag"};

static char *
config_strdup(const char *s)
{
	char	   *d = strdup(s);

	if (d == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	return d;
}

Config *
config_create(const ConfigDef *defs, const ConfigPrefix *prefixes)
{
	Config	   *cfg = calloc(1, sizeof(Config));
	int			n = 0;

	if (cfg == NULL)
		return NULL;
	while (defs[n].name != NULL)
		n++;
	cfg->defs = defs;
	cfg->ndefs = n;
	cfg->prefixes = prefixes;
	cfg->values = calloc(n > 0 ? n : 1, sizeof(ConfigItem));
	if (cfg->values == NULL)
	{
		free(cfg);
		return NULL;
	}
	for (int i = 0; i < n; i++)
	{
		cfg->values[i].src = CONFIG_SRC_DEFAULT;
		if (defs[i].defval != NULL)
			cfg->values[i].value = config_strdup(defs[i].defval);
	}
	return cfg;
}

void
config_destroy(Config *cfg)
{
	if (cfg == NULL)
		return;
	for (int i = 0; i < cfg->ndefs; i++)
		free(cfg->values[i].value);
	for (int i = 0; i < cfg->nextra; i++)
	{
		free(cfg->extra[i].key);
		free(cfg->extra[i].value);
	}
	free(cfg->values);
	free(cfg->extra);
	free(cfg);
}

/*
 * A boolean as PostgreSQL reads one (parse_bool): any prefix of true,
 * false, yes or no, on or off from two letters, 1 or 0, in any case.  For
 * the plugin's options, which the server parses: the sidecar must read
 * "schemas=f" as the plugin does.
 */
bool
config_parse_pg_bool(const char *value, bool *result)
{
	static const struct
	{
		const char *word;
		size_t		min_len;
		bool		value;
	}			words[] = {
		{"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false},
		{"on", 2, true}, {"off", 2, false}, {"1", 1, true}, {"0", 1, false},
	};
	size_t		len = strlen(value);

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	{
		if (len >= words[i].min_len && len <= strlen(words[i].word) &&
			strncasecmp(value, words[i].word, len) == 0)
		{
			*result = words[i].value;
			return true;
		}
	}
	return false;
}

bool
config_parse_bool(const char *value, bool *result)
{
	static const char *const yes[] = {"true", "on", "yes", "1", NULL};
	static const char *const no[] = {"false", "off", "no", "0", NULL};

	for (int i = 0; yes[i]; i++)
	{
		if (strcasecmp(value, yes[i]) == 0)
		{
			*result = true;
			return true;
		}
	}
	for (int i = 0; no[i]; i++)
	{
		if (strcasecmp(value, no[i]) == 0)
		{
			*result = false;
			return true;
		}
	}
	return false;
}

static bool
config_enum_ok(const char *choices, const char *value)
{
	size_t		len = strlen(value);
	const char *p = choices;

	while (p && *p)
	{
		const char *bar = strchr(p, '|');
		size_t		n = bar ? (size_t) (bar - p) : strlen(p);

		if (n == len && strncmp(p, value, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static bool
config_check_value(const ConfigDef *def, const char *value,
				   char *errstr, size_t errstr_size)
{
	switch (def->type)
	{
		case CONFIG_STRING:
			return true;
		case CONFIG_BOOL:
			{
				bool		b;

				if (config_parse_bool(value, &b))
					return true;
				snprintf(errstr, errstr_size,
						 "invalid value \"%s\" for \"%s\": expected true or false",
						 value, def->name);
				return false;
			}
		case CONFIG_INT:
			{
				char	   *end;
				long long	v;

				errno = 0;
				v = strtoll(value, &end, 10);
				if (errno != 0 || end == value || *end != '\0')
				{
					snprintf(errstr, errstr_size,
							 "invalid value \"%s\" for \"%s\": expected an integer",
							 value, def->name);
					return false;
				}
				if (v < def->min || v > def->max)
				{
					snprintf(errstr, errstr_size,
							 "value %lld for \"%s\" is out of range [%lld, %lld]",
							 v, def->name, def->min, def->max);
					return false;
				}
				return true;
			}
		case CONFIG_ENUM:
			if (config_enum_ok(def->choices, value))
				return true;
			snprintf(errstr, errstr_size,
					 "invalid value \"%s\" for \"%s\": expected one of %s",
					 value, def->name, def->choices);
			return false;
	}
	return false;
}

static const ConfigDef *
config_find_def(const Config *cfg, const char *name, int *index)
{
	for (int i = 0; i < cfg->ndefs; i++)
	{
		if (strcmp(cfg->defs[i].name, name) == 0)
		{
			if (index)
				*index = i;
			return &cfg->defs[i];
		}
	}
	return NULL;
}

static bool
config_set_extra(Config *cfg, const char *key, const char *value,
				 ConfigSource src)
{
	for (int i = 0; i < cfg->nextra; i++)
	{
		if (strcmp(cfg->extra[i].key, key) == 0)
		{
			if (src < cfg->extra[i].src)
				return true;	/* a flag beats the file */
			free(cfg->extra[i].value);
			cfg->extra[i].value = config_strdup(value);
			cfg->extra[i].src = src;
			return true;
		}
	}
	if (cfg->nextra == cfg->extra_cap)
	{
		int			cap = cfg->extra_cap ? cfg->extra_cap * 2 : 16;
		ConfigItem *n = realloc(cfg->extra, cap * sizeof(ConfigItem));

		if (n == NULL)
			return false;
		cfg->extra = n;
		cfg->extra_cap = cap;
	}
	cfg->extra[cfg->nextra].key = config_strdup(key);
	cfg->extra[cfg->nextra].value = config_strdup(value);
	cfg->extra[cfg->nextra].src = src;
	cfg->nextra++;
	return true;
}

bool
config_set(Config *cfg, const char *key, const char *value, ConfigSource src,
		   char *errstr, size_t errstr_size)
{
	const ConfigDef *def;
	int			idx;

	if (key[0] == '\0')
	{
		snprintf(errstr, errstr_size, "empty configuration key");
		return false;
	}
	def = config_find_def(cfg, key, &idx);
	if (def != NULL)
	{
		if (!config_check_value(def, value, errstr, errstr_size))
			return false;
		if (src < cfg->values[idx].src)
			return true;
		free(cfg->values[idx].value);
		cfg->values[idx].value = config_strdup(value);
		cfg->values[idx].src = src;
		return true;
	}

	for (const ConfigPrefix *p = cfg->prefixes; p && p->prefix; p++)
	{
		size_t		plen = strlen(p->prefix);
		char		full[512];

		if (strncmp(key, p->prefix, plen) == 0)
		{
			if (key[plen] == '\0')
			{
				snprintf(errstr, errstr_size, "empty key after \"%s\"", p->prefix);
				return false;
			}
			if (p->validate && !p->validate(key + plen, value, errstr, errstr_size))
				return false;
			if (!config_set_extra(cfg, key, value, src))
			{
				snprintf(errstr, errstr_size, "out of memory");
				return false;
			}
			return true;
		}
		if (!p->bare || p->validate == NULL)
			continue;
		/* kcat style: a bare key the group's validator knows */
		if (p->validate(key, value, errstr, errstr_size))
		{
			snprintf(full, sizeof(full), "%s%s", p->prefix, key);
			if (!config_set_extra(cfg, full, value, src))
			{
				snprintf(errstr, errstr_size, "out of memory");
				return false;
			}
			return true;
		}
	}
	snprintf(errstr, errstr_size, "unknown configuration key \"%s\"", key);
	return false;
}

bool
config_set_pair(Config *cfg, const char *pair, ConfigSource src,
				char *errstr, size_t errstr_size)
{
	const char *eq = strchr(pair, '=');
	char		key[256];
	size_t		klen;

	if (eq == NULL)
	{
		snprintf(errstr, errstr_size,
				 "expected key=value, got \"%s\"", pair);
		return false;
	}
	klen = (size_t) (eq - pair);
	if (klen >= sizeof(key))
	{
		snprintf(errstr, errstr_size, "configuration key too long");
		return false;
	}
	memcpy(key, pair, klen);
	key[klen] = '\0';
	return config_set(cfg, key, eq + 1, src, errstr, errstr_size);
}

static char *
config_trim(char *s)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return s;
}

bool
config_load_file(Config *cfg, const char *path, char *errstr, size_t errstr_size)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	int			lineno = 0;
	bool		ok = true;

	if (f == NULL)
	{
		snprintf(errstr, errstr_size, "could not open configuration file \"%s\": %s",
				 path, strerror(errno));
		return false;
	}
	while (ok && getline(&line, &cap, f) != -1)
	{
		char	   *s = config_trim(line);
		char	   *eq;
		char		err[512];

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL)
		{
			snprintf(errstr, errstr_size, "%s:%d: expected key=value", path, lineno);
			ok = false;
			break;
		}
		*eq = '\0';
		if (!config_set(cfg, config_trim(s), config_trim(eq + 1),
						CONFIG_SRC_FILE, err, sizeof(err)))
		{
			snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno, err);
			ok = false;
		}
	}
	free(line);
	fclose(f);
	return ok;
}

const char *
config_get(const Config *cfg, const char *name)
{
	int			idx;

	if (config_find_def(cfg, name, &idx) == NULL)
	{
		/* A typo in the program, not in the user's input. */
		fprintf(stderr, "internal error: configuration key \"%s\" not defined\n", name);
		abort();
	}
	return cfg->values[idx].value;
}

bool
config_is_set(const Config *cfg, const char *name)
{
	const char *v = config_get(cfg, name);

	return v != NULL && v[0] != '\0';
}

long long
config_get_int(const Config *cfg, const char *name)
{
	const char *v = config_get(cfg, name);

	return v ? strtoll(v, NULL, 10) : 0;
}

bool
config_get_bool(const Config *cfg, const char *name)
{
	const char *v = config_get(cfg, name);
	bool		b = false;

	if (v)
		config_parse_bool(v, &b);
	return b;
}

bool
config_prefix_next(const Config *cfg, const char *prefix, int *iter,
				   const char **name, const char **value)
{
	size_t		plen = strlen(prefix);

	for (; *iter < cfg->nextra; (*iter)++)
	{
		const ConfigItem *it = &cfg->extra[*iter];

		if (strncmp(it->key, prefix, plen) == 0)
		{
			*name = it->key + plen;
			*value = it->value;
			(*iter)++;
			return true;
		}
	}
	return false;
}

/*
 * A libpq keyword whose value is secret: password, sslpassword.  A URI's
 * parameter names may be percent-encoded (libpq decodes them), so the name
 * is decoded first.
 */
static bool
conninfo_key_is_secret(const char *key, size_t len)
{
	static const char word[] = "password";
	char		name[256];
	size_t		n = 0;

	for (size_t i = 0; i < len && n < sizeof(name) - 1; i++)
	{
		if (key[i] == '%' && i + 2 < len && isxdigit((unsigned char) key[i + 1]) &&
			isxdigit((unsigned char) key[i + 2]))
		{
			char		hex[3] = {key[i + 1], key[i + 2], '\0'};

			name[n++] = (char) strtol(hex, NULL, 16);
			i += 2;
		}
		else
			name[n++] = key[i];
	}
	name[n] = '\0';
	return strstr(name, word) != NULL;
}

/*
 * Does the keyword-form value at v (quoted or not) hold a connection string
 * of its own?  libpq expands a dbname that has '=' or is a URI, password
 * and all.
 */
static bool
conninfo_value_is_conninfo(const char *v)
{
	bool		quoted = *v == '\'';

	if (quoted)
		v++;
	if (strncmp(v, "postgres://", 11) == 0 || strncmp(v, "postgresql://", 13) == 0)
		return true;
	for (; *v && (quoted ? *v != '\'' : !isspace((unsigned char) *v)); v++)
	{
		if (*v == '\\' && v[1])
			v++;
		else if (*v == '=')
			return true;
	}
	return false;
}

/*
 * Copy a libpq connection string, replacing every password (keyword form
 * "password=..." and "sslpassword=...", URI user info "user:pw@" and URI
 * parameters of those names) by a mask.  Text-based on purpose: it must
 * also mask strings libpq would reject, since those end up in error
 * messages.
 */
void
config_mask_conninfo(const char *conninfo, char *buf, size_t bufsize)
{
	size_t		o = 0;
	const char *p = conninfo;
	bool		uri = strncmp(p, "postgres://", 11) == 0 ||
		strncmp(p, "postgresql://", 13) == 0;

	/* c is evaluated once, buffer full or not: callers pass *p++ */
#define PUT(c) do { char c_ = (c); if (o + 1 < bufsize) buf[o++] = c_; } while (0)
#define PUTS(s) do { for (const char *q_ = (s); *q_; q_++) PUT(*q_); } while (0)

	if (bufsize == 0)
		return;
	if (uri)
	{
		const char *auth = strstr(p, "://") + 3;
		const char *end = auth + strcspn(auth, "/?");
		const char *at = NULL;

		for (const char *q = auth; q < end; q++)
			if (*q == '@')
				at = q;
		while (p < auth)
			PUT(*p++);
		if (at != NULL)
		{
			const char *colon = memchr(auth, ':', at - auth);

			if (colon != NULL)
			{
				while (p <= colon)
					PUT(*p++);
				PUTS(CONFIG_MASK);
				p = at;
			}
		}
		while (*p)
		{
			/* URI parameters: ?a=b&password=c&sslpassword=d */
			if (*p == '?' || *p == '&')
			{
				size_t		klen = strcspn(p + 1, "=&");

				if (p[1 + klen] == '=' && conninfo_key_is_secret(p + 1, klen))
				{
					for (size_t i = 0; i <= klen + 1; i++)
						PUT(*p++);
					PUTS(CONFIG_MASK);
					while (*p && *p != '&')
						p++;
					continue;
				}
			}
			PUT(*p++);
		}
		buf[o] = '\0';
		return;
	}

	/* keyword=value pairs; values may be single-quoted with \ escapes */
	while (*p)
	{
		const char *kstart;
		size_t		klen;
		bool		is_pw;
		bool		quoted;

		while (isspace((unsigned char) *p))
			PUT(*p++);
		kstart = p;
		while (*p && *p != '=' && !isspace((unsigned char) *p))
			PUT(*p++);
		klen = (size_t) (p - kstart);
		is_pw = conninfo_key_is_secret(kstart, klen);
		while (isspace((unsigned char) *p))
			PUT(*p++);
		if (*p != '=')
			continue;
		PUT(*p++);
		while (isspace((unsigned char) *p))
			PUT(*p++);
		if (klen == 6 && strncmp(kstart, "dbname", 6) == 0 &&
			conninfo_value_is_conninfo(p))
			is_pw = true;		/* masked whole: it may hold a password */
		if (is_pw)
			PUTS(CONFIG_MASK);
		/* the value, copied unless it is the password */
		quoted = *p == '\'';
		if (quoted)
		{
			if (!is_pw)
				PUT(*p);
			p++;
		}
		while (*p && (quoted ? *p != '\'' : !isspace((unsigned char) *p)))
		{
			if (*p == '\\' && p[1])
			{
				if (!is_pw)
					PUT(*p);
				p++;
			}
			if (!is_pw)
				PUT(*p);
			p++;
		}
		if (quoted && *p == '\'')
		{
			if (!is_pw)
				PUT(*p);
			p++;
		}
	}
	buf[o] = '\0';
#undef PUT
#undef PUTS
}

/*
 * Secrets only: an operator reading a dump must still see which mechanism
 * and which user (sasl.mechanism, sasl.username) a daemon would log in as.
 * librdkafka's secrets are sasl.password, ssl.key.password,
 * ssl.keystore.password, sasl.oauthbearer.client.secret, private keys
 * given inline (ssl.key.pem, ...private.key.pem) and their passphrases,
 * and sasl.oauthbearer.config, which may carry any of them.
 */
static bool
config_key_is_secret(const char *key)
{
	const char *k = key;

	/* judge the part after a group prefix: kafka.sasl.* is sasl.* */
	if (strncmp(k, "kafka.", 6) == 0)
		k += 6;
	return strstr(k, "password") != NULL || strstr(k, "secret") != NULL ||
		strstr(k, "passphrase") != NULL || strstr(k, "key.pem") != NULL ||
		strcmp(k, "sasl.oauthbearer.config") == 0;
}

const char *
config_mask_value(const char *key, const char *value, int flags,
				  char *buf, size_t bufsize)
{
	if (value == NULL)
		return NULL;
	if ((flags & CONFIG_F_CONNINFO) != 0)
	{
		config_mask_conninfo(value, buf, bufsize);
		return buf;
	}
	if ((flags & CONFIG_F_SECRET) != 0 || config_key_is_secret(key))
		return CONFIG_MASK;
	return value;
}

void
config_print_help(const Config *cfg, FILE *out)
{
	fprintf(out, "Configuration keys (-X key=value, or key=value lines in -c FILE):\n");
	for (int i = 0; i < cfg->ndefs; i++)
	{
		const ConfigDef *d = &cfg->defs[i];
		char		range[64] = "";

		if (d->type == CONFIG_INT)
			snprintf(range, sizeof(range), " [%lld..%lld]", d->min, d->max);
		else if (d->type == CONFIG_ENUM)
			snprintf(range, sizeof(range), " [%s]", d->choices);
		else if (d->type == CONFIG_BOOL)
			snprintf(range, sizeof(range), " [true|false]");
		fprintf(out, "  %-28s %s%s\n", d->name, d->help, range);
		fprintf(out, "  %-28s   default: %s\n", "",
				d->defval ? (d->defval[0] ? d->defval : "(empty)") : "(unset)");
	}
	for (const ConfigPrefix *p = cfg->prefixes; p && p->prefix; p++)
		fprintf(out, "  %-28s %s\n", p->prefix, p->help);
}

void
config_dump(const Config *cfg, FILE *out)
{
	char		buf[1024];

	for (int i = 0; i < cfg->ndefs; i++)
	{
		const ConfigDef *d = &cfg->defs[i];
		const char *v = config_mask_value(d->name, cfg->values[i].value,
										  d->flags, buf, sizeof(buf));

		fprintf(out, "%s=%s  # %s\n", d->name, v ? v : "",
				config_src_names[cfg->values[i].src]);
	}
	for (int i = 0; i < cfg->nextra; i++)
	{
		const ConfigItem *it = &cfg->extra[i];

		fprintf(out, "%s=%s  # %s\n", it->key,
				config_mask_value(it->key, it->value, 0, buf, sizeof(buf)),
				config_src_names[it->src]);
	}
}
