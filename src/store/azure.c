/*-------------------------------------------------------------------------
 *
 * azure.c
 *		The Azure Blob Storage store: listings, resumable reads, block
 *		uploads.
 *
 * Requests are authorized with Shared Key (azure_sign.c), a SAS token
 * appended to the query, an Entra ID bearer token (azure_token.c), or not
 * at all for a public container.  URLs are ENDPOINT/CONTAINER/BLOB, the
 * blob name percent-encoded once with '/' kept; that same path is sent and
 * signed.
 *
 * Listing uses List Blobs with its opaque marker as the page token (a
 * listing by level adds delimiter=/ and reads <BlobPrefix>).  Azure
 * has no "start after": the marker cannot be built from a key, so with
 * start_after we list from the prefix and drop keys <= start_after on our
 * side.  That reads the older pages once more, but it is exact and needs
 * nothing undocumented.  Pages may then come back empty with a token.
 *
 * A reader is a resumable ranged GET (ranged_reader.c), shared with the
 * S3 store: it resumes a dropped transfer with "Range: bytes=N-" and
 * "If-Match" on the listed ETag, so a resumed read never joins two
 * versions of a blob.  This file signs its requests (Range and If-Match
 * included, as Shared Key requires) and reads Azure's error replies.
 *
 * A writer holds one block (opts->block_size, 8 MB by default) at a time,
 * uploads each with Put Block (Content-MD5 checked by the service) and
 * makes the blob visible with Put Block List, which is atomic.  Block ids
 * carry a random per-writer nonce, so two writers of one blob never use
 * each other's uncommitted blocks.  Every request is retried with backoff
 * on transient failures; Put Block and Put Block List are idempotent.
 *
 * Plain C; no postgres.h (see store.h).  Secrets (the account key, SAS
 * token, bearer token, Authorization header, any URL holding a SAS) are
 * never put into an error message; our copies are wiped before they are
 * freed.
 *
 * IDENTIFICATION
 *		src/store/azure.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "azure_listing.h"
#include "azure_sign.h"
#include "azure_token.h"
#include "http.h"
#include "ranged_reader.h"
#include "store.h"
#include "store_util.h"

#define AZ_VERSION			"2023-11-03"
#define AZ_LIST_MAX_BODY	(64 * 1024 * 1024)	/* 5000 long names fit */
#define AZ_SMALL_BODY_MAX	(64 * 1024) /* replies to PUT, HEAD, DELETE */
#define AZ_DEFAULT_BUFFER	(1024 * 1024)
#define AZ_DEFAULT_BLOCK	((size_t) 8 * 1024 * 1024)
#define AZ_MAX_BLOCK		((size_t) 4000 * 1024 * 1024)
#define AZ_MAX_BLOCKS		50000
#define AZ_MAX_KEY			1024
#define AZ_MAX_RETRIES_CAP	100
#define AZ_NONCE_LEN		16	/* hex digits of a block id's nonce */
#define AZ_META_SOURCE		"x-ms-meta-telem_source"

typedef struct AzureStore
{
	TelemStore	base;
	char	   *account;		/* NULL when not needed */
	char	   *container;
	AzureAuthKind auth;
	unsigned char *key;			/* decoded account key */
	size_t		keylen;
	char	   *sas;			/* without the leading '?' */
	AzureTokenConfig *token;
	char	   *origin;			/* "scheme://host[:port]" */
	char	   *base_path;		/* endpoint path without trailing '/', or "" */
	char	   *ca_file;
	HttpConfig	http;
	int			page_size;
	int			max_retries;
	size_t		buffer_size;
	HttpClient *client;			/* for complete requests; keeps its
								 * connection */
	RangedSource reader;		/* how readers reach the container */
} AzureStore;

typedef struct AzureWriter
{
	TelemWriter base;
	AzureStore *az;
	char	   *key;
	char	   *path;
	char	   *source_tag;		/* NULL for none */
	unsigned char *block;		/* allocated at the first write */
	size_t		block_size;
	size_t		used;
	char		nonce[AZ_NONCE_LEN + 1];
	bool		committed;
	bool		broken;			/* a block failed: the upload is lost */
	TelemWriterStats stats;
} AzureWriter;

/* One complete (non-streaming) request. */
typedef struct AzCall
{
	const char *method;
	const char *path;			/* encoded, as sent and signed */
	const char *query;			/* without SAS; NULL for none */
	const char *const *hname;	/* extra headers, signed */
	const char *const *hvalue;
	int			nh;
	const void *body;
	size_t		body_len;
	size_t		max_body;
	bool		ok_404;			/* a 404 is an answer, not an error */
} AzCall;

static const TelemStoreOps azure_ops;


/*
 * Complete h for a request: add x-ms-date, x-ms-version and the
 * Authorization the store's auth kind calls for (signed over every header
 * in h, so add Range, If-Match, Content-MD5 and metadata first).  path
 * and query are as sent, query without SAS.
 */
