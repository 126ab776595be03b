/*-------------------------------------------------------------------------
 *
 * file.c
 *		The object store for a local directory tree.
 *
 * Keys are absolute paths.  A listing prefix works like an S3 prefix on the
 * full path: "/data/raw/day=2" matches "/data/raw/day=21/a.jsonl" and
 * "/data/raw/day=22/b.jsonl".  A prefix that ends in '/' or names an existing
 * directory lists every file below that directory.  The whole listing comes
 * back as one page, sorted by path in byte order (strcmp), like S3 keys.
 *
 * What a listing includes, and why:
 *
 * - Regular files only.  FIFOs, sockets and devices are skipped: opening a
 *	 FIFO would block the backend until some writer appeared.
 * - Names starting with '.' are skipped, files and directories alike, at
 *	 every level below the prefix: they are editor swap files, rsync/upload
 *	 temporaries (".x.jsonl.Ab12") and VCS metadata, never finished data.
 *	 Names ending in '~' (editor backups) are skipped too.  A path the user
 *	 spells out is always honoured, so a prefix such as "/data/.staging/"
 *	 or "/data/raw/.x" does list what is under or matches it.
 * - Symbolic links to regular files are followed and listed under the
 *	 link's own path, with the target's size and mtime.  Symbolic links to
 *	 directories are not descended into, so a link cycle cannot make a
 *	 listing loop or list files twice; dangling links are skipped.  The
 *	 prefix itself may pass through symlinks (the kernel resolves those).
 * - An unreadable directory fails the listing (TELEM_ERR_IO) instead of
 *	 being skipped, since skipping would silently drop data.
 *
 * A listing by level (list_level) reads one directory: its files, chosen
 * as above, and its subdirectories (not hidden, not symlinks) as prefixes
 * "DIR/name/"; each list sorted in byte order, in one page.
 *
 * The etag is "<mtime seconds>.<mtime nanoseconds>-<size>" in hex, so a
 * rewrite or an append shows up as a change to whoever compares etags;
 * head() reports the same etag.  The store is read-only: head is its only
 * write-side operation.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/file.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

typedef struct FileStore
{
	TelemStore	base;			/* must be first */
} FileStore;

typedef struct FileReader
{
	TelemReader base;			/* must be first */
	int			fd;
	char	   *path;			/* for error messages */
	int64_t		left;			/* bytes before the range's end, -1: no end */
} FileReader;

/* Objects collected by a listing, before sorting. */
typedef struct FileList
{
	TelemObject *items;
	int			n;
	int			cap;
} FileList;

/* Map a failed system call's errno to our error kinds. */
static TelemErrorKind
errno_kind(int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return TELEM_ERR_NOT_FOUND;
	if (e == ENOMEM)
		return TELEM_ERR_OUT_OF_MEMORY;
	return TELEM_ERR_IO;
}

/* Should a directory entry be left out of listings?  See the file header. */
static bool
skip_name(const char *name)
{
	size_t		len = strlen(name);

	return name[0] == '.' || (len > 0 && name[len - 1] == '~');
}

/*
 * Join dir and name into a malloc'd path.  dir may already end in '/'
 * (the root, or a prefix the user wrote that way).
 */
static char *
path_join(const char *dir, const char *name)
{
	size_t		dlen = strlen(dir);
	size_t		nlen = strlen(name);
	bool		slash = dlen == 0 || dir[dlen - 1] != '/';
	char	   *p = malloc(dlen + slash + nlen + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, dir, dlen);
	if (slash)
		p[dlen] = '/';
	memcpy(p + dlen + slash, name, nlen + 1);
	return p;
}

/* The etag of a file with status st; see the file header. */
static void
format_etag(const struct stat *st, char *buf, size_t size)
{
	snprintf(buf, size, "%llx.%lx-%llx",
			 (unsigned long long) st->st_mtim.tv_sec,
			 (unsigned long) st->st_mtim.tv_nsec,
			 (unsigned long long) st->st_size);
}

/*
 * Add one file to the list; takes ownership of path (freed on failure).
 */
