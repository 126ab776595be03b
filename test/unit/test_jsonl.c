/*-------------------------------------------------------------------------
 *
 * test_jsonl.c
 *		Unit tests for the JSON-lines field extractor (both implementations).
 *
 * Expectations are written once and checked against JSONL_IMPL_SCAN exactly
 * and against JSONL_IMPL_CJSON modulo its documented differences: numbers
 * compare numerically (cJSON keeps only a double) and objects/arrays compare
 * as parsed trees (cJSON reprints them).  A differential loop then checks
 * the two agree on thousands of generated records.
 *
 * IDENTIFICATION
 *		test/unit/test_jsonl.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "format/jsonl_extract.h"
#include "unit.h"

#define MAXP 128

static const char *const impl_name[] = {"scan", "cjson"};

/*
 * Render a field as "T:text" for comparison: M missing, Z null, S string,
 * N number, T true, F false, O object, A array.  Returns a static buffer.
 */
static const char *
render(const JsonlField *f)
{
	static char buf[1 << 16];
	static const char tag[] = "MZSNTFOA";

	buf[0] = tag[f->type];
	buf[1] = '\0';
	if (f->type == JSONL_MISSING || f->type == JSONL_NULL ||
		f->type == JSONL_TRUE || f->type == JSONL_FALSE)
		return buf;
	buf[1] = ':';
	memcpy(buf + 2, f->ptr, f->len < sizeof(buf) - 3 ? f->len : sizeof(buf) - 3);
	buf[2 + (f->len < sizeof(buf) - 3 ? f->len : sizeof(buf) - 3)] = '\0';
	return buf;
}

/*
 * Structural equality of two cJSON trees, member order and duplicates
 * included (cJSON_Compare looks members up by name, so it calls an object
 * with duplicate names unequal to itself).  Numbers may differ in the last
 * bit: cJSON_PrintUnformatted prints 15 digits when they round-trip to
 * within its epsilon, not exactly.
 */
static bool
tree_equal(const cJSON *a, const cJSON *b)
{
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return false;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble ||
			fabs(a->valuedouble - b->valuedouble) <=
			(fabs(a->valuedouble) > fabs(b->valuedouble) ?
			 fabs(a->valuedouble) : fabs(b->valuedouble)) * 1e-15;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a) || cJSON_IsObject(a))
	{
		const cJSON *x = a->child,
				   *y = b->child;

		for (; x && y; x = x->next, y = y->next)
		{
			if (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0)
				return false;
			if (!tree_equal(x, y))
				return false;
		}
		return x == NULL && y == NULL;
	}
	return true;
}

/* Do two JSON texts parse to equal trees? */
static bool
json_text_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	cJSON	   *x = cJSON_ParseWithLength(a, alen);
	cJSON	   *y = cJSON_ParseWithLength(b, blen);
	bool		eq = x && y && tree_equal(x, y);

	cJSON_Delete(x);
	cJSON_Delete(y);
	return eq;
}

/* strtod of a counted string */
static double
num_of(const char *p, size_t len)
{
	char	   *buf = malloc(len + 1);
	double		v;

	memcpy(buf, p, len);
	buf[len] = '\0';
	v = strtod(buf, NULL);
	free(buf);
	return v;
}

/* Compare a rendered expectation with what impl produced. */
static bool
field_matches(JsonlImpl impl, const JsonlField *f, const char *want)
{
	const char *got = render(f);

	if (impl == JSONL_IMPL_SCAN || got[0] != want[0])
		return strcmp(got, want) == 0;
	if (want[0] == 'N')
		return num_of(f->ptr, f->len) == num_of(want + 2, strlen(want + 2));
	if (want[0] == 'O' || want[0] == 'A')
		return json_text_equal(f->ptr, f->len, want + 2, strlen(want + 2));
	return strcmp(got, want) == 0;
}

/*
 * Extract from line (length len, or strlen if (size_t) -1) with the paths
 * and expectations given as NULL-terminated pairs path, want; check both
 * implementations.
 */
static void
expect_len(const char *label, const char *line, size_t len, ...)
{
	const char *paths[MAXP];
	const char *want[MAXP];
	int			n = 0;
	va_list		ap;
	int			impl;

	if (len == (size_t) -1)
		len = strlen(line);
	va_start(ap, len);
	for (;;)
	{
		const char *p = va_arg(ap, const char *);

		if (p == NULL)
			break;
		paths[n] = p;
		want[n++] = va_arg(ap, const char *);
	}
	va_end(ap);

	for (impl = JSONL_IMPL_SCAN; impl <= JSONL_IMPL_CJSON; impl++)
	{
		char		err[256];
		JsonlField	out[MAXP];
		JsonlExtractor *ex = JsonlExtractorCreate(impl, paths, n, err, sizeof(err));
		int			i;

		CHECK(ex != NULL, "%s/%s: create: %s", label, impl_name[impl], err);
		if (ex == NULL)
			continue;
		if (JsonlExtract(ex, line, len, out, err, sizeof(err)))
		{
			for (i = 0; i < n; i++)
				CHECK(field_matches(impl, &out[i], want[i]),
					  "%s/%s: path \"%s\": want [%s] got [%s]",
					  label, impl_name[impl], paths[i], want[i], render(&out[i]));
		}
		else
			CHECK(false, "%s/%s: unexpected error: %s", label, impl_name[impl], err);
		JsonlExtractorFree(ex);
	}
}

