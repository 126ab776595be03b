/*-------------------------------------------------------------------------
 *
 * store_common.c
 *		Helpers shared by every store: error filling, listing pages.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_common.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_util.h"

bool		(*telem_interrupt_hook) (void) = NULL;

bool
TelemSetError(TelemError *err, TelemErrorKind kind, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return false;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}

void
TelemObjectPageFree(TelemObjectPage *page)
{
	int			i;

	if (page == NULL)
		return;
	for (i = 0; i < page->nobjects; i++)
	{
		free(page->objects[i].key);
		free(page->objects[i].etag);
	}
	free(page->objects);
	for (i = 0; i < page->nprefixes; i++)
		free(page->prefixes[i]);
	free(page->prefixes);
	free(page->next_token);
	memset(page, 0, sizeof(*page));
}

/*
 * Remove the object whose key equals key from page, if any: a delimited
 * listing drops the zero-byte "folder" marker named like its prefix.
 */
void
StorePageDropKey(TelemObjectPage *page, const char *key)
{
	int			keep = 0;
	int			i;

	if (key == NULL || key[0] == '\0')
		return;
	for (i = 0; i < page->nobjects; i++)
	{
		TelemObject *o = &page->objects[i];

		if (strcmp(o->key, key) == 0)
		{
			free(o->key);
			free(o->etag);
			continue;
		}
		page->objects[keep++] = *o;
	}
	page->nobjects = keep;
}
