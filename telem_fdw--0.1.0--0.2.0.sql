/* telem_fdw--0.1.0--0.2.0.sql: the SQL-first loader */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION telem_fdw UPDATE TO '0.2.0'" to load this file. \quit

-- ===================================================================
-- C helpers: a source's listing, and scans restricted to an increment
-- ===================================================================
CREATE FUNCTION telem.list_objects(source regclass, start_after text DEFAULT NULL,
    OUT key text, OUT size bigint, OUT etag text, OUT last_modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'telem_list_objects'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telem.list_objects(regclass, text)
IS 'objects under a telem_fdw table''s location (after start_after, when given), in key order';

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
    IF jsonb_typeof(options) IS DISTINCT FROM 'object'
       OR EXISTS (SELECT 1 FROM pg_catalog.jsonb_object_keys(options) k WHERE k <> 'listing')
       OR coalesce(options->>'listing', 'full') NOT IN ('full', 'incremental') THEN
        RAISE EXCEPTION 'invalid pipeline options %', options
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The options are {"listing": "full"} (the default: sees objects overwritten in place) or {"listing": "incremental"} (lists only keys after the last one loaded: cheap when keys are time-ordered).';
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
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_server s
                         JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
                        WHERE s.srvname = target_server AND w.fdwname = 'tds_fdw') THEN
            RAISE EXCEPTION 'target_server "%" is not a tds_fdw foreign server', target_server
                USING ERRCODE = 'wrong_object_type',
                      HINT = 'Create it the tds_fdw way (servername, port, database) with a user mapping holding username and password.';
        END IF;
        target_name := telem._tsql_table(target);
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

CREATE FUNCTION telem._set_paused(name text, paused boolean)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    UPDATE telem.pipelines p SET paused = _set_paused.paused WHERE p.name = _set_paused.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pipeline "%" does not exist', name USING ERRCODE = 'undefined_object';
    END IF;
END
$fn$;

CREATE FUNCTION telem.pause(name text)
RETURNS void
LANGUAGE sql
AS $fn$ SELECT telem._set_paused(name, true) $fn$;
COMMENT ON FUNCTION telem.pause(text) IS 'runs of the pipeline do nothing until resumed';

CREATE FUNCTION telem.resume(name text)
RETURNS void
LANGUAGE sql
AS $fn$ SELECT telem._set_paused(name, false) $fn$;
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
           LATERAL telem.list_objects(p.source,
               -- incremental listing: only keys after the last one loaded
               CASE WHEN p.options->>'listing' = 'incremental' THEN
                   (SELECT max(g.key) FROM telem.object_ledger g WHERE g.pipeline = p.name)
               END) l
     WHERE p.name = pending_objects.pipeline
       AND NOT EXISTS (SELECT 1 FROM telem.object_ledger g
                        WHERE g.pipeline = p.name AND g.key = l.key
                          AND g.etag IS NOT DISTINCT FROM l.etag AND g.size = l.size)
     ORDER BY l.key
     LIMIT pending_objects.max_objects
$fn$;
COMMENT ON FUNCTION telem.pending_objects(text, integer)
IS 'objects a run would load: new or changed since loaded';

-- ===================================================================
-- remote targets: Azure SQL (or SQL Server, Babelfish) over TDS, through
-- a tds_fdw foreign server; the T-SQL is the subset in docs/tsql-subset.md
-- ===================================================================

