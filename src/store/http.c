/*-------------------------------------------------------------------------
 *
 * http.c
 *		A small libcurl layer: complete requests and bounded streaming GETs.
 *
 * Both kinds of request run one easy handle on a multi handle and wait
 * with curl_multi_poll() in steps of HTTP_POLL_MS, asking the interrupt
 * hook between steps; the blocking easy interface could sit in a stalled
 * connect or read for minutes with no way to cancel.
 *
 * A streaming GET keeps the body in a fixed buffer.  When a chunk does not
 * fit, the write callback returns CURL_WRITEFUNC_PAUSE: curl keeps that
 * one chunk and stops reading the socket, so TCP flow control pushes back
 * on the server.  HttpStreamRead drains the buffer and unpauses once the
 * refused chunk fits.  CURLOPT_BUFFERSIZE is capped at the buffer size, so
 * a chunk always fits into an empty buffer.
 *
 * Streams started with an HttpGroup in their HttpConfig share the group's
 * multi handle, so whichever of them is being waited on, curl moves them
 * all, each into its own buffer and each pausing when that buffer is
 * full.  A result curl reports for one of them is stored in that stream
 * (CURLOPT_PRIVATE points back to it) until that stream is read.
 *
 * Plain C with libcurl; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/http.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "http.h"

#define HTTP_POLL_MS				100
#define HTTP_MIN_BUFFER				1024	/* CURLOPT_BUFFERSIZE minimum */
#define HTTP_MAX_HEADER_BYTES		(64 * 1024) /* kept per collected reply */
#define HTTP_DEFAULT_CONNECT_MS		10000
#define HTTP_DEFAULT_LOW_SPEED_S	30
#define HTTP_PUMP_INTERVAL_US		250 /* see HttpGroupPump */

/* One transfer in flight, streaming or collecting. */
typedef struct HttpSockets HttpSockets;

typedef struct HttpXfer
{
	TelemStoreStats *stats;		/* the config's, or NULL */
	HttpSockets *sockets;		/* where curl's sockets are tracked, or NULL */
	CURLM	   *multi;
	HttpGroup  *group;			/* the group whose multi this is, or NULL */
	CURL	   *easy;
	bool		attached;		/* easy has been added to multi */
	struct curl_slist *headers;

	/* body bytes [head, tail) of buf are unread */
	char	   *buf;
	size_t		cap;
	size_t		head;
	size_t		tail;

	bool		collect;		/* grow up to max_body instead of pausing */
	size_t		max_body;
	bool		too_large;
	bool		out_of_memory;

	bool		paused;			/* the write callback paused the transfer */
	size_t		pending;		/* size of the chunk it refused */

	bool		headers_done;	/* final (non-1xx) response headers are in */
	long		status;
	char		content_range[128];

	/* collecting: the final response's header lines, for HttpHeaderValue */
	char	   *hdrs;
	size_t		hdrs_len;
	size_t		hdrs_cap;

	bool		done;			/* curl reported the transfer finished */
	CURLcode	result;
	char		errbuf[CURL_ERROR_SIZE];
} HttpXfer;

struct HttpStream
{
	HttpXfer	x;
};

/* The sockets curl opened for some transfers, for xfer_quickack. */
struct HttpSockets
{
	curl_socket_t *socks;
	int			nsocks;
	int			socks_cap;
};

struct HttpClient
{
	CURLM	   *multi;			/* owns the connection cache */
	CURL	   *easy;			/* reused for every request */
	HttpConfig	cfg;
	char	   *ca_file;		/* our copy of cfg.ca_file */
	HttpSockets sockets;		/* those of its connection cache */
};

struct HttpShare
{
	CURLSH	   *sh;
};

/* Streams that progress together: one multi handle drives them all. */
struct HttpGroup
{
	CURLM	   *multi;
	int			nattached;		/* streams whose easy handle is in multi */
	struct timespec last_pump;	/* of the last opportunistic perform */

	HttpSockets sockets;		/* those curl opened for the group's streams */
};

static bool http_initialized = false;

bool
HttpGlobalInit(TelemError *err)
{
	CURLcode	rc;
	curl_version_info_data *info;

	if (http_initialized)
		return true;

	/* CURLOPT_PROTOCOLS_STR appeared in 7.85.0 */
	info = curl_version_info(CURLVERSION_NOW);
	if (info == NULL || info->version_num < 0x075500)
		return TelemSetError(err, TELEM_ERR_CONFIG,
							 "libcurl 7.85.0 or later is required, found %s",
							 info != NULL ? info->version : "unknown");

	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return TelemSetError(err, TELEM_ERR_NETWORK,
							 "could not initialize libcurl: %s",
							 curl_easy_strerror(rc));
	http_initialized = true;
	return true;
}

