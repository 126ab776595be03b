/*-------------------------------------------------------------------------
 *
 * azure_sign.c
 *		Azure Storage Shared Key signing.
 *
 * The string to sign covers the verb, eleven standard headers, the x-ms-*
 * headers and the resource (account, URL path as sent, query parameters
 * decoded).  The resource uses the path exactly as it goes on the wire, so
 * against an emulator whose endpoint carries the account in its path
 * (http://127.0.0.1:10000/devstoreaccount1) the account appears twice:
 * "/devstoreaccount1/devstoreaccount1/container/blob".  That is what the
 * service computes too.
 *
 * Plain C with OpenSSL; no postgres.h (see store.h).  Buffers that held
 * a signature, a MAC or signed material are wiped before they are freed;
 * the caller owns (and wipes) the decoded key.
 *
 * IDENTIFICATION
 *		src/store/azure_sign.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "azure_sign.h"
#include "store_util.h"

/* src[0..len) without leading and trailing blanks; sets *start, *n. */
static void
trim(const char *src, size_t len, const char **start, size_t *n)
{
	while (len > 0 && (*src == ' ' || *src == '\t'))
		src++, len--;
	while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\t' ||
					   src[len - 1] == '\r' || src[len - 1] == '\n'))
		len--;
	*start = src;
	*n = len;
}

/* One x-ms-* header or query parameter while canonicalizing. */
typedef struct AzPair
{
	char	   *name;			/* lower case, malloc'd */
	char	   *value;			/* malloc'd */
	int			order;			/* position as given, for a stable sort */
} AzPair;

static int
pair_cmp_by_name(const void *a, const void *b)
{
	const AzPair *pa = (const AzPair *) a;
	const AzPair *pb = (const AzPair *) b;
	int			c = strcmp(pa->name, pb->name);

	return c != 0 ? c : (pa->order > pb->order) - (pa->order < pb->order);
}

/* Query values of one name go in value order (the spec sorts them). */
static int
pair_cmp_by_name_value(const void *a, const void *b)
{
	const AzPair *pa = (const AzPair *) a;
	const AzPair *pb = (const AzPair *) b;
	int			c = strcmp(pa->name, pb->name);

	return c != 0 ? c : strcmp(pa->value, pb->value);
}

static void
pairs_free(AzPair *pairs, int n)
{
	int			i;

	if (pairs == NULL)
		return;
	for (i = 0; i < n; i++)
	{
		free(pairs[i].name);
		StoreFreeSecret(pairs[i].value);
	}
	free(pairs);
}

/*
 * Append "name:v1,v2\n"-style groups of sorted pairs to b: lead goes before
 * each group, tail after it.
 */
static void
append_groups(StoreBuf *b, const AzPair *pairs, int n, const char *lead,
			  const char *tail)
{
	int			i = 0;

	while (i < n)
	{
		int			j;

		StoreBufPuts(b, lead);
		StoreBufPuts(b, pairs[i].name);
		StoreBufPuts(b, ":");
		for (j = i; j < n && strcmp(pairs[j].name, pairs[i].name) == 0; j++)
		{
			if (j > i)
				StoreBufPuts(b, ",");
			StoreBufPuts(b, pairs[j].value);
		}
		StoreBufPuts(b, tail);
		i = j;
	}
}

static char *
lower_dup(const char *s, size_t n)
{
	char	   *out = malloc(n + 1);
	size_t		i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + 32) : s[i];
	out[n] = '\0';
	return out;
}