static bool
az_authorize(AzureStore *s, const char *method, const char *path,
			 const char *query, uint64_t content_length, StoreHeaders *h,
			 TelemError *err)
{
	char		date[30];
	int			i;

	AzureFormatDate((int64_t) time(NULL), date);
	if (date[0] == '\0')
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "could not format the current time for Azure");
	if (!StoreHeadersAdd(h, "x-ms-date", "%s", date) ||
		!StoreHeadersAdd(h, "x-ms-version", "%s", AZ_VERSION))
		return StoreOutOfMemory(err);

	if (s->auth == AZURE_AUTH_SHARED_KEY)
	{
		AzureHeader sh[STORE_MAX_HEADERS];
		AzureSignRequest req;
		char	   *auth;
		bool		ok;

		for (i = 0; i < h->n; i++)
		{
			sh[i].name = h->name[i];
			sh[i].value = h->value[i];
		}
		req.method = method;
		req.path = path;
		req.query = query;
		req.headers = sh;
		req.nheaders = h->n;
		req.content_length = content_length;
		auth = AzureSharedKeyAuthorization(s->account, s->key, s->keylen,
										   &req);
		if (auth == NULL)
			return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
								 "could not compute the Azure request signature");
		ok = StoreHeadersAdd(h, "Authorization", "%s", auth);
		StoreFreeSecret(auth);
		if (!ok)
			return StoreOutOfMemory(err);
	}
	else if (s->auth == AZURE_AUTH_BEARER)
	{
		char	   *token = NULL;
		bool		ok;

		if (!AzureTokenGet(s->token, &token, err))
			return false;
		ok = StoreHeadersAdd(h, "Authorization", "Bearer %s", token);
		AzureTokenFree(token);
		if (!ok)
			return StoreOutOfMemory(err);
	}
	return true;
}

/* The URL for path and query (without SAS); may hold the SAS: a secret. */
static char *
az_url(AzureStore *s, const char *path, const char *query)
{
	char	   *q = AzureQueryWithSas(query, s->auth == AZURE_AUTH_SAS ?
									  s->sas : NULL);
	char	   *url;

	if (q == NULL)
		return NULL;
	url = StorePrintf("%s%s%s%s", s->origin, path, q[0] != '\0' ? "?" : "", q);
	StoreFreeSecret(q);
	return url;
}

/*
 * Fill err from a non-2xx reply.  Azure's error code comes from the
 * x-ms-error-code header (a HEAD has no body) or else the <Error> body,
 * its message from the body.  context says what was being done.
 */
static bool
az_http_error(TelemError *err, long status, const char *headers,
			  const char *body, size_t len, const char *context)
{
	char		code[64];
	char		message[256];
	char		hcode[64];

	TelemErrorKind kind = HttpErrorKind(0, status);

	AzureParseErrorBody(body, len, code, message);
	if (headers != NULL && HttpHeaderValue(headers, "x-ms-error-code", hcode,
										   sizeof(hcode)) && hcode[0] != '\0')
		memcpy(code, hcode, sizeof(code));

	/*
	 * Azure answers a malformed or unusable Authorization with 400
	 * InvalidAuthenticationInfo (Azurite does so for a wrong key when it
	 * also accepts OAuth); that is a credentials problem, not a protocol one.
	 */
	if (strcmp(code, "InvalidAuthenticationInfo") == 0 ||
		strcmp(code, "NoAuthenticationInformation") == 0)
		kind = TELEM_ERR_AUTH;
	return StoreSetError(err, kind, status, code,
						 "%s: HTTP %ld%s%s%s%s", context, status,
						 code[0] != '\0' ? " " : "", code,
						 message[0] != '\0' ? ": " : "", message);
}

/* An AzCall on its way through StorePerform. */
typedef struct AzAttempt
{
	AzureStore *s;
	const AzCall *call;
} AzAttempt;

/* StoreRequester.authorize: the call's headers, then x-ms-*, signed. */
static bool
az_authorize_call(void *arg, StoreHeaders *h, TelemError *err)
{
	AzAttempt  *at = (AzAttempt *) arg;
	const AzCall *call = at->call;
	int			i;

	for (i = 0; i < call->nh; i++)
		if (!StoreHeadersAdd(h, call->hname[i], "%s", call->hvalue[i]))
			return StoreOutOfMemory(err);
	return az_authorize(at->s, call->method, call->path, call->query,
						call->body_len, h, err);
}

/* StoreRequester.reply_error: Azure's code may be in a header. */
static bool
az_reply_error(TelemError *err, const HttpResponse *resp, const char *context)
{
	return az_http_error(err, resp->status, resp->headers, resp->body,
						 resp->body_len, context);
}

/*
 * Perform call, retrying transient failures up to max_retries times with
 * backoff.  Returns true with resp holding a 2xx reply (or a 404 when
 * call->ok_404); the caller frees it.  Otherwise false with err set, the
 * message starting with context.  *retries (if not NULL) gets the number
 * of repeated attempts.
 */
