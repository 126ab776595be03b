#!/usr/bin/python3
"""TDS test server: a protocol-level stand-in for Azure SQL Database.

It speaks TDS 7.4 on 127.0.0.1 (no TLS: PRELOGIN answers encryption
NOT_SUP) and executes what it receives on a real PostgreSQL database, one
psycopg2 connection per TDS session.  It understands the small T-SQL
subset the telem_fdw loader emits (docs/tsql-subset.md) plus what FreeTDS
(tsql, freebcp, bcp_*) and tds_fdw send; anything else is an error that
names the construct.  It is for tests and the demo only.  Full
documentation: docs/tds-test-server.md.

Files:
  server.py     sessions, statement execution, the control interface (this)
  protocol.py   packets, tokens, data types
  translate.py  T-SQL -> PostgreSQL
  catalog.py    PostgreSQL-side objects (dbo, tds_catalog), error mapping
  faults.py     fault injection
  bcp_check.c   a libsybdb bulk-copy client used by the tests

Run:
  server.py --port P --control-port C --dsn 'host=... dbname=azuresql' \
            [--user U --password PW --database azuresql] [--faults F.json]

Control interface (HTTP/1.0 on 127.0.0.1:C, JSON):
  GET    /health      "ok"
  GET    /stats       counters: connections, logins, login_failures, batches,
                      statements, bulk_loads, bulk_rows, attentions, errors,
                      faults_fired (total and by kind)
  GET    /faults      armed faults
  POST   /faults      arm a fault (object) or several (list); -> {"ids": [...]}
  DELETE /faults      disarm all
  POST   /reset       disarm all and zero the counters
"""

import argparse
import datetime
import decimal
import http.server
import io
import itertools
import json
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg2  # noqa: E402
import psycopg2.extensions  # noqa: E402

import catalog  # noqa: E402
import faults as faultmod  # noqa: E402
import protocol as P  # noqa: E402
import translate as T  # noqa: E402

log = logging.getLogger("tds")

VERSION_STRING = ("Microsoft SQL Azure (RTM) - 12.0.2000.8 \n"
                  "\tTDS test server for telem_fdw (a protocol-level stand-in executing on "
                  "PostgreSQL; not Microsoft software)\n")

IGNORED_SET = {"ANSI_NULLS", "ANSI_PADDING", "ANSI_WARNINGS", "ANSI_NULL_DFLT_ON",
               "ANSI_NULL_DFLT_OFF", "QUOTED_IDENTIFIER", "CONCAT_NULL_YIELDS_NULL",
               "ARITHABORT", "ARITHIGNORE", "NUMERIC_ROUNDABORT", "CURSOR_CLOSE_ON_COMMIT",
               "TEXTSIZE", "DATEFIRST", "DEADLOCK_PRIORITY", "ANSI_DEFAULTS",
               "QUERY_GOVERNOR_COST_LIMIT", "STATISTICS", "NOCOUNT", "XACT_ABORT", "FMTONLY"}
# SET options that may only be switched off (ON changes semantics we lack).
OFF_ONLY_SET = {"IMPLICIT_TRANSACTIONS", "SHOWPLAN_ALL", "SHOWPLAN_TEXT", "SHOWPLAN_XML",
                "NOEXEC", "PARSEONLY", "FORCEPLAN", "REMOTE_PROC_TRANSACTIONS"}


class Stats:
    FIELDS = ("connections", "sessions_open", "logins", "login_failures", "batches",
              "statements", "bulk_loads", "bulk_rows", "attentions", "errors", "faults_fired")

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.c = {k: 0 for k in self.FIELDS}
            self.by_kind = {}

    def add(self, key, n=1):
        with self.lock:
            self.c[key] += n

    def fault_fired(self, f):
        key = "%s_%s" % (f.kind, f.on)
        with self.lock:
            self.c["faults_fired"] += 1
            self.by_kind[key] = self.by_kind.get(key, 0) + 1

    def snapshot(self):
        with self.lock:
            d = dict(self.c)
            d["faults_fired_by_kind"] = dict(self.by_kind)
            return d


class Dropped(Exception):
    """A fault (or the client) ended the connection."""


class BatchAbort(Exception):
    """Stop executing the rest of the batch (error already reported)."""


