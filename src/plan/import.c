/*-------------------------------------------------------------------------
 *
 * import.c
 *		IMPORT FOREIGN SCHEMA: one foreign table per child prefix of a
 *		location, with columns inferred from a bounded sample.
 *
 * The remote schema name is the location ("s3://bucket/raw/"); OPTIONS
 * (location '...') takes precedence, for locations longer than an
 * identifier's 63 bytes.  The tables are the location's child prefixes
 * ("raw/vehicle/" → vehicle), found with the store's list_level where it
 * has one, else from the first IMPORT_FLAT_PAGES pages of a flat listing
 * (children whose first key lies beyond those pages are missed, and a
 * NOTICE says so).  Children named "_..." or "." are skipped (Spark's
 * _temporary, hidden directories); so are objects directly under the
 * location, unless there are no children or every child is a name=value
 * partition, in which case the location itself is one table, named after
 * its last segment.
 *
 * For each table, the first IMPORT_TABLE_PAGES listing pages under it
 * give the name=value partition segments; sample_objects objects spread
 * over them give at most sample_rows records in all, reading at most
 * IMPORT_OBJECT_BYTES decompressed bytes of each.  The format's schema
 * source (see infer.h) notes the records and infer.c picks the columns.
 *
 * Store handles are malloc'd and released from a reset callback on the
 * import's memory context, so an error mid-sample leaks nothing.
 *
 * IDENTIFICATION
 *		src/plan/import.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>

#include "commands/copy.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/varlena.h"

#include "plan/infer.h"

/* IMPORT options beyond the table options it passes through */
#define OPT_SAMPLE_OBJECTS		"sample_objects"
#define OPT_SAMPLE_ROWS			"sample_rows"
#define OPT_FLATTEN				"flatten"

#define DEFAULT_SAMPLE_OBJECTS	4
#define DEFAULT_SAMPLE_ROWS		1000

/* Pages of a flat listing searched for child prefixes. */
#define IMPORT_FLAT_PAGES		10
/* Pages listed under one table for partitions and sampled objects. */
#define IMPORT_TABLE_PAGES		3
/* Decompressed bytes read of one sampled object at most. */
#define IMPORT_OBJECT_BYTES		(1024 * 1024)
#define IMPORT_READ_CHUNK		(64 * 1024)

static const char *const import_option_names[] = {
	OPT_FORMAT, OPT_COMPRESSION, OPT_SAMPLE_OBJECTS, OPT_SAMPLE_ROWS,
	OPT_FLATTEN, OPT_LOCATION,
	OPT_HEADER, OPT_DELIMITER, OPT_QUOTE, OPT_ESCAPE, OPT_NULL, OPT_ENCODING,
	NULL
};

typedef struct ImportOptions
{
	char	   *location;		/* NULL: the remote schema name */
	const char *format_name;
	char	   *compression;	/* as given, NULL if not */
	int			sample_objects;
	int			sample_rows;
	List	   *copy_defs;		/* csv options as given */
	InferOptions infer;
} ImportOptions;

/* What the reset callback releases, and what the error context names. */
typedef struct ImportState
{
	TelemOptions *opts;
	TelemStore *store;
	TelemObjectPage page;
	TelemReader *reader;
	TelemCodec *codec;
	const char *url;			/* object being sampled, for errcontext */
} ImportState;

/* One table to create. */
typedef struct ImportTable
{
	char	   *name;
	char	   *location;		/* as written on the table */
	char	   *prefix;			/* store prefix, ending in '/' */
} ImportTable;

static void
release_handles(void *arg)
{
	ImportState *st = (ImportState *) arg;

	if (st->codec)
		CodecClose(st->codec);
	st->codec = NULL;
	if (st->reader)
		st->store->ops->close(st->reader);
	st->reader = NULL;
	TelemObjectPageFree(&st->page);
	if (st->store)
		st->store->ops->destroy(st->store);
	st->store = NULL;
}

