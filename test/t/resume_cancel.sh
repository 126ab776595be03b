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
# 3. Step 1 again for Azure blobs (Azurite over https).
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

# The planner's sample reads the head of the object through the proxy too,
# and would use up the connections it breaks: count the scan's resumes alone.
export PGOPTIONS="${PGOPTIONS:-} -c telem_fdw.plan_sample=off"

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

# 3. The same over Azure (Azurite, https): a blob download cut short is
#    resumed with Range and If-Match, through a TCP proxy in front of the TLS
#    port (the certificate names 127.0.0.1, which the proxy also is).
az=(python3 "$TEST_DIR/harness/az.py")
"${az[@]}" mb telem-resume >/dev/null
"${az[@]}" put telem-resume plain/big.jsonl "$work/big.jsonl" >/dev/null
"${az[@]}" put telem-resume gz/big.jsonl.gz "$work/big.jsonl.gz" >/dev/null
az_authority=${TELEM_AZURE_BLOB_ENDPOINT#https://}
az_authority=${az_authority%%/*}
make_az_table() {
	psql_q -q <<SQL
DROP SERVER IF EXISTS srv_az CASCADE;
CREATE SERVER srv_az FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint 'https://$1/devstoreaccount1',
           ca_file '$TELEM_AZURE_CA_FILE', max_retries '5');
CREATE USER MAPPING FOR CURRENT_USER SERVER srv_az OPTIONS (account_key '$TELEM_AZURE_KEY');
CREATE FOREIGN TABLE az_flaky (rpm int8 OPTIONS (json_path 'engine.rpm'))
  SERVER srv_az OPTIONS (location 'abfss://telem-resume@devstoreaccount1.dfs.core.windows.net/$2/',
                         format 'jsonl');
SQL
}
for mode in reset close; do
	for prefix in plain gz; do
		start_proxy --upstream "$az_authority" --fail-connections 3 --fail-after 1000000 --mode "$mode"
		make_az_table "127.0.0.1:$PROXY_PORT" "$prefix"
		plan=$(psql_q -c 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
		                  SELECT count(*), sum(rpm) FROM az_flaky')
		got=$(psql_q -c 'SELECT count(*), sum(rpm) FROM az_flaky')
		stop_proxy
		check_eq "$got" "$want" "azure: $prefix blob through a proxy that breaks connections ($mode)"
		resumes=$(sed -n 's/.*Telem Resumes: \([0-9]*\).*/\1/p' <<<"$plan")
		if [[ -n $resumes ]] && ((resumes >= 1)); then
			pass "azure: $prefix ($mode): $resumes Range resumes"
		else
			fail "azure: $prefix ($mode): expected >= 1 resume, plan was: $plan"
		fi
	done
done
psql_q -q -c 'DROP SERVER IF EXISTS srv_az CASCADE'
"${az[@]}" rm telem-resume plain/big.jsonl || true
"${az[@]}" rm telem-resume gz/big.jsonl.gz || true

psql_q -q -c 'DROP SERVER IF EXISTS srv_direct CASCADE; DROP SERVER IF EXISTS srv_flaky CASCADE; DROP SERVER IF EXISTS srv_stalled CASCADE'
bash "$TEST_DIR/harness/s3.sh" rm telem-resume plain/big.jsonl || true
bash "$TEST_DIR/harness/s3.sh" rm telem-resume gz/big.jsonl.gz || true
rm -rf "$work"
finish
