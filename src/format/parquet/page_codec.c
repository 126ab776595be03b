/*-------------------------------------------------------------------------
 *
 * page_codec.c
 *		Decompression of Parquet pages (every codec but LZO).
 *
 * A page is decompressed in one call into a buffer of exactly its declared
 * uncompressed size.  Every codec is driven so that it can never write
 * past dst_len, and a result of any other size is an error: a page that
 * inflates to less than its header says is as corrupt as one that inflates
 * to more.
 *
 * The deprecated LZ4 codec has no single format in the wild: parquet-mr
 * wrote Hadoop's block framing, some writers raw LZ4 blocks and older
 * Arrow versions the LZ4 frame format.  We try them in that order; each
 * attempt must account for the whole input and the whole output.
 *
 * A PqCodecState keeps the zlib, zstd and LZ4-frame contexts between
 * pages of a scan (creating a zstd context per page costs more than
 * decompressing a small page); PqDecompress makes a temporary one.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/page_codec.c
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "pq_internal.h"

struct PqCodecState
{
	bool		zlib_ready;
	z_stream	zs;
	ZSTD_DCtx  *zstd;
	LZ4F_dctx  *lz4f;
};

PqCodecState *
PqCodecStateCreate(void)
{
	return calloc(1, sizeof(PqCodecState));
}

void
PqCodecStateFree(PqCodecState *state)
{
	if (state == NULL)
		return;
	if (state->zlib_ready)
		inflateEnd(&state->zs);
	ZSTD_freeDCtx(state->zstd);
	if (state->lz4f)
		LZ4F_freeDecompressionContext(state->lz4f);
	free(state);
}

static bool
size_mismatch(TelemError *err, const char *codec, size_t got, size_t want)
{
	return TelemSetError(err, TELEM_ERR_DATA,
						 "%s page decompresses to %zu bytes, its header says %zu",
						 codec, got, want);
}

static bool
decompress_snappy(const uint8_t *src, size_t src_len, uint8_t *dst,
				  size_t dst_len, TelemError *err)
{
	size_t		ulen;
	size_t		out_len = dst_len;

	if (snappy_uncompressed_length((const char *) src, src_len, &ulen) !=
		SNAPPY_OK)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "snappy page has a corrupt length header");
	if (ulen != dst_len)
		return size_mismatch(err, "snappy", ulen, dst_len);
	if (snappy_uncompress((const char *) src, src_len, (char *) dst,
						  &out_len) != SNAPPY_OK)
		return TelemSetError(err, TELEM_ERR_DATA, "corrupt snappy page");
	if (out_len != dst_len)
		return size_mismatch(err, "snappy", out_len, dst_len);
	return true;
}

/* gzip or zlib streams, any number of them back to back */
static bool
decompress_gzip(PqCodecState *st, const uint8_t *src, size_t src_len,
				uint8_t *dst, size_t dst_len, TelemError *err)
{
	z_stream   *zs = &st->zs;
	size_t		out = 0;

	if (src_len > UINT_MAX || dst_len > UINT_MAX)
		return TelemSetError(err, TELEM_ERR_DATA, "gzip page is too large");
	if (!st->zlib_ready)
	{
		memset(zs, 0, sizeof(*zs));
		if (inflateInit2(zs, 15 + 32) != Z_OK)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "cannot initialize zlib");
		st->zlib_ready = true;
	}
	else if (inflateReset(zs) != Z_OK)
		return TelemSetError(err, TELEM_ERR_DATA, "cannot reset zlib");

	zs->next_in = (Bytef *) src;
	zs->avail_in = (uInt) src_len;
	zs->next_out = dst;
	zs->avail_out = (uInt) dst_len;
	for (;;)
	{
		int			ret = inflate(zs, Z_NO_FLUSH);

		out = dst_len - zs->avail_out;
		if (ret == Z_STREAM_END)
		{
			if (zs->avail_in == 0)
				break;
			/* another member follows */
			if (inflateReset(zs) != Z_OK)
				return TelemSetError(err, TELEM_ERR_DATA, "cannot reset zlib");
			continue;
		}
		if (ret == Z_OK)
			continue;
		if (ret == Z_BUF_ERROR)
		{
			if (zs->avail_in == 0)
				return TelemSetError(err, TELEM_ERR_DATA,
									 "gzip page is truncated at byte %zu",
									 src_len);
			return TelemSetError(err, TELEM_ERR_DATA,
								 "gzip page decompresses to more than the %zu bytes its header says",
								 dst_len);
		}
		return TelemSetError(err, TELEM_ERR_DATA,
							 "corrupt gzip page at byte %zu: %s",
							 src_len - zs->avail_in,
							 zs->msg ? zs->msg : "inflate failed");
	}
	if (out != dst_len)
		return size_mismatch(err, "gzip", out, dst_len);
	return true;
}

