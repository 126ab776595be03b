/*-------------------------------------------------------------------------
 *
 * azure_check.c
 *		CLI over the Azure store API: list, read, write, look up, delete.
 *
 *	  azure_check [options] list PREFIX
 *		  prints "count=N pages=P"
 *	  azure_check [options] level PREFIX
 *		  one level (list_level): "P\tPREFIX" and "O\tKEY\tSIZE" lines,
 *		  page by page, then "objects=N prefixes=M pages=P"
 *	  azure_check [options] get KEY
 *		  prints "size=N sha256=HEX resumes=R bytes_read=B maxrss_kb=K"
 *	  azure_check [options] put KEY FILE
 *		  prints "size=N etag=E blocks=B retries=R maxrss_kb=K"
 *	  azure_check [options] head KEY
 *		  prints "size=N etag=E last_modified=T source=S" or "not found"
 *	  azure_check [options] rm KEY
 *		  prints "removed"
 *
 * On failure prints "error kind=TELEM_ERR_X status=S code=C: message" to
 * stdout and exits 2 (1 for usage errors).  Secrets come from the
 * environment only, never the command line, where any local user could
 * see them: TELEM_AZURE_KEY (Shared Key) or TELEM_AZURE_SAS (SAS token;
 * wins over the key when both are set).  With neither, requests are
 * anonymous.
 *
 * IDENTIFICATION
 *		test/tools/azure_check.c
 *
 *-------------------------------------------------------------------------
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "store/store.h"
#include "tool_common.h"

static void
usage(void)
{
	fprintf(stderr,
			"usage: azure_check [options] list PREFIX\n"
			"       azure_check [options] level PREFIX\n"
			"       azure_check [options] get KEY\n"
			"       azure_check [options] put KEY FILE\n"
			"       azure_check [options] head KEY\n"
			"       azure_check [options] rm KEY\n"
			"options:\n"
			"  --container C       container (required)\n"
			"  --endpoint URL      default $TELEM_AZURE_BLOB_ENDPOINT, else\n"
			"                      https://ACCOUNT.blob.core.windows.net\n"
			"  --account A         default $TELEM_AZURE_ACCOUNT; the key is\n"
			"                      always $TELEM_AZURE_KEY, a SAS $TELEM_AZURE_SAS\n"
			"  --anonymous         send unauthorized requests\n"
			"  --ca-file F         CA bundle, default $TELEM_AZURE_CA_FILE;\n"
			"                      --insecure skips TLS checks\n"
			"  --page-size N       List Blobs maxresults (default 5000)\n"
			"  --buffer-size N     reader buffer bytes (default 65536)\n"
			"  --read-size N       bytes asked per read call (default 8192)\n"
			"  --max-retries N     default 3\n"
			"  --offset N          get: start reading at byte N\n"
			"  --no-etag           get: do not send If-Match\n"
			"  --print-keys        list: print each key, size and etag\n"
			"  --start-after K     list: only keys after K\n"
			"  --etag E            get: use E as the listed ETag\n"
			"  --block-size N      put: bytes per block (default 8 MB)\n"
			"  --source-tag S      put: telem_source metadata\n");
}

/* Stream every object under prefix; print the count and pages. */
static int
do_list(TelemStore *store, const char *prefix, const char *start_after,
		bool print_keys)
{
	char	   *token = NULL;
	long long	count = 0;
	int			pages = 0;
	int			rc = 0;
	TelemError	err;

	for (;;)
	{
		TelemObjectPage page;
		int			i;

		if (!store->ops->list_page(store, prefix, start_after, token, &page,
								   &err))
		{
			rc = ToolFail(&err);
			break;
		}
		pages++;
		count += page.nobjects;
		if (print_keys)
			for (i = 0; i < page.nobjects; i++)
				printf("%s\t%lld\t%s\t%lld\n", page.objects[i].key,
					   (long long) page.objects[i].size,
					   page.objects[i].etag ? page.objects[i].etag : "-",
					   (long long) page.objects[i].last_modified);
		free(token);
		token = page.next_token;
		page.next_token = NULL;
		TelemObjectPageFree(&page);
		if (token == NULL)
			break;
	}
	free(token);
	if (rc == 0)
		printf("count=%lld pages=%d\n", count, pages);
	return rc;
}

