/* telem_fdw--0.2.0--0.3.0.sql: Azure storage, and telem.transfer between stores */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION telem_fdw UPDATE TO '0.3.0'" to load this file. \quit

-- ===================================================================
-- C helpers (src/loader/transfer.c): the store work of a transfer
-- ===================================================================
CREATE FUNCTION telem.store_objects(server name, location text, start_after text DEFAULT NULL,
    OUT key text, OUT size bigint, OUT etag text, OUT last_modified timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'telem_store_objects'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telem.store_objects(name, text, text)
IS 'objects under a location on a telem_fdw server (after start_after, when given), in key order';

CREATE FUNCTION telem._transfer_object(source_server name, source text, key text,
    etag text, size bigint, last_modified timestamptz,
    target_server name, target text, block_size_mb integer,
    OUT target_key text, OUT target_etag text, OUT bytes bigint, OUT adopted boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'telem_transfer_object'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telem._transfer_object(name, text, text, text, bigint, timestamptz, name, text, integer)
IS 'copy one object version to the same relative key under target, streaming and verified';

CREATE FUNCTION telem._check_location(server name, location text, for_write boolean)
RETURNS void
AS 'MODULE_PATHNAME', 'telem_check_location'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telem._check_location(name, text, boolean)
IS 'raise an error unless location is valid on server and usable (and, for_write, writable)';

CREATE FUNCTION telem._remove_object(server name, location text, key text)
RETURNS void
AS 'MODULE_PATHNAME', 'telem_remove_object'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telem._remove_object(name, text, text)
IS 'delete one object under a location; a missing object is fine';

-- ===================================================================
-- the transfer ledger, and transfer rows in the run log
-- ===================================================================
CREATE TABLE telem.transfer_ledger (
    source_server name NOT NULL,
    source        text NOT NULL,
    target_server name NOT NULL,
    target        text NOT NULL,
    key           text NOT NULL,
    size          bigint NOT NULL,
    etag          text,
    last_modified timestamptz NOT NULL,
    target_key    text NOT NULL,
    target_etag   text,
    copied_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_server, source, target_server, target, key)
);
COMMENT ON TABLE telem.transfer_ledger
IS 'each source object version a transfer committed to its target, with the target''s etag';

ALTER TABLE telem.run_log
    ADD COLUMN kind text NOT NULL DEFAULT 'load' CHECK (kind IN ('load', 'transfer')),
    ADD COLUMN details jsonb;
COMMENT ON COLUMN telem.run_log.pipeline
IS 'the pipeline''s name, or "SOURCE -> TARGET" for a transfer';
COMMENT ON COLUMN telem.run_log.details
IS 'transfers: objects and bytes skipped, objects failed and deleted';

-- the status view is about pipelines only
CREATE OR REPLACE VIEW telem.status AS
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
         WHERE e.pipeline = p.name AND e.kind = 'load' AND e.error IS NOT NULL
           AND e.finished_at > now() - interval '1 day') AS errors_last_day,
       (SELECT e.error FROM telem.run_log e
         WHERE e.pipeline = p.name AND e.kind = 'load' AND e.error IS NOT NULL
         ORDER BY e.run_id DESC LIMIT 1) AS last_error
  FROM telem.pipelines p
  LEFT JOIN LATERAL (SELECT * FROM telem.run_log l
                      WHERE l.pipeline = p.name AND l.kind = 'load'
                      ORDER BY l.run_id DESC LIMIT 1) r ON true
  LEFT JOIN LATERAL telem.backlog(p.name) b ON true;

