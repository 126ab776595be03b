/*-------------------------------------------------------------------------
 *
 * option.c
 *		The option table, the validator, and option lookup for scans.
 *
 * Every option telem_fdw knows is one row of telem_options[].  The
 * validator checks names against the object an option is set on, values
 * against their domain, and the privileges an option needs; scans read
 * the options back through TelemGetOptions().
 *
 * IDENTIFICATION
 *		src/option.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/reloptions.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_foreign_data_wrapper.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_foreign_table.h"
#include "catalog/pg_user_mapping.h"
#include "commands/copy.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/varlena.h"

#include "plan/key_glob.h"
#include "telem_fdw.h"

/* Who may set an option beyond owning the object. */
typedef enum OptionPrivilege
{
	PRIV_NONE,
	PRIV_SUPERUSER,				/* reaches arbitrary endpoints or files */
	PRIV_READ_SERVER_FILES		/* reads the server's file system */
} OptionPrivilege;

typedef struct TelemOptionDef
{
	const char *name;
	Oid			context;		/* catalog the option may appear in */
	bool		required;
	bool		secret;			/* only ever on a user mapping */
	OptionPrivilege privilege;
} TelemOptionDef;

static const TelemOptionDef telem_options[] = {
	/* server */
	{OPT_PROVIDER, ForeignServerRelationId, true, false, PRIV_NONE},
	{OPT_REGION, ForeignServerRelationId, false, false, PRIV_NONE},
	{OPT_ENDPOINT, ForeignServerRelationId, false, false, PRIV_SUPERUSER},
	{OPT_URL_STYLE, ForeignServerRelationId, false, false, PRIV_NONE},
	{OPT_CA_FILE, ForeignServerRelationId, false, false, PRIV_SUPERUSER},
	{OPT_PAGE_SIZE, ForeignServerRelationId, false, false, PRIV_NONE},
	{OPT_MAX_RETRIES, ForeignServerRelationId, false, false, PRIV_NONE},
	{OPT_CONNECT_TIMEOUT, ForeignServerRelationId, false, false, PRIV_NONE},
	{OPT_ACCOUNT, ForeignServerRelationId, false, false, PRIV_NONE},

	/* user mapping: s3 */
	{OPT_ACCESS_KEY_ID, UserMappingRelationId, false, true, PRIV_NONE},
	{OPT_SECRET_ACCESS_KEY, UserMappingRelationId, false, true, PRIV_NONE},
	{OPT_SESSION_TOKEN, UserMappingRelationId, false, true, PRIV_NONE},
	/* user mapping: azure */
	{OPT_ACCOUNT_KEY, UserMappingRelationId, false, true, PRIV_NONE},
	{OPT_SAS_TOKEN, UserMappingRelationId, false, true, PRIV_NONE},
	{OPT_TENANT_ID, UserMappingRelationId, false, false, PRIV_NONE},
	{OPT_CLIENT_ID, UserMappingRelationId, false, false, PRIV_NONE},
	{OPT_CLIENT_SECRET, UserMappingRelationId, false, true, PRIV_NONE},
	{OPT_CREDENTIAL_SOURCE, UserMappingRelationId, false, false, PRIV_NONE},

	/* foreign table */
	{OPT_LOCATION, ForeignTableRelationId, true, false, PRIV_NONE},
	{OPT_FORMAT, ForeignTableRelationId, true, false, PRIV_NONE},
	{OPT_COMPRESSION, ForeignTableRelationId, false, false, PRIV_NONE},
	{OPT_MAX_LINE_SIZE, ForeignTableRelationId, false, false, PRIV_NONE},
	{OPT_HEADER, ForeignTableRelationId, false, false, PRIV_NONE},
	{OPT_DELIMITER, ForeignTableRelationId, false, false, PRIV_NONE},
	{OPT_QUOTE, ForeignTableRelationId, false, false, PRIV_NONE},
	{OPT_ESCAPE, ForeignTableRelationId, false, false, PRIV_NONE},
	{OPT_NULL, ForeignTableRelationId, false, false, PRIV_NONE},
	{OPT_ENCODING, ForeignTableRelationId, false, false, PRIV_NONE},

	/* column */
	{OPT_JSON_PATH, AttributeRelationId, false, false, PRIV_NONE},
	{OPT_METADATA, AttributeRelationId, false, false, PRIV_NONE},
	{OPT_PARTITION, AttributeRelationId, false, false, PRIV_NONE},
	{OPT_EPOCH, AttributeRelationId, false, false, PRIV_NONE},
	{OPT_PATH, AttributeRelationId, false, false, PRIV_NONE},

	{NULL, InvalidOid, false, false, PRIV_NONE}
};

