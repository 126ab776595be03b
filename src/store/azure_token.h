/*-------------------------------------------------------------------------
 *
 * azure_token.h
 *		Microsoft Entra ID access tokens for Azure Storage: client
 *		credentials and managed identity, cached per process.
 *
 * A backend asks for a token before every request; the cache answers from
 * memory while the token has more than a refresh margin of its lifetime
 * left (half its lifetime, at most 5 minutes), and fetches a new one
 * otherwise.  So a long transfer keeps working across expiry, and a
 * short-lived token (as the test token service issues) is refreshed as
 * often as it must be and no more.
 *
 * Tokens and client secrets never go into an error message; our copies
 * are wiped before they are freed.  Plain C, no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/azure_token.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_AZURE_TOKEN_H
#define TELEM_AZURE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef enum AzureTokenKind
{
	AZURE_TOKEN_CLIENT_SECRET,	/* tenant_id + client_id + client_secret */
	AZURE_TOKEN_MANAGED_IDENTITY	/* the IMDS endpoint; client_id optional */
} AzureTokenKind;

typedef struct AzureTokenConfig
{
	AzureTokenKind kind;

	/*
	 * Base URLs of the token endpoints, without a trailing path:
	 * authority_host for client credentials (POST
	 * AUTHORITY/TENANT/oauth2/v2.0/token), imds_endpoint for managed
	 * identity (GET IMDS/metadata/identity/oauth2/token).  NULL means
	 * Azure's public cloud defaults.
	 */
	const char *authority_host;
	const char *imds_endpoint;
	const char *tenant_id;
	const char *client_id;		/* managed identity: user-assigned, or NULL */
	const char *client_secret;
	const char *resource;		/* NULL = "https://storage.azure.com" */
	const char *ca_file;		/* for the token endpoint; NULL = system */
	bool		verify_tls;
	long		connect_timeout_ms;
	int			max_retries;
} AzureTokenConfig;

#define AZURE_DEFAULT_AUTHORITY_HOST	"https://login.microsoftonline.com"
#define AZURE_DEFAULT_IMDS_ENDPOINT		"http://169.254.169.254"
#define AZURE_DEFAULT_RESOURCE			"https://storage.azure.com"

/*
 * A deep copy of cfg (malloc'd; NULL when out of memory), and its release,
 * which wipes the secret.
 */
extern AzureTokenConfig *AzureTokenConfigCopy(const AzureTokenConfig *cfg);
extern void AzureTokenConfigFree(AzureTokenConfig *cfg);

/*
 * The current access token for cfg, malloc'd into *token (the caller wipes
 * and frees it with AzureTokenFree).  From the cache while fresh, else
 * fetched.  false with err set (TELEM_ERR_AUTH when the endpoint refused,
 * TELEM_ERR_NETWORK when it could not be reached) on failure.
 */
extern bool AzureTokenGet(const AzureTokenConfig *cfg, char **token,
						  TelemError *err);
extern void AzureTokenFree(char *token);

/*
 * Parse a token endpoint's JSON reply: access_token, and expires_in
 * (number or numeric string) or else expires_on (epoch seconds).  now is
 * the current time; *expires_at gets the absolute expiry.  false with err
 * set (TELEM_ERR_PROTOCOL) if the reply lacks them.  Exposed for tests.
 */
extern bool AzureTokenParse(const char *body, size_t len, int64_t now,
							char **token, int64_t *expires_at,
							TelemError *err);

/*
 * The cache's refresh rule: should a token fetched at fetched_at that
 * expires at expires_at (epoch seconds) be replaced at now?  True when
 * less than min(lifetime / 2, 300 s), but at least 1 s, of it is left,
 * when it has no lifetime, or when the clock went back past fetched_at.
 * Pure; exposed for tests.
 */
extern bool AzureTokenNeedsRefresh(int64_t fetched_at, int64_t expires_at,
								   int64_t now);

/* Forget every cached token (wiping them). */
extern void AzureTokenCacheClear(void);

/* How many tokens this process has fetched, for tests. */
extern int64_t AzureTokenFetchCount(void);

#endif							/* TELEM_AZURE_TOKEN_H */
