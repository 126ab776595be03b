/*-------------------------------------------------------------------------
 *
 * fuzz_jsonl.c
 *		libFuzzer target: the JSON-lines scanner against cJSON and a strict
 *		RFC 8259 validator.
 *
 * Input: the first line holds up to four paths separated by '|', the rest
 * is the record.  Without a newline the whole input is the record and a
 * fixed set of paths is used.
 *
 * Checks (abort() on any failure, so the fuzzer reports it):
 *	- JSONL_IMPL_SCAN accepts exactly what strict_record() below accepts: an
 *	  independent recursive-descent reading of RFC 8259 plus the extractor's
 *	  own rules (top level is an object, at most 512 levels of nesting, no
 *	  \u0000, no unpaired surrogate escapes).
 *	- acceptance does not depend on the requested paths, and a second call
 *	  on the same extractor gives the same fields.
 *	- errors name a byte offset within the line.
 *	- when SCAN and JSONL_IMPL_CJSON both accept, they agree field by field:
 *	  types equal, strings byte-equal, numbers numerically equal, objects
 *	  and arrays equal as parsed trees.
 *	- when SCAN accepts, CJSON accepts too.  (cJSON 1.7.15 without the
 *	  CVE-2023-26819 fix refuses numbers longer than 63 characters; only
 *	  that case is let through.  Debian's 1.7.15-1+deb12u3 and later have
 *	  the fix.)
 *
 * When cJSON accepts what SCAN refuses, SCAN is right (the strict validator
 * says so); these are cJSON's known leniencies and are not reported:
 *	- numbers: leading zeros ("01", "-01"), a bare trailing dot ("1.",
 *	  "1.e5"), since it hands any run of [0-9+-.eE] to strtod;
 *	- raw control characters (< 0x20) inside strings;
 *	- any byte <= 0x20, NUL and \v and \f included, as whitespace;
 *	- nesting up to 1000 levels (the extractor stops at 512);
 *	- (a leading BOM and \u escapes with bad hex digits, which cJSON takes
 *	  as NUL, are refused by the CJSON implementation before cJSON sees
 *	  the line.)
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_jsonl.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "format/jsonl_extract.h"

#define MAX_PATHS 4
#define STRICT_MAX_DEPTH 512

#define FAIL(...) \
	do { \
		fprintf(stderr, "fuzz_jsonl: "); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} while (0)

/* ----------------------------------------------------------------
 * Strict validator.  Deliberately written differently from the scanner
 * (recursive, index-based) so that the two are unlikely to share a bug.
 * ----------------------------------------------------------------
 */
typedef struct Strict
{
	const unsigned char *s;
	size_t		n;
	size_t		i;
	int			depth;
} Strict;

static bool strict_value(Strict *v);

static void
strict_ws(Strict *v)
{
	while (v->i < v->n && (v->s[v->i] == ' ' || v->s[v->i] == '\t' ||
						   v->s[v->i] == '\n' || v->s[v->i] == '\r'))
		v->i++;
}

static int
strict_hex(Strict *v, size_t at)
{
	int			r = 0,
				k;

	if (at + 4 > v->n)
		return -1;
	for (k = 0; k < 4; k++)
	{
		int			c = v->s[at + k];
		int			d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		r = r * 16 + d;
	}
	return r;
}

static bool
strict_string(Strict *v)
{
	if (v->i >= v->n || v->s[v->i] != '"')
		return false;
	v->i++;
	while (v->i < v->n)
	{
		unsigned char c = v->s[v->i];

		if (c == '"')
		{
			v->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c != '\\')
		{
			v->i++;
			continue;
		}
		if (v->i + 1 >= v->n)
			return false;
		c = v->s[v->i + 1];
		if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
			c == 'n' || c == 'r' || c == 't')
		{
			v->i += 2;
			continue;
		}
		if (c != 'u')
			return false;
		{
			int			u = strict_hex(v, v->i + 2);

			if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF))
				return false;
			v->i += 6;
			if (u >= 0xD800 && u <= 0xDBFF)
			{
				int			w;

				if (v->i + 1 >= v->n || v->s[v->i] != '\\' || v->s[v->i + 1] != 'u')
					return false;
				w = strict_hex(v, v->i + 2);
				if (w < 0xDC00 || w > 0xDFFF)
					return false;
				v->i += 6;
			}
		}
	}
	return false;
}

