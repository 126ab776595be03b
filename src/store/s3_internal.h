/*-------------------------------------------------------------------------
 *
 * s3_internal.h
 *		What the S3 store's reading side (s3.c) and writing side
 *		(s3_write.c) share: the store struct, signing, error replies.
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
#include "ranged_reader.h"
#include "sigv4.h"
#include "store.h"
#include "store_util.h"

#define S3_MAX_EXTRA_SIGNED	4	/* signed headers beyond the SigV4 ones */
#define S3_TAG_HEADER		"x-amz-meta-telem_source"

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
	RangedSource reader;		/* how readers reach the bucket */
} S3Store;

/* One complete request, as S3Request sends it. */
typedef struct S3Call
{
	const char *method;
	const char *path;			/* encoded, as sent and signed */
	const char *query;			/* as sent and signed, or NULL */
	const void *body;
	size_t		body_len;
	bool		content_md5;	/* send and sign Content-MD5 of the body */
	const char *source_tag;		/* send and sign it as metadata, or NULL */
	long		accept;			/* a non-2xx status that is an answer too */
	int			max_retries;
	size_t		max_body;		/* reply body limit; 0: S3_REPLY_MAX */
} S3Call;

/* in s3.c */
extern bool S3Sign(S3Store *s, const char *method, const char *path,
				   const char *query, const char *payload_hash,
				   const SigV4Header *extra, int nextra, StoreHeaders *h,
				   TelemError *err);
extern bool S3Request(S3Store *s, const S3Call *call, const char *context,
					  HttpResponse *resp, int *retries, TelemError *err);
extern bool S3HttpError(TelemError *err, long status, const char *body,
						size_t len, const char *context);

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