class Session:
    spids = itertools.count(51)

    def __init__(self, server, sock, addr):
        self.srv = server
        self.cfg = server.cfg
        self.sock = sock
        self.addr = addr
        self.spid = next(self.spids)
        self.ps = P.PacketSocket(sock, self.spid)
        self.pg = None
        self.logged_in = False
        self.user = ""
        self.trancount = 0
        self.tran_id = 0
        self.xact_abort = False
        self.nocount = False
        self.fmtonly = False
        self.textsize = None  # bytes of a (max) value sent; SET TEXTSIZE
        self.pending_bulk = None
        self.attn = threading.Event()
        self.w = None
        self.pending_done = None
        self.typecache = {}
        self.ctx = T.Ctx(self.cfg.database, self.spid, VERSION_STRING, self.cfg.servername,
                         self.cfg.user)

    # -- plumbing ------------------------------------------------------------------
    def run(self):
        self.srv.stats.add("connections")
        self.srv.stats.add("sessions_open")
        try:
            while True:
                ptype, status, payload = self.ps.read_packet()
                msg = P.MessageReader(self.ps, ptype, status, payload)
                self.dispatch(msg)
        except (P.Disconnected, Dropped, ConnectionError, OSError) as e:
            log.info("spid %d: connection ended (%s)", self.spid, type(e).__name__)
        except P.ProtocolError as e:
            log.warning("spid %d: protocol error: %s", self.spid, e)
        except Exception:
            log.exception("spid %d: internal error", self.spid)
        finally:
            self.srv.stats.add("sessions_open", -1)
            self.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self.pg is not None:
            try:
                self.pg.close()
            except Exception:
                pass
            self.pg = None

    def drop(self, why):
        log.info("spid %d: dropping the connection: %s", self.spid, why)
        raise Dropped(why)

    def dispatch(self, msg):
        t = msg.type
        if t == P.PKT_PRELOGIN and not self.logged_in:
            opts = P.parse_prelogin(msg.rest())
            enc = opts.get(1, b"\x02")[:1]
            log.debug("spid %d: prelogin, client encryption %r", self.spid, enc)
            self.ps.send_packet(P.PKT_REPLY, P.build_prelogin_reply(), eom=True)
        elif t == P.PKT_LOGIN7 and not self.logged_in:
            self.login(msg.rest())
        elif not self.logged_in:
            raise P.ProtocolError("packet type %d before login" % t)
        elif t == P.PKT_SQL_BATCH:
            self.batch(msg)
        elif t == P.PKT_BULK_LOAD:
            self.bulk(msg)
        elif t == P.PKT_ATTENTION:
            self.srv.stats.add("attentions")
            self.ps.send_packet(P.PKT_REPLY, P.tok_done(P.DONE_ATTN), eom=True)
        elif t in (P.PKT_RPC, P.PKT_TRANS_MGR):
            msg.rest()
            what = "RPC requests (stored procedures, sp_executesql)" if t == P.PKT_RPC \
                else "transaction manager requests"
            self.reply_error(T.unsupported(what))
        else:
            raise P.ProtocolError("unexpected packet type %d" % t)

    def reply_error(self, err):
        self.w = P.ResponseWriter(self.ps)
        self.pending_done = None
        self.send_error(err.number, err.cls, err.state, err.message, err.line)
        self.flush_done(final=True)
        self.w.finish()

    # -- tokens --------------------------------------------------------------------
    def put(self, data):
        if self.pending_done is not None:
            st, cnt, cmd = self.pending_done
            self.pending_done = None
            self.w.write(P.tok_done(st | P.DONE_MORE, cnt, cmd))
        self.w.write(data)

    def done(self, status=0, count=0, cmd=P.CMD_OTHER, counted=False):
        if counted and not self.nocount:
            status |= P.DONE_COUNT
        if self.trancount:
            status |= P.DONE_INXACT
        self.put(b"")
        self.pending_done = (status, count, cmd)

    def flush_done(self, final=True, extra=0):
        if self.pending_done is None:
            self.pending_done = (0, 0, P.CMD_OTHER)
        st, cnt, cmd = self.pending_done
        self.pending_done = None
        self.w.write(P.tok_done(st | extra, cnt, cmd))

    def send_error(self, number, cls, state, text, line=1):
        self.srv.stats.add("errors")
        log.info("spid %d: error %d: %s", self.spid, number, text)
        self.put(P.tok_message(True, number, state, cls, text, self.cfg.servername, "", line))

    def send_info(self, number, state, text):
        self.put(P.tok_message(False, number, state, 0, text, self.cfg.servername, "", 1))

    # -- login -------------------------------------------------------------------
    def login(self, payload):
        lg = P.parse_login7(payload)
        self.user = lg["username"]
        log.info("spid %d: login user=%r db=%r app=%r tds=0x%08x packet=%d", self.spid,
                 lg["username"], lg["database"], lg["appname"], lg["tds_version"],
                 lg["packet_size"])
        w = self.w = P.ResponseWriter(self.ps)
        self.pending_done = None
        f = self.srv.faults.take("login")
        if f is not None and f.kind == "delay":
            log.info("spid %d: fault: delay login %d ms", self.spid, f.ms)
            time.sleep(f.ms / 1000.0)
        elif f is not None and f.kind == "drop":
            self.drop("fault: drop at login")
        elif f is not None and f.kind == "error":
            self.srv.stats.add("login_failures")
            self.send_error(f.number, f.cls, f.state, f.text(db=self.cfg.database,
                            server=self.cfg.servername, spid=self.spid))
            self.flush_done(extra=P.DONE_ERROR)
            w.finish()
            self.drop("fault: login error %d" % f.number)
        if lg["username"] != self.cfg.user or lg["password"] != self.cfg.password:
            self.srv.stats.add("login_failures")
            self.send_error(18456, 14, 1, "Login failed for user '%s'." % lg["username"])
            self.flush_done(extra=P.DONE_ERROR)
            w.finish()
            self.drop("bad user or password")
        db = lg["database"] or self.cfg.database
        if db.lower() != self.cfg.database.lower():
            self.srv.stats.add("login_failures")
            self.send_error(4060, 11, 1, 'Cannot open database "%s" requested by the login. '
                            "The login failed." % db)
            self.send_error(18456, 14, 1, "Login failed for user '%s'." % lg["username"])
            self.flush_done(extra=P.DONE_ERROR)
            w.finish()
            self.drop("unknown database")
        try:
            self.pg = psycopg2.connect(self.cfg.dsn, application_name="tds spid %d" % self.spid,
                                       options="-c search_path=dbo -c TimeZone=UTC "
                                               "-c DateStyle=ISO,MDY")
            self.pg.autocommit = True
        except psycopg2.Error as e:
            self.srv.stats.add("login_failures")
            self.send_error(40613, 17, 1, "Database '%s' on server '%s' is not currently "
                            "available. (PostgreSQL: %s)" % (db, self.cfg.servername,
                                                             str(e).strip()))
            self.flush_done(extra=P.DONE_ERROR)
            w.finish()
            self.drop("PostgreSQL unavailable")
        size = lg["packet_size"] if 512 <= lg["packet_size"] <= 32767 else 4096
        w.write(P.tok_envchange_str(P.ENV_DATABASE, self.cfg.database, "master"))
        self.send_info(5701, 2, "Changed database context to '%s'." % self.cfg.database)
        w.write(P.tok_envchange_bytes(P.ENV_COLLATION, P.COLLATION_LATIN1_CI_AS, b""))
        w.write(P.tok_envchange_str(P.ENV_LANGUAGE, "us_english", ""))
        self.send_info(5703, 1, "Changed language setting to us_english.")
        w.write(P.tok_loginack())
        w.write(P.tok_envchange_str(P.ENV_PACKETSIZE, str(size), "4096"))
        if lg["feature_ext"] is not None:
            acks = [(fid, b"\x01") for fid, _ in lg["feature_ext"] if fid == 0x0A]
            w.write(P.tok_featureextack(acks))
        self.flush_done()
        w.finish()
        self.ps.packet_size = size
        self.logged_in = True
        self.srv.stats.add("logins")

    # -- attention -----------------------------------------------------------------
    def watch_attention(self):
        """Start a thread that notices an ATTENTION packet while we execute;
        return the function that stops it."""
        stop = threading.Event()
        wake_r, wake_w = os.pipe()

        def run():
            try:
                while not stop.is_set():
                    r, _, _ = select.select([self.sock, wake_r], [], [])
                    if stop.is_set() or self.sock not in r:
                        return
                    hdr = self.sock.recv(8, socket.MSG_PEEK)
                    if len(hdr) == 0:
                        self.attn.set()  # peer gone: stop working
                        self._cancel_pg()
                        return
                    if hdr[0] != P.PKT_ATTENTION:
                        return
                    if len(hdr) < 8:
                        time.sleep(0.005)
                        continue
                    self.sock.recv(8)
                    log.info("spid %d: attention", self.spid)
                    self.srv.stats.add("attentions")
                    self.attn.set()
                    self._cancel_pg()
                    return
            except (OSError, ValueError):
                return

        th = threading.Thread(target=run, daemon=True)
        th.start()

        def stopper():
            if stop.is_set():
                return
            stop.set()
            os.write(wake_w, b"x")
            th.join()
            os.close(wake_r)
            os.close(wake_w)
        return stopper

    def _cancel_pg(self):
        try:
            if self.pg is not None:
                self.pg.cancel()
        except Exception:
            pass

    def check_attn(self):
        if self.attn.is_set():
            raise BatchAbort("attention")

    # -- SQL batch -----------------------------------------------------------------
    def batch(self, msg):
        data = msg.rest()
        if len(data) >= 4:
            total = int.from_bytes(data[:4], "little")
            if 4 <= total <= len(data):  # ALL_HEADERS (TDS 7.2+)
                data = data[total:]
        try:
            text = data.decode("utf-16-le")
        except UnicodeDecodeError:
            raise P.ProtocolError("SQL batch is not UTF-16LE")
        self.srv.stats.add("batches")
        log.info("spid %d: batch: %s", self.spid, text.strip()[:2000].replace("\n", " "))
        self.w = P.ResponseWriter(self.ps)
        self.pending_done = None
        self.attn.clear()
        stop = self.watch_attention()
        drop_after = None
        try:
            f = self.srv.faults.take("batch", text)
            if f is not None:
                log.info("spid %d: fault fires: %s", self.spid, f.as_dict())
            if f is not None and f.kind == "delay":
                self.attn.wait(f.ms / 1000.0)
                f = None
            if f is not None and f.kind == "drop" and f.when == "before":
                stop()
                self.drop("fault: drop before executing")
            if f is not None and f.kind == "drop":
                drop_after = f
            if f is not None and f.kind == "error":
                if self.trancount:
                    self.rollback_all()
                self.send_error(f.number, f.cls, f.state, f.text(
                    db=self.cfg.database, server=self.cfg.servername, spid=self.spid))
                self.done(P.DONE_ERROR)
                if f.close:
                    stop()
                    self.flush_done(extra=P.DONE_ERROR)
                    self.w.finish()
                    self.drop("fault: error %d, then close" % f.number)
            elif not self.attn.is_set():
                self.run_batch(text)
        finally:
            stop()
        if drop_after is not None:
            self.drop("fault: batch executed, reply dropped")
        if self.attn.is_set():
            # the client gave up: discard what was not sent, acknowledge
            self.w.discard()
            self.pending_done = None
            self.w.write(P.tok_done(P.DONE_ATTN))
            self.attn.clear()
        else:
            self.flush_done(final=True)
        self.w.finish()

    def run_batch(self, text):
        try:
            stmts = T.translate_batch(text, self.ctx)
        except T.TsqlError as e:
            self.send_error(e.number, e.cls, e.state, e.message, e.line)
            self.done(P.DONE_ERROR)
            return
        try:
            for st in stmts:
                self.check_attn()
                self.statement(st)
        except BatchAbort:
            pass

    def statement(self, st):
        self.srv.stats.add("statements")
        k = st.kind
        if k == "set":
            return self.set_option(st)
        if k == "isolation":
            return self.sql_stmt(T.Stmt("sql", st.line, cmd="ddl", returns_rows=False,
                                        sql="SET SESSION CHARACTERISTICS AS TRANSACTION "
                                            "ISOLATION LEVEL " + st.level), quiet=True)
        if k == "begin":
            if self.trancount == 0:
                self.pg.cursor().execute("BEGIN")
                self.tran_id += 1
                self.put(P.tok_envchange_bytes(P.ENV_BEGIN_TRAN, self.tran_desc(), b""))
            self.trancount += 1
            return self.done()
        if k == "commit":
            if self.trancount == 0:
                self.send_error(3902, 16, 1, "The COMMIT TRANSACTION request has no "
                                "corresponding BEGIN TRANSACTION.", st.line)
                return self.done(P.DONE_ERROR)
            if self.trancount == 1:
                try:
                    self.pg.cursor().execute("COMMIT")
                except psycopg2.Error as e:
                    self.trancount = 0
                    self.put(P.tok_envchange_bytes(P.ENV_ROLLBACK_TRAN, b"", self.tran_desc()))
                    return self.pg_error(e, st)
                self.put(P.tok_envchange_bytes(P.ENV_COMMIT_TRAN, b"", self.tran_desc()))
            self.trancount -= 1
            return self.done()
        if k == "rollback":
            if self.trancount == 0:
                self.send_error(3903, 16, 1, "The ROLLBACK TRANSACTION request has no "
                                "corresponding BEGIN TRANSACTION.", st.line)
                return self.done(P.DONE_ERROR)
            self.rollback_all()
            return self.done()
        if k == "use":
            if st.database.lower() != self.cfg.database.lower():
                self.send_error(40508, 16, 1, "USE statement is not supported to switch between "
                                "databases. Use a new connection to connect to a different "
                                "database.", st.line)
                return self.done(P.DONE_ERROR)
            self.put(P.tok_envchange_str(P.ENV_DATABASE, self.cfg.database, self.cfg.database))
            self.send_info(5701, 1, "Changed database context to '%s'." % self.cfg.database)
            return self.done()
        if k == "if":
            cond = st.cond.replace(T.TRANCOUNT, str(self.trancount))
            row = self.run_pg(st, "SELECT CASE WHEN (%s) THEN true ELSE false END" % cond,
                              fetch_one=True)
            if row is None:
                return
            branch = st.then if row[0] else st.other
            if branch is not None:
                self.statement(branch)
            return
        if k == "bulk":
            exists = self.run_pg(st, "SELECT tds_catalog.object_id(%s, %s, '')" % (
                T.ql(st.schema), T.ql(st.table)), fetch_one=True)
            if exists is None:
                return
            if exists[0] is None:
                self.send_error(4701, 16, 1, "Cannot find the object \"%s.%s\" because it does "
                                "not exist or you do not have permissions." % (st.schema, st.table),
                                st.line)
                return self.done(P.DONE_ERROR)
            self.pending_bulk = st
            return self.done()
        if k == "sql":
            return self.sql_stmt(st)
        raise AssertionError(k)

    def tran_desc(self):
        return self.tran_id.to_bytes(8, "little")

    def rollback_all(self):
        try:
            self.pg.cursor().execute("ROLLBACK")
        except psycopg2.Error:
            pass
        self.trancount = 0
        self.put(P.tok_envchange_bytes(P.ENV_ROLLBACK_TRAN, b"", self.tran_desc()))

    def set_option(self, st):
        v = st.value
        for name in st.names:
            if name == "NOCOUNT":
                self.nocount = v == "ON"
            elif name == "XACT_ABORT":
                self.xact_abort = v == "ON"
            elif name == "FMTONLY":
                self.fmtonly = v == "ON"
            elif name == "TEXTSIZE":
                n = int(v) if v.lstrip("-").isdigit() else -1
                self.textsize = 4096 if n == 0 else None if n < 0 or n >= 2147483647 else n
            elif name in IGNORED_SET:
                pass
            elif name in OFF_ONLY_SET:
                if v != "OFF":
                    return self.tsql_error(T.unsupported("SET %s ON" % name, st.line))
            elif name == "ROWCOUNT":
                if v != "0":
                    return self.tsql_error(T.unsupported("SET ROWCOUNT other than 0", st.line))
            elif name == "LANGUAGE":
                if v.strip("'").lower() not in ("us_english", "english"):
                    return self.tsql_error(T.unsupported("SET LANGUAGE %s" % v, st.line))
            elif name == "DATEFORMAT":
                if v.lower() not in ("mdy", "ymd"):
                    return self.tsql_error(T.unsupported("SET DATEFORMAT %s" % v, st.line))
            elif name == "LOCK_TIMEOUT":
                ms = int(v) if v.lstrip("-").isdigit() else -1
                self.sql_stmt(T.Stmt("sql", st.line, cmd="ddl", returns_rows=False,
                                     sql="SET lock_timeout = %d" % max(ms, 0)), quiet=True)
            else:
                self.send_error(195, 15, 10, "'%s' is not a recognized SET option." % name,
                                st.line)
                self.done(P.DONE_ERROR)
                return

    def tsql_error(self, e):
        self.send_error(e.number, e.cls, e.state, e.message, e.line)
        self.done(P.DONE_ERROR)

    # -- executing on PostgreSQL ----------------------------------------------------
    def run_pg(self, st, sql, fetch_one=False):
        """Execute one statement with SQL Server error semantics.  Returns the
        cursor (or the first row with fetch_one); None after an error that
        was reported (the batch goes on) -- or raises BatchAbort."""
        use_sp = self.trancount > 0 and not self.xact_abort
        cur = self.pg.cursor()
        try:
            if use_sp:
                cur.execute("SAVEPOINT tds_stmt")
            cur.execute(sql)
            row = cur.fetchone() if fetch_one else None
            if use_sp:
                self.pg.cursor().execute("RELEASE SAVEPOINT tds_stmt")
            return row if fetch_one else cur
        except psycopg2.extensions.QueryCanceledError:
            if self.attn.is_set():
                self.after_cancel(use_sp)
                raise BatchAbort("attention")
            self.pg_error(sys.exc_info()[1], st, use_sp)
            return None
        except psycopg2.Error as e:
            self.pg_error(e, st, use_sp)
            return None

    def after_cancel(self, use_sp):
        if self.trancount:
            if use_sp:
                self.pg.cursor().execute("ROLLBACK TO SAVEPOINT tds_stmt")
            else:
                self.rollback_all()

    def pg_error(self, e, st, use_sp=False):
        number, cls, state, text = catalog.map_pg_error(e, self.spid, getattr(st, "cmd", ""))
        log.debug("spid %d: PostgreSQL error %s: %s", self.spid, getattr(e, "pgcode", ""), e)
        self.send_error(number, cls, state, text, st.line)
        fatal = number == 1205 or self.xact_abort
        if self.trancount:
            if fatal or not use_sp:
                self.rollback_all()
            else:
                try:
                    self.pg.cursor().execute("ROLLBACK TO SAVEPOINT tds_stmt")
                except psycopg2.Error:
                    self.rollback_all()
        self.done(P.DONE_ERROR)
        if fatal:
            raise BatchAbort("error %d" % number)

    def sql_stmt(self, st, quiet=False):
        sql = st.sql.replace(T.TRANCOUNT, str(self.trancount))
        if self.fmtonly:
            if not st.returns_rows:
                return self.done()
            sql = "SELECT * FROM (%s) AS fmtonly LIMIT 0" % sql
        cur = self.run_pg(st, sql)
        if cur is None:
            return
        cmd = {"select": P.CMD_SELECT, "insert": P.CMD_INSERT, "update": P.CMD_UPDATE,
               "delete": P.CMD_DELETE}.get(st.cmd, P.CMD_OTHER)
        if cur.description is None:
            if quiet:
                return
            return self.done(0, max(cur.rowcount, 0), cmd, counted=st.cmd != "ddl")
        rows = cur.fetchall()
        cols = self.result_columns(cur.description, rows)
        self.put(P.tok_colmetadata(cols))
        n = 0
        for row in rows:
            if n % 256 == 0:
                self.check_attn()
            vals = [conv(c, v) for c, v in zip(cols, row)]
            if self.textsize is not None:
                vals = [truncate(c, v, self.textsize) for c, v in zip(cols, vals)]
            self.w.write(P.tok_row(cols, vals))
            n += 1
        self.done(0, n, cmd, counted=True)

    def result_columns(self, desc, rows):
        want = [(d.table_oid, d.table_column) for d in desc
                if d.table_oid and (d.table_oid, d.table_column) not in self.typecache]
        if want:
            cur = self.pg.cursor()
            cur.execute("SELECT r, a, tds_catalog.type_of(r, a) FROM unnest(%s::oid[], %s::int[]) "
                        "AS x(r, a)", ([w[0] for w in want], [w[1] for w in want]))
            for r, a, tt in cur.fetchall():
                self.typecache[(r, a)] = tt
        cols = []
        for i, d in enumerate(desc):
            tt = self.typecache.get((d.table_oid, d.table_column)) if d.table_oid else None
            if tt is None:
                tt = catalog.OID_TYPES.get(d.type_code, "nvarchar(max)")
                if d.type_code == 1043 and d.internal_size and 0 < d.internal_size <= 4000:
                    tt = "nvarchar(%d)" % d.internal_size
                if d.type_code == 1700:
                    if d.precision and d.precision <= 38 and d.scale is not None:
                        tt = "decimal(%d,%d)" % (d.precision, d.scale)
                    else:
                        tt = numeric_type_for([r[i] for r in rows])
            name = "" if d.name == "?column?" else d.name
            cols.append(column_for(name, tt))
        return cols

    # -- bulk load -------------------------------------------------------------------
    def bulk(self, msg):
        self.w = P.ResponseWriter(self.ps)
        self.pending_done = None
        target = self.pending_bulk
        self.pending_bulk = None
        self.srv.stats.add("bulk_loads")
        f = self.srv.faults.take("bulk", kinds=("delay",))
        if f is not None:
            time.sleep(f.ms / 1000.0)
        drop = self.srv.faults.peek_bulk_drop()
        if target is None:
            msg.rest()
            self.send_error(4804, 16, 1, "While reading current row from host, a premature "
                            "end-of-message was encountered--an incoming data stream was "
                            "interrupted when the server expected to see more data. (TDS test "
                            "server: BULK_LOAD without a preceding INSERT BULK)")
            self.flush_done(extra=P.DONE_ERROR)
            return self.w.finish()
        tok = msg.u8()
        if tok != P.TOK_COLMETADATA:
            raise P.ProtocolError("bulk load starts with token 0x%02X" % tok)
        cols = P.read_bulk_colmetadata(msg)
        names = [c.name.lower() for c in cols]
        if drop is not None and drop.after_rows == 0:
            self.srv.faults.fire(drop)
            self.drop("fault: drop at the start of a bulk load")
        table = T.qi(target.schema) + "." + T.qi(target.table)
        copy_sql = "COPY %s (%s) FROM STDIN" % (table, ", ".join(T.qi(n) for n in names))
        own_tx = self.trancount == 0
        cur = self.pg.cursor()
        error = None
        n = 0
        buf = io.StringIO()
        try:
            cur.execute("BEGIN" if own_tx else "SAVEPOINT tds_bulk")
        except psycopg2.Error as e:
            error = e
        try:
            while not msg.at_end():
                tok = msg.u8()
                if tok == P.TOK_DONE:
                    msg.read(12)
                    continue
                if tok != P.TOK_ROW:
                    raise P.ProtocolError("unexpected token 0x%02X in bulk load" % tok)
                vals = [P.read_bulk_value(msg, c) for c in cols]
                n += 1
                if drop is not None and n >= drop.after_rows:
                    self.srv.faults.fire(drop)
                    try:
                        cur.execute("ROLLBACK" if own_tx else "ROLLBACK TO SAVEPOINT tds_bulk")
                    except psycopg2.Error:
                        pass
                    self.drop("fault: drop after %d bulk rows" % n)
                if error is None:
                    buf.write("\t".join(copy_text(v) for v in vals))
                    buf.write("\n")
                    if n % 5000 == 0:
                        error = self.copy_flush(cur, copy_sql, buf)
                        buf = io.StringIO()
            if error is None:
                error = self.copy_flush(cur, copy_sql, buf)
        except (UnicodeDecodeError, ValueError) as e:
            msg.rest()
            error = e
        if error is None:
            try:
                cur.execute("COMMIT" if own_tx else "RELEASE SAVEPOINT tds_bulk")
            except psycopg2.Error as e:
                error = e
        if error is not None:
            try:
                self.pg.cursor().execute("ROLLBACK" if own_tx else "ROLLBACK TO SAVEPOINT tds_bulk")
            except psycopg2.Error:
                pass
            if isinstance(error, psycopg2.Error):
                number, cls, state, text = catalog.map_pg_error(error, self.spid, "insert")
            else:
                number, cls, state, text = 4864, 16, 1, "Bulk load data conversion error: %s" % error
            self.send_error(number, cls, state, text)
            if self.xact_abort and self.trancount:
                self.rollback_all()
            self.flush_done(extra=P.DONE_ERROR)
            log.info("spid %d: bulk load into %s failed after %d rows", self.spid, table, n)
        else:
            self.srv.stats.add("bulk_rows", n)
            log.info("spid %d: bulk load: %d rows into %s", self.spid, n, table)
            # the row count is sent even under SET NOCOUNT ON: bcp_done() reports it
            self.done(P.DONE_COUNT, n, P.CMD_INSERT)
            self.flush_done()
        self.w.finish()

    def copy_flush(self, cur, sql, buf):
        buf.seek(0)
        try:
            cur.copy_expert(sql, buf)
        except psycopg2.Error as e:
            return e
        return None


