/*-------------------------------------------------------------------------
 *
 * delta_log.c
 *	  Delta log replay and commits (see delta_log.h).
 *
 * Replay follows PROTOCOL.md "Action Reconciliation": the latest protocol
 * and metaData win, the latest txn version per appId wins, and a path is
 * live when its latest action is an add.  Replay starts from the newest
 * complete classic checkpoint when there is one (delta_checkpoint_read.c
 * decodes it and feeds its actions to the same apply functions as JSON
 * replay), then reads the JSON commits after it; they must follow it
 * without a gap.  An unreadable checkpoint falls back to the next older
 * complete one, then to JSON replay from version 0 (see delta_replay_log).
 *
 * Every byte goes through the object store (objstore.h), so a table lives
 * on a local file system or on S3 alike.  A commit is the store's
 * put-if-absent of <version>.json (link() of a fsynced temporary file
 * locally, PUT If-None-Match: * on S3): it fails when the version exists,
 * which is the mutual exclusion Delta requires, and readers never see a
 * partial commit because the object appears only complete.  Checkpoints
 * and _last_checkpoint are ordinary puts (complete or absent; the protocol
 * lets _last_checkpoint be overwritten); a version checksum (.crc) is
 * put-if-absent after its commit (never overwritten).
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wctype.h>

#include <openssl/evp.h>

#include <json-c/json.h>

#include "bytebuf.h"
#include "clock.h"
#include "delta_checkpoint.h"
#include "delta_log.h"
#include "json_out.h"
#include "objstore.h"

#define DELTA_ENGINE_INFO "cdc_kafka/1.0"
#define DELTA_VERSION_DIGITS 20

/* a field's column mapping metadata (PROTOCOL.md "Column Mapping") */
#define DELTA_CM_FIELD_ID "delta.columnMapping.id"
#define DELTA_CM_FIELD_NAME "delta.columnMapping.physicalName"

typedef struct DeltaFileEntry
{
	char	   *path;
	int64_t		size;
	int64_t		modification_time;
	char	   *stats;			/* JSON text or NULL */
	bool		live;
} DeltaFileEntry;

/* String keys and values (configuration, format options), owned. */
typedef struct DeltaStrMap
{
	char	  **keys;
	char	  **values;
	int			n;
} DeltaStrMap;

typedef struct DeltaTxnEntry
{
	char	   *app_id;
	int64_t		version;
	int64_t		last_updated;
} DeltaTxnEntry;

struct DeltaTable
{
	ObjStore   *store;			/* where the table lives */
	bool		own_store;		/* opened by delta_open: closed with t */
	char	   *key;			/* the table's key prefix: "" or "a/b/" */
	char	   *dir;			/* for messages: store and table */
	char	   *log_dir;		/* for messages: dir + "/_delta_log" */
	int64_t		version;
	int			checkpoint_interval;

	int			min_reader;
	int			min_writer;

	/* the latest metaData, every field as read (DeltaMetadataAction) */
	char	   *meta_id;
	char	   *meta_name;		/* NULL if none */
	char	   *meta_description;	/* NULL if none */
	char	   *format_provider;	/* NULL if none: "parquet" */
	DeltaStrMap format_options;
	char	   *schema_string;
	DeltaColumn *cols;
	int			ncols;
	/*
	 * each column's field metadata but for column mapping's (a Spark
	 * column comment, say) as a JSON object's text, NULL if none: kept
	 * when a new schema is written
	 */
	char	  **col_metadata;
	bool		generated;		/* a column has delta.generationExpression */
	int64_t		created_time;
	DeltaStrMap config;

	DeltaFileEntry *files;
	int			nfiles;			/* entries, live or not */
	int			files_cap;
	uint32_t   *fht;			/* path hash -> entry + 1 */
	uint32_t	fht_mask;
	int		   *live;			/* dense list of live entries */
	int			nlive;
	bool		live_dirty;
	int64_t		live_count;		/* live files and their bytes, kept as */
	int64_t		live_bytes;		/* actions apply, for the .crc */

	/* a replay failed half-way: the state is no version's (no .crc) */
	bool		state_broken;

	DeltaTxnEntry *txns;
	int			ntxns;
	int			txns_cap;

	/* how delta_open replayed the log, for the caller to log */
	char		notice[1024];
	bool		notice_is_warning;
};

/* ---------- small helpers ---------- */

static void delta_new_uuid(char *out);

static uint32_t
delta_str_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t) *s) * 16777619u;
	return h;
}

/* The key of a file in the table's _delta_log. */
static void
delta_log_key(const DeltaTable *t, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s_delta_log/%s", t->key, name);
}

static void
delta_commit_name(int64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%020" PRId64 ".json", v);
}

static void
delta_free_schema(DeltaTable *t)
{
	for (int i = 0; i < t->ncols; i++)
	{
		free(t->cols[i].name);
		free(t->cols[i].type);
		free(t->cols[i].physical_name);
		free(t->col_metadata[i]);
	}
	free(t->cols);
	free(t->col_metadata);
	t->cols = NULL;
	t->col_metadata = NULL;
	t->ncols = 0;
	free(t->schema_string);
	t->schema_string = NULL;
}

static void
delta_map_free(DeltaStrMap *m)
{
	for (int i = 0; i < m->n; i++)
	{
		free(m->keys[i]);
		free(m->values[i]);
	}
	free(m->keys);
	free(m->values);
	m->keys = m->values = NULL;
	m->n = 0;
}

/* Replaces *m with a copy of keys[0..n) and values[0..n). */
static void
delta_map_copy(DeltaStrMap *m, const char *const *keys,
			   const char *const *values, int n)
{
	delta_map_free(m);
	m->keys = bytebuf_xcalloc(n + 1, sizeof(char *));
	m->values = bytebuf_xcalloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
	{
		m->keys[i] = bytebuf_xstrdup(keys[i]);
		m->values[i] = bytebuf_xstrdup(values[i]);
	}
	m->n = n;
}

static char *
delta_strdup_or_null(const char *s)
{
	return s ? bytebuf_xstrdup(s) : NULL;
}

/* Forgets the metaData but for the schema (delta_free_schema). */
static void
delta_free_metadata(DeltaTable *t)
{
	free(t->meta_id);
	free(t->meta_name);
	free(t->meta_description);
	free(t->format_provider);
	t->meta_id = t->meta_name = t->meta_description = t->format_provider = NULL;
	delta_map_free(&t->format_options);
	delta_map_free(&t->config);
	t->created_time = DELTA_DEFAULT_CREATED_TIME;
}

/* The table's metaData as an action; pointers borrowed from t. */
static void
delta_metadata_of(const DeltaTable *t, DeltaMetadataAction *md)
{
	memset(md, 0, sizeof(*md));
	md->id = t->meta_id;
	md->name = t->meta_name;
	md->description = t->meta_description;
	md->format_provider = t->format_provider;
	md->format_option_keys = (const char *const *) t->format_options.keys;
	md->format_option_values = (const char *const *) t->format_options.values;
	md->nformat_options = t->format_options.n;
	md->schema_string = t->schema_string;
	md->config_keys = (const char *const *) t->config.keys;
	md->config_values = (const char *const *) t->config.values;
	md->nconfig = t->config.n;
	md->created_time = t->created_time;
}

bool
delta_set_config(DeltaTable *t, const char *key, const char *value)
{
	if (t->version >= 0)
		return false;
	for (int i = 0; i < t->config.n; i++)
		if (strcmp(t->config.keys[i], key) == 0)
		{
			free(t->config.values[i]);
			t->config.values[i] = bytebuf_xstrdup(value);
			return true;
		}
	t->config.keys = bytebuf_xrealloc(t->config.keys, (t->config.n + 1) * sizeof(char *));
	t->config.values = bytebuf_xrealloc(t->config.values, (t->config.n + 1) * sizeof(char *));
	t->config.keys[t->config.n] = bytebuf_xstrdup(key);
	t->config.values[t->config.n] = bytebuf_xstrdup(value);
	t->config.n++;
	return true;
}

/* ---------- state updates ---------- */

static DeltaFileEntry *
delta_file_lookup(DeltaTable *t, const char *path, bool create)
{
	uint32_t	slot;

	if (create && (t->fht == NULL || (uint32_t) (t->nfiles + 1) * 2 > t->fht_mask + 1))
	{
		uint32_t	cap = t->fht ? (t->fht_mask + 1) * 2 : 1024;

		free(t->fht);
		t->fht = calloc(cap, sizeof(uint32_t));
		if (t->fht == NULL)
			abort();
		t->fht_mask = cap - 1;
		for (int i = 0; i < t->nfiles; i++)
		{
			slot = delta_str_hash(t->files[i].path) & t->fht_mask;
			while (t->fht[slot])
				slot = (slot + 1) & t->fht_mask;
			t->fht[slot] = i + 1;
		}
	}
	if (t->fht == NULL)
		return NULL;
	slot = delta_str_hash(path) & t->fht_mask;
	while (t->fht[slot])
	{
		DeltaFileEntry *f = &t->files[t->fht[slot] - 1];

		if (strcmp(f->path, path) == 0)
			return f;
		slot = (slot + 1) & t->fht_mask;
	}
	if (!create)
		return NULL;
	if (t->nfiles == t->files_cap)
	{
		t->files_cap = t->files_cap ? t->files_cap * 2 : 64;
		t->files = bytebuf_xrealloc(t->files,
									t->files_cap * sizeof(DeltaFileEntry));
	}
	t->fht[slot] = t->nfiles + 1;
	{
		DeltaFileEntry *f = &t->files[t->nfiles++];

		memset(f, 0, sizeof(*f));
		f->path = bytebuf_xstrdup(path);
		return f;
	}
}

