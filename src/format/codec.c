/*-------------------------------------------------------------------------
 *
 * codec.c
 *		Streaming decompression of objects: gzip (zlib), zstd, or none.
 *
 * A codec pulls compressed bytes from a TelemReadFn into one fixed-size
 * input buffer and decodes straight into the caller's buffer, so memory use
 * is bounded whatever the size of the object or its compression ratio:
 * CODEC_INBUF_SIZE plus the decoder's own state, which is about 40 KB for
 * gzip and the frame's window for zstd (libzstd refuses windows above
 * 128 MB, its default limit; "zstd -19" writes 8 MB windows).
 *
 * Rules the decoders follow:
 *
 * - gzip accepts several concatenated members (what "cat a.gz b.gz"
 *	 produces).  After a member ends, the next bytes must start another
 *	 member (1f 8b); anything else is trailing garbage and an error.
 * - zstd accepts several concatenated frames, skippable frames included
 *	 (libzstd handles both).  A frame must hold exactly the content size its
 *	 header declares, whatever the read sizes (see codec_read_zstd).
 * - A source that ends inside a member or frame is an error, never a short
 *	 read: silently dropping the tail of an object would lose rows.
 * - A zero-byte object decodes to zero bytes under every codec.  There is
 *	 nothing in it that could have been lost, and empty placeholder objects
 *	 are common enough that failing the whole scan on them would be harsh.
 * - Every data error names the compressed byte offset, so an operator can
 *	 find the damage with dd/xxd.
 * - Errors are sticky: once CodecRead has failed, later calls fail the same
 *	 way instead of resuming in an undefined decoder state.
 *
 * Plain C; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/format/codec.c
 *
 *-------------------------------------------------------------------------
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>
#include <zstd.h>

#include "codec.h"

/* Compressed bytes held at most; also the largest single source read. */
#define CODEC_INBUF_SIZE	(256 * 1024)

/* Bytes needed to recognise every magic number we sniff. */
#define CODEC_SNIFF_LEN		4

/* Longest zstd frame header (ZSTD_FRAMEHEADERSIZE_MAX, a static-only name). */
#define CODEC_ZSTD_HEADER_MAX	18

struct TelemCodec
{
	TelemCompression kind;		/* AUTO until sniffed, then the real one */
	TelemReadFn src;
	void	   *src_ctx;

	/* Input buffer: bytes [in_pos, in_len) are read but not yet decoded. */
	unsigned char *inbuf;
	size_t		in_pos;
	size_t		in_len;
	bool		src_eof;		/* the source has returned 0 */
	int64_t		in_offset;		/* compressed bytes handed to the decoder */

	/* gzip */
	z_stream	zs;
	bool		zs_ready;		/* inflateInit2 succeeded */
	bool		gz_at_member_start; /* between members (or before the 1st) */
	bool		gz_seen_member; /* at least one member has started */

	/* zstd */
	ZSTD_DStream *zds;
	bool		zstd_in_frame;	/* last call left a frame unfinished */
	unsigned long long zstd_declared;	/* current frame's content size */
	unsigned long long zstd_frame_out;	/* bytes it has produced so far */
	int64_t		zstd_frame_start;	/* its compressed offset */

	bool		finished;		/* clean end of stream reached */
	bool		failed;			/* 'error' holds the sticky failure */
	TelemError	error;
};

static bool codec_start_decoder(TelemCodec *codec, TelemError *err);

/*
 * Record a failure in the codec (so later reads repeat it) and in err.
 */
static ssize_t
codec_fail(TelemCodec *codec, TelemError *err, TelemErrorKind kind,
		   const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static ssize_t
codec_fail(TelemCodec *codec, TelemError *err, TelemErrorKind kind,
		   const char *fmt,...)
{
	va_list		ap;

	memset(&codec->error, 0, sizeof(codec->error));
	codec->error.kind = kind;
	va_start(ap, fmt);
	vsnprintf(codec->error.message, sizeof(codec->error.message), fmt, ap);
	va_end(ap);
	codec->failed = true;
	if (err != NULL)
		*err = codec->error;
	return -1;
}

/*
 * Copy an error reported by the source (or by decoder setup) into the
 * codec, making it sticky.  A source that returned -1 without filling its
 * error still yields a message rather than an empty one.
 */
static ssize_t
codec_fail_copy(TelemCodec *codec, const TelemError *src_err,
				TelemError *err)
{
	if (src_err->kind == TELEM_OK)
		return codec_fail(codec, err, TELEM_ERR_IO,
						  "read failed at compressed offset %lld",
						  (long long) (codec->in_offset +
									   (int64_t) (codec->in_len - codec->in_pos)));
	codec->error = *src_err;
	codec->failed = true;
	if (err != NULL)
		*err = codec->error;
	return -1;
}

bool
CodecParseName(const char *name, TelemCompression *out)
{
	static const struct
	{
		const char *name;
		TelemCompression kind;
	}			names[] =
	{
		{"auto", TELEM_COMP_AUTO},
		{"none", TELEM_COMP_NONE},
		{"gzip", TELEM_COMP_GZIP},
		{"zstd", TELEM_COMP_ZSTD},
	};
	size_t		i;

	if (name == NULL)
		return false;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		if (strcasecmp(name, names[i].name) == 0)
		{
			*out = names[i].kind;
			return true;
		}
	}
	return false;
}

