/*-------------------------------------------------------------------------
 *
 * store_glue.c
 *		Open a store from a table's options and credentials, and turn store
 *		errors into ereport()s.
 *
 * This is the one place where a TelemError becomes a SQLSTATE, and where
 * secrets are read: from the user mapping, else (S3 only) the AWS_*
 * variables of the server's environment.  Secrets are never put in a
 * message.
 *
 * IDENTIFICATION
 *		src/store_glue.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "utils/syscache.h"

#include "store/azure_token.h"
#include "telem_fdw.h"

/*
 * Base URLs of the Entra ID token endpoints (telem_fdw.azure_authority_host,
 * telem_fdw.azure_imds_endpoint): superuser-only settings, since whoever
 * sets them receives client secrets.
 */
char	   *telem_azure_authority_host = NULL;
char	   *telem_azure_imds_endpoint = NULL;

/* Per-connection read buffer held by an S3 reader. */
#define S3_BUFFER_SIZE		(1024 * 1024)

/*
 * TelemInterruptHook
 *		Tells the plain-C layers to stop waiting: a cancel or terminate is
 *		pending.  The caller then runs CHECK_FOR_INTERRUPTS().
 */
bool
TelemInterruptHook(void)
{
	return QueryCancelPending || ProcDiePending;
}

/*
 * TelemReportStoreError
 *		Raise err as an ERROR.  'what' is the action ("list", "read"), url
 *		the object or prefix it was done on.
 */
void
TelemReportStoreError(const TelemError *err, const char *what, const char *url)
{
	int			sqlstate;
	const char *detail;
	const char *p;

	switch (err->kind)
	{
		case TELEM_ERR_CANCELED:
			CHECK_FOR_INTERRUPTS();
			/* the pending interrupt was not a cancel after all */
			sqlstate = ERRCODE_QUERY_CANCELED;
			break;
		case TELEM_ERR_CONFIG:
			sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case TELEM_ERR_AUTH:
			sqlstate = ERRCODE_INSUFFICIENT_PRIVILEGE;
			break;
		case TELEM_ERR_NOT_FOUND:
			sqlstate = ERRCODE_UNDEFINED_FILE;
			break;
		case TELEM_ERR_NETWORK:
			sqlstate = ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION;
			break;
		case TELEM_ERR_DATA:
			sqlstate = ERRCODE_DATA_CORRUPTED;
			break;
		case TELEM_ERR_IO:
			sqlstate = ERRCODE_IO_ERROR;
			break;
		case TELEM_ERR_OUT_OF_MEMORY:
			sqlstate = ERRCODE_OUT_OF_MEMORY;
			break;
		case TELEM_ERR_PROTOCOL:
		default:
			sqlstate = ERRCODE_FDW_ERROR;
			break;
	}

	/*
	 * The store's messages name the object for tools that use the store on
	 * its own ("could not read s3://b/k: ..."); errmsg names it already.
	 */
	detail = err->message;
	if ((p = strstr(detail, url)) != NULL && p - detail < 32 &&
		strncmp(p + strlen(url), ": ", 2) == 0)
		detail = p + strlen(url) + 2;
	else if ((p = strstr(detail, "://")) != NULL && p - detail < 32 &&
			 strchr(url, ':') != NULL && (p = strstr(p, ": ")) != NULL)
	{
		/* the store names the object its own way (az://container/key) */
		detail = p + 2;
	}

	if (err->code[0] != '\0')
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("could not %s \"%s\": %s", what, url, err->code),
				 errdetail_internal("%s", detail)));
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("could not %s \"%s\"", what, url),
			 errdetail_internal("%s", detail)));
}

/*
 * TelemObjectUrl
 *		The name users know an object by: s3://bucket/key or a local path.
 */
char *
TelemObjectUrl(const TelemOptions *opts, const char *key)
{
	if (opts->url_base != NULL && opts->url_base[0] != '\0')
		return psprintf("%s%s", opts->url_base, key);
	return pstrdup(key);
}

/* Find option 'name' in a user mapping's option list, or NULL. */
static char *mapping_option(List *options, const char *name);

