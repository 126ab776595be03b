#!/usr/bin/env bash
# test/t/tds_push.sh STATE_DIR -- the loader's TDS client (telem.tds_exec,
# telem.tds_query, telem.tds_bulk_copy; src/loader/tds_push.c and
# tds_client.c) against the TDS test server and its fault injection.
#
# Covers: DDL and DML through tds_exec (row counts); tds_query with NULLs,
# non-ASCII text and typed values; a 20,000-row bulk copy (text, int8,
# float8, bool and 0/1 into bit, timestamptz raw and as UTC text into
# datetimeoffset/datetime2, numeric, jsonb, date; NULLs and empty strings;
# 'Zürich', 'São Paulo', '東京', an emoji) read back exactly through
# tds_query and through a tds_fdw foreign table; the SQLSTATEs of remote
# errors (1205 on a batch, 40613 at login, 102, 2627) and of client
# failures; retries (a one-shot 40613 at login for every function, 1205 and
# 40613 on a batch with retry => true); a connection dropped after COMMIT
# (08007, run once, not retried); a bulk copy dropped mid-load; a cancel
# (ATTENTION, the batch does not run); the password in no message or log
# line; a server of another wrapper refused; USAGE on the server required,
# PUBLIC's user mapping used; TLS demanded for a non-loopback host name; no
# session left open after errors, also inside PL/pgSQL exception blocks.
source "$(dirname "$0")/../lib/common.sh"

DB=tds_push
CTL=http://127.0.0.1:$TELEM_TDS_CONTROL_PORT
ROLE=regress_tds_user
BAD_PW='Wrong-Secret-Pw-7Q'

ctl() { curl -s --noproxy '*' -X "$1" ${3:+-d "$3"} "$CTL$2"; }
arm() { ctl POST /faults "$1" | grep -q '"ids"' || fail "arming fault $1"; }
stat() { ctl GET /stats | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# q SQL: one value (or rows), errors fail the test through set -e
q() { PGOPTIONS="-c client_min_messages=warning ${PGOPT:-}" psql -X -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
# qerr SQL: the statement must fail; prints psql's verbose error text
qerr() {
	local out
	if out=$(PGOPTIONS="-c client_min_messages=warning ${PGOPT:-}" psql -X -At -v ON_ERROR_STOP=1 \
		-v VERBOSITY=verbose -d "$DB" -c "$1" 2>&1); then
		echo "UNEXPECTED SUCCESS: $out"
	else
		echo "$out"
	fi
}
state_of() { sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\): .*/\1/p' <<<"$1" | head -n 1; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

ctl POST /reset >/dev/null

# --- setup: a database of our own, servers, mappings ----------------------------
psql_q -q -d postgres <<SQL
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $DB WITH (FORCE);
DROP ROLE IF EXISTS $ROLE;
CREATE ROLE $ROLE LOGIN;
CREATE DATABASE $DB;
SQL
psql_q -q -d "$DB" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION telem_fdw;
CREATE EXTENSION tds_fdw;
CREATE SERVER tds_srv FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername '127.0.0.1', port '$TELEM_TDS_PORT', database '$TELEM_TDS_DATABASE', tds_version '7.4');
CREATE USER MAPPING FOR CURRENT_USER SERVER tds_srv
  OPTIONS (username '$TELEM_TDS_USER', password '$TELEM_TDS_PASSWORD');
CREATE USER MAPPING FOR PUBLIC SERVER tds_srv
  OPTIONS (username '$TELEM_TDS_USER', password '$TELEM_TDS_PASSWORD');
CREATE SERVER tds_badpw FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername '127.0.0.1', port '$TELEM_TDS_PORT', database '$TELEM_TDS_DATABASE');
CREATE USER MAPPING FOR CURRENT_USER SERVER tds_badpw
  OPTIONS (username '$TELEM_TDS_USER', password '$BAD_PW');
CREATE SERVER tds_byname FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername '$(hostname)', port '$TELEM_TDS_PORT', database '$TELEM_TDS_DATABASE');
CREATE USER MAPPING FOR CURRENT_USER SERVER tds_byname
  OPTIONS (username '$TELEM_TDS_USER', password '$TELEM_TDS_PASSWORD');
