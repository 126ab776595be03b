#!/usr/bin/env bash
# demo/run.sh -- the main job: the telemetry pipeline, end to end, on local
# stand-ins.
#
# On a fresh Debian 12 machine (as root): installs what is missing, builds
# and installs telem_fdw, and starts PostgreSQL 15 (with pg_cron and
# tds_fdw), the S3 stand-in (Ceph RGW) and the Azure SQL stand-in (the TDS
# test server). Then:
#   1. a simulated fleet writes telemetry to S3 under day partitions: vehicle
#      speed/GPS/fuel/engine (gzip JSON lines and zstd CSV), per-PID
#      diagnostics, and equipment temperature/pressure/vibration;
#   2. analysts query it in place through foreign tables;
#   3. pipelines clean, deduplicate, aggregate per machine and vehicle per
#      minute and flag anomalies, and push to Azure SQL exactly once;
#   4. pg_cron schedules one of them; new files arrive and the next run
#      picks up only those;
#   5. a report reads what landed back through tds_fdw.
# Everything is stopped again at the end.
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

# equipment readings, hourly objects; devices resend 2 % of readings
put_equipment() {
	local day=$1 hour s
	for hour in 00 06 12 18; do
		s=$(($(date -u -d "2026-11-$day" +%s) + 10#$hour * 3600))
		python3 test/gen_telemetry.py --kind equipment --rows "$rows" --seed "1$day$hour" \
			--start "$s" --devices 20 --step 15 --duplicates 2 | gzip -n > "$gen/q.gz"
		bash test/harness/s3.sh put fleet-raw \
			"equipment/year=2026/month=11/day=$day/part-$hour.jsonl.gz" "$gen/q.gz"
	done
}
put_equipment 20
put_equipment 21
for day in 20 21; do
	python3 test/gen_telemetry.py --kind diagnostics --rows "$rows" --seed "2$day" \
		--start "$(date -u -d "2026-11-$day" +%s)" --devices 25 --step 30 | zstd -q > "$gen/d.zst"
	bash test/harness/s3.sh put fleet-raw "diagnostics/year=2026/month=11/day=$day/part-00.jsonl.zst" "$gen/d.zst"
done
echo "   and equipment and diagnostics objects for two days"

echo "== foreign tables over s3://fleet-raw/"
psql -X -q -v ON_ERROR_STOP=1 \
	-v endpoint="$TELEM_S3_ENDPOINT" -v key="$TELEM_S3_ACCESS_KEY" \
	-v secret="$TELEM_S3_SECRET_KEY" -f demo/demo.sql

echo "== pipelines: S3 -> SQL transforms -> Azure SQL (the TDS stand-in)"
psql -X -q -v ON_ERROR_STOP=1 \
	-v tds_host="$TELEM_TDS_HOST" -v tds_port="$TELEM_TDS_PORT" -v tds_db="$TELEM_TDS_DATABASE" \
	-v tds_user="$TELEM_TDS_USER" -v tds_password="$TELEM_TDS_PASSWORD" -f demo/pipeline.sql

echo "== new files arrive: day 22's equipment readings"
put_equipment 22
echo "   waiting for pg_cron's next run of equipment_minute to load them"
for _ in $(seq 150); do
	loaded=$(psql -X -At -c "SELECT coalesce(sum(objects), 0) FROM telem.run_log
	                         WHERE pipeline = 'equipment_minute' AND error IS NULL")
	[[ $loaded -ge 12 ]] && break
	sleep 1
done
psql -X -q -c "SELECT telem.unschedule('equipment_minute')" >/dev/null
psql -X -q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CALL telem.run_every%'" >/dev/null

echo "== what landed in Azure SQL, read back through tds_fdw"
psql -X -q -v ON_ERROR_STOP=1 -f demo/report.sql
if [[ ${DEMO_KEEP:-0} == 1 ]]; then
	echo "== services left running; connect with: source $state/env.sh && psql"
	echo "   stop with: bash test/harness/services.sh stop $state"
fi
