/*-------------------------------------------------------------------------
 *
 * value_text.c
 *		Text and JSON forms of decoded Parquet values.
 *
 * Every form is what PostgreSQL's input function for the natural target
 * type reads back exactly:
 *
 * - integers in decimal, unsigned INTEGER annotations as unsigned;
 * - DECIMAL as exact digits with the scale's decimal point, from INT32,
 *	 INT64 or a big-endian two's complement byte string of any length
 *	 (strings whose significant part exceeds PQ_DECIMAL_MAX_BYTES bytes,
 *	 which no writer produces, fall back to bytea hex);
 * - FLOAT and DOUBLE as the shortest text that reads back to the same
 *	 value ("0.1", not "0.10000000000000001"), FLOAT16 as the shortest
 *	 text that reads back to the same half-precision value;
 * - DATE, TIME, TIMESTAMP in ISO form; years before 1 are written with
 *	 PostgreSQL's " BC" suffix; fractions of a second are trimmed of
 *	 trailing zeros; nanoseconds are floored to microseconds;
 * - INT96 as a UTC timestamp (Julian day 2440588 is 1970-01-01), summed
 *	 in microseconds as Spark does (see PqValueText);
 * - INTERVAL (FLBA(12): months, days, milliseconds) as "1 mons 2 days
 *	 00:00:00.003";
 * - UUID as 8-4-4-4-12 lower-case hex;
 * - STRING, ENUM and JSON byte arrays as they are; other byte arrays
 *	 (BSON, unannotated) as bytea hex, "\x0a1b".
 *
 * In json mode, numbers are bare JSON numbers (NaN and the infinities,
 * which JSON lacks, become the strings "NaN", "Infinity", "-Infinity");
 * booleans are true/false; everything else is a JSON string holding the
 * text above.  A JSON-annotated byte array is also a string (embedding it
 * raw would make the whole document invalid when the value is).  String
 * escaping follows RFC 8259: '"' and '\' escaped, control characters as
 * \n, \t, ... or \u00XX.  Bytes that are not valid UTF-8 become U+FFFD in
 * json mode, so the result is always valid UTF-8 JSON; text mode passes
 * strings through untouched (the caller checks the encoding).
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/format/parquet/value_text.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pq_internal.h"

/* Longest significant part of a DECIMAL byte string we turn into digits. */
#define PQ_DECIMAL_MAX_BYTES	128
/* Largest |scale| we honour; beyond it the value is printed unscaled. */
#define PQ_DECIMAL_MAX_SCALE	1000

#define USECS_PER_DAY	INT64_C(86400000000)
#define UNIX_EPOCH_JULIAN_DAY	2440588

static const char hex_digits[] = "0123456789abcdef";


/* ---- PqBuf ---- */

/*
 * Make room for n more bytes; returns where they go, or NULL (oom set).
 */
