-- ===================================================================
-- parallel foreign scans: a shared queue of objects and byte-range splits
-- ===================================================================
-- The seed writes parallel/t.jsonl (20,001 lines, ~4.8 MB, the last line
-- without a newline); with split_size 1 MB it is five splits that resync
-- at the next newline.  Every answer must equal the serial scan's.
\i sql/include/regress_helpers.sql
\getenv data_dir TELEM_DATA_DIR
\getenv s3_endpoint TELEM_S3_ENDPOINT
\getenv s3_key TELEM_S3_ACCESS_KEY
\getenv s3_secret TELEM_S3_SECRET_KEY
\set base :data_dir '/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
CREATE SERVER regress_par_file FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
CREATE SERVER regress_par_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint', region 'us-east-1', url_style 'path');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_par_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
\set loc :base 'parallel/'
CREATE FOREIGN TABLE par_file (device_id text, speed_kmh float8, rpm int OPTIONS (json_path 'engine.rpm'),
                               _line int8 OPTIONS (metadata 'line_number'))
  SERVER regress_par_file OPTIONS (location :'loc', format 'jsonl');
CREATE FOREIGN TABLE par_s3 (device_id text, speed_kmh float8,
                             rpm int OPTIONS (json_path 'engine.rpm'))
  SERVER regress_par_s3 OPTIONS (location 's3://telem-regress/parallel/', format 'jsonl');
CREATE FOREIGN TABLE par_lake (v int, day int OPTIONS (partition 'day'))
  SERVER regress_par_s3 OPTIONS (location 's3://telem-regress/lake/', format 'jsonl');

-- the serial answers
CREATE TEMP TABLE serial AS
  SELECT 'file' AS t, count(*) AS n, count(DISTINCT device_id) AS devices,
         sum(speed_kmh::numeric) AS speed, sum(rpm) AS rpm
    FROM par_file
  UNION ALL
  SELECT 's3', count(*), count(DISTINCT device_id), sum(speed_kmh::numeric), sum(rpm)
    FROM par_s3;
SELECT * FROM serial ORDER BY t;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET max_parallel_workers_per_gather = 2;
SET telem_fdw.split_size = '1MB';
SELECT regress_explain('EXPLAIN (COSTS OFF) SELECT count(*) FROM par_file');
-- the same rows, whichever participant read which split
SELECT s.t, p.n = s.n AS same_count, p.devices = s.devices AS same_devices,
       p.speed = s.speed AS same_speed, p.rpm = s.rpm AS same_rpm
  FROM serial s JOIN (
    SELECT 'file' AS t, count(*) AS n, count(DISTINCT device_id) AS devices,
           sum(speed_kmh::numeric) AS speed, sum(rpm) AS rpm FROM par_file
    UNION ALL
    SELECT 's3', count(*), count(DISTINCT device_id), sum(speed_kmh::numeric), sum(rpm)
      FROM par_s3) p USING (t)
  ORDER BY 1;
-- the last line, without a newline, is read once
SELECT count(*) FROM par_file WHERE device_id = 'veh-last';
-- counters sum over the participants: one object, read once (how many
-- workers ran, and so the loops and rows per loop, varies)
CREATE FUNCTION par_counters(q text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(c, 'loops=\d+ rows=\d+ ', '')
    FROM regress_counters(q) c
$$;
SELECT par_counters('SELECT count(*) FROM par_s3');
-- pruning happens once, in the leader
SELECT sum(v) FROM par_lake WHERE day IN (1, 2);
SELECT par_counters('SELECT sum(v) FROM par_lake WHERE day IN (1, 2)');
-- line numbers count from an object's start, so a query that needs them
-- reads the object whole (no splits), with the same answer
SELECT count(*), max(_line), count(DISTINCT _line) FROM par_file;
-- splits every 1 MB of a 4.8 MB object, and no splits: same answer
SET telem_fdw.split_size = '1GB';
SELECT count(*) FROM par_file;
RESET telem_fdw.split_size;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;

DROP FOREIGN TABLE par_file, par_s3, par_lake;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_par_s3;
DROP SERVER regress_par_s3;
DROP SERVER regress_par_file;
