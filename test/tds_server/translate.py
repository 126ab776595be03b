"""T-SQL subset -> PostgreSQL.

A batch is lexed, split into statements (T-SQL needs no semicolons:
"SET FMTONLY ON select * from t SET FMTONLY OFF" is three statements) and
each statement is translated before anything runs, so an unsupported
construct fails the whole batch the way a compile error does on SQL Server.

What is understood (docs/tsql-subset.md, plus what FreeTDS and tds_fdw send):

  SET <option>[, ...] ON|OFF|<value>      session flags, mostly ignored
  SET TRANSACTION ISOLATION LEVEL ...      -> session isolation level
  IF <cond> <stmt> [ELSE <stmt>]           cond evaluated by PostgreSQL
  BEGIN/COMMIT/ROLLBACK TRAN[SACTION]      @@TRANCOUNT bookkeeping
  USE <db>                                 only the one database
  INSERT BULK <table> (<col> <type>, ...)  arms the next BULK_LOAD message
  CREATE TABLE / DROP TABLE / TRUNCATE TABLE
  SELECT / INSERT / UPDATE (incl. UPDATE ... FROM ... JOIN) / DELETE

Identifiers ([x], "x", x) are folded to lower case and double-quoted, so
they are case-insensitive as under a _CI_ collation.  Unqualified names
resolve in schema dbo; INFORMATION_SCHEMA.X maps to tds_catalog.x (views
with SQL Server type names, see catalog.py).  Everything else is an error
naming the construct: nothing unknown is silently accepted.
"""

import re

# Markers replaced at execution time (the value changes inside a batch).
TRANCOUNT = "\x00TRANCOUNT\x00"


class TsqlError(Exception):
    def __init__(self, number, message, cls=16, state=1, line=1):
        super().__init__(message)
        self.number = number
        self.message = message
        self.cls = cls
        self.state = state
        self.line = line


def syntax_error(near, line=1):
    return TsqlError(102, "Incorrect syntax near '%s'." % near, cls=15, line=line)


def unsupported(what, line=1):
    return TsqlError(50000, "TDS test server: %s is not supported "
                     "(see docs/tds-test-server.md)" % what, cls=16, line=line)


# --- lexer ---------------------------------------------------------------------
class Tok:
    __slots__ = ("kind", "value", "line", "national")

    def __init__(self, kind, value, line, national=False):
        self.kind = kind      # word qid str num bin gvar var temp op
        self.value = value
        self.line = line
        self.national = national

    @property
    def up(self):
        return self.value.upper() if self.kind == "word" else None

    def is_op(self, v):
        return self.kind == "op" and self.value == v

    def is_kw(self, *kws):
        return self.kind == "word" and self.value.upper() in kws

    def __repr__(self):
        return "%s:%r" % (self.kind, self.value)


_OPS2 = ("<>", "!=", "<=", ">=", "!<", "!>", "+=", "-=", "*=", "/=")
_NUM = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def lex(text):
    toks = []
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise TsqlError(113, "Missing end comment mark '*/'.", cls=15, line=line)
            line += text.count("\n", i, j)
            i = j
        elif c in "[\"":
            close = "]" if c == "[" else '"'
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise TsqlError(105, "Unclosed quotation mark after the character string '%s'."
                                    % "".join(buf), cls=15, line=line)
                if text[j] == close:
                    if j + 1 < n and text[j + 1] == close:
                        buf.append(close)
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            toks.append(Tok("qid", "".join(buf), line))
            line += text.count("\n", i, j)
            i = j + 1
        elif c == "'" or (c in "Nn" and text.startswith("'", i + 1)):
            national = c != "'"
            j, buf = i + (2 if national else 1), []
            while True:
                if j >= n:
                    raise TsqlError(105, "Unclosed quotation mark after the character string '%s'."
                                    % "".join(buf), cls=15, line=line)
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        buf.append("'")
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            toks.append(Tok("str", "".join(buf), line, national))
            line += text.count("\n", i, j)
            i = j + 1
        elif c == "0" and text[i + 1:i + 2] in ("x", "X"):
            j = i + 2
            while j < n and text[j] in "0123456789abcdefABCDEF":
                j += 1
            toks.append(Tok("bin", text[i + 2:j], line))
            i = j
        elif c.isdigit() or (c == "." and text[i + 1:i + 2].isdigit()
                             and not (toks and toks[-1].kind in ("word", "qid"))):
            m = _NUM.match(text, i)
            toks.append(Tok("num", m.group(0), line))
            i = m.end()
        elif c == "@":
            j = i + 2 if text.startswith("@@", i) else i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$#@"):
                j += 1
            kind = "gvar" if text.startswith("@@", i) else "var"
            toks.append(Tok(kind, text[i:j].upper() if kind == "gvar" else text[i:j], line))
            i = j
        elif c == "#":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$#@"):
                j += 1
            toks.append(Tok("temp", text[i:j], line))
            i = j
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_$#@"):
                j += 1
            toks.append(Tok("word", text[i:j], line))
            i = j
        elif text[i:i + 2] in _OPS2:
            toks.append(Tok("op", text[i:i + 2], line))
            i += 2
        elif c in "(),;.=<>+-*/%&|^~:":
            toks.append(Tok("op", c, line))
            i += 1
        else:
            raise syntax_error(c, line)
    return toks


# --- statements ----------------------------------------------------------------
class Stmt:
    """kind: set, isolation, if, begin, commit, rollback, use, bulk, sql, nop.

    For kind 'sql': .sql (PostgreSQL text, may contain TRANCOUNT), .cmd
    (select/insert/update/delete/ddl) and .returns_rows."""

    def __init__(self, kind, line, **kw):
        self.kind = kind
        self.line = line
        self.__dict__.update(kw)

    def __repr__(self):
        return "Stmt(%s)" % ", ".join("%s=%r" % kv for kv in self.__dict__.items())


