/*-------------------------------------------------------------------------
 *
 * s3_stream_check.c
 *		CLI over the S3 store API: list, stream, write, look up, delete.
 *
 *	  s3_stream_check [options] list PREFIX
 *		  prints "count=N pages=P"
 *	  s3_stream_check [options] get KEY
 *		  prints "size=N sha256=HEX resumes=R maxrss_kb=K"
 *	  s3_stream_check [options] put KEY FILE
 *		  prints "size=N etag=E parts=P retries=R maxrss_kb=K"; with
 *		  --no-commit, writes FILE, then discards: "discarded parts=P"
 *	  s3_stream_check [options] head KEY
 *		  prints "size=N etag=E last_modified=T source_tag=S", or
 *		  "not found" (exit 3)
 *	  s3_stream_check [options] rm KEY
 *		  prints "removed"
 *
 * On failure prints "error kind=TELEM_ERR_X status=S code=C: message" to
 * stdout and exits 2 (1 for usage errors).  The harness tests use it to
 * check listing pagination, error mapping, Range resume through
 * flaky_proxy.py, uploads and bounded memory.  The secret key and session token
 * are read from the environment only (TELEM_S3_SECRET_KEY,
 * TELEM_S3_SESSION_TOKEN), never from the command line, where any local
 * user could see them.
 *
 * IDENTIFICATION
 *		test/tools/s3_stream_check.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "store/store.h"
#include "tool_common.h"

static struct timespec cancel_at;
static bool no_commit = false;
static bool cancel_armed = false;

/* Interrupt hook for --cancel-after-ms: true once the deadline passed. */
static bool
deadline_hook(void)
{
	struct timespec now;

	if (!cancel_armed)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > cancel_at.tv_sec ||
		(now.tv_sec == cancel_at.tv_sec && now.tv_nsec >= cancel_at.tv_nsec);
}

/*
 * put: stream file (read_size bytes per write call) into key, commit, and
 * print what the store reports.
 */
