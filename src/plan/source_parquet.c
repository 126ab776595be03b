/*-------------------------------------------------------------------------
 *
 * source_parquet.c
 *		The Parquet schema source of IMPORT FOREIGN SCHEMA: the columns
 *		come from the sampled files' footers, not from their values.
 *
 * Each top-level field becomes a column of the type that holds it best
 * (TelemPqTypeFor): numeric(p,s) for a DECIMAL, timestamptz for a
 * TIMESTAMP adjusted to UTC, jsonb for a struct, list or map.  Fields
 * seen in later files only are added after the others, so files whose
 * schemas drift apart import as one table (the scan reads a field a file
 * lacks as NULL).
 *
 * IDENTIFICATION
 *		src/plan/source_parquet.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "format/parquet/parquet_pg.h"
#include "plan/infer.h"

typedef struct ParquetSource
{
	InferSet   *set;
	MemoryContext filecxt;		/* one footer at a time */
} ParquetSource;

static void *
parquet_begin(const InferOptions *opts, InferSet *set)
{
	ParquetSource *src = palloc0(sizeof(ParquetSource));

	(void) opts;
	src->set = set;
	set->allow_epoch = false;
	src->filecxt = AllocSetContextCreate(CurrentMemoryContext,
										 "telem_fdw import footer",
										 ALLOCSET_DEFAULT_SIZES);
	return src;
}

static void
parquet_sample(void *state, const SampleObject *so, int *rows_left)
{
	ParquetSource *src = (ParquetSource *) state;
	MemoryContext old = MemoryContextSwitchTo(src->filecxt);
	int64		bytes = 0;
	uint8	   *tail;
	int64		tail_start;
	PqFile	   *file;
	int			i;

	file = TelemPqReadFooter(so->store, so->object, so->url, &bytes, &tail,
							 &tail_start);
	for (i = 0; i < file->root->nchildren; i++)
	{
		const PqSchemaNode *n = file->root->children[i];
		char		type[64];

		TelemPqTypeFor(n, type, sizeof(type));
		/* the set's memory is its own: the strings are copied there */
		InferAddTyped(src->set, n->name, n->name,
					  MemoryContextStrdup(GetMemoryChunkContext(src->set), type));
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(src->filecxt);
	/* no records are read: sample_objects alone bounds the footers */
	(void) rows_left;
}

static void
parquet_finish(void *state)
{
	MemoryContextDelete(((ParquetSource *) state)->filecxt);
}

const SchemaSourceOps TelemParquetSource = {
	"parquet",
	false,
	parquet_begin,
	parquet_sample,
	parquet_finish
};
