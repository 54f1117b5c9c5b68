/*-------------------------------------------------------------------------
 * snapshot.c
 *	  cdc_kafka.snapshot_events(): a table's rows as Debezium "r" events.
 *
 * The sidecar runs this inside the snapshot exported by the slot's
 * creation, so that the rows it returns and the changes decoded after
 * them meet without a gap or an overlap.  Events are formatted by event.c,
 * exactly as streamed changes are; only source.snapshot and op differ.
 * Results go through a tuplestore, which spills to disk past work_mem.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xlog.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "event.h"
#include "options.h"
#include "relcache.h"

PG_FUNCTION_INFO_V1(snapshot_events);

/* Options given as {name, value, name, value, ...}. */
static void
snapshot_parse_options(CdcOptions *opts, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must be a one-dimensional array of name, value pairs")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	if (nelems % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options must hold name, value pairs"),
				 errhint("For example '{schemas,false}'.")));
	for (int i = 0; i < nelems; i += 2)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("option name must not be null")));
		options_set(opts, TextDatumGetCString(elems[i]),
					nulls[i + 1] ? NULL : TextDatumGetCString(elems[i + 1]));
	}
}

typedef struct SnapshotOutput
{
	ReturnSetInfo *rsinfo;
	CdcSource	src;
	MemoryContext row_cxt;		/* reset after each row */
	StringInfoData key;
	StringInfoData value;
} SnapshotOutput;

/*
 * A row read from the table holds its out-of-line values as TOAST pointers,
 * which in a decoded change mean "unchanged" (Debezium's placeholder):
 * fetch them, so that a snapshot carries the values themselves.
 */
static void
snapshot_fetch_toasted(CdcRow *row, TupleDesc desc)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attlen != -1 || row->nulls[i])
			continue;
		if (VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(row->values[i])))
			row->values[i] = PointerGetDatum(detoast_external_attr(
				(struct varlena *) DatumGetPointer(row->values[i])));
	}
}

/* The error the sidecar takes as "skip this table" (SQLSTATE 22023). */
static void
snapshot_excluded(const char *relname)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("table \"%s\" is excluded by the given options", relname)));
}

/*
 * source.snapshot of a table's row: with a snapshot LSN, Debezium 2.7's
 * marks of a table's first and last rows ("last" for the very last row of
 * the snapshot is the sidecar's, which alone knows it, unless mark_last).
 */
static const char *
snapshot_mark(const CdcOptions *opts, bool first, bool final, bool mark_last)
{
	if (final && mark_last)
		return "last";
	if (XLogRecPtrIsInvalid(opts->snapshot_lsn))
		return "true";
	if (final)
		return "last_in_data_collection";
	return first ? "first_in_data_collection" : "true";
}

static void
snapshot_put_row(SnapshotOutput *out, Relation relation, HeapTuple tuple,
				 const char *mark)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(out->row_cxt);
	CdcRelation *rel = relcache_get(relation);
	CdcRow		row;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (!rel->wanted)
		snapshot_excluded(RelationGetRelationName(relation));

	event_deform(&row, tuple, RelationGetDescr(relation), false);
	snapshot_fetch_toasted(&row, RelationGetDescr(relation));
	out->src.snapshot = mark;

	resetStringInfo(&out->key);
	resetStringInfo(&out->value);
	if (rel->nkey > 0)
		event_append_key(&out->key, rel, &row);
	event_append_change(&out->value, rel, 'r', NULL, &row, &out->src, NULL);

	values[0] = PointerGetDatum(cstring_to_text_with_len(rel->topic, rel->topic_len));
	if (rel->nkey > 0)
		values[1] = PointerGetDatum(cstring_to_text_with_len(out->key.data, out->key.len));
	else
		nulls[1] = true;
	values[2] = PointerGetDatum(cstring_to_text_with_len(out->value.data, out->value.len));
	tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc,
						 values, nulls);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(out->row_cxt);
}

