/*-------------------------------------------------------------------------
 *
 * sigv4.c
 *		AWS Signature Version 4, as the spec's named stages.
 *
 * Each stage (canonical request, string to sign, signing key, signature)
 * is a separate function so the unit test can check it against the AWS
 * test suite.  Plain C with OpenSSL; this file must not include postgres.h,
 * so it reports allocation failure by returning NULL rather than by
 * ereport().
 *
 * IDENTIFICATION
 *		src/store/sigv4.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "store/sigv4.h"
#include "store/store_util.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"

/* hex SHA-256 of the empty string, used when payload_hash is NULL */
#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


static void
sb_appendc(StoreBuf *sb, char c)
{
	StoreBufAppend(sb, &c, 1);
}

/*
 * SigV4UriEncode
 *		URI-encode src per SigV4 into a new malloc'd string.
 *
 * Unreserved characters (A-Z a-z 0-9 - _ . ~) are kept; every other byte,
 * including '%' and each byte of a multi-byte UTF-8 sequence, becomes %XX
 * with upper-case hex.  '/' is kept only when keep_slash.  A NULL src is
 * treated as "".  Returns NULL only when out of memory.
 */
char *
SigV4UriEncode(const char *src, bool keep_slash)
{
	return StoreUrlEncode(src, keep_slash);
}

/*
 * Append the canonical URI for req to sb.
 *
 * With normalize_path (every service but S3) the path is normalized -- dot
 * segments removed, runs of '/' collapsed, a trailing '/' kept if the
 * original had one -- and then URI-encoded once more, '/' kept.  Because
 * the wire path is already encoded, "%20" becomes "%2520"; that double
 * encoding is what those services expect.  Without normalize_path (S3) the
 * wire path is used byte for byte.  An empty or NULL path is "/".
 */
static void
append_canonical_uri(StoreBuf *sb, const SigV4Request *req)
{
	const char *path = req->path;
	size_t		plen;
	size_t	   *segstart;
	size_t	   *seglen;
	int			nsegs = 0;
	size_t		i;
	int			s;

	if (path == NULL || path[0] == '\0')
	{
		sb_appendc(sb, '/');
		return;
	}
	if (!req->normalize_path)
	{
		StoreBufPuts(sb, path);
		return;
	}

	/* A path of n bytes has at most n/2 + 1 non-empty segments. */
	plen = strlen(path);
	segstart = malloc(sizeof(size_t) * (plen / 2 + 1));
	seglen = malloc(sizeof(size_t) * (plen / 2 + 1));
	if (segstart == NULL || seglen == NULL)
	{
		free(segstart);
		free(seglen);
		sb->failed = true;
		return;
	}

	i = 0;
	while (i < plen)
	{
		size_t		start;
		size_t		len;

		while (i < plen && path[i] == '/')
			i++;
		if (i >= plen)
			break;
		start = i;
		while (i < plen && path[i] != '/')
			i++;
		len = i - start;

		if (len == 1 && path[start] == '.')
			continue;
		if (len == 2 && path[start] == '.' && path[start + 1] == '.')
		{
			/* ".." above the root stays at the root */
			if (nsegs > 0)
				nsegs--;
			continue;
		}
		segstart[nsegs] = start;
		seglen[nsegs] = len;
		nsegs++;
	}

	sb_appendc(sb, '/');
	for (s = 0; s < nsegs; s++)
	{
		if (s > 0)
			sb_appendc(sb, '/');
		StoreBufAppendEncoded(sb, path + segstart[s], seglen[s], false);
	}
	if (nsegs > 0 && path[plen - 1] == '/')
		sb_appendc(sb, '/');

	free(segstart);
	free(seglen);
}

/* One query parameter, both halves already in canonical (encoded) form. */
typedef struct QueryParam
{
	char	   *name;
	char	   *value;
} QueryParam;

static int
query_param_cmp(const void *a, const void *b)
{
	const QueryParam *pa = a;
	const QueryParam *pb = b;
	int			c = strcmp(pa->name, pb->name);

	return c != 0 ? c : strcmp(pa->value, pb->value);
}

/* Decode s[0..n) and re-encode it for the canonical query string. */
static char *
canonical_query_component(const char *s, size_t n)
{
	char	   *decoded = StoreUrlDecode(s, n, false);
	char	   *encoded;

	if (decoded == NULL)
		return NULL;
	encoded = SigV4UriEncode(decoded, false);
	free(decoded);
	return encoded;
}

/*
 * Append the canonical query string for the raw query q (may be NULL).
 *
 * Each name and value is decoded and re-encoded, so that a parameter the
 * caller already encoded and one it did not end up the same; '=' is always
 * written, even for an empty value; parameters are sorted by encoded name,
 * then encoded value.  Empty pieces ("a&&b") are dropped.
 */