HttpShare *
HttpShareCreate(TelemError *err)
{
	HttpShare  *share;

	if (!HttpGlobalInit(err))
		return NULL;
	share = calloc(1, sizeof(HttpShare));
	if (share == NULL || (share->sh = curl_share_init()) == NULL)
	{
		free(share);
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
					  "out of memory creating an HTTP connection cache");
		return NULL;
	}
	/* one backend thread: no lock functions needed */
	if (curl_share_setopt(share->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
		curl_share_setopt(share->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
		curl_share_setopt(share->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
	{
		HttpShareDestroy(share);
		TelemSetError(err, TELEM_ERR_CONFIG,
					  "libcurl cannot share connections between transfers");
		return NULL;
	}
	return share;
}

void
HttpShareDestroy(HttpShare *share)
{
	if (share == NULL)
		return;
	if (share->sh != NULL)
		curl_share_cleanup(share->sh);
	free(share);
}

TelemErrorKind
HttpErrorKind(int curl_code, long http_status)
{
	switch ((CURLcode) curl_code)
	{
		case CURLE_OK:
			break;
		case CURLE_OUT_OF_MEMORY:
			return TELEM_ERR_OUT_OF_MEMORY;
		case CURLE_ABORTED_BY_CALLBACK:
			return TELEM_ERR_CANCELED;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
		case CURLE_NOT_BUILT_IN:
		case CURLE_UNKNOWN_OPTION:
		case CURLE_BAD_FUNCTION_ARGUMENT:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CRL_BADFILE:
			return TELEM_ERR_CONFIG;
		case CURLE_WEIRD_SERVER_REPLY:
		case CURLE_TOO_MANY_REDIRECTS:
		case CURLE_BAD_CONTENT_ENCODING:
		case CURLE_WRITE_ERROR:
		case CURLE_FILESIZE_EXCEEDED:
			return TELEM_ERR_PROTOCOL;
		default:
			/* connect, TLS, send/receive, timeouts */
			return TELEM_ERR_NETWORK;
	}

	if (http_status >= 200 && http_status <= 299)
		return TELEM_OK;
	if (http_status == 401 || http_status == 403)
		return TELEM_ERR_AUTH;
	if (http_status == 404)
		return TELEM_ERR_NOT_FOUND;
	return TELEM_ERR_PROTOCOL;
}

bool
HttpIsTransient(int curl_code, long http_status)
{
	switch ((CURLcode) curl_code)
	{
		case CURLE_OK:
			break;
		case CURLE_COULDNT_CONNECT:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			return true;
		default:
			return false;
	}
	/* 500 InternalError, 503 SlowDown and proxies' 502/504 */
	return http_status == 500 || http_status == 502 ||
		http_status == 503 || http_status == 504;
}

bool
HttpIsResumable(int curl_code)
{
	switch ((CURLcode) curl_code)
	{
		case CURLE_PARTIAL_FILE:
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_GOT_NOTHING:
			return true;
		default:
			return false;
	}
}

bool
HttpCheckInterrupt(TelemError *err)
{
	if (telem_interrupt_hook != NULL && telem_interrupt_hook())
	{
		if (err != NULL)
		{
			err->http_status = 0;
			err->code[0] = '\0';
		}
		return TelemSetError(err, TELEM_ERR_CANCELED, "canceling HTTP transfer");
	}
	return true;
}

bool
HttpSleep(long ms, TelemError *err)
{
	while (ms > 0)
	{
		long		step = ms < HTTP_POLL_MS ? ms : HTTP_POLL_MS;
		struct timespec ts;

		if (!HttpCheckInterrupt(err))
			return false;
		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return HttpCheckInterrupt(err);
}

/* Fill err from a failed transfer; errbuf holds curl's detail, if any. */
static bool
set_curl_error(TelemError *err, CURLcode rc, const char *errbuf)
{
	if (err == NULL)
		return false;
	err->http_status = 0;
	err->code[0] = '\0';
	return TelemSetError(err, HttpErrorKind(rc, 0), "HTTP transfer failed: %s",
						 (errbuf != NULL && errbuf[0] != '\0') ? errbuf :
						 curl_easy_strerror(rc));
}

/* Wipe and free a header list; it may hold credentials. */
static void
free_headers(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l != NULL; l = l->next)
		if (l->data != NULL)
			OPENSSL_cleanse(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

/*
 * Write callback.  Collecting: append, growing up to max_body.  Streaming:
 * append if the chunk fits, else pause; curl hands the same chunk again
 * after curl_easy_pause(CURLPAUSE_CONT).
 */
static size_t
xfer_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	HttpXfer   *x = (HttpXfer *) userdata;
	size_t		n = size * nmemb;
	size_t		used = x->tail - x->head;

	if (n == 0)
		return 0;

	if (x->collect)
	{
		if (used + n > x->max_body)
		{
			x->too_large = true;
			return 0;			/* short count: curl fails the transfer */
		}
		if (x->tail + n + 1 > x->cap)
		{
			size_t		newcap = x->cap > 0 ? x->cap * 2 : 16384;
			char	   *newbuf;

			while (newcap < x->tail + n + 1)
				newcap *= 2;
			newbuf = realloc(x->buf, newcap);
			if (newbuf == NULL)
			{
				x->out_of_memory = true;
				return 0;
			}
			x->buf = newbuf;
			x->cap = newcap;
		}
		memcpy(x->buf + x->tail, ptr, n);
		x->tail += n;
		return n;
	}

	if (n > x->cap - used)
	{
		if (used > 0)
		{
			x->paused = true;
			x->pending = n;
			return CURL_WRITEFUNC_PAUSE;
		}

		/*
		 * A chunk bigger than the whole buffer can never fit, and pausing
		 * would stall forever.  CURLOPT_BUFFERSIZE makes this impossible; if
		 * curl ever does it anyway, grow rather than hang.
		 */
		{
			char	   *newbuf = realloc(x->buf, n);

			if (newbuf == NULL)
			{
				x->out_of_memory = true;
				return 0;
			}
			x->buf = newbuf;
			x->cap = n;
		}
	}
	if (x->cap - x->tail < n)
	{
		memmove(x->buf, x->buf + x->head, used);
		x->head = 0;
		x->tail = used;
	}
	memcpy(x->buf + x->tail, ptr, n);
	x->tail += n;
	return n;
}

/*
 * ACK the segment that brought the status line now, not after the delayed-
 * ACK timer.  A server that writes its headers and then a small body in two
 * sends, with Nagle on (Ceph RGW does), holds the body back until the
 * headers are ACKed; on a reused connection Linux has left quick-ACK mode,
 * so every small GET waited ~40 ms (100 objects of 1 kB: 4.6 s reused,
 * 0.3 s on fresh connections).  Setting TCP_QUICKACK sends a pending ACK
 * at once.  Best effort; Linux only.
 */
static void
xfer_quickack(HttpXfer *x)
{
#ifdef TCP_QUICKACK
	int			one = 1;
	int			i;

	/*
	 * curl does not tell which of its sockets a transfer uses while it
	 * runs, so poke all of the group's: on a socket with no ACK pending
	 * this does nothing that lasts.
	 */
	if (x->sockets == NULL)
		return;
	for (i = 0; i < x->sockets->nsocks; i++)
		(void) setsockopt(x->sockets->socks[i], IPPROTO_TCP, TCP_QUICKACK,
						  &one, sizeof(one));
#else
	(void) x;
#endif
}

/* CURLOPT_SOCKOPTFUNCTION: remember the socket. */
static int
group_sockopt(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	HttpSockets *g = (HttpSockets *) clientp;

	(void) purpose;
	if (g->nsocks == g->socks_cap)
	{
		int			cap = g->socks_cap > 0 ? g->socks_cap * 2 : 8;
		curl_socket_t *p = realloc(g->socks, cap * sizeof(curl_socket_t));

		if (p == NULL)
			return CURL_SOCKOPT_OK; /* it only misses the quick ACK */
		g->socks = p;
		g->socks_cap = cap;
	}
	g->socks[g->nsocks++] = fd;
	return CURL_SOCKOPT_OK;
}

/* CURLOPT_CLOSESOCKETFUNCTION: forget and close. */
static int
group_closesocket(void *clientp, curl_socket_t fd)
{
	HttpSockets *g = (HttpSockets *) clientp;
	int			i;

	for (i = 0; i < g->nsocks; i++)
		if (g->socks[i] == fd)
		{
			g->socks[i] = g->socks[--g->nsocks];
			break;
		}
	return close(fd);
}

/* Header callback: spot the end of the final header block, Content-Range. */
static size_t
xfer_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	HttpXfer   *x = (HttpXfer *) userdata;
	size_t		n = size * nitems;

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0)
	{
		/* a new response starts (after a 1xx); forget the old headers */
		x->content_range[0] = '\0';
		x->hdrs_len = 0;
		xfer_quickack(x);
	}
	else if (n > 0 && n <= 2 && (buf[0] == '\r' || buf[0] == '\n'))
	{
		long		code = 0;

		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200)
		{
			x->status = code;
			x->headers_done = true;
		}
	}
	else if (n > 14 && strncasecmp(buf, "Content-Range:", 14) == 0)
	{
		const char *v = buf + 14;
		size_t		vlen = n - 14;

		while (vlen > 0 && (*v == ' ' || *v == '\t'))
			v++, vlen--;
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
							v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= sizeof(x->content_range))
			vlen = sizeof(x->content_range) - 1;
		memcpy(x->content_range, v, vlen);
		x->content_range[vlen] = '\0';
	}

	/* collecting: keep the header lines (bounded), for HttpHeaderValue */
	if (x->collect && !x->headers_done && n > 2 &&
		x->hdrs_len + n + 1 <= HTTP_MAX_HEADER_BYTES)
	{
		if (x->hdrs_len + n + 1 > x->hdrs_cap)
		{
			size_t		cap = x->hdrs_cap > 0 ? x->hdrs_cap * 2 : 1024;
			char	   *p;

			while (cap < x->hdrs_len + n + 1)
				cap *= 2;
			p = realloc(x->hdrs, cap);
			if (p == NULL)
			{
				x->out_of_memory = true;
				return 0;		/* aborts the transfer */
			}
			x->hdrs = p;
			x->hdrs_cap = cap;
		}
		memcpy(x->hdrs + x->hdrs_len, buf, n);
		x->hdrs_len += n;
		x->hdrs[x->hdrs_len] = '\0';
	}
	return n;
}

