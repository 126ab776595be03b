#!/usr/bin/env bash
# test/t/azure_tokens.sh STATE_DIR -- Entra ID token caching and refresh,
# observed from outside through the token service's GET /stats.
#
#  0. premise: a token from the token service works against Azurite and,
#     once TELEM_TOKEN_LIFETIME has passed, is refused on the wire;
#  1. client credentials: in one backend, the first query fetches exactly
#     one token, a query right after uses the cached one, a query after the
#     lifetime fetches a new one; a second backend fetches its own; every
#     query reads the same rows as with Shared Key;
#  2. managed identity (system-assigned): the same; a user-assigned identity
#     in the same backend gets a token of its own;
#  3. long operations spanning several lifetimes succeed, the bytes intact:
#     a. a 96 MB S3 -> Azure transfer in 1 MB blocks whose source is read
#        through a loopback proxy throttled to 6 MB/s (about 4 lifetimes):
#        several tokens are fetched during it;
#     b. an Azure -> Azure transfer (bearer auth on both ends) that waits
#        longer than a token lifetime mid-object (the mid_transfer pause
#        point with telem_fdw.pause_seconds = lifetime + 2): the blocks
#        after the wait and the commit need a new token.
# Container tok-lake and bucket tok-src are this test's own.
source "$(dirname "$0")/../lib/common.sh"
here=$TEST_DIR
work="$STATE_DIR/azure_tokens"
az_py="$here/harness/az.py"
az() { python3 "$az_py" "$@"; }
s3() { bash "$here/harness/s3.sh" "$@"; }
ep=$TELEM_TOKEN_ENDPOINT
life=$TELEM_TOKEN_LIFETIME
container=tok-lake
bucket=tok-src
vehicle='abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/vehicle/'
lake="abfss://$container@devstoreaccount1.dfs.core.windows.net"
t_start=$SECONDS
step() { echo "== $* (at $((SECONDS - t_start)) s)"; }

# counter FILE FIELD: a counter from a saved /stats answer (jq path, e.g.
# .client_credentials or .by_identity["mi:system"])
counter() { jq -r "($2) // 0" "$1"; }
save_stats() { curl -sS --noproxy '*' --fail "$ep/stats" >"$1"; }
# delta FIELD FROM TO: how much a counter grew between two saved answers
delta() { echo $(($(counter "$3" "$1") - $(counter "$2" "$1"))); }

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
s3_clear() { # BUCKET: delete its objects (few here) and the bucket
	local k
	while IFS= read -r k; do [[ -n $k ]] && s3 rm "$1" "$k"; done < <(s3 ls "$1" 2>/dev/null || true)
	s3 rb "$1" >/dev/null 2>&1 || true
}

rm -rf "$work"
mkdir -p "$work"
az_rb "$container"
s3_clear "$bucket"
az mb "$container"
s3 mb "$bucket" >/dev/null

psql_q -q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
DROP SERVER IF EXISTS tok_key CASCADE;
DROP SERVER IF EXISTS tok_cc CASCADE;
DROP SERVER IF EXISTS tok_mi CASCADE;
DROP SERVER IF EXISTS tok_mi_user CASCADE;
DROP SERVER IF EXISTS tok_s3_slow CASCADE;
DELETE FROM telem.transfer_ledger WHERE target LIKE '$lake/%';
-- the same Azure account four ways
CREATE SERVER tok_key FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint '$TELEM_AZURE_BLOB_ENDPOINT', ca_file '$TELEM_AZURE_CA_FILE');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok_key OPTIONS (account_key '$TELEM_AZURE_KEY');
CREATE SERVER tok_cc FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint '$TELEM_AZURE_BLOB_ENDPOINT', ca_file '$TELEM_AZURE_CA_FILE');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok_cc
  OPTIONS (tenant_id '$TELEM_AZURE_TENANT_ID', client_id '$TELEM_AZURE_CLIENT_ID',
           client_secret '$TELEM_AZURE_CLIENT_SECRET');
CREATE SERVER tok_mi FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint '$TELEM_AZURE_BLOB_ENDPOINT', ca_file '$TELEM_AZURE_CA_FILE');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok_mi OPTIONS (credential_source 'managed_identity');
CREATE SERVER tok_mi_user FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint '$TELEM_AZURE_BLOB_ENDPOINT', ca_file '$TELEM_AZURE_CA_FILE');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok_mi_user
  OPTIONS (credential_source 'managed_identity', client_id '$TELEM_AZURE_MI_CLIENT_ID');
