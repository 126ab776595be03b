/*-------------------------------------------------------------------------
 *
 * fuzz_parquet_footer.c
 *		libFuzzer target for the Parquet footer and page header parsers.
 *
 * The input is taken as a footer body (FileMetaData, without the trailer)
 * of a file 1000 bytes longer, so chunk ranges have room to be valid.  If
 * it parses, every node of the schema is described and looked up by its
 * path, and the tree's invariants are checked (abort on a violation, so
 * libFuzzer reports it):
 *
 * - leaves[i] is a leaf with leaf_index i; groups' [first_leaf, +nleaves)
 *	 ranges nest and add up;
 * - levels never decrease from a parent to a child;
 * - every chunk lies inside [4, file_size - 8 - footer), or is empty;
 * - PqFindPath(path) finds a node with that path.
 *
 * The same bytes are also parsed as a page header.  Seeds in
 * corpus/fuzz_parquet_footer/ are the footers of a few small reference
 * files.
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_parquet_footer.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/pq_internal.h"

/*
 * Check node and its subtree.  reachable: no node on the way here has an
 * earlier sibling of the same name, which PqFindPath would find instead
 * (a file may repeat a field name; the first one wins).
 */
static void
walk(const PqFile *file, const PqSchemaNode *node, bool reachable)
{
	char		desc[256];
	const PqSchemaNode *found;
	int			leaves = 0;
	int			i;

	PqDescribeNode(node, desc, sizeof(desc));
	if (desc[0] == '\0')
		abort();
	found = PqFindPath(file, node->path);
	if (reachable && (found == NULL || strcmp(found->path, node->path) != 0))
		abort();
	if (node->parent != NULL &&
		(node->max_def < node->parent->max_def || node->max_rep < node->parent->max_rep))
		abort();
	if (!node->is_group)
	{
		if (node->leaf_index < 0 || node->leaf_index >= file->nleaves ||
			file->leaves[node->leaf_index] != node || node->nleaves != 1)
			abort();
		(void) PqTypeName(node->type);
		return;
	}
	for (i = 0; i < node->nchildren; i++)
	{
		bool		unique = reachable;
		int			j;

		if (node->children[i]->parent != node ||
			node->children[i]->first_leaf != node->first_leaf + leaves)
			abort();
		for (j = 0; j < i && unique; j++)
			if (strcmp(node->children[j]->name, node->children[i]->name) == 0)
				unique = false;
		walk(file, node->children[i], unique);
		leaves += node->children[i]->nleaves;
	}
	if (leaves != node->nleaves || node->nchildren < 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TelemError	err;
	PqFile	   *file;
	PqPageHeader h;
	size_t		hl;
	int64_t		file_size = (int64_t) size + 1000;
	int64_t		limit = file_size - PQ_TRAILER_SIZE - (int64_t) size;

	memset(&err, 0, sizeof(err));
	file = PqParseFooter(data, size, file_size, &err);
	if (file != NULL)
	{
		int			rg;
		int			i;

		walk(file, file->root, true);
		if (file->root->nleaves != file->nleaves || file->nleaves < 1)
			abort();
		for (rg = 0; rg < file->nrow_groups; rg++)
		{
			for (i = 0; i < file->nleaves; i++)
			{
				const PqColumnChunk *cc = &file->row_groups[rg].columns[i];
				const PqStatistics *st = &cc->stats;
				volatile uint8_t sink = 0;

				(void) PqCodecName(cc->codec);
				if (cc->length != 0 &&
					(cc->start < 4 || cc->length < 0 || cc->start + cc->length > limit))
					abort();
				/* touch the copied statistics (ASan checks the reads) */
				if (st->has_min && st->min.len > 0)
					sink ^= st->min.ptr[st->min.len - 1];
				if (st->has_max && st->max.len > 0)
					sink ^= st->max.ptr[st->max.len - 1];
				(void) sink;
			}
		}
		for (i = 0; i < file->nkv; i++)
			if (file->kv[i].key == NULL || strlen(file->kv[i].key) > size)
				abort();
		PqFileFree(file);
	}
	else if (err.message[0] == '\0')
		abort();

	memset(&err, 0, sizeof(err));
	if (PqParsePageHeader(data, size, &h, &hl, &err))
	{
		if (hl > size || h.compressed_size < 0 || h.uncompressed_size < 0)
			abort();
	}
	else if (err.message[0] == '\0')
		abort();
	return 0;
}
