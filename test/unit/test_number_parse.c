/*-------------------------------------------------------------------------
 *
 * test_number_parse.c
 *		number_parse.c against strtod/strtof/strtoll, bit for bit.
 *
 * Checks the generated power-of-five table against big-integer arithmetic
 * done here, then compares TelemParseDouble and TelemParseFloat with the C
 * library on fixed edge cases and on random inputs (random digit strings,
 * printed doubles, exact and near halfway points between neighbouring
 * doubles and floats, subnormals, 800-digit mantissas, junk), and the
 * integer parsers with strtoll.  Whether an input should be accepted is
 * decided by a POSIX regex, independently of the parser.
 *
 * The random count is 1,000,000 (argv[1] or TELEM_NUMBER_CASES overrides
 * it; the Makefile lowers it under valgrind).
 *
 * IDENTIFICATION
 *		test/unit/test_number_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>

#include "format/number_parse.h"
#include "unit.h"

static regex_t decimal_re;
static regex_t integer_re;
static long nfail_printed;

/* ---- a small big-integer kit: little-endian 32-bit limbs ---- */

#define BIG_LIMBS 160

typedef struct Big
{
	int			n;
	uint32_t	d[BIG_LIMBS];
} Big;

static void
big_set(Big *b, uint64_t v)
{
	b->n = 0;
	while (v)
	{
		b->d[b->n++] = (uint32_t) v;
		v >>= 32;
	}
}

static void
big_mul_small(Big *b, uint32_t m)
{
	uint64_t	carry = 0;
	int			i;

	for (i = 0; i < b->n; i++)
	{
		uint64_t	t = (uint64_t) b->d[i] * m + carry;

		b->d[i] = (uint32_t) t;
		carry = t >> 32;
	}
	if (carry)
		b->d[b->n++] = (uint32_t) carry;
}

static void
big_mul(Big *r, const Big *a, const Big *b)
{
	int			i,
				j;

	memset(r->d, 0, sizeof(r->d));
	for (i = 0; i < a->n; i++)
	{
		uint64_t	carry = 0;

		for (j = 0; j < b->n; j++)
		{
			uint64_t	t = (uint64_t) a->d[i] * b->d[j] + r->d[i + j] + carry;

			r->d[i + j] = (uint32_t) t;
			carry = t >> 32;
		}
		r->d[i + b->n] = (uint32_t) carry;
	}
	r->n = a->n + b->n;
	while (r->n > 0 && r->d[r->n - 1] == 0)
		r->n--;
}

static void
big_shl(Big *b, int bits)
{
	int			words = bits / 32,
				sh = bits % 32,
				i;

	if (b->n == 0)
		return;
	b->d[b->n] = 0;
	for (i = b->n; i >= 0; i--)
	{
		uint64_t	cur = (uint64_t) b->d[i] << sh;
		uint32_t	lower = (sh && i > 0) ? b->d[i - 1] >> (32 - sh) : 0;

		b->d[i + words] = (uint32_t) cur | lower;
	}
	for (i = 0; i < words; i++)
		b->d[i] = 0;
	b->n += words + 1;
	while (b->n > 0 && b->d[b->n - 1] == 0)
		b->n--;
}

static int
big_cmp(const Big *a, const Big *b)
{
	int			i;

	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (i = a->n - 1; i >= 0; i--)
		if (a->d[i] != b->d[i])
			return a->d[i] < b->d[i] ? -1 : 1;
	return 0;
}

static void
big_pow5(Big *b, int n)
{
	big_set(b, 1);
	while (n-- > 0)
		big_mul_small(b, 5);
}

/* Decimal digits of b (destroys b). */
static void
big_to_decimal(Big *b, char *out)
{
	char		tmp[BIG_LIMBS * 10 + 2];
	int			len = 0,
				i;

	if (b->n == 0)
	{
		strcpy(out, "0");
		return;
	}
	while (b->n > 0)
	{
		uint64_t	rem = 0;

		for (i = b->n - 1; i >= 0; i--)
		{
			uint64_t	cur = (rem << 32) | b->d[i];

			b->d[i] = (uint32_t) (cur / 1000000000);
			rem = cur % 1000000000;
		}
		while (b->n > 0 && b->d[b->n - 1] == 0)
			b->n--;
		for (i = 0; i < 9; i++)
		{
			tmp[len++] = (char) ('0' + rem % 10);
			rem /= 10;
		}
	}
	while (len > 1 && tmp[len - 1] == '0')
		len--;
	for (i = 0; i < len; i++)
		out[i] = tmp[len - 1 - i];
	out[len] = '\0';
}