CREATE FOREIGN TABLE tok_v_key (device_id text, speed_kmh float8) SERVER tok_key
  OPTIONS (location '$vehicle', format 'jsonl');
CREATE FOREIGN TABLE tok_v_cc (device_id text, speed_kmh float8) SERVER tok_cc
  OPTIONS (location '$vehicle', format 'jsonl');
CREATE FOREIGN TABLE tok_v_mi (device_id text, speed_kmh float8) SERVER tok_mi
  OPTIONS (location '$vehicle', format 'jsonl');
CREATE FOREIGN TABLE tok_v_mi_user (device_id text, speed_kmh float8) SERVER tok_mi_user
  OPTIONS (location '$vehicle', format 'jsonl');
SQL
q="SELECT count(*) || ' rows, ' || round(sum(speed_kmh)::numeric, 2)"
want_rows=$(psql_q -c "$q FROM tok_v_key")
echo "the seeded vehicle/ objects (Shared Key): $want_rows"

# ---------------------------------------------------------------------------
# 0. premise: Azurite refuses a token once it has expired
# ---------------------------------------------------------------------------
step "0. premise: an expired token is refused"
curl -sS --noproxy '*' --fail "$ep/$TELEM_AZURE_TENANT_ID/oauth2/v2.0/token" \
	--data-urlencode grant_type=client_credentials \
	--data-urlencode "client_id=$TELEM_AZURE_CLIENT_ID" \
	--data-urlencode "client_secret=$TELEM_AZURE_CLIENT_SECRET" \
	--data-urlencode scope=https://storage.azure.com/.default | jq -r .access_token >"$work/token"
chmod 600 "$work/token"
premise_t0=$SECONDS
if az --bearer "$work/token" ls telem-regress vehicle/ >/dev/null 2>&1; then
	pass "premise: a fresh token is accepted"
else
	fail "premise: a fresh token is refused"
fi
# (it is tried again, expired, after part 1, which sleeps past its lifetime)

# ---------------------------------------------------------------------------
# 1. client credentials: cached per backend, refreshed after the lifetime
# ---------------------------------------------------------------------------
step "1. client credentials"
save_stats "$work/cc0.json"
out=$(psql_q <<SQL
SET telem_fdw.azure_authority_host = '$ep';
$q FROM tok_v_cc;
\! curl -sS --noproxy '*' --fail '$ep/stats' >'$work/cc1.json'
$q FROM tok_v_cc;
\! curl -sS --noproxy '*' --fail '$ep/stats' >'$work/cc2.json'
SELECT pg_sleep($life + 1);
$q FROM tok_v_cc;
\! curl -sS --noproxy '*' --fail '$ep/stats' >'$work/cc3.json'
SQL
) || fail "client credentials: the session failed"
echo "$out" | grep -v '^SET$' | grep -v '^$'
check_eq "$(grep -c "^$want_rows\$" <<<"$out")" 3 "client credentials: all three queries read the same rows as Shared Key"
check_eq "$(delta .client_credentials "$work/cc0.json" "$work/cc1.json")" 1 \
	"client credentials: the first query fetched exactly one token"
check_eq "$(delta .client_credentials "$work/cc0.json" "$work/cc2.json")" 1 \
	"client credentials: a query right after used the cached token"
check_eq "$(delta .client_credentials "$work/cc0.json" "$work/cc3.json")" 2 \
	"client credentials: a query after the token's lifetime fetched a new one"
r=$(psql_q -c "SET telem_fdw.azure_authority_host = '$ep'" -c "$q FROM tok_v_cc" | tail -1) ||
	fail "client credentials: the second backend's query failed"
save_stats "$work/cc4.json"
check_eq "$r" "$want_rows" "client credentials: a second backend reads the rows"
check_eq "$(delta .client_credentials "$work/cc3.json" "$work/cc4.json")" 1 \
	"client credentials: a second backend fetched a token of its own"
check_eq "$(delta '.by_identity["app:'"$TELEM_AZURE_CLIENT_ID"'"]' "$work/cc0.json" "$work/cc4.json")" 3 \
	"client credentials: all 3 tokens were issued to the app"
check_eq "$(delta .refused "$work/cc0.json" "$work/cc4.json")" 0 "client credentials: nothing refused"

# the premise's token, now past its lifetime
sleep $((life + 1 - (SECONDS - premise_t0) > 0 ? life + 1 - (SECONDS - premise_t0) : 0))
if az --bearer "$work/token" ls telem-regress vehicle/ >"$work/expired.out" 2>&1; then
	fail "premise: Azurite accepted an expired token, so success below proves nothing"
