"""The PostgreSQL side: catalog objects, T-SQL types of columns, error mapping.

setup() makes the target database look enough like an Azure SQL database:

  schema dbo                      where unqualified names resolve
  schema tds_catalog              INFORMATION_SCHEMA.X is tds_catalog.x:
    schemata, tables, columns     views over pg_catalog with SQL Server type
                                  names (nvarchar, datetimeoffset, bit, ...)
    type_of(rel, attnum)          the T-SQL type of a column (e.g. nvarchar(200))
    object_id(schema, name, type) OBJECT_ID() for a literal name
  int4 -> boolean cast made implicit (in this database only), so bit columns
  compare with 1 and 0 as in T-SQL (WHERE [flag] = 1, also what tds_fdw
  pushes down for an imported bit column).

CREATE TABLE (translate.py) records each column's T-SQL type as a column
comment "tsql:<type>"; columns without one get a type derived from the
PostgreSQL type (text -> nvarchar(max), timestamptz -> datetimeoffset(7), ...).
"""

import re

SETUP_SQL = r"""
CREATE SCHEMA IF NOT EXISTS dbo;
CREATE SCHEMA IF NOT EXISTS tds_catalog;

CREATE OR REPLACE FUNCTION tds_catalog.type_of(rel oid, att int) RETURNS text
LANGUAGE sql STABLE AS $f$
  SELECT coalesce(substring(col_description(a.attrelid, a.attnum) FROM '^tsql:(.+)$'),
    CASE a.atttypid
      WHEN 'int2'::regtype THEN 'smallint'
      WHEN 'int4'::regtype THEN 'int'
      WHEN 'int8'::regtype THEN 'bigint'
      WHEN 'bool'::regtype THEN 'bit'
      WHEN 'float4'::regtype THEN 'real'
      WHEN 'float8'::regtype THEN 'float'
      WHEN 'numeric'::regtype THEN
        CASE WHEN a.atttypmod >= 4
             THEN format('decimal(%s,%s)', (a.atttypmod - 4) >> 16, (a.atttypmod - 4) & 65535)
             ELSE 'decimal(38,10)' END
      WHEN 'varchar'::regtype THEN
        CASE WHEN a.atttypmod >= 4 AND a.atttypmod - 4 <= 4000
             THEN format('nvarchar(%s)', a.atttypmod - 4) ELSE 'nvarchar(max)' END
      WHEN 'bpchar'::regtype THEN format('nchar(%s)', greatest(a.atttypmod - 4, 1))
      WHEN 'timestamp'::regtype THEN 'datetime2(7)'
      WHEN 'timestamptz'::regtype THEN 'datetimeoffset(7)'
      WHEN 'date'::regtype THEN 'date'
      WHEN 'uuid'::regtype THEN 'uniqueidentifier'
      WHEN 'bytea'::regtype THEN 'varbinary(max)'
      WHEN 'name'::regtype THEN 'nvarchar(128)'
      ELSE 'nvarchar(max)' END)
  FROM pg_attribute a WHERE a.attrelid = rel AND a.attnum = att
$f$;

CREATE OR REPLACE FUNCTION tds_catalog.object_id(sch text, obj text, otype text) RETURNS integer
LANGUAGE sql STABLE AS $f$
  SELECT c.oid::integer FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = sch AND c.relname = obj
     AND CASE upper(coalesce(otype, ''))
           WHEN '' THEN c.relkind IN ('r', 'v', 'p', 'f')
           WHEN 'U' THEN c.relkind IN ('r', 'p')
           WHEN 'V' THEN c.relkind = 'v'
           ELSE false END
$f$;

CREATE OR REPLACE VIEW tds_catalog.schemata AS
SELECT current_database()::varchar(128) AS catalog_name,
       n.nspname::varchar(128) AS schema_name,
       'dbo'::varchar(128) AS schema_owner
  FROM pg_namespace n
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'tds_catalog', 'pg_toast', 'public')
   AND n.nspname NOT LIKE 'pg\_%';

CREATE OR REPLACE VIEW tds_catalog.tables AS
SELECT current_database()::varchar(128) AS table_catalog,
       n.nspname::varchar(128) AS table_schema,
       c.relname::varchar(128) AS table_name,
       (CASE WHEN c.relkind = 'v' THEN 'VIEW' ELSE 'BASE TABLE' END)::varchar(10) AS table_type
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'v', 'p', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tds_catalog', 'pg_toast', 'public')
   AND n.nspname NOT LIKE 'pg\_%';

CREATE OR REPLACE VIEW tds_catalog.columns AS
WITH c AS (
  SELECT n.nspname, r.relname, a.attname, a.attnum, a.attnotnull,
         pg_get_expr(d.adbin, d.adrelid) AS pgdefault,
         tds_catalog.type_of(r.oid, a.attnum) AS tt
    FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
    JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
   WHERE r.relkind IN ('r', 'v', 'p', 'f')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tds_catalog', 'pg_toast', 'public')
     AND n.nspname NOT LIKE 'pg\_%'
), t AS (
  SELECT c.*, substring(tt FROM '^[a-z0-9]+') AS base,
         substring(tt FROM '\(([^,)]+)') AS arg1,
         substring(tt FROM ',\s*([0-9]+)\)') AS arg2
    FROM c
)
SELECT current_database()::varchar(128) AS table_catalog,
       nspname::varchar(128) AS table_schema,
       relname::varchar(128) AS table_name,
       attname::varchar(128) AS column_name,
       attnum::integer AS ordinal_position,
       (CASE WHEN pgdefault IS NULL THEN NULL
             WHEN pgdefault LIKE '(now() AT TIME ZONE%' THEN '(sysutcdatetime())'
             WHEN pgdefault = 'now()' THEN '(sysdatetimeoffset())'
             ELSE '(' || pgdefault || ')' END)::varchar(4000) AS column_default,
       (CASE WHEN attnotnull THEN 'NO' ELSE 'YES' END)::varchar(3) AS is_nullable,
       base::varchar(128) AS data_type,
       (CASE WHEN base IN ('nvarchar', 'varchar', 'nchar', 'char', 'varbinary', 'binary')
             THEN CASE WHEN arg1 = 'max' THEN -1 ELSE arg1::integer END
             WHEN base IN ('text', 'ntext', 'image', 'xml') THEN 2147483647 / (CASE WHEN base = 'ntext' THEN 2 ELSE 1 END)
             END)::integer AS character_maximum_length,
       (CASE WHEN base IN ('nvarchar', 'nchar')
             THEN CASE WHEN arg1 = 'max' THEN -1 ELSE 2 * arg1::integer END
             WHEN base IN ('varchar', 'char', 'varbinary', 'binary')
             THEN CASE WHEN arg1 = 'max' THEN -1 ELSE arg1::integer END
             END)::integer AS character_octet_length,
       (CASE base WHEN 'tinyint' THEN 3 WHEN 'smallint' THEN 5 WHEN 'int' THEN 10
                  WHEN 'bigint' THEN 19 WHEN 'real' THEN 24 WHEN 'float' THEN 53
                  WHEN 'money' THEN 19 WHEN 'smallmoney' THEN 10
                  WHEN 'decimal' THEN arg1::integer WHEN 'numeric' THEN arg1::integer
             END)::smallint AS numeric_precision,
       (CASE WHEN base IN ('real', 'float') THEN 2
             WHEN base IN ('tinyint', 'smallint', 'int', 'bigint', 'money', 'smallmoney',
                           'decimal', 'numeric') THEN 10 END)::smallint AS numeric_precision_radix,
       (CASE WHEN base IN ('tinyint', 'smallint', 'int', 'bigint') THEN 0
             WHEN base IN ('money', 'smallmoney') THEN 4
             WHEN base IN ('decimal', 'numeric') THEN coalesce(arg2::integer, 0)
             END)::integer AS numeric_scale,
       (CASE WHEN base IN ('datetime2', 'datetimeoffset', 'time') THEN coalesce(arg1::integer, 7)
             WHEN base = 'datetime' THEN 3
             WHEN base IN ('date', 'smalldatetime') THEN 0 END)::smallint AS datetime_precision,
       (CASE WHEN base IN ('nvarchar', 'nchar', 'ntext') THEN 'UNICODE'
             WHEN base IN ('varchar', 'char', 'text') THEN 'iso_1' END)::varchar(128) AS character_set_name,
       (CASE WHEN base IN ('nvarchar', 'nchar', 'ntext', 'varchar', 'char', 'text')
             THEN 'Latin1_General_CI_AS' END)::varchar(128) AS collation_name
  FROM t;

DO $d$ BEGIN
  -- bit columns compare with integer literals as in T-SQL
  UPDATE pg_cast SET castcontext = 'i'
   WHERE castsource = 'int4'::regtype AND casttarget = 'bool'::regtype AND castcontext <> 'i';
END $d$;
"""

