/*-------------------------------------------------------------------------
 *
 * test_azure_token.c
 *		Unit tests of the Entra ID token code: reply parsing, the refresh
 *		rule, configuration checks, and the cache against a canned server.
 *
 * The cache tests fork a tiny HTTP server on 127.0.0.1 (loopback only)
 * that answers from a fixed script keyed by the request path, so they
 * need no network and no Python.
 *
 * IDENTIFICATION
 *		test/unit/test_azure_token.c
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE				/* strcasestr */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "store/azure_token.h"

#define NOW		INT64_C(1700000000)

/* Parse a NUL-terminated sample; fresh err each time. */
static bool
parse(const char *json, char **token, int64_t *expires_at, TelemError *err)
{
	memset(err, 0, sizeof(*err));
	return AzureTokenParse(json, strlen(json), NOW, token, expires_at, err);
}

static void
test_parse(void)
{
	char	   *tok;
	int64_t		exp;
	TelemError	err;
	bool		ok;

	ok = parse("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
			   "\"ext_expires_in\":3599,\"access_token\":\"eyJ0.eyJ1.sig\"}",
			   &tok, &exp, &err);
	CHECK(ok, "expires_in number: %s", err.message);
	CHECK_STREQ(tok, "eyJ0.eyJ1.sig", "token, expires_in number");
	CHECK(exp == NOW + 3599, "expires_at %lld", (long long) exp);
	AzureTokenFree(tok);

	/* IMDS sends every number as a string */
	ok = parse("{\"access_token\":\"abc\",\"client_id\":\"x\","
			   "\"expires_in\":\"86400\",\"expires_on\":\"1700086400\","
			   "\"ext_expires_in\":\"86399\",\"not_before\":\"1699999700\","
			   "\"resource\":\"https://storage.azure.com\","
			   "\"token_type\":\"Bearer\"}", &tok, &exp, &err);
	CHECK(ok, "expires_in string: %s", err.message);
	CHECK(exp == NOW + 86400, "expires_at %lld", (long long) exp);
	AzureTokenFree(tok);

	ok = parse("{\"access_token\":\"abc\",\"expires_on\":1700000600}",
			   &tok, &exp, &err);
	CHECK(ok, "expires_on only: %s", err.message);
	CHECK(exp == INT64_C(1700000600), "expires_at %lld", (long long) exp);
	AzureTokenFree(tok);

	ok = parse("{\"access_token\":\"abc\",\"expires_on\":\"1700000600\"}",
			   &tok, &exp, &err);
	CHECK(ok && exp == INT64_C(1700000600), "expires_on string: %s",
		  err.message);
	AzureTokenFree(tok);

	/* an unusable expires_in falls back to expires_on */
	ok = parse("{\"access_token\":\"abc\",\"expires_in\":\"soon\","
			   "\"expires_on\":1700000600}", &tok, &exp, &err);
	CHECK(ok && exp == INT64_C(1700000600), "bad expires_in, good expires_on");
	AzureTokenFree(tok);

	ok = parse("{\"token_type\":\"bearer\",\"access_token\":\"abc\","
			   "\"expires_in\":60}", &tok, &exp, &err);
	CHECK(ok, "token_type is case-insensitive: %s", err.message);
	AzureTokenFree(tok);
}

static void
test_parse_bad(void)
{
	static const char *const bad[] = {
		"{\"expires_in\":3599}",	/* no token */
		"{\"access_token\":\"abc\"}",	/* no lifetime */
		"{\"access_token\":\"\",\"expires_in\":1}",
		"{\"access_token\":42,\"expires_in\":1}",
		"{\"access_token\":\"a b\",\"expires_in\":1}",	/* header-unsafe */
		"{\"access_token\":\"a\\r\\nX: y\",\"expires_in\":1}",
		"{\"access_token\":\"abc\",\"expires_in\":0}",
		"{\"access_token\":\"abc\",\"expires_in\":-5}",
		"{\"access_token\":\"abc\",\"expires_in\":\"12x\"}",
		"{\"access_token\":\"abc\",\"expires_in\":\"\"}",
		"{\"access_token\":\"abc\",\"expires_in\":true}",
		"{\"access_token\":\"abc\",\"expires_on\":\"06/20/2019 02:57:58 +00:00\"}",
		"{\"access_token\":\"abc\",\"expires_in\":60,\"token_type\":\"pop\"}",
		"[\"access_token\",\"abc\"]",
		"{\"access_token\":\"abc\",\"expires_in\":60",	/* truncated */
		"<html>502 Bad Gateway</html>",
		"",
		"null",
	};
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		char	   *tok = (char *) "unset";
		int64_t		exp = 1;
		TelemError	err;
		bool		ok = parse(bad[i], &tok, &exp, &err);

		CHECK(!ok, "reply %zu is refused: %s", i, bad[i]);
		CHECK(tok == NULL && exp == 0, "reply %zu leaves no token", i);
		CHECK(err.kind == TELEM_ERR_PROTOCOL, "reply %zu: kind %d", i,
			  (int) err.kind);
		CHECK(strstr(err.message, "abc") == NULL,
			  "reply %zu: message shows no token: %s", i, err.message);
		if (ok)
			AzureTokenFree(tok);
	}

	/* a NULL body and binary garbage with an embedded NUL */
	{
		char	   *tok;
		int64_t		exp;
		TelemError	err;
		static const char junk[] = "{\"access_token\":\"abc\0\",\"expires_in\":1}";

		memset(&err, 0, sizeof(err));
		CHECK(!AzureTokenParse(NULL, 0, NOW, &tok, &exp, &err),
			  "NULL body is refused");
		CHECK(!AzureTokenParse(junk, sizeof(junk) - 1, NOW, &tok, &exp, &err),
			  "embedded NUL is refused");
	}
}

