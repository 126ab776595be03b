/*-------------------------------------------------------------------------
 *
 * column.c
 *		Decoding one column chunk: its pages into levels and dense values.
 *
 * The chunk's pages are walked twice.  The first walk reads only the page
 * headers, checks that every page lies inside the chunk, and adds up the
 * data pages' level counts, so the level and value arrays are allocated
 * once, at their final size (bounded by the chunk's num_values from the
 * footer), and every page decodes straight into them.  The second walk
 * checks CRCs, decompresses and decodes:
 *
 * - a DICTIONARY_PAGE (before any data page) holds PLAIN values; data
 *	 pages in PLAIN_DICTIONARY / RLE_DICTIONARY then hold a bit width byte
 *	 and RLE-hybrid indices into it, gathered in batches;
 * - DATA_PAGE (v1): the whole payload is compressed; repetition levels,
 *	 then definition levels, then values, inside it;
 * - DATA_PAGE_V2: the levels come first and are never compressed; the
 *	 values after them are compressed unless is_compressed is false.  An
 *	 empty values section is not handed to the decompressor (some writers
 *	 store zero bytes for it, which is no valid stream of any codec);
 * - INDEX_PAGE and pages of unknown type are skipped.
 *
 * Values of byte array types point into page memory: the caller's chunk
 * bytes when a page is stored uncompressed, otherwise page buffers kept in
 * the result's arena.  Fixed-width pages decompress into one reused scratch
 * buffer.
 *
 * Every error names the page's byte offset in the file and the column.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/column.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "pq_internal.h"

/* Dictionary indices decoded per batch of a gather. */
#define PQ_GATHER_BATCH		1024

typedef struct PageRef
{
	size_t		off;			/* of the header, in the chunk */
	size_t		header_len;
	PqPageHeader h;
} PageRef;

typedef struct ChunkCtx
{
	const PqFile *file;
	const PqColumnChunk *cc;
	const PqSchemaNode *leaf;
	const uint8_t *chunk;
	size_t		len;
	TelemError *err;
	PqColumnData *data;
	PqArena    *arena;
	size_t		vsize;
	bool		byte_values;	/* values point into page memory */

	/* scratch page buffer for fixed-width types */
	uint8_t    *scratch;
	size_t		scratch_cap;

	/* decompression contexts, kept across the chunk's pages */
	PqCodecState *codec_state;

	/* dictionary */
	bool		have_dict;
	uint8_t    *dict;
	int64_t		dict_n;
} ChunkCtx;

/*
 * Add where the failure happened to err's message (kept at its start, so
 * "unsupported: " prefixes survive).
 */
static bool
page_context(ChunkCtx *ctx, size_t page_off)
{
	size_t		used;

	if (ctx->err == NULL)
		return false;
	used = strnlen(ctx->err->message, sizeof(ctx->err->message) - 1);
	snprintf(ctx->err->message + used, sizeof(ctx->err->message) - used,
			 " in page at byte %lld of column \"%s\"",
			 (long long) (ctx->cc->start + (int64_t) page_off),
			 ctx->leaf->path);
	if (ctx->err->kind == TELEM_OK)
		ctx->err->kind = TELEM_ERR_DATA;
	return false;
}

static bool
page_error(ChunkCtx *ctx, size_t page_off, const char *what)
{
	return TelemSetError(ctx->err, TELEM_ERR_DATA,
						 "%s at byte %lld of column \"%s\"", what,
						 (long long) (ctx->cc->start + (int64_t) page_off),
						 ctx->leaf->path);
}

/*
 * The first walk: the pages of the chunk up to num_values levels.  *pages
 * (malloc'd) gets them, *nlevels their data pages' level count.
 */
