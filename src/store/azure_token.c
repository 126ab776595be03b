/*-------------------------------------------------------------------------
 *
 * azure_token.c
 *		Microsoft Entra ID access tokens: fetch, parse and cache per process.
 *
 * Two flows: client credentials (a form POST to the authority's v2.0 token
 * endpoint) and managed identity (a GET to the instance metadata service,
 * which needs the header "Metadata: true").  Both answer with JSON that
 * holds access_token and a lifetime.
 *
 * The cache is a short list of entries, one per distinct configuration;
 * the key spells out every field of AzureTokenConfig, with a SHA-256 of
 * the client secret in place of the secret itself.  A backend is single
 * threaded, so the list needs no lock.
 *
 * Every copy of a secret or a token we make (form bodies, reply bodies,
 * parsed JSON strings, cache entries) is wiped with OPENSSL_cleanse before
 * it is freed.  Plain C with libcurl (through http.h), OpenSSL and cJSON;
 * no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/azure_token.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "store/azure_token.h"
#include "store/http.h"
#include "store/store_util.h"

#define TOKEN_MAX_REPLY			(64 * 1024)	/* a token reply is ~2-4 kB */
#define TOKEN_REFRESH_CAP_S		300 /* refresh margin at most 5 minutes */
#define TOKEN_BACKOFF_FIRST_MS	200
#define TOKEN_BACKOFF_MAX_MS	4000
#define TOKEN_RETRY_AFTER_MAX_S 10	/* larger Retry-After values are capped */
#define TOKEN_DETAIL_MAX		200 /* bytes of error_description kept */
#define IMDS_API_VERSION		"2018-02-01"

/* One cached token. */
typedef struct TokenEntry
{
	struct TokenEntry *next;
	char	   *key;			/* see token_cache_key */
	char	   *token;
	int64_t		fetched_at;		/* epoch seconds */
	int64_t		expires_at;
} TokenEntry;

static TokenEntry *token_cache = NULL;
static int64_t token_fetch_count = 0;

/* Append s percent-encoded: only RFC 3986 unreserved characters stay. */
static void
append_encoded(StoreBuf *b, const char *s)
{
	StoreBufAppendEncoded(b, s, strlen(s), false);
}

static int64_t
now_seconds(void)
{
	return (int64_t) time(NULL);
}

/* ---------------------------------------------------------------------
 * Configuration
 * ---------------------------------------------------------------------
 */

static bool
dup_field(const char *src, const char **dst)
{
	char	   *p;

	*dst = NULL;
	if (src == NULL)
		return true;
	p = strdup(src);
	*dst = p;
	return p != NULL;
}

AzureTokenConfig *
AzureTokenConfigCopy(const AzureTokenConfig *cfg)
{
	AzureTokenConfig *c = calloc(1, sizeof(AzureTokenConfig));
	bool		ok;

	if (c == NULL)
		return NULL;
	*c = *cfg;
	ok = dup_field(cfg->authority_host, &c->authority_host);
	ok = dup_field(cfg->imds_endpoint, &c->imds_endpoint) && ok;
	ok = dup_field(cfg->tenant_id, &c->tenant_id) && ok;
	ok = dup_field(cfg->client_id, &c->client_id) && ok;
	ok = dup_field(cfg->client_secret, &c->client_secret) && ok;
	ok = dup_field(cfg->resource, &c->resource) && ok;
	ok = dup_field(cfg->ca_file, &c->ca_file) && ok;
	if (!ok)
	{
		AzureTokenConfigFree(c);
		return NULL;
	}
	return c;
}

void
AzureTokenConfigFree(AzureTokenConfig *cfg)
{
	if (cfg == NULL)
		return;
	free((char *) cfg->authority_host);
	free((char *) cfg->imds_endpoint);
	free((char *) cfg->tenant_id);
	free((char *) cfg->client_id);
	StoreFreeSecret((char *) cfg->client_secret);
	free((char *) cfg->resource);
	free((char *) cfg->ca_file);
	free(cfg);
}

