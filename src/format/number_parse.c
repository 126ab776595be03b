/*-------------------------------------------------------------------------
 *
 * number_parse.c
 *		Exact decimal-to-binary parsing of numbers, without the input
 *		functions and bit-identical to strtod/strtof.
 *
 * A decimal is first split into a sign, up to 19 significant digits w and
 * a power of ten q.  Then, in order:
 *
 *	1. Clinger's fast path: when w and 10^|q| are both exact in the
 *	   target type, one IEEE multiplication or division rounds correctly.
 *	2. Eisel-Lemire: w times a 128-bit truncation of 5^q (pow5_table.c)
 *	   brackets the exact product within 2 units of the last of its 128
 *	   bits.  Unless that bracket touches the halfway point between two
 *	   neighbouring binary values, the rounding is known.
 *	3. Everything else (more than 19 digits, near-halfway products, results
 *	   outside the normal range, a compiler without 128-bit integers) goes
 *	   to strtod/strtof on a NUL-terminated copy.
 *
 * IDENTIFICATION
 *		src/format/number_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include "format/number_parse.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Exponents beyond this are clamped; they are far outside any table. */
#define NP_EXP_CLAMP	100000000

/* A decimal as read: value = (neg ? -1 : 1) * w * 10^q when nsig <= 19. */
typedef struct NpDecimal
{
	bool		neg;
	uint64_t	w;				/* the first 19 significant digits */
	int			nsig;			/* significant digits (leading zeros not
								 * counted); above 19, w is not the value */
	int64_t		q;
} NpDecimal;

static inline bool
np_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* The white space isspace() sees in the C locale. */
static inline bool
np_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
		c == '\r';
}

static inline void
np_add_digit(NpDecimal *d, char c)
{
	unsigned	dig = (unsigned) (c - '0');

	if (d->nsig == 0 && dig == 0)
		return;					/* leading zero */
	if (d->nsig < 19)
		d->w = d->w * 10 + dig;
	if (d->nsig <= 19)
		d->nsig++;
}

/* Split s[0..len) into a decimal; false if it is not one (see the header). */
static bool
np_scan_decimal(const char *s, size_t len, NpDecimal *d)
{
	size_t		i = 0;
	size_t		ndigits = 0;
	int64_t		nfrac = 0;
	int64_t		exp10 = 0;

	d->neg = false;
	d->w = 0;
	d->nsig = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		d->neg = (s[i++] == '-');

	/* with at most 19 significant digits, w holds every digit read */
	for (; i < len && np_isdigit(s[i]); i++, ndigits++)
		np_add_digit(d, s[i]);
	if (i < len && s[i] == '.')
		for (i++; i < len && np_isdigit(s[i]); i++, ndigits++, nfrac++)
			np_add_digit(d, s[i]);
	if (ndigits == 0)
		return false;

	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		bool		eneg = false;
		size_t		start;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			eneg = (s[i++] == '-');
		start = i;
		for (; i < len && np_isdigit(s[i]); i++)
			if (exp10 < NP_EXP_CLAMP)
				exp10 = exp10 * 10 + (s[i] - '0');
		if (i == start)
			return false;		/* strtod would stop before the 'e' */
		if (eneg)
			exp10 = -exp10;
	}
	if (i != len)
		return false;

	d->q = exp10 - nfrac;
	return true;
}

#if defined(__SIZEOF_INT128__)
typedef unsigned __int128 np_u128;

/*
 * Eisel-Lemire: round w * 10^q (w != 0, q within the table) to a binary
 * value with mbits explicit mantissa bits and the given exponent bias.
 * Returns false when the rounding cannot be decided from 128 bits or the
 * result is not a normal number; otherwise the unsigned IEEE bits.
 *
 * T <= 5^q * 2^-e < T + 1, and w < 2^64, so with w shifted left until
 * bit 63 is set, the exact w * 5^q * 2^-e lies in [w*T, w*T + 2^64), and
 * the top 128 bits p of w*T (the low word of the second product
 * truncated) bracket it as [p, p + 2) in units of p's last bit.
 */
static bool
np_eisel_lemire(uint64_t w, int q, int mbits, int bias, int maxexp,
				uint64_t *bits)
{
	const uint64_t *t = TelemPow5Mant[q - TELEM_POW5_MIN];
	int			lz = __builtin_clzll(w);
	np_u128		p;
	np_u128		below;
	np_u128		half;
	int			upper;
	int			nbelow;
	uint64_t	m;
	int			biased;

	w <<= lz;
	p = (np_u128) w * t[0] + (((np_u128) w * t[1]) >> 64);

	/* p >= 2^126; keep mbits + 1 bits from its top bit down */
	upper = (int) (p >> 127);
	nbelow = 127 - (mbits + 1) + upper;
	below = p & ((((np_u128) 1) << nbelow) - 1);
	half = ((np_u128) 1) << (nbelow - 1);
	if (below == half || below == half - 1)
		return false;			/* [below, below + 2) touches the halfway point */

	m = (uint64_t) (p >> nbelow);
	/* value = m * 2^(nbelow + 64 + e + q - lz), m in [2^mbits, 2^(mbits+1)) */
	biased = nbelow + 64 + TelemPow5Exp[q - TELEM_POW5_MIN] + q - lz +
		bias + mbits;
	if (biased < 1)
		return false;			/* subnormal: rounds at another bit */
	if (below > half)
	{
		m++;
		if (m == (UINT64_C(1) << (mbits + 1)))
		{
			m >>= 1;
			biased++;
		}
	}
	if (biased > maxexp)
		return false;
	*bits = ((uint64_t) biased << mbits) | (m & ((UINT64_C(1) << mbits) - 1));
	return true;
}
#endif							/* __SIZEOF_INT128__ */