#define expect(label, line, ...) expect_len(label, line, (size_t) -1, __VA_ARGS__, NULL)

/*
 * Expect line to be refused.  SCAN must name byte offset scan_off; CJSON is
 * checked only if cjson_too (some inputs are accepted by cJSON's leniency)
 * and must just name some offset.  Paths "a" and "a.b" are requested.
 */
static void
expect_error_len(const char *label, const char *line, size_t len,
				 long scan_off, const char *scan_msg, bool cjson_too)
{
	const char *paths[] = {"a", "a.b", "zz"};
	int			impl;

	if (len == (size_t) -1)
		len = strlen(line);
	for (impl = JSONL_IMPL_SCAN; impl <= JSONL_IMPL_CJSON; impl++)
	{
		char		err[256],
					want[64];
		JsonlField	out[3];
		JsonlExtractor *ex;
		bool		ok;

		if (impl == JSONL_IMPL_CJSON && !cjson_too)
			continue;
		ex = JsonlExtractorCreate(impl, paths, 3, err, sizeof(err));
		CHECK(ex != NULL, "%s: create: %s", label, err);
		if (ex == NULL)
			continue;
		strcpy(err, "(untouched)");
		ok = JsonlExtract(ex, line, len, out, err, sizeof(err));
		CHECK(!ok, "%s/%s: accepted", label, impl_name[impl]);
		if (!ok)
		{
			CHECK(strstr(err, "invalid JSON at byte ") == err,
				  "%s/%s: message without offset: %s", label, impl_name[impl], err);
			if (impl == JSONL_IMPL_SCAN)
			{
				snprintf(want, sizeof(want), "at byte %ld:", scan_off);
				CHECK(strstr(err, want) != NULL,
					  "%s/scan: want offset %ld: %s", label, scan_off, err);
				CHECK(scan_msg == NULL || strstr(err, scan_msg) != NULL,
					  "%s/scan: want message \"%s\": %s", label, scan_msg, err);
			}
		}
		JsonlExtractorFree(ex);
	}
}

#define expect_error(label, line, off, msg) \
	expect_error_len(label, line, (size_t) -1, off, msg, true)
#define expect_error_scan_only(label, line, off, msg) \
	expect_error_len(label, line, (size_t) -1, off, msg, false)

static void
test_basic(void)
{
	const char *rec =
		"{\"ts\":\"2024-05-01T12:00:00Z\",\"host\":\"web-1\",\"cpu\":0.75,"
		"\"ok\":true,\"bad\":false,\"note\":null,\"n\":-42}";

	expect("flat", rec,
		   "ts", "S:2024-05-01T12:00:00Z", "host", "S:web-1", "cpu", "N:0.75",
		   "ok", "T", "bad", "F", "note", "Z", "n", "N:-42", "absent", "M");

	expect("nested",
		   "{\"a\":1,\"loc\":{\"lat\":51.5,\"lon\":-0.12,\"deep\":{\"x\":\"y\"}},\"z\":[1]}",
		   "loc.lat", "N:51.5", "loc.lon", "N:-0.12", "loc.deep.x", "S:y",
		   "loc.deep", "O:{\"x\":\"y\"}", "loc.nope", "M", "loc.deep.x.q", "M",
		   "a.b", "M", "z.0", "M", "a", "N:1");

	expect("prefix and duplicate paths",
		   "{\"a\":{\"b\":{\"c\":3}}}",
		   "a", "O:{\"b\":{\"c\":3}}", "a.b.c", "N:3", "a.b", "O:{\"c\":3}",
		   "a.b.c", "N:3", "a", "O:{\"b\":{\"c\":3}}");

	expect("empty object", "{}", "a", "M");
	expect("no paths", "{\"a\":[1,{\"b\":null}]}", "x", "M");
	expect("empty name member", "{\"\":1,\"a\":2}", "a", "N:2");
}

