/*-------------------------------------------------------------------------
 *
 * fuzz_s3_listing.c
 *		libFuzzer target for the S3 XML parsers (listing, error body,
 *		multipart upload replies, dates).
 *
 * The input is handed to S3ParseListing, S3ParseErrorBody,
 * S3ParseInitiateMultipart and S3ParseCompleteMultipart as a reply body,
 * and to the date parsers as a string.  None may crash, leak or read out
 * of bounds; a listing that parses must be internally consistent (every
 * object has a key, sizes are not negative, every common prefix of a
 * delimited listing is non-empty), an upload id that parses is
 * not empty, and fixed-size outputs (error code and message, ETag) stay
 * terminated within their buffers.
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_s3_listing.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/s3_listing.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TelemObjectPage page;
	TelemError	err;
	char		code[64];
	char		message[256];
	char		etag[256];
	char	   *upload_id = NULL;
	char	   *text;
	int64_t		t;
	int			i;

	memset(&page, 0, sizeof(page));
	memset(&err, 0, sizeof(err));
	if (S3ParseListing((const char *) data, size, &page, &err))
	{
		for (i = 0; i < page.nobjects; i++)
		{
			if (page.objects[i].key == NULL || page.objects[i].size < 0)
				abort();
		}
		/* <CommonPrefixes> of a delimited listing */
		if (page.nprefixes < 0 || (page.nprefixes > 0) != (page.prefixes != NULL))
			abort();
		for (i = 0; i < page.nprefixes; i++)
			if (page.prefixes[i] == NULL || page.prefixes[i][0] == '\0')
				abort();
	}
	else if (err.message[0] == '\0' || page.prefixes != NULL ||
			 page.nprefixes != 0)
		abort();				/* a failure must say why and leave no page */
	TelemObjectPageFree(&page);

	S3ParseErrorBody((const char *) data, size, code, message);
	if (memchr(code, '\0', sizeof(code)) == NULL ||
		memchr(message, '\0', sizeof(message)) == NULL)
		abort();

	memset(&err, 0, sizeof(err));
	if (S3ParseInitiateMultipart((const char *) data, size, &upload_id, &err))
	{
		if (upload_id == NULL || upload_id[0] == '\0')
			abort();
	}
	else if (upload_id != NULL || err.message[0] == '\0')
		abort();
	free(upload_id);

	memset(&err, 0, sizeof(err));
	if (!S3ParseCompleteMultipart((const char *) data, size, etag, &err) &&
		err.message[0] == '\0')
		abort();
	if (memchr(etag, '\0', sizeof(etag)) == NULL ||
		memchr(err.code, '\0', sizeof(err.code)) == NULL)
		abort();

	/* the date parsers take a C string */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void) S3ParseTimestamp(text, &t);
	(void) S3ParseHttpDate(text, &t);
	free(text);
	return 0;
}
