/*-------------------------------------------------------------------------
 * event.c
 *	  The Debezium envelope, key and special events (logical messages,
 *	  transaction metadata), rendered as Kafka Connect JSON.
 *
 * Column values come from typemap.c and per-table text (field names,
 * schema blocks) from relcache.c; this file only assembles them.  Field
 * order follows Debezium 2.x with its JSON converter, because consumers
 * compare schema blocks byte for byte to detect schema changes.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "commands/dbcommands.h"
#include "common/int.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/timestamp.h"

#include "event.h"
#include "jsonbuf.h"

/*
 * What source.version says: the Debezium format this follows, tagged with
 * the producer, so that a consumer can tell us from Debezium if it cares.
 */
#define CDC_SOURCE_VERSION "2.7.4.Final-cdc_kafka-1.0"

/* Debezium's io.debezium.connector.postgresql.Source, verbatim */
#define SOURCE_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"version\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"name\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}," \
	"{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1," \
	"\"parameters\":{\"allowed\":\"true,last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"db\"}," \
	"{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"table\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"}"

#define TRANSACTION_BLOCK_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}]," \
	"\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}"

#define MESSAGE_KEY_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.MessageKey\",\"version\":1}"

#define MESSAGE_VALUE_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}," \
	SOURCE_SCHEMA "," \
	"{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"}," \
	"{\"type\":\"bytes\",\"optional\":true,\"field\":\"content\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Message\",\"version\":1,\"field\":\"message\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.postgresql.MessageValue\",\"version\":1}"

#define TXN_KEY_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1}"

#define TXN_VALUE_SCHEMA \
	"{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"status\"}," \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}," \
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"}," \
	"{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":[" \
	"{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}]," \
	"\"optional\":true,\"name\":\"event.collection\",\"version\":1}," \
	"\"optional\":true,\"field\":\"data_collections\"}," \
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}]," \
	"\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1}"

/* Session state, set by event_init; strings live as long as the options. */
static const CdcOptions *event_opts;
static char *source_head;		/* {"version":..,"name":<prefix>,"ts_ms": */
static char *source_db;			/* ,"db":<database> */

void
event_init(const CdcOptions *opts)
{
	StringInfoData buf;

	event_opts = opts;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"version\":\"" CDC_SOURCE_VERSION
						   "\",\"connector\":\"postgresql\",\"name\":");
	jsonbuf_append_cstring(&buf, opts->topic_prefix);
	appendStringInfoString(&buf, ",\"ts_ms\":");
	source_head = buf.data;

	initStringInfo(&buf);
	appendStringInfoString(&buf, ",\"db\":");
	jsonbuf_append_cstring(&buf, get_database_name(MyDatabaseId));
	source_db = buf.data;
}

char *
event_txn_topic(void)
{
	return psprintf("%s.transaction", event_opts->topic_prefix);
}

char *
event_message_topic(void)
{
	return psprintf("%s.message", event_opts->topic_prefix);
}

char *
event_key_schema(const char *topic, const char *fields)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"type\":\"struct\",\"fields\":[%s],"
					 "\"optional\":false,\"name\":", fields);
	jsonbuf_append_cstring(&buf, psprintf("%s.Key", topic));
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

char *
event_value_schema(const char *topic, const char *fields)
{
	StringInfoData buf;
	char	   *row_name = jsonbuf_quote(psprintf("%s.Value", topic));

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "{\"type\":\"struct\",\"fields\":["
					 "{\"type\":\"struct\",\"fields\":[%s],\"optional\":true,"
					 "\"name\":%s,\"field\":\"before\"},"
					 "{\"type\":\"struct\",\"fields\":[%s],\"optional\":true,"
					 "\"name\":%s,\"field\":\"after\"},"
					 SOURCE_SCHEMA ","
					 TRANSACTION_BLOCK_SCHEMA ","
					 "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
					 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
					 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
					 "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],"
					 "\"optional\":false,\"name\":",
					 fields, row_name, fields, row_name);
	jsonbuf_append_cstring(&buf, psprintf("%s.Envelope", topic));
	appendStringInfoString(&buf, ",\"version\":2}");
	return buf.data;
}

