/*-------------------------------------------------------------------------
 *
 * test_parquet_meta.c
 *		Unit tests for the Thrift reader, the Parquet footer and page headers.
 *
 * Three parts: hand-built Thrift bytes for the reader's primitives; every
 * file of parquet-testing's data directory (each parses, or is refused
 * with "unsupported: ...", and known facts of a handful hold); and
 * truncated and corrupted footers, which must give an error or a valid
 * parse, never a crash (run this under valgrind too).
 *
 * The data directory is argv[1], else $TELEM_SHARED/testdata/parquet-
 * testing/data, else ../shared/... from the repo root or
 * ../../../shared/... from test/unit.
 *
 * IDENTIFICATION
 *		test/unit/test_parquet_meta.c
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format/parquet/pq_internal.h"
#include "format/parquet/thrift.h"
#include "unit.h"

#define DATA_SUBDIR "testdata/parquet-testing/data"

/* ---------- part (a): the Thrift reader ---------- */

static void
init(PqThrift *t, const uint8_t *b, size_t n)
{
	PqThriftInit(t, b, n, 1000);
}

static void
test_varints(void)
{
	PqThrift	t;
	uint64_t	u;
	int64_t		i64;
	int32_t		i32;
	int16_t		i16;

	{
		const uint8_t b[] = {0x00, 0x7f, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f};

		init(&t, b, sizeof(b));
		CHECK(PqThriftReadVarint(&t, &u) && u == 0, "varint 0");
		CHECK(PqThriftReadVarint(&t, &u) && u == 127, "varint 127");
		CHECK(PqThriftReadVarint(&t, &u) && u == 128, "varint 128");
		CHECK(PqThriftReadVarint(&t, &u) && u == 0xffffffffu, "varint 2^32-1");
		CHECK(t.pos == sizeof(b), "consumed all");
	}
	{
		/* 2^64 - 1: nine 0xff then 0x01 */
		const uint8_t b[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};

		init(&t, b, sizeof(b));
		CHECK(PqThriftReadVarint(&t, &u) && u == UINT64_MAX, "varint max");
	}
	{
		/* tenth byte with more than bit 63 */
		const uint8_t b[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};

		init(&t, b, sizeof(b));
		CHECK(!PqThriftReadVarint(&t, &u), "varint overflow");
		CHECK(strstr(t.errmsg, "at byte 1000") != NULL, "offset in message: %s", t.errmsg);
	}
	{
		/* eleven bytes */
		const uint8_t b[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};

		init(&t, b, sizeof(b));
		CHECK(!PqThriftReadVarint(&t, &u), "varint too long");
	}
	{
		const uint8_t b[] = {0x80, 0x80};

		init(&t, b, sizeof(b));
		CHECK(!PqThriftReadVarint(&t, &u), "truncated varint");
		/* sticky */
		CHECK(!PqThriftReadI8(&t, (int8_t *) &i16), "sticky error");
		CHECK(strstr(t.errmsg, "varint") != NULL, "first message kept: %s", t.errmsg);
	}
	{
		/* zigzag: 0 -> 0, 1 -> -1, 2 -> 1, 3 -> -2 */
		const uint8_t b[] = {0x00, 0x01, 0x02, 0x03,
			0xfe, 0xff, 0xff, 0xff, 0x0f,	/* 4294967294 -> INT32_MAX */
			0xff, 0xff, 0xff, 0xff, 0x0f,	/* 4294967295 -> INT32_MIN */
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, /* INT64_MIN */
			0xfe, 0xff, 0x03,	/* 65534 -> INT16_MAX */
			0x80, 0x80, 0x04,	/* 65536 -> 32768: i16 overflow */
		};

		init(&t, b, sizeof(b));
		CHECK(PqThriftReadI32(&t, &i32) && i32 == 0, "zz 0");
		CHECK(PqThriftReadI32(&t, &i32) && i32 == -1, "zz -1");
		CHECK(PqThriftReadI32(&t, &i32) && i32 == 1, "zz 1");
		CHECK(PqThriftReadI64(&t, &i64) && i64 == -2, "zz -2");
		CHECK(PqThriftReadI32(&t, &i32) && i32 == INT32_MAX, "zz i32 max");
		CHECK(PqThriftReadI32(&t, &i32) && i32 == INT32_MIN, "zz i32 min");
		CHECK(PqThriftReadI64(&t, &i64) && i64 == INT64_MIN, "zz i64 min");
		CHECK(PqThriftReadI16(&t, &i16) && i16 == INT16_MAX, "zz i16 max");
		CHECK(!PqThriftReadI16(&t, &i16), "i16 out of range");
	}
	{
		/* an i32 field holding a value beyond 32 bits */
		const uint8_t b[] = {0x80, 0x80, 0x80, 0x80, 0x20};

		init(&t, b, sizeof(b));
		CHECK(!PqThriftReadI32(&t, &i32), "i32 out of range");
	}
	{
		const uint8_t b[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0x3f, 0x01};
		double		d;

		init(&t, b, sizeof(b));
		CHECK(PqThriftReadDouble(&t, &d) && d == 1.0, "double 1.0");
		CHECK(!PqThriftReadDouble(&t, &d), "truncated double");
	}
}

