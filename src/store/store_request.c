/*-------------------------------------------------------------------------
 *
 * store_request.c
 *		One complete (non-streaming) request of a network store, retried
 *		with backoff on transient failures.
 *
 * Each attempt is authorized anew (a signature covers the date), through
 * the store's StoreRequester.  Streams (GETs of object bodies) are in
 * ranged_reader.c.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_request.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "http.h"
#include "store_util.h"

/*
 * Send req (its headers come from rq->authorize) on client, retrying
 * transient failures up to max_retries times with backoff.  Returns true
 * when a 2xx reply, or one with status accept (if not 0), arrived; the
 * caller then reads and frees resp.  Otherwise false with err set, its
 * message starting with context, and resp freed.  *retries (if not NULL)
 * gets the number of repeated attempts.
 */
bool
StorePerform(HttpClient *client, const HttpRequest *req, size_t max_body,
			 long accept, int max_retries, const StoreRequester *rq,
			 const char *context, HttpResponse *resp, int *retries,
			 TelemError *err)
{
	int			attempt = 0;
	bool		ok = false;

	memset(resp, 0, sizeof(*resp));
	memset(err, 0, sizeof(*err));
	for (;;)
	{
		StoreHeaders h = {{NULL}, {NULL}, {NULL}, 0};
		HttpRequest r = *req;
		bool		complete;
		bool		retry = false;

		if (!rq->authorize(rq->arg, &h, err))
		{
			StoreHeadersFree(&h);
			if (err->kind != TELEM_ERR_CANCELED)
				StoreErrorContext(err, context);
			break;
		}
		r.headers = (const char *const *) h.line;
		r.nheaders = h.n;
		complete = HttpPerform(client, &r, max_body, resp, err);
		StoreHeadersFree(&h);

		if (!complete)
		{
			retry = StoreRetryable(err, resp->curl_code, 0);
			if (err->kind != TELEM_ERR_CANCELED)
				StoreErrorContext(err, context);
		}
		else if ((resp->status >= 200 && resp->status <= 299) ||
				 (accept != 0 && resp->status == accept))
		{
			memset(err, 0, sizeof(*err));
			ok = true;
			break;
		}
		else
		{
			rq->reply_error(err, resp, context);
			retry = HttpIsTransient(0, resp->status);
		}
		HttpResponseFree(resp);

		if (!retry || attempt >= max_retries)
			break;
		attempt++;
		HttpClientNoteRetry(client);
		if (!HttpSleep(StoreBackoffMs(attempt), err))
			break;
	}
	if (!ok && err->kind != TELEM_ERR_CANCELED)
		StoreErrorRetries(err, attempt);
	if (retries != NULL)
		*retries = attempt;
	return ok;
}
