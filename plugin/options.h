/*-------------------------------------------------------------------------
 * options.h
 *	  Output plugin options, parsed and validated once in the startup
 *	  callback (and by snapshot_events for the SQL path).
 *-------------------------------------------------------------------------
 */
#ifndef CDC_KAFKA_OPTIONS_H
#define CDC_KAFKA_OPTIONS_H

#include "access/xlogdefs.h"
#include "nodes/pg_list.h"
#include "regex/regex.h"

typedef enum CdcDecimalHandling
{
	CDC_DECIMAL_PRECISE,		/* org.apache.kafka.connect.data.Decimal bytes */
	CDC_DECIMAL_DOUBLE,
	CDC_DECIMAL_STRING
} CdcDecimalHandling;

typedef enum CdcFormat
{
	CDC_FORMAT_JSON,			/* one {"topic","key","value"} object per line */
	CDC_FORMAT_KAFKA			/* binary framing read by the sidecar */
} CdcFormat;

typedef struct CdcOptions
{
	char	   *topic_prefix;	/* Debezium's topic.prefix; default: database */
	bool		schemas;		/* wrap key and value in schema + payload */
	CdcDecimalHandling decimal_handling;
	CdcFormat	format;
	int			batch_bytes;	/* format=kafka: frames per write, in bytes */
	bool		headers;		/* format=kafka: frames carry Kafka headers */
	bool		include_transaction;	/* BEGIN/END events + transaction block */
	bool		publish_via_root;	/* partitions publish as their root table */
	bool		include_truncate;
	bool		include_messages;
	List	   *message_prefixes;	/* char *; NIL means every prefix */
	/*
	 * snapshot_events() only: the LSN its snapshot was taken at (the slot's
	 * consistent point).  When set, snapshot events carry it and the
	 * reading transaction's id, and mark each table's first and last row,
	 * as Debezium 2.7's snapshot events do.  Invalid: null, all "true".
	 */
	XLogRecPtr	snapshot_lsn;
	/* compiled filters on "schema" and "schema.table"; NULL = not set */
	regex_t    *include_schemas;
	regex_t    *exclude_schemas;
	regex_t    *include_tables;
	regex_t    *exclude_tables;
} CdcOptions;

extern void options_init(CdcOptions *opts);
extern void options_parse(CdcOptions *opts, List *defelems);
extern void options_set(CdcOptions *opts, const char *name, const char *value);
extern bool options_table_wanted(const CdcOptions *opts, const char *nspname,
								 const char *relname);
extern bool options_message_wanted(const CdcOptions *opts, const char *prefix);

/* A character Kafka allows in a topic name: [a-zA-Z0-9._-]. */
static inline bool
topic_char_valid(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

#endif							/* CDC_KAFKA_OPTIONS_H */
