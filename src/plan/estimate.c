/*-------------------------------------------------------------------------
 *
 * estimate.c
 *		Row estimates from a bounded sample of the location: a listing of
 *		at most a few pages and the first bytes of one object.
 *
 * rows = bytes under the location × rows per stored byte, the latter
 * measured on the head of one object (decompressed through its codec, so
 * compression is accounted for).  The selectivity of quals on partition and
 * metadata columns comes from the sampled listing itself: the share of
 * sampled bytes in objects whose key, size and partition values pass the
 * bounds.  Planning never lists more than SAMPLE_PAGES pages nor reads
 * more than SAMPLE_BYTES of an object, and a table's sample is kept for
 * telem_fdw.plan_sample_ttl seconds in backend memory.  Any failure
 * (no credentials yet, a store that is down) falls back to a fixed guess,
 * so that planning, and EXPLAIN, never fail for the sample's sake.
 *
 * IDENTIFICATION
 *		src/plan/estimate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "plan/key_glob.h"
#include "format/parquet/parquet_pg.h"
#include "telem_fdw.h"

/* Listing pages a sample reads at most. */
#define SAMPLE_PAGES		2
/* Decompressed bytes read from the sampled object at most. */
#define SAMPLE_BYTES		(1024 * 1024)
/* An unfinished listing is taken to be this many times what was seen. */
#define SAMPLE_EXTRAPOLATE	10.0
/* Rows assumed when there is no sample. */
#define DEFAULT_ROWS		100000.0

bool		telem_plan_sample = true;
int			telem_plan_sample_ttl = 60;

typedef struct SampleObject
{
	char	   *key;
	int64		size;
	char	   *etag;
	int64		last_modified;
} SampleObject;

typedef struct TableSample
{
	Oid			relid;			/* hash key */
	MemoryContext cxt;			/* holds the rest; NULL: no sample */
	char	   *location;		/* sampled under these options */
	TimestampTz taken;
	SampleObject *objects;
	int			nobjects;
	bool		complete;		/* the listing ended within the sample */
	double		bytes;			/* sum of listed sizes */
	double		rows_per_byte;	/* measured on one object; 0 unknown */
} TableSample;

static HTAB *samples = NULL;

/* Handles the sample opens, freed when its context goes. */
typedef struct SampleHandles
{
	TelemStore *store;
	TelemReader *reader;
	TelemCodec *codec;
	TelemObjectPage page;
	int64		read;
} SampleHandles;

static void
release_sample_handles(void *arg)
{
	SampleHandles *h = (SampleHandles *) arg;

	if (h->codec)
		CodecClose(h->codec);
	if (h->reader)
		h->store->ops->close(h->reader);
	TelemObjectPageFree(&h->page);
	if (h->store)
		h->store->ops->destroy(h->store);
	memset(h, 0, sizeof(*h));
}

static ssize_t
sample_read(void *ctx, void *buf, size_t len, TelemError *err)
{
	SampleHandles *h = (SampleHandles *) ctx;

	return h->store->ops->read(h->reader, buf, len, err);
}

/* Does a csv/text table skip a header line in each object? */
static bool
has_header(TelemOptions *opts)
{
	ListCell   *lc;

	foreach(lc, opts->copy_options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		char	   *v;

		if (strcmp(def->defname, OPT_HEADER) != 0)
			continue;
		v = defGetString(def);
		return !(pg_strcasecmp(v, "false") == 0 || pg_strcasecmp(v, "off") == 0 ||
				 strcmp(v, "0") == 0);
	}
	return false;
}

/* Rows per stored byte of a Parquet object: its footer says. */
static double
measure_parquet(SampleHandles *h, TelemOptions *opts, TelemObject *obj)
{
	int64		bytes = 0;
	uint8	   *tail;
	int64		tail_start;
	PqFile	   *file;

	file = TelemPqReadFooter(h->store, obj, TelemObjectUrl(opts, obj->key),
							 &bytes, &tail, &tail_start);
	return obj->size > 0 ? (double) file->num_rows / (double) obj->size : 0;
}

