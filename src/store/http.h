/*-------------------------------------------------------------------------
 *
 * http.h
 *		A small libcurl layer: complete requests and bounded streaming GETs.
 *
 * Every wait runs on the curl multi interface in steps of at most ~100 ms
 * and calls telem_interrupt_hook (store.h) between steps, so a query
 * cancel stops a transfer promptly (TELEM_ERR_CANCELED).  Transfers speak
 * HTTP/1.1 over http or https only, never follow redirects, verify TLS
 * unless told not to, fail on connect timeout and on a stalled transfer.
 *
 * A streaming GET holds at most buffer_size bytes of body (plus curl's own
 * receive buffer, 16 kB at most): when the buffer is full the transfer is
 * paused until the reader drains it, so memory does not grow with the
 * object.
 *
 * Header lines passed in may carry secrets (Authorization, session token);
 * this layer never logs them or puts them in an error message, and wipes
 * its copies before freeing them.  Plain C, no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/http.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_HTTP_H
#define TELEM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

typedef struct HttpShare HttpShare;
typedef struct HttpGroup HttpGroup;

/* How to connect; copied by HttpClientCreate, read-only for streams. */
typedef struct HttpConfig
{
	HttpShare  *share;			/* connections (and TLS sessions) shared by
								 * every request made with this config; NULL
								 * = none.  Must outlive those requests. */
	HttpGroup  *group;			/* streams started with this config progress
								 * together (HttpGroupCreate); NULL = each
								 * stream alone.  Must outlive the streams. */
	const char *ca_file;		/* CA bundle (PEM); NULL = system default */
	bool		verify_tls;		/* verify peer certificate and host name */
	long		connect_timeout_ms; /* 0 = 10 s */
	long		low_speed_time_s;	/* fail when < 1 byte/s for this long;
									 * 0 = 30 s (a paused transfer does not
									 * count as slow) */
	TelemStoreStats *stats;		/* requests and waits are counted here;
								 * NULL = not counted */
} HttpConfig;

/*
 * One request.  Streams (HttpStreamOpen) are always GETs; HttpPerform
 * takes any method, with an optional body held in memory (a block of an
 * upload, a token request form), sent with Content-Length.
 */
typedef struct HttpRequest
{
	const char *url;			/* http:// or https:// */
	const char *const *headers; /* "Name: value" lines, sent as given */
	int			nheaders;
	const char *method;			/* "GET" (NULL), "PUT", "POST", "HEAD",
								 * "DELETE" */
	const void *body;			/* request body, or NULL */
	size_t		body_len;
} HttpRequest;

/* The outcome of HttpPerform. */
typedef struct HttpResponse
{
	long		status;			/* HTTP status, 0 if none arrived */
	int			curl_code;		/* CURLcode of the transfer */
	char	   *body;			/* malloc'd and NUL-terminated, or NULL */
	size_t		body_len;
	char	   *headers;		/* the final response's header lines, each
								 * ending in "\r\n"; malloc'd, or NULL */
} HttpResponse;

/*
 * Find header 'name' (case-insensitive) in headers as HttpResponse keeps
 * them; copy its value, trimmed, NUL-terminated and truncated to outlen-1,
 * into out.  False (out = "") if absent.
 */
extern bool HttpHeaderValue(const char *headers, const char *name,
							char *out, size_t outlen);

typedef struct HttpClient HttpClient;
typedef struct HttpStream HttpStream;

/*
 * Initialize libcurl once per process (the first call does the work).
 * Must not run concurrently with other threads using curl; a PostgreSQL
 * backend is single-threaded.
 */
extern bool HttpGlobalInit(TelemError *err);

/*
 * The one place that turns a curl result and an HTTP status into a
 * TelemErrorKind.  A curl failure (curl_code != 0) wins over the status;
 * a 2xx status with curl_code 0 is TELEM_OK.
 */
extern TelemErrorKind HttpErrorKind(int curl_code, long http_status);

/*
 * Is this failure worth retrying the whole request for?  Connection and
 * transfer failures, timeouts and HTTP 500/502/503/504.
 */
extern bool HttpIsTransient(int curl_code, long http_status);

/*
 * Did this curl result cut a body short in a way a Range request from the
 * last byte received can repair (connection dropped, timed out, short body)?
 */
extern bool HttpIsResumable(int curl_code);

/* Poll telem_interrupt_hook; false with TELEM_ERR_CANCELED in err if set. */
extern bool HttpCheckInterrupt(TelemError *err);

/*
 * Sleep ms milliseconds in steps of at most 100 ms, polling the interrupt
 * hook; false (TELEM_ERR_CANCELED) if interrupted.
 */
extern bool HttpSleep(long ms, TelemError *err);

/*
 * A cache of open connections, TLS sessions and DNS answers that every
 * client and stream given it (HttpConfig.share) draws from, so that reading
 * many small objects does not cost a TCP and TLS handshake each.  Destroy
 * it after everything that used it.
 */
extern HttpShare *HttpShareCreate(TelemError *err);
extern void HttpShareDestroy(HttpShare *share);