static bool
scan_pages(ChunkCtx *ctx, PageRef **pages_out, int *npages_out,
		   int64_t *nlevels_out)
{
	PageRef    *pages = NULL;
	int			npages = 0;
	int			cap = 0;
	size_t		off = 0;
	int64_t		nlevels = 0;
	int64_t		want = ctx->cc->num_values;

	while (nlevels < want)
	{
		PqPageHeader h;
		size_t		hlen;

		if (off >= ctx->len)
		{
			TelemSetError(ctx->err, TELEM_ERR_DATA,
						  "column chunk of \"%s\" ends after %lld of %lld values",
						  ctx->leaf->path, (long long) nlevels,
						  (long long) want);
			goto fail;
		}
		memset(&h, 0, sizeof(h));
		if (!PqParsePageHeader(ctx->chunk + off, ctx->len - off, &h, &hlen,
							   ctx->err))
		{
			page_context(ctx, off);
			goto fail;
		}
		if (h.compressed_size < 0 || h.uncompressed_size < 0 ||
			hlen > ctx->len - off ||
			(size_t) h.compressed_size > ctx->len - off - hlen)
		{
			page_error(ctx, off, "page runs past the end of its column chunk");
			goto fail;
		}
		if (ctx->cc->total_uncompressed_size > 0 &&
			h.uncompressed_size > ctx->cc->total_uncompressed_size)
		{
			page_error(ctx, off,
					   "page larger than its column chunk's uncompressed size");
			goto fail;
		}
		if (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2)
		{
			if (h.num_values < 0 || h.num_values > want - nlevels)
			{
				page_error(ctx, off,
						   "page holds more values than its column chunk");
				goto fail;
			}
			nlevels += h.num_values;
		}
		if (npages == cap)
		{
			int			ncap = cap ? cap * 2 : 16;
			PageRef    *np;

			if (ncap < cap || (size_t) ncap > SIZE_MAX / sizeof(PageRef))
				goto oom;
			np = realloc(pages, sizeof(PageRef) * ncap);
			if (np == NULL)
				goto oom;
			pages = np;
			cap = ncap;
		}
		pages[npages].off = off;
		pages[npages].header_len = hlen;
		pages[npages].h = h;
		npages++;
		off += hlen + (size_t) h.compressed_size;
	}
	*pages_out = pages;
	*npages_out = npages;
	*nlevels_out = nlevels;
	return true;

oom:
	TelemSetError(ctx->err, TELEM_ERR_OUT_OF_MEMORY,
				  "out of memory reading the pages of \"%s\"", ctx->leaf->path);
fail:
	free(pages);
	return false;
}

/* A buffer of n bytes for one page: kept (arena) or scratch. */
static uint8_t *
page_buffer(ChunkCtx *ctx, size_t n, bool keep)
{
	if (n == 0)
		n = 1;
	if (keep)
		return PqArenaAlloc(ctx->arena, n);
	if (n > ctx->scratch_cap)
	{
		uint8_t    *p = malloc(n);

		if (p == NULL)
			return NULL;
		free(ctx->scratch);
		ctx->scratch = p;
		ctx->scratch_cap = n;
	}
	return ctx->scratch;
}

/*
 * Bytes src[0..slen) of a page section that decompress to ulen bytes:
 * *out and *out_len get them (src itself when stored uncompressed).
 */
static bool
page_bytes(ChunkCtx *ctx, const PageRef *pg, const uint8_t *src, size_t slen,
		   size_t ulen, bool compressed, bool keep,
		   const uint8_t **out, size_t *out_len)
{
	uint8_t    *dst;

	if (!compressed || ctx->cc->codec == PQ_CODEC_UNCOMPRESSED)
	{
		*out = src;
		*out_len = slen;
		return true;
	}
	if (ulen == 0)
	{
		/* nothing to decompress, whatever the codec's empty stream is */
		*out = src;
		*out_len = 0;
		return true;
	}
	dst = page_buffer(ctx, ulen, keep);
	if (dst == NULL)
		return TelemSetError(ctx->err, TELEM_ERR_OUT_OF_MEMORY,
							 "out of memory for a page of %zu bytes of \"%s\"",
							 ulen, ctx->leaf->path);
	if (!PqDecompressWith(ctx->codec_state, ctx->cc->codec, src, slen, dst,
						  ulen, ctx->err))
		return page_context(ctx, pg->off);
	*out = dst;
	*out_len = ulen;
	return true;
}

