/*-------------------------------------------------------------------------
 *
 * tds_push.c
 *		SQL functions that talk to SQL Server / Azure SQL through a tds_fdw
 *		foreign server: telem.tds_exec, telem.tds_query, telem.tds_bulk_copy.
 *
 * The PostgreSQL side of the TDS client (tds_client.c is the FreeTDS side):
 * the server's options and the user mapping's credentials are read as
 * tds_fdw reads them, each call opens its own session and closes it before
 * returning or while its error propagates, retries follow one policy, and a
 * TdsError becomes an SQLSTATE in exactly one place (tds_sqlstate).
 *
 * Retries.  Connecting is always safe to repeat: every function retries a
 * transient connect or login failure (a socket error, a login timeout, or
 * server error 40613, 40501, 40197, 49918-49920, 10928, 10929, 4060, 1205).
 * tds_exec(retry => true) also repeats a batch that the server answered with
 * one of those errors, since an error from the server means it rolled the
 * batch back (the session runs with XACT_ABORT ON; a batch that commits in
 * more than one transaction is not safe to repeat and should not ask for
 * retries).  A connection lost after a batch was sent is never retried: the
 * batch may have committed, and the error says so (08007).  Bulk copy is
 * never retried past connecting.  Attempts: at most TDS_MAX_ATTEMPTS, the
 * waits doubling from TDS_BACKOFF_MS, on the latch (interruptible).
 *
 * Encryption.  tds_fdw's validator refuses options it does not know, so a
 * server cannot carry a setting of ours.  TLS is therefore required for
 * every host that is not loopback (127.0.0.0/8, ::1, localhost), and left to
 * FreeTDS's configuration (by default "request") for loopback.  A freetds.conf
 * alias as servername counts as a host name: it must resolve in DNS, since
 * the connection's own configuration section takes its place.
 *
 * IDENTIFICATION
 *		src/loader/tds_push.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "../telem_fdw.h"
#include "tds_client.h"

/* tds_fdw's option names (its options.c), spelled out once */
#define TDS_FDW_NAME			"tds_fdw"
#define TDS_OPT_SERVERNAME		"servername"
#define TDS_OPT_PORT			"port"
#define TDS_OPT_DATABASE		"database"
#define TDS_OPT_DBUSE			"dbuse"
#define TDS_OPT_TDS_VERSION		"tds_version"
#define TDS_OPT_LANGUAGE		"language"
#define TDS_OPT_USERNAME		"username"
#define TDS_OPT_PASSWORD		"password"
#define TDS_DEFAULT_SERVERNAME	"127.0.0.1"	/* tds_fdw's default */

#define TDS_MAX_ATTEMPTS		5
#define TDS_BACKOFF_MS			200
#define TDS_LOGIN_TIMEOUT_S		30
#define TDS_BATCH_EXCERPT		200
#define TDS_FETCH_ROWS			1000

typedef enum TdsOperation
{
	TDS_OP_EXEC,
	TDS_OP_QUERY,
	TDS_OP_BULK
} TdsOperation;

/* A tds_fdw server's options and the caller's credentials for it. */
typedef struct TdsTarget
{
	const char *server;			/* the foreign server's name */
	List	   *hosts;			/* servername, split at commas */
	int			port;
	char	   *database;
	bool		dbuse;
	char	   *tds_version;
	char	   *language;
	char	   *username;
	char	   *password;
} TdsTarget;

/* ----------------------------------------------------------------------
 * Options and credentials
 * ----------------------------------------------------------------------
 */

/*
 * Fill t from foreign server 'server' and the current user's mapping for it
 * (or PUBLIC's).  The server must use tds_fdw and the user needs USAGE on it.
 */
static void
tds_read_target(const char *server, TdsTarget *t)
{
	ForeignServer *fs = GetForeignServerByName(server, false);
	ForeignDataWrapper *fdw = GetForeignDataWrapper(fs->fdwid);
	UserMapping *um;
	AclResult	aclresult;
	char	   *servername = NULL;
	ListCell   *lc;

	if (strcmp(fdw->fdwname, TDS_FDW_NAME) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" does not use the %s foreign-data wrapper",
						server, TDS_FDW_NAME),
				 errdetail("It uses \"%s\".", fdw->fdwname)));
