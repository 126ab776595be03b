# test/lib/common.sh -- shared by the shell tests in test/t/ (source it).
#
# Expects STATE_DIR as $1 of the test; loads its env.sh and gives:
#   fail MSG          report a failed check and remember it
#   check_eq GOT WANT LABEL
#   finish            print "NAME: N passed, N failed" and exit non-zero on failure
#   start_proxy ARGS  start test/harness/flaky_proxy.py in front of RGW; sets
#                     PROXY_PORT and PROXY_PID (stopped by finish)
#   psql_q SQL        psql -X -At with ON_ERROR_STOP
#   start_paused, kill_backend, wait_sql_ready: killing loader runs at their
#                     pause points (telem_fdw.pause_at)
set -euo pipefail
STATE_DIR=$(cd "$1" && pwd)
TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEST_NAME=$(basename "$0" .sh)
# shellcheck disable=SC1091
source "$STATE_DIR/env.sh"
_passed=0
_failed=0
_pids=()

fail() { echo "FAIL: $*"; _failed=$((_failed + 1)); }
pass() { echo "ok: $*"; _passed=$((_passed + 1)); }
check_eq() { if [[ $1 == "$2" ]]; then pass "$3"; else fail "$3: got '$1', want '$2'"; fi; }

_cleanup() { local p; for p in "${_pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap _cleanup EXIT

finish() {
	echo "$TEST_NAME: $_passed passed, $_failed failed"
	((_failed == 0))
}

psql_q() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }

start_proxy() {
	local pf="$STATE_DIR/proxy.$$.$RANDOM"
	python3 "$TEST_DIR/harness/flaky_proxy.py" --upstream "${TELEM_S3_ENDPOINT#http://}" \
		--port-file "$pf" "$@" >"$pf.log" 2>&1 &
	PROXY_PID=$!
	_pids+=("$PROXY_PID")
	for _ in $(seq 100); do [[ -s $pf ]] && break; sleep 0.05; done
	PROXY_PORT=$(cat "$pf")
}

stop_proxy() { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; }

# start_paused POINT TAG PIPELINE: start telem.run(PIPELINE) in the
# background in a session of its own with telem_fdw.pause_at = POINT; once
# it waits there, return with runner (the psql pid) and pid (the backend's).
# TAG marks the query so no other session can match.
start_paused() {
	pid=""
	PGOPTIONS="-c telem_fdw.pause_at=$1" \
		psql_q -c "SELECT telem.run('$3') /* $2 */" >/dev/null 2>&1 &
	runner=$!
	for _ in $(seq 300); do
		pid=$(psql_q -c "SELECT pid FROM pg_stat_activity
		                  WHERE application_name = 'telem_pause:$1' AND query LIKE '%/* $2 */%'")
		[[ -n $pid ]] && return 0
		sleep 0.1
	done
	return 1
}

# kill_backend PID terminate|kill9
kill_backend() {
	if [[ $2 == terminate ]]; then psql_q -c "SELECT pg_terminate_backend($1)" >/dev/null
	else kill -9 "$1"; fi
}

# wait_sql_ready: after a kill -9 the server restarts every backend
wait_sql_ready() { for _ in $(seq 100); do psql_q -c 'SELECT 1' >/dev/null 2>&1 && return; sleep 0.2; done; }
