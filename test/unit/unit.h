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

static inline int
unit_finish(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	return unit_failed == 0 ? 0 : 1;
}

#endif							/* TELEM_UNIT_H */
