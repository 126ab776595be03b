/*-------------------------------------------------------------------------
 *
 * jsonl_extract.c
 *		Pull the fields a query needs out of one JSON-lines record.
 *
 * Two implementations of the interface in jsonl_extract.h:
 *
 * JSONL_IMPL_SCAN is a hand-written single-pass scanner.  It is hand-written
 * because cJSON builds a whole tree for every record and converts every
 * number to a double (losing digits past 2^53), paying for fields the query
 * never reads; no library packaged by Debian offers a validating skip-scanner
 * that hands out zero-copy slices of the requested fields.  The requested
 * paths are compiled into a small trie of member names.  The scanner walks
 * the top-level object; a member whose name matches a trie node is descended
 * into (object value, node has children) and/or recorded (node is a
 * requested path); every other value is skipped, but still validated in
 * full, so whether a line is accepted never depends on which columns a query
 * asks for.
 *
 * JSONL_IMPL_CJSON parses with cJSON and walks the tree.  It is the reference
 * the scanner is tested and fuzzed against, with known differences:
 *	- numbers: cJSON keeps only a double, so the text handed out is the
 *	  double reprinted (shortest of %.15g/%.16g/%.17g that round-trips;
 *	  integral values below 2^53 printed exactly).  Digits beyond 2^53 are
 *	  lost, and tests compare numbers numerically.
 *	- objects/arrays: the text is cJSON_PrintUnformatted of the subtree, not
 *	  the raw text; tests compare them semantically.
 *	- cJSON is more lenient than RFC 8259: it takes leading zeros and "1.",
 *	  raw control characters in strings, and any byte <= 0x20 as whitespace.
 *	  (A leading BOM, and \u escapes with bad hex digits, which cJSON would
 *	  turn into a NUL, are refused here before cJSON sees the line.)  It
 *	  allows 1000 levels of nesting, the scanner 512.  (cJSON 1.7.15 without
 *	  the CVE-2023-26819 fix also refuses numbers longer than 63 characters.)
 *	  The scanner is the strict one; test/fuzz/fuzz_jsonl.c checks it against
 *	  an independent validator.
 *
 * Both implementations refuse "\u0000" (SQL text cannot hold NUL) and
 * unpaired surrogate escapes, in any string of the line.
 *
 * IDENTIFICATION
 *		src/format/jsonl_extract.c
 *
 *-------------------------------------------------------------------------
 */
#include "jsonl_extract.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/*
 * Maximum nesting of objects and arrays, the top-level object counting as
 * one level.  Deeper input is an error, not a stack overflow: the skip path
 * is iterative, and the descending path recurses at most this deep.
 */
#define JSONL_MAX_DEPTH 512

/* One member name in the trie of requested paths; node 0 is the record. */
typedef struct TrieNode
{
	const char *name;			/* unescaped member name (not NUL-terminated) */
	size_t		namelen;
	int			parent;
	int			first_child;	/* -1 if none */
	int			next_sibling;	/* -1 if none */
	int			field;			/* first path index ending here, or -1 */
	int			sub_first;		/* fields at or below this node are */
	int			sub_count;		/* subfields[sub_first .. +sub_count) */
} TrieNode;

struct JsonlExtractor
{
	JsonlImpl	impl;
	int			npaths;
	int			nnodes;
	TrieNode   *nodes;
	int		   *path_node;		/* trie node of each path */
	int		   *subfields;
	char	   *names;			/* arena holding the nodes' names */

	/* decoded strings; never reallocated during one JsonlExtract call */
	char	   *scratch;
	size_t		scratchcap;

	/* JSONL_IMPL_CJSON only: what the last call's fields point into */
	cJSON	   *tree;
	char	  **prints;			/* per path: cJSON_PrintUnformatted result */
	char	   *numtext;		/* per path: NUMTEXT_LEN bytes */
};

#define NUMTEXT_LEN 40

/*
 * Bytes that end the fast loop over a string's contents: the closing quote,
 * a backslash, and the control characters JSON forbids unescaped.
 */
static const unsigned char str_special[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* '"' */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,	/* '\\' */
};

#define ONES UINT64_C(0x0101010101010101)

static inline bool
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

/*
 * Make sure the scratch buffer holds at least need bytes.  Only called
 * before any field of the current record points into it.
 */
