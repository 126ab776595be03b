#!/usr/bin/env bash
# bench/run.sh -- the telem_fdw benchmark, in one command:
#
#   bash bench/run.sh [--quick] [--rows N] [--runs N] [--markdown] [--keep]
#   (ends with bench/push.sh: the loader's TDS push against freebcp,
#   bench/transfer.sh: telem.transfer between S3 and Azure against curl, and
#   bench/scale.sh: pruning, prefetch, parallel workers and planning time)
#
#   --rows N     rows in the data set (default 1,000,000; about 238 MB of JSONL
#                and 90 MB of CSV per million rows)
#   --quick      smoke run: 100,000 rows
#   --runs N     timed runs per case (default 3); the table shows best and median
#   --markdown   also print the tables as Markdown (for docs/performance.md)
#   --keep       keep the state dir (data, logs) instead of deleting it
#
# What it does, all on this machine (loopback only):
#   1. checks that telem_fdw is installed in pg_config's server (runs
#      `make install` in the repo root when it is not) and that bench/'s
#      pinned npm packages (DuckDB) are installed (`npm ci` when they are not);
#   2. starts its own PostgreSQL 15 and Ceph RGW with test/harness/services.sh
#      in a fresh state dir, and stops them on exit, whatever happens;
#   3. writes one data set, the same rows as JSONL (plain, gzip -6, zstd -3)
#      and as CSV, from test/gen_telemetry.py (a 100k-row block generated once
#      and repeated, since the generator is slow), and as Parquet (DuckDB
#      loads the CSV and writes zstd, 100,000-row row groups), and uploads
#      the zstd JSONL object and the Parquet file to RGW (not timed);
#   4. times every case (bench/setup.sql makes the tables): the same aggregate
#      over two fields, count(*), sum(speed_kmh), max(engine_rpm), for
#        - COPY of the CSV into an UNLOGGED table (the reference),
#        - file_fdw over the CSV,
#        - DuckDB (bench/duckdb_scan.mjs, SET threads = 1) read_json / read_csv,
#        - DuckDB read_parquet,
#        - telem_fdw: JSONL plain / gzip / zstd, CSV and Parquet from files,
#          JSONL zstd and Parquet from S3 (RGW),
#      plus the same over all 12 fields for telem_fdw (JSONL, CSV, Parquet),
#      file_fdw and DuckDB (JSONL, Parquet), and both queries over the rows
#      already in a heap table (the cost of the aggregates alone); and once,
#      untimed, EXPLAIN ANALYZE of a 1-column Parquet query for the bytes it
#      read against the file's size;
#      PostgreSQL cases are timed by psql's \timing (jit = off, no parallel
#      workers), DuckDB cases inside node; the runs are interleaved in rounds (every case once per
#      round) so that background load skews all cases alike; all files are
#      in the page cache (just written), so this measures CPU, not disk;
#   5. prints the table and the ratios (bench/report.py), and checks that every
#      engine computed the same answer (exits 1 if not). Timings only report:
#      nothing here passes or fails on speed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
rows=1000000
runs=3
markdown=""
keep=""
quick=""

usage() { sed -n 's/^#   bash bench/usage: bash bench/p' "$0" >&2; exit 2; }
while (($#)); do
    case $1 in
        --quick) rows=100000 quick=--quick ;;
        --rows) rows=${2:?}; shift ;;
        --runs) runs=${2:?}; shift ;;
        --markdown) markdown=--markdown ;;
        --keep) keep=1 ;;
        -h | --help) usage ;;
        *) echo "run.sh: unknown argument $1" >&2; usage ;;
    esac
    shift
