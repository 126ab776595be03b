#!/usr/bin/env bash
# bench/scale.sh -- telem_fdw at scale: partition pruning over a lake, many
# small objects against a few large ones (prefetch), parallel workers over one
# big object, and planning time over many objects:
#
#   bash bench/scale.sh [--quick] [--runs N] [--markdown] [--keep]
#   (also a step of bench/run.sh)
#
#   --quick      smoke run: lake 60,000 rows, 100 small objects, a 100 MB
#                object for the parallel cases, 1,000 tiny objects
#   --runs N     timed runs per case (default 3); the table shows best and median
#   --markdown   print the tables as Markdown (for docs/performance.md)
#   --keep       keep the state dir (data, logs, psql output) instead of deleting it
#   --lake-rows N, --small N, --par-mb N, --tiny N   override one set's size
#
# What it does, all on this machine (loopback only):
#   1. starts its own PostgreSQL and Ceph RGW (S3) with test/harness/services.sh
#      in a fresh state dir, and stops them on exit, whatever happens;
#   2. writes the object sets (bench/scale_data.py, from one 100k-row block of
#      test/gen_telemetry.py) and uploads them to RGW, bucket scale (not timed):
#        lake/day=D/part-P.jsonl  30 days x 4 objects, 600,000 rows (~143 MB)
#        small/                   500 objects of 256 KiB (~131 MB)
#        large/                   the same bytes as 4 objects
#        par/big.jsonl            one ~1 GB object (also read from a local file)
#        tiny/                    10,000 one-row objects
#   3. times, interleaved in rounds (every case once per round, one psql
#      session per round, psql's \timing, jit = off), the 2-field aggregate
#      count(*), sum(speed_kmh), max(engine_rpm):
#        lake       the whole lake; WHERE day = 21 with
#                   telem_fdw.enable_pruning on and off
#        small      small/ and large/ with telem_fdw.objects_in_flight 1 and 4
#        parallel   the big object (file and S3) with
#                   max_parallel_workers_per_gather 0, 1, 2 (parallel costs 0)
#        plan       planning time of EXPLAIN (SUMMARY ON) SELECT count(*) over
#                   tiny/ and over the lake
#      then, once, EXPLAIN (ANALYZE, FORMAT JSON) of the lake queries (objects
#      listed and read, estimated and actual rows) and of the parallel queries
#      (workers launched), and one scan of tiny/;
#   4. prints the tables and the measures against their targets
#      (bench/scale_report.py). A setting that the installed telem_fdw does not
#      define is reported as "n/a (setting not available)" and the case runs
#      with the extension's behaviour (so "on" and "off" come out the same).
#      Exits 1 if any query's answer differs from the one computed from the
#      data; timings never pass or fail.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
lake_rows=600000
small=500
par_mb=1000
tiny=10000
runs=3
markdown=""
keep=""

usage() { sed -n 's/^#   bash bench/usage: bash bench/p' "$0" >&2; exit 2; }
while (($#)); do
    case $1 in
        --quick) lake_rows=60000 small=100 par_mb=100 tiny=1000 ;;
        --lake-rows) lake_rows=${2:?}; shift ;;
        --small) small=${2:?}; shift ;;
        --par-mb) par_mb=${2:?}; shift ;;
        --tiny) tiny=${2:?}; shift ;;
        --runs) runs=${2:?}; shift ;;
        --markdown) markdown=--markdown ;;
        --keep) keep=1 ;;
        -h | --help) usage ;;
        *) echo "scale.sh: unknown argument $1" >&2; usage ;;
    esac
    shift
done
for n in "$lake_rows" "$small" "$par_mb" "$tiny" "$runs"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || usage
done
((lake_rows >= 120 && small >= 4)) || { echo "scale.sh: --lake-rows >= 120, --small >= 4" >&2; exit 2; }

