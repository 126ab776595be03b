#!/usr/bin/env bash
# test/t/transfer.sh STATE_DIR -- telem.transfer at scale, between processes
# and across kills: 500 objects (one of them 300 MB) S3 -> Azure and back.
#
#  1. builds 500 source objects under STATE_DIR/transfer: 499 small ones
#     (random bytes from 0 bytes to 400 KB, gzip'd JSONL from
#     gen_telemetry.py, names with spaces, unicode, "=" partitions and URL
#     punctuation) and one of 300 MB of random bytes whose key sorts in the
#     middle; uploads them to a fresh bucket;
#  2. transfers them S3 -> Azure in one session: 500 copied, bytes = total,
#     the backend's peak memory grew < 64 MB over its size before, and every
#     target blob's md5 (downloaded) equals its source file's;
#  3. reruns: nothing copied, 500 skipped;
#  4. replaces one object in S3: the rerun copies exactly it, new content;
#  5. kills a transfer to a new prefix while the 300 MB object is half
#     copied (pg_terminate_backend, then kill -9 on another prefix): no
#     ledger rows, exactly the objects before the big one are in the target,
#     the big one is not; a rerun adopts those, copies the rest, and the
#     target equals the source, every ledger row's blob exists;
#  6. Azure -> S3 with 5 MB parts: 500 copied, the 300 MB object comes back
#     as 60 parts with its md5; every small object's ETag is its md5, and
#     some are downloaded and compared;
#  7. mirror_deletes: a deleted source object stays in the target without
#     it and goes (blob and ledger row) with it;
#  8. telem.run_log has exactly one kind='transfer' row per completed run,
#     with the counts the run returned.
# Bucket xfer-src / xfer-back and container xfer-lake are this test's own;
# they are emptied at the start and removed at the end.
source "$(dirname "$0")/../lib/common.sh"
here=$TEST_DIR
work="$STATE_DIR/transfer"
src_dir="$work/src"
az_py="$here/harness/az.py"
s3() { bash "$here/harness/s3.sh" "$@"; }
az() { python3 "$az_py" "$@"; }

bucket=xfer-src
back_bucket=xfer-back
container=xfer-lake
lake="abfss://$container@devstoreaccount1.dfs.core.windows.net"
source_loc="s3://$bucket/data/"
big_rel="m/big-300mb.bin"
big_mb=300
t_start=$SECONDS
step() { echo "== $* (at $((SECONDS - t_start)) s)"; }

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

# az_rb CONTAINER: delete a container with all its blobs (missing: fine)
az_rb() {
	python3 - "$az_py" "$1" <<'EOF'
import importlib.util, sys, types
spec = importlib.util.spec_from_file_location("az", sys.argv[1])
az = importlib.util.module_from_spec(spec)
spec.loader.exec_module(az)
cfg = az.Config(types.SimpleNamespace(sas=None, bearer=None))
az.Client(cfg).request("DELETE", sys.argv[2], query=[("restype", "container")],
                       ok=(202,), ok_codes=("ContainerNotFound",))
EOF
}

# s3_rb BUCKET: delete every object of a bucket, then the bucket (missing:
# fine). One curl process, parallel DELETEs, signed as s3.sh signs.
s3_rb() {
	local cfg
	cfg=$(mktemp)
	s3 ls "$1" 2>/dev/null | python3 -c '
import sys, urllib.parse as u
base = sys.argv[1]
for k in sys.stdin.read().split("\n"):
    if k:
        print("url = \"%s/%s\"" % (base, u.quote(k, safe="/")))
        print("output = /dev/null")' "$TELEM_S3_ENDPOINT/$1" >"$cfg" || true
	if [[ -s $cfg ]]; then
		curl -sS --no-progress-meter --noproxy '*' --globoff -Z --parallel-max 16 -X DELETE \
			--aws-sigv4 "aws:amz:${TELEM_S3_REGION:-us-east-1}:s3" \
			--user "$TELEM_S3_ACCESS_KEY:$TELEM_S3_SECRET_KEY" \
			-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -K "$cfg" || true
	fi
	rm -f "$cfg"
	s3 rb "$1" >/dev/null 2>&1 || true
}

