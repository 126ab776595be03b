/*-------------------------------------------------------------------------
 *
 * fuzz_azure_listing.c
 *		libFuzzer target for the Azure XML parsers (List Blobs, error body,
 *		RFC 1123 dates).
 *
 * The input is handed to AzureParseListing and AzureParseErrorBody as a
 * reply body, and to AzureParseHttpDate as a string.  None may crash, leak
 * or read out of bounds; a listing that parses must be internally
 * consistent (every object has a non-empty key, sizes are not negative,
 * every <BlobPrefix> of a delimited listing is a non-empty name, a next
 * token is never empty), a failure must say why and leave no page, and an error body's
 * code and message stay terminated within their buffers.
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_azure_listing.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/azure_listing.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TelemObjectPage page;
	TelemError	err;
	char		code[64];
	char		message[256];
	char	   *text;
	int64_t		t;
	int			i;

	memset(&page, 0, sizeof(page));
	memset(&err, 0, sizeof(err));
	if (AzureParseListing((const char *) data, size, &page, &err))
	{
		for (i = 0; i < page.nobjects; i++)
		{
			if (page.objects[i].key == NULL || page.objects[i].key[0] == '\0' ||
				page.objects[i].size < 0)
				abort();
		}
		if (page.next_token != NULL && page.next_token[0] == '\0')
			abort();
		/* <BlobPrefix> names of a delimited listing */
		if (page.nprefixes < 0 || (page.nprefixes > 0) != (page.prefixes != NULL))
			abort();
		for (i = 0; i < page.nprefixes; i++)
			if (page.prefixes[i] == NULL || page.prefixes[i][0] == '\0')
				abort();
	}
	else if (err.message[0] == '\0' || page.objects != NULL ||
			 page.prefixes != NULL || page.nprefixes != 0 ||
			 page.next_token != NULL)
		abort();				/* a failure must say why and leave no page */
	TelemObjectPageFree(&page);

	AzureParseErrorBody((const char *) data, size, code, message);
	if (memchr(code, '\0', sizeof(code)) == NULL ||
		memchr(message, '\0', sizeof(message)) == NULL)
		abort();

	/* the date parser takes a C string */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void) AzureParseHttpDate(text, &t);
	free(text);
	return 0;
}