/* Rows per stored byte of obj, from its first SAMPLE_BYTES; 0 if unknown. */
static double
measure_object(SampleHandles *h, TelemOptions *opts, TelemObject *obj)
{
	TelemError	err;
	char	   *buf = palloc(64 * 1024);
	int64		out = 0;
	int64		lines = 0;
	bool		eof = false;
	ssize_t		n;
	int64		consumed;

	if (opts->format == FORMAT_PARQUET)
		return measure_parquet(h, opts, obj);
	memset(&err, 0, sizeof(err));
	h->reader = h->store->ops->open(h->store, obj, 0, &err);
	if (h->reader == NULL)
		TelemReportStoreError(&err, "open", TelemObjectUrl(opts, obj->key));
	h->codec = CodecOpen(opts->compression, obj->key, sample_read, h, &err);
	if (h->codec == NULL)
		TelemReportStoreError(&err, "decompress", TelemObjectUrl(opts, obj->key));
	while (out < SAMPLE_BYTES)
	{
		int			i;

		CHECK_FOR_INTERRUPTS();
		n = CodecRead(h->codec, buf, 64 * 1024, &err);
		if (n < 0)
			TelemReportStoreError(&err, "read", TelemObjectUrl(opts, obj->key));
		if (n == 0)
		{
			eof = true;
			break;
		}
		for (i = 0; i < n; i++)
			lines += (buf[i] == '\n');
		out += n;
	}
	consumed = eof ? obj->size : CodecInputOffset(h->codec);
	CodecClose(h->codec);
	h->codec = NULL;
	h->store->ops->close(h->reader);
	h->reader = NULL;

	/* a last line without its newline */
	if (eof && out > 0 && buf[(n > 0 ? n : 1) - 1] != '\n')
		lines++;
	if (opts->format != FORMAT_JSONL && lines > 0 && has_header(opts))
		lines--;
	if (consumed <= 0 || lines <= 0)
		return 0;
	return (double) lines / (double) consumed;
}

/* List and measure: fill s from the store, as the current user. */
static void
take_sample(TableSample *s, TelemOptions *opts)
{
	MemoryContext keep = CurrentMemoryContext;
	MemoryContext work = AllocSetContextCreate(keep, "telem_fdw sampling",
											   ALLOCSET_DEFAULT_SIZES);
	SampleHandles *h;
	MemoryContextCallback *cb;
	char	   *token = NULL;
	int			pages = 0;
	int			cap = 0;
	int			i;

	/* handles live in work, which goes at the end (or with keep, on error) */
	h = MemoryContextAllocZero(work, sizeof(SampleHandles));
	cb = MemoryContextAllocZero(work, sizeof(MemoryContextCallback));
	cb->func = release_sample_handles;
	cb->arg = h;
	MemoryContextRegisterResetCallback(work, cb);

	h->store = TelemOpenStore(opts, GetUserId());
	s->complete = false;
	while (pages < SAMPLE_PAGES)
	{
		TelemError	err;

		memset(&err, 0, sizeof(err));
		TelemObjectPageFree(&h->page);
		if (!h->store->ops->list_page(h->store, opts->prefix, NULL, token,
									  &h->page, &err))
			TelemReportStoreError(&err, "list", TelemObjectUrl(opts, opts->prefix));
		pages++;
		for (i = 0; i < h->page.nobjects; i++)
		{
			TelemObject *o = &h->page.objects[i];
			SampleObject *so;

			if (opts->glob != NULL && KeyGlobMatch(opts->glob, o->key) != KEY_GLOB_MATCH)
				continue;
			if (s->nobjects == cap)
			{
				cap = Max(cap * 2, 64);
				s->objects = s->objects ?
					repalloc(s->objects, sizeof(SampleObject) * cap) :
					palloc(sizeof(SampleObject) * cap);
			}
			so = &s->objects[s->nobjects++];
			so->key = pstrdup(o->key);
			so->size = o->size;
			so->etag = o->etag ? pstrdup(o->etag) : NULL;
			so->last_modified = o->last_modified;
			s->bytes += o->size;
		}
		token = h->page.next_token ? pstrdup(h->page.next_token) : NULL;
		if (token == NULL)
		{
			s->complete = true;
			break;
		}
	}
	TelemObjectPageFree(&h->page);

	/* the first object that holds anything */
	for (i = 0; i < s->nobjects; i++)
	{
		TelemObject obj;
		size_t		klen = strlen(s->objects[i].key);

		if (s->objects[i].size == 0 || (klen > 0 && s->objects[i].key[klen - 1] == '/'))
			continue;
		obj.key = s->objects[i].key;
		obj.size = s->objects[i].size;
		obj.etag = s->objects[i].etag;
		obj.last_modified = s->objects[i].last_modified;
		MemoryContextSwitchTo(work);
		s->rows_per_byte = measure_object(h, opts, &obj);
		MemoryContextSwitchTo(keep);
		break;
	}
	MemoryContextDelete(work);
}

