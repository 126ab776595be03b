-- ===================================================================
-- pg_cron scheduling: runs in cron.database_name (the harness's "telem"),
-- the only database where pg_cron runs jobs
-- ===================================================================
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_cron;
DROP EXTENSION IF EXISTS telem_fdw CASCADE;
CREATE EXTENSION telem_fdw;
RESET client_min_messages;
\getenv data_dir TELEM_DATA_DIR
\set loc :data_dir '/vehicle/'
CREATE SERVER cron_files FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
CREATE FOREIGN TABLE cron_src (device_id text, ts timestamptz OPTIONS (epoch 'seconds'),
                               speed_kmh float8)
  SERVER cron_files OPTIONS (location :'loc', format 'jsonl');
CREATE TABLE cron_target (device_id text, ts timestamptz, speed_kmh float8,
                          PRIMARY KEY (device_id, ts));
SELECT telem.create_pipeline('cron_vehicle', 'cron_src',
                             'SELECT device_id, ts, speed_kmh FROM cron_src',
                             'cron_target', '{device_id,ts}');

-- errors first
\set VERBOSITY terse
SELECT telem.schedule('nosuch', '* * * * *');  -- ERROR
SELECT telem.schedule('cron_vehicle', '7 seconds');  -- ERROR
SELECT telem.unschedule('cron_vehicle');  -- ERROR
\set VERBOSITY default

-- a cron expression runs telem.run; a seconds schedule runs
-- telem.run_every every minute
SELECT telem.schedule('cron_vehicle', '*/5 * * * *') > 0 AS scheduled;
SELECT jobname, schedule, command FROM cron.job WHERE jobname LIKE 'telem:%';
SELECT telem.schedule('cron_vehicle', '2 seconds') > 0 AS rescheduled;
SELECT jobname, schedule, command FROM cron.job WHERE jobname LIKE 'telem:%';

-- wait (at most 150 s) until pg_cron has run the pipeline twice: the
-- first run loads the objects, the later ones find nothing new
DO $$
BEGIN
  FOR i IN 1..150 LOOP
    EXIT WHEN (SELECT count(*) FROM telem.run_log WHERE pipeline = 'cron_vehicle') >= 2;
    PERFORM pg_sleep(1);
  END LOOP;
END $$;
SELECT telem.unschedule('cron_vehicle');
SELECT count(*) FROM cron.job WHERE jobname LIKE 'telem:%';
-- stop the minute-long job that is still running
SELECT count(*) >= 0 AS stopped FROM (
  SELECT pg_cancel_backend(pid) FROM pg_stat_activity
   WHERE query LIKE 'CALL telem.run_every%' AND pid <> pg_backend_pid()) s;

SELECT (SELECT count(*) FROM telem.run_log WHERE pipeline = 'cron_vehicle') >= 2 AS ran_twice,
       (SELECT objects FROM telem.run_log WHERE pipeline = 'cron_vehicle' ORDER BY run_id LIMIT 1) AS first_objects,
       (SELECT sum(objects) FROM telem.run_log WHERE pipeline = 'cron_vehicle') AS all_objects,
       (SELECT count(*) FROM telem.run_log WHERE pipeline = 'cron_vehicle' AND error IS NOT NULL) AS errors;
SELECT count(*) FROM cron_target;
-- pg_cron recorded running our command
SELECT count(*) > 0 AS recorded FROM cron.job_run_details
 WHERE command = 'CALL telem.run_every(''cron_vehicle'', 2)';

-- clean up (the cancelled job may still hold a lock for a moment)
SELECT pg_sleep(1);
SET client_min_messages = warning;
DROP EXTENSION telem_fdw CASCADE;
DROP TABLE cron_target;
