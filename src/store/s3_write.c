/*-------------------------------------------------------------------------
 *
 * s3_write.c
 *		The S3 object store's write side: HEAD, PUT, multipart upload, DELETE.
 *
 * A writer fills one block of block_size bytes at a time.  An object that
 * fits in one block goes up as a single PUT at commit; anything larger
 * becomes a multipart upload, initiated when the first block is full and
 * more bytes arrive, so every part but the last is exactly block_size
 * (S3 wants >= 5 MB) and the last is never empty.  Memory stays at one
 * block however large the object is.  Nothing is visible under the key
 * until the PUT or CompleteMultipartUpload succeeds.
 *
 * Every body is signed with its real SHA-256 (x-amz-content-sha256) and
 * carries a signed Content-MD5, so S3 refuses a body damaged on the way
 * (BadDigest) instead of storing it.  Each request is retried on its own
 * after a transient failure, with the reading side's backoff; an upload's
 * body is still in memory, so a part is simply sent again.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/s3_write.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "s3_internal.h"
#include "s3_listing.h"
#include "sigv4.h"
#include "store.h"
#include "store_util.h"

#define S3_DEFAULT_BLOCK	((size_t) 8 * 1024 * 1024)
#define S3_MIN_PART			((size_t) 5 * 1024 * 1024)
#define S3_MAX_PART			((size_t) 5 * 1024 * 1024 * 1024)
#define S3_MAX_PARTS		10000
#define S3_MIN_ALLOC		(64 * 1024)
#define S3_TAG_MAX			255
#define S3_TAG_HEADER_RGW	"x-amz-meta-telem-source"

typedef struct S3Writer
{
	TelemWriter base;
	S3Store    *s3;
	char	   *key;			/* as given, for messages */
	char	   *path;			/* encoded request path, as sent and signed */
	char	   *source_tag;		/* NULL when none */
	size_t		block_size;

	/* the block being filled; grows up to block_size */
	char	   *buf;
	size_t		len;
	size_t		cap;

	char	   *upload_id;		/* multipart upload under way, or NULL */
	char	   *enc_upload_id;	/* upload_id URI-encoded, as sent */
	char	  **etags;			/* ETag of part i+1, quotes kept */
	int			nparts;
	int			etags_cap;

	bool		committed;
	bool		failed;			/* an upload failed; only discard is left */
	TelemError	failure;		/* what failed, repeated to later calls */
	TelemWriterStats stats;
} S3Writer;



/* The encoded request path of key, malloc'd; NULL when out of memory. */
static char *
object_path(S3Store *s, const char *key)
{
	char	   *enc_key = SigV4UriEncode(key, true);
	char	   *path = NULL;

	if (enc_key != NULL)
		path = StorePrintf("%s/%s", s->bucket_path, enc_key);
	free(enc_key);
	return path;
}

/* head: size, ETag, Last-Modified and telem_source of the object at key. */
bool
S3Head(TelemStore *store, const char *key, TelemObjectInfo *info,
	   bool *found, TelemError *err)
{
	S3Store    *s = (S3Store *) store;
	char		context[STORE_CONTEXT_LEN];
	char		value[64];
	char	   *path;
	char	   *end;
	S3Call		call;
	HttpResponse resp;
	bool		ok;

	memset(info, 0, sizeof(*info));
	memset(err, 0, sizeof(*err));
	*found = false;
	if (key == NULL || key[0] == '\0')
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "S3 object key is empty");
	StoreObjectContext(context, "could not look up", "s3", s->bucket, key);
	path = object_path(s, key);
	if (path == NULL)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							 "out of memory");

	/*
	 * A HEAD reply has no body, so a missing bucket looks like a missing
	 * key here: both are "not found".
	 */
	memset(&call, 0, sizeof(call));
	call.method = "HEAD";
	call.path = path;
	call.accept = 404;
	call.max_retries = s->max_retries;
	ok = S3Request(s, &call, context, &resp, NULL, err);
	free(path);
	if (!ok)
		return false;
	if (resp.status == 404)
	{
		HttpResponseFree(&resp);
		return true;
	}

	if (!HttpHeaderValue(resp.headers, "Content-Length", value,
						 sizeof(value)) ||
		value[0] < '0' || value[0] > '9' ||
		(info->size = strtoll(value, &end, 10)) < 0 || *end != '\0')
	{
		HttpResponseFree(&resp);
		memset(info, 0, sizeof(*info));
		return StoreSetError(err, TELEM_ERR_PROTOCOL, 200, NULL,
							 "%s: HEAD reply without a valid Content-Length",
							 context);
	}
	if (HttpHeaderValue(resp.headers, "ETag", info->etag, sizeof(info->etag)))
		StoreUnquote(info->etag);
	/* an odd date is no reason to fail: 0 means unknown */
	if (HttpHeaderValue(resp.headers, "Last-Modified", value, sizeof(value)) &&
		!S3ParseHttpDate(value, &info->last_modified))
		info->last_modified = 0;
	/* Ceph RGW hands metadata names back with '_' turned into '-' */
	if (!HttpHeaderValue(resp.headers, S3_TAG_HEADER, info->source_tag,
						 sizeof(info->source_tag)))
		HttpHeaderValue(resp.headers, S3_TAG_HEADER_RGW, info->source_tag,
						sizeof(info->source_tag));
	HttpResponseFree(&resp);
	*found = true;
	return true;
}