static bool
list_add(FileList *list, char *path, const struct stat *st, TelemError *err)
{
	TelemObject *obj;
	char		etag[64];

	if (list->n == list->cap)
	{
		int			newcap = list->cap ? list->cap * 2 : 64;
		TelemObject *items;

		items = realloc(list->items, (size_t) newcap * sizeof(TelemObject));
		if (items == NULL)
		{
			free(path);
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		}
		list->items = items;
		list->cap = newcap;
	}

	format_etag(st, etag, sizeof(etag));
	obj = &list->items[list->n];
	obj->key = path;
	obj->size = (int64_t) st->st_size;
	obj->last_modified = (int64_t) st->st_mtim.tv_sec;
	obj->etag = strdup(etag);
	if (obj->etag == NULL)
	{
		free(path);
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
	}
	list->n++;
	return true;
}

static void
list_free(FileList *list)
{
	int			i;

	for (i = 0; i < list->n; i++)
	{
		free(list->items[i].key);
		free(list->items[i].etag);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/* Names read from one directory. */
typedef struct NameList
{
	char	  **names;
	int			n;
	int			cap;
} NameList;

static void
names_free(NameList *nl)
{
	int			i;

	for (i = 0; i < nl->n; i++)
		free(nl->names[i]);
	free(nl->names);
	memset(nl, 0, sizeof(*nl));
}

/*
 * Read the entries of directory 'dir' whose names start with 'match'
 * (every entry when match is ""), leaving out "." and "..", and hidden or
 * backup names unless 'keep_hidden'.  The directory is closed before we
 * return, so a deep walk holds one descriptor at a time.
 */
static bool
read_names(const char *dir, const char *match, bool keep_hidden,
		   NameList *nl, TelemError *err)
{
	DIR		   *d;
	struct dirent *de;
	size_t		mlen = strlen(match);

	memset(nl, 0, sizeof(*nl));
	d = opendir(dir);
	if (d == NULL)
	{
		int			e = errno;

		if (errno_kind(e) == TELEM_ERR_NOT_FOUND)
			return TelemSetError(err, TELEM_ERR_NOT_FOUND,
								 "directory \"%s\" does not exist", dir);
		return TelemSetError(err, errno_kind(e),
							 "could not open directory \"%s\": %s",
							 dir, strerror(e));
	}

	for (;;)
	{
		errno = 0;
		de = readdir(d);
		if (de == NULL)
		{
			if (errno != 0)
			{
				int			e = errno;

				closedir(d);
				names_free(nl);
				return TelemSetError(err, errno_kind(e),
									 "could not read directory \"%s\": %s",
									 dir, strerror(e));
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strncmp(de->d_name, match, mlen) != 0)
			continue;
		if (!keep_hidden && skip_name(de->d_name))
			continue;

		if (nl->n == nl->cap)
		{
			int			newcap = nl->cap ? nl->cap * 2 : 32;
			char	  **names = realloc(nl->names, (size_t) newcap * sizeof(char *));

			if (names == NULL)
				goto oom;
			nl->names = names;
			nl->cap = newcap;
		}
		nl->names[nl->n] = strdup(de->d_name);
		if (nl->names[nl->n] == NULL)
			goto oom;
		nl->n++;
	}
	closedir(d);
	return true;

oom:
	closedir(d);
	names_free(nl);
	return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
}

static bool walk_dir(const char *dir, FileList *list, TelemError *err);

/*
 * Look at one entry found in a directory: add it if it is a regular file
 * (or a symlink to one), descend if it is a real directory, else ignore it.
 * Takes ownership of path.
 */
static bool
visit_entry(char *path, FileList *list, TelemError *err)
{
	struct stat st;
	bool		ok;

	if (lstat(path, &st) != 0)
	{
		int			e = errno;

		/* Deleted between readdir and lstat: it is simply not there. */
		if (e == ENOENT)
		{
			free(path);
			return true;
		}
		TelemSetError(err, errno_kind(e), "could not stat file \"%s\": %s",
					  path, strerror(e));
		free(path);
		return false;
	}

	if (S_ISLNK(st.st_mode))
	{
		/* Follow links to files only; a dangling link is skipped. */
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		{
			free(path);
			return true;
		}
		return list_add(list, path, &st, err);
	}
	if (S_ISREG(st.st_mode))
		return list_add(list, path, &st, err);
	if (S_ISDIR(st.st_mode))
	{
		ok = walk_dir(path, list, err);
		free(path);
		return ok;
	}
	/* FIFO, socket, device: never read. */
	free(path);
	return true;
}

/*
 * Add every listable file below directory 'dir' to list.
 */
static bool
walk_dir(const char *dir, FileList *list, TelemError *err)
{
	NameList	nl;
	int			i;

	/* Large trees take a while; let the backend cancel us. */
	if (telem_interrupt_hook != NULL && telem_interrupt_hook())
		return TelemSetError(err, TELEM_ERR_CANCELED, "listing canceled");

	if (!read_names(dir, "", false, &nl, err))
		return false;
	for (i = 0; i < nl.n; i++)
	{
		char	   *path = path_join(dir, nl.names[i]);

		if (path == NULL)
		{
			names_free(&nl);
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		}
		if (!visit_entry(path, list, err))
		{
			names_free(&nl);
			return false;
		}
	}
	names_free(&nl);
	return true;
}

static int
object_cmp(const void *a, const void *b)
{
	return strcmp(((const TelemObject *) a)->key, ((const TelemObject *) b)->key);
}

/*
 * The arguments both listings take: no continuation token (one page), an
 * absolute prefix that fits in a path, ending in '/' when a directory is
 * required.
 */
static bool
check_prefix(const char *prefix, const char *token, bool directory,
			 TelemError *err)
{
	size_t		plen;

	if (token != NULL)
		return TelemSetError(err, TELEM_ERR_CONFIG,
							 "file store listings have a single page");
	if (prefix == NULL || prefix[0] != '/')
		return TelemSetError(err, TELEM_ERR_CONFIG,
							 "file prefix \"%s\" is not an absolute path",
							 prefix ? prefix : "");
	plen = strlen(prefix);
	if (directory && prefix[plen - 1] != '/')
		return TelemSetError(err, TELEM_ERR_CONFIG,
							 "file prefix \"%s\" does not end in '/'", prefix);
	if (plen >= PATH_MAX)
		return TelemSetError(err, TELEM_ERR_CONFIG, "file prefix is too long");
	return true;
}

/*
 * list_page: every file whose path starts with prefix (see the file
 * header), in one page.
 */
static bool
file_list_page(TelemStore *store, const char *prefix, const char *start_after,
			   const char *token, TelemObjectPage *page, TelemError *err)
{
	FileList	list;
	struct stat st;
	size_t		plen;
	bool		ok;

	(void) store;
	memset(page, 0, sizeof(*page));
	memset(&list, 0, sizeof(list));

	if (!check_prefix(prefix, token, false, err))
		return false;
	plen = strlen(prefix);

	if (prefix[plen - 1] == '/' ||
		(stat(prefix, &st) == 0 && S_ISDIR(st.st_mode)))
	{
		/* A directory: everything below it. */
		ok = walk_dir(prefix, &list, err);
	}
	else
	{
		/*
		 * A partial name: entries of the parent directory whose names start
		 * with the last component, each listed (or walked) in full.
		 */
		const char *slash = strrchr(prefix, '/');
		const char *match = slash + 1;
		size_t		dlen = (slash == prefix) ? 1 : (size_t) (slash - prefix);
		char	   *parent = malloc(dlen + 1);
		NameList	nl;
		int			i;

		if (parent == NULL)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		memcpy(parent, prefix, dlen);
		parent[dlen] = '\0';

		/* The user spelled out a leading '.', so hidden names may match. */
		ok = read_names(parent, match, match[0] == '.', &nl, err);
		for (i = 0; ok && i < nl.n; i++)
		{
			char	   *path = path_join(parent, nl.names[i]);

			if (path == NULL)
				ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
			else
				ok = visit_entry(path, &list, err);
		}
		names_free(&nl);
		free(parent);
	}

	if (!ok)
	{
		list_free(&list);
		return false;
	}

	if (list.n > 1)
		qsort(list.items, (size_t) list.n, sizeof(TelemObject), object_cmp);
	if (start_after != NULL && start_after[0] != '\0')
	{
		/* drop the sorted prefix of keys <= start_after */
		int			skip = 0;
		int			i;

		while (skip < list.n && strcmp(list.items[skip].key, start_after) <= 0)
			skip++;
		for (i = 0; i < skip; i++)
		{
			free(list.items[i].key);
			free(list.items[i].etag);
		}
		memmove(list.items, list.items + skip, sizeof(TelemObject) * (list.n - skip));
		list.n -= skip;
	}
	page->objects = list.items;
	page->nobjects = list.n;
	page->next_token = NULL;
	return true;
}

static int
prefix_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * list_level: the entries of directory prefix (absolute, ending in '/'),
 * one level deep, in one page.  Files are chosen as in the recursive walk
 * (regular files and symlinks to them; hidden and backup names skipped);
 * real subdirectories that are not hidden become prefixes "PREFIXname/".
 * Symlinks to directories are neither, as the walk does not descend them.
 */
static bool
file_list_level(TelemStore *store, const char *prefix, const char *token,
				TelemObjectPage *page, TelemError *err)
{
	FileList	list;
	NameList	nl;
	char	  **dirs = NULL;
	int			ndirs = 0;
	bool		ok = true;
	int			i;

	(void) store;
	memset(page, 0, sizeof(*page));
	memset(&list, 0, sizeof(list));

	if (!check_prefix(prefix, token, true, err))
		return false;

	if (telem_interrupt_hook != NULL && telem_interrupt_hook())
		return TelemSetError(err, TELEM_ERR_CANCELED, "listing canceled");
	if (!read_names(prefix, "", false, &nl, err))
		return false;
	if (nl.n > 0 && (dirs = calloc(nl.n, sizeof(char *))) == NULL)
		ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");

	for (i = 0; ok && i < nl.n; i++)
	{
		char	   *path = path_join(prefix, nl.names[i]);
		struct stat st;

		if (path == NULL)
		{
			ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
			break;
		}
		if (lstat(path, &st) != 0)
		{
			int			e = errno;

			/* deleted between readdir and lstat: simply not there */
			if (e != ENOENT)
				ok = TelemSetError(err, errno_kind(e),
								   "could not stat file \"%s\": %s",
								   path, strerror(e));
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode))
		{
			size_t		n = strlen(path);
			char	   *dir = realloc(path, n + 2);

			if (dir == NULL)
			{
				free(path);
				ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
				break;
			}
			dir[n] = '/';
			dir[n + 1] = '\0';
			dirs[ndirs++] = dir;
			continue;
		}
		/* a symlink counts if it leads to a regular file; dangling: skip */
		if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
		{
			free(path);
			continue;
		}
		if (S_ISREG(st.st_mode))
			ok = list_add(&list, path, &st, err);	/* owns path */
		else
			free(path);			/* FIFO, socket, device, link to a dir */
	}
	names_free(&nl);

	if (!ok)
	{
		for (i = 0; i < ndirs; i++)
			free(dirs[i]);
		free(dirs);
		list_free(&list);
		return false;
	}
	if (list.n > 1)
		qsort(list.items, (size_t) list.n, sizeof(TelemObject), object_cmp);
	if (ndirs > 1)
		qsort(dirs, (size_t) ndirs, sizeof(char *), prefix_cmp);
	page->objects = list.items;
	page->nobjects = list.n;
	page->prefixes = dirs;
	page->nprefixes = ndirs;
	return true;
}

/*
 * head: size, etag and mtime of the file at key (an absolute path; a
 * symlink is followed).  A missing path is *found = false; anything but a
 * regular file is an error, as open() would refuse it.  The file store
 * keeps no metadata, so source_tag is always "".
 */
static bool
file_head(TelemStore *store, const char *key, TelemObjectInfo *info,
		  bool *found, TelemError *err)
{
	struct stat st;

	(void) store;
	memset(info, 0, sizeof(*info));
	*found = false;
	if (key == NULL || key[0] != '/')
		return TelemSetError(err, TELEM_ERR_CONFIG,
							 "file key \"%s\" is not an absolute path",
							 key ? key : "");
	if (stat(key, &st) != 0)
	{
		int			e = errno;

		if (errno_kind(e) == TELEM_ERR_NOT_FOUND)
			return true;
		return TelemSetError(err, errno_kind(e),
							 "could not stat file \"%s\": %s", key,
							 strerror(e));
	}
	if (!S_ISREG(st.st_mode))
		return TelemSetError(err, TELEM_ERR_IO,
							 "\"%s\" is not a regular file", key);
	info->size = (int64_t) st.st_size;
	format_etag(&st, info->etag, sizeof(info->etag));
	info->last_modified = (int64_t) st.st_mtim.tv_sec;
	*found = true;
	return true;
}

/*
 * open_range: open obj->key (following a symlink to a regular file),
 * position it at 'offset' and stop before 'end' (-1: at the end of the
 * file).  Anything but a regular file is refused.
 */
static TelemReader *
file_open_range(TelemStore *store, const TelemObject *obj, int64_t offset,
				int64_t end, TelemError *err)
{
	FileReader *reader;
	struct stat st;
	int			fd;
	int			flags;

	if (obj == NULL || obj->key == NULL || obj->key[0] != '/')
	{
		TelemSetError(err, TELEM_ERR_CONFIG, "file key is not an absolute path");
		return NULL;
	}
	if (offset < 0 || (end >= 0 && end < offset))
	{
		TelemSetError(err, TELEM_ERR_CONFIG,
					  "bad range %lld-%lld for file \"%s\"",
					  (long long) offset, (long long) end, obj->key);
		return NULL;
	}

	/* O_NONBLOCK so that a FIFO put in place of a file cannot hang us. */
	fd = open(obj->key, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
	{
		int			e = errno;

		if (errno_kind(e) == TELEM_ERR_NOT_FOUND)
			TelemSetError(err, TELEM_ERR_NOT_FOUND,
						  "file \"%s\" does not exist", obj->key);
		else
			TelemSetError(err, errno_kind(e),
						  "could not open file \"%s\": %s",
						  obj->key, strerror(e));
		return NULL;
	}
	if (fstat(fd, &st) != 0)
	{
		int			e = errno;

		TelemSetError(err, TELEM_ERR_IO, "could not stat file \"%s\": %s",
					  obj->key, strerror(e));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode))
	{
		TelemSetError(err, TELEM_ERR_IO, "\"%s\" is not a regular file",
					  obj->key);
		close(fd);
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);

	if (offset > 0 && lseek(fd, (off_t) offset, SEEK_SET) < 0)
	{
		int			e = errno;

		TelemSetError(err, TELEM_ERR_IO,
					  "could not seek to offset %lld in file \"%s\": %s",
					  (long long) offset, obj->key, strerror(e));
		close(fd);
		return NULL;
	}

	reader = calloc(1, sizeof(*reader));
	if (reader == NULL || (reader->path = strdup(obj->key)) == NULL)
	{
		free(reader);
		close(fd);
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	reader->base.store = store;
	reader->fd = fd;
	reader->left = end >= 0 ? end - offset : -1;
	return &reader->base;
}

/* open: from offset to the end of the file. */
static TelemReader *
file_open(TelemStore *store, const TelemObject *obj, int64_t offset,
		  TelemError *err)
{
	return file_open_range(store, obj, offset, -1, err);
}

/*
 * read: up to len bytes from the current position; 0 at end of file.
 */
static ssize_t
file_read(TelemReader *r, void *buf, size_t len, TelemError *err)
{
	FileReader *reader = (FileReader *) r;
	ssize_t		n;

	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (reader->left >= 0 && (int64_t) len > reader->left)
		len = (size_t) reader->left;
	if (len == 0)
		return 0;
	do
		n = read(reader->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0 && reader->left >= 0)
		reader->left -= n;

	if (n < 0)
	{
		int			e = errno;

		TelemSetError(err, TELEM_ERR_IO, "could not read file \"%s\": %s",
					  reader->path, strerror(e));
		return -1;
	}
	return n;
}

static void
file_close(TelemReader *r)
{
	FileReader *reader = (FileReader *) r;

	if (reader == NULL)
		return;
	close(reader->fd);
	free(reader->path);
	free(reader);
}

static void
file_destroy(TelemStore *store)
{
	free(store);
}

static const TelemStoreOps file_store_ops = {
	.list_page = file_list_page,
	.list_level = file_list_level,
	.open = file_open,
	.open_range = file_open_range,
	.read = file_read,
	.close = file_close,
	.destroy = file_destroy,
	.head = file_head,
	/* no create, write, commit, discard, remove: read-only */
};

/*
 * Create a store for the local file system.  It holds no state, so one
 * store may serve any number of prefixes.
 */
TelemStore *
FileStoreCreate(TelemError *err)
{
	FileStore  *store = calloc(1, sizeof(*store));

	if (store == NULL)
	{
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	store->base.ops = &file_store_ops;
	return &store->base;
}
