/*-------------------------------------------------------------------------
 * snapshot.c
 *	  Runs the initial snapshot on an ordinary connection:
 *	    BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
 *	    SET TRANSACTION SNAPSHOT '<exported>';
 *	  then snapshot_events() per table, rows fetched in single-row mode so
 *	  client memory stays bounded whatever the table size.
 *
 *	  Tables the plugin options exclude make snapshot_events() fail with
 *	  22023; each table runs under a savepoint and such tables are skipped.
 *	  The plugin marks each table's first and last rows; the events of the
 *	  whole snapshot are held back one row, so that the first can be marked
 *	  "snapshot":"first" and the final one "last", as Debezium marks them.
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "log.h"
#include "repl.h"
#include "snapshot.h"

/* Which tables the stream publishes, in a stable order. */
#define SNAPSHOT_TABLES_SQL \
	"SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_catalog.pg_class c " \
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " \
	"WHERE c.relpersistence = 'p' " \
	"AND n.nspname NOT IN ('pg_catalog', 'information_schema') " \
	"AND n.nspname !~ '^pg_(toast|temp)' " \
	"AND ((NOT $1::bool AND c.relkind = 'r') OR " \
	"     ($1::bool AND c.relkind IN ('r', 'p') AND NOT c.relispartition)) " \
	"ORDER BY n.nspname, c.relname"

typedef struct SnapshotHeld
{
	char	   *topic;			/* owned; NULL when nothing is held */
	char	   *key;			/* owned; NULL for a null key */
	int32_t		key_len;
	char	   *value;			/* owned */
	int32_t		value_len;
} SnapshotHeld;

static void
snapshot_held_clear(SnapshotHeld *h)
{
	free(h->topic);
	free(h->key);
	free(h->value);
	memset(h, 0, sizeof(*h));
}

/*
 * Replaces the value of the held event's source.snapshot with mark.  Its
 * last occurrence: "before" and "after" come first and may have a column
 * named snapshot, what follows "source" (transaction, op, ts_*) has none,
 * and the schema block names the field without a value.
 */
static bool
snapshot_remark(SnapshotHeld *h, const char *mark)
{
	static const char key[] = "\"snapshot\":\"";
	char	   *at = NULL;
	char	   *end;
	char	   *v;
	size_t		head;
	size_t		tail;

	for (char *p = strstr(h->value, key); p; p = strstr(p + 1, key))
		at = p;
	if (at == NULL || (end = strchr(at + sizeof(key) - 1, '"')) == NULL)
		return true;
	head = (size_t) (at - h->value) + sizeof(key) - 1;
	tail = (size_t) h->value_len - (size_t) (end - h->value);
	v = malloc(head + strlen(mark) + tail + 1);
	if (v == NULL)
		return false;
	memcpy(v, h->value, head);
	memcpy(v + head, mark, strlen(mark));
	memcpy(v + head + strlen(mark), end, tail);
	v[head + strlen(mark) + tail] = '\0';
	free(h->value);
	h->value = v;
	h->value_len = (int32_t) (head + strlen(mark) + tail);
	return true;
}

/* Emits the held row, marked first or last of the snapshot when it is. */
static bool
snapshot_flush_held(const SnapshotRequest *req, SnapshotHeld *h, bool first,
					bool last, char *errstr, size_t errstr_size)
{
	bool		ok;

	if (h->topic == NULL)
		return true;
	if ((last || first) && !snapshot_remark(h, last ? "last" : "first"))
	{
		snprintf(errstr, errstr_size, "out of memory");
		return false;
	}
	ok = req->emit(req->emit_arg, h->topic, h->key, h->key_len,
				   h->value, h->value_len, errstr, errstr_size);
	snapshot_held_clear(h);
	return ok;
}

static char *
snapshot_dup(const char *s, int len)
{
	char	   *d = malloc((size_t) len + 1);

	if (d)
	{
		memcpy(d, s, (size_t) len);
		d[len] = '\0';
	}
	return d;
}

