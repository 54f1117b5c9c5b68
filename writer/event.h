/*-------------------------------------------------------------------------
 *
 * event.h
 *	  Turning one Debezium JSON change event (Kafka key + value) into the
 *	  values of one change-log row.
 *
 * The parser keeps a cache of the value `schema` blocks it has seen, keyed
 * by a hash of the block's bytes, so a schema is parsed once per version
 * and each message costs one parse of its `payload` only.  Events without
 * a schema (schemas.enable=false) yield untyped values, typed by their
 * JSON token, that the table converts to its existing columns (table.c).
 *
 * This file knows nothing about tables, Parquet files or Kafka handles.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CDC_WRITER_EVENT_H
#define CDC_WRITER_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parquet.h"

struct json_object;

typedef enum EventResult
{
	EVENT_ROW,					/* out holds a row */
	EVENT_SKIP,					/* tombstone, transaction metadata: no row */
	EVENT_BAD					/* malformed: errstr says why */
} EventResult;

/* How a value was read from the payload. */
typedef enum EventValueType
{
	EV_NULL,
	EV_BOOL,					/* i */
	EV_INT,						/* i */
	EV_DOUBLE,					/* d */
	EV_STRING,					/* s, len: UTF-8 text */
	EV_BINARY,					/* s, len: raw bytes */
	EV_DECIMAL,					/* dec, scale */
	EV_DATE,					/* i: days since 1970-01-01 */
	EV_TIMESTAMP,				/* i: microseconds since epoch, UTC */
	EV_JSON						/* s, len: JSON text of a schemaless object
								 * or array */
} EventValueType;

/*
 * A column value.  Pointers (s, name) stay valid until the next
 * event_parse on the same parser.
 */
typedef struct EventValue
{
	const char *name;			/* source column name */
	EventValueType type;
	int64_t		i;
	double		d;
	__int128	dec;			/* unscaled decimal */
	int			scale;
	const char *s;				/* also the token of an untyped number */
	size_t		len;
	bool		untyped;		/* schemaless: typed by its JSON token only */
	/* the column this value would create in a table that lacks it */
	PqColumnDef want;
	const char *want_type;		/* Delta type name ("short", "decimal(10,2)") */
} EventValue;

typedef struct EventRow
{
	char		op;				/* c, r, u, d, t, m */
	bool		has_lsn;
	int64_t		lsn;
	bool		has_txid;
	int64_t		txid;
	bool		has_ts_ms;
	int64_t		ts_ms;
	int			nvalues;
	EventValue *values;			/* owned by the parser */
	uint64_t	schema_id;		/* hash of the schema block, 0 = schemaless */
} EventRow;

typedef struct EventParser EventParser;

extern EventParser *event_parser_new(void);
extern void event_parser_free(EventParser *p);

/*
 * Parses one message; key/value may be NULL (a NULL value is a tombstone).
 * On EVENT_ROW, *out is valid until the next call.
 */
extern EventResult event_parse(EventParser *p,
							   const char *key, size_t keylen,
							   const char *value, size_t vallen,
							   EventRow *out, char *errstr, size_t errlen);

/* Distinct schema blocks parsed, messages read by json-c (stats, tests). */
extern int64_t event_schemas_parsed(const EventParser *p);
extern int64_t event_slow_parsed(const EventParser *p);

#endif							/* CDC_WRITER_EVENT_H */