static void
delta_apply_add(DeltaTable *t, const char *path, int64_t size, int64_t mtime,
				const char *stats)
{
	DeltaFileEntry *f = delta_file_lookup(t, path, true);

	if (f->live)
		t->live_bytes -= f->size;
	else
		t->live_count++;
	t->live_bytes += size;
	f->size = size;
	f->modification_time = mtime;
	free(f->stats);
	f->stats = stats ? bytebuf_xstrdup(stats) : NULL;
	f->live = true;
	t->live_dirty = true;
}

static void
delta_apply_remove(DeltaTable *t, const char *path)
{
	DeltaFileEntry *f = delta_file_lookup(t, path, false);

	if (f && f->live)
	{
		t->live_count--;
		t->live_bytes -= f->size;
		f->live = false;
		free(f->stats);
		f->stats = NULL;
		t->live_dirty = true;
	}
}

static void
delta_apply_txn(DeltaTable *t, const char *app_id, int64_t version,
				int64_t last_updated)
{
	for (int i = 0; i < t->ntxns; i++)
	{
		if (strcmp(t->txns[i].app_id, app_id) == 0)
		{
			t->txns[i].version = version;
			t->txns[i].last_updated = last_updated;
			return;
		}
	}
	if (t->ntxns == t->txns_cap)
	{
		t->txns_cap = t->txns_cap ? t->txns_cap * 2 : 16;
		t->txns = bytebuf_xrealloc(t->txns, t->txns_cap * sizeof(DeltaTxnEntry));
	}
	t->txns[t->ntxns].app_id = bytebuf_xstrdup(app_id);
	t->txns[t->ntxns].version = version;
	t->txns[t->ntxns].last_updated = last_updated;
	t->ntxns++;
}

/* Parses a Spark StructType JSON into t->cols. */
static bool
delta_parse_schema(DeltaTable *t, const char *schema_string,
				   char *errstr, size_t errlen)
{
	json_object *root = json_tokener_parse(schema_string);
	json_object *fields;
	int			n;

	if (root == NULL || !json_object_object_get_ex(root, "fields", &fields) ||
		!json_object_is_type(fields, json_type_array))
	{
		snprintf(errstr, errlen, "metaData.schemaString is not a struct type");
		json_object_put(root);
		return false;
	}
	delta_free_schema(t);
	t->generated = false;
	n = (int) json_object_array_length(fields);
	t->cols = bytebuf_xcalloc(n > 0 ? n : 1, sizeof(DeltaColumn));
	t->col_metadata = bytebuf_xcalloc(n > 0 ? n : 1, sizeof(char *));
	for (int i = 0; i < n; i++)
	{
		json_object *f = json_object_array_get_idx(fields, i);
		json_object *name,
				   *type,
				   *nullable,
				   *md;

		if (!json_object_object_get_ex(f, "name", &name) ||
			!json_object_object_get_ex(f, "type", &type))
		{
			snprintf(errstr, errlen, "schema field %d has no name or type", i);
			json_object_put(root);
			return false;
		}
		t->cols[i].name = bytebuf_xstrdup(json_object_get_string(name));
		/* nested types are kept as their JSON text; the writer rejects them */
		t->cols[i].type = bytebuf_xstrdup(json_object_is_type(type, json_type_string) ?
										  json_object_get_string(type) :
										  json_object_to_json_string_ext(type, JSON_C_TO_STRING_PLAIN));
		t->cols[i].nullable = !json_object_object_get_ex(f, "nullable", &nullable) ||
			json_object_get_boolean(nullable);
		if (json_object_object_get_ex(f, "metadata", &md) &&
			json_object_is_type(md, json_type_object))
		{
			json_object *v;

			if (json_object_object_get_ex(md, DELTA_CM_FIELD_NAME, &v) &&
				json_object_is_type(v, json_type_string))
				t->cols[i].physical_name = bytebuf_xstrdup(json_object_get_string(v));
			if (json_object_object_get_ex(md, DELTA_CM_FIELD_ID, &v) &&
				json_object_is_type(v, json_type_int))
				t->cols[i].id = json_object_get_int64(v);
			if (json_object_object_get_ex(md, "delta.generationExpression", &v))
				t->generated = true;
			/* the rest is another engine's: kept as it is */
			json_object_object_del(md, DELTA_CM_FIELD_ID);
			json_object_object_del(md, DELTA_CM_FIELD_NAME);
			if (json_object_object_length(md) > 0)
				t->col_metadata[i] = bytebuf_xstrdup(
					json_object_to_json_string_ext(md, JSON_C_TO_STRING_PLAIN |
												   JSON_C_TO_STRING_NOSLASHESCAPE));
		}
		t->ncols = i + 1;
	}
	t->schema_string = bytebuf_xstrdup(schema_string);
	json_object_put(root);
	return true;
}

static const char *
delta_get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
delta_get_int64(json_object *o, const char *key, int64_t dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return dflt;
	return json_object_get_int64(v);
}

static bool
delta_apply_metadata(DeltaTable *t, const DeltaMetadataAction *md,
					 char *errstr, size_t errlen)
{
	if (md->id == NULL || md->schema_string == NULL)
	{
		snprintf(errstr, errlen, "metaData without id or schemaString");
		return false;
	}
	if (md->npartition_columns > 0)
	{
		snprintf(errstr, errlen, "partitioned tables are not supported");
		return false;
	}
	if (!delta_parse_schema(t, md->schema_string, errstr, errlen))
		return false;
	delta_free_metadata(t);
	t->meta_id = bytebuf_xstrdup(md->id);
	t->meta_name = delta_strdup_or_null(md->name);
	t->meta_description = delta_strdup_or_null(md->description);
	t->format_provider = delta_strdup_or_null(md->format_provider);
	delta_map_copy(&t->format_options, md->format_option_keys,
				   md->format_option_values, md->nformat_options);
	delta_map_copy(&t->config, md->config_keys, md->config_values,
				   md->nconfig);
	t->created_time = md->created_time;
	return true;
}

/*
 * The entries of a JSON object of strings (a map: configuration, format
 * options) into *keys and *values (malloc'd, strings borrowed from o); a
 * null value reads as "".  Returns the count, 0 when o is not an object.
 */
static int
delta_json_map(json_object *o, const char ***keys, const char ***values)
{
	int			n = 0;

	*keys = *values = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return 0;
	*keys = bytebuf_xcalloc(json_object_object_length(o) + 1, sizeof(char *));
	*values = bytebuf_xcalloc(json_object_object_length(o) + 1, sizeof(char *));
	json_object_object_foreach(o, key, val)
	{
		const char *v = val ? json_object_get_string(val) : NULL;

		(*keys)[n] = key;
		(*values)[n] = v ? v : "";
		n++;
	}
	return n;
}

/* A metaData action from a JSON commit. */
static bool
delta_apply_metadata_json(DeltaTable *t, json_object *mdo, char *errstr,
						  size_t errlen)
{
	DeltaMetadataAction md = {0};
	json_object *pc = NULL,
			   *conf = NULL,
			   *format = NULL,
			   *options = NULL;
	const char **keys,
			  **values,
			  **opt_keys,
			  **opt_values;
	bool		ok;

	md.id = delta_get_string(mdo, "id");
	md.name = delta_get_string(mdo, "name");
	md.description = delta_get_string(mdo, "description");
	if (json_object_object_get_ex(mdo, "format", &format) &&
		json_object_is_type(format, json_type_object))
	{
		md.format_provider = delta_get_string(format, "provider");
		json_object_object_get_ex(format, "options", &options);
	}
	md.nformat_options = delta_json_map(options, &opt_keys, &opt_values);
	md.format_option_keys = opt_keys;
	md.format_option_values = opt_values;
	md.schema_string = delta_get_string(mdo, "schemaString");
	if (json_object_object_get_ex(mdo, "partitionColumns", &pc) &&
		json_object_is_type(pc, json_type_array))
		md.npartition_columns = (int) json_object_array_length(pc);
	json_object_object_get_ex(mdo, "configuration", &conf);
	md.nconfig = delta_json_map(conf, &keys, &values);
	md.config_keys = keys;
	md.config_values = values;
	md.created_time = delta_get_int64(mdo, "createdTime",
									  DELTA_DEFAULT_CREATED_TIME);
	ok = delta_apply_metadata(t, &md, errstr, errlen);
	free(keys);
	free(values);
	free(opt_keys);
	free(opt_values);
	return ok;
}

/* what: the file the action came from, for the message. */
static bool
delta_apply_protocol(DeltaTable *t, int min_reader, int min_writer,
					 const char *what, char *errstr, size_t errlen)
{
	t->min_reader = min_reader;
	t->min_writer = min_writer;
	if (t->min_reader > 2 || t->min_writer > 5)
	{
		snprintf(errstr, errlen,
				 "%s: table needs reader version %d, writer version %d; "
				 "this writer supports up to reader 2, writer 5", what,
				 t->min_reader, t->min_writer);
		return false;
	}
	return true;
}

