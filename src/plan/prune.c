/*-------------------------------------------------------------------------
 *
 * prune.c
 *		Quals on partition and metadata columns, turned into work not done:
 *		prefixes never listed, objects never read.
 *
 * At plan time a table's restriction clauses are sorted into
 *
 *  - object quals: clauses that reference only partition and metadata
 *	  columns (key, size, etag, last_modified).  Whatever their shape (ORs,
 *	  functions, casts), they can be evaluated exactly on an object's
 *	  listing entry before it is opened, since every value they read is
 *	  known from the key and the listing;
 *  - bounds: the simple ones among them, "column op expression" and
 *	  "column op ANY/ALL (array)", where the expression holds no column of
 *	  the table and nothing volatile (a constant, a Param, current_date - 1).
 *	  Bounds are evaluated once per scan (and per rescan, since Params
 *	  change) and then tested against a directory prefix while its value
 *	  of a partition is known but its objects are not: "day=21/" can be
 *	  ruled out before it is listed.  On the key column, equality gives
 *	  direct lookups and ">" / ">=" a start-after.
 *
 * A bound is tested by calling the qual's own operator on the candidate
 * value, so pruning can only ever agree with the qual; anything that
 * cannot be decided (no value for the partition yet) is kept.
 *
 * IDENTIFICATION
 *		src/plan/prune.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/restrictinfo.h"
#include "rewrite/rewriteManip.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/pg_locale.h"
#include "utils/ruleutils.h"

#include "telem_fdw.h"

/* Fields of one bound in fdw_private, an integer list. */
enum
{
	BOUND_ATTNUM,
	BOUND_OPNO,
	BOUND_COLLID,
	BOUND_IS_ARRAY,
	BOUND_USE_OR,
	BOUND_EXPR_INDEX,
	BOUND_NULLTEST,
	BOUND_NFIELDS
};

/* Is attnum a column whose value an object's listing entry fixes? */
static bool
object_level_column(Oid relid, AttrNumber attnum, TelemColumnKind *kind)
{
	char	   *json_path;
	char	   *path;
	char	   *partition;
	TelemEpochUnit epoch;

	*kind = COLUMN_DATA;		/* a system column: no bound of any kind */
	if (attnum <= 0)
		return false;
	TelemGetColumnOptions(relid, attnum, kind, &json_path, &path, &partition,
						  &epoch);
	return *kind == COLUMN_PARTITION || *kind == COLUMN_META_KEY ||
		*kind == COLUMN_META_SIZE || *kind == COLUMN_META_ETAG ||
		*kind == COLUMN_META_LAST_MODIFIED;
}

/* Strip binary-compatible casts, which keep a Var a Var. */
static Node *
strip_relabel(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

/* A Var of this relation, at this query level? */
static Var *
own_var(Node *n, Index relid)
{
	n = strip_relabel(n);
	if (n && IsA(n, Var) && ((Var *) n)->varno == (int) relid &&
		((Var *) n)->varlevelsup == 0 && ((Var *) n)->varattno > 0)
		return (Var *) n;
	return NULL;
}

/* Can this expression be evaluated once, before the scan starts? */
static bool
scan_constant(Node *n)
{
	return !contain_var_clause(n) && !contain_volatile_functions(n) &&
		!contain_subplans(n);
}

/*
 * If clause is a bound, describe it: its column, operator (commuted so
 * that the column is on the left), and the expression on the other side.
 */
static bool
make_bound(Node *clause, Index relid, TelemPruneBound *b)
{
	memset(b, 0, sizeof(*b));
	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *l = linitial(op->args);
		Node	   *r = lsecond(op->args);
		Var		   *v;

		if ((v = own_var(l, relid)) != NULL && scan_constant(r))
		{
			b->opno = op->opno;
			b->rhs = (Expr *) r;
		}
		else if ((v = own_var(r, relid)) != NULL && scan_constant(l))
		{
			b->opno = get_commutator(op->opno);
			b->rhs = (Expr *) l;
		}
		else
			return false;
		if (!OidIsValid(b->opno))
			return false;
		b->attnum = v->varattno;
		b->collid = op->inputcollid;
		return true;
	}
	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) clause;
		Var		   *v = own_var(linitial(op->args), relid);

		if (v == NULL || !scan_constant(lsecond(op->args)))
			return false;
		b->attnum = v->varattno;
		b->opno = op->opno;
		b->collid = op->inputcollid;
		b->is_array = true;
		b->use_or = op->useOr;
		b->rhs = (Expr *) lsecond(op->args);
		return true;
	}
	return false;
}

/*
 * A bound on one record field, for statistics: a simple comparison as for
 * object bounds, or IS [NOT] NULL.
 */
