/*-------------------------------------------------------------------------
 *
 * sigv4.h
 *		AWS Signature Version 4, as the spec's named stages.
 *
 * Plain C with OpenSSL; no postgres.h.  Strings returned are malloc'd and
 * owned by the caller.  The unit test checks every stage against the AWS
 * test suite in ../shared/testdata/sigv4.
 *
 * IDENTIFICATION
 *		src/store/sigv4.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_SIGV4_H
#define TELEM_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

typedef struct SigV4Header
{
	const char *name;			/* any case; canonicalized to lower case */
	const char *value;			/* raw; trimmed and space-folded */
} SigV4Header;

typedef struct SigV4Request
{
	const char *method;			/* "GET" */
	const char *path;			/* as sent on the wire, already URI-encoded */
	const char *query;			/* raw query string without '?', or NULL */
	const SigV4Header *headers; /* every header to sign, incl. host and
								 * x-amz-date (and x-amz-security-token) */
	int			nheaders;
	const char *payload_hash;	/* lower-case hex SHA-256 of the body, or
								 * "UNSIGNED-PAYLOAD" */
	const char *region;
	const char *service;		/* "s3" */
	const char *amz_date;		/* "20150830T123600Z" */
	bool		normalize_path; /* false for S3: no dot-segment removal,
								 * no double encoding */
} SigV4Request;

/* Stage 1: the canonical request. */
extern char *SigV4CanonicalRequest(const SigV4Request *req);

/* Stage 2: the string to sign, given the canonical request. */
extern char *SigV4StringToSign(const SigV4Request *req,
							   const char *canonical_request);

/* Stage 3: the signing key; date8 is "YYYYMMDD". */
extern void SigV4SigningKey(const char *secret_access_key, const char *date8,
							const char *region, const char *service,
							unsigned char key[32]);

/* Stage 4: the hex signature of string_to_sign under key. */
extern void SigV4Signature(const unsigned char key[32],
						   const char *string_to_sign, char hex[65]);

/*
 * All stages: the value of the Authorization header.  Derived keys are
 * wiped before returning.
 */
extern char *SigV4Authorization(const SigV4Request *req,
								const char *access_key_id,
								const char *secret_access_key);

/* Lower-case hex SHA-256 of data. */
extern void SigV4Sha256Hex(const void *data, size_t len, char hex[65]);

/* "YYYYMMDDTHHMMSSZ" for t (UTC). */
extern void SigV4FormatDate(long long t, char out[17]);

/*
 * URI-encode src per SigV4 (unreserved chars kept, everything else %XX
 * upper-case); when keep_slash, '/' is kept (for object key paths).
 */
extern char *SigV4UriEncode(const char *src, bool keep_slash);

#endif							/* TELEM_SIGV4_H */
