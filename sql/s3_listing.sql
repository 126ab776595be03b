-- ===================================================================
-- S3 listing: pagination past 1,000 objects, and small pages
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv s3_endpoint TELEM_S3_ENDPOINT
\getenv s3_key TELEM_S3_ACCESS_KEY
\getenv s3_secret TELEM_S3_SECRET_KEY
CREATE SERVER regress_s3_default FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint');
CREATE SERVER regress_s3_pages FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint', page_size '97');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3_default
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_s3_pages
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
CREATE FOREIGN TABLE many_default (n int, _key text OPTIONS (metadata 'key'))
  SERVER regress_s3_default OPTIONS (location 's3://telem-regress/many/', format 'jsonl');
CREATE FOREIGN TABLE many_pages (n int, _key text OPTIONS (metadata 'key'))
  SERVER regress_s3_pages OPTIONS (location 's3://telem-regress/many/', format 'jsonl');
-- 1,500 objects: two pages of up to 1,000, then sixteen pages of 97
SELECT count(*), count(DISTINCT _key), sum(n), min(n), max(n) FROM many_default;
SELECT count(*), count(DISTINCT _key), sum(n), min(n), max(n) FROM many_pages;
-- keys come in key order, each once
SELECT bool_and(k > prev) AS ordered
  FROM (SELECT _key AS k, lag(_key, 1, '') OVER () AS prev FROM many_pages) s;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*) FROM many_pages;
-- the loader's listing: start-after a key lists only later keys, and the
-- continuation tokens of the 97-key pages carry on from there
SELECT count(*), min(key), max(key) FROM telem.list_objects('many_pages');
SELECT count(*), min(key), max(key)
  FROM telem.list_objects('many_pages', 'many/obj-1400.jsonl');
SELECT count(*) FROM telem.list_objects('many_pages', 'many/obj-1500.jsonl');
-- a prefix that is not a "directory" matches by key prefix
CREATE FOREIGN TABLE many_14xx (n int)
  SERVER regress_s3_pages OPTIONS (location 's3://telem-regress/many/obj-14', format 'jsonl');
SELECT count(*), min(n), max(n) FROM many_14xx;

DROP FOREIGN TABLE many_default, many_pages, many_14xx;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_s3_default;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_s3_pages;
DROP SERVER regress_s3_default, regress_s3_pages;