# local_md5 DIR PREFIX: "PREFIX<path relative to DIR> md5" per file, C-sorted
local_md5() {
	python3 - "$1" "$2" <<'EOF' | LC_ALL=C sort
import hashlib, os, sys
top, prefix = sys.argv[1:]
for root, _, files in os.walk(top):
    for f in files:
        p = os.path.join(root, f)
        h = hashlib.md5()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        print("%s%s %s" % (prefix, os.path.relpath(p, top), h.hexdigest()))
EOF
}

# az_md5 PREFIX: "key md5" of every blob under PREFIX in the container, C-sorted
az_md5() { az md5 "$container" "$1" | LC_ALL=C sort; }
# az_keys PREFIX: blob names under PREFIX, C-sorted
az_keys() { az ls "$container" "$1" | sed -E 's/ [0-9]+ [^ ]+$//' | LC_ALL=C sort; }

# same_lines LABEL A B: A and B (files) hold the same lines
same_lines() {
	local diffs n
	n=$(wc -l <"$2")
	diffs=$(LC_ALL=C comm -3 "$2" "$3" | wc -l)
	if ((diffs == 0 && n > 0)); then
		pass "$1 ($n equal)"
	else
		fail "$1: $diffs lines differ of $n; first differences:"
		LC_ALL=C comm -3 "$2" "$3" | sed -n 1,6p
	fi
}

