-- demo/demo.sql -- foreign tables and analyst queries for demo/run.sh, over
-- the raw telemetry landed in ADLS (server lake, made by demo/transfer.sql).
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS raw CASCADE;
CREATE SCHEMA raw;
RESET client_min_messages;

CREATE FOREIGN TABLE raw.vehicle (
  device_id   text,
  ts          timestamptz OPTIONS (epoch 'seconds'),
  speed_kmh   float8,
  lat         float8 OPTIONS (json_path 'location.lat'),
  lon         float8 OPTIONS (json_path 'location.lon'),
  fuel_level  float8,
  temp_c      float8 OPTIONS (json_path 'engine.temp_c'),
  day         int    OPTIONS (partition 'day'),
  _key        text   OPTIONS (metadata 'key')
) SERVER lake
  OPTIONS (location 'abfss://raw@devstoreaccount1.dfs.core.windows.net/vehicle/', format 'jsonl');

CREATE FOREIGN TABLE raw.engine (
  device_id text, ts bigint, ts_ms bigint, speed_kmh float8, lat float8,
  lon float8, fuel_level float8, engine_rpm int, engine_temp_c float8,
  pressure_bar float8, vibration_mm_s float8, status text,
  day int OPTIONS (partition 'day')
) SERVER lake
  OPTIONS (location 'abfss://raw@devstoreaccount1.dfs.core.windows.net/engine/', format 'csv',
           header 'true');

\pset footer off
\echo
\echo 'Q1. Per day: records, vehicles, average and top speed (gzip JSON lines)'
SELECT day, count(*) AS records, count(DISTINCT device_id) AS vehicles,
       round(avg(speed_kmh)::numeric, 1) AS avg_kmh,
       round(max(speed_kmh)::numeric, 1) AS max_kmh
  FROM raw.vehicle GROUP BY day ORDER BY day;

\echo 'Q2. Engine alarms: readings above thresholds, per day (zstd CSV)'
SELECT day,
       count(*) FILTER (WHERE engine_temp_c > 105) AS hot_engine,
       count(*) FILTER (WHERE pressure_bar > 4.8)  AS high_pressure,
       count(*) FILTER (WHERE vibration_mm_s > 5.8) AS high_vibration,
       count(*) FILTER (WHERE status = 'alarm')    AS alarm_status
  FROM raw.engine GROUP BY day ORDER BY day;

\echo 'Q3. Vehicles that ran low on fuel while driving fast, last day'
SELECT device_id, count(*) AS readings, min(fuel_level) AS min_fuel,
       round(max(speed_kmh)::numeric, 1) AS max_kmh
  FROM raw.vehicle
 WHERE day = 22 AND fuel_level < 0.05 AND speed_kmh > 100
 GROUP BY device_id ORDER BY readings DESC, device_id LIMIT 5;

\echo 'Where the rows came from:'
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM raw.vehicle;