const char *
CodecName(TelemCompression c)
{
	switch (c)
	{
		case TELEM_COMP_AUTO:
			return "auto";
		case TELEM_COMP_NONE:
			return "none";
		case TELEM_COMP_GZIP:
			return "gzip";
		case TELEM_COMP_ZSTD:
			return "zstd";
	}
	return "unknown";
}

/* Does s end with suffix, ignoring ASCII case? */
static bool
has_suffix(const char *s, const char *suffix)
{
	size_t		slen = strlen(s);
	size_t		xlen = strlen(suffix);

	return slen >= xlen && strcasecmp(s + slen - xlen, suffix) == 0;
}

/*
 * Decide the codec from a key's suffix; AUTO if the suffix says nothing.
 */
static TelemCompression
codec_from_suffix(const char *key)
{
	if (key == NULL)
		return TELEM_COMP_AUTO;
	if (has_suffix(key, ".gz") || has_suffix(key, ".gzip"))
		return TELEM_COMP_GZIP;
	if (has_suffix(key, ".zst") || has_suffix(key, ".zstd"))
		return TELEM_COMP_ZSTD;
	return TELEM_COMP_AUTO;
}

/*
 * Decide the codec from the first n bytes of the object.  Besides the zstd
 * frame magic we accept a skippable frame (magic 0x184D2A50..5F, little
 * endian) as zstd, since pzstd and seekable-zstd writers start with one.
 */
static TelemCompression
codec_from_magic(const unsigned char *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return TELEM_COMP_GZIP;
	if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return TELEM_COMP_ZSTD;
	if (n >= 4 && (p[0] & 0xf0) == 0x50 && p[1] == 0x2a && p[2] == 0x4d &&
		p[3] == 0x18)
		return TELEM_COMP_ZSTD;
	return TELEM_COMP_NONE;
}

TelemCodec *
CodecOpen(TelemCompression c, const char *key_hint, TelemReadFn src,
		  void *src_ctx, TelemError *err)
{
	TelemCodec *codec;

	if (src == NULL)
	{
		TelemSetError(err, TELEM_ERR_CONFIG, "codec opened without a source");
		return NULL;
	}
	if (c != TELEM_COMP_AUTO && c != TELEM_COMP_NONE &&
		c != TELEM_COMP_GZIP && c != TELEM_COMP_ZSTD)
	{
		TelemSetError(err, TELEM_ERR_CONFIG, "unknown compression %d", (int) c);
		return NULL;
	}

	codec = calloc(1, sizeof(*codec));
	if (codec == NULL)
	{
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
		return NULL;
	}
	codec->src = src;
	codec->src_ctx = src_ctx;
	codec->kind = (c == TELEM_COMP_AUTO) ? codec_from_suffix(key_hint) : c;

	/* Plain passthrough reads straight into the caller's buffer. */
	if (codec->kind != TELEM_COMP_NONE)
	{
		codec->inbuf = malloc(CODEC_INBUF_SIZE);
		if (codec->inbuf == NULL)
		{
			free(codec);
			TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY, "out of memory");
			return NULL;
		}
	}

	/* An AUTO codec without a telling suffix starts at the first read. */
	if (codec->kind != TELEM_COMP_AUTO && !codec_start_decoder(codec, err))
	{
		CodecClose(codec);
		return NULL;
	}
	return codec;
}

/*
 * Set up the decoder for codec->kind, which must be resolved (not AUTO).
 */
