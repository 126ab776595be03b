/*-------------------------------------------------------------------------
 *
 * parallel.c
 *		Parallel foreign scans: the leader lists, every participant claims
 *		pieces of work from a queue in dynamic shared memory.
 *
 * The leader walks the listing (with all its pruning) while the parallel
 * plan is set up, and writes what passed into the DSM segment: one entry
 * per object, or per byte range of a large uncompressed JSON-lines object
 * (telem_fdw.split_size), so that one big object keeps every worker busy.
 * Participants claim entries with one atomic increment.  Listing once, in
 * one backend, means every participant sees the same objects: a lake that
 * grows during the scan cannot make two workers disagree about it.
 *
 * A split starts reading one byte early and skips through the first
 * newline; it reads every line that starts before its end, so each line is
 * read by exactly one split (format/jsonl.c).
 *
 * Counters: workers add theirs to the shared ones when they shut down, and
 * the leader adds those to its own before EXPLAIN prints them.
 *
 * IDENTIFICATION
 *		src/plan/parallel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "port/atomics.h"
#include "utils/memutils.h"

#include "telem_fdw.h"

int			telem_split_size_mb = 64;

/* One piece of work. */
typedef struct TelemSharedEntry
{
	int64		size;
	int64		last_modified;
	int64		range_start;
	int64		range_end;		/* -1: to the end of the object */
	Size		key_off;		/* into the string area */
	Size		etag_off;		/* 0: no etag */
} TelemSharedEntry;

typedef struct TelemSharedScan
{
	pg_atomic_uint64 next;		/* next entry to claim */
	int			nentries;
	Size		strings;		/* offset of the string area from the start */

	/* what workers did, added when they shut down */
	pg_atomic_uint64 objects_read;
	pg_atomic_uint64 bytes_read;
	pg_atomic_uint64 rows_read;
	pg_atomic_uint64 resumes;
	pg_atomic_uint64 row_groups_read;
	pg_atomic_uint64 row_groups_skipped;
	pg_atomic_uint64 requests;
	pg_atomic_uint64 retries;
	pg_atomic_uint64 wait_us;

	TelemSharedEntry entries[FLEXIBLE_ARRAY_MEMBER];
} TelemSharedScan;

/* What the leader found, between Estimate and Initialize. */
typedef struct ParallelPlan
{
	List	   *objects;		/* TelemObject * */
	int			nentries;
	Size		strings_size;
	TelemSharedEntry *entries;
} ParallelPlan;


/*
 * TelemParallelSafe
 *		Whether scans of relid may run in parallel workers.  Not when the
 *		loader restricts its objects: that restriction, and the rows the
 *		loader counts per object, live in the leader.
 */
bool
TelemParallelSafe(Oid relid)
{
	int			n;

	return TelemRestrictedObjects(relid, &n) == NULL;
}

/* Is obj a JSON-lines object we may split by byte ranges? */
static bool
splittable(TelemScan *scan, TelemObject *obj)
{
	int64		split = (int64) telem_split_size_mb * 1024 * 1024;
	size_t		klen = strlen(obj->key);
	TelemError	err;
	TelemReader *r;
	unsigned char magic[4];
	ssize_t		n = 0;
	int			i;

	if (scan->opts->format != FORMAT_JSONL || obj->size <= split)
		return false;
	/* line numbers are counted from an object's start */
	for (i = 0; i < scan->ncolumns; i++)
		if (scan->columns[i].needed &&
			scan->columns[i].kind == COLUMN_META_LINE_NUMBER)
			return false;
	if (scan->opts->compression == TELEM_COMP_GZIP ||
		scan->opts->compression == TELEM_COMP_ZSTD)
		return false;
	if (scan->opts->compression == TELEM_COMP_NONE)
		return true;
	if ((klen > 3 && strcmp(obj->key + klen - 3, ".gz") == 0) ||
		(klen > 5 && strcmp(obj->key + klen - 5, ".gzip") == 0) ||
		(klen > 4 && strcmp(obj->key + klen - 4, ".zst") == 0) ||
		(klen > 5 && strcmp(obj->key + klen - 5, ".zstd") == 0))
		return false;

	/* compression 'auto': the first bytes decide, as they do for the codec */
	memset(&err, 0, sizeof(err));
	r = scan->store->ops->open(scan->store, obj, 0, &err);
	if (r == NULL)
		TelemReportStoreError(&err, "open", TelemObjectUrl(scan->opts, obj->key));
	while (n < 4)
	{
		ssize_t		got = scan->store->ops->read(r, magic + n, 4 - n, &err);

		if (got < 0)
		{
			scan->store->ops->close(r);
			TelemReportStoreError(&err, "read", TelemObjectUrl(scan->opts, obj->key));
		}
		if (got == 0)
			break;
		n += got;
	}
	scan->store->ops->close(r);
	if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return false;
	if (n >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
		magic[3] == 0xfd)
		return false;
	return true;
}