static int
do_put(TelemStore *store, const char *key, const char *file,
	   const TelemWriteOptions *opts, size_t read_size)
{
	TelemError	err;
	TelemWriter *writer;
	TelemObjectInfo info;
	TelemWriterStats stats;
	FILE	   *f;
	char	   *buf;
	size_t		n;
	int			rc = 0;

	f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	if (f == NULL)
	{
		fprintf(stderr, "could not open \"%s\": %s\n", file, strerror(errno));
		return 1;
	}
	buf = malloc(read_size);
	writer = store->ops->create(store, key, opts, &err);
	if (writer == NULL || buf == NULL)
	{
		if (f != stdin)
			fclose(f);
		free(buf);
		return writer == NULL ? ToolFail(&err) : 1;
	}
	while ((n = fread(buf, 1, read_size, f)) > 0)
	{
		if (!store->ops->write(writer, buf, n, &err))
		{
			rc = ToolFail(&err);
			break;
		}
	}
	if (rc == 0 && ferror(f))
	{
		fprintf(stderr, "could not read \"%s\"\n", file);
		rc = 1;
	}
	if (rc == 0 && !no_commit && !store->ops->commit(writer, &info, &err))
		rc = ToolFail(&err);
	S3WriterStats(writer, &stats);
	store->ops->discard(writer);
	if (f != stdin)
		fclose(f);
	free(buf);
	if (rc == 0 && no_commit)
		printf("discarded parts=%d\n", stats.blocks);
	else if (rc == 0)
		printf("size=%lld etag=%s parts=%d retries=%d bytes_written=%lld "
			   "maxrss_kb=%ld\n",
			   (long long) info.size, info.etag, stats.blocks, stats.retries,
			   (long long) stats.bytes_written, ToolMaxRssKb());
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
			"usage: s3_stream_check [options] list PREFIX\n"
			"       s3_stream_check [options] get KEY\n"
			"       s3_stream_check [options] put KEY FILE\n"
			"       s3_stream_check [options] head KEY\n"
			"       s3_stream_check [options] rm KEY\n"
			"options:\n"
			"  --bucket B          bucket (required)\n"
			"  --endpoint URL      default $TELEM_S3_ENDPOINT, else AWS\n"
			"  --region R          default $TELEM_S3_REGION, else us-east-1\n"
			"  --access-key ID     default $TELEM_S3_ACCESS_KEY; the secret is\n"
			"                      always $TELEM_S3_SECRET_KEY, a session token\n"
			"                      $TELEM_S3_SESSION_TOKEN\n"
			"  --anonymous         send unsigned requests\n"
			"  --virtual-host      virtual-host style URLs (default: path style)\n"
			"  --page-size N       ListObjectsV2 max-keys (default 1000)\n"
			"  --buffer-size N     reader buffer bytes (default 65536)\n"
			"  --read-size N       bytes asked per read call (default 8192)\n"
			"  --max-retries N     default 3\n"
			"  --offset N          start reading at byte N\n"
			"  --no-etag           do not send If-Match\n"
			"  --ca-file F         CA bundle; --insecure skips TLS checks\n"
			"  --cancel-after-ms N interrupt hook fires after N ms\n"
			"  --print-keys        list: print each key, size and etag\n"
			"  --pause-at N:MS     get: sleep MS ms once N bytes were read (to\n"
			"                      change the object under a reader)\n"
			"  --etag E            get: use E as the listed ETag\n"
			"  --block-size N      put: bytes per part (default 8 MB)\n"
			"  --source-tag T      put: telem_source metadata\n"
			"  --no-commit         put: discard the writer instead of committing\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"bucket", required_argument, NULL, 'b'},
		{"endpoint", required_argument, NULL, 'e'},
		{"region", required_argument, NULL, 'r'},
		{"access-key", required_argument, NULL, 'a'},
		{"anonymous", no_argument, NULL, 'A'},
		{"virtual-host", no_argument, NULL, 'V'},
		{"page-size", required_argument, NULL, 'p'},
		{"buffer-size", required_argument, NULL, 'B'},
		{"read-size", required_argument, NULL, 'R'},
		{"max-retries", required_argument, NULL, 'm'},
		{"offset", required_argument, NULL, 'o'},
		{"no-etag", no_argument, NULL, 'N'},
		{"ca-file", required_argument, NULL, 'c'},
		{"insecure", no_argument, NULL, 'k'},
		{"cancel-after-ms", required_argument, NULL, 'C'},
		{"print-keys", no_argument, NULL, 'P'},
		{"pause-at", required_argument, NULL, 'W'},
		{"etag", required_argument, NULL, 'E'},
		{"block-size", required_argument, NULL, 'S'},
		{"source-tag", required_argument, NULL, 'T'},
		{"no-commit", no_argument, NULL, 'D'},
		{NULL, 0, NULL, 0}
	};
	S3Config	cfg;
	TelemError	err;
	TelemStore *store;
	bool		anonymous = false;
	bool		no_etag = false;
	bool		print_keys = false;
	size_t		read_size = 8192;
	long long	pause_at = -1;
	long		pause_ms = 0;
	const char *etag_override = NULL;
	TelemWriteOptions wopts = {0, NULL};
	long long	offset = 0;
	const char *mode;
	const char *arg;
	int			c;
	int			rc = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(&err, 0, sizeof(err));
	cfg.endpoint = getenv("TELEM_S3_ENDPOINT");
	cfg.region = getenv("TELEM_S3_REGION");
	cfg.access_key_id = getenv("TELEM_S3_ACCESS_KEY");
	cfg.secret_access_key = getenv("TELEM_S3_SECRET_KEY");
	cfg.session_token = getenv("TELEM_S3_SESSION_TOKEN");
	cfg.path_style = true;
	cfg.verify_tls = true;
	cfg.page_size = 1000;
	cfg.max_retries = 3;
	cfg.connect_timeout_ms = 5000;
	cfg.buffer_size = 65536;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'b':
				cfg.bucket = optarg;
				break;
			case 'e':
				cfg.endpoint = optarg;
				break;
			case 'r':
				cfg.region = optarg;
				break;
			case 'a':
				cfg.access_key_id = optarg;
				break;
			case 'A':
				anonymous = true;
				break;
			case 'V':
				cfg.path_style = false;
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
			case 'c':
				cfg.ca_file = optarg;
				break;
			case 'k':
				cfg.verify_tls = false;
				break;
			case 'C':
				{
					long		ms = atol(optarg);

					clock_gettime(CLOCK_MONOTONIC, &cancel_at);
					cancel_at.tv_sec += ms / 1000;
					cancel_at.tv_nsec += (ms % 1000) * 1000000L;
					if (cancel_at.tv_nsec >= 1000000000L)
					{
						cancel_at.tv_sec++;
						cancel_at.tv_nsec -= 1000000000L;
					}
					cancel_armed = true;
				}
				break;
			case 'P':
				print_keys = true;
				break;
			case 'W':
				if (sscanf(optarg, "%lld:%ld", &pause_at, &pause_ms) != 2)
				{
					usage();
					return 1;
				}
				break;
			case 'E':
				etag_override = optarg;
				break;
			case 'S':
				wopts.block_size = (size_t) strtoull(optarg, NULL, 10);
				break;
			case 'T':
				wopts.source_tag = optarg;
				break;
			case 'D':
				no_commit = true;
				break;
			default:
				usage();
				return 1;
		}
	}
	if (optind + 2 > argc || cfg.bucket == NULL || read_size == 0 ||
		optind + (strcmp(argv[optind], "put") == 0 ? 3 : 2) != argc)
	{
		usage();
		return 1;
	}
	mode = argv[optind];
	arg = argv[optind + 1];
	if (cfg.region == NULL || cfg.region[0] == '\0')
		cfg.region = "us-east-1";
	if (cfg.endpoint != NULL && cfg.endpoint[0] == '\0')
		cfg.endpoint = NULL;
	if (anonymous)
	{
		cfg.access_key_id = NULL;
		cfg.secret_access_key = NULL;
		cfg.session_token = NULL;
	}
	telem_interrupt_hook = deadline_hook;

	store = S3StoreCreate(&cfg, &err);
	if (store == NULL)
		return ToolFail(&err);

	if (strcmp(mode, "list") == 0)
	{
		char	   *token = NULL;
		long long	count = 0;
		int			pages = 0;

		for (;;)
		{
			TelemObjectPage page;
			int			i;

			if (!store->ops->list_page(store, arg, NULL, token, &page, &err))
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
	}
	else if (strcmp(mode, "get") == 0)
	{
		TelemObject obj = {(char *) arg, -1, NULL, 0};
		TelemObjectPage page = {NULL, 0, NULL, NULL, 0};
		TelemReader *reader;
		unsigned char *buf = malloc(read_size);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		int			i;

		/* take size and ETag from a listing, as the FDW does */
		if (!no_etag)
		{
			if (!store->ops->list_page(store, arg, NULL, NULL, &page, &err))
			{
				rc = ToolFail(&err);
				goto get_done;
			}
			for (i = 0; i < page.nobjects; i++)
				if (strcmp(page.objects[i].key, arg) == 0)
					obj = page.objects[i];
		}
		if (etag_override != NULL)
			obj.etag = (char *) etag_override;

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
				if (pause_at >= 0 && total >= pause_at)
				{
					struct timespec ts = {pause_ms / 1000,
					(pause_ms % 1000) * 1000000L};

					fprintf(stderr, "pausing %ld ms at byte %lld\n",
							pause_ms, total);
					nanosleep(&ts, NULL);
					pause_at = -1;
				}
			}
			S3ReaderStats(reader, &stats);
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
				printf("size=%lld sha256=%s resumes=%d bytes_read=%lld "
					   "maxrss_kb=%ld\n", total, hex, stats.resumes,
					   (long long) stats.bytes_read, ToolMaxRssKb());
			}
		}
get_done:
		TelemObjectPageFree(&page);
		EVP_MD_CTX_free(md);
		free(buf);
	}
	else if (strcmp(mode, "put") == 0)
		rc = do_put(store, arg, argv[optind + 2], &wopts, read_size);
	else if (strcmp(mode, "head") == 0)
	{
		TelemObjectInfo info;
		bool		found;

		if (!store->ops->head(store, arg, &info, &found, &err))
			rc = ToolFail(&err);
		else if (!found)
		{
			printf("not found\n");
			rc = 3;
		}
		else
			printf("size=%lld etag=%s last_modified=%lld source_tag=%s\n",
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
