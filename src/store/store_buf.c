/*-------------------------------------------------------------------------
 *
 * store_buf.c
 *		Strings for the network stores: malloc'd printf, growable buffers
 *		that may hold secrets, and wiping them when done.
 *
 * Plain C with OpenSSL (for OPENSSL_cleanse); no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_buf.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store_util.h"

#define STORE_BUF_FIRST		128

static const char hexdigits_upper[] = "0123456789ABCDEF";

/* malloc'd printf; NULL when out of memory. */
char *
StorePrintf(const char *fmt,...)
{
	va_list		ap;
	int			n;
	char	   *out;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	out = malloc((size_t) n + 1);
	if (out == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(out, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return out;
}

/* Wipe and free a string that may hold a secret; NULL is fine. */
void
StoreFreeSecret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Strip one pair of surrounding double quotes (an ETag's) in place. */
void
StoreUnquote(char *s)
{
	size_t		n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
	{
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

/* Append s[0..n) to b. */
void
StoreBufAppend(StoreBuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap > 0 ? b->cap : STORE_BUF_FIRST;
		char	   *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		/* no realloc: the old block may hold a secret and must be wiped */
		p = malloc(cap);
		if (p == NULL)
		{
			b->failed = true;
			return;
		}
		if (b->data != NULL)
		{
			memcpy(p, b->data, b->len);
			OPENSSL_cleanse(b->data, b->cap);
			free(b->data);
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
StoreBufPuts(StoreBuf *b, const char *s)
{
	StoreBufAppend(b, s, strlen(s));
}

/*
 * Append s[0..n) percent-encoded: RFC 3986 unreserved characters (A-Z a-z 0-9
 * - _ . ~) stay, and '/' when keep_slash; every other byte, including '%'
 * and each byte of a multi-byte UTF-8 sequence, becomes %XX in upper-case
 * hex.  Not locale-dependent.
 */
void
StoreBufAppendEncoded(StoreBuf *b, const char *s, size_t n, bool keep_slash)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
			c == '~' || (keep_slash && c == '/'))
			StoreBufAppend(b, s + i, 1);
		else
		{
			char		esc[3] = {'%', hexdigits_upper[c >> 4],
			hexdigits_upper[c & 0x0F]};

			StoreBufAppend(b, esc, 3);
		}
	}
}

/*
 * The finished string, "" if nothing was appended; or NULL (everything
 * wiped and freed) if an append failed.  b is left empty either way.
 */
char *
StoreBufFinish(StoreBuf *b)
{
	char	   *out = b->data;

	if (b->failed)
	{
		StoreBufFree(b);
		return NULL;
	}
	memset(b, 0, sizeof(*b));
	return out != NULL ? out : strdup("");
}

/* Wipe and free b's contents. */
void
StoreBufFree(StoreBuf *b)
{
	if (b->data != NULL)
	{
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}