elif grep -q "Lifetime validation failed" "$work/expired.out"; then
	pass "premise: Azurite refuses the expired token (Lifetime validation failed)"
else
	fail "premise: the expired token was refused for another reason: $(head -c 300 "$work/expired.out")"
fi
rm -f "$work/token"

# ---------------------------------------------------------------------------
# 2. managed identity: the same, and a token per identity
# ---------------------------------------------------------------------------
step "2. managed identity"
save_stats "$work/mi0.json"
out=$(psql_q <<SQL
SET telem_fdw.azure_imds_endpoint = '$ep';
$q FROM tok_v_mi;
\! curl -sS --noproxy '*' --fail '$ep/stats' >'$work/mi1.json'
$q FROM tok_v_mi;
\! curl -sS --noproxy '*' --fail '$ep/stats' >'$work/mi2.json'
SELECT pg_sleep($life + 1);
$q FROM tok_v_mi;
\! curl -sS --noproxy '*' --fail '$ep/stats' >'$work/mi3.json'
$q FROM tok_v_mi_user;
\! curl -sS --noproxy '*' --fail '$ep/stats' >'$work/mi4.json'
SQL
) || fail "managed identity: the session failed"
echo "$out" | grep -v '^SET$' | grep -v '^$'
check_eq "$(grep -c "^$want_rows\$" <<<"$out")" 4 "managed identity: all four queries read the same rows as Shared Key"
sys='.by_identity["mi:system"]'
check_eq "$(delta .managed_identity "$work/mi0.json" "$work/mi1.json")" 1 \
	"managed identity: the first query fetched exactly one token"
check_eq "$(delta .managed_identity "$work/mi0.json" "$work/mi2.json")" 1 \
	"managed identity: a query right after used the cached token"
check_eq "$(delta .managed_identity "$work/mi0.json" "$work/mi3.json")" 2 \
	"managed identity: a query after the token's lifetime fetched a new one"
check_eq "$(delta "$sys" "$work/mi0.json" "$work/mi3.json")" 2 \
	"managed identity: those were the system-assigned identity's"
check_eq "$(delta '.by_identity["mi:'"$TELEM_AZURE_MI_CLIENT_ID"'"]' "$work/mi3.json" "$work/mi4.json")|$(delta "$sys" "$work/mi3.json" "$work/mi4.json")" \
	"1|0" "managed identity: a user-assigned identity in the same backend got its own token"
r=$(psql_q -c "SET telem_fdw.azure_imds_endpoint = '$ep'" -c "$q FROM tok_v_mi" | tail -1) ||
	fail "managed identity: the second backend's query failed"
save_stats "$work/mi5.json"
check_eq "$r" "$want_rows" "managed identity: a second backend reads the rows"
check_eq "$(delta "$sys" "$work/mi4.json" "$work/mi5.json")" 1 \
	"managed identity: a second backend fetched a token of its own"
check_eq "$(delta .client_credentials "$work/mi0.json" "$work/mi5.json")|$(delta .refused "$work/mi0.json" "$work/mi5.json")" \
	"0|0" "managed identity: no client-credentials token fetched, nothing refused"

# ---------------------------------------------------------------------------
# 3a. a long transfer through a throttled source, bearer-auth target
# ---------------------------------------------------------------------------
step "3a. a throttled S3 -> Azure transfer"
rate_mb=6
big_mb=96
cat >"$work/throttle.py" <<'EOF'
# a loopback TCP proxy passing upstream -> client bytes at most RATE bytes/s
import socket, sys, threading, time
host, port = sys.argv[1].rsplit(":", 1)
rate = float(sys.argv[2])
lock = threading.Lock()
free_at = [time.monotonic()]

def throttle(n):
    with lock:
        now = time.monotonic()
        free_at[0] = max(now, free_at[0]) + n / rate
        wait = free_at[0] - now
    time.sleep(wait)