static void
test_fields(void)
{
	PqThrift	t;
	int			type;
	int16_t		id;
	int32_t		i32;
	bool		bv;
	const uint8_t *p;
	uint32_t	n;

	{
		/*
		 * struct { 1: i32 = 5, 3: true (delta 2), 300: false (long form),
		 * 301: binary "ab" (delta 1), stop }
		 */
		const uint8_t b[] = {0x15, 0x0a, 0x21, 0x02, 0xd8, 0x04, 0x18, 0x02, 'a', 'b', 0x00};

		init(&t, b, sizeof(b));
		CHECK(PqThriftStructBegin(&t), "begin");
		CHECK(PqThriftFieldBegin(&t, &type, &id) && type == PQ_TT_I32 && id == 1, "f1");
		CHECK(PqThriftReadI32(&t, &i32) && i32 == 5, "f1 value");
		CHECK(PqThriftFieldBegin(&t, &type, &id) && type == PQ_TT_BOOL && id == 3, "f3");
		CHECK(PqThriftReadBool(&t, &bv) && bv, "f3 true");
		CHECK(PqThriftFieldBegin(&t, &type, &id) && type == PQ_TT_BOOL && id == 300,
			  "long form: type %d id %d", type, id);
		CHECK(PqThriftReadBool(&t, &bv) && !bv, "f300 false");
		CHECK(PqThriftFieldBegin(&t, &type, &id) && type == PQ_TT_BINARY && id == 301,
			  "delta after long form: id %d", id);
		CHECK(PqThriftReadBinary(&t, &p, &n) && n == 2 && memcmp(p, "ab", 2) == 0, "binary");
		CHECK(PqThriftFieldBegin(&t, &type, &id) && type == PQ_TT_STOP, "stop");
		CHECK(PqThriftStructEnd(&t), "end");
		CHECK(!t.failed && t.pos == sizeof(b), "clean");
	}
	{
		/* binary longer than the input */
		const uint8_t b[] = {0x05, 'a', 'b'};

		init(&t, b, sizeof(b));
		CHECK(!PqThriftReadBinary(&t, &p, &n), "binary too long");
	}
	{
		/* list headers: short form 3 x i32, long form 20 x i8, bools */
		uint8_t		b[64];
		int			et;
		size_t		k = 0;
		int			i;

		b[k++] = 0x35;
		b[k++] = 0x02;
		b[k++] = 0x04;
		b[k++] = 0x06;
		b[k++] = 0xf3;
		b[k++] = 20;
		for (i = 0; i < 20; i++)
			b[k++] = (uint8_t) i;
		b[k++] = 0x31;			/* 3 bools, type 1 */
		b[k++] = 1;
		b[k++] = 0;
		b[k++] = 2;
		init(&t, b, k);
		CHECK(PqThriftListBegin(&t, &et, &n) && et == PQ_TT_I32 && n == 3, "short list");
		CHECK(PqThriftReadI32(&t, &i32) && i32 == 1, "elem 0");
		CHECK(PqThriftSkip(&t, PQ_TT_I32) && PqThriftSkip(&t, PQ_TT_I32), "skip elems");
		CHECK(PqThriftListBegin(&t, &et, &n) && et == PQ_TT_I8 && n == 20, "long list");
		for (i = 0; i < 20; i++)
			PqThriftSkip(&t, PQ_TT_I8);
		CHECK(PqThriftListBegin(&t, &et, &n) && et == PQ_TT_BOOL && n == 3, "bool list");
		CHECK(PqThriftReadBool(&t, &bv) && bv, "bool elem 1");
		CHECK(PqThriftReadBool(&t, &bv) && !bv, "bool elem 0");
		CHECK(PqThriftReadBool(&t, &bv) && !bv, "bool elem 2");
		CHECK(!t.failed && t.pos == k, "list clean");
	}
	{
		/* a list claiming more elements than bytes left */
		const uint8_t b[] = {0xf5, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
		int			et;

		init(&t, b, sizeof(b));
		CHECK(!PqThriftListBegin(&t, &et, &n), "huge list refused");
	}
	{
		/* field type 13 is not a type */
		const uint8_t b[] = {0x1d, 0x00};

		init(&t, b, sizeof(b));
		PqThriftStructBegin(&t);
		CHECK(!PqThriftFieldBegin(&t, &type, &id), "bad field type");
	}
	{
		/* long-form id 0 */
		const uint8_t b[] = {0x05, 0x00, 0x00};

		init(&t, b, sizeof(b));
		PqThriftStructBegin(&t);
		CHECK(!PqThriftFieldBegin(&t, &type, &id), "field id 0");
	}
}

static void
test_skip(void)
{
	PqThrift	t;

	{
		/*
		 * struct { 1: struct { 1: list<struct{1: i64}> [ {1: 300} ],
		 * 2: map<binary, double> {"k": 1.0}, 3: set<i16> {7} },
		 * 2: double, 3: true } then a trailing byte 0x99
		 */
		const uint8_t b[] = {
			0x1c,
			0x19, 0x1c, 0x16, 0xd8, 0x04, 0x00,
			0x1b, 0x01, 0x87, 0x01, 'k', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
			0x1a, 0x14, 0x0e,
			0x00,
			0x17, 0, 0, 0, 0, 0, 0, 0, 0,
			0x11,
			0x00,
			0x99
		};

		init(&t, b, sizeof(b));
		CHECK(PqThriftSkip(&t, PQ_TT_STRUCT), "skip nested: %s", t.errmsg);
		CHECK(t.pos == sizeof(b) - 1, "skip stops at the struct end (%zu)", t.pos);
		CHECK(t.depth == 0, "depth restored");
	}
	{
		/* 100 nested structs: the depth limit stops it */
		uint8_t		b[200];
		int			i;

		for (i = 0; i < 100; i++)
			b[i] = 0x1c;
		for (i = 100; i < 200; i++)
			b[i] = 0x00;
		init(&t, b, sizeof(b));
		CHECK(!PqThriftSkip(&t, PQ_TT_STRUCT), "depth limit");
		CHECK(strstr(t.errmsg, "nested") != NULL, "depth message: %s", t.errmsg);
	}
	{
		/* 100 nested lists of lists */
		uint8_t		b[101];
		int			i;

		for (i = 0; i < 100; i++)
			b[i] = 0x19;
		b[100] = 0x09;
		init(&t, b, sizeof(b));
		CHECK(!PqThriftSkip(&t, PQ_TT_LIST), "list depth limit");
	}
	{
		/* every truncation of a nested struct fails cleanly */
		const uint8_t b[] = {
			0x1c, 0x19, 0x1c, 0x16, 0xd8, 0x04, 0x00,
			0x1b, 0x01, 0x87, 0x01, 'k', 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
			0x00, 0x18, 0x03, 'a', 'b', 'c', 0x00
		};
		size_t		n;
		int			fails = 0;

		for (n = 0; n < sizeof(b); n++)
		{
			init(&t, b, n);
			if (!PqThriftSkip(&t, PQ_TT_STRUCT) && t.failed && t.errmsg[0] != '\0')
				fails++;
		}
		CHECK(fails == (int) sizeof(b), "truncations fail: %d of %zu", fails, sizeof(b));
		init(&t, b, sizeof(b));
		CHECK(PqThriftSkip(&t, PQ_TT_STRUCT), "whole struct skips");
	}
}

/* ---------- page headers ---------- */

static void
test_page_headers(void)
{
	PqPageHeader h;
	TelemError	err;
	size_t		hl;

	{
		/*
		 * type DATA_PAGE, sizes 100/80, crc -1, 99: unknown i32,
		 * data_page_header {10 values, PLAIN, RLE, BIT_PACKED}
		 */
		const uint8_t b[] = {0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0xa0, 0x01, 0x15, 0x01,
			0x1c, 0x15, 0x14, 0x15, 0x00, 0x15, 0x06, 0x15, 0x08, 0x00,
			0x05, 0xc6, 0x01, 0x02,
		0x00, 0xee};

		memset(&err, 0, sizeof(err));
		CHECK(PqParsePageHeader(b, sizeof(b), &h, &hl, &err), "data page: %s", err.message);
		CHECK(h.type == PQ_PAGE_DATA && h.uncompressed_size == 100 &&
			  h.compressed_size == 80 && h.has_crc && h.crc == 0xffffffffu,
			  "data page fields");
		CHECK(h.num_values == 10 && h.encoding == PQ_ENC_PLAIN &&
			  h.def_encoding == PQ_ENC_RLE && h.rep_encoding == PQ_ENC_BIT_PACKED,
			  "data page sub-header");
		CHECK(hl == sizeof(b) - 1, "header length %zu", hl);
	}
	{
		/* DATA_PAGE_V2, is_compressed false */
		const uint8_t b[] = {0x15, 0x06, 0x15, 0x28, 0x15, 0x28,
			0x5c, 0x15, 0x0a, 0x15, 0x02, 0x15, 0x08, 0x15, 0x00, 0x15, 0x04, 0x15, 0x00,
		0x12, 0x00, 0x00};

		memset(&err, 0, sizeof(err));
		CHECK(PqParsePageHeader(b, sizeof(b), &h, &hl, &err), "v2 page: %s", err.message);
		CHECK(h.type == PQ_PAGE_DATA_V2 && h.num_values == 5 && h.num_nulls == 1 &&
			  h.num_rows == 4 && h.def_levels_length == 2 && h.rep_levels_length == 0 &&
			  !h.is_compressed, "v2 fields");
		CHECK(hl == sizeof(b), "v2 length");
	}
	{
		/* DATA_PAGE_V2 without is_compressed: default true */
		const uint8_t b[] = {0x15, 0x06, 0x15, 0x28, 0x15, 0x28,
			0x5c, 0x15, 0x0a, 0x15, 0x02, 0x15, 0x08, 0x15, 0x00, 0x15, 0x04, 0x15, 0x00,
		0x00, 0x00};

		CHECK(PqParsePageHeader(b, sizeof(b), &h, &hl, &err) && h.is_compressed,
			  "v2 default compressed");
	}
	{
		/* DATA_PAGE_V2 whose level lengths exceed the page */
		const uint8_t b[] = {0x15, 0x06, 0x15, 0x28, 0x15, 0x28,
			0x5c, 0x15, 0x0a, 0x15, 0x02, 0x15, 0x08, 0x15, 0x00, 0x15, 0x52, 0x15, 0x00,
		0x00, 0x00};

		CHECK(!PqParsePageHeader(b, sizeof(b), &h, &hl, &err), "v2 levels too long");
	}
	{
		/* DICTIONARY_PAGE {3 values, PLAIN_DICTIONARY} */
		const uint8_t b[] = {0x15, 0x04, 0x15, 0x18, 0x15, 0x18,
		0x4c, 0x15, 0x06, 0x15, 0x04, 0x00, 0x00};

		CHECK(PqParsePageHeader(b, sizeof(b), &h, &hl, &err) &&
			  h.type == PQ_PAGE_DICTIONARY && h.num_values == 3 &&
			  h.encoding == PQ_ENC_PLAIN_DICTIONARY, "dictionary page");
	}
	{
		/* a data page without its sub-header */
		const uint8_t b[] = {0x15, 0x00, 0x15, 0x02, 0x15, 0x02, 0x00};

		CHECK(!PqParsePageHeader(b, sizeof(b), &h, &hl, &err), "missing sub-header");
	}
	{
		/* negative compressed size */
		const uint8_t b[] = {0x15, 0x00, 0x15, 0x02, 0x15, 0x01,
		0x2c, 0x15, 0x14, 0x15, 0x00, 0x15, 0x06, 0x15, 0x08, 0x00, 0x00};

		CHECK(!PqParsePageHeader(b, sizeof(b), &h, &hl, &err), "negative size");
	}
	{
		/* truncated: every prefix of a good header fails */
		const uint8_t b[] = {0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0xa0, 0x01,
		0x2c, 0x15, 0x14, 0x15, 0x00, 0x15, 0x06, 0x15, 0x08, 0x00, 0x00};
		size_t		n;
		int			ok = 0;

		for (n = 0; n < sizeof(b); n++)
			if (PqParsePageHeader(b, n, &h, &hl, &err))
				ok++;
		CHECK(ok == 0, "truncated page headers parse: %d", ok);
		CHECK(PqParsePageHeader(b, sizeof(b), &h, &hl, &err), "whole page header");
	}
}

/* ---------- part (b): the reference files ---------- */

typedef struct FileBuf
{
	uint8_t    *data;
	size_t		size;
} FileBuf;

static bool
read_file(const char *path, FileBuf *fb)
{
	FILE	   *f = fopen(path, "rb");
	long		n;

	fb->data = NULL;
	fb->size = 0;
	if (f == NULL)
		return false;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
	{
		fclose(f);
		return false;
	}
	fb->data = malloc(n > 0 ? (size_t) n : 1);
	if (fb->data == NULL || fread(fb->data, 1, (size_t) n, f) != (size_t) n)
	{
		fclose(f);
		free(fb->data);
		fb->data = NULL;
		return false;
	}
	fclose(f);
	fb->size = (size_t) n;
	return true;
}

/* Footer bytes of a whole file; NULL with err set. */
static PqFile *
parse_whole(const FileBuf *fb, TelemError *err, const uint8_t **footer,
			int64_t *footer_len)
{
	int64_t		len;

	len = PqFooterLength(fb->data, fb->size, (int64_t) fb->size, err);
	if (len < 0)
		return NULL;
	*footer = fb->data + fb->size - PQ_TRAILER_SIZE - len;
	*footer_len = len;
	return PqParseFooter(*footer, (size_t) len, (int64_t) fb->size, err);
}

static int	tree_errors;

static void
check_tree(const PqFile *pf, const PqSchemaNode *node, int depth)
{
	char		desc[256];
	const PqSchemaNode *found;
	int			i;
	int			leaves = 0;

	PqDescribeNode(node, desc, sizeof(desc));
	if (desc[0] == '\0')
		tree_errors++;
	found = PqFindPath(pf, node->path);
	if (found == NULL || strcmp(found->path, node->path) != 0)
	{
		fprintf(stderr, "path \"%s\" finds %s\n", node->path,
				found ? found->path : "nothing");
		tree_errors++;
	}
	if (depth > 0 && (node->parent == NULL || node->max_def < node->parent->max_def ||
					  node->max_rep < node->parent->max_rep))
		tree_errors++;
	if (!node->is_group)
	{
		if (node->leaf_index < 0 || node->leaf_index >= pf->nleaves ||
			pf->leaves[node->leaf_index] != node || node->nleaves != 1 ||
			node->first_leaf != node->leaf_index)
			tree_errors++;
		return;
	}
	if (node->nchildren < 1 || node->leaf_index != -1)
		tree_errors++;
	for (i = 0; i < node->nchildren; i++)
	{
		if (node->children[i]->parent != node ||
			node->children[i]->first_leaf != node->first_leaf + leaves)
			tree_errors++;
		check_tree(pf, node->children[i], depth + 1);
		leaves += node->children[i]->nleaves;
	}
	if (leaves != node->nleaves)
		tree_errors++;
}

/*
 * Invariants of any parsed file.  With pages, also parse the first page
 * header of every readable chunk.
 */
static bool
check_parsed(const PqFile *pf, const FileBuf *fb, int64_t footer_len,
			 bool pages, const char *name)
{
	int64_t		limit = (int64_t) fb->size - PQ_TRAILER_SIZE - footer_len;
	int			rg;
	int			i;
	bool		ok = true;

	tree_errors = 0;
	check_tree(pf, pf->root, 0);
	if (tree_errors != 0)
	{
		fprintf(stderr, "%s: %d tree errors\n", name, tree_errors);
		ok = false;
	}
	if (pf->nleaves < 1 || pf->root->nleaves != pf->nleaves || pf->root->max_def != 0)
		ok = false;
	for (rg = 0; rg < pf->nrow_groups; rg++)
	{
		for (i = 0; i < pf->nleaves; i++)
		{
			const PqColumnChunk *cc = &pf->row_groups[rg].columns[i];

			if (cc->length == 0)
				continue;
			if (cc->start < 4 || cc->length < 0 || cc->start + cc->length > limit)
			{
				fprintf(stderr, "%s: rg %d col %d outside the file\n", name, rg, i);
				ok = false;
				continue;
			}
			if (cc->dictionary_page_offset >= 0 &&
				cc->dictionary_page_offset >= cc->data_page_offset)
				ok = false;
			if (pages && !cc->encrypted)
			{
				PqPageHeader h;
				size_t		hl;
				TelemError	err;

				memset(&err, 0, sizeof(err));
				if (!PqParsePageHeader(fb->data + cc->start, (size_t) cc->length, &h,
									   &hl, &err))
				{
					/* large_string_map.brotli.parquet: a page over 1 GB */
					if (strncmp(err.message, "unsupported: ", 13) == 0)
						continue;
					fprintf(stderr, "%s: rg %d col %d: first page: %s\n", name, rg, i,
							err.message);
					ok = false;
				}
				else if ((cc->dictionary_page_offset >= 0 && h.type != PQ_PAGE_DICTIONARY) ||
						 (h.type != PQ_PAGE_DATA && h.type != PQ_PAGE_DICTIONARY &&
						  h.type != PQ_PAGE_DATA_V2) ||
						 (int64_t) hl + h.compressed_size > cc->length)
				{
					fprintf(stderr, "%s: rg %d col %d: first page type %d size %d+%zu\n",
							name, rg, i, h.type, h.compressed_size, hl);
					ok = false;
				}
			}
		}
	}
	return ok;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		n = strlen(s);
	size_t		m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int	nfiles_parsed;
static int	nfiles_refused;

static void
check_one_file(const char *path, const char *name)
{
	FileBuf		fb;
	TelemError	err;
	PqFile	   *pf;
	const uint8_t *footer;
	int64_t		footer_len = 0;
	bool		encrypted_name = ends_with(name, ".parquet.encrypted");

	if (!read_file(path, &fb))
	{
		CHECK(false, "cannot read %s", path);
		return;
	}
	memset(&err, 0, sizeof(err));
	pf = parse_whole(&fb, &err, &footer, &footer_len);
	if (pf == NULL)
	{
		nfiles_refused++;
		CHECK(strncmp(err.message, "unsupported: ", 13) == 0,
			  "%s: refused with \"%s\"", name, err.message);
		CHECK(err.kind == TELEM_ERR_DATA, "%s: error kind", name);
		if (!encrypted_name)
			fprintf(stderr, "note: %s refused: %s\n", name, err.message);
	}
	else
	{
		int64_t		sum = 0;
		int			rg;
		int			i;
		int			nenc = 0;

		nfiles_parsed++;
		for (rg = 0; rg < pf->nrow_groups; rg++)
		{
			sum += pf->row_groups[rg].num_rows;
			for (i = 0; i < pf->nleaves; i++)
				nenc += pf->row_groups[rg].columns[i].encrypted;
		}
		/*
		 * repeated_no_annotation.parquet (parquet-rs 0.3.0) says 0 rows in
		 * FileMetaData and 6 in its row group; the reader keeps both.
		 */
		if (strcmp(name, "repeated_no_annotation.parquet") == 0)
			CHECK(pf->num_rows == 0 && sum == 6, "%s: rows %lld, sum %lld", name,
				  (long long) pf->num_rows, (long long) sum);
		else
			CHECK(sum == pf->num_rows, "%s: num_rows %lld, row groups sum %lld", name,
				  (long long) pf->num_rows, (long long) sum);
		CHECK(check_parsed(pf, &fb, footer_len, true, name), "%s: invariants", name);
		/* an encrypted file that parses must say which chunks are encrypted */
		if (encrypted_name)
			CHECK(nenc > 0, "%s: parsed, but no chunk is flagged encrypted", name);
		else
			CHECK(nenc == 0, "%s: %d chunks flagged encrypted", name, nenc);
		PqFileFree(pf);
	}
	free(fb.data);
}

static void
walk_dir(const char *dir, const char *rel)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	char	  **names = NULL;
	int			n = 0;
	int			i;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
	{
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, sizeof(char *) * (n + 1));
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	for (i = 0; i < n; i++)
	{
		char		path[4096];
		char		relname[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(relname, sizeof(relname), "%s%s%s", rel, rel[0] ? "/" : "", names[i]);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			walk_dir(path, relname);
		else if (ends_with(names[i], ".parquet") || ends_with(names[i], ".parquet.encrypted"))
			check_one_file(path, relname);
		free(names[i]);
	}
	free(names);
}

static PqFile *
load(const char *dir, const char *name, FileBuf *fb)
{
	char		path[4096];
	TelemError	err;
	const uint8_t *footer;
	int64_t		footer_len;
	PqFile	   *pf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!read_file(path, fb))
	{
		CHECK(false, "cannot read %s", path);
		return NULL;
	}
	memset(&err, 0, sizeof(err));
	pf = parse_whole(fb, &err, &footer, &footer_len);
	CHECK(pf != NULL, "%s: %s", name, err.message);
	if (pf == NULL)
	{
		free(fb->data);
		fb->data = NULL;
	}
	return pf;
}

static void
unload(PqFile *pf, FileBuf *fb)
{
	PqFileFree(pf);
	free(fb->data);
}

static const PqSchemaNode *
expect_leaf(const PqFile *pf, const char *path, PqType type, int def, int rep,
			const char *desc)
{
	const PqSchemaNode *n = PqFindPath(pf, path);
	char		buf[128];

	CHECK(n != NULL, "no node %s", path);
	if (n == NULL)
		return NULL;
	PqDescribeNode(n, buf, sizeof(buf));
	CHECK(!n->is_group && n->type == type, "%s: type %s", path, buf);
	CHECK(n->max_def == def && n->max_rep == rep, "%s: def %d rep %d, want %d %d",
		  path, n->max_def, n->max_rep, def, rep);
	if (desc != NULL)
		CHECK(strcmp(buf, desc) == 0, "%s: described as \"%s\", want \"%s\"",
			  path, buf, desc);
	return n;
}

static bool
bytes_eq(const PqBytes *b, const char *s, size_t n)
{
	return b->len == n && memcmp(b->ptr, s, n) == 0;
}

static void
test_known_facts(const char *dir)
{
	FileBuf		fb;
	PqFile	   *pf;
	TelemError	err;

	/* alltypes_plain: Impala, 8 rows, 11 optional flat columns */
	if ((pf = load(dir, "alltypes_plain.parquet", &fb)) != NULL)
	{
		static const char *const names[] = {"id", "bool_col", "tinyint_col",
			"smallint_col", "int_col", "bigint_col", "float_col", "double_col",
		"date_string_col", "string_col", "timestamp_col"};
		static const PqType types[] = {PQ_INT32, PQ_BOOLEAN, PQ_INT32, PQ_INT32,
			PQ_INT32, PQ_INT64, PQ_FLOAT, PQ_DOUBLE, PQ_BYTE_ARRAY, PQ_BYTE_ARRAY,
		PQ_INT96};
		int			i;

		CHECK(pf->num_rows == 8 && pf->nrow_groups == 1 && pf->nleaves == 11,
			  "alltypes_plain: %lld rows, %d leaves", (long long) pf->num_rows, pf->nleaves);
		for (i = 0; i < pf->nleaves && i < 11; i++)
		{
			CHECK_STREQ(pf->leaves[i]->name, names[i], "alltypes_plain leaf");
			CHECK(pf->leaves[i]->type == types[i] && pf->leaves[i]->max_def == 1 &&
				  pf->leaves[i]->max_rep == 0 && pf->leaves[i]->parent == pf->root,
				  "alltypes_plain %s", names[i]);
		}
		CHECK(pf->created_by != NULL &&
			  strncmp(pf->created_by, "impala version 1.3.0-INTERNAL", 29) == 0,
			  "created_by");
		CHECK(PqFindPath(pf, "ID") == pf->leaves[0], "case-insensitive fallback");
		CHECK(PqFindPath(pf, "nope") == NULL && PqFindPath(pf, "id.x") == NULL,
			  "missing paths");
		CHECK(PqFindPath(pf, "") == pf->root, "root path");
		CHECK(pf->row_groups[0].columns[0].codec == PQ_CODEC_UNCOMPRESSED, "codec");
		unload(pf, &fb);
	}

	/* int96_from_spark (see its .md): optional int96 a, 6 rows */
	if ((pf = load(dir, "int96_from_spark.parquet", &fb)) != NULL)
	{
		int			i;
		bool		found = false;

		CHECK(pf->num_rows == 6 && pf->nleaves == 1, "int96 rows");
		expect_leaf(pf, "a", PQ_INT96, 1, 0, "INT96");
		CHECK(pf->created_by && strncmp(pf->created_by, "parquet-mr version 1.13.1", 25) == 0,
			  "int96 created_by");
		for (i = 0; i < pf->nkv; i++)
			if (strcmp(pf->kv[i].key, "org.apache.spark.version") == 0)
				found = pf->kv[i].value && strcmp(pf->kv[i].value, "3.4.3") == 0;
		CHECK(found, "spark version key");
		CHECK(pf->row_groups[0].columns[0].codec == PQ_CODEC_SNAPPY, "int96 codec");
		unload(pf, &fb);
	}

	/* byte_array_decimal: DECIMAL(4, 2) on BYTE_ARRAY (values 1.00 .. 24.00) */
	if ((pf = load(dir, "byte_array_decimal.parquet", &fb)) != NULL)
	{
		const PqSchemaNode *n = expect_leaf(pf, "value", PQ_BYTE_ARRAY, 1, 0,
											"BYTE_ARRAY (DECIMAL(4, 2))");

		CHECK(n && n->logical == PQL_DECIMAL && n->precision == 4 && n->scale == 2,
			  "decimal params");
		CHECK(pf->num_rows == 24, "decimal rows");
		unload(pf, &fb);
	}

	/*
	 * nested_maps: a: optional map<string, optional map<int, bool>>.  A
	 * map's key_value group is repeated and its key required, so the outer
	 * key has def 2 rep 1 and the inner key def 4 rep 2.
	 */
	if ((pf = load(dir, "nested_maps.snappy.parquet", &fb)) != NULL)
	{
		const PqSchemaNode *a = PqFindPath(pf, "a");

		CHECK(pf->nleaves == 5 && pf->num_rows == 6, "nested_maps shape");
		CHECK(a && a->is_group && a->logical == PQL_MAP && a->nleaves == 3 &&
			  a->first_leaf == 0, "nested_maps a");
		expect_leaf(pf, "a.key_value.key", PQ_BYTE_ARRAY, 2, 1, "BYTE_ARRAY (STRING)");
		expect_leaf(pf, "a.key_value.value.key_value.key", PQ_INT32, 4, 2, NULL);
		expect_leaf(pf, "a.key_value.value.key_value.value", PQ_BOOLEAN, 4, 2, NULL);
		expect_leaf(pf, "b", PQ_INT32, 0, 0, NULL);
		expect_leaf(pf, "c", PQ_DOUBLE, 0, 0, NULL);
		CHECK(pf->leaves[3] == PqFindPath(pf, "b"), "leaf order");
		unload(pf, &fb);
	}

	/* nested_structs.rust: 216 leaves in 36 structs of six, INT64 then DOUBLE */
	if ((pf = load(dir, "nested_structs.rust.parquet", &fb)) != NULL)
	{
		const PqSchemaNode *r = PqFindPath(pf, "roll_num");
		int			i;
		int			bad = 0;

		CHECK(pf->nleaves == 216, "nested_structs leaves %d", pf->nleaves);
		expect_leaf(pf, "roll_num.count", PQ_INT64, 0, 0, "INT64 (INTEGER(64, unsigned))");
		expect_leaf(pf, "roll_num.sum", PQ_INT64, 0, 0, "INT64 (INTEGER(64, signed))");
		expect_leaf(pf, "BIA_3.min", PQ_DOUBLE, 0, 0, "DOUBLE");
		CHECK(r && r->is_group && r->nchildren == 6 && r->nleaves == 6, "roll_num group");
		CHECK(pf->leaves[0] == PqFindPath(pf, "roll_num.min"), "first leaf");
		CHECK(PqFindPath(pf, "PC_CUR.variance") == pf->leaves[11], "PC_CUR.variance");
		CHECK(PqFindPath(pf, "pc_cur.VARIANCE") == pf->leaves[11], "case fold");
		for (i = 0; i < pf->nleaves; i++)
			bad += ((i < 24 && pf->leaves[i]->type != PQ_INT64) ||
					pf->leaves[i]->max_rep != 0 ||
					pf->leaves[i]->parent->parent != pf->root);
		CHECK(bad == 0, "nested_structs leaves: %d bad", bad);
		CHECK(pf->row_groups[0].columns[0].codec == PQ_CODEC_ZSTD, "zstd codec");
		unload(pf, &fb);
	}

	/* binary_truncated_min_max: the README's table of statistics */
	if ((pf = load(dir, "binary_truncated_min_max.parquet", &fb)) != NULL)
	{
		const PqStatistics *s;

		CHECK(pf->nleaves == 6, "truncated stats leaves");
		s = &pf->row_groups[0].columns[0].stats;
		CHECK(pf->row_groups[0].columns[0].has_stats && !s->legacy &&
			  s->has_min && bytes_eq(&s->min, "Al", 2) && !s->min_exact &&
			  s->has_max && bytes_eq(&s->max, "Kf", 2) && !s->max_exact,
			  "utf8_full_truncation stats");
		s = &pf->row_groups[0].columns[2].stats;
		CHECK(bytes_eq(&s->min, "Al", 2) && !s->min_exact &&
			  bytes_eq(&s->max, "\xf0\x9f\x9a\x80Kevin Bacon", 15) && s->max_exact,
			  "utf8_partial_truncation stats");
		s = &pf->row_groups[0].columns[3].stats;
		CHECK(bytes_eq(&s->max, "\xff\xff\x01\x02", 4) && s->max_exact,
			  "binary_partial_truncation max");
		s = &pf->row_groups[0].columns[5].stats;
		CHECK(bytes_eq(&s->min, "Al", 2) && s->min_exact &&
			  bytes_eq(&s->max, "Ke", 2) && s->max_exact, "binary_no_truncation stats");
		CHECK(s->has_null_count && s->null_count == 0, "null_count");
		expect_leaf(pf, "utf8_full_truncation", PQ_BYTE_ARRAY, 0, 0, "BYTE_ARRAY (STRING)");
		expect_leaf(pf, "binary_full_truncation", PQ_BYTE_ARRAY, 0, 0, "BYTE_ARRAY");
		unload(pf, &fb);
	}

	/* nullable.impala: deprecated min/max only (parquet-mr 1.8.0) */
	if ((pf = load(dir, "nullable.impala.parquet", &fb)) != NULL)
	{
		const PqStatistics *s = &pf->row_groups[0].columns[0].stats;
		int64_t		v;

		CHECK(pf->nleaves == 13 && pf->num_rows == 7, "nullable.impala shape");
		CHECK(s->legacy && s->has_min && s->min.len == 8 && s->has_max && s->max.len == 8,
			  "legacy stats");
		if (s->min.len == 8 && s->max.len == 8)
		{
			memcpy(&v, s->min.ptr, 8);
			CHECK(v == 1, "id min %lld", (long long) v);
			memcpy(&v, s->max.ptr, 8);
			CHECK(v == 7, "id max %lld", (long long) v);
		}
		expect_leaf(pf, "id", PQ_INT64, 1, 0, NULL);
		expect_leaf(pf, "int_array.list.element", PQ_INT32, 3, 1, NULL);
		expect_leaf(pf, "int_array_Array.list.element.list.element", PQ_INT32, 5, 2, NULL);
		expect_leaf(pf, "nested_struct.A", PQ_INT32, 2, 0, NULL);
		expect_leaf(pf, "nested_struct.C.d.list.element.list.element.F",
					PQ_BYTE_ARRAY, 8, 2, "BYTE_ARRAY (STRING)");
		CHECK(PqFindPath(pf, "int_array")->logical == PQL_LIST, "LIST annotation");
		unload(pf, &fb);
	}

	/* dict-page-offset-zero: dictionary_page_offset 0 means none */
	if ((pf = load(dir, "dict-page-offset-zero.parquet", &fb)) != NULL)
	{
		const PqColumnChunk *cc = &pf->row_groups[0].columns[0];

		CHECK(cc->dictionary_page_offset == -1 && cc->start == cc->data_page_offset &&
			  cc->start == 4, "dict offset zero: dict %lld start %lld",
			  (long long) cc->dictionary_page_offset, (long long) cc->start);
		CHECK(pf->num_rows == 39, "dict-page-offset-zero rows");
		unload(pf, &fb);
	}

	/* column_chunk_key_value_metadata: no rows; empty chunks fetch nothing */
	if ((pf = load(dir, "column_chunk_key_value_metadata.parquet", &fb)) != NULL)
	{
		CHECK(pf->num_rows == 0 && pf->nleaves == 2, "empty file shape");
		CHECK(pf->row_groups[0].columns[0].length == 0, "empty chunk length");
		unload(pf, &fb);
	}

	/* unknown-logical-type: a LogicalType member from the future */
	if ((pf = load(dir, "unknown-logical-type.parquet", &fb)) != NULL)
	{
		expect_leaf(pf, "column with known type", PQ_BYTE_ARRAY, 1, 0,
					"BYTE_ARRAY (STRING)");
		CHECK(PqFindPath(pf, "column with unknown type")->logical == PQL_OTHER,
			  "unknown logical type");
		unload(pf, &fb);
	}

	/* fixed_length_decimal: FLBA DECIMAL */
	if ((pf = load(dir, "fixed_length_decimal.parquet", &fb)) != NULL)
	{
		const PqSchemaNode *n = PqFindPath(pf, "value");

		CHECK(n && n->type == PQ_FIXED_LEN_BYTE_ARRAY && n->type_length > 0 &&
			  n->logical == PQL_DECIMAL, "fixed_length_decimal");
		unload(pf, &fb);
	}

	/* float16: FLOAT16 on FLBA(2) */
	if ((pf = load(dir, "float16_nonzeros_and_nans.parquet", &fb)) != NULL)
	{
		expect_leaf(pf, "x", PQ_FIXED_LEN_BYTE_ARRAY, 1, 0,
					"FIXED_LEN_BYTE_ARRAY(2) (FLOAT16)");
		unload(pf, &fb);
	}

	/* encryption: an encrypted footer is refused; a plaintext one flags */
	{
		char		path[4096];

		snprintf(path, sizeof(path), "%s/uniform_encryption.parquet.encrypted", dir);
		if (read_file(path, &fb))
		{
			int64_t		n;

			memset(&err, 0, sizeof(err));
			n = PqFooterLength(fb.data, fb.size, (int64_t) fb.size, &err);
			CHECK(n < 0 && strcmp(err.message, "unsupported: encrypted footer") == 0,
				  "encrypted footer: %s", err.message);
			free(fb.data);
		}
		else
			CHECK(false, "cannot read %s", path);
	}
	if ((pf = load(dir, "encrypt_columns_plaintext_footer.parquet.encrypted", &fb)) != NULL)
	{
		const PqSchemaNode *d = PqFindPath(pf, "double_field");
		const PqSchemaNode *f = PqFindPath(pf, "float_field");
		int			i;
		int			nenc = 0;

		CHECK(d && f, "plaintext footer columns");
		for (i = 0; i < pf->nleaves; i++)
			nenc += pf->row_groups[0].columns[i].encrypted;
		if (d && f)
			CHECK(pf->row_groups[0].columns[d->leaf_index].encrypted &&
				  pf->row_groups[0].columns[f->leaf_index].encrypted && nenc == 2,
				  "double_field and float_field encrypted (of %d)", nenc);
		unload(pf, &fb);
	}
}

/* ---------- part (c): truncated and corrupted footers ---------- */

static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
test_damage(const char *dir, const char *name, int ncorrupt)
{
	char		path[4096];
	FileBuf		fb;
	TelemError	err;
	int64_t		flen;
	const uint8_t *footer;
	uint8_t    *copy;
	size_t		n;
	int			i;
	int			parsed = 0;
	int			bad = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!read_file(path, &fb))
	{
		CHECK(false, "cannot read %s", path);
		return;
	}
	flen = PqFooterLength(fb.data, fb.size, (int64_t) fb.size, &err);
	CHECK(flen > 0, "%s footer", name);
	if (flen <= 0)
	{
		free(fb.data);
		return;
	}
	footer = fb.data + fb.size - PQ_TRAILER_SIZE - flen;

	/* every truncation, copied so valgrind sees reads past the end */
	for (n = 0; n < (size_t) flen; n++)
	{
		PqFile	   *pf;

		copy = malloc(n > 0 ? n : 1);
		memcpy(copy, footer, n);
		memset(&err, 0, sizeof(err));
		pf = PqParseFooter(copy, n, (int64_t) fb.size, &err);
		if (pf != NULL)
		{
			parsed++;
			if (!check_parsed(pf, &fb, (int64_t) n, false, name))
				bad++;
			PqFileFree(pf);
		}
		else if (err.message[0] == '\0')
			bad++;
		free(copy);
	}
	CHECK(bad == 0, "%s: %d bad results among truncations (%d parsed)", name, bad, parsed);

	/* single-byte corruptions */
	parsed = 0;
	bad = 0;
	copy = malloc((size_t) flen);
	for (i = 0; i < ncorrupt; i++)
	{
		PqFile	   *pf;
		size_t		pos = rng() % (size_t) flen;
		uint8_t		v;

		memcpy(copy, footer, (size_t) flen);
		switch (i % 4)
		{
			case 0:
				v = (uint8_t) rng();
				break;
			case 1:
				v = copy[pos] ^ (uint8_t) (1u << (rng() % 8));
				break;
			case 2:
				v = 0xff;
				break;
			default:
				v = 0x00;
				break;
		}
		copy[pos] = v;
		memset(&err, 0, sizeof(err));
		pf = PqParseFooter(copy, (size_t) flen, (int64_t) fb.size, &err);
		if (pf != NULL)
		{
			parsed++;
			if (!check_parsed(pf, &fb, flen, false, name))
				bad++;
			PqFileFree(pf);
		}
		else if (err.message[0] == '\0')
			bad++;
	}
	free(copy);
	CHECK(bad == 0, "%s: %d bad results among corruptions (%d parsed)", name, bad, parsed);
	printf("%s: %lld truncations, %d corruptions (%d still parse)\n", name,
		   (long long) flen, ncorrupt, parsed);

	/* the trailer: every truncation and corruption of the last 8 bytes */
	for (n = 0; n <= PQ_TRAILER_SIZE; n++)
	{
		memset(&err, 0, sizeof(err));
		flen = PqFooterLength(fb.data + fb.size - n, n, (int64_t) fb.size, &err);
		if (n < PQ_TRAILER_SIZE)
			CHECK(flen < 0 && err.message[0] != '\0', "short tail %zu", n);
	}
	copy = malloc(fb.size);
	for (i = 0; i < 8 * 8; i++)
	{
		int64_t		r;

		memcpy(copy, fb.data, fb.size);
		copy[fb.size - 8 + i / 8] ^= (uint8_t) (1u << (i % 8));
		memset(&err, 0, sizeof(err));
		r = PqFooterLength(copy, fb.size, (int64_t) fb.size, &err);
		CHECK(r < 0 || r <= (int64_t) fb.size - 12, "trailer flip %d", i);
	}
	free(copy);
	free(fb.data);
}