static void
test_strings(void)
{
	expect("escapes",
		   "{\"s\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\"}",
		   "s", "S:q\"b\\s/b\bf\fn\nr\rt\t");
	expect("unicode escapes",
		   "{\"s\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\uDBFF\\uDFFF\\u0001\"}",
		   "s", "S:A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\x01");
	expect("raw utf-8 and empty string",
		   "{\"s\":\"h\xc3\xa9llo \xe2\x82\xac\",\"e\":\"\"}",
		   "s", "S:h\xc3\xa9llo \xe2\x82\xac", "e", "S:");
	expect("invalid utf-8 is passed through",
		   "{\"s\":\"\xff\xfe\\n\xc3\",\"t\":\"\xc0\"}",
		   "s", "S:\xff\xfe\n\xc3", "t", "S:\xc0");
	expect("several escaped fields stay valid",
		   "{\"a\":\"1\\n\",\"b\":\"2\\t2\",\"c\":\"plain\",\"d\":\"\\u00e9\\u00e9\"}",
		   "a", "S:1\n", "b", "S:2\t2", "c", "S:plain", "d", "S:\xc3\xa9\xc3\xa9");

	expect_error("\\u0000", "{\"a\":\"x\\u0000\"}", 7, "\\u0000 cannot be converted");
	expect_error("\\u0000 in skipped field", "{\"q\":\"\\u0000\",\"a\":1}", 6, "\\u0000");
	expect_error("\\u0000 in member name", "{\"\\u0000\":1}", 2, "\\u0000");
	expect_error("lone high surrogate", "{\"a\":\"\\ud800\"}", 6, "surrogate");
	expect_error("high surrogate then non-low", "{\"a\":\"\\ud800\\u0041\"}", 6, "surrogate");
	expect_error("high surrogate then text", "{\"a\":\"\\ud800xxxxxx\"}", 6, "surrogate");
	expect_error("lone low surrogate", "{\"a\":\"\\udc00\"}", 6, "surrogate");
	expect_error("two high surrogates", "{\"a\":\"\\ud800\\ud800\"}", 6, "surrogate");
	expect_error("bad escape", "{\"a\":\"\\x\"}", 6, "invalid escape");
	expect_error("bad \\u hex", "{\"a\":\"\\u12G4\"}", 6, "\\u escape");
	expect_error("bad \\u hex in skipped name", "{\"\\uzzzz\":1}", 2, "\\u escape");
	expect_error("short \\u", "{\"a\":\"\\u12\"}", 6, "\\u escape");
	expect_error("truncated \\u", "{\"a\":\"\\u12", 10, "end of line");
	expect_error("truncated surrogate pair", "{\"a\":\"\\ud800\\", 13, "end of line");
	expect_error("truncated after high surrogate", "{\"a\":\"\\ud800", 12, "end of line");
	expect_error("truncated escape", "{\"a\":\"\\", 7, "end of line");
	/* the word-at-a-time string loop: a special byte at every position */
	{
		char		line[128],
					want[128],
					label[64];
		int			k;

		for (k = 0; k < 24; k++)
		{
			/* bytes >= 0x80 that equal '"', '\\', 0x1f in their low 7 bits */
			static const char hi[] = "\xa2\xdc\x9f\xa0\xff\x80\xe0\xc0";

			snprintf(line, sizeof(line), "{\"a\":\"%.*s%.*s\\n%s\"}", k,
					 "abcdefghijklmnopqrstuvwxyz", k % 9, hi, hi);
			snprintf(want, sizeof(want), "S:%.*s%.*s\n%s", k,
					 "abcdefghijklmnopqrstuvwxyz", k % 9, hi, hi);
			snprintf(label, sizeof(label), "escape after %d bytes", k);
			expect(label, line, "a", want);

			snprintf(line, sizeof(line), "{\"a\":\"%.*s\"%s}", k,
					 "abcdefghijklmnopqrstuvwxyz", k % 2 ? "" : "   ");
			snprintf(want, sizeof(want), "S:%.*s", k, "abcdefghijklmnopqrstuvwxyz");
			snprintf(label, sizeof(label), "quote after %d bytes", k);
			expect(label, line, "a", want);

			snprintf(line, sizeof(line), "{\"a\":\"%.*s\x1f%s\"}", k,
					 "abcdefghijklmnopqrstuvwxyz", hi);
			snprintf(label, sizeof(label), "control char after %d bytes", k);
			expect_error_scan_only(label, line, 6 + k, "control character");

			snprintf(line, sizeof(line), "{\"a\":\"%.*s", k,
					 "abcdefghijklmnopqrstuvwxyz");
			snprintf(label, sizeof(label), "unterminated after %d bytes", k);
			expect_error(label, line, 6 + k, "end of line");
		}
	}

	/* cJSON accepts raw control characters in strings */
	expect_error_scan_only("raw tab in string", "{\"a\":\"x\ty\"}", 7, "control character");
	expect_error_scan_only("raw 0x01 in skipped string", "{\"q\":\"\x01\"}", 6, "control character");
	expect_error_scan_only("raw newline in name", "{\"\n\":1}", 2, "control character");
}