def pipe(a, b, slow):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            if slow:
                throttle(len(data))
            b.sendall(data)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def serve(client):
    try:
        up = socket.create_connection((host, int(port)))
    except OSError:
        client.close()
        return
    t = threading.Thread(target=pipe, args=(client, up, False), daemon=True)
    t.start()
    pipe(up, client, True)
    t.join()
    up.close()
    client.close()

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(sys.argv[3] + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
import os
os.replace(sys.argv[3] + ".tmp", sys.argv[3])
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
s3_hostport=${TELEM_S3_ENDPOINT#http://}
python3 "$work/throttle.py" "${s3_hostport%%/*}" $((rate_mb * 1024 * 1024)) "$work/proxy.port" \
	>"$work/proxy.log" 2>&1 &
_pids+=($!)
for _ in $(seq 100); do [[ -s $work/proxy.port ]] && break; sleep 0.05; done
proxy_port=$(cat "$work/proxy.port")
openssl rand -out "$work/big.bin" $((big_mb * 1024 * 1024))
want_md5=$(md5sum <"$work/big.bin" | cut -d' ' -f1)
s3 put "$bucket" big/big.bin "$work/big.bin"
psql_q -q <<SQL
CREATE SERVER tok_s3_slow FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint 'http://127.0.0.1:$proxy_port');
CREATE USER MAPPING FOR CURRENT_USER SERVER tok_s3_slow
  OPTIONS (access_key_id '$TELEM_S3_ACCESS_KEY', secret_access_key '$TELEM_S3_SECRET_KEY');
SQL
save_stats "$work/l0.json"
t0=$SECONDS
r=$(psql_q -c "SET telem_fdw.azure_authority_host = '$ep'" \
	-c "SELECT objects_copied, bytes_copied, objects_failed, coalesce(error, '')
	      FROM telem.transfer('s3://$bucket/big/', '$lake/slow/', 'tok_s3_slow', 'tok_cc',
	                          block_size_mb => 1)" | tail -1) || r="psql failed"
took=$((SECONDS - t0))
save_stats "$work/l1.json"
n_tokens=$(delta .client_credentials "$work/l0.json" "$work/l1.json")
echo "the transfer took ${took} s (${life} s tokens): $n_tokens tokens fetched during it"
check_eq "$r" "1|$((big_mb * 1024 * 1024))|0|" "throttled transfer: copied, none failed"
if ((n_tokens >= 3)); then
	pass "throttled transfer: several tokens fetched during it ($n_tokens)"
else
	fail "throttled transfer: $n_tokens tokens fetched during it, want at least 3"
fi
check_eq "$(az md5 "$container" slow/ | awk '{print $NF}')" "$want_md5" "throttled transfer: the copy's md5"
check_eq "$(delta .refused "$work/l0.json" "$work/l1.json")" 0 "throttled transfer: nothing refused"

# ---------------------------------------------------------------------------
# 3b. an Azure -> Azure transfer that waits out a token mid-object
# ---------------------------------------------------------------------------
step "3b. an Azure -> Azure transfer waiting past a token's lifetime"
head -c $((24 * 1024 * 1024)) "$work/big.bin" >"$work/mid.bin"
want_md5=$(md5sum <"$work/mid.bin" | cut -d' ' -f1)
az put "$container" src/mid.bin "$work/mid.bin"
save_stats "$work/p0.json"
t0=$SECONDS
r=$(psql_q -c "SET telem_fdw.azure_authority_host = '$ep'" \
	-c "SET telem_fdw.pause_at = 'mid_transfer'" -c "SET telem_fdw.pause_seconds = $((life + 2))" \
	-c "SELECT objects_copied, bytes_copied, objects_failed, coalesce(error, '')
	      FROM telem.transfer('$lake/src/', '$lake/dst/', 'tok_cc', 'tok_cc', block_size_mb => 1)" |
	tail -1) || r="psql failed"
save_stats "$work/p1.json"
n_tokens=$(delta .client_credentials "$work/p0.json" "$work/p1.json")
echo "the pausing transfer took $((SECONDS - t0)) s: $n_tokens tokens fetched during it"
check_eq "$r" "1|$((24 * 1024 * 1024))|0|" "a transfer pausing $((life + 2)) s mid-object: copied, none failed"
if ((n_tokens >= 2)); then
	pass "pausing transfer: a new token fetched after the wait ($n_tokens in all)"
else
	fail "pausing transfer: $n_tokens tokens fetched, want at least 2"
fi
check_eq "$(az md5 "$container" dst/ | awk '{print $NF}')" "$want_md5" "pausing transfer: the copy's md5"

# ---------------------------------------------------------------------------
# clean up
# ---------------------------------------------------------------------------
step "clean up"
psql_q -q <<SQL
SET client_min_messages = warning;
DROP SERVER tok_key CASCADE;
DROP SERVER tok_cc CASCADE;
DROP SERVER tok_mi CASCADE;
DROP SERVER tok_mi_user CASCADE;
DROP SERVER tok_s3_slow CASCADE;
DELETE FROM telem.transfer_ledger WHERE target LIKE '$lake/%';
SQL
az_rb "$container"
s3_clear "$bucket"
rm -rf "$work"
echo "run time: $((SECONDS - t_start)) s"
finish