/* Applies one commit's text (newline-delimited actions). */
static bool
delta_replay_text(DeltaTable *t, char *text, const char *what,
				  char *errstr, size_t errlen)
{
	char	   *line = text;

	while (line && *line)
	{
		char	   *nl = strchr(line, '\n');
		json_object *o;
		json_object *a;

		if (nl)
			*nl = '\0';
		if (line[0] == '\0' || (line[0] == '\r' && line[1] == '\0'))
		{
			line = nl ? nl + 1 : NULL;
			continue;
		}
		o = json_tokener_parse(line);
		if (o == NULL || !json_object_is_type(o, json_type_object))
		{
			snprintf(errstr, errlen, "%s: a line is not a JSON object", what);
			json_object_put(o);
			return false;
		}
		if (json_object_object_get_ex(o, "add", &a))
		{
			const char *path = delta_get_string(a, "path");

			if (path == NULL)
			{
				snprintf(errstr, errlen, "%s: add without path", what);
				json_object_put(o);
				return false;
			}
			delta_apply_add(t, path, delta_get_int64(a, "size", 0),
							delta_get_int64(a, "modificationTime", 0),
							delta_get_string(a, "stats"));
		}
		else if (json_object_object_get_ex(o, "remove", &a))
		{
			const char *path = delta_get_string(a, "path");

			if (path)
				delta_apply_remove(t, path);
		}
		else if (json_object_object_get_ex(o, "txn", &a))
		{
			const char *app = delta_get_string(a, "appId");

			if (app)
				delta_apply_txn(t, app, delta_get_int64(a, "version",
														DELTA_DEFAULT_TXN_VERSION),
								delta_get_int64(a, "lastUpdated", 0));
		}
		else if (json_object_object_get_ex(o, "metaData", &a))
		{
			if (!delta_apply_metadata_json(t, a, errstr, errlen))
			{
				json_object_put(o);
				return false;
			}
		}
		else if (json_object_object_get_ex(o, "protocol", &a))
		{
			int64_t		reader = delta_get_int64(a, "minReaderVersion",
												 DELTA_DEFAULT_MIN_READER);
			int64_t		writer = delta_get_int64(a, "minWriterVersion",
												 DELTA_DEFAULT_MIN_WRITER);

			/* checked before the int conversion: 2^32 + 1 must not pass as 1 */
			if (!delta_protocol_version_ok(reader) ||
				!delta_protocol_version_ok(writer))
			{
				snprintf(errstr, errlen, "%s: protocol version out of range "
						 "(minReaderVersion %" PRId64 ", minWriterVersion %"
						 PRId64 ")", what, reader, writer);
				json_object_put(o);
				return false;
			}
			if (!delta_apply_protocol(t, (int) reader, (int) writer, what,
									  errstr, errlen))
			{
				json_object_put(o);
				return false;
			}
		}
		/* commitInfo, cdc and unknown actions carry no state we need */
		json_object_put(o);
		line = nl ? nl + 1 : NULL;
	}
	return true;
}

/* Reads and applies commit v; *missing set when the file does not exist. */
static bool
delta_replay_version(DeltaTable *t, int64_t v, bool *missing,
					 char *errstr, size_t errlen)
{
	char		name[64];
	char		key[4096];
	char		what[4200];
	ByteBuf		b = {0};
	ObjStoreResult r;
	bool		ok;

	*missing = false;
	delta_commit_name(v, name, sizeof(name));
	delta_log_key(t, name, key, sizeof(key));
	r = objstore_get(t->store, key, &b, errstr, errlen);
	if (r != OBJSTORE_OK)
	{
		bytebuf_free(&b);
		*missing = r == OBJSTORE_NOT_FOUND;
		return r == OBJSTORE_NOT_FOUND;
	}
	bytebuf_putc(&b, '\0');
	snprintf(what, sizeof(what), "%s/%s", t->log_dir, name);
	ok = delta_replay_text(t, (char *) b.data, what, errstr, errlen);
	bytebuf_free(&b);
	if (ok)
		t->version = v;
	else
		t->state_broken = true;
	return ok;
}

/* ---------- opening ---------- */

/* A classic checkpoint file found in the log directory listing. */
typedef struct DeltaCpFile
{
	int64_t		version;
	int			part;			/* 1-based; 1 of 1 for a single file */
	int			nparts;
	bool		multi_name;		/* named N.checkpoint.P.T.parquet, even for
								 * 1 of 1 */
} DeltaCpFile;

/* What delta_list_log found in _delta_log. */
typedef struct DeltaLogListing
{
	int64_t    *json;			/* commit versions, sorted */
	int			njson;
	DeltaCpFile *cps;			/* classic checkpoint files, sorted */
	int			ncps;
	int64_t		newest_v2;		/* newest V2 (UUID-named) checkpoint, -1 */
} DeltaLogListing;

static int
delta_cmp_i64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

static int
delta_cmp_cp(const void *a, const void *b)
{
	const DeltaCpFile *x = a,
			   *y = b;

	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	if (x->nparts != y->nparts)
		return x->nparts - y->nparts;
	if (x->multi_name != y->multi_name)
		return x->multi_name - y->multi_name;
	return x->part - y->part;
}

static bool
delta_all_digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* s[0..n) is a UUID as text: 8-4-4-4-12 hex digits. */
static bool
delta_is_uuid(const char *s, int n)
{
	if (n != 36 || strnlen(s, n) < (size_t) n)
		return false;
	for (int i = 0; i < n; i++)
	{
		bool		dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
			return false;
	}
	return true;
}

/*
 * Sorts one log file name into the listing.  Names are parsed, never used
 * as given: every path opened later is rebuilt from these numbers.
 */
static void
delta_list_name(DeltaLogListing *l, const char *n, int *json_cap, int *cp_cap)
{
	size_t		len = strlen(n);
	const char *rest = n + DELTA_VERSION_DIGITS;
	DeltaCpFile cp;

	if (len <= DELTA_VERSION_DIGITS || !delta_all_digits(n, DELTA_VERSION_DIGITS))
		return;
	if (strcmp(rest, ".json") == 0)
	{
		if (l->njson == *json_cap)
		{
			*json_cap = *json_cap ? *json_cap * 2 : 64;
			l->json = bytebuf_xrealloc(l->json, *json_cap * sizeof(int64_t));
		}
		l->json[l->njson++] = strtoll(n, NULL, 10);
		return;
	}
	if (strncmp(rest, ".checkpoint.", 12) != 0)
		return;
	rest += 12;
	cp.version = strtoll(n, NULL, 10);
	cp.multi_name = false;
	if (strcmp(rest, "parquet") == 0)
		cp.part = cp.nparts = 1;
	else if (strlen(rest) == 10 + 1 + 10 + 8 && delta_all_digits(rest, 10) &&
			 rest[10] == '.' && delta_all_digits(rest + 11, 10) &&
			 strcmp(rest + 21, ".parquet") == 0)
	{
		/* ten digits can exceed an int */
		long long	part = strtoll(rest, NULL, 10);
		long long	nparts = strtoll(rest + 11, NULL, 10);

		if (part < 1 || part > nparts || nparts > INT_MAX)
			return;
		cp.part = (int) part;
		cp.nparts = (int) nparts;
		cp.multi_name = true;
	}
	else
	{
		/*
		 * N.checkpoint.<uuid>.parquet|json: V2, not read here.  Anything
		 * else (another tool's temp file) is not a checkpoint at all.
		 */
		if (delta_is_uuid(rest, 36) &&
			(strcmp(rest + 36, ".parquet") == 0 || strcmp(rest + 36, ".json") == 0) &&
			cp.version > l->newest_v2)
			l->newest_v2 = cp.version;
		return;
	}
	if (l->ncps == *cp_cap)
	{
		*cp_cap = *cp_cap ? *cp_cap * 2 : 16;
		l->cps = bytebuf_xrealloc(l->cps, *cp_cap * sizeof(DeltaCpFile));
	}
	l->cps[l->ncps++] = cp;
}

typedef struct DeltaListCtx
{
	DeltaLogListing *l;
	size_t		prefix_len;		/* of "<key>_delta_log/" */
	int			json_cap;
	int			cp_cap;
} DeltaListCtx;

static bool
delta_list_fn(const char *key, int64_t size, int64_t mtime_ms, void *arg)
{
	DeltaListCtx *c = arg;
	const char *name = key + c->prefix_len;

	/* files of _delta_log itself only (not _delta_log/_commits/...) */
	if (strchr(name, '/') == NULL)
		delta_list_name(c->l, name, &c->json_cap, &c->cp_cap);
	return true;
}

static bool
delta_list_log(DeltaTable *t, DeltaLogListing *l, char *errstr, size_t errlen)
{
	char		prefix[4096];
	DeltaListCtx c = {l, 0, 0, 0};

	memset(l, 0, sizeof(*l));
	l->newest_v2 = -1;
	delta_log_key(t, "", prefix, sizeof(prefix));
	c.prefix_len = strlen(prefix);
	if (objstore_list(t->store, prefix, NULL, delta_list_fn, &c, errstr,
					  errlen) != OBJSTORE_OK)
	{
		free(l->json);
		free(l->cps);
		memset(l, 0, sizeof(*l));
		return false;
	}
	if (l->njson > 0)
		qsort(l->json, l->njson, sizeof(int64_t), delta_cmp_i64);
	if (l->ncps > 0)
		qsort(l->cps, l->ncps, sizeof(DeltaCpFile), delta_cmp_cp);
	return true;
}

/* _last_checkpoint's version and parts (1 when absent); false if unusable. */
static bool
delta_read_last_checkpoint(const DeltaTable *t, int64_t *version, int *nparts)
{
	char		key[4096];
	char		err[512];
	ByteBuf		b = {0};
	json_object *o;

	delta_log_key(t, "_last_checkpoint", key, sizeof(key));
	if (objstore_get(t->store, key, &b, err, sizeof(err)) != OBJSTORE_OK)
	{
		bytebuf_free(&b);
		return false;
	}
	bytebuf_putc(&b, '\0');
	o = json_tokener_parse((const char *) b.data);
	bytebuf_free(&b);
	if (o == NULL || !json_object_is_type(o, json_type_object))
	{
		json_object_put(o);
		return false;
	}
	*version = delta_get_int64(o, "version", -1);
	*nparts = (int) delta_get_int64(o, "parts", 1);
	json_object_put(o);
	return *version >= 0 && *nparts >= 1;
}

