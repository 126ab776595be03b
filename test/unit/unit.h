/*-------------------------------------------------------------------------
 *
 * unit.h
 *		A minimal assertion kit for the C unit tests (run without a server).
 *
 * Each test binary counts checks and ends with the line
 * "unit: N passed, N failed", exiting non-zero if any check failed.
 *
 * IDENTIFICATION
 *		test/unit/unit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_UNIT_H
#define TELEM_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	unit_passed;
static int	unit_failed;

#define CHECK(cond, ...) \
	do { \
		if (cond) \
			unit_passed++; \
		else \
		{ \
			unit_failed++; \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

#define CHECK_STREQ(got, want, label) \
	CHECK((got) != NULL && strcmp((got), (want)) == 0, \
		  "%s\n--- want ---\n%s\n--- got ---\n%s", (label), (want), \
		  (got) ? (got) : "(null)")

/* A growable byte buffer; running out of memory aborts the test. */
typedef struct UnitBuf
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
} UnitBuf;

static inline void
unit_buf_append(UnitBuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
			abort();
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void
unit_buf_free(UnitBuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static inline int
unit_finish(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}

#endif							/* TELEM_UNIT_H */
