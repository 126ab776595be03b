/*-------------------------------------------------------------------------
 *
 * source_jsonl.c
 *		The JSON-lines schema source of IMPORT FOREIGN SCHEMA: walk each
 *		sampled record and note every member's value.
 *
 * Each line is first validated by the scan's own extractor (with no
 * paths), so a record the sample accepts is one a scan accepts.  The walk
 * itself is a small reader over that validated text rather than a cJSON
 * tree: cJSON turns every number into a double, and then "71.0" cannot be
 * told from "71" (an integer column would refuse the former) nor
 * 9223372036854775808 from 9223372036854775807.
 *
 * IDENTIFICATION
 *		src/plan/source_jsonl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"

#include "plan/infer.h"

typedef struct JsonlSource
{
	InferSet   *set;
	bool		flatten;
	JsonlExtractor *validator;	/* malloc'd; freed by the reset callback */
	MemoryContext linecxt;		/* reset for every record */
} JsonlSource;

typedef struct JsonWalk
{
	const char *p;
	const char *end;
	JsonlSource *src;
} JsonWalk;

static void walk_members(JsonWalk *w, const char *path, const char *col);

static void
free_validator(void *arg)
{
	JsonlSource *src = (JsonlSource *) arg;

	if (src->validator)
		JsonlExtractorFree(src->validator);
	src->validator = NULL;
}