/* Is tag a valid source_tag (printable ASCII without '"', <= 255 bytes)? */
static bool
valid_source_tag(const char *tag)
{
	size_t		n = 0;

	for (; tag[n] != '\0'; n++)
		if ((unsigned char) tag[n] < 0x20 || (unsigned char) tag[n] > 0x7E ||
			tag[n] == '"')
			return false;
	return n <= S3_TAG_MAX;
}

/* create: start writing key; nothing is sent until a block is full. */
TelemWriter *
S3Create(TelemStore *store, const char *key, const TelemWriteOptions *opts,
		 TelemError *err)
{
	S3Store    *s = (S3Store *) store;
	S3Writer   *w;
	size_t		block_size = opts != NULL ? opts->block_size : 0;
	const char *tag = opts != NULL ? opts->source_tag : NULL;
	char		context[STORE_CONTEXT_LEN];

	memset(err, 0, sizeof(*err));
	if (key == NULL || key[0] == '\0')
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL, "S3 object key is empty");
		return NULL;
	}
	StoreObjectContext(context, "cannot write", "s3", s->bucket, key);
	if (block_size == 0)
		block_size = S3_DEFAULT_BLOCK;
	if (block_size < S3_MIN_PART || block_size > S3_MAX_PART)
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "%s: block size %zu is out of range for S3 parts "
					  "(%zu to %zu bytes)",
					  context, block_size, S3_MIN_PART, S3_MAX_PART);
		return NULL;
	}
	if (tag != NULL && !valid_source_tag(tag))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "%s: source tag must be at most %d bytes of printable "
					  "ASCII without '\"'", context, S3_TAG_MAX);
		return NULL;
	}

	w = calloc(1, sizeof(S3Writer));
	if (w == NULL)
	{
		StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
		return NULL;
	}
	w->base.store = store;
	w->s3 = s;
	w->block_size = block_size;
	w->key = strdup(key);
	w->path = object_path(s, key);
	w->source_tag = tag != NULL ? strdup(tag) : NULL;
	if (w->key == NULL || w->path == NULL ||
		(tag != NULL && w->source_tag == NULL))
	{
		S3Discard(&w->base);
		StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
		return NULL;
	}
	return &w->base;
}

/* Remember err as the writer's failure; later calls repeat it. */
static bool
writer_fail(S3Writer *w, const TelemError *err)
{
	w->failed = true;
	w->failure = *err;
	return false;
}

/* Start the multipart upload; w->upload_id is set on success. */
static bool
initiate_upload(S3Writer *w, const char *context, TelemError *err)
{
	S3Store    *s = w->s3;
	S3Call		call;
	HttpResponse resp;
	char	   *id = NULL;
	bool		ok;

	memset(&call, 0, sizeof(call));
	call.method = "POST";
	call.path = w->path;
	call.query = "uploads=";
	call.source_tag = w->source_tag;
	call.max_retries = s->max_retries;
	if (!S3Request(s, &call, context, &resp, NULL, err))
		return false;
	ok = S3ParseInitiateMultipart(resp.body, resp.body_len, &id, err);
	HttpResponseFree(&resp);
	if (!ok)
	{
		StoreErrorContext(err, context);
		return false;
	}
	w->upload_id = id;
	w->enc_upload_id = SigV4UriEncode(id, false);
	if (w->enc_upload_id == NULL)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							 "out of memory");
	return true;
}