log() { printf '[scale %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- 1. services -------------------------------------------------------------
PG_CONFIG=${PG_CONFIG:-pg_config}
[[ -f $($PG_CONFIG --pkglibdir)/telem_fdw.so ]] ||
    die "telem_fdw is not installed (make install in $root)"
state=$(mktemp -d /tmp/telem-scalebench.XXXXXX)
chmod 755 "$state"
cleanup() {
    bash "$root/test/harness/services.sh" stop "$state" >>"$state/services.log" 2>&1 || true
    if [[ -n $keep ]]; then log "state kept in $state"; else rm -rf "$state"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "state dir $state; starting services"
# every set is held in RGW's RAM at once (about 1.5 GB with the default sizes)
if ! RGW_MEMSTORE_BYTES=$((6 << 30)) \
    bash "$root/test/harness/services.sh" start "$state" >"$state/services.log" 2>&1; then
    cat "$state/services.log" >&2
    exit 1
fi
# shellcheck disable=SC1091
source "$state/env.sh"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# No JIT compile time; parallel workers only where a case asks for them.
export PGOPTIONS="-c jit=off -c max_parallel_workers_per_gather=0"
s3=(bash "$root/test/harness/s3.sh")

# --- 2. data -----------------------------------------------------------------
data=$state/data
mkdir -p "$data"
log "generating the sets (lake $lake_rows rows, $small small objects, $par_mb MB object, $tiny tiny objects)"
python3 "$root/test/gen_telemetry.py" --rows 100000 --format jsonl >"$state/block.jsonl"
python3 "$here/scale_data.py" --block "$state/block.jsonl" --out "$data" \
    --lake-rows "$lake_rows" --small "$small" --par-mb "$par_mb" --tiny "$tiny" \
    --tiny-chunks 8 >"$state/sets.json"
rm -f "$state/block.jsonl"
chmod -R a+rX "$data"

log "uploading to RGW (bucket scale)"
"${s3[@]}" mb scale >/dev/null
up_log=$state/upload.log
pids=()
for set in lake small large; do
    "${s3[@]}" putdir scale "$set/" "$data/$set" 2>>"$up_log" & pids+=($!)
done
"${s3[@]}" put scale par/big.jsonl "$data/par/big.jsonl" >/dev/null 2>>"$up_log" & pids+=($!)
for p in "${pids[@]}"; do wait "$p" || die "upload failed: $(tail -n 5 "$up_log")"; done
# the tiny objects: one putdir (itself 32 uploads at a time) per chunk directory
printf '%s\n' "$data"/tiny/c* |
    xargs -P 4 -I{} bash "$root/test/harness/s3.sh" putdir scale tiny/ {} 2>>"$up_log" ||
    die "tiny upload failed: $(tail -n 5 "$up_log")"
got=$("${s3[@]}" ls scale tiny/ | wc -l)
[[ $got == "$tiny" ]] || die "RGW lists $got tiny objects, want $tiny"

psql -X -q -v ON_ERROR_STOP=1 \
    -v s3_endpoint="$TELEM_S3_ENDPOINT" -v s3_key="$TELEM_S3_ACCESS_KEY" \
    -v s3_secret="$TELEM_S3_SECRET_KEY" -v par_dir="$data/par/" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
CREATE SERVER scale_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', region 'us-east-1', endpoint :'s3_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER scale_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
CREATE SERVER scale_local FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');

-- bench/setup.sql's JSONL layout; the lake adds its partition column
SELECT format($$CREATE FOREIGN TABLE %I (
    device_id text, ts bigint, ts_ms bigint, speed_kmh float8,
    lat float8 OPTIONS (json_path 'location.lat'),
    lon float8 OPTIONS (json_path 'location.lon'),
    fuel_level float8,
    engine_rpm int OPTIONS (json_path 'engine.rpm'),
    engine_temp_c float8 OPTIONS (json_path 'engine.temp_c'),
    pressure_bar float8, vibration_mm_s float8, status text%s)
  SERVER %I OPTIONS (location %L, format 'jsonl')$$, tab, extra, srv, loc)
FROM (VALUES ('lake', $$, day int OPTIONS (partition 'day')$$, 'scale_s3', 's3://scale/lake/'),
             ('small_t', '', 'scale_s3', 's3://scale/small/'),
             ('large_t', '', 'scale_s3', 's3://scale/large/'),
             ('par_s3', '', 'scale_s3', 's3://scale/par/'),
             ('par_file', '', 'scale_local', :'par_dir'),
             ('tiny_t', '', 'scale_s3', 's3://scale/tiny/')) AS v(tab, extra, srv, loc)
\gexec

-- bench_set(NAME, VALUE): set NAME for the session; 'NAME=VALUE', or
-- 'NAME=n/a (setting not available)' when this build of telem_fdw does not
-- define it (its prefix is reserved once the library is loaded, so set_config
-- of an unknown telem_fdw.* setting fails instead of making a placeholder).
-- Only that error is caught: a bad value for a setting that exists fails.
CREATE FUNCTION bench_set(name text, value text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config(name, value, false);
    RETURN name || '=' || current_setting(name);
EXCEPTION WHEN invalid_name OR undefined_object THEN
    RETURN name || '=n/a (setting not available)';
END
$$;
SQL

settings=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -c "LOAD 'telem_fdw'" -c \
    "SELECT string_agg(n || '=' || coalesce((SELECT setting FROM pg_settings WHERE name = n),
                                            'n/a (setting not available)'), ';')
       FROM unnest(ARRAY['telem_fdw.enable_pruning', 'telem_fdw.objects_in_flight']) AS n")
log "settings: $settings"

# --- 3. cases ----------------------------------------------------------------
agg2='count(*), round(sum(speed_kmh)::numeric, 2), max(engine_rpm)'
par0='parallel_setup_cost=0 parallel_tuple_cost=0 min_parallel_table_scan_size=0'
# NAME|SETTINGS (NAME=VALUE ...)|SQL
cases=(
    "lake_full|telem_fdw.enable_pruning=on|SELECT $agg2 FROM lake"
    "lake_d21_on|telem_fdw.enable_pruning=on|SELECT $agg2 FROM lake WHERE day = 21"
    "lake_d21_off|telem_fdw.enable_pruning=off|SELECT $agg2 FROM lake WHERE day = 21"
    "small_1|telem_fdw.objects_in_flight=1|SELECT $agg2 FROM small_t"
    "small_4|telem_fdw.objects_in_flight=4|SELECT $agg2 FROM small_t"
    "large_1|telem_fdw.objects_in_flight=1|SELECT $agg2 FROM large_t"
    "large_4|telem_fdw.objects_in_flight=4|SELECT $agg2 FROM large_t"
)
for src in file s3; do
    for w in 0 1 2; do
        cases+=("par_${src}_$w|max_parallel_workers_per_gather=$w $par0|SELECT $agg2 FROM par_$src")
    done
done
cases+=(
    "plan_tiny||EXPLAIN (SUMMARY ON) SELECT count(*) FROM tiny_t"
    "plan_lake||EXPLAIN (SUMMARY ON) SELECT count(*) FROM lake"
)

# settings_sql SETTINGS: the statements that set them, each printing '@set ...'
settings_sql() {
    local kv
    echo 'RESET ALL;'
    for kv in $1; do
        echo "SELECT '@set ' || bench_set('${kv%%=*}', '${kv#*=}');"
    done
}

out=$state/out
mkdir -p "$out"
# Rounds interleave the cases (round r runs every case once), so a change in
# background load during the run spreads over all cases instead of skewing one.
for ((run = 1; run <= runs; run++)); do
    log "round $run of $runs (${#cases[@]} cases)"
    {
        printf '%s\n' '\set ON_ERROR_STOP on' "LOAD 'telem_fdw';"
        for c in "${cases[@]}"; do
            IFS='|' read -r name set sql <<<"$c"
            printf '\\echo @case %s\n' "$name"
            settings_sql "$set"
            if [[ $sql == EXPLAIN* ]]; then
                echo "$sql;"
            else
                printf '%s\n' '\timing on' "$sql;" '\timing off'
            fi
        done
    } >"$state/round.sql"
    psql -X -q -A -t -f "$state/round.sql" >"$out/round-$run.txt" ||
        die "round $run failed (see $out/round-$run.txt)"
done

log "EXPLAIN ANALYZE of the lake and parallel queries; one scan of the $tiny tiny objects"
{
    printf '%s\n' '\set ON_ERROR_STOP on' "LOAD 'telem_fdw';"
    for c in "${cases[@]}"; do
        IFS='|' read -r name set sql <<<"$c"
        [[ $name == lake_* || $name == par_* ]] || continue
        printf '\\echo @explain %s\n' "$name"
        settings_sql "$set"
        echo "EXPLAIN (ANALYZE, FORMAT JSON) $sql;"
    done
    printf '\\echo @case %s\n' tiny_scan
    settings_sql ""
    printf '%s\n' '\timing on' "SELECT $agg2 FROM tiny_t;" '\timing off'
} >"$state/explain.sql"
psql -X -q -A -t -f "$state/explain.sql" >"$out/explain.txt" ||
    die "EXPLAIN ANALYZE failed (see $out/explain.txt)"

# --- 4. report ---------------------------------------------------------------
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
info="telem_fdw $rev; $(psql -X -A -t -c 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /');"
info+=" $(nproc) cores; load average (1/5/15 min) before $load_before, after $load_after"
python3 "$here/scale_report.py" $markdown --sets "$state/sets.json" --runs "$runs" \
    --settings "$settings" --info "$info" --explain "$out/explain.txt" "$out"/round-*.txt
