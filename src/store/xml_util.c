/*-------------------------------------------------------------------------
 *
 * xml_util.c
 *		A defensive libxml2 parse of a service's XML reply, and the node
 *		helpers the S3 and Azure reply parsers share.
 *
 * The XML comes from the network, so the parser is set up defensively:
 * XML_PARSE_NONET (never fetch anything), no XML_PARSE_NOENT (no entity
 * substitution beyond the predefined five), no DTD loading or validation,
 * and a document that declares a DOCTYPE at all is refused before its
 * internal subset is read: neither S3 nor Azure ever sends one, and that
 * closes the door on entity-expansion bombs.  libxml2's own limits
 * (XML_PARSE_HUGE is not set) bound the depth and the size of any one
 * text node; the caller bounds the whole reply.  Errors go to a
 * per-parser handler instead of libxml2's global ones, which the
 * PostgreSQL backend may own.
 *
 * Elements are matched by local name only, so a namespace may be present
 * or not.  What each reply means stays with its store (s3_listing.c,
 * azure_listing.c), so each can change, and be fuzzed, on its own.
 *
 * Plain C with libxml2; no curl, no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/xml_util.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "xml_util.h"

/* Per-parse state, reached through ctxt->_private from SAX callbacks. */
typedef struct XmlParseState
{
	bool		saw_doctype;
} XmlParseState;

/*
 * Swallow parser diagnostics; the last one is read back from the context.
 * The handler's signature gained a const in libxml2 2.12.
 */
#if LIBXML_VERSION >= 21200
static void
quiet_xml_error(void *user_data, const xmlError *error)
#else
static void
quiet_xml_error(void *user_data, xmlErrorPtr error)
#endif
{
	(void) user_data;
	(void) error;
}

/*
 * SAX internalSubset callback: a DOCTYPE was seen.  Stop right here, before
 * any entity declaration is parsed.
 */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
			   const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr) ctx;
	XmlParseState *state = (XmlParseState *) ctxt->_private;

	(void) name;
	(void) external_id;
	(void) system_id;
	state->saw_doctype = true;
	xmlStopParser(ctxt);
}

/*
 * Copy src into dst (dstsize bytes, NUL-terminated), cutting on a UTF-8
 * character boundary and turning control characters into spaces so the
 * result is safe to put into a one-line error message.
 */
void
XmlCopyMessage(char *dst, size_t dstsize, const char *src)
{
	size_t		n;
	size_t		i;

	if (dstsize == 0)
		return;
	if (src == NULL)
	{
		dst[0] = '\0';
		return;
	}
	n = strlen(src);
	if (n >= dstsize)
	{
		n = dstsize - 1;
		/* don't leave half of a multi-byte character at the end */
		while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) src[i];

		dst[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char) c;
	}
	dst[n] = '\0';
}

/*
 * Parse xml[0..len), a reply from service ("S3", "Azure": for messages),
 * into a tree.  Returns NULL when the input is not well-formed XML,
 * carries a DOCTYPE, or memory ran out; if err is not NULL it is filled
 * in then.
 */
xmlDocPtr
XmlParseReply(const char *xml, size_t len, const char *service,
			  TelemError *err)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr	doc;
	XmlParseState state = {false};
	const int	options = XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;

	if (xml == NULL || len == 0)
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "%s returned an empty XML reply", service);
		return NULL;
	}
	if (len > INT_MAX)
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL, "%s XML reply is too large",
					  service);
		return NULL;
	}

	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
	{
		TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
					  "out of memory creating an XML parser");
		return NULL;
	}
	ctxt->_private = &state;
	ctxt->sax->serror = quiet_xml_error;
	ctxt->sax->internalSubset = refuse_doctype;

	doc = xmlCtxtReadMemory(ctxt, xml, (int) len, "reply.xml", NULL,
							options);

	if (state.saw_doctype || (doc != NULL && doc->intSubset != NULL))
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "%s XML reply carries a DOCTYPE, which is not allowed",
					  service);
		xmlFreeDoc(doc);
		doc = NULL;
	}
	else if (doc == NULL || !ctxt->wellFormed)
	{
		const xmlError *xe = xmlCtxtGetLastError(ctxt);
		char		detail[200];

		XmlCopyMessage(detail, sizeof(detail),
					   (xe != NULL && xe->message != NULL) ? xe->message :
					   "unknown error");
		/* libxml2 messages end in a newline, now a space: trim it */
		while (detail[0] != '\0' && detail[strlen(detail) - 1] == ' ')
			detail[strlen(detail) - 1] = '\0';
		TelemSetError(err,
					  (xe != NULL && xe->code == XML_ERR_NO_MEMORY) ?
					  TELEM_ERR_OUT_OF_MEMORY : TELEM_ERR_PROTOCOL,
					  "malformed XML from %s (line %d): %s", service,
					  xe != NULL ? xe->line : 0, detail);
		xmlFreeDoc(doc);
		doc = NULL;
	}

	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Is node an element with this local name (any namespace)? */
bool
XmlIsElement(const xmlNode *node, const char *name)
{
	return node != NULL && node->type == XML_ELEMENT_NODE &&
		strcmp((const char *) node->name, name) == 0;
}

/*
 * The text content of element node as a malloc'd string ("" when empty).
 * Only direct text children count; with DOCTYPEs refused, entity
 * references cannot occur, so nothing here can expand.  Returns NULL only
 * when out of memory.
 */
char *
XmlElementText(const xmlNode *node)
{
	const xmlNode *child;
	size_t		total = 0;
	char	   *out;
	char	   *p;

	for (child = node->children; child != NULL; child = child->next)
		if ((child->type == XML_TEXT_NODE ||
			 child->type == XML_CDATA_SECTION_NODE) && child->content != NULL)
			total += strlen((const char *) child->content);

	out = malloc(total + 1);
	if (out == NULL)
		return NULL;
	p = out;
	for (child = node->children; child != NULL; child = child->next)
		if ((child->type == XML_TEXT_NODE ||
			 child->type == XML_CDATA_SECTION_NODE) && child->content != NULL)
		{
			size_t		n = strlen((const char *) child->content);

			memcpy(p, child->content, n);
			p += n;
		}
	*p = '\0';
	return out;
}

/*
 * The <Code> and <Message> of an <Error> reply xml[0..len), both services
 * use that shape, as one-line strings; "" for what is not there.  Never
 * fails: a body that is not such XML gives two empty strings.
 */
void
XmlParseErrorBody(const char *xml, size_t len, char code[64],
				  char message[256])
{
	xmlDocPtr	doc;
	xmlNode    *root;
	xmlNode    *child;

	code[0] = '\0';
	message[0] = '\0';
	if (xml == NULL || len == 0)
		return;

	doc = XmlParseReply(xml, len, "the service", NULL);
	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	if (XmlIsElement(root, "Error"))
	{
		for (child = root->children; child != NULL; child = child->next)
		{
			char	   *text;

			if (!XmlIsElement(child, "Code") && !XmlIsElement(child, "Message"))
				continue;
			text = XmlElementText(child);
			if (text == NULL)
				break;
			if (XmlIsElement(child, "Code"))
				XmlCopyMessage(code, 64, text);
			else
				XmlCopyMessage(message, 256, text);
			free(text);
		}
	}
	xmlFreeDoc(doc);
}

/* Parse a non-negative decimal int64 that fills all of s. */
bool
XmlParseSize(const char *s, int64_t *result)
{
	char	   *end;
	long long	v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return false;
	*result = (int64_t) v;
	return true;
}
