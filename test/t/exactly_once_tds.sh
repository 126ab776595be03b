#!/usr/bin/env bash
# test/t/exactly_once_tds.sh STATE_DIR -- pushes to Azure SQL (the TDS test
# server) load every row exactly once, whatever kills or fails a run.
#
# Two pipelines over the same local objects push to remote tables: "eot"
# upserts on a key, "eota" appends (a row pushed twice shows in its count).
# Kill points (pg_terminate_backend and kill -9 of the backend): the run's
# pause points (after listing, mid-scan, before the bulk copy, after the
# remote commit, during the local ledger update) and mid-bulk-copy (the
# server stalls the bulk load on command). Faults injected by the server:
# 40613 at login, 1205 on the COMMIT batch, the connection dropped after the
# remote COMMIT (reply lost), and dropped mid-bulk-copy. After each, runs
# are repeated until one succeeds, and the remote table must equal the
# transform over every object: row count and a checksum over its rows.
source "$(dirname "$0")/../lib/common.sh"

ctl="http://127.0.0.1:$TELEM_TDS_CONTROL_PORT"
dir="$TELEM_DATA_DIR/exactly_once_tds"
rm -rf "$dir"
mkdir -p "$dir"
chown postgres "$dir"

psql_q -q <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
CREATE EXTENSION IF NOT EXISTS tds_fdw;
SELECT telem.drop_pipeline(name) FROM telem.pipelines WHERE name IN ('eot', 'eota');
DROP SERVER IF EXISTS eot_files CASCADE;
DROP SERVER IF EXISTS eot_azure CASCADE;
CREATE SERVER eot_azure FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername '$TELEM_TDS_HOST', port '$TELEM_TDS_PORT', database '$TELEM_TDS_DATABASE');
CREATE USER MAPPING FOR CURRENT_USER SERVER eot_azure
  OPTIONS (username '$TELEM_TDS_USER', password '$TELEM_TDS_PASSWORD');
CREATE SERVER eot_files FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
CREATE FOREIGN TABLE eot_src (device_id text, ts timestamptz OPTIONS (epoch 'seconds'),
                              speed_kmh float8)
  SERVER eot_files OPTIONS (location '$dir/', format 'jsonl');
CREATE VIEW eot_clean AS SELECT DISTINCT ON (device_id, ts) device_id, ts, speed_kmh
  FROM eot_src ORDER BY device_id, ts, speed_kmh DESC;
CREATE VIEW eot_raw AS SELECT device_id, ts, speed_kmh FROM eot_src;
SELECT telem.create_pipeline('eot', 'eot_src', 'eot_clean', 'dbo.eot_target',
                             '{device_id,ts}', 'eot_azure', batch_size => 100);
SELECT telem.create_pipeline('eota', 'eot_src', 'eot_raw', 'dbo.eot_append',
                             '{}', 'eot_azure', batch_size => 100);
