/*-------------------------------------------------------------------------
 *
 * transfer.c
 *		The C side of telem.transfer: list a location on a server, copy one
 *		object between stores, delete one.
 *
 * telem.transfer (PL/pgSQL, in the extension script) decides what to copy
 * from its ledger; these functions do the store work.  A copy streams the
 * source's GET into the target's block upload: memory holds one read
 * buffer and one block, whatever the object's size, and nothing touches
 * the local disk.  It is verified three ways: each block carries its MD5
 * (the store checks it), the source read is pinned to the listed version
 * (If-Match) and must yield exactly the listed size, and the committed
 * target must report that size too.
 *
 * The target object carries the source version as metadata
 * ("telem_source"), so a rerun after a crash recognizes copies that were
 * committed but never recorded in the ledger, and adopts them instead of
 * copying again.
 *
 * Stores opened here are kept until the end of the transaction, so one
 * transfer run reuses its connections from object to object.
 *
 * IDENTIFICATION
 *		src/loader/transfer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_foreign_server.h"
#include "foreign/foreign.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "../telem_fdw.h"

#define TRANSFER_READ_CHUNK		(1024 * 1024)
#define TRANSFER_MAX_BLOCK_MB	100		/* Azure's largest block is 4000 MiB;
										 * S3's part 5 GiB; this bounds memory */

/* A store opened by this transaction, for one server and location root. */
typedef struct CachedStore
{
	Oid			serverid;
	Oid			userid;
	char	   *root;			/* opts->url_base: bucket or container */
	TelemStore *store;
} CachedStore;

/* Stores of this transaction, in TopTransactionContext. */
static List *cached_stores = NIL;
static bool xact_callback_registered = false;

static void
release_cached_stores(XactEvent event, void *arg)
{
	ListCell   *lc;

	(void) arg;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT &&
		event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
		return;
	foreach(lc, cached_stores)
	{
		CachedStore *cs = (CachedStore *) lfirst(lc);

		cs->store->ops->destroy(cs->store);
	}
	cached_stores = NIL;		/* the list goes with the transaction */
}

/*
 * The options of location on the telem_fdw server named server_name,
 * checking that the user may use the server.
 */
static TelemOptions *
location_options(Name server_name, text *location)
{
	ForeignServer *server = GetForeignServerByName(NameStr(*server_name), false);
	ForeignDataWrapper *fdw = GetForeignDataWrapper(server->fdwid);
	AclResult	aclresult;

	if (strcmp(fdw->fdwname, "telem_fdw") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" is not a telem_fdw server",
						server->servername)));
#if PG_VERSION_NUM >= 160000
	aclresult = object_aclcheck(ForeignServerRelationId, server->serverid,
								GetUserId(), ACL_USAGE);
#else
	aclresult = pg_foreign_server_aclcheck(server->serverid, GetUserId(),
										   ACL_USAGE);
#endif
	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, OBJECT_FOREIGN_SERVER, server->servername);
	return TelemGetLocationOptions(server->serverid, text_to_cstring(location));
}

/* The store for opts, opened once per transaction. */
static TelemStore *
cached_store(TelemOptions *opts)
{
	ForeignServer *server = GetForeignServerByName(opts->server_name, false);
	Oid			userid = GetUserId();
	ListCell   *lc;
	CachedStore *cs;
	MemoryContext old;

	foreach(lc, cached_stores)
	{
		cs = (CachedStore *) lfirst(lc);
		if (cs->serverid == server->serverid && cs->userid == userid &&
			strcmp(cs->root, opts->url_base) == 0)
			return cs->store;
	}
	if (!xact_callback_registered)
	{
		RegisterXactCallback(release_cached_stores, NULL);
		xact_callback_registered = true;
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	cs = palloc0(sizeof(CachedStore));
	cs->serverid = server->serverid;
	cs->userid = userid;
	cs->root = pstrdup(opts->url_base);
	MemoryContextSwitchTo(old);
	cs->store = TelemOpenStore(opts, userid);
	old = MemoryContextSwitchTo(TopTransactionContext);
	cached_stores = lappend(cached_stores, cs);
	MemoryContextSwitchTo(old);
	return cs->store;
}

/* The key of a listed source object, relative to its location. */
static const char *
relative_key(TelemOptions *opts, const char *key)
{
	size_t		plen = strlen(opts->prefix);

	if (strncmp(key, opts->prefix, plen) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("object \"%s\" is not under location \"%s\"",
						key, opts->location)));
	return key + plen;
}

