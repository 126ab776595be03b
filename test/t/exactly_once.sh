#!/usr/bin/env bash
# test/t/exactly_once.sh STATE_DIR -- a pipeline run killed at any point,
# then rerun until it succeeds, loads every row exactly once.
#
# Two pipelines over the same objects: "eo" upserts on a key, "eoa" has no
# key and appends, so that a row loaded twice shows in its count.
#
# For each pause point of a run (src/loader/pause_point.c) and each way of
# dying (pg_terminate_backend, and kill -9 of the backend, which makes the
# postmaster restart every backend): write a few new objects, start a run
# with telem_fdw.pause_at set to that point, kill the backend when it
# reaches it, rerun until the run succeeds, and compare the target with the
# transform over every source object: row count and a checksum over the
# rows in key order.
source "$(dirname "$0")/../lib/common.sh"

dir="$TELEM_DATA_DIR/exactly_once"
rm -rf "$dir"
mkdir -p "$dir"
chown postgres "$dir"

psql_q -q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
DROP SERVER IF EXISTS eo_files CASCADE;
DROP TABLE IF EXISTS eo_target;
DROP TABLE IF EXISTS eo_append;
SELECT telem.drop_pipeline(name) FROM telem.pipelines WHERE name IN ('eo', 'eoa');
CREATE SERVER eo_files FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
CREATE FOREIGN TABLE eo_src (device_id text, ts timestamptz OPTIONS (epoch 'seconds'),
                             speed_kmh float8)
  SERVER eo_files OPTIONS (location '$dir/', format 'jsonl');
CREATE VIEW eo_clean AS SELECT DISTINCT ON (device_id, ts) device_id, ts, speed_kmh
  FROM eo_src ORDER BY device_id, ts, speed_kmh DESC;
CREATE TABLE eo_target (device_id text, ts timestamptz, speed_kmh float8,
                        PRIMARY KEY (device_id, ts));
SELECT telem.create_pipeline('eo', 'eo_src', 'eo_clean', 'eo_target', '{device_id,ts}');
CREATE VIEW eo_raw AS SELECT device_id, ts, speed_kmh FROM eo_src;
CREATE TABLE eo_append (device_id text, ts timestamptz, speed_kmh float8);
SELECT telem.create_pipeline('eoa', 'eo_src', 'eo_raw', 'eo_append');
SQL

batch=0
# new_objects N: write N objects of 200 rows each, as postgres would find them
new_objects() {
	local i
	for ((i = 0; i < $1; i++)); do
		batch=$((batch + 1))
		python3 "$TEST_DIR/gen_telemetry.py" --rows 200 --seed "$batch" --devices 7 \
			--start $((1795219200 + batch * 10000)) > "$dir/part-$(printf %04d $batch).jsonl"
	done
	chmod a+r "$dir"/*
}

checksum() {
	psql_q -c "SELECT count(*), md5(coalesce(string_agg(format('%s|%s|%s', device_id, ts, speed_kmh), ',' ORDER BY device_id, ts, speed_kmh), '')) FROM $1"
}

# run_pipeline [NAME]: one run; prints its error column (empty on success)
run_pipeline() { psql_q -c "SELECT coalesce(error, '') FROM telem.run('${1:-eo}')"; }

declare -A target=([eo]=eo_target [eoa]=eo_append) source_view=([eo]=eo_clean [eoa]=eo_raw)
for pl in eo eoa; do
for point in after_listing mid_scan before_ledger_update during_ledger_update; do
	for how in terminate kill9; do
		new_objects 2
		if ! start_paused "$point" "$pl-$point-$how" "$pl"; then
			fail "$point/$how: the run never reached the pause point"
			wait "$runner" || true
			continue
		fi
		kill_backend "$pid" "$how"
		wait "$runner" || true
		wait_sql_ready
		err=x
		for _ in 1 2 3; do
			err=$(run_pipeline "$pl" 2>&1) && [[ -z $err ]] && break
		done
		check_eq "$err" "" "$pl $point/$how: a rerun succeeds"
		check_eq "$(checksum "${target[$pl]}")" "$(checksum "${source_view[$pl]}")" \
			"$pl $point/$how: target equals source"
	done
done
done
# each pipeline catches up with the objects the other one's loop added
check_eq "$(run_pipeline eo)$(run_pipeline eoa)" "" "both pipelines catch up"
for pl in eo eoa; do
	check_eq "$(checksum "${target[$pl]}")" "$(checksum "${source_view[$pl]}")" "$pl: target equals source"
done

# the ledger lists every object once, with its rows
for pl in eo eoa; do
	check_eq "$(psql_q -c "SELECT count(*), sum(rows) FROM telem.object_ledger WHERE pipeline = '$pl'")" \
		"$batch|$((batch * 200))" "$pl ledger: every object once, with all its rows"
done

# two runs at once: the second returns at once and loads nothing
new_objects 2
start_paused after_listing eo-concurrent eo || fail "concurrent: the first run never paused"
check_eq "$(run_pipeline)" "another run of this pipeline is in progress" "a second concurrent run is refused"
psql_q -c "SELECT pg_cancel_backend($pid)" >/dev/null
wait "$runner" || true
check_eq "$(run_pipeline)" "" "the next run succeeds"
check_eq "$(checksum eo_target)" "$(checksum eo_clean)" "after the concurrent runs: target equals source"

psql_q -q -c "SET client_min_messages = warning; SELECT telem.drop_pipeline('eo'); SELECT telem.drop_pipeline('eoa'); DROP SERVER eo_files CASCADE; DROP TABLE eo_target, eo_append"
rm -rf "$dir"
finish
