#!/usr/bin/env bash
# demo/run.sh -- the main job: the telemetry pipeline, end to end, on local
# stand-ins: S3 -> ADLS -> Azure SQL.
#
# On a fresh Debian 12 machine (as root): installs what is missing, builds
# and installs telem_fdw, and starts PostgreSQL 15 (with pg_cron and
# tds_fdw), the S3 stand-in (Ceph RGW), the ADLS stand-in (Azurite, https)
# and the Azure SQL stand-in (the TDS test server). Then:
#   1. a simulated fleet writes telemetry to S3 under day partitions: vehicle
#      speed/GPS/fuel/engine (gzip JSON lines and zstd CSV), per-PID
#      diagnostics, and equipment temperature/pressure/vibration;
#   2. telem.transfer lands the raw objects in ADLS (s3://fleet-raw/ ->
#      abfss://raw@devstoreaccount1.dfs.core.windows.net/), verified and
#      incremental: a rerun copies nothing;
#   3. analysts query it in place in the lake through foreign tables;
#   4. pipelines read the lake, clean, deduplicate, aggregate per machine and
#      vehicle per minute and flag anomalies, and push to Azure SQL exactly
#      once;
#   5. pg_cron runs the transfer and then one pipeline; new files arrive in
#      S3 and flow S3 -> ADLS -> Azure SQL, only those;
#   6. a report reads what landed back through tds_fdw.
# Everything is stopped again at the end.
#
# Environment: DEMO_ROWS_PER_FILE (default 500), DEMO_KEEP=1 keeps the
# services running and prints how to connect, DEMO_NO_BUILD=1 skips the
# build and `make install` (uses the telem_fdw already installed).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
rows=${DEMO_ROWS_PER_FILE:-500}

bash test/harness/deps.sh >/dev/null
if [[ ${DEMO_NO_BUILD:-0} != 1 ]]; then
	make -s -j2 >/dev/null && make -s install >/dev/null
fi

state=$(mktemp -d /tmp/telem-demo.XXXXXX)
chmod 755 "$state"
if [[ ${DEMO_KEEP:-0} != 1 ]]; then
	trap 'bash test/harness/services.sh stop "$state" >/dev/null; rm -rf "$state"' EXIT
fi
echo "== starting PostgreSQL, Ceph RGW (S3), Azurite (ADLS) and the TDS server on loopback"
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

echo "== telem.transfer lands them in ADLS: s3://fleet-raw/ -> abfss://raw@devstoreaccount1.dfs.core.windows.net/"
python3 test/harness/az.py mb raw
psql -X -q -v ON_ERROR_STOP=1 \
	-v s3_endpoint="$TELEM_S3_ENDPOINT" -v s3_key="$TELEM_S3_ACCESS_KEY" \
	-v s3_secret="$TELEM_S3_SECRET_KEY" -v az_endpoint="$TELEM_AZURE_BLOB_ENDPOINT" \
	-v az_ca="$TELEM_AZURE_CA_FILE" -v az_key="$TELEM_AZURE_KEY" -f demo/transfer.sql

echo "== foreign tables over the lake: abfss://raw@devstoreaccount1.dfs.core.windows.net/"
psql -X -q -v ON_ERROR_STOP=1 -f demo/demo.sql

echo "== pipelines: ADLS -> SQL transforms -> Azure SQL (the TDS stand-in)"
psql -X -q -v ON_ERROR_STOP=1 \
	-v tds_host="$TELEM_TDS_HOST" -v tds_port="$TELEM_TDS_PORT" -v tds_db="$TELEM_TDS_DATABASE" \
	-v tds_user="$TELEM_TDS_USER" -v tds_password="$TELEM_TDS_PASSWORD" -f demo/pipeline.sql

echo "== new files arrive in S3: day 22's equipment readings"
put_equipment 22
echo "   waiting for pg_cron's next land-and-load: transfer to ADLS, then equipment_minute"
t0=$SECONDS
loaded=0
for _ in $(seq 150); do
	loaded=$(psql -X -At -c "SELECT coalesce(sum(objects), 0) FROM telem.run_log
	                         WHERE pipeline = 'equipment_minute' AND error IS NULL")
	[[ $loaded -ge 12 ]] && break
	sleep 1
done
psql -X -q -c "SELECT cron.unschedule('land-and-load')" >/dev/null
psql -X -q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CALL raw.land_and_load%'" >/dev/null
if [[ $loaded -lt 12 ]]; then
	echo "demo: pg_cron did not load day 22 within 150 s (equipment objects loaded: $loaded)" >&2
	psql -X -c "SELECT run_id, kind, pipeline, objects, error FROM telem.run_log ORDER BY run_id" >&2
	exit 1
fi
echo "   in Azure SQL $((SECONDS - t0)) s after they landed in S3"

echo "== what landed in Azure SQL, read back through tds_fdw"
psql -X -q -v ON_ERROR_STOP=1 -f demo/report.sql
if [[ ${DEMO_KEEP:-0} == 1 ]]; then
	echo "== services left running; connect with: source $state/env.sh && psql"
	echo "   stop with: bash test/harness/services.sh stop $state"
fi
