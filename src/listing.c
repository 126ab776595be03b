/*-------------------------------------------------------------------------
 *
 * listing.c
 *		The objects one scan reads: a walk over listing requests, shaped by
 *		the pruning bounds, with one listing per statement per prefix.
 *
 * A walk is a queue of tasks:
 *
 *	flat	 list every object under a prefix (ListObjectsV2, List Blobs, a
 *			 directory walk), page by page, optionally starting after a key;
 *	level	 list one level under a prefix (objects and "directories"), drop
 *			 the directories whose partition values fail the bounds, and
 *			 queue the survivors: as flat tasks once every bounded partition
 *			 has its value, else as level tasks one level deeper;
 *	lookup	 fetch the listing entry of named keys (_key = ...) with HEAD;
 *	restricted	the loader's chosen object versions.
 *
 * Pages fetched from the store are kept for the rest of the statement, in
 * a cache hung on the executor's query context and keyed by the request,
 * so that a rescan (the inner side of a nested loop) or a second reference
 * to the same table in the query lists nothing again.  The cache is
 * bounded; past the bound, pages stream through as before and a rescan
 * lists again.
 *
 * IDENTIFICATION
 *		src/listing.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "telem_fdw.h"

/* Objects a statement's listing cache holds at most. */
#define LISTING_CACHE_MAX_OBJECTS	200000

/* Prefixes EXPLAIN names before summing up the rest. */
#define EXPLAIN_MAX_PREFIXES	10

typedef enum ListTaskKind
{
	TASK_FLAT,
	TASK_LEVEL,
	TASK_LOOKUP,
	TASK_RESTRICTED
} ListTaskKind;

typedef struct ListTask
{
	ListTaskKind kind;
	char	   *prefix;
	char	   *start_after;	/* flat only; NULL for none */
	char	   *token;			/* continuation; NULL for the first page */
	List	   *keys;			/* lookup: char * */
} ListTask;

/* One listing page, palloc'd: in the statement cache or the scan. */
typedef struct CachedPage
{
	char	   *request;		/* the cache key */
	TelemObject *objects;
	int			nobjects;
	char	  **prefixes;
	int			nprefixes;
	char	   *next_token;
} CachedPage;

typedef struct ListingCache
{
	MemoryContext querycxt;		/* whose statement */
	MemoryContext cxt;			/* child of querycxt, holds everything */
	List	   *pages;			/* CachedPage * */
	int64		objects;
	struct ListingCache *next;
} ListingCache;

typedef struct TelemListing
{
	List	   *tasks;			/* ListTask *, next first */
	CachedPage *page;			/* being handed out */
	int			pos;
	MemoryContext pagecxt;		/* uncached pages; reset per page */
	MemoryContext taskcxt;		/* the queue; reset per (re)start */
	List	   *prefixes_listed;	/* char *, for EXPLAIN */
	int			nprefixes_listed;
} TelemListing;

/* The live statements' caches; each unlinks itself when its context goes. */
static ListingCache *listing_caches = NULL;

static void
unlink_cache(void *arg)
{
	ListingCache **pp;

	for (pp = &listing_caches; *pp; pp = &(*pp)->next)
		if (*pp == (ListingCache *) arg)
		{
			*pp = (*pp)->next;
			break;
		}
}

static ListingCache *
statement_cache(MemoryContext querycxt)
{
	ListingCache *c;
	MemoryContextCallback *cb;
	MemoryContext cxt;

	for (c = listing_caches; c; c = c->next)
		if (c->querycxt == querycxt)
			return c;
	cxt = AllocSetContextCreate(querycxt, "telem_fdw listing cache",
								ALLOCSET_DEFAULT_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(ListingCache));
	c->querycxt = querycxt;
	c->cxt = cxt;
	cb = MemoryContextAllocZero(cxt, sizeof(MemoryContextCallback));
	cb->func = unlink_cache;
	cb->arg = c;
	MemoryContextRegisterResetCallback(cxt, cb);
	c->next = listing_caches;
	listing_caches = c;
	return c;
}