static bool
is_empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/*
 * A tenant goes into the URL path: a GUID or a domain name, nothing that
 * could change the path or add a query.
 */
static bool
valid_tenant(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char) *s) && *s != '-' && *s != '.' &&
			*s != '_')
			return false;
	return true;
}

static bool
valid_base_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Check that cfg names everything its flow needs. */
static bool
check_config(const AzureTokenConfig *cfg, TelemError *err)
{
	const char *base;

	if (cfg->kind == AZURE_TOKEN_CLIENT_SECRET)
	{
		if (is_empty(cfg->tenant_id) || is_empty(cfg->client_id) ||
			is_empty(cfg->client_secret))
			return TelemSetError(err, TELEM_ERR_CONFIG,
								 "client credentials need a tenant id, a client id and a client secret");
		if (!valid_tenant(cfg->tenant_id))
			return TelemSetError(err, TELEM_ERR_CONFIG,
								 "invalid tenant id \"%s\"", cfg->tenant_id);
		base = cfg->authority_host != NULL ? cfg->authority_host :
			AZURE_DEFAULT_AUTHORITY_HOST;
	}
	else if (cfg->kind == AZURE_TOKEN_MANAGED_IDENTITY)
		base = cfg->imds_endpoint != NULL ? cfg->imds_endpoint :
			AZURE_DEFAULT_IMDS_ENDPOINT;
	else
		return TelemSetError(err, TELEM_ERR_CONFIG,
							 "unknown token kind %d", (int) cfg->kind);
	if (!valid_base_url(base))
		return TelemSetError(err, TELEM_ERR_CONFIG,
							 "token endpoint \"%s\" is not an http or https URL",
							 base);
	return true;
}

/* Append base without its trailing slashes. */
static void
tb_append_base(StoreBuf *b, const char *base)
{
	size_t		n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	StoreBufAppend(b, base, n);
}

/* Append "len:value\n", so no two field lists spell the same key. */
static void
key_field(StoreBuf *b, const char *value)
{
	char		num[32];

	if (value == NULL)
	{
		StoreBufPuts(b, "-\n");
		return;
	}
	snprintf(num, sizeof(num), "%zu:", strlen(value));
	StoreBufPuts(b, num);
	StoreBufPuts(b, value);
	StoreBufPuts(b, "\n");
}

/*
 * The cache key of cfg: every field, with the hex SHA-256 of the client
 * secret standing in for it.  NULL when out of memory.
 */
static char *
token_cache_key(const AzureTokenConfig *cfg)
{
	StoreBuf	b = {0};
	char		num[96];
	char		hexsum[2 * EVP_MAX_MD_SIZE + 1];

	snprintf(num, sizeof(num), "%d %d %ld %d\n", (int) cfg->kind,
			 cfg->verify_tls ? 1 : 0, cfg->connect_timeout_ms,
			 cfg->max_retries);
	StoreBufPuts(&b, num);
	key_field(&b, cfg->authority_host);
	key_field(&b, cfg->imds_endpoint);
	key_field(&b, cfg->tenant_id);
	key_field(&b, cfg->client_id);
	key_field(&b, cfg->resource);
	key_field(&b, cfg->ca_file);

	hexsum[0] = '\0';
	if (cfg->client_secret != NULL)
	{
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;

		if (EVP_Digest(cfg->client_secret, strlen(cfg->client_secret), md,
					   &mdlen, EVP_sha256(), NULL) != 1)
		{
			StoreBufFree(&b);
			return NULL;
		}
		StoreHexEncode(md, mdlen, hexsum);
		OPENSSL_cleanse(md, sizeof(md));
		key_field(&b, hexsum);
	}
	else
		key_field(&b, NULL);

	if (b.failed)
	{
		StoreBufFree(&b);
		return NULL;
	}
	return b.data;
}

