-- demo/transfer.sql -- land the raw telemetry in the lake: S3 -> ADLS with
-- telem.transfer, for demo/run.sh.
-- Variables: :s3_endpoint, :s3_key, :s3_secret (the S3 stand-in's),
-- :az_endpoint, :az_ca, :az_key (the Azure stand-in's: Azurite's blob
-- endpoint with its account path, the CA of its certificate, its Shared Key).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telem_fdw;
DROP SERVER IF EXISTS fleet_s3 CASCADE;
DROP SERVER IF EXISTS lake CASCADE;
DELETE FROM telem.transfer_ledger;

-- where the fleet writes: S3
CREATE SERVER fleet_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', region 'us-east-1', endpoint :'s3_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER fleet_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');

-- the lake: ADLS Gen2 (abfss:// locations). On Azure, drop endpoint and
-- ca_file; the user mapping may instead hold a SAS token, a service
-- principal or credential_source 'managed_identity' (docs/azure.md).
CREATE SERVER lake FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER lake OPTIONS (account_key :'az_key');
RESET client_min_messages;

\pset footer off
\echo
\echo 'telem.transfer: every raw object, verified block by block (Content-MD5)'
SELECT * FROM telem.transfer('s3://fleet-raw/',
                             'abfss://raw@devstoreaccount1.dfs.core.windows.net/',
                             'fleet_s3', 'lake');
\echo 'A rerun copies nothing: the ledger has every object in this version'
SELECT * FROM telem.transfer('s3://fleet-raw/',
                             'abfss://raw@devstoreaccount1.dfs.core.windows.net/',
                             'fleet_s3', 'lake');
\echo 'What is in the lake now (telem.store_objects), per data set:'
SELECT split_part(key, '/', 1) AS data_set, count(*) AS objects, sum(size) AS bytes
  FROM telem.store_objects('lake', 'abfss://raw@devstoreaccount1.dfs.core.windows.net/')
 GROUP BY 1 ORDER BY 1;
