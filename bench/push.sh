#!/usr/bin/env bash
# bench/push.sh [--rows N] [--runs N] -- how fast the loader pushes rows to
# Azure SQL over TDS, against FreeTDS's own freebcp loading the same rows
# into the same endpoint in the same run.
#
# Starts its own services (PostgreSQL, the TDS test server, ...) with the
# harness, builds N rows of a per-minute aggregate (text, timestamptz,
# float8, int, bool, bigint), and times, best of --runs:
#   telem   SELECT telem.tds_bulk_copy(...) from a local table
#   freebcp freebcp ... in FILE -c, from the same rows exported as text
# into empty tables of the same shape. Prints rows/s and the ratio. The TDS
# stand-in executes on PostgreSQL and is the bottleneck for both; the ratio
# compares the clients, not a real Azure SQL's ingest rate.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
rows=200000
runs=3
while (($#)); do
	case $1 in
	--rows) rows=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	*) echo "usage: $0 [--rows N] [--runs N]" >&2; exit 2 ;;
	esac
done

state=$(mktemp -d /tmp/telem-pushbench.XXXXXX)
chmod 755 "$state"
trap 'bash test/harness/services.sh stop "$state" >/dev/null 2>&1; rm -rf "$state"' EXIT
bash test/harness/services.sh start "$state" >/dev/null
# shellcheck disable=SC1091
source "$state/env.sh"
log() { echo "[push $(date +%T)] $*" >&2; }

psql -X -q -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
CREATE EXTENSION IF NOT EXISTS tds_fdw;
CREATE SERVER azure_sql FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername '$TELEM_TDS_HOST', port '$TELEM_TDS_PORT', database '$TELEM_TDS_DATABASE');
CREATE USER MAPPING FOR CURRENT_USER SERVER azure_sql
  OPTIONS (username '$TELEM_TDS_USER', password '$TELEM_TDS_PASSWORD');
CREATE TABLE push_src AS
SELECT format('eq-%s', i % 500) AS equipment_id,
       timestamptz '2026-11-21 00:00+00' + (i / 500) * interval '1 minute' AS minute,
       (i % 37)::int AS readings, 60 + (i % 400) / 10.0 AS avg_temperature,
       (i % 7 = 0)::int AS hot, i::bigint AS seq
  FROM generate_series(1, $rows) i;
SQL
# freebcp reads text: tab-separated, timestamps in UTC without an offset
psql -X -q -c "SET timezone = 'UTC'" -c "\\copy (SELECT equipment_id, to_char(minute, 'YYYY-MM-DD HH24:MI:SS'), readings, avg_temperature, hot, seq FROM push_src) TO '$state/rows.tsv'"

make_target() {
	psql -X -q -At -c "SELECT telem.tds_exec('azure_sql', 'IF OBJECT_ID(N''dbo.$1'', N''U'') IS NOT NULL DROP TABLE dbo.$1; CREATE TABLE dbo.$1 ([equipment_id] nvarchar(400) NULL, [minute] datetimeoffset(6) NULL, [readings] int NULL, [avg_temperature] float NULL, [hot] bit NULL, [seq] bigint NULL);')" >/dev/null
}
count_target() { psql -X -At -c "SELECT (telem.tds_query('azure_sql', 'SELECT count(*) FROM dbo.$1'))[1]"; }
now() { date +%s.%N; }

best_telem=999999
best_bcp=999999
for ((r = 1; r <= runs; r++)); do
	make_target push_telem
	t0=$(now)
	psql -X -q -At -c "SET timezone = 'UTC'; SELECT telem.tds_bulk_copy('azure_sql', '[dbo].[push_telem]', 'SELECT equipment_id, minute, readings, avg_temperature, hot, seq FROM push_src', 10000)" >/dev/null
	t1=$(now)
	[[ $(count_target push_telem) == "$rows" ]] || { log "telem copied a wrong row count"; exit 1; }
	make_target push_bcp
	t2=$(now)
	freebcp dbo.push_bcp in "$state/rows.tsv" -S telem_tds -U "$TELEM_TDS_USER" \
		-P "$TELEM_TDS_PASSWORD" -D "$TELEM_TDS_DATABASE" -c -t '\t' -b 10000 >/dev/null
	t3=$(now)
	[[ $(count_target push_bcp) == "$rows" ]] || { log "freebcp copied a wrong row count"; exit 1; }
	best_telem=$(python3 -c "print(min($best_telem, $t1 - $t0))")
	best_bcp=$(python3 -c "print(min($best_bcp, $t3 - $t2))")
	log "run $r: telem $(python3 -c "print(round($t1 - $t0, 3))") s, freebcp $(python3 -c "print(round($t3 - $t2, 3))") s"
done
python3 - "$rows" "$best_telem" "$best_bcp" <<'PY'
import sys
rows, t, b = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"push bench: {rows} rows, best of runs")
print(f"| client | best s | rows/s |")
print(f"|---|---:|---:|")
print(f"| telem.tds_bulk_copy | {t:.3f} | {rows / t:,.0f} |")
print(f"| freebcp -c | {b:.3f} | {rows / b:,.0f} |")
print(f"ratio (freebcp s / telem s; > 1 = telem faster): {b / t:.2f}x")
PY
