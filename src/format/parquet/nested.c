/*-------------------------------------------------------------------------
 *
 * nested.c
 *		Record assembly: nested Parquet values as JSON text.
 *
 * The leaves of a subtree are decoded column by column (column.c) into
 * repetition and definition levels plus dense values.  This file walks the
 * schema below the requested node once per row and consumes level entries
 * from the leaves as it goes (the record assembly of the Dremel paper):
 *
 * - A node is present when the definition level of the first leaf under
 *	 it reaches the node's own max_def.  An absent optional node (or an
 *	 empty repeated one) has exactly one level entry in each of its leaves,
 *	 which is skipped.
 * - A repeated node's next element starts where the first leaf's
 *	 repetition level equals the node's max_rep; a lower one belongs to an
 *	 ancestor, a higher one was consumed by a repeated descendant.
 *
 * How groups map to JSON:
 * - LIST-annotated groups become arrays.  The repeated child is the list;
 *	 its element is, as LogicalTypes.md's backward-compatibility rules say,
 *	 the repeated field itself when it is a primitive, a group of several
 *	 fields, or a one-field group named "array" or "<list>_tuple" (the
 *	 legacy 2-level forms); otherwise its only child (the 3-level form).
 * - MAP-annotated groups (also legacy MAP_KEY_VALUE) become objects keyed
 *	 by the key's text (PqValueText, json = false).  An entry whose key is
 *	 null (non-conforming writers mark keys optional) is left out; a map
 *	 without a value field has null values.
 * - Other repeated fields become arrays, other groups objects of their
 *	 fields by name.
 *
 * Level disagreements between leaves (a corrupt file) are detected where
 * they matter: each level entry consumed must fit what the schema above
 * it says, every row must start at repetition level 0 in every leaf, and
 * every level and value of every leaf must be used exactly once.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/nested.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "pq_internal.h"

/* Deeper schemas than this are refused (recursion bound). */
#define PQ_NESTED_MAX_DEPTH		128

typedef struct NestedLeaf
{
	const PqSchemaNode *node;
	const int16_t *def;			/* NULL: always max_def (0) */
	const int16_t *rep;			/* NULL: always 0 */
	int64_t		nlevels;
	int64_t		pos;
	const uint8_t *values;
	size_t		vsize;
	int64_t		nvalues;
	int64_t		vpos;
} NestedLeaf;

typedef struct NestedCtx
{
	NestedLeaf *leaves;
	int			base;			/* leaf index of leaves[0] */
	int			nleaves;
	PqBuf	   *out;
	PqBuf		scratch;		/* map keys */
	TelemError *err;
	bool		failed;
	int			depth;
	const PqSchemaNode **chain; /* root's child .. target node */
	int			nchain;
	int64_t		row;
} NestedCtx;

typedef enum ElemKind
{
	ELEM_SELF,					/* each repetition is the node's own value */
	ELEM_CHILD,					/* ... the value of its only child */
	ELEM_CHAIN					/* ... the rest of the path to the target */
} ElemKind;

static void emit_field(NestedCtx *ctx, const PqSchemaNode *node);
static void emit_instance(NestedCtx *ctx, const PqSchemaNode *node);
static void emit_chain(NestedCtx *ctx, int i, bool at_top, bool *isnull);

static bool
fail(NestedCtx *ctx, const char *what)
{
	if (!ctx->failed)
		TelemSetError(ctx->err, TELEM_ERR_DATA,
					  "%s in row %lld of \"%s\"", what,
					  (long long) ctx->row,
					  ctx->chain[ctx->nchain - 1]->path);
	ctx->failed = true;
	return false;
}

static inline void
put(NestedCtx *ctx, const char *s, size_t n)
{
	PqBufAppend(ctx->out, s, n);
}

/* The leaves of node that are among ours: [*lo, *hi) into ctx->leaves. */
static void
leaf_range(const NestedCtx *ctx, const PqSchemaNode *node, int *lo, int *hi)
{
	int			a = node->first_leaf;
	int			b = node->first_leaf + node->nleaves;

	if (a < ctx->base)
		a = ctx->base;
	if (b > ctx->base + ctx->nleaves)
		b = ctx->base + ctx->nleaves;
	*lo = a - ctx->base;
	*hi = b > a ? b - ctx->base : *lo;
}

