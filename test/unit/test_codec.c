/*-------------------------------------------------------------------------
 *
 * test_codec.c
 *		Unit tests for the streaming codecs (src/format/codec.c).
 *
 * All test data is generated in-process: gzip members with deflateInit2
 * (windowBits 31), zstd frames with ZSTD_compress and the streaming API.
 * A fake TelemReadFn serves a memory buffer, optionally a few bytes per
 * call, and can be told to fail part-way.
 *
 * IDENTIFICATION
 *		test/unit/test_codec.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "format/codec.h"
#include "unit.h"

/* The fake source: serves data[0..len), at most max_chunk bytes a call. */
typedef struct MemSrc
{
	const unsigned char *data;
	size_t		len;
	size_t		pos;
	size_t		max_chunk;		/* 0 = as much as asked */
	size_t		fail_at;		/* fail once pos reaches this; 0 = never */
	bool		fail_silently;	/* fail without filling err */
} MemSrc;

static ssize_t
mem_read(void *ctx, void *buf, size_t len, TelemError *err)
{
	MemSrc	   *src = ctx;
	size_t		n = src->len - src->pos;

	if (src->fail_at > 0 && src->pos >= src->fail_at)
	{
		if (!src->fail_silently)
			TelemSetError(err, TELEM_ERR_NETWORK, "connection reset by fake");
		return -1;
	}
	if (n > len)
		n = len;
	if (src->max_chunk > 0 && n > src->max_chunk)
		n = src->max_chunk;
	if (src->fail_at > 0 && src->pos + n > src->fail_at)
		n = src->fail_at - src->pos;
	memcpy(buf, src->data + src->pos, n);
	src->pos += n;
	return (ssize_t) n;
}

/* Result of decoding a whole stream. */
typedef struct Decoded
{
	UnitBuf			out;
	bool		ok;
	TelemError	err;
	TelemCompression kind;
	int64_t		in_offset;
} Decoded;

/*
 * Decode 'in' completely with codec c, the source serving src_chunk bytes
 * per call and the reader asking for read_chunk bytes per call.
 */
static Decoded
decode_ex(TelemCompression c, const char *key, const void *in, size_t inlen,
		  size_t src_chunk, size_t read_chunk, size_t fail_at)
{
	Decoded		d;
	MemSrc		src;
	TelemCodec *codec;
	unsigned char *chunk = malloc(read_chunk);

	memset(&d, 0, sizeof(d));
	memset(&src, 0, sizeof(src));
	src.data = in;
	src.len = inlen;
	src.max_chunk = src_chunk;
	src.fail_at = fail_at;

	codec = CodecOpen(c, key, mem_read, &src, &d.err);
	if (codec == NULL)
	{
		free(chunk);
		return d;
	}
	for (;;)
	{
		ssize_t		n = CodecRead(codec, chunk, read_chunk, &d.err);

		if (n < 0)
			break;
		if (n == 0)
		{
			d.ok = true;
			break;
		}
		unit_buf_append(&d.out, chunk, (size_t) n);
	}
	d.kind = CodecKind(codec);
	d.in_offset = CodecInputOffset(codec);
	CodecClose(codec);
	free(chunk);
	return d;
}

static Decoded
decode(TelemCompression c, const char *key, const void *in, size_t inlen)
{
	return decode_ex(c, key, in, inlen, 0, 65536, 0);
}

/* Append one gzip member holding data to out. */
static void
gzip_member(UnitBuf *out, const void *data, size_t len, int level)
{
	z_stream	zs;
	unsigned char chunk[16384];
	int			rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	zs.next_in = (unsigned char *) data;
	zs.avail_in = (uInt) len;
	do
	{
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		rc = deflate(&zs, Z_FINISH);
		if (rc == Z_STREAM_ERROR)
			abort();
		unit_buf_append(out, chunk, sizeof(chunk) - zs.avail_out);
	} while (rc != Z_STREAM_END);
	deflateEnd(&zs);
}

/* Append one zstd frame (content size in header) holding data to out. */
static void
zstd_frame(UnitBuf *out, const void *data, size_t len, int level)
{
	size_t		bound = ZSTD_compressBound(len);
	void	   *tmp = malloc(bound);
	size_t		n = ZSTD_compress(tmp, bound, data, len, level);

	if (ZSTD_isError(n))
		abort();
	unit_buf_append(out, tmp, n);
	free(tmp);
}

/*
 * Append one zstd frame written by the streaming API, fed in small pieces
 * (so no content size in the header) and with a content checksum.
 */
