/*-------------------------------------------------------------------------
 *
 * jsonl.c
 *		The JSON-lines decoder: split an object's bytes into lines, pull
 *		the fields the query needs, convert them to column values.
 *
 * Field extraction is jsonl_extract.c's job; this file owns the line
 * buffer (bounded by max_line_size) and the conversion into SQL types:
 * JSON null or an absent field is SQL NULL, a JSON number into an
 * integer or float column is converted by number_datum.c, everything else
 * (and any number that path declines) goes through the column type's input
 * function, and epoch numbers become timestamps.
 *
 * IDENTIFICATION
 *		src/format/jsonl.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "../telem_fdw.h"

/* Bytes read from the object at a time. */
#define JSONL_CHUNK_SIZE	(256 * 1024)

typedef struct JsonlState
{
	JsonlExtractor *extractor;
	JsonlField *fields;
	int			nfields;

	/* line buffer: bytes [pos, len) are read but not yet consumed */
	char	   *buf;
	size_t		cap;
	size_t		len;
	size_t		pos;
	size_t		scanned;		/* bytes from pos known to hold no newline */
	bool		eof;
	int64		base;			/* object offset of buf[0] */
	bool		range_done;		/* a split's last line has been read */

	StringInfoData text;		/* NUL-terminated copy of one field */
	TelemNumberKind *number;	/* per column: JSON numbers converted
								 * without the input function */
} JsonlState;

/* Reset callback: the extractor is malloc'd by the plain-C layer. */
static void
free_extractor(void *arg)
{
	JsonlState *st = (JsonlState *) arg;

	if (st->extractor)
		JsonlExtractorFree(st->extractor);
	st->extractor = NULL;
}

static void
jsonl_begin_scan(TelemScan *scan)
{
	MemoryContextCallback *cb;
	JsonlState *st = palloc0(sizeof(JsonlState));
	const char **paths = palloc(sizeof(char *) * scan->ncolumns);
	char		errbuf[256];
	int			i;

	/* palloc0: NUMBER_NONE everywhere */
	st->number = palloc0(sizeof(TelemNumberKind) * Max(scan->ncolumns, 1));

	for (i = 0; i < scan->ncolumns; i++)
	{
		TelemColumn *col = &scan->columns[i];

		col->field = -1;
		if (col->needed && col->kind == COLUMN_DATA)
		{
			if (col->epoch == EPOCH_NONE && !col->is_json)
				st->number[i] = TelemNumberKindOf(col->typid);
			col->field = st->nfields;
			paths[st->nfields++] = col->json_path;
		}
	}

	st->extractor = JsonlExtractorCreate(JSONL_IMPL_SCAN, paths, st->nfields,
										 errbuf, sizeof(errbuf));
	if (st->extractor == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid json_path in foreign table \"%s\"",
						RelationGetRelationName(scan->rel)),
				 errdetail("%s", errbuf)));
	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = free_extractor;
	cb->arg = st;
	MemoryContextRegisterResetCallback(scan->scancxt, cb);

	st->fields = palloc0(sizeof(JsonlField) * Max(st->nfields, 1));
	st->cap = Min(JSONL_CHUNK_SIZE, (size_t) scan->opts->max_line_size + 1);
	st->buf = palloc(st->cap);
	initStringInfo(&st->text);
	scan->decoder_state = st;
}

static char *next_line(TelemScan *scan, JsonlState *st, size_t *linelen);

static void
jsonl_begin_object(TelemScan *scan)
{
	JsonlState *st = (JsonlState *) scan->decoder_state;

	st->len = st->pos = st->scanned = 0;
	st->eof = false;
	st->range_done = false;
	scan->record_offset = -1;

	/*
	 * A split of a parallel scan starts one byte early: the line through
	 * the first newline belongs to the split before (or, if that byte is the
	 * newline, is empty), and lines starting before range_end are ours.
	 */
	st->base = scan->range_start > 0 ? scan->range_start - 1 : 0;
	if (scan->range_start > 0)
	{
		size_t		len;

		(void) next_line(scan, st, &len);
	}
}

/*
 * Return the next line of the object (without its newline), or NULL at
 * the end.  The pointer is valid until the next call.
 */
static char *
next_line(TelemScan *scan, JsonlState *st, size_t *linelen)
{
	for (;;)
	{
		char	   *start = st->buf + st->pos;
		char	   *nl = memchr(start + st->scanned, '\n',
								st->len - st->pos - st->scanned);
		int			n;

		if (st->range_done)
			return NULL;
		if (scan->range_end >= 0 && st->base + (int64) st->pos >= scan->range_end)
		{
			st->range_done = true;
			return NULL;
		}
		if (nl != NULL)
		{
			scan->record_offset = st->base + (int64) st->pos;
			*linelen = nl - start;
			st->pos += *linelen + 1;
			st->scanned = 0;
			return start;
		}
		st->scanned = st->len - st->pos;

		if (st->eof)
		{
			if (st->pos == st->len)
				return NULL;
			scan->record_offset = st->base + (int64) st->pos;
			/* the last line has no newline */
			*linelen = st->len - st->pos;
			st->pos = st->len;
			st->scanned = 0;
			return start;
		}

		if (st->scanned > (size_t) scan->opts->max_line_size)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("line " INT64_FORMAT " of \"%s\" is longer than %d bytes",
							scan->line_number, scan->object_url,
							scan->opts->max_line_size),
					 errhint("Raise the table option \"%s\" if the line is valid.",
							 OPT_MAX_LINE_SIZE)));

		/* Make room: drop consumed bytes, then grow if still full. */
		if (st->pos > 0)
		{
			memmove(st->buf, st->buf + st->pos, st->len - st->pos);
			st->len -= st->pos;
			st->base += st->pos;
			st->pos = 0;
		}
		if (st->len == st->cap)
		{
			st->cap = Min(st->cap * 2, (size_t) scan->opts->max_line_size + 2);
			st->buf = repalloc(st->buf, st->cap);
		}
		n = TelemReadObject(scan, st->buf + st->len, 1, (int) (st->cap - st->len));
		if (n == 0)
			st->eof = true;
		st->len += n;
	}
}