/* A palloc'd copy of a store page, in cxt; frees the store page. */
static CachedPage *
copy_page(TelemObjectPage *src, const char *request, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	CachedPage *p = palloc0(sizeof(CachedPage));
	int			i;

	p->request = pstrdup(request);
	p->nobjects = src->nobjects;
	p->objects = palloc0(sizeof(TelemObject) * Max(src->nobjects, 1));
	for (i = 0; i < src->nobjects; i++)
	{
		p->objects[i] = src->objects[i];
		p->objects[i].key = pstrdup(src->objects[i].key);
		p->objects[i].etag = src->objects[i].etag ?
			pstrdup(src->objects[i].etag) : NULL;
	}
	p->nprefixes = src->nprefixes;
	p->prefixes = palloc0(sizeof(char *) * Max(src->nprefixes, 1));
	for (i = 0; i < src->nprefixes; i++)
		p->prefixes[i] = pstrdup(src->prefixes[i]);
	p->next_token = src->next_token ? pstrdup(src->next_token) : NULL;
	MemoryContextSwitchTo(old);
	TelemObjectPageFree(src);
	return p;
}

/* The identity of a listing request, as the cache knows it. */
static char *
request_key(TelemScan *scan, ListTask *t)
{
	return psprintf("%s\x1f%u\x1f%s\x1f%d\x1f%s\x1f%s\x1f%s",
					scan->opts->server_name, scan->userid,
					scan->opts->url_base ? scan->opts->url_base : "",
					(int) t->kind, t->prefix,
					t->start_after ? t->start_after : "",
					t->token ? t->token : "");
}

static ListTask *
make_task(ListTaskKind kind, const char *prefix, const char *start_after,
		  const char *token)
{
	ListTask   *t = palloc0(sizeof(ListTask));

	t->kind = kind;
	t->prefix = pstrdup(prefix);
	t->start_after = start_after ? pstrdup(start_after) : NULL;
	t->token = token ? pstrdup(token) : NULL;
	return t;
}

static void
note_prefix(TelemListing *l, TelemScan *scan, ListTask *t)
{
	MemoryContext old;

	if (t->token != NULL)
		return;
	l->nprefixes_listed++;
	if (list_length(l->prefixes_listed) >= EXPLAIN_MAX_PREFIXES)
		return;
	old = MemoryContextSwitchTo(scan->scancxt);
	l->prefixes_listed = lappend(l->prefixes_listed,
								 psprintf("%s%s", TelemObjectUrl(scan->opts, t->prefix),
										  t->kind == TASK_LEVEL ? " (by level)" : ""));
	MemoryContextSwitchTo(old);
}

/* Fetch the page a flat or level task asks for, from the cache if it can. */
static CachedPage *
fetch_listing_page(TelemScan *scan, TelemListing *l, ListTask *t)
{
	ListingCache *cache = statement_cache(scan->querycxt);
	char	   *request = request_key(scan, t);
	TelemObjectPage page;
	TelemError	err;
	ListCell   *lc;
	bool		ok;

	foreach(lc, cache->pages)
	{
		CachedPage *p = (CachedPage *) lfirst(lc);

		if (strcmp(p->request, request) == 0)
			return p;
	}

	memset(&page, 0, sizeof(page));
	memset(&err, 0, sizeof(err));
	if (t->kind == TASK_LEVEL)
		ok = scan->store->ops->list_level(scan->store, t->prefix, t->token,
										  &page, &err);
	else
		ok = scan->store->ops->list_page(scan->store, t->prefix,
										 t->start_after, t->token, &page, &err);
	if (!ok)
	{
		TelemObjectPageFree(&page);
		TelemReportStoreError(&err, "list", TelemObjectUrl(scan->opts, t->prefix));
	}
	scan->pages_listed++;

	if (cache->objects + page.nobjects + page.nprefixes <= LISTING_CACHE_MAX_OBJECTS)
	{
		CachedPage *p;
		MemoryContext old;

		cache->objects += page.nobjects + page.nprefixes;
		p = copy_page(&page, request, cache->cxt);
		old = MemoryContextSwitchTo(cache->cxt);
		cache->pages = lappend(cache->pages, p);
		MemoryContextSwitchTo(old);
		return p;
	}
	MemoryContextReset(l->pagecxt);
	return copy_page(&page, request, l->pagecxt);
}