static void
zstd_stream_frame(UnitBuf *out, const void *data, size_t len)
{
	ZSTD_CCtx  *cctx = ZSTD_createCCtx();
	unsigned char chunk[4096];
	size_t		fed = 0;
	size_t		rem;

	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	do
	{
		size_t		piece = len - fed < 1000 ? len - fed : 1000;
		ZSTD_EndDirective mode = (fed + piece == len) ? ZSTD_e_end : ZSTD_e_continue;
		ZSTD_inBuffer in = {(const char *) data + fed, piece, 0};

		do
		{
			ZSTD_outBuffer o = {chunk, sizeof(chunk), 0};

			rem = ZSTD_compressStream2(cctx, &o, &in, mode);
			if (ZSTD_isError(rem))
				abort();
			unit_buf_append(out, chunk, o.pos);
		} while (mode == ZSTD_e_end ? rem != 0 : in.pos < in.size);
		fed += piece;
	} while (fed < len);
	ZSTD_freeCCtx(cctx);
}

/* Append a zstd skippable frame with the given payload. */
static void
zstd_skippable(UnitBuf *out, const void *payload, uint32_t len)
{
	unsigned char hdr[8] = {0x53, 0x2a, 0x4d, 0x18,
		len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, (len >> 24) & 0xff};

	unit_buf_append(out, hdr, sizeof(hdr));
	unit_buf_append(out, payload, len);
}

/* Deterministic test data: JSON-ish lines, or incompressible noise. */
static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void
make_text(UnitBuf *b, size_t len)
{
	char		line[128];

	while (b->len < len)
	{
		int			n = snprintf(line, sizeof(line),
								 "{\"vehicle\":\"v%u\",\"speed\":%u,\"ts\":%u}\n",
								 rng() % 500, rng() % 200, rng());

		unit_buf_append(b, line, (size_t) n);
	}
	b->len = len;
}

static void
make_noise(UnitBuf *b, size_t len)
{
	while (len-- > 0)
	{
		unsigned char c = (unsigned char) rng();

		unit_buf_append(b, &c, 1);
	}
}

static bool
same(const Decoded *d, const void *want, size_t len)
{
	return d->ok && d->out.len == len &&
		(len == 0 || memcmp(d->out.data, want, len) == 0);
}

/* Does the error message name compressed offset 'off'? */
static bool
names_offset(const TelemError *err, long long off)
{
	char		s[64];

	snprintf(s, sizeof(s), "offset %lld", off);
	return strstr(err->message, s) != NULL;
}

static void
test_names(void)
{
	TelemCompression c = TELEM_COMP_NONE;

	CHECK(CodecParseName("auto", &c) && c == TELEM_COMP_AUTO, "auto");
	CHECK(CodecParseName("none", &c) && c == TELEM_COMP_NONE, "none");
	CHECK(CodecParseName("gzip", &c) && c == TELEM_COMP_GZIP, "gzip");
	CHECK(CodecParseName("ZSTD", &c) && c == TELEM_COMP_ZSTD, "zstd");
	CHECK(!CodecParseName("lz4", &c), "lz4 unknown");
	CHECK(!CodecParseName("", &c), "empty unknown");
	CHECK(!CodecParseName(NULL, &c), "NULL unknown");
	CHECK_STREQ(CodecName(TELEM_COMP_AUTO), "auto", "name auto");
	CHECK_STREQ(CodecName(TELEM_COMP_NONE), "none", "name none");
	CHECK_STREQ(CodecName(TELEM_COMP_GZIP), "gzip", "name gzip");
	CHECK_STREQ(CodecName(TELEM_COMP_ZSTD), "zstd", "name zstd");
}