/* A complete classic checkpoint: a version with every part present. */
typedef struct DeltaCpCandidate
{
	int64_t		version;
	int			nparts;
	bool		multi_name;
} DeltaCpCandidate;

/*
 * The complete classic checkpoints into *out (malloc'd), newest first;
 * returns the count.  _last_checkpoint is only a hint: it orders two
 * checkpoints of one version (single file and multi-part, say), never
 * puts an older version before a newer complete one.
 */
static int
delta_list_checkpoints(const DeltaTable *t, const DeltaLogListing *l,
					   DeltaCpCandidate **out)
{
	int64_t		hint_version = -1;
	int			hint_parts = 0;
	int			n = 0;
	DeltaCpCandidate *c = bytebuf_xcalloc(l->ncps + 1, sizeof(DeltaCpCandidate));

	if (!delta_read_last_checkpoint(t, &hint_version, &hint_parts))
		hint_version = -1;
	/* l->cps is sorted by version, then parts and name form, then part */
	for (int i = l->ncps - 1; i >= 0;)
	{
		int			j = i;
		bool		complete = true;

		/* a group: same version, part count and name form */
		while (j >= 0 && l->cps[j].version == l->cps[i].version &&
			   l->cps[j].nparts == l->cps[i].nparts &&
			   l->cps[j].multi_name == l->cps[i].multi_name)
		{
			if (l->cps[j].part != l->cps[i].nparts - (i - j))
				complete = false;
			j--;
		}
		complete = complete && i - j == l->cps[i].nparts;
		if (complete)
		{
			DeltaCpCandidate cand = {l->cps[i].version, l->cps[i].nparts,
			l->cps[i].multi_name};

			c[n++] = cand;
			/* the hinted one goes first among those of its version */
			if (cand.version == hint_version && cand.nparts == hint_parts)
			{
				int			k = n - 1;

				while (k > 0 && c[k - 1].version == cand.version)
				{
					c[k] = c[k - 1];
					k--;
				}
				c[k] = cand;
			}
		}
		i = j;
	}
	*out = c;
	return n;
}

/* Name of a checkpoint part, in the name form the listing found. */
static void
delta_checkpoint_part_name(int64_t v, int part, int nparts, bool multi_name,
						   char *buf, size_t len)
{
	if (!multi_name)
		snprintf(buf, len, "%020" PRId64 ".checkpoint.parquet", v);
	else
		snprintf(buf, len, "%020" PRId64 ".checkpoint.%010d.%010d.parquet",
				 v, part, nparts);
}

/* DeltaCheckpointSink callbacks: the same apply functions as JSON replay. */
static bool
delta_sink_protocol(void *arg, int min_reader, int min_writer,
					const char *what, char *errstr, size_t errlen)
{
	return delta_apply_protocol(arg, min_reader, min_writer, what, errstr,
								errlen);
}

static bool
delta_sink_metadata(void *arg, const DeltaMetadataAction *md, char *errstr,
					size_t errlen)
{
	return delta_apply_metadata(arg, md, errstr, errlen);
}

static void
delta_sink_txn(void *arg, const char *app_id, int64_t version,
			   int64_t last_updated)
{
	delta_apply_txn(arg, app_id, version, last_updated);
}

static void
delta_sink_add(void *arg, const char *path, int64_t size,
			   int64_t modification_time, const char *stats)
{
	delta_apply_add(arg, path, size, modification_time, stats);
}

static bool
delta_load_checkpoint(DeltaTable *t, const DeltaCpCandidate *cp, char *errstr,
					  size_t errlen)
{
	DeltaCheckpointSink sink = {t, delta_sink_protocol, delta_sink_metadata,
	delta_sink_txn, delta_sink_add};
	char	  **parts = bytebuf_xcalloc(cp->nparts, sizeof(char *));
	bool	   *fetched = bytebuf_xcalloc(cp->nparts, sizeof(bool));
	bool		ok = true;

	/* the Parquet reader reads files: a remote part is fetched first */
	for (int i = 0; i < cp->nparts && ok; i++)
	{
		char		name[128];
		char		key[4096];

		parts[i] = bytebuf_xmalloc(4096);
		delta_checkpoint_part_name(cp->version, i + 1, cp->nparts,
								   cp->multi_name, name, sizeof(name));
		delta_log_key(t, name, key, sizeof(key));
		if (objstore_local_file(t->store, key, parts[i], 4096))
			continue;
		ok = objstore_stage_path(t->store, key, parts[i], 4096, errstr, errlen);
		if (ok)
		{
			ObjStoreResult r = objstore_get_file(t->store, key, parts[i],
												 errstr, errlen);

			fetched[i] = r == OBJSTORE_OK;
			if (r == OBJSTORE_NOT_FOUND)
				snprintf(errstr, errlen, "%s: checkpoint part \"%s\" is gone",
						 t->log_dir, name);
			ok = fetched[i];
		}
	}
	if (ok)
		ok = delta_checkpoint_read((const char *const *) parts, cp->nparts,
								   &sink, errstr, errlen);
	if (ok)
		t->version = cp->version;
	for (int i = 0; i < cp->nparts; i++)
	{
		if (fetched[i])
			unlink(parts[i]);
		free(parts[i]);
	}
	free(parts);
	free(fetched);
	return ok;
}

/* Forgets the replayed state (a checkpoint that failed half-way). */
static void
delta_reset_state(DeltaTable *t)
{
	delta_free_schema(t);
	delta_free_metadata(t);
	for (int i = 0; i < t->nfiles; i++)
	{
		free(t->files[i].path);
		free(t->files[i].stats);
	}
	free(t->files);
	free(t->fht);
	free(t->live);
	for (int i = 0; i < t->ntxns; i++)
		free(t->txns[i].app_id);
	free(t->txns);
	t->files = NULL;
	t->fht = NULL;
	t->live = NULL;
	t->txns = NULL;
	t->nfiles = t->files_cap = t->nlive = t->ntxns = t->txns_cap = 0;
	t->fht_mask = 0;
	t->live_dirty = false;
	t->live_count = t->live_bytes = 0;
	t->state_broken = false;
	t->version = -1;
	t->min_reader = DELTA_DEFAULT_MIN_READER;
	t->min_writer = DELTA_DEFAULT_MIN_WRITER;
}

/* Replays the listed JSON commits from index first on, which must follow
 * t->version without a gap. */
static bool
delta_replay_listed(DeltaTable *t, const DeltaLogListing *l, int first,
					char *errstr, size_t errlen)
{
	for (int i = first; i < l->njson; i++)
	{
		bool		missing;

		if (!delta_replay_version(t, l->json[i], &missing, errstr, errlen))
			return false;
		if (missing)
		{
			snprintf(errstr, errlen, "commit %" PRId64 " vanished during replay",
					 l->json[i]);
			return false;
		}
	}
	return true;
}