static bool
az_perform(AzureStore *s, const AzCall *call, const char *context,
		   HttpResponse *resp, int *retries, TelemError *err)
{
	AzAttempt	at = {s, call};
	StoreRequester rq = {az_authorize_call, az_reply_error, &at};
	HttpRequest req;
	char	   *url = az_url(s, call->path, call->query);
	bool		ok;

	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	if (retries != NULL)
		*retries = 0;
	if (url == NULL)
		return StoreOutOfMemory(err);
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.method = call->method;
	req.body = call->body;
	req.body_len = call->body_len;
	ok = StorePerform(s->client, &req, call->max_body,
					  call->ok_404 ? 404 : 0, s->max_retries, &rq, context,
					  resp, retries, err);
	StoreFreeSecret(url);
	return ok;
}

/* The encoded request path of blob key: BASE/CONTAINER/KEY. */
static char *
az_blob_path(AzureStore *s, const char *key)
{
	char	   *enc = AzureUrlEncode(key, true);
	char	   *path;

	if (enc == NULL)
		return NULL;
	path = StorePrintf("%s/%s/%s", s->base_path, s->container, enc);
	free(enc);
	return path;
}

/* Check a blob name; false with err set if Azure could not hold it. */
static bool
az_check_key(AzureStore *s, const char *key, const char *verb,
			 TelemError *err)
{
	char		context[STORE_CONTEXT_LEN];

	if (key == NULL || key[0] == '\0')
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "Azure blob name is empty");
	if (strlen(key) > AZ_MAX_KEY)
	{
		StoreObjectContext(context, verb, "az", s->container, key);
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "%s: blob name is longer than %d bytes", context,
							 AZ_MAX_KEY);
	}
	return true;
}

/*
 * One List Blobs page of blobs under prefix, continuing at token (NULL for
 * the first page); with delimited, one level only (delimiter=/, which
 * brings <BlobPrefix> entries).  Keys <= start_after are dropped here; see
 * the file header.
 */
static bool
az_list(AzureStore *s, const char *prefix, const char *start_after,
		const char *token, bool delimited, TelemObjectPage *page,
		TelemError *err)
{
	char	   *enc_prefix = NULL;
	char	   *enc_token = NULL;
	char	   *query = NULL;
	char	   *path = NULL;
	char		context[STORE_CONTEXT_LEN];
	AzCall		call;
	HttpResponse resp;
	bool		ok = false;

	memset(page, 0, sizeof(*page));
	memset(err, 0, sizeof(*err));
	if (prefix == NULL)
		prefix = "";
	StoreObjectContext(context, "could not list", "az", s->container, prefix);

	enc_prefix = AzureUrlEncode(prefix, false);
	enc_token = token != NULL ? AzureUrlEncode(token, false) : NULL;
	if (enc_prefix != NULL && (token == NULL || enc_token != NULL))
		query = StorePrintf("restype=container&comp=list%s&maxresults=%d%s%s%s%s",
							delimited ? "&delimiter=%2F" : "",
							s->page_size,
							prefix[0] != '\0' ? "&prefix=" : "",
							prefix[0] != '\0' ? enc_prefix : "",
							token != NULL ? "&marker=" : "",
							token != NULL ? enc_token : "");
	path = StorePrintf("%s/%s", s->base_path, s->container);
	if (query == NULL || path == NULL)
	{
		StoreOutOfMemory(err);
		goto done;
	}

	memset(&call, 0, sizeof(call));
	call.method = "GET";
	call.path = path;
	call.query = query;
	call.max_body = AZ_LIST_MAX_BODY;
	if (!az_perform(s, &call, context, &resp, NULL, err))
		goto done;
	ok = AzureParseListing(resp.body, resp.body_len, page, err);
	HttpResponseFree(&resp);
	if (!ok)
	{
		StoreErrorContext(err, context);
		goto done;
	}

	if (start_after != NULL && start_after[0] != '\0')
	{
		int			keep = 0;
		int			i;

		for (i = 0; i < page->nobjects; i++)
		{
			TelemObject *o = &page->objects[i];

			if (strcmp(o->key, start_after) <= 0)
			{
				free(o->key);
				free(o->etag);
				continue;
			}
			page->objects[keep++] = *o;
		}
		page->nobjects = keep;
	}

done:
	free(enc_prefix);
	free(enc_token);
	free(query);
	free(path);
	return ok;
}

/* list_page: see az_list. */
static bool
az_list_page(TelemStore *store, const char *prefix, const char *start_after,
			 const char *token, TelemObjectPage *page, TelemError *err)
{
	return az_list((AzureStore *) store, prefix, start_after, token, false,
				   page, err);
}

/*
 * list_level: one delimited List Blobs page.  A blob named like the prefix
 * (a zero-byte "folder" marker) is not an object of the level: dropped.
 */
static bool
az_list_level(TelemStore *store, const char *prefix, const char *token,
			  TelemObjectPage *page, TelemError *err)
{
	if (!az_list((AzureStore *) store, prefix, NULL, token, true, page, err))
		return false;
	StorePageDropKey(page, prefix);
	return true;
}