/* Round trip one payload through gzip, zstd and none, explicit and auto. */
static void
roundtrip(const char *label, const void *data, size_t len)
{
	UnitBuf			gz = {0},
				zs = {0};
	Decoded		d;

	gzip_member(&gz, data, len, 6);
	zstd_frame(&zs, data, len, 3);

	d = decode(TELEM_COMP_GZIP, NULL, gz.data, gz.len);
	CHECK(same(&d, data, len), "%s: gzip round trip (%s)", label, d.err.message);
	CHECK(d.in_offset == (int64_t) gz.len, "%s: gzip offset %lld of %zu",
		  label, (long long) d.in_offset, gz.len);
	unit_buf_free(&d.out);

	d = decode(TELEM_COMP_ZSTD, NULL, zs.data, zs.len);
	CHECK(same(&d, data, len), "%s: zstd round trip (%s)", label, d.err.message);
	CHECK(d.in_offset == (int64_t) zs.len, "%s: zstd offset %lld of %zu",
		  label, (long long) d.in_offset, zs.len);
	unit_buf_free(&d.out);

	d = decode(TELEM_COMP_AUTO, NULL, gz.data, gz.len);
	CHECK(same(&d, data, len) && d.kind == TELEM_COMP_GZIP,
		  "%s: auto gzip by magic (%s)", label, d.err.message);
	unit_buf_free(&d.out);

	d = decode(TELEM_COMP_AUTO, "x.jsonl", zs.data, zs.len);
	CHECK(same(&d, data, len) && d.kind == TELEM_COMP_ZSTD,
		  "%s: auto zstd by magic (%s)", label, d.err.message);
	unit_buf_free(&d.out);

	d = decode(TELEM_COMP_NONE, NULL, data, len);
	CHECK(same(&d, data, len), "%s: none round trip", label);
	CHECK(d.in_offset == (int64_t) len, "%s: none offset", label);
	unit_buf_free(&d.out);

	unit_buf_free(&gz);
	unit_buf_free(&zs);
}

static void
test_sizes(void)
{
	UnitBuf			big = {0};

	roundtrip("empty", "", 0);
	roundtrip("one byte", "x", 1);
	roundtrip("one line", "{\"a\":1}\n", 8);

	/* Several MB, half compressible and half not, so the compressed form
	 * is also far larger than the codec's 256 KB input buffer. */
	make_text(&big, 3 * 1024 * 1024);
	make_noise(&big, 1536 * 1024);
	roundtrip("4.5 MB", big.data, big.len);

	/* The same with awkward chunk sizes on both sides. */
	{
		UnitBuf			gz = {0};
		Decoded		d;

		gzip_member(&gz, big.data, big.len, 1);
		CHECK(gz.len > 1024 * 1024, "compressed size %zu", gz.len);
		d = decode_ex(TELEM_COMP_GZIP, NULL, gz.data, gz.len, 99991, 7777, 0);
		CHECK(same(&d, big.data, big.len), "big gzip odd chunks (%s)", d.err.message);
		unit_buf_free(&d.out);
		unit_buf_free(&gz);
	}
	unit_buf_free(&big);
}

static void
test_zero_byte_object(void)
{
	Decoded		d;

	d = decode(TELEM_COMP_GZIP, NULL, "", 0);
	CHECK(d.ok && d.out.len == 0, "zero-byte gzip object is empty (%s)", d.err.message);
	d = decode(TELEM_COMP_ZSTD, NULL, "", 0);
	CHECK(d.ok && d.out.len == 0, "zero-byte zstd object is empty (%s)", d.err.message);
	d = decode(TELEM_COMP_AUTO, NULL, "", 0);
	CHECK(d.ok && d.out.len == 0 && d.kind == TELEM_COMP_NONE,
		  "zero-byte auto object is empty");
	d = decode(TELEM_COMP_AUTO, "a.gz", "", 0);
	CHECK(d.ok && d.out.len == 0 && d.kind == TELEM_COMP_GZIP,
		  "zero-byte .gz object is empty");
}

static void
test_multi_member_gzip(void)
{
	UnitBuf			gz = {0},
				want = {0},
				part = {0};
	Decoded		d;

	gzip_member(&gz, "part1\n", 6, 9);
	unit_buf_append(&want, "part1\n", 6);
	gzip_member(&gz, "", 0, 6);	/* an empty member in the middle */
	make_text(&part, 300000);
	gzip_member(&gz, part.data, part.len, 1);
	unit_buf_append(&want, part.data, part.len);
	gzip_member(&gz, "last\n", 5, 6);
	unit_buf_append(&want, "last\n", 5);

	d = decode(TELEM_COMP_GZIP, NULL, gz.data, gz.len);
	CHECK(same(&d, want.data, want.len), "multi-member gzip (%s)", d.err.message);
	CHECK(d.in_offset == (int64_t) gz.len, "multi-member offset");
	unit_buf_free(&d.out);

	d = decode_ex(TELEM_COMP_AUTO, "a.jsonl.gz", gz.data, gz.len, 3, 5, 0);
	CHECK(same(&d, want.data, want.len), "multi-member gzip tiny chunks (%s)",
		  d.err.message);
	unit_buf_free(&d.out);

	/* Trailing garbage after the last member. */
	{
		UnitBuf			bad = {0};

		unit_buf_append(&bad, gz.data, gz.len);
		unit_buf_append(&bad, "\n", 1);
		d = decode(TELEM_COMP_GZIP, NULL, bad.data, bad.len);
		CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
			  strstr(d.err.message, "trailing garbage") != NULL &&
			  names_offset(&d.err, (long long) gz.len),
			  "trailing newline rejected: %s", d.err.message);
		unit_buf_free(&d.out);

		unit_buf_append(&bad, "more junk", 9);
		d = decode(TELEM_COMP_GZIP, NULL, bad.data, bad.len);
		CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
			  strstr(d.err.message, "trailing garbage") != NULL,
			  "trailing junk rejected: %s", d.err.message);
		unit_buf_free(&d.out);

		/* A second magic followed by nonsense is a corrupt member. */
		bad.len = gz.len;
		unit_buf_append(&bad, "\x1f\x8b\x08\x00junkjunkjunk", 16);
		d = decode(TELEM_COMP_GZIP, NULL, bad.data, bad.len);
		CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA, "bad second member: %s",
			  d.err.message);
		unit_buf_free(&d.out);
		unit_buf_free(&bad);
	}
	unit_buf_free(&gz);
	unit_buf_free(&want);
	unit_buf_free(&part);
}

