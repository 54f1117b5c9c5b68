/*-------------------------------------------------------------------------
 * options.c
 *	  Parsing and validation of the output plugin's options.
 *
 * Every option is checked here, in the startup callback, so that a typo
 * fails pg_create_logical_replication_slot's first use or START_REPLICATION
 * at once instead of silently changing what is published.  The same setter
 * serves snapshot_events(), whose options arrive as a text array.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/pg_lsn.h"

#include "options.h"
#include "relcache.h"

/* What each enumerated option accepts, for the error message. */
#define DECIMAL_HANDLING_VALUES "precise, double, string"
#define FORMAT_VALUES "json, kafka"
#define CDC_MAX_BATCH_BYTES (16 * 1024 * 1024)
#define OPTION_NAMES "topic-prefix, schemas, decimal-handling, format, " \
	"include-transaction, include-schemas, exclude-schemas, include-tables, " \
	"exclude-tables, message-prefixes, include-messages, include-truncate, " \
	"publish-via-partition-root, batch-bytes, headers, snapshot-lsn"

void
options_init(CdcOptions *opts)
{
	memset(opts, 0, sizeof(*opts));
	{
		/* the database name, made a valid topic name */
		StringInfoData prefix;

		initStringInfo(&prefix);
		relcache_append_topic_part(&prefix, get_database_name(MyDatabaseId));
		opts->topic_prefix = prefix.data;
	}
	opts->schemas = true;
	opts->decimal_handling = CDC_DECIMAL_PRECISE;
	opts->format = CDC_FORMAT_JSON;
	opts->batch_bytes = 65536;
	opts->publish_via_root = true;
	opts->include_truncate = false;	/* Debezium 2.x: skipped.operations=t */
	opts->include_messages = true;
}

static bool
parse_bool_option(const char *name, const char *value)
{
	bool		result;

	/* A bare flag ("-o schemas") means true, as in test_decoding. */
	if (value == NULL)
		return true;
	if (!parse_bool(value, &result))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not parse value \"%s\" for parameter \"%s\"",
						value, name),
				 errhint("Use true or false.")));
	return result;
}

static const char *
required_value(const char *name, const char *value)
{
	if (value == NULL || value[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("parameter \"%s\" requires a value", name)));
	return value;
}

/*
 * Split a comma-separated list, trimming blanks around each item.  Unlike
 * SplitIdentifierString this keeps case and any other character, since the
 * items are regular expressions or message prefixes.
 */
static List *
split_list(const char *value)
{
	List	   *items = NIL;
	char	   *copy = pstrdup(value);
	char	   *item;
	char	   *saveptr = NULL;

	for (item = strtok_r(copy, ",", &saveptr); item != NULL;
		 item = strtok_r(NULL, ",", &saveptr))
	{
		char	   *end = item + strlen(item);

		while (*item == ' ')
			item++;
		while (end > item && end[-1] == ' ')
			*--end = '\0';
		if (*item != '\0')
			items = lappend(items, item);
	}
	return items;
}

/*
 * pg_regcomp's memory is malloc'ed on PostgreSQL 15 (a memory context only
 * from 16): freed when the context holding the regex_t goes, whichever way
 * (end of the decoding session, of the snapshot_events() query, an ERROR).
 */
static void
free_filter(void *arg)
{
	pg_regfree((regex_t *) arg);
}

/*
 * Compile a POSIX regular expression anchored at both ends and matching
 * without regard to case, as Debezium compiles its include/exclude lists.
 * Comma-separated alternatives are accepted like Debezium's lists.
 */
static regex_t *
compile_filter(const char *name, const char *value)
{
	StringInfoData pattern;
	List	   *alternatives = split_list(required_value(name, value));
	ListCell   *lc;
	pg_wchar   *wide;
	int			wide_len;
	int			rc;
	regex_t    *re = palloc(sizeof(regex_t));
	MemoryContextCallback *cb;

	initStringInfo(&pattern);
	appendStringInfoString(&pattern, "^(");
	foreach(lc, alternatives)
	{
		if (lc != list_head(alternatives))
			appendStringInfoChar(&pattern, '|');
		appendStringInfo(&pattern, "(%s)", (char *) lfirst(lc));
	}
	appendStringInfoString(&pattern, ")$");

	wide = palloc((pattern.len + 1) * sizeof(pg_wchar));
	wide_len = pg_mb2wchar_with_len(pattern.data, wide, pattern.len);
	rc = pg_regcomp(re, wide, wide_len, REG_ADVANCED | REG_NOSUB | REG_ICASE,
					C_COLLATION_OID);
	if (rc != REG_OKAY)
	{
		char		errbuf[256];

		pg_regerror(rc, re, errbuf, sizeof(errbuf));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_REGULAR_EXPRESSION),
				 errmsg("invalid regular expression in parameter \"%s\": %s",
						name, errbuf)));
	}
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = free_filter;
	cb->arg = re;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	pfree(wide);
	pfree(pattern.data);
	return re;
}

static bool
filter_matches(regex_t *re, const char *text)
{
	int			len = strlen(text);
	pg_wchar   *wide = palloc((len + 1) * sizeof(pg_wchar));
	int			wide_len = pg_mb2wchar_with_len(text, wide, len);
	int			rc;

	rc = pg_regexec(re, wide, wide_len, 0, NULL, 0, NULL, 0);
	pfree(wide);
	if (rc != REG_OKAY && rc != REG_NOMATCH)
		elog(ERROR, "regular expression failed with code %d", rc);
	return rc == REG_OKAY;
}