static void
append_canonical_query(StoreBuf *sb, const char *q)
{
	QueryParam *params;
	int			nparams = 0;
	int			maxparams = 1;
	const char *p;
	int			i;

	if (q == NULL || q[0] == '\0')
		return;

	for (p = q; *p; p++)
		if (*p == '&')
			maxparams++;
	params = calloc(maxparams, sizeof(QueryParam));
	if (params == NULL)
	{
		sb->failed = true;
		return;
	}

	p = q;
	while (*p)
	{
		const char *end = strchr(p, '&');
		const char *eq;
		size_t		len;

		if (end == NULL)
			end = p + strlen(p);
		len = end - p;
		if (len > 0)
		{
			eq = memchr(p, '=', len);
			if (eq != NULL)
			{
				params[nparams].name = canonical_query_component(p, eq - p);
				params[nparams].value =
					canonical_query_component(eq + 1, end - eq - 1);
			}
			else
			{
				params[nparams].name = canonical_query_component(p, len);
				params[nparams].value = SigV4UriEncode("", false);
			}
			nparams++;
			if (params[nparams - 1].name == NULL ||
				params[nparams - 1].value == NULL)
			{
				sb->failed = true;
				goto done;
			}
		}
		p = (*end == '&') ? end + 1 : end;
	}

	qsort(params, nparams, sizeof(QueryParam), query_param_cmp);
	for (i = 0; i < nparams; i++)
	{
		if (i > 0)
			sb_appendc(sb, '&');
		StoreBufPuts(sb, params[i].name);
		sb_appendc(sb, '=');
		StoreBufPuts(sb, params[i].value);
	}

done:
	for (i = 0; i < nparams; i++)
	{
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

/* A header in canonical form, remembering its position for a stable sort. */
typedef struct CanonHeader
{
	char	   *name;			/* lower case */
	char	   *value;			/* trimmed, whitespace runs folded */
	int			order;
} CanonHeader;

static int
canon_header_cmp(const void *a, const void *b)
{
	const CanonHeader *ha = a;
	const CanonHeader *hb = b;
	int			c = strcmp(ha->name, hb->name);

	return c != 0 ? c : ha->order - hb->order;
}

static bool
is_header_space(char c)
{
	/* CR/LF count too, so a folded multi-line value cannot break a line. */
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The canonical form of a header value: leading and trailing whitespace
 * removed and each inner run of whitespace replaced by one space.
 */
static char *
canonical_header_value(const char *v)
{
	char	   *out;
	size_t		o = 0;
	bool		pending_space = false;

	if (v == NULL)
		v = "";
	out = malloc(strlen(v) + 1);
	if (out == NULL)
		return NULL;
	for (; *v; v++)
	{
		if (is_header_space(*v))
		{
			/* only emit a space once something follows it */
			pending_space = (o > 0);
			continue;
		}
		if (pending_space)
		{
			out[o++] = ' ';
			pending_space = false;
		}
		out[o++] = *v;
	}
	out[o] = '\0';
	return out;
}

/*
 * Append the canonical headers block (each "name:value\n") to canon and the
 * signed headers list ("a;b;c") to signed_list; either may be NULL.
 *
 * Names are lower-cased; headers are sorted by name, and headers sharing a
 * name are joined into one line with ',' in the order the caller gave them.
 */
static void
append_headers(const SigV4Request *req, StoreBuf *canon, StoreBuf *signed_list)
{
	CanonHeader *hs;
	int			n = req->nheaders;
	int			i;
	int			built = 0;
	bool		failed = false;

	if (n <= 0 || req->headers == NULL)
		return;
	hs = calloc(n, sizeof(CanonHeader));
	if (hs == NULL)
	{
		failed = true;
		goto done;
	}

	for (i = 0; i < n; i++)
	{
		const char *name = req->headers[i].name ? req->headers[i].name : "";
		size_t		nlen = strlen(name);
		size_t		k;

		hs[i].name = malloc(nlen + 1);
		hs[i].value = canonical_header_value(req->headers[i].value);
		hs[i].order = i;
		built = i + 1;
		if (hs[i].name == NULL || hs[i].value == NULL)
		{
			failed = true;
			goto done;
		}
		for (k = 0; k < nlen; k++)
		{
			char		c = name[k];

			hs[i].name[k] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
		}
		hs[i].name[nlen] = '\0';
	}

	qsort(hs, n, sizeof(CanonHeader), canon_header_cmp);

	for (i = 0; i < n; i++)
	{
		bool		first = (i == 0 || strcmp(hs[i].name, hs[i - 1].name) != 0);
		bool		last = (i == n - 1 || strcmp(hs[i].name, hs[i + 1].name) != 0);

		if (canon)
		{
			if (first)
			{
				StoreBufPuts(canon, hs[i].name);
				sb_appendc(canon, ':');
			}
			else
				sb_appendc(canon, ',');
			StoreBufPuts(canon, hs[i].value);
			if (last)
				sb_appendc(canon, '\n');
		}
		if (signed_list && first)
		{
			if (i > 0)
				sb_appendc(signed_list, ';');
			StoreBufPuts(signed_list, hs[i].name);
		}
	}

done:
	if (hs != NULL)
	{
		for (i = 0; i < built; i++)
		{
			free(hs[i].name);
			free(hs[i].value);
		}
		free(hs);
	}
	if (failed)
	{
		if (canon)
			canon->failed = true;
		if (signed_list)
			signed_list->failed = true;
	}
}

/*
 * SigV4CanonicalRequest
 *		Stage 1: build the canonical request for req.
 *
 * The result is method, canonical URI, canonical query string, canonical
 * headers, signed headers and payload hash, separated by newlines (the
 * headers block ends with its own newline, hence the blank line after it).
 * req->method must be set; a NULL payload_hash means an empty body.
 * Returns a malloc'd string, or NULL when out of memory.
 */
char *
SigV4CanonicalRequest(const SigV4Request *req)
{
	StoreBuf	sb = {NULL, 0, 0, false};

	StoreBufPuts(&sb, req->method ? req->method : "");
	sb_appendc(&sb, '\n');
	append_canonical_uri(&sb, req);
	sb_appendc(&sb, '\n');
	append_canonical_query(&sb, req->query);
	sb_appendc(&sb, '\n');
	append_headers(req, &sb, NULL);
	sb_appendc(&sb, '\n');
	append_headers(req, NULL, &sb);
	sb_appendc(&sb, '\n');
	StoreBufPuts(&sb, req->payload_hash ? req->payload_hash : SIGV4_EMPTY_SHA256);
	return StoreBufFinish(&sb);
}

/*
 * Append the credential scope "date8/region/service/aws4_request".  The
 * caller has checked that req->amz_date holds at least 8 characters.
 */
static void
append_scope(StoreBuf *sb, const SigV4Request *req)
{
	StoreBufAppend(sb, req->amz_date, 8);
	sb_appendc(sb, '/');
	StoreBufPuts(sb, req->region ? req->region : "");
	sb_appendc(sb, '/');
	StoreBufPuts(sb, req->service ? req->service : "");
	sb_appendc(sb, '/');
	StoreBufPuts(sb, SIGV4_TERMINATOR);
}

static bool
amz_date_ok(const char *amz_date)
{
	return amz_date != NULL && strlen(amz_date) >= 8;
}

/*
 * SigV4StringToSign
 *		Stage 2: the string to sign for canonical_request.
 *
 * "AWS4-HMAC-SHA256", the request date, the credential scope and the hex
 * SHA-256 of the canonical request, one per line.  req->amz_date must be
 * "YYYYMMDDTHHMMSSZ"; returns NULL if it is missing or too short, or when
 * out of memory.
 */
char *
SigV4StringToSign(const SigV4Request *req, const char *canonical_request)
{
	StoreBuf	sb = {NULL, 0, 0, false};
	char		hash[65];

	if (!amz_date_ok(req->amz_date) || canonical_request == NULL)
		return NULL;
	SigV4Sha256Hex(canonical_request, strlen(canonical_request), hash);

	StoreBufPuts(&sb, SIGV4_ALGORITHM "\n");
	StoreBufPuts(&sb, req->amz_date);
	sb_appendc(&sb, '\n');
	append_scope(&sb, req);
	sb_appendc(&sb, '\n');
	StoreBufPuts(&sb, hash);
	return StoreBufFinish(&sb);
}

/* HMAC-SHA256 of msg under key into out; false on an OpenSSL failure. */
static bool
hmac_sha256(const unsigned char *key, size_t keylen,
			const void *msg, size_t msglen, unsigned char out[32])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), key, (int) keylen, msg, msglen,
			 out, &outlen) == NULL || outlen != 32)
		return false;
	return true;
}

