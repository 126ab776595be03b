/*-------------------------------------------------------------------------
 *
 * parquet.h
 *		A Parquet reader in plain C: footer, schema, column chunks.
 *
 * No Debian package offers a Parquet reader for C (Apache Arrow, the
 * reference implementation, is C++ and not packaged), so the decoder is our
 * own.  It is plain C with no postgres.h, like the store layer, so the unit
 * tests and fuzz targets run it without a server; src/format/parquet/
 * parquet_scan.c ties it to the executor.
 *
 * The reader never does I/O.  The caller fetches the footer (the file's
 * tail) and the byte ranges of the column chunks it needs, and hands the
 * bytes in.  Every length and count read from a file is checked against the
 * bytes actually present before it is used, and every allocation is bounded
 * by the sizes the caller passed in (PQ_MAX_PAGE_SIZE at most for one page),
 * so a corrupt or hostile file gives an error, never a crash or an
 * unbounded allocation.
 *
 * Errors come back in a TelemError (store.h), kind TELEM_ERR_DATA.  A
 * feature the reader does not implement (encryption, LZO) is reported with a
 * message that starts with "unsupported: ", so callers and tests can tell
 * "not implemented" from "corrupt".
 *
 * IDENTIFICATION
 *		src/format/parquet/parquet.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_PARQUET_H
#define TELEM_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../store/store.h"

/* "PAR1" at both ends; the footer is followed by its 4-byte length. */
#define PQ_MAGIC			"PAR1"
#define PQ_TRAILER_SIZE		8
/* How much of the tail the scan fetches first, hoping the footer fits. */
#define PQ_FOOTER_GUESS		(64 * 1024)
/* Largest footer, and largest page (compressed or not), we accept. */
#define PQ_MAX_FOOTER_SIZE	(256 * 1024 * 1024)
#define PQ_MAX_PAGE_SIZE	(1024 * 1024 * 1024)

/* Physical types (parquet.thrift Type). */
typedef enum PqType
{
	PQ_BOOLEAN = 0,
	PQ_INT32 = 1,
	PQ_INT64 = 2,
	PQ_INT96 = 3,
	PQ_FLOAT = 4,
	PQ_DOUBLE = 5,
	PQ_BYTE_ARRAY = 6,
	PQ_FIXED_LEN_BYTE_ARRAY = 7
} PqType;

typedef enum PqRepetition
{
	PQ_REQUIRED = 0,
	PQ_OPTIONAL = 1,
	PQ_REPEATED = 2
} PqRepetition;

/*
 * A node's annotation, from its LogicalType or, for files that have none,
 * its ConvertedType (UTF8 -> STRING, INT_16 -> INTEGER(16, signed),
 * TIMESTAMP_MILLIS -> TIMESTAMP(MILLIS, adjusted), ...).
 */
typedef enum PqLogical
{
	PQL_NONE = 0,
	PQL_STRING,
	PQL_ENUM,
	PQL_JSON,
	PQL_BSON,
	PQL_UUID,
	PQL_FLOAT16,
	PQL_DECIMAL,
	PQL_DATE,
	PQL_TIME,
	PQL_TIMESTAMP,
	PQL_INTEGER,
	PQL_INTERVAL,				/* ConvertedType INTERVAL: FLBA(12) */
	PQL_LIST,
	PQL_MAP,					/* also legacy MAP_KEY_VALUE */
	PQL_NULL,					/* LogicalType UNKNOWN: always null */
	PQL_OTHER					/* a logical type we do not know: read the
								 * physical value */
} PqLogical;

typedef enum PqTimeUnit
{
	PQ_MILLIS = 0,
	PQ_MICROS,
	PQ_NANOS
} PqTimeUnit;

typedef struct PqSchemaNode
{
	const char *name;
	const char *path;			/* dotted from the top level: "location.lat"
								 * (the root's own path is "") */
	PqRepetition repetition;
	bool		is_group;

	/* leaves */
	PqType		type;
	int32_t		type_length;	/* FIXED_LEN_BYTE_ARRAY */
	int			leaf_index;		/* into PqFile.leaves and row groups'
								 * columns; -1 for groups */

	/* annotation */
	PqLogical	logical;
	int32_t		scale;			/* DECIMAL */
	int32_t		precision;
	int			bit_width;		/* INTEGER: 8, 16, 32, 64 */
	bool		is_signed;
	PqTimeUnit	unit;			/* TIME, TIMESTAMP */
	bool		adjusted_to_utc;

	/* tree */
	struct PqSchemaNode *parent;	/* NULL for the root */
	int			nchildren;
	struct PqSchemaNode **children;
	int			first_leaf;		/* leaves under this node (itself, for a
								 * leaf): [first_leaf, first_leaf + nleaves) */
	int			nleaves;

	/* levels at this node, counting the node itself */
	int16_t		max_def;
	int16_t		max_rep;
} PqSchemaNode;

