/*-------------------------------------------------------------------------
 *
 * tds_client.h
 *		A small client for SQL Server / Azure SQL over FreeTDS DB-Library:
 *		connect, run a batch, read rows, bulk copy.
 *
 * tds_client.c is the only file that includes sybdb.h, and it never
 * includes postgres.h: memory is malloc'd, errors come back in a TdsError,
 * and pending interrupts are polled through a callback.  tds_push.c is the
 * PostgreSQL side: it reads the options, maps a TdsError to an SQLSTATE,
 * retries, and closes every connection it opened, also on error.
 *
 * Nothing here longjmps, and no function keeps state between calls other
 * than the TdsConn it is given; DB-Library's process-wide handlers are
 * installed on entry to each function and the previous ones put back on
 * exit, so tds_fdw in the same backend keeps its own.
 *
 * IDENTIFICATION
 *		src/loader/tds_client.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_TDS_CLIENT_H
#define TELEM_TDS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What went wrong, in terms the SQL side maps to an SQLSTATE and a retry. */
typedef enum TdsErrorKind
{
	TDS_OK = 0,
	TDS_ERR_CONNECT,			/* no session: connect, TLS or login failed;
								 * nothing of the caller's was sent */
	TDS_ERR_SERVER,				/* the server answered with an error message
								 * (severity > 10) */
	TDS_ERR_LOST,				/* the connection broke after a request was
								 * sent and before its reply was complete */
	TDS_ERR_CANCELED,			/* the interrupt callback asked us to stop */
	TDS_ERR_DATA,				/* a value could not be converted for the
								 * remote column */
	TDS_ERR_CLIENT,				/* DB-Library refused a call (bad table,
								 * bulk-copy setup, protocol) */
	TDS_ERR_OUT_OF_MEMORY
} TdsErrorKind;

/* For TDS_ERR_DATA: what was wrong with the value. */
typedef enum TdsDataProblem
{
	TDS_DATA_SYNTAX = 0,		/* text FreeTDS could not convert */
	TDS_DATA_OVERFLOW,			/* out of the remote type's range */
	TDS_DATA_NOT_ASCII,			/* non-ASCII text for a varchar column */
	TDS_DATA_BAD_ENCODING,		/* not valid UTF-8 */
	TDS_DATA_TOO_LONG			/* a value or row too long to send */
} TdsDataProblem;

typedef struct TdsError
{
	TdsErrorKind kind;
	bool		transient;		/* trying again may succeed (for CONNECT and
								 * SERVER: nothing was committed) */
	TdsDataProblem data_problem;	/* for TDS_ERR_DATA */
	int			msgno;			/* SQL Server message number; 0 if none */
	int			severity;		/* of msgno */
	int			state;			/* of msgno */
	int			line;			/* of msgno, in the batch */
	int			dberr;			/* DB-Library error (SYBE...); 0 if none */
	int			oserr;			/* errno behind dberr; 0 if none */
	bool		encryption_required;	/* the login demanded TLS */
	bool		tls_refused;	/* ... and the server did not negotiate it
								 * (as far as DB-Library lets us tell) */
	char		message[1024];	/* server's or DB-Library's text; never holds
								 * the password */
} TdsError;

/* Returns true when the caller should stop (a cancel or terminate is pending). */
typedef bool (*TdsInterruptFunc) (void);

typedef struct TdsConnParams
{
	const char *host;			/* one name or address (no list, no port) */
	int			port;			/* 0: FreeTDS's default / freetds.conf */
	const char *database;		/* NULL: the login's default database */
	bool		use_dbuse;		/* select the database with USE, not at login */
	const char *user;
	const char *password;
	const char *tds_version;	/* "7.4" (default), "7.3", ... as tds_fdw */
	const char *language;		/* NULL: the server's default */
	bool		bulk;			/* enable bulk copy (BCP_SETL) */
	int			login_timeout;	/* seconds; 0: FreeTDS's default */
	const char *tmpdir;			/* where the encryption override file may be
								 * written; NULL: $TMPDIR or /tmp */
	TdsInterruptFunc interrupted;	/* may be NULL */
} TdsConnParams;

