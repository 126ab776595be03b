-- ===================================================================
-- the extension's objects
-- ===================================================================
SELECT fdwname, fdwhandler::regproc, fdwvalidator::regproc
  FROM pg_foreign_data_wrapper WHERE fdwname = 'telem_fdw';
SELECT nspname FROM pg_namespace WHERE nspname = 'telem';
\set VERBOSITY default

-- ===================================================================
-- option validation, per object
-- ===================================================================
-- wrapper: takes no options
CREATE FOREIGN DATA WRAPPER regress_w HANDLER telem_fdw_handler VALIDATOR telem_fdw_validator OPTIONS (provider 's3');  -- ERROR
-- server
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw;  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'gcs');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', regoin 'x');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', bogus_thing 'x');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', secret_access_key 'x');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', url_style 'dns');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', endpoint 'ftp://x');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', ca_file 'certs/ca.pem');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', page_size '0');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', page_size '5001');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', max_retries 'many');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', connect_timeout '0');  -- ERROR
CREATE SERVER regress_bad FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', region 'x', region 'y');  -- ERROR
CREATE SERVER regress_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', region 'eu-west-1', endpoint 'https://s3.example.com',
           url_style 'virtual', ca_file '/etc/ssl/certs/ca-certificates.crt',
           page_size '500', max_retries '3', connect_timeout '10');
ALTER SERVER regress_s3 OPTIONS (ADD region 'x');  -- ERROR
ALTER SERVER regress_s3 OPTIONS (DROP provider);  -- ERROR
ALTER SERVER regress_s3 OPTIONS (SET url_style 'path');
CREATE SERVER regress_file FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');

-- user mapping: secrets live here, and only here
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3 OPTIONS (region 'x');  -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3 OPTIONS (acess_key_id 'x');  -- ERROR
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3
  OPTIONS (access_key_id 'AKIDEXAMPLE', secret_access_key 'secret', session_token 'token');

-- foreign table
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3;  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'avro');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'parquet', compression 'gzip');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'parquet', header 'true');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 'b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3:///p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl', compression 'lz4');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl', delimiter ';');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'csv', delimiter ';;');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'text', quote '"');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'csv', header 'maybe');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'csv', encoding 'klingon');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl', max_line_size '10');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl', access_key_id 'x');  -- ERROR
CREATE FOREIGN TABLE ft (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl', formt 'csv');  -- ERROR

-- column
CREATE FOREIGN TABLE ft (a text OPTIONS (json_path '')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (json_path 'a..b')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (metadata 'owner')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (metadata 'key', json_path 'a')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (partition 'day=1')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a timestamptz OPTIONS (epoch 'minutes')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a timestamptz OPTIONS (epoch 'seconds', metadata 'last_modified')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (jsonpath 'a')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (path 'a..b')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'parquet');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (path '.a')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'parquet');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (path 'a', json_path 'a')) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'parquet');  -- ERROR
CREATE FOREIGN TABLE ft (a text OPTIONS (json_path 'a.b\.c'), b text OPTIONS (metadata 'etag'),
                         c date OPTIONS (partition 'day'), d timestamptz OPTIONS (epoch 'milliseconds'))
  SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl', compression 'zstd', max_line_size '1048576');
ALTER FOREIGN TABLE ft OPTIONS (ADD delimiter ';');  -- ERROR
-- the columns' jsonl-only options are checked at scan time, not here
ALTER FOREIGN TABLE ft OPTIONS (SET format 'csv');
ALTER FOREIGN TABLE ft OPTIONS (SET format 'jsonl');
ALTER FOREIGN TABLE ft ALTER COLUMN b OPTIONS (ADD partition 'x');  -- ERROR
ALTER FOREIGN TABLE ft OPTIONS (SET compression 'none');
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 'ft'::regclass;
-- column options that need the column's type are checked when scanned
CREATE FOREIGN TABLE ft_epoch (a int OPTIONS (epoch 'seconds'))
  SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');
SELECT * FROM ft_epoch;  -- ERROR
CREATE FOREIGN TABLE ft_csv_path (a int OPTIONS (json_path 'x'))
  SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'csv');
SELECT * FROM ft_csv_path;  -- ERROR
CREATE FOREIGN TABLE ft_jsonl_pq_path (a int OPTIONS (path 'x'))
  SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');
SELECT * FROM ft_jsonl_pq_path;  -- ERROR
CREATE FOREIGN TABLE ft_pq (a float8 OPTIONS (path 'location.lat'))
  SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'parquet', compression 'none');

-- ===================================================================
-- privileges: local files and arbitrary endpoints need privileged roles
-- ===================================================================
CREATE ROLE regress_analyst;
GRANT USAGE ON FOREIGN DATA WRAPPER telem_fdw TO regress_analyst;
GRANT USAGE ON FOREIGN SERVER regress_file, regress_s3 TO regress_analyst;
GRANT CREATE ON SCHEMA public TO regress_analyst;
SET ROLE regress_analyst;
CREATE FOREIGN TABLE analyst_local (a text) SERVER regress_file OPTIONS (location '/etc/', format 'csv');  -- ERROR
CREATE SERVER regress_analyst_s3 FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', endpoint 'http://127.0.0.1:1');  -- ERROR
CREATE SERVER regress_analyst_s3 FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', ca_file '/tmp/ca.pem');  -- ERROR
CREATE SERVER regress_analyst_s3 FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 's3', region 'eu-west-1');
CREATE FOREIGN TABLE analyst_s3 (a text) SERVER regress_s3 OPTIONS (location 's3://b/p/', format 'jsonl');
-- an analyst's own mapping is theirs; nobody else's secrets are readable
CREATE USER MAPPING FOR regress_analyst SERVER regress_s3 OPTIONS (access_key_id 'a', secret_access_key 'b');
SELECT srvname, umoptions FROM pg_user_mappings WHERE srvname = 'regress_s3' ORDER BY usename;
RESET ROLE;
GRANT pg_read_server_files TO regress_analyst;
SET ROLE regress_analyst;
CREATE FOREIGN TABLE analyst_local (a text) SERVER regress_file OPTIONS (location '/tmp/', format 'csv');
RESET ROLE;

-- ===================================================================
-- clean up
-- ===================================================================
DROP FOREIGN TABLE analyst_local, analyst_s3;
DROP USER MAPPING FOR regress_analyst SERVER regress_s3;
DROP SERVER regress_analyst_s3;
REVOKE CREATE ON SCHEMA public FROM regress_analyst;
DROP FOREIGN TABLE ft, ft_epoch, ft_csv_path, ft_jsonl_pq_path, ft_pq;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_s3;
DROP SERVER regress_s3, regress_file;
REVOKE pg_read_server_files FROM regress_analyst;
DROP OWNED BY regress_analyst;
DROP ROLE regress_analyst;
