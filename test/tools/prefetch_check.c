/*-------------------------------------------------------------------------
 *
 * prefetch_check.c
 *		CLI that reads every object under a prefix with several readers
 *		of one store open at once, and checks each object's bytes.
 *
 *	  prefetch_check [options] s3 BUCKET PREFIX
 *	  prefetch_check [options] azure CONTAINER PREFIX
 *
 * The objects are listed, then read in key order with --ahead readers
 * open: the next ones are opened while the current one is read (as a scan
 * that prefetches would), either each to its end in turn (--order seq) or
 * one read call per open reader in turn (--order rr).  With --md5 FILE
 * (md5sum output: "HEX  NAME", the key being PREFIX + NAME) every object's
 * MD5 is compared, and every line of FILE must match a listed object.
 * Prints
 *	  objects=N bytes=B mismatches=M resumes=R seconds=S ms_per_mb=X
 *	  maxrss_kb=K
 * and exits 0, or 4 when an object's bytes did not match, 2 on a store
 * error ("error kind=..." as s3_stream_check prints; TELEM_ERR_CANCELED
 * after --cancel-after-ms), 1 on usage errors.
 *
 * Credentials come from the environment only, as in s3_stream_check and
 * azure_check: TELEM_S3_ENDPOINT, TELEM_S3_REGION, TELEM_S3_ACCESS_KEY,
 * TELEM_S3_SECRET_KEY; TELEM_AZURE_BLOB_ENDPOINT, TELEM_AZURE_ACCOUNT,
 * TELEM_AZURE_KEY, TELEM_AZURE_CA_FILE.
 *
 * IDENTIFICATION
 *		test/tools/prefetch_check.c
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

/* One listed object and, while it is open, its reader. */
typedef struct Item
{
	TelemObject obj;
	TelemReader *reader;
	EVP_MD_CTX *md;
	bool		done;
	int64_t		got;
	const char *want_md5;		/* from --md5, or NULL */
} Item;

/* "HEX  NAME" lines of an md5sum listing. */
typedef struct Md5Entry
{
	char		hex[33];
	char	   *name;
	bool		seen;
} Md5Entry;

static bool is_azure = false;
static long work_us = 0;
static long pump_us = 0;
static TelemStore *the_store;
static double cancel_at = 0;	/* now_s() deadline of --cancel-after-ms */

static double now_s(void);

/* Interrupt hook for --cancel-after-ms. */
static bool
deadline_hook(void)
{
	return cancel_at > 0 && now_s() >= cancel_at;
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: prefetch_check [options] s3 BUCKET PREFIX\n"
			"       prefetch_check [options] azure CONTAINER PREFIX\n"
			"options:\n"
			"  --ahead N         readers open at once (default 4)\n"
			"  --order seq|rr    read each object to its end, or one read\n"
			"                    per open reader in turn (default seq)\n"
			"  --md5 FILE        md5sum listing to check against\n"
			"  --read-size N     bytes asked per read call (default 65536)\n"
			"  --buffer-size N   reader buffer bytes (default 1048576)\n"
			"  --work-us N       busy-wait N us after each read (a decoder)\n"
			"  --pump-us N       call the store's pump every N us of that\n"
			"  --max-retries N   default 5\n"
			"  --cancel-after-ms N  the interrupt hook fires N ms after the\n"
			"                    listing\n"
			"  --ca-file F       CA bundle; --insecure skips TLS checks\n");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Stand in for a decoder that works on what it read: spin, calling the
 * store's pump every pump_us if asked to.
 */
static void
busy_wait(long us)
{
	double		t = now_s();
	double		until = t + us / 1e6;
	double		next_pump = t + pump_us / 1e6;

	while (us > 0 && (t = now_s()) < until)
	{
		if (pump_us > 0 && t >= next_pump && the_store->ops->pump != NULL)
		{
			TelemError	err;

			(void) the_store->ops->pump(the_store, &err);
			next_pump = t + pump_us / 1e6;
		}
	}
}

static Md5Entry *
load_md5(const char *file, int *n)
{
	FILE	   *f = fopen(file, "r");
	Md5Entry   *list = NULL;
	int			cap = 0;
	char		line[4096];

	*n = 0;
	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *name;
		size_t		len;

		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) < 35 || line[32] != ' ')
			continue;
		name = line + 34;		/* "  " or " *" */
		if (*n == cap)
		{
			cap = cap > 0 ? cap * 2 : 64;
			list = realloc(list, cap * sizeof(Md5Entry));
			if (list == NULL)
				exit(1);
		}
		memcpy(list[*n].hex, line, 32);
		list[*n].hex[32] = '\0';
		len = strlen(name);
		list[*n].name = malloc(len + 1);
		memcpy(list[*n].name, name, len + 1);
		list[*n].seen = false;
		(*n)++;
	}
	fclose(f);
	return list;
}

