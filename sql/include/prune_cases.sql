-- Pruning cases shared by every store (included with \i after the store's
-- setup, like scan_cases.sql).  Every query is run for its answer and for
-- the EXPLAIN ANALYZE counters that prove what was listed and read
-- (regress_counters()); the lake under lake/ has one object per day but
-- two on 2026-11-02, a NULL day (__HIVE_DEFAULT_PARTITION__), a day that is
-- not an integer and an object beside the day partitions; v sums tell
-- exactly which objects' rows came back.

-- ===================================================================
-- partition quals: prefixes not listed, objects not read
-- ===================================================================
\set loc :base 'lake/'
CREATE FOREIGN TABLE lake (
  v     int,
  year  int  OPTIONS (partition 'year'),
  month int  OPTIONS (partition 'month'),
  day   int  OPTIONS (partition 'day'),
  _key  text OPTIONS (metadata 'key'),
  _size int8 OPTIONS (metadata 'size'),
  _modified timestamptz OPTIONS (metadata 'last_modified')
) SERVER :srv OPTIONS (location :'loc', format 'jsonl');
-- a query on day does not trip over day=abc, which no day qual can match
SELECT count(*), sum(v) FROM lake WHERE day = 2;
SELECT regress_counters('SELECT v FROM lake WHERE day = 2');
SELECT sum(v) FROM lake WHERE day IN (1, 3);
SELECT regress_counters('SELECT v FROM lake WHERE day IN (1, 3)');
SELECT sum(v) FROM lake WHERE day = ANY ('{3,31}');
SELECT regress_counters('SELECT v FROM lake WHERE day = ANY (''{3,31}'')');
SELECT sum(v) FROM lake WHERE day BETWEEN 2 AND 3 AND month = 11;
SELECT regress_counters('SELECT v FROM lake WHERE day BETWEEN 2 AND 3 AND month = 11');
SELECT sum(v) FROM lake WHERE day < 2;
SELECT sum(v) FROM lake WHERE day >= 31;
SELECT regress_counters('SELECT v FROM lake WHERE day >= 31');
-- year and month: the whole of November; the NULL day, day=abc and the
-- object beside the days are in it
SELECT sum(v) FROM lake WHERE year = 2026 AND month = 11;
SELECT regress_counters('SELECT v FROM lake WHERE year = 2026 AND month = 11');
SELECT sum(v) FROM lake WHERE year > 2025 AND month <= 10;
-- NULL partition values: only IS NULL finds them, and the sibling object
-- without a day segment too
SELECT sum(v) FROM lake WHERE day IS NULL;
SELECT sum(v) FROM lake WHERE day <> 2;
SELECT sum(v) FROM lake WHERE day = (SELECT NULL::int);
SELECT regress_counters('SELECT v FROM lake WHERE day = (SELECT NULL::int)');
-- an OR is checked on each object, before it is opened
SELECT sum(v) FROM lake WHERE day = 1 OR month = 12;
SELECT regress_counters('SELECT v FROM lake WHERE day = 1 OR month = 12');
-- a stable expression and a Param are evaluated when the scan starts
SET regress.day = '3';
SELECT sum(v) FROM lake WHERE day = current_setting('regress.day')::int;
SELECT regress_counters('SELECT v FROM lake WHERE day = current_setting(''regress.day'')::int');
SET plan_cache_mode = force_generic_plan;
PREPARE lake_day(int) AS SELECT sum(v) FROM lake WHERE day = $1;
EXECUTE lake_day(1);
EXECUTE lake_day(31);
SELECT regress_counters('EXECUTE lake_day(2)');
DEALLOCATE lake_day;
RESET plan_cache_mode;
-- a subquery's value (an initplan Param)
SELECT sum(v) FROM lake WHERE day = (SELECT 30);
-- pruning off lists and reads everything, and gives the same answers;
-- day=abc is then an error, since the value is read for every object
SET telem_fdw.enable_pruning = off;
SELECT regress_counters('SELECT v FROM lake WHERE month = 10');
SELECT sum(v) FROM lake WHERE month = 10;
SELECT regress_error('SELECT sum(v) FROM lake WHERE day = 2');
RESET telem_fdw.enable_pruning;