CREATE SERVER lake FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
GRANT USAGE ON SCHEMA telem TO $ROLE;
GRANT EXECUTE ON FUNCTION telem.tds_exec(name, text, boolean) TO $ROLE;
SQL
out=$(psql -X -At -d "$DB" -c "SELECT option_name FROM pg_options_to_table(
  (SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'tds_srv'))" | tr '\n' ' ')
check_eq "$out" "servername port database tds_version " "tds_fdw server created with tds_fdw's own options"
out=$(qerr "ALTER SERVER tds_srv OPTIONS (ADD encrypt 'require')")
grep -q "invalid option\|Invalid option" <<<"$out" && pass "tds_fdw refuses options it does not know (no loader option possible)" \
	|| fail "tds_fdw accepted an unknown option: $out"

# --- tds_exec: DDL and DML --------------------------------------------------------
check_eq "$(q "SELECT telem.tds_exec('tds_srv', 'IF OBJECT_ID(N''[dbo].[tp_kv]'', N''U'') IS NOT NULL DROP TABLE [dbo].[tp_kv];
  CREATE TABLE [dbo].[tp_kv] ([k] int NOT NULL PRIMARY KEY, [v] int NOT NULL, [s] nvarchar(50) NULL)')")" \
	"-1" "tds_exec: DDL reports no row count"
check_eq "$(q "SELECT telem.tds_exec('tds_srv', 'INSERT INTO [dbo].[tp_kv] ([k], [v], [s]) VALUES (1, 0, N''a''), (2, 0, NULL), (3, 0, N''東京'')')")" \
	"-1" "tds_exec: DML under the session's SET NOCOUNT ON reports -1"
check_eq "$(q "SELECT telem.tds_exec('tds_srv', 'SET NOCOUNT OFF; UPDATE [dbo].[tp_kv] SET [v] = 1 WHERE [k] < 3; DELETE FROM [dbo].[tp_kv] WHERE [k] = 3;
  INSERT INTO [dbo].[tp_kv] ([k], [v], [s]) VALUES (3, 0, N''Zürich''), (4, 0, N''São Paulo'')')")" \
	"5" "tds_exec: SET NOCOUNT OFF, then the sum of the statements' counts (2 + 1 + 2)"

# --- tds_query --------------------------------------------------------------------
check_eq "$(q "SELECT string_agg(array_to_string(r, ',', '<NULL>'), ';' ORDER BY r[1]::int)
  FROM telem.tds_query('tds_srv', 'SELECT [k], [v], [s] FROM [dbo].[tp_kv]') r")" \
	"1,1,a;2,1,<NULL>;3,0,Zürich;4,0,São Paulo" "tds_query: rows as text[], NULL elements, non-ASCII"
check_eq "$(q "SELECT r[2] IS NULL, cardinality(r), r FROM telem.tds_query('tds_srv',
  'SELECT N''東京'' AS a, NULL AS b, CAST(12.5 AS decimal(9,3)) AS c, CAST(1 AS bit) AS d,
          CAST(''2024-02-29 23:59:58.1234567'' AS datetime2) AS e, CAST(-7 AS bigint) AS f') r")" \
	"t|6|{東京,NULL,12.500,1,\"2024-02-29 23:59:58.123457\",-7}" \
	"tds_query: NULL, decimal, bit, datetime2 (ISO text), bigint"
check_eq "$(q "SELECT count(*) FROM telem.tds_query('tds_srv', 'SELECT [k] FROM [dbo].[tp_kv] WHERE [k] > 100')")" \
	"0" "tds_query: no rows"

# --- bulk copy: 20,000 rows --------------------------------------------------------
q "SELECT telem.tds_exec('tds_srv', 'IF OBJECT_ID(N''[dbo].[tp_stage]'', N''U'') IS NOT NULL DROP TABLE [dbo].[tp_stage];
  CREATE TABLE [dbo].[tp_stage] ([name] nvarchar(200) NULL, [id] bigint NOT NULL, [reading] float NULL,
    [ok] bit NULL, [flag] bit NULL, [ts] datetimeoffset NULL, [ts_raw] datetimeoffset NULL,
    [ts2] datetime2 NULL, [amount] decimal(18,4) NULL, [doc] nvarchar(max) NULL, [d] date NULL,
    PRIMARY KEY ([id]))')" >/dev/null
# the source: what the lead's loader sends (timestamptz as UTC text, bool as
# 0/1) next to raw timestamptz/bool columns, which tds_bulk_copy formats itself
q "CREATE VIEW tp_src AS
SELECT CASE WHEN i % 11 = 0 THEN NULL WHEN i % 13 = 0 THEN ''
            ELSE (ARRAY['Zürich', 'São Paulo', '東京', 'car 🚗'])[1 + i % 4] || ' #' || i END AS name,
       i::int8 * 1000000007 AS id,
       CASE WHEN i % 7 = 0 THEN NULL ELSE i * 0.25 - 3.0 END::float8 AS reading,
       (i % 2 = 1) AS ok,
       (i % 3 = 0)::int AS flag,
       to_char((timestamptz '2024-01-02 03:04:05.123456+00' + i * interval '1 second 1 microsecond')
               AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS ts,
       timestamptz '2024-01-02 03:04:05.123456+00' + i * interval '1 second 1 microsecond' AS ts_raw,
       timestamptz '2024-01-02 03:04:05.123456+00' + i * interval '1 minute' AS ts2,
       (i / 7.0)::numeric(18,4) AS amount,
       CASE WHEN i % 5 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'city', 'Zürich') END AS doc,
       date '2024-01-02' + i AS d
  FROM generate_series(1, 20000) i" >/dev/null
t0=$(now_ms)
# a session TimeZone far from UTC: the instants must not move
out=$(PGOPT="-c timezone=Asia/Kolkata" q "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_stage]', 'SELECT * FROM tp_src', 7000)")
check_eq "$out" "20000" "bulk copy: 20,000 rows in batches of 7,000 ($(($(now_ms) - t0)) ms)"
check_eq "$(stat "['bulk_loads']")" "3" "bulk copy: one bulk load per batch (7000 + 7000 + 6000)"

# the same fingerprint three ways: the local source, tds_query, tds_fdw
fp_cols="coalesce(name, '<null>'), id, coalesce(reading::text, '<null>'), ok::int, flag,
  to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), to_char(ts_raw AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),
  to_char(ts2, 'YYYY-MM-DD HH24:MI:SS.US'), amount, coalesce(doc, '<null>'), d"
want=$(q "SELECT md5(string_agg(concat_ws('|', $fp_cols), E'\n' ORDER BY id)) FROM (
  SELECT name, id, reading, ok, flag, ts::timestamp AT TIME ZONE 'UTC' AS ts, ts_raw,
         (ts2 AT TIME ZONE 'UTC') AS ts2, amount, doc::text AS doc, d FROM tp_src) s")
got=$(q "SELECT md5(string_agg(concat_ws('|', $fp_cols), E'\n' ORDER BY id)) FROM (
  SELECT r[1] AS name, r[2]::int8 AS id, r[3]::float8 AS reading, r[4]::int AS ok, r[5]::int AS flag,
         r[6]::timestamptz AS ts, r[7]::timestamptz AS ts_raw, r[8]::timestamp AS ts2,
         r[9]::numeric(18,4) AS amount, r[10] AS doc, r[11]::date AS d
    FROM telem.tds_query('tds_srv', 'SELECT [name], [id], [reading], [ok], [flag], [ts], [ts_raw], [ts2],
                                            [amount], [doc], [d] FROM [dbo].[tp_stage]') r) s")
check_eq "$got" "$want" "bulk copy read back through tds_query: every value of every row"
q "CREATE FOREIGN TABLE tp_stage_f (name text, id bigint, reading float8, ok smallint, flag smallint,
    ts timestamptz, ts_raw timestamptz, ts2 timestamp, amount numeric(18,4), doc text, d date)
  SERVER tds_srv OPTIONS (table_name 'dbo.tp_stage')" >/dev/null
got=$(PGOPT="-c timezone=America/New_York" q "SELECT md5(string_agg(concat_ws('|', $fp_cols), E'\n' ORDER BY id)) FROM tp_stage_f")
check_eq "$got" "$want" "bulk copy read back through a tds_fdw foreign table (TimeZone New York)"
check_eq "$(q "SELECT count(*) FILTER (WHERE name IS NULL) || ' ' || count(*) FILTER (WHERE name = '') || ' '
  || count(*) FILTER (WHERE doc IS NULL) || ' ' || count(*) FILTER (WHERE reading IS NULL) FROM tp_stage_f")" \
	"$(q "SELECT count(*) FILTER (WHERE name IS NULL) || ' ' || count(*) FILTER (WHERE name = '') || ' '
  || count(*) FILTER (WHERE doc IS NULL) || ' ' || count(*) FILTER (WHERE reading IS NULL) FROM tp_src")" \
	"bulk copy: NULLs stay NULL and empty strings stay empty (not NULL)"
want=$(printf 'Zürich #4|São Paulo #1|東京 #2|car 🚗 #3' | od -An -tx1 | tr -d ' \n')
got=$(q "SELECT encode(convert_to(string_agg(name, '|' ORDER BY array_position(ARRAY[4,1,2,3]::int8[], id / 1000000007)), 'UTF8'), 'hex')
  FROM tp_stage_f WHERE id IN (1000000007, 2000000014, 3000000021, 4000000028)")
check_eq "$got" "$want" "non-ASCII byte-exact through nvarchar: Zürich, São Paulo, 東京, an emoji (surrogate pair)"
check_eq "$(q "SELECT ts_raw = timestamptz '2024-01-02 03:04:06.123457+00' AND ts = ts_raw
  AND ts2 = timestamp '2024-01-02 03:05:05.123456' FROM tp_stage_f WHERE id = 1000000007")" \
	"t" "timestamps: UTC text and raw timestamptz give the same instant; timestamptz into datetime2 is UTC"
check_eq "$(q "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_stage]', 'SELECT 1::int8 AS id WHERE false')")" \
	"0" "bulk copy of no rows: 0"

# a query that itself scans through tds_fdw (which installs its own
# DB-Library handlers, and calls dbinit/dbexit) while the bulk copy runs
q "SELECT telem.tds_exec('tds_srv', 'IF OBJECT_ID(N''[dbo].[tp_copy]'', N''U'') IS NOT NULL DROP TABLE [dbo].[tp_copy];
  CREATE TABLE [dbo].[tp_copy] ([id] bigint NULL, [name] nvarchar(200) NULL)')" >/dev/null
check_eq "$(q "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_copy]', 'SELECT id, name FROM tp_stage_f', 3000)")" \
	"20000" "bulk copy from a tds_fdw scan of the same server"
check_eq "$(q "SELECT md5(string_agg(r[1] || '|' || coalesce(r[2], '<null>'), ',' ORDER BY r[1]::int8))
  FROM telem.tds_query('tds_srv', 'SELECT [id], [name] FROM [dbo].[tp_copy]') r")" \
	"$(q "SELECT md5(string_agg(id || '|' || coalesce(name, '<null>'), ',' ORDER BY id)) FROM tp_src")" \
	"bulk copy from a tds_fdw scan: every row exact"
out=$(qerr "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_copy]', 'SELECT id, name FROM tp_stage_f WHERE 1 / (id - 5000000035) > -1', 3000)")
grep -q "^ERROR:  HV" <<<"$out" && pass "an error raised by tds_fdw inside the bulk copy's query propagates" \
	|| fail "tds_fdw error inside bulk copy: $out"
check_eq "$(q "SELECT telem.tds_exec('tds_srv', 'SELECT 1')")" "-1" "and the next call works"

# decimal: rounded as SQL Server would (FreeTDS alone truncates)
q "SELECT telem.tds_exec('tds_srv', 'DELETE FROM [dbo].[tp_stage]')" >/dev/null
q "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_stage]', 'SELECT 1::int8 AS id, 0.12345::numeric AS amount
   UNION ALL SELECT 2, -0.12345 UNION ALL SELECT 3, 0.12344')" >/dev/null
check_eq "$(q "SELECT string_agg(r[1], ',' ORDER BY r[2]::int) FROM telem.tds_query('tds_srv',
  'SELECT [amount], [id] FROM [dbo].[tp_stage]') r")" "0.1235,-0.1235,0.1234" \
	"bulk copy: numeric rounded to the column's scale"

# --- client-side failures of bulk copy ---------------------------------------------
out=$(qerr "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_stage]', 'SELECT 1::int8 AS id, 2 AS nope')")
check_eq "$(state_of "$out")" "42703" "bulk copy: a query column the table lacks is 42703"
out=$(qerr "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_stage]', 'SELECT ''x'' AS id')")
check_eq "$(state_of "$out")" "22P02" "bulk copy: text FreeTDS cannot convert to bigint is 22P02"
grep -q "bulk copy into \[dbo\].\[tp_stage\], row 1" <<<"$out" && pass "bulk copy: the error names the row" \
	|| fail "bulk copy: no row in $out"
out=$(qerr "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_nosuch]', 'SELECT 1 AS id')")
check_eq "$(state_of "$out")" "42P01" "bulk copy into a missing table: 208 -> 42P01"

# --- remote errors and their SQLSTATEs -------------------------------------------
out=$(qerr "SELECT telem.tds_exec('tds_srv', 'SELECT FROM WHERE')")
check_eq "$(state_of "$out")" "42601" "syntax error: 102 -> 42601"
grep -q 'remote error 102 on server "tds_srv": Incorrect syntax' <<<"$out" \
	&& grep -q "DETAIL:  SQL Server error 102, severity 15" <<<"$out" \
	&& grep -q "Batch: SELECT FROM WHERE" <<<"$out" \
	&& pass "syntax error: message, detail with 'SQL Server error N' and the batch" || fail "syntax error: $out"
out=$(qerr "SELECT telem.tds_exec('tds_srv', 'INSERT INTO [dbo].[tp_kv] ([k], [v]) VALUES (1, 9)')")
check_eq "$(state_of "$out")" "23505" "duplicate key: 2627 -> 23505"
grep -q "SQL Server error 2627, severity 14" <<<"$out" && pass "duplicate key: severity 14 is an error" \
	|| fail "2627: $out"
long=$(printf 'x%.0s' $(seq 300))
out=$(qerr "SELECT telem.tds_exec('tds_srv', 'SELECT [nope] FROM [dbo].[tp_kv] /* $long */')")
batch_shown=$(sed -n 's/^DETAIL:  .*Batch: //p' <<<"$out")
check_eq "${#batch_shown}" "203" "the detail shows the batch's first 200 characters (and ...)"

arm '{"kind": "error", "match": "tp-probe-1205", "number": 1205}'
out=$(qerr "SELECT telem.tds_exec('tds_srv', 'UPDATE [dbo].[tp_kv] SET [v] = [v] + 1 WHERE [k] = 1 /* tp-probe-1205 */')")
check_eq "$(state_of "$out")" "40P01" "1205 on a batch -> 40P01 (no retry asked)"
check_eq "$(q "SELECT r[1] FROM telem.tds_query('tds_srv', 'SELECT [v] FROM [dbo].[tp_kv] WHERE [k] = 1') r")" \
	"1" "1205: the batch did not run"

arm '{"kind": "error", "on": "login", "number": 40613, "times": 5}'
l0=$(stat "['login_failures']")
t0=$(now_ms)
out=$(qerr "SELECT telem.tds_exec('tds_srv', 'SELECT 1')")
ms=$(($(now_ms) - t0))
check_eq "$(state_of "$out")" "08006" "40613 at every login -> 08006"
check_eq "$(($(stat "['login_failures']") - l0))" "5" "40613 at login: 5 attempts"
((ms >= 2800 && ms < 10000)) && pass "40613 at login: backoff 200+400+800+1600 ms ($ms ms)" \
	|| fail "40613 at login: took $ms ms"
grep -q "SQL Server error 40613" <<<"$out" && pass "40613: 'SQL Server error 40613' in the detail" || fail "40613: $out"

# --- retries ---------------------------------------------------------------------
for f in "telem.tds_exec('tds_srv', 'SELECT 1')" "(SELECT count(*) FROM telem.tds_query('tds_srv', 'SELECT 1 AS x'))" \
	"telem.tds_bulk_copy('tds_srv', '[dbo].[tp_kv]', 'SELECT 10 AS k, 10 AS v')"; do
	arm '{"kind": "error", "on": "login", "number": 40613}'
	f0=$(stat "['faults_fired']")
	out=$(q "SELECT $f" 2>&1) && (($(stat "['faults_fired']") == f0 + 1)) \
		&& pass "one-shot 40613 at login is retried: ${f:0:24}... -> $out" \
		|| fail "one-shot 40613 at login: ${f:0:24}...: $out"
done
arm '{"kind": "error", "match": "tp-retry-1205", "number": 1205}'
check_eq "$(q "SELECT telem.tds_exec('tds_srv', 'SET NOCOUNT OFF; UPDATE [dbo].[tp_kv] SET [v] = [v] + 1 WHERE [k] = 2 /* tp-retry-1205 */', retry => true)")" \
	"1" "retry => true: 1205 on a batch, then success"
arm '{"kind": "error", "match": "tp-retry-40613", "number": 40613}'
check_eq "$(q "SELECT telem.tds_exec('tds_srv', 'SET NOCOUNT OFF; UPDATE [dbo].[tp_kv] SET [v] = [v] + 1 WHERE [k] = 2 /* tp-retry-40613 */', retry => true)")" \
	"1" "retry => true: 40613 on a batch, then success"
check_eq "$(q "SELECT r[1] FROM telem.tds_query('tds_srv', 'SELECT [v] FROM [dbo].[tp_kv] WHERE [k] = 2') r")" \
	"3" "retried batches took effect once each (1 + 2)"
arm '{"kind": "error", "match": "tp-noretry-2627", "number": 2627, "class": 14}'
b0=$(stat "['faults_fired']")
out=$(qerr "SELECT telem.tds_exec('tds_srv', 'SELECT 1 /* tp-noretry-2627 */', retry => true)")
check_eq "$(state_of "$out") $(($(stat "['faults_fired']") - b0))" "23505 1" "retry => true: a non-transient error is not retried"

# a connection dropped after the batch committed: outcome unknown, never retried
arm '{"kind": "drop", "match": "tp-drop-after", "when": "after"}'
l0=$(stat "['logins']")
out=$(qerr "SELECT telem.tds_exec('tds_srv', 'UPDATE [dbo].[tp_kv] SET [v] = [v] + 10 WHERE [k] = 4 /* tp-drop-after */', retry => true)")
check_eq "$(state_of "$out")" "08007" "connection dropped after COMMIT: 08007"
grep -q "outcome is unknown" <<<"$out" && pass "dropped after COMMIT: the message says the outcome is unknown" \
	|| fail "dropped after COMMIT: $out"
check_eq "$(($(stat "['logins']") - l0))" "1" "dropped after COMMIT: not retried (one login)"
check_eq "$(q "SELECT r[1] FROM telem.tds_query('tds_srv', 'SELECT [v] FROM [dbo].[tp_kv] WHERE [k] = 4') r")" \
	"10" "dropped after COMMIT: the batch ran exactly once"

# bulk copy dropped mid-load: an error, the load rolled back, no retry
q "SELECT telem.tds_exec('tds_srv', 'DELETE FROM [dbo].[tp_stage]')" >/dev/null
arm '{"kind": "drop", "on": "bulk", "after_rows": 5500}'
l0=$(stat "['logins']")
out=$(qerr "SELECT telem.tds_bulk_copy('tds_srv', '[dbo].[tp_stage]', 'SELECT * FROM tp_src')")
check_eq "$(state_of "$out")" "08006" "bulk copy dropped after 5,500 rows: 08006"
grep -q "lost during bulk copy" <<<"$out" && grep -q "Bulk copy into \[dbo\].\[tp_stage\]: [0-9]* rows sent, 0 committed" <<<"$out" \
	&& pass "bulk copy dropped: message and rows sent/committed" || fail "bulk drop: $out"
check_eq "$(($(stat "['logins']") - l0)) $(q "SELECT r[1] FROM telem.tds_query('tds_srv', 'SELECT COUNT(*) FROM [dbo].[tp_stage]') r")" \
	"1 0" "bulk copy dropped: not retried, nothing committed"

# --- cancel ------------------------------------------------------------------------
a0=$(stat "['attentions']")
arm '{"kind": "delay", "ms": 6000, "match": "tp-slow"}'
t0=$(now_ms)
out=$(PGOPT="-c statement_timeout=700" qerr "SELECT telem.tds_exec('tds_srv', 'UPDATE [dbo].[tp_kv] SET [v] = 100 WHERE [k] = 1 /* tp-slow */')")
ms=$(($(now_ms) - t0))
check_eq "$(state_of "$out")" "57014" "statement_timeout during a remote batch: 57014"
((ms < 3000)) && pass "cancel: answered in $ms ms" || fail "cancel: took $ms ms"
check_eq "$(($(stat "['attentions']") - a0))" "1" "cancel: an ATTENTION was sent"
check_eq "$(q "SELECT r[1] FROM telem.tds_query('tds_srv', 'SELECT [v] FROM [dbo].[tp_kv] WHERE [k] = 1') r")" \
	"1" "cancel: the batch did not run"

# --- credentials, wrappers, privileges ----------------------------------------------
l0=$(stat "['login_failures']")
out=$(qerr "SELECT telem.tds_exec('tds_badpw', 'SELECT 1')")
check_eq "$(state_of "$out")" "28000" "wrong password: 18456 -> 28000"
check_eq "$(($(stat "['login_failures']") - l0))" "1" "wrong password: not retried"
if grep -qF -- "$BAD_PW" <<<"$out" || grep -qF -- "$TELEM_TDS_PASSWORD" <<<"$out"; then
	fail "a password appears in the error: $out"
else
	pass "wrong password: no password in the error"
fi
out=$(qerr "SELECT telem.tds_exec('lake', 'SELECT 1')")
check_eq "$(state_of "$out")" "42809" "a server of another wrapper is refused"
out=$(psql -X -At -v VERBOSITY=verbose -U "$ROLE" -d "$DB" -c "SELECT telem.tds_exec('tds_srv', 'SELECT 1')" 2>&1 || true)
check_eq "$(state_of "$out")" "42501" "no USAGE on the server: 42501"
q "GRANT USAGE ON FOREIGN SERVER tds_srv TO $ROLE" >/dev/null
out=$(psql -X -At -U "$ROLE" -d "$DB" -c "SELECT telem.tds_exec('tds_srv', 'SELECT 1')" 2>&1 || true)
check_eq "$out" "-1" "with USAGE, the PUBLIC user mapping is used"

# --- encryption: required for a host that is not loopback --------------------------
if [[ $(getent ahostsv4 "$(hostname)" | awk 'NR == 1 { print $1 }') == 127.0.0.1 ]]; then
	c0=$(stat "['connections']")
	l0=$(($(stat "['logins']") + $(stat "['login_failures']")))
	out=$(qerr "SELECT telem.tds_exec('tds_byname', 'SELECT 1')")
	check_eq "$(state_of "$out")" "08001" "host name '$(hostname)' (resolves to 127.0.0.1): refused"
	grep -q "requires TLS" <<<"$out" && pass "the error says TLS was required" || fail "TLS: $out"
	check_eq "$(($(stat "['connections']") - c0)) $(($(stat "['logins']") + $(stat "['login_failures']") - l0))" "1 0" \
		"TLS required: one connection, no login sent in clear, no retry"
else
	echo "skip: $(hostname) does not resolve to 127.0.0.1; the TLS check needs a non-loopback name for the test server"
fi

# --- no session left open after errors ---------------------------------------------
sleep 0.3
check_eq "$(stat "['sessions_open']")" "0" "no session open after all of the above"
out=$(psql -X -At -d "$DB" -v ON_ERROR_STOP=0 2>&1 <<SQL
SET client_min_messages = warning;
DO \$\$ BEGIN
  PERFORM telem.tds_bulk_copy('tds_srv', '[dbo].[tp_kv]', 'SELECT i AS k, 1 / (i - 2500) AS v FROM generate_series(1000, 3000) i', 100);
EXCEPTION WHEN division_by_zero THEN RAISE NOTICE 'caught';
END \$\$;
DO \$\$ BEGIN
  PERFORM telem.tds_exec('tds_srv', 'SELECT FROM WHERE');
EXCEPTION WHEN syntax_error THEN NULL;
END \$\$;
\! sleep 0.3; curl -s --noproxy '*' $CTL/stats | /usr/bin/python3 -c "import json,sys; print('open', json.load(sys.stdin)['sessions_open'])"
SELECT 'alive';
SQL
)
grep -qx "open 0" <<<"$out" && grep -qx "alive" <<<"$out" \
	&& pass "an error in the local query and a caught remote error close the session at once" \
	|| fail "sessions after caught errors: $out"
check_eq "$(q "SELECT r[1] FROM telem.tds_query('tds_srv', 'SELECT COUNT(*) FROM [dbo].[tp_kv] WHERE [k] >= 1000') r")" \
	"1000" "the failed bulk copy kept its committed batches (the first fetch of 1,000 rows, 10 batches)"

# --- the password in no log line ------------------------------------------------------
if grep -qF -e "$BAD_PW" -e "$TELEM_TDS_PASSWORD" "$TELEM_PG_LOG"; then
	fail "a password is in the PostgreSQL log"
else
	pass "no password in the PostgreSQL log"
fi

ctl DELETE /faults >/dev/null
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1 || true
finish
