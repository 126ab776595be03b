/*-------------------------------------------------------------------------
 *
 * key_glob.c
 *		Glob patterns over object keys, for locations such as
 *		"s3://b/raw/{vehicle,engine}/day=2?/part-*.jsonl".
 *
 * The matcher backtracks, so a hostile pattern ("*a*a*a*a*b" against a
 * long key) could take exponential time; a step budget bounds it and the
 * caller reports the pattern as too complex instead of hanging the
 * backend.
 *
 * Plain C; no postgres.h.
 *
 * IDENTIFICATION
 *		src/plan/key_glob.c
 *
 *-------------------------------------------------------------------------
 */
#include "plan/key_glob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Matching steps allowed per key: far above any sane pattern's needs. */
#define KEY_GLOB_MAX_STEPS	(1000 * 1000)

static bool
is_meta(char c)
{
	return c == '*' || c == '?' || c == '{';
}

bool
KeyGlobHasMeta(const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\\')
		{
			if (s[1] == '\0')
				return false;
			s++;
			continue;
		}
		if (is_meta(*s))
			return true;
	}
	return false;
}

bool
KeyGlobValidate(const char *pattern, char *errbuf, size_t errlen)
{
	bool		in_brace = false;
	const char *p;

	for (p = pattern; *p; p++)
	{
		if (*p == '\\')
		{
			if (p[1] == '\0')
			{
				snprintf(errbuf, errlen, "the pattern ends with a lone backslash");
				return false;
			}
			p++;
		}
		else if (*p == '{')
		{
			if (in_brace)
			{
				snprintf(errbuf, errlen, "braces cannot be nested");
				return false;
			}
			in_brace = true;
		}
		else if (*p == '}')
		{
			if (!in_brace)
			{
				snprintf(errbuf, errlen, "\"}\" without \"{\"");
				return false;
			}
			in_brace = false;
		}
	}
	if (in_brace)
	{
		snprintf(errbuf, errlen, "\"{\" without \"}\"");
		return false;
	}
	return true;
}

char *
KeyGlobLiteralPrefix(const char *pattern)
{
	size_t		len = strlen(pattern);
	char	   *out = malloc(len + 1);
	size_t		n = 0;
	const char *p;

	if (out == NULL)
		return NULL;
	for (p = pattern; *p && !is_meta(*p); p++)
	{
		if (*p == '\\' && p[1] != '\0')
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

/* End of the alternative starting at p inside braces: its ',' or '}'. */
static const char *
alt_end(const char *p)
{
	for (; *p && *p != ',' && *p != '}'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return p;
}

/* The closing '}' of the braces whose body starts at p. */
static const char *
brace_end(const char *p)
{
	for (; *p && *p != '}'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return p;
}

/*
 * Match pattern [p, pend) followed by the pattern 'rest' (the text after
 * an enclosing brace group, or NULL) against key s.
 */
static int
match(const char *p, const char *pend, const char *rest, const char *s,
	  long *steps)
{
	for (;;)
	{
		if (++(*steps) > KEY_GLOB_MAX_STEPS)
			return KEY_GLOB_TOO_COMPLEX;

		if (p == pend)
		{
			if (rest != NULL)
				return match(rest, rest + strlen(rest), NULL, s, steps);
			return *s == '\0' ? KEY_GLOB_MATCH : KEY_GLOB_NO_MATCH;
		}

		switch (*p)
		{
			case '*':
				{
					bool		any = (p + 1 < pend && p[1] == '*');
					const char *next = p + (any ? 2 : 1);
					const char *t;

					/* "**" followed by '/' may also match no segment at all */
					if (any && next < pend && *next == '/')
					{
						int			r = match(next + 1, pend, rest, s, steps);

						if (r != KEY_GLOB_NO_MATCH)
							return r;
					}
					for (t = s;; t++)
					{
						int			r = match(next, pend, rest, t, steps);

						if (r != KEY_GLOB_NO_MATCH)
							return r;
						if (*t == '\0' || (!any && *t == '/'))
							return KEY_GLOB_NO_MATCH;
					}
				}
			case '?':
				if (*s == '\0' || *s == '/')
					return KEY_GLOB_NO_MATCH;
				p++;
				s++;
				break;
			case '{':
				{
					const char *close = brace_end(p + 1);
					const char *after = *close ? close + 1 : close;
					const char *a = p + 1;
					char	   *tail;
					size_t		tlen;

					/*
					 * The text after the braces, with what follows them in
					 * the enclosing pattern: braces do not nest, so one
					 * level of 'rest' suffices.
					 */
					tlen = (size_t) (pend - after);
					tail = malloc(tlen + (rest ? strlen(rest) : 0) + 1);
					if (tail == NULL)
						return KEY_GLOB_TOO_COMPLEX;
					memcpy(tail, after, tlen);
					strcpy(tail + tlen, rest ? rest : "");
					for (;;)
					{
						const char *e = alt_end(a);
						int			r = match(a, e, tail, s, steps);

						if (r != KEY_GLOB_NO_MATCH || *e != ',')
						{
							free(tail);
							return r;
						}
						a = e + 1;
					}
				}
			case '\\':
				if (p + 1 < pend)
					p++;
				/* FALLTHROUGH */
			default:
				if (*s != *p)
					return KEY_GLOB_NO_MATCH;
				p++;
				s++;
				break;
		}
	}
}

KeyGlobResult
KeyGlobMatch(const char *pattern, const char *key)
{
	long		steps = 0;

	return (KeyGlobResult) match(pattern, pattern + strlen(pattern), NULL,
								 key, &steps);
}
