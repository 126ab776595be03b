#!/usr/bin/env bash
# test/t/tds_server.sh STATE_DIR -- the TDS test server (test/tds_server/)
# with real clients: FreeTDS tsql and freebcp, the libsybdb bulk-copy client
# test/tds_server/bcp_check.c, and tds_fdw in the PostgreSQL cluster.
#
# Covers: login ok / wrong password; queries; the loader's T-SQL subset end
# to end (docs/tsql-subset.md: setup, stage, bulk copy, the transactional
# upsert, the batch ledger, the error path); non-ASCII text byte-exact from
# bcp into nvarchar and back out through tds_fdw; IMPORT FOREIGN SCHEMA with
# datetime2/datetimeoffset values PostgreSQL parses; freebcp in and out;
# ATTENTION; a real deadlock; each fault kind and the counters.
source "$(dirname "$0")/../lib/common.sh"

make -s -C "$TEST_DIR/tds_server" bcp_check
BCP=$TEST_DIR/tds_server/bcp_check
CTL=http://127.0.0.1:$TELEM_TDS_CONTROL_PORT
work=$STATE_DIR/tds_test
mkdir -p "$work"
cd "$work"

ctl() { curl -s --noproxy '*' -X "$1" ${3:+-d "$3"} "$CTL$2"; }
arm() { ctl POST /faults "$1" | grep -q '"ids"' || fail "arming fault $1"; }
stat() { ctl GET /stats | /usr/bin/python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)$1, sort_keys=True))"; }
# tsql_run SQL [PASSWORD]: batches separated by lines "go"; no headers/prompts
tsql_run() {
	printf '%s\ngo\nexit\n' "$1" | tsql -S "$TELEM_TDS_SERVERNAME" -U "$TELEM_TDS_USER" \
		-P "${2:-$TELEM_TDS_PASSWORD}" -D "$TELEM_TDS_DATABASE" -o fhq 2>&1 || true
}
sql() { "$BCP" sql "$1" 2>&1; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

ctl POST /reset >/dev/null

# --- login, queries ------------------------------------------------------------
out=$(tsql_run "SELECT 40 + 2 AS answer")
check_eq "$(tr -d '[:space:]' <<<"$out")" "42" "tsql: login and a query"
out=$(tsql_run "SELECT 1" "wrong-password")
grep -q "Login failed" <<<"$out" && pass "tsql: wrong password refused" \
	|| fail "tsql: wrong password not refused: $out"
out=$("$BCP" -p wrong-password sql "SELECT 1" 2>&1 || true)
grep -q "^msg 18456 severity 14" <<<"$out" && pass "wrong password: error 18456, class 14" \
	|| fail "wrong password: $out"
out=$(sql "SELECT N'Zürich' AS a, CAST(12.345 AS decimal(9,3)) AS b, CAST(1 AS bit) AS c")
check_eq "$(sed -n 2p <<<"$out")" $'Zürich\t12.345\t1' "query: nvarchar, decimal, bit"
out=$(sql "SELECT @@TRANCOUNT AS tc; BEGIN TRANSACTION; SELECT @@TRANCOUNT AS tc; COMMIT TRANSACTION; SELECT @@TRANCOUNT AS tc")
check_eq "$(grep -x '[0-9]' <<<"$out" | tr '\n' ' ')" "0 1 0 " "@@TRANCOUNT follows BEGIN/COMMIT"

# --- errors ----------------------------------------------------------------------
out=$(sql "MERGE INTO [dbo].[x] USING [dbo].[y] ON 1 = 1" || true)
grep -q "^msg 50000 .*MERGE statement is not supported" <<<"$out" \
	&& pass "unsupported T-SQL is an error naming it" || fail "MERGE: $out"
out=$(sql "SELECT * FROM [dbo].[no_such_table]" || true)
grep -q "^msg 208 severity 16 .*Invalid object name" <<<"$out" && pass "undefined table: 208" \
	|| fail "undefined table: $out"
out=$(sql "SELECT FROM WHERE" || true)
grep -q "^msg 102 severity 15" <<<"$out" && pass "syntax error: 102" || fail "syntax: $out"
out=$(sql "SELECT [nope] FROM INFORMATION_SCHEMA.TABLES" || true)
grep -q "^msg 207 " <<<"$out" && pass "undefined column: 207" || fail "undefined column: $out"

# --- the loader's T-SQL subset, end to end -------------------------------------
P=tds_pipe
TGT='[dbo].[tds_target]'
STG='[dbo].[tds_stage]'
setup="SET XACT_ABORT ON; SET NOCOUNT ON; SET ANSI_NULLS ON; SET QUOTED_IDENTIFIER ON;
IF OBJECT_ID(N'[dbo].[telem_batches]', N'U') IS NULL
  CREATE TABLE [dbo].[telem_batches] (
    [pipeline] nvarchar(200) NOT NULL,
    [batch_id] bigint NOT NULL,
    [row_count] bigint NOT NULL,
    [committed_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME(),
    PRIMARY KEY ([pipeline], [batch_id]));
IF OBJECT_ID(N'$STG', N'U') IS NULL
  CREATE TABLE $STG ([name] nvarchar(200) NULL, [id] bigint NULL, [reading] float NULL,
    [ok] bit NULL, [ts] datetimeoffset NULL, [note] nvarchar(max) NULL);
IF OBJECT_ID(N'$TGT', N'U') IS NULL
  CREATE TABLE $TGT ([name] nvarchar(200) NULL, [id] bigint NOT NULL, [reading] float NULL,
    [ok] bit NULL, [ts] datetimeoffset NULL, [note] nvarchar(max) NULL, PRIMARY KEY ([id]));"
sql "DROP TABLE IF EXISTS $TGT, $STG; DELETE FROM [dbo].[telem_batches] WHERE [pipeline] = N'$P'" >/dev/null 2>&1 || true
out=$(sql "$setup") && out2=$(sql "$setup") && pass "setup runs, and runs again (idempotent)" \
	|| fail "setup: $out $out2"
out=$(sql "CREATE TABLE [dbo].[alltypes_t] ([a] nvarchar(max) NULL, [b] nvarchar(10) NOT NULL,
  [c] bigint NULL, [d] int NULL, [e] smallint NULL, [f] float NULL, [g] real NULL, [h] bit NULL,
  [i] decimal(18,4) NULL, [j] datetime2 NULL, [k] datetimeoffset NULL, [l] date NULL,
  [m] uniqueidentifier NULL, PRIMARY KEY ([b])); DROP TABLE [dbo].[alltypes_t]") \
	&& pass "CREATE TABLE with every listed type" || fail "CREATE TABLE types: $out"

recover="SELECT [row_count] FROM [dbo].[telem_batches] WHERE [pipeline] = N'$P' AND [batch_id] = 1;"
check_eq "$(sql "$recover" | sed -n 2p)" "(0 rows)" "recovery query: batch 1 not committed yet"

# stage: DELETE FROM + bulk copy (bcp_init/bcp_bind/bcp_sendrow/bcp_batch/bcp_done)
out=$("$BCP" load "$STG" 30 7 2>&1)
grep -q "bcp rows: 30 sent, 30 copied" <<<"$out" && pass "bulk copy of 30 rows in batches of 7" \
	|| fail "bulk copy: $out"
apply="SET XACT_ABORT ON; SET NOCOUNT ON;
BEGIN TRANSACTION;
UPDATE t SET t.[name] = s.[name], t.[reading] = s.[reading], t.[ok] = s.[ok], t.[ts] = s.[ts], t.[note] = s.[note]
  FROM $TGT AS t INNER JOIN $STG AS s
    ON t.[id] = s.[id];
INSERT INTO $TGT ([id], [name], [reading], [ok], [ts], [note])
  SELECT s.[id], s.[name], s.[reading], s.[ok], s.[ts], s.[note] FROM $STG AS s
   WHERE NOT EXISTS (SELECT 1 FROM $TGT AS t
                      WHERE t.[id] = s.[id]);
INSERT INTO [dbo].[telem_batches] ([pipeline], [batch_id], [row_count])
  VALUES (N'$P', BATCH, 30);
COMMIT TRANSACTION;"
out=$(sql "${apply//BATCH/1}") && pass "apply batch 1 (update, insert, ledger, commit)" \
	|| fail "apply batch 1: $out"
check_eq "$(sql "$recover" | sed -n 2p)" "30" "recovery query: batch 1 committed with 30 rows"
check_eq "$(sql "SELECT COUNT(*) AS n, SUM([reading]) AS s FROM $TGT" | sed -n 2p)" \
	$'30\t26.25' "target after batch 1 (count, sum)"

# batch 2: same keys, changed values -> the UPDATE path, no new rows
"$BCP" load "$STG" 30 >/dev/null 2>&1 || fail "bulk copy for batch 2"
sql "UPDATE $STG SET [reading] = [reading] + 100, [name] = N'Zürich ✓' WHERE [id] > 3000000021" >/dev/null \
	|| fail "plain UPDATE of the stage"
out=$(sql "${apply//BATCH/2}") || fail "apply batch 2: $out"
check_eq "$(sql "SELECT COUNT(*) AS n, SUM([reading]) AS s FROM $TGT" | sed -n 2p)" \
	$'30\t2726.25' "target after batch 2: 27 rows updated, none added"
check_eq "$(sql "SELECT COUNT(*) AS n FROM [dbo].[telem_batches] WHERE [pipeline] = N'$P'" | sed -n 2p)" \
	"2" "ledger has both batches"

# a replayed batch: the ledger's primary key stops it, the transaction is rolled back
out=$(sql "DELETE FROM $STG; INSERT INTO $STG ([id], [name]) VALUES (999, N'replay')
${apply//BATCH/2}" || true)
grep -q "^msg 2627 severity 14 .*PRIMARY KEY" <<<"$out" && pass "replayed batch: 2627" \
	|| fail "replayed batch: $out"
check_eq "$(sql "SELECT COUNT(*) AS n FROM $TGT WHERE [id] = 999" | sed -n 2p)" "0" \
	"replayed batch: its insert was rolled back (XACT_ABORT)"
out=$(sql "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION") && pass "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION, no transaction" \
	|| fail "rollback guard: $out"
out=$(sql "BEGIN TRANSACTION; DELETE FROM $TGT; IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION; SELECT COUNT(*) AS n FROM $TGT")
check_eq "$(grep -A1 -x n <<<"$out" | tail -n 1)" "30" "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION undoes the DELETE"
out=$(sql "TRUNCATE TABLE $STG; SELECT COUNT(*) AS n FROM $STG")
check_eq "$(grep -A1 -x n <<<"$out" | tail -n 1)" "0" "TRUNCATE TABLE"

# --- tds_fdw: IMPORT FOREIGN SCHEMA, non-ASCII and date/time values -------------
psql_q -q <<SQL || fail "tds_fdw setup"
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tds_fdw;
DROP SERVER IF EXISTS tds_test_srv CASCADE;
CREATE SERVER tds_test_srv FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername '127.0.0.1', port '$TELEM_TDS_PORT', database '$TELEM_TDS_DATABASE', tds_version '7.4');
CREATE USER MAPPING FOR CURRENT_USER SERVER tds_test_srv
  OPTIONS (username '$TELEM_TDS_USER', password '$TELEM_TDS_PASSWORD');
DROP SCHEMA IF EXISTS tds_import CASCADE;
CREATE SCHEMA tds_import;
IMPORT FOREIGN SCHEMA dbo LIMIT TO (tds_target, telem_batches) FROM SERVER tds_test_srv INTO tds_import;
SQL
q() { PGOPTIONS="-c client_min_messages=error ${TZOPT:-}" psql_q -c "$1"; }
check_eq "$(q "SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position)
  FROM information_schema.columns WHERE table_schema = 'tds_import' AND table_name = 'tds_target'")" \
	"name:character varying,id:bigint,reading:double precision,ok:smallint,ts:timestamp with time zone,note:text" \
	"IMPORT FOREIGN SCHEMA: columns and types"
check_eq "$(q "SELECT count(*) FROM tds_import.tds_target")" "30" "tds_fdw: row count"
# bytes: 'São Paulo #1', '東京 #2' (bcp, unchanged by batch 2); 'Zürich ✓' (T-SQL N'' literal)
want=$(printf 'São Paulo #1|東京 #2|Zürich ✓' | od -An -tx1 | tr -d ' \n')
got=$(q "SELECT encode(convert_to(string_agg(name, '|' ORDER BY id), 'UTF8'), 'hex')
  FROM tds_import.tds_target WHERE id IN (1000000007, 2000000014, 30000000210)")
check_eq "$got" "$want" "non-ASCII byte-exact: bcp -> nvarchar -> tds_fdw"
check_eq "$(q "SELECT length(note) = 3000 AND md5(note) = md5(repeat('ü東x', 1000))
  FROM tds_import.tds_target WHERE id = 1000000007")" "t" "nvarchar(max) of 3000 characters (PLP) exact"
check_eq "$(TZOPT="-c timezone=America/New_York" q "SELECT ts = '2024-01-02 03:04:06.123457+00'
  FROM tds_import.tds_target WHERE id = 1000000007")" "t" "datetimeoffset via tds_fdw: the right instant in any TimeZone"
check_eq "$(q "SELECT bool_and(abs(extract(epoch FROM committed_at - (now() AT TIME ZONE 'UTC'))) < 600)
  FROM tds_import.telem_batches WHERE pipeline = '$P'")" "t" "datetime2 DEFAULT SYSUTCDATETIME() via tds_fdw"
check_eq "$(q "SELECT count(*) FROM tds_import.tds_target WHERE ok = 1")" "15" \
	"tds_fdw pushes down a bit comparison (WHERE ok = 1)"

# freebcp in and out, character mode, non-ASCII
sql "IF OBJECT_ID(N'[dbo].[tds_fb]', N'U') IS NOT NULL DROP TABLE [dbo].[tds_fb];
CREATE TABLE [dbo].[tds_fb] ([k] int NOT NULL PRIMARY KEY, [city] nvarchar(100) NULL, [amt] decimal(10,2) NULL)" >/dev/null
printf '1\tZürich\t12.50\n2\tSão Paulo\t-3.25\n3\t東京\t0.00\n' >fb_in.txt
fbcp() { freebcp '[dbo].[tds_fb]' "$1" "$2" -c -S "$TELEM_TDS_SERVERNAME" -U "$TELEM_TDS_USER" \
	-P "$TELEM_TDS_PASSWORD" -D "$TELEM_TDS_DATABASE" >"$2.log" 2>&1; }
if fbcp in fb_in.txt && fbcp out fb_out.txt && cmp -s fb_in.txt fb_out.txt; then
	pass "freebcp in, then out: identical file"
else
	fail "freebcp round trip: $(cat fb_in.txt.log fb_out.txt.log 2>/dev/null; diff fb_in.txt fb_out.txt)"
fi

# the FreeTDS pitfall: a UTF-8 string bound as SYBCHAR reaches nvarchar unconverted
out=$(BCP_CHECK_SYBCHAR=1 "$BCP" load "$STG" 3 2>&1 || true)
grep -q "not UTF-16LE" <<<"$out" && pass "UTF-8 bytes in an nvarchar bulk column are refused" \
	|| fail "SYBCHAR-bound nvarchar was accepted: $out"

# --- ATTENTION, deadlock ---------------------------------------------------------
sql "IF OBJECT_ID(N'[dbo].[tds_kv]', N'U') IS NOT NULL DROP TABLE [dbo].[tds_kv];
CREATE TABLE [dbo].[tds_kv] ([k] int NOT NULL PRIMARY KEY, [v] int NOT NULL);
INSERT INTO [dbo].[tds_kv] ([k], [v]) VALUES (1, 0), (2, 0)" >/dev/null
arm '{"kind": "delay", "ms": 5000, "match": "cancel-me"}'
t0=$(now_ms)
out=$("$BCP" cancel "UPDATE [dbo].[tds_kv] SET [v] = 100 WHERE [k] = 1 /* cancel-me */" 300 2>&1)
ms=$(($(now_ms) - t0))
if grep -q "^cancelled" <<<"$out" && grep -qx "42" <<<"$out" && ((ms < 3000)); then
	pass "ATTENTION: dbcancel() answered in $ms ms, connection usable"
else
	fail "ATTENTION: $ms ms: $out"
fi
check_eq "$(sql "SELECT [v] FROM [dbo].[tds_kv] WHERE [k] = 1" | sed -n 2p)" "0" "ATTENTION: the batch did not run"
out=$("$BCP" deadlock '[dbo].[tds_kv]' 2>&1)
grep -q "^msg 1205 severity 13" <<<"$out" && pass "a real deadlock is error 1205 for one side" \
	|| fail "deadlock: $out"

# --- faults ------------------------------------------------------------------------
arm '{"kind": "error", "on": "login", "number": 40613}'
out=$(sql "SELECT 1 AS x" || true)
grep -q "^msg 40613 severity 17" <<<"$out" && pass "fault: login answered with 40613" || fail "login 40613: $out"
check_eq "$(sql "SELECT 1 AS x" | sed -n 2p)" "1" "fault fires once: the next login works"

sql "UPDATE [dbo].[tds_kv] SET [v] = 0" >/dev/null
arm '{"kind": "error", "match": "COMMIT TRANSACTION", "number": 1205}'
out=$(tsql_run "BEGIN TRANSACTION; UPDATE [dbo].[tds_kv] SET [v] = 5 WHERE [k] = 1
go
COMMIT TRANSACTION
go
SELECT @@TRANCOUNT")
if grep -q "^Msg 1205 (severity 13" <<<"$out" && [[ $(tail -n 1 <<<"$out" | tr -d '[:space:]') == 0 ]]; then
	pass "fault: COMMIT TRANSACTION answered with 1205, transaction rolled back"
else
	fail "1205 on commit: $out"
fi
check_eq "$(sql "SELECT [v] FROM [dbo].[tds_kv] WHERE [k] = 1" | sed -n 2p)" "0" "1205: nothing committed"

arm '{"kind": "error", "match": "tds_kv", "number": 40613}'
out=$(tsql_run "BEGIN TRANSACTION
go
UPDATE [dbo].[tds_kv] SET [v] = 6 WHERE [k] = 2
go
SELECT @@TRANCOUNT")
if grep -q "^Msg 40613 (severity 17" <<<"$out" && [[ $(tail -n 1 <<<"$out" | tr -d '[:space:]') == 0 ]]; then
	pass "fault: a batch in a transaction answered with 40613, transaction rolled back"
else
	fail "40613 on a batch: $out"
fi

arm '{"kind": "drop", "match": "COMMIT TRANSACTION", "when": "after"}'
out=$(sql "BEGIN TRANSACTION; UPDATE [dbo].[tds_kv] SET [v] = 9 WHERE [k] = 2; COMMIT TRANSACTION" || true)
grep -q "EOF\|dead" <<<"$out" && pass "fault: connection dropped after COMMIT (no reply)" \
	|| fail "drop after commit: $out"
check_eq "$(sql "SELECT [v] FROM [dbo].[tds_kv] WHERE [k] = 2" | sed -n 2p)" "9" \
	"drop after commit: committed remotely"

arm '{"kind": "drop", "match": "tds_kv", "when": "before"}'
out=$(sql "UPDATE [dbo].[tds_kv] SET [v] = 10 WHERE [k] = 2" || true)
check_eq "$(sql "SELECT [v] FROM [dbo].[tds_kv] WHERE [k] = 2" | sed -n 2p)" "9" \
	"drop before executing: nothing ran"

"$BCP" load "$STG" 3 >/dev/null 2>&1
# the server writes rows in chunks of 5000: 5500 means some were written
arm '{"kind": "drop", "on": "bulk", "after_rows": 5500}'
out=$("$BCP" load "$STG" 6000 2>&1 || true)
grep -q "EOF\|failed" <<<"$out" && ! grep -q "bcp rows: 6000" <<<"$out" \
	&& pass "fault: bulk load dropped after 5500 rows" || fail "bulk drop: $out"
check_eq "$(sql "SELECT COUNT(*) AS n FROM $STG" | sed -n 2p)" "0" "bulk drop: the load was rolled back"
grep -q "dropping the connection: fault: drop after 5500 bulk rows" "$TELEM_TDS_LOG" \
	&& pass "bulk drop: fired at row 5500" || fail "bulk drop: not at row 5500"

arm '{"kind": "delay", "ms": 1200, "match": "slow-please"}'
t0=$(now_ms)
sql "SELECT 1 AS slow /* slow-please */" >/dev/null
ms=$(($(now_ms) - t0))
((ms >= 1200)) && pass "fault: delay 1200 ms (took $ms ms)" || fail "delay: only $ms ms"

out=$(ctl POST /faults '{"kind": "explode"}')
grep -q '"error"' <<<"$out" && pass "control: a bad fault is refused" || fail "bad fault: $out"

check_eq "$(stat "['faults_fired_by_kind']")" \
	'{"delay_batch": 2, "drop_batch": 2, "drop_bulk": 1, "error_batch": 2, "error_login": 1}' \
	"stats: faults fired by kind"
for k in logins batches bulk_rows attentions; do
	v=$(stat "['$k']")
	((v > 0)) && pass "stats: $k = $v" || fail "stats: $k = $v"
done

# faults from a JSON file at start, on a private server instance
fp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo '[{"kind": "error", "on": "login", "number": 1205, "times": 2}]' >faults.json
/usr/bin/python3 "$TEST_DIR/tds_server/server.py" --port "$fp" --control-port "$cp" \
	--dsn "host=$PGHOST port=$PGPORT user=postgres dbname=$TELEM_TDS_DATABASE" \
	--user "$TELEM_TDS_USER" --password "$TELEM_TDS_PASSWORD" --faults faults.json >private.log 2>&1 &
_pids+=($!)
for _ in $(seq 100); do curl -sf --noproxy '*' "http://127.0.0.1:$cp/health" >/dev/null && break; sleep 0.1; done
r1=$(TELEM_TDS_PORT=$fp "$BCP" sql "SELECT 1 AS x" 2>&1 | grep -c "^msg 1205" || true)
r2=$(TELEM_TDS_PORT=$fp "$BCP" sql "SELECT 1 AS x" 2>&1 | grep -c "^msg 1205" || true)
r3=$(TELEM_TDS_PORT=$fp "$BCP" sql "SELECT 7 AS x" 2>&1 | sed -n 2p)
check_eq "$r1 $r2 $r3" "1 1 7" "faults file at start: fires twice (times 2), then logins work"

finish
