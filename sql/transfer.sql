-- ===================================================================
-- telem.transfer: S3 -> Azure, Azure -> S3 and local -> Azure; reruns,
-- changed and deleted objects, the ledger and the run log
-- (the large, multi-process cases are in test/t/transfer.sh)
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv s3_endpoint TELEM_S3_ENDPOINT
\getenv s3_key TELEM_S3_ACCESS_KEY
\getenv s3_secret TELEM_S3_SECRET_KEY
\getenv az_endpoint TELEM_AZURE_BLOB_ENDPOINT
\getenv az_key TELEM_AZURE_KEY
\getenv az_ca TELEM_AZURE_CA_FILE
\getenv state_dir TELEM_STATE_DIR
SET timezone = 'UTC';
CREATE SERVER xfer_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER xfer_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
CREATE SERVER xfer_az FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER xfer_az OPTIONS (account_key :'az_key');
CREATE SERVER xfer_files FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
\set lake 'abfss://transfer-regress@devstoreaccount1.dfs.core.windows.net/'

-- the same rows, read from the source and from the copy
CREATE FOREIGN TABLE src_vehicle (device_id text, speed_kmh float8, _line int8 OPTIONS (metadata 'line_number'),
                                  _key text OPTIONS (metadata 'key'))
  SERVER xfer_s3 OPTIONS (location 's3://telem-regress/vehicle/', format 'jsonl');
\set loc :lake 'vehicle/'
CREATE FOREIGN TABLE lake_vehicle (device_id text, speed_kmh float8, _line int8 OPTIONS (metadata 'line_number'),
                                   _key text OPTIONS (metadata 'key'))
  SERVER xfer_az OPTIONS (location :'loc', format 'jsonl');