bool
HttpHeaderValue(const char *headers, const char *name, char *out,
				size_t outlen)
{
	size_t		nlen = strlen(name);
	const char *line = headers;

	if (outlen > 0)
		out[0] = '\0';
	while (line != NULL && *line != '\0')
	{
		const char *eol = strchr(line, '\n');
		size_t		len = eol != NULL ? (size_t) (eol - line) : strlen(line);

		if (len > nlen && strncasecmp(line, name, nlen) == 0 &&
			line[nlen] == ':')
		{
			const char *v = line + nlen + 1;
			size_t		vlen = len - nlen - 1;

			while (vlen > 0 && (*v == ' ' || *v == '\t'))
				v++, vlen--;
			while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ' ||
								v[vlen - 1] == '\t'))
				vlen--;
			if (outlen > 0)
			{
				if (vlen >= outlen)
					vlen = outlen - 1;
				memcpy(out, v, vlen);
				out[vlen] = '\0';
			}
			return true;
		}
		line = eol != NULL ? eol + 1 : NULL;
	}
	return false;
}

/*
 * Configure x->easy for req.  bufsize > 0 sets curl's receive buffer size.
 * Returns false with err set if an option is refused (e.g. an old libcurl).
 */
static bool
xfer_setup(HttpXfer *x, const HttpConfig *cfg, const HttpRequest *req,
		   long bufsize, TelemError *err)
{
	CURL	   *e = x->easy;
	CURLcode	rc = CURLE_OK;
	long		connect_ms = cfg->connect_timeout_ms > 0 ?
		cfg->connect_timeout_ms : HTTP_DEFAULT_CONNECT_MS;
	long		low_speed_s = cfg->low_speed_time_s > 0 ?
		cfg->low_speed_time_s : HTTP_DEFAULT_LOW_SPEED_S;
	const char *method = req->method != NULL ? req->method : "GET";
	bool		has_body = strcmp(method, "PUT") == 0 ||
		strcmp(method, "POST") == 0;
	bool		has_content_type = false;
	int			i;

	x->stats = cfg->stats;
	if (x->stats)
		x->stats->requests++;

	for (i = 0; i < req->nheaders; i++)
	{
		struct curl_slist *l = curl_slist_append(x->headers, req->headers[i]);

		if (l == NULL)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "out of memory building HTTP headers");
		x->headers = l;
		if (strncasecmp(req->headers[i], "Content-Type:", 13) == 0)
			has_content_type = true;
	}

	/*
	 * A body goes out as it is signed: no "Expect: 100-continue" round trip,
	 * and no Content-Type that curl would add on its own (it is part of
	 * Azure's string to sign).
	 */
	if (has_body)
	{
		const char *extra[2] = {"Expect:", "Content-Type:"};

		for (i = 0; i < (has_content_type ? 1 : 2); i++)
		{
			struct curl_slist *l = curl_slist_append(x->headers, extra[i]);

			if (l == NULL)
				return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
									 "out of memory building HTTP headers");
			x->headers = l;
		}
	}