static void
test_multi_frame_zstd(void)
{
	UnitBuf			zs = {0},
				want = {0},
				part = {0};
	Decoded		d;

	zstd_frame(&zs, "frame1\n", 7, 3);
	unit_buf_append(&want, "frame1\n", 7);
	zstd_skippable(&zs, "metadata", 8);
	zstd_frame(&zs, "", 0, 3);
	make_text(&part, 400000);
	zstd_stream_frame(&zs, part.data, part.len);
	unit_buf_append(&want, part.data, part.len);
	zstd_frame(&zs, "end\n", 4, 19);
	unit_buf_append(&want, "end\n", 4);

	d = decode(TELEM_COMP_ZSTD, NULL, zs.data, zs.len);
	CHECK(same(&d, want.data, want.len), "multi-frame zstd (%s)", d.err.message);
	CHECK(d.in_offset == (int64_t) zs.len, "multi-frame offset");
	unit_buf_free(&d.out);

	d = decode_ex(TELEM_COMP_AUTO, "x.zst", zs.data, zs.len, 1, 3, 0);
	CHECK(same(&d, want.data, want.len), "multi-frame zstd tiny chunks (%s)",
		  d.err.message);
	unit_buf_free(&d.out);

	/* A stream that starts with a skippable frame still sniffs as zstd. */
	{
		UnitBuf			sk = {0};

		zstd_skippable(&sk, "pzstd", 5);
		zstd_frame(&sk, "x\n", 2, 3);
		d = decode(TELEM_COMP_AUTO, NULL, sk.data, sk.len);
		CHECK(same(&d, "x\n", 2) && d.kind == TELEM_COMP_ZSTD,
			  "skippable-first sniffed as zstd (%s)", d.err.message);
		unit_buf_free(&d.out);
		unit_buf_free(&sk);
	}

	/*
	 * A frame whose header declares 6 bytes of content but holds an empty
	 * raw block (with the right checksum for empty content).  Found by
	 * fuzz_codec: libzstd 1.5.4 rejects it only when it sees the whole
	 * frame at once, so the codec checks the size itself.
	 */
	{
		static const unsigned char liar[] = {
			0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x06, 0x01, 0x00, 0x00,
			0x99, 0xe9, 0xd8, 0x51
		};

		d = decode(TELEM_COMP_ZSTD, NULL, liar, sizeof(liar));
		CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA, "lying size, whole: %s",
			  d.err.message);
		unit_buf_free(&d.out);
		d = decode_ex(TELEM_COMP_ZSTD, NULL, liar, sizeof(liar), 1, 1, 0);
		CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
			  strstr(d.err.message, "declares 6 bytes") != NULL,
			  "lying size, 1-byte reads: %s", d.err.message);
		unit_buf_free(&d.out);
	}

	/* Trailing garbage. */
	unit_buf_append(&zs, "garbage!", 8);
	d = decode(TELEM_COMP_ZSTD, NULL, zs.data, zs.len);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA && strstr(d.err.message, "offset"),
		  "zstd trailing garbage rejected: %s", d.err.message);
	unit_buf_free(&d.out);

	unit_buf_free(&zs);
	unit_buf_free(&want);
	unit_buf_free(&part);
}