static void
test_numbers(void)
{
	expect("numbers",
		   "{\"i\":0,\"m\":-0,\"p\":42,\"n\":-17,\"e\":1.5e10,\"E\":1E-5,"
		   "\"ep\":2.5E+3,\"d\":3.14159,\"big\":9007199254740993,"
		   "\"neg\":-9007199254740991,\"z\":0.0e0}",
		   "i", "N:0", "m", "N:-0", "p", "N:42", "n", "N:-17",
		   "e", "N:1.5e10", "E", "N:1E-5", "ep", "N:2.5E+3", "d", "N:3.14159",
		   "neg", "N:-9007199254740991", "z", "N:0.0e0");

	/* SCAN keeps the text exactly; cJSON only the nearest double */
	expect("huge integer",
		   "{\"h\":12345678901234567890,\"x\":-1234567890123456789012345678901234567890}",
		   "h", "N:12345678901234567890",
		   "x", "N:-1234567890123456789012345678901234567890");

	expect("long number",
		   "{\"a\":1234567890123456789012345678901234567890123456789012345678901234567890.5e-0012}",
		   "a", "N:1234567890123456789012345678901234567890123456789012345678901234567890.5e-0012");

	expect_error_scan_only("leading zero", "{\"a\":01}", 6, "leading zeros");
	expect_error_scan_only("negative leading zero", "{\"a\":-01}", 7, "leading zeros");
	expect_error_scan_only("trailing dot", "{\"a\":1.}", 7, "after '.'");
	expect_error_scan_only("dot then exponent", "{\"a\":1.e5}", 7, "after '.'");
	expect_error("leading dot", "{\"a\":.5}", 5, "expected a value");
	expect_error("plus sign", "{\"a\":+1}", 5, "expected a value");
	expect_error("bare minus", "{\"a\":-}", 6, "expected a digit");
	expect_error("minus letter", "{\"a\":-x}", 6, "expected a digit");
	expect_error("empty exponent", "{\"a\":1e}", 7, "exponent");
	expect_error("exponent sign only", "{\"a\":1e+}", 8, "exponent");
	expect_error("hex", "{\"a\":0x10}", 6, "expected ',' or '}'");
	expect_error("NaN", "{\"a\":NaN}", 5, "expected a value");
	expect_error("Infinity", "{\"a\":Infinity}", 5, "expected a value");
	expect_error("-Infinity", "{\"a\":-Infinity}", 6, "expected a digit");
	expect_error("number truncated", "{\"a\":1", 6, "end of line");
	expect_error_scan_only("number in skipped array", "{\"q\":[1,2,03]}", 11, "leading zeros");
}

static void
test_literals_and_containers(void)
{
	expect("literals", "{\"t\":true,\"f\":false,\"n\":null}",
		   "t", "T", "f", "F", "n", "Z");
	expect("raw objects and arrays",
		   "{\"o\":{ \"k\" : [1, 2.50, {\"x\":null}] , \"e\":\"\\u00e9\"},\"a\":[ ],"
		   "\"b\":[true,false,\"s\"],\"eo\":{}}",
		   "o", "O:{ \"k\" : [1, 2.50, {\"x\":null}] , \"e\":\"\\u00e9\"}",
		   "a", "A:[ ]", "b", "A:[true,false,\"s\"]", "eo", "O:{}",
		   "o.k", "A:[1, 2.50, {\"x\":null}]");

	expect_error("invalid literal", "{\"a\":tru}", 5, "invalid literal");
	expect_error("capitalized literal", "{\"a\":True}", 5, "expected a value");
	expect_error("literal with tail", "{\"a\":nullx}", 9, "expected ',' or '}'");
	expect_error("truncated literal", "{\"a\":fals", 9, "end of line");
}

static void
test_duplicates(void)
{
	expect("scalar duplicate", "{\"a\":1,\"b\":2,\"a\":3}", "a", "N:3", "b", "N:2");
	expect("object then object",
		   "{\"a\":{\"b\":1,\"x\":9},\"a\":{\"c\":2}}",
		   "a.b", "M", "a.c", "N:2", "a.x", "M", "a", "O:{\"c\":2}");
	expect("object then scalar", "{\"a\":{\"b\":1},\"a\":5}",
		   "a.b", "M", "a", "N:5");
	expect("scalar then object", "{\"a\":5,\"a\":{\"b\":1}}",
		   "a.b", "N:1", "a", "O:{\"b\":1}");
	expect("object then partial object",
		   "{\"a\":{\"b\":{\"c\":1,\"d\":2}},\"a\":{\"b\":{\"c\":3}}}",
		   "a.b.c", "N:3", "a.b.d", "M");
	expect("inner duplicate", "{\"a\":{\"b\":1,\"b\":\"two\"}}", "a.b", "S:two");
	expect("object then null", "{\"a\":{\"b\":1},\"a\":null}",
		   "a.b", "M", "a", "Z");
	expect("duplicate via escaped name", "{\"ab\":1,\"a\\u0062\":2}", "ab", "N:2");
}

static void
test_names_and_paths(void)
{
	expect("escaped member names",
		   "{\"k\\u0031\":1,\"\\u0061\\u002eb\":2,\"x\\\"y\":3,\"\\u00e9t\\u00e9\":4,"
		   "\"s\\/l\":5,\"n\\nl\":6}",
		   "k1", "N:1", "a\\.b", "N:2", "x\"y", "N:3", "\xc3\xa9t\xc3\xa9", "N:4",
		   "s/l", "N:5", "n\nl", "N:6");
	expect("dotted names vs nesting",
		   "{\"a.b\":1,\"a\":{\"b\":2,\"c.d\":{\"e\":3}},\"a\\\\b\":4}",
		   "a\\.b", "N:1", "a.b", "N:2", "a.c\\.d.e", "N:3", "a\\\\b", "N:4",
		   "a\\\\b\\.c", "M");
	expect("escaped name in nested object",
		   "{\"o\":{\"\\u006b\":\"v\\u0021\"}}", "o.k", "S:v!");
}