void
options_set(CdcOptions *opts, const char *name, const char *value)
{
	if (strcmp(name, "topic-prefix") == 0)
	{
		const char *p;

		opts->topic_prefix = pstrdup(required_value(name, value));
		/* Kafka topic names allow only these characters. */
		for (p = opts->topic_prefix; *p; p++)
			if (!topic_char_valid((unsigned char) *p))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value \"%s\" for parameter \"%s\"",
								value, name),
						 errhint("A Kafka topic prefix may contain only ASCII letters, digits, \".\", \"_\" and \"-\".")));
	}
	else if (strcmp(name, "schemas") == 0)
		opts->schemas = parse_bool_option(name, value);
	else if (strcmp(name, "include-transaction") == 0)
		opts->include_transaction = parse_bool_option(name, value);
	else if (strcmp(name, "publish-via-partition-root") == 0)
		opts->publish_via_root = parse_bool_option(name, value);
	else if (strcmp(name, "headers") == 0)
		opts->headers = parse_bool_option(name, value);
	else if (strcmp(name, "include-truncate") == 0)
		opts->include_truncate = parse_bool_option(name, value);
	else if (strcmp(name, "include-messages") == 0)
		opts->include_messages = parse_bool_option(name, value);
	else if (strcmp(name, "decimal-handling") == 0)
	{
		value = required_value(name, value);
		if (strcmp(value, "precise") == 0)
			opts->decimal_handling = CDC_DECIMAL_PRECISE;
		else if (strcmp(value, "double") == 0)
			opts->decimal_handling = CDC_DECIMAL_DOUBLE;
		else if (strcmp(value, "string") == 0)
			opts->decimal_handling = CDC_DECIMAL_STRING;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value \"%s\" for parameter \"%s\"",
							value, name),
					 errhint("Valid values are: " DECIMAL_HANDLING_VALUES ".")));
	}
	else if (strcmp(name, "format") == 0)
	{
		value = required_value(name, value);
		if (strcmp(value, "json") == 0)
			opts->format = CDC_FORMAT_JSON;
		else if (strcmp(value, "kafka") == 0)
			opts->format = CDC_FORMAT_KAFKA;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value \"%s\" for parameter \"%s\"",
							value, name),
					 errhint("Valid values are: " FORMAT_VALUES ".")));
	}
	else if (strcmp(name, "batch-bytes") == 0)
	{
		char	   *end;
		long		n;

		value = required_value(name, value);
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno != 0 || *end != '\0' || end == value || n < 0 || n > CDC_MAX_BATCH_BYTES)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value \"%s\" for parameter \"%s\"",
							value, name),
					 errhint("Use a number of bytes from 0 (one frame per write) to %d.",
							 CDC_MAX_BATCH_BYTES)));
		opts->batch_bytes = (int) n;
	}
	else if (strcmp(name, "include-schemas") == 0)
		opts->include_schemas = compile_filter(name, value);
	else if (strcmp(name, "exclude-schemas") == 0)
		opts->exclude_schemas = compile_filter(name, value);
	else if (strcmp(name, "include-tables") == 0)
		opts->include_tables = compile_filter(name, value);
	else if (strcmp(name, "exclude-tables") == 0)
		opts->exclude_tables = compile_filter(name, value);
	else if (strcmp(name, "message-prefixes") == 0)
		opts->message_prefixes = split_list(required_value(name, value));
	else if (strcmp(name, "snapshot-lsn") == 0)
		opts->snapshot_lsn = DatumGetLSN(DirectFunctionCall1(pg_lsn_in,
															 CStringGetDatum(required_value(name, value))));
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" is unknown to cdc_kafka", name),
				 errhint("Valid options are: " OPTION_NAMES ".")));
}

/*
 * Parse the DefElem list the walsender or the SQL functions hand to the
 * startup callback.  A repeated option is an error, as in pgoutput.
 */
void
options_parse(CdcOptions *opts, List *defelems)
{
	ListCell   *lc;
	List	   *seen = NIL;

	foreach(lc, defelems)
	{
		DefElem    *elem = lfirst(lc);
		const char *value = NULL;
		ListCell   *sc;

		Assert(elem->arg == NULL || IsA(elem->arg, String));
		foreach(sc, seen)
		{
			if (strcmp((char *) lfirst(sc), elem->defname) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("conflicting or redundant options"),
						 errdetail("Option \"%s\" is given more than once.",
								   elem->defname)));
		}
		seen = lappend(seen, elem->defname);

		if (elem->arg != NULL)
			value = strVal(elem->arg);
		options_set(opts, elem->defname, value);
	}
	list_free(seen);
}

/* Does "nspname.relname" pass the schema and table filters? */
bool
options_table_wanted(const CdcOptions *opts, const char *nspname,
					 const char *relname)
{
	char	   *qualified;
	bool		wanted = true;

	if (opts->include_schemas && !filter_matches(opts->include_schemas, nspname))
		return false;
	if (opts->exclude_schemas && filter_matches(opts->exclude_schemas, nspname))
		return false;
	if (opts->include_tables == NULL && opts->exclude_tables == NULL)
		return true;

	qualified = psprintf("%s.%s", nspname, relname);
	if (opts->include_tables && !filter_matches(opts->include_tables, qualified))
		wanted = false;
	else if (opts->exclude_tables && filter_matches(opts->exclude_tables, qualified))
		wanted = false;
	pfree(qualified);
	return wanted;
}

bool
options_message_wanted(const CdcOptions *opts, const char *prefix)
{
	ListCell   *lc;

	if (!opts->include_messages)
		return false;
	if (opts->message_prefixes == NIL)
		return true;
	foreach(lc, opts->message_prefixes)
		if (strcmp((char *) lfirst(lc), prefix) == 0)
			return true;
	return false;
}