SELECT telem.tds_exec('eot_azure', 'IF OBJECT_ID(N''dbo.eot_target'', N''U'') IS NOT NULL DROP TABLE dbo.eot_target;
  IF OBJECT_ID(N''dbo.eot_append'', N''U'') IS NOT NULL DROP TABLE dbo.eot_append;
  IF OBJECT_ID(N''dbo.telem_batches'', N''U'') IS NOT NULL DELETE FROM dbo.telem_batches;');
SELECT telem.tds_exec('eot_azure', telem.target_ddl('eot'));
SELECT telem.tds_exec('eot_azure', telem.target_ddl('eota'));
SQL

batch=0
new_objects() {
	local i
	for ((i = 0; i < $1; i++)); do
		batch=$((batch + 1))
		python3 "$TEST_DIR/gen_telemetry.py" --rows 300 --seed "$((batch + 100))" --devices 7 \
			--start $((1795219200 + batch * 10000)) > "$dir/part-$(printf %04d $batch).jsonl"
	done
	chmod a+r "$dir"/*
}

# the same normal form for remote and local rows
remote_sum() {
	psql_q -c "SELECT count(*), md5(coalesce(string_agg(format('%s|%s|%s', r[1], r[2]::timestamptz, round(r[3]::numeric, 6)), ','
	             ORDER BY r[1], r[2]::timestamptz, round(r[3]::numeric, 6)), ''))
	             FROM telem.tds_query('eot_azure', 'SELECT device_id, ts, speed_kmh FROM dbo.$1') r"
}
local_sum() {
	psql_q -c "SELECT count(*), md5(coalesce(string_agg(format('%s|%s|%s', device_id, ts, round(speed_kmh::numeric, 6)), ','
	             ORDER BY device_id, ts, round(speed_kmh::numeric, 6)), '')) FROM $1"
}
declare -A remote=([eot]=eot_target [eota]=eot_append) view=([eot]=eot_clean [eota]=eot_raw)

run_pipeline() { psql_q -c "SELECT coalesce(error, '') FROM telem.run('$1')" 2>&1; }
# rerun PIPELINE LABEL: run until a run succeeds (at most 4), then compare
rerun() {
	local err=x i
	for i in 1 2 3 4; do
		err=$(run_pipeline "$1") && [[ -z $err ]] && break
	done
	check_eq "$err" "" "$1 $2: a rerun succeeds"
	check_eq "$(remote_sum "${remote[$1]}")" "$(local_sum "${view[$1]}")" "$1 $2: remote target equals source"
}
fault() { curl -sf -d "$1" "$ctl/faults" >/dev/null; }
faults_fired() { curl -sf "$ctl/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["faults_fired"])'; }

for pl in eot eota; do
	for point in after_listing mid_scan before_bulk_copy after_remote_commit during_ledger_update; do
		for how in terminate kill9; do
			new_objects 2
			if ! start_paused "$point" "$pl-$point-$how" "$pl"; then
				fail "$pl $point/$how: the run never reached the pause point"
				wait "$runner" || true
				continue
			fi
			kill_backend "$pid" "$how"
			wait "$runner" || true
			wait_sql_ready
			rerun "$pl" "$point/$how"
		done
	done

	# mid-bulk-copy: the server stalls the load; the backend dies inside it
	for how in terminate kill9; do
		new_objects 2
		before=$(faults_fired)
		fault '{"kind":"delay","on":"bulk","ms":20000}'
		psql_q -c "SELECT telem.run('$pl') /* $pl-bulk-$how */" >/dev/null 2>&1 &
		runner=$!
		for _ in $(seq 300); do [[ $(faults_fired) -gt $before ]] && break; sleep 0.1; done
		pid=$(psql_q -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%/* $pl-bulk-$how */%' AND pid <> pg_backend_pid()")
		if [[ -z $pid ]]; then
			fail "$pl mid_bulk_copy/$how: no run in a bulk copy"
		else
			kill_backend "$pid" "$how"
		fi
		wait "$runner" || true
		curl -sf -X DELETE "$ctl/faults" >/dev/null
		wait_sql_ready
		rerun "$pl" "mid_bulk_copy/$how"
	done

	# faults the run survives or a rerun repairs
	for f in '{"kind":"error","on":"login","number":40613}' \
		'{"kind":"error","match":"COMMIT TRANSACTION","number":1205}' \
		'{"kind":"error","match":"COMMIT TRANSACTION","number":40613}' \
		'{"kind":"drop","match":"COMMIT TRANSACTION","when":"after"}' \
		'{"kind":"drop","on":"bulk","after_rows":150}'; do
		new_objects 2
		fault "$f"
		rerun "$pl" "fault $f"
		curl -sf -X DELETE "$ctl/faults" >/dev/null
	done
done

check_eq "$(run_pipeline eot)$(run_pipeline eota)" "" "both pipelines catch up"
for pl in eot eota; do
	check_eq "$(remote_sum "${remote[$pl]}")" "$(local_sum "${view[$pl]}")" "$pl: remote target equals source"
	check_eq "$(psql_q -c "SELECT count(*), sum(rows) FROM telem.object_ledger WHERE pipeline = '$pl'")" \
		"$batch|$((batch * 300))" "$pl ledger: every object once, with all its rows"
done

psql_q -q -c "SET client_min_messages = warning; SELECT telem.drop_pipeline('eot'); SELECT telem.drop_pipeline('eota');
              DROP SERVER eot_files CASCADE; DROP SERVER eot_azure CASCADE"
rm -rf "$dir"
finish
