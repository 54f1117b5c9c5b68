/*-------------------------------------------------------------------------
 * repl.c
 *	  Replication protocol client (see pg_recvlogical.c's StreamLogicalLog,
 *	  whose message handling this follows).
 *
 *	  Errors carry libpq's or the server's message, never the connection
 *	  string: it may hold a password.
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/time.h>

#include "log.h"
#include "repl.h"

/* Seconds from the Unix epoch to PostgreSQL's, 2000-01-01. */
#define REPL_EPOCH_DIFF_SECS 946684800LL

static void
repl_put64(char *buf, uint64_t v)
{
	for (int i = 7; i >= 0; i--)
	{
		buf[i] = (char) (v & 0xff);
		v >>= 8;
	}
}

static uint64_t
repl_get64(const char *buf)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | (unsigned char) buf[i];
	return v;
}

static int64_t
repl_now_pg(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return ((int64_t) tv.tv_sec - REPL_EPOCH_DIFF_SECS) * 1000000 + tv.tv_usec;
}

bool
repl_parse_lsn(const char *text, uint64_t *lsn)
{
	unsigned int hi,
				lo;
	int			n = 0;

	if (sscanf(text, "%X/%X%n", &hi, &lo, &n) != 2 || text[n] != '\0')
		return false;
	*lsn = ((uint64_t) hi << 32) | lo;
	return true;
}

/* Copy a libpq/server message into errstr, folded onto one line. */
static void
repl_set_error(Repl *r, const PGresult *res, const char *what,
			   char *errstr, size_t errstr_size)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(r->conn);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	size_t		n;

	snprintf(errstr, errstr_size, "%s: %s", what,
			 msg && *msg ? msg : "connection lost");
	n = strlen(errstr);
	while (n > 0 && (errstr[n - 1] == '\n' || errstr[n - 1] == ' '))
		errstr[--n] = '\0';
	for (char *p = errstr; *p; p++)
		if (*p == '\n')
			*p = ' ';

	/*
	 * Retry when the connection broke or the server is starting, stopping,
	 * or still has the slot in use by a walsender that has not noticed our
	 * previous process died (55006).  Anything else needs a human.
	 */
	r->retryable = r->conn == NULL || PQstatus(r->conn) != CONNECTION_OK ||
		state == NULL ||
		strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
		strcmp(state, "55006") == 0 || strcmp(state, "53300") == 0;
}

/*
 * libpq's parse errors quote what they could not parse, and that can be
 * part of a password: "50%off" in a URI ("invalid percent-encoded token"),
 * the second word of an unquoted password=two words ("missing \"=\""), or
 * with password=foo bar=baz the "option" bar.  Parse the string first and
 * say what is wrong without quoting any of it.  As with expand_dbname, a
 * string without "=" that is not a URI is a database name.
 */
static bool
repl_check_conninfo(const char *conninfo, char *errstr, size_t errstr_size)
{
	PQconninfoOption *opts;
	char	   *err = NULL;

	if (strchr(conninfo, '=') == NULL &&
		strncmp(conninfo, "postgresql://", 13) != 0 &&
		strncmp(conninfo, "postgres://", 11) != 0)
		return true;
	opts = PQconninfoParse(conninfo, &err);
	if (opts != NULL)
	{
		PQconninfoFree(opts);
		return true;
	}
	PQfreemem(err);
	snprintf(errstr, errstr_size, "could not connect to PostgreSQL: the "
			 "connection string cannot be parsed (an unknown keyword, a value "
			 "with spaces not in single quotes, or a bad %%-escape in a URI; "
			 "libpq's message is not shown, it may quote a password)");
	return false;
}

