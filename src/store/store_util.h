/*-------------------------------------------------------------------------
 *
 * store_util.h
 *		What the network stores (s3*.c, azure*.c, sigv4.c) share: error
 *		filling and retry policy, requests with retries, strings that may
 *		hold secrets, request header lists, encodings and HTTP dates.
 *
 * Private to src/store/; everything else goes through store.h.
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_util.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_STORE_UTIL_H
#define TELEM_STORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "store.h"

#define STORE_CONTEXT_LEN		640
#define STORE_CONTEXT_KEY_MAX	300
#define STORE_MAX_HEADERS		12

/*
 * A growable malloc'd string that may hold secrets or signed material:
 * it is never realloc'd (the old block is wiped before it is freed).  Once
 * an append fails, "failed" sticks and later appends are no-ops, so
 * callers check once at the end.  Zero-initialize before use.
 */
typedef struct StoreBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} StoreBuf;

/*
 * The request headers of one attempt, as name and value (for signing) and
 * as "Name: value" lines (for http.c).  They may hold secrets.
 * Zero-initialize before use.
 */
typedef struct StoreHeaders
{
	char	   *name[STORE_MAX_HEADERS];
	char	   *value[STORE_MAX_HEADERS];
	char	   *line[STORE_MAX_HEADERS];
	int			n;
} StoreHeaders;

/*
 * How each attempt of a StorePerform is authorized and a failed reply
 * read: what differs between the stores.
 */
typedef struct StoreRequester
{
	/* Fill the empty h with every header of one attempt, signed anew. */
	bool		(*authorize) (void *arg, StoreHeaders *h, TelemError *err);
	/* Fill err from a reply that is no answer; returns false. */
	bool		(*reply_error) (TelemError *err, const HttpResponse *resp,
								const char *context);
	void	   *arg;			/* passed to authorize */
} StoreRequester;

/* in store_common.c */
extern void StorePageDropKey(TelemObjectPage *page, const char *key);

/* in store_error.c */
extern bool StoreSetError(TelemError *err, TelemErrorKind kind,
						  long http_status, const char *code,
						  const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
extern bool StoreOutOfMemory(TelemError *err);
extern void StoreErrorContext(TelemError *err, const char *context);
extern void StoreErrorRetries(TelemError *err, int retries);
extern void StoreObjectContext(char buf[STORE_CONTEXT_LEN], const char *verb,
							   const char *scheme, const char *container,
							   const char *key);
extern bool StoreRetryable(const TelemError *err, int curl_code, long status);
extern long StoreBackoffMs(int attempt);

/* in store_request.c */
extern bool StorePerform(HttpClient *client, const HttpRequest *req,
						 size_t max_body, long accept, int max_retries,
						 const StoreRequester *rq, const char *context,
						 HttpResponse *resp, int *retries, TelemError *err);

/* in store_buf.c */
extern char *StorePrintf(const char *fmt,...)
			__attribute__((format(printf, 1, 2)));
extern void StoreFreeSecret(char *s);
extern void StoreUnquote(char *s);
extern void StoreBufAppend(StoreBuf *b, const char *s, size_t n);
extern void StoreBufPuts(StoreBuf *b, const char *s);
extern void StoreBufAppendEncoded(StoreBuf *b, const char *s, size_t n,
								  bool keep_slash);
extern char *StoreBufFinish(StoreBuf *b);
extern void StoreBufFree(StoreBuf *b);

/* in store_headers.c */
extern bool StoreHeadersAdd(StoreHeaders *h, const char *name,
							const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
extern void StoreHeadersFree(StoreHeaders *h);

/* in store_encode.c */
extern char *StoreUrlEncode(const char *src, bool keep_slash);
extern char *StoreUrlDecode(const char *src, size_t len, bool plus_space);
extern char *StoreBase64Encode(const void *data, size_t len);
extern unsigned char *StoreBase64Decode(const char *src, size_t *len);
extern bool StoreContentMd5(const void *data, size_t len, char out[25]);
extern void StoreHexEncode(const unsigned char *bin, size_t n, char *hex);

/* in store_time.c */
extern bool StoreReadDigits(const char **p, int n, int *result);
extern int64_t StoreDaysFromCivil(int y, int m, int d);
extern bool StoreIsLeapYear(int y);
extern void StoreFormatHttpDate(int64_t t, char out[30]);
extern bool StoreParseHttpDate(const char *s, int64_t *result);

#endif							/* TELEM_STORE_UTIL_H */
