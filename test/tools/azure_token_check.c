/*-------------------------------------------------------------------------
 *
 * azure_token_check.c
 *		CLI over azure_token.h: get a token several times, count fetches.
 *
 *	  azure_token_check [options] client|mi
 *		  gets a token --gets times (default 2), --interval-ms apart, and
 *		  prints one line per get:
 *			"get=I fetches=N lifetime=S token=FINGERPRINT"
 *		  where fetches is AzureTokenFetchCount() so far, lifetime the
 *		  seconds the token had left when it was handed out (from its JWT
 *		  "exp", -1 if it is no JWT) and FINGERPRINT the first 12 hex
 *		  digits of its SHA-256 (a change means a new token).
 *
 * On failure prints "error kind=TELEM_ERR_X status=S code=C: message" to
 * stdout and exits 2 (1 for usage errors).  The harness uses it against
 * test/harness/token_service.py.  The client secret is read from the
 * environment only ($TELEM_AZURE_CLIENT_SECRET), never from the command
 * line, where any local user could see it; --token-file writes the last
 * token to a file of mode 0600, for a curl check.
 *
 * IDENTIFICATION
 *		test/tools/azure_token_check.c
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "store/azure_token.h"
#include "tool_common.h"

static void
usage(void)
{
	fprintf(stderr,
			"usage: azure_token_check [options] client|mi\n"
			"options:\n"
			"  --authority URL     default $TELEM_TOKEN_ENDPOINT\n"
			"  --imds URL          default $TELEM_TOKEN_ENDPOINT\n"
			"  --tenant T          default $TELEM_AZURE_TENANT_ID\n"
			"  --client-id ID      client: default $TELEM_AZURE_CLIENT_ID;\n"
			"                      mi: a user-assigned identity (default none);\n"
			"                      the secret is always $TELEM_AZURE_CLIENT_SECRET\n"
			"  --resource R        default https://storage.azure.com\n"
			"  --gets N            default 2\n"
			"  --interval-ms MS    pause between gets (default 0)\n"
			"  --max-retries N     default 2\n"
			"  --ca-file F         CA bundle for an https token endpoint\n"
			"  --token-file F      write the last token to F (mode 0600)\n");
}

/* Seconds from now to the "exp" claim of a JWT, or -1. */
static long
jwt_seconds_left(const char *token)
{
	const char *p = strchr(token, '.');
	const char *q = p != NULL ? strchr(p + 1, '.') : NULL;
	unsigned char json[4096];
	char		b64[5464];
	size_t		n;
	int			len;
	const char *exp;

	if (q == NULL || (size_t) (q - p - 1) + 4 >= sizeof(b64))
		return -1;
	n = (size_t) (q - p - 1);
	memcpy(b64, p + 1, n);
	/* base64url to base64, padded */
	for (size_t i = 0; i < n; i++)
		b64[i] = b64[i] == '-' ? '+' : b64[i] == '_' ? '/' : b64[i];
	while (n % 4 != 0)
		b64[n++] = '=';
	len = EVP_DecodeBlock(json, (unsigned char *) b64, (int) n);
	if (len <= 0 || (size_t) len >= sizeof(json))
		return -1;
	json[len] = '\0';
	exp = strstr((char *) json, "\"exp\":");
	if (exp == NULL)
		return -1;
	return strtol(exp + 6, NULL, 10) - (long) time(NULL);
}

static void
fingerprint(const char *token, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 6; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"authority", required_argument, NULL, 'a'},
		{"imds", required_argument, NULL, 'i'},
		{"tenant", required_argument, NULL, 't'},
		{"client-id", required_argument, NULL, 'c'},
		{"resource", required_argument, NULL, 'r'},
		{"gets", required_argument, NULL, 'g'},
		{"interval-ms", required_argument, NULL, 'w'},
		{"max-retries", required_argument, NULL, 'm'},
		{"ca-file", required_argument, NULL, 'C'},
		{"token-file", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0}
	};
	AzureTokenConfig cfg;
	TelemError	err;
	const char *client_id = NULL;
	const char *token_file = NULL;
	int			gets = 2;
	long		interval_ms = 0;
	int			c;
	int			i;

	memset(&cfg, 0, sizeof(cfg));
	memset(&err, 0, sizeof(err));
	cfg.authority_host = getenv("TELEM_TOKEN_ENDPOINT");
	cfg.imds_endpoint = getenv("TELEM_TOKEN_ENDPOINT");
	cfg.tenant_id = getenv("TELEM_AZURE_TENANT_ID");
	cfg.client_secret = getenv("TELEM_AZURE_CLIENT_SECRET");
	cfg.verify_tls = true;
	cfg.connect_timeout_ms = 5000;
	cfg.max_retries = 2;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'a':
				cfg.authority_host = optarg;
				break;
			case 'i':
				cfg.imds_endpoint = optarg;
				break;
			case 't':
				cfg.tenant_id = optarg;
				break;
			case 'c':
				client_id = optarg;
				break;
			case 'r':
				cfg.resource = optarg;
				break;
			case 'g':
				gets = atoi(optarg);
				break;
			case 'w':
				interval_ms = atol(optarg);
				break;
			case 'm':
				cfg.max_retries = atoi(optarg);
				break;
			case 'C':
				cfg.ca_file = optarg;
				break;
			case 'f':
				token_file = optarg;
				break;
			default:
				usage();
				return 1;
		}
	}
	if (optind + 1 != argc || gets < 1)
	{
		usage();
		return 1;
	}
	if (strcmp(argv[optind], "client") == 0)
	{
		cfg.kind = AZURE_TOKEN_CLIENT_SECRET;
		cfg.client_id = client_id != NULL ? client_id :
			getenv("TELEM_AZURE_CLIENT_ID");
	}
	else if (strcmp(argv[optind], "mi") == 0)
	{
		cfg.kind = AZURE_TOKEN_MANAGED_IDENTITY;
		cfg.client_id = client_id;
		cfg.client_secret = NULL;
	}
	else
	{
		usage();
		return 1;
	}

	for (i = 1; i <= gets; i++)
	{
		char	   *token = NULL;
		char		fp[13];

		if (i > 1 && interval_ms > 0)
		{
			struct timespec ts = {interval_ms / 1000,
			(interval_ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
		}
		if (!AzureTokenGet(&cfg, &token, &err))
		{
			AzureTokenCacheClear();
			return ToolFail(&err);
		}
		fingerprint(token, fp);
		printf("get=%d fetches=%lld lifetime=%ld token=%s\n", i,
			   (long long) AzureTokenFetchCount(), jwt_seconds_left(token), fp);
		fflush(stdout);
		if (i == gets && token_file != NULL)
		{
			int			fd = open(token_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			if (fd < 0 || write(fd, token, strlen(token)) < 0 || close(fd) != 0)
			{
				perror(token_file);
				AzureTokenFree(token);
				AzureTokenCacheClear();
				return 2;
			}
		}
		AzureTokenFree(token);
	}
	AzureTokenCacheClear();
	return 0;
}