/*
 * RangedSource.authorize for a Get Blob of path: dates, version and the
 * authorization, signed over Range and If-Match (already in h).
 */
static bool
az_authorize_get(void *arg, const char *path, StoreHeaders *h, char **url,
				 TelemError *err)
{
	AzureStore *s = (AzureStore *) arg;

	if (!az_authorize(s, "GET", path, NULL, 0, h, err))
		return false;
	*url = az_url(s, path, NULL);
	return *url != NULL || StoreOutOfMemory(err);
}

/* RangedSource.http_error: a reader's reply carries no headers for us. */
static bool
az_reader_error(TelemError *err, long status, const char *body, size_t len,
				const char *context)
{
	return az_http_error(err, status, NULL, body, len, context);
}

/* pump: a non-blocking step of every open reader (store.h). */
static bool
az_pump(TelemStore *store, TelemError *err)
{
	return HttpGroupPump(((AzureStore *) store)->http.group, err);
}

/* open_range: start streaming obj's bytes [offset, end) (ranged_reader.c). */
static TelemReader *
az_open_range(TelemStore *store, const TelemObject *obj, int64_t offset,
			  int64_t end, TelemError *err)
{
	AzureStore *s = (AzureStore *) store;
	TelemReader *r;
	char	   *path;

	memset(err, 0, sizeof(*err));
	if (!az_check_key(s, obj != NULL ? obj->key : NULL, "cannot read", err))
		return NULL;
	path = az_blob_path(s, obj->key);
	if (path == NULL)
	{
		StoreOutOfMemory(err);
		return NULL;
	}
	r = RangedReaderOpen(store, &s->reader, obj, offset, end, path, err);
	free(path);
	return r;
}

/* open: start streaming obj from offset to its end. */
static TelemReader *
az_open(TelemStore *store, const TelemObject *obj, int64_t offset,
		TelemError *err)
{
	return az_open_range(store, obj, offset, -1, err);
}

/*
 * head: Get Blob Properties.  Size from Content-Length, the ETag bare,
 * Last-Modified, and the telem_source metadata.
 */
static bool
az_head(TelemStore *store, const char *key, TelemObjectInfo *info,
		bool *found, TelemError *err)
{
	AzureStore *s = (AzureStore *) store;
	char		context[STORE_CONTEXT_LEN];
	char		value[64];
	char	   *path;
	char	   *end;
	AzCall		call;
	HttpResponse resp;
	bool		ok;

	memset(info, 0, sizeof(*info));
	memset(err, 0, sizeof(*err));
	*found = false;
	if (!az_check_key(s, key, "could not look up", err))
		return false;
	StoreObjectContext(context, "could not look up", "az", s->container, key);
	path = az_blob_path(s, key);
	if (path == NULL)
		return StoreOutOfMemory(err);

	memset(&call, 0, sizeof(call));
	call.method = "HEAD";
	call.path = path;
	call.max_body = AZ_SMALL_BODY_MAX;
	call.ok_404 = true;
	ok = az_perform(s, &call, context, &resp, NULL, err);
	free(path);
	if (!ok)
		return false;
	if (resp.status == 404)
	{
		HttpResponseFree(&resp);
		return true;
	}

	if (!HttpHeaderValue(resp.headers, "Content-Length", value, sizeof(value)) ||
		value[0] < '0' || value[0] > '9' ||
		(info->size = strtoll(value, &end, 10)) < 0 || *end != '\0')
	{
		HttpResponseFree(&resp);
		return StoreSetError(err, TELEM_ERR_PROTOCOL, 200, NULL,
							 "%s: reply has no valid Content-Length", context);
	}
	HttpHeaderValue(resp.headers, "ETag", info->etag, sizeof(info->etag));
	StoreUnquote(info->etag);
	if (HttpHeaderValue(resp.headers, "Last-Modified", value, sizeof(value)) &&
		!AzureParseHttpDate(value, &info->last_modified))
	{
		HttpResponseFree(&resp);
		return StoreSetError(err, TELEM_ERR_PROTOCOL, 200, NULL,
							 "%s: reply has a malformed Last-Modified", context);
	}
	HttpHeaderValue(resp.headers, AZ_META_SOURCE, info->source_tag,
					sizeof(info->source_tag));
	HttpResponseFree(&resp);
	*found = true;
	return true;
}

/* remove: Delete Blob; a missing blob is fine. */
static bool
az_remove(TelemStore *store, const char *key, TelemError *err)
{
	AzureStore *s = (AzureStore *) store;
	char		context[STORE_CONTEXT_LEN];
	char	   *path;
	AzCall		call;
	HttpResponse resp;
	bool		ok;

	memset(err, 0, sizeof(*err));
	if (!az_check_key(s, key, "could not delete", err))
		return false;
	StoreObjectContext(context, "could not delete", "az", s->container, key);
	path = az_blob_path(s, key);
	if (path == NULL)
		return StoreOutOfMemory(err);

	memset(&call, 0, sizeof(call));
	call.method = "DELETE";
	call.path = path;
	call.max_body = AZ_SMALL_BODY_MAX;
	call.ok_404 = true;
	ok = az_perform(s, &call, context, &resp, NULL, err);
	free(path);
	if (ok)
		HttpResponseFree(&resp);
	return ok;
}

