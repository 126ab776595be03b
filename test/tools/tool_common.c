/*-------------------------------------------------------------------------
 *
 * tool_common.c
 *		What the store CLI tools share: error printing, memory, digests and
 *		the listing by level.
 *
 * IDENTIFICATION
 *		test/tools/tool_common.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "tool_common.h"

static const char *kind_names[] = {
	"TELEM_OK", "TELEM_ERR_CONFIG", "TELEM_ERR_AUTH", "TELEM_ERR_NOT_FOUND",
	"TELEM_ERR_NETWORK", "TELEM_ERR_PROTOCOL", "TELEM_ERR_DATA",
	"TELEM_ERR_IO", "TELEM_ERR_CANCELED", "TELEM_ERR_OUT_OF_MEMORY"
};

/*
 * Print err as "error kind=TELEM_ERR_X status=S code=C: message" on
 * stdout, where the harness reads it; returns the tools' failure status 2.
 */
int
ToolFail(const TelemError *err)
{
	const char *kind = (err->kind >= 0 &&
						(size_t) err->kind < sizeof(kind_names) / sizeof(kind_names[0])) ?
		kind_names[err->kind] : "?";

	printf("error kind=%s status=%ld code=%s: %s\n", kind, err->http_status,
		   err->code[0] != '\0' ? err->code : "-", err->message);
	return 2;
}

/* This process's peak resident set size in kB. */
long
ToolMaxRssKb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Finish md and write its digest as lower-case hex into hex. */
void
ToolDigestHex(EVP_MD_CTX *md, char hex[2 * EVP_MAX_MD_SIZE + 1])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	unsigned int i;

	EVP_DigestFinal_ex(md, digest, &dlen);
	for (i = 0; i < dlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	hex[2 * dlen] = '\0';
}

/*
 * Every page of store->ops->list_level(prefix): prints "P\tPREFIX" for each
 * common prefix and "O\tKEY\tSIZE" for each object, page by page in the
 * order the store gave them, then "objects=N prefixes=M pages=P".
 * Returns 0, or ToolFail's status.
 */
int
ToolListLevel(TelemStore *store, const char *prefix)
{
	char	   *token = NULL;
	long long	nobjects = 0;
	long long	nprefixes = 0;
	int			pages = 0;
	int			rc = 0;
	TelemError	err;

	if (store->ops->list_level == NULL)
	{
		printf("error: this store cannot list by level\n");
		return 2;
	}
	for (;;)
	{
		TelemObjectPage page;
		int			i;

		if (!store->ops->list_level(store, prefix, token, &page, &err))
		{
			rc = ToolFail(&err);
			break;
		}
		pages++;
		nobjects += page.nobjects;
		nprefixes += page.nprefixes;
		for (i = 0; i < page.nprefixes; i++)
			printf("P\t%s\n", page.prefixes[i]);
		for (i = 0; i < page.nobjects; i++)
			printf("O\t%s\t%lld\n", page.objects[i].key,
				   (long long) page.objects[i].size);
		free(token);
		token = page.next_token;
		page.next_token = NULL;
		TelemObjectPageFree(&page);
		if (token == NULL)
			break;
	}
	free(token);
	if (rc == 0)
		printf("objects=%lld prefixes=%lld pages=%d\n", nobjects, nprefixes,
			   pages);
	return rc;
}
