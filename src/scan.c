/*-------------------------------------------------------------------------
 *
 * scan.c
 *		One foreign scan: walk the listing, stream each object through its
 *		codec into the format's decoder, and fill metadata columns.
 *
 * Handles of the plain-C layers (store, reader, codec, listing page) are
 * malloc'd; a reset callback on the scan's memory context releases them,
 * so a query that errors out mid-object leaks nothing even though
 * EndForeignScan never runs.
 *
 * IDENTIFICATION
 *		src/scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "telem_fdw.h"

static void release_handles(void *arg);
static void close_object(TelemScan *scan);

/* The codec pulls compressed bytes through this from the store reader. */
static ssize_t
reader_read(void *ctx, void *buf, size_t len, TelemError *err)
{
	TelemScan  *scan = (TelemScan *) ctx;
	ssize_t		n;

	n = scan->store->ops->read(scan->reader, buf, len, err);
	if (n > 0)
		scan->bytes_read += n;
	return n;
}

/*
 * TelemReadObject
 *		Read decompressed bytes of the current object into buf: at least
 *		minread unless the object ends first, at most maxread.  Returns the
 *		count, 0 only at the end of the object.  Errors are raised.
 */
int
TelemReadObject(TelemScan *scan, void *buf, int minread, int maxread)
{
	int			total = 0;

	while (!scan->object_eof && total < Max(minread, 1) && total < maxread)
	{
		TelemError	err;
		ssize_t		n;

		CHECK_FOR_INTERRUPTS();
		memset(&err, 0, sizeof(err));
		n = CodecRead(scan->codec, (char *) buf + total, maxread - total, &err);
		if (n < 0)
			TelemReportStoreError(&err, "read", scan->object_url);
		if (n == 0)
			scan->object_eof = true;
		total += (int) n;
	}
	return total;
}

/* Error context: which object, line and column a failure belongs to. */
static void
scan_error_callback(void *arg)
{
	TelemScan  *scan = (TelemScan *) arg;

	if (scan->object_url == NULL)
		return;
	if (scan->opts->format == FORMAT_JSONL && scan->line_number > 0)
	{
		if (scan->cur_column)
			errcontext("telem_fdw object \"%s\", line " INT64_FORMAT ", column \"%s\"",
					   scan->object_url, scan->line_number, scan->cur_column);
		else
			errcontext("telem_fdw object \"%s\", line " INT64_FORMAT,
					   scan->object_url, scan->line_number);
	}
	else
		errcontext("telem_fdw object \"%s\"", scan->object_url);
}

/*
 * Value of partition 'name' in key: the text after "name=" in a path
 * segment, percent-decoded; NULL when the key has no such segment.
 */
static char *
partition_value(const char *key, const char *name)
{
	size_t		nlen = strlen(name);
	const char *seg = key;

	while (seg && *seg)
	{
		const char *end = strchr(seg, '/');

		if (strncmp(seg, name, nlen) == 0 && seg[nlen] == '=' && end != NULL)
		{
			const char *v = seg + nlen + 1;
			StringInfoData out;

			initStringInfo(&out);
			for (; v < end; v++)
			{
				if (*v == '%' && end - v > 2 &&
					isxdigit((unsigned char) v[1]) && isxdigit((unsigned char) v[2]))
				{
					char		hex[3] = {v[1], v[2], '\0'};

					appendStringInfoChar(&out, (char) strtol(hex, NULL, 16));
					v += 2;
				}
				else
					appendStringInfoChar(&out, *v);
			}
			return out.data;
		}
		seg = end ? end + 1 : NULL;
	}
	return NULL;
}

/* Convert text to a column's type with its input function. */
static Datum
column_input(TelemColumn *col, char *text)
{
	return InputFunctionCall(&col->infunc, text, col->typioparam, col->typmod);
}