-- row estimates come from a sample of the listing and of one object
SELECT regress_estimate('SELECT v FROM lake');
SELECT regress_estimate('SELECT v FROM lake WHERE day = 2');
SELECT regress_estimate('SELECT v FROM lake WHERE month = 10');

-- ===================================================================
-- metadata quals: keys looked up, listing started after a key
-- ===================================================================
-- (keys are store-relative: take one from the listing)
SELECT set_config('regress.key', max(_key), false) ~ 'day=2/part-1.jsonl$' AS key_set
  FROM lake WHERE day = 2;
SELECT sum(v) FROM lake WHERE _key = current_setting('regress.key');
SELECT regress_counters('SELECT v FROM lake WHERE _key = current_setting(''regress.key'')');
-- several keys, one missing, one outside the location
SELECT sum(v) FROM lake WHERE _key = ANY (ARRAY[current_setting('regress.key'),
    regexp_replace(current_setting('regress.key'), 'part-1', 'part-0'),
    regexp_replace(current_setting('regress.key'), 'part-1', 'part-9'),
    'elsewhere/x.jsonl']);
SELECT regress_counters('SELECT v FROM lake WHERE _key = ANY (ARRAY[current_setting(''regress.key''),
    regexp_replace(current_setting(''regress.key''), ''part-1'', ''part-0''),
    regexp_replace(current_setting(''regress.key''), ''part-1'', ''part-9''),
    ''elsewhere/x.jsonl''])');
-- start-after: only keys after the bound are listed
SELECT sum(v) FROM lake WHERE _key > current_setting('regress.key');
SELECT regress_counters('SELECT v FROM lake WHERE _key > current_setting(''regress.key'')');
SELECT sum(v) FROM lake WHERE _key >= current_setting('regress.key');
-- size and modification time filter the listing before any GET
SELECT sum(v) FROM lake WHERE _size > 8;
SELECT regress_counters('SELECT v FROM lake WHERE _size > 8');
SELECT count(*) FROM lake WHERE _modified < '2000-01-01';
SELECT regress_counters('SELECT v FROM lake WHERE _modified < ''2000-01-01''');

-- ===================================================================
-- one listing per statement: rescans and a second reference
-- ===================================================================
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT count(*) FROM lake a JOIN lake b ON a.v = b.v WHERE a.day = 2 AND b.month = 11;
SELECT regress_counters('SELECT a.v FROM lake a JOIN lake b ON a.v = b.v WHERE a.day = 2 AND b.month = 11');
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;

-- ===================================================================
-- text partitions: case and percent-encoding as written
-- ===================================================================
\set loc :base 'fleet/'
CREATE FOREIGN TABLE fleet (
  v      int,
  region text OPTIONS (partition 'region'),
  day    int  OPTIONS (partition 'day')
) SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT region, sum(v) FROM fleet WHERE region = 'eu-west' GROUP BY 1;
SELECT region, sum(v) FROM fleet WHERE region IN ('EU-West', 'us east', 'us/east', 'café') GROUP BY 1 ORDER BY 1;
SELECT regress_counters('SELECT v FROM fleet WHERE region IN (''us east'', ''café'')');
SELECT region, sum(v) FROM fleet WHERE lower(region) = 'eu-west' GROUP BY 1 ORDER BY 1;

-- ===================================================================
-- globs in location
-- ===================================================================
\set loc :base 'lake/year=2026/month=1?/day={1,3}/*.jsonl'
CREATE FOREIGN TABLE lake_glob (v int, day int OPTIONS (partition 'day'))
  SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT day, sum(v) FROM lake_glob GROUP BY 1 ORDER BY 1;
SELECT regress_counters('SELECT v FROM lake_glob');
\set loc :base 'lake/**/part-1.jsonl'
CREATE FOREIGN TABLE lake_glob2 (v int) SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT sum(v) FROM lake_glob2;
\set loc :base 'lake/year=2026/*/'
CREATE FOREIGN TABLE lake_glob3 (v int) SERVER :srv OPTIONS (location :'loc', format 'jsonl');
SELECT sum(v) FROM lake_glob3;
SELECT regress_explain('EXPLAIN (COSTS OFF) SELECT * FROM lake_glob WHERE day = 3');
DROP FOREIGN TABLE lake, fleet, lake_glob, lake_glob2, lake_glob3;
