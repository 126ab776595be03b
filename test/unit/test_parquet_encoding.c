/*-------------------------------------------------------------------------
 *
 * test_parquet_encoding.c
 *		Unit tests for the Parquet encodings (src/format/parquet/encoding.c)
 *		and page codecs (src/format/parquet/page_codec.c).
 *
 * Three kinds of checks:
 *
 * - hand-computed vectors, among them the examples of the format's
 *	 Encodings.md (re-encoded with a legal block size where the spec's
 *	 examples use 8 for brevity);
 * - round trips: small encoders written here (RLE hybrid, DELTA_BINARY_
 *	 PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT)
 *	 turn thousands of random sequences into bytes that the decoder must
 *	 turn back into the same values; every compressor library compresses
 *	 buffers that PqDecompress must restore;
 * - damage: every truncation of an encoded buffer, and random byte flips,
 *	 decoded from an exactly-sized malloc'd copy so that valgrind or ASan
 *	 see any read past the end.  A decode may only fail or give the right
 *	 values (padding may be cut without loss).
 *
 * With "bench" as the argument it instead times a few decodes of a
 * million values.
 *
 * IDENTIFICATION
 *		test/unit/test_parquet_encoding.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <brotli/encode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "format/parquet/pq_internal.h"
#include "unit.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t
rnd_below(uint64_t n)
{
	return n == 0 ? 0 : rnd() % n;
}

static void
buf_byte(UnitBuf *b, uint8_t v)
{
	unit_buf_append(b, &v, 1);
}

static void
buf_varint(UnitBuf *b, uint64_t v)
{
	while (v >= 0x80)
	{
		buf_byte(b, (uint8_t) (v | 0x80));
		v >>= 7;
	}
	buf_byte(b, (uint8_t) v);
}

static void
buf_le32(UnitBuf *b, uint32_t v)
{
	uint8_t		x[4] = {v, v >> 8, v >> 16, v >> 24};

	unit_buf_append(b, x, 4);
}

static uint64_t
zigzag(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

/* Append count values of bw bits LSB-first (count a multiple of 8). */
static void
buf_pack(UnitBuf *b, const uint64_t *vals, size_t count, int bw)
{
	size_t		nbytes = (count * (size_t) bw + 7) / 8;
	size_t		start = b->len;
	size_t		i;
	uint64_t	bit = 0;

	for (i = 0; i < nbytes; i++)
		buf_byte(b, 0);
	for (i = 0; i < count; i++)
	{
		int			k;

		for (k = 0; k < bw; k++, bit++)
			if ((vals[i] >> k) & 1)
				b->data[start + (bit >> 3)] |= (uint8_t) (1 << (bit & 7));
	}
}

/* An exactly-sized copy, so reading past it is caught. */
static uint8_t *
dup_exact(const uint8_t *p, size_t n)
{
	uint8_t    *q = malloc(n ? n : 1);

	if (q == NULL)
		abort();
	if (n)
		memcpy(q, p, n);
	return q;
}

static bool
bytes_eq(PqBytes a, const uint8_t *p, size_t n)
{
	return a.len == n && (n == 0 || memcmp(a.ptr, p, n) == 0);
}

/* ---- encoders ---- */

/*
 * RLE / bit-packed hybrid, with the run choices randomized so runs of
 * every kind and length appear.  Values must fit bw bits.
 */
static void
enc_rle(UnitBuf *b, const uint32_t *v, size_t n, int bw)
{
	size_t		i = 0;

	while (i < n)
	{
		size_t		eq = 1;

		while (i + eq < n && v[i + eq] == v[i])
			eq++;
		if (eq >= 2 && rnd_below(4) != 0)
		{
			size_t		len = 1 + rnd_below(eq);
			int			k;

			if (rnd_below(2))
				len = eq;
			buf_varint(b, (uint64_t) len << 1);
			for (k = 0; k < (bw + 7) / 8; k++)
				buf_byte(b, (uint8_t) (v[i] >> (8 * k)));
			i += len;
		}
		else
		{
			size_t		groups = 1 + rnd_below(4);
			uint64_t	tmp[64];
			size_t		j;

			if (groups * 8 > n - i)
				groups = (n - i + 7) / 8;
			memset(tmp, 0, sizeof(tmp));
			for (j = 0; j < groups * 8 && i + j < n; j++)
				tmp[j] = v[i + j];
			buf_varint(b, (uint64_t) groups << 1 | 1);
			buf_pack(b, tmp, groups * 8, bw);
			i += j;
		}
	}
}

/*
 * DELTA_BINARY_PACKED of n values (int64, or int32 with is32: deltas wrap
 * at 32 bits).  Unused miniblock widths of the last block get garbage, as
 * readers must accept.
 */
static void
enc_delta(UnitBuf *b, const int64_t *v, size_t n, bool is32, int block,
		  int nmini)
{
	int			mini = block / nmini;
	size_t		i = 1;

	buf_varint(b, (uint64_t) block);
	buf_varint(b, (uint64_t) nmini);
	buf_varint(b, n);
	buf_varint(b, zigzag(n ? v[0] : 0));
	while (i < n)
	{
		size_t		cnt = n - i < (size_t) block ? n - i : (size_t) block;
		int64_t    *d = malloc(sizeof(int64_t) * block);
		int64_t		mind = INT64_MAX;
		size_t		j;
		int			m;
		uint8_t		widths[64];
		uint64_t   *rel = calloc(block, sizeof(uint64_t));

		for (j = 0; j < cnt; j++)
		{
			uint64_t	diff = (uint64_t) v[i + j] - (uint64_t) v[i + j - 1];

			d[j] = is32 ? (int64_t) (int32_t) (uint32_t) diff : (int64_t) diff;
			if (d[j] < mind)
				mind = d[j];
		}
		for (j = 0; j < cnt; j++)
		{
			rel[j] = (uint64_t) d[j] - (uint64_t) mind;
			if (is32)
				rel[j] &= 0xffffffffu;
		}
		buf_varint(b, zigzag(mind));
		for (m = 0; m < nmini; m++)
		{
			uint64_t	or = 0;
			int			w = 0;

			for (j = (size_t) m * mini; j < (size_t) (m + 1) * mini && j < cnt; j++)
				or |= rel[j];
			while (w < 64 && (or >> w) != 0)
				w++;
			if ((size_t) m * mini >= cnt)
				w = (int) rnd_below(256);	/* unused: arbitrary */
			widths[m] = (uint8_t) w;
			buf_byte(b, widths[m]);
		}
		for (m = 0; m < nmini && (size_t) m * mini < cnt; m++)
			buf_pack(b, rel + (size_t) m * mini, mini, widths[m]);
		free(d);
		free(rel);
		i += cnt;
	}
}

static void
enc_delta_lengths(UnitBuf *b, const uint32_t *lens, size_t n)
{
	int64_t    *v = malloc(sizeof(int64_t) * (n + 1));
	size_t		i;

	for (i = 0; i < n; i++)
		v[i] = lens[i];
	enc_delta(b, v, n, true, 128, 4);
	free(v);
}