static bool
scratch_reserve(JsonlExtractor *ex, size_t need)
{
	char	   *n;
	size_t		cap;

	if (need <= ex->scratchcap)
		return true;
	cap = ex->scratchcap ? ex->scratchcap : 256;
	while (cap < need)
		cap *= 2;
	n = realloc(ex->scratch, cap);
	if (n == NULL)
		return false;
	ex->scratch = n;
	ex->scratchcap = cap;
	return true;
}


/* ----------------------------------------------------------------
 *		Path specs and the trie
 * ----------------------------------------------------------------
 */

/*
 * Split one path spec into its next segment, unescaping "\." and "\\" into
 * dst.  *sp points at the segment's start and is advanced past the segment
 * and its terminating dot.  Returns the segment's length, or -1 with msg set.
 */
static long
path_segment(const char **sp, char *dst, const char **msg)
{
	const char *s = *sp;
	long		n = 0;

	while (*s != '\0' && *s != '.')
	{
		if (*s == '\\')
		{
			if (s[1] != '.' && s[1] != '\\')
			{
				*msg = s[1] == '\0' ? "trailing backslash" :
					"invalid escape (only \"\\.\" and \"\\\\\" are allowed)";
				return -1;
			}
			s++;
		}
		dst[n++] = *s++;
	}
	if (n == 0)
	{
		*msg = "empty path segment";
		return -1;
	}
	if (*s == '.')
	{
		s++;
		if (*s == '\0')
		{
			*msg = "empty path segment";
			return -1;
		}
	}
	*sp = s;
	return n;
}

/* Find the child of node called name, or -1. */
static inline int
trie_child(const JsonlExtractor *ex, int node, const char *name, size_t len)
{
	int			c;

	for (c = ex->nodes[node].first_child; c >= 0; c = ex->nodes[c].next_sibling)
	{
		const TrieNode *t = &ex->nodes[c];

		if (t->namelen == len && memcmp(t->name, name, len) == 0)
			return c;
	}
	return -1;
}

/*
 * For every node, list the (distinct) fields at or below it, so that a later
 * duplicate member can reset everything an earlier one recorded.
 */
static bool
trie_index_subfields(JsonlExtractor *ex)
{
	int			total = 0;
	int			i,
				n;
	int		   *fill;

	for (i = 0; i < ex->npaths; i++)
	{
		if (ex->nodes[ex->path_node[i]].field != i)
			continue;
		for (n = ex->path_node[i]; n >= 0; n = ex->nodes[n].parent)
		{
			ex->nodes[n].sub_count++;
			total++;
		}
	}
	ex->subfields = malloc(sizeof(int) * (total > 0 ? total : 1));
	fill = calloc(ex->nnodes, sizeof(int));
	if (ex->subfields == NULL || fill == NULL)
	{
		free(fill);
		return false;
	}
	total = 0;
	for (n = 0; n < ex->nnodes; n++)
	{
		ex->nodes[n].sub_first = total;
		total += ex->nodes[n].sub_count;
	}
	for (i = 0; i < ex->npaths; i++)
	{
		if (ex->nodes[ex->path_node[i]].field != i)
			continue;
		for (n = ex->path_node[i]; n >= 0; n = ex->nodes[n].parent)
			ex->subfields[ex->nodes[n].sub_first + fill[n]++] = i;
	}
	free(fill);
	return true;
}

/*
 * Create an extractor; see jsonl_extract.h.  paths[0..npaths-1] must be
 * NUL-terminated strings; they are not referenced after return.
 */