static void
test_needs_refresh(void)
{
	/* one hour: refresh in the last 5 minutes */
	CHECK(!AzureTokenNeedsRefresh(NOW, NOW + 3600, NOW), "fresh");
	CHECK(!AzureTokenNeedsRefresh(NOW, NOW + 3600, NOW + 3300),
		  "exactly 300 s left");
	CHECK(AzureTokenNeedsRefresh(NOW, NOW + 3600, NOW + 3301),
		  "299 s left");
	/* four seconds (the test token service): refresh after half */
	CHECK(!AzureTokenNeedsRefresh(NOW, NOW + 4, NOW + 1), "4 s token, 3 left");
	CHECK(!AzureTokenNeedsRefresh(NOW, NOW + 4, NOW + 2), "4 s token, 2 left");
	CHECK(AzureTokenNeedsRefresh(NOW, NOW + 4, NOW + 3), "4 s token, 1 left");
	/* ten minutes: half is 300 s, the cap */
	CHECK(!AzureTokenNeedsRefresh(NOW, NOW + 600, NOW + 300), "10 min, half");
	CHECK(AzureTokenNeedsRefresh(NOW, NOW + 600, NOW + 301), "10 min, past half");
	/* expired, no lifetime, or the clock went back */
	CHECK(AzureTokenNeedsRefresh(NOW, NOW + 3600, NOW + 4000), "expired");
	CHECK(AzureTokenNeedsRefresh(NOW, NOW, NOW), "zero lifetime");
	CHECK(AzureTokenNeedsRefresh(NOW, NOW - 10, NOW), "expired on arrival");
	CHECK(AzureTokenNeedsRefresh(NOW, NOW + 3600, NOW - 60), "clock went back");
	/* a one-second token: never used in its last second */
	CHECK(!AzureTokenNeedsRefresh(NOW, NOW + 1, NOW), "1 s token");
	CHECK(AzureTokenNeedsRefresh(NOW, NOW + 1, NOW + 1), "1 s token, last second");
}

static void
test_config(void)
{
	AzureTokenConfig cfg;
	AzureTokenConfig *copy;
	char	   *tok = NULL;
	TelemError	err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.kind = AZURE_TOKEN_CLIENT_SECRET;
	cfg.tenant_id = "t";
	cfg.client_id = "c";
	memset(&err, 0, sizeof(err));
	CHECK(!AzureTokenGet(&cfg, &tok, &err) && err.kind == TELEM_ERR_CONFIG,
		  "no client secret: %s", err.message);
	CHECK(tok == NULL, "no token without a secret");

	cfg.client_secret = "s3cret";
	cfg.tenant_id = "../evil?x=";
	CHECK(!AzureTokenGet(&cfg, &tok, &err) && err.kind == TELEM_ERR_CONFIG,
		  "tenant with path characters: %s", err.message);

	cfg.tenant_id = "t";
	cfg.authority_host = "file:///etc";
	CHECK(!AzureTokenGet(&cfg, &tok, &err) && err.kind == TELEM_ERR_CONFIG,
		  "non-http authority: %s", err.message);
	CHECK(strstr(err.message, "s3cret") == NULL, "no secret in message");

	cfg.authority_host = "http://127.0.0.1:1";
	copy = AzureTokenConfigCopy(&cfg);
	CHECK(copy != NULL && copy->client_secret != cfg.client_secret &&
		  strcmp(copy->client_secret, "s3cret") == 0 &&
		  strcmp(copy->authority_host, cfg.authority_host) == 0 &&
		  copy->imds_endpoint == NULL, "deep copy");
	AzureTokenConfigFree(copy);
	AzureTokenConfigFree(NULL);
	CHECK(AzureTokenFetchCount() == 0, "nothing fetched yet");
}

