/*-------------------------------------------------------------------------
 *
 * s3.c
 *		The S3 object store: ListObjectsV2 listings (flat and by level) and
 *		resumable GETs.
 *
 * Requests are signed with SigV4 (sigv4.c) or sent anonymously when no
 * access key is configured.  URLs are path style (ENDPOINT/BUCKET/KEY) or
 * virtual-host style (SCHEME://BUCKET.HOST/KEY); object keys are
 * URI-encoded exactly once, '/' kept, and that same string is both sent and
 * signed (S3 signs the path as sent, normalize_path = false).
 *
 * Readers are resumable ranged GETs (ranged_reader.c); this file gives
 * them the signed request headers and reads S3's error replies.
 *
 * The write side (HEAD, uploads, DELETE) is in s3_write.c; what both sides
 * share -- the store struct, signing, error replies -- is defined here and
 * declared in s3_internal.h.  Error and retry helpers common to every
 * network store are in store_error.c.
 *
 * Plain C; no postgres.h (see store.h).  Secrets (the secret key, the
 * session token, the Authorization header) are never put into an error
 * message, and our copies are wiped before they are freed.
 *
 * IDENTIFICATION
 *		src/store/s3.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "ranged_reader.h"
#include "s3_internal.h"
#include "s3_listing.h"
#include "sigv4.h"
#include "store.h"
#include "store_util.h"

#define S3_LIST_MAX_BODY	(32 * 1024 * 1024)	/* 1000 keys of 1 kB fit */
#define S3_REPLY_MAX		(1024 * 1024)	/* initiate/complete replies */
#define S3_DEFAULT_BUFFER	(1024 * 1024)
#define S3_MAX_RETRIES_CAP	100

static const TelemStoreOps s3_ops;


/*
 * Add Host and, unless the store is anonymous, the SigV4 headers for a
 * request 'method path?query' (path and query exactly as they will be sent)
 * to h.  payload_hash is the hex SHA-256 of the body, NULL for an empty
 * one.  The nextra headers in extra are sent and signed too (anonymous
 * requests send them unsigned).  Headers added afterwards (Range,
 * If-Match) are sent unsigned, which S3 allows.
 */
bool
S3Sign(S3Store *s, const char *method, const char *path, const char *query,
	   const char *payload_hash, const SigV4Header *extra, int nextra,
	   StoreHeaders *h, TelemError *err)
{
	char		amz_date[17];
	SigV4Header sh[4 + S3_MAX_EXTRA_SIGNED];
	int			nsh = 0;
	SigV4Request req;
	char	   *auth;
	bool		ok;
	int			i;

	if (payload_hash == NULL)
		payload_hash = s->empty_sha256;
	if (nextra < 0 || nextra > S3_MAX_EXTRA_SIGNED)
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "too many headers to sign (%d)", nextra);
	if (!StoreHeadersAdd(h, "Host", "%s", s->host))
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
	for (i = 0; i < nextra; i++)
		if (!StoreHeadersAdd(h, extra[i].name, "%s", extra[i].value))
			return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
								 "out of memory");
	if (s->access_key_id == NULL)
		return true;

	SigV4FormatDate((long long) time(NULL), amz_date);
	if (amz_date[0] == '\0')
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "could not format the current time for signing");

	sh[nsh].name = "host";
	sh[nsh++].value = s->host;
	sh[nsh].name = "x-amz-content-sha256";
	sh[nsh++].value = payload_hash;
	sh[nsh].name = "x-amz-date";
	sh[nsh++].value = amz_date;
	if (s->session_token != NULL)
	{
		sh[nsh].name = "x-amz-security-token";
		sh[nsh++].value = s->session_token;
	}
	for (i = 0; i < nextra; i++)
		sh[nsh++] = extra[i];

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = query;
	req.headers = sh;
	req.nheaders = nsh;
	req.payload_hash = payload_hash;
	req.region = s->region;
	req.service = "s3";
	req.amz_date = amz_date;
	req.normalize_path = false;

	auth = SigV4Authorization(&req, s->access_key_id, s->secret_access_key);
	if (auth == NULL)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
							 "could not compute the S3 request signature");

	ok = StoreHeadersAdd(h, "x-amz-date", "%s", amz_date) &&
		StoreHeadersAdd(h, "x-amz-content-sha256", "%s", payload_hash) &&
		(s->session_token == NULL ||
		 StoreHeadersAdd(h, "x-amz-security-token", "%s",
						 s->session_token)) &&
		StoreHeadersAdd(h, "Authorization", "%s", auth);
	StoreFreeSecret(auth);
	if (!ok)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
	return true;
}