#if PG_VERSION_NUM >= 160000
	aclresult = object_aclcheck(ForeignServerRelationId, fs->serverid, GetUserId(), ACL_USAGE);
#else
	aclresult = pg_foreign_server_aclcheck(fs->serverid, GetUserId(), ACL_USAGE);
#endif
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, fs->servername);
	um = GetUserMapping(GetUserId(), fs->serverid);

	memset(t, 0, sizeof(*t));
	t->server = fs->servername;
	foreach(lc, fs->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, TDS_OPT_SERVERNAME) == 0)
			servername = defGetString(def);
		else if (strcmp(def->defname, TDS_OPT_PORT) == 0)
			t->port = atoi(defGetString(def));
		else if (strcmp(def->defname, TDS_OPT_DATABASE) == 0)
			t->database = defGetString(def);
		else if (strcmp(def->defname, TDS_OPT_DBUSE) == 0)
			t->dbuse = atoi(defGetString(def)) != 0;
		else if (strcmp(def->defname, TDS_OPT_TDS_VERSION) == 0)
			t->tds_version = defGetString(def);
		else if (strcmp(def->defname, TDS_OPT_LANGUAGE) == 0)
			t->language = defGetString(def);
		/* the rest (character_set, msg_handler, estimates) is tds_fdw's own */
	}
	foreach(lc, um->options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, TDS_OPT_USERNAME) == 0)
			t->username = defGetString(def);
		else if (strcmp(def->defname, TDS_OPT_PASSWORD) == 0)
			t->password = defGetString(def);
	}

	/* like tds_fdw: a comma-separated list is tried in order */
	if (servername == NULL || *servername == '\0')
		servername = TDS_DEFAULT_SERVERNAME;
	{
		char	   *copy = pstrdup(servername);
		char	   *tok;
		char	   *save = NULL;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		{
			while (*tok == ' ')
				tok++;
			if (*tok)
				t->hosts = lappend(t->hosts, tok);
		}
	}
	if (t->hosts == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("server \"%s\" has an empty servername", server)));
}

/* ----------------------------------------------------------------------
 * Errors: the one place where a TdsError becomes an SQLSTATE
 * ----------------------------------------------------------------------
 */

/*
 * SQL Server message numbers first (from a batch or from the login), then
 * the kind of failure.  The connection-class group: the database is not
 * reachable right now (40613, 40197, 4060) -> 08006; the service or the
 * database is out of capacity (40501, 49918-49920, 10928, 10929) -> 53000.
 */
static int
tds_sqlstate(const TdsError *err, TdsOperation op)
{
	if (err->msgno != 0)
	{
		switch (err->msgno)
		{
			case 1205:
				return ERRCODE_T_R_DEADLOCK_DETECTED;
			case 3960:
				return ERRCODE_T_R_SERIALIZATION_FAILURE;
			case 2627:
			case 2601:
				return ERRCODE_UNIQUE_VIOLATION;
			case 515:
				return ERRCODE_NOT_NULL_VIOLATION;
			case 547:
				return ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION;
			case 208:
				return ERRCODE_UNDEFINED_TABLE;
			case 207:
				return ERRCODE_UNDEFINED_COLUMN;
			case 2714:
				return ERRCODE_DUPLICATE_TABLE;
			case 102:
			case 156:
				return ERRCODE_SYNTAX_ERROR;
			case 2628:
			case 8152:
				return ERRCODE_STRING_DATA_RIGHT_TRUNCATION;
			case 8115:
				return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			case 8134:
				return ERRCODE_DIVISION_BY_ZERO;
			case 241:
				return ERRCODE_INVALID_DATETIME_FORMAT;
			case 242:
				return ERRCODE_DATETIME_VALUE_OUT_OF_RANGE;
			case 245:
				return ERRCODE_INVALID_TEXT_REPRESENTATION;
			case 1222:
				return ERRCODE_LOCK_NOT_AVAILABLE;
			case 229:
			case 230:
			case 262:
			case 300:
				return ERRCODE_INSUFFICIENT_PRIVILEGE;
			case 18456:
				return ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION;
			case 40613:
			case 40197:
			case 4060:
				return ERRCODE_CONNECTION_FAILURE;
			case 40501:
			case 49918:
			case 49919:
			case 49920:
			case 10928:
			case 10929:
				return ERRCODE_INSUFFICIENT_RESOURCES;
			default:
				return ERRCODE_FDW_ERROR;
		}
	}
	switch (err->kind)
	{
		case TDS_ERR_CONNECT:
			return ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION;
		case TDS_ERR_LOST:
			/* a batch may have committed; a query or a bulk copy is redone */
			return op == TDS_OP_EXEC ? ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN :
				ERRCODE_CONNECTION_FAILURE;
		case TDS_ERR_CANCELED:
			return ERRCODE_QUERY_CANCELED;
		case TDS_ERR_DATA:
			switch (err->data_problem)
			{
				case TDS_DATA_OVERFLOW:
					return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
				case TDS_DATA_NOT_ASCII:
					return ERRCODE_UNTRANSLATABLE_CHARACTER;
				case TDS_DATA_BAD_ENCODING:
					return ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;
				case TDS_DATA_TOO_LONG:
					return ERRCODE_STRING_DATA_RIGHT_TRUNCATION;
				case TDS_DATA_SYNTAX:
				default:
					return ERRCODE_INVALID_TEXT_REPRESENTATION;
			}
		case TDS_ERR_OUT_OF_MEMORY:
			return ERRCODE_FDW_OUT_OF_MEMORY;
		default:
			return ERRCODE_FDW_ERROR;
	}
}

