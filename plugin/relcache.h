/*-------------------------------------------------------------------------
 * relcache.h
 *	  Per-relation state the plugin derives once from the catalogs: the
 *	  published columns and their types, the key, the topic, and the text
 *	  of the key and value schema blocks.
 *
 * Entries live in a hash table keyed by the OID of the relation a change
 * arrives for (a partition, when partitions publish as their root).  A
 * relcache or type invalidation only marks an entry stale; the next lookup
 * rebuilds it, so ALTER TABLE mid-stream changes the next event's schema.
 * Stale entries are dropped between transactions (relcache_forget_stale),
 * so the entries of dropped tables do not pile up.
 *-------------------------------------------------------------------------
 */
#ifndef CDC_KAFKA_RELCACHE_H
#define CDC_KAFKA_RELCACHE_H

#include "utils/rel.h"

#include "options.h"
#include "typemap.h"

typedef struct CdcColumn
{
	int			attoff;			/* 0-based attribute of the changed relation */
	bool		notnull;
	bool		in_key;
	char	   *name_json;		/* "name": as a quoted JSON key and colon */
	char	   *default_json;	/* the schema's "default" value, or NULL */
	CdcType		type;
} CdcColumn;

typedef struct CdcRelation
{
	Oid			relid;			/* hash key: the relation changes arrive for */
	bool		valid;			/* false once an invalidation touched it */
	bool		wanted;			/* passes include/exclude filters */
	Oid			publish_relid;	/* relid, or its partition root */
	MemoryContext cxt;			/* holds everything below; dropped on rebuild */

	char	   *topic;			/* <prefix>.<schema>.<table> */
	int			topic_len;
	char	   *qualified;		/* schema.table, for transaction metadata */
	/* ,"schema":"...","table":"..." pre-rendered for the source block */
	char	   *source_names;

	int			ncolumns;		/* published columns, in the root's order */
	CdcColumn  *columns;
	int			nkey;			/* 0: the events carry a null key */
	int		   *key;			/* indexes into columns[] */

	char	   *key_schema;		/* whole Key schema object; NULL if no key */
	char	   *value_schema;	/* whole Envelope schema object */
} CdcRelation;

extern void relcache_init(MemoryContext parent, const CdcOptions *opts);
extern CdcRelation *relcache_get(Relation rel);
extern void relcache_forget_stale(void);
extern bool relcache_table_wanted(Oid relid);
extern void relcache_append_topic_part(StringInfo buf, const char *name);

#endif							/* CDC_KAFKA_RELCACHE_H */
