/*-------------------------------------------------------------------------
 *
 * scan.c
 *		One foreign scan: admit listed objects (glob, object quals), keep
 *		the next ones downloading, stream each through its codec into the
 *		format's decoder, and fill metadata and partition columns.
 *
 * The listing walk itself is listing.c's; in a parallel scan the pieces
 * come from the leader's queue (plan/parallel.c) instead.
 *
 * Handles of the plain-C layers (store, readers, codec, listing page) are
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
#include "executor/executor.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/bitmapset.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "plan/key_glob.h"
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

/* Error context while a listed object's values are checked, before it opens. */
static void
admission_error_callback(void *arg)
{
	TelemScan  *scan = (TelemScan *) arg;

	if (scan->admitting_url == NULL)
		return;
	if (scan->cur_column)
		errcontext("telem_fdw object \"%s\", column \"%s\"",
				   scan->admitting_url, scan->cur_column);
	else
		errcontext("telem_fdw object \"%s\"", scan->admitting_url);
}

/* Error context: which object, line and column a failure belongs to. */
static void
scan_error_callback(void *arg)
{
	TelemScan  *scan = (TelemScan *) arg;

	/* admission_error_callback speaks for an object being admitted */
	if (scan->admitting_url != NULL || scan->object_url == NULL)
		return;
	if (scan->opts->format == FORMAT_PARQUET && scan->row_group >= 0)
	{
		if (scan->cur_column)
			errcontext("telem_fdw object \"%s\", row group %d, column \"%s\"",
					   scan->object_url, scan->row_group, scan->cur_column);
		else
			errcontext("telem_fdw object \"%s\", row group %d",
					   scan->object_url, scan->row_group);
	}
	else if (scan->range_start > 0 && scan->record_offset >= 0)
		errcontext("telem_fdw object \"%s\", byte offset " INT64_FORMAT,
				   scan->object_url, scan->record_offset);
	else if (scan->opts->format == FORMAT_JSONL && scan->line_number > 0)
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

/* Hive's spelling of a NULL partition value. */
#define HIVE_NULL_PARTITION "__HIVE_DEFAULT_PARTITION__"

/*
 * TelemPartitionValue
 *		The value of partition 'name' in key: the text after "name=" in the
 *		first path segment that has it, percent-decoded, into *value; Hive's
 *		__HIVE_DEFAULT_PARTITION__ sets *isnull.  false when the key has no
 *		such segment.  Only segments followed by '/' count, so a directory
 *		prefix ("raw/day=21/") has the value its objects will have.
 */
bool
TelemPartitionValue(const char *key, const char *name, char **value,
					bool *isnull)
{
	size_t		nlen = strlen(name);
	const char *seg = key;

	*value = NULL;
	*isnull = false;
	while (seg && *seg)
	{
		const char *end = strchr(seg, '/');

		if (strncmp(seg, name, nlen) == 0 && seg[nlen] == '=' && end != NULL)
		{
			const char *v = seg + nlen + 1;
			StringInfoData out;

			if ((size_t) (end - v) == strlen(HIVE_NULL_PARTITION) &&
				strncmp(v, HIVE_NULL_PARTITION, end - v) == 0)
			{
				*isnull = true;
				return true;
			}
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
			*value = out.data;
			return true;
		}
		seg = end ? end + 1 : NULL;
	}
	return false;
}

/* Convert text to a column's type with its input function. */
static Datum
column_input(TelemColumn *col, char *text)
{
	return InputFunctionCall(&col->infunc, text, col->typioparam, col->typmod);
}

/*
 * Compute obj's values of metadata and partition columns into values and
 * nulls, in the current memory context.  With soft, a partition value that
 * does not parse marks the object unmatchable instead of raising an error.
 */
static void
fill_object_values(TelemScan *scan, const TelemObject *obj, Datum *values,
				   bool *nulls, bool soft)
{
	int			i;

	scan->object_unmatchable = false;
	for (i = 0; i < scan->ncolumns; i++)
	{
		TelemColumn *col = &scan->columns[i];
		char	   *text = NULL;

		nulls[i] = true;
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
					values[i] =
						TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) obj->last_modified));
					nulls[i] = false;
					continue;
				}
				text = DatumGetCString(DirectFunctionCall1(timestamptz_out,
														   TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) obj->last_modified))));
				break;
			case COLUMN_PARTITION:
				{
					bool		isnull;

					(void) TelemPartitionValue(obj->key, col->partition,
											   &text, &isnull);

					/*
					 * Under a pruning qual, a value that is not of the
					 * column's type is an object the qual cannot match.
					 */
					if (text != NULL && soft && col->pruned_by)
					{
						if (!TelemInputSafe(col, text, &values[i]))
						{
							scan->object_unmatchable = true;
							continue;
						}
						nulls[i] = false;
						continue;
					}
				}
				break;
			default:
				break;
		}
		if (text != NULL)
		{
			scan->cur_column = col->name;
			values[i] = column_input(col, text);
			nulls[i] = false;
			scan->cur_column = NULL;
		}
	}
}