/* ---------------------------------------------------------------------
 * Parsing the reply
 * ---------------------------------------------------------------------
 */

/* A positive integer from a JSON number or a string of digits; else -1. */
static int64_t
json_seconds(const cJSON *item)
{
	if (cJSON_IsNumber(item))
		return item->valuedouble >= 1 && item->valuedouble < 1e15 ?
			(int64_t) item->valuedouble : -1;
	if (cJSON_IsString(item) && item->valuestring != NULL)
	{
		const char *s = item->valuestring;
		int64_t		v = 0;

		if (*s == '\0')
			return -1;
		for (; *s != '\0'; s++)
		{
			if (*s < '0' || *s > '9' || v > 100000000000000LL)
				return -1;
			v = v * 10 + (*s - '0');
		}
		return v >= 1 ? v : -1;
	}
	return -1;
}

/* A token goes into an HTTP header: visible ASCII only, no spaces. */
static bool
valid_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

/* Wipe the access_token string inside a parsed reply before it is freed. */
static void
wipe_json(cJSON *root)
{
	cJSON	   *tok;

	if (root == NULL)
		return;
	tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	if (cJSON_IsString(tok) && tok->valuestring != NULL)
		OPENSSL_cleanse(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(root);
}

bool
AzureTokenParse(const char *body, size_t len, int64_t now, char **token,
				int64_t *expires_at, TelemError *err)
{
	cJSON	   *root;
	cJSON	   *tok;
	cJSON	   *type;
	int64_t		expires_in;
	int64_t		expires_on;

	*token = NULL;
	*expires_at = 0;
	if (err != NULL)
	{
		err->http_status = 0;
		err->code[0] = '\0';
	}

	/* cJSON would cut a string short at a NUL byte rather than refuse it */
	root = body != NULL && memchr(body, '\0', len) == NULL ?
		cJSON_ParseWithLength(body, len) : NULL;
	if (root == NULL || !cJSON_IsObject(root))
	{
		wipe_json(root);
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "token endpoint reply is not a JSON object");
	}

	tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	if (!cJSON_IsString(tok) || tok->valuestring == NULL ||
		!valid_token(tok->valuestring))
	{
		wipe_json(root);
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "token endpoint reply has no valid \"access_token\"");
	}

	type = cJSON_GetObjectItemCaseSensitive(root, "token_type");
	if (type != NULL && (!cJSON_IsString(type) ||
						 strcasecmp(type->valuestring, "Bearer") != 0))
	{
		wipe_json(root);
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "token endpoint reply has a \"token_type\" other than Bearer");
	}

	expires_in = json_seconds(cJSON_GetObjectItemCaseSensitive(root,
															   "expires_in"));
	expires_on = json_seconds(cJSON_GetObjectItemCaseSensitive(root,
															   "expires_on"));
	if (expires_in > 0)
		*expires_at = now + expires_in;
	else if (expires_on > 0)
		*expires_at = expires_on;
	else
	{
		wipe_json(root);
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "token endpoint reply has neither \"expires_in\" nor \"expires_on\"");
	}

	*token = strdup(tok->valuestring);
	wipe_json(root);
	if (*token == NULL)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
	return true;
}

/*
 * Copy s into out (size outlen) keeping printable ASCII only, so a remote
 * message cannot inject control characters into a log line.
 */
static void
copy_printable(char *out, size_t outlen, const char *s)
{
	size_t		n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < outlen; s++)
		out[n++] = (*s >= 0x20 && *s <= 0x7e) ? *s : '?';
	out[n] = '\0';
}

/*
 * Fill err for a refused request: HTTP status plus the reply's "error"
 * and "error_description" (Entra ID and IMDS both send them).  The reply
 * of a refusal carries no token.
 */
