/*
 * bcp_check.c -- a FreeTDS DB-Library client for the TDS test server, and the
 * reference for the loader's bulk copy (bcp_init/bcp_bind/bcp_sendrow/
 * bcp_batch/bcp_done into nvarchar, bigint, float, bit, datetimeoffset and
 * nvarchar(max) columns).
 *
 *   bcp_check [-p PASSWORD] load TABLE ROWS [BATCH]
 *       create TABLE if missing (the loader's IF OBJECT_ID ... CREATE TABLE),
 *       empty it, bulk copy ROWS rows (bcp_batch every BATCH rows), print
 *       "bcp rows: N" and the table's row count; exit 0 on success
 *   bcp_check [-p PASSWORD] sql BATCH
 *       run one batch, print result rows tab-separated and every server
 *       message as "msg NUMBER severity S state T: TEXT"; exit 1 if the
 *       batch failed
 *   bcp_check cancel BATCH MS
 *       send BATCH, wait MS ms, dbcancel() (an ATTENTION), then prove the
 *       connection still works
 *   bcp_check deadlock TABLE
 *       two connections update TABLE's rows 1 and 2 in opposite order inside
 *       transactions; print which one got message 1205
 *
 * Connection: TELEM_TDS_HOST, TELEM_TDS_PORT, TELEM_TDS_USER,
 * TELEM_TDS_PASSWORD, TELEM_TDS_DATABASE (as in STATE_DIR/env.sh).
 * FreeTDS reads FREETDSCONF; "client charset = UTF-8" there makes the UTF-8
 * strings bound as SYBCHAR arrive as proper UTF-16 in nvarchar columns.
 *
 * Pitfalls this shows:
 *  - BCP_SETL(login, TRUE) before dbopen(), or bcp_init() fails.
 *  - A NUL-terminated string bound with terminator "" of length 0 is sent as
 *    NULL, not '' (DB-Library's rule: zero length means NULL).
 *  - datetimeoffset from a string ignores any "+hh:mm" (FreeTDS's string
 *    parser has no offsets): bind a DBDATETIMEALL (UTC time, offset 0) as
 *    here, or UTC strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sybfront.h>
#include <sybdb.h>

/* not in sybdb.h: the TDS 7 NVARCHAR type code (0xE7), which bcp_bind accepts
 * and copies into an nvarchar column unchanged */
#ifndef XSYBNVARCHAR
#define XSYBNVARCHAR 231
#endif

static int failed_msgs;		/* server messages with severity > 10 */
static int last_msgno;

static int
msg_handler(DBPROCESS *dbp, DBINT msgno, int state, int severity, char *text,
	    char *server, char *proc, int line)
{
	(void) dbp; (void) server; (void) proc; (void) line;
	if (msgno == 5701 || msgno == 5703)	/* database / language changed */
		return 0;
	printf("msg %d severity %d state %d: %s\n", (int) msgno, severity, state, text);
	fflush(stdout);
	if (severity > 10) {
		failed_msgs++;
		last_msgno = msgno;
	}
	return 0;
}

static int
err_handler(DBPROCESS *dbp, int severity, int dberr, int oserr, char *dberrstr, char *oserrstr)
{
	(void) dbp; (void) severity;
	printf("dberr %d: %s%s%s\n", dberr, dberrstr ? dberrstr : "",
	       oserr > 0 && oserrstr ? "; os: " : "", oserr > 0 && oserrstr ? oserrstr : "");
	fflush(stdout);
	return INT_CANCEL;
}

static const char *
env(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v && *v ? v : dflt;
}

static const char *password_override;

static DBPROCESS *
connect_db(int bulk)
{
	char server[256];
	LOGINREC *login = dblogin();
	DBPROCESS *dbp;

	if (!login)
		return NULL;
	DBSETLUSER(login, env("TELEM_TDS_USER", "telem_loader"));
	DBSETLPWD(login, password_override ? password_override : env("TELEM_TDS_PASSWORD", ""));
	DBSETLAPP(login, "bcp_check");
	DBSETLDBNAME(login, env("TELEM_TDS_DATABASE", "azuresql"));
	DBSETLCHARSET(login, "UTF-8");
	dbsetlversion(login, DBVERSION_74);
	if (bulk)
		BCP_SETL(login, TRUE);
	snprintf(server, sizeof(server), "%s:%s", env("TELEM_TDS_HOST", "127.0.0.1"),
		 env("TELEM_TDS_PORT", "1433"));
	dbp = dbopen(login, server);
	dbloginfree(login);
	return dbp;
}

