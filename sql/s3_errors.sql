-- ===================================================================
-- S3 failures: credentials, signatures, missing buckets, dead endpoints
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv s3_endpoint TELEM_S3_ENDPOINT
\getenv s3_key TELEM_S3_ACCESS_KEY
\getenv s3_secret TELEM_S3_SECRET_KEY
\set VERBOSITY terse
CREATE SERVER regress_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint', max_retries '0');
CREATE FOREIGN TABLE vehicle (device_id text)
  SERVER regress_s3 OPTIONS (location 's3://telem-regress/vehicle/', format 'jsonl');

-- no user mapping and no AWS_* variables in the server's environment
SELECT regress_error('SELECT * FROM vehicle');

-- a wrong secret: RGW answers 403 SignatureDoesNotMatch
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key 'not-the-secret-KL5x');
SELECT regress_error('SELECT * FROM vehicle');
-- an unknown key id
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_s3
  OPTIONS (SET access_key_id 'AKIDNOSUCHKEY0000000');
SELECT regress_error('SELECT * FROM vehicle');
-- neither secret nor key id ever appears in an error
SELECT position('not-the-secret' IN regress_error('SELECT * FROM vehicle')) AS secret_shown;

-- a bucket that does not exist: 404 NoSuchBucket
ALTER USER MAPPING FOR CURRENT_USER SERVER regress_s3
  OPTIONS (SET access_key_id :'s3_key', SET secret_access_key :'s3_secret');
CREATE FOREIGN TABLE nobucket (device_id text)
  SERVER regress_s3 OPTIONS (location 's3://telem-no-such-bucket/x/', format 'jsonl');
SELECT regress_error('SELECT * FROM nobucket');
-- the right credentials work
SELECT count(*) FROM vehicle;
-- EXPLAIN names the location, never the credentials
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM vehicle;

-- an endpoint where nothing listens: a connection error, quickly
CREATE SERVER regress_s3_dead FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint 'http://127.0.0.1:9', max_retries '0', connect_timeout '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3_dead
  OPTIONS (access_key_id 'x', secret_access_key 'y');
CREATE FOREIGN TABLE dead (device_id text)
  SERVER regress_s3_dead OPTIONS (location 's3://b/p/', format 'jsonl');
SELECT regress_error('SELECT * FROM dead');

DROP FOREIGN TABLE vehicle, nobucket, dead;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_s3;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_s3_dead;
DROP SERVER regress_s3, regress_s3_dead;