static inline int
leaf_def(const NestedLeaf *l)
{
	return l->def ? l->def[l->pos] : 0;
}

static inline int
leaf_rep(const NestedLeaf *l)
{
	return l->rep ? l->rep[l->pos] : 0;
}

/*
 * Definition level of the next entry of node's first leaf, or -1 (failed)
 * when that leaf has no entries left or node has no leaves.
 */
static int
first_def(NestedCtx *ctx, const PqSchemaNode *node)
{
	int			lo,
				hi;
	NestedLeaf *l;

	leaf_range(ctx, node, &lo, &hi);
	if (lo >= hi)
	{
		fail(ctx, "group without leaves");
		return -1;
	}
	l = &ctx->leaves[lo];
	if (l->pos >= l->nlevels)
	{
		fail(ctx, "levels end early");
		return -1;
	}
	return leaf_def(l);
}

/*
 * node is absent (null, or an empty repeated field) while its parent is
 * present: consume the one entry each of its leaves has for it.
 */
static void
skip(NestedCtx *ctx, const PqSchemaNode *node)
{
	int			lo,
				hi,
				i;
	int			min_def = node->parent ? node->parent->max_def : 0;

	leaf_range(ctx, node, &lo, &hi);
	for (i = lo; i < hi; i++)
	{
		NestedLeaf *l = &ctx->leaves[i];
		int			d;

		if (l->pos >= l->nlevels)
		{
			fail(ctx, "levels end early");
			return;
		}
		d = leaf_def(l);
		if (d < min_def || d >= node->max_def)
		{
			fail(ctx, "definition levels of the columns disagree");
			return;
		}
		l->pos++;
	}
}

static void
emit_leaf(NestedCtx *ctx, const PqSchemaNode *node)
{
	NestedLeaf *l = &ctx->leaves[node->first_leaf - ctx->base];

	if (l->pos >= l->nlevels)
	{
		fail(ctx, "levels end early");
		return;
	}
	if (leaf_def(l) != node->max_def)
	{
		fail(ctx, "definition levels of the columns disagree");
		return;
	}
	if (l->vpos >= l->nvalues)
	{
		fail(ctx, "more levels than values");
		return;
	}
	PqValueText(node, l->values + (size_t) l->vpos * l->vsize, true, ctx->out);
	l->vpos++;
	l->pos++;
}

/* Does another repetition of node follow (the first leaf says so)? */
static bool
repeats(NestedCtx *ctx, const PqSchemaNode *node)
{
	int			lo,
				hi,
				i;

	leaf_range(ctx, node, &lo, &hi);
	if (lo >= hi || ctx->leaves[lo].pos >= ctx->leaves[lo].nlevels ||
		leaf_rep(&ctx->leaves[lo]) != node->max_rep)
		return false;
	for (i = lo + 1; i < hi; i++)
	{
		NestedLeaf *l = &ctx->leaves[i];

		if (l->pos >= l->nlevels || leaf_rep(l) != node->max_rep)
			return fail(ctx, "repetition levels of the columns disagree");
	}
	return true;
}

/* A repeated node as a JSON array of its repetitions. */
static void
emit_repeated(NestedCtx *ctx, const PqSchemaNode *node, ElemKind kind,
			  int chain_next)
{
	int			d = first_def(ctx, node);
	bool		first = true;

	if (d < 0)
		return;
	put(ctx, "[", 1);
	if (d < node->max_def)
		skip(ctx, node);
	else
	{
		do
		{
			if (!first)
				put(ctx, ",", 1);
			first = false;
			if (kind == ELEM_SELF)
				emit_instance(ctx, node);
			else if (kind == ELEM_CHILD)
				emit_field(ctx, node->children[0]);
			else
				emit_chain(ctx, chain_next, false, NULL);
		} while (!ctx->failed && repeats(ctx, node));
	}
	put(ctx, "]", 1);
}