/*
 * The options as a text[] literal: {"name","value",...}, with snapshot-lsn
 * unless old_plugin (a plugin older than the sidecar, which refuses it).
 */
static char *
snapshot_options_literal(const SnapshotRequest *req, bool old_plugin)
{
	size_t		size = 3;
	char	   *lit;
	char	   *o;

	char		lsn[32];

	snprintf(lsn, sizeof(lsn), "%X/%X", (unsigned) (req->snapshot_lsn >> 32),
			 (unsigned) req->snapshot_lsn);
	size += strlen("\"snapshot-lsn\",\"\",") + strlen(lsn);
	for (int i = 0; i < req->noptions; i++)
		size += 2 * (strlen(req->opt_names[i]) +
					 (req->opt_values[i] ? strlen(req->opt_values[i]) : 4)) + 8;
	lit = malloc(size);
	if (lit == NULL)
		return NULL;
	o = lit;
	*o++ = '{';
	for (int i = 0; i < req->noptions; i++)
	{
		const char *parts[2] = {req->opt_names[i],
		req->opt_values[i] ? req->opt_values[i] : "true"};

		if (strcmp(req->opt_names[i], "format") == 0 ||
			strcmp(req->opt_names[i], "headers") == 0)
			continue;
		for (int j = 0; j < 2; j++)
		{
			if (o > lit + 1)
				*o++ = ',';
			*o++ = '"';
			for (const char *s = parts[j]; *s; s++)
			{
				if (*s == '"' || *s == '\\')
					*o++ = '\\';
				*o++ = *s;
			}
			*o++ = '"';
		}
	}
	/* where the snapshot stands: the events' source.lsn, as Debezium's */
	if (!old_plugin)
		o += sprintf(o, "%s\"snapshot-lsn\",\"%s\"", o > lit + 1 ? "," : "", lsn);
	*o++ = '}';
	*o = '\0';
	return lit;
}

static bool
snapshot_exec(PGconn *conn, const char *sql, char *errstr, size_t errstr_size)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		snprintf(errstr, errstr_size, "snapshot: %s: %s", sql,
				 PQresultErrorMessage(res));
	PQclear(res);
	return ok;
}

/*
 * One table's rows; *excluded when the plugin options leave it out,
 * *old_plugin when the plugin does not know snapshot-lsn.
 */
static bool
snapshot_table(const SnapshotRequest *req, PGconn *conn, const char *table,
			   const char *options, SnapshotHeld *held, uint64_t *rows,
			   bool *excluded, bool *old_plugin, char *errstr, size_t errstr_size)
{
	const char *params[2] = {table, options};
	PGresult   *res;
	bool		ok = true;

	*excluded = false;
	*old_plugin = false;
	if (!PQsendQueryParams(conn,
						   "SELECT topic, key, value FROM cdc_kafka.snapshot_events($1::regclass, NULL, $2::text[])",
						   2, NULL, params, NULL, NULL, 0) ||
		!PQsetSingleRowMode(conn))
	{
		snprintf(errstr, errstr_size, "snapshot of %s: %s", table, PQerrorMessage(conn));
		return false;
	}
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_SINGLE_TUPLE && ok)
		{
			if (!snapshot_flush_held(req, held, *rows == 1, false, errstr, errstr_size))
				ok = false;
			else
			{
				held->topic = snapshot_dup(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0));
				held->key_len = PQgetisnull(res, 0, 1) ? -1 : PQgetlength(res, 0, 1);
				held->key = held->key_len < 0 ? NULL :
					snapshot_dup(PQgetvalue(res, 0, 1), held->key_len);
				held->value_len = PQgetlength(res, 0, 2);
				held->value = snapshot_dup(PQgetvalue(res, 0, 2), held->value_len);
				(*rows)++;
			}
			if (req->stop && *req->stop && ok)
			{
				snprintf(errstr, errstr_size, "snapshot interrupted");
				ok = false;
			}
			/* on failure, keep reading so the connection stays usable */
		}
		else if (st == PGRES_FATAL_ERROR)
		{
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			if (state && strcmp(state, "22023") == 0 &&
				strstr(PQresultErrorMessage(res), "excluded") != NULL)
				*excluded = true;
			else if (state && strcmp(state, "22023") == 0 &&
					 strstr(PQresultErrorMessage(res), "\"snapshot-lsn\" is unknown") != NULL)
				*old_plugin = true;
			else
			{
				snprintf(errstr, errstr_size, "snapshot of %s: %s", table,
						 PQresultErrorMessage(res));
				ok = false;
			}
		}
		PQclear(res);
	}
	return ok;
}