/* A local location needs what file_fdw's filename needs. */
static const TelemOptionDef local_location_def =
{OPT_LOCATION, ForeignTableRelationId, true, false, PRIV_READ_SERVER_FILES};

/* Table options passed through to COPY for the csv and text formats. */
static const char *const copy_option_names[] = {
	OPT_HEADER, OPT_DELIMITER, OPT_QUOTE, OPT_ESCAPE, OPT_NULL, OPT_ENCODING,
	NULL
};

/* metadata column names and what they fill */
static const struct
{
	const char *name;
	TelemColumnKind kind;
}			metadata_names[] = {
	{"key", COLUMN_META_KEY},
	{"size", COLUMN_META_SIZE},
	{"etag", COLUMN_META_ETAG},
	{"last_modified", COLUMN_META_LAST_MODIFIED},
	{"line_number", COLUMN_META_LINE_NUMBER},
	{NULL, COLUMN_DATA}
};

#define DEFAULT_MAX_RETRIES		5
#define DEFAULT_CONNECT_TIMEOUT 30

static const char *
context_name(Oid context)
{
	switch (context)
	{
		case ForeignDataWrapperRelationId:
			return "foreign-data wrapper";
		case ForeignServerRelationId:
			return "server";
		case UserMappingRelationId:
			return "user mapping";
		case ForeignTableRelationId:
			return "foreign table";
		case AttributeRelationId:
			return "column";
	}
	return "object";
}

static const TelemOptionDef *
find_option(const char *name)
{
	const TelemOptionDef *def;

	for (def = telem_options; def->name; def++)
		if (strcmp(def->name, name) == 0)
			return def;
	return NULL;
}

/*
 * Report an option that is not valid in 'context', with a hint naming the
 * closest valid option or, failing that, every valid one.
 */
static void
report_unknown_option(const char *name, Oid context)
{
	const TelemOptionDef *def;
	const TelemOptionDef *known = find_option(name);
	const char *closest = NULL;
	int			best = INT_MAX;
	StringInfoData valid;

	if (known && known->secret)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"%s\" is only valid on a user mapping", name),
				 errhint("Secrets are accepted on a user mapping only, so that "
						 "they never show in table or server definitions.")));

	initStringInfo(&valid);
	for (def = telem_options; def->name; def++)
	{
		int			dist;

		if (def->context != context)
			continue;
		appendStringInfo(&valid, "%s%s", valid.len ? ", " : "", def->name);
		dist = varstr_levenshtein(name, strlen(name), def->name,
								  strlen(def->name), 1, 1, 1, false);
		if (dist < best)
		{
			best = dist;
			closest = def->name;
		}
	}

	if (closest && best <= (int) Max(2, strlen(name) / 3))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\" for a %s", name,
						context_name(context)),
				 errhint("Perhaps you meant the option \"%s\".", closest)));
	else if (valid.len > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\" for a %s", name,
						context_name(context)),
				 errhint("Valid options in this context are: %s.", valid.data)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\" for a %s", name,
						context_name(context)),
				 errhint("A %s of telem_fdw takes no options.",
						 context_name(context))));
}