/* Server-encoding text of a UTF-8 string from FreeTDS. */
static char *
tds_from_utf8(const char *s, size_t len)
{
	return pg_any_to_server(s, (int) len, PG_UTF8);
}

/* The first TDS_BATCH_EXCERPT characters of sql, for error details. */
static char *
tds_excerpt(const char *sql)
{
	int			len = strlen(sql);
	int			cut = pg_mbcharcliplen(sql, len, TDS_BATCH_EXCERPT);

	if (cut >= len)
		return pstrdup(sql);
	return psprintf("%.*s...", cut, sql);
}

/* Where an error happened, for its message and detail. */
typedef struct TdsWhere
{
	TdsOperation op;
	const char *server;
	const char *sql;			/* batch or query; NULL for bulk copy */
	const char *table;			/* bulk copy */
	int64		rows_sent;		/* bulk copy */
	int64		rows_committed; /* bulk copy */
	bool		connecting;
} TdsWhere;

/*
 * Raise err as an ERROR.  The password never reaches here: FreeTDS's and
 * the server's texts do not contain it, and neither does anything we add.
 */
static void
tds_report(const TdsError *err, const TdsWhere *w) pg_attribute_noreturn();

static void
tds_report(const TdsError *err, const TdsWhere *w)
{
	int			sqlstate = tds_sqlstate(err, w->op);
	char	   *msg = tds_from_utf8(err->message, strlen(err->message));
	StringInfoData where;

	if (err->kind == TDS_ERR_CANCELED)
	{
		CHECK_FOR_INTERRUPTS();
		/* the pending interrupt was not a cancel after all */
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling statement due to user request")));
	}

	/* what was being done: a sentence for the detail */
	initStringInfo(&where);
	if (w->connecting)
		appendStringInfoString(&where, "It happened while logging in.");
	else if (w->op == TDS_OP_BULK)
		appendStringInfo(&where, "Bulk copy into %s: " INT64_FORMAT " rows sent, " INT64_FORMAT
						 " committed by the server in completed batches.",
						 w->table, w->rows_sent, w->rows_committed);
	else if (w->sql)
		appendStringInfo(&where, "%s: %s", w->op == TDS_OP_EXEC ? "Batch" : "Query",
						 tds_excerpt(w->sql));

	if (err->msgno != 0)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("remote error %d on server \"%s\": %s", err->msgno, w->server, msg),
				 errdetail_internal("SQL Server error %d, severity %d, state %d, line %d. %s",
									err->msgno, err->severity, err->state, err->line,
									where.data),
				 err->transient ? errhint("The error is transient; the operation can be retried.") : 0));

	/* "DB-Library error N: text" when DB-Library had its say */
	{
		StringInfoData cause;

		initStringInfo(&cause);
		if (err->dberr != 0)
			appendStringInfo(&cause, "DB-Library error %d%s%s. ", err->dberr,
							 err->oserr > 0 ? ", OS error: " : "",
							 err->oserr > 0 ? strerror(err->oserr) : "");

		switch (err->kind)
		{
			case TDS_ERR_LOST:
				if (w->op == TDS_OP_EXEC)
					ereport(ERROR,
							(errcode(sqlstate),
							 errmsg("connection to server \"%s\" was lost while running a batch; its outcome is unknown",
									w->server),
							 errdetail_internal("%s%s. The batch may have committed. %s",
												cause.data, msg, where.data),
							 errhint("Check on the server whether the batch took effect before running it again.")));
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg("connection to server \"%s\" was lost during %s", w->server,
								w->op == TDS_OP_BULK ? "bulk copy" : "a query"),
						 errdetail_internal("%s%s. %s", cause.data, msg, where.data)));
				break;
			case TDS_ERR_DATA:
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg("could not convert a value for server \"%s\": %s", w->server, msg),
						 errdetail_internal("%s%s", cause.data, where.data)));
				break;
			default:
				if (w->connecting || err->kind == TDS_ERR_CONNECT)
					ereport(ERROR,
							(errcode(sqlstate),
							 errmsg("could not connect to server \"%s\": %s", w->server, msg),
							 cause.len > 0 ? errdetail_internal("%s", cause.data) : 0,
							 err->tls_refused ?
							 errhint("The host is not loopback, so the connection requires TLS (encryption); the server did not negotiate it.") : 0));
				ereport(ERROR,
						(errcode(sqlstate),
						 errmsg("DB-Library call failed on server \"%s\": %s", w->server, msg),
						 errdetail_internal("%s%s", cause.data, where.data)));
		}
	}
	pg_unreachable();
}