JsonlExtractor *
JsonlExtractorCreate(JsonlImpl impl, const char *const *paths, int npaths,
					 char *errbuf, size_t errlen)
{
	JsonlExtractor *ex;
	size_t		namebytes = 0;
	size_t		maxnodes = 1;
	char	   *arena;
	int			i;

	if (errlen > 0)
		errbuf[0] = '\0';
	if (impl != JSONL_IMPL_SCAN && impl != JSONL_IMPL_CJSON)
	{
		snprintf(errbuf, errlen, "unknown JSON extractor implementation %d",
				 (int) impl);
		return NULL;
	}
	if (npaths < 0 || (npaths > 0 && paths == NULL))
	{
		snprintf(errbuf, errlen, "invalid path list");
		return NULL;
	}
	for (i = 0; i < npaths; i++)
	{
		size_t		l;

		if (paths[i] == NULL || paths[i][0] == '\0')
		{
			snprintf(errbuf, errlen, "path %d is %s", i + 1,
					 paths[i] == NULL ? "NULL" : "empty");
			return NULL;
		}
		l = strlen(paths[i]);
		namebytes += l;
		maxnodes += l;			/* a segment has at least one byte */
	}

	ex = calloc(1, sizeof(JsonlExtractor));
	if (ex == NULL)
		goto oom;
	ex->impl = impl;
	ex->npaths = npaths;
	ex->nodes = malloc(sizeof(TrieNode) * maxnodes);
	ex->path_node = malloc(sizeof(int) * (npaths > 0 ? npaths : 1));
	ex->names = malloc(namebytes > 0 ? namebytes : 1);
	if (ex->nodes == NULL || ex->path_node == NULL || ex->names == NULL)
		goto oom;

	memset(&ex->nodes[0], 0, sizeof(TrieNode));
	ex->nodes[0].parent = -1;
	ex->nodes[0].first_child = -1;
	ex->nodes[0].next_sibling = -1;
	ex->nodes[0].field = -1;
	ex->nnodes = 1;

	arena = ex->names;
	for (i = 0; i < npaths; i++)
	{
		const char *s = paths[i];
		int			cur = 0;

		while (*s != '\0')
		{
			const char *msg = NULL;
			long		n = path_segment(&s, arena, &msg);
			int			c;

			if (n < 0)
			{
				snprintf(errbuf, errlen, "invalid path \"%s\": %s",
						 paths[i], msg);
				JsonlExtractorFree(ex);
				return NULL;
			}
			c = trie_child(ex, cur, arena, (size_t) n);
			if (c < 0)
			{
				TrieNode   *t = &ex->nodes[ex->nnodes];

				t->name = arena;
				t->namelen = (size_t) n;
				t->parent = cur;
				t->first_child = -1;
				t->field = -1;
				t->sub_first = 0;
				t->sub_count = 0;
				/* prepend; order of siblings does not matter */
				t->next_sibling = ex->nodes[cur].first_child;
				ex->nodes[cur].first_child = ex->nnodes;
				c = ex->nnodes++;
				arena += n;
			}
			cur = c;
		}
		if (ex->nodes[cur].field < 0)
			ex->nodes[cur].field = i;
		ex->path_node[i] = cur;
	}

	if (!trie_index_subfields(ex))
		goto oom;

	if (impl == JSONL_IMPL_CJSON && npaths > 0)
	{
		ex->prints = calloc(npaths, sizeof(char *));
		ex->numtext = malloc((size_t) npaths * NUMTEXT_LEN);
		if (ex->prints == NULL || ex->numtext == NULL)
			goto oom;
	}
	return ex;

oom:
	JsonlExtractorFree(ex);
	snprintf(errbuf, errlen, "out of memory");
	return NULL;
}

/* Release an extractor and everything its fields point into (NULL is ok). */
void
JsonlExtractorFree(JsonlExtractor *ex)
{
	int			i;

	if (ex == NULL)
		return;
	if (ex->tree)
		cJSON_Delete(ex->tree);
	if (ex->prints)
	{
		for (i = 0; i < ex->npaths; i++)
			free(ex->prints[i]);
		free(ex->prints);
	}
	free(ex->numtext);
	free(ex->scratch);
	free(ex->names);
	free(ex->subfields);
	free(ex->path_node);
	free(ex->nodes);
	free(ex);
}

/* Reset every output to MISSING. */
static void
fields_reset(const JsonlExtractor *ex, JsonlField *out)
{
	int			i;

	for (i = 0; i < ex->npaths; i++)
	{
		out[i].type = JSONL_MISSING;
		out[i].ptr = NULL;
		out[i].len = 0;
	}
}

/* Paths given more than once share one trie node: copy the first's result. */
static void
fields_copy_duplicates(const JsonlExtractor *ex, JsonlField *out)
{
	int			i;

	for (i = 0; i < ex->npaths; i++)
	{
		int			f = ex->nodes[ex->path_node[i]].field;

		if (f != i)
			out[i] = out[f];
	}
}


/* ----------------------------------------------------------------
 *		JSONL_IMPL_SCAN
 * ----------------------------------------------------------------
 */

typedef struct ScanState
{
	JsonlExtractor *ex;
	const unsigned char *line;
	const unsigned char *end;
	JsonlField *out;
	char	   *scratch_next;	/* first unused byte of ex->scratch */
	const unsigned char *errpos;
	const char *errmsg;
} ScanState;

/*
 * Record an error at p and return NULL, so callers can "return scan_fail()".
 * Running off the end of the line always reads "unexpected end of line".
 */
