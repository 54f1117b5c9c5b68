/*-------------------------------------------------------------------------
 * relcache.c
 *	  The plugin's cache of per-relation publishing state.
 *
 * Everything an event needs that depends only on a table's definition is
 * derived here once: which columns are published and how their types map,
 * the key columns, the topic, and the text of the key and envelope schema
 * blocks.  Invalidation callbacks (registered once per backend, since they
 * cannot be unregistered) only mark entries stale, as pgoutput does: they
 * may fire in the middle of a change, when freeing would be unsafe.  The
 * stale ones are dropped at the next transaction's start.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/sysattr.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/ruleutils.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "event.h"
#include "jsonbuf.h"
#include "relcache.h"

static HTAB *relation_cache = NULL;
static MemoryContext relation_cache_cxt = NULL;
static const CdcOptions *relation_cache_opts = NULL;
static int	relation_cache_stale = 0;	/* marked stale since the last sweep */

static void
relcache_invalidate_cb(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	CdcRelation *entry;

	if (relation_cache == NULL)
		return;

	/*
	 * A change to a partition root must reach the entries of its partitions,
	 * which carry the root's schema; the cache is small, so scan it all.
	 */
	hash_seq_init(&seq, relation_cache);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (entry->valid && (!OidIsValid(relid) || entry->relid == relid ||
							 entry->publish_relid == relid))
		{
			entry->valid = false;
			relation_cache_stale++;
		}
	}
}

/* An enum's labels or a domain's base may change: rebuild everything. */
static void
relcache_type_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	relcache_invalidate_cb(arg, InvalidOid);
}

/* The cache dies with the decoding context; forget the pointers with it. */
static void
relcache_reset_cb(void *arg)
{
	relation_cache = NULL;
	relation_cache_cxt = NULL;
	relation_cache_opts = NULL;
	relation_cache_stale = 0;
}

void
relcache_init(MemoryContext parent, const CdcOptions *opts)
{
	static bool callbacks_registered = false;
	MemoryContextCallback *reset_cb;
	HASHCTL		ctl;

	relation_cache_cxt = AllocSetContextCreate(parent, "cdc_kafka relations",
											   ALLOCSET_DEFAULT_SIZES);
	relation_cache_opts = opts;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(CdcRelation);
	ctl.hcxt = relation_cache_cxt;
	relation_cache = hash_create("cdc_kafka relation cache", 64, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	reset_cb = MemoryContextAlloc(relation_cache_cxt, sizeof(MemoryContextCallback));
	reset_cb->func = relcache_reset_cb;
	reset_cb->arg = NULL;
	MemoryContextRegisterResetCallback(relation_cache_cxt, reset_cb);

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relcache_invalidate_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(TYPEOID, relcache_type_cb, (Datum) 0);
		/* ALTER TYPE ... ADD VALUE touches only pg_enum */
		CacheRegisterSyscacheCallback(ENUMOID, relcache_type_cb, (Datum) 0);
		callbacks_registered = true;
	}
}

/*
 * An index's key columns, as RelationGetIndexAttrBitmap() numbers them,
 * read from pg_index alone.  RelationGetIndexAttrBitmap() opens the indexes
 * with a lock, and a committing transaction that holds one (REINDEX) may be
 * waiting for this very slot's consumer as synchronous standby: the
 * walsender would wait for the lock and the commit for ever (pgoutput uses
 * RelationGetIdentityKeyBitmap() for the same reason).
 */
static Bitmapset *
index_key_attributes(Oid indexoid)
{
	HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index index;
	Bitmapset  *attrs = NULL;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	index = (Form_pg_index) GETSTRUCT(tuple);
	for (int i = 0; i < index->indnkeyatts; i++)
	{
		AttrNumber	attnum = index->indkey.values[i];

		/* an expression column (0) cannot be in a key or an identity */
		if (attnum != 0)
			attrs = bms_add_member(attrs, attnum - FirstLowInvalidHeapAttributeNumber);
	}
	ReleaseSysCache(tuple);
	return attrs;
}

/*
 * The key: the primary key, as Debezium's, else the replica identity
 * index, else none.  But when REPLICA IDENTITY USING INDEX names an index
 * that does not hold every primary key column, the WAL of a delete (or of
 * an update of the identity) carries no primary key value: a key built
 * from it would be the type's zero value, and a change of the identity
 * would look like a change of the key.  Such a table is keyed by its
 * replica identity index, whose values every event carries.
 */
