/*-------------------------------------------------------------------------
 * cdc_kafka.c
 *	  Logical decoding output plugin "cdc_kafka": the decoding callbacks
 *	  and the framing of each event on the wire.
 *
 * With format=json each event is one OutputPluginWrite: a
 * {"topic","key","value"} JSON line.  With format=kafka each event is a
 * binary frame (doc/contracts.md), and frames are gathered into writes of
 * up to batch-bytes, a unit (transaction) ending a write: a write costs the
 * walsender a send() and a recv(), most of its time when each carried one
 * event.  What an event contains is event.c's business; which events a
 * change produces, and in what order, is decided here.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "libpq/pqformat.h"
#include "port/pg_bswap.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "event.h"
#include "jsonbuf.h"
#include "options.h"
#include "relcache.h"

PG_MODULE_MAGIC;

extern void _PG_output_plugin_init(OutputPluginCallbacks *cb);

/* Prefix of the messages cdc_kafka.emit() writes (see write_outbox). */
#define CDC_OUTBOX_PREFIX "cdc_kafka.outbox"

/* Report progress this often through skipped changes (see pgoutput). */
#define CHANGES_PER_PROGRESS 100

/* The reorder buffer's tuples are plain HeapTuples since PostgreSQL 17. */
#if PG_VERSION_NUM >= 170000
#define CHANGE_TUPLE(t) (t)
#else
#define CHANGE_TUPLE(t) (&(t)->tuple)
#endif

typedef struct CdcDecodingData
{
	CdcOptions	opts;
	MemoryContext change_cxt;	/* reset after every change */
	MemoryContext txn_cxt;		/* reset after every transaction */
	char	   *txn_topic;		/* <prefix>.transaction */
	char	   *message_topic;	/* <prefix>.message */
	int			skipped_changes;	/* since the last progress update */
	StringInfoData batch;		/* format=kafka frames not yet written */
	/* the next frame's Kafka header (headers=true), or none */
	const char *header_name;
	StringInfoData header_value;
	/* end of the last transaction with a change or message: source.sequence */
	XLogRecPtr	last_commit_lsn;
	XLogRecPtr	batch_lsn;		/* where the first of them was decoded */
} CdcDecodingData;

/* Transaction metadata: events per table, for the END event. */
typedef struct CdcCollectionCount
{
	Oid			relid;			/* hash key: the published relation */
	char	   *qualified;		/* schema.table, in txn_cxt */
	int64		count;
} CdcCollectionCount;

/*
 * Per-transaction state, in txn_cxt.  BEGIN metadata and the kafka 'C'
 * frame are written only for transactions that produce an event, so the
 * sidecar never waits for an acknowledgement that cannot come.
 */
typedef struct CdcTxnData
{
	uint64		next_seq;		/* the next frame seq to hand out */
	uint64		events;			/* events written so far */
	bool		delivered;		/* had a change or a message, filtered or not */
	XLogRecPtr	first_change_lsn;	/* the first of them: BEGIN's id */
	int64		data_events;	/* data events, for transaction.total_order */
	HTAB	   *collections;	/* CdcCollectionCount by relid, or NULL */
	List	   *collections_seen;	/* the same, in order of first event */
} CdcTxnData;

static void cdc_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
						bool is_init);
static void cdc_shutdown(LogicalDecodingContext *ctx);
static void cdc_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void cdc_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					   XLogRecPtr commit_lsn);
static void cdc_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					   Relation relation, ReorderBufferChange *change);
static void cdc_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						 int nrelations, Relation relations[],
						 ReorderBufferChange *change);
static void cdc_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
						XLogRecPtr message_lsn, bool transactional,
						const char *prefix, Size message_size,
						const char *message);

void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	AssertVariableIsOfType(&_PG_output_plugin_init, LogicalOutputPluginInit);

	cb->startup_cb = cdc_startup;
	cb->begin_cb = cdc_begin;
	cb->change_cb = cdc_change;
	cb->truncate_cb = cdc_truncate;
	cb->message_cb = cdc_message;
	cb->commit_cb = cdc_commit;
	cb->shutdown_cb = cdc_shutdown;
}