static void
reader_stats(TelemReader *reader, TelemReaderStats *stats)
{
	if (is_azure)
		AzureReaderStats(reader, stats);
	else
		S3ReaderStats(reader, stats);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ahead", required_argument, NULL, 'a'},
		{"order", required_argument, NULL, 'o'},
		{"md5", required_argument, NULL, 'm'},
		{"read-size", required_argument, NULL, 'R'},
		{"buffer-size", required_argument, NULL, 'B'},
		{"work-us", required_argument, NULL, 'w'},
		{"pump-us", required_argument, NULL, 'p'},
		{"max-retries", required_argument, NULL, 'r'},
		{"ca-file", required_argument, NULL, 'c'},
		{"insecure", no_argument, NULL, 'k'},
		{"cancel-after-ms", required_argument, NULL, 'C'},
		{NULL, 0, NULL, 0}
	};
	int			ahead = 4;
	bool		round_robin = false;
	const char *md5_file = NULL;
	size_t		read_size = 65536;
	size_t		buffer_size = 1024 * 1024;
	int			max_retries = 5;
	long		cancel_ms = -1;
	const char *ca_file = NULL;
	bool		verify_tls = true;
	const char *container;
	const char *prefix;
	TelemError	err;
	TelemStore *store;
	Item	   *items = NULL;
	int			nitems = 0;
	int			cap = 0;
	Md5Entry   *md5 = NULL;
	int			nmd5 = 0;
	char	   *token = NULL;
	unsigned char *buf;
	int			next_open = 0;
	int			ndone = 0;
	int			cursor = 0;
	int			mismatches = 0;
	int			resumes = 0;
	int64_t		bytes = 0;
	double		t0;
	double		secs;
	int			rc = 0;
	int			c;
	int			i;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'a':
				ahead = atoi(optarg);
				break;
			case 'o':
				round_robin = strcmp(optarg, "rr") == 0;
				if (!round_robin && strcmp(optarg, "seq") != 0)
				{
					usage();
					return 1;
				}
				break;
			case 'm':
				md5_file = optarg;
				break;
			case 'R':
				read_size = (size_t) strtoull(optarg, NULL, 10);
				break;
			case 'B':
				buffer_size = (size_t) strtoull(optarg, NULL, 10);
				break;
			case 'w':
				work_us = atol(optarg);
				break;
			case 'p':
				pump_us = atol(optarg);
				break;
			case 'r':
				max_retries = atoi(optarg);
				break;
			case 'c':
				ca_file = optarg;
				break;
			case 'k':
				verify_tls = false;
				break;
			case 'C':
				cancel_ms = atol(optarg);
				break;
			default:
				usage();
				return 1;
		}
	}
	if (optind + 3 != argc || ahead < 1 || read_size == 0 ||
		(strcmp(argv[optind], "s3") != 0 && strcmp(argv[optind], "azure") != 0))
	{
		usage();
		return 1;
	}
	is_azure = strcmp(argv[optind], "azure") == 0;
	container = argv[optind + 1];
	prefix = argv[optind + 2];
	memset(&err, 0, sizeof(err));
	telem_interrupt_hook = deadline_hook;

	if (is_azure)
	{
		AzureConfig cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.account = getenv("TELEM_AZURE_ACCOUNT");
		cfg.container = container;
		cfg.endpoint = getenv("TELEM_AZURE_BLOB_ENDPOINT");
		cfg.account_key = getenv("TELEM_AZURE_KEY");
		cfg.auth = cfg.account_key != NULL && cfg.account_key[0] != '\0' ?
			AZURE_AUTH_SHARED_KEY : AZURE_AUTH_ANONYMOUS;
		cfg.ca_file = ca_file != NULL ? ca_file : getenv("TELEM_AZURE_CA_FILE");
		if (cfg.ca_file != NULL && cfg.ca_file[0] == '\0')
			cfg.ca_file = NULL;
		cfg.verify_tls = verify_tls;
		cfg.max_retries = max_retries;
		cfg.connect_timeout_ms = 5000;
		cfg.buffer_size = buffer_size;
		store = AzureStoreCreate(&cfg, &err);
	}
	else
	{
		S3Config	cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.bucket = container;
		cfg.region = getenv("TELEM_S3_REGION");
		if (cfg.region == NULL || cfg.region[0] == '\0')
			cfg.region = "us-east-1";
		cfg.endpoint = getenv("TELEM_S3_ENDPOINT");
		cfg.path_style = true;
		cfg.access_key_id = getenv("TELEM_S3_ACCESS_KEY");
		cfg.secret_access_key = getenv("TELEM_S3_SECRET_KEY");
		cfg.ca_file = ca_file;
		cfg.verify_tls = verify_tls;
		cfg.max_retries = max_retries;
		cfg.connect_timeout_ms = 5000;
		cfg.buffer_size = buffer_size;
		store = S3StoreCreate(&cfg, &err);
	}
	if (store == NULL)
		return ToolFail(&err);
	the_store = store;

	if (md5_file != NULL && (md5 = load_md5(md5_file, &nmd5)) == NULL)
	{
		fprintf(stderr, "could not read \"%s\"\n", md5_file);
		store->ops->destroy(store);
		return 1;
	}

	/* list everything first, so only the reads are timed */
	for (;;)
	{
		TelemObjectPage page;

		if (!store->ops->list_page(store, prefix, NULL, token, &page, &err))
		{
			rc = ToolFail(&err);
			goto done;
		}
		for (i = 0; i < page.nobjects; i++)
		{
			if (nitems == cap)
			{
				cap = cap > 0 ? cap * 2 : 256;
				items = realloc(items, cap * sizeof(Item));
				if (items == NULL)
					return 1;
			}
			memset(&items[nitems], 0, sizeof(Item));
			items[nitems].obj = page.objects[i];
			/* take over the strings */
			page.objects[i].key = NULL;
			page.objects[i].etag = NULL;
			nitems++;
		}
		free(token);
		token = page.next_token;
		page.next_token = NULL;
		TelemObjectPageFree(&page);
		if (token == NULL)
			break;
	}
	for (i = 0; i < nitems && md5 != NULL; i++)
	{
		const char *name = items[i].obj.key + strlen(prefix);
		int			j;

		for (j = 0; j < nmd5; j++)
			if (strcmp(md5[j].name, name) == 0)
			{
				items[i].want_md5 = md5[j].hex;
				md5[j].seen = true;
			}
		if (items[i].want_md5 == NULL && mismatches++ < 5)
			printf("unexpected object %s\n", items[i].obj.key);
	}
	for (i = 0; i < nmd5; i++)
		if (!md5[i].seen && mismatches++ < 5)
			printf("missing object %s%s\n", prefix, md5[i].name);

	buf = malloc(read_size);
	t0 = now_s();
	if (cancel_ms >= 0)
		cancel_at = t0 + cancel_ms / 1000.0;
	while (ndone < nitems)
	{
		Item	   *it;
		ssize_t		n;

		/* keep up to 'ahead' readers open, oldest first */
		while (next_open < nitems && next_open - ndone < ahead)
		{
			it = &items[next_open];
			it->reader = store->ops->open(store, &it->obj, 0, &err);
			if (it->reader == NULL)
			{
				rc = ToolFail(&err);
				goto read_done;
			}
			it->md = EVP_MD_CTX_new();
			EVP_DigestInit_ex(it->md, EVP_md5(), NULL);
			next_open++;
		}

		/* seq: the oldest open reader; rr: the next open one in turn */
		if (!round_robin || cursor < ndone)
			cursor = ndone;
		while (cursor < next_open && items[cursor].done)
			cursor++;
		if (cursor >= next_open)
			cursor = ndone;		/* never done: see the ndone loop below */
		it = &items[cursor];
		n = store->ops->read(it->reader, buf, read_size, &err);
		if (n < 0)
		{
			printf("read of %s failed after %lld bytes\n", it->obj.key,
				   (long long) it->got);
			rc = ToolFail(&err);
			goto read_done;
		}
		if (n > 0)
		{
			EVP_DigestUpdate(it->md, buf, (size_t) n);
			it->got += n;
			bytes += n;
			busy_wait(work_us);
		}
		else
		{
			TelemReaderStats stats;
			char		hex[2 * EVP_MAX_MD_SIZE + 1];

			ToolDigestHex(it->md, hex);
			if ((it->want_md5 != NULL && strcmp(hex, it->want_md5) != 0) ||
				(it->obj.size >= 0 && it->got != it->obj.size))
			{
				printf("mismatch %s: %lld bytes, md5 %s\n", it->obj.key,
					   (long long) it->got, hex);
				mismatches++;
			}
			reader_stats(it->reader, &stats);
			resumes += stats.resumes;
			store->ops->close(it->reader);
			it->reader = NULL;
			EVP_MD_CTX_free(it->md);
			it->md = NULL;
			it->done = true;
			while (ndone < nitems && items[ndone].done)
				ndone++;
		}
		if (round_robin)
			cursor++;
	}
read_done:
	secs = now_s() - t0;
	free(buf);
	if (rc == 0)
	{
		printf("objects=%d bytes=%lld mismatches=%d resumes=%d seconds=%.3f "
			   "ms_per_mb=%.3f maxrss_kb=%ld\n", nitems, (long long) bytes,
			   mismatches, resumes, secs,
			   bytes > 0 ? secs * 1000.0 / (bytes / 1048576.0) : 0.0,
			   ToolMaxRssKb());
		if (mismatches > 0)
			rc = 4;
	}

done:
	for (i = 0; i < nitems; i++)
	{
		if (items[i].reader != NULL)
			store->ops->close(items[i].reader);
		EVP_MD_CTX_free(items[i].md);
		free(items[i].obj.key);
		free(items[i].obj.etag);
	}
	free(items);
	for (i = 0; i < nmd5; i++)
		free(md5[i].name);
	free(md5);
	free(token);
	store->ops->destroy(store);
	return rc;
}
