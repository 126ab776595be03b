#!/usr/bin/env bash
# test/check.sh -- build telem_fdw and run every test, from a fresh Debian 12
# machine (as root) to a verdict.  This is the README's test command and what
# .ci/run calls.
#
#   1. installs what is missing (apt-get, npm ci)            test/harness/deps.sh
#   2. builds with -Wall -Wextra -Werror and installs
#   3. runs the C unit tests under valgrind (no server)      test/unit/
#   4. starts PostgreSQL 15 + pg_cron, Ceph RGW and Azurite  test/harness/
#      on free loopback ports, and seeds the test objects    test/seed.sh
#   5. runs pg_regress (sql/, expected/)
#   6. runs the shell tests for multi-process and fault cases  test/t/
#   7. runs each libFuzzer target briefly                    test/fuzz/
#   8. stops every service, whatever happened
#
# Environment: FUZZ_SECONDS (default 20) per fuzz target; KEEP_STATE=1 keeps
# the state directory (logs, data) for a look after a failure.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

passed=0
failed=0
failures=()

# stage NAME CMD...: run one stage, record its verdict, keep going.
stage() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
		echo "=== $name: ok"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "=== $name: FAILED"
	fi
}

bash test/harness/deps.sh || { echo "check: installing dependencies failed"; exit 1; }

# Build warnings are errors; a failed build ends the run.
make clean >/dev/null
if ! make -j2 || ! make install; then
	echo "check: build failed"
	exit 1
fi

state=$(mktemp -d /tmp/telem-check.XXXXXX)
chmod 755 "$state"
cleanup() {
	bash test/harness/services.sh stop "$state"
	if [[ ${KEEP_STATE:-0} == 1 ]]; then
		echo "check: state kept in $state"
	else
		rm -rf "$state"
	fi
}
trap cleanup EXIT

# The regression tests expect the server to have no AWS credentials of its own.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

stage "unit tests (valgrind)" make -C test/unit clean check VALGRIND=1

if ! bash test/harness/services.sh start "$state"; then
	echo "check: starting the services failed"
	exit 1
fi
# shellcheck disable=SC1091
source "$state/env.sh"
export TELEM_DATA_DIR="$state/data"
export TELEM_STATE_DIR="$state"

stage "seed test objects" bash test/seed.sh "$state"

regress() {
	rm -f regression.diffs
	if make installcheck; then
		return 0
	fi
	[[ -f regression.diffs ]] && cat regression.diffs
	return 1
}
stage "pg_regress" regress

regress_cron() {
	rm -f test/cron/regression.diffs
	if make installcheck-cron; then
		return 0
	fi
	[[ -f test/cron/regression.diffs ]] && cat test/cron/regression.diffs
	return 1
}
stage "pg_regress, pg_cron scheduling (in database $PGDATABASE)" regress_cron

for t in test/t/*.sh; do
	stage "shell test $(basename "$t" .sh)" bash "$t" "$state"
done

stage "fuzz targets (${FUZZ_SECONDS:-20} s each)" \
	make -C test/fuzz run SECONDS="${FUZZ_SECONDS:-20}"

echo
if ((failed > 0)); then
	printf 'check: failed: %s\n' "${failures[@]}"
fi
echo "check: $passed passed, $failed failed"
((failed == 0))
