-- Scan cases shared by every store (included with \i after the store's
-- setup).  Expects psql variable :srv (server name) and :base (the store's
-- root, also in setting regress.base), and the fixture tree of
-- test/data/fixtures as built by test/seed.sh.

-- ===================================================================
-- JSON lines: types, nested paths, nulls, epochs, partitions, metadata
-- ===================================================================
\set loc :base 'vehicle/'
CREATE FOREIGN TABLE vehicle (
  device_id   text,
  ts          timestamptz OPTIONS (epoch 'seconds'),
  ts_ms       timestamptz OPTIONS (epoch 'milliseconds'),
  speed_kmh   float8,
  lat         float8  OPTIONS (json_path 'location.lat'),
  lon         numeric OPTIONS (json_path 'location.lon'),
  fuel_level  float8,
  rpm         int     OPTIONS (json_path 'engine.rpm'),
  city        text,
  tags        jsonb,
  engine      json,
  odometer    int8,
  sensor_temp float8  OPTIONS (json_path 'sensor\.temp'),
  day         int     OPTIONS (partition 'day'),
  month       text    OPTIONS (partition 'month'),
  nosuch      text    OPTIONS (partition 'hour'),
  _key        text    OPTIONS (metadata 'key'),
  _size       int8    OPTIONS (metadata 'size'),
  _etag       text    OPTIONS (metadata 'etag'),
  _modified   timestamptz OPTIONS (metadata 'last_modified'),
  _line       int8    OPTIONS (metadata 'line_number')
) SERVER :srv OPTIONS (location :'loc', format 'jsonl');

SET timezone = 'UTC';
-- day 20 is plain, day 21 gzip and day 22 zstd, each found by its suffix
SELECT day, _line, device_id, ts, ts_ms, speed_kmh, lat, lon, fuel_level,
       rpm, city, odometer, sensor_temp
  FROM vehicle ORDER BY day, _line;
SELECT device_id, tags, engine, month, nosuch FROM vehicle WHERE day = 20 ORDER BY _line;
SELECT regexp_replace(_key, '^.*vehicle/', '') AS key, _size, _etag <> '' AS has_etag,
       _modified > now() - interval '1 day' AS recent, count(*)
  FROM vehicle GROUP BY 1, 2, 3, 4 ORDER BY 1;
-- a query that reads no record field still sees every record
SELECT count(*), count(_line), min(_line), max(_line) FROM vehicle;
SELECT count(*) FROM vehicle WHERE city IS NULL;
-- analyst-style aggregate
SELECT device_id, round(max(speed_kmh)::numeric, 2) AS max_speed, count(*)
  FROM vehicle GROUP BY device_id ORDER BY device_id;

-- ===================================================================
-- compression: explicit codecs, and magic bytes when no suffix tells
-- ===================================================================
\set loc :base 'vehicle/year=2026/month=11/day=21/'
CREATE FOREIGN TABLE day21_gzip (device_id text, speed_kmh float8)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl', compression 'gzip');
SELECT * FROM day21_gzip ORDER BY device_id;
\set loc :base 'vehicle/year=2026/month=11/day=22/'
CREATE FOREIGN TABLE day22_zstd (device_id text, speed_kmh float8)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl', compression 'zstd');
SELECT * FROM day22_zstd ORDER BY device_id;
\set loc :base 'magic/'
CREATE FOREIGN TABLE magic (device_id text, _key text OPTIONS (metadata 'key'))
  SERVER :srv OPTIONS (location :'loc', format 'jsonl', compression 'auto');
SELECT regexp_replace(_key, '^.*/', '') AS key, count(*) FROM magic GROUP BY 1 ORDER BY 1;
-- compression 'none' on gzip bytes: the decoder sees binary, and says so
CREATE FOREIGN TABLE magic_none (device_id text)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl', compression 'none');
SELECT regress_error('SELECT * FROM magic_none');
-- a gzip object cut short is an error, never a short read
\set loc :base 'trunc/'
CREATE FOREIGN TABLE trunc (device_id text)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT regress_error('SELECT count(*) FROM trunc');

-- ===================================================================
-- malformed records: the object, line and cause are named
-- ===================================================================
\set loc :base 'bad/part-0001'
CREATE FOREIGN TABLE bad_json (device_id text, speed_kmh float8)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT regress_error('SELECT * FROM bad_json');
\set loc :base 'bad/badtype'
CREATE FOREIGN TABLE bad_type (device_id text, speed_kmh float8)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT regress_error('SELECT * FROM bad_type');
-- the same object read as text is fine
CREATE FOREIGN TABLE bad_type_text (device_id text, speed_kmh text)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT * FROM bad_type_text;
-- a line longer than max_line_size (line 2 has 2,000 bytes)
\set loc :base 'bad/longline'
CREATE FOREIGN TABLE bad_line_limit (device_id text)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl', max_line_size '1024');
SELECT regress_error('SELECT count(*) FROM bad_line_limit');
CREATE FOREIGN TABLE line_limit_ok (device_id text, _line int8 OPTIONS (metadata 'line_number'))
  SERVER :srv OPTIONS (location :'loc', format 'jsonl', max_line_size '2048');
SELECT device_id, _line FROM line_limit_ok;
\set loc :base 'vehicle/year=2026/month=11/day=20/'
CREATE FOREIGN TABLE epoch_bad (city timestamptz OPTIONS (epoch 'seconds'))
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT regress_error('SELECT * FROM epoch_bad');
CREATE FOREIGN TABLE epoch_type (ts int8 OPTIONS (epoch 'seconds'))
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT regress_error('SELECT * FROM epoch_type');