/* The text of the next key of a map entry; false when the key is null. */
static bool
map_key(NestedCtx *ctx, const PqSchemaNode *key)
{
	if (!key->is_group)
	{
		NestedLeaf *l = &ctx->leaves[key->first_leaf - ctx->base];
		int			d;

		if (l->pos >= l->nlevels)
			return fail(ctx, "levels end early");
		d = leaf_def(l);
		if (d != key->max_def)
		{
			skip(ctx, key);
			return false;
		}
		if (l->vpos >= l->nvalues)
			return fail(ctx, "more levels than values");
		ctx->scratch.len = 0;
		PqValueText(key, l->values + (size_t) l->vpos * l->vsize, false,
					&ctx->scratch);
		l->vpos++;
		l->pos++;
	}
	else
	{
		/* a group as key (not in the spec): its JSON text is the key */
		size_t		mark = ctx->out->len;

		emit_field(ctx, key);
		if (ctx->failed || ctx->out->oom)
			return false;
		ctx->scratch.len = 0;
		PqBufAppend(&ctx->scratch, ctx->out->data + mark,
					ctx->out->len - mark);
		ctx->out->len = mark;
		if (ctx->scratch.len == 4 && memcmp(ctx->scratch.data, "null", 4) == 0)
			return false;
	}
	if (ctx->scratch.oom)
	{
		ctx->out->oom = true;
		return false;
	}
	return true;
}

/*
 * The entries of a map: kv is the repeated key_value group (key first,
 * then the value if there is one; further fields are consumed and
 * dropped).
 */
static void
emit_map_entries(NestedCtx *ctx, const PqSchemaNode *kv)
{
	int			d = first_def(ctx, kv);
	bool		any = false;

	if (d < 0)
		return;
	put(ctx, "{", 1);
	if (d < kv->max_def)
		skip(ctx, kv);
	else
	{
		do
		{
			size_t		mark = ctx->out->len;
			bool		have_key;
			int			i;

			if (any)
				put(ctx, ",", 1);
			have_key = map_key(ctx, kv->children[0]);
			if (ctx->failed)
				return;
			if (have_key)
			{
				PqBufAppendJsonString(ctx->out, ctx->scratch.data,
									  ctx->scratch.len);
				put(ctx, ":", 1);
			}
			if (kv->nchildren >= 2)
				emit_field(ctx, kv->children[1]);
			else
				put(ctx, "null", 4);
			for (i = 2; i < kv->nchildren && !ctx->failed; i++)
			{
				size_t		m = ctx->out->len;

				emit_field(ctx, kv->children[i]);
				ctx->out->len = m;
			}
			if (have_key)
				any = true;
			else if (!ctx->out->oom)
				ctx->out->len = mark;
		} while (!ctx->failed && repeats(ctx, kv));
	}
	put(ctx, "}", 1);
}

/* A repeated group that reads as map entries: (key[, value, ...]). */
static bool
is_key_value(const PqSchemaNode *node)
{
	return node->is_group && node->repetition == PQ_REPEATED &&
		node->nchildren >= 1 && node->nchildren <= 2;
}

/* node's value where its parent is present. */
static void
emit_field(NestedCtx *ctx, const PqSchemaNode *node)
{
	if (node->repetition == PQ_REPEATED)
	{
		if (node->logical == PQL_MAP && is_key_value(node))
			emit_map_entries(ctx, node);
		else
			emit_repeated(ctx, node, ELEM_SELF, 0);
		return;
	}
	if (node->repetition == PQ_OPTIONAL)
	{
		int			d = first_def(ctx, node);

		if (d < 0)
			return;
		if (d < node->max_def)
		{
			skip(ctx, node);
			put(ctx, "null", 4);
			return;
		}
	}
	emit_instance(ctx, node);
}

