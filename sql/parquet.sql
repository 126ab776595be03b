-- ===================================================================
-- Parquet: the files of test/gen_parquet.mjs (one data set of every type,
-- 13 variants of codec, page format, dictionary and row group size) read
-- from S3 (RGW), Azure (Azurite) and the file store, each compared row for
-- row with the same rows loaded by COPY from pq/expected.csv
-- ===================================================================
\i sql/include/regress_helpers.sql
\getenv data_dir TELEM_DATA_DIR
\getenv s3_endpoint TELEM_S3_ENDPOINT
\getenv s3_key TELEM_S3_ACCESS_KEY
\getenv s3_secret TELEM_S3_SECRET_KEY
\getenv az_endpoint TELEM_AZURE_BLOB_ENDPOINT
\getenv az_key TELEM_AZURE_KEY
\getenv az_ca TELEM_AZURE_CA_FILE
\set base 's3://telem-regress/'
SELECT set_config('regress.base', :'base', false) IS NOT NULL AS base_set;
SET timezone = 'UTC';
-- serial plans: the counters below are per scan, not per worker
SET max_parallel_workers_per_gather = 0;
SET datestyle = 'ISO, YMD';
CREATE SCHEMA parquet;
SET search_path = parquet, public;

-- The columns of the data set, named as in the files, with the PostgreSQL
-- type each Parquet type reads as (tinyint and utinyint as int2, usmallint
-- as int4, uinteger as int8, ubigint as numeric, timestamp_ms and _ns as
-- timestamp (ns truncated to microseconds), lists, structs and maps as jsonb).
\set pq_cols 'id int8, c_bool boolean, c_tinyint int2, c_smallint int2, c_int int4, c_bigint int8, c_utinyint int2, c_usmallint int4, c_uinteger int8, c_ubigint numeric, c_float float4, c_double float8, c_varchar text, c_blob bytea, c_dec9 numeric(9,2), c_dec18 numeric(18,4), c_dec38 numeric(38,10), c_date date, c_time time, c_ts timestamp, c_ts_ms timestamp, c_ts_ns timestamp, c_tstz timestamptz, c_uuid uuid, c_list jsonb, c_struct jsonb, c_map jsonb'
CREATE TABLE pq_expected (:pq_cols);
\set csv :data_dir '/pq/expected.csv'
COPY pq_expected FROM :'csv' (FORMAT csv, HEADER true);
SELECT count(*) AS rows, count(*) - count(c_int) AS int_nulls, count(DISTINCT c_uuid) AS uuids
  FROM pq_expected;
-- the brotli variants hold the first 8,192 rows only
CREATE VIEW pq_expected_8k AS SELECT * FROM pq_expected WHERE id < 8192;

-- pq_check(table, expected): its count(*) (no column read), then the rows
-- read once into a temporary table and compared with expected both ways
-- (EXCEPT ALL) and column by column, joined on id; prints counts only.
CREATE FUNCTION pq_check(ft regclass, exp regclass) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
  n bigint; extra bigint; missing bigint; diffs text; cols text;
BEGIN
  EXECUTE format('SELECT count(*) FROM %s', ft) INTO n;
  EXECUTE format('CREATE TEMP TABLE pq_got AS SELECT * FROM %s', ft);
  EXECUTE format('SELECT count(*) FROM (TABLE pq_got EXCEPT ALL TABLE %s) x', exp) INTO extra;
  EXECUTE format('SELECT count(*) FROM (TABLE %s EXCEPT ALL TABLE pq_got) x', exp) INTO missing;
  SELECT string_agg(format('CASE WHEN count(*) FILTER (WHERE g.%1$I IS DISTINCT FROM e.%1$I) > 0 '
                           'THEN %1$L || ''='' || count(*) FILTER (WHERE g.%1$I IS DISTINCT FROM e.%1$I) END',
                           attname), ', ' ORDER BY attnum)
    INTO cols
    FROM pg_attribute WHERE attrelid = exp AND attnum > 0 AND attname <> 'id' AND NOT attisdropped;
  EXECUTE format('SELECT concat_ws('' '', %s) FROM pq_got g FULL JOIN %s e USING (id)', cols, exp)
    INTO diffs;
  DROP TABLE pq_got;
  RETURN format('rows=%s extra=%s missing=%s%s', n, extra, missing,
                CASE WHEN diffs <> '' THEN ' differing: ' || diffs ELSE '' END);
END
$fn$;

