/*-------------------------------------------------------------------------
 *
 * xml_util.h
 *		A defensive libxml2 parse of a service's XML reply, and the node
 *		helpers the S3 and Azure reply parsers share.
 *
 * Private to src/store/ (s3_listing.c, azure_listing.c).
 * Plain C with libxml2; no curl, no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/xml_util.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELEM_XML_UTIL_H
#define TELEM_XML_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "store.h"

/* in xml_util.c */
extern xmlDocPtr XmlParseReply(const char *xml, size_t len,
							   const char *service, TelemError *err);
extern bool XmlIsElement(const xmlNode *node, const char *name);
extern char *XmlElementText(const xmlNode *node);
extern void XmlCopyMessage(char *dst, size_t dstsize, const char *src);
extern void XmlParseErrorBody(const char *xml, size_t len, char code[64],
							  char message[256]);
extern bool XmlParseSize(const char *s, int64_t *result);

#endif							/* TELEM_XML_UTIL_H */