done
[[ $rows =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || usage

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# --- 1. prerequisites ------------------------------------------------------
PG_CONFIG=${PG_CONFIG:-pg_config}
if [[ ! -f $($PG_CONFIG --sharedir)/extension/telem_fdw.control ||
      ! -f $($PG_CONFIG --pkglibdir)/telem_fdw.so ]]; then
    log "telem_fdw is not installed: make install in $root"
    make -C "$root" -s install >&2
fi
if [[ ! -d $here/node_modules/@duckdb/node-api ||
      $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
    log "npm ci in bench/"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# --- 2. services -----------------------------------------------------------
state=$(mktemp -d /tmp/telem-bench.XXXXXX)
chmod 755 "$state"
cleanup() {
    bash "$root/test/harness/services.sh" stop "$state" >>"$state/services.log" 2>&1 || true
    if [[ -n $keep ]]; then log "state kept in $state"; else rm -rf "$state"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "state dir $state; starting services"
if ! bash "$root/test/harness/services.sh" start "$state" >"$state/services.log" 2>&1; then
    cat "$state/services.log" >&2
    exit 1
fi
# shellcheck disable=SC1091
source "$state/env.sh"
# Other work on the machine skews every figure: record the load around the run.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# One process per query, like every other case here, and no JIT compile time.
export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0"

# --- 3. data -----------------------------------------------------------------
data=$state/data
mkdir -p "$data"/{block,jsonl,jsonl_gz,jsonl_zst,csv,parquet}
block=$((rows < 100000 ? rows : 100000))
reps=$((rows / block))
rest=$((rows % block))
log "generating $rows rows ($reps x $block-row block + $rest)"
python3 "$root/test/gen_telemetry.py" --rows "$block" --format jsonl >"$data/block/b.jsonl" &
python3 "$root/test/gen_telemetry.py" --rows "$block" --format csv >"$data/block/b.csv"
wait $!
head -n 1 "$data/block/b.csv" >"$data/block/header.csv"
tail -n +2 "$data/block/b.csv" >"$data/block/body.csv"
{
    for ((i = 0; i < reps; i++)); do cat "$data/block/b.jsonl"; done
    head -n "$rest" "$data/block/b.jsonl"
} >"$data/jsonl/t.jsonl"
{
    cat "$data/block/header.csv"
    for ((i = 0; i < reps; i++)); do cat "$data/block/body.csv"; done
    head -n "$rest" "$data/block/body.csv"
} >"$data/csv/t.csv"
rm -rf "$data/block"
log "compressing (gzip -6, zstd -3)"
gzip -6 -c "$data/jsonl/t.jsonl" >"$data/jsonl_gz/t.jsonl.gz" &
gz_pid=$!
zstd -q -3 -T1 -c "$data/jsonl/t.jsonl" >"$data/jsonl_zst/t.jsonl.zst"
wait "$gz_pid"
log "writing Parquet (DuckDB: zstd, row groups of 100,000 rows)"
node "$here/duckdb_scan.mjs" write-parquet "$data/csv/t.csv" "$data/parquet/t.parquet"
chmod -R a+rX "$data"
size() { stat -c %s "$1"; }
jsonl_bytes=$(size "$data/jsonl/t.jsonl")
csv_bytes=$(size "$data/csv/t.csv")
gz_bytes=$(size "$data/jsonl_gz/t.jsonl.gz")
zst_bytes=$(size "$data/jsonl_zst/t.jsonl.zst")
parquet_bytes=$(size "$data/parquet/t.parquet")

log "uploading the zstd object and the Parquet file to RGW"
bash "$root/test/harness/s3.sh" mb bench >/dev/null
bash "$root/test/harness/s3.sh" put bench jsonl_zst/t.jsonl.zst "$data/jsonl_zst/t.jsonl.zst" >/dev/null
bash "$root/test/harness/s3.sh" put bench parquet/t.parquet "$data/parquet/t.parquet" >/dev/null

psql -X -q -v ON_ERROR_STOP=1 \
    -v csv_file="$data/csv/t.csv" \
    -v jsonl_dir="$data/jsonl/" -v jsonl_gz_dir="$data/jsonl_gz/" \
    -v jsonl_zst_dir="$data/jsonl_zst/" \
    -v s3_endpoint="$TELEM_S3_ENDPOINT" -v s3_key="$TELEM_S3_ACCESS_KEY" \
    -v s3_secret="$TELEM_S3_SECRET_KEY" -v s3_location="s3://bench/jsonl_zst/" \
    -v parquet_dir="$data/parquet/" -v s3_parquet_location="s3://bench/parquet/" \
    -f "$here/setup.sql"
psql -X -q -v ON_ERROR_STOP=1 \
    -c "COPY bench_heap FROM '$data/csv/t.csv' (FORMAT csv, HEADER true)" \
    -c "VACUUM (FREEZE, ANALYZE) bench_heap"

# --- 4. cases ----------------------------------------------------------------
# The two query shapes. Column names are the same in every table (setup.sql);
# sums are rounded only for the cross-engine answer check.
agg2='count(*), round(sum(speed_kmh)::numeric, 2), max(engine_rpm)'
# three of the twelve columns: the Parquet projection case
agg3='count(*), round(sum(speed_kmh)::numeric, 2), max(engine_rpm), max(ts)'
agg12="count(*), round(sum(speed_kmh)::numeric, 2), max(engine_rpm), count(device_id),"
agg12+=" max(ts), max(ts_ms), round(sum(lat)::numeric, 2), round(sum(lon)::numeric, 2),"
agg12+=" round(sum(fuel_level)::numeric, 2), max(engine_temp_c), round(sum(pressure_bar)::numeric, 2),"
agg12+=" round(sum(vibration_mm_s)::numeric, 2), count(status)"
results=$state/results.tsv
: >"$results"

# PostgreSQL cases: NAME, statement timed, statement run untimed before it,
# statement run untimed after it (whose row is the answer when the timed one
# returns none, as COPY does).
pg_cases=(
    "copy_csv|COPY bench_copy FROM '$data/csv/t.csv' (FORMAT csv, HEADER true)|TRUNCATE bench_copy|SELECT $agg2 FROM bench_copy"
    "file_fdw_csv|SELECT $agg2 FROM ff_csv||"
    "telem_jsonl|SELECT $agg2 FROM tj||"
    "telem_jsonl_gz|SELECT $agg2 FROM tj_gz||"
    "telem_jsonl_zst|SELECT $agg2 FROM tj_zst||"
    "telem_csv|SELECT $agg2 FROM tc||"
    "telem_s3_jsonl_zst|SELECT $agg2 FROM ts3_zst||"
    "telem_parquet|SELECT $agg2 FROM tp||"
    "telem_parquet_3|SELECT $agg3 FROM tp||"
    "heap_3|SELECT $agg3 FROM bench_heap||"
    "telem_s3_parquet|SELECT $agg2 FROM tps3||"
    "telem_jsonl_12|SELECT $agg12 FROM tj||"
    "telem_csv_12|SELECT $agg12 FROM tc||"
    "telem_parquet_12|SELECT $agg12 FROM tp||"
    "file_fdw_csv_12|SELECT $agg12 FROM ff_csv||"
    "heap|SELECT $agg2 FROM bench_heap||"
    "heap_12|SELECT $agg12 FROM bench_heap||"
)
duck_cases=(
    duckdb_jsonl="$data/jsonl/t.jsonl"
    duckdb_jsonl_gz="$data/jsonl_gz/t.jsonl.gz"
    duckdb_jsonl_zst="$data/jsonl_zst/t.jsonl.zst"
    duckdb_csv="$data/csv/t.csv"
    duckdb_jsonl_12="$data/jsonl/t.jsonl"
    duckdb_parquet="$data/parquet/t.parquet"
    duckdb_parquet_3="$data/parquet/t.parquet"
    duckdb_parquet_12="$data/parquet/t.parquet"
)

# pg_round RUN: every PostgreSQL case once, in one psql session; appends
# NAME RUN SECONDS RESULT lines (seconds from psql's \timing).
pg_round() {
    local run=$1 c name sql before after script=$state/round.sql
    {
        printf '%s\n' '\set ON_ERROR_STOP on'
        for c in "${pg_cases[@]}"; do
            IFS='|' read -r name sql before after <<<"$c"
            printf '\\echo @case %s\n' "$name"
            [[ -z $before ]] || echo "$before;"
            printf '%s\n' '\timing on' "$sql;" '\timing off'
            [[ -z $after ]] || echo "$after;"
        done
        echo 'TRUNCATE bench_copy;'
    } >"$script"
    psql -X -q -A -t -f "$script" | awk -v run="$run" '
        function flush() {
            if (name == "") return
            if (ms == "") { print "bench: no timing for " name > "/dev/stderr"; bad = 1; exit 1 }
            printf "%s\t%s\t%.4f\t%s\n", name, run, ms / 1000, res
        }
        /^@case / { flush(); name = substr($0, 7); ms = ""; res = ""; next }
        /^Time: / { ms = $2; next }
        { res = $0 }
        END { if (!bad) flush() }' >>"$results"
}

# Rounds interleave the cases (round r runs every case once), so a change in
# background load during the run spreads over all cases instead of skewing one.
for ((run = 1; run <= runs; run++)); do
    log "round $run of $runs: PostgreSQL cases (${#pg_cases[@]})"
    pg_round "$run"
    log "round $run of $runs: DuckDB cases (${#duck_cases[@]})"
    node "$here/duckdb_scan.mjs" 1 "${duck_cases[@]}" | awk -v run="$run" 'BEGIN { FS = OFS = "\t" } { $2 = run; print }' >>"$results"
done

# Parquet column pruning, untimed: what a 1-of-12-column query read
# ("Telem Bytes Read" of its Foreign Scan) against the file's size.
parquet_read_bytes=$(psql -X -A -t -c 'EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(speed_kmh) FROM tp' |
    python3 -c '
import json, sys
def scans(p):
    if p.get("Node Type") == "Foreign Scan":
        yield p
    for c in p.get("Plans", []):
        yield from scans(c)
got = [s.get("Telem Bytes Read") for s in scans(json.load(sys.stdin)[0]["Plan"])]
print(sum(map(int, got)) if got and None not in got else "")')
log "Parquet, 1 of 12 columns: read ${parquet_read_bytes:-?} of $parquet_bytes bytes"

# --- 5. report ---------------------------------------------------------------
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
python3 "$here/report.py" $markdown --results "$results" --rows "$rows" --runs "$runs" \
    --jsonl-bytes "$jsonl_bytes" --csv-bytes "$csv_bytes" \
    --gz-bytes "$gz_bytes" --zst-bytes "$zst_bytes" \
    --parquet-bytes "$parquet_bytes" --parquet-read-bytes "$parquet_read_bytes" \
    --info "telem_fdw $rev; $(psql -X -A -t -c 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /'); DuckDB $(node -p 'require("'"$here"'/node_modules/@duckdb/node-api/package.json").version'); $(nproc) cores; load average (1/5/15 min) before $load_before, after $load_after"

# --- 6. the loader's push to Azure SQL (TDS), against freebcp ----------------
# (its own services; 20 % of the scan rows, at least 20,000)
bash "$here/push.sh" --rows "$(( rows / 5 > 20000 ? rows / 5 : 20000 ))" --runs "$runs"

# --- 7. telem.transfer between S3 and Azure, against curl --------------------
# (its own services; 1 GiB + 125 MiB of objects, --quick 256 + 25 MiB)
bash "$here/transfer.sh" $quick --runs "$runs" $markdown

# --- 8. at scale: pruning, many small objects, parallel workers, planning ----
# (its own services; lake 600,000 rows, 500 small objects, a 1 GB object,
# 10,000 tiny objects; --quick 60,000 rows, 100, 100 MB, 1,000)
bash "$here/scale.sh" $quick --runs "$runs" $markdown