static void
test_auto(void)
{
	const char *text = "{\"a\":1}\n{\"a\":2}\n";
	size_t		len = strlen(text);
	UnitBuf			gz = {0},
				zs = {0};
	Decoded		d;
	MemSrc		src;
	TelemError	err;
	TelemCodec *codec;
	char		out[64];

	gzip_member(&gz, text, len, 6);
	zstd_frame(&zs, text, len, 3);

	/* By suffix, any case, with content that agrees. */
	d = decode(TELEM_COMP_AUTO, "s3/day=1/a.jsonl.gz", gz.data, gz.len);
	CHECK(same(&d, text, len) && d.kind == TELEM_COMP_GZIP, ".gz suffix");
	unit_buf_free(&d.out);
	d = decode(TELEM_COMP_AUTO, "a.GZIP", gz.data, gz.len);
	CHECK(same(&d, text, len) && d.kind == TELEM_COMP_GZIP, ".GZIP suffix");
	unit_buf_free(&d.out);
	d = decode(TELEM_COMP_AUTO, "a.csv.zst", zs.data, zs.len);
	CHECK(same(&d, text, len) && d.kind == TELEM_COMP_ZSTD, ".zst suffix");
	unit_buf_free(&d.out);
	d = decode(TELEM_COMP_AUTO, "a.zstd", zs.data, zs.len);
	CHECK(same(&d, text, len) && d.kind == TELEM_COMP_ZSTD, ".zstd suffix");
	unit_buf_free(&d.out);

	/* The suffix wins: plain text named .gz is an error, not passthrough. */
	d = decode(TELEM_COMP_AUTO, "a.jsonl.gz", text, len);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
		  strstr(d.err.message, "not in gzip format") != NULL &&
		  names_offset(&d.err, 0), "text named .gz: %s", d.err.message);
	unit_buf_free(&d.out);
	d = decode(TELEM_COMP_ZSTD, NULL, text, len);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA && names_offset(&d.err, 0),
		  "text as zstd: %s", d.err.message);
	unit_buf_free(&d.out);

	/* By magic, when the suffix says nothing. */
	d = decode_ex(TELEM_COMP_AUTO, "a.jsonl", gz.data, gz.len, 1, 1, 0);
	CHECK(same(&d, text, len) && d.kind == TELEM_COMP_GZIP,
		  "gzip magic with 1-byte reads (%s)", d.err.message);
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_AUTO, NULL, zs.data, zs.len, 1, 1, 0);
	CHECK(same(&d, text, len) && d.kind == TELEM_COMP_ZSTD,
		  "zstd magic with 1-byte reads (%s)", d.err.message);
	unit_buf_free(&d.out);

	/* No magic: passthrough, including inputs shorter than any magic. */
	d = decode_ex(TELEM_COMP_AUTO, "a.csv", text, len, 1, 1, 0);
	CHECK(same(&d, text, len) && d.kind == TELEM_COMP_NONE, "text by magic");
	CHECK(d.in_offset == (int64_t) len, "passthrough offset");
	unit_buf_free(&d.out);
	d = decode(TELEM_COMP_AUTO, NULL, "\x1f", 1);
	CHECK(same(&d, "\x1f", 1) && d.kind == TELEM_COMP_NONE, "1-byte 1f is text");
	unit_buf_free(&d.out);
	d = decode(TELEM_COMP_AUTO, NULL, "\x28\xb5\x2f", 3);
	CHECK(same(&d, "\x28\xb5\x2f", 3) && d.kind == TELEM_COMP_NONE,
		  "3-byte zstd prefix is text");
	unit_buf_free(&d.out);

	/* Explicit none never decompresses. */
	d = decode(TELEM_COMP_NONE, "a.gz", gz.data, gz.len);
	CHECK(same(&d, gz.data, gz.len) && d.kind == TELEM_COMP_NONE,
		  "none passes gzip bytes through");
	unit_buf_free(&d.out);

	/* CodecKind is AUTO until the first read resolves it. */
	memset(&src, 0, sizeof(src));
	src.data = zs.data;
	src.len = zs.len;
	memset(&err, 0, sizeof(err));
	codec = CodecOpen(TELEM_COMP_AUTO, NULL, mem_read, &src, &err);
	CHECK(codec != NULL, "open");
	CHECK(CodecKind(codec) == TELEM_COMP_AUTO, "unresolved before read");
	CHECK(CodecRead(codec, out, sizeof(out), &err) > 0, "first read");
	CHECK(CodecKind(codec) == TELEM_COMP_ZSTD, "resolved after read");
	CodecClose(codec);

	/* Suffix resolves at open. */
	memset(&src, 0, sizeof(src));
	codec = CodecOpen(TELEM_COMP_AUTO, "b.gz", mem_read, &src, &err);
	CHECK(codec != NULL && CodecKind(codec) == TELEM_COMP_GZIP, "gz at open");
	CodecClose(codec);

	unit_buf_free(&gz);
	unit_buf_free(&zs);
}