#define SET(opt, val) \
	do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val); } while (0)

	SET(CURLOPT_URL, req->url);
	if (has_body)
	{
		/* POSTFIELDS sends the bytes as given, with a Content-Length */
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		if (strcmp(method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
	}
	else if (strcmp(method, "HEAD") == 0)
		SET(CURLOPT_NOBODY, 1L);
	else
	{
		SET(CURLOPT_HTTPGET, 1L);
		if (strcmp(method, "GET") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
	}
	SET(CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
	/* only plain and TLS HTTP, and never follow a redirect anywhere */
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* no SIGALRM-based DNS timeouts inside a PostgreSQL backend */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	/* a transfer that moves nothing for low_speed_s fails (and resumes) */
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, low_speed_s);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	/*
	 * Ignore http_proxy/https_proxy in the server's environment: requests go
	 * only where the server's endpoint option says, never to a host an
	 * inherited variable names.
	 */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_SSL_VERIFYPEER, cfg->verify_tls ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, cfg->verify_tls ? 2L : 0L);
	if (cfg->ca_file != NULL)
		SET(CURLOPT_CAINFO, cfg->ca_file);
	SET(CURLOPT_USERAGENT, "telem_fdw");
	SET(CURLOPT_HTTPHEADER, x->headers);
	if (cfg->share != NULL)
		SET(CURLOPT_SHARE, cfg->share->sh);
	if (x->group != NULL)
		x->sockets = &x->group->sockets;
	if (x->sockets != NULL)
	{
		SET(CURLOPT_SOCKOPTFUNCTION, group_sockopt);
		SET(CURLOPT_SOCKOPTDATA, (void *) x->sockets);
		SET(CURLOPT_CLOSESOCKETFUNCTION, group_closesocket);
		SET(CURLOPT_CLOSESOCKETDATA, (void *) x->sockets);
	}
	SET(CURLOPT_WRITEFUNCTION, xfer_write);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, xfer_header);
	SET(CURLOPT_HEADERDATA, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_PRIVATE, (void *) x);
	if (bufsize > 0)
		SET(CURLOPT_BUFFERSIZE, bufsize);
#undef SET

	if (rc != CURLE_OK)
		return TelemSetError(err, HttpErrorKind(rc, 0),
							 "could not configure HTTP transfer: %s",
							 curl_easy_strerror(rc));
	return true;
}