static void
cdc_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	CdcDecodingData *data;
	MemoryContext oldcxt;
	bool		own_xact = !IsTransactionState();

	data = MemoryContextAllocZero(ctx->context, sizeof(CdcDecodingData));
	data->change_cxt = AllocSetContextCreate(ctx->context, "cdc_kafka change",
											 ALLOCSET_DEFAULT_SIZES);
	data->txn_cxt = AllocSetContextCreate(ctx->context, "cdc_kafka transaction",
										  ALLOCSET_SMALL_SIZES);
	ctx->output_plugin_private = data;

	/*
	 * The default topic prefix is the database's name, a catalog lookup; a
	 * walsender calls us outside any transaction.
	 */
	if (own_xact)
		StartTransactionCommand();
	oldcxt = MemoryContextSwitchTo(ctx->context);
	initStringInfo(&data->batch);
	initStringInfo(&data->header_value);
	options_init(&data->opts);
	options_parse(&data->opts, ctx->output_plugin_options);
	event_init(&data->opts);
	data->txn_topic = event_txn_topic();
	data->message_topic = event_message_topic();
	MemoryContextSwitchTo(oldcxt);
	if (own_xact)
		CommitTransactionCommand();

	relcache_init(ctx->context, &data->opts);

	opt->output_type = data->opts.format == CDC_FORMAT_KAFKA ?
		OUTPUT_PLUGIN_BINARY_OUTPUT : OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;
}

static void
cdc_shutdown(LogicalDecodingContext *ctx)
{
	/* every context we made is a child of ctx->context */
}

/*
 * Framing.  frame_begin starts an event and its topic, and returns the
 * buffer it goes to; each of key and value is either frame_part_begin +
 * content + frame_part_end, or frame_part_null, into that buffer;
 * frame_end finishes the event.
 */
static StringInfo
frame_begin(LogicalDecodingContext *ctx, char kind, char op,
			XLogRecPtr commit_lsn, XLogRecPtr change_lsn, uint64 seq,
			const char *topic, int topic_len)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	StringInfo	out;

	if (data->opts.format == CDC_FORMAT_KAFKA)
	{
		/* the write will say it starts where its first frame was decoded */
		if (data->batch.len == 0)
			data->batch_lsn = ctx->write_location;
		out = &data->batch;
		pq_sendbyte(out, kind);
		pq_sendbyte(out, op);
		pq_sendint64(out, commit_lsn);
		pq_sendint64(out, change_lsn);
		pq_sendint64(out, seq);
		pq_sendint32(out, topic_len);
		appendBinaryStringInfo(out, topic, topic_len);
	}
	else
	{
		OutputPluginPrepareWrite(ctx, true);
		out = ctx->out;
		appendStringInfoString(out, "{\"topic\":");
		jsonbuf_append_string(out, topic, topic_len);
	}
	return out;
}

/* Returns where the part's length goes (kafka) for frame_part_end. */
static int
frame_part_begin(LogicalDecodingContext *ctx, StringInfo out, bool is_value)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	int			lenpos = out->len;

	if (data->opts.format == CDC_FORMAT_KAFKA)
		pq_sendint32(out, 0);	/* patched by frame_part_end */
	else
		appendStringInfoString(out, is_value ? ",\"value\":" : ",\"key\":");
	return lenpos;
}

static void
frame_part_end(LogicalDecodingContext *ctx, StringInfo out, int lenpos)
{
	CdcDecodingData *data = ctx->output_plugin_private;

	if (data->opts.format == CDC_FORMAT_KAFKA)
	{
		uint32		len = pg_hton32(out->len - lenpos - 4);

		memcpy(out->data + lenpos, &len, 4);
	}
}

static void
frame_part_null(LogicalDecodingContext *ctx, StringInfo out, bool is_value)
{
	CdcDecodingData *data = ctx->output_plugin_private;

	if (data->opts.format == CDC_FORMAT_KAFKA)
		pq_sendint32(out, -1);
	else
		appendStringInfoString(out, is_value ? ",\"value\":null" : ",\"key\":null");
}