declare -a expected_log=()
# xfer SRC TARGET SRC_SERVER TARGET_SERVER [EXTRA_SQL_ARGS]: one run; sets
# res to copied|bytes|skipped|bytes_skipped|failed|deleted|error and
# remembers it for the run log check (so: not in a subshell)
xfer() {
	local r
	r=$(psql_q -c "SELECT objects_copied, bytes_copied, objects_skipped, bytes_skipped,
	                      objects_failed, objects_deleted, coalesce(error, '')
	                 FROM telem.transfer('$1', '$2', '$3', '$4'${5:+, $5})") || r="psql failed"
	expected_log+=("$1 -> $2|$r")
	res=$r
}
# fields LIST: those fields of res
fields() { cut -d'|' -f"$1" <<<"$res"; }

# start_paused_transfer TAG TARGET: a transfer from the source to TARGET in
# the background with telem_fdw.pause_at = mid_transfer; returns once it
# waits there with runner (the psql pid) and pid (the backend's)
start_paused_transfer() {
	pid=""
	PGOPTIONS="-c telem_fdw.pause_at=mid_transfer -c telem_fdw.pause_seconds=120" \
		psql_q -c "SELECT * FROM telem.transfer('$source_loc', '$2', 'xt_s3', 'xt_az') /* $1 */" \
		>"$work/$1.out" 2>&1 &
	runner=$!
	for _ in $(seq 600); do
		pid=$(psql_q -c "SELECT pid FROM pg_stat_activity
		                  WHERE application_name = 'telem_pause:mid_transfer'
		                    AND query LIKE '%/* $1 */%'")
		[[ -n $pid ]] && return 0
		kill -0 "$runner" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
# 1. the source objects
# ---------------------------------------------------------------------------
step "1. the source objects"
rm -rf "$work"
mkdir -p "$src_dir"
az_rb "$container"
s3_rb "$bucket"
s3_rb "$back_bucket"
psql_q -q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
DROP SERVER IF EXISTS xt_s3 CASCADE;
DROP SERVER IF EXISTS xt_az CASCADE;
DELETE FROM telem.transfer_ledger WHERE source LIKE 's3://$bucket/%' OR source LIKE '$lake/%';
CREATE SERVER xt_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint '$TELEM_S3_ENDPOINT');
CREATE USER MAPPING FOR CURRENT_USER SERVER xt_s3
  OPTIONS (access_key_id '$TELEM_S3_ACCESS_KEY', secret_access_key '$TELEM_S3_SECRET_KEY');
CREATE SERVER xt_az FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint '$TELEM_AZURE_BLOB_ENDPOINT', ca_file '$TELEM_AZURE_CA_FILE');
CREATE USER MAPPING FOR CURRENT_USER SERVER xt_az OPTIONS (account_key '$TELEM_AZURE_KEY');
SQL
log_start=$(psql_q -c "SELECT coalesce(max(run_id), 0) FROM telem.run_log")

python3 "$here/gen_telemetry.py" --rows 60000 --devices 40 > "$work/telemetry.jsonl"
python3 - "$src_dir" "$work/telemetry.jsonl" <<'EOF'
import gzip, os, random, sys
top, telemetry = sys.argv[1:]
rnd = random.Random(20261121)
n = 0
def put(rel, data):
    global n
    p = os.path.join(top, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    n += 1
put("empty/zero.bin", b"")
for i in range(1, 241):          # random bytes: 1 B .. 1 KB and 1 KB .. 400 KB
    size = rnd.randint(1, 1000) if i % 3 == 0 else rnd.randint(1024, 400 * 1024)
    put("logs/obj-%04d.bin" % i, rnd.randbytes(size))
odd = ["file with spaces 01.txt", "file with spaces 02.txt", "  leading spaces.txt",
       "Müller ß 日本語 データ.json", "émoji 🚚 truck.txt", "site=München/day=21/part-1.jsonl",
       "site=a b/day=22/part 2.jsonl", "k=v=w/x=1.txt", "plus+sign.txt",
       "percent%20literal.txt", "amp&semi;colon.txt", "paren(1) [2] {3}.txt",
       "tilde~caret^.txt", "quote'single.txt", "comma,at@dollar$.txt",
       "deep/a/b/c/d/e/f.txt", "CAPS.TXT", "dots..in..name.txt", "hash#mark.txt"]
for name in odd:
    put("odd names/" + name, ("%s\n" % name).encode() * rnd.randint(1, 2000))
with open(telemetry, "rb") as f:
    lines = f.read().splitlines(keepends=True)
pos = 0
for i in range(1, 240):          # gzip'd JSONL, 1 .. 900 lines each
    k = rnd.randint(1, 900)
    chunk = b"".join(lines[pos % len(lines):pos % len(lines) + k]) or lines[0]
    pos += k
    put("telemetry/year=2026/month=11/day=%02d/part-%04d.jsonl.gz" % (1 + i % 30, i),
        gzip.compress(chunk, mtime=0))
print("generated %d small objects" % n)
EOF
rm -f "$work/telemetry.jsonl"
mkdir -p "$(dirname "$src_dir/$big_rel")"
openssl rand -out "$src_dir/$big_rel" $((big_mb * 1024 * 1024))
n_src=$(find "$src_dir" -type f | wc -l)
total_bytes=$(find "$src_dir" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
check_eq "$n_src" 500 "500 source objects generated"
s3 mb "$bucket" >/dev/null
# s3.sh hands local file names to curl -T, which globs [] and {}: upload
# those files from stdin, and the rest (hard links) with putdir
rm -rf "$work/stage"
cp -al "$src_dir" "$work/stage"
find "$work/stage" -type f -name '*[][{}]*' -delete
s3 putdir "$bucket" data/ "$work/stage"
rm -rf "$work/stage"
while IFS= read -r -d '' f; do
	s3 put "$bucket" "data/${f#"$src_dir"/}" - <"$f"
done < <(find "$src_dir" -type f -name '*[][{}]*' -print0)
az mb "$container"
local_md5 "$src_dir" "" >"$work/src.md5"
n_listed=$(psql_q -c "SELECT count(*) || '|' || sum(size) FROM telem.store_objects('xt_s3', '$source_loc')")
check_eq "$n_listed" "500|$total_bytes" "the source bucket lists 500 objects, $total_bytes bytes"
# where the 300 MB object falls in the transfer's (collation) order
before_big=$(psql_q -c "SELECT count(*) FROM telem.store_objects('xt_s3', '$source_loc')
                         WHERE key < 'data/$big_rel'")
echo "the 300 MB object comes after $before_big objects, before $((499 - before_big))"
((before_big > 100 && before_big < 400)) || fail "the big object's key does not sort in the middle"

# ---------------------------------------------------------------------------
# 2. S3 -> Azure, with bounded backend memory, every md5 equal
# ---------------------------------------------------------------------------
step "2. S3 -> Azure, with bounded backend memory, every md5 equal"
main="$lake/main/"
out=$(psql_q <<SQL
\set QUIET on
CREATE FUNCTION pg_temp.kb(field text) RETURNS int8 LANGUAGE sql AS
\$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), field || ':\s+(\d+) kB'))[1]::int8 \$\$;
SELECT pg_temp.kb('VmRSS');
SELECT objects_copied, bytes_copied, objects_skipped, bytes_skipped, objects_failed,
       objects_deleted, coalesce(error, '')
  FROM telem.transfer('$source_loc', '$main', 'xt_s3', 'xt_az');
SELECT pg_temp.kb('VmHWM');
SQL
) || fail "the first transfer's session failed"
echo "$out"
rss_before=$(sed -n 1p <<<"$out")
r=$(sed -n 2p <<<"$out")
hwm_after=$(sed -n 3p <<<"$out")
expected_log+=("$source_loc -> $main|$r")
check_eq "$r" "500|$total_bytes|0|0|0|0|" "S3 -> Azure: 500 copied, $total_bytes bytes, none failed"
if [[ $rss_before =~ ^[0-9]+$ && $hwm_after =~ ^[0-9]+$ ]]; then
	growth_mb=$(((hwm_after - rss_before) / 1024))
	echo "backend RSS before: ${rss_before} kB, peak after: ${hwm_after} kB, growth: ${growth_mb} MB"
	if ((growth_mb < 64)); then
		pass "backend memory grew by ${growth_mb} MB copying $big_mb MB (limit 64 MB)"
	else
		fail "backend memory grew by ${growth_mb} MB copying $big_mb MB (limit 64 MB)"
	fi
else
	fail "no memory figures: '$rss_before' '$hwm_after'"
fi
local_md5 "$src_dir" main/ >"$work/want.md5"
az_md5 main/ >"$work/got.md5"
same_lines "S3 -> Azure: every target blob's md5 equals its source's" "$work/want.md5" "$work/got.md5"
check_eq "$(psql_q -c "SELECT count(*) FROM telem.transfer_ledger WHERE target = '$main'")" 500 \
	"the ledger has 500 rows for the target"

# ---------------------------------------------------------------------------
# 3. a rerun copies nothing
# ---------------------------------------------------------------------------
step "3. a rerun copies nothing"
xfer "$source_loc" "$main" xt_s3 xt_az
check_eq "$res" "0|0|500|$total_bytes|0|0|" \
	"rerun: 0 copied, 500 skipped"

# ---------------------------------------------------------------------------
# 4. an object replaced in place is copied again, alone
# ---------------------------------------------------------------------------
step "4. an object replaced in place is copied again, alone"
changed_rel="odd names/Müller ß 日本語 データ.json"
printf '{"replaced": true, "n": %d}\n' $(seq 1 3000) >"$src_dir/$changed_rel"
s3 put "$bucket" "data/$changed_rel" "$src_dir/$changed_rel"
changed_size=$(stat -c %s "$src_dir/$changed_rel")
total_bytes=$(find "$src_dir" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
xfer "$source_loc" "$main" xt_s3 xt_az
check_eq "$(fields 1,2,3,5)" "1|$changed_size|499|0" \
	"a replaced object: exactly it is copied again"
want=$(md5sum <"$src_dir/$changed_rel" | cut -d' ' -f1)
got=$(az md5 "$container" "main/$changed_rel" | awk -v k="main/$changed_rel" \
	'{ m = $NF; sub(/ [^ ]+$/, ""); if ($0 == k) print m }')
check_eq "$got" "$want" "the replaced object's target has the new content"
local_md5 "$src_dir" "" >"$work/src.md5"

# ---------------------------------------------------------------------------
# 5. a transfer killed mid-object, then rerun
# ---------------------------------------------------------------------------
step "5. a transfer killed mid-object, then rerun"
# the target keys a run gets to before the big object: those before it in
# the transfer's order
psql_q -c "SELECT substr(key, 6) FROM telem.store_objects('xt_s3', '$source_loc')
            WHERE key < 'data/$big_rel'" | LC_ALL=C sort >"$work/before_big.keys"
want_md5=$(grep -F "$big_rel " "$work/src.md5" | awk '{print $NF}')
for how in terminate kill9; do
	prefix="kill-$how/"
	target="$lake/$prefix"
	if ! start_paused_transfer "xfer-$how" "$target"; then
		fail "$how: the transfer never paused in the big object"
		cat "$work/xfer-$how.out"
		wait "$runner" || true
		continue
	fi
	step "$how: paused in the big object; killing backend $pid"
	kill_backend "$pid" "$how"
	wait "$runner" || true
	[[ $how == kill9 ]] && wait_sql_ready
	step "$how: killed"
	check_eq "$(psql_q -c "SELECT count(*) FROM telem.transfer_ledger WHERE target = '$target'")" 0 \
		"$how: the killed run left no ledger rows"
	az_keys "$prefix" >"$work/got.keys"
	sed "s|^|$prefix|" "$work/before_big.keys" >"$work/want.keys"
	same_lines "$how: the target holds exactly the objects before the big one" \
		"$work/want.keys" "$work/got.keys"
	if grep -qxF "$prefix$big_rel" "$work/got.keys"; then
		got=$(az md5 "$container" "$prefix$big_rel" | awk '{print $NF}')
		check_eq "$got" "$want_md5" "$how: the big object in the target is a complete version"
	else
		pass "$how: the big object was never committed to the target"
	fi
	xfer "$source_loc" "$target" xt_s3 xt_az
	step "$how: rerun done"
	check_eq "$(fields 1,3,5,7)" "$((500 - before_big))|$before_big|0|" \
		"$how: the rerun adopts the $before_big committed objects and copies the rest"
	local_md5 "$src_dir" "$prefix" >"$work/want.md5"
	az_md5 "$prefix" >"$work/got.md5"
	same_lines "$how: after the rerun every target md5 equals its source's" "$work/want.md5" "$work/got.md5"
	psql_q -c "SELECT target_key FROM telem.transfer_ledger WHERE target = '$target'" |
		LC_ALL=C sort >"$work/ledger.keys"
	az_keys "$prefix" >"$work/got.keys"
	same_lines "$how: every ledger row's target exists, and only those" "$work/ledger.keys" "$work/got.keys"
	az rm "$container" "$prefix$big_rel"  # free Azurite's memory
done

# ---------------------------------------------------------------------------
# 6. Azure -> S3 with 5 MB parts
# ---------------------------------------------------------------------------
step "6. Azure -> S3 with 5 MB parts"
s3 mb "$back_bucket" >/dev/null
back="s3://$back_bucket/back/"
xfer "$main" "$back" xt_az xt_s3 'block_size_mb => 5'
check_eq "$(fields 1,2,5,7)" \
	"500|$total_bytes|0|" "Azure -> S3 (5 MB parts): 500 copied, none failed"
got=$(s3 get "$back_bucket" "back/$big_rel" | md5sum | cut -d' ' -f1)
check_eq "$got" "$want_md5" "Azure -> S3: the 300 MB object's md5"
big_etag=$(psql_q -c "SELECT etag FROM telem.store_objects('xt_s3', '$back') WHERE key = 'back/$big_rel'")
big_etag=${big_etag//\"/}
check_eq "${big_etag##*-}" 60 "Azure -> S3: the 300 MB object was uploaded in 60 parts (ETag $big_etag)"
# single-PUT objects: the ETag S3 computed is the md5 of what it received
psql_q -c "SELECT substr(key, 6) || ' ' || replace(etag, '\"', '') FROM telem.store_objects('xt_s3', '$back')
            WHERE key <> 'back/$big_rel'" | LC_ALL=C sort >"$work/got.md5"
grep -vF "$big_rel " "$work/src.md5" >"$work/want.md5"
same_lines "Azure -> S3: every small object's ETag is its source md5" "$work/want.md5" "$work/got.md5"
# and some of them downloaded: the odd names, the empty one, a few others
bad=0
checked=0
while IFS= read -r rel; do
	got=$(s3 get "$back_bucket" "back/$rel" | md5sum | cut -d' ' -f1)
	want=$(md5sum <"$src_dir/$rel" | cut -d' ' -f1)
	checked=$((checked + 1))
	[[ $got == "$want" ]] || { bad=$((bad + 1)); echo "  differs: $rel"; }
done < <(cd "$src_dir" && { find "odd names" empty -type f; find logs telemetry -type f | sort | sed -n '1~40p'; })
check_eq "$bad" 0 "Azure -> S3: $checked downloaded small objects equal their sources"

# ---------------------------------------------------------------------------
# 7. deletes are mirrored only when asked
# ---------------------------------------------------------------------------
step "7. deletes are mirrored only when asked"
gone="odd names/file with spaces 01.txt"
s3 rm "$bucket" "data/$gone"
rm -f "$src_dir/$gone"
xfer "$source_loc" "$main" xt_s3 xt_az
check_eq "$(fields 1,3,5,6,7)" "0|499|0|0|" \
	"without mirror_deletes: nothing deleted"
check_eq "$(az_keys main/ | grep -cxF "main/$gone")" 1 "without mirror_deletes: the target keeps the blob"
xfer "$source_loc" "$main" xt_s3 xt_az 'mirror_deletes => true'
check_eq "$(fields 1,3,5,6,7)" \
	"0|499|0|1|" "with mirror_deletes: one deleted"
check_eq "$(az_keys main/ | grep -cxF "main/$gone" || true)" 0 "with mirror_deletes: the blob is gone"
check_eq "$(az_keys main/ | wc -l)" 499 "with mirror_deletes: the other 499 blobs stay"
check_eq "$(psql_q -v k="data/$gone" <<<"SELECT count(*) FROM telem.transfer_ledger
                                             WHERE target = '$main' AND key = :'k'")" 0 \
	"with mirror_deletes: the ledger row is gone"

# ---------------------------------------------------------------------------
# 8. the run log: one row per completed run, with its counts
# ---------------------------------------------------------------------------
step "8. the run log: one row per completed run, with its counts"
printf '%s\n' "${expected_log[@]}" >"$work/want.log"
psql_q -c "SELECT pipeline, objects, bytes, details->>'objects_skipped', details->>'bytes_skipped',
                  details->>'objects_failed', details->>'objects_deleted', coalesce(error, '')
             FROM telem.run_log
            WHERE run_id > $log_start AND kind = 'transfer'
              AND (pipeline LIKE 's3://$bucket/%' OR pipeline LIKE '$lake/%')
            ORDER BY run_id" >"$work/got.log"
if diff "$work/want.log" "$work/got.log" >/dev/null; then
	pass "run log: $(wc -l <"$work/got.log") transfer rows, one per completed run, counts as returned"
else
	fail "run log differs from the runs:"
	diff "$work/want.log" "$work/got.log" | sed -n 1,20p
fi

# ---------------------------------------------------------------------------
# clean up
# ---------------------------------------------------------------------------
step "clean up"
psql_q -q -c "SET client_min_messages = warning; DROP SERVER xt_s3 CASCADE; DROP SERVER xt_az CASCADE;
              DELETE FROM telem.transfer_ledger WHERE source LIKE 's3://$bucket/%' OR source LIKE '$lake/%'"
az_rb "$container"
s3_rb "$bucket"
s3_rb "$back_bucket"
rm -rf "$work"
echo "run time: $((SECONDS - t_start)) s"
finish