static const unsigned char *
scan_fail(ScanState *s, const unsigned char *p, const char *msg)
{
	if (s->errmsg == NULL)
	{
		s->errpos = p;
		s->errmsg = p >= s->end ? "unexpected end of line" :
			msg ? msg : "syntax error";
	}
	return NULL;
}

/* Value of four hex digits at p (caller checked they are in bounds), or -1. */
static inline long
hex4(const unsigned char *p)
{
	long		v = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * Validate the escape sequence starting at the backslash p; return the byte
 * after it.  Refuses \u0000 and unpaired surrogates.
 */
static const unsigned char *
scan_escape(ScanState *s, const unsigned char *p)
{
	const unsigned char *end = s->end;
	long		cp,
				lo;

	if (p + 1 >= end)
		return scan_fail(s, end, NULL);
	switch (p[1])
	{
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			return p + 2;
		case 'u':
			break;
		default:
			return scan_fail(s, p, "invalid escape sequence in string");
	}
	if (end - p < 6)
		return scan_fail(s, end, NULL);
	cp = hex4(p + 2);
	if (cp < 0)
		return scan_fail(s, p, "invalid \\u escape in string");
	if (cp == 0)
		return scan_fail(s, p, "\\u0000 cannot be converted to text");
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return scan_fail(s, p, "unpaired low surrogate in \\u escape");
	if (cp < 0xD800 || cp > 0xDBFF)
		return p + 6;
	/* high surrogate: a low one must follow at once */
	if (end - p < 8 || p[6] != '\\' || p[7] != 'u')
	{
		if (end - p < 7 || (end - p == 7 && p[6] == '\\'))
			return scan_fail(s, end, NULL);
		return scan_fail(s, p, "unpaired high surrogate in \\u escape");
	}
	if (end - p < 12)
		return scan_fail(s, end, NULL);
	lo = hex4(p + 8);
	if (lo < 0)
		return scan_fail(s, p + 6, "invalid \\u escape in string");
	if (lo < 0xDC00 || lo > 0xDFFF)
		return scan_fail(s, p, "unpaired high surrogate in \\u escape");
	return p + 12;
}

/*
 * Scan the string whose opening quote is at p, validating it; return the
 * byte after the closing quote (NULL on error).  *has_esc tells whether it
 * contains escapes, i.e. whether it must be decoded before use.
 */
static inline const unsigned char *
scan_string(ScanState *s, const unsigned char *p, bool *has_esc)
{
	const unsigned char *end = s->end;
	bool		esc = false;

	p++;
	for (;;)
	{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

		/*
		 * Eight bytes at a time: flag bytes that are '"', '\\' or below
		 * 0x20 (the usual "has zero byte" bit trick, whose lowest flag is
		 * always exact), and jump to the first one.
		 */
		while (end - p >= 8)
		{
			uint64_t	x,
						m;

			memcpy(&x, p, 8);
			m = ((x - ONES * 0x20) & ~x) |
				(((x ^ (ONES * '"')) - ONES) & ~(x ^ (ONES * '"'))) |
				(((x ^ (ONES * '\\')) - ONES) & ~(x ^ (ONES * '\\')));
			m &= ONES * 0x80;
			if (m != 0)
			{
				p += __builtin_ctzll(m) >> 3;
				break;
			}
			p += 8;
		}
#endif
		while (p < end && !str_special[*p])
			p++;
		if (p >= end)
			return scan_fail(s, p, NULL);
		if (*p == '"')
		{
			*has_esc = esc;
			return p + 1;
		}
		if (*p != '\\')
			return scan_fail(s, p, "unescaped control character in string");
		esc = true;
		p = scan_escape(s, p);
		if (p == NULL)
			return NULL;
	}
}

/* Append code point cp (valid, non-surrogate) to dst as UTF-8. */
static inline char *
put_utf8(char *dst, unsigned long cp)
{
	if (cp < 0x80)
		*dst++ = (char) cp;
	else if (cp < 0x800)
	{
		*dst++ = (char) (0xC0 | (cp >> 6));
		*dst++ = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		*dst++ = (char) (0xE0 | (cp >> 12));
		*dst++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*dst++ = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		*dst++ = (char) (0xF0 | (cp >> 18));
		*dst++ = (char) (0x80 | ((cp >> 12) & 0x3F));
		*dst++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*dst++ = (char) (0x80 | (cp & 0x3F));
	}
	return dst;
}

/*
 * Decode the contents [p, end) of a string already checked by scan_string
 * into dst; return the end of the output.  The output is never longer than
 * the input, which is what lets the scratch buffer be sized from the line.
 */
static char *
decode_string(const unsigned char *p, const unsigned char *end, char *dst)
{
	while (p < end)
	{
		const unsigned char *q = p;
		unsigned long cp;

		while (q < end && *q != '\\')
			q++;
		memcpy(dst, p, q - p);
		dst += q - p;
		if (q >= end)
			break;
		switch (q[1])
		{
			case 'b':
				*dst++ = '\b';
				break;
			case 'f':
				*dst++ = '\f';
				break;
			case 'n':
				*dst++ = '\n';
				break;
			case 'r':
				*dst++ = '\r';
				break;
			case 't':
				*dst++ = '\t';
				break;
			case 'u':
				cp = (unsigned long) hex4(q + 2);
				if (cp >= 0xD800 && cp <= 0xDBFF)
				{
					cp = 0x10000 + ((cp - 0xD800) << 10) +
						((unsigned long) hex4(q + 8) - 0xDC00);
					q += 6;
				}
				dst = put_utf8(dst, cp);
				q += 4;
				break;
			default:			/* '"', '\\', '/' */
				*dst++ = (char) q[1];
				break;
		}
		p = q + 2;
	}
	return dst;
}

/* Validate the number at p against RFC 8259; return the byte after it. */
static inline const unsigned char *
scan_number(ScanState *s, const unsigned char *p)
{
	const unsigned char *end = s->end;

	if (*p == '-')
		p++;
	if (p >= end)
		return scan_fail(s, p, NULL);
	if (*p == '0')
	{
		p++;
		if (p < end && is_digit(*p))
			return scan_fail(s, p, "leading zeros are not allowed in numbers");
	}
	else if (*p >= '1' && *p <= '9')
	{
		p++;
		while (p < end && is_digit(*p))
			p++;
	}
	else
		return scan_fail(s, p, "invalid number: expected a digit");
	if (p < end && *p == '.')
	{
		p++;
		if (p >= end || !is_digit(*p))
			return scan_fail(s, p, "invalid number: expected a digit after '.'");
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return scan_fail(s, p, "invalid number: expected a digit in exponent");
		while (p < end && is_digit(*p))
			p++;
	}
	return p;
}

/* Match the literal word (true/false/null) at p; return the byte after it. */
static inline const unsigned char *
scan_literal(ScanState *s, const unsigned char *p, const char *word, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if ((size_t) (s->end - p) <= i)
			return scan_fail(s, s->end, NULL);
		if (p[i] != (unsigned char) word[i])
			return scan_fail(s, p, "invalid literal (expected true, false or null)");
	}
	return p + len;
}

