-- ===================================================================
-- Azure authentication: Shared Key, SAS, Entra ID client credentials and
-- managed identity (tokens from the harness's loopback token service,
-- checked on the wire by Azurite's OAuth mode)
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv az_endpoint TELEM_AZURE_BLOB_ENDPOINT
\getenv az_key TELEM_AZURE_KEY
\getenv az_ca TELEM_AZURE_CA_FILE
\getenv az_sas TELEM_AZURE_SAS
\getenv token_endpoint TELEM_TOKEN_ENDPOINT
\getenv tenant TELEM_AZURE_TENANT_ID
\getenv client_id TELEM_AZURE_CLIENT_ID
\getenv client_secret TELEM_AZURE_CLIENT_SECRET
\getenv mi_client_id TELEM_AZURE_MI_CLIENT_ID
\getenv token_lifetime TELEM_TOKEN_LIFETIME
\set base 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
-- the secrets, for checking that no message ever shows them
SELECT set_config('regress.secrets', concat_ws(' ', :'az_key', :'az_sas', :'client_secret'),
                  false) IS NOT NULL AS secrets_set;
CREATE FUNCTION shows_secret(msg text) RETURNS boolean LANGUAGE sql AS $$
  SELECT bool_or(position(s IN msg) > 0)
    FROM regexp_split_to_table(current_setting('regress.secrets'), ' ') s
   WHERE length(s) > 8
$$;

CREATE SERVER az_auth FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca');
CREATE FOREIGN TABLE vehicle (device_id text, speed_kmh float8) SERVER az_auth
  OPTIONS (location 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/vehicle/', format 'jsonl');

-- no user mapping: an error, not an anonymous request
SELECT regress_error('SELECT count(*) FROM vehicle');

-- Shared Key
CREATE USER MAPPING FOR CURRENT_USER SERVER az_auth OPTIONS (account_key :'az_key');
SELECT count(*), round(sum(speed_kmh)::numeric, 2) AS speed FROM vehicle;
-- a wrong key is refused by the service, and the message shows no key
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth
  OPTIONS (SET account_key 'bm90IHRoZSBrZXkgbm90IHRoZSBrZXkgbm90IHRoZSBrZXk=');
SELECT regress_error('SELECT count(*) FROM vehicle');
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth OPTIONS (SET account_key 'not base64!');
SELECT regress_error('SELECT count(*) FROM vehicle');

-- SAS
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth OPTIONS (DROP account_key, ADD sas_token :'az_sas');
SELECT count(*), round(sum(speed_kmh)::numeric, 2) AS speed FROM vehicle;
-- a tampered SAS is refused; neither it nor the good one shows
\set bad_sas :az_sas '0'
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth OPTIONS (SET sas_token :'bad_sas');
SELECT shows_secret(regress_error('SELECT count(*) FROM vehicle')) AS shows_secret,
       split_part(regress_error('SELECT count(*) FROM vehicle'), E'\n', 1) AS error;

-- Entra ID client credentials, from the loopback token service
SET telem_fdw.azure_authority_host = :'token_endpoint';
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth
  OPTIONS (DROP sas_token, ADD tenant_id :'tenant', ADD client_id :'client_id',
           ADD client_secret :'client_secret');
SELECT count(*), round(sum(speed_kmh)::numeric, 2) AS speed FROM vehicle;
-- tokens are short-lived here: a query after the first one expired
-- fetches a new one (test/t/azure_tokens.sh counts the fetches)
SELECT pg_sleep(:'token_lifetime'::int + 1);
SELECT count(*) FROM vehicle;
-- a wrong secret: the token endpoint's answer, and no secret
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth
  OPTIONS (SET client_secret 'wrong-secret-wrong-secret');
SELECT shows_secret(regress_error('SELECT count(*) FROM vehicle')) AS shows_secret,
       regress_error('SELECT count(*) FROM vehicle') LIKE '%invalid_client%' AS names_cause,
       split_part(regress_error('SELECT count(*) FROM vehicle'), E'\n', 1) AS error;
-- only a superuser may point the token endpoints elsewhere
CREATE ROLE regress_az_user;
SET ROLE regress_az_user;
SELECT regress_error('SET telem_fdw.azure_authority_host = ''http://127.0.0.1:1''');
RESET ROLE;
DROP ROLE regress_az_user;
SELECT regress_error('SET telem_fdw.azure_imds_endpoint = ''ftp://x''');

-- managed identity (system-assigned, then user-assigned by client_id)
SET telem_fdw.azure_imds_endpoint = :'token_endpoint';
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth
  OPTIONS (DROP tenant_id, DROP client_id, DROP client_secret,
           ADD credential_source 'managed_identity');
SELECT count(*) FROM vehicle;
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth OPTIONS (ADD client_id :'mi_client_id');
SELECT count(*) FROM vehicle;
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth OPTIONS (SET client_id 'no-such-identity');
SELECT split_part(regress_error('SELECT count(*) FROM vehicle'), E'\n', 1) AS error;

-- an empty mapping is anonymous access, which Azurite refuses for a
-- private container
DROP USER MAPPING FOR CURRENT_USER SERVER az_auth;
CREATE USER MAPPING FOR CURRENT_USER SERVER az_auth;
SELECT split_part(regress_error('SELECT count(*) FROM vehicle'), E'\n', 1) AS error;

-- secrets never show in EXPLAIN or pg_stat_activity
ALTER USER MAPPING FOR CURRENT_USER SERVER az_auth OPTIONS (ADD account_key :'az_key');
SELECT shows_secret(string_agg(l, ' ')) AS explain_shows_secret
  FROM regress_explain('EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT * FROM vehicle') l;
SELECT shows_secret(string_agg(query, ' ')) AS activity_shows_secret FROM pg_stat_activity;

-- ===================================================================
-- option checks: one way to authenticate per mapping
-- ===================================================================
CREATE SERVER az_opts FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'azure');
CREATE USER MAPPING FOR CURRENT_USER SERVER az_opts
  OPTIONS (account_key 'a2V5', sas_token 'sv=x');
CREATE USER MAPPING FOR CURRENT_USER SERVER az_opts
  OPTIONS (tenant_id 't', client_id 'c');
CREATE USER MAPPING FOR CURRENT_USER SERVER az_opts OPTIONS (client_id 'c');
CREATE USER MAPPING FOR CURRENT_USER SERVER az_opts
  OPTIONS (credential_source 'environment');
CREATE USER MAPPING FOR CURRENT_USER SERVER az_opts OPTIONS (sas_token '');
-- S3 keys on an Azure server are refused when used
CREATE USER MAPPING FOR CURRENT_USER SERVER az_opts
  OPTIONS (access_key_id 'AKIA', secret_access_key 'secret');
CREATE FOREIGN TABLE opts_t (device_id text) SERVER az_opts
  OPTIONS (location 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/vehicle/', format 'jsonl');
SELECT regress_error('SELECT count(*) FROM opts_t');
-- account and location checks
ALTER SERVER az_opts OPTIONS (ADD account 'Not_Valid');
CREATE FOREIGN TABLE bad_loc1 (x text) SERVER az_opts OPTIONS (location 'abfss://c@.dfs.core.windows.net/', format 'jsonl');
CREATE FOREIGN TABLE bad_loc2 (x text) SERVER az_opts OPTIONS (location 'abfss://nocontainer.dfs.core.windows.net/', format 'jsonl');
CREATE FOREIGN TABLE bad_loc3 (x text) SERVER az_opts OPTIONS (location 'az://UPPER/x/', format 'jsonl');
DROP SERVER az_opts CASCADE;
DROP SERVER az_auth CASCADE;
RESET telem_fdw.azure_authority_host;
RESET telem_fdw.azure_imds_endpoint;
