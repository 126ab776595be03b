/*-------------------------------------------------------------------------
 *
 * copy_format.c
 *		The csv and text decoders, on PostgreSQL's own COPY FROM parser.
 *
 * Each object gets its own COPY state (so a header line is skipped per
 * object), fed by a data-source callback that reads the object's
 * decompressed bytes.  COPY splits lines into fields and converts
 * encodings; metadata columns are left out of its column list and filled
 * by scan.c.
 *
 * On PostgreSQL 14 and 15 the fields come from NextCopyFromRawFields and
 * are converted here, by the same steps as NextCopyFrom (NULL marker,
 * FORCE_NULL/FORCE_NOT_NULL, the column named in COPY's error context,
 * defaults), except that int2/int4/int8/float4/float8 columns go through
 * number_datum.c first; anything it declines goes to the input function,
 * so values and errors are COPY's.  Other versions call NextCopyFrom,
 * whose internals differ (DEFAULT, ON_ERROR).
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

/* NextCopyFrom as of 14 and 15 is what copy_convert_fields repeats. */
#if PG_VERSION_NUM >= 140000 && PG_VERSION_NUM < 160000
#define COPY_OWN_CONVERSION 1
#endif

typedef struct CopyFormatState
{
	List	   *attnames;		/* the columns COPY fills, in table order */
	List	   *options;		/* the table's COPY options, and which
								 * columns to convert */
	CopyFromState cstate;		/* NULL between objects */
	ExprContext *econtext;		/* for column defaults, which COPY evaluates */
	TelemNumberKind *number;	/* per attribute: fast numeric conversion */
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

	st->number = palloc0(sizeof(TelemNumberKind) * Max(scan->ncolumns, 1));
	for (i = 0; i < scan->ncolumns; i++)
	{
		TelemColumn *col = &scan->columns[i];
		Form_pg_attribute attr = TupleDescAttr(scan->tupdesc, i);

		if (attr->attisdropped || col->kind != COLUMN_DATA)
			continue;
		st->attnames = lappend(st->attnames, makeString(col->name));
		if (col->needed)
		{
			convert = lappend(convert, makeString(col->name));
			st->number[i] = TelemNumberKindOf(attr->atttypid);
		}
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

#ifdef COPY_OWN_CONVERSION
/*
 * NextCopyFrom for the csv and text formats, with the numeric fast path:
 * read one line's raw fields and convert those the query needs.
 */
static bool
copy_convert_fields(CopyFormatState *st, Datum *values, bool *nulls)
{
	CopyFromState cstate = st->cstate;
	TupleDesc	tupdesc = RelationGetDescr(cstate->rel);
	int			attr_count = list_length(cstate->attnumlist);
	char	  **fields;
	int			nfields;
	int			fieldno = 0;
	ListCell   *cur;
	int			i;

	MemSet(values, 0, tupdesc->natts * sizeof(Datum));
	MemSet(nulls, true, tupdesc->natts * sizeof(bool));

	if (!NextCopyFromRawFields(cstate, &fields, &nfields))
		return false;

	/* the same errors, in the same order, as NextCopyFrom */
	if (attr_count > 0 && nfields > attr_count)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("extra data after last expected column")));

	foreach(cur, cstate->attnumlist)
	{
		int			m = lfirst_int(cur) - 1;
		Form_pg_attribute att = TupleDescAttr(tupdesc, m);
		char	   *string;

		if (fieldno >= nfields)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("missing data for column \"%s\"",
							NameStr(att->attname))));
		string = fields[fieldno++];

		if (cstate->convert_select_flags && !cstate->convert_select_flags[m])
			continue;			/* not needed: stays NULL */

		if (cstate->opts.csv_mode)
		{
			if (string == NULL && cstate->opts.force_notnull_flags[m])
				string = cstate->opts.null_print;
			else if (string != NULL && cstate->opts.force_null_flags[m] &&
					 strcmp(string, cstate->opts.null_print) == 0)
				string = NULL;
		}

		if (string != NULL && st->number[m] != NUMBER_NONE &&
			TelemNumberDatum(st->number[m], string, strlen(string), &values[m]))
		{
			nulls[m] = false;
			continue;
		}

		cstate->cur_attname = NameStr(att->attname);
		cstate->cur_attval = string;
		values[m] = InputFunctionCall(&cstate->in_functions[m], string,
									  cstate->typioparams[m], att->atttypmod);
		if (string != NULL)
			nulls[m] = false;
		cstate->cur_attname = NULL;
		cstate->cur_attval = NULL;
	}

	/* defaults of the columns COPY does not fill (14, 15: defexprs[i]) */
	for (i = 0; i < cstate->num_defaults; i++)
	{
		int			m = cstate->defmap[i];

		values[m] = ExecEvalExpr(cstate->defexprs[i], st->econtext, &nulls[m]);
	}
	return true;
}
#endif							/* COPY_OWN_CONVERSION */

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
#ifdef COPY_OWN_CONVERSION
	found = copy_convert_fields(st, scan->values, scan->nulls);
#else
	found = NextCopyFrom(st->cstate, st->econtext, scan->values, scan->nulls);
#endif

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
	copy_end_scan,
	false
};