/* Fetch the listing entries of the keys a lookup task names. */
static CachedPage *
lookup_keys(TelemScan *scan, TelemListing *l, ListTask *t)
{
	MemoryContext old;
	CachedPage *p;
	ListCell   *lc;

	MemoryContextReset(l->pagecxt);
	old = MemoryContextSwitchTo(l->pagecxt);
	p = palloc0(sizeof(CachedPage));
	p->objects = palloc0(sizeof(TelemObject) * Max(list_length(t->keys), 1));
	foreach(lc, t->keys)
	{
		char	   *key = (char *) lfirst(lc);
		TelemObjectInfo info;
		TelemError	err;
		bool		found = false;

		CHECK_FOR_INTERRUPTS();
		memset(&err, 0, sizeof(err));
		memset(&info, 0, sizeof(info));
		if (!scan->store->ops->head(scan->store, key, &info, &found, &err))
			TelemReportStoreError(&err, "look up", TelemObjectUrl(scan->opts, key));
		scan->keys_looked_up++;
		if (!found)
			continue;
		p->objects[p->nobjects].key = pstrdup(key);
		p->objects[p->nobjects].size = info.size;
		p->objects[p->nobjects].etag = info.etag[0] ? pstrdup(info.etag) : NULL;
		p->objects[p->nobjects].last_modified = info.last_modified;
		p->nobjects++;
	}
	MemoryContextSwitchTo(old);
	return p;
}

/* Run the task at the head of the queue: a page to hand out, more tasks. */
static void
run_task(TelemScan *scan, TelemListing *l, ListTask *t)
{
	List	   *more = NIL;
	CachedPage *p;
	int			i;

	switch (t->kind)
	{
		case TASK_RESTRICTED:
			p = palloc0(sizeof(CachedPage));
			p->objects = (TelemObject *) scan->restricted;
			p->nobjects = scan->nrestricted;
			break;
		case TASK_LOOKUP:
			p = lookup_keys(scan, l, t);
			break;
		default:
			note_prefix(l, scan, t);
			p = fetch_listing_page(scan, l, t);
			break;
	}
	scan->objects_listed += p->nobjects;

	/* directories of a level listing: pruned, or walked deeper */
	for (i = 0; i < p->nprefixes; i++)
	{
		bool		all_bound;

		CHECK_FOR_INTERRUPTS();
		if (!TelemPruneDir(scan->prune, scan, p->prefixes[i], &all_bound))
		{
			scan->prefixes_pruned++;
			continue;
		}
		more = lappend(more, make_task(all_bound ? TASK_FLAT : TASK_LEVEL,
									   p->prefixes[i], NULL, NULL));
	}
	if (p->next_token != NULL)
		more = lappend(more, make_task(t->kind, t->prefix, t->start_after,
									   p->next_token));
	l->tasks = list_concat(more, l->tasks);
	l->page = p;
	l->pos = 0;
}

