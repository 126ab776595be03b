#!/usr/bin/env bash
# test/t/resume_cancel.sh STATE_DIR -- downloads survive dropped connections,
# and a query can be cancelled while a download is stalled.
#
# 1. An 19 MB JSONL object and its gzip twin are read through flaky_proxy.py,
#    which breaks the first three connections after 1 MB (TCP reset, then
#    orderly close).  Each scan must return exactly the rows and sums of a
#    direct read, and EXPLAIN ANALYZE must show the Range resumes.
# 2. Through a proxy that stalls after 1 MB, a scan is cancelled with
#    pg_cancel_backend; it must end with "canceling statement due to user
#    request" well before curl's own 30 s stall timeout would end it.
source "$(dirname "$0")/../lib/common.sh"

work="$STATE_DIR/resume"
mkdir -p "$work"
python3 "$TEST_DIR/gen_telemetry.py" --rows 80000 --seed 7 > "$work/big.jsonl"
gzip -n -c "$work/big.jsonl" > "$work/big.jsonl.gz"
want=$(python3 -c '
import json, sys
n = s = 0
for l in open(sys.argv[1]):
    n += 1; s += json.loads(l)["engine"]["rpm"]
print(f"{n}|{s}")' "$work/big.jsonl")
bash "$TEST_DIR/harness/s3.sh" mb telem-resume >/dev/null 2>&1 || true
bash "$TEST_DIR/harness/s3.sh" put telem-resume plain/big.jsonl "$work/big.jsonl"
bash "$TEST_DIR/harness/s3.sh" put telem-resume gz/big.jsonl.gz "$work/big.jsonl.gz"

# make_table NAME ENDPOINT PREFIX
make_table() {
	psql_q -q <<SQL
CREATE EXTENSION IF NOT EXISTS telem_fdw;
DROP SERVER IF EXISTS srv_$1 CASCADE;
CREATE SERVER srv_$1 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint '$2', max_retries '5');
CREATE USER MAPPING FOR CURRENT_USER SERVER srv_$1
  OPTIONS (access_key_id '$TELEM_S3_ACCESS_KEY', secret_access_key '$TELEM_S3_SECRET_KEY');
CREATE FOREIGN TABLE $1 (rpm int8 OPTIONS (json_path 'engine.rpm'))
  SERVER srv_$1 OPTIONS (location 's3://telem-resume/$3/', format 'jsonl');
SQL
}

make_table direct "$TELEM_S3_ENDPOINT" plain
check_eq "$(psql_q -c 'SELECT count(*), sum(rpm) FROM direct')" "$want" "direct read"

for mode in reset close; do
	for prefix in plain gz; do
		start_proxy --fail-connections 3 --fail-after 1000000 --mode "$mode"
		make_table flaky "http://127.0.0.1:$PROXY_PORT" "$prefix"
		plan=$(psql_q -c 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
		                  SELECT count(*), sum(rpm) FROM flaky')
		got=$(psql_q -c 'SELECT count(*), sum(rpm) FROM flaky')
		stop_proxy
		check_eq "$got" "$want" "$prefix object through a proxy that breaks connections ($mode)"
		resumes=$(sed -n 's/.*Telem Resumes: \([0-9]*\).*/\1/p' <<<"$plan")
		if [[ -n $resumes ]] && ((resumes >= 2)); then
			pass "$prefix ($mode): $resumes Range resumes"
		else
			fail "$prefix ($mode): expected >= 2 resumes, plan was: $plan"
		fi
	done
done

# Every connection breaks before any progress: after max_retries attempts
# the scan fails with an error naming the location, never a short result.
start_proxy --fail-connections 1000 --fail-after 100 --mode reset
make_table flaky "http://127.0.0.1:$PROXY_PORT" plain
err=$(psql_q -c 'SELECT count(*) FROM flaky' 2>&1 || true)
stop_proxy
if grep -q 'ERROR:.*s3://telem-resume/plain/' <<<"$err" && grep -q 'after 5 retries' <<<"$err"; then
	pass "no progress: error after max_retries names the location"
else
	fail "no progress: got '$err'"
fi

# Cancel during a stalled download.
start_proxy --fail-connections 100 --fail-after 1000000 --mode stall
make_table stalled "http://127.0.0.1:$PROXY_PORT" plain
out="$work/cancel.out"
psql_q -c "SET application_name = 'telem_cancel_test'; SELECT count(*) FROM stalled" >"$out" 2>&1 &
qpid=$!
sleep 2
psql_q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'telem_cancel_test' AND state = 'active'" >/dev/null
ended=0
for _ in $(seq 200); do
	if ! kill -0 "$qpid" 2>/dev/null; then ended=1; break; fi
	sleep 0.1
done
stop_proxy
if ((ended == 1)) && grep -q "canceling statement due to user request" "$out"; then
	pass "a stalled download is cancellable"
else
	fail "cancel: ended=$ended, output: $(cat "$out")"
	kill "$qpid" 2>/dev/null || true
fi
# and the backend is fine afterwards
check_eq "$(psql_q -c 'SELECT count(*) FROM direct')" "${want%%|*}" "scan after cancel"

psql_q -q -c 'DROP SERVER IF EXISTS srv_direct CASCADE; DROP SERVER IF EXISTS srv_flaky CASCADE; DROP SERVER IF EXISTS srv_stalled CASCADE'
bash "$TEST_DIR/harness/s3.sh" rm telem-resume plain/big.jsonl || true
bash "$TEST_DIR/harness/s3.sh" rm telem-resume gz/big.jsonl.gz || true
rm -rf "$work"
finish