/* Byte strings s[i] of len[i] stored back to back in data. */
typedef struct Strs
{
	size_t		n;
	uint32_t   *len;
	size_t	   *off;
	uint8_t    *data;
} Strs;

static Strs
make_strs(size_t n, int mode)
{
	Strs		s;
	size_t		i,
				total = 0;

	s.n = n;
	s.len = malloc(sizeof(uint32_t) * (n + 1));
	s.off = malloc(sizeof(size_t) * (n + 1));
	for (i = 0; i < n; i++)
	{
		s.len[i] = (uint32_t) (mode == 0 ? rnd_below(20) : rnd_below(6));
		s.off[i] = total;
		total += s.len[i];
	}
	s.data = malloc(total + 1);
	for (i = 0; i < total; i++)
		s.data[i] = (uint8_t) (mode == 0 ? rnd() : 'a' + rnd_below(2));
	/* mode 2: sorted-ish keys with long shared prefixes */
	if (mode == 2)
		for (i = 1; i < n; i++)
		{
			size_t		common = rnd_below(s.len[i - 1] + 1);

			if (common > s.len[i])
				common = s.len[i];
			memcpy(s.data + s.off[i], s.data + s.off[i - 1], common);
		}
	return s;
}

static void
free_strs(Strs *s)
{
	free(s->len);
	free(s->off);
	free(s->data);
}

static void
enc_delta_length_ba(UnitBuf *b, const Strs *s)
{
	size_t		i;

	enc_delta_lengths(b, s->len, s->n);
	for (i = 0; i < s->n; i++)
		unit_buf_append(b, s->data + s->off[i], s->len[i]);
}

static void
enc_delta_ba(UnitBuf *b, const Strs *s)
{
	uint32_t   *pre = malloc(sizeof(uint32_t) * (s->n + 1));
	uint32_t   *suf = malloc(sizeof(uint32_t) * (s->n + 1));
	size_t		i;

	for (i = 0; i < s->n; i++)
	{
		uint32_t	p = 0;

		if (i > 0)
			while (p < s->len[i] && p < s->len[i - 1] &&
				   s->data[s->off[i] + p] == s->data[s->off[i - 1] + p])
				p++;
		pre[i] = p;
		suf[i] = s->len[i] - p;
	}
	enc_delta_lengths(b, pre, s->n);
	enc_delta_lengths(b, suf, s->n);
	for (i = 0; i < s->n; i++)
		unit_buf_append(b, s->data + s->off[i] + pre[i], suf[i]);
	free(pre);
	free(suf);
}

/* ---- hand vectors ---- */

static void
test_bit_width(void)
{
	CHECK(PqBitWidth(0) == 0, "0");
	CHECK(PqBitWidth(1) == 1, "1");
	CHECK(PqBitWidth(2) == 2, "2");
	CHECK(PqBitWidth(3) == 2, "3");
	CHECK(PqBitWidth(7) == 3, "7");
	CHECK(PqBitWidth(8) == 4, "8");
	CHECK(PqBitWidth(UINT32_MAX) == 32, "max");
	CHECK(PqValueSize(PQ_INT96) == sizeof(PqInt96), "int96 size");
	CHECK(PqValueSize(PQ_BYTE_ARRAY) == sizeof(PqBytes), "ba size");
	CHECK(strcmp(PqEncodingName(PQ_ENC_DELTA_BYTE_ARRAY), "DELTA_BYTE_ARRAY") == 0,
		  "name");
}