-- ===================================================================
-- S3: every variant
-- ===================================================================
CREATE SERVER regress_pq_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint', region 'us-east-1', url_style 'path');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_pq_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');
CREATE TABLE pq_variants (variant text PRIMARY KEY, expected regclass);
INSERT INTO pq_variants VALUES
  ('v1-uncompressed-dict-rg10k', 'pq_expected'),
  ('v1-snappy-dict-rg100k', 'pq_expected'),
  ('v1-gzip-nodict-rg10k', 'pq_expected'),
  ('v1-zstd-dict-rg2k', 'pq_expected'),
  ('v1-lz4-nodict-rg100k', 'pq_expected'),
  ('v1-brotli-dict-rg10k', 'pq_expected_8k'),
  ('v2-uncompressed-nodict-rg10k', 'pq_expected'),
  ('v2-snappy-dict-rg2k', 'pq_expected'),
  ('v2-gzip-dict-rg100k', 'pq_expected'),
  ('v2-zstd-nodict-rg100k', 'pq_expected'),
  ('v2-lz4-dict-rg10k', 'pq_expected'),
  ('v2-brotli-nodict-rg2k', 'pq_expected_8k'),
  ('v2-zstd-dict-rg10k-3files', 'pq_expected');
-- table s3_<variant> (with '_' for '-') over s3://telem-regress/pq/<variant>/
SELECT format('CREATE FOREIGN TABLE %I (%s) SERVER regress_pq_s3 OPTIONS (location %L, format %L)',
              's3_' || replace(variant, '-', '_'), :'pq_cols',
              's3://telem-regress/pq/' || variant || '/', 'parquet')
  FROM pq_variants ORDER BY variant
\gexec
-- one statement per variant, so that one failing shows the others' results
SELECT format('SELECT %L AS variant, pq_check(%L, %L)',
              variant, 's3_' || replace(variant, '-', '_'), expected)
  FROM pq_variants ORDER BY variant
\gexec

-- ===================================================================
-- Azure and the file store: one variant each
-- ===================================================================
CREATE SERVER regress_pq_az FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 'azure', endpoint :'az_endpoint', ca_file :'az_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER regress_pq_az
  OPTIONS (account_key :'az_key');
CREATE FOREIGN TABLE az_v2_lz4 (:pq_cols) SERVER regress_pq_az
  OPTIONS (location 'abfss://telem-regress@devstoreaccount1.dfs.core.windows.net/pq/v2-lz4-dict-rg10k/',
           format 'parquet');
SELECT pq_check('az_v2_lz4', 'pq_expected');
CREATE SERVER regress_pq_file FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
\set loc :data_dir '/pq/v1-gzip-nodict-rg10k/'
CREATE FOREIGN TABLE file_v1_gzip (:pq_cols) SERVER regress_pq_file
  OPTIONS (location :'loc', format 'parquet');
SELECT pq_check('file_v1_gzip', 'pq_expected');

-- ===================================================================
-- projection: two of the 27 columns
-- ===================================================================
SELECT sum(c_int) AS sum_int, count(c_varchar) AS n_varchar FROM s3_v1_snappy_dict_rg100k;
SELECT (SELECT (sum(c_int), count(c_varchar)) FROM s3_v2_zstd_nodict_rg100k)
     = (SELECT (sum(c_int), count(c_varchar)) FROM pq_expected) AS same;
SELECT (SELECT (count(c_list), sum(jsonb_array_length(c_list)), count(c_map)) FROM s3_v2_snappy_dict_rg2k)
     = (SELECT (count(c_list), sum(jsonb_array_length(c_list)), count(c_map)) FROM pq_expected) AS same_nested;

-- ===================================================================
-- row group pruning on the 2,048-row groups (30 of them) of
-- v1-zstd-dict-rg2k: c_ts rises one minute a row and c_int 71,582 a row,
-- so each range below lies in one or two row groups
-- ===================================================================
-- ids 12960..13679 (row group 6)
SELECT count(*) AS rows,
       count(*) = (SELECT count(*) FROM pq_expected
                    WHERE c_ts >= '2026-01-10' AND c_ts < '2026-01-10 12:00') AS same
  FROM s3_v1_zstd_dict_rg2k WHERE c_ts >= '2026-01-10' AND c_ts < '2026-01-10 12:00';