static bool
decompress_brotli(const uint8_t *src, size_t src_len, uint8_t *dst,
				  size_t dst_len, TelemError *err)
{
	BrotliDecoderState *bs = BrotliDecoderCreateInstance(NULL, NULL, NULL);
	const uint8_t *next_in = src;
	size_t		avail_in = src_len;
	uint8_t    *next_out = dst;
	size_t		avail_out = dst_len;
	BrotliDecoderResult r;

	if (bs == NULL)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							 "cannot create a brotli decoder");
	r = BrotliDecoderDecompressStream(bs, &avail_in, &next_in, &avail_out,
									  &next_out, NULL);
	if (r == BROTLI_DECODER_RESULT_ERROR)
	{
		const char *msg = BrotliDecoderErrorString(BrotliDecoderGetErrorCode(bs));

		BrotliDecoderDestroyInstance(bs);
		return TelemSetError(err, TELEM_ERR_DATA,
							 "corrupt brotli page at byte %zu: %s",
							 src_len - avail_in, msg);
	}
	BrotliDecoderDestroyInstance(bs);
	if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "brotli page is truncated at byte %zu", src_len);
	if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "brotli page decompresses to more than the %zu bytes its header says",
							 dst_len);
	if (avail_in != 0)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "brotli page has %zu bytes after its stream",
							 avail_in);
	if (avail_out != 0)
		return size_mismatch(err, "brotli", dst_len - avail_out, dst_len);
	return true;
}

/* zstd frames, any number (skippable ones too), with or without sizes */
static bool
decompress_zstd(PqCodecState *st, const uint8_t *src, size_t src_len,
				uint8_t *dst, size_t dst_len, TelemError *err)
{
	size_t		r;

	if (st->zstd == NULL && (st->zstd = ZSTD_createDCtx()) == NULL)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							 "cannot create a zstd context");
	r = ZSTD_decompressDCtx(st->zstd, dst, dst_len, src, src_len);
	if (ZSTD_isError(r))
	{
		if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall)
			return TelemSetError(err, TELEM_ERR_DATA,
								 "zstd page decompresses to more than the %zu bytes its header says",
								 dst_len);
		return TelemSetError(err, TELEM_ERR_DATA, "corrupt zstd page: %s",
							 ZSTD_getErrorName(r));
	}
	if (r != dst_len)
		return size_mismatch(err, "zstd", r, dst_len);
	return true;
}

/* One raw LZ4 block that must fill dst exactly. */
static bool
lz4_block(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len)
{
	int			r;

	if (src_len > INT_MAX || dst_len > INT_MAX)
		return false;
	r = LZ4_decompress_safe((const char *) src, (char *) dst, (int) src_len,
							(int) dst_len);
	return r >= 0 && (size_t) r == dst_len;
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
		(uint32_t) p[2] << 8 | (uint32_t) p[3];
}

/*
 * Hadoop's framing: blocks of [uncompressed length][compressed length]
 * (4 bytes each, big-endian) and one LZ4 block, until the input ends.
 */
static bool
lz4_hadoop(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len)
{
	size_t		in = 0;
	size_t		out = 0;

	if (src_len == 0)
		return false;
	while (in < src_len)
	{
		uint32_t	ulen,
					clen;

		if (src_len - in < 8)
			return false;
		ulen = load_be32(src + in);
		clen = load_be32(src + in + 4);
		in += 8;
		if (clen > src_len - in || ulen > dst_len - out)
			return false;
		if (!lz4_block(src + in, clen, dst + out, ulen))
			return false;
		in += clen;
		out += ulen;
	}
	return out == dst_len;
}

