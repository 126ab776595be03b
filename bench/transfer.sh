#!/usr/bin/env bash
# bench/transfer.sh -- how fast telem.transfer copies objects between stores,
# against plain curl downloads (and uploads) of the same objects in the same run:
#
#   bash bench/transfer.sh [--quick] [--runs N] [--big N] [--small N] [--markdown] [--keep]
#   (also the last step of bench/run.sh)
#
#   --big N      objects of 64 MiB in the large set (default 16: 1 GiB)
#   --small N    objects of 256 KiB in the small set (default 500: 125 MiB)
#   --quick      smoke run: 4 large and 100 small objects
#   --runs N     timed runs per case (default 3); the table shows best and median
#   --markdown   print the tables as Markdown (for docs/performance.md)
#   --keep       keep the state dir (data, logs) instead of deleting it
#
# What it does, all on this machine (loopback only):
#   1. starts its own PostgreSQL, Ceph RGW (S3) and Azurite (Azure Blob, https)
#      with test/harness/services.sh in a fresh state dir, and stops them on
#      exit, whatever happens. Both stores hold objects in RAM: RGW (8 GiB
#      memstore) frees deleted copies within seconds, Azurite only every 10
#      minutes, so Azurite is restarted (and seeded again) before each round;
#      it still peaks at about 7 GB of RSS with the default sizes;
#   2. writes the two sets as random bytes (incompressible, like compressed
#      telemetry) and uploads each to RGW (bucket bench) and to Azurite
#      (container src) under the same keys (not timed);
#   3. times, interleaved in rounds (every case once per round):
#        baselines  one curl process per set, objects one after another over
#                   one keep-alive connection: GET from RGW (SigV4) and from
#                   Azurite (account SAS) to /dev/null, and PUT of the local
#                   files to each;
#        transfers  telem.transfer S3 -> Azure (8 MB blocks; 4 and 16 MB for
#                   the large set) and Azure -> S3 (8 MB parts), each into a
#                   fresh prefix so that every object is copied, and a rerun of
#                   the small S3 -> Azure copy (nothing to copy: listing and
#                   ledger only);
#      wall time around the whole command (curl or psql), plus the CPU seconds
#      the PostgreSQL backends, Azurite (node) and RGW (radosgw + the memstore
#      OSD) used meanwhile, read from /proc;
#   4. checks every transfer's result row (all objects copied, none failed,
#      bytes = the set's size) on every run, and, on the first run, downloads
#      every copied object again and compares its MD5 with the local file's
#      (not timed); each copy is deleted before the next case;
#   5. prints MB/s (10^6 bytes) from the best time and the ratios transfer /
#      download of the same objects from the source store. Exits 1 if any copy
#      is wrong or incomplete; timings never pass or fail.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
big=16
small=500
runs=3
markdown=""
keep=""

usage() { sed -n 's/^#   bash bench/usage: bash bench/p' "$0" >&2; exit 2; }
while (($#)); do
    case $1 in
        --quick) big=4 small=100 ;;
        --big) big=${2:?}; shift ;;
        --small) small=${2:?}; shift ;;
        --runs) runs=${2:?}; shift ;;
        --markdown) markdown=--markdown ;;
        --keep) keep=1 ;;
        -h | --help) usage ;;
        *) echo "transfer.sh: unknown argument $1" >&2; usage ;;
    esac
    shift
done
[[ $big =~ ^[1-9][0-9]*$ && $small =~ ^[1-9][0-9]*$ && $runs =~ ^[1-9][0-9]*$ ]] || usage