/* Writes the gathered frames, as decoded from batch_lsn on. */
static void
batch_write(LogicalDecodingContext *ctx)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	XLogRecPtr	current = ctx->write_location;

	if (data->batch.len == 0)
		return;
	ctx->write_location = data->batch_lsn;
	OutputPluginPrepareWrite(ctx, true);
	appendBinaryStringInfo(ctx->out, data->batch.data, data->batch.len);
	OutputPluginWrite(ctx, true);
	ctx->write_location = current;

	/* one huge event must not keep its buffer for the rest of the session */
	if (data->batch.maxlen > 4 * Max(data->opts.batch_bytes, BLCKSZ))
	{
		pfree(data->batch.data);
		data->batch.data = MemoryContextAlloc(ctx->context, BLCKSZ);
		data->batch.maxlen = BLCKSZ;
	}
	resetStringInfo(&data->batch);
}

/*
 * With headers=true a frame ends with its Kafka headers: a count, then
 * each name and value, length-prefixed as the other parts.  At most one:
 * the one write_change set for this frame.
 */
static void
frame_end(LogicalDecodingContext *ctx)
{
	CdcDecodingData *data = ctx->output_plugin_private;

	if (data->opts.format == CDC_FORMAT_KAFKA && data->opts.headers)
	{
		StringInfo	out = &data->batch;

		if (data->header_name == NULL)
			pq_sendint32(out, 0);
		else
		{
			pq_sendint32(out, 1);
			pq_sendint32(out, strlen(data->header_name));
			appendBinaryStringInfo(out, data->header_name, strlen(data->header_name));
			pq_sendint32(out, data->header_value.len);
			appendBinaryStringInfo(out, data->header_value.data, data->header_value.len);
		}
	}
	data->header_name = NULL;
	resetStringInfo(&data->header_value);

	if (data->opts.format == CDC_FORMAT_JSON)
	{
		appendStringInfoChar(ctx->out, '}');
		OutputPluginWrite(ctx, true);
	}
	else if (data->batch.len >= data->opts.batch_bytes)
		batch_write(ctx);
}

/*
 * With format=kafka, the 'C' frame that closes a unit (a transaction, or a
 * message outside any): once the sidecar has every one of its nevents
 * acknowledged, it may confirm commit_lsn.  It ends the unit's last write.
 */
static void
write_unit_end(LogicalDecodingContext *ctx, XLogRecPtr commit_lsn,
			   uint64 nevents)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	StringInfo	out;

	if (data->opts.format != CDC_FORMAT_KAFKA)
		return;
	out = frame_begin(ctx, 'C', '0', commit_lsn, commit_lsn, nevents, "", 0);
	frame_part_null(ctx, out, false);
	frame_part_null(ctx, out, true);
	frame_end(ctx);
	batch_write(ctx);
}

static void
cdc_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	CdcDecodingData *data = ctx->output_plugin_private;

	/* between transactions no relation entry is in use */
	relcache_forget_stale();
	txn->output_plugin_private =
		MemoryContextAllocZero(data->txn_cxt, sizeof(CdcTxnData));
	/* 1 is the BEGIN event's (see reserve_seq) */
	((CdcTxnData *) txn->output_plugin_private)->next_seq = 2;
}

/*
 * A change or message of the transaction, published or not: Debezium's
 * pgoutput stream sees its BEGIN at the first one, and its COMMIT.
 */
static void
txn_delivered(ReorderBufferTXN *txn, XLogRecPtr lsn)
{
	CdcTxnData *txndata = txn->output_plugin_private;

	if (!txndata->delivered)
		txndata->first_change_lsn = lsn;
	txndata->delivered = true;
}

/*
 * Frame seqs that the options cannot move.  The sidecar skips what Kafka
 * already holds by (commit LSN, seq), and a restart may come with other
 * options (filters, include-transaction, include-messages, ...): so each
 * callback takes as many seqs as it could ever emit events, whether it
 * emits them or not.  BEGIN is 1; a change takes 2 (a change of key is a
 * delete and a create), a truncate one per relation, a message 1; END
 * comes after them all.  Returns the first of the n.
 */