/*
 * Validate and skip the value starting at p (not whitespace); return the
 * byte after it.  depth is the number of containers already open around the
 * value.  Iterative, with a bounded stack of open container kinds, so input
 * nesting cannot exhaust the C stack.
 */
static const unsigned char *
skip_value(ScanState *s, const unsigned char *p, int depth)
{
	const unsigned char *end = s->end;
	char		stack[JSONL_MAX_DEPTH];
	int			sp = 0;
	bool		esc = false;

value:
	if (p >= end)
		return scan_fail(s, p, NULL);
	switch (*p)
	{
		case '{':
			if (depth + sp >= JSONL_MAX_DEPTH)
				return scan_fail(s, p, "nesting too deep (more than 512 levels)");
			stack[sp++] = '{';
			p = skip_ws(p + 1, end);
			if (p < end && *p == '}')
			{
				p++;
				sp--;
				goto next;
			}
			goto member;
		case '[':
			if (depth + sp >= JSONL_MAX_DEPTH)
				return scan_fail(s, p, "nesting too deep (more than 512 levels)");
			stack[sp++] = '[';
			p = skip_ws(p + 1, end);
			if (p < end && *p == ']')
			{
				p++;
				sp--;
				goto next;
			}
			goto value;
		case '"':
			p = scan_string(s, p, &esc);
			break;
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			p = scan_number(s, p);
			break;
		case 't':
			p = scan_literal(s, p, "true", 4);
			break;
		case 'f':
			p = scan_literal(s, p, "false", 5);
			break;
		case 'n':
			p = scan_literal(s, p, "null", 4);
			break;
		default:
			return scan_fail(s, p, "expected a value");
	}
	if (p == NULL)
		return NULL;

next:
	if (sp == 0)
		return p;
	p = skip_ws(p, end);
	if (p < end && *p == ',')
	{
		p = skip_ws(p + 1, end);
		if (stack[sp - 1] == '[')
			goto value;
		goto member;
	}
	if (stack[sp - 1] == '{')
	{
		if (p >= end || *p != '}')
			return scan_fail(s, p, "expected ',' or '}' after member value");
	}
	else
	{
		if (p >= end || *p != ']')
			return scan_fail(s, p, "expected ',' or ']' after array element");
	}
	p++;
	sp--;
	goto next;

member:
	if (p >= end || *p != '"')
		return scan_fail(s, p, "expected member name");
	p = scan_string(s, p, &esc);
	if (p == NULL)
		return NULL;
	p = skip_ws(p, end);
	if (p >= end || *p != ':')
		return scan_fail(s, p, "expected ':' after member name");
	p = skip_ws(p + 1, end);
	goto value;
}