/* ----------------------------------------------------------------------
 * Connecting, with retries
 * ----------------------------------------------------------------------
 */

/* Sleep ms milliseconds on the latch, answering interrupts. */
static void
tds_backoff(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* Log a retry and wait before attempt 'attempt' + 1. */
static void
tds_retry_wait(const TdsError *err, const char *server, int attempt)
{
	long		ms = TDS_BACKOFF_MS << (attempt - 1);

	ereport(LOG,
			(errmsg("telem_fdw: transient error on server \"%s\" (attempt %d of %d), retrying in %ld ms",
					server, attempt, TDS_MAX_ATTEMPTS, ms),
			 err->msgno ? errdetail_internal("SQL Server error %d: %s", err->msgno, err->message) :
			 errdetail_internal("DB-Library error %d: %s", err->dberr, err->message)));
	tds_backoff(ms);
}

/*
 * One connection attempt over the server's host list.  NULL with err set
 * (the last host's error) if none answered.
 */
static TdsConn *
tds_connect_once(const TdsTarget *t, bool bulk, TdsError *err)
{
	ListCell   *lc;

	foreach(lc, t->hosts)
	{
		TdsConnParams p;
		TdsConn    *conn;

		memset(&p, 0, sizeof(p));
		p.host = (const char *) lfirst(lc);
		p.port = t->port;
		p.database = t->database;
		p.use_dbuse = t->dbuse;
		p.user = t->username;
		p.password = t->password;
		p.tds_version = t->tds_version;
		p.language = t->language;
		p.bulk = bulk;
		p.login_timeout = TDS_LOGIN_TIMEOUT_S;
		p.interrupted = TelemInterruptHook;

		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		conn = TdsConnect(&p, err);
		pgstat_report_wait_end();
		if (conn)
			return conn;
		if (err->kind == TDS_ERR_CANCELED)
			break;
	}
	return NULL;
}

/*
 * Connect, retrying transient failures; *attempt counts attempts across the
 * caller's own retries.  Raises on a failure that is not transient or when
 * the attempts are used up.
 */
static TdsConn *
tds_connect(const TdsTarget *t, bool bulk, TdsOperation op, int *attempt)
{
	TdsError	err;

	for (;;)
	{
		TdsConn    *conn;
		TdsWhere	w = {0};

		(*attempt)++;
		CHECK_FOR_INTERRUPTS();
		conn = tds_connect_once(t, bulk, &err);
		if (conn)
			return conn;
		if (err.transient && *attempt < TDS_MAX_ATTEMPTS)
		{
			tds_retry_wait(&err, t->server, *attempt);
			continue;
		}
		w.op = op;
		w.server = t->server;
		w.connecting = true;
		tds_report(&err, &w);
	}
}

/* Server-encoding text -> UTF-8 (a no-op in a UTF8 database). */
static char *
tds_to_utf8(const char *s)
{
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/* ----------------------------------------------------------------------
 * telem.tds_exec(server name, batch text, retry boolean) RETURNS bigint
 * ----------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(telem_tds_exec);

Datum
telem_tds_exec(PG_FUNCTION_ARGS)
{
	const char *server = NameStr(*PG_GETARG_NAME(0));
	char	   *batch = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		retry = PG_GETARG_BOOL(2);
	char	   *batch_utf8 = tds_to_utf8(batch);
	TdsTarget	t;
	int			attempt = 0;

	tds_read_target(server, &t);
	for (;;)
	{
		TdsConn    *conn = tds_connect(&t, false, TDS_OP_EXEC, &attempt);
		TdsError	err;
		int64_t		rows = -1;
		bool		ok;
		TdsWhere	w = {0};

		/* TdsExec never raises, so nothing can skip TdsClose */
		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		ok = TdsExec(conn, batch_utf8, &rows, &err);
		TdsClose(conn);
		pgstat_report_wait_end();
		if (ok)
			PG_RETURN_INT64((int64) rows);
		if (retry && err.kind == TDS_ERR_SERVER && err.transient &&
			attempt < TDS_MAX_ATTEMPTS)
		{
			tds_retry_wait(&err, t.server, attempt);
			continue;
		}
		w.op = TDS_OP_EXEC;
		w.server = t.server;
		w.sql = batch;
		tds_report(&err, &w);
	}
}