/* Is pruning of objects on for this scan? */
static bool
pruning_on(TelemScan *scan)
{
	return telem_enable_pruning && scan->prune != NULL;
}

/* Does key match the location's glob (if it has one)? */
static bool
glob_matches(TelemScan *scan, const char *key)
{
	KeyGlobResult r;

	if (scan->opts->glob == NULL)
		return true;
	r = KeyGlobMatch(scan->opts->glob, key);
	if (r == KEY_GLOB_TOO_COMPLEX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the glob in location \"%s\" is too complex to match",
						scan->opts->location),
				 errhint("Use fewer \"*\" in one segment.")));
	return r == KEY_GLOB_MATCH;
}

/*
 * May the object being admitted hold rows the query wants?  Checks the
 * object quals on the values the listing gives (scan->adm_values).
 */
static bool
admit_object(TelemScan *scan)
{
	TupleTableSlot *slot = scan->qual_slot;
	ExprContext *econtext = scan->qual_econtext;
	bool		ok;
	int			i;

	if (!pruning_on(scan) || scan->prune->object_qual == NULL)
		return true;
	if (scan->object_unmatchable)
		return false;

	ExecClearTuple(slot);
	for (i = 0; i < scan->ncolumns; i++)
	{
		slot->tts_values[i] = scan->adm_values[i];
		slot->tts_isnull[i] = scan->adm_nulls[i];
	}
	ExecStoreVirtualTuple(slot);
	econtext->ecxt_scantuple = slot;
	ok = ExecQual(scan->prune->object_qual, econtext);
	ResetExprContext(econtext);
	return ok;
}

/* Start the listing walk: bounds first, since they shape it. */
static void
start_listing(TelemScan *scan)
{
	if (scan->prune != NULL)
	{
		MemoryContextReset(scan->prunecxt);
		TelemPruneEvaluate(scan->prune, scan->bound_econtext, scan->prunecxt);
	}
	TelemListingRestart(scan);
	scan->listing_started = true;
}

/* A copy of obj in the current memory context. */
static TelemObject *
copy_object(const TelemObject *obj)
{
	TelemObject *copy = palloc(sizeof(TelemObject));

	*copy = *obj;
	copy->key = pstrdup(obj->key);
	copy->etag = obj->etag ? pstrdup(obj->etag) : NULL;
	return copy;
}

/* Make obj the current object: a copy in the object context, values filled. */
static void
set_current_object(TelemScan *scan, const TelemObject *obj)
{
	MemoryContext old;

	MemoryContextReset(scan->objectcxt);
	old = MemoryContextSwitchTo(scan->objectcxt);
	scan->object = copy_object(obj);
	scan->object_url = TelemObjectUrl(scan->opts, obj->key);
	fill_object_values(scan, scan->object, scan->object_values,
					   scan->object_nulls, false);
	MemoryContextSwitchTo(old);
}

/*
 * TelemNextAdmitted
 *		Walk the listing to the next object that passes the glob and the
 *		object quals; NULL at the end.  The result is valid until the next
 *		call.
 */
TelemObject *
TelemNextAdmitted(TelemScan *scan)
{
	TelemObject *listed;

	if (!scan->listing_started)
		start_listing(scan);

	for (;;)
	{
		MemoryContext old;
		TelemObject *obj;
		ErrorContextCallback errcallback;

		listed = TelemListingNext(scan);
		if (listed == NULL)
			return NULL;
		/* "folder" placeholders some tools create hold no records */
		if (listed->key[0] != '\0' && listed->key[strlen(listed->key) - 1] == '/')
			continue;
		if (!glob_matches(scan, listed->key))
		{
			scan->objects_pruned++;
			continue;
		}
		MemoryContextReset(scan->admcxt);
		old = MemoryContextSwitchTo(scan->admcxt);
		obj = copy_object(listed);
		scan->admitting_url = TelemObjectUrl(scan->opts, obj->key);
		errcallback.callback = admission_error_callback;
		errcallback.arg = scan;
		errcallback.previous = error_context_stack;
		error_context_stack = &errcallback;
		fill_object_values(scan, obj, scan->adm_values, scan->adm_nulls,
						   pruning_on(scan));
		error_context_stack = errcallback.previous;
		scan->admitting_url = NULL;
		MemoryContextSwitchTo(old);
		if (admit_object(scan))
			return obj;
		scan->objects_pruned++;
	}
}

