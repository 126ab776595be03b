/*-------------------------------------------------------------------------
 *
 * codec.h
 *		Streaming decompression: gzip (zlib) and zstd (libzstd).
 *
 * Plain C; no postgres.h.  A codec pulls compressed bytes from a source
 * callback and hands out decompressed bytes, holding a bounded buffer
 * whatever the size of the object.
 *
 * IDENTIFICATION
 *		src/format/codec.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_CODEC_H
#define TELEM_CODEC_H

#include "../store/store.h"

typedef enum TelemCompression
{
	TELEM_COMP_AUTO = 0,		/* by key suffix, then by magic bytes */
	TELEM_COMP_NONE,
	TELEM_COMP_GZIP,
	TELEM_COMP_ZSTD
} TelemCompression;

/* Source of compressed bytes: like read(2), 0 at end, -1 with err set. */
typedef ssize_t (*TelemReadFn) (void *ctx, void *buf, size_t len,
								TelemError *err);

typedef struct TelemCodec TelemCodec;

/* Parse an option value ("auto", "none", "gzip", "zstd"); false if unknown. */
extern bool CodecParseName(const char *name, TelemCompression *out);
extern const char *CodecName(TelemCompression c);

/*
 * Open a decompressing stream.  With TELEM_COMP_AUTO the key's suffix
 * (".gz", ".zst") decides, else the first bytes (gzip 1f 8b, zstd
 * 28 b5 2f fd), else no compression.  key_hint may be NULL.
 */
extern TelemCodec *CodecOpen(TelemCompression c, const char *key_hint,
							 TelemReadFn src, void *src_ctx, TelemError *err);

/* The compression actually in use, once the first read has happened. */
extern TelemCompression CodecKind(const TelemCodec *codec);

/* Read up to len decompressed bytes; 0 at end, -1 with err set. */
extern ssize_t CodecRead(TelemCodec *codec, void *buf, size_t len,
						 TelemError *err);

/* Compressed bytes consumed so far (the offset into the object). */
extern int64_t CodecInputOffset(const TelemCodec *codec);

extern void CodecClose(TelemCodec *codec);

#endif							/* TELEM_CODEC_H */
