-- ===================================================================
-- IMPORT FOREIGN SCHEMA: tables and inferred columns from the fixtures
-- under import/, on the file store, S3 (RGW) and Azure (Azurite)
-- ===================================================================
\i sql/include/regress_helpers.sql
-- what IMPORT made: columns with their options, and table options with the
-- store's root replaced
CREATE FUNCTION import_columns(s text)
RETURNS TABLE (tab name, col name, typ text, options text)
LANGUAGE sql AS $fn$
  SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
         array_to_string(a.attfdwoptions, ', ')
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
   WHERE c.relnamespace = s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY c.relname, a.attnum
$fn$;
CREATE FUNCTION import_tables(s text)
RETURNS TABLE (tab name, options text)
LANGUAGE sql AS $fn$
  SELECT c.relname,
         replace(array_to_string(ft.ftoptions, ', '),
                 current_setting('regress.base'), '<base>/')
    FROM pg_class c JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
   WHERE c.relnamespace = s::regnamespace
   ORDER BY c.relname
$fn$;

-- ===================================================================
-- file store
-- ===================================================================
\getenv data_dir TELEM_DATA_DIR
\set base :data_dir '/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
CREATE SERVER regress_import_file FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
\set srv regress_import_file
\i sql/include/import_cases.sql

-- a local location needs pg_read_server_files, as a table's does
CREATE ROLE regress_import_noread;
GRANT USAGE ON FOREIGN SERVER regress_import_file TO regress_import_noread;
CREATE SCHEMA imp_priv AUTHORIZATION regress_import_noread;
SET ROLE regress_import_noread;
SELECT regress_error(format('IMPORT FOREIGN SCHEMA x FROM SERVER regress_import_file INTO imp_priv OPTIONS (location %L)', :'base' || 'import/')); -- ERROR
RESET ROLE;
DROP SCHEMA imp_priv;
REVOKE USAGE ON FOREIGN SERVER regress_import_file FROM regress_import_noread;
DROP ROLE regress_import_noread;
-- an S3 location on a file server
SELECT regress_error('IMPORT FOREIGN SCHEMA "s3://telem-regress/import/" FROM SERVER regress_import_file INTO public'); -- ERROR
DROP SERVER regress_import_file;

-- ===================================================================
-- S3
-- ===================================================================
\getenv s3_endpoint TELEM_S3_ENDPOINT
\getenv s3_key TELEM_S3_ACCESS_KEY
\getenv s3_secret TELEM_S3_SECRET_KEY
\set base 's3://telem-regress/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
CREATE SERVER regress_import_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint', region 'us-east-1', url_style 'path');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_import_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
\set srv regress_import_s3
\i sql/include/import_cases.sql

-- the location as the remote schema name, with the NOTICEs about what is
-- left out: the object directly under it, the child named "_tmp" silently
CREATE SCHEMA imp_s3;
IMPORT FOREIGN SCHEMA "s3://telem-regress/import/" LIMIT TO (daily, vehicle)
  FROM SERVER regress_import_s3 INTO imp_s3;
SELECT * FROM import_tables('imp_s3');
SELECT count(*) FROM imp_s3.vehicle;
-- a location without its trailing '/' names the same prefix
IMPORT FOREIGN SCHEMA "s3://telem-regress/import" LIMIT TO (weird)
  FROM SERVER regress_import_s3 INTO imp_s3;
SELECT * FROM import_tables('imp_s3') WHERE tab = 'weird';
-- a location whose children are all partitions is one table, named after
-- its last segment that is no name=value
CREATE SCHEMA imp_s3_part;
-- (day 21 is gzip and day 22 zstd: sampling decompresses as scans do)
IMPORT FOREIGN SCHEMA "s3://telem-regress/vehicle/year=2026/month=11"
  FROM SERVER regress_import_s3 INTO imp_s3_part OPTIONS (compression 'auto');
SELECT * FROM import_tables('imp_s3_part');
SELECT col, typ, options FROM import_columns('imp_s3_part') WHERE col IN ('ts', 'day', 'odometer');
SELECT count(*), min(day), max(day) FROM imp_s3_part.vehicle;
-- partition values are percent-decoded, as scans decode them
IMPORT FOREIGN SCHEMA "s3://telem-regress/sites/"
  FROM SERVER regress_import_s3 INTO imp_s3_part;
SELECT * FROM import_columns('imp_s3_part') WHERE tab = 'sites';
SELECT * FROM imp_s3_part.sites ORDER BY site;
-- partitions next to plain children are left out, with a NOTICE
IMPORT FOREIGN SCHEMA "s3://telem-regress/import/mixed/"
  FROM SERVER regress_import_s3 INTO imp_s3_part;
SELECT * FROM import_tables('imp_s3_part') WHERE tab = 'plain';
-- one key a page: the level listing pages through the children (a store
-- without list_level would look in the first 10 pages of a flat listing)
CREATE SERVER regress_import_s3_small FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint', region 'us-east-1', url_style 'path',
           page_size '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_import_s3_small
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
IMPORT FOREIGN SCHEMA "s3://telem-regress/" LIMIT TO (nosuch)
  FROM SERVER regress_import_s3_small INTO imp_s3;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_import_s3_small;
DROP SERVER regress_import_s3_small;
SET client_min_messages = warning;
DROP SCHEMA imp_s3, imp_s3_part CASCADE;
RESET client_min_messages;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_import_s3;
DROP SERVER regress_import_s3;

-- ===================================================================
-- Azure (the location is longer than an identifier: OPTIONS only)
-- ===================================================================
\getenv az_endpoint TELEM_AZURE_BLOB_ENDPOINT
\getenv az_key TELEM_AZURE_KEY
\getenv az_ca TELEM_AZURE_CA_FILE
\set base 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
CREATE SERVER regress_import_az FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_import_az
  OPTIONS (account_key :'az_key');
\set srv regress_import_az
\i sql/include/import_cases.sql
DROP USER MAPPING FOR CURRENT_USER SERVER regress_import_az;
DROP SERVER regress_import_az;

DROP FUNCTION import_columns(text), import_tables(text);
