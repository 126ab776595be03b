#!/usr/bin/env bash
# test/t/env_credentials.sh STATE_DIR -- without a user mapping, a scan signs
# with the server process's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; a user
# mapping, when there is one, wins over them.
#
# Starts a second throwaway cluster (test/harness/pg.sh) whose postmaster
# inherits the AWS_* variables, and reads the regression bucket from RGW.
source "$(dirname "$0")/../lib/common.sh"

sub="$STATE_DIR/envpg"
mkdir -p "$sub"
chmod 755 "$sub"
stop_sub() { bash "$TEST_DIR/harness/pg.sh" stop "$sub" >/dev/null 2>&1 || true; }
trap 'stop_sub; _cleanup' EXIT
AWS_ACCESS_KEY_ID=$TELEM_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$TELEM_S3_SECRET_KEY \
	bash "$TEST_DIR/harness/pg.sh" start "$sub" >/dev/null
# shellcheck disable=SC1091
source "$sub/env.pg.sh"

psql_q -q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
CREATE SERVER s3env FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint '$TELEM_S3_ENDPOINT', max_retries '0');
CREATE FOREIGN TABLE vehicle (device_id text)
  SERVER s3env OPTIONS (location 's3://telem-regress/vehicle/', format 'jsonl');
SQL
check_eq "$(psql_q -c 'SELECT count(*) FROM vehicle')" "9" "no user mapping: the environment's keys sign"

psql_q -q -c "CREATE USER MAPPING FOR CURRENT_USER SERVER s3env
              OPTIONS (access_key_id '$TELEM_S3_ACCESS_KEY', secret_access_key 'wrong-secret')"
err=$(psql_q -c 'SELECT count(*) FROM vehicle' 2>&1 || true)
if grep -q SignatureDoesNotMatch <<<"$err"; then
	pass "a user mapping wins over the environment"
else
	fail "user mapping did not win: $err"
fi
finish