/*
 * The base64 id of block number n of w.  All ids of a blob must have the
 * same length: 16 hex digits of nonce and 8 digits of number, 24 bytes,
 * so 32 base64 characters without padding.
 */
static char *
block_id(const AzureWriter *w, int n)
{
	char		raw[AZ_NONCE_LEN + 9];

	snprintf(raw, sizeof(raw), "%s%08u", w->nonce,
			 (unsigned int) n % 100000000u);
	return AzureBase64Encode(raw, AZ_NONCE_LEN + 8);
}

static void az_discard(TelemWriter *writer);

/* create: start a block upload of key.  Nothing is sent yet. */
static TelemWriter *
az_create(TelemStore *store, const char *key, const TelemWriteOptions *opts,
		  TelemError *err)
{
	AzureStore *s = (AzureStore *) store;
	AzureWriter *w;
	unsigned char rnd[AZ_NONCE_LEN / 2];
	char		context[STORE_CONTEXT_LEN];
	size_t		block_size = opts != NULL ? opts->block_size : 0;
	const char *tag = opts != NULL ? opts->source_tag : NULL;
	int			i;

	memset(err, 0, sizeof(*err));
	if (!az_check_key(s, key, "cannot write", err))
		return NULL;
	StoreObjectContext(context, "cannot write", "az", s->container, key);
	if (block_size == 0)
		block_size = AZ_DEFAULT_BLOCK;
	if (block_size > AZ_MAX_BLOCK)
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "%s: block size %zu is larger than Azure's limit of %zu bytes",
					  context, block_size, AZ_MAX_BLOCK);
		return NULL;
	}
	if (tag != NULL)
	{
		size_t		n = strlen(tag);
		bool		valid = n <= 255;

		for (i = 0; valid && tag[i] != '\0'; i++)
			valid = tag[i] >= 0x20 && tag[i] < 0x7F && tag[i] != '"';
		/* an edge space would be trimmed away and not read back */
		if (n > 0 && (tag[0] == ' ' || tag[n - 1] == ' '))
			valid = false;
		if (!valid)
		{
			StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
						  "%s: source tag must be at most 255 printable ASCII "
						  "characters without '\"' or edge spaces", context);
			return NULL;
		}
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "%s: could not generate a random block id", context);
		return NULL;
	}

	w = calloc(1, sizeof(AzureWriter));
	if (w == NULL)
	{
		StoreOutOfMemory(err);
		return NULL;
	}
	w->base.store = store;
	w->az = s;
	w->block_size = block_size;
	for (i = 0; i < (int) sizeof(rnd); i++)
		snprintf(w->nonce + 2 * i, 3, "%02x", rnd[i]);
	w->key = strdup(key);
	w->path = az_blob_path(s, key);
	w->source_tag = tag != NULL && tag[0] != '\0' ? strdup(tag) : NULL;
	if (w->key == NULL || w->path == NULL ||
		(tag != NULL && tag[0] != '\0' && w->source_tag == NULL))
	{
		az_discard(&w->base);
		StoreOutOfMemory(err);
		return NULL;
	}
	return &w->base;
}

/* Upload the buffered bytes as the next block (Put Block). */
static bool
az_put_block(AzureWriter *w, TelemError *err)
{
	AzureStore *s = w->az;
	char		context[STORE_CONTEXT_LEN];
	char		md5[25];
	char	   *id;
	char	   *enc_id;
	char	   *query = NULL;
	const char *hname[1] = {"Content-MD5"};
	const char *hvalue[1] = {md5};
	AzCall		call;
	HttpResponse resp;
	int			retries = 0;
	bool		ok;

	StoreObjectContext(context, "could not write", "az", s->container, w->key);
	if (w->stats.blocks >= AZ_MAX_BLOCKS)
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "%s: more than %d blocks of %zu bytes; use a larger block size",
							 context, AZ_MAX_BLOCKS, w->block_size);
	AzureContentMd5(w->block, w->used, md5);
	if (md5[0] == '\0')
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "%s: MD5 is not available", context);

	id = block_id(w, w->stats.blocks);
	enc_id = id != NULL ? AzureUrlEncode(id, false) : NULL;
	if (enc_id != NULL)
		query = StorePrintf("comp=block&blockid=%s", enc_id);
	free(id);
	free(enc_id);
	if (query == NULL)
		return StoreOutOfMemory(err);

	memset(&call, 0, sizeof(call));
	call.method = "PUT";
	call.path = w->path;
	call.query = query;
	call.hname = hname;
	call.hvalue = hvalue;
	call.nh = 1;
	call.body = w->block;
	call.body_len = w->used;
	call.max_body = AZ_SMALL_BODY_MAX;
	ok = az_perform(s, &call, context, &resp, &retries, err);
	free(query);
	w->stats.retries += retries;
	if (!ok)
		return false;
	HttpResponseFree(&resp);
	w->stats.blocks++;
	w->used = 0;
	return true;
}