static bool
make_data_bound(Node *clause, Index relid, TelemPruneBound *b)
{
	if (IsA(clause, NullTest) && !((NullTest *) clause)->argisrow)
	{
		NullTest   *nt = (NullTest *) clause;
		Var		   *v = own_var((Node *) nt->arg, relid);

		if (v == NULL)
			return false;
		memset(b, 0, sizeof(*b));
		b->attnum = v->varattno;
		b->nulltest = nt->nulltesttype == IS_NULL ? BOUND_IS_NULL :
			BOUND_IS_NOT_NULL;
		return true;
	}
	return make_bound(clause, relid, b);
}

/* Append a copy of b, from clause, to list. */
static List *
add_bound(List *list, TelemPruneBound *b, Node *clause)
{
	TelemPruneBound *copy = palloc(sizeof(TelemPruneBound));

	b->clause = (Expr *) clause;
	*copy = *b;
	return lappend(list, copy);
}

/*
 * TelemClassifyQuals
 *		Sort baserel's restriction clauses into object quals and bounds;
 *		with data_bounds (a format whose objects have statistics), also
 *		bounds on single record fields.
 */
TelemPrunePlan *
TelemClassifyQuals(RelOptInfo *baserel, Oid relid, bool data_bounds)
{
	TelemPrunePlan *pp = palloc0(sizeof(TelemPrunePlan));
	ListCell   *lc;

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);
		Node	   *clause = (Node *) rinfo->clause;
		Bitmapset  *attrs = NULL;
		bool		ok = true;
		int			k = -1;
		TelemPruneBound b;

		if (contain_volatile_functions(clause) || contain_subplans(clause))
			continue;
		pull_varattnos(clause, baserel->relid, &attrs);
		if (attrs == NULL)
			continue;
		while (ok && (k = bms_next_member(attrs, k)) >= 0)
		{
			TelemColumnKind kind;

			ok = object_level_column(relid,
									 k + FirstLowInvalidHeapAttributeNumber,
									 &kind);
			if (!ok && data_bounds && kind == COLUMN_DATA &&
				bms_num_members(attrs) == 1 &&
				make_data_bound(clause, baserel->relid, &b))
				pp->data_bounds = add_bound(pp->data_bounds, &b, clause);
		}
		if (!ok)
			continue;
		pp->object_quals = lappend(pp->object_quals, clause);
		if (make_bound(clause, baserel->relid, &b))
			pp->bounds = add_bound(pp->bounds, &b, clause);
	}
	return pp;
}

/* One bound as an integer list; its expression goes to *fdw_exprs. */
static List *
bound_to_private(TelemPruneBound *b, List **fdw_exprs)
{
	List	   *fields = NIL;

	fields = lappend_int(fields, b->attnum);
	fields = lappend_int(fields, (int) b->opno);
	fields = lappend_int(fields, (int) b->collid);
	fields = lappend_int(fields, b->is_array);
	fields = lappend_int(fields, b->use_or);
	fields = lappend_int(fields, b->rhs ? list_length(*fdw_exprs) : -1);
	fields = lappend_int(fields, b->nulltest);
	if (b->rhs)
		*fdw_exprs = lappend(*fdw_exprs, b->rhs);
	return fields;
}

/*
 * TelemPrunePlanToPrivate
 *		Serialize pp for fdw_private; its expressions are appended to
 *		*fdw_exprs (so that setrefs fixes their Params and Vars).  The
 *		result is a list: [object qual count, first expression index,
 *		bounds (integer lists), quals as text for EXPLAIN, data bounds].
 */
List *
TelemPrunePlanToPrivate(TelemPrunePlan *pp, Oid relid, Index scanrelid,
						List **fdw_exprs)
{
	List	   *bounds = NIL;
	List	   *data_bounds = NIL;
	int			first = list_length(*fdw_exprs);
	ListCell   *lc;
	List	   *dpcontext;
	StringInfoData text;

	*fdw_exprs = list_concat(*fdw_exprs, pp->object_quals);
	foreach(lc, pp->bounds)
		bounds = lappend(bounds, bound_to_private((TelemPruneBound *) lfirst(lc),
												  fdw_exprs));
	foreach(lc, pp->data_bounds)
		data_bounds = lappend(data_bounds,
							  bound_to_private((TelemPruneBound *) lfirst(lc),
											   fdw_exprs));

	/* The quals as EXPLAIN shows them, deparsed against the table alone. */
	initStringInfo(&text);
	dpcontext = deparse_context_for(get_rel_name(relid), relid);
	foreach(lc, pp->object_quals)
	{
		Node	   *q = copyObject((Node *) lfirst(lc));

		ChangeVarNodes(q, scanrelid, 1, 0);
		appendStringInfo(&text, "%s%s", text.len ? " AND " : "",
						 deparse_expression(q, dpcontext, false, false));
	}
	return list_make5(makeInteger(list_length(pp->object_quals)),
					  makeInteger(first), bounds, makeString(text.data),
					  data_bounds);
}