/*
 * The version tag a copy records in its metadata: the source ETag, or the
 * size and modification time when the store has no ETags.  Anything but
 * printable ASCII (metadata values must be plain header text) becomes '_'.
 */
static char *
source_tag(const char *etag, int64 size, int64 mtime)
{
	char	   *tag;
	char	   *p;

	if (etag != NULL && etag[0] != '\0')
		tag = pnstrdup(etag, 200);
	else
		tag = psprintf("size-" INT64_FORMAT "-mtime-" INT64_FORMAT, size, mtime);
	for (p = tag; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == ',')
			*p = '_';
	return tag;
}

/* A writable store, or an error naming the server. */
static void
check_writable(TelemStore *store, TelemOptions *opts)
{
	if (store->ops->create == NULL || store->ops->head == NULL ||
		store->ops->remove == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("server \"%s\" cannot be written to",
						opts->server_name),
				 errdetail("Transfers write to servers with provider \"s3\" or \"azure\".")));
}

/*
 * telem.store_objects(server name, location text, start_after text DEFAULT NULL)
 *		RETURNS TABLE (key text, size bigint, etag text, last_modified timestamptz)
 *
 * The objects under a location, as telem.list_objects lists a table's.
 */
PG_FUNCTION_INFO_V1(telem_store_objects);

Datum
telem_store_objects(PG_FUNCTION_ARGS)
{
	TelemOptions *opts;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server and location must not be null")));
	opts = location_options(PG_GETARG_NAME(0), PG_GETARG_TEXT_PP(1));
	TelemMaterializeListing(fcinfo, opts,
							PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2)));
	return (Datum) 0;
}

/*
 * telem._transfer_object(source_server name, source text, key text,
 *		etag text, size bigint, last_modified timestamptz,
 *		target_server name, target text, block_size_mb integer,
 *		OUT target_key text, OUT target_etag text, OUT bytes bigint,
 *		OUT adopted boolean)
 *
 * Copy one listed object version from source to the same relative key
 * under target.  If the target already holds a committed copy of this
 * version (its telem_source metadata and size match), nothing is copied
 * and adopted is true.  Errors are raised; telem.transfer counts them.
 */
PG_FUNCTION_INFO_V1(telem_transfer_object);

