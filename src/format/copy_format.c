/*-------------------------------------------------------------------------
 *
 * copy_format.c
 *		The csv and text decoders, on PostgreSQL's own COPY FROM parser.
 *
 * Each object gets its own COPY state (so a header line is skipped per
 * object), fed by a data-source callback that reads the object's
 * decompressed bytes.  COPY parses, converts encodings and calls the
 * input functions; metadata columns are left out of its column list and
 * filled by scan.c.
 *
 * IDENTIFICATION
 *		src/format/copy_format.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/copy.h"
#if PG_VERSION_NUM >= 140000
#include "commands/copyfrom_internal.h"
#endif
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "utils/rel.h"

#include "../telem_fdw.h"

#if PG_VERSION_NUM < 140000
typedef CopyState CopyFromState;
#endif

typedef struct CopyFormatState
{
	List	   *attnames;		/* the columns COPY fills, in table order */
	List	   *options;		/* the table's COPY options, and which
								 * columns to convert */
	CopyFromState cstate;		/* NULL between objects */
	ExprContext *econtext;		/* for column defaults, which COPY evaluates */
} CopyFormatState;

/*
 * COPY's data-source callback carries no argument, so the scan being read
 * is set here right before each call into COPY.  Only one COPY parse runs
 * at a time in a backend, even with several scans in one plan, because
 * the executor pulls rows from one scan at a time.
 */
static TelemScan *current_scan = NULL;

static int
copy_read_cb(void *outbuf, int minread, int maxread)
{
	Assert(current_scan != NULL);
	return TelemReadObject(current_scan, outbuf, minread, maxread);
}

static void
copy_begin_scan(TelemScan *scan)
{
	CopyFormatState *st = palloc0(sizeof(CopyFormatState));
	List	   *convert = NIL;
	int			i;

	for (i = 0; i < scan->ncolumns; i++)
	{
		TelemColumn *col = &scan->columns[i];
		Form_pg_attribute attr = TupleDescAttr(scan->tupdesc, i);

		if (attr->attisdropped || col->kind != COLUMN_DATA)
			continue;
		st->attnames = lappend(st->attnames, makeString(col->name));
		if (col->needed)
			convert = lappend(convert, makeString(col->name));
	}

	/*
	 * Fields the query does not use are split but not converted (as
	 * file_fdw does): input functions dominate the cost of a CSV scan.
	 */
	st->options = lappend(list_copy(scan->opts->copy_options),
						  makeDefElem("convert_selectively", (Node *) convert, -1));
	st->econtext = CreateStandaloneExprContext();
	scan->decoder_state = st;
}

static void
copy_begin_object(TelemScan *scan)
{
	CopyFormatState *st = (CopyFormatState *) scan->decoder_state;

	current_scan = scan;
#if PG_VERSION_NUM >= 140000
	st->cstate = BeginCopyFrom(NULL, scan->rel, NULL, NULL, false, copy_read_cb,
							   st->attnames, st->options);
#else
	st->cstate = BeginCopyFrom(NULL, scan->rel, NULL, false, copy_read_cb,
							   st->attnames, st->options);
#endif
}

static bool
copy_next_record(TelemScan *scan)
{
	CopyFormatState *st = (CopyFormatState *) scan->decoder_state;
	ErrorContextCallback errcallback;
	bool		found;

	/* COPY's own context names the line and column of a bad value */
	errcallback.callback = CopyFromErrorCallback;
	errcallback.arg = (void *) st->cstate;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	current_scan = scan;
	ResetExprContext(st->econtext);
	found = NextCopyFrom(st->cstate, st->econtext, scan->values, scan->nulls);

	error_context_stack = errcallback.previous;

#if PG_VERSION_NUM >= 140000
	scan->line_number = (int64) st->cstate->cur_lineno;
#else
	scan->line_number = 0;		/* COPY's line counter is private before 14 */
#endif
	return found;
}

static void
copy_end_object(TelemScan *scan)
{
	CopyFormatState *st = (CopyFormatState *) scan->decoder_state;

	if (st->cstate)
		EndCopyFrom(st->cstate);
	st->cstate = NULL;
	current_scan = NULL;
}

static void
copy_end_scan(TelemScan *scan)
{
	CopyFormatState *st = (CopyFormatState *) scan->decoder_state;

	FreeExprContext(st->econtext, true);
}

const TelemDecoderOps TelemCopyDecoder = {
	copy_begin_scan,
	copy_begin_object,
	copy_next_record,
	copy_end_object,
	copy_end_scan
};
