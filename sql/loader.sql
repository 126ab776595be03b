-- ===================================================================
-- the loader: pipelines, runs, the object ledger, run_log, status
-- (objects are local files the test writes with COPY ... TO)
-- ===================================================================
\getenv data_dir TELEM_DATA_DIR
\set ldir :data_dir '/loader/'
SET timezone = 'UTC';
CREATE SERVER loader_files FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
CREATE FOREIGN TABLE src (
  device_id text,
  ts        timestamptz OPTIONS (epoch 'seconds'),
  speed_kmh float8,
  temp_c    float8 OPTIONS (json_path 'engine.temp_c'),
  _key      text OPTIONS (metadata 'key')
) SERVER loader_files OPTIONS (location :'ldir', format 'jsonl');

-- the transform: cleaning, dedup, an anomaly flag
CREATE VIEW clean AS
SELECT DISTINCT ON (device_id, ts)
       device_id, ts, speed_kmh, temp_c, temp_c > 80 AS hot
  FROM src
 WHERE device_id IS NOT NULL AND speed_kmh >= 0
 ORDER BY device_id, ts, speed_kmh DESC;
CREATE TABLE readings (device_id text, ts timestamptz, speed_kmh float8,
                       temp_c float8, hot boolean, PRIMARY KEY (device_id, ts));

-- one helper to write an object: lines of JSON
CREATE FUNCTION write_object(path text, lines text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT unnest(%L::text[])) TO %L', lines, path);
END $$;

\set f1 :ldir 'day=21/part-1.jsonl'
\set f2 :ldir 'day=21/part-2.jsonl'
\set f3 :ldir 'day=22/part-1.jsonl'
SELECT write_object(:'f1', ARRAY[
  '{"device_id":"veh-1","ts":1795219200,"speed_kmh":50,"engine":{"temp_c":70}}',
  '{"device_id":"veh-1","ts":1795219260,"speed_kmh":55,"engine":{"temp_c":85}}',
  '{"device_id":"veh-2","ts":1795219200,"speed_kmh":-1,"engine":{"temp_c":60}}']);
SELECT write_object(:'f2', ARRAY[
  '{"device_id":"veh-2","ts":1795219260,"speed_kmh":30,"engine":{"temp_c":90}}',
  '{"device_id":"veh-1","ts":1795219260,"speed_kmh":54,"engine":{"temp_c":84}}']);

-- ===================================================================
-- defining pipelines
-- ===================================================================
\set VERBOSITY terse
SELECT telem.create_pipeline('vehicle', 'src', 'clean', 'readings', '{device_id,ts}');
SELECT telem.create_pipeline('vehicle', 'src', 'clean', 'readings', '{device_id,ts}');  -- ERROR
SELECT telem.create_pipeline('bad key', 'src', 'clean', 'readings');  -- ERROR
SELECT telem.create_pipeline('nokey', 'src', 'clean', 'readings', '{device}');  -- ERROR
SELECT telem.create_pipeline('notelem', 'readings', 'clean', 'readings');  -- ERROR
CREATE TABLE narrow (device_id text);
SELECT telem.create_pipeline('narrow', 'src', 'clean', 'narrow');  -- ERROR
SELECT telem.create_pipeline('remote', 'src', 'clean', '[dbo].[x]', '{}', 'loader_files');  -- ERROR
SELECT name, source, transform, target, key_columns, paused, last_batch_id FROM telem.pipelines;
\set VERBOSITY default

-- ===================================================================
-- remote targets: definitions and the T-SQL they imply
-- ===================================================================
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS tds_fdw;
RESET client_min_messages;
CREATE SERVER azure_sql FOREIGN DATA WRAPPER tds_fdw
  OPTIONS (servername '127.0.0.1', port '1', database 'fleet');