Datum
telem_transfer_object(PG_FUNCTION_ARGS)
{
	TelemOptions *src_opts;
	TelemOptions *dst_opts;
	TelemStore *src;
	TelemStore *dst;
	TelemObject obj;
	TelemObjectInfo info;
	TelemWriteOptions wopts;
	TelemError	err;
	char	   *dst_key;
	char	   *dst_url;
	char	   *src_url;
	char	   *tag;
	bool		found = false;
	int			block_mb;
	volatile int64 total = 0;
	TelemReader *volatile reader = NULL;
	TelemWriter *volatile writer = NULL;
	char	   *buf;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	for (int i = 0; i < 9; i++)
		if (PG_ARGISNULL(i) && i != 3)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("only the etag may be null")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	block_mb = PG_GETARG_INT32(8);
	if (block_mb < 1 || block_mb > TRANSFER_MAX_BLOCK_MB)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("block size must be between 1 and %d MB",
						TRANSFER_MAX_BLOCK_MB)));

	src_opts = location_options(PG_GETARG_NAME(0), PG_GETARG_TEXT_PP(1));
	dst_opts = location_options(PG_GETARG_NAME(6), PG_GETARG_TEXT_PP(7));
	memset(&obj, 0, sizeof(obj));
	obj.key = text_to_cstring(PG_GETARG_TEXT_PP(2));
	obj.etag = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	obj.size = PG_GETARG_INT64(4);
	obj.last_modified = (int64_t) timestamptz_to_time_t(PG_GETARG_TIMESTAMPTZ(5));
	src_url = TelemObjectUrl(src_opts, obj.key);
	dst_key = psprintf("%s%s", dst_opts->prefix, relative_key(src_opts, obj.key));
	dst_url = TelemObjectUrl(dst_opts, dst_key);
	tag = source_tag(obj.etag, obj.size, obj.last_modified);

	src = cached_store(src_opts);
	dst = cached_store(dst_opts);
	check_writable(dst, dst_opts);

	/* a copy of this very version is already there: adopt it */
	memset(&err, 0, sizeof(err));
	memset(&info, 0, sizeof(info));
	if (!dst->ops->head(dst, dst_key, &info, &found, &err))
		TelemReportStoreError(&err, "inspect", dst_url);
	if (found && info.size == obj.size && strcmp(info.source_tag, tag) == 0)
	{
		values[0] = CStringGetTextDatum(dst_key);
		values[1] = CStringGetTextDatum(info.etag);
		values[2] = Int64GetDatum(0);
		values[3] = BoolGetDatum(true);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}

	buf = palloc(TRANSFER_READ_CHUNK);
	memset(&wopts, 0, sizeof(wopts));
	wopts.block_size = (size_t) block_mb * 1024 * 1024;
	wopts.source_tag = tag;

	/* the handles are malloc'd: release them on every way out */
	PG_TRY();
	{
		bool		paused = false;

		memset(&err, 0, sizeof(err));
		reader = src->ops->open(src, &obj, 0, &err);
		if (reader == NULL)
			TelemReportStoreError(&err, "read", src_url);
		writer = dst->ops->create(dst, dst_key, &wopts, &err);
		if (writer == NULL)
			TelemReportStoreError(&err, "write", dst_url);

		for (;;)
		{
			ssize_t		n;

			CHECK_FOR_INTERRUPTS();
			n = src->ops->read((TelemReader *) reader, buf, TRANSFER_READ_CHUNK, &err);
			if (n < 0)
				TelemReportStoreError(&err, "read", src_url);
			if (n == 0)
				break;
			if (!dst->ops->write((TelemWriter *) writer, buf, (size_t) n, &err))
				TelemReportStoreError(&err, "write", dst_url);
			total += n;
			/* tests kill a transfer here, with a block uploaded */
			if (!paused && total > (int64) wopts.block_size)
			{
				paused = true;
				TelemPausePoint("mid_transfer");
			}
		}
		if (total != obj.size)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("could not copy \"%s\": read " INT64_FORMAT
							" bytes, the listing said " INT64_FORMAT,
							src_url, total, (int64) obj.size),
					 errhint("The object changed while it was copied; the next run copies it again.")));
		memset(&info, 0, sizeof(info));
		if (!dst->ops->commit((TelemWriter *) writer, &info, &err))
			TelemReportStoreError(&err, "commit", dst_url);
		if (info.size != obj.size)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("copy of \"%s\" to \"%s\" has " INT64_FORMAT
							" bytes, the source " INT64_FORMAT,
							src_url, dst_url, (int64) info.size, (int64) obj.size)));
	}
	PG_FINALLY();
	{
		if (reader != NULL)
			src->ops->close((TelemReader *) reader);
		if (writer != NULL)
			dst->ops->discard((TelemWriter *) writer);
	}
	PG_END_TRY();
	pfree(buf);

	values[0] = CStringGetTextDatum(dst_key);
	values[1] = CStringGetTextDatum(info.etag);
	values[2] = Int64GetDatum(total);
	values[3] = BoolGetDatum(false);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * telem._check_location(server name, location text, for_write boolean)
 *
 * Check, before any request is made, that location is valid on server,
 * that the user may use the server, and (for_write) that its store can be
 * written: so that a mistyped target fails the transfer once, not once
 * per object.
 */
PG_FUNCTION_INFO_V1(telem_check_location);

Datum
telem_check_location(PG_FUNCTION_ARGS)
{
	TelemOptions *opts;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server and location must not be null")));
	opts = location_options(PG_GETARG_NAME(0), PG_GETARG_TEXT_PP(1));
	if (PG_GETARG_BOOL(2) && opts->provider == PROVIDER_FILE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("server \"%s\" cannot be written to",
						opts->server_name),
				 errdetail("Transfers write to servers with provider \"s3\" or \"azure\".")));
	PG_RETURN_VOID();
}

/*
 * telem._remove_object(server name, location text, key text)
 *
 * Delete the object key (a full key, under location) from a writable
 * store; a missing object is fine.
 */
PG_FUNCTION_INFO_V1(telem_remove_object);

Datum
telem_remove_object(PG_FUNCTION_ARGS)
{
	TelemOptions *opts;
	TelemStore *store;
	TelemError	err;
	char	   *key;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("server, location and key must not be null")));
	opts = location_options(PG_GETARG_NAME(0), PG_GETARG_TEXT_PP(1));
	key = text_to_cstring(PG_GETARG_TEXT_PP(2));
	(void) relative_key(opts, key);
	store = cached_store(opts);
	check_writable(store, opts);
	memset(&err, 0, sizeof(err));
	if (!store->ops->remove(store, key, &err))
		TelemReportStoreError(&err, "delete", TelemObjectUrl(opts, key));
	PG_RETURN_VOID();
}