/* Stop-waiting conditions for xfer_drive. */
static bool
headers_ready(const HttpXfer *x)
{
	return x->headers_done;
}

static bool
body_ready(const HttpXfer *x)
{
	return x->tail > x->head;
}

/*
 * Hand every finished transfer's result to its HttpXfer (CURLOPT_PRIVATE):
 * on a group's multi handle a message may be for a stream nobody is
 * reading now, which keeps it until it is read.
 */
static void
multi_dispatch(CURLM *multi)
{
	CURLMsg    *msg;
	int			left = 0;

	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
	{
		HttpXfer   *other = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
							  (char **) &other) == CURLE_OK && other != NULL)
		{
			other->done = true;
			other->result = msg->data.result;
		}
	}
}

/* One non-blocking step of every transfer on multi. */
static bool
multi_step(CURLM *multi, TelemError *err)
{
	int			running = 0;
	CURLMcode	mc = curl_multi_perform(multi, &running);

	if (mc != CURLM_OK)
		return TelemSetError(err, TELEM_ERR_NETWORK,
							 "HTTP transfer failed: %s",
							 curl_multi_strerror(mc));
	multi_dispatch(multi);
	return true;
}

/*
 * Run the transfer until it is done or ready(x) holds (ready may be NULL).
 * Every other transfer on the same multi handle (a group's) moves along
 * too, each into its own buffer.  Returns false with err set when canceled
 * or when the multi handle fails; a failed transfer is not an error here
 * (x->done, x->result say so).
 */
