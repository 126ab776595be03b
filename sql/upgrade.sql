-- ===================================================================
-- upgrade: 0.1.0 (the FDW) to 0.2.0 (the loader) to 0.3.0 (Azure and
-- transfers), as a user would
-- ===================================================================
DROP EXTENSION telem_fdw;
CREATE EXTENSION telem_fdw VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'telem_fdw';
SELECT count(*) AS loader_functions FROM pg_proc WHERE pronamespace = 'telem'::regnamespace;
-- a table made under 0.1.0 keeps working across the update
CREATE SERVER upgrade_files FOREIGN DATA WRAPPER telem_fdw OPTIONS (provider 'file');
\getenv data_dir TELEM_DATA_DIR
\set loc :data_dir '/vehicle/'
CREATE FOREIGN TABLE upgrade_vehicle (device_id text) SERVER upgrade_files
  OPTIONS (location :'loc', format 'jsonl');
SELECT count(*) FROM upgrade_vehicle;
ALTER EXTENSION telem_fdw UPDATE TO '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'telem_fdw';
SELECT count(*) FROM upgrade_vehicle;
-- a run logged under 0.2.0 is a load under 0.3.0
INSERT INTO telem.run_log (pipeline, started_at, finished_at) VALUES ('old', now(), now());
ALTER EXTENSION telem_fdw UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'telem_fdw';
SELECT pipeline, kind, details FROM telem.run_log;
DELETE FROM telem.run_log;
SELECT count(*) FROM upgrade_vehicle;
-- every loader object is the extension's, and documented
SELECT p.oid::regprocedure AS function, d.description IS NOT NULL AS commented
  FROM pg_proc p LEFT JOIN pg_description d ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass
 WHERE p.pronamespace = 'telem'::regnamespace AND p.proname NOT LIKE '\_%'
 ORDER BY p.oid::regprocedure::text;
SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented
  FROM pg_class c
 WHERE c.relnamespace = 'telem'::regnamespace AND c.relkind IN ('r', 'v')
 ORDER BY 1;
-- the loader's schema is closed to PUBLIC
SELECT has_schema_privilege('public', 'telem', 'USAGE') AS public_usage,
       has_function_privilege('public', 'telem.run(text)', 'EXECUTE') AS public_run,
       has_table_privilege('public', 'telem.object_ledger', 'SELECT') AS public_ledger;
DROP SERVER upgrade_files CASCADE;