/* The LZ4 frame format, one or more frames. */
static bool
lz4_frame(PqCodecState *st, const uint8_t *src, size_t src_len,
		  uint8_t *dst, size_t dst_len)
{
	size_t		in = 0;
	size_t		out = 0;
	size_t		hint = 1;

	if (src_len < 4 || src[0] != 0x04 || src[1] != 0x22 || src[2] != 0x4d ||
		src[3] != 0x18)
		return false;
	if (st->lz4f == NULL &&
		LZ4F_isError(LZ4F_createDecompressionContext(&st->lz4f, LZ4F_VERSION)))
	{
		st->lz4f = NULL;
		return false;
	}
	LZ4F_resetDecompressionContext(st->lz4f);
	while (in < src_len)
	{
		size_t		ssz = src_len - in;
		size_t		dsz = dst_len - out;

		hint = LZ4F_decompress(st->lz4f, dst + out, &dsz, src + in, &ssz, NULL);
		if (LZ4F_isError(hint))
		{
			LZ4F_resetDecompressionContext(st->lz4f);
			return false;
		}
		if (ssz == 0 && dsz == 0)
			break;				/* no progress: output full */
		in += ssz;
		out += dsz;
	}
	if (hint != 0)
	{
		LZ4F_resetDecompressionContext(st->lz4f);
		return false;
	}
	return in == src_len && out == dst_len;
}

bool
PqDecompressWith(PqCodecState *state, PqCodec codec,
				 const uint8_t *src, size_t src_len,
				 uint8_t *dst, size_t dst_len, TelemError *err)
{
	uint8_t		dummy[1];

	if (dst_len > PQ_MAX_PAGE_SIZE || src_len > PQ_MAX_PAGE_SIZE)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "page of %zu bytes (%zu compressed) is too large",
							 dst_len, src_len);
	if (state == NULL)
		return PqDecompress(codec, src, src_len, dst, dst_len, err);
	if (codec == PQ_CODEC_LZO)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "unsupported: LZO compression");
	if ((unsigned) codec > PQ_CODEC_LZ4_RAW)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "unsupported: compression codec %d", (int) codec);
	if (src_len == 0)
	{
		/* nothing to decompress (an empty v2 page's values, say) */
		if (dst_len == 0)
			return true;
		return TelemSetError(err, TELEM_ERR_DATA,
							 "empty compressed page, its header says %zu bytes",
							 dst_len);
	}
	/* the libraries want real pointers even for empty output */
	if (dst == NULL || dst_len == 0)
	{
		dst = dummy;
		dst_len = 0;
	}

	switch (codec)
	{
		case PQ_CODEC_UNCOMPRESSED:
			if (src_len != dst_len)
				return size_mismatch(err, "uncompressed", src_len, dst_len);
			memcpy(dst, src, dst_len);
			return true;
		case PQ_CODEC_SNAPPY:
			return decompress_snappy(src, src_len, dst, dst_len, err);
		case PQ_CODEC_GZIP:
			return decompress_gzip(state, src, src_len, dst, dst_len, err);
		case PQ_CODEC_BROTLI:
			return decompress_brotli(src, src_len, dst, dst_len, err);
		case PQ_CODEC_ZSTD:
			return decompress_zstd(state, src, src_len, dst, dst_len, err);
		case PQ_CODEC_LZ4_RAW:
			if (!lz4_block(src, src_len, dst, dst_len))
				return TelemSetError(err, TELEM_ERR_DATA,
									 "corrupt lz4 page, or not %zu bytes",
									 dst_len);
			return true;
		case PQ_CODEC_LZ4:
			if (lz4_hadoop(src, src_len, dst, dst_len) ||
				lz4_block(src, src_len, dst, dst_len) ||
				lz4_frame(state, src, src_len, dst, dst_len))
				return true;
			return TelemSetError(err, TELEM_ERR_DATA,
								 "lz4 page of %zu bytes is neither hadoop-framed, a raw block nor a frame of %zu bytes",
								 src_len, dst_len);
		case PQ_CODEC_LZO:
			break;
	}
	return TelemSetError(err, TELEM_ERR_DATA,
						 "unsupported: compression codec %d", (int) codec);
}

bool
PqDecompress(PqCodec codec, const uint8_t *src, size_t src_len,
			 uint8_t *dst, size_t dst_len, TelemError *err)
{
	PqCodecState st;
	bool		ok;

	memset(&st, 0, sizeof(st));
	ok = PqDecompressWith(&st, codec, src, src_len, dst, dst_len, err);
	if (st.zlib_ready)
		inflateEnd(&st.zs);
	ZSTD_freeDCtx(st.zstd);
	if (st.lz4f)
		LZ4F_freeDecompressionContext(st.lz4f);
	return ok;
}
