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
#include "access/parallel.h"
#include "access/table.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "telem_fdw.h"

PG_MODULE_MAGIC;

int			telem_default_max_line_size = 64 * 1024 * 1024;
bool		telem_enable_pruning = true;
int			telem_objects_in_flight = 4;

/* What planning learns about a table, from GetForeignRelSize on. */
typedef struct TelemPlanInfo
{
	TelemPrunePlan *prune;
} TelemPlanInfo;

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
static bool telemIsForeignScanParallelSafe(PlannerInfo *root, RelOptInfo *rel,
										   RangeTblEntry *rte);
static Size telemEstimateDSMForeignScan(ForeignScanState *node,
										ParallelContext *pcxt);
static void telemInitializeDSMForeignScan(ForeignScanState *node,
										  ParallelContext *pcxt,
										  void *coordinate);
static void telemReInitializeDSMForeignScan(ForeignScanState *node,
											ParallelContext *pcxt,
											void *coordinate);
static void telemInitializeWorkerForeignScan(ForeignScanState *node,
											 shm_toc *toc, void *coordinate);
static void telemShutdownForeignScan(ForeignScanState *node);
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
	DefineCustomBoolVariable("telem_fdw.enable_pruning",
							 "Skips prefixes and objects that quals on partition and metadata columns rule out.",
							 "Off lists and opens every object of the location, as a check or a benchmark.",
							 &telem_enable_pruning,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("telem_fdw.plan_sample",
							 "Estimates rows from a bounded sample of the location at plan time.",
							 "At most two listing pages and 1 MB of one object; off assumes 100,000 rows.",
							 &telem_plan_sample,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("telem_fdw.plan_sample_ttl",
							"How long a table's planning sample is reused, in this backend.",
							"0 samples at every planning.",
							&telem_plan_sample_ttl,
							60, 0, 86400,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("telem_fdw.split_size",
							"Objects larger than this are split into byte ranges for parallel workers.",
							"Uncompressed JSON lines only; each split resyncs at the next newline.",
							&telem_split_size_mb,
							64, 1, 1024 * 1024,
							PGC_USERSET, GUC_UNIT_MB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("telem_fdw.objects_in_flight",
							"Objects a scan downloads at once, the one being decoded included.",
							"1 reads one object after the other, with no prefetch.",
							&telem_objects_in_flight,
							4, 1, 64,
							PGC_USERSET, 0,
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
	routine->IsForeignScanParallelSafe = telemIsForeignScanParallelSafe;
	routine->EstimateDSMForeignScan = telemEstimateDSMForeignScan;
	routine->InitializeDSMForeignScan = telemInitializeDSMForeignScan;
	routine->ReInitializeDSMForeignScan = telemReInitializeDSMForeignScan;
	routine->InitializeWorkerForeignScan = telemInitializeWorkerForeignScan;
	routine->ShutdownForeignScan = telemShutdownForeignScan;

	PG_RETURN_POINTER(routine);
}

static void
telemGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel,
					   Oid foreigntableid)
{
	TelemPlanInfo *info = palloc0(sizeof(TelemPlanInfo));
	int			nrestricted;

	/* only Parquet row groups have statistics to test record fields on */
	info->prune = TelemClassifyQuals(baserel, foreigntableid,
									 TelemGetOptions(foreigntableid)->format == FORMAT_PARQUET);
	baserel->fdw_private = info;
	TelemEstimateRelSize(root, baserel, foreigntableid, info->prune,
						 TelemRestrictedObjects(foreigntableid, &nrestricted) != NULL);
}

static void
telemGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel,
					 Oid foreigntableid)
{
	Cost		startup_cost = 10.0;
	Cost		total_cost;
	double		tuples = baserel->tuples;

	(void) foreigntableid;
	/* decoding a row of text costs about as much as COPY does */
	total_cost = startup_cost + tuples * (cpu_tuple_cost * 10 +
										  baserel->baserestrictcost.per_tuple);
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, total_cost,
									 NIL, NULL, NULL, NIL));

	/*
	 * A partial path: participants claim objects (and splits of large
	 * ones) from a shared queue, so the work divides as a parallel seq
	 * scan's does.
	 */
	if (baserel->consider_parallel && max_parallel_workers_per_gather > 0)
	{
		int			workers = max_parallel_workers_per_gather;
		double		divisor = workers;
		ForeignPath *path;

		if (parallel_leader_participation && 1.0 - 0.3 * workers > 0)
			divisor += 1.0 - 0.3 * workers;
		path = create_foreignscan_path(root, baserel, NULL,
									   clamp_row_est(baserel->rows / divisor),
									   startup_cost,
									   startup_cost + (total_cost - startup_cost) / divisor,
									   NIL, NULL, NULL, NIL);
		path->path.parallel_aware = true;
		path->path.parallel_safe = true;
		path->path.parallel_workers = workers;
		add_partial_path(baserel, (Path *) path);
	}
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
	TelemPlanInfo *info = (TelemPlanInfo *) baserel->fdw_private;
	List	   *fdw_exprs = NIL;
	List	   *prune_private;

	(void) root;
	(void) best_path;

	prune_private = TelemPrunePlanToPrivate(info->prune, foreigntableid,
											baserel->relid, &fdw_exprs);
	scan_clauses = extract_actual_clauses(scan_clauses, false);
	return make_foreignscan(tlist, scan_clauses, baserel->relid,
							fdw_exprs,
							list_make2(needed_columns(baserel), prune_private),
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
	List	   *prune_private;
	ListCell   *lc;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	foreach(lc, (List *) linitial(fsplan->fdw_private))
		needed = bms_add_member(needed, lfirst_int(lc));

	node->fdw_state = TelemBeginScan(node->ss.ss_currentRelation,
									 scan_user(node), needed,
									 node->ss.ps.state->es_query_cxt);
	prune_private = (List *) lsecond(fsplan->fdw_private);
	/* bounds with expressions, or null tests for statistics */
	if (fsplan->fdw_exprs != NIL || list_nth(prune_private, 4) != NIL)
		TelemScanSetPruning((TelemScan *) node->fdw_state, &node->ss.ps,
							fsplan->fdw_exprs, prune_private);
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

static bool
telemIsForeignScanParallelSafe(PlannerInfo *root, RelOptInfo *rel,
							   RangeTblEntry *rte)
{
	(void) root;
	(void) rel;
	return TelemParallelSafe(rte->relid);
}

static Size
telemEstimateDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt)
{
	(void) pcxt;
	return TelemParallelEstimate((TelemScan *) node->fdw_state);
}

static void
telemInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
							  void *coordinate)
{
	(void) pcxt;
	TelemParallelInitialize((TelemScan *) node->fdw_state, coordinate);
}

