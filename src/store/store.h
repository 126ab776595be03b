/*-------------------------------------------------------------------------
 *
 * store.h
 *		The object-store interface: list objects under a prefix, stream one.
 *
 * Everything behind this header is plain C (libcurl, OpenSSL, libxml2,
 * stdio) and never includes postgres.h, so it can be unit-tested without a
 * server.  Memory is malloc'd; the PostgreSQL side owns every handle and
 * releases it from a memory-context reset callback, so an aborted query
 * leaks nothing.  Errors come back in a TelemError and are turned into
 * ereport()s in exactly one place (store_error.c).
 *
 * IDENTIFICATION
 *		src/store/store.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_STORE_H
#define TELEM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What went wrong, in terms the SQL side maps to a SQLSTATE. */
typedef enum TelemErrorKind
{
	TELEM_OK = 0,
	TELEM_ERR_CONFIG,			/* bad option value, missing credentials */
	TELEM_ERR_AUTH,				/* HTTP 401/403 */
	TELEM_ERR_NOT_FOUND,		/* HTTP 404, missing file or bucket */
	TELEM_ERR_NETWORK,			/* connect/TLS/transfer failure after retries */
	TELEM_ERR_PROTOCOL,			/* unexpected HTTP status or malformed reply */
	TELEM_ERR_DATA,				/* corrupt compressed stream, bad input */
	TELEM_ERR_IO,				/* local file system error */
	TELEM_ERR_CANCELED,			/* the interrupt hook asked us to stop */
	TELEM_ERR_OUT_OF_MEMORY
} TelemErrorKind;

typedef struct TelemError
{
	TelemErrorKind kind;
	long		http_status;	/* 0 when not an HTTP error */
	char		code[64];		/* remote error code, e.g. "NoSuchBucket" */
	char		message[512];	/* human-readable cause; never holds a secret */
} TelemError;

/* Set err and return false; for one-line error exits. */
extern bool TelemSetError(TelemError *err, TelemErrorKind kind,
						  const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/*
 * Interrupt hook.  Long waits call it every ~100 ms; when it returns true the
 * operation stops with TELEM_ERR_CANCELED and the caller (SQL side) then runs
 * CHECK_FOR_INTERRUPTS().  NULL means "never interrupted".
 */
extern bool (*telem_interrupt_hook) (void);

/* One object as a listing reports it. */
typedef struct TelemObject
{
	char	   *key;			/* full key (S3) or absolute path (file) */
	int64_t		size;
	char	   *etag;			/* without quotes; may be NULL */
	int64_t		last_modified;	/* seconds since the Unix epoch, UTC */
} TelemObject;

/* A page of a listing; free with TelemObjectPageFree. */
typedef struct TelemObjectPage
{
	TelemObject *objects;
	int			nobjects;
	char	   *next_token;		/* NULL when this was the last page */
} TelemObjectPage;

extern void TelemObjectPageFree(TelemObjectPage *page);

typedef struct TelemStore TelemStore;
typedef struct TelemReader TelemReader;

/* Operations every store implements. */
typedef struct TelemStoreOps
{
	/*
	 * List objects whose key starts with prefix, in key order.  token is
	 * NULL for the first page, else the previous page's next_token.  With
	 * start_after, only keys after it (byte order) are listed: when keys
	 * grow with time, that lists only what is new.
	 */
	bool		(*list_page) (TelemStore *store, const char *prefix,
							  const char *start_after, const char *token,
							  TelemObjectPage *page, TelemError *err);
	/* Open obj for streaming from byte offset 'offset'. */
	TelemReader *(*open) (TelemStore *store, const TelemObject *obj,
						  int64_t offset, TelemError *err);
	/* Read up to len bytes; 0 at end of object, -1 on error. */
	ssize_t		(*read) (TelemReader *reader, void *buf, size_t len,
						 TelemError *err);
	void		(*close) (TelemReader *reader);
	void		(*destroy) (TelemStore *store);
} TelemStoreOps;

struct TelemStore
{
	const TelemStoreOps *ops;
};

struct TelemReader
{
	TelemStore *store;
};

/* Statistics a reader keeps, for EXPLAIN ANALYZE and tests. */
typedef struct TelemReaderStats
{
	int64_t		bytes_read;		/* bytes handed to the caller */
	int			resumes;		/* Range requests after a dropped transfer */
} TelemReaderStats;

/* in file.c: a local directory tree */
extern TelemStore *FileStoreCreate(TelemError *err);

/* in s3.c */
typedef struct S3Config
{
	const char *bucket;
	const char *region;			/* e.g. "us-east-1" */
	const char *endpoint;		/* "http://127.0.0.1:7480"; NULL = AWS */
	bool		path_style;		/* url_style 'path' */
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL when none */
	const char *ca_file;		/* NULL = system bundle */
	bool		verify_tls;		/* always true unless a test turns it off */
	int			page_size;		/* ListObjectsV2 max-keys, 1..1000 */
	int			max_retries;	/* per request, for transient failures */
	long		connect_timeout_ms;
	size_t		buffer_size;	/* bytes held per open reader at most */
} S3Config;

extern TelemStore *S3StoreCreate(const S3Config *cfg, TelemError *err);
extern void S3ReaderStats(TelemReader *reader, TelemReaderStats *stats);

#endif							/* TELEM_STORE_H */