static void
test_whitespace(void)
{
	expect("whitespace everywhere",
		   " \t{ \"a\" :\t1 ,\n\"b\"\r: [ 1 , { } ] , \"c\" : { \"d\" : \"x\" } } \t\r",
		   "a", "N:1", "b", "A:[ 1 , { } ]", "c.d", "S:x");
	expect("trailing CR", "{\"a\":\"x\"}\r", "a", "S:x");
	expect("CRLF-ish", "{\"a\":true}\r\n", "a", "T");
}

static void
test_malformed(void)
{
	char	   *bomb;
	size_t		i,
				n;

	expect_error("empty line", "", 0, "empty record");
	expect_error("blank line", "  \r", 3, "empty record");
	expect_error("truncated after {", "{", 1, "end of line");
	expect_error("truncated name", "{\"a", 3, "end of line");
	expect_error("truncated after name", "{\"a\"", 4, "end of line");
	expect_error("truncated after colon", "{\"a\":", 5, "end of line");
	expect_error("truncated string", "{\"a\":\"xyz", 9, "end of line");
	expect_error("truncated after value", "{\"a\":1,", 7, "end of line");
	expect_error("truncated nested", "{\"a\":{\"b\":[1,2", 14, "end of line");
	expect_error("trailing garbage", "{\"a\":1} x", 8, "unexpected data after the record");
	expect_error("second object", "{\"a\":1}{}", 7, "unexpected data");
	expect_error("trailing comma", "{\"a\":1,}", 7, "expected member name");
	expect_error("trailing comma in array", "{\"a\":[1,]}", 8, "expected a value");
	expect_error("trailing comma in nested", "{\"a\":{\"b\":1,}}", 12, "expected member name");
	expect_error("leading comma", "{,\"a\":1}", 1, "expected member name");
	expect_error("double comma", "{\"a\":1,,\"b\":2}", 7, "expected member name");
	expect_error("single-quoted name", "{'a':1}", 1, "expected member name");
	expect_error("single-quoted value", "{\"a\":'x'}", 5, "expected a value");
	expect_error("unquoted name", "{a:1}", 1, "expected member name");
	expect_error("missing colon", "{\"a\" 1}", 5, "expected ':'");
	expect_error("missing value", "{\"a\":}", 5, "expected a value");
	expect_error("missing comma", "{\"a\":1 \"b\":2}", 7, "expected ',' or '}'");
	expect_error("top-level array", "[1,2]", 0, "expected '{'");
	expect_error("top-level number", "1", 0, "expected '{'");
	expect_error("top-level string", "\"x\"", 0, "expected '{'");
	expect_error("top-level null", " null", 1, "expected '{'");
	expect_error("unbalanced ]", "{\"a\":[1}", 7, "expected ',' or ']'");
	expect_error("unbalanced }", "{\"a\":{\"b\":1]}", 11, "expected ',' or '}'");
	expect_error("extra }", "{\"a\":1}}", 7, "unexpected data");
	expect_error("missing }", "{\"a\":{\"b\":1}", 12, "end of line");
	expect_error("array as member name", "{[1]:1}", 1, "expected member name");
	expect_error("BOM", "\xef\xbb\xbf{\"a\":1}", 0, "expected '{'");
	expect_error_scan_only("vertical tab as whitespace", "{\"a\":\v1}", 5, "expected a value");
	expect_error_len("NUL as whitespace", "{\"a\":1,\0\"b\":2}", 14, 7,
					 "expected member name", false);
	expect_error_len("NUL after record", "{\"a\":1}\0", 8, 7, "unexpected data", true);

	/* depth bombs: must fail cleanly, no stack overflow */
	n = 100000;
	bomb = malloc(n + 16);
	memcpy(bomb, "{\"a\":", 5);
	memset(bomb + 5, '[', n);
	bomb[5 + n] = '\0';
	expect_error("depth bomb [", bomb, 5 + 511, "nesting too deep");
	free(bomb);

	/* objects off the requested path, so the skipping scanner is used */
	bomb = malloc(5 * 100000 + 16);
	for (i = 0; i < 100000; i++)
		memcpy(bomb + 5 * i, i == 0 ? "{\"a\":" : "{\"x\":", 5);
	bomb[5 * 100000] = '\0';
	expect_error("depth bomb {", bomb, 5 * 512, "nesting too deep");
	free(bomb);

	/* objects along the requested path, so the descending walk is used */
	bomb = malloc(5 * 600 + 600 + 16);
	for (n = 0, i = 0; i < 600; i++)
	{
		memcpy(bomb + n, "{\"a\":", 5);
		n += 5;
	}
	bomb[n++] = '1';
	for (i = 0; i < 600; i++)
		bomb[n++] = '}';
	bomb[n] = '\0';
	expect_error_scan_only("depth bomb along path", bomb, 5 * 512, "nesting too deep");
	free(bomb);
}