static bool
xfer_drive(HttpXfer *x, bool (*ready) (const HttpXfer *), TelemError *err)
{
	for (;;)
	{
		CURLMcode	mc;

		if (!multi_step(x->multi, err))
			return false;
		if (x->done || (ready != NULL && ready(x)))
			return true;

		if (!HttpCheckInterrupt(err))
			return false;
		if (x->stats)
		{
			struct timespec t0,
						t1;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			mc = curl_multi_poll(x->multi, NULL, 0, HTTP_POLL_MS, NULL);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			x->stats->wait_us += (t1.tv_sec - t0.tv_sec) * 1000000L +
				(t1.tv_nsec - t0.tv_nsec) / 1000L;
		}
		else
			mc = curl_multi_poll(x->multi, NULL, 0, HTTP_POLL_MS, NULL);
		if (mc != CURLM_OK)
			return TelemSetError(err, TELEM_ERR_NETWORK,
								 "HTTP transfer failed: %s",
								 curl_multi_strerror(mc));
	}
}

/* Let curl deliver the refused chunk if it fits now. */
static void
xfer_maybe_unpause(HttpXfer *x)
{
	CURLcode	rc;

	if (!x->paused || x->done || x->cap - (x->tail - x->head) < x->pending)
		return;
	x->paused = false;
	x->pending = 0;
	/* may call xfer_write right away, which may pause again */
	rc = curl_easy_pause(x->easy, CURLPAUSE_CONT);
	if (rc != CURLE_OK && !x->done)
	{
		x->done = true;
		x->result = rc;
	}
}

HttpClient *
HttpClientCreate(const HttpConfig *cfg, TelemError *err)
{
	HttpClient *c;

	if (!HttpGlobalInit(err))
		return NULL;
	c = calloc(1, sizeof(HttpClient));
	if (c == NULL)
	{
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	if (cfg->ca_file != NULL)
	{
		c->ca_file = strdup(cfg->ca_file);
		c->cfg.ca_file = c->ca_file;
	}
	c->multi = curl_multi_init();
	c->easy = curl_easy_init();
	if ((cfg->ca_file != NULL && c->ca_file == NULL) ||
		c->multi == NULL || c->easy == NULL)
	{
		HttpClientDestroy(c);
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
					  "out of memory creating an HTTP client");
		return NULL;
	}
	return c;
}

void
HttpClientNoteRetry(HttpClient *client)
{
	if (client != NULL && client->cfg.stats != NULL)
		client->cfg.stats->retries++;
}

void
HttpClientDestroy(HttpClient *client)
{
	if (client == NULL)
		return;
	if (client->easy != NULL)
		curl_easy_cleanup(client->easy);
	if (client->multi != NULL)
		curl_multi_cleanup(client->multi);
	free(client->sockets.socks);
	free(client->ca_file);
	free(client);
}

bool
HttpPerform(HttpClient *client, const HttpRequest *req, size_t max_body,
			HttpResponse *resp, TelemError *err)
{
	HttpXfer	x;
	bool		ok;

	memset(resp, 0, sizeof(*resp));
	memset(&x, 0, sizeof(x));
	x.multi = client->multi;
	x.easy = client->easy;
	/*
	 * Connections kept in a share outlive the client and close through
	 * the callback of whoever opened them: track only the client's own.
	 */
	x.sockets = client->cfg.share == NULL ? &client->sockets : NULL;
	x.collect = true;
	x.max_body = max_body;

	/* fresh options each time; the connection cache lives in the multi */
	curl_easy_reset(x.easy);
	ok = xfer_setup(&x, &client->cfg, req, 0, err);
	if (ok)
	{
		if (curl_multi_add_handle(x.multi, x.easy) != CURLM_OK)
			ok = TelemSetError(err, TELEM_ERR_NETWORK,
							   "could not start HTTP transfer");
		else
		{
			x.attached = true;
			ok = xfer_drive(&x, NULL, err);
			curl_multi_remove_handle(x.multi, x.easy);
		}
	}
	/* drop curl's pointer to the list before wiping and freeing it */
	curl_easy_setopt(x.easy, CURLOPT_HTTPHEADER, NULL);
	free_headers(x.headers);

	if (ok && x.out_of_memory)
		ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
						   "out of memory receiving HTTP reply");
	else if (ok && x.too_large)
		ok = TelemSetError(err, TELEM_ERR_PROTOCOL,
						   "HTTP reply is larger than %zu bytes", max_body);
	else if (ok && x.result != CURLE_OK)
	{
		resp->curl_code = (int) x.result;
		ok = set_curl_error(err, x.result, x.errbuf);
	}
	if (!ok)
	{
		if (resp->curl_code == 0 && !x.done)
			resp->curl_code = (int) CURLE_ABORTED_BY_CALLBACK;
		free(x.buf);
		free(x.hdrs);
		return false;
	}
	resp->headers = x.hdrs;

	resp->status = x.status;
	if (resp->status == 0)
		curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = x.buf;
	resp->body_len = x.tail;
	if (resp->body != NULL)
		resp->body[resp->body_len] = '\0';	/* room was kept for it */
	return true;
}

