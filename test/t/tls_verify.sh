#!/usr/bin/env bash
# test/t/tls_verify.sh STATE_DIR -- TLS is verified by default, and ca_file
# names the CA to verify against.
#
# A throwaway CA signs a certificate for 127.0.0.1, served by `openssl
# s_server -www` (a TLS peer that answers any request with an HTML page).
# Without ca_file the scan must fail with a certificate error; with ca_file
# the handshake must succeed, and the scan then fails on the reply, which is
# no S3 listing: proof that the request got past TLS.
source "$(dirname "$0")/../lib/common.sh"

work="$STATE_DIR/tls"
mkdir -p "$work"
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=telem test CA" \
	-keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	-keyout srv.key -out srv.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > ext.cnf
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	-extfile ext.cnf -out srv.pem 2>/dev/null
chmod a+r ca.pem

source "$TEST_DIR/harness/lib.sh"
port=$(free_port)
openssl s_server -accept "127.0.0.1:$port" -cert srv.pem -key srv.key -www -quiet >/dev/null 2>&1 &
_pids+=($!)
for _ in $(seq 50); do
	(echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

psql_q -q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
DROP SERVER IF EXISTS tls_default CASCADE;
DROP SERVER IF EXISTS tls_ca CASCADE;
CREATE SERVER tls_default FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint 'https://127.0.0.1:$port', max_retries '0');
CREATE SERVER tls_ca FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint 'https://127.0.0.1:$port', max_retries '0',
           ca_file '$work/ca.pem');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_default OPTIONS (access_key_id 'k', secret_access_key 's');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_ca OPTIONS (access_key_id 'k', secret_access_key 's');
CREATE FOREIGN TABLE tls_default_t (a text) SERVER tls_default OPTIONS (location 's3://b/p/', format 'jsonl');
CREATE FOREIGN TABLE tls_ca_t (a text) SERVER tls_ca OPTIONS (location 's3://b/p/', format 'jsonl');
SQL

err=$(psql_q -c 'SELECT * FROM tls_default_t' 2>&1 || true)
echo "without ca_file: $err"
if grep -qi 'certificate' <<<"$err"; then
	pass "an unknown CA is refused"
else
	fail "an unknown CA was not refused as a certificate problem"
fi

err=$(psql_q -c 'SELECT * FROM tls_ca_t' 2>&1 || true)
echo "with ca_file: $err"
if grep -q ERROR <<<"$err" && ! grep -qi 'certificate\|SSL' <<<"$err"; then
	pass "with ca_file the TLS handshake succeeds"
else
	fail "with ca_file the request did not get past TLS"
fi

psql_q -q -c 'SET client_min_messages = warning; DROP SERVER tls_default CASCADE; DROP SERVER tls_ca CASCADE'
cd /
rm -rf "$work"
finish
