/*-------------------------------------------------------------------------
 *
 * arena.c
 *		Bump allocation in malloc'd blocks, all freed at once.
 *
 * The footer's tree, a chunk's decoded values and the strings they point
 * at all live and die together, so one arena per PqFile or PqColumnData
 * replaces thousands of small mallocs and frees.  Small requests are carved
 * from 64 KB blocks; a request larger than a quarter block gets a block of
 * its own, so a big value never wastes the rest of a shared block.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/arena.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "pq_internal.h"

#define ARENA_BLOCK_SIZE	(64 * 1024)
#define ARENA_BIG_REQUEST	(ARENA_BLOCK_SIZE / 4)
#define ARENA_ALIGN			8

typedef struct PqArenaBlock
{
	struct PqArenaBlock *next;
	size_t		size;			/* usable bytes after the header */
	size_t		used;
	/* keeps data 8-byte aligned whatever the header's size */
	uint64_t	data[];
} PqArenaBlock;

struct PqArena
{
	PqArenaBlock *current;		/* small requests are carved from here */
	PqArenaBlock *blocks;		/* every block, current included */
};

static PqArenaBlock *
arena_new_block(PqArena *arena, size_t size)
{
	PqArenaBlock *b = malloc(offsetof(PqArenaBlock, data) + size);

	if (b == NULL)
		return NULL;
	b->size = size;
	b->used = 0;
	b->next = arena->blocks;
	arena->blocks = b;
	return b;
}

PqArena *
PqArenaCreate(void)
{
	PqArena    *arena = malloc(sizeof(PqArena));

	if (arena == NULL)
		return NULL;
	arena->current = NULL;
	arena->blocks = NULL;
	return arena;
}

/*
 * size bytes, 8-byte aligned, valid until PqArenaFree.  NULL when out of
 * memory or size > PQ_MAX_PAGE_SIZE.  A zero size gives a valid pointer.
 */
void *
PqArenaAlloc(PqArena *arena, size_t size)
{
	PqArenaBlock *b;
	size_t		rounded;
	void	   *p;

	if (arena == NULL || size > PQ_MAX_PAGE_SIZE)
		return NULL;
	rounded = (size + (ARENA_ALIGN - 1)) & ~(size_t) (ARENA_ALIGN - 1);
	if (rounded == 0)
		rounded = ARENA_ALIGN;

	if (rounded > ARENA_BIG_REQUEST)
	{
		/* its own block; the current one keeps serving small requests */
		b = arena_new_block(arena, rounded);
		if (b == NULL)
			return NULL;
		b->used = rounded;
		return b->data;
	}

	b = arena->current;
	if (b == NULL || b->size - b->used < rounded)
	{
		b = arena_new_block(arena, ARENA_BLOCK_SIZE);
		if (b == NULL)
			return NULL;
		arena->current = b;
	}
	p = (char *) b->data + b->used;
	b->used += rounded;
	return p;
}

/* A NUL-terminated copy of s[0..n) (s need not be terminated). */
char *
PqArenaStrndup(PqArena *arena, const char *s, size_t n)
{
	char	   *p;

	if (n >= PQ_MAX_PAGE_SIZE)
		return NULL;
	p = PqArenaAlloc(arena, n + 1);
	if (p == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
PqArenaFree(PqArena *arena)
{
	PqArenaBlock *b;

	if (arena == NULL)
		return;
	b = arena->blocks;
	while (b != NULL)
	{
		PqArenaBlock *next = b->next;

		free(b);
		b = next;
	}
	free(arena);
}