char *
AzureCanonicalizedHeaders(const AzureHeader *headers, int nheaders)
{
	AzPair	   *pairs = NULL;
	int			n = 0;
	int			i;
	StoreBuf	b = {NULL, 0, 0, false};

	if (nheaders > 0)
	{
		pairs = calloc(nheaders, sizeof(AzPair));
		if (pairs == NULL)
			return NULL;
	}
	for (i = 0; i < nheaders; i++)
	{
		const char *name;
		const char *value;
		size_t		nlen;
		size_t		vlen;

		trim(headers[i].name, strlen(headers[i].name), &name, &nlen);
		if (nlen < 5 || strncasecmp(name, "x-ms-", 5) != 0)
			continue;
		trim(headers[i].value != NULL ? headers[i].value : "",
			 headers[i].value != NULL ? strlen(headers[i].value) : 0,
			 &value, &vlen);
		pairs[n].name = lower_dup(name, nlen);
		pairs[n].value = strndup(value, vlen);
		pairs[n].order = i;
		n++;
		if (pairs[n - 1].name == NULL || pairs[n - 1].value == NULL)
		{
			pairs_free(pairs, n);
			return NULL;
		}
	}
	if (n > 0)
		qsort(pairs, n, sizeof(AzPair), pair_cmp_by_name);
	append_groups(&b, pairs, n, "", "\n");
	pairs_free(pairs, n);
	return StoreBufFinish(&b);
}

/* Percent-decoding; see StoreUrlDecode. */
char *
AzureUrlDecode(const char *src, size_t len, bool plus_space)
{
	return StoreUrlDecode(src, len, plus_space);
}

char *
AzureCanonicalizedResource(const char *account, const char *path,
						   const char *query)
{
	StoreBuf	b = {NULL, 0, 0, false};
	AzPair	   *pairs = NULL;
	int			n = 0;
	int			max = 0;
	const char *p;

	StoreBufPuts(&b, "/");
	StoreBufPuts(&b, account);
	StoreBufPuts(&b, path != NULL && path[0] != '\0' ? path : "/");
	if (query == NULL || query[0] == '\0')
		return StoreBufFinish(&b);

	/* at most one parameter per '&', plus one */
	max = 1;
	for (p = query; *p != '\0'; p++)
		if (*p == '&')
			max++;
	pairs = calloc(max, sizeof(AzPair));
	if (pairs == NULL)
	{
		b.failed = true;
		return StoreBufFinish(&b);
	}

	p = query;
	while (*p != '\0')
	{
		size_t		len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t		nlen = eq != NULL ? (size_t) (eq - p) : len;
		char	   *name;

		if (len == 0)
		{
			p++;
			continue;
		}
		name = AzureUrlDecode(p, nlen, true);
		pairs[n].value = eq != NULL ?
			AzureUrlDecode(eq + 1, len - nlen - 1, true) : strdup("");
		pairs[n].name = name != NULL ? lower_dup(name, strlen(name)) : NULL;
		pairs[n].order = n;
		free(name);
		n++;
		if (pairs[n - 1].name == NULL || pairs[n - 1].value == NULL)
		{
			pairs_free(pairs, n);
			b.failed = true;
			return StoreBufFinish(&b);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (n > 0)
		qsort(pairs, n, sizeof(AzPair), pair_cmp_by_name_value);
	append_groups(&b, pairs, n, "\n", "");
	pairs_free(pairs, n);
	return StoreBufFinish(&b);
}

/* Append the value of header name in req (first match, trimmed) and "\n". */
static void
append_standard_header(StoreBuf *b, const AzureSignRequest *req,
					   const char *name)
{
	int			i;

	for (i = 0; i < req->nheaders; i++)
	{
		const char *hname;
		const char *value;
		size_t		nlen;
		size_t		vlen;

		trim(req->headers[i].name, strlen(req->headers[i].name), &hname, &nlen);
		if (nlen != strlen(name) || strncasecmp(hname, name, nlen) != 0)
			continue;
		if (req->headers[i].value == NULL)
			break;
		trim(req->headers[i].value, strlen(req->headers[i].value),
			 &value, &vlen);
		StoreBufAppend(b, value, vlen);
		break;
	}
	StoreBufPuts(b, "\n");
}

char *
AzureStringToSign(const char *account, const AzureSignRequest *req)
{
	static const char *const before_length[] = {
		"Content-Encoding", "Content-Language"
	};
	static const char *const after_length[] = {
		"Content-MD5", "Content-Type", "Date", "If-Modified-Since",
		"If-Match", "If-None-Match", "If-Unmodified-Since", "Range"
	};
	StoreBuf	b = {NULL, 0, 0, false};
	char	   *headers;
	char	   *resource;
	size_t		i;

	StoreBufPuts(&b, req->method);
	StoreBufPuts(&b, "\n");
	for (i = 0; i < sizeof(before_length) / sizeof(before_length[0]); i++)
		append_standard_header(&b, req, before_length[i]);
	/* since version 2015-02-21 a zero length is signed as "" */
	if (req->content_length > 0)
	{
		char		num[32];

		snprintf(num, sizeof(num), "%llu",
				 (unsigned long long) req->content_length);
		StoreBufPuts(&b, num);
	}
	StoreBufPuts(&b, "\n");
	for (i = 0; i < sizeof(after_length) / sizeof(after_length[0]); i++)
		append_standard_header(&b, req, after_length[i]);

	headers = AzureCanonicalizedHeaders(req->headers, req->nheaders);
	resource = AzureCanonicalizedResource(account, req->path, req->query);
	if (headers == NULL || resource == NULL)
		b.failed = true;
	else
	{
		StoreBufPuts(&b, headers);
		StoreBufPuts(&b, resource);
	}
	StoreFreeSecret(headers);
	StoreFreeSecret(resource);
	return StoreBufFinish(&b);
}

char *
AzureSignature(const unsigned char *key, size_t keylen,
			   const char *string_to_sign)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char	   *out;

	if (HMAC(EVP_sha256(), key, (int) keylen,
			 (const unsigned char *) string_to_sign, strlen(string_to_sign),
			 mac, &maclen) == NULL || maclen != 32)
		return NULL;
	out = AzureBase64Encode(mac, maclen);
	OPENSSL_cleanse(mac, sizeof(mac));
	return out;
}

char *
AzureSharedKeyAuthorization(const char *account, const unsigned char *key,
							size_t keylen, const AzureSignRequest *req)
{
	char	   *sts = AzureStringToSign(account, req);
	char	   *sig;
	char	   *out;
	size_t		n;

	if (sts == NULL)
		return NULL;
	sig = AzureSignature(key, keylen, sts);
	StoreFreeSecret(sts);
	if (sig == NULL)
		return NULL;
	n = strlen("SharedKey ") + strlen(account) + 1 + strlen(sig) + 1;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "SharedKey %s:%s", account, sig);
	StoreFreeSecret(sig);
	return out;
}

