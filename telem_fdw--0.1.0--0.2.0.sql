/* telem_fdw--0.1.0--0.2.0.sql: the SQL-first loader */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION telem_fdw UPDATE TO '0.2.0'" to load this file. \quit

-- ===================================================================
-- C helpers: a source's listing, and scans restricted to an increment
-- ===================================================================
CREATE FUNCTION telem.list_objects(source regclass,
    OUT key text, OUT size bigint, OUT etag text, OUT last_modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'telem_list_objects'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION telem.list_objects(regclass)
IS 'objects under a telem_fdw table''s location, in key order';

CREATE FUNCTION telem.restrict_scan(source regclass, keys text[], etags text[],
                                    sizes bigint[], modified timestamptz[])
RETURNS void
AS 'MODULE_PATHNAME', 'telem_restrict_scan'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telem.restrict_scan(regclass, text[], text[], bigint[], timestamptz[])
IS 'until the end of the transaction, scans of source read exactly these object versions';

CREATE FUNCTION telem.clear_restrictions()
RETURNS void
AS 'MODULE_PATHNAME', 'telem_clear_restrictions'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telem.clear_restrictions()
IS 'scans read whole listings again';

CREATE FUNCTION telem.restricted_counts(source regclass,
    OUT key text, OUT rows bigint, OUT bytes bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'telem_restricted_counts'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION telem.restricted_counts(regclass)
IS 'records and bytes read of each restricted object in this transaction';

CREATE FUNCTION telem._pause_point(name text)
RETURNS void
AS 'MODULE_PATHNAME', 'telem_pause_point'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION telem._pause_point(text)
IS 'test only: wait here when telem_fdw.pause_at names this point';

-- ===================================================================
-- pipelines, the object ledger, the run log
-- ===================================================================
CREATE TABLE telem.pipelines (
    name          text PRIMARY KEY,
    source        regclass NOT NULL,
    transform     regclass NOT NULL,
    transform_owned boolean NOT NULL DEFAULT false,
    target        text NOT NULL,
    target_server name,
    key_columns   text[] NOT NULL DEFAULT '{}',
    batch_size    integer NOT NULL DEFAULT 10000 CHECK (batch_size > 0),
    max_objects   integer NOT NULL DEFAULT 1000 CHECK (max_objects > 0),
    options       jsonb NOT NULL DEFAULT '{}',
    paused        boolean NOT NULL DEFAULT false,
    last_batch_id bigint NOT NULL DEFAULT 0,
    created_by    name NOT NULL DEFAULT current_user,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE telem.pipelines IS 'loader pipelines: source, transform, target';

CREATE TABLE telem.object_ledger (
    pipeline      text NOT NULL REFERENCES telem.pipelines (name)
                  ON DELETE CASCADE ON UPDATE CASCADE,
    key           text NOT NULL,
    etag          text,
    size          bigint NOT NULL,
    last_modified timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'loaded' CHECK (state IN ('loaded')),
    rows          bigint NOT NULL,
    batch_id      bigint NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pipeline, key)
);
COMMENT ON TABLE telem.object_ledger
IS 'each pipeline''s loaded object versions: written in the transaction that loads them';

CREATE TABLE telem.run_log (
    run_id        bigserial PRIMARY KEY,
    pipeline      text NOT NULL,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL,
    batch_id      bigint,
    objects       integer NOT NULL DEFAULT 0,
    rows_read     bigint NOT NULL DEFAULT 0,
    rows_rejected bigint NOT NULL DEFAULT 0,
    rows_pushed   bigint NOT NULL DEFAULT 0,
    bytes         bigint NOT NULL DEFAULT 0,
    error         text
);
CREATE INDEX ON telem.run_log (pipeline, run_id);
COMMENT ON TABLE telem.run_log IS 'one row per pipeline run, failed runs included';

-- ===================================================================
-- defining pipelines
-- ===================================================================
CREATE FUNCTION telem.create_pipeline(
    name text,
    source regclass,
    transform text,
    target text,
    key_columns text[] DEFAULT '{}',
    target_server name DEFAULT NULL,
    batch_size integer DEFAULT 10000,
    max_objects integer DEFAULT 1000,
    options jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql
-- no pinned search_path: the transform and target are resolved as the
-- caller names them, once, and kept by OID
AS $fn$
DECLARE
    fdw name;
    col text;
    tcols text[];
    tview regclass;
    owned boolean := false;
    target_name text := target;
BEGIN
    IF name !~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid pipeline name "%"', name
            USING ERRCODE = 'invalid_name',
                  HINT = 'Use letters, digits, "_", "." and "-", at most 63 characters.';
    END IF;
    SELECT w.fdwname INTO fdw
      FROM pg_catalog.pg_foreign_table ft
      JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
      JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
     WHERE ft.ftrelid = source;
    IF fdw IS DISTINCT FROM 'telem_fdw' THEN
        RAISE EXCEPTION 'source "%" is not a telem_fdw foreign table', source
            USING ERRCODE = 'wrong_object_type';
    END IF;
    IF EXISTS (SELECT 1 FROM telem.pipelines p WHERE p.name = create_pipeline.name) THEN
        RAISE EXCEPTION 'pipeline "%" already exists', name USING ERRCODE = 'duplicate_object';
    END IF;

    IF transform ~* '^\s*(select|with|values|table)\s' THEN
        -- a query becomes the pipeline's own view, bound now
        EXECUTE pg_catalog.format('CREATE VIEW telem.%I AS %s', 'transform_' || name, transform);
        tview := pg_catalog.format('telem.%I', 'transform_' || name)::regclass;
        owned := true;
    ELSE
        tview := transform::regclass;
    END IF;
    tcols := telem._relation_columns(tview);
    FOREACH col IN ARRAY key_columns LOOP
        IF NOT col = ANY (tcols) THEN
            RAISE EXCEPTION 'key column "%" is not a column of the transform', col
                USING ERRCODE = 'undefined_column',
                      HINT = pg_catalog.format('The transform''s columns are: %s.',
                                               pg_catalog.array_to_string(tcols, ', '));
        END IF;
    END LOOP;
    IF target_server IS NULL THEN
        -- schema-qualified, since runs resolve it with a pinned search_path
        SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) INTO target_name
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE c.oid = target::regclass;
        PERFORM telem._local_target_columns(target::regclass, tcols);
    ELSE
        RAISE EXCEPTION 'pushing to a remote target is not available yet'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Leave target_server NULL to load a local table.';
    END IF;
    INSERT INTO telem.pipelines (name, source, transform, transform_owned, target,
                                 target_server, key_columns, batch_size, max_objects,
                                 options)
    VALUES (create_pipeline.name, create_pipeline.source, tview, owned, target_name,
            create_pipeline.target_server, create_pipeline.key_columns,
            create_pipeline.batch_size, create_pipeline.max_objects,
            create_pipeline.options);
END
$fn$;
COMMENT ON FUNCTION telem.create_pipeline(text, regclass, text, text, text[], name, integer, integer, jsonb)
IS 'define a pipeline: a telem_fdw source, a transform (view or SELECT), a target, key columns';

CREATE FUNCTION telem.drop_pipeline(name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    tview regclass;
    owned boolean;
BEGIN
    IF to_regnamespace('cron') IS NOT NULL THEN
        PERFORM telem.unschedule(name, missing_ok => true);
    END IF;
    DELETE FROM telem.pipelines p WHERE p.name = drop_pipeline.name
    RETURNING p.transform, p.transform_owned INTO tview, owned;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pipeline "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
    IF owned THEN
        EXECUTE format('DROP VIEW %s', tview);
    END IF;
END
$fn$;
COMMENT ON FUNCTION telem.drop_pipeline(text)
IS 'drop a pipeline, its ledger and its schedule (the run log stays)';

CREATE FUNCTION telem.pause(name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    UPDATE telem.pipelines p SET paused = true WHERE p.name = pause.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pipeline "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
END
$fn$;
COMMENT ON FUNCTION telem.pause(text) IS 'runs of the pipeline do nothing until resumed';

CREATE FUNCTION telem.resume(name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    UPDATE telem.pipelines p SET paused = false WHERE p.name = resume.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pipeline "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
END
$fn$;
COMMENT ON FUNCTION telem.resume(text) IS 'undo telem.pause';

-- A relation's column names, in order.
CREATE FUNCTION telem._relation_columns(rel regclass)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT array_agg(attname::text ORDER BY attnum)
      FROM pg_attribute
     WHERE attrelid = rel AND attnum > 0 AND NOT attisdropped
$fn$;

-- Check that every transform column exists in the local target.
CREATE FUNCTION telem._local_target_columns(rel regclass, cols text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    missing text[];
BEGIN
    SELECT array_agg(c) INTO missing
      FROM unnest(cols) c
     WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                        WHERE a.attrelid = rel AND a.attname = c AND a.attnum > 0
                          AND NOT a.attisdropped);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'target "%" has no column %', rel, array_to_string(missing, ', ')
            USING ERRCODE = 'undefined_column';
    END IF;
END
$fn$;

-- ===================================================================
-- running pipelines
-- ===================================================================

-- The objects a run of the pipeline would load: new, or changed since they
-- were loaded (another etag or size), oldest key first, at most max_objects.
CREATE FUNCTION telem.pending_objects(pipeline text, max_objects integer DEFAULT NULL)
RETURNS TABLE (key text, size bigint, etag text, last_modified timestamptz)
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT l.key, l.size, l.etag, l.last_modified
      FROM telem.pipelines p,
           LATERAL telem.list_objects(p.source) l
     WHERE p.name = pending_objects.pipeline
       AND NOT EXISTS (SELECT 1 FROM telem.object_ledger g
                        WHERE g.pipeline = p.name AND g.key = l.key
                          AND g.etag IS NOT DISTINCT FROM l.etag AND g.size = l.size)
     ORDER BY l.key
     LIMIT pending_objects.max_objects
$fn$;
COMMENT ON FUNCTION telem.pending_objects(text, integer)
IS 'objects a run would load: new or changed since loaded';

CREATE FUNCTION telem.run(name text,
    OUT pipeline text, OUT batch_id bigint, OUT objects integer,
    OUT rows_read bigint, OUT rows_rejected bigint, OUT rows_pushed bigint,
    OUT bytes bigint, OUT error text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p telem.pipelines;
    started timestamptz := clock_timestamp();
    keys text[];
    etags text[];
    sizes bigint[];
    mods timestamptz[];
    obj_rows bigint[];
    cols text[];
    collist text;
    keycond text;
    setlist text;
    dups bigint;
    n bigint;
BEGIN
    pipeline := name;
    objects := 0; rows_read := 0; rows_rejected := 0; rows_pushed := 0; bytes := 0;

    SELECT * INTO p FROM telem.pipelines q WHERE q.name = run.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pipeline "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
    IF p.paused THEN
        error := 'paused';
        RETURN;
    END IF;
    -- two runs of one pipeline never overlap; the second one returns at once
    IF NOT pg_try_advisory_xact_lock(hashtext('telem.run'), hashtext(p.name)) THEN
        error := 'another run of this pipeline is in progress';
        RETURN;
    END IF;

    BEGIN
        SELECT coalesce(array_agg(o.key ORDER BY o.key), '{}'),
               coalesce(array_agg(o.etag ORDER BY o.key), '{}'),
               coalesce(array_agg(o.size ORDER BY o.key), '{}'),
               coalesce(array_agg(o.last_modified ORDER BY o.key), '{}')
          INTO keys, etags, sizes, mods
          FROM telem.pending_objects(p.name, p.max_objects) o;
        objects := cardinality(keys);
        PERFORM telem._pause_point('after_listing');

        IF objects > 0 THEN
            batch_id := p.last_batch_id + 1;
            PERFORM telem.restrict_scan(p.source, keys, etags, sizes, mods);

            -- the increment, materialized once: the transform reads each
            -- object once however the rows are pushed
            EXECUTE format('CREATE TEMP TABLE telem_increment ON COMMIT DROP AS SELECT * FROM %s',
                           p.transform);
            GET DIAGNOSTICS n = ROW_COUNT;

            -- records per object, in the order of keys, before the
            -- restriction goes
            SELECT coalesce(array_agg(coalesce(c.rows, 0) ORDER BY k.i), '{}'),
                   coalesce(sum(c.rows), 0), coalesce(sum(c.bytes), 0)
              INTO obj_rows, rows_read, bytes
              FROM unnest(keys) WITH ORDINALITY AS k(key, i)
              LEFT JOIN telem.restricted_counts(p.source) c ON c.key = k.key;
            PERFORM telem.clear_restrictions();

            IF cardinality(p.key_columns) > 0 THEN
                EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM pg_temp.telem_increment
                                 GROUP BY %s HAVING count(*) > 1) d',
                               (SELECT string_agg(quote_ident(k), ', ') FROM unnest(p.key_columns) k))
                   INTO dups;
                IF dups > 0 THEN
                    RAISE EXCEPTION 'the transform produced % duplicate keys', dups
                        USING ERRCODE = 'unique_violation',
                              HINT = 'Deduplicate in the transform (for example with DISTINCT ON the key columns).';
                END IF;
            END IF;

            SELECT array_agg(attname::text ORDER BY attnum) INTO cols
              FROM pg_attribute
             WHERE attrelid = 'pg_temp.telem_increment'::regclass AND attnum > 0 AND NOT attisdropped;
            SELECT string_agg(quote_ident(c), ', ') INTO collist FROM unnest(cols) c;

            IF cardinality(p.key_columns) > 0 THEN
                SELECT string_agg(format('t.%1$I = s.%1$I', k), ' AND ') INTO keycond
                  FROM unnest(p.key_columns) k;
                SELECT string_agg(format('%1$I = s.%1$I', c), ', ') INTO setlist
                  FROM unnest(cols) c WHERE NOT c = ANY (p.key_columns);
                IF setlist IS NOT NULL THEN
                    EXECUTE format('UPDATE %s AS t SET %s FROM pg_temp.telem_increment AS s WHERE %s',
                                   p.target::regclass, setlist, keycond);
                    GET DIAGNOSTICS n = ROW_COUNT;
                    rows_pushed := rows_pushed + n;
                END IF;
                EXECUTE format('INSERT INTO %s AS t (%s) SELECT %s FROM pg_temp.telem_increment AS s
                                 WHERE NOT EXISTS (SELECT 1 FROM %s AS t WHERE %s)',
                               p.target::regclass, collist, collist, p.target::regclass, keycond);
            ELSE
                EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM pg_temp.telem_increment',
                               p.target::regclass, collist, collist);
            END IF;
            GET DIAGNOSTICS n = ROW_COUNT;
            rows_pushed := rows_pushed + n;
            DROP TABLE pg_temp.telem_increment;

            -- the ledger, in the same transaction as the rows
            PERFORM telem._pause_point('before_ledger_update');
            INSERT INTO telem.object_ledger AS g
                   (pipeline, key, etag, size, last_modified, rows, batch_id)
            SELECT p.name, o.key, o.etag, o.size, o.modified, o.rows, run.batch_id
              FROM unnest(keys, etags, sizes, mods, obj_rows)
                   AS o(key, etag, size, modified, rows)
            ON CONFLICT ON CONSTRAINT object_ledger_pkey DO UPDATE
               SET etag = EXCLUDED.etag, size = EXCLUDED.size,
                   last_modified = EXCLUDED.last_modified, rows = EXCLUDED.rows,
                   batch_id = EXCLUDED.batch_id, loaded_at = now(), state = 'loaded';
            PERFORM telem._pause_point('during_ledger_update');
            UPDATE telem.pipelines q SET last_batch_id = run.batch_id WHERE q.name = p.name;
        END IF;
    EXCEPTION WHEN OTHERS THEN
        -- everything of this run is rolled back; only the log row stays
        GET STACKED DIAGNOSTICS error = MESSAGE_TEXT;
        PERFORM telem.clear_restrictions();
        batch_id := NULL; rows_pushed := 0;
    END;

    INSERT INTO telem.run_log (pipeline, started_at, finished_at, batch_id, objects,
                               rows_read, rows_rejected, rows_pushed, bytes, error)
    VALUES (p.name, started, clock_timestamp(), batch_id, objects,
            rows_read, rows_rejected, rows_pushed, bytes, error);
END
$fn$;
COMMENT ON FUNCTION telem.run(text)
IS 'load one increment: new or changed objects, through the transform, into the target, exactly once';

-- ===================================================================
-- status
-- ===================================================================
CREATE FUNCTION telem.backlog(pipeline text,
    OUT objects bigint, OUT bytes bigint, OUT oldest timestamptz)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    SELECT count(*), coalesce(sum(o.size), 0), min(o.last_modified)
      INTO objects, bytes, oldest
      FROM telem.pending_objects(pipeline) o;
EXCEPTION WHEN OTHERS THEN
    -- a source that cannot be listed shows as unknown, not as an error
    objects := NULL; bytes := NULL; oldest := NULL;
END
$fn$;
COMMENT ON FUNCTION telem.backlog(text)
IS 'objects not loaded yet: count, bytes and the oldest one''s last_modified';

CREATE VIEW telem.status AS
SELECT p.name AS pipeline,
       p.paused,
       p.source,
       p.target,
       p.target_server,
       r.finished_at AS last_run,
       r.error IS NULL AS last_run_ok,
       r.rows_pushed AS last_rows_pushed,
       b.objects AS backlog_objects,
       b.bytes AS backlog_bytes,
       now() - b.oldest AS lag,
       (SELECT count(*) FROM telem.run_log e
         WHERE e.pipeline = p.name AND e.error IS NOT NULL
           AND e.finished_at > now() - interval '1 day') AS errors_last_day,
       (SELECT e.error FROM telem.run_log e
         WHERE e.pipeline = p.name AND e.error IS NOT NULL
         ORDER BY e.run_id DESC LIMIT 1) AS last_error
  FROM telem.pipelines p
  LEFT JOIN LATERAL (SELECT * FROM telem.run_log l WHERE l.pipeline = p.name
                      ORDER BY l.run_id DESC LIMIT 1) r ON true
  LEFT JOIN LATERAL telem.backlog(p.name) b ON true;
COMMENT ON VIEW telem.status
IS 'each pipeline''s last run, backlog, lag (age of the oldest unloaded object) and errors';

-- ===================================================================
-- scheduling with pg_cron
-- ===================================================================

-- Run a pipeline every 'every' seconds for a minute, committing each run:
-- what a pg_cron job calls for sub-minute schedules (pg_cron 1.4 has none).
CREATE PROCEDURE telem.run_every(name text, every integer)
LANGUAGE plpgsql
AS $fn$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '60 seconds';
    next_at timestamptz := clock_timestamp();
BEGIN
    IF every < 1 OR every > 60 THEN
        RAISE EXCEPTION 'every must be from 1 to 60 seconds' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE next_at < deadline LOOP
        PERFORM telem.run(name);
        COMMIT;
        next_at := next_at + make_interval(secs => every);
        IF next_at < deadline THEN
            PERFORM pg_sleep(greatest(0, extract(epoch FROM next_at - clock_timestamp())));
        END IF;
    END LOOP;
END
$fn$;
COMMENT ON PROCEDURE telem.run_every(text, integer)
IS 'run a pipeline every N seconds for one minute (for sub-minute schedules)';

CREATE FUNCTION telem.schedule(name text, cron_expr text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    secs integer;
    jobid bigint;
    command text;
    expr text := cron_expr;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM telem.pipelines p WHERE p.name = schedule.name) THEN
        RAISE EXCEPTION 'pipeline "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
    IF to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database'
            USING ERRCODE = 'undefined_object',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database, and CREATE EXTENSION pg_cron.';
    END IF;
    IF cron_expr ~* '^\s*\d+\s*(s|sec|secs|second|seconds)\s*$' THEN
        secs := substring(cron_expr FROM '\d+')::integer;
        IF secs < 1 OR secs > 60 OR 60 % secs <> 0 THEN
            RAISE EXCEPTION 'a seconds schedule must divide a minute: 1 to 60 seconds, such as 10, 15 or 30'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        expr := '* * * * *';
        command := format('CALL telem.run_every(%L, %s)', name, secs);
    ELSE
        command := format('SELECT telem.run(%L)', name);
    END IF;
    EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO jobid
      USING 'telem:' || name, expr, command;
    RETURN jobid;
END
$fn$;
COMMENT ON FUNCTION telem.schedule(text, text)
IS 'run a pipeline on a pg_cron schedule: a cron expression, or ''N seconds''';

CREATE FUNCTION telem.unschedule(name text, missing_ok boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    found_job boolean;
BEGIN
    IF to_regnamespace('cron') IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed in this database' USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1)' INTO found_job
      USING 'telem:' || name;
    IF NOT found_job THEN
        IF missing_ok THEN
            RETURN false;
        END IF;
        RAISE EXCEPTION 'pipeline "%" has no schedule', name USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' USING 'telem:' || name;
    RETURN true;
END
$fn$;
COMMENT ON FUNCTION telem.unschedule(text, boolean)
IS 'remove a pipeline''s pg_cron schedule';

-- ===================================================================
-- privileges: the schema is closed to PUBLIC (0.1.0); the owner grants
-- USAGE plus EXECUTE on telem.run to operators, and SELECT on the ledger,
-- run log and status to readers
-- ===================================================================
REVOKE ALL ON ALL TABLES IN SCHEMA telem FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA telem FROM PUBLIC;
REVOKE ALL ON PROCEDURE telem.run_every(text, integer) FROM PUBLIC;
