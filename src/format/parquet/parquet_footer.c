/*-------------------------------------------------------------------------
 *
 * parquet_footer.c
 *		Fetch and parse the footer of one Parquet object: one suffix Range
 *		request, and a second only when the footer is larger than it.
 *
 * Shared by the scan, IMPORT FOREIGN SCHEMA and the planner's sample.
 *
 * IDENTIFICATION
 *		src/format/parquet/parquet_footer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "format/parquet/parquet_pg.h"

/*
 * TelemPqFetch
 *		Read obj's bytes [start, end) into buf, through one Range request.
 *		Adds the bytes to *bytes_read.  Errors are raised, naming url; a
 *		short object is an error (it changed, or its listing lied).
 */
void
TelemPqFetch(TelemStore *store, const TelemObject *obj, const char *url,
			 int64 start, int64 end, uint8 *buf, int64 *bytes_read)
{
	TelemError	err;
	TelemReader *volatile reader;

	memset(&err, 0, sizeof(err));
	reader = store->ops->open_range(store, obj, start, end, &err);
	if (reader == NULL)
		TelemReportStoreError(&err, "open", url);
	PG_TRY();
	{
		TelemPqReadAll(store, reader, url, start, end, buf, bytes_read);
	}
	PG_FINALLY();
	{
		store->ops->close(reader);
	}
	PG_END_TRY();
}

/*
 * TelemPqReadAll
 *		Read exactly end - start bytes from reader (opened at start) into
 *		buf.
 */
void
TelemPqReadAll(TelemStore *store, TelemReader *reader, const char *url,
			   int64 start, int64 end, uint8 *buf, int64 *bytes_read)
{
	int64		got = 0;

	while (got < end - start)
	{
		TelemError	err;
		ssize_t		n;

		CHECK_FOR_INTERRUPTS();
		memset(&err, 0, sizeof(err));
		n = store->ops->read(reader, buf + got,
							 (size_t) Min(end - start - got, (int64) 4 * 1024 * 1024),
							 &err);
		if (n < 0)
			TelemReportStoreError(&err, "read", url);
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("Parquet object \"%s\" ended at byte " INT64_FORMAT
							", before byte " INT64_FORMAT,
							url, start + got, end),
					 errdetail("The object is shorter than its listing says; "
							   "it may have been replaced while it was read.")));
		got += n;
		*bytes_read += n;
	}
}

/* Reset callback: free a PqFile. */
static void
free_file(void *arg)
{
	PqFileFree((PqFile *) arg);
}

/*
 * TelemPqFreeOnReset
 *		Free file when cxt is reset or deleted, whatever the way out.
 */
void
TelemPqFreeOnReset(MemoryContext cxt, PqFile *file)
{
	MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(*cb));

	cb->func = free_file;
	cb->arg = file;
	MemoryContextRegisterResetCallback(cxt, cb);
}

/*
 * TelemPqReadFooter
 *		Fetch and parse obj's footer.  The result is freed when the current
 *		memory context is reset.  The tail fetched first (up to
 *		PQ_FOOTER_GUESS bytes, palloc'd in the current context) is returned
 *		in *tail with its offset in *tail_start, so that a small file's
 *		column chunks need no second request.
 */
PqFile *
TelemPqReadFooter(TelemStore *store, const TelemObject *obj, const char *url,
				  int64 *bytes_read, uint8 **tail, int64 *tail_start)
{
	int64		size = obj->size;
	int64		tail_len = Min(size, (int64) PQ_FOOTER_GUESS);
	uint8	   *buf;
	int64		footer_len;
	uint8	   *footer;
	TelemError	err;
	PqFile	   *file;

	if (size < (int64) (2 * strlen(PQ_MAGIC) + 4))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("\"%s\" is not a Parquet file: it has " INT64_FORMAT " bytes",
						url, size)));
	buf = palloc(tail_len);
	TelemPqFetch(store, obj, url, size - tail_len, size, buf, bytes_read);

	memset(&err, 0, sizeof(err));
	footer_len = PqFooterLength(buf, tail_len, size, &err);
	if (footer_len < 0)
		TelemPqReportError(&err, url);

	if (footer_len + PQ_TRAILER_SIZE <= tail_len)
		footer = buf + tail_len - PQ_TRAILER_SIZE - footer_len;
	else
	{
		/* the footer is larger than the guess: fetch the rest of it */
		int64		start = size - PQ_TRAILER_SIZE - footer_len;

		footer = MemoryContextAllocHuge(CurrentMemoryContext, footer_len);
		TelemPqFetch(store, obj, url, start, size - tail_len, footer, bytes_read);
		memcpy(footer + (size - tail_len - start), buf,
			   tail_len - PQ_TRAILER_SIZE);
	}

	memset(&err, 0, sizeof(err));
	file = PqParseFooter(footer, (size_t) footer_len, size, &err);
	if (file == NULL)
		TelemPqReportError(&err, url);
	TelemPqFreeOnReset(CurrentMemoryContext, file);
	if (footer < buf || footer >= buf + tail_len)
		pfree(footer);
	*tail = buf;
	*tail_start = size - tail_len;
	return file;
}

/*
 * TelemPqReportError
 *		Raise err, a reader error about the object at url: "unsupported:"
 *		is a feature not implemented, anything else corrupt data.
 */
void
TelemPqReportError(const TelemError *err, const char *url)
{
	bool		unsupported = strncmp(err->message, "unsupported: ", 13) == 0;

	ereport(ERROR,
			(errcode(unsupported ? ERRCODE_FEATURE_NOT_SUPPORTED :
					 ERRCODE_DATA_CORRUPTED),
			 errmsg("could not read Parquet object \"%s\": %s", url,
					err->message)));
	pg_unreachable();
}
