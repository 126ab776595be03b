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

	/*
	 * list_level only: the "directories" one level below the prefix, each
	 * the prefix plus one segment plus '/', in key order (S3
	 * CommonPrefixes, Azure BlobPrefix, subdirectories).  malloc'd; freed by
	 * TelemObjectPageFree.
	 */
	char	  **prefixes;
	int			nprefixes;
} TelemObjectPage;

extern void TelemObjectPageFree(TelemObjectPage *page);

typedef struct TelemStore TelemStore;
typedef struct TelemReader TelemReader;

typedef struct TelemWriter TelemWriter;

/* What head() and a writer's commit() report about one stored object. */
typedef struct TelemObjectInfo
{
	int64_t		size;
	char		etag[256];		/* without quotes; "" if none */
	int64_t		last_modified;	/* seconds since the Unix epoch, UTC */
	char		source_tag[256];	/* metadata "telem_source", "" if unset */
} TelemObjectInfo;

/* How to write one object. */
typedef struct TelemWriteOptions
{
	/*
	 * Bytes per block (Azure Put Block) or part (S3 multipart); the writer
	 * holds one block in memory at most.  0 = 8 MB.  S3 needs >= 5 MB.
	 */
	size_t		block_size;

	/*
	 * Stored as object metadata "telem_source" (Azure x-ms-meta-,
	 * S3 x-amz-meta-) and reported back by head(): the transfer records the
	 * source version there, so a rerun can tell a committed copy from a
	 * stale one.  Printable ASCII without '"', at most 255 bytes; NULL for
	 * none.
	 */
	const char *source_tag;
} TelemWriteOptions;

/*
 * Operations every store implements.  The write side (head, create, write,
 * commit, discard, remove) may be NULL: such a store is read-only.
 *
 * Readers and prefetch.  A caller may keep several readers of one store
 * open at once, e.g. the next objects of a scan while the current one is
 * decoded; how many is the caller's choice, and each costs the store's
 * buffer_size of memory at most (S3Config, AzureConfig).
 *  - open() does not wait for the object: it starts the request (S3,
 *    Azure: the GET is sent) and returns.  Whatever the reply is -- not
 *    found, denied, changed since listed -- is reported by the first
 *    read(), as a failure of a started request is.  open() itself fails
 *    only when a request cannot be made at all (bad key, credentials that
 *    cannot be had, memory); it may wait to fetch an Entra ID token.
 *  - The readers of one store progress together, without threads: any
 *    read() that has to wait for its own bytes also moves every other open
 *    reader of that store along, each into its own buffer, and each stops
 *    (TCP flow control) when its buffer is full.  A read() that is served
 *    from the buffer gives the others a non-blocking step too, so they
 *    advance whenever the caller reads.  A caller that works a while
 *    between reads (a decoder turning one input block into many rows)
 *    should also call pump() every few rows: it costs a clock read when
 *    called again within 250 us, one non-blocking curl step otherwise.
 *  - A reader whose transfer fails while another is being read keeps the
 *    failure until its own read(), which then resumes or retries exactly
 *    as it would have (Range + If-Match from the first byte not yet
 *    handed out, the store's max_retries).
 *  - The interrupt hook is polled every ~100 ms by whichever read() waits.
 *  - Close every reader (in any order) before destroy().
 * The file store reads local files; its open() and read() simply block.
 */
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
	/*
	 * One level of a delimited listing: the objects whose key starts with
	 * prefix and has no '/' after it (in page->objects), and the common
	 * prefixes one segment deeper (in page->prefixes).  prefix is "" or ends
	 * in '/' (for the file store: an absolute directory path ending in '/').
	 * token as for list_page.  An object whose key equals prefix (a
	 * zero-byte "folder" marker) is left out, so a page may be empty and
	 * still have a next_token.  Objects and prefixes are each in key order
	 * within a page, and pages follow each other in key order.  NULL in a
	 * store that cannot list by level.
	 */
	bool		(*list_level) (TelemStore *store, const char *prefix,
							   const char *token, TelemObjectPage *page,
							   TelemError *err);
	/* Open obj for streaming from byte offset 'offset'. */
	TelemReader *(*open) (TelemStore *store, const TelemObject *obj,
						  int64_t offset, TelemError *err);
	/*
	 * Like open(), but the reader stops before byte end (exclusive): one
	 * Range request for [offset, end), for readers that need only part of
	 * an object (a Parquet footer or column chunk).  end past the object's
	 * size reads to its end; the first read() fails if the object is
	 * shorter than offset.
	 */
	TelemReader *(*open_range) (TelemStore *store, const TelemObject *obj,
								int64_t offset, int64_t end, TelemError *err);
	/* Read up to len bytes; 0 at end of object, -1 on error. */
	ssize_t		(*read) (TelemReader *reader, void *buf, size_t len,
						 TelemError *err);
	void		(*close) (TelemReader *reader);
	void		(*destroy) (TelemStore *store);

	/*
	 * Properties of the object at key.  Returns true with *found false if
	 * there is none; false with err set on failure.
	 */
	bool		(*head) (TelemStore *store, const char *key,
						 TelemObjectInfo *info, bool *found, TelemError *err);

	/*
	 * Start writing the object at key.  Nothing is visible under key until
	 * commit() succeeds; an existing object stays as it was until then.
	 */
	TelemWriter *(*create) (TelemStore *store, const char *key,
							const TelemWriteOptions *opts, TelemError *err);
	/* Append len bytes; uploads a block whenever one is full. */
	bool		(*write) (TelemWriter *writer, const void *buf, size_t len,
						  TelemError *err);

	/*
	 * Upload what is buffered and make the object visible atomically (Put
	 * Block List; S3 PUT or Complete Multipart Upload).  info gets the
	 * committed object's size and etag as the store reports them after
	 * the commit.  The writer must still be discarded.
	 */
	bool		(*commit) (TelemWriter *writer, TelemObjectInfo *info,
						   TelemError *err);

	/*
	 * Free the writer.  If it was not committed, abandon the upload (S3:
	 * Abort Multipart Upload, best effort; Azure: uncommitted blocks are
	 * discarded by the service).  NULL is ok.
	 */
	void		(*discard) (TelemWriter *writer);

	/* Delete the object at key; a missing object is not an error. */
	bool		(*remove) (TelemStore *store, const char *key, TelemError *err);

	/*
	 * Move the store's open readers along without waiting (see "Readers
	 * and prefetch" above).  False with err set only if the transfer
	 * machinery itself fails; a reader's own failure waits for its read().
	 * NULL in a store whose reads simply block (the file store).
	 */
	bool		(*pump) (TelemStore *store, TelemError *err);
} TelemStoreOps;