static inline void
append_int64(StringInfo buf, int64 v)
{
	enlargeStringInfo(buf, MAXINT8LEN + 1);
	buf->len += pg_lltoa(v, buf->data + buf->len);
}

static inline void
append_uint64(StringInfo buf, uint64 v)
{
	enlargeStringInfo(buf, MAXINT8LEN + 1);
	buf->len += pg_ulltoa_n(v, buf->data + buf->len);
	buf->data[buf->len] = '\0';
}

/* Epoch microseconds of a PostgreSQL timestamp. */
static inline int64
epoch_us(TimestampTz t)
{
	return t + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
}

/* Kafka Connect int64 epoch milliseconds of a PostgreSQL timestamp. */
static inline int64
epoch_ms(TimestampTz t)
{
	int64		us = epoch_us(t);

	return us / 1000 - ((us % 1000) < 0 ? 1 : 0);
}

/* ,"ts_ms":..,"ts_us":..,"ts_ns":.. of a time, as Debezium 2.6+ writes them */
static void
append_times(StringInfo buf, TimestampTz t)
{
	appendStringInfoString(buf, ",\"ts_ms\":");
	append_int64(buf, epoch_ms(t));
	appendStringInfoString(buf, ",\"ts_us\":");
	append_int64(buf, epoch_us(t));
	appendStringInfoString(buf, ",\"ts_ns\":");
	append_int64(buf, epoch_us(t) * 1000);
}

/* With schemas on, open {"schema":<schema>,"payload": ; see wrap_end. */
static inline void
wrap_begin(StringInfo buf, const char *schema)
{
	if (event_opts->schemas)
	{
		appendStringInfoString(buf, "{\"schema\":");
		appendStringInfoString(buf, schema);
		appendStringInfoString(buf, ",\"payload\":");
	}
}

static inline void
wrap_end(StringInfo buf)
{
	if (event_opts->schemas)
		appendStringInfoChar(buf, '}');
}

void
event_deform(CdcRow *row, HeapTuple tuple, TupleDesc desc, bool identity_only)
{
	row->values = palloc(desc->natts * sizeof(Datum));
	row->nulls = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(tuple, desc, row->values, row->nulls);
	row->identity_only = identity_only;
}

/*
 * Are two values of a key column the same?  A varlena is compared by its
 * content: the old image may hold it compressed and the new one not, or
 * compressed another way (after SET COMPRESSION), and that is no change of
 * key.  A value out of line on disk cannot be fetched while decoding; it
 * is compared as it is (event_fill_unchanged_toast has made an unchanged
 * one the old image's own).
 */
static bool
key_values_equal(const CdcColumn *col, Datum a, Datum b)
{
	if (col->type.typlen == -1 &&
		!VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(a)) &&
		!VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(b)))
	{
		struct varlena *va = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
		struct varlena *vb = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));

		return VARSIZE_ANY_EXHDR(va) == VARSIZE_ANY_EXHDR(vb) &&
			memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), VARSIZE_ANY_EXHDR(va)) == 0;
	}
	return datumIsEqual(a, b, col->type.typbyval, col->type.typlen);
}

bool
event_keys_equal(const CdcRelation *rel, const CdcRow *a, const CdcRow *b)
{
	for (int i = 0; i < rel->nkey; i++)
	{
		const CdcColumn *col = &rel->columns[rel->key[i]];
		int			off = col->attoff;

		if (a->nulls[off] != b->nulls[off])
			return false;
		if (a->nulls[off])
			continue;
		if (!key_values_equal(col, a->values[off], b->values[off]))
			return false;
	}
	return true;
}

static inline bool
is_unchanged_toast(const CdcColumn *col, const CdcRow *row)
{
	return col->type.typlen == -1 && !row->nulls[col->attoff] &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(row->values[col->attoff]));
}

void
event_fill_unchanged_toast(const CdcRelation *rel, CdcRow *row,
						   const CdcRow *old)
{
	/*
	 * An identity-only old image has only the identity's columns; the others
	 * are null and skipped below.  It matters still: a key stored out of
	 * line is logged with every update, and without it the key would be
	 * the placeholder and the update a change of key.
	 */
	for (int i = 0; i < rel->ncolumns; i++)
	{
		const CdcColumn *col = &rel->columns[i];
		int			off = col->attoff;

		if (is_unchanged_toast(col, row) && !old->nulls[off] &&
			!is_unchanged_toast(col, old))
			row->values[off] = old->values[off];
	}
}

