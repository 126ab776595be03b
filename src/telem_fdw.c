/*-------------------------------------------------------------------------
 *
 * telem_fdw.c
 *		Foreign-data wrapper callbacks: planning, scanning, EXPLAIN.
 *
 * The callbacks are thin: planning asks only for the columns a query
 * uses, and execution hands off to scan.c.
 *
 * IDENTIFICATION
 *		src/telem_fdw.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "telem_fdw.h"

PG_MODULE_MAGIC;

/* Rows assumed for a table never analyzed; listing at plan time costs. */
#define DEFAULT_ROWS_ESTIMATE	100000

int			telem_default_max_line_size = 64 * 1024 * 1024;

void		_PG_init(void);

PG_FUNCTION_INFO_V1(telem_fdw_handler);

static void telemGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
								   Oid foreigntableid);
static void telemGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid);
static ForeignScan *telemGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
										Oid foreigntableid, ForeignPath *best_path,
										List *tlist, List *scan_clauses,
										Plan *outer_plan);
static void telemBeginForeignScan(ForeignScanState *node, int eflags);
static TupleTableSlot *telemIterateForeignScan(ForeignScanState *node);
static void telemReScanForeignScan(ForeignScanState *node);
static void telemEndForeignScan(ForeignScanState *node);
static void telemExplainForeignScan(ForeignScanState *node, ExplainState *es);
static bool check_endpoint_url(char **newval, void **extra, GucSource source);

/* A token endpoint setting is empty or an http(s) URL. */
static bool
check_endpoint_url(char **newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (*newval == NULL || (*newval)[0] == '\0' ||
		strncmp(*newval, "http://", 7) == 0 ||
		strncmp(*newval, "https://", 8) == 0)
		return true;
	GUC_check_errdetail("The value must be a URL starting with http:// or https://.");
	return false;
}

void
_PG_init(void)
{
	DefineCustomIntVariable("telem_fdw.max_line_size",
							"Default longest line a JSON-lines object may have.",
							"A table's max_line_size option overrides it.",
							&telem_default_max_line_size,
							64 * 1024 * 1024, 1024, MaxAllocSize / 2,
							PGC_USERSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);
	DefineCustomStringVariable("telem_fdw.azure_authority_host",
							   "Base URL of the Entra ID token endpoint for client credentials.",
							   "Empty means Azure's public cloud (https://login.microsoftonline.com).",
							   &telem_azure_authority_host,
							   NULL,
							   PGC_SUSET, 0,
							   check_endpoint_url, NULL, NULL);
	DefineCustomStringVariable("telem_fdw.azure_imds_endpoint",
							   "Base URL of the Azure instance metadata service, for managed identities.",
							   "Empty means the well-known address http://169.254.169.254.",
							   &telem_azure_imds_endpoint,
							   NULL,
							   PGC_SUSET, 0,
							   check_endpoint_url, NULL, NULL);
	DefineCustomStringVariable("telem_fdw.pause_at",
							   "Test only: the loader pause point where runs wait.",
							   "Tests set it to kill a run at a known point; see src/loader/pause_point.c.",
							   &telem_pause_at,
							   NULL,
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("telem_fdw.pause_seconds",
							"Test only: how long a pause point waits.",
							NULL,
							&telem_pause_seconds,
							60, 0, 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("telem_fdw");
#else
	EmitWarningsOnPlaceholders("telem_fdw");
#endif

	telem_interrupt_hook = TelemInterruptHook;
}

Datum
telem_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = telemGetForeignRelSize;
	routine->GetForeignPaths = telemGetForeignPaths;
	routine->GetForeignPlan = telemGetForeignPlan;
	routine->BeginForeignScan = telemBeginForeignScan;
	routine->IterateForeignScan = telemIterateForeignScan;
	routine->ReScanForeignScan = telemReScanForeignScan;
	routine->EndForeignScan = telemEndForeignScan;
	routine->ExplainForeignScan = telemExplainForeignScan;
	routine->ImportForeignSchema = telemImportForeignSchema;

	PG_RETURN_POINTER(routine);
}

static void
telemGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					   Oid foreigntableid)
{
	double		tuples;

	(void) foreigntableid;
	tuples = baserel->tuples > 0 ? baserel->tuples : DEFAULT_ROWS_ESTIMATE;
	baserel->rows = clamp_row_est(tuples *
								  clauselist_selectivity(root,
														 baserel->baserestrictinfo,
														 0, JOIN_INNER, NULL));
}