void
HttpResponseFree(HttpResponse *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	free(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

HttpGroup *
HttpGroupCreate(TelemError *err)
{
	HttpGroup  *g;

	if (!HttpGlobalInit(err))
		return NULL;
	g = calloc(1, sizeof(HttpGroup));
	if (g == NULL || (g->multi = curl_multi_init()) == NULL)
	{
		free(g);
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
					  "out of memory creating an HTTP transfer group");
		return NULL;
	}
	return g;
}

void
HttpGroupDestroy(HttpGroup *group)
{
	if (group == NULL)
		return;
	/* closes the cached connections through group_closesocket */
	curl_multi_cleanup(group->multi);
	free(group->sockets.socks);
	free(group);
}

/*
 * A non-blocking step of the group's transfers, unless one was taken less
 * than HTTP_PUMP_INTERVAL_US ago: cheap enough to call every few rows.
 */
bool
HttpGroupPump(HttpGroup *group, TelemError *err)
{
	struct timespec now;
	long		us;

	if (group == NULL || group->nattached == 0)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - group->last_pump.tv_sec) * 1000000L +
		(now.tv_nsec - group->last_pump.tv_nsec) / 1000;
	if (us >= 0 && us < HTTP_PUMP_INTERVAL_US)
		return true;
	group->last_pump = now;
	return multi_step(group->multi, err);
}

/*
 * From HttpStreamRead while bytes are buffered: give the group's other
 * transfers a step, so that they keep filling their buffers while the
 * caller works through this one.  A failure of the multi handle is left
 * for the next blocking wait to report.
 */
static void
group_maybe_pump(HttpGroup *group)
{
	if (group != NULL && group->nattached >= 2)
		(void) HttpGroupPump(group, NULL);
}

bool
HttpGroupSleep(HttpGroup *group, long ms, TelemError *err)
{
	struct timespec start;

	if (group == NULL || group->nattached == 0)
		return HttpSleep(ms, err);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;)
	{
		struct timespec now;
		long		left;
		CURLMcode	mc;

		if (!HttpCheckInterrupt(err) || !multi_step(group->multi, err))
			return false;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ms - ((now.tv_sec - start.tv_sec) * 1000L +
					 (now.tv_nsec - start.tv_nsec) / 1000000L);
		if (left <= 0)
			return true;
		mc = curl_multi_poll(group->multi, NULL, 0,
							 left < HTTP_POLL_MS ? (int) left : HTTP_POLL_MS,
							 NULL);
		if (mc != CURLM_OK)
			return TelemSetError(err, TELEM_ERR_NETWORK,
								 "HTTP transfer failed: %s",
								 curl_multi_strerror(mc));
	}
}

HttpStream *
HttpStreamStart(const HttpConfig *cfg, const HttpRequest *req,
				size_t buffer_size, TelemError *err)
{
	HttpStream *s;
	HttpXfer   *x;
	long		bufsize;

	if (!HttpGlobalInit(err))
		return NULL;

	s = calloc(1, sizeof(HttpStream));
	if (s == NULL)
	{
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	x = &s->x;
	x->cap = buffer_size < HTTP_MIN_BUFFER ? HTTP_MIN_BUFFER : buffer_size;
	x->buf = malloc(x->cap);
	x->group = cfg->group;
	x->multi = x->group != NULL ? x->group->multi : curl_multi_init();
	x->easy = curl_easy_init();
	if (x->buf == NULL || x->multi == NULL || x->easy == NULL)
	{
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
					  "out of memory starting an HTTP transfer");
		goto fail;
	}

	/* curl's chunks must fit the buffer; see xfer_write */
	bufsize = x->cap < CURL_MAX_WRITE_SIZE ? (long) x->cap : CURL_MAX_WRITE_SIZE;
	if (!xfer_setup(x, cfg, req, bufsize, err))
		goto fail;
	if (curl_multi_add_handle(x->multi, x->easy) != CURLM_OK)
	{
		TelemSetError(err, TELEM_ERR_NETWORK, "could not start HTTP transfer");
		goto fail;
	}
	x->attached = true;
	if (x->group != NULL)
		x->group->nattached++;

	/*
	 * One step connects (or takes a cached connection) and, on a local
	 * network, usually sends the request; a failure shows in x->done.
	 */
	if (!multi_step(x->multi, err))
		goto fail;
	return s;

fail:
	HttpStreamClose(s);
	return NULL;
}