# --- value conversion -------------------------------------------------------------
def column_for(name, tt):
    base, a1, a2 = catalog.parse_tsql_type(tt)
    if base in ("nvarchar", "nchar", "ntext", "xml", "text", "sysname"):
        size = None if base in ("ntext", "xml", "text") or a1 in (None, "max") else int(a1)
        return P.Column(name, "nvarchar", size=size)
    if base in ("varchar", "char"):
        return P.Column(name, "varchar", size=None if a1 in (None, "max") else int(a1))
    if base in ("varbinary", "binary", "image"):
        return P.Column(name, "varbinary", size=None if a1 in (None, "max") else int(a1))
    if base in ("tinyint", "smallint", "int", "bigint"):
        return P.Column(name, "int", size={"tinyint": 1, "smallint": 2, "int": 4, "bigint": 8}[base])
    if base == "bit":
        return P.Column(name, "bit")
    if base in ("float", "real"):
        return P.Column(name, "float", size=4 if base == "real" else 8)
    if base in ("decimal", "numeric", "money", "smallmoney"):
        p, s = {"money": (19, 4), "smallmoney": (10, 4)}.get(base, (int(a1 or 18), int(a2 or 0)))
        c = P.Column(name, "decimal", precision=p, scale=s)
        c.numeric = base == "numeric"
        return c
    if base in ("datetime2", "datetimeoffset"):
        return P.Column(name, base, scale=int(a1) if a1 else 7)
    if base in ("datetime", "smalldatetime"):
        return P.Column(name, "datetime")
    if base == "date":
        return P.Column(name, "date")
    if base == "uniqueidentifier":
        return P.Column(name, "guid")
    return P.Column(name, "nvarchar")