static void
check_privilege(const TelemOptionDef *def)
{
	if (def->privilege == PRIV_SUPERUSER && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("only superusers may set option \"%s\"", def->name),
				 errdetail("The option makes the server contact an address or "
						   "read a file of the administrator's choosing.")));
	if (def->privilege == PRIV_READ_SERVER_FILES &&
		!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read local files through telem_fdw"),
				 errdetail("Only roles with privileges of the \"%s\" role may "
						   "create tables with a local location.",
						   "pg_read_server_files")));
}

/*
 * TelemParseIntOption
 *		Parse an integer option within [min, max], or report the range.
 */
int
TelemParseIntOption(DefElem *def, int min, int max)
{
	char	   *value = defGetString(def);
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v < min || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						def->defname, value),
				 errhint("Valid values are integers from %d to %d.", min, max)));
	return (int) v;
}

/* Match value against a NULL-terminated list of choices, or report them. */
static int
parse_choice(DefElem *def, const char *const *choices)
{
	char	   *value = defGetString(def);
	StringInfoData list;
	int			i;

	for (i = 0; choices[i]; i++)
		if (pg_strcasecmp(value, choices[i]) == 0)
			return i;

	initStringInfo(&list);
	for (i = 0; choices[i]; i++)
		appendStringInfo(&list, "%s\"%s\"", i ? ", " : "", choices[i]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\": \"%s\"",
					def->defname, value),
			 errhint("Valid values are %s.", list.data)));
	return -1;					/* keep compiler quiet */
}

/* in the order of TelemProvider */
static const char *const provider_choices[] = {"s3", "file", "azure", NULL};
static const char *const credential_source_choices[] = {"managed_identity", NULL};
static const char *const url_style_choices[] = {"path", "virtual", NULL};
static const char *const format_choices[] = {"jsonl", "csv", "text", "parquet", NULL};
static const char *const epoch_choices[] = {"seconds", "milliseconds", NULL};

/* Report a location that is not of any form we know. */
static void
bad_location(const char *location, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid location \"%s\"", location),
			 errhint("%s", hint)));
}

#define AZURE_LOCATION_HINT \
	"An Azure location looks like \"abfss://container@account.dfs.core.windows.net/prefix/\", " \
	"\"az://container/prefix/\" or \"https://account.blob.core.windows.net/container/prefix/\"."

/*
 * Is s a valid storage account or container name?  Both end up unencoded
 * in a host name or URL path, so only what Azure allows: lower-case
 * letters, digits and (containers) '-'.
 */
static bool
valid_azure_name(const char *s, size_t len, bool dash_ok)
{
	size_t		i;

	if (len < 3 || len > 63)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
			  (dash_ok && s[i] == '-')))
			return false;
	return true;
}

/*
 * Fill opts' location fields (location_provider, bucket, location_account,
 * location_endpoint, prefix, url_base) from opts->location:
 *	 s3://bucket/prefix
 *	 abfss://container@account.dfs.core.windows.net/prefix	(azure)
 *	 az://container/prefix									(azure)
 *	 https://account.blob.core.windows.net/container/prefix	(azure)
 *	 file:///path or /path									(file)
 */