/* ----------------------------------------------------------------------
 * telem.tds_query(server name, query text) RETURNS SETOF text[]
 * ----------------------------------------------------------------------
 */
PG_FUNCTION_INFO_V1(telem_tds_query);

Datum
telem_tds_query(PG_FUNCTION_ARGS)
{
	const char *server = NameStr(*PG_GETARG_NAME(0));
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query_utf8 = tds_to_utf8(query);
	TdsTarget	t;
	TdsConn    *volatile conn = NULL;
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	MemoryContext oldcxt;
	MemoryContext rowcxt;
	int			attempt = 0;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));

	tds_read_target(server, &t);

	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	tupdesc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(tupdesc, (AttrNumber) 1, "tds_query", TEXTARRAYOID, -1, 0);
	tupstore = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tupstore;
	rsinfo->setDesc = tupdesc;
	MemoryContextSwitchTo(oldcxt);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "telem tds_query row",
								   ALLOCSET_DEFAULT_SIZES);
	conn = tds_connect(&t, false, TDS_OP_QUERY, &attempt);
	PG_TRY();
	{
		TdsError	err;
		TdsRow		row;
		bool		ok;
		int			rc;

		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		ok = TdsQueryStart(conn, query_utf8, &err);
		pgstat_report_wait_end();
		while (ok)
		{
			Datum		value;
			bool		isnull = false;
			Datum	   *elems;
			bool	   *nulls;
			int			dims[1];
			int			lbs[1] = {1};
			int			i;

			CHECK_FOR_INTERRUPTS();
			pgstat_report_wait_start(PG_WAIT_EXTENSION);
			rc = TdsQueryNext(conn, &row, &err);
			pgstat_report_wait_end();
			if (rc <= 0)
			{
				ok = (rc == 0);
				break;
			}
			MemoryContextReset(rowcxt);
			oldcxt = MemoryContextSwitchTo(rowcxt);
			elems = palloc(sizeof(Datum) * Max(row.ncolumns, 1));
			nulls = palloc(sizeof(bool) * Max(row.ncolumns, 1));
			for (i = 0; i < row.ncolumns; i++)
			{
				nulls[i] = (row.values[i] == NULL);
				elems[i] = nulls[i] ? (Datum) 0 :
					PointerGetDatum(cstring_to_text(tds_from_utf8(row.values[i],
																 row.lengths[i])));
			}
			dims[0] = row.ncolumns;
			value = PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
													   TEXTOID, -1, false, TYPALIGN_INT));
			MemoryContextSwitchTo(oldcxt);
			tuplestore_putvalues(tupstore, tupdesc, &value, &isnull);
		}
		if (!ok)
		{
			TdsWhere	w = {0};

			TdsClose(conn);
			conn = NULL;
			w.op = TDS_OP_QUERY;
			w.server = t.server;
			w.sql = query;
			tds_report(&err, &w);
		}
	}
	PG_CATCH();
	{
		TdsClose(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();
	TdsClose(conn);
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}

/* ----------------------------------------------------------------------
 * telem.tds_bulk_copy(server name, remote_table text, query text,
 *					   batch_size integer) RETURNS bigint
 * ----------------------------------------------------------------------
 */

/* How a local column's values become the text (or bytes) bcp is given. */
typedef enum TdsLocalConv
{
	TDS_CONV_OUTPUT,			/* the type's output function */
	TDS_CONV_BOOL,				/* 1 / 0 */
	TDS_CONV_TIMESTAMPTZ,		/* UTC, no offset: YYYY-MM-DD HH:MI:SS.US */
	TDS_CONV_TIMESTAMP,			/* YYYY-MM-DD HH:MI:SS.US */
	TDS_CONV_DATE,				/* YYYY-MM-DD */
	TDS_CONV_BYTES,				/* bytea into a binary column: raw bytes */
	TDS_CONV_NUMERIC			/* numeric into decimal(p,s): rounded to s
								 * (FreeTDS would truncate) */
} TdsLocalConv;

typedef struct TdsBulkMap
{
	AttrNumber	attnum;			/* the query's column */
	int			remote;			/* 0-based remote column */
	char	   *name;
	TdsLocalConv conv;
	int			scale;			/* TDS_CONV_NUMERIC */
	FmgrInfo	outfunc;
} TdsBulkMap;

typedef struct TdsBulkContext
{
	const char *table;
	int64		row;			/* 1-based, of the query's rows */
	const char *column;			/* being converted, or NULL */
} TdsBulkContext;

static void
tds_bulk_error_callback(void *arg)
{
	TdsBulkContext *c = (TdsBulkContext *) arg;

	if (c->column)
		errcontext("bulk copy into %s, row " INT64_FORMAT ", column \"%s\"",
				   c->table, c->row, c->column);
	else if (c->row > 0)
		errcontext("bulk copy into %s, row " INT64_FORMAT, c->table, c->row);
}

/* Text of a timestamp's fields: the date/time FreeTDS parses for any target. */
static char *
tds_format_timestamp(Timestamp ts, const char *column)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts) ||
		timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 ||
		tm.tm_year < 1 || tm.tm_year > 9999)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("value of column \"%s\" is out of range for SQL Server", column),
				 errdetail("SQL Server dates run from 0001-01-01 to 9999-12-31.")));
	return psprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d", tm.tm_year, tm.tm_mon,
					tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/* Text of a date. */