/* Hand-built footers for schema shapes the reference files lack. */
static void
test_bad_schemas(void)
{
	TelemError	err;
	PqFile	   *pf;

	/*
	 * FileMetaData { 1: version 1, 2: schema [root{name "r", num_children
	 * N}, leaf{type INT32, repetition R, name "x"}], 3: num_rows 0,
	 * 4: row_groups [] }
	 */
	{
		const uint8_t good[] = {
			0x15, 0x02,
			0x19, 0x2c,
			0x48, 0x01, 'r', 0x15, 0x02, 0x00,
			0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'x', 0x00,
			0x16, 0x00,
			0x19, 0x0c,
			0x00
		};
		uint8_t		b[sizeof(good)];

		memset(&err, 0, sizeof(err));
		pf = PqParseFooter(good, sizeof(good), 1000, &err);
		CHECK(pf != NULL && pf->nleaves == 1 && pf->nrow_groups == 0, "tiny footer: %s",
			  err.message);
		if (pf)
			CHECK_STREQ(pf->leaves[0]->path, "x", "tiny footer path");
		PqFileFree(pf);

		/* root claims 2 children, only one follows */
		memcpy(b, good, sizeof(b));
		b[8] = 0x04;
		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL && strstr(err.message, "children") != NULL, "too many children: %s",
			  err.message);

		/* root with num_children 0 */
		memcpy(b, good, sizeof(b));
		b[8] = 0x00;
		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL, "root with no children");

		/* negative num_children */
		memcpy(b, good, sizeof(b));
		b[8] = 0x01;
		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL, "negative children");

		/* leaf repetition 3 */
		memcpy(b, good, sizeof(b));
		b[13] = 0x06;
		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL && strstr(err.message, "repetition") != NULL, "bad repetition: %s",
			  err.message);

		/* physical type 9 */
		memcpy(b, good, sizeof(b));
		b[11] = 0x12;
		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL, "bad physical type");

		/* schema of 3 elements, the last one left over */
		memcpy(b, good, sizeof(b));
		b[3] = 0x3c;
		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL, "element count too large");
	}
	{
		/* repeated root */
		const uint8_t b[] = {
			0x15, 0x02,
			0x19, 0x2c,
			0x35, 0x04, 0x18, 0x01, 'r', 0x15, 0x02, 0x00,
			0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'x', 0x00,
			0x16, 0x00,
			0x19, 0x0c,
			0x00
		};

		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL && strstr(err.message, "repeated") != NULL, "repeated root: %s",
			  err.message);
	}
	{
		/* row group with 2 columns for 1 leaf */
		const uint8_t b[] = {
			0x15, 0x02,
			0x19, 0x2c,
			0x48, 0x01, 'r', 0x15, 0x02, 0x00,
			0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'x', 0x00,
			0x16, 0x00,
			0x19, 0x1c,
			0x19, 0x2c, 0x00, 0x00, 0x16, 0x00, 0x16, 0x00, 0x00,
			0x00
		};

		pf = PqParseFooter(b, sizeof(b), 1000, &err);
		CHECK(pf == NULL && strstr(err.message, "columns") != NULL, "column count: %s",
			  err.message);
	}
}