/* Text of the pruning quals recorded by TelemPrunePlanToPrivate, or NULL. */
const char *
TelemPruneQualText(List *prune_private)
{
	char	   *s = strVal(lfourth(prune_private));

	return s[0] ? s : NULL;
}

/*
 * TelemPruneBegin
 *		Executor state for the pruning recorded in prune_private: the
 *		object quals' ExprState and the bounds' expressions, ready for
 *		TelemPruneEvaluate.
 */
TelemPruneState *
TelemPruneBegin(TelemScan *scan, PlanState *ps, List *fdw_exprs,
				List *prune_private)
{
	TelemPruneState *st = palloc0(sizeof(TelemPruneState));
	int			nquals = intVal(linitial(prune_private));
	int			first = intVal(lsecond(prune_private));
	List	   *quals = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < nquals; i++)
	{
		Node	   *q = list_nth(fdw_exprs, first + i);
		List	   *vars = pull_var_clause(q, PVC_RECURSE_AGGREGATES |
										   PVC_RECURSE_WINDOWFUNCS |
										   PVC_RECURSE_PLACEHOLDERS);
		ListCell   *vc;

		/* a value these quals read that does not parse: cannot match */
		foreach(vc, vars)
		{
			Var		   *v = (Var *) lfirst(vc);

			if (v->varattno > 0 && v->varattno <= scan->ncolumns)
				scan->columns[v->varattno - 1].pruned_by = true;
		}
		quals = lappend(quals, q);
	}
	st->object_qual = ExecInitQual(quals, ps);
	st->nquals = nquals;

	st->nbounds = list_length((List *) lthird(prune_private));
	st->bounds = palloc0(sizeof(TelemBoundState) * Max(st->nbounds, 1));
	i = 0;
	foreach(lc, (List *) lthird(prune_private))
	{
		List	   *f = (List *) lfirst(lc);
		TelemBoundState *b = &st->bounds[i++];
		Expr	   *rhs = list_nth(fdw_exprs, list_nth_int(f, BOUND_EXPR_INDEX));
		TelemColumn *col;
		Oid			opfunc;

		b->attnum = list_nth_int(f, BOUND_ATTNUM);
		b->collid = (Oid) list_nth_int(f, BOUND_COLLID);
		b->is_array = list_nth_int(f, BOUND_IS_ARRAY);
		b->use_or = list_nth_int(f, BOUND_USE_OR);
		opfunc = get_opcode((Oid) list_nth_int(f, BOUND_OPNO));
		fmgr_info_cxt(opfunc, &b->fn, scan->scancxt);
		b->rhs = ExecInitExpr(rhs, ps);
		b->rhs_type = exprType((Node *) rhs);
		col = &scan->columns[b->attnum - 1];
		col->pruned_by = true;

		/* On the key, text comparisons in byte order become lookups. */
		if (col->kind == COLUMN_META_KEY &&
			(b->collid == InvalidOid || lc_collate_is_c(b->collid)))
		{
			if (opfunc == F_TEXTEQ && (!b->is_array || b->use_or))
				b->keyop = KEYOP_EQ;
			else if (!b->is_array && opfunc == F_TEXT_GT)
				b->keyop = KEYOP_GT;
			else if (!b->is_array && opfunc == F_TEXT_GE)
				b->keyop = KEYOP_GE;
		}
		if (col->kind == COLUMN_PARTITION)
			st->npartition_bounds++;
	}

	/* bounds on record fields, for statistics (plan/stats_prune.c) */
	st->ndata_bounds = list_length((List *) list_nth(prune_private, 4));
	st->data_bounds = palloc0(sizeof(TelemBoundState) * Max(st->ndata_bounds, 1));
	i = 0;
	foreach(lc, (List *) list_nth(prune_private, 4))
	{
		List	   *f = (List *) lfirst(lc);
		TelemBoundState *b = &st->data_bounds[i++];
		int			expr = list_nth_int(f, BOUND_EXPR_INDEX);
		Oid			opno = (Oid) list_nth_int(f, BOUND_OPNO);

		b->attnum = list_nth_int(f, BOUND_ATTNUM);
		b->collid = (Oid) list_nth_int(f, BOUND_COLLID);
		b->is_array = list_nth_int(f, BOUND_IS_ARRAY);
		b->use_or = list_nth_int(f, BOUND_USE_OR);
		b->nulltest = list_nth_int(f, BOUND_NULLTEST);
		scan->columns[b->attnum - 1].pruned_by_data = true;
		if (expr >= 0)
		{
			Expr	   *rhs = list_nth(fdw_exprs, expr);

			fmgr_info_cxt(get_opcode(opno), &b->fn, scan->scancxt);
			b->rhs = ExecInitExpr(rhs, ps);
			b->rhs_type = exprType((Node *) rhs);
			TelemStatsPruneBegin(b, opno);
		}
	}
	return st;
}