static void
delta_set_notice(DeltaTable *t, bool warning, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

static void
delta_set_notice(DeltaTable *t, bool warning, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(t->notice, sizeof(t->notice), fmt, ap);
	va_end(ap);
	t->notice_is_warning = warning;
}

/*
 * Replays _delta_log: from the newest usable complete classic checkpoint
 * and the JSON commits after it, or from JSON commit 0 when every commit
 * is there.  An unreadable checkpoint is skipped for the next older one
 * (whose following commits must be there too), then for JSON replay from
 * 0; a fallback must reach at least the version of the unreadable
 * checkpoint, or the next commit would write a second, different history
 * of it.
 */
static bool
delta_replay_log(DeltaTable *t, const DeltaLogListing *l, char *errstr,
				 size_t errlen)
{
	DeltaCpCandidate *cands;
	int			ncands = delta_list_checkpoints(t, l, &cands);
	int64_t		bad_version = -1;	/* newest checkpoint that failed */
	int			nbad = 0;
	bool		from_zero = true;
	char		cp_file[4096];
	char		why[1024];
	char		bad_why[1024] = "";

	/* every commit from 0 up to the newest? */
	for (int i = 0; i < l->njson; i++)
		from_zero &= l->json[i] == i;

	for (int c = 0; c < ncands; c++)
	{
		const DeltaCpCandidate *cp = &cands[c];
		int			after = 0;	/* index of the first commit after it */
		int64_t		gap = -1;

		while (after < l->njson && l->json[after] <= cp->version)
			after++;
		for (int i = after; gap < 0 && i < l->njson; i++)
			if (l->json[i] != cp->version + 1 + (i - after))
				gap = cp->version + 1 + (i - after);
		if (gap >= 0 && nbad == 0)
		{
			/* older checkpoints and commit 0 are before the same gap */
			snprintf(errstr, errlen, "\"%s\": commit %" PRId64 " missing "
					 "(a gap after checkpoint %" PRId64 ")", t->log_dir,
					 gap, cp->version);
			free(cands);
			return false;
		}
		if (gap >= 0 ||
			(nbad > 0 && (l->njson == 0 || l->json[l->njson - 1] < bad_version)))
			continue;
		{
			char		name[128];

			delta_checkpoint_part_name(cp->version, 1, cp->nparts,
									   cp->multi_name, name, sizeof(name));
			snprintf(cp_file, sizeof(cp_file), "%s/%s", t->log_dir, name);
		}
		if (delta_load_checkpoint(t, cp, why, sizeof(why)))
		{
			if (nbad == 0)
				delta_set_notice(t, false, "started from checkpoint \"%s\" "
								 "(version %" PRId64 ", %d part%s), then %d "
								 "JSON commit(s)", cp_file, cp->version,
								 cp->nparts, cp->nparts == 1 ? "" : "s",
								 l->njson - after);
			else
				delta_set_notice(t, true, "cannot start from checkpoint "
								 "version %" PRId64 ": %s; started from the "
								 "older checkpoint \"%s\" (version %" PRId64
								 ", %d part%s) instead, then %d JSON commit(s)",
								 bad_version, bad_why, cp_file, cp->version,
								 cp->nparts, cp->nparts == 1 ? "" : "s",
								 l->njson - after);
			free(cands);
			return delta_replay_listed(t, l, after, errstr, errlen);
		}
		delta_reset_state(t);
		if (nbad++ == 0)
		{
			bad_version = cp->version;
			snprintf(bad_why, sizeof(bad_why), "%s", why);
		}
	}
	free(cands);
	if (nbad > 0)
	{
		if (!from_zero || l->njson == 0 || l->json[l->njson - 1] < bad_version)
		{
			snprintf(errstr, errlen, "cannot start from checkpoint version %"
					 PRId64 ": %s; %sthe JSON commits before it are missing",
					 bad_version, bad_why,
					 nbad > 1 ? "no older checkpoint is readable either, and " : "");
			return false;
		}
		delta_set_notice(t, true, "cannot start from checkpoint version %"
						 PRId64 ": %s; replayed all %d JSON commits from "
						 "version 0 instead", bad_version, bad_why, l->njson);
		return delta_replay_listed(t, l, 0, errstr, errlen);
	}
	if (!from_zero)
	{
		int64_t		gap = 0;

		while (gap < l->njson && l->json[gap] == gap)
			gap++;
		if (l->newest_v2 >= 0)
			snprintf(errstr, errlen, "\"%s\": commit %" PRId64 " missing and "
					 "the only checkpoint (version %" PRId64 ") is a V2 "
					 "(UUID-named) checkpoint, which is not supported",
					 t->log_dir, gap, l->newest_v2);
		else
			snprintf(errstr, errlen, "\"%s\": commit %" PRId64 " missing "
					 "(a gap, and no checkpoint to start from)", t->log_dir,
					 gap);
		return false;
	}
	if (l->njson > 0)
		delta_set_notice(t, false, "replayed %d JSON commits from version 0",
						 l->njson);
	return delta_replay_listed(t, l, 0, errstr, errlen);
}

/*
 * Forgets the commits and checkpoints after version from a listing, so the
 * replay stops there (time travel); false if neither the commit nor a
 * checkpoint of that version is listed.
 */
static bool
delta_listing_truncate(DeltaLogListing *l, int64_t version)
{
	while (l->njson > 0 && l->json[l->njson - 1] > version)
		l->njson--;
	while (l->ncps > 0 && l->cps[l->ncps - 1].version > version)
		l->ncps--;
	if (l->newest_v2 > version)
		l->newest_v2 = -1;
	return (l->njson > 0 && l->json[l->njson - 1] == version) ||
		(l->ncps > 0 && l->cps[l->ncps - 1].version == version);
}

/* delta_open_store, or with version >= 0 the table as of that version. */
static DeltaTable *
delta_open_upto(ObjStore *store, const char *key, int64_t version,
				char *errstr, size_t errlen)
{
	DeltaTable *t = calloc(1, sizeof(DeltaTable));
	DeltaLogListing listing;
	int			njson,
				ncps;
	size_t		klen = strlen(key);
	size_t		len;
	bool		ok;

	if (t == NULL)
	{
		snprintf(errstr, errlen, "out of memory");
		return NULL;
	}
	t->store = store;
	/* "a/b" -> "a/b/": every key of the table starts with it */
	while (klen > 0 && key[klen - 1] == '/')
		klen--;
	t->key = bytebuf_xmalloc(klen + 2);
	memcpy(t->key, key, klen);
	strcpy(t->key + klen, klen ? "/" : "");
	len = strlen(objstore_describe(store)) + klen + 2;
	t->dir = bytebuf_xmalloc(len);
	snprintf(t->dir, len, "%s%s%.*s", objstore_describe(store), klen ? "/" : "",
			 (int) klen, key);
	len = strlen(t->dir) + sizeof("/_delta_log");
	t->log_dir = bytebuf_xmalloc(len);
	snprintf(t->log_dir, len, "%s/_delta_log", t->dir);
	t->checkpoint_interval = 10;
	delta_reset_state(t);

	if (!delta_list_log(t, &listing, errstr, errlen))
	{
		delta_close(t);
		return NULL;
	}
	/* a later version listed means this one existed */
	njson = listing.njson;
	ncps = listing.ncps;
	if (version >= 0 && !delta_listing_truncate(&listing, version))
	{
		if (listing.njson < njson || listing.ncps < ncps)
			snprintf(errstr, errlen, "\"%s\": version %" PRId64 " was cleaned "
					 "up (its commit and any checkpoint of it are gone)",
					 t->log_dir, version);
		else
			snprintf(errstr, errlen, "\"%s\" has no version %" PRId64,
					 t->log_dir, version);
		ok = false;
	}
	else
		ok = delta_replay_log(t, &listing, errstr, errlen);
	free(listing.json);
	free(listing.cps);
	if (!ok)
	{
		delta_close(t);
		return NULL;
	}
	if (t->version >= 0 && t->schema_string == NULL)
	{
		snprintf(errstr, errlen, "\"%s\": log has no metaData", t->log_dir);
		delta_close(t);
		return NULL;
	}
	return t;
}

DeltaTable *
delta_open_store(ObjStore *store, const char *key, char *errstr, size_t errlen)
{
	return delta_open_upto(store, key, -1, errstr, errlen);
}

/* A table of its own store (a path or URL); closed with the table. */
static DeltaTable *
delta_open_url(const char *url, int64_t version, char *errstr, size_t errlen)
{
	ObjStore   *store = objstore_open(url, NULL, errstr, errlen);
	DeltaTable *t;

	if (store == NULL)
		return NULL;
	t = delta_open_upto(store, "", version, errstr, errlen);
	if (t == NULL)
		objstore_close(store);
	else
		t->own_store = true;
	return t;
}

DeltaTable *
delta_open(const char *table_url, char *errstr, size_t errlen)
{
	return delta_open_url(table_url, -1, errstr, errlen);
}

DeltaTable *
delta_open_version(const char *table_url, int64_t version, char *errstr,
				   size_t errlen)
{
	return delta_open_url(table_url, version, errstr, errlen);
}

static int
delta_cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(**(const char *const *const *) a,
				  **(const char *const *const *) b);
}

void
delta_write_state(const DeltaTable *t, FILE *out)
{
	int			n = t->nfiles > t->ntxns ? t->nfiles : t->ntxns;
	const char ***sortable = bytebuf_xcalloc((n > t->config.n ? n : t->config.n) + 1,
											 sizeof(char **));
	int			k;

	fprintf(out, "version %" PRId64 "\nprotocol %d %d\n", t->version,
			t->min_reader, t->min_writer);
	fprintf(out, "metaData id %s createdTime %" PRId64 "\nschemaString %s\n",
			t->meta_id ? t->meta_id : "-", t->created_time,
			t->schema_string ? t->schema_string : "-");
	if (t->meta_name)
		fprintf(out, "name %s\n", t->meta_name);
	if (t->meta_description)
		fprintf(out, "description %s\n", t->meta_description);
	fprintf(out, "format %s\n", t->format_provider ? t->format_provider : "-");
	for (int i = 0; i < t->format_options.n; i++)
		fprintf(out, "format option %s=%s\n", t->format_options.keys[i],
				t->format_options.values[i]);
	/* sort pointers to the first member of each entry by its string */
	for (int i = 0; i < t->config.n; i++)
		sortable[i] = (const char **) &t->config.keys[i];
	qsort(sortable, t->config.n, sizeof(char **), delta_cmp_str_ptr);
	for (int i = 0; i < t->config.n; i++)
	{
		int			idx = (int) ((char **) sortable[i] - t->config.keys);

		fprintf(out, "configuration %s=%s\n", t->config.keys[idx],
				t->config.values[idx]);
	}
	for (int i = 0; i < t->ntxns; i++)
		sortable[i] = (const char **) &t->txns[i].app_id;
	qsort(sortable, t->ntxns, sizeof(char **), delta_cmp_str_ptr);
	for (int i = 0; i < t->ntxns; i++)
	{
		const DeltaTxnEntry *x = (const DeltaTxnEntry *)
			((const char *) sortable[i] - offsetof(DeltaTxnEntry, app_id));

		fprintf(out, "txn %s %" PRId64 " %" PRId64 "\n", x->app_id, x->version,
				x->last_updated);
	}
	k = 0;
	for (int i = 0; i < t->nfiles; i++)
		if (t->files[i].live)
			sortable[k++] = (const char **) &t->files[i].path;
	qsort(sortable, k, sizeof(char **), delta_cmp_str_ptr);
	for (int i = 0; i < k; i++)
	{
		const DeltaFileEntry *f = (const DeltaFileEntry *)
			((const char *) sortable[i] - offsetof(DeltaFileEntry, path));

		fprintf(out, "add %s %" PRId64 " %" PRId64 " %s\n", f->path, f->size,
				f->modification_time, f->stats ? f->stats : "-");
	}
	free(sortable);
}

const char *
delta_open_notice(const DeltaTable *t, bool *is_warning)
{
	*is_warning = t->notice_is_warning;
	return t->notice[0] ? t->notice : NULL;
}

bool
delta_refresh(DeltaTable *t, char *errstr, size_t errlen)
{
	for (;;)
	{
		bool		missing;

		if (!delta_replay_version(t, t->version + 1, &missing, errstr, errlen))
			return false;
		if (missing)
			return true;
	}
}