/*
 * Fill err from a non-2xx reply whose body (maybe an S3 <Error>) is
 * body[0..len).  context says what was being done.
 */
bool
S3HttpError(TelemError *err, long status, const char *body, size_t len,
			const char *context)
{
	char		code[64];
	char		message[256];

	S3ParseErrorBody(body, len, code, message);
	return StoreSetError(err, HttpErrorKind(0, status), status, code,
						 "%s: HTTP %ld%s%s%s%s", context, status,
						 code[0] != '\0' ? " " : "", code,
						 message[0] != '\0' ? ": " : "", message);
}

/* An S3Call on its way through StorePerform. */
typedef struct S3Attempt
{
	S3Store    *s;
	const S3Call *call;
	const char *sha256;
	const SigV4Header *extra;
	int			nextra;
} S3Attempt;

/* StoreRequester.authorize: sign the call anew (the date is signed). */
static bool
s3_authorize_call(void *arg, StoreHeaders *h, TelemError *err)
{
	S3Attempt  *at = (S3Attempt *) arg;

	return S3Sign(at->s, at->call->method, at->call->path, at->call->query,
				  at->sha256, at->extra, at->nextra, h, err);
}

/* StoreRequester.reply_error: S3's <Error> body. */
static bool
s3_reply_error(TelemError *err, const HttpResponse *resp, const char *context)
{
	return S3HttpError(err, resp->status, resp->body, resp->body_len,
					   context);
}

/*
 * Send call, retrying transient failures up to call->max_retries times.
 * Returns true when a 2xx reply or one with status call->accept arrived;
 * the caller then reads and frees resp.  Otherwise false with err set
 * (prefixed with context) and resp freed.  *retries (if not NULL) grows by
 * the number of repeated attempts.
 */
bool
S3Request(S3Store *s, const S3Call *call, const char *context,
		  HttpResponse *resp, int *retries, TelemError *err)
{
	char		sha256[65];
	char		md5[25];
	SigV4Header extra[2];
	S3Attempt	at = {s, call, sha256, extra, 0};
	StoreRequester rq = {s3_authorize_call, s3_reply_error, &at};
	HttpRequest req;
	char	   *url;
	int			attempts = 0;
	bool		ok;

	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	SigV4Sha256Hex(call->body != NULL ? call->body : "", call->body_len,
				   sha256);
	if (sha256[0] == '\0')
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "%s: SHA-256 is not available", context);
	if (call->content_md5)
	{
		if (!StoreContentMd5(call->body != NULL ? call->body : "",
							 call->body_len, md5))
			return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
								 "%s: MD5 is not available for Content-MD5",
								 context);
		extra[at.nextra].name = "Content-MD5";
		extra[at.nextra++].value = md5;
	}
	if (call->source_tag != NULL)
	{
		extra[at.nextra].name = S3_TAG_HEADER;
		extra[at.nextra++].value = call->source_tag;
	}

	url = StorePrintf("%s://%s%s%s%s", s->scheme, s->host, call->path,
					  call->query != NULL ? "?" : "",
					  call->query != NULL ? call->query : "");
	if (url == NULL)
		return StoreOutOfMemory(err);
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.method = call->method;
	req.body = call->body;
	req.body_len = call->body_len;
	ok = StorePerform(s->client, &req,
					  call->max_body > 0 ? call->max_body : S3_REPLY_MAX,
					  call->accept, call->max_retries, &rq, context, resp,
					  &attempts, err);
	if (retries != NULL)
		*retries += attempts;
	free(url);
	return ok;
}

/*
 * One ListObjectsV2 page of keys under prefix, continuing after token
 * (NULL for the first page); with delimited, one level only (delimiter=/).
 */
