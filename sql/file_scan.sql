-- ===================================================================
-- scans of a local directory (provider 'file')
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv data_dir TELEM_DATA_DIR
\set base :data_dir '/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
CREATE SERVER regress_file FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
CREATE SCHEMA file_scan;
SET search_path = file_scan, public;
\set srv regress_file
\i sql/include/scan_cases.sql
\i sql/include/prune_cases.sql

-- ===================================================================
-- file-only behaviour
-- ===================================================================
-- a location that names no file is an error naming it
\set loc :base 'no/such/dir/'
CREATE FOREIGN TABLE missing (device_id text)
  SERVER regress_file OPTIONS (location :'loc', format 'jsonl');
SELECT regress_error('SELECT * FROM missing');
-- file:// URLs name the same files
\set loc 'file://' :base 'vehicle/year=2026/month=11/day=20/'
CREATE FOREIGN TABLE file_url (device_id text)
  SERVER regress_file OPTIONS (location :'loc', format 'jsonl');
SELECT count(*) FROM file_url;
-- an S3 location on a file server is refused at scan time
CREATE FOREIGN TABLE wrong_provider (device_id text)
  SERVER regress_file OPTIONS (location 's3://bucket/x/', format 'jsonl');
SELECT regress_error('SELECT * FROM wrong_provider');
-- 1,500 objects
\set loc :base 'many/'
CREATE FOREIGN TABLE many (n int, _key text OPTIONS (metadata 'key'))
  SERVER regress_file OPTIONS (location :'loc', format 'jsonl');
SELECT count(*), count(DISTINCT _key), sum(n), min(n), max(n) FROM many;

RESET search_path;
DROP SCHEMA file_scan CASCADE;
DROP SERVER regress_file;