/* Every cut of a small stream must fail and name the offset where it ends. */
static void
test_truncation(void)
{
	UnitBuf			text = {0},
				gz = {0},
				zs = {0},
				multi = {0};
	size_t		cut;
	int			bad_gz = 0,
				bad_zs = 0;
	Decoded		d;

	make_text(&text, 2000);
	gzip_member(&gz, text.data, text.len, 6);
	zstd_stream_frame(&zs, text.data, text.len);

	for (cut = 1; cut < gz.len; cut++)
	{
		d = decode(TELEM_COMP_GZIP, NULL, gz.data, cut);
		if (d.ok || d.err.kind != TELEM_ERR_DATA ||
			strstr(d.err.message, "truncated") == NULL ||
			!names_offset(&d.err, (long long) cut))
		{
			if (bad_gz++ == 0)
				fprintf(stderr, "gzip cut at %zu: ok=%d %s\n", cut, d.ok, d.err.message);
		}
		unit_buf_free(&d.out);
	}
	CHECK(bad_gz == 0, "%d of %zu gzip cuts misreported", bad_gz, gz.len - 1);

	for (cut = 1; cut < zs.len; cut++)
	{
		d = decode(TELEM_COMP_ZSTD, NULL, zs.data, cut);
		if (d.ok || d.err.kind != TELEM_ERR_DATA ||
			strstr(d.err.message, "truncated") == NULL ||
			!names_offset(&d.err, (long long) cut))
		{
			if (bad_zs++ == 0)
				fprintf(stderr, "zstd cut at %zu: ok=%d %s\n", cut, d.ok, d.err.message);
		}
		unit_buf_free(&d.out);
	}
	CHECK(bad_zs == 0, "%d of %zu zstd cuts misreported", bad_zs, zs.len - 1);

	/* Cut inside the second gzip member, with tiny reads. */
	gzip_member(&multi, text.data, text.len, 6);
	gzip_member(&multi, text.data, text.len, 6);
	d = decode_ex(TELEM_COMP_AUTO, "x.gz", multi.data, multi.len - 300, 1, 1, 0);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
		  names_offset(&d.err, (long long) (multi.len - 300)),
		  "second member truncated: %s", d.err.message);
	CHECK(d.out.len < 2 * text.len, "no full output from truncated stream");
	unit_buf_free(&d.out);

	/*
	 * Cut inside the trailer: all the data has come out by then, but the
	 * CRC and length were never checked, so it is still an error.
	 */
	d = decode(TELEM_COMP_GZIP, NULL, multi.data, multi.len - 3);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
		  names_offset(&d.err, (long long) (multi.len - 3)),
		  "trailer truncated: %s", d.err.message);
	unit_buf_free(&d.out);

	/* The lone first byte of a second member. */
	d = decode(TELEM_COMP_GZIP, NULL, multi.data, gz.len + 1);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
		  strstr(d.err.message, "truncated") &&
		  names_offset(&d.err, (long long) gz.len + 1),
		  "1 byte of second member: %s", d.err.message);
	unit_buf_free(&d.out);

	/* A big zstd stream cut in half, read in 1-byte pieces. */
	{
		UnitBuf			big = {0},
					bz = {0};

		make_text(&big, 600000);
		zstd_frame(&bz, big.data, big.len, 1);
		d = decode_ex(TELEM_COMP_ZSTD, NULL, bz.data, bz.len / 2, 0, 1, 0);
		CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
			  names_offset(&d.err, (long long) (bz.len / 2)),
			  "big zstd truncated: %s", d.err.message);
		unit_buf_free(&d.out);
		unit_buf_free(&bz);
		unit_buf_free(&big);
	}

	unit_buf_free(&text);
	unit_buf_free(&gz);
	unit_buf_free(&zs);
	unit_buf_free(&multi);
}

