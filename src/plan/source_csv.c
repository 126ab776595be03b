/*-------------------------------------------------------------------------
 *
 * source_csv.c
 *		The CSV schema source of IMPORT FOREIGN SCHEMA: split sampled
 *		records into fields and note each field's text.
 *
 * Scans parse CSV with COPY, which needs a relation, and the point of
 * sampling is that there is none yet; so this file splits records itself,
 * with COPY's CSV rules: fields separated by the delimiter, quoted
 * sections (anywhere in a field) that may hold delimiters and newlines,
 * within them the escape character followed by the quote or the escape
 * taking that character literally (with escape = quote: a doubled quote),
 * and an unquoted field equal to the null string being NULL.  Columns
 * are matched by position, so every field of the header (or of the
 * widest record, without one) becomes a column, in order.
 *
 * IDENTIFICATION
 *		src/plan/source_csv.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "plan/infer.h"

typedef struct CsvSource
{
	InferSet   *set;
	const InferOptions *opts;
	int			ncolumns;		/* fields made so far */
	bool		named;			/* the header gave the names */
	MemoryContext reccxt;		/* reset for every record */
} CsvSource;

typedef struct CsvField
{
	char	   *s;
	int			len;
	bool		quoted;
} CsvField;

static void *
csv_begin(const InferOptions *opts, InferSet *set)
{
	CsvSource  *src = palloc0(sizeof(CsvSource));

	src->set = set;
	src->opts = opts;
	set->allow_epoch = false;	/* the COPY decoder has no epoch option */
	src->reccxt = AllocSetContextCreate(CurrentMemoryContext,
										"telem_fdw import record",
										ALLOCSET_SMALL_SIZES);
	return src;
}

/*
 * Split the record at *pp into fields[] (palloc'd, *nfields of them).
 * Returns false, leaving *pp, when the data ends first: at the end of the
 * sample, or inside a record the byte bound cut.
 */
static bool
csv_record(const InferOptions *o, const char **pp, const char *end,
		   bool complete, CsvField **fields, int *nfields)
{
	const char *p = *pp;
	StringInfoData cur;
	bool		inquote = false;
	bool		quoted = false;
	int			cap = 16;
	int			n = 0;
	CsvField   *out;

	if (p >= end)
		return false;
	out = palloc(sizeof(CsvField) * cap);
	initStringInfo(&cur);
	for (;;)
	{
		bool		field_end = false;
		bool		record_end = false;

		if (p >= end)
		{
			if (inquote || !complete)
				return false;
			field_end = record_end = true;
		}
		else if (inquote)
		{
			if (*p == o->escape && p + 1 >= end && !complete)
				return false;	/* cannot tell an escape from a close */
			if (*p == o->escape && p + 1 < end &&
				(p[1] == o->quote || p[1] == o->escape))
			{
				appendStringInfoChar(&cur, p[1]);
				p += 2;
			}
			else if (*p == o->quote)
			{
				inquote = false;
				p++;
			}
			else
				appendStringInfoChar(&cur, *p++);
		}
		else if (*p == o->quote)
		{
			inquote = quoted = true;
			p++;
		}
		else if (*p == o->delimiter)
		{
			field_end = true;
			p++;
		}
		else if (*p == '\n' || *p == '\r')
		{
			if (*p == '\r' && p + 1 < end && p[1] == '\n')
				p++;
			p++;
			field_end = record_end = true;
		}
		else
			appendStringInfoChar(&cur, *p++);

		if (field_end)
		{
			if (n == cap)
			{
				cap *= 2;
				out = repalloc(out, sizeof(CsvField) * cap);
			}
			out[n].s = pnstrdup(cur.data, cur.len);
			out[n].len = cur.len;
			out[n].quoted = quoted;
			n++;
			resetStringInfo(&cur);
			quoted = false;
		}
		if (record_end)
			break;
	}
	*pp = p;
	*fields = out;
	*nfields = n;
	return true;
}

/* Make fields up to position n; header names when given. */
static void
ensure_columns(CsvSource *src, int n, const CsvField *names)
{
	MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(src));

	while (src->ncolumns < n)
	{
		char	   *path = psprintf("#%d", src->ncolumns + 1);
		char	   *name = NULL;

		if (names && names[src->ncolumns].len > 0)
		{
			const CsvField *h = &names[src->ncolumns];

			name = pg_any_to_server(h->s, h->len,
									src->opts->encoding >= 0 ?
									src->opts->encoding : GetDatabaseEncoding());
		}
		if (name == NULL)
			name = psprintf("column%d", src->ncolumns + 1);
		(void) InferGetField(src->set, path, name, name);
		src->ncolumns++;
	}
	MemoryContextSwitchTo(old);
}

static void
csv_sample(void *state, const SampleObject *obj, int *rows_left)
{
	CsvSource  *src = (CsvSource *) state;
	const InferOptions *o = src->opts;
	const char *p = obj->data;
	const char *end = obj->data + obj->len;
	bool		first = true;

	while (*rows_left > 0)
	{
		CsvField   *fields;
		int			nfields;
		MemoryContext old = MemoryContextSwitchTo(src->reccxt);
		int			i;

		if (!csv_record(o, &p, end, obj->complete, &fields, &nfields))
		{
			MemoryContextSwitchTo(old);
			break;
		}
		if (first && o->header)
		{
			/* every object has its header; the first one names columns */
			if (!src->named)
			{
				ensure_columns(src, nfields, fields);
				src->named = true;
			}
		}
		else if (!(nfields == 1 && fields[0].len == 0 && !fields[0].quoted))
		{
			/* (a blank line is no record) */
			if (!o->header)
				ensure_columns(src, nfields, NULL);
			for (i = 0; i < nfields && i < src->ncolumns; i++)
			{
				InferField *f = (InferField *) list_nth(src->set->fields, i);

				if (!fields[i].quoted && strcmp(fields[i].s, o->null_string) == 0)
					InferNoteNull(f);
				else
					InferNoteText(f, fields[i].s, fields[i].len);
			}
			(*rows_left)--;
		}
		first = false;
		MemoryContextSwitchTo(old);
		MemoryContextReset(src->reccxt);
	}
}

static void
csv_finish(void *state)
{
	(void) state;
}

const SchemaSourceOps TelemCsvSource = {
	"csv",
	true,
	csv_begin,
	csv_sample,
	csv_finish
};