/* Evaluate bound b's value(s) into cxt; see TelemPruneEvaluate. */
static void
evaluate_bound(TelemBoundState *b, ExprContext *econtext, MemoryContext cxt)
{
	bool		isnull;
	Datum		d;
	MemoryContext old;

	b->nvalues = 0;
	if (b->rhs == NULL)
		return;
	d = ExecEvalExprSwitchContext(b->rhs, econtext, &isnull);
	old = MemoryContextSwitchTo(cxt);
	b->isnull = isnull;
	if (!isnull && !b->is_array)
	{
		int16		typlen;
		bool		typbyval;

		get_typlenbyval(b->rhs_type, &typlen, &typbyval);
		b->values = palloc(sizeof(Datum));
		b->nulls = palloc(sizeof(bool));
		b->values[0] = datumCopy(d, typbyval, typlen);
		b->nulls[0] = false;
		b->nvalues = 1;
	}
	else if (!isnull)
	{
		ArrayType  *arr = DatumGetArrayTypePCopy(d);
		int16		elmlen;
		bool		elmbyval;
		char		elmalign;

		get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elmlen, &elmbyval,
							 &elmalign);
		deconstruct_array(arr, ARR_ELEMTYPE(arr), elmlen, elmbyval,
						  elmalign, &b->values, &b->nulls, &b->nvalues);
	}
	MemoryContextSwitchTo(old);
	ResetExprContext(econtext);
}

/*
 * TelemPruneEvaluate
 *		Compute every bound's value(s) in econtext; call again on rescan.
 *		Values are copied into cxt.
 */
void
TelemPruneEvaluate(TelemPruneState *st, ExprContext *econtext,
				   MemoryContext cxt)
{
	int			i;

	for (i = 0; i < st->nbounds; i++)
		evaluate_bound(&st->bounds[i], econtext, cxt);
	for (i = 0; i < st->ndata_bounds; i++)
		evaluate_bound(&st->data_bounds[i], econtext, cxt);
}

/* Does value v pass bound b?  NULLs never do (the operators are strict). */
static bool
bound_accepts(TelemBoundState *b, Datum v)
{
	int			i;

	if (b->isnull)
		return false;
	for (i = 0; i < b->nvalues; i++)
	{
		bool		ok = !b->nulls[i] &&
			DatumGetBool(FunctionCall2Coll(&b->fn, b->collid, v, b->values[i]));

		if (!b->is_array)
			return ok;
		if (ok && b->use_or)
			return true;
		if (!ok && !b->use_or)
			return false;
	}
	/* ANY of nothing is false, ALL of nothing true */
	return b->is_array && !b->use_or;
}

/*
 * TelemInputSafe
 *		Convert text to col's type; false if it does not parse.  Used on
 *		partition values, where "day=abc" under an int column is an object
 *		the quals cannot match rather than an error.  Before PostgreSQL 16
 *		input functions have no soft errors; the built-in scalar types'
 *		input functions hold no resources when they throw, so catching and
 *		flushing the error is safe for them.
 */
bool
TelemInputSafe(TelemColumn *col, char *text, Datum *out)
{
	MemoryContext old = CurrentMemoryContext;
	volatile bool ok = true;

#if PG_VERSION_NUM >= 160000
	(void) old;
	ok = InputFunctionCallSafe(&col->infunc, text, col->typioparam,
							   col->typmod, NULL, out);
#else
	PG_TRY();
	{
		*out = InputFunctionCall(&col->infunc, text, col->typioparam,
								 col->typmod);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
#endif
	return ok;
}

/*
 * TelemPruneDir
 *		May any object under the directory prefix pass the bounds?  false
 *		means it need not be listed.  *all_bound is set when every
 *		partition that has a bound already has its value in prefix, so
 *		that nothing deeper can be pruned and a flat listing is best.
 */
bool
TelemPruneDir(TelemPruneState *st, TelemScan *scan, const char *prefix,
			  bool *all_bound)
{
	int			i;

	*all_bound = true;
	for (i = 0; i < st->nbounds; i++)
	{
		TelemBoundState *b = &st->bounds[i];
		TelemColumn *col = &scan->columns[b->attnum - 1];
		char	   *text;
		bool		isnull;
		Datum		v;

		if (col->kind != COLUMN_PARTITION)
			continue;
		if (!TelemPartitionValue(prefix, col->partition, &text, &isnull))
		{
			*all_bound = false;
			continue;
		}
		if (isnull || !TelemInputSafe(col, text, &v) || !bound_accepts(b, v))
			return false;
	}
	return true;
}