static bool
codec_start_decoder(TelemCodec *codec, TelemError *err)
{
	switch (codec->kind)
	{
		case TELEM_COMP_GZIP:
			memset(&codec->zs, 0, sizeof(codec->zs));
			/* 15 + 16: largest window, gzip wrapper only (no zlib/raw). */
			if (inflateInit2(&codec->zs, 15 + 16) != Z_OK)
				return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
									 "could not initialise zlib: %s",
									 codec->zs.msg ? codec->zs.msg : "out of memory");
			codec->zs_ready = true;
			codec->gz_at_member_start = true;
			return true;
		case TELEM_COMP_ZSTD:
			codec->zds = ZSTD_createDStream();
			if (codec->zds == NULL)
				return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
									 "could not initialise zstd: out of memory");
			return true;
		case TELEM_COMP_NONE:
			return true;
		case TELEM_COMP_AUTO:
			break;
	}
	return TelemSetError(err, TELEM_ERR_CONFIG, "codec kind not resolved");
}

TelemCompression
CodecKind(const TelemCodec *codec)
{
	return codec->kind;
}

int64_t
CodecInputOffset(const TelemCodec *codec)
{
	return codec->in_offset;
}

/* Compressed bytes read from the source but not yet decoded. */
static inline size_t
codec_avail(const TelemCodec *codec)
{
	return codec->in_len - codec->in_pos;
}

/*
 * A decoder made no progress.  That is a truncated stream when the source
 * is exhausted, a decoder fault when input is still waiting, and fine
 * otherwise (the caller reads more).  Returns false with err set on
 * failure.
 */
static bool
codec_check_stalled(TelemCodec *codec, TelemError *err, const char *name)
{
	if (codec_avail(codec) == 0 && codec->src_eof)
	{
		codec_fail(codec, err, TELEM_ERR_DATA,
				   "%s stream truncated at compressed offset %lld",
				   name, (long long) codec->in_offset);
		return false;
	}
	if (codec_avail(codec) != 0)
	{
		codec_fail(codec, err, TELEM_ERR_DATA,
				   "%s decoder made no progress at compressed offset %lld",
				   name, (long long) codec->in_offset);
		return false;
	}
	return true;
}

/*
 * Make at least 'want' undecoded bytes available in the input buffer,
 * reading from the source as often as needed; fewer are available only at
 * end of source.  want must be <= CODEC_INBUF_SIZE.  Returns false (error
 * already recorded) if the source failed.
 */
static bool
codec_ensure_input(TelemCodec *codec, size_t want, TelemError *err)
{
	while (codec_avail(codec) < want && !codec->src_eof)
	{
		TelemError	src_err;
		ssize_t		n;

		/* Slide the undecoded tail to the front to make room. */
		if (codec->in_pos > 0)
		{
			size_t		avail = codec_avail(codec);

			memmove(codec->inbuf, codec->inbuf + codec->in_pos, avail);
			codec->in_pos = 0;
			codec->in_len = avail;
		}

		memset(&src_err, 0, sizeof(src_err));
		n = codec->src(codec->src_ctx, codec->inbuf + codec->in_len,
					   CODEC_INBUF_SIZE - codec->in_len, &src_err);
		if (n < 0)
		{
			codec_fail_copy(codec, &src_err, err);
			return false;
		}
		if ((size_t) n > CODEC_INBUF_SIZE - codec->in_len)
		{
			codec_fail(codec, err, TELEM_ERR_PROTOCOL,
					   "source returned more bytes than asked for");
			return false;
		}
		if (n == 0)
			codec->src_eof = true;
		codec->in_len += (size_t) n;
	}
	return true;
}

/* Mark n undecoded bytes as consumed by the decoder. */
static inline void
codec_consume(TelemCodec *codec, size_t n)
{
	codec->in_pos += n;
	codec->in_offset += (int64_t) n;
}

/*
 * Passthrough.  Bytes already buffered by sniffing go first; after that we
 * read from the source straight into the caller's buffer.
 */
static ssize_t
codec_read_none(TelemCodec *codec, void *buf, size_t len, TelemError *err)
{
	TelemError	src_err;
	ssize_t		n;

	if (codec_avail(codec) > 0)
	{
		size_t		take = codec_avail(codec);

		if (take > len)
			take = len;
		memcpy(buf, codec->inbuf + codec->in_pos, take);
		codec_consume(codec, take);
		return (ssize_t) take;
	}
	if (codec->src_eof)
	{
		codec->finished = true;
		return 0;
	}

	memset(&src_err, 0, sizeof(src_err));
	n = codec->src(codec->src_ctx, buf, len, &src_err);
	if (n < 0)
		return codec_fail_copy(codec, &src_err, err);
	if ((size_t) n > len)
		return codec_fail(codec, err, TELEM_ERR_PROTOCOL,
						  "source returned more bytes than asked for");
	if (n == 0)
	{
		codec->src_eof = true;
		codec->finished = true;
	}
	codec->in_offset += n;
	return n;
}

