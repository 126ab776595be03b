/*-------------------------------------------------------------------------
 *
 * test_file_store.c
 *		Unit tests for the local-directory store (src/store/file.c).
 *
 * Builds a small tree under a mkdtemp() directory, checks listing order,
 * prefix semantics, what is skipped (hidden names, backups, symlinked
 * directories, FIFOs), listing one level (list_level), head, reading at
 * offsets and the error kinds, then removes the tree.
 *
 * IDENTIFICATION
 *		test/unit/test_file_store.c
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "unit.h"

static char root[256];

/* root + "/" + rel, in a static ring so a few can be alive at once. */
static const char *
P(const char *rel)
{
	static char ring[8][512];
	static int	next;
	char	   *p = ring[next++ % 8];

	snprintf(p, 512, "%s/%s", root, rel);
	return p;
}

static void
mkdir_rel(const char *rel)
{
	if (mkdir(P(rel), 0755) != 0)
	{
		perror(P(rel));
		exit(2);
	}
}

static void
write_rel(const char *rel, const char *content)
{
	FILE	   *f = fopen(P(rel), "w");

	if (f == NULL)
	{
		perror(P(rel));
		exit(2);
	}
	fputs(content, f);
	fclose(f);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	chmod(path, 0755);			/* in case a test left it unreadable */
	return remove(path);
}

/* Keys of a page relative to root, joined with '|' for easy comparison. */
static char *
keys_of(const TelemObjectPage *page)
{
	static char s[4096];
	size_t		rlen = strlen(root);
	int			i;

	s[0] = '\0';
	for (i = 0; i < page->nobjects; i++)
	{
		const char *k = page->objects[i].key;

		if (i > 0)
			strcat(s, "|");
		strcat(s, strncmp(k, root, rlen) == 0 ? k + rlen : k);
	}
	return s;
}

/* List prefix; returns the '|'-joined relative keys, or "ERROR". */
static const char *
list(TelemStore *store, const char *prefix, TelemObjectPage *page,
	 TelemError *err)
{
	memset(err, 0, sizeof(*err));
	if (!store->ops->list_page(store, prefix, NULL, NULL, page, err))
		return "ERROR";
	return keys_of(page);
}

static const TelemObject *
find(const TelemObjectPage *page, const char *rel)
{
	int			i;

	for (i = 0; i < page->nobjects; i++)
		if (strcmp(page->objects[i].key, P(rel)) == 0)
			return &page->objects[i];
	return NULL;
}