/* Run a batch; print rows; return 0 if no error came back. */
static int
run_sql(DBPROCESS *dbp, const char *sql, int print)
{
	RETCODE rc;
	int before = failed_msgs, ok = 1;

	if (dbcmd(dbp, sql) == FAIL)
		return 1;
	if (dbsqlexec(dbp) == FAIL)
		ok = 0;
	while ((rc = dbresults(dbp)) != NO_MORE_RESULTS) {
		if (rc == FAIL) {
			ok = 0;
			if (DBDEAD(dbp))
				break;
			continue;
		}
		if (print && dbnumcols(dbp) > 0) {
			int c;
			for (c = 1; c <= dbnumcols(dbp); c++)
				printf("%s%s", c > 1 ? "\t" : "", dbcolname(dbp, c));
			printf("\n");
		}
		while ((rc = dbnextrow(dbp)) != NO_MORE_ROWS) {
			int c;
			if (rc == FAIL) {
				ok = 0;
				break;
			}
			for (c = 1; print && c <= dbnumcols(dbp); c++) {
				char buf[65536];
				BYTE *data = dbdata(dbp, c);
				DBINT len = dbdatlen(dbp, c);
				if (data == NULL && len == 0)
					strcpy(buf, "NULL");
				else if (len > (DBINT) sizeof(buf) / 4)
					snprintf(buf, sizeof(buf), "<%d bytes>", (int) len);
				else if (dbconvert(dbp, dbcoltype(dbp, c), data, len, SYBCHAR,
						   (BYTE *) buf, -1) < 0)
					strcpy(buf, "?");
				printf("%s%s", c > 1 ? "\t" : "", buf);
			}
			if (print)
				printf("\n");
		}
		if (print && DBCOUNT(dbp) >= 0)
			printf("(%d rows)\n", (int) DBCOUNT(dbp));
	}
	fflush(stdout);
	return ok && failed_msgs == before && !DBDEAD(dbp) ? 0 : 1;
}

/* days since 1900-01-01 (DB-Library's date origin) of a civil date */
static int
days_1900(int y, int m, int d)
{
	/* days from 1970-01-01, H. Hinnant's algorithm */
	int era, yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468 + 25567;
}

static const char *const cities[] = { "Zürich", "São Paulo", "東京" };

/*
 * UTF-8 -> UTF-16LE; returns the length in bytes.  FreeTDS's bcp (1.3.17)
 * copies a bound SYBCHAR string into an nvarchar column byte for byte, with
 * no charset conversion, whatever "client charset" says (only freebcp's file
 * path converts): the server then sees UTF-8 bytes as UTF-16 code units.
 * So nvarchar columns are bound as SYBNVARCHAR holding UTF-16LE, with the
 * byte length set per row by bcp_collen().
 */
static int
utf16le(const char *in, char *out, int max)
{
	const unsigned char *p = (const unsigned char *) in;
	int n = 0;

	while (*p && n + 4 <= max) {
		unsigned long c;
		int extra;
		if (*p < 0x80) {
			c = *p;
			extra = 0;
		} else if ((*p & 0xE0) == 0xC0) {
			c = *p & 0x1F;
			extra = 1;
		} else if ((*p & 0xF0) == 0xE0) {
			c = *p & 0x0F;
			extra = 2;
		} else {
			c = *p & 0x07;
			extra = 3;
		}
		p++;
		while (extra-- > 0 && (*p & 0xC0) == 0x80)
			c = (c << 6) | (*p++ & 0x3F);
		if (c >= 0x10000) {	/* surrogate pair */
			c -= 0x10000;
			out[n++] = (char) ((0xD800 | (c >> 10)) & 0xFF);
			out[n++] = (char) ((0xD800 | (c >> 10)) >> 8);
			c = 0xDC00 | (c & 0x3FF);
		}
		out[n++] = (char) (c & 0xFF);
		out[n++] = (char) (c >> 8);
	}
	return n;
}