log() { printf '[transfer %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- 1. services -------------------------------------------------------------
PG_CONFIG=${PG_CONFIG:-pg_config}
[[ -f $($PG_CONFIG --pkglibdir)/telem_fdw.so ]] ||
    die "telem_fdw is not installed (make install in $root)"
state=$(mktemp -d /tmp/telem-transferbench.XXXXXX)
chmod 755 "$state"
cleanup() {
    bash "$root/test/harness/services.sh" stop "$state" >>"$state/services.log" 2>&1 || true
    if [[ -n $keep ]]; then log "state kept in $state"; else rm -rf "$state"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "state dir $state; starting services"
if ! RGW_MEMSTORE_BYTES=$((8 << 30)) \
    bash "$root/test/harness/services.sh" start "$state" >"$state/services.log" 2>&1; then
    cat "$state/services.log" >&2
    exit 1
fi
# shellcheck disable=SC1091
source "$state/env.sh"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
s3=(bash "$root/test/harness/s3.sh")
az=(python3 "$root/test/harness/az.py")
region=${TELEM_S3_REGION:-us-east-1}
s3curl=(curl -sS --noproxy '*' --fail --aws-sigv4 "aws:amz:$region:s3"
    --user "$TELEM_S3_ACCESS_KEY:$TELEM_S3_SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD')
azcurl=(curl -sS --noproxy '*' --fail --cacert "$TELEM_AZURE_CA_FILE")
azure_loc() { echo "abfss://$1@$TELEM_AZURE_ACCOUNT.dfs.core.windows.net/$2"; }

# --- 2. data -----------------------------------------------------------------
data=$state/data
mkdir -p "$data/big" "$data/small"
log "writing $big x 64 MiB and $small x 256 KiB of random bytes"
for ((i = 0; i < big; i++)); do
    head -c $((64 << 20)) /dev/urandom >"$(printf '%s/big/obj-%03d.bin' "$data" "$i")"
done
for ((i = 0; i < small; i++)); do
    head -c $((256 << 10)) /dev/urandom >"$(printf '%s/small/obj-%04d.bin' "$data" "$i")"
done
declare -A set_bytes set_count
for set in big small; do
    (cd "$data/$set" && md5sum -- * | awk '{ print $2, $1 }' | sort >"$state/$set.md5")
    set_count[$set]=$(wc -l <"$state/$set.md5")
    set_bytes[$set]=$(cd "$data/$set" && stat -c %s -- * | awk '{ s += $1 } END { print s }')
done
log "uploading both sets to RGW (bucket bench) and Azurite (container src)"
"${s3[@]}" mb bench >/dev/null
for set in big small; do
    "${s3[@]}" putdir bench "$set/" "$data/$set" 2>/dev/null
done
# seed_azurite: containers src (both sets) and dst (the copies)
seed_azurite() {
    "${az[@]}" mb src
    "${az[@]}" mb dst
    for set in big small; do
        "${az[@]}" putdir src "$set/" "$data/$set" 2>/dev/null
    done
}
seed_azurite

psql -X -q -v ON_ERROR_STOP=1 \
    -v s3_endpoint="$TELEM_S3_ENDPOINT" -v s3_key="$TELEM_S3_ACCESS_KEY" \
    -v s3_secret="$TELEM_S3_SECRET_KEY" -v az_endpoint="$TELEM_AZURE_BLOB_ENDPOINT" \
    -v az_ca="$TELEM_AZURE_CA_FILE" -v az_key="$TELEM_AZURE_KEY" <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
CREATE SERVER rgw FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', region 'us-east-1', endpoint :'s3_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER rgw
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
CREATE SERVER azurite FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER azurite OPTIONS (account_key :'az_key');
SQL

# --- helpers -----------------------------------------------------------------
# curl_config KIND SET PREFIX: a curl config (-K) with one url per object of
# SET under PREFIX. KIND: s3-get, az-get (output /dev/null), s3-put, az-put
# (upload the local files), s3-del, az-del (url only).
curl_config() {
    local kind=$1 set=$2 prefix=$3 key
    while read -r key _; do
        case $kind in
            s3-*) printf 'url = "%s/bench/%s%s"\n' "$TELEM_S3_ENDPOINT" "$prefix" "$key" ;;
            az-*) printf 'url = "%s/%s%s?%s"\n' "$TELEM_AZURE_BLOB_ENDPOINT" "$prefix" "$key" \
                "$TELEM_AZURE_SAS" ;;
        esac
        case $kind in
            *-get) echo 'output = /dev/null' ;;
            *-put) printf 'upload-file = "%s/%s/%s"\noutput = /dev/null\n' "$data" "$set" "$key" ;;
        esac
    done <"$state/$set.md5"
}

# CPU ticks so far of the PostgreSQL backends (exited children of the
# postmaster: its cutime + cstime), Azurite, RGW (radosgw + osd).
pg_pid=$(head -n 1 "$state/pg/data/postmaster.pid")
az_pid=$(cat "$state/azurite/azurite.pid")
rgw_pids=("$(cat "$state/ceph/run/rgw.pid")" "$(cat "$state/ceph/run/osd.pid")")
ticks() {  # ticks PID FIELD... (fields of /proc/PID/stat after the comm)
    local pid=$1 stat
    shift
    stat=$(<"/proc/$pid/stat")
    read -r -a f <<<"${stat##*) }"
    local sum=0 i
    for i in "$@"; do sum=$((sum + f[i - 3])); done
    echo "$sum"
}
cpu_now() {
    echo "$(ticks "$pg_pid" 16 17) $(ticks "$az_pid" 14 15)" \
        "$(($(ticks "${rgw_pids[0]}" 14 15) + $(ticks "${rgw_pids[1]}" 14 15)))"
}