static const unsigned char *walk_object(ScanState *s, const unsigned char *p,
										int node, int depth);

static inline void
set_field(ScanState *s, int node, JsonlValueType type,
		  const void *ptr, size_t len)
{
	JsonlField *f = &s->out[s->ex->nodes[node].field];

	f->type = type;
	f->ptr = ptr;
	f->len = len;
}

/*
 * The value at p (not whitespace) belongs to a member matching trie node
 * node; record it if the node is a requested path, descend if it is an
 * object and the node has children, else skip it.  depth is the depth of
 * the enclosing object.  Returns the byte after the value.
 */
static const unsigned char *
take_value(ScanState *s, const unsigned char *p, int node, int depth)
{
	const TrieNode *t = &s->ex->nodes[node];
	const unsigned char *start = p;
	JsonlValueType type;
	bool		esc = false;
	int			i;

	/* last duplicate wins: forget whatever an earlier one left below here */
	for (i = 0; i < t->sub_count; i++)
	{
		JsonlField *f = &s->out[s->ex->subfields[t->sub_first + i]];

		f->type = JSONL_MISSING;
		f->ptr = NULL;
		f->len = 0;
	}

	if (p < s->end && *p == '{' && t->first_child >= 0)
	{
		if (depth >= JSONL_MAX_DEPTH)
			return scan_fail(s, p, "nesting too deep (more than 512 levels)");
		p = walk_object(s, p, node, depth + 1);
		if (p != NULL && t->field >= 0)
			set_field(s, node, JSONL_OBJECT, start, p - start);
		return p;
	}
	if (t->field < 0)
		return skip_value(s, p, depth);

	if (p >= s->end)
		return scan_fail(s, p, NULL);
	switch (*p)
	{
		case '"':
			p = scan_string(s, p, &esc);
			if (p == NULL)
				return NULL;
			if (!esc)
				set_field(s, node, JSONL_STRING, start + 1, p - start - 2);
			else
			{
				char	   *d = s->scratch_next;
				char	   *e = decode_string(start + 1, p - 1, d);

				s->scratch_next = e;
				set_field(s, node, JSONL_STRING, d, e - d);
			}
			return p;
		case '{':
			type = JSONL_OBJECT;
			break;
		case '[':
			type = JSONL_ARRAY;
			break;
		case 't':
			type = JSONL_TRUE;
			break;
		case 'f':
			type = JSONL_FALSE;
			break;
		case 'n':
			type = JSONL_NULL;
			break;
		default:
			type = JSONL_NUMBER;
			break;
	}
	p = skip_value(s, p, depth);
	if (p != NULL)
		set_field(s, node, type, start, p - start);
	return p;
}

/*
 * Walk the object whose '{' is at p, matching member names against the
 * children of trie node node.  depth is this object's own depth (checked by
 * the caller).  Returns the byte after the closing '}'.
 */