/* The table's sample, fresh enough; NULL when there is none to be had. */
static TableSample *
table_sample(Oid relid, TelemOptions *opts)
{
	TableSample *s;
	bool		found;
	MemoryContext cxt;
	MemoryContext old;
	TimestampTz now = GetCurrentTimestamp();

	if (samples == NULL)
	{
		HASHCTL		ctl;

		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TableSample);
		samples = hash_create("telem_fdw table samples", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS);
	}
	s = hash_search(samples, &relid, HASH_ENTER, &found);
	if (found && s->cxt != NULL && telem_plan_sample_ttl > 0 &&
		strcmp(s->location, opts->location) == 0 &&
		!TimestampDifferenceExceeds(s->taken, now, telem_plan_sample_ttl * 1000))
		return s;
	if (found && s->cxt != NULL)
		MemoryContextDelete(s->cxt);
	s->cxt = NULL;

	cxt = AllocSetContextCreate(CacheMemoryContext, "telem_fdw table sample",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		TableSample fresh;

		memset(&fresh, 0, sizeof(fresh));
		take_sample(&fresh, opts);
		fresh.relid = relid;
		fresh.location = pstrdup(opts->location);
		fresh.taken = now;
		fresh.cxt = cxt;
		*s = fresh;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(old);
		edata = CopyErrorData();
		/* a cancel must still cancel */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
			PG_RE_THROW();
		FlushErrorState();
		elog(DEBUG1, "telem_fdw: no sample for planning: %s", edata->message);
		FreeErrorData(edata);
		MemoryContextDelete(cxt);
		s->cxt = NULL;
		return NULL;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
	/* handles are released now; the sample's data stays */
	return s;
}

/* A column as TelemInputSafe needs it, for plan-time conversions. */
static void
plan_column(Oid relid, AttrNumber attnum, TelemColumn *col)
{
	Oid			infunc;
	Oid			coll;
	char	   *json_path;
	char	   *path;

	memset(col, 0, sizeof(*col));
	col->attnum = attnum;
	get_atttypetypmodcoll(relid, attnum, &col->typid, &col->typmod, &coll);
	getTypeInputInfo(col->typid, &infunc, &col->typioparam);
	fmgr_info(infunc, &col->infunc);
	TelemGetColumnOptions(relid, attnum, &col->kind, &json_path, &path,
						  &col->partition, &col->epoch);
}

/* The value column col has for object o, as text; NULL for SQL NULL. */
static char *
object_text(TelemColumn *col, SampleObject *o)
{
	char	   *text = NULL;
	bool		isnull;

	switch (col->kind)
	{
		case COLUMN_META_KEY:
			return o->key;
		case COLUMN_META_ETAG:
			return o->etag;
		case COLUMN_META_SIZE:
			return psprintf(INT64_FORMAT, o->size);
		case COLUMN_META_LAST_MODIFIED:
			return DatumGetCString(DirectFunctionCall1(timestamptz_out,
													   TimestampTzGetDatum(time_t_to_timestamptz((pg_time_t) o->last_modified))));
		case COLUMN_PARTITION:
			if (TelemPartitionValue(o->key, col->partition, &text, &isnull) && !isnull)
				return text;
			return NULL;
		default:
			return NULL;
	}
}