static bool
s3_list(S3Store *s, const char *prefix, const char *start_after,
		const char *token, bool delimited, TelemObjectPage *page,
		TelemError *err)
{
	char	   *enc_prefix = NULL;
	char	   *enc_token = NULL;
	char	   *enc_after = NULL;
	char	   *query = NULL;
	char		context[STORE_CONTEXT_LEN];
	S3Call		call;
	HttpResponse resp;
	bool		ok = false;

	memset(page, 0, sizeof(*page));
	memset(err, 0, sizeof(*err));
	if (prefix == NULL)
		prefix = "";

	/*
	 * Parameters in canonical (sorted) order, each value encoded once; the
	 * delimiter goes as %2F, which is also its canonical form (sigv4.c
	 * decodes and re-encodes every parameter, so both agree).
	 */
	enc_prefix = SigV4UriEncode(prefix, false);
	enc_token = token != NULL ? SigV4UriEncode(token, false) : NULL;
	/* a continuation token already carries the start-after position */
	if (start_after != NULL && start_after[0] != '\0' && token == NULL)
		enc_after = SigV4UriEncode(start_after, false);
	if (enc_prefix != NULL && (token == NULL || enc_token != NULL))
		query = StorePrintf("%s%s%s%slist-type=2&max-keys=%d%s%s%s%s",
							token != NULL ? "continuation-token=" : "",
							token != NULL ? enc_token : "",
							token != NULL ? "&" : "",
							delimited ? "delimiter=%2F&" : "",
							s->page_size,
							prefix[0] != '\0' ? "&prefix=" : "",
							prefix[0] != '\0' ? enc_prefix : "",
							enc_after != NULL ? "&start-after=" : "",
							enc_after != NULL ? enc_after : "");
	StoreObjectContext(context, "could not list", "s3", s->bucket, prefix);
	if (query == NULL)
	{
		StoreOutOfMemory(err);
		goto done;
	}

	memset(&call, 0, sizeof(call));
	call.method = "GET";
	call.path = s->bucket_path[0] != '\0' ? s->bucket_path : "/";
	call.query = query;
	call.max_retries = s->max_retries;
	call.max_body = S3_LIST_MAX_BODY;
	if (!S3Request(s, &call, context, &resp, NULL, err))
		goto done;
	ok = S3ParseListing(resp.body, resp.body_len, page, err);
	HttpResponseFree(&resp);
	if (!ok)
		StoreErrorContext(err, context);

done:
	free(enc_prefix);
	free(enc_after);
	free(enc_token);
	free(query);
	return ok;
}

/* list_page: see s3_list. */
static bool
s3_list_page(TelemStore *store, const char *prefix, const char *start_after,
			 const char *token, TelemObjectPage *page, TelemError *err)
{
	return s3_list((S3Store *) store, prefix, start_after, token, false,
				   page, err);
}

/*
 * list_level: one delimited ListObjectsV2 page.  A key equal to the prefix
 * (a zero-byte "folder" marker some tools create) is not an object of the
 * level and is dropped.
 */
static bool
s3_list_level(TelemStore *store, const char *prefix, const char *token,
			  TelemObjectPage *page, TelemError *err)
{
	if (!s3_list((S3Store *) store, prefix, NULL, token, true, page, err))
		return false;
	StorePageDropKey(page, prefix);
	return true;
}

/*
 * RangedSource.authorize for a GET of path: Host and, unless anonymous,
 * SigV4 (Range and If-Match, already in h, go unsigned, which S3 allows).
 */
static bool
s3_authorize_get(void *arg, const char *path, StoreHeaders *h, char **url,
				 TelemError *err)
{
	S3Store    *s = (S3Store *) arg;

	if (!S3Sign(s, "GET", path, NULL, NULL, NULL, 0, h, err))
		return false;
	*url = StorePrintf("%s://%s%s", s->scheme, s->host, path);
	return *url != NULL || StoreOutOfMemory(err);
}

/* pump: a non-blocking step of every open reader (store.h). */
static bool
s3_pump(TelemStore *store, TelemError *err)
{
	return HttpGroupPump(((S3Store *) store)->http.group, err);
}

/* open_range: start streaming obj's bytes [offset, end) (ranged_reader.c). */
static TelemReader *
s3_open_range(TelemStore *store, const TelemObject *obj, int64_t offset,
			  int64_t end, TelemError *err)
{
	S3Store    *s = (S3Store *) store;
	TelemReader *r;
	char	   *enc_key;
	char	   *path = NULL;

	memset(err, 0, sizeof(*err));
	if (obj == NULL || obj->key == NULL || obj->key[0] == '\0')
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL, "S3 object key is empty");
		return NULL;
	}
	enc_key = SigV4UriEncode(obj->key, true);
	if (enc_key != NULL)
		path = StorePrintf("%s/%s", s->bucket_path, enc_key);
	free(enc_key);
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
s3_open(TelemStore *store, const TelemObject *obj, int64_t offset,
		TelemError *err)
{
	return s3_open_range(store, obj, offset, -1, err);
}

