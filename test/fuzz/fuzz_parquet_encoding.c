/*-------------------------------------------------------------------------
 *
 * fuzz_parquet_encoding.c
 *		libFuzzer target for the Parquet encodings (encoding.c) and page
 *		codecs (page_codec.c).
 *
 * The first input byte picks what runs; the next three set the sizes; the
 * rest is the payload, copied into an exactly-sized buffer so a read past
 * its end is caught:
 *
 *	 sel % 4 == 0	PqDecodeValues: encoding/type pair (sel / 4) % NPAIRS,
 *					n from bytes 1-2 (< 4096), type_length from byte 3
 *	 sel % 4 == 1	PqDecodeLevels: RLE or BIT_PACKED, prefixed or not,
 *					max level byte 3 (bit 0..3 of sel / 4 choose)
 *	 sel % 4 == 2	PqRleGet: bit width byte 3 % 33, n from bytes 1-2,
 *					read in pieces of varying size
 *	 sel % 4 == 3	PqDecompress: codec (sel / 4) % 8, output size from
 *					bytes 1-3 (< 1 MB)
 *
 * Besides "no crash, no leak, no UB" it checks that a success never claims
 * more input than there is, that byte arrays point at readable memory
 * (every byte is read), that levels stay within their maximum, and that a
 * decompression never writes past its output size (a guard byte).
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_parquet_encoding.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/pq_internal.h"

static const struct
{
	PqEncoding	enc;
	PqType		type;
}			pairs[] =
{
	{PQ_ENC_PLAIN, PQ_BOOLEAN},
	{PQ_ENC_PLAIN, PQ_INT32},
	{PQ_ENC_PLAIN, PQ_INT64},
	{PQ_ENC_PLAIN, PQ_INT96},
	{PQ_ENC_PLAIN, PQ_FLOAT},
	{PQ_ENC_PLAIN, PQ_DOUBLE},
	{PQ_ENC_PLAIN, PQ_BYTE_ARRAY},
	{PQ_ENC_PLAIN, PQ_FIXED_LEN_BYTE_ARRAY},
	{PQ_ENC_RLE, PQ_BOOLEAN},
	{PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32},
	{PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64},
	{PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY},
	{PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY},
	{PQ_ENC_DELTA_BYTE_ARRAY, PQ_FIXED_LEN_BYTE_ARRAY},
	{PQ_ENC_BYTE_STREAM_SPLIT, PQ_FLOAT},
	{PQ_ENC_BYTE_STREAM_SPLIT, PQ_DOUBLE},
	{PQ_ENC_BYTE_STREAM_SPLIT, PQ_INT32},
	{PQ_ENC_BYTE_STREAM_SPLIT, PQ_INT64},
	{PQ_ENC_BYTE_STREAM_SPLIT, PQ_FIXED_LEN_BYTE_ARRAY},
	{PQ_ENC_RLE_DICTIONARY, PQ_INT32},	/* refused */
	{PQ_ENC_DELTA_BINARY_PACKED, PQ_DOUBLE},	/* refused */
};

#define NPAIRS ((int) (sizeof(pairs) / sizeof(pairs[0])))

static volatile unsigned sink;

static void
fuzz_values(int pick, int64_t n, int32_t type_length, const uint8_t *buf,
			size_t len)
{
	PqEncoding	enc = pairs[pick].enc;
	PqType		type = pairs[pick].type;
	size_t		vsize = PqValueSize(type);
	void	   *out = malloc((size_t) n * vsize + 1);
	PqArena    *arena = PqArenaCreate();
	size_t		used = 0;
	TelemError	err;
	int64_t		i;

	if (out == NULL || arena == NULL)
		abort();
	if (PqDecodeValues(enc, type, type_length, buf, len, n, out, arena,
					   &used, &err))
	{
		if (used > len)
			abort();
		if (type == PQ_BYTE_ARRAY || type == PQ_FIXED_LEN_BYTE_ARRAY)
		{
			PqBytes    *b = out;

			for (i = 0; i < n; i++)
			{
				uint32_t	k;

				if (type == PQ_FIXED_LEN_BYTE_ARRAY &&
					b[i].len != (uint32_t) type_length)
					abort();
				for (k = 0; k < b[i].len; k++)
					sink += b[i].ptr[k];
			}
		}
		if (type == PQ_BOOLEAN)
			for (i = 0; i < n; i++)
				if (((uint8_t *) out)[i] > 1)
					abort();
	}
	else if (err.message[0] == '\0')
		abort();
	free(out);
	PqArenaFree(arena);
}

static void
fuzz_levels(int mode, int max_level, int64_t n, const uint8_t *buf,
			size_t len)
{
	int16_t    *out = malloc((size_t) n * sizeof(int16_t) + 1);
	size_t		used = 0;
	TelemError	err;
	int64_t		i;

	if (out == NULL)
		abort();
	if (PqDecodeLevels((mode & 1) ? PQ_ENC_BIT_PACKED : PQ_ENC_RLE,
					   max_level, buf, len, (mode & 2) != 0, n, out, &used,
					   &err))
	{
		if (used > len)
			abort();
		for (i = 0; i < n; i++)
			if (out[i] < 0 || out[i] > max_level)
				abort();
	}
	free(out);
}

static void
fuzz_rle(int bw, int64_t n, const uint8_t *buf, size_t len)
{
	uint32_t   *out = malloc((size_t) n * sizeof(uint32_t) + 1);
	PqRle		rle;
	TelemError	err;
	int64_t		got = 0;
	int64_t		piece = 1;

	if (out == NULL)
		abort();
	PqRleInit(&rle, buf, len, bw);
	while (got < n)
	{
		int64_t		k = piece < n - got ? piece : n - got;
		int64_t		i;

		if (!PqRleGet(&rle, out + got, k, &err))
			break;
		for (i = 0; i < k; i++)
			if (bw < 32 && (out[got + i] >> bw) != 0)
				abort();
		got += k;
		piece = piece * 3 % 97 + 1;
	}
	if (rle.p > rle.end)
		abort();
	free(out);
}

static void
fuzz_codec(PqCodec codec, size_t dst_len, const uint8_t *buf, size_t len)
{
	uint8_t    *dst = malloc(dst_len + 1);
	TelemError	err;

	if (dst == NULL)
		abort();
	dst[dst_len] = 0xa5;
	(void) PqDecompress(codec, buf, len, dst, dst_len, &err);
	if (dst[dst_len] != 0xa5)
		abort();
	free(dst);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		sel;
	uint32_t	sz;
	uint8_t    *buf;
	size_t		len;

	if (size < 4)
		return 0;
	sel = data[0];
	sz = (uint32_t) data[1] | (uint32_t) data[2] << 8;
	len = size - 4;
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data + 4, len);

	switch (sel % 4)
	{
		case 0:
			fuzz_values((sel / 4) % NPAIRS, sz % 4096, data[3], buf, len);
			break;
		case 1:
			fuzz_levels((sel / 4) & 3, 1 + data[3] % 40, sz % 4096, buf, len);
			break;
		case 2:
			fuzz_rle(data[3] % 33, sz % 4096, buf, len);
			break;
		default:
			fuzz_codec((PqCodec) ((sel / 4) % 8),
					   (sz | (uint32_t) data[3] << 16) % (1024 * 1024),
					   buf, len);
			break;
	}
	free(buf);
	return 0;
}