# restart_azurite: a fresh Azurite (new port, CA and SAS), seeded again. Azurite
# frees the memory of deleted blobs only in its garbage collection, every 10
# minutes: without a restart, each round would keep ~4.5 GB more in its RAM.
restart_azurite() {
    bash "$root/test/harness/azurite.sh" stop "$state" >>"$state/services.log" 2>&1
    bash "$root/test/harness/azurite.sh" start "$state" >>"$state/services.log" 2>&1 ||
        die "could not restart Azurite (see $state/services.log)"
    # shellcheck disable=SC1091
    source "$state/env.sh"
    az_pid=$(cat "$state/azurite/azurite.pid")
    seed_azurite
    psql -X -q -v ON_ERROR_STOP=1 -v az_endpoint="$TELEM_AZURE_BLOB_ENDPOINT" \
        -v az_ca="$TELEM_AZURE_CA_FILE" <<'SQL'
ALTER SERVER azurite OPTIONS (SET endpoint :'az_endpoint', SET ca_file :'az_ca');
SQL
}

results=$state/results.tsv
: >"$results"
# timed CASE RUN SET COMMAND...: runs COMMAND (stdout to $state/out), appends
# CASE RUN SET SECONDS PG_CPU AZ_CPU RGW_CPU.
timed() {
    local name=$1 run=$2 set=$3 t0 t1 c0 c1
    shift 3
    c0=$(cpu_now)
    t0=$EPOCHREALTIME
    "$@" >"$state/out" || die "$name (run $run) failed: $(head -c 2000 "$state/out")"
    t1=$EPOCHREALTIME
    sleep 0.2  # let the postmaster reap the backend, so its CPU is counted
    c1=$(cpu_now)
    read -r -a a <<<"$c0"
    read -r -a b <<<"$c1"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$set" \
        "$(python3 -c "print(f'{$t1 - $t0:.4f}')")" \
        "$((b[0] - a[0]))" "$((b[1] - a[1]))" "$((b[2] - a[2]))" >>"$results"
}

# transfer SRC_KIND SET TARGET_PREFIX BLOCK_MB: the psql command of one copy
transfer_sql() {
    local src_kind=$1 set=$2 prefix=$3 block=$4 src tgt
    if [[ $src_kind == s3 ]]; then
        src="s3://bench/$set/" tgt=$(azure_loc dst "$prefix")
        echo "SELECT * FROM telem.transfer('$src', '$tgt', 'rgw', 'azurite', block_size_mb => $block)"
    else
        src=$(azure_loc src "$set/") tgt="s3://bench/$prefix"
        echo "SELECT * FROM telem.transfer('$src', '$tgt', 'azurite', 'rgw', block_size_mb => $block)"
    fi
}

# check_row CASE SET copy|rerun: the result row in $state/out: a copy copied
# all of SET, a rerun skipped all of it; nothing failed or was deleted.
check_row() {
    local name=$1 set=$2 what=$3 copied bytes skipped bskipped failed deleted error
    IFS='|' read -r copied bytes skipped bskipped failed deleted error <"$state/out"
    local n=${set_count[$set]} nb=${set_bytes[$set]} want
    if [[ $what == copy ]]; then want="$n|$nb|0|0"; else want="0|0|$n|$nb"; fi
    [[ "$copied|$bytes|$skipped|$bskipped" == "$want" && $failed == 0 && $deleted == 0 &&
        -z $error ]] ||
        die "$name: transfer result '$(cat "$state/out")', want copied|bytes|skipped|bytes = $want"
}

# verify STORE SET PREFIX: every object of SET is under PREFIX with the
# local file's MD5, and nothing else is (downloads everything once more).
verify() {
    local store=$1 set=$2 prefix=$3 got=$state/got.md5 key
    if [[ $store == az ]]; then
        "${az[@]}" md5 dst "$prefix" | sed "s|^$prefix||" | sort >"$got"
    else
        rm -rf "$state/verify" && mkdir -p "$state/verify"
        [[ $("${s3[@]}" ls bench "$prefix" | wc -l) == "${set_count[$set]}" ]] ||
            die "$prefix: wrong object count in RGW"
        while read -r key _; do
            printf 'url = "%s/bench/%s%s"\noutput = "%s/verify/%s"\n' \
                "$TELEM_S3_ENDPOINT" "$prefix" "$key" "$state" "$key"
        done <"$state/$set.md5" >"$state/verify.cfg"
        "${s3curl[@]}" -K "$state/verify.cfg"
        (cd "$state/verify" && md5sum -- * | awk '{ print $2, $1 }' | sort) >"$got"
        rm -rf "$state/verify"
    fi
    diff -q "$state/$set.md5" "$got" >/dev/null ||
        die "$store $prefix: copied objects differ from the source ($(diff "$state/$set.md5" "$got" | head -n 4 | tr '\n' ' '))"
}

