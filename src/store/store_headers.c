/*-------------------------------------------------------------------------
 *
 * store_headers.c
 *		Request header lists for the network stores.
 *
 * Each header is kept as name and value (what a signer reads) and as the
 * "Name: value" line that http.c sends.  Values may be secrets (an
 * Authorization header), so everything is wiped when freed.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_headers.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_util.h"

/*
 * Append header name with a printf-formatted value to h.  False when h is
 * full or memory ran out; h stays consistent either way.
 */
bool
StoreHeadersAdd(StoreHeaders *h, const char *name, const char *fmt,...)
{
	va_list		ap;
	int			n;
	char	   *value;
	int			i = h->n;

	if (i >= STORE_MAX_HEADERS)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (value = malloc((size_t) n + 1)) == NULL)
		return false;
	va_start(ap, fmt);
	vsnprintf(value, (size_t) n + 1, fmt, ap);
	va_end(ap);
	h->name[i] = strdup(name);
	h->value[i] = value;
	h->line[i] = StorePrintf("%s: %s", name, value);
	h->n++;
	return h->name[i] != NULL && h->line[i] != NULL;
}

/* Wipe and free h's headers. */
void
StoreHeadersFree(StoreHeaders *h)
{
	int			i;

	for (i = 0; i < h->n; i++)
	{
		free(h->name[i]);
		StoreFreeSecret(h->value[i]);
		StoreFreeSecret(h->line[i]);
	}
	h->n = 0;
}