/* Compute the per-object values of metadata and partition columns. */
static void
fill_object_values(TelemScan *scan)
{
	TelemObject *obj = scan->object;
	int			i;

	for (i = 0; i < scan->ncolumns; i++)
	{
		TelemColumn *col = &scan->columns[i];
		char	   *text = NULL;

		scan->object_nulls[i] = true;
		if (!col->needed || col->kind == COLUMN_DATA ||
			col->kind == COLUMN_META_LINE_NUMBER)
			continue;

		switch (col->kind)
		{
			case COLUMN_META_KEY:
				text = obj->key;
				break;
			case COLUMN_META_SIZE:
				text = psprintf(INT64_FORMAT, (int64) obj->size);
				break;
			case COLUMN_META_ETAG:
				text = obj->etag;
				break;
			case COLUMN_META_LAST_MODIFIED:
				if (col->typid == TIMESTAMPTZOID)
				{
					scan->object_values[i] =
						TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) obj->last_modified));
					scan->object_nulls[i] = false;
					continue;
				}
				text = DatumGetCString(DirectFunctionCall1(timestamptz_out,
														   TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) obj->last_modified))));
				break;
			case COLUMN_PARTITION:
				text = partition_value(obj->key, col->partition);
				break;
			default:
				break;
		}
		if (text != NULL)
		{
			scan->cur_column = col->name;
			scan->object_values[i] = column_input(col, text);
			scan->object_nulls[i] = false;
			scan->cur_column = NULL;
		}
	}
}

/*
 * The loader's restriction as a listing page: a malloc'd copy, so that it is
 * freed like any other page.
 */
static bool
restricted_page(TelemScan *scan, TelemObjectPage *page, TelemError *err)
{
	int			i;

	page->objects = calloc(Max(scan->nrestricted, 1), sizeof(TelemObject));
	if (page->objects == NULL)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
	for (i = 0; i < scan->nrestricted; i++)
	{
		const TelemObject *src = &scan->restricted[i];
		TelemObject *dst = &page->objects[page->nobjects];

		*dst = *src;
		dst->key = strdup(src->key);
		dst->etag = src->etag ? strdup(src->etag) : NULL;
		page->nobjects++;
		if (dst->key == NULL || (src->etag && dst->etag == NULL))
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
	}
	page->next_token = NULL;
	return true;
}

/* Fetch the next listing page; false when the listing is exhausted. */
static bool
fetch_page(TelemScan *scan)
{
	TelemError	err;
	char	   *token;
	bool		ok;

	if (scan->listing_done)
		return false;

	/* The new page replaces the old one, whose token we still need. */
	token = scan->page.next_token ? pstrdup(scan->page.next_token) : NULL;
	TelemObjectPageFree(&scan->page);
	scan->page_pos = 0;

	memset(&err, 0, sizeof(err));
	if (scan->restricted != NULL)
		ok = restricted_page(scan, &scan->page, &err);
	else
		ok = scan->store->ops->list_page(scan->store, scan->opts->prefix, NULL,
										 token, &scan->page, &err);
	if (!ok)
		TelemReportStoreError(&err, "list",
							  TelemObjectUrl(scan->opts, scan->opts->prefix));
	if (scan->page.next_token == NULL)
		scan->listing_done = true;
	scan->objects_listed += scan->page.nobjects;
	scan->pages_listed++;
	return true;
}

/* Open the next object of the listing; false when there is none. */
static bool
open_next_object(TelemScan *scan)
{
	TelemObject *obj = NULL;
	TelemError	err;
	MemoryContext old;

	while (obj == NULL)
	{
		if (scan->page_pos >= scan->page.nobjects && !fetch_page(scan))
			return false;
		if (scan->page_pos < scan->page.nobjects)
		{
			obj = &scan->page.objects[scan->page_pos++];
			/* "folder" placeholders some tools create hold no records */
			if (obj->key[0] != '\0' && obj->key[strlen(obj->key) - 1] == '/')
				obj = NULL;
		}
	}

	MemoryContextReset(scan->objectcxt);
	old = MemoryContextSwitchTo(scan->objectcxt);

	scan->object = obj;
	scan->object_url = TelemObjectUrl(scan->opts, obj->key);
	scan->object_eof = false;
	scan->line_number = 0;
	scan->object_rows = 0;
	scan->object_start_bytes = scan->bytes_read;

	memset(&err, 0, sizeof(err));
	scan->reader = scan->store->ops->open(scan->store, obj, 0, &err);
	if (scan->reader == NULL)
		TelemReportStoreError(&err, "open", scan->object_url);
	scan->codec = CodecOpen(scan->opts->compression, obj->key, reader_read,
							scan, &err);
	if (scan->codec == NULL)
		TelemReportStoreError(&err, "decompress", scan->object_url);

	fill_object_values(scan);
	scan->objects_read++;
	scan->decoder->begin_object(scan);

	MemoryContextSwitchTo(old);
	return true;
}

