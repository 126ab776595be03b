/*-------------------------------------------------------------------------
 *
 * object_set.c
 *		What the loader sees of a source: its listing, and a restriction of
 *		its scans to a chosen set of object versions.
 *
 * telem.list_objects(source) lists a telem_fdw table's objects.  During a
 * pipeline run, telem.restrict_scan(source, keys, etags, sizes, modified)
 * makes every scan of that table in this backend read exactly those object
 * versions (and skip the listing), so the transform view, however it is
 * written, sees only the increment.  The restriction lasts until
 * telem.clear_restrictions() or the end of the transaction, whichever comes
 * first, so an aborted run never leaves one behind.
 *
 * IDENTIFICATION
 *		src/loader/object_set.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_type.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/acl.h"
#include "utils/timestamp.h"

#include "../telem_fdw.h"

/* One restricted table: the objects its scans read, in key order. */
typedef struct Restriction
{
	Oid			relid;
	int			nobjects;
	TelemObject *objects;
	int64	   *rows;			/* records read per object, by any scan */
	int64	   *bytes;			/* bytes fetched per object */
} Restriction;

/* Restrictions of this transaction, in TopTransactionContext. */
static List *restrictions = NIL;
static bool xact_callback_registered = false;

static void
forget_restrictions(XactEvent event, void *arg)
{
	(void) arg;
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		restrictions = NIL;		/* the memory goes with the transaction */
}

/*
 * TelemRestrictedObjects
 *		The objects scans of relid must read, or NULL when unrestricted.
 */
const TelemObject *
TelemRestrictedObjects(Oid relid, int *nobjects)
{
	ListCell   *lc;

	foreach(lc, restrictions)
	{
		Restriction *r = (Restriction *) lfirst(lc);

		if (r->relid == relid)
		{
			*nobjects = r->nobjects;
			return r->objects;
		}
	}
	return NULL;
}

/*
 * TelemRecordObjectRead
 *		A scan of relid finished reading the object 'key': remember how many
 *		records and bytes it had.  When a transform scans the source more
 *		than once, the largest count is kept, so each object counts once.
 */
void
TelemRecordObjectRead(Oid relid, const char *key, int64 rows, int64 bytes)
{
	ListCell   *lc;

	foreach(lc, restrictions)
	{
		Restriction *r = (Restriction *) lfirst(lc);
		int			i;

		if (r->relid != relid)
			continue;
		for (i = 0; i < r->nobjects; i++)
		{
			if (strcmp(r->objects[i].key, key) == 0)
			{
				r->rows[i] = Max(r->rows[i], rows);
				r->bytes[i] = Max(r->bytes[i], bytes);
				return;
			}
		}
	}
}

/* Check that relid is a telem_fdw foreign table the user may read. */
static void
check_source(Oid relid)
{
	ForeignTable *ft;
	ForeignServer *server;
	ForeignDataWrapper *fdw;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", get_rel_name(relid))));
	ft = GetForeignTable(relid);
	server = GetForeignServer(ft->serverid);
	fdw = GetForeignDataWrapper(server->fdwid);
	if (strcmp(fdw->fdwname, "telem_fdw") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a telem_fdw foreign table",
						get_rel_name(relid))));
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for foreign table %s",
						get_rel_name(relid))));
}

/* Release the store and page of a listing, on any exit. */
typedef struct ListingState
{
	TelemStore *store;
	TelemObjectPage page;
} ListingState;

static void
release_listing(void *arg)
{
	ListingState *ls = (ListingState *) arg;

	TelemObjectPageFree(&ls->page);
	if (ls->store)
		ls->store->ops->destroy(ls->store);
	ls->store = NULL;
}

/*
 * Set up a materialized set-returning call (InitMaterializedSRF exists only
 * from PostgreSQL 15 on).
 */
static void
begin_materialized_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	MemoryContextSwitchTo(old);
}

/*
 * telem.list_objects(source regclass, start_after text DEFAULT NULL)
 *		RETURNS TABLE (key text, size bigint, etag text, last_modified timestamptz)
 *
 * Every object under the table's location (after start_after, when given),
 * in key order, as the store lists them ("folder" placeholders left out, as
 * scans do).
 */
PG_FUNCTION_INFO_V1(telem_list_objects);

Datum
telem_list_objects(PG_FUNCTION_ARGS)
{
	char	   *start_after = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("source must not be null")));
	check_source(PG_GETARG_OID(0));
	TelemMaterializeListing(fcinfo, TelemGetOptions(PG_GETARG_OID(0)),
							start_after);
	return (Datum) 0;
}

/*
 * TelemMaterializeListing
 *		Return every object under opts' location (after start_after, when
 *		given) from a set-returning function with the result columns (key
 *		text, size bigint, etag text, last_modified timestamptz), in key
 *		order, "folder" placeholders left out as scans do.
 */