static uint64
reserve_seq(ReorderBufferTXN *txn, uint64 n)
{
	CdcTxnData *txndata = txn->output_plugin_private;
	uint64		first = txndata->next_seq;

	txndata->next_seq += n;
	return first;
}

/* Transaction metadata BEGIN or END on <prefix>.transaction. */
static void
write_txn_status(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				 CdcTxnData *txndata, const char *collections_json)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	bool		is_end = collections_json != NULL;
	StringInfo	out;
	int			lenpos;
	XLogRecPtr	id_lsn = is_end ? txn->end_lsn : txndata->first_change_lsn;

	txndata->events++;
	out = frame_begin(ctx, 'E', is_end ? 'E' : 'B', txn->end_lsn, id_lsn,
					  is_end ? reserve_seq(txn, 1) : 1,
					  data->txn_topic, strlen(data->txn_topic));
	lenpos = frame_part_begin(ctx, out, false);
	event_append_txn_key(out, txn->xid, id_lsn);
	frame_part_end(ctx, out, lenpos);
	lenpos = frame_part_begin(ctx, out, true);
	event_append_txn_status(out, txn->xid, id_lsn,
							txn->xact_time.commit_time, txndata->data_events,
							collections_json);
	frame_part_end(ctx, out, lenpos);
	frame_end(ctx);
}

/* Called before each event of a transaction: the lazy BEGIN, the count. */
static void
count_event(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	CdcTxnData *txndata = txn->output_plugin_private;

	if (txndata->events == 0 && data->opts.include_transaction)
		write_txn_status(ctx, txn, txndata, NULL);
	txndata->events++;
}

/* The transaction block of a data event, counting it per table. */
static CdcTxnBlock *
count_data_event(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				 CdcRelation *rel, XLogRecPtr lsn, CdcTxnBlock *block)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	CdcTxnData *txndata = txn->output_plugin_private;
	CdcCollectionCount *cc;
	bool		found;

	txndata->data_events++;
	if (!data->opts.include_transaction)
		return NULL;

	if (txndata->collections == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(CdcCollectionCount);
		ctl.hcxt = data->txn_cxt;
		txndata->collections = hash_create("cdc_kafka collections", 16, &ctl,
										   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	cc = hash_search(txndata->collections, &rel->publish_relid, HASH_ENTER,
					 &found);
	if (!found)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(data->txn_cxt);

		cc->qualified = pstrdup(rel->qualified);
		cc->count = 0;
		txndata->collections_seen = lappend(txndata->collections_seen, cc);
		MemoryContextSwitchTo(oldcxt);
	}
	cc->count++;

	block->xid = txn->xid;
	block->lsn = lsn;
	block->total_order = txndata->data_events;
	block->collection_order = cc->count;
	return block;
}

/*
 * One data event of rel: key from key_row (may be NULL), then the value.
 * A change of key is a delete and a create, which carry Debezium's headers
 * (with headers=true): the delete header __debezium.newkey with the new
 * key, the create __debezium.oldkey with the old one (the sidecar repeats
 * the delete's on its tombstone).
 */
static void
write_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			 CdcRelation *rel, char op, XLogRecPtr lsn, uint64 seq,
			 const CdcRow *key_row, const CdcRow *before, const CdcRow *after,
			 const char *header, const CdcRow *header_key)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	CdcSource	src;
	CdcTxnBlock block;
	const CdcTxnBlock *blockp;
	StringInfo	out;
	int			lenpos;

	count_event(ctx, txn);
	blockp = count_data_event(ctx, txn, rel, lsn, &block);

	src.snapshot = "false";
	src.commit_time = txn->xact_time.commit_time;
	src.last_commit_lsn = data->last_commit_lsn;
	src.lsn = lsn;
	src.xid = txn->xid;

	out = frame_begin(ctx, 'E', op, txn->end_lsn, lsn, seq, rel->topic, rel->topic_len);
	if (key_row && rel->nkey > 0)
	{
		lenpos = frame_part_begin(ctx, out, false);
		event_append_key(out, rel, key_row);
		frame_part_end(ctx, out, lenpos);
	}
	else
		frame_part_null(ctx, out, false);
	lenpos = frame_part_begin(ctx, out, true);
	event_append_change(out, rel, op, before, after, &src, blockp);
	frame_part_end(ctx, out, lenpos);
	if (header && data->opts.format == CDC_FORMAT_KAFKA && data->opts.headers)
	{
		data->header_name = header;
		event_append_key_payload(&data->header_value, rel, header_key);
	}
	frame_end(ctx);
}