/* ---------------------------------------------------------------------
 * A canned token server
 * ---------------------------------------------------------------------
 */

static const char *const secret = "s3c ret&=+/é";

/* Send a complete reply and close. */
static void
reply(int fd, int status, const char *body)
{
	char		head[256];
	int			n = snprintf(head, sizeof(head),
							 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
							 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
							 status, strlen(body));

	if (write(fd, head, n) < 0 || write(fd, body, strlen(body)) < 0)
		return;
}

/*
 * Answer one request.  Paths:
 *	 /life2/oauth2/v2.0/token	200, expires_in 2, if the form is right
 *	 /flaky/oauth2/v2.0/token	503 on every other request, else 200
 *	 /metadata/identity/...		200 with string numbers, needs Metadata
 *	 anything else				401 with an Entra-style error
 */
static void
serve_one(int fd, int *served)
{
	char		req[8192];
	size_t		len = 0;
	char		body[512];
	char	   *end;
	static int	flaky = 0;
	static const char imds[] =
		"GET /metadata/identity/oauth2/token?api-version=2018-02-01"
		"&resource=https%3A%2F%2Fstorage.azure.com&client_id=mi-1 ";

	while (len < sizeof(req) - 1)
	{
		ssize_t		n = read(fd, req + len, sizeof(req) - 1 - len);

		if (n <= 0)
			break;
		len += n;
		req[len] = '\0';
		end = strstr(req, "\r\n\r\n");
		if (end != NULL)
		{
			char	   *cl = strcasestr(req, "\r\nContent-Length:");
			size_t		want = cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0;

			if (len >= (size_t) (end + 4 - req) + want)
				break;
		}
	}
	req[len] = '\0';
	(*served)++;
	snprintf(body, sizeof(body),
			 "{\"token_type\":\"Bearer\",\"expires_in\":2,"
			 "\"access_token\":\"tok-%d\"}", *served);

	if (strncmp(req, "POST /life2/oauth2/v2.0/token ", 30) == 0 &&
		strstr(req, "\r\n\r\ngrant_type=client_credentials&client_id=app%201"
			   "&client_secret=s3c%20ret%26%3D%2B%2F%C3%A9"
			   "&scope=https%3A%2F%2Fstorage.azure.com%2F.default") != NULL &&
		strcasestr(req, "\r\nContent-Type: application/x-www-form-urlencoded\r\n"))
		reply(fd, 200, body);
	else if (strncmp(req, "POST /flaky/", 12) == 0)
	{
		flaky++;
		reply(fd, flaky % 2 ? 503 : 200, flaky % 2 ? "{}" : body);
	}
	else if (strncmp(req, imds, strlen(imds)) == 0 &&
			 strcasestr(req, "\r\nMetadata: true\r\n") != NULL)
	{
		snprintf(body, sizeof(body),
				 "{\"access_token\":\"mi-%d\",\"expires_in\":\"3600\","
				 "\"expires_on\":\"1\",\"token_type\":\"Bearer\"}", *served);
		reply(fd, 200, body);
	}
	else
		reply(fd, 401, "{\"error\":\"invalid_client\",\"error_description\":"
			  "\"AADSTS7000215: Invalid client secret provided.\"}");
}

static pid_t
start_server(int *port)
{
	struct sockaddr_in sa;
	socklen_t	salen = sizeof(sa);
	int			lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t		pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) != 0 ||
		listen(lfd, 16) != 0 ||
		getsockname(lfd, (struct sockaddr *) &sa, &salen) != 0)
		return -1;
	*port = ntohs(sa.sin_port);
	pid = fork();
	if (pid == 0)
	{
		int			served = 0;

		for (;;)
		{
			int			fd = accept(lfd, NULL, NULL);

			if (fd < 0)
				_exit(0);
			serve_one(fd, &served);
			close(fd);
		}
	}
	close(lfd);
	return pid;
}

