/*-------------------------------------------------------------------------
 *
 * azure_listing.c
 *		Parse Azure Blob XML replies: List Blobs pages and <Error> bodies.
 *
 * The XML comes from the network, so the parser is set up as s3_listing.c
 * sets up its own: XML_PARSE_NONET, no entity substitution beyond the
 * predefined five, no DTD loading, and a document that declares a DOCTYPE
 * is refused before its internal subset is read (Azure never sends one).
 * libxml2's own limits (XML_PARSE_HUGE is not set) bound the depth and
 * the size of any one text node; the caller bounds the whole reply.
 * Errors go to a per-parser handler, never libxml2's global one, which the
 * PostgreSQL backend may own.
 *
 * The two parsers are not shared with s3_listing.c on purpose: the replies
 * differ in shape, and each store's parser can then change (and be fuzzed)
 * without touching the other.
 *
 * Plain C with libxml2; no curl, no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/azure_listing.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "azure_listing.h"

/* Per-parse state, reached through ctxt->_private from SAX callbacks. */
typedef struct AzParseState
{
	bool		saw_doctype;
} AzParseState;

/* Swallow parser diagnostics; the signature gained a const in 2.12. */
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

/* SAX internalSubset: a DOCTYPE.  Stop before any entity is declared. */
static void
refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
			   const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = (xmlParserCtxtPtr) ctx;
	AzParseState *state = (AzParseState *) ctxt->_private;

	(void) name;
	(void) external_id;
	(void) system_id;
	state->saw_doctype = true;
	xmlStopParser(ctxt);
}

/*
 * Copy src into dst (dstsize bytes, NUL-terminated), cut on a UTF-8
 * character boundary, control characters turned into spaces, so it fits
 * on one line of an error message.
 */
static void
copy_message(char *dst, size_t dstsize, const char *src)
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
 * Parse xml[0..len) into a tree.  NULL when it is not well-formed, carries
 * a DOCTYPE, or memory ran out; err (if not NULL) says which.
 */
static xmlDocPtr
parse_xml(const char *xml, size_t len, TelemError *err)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr	doc;
	AzParseState state = {false};
	const int	options = XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;

	if (xml == NULL || len == 0)
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "Azure returned an empty XML reply");
		return NULL;
	}
	if (len > INT_MAX)
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL, "Azure XML reply is too large");
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

	doc = xmlCtxtReadMemory(ctxt, xml, (int) len, "azure-reply.xml", NULL,
							options);

	if (state.saw_doctype || (doc != NULL && doc->intSubset != NULL))
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "Azure XML reply carries a DOCTYPE, which is not allowed");
		xmlFreeDoc(doc);
		doc = NULL;
	}
	else if (doc == NULL || !ctxt->wellFormed)
	{
		const xmlError *xe = xmlCtxtGetLastError(ctxt);
		char		detail[200];

		copy_message(detail, sizeof(detail),
					 (xe != NULL && xe->message != NULL) ? xe->message :
					 "unknown error");
		while (detail[0] != '\0' && detail[strlen(detail) - 1] == ' ')
			detail[strlen(detail) - 1] = '\0';
		TelemSetError(err,
					  (xe != NULL && xe->code == XML_ERR_NO_MEMORY) ?
					  TELEM_ERR_OUT_OF_MEMORY : TELEM_ERR_PROTOCOL,
					  "malformed XML from Azure (line %d): %s",
					  xe != NULL ? xe->line : 0, detail);
		xmlFreeDoc(doc);
		doc = NULL;
	}

	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Is node an element with this local name (any namespace)? */
static bool
is_element(const xmlNode *node, const char *name)
{
	return node != NULL && node->type == XML_ELEMENT_NODE &&
		strcmp((const char *) node->name, name) == 0;
}

/*
 * The text of element node (direct text children only) as a malloc'd
 * string, "" when empty; NULL only when out of memory.  With DOCTYPEs
 * refused there are no entity references to expand.
 */
static char *
element_text(const xmlNode *node)
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

/* Parse a non-negative decimal int64 that fills all of s. */
static bool
parse_size(const char *s, int64_t *result)
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

/* Read exactly n decimal digits at *p, advancing it. */
static bool
read_digits(const char **p, int n, int *result)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		char		c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*result = v;
	return true;
}

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar,
 * counting years from March so the leap day comes last.
 */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		yy = (m <= 2) ? y - 1 : y;
	int64_t		era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t		yoe = yy - era * 400;
	int64_t		mp = (m + 9) % 12;
	int64_t		doy = (153 * mp + 2) / 5 + d - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