static void
import_error_callback(void *arg)
{
	ImportState *st = (ImportState *) arg;

	if (st->url)
		errcontext("telem_fdw import, sampling object \"%s\"", st->url);
}

static bool
in_list(const char *const *names, const char *name)
{
	int			i;

	for (i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* An unknown IMPORT option: hint at the closest name, or list them. */
static void
report_unknown_import_option(const char *name)
{
	StringInfoData valid;
	const char *closest = NULL;
	int			best = INT_MAX;
	int			i;

	initStringInfo(&valid);
	for (i = 0; import_option_names[i]; i++)
	{
		const char *n = import_option_names[i];
		int			dist = varstr_levenshtein(name, strlen(name), n, strlen(n),
											  1, 1, 1, false);

		appendStringInfo(&valid, "%s%s", i ? ", " : "", n);
		if (dist < best)
		{
			best = dist;
			closest = n;
		}
	}
	if (closest && best <= (int) Max(2, strlen(name) / 3))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\" for IMPORT FOREIGN SCHEMA", name),
				 errhint("Perhaps you meant the option \"%s\".", closest)));
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid option \"%s\" for IMPORT FOREIGN SCHEMA", name),
			 errhint("Valid options are: %s.", valid.data)));
}

static const SchemaSourceOps *schema_source(TelemFormat format);

/* Check the IMPORT options and fill io. */
static void
parse_import_options(List *options, ImportOptions *io)
{
	ListCell   *lc;
	List	   *seen = NIL;
	TelemCompression comp;

	memset(io, 0, sizeof(*io));
	io->format_name = "jsonl";
	io->infer.format = FORMAT_JSONL;
	io->sample_objects = DEFAULT_SAMPLE_OBJECTS;
	io->sample_rows = DEFAULT_SAMPLE_ROWS;
	io->infer.encoding = -1;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;
		ListCell   *lc2;

		if (!in_list(import_option_names, name))
			report_unknown_import_option(name);
		foreach(lc2, seen)
			if (strcmp((char *) lfirst(lc2), name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("conflicting or redundant options"),
						 errdetail("Option \"%s\" is given more than once.", name)));
		seen = lappend(seen, (char *) name);

		if (strcmp(name, OPT_FORMAT) == 0)
		{
			char	   *v = defGetString(def);

			if (pg_strcasecmp(v, "jsonl") == 0)
				io->infer.format = FORMAT_JSONL;
			else if (pg_strcasecmp(v, "csv") == 0)
				io->infer.format = FORMAT_CSV;
			else if (pg_strcasecmp(v, "parquet") == 0)
				io->infer.format = FORMAT_PARQUET;
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", name, v),
						 errhint("IMPORT FOREIGN SCHEMA infers columns for formats "
								 "\"jsonl\", \"csv\" and \"parquet\".")));
			io->format_name = schema_source(io->infer.format)->format;
		}
		else if (strcmp(name, OPT_COMPRESSION) == 0)
		{
			io->compression = defGetString(def);
			if (!CodecParseName(io->compression, &comp))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								name, io->compression),
						 errhint("Valid values are \"auto\", \"none\", \"gzip\" and \"zstd\".")));
		}
		else if (strcmp(name, OPT_SAMPLE_OBJECTS) == 0)
			io->sample_objects = TelemParseIntOption(def, 1, 1000);
		else if (strcmp(name, OPT_SAMPLE_ROWS) == 0)
			io->sample_rows = TelemParseIntOption(def, 1, 1000000);
		else if (strcmp(name, OPT_FLATTEN) == 0)
		{
			if (!parse_bool(defGetString(def), &io->infer.flatten))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								name, defGetString(def)),
						 errhint("Valid values are \"true\" and \"false\".")));
		}
		else if (strcmp(name, OPT_LOCATION) == 0)
			io->location = defGetString(def);
		else
			io->copy_defs = lappend(io->copy_defs, def);
	}

	if (io->infer.format != FORMAT_CSV && io->copy_defs != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"%s\" is not valid with format \"%s\"",
						((DefElem *) linitial(io->copy_defs))->defname,
						io->format_name),
				 errhint("Options header, delimiter, quote, escape, null and "
						 "encoding apply to format \"csv\".")));
	if (io->infer.flatten && io->infer.format != FORMAT_JSONL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"%s\" applies to format \"jsonl\" only",
						OPT_FLATTEN)));
	if (io->infer.format == FORMAT_CSV)
	{
		CopyFormatOptions fmt;
		List	   *copy = lcons(makeDefElem("format", (Node *) makeString("csv"), -1),
								 list_copy(io->copy_defs));

		/* COPY's own checks and defaults, as the table will get them */
		memset(&fmt, 0, sizeof(fmt));
		ProcessCopyOptions(NULL, &fmt, true, copy);
		io->infer.header = fmt.header_line != COPY_HEADER_FALSE;
		io->infer.delimiter = fmt.delim[0];
		io->infer.quote = fmt.quote[0];
		io->infer.escape = fmt.escape[0];
		io->infer.null_string = fmt.null_print;
		io->infer.encoding = fmt.file_encoding;
	}
}