static void
close_object(TelemScan *scan)
{
	if (scan->object == NULL)
		return;
	scan->decoder->end_object(scan);
	if (scan->restricted != NULL && scan->object_eof)
	{
		TelemRecordObjectRead(RelationGetRelid(scan->rel), scan->object->key,
							  scan->object_rows,
							  scan->bytes_read - scan->object_start_bytes);
		/* a loader run, one object into its scan */
		TelemPausePoint("mid_scan");
	}
	if (scan->codec)
		CodecClose(scan->codec);
	scan->codec = NULL;
	if (scan->reader)
	{
		TelemReaderStats stats;

		memset(&stats, 0, sizeof(stats));
		if (scan->opts->provider == PROVIDER_S3)
			S3ReaderStats(scan->reader, &stats);
		else if (scan->opts->provider == PROVIDER_AZURE)
			AzureReaderStats(scan->reader, &stats);
		scan->resumes += stats.resumes;
		scan->store->ops->close(scan->reader);
	}
	scan->reader = NULL;
	scan->object = NULL;
	scan->object_url = NULL;
}

/* Memory-context reset callback: free every malloc'd handle. */
static void
release_handles(void *arg)
{
	TelemScan  *scan = (TelemScan *) arg;

	if (scan->codec)
		CodecClose(scan->codec);
	scan->codec = NULL;
	if (scan->reader)
		scan->store->ops->close(scan->reader);
	scan->reader = NULL;
	TelemObjectPageFree(&scan->page);
	if (scan->store)
		scan->store->ops->destroy(scan->store);
	scan->store = NULL;
}

/* Look up what fills each column and how to convert into it. */
static void
setup_columns(TelemScan *scan, Bitmapset *needed)
{
	Oid			relid = RelationGetRelid(scan->rel);
	bool		whole_row = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber,
										  needed);
	int			i;

	scan->ncolumns = scan->tupdesc->natts;
	scan->columns = palloc0(sizeof(TelemColumn) * scan->ncolumns);
	for (i = 0; i < scan->ncolumns; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(scan->tupdesc, i);
		TelemColumn *col = &scan->columns[i];
		Oid			infunc;

		col->attnum = attr->attnum;
		col->name = pstrdup(NameStr(attr->attname));
		if (attr->attisdropped)
			continue;
		col->needed = whole_row ||
			bms_is_member(attr->attnum - FirstLowInvalidHeapAttributeNumber, needed);
		col->typid = attr->atttypid;
		col->typmod = attr->atttypmod;
		col->is_json = (col->typid == JSONOID || col->typid == JSONBOID);
		getTypeInputInfo(col->typid, &infunc, &col->typioparam);
		fmgr_info_cxt(infunc, &col->infunc, scan->scancxt);
		TelemGetColumnOptions(relid, attr->attnum, &col->kind, &col->json_path,
							  &col->partition, &col->epoch);
		if (col->json_path == NULL)
			col->json_path = col->name;
		if (col->epoch != EPOCH_NONE && col->typid != TIMESTAMPTZOID &&
			col->typid != TIMESTAMPOID)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("column \"%s\" has option \"%s\" but type %s",
							col->name, OPT_EPOCH, format_type_be(col->typid)),
					 errhint("Option \"%s\" fills timestamptz or timestamp columns.",
							 OPT_EPOCH)));
		if (col->epoch != EPOCH_NONE && scan->opts->format != FORMAT_JSONL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("column option \"%s\" applies to format \"jsonl\" only",
							OPT_EPOCH)));
		if (col->kind == COLUMN_DATA && strcmp(col->json_path, col->name) != 0 &&
			scan->opts->format != FORMAT_JSONL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("column option \"%s\" applies to format \"jsonl\" only",
							OPT_JSON_PATH)));
	}
}