static void
test_cache(void)
{
	int			port;
	pid_t		pid = start_server(&port);
	char		base[64];
	AzureTokenConfig cfg;
	AzureTokenConfig mi;
	char	   *t1 = NULL;
	char	   *t2 = NULL;
	TelemError	err;
	int64_t		n0;

	CHECK(pid > 0, "token server started");
	if (pid <= 0)
		return;
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/", port);

	memset(&cfg, 0, sizeof(cfg));
	cfg.kind = AZURE_TOKEN_CLIENT_SECRET;
	cfg.authority_host = base;
	cfg.tenant_id = "life2";
	cfg.client_id = "app 1";
	cfg.client_secret = secret;
	cfg.verify_tls = true;
	cfg.max_retries = 2;
	memset(&err, 0, sizeof(err));

	n0 = AzureTokenFetchCount();
	CHECK(AzureTokenGet(&cfg, &t1, &err), "first token: %s", err.message);
	CHECK(AzureTokenGet(&cfg, &t2, &err), "second token: %s", err.message);
	CHECK(t1 != NULL && t2 != NULL && strcmp(t1, t2) == 0,
		  "second comes from the cache");
	CHECK(AzureTokenFetchCount() == n0 + 1, "one fetch, got %lld",
		  (long long) (AzureTokenFetchCount() - n0));
	AzureTokenFree(t2);
	t2 = NULL;

	/* a 2 s token is refreshed once less than 1 s is left */
	sleep(2);
	CHECK(AzureTokenGet(&cfg, &t2, &err), "token after 2 s: %s", err.message);
	CHECK(t1 != NULL && t2 != NULL && strcmp(t1, t2) != 0, "refreshed");
	CHECK(AzureTokenFetchCount() == n0 + 2, "two fetches");
	AzureTokenFree(t1);
	AzureTokenFree(t2);
	t1 = t2 = NULL;

	/* a different secret is a different cache entry, and is refused */
	cfg.client_secret = "wrong";
	CHECK(!AzureTokenGet(&cfg, &t1, &err), "wrong secret is refused");
	CHECK(err.kind == TELEM_ERR_AUTH && err.http_status == 401,
		  "refusal is TELEM_ERR_AUTH/401: %d %ld", (int) err.kind,
		  err.http_status);
	CHECK(strcmp(err.code, "invalid_client") == 0, "code %s", err.code);
	CHECK(strstr(err.message, "AADSTS7000215") != NULL &&
		  strstr(err.message, "invalid_client") != NULL,
		  "message has error and description: %s", err.message);
	CHECK(strstr(err.message, "wrong") == NULL &&
		  strstr(err.message, "tok-") == NULL, "no secret or token: %s",
		  err.message);
	CHECK(t1 == NULL, "no token on failure");

	/* a 503 is retried */
	cfg.client_secret = secret;
	cfg.tenant_id = "flaky";
	CHECK(AzureTokenGet(&cfg, &t1, &err), "retried past a 503: %s",
		  err.message);
	AzureTokenFree(t1);
	t1 = NULL;
	cfg.max_retries = 0;
	cfg.connect_timeout_ms = 1;		/* another cache key */
	CHECK(!AzureTokenGet(&cfg, &t1, &err) && err.http_status == 503,
		  "no retries: the 503 stands (%ld)", err.http_status);

	/* managed identity: Metadata header, client_id, string numbers */
	memset(&mi, 0, sizeof(mi));
	mi.kind = AZURE_TOKEN_MANAGED_IDENTITY;
	mi.imds_endpoint = base;
	mi.client_id = "mi-1";
	mi.verify_tls = true;
	n0 = AzureTokenFetchCount();
	CHECK(AzureTokenGet(&mi, &t1, &err), "managed identity: %s", err.message);
	CHECK(t1 != NULL && strncmp(t1, "mi-", 3) == 0, "IMDS token");
	CHECK(AzureTokenGet(&mi, &t2, &err) && strcmp(t1, t2) == 0,
		  "IMDS token cached");
	CHECK(AzureTokenFetchCount() == n0 + 1, "one IMDS fetch");
	AzureTokenFree(t1);
	AzureTokenFree(t2);
	t1 = t2 = NULL;

	mi.client_id = "other";
	CHECK(!AzureTokenGet(&mi, &t1, &err) && err.kind == TELEM_ERR_AUTH,
		  "unknown identity is refused: %s", err.message);

	/* clearing the cache forces a fetch */
	mi.client_id = "mi-1";
	AzureTokenCacheClear();
	n0 = AzureTokenFetchCount();
	CHECK(AzureTokenGet(&mi, &t1, &err) && AzureTokenFetchCount() == n0 + 1,
		  "fetched again after clear");
	AzureTokenFree(t1);

	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);

	/* the endpoint is gone now: a network error naming it */
	AzureTokenCacheClear();
	t1 = NULL;
	CHECK(!AzureTokenGet(&mi, &t1, &err) && err.kind == TELEM_ERR_NETWORK,
		  "unreachable endpoint: %d %s", (int) err.kind, err.message);
	CHECK(strstr(err.message, "/metadata/identity/oauth2/token\"") != NULL,
		  "message names the endpoint: %s", err.message);
	AzureTokenCacheClear();
}

int
main(void)
{
	test_parse();
	test_parse_bad();
	test_needs_refresh();
	test_config();
	test_cache();
	return unit_finish("test_azure_token");
}