/* One present instance of node (repeated or not) as a JSON value. */
static void
emit_instance(NestedCtx *ctx, const PqSchemaNode *node)
{
	int			i;

	if (!node->is_group)
	{
		emit_leaf(ctx, node);
		return;
	}
	if (++ctx->depth > PQ_NESTED_MAX_DEPTH)
	{
		fail(ctx, "schema nested too deeply");
		ctx->depth--;
		return;
	}

	/*
	 * The annotations apply to each instance, so also to a repeated node's
	 * (the legacy "repeated group array (LIST)" element of a list).
	 */
	if (node->logical == PQL_LIST && node->nchildren == 1 &&
		node->children[0]->repetition == PQ_REPEATED)
	{
		const PqSchemaNode *r = node->children[0];
		bool		self;

		if (!r->is_group || r->nchildren != 1)
			self = true;
		else
		{
			size_t		n = strlen(node->name);

			self = strcmp(r->name, "array") == 0 ||
				(strncmp(r->name, node->name, n) == 0 &&
				 strcmp(r->name + n, "_tuple") == 0);
		}
		emit_repeated(ctx, r, self ? ELEM_SELF : ELEM_CHILD, 0);
	}
	else if (node->logical == PQL_MAP && node->nchildren == 1 &&
			 is_key_value(node->children[0]))
		emit_map_entries(ctx, node->children[0]);
	else
	{
		put(ctx, "{", 1);
		for (i = 0; i < node->nchildren && !ctx->failed; i++)
		{
			if (i > 0)
				put(ctx, ",", 1);
			PqBufAppendJsonString(ctx->out, node->children[i]->name,
								  strlen(node->children[i]->name));
			put(ctx, ":", 1);
			emit_field(ctx, node->children[i]);
		}
		put(ctx, "}", 1);
	}
	ctx->depth--;
}

/*
 * The path from the root's child chain[i] down to the target node: the
 * ancestors only pass their presence on (an absent one is null, or the
 * row's null when nothing repeated lies above it), repeated ones make
 * arrays of what lies below.
 */
static void
emit_chain(NestedCtx *ctx, int i, bool at_top, bool *isnull)
{
	const PqSchemaNode *a = ctx->chain[i];
	bool		last = (i == ctx->nchain - 1);

	if (a->repetition == PQ_REPEATED)
	{
		if (last)
			emit_field(ctx, a);
		else
			emit_repeated(ctx, a, ELEM_CHAIN, i + 1);
		return;
	}
	if (a->repetition == PQ_OPTIONAL)
	{
		int			d = first_def(ctx, a);

		if (d < 0)
			return;
		if (d < a->max_def)
		{
			skip(ctx, a);
			if (at_top)
				*isnull = true;
			else
				put(ctx, "null", 4);
			return;
		}
	}
	if (last)
		emit_instance(ctx, a);
	else
		emit_chain(ctx, i + 1, at_top, isnull);
}