static const SchemaSourceOps *
schema_source(TelemFormat format)
{
	switch (format)
	{
		case FORMAT_JSONL:
			return &TelemJsonlSource;
		case FORMAT_CSV:
			return &TelemCsvSource;
		case FORMAT_PARQUET:
			return &TelemParquetSource;
		case FORMAT_TEXT:
			break;
	}
	elog(ERROR, "no schema source for format %d", (int) format);
	return NULL;				/* keep compiler quiet */
}

/* Fetch one listing page into st->page (replacing the last one). */
static void
list_one_page(ImportState *st, const char *prefix, bool level, char **token)
{
	TelemError	err;
	bool		ok;
	char	   *next;

	TelemObjectPageFree(&st->page);
	memset(&st->page, 0, sizeof(st->page));
	memset(&err, 0, sizeof(err));
	CHECK_FOR_INTERRUPTS();
	if (level)
		ok = st->store->ops->list_level(st->store, prefix, *token, &st->page, &err);
	else
		ok = st->store->ops->list_page(st->store, prefix, NULL, *token,
									   &st->page, &err);
	if (!ok)
		TelemReportStoreError(&err, "list", TelemObjectUrl(st->opts, prefix));
	next = st->page.next_token ? pstrdup(st->page.next_token) : NULL;
	*token = next;
}

static bool
is_placeholder(const char *key)
{
	size_t		len = strlen(key);

	return len == 0 || key[len - 1] == '/';
}

static void
add_child(List **children, const char *seg, size_t len)
{
	ListCell   *lc;

	if (len == 0)
		return;
	/* keys with a common prefix are adjacent: compare the last first */
	if (*children != NIL)
	{
		const char *last = (const char *) llast(*children);

		if (strlen(last) == len && memcmp(last, seg, len) == 0)
			return;
	}
	foreach(lc, *children)
	{
		const char *c = (const char *) lfirst(lc);

		if (strlen(c) == len && memcmp(c, seg, len) == 0)
			return;
	}
	*children = lappend(*children, pnstrdup(seg, len));
}

/*
 * The child segments of prefix (without their '/'), in key order, and how
 * many objects lie directly under it.
 */