SELECT p->>'Actual Rows' AS rows, p->>'Telem Row Groups Read' AS row_groups_read,
       p->>'Telem Row Groups Skipped' AS row_groups_skipped
  FROM regress_scan_nodes('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF',
    $q$SELECT c_ts, c_varchar FROM s3_v1_zstd_dict_rg2k
        WHERE c_ts >= '2026-01-10' AND c_ts < '2026-01-10 12:00'$q$) p;
-- ids 40000..40999 (row groups 19 and 20)
SELECT count(*) AS rows, sum(id) AS sum_id,
       (count(*), sum(id)) = (SELECT count(*), sum(id) FROM pq_expected
                               WHERE c_int BETWEEN 715796352 AND 787306770) AS same
  FROM s3_v1_zstd_dict_rg2k WHERE c_int BETWEEN 715796352 AND 787306770;
SELECT p->>'Actual Rows' AS rows, p->>'Telem Row Groups Read' AS row_groups_read,
       p->>'Telem Row Groups Skipped' AS row_groups_skipped
  FROM regress_scan_nodes('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF',
    $q$SELECT id FROM s3_v1_zstd_dict_rg2k WHERE c_int BETWEEN 715796352 AND 787306770$q$) p;
SELECT regress_counters($q$SELECT id FROM s3_v1_zstd_dict_rg2k
                            WHERE c_int BETWEEN 715796352 AND 787306770$q$);
-- no row group can hold it: all 30 skipped, no rows
SELECT p->>'Actual Rows' AS rows, p->>'Telem Row Groups Read' AS row_groups_read,
       p->>'Telem Row Groups Skipped' AS row_groups_skipped
  FROM regress_scan_nodes('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF',
    $q$SELECT id FROM s3_v1_zstd_dict_rg2k WHERE c_ts < '2025-01-01'$q$) p;

-- IN, IS NULL and a parameter: each agrees with the same query over the
-- rows loaded directly, and skips what the statistics rule out
CREATE FUNCTION pq_pruned(q text) RETURNS text LANGUAGE sql AS $fn$
  SELECT format('rows=%s read=%s skipped=%s', p->>'Actual Rows',
                p->>'Telem Row Groups Read', p->>'Telem Row Groups Skipped')
    FROM regress_scan_nodes('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF', q) p
$fn$;
SELECT pq_pruned($q$SELECT id FROM s3_v1_zstd_dict_rg2k WHERE id IN (5, 40000, 59999)$q$);
SELECT array_agg(id ORDER BY id) = ARRAY[5, 40000, 59999]::int8[] AS same
  FROM s3_v1_zstd_dict_rg2k WHERE id IN (5, 40000, 59999);
SELECT pq_pruned($q$SELECT id FROM s3_v1_zstd_dict_rg2k WHERE c_int IS NULL$q$);
SELECT (SELECT count(*) FROM s3_v1_zstd_dict_rg2k WHERE c_int IS NULL)
     = (SELECT count(*) FROM pq_expected WHERE c_int IS NULL) AS same;
PREPARE pq_after(timestamp) AS SELECT count(*) FROM s3_v1_zstd_dict_rg2k WHERE c_ts > $1;
SELECT pq_pruned($q$EXECUTE pq_after('2026-02-10')$q$);
EXECUTE pq_after('2026-02-10');
SELECT count(*) FROM pq_expected WHERE c_ts > '2026-02-10';
DEALLOCATE pq_after;
-- text: min and max bound values under the "C" collation (byte order, as
-- Parquet sorts); the rows come back right either way
SELECT pq_pruned($q$SELECT id FROM s3_v1_zstd_dict_rg2k WHERE c_varchar < 'a' COLLATE "C"$q$);
SELECT (SELECT count(*) FROM s3_v1_zstd_dict_rg2k WHERE c_varchar < 'a' COLLATE "C")
     = (SELECT count(*) FROM pq_expected WHERE c_varchar < 'a' COLLATE "C") AS same;

-- ===================================================================
-- bad objects: errors that name the object, never crashes
-- ===================================================================
\set VERBOSITY terse
CREATE FOREIGN TABLE s3_truncated (id int8) SERVER regress_pq_s3
  OPTIONS (location 's3://telem-regress/pq-bad/truncated/', format 'parquet');
SELECT count(*) FROM s3_truncated;
CREATE FOREIGN TABLE s3_corrupt (:pq_cols) SERVER regress_pq_s3
  OPTIONS (location 's3://telem-regress/pq-bad/corrupt/', format 'parquet');
