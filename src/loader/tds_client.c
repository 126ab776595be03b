/*-------------------------------------------------------------------------
 *
 * tds_client.c
 *		The FreeTDS wall: sessions, batches, result rows and bulk copy over
 *		DB-Library, in plain C.
 *
 * The only file that includes sybdb.h, and it never includes postgres.h
 * (see tds_client.h).  What it knows about FreeTDS 1.3.17:
 *
 *	- dberrhandle()/dbmsghandle() are process-wide, and tds_fdw installs its
 *	  own on every scan (and its dbinit() resets the error handler).  So each
 *	  function here installs ours on entry and puts the previous ones back on
 *	  exit; messages are collected in a TdsCall on the caller's stack.
 *	- An error handler must return INT_CANCEL for anything but SYBETIME, or
 *	  DB-Library calls exit().
 *	- DBSETLENCRYPT() is declared but unimplemented (always FAIL); the login
 *	  option DBSETENCRYPTION only arrives in FreeTDS 1.5.  Before that, TLS
 *	  can only be demanded by configuration: dbsetifile() names a file that
 *	  FreeTDS reads before freetds.conf, and a section there for the host
 *	  sets "encryption = require" (see tds_require_encryption).
 *	- While waiting for the server, FreeTDS polls once a second and calls the
 *	  DBPROCESS's dbsetinterrupt() handlers; returning INT_CANCEL there makes
 *	  the wait fail with SYBETIME, where INT_TIMEOUT sends an ATTENTION and
 *	  keeps reading (the server stops the batch), and INT_CANCEL closes the
 *	  socket.  No wait of ours outlives a pending cancel by more than ~2 s.
 *	- Bulk copy does not convert character data for nvarchar columns: text
 *	  is sent as UTF-16LE bound as SYBCHAR with a per-row length.  A zero
 *	  length means NULL; an empty string is sent by pointing the column at
 *	  "" with length -1 (NUL-terminated), which FreeTDS converts to a
 *	  non-NULL empty value.
 *	- DB-Library reports nvarchar and varchar alike (SYBCHAR, with the same
 *	  length), and leaves DBCOL2.ServerType empty, so which columns want
 *	  UTF-16 is asked of INFORMATION_SCHEMA.COLUMNS.
 *	- Text converted to decimal(p,s) loses digits past s (truncated, where
 *	  SQL Server would round): the caller rounds (TdsBulkColumn.scale).
 *
 * IDENTIFICATION
 *		src/loader/tds_client.c
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sybfront.h>
#include <sybdb.h>

#include "tds_client.h"

/* TDS type codes that sybdb.h does not name */
#define TDS_XSYBVARBINARY	165
#define TDS_XSYBVARCHAR		167
#define TDS_XSYBBINARY		173
#define TDS_XSYBCHAR		175
#define TDS_XSYBNVARCHAR	231
#define TDS_XSYBNCHAR		239
#define TDS_SYBMSXML		241

#define TDS_APP_NAME		"telem_fdw"
/* the loader's settings (docs/tsql-subset.md); TEXTSIZE so that (max) values
 * are read whole whatever freetds.conf's "text size" says */
#define TDS_SESSION_SETTINGS \
	"SET XACT_ABORT ON; SET NOCOUNT ON; SET ANSI_NULLS ON; SET QUOTED_IDENTIFIER ON; " \
	"SET TEXTSIZE 2147483647;"

#define TDS_CONN_MAGIC		0x7464736bU

struct TdsConn
{
	uint32_t	magic;
	DBPROCESS  *dbproc;
	TdsInterruptFunc interrupted;
	bool		interrupt_fired;	/* our hndlintr returned INT_CANCEL */
	bool		attention_sent; /* ... and an ATTENTION went out */
	bool		encryption_required;

	/* TdsQueryStart/TdsQueryNext */
	bool		in_query;
	bool		in_rowset;
	bool		query_failed;
	int			ncolumns;
	int			capcolumns;
	char	  **bufs;			/* per column, reused from row to row */
	size_t	   *caps;
	char	  **values;			/* handed out: bufs[i], or NULL for NULL */
	size_t	   *lengths;

	/* bulk copy */
	bool		in_bulk;
	int			nbulk;
	TdsBulkColumn *bulk_columns;
	char	  **bulk_buf;		/* per column: UTF-16LE conversion buffer */
	size_t	   *bulk_cap;
	int64_t		bulk_rows_in_batch;
	int64_t		bulk_rows_sent;
};

/*
 * What the handlers collected during one call into this file.  Lives on the
 * stack of the public function; tds_current points at it while DB-Library
 * runs.
 */
typedef struct TdsCall
{
	TdsConn    *conn;			/* NULL while connecting */
	int			msgno;			/* first server message with severity > 10 */
	int			severity;
	int			state;
	int			line;
	char		message[1024];
	int			dberr;			/* first DB-Library error that matters */
	int			oserr;
	char		dbmessage[512];
	bool		socket_error;	/* a read/write/connect failed at OS level */
	EHANDLEFUNC prev_err;
	MHANDLEFUNC prev_msg;
} TdsCall;

static TdsCall *tds_current = NULL;
static bool tds_initialized = false;

static const char empty_string[1] = "";

/*
 * Server errors that Azure SQL's guidance calls transient: the database is
 * moving or resuming (40613, 40197, 4060), the service or the database is
 * busy or at a resource limit (40501, 49918-49920, 10928, 10929), and the
 * deadlock victim (1205).
 */
bool
TdsServerErrorIsTransient(int msgno)
{
	switch (msgno)
	{
		case 40613:
		case 40501:
		case 40197:
		case 49918:
		case 49919:
		case 49920:
		case 10928:
		case 10929:
		case 4060:
		case 1205:
			return true;
		default:
			return false;
	}
}

void
TdsErrorReset(TdsError *err)
{
	memset(err, 0, sizeof(*err));
	err->kind = TDS_OK;
}

bool
TdsHostIsLoopback(const char *host)
{
	unsigned char addr[16];

	if (host == NULL || *host == '\0')
		return false;
	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	if (inet_pton(AF_INET, host, addr) == 1)
		return addr[0] == 127;
	if (inet_pton(AF_INET6, host, addr) == 1)
	{
		static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(addr, loop6, 16) == 0)
			return true;
		return memcmp(addr, mapped, 12) == 0 && addr[12] == 127;
	}
	return false;
}

/* ----------------------------------------------------------------------
 * DB-Library handlers and the per-call state
 * ----------------------------------------------------------------------
 */