static List *
list_children(ImportState *st, const char *prefix, int *ndirect)
{
	List	   *children = NIL;
	size_t		plen = strlen(prefix);
	char	   *token = NULL;
	int			pages = 0;
	int			i;

	*ndirect = 0;
	if (st->store->ops->list_level != NULL)
	{
		do
		{
			list_one_page(st, prefix, true, &token);
			for (i = 0; i < st->page.nprefixes; i++)
			{
				const char *p = st->page.prefixes[i];

				if (strncmp(p, prefix, plen) == 0)
					add_child(&children, p + plen, strcspn(p + plen, "/"));
			}
			for (i = 0; i < st->page.nobjects; i++)
				if (!is_placeholder(st->page.objects[i].key))
					(*ndirect)++;
		} while (token != NULL);
		return children;
	}

	do
	{
		list_one_page(st, prefix, false, &token);
		pages++;
		for (i = 0; i < st->page.nobjects; i++)
		{
			const char *key = st->page.objects[i].key;
			const char *rest;
			const char *slash;

			if (strncmp(key, prefix, plen) != 0)
				continue;
			rest = key + plen;
			slash = strchr(rest, '/');
			if (slash != NULL)
				add_child(&children, rest, slash - rest);
			else if (*rest != '\0')
				(*ndirect)++;
		}
	} while (token != NULL && pages < IMPORT_FLAT_PAGES);
	if (token != NULL)
		ereport(NOTICE,
				(errcode(ERRCODE_WARNING),
				 errmsg("looked for tables in the first %d listing pages of \"%s\" only",
						IMPORT_FLAT_PAGES, TelemObjectUrl(st->opts, prefix)),
				 errdetail("This store cannot list one level of a location, so child "
						   "prefixes whose first object lies beyond those pages are missed."),
				 errhint("Name the missing tables' locations in further IMPORT "
						 "FOREIGN SCHEMA statements, or create them with CREATE FOREIGN TABLE.")));
	TelemObjectPageFree(&st->page);
	return children;
}

/* A table name from a key segment: at most NAMEDATALEN - 1 bytes. */
static char *
table_name(const char *seg)
{
	return pnstrdup(seg, pg_mbcliplen(seg, strlen(seg), NAMEDATALEN - 1));
}

static bool
table_wanted(ImportForeignSchemaStmt *stmt, const char *name)
{
	ListCell   *lc;
	bool		listed = false;

	if (stmt->list_type == FDW_IMPORT_SCHEMA_ALL)
		return true;
	foreach(lc, stmt->table_list)
		if (strcmp(((RangeVar *) lfirst(lc))->relname, name) == 0)
			listed = true;
	return stmt->list_type == FDW_IMPORT_SCHEMA_LIMIT_TO ? listed : !listed;
}

/* The value of a name=value segment, percent-decoded as scans do. */
static char *
decode_value(const char *v, size_t len)
{
	StringInfoData out;
	size_t		i;

	initStringInfo(&out);
	for (i = 0; i < len; i++)
	{
		if (v[i] == '%' && i + 2 < len &&
			isxdigit((unsigned char) v[i + 1]) && isxdigit((unsigned char) v[i + 2]))
		{
			char		hex[3] = {v[i + 1], v[i + 2], '\0'};

			appendStringInfoChar(&out, (char) strtol(hex, NULL, 16));
			i += 2;
		}
		else
			appendStringInfoChar(&out, v[i]);
	}
	return out.data;
}

/* Note the name=value segments of key below prefix. */
static void
note_partitions(List **partitions, const char *key, size_t plen)
{
	const char *seg = key + plen;
	const char *slash;

	while ((slash = strchr(seg, '/')) != NULL)
	{
		const char *eq = memchr(seg, '=', slash - seg);

		if (eq != NULL && eq > seg)
		{
			char	   *name = pnstrdup(seg, eq - seg);
			InferPartition *p = NULL;
			ListCell   *lc;

			foreach(lc, *partitions)
				if (strcmp(((InferPartition *) lfirst(lc))->name, name) == 0)
					p = (InferPartition *) lfirst(lc);
			if (p == NULL)
			{
				p = palloc0(sizeof(InferPartition));
				p->name = name;
				*partitions = lappend(*partitions, p);
			}
			InferNotePartition(p, decode_value(eq + 1, slash - eq - 1));
		}
		seg = slash + 1;
	}
}

static ssize_t
sample_read(void *ctx, void *buf, size_t len, TelemError *err)
{
	ImportState *st = (ImportState *) ctx;

	return st->store->ops->read(st->reader, buf, len, err);
}