/*
 * A client for complete requests (listings).  It keeps its connections
 * open between requests.  cfg is copied.  NULL with err set on failure.
 */
extern HttpClient *HttpClientCreate(const HttpConfig *cfg, TelemError *err);
extern void HttpClientDestroy(HttpClient *client);
/* Count a retry of a request made with client's config. */
extern void HttpClientNoteRetry(HttpClient *client);

/*
 * Perform req and collect the whole body (at most max_body bytes) into
 * resp, which the caller frees with HttpResponseFree whatever the result.
 * Returns true when a complete HTTP response arrived, whatever its status;
 * false with err set (and resp->curl_code, for HttpIsTransient) when the
 * transfer failed, was canceled, or the body exceeded max_body.
 */
extern bool HttpPerform(HttpClient *client, const HttpRequest *req,
						size_t max_body, HttpResponse *resp, TelemError *err);
extern void HttpResponseFree(HttpResponse *resp);

/*
 * A group of streams driven by one curl multi handle, with no threads:
 * any wait on one of them (HttpStreamWaitHeaders, HttpStreamRead with an
 * empty buffer) also moves every other stream of the group along, each
 * into its own bounded buffer, paused when that buffer is full; so memory
 * stays at buffer_size per open stream.  A stream that fails meanwhile
 * keeps its result until it is read.  HttpStreamRead also gives the
 * others a non-blocking step (HttpGroupPump) while it hands out buffered
 * bytes, so a caller reading regularly keeps them all moving.  The multi handle also caches the connections that finished
 * transfers leave open, unless an HttpShare holds them.  Destroy the
 * group after every stream in it was closed.
 */
extern HttpGroup *HttpGroupCreate(TelemError *err);
extern void HttpGroupDestroy(HttpGroup *group);

/*
 * One non-blocking step of every transfer in the group, for a caller that
 * works a while between reads; at most one step per 250 us is taken, and
 * calls in between return at once, so it may be called every few rows.
 * False with err set only if the multi handle itself fails.  NULL is ok.
 */
extern bool HttpGroupPump(HttpGroup *group, TelemError *err);

/*
 * HttpSleep that keeps the group's transfers moving meanwhile (a retry's
 * backoff need not stall the others).  NULL group: HttpSleep.
 */
extern bool HttpGroupSleep(HttpGroup *group, long ms, TelemError *err);

/*
 * Start a streaming GET without waiting: the request is on its way
 * (connected and sent, on a fast network) when this returns.  A failure
 * of the transfer itself shows later, in HttpStreamWaitHeaders.  NULL
 * with err set only for local failures (memory, a refused option).
 */
extern HttpStream *HttpStreamStart(const HttpConfig *cfg,
								   const HttpRequest *req, size_t buffer_size,
								   TelemError *err);

/*
 * Wait until the response headers of a started stream are in (at once if
 * they are).  False with err set, and *curl_code (if not NULL) holding the
 * curl result for HttpIsTransient, when the transfer failed before a
 * final response; the caller still closes the stream.
 */
extern bool HttpStreamWaitHeaders(HttpStream *stream, TelemError *err,
								  int *curl_code);

/*
 * HttpStreamStart and HttpStreamWaitHeaders in one.  buffer_size bounds
 * the body bytes held (at least 1 kB is used).  On failure returns NULL with err set and *curl_code (if not NULL) holding
 * the curl result, for HttpIsTransient.  On success the caller checks
 * HttpStreamStatus and must HttpStreamClose the stream.
 */
extern HttpStream *HttpStreamOpen(const HttpConfig *cfg,
								  const HttpRequest *req, size_t buffer_size,
								  TelemError *err, int *curl_code);

/* The HTTP status of the final response (never 1xx). */
extern long HttpStreamStatus(const HttpStream *stream);

/* Content-Length of the response, -1 if the server sent none. */
extern int64_t HttpStreamContentLength(const HttpStream *stream);

/* The Content-Range header value ("bytes 0-9/10"), or NULL if absent. */
extern const char *HttpStreamContentRange(const HttpStream *stream);

/*
 * Copy up to len buffered body bytes into buf, waiting for data if none is
 * buffered.  Returns the count (> 0), 0 when the body ended cleanly, or -1
 * with err set; bytes received before a failure are always handed out
 * before the -1, so the caller can resume from exactly what it got.
 */
extern ssize_t HttpStreamRead(HttpStream *stream, void *buf, size_t len,
							  TelemError *err);

/* The CURLcode of a finished transfer (0 while still running). */
extern int	HttpStreamResult(const HttpStream *stream);

/*
 * Read what is left of the body (e.g. an error document) into a malloc'd,
 * NUL-terminated string of at most max bytes; *len gets its length.  Never
 * fails: on a transfer error or cancel, what arrived so far is returned
 * (possibly NULL with *len 0).
 */
extern char *HttpStreamReadBody(HttpStream *stream, size_t max, size_t *len);

/* Abort the transfer if still running and free everything. NULL is ok. */
extern void HttpStreamClose(HttpStream *stream);

#endif							/* TELEM_HTTP_H */