static void
test_corruption(void)
{
	UnitBuf			text = {0},
				gz = {0},
				zs = {0};
	Decoded		d;
	size_t		i;
	int			undetected = 0;

	make_text(&text, 100000);
	gzip_member(&gz, text.data, text.len, 6);
	zstd_stream_frame(&zs, text.data, text.len);	/* checksummed */

	/* Flip a byte inside the deflate data. */
	gz.data[gz.len / 2] ^= 0x55;
	d = decode(TELEM_COMP_GZIP, NULL, gz.data, gz.len);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
		  strstr(d.err.message, "corrupt gzip data at compressed offset") != NULL,
		  "gzip corruption: %s", d.err.message);
	unit_buf_free(&d.out);
	gz.data[gz.len / 2] ^= 0x55;

	/* Damage the CRC in the trailer. */
	gz.data[gz.len - 6] ^= 0x01;
	d = decode(TELEM_COMP_GZIP, NULL, gz.data, gz.len);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA &&
		  strstr(d.err.message, "incorrect data check") != NULL,
		  "gzip crc: %s", d.err.message);
	unit_buf_free(&d.out);
	gz.data[gz.len - 6] ^= 0x01;

	/* Bad compression method in the header (zlib reads CM and FLG together). */
	gz.data[2] = 7;
	d = decode(TELEM_COMP_GZIP, NULL, gz.data, gz.len);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_DATA && names_offset(&d.err, 4) &&
		  strstr(d.err.message, "unknown compression method") != NULL,
		  "gzip bad method: %s", d.err.message);
	unit_buf_free(&d.out);

	/* zstd: every single-byte flip in a stretch must be caught. */
	for (i = zs.len / 3; i < zs.len / 3 + 200; i++)
	{
		zs.data[i] ^= 0x20;
		d = decode(TELEM_COMP_ZSTD, NULL, zs.data, zs.len);
		if (d.ok || d.err.kind != TELEM_ERR_DATA ||
			strstr(d.err.message, "corrupt zstd data at compressed offset") == NULL)
			undetected++;
		unit_buf_free(&d.out);
		zs.data[i] ^= 0x20;
	}
	CHECK(undetected == 0, "%d zstd flips undetected", undetected);

	/* Sticky errors: reading again after a failure fails the same way. */
	{
		MemSrc		src;
		TelemError	err;
		TelemCodec *codec;
		unsigned char out[4096];
		ssize_t		n;
		char		first[512];

		zs.data[zs.len / 2] ^= 0xff;
		memset(&src, 0, sizeof(src));
		src.data = zs.data;
		src.len = zs.len;
		memset(&err, 0, sizeof(err));
		codec = CodecOpen(TELEM_COMP_ZSTD, NULL, mem_read, &src, &err);
		while ((n = CodecRead(codec, out, sizeof(out), &err)) > 0)
			;
		CHECK(n < 0, "corrupt zstd fails");
		snprintf(first, sizeof(first), "%s", err.message);
		memset(&err, 0, sizeof(err));
		n = CodecRead(codec, out, sizeof(out), &err);
		CHECK(n < 0 && err.kind == TELEM_ERR_DATA, "second read fails too");
		CHECK_STREQ(err.message, first, "same message");
		CodecClose(codec);
		zs.data[zs.len / 2] ^= 0xff;
	}

	unit_buf_free(&text);
	unit_buf_free(&gz);
	unit_buf_free(&zs);
}

static void
test_tiny_reads(void)
{
	UnitBuf			text = {0},
				gz = {0},
				zs = {0};
	Decoded		d;

	make_text(&text, 50000);
	gzip_member(&gz, text.data, text.len, 6);
	gzip_member(&gz, text.data, text.len, 6);
	zstd_frame(&zs, text.data, text.len, 3);
	zstd_stream_frame(&zs, text.data, text.len);
	{
		/* The expected output is the text twice (copy: append may move). */
		UnitBuf			once = {0};

		unit_buf_append(&once, text.data, text.len);
		unit_buf_append(&text, once.data, once.len);
		unit_buf_free(&once);
	}

	/* Source hands out one byte per call. */
	d = decode_ex(TELEM_COMP_GZIP, NULL, gz.data, gz.len, 1, 65536, 0);
	CHECK(same(&d, text.data, text.len), "gzip 1-byte source (%s)", d.err.message);
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_ZSTD, NULL, zs.data, zs.len, 1, 65536, 0);
	CHECK(same(&d, text.data, text.len), "zstd 1-byte source (%s)", d.err.message);
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_NONE, NULL, text.data, text.len, 1, 65536, 0);
	CHECK(same(&d, text.data, text.len), "none 1-byte source");
	unit_buf_free(&d.out);

	/* Reader asks for one byte per call. */
	d = decode_ex(TELEM_COMP_GZIP, NULL, gz.data, gz.len, 0, 1, 0);
	CHECK(same(&d, text.data, text.len), "gzip 1-byte reader (%s)", d.err.message);
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_ZSTD, NULL, zs.data, zs.len, 0, 1, 0);
	CHECK(same(&d, text.data, text.len), "zstd 1-byte reader (%s)", d.err.message);
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_AUTO, NULL, text.data, text.len, 0, 1, 0);
	CHECK(same(&d, text.data, text.len), "auto none 1-byte reader");
	unit_buf_free(&d.out);

	/* Both at once. */
	d = decode_ex(TELEM_COMP_AUTO, NULL, gz.data, gz.len, 1, 1, 0);
	CHECK(same(&d, text.data, text.len), "gzip 1-byte both (%s)", d.err.message);
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_AUTO, NULL, zs.data, zs.len, 1, 1, 0);
	CHECK(same(&d, text.data, text.len), "zstd 1-byte both (%s)", d.err.message);
	unit_buf_free(&d.out);

	unit_buf_free(&text);
	unit_buf_free(&gz);
	unit_buf_free(&zs);
}