/*
 * Queue the next piece of work (an object, or a split of one in a
 * parallel scan) with its reader open: its download starts now.  false at
 * the end of the work.
 */
static bool
queue_next_piece(TelemScan *scan)
{
	TelemAhead *a;
	TelemObject claimed;
	TelemObject *obj;
	int64		range_start = 0;
	int64		range_end = -1;
	TelemError	err;
	MemoryContext old;

	if (scan->shared != NULL)
	{
		/* a parallel scan: the leader listed; claim the next piece */
		if (!TelemParallelClaim(scan, &claimed, &range_start, &range_end))
			return false;
		obj = &claimed;
	}
	else if ((obj = TelemNextAdmitted(scan)) == NULL)
		return false;

	a = &scan->ahead[(scan->ahead_first + scan->nahead) % TELEM_MAX_AHEAD];
	MemoryContextReset(a->cxt);
	old = MemoryContextSwitchTo(a->cxt);
	a->obj = copy_object(obj);
	a->range_start = range_start;
	a->range_end = range_end;
	MemoryContextSwitchTo(old);

	/* a decoder that fetches its own ranges gets no stream */
	a->reader = NULL;
	if (!scan->decoder->reads_ranges)
	{
		/* a split starts one byte early, to see whether a line starts there */
		memset(&err, 0, sizeof(err));
		a->reader = scan->store->ops->open(scan->store, a->obj,
										   range_start > 0 ? range_start - 1 : 0,
										   &err);
		if (a->reader == NULL)
			TelemReportStoreError(&err, "open", TelemObjectUrl(scan->opts, a->obj->key));
	}
	scan->nahead++;
	return true;
}

/*
 * How many objects may download at once.  Only stores whose readers
 * progress together gain from more than one (the file store blocks); in a
 * parallel scan each participant holds few, so that the last pieces are
 * shared out rather than queued behind one worker.
 */
static int
objects_in_flight(TelemScan *scan)
{
	if (scan->store->ops->pump == NULL || scan->decoder->reads_ranges)
		return 1;
	if (scan->shared != NULL)
		return Min(telem_objects_in_flight, 2);
	return telem_objects_in_flight;
}

/* Collect a reader's counters and close it. */
static void
close_reader(TelemScan *scan, TelemReader *reader)
{
	TelemReaderStats stats;

	memset(&stats, 0, sizeof(stats));
	if (scan->opts->provider == PROVIDER_S3)
		S3ReaderStats(reader, &stats);
	else if (scan->opts->provider == PROVIDER_AZURE)
		AzureReaderStats(reader, &stats);
	scan->resumes += stats.resumes;
	scan->store->ops->close(reader);
}

/* Close the readers opened ahead (a rescan, the end of the scan). */
static void
drop_ahead(TelemScan *scan)
{
	while (scan->nahead > 0)
	{
		TelemAhead *a = &scan->ahead[scan->ahead_first];

		if (a->reader)
			close_reader(scan, a->reader);
		a->reader = NULL;
		scan->ahead_first = (scan->ahead_first + 1) % TELEM_MAX_AHEAD;
		scan->nahead--;
	}
	scan->work_done = false;
}

/* Open the next object of the listing; false when there is none. */
static bool
open_next_object(TelemScan *scan)
{
	TelemError	err;
	MemoryContext old;
	TelemAhead *a;

	if (scan->nahead == 0 && !scan->work_done && !queue_next_piece(scan))
		scan->work_done = true;
	if (scan->nahead == 0)
		return false;

	a = &scan->ahead[scan->ahead_first];
	scan->ahead_first = (scan->ahead_first + 1) % TELEM_MAX_AHEAD;
	scan->nahead--;
	set_current_object(scan, a->obj);
	scan->reader = a->reader;
	a->reader = NULL;
	scan->range_start = a->range_start;
	scan->range_end = a->range_end;

	/* the next ones download while this one is decoded */
	while (!scan->work_done && scan->nahead + 1 < objects_in_flight(scan))
		if (!queue_next_piece(scan))
			scan->work_done = true;

	old = MemoryContextSwitchTo(scan->objectcxt);
	scan->object_eof = false;
	scan->line_number = 0;
	scan->object_rows = 0;
	scan->object_start_bytes = scan->bytes_read;
	scan->row_group = -1;

	if (!scan->decoder->reads_ranges)
	{
		memset(&err, 0, sizeof(err));
		scan->codec = CodecOpen(scan->opts->compression, scan->object->key,
								reader_read, scan, &err);
		if (scan->codec == NULL)
			TelemReportStoreError(&err, "decompress", scan->object_url);
	}

	if (scan->range_start == 0)
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
		close_reader(scan, scan->reader);
	scan->reader = NULL;
	scan->object = NULL;
	scan->object_url = NULL;
}

