/*-------------------------------------------------------------------------
 *
 * key_glob.h
 *		Glob patterns over object keys: *, **, ?, {a,b} and \ escapes.
 *
 * Plain C; no postgres.h, so the matcher is unit-tested and fuzzed on its
 * own.
 *
 * IDENTIFICATION
 *		src/plan/key_glob.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_KEY_GLOB_H
#define TELEM_KEY_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* Results of KeyGlobMatch. */
typedef enum KeyGlobResult
{
	KEY_GLOB_NO_MATCH = 0,
	KEY_GLOB_MATCH = 1,
	KEY_GLOB_TOO_COMPLEX = -1	/* the step budget ran out */
} KeyGlobResult;

/* Does s contain an unescaped glob character (*, ?, {)? */
extern bool KeyGlobHasMeta(const char *s);

/*
 * Check pattern's syntax: braces balanced and not nested, no trailing
 * backslash.  On failure, returns false with a reason in errbuf.
 */
extern bool KeyGlobValidate(const char *pattern, char *errbuf, size_t errlen);

/*
 * The literal text before the first glob character, escapes removed, as a
 * malloc'd string: what a listing must start from.  NULL when out of
 * memory.
 */
extern char *KeyGlobLiteralPrefix(const char *pattern);

/*
 * Match key against pattern.  '*' matches any run of characters other
 * than '/', '?' one character other than '/', a double star any run
 * including '/' (and, as a whole segment, also no segment at all, so that
 * "a/", double star, "/b" matches "a/b"), "{x,y}" either alternative, and
 * a backslash makes the next character literal.
 */
extern KeyGlobResult KeyGlobMatch(const char *pattern, const char *key);

#endif							/* TELEM_KEY_GLOB_H */