static bool
is_blank(const char *line, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

/* Epoch seconds or milliseconds, as a number or numeric string. */
static Datum
epoch_to_timestamp(TelemColumn *col, const char *text)
{
	char	   *end;
	double		v;
	TimestampTz ts;
	const double epoch_offset =
		(double) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;

	errno = 0;
	v = strtod(text, &end);
	if (end == text || *end != '\0' || errno != 0 || isnan(v) || isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid epoch value \"%s\"", text)));
	if (col->epoch == EPOCH_MILLISECONDS)
	{
		char	   *iend;
		long long	ms;

		errno = 0;
		ms = strtoll(text, &iend, 10);

		/* exact for integral milliseconds, which is what devices send */
		if (*iend == '\0' && errno == 0)
			ts = (TimestampTz) ms * 1000 - (TimestampTz) epoch_offset * USECS_PER_SEC;
		else
			ts = (TimestampTz) rint(v * 1000.0 - epoch_offset * USECS_PER_SEC);
	}
	else
		ts = (TimestampTz) rint((v - epoch_offset) * USECS_PER_SEC);

	if (!IS_VALID_TIMESTAMP(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("epoch value \"%s\" is out of range for a timestamp", text)));
	return TimestampTzGetDatum(ts);
}

/* Convert one extracted field into the column's value. */
static void
convert_field(TelemScan *scan, JsonlState *st, TelemColumn *col, int i)
{
	JsonlField *f = &st->fields[col->field];
	char	   *text;

	if (f->type == JSONL_MISSING || f->type == JSONL_NULL)
	{
		scan->nulls[i] = true;
		return;
	}

	/* numbers into int2..int8, float4/8: no text copy, no input function */
	if (f->type == JSONL_NUMBER && st->number[i] != NUMBER_NONE &&
		TelemNumberDatum(st->number[i], f->ptr, f->len, &scan->values[i]))
	{
		scan->nulls[i] = false;
		return;
	}

	resetStringInfo(&st->text);
	if (col->is_json && f->type == JSONL_STRING)
	{
		/* a JSON string stays a JSON string in a json/jsonb column */
		char	   *raw = pnstrdup(f->ptr, f->len);

		escape_json(&st->text, raw);
	}
	else
		appendBinaryStringInfo(&st->text, f->ptr, (int) f->len);
	text = st->text.data;

	/* JSON text is UTF-8: check it and convert to the database encoding */
	if (f->type == JSONL_STRING || f->type == JSONL_OBJECT || f->type == JSONL_ARRAY)
		text = pg_any_to_server(text, st->text.len, PG_UTF8);

	if (col->epoch != EPOCH_NONE)
		scan->values[i] = epoch_to_timestamp(col, text);
	else
		scan->values[i] = InputFunctionCall(&col->infunc, text,
											col->typioparam, col->typmod);
	scan->nulls[i] = false;
}

static bool
jsonl_next_record(TelemScan *scan)
{
	JsonlState *st = (JsonlState *) scan->decoder_state;
	char		errbuf[256];
	size_t		len;
	char	   *line;
	int			i;

	do
	{
		/* counted first, so errors while reading the line name it */
		scan->line_number++;
		line = next_line(scan, st, &len);
		if (line == NULL)
		{
			scan->line_number--;
			return false;
		}
	} while (is_blank(line, len));

	if (!JsonlExtract(st->extractor, line, len, st->fields, errbuf, sizeof(errbuf)))
	{
		/* a split of a parallel scan knows offsets, not line numbers */
		if (scan->range_start > 0)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("malformed JSON in \"%s\" at byte offset " INT64_FORMAT,
							scan->object_url, scan->record_offset),
					 errdetail("%s", errbuf)));
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("malformed JSON in \"%s\" at line " INT64_FORMAT,
						scan->object_url, scan->line_number),
				 errdetail("%s", errbuf)));
	}

	for (i = 0; i < scan->ncolumns; i++)
	{
		TelemColumn *col = &scan->columns[i];

		scan->nulls[i] = true;
		if (col->field < 0)
			continue;
		scan->cur_column = col->name;
		convert_field(scan, st, col, i);
	}
	scan->cur_column = NULL;
	return true;
}

static void
jsonl_end_object(TelemScan *scan)
{
	(void) scan;
}

static void
jsonl_end_scan(TelemScan *scan)
{
	free_extractor(scan->decoder_state);
}

const TelemDecoderOps TelemJsonlDecoder = {
	jsonl_begin_scan,
	jsonl_begin_object,
	jsonl_next_record,
	jsonl_end_object,
	jsonl_end_scan,
	false
};
