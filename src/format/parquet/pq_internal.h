/*-------------------------------------------------------------------------
 *
 * pq_internal.h
 *		Declarations shared by the files of the Parquet reader.
 *
 * Private to src/format/parquet/; the rest of telem_fdw uses parquet.h.
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/pq_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_PQ_INTERNAL_H
#define TELEM_PQ_INTERNAL_H

#include "parquet.h"

/* in arena.c: bump allocation in malloc'd blocks, freed all at once */
typedef struct PqArena PqArena;

extern PqArena *PqArenaCreate(void);
/* NULL when out of memory (or size > PQ_MAX_PAGE_SIZE); 8-byte aligned */
extern void *PqArenaAlloc(PqArena *arena, size_t size);
extern char *PqArenaStrndup(PqArena *arena, const char *s, size_t n);
extern void PqArenaFree(PqArena *arena);

/* in metadata.c: page headers (parquet.thrift PageHeader) */
typedef enum PqPageType
{
	PQ_PAGE_DATA = 0,
	PQ_PAGE_INDEX = 1,
	PQ_PAGE_DICTIONARY = 2,
	PQ_PAGE_DATA_V2 = 3
} PqPageType;

typedef enum PqEncoding
{
	PQ_ENC_PLAIN = 0,
	PQ_ENC_PLAIN_DICTIONARY = 2,
	PQ_ENC_RLE = 3,
	PQ_ENC_BIT_PACKED = 4,		/* deprecated; levels only */
	PQ_ENC_DELTA_BINARY_PACKED = 5,
	PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
	PQ_ENC_DELTA_BYTE_ARRAY = 7,
	PQ_ENC_RLE_DICTIONARY = 8,
	PQ_ENC_BYTE_STREAM_SPLIT = 9
} PqEncoding;

typedef struct PqPageHeader
{
	PqPageType	type;
	int32_t		uncompressed_size;
	int32_t		compressed_size;
	bool		has_crc;
	uint32_t	crc;

	/* DATA_PAGE, DATA_PAGE_V2, DICTIONARY_PAGE */
	int32_t		num_values;
	PqEncoding	encoding;

	/* DATA_PAGE */
	PqEncoding	def_encoding;
	PqEncoding	rep_encoding;

	/* DATA_PAGE_V2: levels are never compressed and precede the values */
	int32_t		num_nulls;
	int32_t		num_rows;
	int32_t		def_levels_length;
	int32_t		rep_levels_length;
	bool		is_compressed;	/* default true */
} PqPageHeader;

/*
 * Parse the PageHeader at buf[0..len); *header_len gets its size.  The
 * sizes are checked to be >= 0 and <= PQ_MAX_PAGE_SIZE, not against len
 * (the caller knows where the page must end).
 */
extern bool PqParsePageHeader(const uint8_t *buf, size_t len,
							  PqPageHeader *h, size_t *header_len,
							  TelemError *err);

/* in page_codec.c */

/*
 * Decompress src[0..src_len) of codec into exactly dst_len bytes at dst
 * (a page's declared uncompressed size).  GZIP accepts concatenated
 * members; LZ4 (the deprecated codec) accepts the Hadoop framing and, as
 * other readers do, falls back to raw LZ4 blocks.  false with err set:
 * corrupt input, or a size other than dst_len, or "unsupported: LZO".
 */
extern bool PqDecompress(PqCodec codec, const uint8_t *src, size_t src_len,
						 uint8_t *dst, size_t dst_len, TelemError *err);

/*
 * page_codec.c additions: the same with decompression contexts (zlib, zstd,
 * LZ4 frame) kept between calls, for a scan that decompresses many pages.
 * A state is used by one thread at a time; PqDecompressWith(NULL, ...) is
 * PqDecompress.  PqCodecStateCreate returns NULL when out of memory.
 */
typedef struct PqCodecState PqCodecState;

extern PqCodecState *PqCodecStateCreate(void);
extern void PqCodecStateFree(PqCodecState *state);
extern bool PqDecompressWith(PqCodecState *state, PqCodec codec,
							 const uint8_t *src, size_t src_len,
							 uint8_t *dst, size_t dst_len, TelemError *err);
/* end of page_codec.c additions */

/* in encoding.c */

/* Bit width of the largest level / dictionary index: 0 for 0, 1 for 1, ... */
extern int	PqBitWidth(uint32_t max_value);

/*
 * The RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans),
 * over buf[0..len) without any length prefix.  bit_width 0..32.
 */
typedef struct PqRle
{
	const uint8_t *p;
	const uint8_t *end;
	int			bit_width;
	uint32_t	run_value;		/* current RLE run */
	int64_t		run_left;		/* values left in an RLE run */
	int64_t		packed_left;	/* values left in a bit-packed run */
	const uint8_t *packed;		/* bit-packed run data */
	int			packed_bit;		/* bit offset of the next packed value */
} PqRle;

extern void PqRleInit(PqRle *rle, const uint8_t *buf, size_t len,
					  int bit_width);

/*
 * Decode exactly n values into out.  false with err set if the input ends
 * first or is malformed.
 */
extern bool PqRleGet(PqRle *rle, uint32_t *out, int64_t n, TelemError *err);

/*
 * Decode n levels (max_level >= 1) with encoding RLE or BIT_PACKED from
 * buf[0..len).  With length_prefixed (data page v1 RLE), buf starts with a
 * 4-byte little-endian length; *consumed gets the bytes used (prefix
 * included).  Levels above max_level are an error.
 */
extern bool PqDecodeLevels(PqEncoding enc, int max_level,
						   const uint8_t *buf, size_t len, bool length_prefixed,
						   int64_t n, int16_t *out, size_t *consumed,
						   TelemError *err);

/*
 * Decode n values of a leaf's physical type (type, type_length for FLBA)
 * in encoding enc (PLAIN, RLE for booleans, DELTA_BINARY_PACKED for INT32/
 * INT64, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY for byte arrays,
 * DELTA_BYTE_ARRAY for FLBA, BYTE_STREAM_SPLIT for FLOAT, DOUBLE, INT32,
 * INT64, FLBA) from buf[0..len) into out, laid out as in PqColumnData.
 * PqBytes point into buf, or into arena where the encoding builds the
 * bytes (DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT of FLBA).  Dictionary
 * encodings are not handled here (column.c gathers from the dictionary).
 * *consumed gets the bytes used.  An encoding not valid for the type is
 * "unsupported: <encoding> for <type>".
 */
extern bool PqDecodeValues(PqEncoding enc, PqType type, int32_t type_length,
						   const uint8_t *buf, size_t len, int64_t n,
						   void *out, PqArena *arena, size_t *consumed,
						   TelemError *err);

/* Size of one entry of PqColumnData.values for a physical type. */
extern size_t PqValueSize(PqType type);

extern const char *PqEncodingName(PqEncoding enc);

/* ---- in value_text.c (added by the value_text/nested/column helper) ---- */

/* Append s[0..n) as a quoted JSON string (RFC 8259; bad UTF-8 -> U+FFFD). */
extern void PqBufAppendJsonString(PqBuf *b, const char *s, size_t n);

#endif							/* TELEM_PQ_INTERNAL_H */