static size_t
strict_digits(Strict *v)
{
	size_t		start = v->i;

	while (v->i < v->n && v->s[v->i] >= '0' && v->s[v->i] <= '9')
		v->i++;
	return v->i - start;
}

static bool
strict_number(Strict *v)
{
	size_t		start;

	if (v->i < v->n && v->s[v->i] == '-')
		v->i++;
	start = v->i;
	if (strict_digits(v) == 0)
		return false;
	if (v->s[start] == '0' && v->i - start > 1)
		return false;
	if (v->i < v->n && v->s[v->i] == '.')
	{
		v->i++;
		if (strict_digits(v) == 0)
			return false;
	}
	if (v->i < v->n && (v->s[v->i] == 'e' || v->s[v->i] == 'E'))
	{
		v->i++;
		if (v->i < v->n && (v->s[v->i] == '+' || v->s[v->i] == '-'))
			v->i++;
		if (strict_digits(v) == 0)
			return false;
	}
	return true;
}

static bool
strict_word(Strict *v, const char *w)
{
	size_t		l = strlen(w);

	if (v->n - v->i < l || memcmp(v->s + v->i, w, l) != 0)
		return false;
	v->i += l;
	return true;
}

/* Object or array at v->i (caller saw '{' or '['). */
static bool
strict_container(Strict *v, bool object)
{
	unsigned char close = object ? '}' : ']';

	if (++v->depth > STRICT_MAX_DEPTH)
		return false;
	v->i++;
	strict_ws(v);
	if (v->i < v->n && v->s[v->i] == close)
	{
		v->i++;
		v->depth--;
		return true;
	}
	for (;;)
	{
		if (object)
		{
			if (!strict_string(v))
				return false;
			strict_ws(v);
			if (v->i >= v->n || v->s[v->i] != ':')
				return false;
			v->i++;
			strict_ws(v);
		}
		if (!strict_value(v))
			return false;
		strict_ws(v);
		if (v->i >= v->n)
			return false;
		if (v->s[v->i] == close)
		{
			v->i++;
			v->depth--;
			return true;
		}
		if (v->s[v->i] != ',')
			return false;
		v->i++;
		strict_ws(v);
	}
}

static bool
strict_value(Strict *v)
{
	if (v->i >= v->n)
		return false;
	switch (v->s[v->i])
	{
		case '{':
			return strict_container(v, true);
		case '[':
			return strict_container(v, false);
		case '"':
			return strict_string(v);
		case 't':
			return strict_word(v, "true");
		case 'f':
			return strict_word(v, "false");
		case 'n':
			return strict_word(v, "null");
		default:
			return strict_number(v);
	}
}

static bool
strict_record(const unsigned char *s, size_t n)
{
	Strict		v = {s, n, 0, 0};

	strict_ws(&v);
	if (v.i >= n || s[v.i] != '{')
		return false;
	if (!strict_value(&v))
		return false;
	strict_ws(&v);
	return v.i == n;
}

/* Does s contain a run of more than 63 number characters (old cJSON's limit)? */
static bool
has_long_number(const unsigned char *s, size_t n)
{
	size_t		run = 0,
				i;

	for (i = 0; i < n; i++)
	{
		if (strchr("0123456789+-.eE", s[i]) != NULL && s[i] != '\0')
		{
			if (++run > 63)
				return true;
		}
		else
			run = 0;
	}
	return false;
}

/* ----------------------------------------------------------------
 * Field comparison
 * ----------------------------------------------------------------
 */
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

