/*-------------------------------------------------------------------------
 *
 * store_error.c
 *		Error filling and retry policy shared by the network stores.
 *
 * Messages stay valid UTF-8 however they are cut, and every store
 * describes an object the same way ("could not read s3://bucket/key").
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_error.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "store_util.h"

#define STORE_BACKOFF_BASE_MS	100
#define STORE_BACKOFF_MAX_MS	5000

/*
 * If s was cut short by a truncating snprintf, drop a trailing incomplete
 * UTF-8 sequence so the message stays valid UTF-8.
 */
static void
trim_partial_utf8(char *s)
{
	size_t		n = strlen(s);
	size_t		i = n;
	size_t		need;
	unsigned char c;

	/* find the start of the last character */
	while (i > 0 && ((unsigned char) s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	c = (unsigned char) s[i - 1];
	if (c < 0x80)
		return;
	need = (c >= 0xF0) ? 4 : (c >= 0xE0) ? 3 : (c >= 0xC0) ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

/* Set every field of err; the message is printf-formatted.  Returns false. */
bool
StoreSetError(TelemError *err, TelemErrorKind kind, long http_status,
			  const char *code, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return false;
	err->kind = kind;
	err->http_status = http_status;
	snprintf(err->code, sizeof(err->code), "%s", code != NULL ? code : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	trim_partial_utf8(err->message);
	return false;
}

/* "out of memory"; returns false. */
bool
StoreOutOfMemory(TelemError *err)
{
	return StoreSetError(err, TELEM_ERR_OUT_OF_MEMORY, 0, NULL,
						 "out of memory");
}

/* Prefix err->message with context ("could not list s3://b/p: ..."). */
void
StoreErrorContext(TelemError *err, const char *context)
{
	char		old[sizeof(err->message)];
	size_t		cap = sizeof(err->message) - 1;
	size_t		clen = strlen(context);
	size_t		olen;

	/* memcpy, not snprintf: truncation is intended here */
	memcpy(old, err->message, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	olen = strlen(old);
	if (clen > cap)
		clen = cap;
	memcpy(err->message, context, clen);
	if (clen + 2 <= cap)
	{
		memcpy(err->message + clen, ": ", 2);
		clen += 2;
		if (olen > cap - clen)
			olen = cap - clen;
		memcpy(err->message + clen, old, olen);
		clen += olen;
	}
	err->message[clen] = '\0';
	trim_partial_utf8(err->message);
}

/* Append " (after N retries)" to err->message; nothing for N <= 0. */
void
StoreErrorRetries(TelemError *err, int retries)
{
	size_t		n = strlen(err->message);

	if (retries <= 0)
		return;
	snprintf(err->message + n, sizeof(err->message) - n, " (after %d %s)",
			 retries, retries == 1 ? "retry" : "retries");
	trim_partial_utf8(err->message);
}

/*
 * Describe an object for error messages: "VERB SCHEME://CONTAINER/KEY",
 * the key shortened to STORE_CONTEXT_KEY_MAX bytes on a character
 * boundary.
 */
void
StoreObjectContext(char buf[STORE_CONTEXT_LEN], const char *verb,
				   const char *scheme, const char *container, const char *key)
{
	size_t		full = strlen(key);
	size_t		klen = full;

	if (klen > STORE_CONTEXT_KEY_MAX)
	{
		klen = STORE_CONTEXT_KEY_MAX;
		while (klen > 0 && ((unsigned char) key[klen] & 0xC0) == 0x80)
			klen--;
	}
	snprintf(buf, STORE_CONTEXT_LEN, "%s %s://%.255s/%.*s%s", verb, scheme,
			 container, (int) klen, key, klen < full ? "..." : "");
}

/* Should this failure be retried? Never a cancel or an out-of-memory. */
bool
StoreRetryable(const TelemError *err, int curl_code, long status)
{
	if (err->kind == TELEM_ERR_CANCELED || err->kind == TELEM_ERR_OUT_OF_MEMORY)
		return false;
	return HttpIsTransient(curl_code, status);
}

/* Backoff before retry number 'attempt' (1-based): 100 ms, 200 ms, ... */
long
StoreBackoffMs(int attempt)
{
	long		ms = STORE_BACKOFF_BASE_MS;

	while (--attempt > 0 && ms < STORE_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < STORE_BACKOFF_MAX_MS ? ms : STORE_BACKOFF_MAX_MS;
}