static void
test_rle_vectors(void)
{
	/* Encodings.md: 0..7 at bit width 3, one bit-packed group */
	static const uint8_t packed[] = {0x03, 0x88, 0xC6, 0xFA};
	/* RLE run of 300 x 0x1234 at width 13, then bit-packed 1,0 (padded) */
	static const uint8_t mixed[] = {0xd8, 0x04, 0x34, 0x12, 0x03, 0x01, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	uint32_t	out[320];
	PqRle		rle;
	TelemError	err;
	int			i;
	bool		ok;
	uint8_t    *p;

	p = dup_exact(packed, sizeof(packed));
	PqRleInit(&rle, p, sizeof(packed), 3);
	ok = PqRleGet(&rle, out, 8, &err);
	CHECK(ok, "%s", err.message);
	for (i = 0; ok && i < 8; i++)
		CHECK(out[i] == (uint32_t) i, "value %d is %u", i, out[i]);
	/* asking for more than there is */
	PqRleInit(&rle, p, sizeof(packed), 3);
	CHECK(!PqRleGet(&rle, out, 9, &err), "9 of 8");
	free(p);

	p = dup_exact(mixed, sizeof(mixed));
	PqRleInit(&rle, p, sizeof(mixed), 13);
	ok = PqRleGet(&rle, out, 302, &err);
	CHECK(ok, "%s", err.message);
	for (i = 0; ok && i < 300; i++)
		if (out[i] != 0x1234)
			break;
	CHECK(ok && i == 300, "run value at %d", i);
	CHECK(ok && out[300] == 1 && out[301] == 0, "%u %u", out[300], out[301]);
	free(p);

	/* an RLE value wider than the bit width */
	{
		static const uint8_t wide[] = {0x04, 0x09};
		PqRleInit(&rle, wide, sizeof(wide), 3);
		CHECK(!PqRleGet(&rle, out, 2, &err), "value 9 at width 3");
	}
}

static void
test_levels_vectors(void)
{
	/* Encodings.md: deprecated BIT_PACKED, 0..7 at width 3, MSB-first */
	static const uint8_t bp[] = {0x05, 0x39, 0x77};
	/* v1 RLE levels: length 2, then a run of 5 ones (max level 1) */
	static const uint8_t v1[] = {0x02, 0, 0, 0, 0x0a, 0x01, 0xee};
	/* bit-packed 3 at max level 2 then above it */
	static const uint8_t high[] = {0x03, 0x2a, 0xff};
	int16_t		out[16];
	size_t		used = 99;
	TelemError	err;
	int			i;
	bool		ok;
	uint8_t    *p;

	p = dup_exact(bp, sizeof(bp));
	ok = PqDecodeLevels(PQ_ENC_BIT_PACKED, 7, p, sizeof(bp), false, 8, out,
						&used, &err);
	CHECK(ok, "%s", err.message);
	for (i = 0; ok && i < 8; i++)
		CHECK(out[i] == i, "level %d is %d", i, out[i]);
	CHECK(used == 3, "used %zu", used);
	CHECK(!PqDecodeLevels(PQ_ENC_BIT_PACKED, 7, p, sizeof(bp), false, 9, out,
						  &used, &err), "9 levels from 3 bytes");
	CHECK(!PqDecodeLevels(PQ_ENC_BIT_PACKED, 4, p, sizeof(bp), false, 8, out,
						  &used, &err), "levels above 4");
	free(p);

	p = dup_exact(v1, sizeof(v1));
	ok = PqDecodeLevels(PQ_ENC_RLE, 1, p, sizeof(v1), true, 5, out, &used,
						&err);
	CHECK(ok, "%s", err.message);
	for (i = 0; ok && i < 5; i++)
		CHECK(out[i] == 1, "level %d is %d", i, out[i]);
	CHECK(used == 6, "used %zu", used);
	/* without the prefix the same run is at offset 4 */
	ok = PqDecodeLevels(PQ_ENC_RLE, 1, p + 4, 2, false, 5, out, &used, &err);
	CHECK(ok && used == 2, "unprefixed: %s", err.message);
	/* a length past the buffer */
	CHECK(!PqDecodeLevels(PQ_ENC_RLE, 1, p, 5, true, 5, out, &used, &err),
		  "length 2 in 1 byte");
	CHECK(!PqDecodeLevels(PQ_ENC_RLE, 1, p, 3, true, 5, out, &used, &err),
		  "truncated prefix");
	free(p);

	/* 0x2a = 00 10 10 10: levels 2,2,2,0,..; 0xff = 3,3,3,3 */
	ok = PqDecodeLevels(PQ_ENC_RLE, 2, high, sizeof(high), false, 5, out,
						&used, &err);
	CHECK(!ok && strstr(err.message, "above the maximum") != NULL,
		  "3 above 2: %s", ok ? "accepted" : err.message);
	CHECK(!PqDecodeLevels(PQ_ENC_PLAIN, 2, high, 3, false, 1, out, &used,
						  &err) && strncmp(err.message, "unsupported: ", 13) == 0,
		  "PLAIN levels: %s", err.message);
}

static void
test_plain_vectors(void)
{
	static const uint8_t bools[] = {0xa5, 0x03};	/* 10100101, 00000011 */
	static const uint8_t ba[] = {3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 0, 1, 0,
	0, 0, 'z'};
	static const uint8_t i96[] = {1, 2, 3, 4, 5, 6, 7, 8, 0x8c, 0x3d, 0x25, 0};
	static const uint8_t i64[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 2, 0, 0, 0, 0, 0, 0, 0x80};
	uint8_t		bo[10];
	PqBytes		bs[3];
	PqInt96		t;
	int64_t		l[2];
	size_t		used;
	TelemError	err;
	bool		ok;
	int			i;
	static const uint8_t want_bools[10] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 1};

	ok = PqDecodeValues(PQ_ENC_PLAIN, PQ_BOOLEAN, 0, bools, 2, 10, bo, NULL,
						&used, &err);
	CHECK(ok && used == 2 && memcmp(bo, want_bools, 10) == 0, "bools");
	CHECK(!PqDecodeValues(PQ_ENC_PLAIN, PQ_BOOLEAN, 0, bools, 1, 10, bo, NULL,
						  &used, &err), "10 bools from 1 byte");

	ok = PqDecodeValues(PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0, ba, sizeof(ba), 3, bs,
						NULL, &used, &err);
	CHECK(ok && used == sizeof(ba), "%s", err.message);
	CHECK(ok && bytes_eq(bs[0], (const uint8_t *) "abc", 3) &&
		  bs[1].len == 0 && bytes_eq(bs[2], (const uint8_t *) "z", 1), "ba");
	for (i = 0; i < (int) sizeof(ba); i++)
	{
		uint8_t    *p = dup_exact(ba, i);

		CHECK(!PqDecodeValues(PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0, p, i, 3, bs,
							  NULL, &used, &err), "ba cut at %d", i);
		free(p);
	}

	ok = PqDecodeValues(PQ_ENC_PLAIN, PQ_FIXED_LEN_BYTE_ARRAY, 5, ba, 16, 3,
						bs, NULL, &used, &err);
	CHECK(ok && used == 15 && bs[2].ptr == ba + 10 && bs[2].len == 5, "flba");
	CHECK(!PqDecodeValues(PQ_ENC_PLAIN, PQ_FIXED_LEN_BYTE_ARRAY, 0, ba, 16, 1,
						  bs, NULL, &used, &err), "flba length 0");

	ok = PqDecodeValues(PQ_ENC_PLAIN, PQ_INT96, 0, i96, 12, 1, &t, NULL,
						&used, &err);
	CHECK(ok && t.nanos == 0x0807060504030201ULL && t.julian_day == 2440588,
		  "int96 %llx %u", (unsigned long long) t.nanos, t.julian_day);

	ok = PqDecodeValues(PQ_ENC_PLAIN, PQ_INT64, 0, i64, 16, 2, l, NULL,
						&used, &err);
	CHECK(ok && l[0] == -1 && l[1] == (int64_t) (0x8000000000000002ULL),
		  "int64");
	CHECK(!PqDecodeValues(PQ_ENC_PLAIN, PQ_INT64, 0, i64, 15, 2, l, NULL,
						  &used, &err), "int64 short");

	CHECK(!PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_DOUBLE, 0, i64, 16,
						  2, l, NULL, &used, &err) &&
		  strcmp(err.message, "unsupported: DELTA_BINARY_PACKED for DOUBLE") == 0,
		  "%s", err.message);
	CHECK(!PqDecodeValues(PQ_ENC_RLE_DICTIONARY, PQ_INT64, 0, i64, 16,
						  2, l, NULL, &used, &err) &&
		  strncmp(err.message, "unsupported: ", 13) == 0, "%s", err.message);
}

static void
test_rle_boolean_vector(void)
{
	/* length 3: RLE 4 x true, bit-packed group 0b00000110 */
	static const uint8_t v[] = {3, 0, 0, 0, 0x08, 0x01, 0x03, 0x06, 0x77};
	static const uint8_t want[] = {1, 1, 1, 1, 0, 1, 1, 0};
	uint8_t		out[8];
	size_t		used;
	TelemError	err;
	bool		ok;

	/* one byte short of the group */
	ok = PqDecodeValues(PQ_ENC_RLE, PQ_BOOLEAN, 0, v, sizeof(v), 8, out, NULL,
						&used, &err);
	CHECK(!ok, "3-byte length holds no bit-packed data");
	{
		uint8_t		w[sizeof(v)];

		memcpy(w, v, sizeof(v));
		w[0] = 4;
		ok = PqDecodeValues(PQ_ENC_RLE, PQ_BOOLEAN, 0, w, sizeof(w), 8, out,
							NULL, &used, &err);
		CHECK(ok && used == 8 && memcmp(out, want, 8) == 0, "%s",
			  ok ? "values" : err.message);
	}
}