static void
parse_location(TelemOptions *opts)
{
	const char *location = opts->location;

	opts->location_account = NULL;
	opts->location_endpoint = NULL;
	if (strncmp(location, "s3://", 5) == 0)
	{
		const char *b = location + 5;
		const char *slash = strchr(b, '/');
		size_t		blen = slash ? (size_t) (slash - b) : strlen(b);

		if (blen == 0)
			bad_location(location, "An S3 location looks like \"s3://bucket/prefix/\".");
		opts->location_provider = PROVIDER_S3;
		opts->bucket = pnstrdup(b, blen);
		opts->prefix = pstrdup(slash ? slash + 1 : "");
		opts->url_base = psprintf("s3://%s/", opts->bucket);
		return;
	}
	if (strncmp(location, "abfss://", 8) == 0 ||
		strncmp(location, "https://", 8) == 0)
	{
		bool		abfss = location[0] == 'a';
		const char *p = location + 8;
		const char *host_end = p + strcspn(p, "/");
		const char *at = abfss ? memchr(p, '@', host_end - p) : NULL;
		const char *host = at ? at + 1 : p;
		const char *dot = memchr(host, '.', host_end - host);
		const char *c;
		size_t		clen;
		char	   *hostname;

		if (abfss && at == NULL)
			bad_location(location, AZURE_LOCATION_HINT);
		if (dot == NULL || !valid_azure_name(host, dot - host, false))
			bad_location(location, "The storage account name must be 3 to 63 lower-case letters and digits.");
		opts->location_account = pnstrdup(host, dot - host);
		hostname = pnstrdup(host, host_end - host);
		if (abfss)
		{
			/* the container is before the '@'; reads use the Blob endpoint */
			c = p;
			clen = at - p;
			opts->prefix = pstrdup(*host_end == '/' ? host_end + 1 : "");
			if (strncmp(dot, ".dfs.", 5) == 0)
				opts->location_endpoint = psprintf("https://%s.blob.%s",
												   opts->location_account, dot + 5);
			else
				opts->location_endpoint = psprintf("https://%s", hostname);
		}
		else
		{
			c = *host_end == '/' ? host_end + 1 : host_end;
			clen = strcspn(c, "/");
			opts->prefix = pstrdup(c[clen] == '/' ? c + clen + 1 : "");
			opts->location_endpoint = psprintf("https://%s", hostname);
		}
		if (!valid_azure_name(c, clen, true))
			bad_location(location, "The container name must be 3 to 63 lower-case letters, digits and dashes.");
		opts->location_provider = PROVIDER_AZURE;
		opts->bucket = pnstrdup(c, clen);
		opts->url_base = pnstrdup(location, strlen(location) - strlen(opts->prefix));
		return;
	}
	if (strncmp(location, "az://", 5) == 0)
	{
		const char *c = location + 5;
		size_t		clen = strcspn(c, "/");

		if (!valid_azure_name(c, clen, true))
			bad_location(location, AZURE_LOCATION_HINT);
		opts->location_provider = PROVIDER_AZURE;
		opts->bucket = pnstrdup(c, clen);
		opts->prefix = pstrdup(c[clen] == '/' ? c + clen + 1 : "");
		opts->url_base = pnstrdup(location, strlen(location) - strlen(opts->prefix));
		return;
	}
	if (strncmp(location, "file://", 7) == 0)
		location += 7;
	if (location[0] == '/')
	{
		opts->location_provider = PROVIDER_FILE;
		opts->bucket = NULL;
		opts->prefix = pstrdup(location);
		opts->url_base = "";
		return;
	}
	bad_location(opts->location,
				 "Use \"s3://bucket/prefix/\", an Azure location such as "
				 "\"abfss://container@account.dfs.core.windows.net/prefix/\", or "
				 "an absolute path or \"file:///path/\" for a local directory.");
}

/*
 * A table's location may hold globs (*, **, ?, {a,b}) after the bucket or
 * container: the literal text before the first one is what is listed, and
 * listed keys are matched against the whole pattern.  A location ending in
 * '/' covers everything below, as without globs.
 */
static void
parse_location_glob(TelemOptions *opts)
{
	char		errbuf[128];
	char	   *literal;
	size_t		len = strlen(opts->prefix);

	opts->glob = NULL;
	if (!KeyGlobHasMeta(opts->prefix))
		return;
	if (!KeyGlobValidate(opts->prefix, errbuf, sizeof(errbuf)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid glob in location \"%s\": %s",
						opts->location, errbuf),
				 errhint("Globs are *, **, ? and {a,b}; write a literal one as \\*.")));
	opts->glob = len > 0 && opts->prefix[len - 1] == '/' ?
		psprintf("%s**", opts->prefix) : pstrdup(opts->prefix);
	literal = KeyGlobLiteralPrefix(opts->prefix);
	if (literal == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	opts->prefix = pstrdup(literal);
	free(literal);
}

/*
 * A Parquet path is field names joined by dots ("location.lat"): no empty
 * segment.
 */