STMT_KW = {"SELECT", "INSERT", "UPDATE", "DELETE", "SET", "IF", "ELSE", "BEGIN", "COMMIT",
           "ROLLBACK", "CREATE", "DROP", "TRUNCATE", "USE", "DECLARE", "EXEC", "EXECUTE",
           "PRINT", "RETURN", "WHILE", "MERGE", "ALTER", "GRANT", "REVOKE", "DENY", "WAITFOR",
           "RAISERROR", "THROW", "SAVE", "GO", "BREAK", "CONTINUE", "GOTO", "OPEN", "CLOSE",
           "DEALLOCATE", "BULK", "DBCC", "KILL", "CHECKPOINT", "RECONFIGURE", "SHUTDOWN",
           "BACKUP", "RESTORE", "READTEXT", "WRITETEXT", "UPDATETEXT", "END", "WITH"}

# Words that are SQL, not identifiers, wherever they appear in a statement.
KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "NULL", "IS", "IN", "EXISTS", "AS",
            "ON", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "JOIN", "ORDER", "BY",
            "GROUP", "HAVING", "ASC", "DESC", "DISTINCT", "ALL", "UNION", "EXCEPT", "INTERSECT",
            "CASE", "WHEN", "THEN", "ELSE", "END", "LIKE", "BETWEEN", "INTO", "VALUES", "SET",
            "UPDATE", "INSERT", "DELETE", "DEFAULT", "TOP", "ESCAPE", "OFFSET", "ROWS", "ROW",
            "FETCH", "NEXT", "FIRST", "ONLY", "ANY", "SOME", "WITH", "OVER", "PARTITION",
            "PERCENT", "TIES", "COLLATE"}

TABLE_HINTS = {"NOLOCK", "READUNCOMMITTED", "READCOMMITTED", "REPEATABLEREAD", "SERIALIZABLE",
               "HOLDLOCK", "UPDLOCK", "ROWLOCK", "PAGLOCK", "TABLOCK", "TABLOCKX", "XLOCK",
               "READPAST", "NOWAIT", "INDEX", "FORCESEEK", "READCOMMITTEDLOCK"}

# T-SQL functions with a PostgreSQL function of the same meaning.
SAME_FUNCS = {"COUNT", "SUM", "MIN", "MAX", "AVG", "COALESCE", "UPPER", "LOWER", "LTRIM",
              "RTRIM", "ABS", "ROUND", "FLOOR", "CEILING", "POWER", "SQRT", "NULLIF",
              "SUBSTRING", "REPLACE", "REVERSE", "SIGN", "EXP", "LOG", "LOG10", "PI"}
RENAMED_FUNCS = {"ISNULL": "coalesce", "LEN": "length", "COUNT_BIG": "count",
                 "DATALENGTH": "octet_length"}
NILADIC_FUNCS = {"GETDATE": "LOCALTIMESTAMP", "SYSDATETIME": "LOCALTIMESTAMP",
                 "GETUTCDATE": "(now() AT TIME ZONE 'UTC')",
                 "SYSUTCDATETIME": "(now() AT TIME ZONE 'UTC')",
                 "SYSDATETIMEOFFSET": "now()", "NEWID": "gen_random_uuid()",
                 "SCHEMA_NAME": "'dbo'", "USER_NAME": "'dbo'"}