static void
test_delta_vectors(void)
{
	/* Encodings.md example 1 (1..5) with block 128, 4 miniblocks */
	static const uint8_t ex1[] = {0x80, 0x01, 4, 5, 2, 2, 0, 0, 0, 0};
	/* example 2 (7,5,3,1,2,3,4,5): min delta -2, width 2 */
	static const uint8_t ex2[] = {0x80, 0x01, 4, 8, 14, 3, 2, 0, 0, 0,
	0xc0, 0x3f, 0, 0, 0, 0, 0, 0};
	/* the spec's own block size 8 is not a legal one */
	static const uint8_t bs8[] = {8, 1, 5, 2, 2, 0};
	static const int64_t want2[] = {7, 5, 3, 1, 2, 3, 4, 5};
	int64_t		o64[8];
	int32_t		o32[8];
	size_t		used;
	TelemError	err;
	bool		ok;
	int			i;

	ok = PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, ex1,
						sizeof(ex1), 5, o64, NULL, &used, &err);
	CHECK(ok && used == sizeof(ex1), "%s", err.message);
	for (i = 0; ok && i < 5; i++)
		CHECK(o64[i] == i + 1, "ex1[%d] = %lld", i, (long long) o64[i]);
	CHECK(!PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, ex1,
						  sizeof(ex1), 4, o64, NULL, &used, &err),
		  "count 5 read as 4");

	ok = PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32, 0, ex2,
						sizeof(ex2), 8, o32, NULL, &used, &err);
	CHECK(ok && used == sizeof(ex2), "%s", err.message);
	for (i = 0; ok && i < 8; i++)
		CHECK(o32[i] == want2[i], "ex2[%d] = %d", i, o32[i]);
	/* the padding of the last miniblock may be missing */
	ok = PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32, 0, ex2, 12, 8,
						o32, NULL, &used, &err);
	CHECK(ok && used == 12 && o32[7] == 5, "no padding: %s", err.message);
	CHECK(!PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT32, 0, ex2, 11, 8,
						  o32, NULL, &used, &err), "value bits missing");

	CHECK(!PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, bs8,
						  sizeof(bs8), 5, o64, NULL, &used, &err),
		  "block size 8");

	/* DELTA_LENGTH_BYTE_ARRAY: the spec's Hello World Foobar ABCDEF */
	{
		static const uint8_t dl[] = {0x80, 0x01, 4, 4, 10, 0, 1, 0, 0, 0,
			0x02, 0, 0, 0,
		'H', 'e', 'l', 'l', 'o', 'W', 'o', 'r', 'l', 'd', 'F', 'o', 'o', 'b',
		'a', 'r', 'A', 'B', 'C', 'D', 'E', 'F'};
		PqBytes		s[4];

		ok = PqDecodeValues(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0,
							dl, sizeof(dl), 4, s, NULL, &used, &err);
		CHECK(ok && used == sizeof(dl), "%s", err.message);
		CHECK(ok && bytes_eq(s[0], (const uint8_t *) "Hello", 5) &&
			  bytes_eq(s[1], (const uint8_t *) "World", 5) &&
			  bytes_eq(s[2], (const uint8_t *) "Foobar", 6) &&
			  bytes_eq(s[3], (const uint8_t *) "ABCDEF", 6), "strings");
		CHECK(!PqDecodeValues(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY,
							  0, dl, sizeof(dl) - 1, 4, s, NULL, &used, &err),
			  "last string cut");
	}

	/* DELTA_BYTE_ARRAY: the spec's axis axle babble babyhood */
	{
		static const uint8_t db[] = {
			0x80, 0x01, 4, 4, 0, 3, 3, 0, 0, 0,
			0x44, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0x80, 0x01, 4, 4, 8, 3, 3, 0, 0, 0,
			0x70, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			'a', 'x', 'i', 's', 'l', 'e', 'b', 'a', 'b', 'b', 'l', 'e', 'y',
		'h', 'o', 'o', 'd'};
		PqBytes		s[4];
		PqArena    *arena = PqArenaCreate();
		uint8_t		bad[sizeof(db)];

		ok = PqDecodeValues(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, db,
							sizeof(db), 4, s, arena, &used, &err);
		CHECK(ok && used == sizeof(db), "%s", err.message);
		CHECK(ok && bytes_eq(s[0], (const uint8_t *) "axis", 4) &&
			  bytes_eq(s[1], (const uint8_t *) "axle", 4) &&
			  bytes_eq(s[2], (const uint8_t *) "babble", 6) &&
			  bytes_eq(s[3], (const uint8_t *) "babyhood", 8), "strings");
		/* first prefix 5 > 0 bytes of "no previous value" */
		memcpy(bad, db, sizeof(db));
		bad[4] = 10;
		ok = PqDecodeValues(PQ_ENC_DELTA_BYTE_ARRAY, PQ_BYTE_ARRAY, 0, bad,
							sizeof(bad), 4, s, arena, &used, &err);
		CHECK(!ok && strstr(err.message, "prefix") != NULL, "%s",
			  ok ? "accepted" : err.message);
		/* as FLBA(4) the lengths 6 and 8 are wrong */
		CHECK(!PqDecodeValues(PQ_ENC_DELTA_BYTE_ARRAY, PQ_FIXED_LEN_BYTE_ARRAY,
							  4, db, sizeof(db), 4, s, arena, &used, &err),
			  "flba 4");
		PqArenaFree(arena);
	}

	/* a negative length: first value -1 */
	{
		static const uint8_t neg[] = {0x80, 0x01, 4, 1, 1};
		PqBytes		s[1];

		ok = PqDecodeValues(PQ_ENC_DELTA_LENGTH_BYTE_ARRAY, PQ_BYTE_ARRAY, 0,
							neg, sizeof(neg), 1, s, NULL, &used, &err);
		CHECK(!ok && strstr(err.message, "negative") != NULL, "%s",
			  ok ? "accepted" : err.message);
	}
}

static void
test_bss_vector(void)
{
	static const uint8_t enc[] = {0xAA, 0x00, 0xA3, 0xBB, 0x11, 0xB4, 0xCC,
	0x22, 0xC5, 0xDD, 0x33, 0xD6};
	static const uint8_t raw[] = {0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22,
	0x33, 0xA3, 0xB4, 0xC5, 0xD6};
	float		f[3];
	PqBytes		b[4];
	PqArena    *arena = PqArenaCreate();
	size_t		used;
	TelemError	err;
	bool		ok;

	ok = PqDecodeValues(PQ_ENC_BYTE_STREAM_SPLIT, PQ_FLOAT, 0, enc, 12, 3, f,
						NULL, &used, &err);
	CHECK(ok && used == 12 && memcmp(f, raw, 12) == 0, "float bss");
	ok = PqDecodeValues(PQ_ENC_BYTE_STREAM_SPLIT, PQ_FIXED_LEN_BYTE_ARRAY, 3,
						enc, 12, 4, b, arena, &used, &err);
	/* streams of 4: AA 00 A3 BB | 11 B4 CC 22 | C5 DD 33 D6 */
	CHECK(ok && used == 12, "%s", err.message);
	CHECK(ok && b[1].len == 3 && b[1].ptr[0] == 0x00 && b[1].ptr[1] == 0xB4 &&
		  b[1].ptr[2] == 0xDD, "flba bss");
	CHECK(!PqDecodeValues(PQ_ENC_BYTE_STREAM_SPLIT, PQ_DOUBLE, 0, enc, 12, 2,
						  f, NULL, &used, &err), "2 doubles from 12 bytes");
	PqArenaFree(arena);
}

/* ---- round trips ---- */

