/*-------------------------------------------------------------------------
 *
 * s3_listing.h
 *		S3 XML: parse ListObjectsV2 pages, multipart upload replies and
 *		<Error> bodies; build CompleteMultipartUpload requests.
 *
 * Depends on libxml2 only (no curl, no postgres.h), so the parser can be
 * unit-tested and fuzzed on its own.  The parser never touches the network,
 * never loads a DTD and never expands entities other than the five
 * predefined ones; a reply that carries a DOCTYPE is rejected.
 *
 * IDENTIFICATION
 *		src/store/s3_listing.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_S3_LISTING_H
#define TELEM_S3_LISTING_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"

/*
 * Parse one ListObjectsV2 reply (xml[0..len), need not be NUL-terminated)
 * into *page, which the caller provides; it is overwritten, not freed, so
 * it must not own anything yet.  On success page->objects holds every
 * <Contents> entry in document order, page->prefixes every
 * <CommonPrefixes><Prefix> (a delimited listing) in document order, and
 * page->next_token is the NextContinuationToken when IsTruncated is true,
 * else NULL.  On failure
 * returns false with err filled in (TELEM_ERR_PROTOCOL for a malformed
 * reply, TELEM_ERR_OUT_OF_MEMORY) and *page left empty.
 */
extern bool S3ParseListing(const char *xml, size_t len, TelemObjectPage *page,
						   TelemError *err);

/*
 * Extract <Error><Code> and <Message> from an S3 error body into code and
 * message (NUL-terminated, truncated on a UTF-8 character boundary).  Both
 * are "" when the body is empty, not XML or lacks the element; never fails.
 */
extern void S3ParseErrorBody(const char *xml, size_t len, char code[64],
							 char message[256]);

/*
 * Parse an ISO-8601 UTC timestamp as S3 writes it ("2009-10-12T17:50:30.000Z",
 * fraction and zone optional, "+HH:MM" offsets accepted) into seconds since
 * the epoch.  Returns false if s is not such a timestamp.
 */
extern bool S3ParseTimestamp(const char *s, int64_t *result);

/*
 * Parse an HTTP date in IMF-fixdate form ("Wed, 12 Oct 2009 17:50:30 GMT"),
 * as S3 sends Last-Modified, into seconds since the epoch.  Month and day
 * names are English whatever the locale.  Returns false if s is not one.
 */
extern bool S3ParseHttpDate(const char *s, int64_t *result);

/*
 * Parse an InitiateMultipartUpload reply: *upload_id gets its <UploadId>,
 * malloc'd.  Returns false with err filled in (TELEM_ERR_PROTOCOL when
 * malformed or the id is missing or empty) and *upload_id NULL otherwise.
 */
extern bool S3ParseInitiateMultipart(const char *xml, size_t len,
									 char **upload_id, TelemError *err);

/*
 * Parse a CompleteMultipartUpload reply: etag gets its <ETag> without
 * quotes ("" if absent).  S3 may answer 200 and still fail, with an
 * <Error> body sent once the work is done: then this returns false with
 * err->code holding the error's <Code> (e.g. "InternalError", worth
 * retrying) and kind TELEM_ERR_PROTOCOL.
 */
extern bool S3ParseCompleteMultipart(const char *xml, size_t len,
									 char etag[256], TelemError *err);

/*
 * Build a CompleteMultipartUpload request body listing parts 1..nparts
 * with etags[i] the ETag of part i+1, exactly as the part's reply gave it
 * (quotes included); XML special characters are escaped.  Returns a
 * malloc'd NUL-terminated string with its length in *len, NULL when out of
 * memory.
 */
extern char *S3BuildCompleteMultipart(const char *const *etags, int nparts,
									  size_t *len);

#endif							/* TELEM_S3_LISTING_H */