CREATE FUNCTION rows_digest(tab regclass, prefix text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
  EXECUTE format($q$SELECT count(*) || ' rows, md5 ' || left(md5(string_agg(
                   concat_ws('|', substr(_key, length(%L) + 1), _line, device_id, speed_kmh),
                   ',' ORDER BY _key, _line)), 12) FROM %s$q$, prefix, tab) INTO d;
  RETURN d;
END $$;

-- S3 -> Azure: everything is new
SELECT * FROM telem.transfer('s3://telem-regress/vehicle/', :'loc', 'xfer_s3', 'xfer_az');
SELECT rows_digest('src_vehicle', 'vehicle/') = rows_digest('lake_vehicle', 'vehicle/') AS same_rows,
       rows_digest('lake_vehicle', 'vehicle/') AS lake;
-- sizes as listed on each side, and the ledger's record of them
SELECT s.key, s.size, t.size AS target_size, l.target_key, l.etag = s.etag AS ledger_etag,
       l.target_etag IS NOT NULL AS has_target_etag
  FROM telem.store_objects('xfer_s3', 's3://telem-regress/vehicle/') s
  JOIN telem.store_objects('xfer_az', :'loc') t ON t.key = s.key
  JOIN telem.transfer_ledger l ON l.key = s.key AND l.target = :'loc'
 ORDER BY 1;
-- a rerun with nothing new copies nothing
SELECT * FROM telem.transfer('s3://telem-regress/vehicle/', :'loc', 'xfer_s3', 'xfer_az');
-- copies that were committed but never recorded (the run died before its
-- transaction committed) are recognized by their telem_source metadata
-- and adopted, not copied again
DELETE FROM telem.transfer_ledger WHERE target = :'loc';
SELECT * FROM telem.transfer('s3://telem-regress/vehicle/', :'loc', 'xfer_s3', 'xfer_az');
SELECT count(*) AS ledger_rows FROM telem.transfer_ledger WHERE target = :'loc';

-- Azure -> S3, with 5 MB parts
SELECT * FROM telem.transfer(:'loc', 's3://transfer-regress/back/', 'xfer_az', 'xfer_s3',
                             block_size_mb => 5);
CREATE FOREIGN TABLE back_vehicle (device_id text, speed_kmh float8, _line int8 OPTIONS (metadata 'line_number'),
                                   _key text OPTIONS (metadata 'key'))
  SERVER xfer_s3 OPTIONS (location 's3://transfer-regress/back/', format 'jsonl');
SELECT rows_digest('back_vehicle', 'back/') = rows_digest('src_vehicle', 'vehicle/') AS same_rows;

-- local files -> Azure: a changed object is copied again, a deleted one
-- stays unless deletes are mirrored
\set xdir :state_dir '/xfer/'
CREATE FUNCTION write_object(path text, lines text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('COPY (SELECT unnest(%L::text[])) TO %L', lines, path);
END $$;
\set f1 :xdir 'a.jsonl'
\set f2 :xdir 'b.jsonl'
SELECT write_object(:'f1', ARRAY['{"device_id":"a","speed_kmh":1}']);
SELECT write_object(:'f2', ARRAY['{"device_id":"b","speed_kmh":2}']);
\set floc :lake 'files/'
SELECT objects_copied, objects_skipped, objects_failed, error
  FROM telem.transfer(:'xdir', :'floc', 'xfer_files', 'xfer_az');
SELECT write_object(:'f2', ARRAY['{"device_id":"b","speed_kmh":2}', '{"device_id":"b","speed_kmh":3}']);
SELECT objects_copied, objects_skipped, objects_failed, error
  FROM telem.transfer(:'xdir', :'floc', 'xfer_files', 'xfer_az');
CREATE FOREIGN TABLE lake_files (device_id text, speed_kmh float8) SERVER xfer_az
  OPTIONS (location :'floc', format 'jsonl');
SELECT * FROM lake_files ORDER BY 1, 2;
-- ...to S3, then a.jsonl is deleted at the (Azure) source: the target
-- keeps it by default, and loses it when deletes are mirrored
SELECT objects_copied, objects_failed, error
  FROM telem.transfer(:'floc', 's3://transfer-regress/files/', 'xfer_az', 'xfer_s3');
\set fa :floc 'a.jsonl'
SELECT telem._remove_object('xfer_az', :'floc', 'files/a.jsonl');
SELECT objects_copied, objects_skipped, objects_deleted, error
  FROM telem.transfer(:'floc', 's3://transfer-regress/files/', 'xfer_az', 'xfer_s3');
SELECT key FROM telem.store_objects('xfer_s3', 's3://transfer-regress/files/') ORDER BY 1;
SELECT objects_copied, objects_skipped, objects_deleted, error
  FROM telem.transfer(:'floc', 's3://transfer-regress/files/', 'xfer_az', 'xfer_s3',
                      mirror_deletes => true);
SELECT key FROM telem.store_objects('xfer_s3', 's3://transfer-regress/files/') ORDER BY 1;
SELECT key, target_key FROM telem.transfer_ledger
 WHERE target = 's3://transfer-regress/files/' ORDER BY 1;
-- removing what is not there is fine
SELECT telem._remove_object('xfer_az', :'floc', 'files/a.jsonl');

-- ===================================================================
-- errors
-- ===================================================================
-- a local directory is no target
SELECT objects_copied, error
  FROM telem.transfer('s3://telem-regress/vehicle/', '/tmp/x/', 'xfer_s3', 'xfer_files');
-- S3 parts must be at least 5 MB: every object fails, each is counted
SELECT objects_copied, objects_failed, error
  FROM telem.transfer(:'loc', 's3://transfer-regress/small-parts/', 'xfer_az', 'xfer_s3',
                      block_size_mb => 1);
-- a listing that fails copies nothing, and says why
SELECT objects_copied, objects_failed, error
  FROM telem.transfer('s3://no-such-bucket/x/', :'loc', 'xfer_s3', 'xfer_az');
-- a location that does not match its server
SELECT objects_copied, error
  FROM telem.transfer('s3://telem-regress/vehicle/', :'loc', 'xfer_az', 'xfer_az');
SELECT objects_copied, error
  FROM telem.transfer('s3://telem-regress/vehicle/', 'x', 'xfer_s3', 'no_such_server');
SELECT regress_error($$SELECT * FROM telem.transfer(NULL, 'x', 'xfer_s3', 'xfer_az')$$);
SELECT regress_error($$SELECT * FROM telem.transfer('s3://telem-regress/vehicle/', 'x', 'xfer_s3', 'xfer_az', max_objects => 0)$$);
-- max_objects: one object per run
\set mloc :lake 'one-by-one/'
SELECT objects_copied, objects_skipped
  FROM telem.transfer('s3://telem-regress/vehicle/', :'mloc', 'xfer_s3', 'xfer_az', max_objects => 1);
SELECT objects_copied, objects_skipped
  FROM telem.transfer('s3://telem-regress/vehicle/', :'mloc', 'xfer_s3', 'xfer_az', max_objects => 1);
-- a user without USAGE on the servers
CREATE ROLE regress_xfer_user;
GRANT USAGE ON SCHEMA telem TO regress_xfer_user;
GRANT EXECUTE ON FUNCTION telem.transfer(text, text, name, name, boolean, integer, integer),
                          telem.store_objects(name, text, text),
                          telem._check_location(name, text, boolean),
                          telem._transfer_object(name, text, text, text, bigint, timestamptz, name, text, integer)
   TO regress_xfer_user;
GRANT SELECT, INSERT, UPDATE ON telem.transfer_ledger TO regress_xfer_user;
GRANT SELECT, INSERT ON telem.run_log TO regress_xfer_user;
GRANT USAGE ON SEQUENCE telem.run_log_run_id_seq TO regress_xfer_user;
SET ROLE regress_xfer_user;
SELECT objects_copied, error
  FROM telem.transfer('s3://telem-regress/vehicle/', :'loc', 'xfer_s3', 'xfer_az');
RESET ROLE;
REVOKE ALL ON SCHEMA telem FROM regress_xfer_user;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telem FROM regress_xfer_user;
REVOKE ALL ON ALL TABLES IN SCHEMA telem FROM regress_xfer_user;
REVOKE ALL ON SEQUENCE telem.run_log_run_id_seq FROM regress_xfer_user;
DROP ROLE regress_xfer_user;

-- every run is in the run log
SELECT replace(pipeline, :'state_dir', '<state>') AS pipeline, objects, bytes > 0 AS has_bytes, details->>'objects_skipped' AS skipped,
       details->>'objects_failed' AS failed, details->>'objects_deleted' AS deleted,
       error IS NOT NULL AS has_error
  FROM telem.run_log WHERE kind = 'transfer' ORDER BY run_id;
-- and the pipelines' status does not show them
SELECT count(*) FROM telem.status;

DROP SERVER xfer_s3, xfer_az, xfer_files CASCADE;
DELETE FROM telem.transfer_ledger;
DELETE FROM telem.run_log WHERE kind = 'transfer';