/* What a store's requests cost, for EXPLAIN ANALYZE. */
typedef struct TelemStoreStats
{
	int64_t		requests;		/* HTTP requests started: listings, HEADs, GETs */
	int64_t		retries;		/* of them, repeats after a failed attempt */
	int64_t		wait_us;		/* time blocked waiting for the network */
} TelemStoreStats;

struct TelemStore
{
	const TelemStoreOps *ops;
	TelemStoreStats stats;		/* kept by the S3 and Azure stores */
};

struct TelemReader
{
	TelemStore *store;
};

struct TelemWriter
{
	TelemStore *store;
};

/* Statistics a writer keeps. */
typedef struct TelemWriterStats
{
	int64_t		bytes_written;	/* bytes accepted by write() */
	int			blocks;			/* blocks or parts uploaded */
	int			retries;		/* block uploads repeated after a failure */
} TelemWriterStats;

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
extern void S3WriterStats(TelemWriter *writer, TelemWriterStats *stats);

/* in azure.c: Azure Blob Storage (and ADLS Gen2 through its Blob endpoint) */
typedef enum AzureAuthKind
{
	AZURE_AUTH_ANONYMOUS,		/* public container */
	AZURE_AUTH_SHARED_KEY,		/* account_key */
	AZURE_AUTH_SAS,				/* sas_token */
	AZURE_AUTH_BEARER			/* Entra ID token, see azure_token.h */
} AzureAuthKind;

struct AzureTokenConfig;

typedef struct AzureConfig
{
	const char *account;		/* storage account name */
	const char *container;

	/*
	 * The URL under which containers live: NULL means
	 * https://ACCOUNT.blob.core.windows.net; an emulator is given with
	 * its account path, e.g. "http://127.0.0.1:10000/devstoreaccount1".
	 */
	const char *endpoint;
	AzureAuthKind auth;
	const char *account_key;	/* base64, for AZURE_AUTH_SHARED_KEY */
	const char *sas_token;		/* query string, leading '?' optional */
	const struct AzureTokenConfig *token;	/* for AZURE_AUTH_BEARER;
											 * copied */
	const char *ca_file;		/* NULL = system bundle */
	bool		verify_tls;
	int			page_size;		/* List Blobs maxresults, 1..5000 */
	int			max_retries;
	long		connect_timeout_ms;
	size_t		buffer_size;	/* bytes held per open reader at most */
} AzureConfig;

extern TelemStore *AzureStoreCreate(const AzureConfig *cfg, TelemError *err);
extern void AzureReaderStats(TelemReader *reader, TelemReaderStats *stats);
extern void AzureWriterStats(TelemWriter *writer, TelemWriterStats *stats);

#endif							/* TELEM_STORE_H */