/*
 * TelemBeginScan
 *		Set up a scan of rel as userid.  needed holds the attnums the query
 *		references, offset by FirstLowInvalidHeapAttributeNumber.
 */
TelemScan *
TelemBeginScan(Relation rel, Oid userid, Bitmapset *needed, MemoryContext parent)
{
	MemoryContext scancxt;
	MemoryContext old;
	TelemScan  *scan;
	MemoryContextCallback *cb;

	scancxt = AllocSetContextCreate(parent, "telem_fdw scan",
									ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(scancxt);

	scan = palloc0(sizeof(TelemScan));
	scan->scancxt = scancxt;
	scan->objectcxt = AllocSetContextCreate(scancxt, "telem_fdw object",
											ALLOCSET_DEFAULT_SIZES);
	scan->rowcxt = AllocSetContextCreate(scancxt, "telem_fdw row",
										 ALLOCSET_DEFAULT_SIZES);
	scan->rel = rel;
	scan->userid = userid;
	scan->tupdesc = RelationGetDescr(rel);
	scan->opts = TelemGetOptions(RelationGetRelid(rel));

	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = release_handles;
	cb->arg = scan;
	MemoryContextRegisterResetCallback(scancxt, cb);

	setup_columns(scan, needed);
	scan->object_values = palloc0(sizeof(Datum) * scan->ncolumns);
	scan->object_nulls = palloc0(sizeof(bool) * scan->ncolumns);

	scan->decoder = scan->opts->format == FORMAT_JSONL ?
		&TelemJsonlDecoder : &TelemCopyDecoder;
	scan->decoder->begin_scan(scan);

	scan->store = TelemOpenStore(scan->opts, userid);
	scan->restricted = TelemRestrictedObjects(RelationGetRelid(rel),
											  &scan->nrestricted);

	MemoryContextSwitchTo(old);
	return scan;
}

/*
 * TelemNextRow
 *		Store the next row in slot; false when every object is read.
 */
bool
TelemNextRow(TelemScan *scan, TupleTableSlot *slot)
{
	ErrorContextCallback errcallback;
	bool		found = false;

	ExecClearTuple(slot);

	errcallback.callback = scan_error_callback;
	errcallback.arg = scan;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	while (!found)
	{
		MemoryContext old;
		int			i;

		if (scan->object == NULL && !open_next_object(scan))
			break;

		MemoryContextReset(scan->rowcxt);
		old = MemoryContextSwitchTo(scan->rowcxt);
		scan->values = slot->tts_values;
		scan->nulls = slot->tts_isnull;
		found = scan->decoder->next_record(scan);
		MemoryContextSwitchTo(old);

		if (!found)
		{
			close_object(scan);
			continue;
		}

		for (i = 0; i < scan->ncolumns; i++)
		{
			TelemColumn *col = &scan->columns[i];

			if (col->kind == COLUMN_DATA)
				continue;
			if (col->kind == COLUMN_META_LINE_NUMBER && col->needed)
			{
				slot->tts_isnull[i] = false;
				if (col->typid == INT8OID)
					slot->tts_values[i] = Int64GetDatum(scan->line_number);
				else
				{
					MemoryContext o = MemoryContextSwitchTo(scan->rowcxt);

					slot->tts_values[i] =
						column_input(col, psprintf(INT64_FORMAT, scan->line_number));
					MemoryContextSwitchTo(o);
				}
				continue;
			}
			slot->tts_values[i] = scan->object_values[i];
			slot->tts_isnull[i] = scan->object_nulls[i];
		}
		scan->rows_read++;
		scan->object_rows++;
	}

	error_context_stack = errcallback.previous;
	if (found)
		ExecStoreVirtualTuple(slot);
	return found;
}

/*
 * TelemRescan
 *		Start over from the first object; the listing is taken afresh.
 */
void
TelemRescan(TelemScan *scan)
{
	close_object(scan);
	TelemObjectPageFree(&scan->page);
	scan->page_pos = 0;
	scan->listing_done = false;
}

/*
 * TelemEndScan
 *		Release everything the scan holds.
 */
void
TelemEndScan(TelemScan *scan)
{
	close_object(scan);
	scan->decoder->end_scan(scan);
	MemoryContextDelete(scan->scancxt);
}
