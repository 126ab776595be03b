/* telem_fdw--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION telem_fdw" to load this file. \quit

CREATE FUNCTION telem_fdw_handler()
RETURNS fdw_handler
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

COMMENT ON FUNCTION telem_fdw_handler()
IS 'telem_fdw foreign-data wrapper handler';

CREATE FUNCTION telem_fdw_validator(text[], oid)
RETURNS void
AS 'MODULE_PATHNAME'
LANGUAGE C STRICT;

COMMENT ON FUNCTION telem_fdw_validator(text[], oid)
IS 'telem_fdw foreign-data wrapper option validator';

CREATE FOREIGN DATA WRAPPER telem_fdw
  HANDLER telem_fdw_handler
  VALIDATOR telem_fdw_validator;

COMMENT ON FOREIGN DATA WRAPPER telem_fdw
IS 'S3, Azure and local-directory objects (JSON lines, CSV) as tables';

-- The loader's home.  Empty in this release; pipelines, the object ledger
-- and the run log arrive with the loader.
CREATE SCHEMA telem;
COMMENT ON SCHEMA telem IS 'telem_fdw loader: pipelines, ledgers, runs';
REVOKE ALL ON SCHEMA telem FROM PUBLIC;