static Bitmapset *
key_attributes(Relation rel)
{
	Bitmapset  *pkey = NULL;
	Bitmapset  *identity = NULL;

	/* fills rd_pkindex and rd_replidindex */
	list_free(RelationGetIndexList(rel));
	if (OidIsValid(rel->rd_pkindex))
		pkey = index_key_attributes(rel->rd_pkindex);
	if (rel->rd_rel->relreplident == REPLICA_IDENTITY_INDEX &&
		OidIsValid(rel->rd_replidindex))
		identity = index_key_attributes(rel->rd_replidindex);
	if (identity == NULL || (pkey != NULL && bms_is_subset(pkey, identity)))
	{
		bms_free(identity);
		return pkey;
	}
	bms_free(pkey);
	return identity;
}

/* 0-based attribute of column attname in desc, or -1. */
static int
find_attribute(TupleDesc desc, const char *attname)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), attname) == 0)
			return i;
	}
	return -1;
}

static bool
is_user_function(Oid funcid, void *context)
{
	return funcid >= FirstGenbkiObjectId;
}

/* Does the expression call a function (or an I/O function) not built in? */
static bool
calls_user_function(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, is_user_function, context))
		return true;
	return expression_tree_walker(node, calls_user_function, context);
}

/* The expression under its casts (numeric(6,2) DEFAULT 1.5 is a cast). */
static Node *
strip_casts(Node *node)
{
	for (;;)
	{
		if (IsA(node, RelabelType))
			node = (Node *) ((RelabelType *) node)->arg;
		else if (IsA(node, CoerceViaIO))
			node = (Node *) ((CoerceViaIO *) node)->arg;
		else if (IsA(node, CoerceToDomain))
			node = (Node *) ((CoerceToDomain *) node)->arg;
		else if (IsA(node, FuncExpr) &&
				 ((FuncExpr *) node)->funcformat != COERCE_EXPLICIT_CALL &&
				 list_length(((FuncExpr *) node)->args) >= 1)
			node = linitial(((FuncExpr *) node)->args);
		else
			return node;
	}
}

/*
 * The default Debezium derives from a default that is no constant: it
 * reads the expression's text (pg_get_expr), never runs it.  A function
 * call (nextval(...), now(), md5(...)) or an SQL value function
 * (CURRENT_DATE, LOCALTIMESTAMP) gets its type's zero value as a
 * placeholder; for a string column, any other expression gets its first
 * quoted literal (('a' || 'b') gives "a"); anything else has none.
 */
static char *
expression_default_json(Relation rel, Node *expr, const CdcType *type)
{
	List	   *dpcontext = deparse_context_for(RelationGetRelationName(rel),
												RelationGetRelid(rel));
	char	   *text = deparse_expression(expr, dpcontext, false, false);
	const char *name = text + (text[0] == '(' ? 1 : 0);
	const char *p = name;
	StringInfoData buf;

	initStringInfo(&buf);
	while (isalnum((unsigned char) *p) || *p == '_' || *p == '.')
		p++;
	if (p > name && (*p == '(' || *p == '\0'))
	{
		typemap_append_fallback(&buf, type);
		return buf.data;
	}
	if (typemap_is_string(type) && (p = strchr(text, '\'')) != NULL)
	{
		StringInfoData lit;

		initStringInfo(&lit);
		for (p++; *p && !(p[0] == '\'' && p[1] != '\''); p++)
		{
			if (p[0] == '\'' && p[1] == '\'')
				p++;
			appendStringInfoChar(&lit, *p);
		}
		jsonbuf_append_cstring(&buf, lit.data);
		return buf.data;
	}
	return NULL;
}

/*
 * A column's default as Debezium puts it in the schema: a constant's value
 * (after folding immutable casts, as in DEFAULT 7 on a numeric column), or
 * for other expressions what expression_default_json derives from their
 * text.  NULL if there is none.
 *
 * Folding runs the expression's immutable functions.  Only built-in ones:
 * a user's function could fail (or do anything) here, and decoding sees the
 * catalogs as they were, so no later fix of the function would get the slot
 * past this change.  Debezium reads the default's text and never runs it.
 * PostgreSQL also accepts defaults that fail only when used (DEFAULT 1/0, a
 * smallint DEFAULT 99999): folding runs in a subtransaction, and a default
 * that fails with a data exception (class 22) has none; any other error is
 * raised.
 */