static const unsigned char *
walk_object(ScanState *s, const unsigned char *p, int node, int depth)
{
	const JsonlExtractor *ex = s->ex;
	const unsigned char *end = s->end;

	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	for (;;)
	{
		const unsigned char *name;
		bool		esc = false;
		int			child;

		if (p >= end || *p != '"')
			return scan_fail(s, p, "expected member name");
		name = p + 1;
		p = scan_string(s, p, &esc);
		if (p == NULL)
			return NULL;
		if (ex->nodes[node].first_child < 0)
			child = -1;
		else if (!esc)
			child = trie_child(ex, node, (const char *) name, p - 1 - name);
		else
		{
			/* decode into unclaimed scratch space; it is not kept */
			char	   *e = decode_string(name, p - 1, s->scratch_next);

			child = trie_child(ex, node, s->scratch_next, e - s->scratch_next);
		}

		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return scan_fail(s, p, "expected ':' after member name");
		p = skip_ws(p + 1, end);
		if (child < 0)
			p = skip_value(s, p, depth);
		else
			p = take_value(s, p, child, depth);
		if (p == NULL)
			return NULL;

		p = skip_ws(p, end);
		if (p < end && *p == ',')
		{
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			return p + 1;
		return scan_fail(s, p, "expected ',' or '}' after member value");
	}
}

static bool
scan_extract(JsonlExtractor *ex, const char *line, size_t len,
			 JsonlField *out, char *errbuf, size_t errlen)
{
	ScanState	s;
	const unsigned char *p;

	/* decoded text never outgrows the line, so one reservation suffices */
	if (!scratch_reserve(ex, len + 1))
	{
		snprintf(errbuf, errlen, "out of memory");
		return false;
	}
	s.ex = ex;
	s.line = (const unsigned char *) line;
	s.end = s.line + len;
	s.out = out;
	s.scratch_next = ex->scratch;
	s.errpos = NULL;
	s.errmsg = NULL;

	p = skip_ws(s.line, s.end);
	if (p >= s.end)
	{
		s.errpos = p;
		s.errmsg = "empty record";
	}
	else if (*p != '{')
		scan_fail(&s, p, "expected '{' at start of record");
	else if ((p = walk_object(&s, p, 0, 1)) != NULL)
	{
		p = skip_ws(p, s.end);
		if (p < s.end)
			scan_fail(&s, p, "unexpected data after the record");
	}
	if (s.errmsg != NULL)
	{
		snprintf(errbuf, errlen, "invalid JSON at byte %zu: %s",
				 (size_t) (s.errpos - s.line), s.errmsg);
		return false;
	}
	fields_copy_duplicates(ex, out);
	return true;
}


/* ----------------------------------------------------------------
 *		JSONL_IMPL_CJSON
 * ----------------------------------------------------------------
 */

/* Print a double so that it reads back as the same value. */
static void
format_double(double v, char *buf)
{
	int			prec;

	/* integral and below 2^53: exact as an integer (the cast is safe) */
	if (fabs(v) < 9007199254740992.0 && v == (double) (long long) v)
	{
		snprintf(buf, NUMTEXT_LEN, "%.0f", v);
		return;
	}
	for (prec = 15; prec < 17; prec++)
	{
		snprintf(buf, NUMTEXT_LEN, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, NUMTEXT_LEN, "%.17g", v);
}

/* Fill field f from cJSON item it. */
static bool
cjson_field(JsonlExtractor *ex, int f, const cJSON *it, JsonlField *out)
{
	JsonlField *o = &out[f];

	if (cJSON_IsNull(it))
	{
		o->type = JSONL_NULL;
		o->ptr = "null";
		o->len = 4;
	}
	else if (cJSON_IsTrue(it))
	{
		o->type = JSONL_TRUE;
		o->ptr = "true";
		o->len = 4;
	}
	else if (cJSON_IsFalse(it))
	{
		o->type = JSONL_FALSE;
		o->ptr = "false";
		o->len = 5;
	}
	else if (cJSON_IsNumber(it))
	{
		char	   *buf = ex->numtext + (size_t) f * NUMTEXT_LEN;

		format_double(it->valuedouble, buf);
		o->type = JSONL_NUMBER;
		o->ptr = buf;
		o->len = strlen(buf);
	}
	else if (cJSON_IsString(it))
	{
		o->type = JSONL_STRING;
		o->ptr = it->valuestring;
		o->len = strlen(it->valuestring);
	}
	else
	{
		ex->prints[f] = cJSON_PrintUnformatted(it);
		if (ex->prints[f] == NULL)
			return false;
		o->type = cJSON_IsArray(it) ? JSONL_ARRAY : JSONL_OBJECT;
		o->ptr = ex->prints[f];
		o->len = strlen(ex->prints[f]);
	}
	return true;
}

/*
 * Fill the fields below trie node node from cJSON object obj.  Recursion is
 * bounded by the depth of the trie.
 */
static bool
cjson_walk(JsonlExtractor *ex, const cJSON *obj, int node, JsonlField *out)
{
	int			c;

	for (c = ex->nodes[node].first_child; c >= 0; c = ex->nodes[c].next_sibling)
	{
		const TrieNode *t = &ex->nodes[c];
		const cJSON *it,
				   *found = NULL;

		/* the last member of that name wins, so scan them all */
		for (it = obj->child; it != NULL; it = it->next)
			if (strlen(it->string) == t->namelen &&
				memcmp(it->string, t->name, t->namelen) == 0)
				found = it;
		if (found == NULL)
			continue;
		if (t->field >= 0 && !cjson_field(ex, t->field, found, out))
			return false;
		if (t->first_child >= 0 && cJSON_IsObject(found) &&
			!cjson_walk(ex, found, c, out))
			return false;
	}
	return true;
}

static bool
cjson_extract(JsonlExtractor *ex, const char *line, size_t len,
			  JsonlField *out, char *errbuf, size_t errlen)
{
	const char *parse_end = NULL;
	char	   *buf;
	size_t		i;
	int			f;

	if (ex->tree)
	{
		cJSON_Delete(ex->tree);
		ex->tree = NULL;
	}
	for (f = 0; f < ex->npaths; f++)
	{
		free(ex->prints[f]);
		ex->prints[f] = NULL;
	}
	/* a NUL-terminated copy, so no cJSON quirk can read past the line */
	if (!scratch_reserve(ex, len + 1))
	{
		snprintf(errbuf, errlen, "out of memory");
		return false;
	}
	buf = ex->scratch;
	if (len > 0)
		memcpy(buf, line, len);
	buf[len] = '\0';

	/*
	 * cJSON turns \u0000, and a \u escape with bad hex digits, into a NUL
	 * that silently truncates the string.  Outside strings a backslash is a
	 * syntax error anyway, so pairing backslashes from the left finds exactly
	 * the escapes.
	 */
	for (i = 0; i < len; i++)
	{
		if (buf[i] != '\\')
			continue;
		if (i + 1 < len && buf[i + 1] == 'u')
		{
			long		cp = i + 5 < len ?
				hex4((const unsigned char *) buf + i + 2) : -1;

			if (cp <= 0)
			{
				snprintf(errbuf, errlen, "invalid JSON at byte %zu: %s", i,
						 cp == 0 ? "\\u0000 cannot be converted to text" :
						 "invalid \\u escape in string");
				return false;
			}
		}
		i++;
	}
	/* cJSON skips a UTF-8 byte order mark; RFC 8259 does not require that */
	for (i = 0; i < len && is_ws((unsigned char) buf[i]); i++)
		;
	if (i >= len || buf[i] != '{')
	{
		snprintf(errbuf, errlen, "invalid JSON at byte %zu: %s", i,
				 i >= len ? "empty record" : "expected '{' at start of record");
		return false;
	}

	ex->tree = cJSON_ParseWithLengthOpts(buf, len, &parse_end, 0);
	if (ex->tree == NULL)
	{
		size_t		off = parse_end ? (size_t) (parse_end - buf) : 0;

		snprintf(errbuf, errlen, "invalid JSON at byte %zu: %s", off,
				 off >= len ? "unexpected end of line" : "syntax error");
		return false;
	}
	/* require_null_terminated semantics, but only JSON whitespace may follow */
	for (i = (size_t) (parse_end - buf); i < len; i++)
	{
		if (!is_ws((unsigned char) buf[i]))
		{
			snprintf(errbuf, errlen,
					 "invalid JSON at byte %zu: unexpected data after the record",
					 i);
			return false;
		}
	}

	fields_reset(ex, out);
	if (!cjson_walk(ex, ex->tree, 0, out))
	{
		snprintf(errbuf, errlen, "out of memory");
		return false;
	}
	fields_copy_duplicates(ex, out);
	return true;
}


/* ----------------------------------------------------------------
 *		Entry point
 * ----------------------------------------------------------------
 */

/*
 * Parse one record and fill out[0..npaths-1]; see jsonl_extract.h.  The
 * caller guarantees out has npaths entries; line need not be NUL-terminated.
 */
bool
JsonlExtract(JsonlExtractor *ex, const char *line, size_t len,
			 JsonlField *out, char *errbuf, size_t errlen)
{
	if (errlen > 0)
		errbuf[0] = '\0';
	if (ex->impl == JSONL_IMPL_CJSON)
		return cjson_extract(ex, line, len, out, errbuf, errlen);
	fields_reset(ex, out);
	return scan_extract(ex, line, len, out, errbuf, errlen);
}