void
delta_close(DeltaTable *t)
{
	if (t == NULL)
		return;
	delta_reset_state(t);
	if (t->own_store)
		objstore_close(t->store);
	free(t->key);
	free(t->dir);
	free(t->log_dir);
	free(t);
}

/* ---------- accessors ---------- */

int64_t
delta_version(const DeltaTable *t)
{
	return t->version;
}

int64_t
delta_txn_version(const DeltaTable *t, const char *app_id)
{
	for (int i = 0; i < t->ntxns; i++)
		if (strcmp(t->txns[i].app_id, app_id) == 0)
			return t->txns[i].version;
	return -1;
}

const DeltaColumn *
delta_schema(const DeltaTable *t, int *ncols)
{
	*ncols = t->ncols;
	return t->cols;
}

static void
delta_build_live(DeltaTable *t)
{
	if (!t->live_dirty && t->live)
		return;
	t->live = bytebuf_xrealloc(t->live, (t->nfiles + 1) * sizeof(int));
	t->nlive = 0;
	for (int i = 0; i < t->nfiles; i++)
		if (t->files[i].live)
			t->live[t->nlive++] = i;
	t->live_dirty = false;
}

int
delta_num_files(const DeltaTable *t)
{
	delta_build_live((DeltaTable *) t);
	return t->nlive;
}

const char *
delta_file_path(const DeltaTable *t, int i)
{
	delta_build_live((DeltaTable *) t);
	if (i < 0 || i >= t->nlive)
		return NULL;
	return t->files[t->live[i]].path;
}

static const char *
delta_config_get(const DeltaTable *t, const char *key)
{
	for (int i = 0; i < t->config.n; i++)
		if (strcmp(t->config.keys[i], key) == 0)
			return t->config.values[i];
	return NULL;
}

#define DELTA_CM_MODE "delta.columnMapping.mode"
#define DELTA_CM_MAX_ID "delta.columnMapping.maxColumnId"

bool
delta_column_mapping(const DeltaTable *t)
{
	const char *mode = delta_config_get(t, DELTA_CM_MODE);

	/* the property counts only on a protocol that has the feature */
	return t->min_reader >= 2 && t->min_writer >= 5 && mode != NULL &&
		(strcmp(mode, "name") == 0 || strcmp(mode, "id") == 0);
}

bool
delta_column_mapping_by_id(const DeltaTable *t)
{
	const char *mode = delta_config_get(t, DELTA_CM_MODE);

	return delta_column_mapping(t) && strcmp(mode, "id") == 0;
}

int64_t
delta_max_column_id(const DeltaTable *t)
{
	const char *v = delta_config_get(t, DELTA_CM_MAX_ID);
	int64_t		max = v ? strtoll(v, NULL, 10) : 0;

	for (int i = 0; i < t->ncols; i++)
		if (t->cols[i].id > max)
			max = t->cols[i].id;
	return max;
}

bool
delta_name_needs_mapping(const char *name)
{
	if (strlen(name) > DELTA_MAX_PLAIN_NAME)
		return true;
	for (const unsigned char *p = (const unsigned char *) name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr(" ,;{}()=", *p) != NULL)
			return true;
	return false;
}

/*
 * Next code point of valid UTF-8 text s (column names are checked when
 * decoded, writer/event.c); a byte that starts no sequence stands for itself.
 */
static const unsigned char *
utf8_next(const unsigned char *s, wint_t *cp)
{
	int			n = *s >= 0xf0 ? 3 : *s >= 0xe0 ? 2 : *s >= 0xc0 ? 1 : 0;
	wint_t		c = n == 0 ? *s : *s & (0x3f >> n);

	s++;
	for (; n > 0 && (*s & 0xc0) == 0x80; n--)
		c = (c << 6) | (*s++ & 0x3f);
	*cp = c;
	return s;
}

bool
delta_names_clash(const char *a, const char *b)
{
	static locale_t utf8;
	const unsigned char *p = (const unsigned char *) a,
			   *q = (const unsigned char *) b;

	/*
	 * Spark lower-cases by Unicode's rules: C.UTF-8's towlower, not the C
	 * locale's.  Java lower-cases a final capital sigma to "ς" and compares
	 * char by char through upper case too ("ſ" is "s"): lower(upper(c))
	 * takes those.
	 */
	if (utf8 == (locale_t) 0)
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
	while (*p && *q)
	{
		wint_t		x,
					y;

		p = utf8_next(p, &x);
		q = utf8_next(q, &y);
		if (x != y &&
			(utf8 ? towlower_l(x, utf8) != towlower_l(y, utf8) &&
			 towlower_l(towupper_l(x, utf8), utf8) !=
			 towlower_l(towupper_l(y, utf8), utf8) :
			 x >= 0x80 || y >= 0x80 || tolower((int) x) != tolower((int) y)))
			return false;
	}
	return *p == *q;
}

void
delta_new_physical_name(const char *name, char *buf)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char		uuid[40];

	if (name == NULL ||
		!EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(), NULL) ||
		mdlen < 16)
	{
		delta_new_uuid(uuid);
		sprintf(buf, "col-%s", uuid);
		return;
	}
	md[6] = (md[6] & 0x0f) | 0x80;
	md[8] = (md[8] & 0x3f) | 0x80;
	sprintf(buf, "col-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			"%02x%02x%02x%02x%02x%02x",
			md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8],
			md[9], md[10], md[11], md[12], md[13], md[14], md[15]);
}

void
delta_set_checkpoint_interval(DeltaTable *t, int interval)
{
	t->checkpoint_interval = interval;
}

/* ---------- types ---------- */

const char *
delta_type_for(const PqColumnDef *col, char *buf, size_t buflen)
{
	const char *s;

	switch (col->type)
	{
		case PQ_BOOLEAN:
			s = "boolean";
			break;
		case PQ_INT32:
			s = "integer";
			break;
		case PQ_INT16:
			s = "short";
			break;
		case PQ_INT64:
			s = "long";
			break;
		case PQ_FLOAT:
			s = "float";
			break;
		case PQ_DOUBLE:
			s = "double";
			break;
		case PQ_STRING:
			s = "string";
			break;
		case PQ_BINARY:
			s = "binary";
			break;
		case PQ_DATE:
			s = "date";
			break;
		case PQ_TIMESTAMP_US:
			s = "timestamp";
			break;
		case PQ_DECIMAL:
			snprintf(buf, buflen, "decimal(%d,%d)", col->precision, col->scale);
			return buf;
		default:
			s = "string";
	}
	snprintf(buf, buflen, "%s", s);
	return buf;
}

bool
delta_type_parse(const char *type, PqType *pqtype, int *precision, int *scale)
{
	static const struct
	{
		const char *name;
		PqType		t;
	}			map[] = {
		{"boolean", PQ_BOOLEAN}, {"integer", PQ_INT32}, {"short", PQ_INT16},
		{"byte", PQ_INT32}, {"long", PQ_INT64}, {"float", PQ_FLOAT},
		{"double", PQ_DOUBLE}, {"string", PQ_STRING}, {"binary", PQ_BINARY},
		{"date", PQ_DATE}, {"timestamp", PQ_TIMESTAMP_US}
	};
	int			p,
				s,
				used = 0;

	*precision = *scale = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
	{
		if (strcmp(type, map[i].name) == 0)
		{
			*pqtype = map[i].t;
			return true;
		}
	}
	if (sscanf(type, "decimal(%d,%d)%n", &p, &s, &used) == 2 &&
		type[used] == '\0' && p >= 1 && p <= 38 && s >= 0 && s <= p)
	{
		*pqtype = PQ_DECIMAL;
		*precision = p;
		*scale = s;
		return true;
	}
	return false;
}

/* ---------- committing ---------- */

static void
delta_new_uuid(char *out)
{
	uint8_t		r[16];
	size_t		got = 0;

	while (got < sizeof(r))
	{
		ssize_t		n = getrandom(r + got, sizeof(r) - got, 0);

		if (n > 0)
			got += n;
		else if (errno != EINTR)
		{
			/* no entropy source: time and pid still make ids unique here */
			uint64_t	x = (uint64_t) clock_wall_ms() ^ ((uint64_t) getpid() << 40);

			memcpy(r, &x, 8);
			memcpy(r + 8, &x, 8);
			r[15] ^= 0x5a;
			break;
		}
	}
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			"%02x%02x%02x%02x%02x%02x",
			r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
			r[10], r[11], r[12], r[13], r[14], r[15]);
}

static void delta_put_i64(ByteBuf *b, int64_t v);
static bool delta_write_checksum(DeltaTable *t, char *errstr, size_t errlen);

/*
 * A schema's StructType JSON.  A column the table has keeps its field
 * metadata (another engine's: a comment, say); column mapping's entries
 * are written from cols.
 */
static void
delta_build_schema_string(ByteBuf *b, const DeltaTable *t,
						  const DeltaColumn *cols, int n)
{
	bytebuf_puts(b, "{\"type\":\"struct\",\"fields\":[");
	for (int i = 0; i < n; i++)
	{
		const char *kept = NULL;

		for (int k = 0; k < t->ncols && kept == NULL; k++)
			if (strcmp(t->cols[k].name, cols[i].name) == 0)
				kept = t->col_metadata[k];
		if (i > 0)
			bytebuf_putc(b, ',');
		bytebuf_puts(b, "{\"name\":");
		json_out_cstring(b, cols[i].name);
		bytebuf_puts(b, ",\"type\":");
		json_out_cstring(b, cols[i].type);
		bytebuf_puts(b, cols[i].nullable ? ",\"nullable\":true" :
					 ",\"nullable\":false");
		bytebuf_puts(b, ",\"metadata\":{");
		if (kept)				/* "{...}": its entries */
			bytebuf_append(b, kept + 1, strlen(kept) - 2);
		if (cols[i].id > 0)
		{
			bytebuf_puts(b, kept ? ",\"" DELTA_CM_FIELD_ID "\":" :
						 "\"" DELTA_CM_FIELD_ID "\":");
			delta_put_i64(b, cols[i].id);
			bytebuf_puts(b, ",\"" DELTA_CM_FIELD_NAME "\":");
			json_out_cstring(b, cols[i].physical_name);
		}
		bytebuf_puts(b, "}}");
	}
	bytebuf_puts(b, "]}");
}