/*
 * The first decompressed bytes of obj into buf: up to IMPORT_OBJECT_BYTES,
 * or until more than max_lines newlines are in.
 */
static bool
read_prefix(ImportState *st, const TelemObject *obj, StringInfo buf, int max_lines)
{
	TelemError	err;
	bool		complete = false;
	int			lines = 0;

	memset(&err, 0, sizeof(err));
	st->reader = st->store->ops->open(st->store, obj, 0, &err);
	if (st->reader == NULL)
		TelemReportStoreError(&err, "open", st->url);
	st->codec = CodecOpen(st->opts->compression, obj->key, sample_read, st, &err);
	if (st->codec == NULL)
		TelemReportStoreError(&err, "decompress", st->url);

	while (buf->len < IMPORT_OBJECT_BYTES && lines <= max_lines)
	{
		int			want = Min(IMPORT_READ_CHUNK, IMPORT_OBJECT_BYTES - buf->len);
		ssize_t		n;
		int			i;

		CHECK_FOR_INTERRUPTS();
		enlargeStringInfo(buf, want);
		n = CodecRead(st->codec, buf->data + buf->len, want, &err);
		if (n < 0)
			TelemReportStoreError(&err, "read", st->url);
		if (n == 0)
		{
			complete = true;
			break;
		}
		for (i = 0; i < n; i++)
			if (buf->data[buf->len + i] == '\n')
				lines++;
		buf->len += (int) n;
		buf->data[buf->len] = '\0';
	}

	CodecClose(st->codec);
	st->codec = NULL;
	st->store->ops->close(st->reader);
	st->reader = NULL;
	return complete;
}

/* The base name of key starts with '_' or '.': not data. */
static bool
is_side_file(const char *key)
{
	const char *base = strrchr(key, '/');

	base = base ? base + 1 : key;
	return base[0] == '_' || base[0] == '.';
}

/*
 * Sample the table at prefix: its partitions and its columns.  *found is
 * false when there is no object to sample (only "folder" placeholders).
 */
static List *
infer_table(ImportState *st, const ImportOptions *io, const char *prefix,
			bool *found)
{
	const SchemaSourceOps *source = schema_source(io->infer.format);
	InferSet   *set = palloc0(sizeof(InferSet));
	List	   *partitions = NIL;
	TelemObject *objects = NULL;
	int			nobjects = 0;
	int			cap = 0;
	char	   *token = NULL;
	int			pages = 0;
	int			k;
	int			rows_left = io->sample_rows;
	void	   *state;
	size_t		plen = strlen(prefix);
	int			i;

	do
	{
		list_one_page(st, prefix, false, &token);
		pages++;
		for (i = 0; i < st->page.nobjects; i++)
		{
			const TelemObject *o = &st->page.objects[i];

			if (is_placeholder(o->key) || is_side_file(o->key))
				continue;
			note_partitions(&partitions, o->key, plen);
			if (nobjects == cap)
			{
				cap = Max(16, cap * 2);
				objects = objects ? repalloc(objects, sizeof(TelemObject) * cap) :
					palloc(sizeof(TelemObject) * cap);
			}
			objects[nobjects] = *o;
			objects[nobjects].key = pstrdup(o->key);
			objects[nobjects].etag = o->etag ? pstrdup(o->etag) : NULL;
			nobjects++;
		}
	} while (token != NULL && pages < IMPORT_TABLE_PAGES);
	TelemObjectPageFree(&st->page);
	*found = nobjects > 0;
	if (nobjects == 0)
		return NIL;

	state = source->begin(&io->infer, set);
	/* spread the sample over the listing: partitions differ */
	k = Min(io->sample_objects, nobjects);
	for (i = 0; i < k && rows_left > 0; i++)
	{
		const TelemObject *o = &objects[(int) ((int64) i * nobjects / k)];
		SampleObject so;
		StringInfoData buf;

		memset(&so, 0, sizeof(so));
		st->url = TelemObjectUrl(st->opts, o->key);
		so.url = st->url;
		so.store = st->store;
		so.object = o;
		if (source->needs_prefix)
		{
			initStringInfo(&buf);
			so.complete = read_prefix(st, o, &buf, rows_left);
			so.data = buf.data;
			so.len = buf.len;
		}
		source->sample(state, &so, &rows_left);
		st->url = NULL;
	}
	source->finish(state);

	return InferBuildColumns(set, partitions, io->infer.format == FORMAT_JSONL);
}