bool
AzureParseHttpDate(const char *s, int64_t *result)
{
	static const char *const months[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	static const char *const days[7] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int			d,
				mo = -1,
				y,
				h,
				mi,
				sec,
				i;
	bool		leap;

	if (s == NULL || strlen(s) != 29)
		return false;
	for (i = 0; i < 7; i++)
		if (strncmp(p, days[i], 3) == 0)
			break;
	if (i == 7 || p[3] != ',' || p[4] != ' ')
		return false;
	p += 5;
	if (!read_digits(&p, 2, &d) || *p++ != ' ')
		return false;
	for (i = 0; i < 12; i++)
		if (strncmp(p, months[i], 3) == 0)
			mo = i + 1;
	if (mo < 0 || p[3] != ' ')
		return false;
	p += 4;
	if (!read_digits(&p, 4, &y) || *p++ != ' ' ||
		!read_digits(&p, 2, &h) || *p++ != ':' ||
		!read_digits(&p, 2, &mi) || *p++ != ':' ||
		!read_digits(&p, 2, &sec) || strcmp(p, " GMT") != 0)
		return false;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (h > 23 || mi > 59 || sec > 60 || d < 1 ||
		d > mdays[mo - 1] + ((mo == 2 && leap) ? 1 : 0))
		return false;
	*result = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return true;
}

/* Is the attribute name of node "true" (case-insensitively)? */
static bool
attr_is_true(const xmlNode *node, const char *name)
{
	xmlChar    *v = xmlGetNoNsProp(node, (const xmlChar *) name);
	bool		yes = v != NULL && strcasecmp((const char *) v, "true") == 0;

	xmlFree(v);
	return yes;
}

/*
 * Decode a name sent with Encoded="true": Azure percent-encodes names that
 * hold characters XML cannot carry.  Returns a malloc'd string or NULL
 * when out of memory; *bad is set for an escape that is not %XX or that
 * decodes to NUL, which no key can hold.
 */
static char *
decode_name(const char *s, bool *bad)
{
	size_t		n = strlen(s);
	char	   *out = malloc(n + 1);
	size_t		i;
	size_t		o = 0;

	*bad = false;
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
	{
		if (s[i] == '%')
		{
			int			v;

			if (i + 2 >= n || !isxdigit((unsigned char) s[i + 1]) ||
				!isxdigit((unsigned char) s[i + 2]))
			{
				*bad = true;
				break;
			}
			v = (int) strtol((char[3]) {s[i + 1], s[i + 2], '\0'}, NULL, 16);
			if (v == 0)
			{
				*bad = true;
				break;
			}
			out[o++] = (char) v;
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

/*
 * Fill obj from the <Properties> element props.  Sets *size_seen, and
 * *is_dir for a hierarchical-namespace directory.
 */
static bool
parse_properties(const xmlNode *props, TelemObject *obj, bool *size_seen,
				 bool *is_dir, TelemError *err)
{
	const xmlNode *child;

	for (child = props->children; child != NULL; child = child->next)
	{
		char	   *text;

		if (!is_element(child, "Content-Length") &&
			!is_element(child, "Etag") &&
			!is_element(child, "Last-Modified") &&
			!is_element(child, "ResourceType"))
			continue;
		text = element_text(child);
		if (text == NULL)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "out of memory parsing an Azure listing");

		if (is_element(child, "Content-Length"))
		{
			if (!parse_size(text, &obj->size))
			{
				free(text);
				return TelemSetError(err, TELEM_ERR_PROTOCOL,
									 "malformed <Content-Length> in Azure listing");
			}
			*size_seen = true;
		}
		else if (is_element(child, "Etag"))
		{
			size_t		n = strlen(text);

			/* sometimes quoted ("\"0x8D...\""), sometimes not: store bare */
			if (n >= 2 && text[0] == '"' && text[n - 1] == '"')
			{
				memmove(text, text + 1, n - 2);
				text[n - 2] = '\0';
			}
			free(obj->etag);
			obj->etag = NULL;
			if (text[0] != '\0')
			{
				obj->etag = text;
				continue;
			}
		}
		else if (is_element(child, "Last-Modified"))
		{
			if (!AzureParseHttpDate(text, &obj->last_modified))
			{
				free(text);
				return TelemSetError(err, TELEM_ERR_PROTOCOL,
									 "malformed <Last-Modified> in Azure listing");
			}
		}
		else
			*is_dir = (strcmp(text, "directory") == 0);
		free(text);
	}
	return true;
}

/*
 * Fill obj from one <Blob>.  false with err set when Name or
 * Content-Length is missing or a value is malformed; obj may then own
 * memory, which the caller frees with the page.  *skip is set for an
 * entry that is not an object (a directory).
 */
static bool
parse_blob(const xmlNode *blob, TelemObject *obj, bool *skip, TelemError *err)
{
	const xmlNode *child;
	bool		size_seen = false;
	bool		is_dir = false;

	*skip = false;
	for (child = blob->children; child != NULL; child = child->next)
	{
		if (is_element(child, "Name"))
		{
			char	   *text = element_text(child);

			if (text == NULL)
				return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
									 "out of memory parsing an Azure listing");
			if (attr_is_true(child, "Encoded"))
			{
				bool		bad;
				char	   *dec = decode_name(text, &bad);

				free(text);
				if (dec == NULL)
					return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
										 "out of memory parsing an Azure listing");
				if (bad)
				{
					free(dec);
					return TelemSetError(err, TELEM_ERR_PROTOCOL,
										 "malformed encoded <Name> in Azure listing");
				}
				text = dec;
			}
			free(obj->key);
			obj->key = text;
		}
		else if (is_element(child, "Properties"))
		{
			if (!parse_properties(child, obj, &size_seen, &is_dir, err))
				return false;
		}
	}

	if (obj->key == NULL || obj->key[0] == '\0')
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "Azure listing entry without a <Name>");
	if (!size_seen)
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "Azure listing entry without a <Content-Length>");
	*skip = is_dir;
	return true;
}