static void
tds_copy_text(char *dst, size_t size, const char *src)
{
	size_t		n;

	if (src == NULL)
		src = "";
	n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	/* server messages may end in a newline; ours never do */
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

static int
tds_msg_handler(DBPROCESS *dbproc, DBINT msgno, int msgstate, int severity,
				char *msgtext, char *srvname, char *procname, int line)
{
	TdsCall    *call = tds_current;

	(void) dbproc;
	(void) srvname;
	(void) procname;
	if (call == NULL || severity <= 10 || call->msgno != 0)
		return 0;
	call->msgno = msgno;
	call->severity = severity;
	call->state = msgstate;
	call->line = line;
	tds_copy_text(call->message, sizeof(call->message), msgtext);
	return 0;
}

static bool
tds_dberr_is_socket(int dberr)
{
	switch (dberr)
	{
		case SYBECONN:
		case SYBESOCK:
		case SYBEREAD:
		case SYBEWRIT:
		case SYBESEOF:
		case SYBECLOS:
		case SYBEOOB:
			return true;
		default:
			return false;
	}
}

static int
tds_err_handler(DBPROCESS *dbproc, int severity, int dberr, int oserr,
				char *dberrstr, char *oserrstr)
{
	TdsCall    *call = tds_current;
	TdsConn    *conn = call ? call->conn : NULL;

	(void) severity;
	(void) dbproc;

	if (dberr == SYBETIME)
	{
		/*
		 * A wait gave up: our interrupt handler fired, or the login timed
		 * out.  On the first interrupt, send an ATTENTION and keep reading so
		 * the server stops the batch; if it has not answered by the next
		 * poll, close the socket.
		 */
		if (conn && conn->interrupt_fired && !conn->attention_sent &&
			!DBDEAD(conn->dbproc))
		{
			conn->attention_sent = true;
			return INT_TIMEOUT;
		}
	}
	if (call == NULL)
		return INT_CANCEL;

	/* SYBESMSG only says "see the server's messages"; SYBEBBCI is a success */
	if (dberr == SYBESMSG || dberr == SYBEBBCI)
		return INT_CANCEL;
	if (tds_dberr_is_socket(dberr) || dberr == SYBETIME)
		call->socket_error = true;
	if (call->dberr == 0)
	{
		call->dberr = dberr;
		call->oserr = oserr;
		if (oserr > 0 && oserrstr != NULL && *oserrstr != '\0')
			snprintf(call->dbmessage, sizeof(call->dbmessage), "%s: %s",
					 dberrstr ? dberrstr : "", oserrstr);
		else
			tds_copy_text(call->dbmessage, sizeof(call->dbmessage), dberrstr);
	}
	return INT_CANCEL;
}

static int
tds_check_interrupt(void *dbproc)
{
	TdsConn    *conn = (TdsConn *) dbgetuserdata((DBPROCESS *) dbproc);

	if (conn == NULL || conn->magic != TDS_CONN_MAGIC || conn->interrupted == NULL)
		return FALSE;
	return conn->interrupted() ? TRUE : FALSE;
}

static int
tds_handle_interrupt(void *dbproc)
{
	TdsConn    *conn = (TdsConn *) dbgetuserdata((DBPROCESS *) dbproc);

	if (conn != NULL && conn->magic == TDS_CONN_MAGIC)
		conn->interrupt_fired = true;
	return INT_CANCEL;
}

/* Start a call: our handlers in, the previous ones saved. */
static void
tds_enter(TdsCall *call, TdsConn *conn)
{
	memset(call, 0, sizeof(*call));
	call->conn = conn;
	call->prev_err = dberrhandle(tds_err_handler);
	call->prev_msg = dbmsghandle(tds_msg_handler);
	tds_current = call;
}

/* End a call: the previous handlers back. */
static void
tds_leave(TdsCall *call)
{
	dberrhandle(call->prev_err);
	dbmsghandle(call->prev_msg);
	tds_current = NULL;
}

static void
tds_set_error(TdsError *err, TdsErrorKind kind, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

static void
tds_set_error(TdsError *err, TdsErrorKind kind, const char *fmt,...)
{
	va_list		ap;

	TdsErrorReset(err);
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static bool
tds_dberr_is_data(int dberr, TdsDataProblem *problem)
{
	switch (dberr)
	{
		case SYBECSYN:
		case SYBECDOMAIN:
		case SYBECINTERNAL:
		case SYBEICONVO:
			*problem = TDS_DATA_SYNTAX;
			return true;
		case SYBECOFL:
		case SYBECLPR:
		case SYBECNOV:
			*problem = TDS_DATA_OVERFLOW;
			return true;
		case SYBEBCOR:
		case SYBEICONV2BIG:
			*problem = TDS_DATA_TOO_LONG;
			return true;
		default:
			return false;
	}
}

/*
 * Turn what a failed call collected into err.  'fallback' is the kind when
 * neither the server nor the connection explains the failure.
 */
static void
tds_fill_error(TdsCall *call, TdsErrorKind fallback, TdsError *err)
{
	TdsConn    *conn = call->conn;

	TdsErrorReset(err);
	err->dberr = call->dberr;
	err->oserr = call->oserr;
	err->encryption_required = conn ? conn->encryption_required : false;

	if (conn && conn->interrupt_fired)
	{
		err->kind = TDS_ERR_CANCELED;
		tds_copy_text(err->message, sizeof(err->message), "canceled");
		return;
	}
	if (call->msgno != 0)
	{
		/* the server said no: it rolled back whatever it had started */
		err->kind = (fallback == TDS_ERR_CONNECT) ? TDS_ERR_CONNECT : TDS_ERR_SERVER;
		err->transient = TdsServerErrorIsTransient(call->msgno);
		err->msgno = call->msgno;
		err->severity = call->severity;
		err->state = call->state;
		err->line = call->line;
		memcpy(err->message, call->message, sizeof(err->message));
		return;
	}
	if (fallback == TDS_ERR_CONNECT)
	{
		err->kind = TDS_ERR_CONNECT;

		/*
		 * No session and no word from the server.  A socket error or a
		 * timeout may pass; "connection failed" alone after TLS was demanded
		 * is the server not offering it, which will not.
		 */
		if (call->socket_error || call->dberr == SYBETIME)
			err->transient = true;
		else if (call->dberr == SYBEFCON && conn && conn->encryption_required)
			err->tls_refused = true;
		else if (call->dberr == SYBEFCON)
			err->transient = true;
		else
			err->transient = false;
	}
	else if ((conn && DBDEAD(conn->dbproc)) || call->socket_error)
	{
		err->kind = TDS_ERR_LOST;
		err->transient = true;
	}
	else if (tds_dberr_is_data(call->dberr, &err->data_problem))
		err->kind = TDS_ERR_DATA;
	else
		err->kind = fallback;
	if (call->dbmessage[0] != '\0')
		tds_copy_text(err->message, sizeof(err->message), call->dbmessage);
	else if (err->kind == TDS_ERR_LOST)
		tds_copy_text(err->message, sizeof(err->message), "the connection was closed");
	else if (err->kind == TDS_ERR_CONNECT)
		tds_copy_text(err->message, sizeof(err->message), "could not connect");
	else
		tds_copy_text(err->message, sizeof(err->message), "DB-Library call failed");
}

static bool
tds_init_once(TdsError *err)
{
	if (tds_initialized)
		return true;
	/* one reference for the life of the backend: tds_fdw's dbexit() then
	 * never closes our connections */
	if (dbinit() == FAIL)
	{
		tds_set_error(err, TDS_ERR_CLIENT, "could not initialize DB-Library");
		return false;
	}
	tds_initialized = true;
	return true;
}

/* ----------------------------------------------------------------------
 * Connecting
 * ----------------------------------------------------------------------
 */

static int
tds_parse_version(const char *v)
{
	if (v == NULL || *v == '\0' || strcmp(v, "7.4") == 0)
		return DBVERSION_74;
	if (strcmp(v, "7.3") == 0)
		return DBVERSION_73;
	if (strcmp(v, "7.2") == 0)
		return DBVERSION_72;
	if (strcmp(v, "7.1") == 0)
		return DBVERSION_71;
	if (strcmp(v, "7.0") == 0)
		return DBVERSION_70;
	return -1;
}

/* A host name that may go into a freetds.conf section safely. */
static bool
tds_host_is_plain(const char *host)
{
	const char *p;

	if (*host == '\0')
		return false;
	for (p = host; *p; p++)
	{
		char		c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == ':'))
			return false;
	}
	return true;
}

/*
 * Demand TLS for the next dbopen() to host.  FreeTDS >= 1.5 has a login
 * option; 1.3 only reads "encryption" from configuration, so write a file
 * with a section for host and point dbsetifile() at it.  FreeTDS reads that
 * file first when it looks the host up (its [global] settings still come
 * from freetds.conf), so "encryption = require" applies whatever
 * freetds.conf says.  *path gets the file to remove after dbopen() ("" if
 * none).
 */
static bool
tds_require_encryption(LOGINREC *login, const TdsConnParams *params,
					   char *path, size_t pathsize, TdsError *err)
{
	path[0] = '\0';
#ifdef DBSETENCRYPTION
	(void) params;
	(void) pathsize;
	if (dbsetlname(login, "require", DBSETENCRYPTION) == FAIL)
	{
		tds_set_error(err, TDS_ERR_CLIENT, "DB-Library refused to require encryption");
		return false;
	}
	return true;
#else
	{
		const char *dir = params->tmpdir;
		FILE	   *f;
		int			fd;
		int			ok;

		(void) login;
		if (!tds_host_is_plain(params->host))
		{
			tds_set_error(err, TDS_ERR_CLIENT,
						  "host name \"%s\" contains characters other than letters, digits, \".\", \"-\", \"_\" and \":\"",
						  params->host);
			return false;
		}
		if (dir == NULL || *dir == '\0')
			dir = getenv("TMPDIR");
		if (dir == NULL || *dir == '\0')
			dir = "/tmp";
		if ((size_t) snprintf(path, pathsize, "%s/telem_tds.XXXXXX", dir) >= pathsize)
		{
			path[0] = '\0';
			tds_set_error(err, TDS_ERR_CLIENT, "temporary directory name too long");
			return false;
		}
		fd = mkstemp(path);
		if (fd < 0)
		{
			tds_set_error(err, TDS_ERR_CLIENT, "could not create \"%s\": %s",
						  path, strerror(errno));
			path[0] = '\0';
			return false;
		}
		f = fdopen(fd, "w");
		if (f == NULL)
		{
			close(fd);
			unlink(path);
			path[0] = '\0';
			tds_set_error(err, TDS_ERR_CLIENT, "could not open the FreeTDS override file");
			return false;
		}
		ok = fprintf(f, "; written by telem_fdw for one connection\n"
					 "[%s]\n\thost = %s\n\tencryption = require\n",
					 params->host, params->host) > 0;
		if (fclose(f) != 0 || !ok)
		{
			unlink(path);
			path[0] = '\0';
			tds_set_error(err, TDS_ERR_CLIENT, "could not write the FreeTDS override file");
			return false;
		}
		dbsetifile(path);
		return true;
	}
#endif
}

static bool tds_run_batch(TdsConn *conn, TdsCall *call, const char *batch,
						  int64_t *rows);

TdsConn *
TdsConnect(const TdsConnParams *params, TdsError *err)
{
	TdsCall		call;
	LOGINREC   *login;
	DBPROCESS  *dbproc;
	TdsConn    *conn;
	char		server[1100];
	char		ifile[1024] = "";
	bool		encrypt = !TdsHostIsLoopback(params->host);
	int			version = tds_parse_version(params->tds_version);

	TdsErrorReset(err);
	if (!tds_init_once(err))
		return NULL;
	if (version < 0)
	{
		tds_set_error(err, TDS_ERR_CLIENT, "unsupported tds_version \"%s\" (7.0 to 7.4 are)",
					  params->tds_version);
		return NULL;
	}
	if (params->port > 0)
		snprintf(server, sizeof(server), "%s:%d", params->host, params->port);
	else
		snprintf(server, sizeof(server), "%s", params->host);

	conn = calloc(1, sizeof(TdsConn));
	if (conn == NULL)
	{
		tds_set_error(err, TDS_ERR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	conn->magic = TDS_CONN_MAGIC;
	conn->interrupted = params->interrupted;
	conn->encryption_required = encrypt;

	tds_enter(&call, NULL);
	login = dblogin();
	if (login == NULL)
	{
		tds_leave(&call);
		free(conn);
		tds_set_error(err, TDS_ERR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	DBSETLUSER(login, params->user ? params->user : "");
	DBSETLPWD(login, params->password ? params->password : "");
	DBSETLAPP(login, TDS_APP_NAME);
	DBSETLCHARSET(login, "UTF-8");
	dbsetlversion(login, (BYTE) version);
	if (params->database && *params->database && !params->use_dbuse)
		DBSETLDBNAME(login, params->database);
	if (params->language && *params->language)
		DBSETLNATLANG(login, params->language);
	if (params->bulk)
		BCP_SETL(login, TRUE);
	if (encrypt && !tds_require_encryption(login, params, ifile, sizeof(ifile), err))
	{
		dbloginfree(login);
		tds_leave(&call);
		free(conn);
		err->encryption_required = true;
		return NULL;
	}

	if (params->login_timeout > 0)
		dbsetlogintime(params->login_timeout);
	dbproc = dbopen(login, server);
	/* back to the defaults, which tds_fdw relies on */
	if (params->login_timeout > 0)
		dbsetlogintime(-1);
	if (ifile[0] != '\0')
	{
		dbsetifile((char *) "");
		unlink(ifile);
	}
	/* FreeTDS zeroes the password when it frees the login */
	dbloginfree(login);

	if (dbproc == NULL)
	{
		call.conn = conn;
		tds_fill_error(&call, TDS_ERR_CONNECT, err);
		tds_leave(&call);
		free(conn);
		return NULL;
	}
	conn->dbproc = dbproc;
	call.conn = conn;
	dbsetuserdata(dbproc, (BYTE *) conn);
	dbsetinterrupt(dbproc, tds_check_interrupt, tds_handle_interrupt);

	if (params->database && *params->database && params->use_dbuse &&
		dbuse(dbproc, params->database) == FAIL)
	{
		tds_fill_error(&call, TDS_ERR_CONNECT, err);
		tds_leave(&call);
		TdsClose(conn);
		return NULL;
	}
	if (!tds_run_batch(conn, &call, TDS_SESSION_SETTINGS, NULL))
	{
		tds_fill_error(&call, TDS_ERR_CONNECT, err);
		tds_leave(&call);
		TdsClose(conn);
		return NULL;
	}
	tds_leave(&call);
	return conn;
}

static void
tds_free_query_buffers(TdsConn *conn)
{
	int			i;

	for (i = 0; i < conn->capcolumns; i++)
		free(conn->bufs[i]);
	free(conn->bufs);
	free(conn->caps);
	free(conn->values);
	free(conn->lengths);
	conn->bufs = NULL;
	conn->caps = NULL;
	conn->values = NULL;
	conn->lengths = NULL;
	conn->capcolumns = 0;
	conn->ncolumns = 0;
}

static void
tds_free_bulk(TdsConn *conn)
{
	int			i;

	for (i = 0; i < conn->nbulk; i++)
		free(conn->bulk_buf[i]);
	free(conn->bulk_buf);
	free(conn->bulk_cap);
	free(conn->bulk_columns);
	conn->bulk_buf = NULL;
	conn->bulk_cap = NULL;
	conn->bulk_columns = NULL;
	conn->nbulk = 0;
	conn->in_bulk = false;
}

void
TdsClose(TdsConn *conn)
{
	TdsCall		call;

	if (conn == NULL)
		return;
	if (conn->dbproc != NULL)
	{
		tds_enter(&call, conn);
		dbsetuserdata(conn->dbproc, NULL);
		dbclose(conn->dbproc);
		tds_leave(&call);
		conn->dbproc = NULL;
	}
	tds_free_query_buffers(conn);
	tds_free_bulk(conn);
	conn->magic = 0;
	free(conn);
}

/* ----------------------------------------------------------------------
 * Batches
 * ----------------------------------------------------------------------
 */

/*
 * Send batch and read all of its results, discarding rows.  False if any
 * statement failed, the connection broke or the call was interrupted; the
 * reason is in call.
 */
static bool
tds_run_batch(TdsConn *conn, TdsCall *call, const char *batch, int64_t *rows)
{
	DBPROCESS  *dbproc = conn->dbproc;
	RETCODE		rc;
	bool		ok = true;
	bool		counted = false;
	int64_t		total = 0;
	long		fails = 0;

	if (dbcmd(dbproc, batch) == FAIL)
		return false;
	if (dbsqlexec(dbproc) == FAIL)
		ok = false;
	while (!DBDEAD(dbproc) && (rc = dbresults(dbproc)) != NO_MORE_RESULTS)
	{
		if (rc == FAIL)
		{
			ok = false;
			/* one FAIL per failed statement; never loop on a stuck stream */
			if (++fails > 100000)
				break;
			continue;
		}
		while ((rc = dbnextrow(dbproc)) != NO_MORE_ROWS)
		{
			if (rc == FAIL)
			{
				ok = false;
				break;
			}
		}
		if (DBCOUNT(dbproc) >= 0)
		{
			total += DBCOUNT(dbproc);
			counted = true;
		}
	}
	if (DBDEAD(dbproc) || call->msgno != 0 || conn->interrupt_fired)
		ok = false;
	if (rows)
		*rows = counted ? total : -1;
	return ok;
}

bool
TdsExec(TdsConn *conn, const char *batch, int64_t *rows, TdsError *err)
{
	TdsCall		call;
	bool		ok;

	TdsErrorReset(err);
	tds_enter(&call, conn);
	ok = tds_run_batch(conn, &call, batch, rows);
	if (!ok)
		tds_fill_error(&call, TDS_ERR_CLIENT, err);
	tds_leave(&call);
	return ok;
}

/* ----------------------------------------------------------------------
 * Result rows as text
 * ----------------------------------------------------------------------
 */

static bool
tds_type_is_char(int type)
{
	switch (type)
	{
		case SYBCHAR:
		case SYBVARCHAR:
		case SYBTEXT:
		case SYBNTEXT:
		case SYBNVARCHAR:
		case TDS_XSYBVARCHAR:
		case TDS_XSYBCHAR:
		case TDS_XSYBNVARCHAR:
		case TDS_XSYBNCHAR:
		case TDS_SYBMSXML:
			return true;
		default:
			return false;
	}
}

static bool
tds_type_is_binary(int type)
{
	switch (type)
	{
		case SYBBINARY:
		case SYBVARBINARY:
		case SYBIMAGE:
		case TDS_XSYBVARBINARY:
		case TDS_XSYBBINARY:
			return true;
		default:
			return false;
	}
}

static bool
tds_type_is_datetime(int type)
{
	switch (type)
	{
		case SYBDATETIME:
		case SYBDATETIME4:
		case SYBDATETIMN:
		case SYBMSDATE:
		case SYBMSTIME:
		case SYBMSDATETIME2:
		case SYBMSDATETIMEOFFSET:
		case SYBDATE:
		case SYBTIME:
		case SYBBIGDATETIME:
		case SYBBIGTIME:
			return true;
		default:
			return false;
	}
}

/* Make room for n bytes plus a NUL in column i's buffer; values[i] points at it. */
static bool
tds_reserve(TdsConn *conn, int i, size_t n)
{
	if (conn->caps[i] < n + 1)
	{
		size_t		cap = conn->caps[i] ? conn->caps[i] : 64;
		char	   *p;

		while (cap < n + 1)
			cap *= 2;
		p = realloc(conn->bufs[i], cap);
		if (p == NULL)
			return false;
		conn->bufs[i] = p;
		conn->caps[i] = cap;
	}
	conn->values[i] = conn->bufs[i];
	return true;
}

/*
 * ISO 8601 text of a date/time value: "YYYY-MM-DD HH:MM:SS[.fffffff]", the
 * date or the time alone for date and time, "+hh:mm" after a
 * datetimeoffset.  FreeTDS's own rendering follows locales.conf, which
 * PostgreSQL may not parse.
 */
static int
tds_format_datetime(DBPROCESS *dbproc, int type, const BYTE *data, char *out, size_t size)
{
	DBDATEREC2	dr;
	char		frac[16] = "";
	int			month;
	int			n = 0;
	long		nsec;

	if (dbanydatecrack(dbproc, &dr, type, data) == FAIL)
		return -1;
	/* Sybase-style fields (we do not define MSDBLIB): the month is 0-based */
	month = dr.datemonth + 1;
	nsec = dr.datensecond;
	if (nsec > 0)
	{
		int			k;

		snprintf(frac, sizeof(frac), ".%07ld", nsec / 100);
		for (k = (int) strlen(frac) - 1; k > 1 && frac[k] == '0'; k--)
			frac[k] = '\0';
	}
	if (type == SYBMSDATE || type == SYBDATE)
		n = snprintf(out, size, "%04d-%02d-%02d", (int) dr.dateyear, month, (int) dr.datedmonth);
	else if (type == SYBMSTIME || type == SYBTIME || type == SYBBIGTIME)
		n = snprintf(out, size, "%02d:%02d:%02d%s", (int) dr.datehour, (int) dr.dateminute,
					 (int) dr.datesecond, frac);
	else
		n = snprintf(out, size, "%04d-%02d-%02d %02d:%02d:%02d%s", (int) dr.dateyear, month,
					 (int) dr.datedmonth, (int) dr.datehour, (int) dr.dateminute,
					 (int) dr.datesecond, frac);
	if (type == SYBMSDATETIMEOFFSET && n > 0 && (size_t) n < size)
	{
		const DBDATETIMEALL *dta = (const DBDATETIMEALL *) data;
		int			off = dta->offset;
		char		sign = off < 0 ? '-' : '+';

		if (off < 0)
			off = -off;
		n += snprintf(out + n, size - n, "%c%02d:%02d", sign, off / 60, off % 60);
	}
	return (n > 0 && (size_t) n < size) ? n : -1;
}

/* Convert column col (1-based) of the current row into conn's buffers. */
static bool
tds_fetch_value(TdsConn *conn, int col)
{
	DBPROCESS  *dbproc = conn->dbproc;
	int			i = col - 1;
	int			type = dbcoltype(dbproc, col);
	BYTE	   *data = dbdata(dbproc, col);
	DBINT		len = dbdatlen(dbproc, col);
	DBINT		n;

	if (data == NULL)
	{
		conn->values[i] = NULL;
		conn->lengths[i] = 0;
		return true;
	}
	if (len < 0)
		len = 0;
	if (tds_type_is_char(type))
	{
		/* already in the client charset (UTF-8) */
		if (!tds_reserve(conn, i, (size_t) len))
			return false;
		memcpy(conn->values[i], data, len);
		conn->values[i][len] = '\0';
		conn->lengths[i] = (size_t) len;
		return true;
	}
	if (tds_type_is_datetime(type))
	{
		if (!tds_reserve(conn, i, 64))
			return false;
		n = tds_format_datetime(dbproc, type, data, conn->values[i], 64);
		if (n < 0)
			return false;
		conn->lengths[i] = (size_t) n;
		return true;
	}
	/* numbers, bit, money, uniqueidentifier, binary (hex): FreeTDS's text */
	if (!tds_reserve(conn, i, tds_type_is_binary(type) ? (size_t) len * 2 + 16 : 256))
		return false;
	n = dbconvert(dbproc, type, data, len, SYBCHAR, (BYTE *) conn->values[i], -1);
	if (n < 0)
		return false;
	conn->lengths[i] = strlen(conn->values[i]);
	return true;
}

bool
TdsQueryStart(TdsConn *conn, const char *batch, TdsError *err)
{
	TdsCall		call;
	bool		ok = true;

	TdsErrorReset(err);
	tds_enter(&call, conn);
	conn->in_query = true;
	conn->in_rowset = false;
	conn->query_failed = false;
	if (dbcmd(conn->dbproc, batch) == FAIL || dbsqlexec(conn->dbproc) == FAIL ||
		call.msgno != 0 || conn->interrupt_fired)
		ok = false;
	if (!ok)
	{
		tds_fill_error(&call, TDS_ERR_CLIENT, err);
		conn->in_query = false;
	}
	tds_leave(&call);
	return ok;
}

/* Set up the row buffers for the current result set. */
static bool
tds_begin_rowset(TdsConn *conn)
{
	int			n = dbnumcols(conn->dbproc);
	int			i;

	if (n > conn->capcolumns)
	{
		/* the arrays grow together; capcolumns moves only when all have */
		char	  **v = realloc(conn->values, sizeof(char *) * n);
		size_t	   *l;
		char	  **b;
		size_t	   *c;

		if (v == NULL)
			return false;
		conn->values = v;
		l = realloc(conn->lengths, sizeof(size_t) * n);
		if (l == NULL)
			return false;
		conn->lengths = l;
		b = realloc(conn->bufs, sizeof(char *) * n);
		if (b == NULL)
			return false;
		conn->bufs = b;
		for (i = conn->capcolumns; i < n; i++)
			conn->bufs[i] = NULL;
		c = realloc(conn->caps, sizeof(size_t) * n);
		if (c == NULL)
			return false;
		conn->caps = c;
		for (i = conn->capcolumns; i < n; i++)
			conn->caps[i] = 0;
		conn->capcolumns = n;
	}
	conn->ncolumns = n;
	return true;
}

int
TdsQueryNext(TdsConn *conn, TdsRow *row, TdsError *err)
{
	TdsCall		call;
	DBPROCESS  *dbproc = conn->dbproc;
	RETCODE		rc;
	int			result = -1;

	TdsErrorReset(err);
	if (!conn->in_query)
		return 0;
	tds_enter(&call, conn);
	for (;;)
	{
		if (DBDEAD(dbproc) || conn->interrupt_fired)
		{
			conn->query_failed = true;
			break;
		}
		if (!conn->in_rowset)
		{
			rc = dbresults(dbproc);
			if (rc == NO_MORE_RESULTS)
			{
				result = conn->query_failed ? -1 : 0;
				break;
			}
			if (rc == FAIL)
			{
				conn->query_failed = true;
				continue;
			}
			if (dbnumcols(dbproc) <= 0)
				continue;
			if (!tds_begin_rowset(conn))
			{
				tds_set_error(err, TDS_ERR_OUT_OF_MEMORY, "out of memory");
				conn->in_query = false;
				tds_leave(&call);
				return -1;
			}
			conn->in_rowset = true;
		}
		rc = dbnextrow(dbproc);
		if (rc == NO_MORE_ROWS)
		{
			conn->in_rowset = false;
			continue;
		}
		if (rc == FAIL)
		{
			conn->query_failed = true;
			conn->in_rowset = false;
			continue;
		}
		if (rc != REG_ROW)
			continue;			/* a COMPUTE row: not ours to show */
		{
			int			c;
			bool		ok = true;

			for (c = 1; c <= conn->ncolumns && ok; c++)
				ok = tds_fetch_value(conn, c);
			if (!ok)
			{
				if (call.dberr == 0)
				{
					call.dberr = SYBECINTERNAL;
					tds_copy_text(call.dbmessage, sizeof(call.dbmessage),
								  "could not convert a result value to text");
				}
				conn->query_failed = true;
				break;
			}
			row->ncolumns = conn->ncolumns;
			row->values = conn->values;
			row->lengths = conn->lengths;
			result = 1;
			break;
		}
	}
	if (result < 0 || call.msgno != 0)
	{
		tds_fill_error(&call, TDS_ERR_CLIENT, err);
		conn->in_query = false;
		result = -1;
	}
	tds_leave(&call);
	return result;
}

/* ----------------------------------------------------------------------
 * Bulk copy
 * ----------------------------------------------------------------------
 */

static TdsBulkKind
tds_bulk_kind(int server_type)
{
	switch (server_type)
	{
		case SYBNTEXT:
		case SYBNVARCHAR:
		case TDS_XSYBNVARCHAR:
		case TDS_XSYBNCHAR:
		case TDS_SYBMSXML:
			return TDS_BULK_UNICODE;
		case SYBCHAR:
		case SYBVARCHAR:
		case SYBTEXT:
			/* DB-Library says SYBCHAR for nvarchar too: see tds_bulk_column_types */
			return TDS_BULK_UNICODE;
		case TDS_XSYBVARCHAR:
		case TDS_XSYBCHAR:
			return TDS_BULK_CHAR;
		default:
			return tds_type_is_binary(server_type) ? TDS_BULK_BINARY : TDS_BULK_OTHER;
	}
}

/*
 * Split a T-SQL object name ("[s].[t]", "s.t", "[t]", "[d].[s].[t]") into
 * at most three unquoted parts, last part last.  False if it is not one.
 */
static bool
tds_split_name(const char *name, char parts[3][256], int *nparts)
{
	const char *p = name;
	int			n = 0;

	for (;;)
	{
		size_t		len = 0;

		while (*p == ' ')
			p++;
		if (n == 3)
			return false;
		if (*p == '[' || *p == '"')
		{
			char		close = (*p == '[') ? ']' : '"';

			p++;
			for (;;)
			{
				if (*p == '\0')
					return false;
				if (*p == close)
				{
					if (p[1] == close)
						p++;	/* ]] or "" inside */
					else
						break;
				}
				if (len + 1 >= sizeof(parts[n]))
					return false;
				parts[n][len++] = *p++;
			}
			p++;
		}
		else
		{
			while (*p && *p != '.' && *p != ' ')
			{
				if (len + 1 >= sizeof(parts[n]))
					return false;
				parts[n][len++] = *p++;
			}
		}
		if (len == 0)
			return false;
		parts[n++][len] = '\0';
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (*p != '.')
			return false;
		p++;
	}
	*nparts = n;
	return true;
}

/* Append s as the body of an N'...' literal (quotes doubled). */
static size_t
tds_quote_literal(char *out, size_t size, const char *s)
{
	size_t		n = 0;

	for (; *s && n + 2 < size; s++)
	{
		if (*s == '\'')
			out[n++] = '\'';
		out[n++] = *s;
	}
	out[n] = '\0';
	return n;
}

/*
 * DB-Library reports nvarchar and varchar alike (SYBCHAR), and its
 * DBCOL2.ServerType is not filled in by FreeTDS 1.3; bulk copy must know,
 * since it sends UTF-16LE to one and single bytes to the other.  Ask
 * INFORMATION_SCHEMA (what tds_fdw's IMPORT FOREIGN SCHEMA reads too).
 * Columns it does not describe keep the kind guessed from DB-Library's type
 * (character data: Unicode).
 */
static bool
tds_bulk_column_types(TdsConn *conn, TdsCall *call, const char *table)
{
	DBPROCESS  *dbproc = conn->dbproc;
	char		parts[3][256];
	char		q_schema[520];
	char		q_table[520];
	char		q_db[520];
	char		sql[2400];
	int			nparts;
	RETCODE		rc;
	bool		ok = true;

	if (!tds_split_name(table, parts, &nparts))
		return true;			/* let bcp_init judge the name */
	tds_quote_literal(q_table, sizeof(q_table), parts[nparts - 1]);
	tds_quote_literal(q_schema, sizeof(q_schema), nparts >= 2 ? parts[nparts - 2] : "dbo");
	if (nparts == 3)
	{
		/* [d].INFORMATION_SCHEMA: d as an identifier, ] doubled */
		size_t		k = 0;
		const char *c;

		q_db[k++] = '[';
		for (c = parts[0]; *c && k + 4 < sizeof(q_db); c++)
		{
			if (*c == ']')
				q_db[k++] = ']';
			q_db[k++] = *c;
		}
		q_db[k++] = ']';
		q_db[k++] = '.';
		q_db[k] = '\0';
	}
	else
		q_db[0] = '\0';
	snprintf(sql, sizeof(sql),
			 "SELECT COLUMN_NAME, DATA_TYPE FROM %sINFORMATION_SCHEMA.COLUMNS "
			 "WHERE LOWER(TABLE_SCHEMA) = LOWER(N'%s') AND LOWER(TABLE_NAME) = LOWER(N'%s')",
			 q_db, q_schema, q_table);
	if (dbcmd(dbproc, sql) == FAIL || dbsqlexec(dbproc) == FAIL)
		ok = false;
	while (ok && !DBDEAD(dbproc) && (rc = dbresults(dbproc)) != NO_MORE_RESULTS)
	{
		if (rc == FAIL)
		{
			ok = false;
			break;
		}
		while ((rc = dbnextrow(dbproc)) != NO_MORE_ROWS)
		{
			char		colname[256];
			char		type[64];
			DBINT		len;
			int			i;

			if (rc == FAIL)
			{
				ok = false;
				break;
			}
			if (dbnumcols(dbproc) < 2 || dbdata(dbproc, 1) == NULL || dbdata(dbproc, 2) == NULL)
				continue;
			len = dbdatlen(dbproc, 1);
			if (len < 0 || len >= (DBINT) sizeof(colname))
				continue;
			memcpy(colname, dbdata(dbproc, 1), len);
			colname[len] = '\0';
			len = dbdatlen(dbproc, 2);
			if (len < 0 || len >= (DBINT) sizeof(type))
				continue;
			memcpy(type, dbdata(dbproc, 2), len);
			type[len] = '\0';
			for (i = 0; i < conn->nbulk; i++)
			{
				TdsBulkColumn *bc = &conn->bulk_columns[i];

				if (strcasecmp(bc->name, colname) != 0)
					continue;
				if (strcasecmp(type, "nvarchar") == 0 || strcasecmp(type, "nchar") == 0 ||
					strcasecmp(type, "ntext") == 0 || strcasecmp(type, "xml") == 0 ||
					strcasecmp(type, "sysname") == 0)
					bc->kind = TDS_BULK_UNICODE;
				else if (strcasecmp(type, "varchar") == 0 || strcasecmp(type, "char") == 0 ||
						 strcasecmp(type, "text") == 0)
					bc->kind = TDS_BULK_CHAR;
				else if (strcasecmp(type, "varbinary") == 0 || strcasecmp(type, "binary") == 0 ||
						 strcasecmp(type, "image") == 0)
					bc->kind = TDS_BULK_BINARY;
				else
					bc->kind = TDS_BULK_OTHER;
			}
		}
	}
	if (DBDEAD(dbproc) || call->msgno != 0 || conn->interrupt_fired)
		ok = false;
	return ok;
}

/* Read the table's columns the way bcp_init does. */
static bool
tds_bulk_describe(TdsConn *conn, TdsCall *call, const char *table)
{
	DBPROCESS  *dbproc = conn->dbproc;
	size_t		len = strlen(table) + 64;
	char	   *sql = malloc(len);
	RETCODE		rc;
	bool		ok = true;
	bool		described = false;

	if (sql == NULL)
		return false;
	snprintf(sql, len, "SET FMTONLY ON select * from %s SET FMTONLY OFF", table);
	if (dbcmd(dbproc, sql) == FAIL || dbsqlexec(dbproc) == FAIL)
		ok = false;
	free(sql);
	while (ok && !DBDEAD(dbproc) && (rc = dbresults(dbproc)) != NO_MORE_RESULTS)
	{
		int			n;
		int			i;

		if (rc == FAIL)
		{
			ok = false;
			break;
		}
		n = dbnumcols(dbproc);
		if (n > 0 && !described)
		{
			conn->bulk_columns = calloc(n, sizeof(TdsBulkColumn));
			conn->bulk_buf = calloc(n, sizeof(char *));
			conn->bulk_cap = calloc(n, sizeof(size_t));
			if (!conn->bulk_columns || !conn->bulk_buf || !conn->bulk_cap)
				return false;
			conn->nbulk = n;
			for (i = 0; i < n; i++)
			{
				TdsBulkColumn *bc = &conn->bulk_columns[i];

				bc->server_type = dbcoltype(dbproc, i + 1);
				tds_copy_text(bc->name, sizeof(bc->name), dbcolname(dbproc, i + 1));
				bc->kind = tds_bulk_kind(bc->server_type);
				bc->scale = -1;
				if (bc->server_type == SYBDECIMAL || bc->server_type == SYBNUMERIC)
				{
					DBTYPEINFO *ti = dbcoltypeinfo(dbproc, i + 1);

					if (ti)
						bc->scale = ti->scale;
				}
			}
			described = true;
		}
		while ((rc = dbnextrow(dbproc)) != NO_MORE_ROWS)
			if (rc == FAIL)
				break;
	}
	if (DBDEAD(dbproc) || call->msgno != 0 || conn->interrupt_fired)
		ok = false;
	if (ok && !described)
	{
		call->dberr = SYBEBCNT;
		tds_copy_text(call->dbmessage, sizeof(call->dbmessage),
					  "the server described no columns for the bulk-copy table");
		ok = false;
	}
	return ok;
}

bool
TdsBulkBegin(TdsConn *conn, const char *table, TdsError *err)
{
	TdsCall		call;
	int			i;
	bool		ok;

	TdsErrorReset(err);
	tds_enter(&call, conn);
	tds_free_bulk(conn);
	ok = tds_bulk_describe(conn, &call, table) &&
		tds_bulk_column_types(conn, &call, table);
	if (ok && bcp_init(conn->dbproc, table, NULL, NULL, DB_IN) == FAIL)
		ok = false;
	for (i = 0; ok && i < conn->nbulk; i++)
	{
		int			vartype = conn->bulk_columns[i].kind == TDS_BULK_BINARY ? SYBBINARY : SYBCHAR;

		/* a real address and length 0 (NULL) until the first row */
		if (bcp_bind(conn->dbproc, (BYTE *) empty_string, 0, 0, NULL, 0, vartype, i + 1) == FAIL)
			ok = false;
	}
	if (!ok)
	{
		tds_fill_error(&call, TDS_ERR_CLIENT, err);
		tds_free_bulk(conn);
	}
	else
	{
		conn->in_bulk = true;
		conn->bulk_rows_in_batch = 0;
		conn->bulk_rows_sent = 0;
	}
	tds_leave(&call);
	return ok;
}

int
TdsBulkColumnCount(const TdsConn *conn)
{
	return conn->nbulk;
}

const TdsBulkColumn *
TdsBulkGetColumn(const TdsConn *conn, int i)
{
	return (i >= 0 && i < conn->nbulk) ? &conn->bulk_columns[i] : NULL;
}

/*
 * UTF-8 -> UTF-16LE into out (at least 2 * len bytes).  Returns the length
 * in bytes, -1 on a malformed sequence.
 */
static long
tds_utf8_to_utf16le(const unsigned char *in, size_t len, unsigned char *out)
{
	size_t		i = 0;
	long		n = 0;

	while (i < len)
	{
		unsigned long c = in[i];
		int			extra;
		int			k;

		if (c < 0x80)
			extra = 0;
		else if ((c & 0xE0) == 0xC0)
		{
			c &= 0x1F;
			extra = 1;
		}
		else if ((c & 0xF0) == 0xE0)
		{
			c &= 0x0F;
			extra = 2;
		}
		else if ((c & 0xF8) == 0xF0)
		{
			c &= 0x07;
			extra = 3;
		}
		else
			return -1;
		if (extra > 0 && i + (size_t) extra >= len)
			return -1;
		for (k = 1; k <= extra; k++)
		{
			if ((in[i + k] & 0xC0) != 0x80)
				return -1;
			c = (c << 6) | (in[i + k] & 0x3F);
		}
		i += extra + 1;
		if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return -1;
		if (c >= 0x10000)
		{
			unsigned long hi;
			unsigned long lo;

			c -= 0x10000;
			hi = 0xD800 | (c >> 10);
			lo = 0xDC00 | (c & 0x3FF);
			out[n++] = (unsigned char) (hi & 0xFF);
			out[n++] = (unsigned char) (hi >> 8);
			out[n++] = (unsigned char) (lo & 0xFF);
			out[n++] = (unsigned char) (lo >> 8);
		}
		else
		{
			out[n++] = (unsigned char) (c & 0xFF);
			out[n++] = (unsigned char) (c >> 8);
		}
	}
	return n;
}

bool
TdsBulkSendRow(TdsConn *conn, const TdsBulkValue *values, TdsError *err)
{
	TdsCall		call;
	DBPROCESS  *dbproc = conn->dbproc;
	int			i;

	TdsErrorReset(err);
	if (!conn->in_bulk)
	{
		tds_set_error(err, TDS_ERR_CLIENT, "no bulk copy in progress");
		return false;
	}
	tds_enter(&call, conn);
	for (i = 0; i < conn->nbulk; i++)
	{
		const TdsBulkValue *v = &values[i];
		const TdsBulkColumn *bc = &conn->bulk_columns[i];
		const BYTE *ptr = (const BYTE *) empty_string;
		DBINT		len = 0;

		if (v->isnull)
			len = 0;			/* zero length: NULL */
		else if (v->len == 0)
			len = -1;			/* "" with -1: strlen() = 0, not NULL */
		else if (v->len > 0x3FFFFFFF)
		{
			tds_leave(&call);
			tds_set_error(err, TDS_ERR_DATA, "value for column \"%s\" is too long (%zu bytes)",
						  bc->name, v->len);
			err->data_problem = TDS_DATA_TOO_LONG;
			return false;
		}
		else if (bc->kind == TDS_BULK_UNICODE)
		{
			long		n;

			if (conn->bulk_cap[i] < v->len * 2)
			{
				size_t		cap = conn->bulk_cap[i] ? conn->bulk_cap[i] : 256;
				char	   *p;

				while (cap < v->len * 2)
					cap *= 2;
				p = realloc(conn->bulk_buf[i], cap);
				if (p == NULL)
				{
					tds_leave(&call);
					tds_set_error(err, TDS_ERR_OUT_OF_MEMORY, "out of memory");
					return false;
				}
				conn->bulk_buf[i] = p;
				conn->bulk_cap[i] = cap;
			}
			n = tds_utf8_to_utf16le((const unsigned char *) v->data, v->len,
									(unsigned char *) conn->bulk_buf[i]);
			if (n < 0)
			{
				tds_leave(&call);
				tds_set_error(err, TDS_ERR_DATA, "value for column \"%s\" is not valid UTF-8",
							  bc->name);
				err->data_problem = TDS_DATA_BAD_ENCODING;
				return false;
			}
			ptr = (const BYTE *) conn->bulk_buf[i];
			len = (DBINT) n;
		}
		else
		{
			if (bc->kind == TDS_BULK_CHAR)
			{
				size_t		k;

				for (k = 0; k < v->len; k++)
					if ((unsigned char) v->data[k] >= 0x80)
					{
						tds_leave(&call);
						tds_set_error(err, TDS_ERR_DATA,
									  "column \"%s\" is not a Unicode (nvarchar) column: only ASCII text can be copied into it",
									  bc->name);
						err->data_problem = TDS_DATA_NOT_ASCII;
						return false;
					}
			}
			ptr = (const BYTE *) v->data;
			len = (DBINT) v->len;
		}
		if (bcp_colptr(dbproc, (BYTE *) ptr, i + 1) == FAIL ||
			bcp_collen(dbproc, len, i + 1) == FAIL)
		{
			tds_fill_error(&call, TDS_ERR_CLIENT, err);
			tds_leave(&call);
			return false;
		}
	}
	if (bcp_sendrow(dbproc) == FAIL || call.msgno != 0 || conn->interrupt_fired ||
		DBDEAD(dbproc))
	{
		tds_fill_error(&call, TDS_ERR_CLIENT, err);
		tds_leave(&call);
		return false;
	}
	conn->bulk_rows_in_batch++;
	conn->bulk_rows_sent++;
	tds_leave(&call);
	return true;
}

int64_t
TdsBulkBatch(TdsConn *conn, TdsError *err)
{
	TdsCall		call;
	DBINT		n;

	TdsErrorReset(err);
	if (!conn->in_bulk)
	{
		tds_set_error(err, TDS_ERR_CLIENT, "no bulk copy in progress");
		return -1;
	}
	if (conn->bulk_rows_in_batch == 0)
		return 0;
	tds_enter(&call, conn);
	n = bcp_batch(conn->dbproc);
	if (n < 0 || call.msgno != 0 || conn->interrupt_fired || DBDEAD(conn->dbproc))
	{
		tds_fill_error(&call, TDS_ERR_CLIENT, err);
		tds_leave(&call);
		return -1;
	}
	conn->bulk_rows_in_batch = 0;
	tds_leave(&call);
	return n;
}

int64_t
TdsBulkDone(TdsConn *conn, TdsError *err)
{
	TdsCall		call;
	DBINT		n;

	TdsErrorReset(err);
	if (!conn->in_bulk)
	{
		tds_set_error(err, TDS_ERR_CLIENT, "no bulk copy in progress");
		return -1;
	}
	/* nothing ever sent: no INSERT BULK was started, bcp_done would fail */
	if (conn->bulk_rows_sent == 0)
	{
		tds_free_bulk(conn);
		return 0;
	}
	tds_enter(&call, conn);
	n = bcp_done(conn->dbproc);
	if (n < 0 || call.msgno != 0 || conn->interrupt_fired || DBDEAD(conn->dbproc))
	{
		tds_fill_error(&call, TDS_ERR_CLIENT, err);
		tds_leave(&call);
		return -1;
	}
	tds_free_bulk(conn);
	tds_leave(&call);
	return n;
}