static void
skip_change(LogicalDecodingContext *ctx)
{
	CdcDecodingData *data = ctx->output_plugin_private;

	/* keep the walsender's timeout at bay through long filtered stretches */
	if (++data->skipped_changes >= CHANGES_PER_PROGRESS)
	{
		OutputPluginUpdateProgress(ctx, false);
		data->skipped_changes = 0;
	}
}

static void
cdc_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		   Relation relation, ReorderBufferChange *change)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	TupleDesc	desc = RelationGetDescr(relation);
	bool		identity_only =
		relation->rd_rel->relreplident != REPLICA_IDENTITY_FULL;
	MemoryContext oldcxt;
	CdcRelation *rel;
	CdcRow		oldrow;
	CdcRow		newrow;
	bool		has_old = false;
	bool		has_new = false;
	uint64		seq = reserve_seq(txn, 2);	/* even when filtered out */

	txn_delivered(txn, change->lsn);
	oldcxt = MemoryContextSwitchTo(data->change_cxt);
	rel = relcache_get(relation);
	if (!rel->wanted)
	{
		skip_change(ctx);
		goto done;
	}

	if (change->data.tp.oldtuple)
	{
		event_deform(&oldrow, CHANGE_TUPLE(change->data.tp.oldtuple), desc,
					 identity_only);
		has_old = true;
	}
	if (change->data.tp.newtuple)
	{
		event_deform(&newrow, CHANGE_TUPLE(change->data.tp.newtuple), desc, false);
		has_new = true;
	}

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			if (has_new)
				write_change(ctx, txn, rel, 'c', change->lsn, seq, &newrow,
							 NULL, &newrow, NULL, NULL);
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			if (!has_new)
				break;
			if (has_old)
				event_fill_unchanged_toast(rel, &newrow, &oldrow);
			if (has_old && rel->nkey > 0 &&
				!event_keys_equal(rel, &oldrow, &newrow))
			{
				/*
				 * The key changed: as Debezium, a delete of the old key (the
				 * sidecar follows it with a tombstone) and a create of the
				 * new, so that compacted topics keep one row per key.
				 */
				write_change(ctx, txn, rel, 'd', change->lsn, seq, &oldrow,
							 &oldrow, NULL, "__debezium.newkey", &newrow);
				write_change(ctx, txn, rel, 'c', change->lsn, seq + 1, &newrow,
							 NULL, &newrow, "__debezium.oldkey", &oldrow);
			}
			else
				write_change(ctx, txn, rel, 'u', change->lsn, seq, &newrow,
							 has_old ? &oldrow : NULL, &newrow, NULL, NULL);
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			/* under REPLICA IDENTITY NOTHING there is no old tuple at all */
			write_change(ctx, txn, rel, 'd', change->lsn, seq,
						 has_old ? &oldrow : NULL,
						 has_old ? &oldrow : NULL, NULL, NULL, NULL);
			break;
		default:
			Assert(false);
	}

done:
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(data->change_cxt);
}

static void
cdc_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			 int nrelations, Relation relations[], ReorderBufferChange *change)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	MemoryContext oldcxt;
	uint64		seq = reserve_seq(txn, nrelations);	/* one each, as ever */

	txn_delivered(txn, change->lsn);
	if (!data->opts.include_truncate)
		return;

	oldcxt = MemoryContextSwitchTo(data->change_cxt);
	for (int i = 0; i < nrelations; i++)
	{
		Form_pg_class form = relations[i]->rd_rel;
		CdcRelation *rel;

		/*
		 * A partitioned table's truncate lists it and its partitions.  As
		 * pgoutput: via the root, only the root's event (a partition
		 * truncated alone has none: the root's topic would say the whole
		 * table was emptied); else only the partitions', which have rows.
		 */
		if (data->opts.publish_via_root ? form->relispartition :
			form->relkind == RELKIND_PARTITIONED_TABLE)
			continue;
		rel = relcache_get(relations[i]);
		if (rel->wanted)
			write_change(ctx, txn, rel, 't', change->lsn, seq + i, NULL, NULL, NULL,
						 NULL, NULL);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(data->change_cxt);
}