/* ---- the table ---- */

/* Every entry: T <= 5^q * 2^-e < T + 1, bit 127 set, by exact integers. */
static void
test_pow5_table(void)
{
	int			q;
	int			bad = 0;

	for (q = TELEM_POW5_MIN; q <= TELEM_POW5_MAX; q++)
	{
		const uint64_t *t = TelemPow5Mant[q - TELEM_POW5_MIN];
		int			e = TelemPow5Exp[q - TELEM_POW5_MIN];
		Big			tb,
					t1,
					x,
					lhs,
					rhs;
		bool		ok;

		big_set(&tb, t[0]);
		big_shl(&tb, 64);
		big_set(&x, t[1]);
		/* tb += low word */
		{
			uint64_t	carry = 0;
			int			i;

			for (i = 0; i < 2 || carry; i++)
			{
				uint64_t	s = (uint64_t) tb.d[i] + (i < x.n ? x.d[i] : 0) + carry;

				tb.d[i] = (uint32_t) s;
				carry = s >> 32;
			}
		}
		t1 = tb;
		{
			int			i = 0;

			while (++t1.d[i] == 0)
				i++;
			if (i >= t1.n)
				t1.n = i + 1;
		}
		ok = (t[0] >> 63) == 1;
		big_pow5(&x, q >= 0 ? q : -q);
		if (q >= 0)
		{
			/* T * 2^e <= 5^q < (T+1) * 2^e */
			if (e >= 0)
			{
				lhs = tb;
				big_shl(&lhs, e);
				rhs = t1;
				big_shl(&rhs, e);
				ok = ok && big_cmp(&lhs, &x) <= 0 && big_cmp(&x, &rhs) < 0;
			}
			else
			{
				lhs = x;
				big_shl(&lhs, -e);
				ok = ok && big_cmp(&lhs, &tb) == 0;
			}
		}
		else
		{
			/* 5^q * 2^-e = 2^-e / 5^-q:  T * 5^-q <= 2^-e < (T+1) * 5^-q */
			Big			p2;

			big_set(&p2, 1);
			big_shl(&p2, -e);
			big_mul(&lhs, &tb, &x);
			big_mul(&rhs, &t1, &x);
			ok = ok && big_cmp(&lhs, &p2) <= 0 && big_cmp(&p2, &rhs) < 0;
		}
		if (!ok)
			bad++;
		CHECK(ok, "pow5 table entry for q = %d", q);
	}
	printf("pow5 table: %d entries checked, %d wrong\n",
		   TELEM_POW5_MAX - TELEM_POW5_MIN + 1, bad);
}

/* ---- comparisons ---- */

static uint64_t
dbits(double v)
{
	uint64_t	b;

	memcpy(&b, &v, sizeof(b));
	return b;
}

static uint32_t
fbits(float v)
{
	uint32_t	b;

	memcpy(&b, &v, sizeof(b));
	return b;
}