static void
telemReInitializeDSMForeignScan(ForeignScanState *node, ParallelContext *pcxt,
								void *coordinate)
{
	(void) pcxt;
	TelemParallelReinitialize((TelemScan *) node->fdw_state, coordinate);
}

static void
telemInitializeWorkerForeignScan(ForeignScanState *node, shm_toc *toc,
								 void *coordinate)
{
	(void) toc;
	TelemParallelAttach((TelemScan *) node->fdw_state, coordinate);
}

static void
telemShutdownForeignScan(ForeignScanState *node)
{
	if (node->fdw_state)
		TelemParallelShutdown((TelemScan *) node->fdw_state);
}

static void
telemExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	TelemOptions *opts;
	TelemScan  *scan = (TelemScan *) node->fdw_state;
	ForeignScan *fsplan = (ForeignScan *) node->ss.ps.plan;
	const char *quals = TelemPruneQualText((List *) lsecond(fsplan->fdw_private));

	opts = scan ? scan->opts :
		TelemGetOptions(RelationGetRelid(node->ss.ss_currentRelation));

	/* the location and format only: never credentials */
	ExplainPropertyText("Telem Location", opts->location, es);
	ExplainPropertyText("Telem Format",
						opts->format == FORMAT_JSONL ? "jsonl" :
						opts->format == FORMAT_CSV ? "csv" :
						opts->format == FORMAT_PARQUET ? "parquet" : "text", es);
	if (opts->format != FORMAT_PARQUET)
		ExplainPropertyText("Telem Compression", CodecName(opts->compression), es);
	if (opts->glob != NULL)
		ExplainPropertyText("Telem Glob", TelemObjectUrl(opts, opts->glob), es);
	if (quals != NULL)
		ExplainPropertyText("Telem Pruning Quals", quals, es);

	/* before a run, where listing starts; after one, what was listed */
	if (es->analyze && scan)
		ExplainPropertyList("Telem Prefixes", TelemListingPrefixes(scan), es);
	else
		ExplainPropertyList("Telem Prefixes",
							list_make1(TelemObjectUrl(opts, opts->prefix)), es);

	if (es->analyze && scan)
	{
		ExplainPropertyInteger("Telem Listing Pages", NULL, scan->pages_listed, es);
		ExplainPropertyInteger("Telem Objects Listed", NULL, scan->objects_listed, es);
		ExplainPropertyInteger("Telem Objects Pruned", NULL, scan->objects_pruned, es);
		if (scan->prefixes_pruned > 0)
			ExplainPropertyInteger("Telem Prefixes Pruned", NULL, scan->prefixes_pruned, es);
		if (scan->keys_looked_up > 0)
			ExplainPropertyInteger("Telem Keys Looked Up", NULL, scan->keys_looked_up, es);
		ExplainPropertyInteger("Telem Objects Read", NULL, scan->objects_read, es);
		if (es->costs)
			ExplainPropertyInteger("Telem Bytes Read", "bytes", scan->bytes_read, es);
		if (scan->opts->format == FORMAT_PARQUET)
		{
			ExplainPropertyInteger("Telem Row Groups Read", NULL,
								   scan->row_groups_read, es);
			ExplainPropertyInteger("Telem Row Groups Skipped", NULL,
								   scan->row_groups_skipped, es);
		}
		if (scan->resumes > 0)
			ExplainPropertyInteger("Telem Resumes", NULL, scan->resumes, es);
		if (opts->provider != PROVIDER_FILE && scan->store != NULL)
		{
			TelemStoreStats *st = &scan->store->stats;

			ExplainPropertyInteger("Telem Requests", NULL,
								   st->requests + scan->worker_stats.requests, es);
			if (st->retries + scan->worker_stats.retries > 0)
				ExplainPropertyInteger("Telem Retries", NULL,
									   st->retries + scan->worker_stats.retries, es);
			if (es->timing)
				ExplainPropertyFloat("Telem Network Wait", "ms",
									 (st->wait_us + scan->worker_stats.wait_us) / 1000.0,
									 3, es);
		}
	}
}