def numeric_type_for(values):
    """decimal(p,s) wide enough for the values of an unconstrained numeric."""
    scale, intdigits = 0, 1
    for v in values:
        if v is None or not isinstance(v, decimal.Decimal) or not v.is_finite():
            continue
        t = v.as_tuple()
        s = max(0, -t.exponent)
        scale = max(scale, s)
        intdigits = max(intdigits, len(t.digits) + t.exponent)
    scale = min(scale, max(0, 38 - intdigits))
    return "decimal(%d,%d)" % (min(38, intdigits + scale), scale)


def conv(col, v):
    """psycopg2 value -> what protocol.Column.encode expects."""
    if v is None:
        return None
    k = col.kind
    if k in ("nvarchar", "varchar"):
        if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
            return v.isoformat(sep=" ") if isinstance(v, datetime.datetime) else v.isoformat()
        if isinstance(v, bool):
            return "1" if v else "0"
        return str(v)
    if k == "varbinary":
        return bytes(v)
    if k == "datetime2" and isinstance(v, datetime.datetime) and v.tzinfo is not None:
        return v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if k == "date" and isinstance(v, datetime.datetime):
        return v.date()
    if k == "guid" and not isinstance(v, uuid.UUID):
        return uuid.UUID(str(v))
    return v


def truncate(col, v, textsize):
    """SET TEXTSIZE: a (max) value is cut to that many bytes, as on SQL Server."""
    if v is None or col.size is not None or col.kind not in ("nvarchar", "varchar", "varbinary"):
        return v
    if col.kind == "nvarchar":
        return v[:textsize // 2] if len(v) * 2 > textsize else v
    return v[:textsize]


def copy_text(v):
    """A value in COPY text format."""
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    if isinstance(v, bytes):
        return "\\\\x" + v.hex()
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    if "\x00" in s:
        raise ValueError("NUL character in a string value (PostgreSQL text cannot hold it)")
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


# --- control interface ---------------------------------------------------------------
def control_handler(server):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            log.debug("control: " + fmt, *args)

        def reply(self, code, obj):
            body = (json.dumps(obj, indent=1) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/health":
                return self.reply(200, "ok")
            if self.path == "/stats":
                return self.reply(200, server.stats.snapshot())
            if self.path == "/faults":
                return self.reply(200, server.faults.list())
            self.reply(404, {"error": "no such path"})

        def do_POST(self):
            if self.path == "/reset":
                server.faults.clear()
                server.stats.reset()
                return self.reply(200, {"reset": True})
            if self.path != "/faults":
                return self.reply(404, {"error": "no such path"})
            n = int(self.headers.get("Content-Length") or 0)
            try:
                spec = json.loads(self.rfile.read(n) or b"null")
                ids = server.faults.add(spec)
            except (ValueError, faultmod.FaultError) as e:
                return self.reply(400, {"error": str(e)})
            log.info("control: armed %s", spec)
            self.reply(200, {"ids": ids})

        def do_DELETE(self):
            if self.path != "/faults":
                return self.reply(404, {"error": "no such path"})
            server.faults.clear()
            self.reply(200, {"cleared": True})
    return H


class Server:
    def __init__(self, cfg):
        self.cfg = cfg
        self.stats = Stats()
        self.faults = faultmod.Faults(self.stats)
        self.stopping = threading.Event()

    def setup_database(self):
        conn = psycopg2.connect(self.cfg.dsn, application_name="tds setup")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(catalog.SETUP_SQL)
        conn.close()

    def serve(self):
        self.setup_database()
        if self.cfg.faults_file:
            with open(self.cfg.faults_file) as fh:
                self.faults.add(json.load(fh))
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.cfg.host, self.cfg.port))
        ls.listen(64)
        ctl = http.server.ThreadingHTTPServer((self.cfg.host, self.cfg.control_port),
                                              control_handler(self))
        ctl.daemon_threads = True
        threading.Thread(target=ctl.serve_forever, daemon=True).start()
        log.info("listening on %s:%d (TDS), %s:%d (control), database %s via %s",
                 self.cfg.host, self.cfg.port, self.cfg.host, self.cfg.control_port,
                 self.cfg.database, self.cfg.dsn)
        ls.settimeout(0.5)
        while not self.stopping.is_set():
            try:
                sock, addr = ls.accept()
            except socket.timeout:
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s = Session(self, sock, addr)
            threading.Thread(target=s.run, daemon=True, name="spid-%d" % s.spid).start()
        ls.close()
        ctl.shutdown()
        log.info("stopped")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--control-port", type=int, required=True)
    ap.add_argument("--dsn", default=os.environ.get("TELEM_TDS_PG_DSN"),
                    help="libpq connection string of the database to execute in")
    ap.add_argument("--user", default=os.environ.get("TELEM_TDS_USER", "telem_loader"))
    ap.add_argument("--password", default=os.environ.get("TELEM_TDS_PASSWORD", "Telem-Test-Pw1"))
    ap.add_argument("--database", default=os.environ.get("TELEM_TDS_DATABASE", "azuresql"))
    ap.add_argument("--servername", default="telem-tds-test")
    ap.add_argument("--faults", dest="faults_file", help="JSON file of faults armed at start")
    ap.add_argument("--label", help="ignored; lets tds.sh recognise its process")
    ap.add_argument("-v", "--verbose", action="store_true")
    cfg = ap.parse_args(argv)
    if not cfg.dsn:
        ap.error("--dsn (or TELEM_TDS_PG_DSN) is required")
    if cfg.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("the test server listens on loopback only")
    logging.basicConfig(level=logging.DEBUG if cfg.verbose else logging.INFO,
                        format="%(asctime)s %(threadName)s %(levelname)s %(message)s")
    srv = Server(cfg)
    signal.signal(signal.SIGTERM, lambda *_: srv.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: srv.stopping.set())
    srv.serve()


if __name__ == "__main__":
    main()