/* write: buffer len bytes, uploading each block as it fills. */
static bool
az_write(TelemWriter *writer, const void *buf, size_t len, TelemError *err)
{
	AzureWriter *w = (AzureWriter *) writer;
	const unsigned char *p = buf;

	memset(err, 0, sizeof(*err));
	if (w->committed || w->broken)
	{
		char		context[STORE_CONTEXT_LEN];

		StoreObjectContext(context, "cannot write", "az", w->az->container, w->key);
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 w->committed ? "%s: the object was already committed" :
							 "%s: an earlier block upload failed", context);
	}
	if (len > 0 && w->block == NULL)
	{
		w->block = malloc(w->block_size);
		if (w->block == NULL)
			return StoreOutOfMemory(err);
	}
	while (len > 0)
	{
		size_t		n = w->block_size - w->used;

		if (n > len)
			n = len;
		memcpy(w->block + w->used, p, n);
		w->used += n;
		w->stats.bytes_written += n;
		p += n;
		len -= n;
		if (w->used == w->block_size && !az_put_block(w, err))
		{
			w->broken = true;
			return false;
		}
	}
	return true;
}

/*
 * commit: upload the last block, Put Block List (with the source tag as
 * metadata), then Get Blob Properties for the committed size and ETag.
 */
static bool
az_commit(TelemWriter *writer, TelemObjectInfo *info, TelemError *err)
{
	AzureWriter *w = (AzureWriter *) writer;
	AzureStore *s = w->az;
	char		context[STORE_CONTEXT_LEN];
	char		md5[25];
	const char *hname[2] = {"Content-MD5", AZ_META_SOURCE};
	const char *hvalue[2] = {md5, w->source_tag};
	char	   *body;
	size_t		cap;
	size_t		len;
	AzCall		call;
	HttpResponse resp;
	bool		found;
	int			i;

	memset(info, 0, sizeof(*info));
	memset(err, 0, sizeof(*err));
	StoreObjectContext(context, "could not commit", "az", s->container, w->key);
	if (w->committed || w->broken)
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 w->committed ? "%s: the object was already committed" :
							 "%s: an earlier block upload failed", context);
	if (w->used > 0 && !az_put_block(w, err))
	{
		w->broken = true;
		return false;
	}

	/* an empty list is how a zero-byte blob is made */
	cap = 128 + (size_t) w->stats.blocks * 64;
	body = malloc(cap);
	if (body == NULL)
		return StoreOutOfMemory(err);
	len = (size_t) snprintf(body, cap,
							"<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (i = 0; i < w->stats.blocks; i++)
	{
		char	   *id = block_id(w, i);

		if (id == NULL)
		{
			free(body);
			return StoreOutOfMemory(err);
		}
		len += (size_t) snprintf(body + len, cap - len,
								 "<Latest>%s</Latest>", id);
		free(id);
	}
	len += (size_t) snprintf(body + len, cap - len, "</BlockList>");
	AzureContentMd5(body, len, md5);

	memset(&call, 0, sizeof(call));
	call.method = "PUT";
	call.path = w->path;
	call.query = "comp=blocklist";
	call.hname = hname;
	call.hvalue = hvalue;
	call.nh = w->source_tag != NULL ? 2 : 1;
	call.body = body;
	call.body_len = len;
	call.max_body = AZ_SMALL_BODY_MAX;
	if (!az_perform(s, &call, context, &resp, NULL, err))
	{
		free(body);
		return false;
	}
	free(body);
	HttpResponseFree(&resp);
	w->committed = true;

	if (!az_head(&s->base, w->key, info, &found, err))
	{
		StoreErrorContext(err, "committed, but");
		return false;
	}
	if (!found)
		return StoreSetError(err, TELEM_ERR_PROTOCOL, 0, NULL,
							 "%s: committed, but the blob is not there", context);
	if (info->size != w->stats.bytes_written)
		return StoreSetError(err, TELEM_ERR_PROTOCOL, 0, NULL,
							 "%s: committed %lld bytes, but the blob has %lld",
							 context, (long long) w->stats.bytes_written,
							 (long long) info->size);
	return true;
}

/*
 * discard: free the writer.  Uncommitted blocks need no cleanup: the
 * service drops them after a week, or at the blob's next commit.
 */
static void
az_discard(TelemWriter *writer)
{
	AzureWriter *w = (AzureWriter *) writer;

	if (w == NULL)
		return;
	free(w->block);
	free(w->key);
	free(w->path);
	free(w->source_tag);
	free(w);
}

