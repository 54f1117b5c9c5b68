/*-------------------------------------------------------------------------
 * typemap.h
 *	  PostgreSQL types to Debezium's default Kafka Connect mapping: the
 *	  schema fragment of a column and the JSON rendering of its values.
 *
 * A CdcType is resolved once per column when a relation enters the cache
 * (relcache.c) and lives in the cache's memory context; rendering a value
 * does no catalog access.
 *-------------------------------------------------------------------------
 */
#ifndef CDC_KAFKA_TYPEMAP_H
#define CDC_KAFKA_TYPEMAP_H

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "options.h"

typedef enum CdcTypeKind
{
	CDC_TYPE_BOOL,
	CDC_TYPE_INT16,
	CDC_TYPE_INT32,
	CDC_TYPE_INT64,
	CDC_TYPE_FLOAT4,
	CDC_TYPE_FLOAT8,
	CDC_TYPE_NUMERIC,
	CDC_TYPE_MONEY,
	CDC_TYPE_TEXT,				/* any type rendered as its text form */
	CDC_TYPE_BYTEA,
	CDC_TYPE_BITS,
	CDC_TYPE_DATE,
	CDC_TYPE_TIME,
	CDC_TYPE_TIMETZ,
	CDC_TYPE_TIMESTAMP,
	CDC_TYPE_TIMESTAMPTZ,
	CDC_TYPE_INTERVAL,
	CDC_TYPE_UUID,
	CDC_TYPE_JSON,
	CDC_TYPE_JSONB,
	CDC_TYPE_XML,
	CDC_TYPE_ENUM,
	CDC_TYPE_ARRAY,
	CDC_TYPE_POINT				/* io.debezium.data.geometry.Point struct */
} CdcTypeKind;

typedef struct CdcType
{
	CdcTypeKind kind;
	Oid			typid;			/* after domains are resolved to their base */
	int32		typmod;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	FmgrInfo	outfunc;		/* text output, for kinds that need it */
	struct CdcType *elem;		/* CDC_TYPE_ARRAY: element type */
	CdcDecimalHandling decimal_handling;
	/*
	 * Pre-rendered parts of the Kafka Connect field schema, so that a
	 * schema block is built by concatenation: schema_head is what comes
	 * before "optional" (e.g. "type":"int32"), schema_tail what comes after
	 * it (e.g. ,"name":"io.debezium.time.Date","version":1), may be "".
	 */
	char	   *schema_head;
	char	   *schema_tail;
	/*
	 * CDC_TYPE_ENUM: the labels known at resolve time, by ascending pg_enum
	 * OID, each as a quoted JSON literal, so that a value is rendered by a
	 * binary search instead of enum_out's syscache lookup.
	 */
	int			nlabels;
	Oid		   *label_oids;
	char	  **label_json;
} CdcType;

/* Fill *t for typid/typmod; allocates in CurrentMemoryContext. */
extern void typemap_resolve(CdcType *t, Oid typid, int32 typmod,
							const CdcOptions *opts);

/*
 * Append {"type":...,"optional":...,...,"default":...,"field":<field_json>}
 * to buf.  default_json is the column's literal default as a JSON value, or
 * NULL; field_json is an already escaped JSON string literal, or NULL
 * (array items).
 */
extern void typemap_append_schema(StringInfo buf, const CdcType *t,
								  bool optional, const char *default_json,
								  const char *field_json);

/* Append the JSON value of a non-null datum (detoasted as needed). */
extern void typemap_append_value(StringInfo buf, const CdcType *t, Datum value);

/* Debezium's __debezium_unavailable_value placeholder, shaped for the type. */
extern void typemap_append_unavailable(StringInfo buf, const CdcType *t);

/*
 * The zero value Debezium puts in a required (NOT NULL) column that the old
 * tuple did not carry ("" for strings, 0 for numbers, false, ...).
 */
extern void typemap_append_fallback(StringInfo buf, const CdcType *t);

/*
 * Java's String.hashCode of UTF-8 text (over its UTF-16 code units): where
 * Debezium writes a java.util.HashMap, its order follows from it.
 */
extern int32 typemap_java_hash(const char *s, int len);
/*
 * The bucket of a key of that hash in a java.util.HashMap of size entries
 * (16 slots, doubled while over three quarters full): its iteration order
 * is by bucket, then by insertion.
 */
extern uint32 typemap_java_bucket(int32 hash, int size);

/* Is the Connect schema of t a (plain or named) string? */
extern bool typemap_is_string(const CdcType *t);

#define CDC_UNAVAILABLE_VALUE "__debezium_unavailable_value"

#endif							/* CDC_KAFKA_TYPEMAP_H */