/* One column's value. */
static void
append_column_value(StringInfo buf, const CdcColumn *col, const CdcRow *row)
{
	Datum		value = row->values[col->attoff];

	if (row->nulls[col->attoff])
	{
		/*
		 * In an identity-only old tuple a NOT NULL column can only be null
		 * because it was not logged: Debezium gives it the schema's default,
		 * or else its type's zero value.
		 */
		if (row->identity_only && col->notnull && col->default_json)
			appendStringInfoString(buf, col->default_json);
		else if (row->identity_only && col->notnull)
			typemap_append_fallback(buf, &col->type);
		else
			appendStringInfoString(buf, "null");
	}
	else if (is_unchanged_toast(col, row))
	{
		/* an unchanged TOASTed value the WAL does not carry */
		typemap_append_unavailable(buf, &col->type);
	}
	else
		typemap_append_value(buf, &col->type, value);
}

static void
append_row(StringInfo buf, const CdcRelation *rel, const CdcRow *row)
{
	appendStringInfoChar(buf, '{');
	for (int i = 0; i < rel->ncolumns; i++)
	{
		const CdcColumn *col = &rel->columns[i];

		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoString(buf, col->name_json);
		append_column_value(buf, col, row);
	}
	appendStringInfoChar(buf, '}');
}

void
event_append_key(StringInfo buf, const CdcRelation *rel, const CdcRow *row)
{
	wrap_begin(buf, rel->key_schema);
	event_append_key_payload(buf, rel, row);
	wrap_end(buf);
}

void
event_append_key_payload(StringInfo buf, const CdcRelation *rel,
						 const CdcRow *row)
{
	Assert(rel->nkey > 0);
	appendStringInfoChar(buf, '{');
	for (int i = 0; i < rel->nkey; i++)
	{
		const CdcColumn *col = &rel->columns[rel->key[i]];

		if (i > 0)
			appendStringInfoChar(buf, ',');
		appendStringInfoString(buf, col->name_json);
		append_column_value(buf, col, row);
	}
	appendStringInfoChar(buf, '}');
}

static void
append_lsn_or_null(StringInfo buf, XLogRecPtr lsn)
{
	if (XLogRecPtrIsInvalid(lsn))
		appendStringInfoString(buf, "null");
	else
		append_uint64(buf, lsn);
}

/*
 * The source block.  source.sequence is Debezium's ["<last commit>","<lsn>"]
 * as a JSON string in a JSON string, the first element null when unknown.
 * source.ts_us and ts_ns come after it, as in Debezium 2.6 and later.
 */
static void
append_source(StringInfo buf, const CdcSource *src, const char *names)
{
	appendStringInfoString(buf, source_head);
	append_int64(buf, epoch_ms(src->commit_time));
	appendStringInfoString(buf, ",\"snapshot\":\"");
	appendStringInfoString(buf, src->snapshot);
	appendStringInfoChar(buf, '"');
	appendStringInfoString(buf, source_db);
	if (XLogRecPtrIsInvalid(src->lsn))
		appendStringInfoString(buf, ",\"sequence\":null");
	else
	{
		appendStringInfoString(buf, ",\"sequence\":\"[");
		if (XLogRecPtrIsInvalid(src->last_commit_lsn))
			appendStringInfoString(buf, "null");
		else
		{
			appendStringInfoString(buf, "\\\"");
			append_uint64(buf, src->last_commit_lsn);
			appendStringInfoString(buf, "\\\"");
		}
		appendStringInfoString(buf, ",\\\"");
		append_uint64(buf, src->lsn);
		appendStringInfoString(buf, "\\\"]\"");
	}
	appendStringInfoString(buf, ",\"ts_us\":");
	append_int64(buf, epoch_us(src->commit_time));
	appendStringInfoString(buf, ",\"ts_ns\":");
	append_int64(buf, epoch_us(src->commit_time) * 1000);
	appendStringInfoString(buf, names);
	appendStringInfoString(buf, ",\"txId\":");
	if (TransactionIdIsValid(src->xid))
		append_int64(buf, src->xid);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ",\"lsn\":");
	append_lsn_or_null(buf, src->lsn);
	appendStringInfoString(buf, ",\"xmin\":null}");
}

