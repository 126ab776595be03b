/*-------------------------------------------------------------------------
 *
 * fuzz_parquet_page.c
 *		libFuzzer target for the Parquet page path: column.c, encoding.c,
 *		page_codec.c, value_text.c and nested.c, behind the footer parser.
 *
 * The input is a whole (small) Parquet file.  Its footer is parsed; every
 * column chunk of every row group is decoded (CRCs not checked, so that
 * mutations reach the decoders); every value is turned into text both
 * ways; and every top-level field is assembled as JSON.  Errors are
 * expected; crashes, leaks and undefined behaviour are what we look for.
 *
 * Files whose footer declares more than FUZZ_MAX_VALUES values or rows in
 * a row group are skipped: the reader bounds its memory by those counts
 * (an RLE run can legitimately describe a billion nulls in six bytes), so
 * a mutated count would only measure the fuzzer's RSS limit.
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_parquet_page.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/pq_internal.h"

#define FUZZ_MAX_VALUES		(1 << 20)

static void
values_as_text(const PqColumnData *d, PqBuf *b)
{
	size_t		vsize = PqValueSize(d->leaf->type);
	int64_t		i;

	for (i = 0; i < d->nvalues; i++)
	{
		b->len = 0;
		PqValueText(d->leaf, (const uint8_t *) d->values + vsize * i, false, b);
		b->len = 0;
		PqValueText(d->leaf, (const uint8_t *) d->values + vsize * i, true, b);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TelemError	err = {0};
	int64_t		flen;
	PqFile	   *pf;
	PqColumnData **cols;
	PqBuf		text = {0};
	int			rg,
				i;

	flen = PqFooterLength(data, size, (int64_t) size, &err);
	if (flen < 0)
		return 0;
	pf = PqParseFooter(data + size - PQ_TRAILER_SIZE - flen, (size_t) flen,
					   (int64_t) size, &err);
	if (pf == NULL)
		return 0;
	for (rg = 0; rg < pf->nrow_groups; rg++)
	{
		if (pf->row_groups[rg].num_rows > FUZZ_MAX_VALUES)
			goto done;
		for (i = 0; i < pf->nleaves; i++)
			if (pf->row_groups[rg].columns[i].num_values > FUZZ_MAX_VALUES)
				goto done;
	}

	cols = calloc(pf->nleaves > 0 ? pf->nleaves : 1, sizeof(PqColumnData *));
	for (rg = 0; rg < pf->nrow_groups; rg++)
	{
		for (i = 0; i < pf->nleaves; i++)
		{
			const PqColumnChunk *cc = &pf->row_groups[rg].columns[i];

			cols[i] = PqDecodeChunk(pf, rg, i, data + cc->start,
									(size_t) cc->length, false, &err);
			if (cols[i] != NULL)
				values_as_text(cols[i], &text);
		}
		for (i = 0; i < pf->root->nchildren; i++)
		{
			const PqSchemaNode *top = pf->root->children[i];
			PqJsonRows	rows;
			int			k;
			bool		all = true;

			for (k = 0; k < top->nleaves; k++)
				all &= cols[top->first_leaf + k] != NULL;
			if (all &&
				PqAssembleJson(top, cols + top->first_leaf,
							   pf->row_groups[rg].num_rows, &rows, &err))
				PqJsonRowsFree(&rows);
		}
		for (i = 0; i < pf->nleaves; i++)
		{
			PqColumnDataFree(cols[i]);
			cols[i] = NULL;
		}
	}
	free(cols);
done:
	PqBufFree(&text);
	PqFileFree(pf);
	return 0;
}