-- ===================================================================
-- telem.transfer
-- ===================================================================
CREATE FUNCTION telem.transfer(
    source text, target text, source_server name, target_server name,
    mirror_deletes boolean DEFAULT false,
    block_size_mb integer DEFAULT 8,
    max_objects integer DEFAULT NULL,
    OUT objects_copied integer, OUT bytes_copied bigint,
    OUT objects_skipped integer, OUT bytes_skipped bigint,
    OUT objects_failed integer, OUT objects_deleted integer,
    OUT error text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $fn$
#variable_conflict use_column
DECLARE
    started timestamptz := clock_timestamp();
    o record;
    r record;
    msg text;
    detail text;
    first_error text;
    attempted integer := 0;
BEGIN
    objects_copied := 0; bytes_copied := 0; objects_skipped := 0; bytes_skipped := 0;
    objects_failed := 0; objects_deleted := 0;
    IF source IS NULL OR target IS NULL OR source_server IS NULL OR target_server IS NULL THEN
        RAISE EXCEPTION 'source, target and their servers must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF max_objects IS NOT NULL AND max_objects < 1 THEN
        RAISE EXCEPTION 'max_objects must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- two transfers between the same locations never overlap
    IF NOT pg_try_advisory_xact_lock(hashtext('telem.transfer'),
                                     hashtext(source_server || ' ' || source || ' '
                                              || target_server || ' ' || target)) THEN
        error := 'another transfer between these locations is in progress';
        RETURN;
    END IF;

    BEGIN
        -- both ends are valid and usable before anything is listed
        PERFORM telem._check_location(source_server, source, false);
        PERFORM telem._check_location(target_server, target, true);
        IF to_regclass('pg_temp.telem_transfer_listing') IS NOT NULL THEN
            DROP TABLE pg_temp.telem_transfer_listing;
        END IF;
        CREATE TEMP TABLE telem_transfer_listing ON COMMIT DROP AS
            SELECT * FROM telem.store_objects(source_server, source);

        FOR o IN
            SELECT s.key, s.size, s.etag, s.last_modified,
                   (l.key IS NOT NULL AND l.size = s.size AND l.etag IS NOT DISTINCT FROM s.etag
                    AND l.last_modified = s.last_modified) AS done
              FROM pg_temp.telem_transfer_listing s
              LEFT JOIN telem.transfer_ledger l
                ON l.source_server = transfer.source_server AND l.source = transfer.source
               AND l.target_server = transfer.target_server AND l.target = transfer.target
               AND l.key = s.key
             ORDER BY s.key
        LOOP
            IF o.done THEN
                objects_skipped := objects_skipped + 1;
                bytes_skipped := bytes_skipped + o.size;
                CONTINUE;
            END IF;
            EXIT WHEN attempted >= max_objects;
            attempted := attempted + 1;
            BEGIN
                r := telem._transfer_object(transfer.source_server, transfer.source, o.key,
                                            o.etag, o.size, o.last_modified,
                                            transfer.target_server, transfer.target,
                                            block_size_mb);
                -- recorded only once the target committed it
                INSERT INTO telem.transfer_ledger AS l
                       (source_server, source, target_server, target, key, size, etag,
                        last_modified, target_key, target_etag)
                VALUES (transfer.source_server, transfer.source, transfer.target_server,
                        transfer.target, o.key, o.size, o.etag, o.last_modified,
                        r.target_key, r.target_etag)
                ON CONFLICT (source_server, source, target_server, target, key) DO UPDATE
                   SET size = excluded.size, etag = excluded.etag,
                       last_modified = excluded.last_modified, target_key = excluded.target_key,
                       target_etag = excluded.target_etag, copied_at = now();
                IF r.adopted THEN
                    -- committed by an earlier run that did not get to record it
                    objects_skipped := objects_skipped + 1;
                    bytes_skipped := bytes_skipped + o.size;
                ELSE
                    objects_copied := objects_copied + 1;
                    bytes_copied := bytes_copied + r.bytes;
                END IF;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
                objects_failed := objects_failed + 1;
                first_error := coalesce(first_error, msg || coalesce(' (' || nullif(detail, '') || ')', ''));
            END;
        END LOOP;

        -- only what this transfer copied is ever deleted from the target
        IF mirror_deletes THEN
            FOR o IN
                SELECT l.key, l.target_key
                  FROM telem.transfer_ledger l
                 WHERE l.source_server = transfer.source_server AND l.source = transfer.source
                   AND l.target_server = transfer.target_server AND l.target = transfer.target
                   AND NOT EXISTS (SELECT 1 FROM pg_temp.telem_transfer_listing s
                                    WHERE s.key = l.key)
                 ORDER BY l.key
            LOOP
                BEGIN
                    PERFORM telem._remove_object(transfer.target_server, transfer.target,
                                                 o.target_key);
                    DELETE FROM telem.transfer_ledger l
                     WHERE l.source_server = transfer.source_server AND l.source = transfer.source
                       AND l.target_server = transfer.target_server AND l.target = transfer.target
                       AND l.key = o.key;
                    objects_deleted := objects_deleted + 1;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
                    objects_failed := objects_failed + 1;
                    first_error := coalesce(first_error, msg || coalesce(' (' || nullif(detail, '') || ')', ''));
                END;
            END LOOP;
        END IF;
        DROP TABLE pg_temp.telem_transfer_listing;
    EXCEPTION WHEN OTHERS THEN
        -- a bad location, or the listing failed: nothing was copied
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
        error := msg || coalesce(' (' || nullif(detail, '') || ')', '');
    END;

    IF error IS NULL AND objects_failed > 0 THEN
        error := format('%s %s failed; the first: %s', objects_failed,
                        CASE WHEN objects_failed = 1 THEN 'object' ELSE 'objects' END,
                        first_error);
    END IF;
    INSERT INTO telem.run_log (pipeline, kind, started_at, finished_at, objects, bytes,
                               error, details)
    VALUES (source || ' -> ' || target, 'transfer', started, clock_timestamp(),
            objects_copied, bytes_copied, error,
            jsonb_build_object('source_server', source_server, 'target_server', target_server,
                               'objects_skipped', objects_skipped, 'bytes_skipped', bytes_skipped,
                               'objects_failed', objects_failed, 'objects_deleted', objects_deleted));
END
$fn$;
COMMENT ON FUNCTION telem.transfer(text, text, name, name, boolean, integer, integer)
IS 'copy new and changed objects from source to target, streaming and verified, exactly as listed';

-- ===================================================================
-- privileges, as in 0.2.0: closed to PUBLIC
-- ===================================================================
REVOKE ALL ON telem.transfer_ledger FROM PUBLIC;
REVOKE ALL ON FUNCTION telem.store_objects(name, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION telem._transfer_object(name, text, text, text, bigint, timestamptz, name, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION telem._remove_object(name, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION telem._check_location(name, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION telem.transfer(text, text, name, name, boolean, integer, integer) FROM PUBLIC;

-- pg_dump keeps the loader's state with the extension's tables
SELECT pg_catalog.pg_extension_config_dump('telem.pipelines', '');
SELECT pg_catalog.pg_extension_config_dump('telem.object_ledger', '');
SELECT pg_catalog.pg_extension_config_dump('telem.run_log', '');
SELECT pg_catalog.pg_extension_config_dump('telem.run_log_run_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('telem.transfer_ledger', '');