static bool
signing_key(const char *secret, const char *date8, size_t date8len,
			const char *region, const char *service, unsigned char key[32])
{
	size_t		slen = strlen(secret);
	unsigned char *ksecret;
	unsigned char k1[32];
	unsigned char k2[32];
	bool		ok;

	ksecret = malloc(slen + 4);
	if (ksecret == NULL)
		return false;
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen);

	ok = hmac_sha256(ksecret, slen + 4, date8, date8len, k1) &&
		hmac_sha256(k1, 32, region, strlen(region), k2) &&
		hmac_sha256(k2, 32, service, strlen(service), k1) &&
		hmac_sha256(k1, 32, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR), key);

	/* every intermediate is as good as the secret for this scope */
	OPENSSL_cleanse(ksecret, slen + 4);
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	free(ksecret);
	if (!ok)
		OPENSSL_cleanse(key, 32);
	return ok;
}

/*
 * SigV4SigningKey
 *		Stage 3: derive the signing key into key.
 *
 * HMAC chain kDate = HMAC("AWS4" + secret, date8), kRegion, kService,
 * kSigning = HMAC(kService, "aws4_request").  All arguments must be
 * non-NULL; date8 is "YYYYMMDD".  The caller should OPENSSL_cleanse key
 * when done.  On an OpenSSL or allocation failure key is all zeroes.
 */
