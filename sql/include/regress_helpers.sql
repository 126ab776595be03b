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
