/*-------------------------------------------------------------------------
 *
 * jsonl_extract.h
 *		Pull the fields a query needs out of one JSON-lines record.
 *
 * Plain C; no postgres.h.  Two implementations sit behind one interface:
 *
 *	JSONL_IMPL_SCAN   a single-pass scanner that validates the whole line but
 *					  materializes only the requested paths (zero-copy where the
 *					  text needs no unescaping).  This is what scans use.
 *	JSONL_IMPL_CJSON  builds a cJSON tree and walks it.  Slower; kept as the
 *					  reference the scanner is tested (and fuzzed) against.
 *
 * IDENTIFICATION
 *		src/format/jsonl_extract.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_JSONL_EXTRACT_H
#define TELEM_JSONL_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum JsonlImpl
{
	JSONL_IMPL_SCAN = 0,
	JSONL_IMPL_CJSON
} JsonlImpl;

typedef enum JsonlValueType
{
	JSONL_MISSING = 0,			/* path not present in this record */
	JSONL_NULL,
	JSONL_STRING,				/* ptr/len: the unescaped UTF-8 text */
	JSONL_NUMBER,				/* ptr/len: the number's text as written */
	JSONL_TRUE,					/* ptr/len: "true" */
	JSONL_FALSE,				/* ptr/len: "false" */
	JSONL_OBJECT,				/* ptr/len: the raw JSON text of the value */
	JSONL_ARRAY					/* ptr/len: the raw JSON text of the value */
} JsonlValueType;

typedef struct JsonlField
{
	JsonlValueType type;
	const char *ptr;			/* not NUL-terminated; valid until the next
								 * JsonlExtract call on the same extractor */
	size_t		len;
} JsonlField;

typedef struct JsonlExtractor JsonlExtractor;

/*
 * Create an extractor for npaths paths.  A path is a dot-separated list of
 * object member names ("location.lat"); a literal dot inside a name is
 * written "\.", a literal backslash "\\".  Returns NULL with a message in
 * errbuf if a path is malformed (empty, empty segment, bad escape).
 */
extern JsonlExtractor *JsonlExtractorCreate(JsonlImpl impl,
											const char *const *paths,
											int npaths,
											char *errbuf, size_t errlen);

/*
 * Parse one record (line without its newline; may end in '\r', which is
 * ignored along with other JSON whitespace) and fill out[0..npaths-1].
 * The record must be exactly one JSON object (RFC 8259), with nothing but
 * whitespace after it.  When a member name repeats, the last one wins.
 * Returns true on success; false with a message naming the byte offset
 * within the line in errbuf on malformed input.  A "\u0000" escape in a
 * string is refused, since SQL text cannot hold NUL.
 */
extern bool JsonlExtract(JsonlExtractor *ex, const char *line, size_t len,
						 JsonlField *out, char *errbuf, size_t errlen);

extern void JsonlExtractorFree(JsonlExtractor *ex);

#endif							/* TELEM_JSONL_EXTRACT_H */