bool
HttpStreamWaitHeaders(HttpStream *stream, TelemError *err, int *curl_code)
{
	HttpXfer   *x = &stream->x;

	if (curl_code != NULL)
		*curl_code = CURLE_OK;
	if (x->headers_done)
		return true;
	if (!xfer_drive(x, headers_ready, err))
		return false;
	if (!x->headers_done)
	{
		CURLcode	rc = x->result != CURLE_OK ? x->result : CURLE_GOT_NOTHING;

		/* finished without a final response: connection refused, reset... */
		if (curl_code != NULL)
			*curl_code = (int) rc;
		return set_curl_error(err, rc, x->errbuf);
	}
	return true;
}

HttpStream *
HttpStreamOpen(const HttpConfig *cfg, const HttpRequest *req,
			   size_t buffer_size, TelemError *err, int *curl_code)
{
	HttpStream *s;

	if (curl_code != NULL)
		*curl_code = CURLE_OK;
	s = HttpStreamStart(cfg, req, buffer_size, err);
	if (s == NULL)
		return NULL;
	if (!HttpStreamWaitHeaders(s, err, curl_code))
	{
		HttpStreamClose(s);
		return NULL;
	}
	return s;
}

long
HttpStreamStatus(const HttpStream *stream)
{
	return stream->x.status;
}

int64_t
HttpStreamContentLength(const HttpStream *stream)
{
	curl_off_t	cl = -1;

	if (curl_easy_getinfo(stream->x.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
						  &cl) != CURLE_OK)
		return -1;
	return cl < 0 ? -1 : (int64_t) cl;
}

const char *
HttpStreamContentRange(const HttpStream *stream)
{
	return stream->x.content_range[0] != '\0' ? stream->x.content_range : NULL;
}

ssize_t
HttpStreamRead(HttpStream *stream, void *buf, size_t len, TelemError *err)
{
	HttpXfer   *x = &stream->x;

	if (len == 0)
		return 0;
	for (;;)
	{
		size_t		used = x->tail - x->head;

		if (used > 0)
		{
			size_t		n = used < len ? used : len;

			memcpy(buf, x->buf + x->head, n);
			x->head += n;
			if (x->head == x->tail)
				x->head = x->tail = 0;
			xfer_maybe_unpause(x);
			group_maybe_pump(x->group);
			return (ssize_t) n;
		}
		if (x->done)
		{
			if (x->result == CURLE_OK)
				return 0;
			if (x->out_of_memory)
				TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							  "out of memory receiving HTTP body");
			else
				set_curl_error(err, x->result, x->errbuf);
			return -1;
		}
		/* the buffer is empty, so a refused chunk fits now */
		xfer_maybe_unpause(x);
		if (!xfer_drive(x, body_ready, err))
			return -1;
	}
}

int
HttpStreamResult(const HttpStream *stream)
{
	return stream->x.done ? (int) stream->x.result : (int) CURLE_OK;
}

char *
HttpStreamReadBody(HttpStream *stream, size_t max, size_t *len)
{
	char	   *out = malloc(max + 1);
	size_t		got = 0;
	TelemError	ignored;

	*len = 0;
	if (out == NULL)
		return NULL;
	while (got < max)
	{
		ssize_t		n = HttpStreamRead(stream, out + got, max - got, &ignored);

		if (n <= 0)
			break;
		got += (size_t) n;
	}
	out[got] = '\0';
	*len = got;
	return out;
}

void
HttpStreamClose(HttpStream *stream)
{
	HttpXfer   *x;

	if (stream == NULL)
		return;
	x = &stream->x;
	if (x->attached)
	{
		curl_multi_remove_handle(x->multi, x->easy);
		if (x->group != NULL)
			x->group->nattached--;
	}
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	if (x->multi != NULL && x->group == NULL)
		curl_multi_cleanup(x->multi);
	free_headers(x->headers);
	free(x->buf);
	free(stream);
}