/* Nesting of exactly 512 levels is accepted, 513 refused. */
static void
test_depth_limit(void)
{
	char	   *buf = malloc(8192);
	char	   *want = malloc(8192);
	char	   *path = malloc(2048);
	size_t		n = 0,
				i;

	/* the record object plus 511 arrays */
	memcpy(buf, "{\"a\":", 5);
	n = 5;
	for (i = 0; i < 511; i++)
		buf[n++] = '[';
	for (i = 0; i < 511; i++)
		buf[n++] = ']';
	buf[n++] = '}';
	buf[n] = '\0';
	memcpy(want, "A:", 2);
	memcpy(want + 2, buf + 5, 1022);
	want[1024] = '\0';
	expect("512 levels of arrays", buf, "a", want);

	/* 512 objects nested along the requested path a.a...a.b */
	n = 0;
	for (i = 0; i < 511; i++)
	{
		memcpy(buf + n, "{\"a\":", 5);
		n += 5;
	}
	memcpy(buf + n, "{\"b\":7", 6);
	n += 6;
	for (i = 0; i < 512; i++)
		buf[n++] = '}';
	buf[n] = '\0';
	path[0] = '\0';
	for (i = 0; i < 511; i++)
		strcat(path, "a.");
	strcat(path, "b");
	expect_len("512 levels of objects", buf, (size_t) -1, path, "N:7", NULL);

	/* the same with b's value an array: 513 levels */
	n = 511 * 5;
	memcpy(buf + n, "{\"b\":[]", 7);
	n += 7;
	for (i = 0; i < 512; i++)
		buf[n++] = '}';
	buf[n] = '\0';
	expect_error_len("513 levels", buf, n, 511 * 5 + 5, "nesting too deep", false);

	free(buf);
	free(want);
	free(path);
}

static void
test_create_errors(void)
{
	static const struct
	{
		const char *path;
		const char *msg;
	}			bad[] = {
		{"", "empty"},
		{"a..b", "empty path segment"},
		{".a", "empty path segment"},
		{"a.", "empty path segment"},
		{"a\\x", "invalid escape"},
		{"a\\", "trailing backslash"},
		{"\\", "trailing backslash"},
	};
	const char *ok[] = {"a\\.b", "a\\\\b", "\\.", "x.y.z", "\xc3\xa9"};
	const char *withnull[] = {"a", NULL};
	size_t		i;
	int			impl;

	for (impl = JSONL_IMPL_SCAN; impl <= JSONL_IMPL_CJSON; impl++)
	{
		char		err[256];
		JsonlExtractor *ex;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			const char *p[] = {"fine", bad[i].path};

			err[0] = '\0';
			ex = JsonlExtractorCreate(impl, p, 2, err, sizeof(err));
			CHECK(ex == NULL && strstr(err, bad[i].msg) != NULL,
				  "path \"%s\" should fail with \"%s\": %s",
				  bad[i].path, bad[i].msg, err);
			JsonlExtractorFree(ex);
		}
		ex = JsonlExtractorCreate(impl, withnull, 2, err, sizeof(err));
		CHECK(ex == NULL && err[0] != '\0', "NULL path accepted");
		ex = JsonlExtractorCreate(impl, ok, -1, err, sizeof(err));
		CHECK(ex == NULL && err[0] != '\0', "npaths -1 accepted");
		ex = JsonlExtractorCreate(impl, ok, 5, err, sizeof(err));
		CHECK(ex != NULL, "good paths refused: %s", err);
		JsonlExtractorFree(ex);
		ex = JsonlExtractorCreate(impl, NULL, 0, err, sizeof(err));
		CHECK(ex != NULL, "zero paths refused: %s", err);
		JsonlExtractorFree(ex);
	}
	JsonlExtractorFree(NULL);
}

/* SCAN hands out slices of the line itself when nothing needs unescaping. */
static void
test_zero_copy(void)
{
	const char *line = "{\"s\":\"abc\",\"n\":12,\"o\":{\"x\":1},\"e\":\"a\\nb\"}";
	const char *paths[] = {"s", "n", "o", "e"};
	JsonlField	out[4];
	char		err[256];
	JsonlExtractor *ex = JsonlExtractorCreate(JSONL_IMPL_SCAN, paths, 4, err, sizeof(err));

	CHECK(JsonlExtract(ex, line, strlen(line), out, err, sizeof(err)), "%s", err);
	CHECK(out[0].ptr == line + 6, "string not zero-copy");
	CHECK(out[1].ptr == line + 15, "number not zero-copy");
	CHECK(out[2].ptr == line + 22, "object not zero-copy");
	CHECK(out[3].ptr < line || out[3].ptr >= line + strlen(line),
		  "escaped string must be decoded elsewhere");

	/* scratch grows for a longer line; the new record's fields are right */
	{
		char		big[20000];
		size_t		n = 0;
		int			i;

		n += sprintf(big, "{\"e\":\"");
		for (i = 0; i < 2000; i++)
			n += sprintf(big + n, "\\n\\u00e9");
		n += sprintf(big + n, "\",\"s\":\"tail\\t\"}");
		CHECK(JsonlExtract(ex, big, n, out, err, sizeof(err)), "%s", err);
		CHECK(out[3].type == JSONL_STRING && out[3].len == 6000 &&
			  memcmp(out[3].ptr, "\n\xc3\xa9\n", 4) == 0, "long escaped string");
		CHECK(out[0].type == JSONL_STRING && out[0].len == 5 &&
			  memcmp(out[0].ptr, "tail\t", 5) == 0, "second escaped string");
	}
	JsonlExtractorFree(ex);
}