/*
 * gzip.  Decodes into buf until it is full, the stream ends, or some output
 * is ready and more would need another source read (so a slow source never
 * holds back bytes we already have).
 */
static ssize_t
codec_read_gzip(TelemCodec *codec, unsigned char *buf, size_t len,
				TelemError *err)
{
	size_t		produced = 0;

	/* zlib counts in uInt; a huge request is just served in pieces. */
	if (len > UINT_MAX)
		len = UINT_MAX;

	while (produced < len)
	{
		size_t		in_before;
		size_t		out_before;
		int			rc;

		if (codec->gz_at_member_start)
		{
			const unsigned char *p;

			/* Hand back what we have before blocking on the source. */
			if (produced > 0 && codec_avail(codec) < 2 && !codec->src_eof)
				break;
			/* End of source here is a clean end: no member is open. */
			if (!codec_ensure_input(codec, 2, err))
				return -1;
			if (codec_avail(codec) == 0)
			{
				codec->finished = true;
				break;
			}
			p = codec->inbuf + codec->in_pos;
			/* A lone 1f at the very end is a member cut after one byte. */
			if (codec_avail(codec) == 1 && p[0] == 0x1f)
				return codec_fail(codec, err, TELEM_ERR_DATA,
								  "gzip stream truncated at compressed offset %lld",
								  (long long) (codec->in_offset + 1));
			if (p[0] != 0x1f || p[1] != 0x8b)
			{
				if (codec->gz_seen_member)
					return codec_fail(codec, err, TELEM_ERR_DATA,
									  "trailing garbage after gzip member at compressed offset %lld",
									  (long long) codec->in_offset);
				return codec_fail(codec, err, TELEM_ERR_DATA,
								  "not in gzip format (bad magic bytes at compressed offset %lld)",
								  (long long) codec->in_offset);
			}
			if (codec->gz_seen_member && inflateReset(&codec->zs) != Z_OK)
				return codec_fail(codec, err, TELEM_ERR_DATA,
								  "could not reset zlib at compressed offset %lld",
								  (long long) codec->in_offset);
			codec->gz_at_member_start = false;
			codec->gz_seen_member = true;
		}

		if (codec_avail(codec) == 0 && !codec->src_eof)
		{
			if (produced > 0)
				break;
			if (!codec_ensure_input(codec, 1, err))
				return -1;
			continue;
		}

		in_before = codec_avail(codec);
		out_before = len - produced;
		codec->zs.next_in = codec->inbuf + codec->in_pos;
		codec->zs.avail_in = (uInt) in_before;
		codec->zs.next_out = buf + produced;
		codec->zs.avail_out = (uInt) out_before;

		rc = inflate(&codec->zs, Z_NO_FLUSH);

		codec_consume(codec, in_before - codec->zs.avail_in);
		produced += out_before - codec->zs.avail_out;

		switch (rc)
		{
			case Z_OK:
				break;
			case Z_STREAM_END:
				codec->gz_at_member_start = true;
				break;
			case Z_BUF_ERROR:
				/* No progress possible: only when out of input. */
				if (!codec_check_stalled(codec, err, "gzip"))
					return -1;
				break;
			case Z_MEM_ERROR:
				return codec_fail(codec, err, TELEM_ERR_OUT_OF_MEMORY,
								  "out of memory in zlib");
			case Z_NEED_DICT:
				return codec_fail(codec, err, TELEM_ERR_DATA,
								  "corrupt gzip data at compressed offset %lld: preset dictionary required",
								  (long long) codec->in_offset);
			default:
				return codec_fail(codec, err, TELEM_ERR_DATA,
								  "corrupt gzip data at compressed offset %lld: %s",
								  (long long) codec->in_offset,
								  codec->zs.msg ? codec->zs.msg : zError(rc));
		}
	}
	return (ssize_t) produced;
}

/*
 * zstd.  Same output policy as codec_read_gzip.  ZSTD_decompressStream
 * moves on to the next frame by itself after one ends, and returns 0 exactly
 * when a frame is complete and fully flushed, so a non-zero return at end of
 * source means the last frame was cut short.
 */