/*
 * Trees equal, member order and duplicates included.  Numbers may differ in
 * the last bits (cJSON prints 15 digits when they are within its epsilon)
 * and cJSON prints a number that overflowed to infinity as null.
 */
static bool
tree_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && (a->valuedouble > 1.7e308 || a->valuedouble < -1.7e308))
		return cJSON_IsNull(b) || cJSON_IsNumber(b);
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return false;
	if (cJSON_IsNumber(a))
	{
		double		x = a->valuedouble,
					y = b->valuedouble;
		double		m = (x < 0 ? -x : x) > (y < 0 ? -y : y) ? (x < 0 ? -x : x) : (y < 0 ? -y : y);
		double		d = x > y ? x - y : y - x;

		return x == y || d <= m * 1e-15;
	}
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

static void
compare_fields(const char *path, const JsonlField *s, const JsonlField *c,
			   const unsigned char *rec, size_t reclen)
{
	if (s->type != c->type)
		FAIL("path %s: scan type %d, cjson type %d", path, s->type, c->type);
	if (s->type == JSONL_MISSING)
		return;
	if (s->ptr == NULL)
		FAIL("path %s: NULL ptr", path);
	switch (s->type)
	{
		case JSONL_STRING:
			if (s->len != c->len || memcmp(s->ptr, c->ptr, s->len) != 0)
				FAIL("path %s: strings differ: scan \"%.*s\" cjson \"%.*s\"", path,
					 (int) s->len, s->ptr, (int) c->len, c->ptr);
			break;
		case JSONL_NUMBER:
			{
				double		x = num_of(s->ptr, s->len),
							y = num_of(c->ptr, c->len);

				/* cJSON's double is strtod of the same text: exact */
				if (x != y)
					FAIL("path %s: numbers differ: scan %.*s cjson %.*s", path,
						 (int) s->len, s->ptr, (int) c->len, c->ptr);
			}
			break;
		case JSONL_TRUE:
		case JSONL_FALSE:
		case JSONL_NULL:
			{
				const char *w = s->type == JSONL_TRUE ? "true" :
					s->type == JSONL_FALSE ? "false" : "null";

				if (s->len != strlen(w) || memcmp(s->ptr, w, s->len) != 0)
					FAIL("path %s: literal text \"%.*s\"", path, (int) s->len, s->ptr);
			}
			break;
		case JSONL_OBJECT:
		case JSONL_ARRAY:
			{
				cJSON	   *x,
						   *y;

				/* raw text: a slice of the record */
				if ((const unsigned char *) s->ptr < rec ||
					(const unsigned char *) s->ptr + s->len > rec + reclen)
					FAIL("path %s: raw text outside the record", path);
				x = cJSON_ParseWithLength(s->ptr, s->len);
				y = cJSON_ParseWithLength(c->ptr, c->len);
				if (x == NULL || y == NULL || !tree_equal(x, y))
					FAIL("path %s: values differ: scan %.*s cjson %.*s", path,
						 (int) s->len, s->ptr, (int) c->len, c->ptr);
				cJSON_Delete(x);
				cJSON_Delete(y);
			}
			break;
		default:
			FAIL("path %s: bad type %d", path, s->type);
	}
}