/*
 * TelemParallelEstimate
 *		In the leader, before workers start: walk the whole listing and size
 *		the DSM segment that will hold it.
 */
Size
TelemParallelEstimate(TelemScan *scan)
{
	ParallelPlan *pp;
	MemoryContext old = MemoryContextSwitchTo(scan->scancxt);
	int64		split = (int64) telem_split_size_mb * 1024 * 1024;
	int			cap = 64;
	ListCell   *lc;

	pp = palloc0(sizeof(ParallelPlan));
	pp->entries = palloc(sizeof(TelemSharedEntry) * cap);
	pp->strings_size = 1;		/* offset 0 means "none" */

	MemoryContextSwitchTo(old);
	for (;;)
	{
		TelemObject *admitted = TelemNextAdmitted(scan);
		TelemObject *o;

		if (admitted == NULL)
			break;
		old = MemoryContextSwitchTo(scan->scancxt);
		o = palloc(sizeof(TelemObject));
		*o = *admitted;
		o->key = pstrdup(admitted->key);
		o->etag = admitted->etag ? pstrdup(admitted->etag) : NULL;
		pp->objects = lappend(pp->objects, o);
		MemoryContextSwitchTo(old);
	}

	foreach(lc, pp->objects)
	{
		TelemObject *o = (TelemObject *) lfirst(lc);
		Size		key_off = pp->strings_size;
		Size		etag_off = 0;
		int64		start = 0;
		bool		split_it = splittable(scan, o);

		pp->strings_size += strlen(o->key) + 1;
		if (o->etag)
		{
			etag_off = pp->strings_size;
			pp->strings_size += strlen(o->etag) + 1;
		}
		do
		{
			TelemSharedEntry *e;

			if (pp->nentries == cap)
			{
				cap *= 2;
				pp->entries = repalloc(pp->entries, sizeof(TelemSharedEntry) * cap);
			}
			e = &pp->entries[pp->nentries++];
			e->size = o->size;
			e->last_modified = o->last_modified;
			e->key_off = key_off;
			e->etag_off = etag_off;
			e->range_start = start;
			e->range_end = split_it && start + split < o->size ? start + split : -1;
			start += split;
		} while (split_it && start < o->size);
	}
	scan->parallel_plan = pp;
	return add_size(offsetof(TelemSharedScan, entries),
					add_size(mul_size(sizeof(TelemSharedEntry), pp->nentries),
							 pp->strings_size));
}

/* Fill the segment from the walk TelemParallelEstimate made. */
void
TelemParallelInitialize(TelemScan *scan, void *coordinate)
{
	TelemSharedScan *sh = (TelemSharedScan *) coordinate;
	ParallelPlan *pp = (ParallelPlan *) scan->parallel_plan;
	char	   *strings;
	ListCell   *lc;
	int			i;

	Assert(pp != NULL);
	pg_atomic_init_u64(&sh->next, 0);
	pg_atomic_init_u64(&sh->objects_read, 0);
	pg_atomic_init_u64(&sh->bytes_read, 0);
	pg_atomic_init_u64(&sh->rows_read, 0);
	pg_atomic_init_u64(&sh->resumes, 0);
	pg_atomic_init_u64(&sh->row_groups_read, 0);
	pg_atomic_init_u64(&sh->row_groups_skipped, 0);
	pg_atomic_init_u64(&sh->requests, 0);
	pg_atomic_init_u64(&sh->retries, 0);
	pg_atomic_init_u64(&sh->wait_us, 0);
	sh->nentries = pp->nentries;
	sh->strings = offsetof(TelemSharedScan, entries) +
		sizeof(TelemSharedEntry) * pp->nentries;
	memcpy(sh->entries, pp->entries, sizeof(TelemSharedEntry) * pp->nentries);
	strings = (char *) sh + sh->strings;
	strings[0] = '\0';
	/* one object's splits share its strings: fill them at its first entry */
	lc = list_head(pp->objects);
	for (i = 0; i < pp->nentries; i++)
	{
		TelemObject *o;

		if (pp->entries[i].range_start != 0)
			continue;
		o = (TelemObject *) lfirst(lc);
		lc = lnext(pp->objects, lc);
		strcpy(strings + pp->entries[i].key_off, o->key);
		if (o->etag)
			strcpy(strings + pp->entries[i].etag_off, o->etag);
	}
	scan->shared = sh;
}

