#!/usr/bin/env bash
# test/t/memory_1gb.sh STATE_DIR -- a 1 GB (uncompressed) JSONL object is
# scanned from S3 with bounded backend memory.
#
# Writes ~1.05 GB of telemetry (a 9.5 MB block repeated 110 times), zstd-
# compressed, to RGW, scans it, and checks (a) the row count and a column sum
# are exact, (b) the backend's peak resident memory (VmHWM from
# /proc/self/status, read through pg_read_file in the same session) grew by
# less than 64 MB over its resident size before the scan.
source "$(dirname "$0")/../lib/common.sh"
here=$TEST_DIR
work="$STATE_DIR/memory_1gb"
mkdir -p "$work"

python3 "$here/gen_telemetry.py" --rows 40000 > "$work/block.jsonl"
block_bytes=$(stat -c %s "$work/block.jsonl")
repeat=110
for _ in $(seq $repeat); do cat "$work/block.jsonl"; done | zstd -q -1 -T2 -o "$work/big.jsonl.zst"
rm -f "$work/block.jsonl.sum"
expected_rows=$((40000 * repeat))
expected_sum=$(python3 "$here/gen_telemetry.py" --rows 40000 | python3 -c '
import json, sys
print(sum(json.loads(l)["engine"]["rpm"] for l in sys.stdin))')
expected_sum=$((expected_sum * repeat))
echo "object: $((block_bytes * repeat)) bytes uncompressed, $(stat -c %s "$work/big.jsonl.zst") compressed"
bash "$here/harness/s3.sh" mb telem-big >/dev/null 2>&1 || true
bash "$here/harness/s3.sh" put telem-big big/big.jsonl.zst "$work/big.jsonl.zst"
rm -f "$work/big.jsonl.zst"

out=$(psql_q <<SQL
\set QUIET on
SET client_min_messages = warning;
-- With a true row estimate this query costs enough for JIT, whose LLVM
-- would add ~50 MB of its own to the figure; the bound is the scan's.
SET jit = off;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
DROP SERVER IF EXISTS mem_s3 CASCADE;
CREATE SERVER mem_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint '$TELEM_S3_ENDPOINT');
CREATE USER MAPPING FOR CURRENT_USER SERVER mem_s3
  OPTIONS (access_key_id '$TELEM_S3_ACCESS_KEY', secret_access_key '$TELEM_S3_SECRET_KEY');
CREATE FOREIGN TABLE mem_big (device_id text, rpm int8 OPTIONS (json_path 'engine.rpm'))
  SERVER mem_s3 OPTIONS (location 's3://telem-big/big/', format 'jsonl');
CREATE FUNCTION pg_temp.kb(field text) RETURNS int8 LANGUAGE sql AS
\$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), field || ':\s+(\d+) kB'))[1]::int8 \$\$;
SELECT pg_temp.kb('VmRSS');
SELECT count(*), sum(rpm), count(DISTINCT device_id) FROM mem_big;
SELECT pg_temp.kb('VmHWM');
DROP SERVER mem_s3 CASCADE;
SQL
)
echo "$out"
rss_before=$(sed -n 1p <<<"$out")
result=$(sed -n 2p <<<"$out")
hwm_after=$(sed -n 3p <<<"$out")
growth_mb=$(((hwm_after - rss_before) / 1024))
echo "backend RSS before: ${rss_before} kB, peak after: ${hwm_after} kB, growth: ${growth_mb} MB"

check_eq "$result" "$expected_rows|$expected_sum|100" "rows, sum and devices of the 1 GB object"
if ((growth_mb < 64)); then
	pass "backend memory grew by ${growth_mb} MB (limit 64 MB)"
else
	fail "backend memory grew by ${growth_mb} MB (limit 64 MB)"
fi
bash "$here/harness/s3.sh" rm telem-big big/big.jsonl.zst || true
rm -rf "$work"
finish
