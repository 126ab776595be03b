/*-------------------------------------------------------------------------
 *
 * fuzz_number.c
 *		libFuzzer target: number_parse.c against strtod, strtof and strtoll.
 *
 * The whole input is one number's text, handed over without a NUL
 * terminator (so ASan sees any read past its end).  abort() when:
 *	- TelemParseDouble/TelemParseFloat accept text that is not a plain
 *	  decimal (a POSIX regex decides), or that strtod/strtof read as out of
 *	  range, or give other bits than strtod/strtof;
 *	- they refuse a plain decimal that strtod/strtof read in range;
 *	- TelemParseInt64/32/16 disagree with strtoll on PostgreSQL 15's int8in
 *	  syntax (white space, sign, digits, white space) or on range.
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_number.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/number_parse.h"

static regex_t decimal_re;
static regex_t integer_re;
static int	compiled;

static void
fail(const char *what, const char *text)
{
	fprintf(stderr, "fuzz_number: %s: \"%.200s\"\n", what, text);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	char	   *exact;
	char	   *end;
	bool		decimal,
				integer,
				ok;
	double		d,
				dw;
	float		f,
				fw;
	int64_t		v;
	int32_t		v32;
	int16_t		v16;
	long long	lw;
	int			err;

	if (!compiled)
	{
		if (regcomp(&decimal_re,
					"^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?$",
					REG_EXTENDED | REG_NOSUB) != 0 ||
			regcomp(&integer_re, "^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$",
					REG_EXTENDED | REG_NOSUB) != 0)
			abort();
		compiled = 1;
	}
	if (size > 4096)
		return 0;

	/* an exactly-sized copy, so that reading past size is caught */
	exact = malloc(size ? size : 1);
	memcpy(exact, data, size);
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	/* an embedded NUL makes the text no number for either side */
	decimal = strlen(text) == size && regexec(&decimal_re, text, 0, NULL, 0) == 0;
	integer = strlen(text) == size && regexec(&integer_re, text, 0, NULL, 0) == 0;

	errno = 0;
	dw = strtod(text, &end);
	err = errno;
	ok = TelemParseDouble(exact, size, &d);
	if (decimal && !(err == ERANGE && (dw == 0.0 || isinf(dw))))
	{
		if (!ok)
			fail("double refused", text);
		if (memcmp(&d, &dw, sizeof(d)) != 0)
			fail("double differs from strtod", text);
	}
	else if (ok)
		fail("double accepted", text);

	errno = 0;
	fw = strtof(text, &end);
	err = errno;
	ok = TelemParseFloat(exact, size, &f);
	if (decimal && !(err == ERANGE && (fw == 0.0f || isinf(fw))))
	{
		if (!ok)
			fail("float refused", text);
		if (memcmp(&f, &fw, sizeof(f)) != 0)
			fail("float differs from strtof", text);
	}
	else if (ok)
		fail("float accepted", text);

	errno = 0;
	lw = strtoll(text, &end, 10);
	err = errno;
	ok = TelemParseInt64(exact, size, &v);
	if (integer && err != ERANGE)
	{
		if (!ok || v != lw)
			fail("int64 differs from strtoll", text);
		if (TelemParseInt32(exact, size, &v32) !=
			(lw >= INT32_MIN && lw <= INT32_MAX))
			fail("int32 range", text);
		if (TelemParseInt16(exact, size, &v16) !=
			(lw >= INT16_MIN && lw <= INT16_MAX))
			fail("int16 range", text);
	}
	else if (ok || TelemParseInt32(exact, size, &v32) ||
			 TelemParseInt16(exact, size, &v16))
		fail("int accepted", text);

	free(text);
	free(exact);
	return 0;
}