static void
telemGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	Cost		startup_cost = 10.0;
	Cost		total_cost;
	double		tuples = baserel->tuples > 0 ? baserel->tuples : DEFAULT_ROWS_ESTIMATE;

	(void) foreigntableid;
	/* decoding a row of text costs about as much as COPY does */
	total_cost = startup_cost + tuples * (cpu_tuple_cost * 10 +
										  baserel->baserestrictcost.per_tuple);
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, total_cost,
									 NIL, NULL, NULL, NIL));
}

/*
 * The attnums a scan must fill, as a list for fdw_private: those in the
 * target list and in the local quals.  A whole-row reference needs all.
 */
static List *
needed_columns(RelOptInfo *baserel)
{
	Bitmapset  *attrs = NULL;
	ListCell   *lc;
	List	   *result = NIL;
	int			k = -1;

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &attrs);
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);

		pull_varattnos((Node *) rinfo->clause, baserel->relid, &attrs);
	}
	while ((k = bms_next_member(attrs, k)) >= 0)
		result = lappend_int(result, k);
	return result;
}

static ForeignScan *
telemGetForeignPlan(PlannerInfo *root, RelOptInfo *baserel,
					Oid foreigntableid, ForeignPath *best_path,
					List *tlist, List *scan_clauses, Plan *outer_plan)
{
	(void) root;
	(void) foreigntableid;
	(void) best_path;

	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							NIL, list_make1(needed_columns(baserel)),
							NIL, NIL, outer_plan);
}

/* The role whose user mapping a scan uses, as permission checks do. */
static Oid
scan_user(ForeignScanState *node)
{
#if PG_VERSION_NUM >= 160000
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;

	return OidIsValid(fsplan->checkAsUser) ? fsplan->checkAsUser : GetUserId();
#else
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	RangeTblEntry *rte = exec_rt_fetch(fsplan->scan.scanrelid,
									   node->ss.ps.state);

	return OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
#endif
}

static void
telemBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	Bitmapset  *needed = NULL;
	ListCell   *lc;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	foreach(lc, (List *) linitial(fsplan->fdw_private))
		needed = bms_add_member(needed, lfirst_int(lc));

	node->fdw_state = TelemBeginScan(node->ss.ss_currentRelation,
									 scan_user(node), needed,
									 node->ss.ps.state->es_query_cxt);
}

static TupleTableSlot *
telemIterateForeignScan(ForeignScanState *node)
{
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	TelemNextRow((TelemScan *) node->fdw_state, slot);
	return slot;
}

static void
telemReScanForeignScan(ForeignScanState *node)
{
	TelemRescan((TelemScan *) node->fdw_state);
}

static void
telemEndForeignScan(ForeignScanState *node)
{
	if (node->fdw_state)
		TelemEndScan((TelemScan *) node->fdw_state);
	node->fdw_state = NULL;
}

static void
telemExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	TelemOptions *opts;
	TelemScan  *scan = (TelemScan *) node->fdw_state;

	opts = scan ? scan->opts :
		TelemGetOptions(RelationGetRelid(node->ss.ss_currentRelation));

	/* the location and format only: never credentials */
	ExplainPropertyText("Telem Location", opts->location, es);
	ExplainPropertyText("Telem Format",
						opts->format == FORMAT_JSONL ? "jsonl" :
						opts->format == FORMAT_CSV ? "csv" : "text", es);
	ExplainPropertyText("Telem Compression", CodecName(opts->compression), es);

	if (es->analyze && scan)
	{
		ExplainPropertyInteger("Telem Listing Pages", NULL, scan->pages_listed, es);
		ExplainPropertyInteger("Telem Objects Listed", NULL, scan->objects_listed, es);
		ExplainPropertyInteger("Telem Objects Read", NULL, scan->objects_read, es);
		if (es->costs)
			ExplainPropertyInteger("Telem Bytes Read", "bytes", scan->bytes_read, es);
		if (scan->resumes > 0)
			ExplainPropertyInteger("Telem Resumes", NULL, scan->resumes, es);
	}
}