static void
test_rle_roundtrip(void)
{
	int			iter;
	int			bad = 0;

	for (iter = 0; iter < 3000; iter++)
	{
		int			bw = (int) rnd_below(33);
		size_t		n = 1 + rnd_below(iter < 2500 ? 300 : 5000);
		uint32_t   *v = malloc(n * sizeof(uint32_t));
		uint32_t   *o = malloc(n * sizeof(uint32_t));
		uint64_t	mask = bw == 32 ? 0xffffffffu : ((1u << bw) - 1);
		size_t		i;
		UnitBuf			b = {0};
		uint8_t    *p;
		PqRle		rle;
		TelemError	err;
		size_t		got = 0;
		bool		ok = true;

		for (i = 0; i < n; i++)
		{
			if (i > 0 && rnd_below(3) == 0)
				v[i] = v[i - 1];
			else
				v[i] = (uint32_t) (rnd() & mask);
		}
		enc_rle(&b, v, n, bw);
		p = dup_exact(b.data, b.len);
		PqRleInit(&rle, p, b.len, bw);
		/* in random pieces, to stop in the middle of groups */
		while (ok && got < n)
		{
			size_t		k = 1 + rnd_below(rnd_below(2) ? 7 : 100);

			if (k > n - got)
				k = n - got;
			ok = PqRleGet(&rle, o + got, (int64_t) k, &err);
			got += k;
		}
		if (!ok || memcmp(v, o, n * sizeof(uint32_t)) != 0)
		{
			if (bad++ < 5)
				CHECK(false, "rle round trip bw %d n %zu: %s", bw, n,
					  ok ? "values differ" : err.message);
		}
		else
			unit_passed++;
		free(p);

		/* levels, when the width suits */
		if (bw >= 1 && bw <= 15 && iter % 3 == 0)
		{
			int16_t    *lv = malloc(n * sizeof(int16_t));
			size_t		used;
			UnitBuf			pre = {0};

			buf_le32(&pre, (uint32_t) b.len);
			unit_buf_append(&pre, b.data, b.len);
			p = dup_exact(pre.data, pre.len);
			ok = PqDecodeLevels(PQ_ENC_RLE, (int) mask, p, pre.len, true,
								(int64_t) n, lv, &used, &err);
			for (i = 0; ok && i < n; i++)
				if ((uint32_t) lv[i] != v[i])
					ok = false;
			CHECK(ok && used == pre.len, "levels bw %d", bw);
			free(p);
			free(pre.data);
			free(lv);
		}

		/* truncations: fail, or right values (only padding was cut) */
		if (iter % 10 == 0)
		{
			size_t		cut;

			for (cut = 0; cut < b.len; cut += 1 + b.len / 40)
			{
				p = dup_exact(b.data, cut);
				PqRleInit(&rle, p, cut, bw);
				ok = PqRleGet(&rle, o, (int64_t) n, &err);
				if (ok && memcmp(v, o, n * sizeof(uint32_t)) != 0)
					CHECK(false, "cut rle at %zu gave wrong values", cut);
				free(p);
			}
		}
		free(b.data);
		free(v);
		free(o);
	}
}

static void
test_delta_roundtrip(void)
{
	static const int shapes[][2] = {{128, 4}, {128, 1}, {256, 8}, {1024, 32},
	{128, 2}};
	int			iter;
	int			bad = 0;

	for (iter = 0; iter < 3000; iter++)
	{
		bool		is32 = rnd_below(2);
		size_t		n = rnd_below(iter < 2800 ? 400 : 5000);
		int64_t    *v = malloc((n + 1) * sizeof(int64_t));
		int64_t    *o64 = malloc((n + 1) * sizeof(int64_t));
		int32_t    *o32 = malloc((n + 1) * sizeof(int32_t));
		int			mode = (int) rnd_below(5);
		int			shape = (int) rnd_below(5);
		size_t		i,
					used;
		UnitBuf			b = {0};
		uint8_t    *p;
		TelemError	err;
		bool		ok;

		for (i = 0; i < n; i++)
		{
			int64_t		x;

			switch (mode)
			{
				case 0:			/* anything, extremes included */
					x = (int64_t) rnd();
					if (rnd_below(8) == 0)
						x = rnd_below(2) ? INT64_MAX : INT64_MIN;
					break;
				case 1:			/* timestamps */
					x = 1700000000000000LL + (int64_t) i * 1000 +
						(int64_t) rnd_below(50);
					break;
				case 2:			/* small noise */
					x = (int64_t) rnd_below(100) - 50;
					break;
				case 3:			/* constant */
					x = 42;
					break;
				default:		/* descending steps */
					x = -(int64_t) i * (int64_t) rnd_below(1000);
					break;
			}
			if (is32)
			{
				x = (int32_t) (uint32_t) x;
				if (mode == 0 && rnd_below(8) == 0)
					x = rnd_below(2) ? INT32_MAX : INT32_MIN;
			}
			v[i] = x;
		}
		enc_delta(&b, v, n, is32, shapes[shape][0], shapes[shape][1]);
		p = dup_exact(b.data, b.len);
		ok = PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED,
							is32 ? PQ_INT32 : PQ_INT64, 0, p, b.len,
							(int64_t) n, is32 ? (void *) o32 : (void *) o64,
							NULL, &used, &err);
		for (i = 0; ok && i < n; i++)
			if ((is32 ? (int64_t) o32[i] : o64[i]) != v[i])
				ok = false;
		if (!ok || used != b.len)
		{
			if (bad++ < 5)
				CHECK(false, "delta round trip is32 %d n %zu mode %d: %s",
					  is32, n, mode, err.message);
		}
		else
			unit_passed++;
		free(p);

		if (iter % 10 == 0)
		{
			size_t		cut;

			for (cut = 0; cut < b.len; cut += 1 + b.len / 30)
			{
				p = dup_exact(b.data, cut);
				ok = PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED,
									is32 ? PQ_INT32 : PQ_INT64, 0, p, cut,
									(int64_t) n,
									is32 ? (void *) o32 : (void *) o64,
									NULL, &used, &err);
				for (i = 0; ok && i < n; i++)
					if ((is32 ? (int64_t) o32[i] : o64[i]) != v[i])
						CHECK(false, "cut delta at %zu: wrong value", cut);
				free(p);
			}
			/* random damage must never crash */
			for (cut = 0; cut < 20 && b.len > 0; cut++)
			{
				p = dup_exact(b.data, b.len);
				p[rnd_below(b.len)] ^= (uint8_t) (1 + rnd_below(255));
				(void) PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED,
									  is32 ? PQ_INT32 : PQ_INT64, 0, p, b.len,
									  (int64_t) n,
									  is32 ? (void *) o32 : (void *) o64,
									  NULL, &used, &err);
				free(p);
			}
		}
		free(b.data);
		free(v);
		free(o64);
		free(o32);
	}
}