static char *
tds_format_date(DateADT d, const char *column)
{
	int			year;
	int			month;
	int			day;

	if (DATE_NOT_FINITE(d))
		year = 0;
	else
		j2date(d + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	if (year < 1 || year > 9999)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("value of column \"%s\" is out of range for SQL Server", column),
				 errdetail("SQL Server dates run from 0001-01-01 to 9999-12-31.")));
	return psprintf("%04d-%02d-%02d", year, month, day);
}

/* Match the query's columns with the remote table's, by name. */
static TdsBulkMap *
tds_bulk_map(TdsConn *conn, TupleDesc desc, const char *table, int *nmap)
{
	int			nremote = TdsBulkColumnCount(conn);
	TdsBulkMap *map = palloc0(sizeof(TdsBulkMap) * Max(desc->natts, 1));
	bool	   *used = palloc0(sizeof(bool) * Max(nremote, 1));
	int			n = 0;
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		char	   *name = NameStr(att->attname);
		Oid			base = getBaseType(att->atttypid);
		int			r;
		TdsBulkMap *m = &map[n];

		if (att->attisdropped)
			continue;
		for (r = 0; r < nremote; r++)
			if (pg_strcasecmp(TdsBulkGetColumn(conn, r)->name, name) == 0)
				break;
		if (r == nremote)
		{
			StringInfoData cols;
			int			k;

			initStringInfo(&cols);
			for (k = 0; k < nremote; k++)
				appendStringInfo(&cols, "%s\"%s\"", k ? ", " : "",
								 TdsBulkGetColumn(conn, k)->name);
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of the query is not a column of remote table %s",
							name, table),
					 errdetail_internal("The remote table's columns are %s.", cols.data),
					 errhint("Columns are matched by name; alias the query's columns.")));
		}
		if (used[r])
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("the query has two columns named \"%s\"", name)));
		used[r] = true;
		m->attnum = att->attnum;
		m->remote = r;
		m->name = name;
		m->conv = TDS_CONV_OUTPUT;
		if (base == BOOLOID)
			m->conv = TDS_CONV_BOOL;
		else if (base == TIMESTAMPTZOID)
			m->conv = TDS_CONV_TIMESTAMPTZ;
		else if (base == TIMESTAMPOID)
			m->conv = TDS_CONV_TIMESTAMP;
		else if (base == DATEOID)
			m->conv = TDS_CONV_DATE;
		else if (base == NUMERICOID && TdsBulkGetColumn(conn, r)->scale >= 0)
		{
			m->conv = TDS_CONV_NUMERIC;
			m->scale = TdsBulkGetColumn(conn, r)->scale;
		}
		else if (base == BYTEAOID && TdsBulkGetColumn(conn, r)->kind == TDS_BULK_BINARY)
			m->conv = TDS_CONV_BYTES;
		if (m->conv == TDS_CONV_OUTPUT || m->conv == TDS_CONV_NUMERIC)
		{
			Oid			outfunc;
			bool		isvarlena;

			getTypeOutputInfo(att->atttypid, &outfunc, &isvarlena);
			fmgr_info(outfunc, &m->outfunc);
		}
		n++;
	}
	*nmap = n;
	return map;
}

