/*-------------------------------------------------------------------------
 *
 * stats_prune.c
 *		May a candidate hold a row the quals want, judging by what it knows
 *		of its columns (min, max, null count)?
 *
 * A candidate is a Parquet row group today, and a table format's data
 * file later: each offers TelemColumnFacts, and the answer is only ever
 * "may match" or "cannot match".  The bounds are the planner's (prune.c):
 * a column compared with a value fixed for the scan, or a null test.  The
 * comparison is the qual's own operator and its btree family, so the
 * answer agrees with the qual: "col < v" cannot match when min >= v, and
 * "col = v" when v lies outside [min, max].  Text compares by byte only
 * under a "C" collation, as Parquet orders strings; under any other
 * collation min and max are not bounds and nothing is pruned.
 *
 * IDENTIFICATION
 *		src/plan/stats_prune.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_collation.h"
#include "utils/lsyscache.h"
#include "utils/pg_locale.h"

#include "telem_fdw.h"

/*
 * TelemStatsPruneBegin
 *		Find how min/max can judge data bound b (operator opno): its btree
 *		strategy and, for equality, the family's <= and >=.  Leaves
 *		b->strategy 0 when they cannot.
 */
void
TelemStatsPruneBegin(TelemBoundState *b, Oid opno)
{
	List	   *interps = get_op_btree_interpretation(opno);
	ListCell   *lc;

	b->strategy = 0;
	if (OidIsValid(b->collid) && !lc_collate_is_c(b->collid))
		return;
	foreach(lc, interps)
	{
		OpBtreeInterpretation *i = (OpBtreeInterpretation *) lfirst(lc);

		if (i->strategy < BTLessStrategyNumber ||
			i->strategy > BTGreaterStrategyNumber)
			continue;
		if (i->strategy == BTEqualStrategyNumber)
		{
			Oid			le = get_opfamily_member(i->opfamily_id, i->oplefttype,
												 i->oprighttype,
												 BTLessEqualStrategyNumber);
			Oid			ge = get_opfamily_member(i->opfamily_id, i->oplefttype,
												 i->oprighttype,
												 BTGreaterEqualStrategyNumber);

			if (!OidIsValid(le) || !OidIsValid(ge))
				continue;
			fmgr_info(get_opcode(le), &b->le_fn);
			fmgr_info(get_opcode(ge), &b->ge_fn);
		}
		b->strategy = i->strategy;
		break;
	}
	list_free_deep(interps);
}

/* Call a comparison with the bound's collation. */
static inline bool
compare(FmgrInfo *fn, Oid collid, Datum a, Datum b)
{
	return DatumGetBool(FunctionCall2Coll(fn, collid, a, b));
}

/* May a column with facts f hold a value v that passes bound b? */
static bool
value_may_match(TelemBoundState *b, const TelemColumnFacts *f, Datum v)
{
	switch (b->strategy)
	{
		case BTLessStrategyNumber:
		case BTLessEqualStrategyNumber:
			return !f->has_min || compare(&b->fn, b->collid, f->min, v);
		case BTGreaterStrategyNumber:
		case BTGreaterEqualStrategyNumber:
			return !f->has_max || compare(&b->fn, b->collid, f->max, v);
		case BTEqualStrategyNumber:
			return (!f->has_min || compare(&b->le_fn, b->collid, f->min, v)) &&
				(!f->has_max || compare(&b->ge_fn, b->collid, f->max, v));
		default:
			return true;
	}
}

/* May a column with facts f hold a row that passes bound b? */
static bool
bound_may_match(TelemBoundState *b, const TelemColumnFacts *f)
{
	bool		all_null = f->has_null_count && f->null_count >= f->num_values;
	int			i;

	if (b->nulltest == BOUND_IS_NULL)
		return !f->has_null_count || f->null_count > 0;
	if (b->nulltest == BOUND_IS_NOT_NULL)
		return !all_null;

	/* the operators are strict: NULL passes none of them */
	if (b->isnull || all_null)
		return false;
	if (b->strategy == 0)
		return true;
	if (!b->is_array)
		return value_may_match(b, f, b->values[0]);
	for (i = 0; i < b->nvalues; i++)
	{
		bool		ok = !b->nulls[i] && value_may_match(b, f, b->values[i]);

		if (ok && b->use_or)
			return true;
		if (!ok && !b->use_or)
			return false;
	}
	/* ANY of nothing is false, ALL of nothing true */
	return !b->use_or;
}

/*
 * TelemFactsMayMatch
 *		May a candidate whose columns have facts (indexed by attnum - 1)
 *		hold a row that passes every data bound of st?
 */
bool
TelemFactsMayMatch(TelemPruneState *st, const TelemColumnFacts *facts)
{
	int			i;

	for (i = 0; i < st->ndata_bounds; i++)
	{
		TelemBoundState *b = &st->data_bounds[i];
		const TelemColumnFacts *f = &facts[b->attnum - 1];

		if (f->known && !bound_may_match(b, f))
			return false;
	}
	return true;
}