/* Upload the buffered block as the next part, initiating if need be. */
static bool
upload_part(S3Writer *w, TelemError *err)
{
	S3Store    *s = w->s3;
	char		context[STORE_CONTEXT_LEN];
	char		etag[256];
	char	   *query;
	char	   *copy;
	S3Call		call;
	HttpResponse resp;
	int			partno = w->nparts + 1;
	bool		ok;

	StoreObjectContext(context, "could not write", "s3", s->bucket, w->key);
	if (w->upload_id == NULL && !initiate_upload(w, context, err))
		return false;
	if (partno > S3_MAX_PARTS)
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "%s: object needs more than %d parts of %zu bytes; "
							 "use a larger block size",
							 context, S3_MAX_PARTS, w->block_size);
	if (w->nparts == w->etags_cap)
	{
		int			cap = w->etags_cap > 0 ? w->etags_cap * 2 : 16;
		char	  **p = realloc(w->etags, cap * sizeof(char *));

		if (p == NULL)
			return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
								 "out of memory");
		w->etags = p;
		w->etags_cap = cap;
	}

	/* parameters in canonical (sorted) order, as sent and signed */
	query = StorePrintf("partNumber=%d&uploadId=%s", partno, w->enc_upload_id);
	if (query == NULL)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							 "out of memory");
	memset(&call, 0, sizeof(call));
	call.method = "PUT";
	call.path = w->path;
	call.query = query;
	call.body = w->buf;
	call.body_len = w->len;
	call.content_md5 = true;
	call.max_retries = s->max_retries;
	ok = S3Request(s, &call, context, &resp, &w->stats.retries, err);
	free(query);
	if (!ok)
		return false;
	HttpHeaderValue(resp.headers, "ETag", etag, sizeof(etag));
	HttpResponseFree(&resp);
	if (etag[0] == '\0')
		return StoreSetError(err, TELEM_ERR_PROTOCOL, 200, NULL,
							 "%s: no ETag in the reply to part %d", context,
							 partno);
	copy = strdup(etag);
	if (copy == NULL)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							 "out of memory");
	w->etags[w->nparts++] = copy;
	w->stats.blocks++;
	w->len = 0;
	return true;
}

/* write: buffer bytes; a full block goes up once more bytes follow it. */
bool
S3Write(TelemWriter *writer, const void *buf, size_t len, TelemError *err)
{
	S3Writer   *w = (S3Writer *) writer;
	const char *p = buf;

	memset(err, 0, sizeof(*err));
	if (w->failed)
	{
		*err = w->failure;
		return false;
	}
	if (w->committed)
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "S3 object \"%.300s\" was already committed", w->key);
	while (len > 0)
	{
		size_t		n;

		/*
		 * Upload a full block only now that more bytes follow: an object of
		 * exactly one block stays a single PUT, and the last part is never
		 * empty.
		 */
		if (w->len == w->block_size && !upload_part(w, err))
			return writer_fail(w, err);
		n = w->block_size - w->len;
		if (n > len)
			n = len;
		if (w->len + n > w->cap)
		{
			size_t		cap = w->cap > 0 ? w->cap : S3_MIN_ALLOC;
			char	   *nb;

			while (cap < w->len + n)
				cap *= 2;
			if (cap > w->block_size)
				cap = w->block_size;
			nb = realloc(w->buf, cap);
			if (nb == NULL)
			{
				StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							  "out of memory");
				return writer_fail(w, err);
			}
			w->buf = nb;
			w->cap = cap;
		}
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		w->stats.bytes_written += n;
	}
	return true;
}

/* Is this <Error> code from a 200 Complete reply worth another try? */
static bool
complete_retryable(const TelemError *err)
{
	return strcmp(err->code, "InternalError") == 0 ||
		strcmp(err->code, "SlowDown") == 0 ||
		strcmp(err->code, "ServiceUnavailable") == 0;
}

/* Send CompleteMultipartUpload for the parts uploaded so far. */
static bool
complete_upload(S3Writer *w, const char *context, TelemError *err)
{
	S3Store    *s = w->s3;
	char	   *query;
	char		etag[256];
	char	   *body;
	size_t		body_len;
	S3Call		call;
	HttpResponse resp;
	int			attempt = 0;
	bool		ok = false;

	body = S3BuildCompleteMultipart((const char *const *) w->etags,
									w->nparts, &body_len);
	query = StorePrintf("uploadId=%s", w->enc_upload_id);
	if (body == NULL || query == NULL)
	{
		free(body);
		free(query);
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							 "out of memory");
	}
	memset(&call, 0, sizeof(call));
	call.method = "POST";
	call.path = w->path;
	call.query = query;
	call.body = body;
	call.body_len = body_len;
	call.max_retries = s->max_retries;

	/*
	 * S3 may answer 200 and report a failure in the body; some of those
	 * (InternalError) ask for the request to be repeated.
	 */
	for (;;)
	{
		if (!S3Request(s, &call, context, &resp, NULL, err))
			break;
		ok = S3ParseCompleteMultipart(resp.body, resp.body_len, etag, err);
		HttpResponseFree(&resp);
		if (ok)
			break;
		StoreErrorContext(err, context);
		if (!complete_retryable(err) || attempt >= s->max_retries)
		{
			StoreErrorRetries(err, attempt);
			break;
		}
		attempt++;
		if (!HttpSleep(StoreBackoffMs(attempt), err))
			break;
	}
	free(body);
	free(query);
	return ok;
}