static void
check_parquet_path(const char *path)
{
	size_t		len = strlen(path);

	if (len == 0 || path[0] == '.' || path[len - 1] == '.' ||
		strstr(path, "..") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", OPT_PATH, path),
				 errhint("A Parquet path names a field and the fields inside it, "
						 "joined by dots, such as \"location.lat\".")));
}

/*
 * Check a json_path by compiling it: the extractor's own parser is the one
 * authority on path syntax.
 */
static void
check_json_path(const char *path)
{
	char		errbuf[256];
	JsonlExtractor *ex;

	ex = JsonlExtractorCreate(JSONL_IMPL_SCAN, &path, 1, errbuf, sizeof(errbuf));
	if (ex == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"",
						OPT_JSON_PATH, path),
				 errdetail("%s", errbuf),
				 errhint("A path is member names separated by dots, such as "
						 "\"location.lat\"; write a literal dot as \"\\.\".")));
	JsonlExtractorFree(ex);
}

static TelemColumnKind
parse_metadata(DefElem *def)
{
	char	   *value = defGetString(def);
	StringInfoData list;
	int			i;

	for (i = 0; metadata_names[i].name; i++)
		if (strcmp(value, metadata_names[i].name) == 0)
			return metadata_names[i].kind;

	initStringInfo(&list);
	for (i = 0; metadata_names[i].name; i++)
		appendStringInfo(&list, "%s\"%s\"", i ? ", " : "", metadata_names[i].name);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\": \"%s\"",
					def->defname, value),
			 errhint("Valid values are %s.", list.data)));
	return COLUMN_DATA;			/* keep compiler quiet */
}

static bool
is_copy_option(const char *name)
{
	int			i;

	for (i = 0; copy_option_names[i]; i++)
		if (strcmp(copy_option_names[i], name) == 0)
			return true;
	return false;
}

/*
 * Check the values of one option list, and build the COPY option list of a
 * table.  Shared by the validator and TelemGetOptions so that both agree;
 * privileges are checked only when validating, since a table a privileged
 * role made may be read by anyone it grants SELECT to.
 */