static void
test_byte_array_roundtrip(void)
{
	int			iter;
	int			bad = 0;

	for (iter = 0; iter < 1500; iter++)
	{
		size_t		n = rnd_below(iter < 1400 ? 300 : 3000);
		Strs		s = make_strs(n, iter % 3);
		PqBytes    *o = malloc((n + 1) * sizeof(PqBytes));
		int			which;

		for (which = 0; which < 2; which++)
		{
			UnitBuf			b = {0};
			PqEncoding	enc = which ? PQ_ENC_DELTA_BYTE_ARRAY :
				PQ_ENC_DELTA_LENGTH_BYTE_ARRAY;
			PqArena    *arena = PqArenaCreate();
			uint8_t    *p;
			size_t		used,
						i,
						cut;
			TelemError	err;
			bool		ok;

			if (which)
				enc_delta_ba(&b, &s);
			else
				enc_delta_length_ba(&b, &s);
			p = dup_exact(b.data, b.len);
			ok = PqDecodeValues(enc, PQ_BYTE_ARRAY, 0, p, b.len, (int64_t) n,
								o, arena, &used, &err);
			for (i = 0; ok && i < n; i++)
				if (!bytes_eq(o[i], s.data + s.off[i], s.len[i]))
					ok = false;
			if (!ok || used != b.len)
			{
				if (bad++ < 5)
					CHECK(false, "%s round trip n %zu: %s",
						  PqEncodingName(enc), n, err.message);
			}
			else
				unit_passed++;
			free(p);

			if (iter % 20 == 0)
			{
				for (cut = 0; cut < b.len; cut += 1 + b.len / 30)
				{
					p = dup_exact(b.data, cut);
					ok = PqDecodeValues(enc, PQ_BYTE_ARRAY, 0, p, cut,
										(int64_t) n, o, arena, &used, &err);
					for (i = 0; ok && i < n; i++)
						if (!bytes_eq(o[i], s.data + s.off[i], s.len[i]))
							CHECK(false, "cut %s at %zu: wrong value",
								  PqEncodingName(enc), cut);
					free(p);
				}
				for (cut = 0; cut < 20 && b.len > 0; cut++)
				{
					p = dup_exact(b.data, b.len);
					p[rnd_below(b.len)] ^= (uint8_t) (1 + rnd_below(255));
					ok = PqDecodeValues(enc, PQ_BYTE_ARRAY, 0, p, b.len,
										(int64_t) n, o, arena, &used, &err);
					/* touch every byte a success claims to have */
					for (i = 0; ok && i < n; i++)
						if (o[i].len > 0)
							rng_state += o[i].ptr[0] + o[i].ptr[o[i].len - 1];
					free(p);
				}
			}
			PqArenaFree(arena);
			free(b.data);
		}

		/* FLBA through DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT */
		if (n > 0)
		{
			int32_t		w = 1 + (int32_t) rnd_below(17);
			Strs		f;
			size_t		i;
			UnitBuf			b = {0};
			PqArena    *arena = PqArenaCreate();
			size_t		used;
			TelemError	err;
			bool		ok;
			uint8_t    *bss = malloc(n * (size_t) w);

			f.n = n;
			f.len = malloc(sizeof(uint32_t) * n);
			f.off = malloc(sizeof(size_t) * n);
			f.data = malloc(n * (size_t) w);
			for (i = 0; i < n; i++)
			{
				f.len[i] = (uint32_t) w;
				f.off[i] = i * (size_t) w;
			}
			for (i = 0; i < n * (size_t) w; i++)
				f.data[i] = (uint8_t) ('a' + rnd_below(2));
			enc_delta_ba(&b, &f);
			ok = PqDecodeValues(PQ_ENC_DELTA_BYTE_ARRAY,
								PQ_FIXED_LEN_BYTE_ARRAY, w, b.data, b.len,
								(int64_t) n, o, arena, &used, &err);
			for (i = 0; ok && i < n; i++)
				if (!bytes_eq(o[i], f.data + f.off[i], (size_t) w))
					ok = false;
			CHECK(ok && used == b.len, "flba delta w %d: %s", w, err.message);

			for (i = 0; i < n * (size_t) w; i++)
				bss[(i % (size_t) w) * n + i / (size_t) w] = f.data[i];
			ok = PqDecodeValues(PQ_ENC_BYTE_STREAM_SPLIT,
								PQ_FIXED_LEN_BYTE_ARRAY, w, bss, n * (size_t) w,
								(int64_t) n, o, arena, &used, &err);
			for (i = 0; ok && i < n; i++)
				if (!bytes_eq(o[i], f.data + f.off[i], (size_t) w))
					ok = false;
			CHECK(ok && used == n * (size_t) w, "flba bss w %d", w);
			if (w == 4 || w == 8)
			{
				uint8_t    *raw = malloc(n * (size_t) w);

				ok = PqDecodeValues(PQ_ENC_BYTE_STREAM_SPLIT,
									w == 4 ? PQ_INT32 : PQ_DOUBLE, 0, bss,
									n * (size_t) w, (int64_t) n, raw, NULL,
									&used, &err);
				CHECK(ok && memcmp(raw, f.data, n * (size_t) w) == 0,
					  "bss width %d", w);
				free(raw);
			}
			free(bss);
			free_strs(&f);
			free(b.data);
			PqArenaFree(arena);
		}
		free(o);
		free_strs(&s);
	}
}

/* ---- codecs ---- */

static void
make_data(uint8_t *p, size_t n, int kind)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		switch (kind)
		{
			case 0:
				p[i] = (uint8_t) rnd();
				break;
			case 1:
				p[i] = (uint8_t) "the quick brown fox "[i % 20];
				break;
			default:
				p[i] = (uint8_t) (rnd_below(4) == 0 ? rnd() : i / 7);
				break;
		}
	}
}

static void
gzip_member(UnitBuf *b, const uint8_t *src, size_t n, int window_bits)
{
	z_stream	zs;
	uint8_t		out[4096];
	int			r;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8,
					 Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	zs.next_in = (Bytef *) src;
	zs.avail_in = (uInt) n;
	do
	{
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		r = deflate(&zs, Z_FINISH);
		unit_buf_append(b, out, sizeof(out) - zs.avail_out);
	} while (r == Z_OK);
	if (r != Z_STREAM_END)
		abort();
	deflateEnd(&zs);
}

static void
be32(UnitBuf *b, uint32_t v)
{
	uint8_t		x[4] = {v >> 24, v >> 16, v >> 8, v};

	unit_buf_append(b, x, 4);
}

static void
lz4_block_into(UnitBuf *b, const uint8_t *src, size_t n, bool hadoop)
{
	int			cap = LZ4_compressBound((int) n);
	char	   *tmp = malloc(cap);
	int			c = LZ4_compress_default((const char *) src, tmp, (int) n, cap);

	if (c <= 0)
		abort();
	if (hadoop)
	{
		be32(b, (uint32_t) n);
		be32(b, (uint32_t) c);
	}
	unit_buf_append(b, tmp, (size_t) c);
	free(tmp);
}