# PostgreSQL type OIDs -> T-SQL type, for computed result columns.
OID_TYPES = {
    16: "bit", 20: "bigint", 21: "smallint", 23: "int", 26: "bigint", 700: "real",
    701: "float", 25: "nvarchar(max)", 1043: "nvarchar(max)", 1042: "nchar(1)",
    19: "nvarchar(128)", 18: "nchar(1)", 705: "nvarchar(max)", 1114: "datetime2(7)",
    1184: "datetimeoffset(7)", 1082: "date", 2950: "uniqueidentifier", 17: "varbinary(max)",
    1700: "decimal",
}

_TYPE_RE = re.compile(r"^([a-z0-9]+)(?:\(\s*([a-z0-9]+)\s*(?:,\s*([0-9]+)\s*)?\))?$")


def parse_tsql_type(tt):
    """'nvarchar(200)' -> ('nvarchar', '200', None)."""
    m = _TYPE_RE.match(tt.strip().lower())
    if not m:
        return "nvarchar", "max", None
    return m.group(1), m.group(2), m.group(3)


# --- PostgreSQL errors -> SQL Server errors -------------------------------------
def _q(s):
    return s if s is not None else "?"


def map_pg_error(e, spid, stmt_kind):
    """psycopg2 error -> (number, class, state, message)."""
    code = getattr(e, "pgcode", None) or ""
    diag = getattr(e, "diag", None)
    primary = (diag.message_primary if diag is not None and diag.message_primary
               else str(e).strip().splitlines()[0] if str(e).strip() else "error")
    detail = diag.message_detail if diag is not None else None
    table = diag.table_name if diag is not None else None
    schema = diag.schema_name if diag is not None else None
    obj = "%s.%s" % (schema, table) if schema and table else _q(table)
    verb = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}.get(stmt_kind, "INSERT")
    if code == "23505":
        cname = diag.constraint_name if diag is not None else None
        kind = "PRIMARY KEY" if cname and cname.endswith("_pkey") else "UNIQUE KEY"
        m = re.search(r"=\((.*)\) already exists", detail or "")
        value = "(%s)" % m.group(1) if m else "(?)"
        return (2627, 14, 1, "Violation of %s constraint '%s'. Cannot insert duplicate key in "
                "object '%s'. The duplicate key value is %s." % (kind, _q(cname), obj, value))
    if code == "40P01":
        return (1205, 13, 51, "Transaction (Process ID %d) was deadlocked on lock resources with "
                "another process and has been chosen as the deadlock victim. Rerun the "
                "transaction." % spid)
    if code == "40001":
        return (3960, 16, 2, "Snapshot isolation transaction aborted due to update conflict. "
                "(PostgreSQL: %s)" % primary)
    if code == "42P01":
        m = re.search(r'relation "([^"]+)" does not exist', primary)
        return (208, 16, 1, "Invalid object name '%s'." % (m.group(1) if m else "?"))
    if code == "42601":
        m = re.search(r'at or near "([^"]*)"', primary)
        return (102, 15, 1, "Incorrect syntax near '%s'." % (m.group(1) if m else "?"))
    if code == "42703":
        m = re.search(r'column "?([^" ]+)"? (?:of relation "[^"]+" )?does not exist', primary)
        return (207, 16, 1, "Invalid column name '%s'." % (m.group(1).split(".")[-1] if m else "?"))
    if code == "42P07":
        m = re.search(r'relation "([^"]+)" already exists', primary)
        return (2714, 16, 6, "There is already an object named '%s' in the database."
                % (m.group(1) if m else "?"))
    if code == "23502":
        col = diag.column_name if diag is not None else None
        return (515, 16, 2, "Cannot insert the value NULL into column '%s', table '%s'; column "
                "does not allow nulls. %s fails." % (_q(col), obj, verb))
    if code == "23503":
        return (547, 16, 0, "The %s statement conflicted with the FOREIGN KEY constraint \"%s\". "
                "(PostgreSQL: %s)" % (verb, _q(diag.constraint_name if diag else None), primary))
    if code == "23514":
        return (547, 16, 0, "The %s statement conflicted with the CHECK constraint \"%s\". "
                "The conflict occurred in database, table \"%s\"."
                % (verb, _q(diag.constraint_name if diag else None), obj))
    if code == "22001":
        return (2628, 16, 1, "String or binary data would be truncated in table '%s'. "
                "(PostgreSQL: %s)" % (obj, primary))
    if code == "22003":
        return (8115, 16, 2, "Arithmetic overflow error. (PostgreSQL: %s)" % primary)
    if code == "22012":
        return (8134, 16, 1, "Divide by zero error encountered.")
    if code in ("22007", "22008"):
        return (241, 16, 1, "Conversion failed when converting date and/or time from character "
                "string. (PostgreSQL: %s)" % primary)
    if code == "22P02":
        return (245, 16, 1, "Conversion failed. (PostgreSQL: %s)" % primary)
    if code == "55P03":
        return (1222, 16, 51, "Lock request time out period exceeded.")
    return (50000, 16, 1, "%s (PostgreSQL %s)" % (primary, code or "error"))