static bool
delta_schema_equal(const DeltaTable *t, const DeltaColumn *cols, int n)
{
	if (t->ncols != n)
		return false;
	for (int i = 0; i < n; i++)
	{
		if (strcmp(t->cols[i].name, cols[i].name) != 0 ||
			strcmp(t->cols[i].type, cols[i].type) != 0 ||
			t->cols[i].nullable != cols[i].nullable ||
			t->cols[i].id != cols[i].id ||
			strcmp(t->cols[i].physical_name ? t->cols[i].physical_name : "",
				   cols[i].physical_name ? cols[i].physical_name : "") != 0)
			return false;
	}
	return true;
}

static bool
delta_path_ok(const char *p)
{
	if (p[0] == '\0' || p[0] == '/' || strstr(p, "..") != NULL)
		return false;
	for (; *p; p++)
	{
		char		c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
			  c == '/' || c == '='))
			return false;
	}
	return true;
}

static void
delta_put_i64(ByteBuf *b, int64_t v)
{
	char		num[32];

	snprintf(num, sizeof(num), "%" PRId64, v);
	bytebuf_puts(b, num);
}

/* A protocol action's object. */
static void
delta_put_protocol(ByteBuf *b, int min_reader, int min_writer)
{
	bytebuf_puts(b, "{\"minReaderVersion\":");
	delta_put_i64(b, min_reader);
	bytebuf_puts(b, ",\"minWriterVersion\":");
	delta_put_i64(b, min_writer);
	bytebuf_putc(b, '}');
}

/* A JSON object of strings (configuration, format options). */
static void
delta_put_map(ByteBuf *b, const char *const *keys, const char *const *values,
			  int n)
{
	bytebuf_putc(b, '{');
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			bytebuf_putc(b, ',');
		json_out_cstring(b, keys[i]);
		bytebuf_putc(b, ':');
		json_out_cstring(b, values[i]);
	}
	bytebuf_putc(b, '}');
}

/*
 * A metaData action's object, in Spark's field order: name and description
 * only when set, createdTime only when >= 0; unpartitioned (the only tables
 * this writer writes).
 */
static void
delta_put_metadata(ByteBuf *b, const DeltaMetadataAction *md)
{
	bytebuf_puts(b, "{\"id\":");
	json_out_cstring(b, md->id);
	if (md->name)
	{
		bytebuf_puts(b, ",\"name\":");
		json_out_cstring(b, md->name);
	}
	if (md->description)
	{
		bytebuf_puts(b, ",\"description\":");
		json_out_cstring(b, md->description);
	}
	bytebuf_puts(b, ",\"format\":{\"provider\":");
	json_out_cstring(b, md->format_provider ? md->format_provider : "parquet");
	bytebuf_puts(b, ",\"options\":");
	delta_put_map(b, md->format_option_keys, md->format_option_values,
				  md->nformat_options);
	bytebuf_puts(b, "},\"schemaString\":");
	json_out_cstring(b, md->schema_string);
	bytebuf_puts(b, ",\"partitionColumns\":[],\"configuration\":");
	delta_put_map(b, md->config_keys, md->config_values, md->nconfig);
	if (md->created_time >= 0)
	{
		bytebuf_puts(b, ",\"createdTime\":");
		delta_put_i64(b, md->created_time);
	}
	bytebuf_putc(b, '}');
}

/*
 * Writer versions 3 and 4 add CHECK constraints, generated columns and the
 * change data feed, which this writer does not enforce or write: a table
 * on such a protocol (as reader 2 / writer 5 tables from other engines may
 * be) is written only when it uses none of them.
 */
bool
delta_writable(const DeltaTable *t, char *errstr, size_t errlen)
{
	const char *cdf = delta_config_get(t, "delta.enableChangeDataFeed");

	for (int i = 0; t->min_writer >= 3 && i < t->config.n; i++)
		if (strncmp(t->config.keys[i], "delta.constraints.", 18) == 0)
		{
			snprintf(errstr, errlen, "table \"%s\" has a CHECK constraint "
					 "(%s), which this writer does not enforce", t->dir,
					 t->config.keys[i]);
			return false;
		}
	if (t->min_writer >= 4 && (t->generated || (cdf && strcmp(cdf, "true") == 0)))
	{
		snprintf(errstr, errlen, "table \"%s\" has %s, which this writer "
				 "does not write", t->dir,
				 t->generated ? "a generated column" : "the change data feed on");
		return false;
	}
	return true;
}

DeltaResult
delta_commit(DeltaTable *t, const DeltaCommit *c, char *errstr, size_t errlen)
{
	int64_t		v = t->version + 1;
	int64_t		now = c->timestamp ? c->timestamp : clock_wall_ms();
	ByteBuf		b = {0};
	bool		new_schema;
	char		name[64];
	char		key[4096];
	char		what[4200];
	char		uuid[40];
	ObjStoreResult put;
	bool		mapping_on;
	bool		mapped_schema;
	int64_t		max_id;

	errstr[0] = '\0';
	if (v == 0 && (c->schema == NULL || c->nschema <= 0))
	{
		snprintf(errstr, errlen, "the first commit of a table needs a schema");
		return DELTA_ERROR;
	}
	for (int i = 0; i < c->nadds; i++)
	{
		if (!delta_path_ok(c->adds[i].path))
		{
			snprintf(errstr, errlen, "add path \"%s\" is not a plain relative "
					 "path", c->adds[i].path);
			return DELTA_ERROR;
		}
	}
	new_schema = c->schema != NULL && c->nschema > 0 &&
		(v == 0 || !delta_schema_equal(t, c->schema, c->nschema));
	if (!delta_writable(t, errstr, errlen))
		return DELTA_ERROR;
	mapping_on = v > 0 && delta_column_mapping(t);
	mapped_schema = false;
	max_id = mapping_on ? delta_max_column_id(t) : 0;
	for (int i = 0; new_schema && i < c->nschema; i++)
	{
		if (c->schema[i].id > 0)
			mapped_schema = true;
		if (c->schema[i].id > max_id)
			max_id = c->schema[i].id;
	}
	for (int i = 0; (mapping_on || mapped_schema) && new_schema && i < c->nschema; i++)
	{
		if (c->schema[i].id <= 0 || c->schema[i].physical_name == NULL ||
			c->schema[i].physical_name[0] == '\0')
		{
			snprintf(errstr, errlen, "column \"%s\" has no column mapping "
					 "id and physical name", c->schema[i].name);
			return DELTA_ERROR;
		}
	}

	/* commitInfo first, as Spark does; readers do not depend on order */
	bytebuf_puts(&b, "{\"commitInfo\":{\"timestamp\":");
	delta_put_i64(&b, now);
	bytebuf_puts(&b, ",\"operation\":");
	json_out_cstring(&b, c->operation ? c->operation : "STREAMING UPDATE");
	bytebuf_puts(&b, ",\"operationParameters\":");
	bytebuf_puts(&b, c->operation_parameters_json ?
				 c->operation_parameters_json : "{}");
	bytebuf_puts(&b, ",\"readVersion\":");
	delta_put_i64(&b, v - 1);
	bytebuf_puts(&b, ",\"isBlindAppend\":true,\"engineInfo\":\""
				 DELTA_ENGINE_INFO "\"}}\n");
	if (v == 0 && !mapped_schema)
	{
		bytebuf_puts(&b, "{\"protocol\":");
		delta_put_protocol(&b, 1, 2);
		bytebuf_puts(&b, "}\n");
	}
	else if (mapped_schema && (v == 0 || t->min_reader < 2 || t->min_writer < 5))
	{
		/*
		 * Column mapping turned on, here or for an existing table (whose
		 * columns keep their names as physical names, which is how
		 * PROTOCOL.md enables it on a table with data): reader 2, writer 5.
		 */
		bytebuf_puts(&b, "{\"protocol\":");
		delta_put_protocol(&b, 2, 5);
		bytebuf_puts(&b, "}\n");
	}
	if (new_schema)
	{
		/* the table's metaData with the new schema: other fields kept */
		ByteBuf		s = {0};
		DeltaMetadataAction md;
		const char **keys = bytebuf_xcalloc(t->config.n + 2, sizeof(char *));
		const char **values = bytebuf_xcalloc(t->config.n + 2, sizeof(char *));
		const char *mode = delta_config_get(t, DELTA_CM_MODE);
		int			n = 0;
		char		max_id_text[32];

		delta_metadata_of(t, &md);
		if (t->meta_id == NULL)
		{
			delta_new_uuid(uuid);
			md.id = uuid;
		}
		if (t->created_time < 0)
			md.created_time = now;
		delta_build_schema_string(&s, t, c->schema, c->nschema);
		bytebuf_putc(&s, '\0');
		md.schema_string = (const char *) s.data;
		for (int i = 0; i < t->config.n; i++)
		{
			if (mapped_schema &&
				(strcmp(t->config.keys[i], DELTA_CM_MODE) == 0 ||
				 strcmp(t->config.keys[i], DELTA_CM_MAX_ID) == 0))
				continue;
			keys[n] = t->config.keys[i];
			values[n++] = t->config.values[i];
		}
		if (mapped_schema)
		{
			snprintf(max_id_text, sizeof(max_id_text), "%" PRId64, max_id);
			keys[n] = DELTA_CM_MODE;
			values[n++] = mapping_on && mode ? mode : "name";
			keys[n] = DELTA_CM_MAX_ID;
			values[n++] = max_id_text;
		}
		md.config_keys = keys;
		md.config_values = values;
		md.nconfig = n;
		bytebuf_puts(&b, "{\"metaData\":");
		delta_put_metadata(&b, &md);
		bytebuf_puts(&b, "}\n");
		free(keys);
		free(values);
		bytebuf_free(&s);
	}
	for (int i = 0; i < c->ntxns; i++)
	{
		bytebuf_puts(&b, "{\"txn\":{\"appId\":");
		json_out_cstring(&b, c->txns[i].app_id);
		bytebuf_puts(&b, ",\"version\":");
		delta_put_i64(&b, c->txns[i].version);
		bytebuf_puts(&b, ",\"lastUpdated\":");
		delta_put_i64(&b, c->txns[i].last_updated ? c->txns[i].last_updated : now);
		bytebuf_puts(&b, "}}\n");
	}
	for (int i = 0; i < c->nadds; i++)
	{
		const DeltaAdd *a = &c->adds[i];

		bytebuf_puts(&b, "{\"add\":{\"path\":");
		json_out_cstring(&b, a->path);
		bytebuf_puts(&b, ",\"partitionValues\":{},\"size\":");
		delta_put_i64(&b, a->size);
		bytebuf_puts(&b, ",\"modificationTime\":");
		delta_put_i64(&b, a->modification_time ? a->modification_time : now);
		bytebuf_puts(&b, ",\"dataChange\":true");
		if (a->stats_json)
		{
			bytebuf_puts(&b, ",\"stats\":");
			json_out_cstring(&b, a->stats_json);
		}
		bytebuf_puts(&b, "}}\n");
	}

	delta_commit_name(v, name, sizeof(name));
	delta_log_key(t, name, key, sizeof(key));
	put = objstore_put_if_absent(t->store, key, b.data, b.len, errstr, errlen);
	if (put == OBJSTORE_EXISTS)
	{
		bytebuf_free(&b);
		snprintf(errstr, errlen, "version %" PRId64 " of \"%s\" already "
				 "exists: another writer committed to this table", v, t->dir);
		return DELTA_CONFLICT;
	}
	if (put != OBJSTORE_OK)
	{
		/*
		 * Perhaps written, perhaps not (a local fsync that failed after the
		 * link, an S3 answer that never came): the caller must stop and
		 * read the log again, never assume either.
		 */
		bytebuf_free(&b);
		return DELTA_ERROR;
	}

	/* the committed text is the state change: apply it as a reader would */
	bytebuf_putc(&b, '\0');
	snprintf(what, sizeof(what), "%s/%s", t->log_dir, name);
	if (!delta_replay_text(t, (char *) b.data, what, errstr, errlen))
	{
		t->state_broken = true;
		bytebuf_free(&b);
		return DELTA_ERROR;
	}
	bytebuf_free(&b);
	t->version = v;

	/* the commit stands whatever follows: failures are warnings */
	{
		char		crcerr[512];
		char		cperr[512];
		bool		crc_ok = delta_write_checksum(t, crcerr, sizeof(crcerr));
		bool		cp_ok = t->checkpoint_interval <= 0 || v == 0 ||
			v % t->checkpoint_interval != 0 ||
			delta_checkpoint(t, cperr, sizeof(cperr));

		if (!crc_ok || !cp_ok)
			snprintf(errstr, errlen, "commit %" PRId64 " done%s%s%s%s", v,
					 crc_ok ? "" : ", version checksum not written: ",
					 crc_ok ? "" : crcerr,
					 cp_ok ? "" : ", checkpoint failed: ",
					 cp_ok ? "" : cperr);
	}
	return DELTA_OK;
}