/* Read obj's bytes [offset, end) (end -1: to its end); malloc'd text. */
static char *
read_range(TelemStore *store, const TelemObject *obj, int64_t offset,
		   int64_t end, TelemError *err)
{
	TelemReader *r = end < 0 ? store->ops->open(store, obj, offset, err) :
		store->ops->open_range(store, obj, offset, end, err);
	char	   *out;
	size_t		len = 0;
	ssize_t		n;

	if (r == NULL)
		return NULL;
	out = malloc(4096);
	/* Small reads, so the loop runs more than once. */
	while ((n = store->ops->read(r, out + len, 3, err)) > 0)
		len += (size_t) n;
	store->ops->close(r);
	if (n < 0)
	{
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return out;
}

/* Read everything from obj starting at offset; returns malloc'd text. */
static char *
read_all(TelemStore *store, const TelemObject *obj, int64_t offset,
		 TelemError *err)
{
	return read_range(store, obj, offset, -1, err);
}

/* List prefix and compare the keys with want; frees the page. */
static void
expect_list(TelemStore *store, const char *prefix, const char *want,
			const char *label)
{
	TelemObjectPage page;
	TelemError	err;
	const char *got = list(store, prefix, &page, &err);

	CHECK_STREQ(got, want, label);
	if (strcmp(got, "ERROR") == 0)
		fprintf(stderr, "  (%s)\n", err.message);
	TelemObjectPageFree(&page);
}

/*
 * With b/d and b/c.jsonl made unreadable: a listing that meets the
 * directory fails with TELEM_ERR_IO, and so does opening the file.
 */
static void
check_permissions(TelemStore *store)
{
	TelemObjectPage page;
	TelemError	err;
	TelemObject obj;
	const char *got = list(store, P("b"), &page, &err);

	CHECK_STREQ(got, "ERROR", "unreadable dir");
	CHECK(err.kind == TELEM_ERR_IO && strstr(err.message, "b/d") != NULL,
		  "unreadable dir is IO: %d %s", err.kind, err.message);
	memset(&obj, 0, sizeof(obj));
	obj.key = (char *) P("b/c.jsonl");
	memset(&err, 0, sizeof(err));
	CHECK(store->ops->open(store, &obj, 0, &err) == NULL &&
		  err.kind == TELEM_ERR_IO && strstr(err.message, "c.jsonl") != NULL,
		  "unreadable file is IO: %d %s", err.kind, err.message);
}

/* start_after: only keys after it, in order; the rest is freed. */
static void
check_start_after(TelemStore *store)
{
	TelemObjectPage page;
	TelemError	err;

	memset(&err, 0, sizeof(err));
	CHECK(store->ops->list_page(store, P("day="), P("day=21/x.jsonl"), NULL,
								&page, &err), "start_after listing: %s", err.message);
	CHECK_STREQ(keys_of(&page), "/day=22/y.jsonl|/day=3/z.jsonl", "after day=21/x.jsonl");
	TelemObjectPageFree(&page);
	CHECK(store->ops->list_page(store, P("day="), P("day=3/z.jsonl"), NULL,
								&page, &err), "start_after past the end: %s", err.message);
	CHECK(page.nobjects == 0, "nothing after the last key: %d", page.nobjects);
	TelemObjectPageFree(&page);
	CHECK(store->ops->list_page(store, P("day="), P("a"), NULL, &page, &err) &&
		  page.nobjects == 3, "a start_after before every key keeps all: %d",
		  page.nobjects);
	TelemObjectPageFree(&page);
}

/* Prefixes of a page relative to root, joined with '|'. */
static char *
prefixes_of(const TelemObjectPage *page)
{
	static char s[4096];
	size_t		rlen = strlen(root);
	int			i;

	s[0] = '\0';
	for (i = 0; i < page->nprefixes; i++)
	{
		const char *k = page->prefixes[i];

		if (i > 0)
			strcat(s, "|");
		strcat(s, strncmp(k, root, rlen) == 0 ? k + rlen : k);
	}
	return s;
}

/*
 * list_level of prefix: objects and prefixes (relative, '|'-joined)
 * compared with want_objects and want_prefixes; frees the page.
 */
static void
expect_level(TelemStore *store, const char *prefix, const char *want_objects,
			 const char *want_prefixes, const char *label)
{
	TelemObjectPage page;
	TelemError	err;

	memset(&err, 0, sizeof(err));
	if (!store->ops->list_level(store, prefix, NULL, &page, &err))
	{
		CHECK(false, "%s: list_level failed: %s", label, err.message);
		return;
	}
	CHECK_STREQ(keys_of(&page), want_objects, label);
	CHECK_STREQ(prefixes_of(&page), want_prefixes, label);
	CHECK(page.next_token == NULL, "%s: one page", label);
	TelemObjectPageFree(&page);
	CHECK(page.prefixes == NULL && page.nprefixes == 0, "%s: freed", label);
}

/* list_level: one directory, files and subdirectories apart. */
static void
check_list_level(TelemStore *store)
{
	TelemObjectPage page;
	TelemError	err;
	char		prefix[600];

	/* 'Z' (0x5a) sorts before 'b': byte order, not locale order */
	mkdir_rel("Z");
	snprintf(prefix, sizeof(prefix), "%s/", root);
	expect_level(store, prefix, "/a.jsonl|/b-x.jsonl|/link-file.jsonl",
				 "/Z/|/b/|/day=21/|/day=22/|/day=3/|/empty/",
				 "root level: hidden, fifo, dangling link, dir link skipped");
	rmdir(P("Z"));
	expect_level(store, P("b/"), "/b/c.jsonl", "/b/d/",
				 "b/: backup skipped, nested dir as a prefix");
	expect_level(store, P("b/d/"), "/b/d/e.csv.gz", "",
				 "b/d/: symlink loop is no prefix");
	expect_level(store, P("day=22/"), "/day=22/y.jsonl", "",
				 "day=22/: hidden temporary skipped");
	expect_level(store, P("empty/"), "", "", "empty dir");
	expect_level(store, P(".staging/"), "/.staging/f.jsonl", "",
				 "an explicit hidden dir is listed");
	expect_level(store, P("link-dir/"), "/link-dir/c.jsonl", "/link-dir/d/",
				 "prefix through a symlink keeps the path as written");

	/* the page's objects carry what list_page reports */
	memset(&err, 0, sizeof(err));
	CHECK(store->ops->list_level(store, P("b/"), NULL, &page, &err) &&
		  page.nobjects == 1 && page.objects[0].size == 8 &&
		  page.objects[0].etag != NULL && page.objects[0].last_modified > 0,
		  "b/c.jsonl size, etag, mtime: %s", err.message);
	TelemObjectPageFree(&page);

	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->list_level(store, P("nope/"), NULL, &page, &err) &&
		  err.kind == TELEM_ERR_NOT_FOUND && page.nobjects == 0 &&
		  page.nprefixes == 0,
		  "missing dir is NOT_FOUND: %d %s", err.kind, err.message);
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->list_level(store, P("a.jsonl/"), NULL, &page, &err) &&
		  err.kind == TELEM_ERR_NOT_FOUND,
		  "file as a dir is NOT_FOUND: %d %s", err.kind, err.message);
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->list_level(store, P("b"), NULL, &page, &err) &&
		  err.kind == TELEM_ERR_CONFIG, "prefix without '/' is CONFIG");
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->list_level(store, "rel/", NULL, &page, &err) &&
		  err.kind == TELEM_ERR_CONFIG, "relative prefix is CONFIG");
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->list_level(store, P("b/"), "token", &page, &err) &&
		  err.kind == TELEM_ERR_CONFIG, "tokens are refused");
}

