/*-------------------------------------------------------------------------
 *
 * ranged_reader.c
 *		A resumable streaming GET of one object, shared by the S3 and
 *		Azure stores.
 *
 * A reader streams one object through a bounded buffer (http.c).  If the
 * connection drops mid-body, the reader re-opens with "Range: bytes=N-"
 * from the first byte not yet received, so the caller sees every byte
 * exactly once; "If-Match" with the listed ETag on every request makes
 * sure a resumed read never stitches two versions of an object together.
 * Failed attempts since the last byte received count against the store's
 * retry budget, with backoff between them.
 *
 * Opening only starts the first GET; its reply is checked by the first
 * read.  So a caller can open the next objects ahead, and their requests
 * and bodies travel while it reads the current one (the store's streams
 * share an HttpGroup, http.h).
 *
 * What differs between the stores -- how a request is authorized, how an
 * error reply is read -- comes in through a RangedSource.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/ranged_reader.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "ranged_reader.h"
#include "store_util.h"

#define RANGED_ERROR_BODY_MAX	(64 * 1024)

typedef struct RangedReader
{
	TelemReader base;
	const RangedSource *src;
	char	   *key;			/* as listed, for messages */
	char	   *path;			/* encoded request path, as sent and signed */
	char	   *etag;			/* without quotes, or NULL */
	int64_t		pos;			/* object offset of the next byte expected */
	int64_t		limit;			/* the caller's end (exclusive), -1 for none */
	int64_t		end;			/* object offset where this response ends,
								 * -1 if unknown */
	int64_t		total;			/* object size as the first response gave
								 * it, -1 if unknown */
	HttpStream *stream;			/* NULL at EOF or after a failed resume */
	bool		started;		/* stream's reply headers not yet checked */
	bool		eof;
	int			failures;		/* failed attempts since the last progress */
	TelemReaderStats stats;
} RangedReader;

typedef enum RangedOpenResult
{
	RANGED_OPEN_OK,
	RANGED_OPEN_RETRY,			/* transient failure, err set */
	RANGED_OPEN_FATAL			/* err set */
} RangedOpenResult;

/* "VERB scheme://container/key" for r's object. */
static void
reader_context(const RangedReader *r, const char *verb,
			   char context[STORE_CONTEXT_LEN])
{
	StoreObjectContext(context, verb, r->src->scheme, r->src->container,
					   r->key);
}

/*
 * Parse "bytes FIRST-LAST/TOTAL" (TOTAL may be "*", giving -1).  Returns
 * false if v is not of that form.
 */
