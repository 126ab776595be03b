/*-------------------------------------------------------------------------
 *
 * fuzz_key_glob.c
 *		libFuzzer target for the location glob matcher: the input is a
 *		pattern, a newline, and a key.
 *
 * Checks that matching ends (within its step budget) and that a pattern
 * without metacharacters matches exactly the key equal to its text.
 *
 * IDENTIFICATION
 *		test/fuzz/fuzz_key_glob.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan/key_glob.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *buf = malloc(size + 1);
	char	   *nl;
	char	   *key;
	char		err[128];

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	nl = strchr(buf, '\n');
	key = nl ? nl + 1 : buf;
	if (nl)
		*nl = '\0';
	if (KeyGlobValidate(buf, err, sizeof(err)))
	{
		KeyGlobResult r = KeyGlobMatch(buf, key);
		char	   *lit = KeyGlobLiteralPrefix(buf);

		if (!KeyGlobHasMeta(buf) && strchr(buf, '\\') == NULL &&
			r != (strcmp(buf, key) == 0 ? KEY_GLOB_MATCH : KEY_GLOB_NO_MATCH))
			abort();
		/* whatever matches starts with the literal prefix */
		if (r == KEY_GLOB_MATCH && lit && strncmp(key, lit, strlen(lit)) != 0)
			abort();
		free(lit);
	}
	free(buf);
	return 0;
}