static const char *
find_data_dir(int argc, char **argv)
{
	static char buf[4096];
	static const char *const candidates[] = {
		"../shared/" DATA_SUBDIR,
		"../../../shared/" DATA_SUBDIR,
		"../../shared/" DATA_SUBDIR,
	};
	const char *env = getenv("TELEM_SHARED");
	struct stat st;
	size_t		i;

	if (argc > 1)
		return argv[1];
	if (env != NULL && env[0] != '\0')
	{
		snprintf(buf, sizeof(buf), "%s/%s", env, DATA_SUBDIR);
		return buf;
	}
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (stat(candidates[i], &st) == 0 && S_ISDIR(st.st_mode))
			return candidates[i];
	return candidates[0];
}

int
main(int argc, char **argv)
{
	const char *dir = find_data_dir(argc, argv);
	struct stat st;

	test_varints();
	test_fields();
	test_skip();
	test_page_headers();
	test_bad_schemas();

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
	{
		CHECK(false, "no parquet-testing data at %s (pass it as argv[1] or set TELEM_SHARED)",
			  dir);
		return unit_finish("test_parquet_meta");
	}
	walk_dir(dir, "");
	printf("%s: %d files parsed, %d refused as unsupported\n", dir, nfiles_parsed,
		   nfiles_refused);
	CHECK(nfiles_parsed >= 60, "only %d files parsed", nfiles_parsed);

	test_known_facts(dir);

	test_damage(dir, "alltypes_plain.parquet", 3000);
	test_damage(dir, "nested_maps.snappy.parquet", 3000);
	test_damage(dir, "binary_truncated_min_max.parquet", 2000);
	test_damage(dir, "encrypt_columns_plaintext_footer.parquet.encrypted", 1000);

	return unit_finish("test_parquet_meta");
}