SELECT count(*) FROM s3_corrupt;   -- the footer is intact: no chunk read
SELECT count(id) FROM s3_corrupt;  -- the first chunk's page header is zeros
\set VERBOSITY default

-- ===================================================================
-- parallel: participants take whole files; counters sum over them
-- ===================================================================
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET max_parallel_workers_per_gather = 2;
SELECT regress_explain('EXPLAIN (COSTS OFF) SELECT count(c_int) FROM s3_v2_zstd_dict_rg10k_3files');
SELECT pq_check('s3_v2_zstd_dict_rg10k_3files', 'pq_expected');
-- 6 row groups in the 3 files: those of ids below 25,000 read, the rest skipped
SELECT p->>'Telem Objects Read' AS objects_read, p->>'Telem Row Groups Read' AS row_groups_read,
       p->>'Telem Row Groups Skipped' AS row_groups_skipped
  FROM regress_scan_nodes('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF',
    $q$SELECT sum(c_int) FROM s3_v2_zstd_dict_rg10k_3files WHERE id < 25000$q$) p;
SELECT (SELECT sum(c_int) FROM s3_v2_zstd_dict_rg10k_3files WHERE id < 25000)
     = (SELECT sum(c_int) FROM pq_expected WHERE id < 25000) AS same;
SET max_parallel_workers_per_gather = 0;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;

-- ===================================================================
-- column options and mismatches
-- ===================================================================
-- path picks a leaf of a struct
CREATE FOREIGN TABLE s3_path (id int8, lat float8 OPTIONS (path 'c_struct.lat'),
                              name text OPTIONS (path 'c_struct.name'))
  SERVER regress_pq_s3 OPTIONS (location 's3://telem-regress/pq/v2-gzip-dict-rg100k/', format 'parquet');
SELECT count(*) AS rows, count(lat) AS lats, count(name) AS names,
       count(*) FILTER (WHERE p.lat IS DISTINCT FROM (e.c_struct->>'lat')::float8
                           OR p.name IS DISTINCT FROM e.c_struct->>'name') AS differing
  FROM s3_path p JOIN pq_expected e USING (id);
-- a column the file does not have reads as NULL
CREATE FOREIGN TABLE s3_missing (id int8, no_such_column text, c_bool boolean)
  SERVER regress_pq_s3 OPTIONS (location 's3://telem-regress/pq/v1-snappy-dict-rg100k/', format 'parquet');
SELECT count(*) AS rows, count(no_such_column) AS present, count(c_bool) AS bools FROM s3_missing;
-- a date column declared int4 is an error
CREATE FOREIGN TABLE s3_wrong_type (id int8, c_date int4)
  SERVER regress_pq_s3 OPTIONS (location 's3://telem-regress/pq/v1-snappy-dict-rg100k/', format 'parquet');
\set VERBOSITY terse
SELECT c_date FROM s3_wrong_type LIMIT 1;
-- a struct read as an integer: the hint names jsonb and the path option
CREATE FOREIGN TABLE s3_struct_int (id int8, c_struct int4)
  SERVER regress_pq_s3 OPTIONS (location 's3://telem-regress/pq/v1-snappy-dict-rg100k/', format 'parquet');
\set VERBOSITY default
SELECT c_struct FROM s3_struct_int LIMIT 1;
\set VERBOSITY terse
\set VERBOSITY default

-- ===================================================================
-- IMPORT FOREIGN SCHEMA: the columns and types of one variant
-- ===================================================================
CREATE SCHEMA pq_imp;
SET client_min_messages = warning;  -- the NOTICE about pq/expected.csv
IMPORT FOREIGN SCHEMA "s3://telem-regress/pq/" LIMIT TO ("v2-lz4-dict-rg10k")
  FROM SERVER regress_pq_s3 INTO pq_imp OPTIONS (format 'parquet');
RESET client_min_messages;
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
       array_to_string(a.attfdwoptions, ', ') AS options
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'pq_imp'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.relname, a.attnum;
SELECT format('SELECT count(*) AS rows, count(c_map) AS maps FROM pq_imp.%I', relname)
  FROM pg_class WHERE relnamespace = 'pq_imp'::regnamespace
\gexec

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA pq_imp CASCADE;
DROP SCHEMA parquet CASCADE;
RESET client_min_messages;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_pq_s3;
DROP SERVER regress_pq_s3;
DROP USER MAPPING FOR CURRENT_USER SERVER regress_pq_az;
DROP SERVER regress_pq_az;
DROP SERVER regress_pq_file;