/* destroy: free the store; readers and writers must be gone already. */
static void
az_destroy(TelemStore *store)
{
	AzureStore *s = (AzureStore *) store;

	if (s == NULL)
		return;
	HttpClientDestroy(s->client);
	/* the share's connections may close through the group's callbacks */
	HttpShareDestroy(s->http.share);
	HttpGroupDestroy(s->http.group);
	free(s->account);
	free(s->container);
	if (s->key != NULL)
		OPENSSL_cleanse(s->key, s->keylen);
	free(s->key);
	StoreFreeSecret(s->sas);
	if (s->token != NULL)
		AzureTokenConfigFree(s->token);
	free(s->origin);
	free(s->base_path);
	free(s->ca_file);
	free(s);
}

static const TelemStoreOps azure_ops = {
	.list_page = az_list_page,
	.list_level = az_list_level,
	.open = az_open,
	.open_range = az_open_range,
	.read = RangedReaderRead,
	.close = RangedReaderClose,
	.destroy = az_destroy,
	.head = az_head,
	.create = az_create,
	.write = az_write,
	.commit = az_commit,
	.discard = az_discard,
	.remove = az_remove,
	.pump = az_pump,
};

void
AzureReaderStats(TelemReader *reader, TelemReaderStats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (reader == NULL || reader->store == NULL ||
		reader->store->ops != &azure_ops)
		return;
	RangedReaderStats(reader, stats);
}

void
AzureWriterStats(TelemWriter *writer, TelemWriterStats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (writer == NULL || writer->store == NULL ||
		writer->store->ops != &azure_ops)
		return;
	*stats = ((AzureWriter *) writer)->stats;
}

/* Does s contain only characters from allowed (and is it non-empty)? */
static bool
only_chars(const char *s, const char *allowed)
{
	return s[0] != '\0' && strspn(s, allowed) == strlen(s);
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/*
 * Split endpoint "scheme://host[:port][/path]" into origin and path
 * (malloc'd; the path without trailing '/', possibly "").  User info,
 * queries, fragments and path characters that would need encoding are
 * refused: the path is sent and signed as given.
 */
static bool
parse_endpoint(const char *endpoint, char **origin, char **path,
			   TelemError *err)
{
	const char *rest;
	size_t		slen;
	size_t		alen;
	size_t		plen;
	char	   *authority;

	if (strncasecmp(endpoint, "https://", 8) == 0)
		slen = 8;
	else if (strncasecmp(endpoint, "http://", 7) == 0)
		slen = 7;
	else
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "Azure endpoint \"%.200s\" must start with http:// or https://",
							 endpoint);
	rest = endpoint + slen;
	alen = strcspn(rest, "/");
	authority = strndup(rest, alen);
	if (authority == NULL)
		return StoreOutOfMemory(err);
	if (alen == 0 || !only_chars(authority, ALNUM ".-_:[]"))
	{
		free(authority);
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "Azure endpoint \"%.200s\" has an invalid host", endpoint);
	}
	free(authority);
	plen = strlen(rest + alen);
	while (plen > 0 && rest[alen + plen - 1] == '/')
		plen--;
	*path = strndup(rest + alen, plen);
	*origin = strndup(endpoint, slen + alen);
	if (*path == NULL || *origin == NULL)
	{
		free(*path);
		free(*origin);
		*path = *origin = NULL;
		return StoreOutOfMemory(err);
	}
	if ((*path)[0] != '\0' && (!only_chars(*path, ALNUM "-._~/") ||
							   strstr(*path, "//") != NULL))
	{
		free(*path);
		free(*origin);
		*path = *origin = NULL;
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "Azure endpoint \"%.200s\" has an invalid path", endpoint);
	}
	/* scheme in lower case, as curl and the signature expect nothing else */
	for (alen = 0; alen < slen; alen++)
		(*origin)[alen] = (char) ((*origin)[alen] | 0x20);
	return true;
}