Datum
snapshot_events(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	bool		mark_last = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);
	CdcOptions *opts;
	SnapshotOutput out;
	List	   *relids;
	List	   *opened = NIL;
	ListCell   *lc;
	Relation	pending_rel = NULL;
	HeapTuple	pending = NULL;
	MemoryContext pending_cxt;
	uint64		nrows = 0;		/* rows read so far, the pending one included */

	InitMaterializedSRF(fcinfo, 0);

	/* the caches below keep a pointer to the options: not on the stack */
	opts = palloc(sizeof(CdcOptions));
	options_init(opts);
	if (!PG_ARGISNULL(1))
		options_set(opts, "topic-prefix", text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!PG_ARGISNULL(2))
		snapshot_parse_options(opts, PG_GETARG_ARRAYTYPE_P(2));
	event_init(opts);
	relcache_init(CurrentMemoryContext, opts);

	/*
	 * A table the options leave out is skipped by the sidecar, whatever
	 * else would be wrong with reading it: say so first.
	 */
	if (!relcache_table_wanted(relid))
		snapshot_excluded(get_rel_name(relid));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid))));
	/* the scan below reads the heap: it could not apply the policies */
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("snapshot_events cannot apply the row-level security policies of table %s",
						get_rel_name(relid)),
				 errhint("Run it as a role the policies do not apply to: a superuser, a role with BYPASSRLS, or the owner unless the table forces row-level security.")));

	memset(&out, 0, sizeof(out));
	out.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	out.src.commit_time = GetCurrentTransactionStartTimestamp();
	out.src.last_commit_lsn = InvalidXLogRecPtr;
	out.src.lsn = opts->snapshot_lsn;
	/*
	 * Debezium's snapshot reads carry the id of the transaction reading; a
	 * standby (16+) can assign none, so there they carry none (null txId)
	 */
	out.src.xid = XLogRecPtrIsInvalid(opts->snapshot_lsn) || RecoveryInProgress() ?
		InvalidTransactionId : GetTopTransactionId();
	out.row_cxt = AllocSetContextCreate(CurrentMemoryContext,
										"cdc_kafka snapshot row",
										ALLOCSET_DEFAULT_SIZES);
	pending_cxt = AllocSetContextCreate(CurrentMemoryContext,
										"cdc_kafka snapshot pending row",
										ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&out.key);
	initStringInfo(&out.value);

	/*
	 * A partitioned table is read through its leaves.  Leaves stay open
	 * (and locked, as they would be anyway) until the end, because the row
	 * held back to be marked "last" is rendered with its leaf's descriptor.
	 * An inheritance parent is read alone, as the stream sees it: its
	 * children are tables with topics (and privileges) of their own.
	 */
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		relids = find_all_inheritors(relid, AccessShareLock, NULL);
	else
		relids = list_make1_oid(relid);
	foreach(lc, relids)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);
		TableScanDesc scan;
		TupleTableSlot *slot;

		opened = lappend(opened, rel);
		if (!RELKIND_HAS_STORAGE(rel->rd_rel->relkind))
			continue;

		scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
		slot = table_slot_create(rel, NULL);
		while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			bool		should_free;
			HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, &should_free);
			MemoryContext oldcxt;

			CHECK_FOR_INTERRUPTS();
			if (pending)
				snapshot_put_row(&out, pending_rel, pending,
								 snapshot_mark(opts, nrows == 1, false, false));
			nrows++;
			MemoryContextReset(pending_cxt);
			oldcxt = MemoryContextSwitchTo(pending_cxt);
			pending = heap_copytuple(tuple);
			MemoryContextSwitchTo(oldcxt);
			pending_rel = rel;
			if (should_free)
				heap_freetuple(tuple);
		}
		ExecDropSingleTupleTableSlot(slot);
		table_endscan(scan);
	}
	if (pending)
		snapshot_put_row(&out, pending_rel, pending,
						 snapshot_mark(opts, nrows == 1, true, mark_last));
	foreach(lc, opened)
		table_close((Relation) lfirst(lc), NoLock);

	return (Datum) 0;
}
