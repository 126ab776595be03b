-- demo/report.sql -- what landed in Azure SQL, read back through tds_fdw.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS azure CASCADE;
CREATE SCHEMA azure;
IMPORT FOREIGN SCHEMA dbo LIMIT TO (equipment_minute, vehicle_minute, telem_batches)
  FROM SERVER azure_sql INTO azure;
-- tds_fdw reports each remote query as a NOTICE
\pset footer off

\echo 'Transfers S3 -> ADLS that copied something (telem.run_log, kind transfer):'
SELECT run_id, objects AS objects_copied, bytes AS bytes_copied,
       (details->>'objects_skipped')::int AS objects_skipped, coalesce(error, '') AS error
  FROM telem.run_log
 WHERE kind = 'transfer' AND (objects > 0 OR error IS NOT NULL) ORDER BY run_id;
SELECT count(*) AS transfer_runs, count(*) FILTER (WHERE objects = 0) AS copied_nothing,
       count(*) FILTER (WHERE error IS NOT NULL) AS failed
  FROM telem.run_log WHERE kind = 'transfer';

\echo 'Pipeline runs that loaded something (telem.run_log, kind load):'
SELECT run_id, pipeline, batch_id, objects, rows_read, rows_pushed, coalesce(error, '') AS error
  FROM telem.run_log
 WHERE kind = 'load' AND (objects > 0 OR error IS NOT NULL) ORDER BY run_id;

\echo 'Remote batch ledger (dbo.telem_batches):'
SELECT pipeline, batch_id, row_count FROM azure.telem_batches ORDER BY pipeline, batch_id;

\echo 'Equipment anomalies per day, in Azure SQL:'
SELECT minute::date AS day, count(*) AS machine_minutes,
       sum(readings) AS readings,
       count(*) FILTER (WHERE hot = 1) AS hot,           -- bit arrives as smallint
       count(*) FILTER (WHERE over_pressure = 1) AS over_pressure,
       count(*) FILTER (WHERE vibrating = 1) AS vibrating
  FROM azure.equipment_minute GROUP BY 1 ORDER BY 1;

\echo 'Fastest vehicle minutes, in Azure SQL:'
SELECT device_id, minute, readings, max_speed_kmh, min_fuel
  FROM azure.vehicle_minute ORDER BY max_speed_kmh DESC, device_id LIMIT 5;

\echo 'Pipelines (telem.status):'
SELECT pipeline, last_run_ok, last_rows_pushed, backlog_objects, errors_last_day
  FROM telem.status ORDER BY pipeline;