/* Copy s[0..len) into a NUL-terminated buffer: buf if it fits, else malloc. */
static char *
np_cstring(const char *s, size_t len, char *buf, size_t bufsize)
{
	char	   *c = len < bufsize ? buf : malloc(len + 1);

	if (c != NULL)
	{
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

static bool
np_slow_double(const char *s, size_t len, double *out)
{
	char		buf[128];
	char	   *c = np_cstring(s, len, buf, sizeof(buf));
	char	   *end;
	double		v;
	int			err;
	bool		whole;

	if (c == NULL)
		return false;
	errno = 0;
	v = strtod(c, &end);
	err = errno;
	whole = (end == c + len);
	if (c != buf)
		free(c);
	/* float8in's rule: ERANGE is an error only for zero or infinity */
	if (!whole || (err == ERANGE && (v == 0.0 || isinf(v))) || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static bool
np_slow_float(const char *s, size_t len, float *out)
{
	char		buf[128];
	char	   *c = np_cstring(s, len, buf, sizeof(buf));
	char	   *end;
	float		v;
	int			err;
	bool		whole;

	if (c == NULL)
		return false;
	errno = 0;
	v = strtof(c, &end);
	err = errno;
	whole = (end == c + len);
	if (c != buf)
		free(c);
	if (!whole || (err == ERANGE && (v == 0.0f || isinf(v))) || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static const double np_pow10_double[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static const float np_pow10_float[] = {
	1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f
};

/*
 * Parse s[0..len) as float8in would; see number_parse.h.  s need not be
 * NUL-terminated.
 */
bool
TelemParseDouble(const char *s, size_t len, double *out)
{
	NpDecimal	d;

	if (!np_scan_decimal(s, len, &d))
		return false;
	if (d.nsig == 0)
	{
		*out = d.neg ? -0.0 : 0.0;
		return true;
	}
	if (d.nsig <= 19)
	{
#if FLT_EVAL_METHOD == 0
		if (d.w <= (UINT64_C(1) << 53) && d.q >= -22 && d.q <= 22)
		{
			double		v = (double) d.w;

			v = d.q < 0 ? v / np_pow10_double[-d.q] : v * np_pow10_double[d.q];
			*out = d.neg ? -v : v;
			return true;
		}
#endif
#if defined(__SIZEOF_INT128__)
		if (d.q >= TELEM_POW5_MIN && d.q <= TELEM_POW5_MAX)
		{
			uint64_t	bits;

			if (np_eisel_lemire(d.w, (int) d.q, 52, 1023, 2046, &bits))
			{
				bits |= (uint64_t) d.neg << 63;
				memcpy(out, &bits, sizeof(*out));
				return true;
			}
		}
#endif
	}
	return np_slow_double(s, len, out);
}

/* Parse s[0..len) as float4in would (strtof, not strtod then rounding). */
bool
TelemParseFloat(const char *s, size_t len, float *out)
{
	NpDecimal	d;

	if (!np_scan_decimal(s, len, &d))
		return false;
	if (d.nsig == 0)
	{
		*out = d.neg ? -0.0f : 0.0f;
		return true;
	}
	if (d.nsig <= 19)
	{
#if FLT_EVAL_METHOD == 0
		if (d.w <= (UINT64_C(1) << 24) && d.q >= -10 && d.q <= 10)
		{
			float		v = (float) d.w;

			v = d.q < 0 ? v / np_pow10_float[-d.q] : v * np_pow10_float[d.q];
			*out = d.neg ? -v : v;
			return true;
		}
#endif
#if defined(__SIZEOF_INT128__)
		if (d.q >= TELEM_POW5_MIN && d.q <= TELEM_POW5_MAX)
		{
			uint64_t	bits;

			if (np_eisel_lemire(d.w, (int) d.q, 23, 127, 254, &bits))
			{
				uint32_t	fbits = (uint32_t) bits | ((uint32_t) d.neg << 31);

				memcpy(out, &fbits, sizeof(*out));
				return true;
			}
		}
#endif
	}
	return np_slow_float(s, len, out);
}

/*
 * Parse s[0..len) as int8in would in PostgreSQL 15; false on bad syntax
 * or overflow.
 */
bool
TelemParseInt64(const char *s, size_t len, int64_t *out)
{
	size_t		i = 0;
	size_t		start;
	bool		neg = false;
	uint64_t	v = 0;
	uint64_t	limit;

	while (i < len && np_isspace(s[i]))
		i++;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = (s[i++] == '-');
	limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	start = i;
	for (; i < len && np_isdigit(s[i]); i++)
	{
		unsigned	dig = (unsigned) (s[i] - '0');

		if (v > (limit - dig) / 10)
			return false;
		v = v * 10 + dig;
	}
	if (i == start)
		return false;
	while (i < len && np_isspace(s[i]))
		i++;
	if (i != len)
		return false;
	if (!neg)
		*out = (int64_t) v;
	else if (v == (uint64_t) INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t) v;
	return true;
}

bool
TelemParseInt32(const char *s, size_t len, int32_t *out)
{
	int64_t		v;

	if (!TelemParseInt64(s, len, &v) || v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t) v;
	return true;
}

bool
TelemParseInt16(const char *s, size_t len, int16_t *out)
{
	int64_t		v;

	if (!TelemParseInt64(s, len, &v) || v < INT16_MIN || v > INT16_MAX)
		return false;
	*out = (int16_t) v;
	return true;
}