static bool
decode_dictionary(ChunkCtx *ctx, const PageRef *pg, int64_t nlevels)
{
	const PqPageHeader *h = &pg->h;
	const uint8_t *src = ctx->chunk + pg->off + pg->header_len;
	const uint8_t *p;
	size_t		plen;
	size_t		used;
	int64_t		n = h->num_values;

	if (ctx->have_dict)
		return page_error(ctx, pg->off, "second dictionary page");
	if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
	{
		TelemSetError(ctx->err, TELEM_ERR_DATA,
					  "unsupported: dictionary page encoding %s",
					  PqEncodingName(h->encoding));
		return page_context(ctx, pg->off);
	}
	/* a dictionary holds at most one entry per value of the chunk */
	if (n < 0 || (n > nlevels && n > h->uncompressed_size))
		return page_error(ctx, pg->off, "bad dictionary size");
	/* the dictionary's byte arrays point into its page: keep it */
	if (!page_bytes(ctx, pg, src, (size_t) h->compressed_size,
					(size_t) h->uncompressed_size, true, true, &p, &plen))
		return false;
	if ((size_t) n > PQ_MAX_PAGE_SIZE / ctx->vsize)
		return page_error(ctx, pg->off, "dictionary too large");
	ctx->dict = PqArenaAlloc(ctx->arena, n > 0 ? (size_t) n * ctx->vsize : 1);
	if (ctx->dict == NULL)
		return TelemSetError(ctx->err, TELEM_ERR_OUT_OF_MEMORY,
							 "out of memory for the dictionary of \"%s\"",
							 ctx->leaf->path);
	if (n > 0 &&
		!PqDecodeValues(PQ_ENC_PLAIN, ctx->leaf->type, ctx->leaf->type_length,
						p, plen, n, ctx->dict, ctx->arena, &used, ctx->err))
		return page_context(ctx, pg->off);
	ctx->dict_n = n;
	ctx->have_dict = true;
	return true;
}

/* Gather n dictionary entries by the RLE-hybrid indices in buf[0..len). */
static bool
gather(ChunkCtx *ctx, const PageRef *pg, const uint8_t *buf, size_t len,
	   int64_t n, uint8_t *out)
{
	uint32_t	idx[PQ_GATHER_BATCH];
	PqRle		rle;
	int			bw;
	uint32_t	limit = (uint32_t) ctx->dict_n;
	size_t		vsize = ctx->vsize;
	const uint8_t *dict = ctx->dict;

	if (!ctx->have_dict)
		return page_error(ctx, pg->off,
						  "dictionary-encoded page without a dictionary page");
	if (len < 1)
		return page_error(ctx, pg->off, "dictionary indices missing");
	bw = buf[0];
	if (bw > 32)
		return page_error(ctx, pg->off, "dictionary index bit width above 32");
	PqRleInit(&rle, buf + 1, len - 1, bw);
	while (n > 0)
	{
		int64_t		k = n < PQ_GATHER_BATCH ? n : PQ_GATHER_BATCH;
		uint32_t	bad = 0;
		int64_t		j;

		if (!PqRleGet(&rle, idx, k, ctx->err))
			return page_context(ctx, pg->off);
		for (j = 0; j < k; j++)
			bad |= (uint32_t) (idx[j] >= limit);
		if (bad)
			return page_error(ctx, pg->off, "dictionary index out of range");
		/* constant sizes, so that each memcpy is a plain load and store */
		switch (vsize)
		{
			case 4:
				for (j = 0; j < k; j++)
					memcpy(out + j * 4, dict + (size_t) idx[j] * 4, 4);
				break;
			case 8:
				for (j = 0; j < k; j++)
					memcpy(out + j * 8, dict + (size_t) idx[j] * 8, 8);
				break;
			case 16:
				for (j = 0; j < k; j++)
					memcpy(out + j * 16, dict + (size_t) idx[j] * 16, 16);
				break;
			default:
				for (j = 0; j < k; j++)
					memcpy(out + j * vsize, dict + (size_t) idx[j] * vsize,
						   vsize);
				break;
		}
		out += k * vsize;
		n -= k;
	}
	return true;
}

/* Values of one data page: nv of them from buf[0..len) in encoding enc. */
static bool
decode_page_values(ChunkCtx *ctx, const PageRef *pg, PqEncoding enc,
				   const uint8_t *buf, size_t len, int64_t nv, uint8_t *out)
{
	size_t		used;

	if (nv == 0)
		return true;
	if (enc == PQ_ENC_PLAIN_DICTIONARY || enc == PQ_ENC_RLE_DICTIONARY)
	{
		ctx->data->used_dictionary = true;
		return gather(ctx, pg, buf, len, nv, out);
	}
	if (!PqDecodeValues(enc, ctx->leaf->type, ctx->leaf->type_length,
						buf, len, nv, out, ctx->arena, &used, ctx->err))
		return page_context(ctx, pg->off);
	return true;
}