#define OUTBOX_MAX_DEPTH 1000		/* nesting levels of an outbox payload */

/* As emit() checks it: 1 to 249 of [A-Za-z0-9._-]. */
static bool
outbox_topic_valid(const char *topic, size_t len)
{
	if (len < 1 || len > 249)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!topic_char_valid((unsigned char) topic[i]))
			return false;
	return true;
}

/*
 * The payload becomes the event's value as it is: it must be JSON.  The
 * parser recurses per nesting level and raises an ERROR past the stack
 * limit, which would stop the slot: more than OUTBOX_MAX_DEPTH levels are
 * refused before parsing.
 */
static bool
outbox_payload_valid(const char *payload, size_t len)
{
	JsonLexContext *lex;
	bool		in_string = false;
	int			depth = 0;
	bool		ok;

	for (size_t i = 0; i < len; i++)
	{
		char		c = payload[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if ((c == '[' || c == '{') && ++depth > OUTBOX_MAX_DEPTH)
			return false;
		else if (c == ']' || c == '}')
			depth--;
	}
#if PG_VERSION_NUM >= 170000
	lex = makeJsonLexContextCstringLen(NULL, payload, len,
									   GetDatabaseEncoding(), false);
	ok = pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS;
	freeJsonLexContext(lex);
#else
	lex = makeJsonLexContextCstringLen((char *) payload, (int) len,
									   GetDatabaseEncoding(), false);
	ok = pg_parse_json(lex, &nullSemAction) == JSON_SUCCESS;
	pfree(lex);
#endif
	return ok;
}

/*
 * An outbox event from cdc_kafka.emit(): the message content is
 * "<topic>\n<payload json>\n<key>", and the event goes to that topic with
 * the key as a JSON string and the payload as its value, unwrapped, as
 * Debezium's outbox event router would publish it.
 */
static void
write_outbox(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			 XLogRecPtr lsn, uint64 seq, const char *message, Size size)
{
	const char *end = message + size;
	const char *topic_end = memchr(message, '\n', size);
	const char *payload_end;
	StringInfo	out;
	int			lenpos;

	payload_end = topic_end ? memchr(topic_end + 1, '\n', end - topic_end - 1) : NULL;
	if (payload_end == NULL ||
		!outbox_topic_valid(message, topic_end - message) ||
		!outbox_payload_valid(topic_end + 1, payload_end - topic_end - 1))
	{
		/* not from emit(), which checks both: an ERROR would stop the slot */
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("skipping a malformed cdc_kafka outbox message"),
				 errdetail("The message at %X/%X is not \"topic\\npayload\\nkey\" with a valid Kafka topic name and a JSON payload.",
						   LSN_FORMAT_ARGS(lsn)),
				 errhint("Write outbox events with cdc_kafka.emit().")));
		return;
	}

	count_event(ctx, txn);
	out = frame_begin(ctx, 'E', 'o', txn->end_lsn, lsn, seq,
					  message, topic_end - message);
	lenpos = frame_part_begin(ctx, out, false);
	jsonbuf_append_string(out, payload_end + 1, end - payload_end - 1);
	frame_part_end(ctx, out, lenpos);
	lenpos = frame_part_begin(ctx, out, true);
	jsonbuf_append_json(out, topic_end + 1, payload_end - topic_end - 1);
	frame_part_end(ctx, out, lenpos);
	frame_end(ctx);
}