static bool
set_refusal(TelemError *err, const char *what, const char *url,
			const HttpResponse *resp)
{
	char		code[64] = "";
	char		detail[TOKEN_DETAIL_MAX + 1] = "";
	cJSON	   *root = NULL;
	TelemErrorKind kind;

	if (resp->body != NULL)
		root = cJSON_ParseWithLength(resp->body, resp->body_len);
	if (cJSON_IsObject(root))
	{
		cJSON	   *e = cJSON_GetObjectItemCaseSensitive(root, "error");
		cJSON	   *d = cJSON_GetObjectItemCaseSensitive(root,
														 "error_description");

		if (cJSON_IsString(e))
			copy_printable(code, sizeof(code), e->valuestring);
		if (cJSON_IsString(d))
			copy_printable(detail, sizeof(detail), d->valuestring);
	}
	wipe_json(root);

	if (resp->status == 400 || resp->status == 401 || resp->status == 403)
		kind = TELEM_ERR_AUTH;
	else
		kind = HttpErrorKind(0, resp->status);
	if (err == NULL)
		return false;
	err->http_status = resp->status;
	memcpy(err->code, code, sizeof(err->code));
	return TelemSetError(err, kind,
						 "%s token endpoint \"%s\" refused the request: HTTP %ld%s%s%s%s",
						 what, url, resp->status,
						 code[0] != '\0' ? ": " : "", code,
						 detail[0] != '\0' ? ": " : "", detail);
}

/* ---------------------------------------------------------------------
 * Fetching
 * ---------------------------------------------------------------------
 */

/* A reply's Retry-After in seconds (capped), or 0 if it has none. */
static long
retry_after_s(const HttpResponse *resp)
{
	char		value[32];
	long		s;

	if (resp->headers == NULL ||
		!HttpHeaderValue(resp->headers, "Retry-After", value, sizeof(value)))
		return 0;
	s = strtol(value, NULL, 10);
	if (s <= 0)
		return 0;
	return s > TOKEN_RETRY_AFTER_MAX_S ? TOKEN_RETRY_AFTER_MAX_S : s;
}

/*
 * How long to wait before retry number 'attempt' (0-based): the server's
 * Retry-After if it sent one, else exponential backoff.
 */