void
TelemMaterializeListing(FunctionCallInfo fcinfo, TelemOptions *opts,
						const char *start_after)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListingState *ls;
	MemoryContextCallback *cb;
	char	   *token = NULL;

	begin_materialized_srf(fcinfo);

	ls = palloc0(sizeof(ListingState));
	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = release_listing;
	cb->arg = ls;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);
	ls->store = TelemOpenStore(opts, GetUserId());

	for (;;)
	{
		TelemError	err;
		int			i;

		CHECK_FOR_INTERRUPTS();
		memset(&err, 0, sizeof(err));
		TelemObjectPageFree(&ls->page);
		if (!ls->store->ops->list_page(ls->store, opts->prefix, start_after,
									   token, &ls->page, &err))
			TelemReportStoreError(&err, "list", TelemObjectUrl(opts, opts->prefix));

		for (i = 0; i < ls->page.nobjects; i++)
		{
			TelemObject *o = &ls->page.objects[i];
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};
			size_t		klen = strlen(o->key);

			if (klen > 0 && o->key[klen - 1] == '/')
				continue;
			values[0] = CStringGetTextDatum(o->key);
			values[1] = Int64GetDatum(o->size);
			if (o->etag)
				values[2] = CStringGetTextDatum(o->etag);
			else
				nulls[2] = true;
			values[3] = TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) o->last_modified));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		if (ls->page.next_token == NULL)
			break;
		token = pstrdup(ls->page.next_token);
	}
	release_listing(ls);
}

/* Deconstruct a one-dimensional array argument into datums and nulls. */
static int
array_arg(ArrayType *a, Oid elemtype, Datum **values, bool **nulls)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			n;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("arrays must be one-dimensional")));
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(a, elemtype, typlen, typbyval, typalign, values, nulls, &n);
	return n;
}

/*
 * telem.restrict_scan(source regclass, keys text[], etags text[],
 *                     sizes bigint[], modified timestamptz[])
 *
 * Until the end of the transaction, scans of source read exactly these
 * object versions.  An empty set makes the table read nothing.  The etags
 * are checked on S3 reads (If-Match), so an object replaced since it was
 * listed fails the scan instead of loading a version nobody planned.
 */
PG_FUNCTION_INFO_V1(telem_restrict_scan);

Datum
telem_restrict_scan(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Datum	   *keys,
			   *etags,
			   *sizes,
			   *mods;
	bool	   *knull,
			   *enull,
			   *snull,
			   *mnull;
	int			n;
	int			i;
	MemoryContext old;
	Restriction *r;
	ListCell   *lc;

	check_source(relid);
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("object arrays must not be null")));
	n = array_arg(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, &keys, &knull);
	if (array_arg(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, &etags, &enull) != n ||
		array_arg(PG_GETARG_ARRAYTYPE_P(3), INT8OID, &sizes, &snull) != n ||
		array_arg(PG_GETARG_ARRAYTYPE_P(4), TIMESTAMPTZOID, &mods, &mnull) != n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("object arrays must have the same length")));

	if (!xact_callback_registered)
	{
		RegisterXactCallback(forget_restrictions, NULL);
		xact_callback_registered = true;
	}

	old = MemoryContextSwitchTo(TopTransactionContext);
	foreach(lc, restrictions)
	{
		if (((Restriction *) lfirst(lc))->relid == relid)
		{
			restrictions = foreach_delete_current(restrictions, lc);
			break;
		}
	}
	r = palloc0(sizeof(Restriction));
	r->relid = relid;
	r->nobjects = n;
	r->objects = palloc0(sizeof(TelemObject) * Max(n, 1));
	r->rows = palloc0(sizeof(int64) * Max(n, 1));
	r->bytes = palloc0(sizeof(int64) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		TelemObject *o = &r->objects[i];

		if (knull[i] || snull[i] || mnull[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("object key, size and last_modified must not be null")));
		o->key = TextDatumGetCString(keys[i]);
		o->etag = enull[i] ? NULL : TextDatumGetCString(etags[i]);
		o->size = DatumGetInt64(sizes[i]);
		o->last_modified = (int64) timestamptz_to_time_t(DatumGetTimestampTz(mods[i]));
	}
	restrictions = lappend(restrictions, r);
	MemoryContextSwitchTo(old);
	PG_RETURN_VOID();
}

/*
 * telem.clear_restrictions()
 *		Scans read whole listings again.
 */
PG_FUNCTION_INFO_V1(telem_clear_restrictions);

Datum
telem_clear_restrictions(PG_FUNCTION_ARGS)
{
	(void) fcinfo;
	restrictions = NIL;
	PG_RETURN_VOID();
}

/*
 * telem.restricted_counts(source regclass)
 *		RETURNS TABLE (key text, rows bigint, bytes bigint)
 *
 * What scans in this transaction read of each restricted object so far
 * (0 for an object no scan has finished).
 */
PG_FUNCTION_INFO_V1(telem_restricted_counts);

Datum
telem_restricted_counts(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ListCell   *lc;

	begin_materialized_srf(fcinfo);
	foreach(lc, restrictions)
	{
		Restriction *r = (Restriction *) lfirst(lc);
		int			i;

		if (r->relid != relid)
			continue;
		for (i = 0; i < r->nobjects; i++)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			values[0] = CStringGetTextDatum(r->objects[i].key);
			values[1] = Int64GetDatum(r->rows[i]);
			values[2] = Int64GetDatum(r->bytes[i]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