CREATE VIEW typed AS
SELECT device_id, ts, speed_kmh, speed_kmh::real AS speed_r, speed_kmh::numeric(8,2) AS speed_n,
       speed_kmh::numeric AS speed_any, temp_c::int AS temp_i, temp_c::bigint AS temp_b,
       temp_c::smallint AS temp_s, hot, ts::date AS day, ts::timestamp AS ts_local,
       device_id::varchar(32) AS short_name, to_jsonb(device_id) AS doc,
       gen_random_uuid() AS id
  FROM clean;
SELECT telem.create_pipeline('remote', 'src', 'typed', 'fleet.vehicle_readings',
                             '{device_id,ts}', 'azure_sql');
SELECT telem.create_pipeline('remote2', 'src', 'clean', '[my schema].[odd]]name]', '{}', 'azure_sql');
SELECT name, target, target_server FROM telem.pipelines WHERE target_server IS NOT NULL ORDER BY name;
SELECT telem.target_ddl('remote');
SELECT telem.target_ddl('remote2');
SELECT telem.target_ddl('vehicle');
\set VERBOSITY terse
SELECT telem.create_pipeline('remote3', 'src', 'clean', 'a.b.c', '{}', 'azure_sql');  -- ERROR
SELECT telem.target_ddl('nosuch');  -- ERROR
\set VERBOSITY default
SELECT telem.drop_pipeline('remote');
SELECT telem.drop_pipeline('remote2');

-- ===================================================================
-- runs: new objects only, exactly once
-- ===================================================================
SELECT regexp_replace(key, '^.*/loader/', '') AS key, size > 0 AS sized
  FROM telem.pending_objects('vehicle');
SELECT pipeline, batch_id, objects, rows_read, rows_rejected, rows_pushed, bytes > 0 AS bytes, error
  FROM telem.run('vehicle');
SELECT * FROM readings ORDER BY device_id, ts;
SELECT regexp_replace(key, '^.*/loader/', '') AS key, rows, batch_id, state
  FROM telem.object_ledger ORDER BY key;
-- nothing new: nothing read, nothing pushed
SELECT batch_id, objects, rows_read, rows_pushed, error FROM telem.run('vehicle');
-- a new object arrives: only it is read
SELECT write_object(:'f3', ARRAY[
  '{"device_id":"veh-3","ts":1795305600,"speed_kmh":99,"engine":{"temp_c":81}}']);
SELECT batch_id, objects, rows_read, rows_pushed, error FROM telem.run('vehicle');
-- an object overwritten in place (new etag) is read again, and its rows
-- replace the old ones through the keyed upsert
SELECT write_object(:'f2', ARRAY[
  '{"device_id":"veh-2","ts":1795219260,"speed_kmh":31,"engine":{"temp_c":95}}',
  '{"device_id":"veh-1","ts":1795219260,"speed_kmh":54,"engine":{"temp_c":84}}',
  '{"device_id":"veh-2","ts":1795219320,"speed_kmh":32,"engine":{"temp_c":70}}']);
SELECT regexp_replace(key, '^.*/loader/', '') AS key FROM telem.pending_objects('vehicle');
SELECT batch_id, objects, rows_read, rows_pushed, error FROM telem.run('vehicle');
SELECT * FROM readings ORDER BY device_id, ts;
SELECT regexp_replace(key, '^.*/loader/', '') AS key, rows, batch_id
  FROM telem.object_ledger ORDER BY key;

-- a failing run loads nothing, and says why in run_log
CREATE VIEW dup AS SELECT device_id, ts, speed_kmh, temp_c, false AS hot FROM src
  UNION ALL SELECT device_id, ts, speed_kmh, temp_c, false FROM src;
CREATE TABLE readings2 (LIKE readings INCLUDING ALL);
SELECT telem.create_pipeline('dup', 'src', 'dup', 'readings2', '{device_id,ts}');
SELECT batch_id, objects, rows_pushed, error FROM telem.run('dup');
SELECT count(*) FROM readings2;
SELECT count(*) FROM telem.object_ledger WHERE pipeline = 'dup';
SELECT last_batch_id FROM telem.pipelines WHERE name = 'dup';
-- incremental listing lists only keys after the last one loaded: cheap
-- for time-ordered keys, blind to objects overwritten in place
CREATE TABLE readings3 (LIKE readings INCLUDING ALL);
SELECT telem.create_pipeline('incr', 'src', 'clean', 'readings3', '{device_id,ts}',
                             options => '{"listing": "incremental"}');