bool
AzureParseListing(const char *xml, size_t len, TelemObjectPage *page,
				  TelemError *err)
{
	xmlDocPtr	doc;
	xmlNode    *root;
	xmlNode    *child;
	xmlNode    *blobs = NULL;
	int			nblobs = 0;
	char	   *marker = NULL;
	bool		ok = true;

	memset(page, 0, sizeof(*page));

	doc = parse_xml(xml, len, err);
	if (doc == NULL)
		return false;

	root = xmlDocGetRootElement(doc);
	if (!is_element(root, "EnumerationResults"))
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "Azure listing reply has root element <%.64s>, "
					  "expected <EnumerationResults>",
					  root != NULL ? (const char *) root->name : "");
		xmlFreeDoc(doc);
		return false;
	}

	for (child = root->children; ok && child != NULL; child = child->next)
	{
		if (is_element(child, "Blobs"))
		{
			if (blobs != NULL)
				ok = TelemSetError(err, TELEM_ERR_PROTOCOL,
								   "Azure listing has more than one <Blobs>");
			blobs = child;
		}
		else if (is_element(child, "NextMarker"))
		{
			free(marker);
			marker = element_text(child);
			if (marker == NULL)
				ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								   "out of memory parsing an Azure listing");
		}
	}

	if (ok && blobs != NULL)
	{
		for (child = blobs->children; child != NULL; child = child->next)
			if (is_element(child, "Blob"))
				nblobs++;
		if (nblobs > 0)
		{
			page->objects = calloc(nblobs, sizeof(TelemObject));
			if (page->objects == NULL)
				ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								   "out of memory parsing an Azure listing");
		}
		for (child = blobs->children; ok && child != NULL; child = child->next)
		{
			TelemObject *obj;
			bool		skip;

			if (!is_element(child, "Blob"))
				continue;
			/* count it first so that a failure frees what it allocated */
			obj = &page->objects[page->nobjects++];
			ok = parse_blob(child, obj, &skip, err);
			if (ok && skip)
			{
				free(obj->key);
				free(obj->etag);
				memset(obj, 0, sizeof(*obj));
				page->nobjects--;
			}
		}
	}
	xmlFreeDoc(doc);

	if (!ok)
	{
		free(marker);
		TelemObjectPageFree(page);
		return false;
	}
	if (marker != NULL && marker[0] != '\0')
		page->next_token = marker;
	else
		free(marker);
	return true;
}

void
AzureParseErrorBody(const char *xml, size_t len, char code[64],
					char message[256])
{
	xmlDocPtr	doc;
	xmlNode    *root;
	xmlNode    *child;

	code[0] = '\0';
	message[0] = '\0';
	if (xml == NULL || len == 0)
		return;

	doc = parse_xml(xml, len, NULL);
	if (doc == NULL)
		return;
	root = xmlDocGetRootElement(doc);
	if (is_element(root, "Error"))
	{
		for (child = root->children; child != NULL; child = child->next)
		{
			char	   *text;

			if (!is_element(child, "Code") && !is_element(child, "Message"))
				continue;
			text = element_text(child);
			if (text == NULL)
				break;
			if (is_element(child, "Code"))
				copy_message(code, 64, text);
			else
				copy_message(message, 256, text);
			free(text);
		}
	}
	xmlFreeDoc(doc);
}