/* Does object o pass bound b, whose right side is the constant c? */
static bool
object_passes(TelemColumn *col, FmgrInfo *fn, TelemPruneBound *b, Const *c,
			  SampleObject *o)
{
	char	   *text = object_text(col, o);
	Datum		v;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	if (text == NULL || c->constisnull || !TelemInputSafe(col, text, &v))
		return false;
	if (!b->is_array)
		return DatumGetBool(FunctionCall2Coll(fn, b->collid, v, c->constvalue));
	{
		ArrayType  *arr = DatumGetArrayTypeP(c->constvalue);
		int16		elmlen;
		bool		elmbyval;
		char		elmalign;

		get_typlenbyvalalign(ARR_ELEMTYPE(arr), &elmlen, &elmbyval, &elmalign);
		deconstruct_array(arr, ARR_ELEMTYPE(arr), elmlen, elmbyval, elmalign,
						  &elems, &nulls, &n);
	}
	for (i = 0; i < n; i++)
	{
		bool		ok = !nulls[i] &&
			DatumGetBool(FunctionCall2Coll(fn, b->collid, v, elems[i]));

		if (ok && b->use_or)
			return true;
		if (!ok && !b->use_or)
			return false;
	}
	return !b->use_or;
}

/*
 * Share of the sample's bytes in objects that pass every bound whose
 * right side is known at plan time.  Bounds with Params count as 1.
 */
static double
bounds_selectivity(PlannerInfo *root, Oid relid, TelemPrunePlan *pp,
				   TableSample *s, List **used)
{
	double		passed = 0;
	double		total = 0;
	int			nb = list_length(pp->bounds);
	TelemColumn *cols = palloc0(sizeof(TelemColumn) * Max(nb, 1));
	FmgrInfo   *fns = palloc0(sizeof(FmgrInfo) * Max(nb, 1));
	Const	  **consts = palloc0(sizeof(Const *) * Max(nb, 1));
	ListCell   *lc;
	int			i;
	int			usable = 0;

	i = 0;
	foreach(lc, pp->bounds)
	{
		TelemPruneBound *b = (TelemPruneBound *) lfirst(lc);
		Node	   *c = estimate_expression_value(root, (Node *) b->rhs);

		if (IsA(c, Const))
		{
			*used = lappend(*used, b->clause);
			consts[i] = (Const *) c;
			plan_column(relid, b->attnum, &cols[i]);
			fmgr_info(get_opcode(b->opno), &fns[i]);
			usable++;
		}
		i++;
	}
	if (usable == 0)
		return 1.0;
	if (s->nobjects == 0)
		return 0.0;

	for (i = 0; i < s->nobjects; i++)
	{
		SampleObject *o = &s->objects[i];
		bool		ok = true;
		int			j = 0;

		foreach(lc, pp->bounds)
		{
			if (ok && consts[j] != NULL)
				ok = object_passes(&cols[j], &fns[j], lfirst(lc), consts[j], o);
			j++;
		}
		/* empty objects count as one byte, so that a sample of them still says something */
		total += Max(o->size, 1);
		if (ok)
			passed += Max(o->size, 1);
	}
	if (passed == 0)
		return s->complete ? 0.0 : 1.0 / (s->nobjects + 1);
	return passed / total;
}

/*
 * TelemEstimateRelSize
 *		Set baserel->tuples and baserel->rows from the table's sample.
 *		Quals that are not object quals get PostgreSQL's selectivities.
 */
void
TelemEstimateRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid relid,
					 TelemPrunePlan *pp, bool restricted)
{
	TelemOptions *opts = TelemGetOptions(relid);
	TableSample *s = NULL;
	double		tuples = DEFAULT_ROWS;
	double		objsel = 1.0;
	List	   *rest = NIL;
	List	   *used = NIL;
	ListCell   *lc;

	if (telem_plan_sample && !restricted)
		s = table_sample(relid, opts);
	if (s != NULL && s->rows_per_byte > 0)
	{
		tuples = s->bytes * s->rows_per_byte;
		if (!s->complete)
			tuples *= SAMPLE_EXTRAPOLATE;
	}
	else if (s != NULL && s->complete && s->bytes == 0)
		tuples = 0;
	if (baserel->tuples > 0 && s == NULL)
		tuples = baserel->tuples;	/* ANALYZE knows better than a guess */
	if (s != NULL && telem_enable_pruning)
		objsel = bounds_selectivity(root, relid, pp, s, &used);

	/* objsel accounts for the bounds it could evaluate; the rest as usual */
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = (RestrictInfo *) lfirst(lc);

		if (!list_member_ptr(used, rinfo->clause))
			rest = lappend(rest, rinfo);
	}
	baserel->tuples = Max(tuples, 1);
	baserel->rows = clamp_row_est(tuples * objsel *
								  clauselist_selectivity(root, rest, 0,
														 JOIN_INNER, NULL));
}