static void
check_values(List *options, Oid context, TelemOptions *opts, bool validating)
{
	ListCell   *lc;
	DefElem    *format_def = NULL;
	DefElem    *metadata_def = NULL;
	DefElem    *json_path_def = NULL;
	DefElem    *path_def = NULL;
	DefElem    *compression_def = NULL;
	DefElem    *partition_def = NULL;
	DefElem    *epoch_def = NULL;
	DefElem    *credential_source_def = NULL;
	DefElem    *account_key_def = NULL;
	DefElem    *sas_def = NULL;
	DefElem    *client_secret_def = NULL;
	DefElem    *tenant_def = NULL;
	DefElem    *client_id_def = NULL;
	List	   *copy_options = NIL;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const char *name = def->defname;

		if (strcmp(name, OPT_PROVIDER) == 0)
			opts->provider = (TelemProvider) parse_choice(def, provider_choices);
		else if (strcmp(name, OPT_REGION) == 0)
			opts->region = defGetString(def);
		else if (strcmp(name, OPT_ENDPOINT) == 0)
		{
			char	   *v = defGetString(def);

			if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"", name, v),
						 errhint("An endpoint is a URL such as \"https://s3.example.com\" "
								 "or \"http://127.0.0.1:7480\".")));
			opts->endpoint = v;
		}
		else if (strcmp(name, OPT_URL_STYLE) == 0)
			opts->path_style = parse_choice(def, url_style_choices) == 0;
		else if (strcmp(name, OPT_CA_FILE) == 0)
		{
			opts->ca_file = defGetString(def);
			if (!is_absolute_path(opts->ca_file))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" must be an absolute path", name)));
		}
		else if (strcmp(name, OPT_PAGE_SIZE) == 0)
			opts->page_size = TelemParseIntOption(def, 1, 5000);
		else if (strcmp(name, OPT_ACCOUNT) == 0)
		{
			opts->account = defGetString(def);
			if (!valid_azure_name(opts->account, strlen(opts->account), false))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								name, opts->account),
						 errhint("A storage account name is 3 to 63 lower-case letters and digits.")));
		}
		else if (strcmp(name, OPT_CREDENTIAL_SOURCE) == 0)
		{
			credential_source_def = def;
			(void) parse_choice(def, credential_source_choices);
		}
		else if (strcmp(name, OPT_ACCOUNT_KEY) == 0 ||
				 strcmp(name, OPT_SAS_TOKEN) == 0 ||
				 strcmp(name, OPT_CLIENT_SECRET) == 0 ||
				 strcmp(name, OPT_TENANT_ID) == 0 ||
				 strcmp(name, OPT_CLIENT_ID) == 0)
		{
			if (strcmp(name, OPT_ACCOUNT_KEY) == 0)
				account_key_def = def;
			else if (strcmp(name, OPT_SAS_TOKEN) == 0)
				sas_def = def;
			else if (strcmp(name, OPT_CLIENT_SECRET) == 0)
				client_secret_def = def;
			else if (strcmp(name, OPT_TENANT_ID) == 0)
				tenant_def = def;
			else
				client_id_def = def;
			/* never echo the value: it may be a secret */
			if (defGetString(def)[0] == '\0')
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"%s\" must not be empty", name)));
		}
		else if (strcmp(name, OPT_MAX_RETRIES) == 0)
			opts->max_retries = TelemParseIntOption(def, 0, 20);
		else if (strcmp(name, OPT_CONNECT_TIMEOUT) == 0)
			opts->connect_timeout = TelemParseIntOption(def, 1, 600);
		else if (strcmp(name, OPT_LOCATION) == 0)
		{
			opts->location = defGetString(def);
			parse_location(opts);
			parse_location_glob(opts);
			if (opts->location_provider == PROVIDER_FILE && validating)
				check_privilege(&local_location_def);
		}
		else if (strcmp(name, OPT_FORMAT) == 0)
		{
			format_def = def;
			opts->format = (TelemFormat) parse_choice(def, format_choices);
		}
		else if (strcmp(name, OPT_COMPRESSION) == 0)
		{
			compression_def = def;
			if (!CodecParseName(defGetString(def), &opts->compression))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								name, defGetString(def)),
						 errhint("Valid values are \"auto\", \"none\", \"gzip\" and \"zstd\".")));
		}
		else if (strcmp(name, OPT_MAX_LINE_SIZE) == 0)
			opts->max_line_size = TelemParseIntOption(def, 1024, MaxAllocSize / 2);
		else if (is_copy_option(name))
			copy_options = lappend(copy_options, def);
		else if (strcmp(name, OPT_JSON_PATH) == 0)
		{
			json_path_def = def;
			check_json_path(defGetString(def));
		}
		else if (strcmp(name, OPT_PATH) == 0)
		{
			path_def = def;
			check_parquet_path(defGetString(def));
		}
		else if (strcmp(name, OPT_METADATA) == 0)
		{
			metadata_def = def;
			(void) parse_metadata(def);
		}
		else if (strcmp(name, OPT_PARTITION) == 0)
		{
			partition_def = def;
			if (defGetString(def)[0] == '\0' || strchr(defGetString(def), '/') ||
				strchr(defGetString(def), '='))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\": \"%s\"",
								name, defGetString(def)),
						 errhint("Name the key segment \"name=value\" by its name, "
								 "such as \"day\".")));
		}
		else if (strcmp(name, OPT_EPOCH) == 0)
		{
			epoch_def = def;
			(void) parse_choice(def, epoch_choices);
		}
	}

	/* column: one source per column */
	if ((metadata_def != NULL) + (json_path_def != NULL) +
		(path_def != NULL) + (partition_def != NULL) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("conflicting or redundant options"),
				 errdetail("A column takes at most one of \"%s\", \"%s\", \"%s\" and \"%s\".",
						   OPT_JSON_PATH, OPT_PATH, OPT_METADATA, OPT_PARTITION)));
	if (epoch_def && (metadata_def || partition_def))
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("conflicting or redundant options"),
				 errdetail("Option \"%s\" applies to record fields only.", OPT_EPOCH)));

	/* user mapping: one way to authenticate to Azure */
	if ((account_key_def != NULL) + (sas_def != NULL) +
		(client_secret_def != NULL || tenant_def != NULL) +
		(credential_source_def != NULL) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("conflicting Azure credentials"),
				 errdetail("A user mapping takes one of \"%s\", \"%s\", "
						   "\"%s\" with \"%s\" and \"%s\", or \"%s\".",
						   OPT_ACCOUNT_KEY, OPT_SAS_TOKEN, OPT_TENANT_ID,
						   OPT_CLIENT_ID, OPT_CLIENT_SECRET, OPT_CREDENTIAL_SOURCE)));
	if ((client_secret_def != NULL || tenant_def != NULL) &&
		(client_secret_def == NULL || tenant_def == NULL || client_id_def == NULL))
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("Entra ID client credentials need \"%s\", \"%s\" and \"%s\"",
						OPT_TENANT_ID, OPT_CLIENT_ID, OPT_CLIENT_SECRET)));
	if (client_id_def != NULL && client_secret_def == NULL &&
		credential_source_def == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("option \"%s\" needs \"%s\" or \"%s\"",
						OPT_CLIENT_ID, OPT_CLIENT_SECRET, OPT_CREDENTIAL_SOURCE)));

	/* table: COPY options belong to the COPY formats */
	if (context == ForeignTableRelationId && copy_options != NIL)
	{
		if (format_def != NULL &&
			(opts->format == FORMAT_JSONL || opts->format == FORMAT_PARQUET))
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
					 errmsg("option \"%s\" is not valid with format \"%s\"",
							((DefElem *) linitial(copy_options))->defname,
							format_choices[opts->format]),
					 errhint("Options header, delimiter, quote, escape, null and "
							 "encoding apply to formats \"csv\" and \"text\".")));
	}
	/* Parquet compresses each column chunk; the file itself is not */
	if (context == ForeignTableRelationId && format_def != NULL &&
		opts->format == FORMAT_PARQUET && compression_def != NULL &&
		opts->compression != TELEM_COMP_AUTO && opts->compression != TELEM_COMP_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("option \"%s\" is not valid with format \"parquet\"",
						OPT_COMPRESSION),
				 errhint("A Parquet file names the codec of each column chunk itself.")));
	if (context == ForeignTableRelationId && format_def != NULL &&
		opts->format == FORMAT_PARQUET)
		opts->compression = TELEM_COMP_NONE;
	if (context == ForeignTableRelationId && format_def != NULL &&
		opts->format != FORMAT_JSONL && opts->format != FORMAT_PARQUET)
	{
		copy_options = lcons(makeDefElem("format",
										 (Node *) makeString(opts->format == FORMAT_CSV ?
															 "csv" : "text"),
										 -1),
							 copy_options);
		/* COPY's own checks: delimiter length, quote only with csv, ... */
		ProcessCopyOptions(NULL, NULL, true, copy_options);
		opts->copy_options = copy_options;
	}
}

