/*-------------------------------------------------------------------------
 *
 * tool_common.h
 *		What the store CLI tools (s3_stream_check, azure_check,
 *		azure_token_check) share: error printing, memory and digests.
 *
 * IDENTIFICATION
 *		test/tools/tool_common.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_TOOL_COMMON_H
#define TELEM_TOOL_COMMON_H

#include <openssl/evp.h>

#include "store/store.h"

/* in tool_common.c */
extern int	ToolFail(const TelemError *err);
extern long ToolMaxRssKb(void);
extern void ToolDigestHex(EVP_MD_CTX *md, char hex[2 * EVP_MAX_MD_SIZE + 1]);
extern int	ToolListLevel(TelemStore *store, const char *prefix);

#endif							/* TELEM_TOOL_COMMON_H */