bool
repl_connect(Repl *r, const char *conninfo, bool replication,
			 char *errstr, size_t errstr_size)
{
	/* later entries override what the expanded connection string says */
	const char *keys[] = {"dbname", "replication", "fallback_application_name", NULL};
	const char *vals[] = {conninfo, replication ? "database" : NULL,
	"cdc_kafka_sidecar", NULL};
	PGresult   *res;

	memset(r, 0, sizeof(*r));
	if (!repl_check_conninfo(conninfo, errstr, errstr_size))
		return false;			/* not retryable */
	if (!replication)
	{
		keys[1] = "fallback_application_name";
		vals[1] = "cdc_kafka_sidecar";
		keys[2] = NULL;
	}
	r->conn = PQconnectdbParams(keys, vals, 1);
	if (r->conn == NULL || PQstatus(r->conn) != CONNECTION_OK)
	{
		repl_set_error(r, NULL, "could not connect to PostgreSQL", errstr, errstr_size);
		r->retryable = true;
		repl_close(r);
		return false;
	}
	if (!replication)
		return true;

	res = PQexec(r->conn, "IDENTIFY_SYSTEM");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 4)
	{
		repl_set_error(r, res, "IDENTIFY_SYSTEM failed", errstr, errstr_size);
		PQclear(res);
		repl_close(r);
		return false;
	}
	if (PQgetisnull(res, 0, 3))
	{
		snprintf(errstr, errstr_size,
				 "the connection string must name a database (logical replication is per database)");
		r->retryable = false;
		PQclear(res);
		repl_close(r);
		return false;
	}
	r->dbname = strdup(PQgetvalue(res, 0, 3));
	PQclear(res);
	return true;
}

void
repl_close(Repl *r)
{
	if (r->copybuf)
		PQfreemem(r->copybuf);
	r->copybuf = NULL;
	if (r->conn)
		PQfinish(r->conn);
	r->conn = NULL;
	free(r->dbname);
	r->dbname = NULL;
}

bool
repl_create_slot(Repl *r, const char *slot, bool temporary, bool export_snapshot,
				 char *snapshot, bool *existed, uint64_t *consistent_lsn,
				 char *errstr, size_t errstr_size)
{
	char		sql[256];
	PGresult   *res;
	const char *state;

	*existed = false;
	snapshot[0] = '\0';
	*consistent_lsn = 0;
	/* slot names are checked to be [a-z0-9_] before we get here */
	snprintf(sql, sizeof(sql),
			 "CREATE_REPLICATION_SLOT \"%s\"%s LOGICAL cdc_kafka (SNAPSHOT '%s')",
			 slot, temporary ? " TEMPORARY" : "",
			 export_snapshot ? "export" : "nothing");
	res = PQexec(r->conn, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
	{
		if (!PQgetisnull(res, 0, 2))
			snprintf(snapshot, 64, "%s", PQgetvalue(res, 0, 2));
		repl_parse_lsn(PQgetvalue(res, 0, 1), consistent_lsn);
		PQclear(res);
		return true;
	}
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state && strcmp(state, "42710") == 0)
	{
		*existed = true;
		PQclear(res);
		return true;
	}
	repl_set_error(r, res, "could not create replication slot", errstr, errstr_size);
	PQclear(res);
	return false;
}