static bool
parse_content_range(const char *v, int64_t *first, int64_t *last,
					int64_t *total)
{
	char	   *end;
	long long	a,
				b,
				t = -1;

	if (v == NULL || strncasecmp(v, "bytes ", 6) != 0)
		return false;
	v += 6;
	if (*v < '0' || *v > '9')
		return false;
	a = strtoll(v, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9')
		return false;
	b = strtoll(end + 1, &end, 10);
	if (*end != '/')
		return false;
	if (end[1] == '*' && end[2] == '\0')
		t = -1;
	else
	{
		if (end[1] < '0' || end[1] > '9')
			return false;
		t = strtoll(end + 1, &end, 10);
		if (*end != '\0' || t <= b)
			return false;
	}
	if (a < 0 || b < a)
		return false;
	*first = a;
	*last = b;
	*total = t;
	return true;
}

/*
 * A 200 or 206 reply on stream: check that it starts at r->pos and is of
 * the same object, then keep the stream.
 */
static RangedOpenResult
accept_reply(RangedReader *r, HttpStream *stream, long status,
			 const char *context, TelemError *err)
{
	int64_t		first = 0;
	int64_t		last = -1;
	int64_t		total = -1;

	if (status == 206)
	{
		if (!parse_content_range(HttpStreamContentRange(stream),
								 &first, &last, &total))
		{
			HttpStreamClose(stream);
			StoreSetError(err, TELEM_ERR_PROTOCOL, status, NULL,
						  "%s: bad Content-Range in a 206 reply", context);
			return RANGED_OPEN_FATAL;
		}
		r->end = last + 1;
	}
	else
	{
		total = HttpStreamContentLength(stream);
		r->end = total;
	}

	/* the reply must start exactly where we asked */
	if (first != r->pos)
	{
		HttpStreamClose(stream);
		StoreSetError(err, TELEM_ERR_PROTOCOL, status, NULL,
					  "%s: asked for bytes from %lld, server sent bytes from %lld",
					  context, (long long) r->pos, (long long) first);
		return RANGED_OPEN_FATAL;
	}
	/* without an ETag, a size change is how we notice a new version */
	if (total >= 0 && r->total >= 0 && total != r->total)
	{
		HttpStreamClose(stream);
		StoreSetError(err, TELEM_ERR_PROTOCOL, status, NULL,
					  "%s: object changed while it was being read "
					  "(size %lld, now %lld)",
					  context, (long long) r->total, (long long) total);
		return RANGED_OPEN_FATAL;
	}
	if (total >= 0)
		r->total = total;
	r->stream = stream;
	return RANGED_OPEN_OK;
}

/*
 * The first half of an attempt at a GET of r's object from r->pos:
 * authorize it and start it, without waiting for the reply.  On
 * RANGED_OPEN_OK r->stream is the started stream (r->started).
 */
static RangedOpenResult
try_start(RangedReader *r, TelemError *err)
{
	const RangedSource *src = r->src;
	StoreHeaders h;
	HttpRequest req;
	HttpStream *stream;
	char	   *url = NULL;
	bool		ok;
	char		context[STORE_CONTEXT_LEN];

	reader_context(r, "could not read", context);
	memset(err, 0, sizeof(*err));
	memset(&h, 0, sizeof(h));

	/* first, so that a store that signs them (Azure) does */
	if (r->limit >= 0)
		ok = StoreHeadersAdd(&h, "Range", "bytes=%lld-%lld", (long long) r->pos,
							 (long long) r->limit - 1);
	else
		ok = (r->pos == 0 ||
			  StoreHeadersAdd(&h, "Range", "bytes=%lld-", (long long) r->pos));
	ok = ok &&
		(r->etag == NULL || StoreHeadersAdd(&h, "If-Match", "\"%s\"", r->etag));
	if (!ok)
	{
		StoreHeadersFree(&h);
		StoreOutOfMemory(err);
		return RANGED_OPEN_FATAL;
	}
	if (!src->authorize(src->arg, r->path, &h, &url, err))
	{
		StoreHeadersFree(&h);
		StoreFreeSecret(url);
		if (err->kind != TELEM_ERR_CANCELED)
			StoreErrorContext(err, context);
		return err->kind == TELEM_ERR_NETWORK ? RANGED_OPEN_RETRY :
			RANGED_OPEN_FATAL;
	}

	memset(&req, 0, sizeof(req));
	req.url = url;
	req.headers = (const char *const *) h.line;
	req.nheaders = h.n;
	stream = HttpStreamStart(src->http, &req, src->buffer_size, err);
	StoreHeadersFree(&h);
	StoreFreeSecret(url);
	if (stream == NULL)
	{
		StoreErrorContext(err, context);
		return RANGED_OPEN_FATAL;
	}
	r->stream = stream;
	r->started = true;
	return RANGED_OPEN_OK;
}

/*
 * The second half: wait for the reply to the started r->stream and check
 * it.  On RANGED_OPEN_OK either r->stream is open at r->pos or r->eof is
 * set; otherwise r->stream is closed and NULL.
 */
static RangedOpenResult
try_finish(RangedReader *r, bool resuming, TelemError *err)
{
	const RangedSource *src = r->src;
	HttpStream *stream = r->stream;
	int			curl_code = 0;
	long		status;
	char		context[STORE_CONTEXT_LEN];

	reader_context(r, "could not read", context);
	memset(err, 0, sizeof(*err));
	r->stream = NULL;
	r->started = false;
	if (!HttpStreamWaitHeaders(stream, err, &curl_code))
	{
		HttpStreamClose(stream);
		if (err->kind == TELEM_ERR_CANCELED)
			return RANGED_OPEN_FATAL;
		StoreErrorContext(err, context);
		return StoreRetryable(err, curl_code, 0) ? RANGED_OPEN_RETRY :
			RANGED_OPEN_FATAL;
	}

	status = HttpStreamStatus(stream);
	if (status == 200 || status == 206)
		return accept_reply(r, stream, status, context, err);

	if (status == 416 && r->pos > 0 && !resuming)
	{
		/* opened at or past the end: nothing to read */
		HttpStreamClose(stream);
		r->eof = true;
		return RANGED_OPEN_OK;
	}

	if (status == 412)
	{
		HttpStreamClose(stream);
		StoreSetError(err, TELEM_ERR_PROTOCOL, status, src->precondition_code,
					  resuming ?
					  "%s: object changed while it was being read (ETag is no longer \"%s\")" :
					  "%s: object changed since it was listed (ETag is no longer \"%s\")",
					  context, r->etag != NULL ? r->etag : "");
		return RANGED_OPEN_FATAL;
	}

	/* any other status: report the service's own error code and message */
	{
		size_t		len = 0;
		char	   *body = HttpStreamReadBody(stream, RANGED_ERROR_BODY_MAX,
											  &len);

		HttpStreamClose(stream);
		src->http_error(err, status, body, len, context);
		free(body);
		if (!HttpCheckInterrupt(err))
			return RANGED_OPEN_FATAL;
	}
	return HttpIsTransient(0, status) ? RANGED_OPEN_RETRY : RANGED_OPEN_FATAL;
}

/* One whole attempt: start, then wait for and check the reply. */
static RangedOpenResult
try_open(RangedReader *r, bool resuming, TelemError *err)
{
	RangedOpenResult res = try_start(r, err);

	return res == RANGED_OPEN_OK ? try_finish(r, resuming, err) : res;
}

/*
 * One more failed attempt: false (err gets the retry count) when the
 * budget is spent, else sleep the backoff and return true.
 */
static bool
spend_retry(RangedReader *r, TelemError *err)
{
	if (r->failures >= r->src->max_retries)
	{
		StoreErrorRetries(err, r->failures);
		return false;
	}
	r->failures++;
	/* the store's other readers keep downloading during the backoff */
	if (r->src->http->stats)
		r->src->http->stats->retries++;
	return HttpGroupSleep(r->src->http->group, StoreBackoffMs(r->failures),
						  err);
}

/*
 * (Re)open r's stream at r->pos, retrying transient failures while the
 * budget r->failures < max_retries lasts.  resuming means a transfer was
 * cut short, which counts in the reader's stats.
 */
static bool
connect_reader(RangedReader *r, bool resuming, TelemError *err)
{
	for (;;)
	{
		RangedOpenResult res = try_open(r, resuming, err);

		if (res == RANGED_OPEN_OK)
		{
			if (resuming)
				r->stats.resumes++;
			return true;
		}
		if (res == RANGED_OPEN_FATAL || !spend_retry(r, err))
			return false;
	}
}

/*
 * Start streaming obj, whose encoded request path is path, from offset to
 * end (exclusive; -1 for the end of the object).  The caller has checked
 * obj->key.  NULL with err set on failure.
 */
TelemReader *
RangedReaderOpen(TelemStore *store, const RangedSource *src,
				 const TelemObject *obj, int64_t offset, int64_t end,
				 const char *path, TelemError *err)
{
	RangedReader *r;
	bool		has_etag = obj->etag != NULL && obj->etag[0] != '\0';

	memset(err, 0, sizeof(*err));
	if (offset < 0 || (end >= 0 && end < offset))
	{
		char		context[STORE_CONTEXT_LEN];

		StoreObjectContext(context, "cannot read", src->scheme,
						   src->container, obj->key);
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "%s: bad range %lld-%lld", context, (long long) offset,
					  (long long) end);
		return NULL;
	}

	r = calloc(1, sizeof(RangedReader));
	if (r == NULL)
	{
		StoreOutOfMemory(err);
		return NULL;
	}
	r->base.store = store;
	r->src = src;
	r->pos = offset;
	r->limit = end;
	r->end = -1;
	r->total = -1;
	r->key = strdup(obj->key);
	r->path = path != NULL ? strdup(path) : NULL;
	r->etag = has_etag ? strdup(obj->etag) : NULL;
	if (r->key == NULL || r->path == NULL || (has_etag && r->etag == NULL))
	{
		RangedReaderClose(&r->base);
		StoreOutOfMemory(err);
		return NULL;
	}

	/* resuming at the very end of a listed object: nothing to fetch */
	if ((obj->size > 0 && offset >= obj->size) || offset == end)
	{
		r->eof = true;
		return &r->base;
	}

	/*
	 * Only start the GET: the reply is checked at the first read, so a
	 * caller can open several readers and have their requests in flight
	 * together.  Only a failure to start (authorization, memory) is
	 * reported here.
	 */
	switch (try_start(r, err))
	{
		case RANGED_OPEN_OK:
			return &r->base;
		case RANGED_OPEN_RETRY:
			if (spend_retry(r, err) && connect_reader(r, false, err))
				return &r->base;
			break;
		case RANGED_OPEN_FATAL:
			break;
	}
	RangedReaderClose(&r->base);
	return NULL;
}