/* ---------- version checksums ---------- */

/*
 * Writes _delta_log/<version>.crc for t->version (PROTOCOL.md "Version
 * Checksum File"): the live files' count and bytes, the metaData and
 * protocol, and the txns.  Called right after the commit, when the state
 * is exactly that version's: the replay before it was complete (delta_open
 * or delta_refresh) and the commit's own actions are applied.  A missing
 * checksum is allowed (readers must cope), a wrong one is not, so none is
 * written when the state is not exact: a replay failed half-way.  The
 * metaData is every field the log's has (another engine's name,
 * description, format options too).  Never overwrites an existing one.
 *
 * Optional fields: setTransactions, unless a retention duration makes
 * readers drop old txns by their own clock or a txn lacks lastUpdated
 * (which the state does not keep apart from 0); no allFiles (one entry
 * per live file in every commit would grow with the table), no
 * fileSizeHistogram (PROTOCOL.md and Delta Spark 3.3 name it differently,
 * and neither checks it), no txnId.  Domain metadata, deletion vectors and
 * in-commit timestamps need protocol features this writer does not write.
 *
 * Returns false (errstr says why) when the put failed.
 */
static bool
delta_write_checksum(DeltaTable *t, char *errstr, size_t errlen)
{
	ByteBuf		b = {0};
	char		name[64];
	char		key[4096];
	bool		txns = delta_config_get(t, "delta.setTransactionRetentionDuration") == NULL;
	DeltaMetadataAction md;
	ObjStoreResult r;

	if (t->version < 0 || t->state_broken)
		return true;
	for (int i = 0; i < t->ntxns; i++)
		txns &= t->txns[i].last_updated > 0;

	bytebuf_puts(&b, "{\"tableSizeBytes\":");
	delta_put_i64(&b, t->live_bytes);
	bytebuf_puts(&b, ",\"numFiles\":");
	delta_put_i64(&b, t->live_count);
	bytebuf_puts(&b, ",\"numMetadata\":1,\"numProtocol\":1");
	if (txns)
	{
		bytebuf_puts(&b, ",\"setTransactions\":[");
		for (int i = 0; i < t->ntxns; i++)
		{
			bytebuf_puts(&b, i > 0 ? ",{\"appId\":" : "{\"appId\":");
			json_out_cstring(&b, t->txns[i].app_id);
			bytebuf_puts(&b, ",\"version\":");
			delta_put_i64(&b, t->txns[i].version);
			bytebuf_puts(&b, ",\"lastUpdated\":");
			delta_put_i64(&b, t->txns[i].last_updated);
			bytebuf_putc(&b, '}');
		}
		bytebuf_putc(&b, ']');
	}
	delta_metadata_of(t, &md);
	bytebuf_puts(&b, ",\"metadata\":");
	delta_put_metadata(&b, &md);
	bytebuf_puts(&b, ",\"protocol\":");
	delta_put_protocol(&b, t->min_reader, t->min_writer);
	bytebuf_puts(&b, "}\n");

	snprintf(name, sizeof(name), "%020" PRId64 ".crc", t->version);
	delta_log_key(t, name, key, sizeof(key));
	r = objstore_put_if_absent(t->store, key, b.data, b.len, errstr, errlen);
	bytebuf_free(&b);
	if (r == OBJSTORE_EXISTS)
		snprintf(errstr, errlen, "\"%s/%s\" already exists", t->log_dir, name);
	return r == OBJSTORE_OK;
}

/* ---------- checkpoints ---------- */

bool
delta_checkpoint(DeltaTable *t, char *errstr, size_t errlen)
{
	DeltaCheckpointInput in = {0};
	DeltaTxn   *txns;
	DeltaAdd   *adds;
	char		name[64];
	char		key[4096];
	int64_t		nactions = 0;
	ByteBuf		b = {0};
	bool		ok;

	if (t->version < 0)
	{
		snprintf(errstr, errlen, "empty table has nothing to checkpoint");
		return false;
	}
	delta_build_live(t);
	txns = calloc(t->ntxns + 1, sizeof(DeltaTxn));
	adds = calloc(t->nlive + 1, sizeof(DeltaAdd));
	for (int i = 0; i < t->ntxns; i++)
	{
		txns[i].app_id = t->txns[i].app_id;
		txns[i].version = t->txns[i].version;
		txns[i].last_updated = t->txns[i].last_updated;
	}
	for (int i = 0; i < t->nlive; i++)
	{
		DeltaFileEntry *f = &t->files[t->live[i]];

		adds[i].path = f->path;
		adds[i].size = f->size;
		adds[i].modification_time = f->modification_time;
		adds[i].stats_json = f->stats;
	}
	in.min_reader = t->min_reader;
	in.min_writer = t->min_writer;
	delta_metadata_of(t, &in.meta);
	in.txns = txns;
	in.ntxns = t->ntxns;
	in.adds = adds;
	in.nadds = t->nlive;

	/* both are put whole: complete or absent, never partial */
	delta_checkpoint_build(&in, &b, &nactions);
	free(txns);
	free(adds);
	snprintf(name, sizeof(name), "%020" PRId64 ".checkpoint.parquet", t->version);
	delta_log_key(t, name, key, sizeof(key));
	ok = objstore_put(t->store, key, b.data, b.len, errstr, errlen) == OBJSTORE_OK;
	bytebuf_free(&b);
	if (!ok)
		return false;

	/* _last_checkpoint is a hint */
	bytebuf_puts(&b, "{\"version\":");
	delta_put_i64(&b, t->version);
	bytebuf_puts(&b, ",\"size\":");
	delta_put_i64(&b, nactions);
	bytebuf_puts(&b, "}\n");
	delta_log_key(t, "_last_checkpoint", key, sizeof(key));
	ok = objstore_put(t->store, key, b.data, b.len, errstr, errlen) == OBJSTORE_OK;
	bytebuf_free(&b);
	return ok;
}