/* CREATE FOREIGN TABLE for one table. */
static char *
table_statement(const ImportTable *t, List *columns, const ImportOptions *io,
				const char *server)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE FOREIGN TABLE %s (", quote_identifier(t->name));
	foreach(lc, columns)
	{
		ImportColumn *c = (ImportColumn *) lfirst(lc);
		const char *sep = "";

		appendStringInfo(&buf, "%s\n  %s %s", first ? "" : ",",
						 quote_identifier(c->name), c->type);
		first = false;
		if (c->json_path == NULL && c->epoch == NULL && c->partition == NULL)
			continue;
		appendStringInfoString(&buf, " OPTIONS (");
		if (c->partition)
		{
			appendStringInfo(&buf, "%s %s", OPT_PARTITION,
							 quote_literal_cstr(c->partition));
			sep = ", ";
		}
		if (c->json_path)
		{
			appendStringInfo(&buf, "%s%s %s", sep, OPT_JSON_PATH,
							 quote_literal_cstr(c->json_path));
			sep = ", ";
		}
		if (c->epoch)
			appendStringInfo(&buf, "%s%s %s", sep, OPT_EPOCH,
							 quote_literal_cstr(c->epoch));
		appendStringInfoChar(&buf, ')');
	}
	appendStringInfo(&buf, "\n) SERVER %s OPTIONS (%s %s, %s %s",
					 quote_identifier(server),
					 OPT_LOCATION, quote_literal_cstr(t->location),
					 OPT_FORMAT, quote_literal_cstr(io->format_name));
	if (io->compression)
		appendStringInfo(&buf, ", %s %s", OPT_COMPRESSION,
						 quote_literal_cstr(io->compression));
	foreach(lc, io->copy_defs)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		appendStringInfo(&buf, ", %s %s", def->defname,
						 quote_literal_cstr(defGetString(def)));
	}
	appendStringInfoChar(&buf, ')');
	return buf.data;
}

/*
 * The name of a location that is one table: its last segment that is no
 * name=value partition ("raw/vehicle/year=2026/" → vehicle), else its last
 * segment, else the bucket or container.
 */
static char *
location_table_name(const TelemOptions *opts)
{
	char	   *p = pstrdup(opts->prefix);
	char	   *last = NULL;
	char	   *plain = NULL;
	char	   *seg;
	char	   *save = NULL;

	for (seg = strtok_r(p, "/", &save); seg; seg = strtok_r(NULL, "/", &save))
	{
		last = seg;
		if (strchr(seg, '=') == NULL)
			plain = seg;
	}
	if (plain)
		return table_name(plain);
	if (last)
		return table_name(last);
	return table_name(opts->bucket ? opts->bucket : "root");
}

/*
 * telemImportForeignSchema
 *		The ImportForeignSchema callback: CREATE FOREIGN TABLE statements
 *		for the child prefixes of the location stmt names.
 */