/* Refuse a user-mapping option that belongs to another provider. */
static void
check_mapping_options(List *options, const char *server_name,
					  const char *const *foreign, const char *provider)
{
	int			i;

	for (i = 0; foreign[i] != NULL; i++)
		if (mapping_option(options, foreign[i]) != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"%s\" of the user mapping is not valid for server \"%s\"",
							foreign[i], server_name),
					 errhint("Server \"%s\" has provider \"%s\".",
							 server_name, provider)));
}

static const char *const azure_mapping_options[] = {
	OPT_ACCOUNT_KEY, OPT_SAS_TOKEN, OPT_TENANT_ID, OPT_CLIENT_ID,
	OPT_CLIENT_SECRET, OPT_CREDENTIAL_SOURCE, NULL
};
static const char *const s3_mapping_options[] = {
	OPT_ACCESS_KEY_ID, OPT_SECRET_ACCESS_KEY, OPT_SESSION_TOKEN, NULL
};


static char *
mapping_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, name) == 0)
			return defGetString(def);
	}
	return NULL;
}

/* Whether GetUserMapping would find a mapping (the user's or PUBLIC's). */
static bool
has_user_mapping(Oid userid, Oid serverid)
{
	Oid			users[2] = {userid, InvalidOid};
	int			i;

	for (i = 0; i < 2; i++)
	{
		HeapTuple	tp = SearchSysCache2(USERMAPPINGUSERSERVER,
										 ObjectIdGetDatum(users[i]),
										 ObjectIdGetDatum(serverid));

		if (HeapTupleIsValid(tp))
		{
			ReleaseSysCache(tp);
			return true;
		}
	}
	return false;
}

/*
 * Credentials for an S3 server: the user mapping's, else the standard AWS
 * variables of the server process's environment.
 */
static void
s3_credentials(const TelemOptions *opts, Oid userid, S3Config *cfg)
{
	ForeignServer *server = GetForeignServerByName(opts->server_name, false);
	UserMapping *um = NULL;

	/* A missing user mapping is fine: the environment may have keys. */
	if (has_user_mapping(userid, server->serverid))
		um = GetUserMapping(userid, server->serverid);
	if (um != NULL)
	{
		check_mapping_options(um->options, opts->server_name,
							  azure_mapping_options, "s3");
		cfg->access_key_id = mapping_option(um->options, OPT_ACCESS_KEY_ID);
		cfg->secret_access_key = mapping_option(um->options, OPT_SECRET_ACCESS_KEY);
		cfg->session_token = mapping_option(um->options, OPT_SESSION_TOKEN);
	}
	if (cfg->access_key_id == NULL && cfg->secret_access_key == NULL)
	{
		cfg->access_key_id = getenv("AWS_ACCESS_KEY_ID");
		cfg->secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
		cfg->session_token = getenv("AWS_SESSION_TOKEN");
	}
	if (cfg->access_key_id == NULL || cfg->secret_access_key == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("no S3 credentials for server \"%s\"", opts->server_name),
				 errhint("Create a user mapping with options \"%s\" and \"%s\", "
						 "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
						 "in the server's environment.",
						 OPT_ACCESS_KEY_ID, OPT_SECRET_ACCESS_KEY)));
}

/*
 * Credentials for an Azure server, from the user mapping only: an account
 * key, a SAS token, Entra ID client credentials, or the managed identity.
 * A mapping without any of them means anonymous access (a public
 * container); no mapping at all is an error, so that a forgotten mapping
 * does not quietly turn into anonymous requests.  tok is filled for the
 * Entra ID kinds.
 */