/* destroy: free the store; readers must have been closed before. */
static void
s3_destroy(TelemStore *store)
{
	S3Store    *s = (S3Store *) store;

	if (s == NULL)
		return;
	HttpClientDestroy(s->client);
	HttpGroupDestroy(s->http.group);
	free(s->bucket);
	free(s->region);
	free(s->access_key_id);
	StoreFreeSecret(s->secret_access_key);
	StoreFreeSecret(s->session_token);
	free(s->host);
	free(s->bucket_path);
	free(s->ca_file);
	free(s);
}

static const TelemStoreOps s3_ops = {
	.list_page = s3_list_page,
	.list_level = s3_list_level,
	.open = s3_open,
	.open_range = s3_open_range,
	.read = RangedReaderRead,
	.close = RangedReaderClose,
	.destroy = s3_destroy,
	.head = S3Head,
	.create = S3Create,
	.write = S3Write,
	.commit = S3Commit,
	.discard = S3Discard,
	.remove = S3Remove,
	.pump = s3_pump,
};

void
S3ReaderStats(TelemReader *reader, TelemReaderStats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (reader == NULL || reader->store == NULL ||
		reader->store->ops != &s3_ops)
		return;
	RangedReaderStats(reader, stats);
}

/* Does s contain only characters from allowed (and is it non-empty)? */
static bool
only_chars(const char *s, const char *allowed)
{
	return s[0] != '\0' && strspn(s, allowed) == strlen(s);
}

/* Does s hold a control character (which would break a header line)? */
static bool
has_control_char(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7F)
			return true;
	return false;
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/*
 * Split endpoint "scheme://host[:port][/]" into scheme and authority
 * (malloc'd).  Anything else -- a path, user info, a query -- is refused:
 * it would end up in the signed request in ways S3 does not expect.
 */
static bool
parse_endpoint(const char *endpoint, const char **scheme, char **authority,
			   TelemError *err)
{
	const char *rest;
	size_t		len;

	if (strncasecmp(endpoint, "https://", 8) == 0)
	{
		*scheme = "https";
		rest = endpoint + 8;
	}
	else if (strncasecmp(endpoint, "http://", 7) == 0)
	{
		*scheme = "http";
		rest = endpoint + 7;
	}
	else
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "S3 endpoint \"%.200s\" must start with http:// or https://",
							 endpoint);

	len = strcspn(rest, "/");
	if (len == 0 || (rest[len] != '\0' && strcmp(rest + len, "/") != 0))
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "S3 endpoint \"%.200s\" must be scheme://host[:port] without a path",
							 endpoint);
	*authority = strndup(rest, len);
	if (*authority == NULL)
		return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
	if (!only_chars(*authority, ALNUM ".-_:[]"))
	{
		free(*authority);
		*authority = NULL;
		return StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
							 "S3 endpoint \"%.200s\" has an invalid host", endpoint);
	}
	return true;
}