/*
 * telem_fdw_validator
 *		Check the options of a CREATE/ALTER of a telem_fdw object.
 */
PG_FUNCTION_INFO_V1(telem_fdw_validator);

Datum
telem_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	TelemOptions opts;
	ListCell   *lc;
	const TelemOptionDef *def;

	foreach(lc, options)
	{
		DefElem    *d = (DefElem *) lfirst(lc);

		def = find_option(d->defname);
		if (def == NULL || def->context != catalog)
			report_unknown_option(d->defname, catalog);
		check_privilege(def);
	}

	for (def = telem_options; def->name; def++)
	{
		bool		found = false;

		if (def->context != catalog || !def->required)
			continue;
		foreach(lc, options)
			if (strcmp(((DefElem *) lfirst(lc))->defname, def->name) == 0)
				found = true;
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
					 errmsg("option \"%s\" is required for a telem_fdw %s",
							def->name, context_name(catalog))));
	}

	memset(&opts, 0, sizeof(opts));
	check_values(options, catalog, &opts, true);

	PG_RETURN_VOID();
}

/* The options of a server, with defaults filled in. */
static TelemOptions *
server_options(ForeignServer *server)
{
	TelemOptions *opts = palloc0(sizeof(TelemOptions));

	opts->server_name = pstrdup(server->servername);
	opts->path_style = true;
	opts->page_size = 0;		/* each store's own maximum */
	opts->max_retries = DEFAULT_MAX_RETRIES;
	opts->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	opts->compression = TELEM_COMP_AUTO;
	opts->max_line_size = telem_default_max_line_size;
	opts->region = "us-east-1";

	check_values(server->options, ForeignServerRelationId, opts, false);
	return opts;
}