static void
azure_credentials(const TelemOptions *opts, Oid userid, AzureConfig *cfg,
				  AzureTokenConfig *tok)
{
	ForeignServer *server = GetForeignServerByName(opts->server_name, false);
	UserMapping *um;
	char	   *source;

	if (!has_user_mapping(userid, server->serverid))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("no Azure credentials for server \"%s\"", opts->server_name),
				 errhint("Create a user mapping with \"%s\", \"%s\", \"%s\" + \"%s\" + \"%s\", "
						 "or \"%s\" 'managed_identity'; an empty one for a public container.",
						 OPT_ACCOUNT_KEY, OPT_SAS_TOKEN, OPT_TENANT_ID, OPT_CLIENT_ID,
						 OPT_CLIENT_SECRET, OPT_CREDENTIAL_SOURCE)));
	um = GetUserMapping(userid, server->serverid);
	check_mapping_options(um->options, opts->server_name, s3_mapping_options,
						  "azure");

	cfg->account_key = mapping_option(um->options, OPT_ACCOUNT_KEY);
	cfg->sas_token = mapping_option(um->options, OPT_SAS_TOKEN);
	source = mapping_option(um->options, OPT_CREDENTIAL_SOURCE);
	memset(tok, 0, sizeof(*tok));
	tok->authority_host = telem_azure_authority_host != NULL &&
		telem_azure_authority_host[0] != '\0' ? telem_azure_authority_host : NULL;
	tok->imds_endpoint = telem_azure_imds_endpoint != NULL &&
		telem_azure_imds_endpoint[0] != '\0' ? telem_azure_imds_endpoint : NULL;
	tok->tenant_id = mapping_option(um->options, OPT_TENANT_ID);
	tok->client_id = mapping_option(um->options, OPT_CLIENT_ID);
	tok->client_secret = mapping_option(um->options, OPT_CLIENT_SECRET);
	tok->resource = NULL;
	tok->ca_file = opts->ca_file;
	tok->verify_tls = true;
	tok->connect_timeout_ms = opts->connect_timeout * 1000L;
	tok->max_retries = opts->max_retries;

	if (cfg->account_key != NULL)
		cfg->auth = AZURE_AUTH_SHARED_KEY;
	else if (cfg->sas_token != NULL)
		cfg->auth = AZURE_AUTH_SAS;
	else if (tok->client_secret != NULL)
	{
		cfg->auth = AZURE_AUTH_BEARER;
		tok->kind = AZURE_TOKEN_CLIENT_SECRET;
		cfg->token = tok;
	}
	else if (source != NULL)
	{
		cfg->auth = AZURE_AUTH_BEARER;
		tok->kind = AZURE_TOKEN_MANAGED_IDENTITY;
		cfg->token = tok;
	}
	else
		cfg->auth = AZURE_AUTH_ANONYMOUS;
}

/*
 * TelemOpenStore
 *		A store for the table's provider, authenticated as userid.  The
 *		caller owns the result and must destroy it (the scan does so from a
 *		memory-context reset callback).
 */
TelemStore *
TelemOpenStore(const TelemOptions *opts, Oid userid)
{
	TelemError	err;
	TelemStore *store;

	memset(&err, 0, sizeof(err));
	if (opts->provider == PROVIDER_FILE)
		store = FileStoreCreate(&err);
	else if (opts->provider == PROVIDER_AZURE)
	{
		AzureConfig cfg;
		AzureTokenConfig tok;

		memset(&cfg, 0, sizeof(cfg));
		cfg.account = opts->location_account != NULL ?
			opts->location_account : opts->account;
		cfg.container = opts->bucket;
		/* the server's endpoint (an emulator) wins over the location's host */
		cfg.endpoint = opts->endpoint != NULL ? opts->endpoint :
			opts->location_endpoint;
		cfg.ca_file = opts->ca_file;
		cfg.verify_tls = true;
		cfg.page_size = opts->page_size;
		cfg.max_retries = opts->max_retries;
		cfg.connect_timeout_ms = opts->connect_timeout * 1000L;
		cfg.buffer_size = S3_BUFFER_SIZE;
		azure_credentials(opts, userid, &cfg, &tok);
		store = AzureStoreCreate(&cfg, &err);
	}
	else
	{
		S3Config	cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.bucket = opts->bucket;
		cfg.region = opts->region;
		cfg.endpoint = opts->endpoint;
		cfg.path_style = opts->path_style;
		cfg.ca_file = opts->ca_file;
		cfg.verify_tls = true;
		cfg.page_size = opts->page_size;
		cfg.max_retries = opts->max_retries;
		cfg.connect_timeout_ms = opts->connect_timeout * 1000L;
		cfg.buffer_size = S3_BUFFER_SIZE;
		s3_credentials(opts, userid, &cfg);
		store = S3StoreCreate(&cfg, &err);
	}
	if (store == NULL)
		TelemReportStoreError(&err, "connect to", opts->location);
	return store;
}