/* head: what the listing says, found = false when missing. */
static void
check_head(TelemStore *store)
{
	TelemObjectPage page;
	TelemObjectInfo info;
	TelemError	err;
	bool		found = true;

	CHECK(store->ops->head != NULL, "file store has head");
	CHECK(store->ops->create == NULL && store->ops->remove == NULL &&
		  store->ops->commit == NULL, "file store stays read-only");
	if (store->ops->head == NULL)
		return;

	memset(&err, 0, sizeof(err));
	CHECK(store->ops->list_page(store, P("a.jsonl"), NULL, NULL, &page, &err) &&
		  page.nobjects == 1, "list a.jsonl: %s", err.message);
	CHECK(store->ops->head(store, P("a.jsonl"), &info, &found, &err) && found,
		  "head a.jsonl: %s", err.message);
	if (page.nobjects == 1 && found)
	{
		CHECK(info.size == page.objects[0].size, "head size %lld",
			  (long long) info.size);
		CHECK_STREQ(info.etag, page.objects[0].etag, "head etag = listing etag");
		CHECK(info.last_modified == page.objects[0].last_modified,
			  "head last_modified");
		CHECK_STREQ(info.source_tag, "", "no source tag");
	}
	TelemObjectPageFree(&page);

	CHECK(store->ops->head(store, P("link-file.jsonl"), &info, &found, &err) &&
		  found && info.size == 16, "head follows a symlink: %lld",
		  (long long) info.size);
	found = true;
	CHECK(store->ops->head(store, P("b/gone.jsonl"), &info, &found, &err) &&
		  !found, "head missing: found=false: %s", err.message);
	found = true;
	CHECK(store->ops->head(store, P("a.jsonl/x"), &info, &found, &err) &&
		  !found, "head under a file: found=false: %s", err.message);
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->head(store, P("b"), &info, &found, &err) &&
		  err.kind == TELEM_ERR_IO, "head of a directory is IO: %d", err.kind);
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->head(store, P("fifo.jsonl"), &info, &found, &err) &&
		  err.kind == TELEM_ERR_IO, "head of a fifo is IO: %d", err.kind);
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->head(store, "a.jsonl", &info, &found, &err) &&
		  err.kind == TELEM_ERR_CONFIG, "relative key is CONFIG");
}