# clean STORE SET PREFIX: delete the copy (not timed; frees the stores' RAM)
clean() {
    local store=$1 set=$2 prefix=$3
    if [[ $store == az ]]; then
        curl_config az-del "$set" "dst/$prefix" >"$state/del.cfg"
        "${azcurl[@]}" -X DELETE -K "$state/del.cfg" >/dev/null
    else
        curl_config s3-del "$set" "$prefix" >"$state/del.cfg"
        "${s3curl[@]}" -X DELETE -K "$state/del.cfg" >/dev/null
    fi
}

psql_row() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }

# --- 3. cases ------------------------------------------------------------------
# NAME|SET|KIND|ARG: KIND get/put (curl, ARG = s3 or az) or xfer (ARG =
# SOURCE_STORE:BLOCK_MB) or rerun (the small S3 -> Azure copy once more).
cases=(
    "download_s3|big|get|s3" "download_az|big|get|az" "upload_az|big|put|az" "upload_s3|big|put|s3"
    "s3_az_8|big|xfer|s3:8" "s3_az_4|big|xfer|s3:4" "s3_az_16|big|xfer|s3:16" "az_s3_8|big|xfer|az:8"
    "download_s3|small|get|s3" "download_az|small|get|az" "upload_az|small|put|az" "upload_s3|small|put|s3"
    "s3_az_8|small|xfer|s3:8" "s3_az_8_rerun|small|rerun|s3:8" "az_s3_8|small|xfer|az:8"
)
for ((run = 1; run <= runs; run++)); do
    if ((run > 1)); then
        log "restarting Azurite (frees the previous round's copies) and seeding it again"
        restart_azurite
    fi
    log "round $run of $runs (${#cases[@]} cases)"
    for c in "${cases[@]}"; do
        IFS='|' read -r name set kind arg <<<"$c"
        prefix=copy/run$run/$name/$set/
        case $kind in
            get)
                if [[ $arg == s3 ]]; then
                    curl_config s3-get "$set" "$set/" >"$state/case.cfg"
                    timed "$name" "$run" "$set" "${s3curl[@]}" -K "$state/case.cfg"
                else
                    curl_config az-get "$set" "src/$set/" >"$state/case.cfg"
                    timed "$name" "$run" "$set" "${azcurl[@]}" -K "$state/case.cfg"
                fi ;;
            put)
                if [[ $arg == s3 ]]; then
                    curl_config s3-put "$set" "$prefix" >"$state/case.cfg"
                    timed "$name" "$run" "$set" "${s3curl[@]}" -K "$state/case.cfg"
                else
                    curl_config az-put "$set" "dst/$prefix" >"$state/case.cfg"
                    timed "$name" "$run" "$set" "${azcurl[@]}" -H 'x-ms-blob-type: BlockBlob' \
                        -K "$state/case.cfg"
                fi
                clean "$arg" "$set" "$prefix" ;;
            xfer | rerun)
                src_store=${arg%:*} block=${arg#*:}
                tgt_store=$([[ $src_store == s3 ]] && echo az || echo s3)
                [[ $kind == rerun ]] && prefix=copy/run$run/s3_az_8/$set/
                sql=$(transfer_sql "$src_store" "$set" "$prefix" "$block")
                timed "$name" "$run" "$set" psql_row "$sql"
                if [[ $kind == rerun ]]; then
                    check_row "$name" "$set" rerun
                    clean az "$set" "$prefix"
                    continue
                fi
                check_row "$name" "$set" copy
                if ((run == 1)); then
                    log "verifying $name ($set): MD5 of every copied object"
                    verify "$tgt_store" "$set" "$prefix"
                fi
                # the small S3 -> Azure copy stays for its rerun
                [[ $name == s3_az_8 && $set == small ]] || clean "$tgt_store" "$set" "$prefix" ;;
        esac
    done
done

# --- 4. report -----------------------------------------------------------------
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)
info="telem_fdw $rev; $(psql -X -A -t -c 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /');"
info+=" Azurite $(node -p 'require("'"$root"'/test/node_modules/azurite/package.json").version' 2>/dev/null || echo '?');"
info+=" curl $(curl --version | head -n 1 | cut -d' ' -f2); $(nproc) cores;"
info+=" load average (1/5/15 min) before $load_before, after $load_after"
python3 - "$results" "$runs" "$markdown" "$info" \
    "${set_count[big]}" "${set_bytes[big]}" "${set_count[small]}" "${set_bytes[small]}" <<'PY'