/*
 * Differential test: random valid records, both implementations, every
 * field compared.
 */
typedef struct Buf
{
	char	   *data;
	size_t		len,
				cap;
} Buf;

static void
buf_add(Buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 1024;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
buf_str(Buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static unsigned
rndn(unsigned n)
{
	return (unsigned) (rnd() % n);
}

static void
gen_ws(Buf *b)
{
	static const char *ws[] = {" ", "\t", "\n", "\r", "  "};

	while (rndn(6) == 0)
		buf_str(b, ws[rndn(5)]);
}

static const char *const keys[] = {"a", "b", "c", "d"};

/* A string body with every kind of content and escape. */
static void
gen_string_body(Buf *b, const char *plain)
{
	char		tmp[32];
	int			n = rndn(12),
				i;

	if (plain)
	{
		/* a vocabulary key, maybe with a char escaped */
		for (i = 0; plain[i]; i++)
		{
			if (rndn(4) == 0)
			{
				snprintf(tmp, sizeof(tmp), rndn(2) ? "\\u%04x" : "\\u%04X",
						 (unsigned char) plain[i]);
				buf_str(b, tmp);
			}
			else
				buf_add(b, plain + i, 1);
		}
		return;
	}
	for (i = 0; i < n; i++)
	{
		switch (rndn(14))
		{
			case 0:
				buf_str(b, "\\\"");
				break;
			case 1:
				buf_str(b, "\\\\");
				break;
			case 2:
				buf_str(b, "\\/");
				break;
			case 3:
				{
					static const char *e[] = {"\\b", "\\f", "\\n", "\\r", "\\t"};

					buf_str(b, e[rndn(5)]);
				}
				break;
			case 4:
				snprintf(tmp, sizeof(tmp), "\\u%04x", 1 + rndn(0x7f));
				buf_str(b, tmp);
				break;
			case 5:
				{
					unsigned	cp;

					do
						cp = 0x80 + rndn(0x10000 - 0x80);
					while (cp >= 0xD800 && cp <= 0xDFFF);
					snprintf(tmp, sizeof(tmp), "\\u%04X", cp);
					buf_str(b, tmp);
				}
				break;
			case 6:
				{
					unsigned	cp = 0x10000 + rndn(0x100000);

					snprintf(tmp, sizeof(tmp), "\\u%04x\\u%04x",
							 0xD800 + ((cp - 0x10000) >> 10),
							 0xDC00 + ((cp - 0x10000) & 0x3FF));
					buf_str(b, tmp);
				}
				break;
			case 7:
				buf_str(b, "\xc3\xa9");
				break;
			case 8:
				buf_str(b, "\xe2\x82\xac");
				break;
			case 9:
				buf_str(b, "\xf0\x9f\x98\x80");
				break;
			default:
				tmp[0] = (char) (' ' + rndn(95));
				if (tmp[0] == '"' || tmp[0] == '\\')
					tmp[0] = '_';
				buf_add(b, tmp, 1);
				break;
		}
	}
}

static void
gen_number(Buf *b)
{
	char		tmp[64];
	uint64_t	m = rnd() & ((1ULL << 53) - 1);
	const char *sign = rndn(2) ? "-" : "";
	unsigned	r1 = rndn(53),
				r2 = rndn(1000000),
				r3 = rndn(1000),
				r4 = rndn(12),
				r5 = rndn(6);

	/* draw every random number up front: argument order is unspecified */
	switch (rndn(5))
	{
		case 0:
			snprintf(tmp, sizeof(tmp), "%s%llu", sign,
					 (unsigned long long) (m >> r1));
			break;
		case 1:
			snprintf(tmp, sizeof(tmp), "%s%llu.%u", sign,
					 (unsigned long long) (m >> r1), r2);
			break;
		case 2:
			snprintf(tmp, sizeof(tmp), "%u%s%c%s%u", r3,
					 (r5 & 1) ? ".5" : "", (r5 & 2) ? 'e' : 'E',
					 r5 >= 4 ? "+" : sign, r4);
			break;
		case 3:
			snprintf(tmp, sizeof(tmp), "%s0.%06u", sign, r2);
			break;
		default:
			snprintf(tmp, sizeof(tmp), "%u", r3 % 100);
			break;
	}
	buf_str(b, tmp);
}

static void gen_value(Buf *b, int depth);

static void
gen_object(Buf *b, int depth)
{
	int			n = depth == 0 ? 2 + rndn(8) : rndn(5),
				i;

	buf_str(b, "{");
	gen_ws(b);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
		{
			buf_str(b, ",");
			gen_ws(b);
		}
		buf_str(b, "\"");
		if (rndn(8) == 0)
			gen_string_body(b, NULL);
		else
			gen_string_body(b, keys[rndn(4)]);
		buf_str(b, "\"");
		gen_ws(b);
		buf_str(b, ":");
		gen_ws(b);
		gen_value(b, depth + 1);
		gen_ws(b);
	}
	buf_str(b, "}");
}

static void
gen_value(Buf *b, int depth)
{
	unsigned	r = rndn(depth < 4 ? 10 : 7);

	switch (r)
	{
		case 0:
		case 1:
			buf_str(b, "\"");
			gen_string_body(b, NULL);
			buf_str(b, "\"");
			break;
		case 2:
		case 3:
			gen_number(b);
			break;
		case 4:
			buf_str(b, "true");
			break;
		case 5:
			buf_str(b, rndn(2) ? "false" : "null");
			break;
		case 6:
			buf_str(b, rndn(2) ? "\"x\"" : "7");
			break;
		case 7:
			{
				int			n = rndn(4),
							i;

				buf_str(b, "[");
				gen_ws(b);
				for (i = 0; i < n; i++)
				{
					if (i > 0)
					{
						buf_str(b, ",");
						gen_ws(b);
					}
					gen_value(b, depth + 1);
					gen_ws(b);
				}
				buf_str(b, "]");
			}
			break;
		default:
			gen_object(b, depth);
			break;
	}
}

static bool
fields_agree(const JsonlField *s, const JsonlField *c)
{
	if (s->type != c->type)
		return false;
	switch (s->type)
	{
		case JSONL_STRING:
			return s->len == c->len && memcmp(s->ptr, c->ptr, s->len) == 0;
		case JSONL_NUMBER:
			return num_of(s->ptr, s->len) == num_of(c->ptr, c->len);
		case JSONL_OBJECT:
		case JSONL_ARRAY:
			return json_text_equal(s->ptr, s->len, c->ptr, c->len);
		default:
			return true;
	}
}

static void
test_differential(void)
{
	const char *paths[MAXP];
	char		pathbuf[MAXP][16];
	int			np = 0,
				i,
				j,
				k,
				rec;
	JsonlExtractor *scan,
			   *cj;
	JsonlField	so[MAXP],
				co[MAXP];
	char		err[256];
	Buf			b = {0};
	int			agree = 0,
				present = 0;

	/* every path of up to three vocabulary keys */
	for (i = 0; i < 4; i++)
	{
		snprintf(pathbuf[np], 16, "%s", keys[i]);
		np++;
		for (j = 0; j < 4; j++)
		{
			snprintf(pathbuf[np], 16, "%s.%s", keys[i], keys[j]);
			np++;
			for (k = 0; k < 4; k++)
			{
				snprintf(pathbuf[np], 16, "%s.%s.%s", keys[i], keys[j], keys[k]);
				np++;
			}
		}
	}
	for (i = 0; i < np; i++)
		paths[i] = pathbuf[i];

	scan = JsonlExtractorCreate(JSONL_IMPL_SCAN, paths, np, err, sizeof(err));
	cj = JsonlExtractorCreate(JSONL_IMPL_CJSON, paths, np, err, sizeof(err));
	CHECK(scan && cj, "create: %s", err);

	for (rec = 0; rec < 5000; rec++)
	{
		bool		ok1,
					ok2;
		int			bad = 0;

		b.len = 0;
		gen_ws(&b);
		gen_object(&b, 0);
		gen_ws(&b);

		ok1 = JsonlExtract(scan, b.data, b.len, so, err, sizeof(err));
		CHECK(ok1, "record %d: scan refused valid record: %s\n%s", rec, err, b.data);
		ok2 = JsonlExtract(cj, b.data, b.len, co, err, sizeof(err));
		CHECK(ok2, "record %d: cjson refused valid record: %s\n%s", rec, err, b.data);
		if (!ok1 || !ok2)
			continue;
		for (i = 0; i < np; i++)
		{
			if (!fields_agree(&so[i], &co[i]))
			{
				char		s1[256];

				snprintf(s1, sizeof(s1), "%s", render(&so[i]));
				CHECK(false, "record %d path %s: scan [%s] cjson [%s]\n%s",
					  rec, paths[i], s1, render(&co[i]), b.data);
				bad++;
			}
			else if (so[i].type != JSONL_MISSING)
				present++;
		}
		if (bad == 0)
			agree++;
	}
	CHECK(agree == 5000, "%d of 5000 records agree", agree);
	/* make sure the generator actually exercises the paths */
	CHECK(present > 5000 * 3, "only %d fields present", present);
	printf("differential: %d records agree, %d present fields compared\n",
		   agree, present);
	free(b.data);
	JsonlExtractorFree(scan);
	JsonlExtractorFree(cj);
}

int
main(void)
{
	test_basic();
	test_strings();
	test_numbers();
	test_literals_and_containers();
	test_duplicates();
	test_names_and_paths();
	test_whitespace();
	test_malformed();
	test_depth_limit();
	test_create_errors();
	test_zero_copy();
	test_differential();
	return unit_finish("test_jsonl");
}