static void *
jsonl_begin(const InferOptions *opts, InferSet *set)
{
	JsonlSource *src = palloc0(sizeof(JsonlSource));
	MemoryContextCallback *cb = palloc0(sizeof(MemoryContextCallback));
	char		errbuf[256];

	src->set = set;
	src->flatten = opts->flatten;
	set->allow_epoch = true;
	src->linecxt = AllocSetContextCreate(CurrentMemoryContext,
										 "telem_fdw import record",
										 ALLOCSET_SMALL_SIZES);
	cb->func = free_validator;
	cb->arg = src;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	src->validator = JsonlExtractorCreate(JSONL_IMPL_SCAN, NULL, 0,
										  errbuf, sizeof(errbuf));
	if (src->validator == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not create a JSON reader: %s", errbuf)));
	return src;
}

static void
skip_ws(JsonWalk *w)
{
	while (w->p < w->end &&
		   (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
		w->p++;
}

static int
hex4(const char *p)
{
	int			v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		char		c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
	}
	return v;
}

/* A string at w->p (on its '"'), unescaped, as UTF-8. */
static char *
parse_string(JsonWalk *w, int *len)
{
	StringInfoData out;

	initStringInfo(&out);
	w->p++;
	while (w->p < w->end && *w->p != '"')
	{
		if (*w->p != '\\')
		{
			appendStringInfoChar(&out, *w->p++);
			continue;
		}
		w->p++;
		if (w->p >= w->end)
			break;
		switch (*w->p)
		{
			case 'b':
				appendStringInfoChar(&out, '\b');
				break;
			case 'f':
				appendStringInfoChar(&out, '\f');
				break;
			case 'n':
				appendStringInfoChar(&out, '\n');
				break;
			case 'r':
				appendStringInfoChar(&out, '\r');
				break;
			case 't':
				appendStringInfoChar(&out, '\t');
				break;
			case 'u':
				if (w->end - w->p >= 5)
				{
					pg_wchar	c = hex4(w->p + 1);
					unsigned char utf8[8];

					w->p += 4;
					if (c >= 0xD800 && c <= 0xDBFF && w->end - w->p >= 7 &&
						w->p[1] == '\\' && w->p[2] == 'u')
					{
						pg_wchar	lo = hex4(w->p + 3);

						c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
						w->p += 6;
					}
					memset(utf8, 0, sizeof(utf8));
					unicode_to_utf8(c, utf8);
					appendStringInfoString(&out, (char *) utf8);
				}
				break;
			default:			/* '"', '\\', '/' */
				appendStringInfoChar(&out, *w->p);
				break;
		}
		w->p++;
	}
	w->p++;						/* the closing quote */
	*len = out.len;
	return out.data;
}

/* Step over one value (the record was validated already). */
static void
skip_value(JsonWalk *w)
{
	int			depth = 0;

	do
	{
		if (w->p >= w->end)
			return;
		if (*w->p == '"')
		{
			int			len;

			(void) parse_string(w, &len);
			continue;
		}
		if (*w->p == '{' || *w->p == '[')
			depth++;
		else if (*w->p == '}' || *w->p == ']')
			depth--;
		else if (depth == 0)
		{
			/* a scalar: up to the next delimiter */
			while (w->p < w->end && *w->p != ',' && *w->p != '}' &&
				   *w->p != ']' && *w->p != ' ' && *w->p != '\t' &&
				   *w->p != '\r' && *w->p != '\n')
				w->p++;
			return;
		}
		w->p++;
	} while (depth > 0);
}

/* Note the value at w->p as field path (column col, member name). */
static void
walk_value(JsonWalk *w, const char *path, const char *col, const char *name)
{
	InferSet   *set = w->src->set;
	InferField *f = InferGetField(set, path, col, name);
	const char *start = w->p;

	switch (*w->p)
	{
		case '{':
			if (w->src->flatten)
			{
				InferNoteFlattened(f);
				walk_members(w, path, col);
			}
			else
			{
				skip_value(w);
				InferNoteContainer(f);
			}
			break;
		case '[':
			skip_value(w);
			InferNoteContainer(f);
			break;
		case '"':
			{
				int			len;
				char	   *s = parse_string(w, &len);

				InferNoteString(f, s, len);
			}
			break;
		case 't':
		case 'f':
			skip_value(w);
			InferNoteBool(f);
			break;
		case 'n':
			skip_value(w);
			InferNoteNull(f);
			break;
		default:
			skip_value(w);
			InferNoteNumber(f, start, w->p - start);
			break;
	}
}

/*
 * The members of the object at w->p.  path and col are the object's own
 * (NULL at the record's top level).
 */
static void
walk_members(JsonWalk *w, const char *path, const char *col)
{
	check_stack_depth();
	w->p++;
	skip_ws(w);
	while (w->p < w->end && *w->p == '"')
	{
		int			len;
		char	   *raw = parse_string(w, &len);
		char	   *name = pg_any_to_server(raw, len, PG_UTF8);
		char	   *seg = InferEscapePathSegment(name);
		char	   *cpath = path ? psprintf("%s.%s", path, seg) : seg;
		char	   *ccol = col ? psprintf("%s_%s", col, name) : name;

		skip_ws(w);
		w->p++;					/* ':' */
		skip_ws(w);
		/* no json_path can name a member "" */
		if (len == 0)
			skip_value(w);
		else
			walk_value(w, cpath, ccol, name);
		skip_ws(w);
		if (w->p < w->end && *w->p == ',')
		{
			w->p++;
			skip_ws(w);
		}
	}
	w->p++;						/* '}' */
}

static bool
blank(const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/*
 * Note the records of one sampled object; a last line the byte bound cut
 * is left out.
 */
static void
jsonl_sample(void *state, const SampleObject *obj, int *rows_left)
{
	JsonlSource *src = (JsonlSource *) state;
	const char *p = obj->data;
	const char *end = obj->data + obj->len;
	int64		line = 0;

	while (p < end && *rows_left > 0)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *line_end = nl ? nl : end;
		size_t		len = line_end - p;
		char		errbuf[256];
		JsonlField	dummy;
		MemoryContext old;
		JsonWalk	w;

		line++;
		if (nl == NULL && !obj->complete)
			break;
		if (!blank(p, len))
		{
			if (!JsonlExtract(src->validator, p, len, &dummy, errbuf, sizeof(errbuf)))
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("malformed JSON in \"%s\" at line " INT64_FORMAT,
								obj->url, line),
						 errdetail("%s", errbuf)));
			old = MemoryContextSwitchTo(src->linecxt);
			w.p = p;
			w.end = line_end;
			w.src = src;
			skip_ws(&w);
			walk_members(&w, NULL, NULL);
			MemoryContextSwitchTo(old);
			MemoryContextReset(src->linecxt);
			(*rows_left)--;
		}
		p = line_end + 1;
	}
}

static void
jsonl_finish(void *state)
{
	(void) state;
}

const SchemaSourceOps TelemJsonlSource = {
	"jsonl",
	true,
	jsonl_begin,
	jsonl_sample,
	jsonl_finish
};
