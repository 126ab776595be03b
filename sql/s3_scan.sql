-- ===================================================================
-- scans of S3 (the Ceph RADOS Gateway stand-in, which checks SigV4)
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv s3_endpoint TELEM_S3_ENDPOINT
\getenv s3_key TELEM_S3_ACCESS_KEY
\getenv s3_secret TELEM_S3_SECRET_KEY
\set base 's3://telem-regress/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
CREATE SERVER regress_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint', region 'us-east-1', url_style 'path');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
CREATE SCHEMA s3_scan;
SET search_path = s3_scan, public;
\set srv regress_s3
\i sql/include/scan_cases.sql
\i sql/include/prune_cases.sql

-- ===================================================================
-- S3-only behaviour
-- ===================================================================
-- a prefix with no objects is an empty table
CREATE FOREIGN TABLE empty_prefix (device_id text)
  SERVER regress_s3 OPTIONS (location 's3://telem-regress/no/such/prefix/', format 'jsonl');
SELECT count(*) FROM empty_prefix;
-- a local location on an S3 server is refused at scan time
CREATE FOREIGN TABLE wrong_provider (device_id text)
  SERVER regress_s3 OPTIONS (location '/tmp/x/', format 'jsonl');
SELECT regress_error('SELECT * FROM wrong_provider');

RESET search_path;
DROP SCHEMA s3_scan CASCADE;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_s3;
DROP SERVER regress_s3;