static char *
column_default_json(Relation rel, AttrNumber attnum, const CdcType *type)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Node	   *expr = build_column_default(rel, attnum);
	char	   *json = NULL;

	if (expr == NULL)
		return NULL;
	if (!IsA(strip_casts(expr), Const))
		return expression_default_json(rel, expr, type);
	if (calls_user_function(expr, NULL))
		return NULL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		expr = eval_const_expressions(NULL, expr);
		if (IsA(expr, Const) && !((Const *) expr)->constisnull)
		{
			StringInfoData buf;

			initStringInfo(&buf);
			typemap_append_value(&buf, type, ((Const *) expr)->constvalue);
			json = buf.data;
		}
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		CurrentResourceOwner = owner;
		/* a value the default cannot have; anything else (a cancel) goes on */
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
			ReThrowError(edata);
		FreeErrorData(edata);
		json = NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return json;
}

/*
 * A schema or table name as part of a topic name.  Kafka allows only
 * [a-zA-Z0-9._-]; like Debezium's topic naming, every other character
 * becomes '_', one per UTF-16 unit (two for a character beyond U+FFFF),
 * so that both name the same topic.  Characters are counted in UTF-8,
 * which a SQL_ASCII database's names usually are; a byte that is not
 * UTF-8 counts as one.
 */
void
relcache_append_topic_part(StringInfo buf, const char *name)
{
	size_t		len = strlen(name);
	const unsigned char *s = (const unsigned char *) pg_server_to_any(name, len, PG_UTF8);
	const unsigned char *end = s + strlen((const char *) s);

	while (s < end)
	{
		unsigned char c = *s;
		int			n = pg_utf_mblen(s);

		if (topic_char_valid(c))
			appendStringInfoChar(buf, (char) c);
		else
		{
			if (n > end - s || !pg_utf8_islegal(s, n))
				n = 1;
			appendStringInfoChar(buf, '_');
			if (n == 4)
				appendStringInfoChar(buf, '_');
		}
		s += n;
	}
}

/*
 * The relation whose schema and name a relation's changes publish under:
 * itself, or with publish-via-partition-root its partition root.
 */
static Oid
relcache_publish_relid(Oid relid, bool relispartition)
{
	if (relation_cache_opts->publish_via_root && relispartition)
		return llast_oid(get_partition_ancestors(relid));
	return relid;
}

/* Do the options publish relid's changes?  From the catalogs alone. */
bool
relcache_table_wanted(Oid relid)
{
	Oid			pubrelid = relcache_publish_relid(relid, get_rel_relispartition(relid));

	return options_table_wanted(relation_cache_opts,
								get_namespace_name(get_rel_namespace(pubrelid)),
								get_rel_name(pubrelid));
}

