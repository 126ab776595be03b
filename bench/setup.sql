-- bench/setup.sql -- the tables bench/run.sh times, over one data set.
--
-- psql variables (run.sh sets them with -v; files readable by the postgres
-- OS user; every file holds the same rows):
--   csv_file                  the CSV (with header)
--   jsonl_dir, jsonl_gz_dir, jsonl_zst_dir
--                             directories holding only the JSONL plain / .gz / .zst
--   s3_endpoint, s3_key, s3_secret   RGW and its keys
--   s3_location               s3://BUCKET/PREFIX/ holding the .zst object
--   parquet_dir               directory holding only the Parquet file
--   s3_parquet_location       s3://BUCKET/PREFIX/ holding the Parquet file
--
-- Every table has the same 12 columns with the same names, so the queries in
-- run.sh read the same text for every table:
--   bench_copy      UNLOGGED heap table, the target of the COPY baseline
--   bench_heap      UNLOGGED heap table, loaded once: aggregates without parsing
--   ff_csv          file_fdw over the CSV
--   tj, tj_gz, tj_zst  telem_fdw, file provider, JSONL plain / gzip / zstd
--   tc              telem_fdw, file provider, CSV
--   ts3_zst         telem_fdw, s3 provider (RGW), JSONL zstd
--   tp              telem_fdw, file provider, Parquet (zstd, flat columns)
--   tps3            telem_fdw, s3 provider (RGW), the same Parquet file
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS telem_fdw;
CREATE EXTENSION IF NOT EXISTS file_fdw;

DROP TABLE IF EXISTS bench_copy;
CREATE UNLOGGED TABLE bench_copy (
    device_id text, ts bigint, ts_ms bigint, speed_kmh float8, lat float8,
    lon float8, fuel_level float8, engine_rpm int, engine_temp_c float8,
    pressure_bar float8, vibration_mm_s float8, status text);

-- The same rows loaded once into a heap table: the cost of the aggregates
-- alone, with no parsing (run.sh loads it).
DROP TABLE IF EXISTS bench_heap;
CREATE UNLOGGED TABLE bench_heap (LIKE bench_copy);

DROP SERVER IF EXISTS bench_ff CASCADE;
CREATE SERVER bench_ff FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE ff_csv (
    device_id text, ts bigint, ts_ms bigint, speed_kmh float8, lat float8,
    lon float8, fuel_level float8, engine_rpm int, engine_temp_c float8,
    pressure_bar float8, vibration_mm_s float8, status text)
  SERVER bench_ff OPTIONS (filename :'csv_file', format 'csv', header 'true');

DROP SERVER IF EXISTS bench_local CASCADE;
CREATE SERVER bench_local FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');

DROP SERVER IF EXISTS bench_s3 CASCADE;
CREATE SERVER bench_s3 FOREIGN DATA WRAPPER telem_fdw
  OPTIONS (provider 's3', endpoint :'s3_endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER bench_s3
  OPTIONS (access_key_id :'s3_key', secret_access_key :'s3_secret');

-- The JSONL layout: nested location.{lat,lon} and engine.{rpm,temp_c}. The
-- four JSONL tables differ only in server and location.
SELECT format($$CREATE FOREIGN TABLE %I (
    device_id text, ts bigint, ts_ms bigint, speed_kmh float8,
    lat float8 OPTIONS (json_path 'location.lat'),
    lon float8 OPTIONS (json_path 'location.lon'),
    fuel_level float8,
    engine_rpm int OPTIONS (json_path 'engine.rpm'),
    engine_temp_c float8 OPTIONS (json_path 'engine.temp_c'),
    pressure_bar float8, vibration_mm_s float8, status text)
  SERVER %I OPTIONS (location %L, format 'jsonl')$$, tab, srv, loc)
FROM (VALUES ('tj', 'bench_local', :'jsonl_dir'),
             ('tj_gz', 'bench_local', :'jsonl_gz_dir'),
             ('tj_zst', 'bench_local', :'jsonl_zst_dir'),
             ('ts3_zst', 'bench_s3', :'s3_location')) AS v(tab, srv, loc)
\gexec

CREATE FOREIGN TABLE tc (
    device_id text, ts bigint, ts_ms bigint, speed_kmh float8, lat float8,
    lon float8, fuel_level float8, engine_rpm int, engine_temp_c float8,
    pressure_bar float8, vibration_mm_s float8, status text)
  SERVER bench_local OPTIONS (location :'csv_file', format 'csv', header 'true');

-- Parquet (written by DuckDB from the CSV): flat columns named as the CSV's,
-- matched by name.
SELECT format($$CREATE FOREIGN TABLE %I (
    device_id text, ts bigint, ts_ms bigint, speed_kmh float8, lat float8,
    lon float8, fuel_level float8, engine_rpm int, engine_temp_c float8,
    pressure_bar float8, vibration_mm_s float8, status text)
  SERVER %I OPTIONS (location %L, format 'parquet')$$, tab, srv, loc)
FROM (VALUES ('tp', 'bench_local', :'parquet_dir'),
             ('tps3', 'bench_s3', :'s3_parquet_location')) AS v(tab, srv, loc)
\gexec