/* Count of entries in def[0..n) that carry a value. */
static int64_t
count_defined(const int16_t *def, int64_t n, int16_t max_def)
{
	int64_t		c = 0;
	int64_t		i;

	for (i = 0; i < n; i++)
		c += (def[i] == max_def);
	return c;
}

static bool
decode_data_page(ChunkCtx *ctx, const PageRef *pg, int64_t *lv, int64_t *vv)
{
	const PqPageHeader *h = &pg->h;
	PqColumnData *d = ctx->data;
	const PqSchemaNode *leaf = ctx->leaf;
	const uint8_t *src = ctx->chunk + pg->off + pg->header_len;
	size_t		slen = (size_t) h->compressed_size;
	int64_t		n = h->num_values;
	int64_t		nv;
	const uint8_t *p;
	size_t		plen;
	size_t		used;

	if (n == 0)
		return true;

	if (h->type == PQ_PAGE_DATA)
	{
		if (!page_bytes(ctx, pg, src, slen, (size_t) h->uncompressed_size,
						true, ctx->byte_values, &p, &plen))
			return false;
		if (leaf->max_rep > 0)
		{
			if (!PqDecodeLevels(h->rep_encoding, leaf->max_rep, p, plen,
								h->rep_encoding == PQ_ENC_RLE, n,
								d->rep + *lv, &used, ctx->err))
				return page_context(ctx, pg->off);
			p += used;
			plen -= used;
		}
		if (leaf->max_def > 0)
		{
			if (!PqDecodeLevels(h->def_encoding, leaf->max_def, p, plen,
								h->def_encoding == PQ_ENC_RLE, n,
								d->def + *lv, &used, ctx->err))
				return page_context(ctx, pg->off);
			p += used;
			plen -= used;
		}
	}
	else
	{
		int32_t		rl = h->rep_levels_length;
		int32_t		dl = h->def_levels_length;

		if (rl < 0 || dl < 0 || (int64_t) rl + dl > h->compressed_size ||
			(int64_t) rl + dl > h->uncompressed_size)
			return page_error(ctx, pg->off, "bad level lengths in data page v2");
		if (leaf->max_rep > 0 &&
			!PqDecodeLevels(PQ_ENC_RLE, leaf->max_rep, src, (size_t) rl,
							false, n, d->rep + *lv, &used, ctx->err))
			return page_context(ctx, pg->off);
		if (leaf->max_def > 0 &&
			!PqDecodeLevels(PQ_ENC_RLE, leaf->max_def, src + rl, (size_t) dl,
							false, n, d->def + *lv, &used, ctx->err))
			return page_context(ctx, pg->off);
		if (!page_bytes(ctx, pg, src + rl + dl, slen - (size_t) rl - (size_t) dl,
						(size_t) h->uncompressed_size - (size_t) rl - (size_t) dl,
						h->is_compressed, ctx->byte_values, &p, &plen))
			return false;
	}

	nv = leaf->max_def > 0 ? count_defined(d->def + *lv, n, leaf->max_def) : n;
	if (!decode_page_values(ctx, pg, h->encoding, p, plen, nv,
							(uint8_t *) d->values + (size_t) *vv * ctx->vsize))
		return false;
	*lv += n;
	*vv += nv;
	return true;
}