/*
 * The encodings Azure requests need live in store_encode.c and
 * store_time.c, shared with the other stores; these keep the names
 * azure_sign.h has always offered.
 */
char *
AzureBase64Encode(const void *data, size_t len)
{
	return StoreBase64Encode(data, len);
}

unsigned char *
AzureBase64Decode(const char *src, size_t *len)
{
	return StoreBase64Decode(src, len);
}

void
AzureContentMd5(const void *data, size_t len, char out[25])
{
	(void) StoreContentMd5(data, len, out);
}

char *
AzureUrlEncode(const char *src, bool keep_slash)
{
	return StoreUrlEncode(src, keep_slash);
}

void
AzureFormatDate(int64_t t, char out[30])
{
	StoreFormatHttpDate(t, out);
}

char *
AzureQueryWithSas(const char *query, const char *sas)
{
	StoreBuf	b = {NULL, 0, 0, false};

	if (sas != NULL && sas[0] == '?')
		sas++;
	if (query != NULL)
		StoreBufPuts(&b, query);
	if (sas != NULL && sas[0] != '\0')
	{
		if (query != NULL && query[0] != '\0')
			StoreBufPuts(&b, "&");
		StoreBufPuts(&b, sas);
	}
	return StoreBufFinish(&b);
}

bool
AzureSasIsValid(const char *sas)
{
	const char *p;

	if (sas == NULL)
		return false;
	if (sas[0] == '?')
		sas++;
	if (sas[0] == '\0')
		return false;
	for (p = sas; *p != '\0'; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c <= 0x20 || c >= 0x7F || c == '#' || c == '"' || c == '<' ||
			c == '>' || c == '\\')
			return false;
	}
	return true;
}
