#!/usr/bin/env bash
# demo/run.sh -- the main job: an end-to-end telemetry demo on local stand-ins.
#
# On a fresh Debian 12 machine (as root): installs what is missing, builds
# and installs telem_fdw, starts PostgreSQL 15 and the S3 stand-in (Ceph
# RGW), lets a simulated fleet write three days of telemetry to S3 as gzip
# JSON lines and as zstd CSV under day partitions, creates foreign tables
# over them, and prints the answers to a few analyst queries.  Everything
# is stopped again at the end.
#
# Environment: DEMO_ROWS_PER_FILE (default 500), DEMO_KEEP=1 keeps the
# services running and prints how to connect.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
rows=${DEMO_ROWS_PER_FILE:-500}

bash test/harness/deps.sh >/dev/null
make -s -j2 >/dev/null && make -s install >/dev/null

state=$(mktemp -d /tmp/telem-demo.XXXXXX)
chmod 755 "$state"
if [[ ${DEMO_KEEP:-0} != 1 ]]; then
	trap 'bash test/harness/services.sh stop "$state" >/dev/null; rm -rf "$state"' EXIT
fi
echo "== starting PostgreSQL, Ceph RGW (S3) and Azurite on loopback"
bash test/harness/services.sh start "$state" >/dev/null
# shellcheck disable=SC1091
source "$state/env.sh"

echo "== a simulated fleet writes telemetry to s3://fleet-raw/"
bash test/harness/s3.sh mb fleet-raw >/dev/null
gen="$state/gen"
mkdir -p "$gen"
n=0
for day in 20 21 22; do
	start=$(date -u -d "2026-11-$day" +%s)
	for hour in 00 06 12 18; do
		s=$((start + 10#$hour * 3600))
		p="year=2026/month=11/day=$day"
		python3 test/gen_telemetry.py --rows "$rows" --seed "$day$hour" --start "$s" \
			--devices 25 --step 10 | gzip -n > "$gen/v.gz"
		bash test/harness/s3.sh put fleet-raw "vehicle/$p/part-$hour.jsonl.gz" "$gen/v.gz"
		python3 test/gen_telemetry.py --rows "$rows" --seed "$day$hour" --start "$s" \
			--devices 25 --step 10 --format csv | zstd -q > "$gen/e.zst"
		bash test/harness/s3.sh put fleet-raw "engine/$p/part-$hour.csv.zst" "$gen/e.zst"
		n=$((n + 2 * rows))
	done
done
echo "   $n records in 24 objects"

echo "== foreign tables over s3://fleet-raw/"
psql -X -q -v ON_ERROR_STOP=1 \
	-v endpoint="$TELEM_S3_ENDPOINT" -v key="$TELEM_S3_ACCESS_KEY" \
	-v secret="$TELEM_S3_SECRET_KEY" -f demo/demo.sql
if [[ ${DEMO_KEEP:-0} == 1 ]]; then
	echo "== services left running; connect with: source $state/env.sh && psql"
	echo "   stop with: bash test/harness/services.sh stop $state"
fi
