/*-------------------------------------------------------------------------
 *
 * azure_listing.c
 *		Parse Azure Blob XML replies: List Blobs pages and <Error> bodies.
 *
 * The XML comes from the network; xml_util.c parses it defensively (no
 * network, no entity substitution, no DOCTYPE) for this file and
 * s3_listing.c alike.  What a reply means is read here: the replies
 * differ in shape, so this parser can change (and be fuzzed) without
 * touching S3's.
 *
 * Plain C with libxml2; no curl, no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/azure_listing.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "azure_listing.h"
#include "store_util.h"
#include "xml_util.h"

/* An RFC 1123 date, as in Last-Modified; see StoreParseHttpDate. */
bool
AzureParseHttpDate(const char *s, int64_t *result)
{
	return StoreParseHttpDate(s, result);
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

		if (!XmlIsElement(child, "Content-Length") &&
			!XmlIsElement(child, "Etag") &&
			!XmlIsElement(child, "Last-Modified") &&
			!XmlIsElement(child, "ResourceType"))
			continue;
		text = XmlElementText(child);
		if (text == NULL)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "out of memory parsing an Azure listing");

		if (XmlIsElement(child, "Content-Length"))
		{
			if (!XmlParseSize(text, &obj->size))
			{
				free(text);
				return TelemSetError(err, TELEM_ERR_PROTOCOL,
									 "malformed <Content-Length> in Azure listing");
			}
			*size_seen = true;
		}
		else if (XmlIsElement(child, "Etag"))
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
		else if (XmlIsElement(child, "Last-Modified"))
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
 * The text of a <Name> element into *name (malloc'd, replacing what was
 * there), decoded when sent with Encoded="true".
 */
static bool
parse_name(const xmlNode *node, char **name, TelemError *err)
{
	char	   *text = XmlElementText(node);

	if (text == NULL)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							 "out of memory parsing an Azure listing");
	if (attr_is_true(node, "Encoded"))
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
	free(*name);
	*name = text;
	return true;
}

/*
 * The <Name> of one <BlobPrefix> (a delimited listing) into *prefix.
 * false with err set when it is missing, empty or malformed.
 */
static bool
parse_blob_prefix(const xmlNode *bp, char **prefix, TelemError *err)
{
	const xmlNode *child;

	for (child = bp->children; child != NULL; child = child->next)
		if (XmlIsElement(child, "Name") && !parse_name(child, prefix, err))
			return false;
	if (*prefix == NULL || (*prefix)[0] == '\0')
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "Azure listing <BlobPrefix> without a <Name>");
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
		if (XmlIsElement(child, "Name"))
		{
			if (!parse_name(child, &obj->key, err))
				return false;
		}
		else if (XmlIsElement(child, "Properties"))
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
	int			nprefixes = 0;
	char	   *marker = NULL;
	bool		ok = true;

	memset(page, 0, sizeof(*page));

	doc = XmlParseReply(xml, len, "Azure", err);
	if (doc == NULL)
		return false;

	root = xmlDocGetRootElement(doc);
	if (!XmlIsElement(root, "EnumerationResults"))
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
		if (XmlIsElement(child, "Blobs"))
		{
			if (blobs != NULL)
				ok = TelemSetError(err, TELEM_ERR_PROTOCOL,
								   "Azure listing has more than one <Blobs>");
			blobs = child;
		}
		else if (XmlIsElement(child, "NextMarker"))
		{
			free(marker);
			marker = XmlElementText(child);
			if (marker == NULL)
				ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								   "out of memory parsing an Azure listing");
		}
	}

	if (ok && blobs != NULL)
	{
		for (child = blobs->children; child != NULL; child = child->next)
		{
			if (XmlIsElement(child, "Blob"))
				nblobs++;
			else if (XmlIsElement(child, "BlobPrefix"))
				nprefixes++;
		}
		if (nblobs > 0 &&
			(page->objects = calloc(nblobs, sizeof(TelemObject))) == NULL)
			ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							   "out of memory parsing an Azure listing");
		if (ok && nprefixes > 0 &&
			(page->prefixes = calloc(nprefixes, sizeof(char *))) == NULL)
			ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							   "out of memory parsing an Azure listing");
		for (child = blobs->children; ok && child != NULL; child = child->next)
		{
			TelemObject *obj;
			bool		skip;

			if (XmlIsElement(child, "BlobPrefix"))
			{
				/* counted first, as below */
				ok = parse_blob_prefix(child,
									   &page->prefixes[page->nprefixes++],
									   err);
				continue;
			}
			if (!XmlIsElement(child, "Blob"))
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
	XmlParseErrorBody(xml, len, code, message);
}