static void
append_txn_id(StringInfo buf, TransactionId xid, XLogRecPtr lsn)
{
	appendStringInfoChar(buf, '"');
	append_int64(buf, xid);
	appendStringInfoChar(buf, ':');
	append_uint64(buf, lsn);
	appendStringInfoChar(buf, '"');
}

void
event_append_change(StringInfo buf, const CdcRelation *rel, char op,
					const CdcRow *before, const CdcRow *after,
					const CdcSource *src, const CdcTxnBlock *txn)
{
	wrap_begin(buf, rel->value_schema);
	appendStringInfoString(buf, "{\"before\":");
	if (before)
		append_row(buf, rel, before);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ",\"after\":");
	if (after)
		append_row(buf, rel, after);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ",\"source\":");
	append_source(buf, src, rel->source_names);
	appendStringInfoString(buf, ",\"transaction\":");
	if (txn)
	{
		appendStringInfoString(buf, "{\"id\":");
		append_txn_id(buf, txn->xid, txn->lsn);
		appendStringInfoString(buf, ",\"total_order\":");
		append_int64(buf, txn->total_order);
		appendStringInfoString(buf, ",\"data_collection_order\":");
		append_int64(buf, txn->collection_order);
		appendStringInfoChar(buf, '}');
	}
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ",\"op\":\"");
	appendStringInfoChar(buf, op);
	appendStringInfoChar(buf, '"');
	/* ts_ms, ts_us, ts_ns: when the event was formatted */
	append_times(buf, GetCurrentTimestamp());
	appendStringInfoChar(buf, '}');
	wrap_end(buf);
}

void
event_append_message_key(StringInfo buf, const char *prefix)
{
	wrap_begin(buf, MESSAGE_KEY_SCHEMA);
	appendStringInfoString(buf, "{\"prefix\":");
	jsonbuf_append_cstring(buf, prefix);
	appendStringInfoChar(buf, '}');
	wrap_end(buf);
}

void
event_append_message(StringInfo buf, const char *prefix, const char *content,
					 Size content_size, const CdcSource *src)
{
	wrap_begin(buf, MESSAGE_VALUE_SCHEMA);
	appendStringInfoString(buf, "{\"op\":\"m\",\"ts_ms\":");
	append_int64(buf, epoch_ms(GetCurrentTimestamp()));
	appendStringInfoString(buf, ",\"source\":");
	append_source(buf, src, ",\"schema\":\"\",\"table\":\"\"");
	appendStringInfoString(buf, ",\"message\":{\"prefix\":");
	jsonbuf_append_cstring(buf, prefix);
	appendStringInfoString(buf, ",\"content\":");
	jsonbuf_append_base64(buf, content, content_size);
	appendStringInfoString(buf, "}}");
	wrap_end(buf);
}

void
event_append_txn_key(StringInfo buf, TransactionId xid, XLogRecPtr id_lsn)
{
	wrap_begin(buf, TXN_KEY_SCHEMA);
	appendStringInfoString(buf, "{\"id\":");
	append_txn_id(buf, xid, id_lsn);
	appendStringInfoChar(buf, '}');
	wrap_end(buf);
}

void
event_append_txn_status(StringInfo buf, TransactionId xid,
						XLogRecPtr id_lsn, TimestampTz commit_time,
						int64 event_count, const char *collections_json)
{
	wrap_begin(buf, TXN_VALUE_SCHEMA);
	appendStringInfoString(buf, collections_json ?
						   "{\"status\":\"END\",\"id\":" :
						   "{\"status\":\"BEGIN\",\"id\":");
	append_txn_id(buf, xid, id_lsn);
	appendStringInfoString(buf, ",\"event_count\":");
	if (collections_json)
		append_int64(buf, event_count);
	else
		appendStringInfoString(buf, "null");
	appendStringInfoString(buf, ",\"data_collections\":");
	appendStringInfoString(buf, collections_json ? collections_json : "null");
	appendStringInfoString(buf, ",\"ts_ms\":");
	append_int64(buf, epoch_ms(commit_time));
	appendStringInfoChar(buf, '}');
	wrap_end(buf);
}
