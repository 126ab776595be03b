/*-------------------------------------------------------------------------
 *
 * ranged_reader.h
 *		A resumable streaming GET of one object, shared by the S3 and
 *		Azure stores.
 *
 * Private to src/store/; everything else goes through store.h.
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/ranged_reader.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_RANGED_READER_H
#define TELEM_RANGED_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http.h"
#include "store.h"
#include "store_util.h"

/*
 * What differs between the stores' readers.  The store owns it and keeps
 * it alive while any of its readers is open.
 */
typedef struct RangedSource
{
	const char *scheme;			/* "s3", "az": for messages */
	const char *container;		/* bucket or container, for messages */
	const HttpConfig *http;
	size_t		buffer_size;
	int			max_retries;
	const char *precondition_code;	/* err->code of a 412 reply */

	/*
	 * Complete h (which already holds Range and If-Match) for a GET of
	 * path: Host, date, authorization, whatever the store signs.  Set *url
	 * to the malloc'd URL to send, which may hold a secret.  False with
	 * err set; a TELEM_ERR_NETWORK error (a token service out of reach) is
	 * retried.
	 */
	bool		(*authorize) (void *arg, const char *path, StoreHeaders *h,
							  char **url, TelemError *err);

	/* Fill err from a non-2xx reply with body[0..len); returns false. */
	bool		(*http_error) (TelemError *err, long status, const char *body,
							   size_t len, const char *context);
	void	   *arg;			/* passed to the callbacks */
} RangedSource;

/* in ranged_reader.c */
extern TelemReader *RangedReaderOpen(TelemStore *store,
									 const RangedSource *src,
									 const TelemObject *obj, int64_t offset,
									 int64_t end, const char *path,
									 TelemError *err);
extern ssize_t RangedReaderRead(TelemReader *reader, void *buf, size_t len,
								TelemError *err);
extern void RangedReaderClose(TelemReader *reader);
extern void RangedReaderStats(const TelemReader *reader,
							  TelemReaderStats *stats);

#endif							/* TELEM_RANGED_READER_H */