List *
telemImportForeignSchema(ImportForeignSchemaStmt *stmt, Oid serverOid)
{
	ImportOptions io;
	const char *location;
	TelemOptions *opts;
	ForeignServer *server = GetForeignServer(serverOid);
	MemoryContext cxt;
	MemoryContext old;
	MemoryContextCallback *cb;
	ErrorContextCallback errcallback;
	ImportState *st;
	List	   *children;
	List	   *tables = NIL;
	List	   *partition_children = NIL;
	List	   *commands = NIL;
	List	   *result = NIL;
	int			ndirect;
	ListCell   *lc;

	parse_import_options(stmt->options, &io);
	location = io.location ? io.location : stmt->remote_schema;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "telem_fdw import",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/* parses the location, checks the privilege a local one needs */
	opts = TelemGetLocationOptions(serverOid, location);
	if (io.compression)
		(void) CodecParseName(io.compression, &opts->compression);
	/* a location is a "directory": its children are below a '/' */
	if (location[0] == '\0' || location[strlen(location) - 1] != '/')
		location = psprintf("%s/", location);
	if (opts->prefix[0] != '\0' && opts->prefix[strlen(opts->prefix) - 1] != '/')
		opts->prefix = psprintf("%s/", opts->prefix);

	st = palloc0(sizeof(ImportState));
	st->opts = opts;
	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = release_handles;
	cb->arg = st;
	MemoryContextRegisterResetCallback(cxt, cb);

	errcallback.callback = import_error_callback;
	errcallback.arg = st;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	st->store = TelemOpenStore(opts, GetUserId());

	children = list_children(st, opts->prefix, &ndirect);
	foreach(lc, children)
	{
		const char *seg = (const char *) lfirst(lc);
		ImportTable *t;

		if (seg[0] == '_' || seg[0] == '.')
			continue;
		if (strchr(seg, '=') != NULL)
		{
			partition_children = lappend(partition_children, (char *) seg);
			continue;
		}
		t = palloc0(sizeof(ImportTable));
		t->name = table_name(seg);
		t->location = psprintf("%s%s/", location, seg);
		t->prefix = psprintf("%s%s/", opts->prefix, seg);
		tables = lappend(tables, t);
	}

	if (tables == NIL && (partition_children != NIL || ndirect > 0))
	{
		/* partitions or objects only: the location is the one table */
		ImportTable *t = palloc0(sizeof(ImportTable));

		t->name = location_table_name(opts);
		t->location = pstrdup(location);
		t->prefix = opts->prefix;
		tables = list_make1(t);
	}
	else if (tables == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_SCHEMA_NOT_FOUND),
				 errmsg("no objects found under location \"%s\"", location),
				 errhint("The remote schema of IMPORT FOREIGN SCHEMA is a location "
						 "such as \"s3://bucket/raw/\"; each prefix below it becomes a table.")));
	else
	{
		if (partition_children != NIL)
			ereport(NOTICE,
					(errcode(ERRCODE_WARNING),
					 errmsg_plural("skipping %d partition prefix \"%s\" directly under \"%s\"",
								   "skipping %d partition prefixes such as \"%s\" directly under \"%s\"",
								   list_length(partition_children),
								   list_length(partition_children),
								   (char *) linitial(partition_children), location),
					 errhint("Import the location as one table with CREATE FOREIGN TABLE.")));
		if (ndirect > 0)
			ereport(NOTICE,
					(errcode(ERRCODE_WARNING),
					 errmsg_plural("skipping %d object directly under \"%s\"",
								   "skipping %d objects directly under \"%s\"",
								   ndirect, ndirect, location),
					 errdetail("Only objects below a child prefix belong to an imported table.")));
	}

	foreach(lc, tables)
	{
		ImportTable *t = (ImportTable *) lfirst(lc);
		List	   *columns;
		bool		found;

		if (!table_wanted(stmt, t->name))
			continue;
		columns = infer_table(st, &io, t->prefix, &found);
		if (!found)
		{
			ereport(NOTICE,
					(errcode(ERRCODE_WARNING),
					 errmsg("skipping \"%s\": no objects under \"%s\"",
							t->name, t->location)));
			continue;
		}
		commands = lappend(commands,
						   table_statement(t, columns, &io, server->servername));
	}

	error_context_stack = errcallback.previous;

	/* the statements outlive the import's context */
	MemoryContextSwitchTo(old);
	foreach(lc, commands)
		result = lappend(result, pstrdup((char *) lfirst(lc)));
	MemoryContextDelete(cxt);
	return result;
}
