-- Helpers shared by the regression tests (included with \i).
--
-- regress_error(query) runs a query that is expected to fail and returns
-- its SQLSTATE, message, detail and first context line, with the store's
-- root (setting regress.base) replaced by "<base>/", so that one expected
-- output serves every store and every state directory.
CREATE OR REPLACE FUNCTION regress_error(q text) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
  st text; msg text; det text; ctx text;
  base text := current_setting('regress.base', true);
BEGIN
  EXECUTE q;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                          det = PG_EXCEPTION_DETAIL, ctx = PG_EXCEPTION_CONTEXT;
  -- keep our own context lines, drop this function's
  SELECT string_agg(l, E'\n    ') INTO ctx
    FROM regexp_split_to_table(ctx, E'\n') AS l
   WHERE l NOT LIKE 'SQL statement%' AND l NOT LIKE 'PL/pgSQL%';
  -- curl's connect timings vary from run to run
  det := regexp_replace(det, 'after \d+ ms', 'after N ms');
  -- Azure's per-request id and time
  det := regexp_replace(det, '\s*RequestId:\S+\s+Time:\S+', '', 'g');
  RETURN replace(concat_ws(E'\n  ', st || ': ' || msg,
                           NULLIF('DETAIL: ' || det, 'DETAIL: '),
                           NULLIF('CONTEXT: ' || ctx, 'CONTEXT: ')),
                 coalesce(base, E'\x01'), '<base>/');
END
$fn$;

-- regress_explain(query) returns EXPLAIN's lines with the store's root
-- replaced likewise.
CREATE OR REPLACE FUNCTION regress_explain(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
  l text;
  base text := current_setting('regress.base', true);
BEGIN
  FOR l IN EXECUTE q LOOP
    RETURN NEXT replace(l, coalesce(base, E'\x01'), '<base>/');
  END LOOP;
END
$fn$;

-- regress_scan_nodes(options, query) runs EXPLAIN (options, FORMAT JSON)
-- of query and returns the plan's Foreign Scan nodes.
CREATE OR REPLACE FUNCTION regress_scan_nodes(opts text, q text) RETURNS SETOF jsonb
LANGUAGE plpgsql AS $fn$
DECLARE
  j jsonb;
BEGIN
  EXECUTE format('EXPLAIN (%s, FORMAT JSON) %s', opts, q) INTO j;
  RETURN QUERY
    WITH RECURSIVE nodes(p) AS (
      SELECT j->0->'Plan'
      UNION ALL
      SELECT jsonb_array_elements(p->'Plans') FROM nodes WHERE p ? 'Plans')
    SELECT p FROM nodes WHERE p->>'Node Type' = 'Foreign Scan';
END
$fn$;

-- regress_counters(query) returns, for each Foreign Scan, the telem_fdw
-- counters of EXPLAIN ANALYZE that say how much was listed and read: the
-- contract pruning is tested against.
CREATE OR REPLACE FUNCTION regress_counters(q text) RETURNS SETOF text
LANGUAGE sql AS $fn$
  SELECT format('%s: loops=%s rows=%s pages=%s listed=%s pruned=%s read=%s%s%s',
                p->>'Relation Name', p->>'Actual Loops', p->>'Actual Rows',
                p->>'Telem Listing Pages', p->>'Telem Objects Listed',
                p->>'Telem Objects Pruned', p->>'Telem Objects Read',
                CASE WHEN p ? 'Telem Prefixes Pruned'
                     THEN ' prefixes_pruned=' || (p->>'Telem Prefixes Pruned') END,
                CASE WHEN p ? 'Telem Keys Looked Up'
                     THEN ' keys=' || (p->>'Telem Keys Looked Up') END)
    FROM regress_scan_nodes('ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF', q) p
$fn$;

-- regress_estimate(query) compares the planner's row estimate for each
-- Foreign Scan with the rows it returned: "within 4x" or both numbers.
CREATE OR REPLACE FUNCTION regress_estimate(q text) RETURNS SETOF text
LANGUAGE sql AS $fn$
  SELECT CASE WHEN (p->>'Plan Rows')::float8 BETWEEN greatest((p->>'Actual Rows')::float8, 1) / 4
                                                 AND greatest((p->>'Actual Rows')::float8, 1) * 4
              THEN p->>'Relation Name' || ': estimate within 4x'
              ELSE format('%s: estimated %s, actual %s', p->>'Relation Name',
                          p->>'Plan Rows', p->>'Actual Rows') END
    FROM regress_scan_nodes('ANALYZE, TIMING OFF, SUMMARY OFF', q) p
$fn$;
