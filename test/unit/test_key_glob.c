/*-------------------------------------------------------------------------
 *
 * test_key_glob.c
 *		Unit tests for the location glob matcher (src/plan/key_glob.c).
 *
 * IDENTIFICATION
 *		test/unit/test_key_glob.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>

#include "plan/key_glob.h"
#include "unit.h"

static void
match(const char *pattern, const char *key, KeyGlobResult want)
{
	KeyGlobResult got = KeyGlobMatch(pattern, key);

	CHECK(got == want, "pattern \"%s\" key \"%s\": got %d, want %d",
		  pattern, key, (int) got, (int) want);
}

static void
prefix(const char *pattern, const char *want)
{
	char	   *got = KeyGlobLiteralPrefix(pattern);

	CHECK_STREQ(got, want, pattern);
	free(got);
}

int
main(void)
{
	char		err[128];
	char		longkey[2048];

	/* literal text and single-segment wildcards */
	match("raw/a.jsonl", "raw/a.jsonl", KEY_GLOB_MATCH);
	match("raw/a.jsonl", "raw/a.jsonlx", KEY_GLOB_NO_MATCH);
	match("raw/*.jsonl", "raw/a.jsonl", KEY_GLOB_MATCH);
	match("raw/*.jsonl", "raw/.jsonl", KEY_GLOB_MATCH);
	match("raw/*.jsonl", "raw/x/a.jsonl", KEY_GLOB_NO_MATCH);
	match("raw/day=?/*", "raw/day=1/a", KEY_GLOB_MATCH);
	match("raw/day=?/*", "raw/day=12/a", KEY_GLOB_NO_MATCH);
	match("raw/?", "raw//", KEY_GLOB_NO_MATCH);
	match("raw/*", "raw/", KEY_GLOB_MATCH);

	/* double star: any depth, including none */
	match("raw/**", "raw/a/b/c.jsonl", KEY_GLOB_MATCH);
	match("raw/**/c.jsonl", "raw/c.jsonl", KEY_GLOB_MATCH);
	match("raw/**/c.jsonl", "raw/a/b/c.jsonl", KEY_GLOB_MATCH);
	match("raw/**/c.jsonl", "raw/a/b/xc.jsonl", KEY_GLOB_NO_MATCH);
	match("**.gz", "a/b.gz", KEY_GLOB_MATCH);

	/* alternatives, with wildcards inside and text after */
	match("raw/{vehicle,engine}/*", "raw/engine/x", KEY_GLOB_MATCH);
	match("raw/{vehicle,engine}/*", "raw/vehicles/x", KEY_GLOB_NO_MATCH);
	match("raw/day={1,2?}/x", "raw/day=25/x", KEY_GLOB_MATCH);
	match("raw/day={1,2?}/x", "raw/day=3/x", KEY_GLOB_NO_MATCH);
	match("a{,b}c", "ac", KEY_GLOB_MATCH);
	match("a{,b}c", "abc", KEY_GLOB_MATCH);
	match("{a,b}{c,d}", "bd", KEY_GLOB_MATCH);

	/* escapes */
	match("raw/\\*.jsonl", "raw/*.jsonl", KEY_GLOB_MATCH);
	match("raw/\\*.jsonl", "raw/a.jsonl", KEY_GLOB_NO_MATCH);
	match("raw/\\{a\\}", "raw/{a}", KEY_GLOB_MATCH);

	/* the literal prefix is what gets listed */
	prefix("raw/vehicle/day=*/x", "raw/vehicle/day=");
	prefix("raw/{a,b}/", "raw/");
	prefix("raw/\\*x/*", "raw/*x/");
	prefix("*", "");
	CHECK(KeyGlobHasMeta("a/b*") && KeyGlobHasMeta("a{b,c}") &&
		  KeyGlobHasMeta("a?") && !KeyGlobHasMeta("a/b\\*") &&
		  !KeyGlobHasMeta("plain/"), "meta detection");

	/* syntax */
	CHECK(KeyGlobValidate("a/{b,c}/*", err, sizeof(err)), "valid");
	CHECK(!KeyGlobValidate("a/{b,{c}}", err, sizeof(err)), "nested braces");
	CHECK(!KeyGlobValidate("a/{b", err, sizeof(err)), "open brace");
	CHECK(!KeyGlobValidate("a/b}", err, sizeof(err)), "close brace");
	CHECK(!KeyGlobValidate("a\\", err, sizeof(err)), "trailing backslash");

	/* a pathological pattern ends within the budget instead of hanging */
	memset(longkey, 'a', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	CHECK(KeyGlobMatch("**a**a**a**a**a**a**a**b", longkey) != KEY_GLOB_MATCH,
		  "budget");

	return unit_finish("test_key_glob");
}
