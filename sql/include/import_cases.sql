-- IMPORT FOREIGN SCHEMA cases shared by every store (included with \i after
-- the store's setup).  Expects psql variables :srv (server name) and :base
-- (the store's root, also in setting regress.base), the fixtures under
-- test/data/fixtures/import/, and the functions import_columns(schema) and
-- import_tables(schema) of sql/import.sql.  The location is given with
-- OPTIONS (location ...), which works for any length; sql/import.sql tests
-- the remote-schema-name form.
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
-- the NOTICEs name store paths; sql/import.sql shows them for S3
SET client_min_messages = warning;
\set loc :base 'import/'

-- ===================================================================
-- JSON lines: one table per child prefix, the csv child left out
-- ===================================================================
CREATE SCHEMA imp;
IMPORT FOREIGN SCHEMA x EXCEPT (engine) FROM SERVER :srv INTO imp
  OPTIONS (location :'loc');
SELECT * FROM import_tables('imp');
SELECT * FROM import_columns('imp');
SELECT * FROM imp.vehicle ORDER BY device_id;
SELECT * FROM imp.weird ORDER BY "Speed";
SELECT * FROM imp.daily ORDER BY n;
-- the types work in expressions
SELECT device_id, ts + interval '1 hour' AS ts_plus, ts_ms - ts AS ms_part,
       odometer + 1 AS odo, location->>'lat' AS lat, jsonb_array_length(tags) AS ntags,
       day + 1 AS next_day, hour * 2 AS hour2
  FROM imp.vehicle WHERE moving ORDER BY device_id;

-- ===================================================================
-- CSV with a header: LIMIT TO the csv child
-- ===================================================================
IMPORT FOREIGN SCHEMA x LIMIT TO (engine) FROM SERVER :srv INTO imp
  OPTIONS (location :'loc', format 'csv', header 'true');
SELECT * FROM import_tables('imp') WHERE tab = 'engine';
SELECT * FROM import_columns('imp') WHERE tab = 'engine';
SELECT * FROM imp.engine ORDER BY device_id;
SELECT region, count(*), sum(rpm), avg(temp_c) FROM imp.engine GROUP BY region ORDER BY region;
-- without a header the columns are column1..N, all text (the names line
-- is a record like any other)
CREATE SCHEMA imp_noheader;
IMPORT FOREIGN SCHEMA x LIMIT TO (engine) FROM SERVER :srv INTO imp_noheader
  OPTIONS (location :'loc', format 'csv', delimiter ',');
SELECT * FROM import_tables('imp_noheader');
SELECT * FROM import_columns('imp_noheader');

-- ===================================================================
-- flatten: nested objects become parent_child columns
-- ===================================================================
CREATE SCHEMA imp_flat;
IMPORT FOREIGN SCHEMA x LIMIT TO (vehicle) FROM SERVER :srv INTO imp_flat
  OPTIONS (location :'loc', flatten 'true');
SELECT * FROM import_columns('imp_flat') WHERE col LIKE 'location%';
SELECT device_id, location_lat, location_lon, location_alt
  FROM imp_flat.vehicle ORDER BY device_id;

-- ===================================================================
-- a bounded sample: one object, one record
-- ===================================================================
CREATE SCHEMA imp_small;
IMPORT FOREIGN SCHEMA x LIMIT TO (vehicle, nosuch) FROM SERVER :srv INTO imp_small
  OPTIONS (location :'loc', sample_objects '1', sample_rows '1');
SELECT * FROM import_columns('imp_small');

-- ===================================================================
-- a location whose children are all partitions is one table
-- ===================================================================
CREATE SCHEMA imp_part;
\set loc_daily :base 'import/daily'
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part
  OPTIONS (location :'loc_daily');
SELECT * FROM import_tables('imp_part');
SELECT * FROM import_columns('imp_part');
SELECT * FROM imp_part.daily ORDER BY n;

-- ===================================================================
-- errors
-- ===================================================================
-- options (no store paths in these messages, so psql shows them whole)
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', sample_row '5'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', foo '5'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', format 'text'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', header 'true'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', format 'csv', flatten 'true'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', format 'csv', delimiter ';;'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', sample_rows '0'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', flatten 'maybe'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', compression 'lz4'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location :'loc', location :'loc'); -- ERROR
IMPORT FOREIGN SCHEMA x FROM SERVER :srv INTO imp_part OPTIONS (location ''); -- ERROR
-- store errors, through regress_error() for the paths
-- a schema name that is no location
SELECT regress_error(format('IMPORT FOREIGN SCHEMA raw FROM SERVER %I INTO imp_part', :'srv')); -- ERROR
-- a location with nothing under it
\set loc_none :base 'import/nosuch/'
SELECT regress_error(format('IMPORT FOREIGN SCHEMA x FROM SERVER %I INTO imp_part OPTIONS (location %L)', :'srv', :'loc_none')); -- ERROR
-- the csv child sampled as JSON lines
SELECT regress_error(format('IMPORT FOREIGN SCHEMA x LIMIT TO (engine) FROM SERVER %I INTO imp_part OPTIONS (location %L)', :'srv', :'loc')); -- ERROR

DROP SCHEMA imp, imp_noheader, imp_flat, imp_small, imp_part CASCADE;
RESET client_min_messages;