static int
compare_keys(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/*
 * The keys an equality bound on the key names, sorted and without
 * duplicates; NIL when there is no such bound.  *found_bound tells the
 * two NILs apart: a bound whose keys all fall outside the location.
 */
static List *
key_lookups(TelemScan *scan, bool *found_bound)
{
	TelemPruneState *st = scan->prune;
	const char *prefix = scan->opts->prefix;
	int			i;

	*found_bound = false;
	for (i = 0; i < st->nbounds; i++)
	{
		TelemBoundState *b = &st->bounds[i];
		List	   *keys = NIL;
		List	   *unique = NIL;
		ListCell   *lc;
		int			j;

		if (b->keyop != KEYOP_EQ)
			continue;
		for (j = 0; j < b->nvalues; j++)
		{
			char	   *key;

			if (b->isnull || b->nulls[j])
				continue;
			key = TextDatumGetCString(b->values[j]);
			/* a key outside the location cannot be one of its objects */
			if (strncmp(key, prefix, strlen(prefix)) == 0)
				keys = lappend(keys, key);
		}
		list_sort(keys, compare_keys);
		foreach(lc, keys)
			if (unique == NIL || strcmp(llast(unique), lfirst(lc)) != 0)
				unique = lappend(unique, lfirst(lc));
		/* the first equality bound is enough: the object quals check the rest */
		*found_bound = true;
		return unique;
	}
	return NIL;
}

/* The start-after a lower bound on the key allows, or NULL. */
static char *
key_start_after(TelemScan *scan)
{
	TelemPruneState *st = scan->prune;
	char	   *best = NULL;
	int			i;

	for (i = 0; i < st->nbounds; i++)
	{
		TelemBoundState *b = &st->bounds[i];
		char	   *c;

		if ((b->keyop != KEYOP_GT && b->keyop != KEYOP_GE) || b->isnull)
			continue;
		c = TextDatumGetCString(b->values[0]);

		/*
		 * Listings start strictly after a key.  For >= c, start after c
		 * less its last byte: every key >= c sorts after that, and the
		 * object quals drop the few in between.
		 */
		if (b->keyop == KEYOP_GE)
		{
			if (c[0] == '\0')
				continue;
			c[strlen(c) - 1] = '\0';
		}
		if (best == NULL || strcmp(c, best) > 0)
			best = c;
	}
	return best;
}

/*
 * TelemListingRestart
 *		Queue the walk from the start; the bounds must be evaluated.
 */
void
TelemListingRestart(TelemScan *scan)
{
	TelemListing *l = scan->listing;
	const char *prefix = scan->opts->prefix;
	size_t		plen = strlen(prefix);
	bool		pruning = telem_enable_pruning && scan->prune != NULL;
	MemoryContext old;
	List	   *keys = NIL;
	bool		key_bound = false;
	char	   *start_after = NULL;

	l->tasks = NIL;
	l->page = NULL;
	l->pos = 0;
	MemoryContextReset(l->pagecxt);
	MemoryContextReset(l->taskcxt);
	old = MemoryContextSwitchTo(l->taskcxt);

	if (scan->restricted != NULL)
		l->tasks = list_make1(make_task(TASK_RESTRICTED, "", NULL, NULL));
	else if (pruning && scan->store->ops->head != NULL &&
			 ((keys = key_lookups(scan, &key_bound)) != NIL || key_bound))
	{
		ListTask   *t = make_task(TASK_LOOKUP, prefix, NULL, NULL);

		t->keys = keys;
		l->tasks = list_make1(t);
	}
	else
	{
		if (pruning)
			start_after = key_start_after(scan);
		if (pruning && start_after == NULL &&
			scan->prune->npartition_bounds > 0 &&
			scan->store->ops->list_level != NULL &&
			(plen == 0 || prefix[plen - 1] == '/'))
			l->tasks = list_make1(make_task(TASK_LEVEL, prefix, NULL, NULL));
		else
			l->tasks = list_make1(make_task(TASK_FLAT, prefix, start_after, NULL));
	}
	MemoryContextSwitchTo(old);
}

/*
 * TelemListingBegin
 *		The walk of scan's location; call TelemListingRestart before the
 *		first TelemListingNext.
 */
TelemListing *
TelemListingBegin(TelemScan *scan)
{
	TelemListing *l = palloc0(sizeof(TelemListing));

	l->pagecxt = AllocSetContextCreate(scan->scancxt, "telem_fdw listing page",
									   ALLOCSET_DEFAULT_SIZES);
	l->taskcxt = AllocSetContextCreate(scan->scancxt, "telem_fdw listing tasks",
									   ALLOCSET_DEFAULT_SIZES);
	return l;
}

/*
 * TelemListingNext
 *		The next listed object, or NULL when the walk is done.  The entry
 *		stays valid until the next call.
 */
TelemObject *
TelemListingNext(TelemScan *scan)
{
	TelemListing *l = scan->listing;
	TelemObject *obj = NULL;
	MemoryContext old = MemoryContextSwitchTo(l->taskcxt);

	for (;;)
	{
		ListTask   *t;

		if (l->page != NULL && l->pos < l->page->nobjects)
		{
			obj = &l->page->objects[l->pos++];
			break;
		}
		if (l->tasks == NIL)
			break;
		t = (ListTask *) linitial(l->tasks);
		l->tasks = list_delete_first(l->tasks);
		run_task(scan, l, t);
	}
	MemoryContextSwitchTo(old);
	return obj;
}

/*
 * TelemListingPrefixes
 *		The prefixes listed so far, for EXPLAIN ANALYZE: at most
 *		EXPLAIN_MAX_PREFIXES by name, then how many more.
 */
List *
TelemListingPrefixes(TelemScan *scan)
{
	TelemListing *l = scan->listing;
	List	   *result = list_copy(l->prefixes_listed);

	if (l->nprefixes_listed > list_length(l->prefixes_listed))
		result = lappend(result,
						 psprintf("... %d more",
								  l->nprefixes_listed - list_length(l->prefixes_listed)));
	return result;
}