import statistics
import sys

results, runs, markdown, info = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "--markdown", sys.argv[4]
count = {"big": int(sys.argv[5]), "small": int(sys.argv[7])}
size = {"big": int(sys.argv[6]), "small": int(sys.argv[8])}
DESC = {
    "download_s3": "curl GET from S3 (RGW)",
    "download_az": "curl GET from Azure (Azurite)",
    "upload_az": "curl PUT to Azure (Azurite)",
    "upload_s3": "curl PUT to S3 (RGW)",
    "s3_az_8": "telem.transfer S3 -> Azure, 8 MB blocks",
    "s3_az_4": "telem.transfer S3 -> Azure, 4 MB blocks",
    "s3_az_16": "telem.transfer S3 -> Azure, 16 MB blocks",
    "az_s3_8": "telem.transfer Azure -> S3, 8 MB parts",
    "s3_az_8_rerun": "telem.transfer S3 -> Azure, rerun (0 to copy)",
}
times, cpu = {}, {}
with open(results) as f:
    for line in f:
        name, _run, st, secs, pg, az, rgw = line.rstrip("\n").split("\t")
        times.setdefault((st, name), []).append(float(secs))
        cpu.setdefault((st, name), []).append((float(secs), int(pg), int(az), int(rgw)))


def table(headers, rows):
    if markdown:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])
    w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(x) if i == 0 else c.rjust(x)
                                   for i, (c, x) in enumerate(zip(cells, w)))
    return "\n".join([line(headers), line(["-" * x for x in w])] + [line(r) for r in rows])


def best(st, name):
    return min(times[(st, name)])


for st in ("big", "small"):
    each = size[st] / count[st]
    print(f"\n{st} set: {count[st]} objects of {each / 2**20:g} MiB, "
          f"{size[st] / 1e6:.1f} MB; best and median of {runs} runs")
    if markdown:
        print()
    rows = []
    for name, desc in DESC.items():
        if (st, name) not in times:
            continue
        b, med = best(st, name), statistics.median(times[(st, name)])
        # CPU seconds in the best run: PostgreSQL backends, Azurite, RGW + OSD
        _, pg, az, rgw = min(cpu[(st, name)])
        mbs = "-" if name.endswith("rerun") else f"{size[st] / 1e6 / b:.0f}"
        rows.append([desc, f"{b:.3f}", f"{med:.3f}", mbs,
                     f"{pg / 100:.1f} / {az / 100:.1f} / {rgw / 100:.1f}"])
    print(table(["case", "best s", "median s", "MB/s", "CPU s: PG / Azurite / RGW"], rows))

print("\nratios (download s / transfer s of the same objects from the source store;"
      " 1.00 = as fast as a plain download)")
if markdown:
    print()
rows = []
for st in ("big", "small"):
    for name, base in (("s3_az_8", "download_s3"), ("s3_az_4", "download_s3"),
                       ("s3_az_16", "download_s3"), ("az_s3_8", "download_az")):
        if (st, name) not in times:
            continue
        d, t = best(st, base), best(st, name)
        rows.append([f"{st}: {DESC[name][len('telem.transfer '):]} vs {DESC[base]}",
                     f"{d:.3f} / {t:.3f}", f"{d / t:.2f}x"])
    # the plain-tools copy: GET then PUT of the same objects, one after the other
    for name, down, up in (("s3_az_8", "download_s3", "upload_az"),
                           ("az_s3_8", "download_az", "upload_s3")):
        if (st, name) not in times:
            continue
        d = best(st, down) + best(st, up)
        t = best(st, name)
        rows.append([f"{st}: {DESC[name][len('telem.transfer '):]} vs curl GET + curl PUT",
                     f"{d:.3f} / {t:.3f}", f"{d / t:.2f}x"])
print(table(["ratio", "seconds", "ratio"], rows))
print(f"\n{info}")
print("every transfer copied every object (result rows checked on every run);"
      " target MD5s matched the source on run 1")
PY