/* Compress src with codec; false if the test does not cover it. */
static bool
compress_with(PqCodec codec, int variant, const uint8_t *src, size_t n, UnitBuf *b)
{
	switch (codec)
	{
		case PQ_CODEC_UNCOMPRESSED:
			unit_buf_append(b, src, n);
			return true;
		case PQ_CODEC_SNAPPY:
			{
				size_t		cap = snappy_max_compressed_length(n);
				char	   *tmp = malloc(cap);

				if (snappy_compress((const char *) src, n, tmp, &cap) != SNAPPY_OK)
					abort();
				unit_buf_append(b, tmp, cap);
				free(tmp);
				return true;
			}
		case PQ_CODEC_GZIP:
			if (variant == 0)
				gzip_member(b, src, n, 31);
			else if (variant == 1)
			{
				/* two gzip members, split anywhere */
				size_t		half = rnd_below(n + 1);

				gzip_member(b, src, half, 31);
				gzip_member(b, src + half, n - half, 31);
			}
			else
				gzip_member(b, src, n, 15);	/* zlib header */
			return true;
		case PQ_CODEC_BROTLI:
			{
				size_t		cap = BrotliEncoderMaxCompressedSize(n) + 16;
				uint8_t    *tmp = malloc(cap);

				if (!BrotliEncoderCompress(5, 22, BROTLI_MODE_GENERIC, n, src,
										   &cap, tmp))
					abort();
				unit_buf_append(b, tmp, cap);
				free(tmp);
				return true;
			}
		case PQ_CODEC_ZSTD:
			{
				size_t		cap = ZSTD_compressBound(n);
				uint8_t    *tmp = malloc(cap);
				size_t		c;

				if (variant == 0)
					c = ZSTD_compress(tmp, cap, src, n, 3);
				else
				{
					/* two frames, streamed: no content size */
					ZSTD_CCtx  *cc = ZSTD_createCCtx();

					ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
					size_t		half = rnd_below(n + 1);
					int			k;

					for (k = 0; k < 2; k++)
					{
						ZSTD_inBuffer in = {k ? src + half : src,
						k ? n - half : half, 0};
						ZSTD_outBuffer out = {tmp, cap, 0};

						ZSTD_CCtx_reset(cc, ZSTD_reset_session_only);
						while (ZSTD_compressStream2(cc, &out, &in, ZSTD_e_end) != 0)
							;
						unit_buf_append(b, tmp, out.pos);
					}
					ZSTD_freeCCtx(cc);
					free(tmp);
					return true;
				}
				if (ZSTD_isError(c))
					abort();
				unit_buf_append(b, tmp, c);
				free(tmp);
				return true;
			}
		case PQ_CODEC_LZ4_RAW:
			lz4_block_into(b, src, n, false);
			return true;
		case PQ_CODEC_LZ4:
			if (variant == 0)
			{
				/* Hadoop framing, one or two blocks */
				size_t		half = n / 2;

				if (rnd_below(2) || n < 2)
					lz4_block_into(b, src, n, true);
				else
				{
					lz4_block_into(b, src, half, true);
					lz4_block_into(b, src + half, n - half, true);
				}
			}
			else if (variant == 1)
				lz4_block_into(b, src, n, false);
			else
			{
				size_t		cap = LZ4F_compressFrameBound(n, NULL);
				uint8_t    *tmp = malloc(cap);
				size_t		c = LZ4F_compressFrame(tmp, cap, src, n, NULL);

				if (LZ4F_isError(c))
					abort();
				unit_buf_append(b, tmp, c);
				free(tmp);
			}
			return true;
		default:
			return false;
	}
}

static const char *
codec_name(PqCodec c)
{
	static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP",
	"LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};

	return (unsigned) c < 8 ? names[c] : "?";
}

static void
test_codecs(void)
{
	static const PqCodec codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY,
		PQ_CODEC_GZIP, PQ_CODEC_BROTLI, PQ_CODEC_ZSTD, PQ_CODEC_LZ4_RAW,
	PQ_CODEC_LZ4};
	PqCodecState *st = PqCodecStateCreate();
	int			ci,
				iter;
	TelemError	err;

	for (ci = 0; ci < (int) (sizeof(codecs) / sizeof(codecs[0])); ci++)
	{
		PqCodec		codec = codecs[ci];
		int			bad = 0;

		for (iter = 0; iter < 60; iter++)
		{
			size_t		n = iter < 5 ? (size_t) iter : rnd_below(iter < 50 ? 5000 : 300000);
			uint8_t    *src = malloc(n + 1);
			uint8_t    *dst = malloc(n + 2);
			int			variant = iter % 3;
			UnitBuf			b = {0};
			uint8_t    *p;
			bool		ok;
			size_t		k;

			make_data(src, n, (int) rnd_below(3));
			compress_with(codec, variant, src, n, &b);
			p = dup_exact(b.data, b.len);
			memset(dst, 0xee, n + 2);
			ok = (iter & 1) ?
				PqDecompressWith(st, codec, p, b.len, dst, n, &err) :
				PqDecompress(codec, p, b.len, dst, n, &err);
			if (!ok || (n > 0 && memcmp(src, dst, n) != 0) || dst[n] != 0xee)
			{
				if (bad++ < 3)
					CHECK(false, "%s variant %d n %zu: %s", codec_name(codec),
						  variant, n, ok ? "wrong bytes" : err.message);
			}
			else
				unit_passed++;

			/* one byte short, one too many: errors, nothing written past */
			if (b.len > 0 && n > 0)
			{
				memset(dst, 0xee, n + 2);
				CHECK(!PqDecompressWith(st, codec, p, b.len, dst, n - 1, &err),
					  "%s n-1 (%zu)", codec_name(codec), n);
				CHECK(dst[n - 1] == 0xee, "%s wrote past n-1", codec_name(codec));
			}
			if (b.len > 0)
				CHECK(!PqDecompressWith(st, codec, p, b.len, dst, n + 1, &err),
					  "%s n+1 (%zu)", codec_name(codec), n);
			free(p);

			/* truncations fail */
			for (k = 1; k <= 3 && k <= b.len && b.len > 0; k++)
			{
				size_t		cut = k == 3 ? rnd_below(b.len) : b.len - k;

				p = dup_exact(b.data, cut);
				ok = PqDecompressWith(st, codec, p, cut, dst, n, &err);
				/* a cut in a gzip member boundary, or in lz4's final literal... */
				if (ok && codec != PQ_CODEC_UNCOMPRESSED)
					CHECK(memcmp(src, dst, n) == 0, "%s cut %zu", codec_name(codec), cut);
				else
					CHECK(!ok || n == 0, "%s cut %zu accepted", codec_name(codec), cut);
				free(p);
			}
			/* damage never crashes; and the size is always right */
			for (k = 0; k < 10 && b.len > 0; k++)
			{
				p = dup_exact(b.data, b.len);
				p[rnd_below(b.len)] ^= (uint8_t) (1 + rnd_below(255));
				memset(dst, 0xee, n + 2);
				(void) PqDecompressWith(st, codec, p, b.len, dst, n, &err);
				CHECK(dst[n] == 0xee, "%s damaged wrote past", codec_name(codec));
				free(p);
			}
			free(b.data);
			free(src);
			free(dst);
		}
	}

	/* gzip: trailing garbage after a member */
	{
		UnitBuf			b = {0};
		uint8_t		src[100],
					dst[100];

		make_data(src, 100, 1);
		gzip_member(&b, src, 100, 31);
		unit_buf_append(&b, "xyz", 3);
		CHECK(!PqDecompress(PQ_CODEC_GZIP, b.data, b.len, dst, 100, &err),
			  "gzip garbage");
		free(b.data);
		/* an empty member after the data */
		b = (UnitBuf) {0};
		gzip_member(&b, src, 100, 31);
		gzip_member(&b, src, 0, 31);
		CHECK(PqDecompress(PQ_CODEC_GZIP, b.data, b.len, dst, 100, &err) &&
			  memcmp(src, dst, 100) == 0, "gzip empty member: %s", err.message);
		free(b.data);
	}

	CHECK(!PqDecompress(PQ_CODEC_LZO, (const uint8_t *) "x", 1, NULL, 0, &err) &&
		  strcmp(err.message, "unsupported: LZO compression") == 0, "%s",
		  err.message);
	CHECK(!PqDecompress((PqCodec) 42, (const uint8_t *) "x", 1, NULL, 0, &err) &&
		  strncmp(err.message, "unsupported: ", 13) == 0, "%s", err.message);
	CHECK(PqDecompress(PQ_CODEC_ZSTD, NULL, 0, NULL, 0, &err), "empty page");
	PqCodecStateFree(st);
}