bool
repl_drop_slot(Repl *r, const char *slot, char *errstr, size_t errstr_size)
{
	char		sql[128];
	PGresult   *res;
	bool		ok;

	snprintf(sql, sizeof(sql), "DROP_REPLICATION_SLOT \"%s\" WAIT", slot);
	res = PQexec(r->conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		repl_set_error(r, res, "could not drop replication slot", errstr, errstr_size);
	PQclear(res);
	return ok;
}

bool
repl_failover_supported(Repl *r, const char **why)
{
	const char *standby = PQparameterStatus(r->conn, "in_hot_standby");

	if (PQserverVersion(r->conn) < 170000)
	{
		*why = "failover slots need PostgreSQL 17";
		return false;
	}
	if (standby && strcmp(standby, "on") == 0)
	{
		*why = "a slot made on a standby cannot be a failover slot";
		return false;
	}
	*why = NULL;
	return true;
}

bool
repl_set_slot_failover(Repl *r, const char *slot, char *errstr, size_t errstr_size)
{
	char		sql[128];
	PGresult   *res;
	bool		ok;

	snprintf(sql, sizeof(sql), "ALTER_REPLICATION_SLOT \"%s\" (FAILOVER true)", slot);
	res = PQexec(r->conn, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		repl_set_error(r, res, "could not make the replication slot a failover slot",
					   errstr, errstr_size);
	PQclear(res);
	return ok;
}

/* Appends s as a quoted literal (quote doubled) to buf. */
static bool
repl_append_quoted(char *buf, size_t size, size_t *len, const char *s, char quote)
{
	if (*len + 1 >= size)
		return false;
	buf[(*len)++] = quote;
	for (; *s; s++)
	{
		if (*len + 3 >= size)
			return false;
		if (*s == quote)
			buf[(*len)++] = quote;
		buf[(*len)++] = *s;
	}
	buf[(*len)++] = quote;
	buf[*len] = '\0';
	return true;
}

bool
repl_start(Repl *r, const char *slot, uint64_t startpos,
		   const char *const *names, const char *const *values, int noptions,
		   char *errstr, size_t errstr_size)
{
	char		sql[8192];
	size_t		len;
	PGresult   *res;

	len = (size_t) snprintf(sql, sizeof(sql),
							"START_REPLICATION SLOT \"%s\" LOGICAL %X/%X",
							slot, (uint32_t) (startpos >> 32), (uint32_t) startpos);
	for (int i = 0; i < noptions; i++)
	{
		if (len + 3 >= sizeof(sql))
			goto toolong;
		strcpy(sql + len, i == 0 ? " (" : ", ");
		len += 2;
		if (!repl_append_quoted(sql, sizeof(sql), &len, names[i], '"'))
			goto toolong;
		if (values[i] != NULL)
		{
			sql[len++] = ' ';
			if (!repl_append_quoted(sql, sizeof(sql), &len, values[i], '\''))
				goto toolong;
		}
	}
	if (noptions > 0)
	{
		if (len + 2 >= sizeof(sql))
			goto toolong;
		sql[len++] = ')';
		sql[len] = '\0';
	}
	res = PQexec(r->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		repl_set_error(r, res, "could not start replication", errstr, errstr_size);
		PQclear(res);
		return false;
	}
	PQclear(res);
	r->server_wal_end = 0;
	r->reply_requested = false;
	return true;

toolong:
	snprintf(errstr, errstr_size, "plugin options too long");
	r->retryable = false;
	return false;
}

/* The end of the COPY: fetch the server's reason. */
static int
repl_copy_ended(Repl *r, char *errstr, size_t errstr_size)
{
	PGresult   *res = PQgetResult(r->conn);

	if (res && PQresultStatus(res) == PGRES_COPY_IN)
	{
		/* the server ended its side (e.g. shutdown): close ours */
		PQclear(res);
		PQputCopyEnd(r->conn, NULL);
		PQflush(r->conn);
		res = PQgetResult(r->conn);
	}
	if (res && PQresultStatus(res) != PGRES_COMMAND_OK)
		repl_set_error(r, res, "replication stream ended", errstr, errstr_size);
	else
	{
		snprintf(errstr, errstr_size, "replication stream ended by the server");
		r->retryable = true;
	}
	PQclear(res);
	return REPL_ERROR;
}

int
repl_read(Repl *r, int timeout_ms, int wake_fd, const char **data, size_t *len,
		  char *errstr, size_t errstr_size)
{
	int			n;
	bool		consumed = false;

	if (r->copybuf)
	{
		PQfreemem(r->copybuf);
		r->copybuf = NULL;
	}
	for (;;)
	{
		n = PQgetCopyData(r->conn, &r->copybuf, 1);
		if (n == 0 && !consumed)
		{
			/*
			 * libpq reads at most its buffer (16 kB, some 30 events) at a
			 * time.  Under load the socket has more: one non-blocking read
			 * takes it without a select() first, so a caller reading with
			 * timeout 0 gets a whole batch, not one buffer's worth.
			 */
			consumed = true;
			if (PQconsumeInput(r->conn) == 0)
			{
				repl_set_error(r, NULL, "could not receive data", errstr, errstr_size);
				return REPL_ERROR;
			}
			continue;
		}
		if (n == 0)
		{
			fd_set		rfds;
			struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
			int			sock = PQsocket(r->conn);
			int			maxfd = sock > wake_fd ? sock : wake_fd;
			int			rc;

			if (timeout_ms <= 0)
				return REPL_NONE;
			FD_ZERO(&rfds);
			FD_SET(sock, &rfds);
			if (wake_fd >= 0)
				FD_SET(wake_fd, &rfds);
			rc = select(maxfd + 1, &rfds, NULL, NULL, &tv);
			if (rc < 0 && errno != EINTR)
			{
				snprintf(errstr, errstr_size, "select: %s", strerror(errno));
				r->retryable = true;
				return REPL_ERROR;
			}
			if (rc <= 0 || !FD_ISSET(sock, &rfds))
				return REPL_NONE;
			if (PQconsumeInput(r->conn) == 0)
			{
				repl_set_error(r, NULL, "could not receive data", errstr, errstr_size);
				return REPL_ERROR;
			}
			timeout_ms = 0;		/* one wait per call: the caller has work */
			continue;
		}
		if (n == -1)
			return repl_copy_ended(r, errstr, errstr_size);
		if (n < -1)
		{
			repl_set_error(r, NULL, "could not read replication data", errstr, errstr_size);
			return REPL_ERROR;
		}

		if (r->copybuf[0] == 'k')
		{
			/* keepalive: walEnd, sendTime, replyRequested */
			if (n < 1 + 8 + 8 + 1)
				goto badmsg;
			r->server_wal_end = repl_get64(r->copybuf + 1);
			if (r->copybuf[17])
				r->reply_requested = true;
			r->keepalive_seen = true;
			PQfreemem(r->copybuf);
			r->copybuf = NULL;
			return REPL_NONE;
		}
		if (r->copybuf[0] == 'w')
		{
			/* XLogData: dataStart, walEnd, sendTime, then the payload */
			if (n < 1 + 8 + 8 + 8)
				goto badmsg;
			r->received = repl_get64(r->copybuf + 1);
			*data = r->copybuf + 25;
			*len = (size_t) n - 25;
			return REPL_DATA;
		}
		goto badmsg;
	}

badmsg:
	snprintf(errstr, errstr_size, "unexpected replication message (type 0x%02x, %d bytes)",
			 (unsigned char) r->copybuf[0], n);
	r->retryable = false;
	return REPL_ERROR;
}

bool
repl_send_feedback(Repl *r, uint64_t flush_lsn, bool reply_requested,
				   char *errstr, size_t errstr_size)
{
	char		buf[1 + 8 + 8 + 8 + 8 + 1];

	/*
	 * write = flush = apply: the one LSN whose transactions Kafka holds.
	 * Postgres keeps everything after it (pg_recvlogical's sendFeedback).
	 */
	buf[0] = 'r';
	repl_put64(buf + 1, flush_lsn);
	repl_put64(buf + 9, flush_lsn);
	repl_put64(buf + 17, flush_lsn);
	repl_put64(buf + 25, (uint64_t) repl_now_pg());
	buf[33] = reply_requested ? 1 : 0;
	if (PQputCopyData(r->conn, buf, sizeof(buf)) <= 0 || PQflush(r->conn) != 0)
	{
		repl_set_error(r, NULL, "could not send feedback", errstr, errstr_size);
		return false;
	}
	return true;
}