def tsql_type(words, args, line=1):
    """Map a T-SQL type to (PostgreSQL type, T-SQL type text for the catalog).

    words: the type name's words in upper case; args: list of argument
    strings ('max' allowed) or None."""
    name = " ".join(words)
    a = args or []

    def n(i, default):
        return int(a[i]) if len(a) > i else default

    is_max = bool(a) and a[0].upper() == "MAX"
    if name in ("NVARCHAR", "NATIONAL CHARACTER VARYING", "NCHAR VARYING"):
        if is_max:
            return "text", "nvarchar(max)"
        return "varchar(%d)" % n(0, 1), "nvarchar(%d)" % n(0, 1)
    if name in ("VARCHAR", "CHARACTER VARYING", "CHAR VARYING"):
        if is_max:
            return "text", "varchar(max)"
        return "varchar(%d)" % n(0, 1), "varchar(%d)" % n(0, 1)
    if name in ("NCHAR", "CHAR", "CHARACTER"):
        base = "nchar" if name == "NCHAR" else "char"
        return "char(%d)" % n(0, 1), "%s(%d)" % (base, n(0, 1))
    if name in ("TEXT", "NTEXT", "SYSNAME"):
        return ("varchar(128)", "nvarchar(128)") if name == "SYSNAME" else ("text", name.lower())
    if name == "BIGINT":
        return "bigint", "bigint"
    if name in ("INT", "INTEGER"):
        return "integer", "int"
    if name == "SMALLINT":
        return "smallint", "smallint"
    if name == "TINYINT":
        return "smallint", "tinyint"
    if name == "BIT":
        return "boolean", "bit"
    if name in ("FLOAT", "DOUBLE PRECISION"):
        if a and n(0, 53) <= 24:
            return "real", "real"
        return "double precision", "float"
    if name == "REAL":
        return "real", "real"
    if name in ("DECIMAL", "NUMERIC", "DEC"):
        p, s = n(0, 18), n(1, 0)
        base = "numeric" if name == "NUMERIC" else "decimal"
        return "numeric(%d,%d)" % (p, s), "%s(%d,%d)" % (base, p, s)
    if name == "MONEY":
        return "numeric(19,4)", "money"
    if name == "SMALLMONEY":
        return "numeric(10,4)", "smallmoney"
    if name in ("DATETIME2", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP"):
        if name == "TIMESTAMP":
            raise unsupported("the T-SQL type timestamp (rowversion)", line)
        p = n(0, 7)
        return "timestamp(%d)" % min(p, 6), "datetime2(%d)" % p
    if name in ("DATETIMEOFFSET", "TIMESTAMP WITH TIME ZONE"):
        p = n(0, 7)
        return "timestamp(%d) with time zone" % min(p, 6), "datetimeoffset(%d)" % p
    if name == "DATETIME":
        return "timestamp(3)", "datetime"
    if name == "SMALLDATETIME":
        return "timestamp(0)", "smalldatetime"
    if name == "DATE":
        return "date", "date"
    if name in ("TIME", "TIME WITHOUT TIME ZONE"):
        p = n(0, 7)
        return "time(%d)" % min(p, 6), "time(%d)" % p
    if name == "UNIQUEIDENTIFIER" or name == "UUID":
        return "uuid", "uniqueidentifier"
    if name in ("VARBINARY", "BYTEA"):
        return "bytea", "varbinary(%s)" % ("max" if is_max or not a else a[0])
    if name in ("BINARY", "IMAGE"):
        return "bytea", "binary(%d)" % n(0, 1) if name == "BINARY" else "image"
    if name == "XML":
        return "xml", "xml"
    # PostgreSQL spellings tds_fdw uses when it pushes a CAST down.
    if name in ("BOOLEAN", "DOUBLE PRECISION", "TEXT", "INTEGER"):
        return name.lower(), name.lower()
    raise unsupported("the data type %s" % name.lower(), line)


class Ctx:
    def __init__(self, database, spid=51, version="", servername="", user="dbo"):
        self.database = database
        self.spid = spid
        self.version = version
        self.servername = servername
        self.user = user


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def ql(value):
    if "\x00" in value:
        raise unsupported("a NUL character in a string literal")
    return "'" + value.replace("'", "''") + "'"


class Parser:
    def __init__(self, toks, ctx):
        self.t = toks
        self.n = len(toks)
        self.ctx = ctx

    # -- helpers
    def tok(self, i):
        return self.t[i] if i < self.n else None

    def expect_kw(self, i, *kws):
        t = self.tok(i)
        if t is None or not t.is_kw(*kws):
            raise syntax_error(t.value if t else kws[0], t.line if t else self._last_line())
        return i + 1

    def _last_line(self):
        return self.t[-1].line if self.t else 1

    def match_paren(self, i):
        """i at '(' -> index after the matching ')'."""
        depth = 0
        while i < self.n:
            t = self.t[i]
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise syntax_error(")", self._last_line())

    def name_chain(self, i):
        """Parse a.b.c; return (parts as written, next index)."""
        parts = []
        while True:
            t = self.tok(i)
            if t is None or t.kind not in ("word", "qid"):
                if t is not None and t.kind == "temp":
                    raise unsupported("temporary table %s" % t.value, t.line)
                raise syntax_error(t.value if t else "", t.line if t else self._last_line())
            parts.append(t.value)
            i += 1
            nt = self.tok(i)
            if nt is not None and nt.is_op(".") and self.tok(i + 1) is not None \
                    and self.tok(i + 1).kind in ("word", "qid"):
                i += 1
                continue
            return parts, i

    def table_name(self, parts, line):
        """T-SQL object name -> (schema, name), lower case, default dbo."""
        parts = [p.lower() for p in parts]
        if len(parts) == 3:
            if parts[0] != self.ctx.database.lower():
                raise TsqlError(208, "Invalid object name '%s'." % ".".join(parts), line=line)
            parts = parts[1:]
        if len(parts) > 3 or not parts:
            raise unsupported("a four-part (linked server) name", line)
        if len(parts) == 1:
            return "dbo", parts[0]
        if parts[0] == "information_schema":
            return "tds_catalog", parts[1]
        if parts[0] == "sys":
            raise unsupported("the sys catalog views (sys.%s)" % parts[1], line)
        return parts[0], parts[1]

    def pg_table(self, parts, line):
        s, n = self.table_name(parts, line)
        return qi(s) + "." + qi(n)

    # -- batch
    def parse_batch(self):
        out = []
        i = 0
        while i < self.n:
            if self.t[i].is_op(";"):
                i += 1
                continue
            st, i = self.statement(i)
            out.append(st)
        return out

    def statement(self, i):
        t = self.t[i]
        line = t.line
        if t.kind != "word":
            if t.kind == "op" and t.value == "(":
                return self.generic(i, "select")
            raise syntax_error(t.value, line)
        kw = t.up
        if kw == "SET":
            return self.set_stmt(i)
        if kw == "IF":
            return self.if_stmt(i)
        if kw == "BEGIN":
            nt = self.tok(i + 1)
            if nt is not None and nt.is_kw("TRAN", "TRANSACTION"):
                return Stmt("begin", line), self.tran_name(i + 2)
            if nt is not None and nt.is_kw("DISTRIBUTED"):
                raise unsupported("BEGIN DISTRIBUTED TRANSACTION", line)
            raise unsupported("BEGIN ... END blocks", line)
        if kw in ("COMMIT", "ROLLBACK"):
            j = i + 1
            nt = self.tok(j)
            if nt is not None and nt.is_kw("TRAN", "TRANSACTION", "WORK"):
                j += 1
            return Stmt(kw.lower(), line), self.tran_name(j)
        if kw == "SAVE":
            raise unsupported("SAVE TRANSACTION", line)
        if kw == "USE":
            parts, j = self.name_chain(i + 1)
            return Stmt("use", line, database=parts[-1]), j
        if kw == "INSERT":
            nt = self.tok(i + 1)
            if nt is not None and nt.is_kw("BULK"):
                return self.insert_bulk(i + 2, line)
            return self.generic(i, "insert")
        if kw in ("SELECT", "UPDATE", "DELETE"):
            return self.generic(i, kw.lower())
        if kw == "CREATE":
            nt = self.tok(i + 1)
            if nt is not None and nt.is_kw("TABLE"):
                return self.create_table(i + 2, line)
            raise unsupported("CREATE %s" % (nt.value.upper() if nt else ""), line)
        if kw == "DROP":
            return self.drop_table(i + 1, line)
        if kw == "TRUNCATE":
            j = self.expect_kw(i + 1, "TABLE")
            parts, j = self.name_chain(j)
            return Stmt("sql", line, sql="TRUNCATE TABLE " + self.pg_table(parts, line),
                        cmd="ddl", returns_rows=False), j
        if kw in ("WITH",):
            raise unsupported("common table expressions (WITH ...)", line)
        if kw in STMT_KW or kw in ("EXEC", "EXECUTE"):
            raise unsupported("the %s statement" % kw, line)
        raise syntax_error(t.value, line)

    def tran_name(self, j):
        t = self.tok(j)
        if t is not None and (t.kind == "qid" or t.kind == "var"
                              or (t.kind == "word" and t.up not in STMT_KW)):
            return j + 1
        return j

    # -- SET
    ISOLATION = {("READ", "UNCOMMITTED"): "READ UNCOMMITTED", ("READ", "COMMITTED"): "READ COMMITTED",
                 ("REPEATABLE", "READ"): "REPEATABLE READ", ("SERIALIZABLE",): "SERIALIZABLE",
                 ("SNAPSHOT",): "REPEATABLE READ"}

    def set_stmt(self, i):
        line = self.t[i].line
        j = i + 1
        t = self.tok(j)
        if t is not None and t.is_kw("TRANSACTION"):
            j = self.expect_kw(j + 1, "ISOLATION")
            j = self.expect_kw(j, "LEVEL")
            for words, level in self.ISOLATION.items():
                if all(self.tok(j + k) is not None and self.tok(j + k).is_kw(w)
                       for k, w in enumerate(words)):
                    return Stmt("isolation", line, level=level), j + len(words)
            raise syntax_error(self.tok(j).value if self.tok(j) else "LEVEL", line)
        if t is not None and t.kind == "var":
            raise unsupported("variables (%s)" % t.value, line)
        names = []
        while True:
            t = self.tok(j)
            if t is None or t.kind != "word":
                raise syntax_error(t.value if t else "SET", line)
            names.append(t.up)
            j += 1
            if self.tok(j) is not None and self.tok(j).is_op(","):
                j += 1
                continue
            break
        t = self.tok(j)
        if t is None:
            raise syntax_error(names[-1], line)
        value = t.value
        if t.is_op("-") and self.tok(j + 1) is not None:
            value = "-" + self.tok(j + 1).value
            j += 1
        return Stmt("set", line, names=names, value=value.upper()), j + 1

    # -- IF
    def if_stmt(self, i):
        line = self.t[i].line
        j = i + 1
        start = j
        depth = 0
        while j < self.n:
            t = self.t[j]
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
            elif depth == 0 and t.kind == "word" and t.up in STMT_KW and j > start:
                break
            j += 1
        if j >= self.n or j == start:
            raise syntax_error("IF", line)
        cond = self.emit(start, j, line)
        then, j = self.statement(j)
        other = None
        t = self.tok(j)
        if t is not None and t.is_kw("ELSE"):
            other, j = self.statement(j + 1)
        return Stmt("if", line, cond=cond, then=then, other=other), j

    # -- INSERT BULK
    def insert_bulk(self, i, line):
        parts, j = self.name_chain(i)
        schema, name = self.table_name(parts, line)
        cols = []
        t = self.tok(j)
        if t is not None and t.is_op("("):
            end = self.match_paren(j)
            k = j + 1
            while k < end - 1:
                cparts, k = self.name_chain(k)
                cols.append(cparts[-1].lower())
                depth = 0
                while k < end - 1:
                    t = self.t[k]
                    if t.is_op("("):
                        depth += 1
                    elif t.is_op(")"):
                        depth -= 1
                    elif t.is_op(",") and depth == 0:
                        k += 1
                        break
                    k += 1
            j = end
        t = self.tok(j)
        if t is not None and t.is_kw("WITH") and self.tok(j + 1) is not None \
                and self.tok(j + 1).is_op("("):
            j = self.match_paren(j + 1)
        return Stmt("bulk", line, schema=schema, table=name, columns=cols), j

    # -- DDL
    def create_table(self, i, line):
        parts, j = self.name_chain(i)
        schema, name = self.table_name(parts, line)
        if schema == "tds_catalog":
            raise unsupported("creating objects in INFORMATION_SCHEMA", line)
        table = qi(schema) + "." + qi(name)
        t = self.tok(j)
        if t is None or not t.is_op("("):
            raise syntax_error(t.value if t else name, line)
        end = self.match_paren(j)
        items = self.split_commas(j + 1, end - 1)
        defs, comments = [], []
        for a, b in items:
            if a >= b:
                raise syntax_error(")", line)
            t = self.t[a]
            if t.is_kw("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
                defs.append(self.table_constraint(a, b, line))
                continue
            cparts, k = self.name_chain(a)
            col = cparts[-1].lower()
            pg, tt, k = self.type_at(k, b, line)
            opts = []
            while k < b:
                t = self.t[k]
                if t.is_kw("NULL"):
                    k += 1
                elif t.is_kw("NOT") and self.tok(k + 1) is not None and self.tok(k + 1).is_kw("NULL"):
                    opts.append("NOT NULL")
                    k += 2
                elif t.is_kw("DEFAULT"):
                    e = k + 1
                    depth = 0
                    while e < b:
                        u = self.t[e]
                        if u.is_op("("):
                            depth += 1
                        elif u.is_op(")"):
                            depth -= 1
                        elif depth == 0 and u.is_kw("NOT", "NULL", "PRIMARY", "UNIQUE",
                                                     "CONSTRAINT", "CHECK", "COLLATE"):
                            break
                        e += 1
                    opts.append("DEFAULT " + self.emit(k + 1, e, line))
                    k = e
                elif t.is_kw("CONSTRAINT"):
                    k += 2
                elif t.is_kw("PRIMARY"):
                    k = self.expect_kw(k + 1, "KEY")
                    if self.tok(k) is not None and self.tok(k).is_kw("CLUSTERED", "NONCLUSTERED"):
                        k += 1
                    opts.append("PRIMARY KEY")
                elif t.is_kw("UNIQUE"):
                    k += 1
                    if self.tok(k) is not None and self.tok(k).is_kw("CLUSTERED", "NONCLUSTERED"):
                        k += 1
                    opts.append("UNIQUE")
                elif t.is_kw("CHECK") and self.tok(k + 1) is not None and self.tok(k + 1).is_op("("):
                    e = self.match_paren(k + 1)
                    opts.append("CHECK " + self.emit(k + 1, e, line))
                    k = e
                elif t.is_kw("COLLATE"):
                    k += 2  # the column keeps the server collation
                elif t.is_kw("IDENTITY"):
                    raise unsupported("IDENTITY columns", line)
                else:
                    raise syntax_error(t.value, t.line)
            if tt == "tinyint":
                opts.append("CHECK (%s BETWEEN 0 AND 255)" % qi(col))
            defs.append(" ".join([qi(col), pg] + opts))
            comments.append("COMMENT ON COLUMN %s.%s IS %s" % (table, qi(col), ql("tsql:" + tt)))
        sql = "CREATE TABLE %s (%s)" % (table, ", ".join(defs))
        sql = ";\n".join([sql] + comments)
        return Stmt("sql", line, sql=sql, cmd="ddl", returns_rows=False), end

    def table_constraint(self, a, b, line):
        k = a
        prefix = ""
        if self.t[k].is_kw("CONSTRAINT"):
            cparts, k = self.name_chain(k + 1)
            prefix = "CONSTRAINT %s " % qi(cparts[-1].lower())
        t = self.t[k]
        if t.is_kw("PRIMARY", "UNIQUE"):
            kind = "PRIMARY KEY" if t.is_kw("PRIMARY") else "UNIQUE"
            k = self.expect_kw(k + 1, "KEY") if kind == "PRIMARY KEY" else k + 1
            if self.tok(k) is not None and self.tok(k).is_kw("CLUSTERED", "NONCLUSTERED"):
                k += 1
            if self.tok(k) is None or not self.tok(k).is_op("("):
                raise syntax_error(kind, line)
            end = self.match_paren(k)
            cols = []
            for x, y in self.split_commas(k + 1, end - 1):
                cparts, z = self.name_chain(x)
                if z < y and self.t[z].is_kw("ASC", "DESC"):
                    z += 1
                if z != y:
                    raise syntax_error(self.t[z].value, line)
                cols.append(qi(cparts[-1].lower()))
            if end != b:
                raise syntax_error(self.t[end].value, line)
            return prefix + "%s (%s)" % (kind, ", ".join(cols))
        if t.is_kw("CHECK"):
            return prefix + "CHECK " + self.emit(k + 1, b, line)
        raise unsupported("the table constraint %s" % t.value.upper(), line)

    def type_at(self, k, b, line):
        """Parse a type name at k; return (pg type, tsql type, next index)."""
        words = []
        while k < b and self.t[k].kind in ("word", "qid") and (
                not words or self.t[k].is_kw("VARYING", "PRECISION", "WITH", "WITHOUT",
                                              "TIME", "ZONE")):
            if self.t[k].is_kw("NOT", "NULL", "DEFAULT", "PRIMARY", "CONSTRAINT", "UNIQUE",
                               "COLLATE", "CHECK", "IDENTITY") and words:
                break
            words.append(self.t[k].value.upper())
            k += 1
        if not words:
            raise syntax_error(self.t[k].value if k < self.n else "", line)
        args = None
        if k < b and self.t[k].is_op("("):
            end = self.match_paren(k)
            args = [self.t[x].value for x, y in self.split_commas(k + 1, end - 1)]
            k = end
        pg, tt = tsql_type(words, args, line)
        return pg, tt, k

    def drop_table(self, i, line):
        j = self.expect_kw(i, "TABLE")
        ifexists = ""
        if self.tok(j) is not None and self.tok(j).is_kw("IF"):
            j = self.expect_kw(j + 1, "EXISTS")
            ifexists = "IF EXISTS "
        names = []
        while True:
            parts, j = self.name_chain(j)
            names.append(self.pg_table(parts, line))
            if self.tok(j) is not None and self.tok(j).is_op(","):
                j += 1
                continue
            break
        return Stmt("sql", line, sql="DROP TABLE %s%s" % (ifexists, ", ".join(names)),
                    cmd="ddl", returns_rows=False), j

    def split_commas(self, a, b):
        """Ranges [x, y) between depth-0 commas in [a, b)."""
        out = []
        depth = 0
        start = a
        for k in range(a, b):
            t = self.t[k]
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
            elif t.is_op(",") and depth == 0:
                out.append((start, k))
                start = k + 1
        if start < b or out:
            out.append((start, b))
        return out

    # -- SELECT / INSERT / UPDATE / DELETE
    def generic(self, i, kind):
        line = self.t[i].line
        j = i + 1
        depth = case = 0
        seen_set = seen_select = False
        while j < self.n:
            t = self.t[j]
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
                if depth < 0:
                    raise syntax_error(")", t.line)
            elif t.is_op(";") and depth == 0:
                break
            elif t.kind == "word":
                u = t.up
                if u == "CASE":
                    case += 1
                elif u == "END" and case:
                    case -= 1
                elif depth == 0 and not case and u in STMT_KW:
                    prev = self.t[j - 1]
                    if u == "SELECT" and prev.is_kw("UNION", "ALL", "EXCEPT", "INTERSECT"):
                        pass
                    elif u == "SELECT" and kind == "insert" and not seen_select:
                        seen_select = True
                    elif u == "SET" and kind == "update" and not seen_set:
                        seen_set = True
                    elif u == "WITH" and self.tok(j + 1) is not None and self.tok(j + 1).is_op("("):
                        pass  # table hint
                    elif u == "END":
                        raise syntax_error("END", t.line)
                    else:
                        break
            j += 1
        if kind == "select":
            return self.select_stmt(i, j, line), j
        if kind == "insert":
            return self.insert_stmt(i, j, line), j
        if kind == "update":
            return self.update_stmt(i, j, line), j
        return self.delete_stmt(i, j, line), j

    def select_stmt(self, a, b, line):
        for k in range(a, b):
            t = self.t[k]
            if t.is_kw("INTO") and not any(self.t[x].is_kw("INSERT") for x in range(a, k)):
                raise unsupported("SELECT ... INTO", line)
            if t.is_kw("FOR") and self.tok(k + 1) is not None and self.tok(k + 1).is_kw("XML", "JSON", "BROWSE", "UPDATE"):
                raise unsupported("SELECT ... FOR %s" % self.tok(k + 1).value.upper(), line)
            if t.is_kw("OPTION"):
                raise unsupported("query hints (OPTION ...)", line)
        return Stmt("sql", line, sql=self.emit(a, b, line, top_level=True), cmd="select",
                    returns_rows=True)

    def insert_stmt(self, a, b, line):
        k = a + 1
        if self.tok(k) is not None and self.tok(k).is_kw("INTO"):
            k += 1
        parts, k = self.name_chain(k)
        out = "INSERT INTO " + self.pg_table(parts, line)
        if k < b and self.t[k].is_op("("):
            end = self.match_paren(k)
            cols = []
            for x, y in self.split_commas(k + 1, end - 1):
                cparts, z = self.name_chain(x)
                if z != y:
                    raise syntax_error(self.t[z].value, line)
                cols.append(qi(cparts[-1].lower()))
            out += " (" + ", ".join(cols) + ")"
            k = end
        if k >= b:
            raise syntax_error(self.t[b - 1].value, line)
        t = self.t[k]
        if t.is_kw("OUTPUT"):
            raise unsupported("INSERT ... OUTPUT", line)
        if t.is_kw("EXEC", "EXECUTE"):
            raise unsupported("INSERT ... EXEC", line)
        if not t.is_kw("SELECT", "VALUES", "DEFAULT") and not t.is_op("("):
            raise syntax_error(t.value, t.line)
        out += " " + self.emit(k, b, line, top_level=True)
        return Stmt("sql", line, sql=out, cmd="insert", returns_rows=False)

    def delete_stmt(self, a, b, line):
        k = a + 1
        if k < b and self.t[k].is_kw("TOP"):
            raise unsupported("DELETE TOP", line)
        if k < b and self.t[k].is_kw("FROM"):
            k += 1
        parts, k = self.name_chain(k)
        out = "DELETE FROM " + self.pg_table(parts, line)
        k = self.skip_hints(k, b)
        if k < b and self.t[k].is_kw("FROM"):
            raise unsupported("DELETE ... FROM with a join", line)
        if k < b and self.t[k].is_kw("OUTPUT"):
            raise unsupported("DELETE ... OUTPUT", line)
        if k < b:
            if not self.t[k].is_kw("WHERE"):
                raise syntax_error(self.t[k].value, self.t[k].line)
            out += " " + self.emit(k, b, line)
        return Stmt("sql", line, sql=out, cmd="delete", returns_rows=False)

    def skip_hints(self, k, b):
        if k + 1 < b and self.t[k].is_kw("WITH") and self.t[k + 1].is_op("("):
            return self.match_paren(k + 1)
        return k

    def depth0(self, a, b, *kws):
        """Index of the first depth-0 keyword among kws in [a, b), or b."""
        depth = 0
        for k in range(a, b):
            t = self.t[k]
            if t.is_op("("):
                depth += 1
            elif t.is_op(")"):
                depth -= 1
            elif depth == 0 and t.is_kw(*kws):
                return k
        return b

    def update_stmt(self, a, b, line):
        k = a + 1
        if k < b and self.t[k].is_kw("TOP"):
            raise unsupported("UPDATE TOP", line)
        target, k = self.name_chain(k)
        k = self.skip_hints(k, b)
        if k >= b or not self.t[k].is_kw("SET"):
            raise syntax_error(self.t[k].value if k < b else "UPDATE", line)
        set_start = k + 1
        f = self.depth0(set_start, b, "FROM", "WHERE", "OUTPUT", "OPTION")
        if f < b and self.t[f].is_kw("OUTPUT", "OPTION"):
            raise unsupported("UPDATE ... %s" % self.t[f].value.upper(), line)
        assigns = []
        for x, y in self.split_commas(set_start, f):
            cparts, z = self.name_chain(x)
            if z >= y or not self.t[z].is_op("="):
                raise unsupported("compound assignment or variables in UPDATE ... SET", line)
            assigns.append(qi(cparts[-1].lower()) + " = " + self.emit(z + 1, y, line))
        set_sql = "SET " + ", ".join(assigns)
        w = self.depth0(f, b, "WHERE")
        where = self.emit(w + 1, b, line) if w < b else None
        if f == b or not self.t[f].is_kw("FROM"):
            out = "UPDATE %s %s" % (self.pg_table(target, line), set_sql)
            if where:
                out += " WHERE " + where
            return Stmt("sql", line, sql=out, cmd="update", returns_rows=False)
        # UPDATE t SET ... FROM a AS t [INNER] JOIN b AS s ON cond [, c ...] [WHERE w]
        items, conds = self.from_items(f + 1, w, line)
        tname = [p.lower() for p in target]
        mine = None
        for it in items:
            if (len(tname) == 1 and it["alias"] == tname[0]) or \
                    (it["alias"] is None and it["parts"] == tname) or \
                    (it["parts"][-1:] == tname[-1:] and len(tname) > 1):
                mine = it
                break
        if mine is None:
            raise unsupported("UPDATE whose target is not in its FROM clause", line)
        others = [it for it in items if it is not mine]
        out = "UPDATE %s" % mine["sql"]
        out += " " + set_sql
        if others:
            out += " FROM " + ", ".join(it["sql"] for it in others)
        preds = ["(%s)" % c for c in conds] + (["(%s)" % where] if where else [])
        if preds:
            out += " WHERE " + " AND ".join(preds)
        return Stmt("sql", line, sql=out, cmd="update", returns_rows=False)

    def from_items(self, a, b, line):
        """FROM list of tables joined by ',' or [INNER] JOIN ... ON ...
        -> (items, ON conditions)."""
        items, conds = [], []
        k = self.from_item(a, b, line, items)
        while k < b:
            t = self.t[k]
            if t.is_op(","):
                k = self.from_item(k + 1, b, line, items)
                continue
            if t.is_kw("INNER"):
                k += 1
                t = self.tok(k)
            if t is None or not t.is_kw("JOIN"):
                if t is not None and t.is_kw("LEFT", "RIGHT", "FULL", "CROSS", "OUTER"):
                    raise unsupported("%s JOIN in UPDATE ... FROM" % t.value.upper(), line)
                raise syntax_error(t.value if t else "JOIN", line)
            k = self.from_item(k + 1, b, line, items)
            k = self.expect_kw(k, "ON")
            e = self.depth0(k, b, "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS")
            depth = 0
            for x in range(k, e):
                if self.t[x].is_op("("):
                    depth += 1
                elif self.t[x].is_op(")"):
                    depth -= 1
                elif depth == 0 and self.t[x].is_op(","):
                    e = x
                    break
            conds.append(self.emit(k, e, line))
            k = e
        return items, conds

    def from_item(self, k, b, line, items):
        parts, k = self.name_chain(k)
        alias = None
        if k < b and self.t[k].is_kw("AS"):
            if k + 1 >= b:
                raise syntax_error("AS", line)
            alias = self.t[k + 1].value.lower()
            k += 2
        elif k < b and (self.t[k].kind == "qid" or
                        (self.t[k].kind == "word" and self.t[k].up not in KEYWORDS)):
            alias = self.t[k].value.lower()
            k += 1
        k = self.skip_hints(k, b)
        sql = self.pg_table(parts, line) + (" AS " + qi(alias) if alias else "")
        items.append({"parts": [p.lower() for p in parts], "alias": alias, "sql": sql})
        return k

    # -- expressions
    def emit(self, a, b, line, top_level=False):
        """Translate the tokens [a, b) of an expression or query."""
        out = []
        limit = None
        k = a
        depth = 0
        while k < b:
            t = self.t[k]
            kind = t.kind
            if kind == "op":
                if t.value == "(":
                    depth += 1
                elif t.value == ")":
                    depth -= 1
                if t.value in ("+=", "-=", "*=", "/=", "!<", "!>"):
                    raise unsupported("the operator %s" % t.value, t.line)
                if t.value == ":":
                    raise syntax_error(":", t.line)
                out.append(t.value)
                k += 1
                continue
            if kind == "str":
                prev = self.t[k - 1] if k > a else None
                if prev is not None and prev.is_kw("AS"):
                    out.append(qi(t.value.lower()))  # SELECT x AS 'alias'
                else:
                    out.append(ql(t.value))
                k += 1
                continue
            if kind == "num":
                out.append(t.value)
                k += 1
                continue
            if kind == "bin":
                out.append("'\\x%s'::bytea" % t.value)
                k += 1
                continue
            if kind == "gvar":
                out.append(self.global_var(t))
                k += 1
                continue
            if kind == "var":
                raise unsupported("variables (%s)" % t.value, t.line)
            if kind == "temp":
                raise unsupported("temporary table %s" % t.value, t.line)
            # word or qid
            if kind == "word":
                u = t.up
                nxt = self.tok(k + 1) if k + 1 < b else None
                if u == "TOP":
                    if depth != 0 or not top_level:
                        raise unsupported("TOP in a subquery", t.line)
                    k += 1
                    if self.t[k].is_op("("):
                        end = self.match_paren(k)
                        limit = self.emit(k, end, line)
                        k = end
                    else:
                        limit = self.t[k].value
                        k += 1
                    if k < b and self.t[k].is_kw("PERCENT", "WITH"):
                        raise unsupported("TOP ... %s" % self.t[k].value.upper(), line)
                    continue
                if u == "WITH" and nxt is not None and nxt.is_op("(") and \
                        self.tok(k + 2) is not None and self.tok(k + 2).kind == "word" and \
                        self.tok(k + 2).up in TABLE_HINTS:
                    k = self.match_paren(k + 1)
                    continue
                if u == "COLLATE":
                    raise unsupported("COLLATE clauses", t.line)
                if u in KEYWORDS:
                    if u == "OVER":
                        raise unsupported("window functions (OVER)", t.line)
                    out.append(u)
                    k += 1
                    continue
                if nxt is not None and nxt.is_op("("):
                    s, k = self.function(k, b, line)
                    out.append(s)
                    continue
                if u in ("CURRENT_TIMESTAMP",):
                    out.append("LOCALTIMESTAMP")
                    k += 1
                    continue
            # a name chain: table, column, alias, t.*, schema.table
            parts = [t.value]
            k += 1
            star = False
            while k + 1 < b + 1 and k < b and self.t[k].is_op("."):
                nt = self.tok(k + 1)
                if nt is not None and nt.kind in ("word", "qid"):
                    parts.append(nt.value)
                    k += 2
                elif nt is not None and nt.is_op("*"):
                    star = True
                    k += 2
                    break
                else:
                    break
            if k < b and self.t[k].is_op("(") and kind == "qid":
                raise unsupported("user-defined functions (%s)" % ".".join(parts), line)
            out.append(self.name_sql(parts, line) + (".*" if star else ""))
        sql = " ".join(out)
        sql = sql.replace(" . ", ".").replace("( ", "(").replace(" )", ")").replace(" ,", ",")
        if limit is not None:
            sql += " LIMIT " + limit
        return sql

    def name_sql(self, parts, line):
        low = [p.lower() for p in parts]
        if len(low) >= 2 and low[0] == "information_schema":
            low = ["tds_catalog"] + low[1:]
        elif len(low) >= 2 and low[0] == "sys":
            raise unsupported("the sys catalog views (sys.%s)" % low[1], line)
        elif len(low) == 3 and low[0] == self.ctx.database.lower():
            low = low[1:]
        elif len(low) == 4:
            raise unsupported("a four-part (linked server) name", line)
        return ".".join(qi(p) for p in low)

    def global_var(self, t):
        v = t.value
        if v == "@@TRANCOUNT":
            return TRANCOUNT
        if v == "@@SPID":
            return str(self.ctx.spid)
        if v == "@@VERSION":
            return ql(self.ctx.version)
        if v == "@@SERVERNAME":
            return ql(self.ctx.servername)
        raise unsupported("the global variable %s" % v, t.line)

    def function(self, k, b, line):
        """k at a function name followed by '('; return (sql, next index)."""
        t = self.t[k]
        u = t.up
        end = self.match_paren(k + 1)
        args = self.split_commas(k + 2, end - 1)
        if u in SAME_FUNCS or u in RENAMED_FUNCS:
            name = RENAMED_FUNCS.get(u, u.lower())
            if u in ("COUNT", "COUNT_BIG") and len(args) == 1 and args[0][1] - args[0][0] == 1 \
                    and self.t[args[0][0]].is_op("*"):
                return name + "(*)", end
            inner = self.emit(k + 2, end - 1, line)
            return "%s(%s)" % (name, inner), end
        if u in NILADIC_FUNCS:
            if args:
                raise syntax_error(u, t.line)
            return NILADIC_FUNCS[u], end
        if u == "DB_NAME":
            return ql(self.ctx.database), end
        if u in ("SUSER_SNAME", "SUSER_NAME", "ORIGINAL_LOGIN"):
            return ql(self.ctx.user), end
        if u == "CHARINDEX":
            if len(args) != 2:
                raise unsupported("CHARINDEX with a start position", t.line)
            what = self.emit(*args[0], line)
            where = self.emit(*args[1], line)
            return "strpos(%s, %s)" % (where, what), end
        if u == "OBJECT_ID":
            return self.object_id(args, line), end
        if u == "CAST":
            a, z = k + 2, end - 1
            depth = 0
            as_at = None
            for x in range(a, z):
                if self.t[x].is_op("("):
                    depth += 1
                elif self.t[x].is_op(")"):
                    depth -= 1
                elif depth == 0 and self.t[x].is_kw("AS"):
                    as_at = x
            if as_at is None:
                raise syntax_error("CAST", t.line)
            pg, _tt, nx = self.type_at(as_at + 1, z, line)
            if nx != z:
                raise syntax_error(self.t[nx].value, line)
            return "CAST(%s AS %s)" % (self.emit(a, as_at, line), pg), end
        if u == "CONVERT":
            if len(args) == 3:
                raise unsupported("CONVERT with a style argument", t.line)
            if len(args) != 2:
                raise syntax_error("CONVERT", t.line)
            pg, _tt, nx = self.type_at(args[0][0], args[0][1], line)
            return "CAST(%s AS %s)" % (self.emit(*args[1], line), pg), end
        if u in ("EXISTS", "IN"):
            return u + " " + self.emit(k + 1, end, line), end
        raise unsupported("the function %s()" % u, t.line)

    def object_id(self, args, line):
        if not args or len(args) > 2:
            raise syntax_error("OBJECT_ID", line)
        vals = []
        for x, y in args:
            if y - x != 1 or self.t[x].kind != "str":
                raise unsupported("OBJECT_ID with a non-literal argument", line)
            vals.append(self.t[x].value)
        name_toks = lex(vals[0])
        sub = Parser(name_toks, self.ctx)
        parts, end = sub.name_chain(0)
        if end != len(name_toks):
            return "NULL::integer"
        if parts and parts[0].lower() == "tempdb" or vals[0].startswith("#"):
            raise unsupported("temporary tables (OBJECT_ID on tempdb)", line)
        schema, name = self.table_name(parts, line)
        otype = vals[1].strip().upper() if len(vals) > 1 else ""
        return "tds_catalog.object_id(%s, %s, %s)" % (ql(schema), ql(name), ql(otype))


def translate_batch(text, ctx):
    """Translate a whole batch; raise TsqlError on anything unsupported."""
    toks = lex(text)
    return Parser(toks, ctx).parse_batch()