static int
do_load(const char *table, int rows, int batch)
{
	char sql[2048], name[256], note[16384], wname[512], wnote[32768];
	int naive = getenv("BCP_CHECK_SYBCHAR") != NULL;	/* show the pitfall */
	DBBIGINT id;
	DBFLT8 reading;
	DBBIT ok;
	DBDATETIMEALL ts;
	DBPROCESS *dbp = connect_db(1);
	int i, sent = 0, copied = 0, r;

	if (!dbp) {
		printf("connect failed\n");
		return 1;
	}
	/* what the loader sends after login, then its setup and stage steps */
	if (run_sql(dbp, "SET XACT_ABORT ON; SET NOCOUNT ON; SET ANSI_NULLS ON; "
		    "SET QUOTED_IDENTIFIER ON;", 0))
		return 1;
	snprintf(sql, sizeof(sql),
		 "IF OBJECT_ID(N'%s', N'U') IS NULL\n"
		 "  CREATE TABLE %s ([name] nvarchar(200) NULL, [id] bigint NULL, "
		 "[reading] float NULL, [ok] bit NULL, [ts] datetimeoffset NULL, "
		 "[note] nvarchar(max) NULL);\nDELETE FROM %s;", table, table, table);
	if (run_sql(dbp, sql, 0))
		return 1;

	if (bcp_init(dbp, table, NULL, NULL, DB_IN) == FAIL) {
		printf("bcp_init failed\n");
		return 1;
	}
	if ((naive ? bcp_bind(dbp, (BYTE *) name, 0, -1, (BYTE *) "", 1, SYBCHAR, 1)
		   : bcp_bind(dbp, (BYTE *) wname, 0, sizeof(wname), NULL, 0, SYBCHAR, 1)) == FAIL
	    || bcp_bind(dbp, (BYTE *) &id, 0, -1, NULL, 0, SYBINT8, 2) == FAIL
	    || bcp_bind(dbp, (BYTE *) &reading, 0, -1, NULL, 0, SYBFLT8, 3) == FAIL
	    || bcp_bind(dbp, (BYTE *) &ok, 0, -1, NULL, 0, SYBBIT, 4) == FAIL
	    || bcp_bind(dbp, (BYTE *) &ts, 0, sizeof(ts), NULL, 0, SYBMSDATETIMEOFFSET, 5) == FAIL
	    || (naive ? bcp_bind(dbp, (BYTE *) note, 0, -1, (BYTE *) "", 1, SYBCHAR, 6)
		: bcp_bind(dbp, (BYTE *) wnote, 0, sizeof(wnote), NULL, 0, SYBCHAR, 6)) == FAIL) {
		printf("bcp_bind failed\n");
		return 1;
	}
	for (i = 1; i <= rows; i++) {
		snprintf(name, sizeof(name), "%s #%d", cities[i % 3], i);
		id = (DBBIGINT) i * 1000000007LL;
		reading = i * 0.25 - 3.0;
		ok = i % 2;
		memset(&ts, 0, sizeof(ts));
		ts.date = days_1900(2024, 1, 2);
		ts.time = ((3 * 3600 + 4 * 60 + 5) + (unsigned long long) i) * 10000000ULL + 1234567;
		ts.time_prec = 7;
		ts.has_date = ts.has_time = ts.has_offset = 1;
		ts.offset = 0;
		if (i == 1) {	/* a long value: PLP chunks across packets */
			int k;
			note[0] = 0;
			for (k = 0; k < 1000; k++)
				strcat(note, "ü東x");
		} else
			snprintf(note, sizeof(note), "note ü %d", i);
		if (naive) {
			/* every 5th row: NULL note (a zero length means NULL in bcp) */
			bcp_collen(dbp, i % 5 == 0 ? 0 : -1, 6);
		} else {
			bcp_collen(dbp, utf16le(name, wname, sizeof(wname)), 1);
			bcp_collen(dbp, i % 5 == 0 ? 0 : utf16le(note, wnote, sizeof(wnote)), 6);
		}
		if (bcp_sendrow(dbp) == FAIL) {
			printf("bcp_sendrow failed at row %d\n", i);
			return 1;
		}
		sent++;
		if (batch > 0 && i % batch == 0) {
			r = bcp_batch(dbp);
			if (r < 0) {
				printf("bcp_batch failed at row %d\n", i);
				return 1;
			}
			copied += r;
		}
	}
	r = bcp_done(dbp);
	if (r < 0) {
		printf("bcp_done failed\n");
		return 1;
	}
	copied += r;
	printf("bcp rows: %d sent, %d copied\n", sent, copied);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) AS n FROM %s", table);
	r = run_sql(dbp, sql, 1);
	dbclose(dbp);
	return r || copied != rows;
}