/* A byte string that points into memory someone else owns. */
typedef struct PqBytes
{
	const uint8_t *ptr;
	uint32_t	len;
} PqBytes;

/*
 * Column statistics.  min/max are PLAIN-encoded values of the leaf's
 * physical type (a BYTE_ARRAY without its length prefix), copied into the
 * PqFile.  They come from min_value/max_value, which are valid bounds in the
 * column's type-defined order even when truncated (min_exact/max_exact
 * false).  When a file has only the deprecated min/max fields, legacy is
 * true: those are valid only for signed integer and floating types (their
 * order for byte arrays and unsigned types is undefined).
 */
typedef struct PqStatistics
{
	bool		has_min;
	bool		has_max;
	PqBytes		min;
	PqBytes		max;
	bool		min_exact;
	bool		max_exact;
	bool		legacy;
	bool		has_null_count;
	int64_t		null_count;
} PqStatistics;

typedef enum PqCodec
{
	PQ_CODEC_UNCOMPRESSED = 0,
	PQ_CODEC_SNAPPY = 1,
	PQ_CODEC_GZIP = 2,
	PQ_CODEC_LZO = 3,
	PQ_CODEC_BROTLI = 4,
	PQ_CODEC_LZ4 = 5,			/* deprecated: Hadoop framing, or raw */
	PQ_CODEC_ZSTD = 6,
	PQ_CODEC_LZ4_RAW = 7
} PqCodec;

typedef struct PqColumnChunk
{
	PqCodec		codec;
	int64_t		num_values;
	int64_t		data_page_offset;
	int64_t		dictionary_page_offset; /* -1 when there is none */
	int64_t		total_compressed_size;
	int64_t		total_uncompressed_size;

	/*
	 * The bytes to fetch: [start, start + length), the dictionary page (if
	 * any) and every data page, checked to lie inside the file.
	 */
	int64_t		start;
	int64_t		length;

	bool		has_stats;
	PqStatistics stats;
	bool		encrypted;		/* has crypto_metadata: cannot be read */
} PqColumnChunk;

typedef struct PqRowGroup
{
	int64_t		num_rows;
	PqColumnChunk *columns;		/* one per leaf, in leaf order */
} PqRowGroup;

typedef struct PqKeyValue
{
	const char *key;
	const char *value;			/* may be NULL */
} PqKeyValue;

typedef struct PqFile
{
	int32_t		version;
	int64_t		num_rows;
	const char *created_by;		/* may be NULL */

	PqSchemaNode *root;
	int			nleaves;
	PqSchemaNode **leaves;		/* in column order */

	int			nrow_groups;
	PqRowGroup *row_groups;

	int			nkv;
	PqKeyValue *kv;

	/* private: everything above lives in one arena */
	void	   *arena;
} PqFile;

/* in metadata.c */

/*
 * Given the last tail_len bytes of a file of file_size bytes (tail_len >=
 * PQ_TRAILER_SIZE, or the whole file if shorter), check the magic and
 * return the length of the footer (FileMetaData) that precedes the
 * trailer; the footer then starts at file_size - PQ_TRAILER_SIZE - result.
 * -1 with err set: not Parquet, too short, footer longer than the file or
 * PQ_MAX_FOOTER_SIZE, or "unsupported: encrypted footer" ("PARE").
 */
extern int64_t PqFooterLength(const uint8_t *tail, size_t tail_len,
							  int64_t file_size, TelemError *err);

/*
 * Parse FileMetaData from buf[0..len).  Everything the result needs is
 * copied; buf may be freed afterwards.  file_size is used to check that
 * every column chunk lies inside the file.  NULL with err set.  A file with
 * encrypted columns parses (those chunks have encrypted set); reading them
 * is refused.
 */
extern PqFile *PqParseFooter(const uint8_t *buf, size_t len,
							 int64_t file_size, TelemError *err);
extern void PqFileFree(PqFile *file);

/*
 * The node at a dotted path below the root ("location.lat"), or NULL.  Each
 * segment matches a child's name exactly or, when no child matches
 * exactly, case-insensitively (ASCII) if exactly one child does.
 */
extern const PqSchemaNode *PqFindPath(const PqFile *file, const char *path);

extern const char *PqTypeName(PqType type);
/* "INT32", "INT64 (TIMESTAMP(MICROS, UTC))", "BYTE_ARRAY (STRING)", ... */
extern void PqDescribeNode(const PqSchemaNode *node, char *buf, size_t len);
extern const char *PqCodecName(PqCodec codec);