/* commit: upload what is buffered, make the object visible, HEAD it. */
bool
S3Commit(TelemWriter *writer, TelemObjectInfo *info, TelemError *err)
{
	S3Writer   *w = (S3Writer *) writer;
	S3Store    *s = w->s3;
	char		context[STORE_CONTEXT_LEN];
	bool		found;

	memset(info, 0, sizeof(*info));
	memset(err, 0, sizeof(*err));
	if (w->failed)
	{
		*err = w->failure;
		return false;
	}
	if (w->committed)
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "S3 object \"%.300s\" was already committed", w->key);
	StoreObjectContext(context, "could not write", "s3", s->bucket, w->key);

	if (w->upload_id == NULL)
	{
		S3Call		call;
		HttpResponse resp;

		memset(&call, 0, sizeof(call));
		call.method = "PUT";
		call.path = w->path;
		call.body = w->buf;
		call.body_len = w->len;
		call.content_md5 = true;
		call.source_tag = w->source_tag;
		call.max_retries = s->max_retries;
		if (!S3Request(s, &call, context, &resp, &w->stats.retries, err))
			return writer_fail(w, err);
		HttpResponseFree(&resp);
		w->stats.blocks++;
	}
	else if (!upload_part(w, err) || !complete_upload(w, context, err))
		return writer_fail(w, err);
	w->committed = true;

	/* the block is no longer needed */
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;

	if (!S3Head(&s->base, w->key, info, &found, err))
		return false;
	if (!found)
		return StoreSetError(err, TELEM_ERR_PROTOCOL, 0, NULL,
							 "%s: object is not there right after its commit",
							 context);
	return true;
}

/* discard: free the writer, aborting an uncommitted multipart upload. */
void
S3Discard(TelemWriter *writer)
{
	S3Writer   *w = (S3Writer *) writer;
	int			i;

	if (w == NULL)
		return;
	if (!w->committed && w->enc_upload_id != NULL)
	{
		char		context[STORE_CONTEXT_LEN];
		char	   *query = StorePrintf("uploadId=%s", w->enc_upload_id);
		S3Call		call;
		HttpResponse resp;
		TelemError	ignored;

		/*
		 * Best effort, one attempt: this may run while a query is being
		 * canceled.  A bucket lifecycle rule (AbortIncompleteMultipartUpload)
		 * collects what is left behind.
		 */
		StoreObjectContext(context, "could not abort upload of", "s3", w->s3->bucket, w->key);
		memset(&call, 0, sizeof(call));
		call.method = "DELETE";
		call.path = w->path;
		call.query = query;
		call.accept = 404;
		call.max_retries = 0;
		if (query != NULL &&
			S3Request(w->s3, &call, context, &resp, NULL, &ignored))
			HttpResponseFree(&resp);
		free(query);
	}
	for (i = 0; i < w->nparts; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->buf);
	free(w->upload_id);
	free(w->enc_upload_id);
	free(w->source_tag);
	free(w->key);
	free(w->path);
	free(w);
}

/* remove: DELETE the object at key; a missing one is fine. */
bool
S3Remove(TelemStore *store, const char *key, TelemError *err)
{
	S3Store    *s = (S3Store *) store;
	char		context[STORE_CONTEXT_LEN];
	char	   *path;
	S3Call		call;
	HttpResponse resp;
	bool		ok;

	memset(err, 0, sizeof(*err));
	if (key == NULL || key[0] == '\0')
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "S3 object key is empty");
	StoreObjectContext(context, "could not delete", "s3", s->bucket, key);
	path = object_path(s, key);
	if (path == NULL)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							 "out of memory");
	memset(&call, 0, sizeof(call));
	call.method = "DELETE";
	call.path = path;
	call.accept = 404;			/* S3 says 204 anyway; some servers 404 */
	call.max_retries = s->max_retries;
	ok = S3Request(s, &call, context, &resp, NULL, err);
	free(path);
	if (ok)
		HttpResponseFree(&resp);
	return ok;
}

void
S3WriterStats(TelemWriter *writer, TelemWriterStats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (writer == NULL || writer->store == NULL ||
		writer->store->ops->commit != S3Commit)
		return;
	*stats = ((S3Writer *) writer)->stats;
}