SELECT objects, rows_read, error FROM telem.run('incr');
SELECT write_object(:'f1', ARRAY[
  '{"device_id":"veh-1","ts":1795219200,"speed_kmh":51,"engine":{"temp_c":70}}']);
SELECT regexp_replace(key, '^.*/loader/', '') AS key FROM telem.pending_objects('vehicle');
SELECT regexp_replace(key, '^.*/loader/', '') AS key FROM telem.pending_objects('incr');
SELECT objects, error FROM telem.run('incr');
\set VERBOSITY terse
SELECT telem.create_pipeline('badopt', 'src', 'clean', 'readings3', options => '{"listing": "sometimes"}');  -- ERROR
SELECT telem.create_pipeline('badopt', 'src', 'clean', 'readings3', options => '{"lsting": "full"}');  -- ERROR
\set VERBOSITY default
SELECT telem.drop_pipeline('incr');
SELECT error IS NULL AS caught_up FROM telem.run('vehicle');

-- a pipeline without keys appends
CREATE TABLE appended (device_id text, ts timestamptz, speed_kmh float8, temp_c float8, hot boolean);
SELECT telem.create_pipeline('append', 'src', 'SELECT device_id, ts, speed_kmh FROM src', 'appended');
SELECT batch_id, objects, rows_read, rows_pushed, error FROM telem.run('append');
SELECT batch_id, objects, rows_read, rows_pushed, error FROM telem.run('append');
SELECT count(*) FROM appended;

-- ===================================================================
-- pause, resume, status, run_log
-- ===================================================================
SELECT telem.pause('vehicle');
SELECT write_object(:'ldir' || 'day=22/part-2.jsonl', ARRAY[
  '{"device_id":"veh-4","ts":1795305660,"speed_kmh":10,"engine":{"temp_c":50}}']);
SELECT objects, error FROM telem.run('vehicle');
SELECT pipeline, paused, last_run_ok, last_rows_pushed, backlog_objects, lag > interval '0' AS lagging,
       errors_last_day, last_error
  FROM telem.status ORDER BY pipeline;
SELECT telem.resume('vehicle');
SELECT objects, rows_pushed, error FROM telem.run('vehicle');
SELECT pipeline, backlog_objects, lag FROM telem.status WHERE pipeline = 'vehicle';
SELECT pipeline, batch_id, objects, rows_read, rows_rejected, rows_pushed, error,
       finished_at >= started_at AS timed
  FROM telem.run_log ORDER BY run_id;
SELECT telem.pause('nosuch');  -- ERROR

-- ===================================================================
-- the loader's scan restriction ends with the transaction
-- ===================================================================
BEGIN;
SELECT telem.restrict_scan('src', ARRAY[:'f3'], ARRAY[NULL::text], ARRAY[0::bigint], ARRAY[now()]);
SELECT count(*) FROM src;  -- reads only the restricted object
COMMIT;
SELECT count(*) FROM src;  -- the whole listing again
SELECT telem.restrict_scan('src', ARRAY['a','b'], ARRAY['x'], ARRAY[1::bigint], ARRAY[now()]);  -- ERROR

-- ===================================================================
-- clean up
-- ===================================================================
SELECT telem.drop_pipeline('vehicle');
SELECT telem.drop_pipeline('vehicle');  -- ERROR
SELECT telem.drop_pipeline('dup');
SELECT telem.drop_pipeline('append');
SELECT count(*) FROM telem.object_ledger;
DROP SERVER loader_files CASCADE;
DROP SERVER azure_sql;
DROP TABLE readings, readings2, readings3, appended, narrow;
DROP FUNCTION write_object(text, text[]);