bool
snapshot_run(const SnapshotRequest *req, uint64_t *rows, char *errstr, size_t errstr_size)
{
	Repl		db;
	PGresult   *tables = NULL;
	SnapshotHeld held = {0};
	char	   *options = snapshot_options_literal(req, false);
	char		sql[256];
	bool		ok = false;
	bool		publish_root = false;
	const char *param[1];

	*rows = 0;
	for (int i = 0; i < req->noptions; i++)
	{
		if (strcmp(req->opt_names[i], "publish-via-partition-root") == 0)
		{
			publish_root = true;
			if (req->opt_values[i] != NULL)
				config_parse_pg_bool(req->opt_values[i], &publish_root);
		}
	}
	if (options == NULL)
	{
		snprintf(errstr, errstr_size, "out of memory");
		return false;
	}
	if (!repl_connect(&db, req->conninfo, false, errstr, errstr_size))
	{
		free(options);
		return false;
	}
	snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT '%s'", req->snapshot_name);
	if (!snapshot_exec(db.conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
					   errstr, errstr_size) ||
		!snapshot_exec(db.conn, sql, errstr, errstr_size))
		goto done;

	param[0] = publish_root ? "true" : "false";
	tables = PQexecParams(db.conn, SNAPSHOT_TABLES_SQL, 1, NULL, param, NULL, NULL, 0);
	if (PQresultStatus(tables) != PGRES_TUPLES_OK)
	{
		snprintf(errstr, errstr_size, "snapshot: listing tables: %s",
				 PQresultErrorMessage(tables));
		goto done;
	}
	for (int i = 0; i < PQntuples(tables); i++)
	{
		const char *table = PQgetvalue(tables, i, 0);
		uint64_t	before = *rows;
		bool		excluded;
		bool		old_plugin;

		if (!snapshot_exec(db.conn, "SAVEPOINT cdc_kafka_table", errstr, errstr_size))
			goto done;
		if (!snapshot_table(req, db.conn, table, options, &held, rows, &excluded,
							&old_plugin, errstr, errstr_size))
			goto done;
		if (old_plugin)
		{
			/* read the tables as that plugin can: positions null, all "true" */
			log_warn("the plugin does not know the option snapshot-lsn (an older cdc_kafka): "
					 "snapshot events without their LSN and table marks");
			free(options);
			options = snapshot_options_literal(req, true);
			if (options == NULL ||
				!snapshot_exec(db.conn, "ROLLBACK TO SAVEPOINT cdc_kafka_table", errstr, errstr_size))
				goto done;
			i--;
			continue;
		}
		if (excluded)
		{
			if (!snapshot_exec(db.conn, "ROLLBACK TO SAVEPOINT cdc_kafka_table",
							   errstr, errstr_size))
				goto done;
			log_debug("snapshot: %s is excluded by the plugin options", table);
			continue;
		}
		log_info("snapshot: %s: %llu row(s)", table, (unsigned long long) (*rows - before));
	}
	if (!snapshot_flush_held(req, &held, false, true, errstr, errstr_size))
		goto done;
	snapshot_exec(db.conn, "COMMIT", errstr, errstr_size);
	ok = true;

done:
	snapshot_held_clear(&held);
	PQclear(tables);
	free(options);
	repl_close(&db);
	return ok;
}