bool
PqAssembleJson(const PqSchemaNode *node, PqColumnData **cols,
			   int64_t nrows, PqJsonRows *out, TelemError *err)
{
	NestedCtx	ctx;
	const PqSchemaNode *n;
	int			i;
	int64_t		r;

	memset(out, 0, sizeof(*out));
	memset(&ctx, 0, sizeof(ctx));
	ctx.err = err;
	ctx.out = &out->text;

	if (node->parent == NULL)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "cannot assemble the schema root as one value");
	if (node->nleaves <= 0)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "unsupported: group \"%s\" has no columns",
							 node->path);
	if (nrows < 0)
		return TelemSetError(err, TELEM_ERR_DATA, "negative row count");

	/* the path from below the root to node */
	for (n = node; n->parent != NULL; n = n->parent)
		ctx.nchain++;
	if (ctx.nchain > PQ_NESTED_MAX_DEPTH)
		return TelemSetError(err, TELEM_ERR_DATA,
							 "schema nested too deeply at \"%s\"", node->path);
	ctx.chain = malloc(sizeof(*ctx.chain) * ctx.nchain);
	ctx.leaves = calloc(node->nleaves, sizeof(NestedLeaf));
	if (ctx.chain == NULL || ctx.leaves == NULL)
		goto oom;
	i = ctx.nchain;
	for (n = node; n->parent != NULL; n = n->parent)
		ctx.chain[--i] = n;

	ctx.base = node->first_leaf;
	ctx.nleaves = node->nleaves;
	for (i = 0; i < node->nleaves; i++)
	{
		const PqColumnData *c = cols[i];
		NestedLeaf *l = &ctx.leaves[i];

		if (c == NULL || c->leaf == NULL ||
			c->leaf->first_leaf != node->first_leaf + i ||
			c->nlevels < 0 || c->nvalues < 0 || c->nvalues > c->nlevels ||
			(c->leaf->max_def > 0 && c->def == NULL && c->nlevels > 0) ||
			(c->leaf->max_rep > 0 && c->rep == NULL && c->nlevels > 0))
		{
			TelemSetError(err, TELEM_ERR_DATA,
						  "column %d of \"%s\" is not the decoded leaf expected",
						  i, node->path);
			goto fail;
		}
		l->node = c->leaf;
		l->def = c->leaf->max_def > 0 ? c->def : NULL;
		l->rep = c->leaf->max_rep > 0 ? c->rep : NULL;
		l->nlevels = c->nlevels;
		l->values = c->values;
		l->vsize = PqValueSize(c->leaf->type);
		l->nvalues = c->nvalues;
		/* every row has at least one entry in every leaf */
		if (c->nlevels < nrows)
		{
			TelemSetError(err, TELEM_ERR_DATA,
						  "column \"%s\" has %lld levels for %lld rows",
						  c->leaf->path, (long long) c->nlevels,
						  (long long) nrows);
			goto fail;
		}
	}

	out->nrows = nrows;
	out->offsets = malloc(sizeof(size_t) * (size_t) (nrows + 1));
	out->isnull = malloc(nrows > 0 ? (size_t) nrows : 1);
	if (out->offsets == NULL || out->isnull == NULL)
		goto oom;

	for (r = 0; r < nrows; r++)
	{
		bool		isnull = false;

		ctx.row = r;
		out->offsets[r] = out->text.len;
		for (i = 0; i < ctx.nleaves; i++)
		{
			NestedLeaf *l = &ctx.leaves[i];

			if (l->pos >= l->nlevels)
			{
				fail(&ctx, "levels end early");
				break;
			}
			if (leaf_rep(l) != 0)
			{
				fail(&ctx, "repetition levels of the columns disagree");
				break;
			}
		}
		if (!ctx.failed)
			emit_chain(&ctx, 0, true, &isnull);
		if (ctx.failed)
			goto fail;
		if (out->text.oom || ctx.scratch.oom)
			goto oom;
		out->isnull[r] = isnull;
	}
	out->offsets[nrows] = out->text.len;

	ctx.row = nrows;
	for (i = 0; i < ctx.nleaves; i++)
	{
		NestedLeaf *l = &ctx.leaves[i];

		if (l->pos != l->nlevels || l->vpos != l->nvalues)
		{
			TelemSetError(err, TELEM_ERR_DATA,
						  "column \"%s\" has %lld levels and %lld values, "
						  "%lld and %lld used by %lld rows",
						  l->node->path, (long long) l->nlevels,
						  (long long) l->nvalues, (long long) l->pos,
						  (long long) l->vpos, (long long) nrows);
			goto fail;
		}
	}
	free(ctx.chain);
	free(ctx.leaves);
	PqBufFree(&ctx.scratch);
	return true;

oom:
	TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
				  "out of memory assembling \"%s\"", node->path);
fail:
	free(ctx.chain);
	free(ctx.leaves);
	PqBufFree(&ctx.scratch);
	PqJsonRowsFree(out);
	return false;
}

void
PqJsonRowsFree(PqJsonRows *rows)
{
	if (rows == NULL)
		return;
	PqBufFree(&rows->text);
	free(rows->offsets);
	free(rows->isnull);
	rows->offsets = NULL;
	rows->isnull = NULL;
	rows->nrows = 0;
}