typedef struct TdsConn TdsConn;

/* One result row: values[i] is NULL for SQL NULL, else NUL-terminated text. */
typedef struct TdsRow
{
	int			ncolumns;
	char	  **values;
	size_t	   *lengths;
} TdsRow;

/* A column of the bulk-copy target as the server describes it. */
typedef enum TdsBulkKind
{
	TDS_BULK_UNICODE,			/* nvarchar, nchar, ntext: sent as UTF-16LE */
	TDS_BULK_CHAR,				/* varchar, char, text: ASCII only */
	TDS_BULK_BINARY,			/* varbinary, binary, image: bytes as given */
	TDS_BULK_OTHER				/* numbers, dates, bit, uniqueidentifier, ...:
								 * text that FreeTDS converts */
} TdsBulkKind;

typedef struct TdsBulkColumn
{
	char		name[256];		/* as the server spells it */
	int			server_type;	/* DB-Library's type (dbcoltype) */
	TdsBulkKind kind;
	int			scale;			/* decimal/numeric: digits after the point
								 * (FreeTDS truncates longer input, SQL
								 * Server would round); -1 otherwise */
} TdsBulkColumn;

/* One value of a bulk-copy row; data need not be NUL-terminated. */
typedef struct TdsBulkValue
{
	const char *data;			/* UTF-8 text, or raw bytes for BINARY */
	size_t		len;
	bool		isnull;
} TdsBulkValue;

/* Loopback (127.0.0.0/8, ::1, ::ffff:127.x, "localhost")? */
extern bool TdsHostIsLoopback(const char *host);

/* Mark err as "no error". */
extern void TdsErrorReset(TdsError *err);

/*
 * Open a session: log in, then send the session settings (XACT_ABORT,
 * NOCOUNT, ANSI_NULLS, QUOTED_IDENTIFIER ON; TEXTSIZE at its maximum).  TLS is required when the host
 * is not loopback.  NULL with err filled on failure (kind CONNECT, or
 * SERVER when a login error came from the server: check msgno).
 */
extern TdsConn *TdsConnect(const TdsConnParams *params, TdsError *err);

/* Close the session and free everything; NULL is allowed. */
extern void TdsClose(TdsConn *conn);

/*
 * Run one batch, discarding any result rows.  *rows gets the sum of the
 * statements' row counts, -1 if the server reported none (SET NOCOUNT ON).
 */
extern bool TdsExec(TdsConn *conn, const char *batch, int64_t *rows,
					TdsError *err);

/*
 * Send a batch whose rows are then read with TdsQueryNext (the rows of all
 * its result sets, in order).
 */
extern bool TdsQueryStart(TdsConn *conn, const char *batch, TdsError *err);

/*
 * The next row: 1 and *row filled (valid until the next call), 0 at the end,
 * -1 with err filled on error.
 */
extern int	TdsQueryNext(TdsConn *conn, TdsRow *row, TdsError *err);

/*
 * Start a bulk copy into table (its name as T-SQL, e.g. "[dbo].[stage]"):
 * read its columns, then bcp_init.  The connection must have been opened
 * with params->bulk.
 */
extern bool TdsBulkBegin(TdsConn *conn, const char *table, TdsError *err);
extern int	TdsBulkColumnCount(const TdsConn *conn);
extern const TdsBulkColumn *TdsBulkGetColumn(const TdsConn *conn, int i);

/* Send one row: values[i] for the table's column i (0-based). */
extern bool TdsBulkSendRow(TdsConn *conn, const TdsBulkValue *values,
						   TdsError *err);

/* Commit the rows sent since the last batch; their count, -1 on error. */
extern int64_t TdsBulkBatch(TdsConn *conn, TdsError *err);

/* End the bulk copy, committing what is left; its count, -1 on error. */
extern int64_t TdsBulkDone(TdsConn *conn, TdsError *err);

/* Transient per Azure SQL's guidance (40613, 40501, 1205, ...)? */
extern bool TdsServerErrorIsTransient(int msgno);

#endif							/* TELEM_TDS_CLIENT_H */