void
SigV4SigningKey(const char *secret_access_key, const char *date8,
				const char *region, const char *service,
				unsigned char key[32])
{
	(void) signing_key(secret_access_key, date8, strlen(date8),
					   region, service, key);
}

static bool
signature(const unsigned char key[32], const char *string_to_sign,
		  char hex[65])
{
	unsigned char mac[32];

	if (!hmac_sha256(key, 32, string_to_sign, strlen(string_to_sign), mac))
	{
		hex[0] = '\0';
		return false;
	}
	StoreHexEncode(mac, 32, hex);
	return true;
}

/*
 * SigV4Signature
 *		Stage 4: lower-case hex HMAC-SHA256 of string_to_sign under key.
 *
 * hex receives 64 digits and a NUL; it is "" on an OpenSSL failure.
 */
void
SigV4Signature(const unsigned char key[32], const char *string_to_sign,
			   char hex[65])
{
	(void) signature(key, string_to_sign, hex);
}

/*
 * SigV4Authorization
 *		All stages: the value of the Authorization header for req.
 *
 * "AWS4-HMAC-SHA256 Credential=<akid>/<scope>, SignedHeaders=<list>,
 * Signature=<hex>".  req must satisfy SigV4CanonicalRequest and
 * SigV4StringToSign, and region and service must be set.  The derived
 * signing key is wiped before returning.  Returns a malloc'd string, or
 * NULL on bad input (no amz_date, region, service or credentials) or when
 * out of memory.
 */
char *
SigV4Authorization(const SigV4Request *req, const char *access_key_id,
				   const char *secret_access_key)
{
	char	   *creq = NULL;
	char	   *sts = NULL;
	unsigned char key[32];
	char		sig[65];
	bool		ok;
	StoreBuf	sb = {NULL, 0, 0, false};

	if (!amz_date_ok(req->amz_date) || req->region == NULL ||
		req->service == NULL || access_key_id == NULL ||
		secret_access_key == NULL)
		return NULL;

	creq = SigV4CanonicalRequest(req);
	if (creq != NULL)
		sts = SigV4StringToSign(req, creq);
	free(creq);
	if (sts == NULL)
		return NULL;

	ok = signing_key(secret_access_key, req->amz_date, 8,
					 req->region, req->service, key) &&
		signature(key, sts, sig);
	OPENSSL_cleanse(key, sizeof(key));
	free(sts);
	if (!ok)
		return NULL;

	StoreBufPuts(&sb, SIGV4_ALGORITHM " Credential=");
	StoreBufPuts(&sb, access_key_id);
	sb_appendc(&sb, '/');
	append_scope(&sb, req);
	StoreBufPuts(&sb, ", SignedHeaders=");
	append_headers(req, NULL, &sb);
	StoreBufPuts(&sb, ", Signature=");
	StoreBufPuts(&sb, sig);
	return StoreBufFinish(&sb);
}

/*
 * SigV4Sha256Hex
 *		Lower-case hex SHA-256 of data[0..len) into hex (64 digits + NUL).
 *
 * data may be NULL when len is 0.  hex is "" on an OpenSSL failure.
 */
void
SigV4Sha256Hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (data == NULL)
		data = "";
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
	{
		hex[0] = '\0';
		return;
	}
	StoreHexEncode(md, 32, hex);
}

/*
 * SigV4FormatDate
 *		Format t (seconds since the epoch) as "YYYYMMDDTHHMMSSZ" in UTC.
 *
 * out is "" if t cannot be represented (a year outside 0..9999).
 */
void
SigV4FormatDate(long long t, char out[17])
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	out[0] = '\0';
	if ((long long) tt != t || gmtime_r(&tt, &tm) == NULL)
		return;
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return;
	if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		out[0] = '\0';
}