/*
 * The first read of a reader whose GET was only started: check the reply,
 * retrying the whole GET as connect_reader does.
 */
static bool
finish_open(RangedReader *r, TelemError *err)
{
	switch (try_finish(r, false, err))
	{
		case RANGED_OPEN_OK:
			return true;
		case RANGED_OPEN_RETRY:
			return spend_retry(r, err) && connect_reader(r, false, err);
		case RANGED_OPEN_FATAL:
			break;
	}
	return false;
}

/*
 * The next bytes of the object: 0 at its end, -1 with err set on failure.
 * A dropped transfer is resumed here, invisibly to the caller.
 */
ssize_t
RangedReaderRead(TelemReader *reader, void *buf, size_t len, TelemError *err)
{
	RangedReader *r = (RangedReader *) reader;
	char		context[STORE_CONTEXT_LEN];

	if (len == 0)
		return 0;
	if (r->limit >= 0 && r->pos >= r->limit)
		return 0;
	if (r->limit >= 0 && (int64_t) len > r->limit - r->pos)
		len = (size_t) (r->limit - r->pos);
	for (;;)
	{
		ssize_t		n;
		int			curl_code;

		if (r->started && !finish_open(r, err))
			return -1;
		if (r->eof)
			return 0;
		if (r->stream == NULL)
		{
			/* an earlier resume failed and the caller tries again */
			if (!connect_reader(r, true, err))
				return -1;
			continue;
		}

		memset(err, 0, sizeof(*err));
		n = HttpStreamRead(r->stream, buf, len, err);
		if (n > 0)
		{
			r->pos += n;
			r->stats.bytes_read += n;
			r->failures = 0;
			return n;
		}

		reader_context(r, "could not read", context);
		if (n == 0)
		{
			int64_t		expect = r->end >= 0 ? r->end : r->total;

			if (expect < 0 || r->pos >= expect)
			{
				HttpStreamClose(r->stream);
				r->stream = NULL;
				r->eof = true;
				return 0;
			}
			/* a clean end before the announced length is a dropped body */
			StoreSetError(err, TELEM_ERR_NETWORK, 0, NULL,
						  "%s: body ended after byte %lld of %lld", context,
						  (long long) r->pos, (long long) expect);
		}
		else
		{
			curl_code = HttpStreamResult(r->stream);
			if (err->kind == TELEM_ERR_CANCELED ||
				err->kind == TELEM_ERR_OUT_OF_MEMORY ||
				!HttpIsResumable(curl_code))
			{
				if (err->kind != TELEM_ERR_CANCELED)
					StoreErrorContext(err, context);
				return -1;
			}
			StoreErrorContext(err, context);
		}

		/* resume from the first byte we have not received */
		HttpStreamClose(r->stream);
		r->stream = NULL;
		if (!spend_retry(r, err) || !connect_reader(r, true, err))
			return -1;
	}
}

/* Abort any transfer and free the reader; NULL is fine. */
void
RangedReaderClose(TelemReader *reader)
{
	RangedReader *r = (RangedReader *) reader;

	if (r == NULL)
		return;
	HttpStreamClose(r->stream);
	free(r->key);
	free(r->path);
	free(r->etag);
	free(r);
}

/* The reader's counters; the caller has checked it is a ranged reader. */
void
RangedReaderStats(const TelemReader *reader, TelemReaderStats *stats)
{
	*stats = ((const RangedReader *) reader)->stats;
}