static int
do_get(TelemStore *store, const char *key, bool no_etag, const char *etag,
	   long long offset, size_t read_size)
{
	TelemObject obj = {(char *) key, -1, NULL, 0};
	TelemObjectInfo info;
	TelemError	err;
	TelemReader *reader;
	unsigned char *buf = malloc(read_size);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool		found;
	int			rc = 0;

	/* take size and ETag from the store, as the FDW takes them from a list */
	if (!no_etag)
	{
		if (!store->ops->head(store, key, &info, &found, &err))
		{
			rc = ToolFail(&err);
			goto done;
		}
		if (found)
		{
			obj.size = info.size;
			obj.etag = info.etag;
		}
	}
	if (etag != NULL)
		obj.etag = (char *) etag;

	reader = store->ops->open(store, &obj, offset, &err);
	if (reader == NULL)
		rc = ToolFail(&err);
	else
	{
		long long	total = 0;
		ssize_t		n;
		TelemReaderStats stats;
		char		hex[2 * EVP_MAX_MD_SIZE + 1];

		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		while ((n = store->ops->read(reader, buf, read_size, &err)) > 0)
		{
			EVP_DigestUpdate(md, buf, (size_t) n);
			total += n;
		}
		AzureReaderStats(reader, &stats);
		store->ops->close(reader);
		if (n < 0)
		{
			fprintf(stderr, "read failed after %lld bytes, resumes=%d\n",
					total, stats.resumes);
			rc = ToolFail(&err);
		}
		else
		{
			ToolDigestHex(md, hex);
			printf("size=%lld sha256=%s resumes=%d bytes_read=%lld maxrss_kb=%ld\n",
				   total, hex, stats.resumes, (long long) stats.bytes_read,
				   ToolMaxRssKb());
		}
	}
done:
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

static int
do_put(TelemStore *store, const char *key, const char *file,
	   const TelemWriteOptions *opts)
{
	FILE	   *f = fopen(file, "rb");
	TelemWriter *w;
	TelemError	err;
	TelemObjectInfo info;
	TelemWriterStats stats;
	char		buf[65536];
	size_t		n;
	int			rc = 0;

	if (f == NULL)
	{
		perror(file);
		return 1;
	}
	w = store->ops->create(store, key, opts, &err);
	if (w == NULL)
	{
		fclose(f);
		return ToolFail(&err);
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (!store->ops->write(w, buf, n, &err))
		{
			rc = ToolFail(&err);
			break;
		}
	if (rc == 0 && ferror(f))
	{
		perror(file);
		rc = 1;
	}
	fclose(f);
	if (rc == 0 && !store->ops->commit(w, &info, &err))
		rc = ToolFail(&err);
	AzureWriterStats(w, &stats);
	store->ops->discard(w);
	if (rc == 0)
		printf("size=%lld etag=%s blocks=%d retries=%d maxrss_kb=%ld\n",
			   (long long) info.size, info.etag, stats.blocks, stats.retries,
			   ToolMaxRssKb());
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"container", required_argument, NULL, 'c'},
		{"endpoint", required_argument, NULL, 'e'},
		{"account", required_argument, NULL, 'a'},
		{"anonymous", no_argument, NULL, 'A'},
		{"ca-file", required_argument, NULL, 'f'},
		{"insecure", no_argument, NULL, 'k'},
		{"page-size", required_argument, NULL, 'p'},
		{"buffer-size", required_argument, NULL, 'B'},
		{"read-size", required_argument, NULL, 'R'},
		{"max-retries", required_argument, NULL, 'm'},
		{"offset", required_argument, NULL, 'o'},
		{"no-etag", no_argument, NULL, 'N'},
		{"print-keys", no_argument, NULL, 'P'},
		{"block-size", required_argument, NULL, 'b'},
		{"source-tag", required_argument, NULL, 's'},
		{"start-after", required_argument, NULL, 'S'},
		{"etag", required_argument, NULL, 'E'},
		{NULL, 0, NULL, 0}
	};
	AzureConfig cfg;
	TelemWriteOptions wopts = {0, NULL};
	TelemError	err;
	TelemStore *store;
	bool		anonymous = false;
	bool		no_etag = false;
	bool		print_keys = false;
	size_t		read_size = 8192;
	long long	offset = 0;
	const char *start_after = NULL;
	const char *etag = NULL;
	const char *mode;
	const char *arg;
	int			nargs;
	int			c;
	int			rc = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(&err, 0, sizeof(err));
	cfg.endpoint = getenv("TELEM_AZURE_BLOB_ENDPOINT");
	cfg.account = getenv("TELEM_AZURE_ACCOUNT");
	cfg.ca_file = getenv("TELEM_AZURE_CA_FILE");
	cfg.verify_tls = true;
	cfg.page_size = 5000;
	cfg.max_retries = 3;
	cfg.connect_timeout_ms = 5000;
	cfg.buffer_size = 65536;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'c':
				cfg.container = optarg;
				break;
			case 'e':
				cfg.endpoint = optarg;
				break;
			case 'a':
				cfg.account = optarg;
				break;
			case 'A':
				anonymous = true;
				break;
			case 'f':
				cfg.ca_file = optarg;
				break;
			case 'k':
				cfg.verify_tls = false;
				break;
			case 'p':
				cfg.page_size = atoi(optarg);
				break;
			case 'B':
				cfg.buffer_size = (size_t) strtoull(optarg, NULL, 10);
				break;
			case 'R':
				read_size = (size_t) strtoull(optarg, NULL, 10);
				break;
			case 'm':
				cfg.max_retries = atoi(optarg);
				break;
			case 'o':
				offset = strtoll(optarg, NULL, 10);
				break;
			case 'N':
				no_etag = true;
				break;
			case 'P':
				print_keys = true;
				break;
			case 'b':
				wopts.block_size = (size_t) strtoull(optarg, NULL, 10);
				break;
			case 's':
				wopts.source_tag = optarg;
				break;
			case 'S':
				start_after = optarg;
				break;
			case 'E':
				etag = optarg;
				break;
			default:
				usage();
				return 1;
		}
	}
	if (optind + 2 > argc || cfg.container == NULL || read_size == 0)
	{
		usage();
		return 1;
	}
	mode = argv[optind];
	arg = argv[optind + 1];
	nargs = argc - optind;
	if (nargs != (strcmp(mode, "put") == 0 ? 3 : 2))
	{
		usage();
		return 1;
	}
	if (cfg.endpoint != NULL && cfg.endpoint[0] == '\0')
		cfg.endpoint = NULL;
	if (cfg.ca_file != NULL && cfg.ca_file[0] == '\0')
		cfg.ca_file = NULL;

	cfg.sas_token = getenv("TELEM_AZURE_SAS");
	cfg.account_key = getenv("TELEM_AZURE_KEY");
	if (anonymous)
		cfg.auth = AZURE_AUTH_ANONYMOUS;
	else if (cfg.sas_token != NULL && cfg.sas_token[0] != '\0')
		cfg.auth = AZURE_AUTH_SAS;
	else if (cfg.account_key != NULL && cfg.account_key[0] != '\0')
		cfg.auth = AZURE_AUTH_SHARED_KEY;
	else
		cfg.auth = AZURE_AUTH_ANONYMOUS;

	store = AzureStoreCreate(&cfg, &err);
	if (store == NULL)
		return ToolFail(&err);

	if (strcmp(mode, "list") == 0)
		rc = do_list(store, arg, start_after, print_keys);
	else if (strcmp(mode, "level") == 0)
		rc = ToolListLevel(store, arg);
	else if (strcmp(mode, "get") == 0)
		rc = do_get(store, arg, no_etag, etag, offset, read_size);
	else if (strcmp(mode, "put") == 0)
		rc = do_put(store, arg, argv[optind + 2], &wopts);
	else if (strcmp(mode, "head") == 0)
	{
		TelemObjectInfo info;
		bool		found;

		if (!store->ops->head(store, arg, &info, &found, &err))
			rc = ToolFail(&err);
		else if (!found)
			printf("not found\n");
		else
			printf("size=%lld etag=%s last_modified=%lld source=%s\n",
				   (long long) info.size, info.etag,
				   (long long) info.last_modified,
				   info.source_tag[0] != '\0' ? info.source_tag : "-");
	}
	else if (strcmp(mode, "rm") == 0)
	{
		if (!store->ops->remove(store, arg, &err))
			rc = ToolFail(&err);
		else
			printf("removed\n");
	}
	else
	{
		usage();
		rc = 1;
	}

	store->ops->destroy(store);
	return rc;
}