static int
do_cancel(const char *sql, int ms)
{
	DBPROCESS *dbp = connect_db(0);

	if (!dbp)
		return 1;
	if (dbcmd(dbp, sql) == FAIL || dbsqlsend(dbp) == FAIL) {
		printf("send failed\n");
		return 1;
	}
	usleep(ms * 1000);
	if (dbcancel(dbp) == FAIL) {
		printf("dbcancel failed\n");
		return 1;
	}
	printf("cancelled\n");
	if (run_sql(dbp, "SELECT 42 AS after_cancel", 1))
		return 1;
	dbclose(dbp);
	return 0;
}

static int
do_deadlock(const char *table)
{
	char sql[512];
	DBPROCESS *a = connect_db(0), *b = connect_db(0);
	int ra, rb;

	if (!a || !b)
		return 1;
	snprintf(sql, sizeof(sql), "BEGIN TRANSACTION; UPDATE %s SET [v] = [v] + 1 WHERE [k] = 1;", table);
	if (run_sql(a, sql, 0))
		return 1;
	snprintf(sql, sizeof(sql), "BEGIN TRANSACTION; UPDATE %s SET [v] = [v] + 1 WHERE [k] = 2;", table);
	if (run_sql(b, sql, 0))
		return 1;
	/* a waits for b's row 2 ... */
	snprintf(sql, sizeof(sql), "UPDATE %s SET [v] = [v] + 10 WHERE [k] = 2;", table);
	if (dbcmd(a, sql) == FAIL || dbsqlsend(a) == FAIL)
		return 1;
	usleep(300 * 1000);
	/* ... and b for a's row 1: one of them is the victim */
	snprintf(sql, sizeof(sql), "UPDATE %s SET [v] = [v] + 10 WHERE [k] = 1;", table);
	last_msgno = 0;
	rb = run_sql(b, sql, 0);
	printf("b: %s (last error %d)\n", rb ? "failed" : "ok", last_msgno);
	if (rb == 0)
		run_sql(b, "COMMIT TRANSACTION", 0);
	else
		run_sql(b, "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION", 0);
	last_msgno = 0;
	ra = 0;
	if (dbsqlok(a) == FAIL)
		ra = 1;
	while (dbresults(a) != NO_MORE_RESULTS)
		while (dbnextrow(a) != NO_MORE_ROWS)
			;
	if (last_msgno)
		ra = 1;
	printf("a: %s (last error %d)\n", ra ? "failed" : "ok", last_msgno);
	run_sql(a, ra ? "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION" : "COMMIT TRANSACTION", 0);
	dbclose(a);
	dbclose(b);
	return (ra ^ rb) ? 0 : 1;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		password_override = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: %s [-p PASSWORD] load TABLE ROWS [BATCH] | sql BATCH | "
			"cancel BATCH MS | deadlock TABLE\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (dbinit() == FAIL)
		return 1;
	dberrhandle(err_handler);
	dbmsghandle(msg_handler);
	if (strcmp(argv[1], "load") == 0 && argc >= 4)
		rc = do_load(argv[2], atoi(argv[3]), argc > 4 ? atoi(argv[4]) : 0);
	else if (strcmp(argv[1], "sql") == 0) {
		DBPROCESS *dbp = connect_db(0);
		if (!dbp) {
			printf("connect failed\n");
			rc = 1;
		} else {
			rc = run_sql(dbp, argv[2], 1);
			dbclose(dbp);
		}
	} else if (strcmp(argv[1], "cancel") == 0 && argc >= 4)
		rc = do_cancel(argv[2], atoi(argv[3]));
	else if (strcmp(argv[1], "deadlock") == 0)
		rc = do_deadlock(argv[2]);
	else {
		fprintf(stderr, "bcp_check: unknown mode %s\n", argv[1]);
		rc = 2;
	}
	dbexit();
	return rc;
}
