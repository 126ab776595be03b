-- ===================================================================
-- scans of Azure Blob Storage / ADLS Gen2 (Azurite, over HTTPS, which
-- checks Shared Key signatures and bearer tokens)
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv az_endpoint TELEM_AZURE_BLOB_ENDPOINT
\getenv az_key TELEM_AZURE_KEY
\getenv az_ca TELEM_AZURE_CA_FILE
\set base 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
CREATE SERVER regress_az FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_az
  OPTIONS (account_key :'az_key');
CREATE SCHEMA azure_scan;
SET search_path = azure_scan, public;
\set srv regress_az
\i sql/include/scan_cases.sql
\i sql/include/prune_cases.sql

-- ===================================================================
-- Azure-only behaviour
-- ===================================================================
-- the three location forms name the same objects; az:// takes the
-- account from the server
CREATE SERVER regress_az_account FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca',
           account 'devstoreaccount1');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_az_account
  OPTIONS (account_key :'az_key');
CREATE FOREIGN TABLE form_abfss (device_id text) SERVER regress_az
  OPTIONS (location 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/vehicle/', format 'jsonl');
CREATE FOREIGN TABLE form_az (device_id text) SERVER regress_az_account
  OPTIONS (location 'az://telem-regress/vehicle/', format 'jsonl');
CREATE FOREIGN TABLE form_https (device_id text) SERVER regress_az
  OPTIONS (location 'https://devstoreaccount1.blob.core.windows.net/telem-regress/vehicle/', format 'jsonl');
SELECT (SELECT count(*) FROM form_abfss) AS abfss, (SELECT count(*) FROM form_az) AS az,
       (SELECT count(*) FROM form_https) AS https;
-- az:// on a server without an account
CREATE FOREIGN TABLE form_az_noaccount (device_id text) SERVER regress_az
  OPTIONS (location 'az://telem-regress/vehicle/', format 'jsonl');
SELECT regress_error('SELECT count(*) FROM form_az_noaccount');
-- a prefix with no blobs is an empty table; a missing container is an error
CREATE FOREIGN TABLE empty_prefix (device_id text) SERVER regress_az
  OPTIONS (location 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/no/such/prefix/', format 'jsonl');
SELECT count(*) FROM empty_prefix;
CREATE FOREIGN TABLE no_container (device_id text) SERVER regress_az
  OPTIONS (location 'abfss://no-such-container@devstoreaccount1.dfs.core.windows.net/x/', format 'jsonl');
SELECT regress_error('SELECT count(*) FROM no_container');
-- an S3 location on an Azure server is refused at scan time
CREATE FOREIGN TABLE wrong_provider (device_id text) SERVER regress_az
  OPTIONS (location 's3://telem-regress/vehicle/', format 'jsonl');
SELECT regress_error('SELECT * FROM wrong_provider');

-- ===================================================================
-- listing: Azure pages hold up to 5,000 blobs; 5,001 take two, and a
-- smaller page_size more
-- ===================================================================
CREATE FOREIGN TABLE many5k (n int, _key text OPTIONS (metadata 'key')) SERVER regress_az
  OPTIONS (location 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/many5k/', format 'jsonl');
-- one scan: every blob once, in key order
SELECT count(*), count(DISTINCT k), sum(n), min(n), max(n), bool_and(k > prev) AS ordered
  FROM (SELECT n, _key AS k, lag(_key, 1, '') OVER () AS prev FROM many5k) s;
SELECT regress_explain('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM many5k');
-- pages of 1,000 (the listing alone)
ALTER SERVER regress_az OPTIONS (ADD page_size '1000');
SELECT count(*), count(DISTINCT key), min(key), max(key) FROM telem.list_objects('many5k');
ALTER SERVER regress_az OPTIONS (DROP page_size);
-- the loader's listing, and start-after (Azure has none: emulated)
SELECT count(*), min(key), max(key) FROM telem.list_objects('many5k', 'many5k/obj-4990.jsonl');
SELECT count(*), min(key) FROM telem.store_objects('regress_az',
  'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/many/obj-14');

RESET search_path;
DROP SCHEMA azure_scan CASCADE;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_az;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_az_account;
DROP SERVER regress_az, regress_az_account;
