/*-------------------------------------------------------------------------
 *
 * s3_internal.h
 *		What the S3 store's reading side (s3.c) and writing side
 *		(s3_write.c) share: the store struct, errors, signing, backoff.
 *
 * Private to src/store/s3*.c; everything else goes through store.h.
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/s3_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_S3_INTERNAL_H
#define TELEM_S3_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "sigv4.h"
#include "store.h"

#define S3_MAX_HEADERS		12
#define S3_MAX_EXTRA_SIGNED	4	/* signed headers beyond the SigV4 ones */
#define S3_CONTEXT_LEN		640
#define S3_CONTEXT_KEY_MAX	300

typedef struct S3Store
{
	TelemStore	base;
	char	   *bucket;
	char	   *region;
	char	   *access_key_id;	/* NULL: anonymous requests */
	char	   *secret_access_key;
	char	   *session_token;	/* NULL when none */
	const char *scheme;			/* "http" or "https" */
	char	   *host;			/* Host header, incl. bucket for vhost style */
	char	   *bucket_path;	/* "/bucket" in path style, "" otherwise */
	char	   *ca_file;
	HttpConfig	http;
	int			page_size;
	int			max_retries;
	size_t		buffer_size;
	char		empty_sha256[65];	/* x-amz-content-sha256 of a GET */
	HttpClient *client;			/* for listings and writes; keeps its
								 * connection */
} S3Store;

/* The request headers of one attempt; they may hold secrets. */
typedef struct S3Headers
{
	char	   *line[S3_MAX_HEADERS];
	int			n;
} S3Headers;

/* in s3.c */
extern bool S3SetError(TelemError *err, TelemErrorKind kind, long http_status,
					   const char *code, const char *fmt,...)
			__attribute__((format(printf, 5, 6)));
extern void S3ErrorContext(TelemError *err, const char *context);
extern void S3ErrorRetries(TelemError *err, int retries);
extern void S3Context(char buf[S3_CONTEXT_LEN], const char *verb,
					  const char *bucket, const char *key);
extern char *S3Printf(const char *fmt,...)
			__attribute__((format(printf, 1, 2)));
extern void S3FreeSecret(char *s);
extern long S3BackoffMs(int attempt);
extern bool S3HeadersAdd(S3Headers *h, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void S3HeadersFree(S3Headers *h);
extern bool S3Sign(S3Store *s, const char *method, const char *path,
				   const char *query, const char *payload_hash,
				   const SigV4Header *extra, int nextra, S3Headers *h,
				   TelemError *err);
extern bool S3HttpError(TelemError *err, long status, const char *body,
						size_t len, const char *context);
extern bool S3Retryable(const TelemError *err, int curl_code, long status);

/* in s3_write.c */
extern bool S3Head(TelemStore *store, const char *key, TelemObjectInfo *info,
				   bool *found, TelemError *err);
extern TelemWriter *S3Create(TelemStore *store, const char *key,
							 const TelemWriteOptions *opts, TelemError *err);
extern bool S3Write(TelemWriter *writer, const void *buf, size_t len,
					TelemError *err);
extern bool S3Commit(TelemWriter *writer, TelemObjectInfo *info,
					 TelemError *err);
extern void S3Discard(TelemWriter *writer);
extern bool S3Remove(TelemStore *store, const char *key, TelemError *err);

#endif							/* TELEM_S3_INTERNAL_H */
