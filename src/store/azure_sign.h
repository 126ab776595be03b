/*-------------------------------------------------------------------------
 *
 * azure_sign.h
 *		Azure Storage Shared Key signing, and the encodings it needs.
 *
 * The Shared Key scheme in named stages: canonicalized headers,
 * canonicalized resource, string to sign, signature.  Each is a pure
 * function so the unit test can check it against published vectors.
 * Also here: strict base64, Content-MD5, URL encoding of blob names, the
 * RFC 1123 date Azure wants in x-ms-date, and SAS query assembly.
 *
 * Plain C with OpenSSL; no postgres.h.  Strings returned are malloc'd and
 * owned by the caller; NULL means out of memory unless said otherwise.
 *
 * IDENTIFICATION
 *		src/store/azure_sign.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_AZURE_SIGN_H
#define TELEM_AZURE_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One request header, as sent. */
typedef struct AzureHeader
{
	const char *name;			/* any case */
	const char *value;
} AzureHeader;

/* A request to sign, described exactly as it goes on the wire. */
typedef struct AzureSignRequest
{
	const char *method;			/* "GET", "PUT", "HEAD", "DELETE" */
	const char *path;			/* URL path as sent (already encoded),
								 * e.g. "/devstoreaccount1/c/a%20b" */
	const char *query;			/* query string as sent, without '?' and
								 * without any SAS; NULL or "" for none */
	const AzureHeader *headers; /* every header sent but Content-Length */
	int			nheaders;
	uint64_t	content_length; /* body bytes; 0 signs as "" */
} AzureSignRequest;

/*
 * Stage 1: the x-ms-* headers, names lower-cased, sorted by name, values
 * trimmed, one "name:value\n" each.  A name given twice has its values
 * joined with ',' in the order given.  Inner whitespace is left alone, as
 * the service does (folding it would break a metadata value holding two
 * spaces).
 */
extern char *AzureCanonicalizedHeaders(const AzureHeader *headers,
									   int nheaders);

/*
 * Stage 2: "/" ACCOUNT PATH, then "\nname:value" for every query
 * parameter, names lower-cased and sorted, values URL-decoded ('+' is a
 * space), the values of a repeated name sorted and joined with ','.
 */
extern char *AzureCanonicalizedResource(const char *account, const char *path,
										const char *query);

/*
 * Stage 3: VERB, the eleven standard headers (Content-Encoding ...
 * Range, looked up case-insensitively in req->headers; Content-Length
 * from req->content_length), then stages 1 and 2.
 */
extern char *AzureStringToSign(const char *account,
							   const AzureSignRequest *req);

/* Stage 4: base64 HMAC-SHA256 of string_to_sign under the decoded key. */
extern char *AzureSignature(const unsigned char *key, size_t keylen,
							const char *string_to_sign);

/*
 * All stages: the Authorization header value "SharedKey ACCOUNT:SIG".
 * The string to sign is wiped before it is freed.
 */
extern char *AzureSharedKeyAuthorization(const char *account,
										 const unsigned char *key,
										 size_t keylen,
										 const AzureSignRequest *req);

/* Standard base64 (with padding) of data[0..len). */
extern char *AzureBase64Encode(const void *data, size_t len);

/*
 * Decode standard base64 with padding, refusing anything else (whitespace,
 * URL-safe characters, bad length).  Returns a malloc'd buffer (*len gets
 * its length) or NULL when src is not valid base64 or memory ran out.
 */
extern unsigned char *AzureBase64Decode(const char *src, size_t *len);

/* Content-MD5: base64 of the MD5 of data; out[0] is '\0' on failure. */
extern void AzureContentMd5(const void *data, size_t len, char out[25]);

/*
 * Percent-encode src for a URL path (keep_slash) or a query value:
 * unreserved characters A-Z a-z 0-9 - . _ ~ stay, everything else becomes
 * %XX (upper-case hex).
 */
extern char *AzureUrlEncode(const char *src, bool keep_slash);

/*
 * Decode %XX escapes of src[0..len) (and '+' as a space when plus_space);
 * a '%' not followed by two hex digits is kept as it is.
 */
extern char *AzureUrlDecode(const char *src, size_t len, bool plus_space);

/* t as RFC 1123 in GMT: "Sun, 06 Nov 1994 08:49:37 GMT"; "" if invalid. */
extern void AzureFormatDate(int64_t t, char out[30]);

/*
 * query, then a SAS token appended to it (its leading '?' dropped, joined
 * with '&').  Either may be NULL or "".  The result may hold a secret.
 */
extern char *AzureQueryWithSas(const char *query, const char *sas);

/*
 * Is sas usable as a SAS query string (after an optional leading '?')?
 * Non-empty, printable ASCII without spaces, '#', '"', '<', '>' or '\\'.
 */
extern bool AzureSasIsValid(const char *sas);

#endif							/* TELEM_AZURE_SIGN_H */