static void
check_error(const char *who, const char *err, size_t len)
{
	unsigned long off;

	if (sscanf(err, "invalid JSON at byte %lu:", &off) != 1)
		FAIL("%s: error without offset: %s", who, err);
	if (off > len)
		FAIL("%s: offset %lu beyond line of %zu bytes: %s", who, off, len, err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const default_paths[] = {"a", "a.b", "b", "c.d"};
	char		pathbuf[256];
	const char *paths[MAX_PATHS];
	int			npaths = 0;
	const unsigned char *rec = data;
	size_t		reclen = size;
	const uint8_t *nl = memchr(data, '\n', size < 200 ? size : 200);
	JsonlExtractor *scan,
			   *cj,
			   *bare;
	JsonlField	so[MAX_PATHS],
				so2[MAX_PATHS],
				co[MAX_PATHS],
				bo[1];
	char		err[256],
				err2[256];
	bool		scan_ok,
				cj_ok,
				bare_ok,
				strict_ok;
	unsigned char *copy;
	int			i;

	if (nl != NULL)
	{
		size_t		plen = nl - data;
		char	   *p;

		memcpy(pathbuf, data, plen);
		pathbuf[plen] = '\0';
		if (memchr(pathbuf, '\0', plen) != NULL)
			return 0;
		p = pathbuf;
		paths[npaths++] = p;
		while ((p = strchr(p, '|')) != NULL && npaths < MAX_PATHS)
		{
			*p++ = '\0';
			paths[npaths++] = p;
		}
		if (p != NULL)
			*p = '\0';
		rec = nl + 1;
		reclen = size - plen - 1;
	}
	else
	{
		for (i = 0; i < MAX_PATHS; i++)
			paths[i] = default_paths[i];
		npaths = MAX_PATHS;
	}

	/* an exact-size copy, so ASan sees any read past the line */
	copy = malloc(reclen ? reclen : 1);
	memcpy(copy, rec, reclen);
	rec = copy;

	scan = JsonlExtractorCreate(JSONL_IMPL_SCAN, paths, npaths, err, sizeof(err));
	cj = JsonlExtractorCreate(JSONL_IMPL_CJSON, paths, npaths, err2, sizeof(err2));
	if ((scan == NULL) != (cj == NULL))
		FAIL("create disagrees: %s / %s", err, err2);
	if (scan == NULL)
	{
		if (err[0] == '\0' || strcmp(err, err2) != 0)
			FAIL("create error messages: \"%s\" / \"%s\"", err, err2);
		free(copy);
		return 0;
	}
	bare = JsonlExtractorCreate(JSONL_IMPL_SCAN, NULL, 0, err, sizeof(err));
	if (bare == NULL)
		FAIL("create with no paths: %s", err);

	strict_ok = strict_record(rec, reclen);
	scan_ok = JsonlExtract(scan, (const char *) rec, reclen, so, err, sizeof(err));
	if (scan_ok != strict_ok)
		FAIL("scan %s, strict validator %s (%s)", scan_ok ? "accepts" : "refuses",
			 strict_ok ? "accepts" : "refuses", scan_ok ? "" : err);
	if (!scan_ok)
		check_error("scan", err, reclen);

	bare_ok = JsonlExtract(bare, (const char *) rec, reclen, bo, err2, sizeof(err2));
	if (bare_ok != scan_ok)
		FAIL("acceptance depends on the paths: %s / %s", err, err2);
	if (!scan_ok && strcmp(err, err2) != 0)
		FAIL("error depends on the paths: %s / %s", err, err2);

	/* a second pass over the same line, reusing the scratch space */
	if (scan_ok)
	{
		memcpy(so2, so, sizeof(so));
		if (!JsonlExtract(scan, (const char *) rec, reclen, so, err, sizeof(err)))
			FAIL("second pass failed: %s", err);
		for (i = 0; i < npaths; i++)
			if (so[i].type != so2[i].type || so[i].len != so2[i].len ||
				(so[i].len > 0 && memcmp(so[i].ptr, so2[i].ptr, so[i].len) != 0))
				FAIL("second pass differs at path %s", paths[i]);
	}

	cj_ok = JsonlExtract(cj, (const char *) rec, reclen, co, err2, sizeof(err2));
	if (!cj_ok)
		check_error("cjson", err2, reclen);
	if (scan_ok && !cj_ok && !has_long_number(rec, reclen))
		FAIL("scan accepts, cjson refuses: %s", err2);

	if (scan_ok && cj_ok)
		for (i = 0; i < npaths; i++)
			compare_fields(paths[i], &so[i], &co[i], rec, reclen);

	JsonlExtractorFree(scan);
	JsonlExtractorFree(cj);
	JsonlExtractorFree(bare);
	free(copy);
	return 0;
}