#define REPORT(...) \
	do { \
		unit_failed++; \
		if (nfail_printed++ < 30) \
		{ \
			fprintf(stderr, "FAIL "); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

/*
 * Check s[0..len) (s is NUL-terminated at len) with both float parsers.
 * The parser must accept exactly the decimals the C library reads whole
 * and in range, with the same bits; extra bytes after len must not matter.
 */
static void
check_float_text(const char *s)
{
	size_t		len = strlen(s);
	bool		decimal = regexec(&decimal_re, s, 0, NULL, 0) == 0;
	char	   *padded = malloc(len + 3);
	char	   *end;
	double		want,
				got;
	float		fwant,
				fgot;
	int			err;
	bool		ok;

	/* the parsers must stop at len: follow the text with digits */
	memcpy(padded, s, len);
	memcpy(padded + len, "97", 3);

	errno = 0;
	want = strtod(s, &end);
	err = errno;
	ok = TelemParseDouble(padded, len, &got);
	if (decimal && !(err == ERANGE && (want == 0.0 || isinf(want))))
	{
		if (!ok || dbits(got) != dbits(want))
			REPORT("double \"%.80s\" (len %zu): want %a, got %s%a", s, len,
				   want, ok ? "" : "false ", ok ? got : 0.0);
		else
			unit_passed++;
	}
	else if (ok)
		REPORT("double \"%.80s\": accepted (%a), want rejected", s, got);
	else
		unit_passed++;

	errno = 0;
	fwant = strtof(s, &end);
	err = errno;
	ok = TelemParseFloat(padded, len, &fgot);
	if (decimal && !(err == ERANGE && (fwant == 0.0f || isinf(fwant))))
	{
		if (!ok || fbits(fgot) != fbits(fwant))
			REPORT("float \"%.80s\": want %a, got %s%a", s, (double) fwant,
				   ok ? "" : "false ", ok ? (double) fgot : 0.0);
		else
			unit_passed++;
	}
	else if (ok)
		REPORT("float \"%.80s\": accepted (%a), want rejected", s, (double) fgot);
	else
		unit_passed++;
	free(padded);
}

static void
check_int_text(const char *s)
{
	size_t		len = strlen(s);
	bool		syntax = regexec(&integer_re, s, 0, NULL, 0) == 0;
	char	   *end;
	long long	want;
	int64_t		got;
	int32_t		got32;
	int16_t		got16;
	bool		ok,
				ok32,
				ok16,
				inrange;

	errno = 0;
	want = strtoll(s, &end, 10);
	inrange = syntax && errno != ERANGE;
	ok = TelemParseInt64(s, len, &got);
	ok32 = TelemParseInt32(s, len, &got32);
	ok16 = TelemParseInt16(s, len, &got16);
	if (inrange)
	{
		if (!ok || got != want)
			REPORT("int64 \"%s\": want %lld, got %s%" PRId64, s, want,
				   ok ? "" : "false ", ok ? got : 0);
		else
			unit_passed++;
		if (want >= INT32_MIN && want <= INT32_MAX)
			CHECK(ok32 && got32 == want, "int32 \"%s\"", s);
		else
			CHECK(!ok32, "int32 \"%s\" out of range but accepted", s);
		if (want >= INT16_MIN && want <= INT16_MAX)
			CHECK(ok16 && got16 == want, "int16 \"%s\"", s);
		else
			CHECK(!ok16, "int16 \"%s\" out of range but accepted", s);
	}
	else
	{
		CHECK(!ok && !ok32 && !ok16, "int \"%s\" accepted, want rejected", s);
	}
}

/* ---- random inputs ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static int
rng_range(int lo, int hi)
{
	return lo + (int) (rng() % (uint64_t) (hi - lo + 1));
}

/* Random digits [1, 25] long, maybe a point, sign and exponent. */
static void
gen_digits(char *buf)
{
	int			n = rng_range(1, 25);
	int			point = (rng() % 2) ? rng_range(0, n) : -1;
	char	   *p = buf;
	int			i;

	if (rng() % 4 == 0)
		*p++ = (rng() % 2) ? '-' : '+';
	for (i = 0; i < n; i++)
	{
		if (i == point)
			*p++ = '.';
		/* some runs of zeros and nines */
		switch (rng() % 8)
		{
			case 0:
				*p++ = '0';
				break;
			case 1:
				*p++ = '9';
				break;
			default:
				*p++ = (char) ('0' + rng() % 10);
		}
	}
	if (point == n && n > 0)
		*p++ = '.';
	if (rng() % 3 != 0)
		p += sprintf(p, "%c%d", (rng() % 2) ? 'e' : 'E', rng_range(-350, 350));
	*p = '\0';
}

/* A random double's bits: any finite value, subnormals included. */
static double
random_double(bool subnormal)
{
	uint64_t	b;
	double		v;

	do
	{
		b = rng();
		if (subnormal)
			b &= ~(UINT64_C(0x7ff) << 52);
		memcpy(&v, &b, sizeof(v));
	} while (!isfinite(v));
	return v;
}

/*
 * The exact decimal of the point halfway between |v| and the next double
 * up (or float, when mbits is 23), as digits and a power of ten; then
 * variants of it cut to fewer digits, nudged by one in the last place.
 */
static void
gen_halfway(char *buf, bool single)
{
	char		digits[BIG_LIMBS * 10 + 2];
	uint64_t	m;
	int			e2;
	Big			b,
				p5;
	int			pow10 = 0;
	int			ndig,
				cut;

	if (single)
	{
		uint32_t	fb = (uint32_t) rng() & 0x7fffffff;

		if ((fb >> 23) == 0xff)
			fb &= ~(UINT32_C(1) << 30);
		m = fb & 0x7fffff;
		e2 = (int) (fb >> 23);
		if (e2 == 0)
			e2 = 1;
		else
			m |= UINT64_C(1) << 23;
		e2 -= 127 + 23;
	}
	else
	{
		uint64_t	db = dbits(random_double(rng() % 8 == 0)) & ~(UINT64_C(1) << 63);

		m = db & ((UINT64_C(1) << 52) - 1);
		e2 = (int) (db >> 52);
		if (e2 == 0)
			e2 = 1;
		else
			m |= UINT64_C(1) << 52;
		e2 -= 1023 + 52;
	}
	/* midpoint = (2m + 1) * 2^(e2 - 1) */
	big_set(&b, 2 * m + 1);
	e2 -= 1;
	if (e2 >= 0)
		big_shl(&b, e2);
	else
	{
		Big			r;

		big_pow5(&p5, -e2);
		big_mul(&r, &b, &p5);
		b = r;
		pow10 = e2;
	}
	big_to_decimal(&b, digits);
	ndig = (int) strlen(digits);

	switch (rng() % 4)
	{
		case 0:					/* exact */
			cut = ndig;
			break;
		default:				/* cut to 15..20 digits */
			cut = rng_range(15, 20);
			if (cut > ndig)
				cut = ndig;
			break;
	}
	pow10 += ndig - cut;
	digits[cut] = '\0';
	if (cut < ndig && rng() % 2)
	{
		/* nudge the last digit up (down is the truncation itself) */
		int			i = cut - 1;

		while (i >= 0 && digits[i] == '9')
			digits[i--] = '0';
		if (i >= 0)
			digits[i]++;
	}
	sprintf(buf, "%s%se%d", (rng() % 2) ? "-" : "", digits, pow10);
}

static void
gen_printed(char *buf)
{
	double		v = random_double(rng() % 16 == 0);

	sprintf(buf, rng() % 2 ? "%.*g" : "%.*e", rng_range(0, 19), v);
}

static void
gen_long(char *buf)
{
	int			n = rng_range(400, 800);
	int			point = rng_range(0, n - 1);
	char	   *p = buf;
	int			i;

	for (i = 0; i < n; i++)
	{
		if (i == point)
			*p++ = '.';
		*p++ = (char) ('0' + rng() % 10);
	}
	if (rng() % 2)
		sprintf(p, "e%d", rng_range(-1100, 500));
	else
		*p = '\0';
}

static void
gen_junk(char *buf)
{
	static const char alphabet[] = "0123456789+-.eE \tx,n\"";
	int			n = rng_range(0, 12);
	int			i;

	for (i = 0; i < n; i++)
		buf[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
	buf[n] = '\0';
}

static void
gen_int(char *buf)
{
	static const char *const spaces[] = {"", "", "", " ", "\t", "  ", "\n"};
	char	   *p = buf;
	int			n = rng_range(1, 21);
	int			i;

	p += sprintf(p, "%s", spaces[rng() % 7]);
	if (rng() % 3 == 0)
		*p++ = (rng() % 2) ? '-' : '+';
	for (i = 0; i < n; i++)
		*p++ = (char) ('0' + rng() % 10);
	if (rng() % 20 == 0)
		*p++ = (rng() % 2) ? 'x' : '.';
	sprintf(p, "%s", spaces[rng() % 7]);
}

static const char *const float_cases[] = {
	"0", "-0", "+0", "0.0", "-0.0", "0e0", "0e-999999", "-0e999999", "00000",
	"0.000000000000000000000000000000000000000000000000000000000000001e-300",
	"1", "-1", "+1", "1.", ".5", "-.5", "1.5e+3", "1.5E-3", "1e22", "1e23",
	"9007199254740992", "9007199254740993", "9007199254740991",
	"9007199254740994", "9007199254740995", "-9007199254740993",
	"9007199254740993.0000000000000000001", "18014398509481985",
	"1.7976931348623157e308", "1.7976931348623158e308",
	"1.7976931348623159e308", "1.797693134862315807e308",
	"1.7976931348623157081452742373170435679807056752584499659891747680315726078002853876058955863276687817154045895351438246423432132688946418276846754670353751698604991057655128207624549009038932894407586850845513394230458323690322294816580855933212334827479782620414472316873817718091929988125040402618412485836e308",
	"1.797693134862315708145274237317043567981e308",
	"1.797693134862315708145274237317043567980e308",
	"1.8e308", "1e309", "-1e309", "1e400",
	"2.2250738585072014e-308", "2.2250738585072011e-308",
	"2.2250738585072012e-308", "2.225073858507201136057409796709131975934819546351645648e-308",
	"4.9406564584124654e-324", "5e-324", "2.4703282292062328e-324",
	"2.4703282292062327e-324", "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
	"2.4703282292062328e-324", "1e-324", "2e-324", "3e-324", "1e-400",
	"1.4e-45", "1e-45", "7e-46", "8e-46", "1.17549435e-38", "3.4028235e38",
	"3.4028236e38", "3.40282357e38", "3.4028234663852886e38", "1e39",
	"16777216", "16777217", "16777218", "16777219", "33554433",
	"0.1", "0.2", "0.3", "123.456", "-273.15", "48.8566", "2.3412345",
	"1e-7", "6.02214076e23", "1.602176634e-19",
	"7.038531e-26", "9.109383701528e-31", "1.00000005960464477539062499",
	"1.000000059604644775390625", "1.00000005960464477539062501",
	"1.00000017881393432617187499", "1.000000178813934326171875",
	"1.00000017881393432617187501",
	"1.00000000000000011102230246251565404236316680908203125",
	"1.00000000000000011102230246251565404236316680908203124",
	"1.00000000000000011102230246251565404236316680908203126",
	"1.00000000000000033306690738754696212708950042724609375",
	"18446744073709551615", "18446744073709551616", "9999999999999999999",
	"99999999999999999999", "1000000000000000000000000000000",
	"0.000001", "1e-5", "123456789012345678", "1234567890123456789",
	"12345678901234567890", "0.1e-342", "1e-342", "1e-343", "1e308",
	"10e307", "0.1e310",
	/* rejected: not the syntax, or whole-string junk */
	"", "-", "+", ".", "-.", "e5", "1e", "1e+", "1e-", "1.5.2", "1..2",
	"--1", "+-1", " 1", "1 ", "1\t", "1x", "0x10", "0x1p3", "inf", "-inf",
	"Infinity", "nan", "NaN", "1,5", "1_000", "١",
};

static const char *const int_cases[] = {
	"0", "-0", "+0", "1", "-1", " 1", "1 ", "\t-42\n", "007",
	"9223372036854775807", "-9223372036854775808",
	"9223372036854775808", "-9223372036854775809",
	"09223372036854775807", "99999999999999999999",
	"18446744073709551616", "2147483647", "2147483648", "-2147483648",
	"-2147483649", "32767", "32768", "-32768", "-32769",
	"", " ", "-", "+", "1.0", "1e3", "0x10", "1 2", "--1", "+-1", "a",
	"12a", "\v\f\r12\r",
};

int
main(int argc, char **argv)
{
	long		ncases = 1000000;
	const char *env = getenv("TELEM_NUMBER_CASES");
	char	   *buf = malloc(4096);
	long		i;
	size_t		k;

	if (argc > 1)
		ncases = atol(argv[1]);
	else if (env != NULL && *env != '\0')
		ncases = atol(env);

	if (regcomp(&decimal_re,
				"^[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?$",
				REG_EXTENDED | REG_NOSUB) != 0 ||
		regcomp(&integer_re, "^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$",
				REG_EXTENDED | REG_NOSUB) != 0)
	{
		fprintf(stderr, "regcomp failed\n");
		return 2;
	}

	test_pow5_table();

	for (k = 0; k < sizeof(float_cases) / sizeof(float_cases[0]); k++)
		check_float_text(float_cases[k]);
	for (k = 0; k < sizeof(int_cases) / sizeof(int_cases[0]); k++)
		check_int_text(int_cases[k]);

	/* a parse must not read past len: "12" is the first two bytes of "123" */
	{
		double		d;
		int64_t		v;

		CHECK(TelemParseDouble("123", 2, &d) && d == 12.0, "len 2 of \"123\"");
		CHECK(TelemParseInt64("123", 2, &v) && v == 12, "len 2 of \"123\"");
		CHECK(!TelemParseDouble("1e5", 2, &d), "\"1e\" is not a number");
	}

	for (i = 0; i < ncases; i++)
	{
		switch (i % 16)
		{
			case 0:
			case 1:
			case 2:
			case 3:
			case 4:
				gen_digits(buf);
				break;
			case 5:
			case 6:
			case 7:
				gen_printed(buf);
				break;
			case 8:
			case 9:
			case 10:
				gen_halfway(buf, false);
				break;
			case 11:
				gen_halfway(buf, true);
				break;
			case 12:
				if (i % 256 == 12)
					gen_long(buf);
				else
					gen_digits(buf);
				break;
			case 13:
				gen_junk(buf);
				break;
			default:
				gen_int(buf);
				check_int_text(buf);
				continue;
		}
		check_float_text(buf);
	}
	printf("number_parse: %ld random inputs\n", ncases);

	regfree(&decimal_re);
	regfree(&integer_re);
	free(buf);
	return unit_finish("test_number_parse");
}