static long
backoff_ms(int attempt, long retry_after)
{
	long		ms = TOKEN_BACKOFF_FIRST_MS;

	if (retry_after > 0)
		return retry_after * 1000;
	while (attempt-- > 0 && ms < TOKEN_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < TOKEN_BACKOFF_MAX_MS ? ms : TOKEN_BACKOFF_MAX_MS;
}

/*
 * Worth another try?  Transport failures and 5xx as for any request; IMDS
 * also answers 429 when throttling and 410 while it is being updated.
 */
static bool
token_transient(const AzureTokenConfig *cfg, const HttpResponse *resp)
{
	if (HttpIsTransient(resp->curl_code, resp->status))
		return true;
	if (resp->curl_code != 0)
		return false;
	return resp->status == 429 ||
		(cfg->kind == AZURE_TOKEN_MANAGED_IDENTITY && resp->status == 410);
}

/*
 * Ask the endpoint for a new token.  On success *token (malloc'd) and
 * *expires_at are set.
 */
static bool
fetch_token(const AzureTokenConfig *cfg, char **token, int64_t *expires_at,
			TelemError *err)
{
	const char *resource = cfg->resource != NULL ? cfg->resource :
		AZURE_DEFAULT_RESOURCE;
	StoreBuf	url = {0};
	StoreBuf	form = {0};
	const char *headers[3];
	int			nheaders = 0;
	const char *what;
	size_t		url_base_len;
	char	   *shown;			/* the URL without its query, for messages */
	long		retry_after;
	HttpConfig	hcfg;
	HttpClient *client;
	HttpRequest req;
	int			max_retries = cfg->max_retries > 0 ? cfg->max_retries : 0;
	int			attempt;
	bool		ok = false;

	*token = NULL;
	if (cfg->kind == AZURE_TOKEN_CLIENT_SECRET)
	{
		what = "Entra ID";
		tb_append_base(&url, cfg->authority_host != NULL ?
					   cfg->authority_host : AZURE_DEFAULT_AUTHORITY_HOST);
		StoreBufPuts(&url, "/");
		StoreBufPuts(&url, cfg->tenant_id);
		StoreBufPuts(&url, "/oauth2/v2.0/token");
		url_base_len = url.len;

		StoreBufPuts(&form, "grant_type=client_credentials&client_id=");
		append_encoded(&form, cfg->client_id);
		StoreBufPuts(&form, "&client_secret=");
		append_encoded(&form, cfg->client_secret);
		StoreBufPuts(&form, "&scope=");
		{
			/* "{resource}/.default", without doubling a trailing slash */
			StoreBuf	scope = {0};

			tb_append_base(&scope, resource);
			StoreBufPuts(&scope, "/.default");
			if (!scope.failed)
				append_encoded(&form, scope.data);
			else
				form.failed = true;
			StoreBufFree(&scope);
		}
		headers[nheaders++] = "Content-Type: application/x-www-form-urlencoded";
		headers[nheaders++] = "Accept: application/json";
	}
	else
	{
		what = "managed identity";
		tb_append_base(&url, cfg->imds_endpoint != NULL ?
					   cfg->imds_endpoint : AZURE_DEFAULT_IMDS_ENDPOINT);
		StoreBufPuts(&url, "/metadata/identity/oauth2/token");
		url_base_len = url.len;
		StoreBufPuts(&url, "?api-version=" IMDS_API_VERSION "&resource=");
		append_encoded(&url, resource);
		if (!is_empty(cfg->client_id))
		{
			StoreBufPuts(&url, "&client_id=");
			append_encoded(&url, cfg->client_id);
		}
		headers[nheaders++] = "Metadata: true";
		headers[nheaders++] = "Accept: application/json";
	}
	shown = url.failed ? NULL : strndup(url.data, url_base_len);
	if (url.failed || form.failed || shown == NULL)
	{
		free(shown);
		StoreBufFree(&url);
		StoreBufFree(&form);
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
	}

	memset(&hcfg, 0, sizeof(hcfg));
	hcfg.ca_file = cfg->ca_file;
	hcfg.verify_tls = cfg->verify_tls;
	hcfg.connect_timeout_ms = cfg->connect_timeout_ms;
	client = HttpClientCreate(&hcfg, err);
	if (client == NULL)
	{
		free(shown);
		StoreBufFree(&url);
		StoreBufFree(&form);
		return false;
	}

	memset(&req, 0, sizeof(req));
	req.url = url.data;
	req.headers = headers;
	req.nheaders = nheaders;
	if (cfg->kind == AZURE_TOKEN_CLIENT_SECRET)
	{
		req.method = "POST";
		req.body = form.data;
		req.body_len = form.len;
	}
	else
		req.method = "GET";

	for (attempt = 0;; attempt++)
	{
		HttpResponse resp;
		bool		done;

		done = HttpPerform(client, &req, TOKEN_MAX_REPLY, &resp, err);
		if (done && resp.status >= 200 && resp.status <= 299)
		{
			ok = AzureTokenParse(resp.body, resp.body_len, now_seconds(),
								 token, expires_at, err);
			if (ok)
				token_fetch_count++;
			if (resp.body != NULL)
				OPENSSL_cleanse(resp.body, resp.body_len);
			HttpResponseFree(&resp);
			break;
		}

		if (done)
			set_refusal(err, what, shown, &resp);
		else if (err != NULL && err->kind == TELEM_ERR_CANCELED)
		{
			HttpResponseFree(&resp);
			break;
		}

		if (attempt >= max_retries || !token_transient(cfg, &resp))
		{
			if (err != NULL && !done)
			{
				/* a transport failure: name the endpoint */
				char		cause[sizeof(err->message)];

				memcpy(cause, err->message, sizeof(cause));
				TelemSetError(err, err->kind,
							  "could not reach %s token endpoint \"%s\": %s",
							  what, shown, cause);
			}
			HttpResponseFree(&resp);
			break;
		}
		retry_after = retry_after_s(&resp);
		HttpResponseFree(&resp);
		if (!HttpSleep(backoff_ms(attempt, retry_after), err))
			break;
	}

	free(shown);
	HttpClientDestroy(client);
	StoreBufFree(&url);
	StoreBufFree(&form);
	return ok;
}

/* ---------------------------------------------------------------------
 * The cache
 * ---------------------------------------------------------------------
 */

bool
AzureTokenNeedsRefresh(int64_t fetched_at, int64_t expires_at, int64_t now)
{
	int64_t		lifetime = expires_at - fetched_at;
	int64_t		margin = lifetime / 2;

	if (margin > TOKEN_REFRESH_CAP_S)
		margin = TOKEN_REFRESH_CAP_S;
	if (margin < 1)
		margin = 1;				/* never hand out a token in its last second */
	return lifetime <= 0 || expires_at - now < margin || now < fetched_at;
}

static void
entry_free(TokenEntry *e)
{
	free(e->key);
	StoreFreeSecret(e->token);
	free(e);
}

/* Drop entries whose token has expired, other than keep. */
static void
cache_prune(int64_t now, const TokenEntry *keep)
{
	TokenEntry **link = &token_cache;

	while (*link != NULL)
	{
		TokenEntry *e = *link;

		if (e != keep && e->expires_at <= now)
		{
			*link = e->next;
			entry_free(e);
		}
		else
			link = &e->next;
	}
}

bool
AzureTokenGet(const AzureTokenConfig *cfg, char **token, TelemError *err)
{
	char	   *key;
	TokenEntry *e;
	char	   *fresh = NULL;
	int64_t		expires_at = 0;
	int64_t		now = now_seconds();

	*token = NULL;
	if (err != NULL)
	{
		err->http_status = 0;
		err->code[0] = '\0';
	}
	if (!check_config(cfg, err))
		return false;
	key = token_cache_key(cfg);
	if (key == NULL)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");

	for (e = token_cache; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;

	if (e == NULL || AzureTokenNeedsRefresh(e->fetched_at, e->expires_at, now))
	{
		if (!fetch_token(cfg, &fresh, &expires_at, err))
		{
			/*
			 * Inside the refresh margin the old token still works: ride out
			 * an unreachable endpoint with it, but not a refusal.
			 */
			if (e == NULL || e->expires_at <= now + 1 || err == NULL ||
				err->kind == TELEM_ERR_AUTH || err->kind == TELEM_ERR_CANCELED)
			{
				free(key);
				return false;
			}
		}
		else if (e == NULL)
		{
			e = calloc(1, sizeof(TokenEntry));
			if (e == NULL)
			{
				free(key);
				StoreFreeSecret(fresh);
				return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
									 "out of memory");
			}
			e->key = key;
			key = NULL;
			e->next = token_cache;
			token_cache = e;
		}
		if (fresh != NULL)
		{
			StoreFreeSecret(e->token);
			e->token = fresh;
			e->fetched_at = now;
			e->expires_at = expires_at;
		}
		cache_prune(now, e);
	}
	free(key);

	*token = strdup(e->token);
	if (*token == NULL)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
	return true;
}

void
AzureTokenFree(char *token)
{
	StoreFreeSecret(token);
}

void
AzureTokenCacheClear(void)
{
	while (token_cache != NULL)
	{
		TokenEntry *e = token_cache;

		token_cache = e->next;
		entry_free(e);
	}
}

int64_t
AzureTokenFetchCount(void)
{
	return token_fetch_count;
}