void
TelemParallelReinitialize(TelemScan *scan, void *coordinate)
{
	TelemSharedScan *sh = (TelemSharedScan *) coordinate;

	/* the same pieces again, for a rescan of the Gather */
	pg_atomic_write_u64(&sh->next, 0);
	scan->shared = sh;
}

void
TelemParallelAttach(TelemScan *scan, void *coordinate)
{
	scan->shared = (TelemSharedScan *) coordinate;
}

/*
 * TelemParallelClaim
 *		The next piece of work, into obj (strings point into the segment) and
 *		the byte range; false when all are claimed.
 */
bool
TelemParallelClaim(TelemScan *scan, TelemObject *obj, int64 *range_start,
				   int64 *range_end)
{
	TelemSharedScan *sh = scan->shared;
	uint64		i = pg_atomic_fetch_add_u64(&sh->next, 1);
	TelemSharedEntry *e;
	char	   *strings = (char *) sh + sh->strings;

	if (i >= (uint64) sh->nentries)
		return false;
	e = &sh->entries[i];
	obj->key = strings + e->key_off;
	obj->etag = e->etag_off ? strings + e->etag_off : NULL;
	obj->size = e->size;
	obj->last_modified = e->last_modified;
	*range_start = e->range_start;
	*range_end = e->range_end;
	return true;
}

/*
 * TelemParallelShutdown
 *		Workers add their counters to the shared ones; the leader, whose
 *		workers are done by now, adds those to its own.
 */
void
TelemParallelShutdown(TelemScan *scan)
{
	TelemSharedScan *sh = scan->shared;

	if (sh == NULL)
		return;
	if (IsParallelWorker())
	{
		pg_atomic_fetch_add_u64(&sh->objects_read, scan->objects_read);
		pg_atomic_fetch_add_u64(&sh->bytes_read, scan->bytes_read);
		pg_atomic_fetch_add_u64(&sh->rows_read, scan->rows_read);
		pg_atomic_fetch_add_u64(&sh->resumes, scan->resumes);
		pg_atomic_fetch_add_u64(&sh->row_groups_read, scan->row_groups_read);
		pg_atomic_fetch_add_u64(&sh->row_groups_skipped, scan->row_groups_skipped);
		pg_atomic_fetch_add_u64(&sh->requests, scan->store->stats.requests);
		pg_atomic_fetch_add_u64(&sh->retries, scan->store->stats.retries);
		pg_atomic_fetch_add_u64(&sh->wait_us, scan->store->stats.wait_us);
	}
	else
	{
		scan->objects_read += pg_atomic_read_u64(&sh->objects_read);
		scan->bytes_read += pg_atomic_read_u64(&sh->bytes_read);
		scan->rows_read += pg_atomic_read_u64(&sh->rows_read);
		scan->resumes += pg_atomic_read_u64(&sh->resumes);
		scan->row_groups_read += pg_atomic_read_u64(&sh->row_groups_read);
		scan->row_groups_skipped += pg_atomic_read_u64(&sh->row_groups_skipped);
		scan->worker_stats.requests += pg_atomic_read_u64(&sh->requests);
		scan->worker_stats.retries += pg_atomic_read_u64(&sh->retries);
		scan->worker_stats.wait_us += pg_atomic_read_u64(&sh->wait_us);
	}
	/* the segment goes away after this */
	scan->shared = NULL;
}