static void
cdc_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
			XLogRecPtr message_lsn, bool transactional, const char *prefix,
			Size message_size, const char *message)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	MemoryContext oldcxt;
	CdcSource	src;
	XLogRecPtr	commit_lsn;
	StringInfo	out;
	uint64		seq = transactional ? reserve_seq(txn, 1) : 1;
	int			lenpos;

	if (transactional)
		txn_delivered(txn, message_lsn);
	if (transactional && strcmp(prefix, CDC_OUTBOX_PREFIX) == 0)
	{
		write_outbox(ctx, txn, message_lsn, seq, message, message_size);
		return;
	}
	if (!data->opts.include_messages ||
		!options_message_wanted(&data->opts, prefix))
		return;

	oldcxt = MemoryContextSwitchTo(data->change_cxt);
	src.snapshot = "false";
	src.lsn = message_lsn;
	if (transactional)
	{
		count_event(ctx, txn);
		commit_lsn = txn->end_lsn;
		src.commit_time = txn->xact_time.commit_time;
		src.xid = txn->xid;
		src.last_commit_lsn = data->last_commit_lsn;
	}
	else
	{
		/*
		 * A message outside any transaction is its own unit: it is
		 * confirmed at its own LSN, and Debezium stamps it with the time it
		 * was seen.
		 */
		commit_lsn = message_lsn;
		src.commit_time = GetCurrentTimestamp();
		src.xid = InvalidTransactionId;
		/* a unit of its own, as a transaction's commit: Debezium's too */
		data->last_commit_lsn = message_lsn;
		src.last_commit_lsn = message_lsn;
	}

	out = frame_begin(ctx, 'E', 'm', commit_lsn, message_lsn, seq,
					  data->message_topic, strlen(data->message_topic));
	lenpos = frame_part_begin(ctx, out, false);
	event_append_message_key(out, prefix);
	frame_part_end(ctx, out, lenpos);
	lenpos = frame_part_begin(ctx, out, true);
	event_append_message(out, prefix, message, message_size, &src);
	frame_part_end(ctx, out, lenpos);
	frame_end(ctx);

	if (!transactional)
		write_unit_end(ctx, commit_lsn, 1);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(data->change_cxt);
}

typedef struct CdcCollectionOrder
{
	CdcCollectionCount *cc;
	uint32		bucket;
	int			seen;			/* order of first event */
} CdcCollectionOrder;

static int
collection_order_cmp(const void *a, const void *b)
{
	const CdcCollectionOrder *x = a;
	const CdcCollectionOrder *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->seen - y->seen;
}

/*
 * The END event's data_collections array, in Debezium's order: that of a
 * java.util.HashMap keyed by "schema.table".
 */
static char *
collections_json(CdcTxnData *txndata)
{
	StringInfoData buf;
	ListCell   *lc;
	int			n = list_length(txndata->collections_seen);
	CdcCollectionOrder *order = palloc(sizeof(CdcCollectionOrder) * Max(n, 1));

	foreach(lc, txndata->collections_seen)
	{
		CdcCollectionCount *cc = lfirst(lc);
		int			i = foreach_current_index(lc);

		order[i].cc = cc;
		order[i].bucket = typemap_java_bucket(typemap_java_hash(cc->qualified,
																strlen(cc->qualified)), n);
		order[i].seen = i;
	}
	qsort(order, n, sizeof(CdcCollectionOrder), collection_order_cmp);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < n; i++)
	{
		CdcCollectionCount *cc = order[i].cc;

		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, "{\"data_collection\":");
		jsonbuf_append_cstring(&buf, cc->qualified);
		appendStringInfo(&buf, ",\"event_count\":" INT64_FORMAT "}",
						 cc->count);
	}
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

static void
cdc_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
		   XLogRecPtr commit_lsn)
{
	CdcDecodingData *data = ctx->output_plugin_private;
	CdcTxnData *txndata = txn->output_plugin_private;

	/* as pgoutput: lets the walsender confirm progress past empty ones */
	OutputPluginUpdateProgress(ctx, txndata->events == 0);

	if (txndata->events > 0)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(data->txn_cxt);

		if (data->opts.include_transaction)
			write_txn_status(ctx, txn, txndata, collections_json(txndata));
		write_unit_end(ctx, txn->end_lsn, txndata->events);
		MemoryContextSwitchTo(oldcxt);
	}

	/* what Debezium's stream takes as its last commit (pgoutput skips the rest) */
	if (txndata->delivered)
		data->last_commit_lsn = txn->end_lsn;
	txn->output_plugin_private = NULL;
	MemoryContextReset(data->txn_cxt);
}
