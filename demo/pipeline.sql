-- demo/pipeline.sql -- the loader half of the demo: ADLS -> transform -> Azure SQL.
-- Variables: :tds_host, :tds_port, :tds_db, :tds_user, :tds_password (the
-- TDS stand-in's; pointing these at a real Azure SQL database is the only
-- change needed to go live).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tds_fdw;
CREATE EXTENSION IF NOT EXISTS pg_cron;
DROP SERVER IF EXISTS azure_sql CASCADE;
SELECT telem.drop_pipeline(name) FROM telem.pipelines;
DO $$ BEGIN PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname = 'land-and-load'; END $$;
RESET client_min_messages;

-- Azure SQL, configured once, the tds_fdw way
CREATE SERVER azure_sql FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername :'tds_host', port :'tds_port', database :'tds_db', tds_version '7.4');
CREATE USER MAPPING FOR CURRENT_USER SERVER azure_sql
  OPTIONS (username :'tds_user', password :'tds_password');

-- the raw equipment telemetry, landed in ADLS
CREATE FOREIGN TABLE raw.equipment (
  equipment_id text, ts timestamptz OPTIONS (epoch 'seconds'),
  temperature float8, pressure float8, vibration float8,
  _key text OPTIONS (metadata 'key')
) SERVER lake
  OPTIONS (location 'abfss://raw@devstoreaccount1.dfs.core.windows.net/equipment/', format 'jsonl');

-- transforms: plain SQL views. Clean, deduplicate, aggregate per minute,
-- flag anomalies. (Objects are hourly, so a minute never spans two.)
CREATE VIEW raw.equipment_minute AS
WITH clean AS (
  SELECT DISTINCT equipment_id, ts, temperature, pressure, vibration
    FROM raw.equipment
   WHERE equipment_id IS NOT NULL AND ts IS NOT NULL
     AND temperature BETWEEN -50 AND 200 AND pressure >= 0 AND vibration >= 0)
SELECT equipment_id, date_trunc('minute', ts) AS minute, count(*)::int AS readings,
       round(avg(temperature)::numeric, 2)::float8 AS avg_temperature,
       max(temperature) AS max_temperature, max(pressure) AS max_pressure,
       max(vibration) AS max_vibration,
       bool_or(temperature > 80) AS hot, bool_or(pressure > 4) AS over_pressure,
       bool_or(vibration > 4.5) AS vibrating
  FROM clean GROUP BY 1, 2;

CREATE VIEW raw.vehicle_minute AS
SELECT device_id, date_trunc('minute', ts) AS minute, count(*)::int AS readings,
       round(avg(speed_kmh)::numeric, 1)::float8 AS avg_speed_kmh,
       max(speed_kmh) AS max_speed_kmh, min(fuel_level) AS min_fuel,
       max(temp_c) AS max_engine_temp, bool_or(temp_c > 105) AS engine_hot
  FROM (SELECT DISTINCT device_id, ts, speed_kmh, fuel_level, temp_c FROM raw.vehicle
         WHERE device_id IS NOT NULL) v
 GROUP BY 1, 2;

SELECT telem.create_pipeline('equipment_minute', 'raw.equipment', 'raw.equipment_minute',
                             'dbo.equipment_minute', '{equipment_id,minute}', 'azure_sql');
SELECT telem.create_pipeline('vehicle_minute', 'raw.vehicle', 'raw.vehicle_minute',
                             'dbo.vehicle_minute', '{device_id,minute}', 'azure_sql');

-- the targets, created from the transforms' columns
\echo 'Target DDL (T-SQL, from telem.target_ddl):'
SELECT telem.target_ddl('equipment_minute') AS ddl \gset
\echo :ddl
SELECT telem.tds_exec('azure_sql', 'IF OBJECT_ID(N''dbo.equipment_minute'', N''U'') IS NULL ' || :'ddl') >= -1 AS created;
SELECT telem.tds_exec('azure_sql', 'IF OBJECT_ID(N''dbo.vehicle_minute'', N''U'') IS NULL ' ||
                      telem.target_ddl('vehicle_minute')) >= -1 AS created;

\echo
\echo 'First runs: everything in the lake so far'
SELECT pipeline, batch_id, objects, rows_read, rows_pushed, error FROM telem.run('equipment_minute');
SELECT pipeline, batch_id, objects, rows_read, rows_pushed, error FROM telem.run('vehicle_minute');
\echo 'A second run finds nothing new'
SELECT pipeline, batch_id, objects, rows_read, rows_pushed, error FROM telem.run('equipment_minute');

-- What pg_cron runs: land new raw objects in ADLS, then load them, every
-- 10 seconds for a minute (pg_cron 1.4 schedules by the minute; this is what
-- telem.schedule(pipeline, '10 seconds') does for a pipeline alone).
CREATE PROCEDURE raw.land_and_load(every integer DEFAULT 10)
LANGUAGE plpgsql AS $$
DECLARE
  deadline timestamptz := clock_timestamp() + interval '60 seconds';
  next_at timestamptz := clock_timestamp();
BEGIN
  WHILE next_at < deadline LOOP
    PERFORM telem.transfer('s3://fleet-raw/',
                           'abfss://raw@devstoreaccount1.dfs.core.windows.net/',
                           'fleet_s3', 'lake');
    COMMIT;
    PERFORM telem.run('equipment_minute');
    COMMIT;
    next_at := next_at + make_interval(secs => every);
    IF next_at < deadline THEN
      PERFORM pg_sleep(greatest(0, extract(epoch FROM next_at - clock_timestamp())));
    END IF;
  END LOOP;
END
$$;
\echo 'pg_cron now runs the transfer S3 -> ADLS and then equipment_minute every 10 seconds'
SELECT cron.schedule('land-and-load', '* * * * *', 'CALL raw.land_and_load(10)') > 0 AS scheduled;