static ssize_t
codec_read_zstd(TelemCodec *codec, unsigned char *buf, size_t len,
				TelemError *err)
{
	size_t		produced = 0;

	while (produced < len)
	{
		ZSTD_inBuffer in;
		ZSTD_outBuffer out;
		size_t		ret;
		size_t		consumed;

		if (codec_avail(codec) == 0 && !codec->src_eof)
		{
			if (produced > 0)
				break;
			if (!codec_ensure_input(codec, 1, err))
				return -1;
			continue;
		}
		if (codec_avail(codec) == 0 && !codec->zstd_in_frame)
		{
			codec->finished = true;
			break;
		}

		/*
		 * A frame starts here.  Note the content size its header declares:
		 * libzstd checks it when it decodes a frame in one go but not on
		 * its buffered path (seen with 1.5.4), so a lying header would
		 * otherwise pass or fail depending on how the bytes arrived.
		 */
		if (!codec->zstd_in_frame)
		{
			if (produced > 0 && !codec->src_eof &&
				codec_avail(codec) < CODEC_ZSTD_HEADER_MAX)
				break;
			if (!codec_ensure_input(codec, CODEC_ZSTD_HEADER_MAX, err))
				return -1;
			codec->zstd_declared =
				ZSTD_getFrameContentSize(codec->inbuf + codec->in_pos,
										 codec_avail(codec));
			codec->zstd_frame_out = 0;
			codec->zstd_frame_start = codec->in_offset;
		}

		in.src = codec->inbuf;
		in.size = codec->in_len;
		in.pos = codec->in_pos;
		out.dst = buf;
		out.size = len;
		out.pos = produced;

		ret = ZSTD_decompressStream(codec->zds, &out, &in);

		consumed = in.pos - codec->in_pos;
		codec_consume(codec, consumed);
		if (ZSTD_isError(ret))
			return codec_fail(codec, err, TELEM_ERR_DATA,
							  "corrupt zstd data at compressed offset %lld: %s",
							  (long long) codec->in_offset,
							  ZSTD_getErrorName(ret));
		codec->zstd_in_frame = (ret != 0);

		/* UNKNOWN and ERROR are the two largest values: no limit then. */
		codec->zstd_frame_out += out.pos - produced;
		if (codec->zstd_declared < ZSTD_CONTENTSIZE_ERROR &&
			(codec->zstd_frame_out > codec->zstd_declared ||
			 (ret == 0 && codec->zstd_frame_out != codec->zstd_declared)))
			return codec_fail(codec, err, TELEM_ERR_DATA,
							  "corrupt zstd data at compressed offset %lld: frame starting at offset %lld declares %llu bytes of content but holds %s%llu",
							  (long long) codec->in_offset,
							  (long long) codec->zstd_frame_start,
							  codec->zstd_declared,
							  ret == 0 ? "" : "at least ",
							  codec->zstd_frame_out);

		if (consumed == 0 && out.pos == produced)
		{
			/* No progress: it wants input we do not have. */
			if (!codec_check_stalled(codec, err, "zstd"))
				return -1;
		}
		produced = out.pos;
	}
	return (ssize_t) produced;
}

/*
 * Resolve an AUTO codec by looking at the first bytes of the object.
 */
static bool
codec_sniff(TelemCodec *codec, TelemError *err)
{
	TelemError	start_err;

	if (!codec_ensure_input(codec, CODEC_SNIFF_LEN, err))
		return false;
	codec->kind = codec_from_magic(codec->inbuf + codec->in_pos,
								   codec_avail(codec));
	memset(&start_err, 0, sizeof(start_err));
	if (!codec_start_decoder(codec, &start_err))
	{
		codec_fail_copy(codec, &start_err, err);
		return false;
	}
	return true;
}

ssize_t
CodecRead(TelemCodec *codec, void *buf, size_t len, TelemError *err)
{
	if (codec->failed)
	{
		if (err != NULL)
			*err = codec->error;
		return -1;
	}
	if (codec->finished || len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (codec->kind == TELEM_COMP_AUTO && !codec_sniff(codec, err))
		return -1;

	switch (codec->kind)
	{
		case TELEM_COMP_NONE:
			return codec_read_none(codec, buf, len, err);
		case TELEM_COMP_GZIP:
			return codec_read_gzip(codec, buf, len, err);
		case TELEM_COMP_ZSTD:
			return codec_read_zstd(codec, buf, len, err);
		case TELEM_COMP_AUTO:
			break;
	}
	return codec_fail(codec, err, TELEM_ERR_CONFIG, "codec kind not resolved");
}

void
CodecClose(TelemCodec *codec)
{
	if (codec == NULL)
		return;
	if (codec->zs_ready)
		inflateEnd(&codec->zs);
	if (codec->zds != NULL)
		ZSTD_freeDStream(codec->zds);
	free(codec->inbuf);
	free(codec);
}
