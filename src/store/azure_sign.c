/*-------------------------------------------------------------------------
 *
 * azure_sign.c
 *		Azure Storage Shared Key signing, and the encodings it needs.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "azure_sign.h"

static const char hexdigits_upper[] = "0123456789ABCDEF";

/*
 * A growable malloc'd string.  Once an append fails, "failed" sticks and
 * later appends are no-ops, so callers check once at the end.
 */
typedef struct AzBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} AzBuf;

static void
buf_append(AzBuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap > 0 ? b->cap * 2 : 256;
		char	   *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = malloc(cap);
		if (p == NULL)
		{
			b->failed = true;
			return;
		}
		/* copy, wipe, free: the old buffer may hold signed material */
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

static void
buf_puts(AzBuf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* The finished string, or NULL (everything freed) if an append failed. */
static char *
buf_finish(AzBuf *b)
{
	if (b->failed)
	{
		if (b->data != NULL)
			OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
		return NULL;
	}
	if (b->data == NULL)
		return strdup("");
	return b->data;
}

static void
free_wiped(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

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
		free_wiped(pairs[i].value);
	}
	free(pairs);
}

/*
 * Append "name:v1,v2\n"-style groups of sorted pairs to b: lead goes before
 * each group, tail after it.
 */
static void
append_groups(AzBuf *b, const AzPair *pairs, int n, const char *lead,
			  const char *tail)
{
	int			i = 0;

	while (i < n)
	{
		int			j;

		buf_puts(b, lead);
		buf_puts(b, pairs[i].name);
		buf_puts(b, ":");
		for (j = i; j < n && strcmp(pairs[j].name, pairs[i].name) == 0; j++)
		{
			if (j > i)
				buf_puts(b, ",");
			buf_puts(b, pairs[j].value);
		}
		buf_puts(b, tail);
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
	AzBuf		b = {NULL, 0, 0, false};

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
	return buf_finish(&b);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
AzureUrlDecode(const char *src, size_t len, bool plus_space)
{
	char	   *out = malloc(len + 1);
	size_t		i;
	size_t		o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		if (src[i] == '%' && i + 2 < len &&
			hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0)
		{
			out[o++] = (char) (hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
			i += 2;
		}
		else if (plus_space && src[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = src[i];
	}
	out[o] = '\0';
	return out;
}

char *
AzureCanonicalizedResource(const char *account, const char *path,
						   const char *query)
{
	AzBuf		b = {NULL, 0, 0, false};
	AzPair	   *pairs = NULL;
	int			n = 0;
	int			max = 0;
	const char *p;

	buf_puts(&b, "/");
	buf_puts(&b, account);
	buf_puts(&b, path != NULL && path[0] != '\0' ? path : "/");
	if (query == NULL || query[0] == '\0')
		return buf_finish(&b);

	/* at most one parameter per '&', plus one */
	max = 1;
	for (p = query; *p != '\0'; p++)
		if (*p == '&')
			max++;
	pairs = calloc(max, sizeof(AzPair));
	if (pairs == NULL)
	{
		b.failed = true;
		return buf_finish(&b);
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
			return buf_finish(&b);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (n > 0)
		qsort(pairs, n, sizeof(AzPair), pair_cmp_by_name_value);
	append_groups(&b, pairs, n, "\n", "");
	pairs_free(pairs, n);
	return buf_finish(&b);
}

/* Append the value of header name in req (first match, trimmed) and "\n". */
static void
append_standard_header(AzBuf *b, const AzureSignRequest *req,
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
		buf_append(b, value, vlen);
		break;
	}
	buf_puts(b, "\n");
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
	AzBuf		b = {NULL, 0, 0, false};
	char	   *headers;
	char	   *resource;
	size_t		i;

	buf_puts(&b, req->method);
	buf_puts(&b, "\n");
	for (i = 0; i < sizeof(before_length) / sizeof(before_length[0]); i++)
		append_standard_header(&b, req, before_length[i]);
	/* since version 2015-02-21 a zero length is signed as "" */
	if (req->content_length > 0)
	{
		char		num[32];

		snprintf(num, sizeof(num), "%llu",
				 (unsigned long long) req->content_length);
		buf_puts(&b, num);
	}
	buf_puts(&b, "\n");
	for (i = 0; i < sizeof(after_length) / sizeof(after_length[0]); i++)
		append_standard_header(&b, req, after_length[i]);

	headers = AzureCanonicalizedHeaders(req->headers, req->nheaders);
	resource = AzureCanonicalizedResource(account, req->path, req->query);
	if (headers == NULL || resource == NULL)
		b.failed = true;
	else
	{
		buf_puts(&b, headers);
		buf_puts(&b, resource);
	}
	free_wiped(headers);
	free_wiped(resource);
	return buf_finish(&b);
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
	free_wiped(sts);
	if (sig == NULL)
		return NULL;
	n = strlen("SharedKey ") + strlen(account) + 1 + strlen(sig) + 1;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "SharedKey %s:%s", account, sig);
	free_wiped(sig);
	return out;
}

char *
AzureBase64Encode(const void *data, size_t len)
{
	size_t		outlen = 4 * ((len + 2) / 3);
	char	   *out;

	if (len > (size_t) 0x3FFFFFFF)
		return NULL;			/* EVP_EncodeBlock takes an int */
	out = malloc(outlen + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) data,
					(int) len);
	out[outlen] = '\0';
	return out;
}

/* The 6-bit value of a base64 character, -1 if it is none. */
static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

unsigned char *
AzureBase64Decode(const char *src, size_t *len)
{
	size_t		n = strlen(src);
	size_t		pad = 0;
	size_t		i;
	size_t		o = 0;
	unsigned char *out;

	*len = 0;
	if (n == 0 || n % 4 != 0)
		return NULL;
	if (src[n - 1] == '=')
		pad++;
	if (src[n - 2] == '=')
		pad++;
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i += 4)
	{
		int			v[4];
		int			k;
		bool		last = (i + 4 == n);

		for (k = 0; k < 4; k++)
		{
			if (last && k >= 4 - (int) pad)
				v[k] = 0;
			else if ((v[k] = b64val(src[i + k])) < 0)
				goto bad;
		}
		out[o++] = (unsigned char) ((v[0] << 2) | (v[1] >> 4));
		if (!last || pad < 2)
			out[o++] = (unsigned char) (((v[1] & 0xF) << 4) | (v[2] >> 2));
		if (!last || pad < 1)
			out[o++] = (unsigned char) (((v[2] & 0x3) << 6) | v[3]);
	}
	*len = o;
	return out;

bad:
	OPENSSL_cleanse(out, n / 4 * 3 + 1);
	free(out);
	return NULL;
}

void
AzureContentMd5(const void *data, size_t len, char out[25])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	/* MD5 is Azure's transfer checksum here, not a security measure */
	if (!EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		return;
	EVP_EncodeBlock((unsigned char *) out, md, 16);
	out[24] = '\0';
}

char *
AzureUrlEncode(const char *src, bool keep_slash)
{
	size_t		n = strlen(src);
	char	   *out = malloc(3 * n + 1);
	char	   *p = out;
	size_t		i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) src[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
			c == '~' || (keep_slash && c == '/'))
			*p++ = (char) c;
		else
		{
			*p++ = '%';
			*p++ = hexdigits_upper[c >> 4];
			*p++ = hexdigits_upper[c & 0xF];
		}
	}
	*p = '\0';
	return out;
}

void
AzureFormatDate(int64_t t, char out[30])
{
	static const char *const days[7] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	time_t		tt = (time_t) t;
	struct tm	tm;
	char		tmp[64];

	/* by hand, not strftime: the names must not follow the locale */
	out[0] = '\0';
	if ((int64_t) tt != t || gmtime_r(&tt, &tm) == NULL ||
		tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return;
	snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
			 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (strlen(tmp) == 29)
		memcpy(out, tmp, 30);
}

char *
AzureQueryWithSas(const char *query, const char *sas)
{
	AzBuf		b = {NULL, 0, 0, false};

	if (sas != NULL && sas[0] == '?')
		sas++;
	if (query != NULL)
		buf_puts(&b, query);
	if (sas != NULL && sas[0] != '\0')
	{
		if (query != NULL && query[0] != '\0')
			buf_puts(&b, "&");
		buf_puts(&b, sas);
	}
	return buf_finish(&b);
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