TelemStore *
AzureStoreCreate(const AzureConfig *cfg, TelemError *err)
{
	AzureStore *s;
	char	   *default_endpoint = NULL;
	const char *endpoint;
	bool		oom = false;

	memset(err, 0, sizeof(*err));
	if (cfg == NULL || cfg->container == NULL || cfg->container[0] == '\0')
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL, "Azure container is not set");
		return NULL;
	}
	/* container names go into the path unencoded: be strict ($root, $web) */
	if (strlen(cfg->container) > 63 ||
		!only_chars(cfg->container[0] == '$' ? cfg->container + 1 :
					cfg->container, LOWER_DIGITS "-"))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "invalid Azure container name \"%.100s\"", cfg->container);
		return NULL;
	}
	if (cfg->account != NULL && cfg->account[0] != '\0' &&
		(strlen(cfg->account) > 64 || !only_chars(cfg->account, ALNUM)))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "invalid Azure storage account name \"%.100s\"", cfg->account);
		return NULL;
	}
	if ((cfg->account == NULL || cfg->account[0] == '\0') &&
		(cfg->endpoint == NULL || cfg->auth == AZURE_AUTH_SHARED_KEY))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "Azure storage account is not set");
		return NULL;
	}
	switch (cfg->auth)
	{
		case AZURE_AUTH_ANONYMOUS:
			break;
		case AZURE_AUTH_SHARED_KEY:
			if (cfg->account_key == NULL || cfg->account_key[0] == '\0')
			{
				StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							  "Azure shared key authorization needs an account key");
				return NULL;
			}
			break;
		case AZURE_AUTH_SAS:
			/* never echo the token itself */
			if (!AzureSasIsValid(cfg->sas_token))
			{
				StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							  cfg->sas_token == NULL || cfg->sas_token[0] == '\0' ?
							  "Azure SAS authorization needs a SAS token" :
							  "invalid Azure SAS token");
				return NULL;
			}
			break;
		case AZURE_AUTH_BEARER:
			if (cfg->token == NULL)
			{
				StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							  "Azure token authorization needs a token configuration");
				return NULL;
			}
			break;
		default:
			StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
						  "unknown Azure authorization kind %d", (int) cfg->auth);
			return NULL;
	}

	if (!HttpGlobalInit(err))
		return NULL;

	endpoint = cfg->endpoint;
	if (endpoint == NULL || endpoint[0] == '\0')
	{
		default_endpoint = StorePrintf("https://%s.blob.core.windows.net",
									   cfg->account);
		if (default_endpoint == NULL)
		{
			StoreOutOfMemory(err);
			return NULL;
		}
		endpoint = default_endpoint;
	}

	s = calloc(1, sizeof(AzureStore));
	if (s == NULL)
	{
		free(default_endpoint);
		StoreOutOfMemory(err);
		return NULL;
	}
	s->base.ops = &azure_ops;
	s->auth = cfg->auth;
	if (!parse_endpoint(endpoint, &s->origin, &s->base_path, err))
	{
		free(default_endpoint);
		az_destroy(&s->base);
		return NULL;
	}
	free(default_endpoint);

	s->container = strdup(cfg->container);
	oom |= s->container == NULL;
	if (cfg->account != NULL && cfg->account[0] != '\0')
	{
		s->account = strdup(cfg->account);
		oom |= s->account == NULL;
	}
	if (cfg->auth == AZURE_AUTH_SHARED_KEY)
	{
		s->key = AzureBase64Decode(cfg->account_key, &s->keylen);
		if (s->key == NULL || s->keylen == 0)
		{
			az_destroy(&s->base);
			/* never echo the key itself */
			StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
						  "invalid Azure account key: it must be base64");
			return NULL;
		}
	}
	else if (cfg->auth == AZURE_AUTH_SAS)
	{
		s->sas = strdup(cfg->sas_token[0] == '?' ? cfg->sas_token + 1 :
						cfg->sas_token);
		oom |= s->sas == NULL;
	}
	else if (cfg->auth == AZURE_AUTH_BEARER)
	{
		s->token = AzureTokenConfigCopy(cfg->token);
		oom |= s->token == NULL;
	}
	if (cfg->ca_file != NULL)
	{
		s->ca_file = strdup(cfg->ca_file);
		oom |= s->ca_file == NULL;
	}
	if (oom)
	{
		az_destroy(&s->base);
		StoreOutOfMemory(err);
		return NULL;
	}

	s->http.ca_file = s->ca_file;
	s->http.stats = &s->base.stats;
	s->http.verify_tls = cfg->verify_tls;
	s->http.connect_timeout_ms = cfg->connect_timeout_ms;
	s->http.low_speed_time_s = 0;	/* http.c default */
	s->page_size = (cfg->page_size <= 0 || cfg->page_size > 5000) ?
		5000 : cfg->page_size;
	s->max_retries = cfg->max_retries < 0 ? 0 :
		cfg->max_retries > AZ_MAX_RETRIES_CAP ? AZ_MAX_RETRIES_CAP :
		cfg->max_retries;
	s->buffer_size = cfg->buffer_size > 0 ? cfg->buffer_size : AZ_DEFAULT_BUFFER;
	s->reader.scheme = "az";
	s->reader.container = s->container;
	s->reader.http = &s->http;
	s->reader.buffer_size = s->buffer_size;
	s->reader.max_retries = s->max_retries;
	s->reader.precondition_code = "ConditionNotMet";
	s->reader.authorize = az_authorize_get;
	s->reader.http_error = az_reader_error;
	s->reader.arg = s;

	/*
	 * Requests and downloads share one connection cache: over TLS, a
	 * handshake per blob dominated reading many small blobs (the
	 * azure_scan regression test, which reads 5,001 blobs several times,
	 * took 110 s against Azurite with a connection each; one scan of them
	 * takes 13-18 s shared).
	 */
	s->http.share = HttpShareCreate(err);
	if (s->http.share == NULL)
	{
		az_destroy(&s->base);
		return NULL;
	}
	/* the store's readers progress together (store.h) */
	s->http.group = HttpGroupCreate(err);
	if (s->http.group == NULL)
	{
		az_destroy(&s->base);
		return NULL;
	}
	s->client = HttpClientCreate(&s->http, err);
	if (s->client == NULL)
	{
		az_destroy(&s->base);
		return NULL;
	}
	return &s->base;
}