static bool	interrupted;

static bool
interrupt_now(void)
{
	return interrupted;
}

int
main(void)
{
	TelemError	err;
	TelemStore *store;
	TelemObjectPage page;
	const TelemObject *obj;
	TelemObject missing;
	char	   *text;
	const char *got;
	char		prefix[512];

	snprintf(root, sizeof(root), "%s/telem_fdw_fs_XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(root) == NULL)
	{
		perror("mkdtemp");
		return 2;
	}

	/*
	 * The tree.  "b-x.jsonl" sorts before "b/..." in byte order ('-' is
	 * 0x2d, '/' is 0x2f) although a depth-first walk would meet it later.
	 */
	write_rel("a.jsonl", "0123456789\n");
	mkdir_rel("b");
	write_rel("b/c.jsonl", "{\"c\":1}\n");
	mkdir_rel("b/d");
	write_rel("b/d/e.csv.gz", "not really gzip");
	write_rel("b/notes.txt~", "backup");
	write_rel("b-x.jsonl", "bx\n");
	write_rel(".hidden.jsonl", "hidden");
	mkdir_rel(".staging");
	write_rel(".staging/f.jsonl", "staged\n");
	mkdir_rel("day=21");
	write_rel("day=21/x.jsonl", "21\n");
	mkdir_rel("day=22");
	write_rel("day=22/y.jsonl", "22\n");
	write_rel("day=22/.y.jsonl.tmp", "partial upload");
	mkdir_rel("day=3");
	write_rel("day=3/z.jsonl", "3\n");
	mkdir_rel("empty");
	CHECK(symlink(P("b"), P("link-dir")) == 0, "symlink dir");
	CHECK(symlink(P("a.jsonl"), P("link-file.jsonl")) == 0, "symlink file");
	CHECK(symlink(P("nowhere"), P("link-dangling")) == 0, "dangling symlink");
	CHECK(symlink(P("."), P("b/d/loop")) == 0, "loop symlink");
	CHECK(mkfifo(P("fifo.jsonl"), 0644) == 0, "fifo");

	memset(&err, 0, sizeof(err));
	store = FileStoreCreate(&err);
	CHECK(store != NULL, "create: %s", err.message);

	/* The whole tree, sorted by full path; skipped entries absent. */
	got = list(store, root, &page, &err);
	CHECK_STREQ(got,
				"/a.jsonl|/b-x.jsonl|/b/c.jsonl|/b/d/e.csv.gz|/day=21/x.jsonl|"
				"/day=22/y.jsonl|/day=3/z.jsonl|/link-file.jsonl",
				"root listing");
	CHECK(page.next_token == NULL, "one page");

	/* Sizes, times and etags. */
	obj = find(&page, "a.jsonl");
	CHECK(obj != NULL && obj->size == 11, "a.jsonl size");
	CHECK(obj != NULL && obj->last_modified > 1600000000, "a.jsonl mtime");
	CHECK(obj != NULL && obj->etag != NULL && strchr(obj->etag, '-') != NULL,
		  "a.jsonl etag");
	obj = find(&page, "b/d/e.csv.gz");
	CHECK(obj != NULL && obj->size == 15, "e.csv.gz size");
	obj = find(&page, "link-file.jsonl");
	CHECK(obj != NULL && obj->size == 11, "symlinked file has target size");

	/* Reading from the start and from an offset. */
	obj = find(&page, "a.jsonl");
	text = obj ? read_all(store, obj, 0, &err) : NULL;
	CHECK_STREQ(text, "0123456789\n", "read from 0");
	free(text);
	text = obj ? read_all(store, obj, 4, &err) : NULL;
	CHECK_STREQ(text, "456789\n", "read from 4");
	free(text);
	text = obj ? read_all(store, obj, 11, &err) : NULL;
	CHECK_STREQ(text, "", "read from end");
	free(text);
	text = obj ? read_all(store, obj, 1000, &err) : NULL;
	CHECK_STREQ(text, "", "read past end");
	free(text);

	/* Ranges stop before their end, even mid-read. */
	text = obj ? read_range(store, obj, 2, 7, &err) : NULL;
	CHECK_STREQ(text, "23456", "range 2-7");
	free(text);
	text = obj ? read_range(store, obj, 9, 100, &err) : NULL;
	CHECK_STREQ(text, "9\n", "range past the end");
	free(text);
	text = obj ? read_range(store, obj, 5, 5, &err) : NULL;
	CHECK_STREQ(text, "", "empty range");
	free(text);
	memset(&err, 0, sizeof(err));
	CHECK(obj && store->ops->open_range(store, obj, 5, 4, &err) == NULL &&
		  err.kind == TELEM_ERR_CONFIG, "backwards range");
	obj = find(&page, "link-file.jsonl");
	text = obj ? read_all(store, obj, 8, &err) : NULL;
	CHECK_STREQ(text, "89\n", "read through symlink");
	free(text);

	/* The etag changes when the file does. */
	{
		char	   *old_etag = strdup(find(&page, "a.jsonl")->etag);
		TelemObjectPage page2;

		write_rel("a.jsonl", "0123456789\nmore\n");
		got = list(store, P("a.jsonl"), &page2, &err);
		CHECK_STREQ(got, "/a.jsonl", "relist a.jsonl");
		CHECK(page2.nobjects == 1 && page2.objects[0].size == 16 &&
			  strcmp(page2.objects[0].etag, old_etag) != 0,
			  "etag changed: %s vs %s", old_etag,
			  page2.nobjects ? page2.objects[0].etag : "-");
		free(old_etag);
		TelemObjectPageFree(&page2);
	}
	TelemObjectPageFree(&page);
	CHECK(page.objects == NULL && page.nobjects == 0, "page freed");

	/* Directory, with and without the trailing slash. */
	expect_list(store, P("b"), "/b/c.jsonl|/b/d/e.csv.gz", "dir b");
	got = list(store, P("b/"), &page, &err);
	CHECK_STREQ(got, "/b/c.jsonl|/b/d/e.csv.gz", "dir b/");
	CHECK(page.nobjects == 2 && strcmp(page.objects[0].key, P("b/c.jsonl")) == 0,
		  "keys keep the prefix as written");
	TelemObjectPageFree(&page);

	/* A partial name matches across directories, like an S3 prefix. */
	expect_list(store, P("day=2"),
				"/day=21/x.jsonl|/day=22/y.jsonl", "partial day=2");
	expect_list(store, P("b"), "/b/c.jsonl|/b/d/e.csv.gz",
				"existing dir b is a directory, not a partial name");
	expect_list(store, P("b-"), "/b-x.jsonl", "partial b-");
	expect_list(store, P("b/c"), "/b/c.jsonl", "partial b/c");
	expect_list(store, P("a.jsonl"), "/a.jsonl",
				"a file name is a prefix too");
	got = list(store, P("zzz"), &page, &err);
	CHECK_STREQ(got, "", "partial with no match");
	CHECK(page.nobjects == 0 && page.objects == NULL, "empty page");
	TelemObjectPageFree(&page);
	expect_list(store, P("empty/"), "", "empty dir");

	/* Hidden names are listed only when the prefix spells them out. */
	expect_list(store, P(".staging/"), "/.staging/f.jsonl",
				"explicit hidden dir");
	expect_list(store, P(".hid"), "/.hidden.jsonl",
				"explicit hidden partial");

	/* A symlinked directory named as the prefix is honoured. */
	expect_list(store, P("link-dir/"),
				"/link-dir/c.jsonl|/link-dir/d/e.csv.gz", "prefix through symlink");

	/* Missing things. */
	got = list(store, P("nope/"), &page, &err);
	CHECK_STREQ(got, "ERROR", "missing dir");
	CHECK(err.kind == TELEM_ERR_NOT_FOUND && strstr(err.message, P("nope")) != NULL,
		  "missing dir is NOT_FOUND naming the path: %d %s", err.kind, err.message);
	CHECK(page.objects == NULL && page.nobjects == 0, "no page on error");
	got = list(store, P("nope/day=1"), &page, &err);
	CHECK_STREQ(got, "ERROR", "missing parent of partial");
	CHECK(err.kind == TELEM_ERR_NOT_FOUND, "missing parent NOT_FOUND: %s",
		  err.message);
	got = list(store, P("a.jsonl/x"), &page, &err);
	CHECK_STREQ(got, "ERROR", "file used as a directory");
	CHECK(err.kind == TELEM_ERR_NOT_FOUND, "ENOTDIR NOT_FOUND: %s", err.message);
	got = list(store, "relative/path", &page, &err);
	CHECK_STREQ(got, "ERROR", "relative");
	CHECK(err.kind == TELEM_ERR_CONFIG, "relative prefix is CONFIG");
	memset(&err, 0, sizeof(err));
	CHECK(!store->ops->list_page(store, root, NULL, "token", &page, &err) &&
		  err.kind == TELEM_ERR_CONFIG, "tokens are refused");

	memset(&missing, 0, sizeof(missing));
	missing.key = (char *) P("b/gone.jsonl");
	memset(&err, 0, sizeof(err));
	CHECK(store->ops->open(store, &missing, 0, &err) == NULL &&
		  err.kind == TELEM_ERR_NOT_FOUND &&
		  strstr(err.message, "gone.jsonl") != NULL,
		  "open missing: %d %s", err.kind, err.message);
	missing.key = (char *) P("b");
	CHECK(store->ops->open(store, &missing, 0, &err) == NULL &&
		  err.kind == TELEM_ERR_IO, "open a directory: %s", err.message);
	missing.key = (char *) P("fifo.jsonl");
	CHECK(store->ops->open(store, &missing, 0, &err) == NULL &&
		  err.kind == TELEM_ERR_IO, "open a fifo does not hang: %s", err.message);
	missing.key = (char *) P("a.jsonl");
	CHECK(store->ops->open(store, &missing, -1, &err) == NULL &&
		  err.kind == TELEM_ERR_CONFIG, "negative offset");

	/*
	 * Permission denied is an I/O error.  Root ignores file modes, so as
	 * root the checks run in a child that has become "nobody".
	 */
	check_start_after(store);
	check_list_level(store);
	check_head(store);
	chmod(P("b/d"), 0);
	chmod(P("b/c.jsonl"), 0);
	if (geteuid() != 0)
		check_permissions(store);
	else
	{
		pid_t		pid;
		int			status = 0;

		chmod(root, 0755);		/* mkdtemp made it 0700 */
		fflush(NULL);
		pid = fork();
		if (pid == 0)
		{
			int			before = unit_passed;

			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(100);
			check_permissions(store);
			fflush(NULL);
			/* Fail too if the checks somehow did not all run. */
			_exit(unit_failed > 0 ? 1 : unit_passed - before == 3 ? 0 : 2);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid &&
			  WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "permission checks as nobody: status %d", status);
	}
	chmod(P("b/d"), 0755);
	chmod(P("b/c.jsonl"), 0644);

	/* The interrupt hook cancels a listing. */
	telem_interrupt_hook = interrupt_now;
	interrupted = true;
	got = list(store, root, &page, &err);
	CHECK_STREQ(got, "ERROR", "interrupted");
	CHECK(err.kind == TELEM_ERR_CANCELED, "CANCELED");
	interrupted = false;
	telem_interrupt_hook = NULL;

	store->ops->destroy(store);

	snprintf(prefix, sizeof(prefix), "%s", root);
	nftw(prefix, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	CHECK(access(prefix, F_OK) != 0 && errno == ENOENT, "temp dir removed");

	return unit_finish("test_file_store");
}