-- T-SQL quoting: [identifier], N'literal'
CREATE FUNCTION telem._tsql_ident(name text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $fn$ SELECT '[' || replace(name, ']', ']]') || ']' $fn$;

CREATE FUNCTION telem._tsql_literal(value text)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $fn$
    SELECT CASE WHEN value IS NULL THEN 'NULL'
                ELSE 'N''' || replace(value, '''', '''''') || '''' END
$fn$;

-- A remote table name as [schema].[table]; the schema defaults to dbo.
CREATE FUNCTION telem._tsql_table(name text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    m text[];
    part text := '(?:\[((?:[^\]]|\]\])+)\]|([A-Za-z_#@][A-Za-z0-9_#@$]*))';
BEGIN
    m := regexp_match(name, '^\s*' || part || '\s*\.\s*' || part || '\s*$');
    IF m IS NOT NULL THEN
        RETURN telem._tsql_ident(replace(coalesce(m[1], m[2]), ']]', ']')) || '.' ||
               telem._tsql_ident(replace(coalesce(m[3], m[4]), ']]', ']'));
    END IF;
    m := regexp_match(name, '^\s*' || part || '\s*$');
    IF m IS NOT NULL THEN
        RETURN '[dbo].' || telem._tsql_ident(replace(coalesce(m[1], m[2]), ']]', ']'));
    END IF;
    RAISE EXCEPTION 'invalid remote table name "%"', name
        USING ERRCODE = 'invalid_name',
              HINT = 'Write it as schema.table or [schema].[table].';
END
$fn$;

-- The SQL Server type a PostgreSQL column is pushed as.  Key columns of
-- text types become nvarchar(400): SQL Server cannot index (max) types.
CREATE FUNCTION telem._tsql_type(typ regtype, typmod integer, is_key boolean)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $fn$
    SELECT CASE
        WHEN typ IN ('text'::regtype, 'name'::regtype) OR
             (typ IN ('varchar'::regtype, 'bpchar'::regtype) AND typmod < 0)
            THEN CASE WHEN is_key THEN 'nvarchar(400)' ELSE 'nvarchar(max)' END
        WHEN typ IN ('varchar'::regtype, 'bpchar'::regtype)
            THEN CASE WHEN typmod - 4 <= 4000 THEN format('nvarchar(%s)', typmod - 4)
                      ELSE 'nvarchar(max)' END
        WHEN typ = 'bigint'::regtype THEN 'bigint'
        WHEN typ = 'integer'::regtype THEN 'int'
        WHEN typ = 'smallint'::regtype THEN 'smallint'
        WHEN typ = 'double precision'::regtype THEN 'float'
        WHEN typ = 'real'::regtype THEN 'real'
        WHEN typ = 'numeric'::regtype AND typmod >= 4
            THEN format('decimal(%s,%s)', ((typmod - 4) >> 16) & 65535, (typmod - 4) & 65535)
        WHEN typ = 'numeric'::regtype THEN 'decimal(38,10)'
        WHEN typ = 'boolean'::regtype THEN 'bit'
        WHEN typ = 'timestamp with time zone'::regtype THEN 'datetimeoffset(6)'
        WHEN typ = 'timestamp without time zone'::regtype THEN 'datetime2(6)'
        WHEN typ = 'date'::regtype THEN 'date'
        WHEN typ = 'uuid'::regtype THEN 'uniqueidentifier'
        ELSE 'nvarchar(max)'
    END
$fn$;

-- Column definitions of a pipeline's transform output, as T-SQL.
CREATE FUNCTION telem._tsql_columns(pipeline text, with_keys boolean)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT string_agg(format('%s %s %s', telem._tsql_ident(a.attname),
                             telem._tsql_type(a.atttypid::regtype, a.atttypmod,
                                              a.attname = ANY (p.key_columns)),
                             CASE WHEN with_keys AND a.attname = ANY (p.key_columns)
                                  THEN 'NOT NULL' ELSE 'NULL' END),
                      ', ' ORDER BY a.attnum)
      FROM telem.pipelines p
      JOIN pg_attribute a ON a.attrelid = p.transform AND a.attnum > 0 AND NOT a.attisdropped
     WHERE p.name = pipeline
$fn$;

CREATE FUNCTION telem.target_ddl(pipeline text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p telem.pipelines;
BEGIN
    SELECT * INTO p FROM telem.pipelines q WHERE q.name = pipeline;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pipeline "%" does not exist', pipeline USING ERRCODE = 'undefined_object';
    END IF;
    RETURN format('CREATE TABLE %s (%s%s);',
                  CASE WHEN p.target_server IS NULL THEN telem._tsql_table(p.target)
                       ELSE p.target END,
                  telem._tsql_columns(p.name, true),
                  CASE WHEN cardinality(p.key_columns) > 0
                       THEN format(', PRIMARY KEY (%s)',
                                   (SELECT string_agg(telem._tsql_ident(k), ', ')
                                      FROM unnest(p.key_columns) k))
                       ELSE '' END);
END
$fn$;
COMMENT ON FUNCTION telem.target_ddl(text)
IS 'the T-SQL CREATE TABLE for a pipeline''s target, from its transform''s columns';

-- The staging table of a pipeline: beside the target, one per pipeline.
CREATE FUNCTION telem._tds_stage(pipeline text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT split_part(p.target, '].[', 1) || '].' || telem._tsql_ident('telem_stage_' || p.name)
      FROM telem.pipelines p WHERE p.name = pipeline
$fn$;

-- Create the remote batch ledger and the pipeline's stage if missing.
CREATE FUNCTION telem._tds_setup(pipeline text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p telem.pipelines;
    stage text := telem._tds_stage(pipeline);
BEGIN
    SELECT * INTO STRICT p FROM telem.pipelines q WHERE q.name = pipeline;
    PERFORM telem.tds_exec(p.target_server, format(
        'IF OBJECT_ID(N''[dbo].[telem_batches]'', N''U'') IS NULL
           CREATE TABLE [dbo].[telem_batches] ([pipeline] nvarchar(200) NOT NULL,
             [batch_id] bigint NOT NULL, [row_count] bigint NOT NULL,
             [objects] nvarchar(max) NULL,
             [committed_at] datetime2 NOT NULL DEFAULT SYSUTCDATETIME(),
             PRIMARY KEY ([pipeline], [batch_id]));
         IF OBJECT_ID(%s, N''U'') IS NULL CREATE TABLE %s (%s);',
        telem._tsql_literal(stage), stage, telem._tsql_columns(pipeline, false)), true);
END
$fn$;

-- Record objects (a JSON array of {key, etag, size, last_modified, rows})
-- as loaded by batch, replacing what the ledger had for their keys.
CREATE FUNCTION telem._mark_loaded(pipeline text, batch bigint, objects jsonb)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $fn$
    INSERT INTO telem.object_ledger (pipeline, key, etag, size, last_modified, rows, batch_id)
    SELECT pipeline, o.key, o.etag, o.size, o.last_modified, o.rows, batch
      FROM jsonb_to_recordset(objects)
           AS o(key text, etag text, size bigint, last_modified timestamptz, rows bigint)
    ON CONFLICT ON CONSTRAINT object_ledger_pkey DO UPDATE
       SET etag = EXCLUDED.etag, size = EXCLUDED.size,
           last_modified = EXCLUDED.last_modified, rows = EXCLUDED.rows,
           batch_id = EXCLUDED.batch_id, loaded_at = now(), state = 'loaded';
    SELECT telem._pause_point('during_ledger_update');
    UPDATE telem.pipelines q SET last_batch_id = batch WHERE q.name = pipeline;
$fn$;

-- Batches the remote side committed after the local side's last one (a
-- run that died between the remote and the local commit): mark their
-- objects loaded, exactly as that run would have.
CREATE FUNCTION telem._tds_recover(pipeline text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p telem.pipelines;
    r text[];
    recovered integer := 0;
BEGIN
    SELECT * INTO STRICT p FROM telem.pipelines q WHERE q.name = pipeline;
    PERFORM telem._tds_setup(pipeline);
    FOR r IN SELECT * FROM telem.tds_query(p.target_server, format(
        'SELECT [batch_id], [objects] FROM [dbo].[telem_batches]
          WHERE [pipeline] = %s AND [batch_id] > %s ORDER BY [batch_id]',
        telem._tsql_literal(p.name), p.last_batch_id))
    LOOP
        PERFORM telem._mark_loaded(p.name, r[1]::bigint, r[2]::jsonb);
        RAISE NOTICE 'pipeline "%": batch % was committed remotely by an earlier run; its objects are now marked loaded',
            p.name, r[1];
        recovered := recovered + 1;
    END LOOP;
    RETURN recovered;
END
$fn$;

-- Push the run's increment (pg_temp.telem_increment) to the remote target:
-- bulk copy into the stage, then one remote transaction applies it and
-- records the batch.  Returns the rows copied.
CREATE FUNCTION telem._push_tds(pipeline text, batch bigint, objects jsonb)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p telem.pipelines;
    stage text := telem._tds_stage(pipeline);
    cols text[] := telem._relation_columns('pg_temp.telem_increment'::regclass);
    collist text;
    keycond text;
    setlist text;
    apply text;
    copied bigint;
BEGIN
    SELECT * INTO STRICT p FROM telem.pipelines q WHERE q.name = pipeline;
    -- timestamps go over as UTC; never shifted by the session's time zone
    PERFORM set_config('timezone', 'UTC', true);
    PERFORM telem.tds_exec(p.target_server, format('DELETE FROM %s;', stage), true);
    PERFORM telem._pause_point('before_bulk_copy');
    copied := telem.tds_bulk_copy(p.target_server, stage,
        'SELECT ' || (SELECT string_agg(CASE WHEN a.atttypid = 'boolean'::regtype
                                             THEN format('%I::int', a.attname)
                                             ELSE quote_ident(a.attname) END, ', ' ORDER BY a.attnum)
                        FROM pg_attribute a
                       WHERE a.attrelid = 'pg_temp.telem_increment'::regclass
                         AND a.attnum > 0 AND NOT a.attisdropped)
        || ' FROM pg_temp.telem_increment', p.batch_size);

    SELECT string_agg(telem._tsql_ident(c), ', ') INTO collist FROM unnest(cols) c;
    IF cardinality(p.key_columns) > 0 THEN
        SELECT string_agg(format('t.%1$s = s.%1$s', telem._tsql_ident(k)), ' AND ') INTO keycond
          FROM unnest(p.key_columns) k;
        SELECT string_agg(format('t.%1$s = s.%1$s', telem._tsql_ident(c)), ', ') INTO setlist
          FROM unnest(cols) c WHERE NOT c = ANY (p.key_columns);
        apply := coalesce(format('UPDATE t SET %s FROM %s AS t INNER JOIN %s AS s ON %s; ',
                                 setlist, p.target, stage, keycond), '')
              || format('INSERT INTO %s (%s) SELECT %s FROM %s AS s WHERE NOT EXISTS (SELECT 1 FROM %s AS t WHERE %s); ',
                        p.target, collist,
                        (SELECT string_agg('s.' || telem._tsql_ident(c), ', ') FROM unnest(cols) c),
                        stage, p.target, keycond);
    ELSE
        apply := format('INSERT INTO %s (%s) SELECT %s FROM %s AS s; ',
                        p.target, collist, collist, stage);
    END IF;
    apply := 'BEGIN TRANSACTION; ' || apply
          || format('INSERT INTO [dbo].[telem_batches] ([pipeline], [batch_id], [row_count], [objects]) VALUES (%s, %s, %s, %s); ',
                    telem._tsql_literal(p.name), batch, copied, telem._tsql_literal(objects::text))
          || 'COMMIT TRANSACTION;';
    BEGIN
        PERFORM telem.tds_exec(p.target_server, apply, true);
    EXCEPTION WHEN SQLSTATE '08007' THEN
        -- the reply was lost: the batch ledger says whether it committed
        IF NOT EXISTS (SELECT 1 FROM telem.tds_query(p.target_server, format(
                'SELECT 1 FROM [dbo].[telem_batches] WHERE [pipeline] = %s AND [batch_id] = %s',
                telem._tsql_literal(p.name), batch))) THEN
            RAISE;
        END IF;
    END;
    PERFORM telem._pause_point('after_remote_commit');
    RETURN copied;
END
$fn$;

-- Push the run's increment (pg_temp.telem_increment) into a local target:
-- an upsert on the key columns, or an append.  Returns rows written.
CREATE FUNCTION telem._push_local(pipeline text)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    p telem.pipelines;
    cols text[] := telem._relation_columns('pg_temp.telem_increment'::regclass);
    collist text;
    keycond text;
    setlist text;
    n bigint;
    pushed bigint := 0;
BEGIN
    SELECT * INTO STRICT p FROM telem.pipelines q WHERE q.name = pipeline;
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
            pushed := pushed + n;
        END IF;
        EXECUTE format('INSERT INTO %s AS t (%s) SELECT %s FROM pg_temp.telem_increment AS s
                         WHERE NOT EXISTS (SELECT 1 FROM %s AS t WHERE %s)',
                       p.target::regclass, collist, collist, p.target::regclass, keycond);
    ELSE
        EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM pg_temp.telem_increment',
                       p.target::regclass, collist, collist);
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN pushed + n;
END
$fn$;

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
    objects_json jsonb;
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
        IF p.target_server IS NOT NULL THEN
            -- batches the remote side committed but this side did not
            PERFORM telem._tds_recover(p.name);
            SELECT * INTO p FROM telem.pipelines q WHERE q.name = run.name;
        END IF;
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

            SELECT jsonb_agg(jsonb_build_object('key', o.key, 'etag', o.etag, 'size', o.size,
                                                'last_modified', o.modified, 'rows', o.rows)
                             ORDER BY o.key)
              INTO objects_json
              FROM unnest(keys, etags, sizes, mods, obj_rows)
                   AS o(key, etag, size, modified, rows);
            IF p.target_server IS NULL THEN
                rows_pushed := telem._push_local(p.name);
            ELSE
                rows_pushed := telem._push_tds(p.name, run.batch_id, objects_json);
            END IF;
            DROP TABLE pg_temp.telem_increment;

            -- the ledger, in the same transaction as the rows
            PERFORM telem._pause_point('before_ledger_update');
            PERFORM telem._mark_loaded(p.name, run.batch_id, objects_json);
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

-- ===================================================================
-- === TDS client ===
-- C functions (src/loader/tds_push.c, src/loader/tds_client.c) that reach
-- SQL Server / Azure SQL through a tds_fdw foreign server, with the current
-- user's user mapping (or PUBLIC's) for it; the caller needs USAGE on the
-- server.  Each call opens its own session (TLS required unless the host
-- is loopback; SET XACT_ABORT, NOCOUNT, ANSI_NULLS, QUOTED_IDENTIFIER ON)
-- and closes it before it returns, also on error.
-- ===================================================================
CREATE FUNCTION telem.tds_exec(server name, batch text, retry boolean DEFAULT false)
RETURNS bigint
AS 'MODULE_PATHNAME', 'telem_tds_exec'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION telem.tds_exec(name, text, boolean)
IS 'run one T-SQL batch on a tds_fdw server; rows affected (sum of DONE counts, -1 if none: the session has NOCOUNT ON); retry => true repeats it on transient server errors';

CREATE FUNCTION telem.tds_query(server name, query text)
RETURNS SETOF text[]
AS 'MODULE_PATHNAME', 'telem_tds_query'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION telem.tds_query(name, text)
IS 'run a query on a tds_fdw server; each row as text[] (NULL elements for NULLs, dates in ISO 8601)';

CREATE FUNCTION telem.tds_bulk_copy(server name, remote_table text, query text,
                                    batch_size integer DEFAULT 10000)
RETURNS bigint
AS 'MODULE_PATHNAME', 'telem_tds_bulk_copy'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION telem.tds_bulk_copy(name, text, text, integer)
IS 'bulk copy the rows of a local query into a remote table (columns matched by name), committing every batch_size rows; rows copied';

REVOKE ALL ON FUNCTION telem.tds_exec(name, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION telem.tds_query(name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION telem.tds_bulk_copy(name, text, text, integer) FROM PUBLIC;