/*
 * One column chunk, decoded.  There is one entry per level pair
 * (nlevels): one per row for a flat column, more for a repeated one.
 * Entries whose definition level is max_def carry a value; values holds
 * those nvalues values densely, in order, as:
 *	 BOOLEAN				 uint8_t (0 or 1)
 *	 INT32					 int32_t
 *	 INT64					 int64_t
 *	 INT96					 PqInt96
 *	 FLOAT					 float
 *	 DOUBLE					 double
 *	 BYTE_ARRAY, FIXED_LEN	 PqBytes, pointing into memory owned by the
 *							 PqColumnData or into the caller's chunk bytes
 * (so the chunk bytes must outlive the PqColumnData).
 */
typedef struct PqInt96
{
	uint64_t	nanos;			/* nanoseconds of the day */
	uint32_t	julian_day;
} PqInt96;

typedef struct PqColumnData
{
	const PqSchemaNode *leaf;
	int64_t		nlevels;
	int16_t    *def;			/* nlevels; NULL when leaf->max_def == 0 */
	int16_t    *rep;			/* nlevels; NULL when leaf->max_rep == 0 */
	int64_t		nvalues;
	void	   *values;

	/* what the decode cost, for tests and EXPLAIN */
	int			npages;
	bool		used_dictionary;

	/* private */
	void	   *arena;
} PqColumnData;

/* in column.c */

/*
 * Decode the chunk of leaf leaf_index in row group rg, whose bytes are
 * chunk[0..len), i.e. file bytes [columns[leaf].start, + len).  Pages are
 * decompressed and decoded in full; the result's size is bounded by the
 * chunk's pages' declared uncompressed sizes, each at most
 * PQ_MAX_PAGE_SIZE.  Page CRCs are checked when present and check_crc.
 * NULL with err set (the message names the page's byte offset in the
 * file).
 */
/* in encoding.c: size of one entry of PqColumnData.values */
extern size_t PqValueSize(PqType type);

extern PqColumnData *PqDecodeChunk(const PqFile *file, int rg, int leaf_index,
								   const uint8_t *chunk, size_t len,
								   bool check_crc, TelemError *err);
extern void PqColumnDataFree(PqColumnData *data);

/* in value_text.c */

/*
 * A growable byte buffer (malloc'd) for the text forms below.  A failed
 * allocation sets oom and stops appending.
 */
typedef struct PqBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} PqBuf;

extern void PqBufAppend(PqBuf *b, const char *s, size_t n);
extern void PqBufFree(PqBuf *b);

/*
 * Append the text of one value of leaf (v points at its entry in
 * PqColumnData.values) as PostgreSQL's input functions read it: integers
 * and decimals as digits ("-12.340" for DECIMAL(5,3)), floats with full
 * precision ("NaN", "Infinity"), DATE as 2026-11-21, TIME as
 * 13:45:00.123456, TIMESTAMP as 2026-11-21 13:45:00.123456 with "+00" when
 * adjusted to UTC (nanoseconds are truncated to microseconds), INT96 as a
 * UTC timestamp, UUID in its canonical form, FLOAT16 as a float, strings
 * as they are, other byte arrays as bytea hex ("\x0a1b").  In json mode the
 * text is a JSON value instead: numbers bare (NaN and infinities become
 * strings), everything else a quoted, escaped JSON string.
 */
extern void PqValueText(const PqSchemaNode *leaf, const void *v, bool json,
						PqBuf *out);

/* in nested.c */

/*
 * Assemble the subtree at node (a group, or a repeated leaf, or a leaf
 * under a repeated group) for every row of one row group as JSON text:
 * structs become objects, LIST-annotated groups (3-level and the legacy
 * 2-level forms) and other repeated fields arrays, MAP-annotated groups
 * objects keyed by the key's text, leaves PqValueText(json = true).
 * cols[i] is the decoded leaf node->first_leaf + i.  Row r's JSON is
 * out->data[offsets[r] .. offsets[r + 1]); isnull[r] when the node itself
 * is null (an optional field not present).  false with err set when the
 * levels of the leaves disagree (a corrupt file).
 */
typedef struct PqJsonRows
{
	int64_t		nrows;
	PqBuf		text;
	size_t	   *offsets;		/* nrows + 1 */
	bool	   *isnull;			/* nrows */
} PqJsonRows;

extern bool PqAssembleJson(const PqSchemaNode *node, PqColumnData **cols,
						   int64_t nrows, PqJsonRows *out, TelemError *err);
extern void PqJsonRowsFree(PqJsonRows *rows);

#endif							/* TELEM_PARQUET_H */