static void
test_source_errors(void)
{
	UnitBuf			text = {0},
				gz = {0};
	Decoded		d;
	MemSrc		src;
	TelemError	err;
	TelemCodec *codec;
	unsigned char out[1024];

	make_text(&text, 400000);
	gzip_member(&gz, text.data, text.len, 6);

	/* The source's own error comes through unchanged. */
	d = decode_ex(TELEM_COMP_GZIP, NULL, gz.data, gz.len, 0, 4096, gz.len / 2);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_NETWORK &&
		  strcmp(d.err.message, "connection reset by fake") == 0,
		  "network error propagated: %d %s", d.err.kind, d.err.message);
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_NONE, NULL, text.data, text.len, 0, 4096, 1000);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_NETWORK && d.out.len == 1000,
		  "passthrough network error");
	unit_buf_free(&d.out);
	d = decode_ex(TELEM_COMP_AUTO, NULL, text.data, text.len, 1, 4096, 2);
	CHECK(!d.ok && d.err.kind == TELEM_ERR_NETWORK, "error while sniffing");
	unit_buf_free(&d.out);

	/* A source that fails without saying why still yields a message. */
	memset(&src, 0, sizeof(src));
	src.data = gz.data;
	src.len = gz.len;
	src.fail_at = 10;
	src.fail_silently = true;
	memset(&err, 0, sizeof(err));
	codec = CodecOpen(TELEM_COMP_GZIP, NULL, mem_read, &src, &err);
	CHECK(CodecRead(codec, out, sizeof(out), &err) < 0 &&
		  err.kind == TELEM_ERR_IO && err.message[0] != '\0',
		  "silent source failure: %d %s", err.kind, err.message);
	CodecClose(codec);

	/* Open-time argument errors. */
	memset(&err, 0, sizeof(err));
	CHECK(CodecOpen(TELEM_COMP_GZIP, NULL, NULL, NULL, &err) == NULL &&
		  err.kind == TELEM_ERR_CONFIG, "no source");
	CHECK(CodecOpen((TelemCompression) 42, NULL, mem_read, &src, &err) == NULL &&
		  err.kind == TELEM_ERR_CONFIG, "bad kind");
	CodecClose(NULL);

	unit_buf_free(&text);
	unit_buf_free(&gz);
}

/* A small zstd bomb decodes in bounded pieces without holding it all. */
static void
test_bomb(void)
{
	size_t		len = 64 * 1024 * 1024;
	unsigned char *zeros = calloc(1, len);
	UnitBuf			zs = {0};
	MemSrc		src;
	TelemError	err;
	TelemCodec *codec;
	unsigned char out[65536];
	ssize_t		n;
	size_t		total = 0;

	zstd_frame(&zs, zeros, len, 1);
	free(zeros);
	memset(&src, 0, sizeof(src));
	src.data = zs.data;
	src.len = zs.len;
	memset(&err, 0, sizeof(err));
	codec = CodecOpen(TELEM_COMP_AUTO, NULL, mem_read, &src, &err);
	while ((n = CodecRead(codec, out, sizeof(out), &err)) > 0)
		total += (size_t) n;
	CHECK(n == 0 && total == len, "bomb decoded: %zu (%s)", total, err.message);
	CodecClose(codec);
	unit_buf_free(&zs);
}

int
main(void)
{
	test_names();
	test_sizes();
	test_zero_byte_object();
	test_multi_member_gzip();
	test_multi_frame_zstd();
	test_auto();
	test_truncation();
	test_corruption();
	test_tiny_reads();
	test_source_errors();
	test_bomb();
	return unit_finish("test_codec");
}