TelemStore *
S3StoreCreate(const S3Config *cfg, TelemError *err)
{
	S3Store    *s;
	char	   *authority = NULL;
	char	   *default_endpoint = NULL;
	const char *endpoint;
	bool		oom = false;

	memset(err, 0, sizeof(*err));
	if (cfg == NULL || cfg->bucket == NULL || cfg->bucket[0] == '\0')
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL, "S3 bucket is not set");
		return NULL;
	}
	/* bucket names end up in a host name or path unencoded: be strict */
	if (!only_chars(cfg->bucket, ALNUM ".-_") || strlen(cfg->bucket) > 255)
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "invalid S3 bucket name \"%.100s\"", cfg->bucket);
		return NULL;
	}
	if (cfg->region != NULL && cfg->region[0] != '\0' &&
		!only_chars(cfg->region, ALNUM "-_"))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "invalid S3 region \"%.100s\"", cfg->region);
		return NULL;
	}
	if ((cfg->region == NULL || cfg->region[0] == '\0') &&
		(cfg->endpoint == NULL || cfg->access_key_id != NULL))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL, "S3 region is not set");
		return NULL;
	}
	if (cfg->access_key_id != NULL &&
		(cfg->access_key_id[0] == '\0' || has_control_char(cfg->access_key_id)))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL, "invalid S3 access key id");
		return NULL;
	}
	if (cfg->access_key_id != NULL &&
		(cfg->secret_access_key == NULL || cfg->secret_access_key[0] == '\0'))
	{
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  "an S3 access key id needs a secret access key");
		return NULL;
	}
	if (cfg->session_token != NULL &&
		(cfg->access_key_id == NULL || has_control_char(cfg->session_token)))
	{
		/* never echo the token itself */
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL,
					  cfg->access_key_id == NULL ?
					  "an S3 session token needs an access key id" :
					  "invalid S3 session token");
		return NULL;
	}

	if (!HttpGlobalInit(err))
		return NULL;

	endpoint = cfg->endpoint;
	if (endpoint == NULL)
	{
		default_endpoint = StorePrintf("https://s3.%s.amazonaws.com", cfg->region);
		if (default_endpoint == NULL)
		{
			StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
			return NULL;
		}
		endpoint = default_endpoint;
	}

	s = calloc(1, sizeof(S3Store));
	if (s == NULL)
	{
		free(default_endpoint);
		StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
		return NULL;
	}
	s->base.ops = &s3_ops;
	if (!parse_endpoint(endpoint, &s->scheme, &authority, err))
	{
		free(default_endpoint);
		s3_destroy(&s->base);
		return NULL;
	}
	free(default_endpoint);

	s->bucket = strdup(cfg->bucket);
	s->region = strdup(cfg->region != NULL && cfg->region[0] != '\0' ?
					   cfg->region : "us-east-1");
	if (cfg->path_style)
	{
		s->host = authority;
		s->bucket_path = StorePrintf("/%s", cfg->bucket);
	}
	else
	{
		s->host = StorePrintf("%s.%s", cfg->bucket, authority);
		s->bucket_path = strdup("");
		free(authority);
	}
	authority = NULL;
	if (cfg->access_key_id != NULL)
	{
		s->access_key_id = strdup(cfg->access_key_id);
		s->secret_access_key = strdup(cfg->secret_access_key);
		oom |= s->access_key_id == NULL || s->secret_access_key == NULL;
	}
	if (cfg->session_token != NULL)
	{
		s->session_token = strdup(cfg->session_token);
		oom |= s->session_token == NULL;
	}
	if (cfg->ca_file != NULL)
	{
		s->ca_file = strdup(cfg->ca_file);
		oom |= s->ca_file == NULL;
	}
	oom |= s->bucket == NULL || s->region == NULL || s->host == NULL ||
		s->bucket_path == NULL;
	if (oom)
	{
		s3_destroy(&s->base);
		StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL, "out of memory");
		return NULL;
	}

	s->http.ca_file = s->ca_file;
	s->http.stats = &s->base.stats;
	s->http.verify_tls = cfg->verify_tls;
	s->http.connect_timeout_ms = cfg->connect_timeout_ms;
	s->http.low_speed_time_s = 0;	/* http.c default */
	s->page_size = (cfg->page_size <= 0 || cfg->page_size > 1000) ?
		1000 : cfg->page_size;
	s->max_retries = cfg->max_retries < 0 ? 0 :
		cfg->max_retries > S3_MAX_RETRIES_CAP ? S3_MAX_RETRIES_CAP :
		cfg->max_retries;
	s->buffer_size = cfg->buffer_size > 0 ? cfg->buffer_size : S3_DEFAULT_BUFFER;
	s->reader.scheme = "s3";
	s->reader.container = s->bucket;
	s->reader.http = &s->http;
	s->reader.buffer_size = s->buffer_size;
	s->reader.max_retries = s->max_retries;
	s->reader.precondition_code = "PreconditionFailed";
	s->reader.authorize = s3_authorize_get;
	s->reader.http_error = S3HttpError;
	s->reader.arg = s;
	SigV4Sha256Hex("", 0, s->empty_sha256);
	if (s->empty_sha256[0] == '\0')
	{
		s3_destroy(&s->base);
		StoreSetError(err, TELEM_ERR_CONFIG, 0, NULL, "SHA-256 is not available");
		return NULL;
	}

	/*
	 * The readers reuse connections through their group's multi handle.
	 * Against Ceph RGW that once cost ~40 ms per small GET (the server's
	 * Nagle waiting for our delayed ACK; http.c sends a quick ACK now).
	 * No HttpShare: the listing client keeps its own connection.  The
	 * group also makes the store's readers progress together (store.h).
	 */
	s->http.group = HttpGroupCreate(err);
	if (s->http.group == NULL)
	{
		s3_destroy(&s->base);
		return NULL;
	}
	s->client = HttpClientCreate(&s->http, err);
	if (s->client == NULL)
	{
		s3_destroy(&s->base);
		return NULL;
	}
	return &s->base;
}