/*
 * The LZ4 files of parquet-testing: the page bytes are not easy to get at
 * without the footer reader, so their shapes are covered above (Hadoop
 * framing in one and two blocks, raw block, frame).
 */

/* ---- benchmark ---- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
bench(void)
{
	const size_t n = 1000000;
	int64_t    *v = malloc(n * sizeof(int64_t));
	int64_t    *o = malloc(n * sizeof(int64_t));
	uint32_t   *idx = malloc(n * sizeof(uint32_t));
	uint32_t   *oi = malloc(n * sizeof(uint32_t));
	PqBytes    *ob = malloc(n * sizeof(PqBytes));
	int16_t    *lv = malloc(n * sizeof(int16_t));
	UnitBuf			b = {0};
	size_t		used,
				i;
	TelemError	err;
	double		t0;
	int			rep;
	PqRle		rle;

	for (i = 0; i < n; i++)
		v[i] = 1700000000000000LL + (int64_t) i * 1000 + (int64_t) rnd_below(50);

#define TIME(label, stmt) \
	do { \
		double best = 1e9; \
		for (rep = 0; rep < 5; rep++) \
		{ \
			t0 = now_ms(); \
			if (!(stmt)) \
			{ \
				printf("%s failed: %s\n", label, err.message); \
				break; \
			} \
			if (now_ms() - t0 < best) \
				best = now_ms() - t0; \
		} \
		printf("%-44s %7.2f ms\n", label, best); \
	} while (0)

	TIME("1M INT64 PLAIN",
		 PqDecodeValues(PQ_ENC_PLAIN, PQ_INT64, 0, (uint8_t *) v, n * 8, n, o,
						NULL, &used, &err));

	for (i = 0; i < n; i++)
		idx[i] = (uint32_t) rnd_below(1000);
	{
		/* bit-packed only, as dictionary indices of random data are */
		size_t		g;

		for (g = 0; g < n / 8; g += 64)
		{
			uint64_t	tmp[512];
			size_t		j,
						cnt = (n / 8 - g < 64 ? n / 8 - g : 64) * 8;

			for (j = 0; j < cnt; j++)
				tmp[j] = idx[g * 8 + j];
			buf_varint(&b, (uint64_t) (cnt / 8) << 1 | 1);
			buf_pack(&b, tmp, cnt, 10);
		}
	}
	TIME("1M RLE dict indices, bit width 10",
		 (PqRleInit(&rle, b.data, b.len, 10), PqRleGet(&rle, oi, n, &err)));
	CHECK(memcmp(idx, oi, n * 4) == 0, "bench rle values");
	free(b.data);

	b = (UnitBuf) {0};
	for (i = 0; i < n; i++)
		idx[i] = rnd_below(50) == 0 ? 0 : 1;
	{
		UnitBuf			r = {0};

		enc_rle(&r, idx, n, 1);
		buf_le32(&b, (uint32_t) r.len);
		unit_buf_append(&b, r.data, r.len);
		free(r.data);
	}
	TIME("1M def levels (max 1, 2% null)",
		 PqDecodeLevels(PQ_ENC_RLE, 1, b.data, b.len, true, n, lv, &used,
						&err));
	free(b.data);

	b = (UnitBuf) {0};
	enc_delta(&b, v, n, false, 128, 4);
	TIME("1M INT64 DELTA_BINARY_PACKED (timestamps)",
		 PqDecodeValues(PQ_ENC_DELTA_BINARY_PACKED, PQ_INT64, 0, b.data,
						b.len, n, o, NULL, &used, &err));
	CHECK(memcmp(v, o, n * 8) == 0, "bench delta values");
	free(b.data);

	b = (UnitBuf) {0};
	for (i = 0; i < n; i++)
	{
		char		s[32];
		int			l = snprintf(s, sizeof(s), "vehicle-%06zu", i / 3);

		buf_le32(&b, (uint32_t) l);
		unit_buf_append(&b, s, (size_t) l);
	}
	TIME("1M BYTE_ARRAY PLAIN (15 bytes)",
		 PqDecodeValues(PQ_ENC_PLAIN, PQ_BYTE_ARRAY, 0, b.data, b.len, n, ob,
						NULL, &used, &err));
	free(b.data);

	TIME("1M DOUBLE BYTE_STREAM_SPLIT",
		 PqDecodeValues(PQ_ENC_BYTE_STREAM_SPLIT, PQ_DOUBLE, 0,
						(uint8_t *) v, n * 8, n, o, NULL, &used, &err));
	{
		uint8_t    *src = malloc(n * 8);
		uint8_t    *dst = malloc(n * 8);
		PqCodecState *st = PqCodecStateCreate();

		memcpy(src, v, n * 8);
		b = (UnitBuf) {0};
		compress_with(PQ_CODEC_ZSTD, 0, src, n * 8, &b);
		TIME("8 MB ZSTD page",
			 PqDecompressWith(st, PQ_CODEC_ZSTD, b.data, b.len, dst, n * 8, &err));
		free(b.data);
		b = (UnitBuf) {0};
		compress_with(PQ_CODEC_SNAPPY, 0, src, n * 8, &b);
		TIME("8 MB SNAPPY page",
			 PqDecompressWith(st, PQ_CODEC_SNAPPY, b.data, b.len, dst, n * 8, &err));
		free(b.data);
		PqCodecStateFree(st);
		free(src);
		free(dst);
	}
	free(v);
	free(o);
	free(idx);
	free(oi);
	free(ob);
	free(lv);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "bench") == 0)
	{
		bench();
		return unit_finish("test_parquet_encoding bench");
	}
	test_bit_width();
	test_rle_vectors();
	test_levels_vectors();
	test_plain_vectors();
	test_rle_boolean_vector();
	test_delta_vectors();
	test_bss_vector();
	test_rle_roundtrip();
	test_delta_roundtrip();
	test_byte_array_roundtrip();
	test_codecs();
	return unit_finish("test_parquet_encoding");
}