static char *
buf_reserve(PqBuf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->data == NULL || n > b->cap - b->len)
	{
		size_t		need = b->len + n;
		size_t		cap = b->cap ? b->cap : 256;
		char	   *p;

		if (need < b->len)
		{
			b->oom = true;
			return NULL;
		}
		while (cap < need)
		{
			if (cap > SIZE_MAX / 2)
			{
				cap = need;
				break;
			}
			cap *= 2;
		}
		p = realloc(b->data, cap);
		if (p == NULL)
		{
			b->oom = true;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	return b->data + b->len;
}

void
PqBufAppend(PqBuf *b, const char *s, size_t n)
{
	char	   *p = buf_reserve(b, n);

	if (p == NULL)
		return;
	if (n > 0)
		memcpy(p, s, n);
	b->len += n;
}

void
PqBufFree(PqBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->oom = false;
}

static inline void
buf_putc(PqBuf *b, char c)
{
	char	   *p = buf_reserve(b, 1);

	if (p == NULL)
		return;
	*p = c;
	b->len++;
}

static inline void
buf_puts(PqBuf *b, const char *s)
{
	PqBufAppend(b, s, strlen(s));
}


/* ---- integers ---- */

/* Digits of v into the end of tmp (which holds 20); returns the start. */
static char *
u64_digits(uint64_t v, char *end)
{
	char	   *p = end;

	do
	{
		*--p = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

static void
buf_u64(PqBuf *b, uint64_t v)
{
	char		tmp[20];
	char	   *p = u64_digits(v, tmp + sizeof(tmp));

	PqBufAppend(b, p, tmp + sizeof(tmp) - p);
}

static void
buf_i64(PqBuf *b, int64_t v)
{
	if (v < 0)
	{
		buf_putc(b, '-');
		buf_u64(b, (uint64_t) 0 - (uint64_t) v);
	}
	else
		buf_u64(b, (uint64_t) v);
}

/* v as exactly width digits, zero-padded (v < 10^width). */
static void
buf_padded(PqBuf *b, uint64_t v, int width)
{
	char		tmp[20];
	int			i;

	for (i = width - 1; i >= 0; i--)
	{
		tmp[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	PqBufAppend(b, tmp, width);
}


/* ---- JSON strings ---- */

/*
 * Length of the valid UTF-8 sequence at s[0..n), or 0 if the bytes there
 * are not one (overlong forms, surrogates and code points past U+10FFFF
 * are invalid).
 */
static int
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF)
	{
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;			/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;			/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4)
	{
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
			(s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;			/* overlong */
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;			/* past U+10FFFF */
		return 4;
	}
	return 0;
}

/*
 * Append s[0..n) as the body of a JSON string (no quotes): RFC 8259
 * escapes, invalid UTF-8 replaced by U+FFFD, one per bad byte.
 */
static void
json_escape_body(PqBuf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		i = 0;
	size_t		run = 0;		/* start of bytes to copy as they are */

	while (i < n)
	{
		unsigned char c = s[i];
		int			len;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
		{
			i++;
			continue;
		}
		if (c >= 0x80)
		{
			len = utf8_seq_len(s + i, n - i);
			if (len > 0)
			{
				i += len;
				continue;
			}
		}
		PqBufAppend(b, (const char *) s + run, i - run);
		switch (c)
		{
			case '"':
				PqBufAppend(b, "\\\"", 2);
				break;
			case '\\':
				PqBufAppend(b, "\\\\", 2);
				break;
			case '\b':
				PqBufAppend(b, "\\b", 2);
				break;
			case '\f':
				PqBufAppend(b, "\\f", 2);
				break;
			case '\n':
				PqBufAppend(b, "\\n", 2);
				break;
			case '\r':
				PqBufAppend(b, "\\r", 2);
				break;
			case '\t':
				PqBufAppend(b, "\\t", 2);
				break;
			default:
				if (c < 0x20)
				{
					char		esc[6] = {'\\', 'u', '0', '0',
						hex_digits[c >> 4], hex_digits[c & 15]};

					PqBufAppend(b, esc, 6);
				}
				else
					PqBufAppend(b, "\xEF\xBF\xBD", 3);	/* U+FFFD */
				break;
		}
		i++;
		run = i;
	}
	PqBufAppend(b, (const char *) s + run, n - run);
}

/*
 * Append s[0..n) as a quoted JSON string.  Declared in pq_internal.h for
 * nested.c (map keys).
 */
void
PqBufAppendJsonString(PqBuf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	json_escape_body(b, s, n);
	buf_putc(b, '"');
}


/* ---- floating point ---- */

/* Shortest %.Ng (N in [lo, 17]) of v that strtod reads back exactly. */
static void
buf_double(PqBuf *b, double v, bool json)
{
	char		tmp[40];
	int			prec;

	if (isnan(v))
	{
		buf_puts(b, json ? "\"NaN\"" : "NaN");
		return;
	}
	if (isinf(v))
	{
		if (v > 0)
			buf_puts(b, json ? "\"Infinity\"" : "Infinity");
		else
			buf_puts(b, json ? "\"-Infinity\"" : "-Infinity");
		return;
	}
	for (prec = 15; prec < 17; prec++)
	{
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	buf_puts(b, tmp);
}

static void
buf_float(PqBuf *b, float v, bool json)
{
	char		tmp[40];
	int			prec;

	if (isnan(v) || isinf(v))
	{
		buf_double(b, v, json);
		return;
	}
	for (prec = 6; prec < 9; prec++)
	{
		snprintf(tmp, sizeof(tmp), "%.*g", prec, (double) v);
		if (strtof(tmp, NULL) == v)
			break;
	}
	if (prec == 9)
		snprintf(tmp, sizeof(tmp), "%.9g", (double) v);
	buf_puts(b, tmp);
}

/* IEEE half-precision bits to double (exact). */
static double
half_to_double(uint16_t h)
{
	int			exp = (h >> 10) & 0x1F;
	int			mant = h & 0x3FF;
	double		v;

	if (exp == 0)
		v = ldexp((double) mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexp((double) (mant | 0x400), exp - 25);
	return (h & 0x8000) ? -v : v;
}

/* double to IEEE half bits, rounding to nearest even (finite input). */
static uint16_t
double_to_half(double d)
{
	uint16_t	sign = signbit(d) ? 0x8000 : 0;
	double		a = fabs(d);
	int			e;
	double		q;

	if (a >= 65520.0)
		return sign | 0x7C00;
	if (a < ldexp(1.0, -14))
	{
		/* subnormal (q == 1024 rolls into the smallest normal) */
		q = nearbyint(ldexp(a, 24));
		return sign | (uint16_t) q;
	}
	frexp(a, &e);
	e -= 1;						/* a in [2^e, 2^(e+1)) */
	q = nearbyint(ldexp(a, 10 - e));	/* in [1024, 2048] */
	if (q >= 2048.0)
	{
		q = 1024.0;
		e++;
	}
	if (e + 15 >= 31)
		return sign | 0x7C00;
	return sign | (uint16_t) ((e + 15) << 10) | (uint16_t) ((int) q - 1024);
}

static void
buf_half(PqBuf *b, uint16_t h, bool json)
{
	double		v = half_to_double(h);
	char		tmp[40];
	int			prec;

	if (isnan(v) || isinf(v))
	{
		buf_double(b, v, json);
		return;
	}
	for (prec = 1; prec < 5; prec++)
	{
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (double_to_half(strtod(tmp, NULL)) == h)
			break;
	}
	if (prec == 5)
		snprintf(tmp, sizeof(tmp), "%.5g", v);
	/* every half from 2048 up is an integer: "65504", not "6.55e+04" */
	if (strchr(tmp, 'e') != NULL && fabs(v) >= 1.0)
		snprintf(tmp, sizeof(tmp), "%.0f", v);
	buf_puts(b, tmp);
}


/* ---- dates and times ---- */

/*
 * Civil date from days since 1970-01-01 (proleptic Gregorian), for any
 * int64 day count whose year fits an int64.  Works in 400-year eras of
 * 146097 days, counting from March so that leap days fall at an era's
 * year's end.
 */
static void
civil_from_days(int64_t z, int64_t *year, int *month, int *day)
{
	int64_t		era;
	int64_t		doe;			/* day of era, [0, 146096] */
	int64_t		yoe;			/* year of era, [0, 399] */
	int64_t		doy;			/* day of year from March 1, [0, 365] */
	int64_t		mp;

	z += 719468;				/* days from 0000-03-01 */
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (int) (doy - (153 * mp + 2) / 5 + 1);
	*month = (int) (mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

/* "YYYY-MM-DD" (no BC suffix; the caller adds it after any time part). */
static bool
buf_date_part(PqBuf *b, int64_t days)
{
	int64_t		year;
	int			month,
				day;
	bool		bc;

	/* keep era arithmetic far from overflow: |days| < 2^60 */
	if (days > (INT64_C(1) << 60) || days < -(INT64_C(1) << 60))
		days = days > 0 ? (INT64_C(1) << 60) : -(INT64_C(1) << 60);
	civil_from_days(days, &year, &month, &day);
	bc = year <= 0;
	if (bc)
		year = 1 - year;		/* year 0 is 1 BC */
	if (year < 10000)
		buf_padded(b, (uint64_t) year, 4);
	else
		buf_u64(b, (uint64_t) year);
	buf_putc(b, '-');
	buf_padded(b, (uint64_t) month, 2);
	buf_putc(b, '-');
	buf_padded(b, (uint64_t) day, 2);
	return bc;
}

/* "HH:MM:SS[.ffffff]" of usecs in [0, 10^6 * 86400 * k), trimmed. */
static void
buf_time_part(PqBuf *b, uint64_t usecs)
{
	uint64_t	secs = usecs / 1000000;
	uint64_t	frac = usecs % 1000000;

	/* hours past 99 only for out-of-range TIME values: print them in full */
	if (secs / 3600 < 100)
		buf_padded(b, secs / 3600, 2);
	else
		buf_u64(b, secs / 3600);
	buf_putc(b, ':');
	buf_padded(b, (secs / 60) % 60, 2);
	buf_putc(b, ':');
	buf_padded(b, secs % 60, 2);
	if (frac != 0)
	{
		char		tmp[7];
		int			n = 6;
		int			i;

		tmp[0] = '.';
		for (i = 6; i >= 1; i--)
		{
			tmp[i] = (char) ('0' + frac % 10);
			frac /= 10;
		}
		while (tmp[n] == '0')
			n--;
		PqBufAppend(b, tmp, n + 1);
	}
}

static void
buf_timestamp(PqBuf *b, int64_t days, uint64_t usecs_of_day, bool utc)
{
	bool		bc = buf_date_part(b, days);

	buf_putc(b, ' ');
	buf_time_part(b, usecs_of_day);
	if (utc)
		buf_puts(b, "+00");
	if (bc)
		buf_puts(b, " BC");
}

/* A TIMESTAMP value of the given unit. */
static void
buf_timestamp_unit(PqBuf *b, int64_t v, PqTimeUnit unit, bool utc)
{
	int64_t		per_day;
	int64_t		days;
	int64_t		rest;
	uint64_t	usecs;

	switch (unit)
	{
		case PQ_MILLIS:
			per_day = INT64_C(86400000);
			break;
		case PQ_NANOS:
			per_day = INT64_C(86400000000000);
			break;
		default:
			per_day = USECS_PER_DAY;
			break;
	}
	/* floor division, without forming days * per_day (it may overflow) */
	days = v / per_day;
	rest = v % per_day;
	if (rest < 0)
	{
		days--;
		rest += per_day;
	}
	if (unit == PQ_MILLIS)
		usecs = (uint64_t) rest * 1000;
	else if (unit == PQ_NANOS)
		usecs = (uint64_t) rest / 1000;
	else
		usecs = (uint64_t) rest;
	buf_timestamp(b, days, usecs, utc);
}

static void
buf_time_unit(PqBuf *b, int64_t v, PqTimeUnit unit)
{
	uint64_t	mag;

	if (v < 0)
	{
		/* not a valid TIME; print it so that the input function rejects it */
		buf_putc(b, '-');
		mag = (uint64_t) 0 - (uint64_t) v;
	}
	else
		mag = (uint64_t) v;
	if (unit == PQ_MILLIS)
	{
		if (mag > UINT64_MAX / 1000)
			mag = UINT64_MAX / 1000;
		mag *= 1000;
	}
	else if (unit == PQ_NANOS)
		mag /= 1000;
	buf_time_part(b, mag);
}


/* ---- DECIMAL ---- */

/* Digits of the magnitude m, with scale, and the sign. */
static void
buf_decimal_digits(PqBuf *b, bool neg, const char *digits, size_t ndigits,
				   int32_t scale)
{
	if (neg && !(ndigits == 1 && digits[0] == '0'))
		buf_putc(b, '-');
	if (scale <= 0)
	{
		int32_t		i;

		PqBufAppend(b, digits, ndigits);
		if (!(ndigits == 1 && digits[0] == '0'))
			for (i = 0; i < -scale; i++)
				buf_putc(b, '0');
		return;
	}
	if (ndigits <= (size_t) scale)
	{
		size_t		i;

		PqBufAppend(b, "0.", 2);
		for (i = ndigits; i < (size_t) scale; i++)
			buf_putc(b, '0');
		PqBufAppend(b, digits, ndigits);
	}
	else
	{
		PqBufAppend(b, digits, ndigits - scale);
		buf_putc(b, '.');
		PqBufAppend(b, digits + ndigits - scale, scale);
	}
}

static void
buf_decimal_i64(PqBuf *b, int64_t v, int32_t scale)
{
	char		tmp[20];
	uint64_t	mag = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
	char	   *p = u64_digits(mag, tmp + sizeof(tmp));

	buf_decimal_digits(b, v < 0, p, tmp + sizeof(tmp) - p, scale);
}

static void buf_hex(PqBuf *b, const uint8_t *p, size_t n, bool json);

/*
 * A big-endian two's complement integer of n bytes, with scale.  The
 * magnitude is converted to base 10^9 limbs by repeated multiply-add.
 */
static void
buf_decimal_bytes(PqBuf *b, const uint8_t *p, size_t n, int32_t scale,
				  bool json)
{
	uint8_t		mag[PQ_DECIMAL_MAX_BYTES];
	uint32_t	limbs[PQ_DECIMAL_MAX_BYTES * 8 / 29 + 2];	/* 10^9 > 2^29 */
	int			nlimbs = 0;
	char		digits[PQ_DECIMAL_MAX_BYTES * 8 / 29 * 9 + 27];
	size_t		nd = 0;
	bool		neg;
	size_t		i;
	int			k;

	if (n == 0)
	{
		buf_decimal_digits(b, false, "0", 1, scale);
		return;
	}
	neg = (p[0] & 0x80) != 0;
	/* drop sign-extension bytes */
	while (n > 1 && p[0] == (neg ? 0xFF : 0x00) &&
		   ((p[1] & 0x80) != 0) == neg)
	{
		p++;
		n--;
	}
	if (n > PQ_DECIMAL_MAX_BYTES)
	{
		buf_hex(b, p, n, json);
		return;
	}
	memcpy(mag, p, n);
	if (neg)
	{
		/* negate: invert and add one */
		unsigned	carry = 1;

		for (i = n; i-- > 0;)
		{
			unsigned	x = (unsigned) (uint8_t) ~mag[i] + carry;

			mag[i] = (uint8_t) x;
			carry = x >> 8;
		}
	}
	for (i = 0; i < n; i++)
	{
		uint64_t	carry = mag[i];

		for (k = 0; k < nlimbs; k++)
		{
			uint64_t	x = (uint64_t) limbs[k] * 256 + carry;

			limbs[k] = (uint32_t) (x % 1000000000);
			carry = x / 1000000000;
		}
		while (carry != 0)
		{
			limbs[nlimbs++] = (uint32_t) (carry % 1000000000);
			carry /= 1000000000;
		}
	}
	if (nlimbs == 0)
		digits[nd++] = '0';
	else
	{
		char		tmp[20];
		char	   *q = u64_digits(limbs[nlimbs - 1], tmp + sizeof(tmp));

		memcpy(digits, q, tmp + sizeof(tmp) - q);
		nd = tmp + sizeof(tmp) - q;
		for (k = nlimbs - 2; k >= 0; k--)
		{
			uint32_t	v = limbs[k];
			int			j;

			for (j = 8; j >= 0; j--)
			{
				digits[nd + j] = (char) ('0' + v % 10);
				v /= 10;
			}
			nd += 9;
		}
	}
	buf_decimal_digits(b, neg, digits, nd, scale);
}


/* ---- byte strings ---- */

static void
buf_hex(PqBuf *b, const uint8_t *p, size_t n, bool json)
{
	char	   *out;
	size_t		i;
	size_t		extra = json ? 5 : 2;	/* "\\x" in quotes, or \x */

	if (n > (SIZE_MAX - extra) / 2)
	{
		b->oom = true;
		return;
	}
	out = buf_reserve(b, 2 * n + extra);
	if (out == NULL)
		return;
	if (json)
		*out++ = '"';
	*out++ = '\\';
	if (json)
		*out++ = '\\';
	*out++ = 'x';
	for (i = 0; i < n; i++)
	{
		*out++ = hex_digits[p[i] >> 4];
		*out++ = hex_digits[p[i] & 15];
	}
	if (json)
		*out++ = '"';
	b->len += 2 * n + extra;
}

static void
buf_uuid(PqBuf *b, const uint8_t *p, bool json)
{
	char		tmp[38];
	int			i;
	int			o = 0;

	if (json)
		tmp[o++] = '"';
	for (i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			tmp[o++] = '-';
		tmp[o++] = hex_digits[p[i] >> 4];
		tmp[o++] = hex_digits[p[i] & 15];
	}
	if (json)
		tmp[o++] = '"';
	PqBufAppend(b, tmp, o);
}

static inline uint32_t
le32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

/* INTERVAL: months, days, milliseconds, each an unsigned LE int32. */
static void
buf_interval(PqBuf *b, const uint8_t *p)
{
	buf_u64(b, le32(p));
	buf_puts(b, " mons ");
	buf_u64(b, le32(p + 4));
	buf_puts(b, " days ");
	buf_time_part(b, (uint64_t) le32(p + 8) * 1000);
}


/* ---- the entry point ---- */

void
PqValueText(const PqSchemaNode *leaf, const void *v, bool json, PqBuf *out)
{
	PqLogical	logical = leaf->logical;
	size_t		mark = out->len;
	bool		quoted = false;

	/*
	 * Forms that are strings in JSON: write the text between quotes; the
	 * text of these never needs escaping.
	 */
	switch (leaf->type)
	{
		case PQ_INT32:
		case PQ_INT64:
			quoted = json && (logical == PQL_DATE || logical == PQL_TIME ||
							  logical == PQL_TIMESTAMP);
			break;
		case PQ_INT96:
			quoted = json;
			break;
		default:
			break;
	}
	if (quoted)
		buf_putc(out, '"');

	switch (leaf->type)
	{
		case PQ_BOOLEAN:
			{
				uint8_t		x;

				memcpy(&x, v, 1);
				buf_puts(out, x ? "true" : "false");
				break;
			}
		case PQ_INT32:
			{
				int32_t		x;

				memcpy(&x, v, sizeof(x));
				if (logical == PQL_DATE)
				{
					if (buf_date_part(out, x))
						buf_puts(out, " BC");
				}
				else if (logical == PQL_TIME)
					buf_time_unit(out, x, PQ_MILLIS);
				else if (logical == PQL_DECIMAL &&
						 leaf->scale >= -PQ_DECIMAL_MAX_SCALE &&
						 leaf->scale <= PQ_DECIMAL_MAX_SCALE)
					buf_decimal_i64(out, x, leaf->scale);
				else if (logical == PQL_INTEGER && !leaf->is_signed)
					buf_u64(out, (uint32_t) x);
				else
					buf_i64(out, x);
				break;
			}
		case PQ_INT64:
			{
				int64_t		x;

				memcpy(&x, v, sizeof(x));
				if (logical == PQL_TIMESTAMP)
					buf_timestamp_unit(out, x, leaf->unit,
									   leaf->adjusted_to_utc);
				else if (logical == PQL_TIME)
					buf_time_unit(out, x, leaf->unit);
				else if (logical == PQL_DECIMAL &&
						 leaf->scale >= -PQ_DECIMAL_MAX_SCALE &&
						 leaf->scale <= PQ_DECIMAL_MAX_SCALE)
					buf_decimal_i64(out, x, leaf->scale);
				else if (logical == PQL_INTEGER && !leaf->is_signed)
					buf_u64(out, (uint64_t) x);
				else
					buf_i64(out, x);
				break;
			}
		case PQ_INT96:
			{
				PqInt96		x;
				int64_t		days;
				int64_t		nanos;
				uint64_t	us;

				/*
				 * As Spark reads it: a signed day and signed nanoseconds,
				 * summed as microseconds in wrapping 64-bit arithmetic.
				 * For every value in range that is the exact sum; Spark
				 * itself writes timestamps past year 294276 wrapped that
				 * way (int96_from_spark.parquet), and they come back.
				 */
				memcpy(&x, v, sizeof(x));
				days = (int32_t) x.julian_day;
				memcpy(&nanos, &x.nanos, sizeof(nanos));
				us = (uint64_t) (days - UNIX_EPOCH_JULIAN_DAY) *
					(uint64_t) USECS_PER_DAY + (uint64_t) (nanos / 1000);
				memcpy(&nanos, &us, sizeof(us));
				buf_timestamp_unit(out, nanos, PQ_MICROS, true);
				break;
			}
		case PQ_FLOAT:
			{
				float		x;

				memcpy(&x, v, sizeof(x));
				buf_float(out, x, json);
				break;
			}
		case PQ_DOUBLE:
			{
				double		x;

				memcpy(&x, v, sizeof(x));
				buf_double(out, x, json);
				break;
			}
		case PQ_BYTE_ARRAY:
		case PQ_FIXED_LEN_BYTE_ARRAY:
			{
				PqBytes		x;

				memcpy(&x, v, sizeof(x));
				if (logical == PQL_STRING || logical == PQL_ENUM ||
					logical == PQL_JSON)
				{
					if (json)
						PqBufAppendJsonString(out, (const char *) x.ptr, x.len);
					else
						PqBufAppend(out, (const char *) x.ptr, x.len);
				}
				else if (logical == PQL_DECIMAL &&
						 leaf->scale >= -PQ_DECIMAL_MAX_SCALE &&
						 leaf->scale <= PQ_DECIMAL_MAX_SCALE)
					buf_decimal_bytes(out, x.ptr, x.len, leaf->scale, json);
				else if (logical == PQL_UUID && x.len == 16)
					buf_uuid(out, x.ptr, json);
				else if (logical == PQL_FLOAT16 && x.len == 2)
					buf_half(out, (uint16_t) (x.ptr[0] | (x.ptr[1] << 8)),
							 json);
				else if (logical == PQL_INTERVAL && x.len == 12)
				{
					if (json)
						buf_putc(out, '"');
					buf_interval(out, x.ptr);
					if (json)
						buf_putc(out, '"');
				}
				else
					buf_hex(out, x.ptr, x.len, json);
				break;
			}
		default:
			buf_puts(out, json ? "null" : "");
			break;
	}

	if (quoted)
		buf_putc(out, '"');
	if (out->oom)
		out->len = mark;
}