PG_FUNCTION_INFO_V1(telem_tds_bulk_copy);

Datum
telem_tds_bulk_copy(PG_FUNCTION_ARGS)
{
	const char *server = NameStr(*PG_GETARG_NAME(0));
	char	   *table = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(2));
	int32		batch_size = PG_GETARG_INT32(3);
	char	   *table_utf8 = tds_to_utf8(table);
	TdsTarget	t;
	TdsConn    *volatile conn = NULL;
	volatile int64 sent = 0;
	volatile int64 committed = 0;
	int			attempt = 0;
	TdsBulkContext ctx = {0};
	ErrorContextCallback errcb;

	if (batch_size <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be positive")));
	tds_read_target(server, &t);
	ctx.table = table;

	conn = tds_connect(&t, true, TDS_OP_BULK, &attempt);
	PG_TRY();
	{
		TdsError	err;
		TdsWhere	w = {0};
		int64_t		n;
		bool		ok;
		Portal		portal;
		SPIPlanPtr	plan;
		TdsBulkMap *map;
		int			nmap;
		int			nremote;
		TdsBulkValue *values;
		MemoryContext rowcxt;
		MemoryContext oldcxt;
		int64		in_batch = 0;

		w.op = TDS_OP_BULK;
		w.server = t.server;
		w.table = table;

		/* bulk loads report their row count in DONE; make sure of it */
		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		ok = TdsExec(conn, "SET NOCOUNT OFF", NULL, &err) &&
			TdsBulkBegin(conn, table_utf8, &err);
		pgstat_report_wait_end();
		if (!ok)
			tds_report(&err, &w);
		nremote = TdsBulkColumnCount(conn);
		values = palloc0(sizeof(TdsBulkValue) * nremote);

		/* the caller's context: SPI_finish deletes SPI's */
		rowcxt = AllocSetContextCreate(CurrentMemoryContext, "telem tds_bulk_copy row",
									   ALLOCSET_DEFAULT_SIZES);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		plan = SPI_prepare_cursor(query, 0, NULL, CURSOR_OPT_NO_SCROLL);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare_cursor failed: %s", SPI_result_code_string(SPI_result));
		portal = SPI_cursor_open(NULL, plan, NULL, NULL, false);
		map = tds_bulk_map(conn, portal->tupDesc, table, &nmap);
		errcb.callback = tds_bulk_error_callback;
		errcb.arg = &ctx;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;

		for (;;)
		{
			uint64		ntup;
			uint64		k;

			SPI_cursor_fetch(portal, true, TDS_FETCH_ROWS);
			ntup = SPI_processed;
			if (ntup == 0)
				break;
			for (k = 0; k < ntup; k++)
			{
				HeapTuple	tup = SPI_tuptable->vals[k];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				int			c;

				CHECK_FOR_INTERRUPTS();
				ctx.row = sent + 1;
				MemoryContextReset(rowcxt);
				oldcxt = MemoryContextSwitchTo(rowcxt);
				for (c = 0; c < nremote; c++)
				{
					values[c].isnull = true;
					values[c].data = NULL;
					values[c].len = 0;
				}
				for (c = 0; c < nmap; c++)
				{
					TdsBulkMap *m = &map[c];
					TdsBulkValue *v = &values[m->remote];
					bool		isnull;
					Datum		d = heap_getattr(tup, m->attnum, desc, &isnull);
					char	   *s;

					ctx.column = m->name;
					if (isnull)
						continue;
					v->isnull = false;
					switch (m->conv)
					{
						case TDS_CONV_BOOL:
							s = DatumGetBool(d) ? "1" : "0";
							break;
						case TDS_CONV_TIMESTAMPTZ:
							s = tds_format_timestamp(DatumGetTimestampTz(d), m->name);
							break;
						case TDS_CONV_TIMESTAMP:
							s = tds_format_timestamp(DatumGetTimestamp(d), m->name);
							break;
						case TDS_CONV_DATE:
							s = tds_format_date(DatumGetDateADT(d), m->name);
							break;
						case TDS_CONV_BYTES:
							{
								bytea	   *b = DatumGetByteaPP(d);

								v->data = VARDATA_ANY(b);
								v->len = VARSIZE_ANY_EXHDR(b);
								s = NULL;
							}
							break;
						case TDS_CONV_NUMERIC:
							d = DirectFunctionCall2(numeric_round, d, Int32GetDatum(m->scale));
							s = OutputFunctionCall(&m->outfunc, d);
							break;
						case TDS_CONV_OUTPUT:
						default:
							s = tds_to_utf8(OutputFunctionCall(&m->outfunc, d));
							break;
					}
					if (s)
					{
						v->data = s;
						v->len = strlen(s);
					}
				}
				ctx.column = NULL;
				MemoryContextSwitchTo(oldcxt);

				pgstat_report_wait_start(PG_WAIT_EXTENSION);
				ok = TdsBulkSendRow(conn, values, &err);
				pgstat_report_wait_end();
				if (!ok)
				{
					w.rows_sent = sent;
					w.rows_committed = committed;
					tds_report(&err, &w);
				}
				sent++;
				if (++in_batch >= batch_size)
				{
					ctx.row = 0;	/* a batch's failure is not one row's */
					pgstat_report_wait_start(PG_WAIT_EXTENSION);
					n = TdsBulkBatch(conn, &err);
					pgstat_report_wait_end();
					if (n < 0)
					{
						w.rows_sent = sent;
						w.rows_committed = committed;
						tds_report(&err, &w);
					}
					committed += n;
					in_batch = 0;
				}
			}
			SPI_freetuptable(SPI_tuptable);
		}
		ctx.row = 0;
		pgstat_report_wait_start(PG_WAIT_EXTENSION);
		n = TdsBulkDone(conn, &err);
		pgstat_report_wait_end();
		if (n < 0)
		{
			w.rows_sent = sent;
			w.rows_committed = committed;
			tds_report(&err, &w);
		}
		committed += n;
		error_context_stack = errcb.previous;

		SPI_cursor_close(portal);
		SPI_finish();
		MemoryContextDelete(rowcxt);
	}
	PG_CATCH();
	{
		TdsClose(conn);
		PG_RE_THROW();
	}
	PG_END_TRY();
	TdsClose(conn);

	if (committed != sent)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("bulk copy into %s on server \"%s\": the server acknowledged " INT64_FORMAT
						" rows, " INT64_FORMAT " were sent", table, t.server, (int64) committed,
						(int64) sent)));
	PG_RETURN_INT64(committed);
}