-- ===================================================================
-- CSV and text through COPY: header, delimiter, quote, escape, null,
-- encoding, multi-line fields
-- ===================================================================
\set loc :base 'csv/engine.csv'
CREATE FOREIGN TABLE engine_csv (
  device_id text, ts timestamptz, rpm int, temp_c numeric, note text,
  _key text OPTIONS (metadata 'key'), _line int8 OPTIONS (metadata 'line_number'))
  SERVER :srv OPTIONS (location :'loc', format 'csv', header 'true');
SELECT device_id, ts, rpm, temp_c, note, regexp_replace(_key, '^.*/', '') AS key, _line
  FROM engine_csv ORDER BY ts;
CREATE FOREIGN TABLE engine_csv_match (device_id text, ts timestamptz, rpm int, temp_c numeric, note text)
  SERVER :srv OPTIONS (location :'loc', format 'csv', header 'match');
SELECT count(*) FROM engine_csv_match;
CREATE FOREIGN TABLE engine_csv_mismatch (device text, ts timestamptz, rpm int, temp_c numeric, note text)
  SERVER :srv OPTIONS (location :'loc', format 'csv', header 'match');
SELECT regress_error('SELECT count(*) FROM engine_csv_mismatch');
-- without header the header line is a record, and fails as one
CREATE FOREIGN TABLE engine_csv_nohdr (device_id text, ts timestamptz, rpm int, temp_c numeric, note text)
  SERVER :srv OPTIONS (location :'loc', format 'csv');
SELECT regress_error('SELECT count(*) FROM engine_csv_nohdr');
\set loc :base 'csv/engine_semicolon.txt'
CREATE FOREIGN TABLE engine_semi (device_id text, ts timestamptz, rpm int, temp_c numeric, note text)
  SERVER :srv OPTIONS (location :'loc', format 'csv', delimiter ';', quote '''',
                       escape '''', null 'NA');
SELECT * FROM engine_semi ORDER BY device_id;
\set loc :base 'latin1.csv'
CREATE FOREIGN TABLE latin1 (device_id text, ts timestamptz, rpm int, temp_c numeric, city text)
  SERVER :srv OPTIONS (location :'loc', format 'csv', encoding 'latin1');
SELECT city, octet_length(city) FROM latin1;
CREATE FOREIGN TABLE latin1_as_utf8 (device_id text, ts timestamptz, rpm int, temp_c numeric, city text)
  SERVER :srv OPTIONS (location :'loc', format 'csv');
SELECT regress_error('SELECT * FROM latin1_as_utf8');
\set loc :base 'csv/engine.tsv'
CREATE FOREIGN TABLE engine_text (device_id text, rpm int, note text)
  SERVER :srv OPTIONS (location :'loc', format 'text', null '-');
SELECT * FROM engine_text ORDER BY device_id;

-- ===================================================================
-- numbers into int2/int4/int8/float4/float8: values exact, errors those of
-- the input functions
-- ===================================================================
\set loc :base 'numbers/values.jsonl'
CREATE FOREIGN TABLE num_json (i2 int2, i4 int4, i8 int8, f4 float4, f8 float8)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT * FROM num_json;
\set loc :base 'numbers/values.csv'
-- (a default on a column COPY does not fill is evaluated, then replaced)
CREATE FOREIGN TABLE num_csv (i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
                              _line int8 OPTIONS (metadata 'line_number') DEFAULT -1)
  SERVER :srv OPTIONS (location :'loc', format 'csv', header 'true');
SELECT * FROM num_csv;
-- one bad value per column; only the column read is converted
\set loc :base 'numbers/bad.jsonl'
CREATE FOREIGN TABLE num_bad_json (i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
                                   u float8, fr int4, ie int8, sp float8, txt float4)
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT c, regress_error(format('SELECT %I FROM num_bad_json', c))
  FROM unnest('{i2,i4,i8,f4,f8,u,fr,ie,sp,txt}'::text[]) AS c;
\set loc :base 'numbers/bad.csv'
CREATE FOREIGN TABLE num_bad_csv (i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
                                  u float8, fr int4, ie int8, sp float8, txt float4)
  SERVER :srv OPTIONS (location :'loc', format 'csv', header 'true');
SELECT c, regress_error(format('SELECT %I FROM num_bad_csv', c))
  FROM unnest('{i2,i4,i8,f4,f8,u,fr,ie,sp,txt}'::text[]) AS c;

-- ===================================================================
-- EXPLAIN shows where and what, never credentials
-- ===================================================================
SELECT regress_explain('EXPLAIN (COSTS OFF) SELECT device_id FROM day21_gzip');
SELECT regress_explain('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
                        SELECT device_id FROM day21_gzip');
-- a rescan (inner side of a nested loop) reads the objects again
SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_material = off;
SELECT a.device_id, count(*) FROM day21_gzip a JOIN day22_zstd b USING (device_id)
  GROUP BY 1 ORDER BY 1;
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_material;

-- ===================================================================
-- partition values are percent-decoded
-- ===================================================================
\set loc :base 'sites/'
CREATE FOREIGN TABLE sites (device_id text, site text OPTIONS (partition 'site'),
                            day int OPTIONS (partition 'day'))
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT * FROM sites ORDER BY site;