static void
relcache_build(CdcRelation *entry, Relation rel)
{
	const CdcOptions *opts = relation_cache_opts;
	Relation	pubrel = rel;
	TupleDesc	pubdesc;
	TupleDesc	desc = RelationGetDescr(rel);
	Bitmapset  *keyattrs;
	StringInfoData fields;
	StringInfoData keyfields;
	char	   *nspname;
	char	   *relname;
	MemoryContext oldcxt;

	if (entry->cxt)
		MemoryContextDelete(entry->cxt);
	entry->cxt = AllocSetContextCreate(relation_cache_cxt, "cdc_kafka relation",
									   ALLOCSET_SMALL_SIZES);
	oldcxt = MemoryContextSwitchTo(entry->cxt);

	entry->publish_relid = relcache_publish_relid(RelationGetRelid(rel),
												  rel->rd_rel->relispartition);
	if (entry->publish_relid != RelationGetRelid(rel))
	{
		pubrel = RelationIdGetRelation(entry->publish_relid);
		if (!RelationIsValid(pubrel))
			elog(ERROR, "could not open partition root %u",
				 entry->publish_relid);
	}
	pubdesc = RelationGetDescr(pubrel);

	nspname = get_namespace_name(RelationGetNamespace(pubrel));
	relname = pstrdup(RelationGetRelationName(pubrel));
	entry->wanted = options_table_wanted(opts, nspname, relname);
	entry->valid = true;
	if (!entry->wanted)
	{
		if (pubrel != rel)
			RelationClose(pubrel);
		MemoryContextSwitchTo(oldcxt);
		return;
	}

	{
		StringInfoData topic;

		initStringInfo(&topic);
		appendStringInfo(&topic, "%s.", opts->topic_prefix);
		relcache_append_topic_part(&topic, nspname);
		appendStringInfoChar(&topic, '.');
		relcache_append_topic_part(&topic, relname);
		entry->topic = topic.data;
		entry->topic_len = topic.len;
	}
	entry->qualified = psprintf("%s.%s", nspname, relname);
	{
		StringInfoData names;

		initStringInfo(&names);
		appendStringInfoString(&names, ",\"schema\":");
		jsonbuf_append_cstring(&names, nspname);
		appendStringInfoString(&names, ",\"table\":");
		jsonbuf_append_cstring(&names, relname);
		entry->source_names = names.data;
	}

	/*
	 * Columns in the published table's order.  Dropped columns are gone,
	 * and generated columns are skipped: PostgreSQL 15 does not decode
	 * them, as pgoutput and so Debezium do not publish them.
	 */
	keyattrs = key_attributes(pubrel);
	entry->columns = palloc0(pubdesc->natts * sizeof(CdcColumn));
	entry->key = palloc0(pubdesc->natts * sizeof(int));
	entry->ncolumns = 0;
	entry->nkey = 0;
	initStringInfo(&fields);
	initStringInfo(&keyfields);
	for (int i = 0; i < pubdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(pubdesc, i);
		CdcColumn  *col;
		char	   *name_lit;

		if (att->attisdropped || att->attgenerated)
			continue;

		col = &entry->columns[entry->ncolumns];
		col->attoff = (pubrel == rel) ? i :
			find_attribute(desc, NameStr(att->attname));
		if (col->attoff < 0)
			elog(ERROR, "column \"%s\" of \"%s\" is missing from partition \"%s\"",
				 NameStr(att->attname), relname, RelationGetRelationName(rel));
		col->notnull = att->attnotnull;
		col->in_key = bms_is_member(att->attnum - FirstLowInvalidHeapAttributeNumber,
									keyattrs);
		typemap_resolve(&col->type, att->atttypid, att->atttypmod, opts);

		name_lit = jsonbuf_quote(NameStr(att->attname));
		col->name_json = psprintf("%s:", name_lit);

		if (entry->ncolumns > 0)
			appendStringInfoChar(&fields, ',');
		col->default_json = att->atthasdef ?
			column_default_json(pubrel, att->attnum, &col->type) : NULL;
		typemap_append_schema(&fields, &col->type, !col->notnull && !col->in_key,
							  col->default_json, name_lit);
		if (col->in_key)
		{
			if (entry->nkey > 0)
				appendStringInfoChar(&keyfields, ',');
			typemap_append_schema(&keyfields, &col->type, false,
								  col->default_json, name_lit);
			entry->key[entry->nkey++] = entry->ncolumns;
		}
		entry->ncolumns++;
	}

	entry->key_schema = entry->nkey > 0 ?
		event_key_schema(entry->topic, keyfields.data) : NULL;
	entry->value_schema = event_value_schema(entry->topic, fields.data);

	if (pubrel != rel)
		RelationClose(pubrel);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Drops the stale entries.  Nothing else would: a dropped table's entry is
 * never looked up again, and a walsender lives as long as its slot is read,
 * so a table per day dropped after its retention would grow the cache for
 * ever.  A stale entry of a live table is rebuilt at its next change, as it
 * would have been anyway.  Call it only when no entry is in use.
 */
void
relcache_forget_stale(void)
{
	HASH_SEQ_STATUS seq;
	CdcRelation *entry;

	if (relation_cache == NULL || relation_cache_stale == 0)
		return;
	hash_seq_init(&seq, relation_cache);
	while ((entry = hash_seq_search(&seq)) != NULL)
	{
		if (entry->valid)
			continue;
		if (entry->cxt)
			MemoryContextDelete(entry->cxt);
		/* dynahash allows removing the entry a scan just returned */
		hash_search(relation_cache, &entry->relid, HASH_REMOVE, NULL);
	}
	relation_cache_stale = 0;
}

CdcRelation *
relcache_get(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	CdcRelation *entry;
	bool		found;

	Assert(relation_cache != NULL);
	entry = hash_search(relation_cache, &relid, HASH_ENTER, &found);
	if (!found)
	{
		entry->cxt = NULL;
		entry->valid = false;
	}
	if (!entry->valid)
		relcache_build(entry, rel);
	return entry;
}