/* Memory-context reset callback: free every malloc'd handle. */
static void
release_handles(void *arg)
{
	TelemScan  *scan = (TelemScan *) arg;
	int			i;

	if (scan->codec)
		CodecClose(scan->codec);
	scan->codec = NULL;
	if (scan->reader)
		scan->store->ops->close(scan->reader);
	scan->reader = NULL;
	for (i = 0; i < TELEM_MAX_AHEAD; i++)
	{
		if (scan->ahead[i].reader)
			scan->store->ops->close(scan->ahead[i].reader);
		scan->ahead[i].reader = NULL;
	}
	scan->nahead = 0;
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
							  &col->path, &col->partition, &col->epoch);
		if (col->path != NULL && scan->opts->format != FORMAT_PARQUET)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("column option \"%s\" applies to format \"parquet\" only",
							OPT_PATH)));
		if (col->path == NULL)
			col->path = col->name;
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
	scan->adm_values = palloc0(sizeof(Datum) * scan->ncolumns);
	scan->adm_nulls = palloc0(sizeof(bool) * scan->ncolumns);
	scan->admcxt = AllocSetContextCreate(scancxt, "telem_fdw admission",
										 ALLOCSET_SMALL_SIZES);
	{
		int			i;

		for (i = 0; i < TELEM_MAX_AHEAD; i++)
			scan->ahead[i].cxt = AllocSetContextCreate(scancxt, "telem_fdw object ahead",
													   ALLOCSET_SMALL_SIZES);
	}

	if (scan->opts->format == FORMAT_JSONL)
		scan->decoder = &TelemJsonlDecoder;
	else if (scan->opts->format == FORMAT_PARQUET)
		scan->decoder = &TelemParquetDecoder;
	else
		scan->decoder = &TelemCopyDecoder;
	scan->decoder->begin_scan(scan);

	scan->store = TelemOpenStore(scan->opts, userid);
	scan->restricted = TelemRestrictedObjects(RelationGetRelid(rel),
											  &scan->nrestricted);
	scan->querycxt = parent;
	scan->listing = TelemListingBegin(scan);
	scan->prunecxt = AllocSetContextCreate(scancxt, "telem_fdw pruning bounds",
										   ALLOCSET_SMALL_SIZES);

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

		/* keep the downloads ahead going while rows are decoded */
		if (scan->nahead > 0 && (scan->rows_read & 63) == 0 &&
			scan->store->ops->pump != NULL)
		{
			TelemError	err;

			memset(&err, 0, sizeof(err));
			if (!scan->store->ops->pump(scan->store, &err))
				TelemReportStoreError(&err, "read", scan->object_url);
		}
	}

	error_context_stack = errcallback.previous;
	if (found)
		ExecStoreVirtualTuple(slot);
	return found;
}

/*
 * TelemRescan
 *		Start over from the first object.  Bounds are evaluated again
 *		(Params may have changed); listing pages come from the statement's
 *		cache.
 */
void
TelemRescan(TelemScan *scan)
{
	close_object(scan);
	drop_ahead(scan);
	scan->listing_started = false;
}

/*
 * TelemScanSetPruning
 *		Prune with what the planner recorded (plan/prune.c); ps is the scan
 *		node, whose expression context evaluates the bounds.
 */
void
TelemScanSetPruning(TelemScan *scan, PlanState *ps, List *fdw_exprs,
					List *prune_private)
{
	MemoryContext old = MemoryContextSwitchTo(scan->scancxt);

	scan->prune = TelemPruneBegin(scan, ps, fdw_exprs, prune_private);
	scan->bound_econtext = ps->ps_ExprContext;
	scan->qual_econtext = CreateExprContext(ps->state);
	/* a copy: the relation's descriptor would need its pin released */
	scan->qual_slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(scan->tupdesc),
											   &TTSOpsVirtual);
	MemoryContextSwitchTo(old);
}

/*
 * TelemEndScan
 *		Release everything the scan holds.
 */
void
TelemEndScan(TelemScan *scan)
{
	close_object(scan);
	drop_ahead(scan);
	scan->decoder->end_scan(scan);
	MemoryContextDelete(scan->scancxt);
}