PqColumnData *
PqDecodeChunk(const PqFile *file, int rg, int leaf_index,
			  const uint8_t *chunk, size_t len, bool check_crc,
			  TelemError *err)
{
	ChunkCtx	ctx;
	PqColumnData *d;
	PageRef    *pages = NULL;
	int			npages = 0;
	int64_t		nlevels = 0;
	int64_t		lv = 0;
	int64_t		vv = 0;
	int			i;

	if (file == NULL || rg < 0 || rg >= file->nrow_groups ||
		leaf_index < 0 || leaf_index >= file->nleaves)
	{
		TelemSetError(err, TELEM_ERR_DATA, "no column chunk %d in row group %d",
					  leaf_index, rg);
		return NULL;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.file = file;
	ctx.cc = &file->row_groups[rg].columns[leaf_index];
	ctx.leaf = file->leaves[leaf_index];
	ctx.chunk = chunk;
	ctx.len = len;
	ctx.err = err;
	ctx.vsize = PqValueSize(ctx.leaf->type);
	ctx.byte_values = ctx.leaf->type == PQ_BYTE_ARRAY ||
		ctx.leaf->type == PQ_FIXED_LEN_BYTE_ARRAY;

	if (ctx.cc->encrypted)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "unsupported: encrypted column \"%s\"", ctx.leaf->path);
		return NULL;
	}
	if (ctx.cc->num_values < 0)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "negative value count for column \"%s\"", ctx.leaf->path);
		return NULL;
	}
	if (ctx.vsize == 0)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "bad physical type for column \"%s\"", ctx.leaf->path);
		return NULL;
	}

	d = calloc(1, sizeof(PqColumnData));
	ctx.arena = PqArenaCreate();
	if (d == NULL || ctx.arena == NULL)
	{
		free(d);
		if (ctx.arena)
			PqArenaFree(ctx.arena);
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
					  "out of memory decoding \"%s\"", ctx.leaf->path);
		return NULL;
	}
	d->leaf = ctx.leaf;
	d->arena = ctx.arena;
	ctx.data = d;
	/* NULL (out of memory) only costs a context per page */
	if (ctx.cc->codec != PQ_CODEC_UNCOMPRESSED)
		ctx.codec_state = PqCodecStateCreate();

	if (!scan_pages(&ctx, &pages, &npages, &nlevels))
		goto fail;

	/* a flat column has one level per row */
	if (ctx.leaf->max_rep == 0 && nlevels != file->row_groups[rg].num_rows)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "column \"%s\" has %lld values for %lld rows in row group %d",
					  ctx.leaf->path, (long long) nlevels,
					  (long long) file->row_groups[rg].num_rows, rg);
		goto fail;
	}
	if ((uint64_t) nlevels > SIZE_MAX / 16)
		goto oom;
	if (ctx.leaf->max_def > 0 &&
		(d->def = malloc(sizeof(int16_t) * (size_t) (nlevels ? nlevels : 1))) == NULL)
		goto oom;
	if (ctx.leaf->max_rep > 0 &&
		(d->rep = malloc(sizeof(int16_t) * (size_t) (nlevels ? nlevels : 1))) == NULL)
		goto oom;
	if ((d->values = malloc(ctx.vsize * (size_t) (nlevels ? nlevels : 1))) == NULL)
		goto oom;

	for (i = 0; i < npages; i++)
	{
		const PageRef *pg = &pages[i];
		const PqPageHeader *h = &pg->h;

		if (h->type != PQ_PAGE_DATA && h->type != PQ_PAGE_DATA_V2 &&
			h->type != PQ_PAGE_DICTIONARY)
			continue;
		if (check_crc && h->has_crc &&
			(uint32_t) crc32(0L, ctx.chunk + pg->off + pg->header_len,
							 (uInt) h->compressed_size) != h->crc)
		{
			page_error(&ctx, pg->off, "page CRC mismatch");
			goto fail;
		}
		if (h->type == PQ_PAGE_DICTIONARY)
		{
			if (lv > 0 || d->npages > 0)
			{
				page_error(&ctx, pg->off, "dictionary page after data pages");
				goto fail;
			}
			if (!decode_dictionary(&ctx, pg, nlevels))
				goto fail;
		}
		else if (!decode_data_page(&ctx, pg, &lv, &vv))
			goto fail;
		d->npages++;
	}

	if (ctx.leaf->max_rep > 0 && nlevels > 0 && d->rep[0] != 0)
	{
		TelemSetError(err, TELEM_ERR_DATA,
					  "column chunk of \"%s\" does not start a new row "
					  "(repetition level %d)", ctx.leaf->path, d->rep[0]);
		goto fail;
	}
	d->nlevels = lv;
	d->nvalues = vv;
	free(pages);
	free(ctx.scratch);
	PqCodecStateFree(ctx.codec_state);
	return d;

oom:
	TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
				  "out of memory decoding \"%s\" (%lld values)",
				  ctx.leaf->path, (long long) nlevels);
fail:
	free(pages);
	free(ctx.scratch);
	PqCodecStateFree(ctx.codec_state);
	PqColumnDataFree(d);
	return NULL;
}

void
PqColumnDataFree(PqColumnData *data)
{
	if (data == NULL)
		return;
	free(data->def);
	free(data->rep);
	free(data->values);
	if (data->arena)
		PqArenaFree((PqArena *) data->arena);
	free(data);
}