/* The location's form must be the server's provider's. */
static void
check_location_provider(TelemOptions *opts)
{
	static const char *const forms[] = {
		"\"s3://bucket/prefix/\"",
		"absolute-path",
		"\"abfss://\", \"az://\" and \"https://\""
	};

	if (opts->location_provider != opts->provider)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("location \"%s\" does not match the provider of server \"%s\"",
						opts->location, opts->server_name),
				 errhint("A server with provider \"%s\" takes %s locations.",
						 provider_choices[opts->provider], forms[opts->provider])));
	if (opts->provider == PROVIDER_AZURE && opts->location_account == NULL &&
		opts->account == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("location \"%s\" needs option \"%s\" on server \"%s\"",
						opts->location, OPT_ACCOUNT, opts->server_name),
				 errhint("An \"az://\" location names no storage account; "
						 "set it with ALTER SERVER ... OPTIONS (ADD account '...').")));
}

/*
 * TelemGetOptions
 *		The options of a foreign table and its server, checked and with
 *		defaults filled in.
 */
TelemOptions *
TelemGetOptions(Oid foreigntableid)
{
	ForeignTable *table = GetForeignTable(foreigntableid);
	TelemOptions *opts = server_options(GetForeignServer(table->serverid));

	check_values(table->options, ForeignTableRelationId, opts, false);
	check_location_provider(opts);
	return opts;
}

/*
 * TelemGetLocationOptions
 *		The options of a location on a server, as the loader's functions
 *		take them (no foreign table).  The caller has checked USAGE on the
 *		server; a local location needs what a table with one would.
 */
TelemOptions *
TelemGetLocationOptions(Oid serverid, const char *location)
{
	TelemOptions *opts = server_options(GetForeignServer(serverid));

	opts->location = pstrdup(location);
	parse_location(opts);
	if (opts->location_provider == PROVIDER_FILE)
		check_privilege(&local_location_def);
	check_location_provider(opts);
	return opts;
}

/*
 * TelemGetColumnOptions
 *		What fills column attnum, from its options.
 */
void
TelemGetColumnOptions(Oid foreigntableid, AttrNumber attnum,
					  TelemColumnKind *kind, char **json_path,
					  char **path, char **partition, TelemEpochUnit *epoch)
{
	List	   *options = GetForeignColumnOptions(foreigntableid, attnum);
	ListCell   *lc;

	*kind = COLUMN_DATA;
	*json_path = NULL;
	*path = NULL;
	*partition = NULL;
	*epoch = EPOCH_NONE;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, OPT_METADATA) == 0)
			*kind = parse_metadata(def);
		else if (strcmp(def->defname, OPT_JSON_PATH) == 0)
			*json_path = defGetString(def);
		else if (strcmp(def->defname, OPT_PATH) == 0)
			*path = defGetString(def);
		else if (strcmp(def->defname, OPT_PARTITION) == 0)
		{
			*kind = COLUMN_PARTITION;
			*partition = defGetString(def);
		}
		else if (strcmp(def->defname, OPT_EPOCH) == 0)
			*epoch = parse_choice(def, epoch_choices) == 0 ?
				EPOCH_SECONDS : EPOCH_MILLISECONDS;
	}
}
