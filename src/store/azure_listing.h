/*-------------------------------------------------------------------------
 *
 * azure_listing.h
 *		Parse Azure Blob XML replies: List Blobs pages and <Error> bodies.
 *
 * Depends on libxml2 only (no curl, no postgres.h), so the parser can be
 * unit-tested and fuzzed on its own.  It never touches the network, never
 * loads a DTD and never expands entities other than the five predefined
 * ones; a reply that carries a DOCTYPE is rejected.
 *
 * IDENTIFICATION
 *		src/store/azure_listing.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_AZURE_LISTING_H
#define TELEM_AZURE_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Parse one List Blobs reply (xml[0..len), need not be NUL-terminated)
 * into *page, which must not own anything yet.  On success page->objects
 * holds every <Blob> in document order (a name sent with Encoded="true" is
 * decoded; a hierarchical-namespace directory, ResourceType "directory",
 * is left out), page->prefixes every <BlobPrefix><Name> (a delimited
 * listing; decoded likewise) in document order, and page->next_token is a
 * non-empty <NextMarker>, else NULL.  On failure returns false with err filled in (TELEM_ERR_PROTOCOL
 * for a malformed reply, TELEM_ERR_OUT_OF_MEMORY) and *page left empty.
 */
extern bool AzureParseListing(const char *xml, size_t len,
							  TelemObjectPage *page, TelemError *err);

/*
 * Extract <Error><Code> and <Message> from an Azure error body into code
 * and message (NUL-terminated, control characters turned into spaces,
 * truncated on a UTF-8 character boundary).  Both are "" when the body is
 * empty, not XML or lacks the element; never fails.  Other children, such
 * as <AuthenticationErrorDetail> (which can quote the request's signature),
 * are never copied.
 */
extern void AzureParseErrorBody(const char *xml, size_t len, char code[64],
								char message[256]);

/*
 * Parse an RFC 1123 date as Azure sends it ("Mon, 27 Jan 2014 22:12:37
 * GMT") into seconds since the epoch.  The weekday is not checked against
 * the date.  Returns false if s is not such a date.
 */
extern bool AzureParseHttpDate(const char *s, int64_t *result);

#endif							/* TELEM_AZURE_LISTING_H */
