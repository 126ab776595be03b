/*-------------------------------------------------------------------------
 *
 * fuzz_codec.c
 *		libFuzzer target for the streaming codecs (src/format/codec.c).
 *
 * The fuzz input is taken as a whole compressed object and decoded with
 * each of GZIP, ZSTD and AUTO, twice each: once with large reads on both
 * sides, once with a source that hands out a few bytes per call and a
 * reader that asks for a few bytes per call.  Besides "no crash, no leak"
 * (ASan/UBSan/LeakSanitizer) it checks that
 *
 * - both decodings agree: one output is a prefix of the other, and when
 *	 both succeed they are equal (chunking must never change the data);
 * - for gzip and plain input they also agree on the outcome and error
 *	 kind.  zstd is exempt from that one: libzstd decodes a frame that is
 *	 wholly in memory in one shot and a trickled one block by block, and the
 *	 two paths differ in strictness (1.5.4's block-by-block path takes an
 *	 empty *compressed* block as empty; the one-shot path rejects it).  That
 *	 never changes the bytes produced.  The one such difference that could
 *	 (a frame holding less than its header declares) the codec now checks
 *	 itself, which is what this target first found;
 * - a successful decoding consumed exactly the whole input;
 * - CodecInputOffset never exceeds the input length.
 *
 * Output is counted but not kept, and each decoding stops after a cap, so
 * a decompression bomb costs bounded time.
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_codec.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/codec.h"

/* Output kept per decoding, for comparing the two chunkings. */
#define KEEP_BYTES		(64 * 1024)

/* Stop decoding after this much output (big reads / tiny reads). */
#define CAP_BIG			(8 * 1024 * 1024)
#define CAP_TINY		(256 * 1024)

typedef struct FuzzSrc
{
	const uint8_t *data;
	size_t		len;
	size_t		pos;
	size_t		chunk;			/* 0 = as much as asked */
	unsigned	turn;			/* varies tiny chunk sizes */
} FuzzSrc;

static ssize_t
fuzz_read(void *ctx, void *buf, size_t len, TelemError *err)
{
	FuzzSrc    *src = ctx;
	size_t		n = src->len - src->pos;

	(void) err;
	if (n > len)
		n = len;
	if (src->chunk > 0)
	{
		/* 1..chunk bytes, cycling, so boundaries land everywhere. */
		size_t		c = 1 + (src->turn++ % src->chunk);

		if (n > c)
			n = c;
	}
	memcpy(buf, src->data + src->pos, n);
	src->pos += n;
	return (ssize_t) n;
}

typedef struct Outcome
{
	bool		ok;				/* reached a clean end */
	bool		capped;			/* stopped at the output cap */
	TelemErrorKind kind;
	size_t		total;			/* decoded bytes seen */
	size_t		kept;
	uint8_t    *keep;			/* first KEEP_BYTES of output */
	int64_t		in_offset;
	TelemCompression resolved;	/* CodecKind after decoding */
} Outcome;

static void
decode(TelemCompression c, const char *key, const uint8_t *data, size_t len,
	   size_t src_chunk, size_t read_chunk, size_t cap, Outcome *o)
{
	FuzzSrc		src;
	TelemError	err;
	TelemCodec *codec;
	uint8_t    *buf = malloc(read_chunk);
	unsigned	turn = 0;

	memset(o, 0, sizeof(*o));
	o->keep = malloc(KEEP_BYTES);
	memset(&src, 0, sizeof(src));
	src.data = data;
	src.len = len;
	src.chunk = src_chunk;
	memset(&err, 0, sizeof(err));

	codec = CodecOpen(c, key, fuzz_read, &src, &err);
	if (codec == NULL)
		__builtin_trap();		/* valid arguments must open */

	for (;;)
	{
		/* Tiny reads vary too: 1..read_chunk bytes. */
		size_t		want = read_chunk > 16 ? read_chunk : 1 + (turn++ % read_chunk);
		ssize_t		n = CodecRead(codec, buf, want, &err);

		if (n < 0)
		{
			o->kind = err.kind;
			if (err.kind == TELEM_OK || err.message[0] == '\0')
				__builtin_trap();	/* failures must say what failed */
			break;
		}
		if (n == 0)
		{
			o->ok = true;
			break;
		}
		if ((size_t) n > want)
			__builtin_trap();
		if (o->kept < KEEP_BYTES)
		{
			size_t		k = (size_t) n;

			if (k > KEEP_BYTES - o->kept)
				k = KEEP_BYTES - o->kept;
			memcpy(o->keep + o->kept, buf, k);
			o->kept += k;
		}
		o->total += (size_t) n;
		if (o->total >= cap)
		{
			o->capped = true;
			break;
		}
	}
	o->in_offset = CodecInputOffset(codec);
	o->resolved = CodecKind(codec);
	if (o->in_offset < 0 || (size_t) o->in_offset > len)
		__builtin_trap();
	if (o->ok && (size_t) o->in_offset != len)
		__builtin_trap();		/* success means every byte was decoded */
	CodecClose(codec);
	free(buf);
}

/*
 * The two chunkings of one codec must agree (see the file header); with
 * same_outcome, on success versus failure and the error kind too.
 */
static void
compare(const Outcome *a, const Outcome *b, bool same_outcome)
{
	size_t		common = a->kept < b->kept ? a->kept : b->kept;

	if (memcmp(a->keep, b->keep, common) != 0)
		__builtin_trap();
	if (a->capped || b->capped)
		return;
	if (a->ok && b->ok && a->total != b->total)
		__builtin_trap();
	if (same_outcome && (a->ok != b->ok || a->kind != b->kind))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct
	{
		TelemCompression c;
		const char *key;
	}			runs[] =
	{
		{TELEM_COMP_GZIP, NULL},
		{TELEM_COMP_ZSTD, NULL},
		{TELEM_COMP_AUTO, "fuzz/object.jsonl"},
	};
	size_t		i;

	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
	{
		Outcome		big,
					tiny;

		decode(runs[i].c, runs[i].key, data, size, 0, 65536, CAP_BIG, &big);
		decode(runs[i].c, runs[i].key, data, size, 7, 5, CAP_TINY, &tiny);
		if (big.resolved != tiny.resolved)
			__builtin_trap();
		compare(&big, &tiny, big.resolved != TELEM_COMP_ZSTD);
		free(big.keep);
		free(tiny.keep);
	}
	return 0;
}
