/*-------------------------------------------------------------------------
 *
 * s3_listing.c
 *		S3 XML: parse ListObjectsV2 pages, multipart upload replies and
 *		<Error> bodies; build CompleteMultipartUpload requests.
 *
 * The XML comes from the network; xml_util.c parses it defensively (no
 * network, no entity substitution, no DOCTYPE) for this file and
 * azure_listing.c alike.
 *
 * Elements are matched by local name only, so the S3 namespace
 * (http://s3.amazonaws.com/doc/2006-03-01/) may be present or not.
 *
 * Plain C with libxml2; no curl, no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/s3_listing.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "s3_listing.h"
#include "store_util.h"
#include "xml_util.h"

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

bool
S3ParseTimestamp(const char *s, int64_t *result)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *p = s;
	int			y,
				mo,
				d,
				h,
				mi,
				sec;
	int64_t		offset = 0;
	int			maxday;

	if (s == NULL ||
		!StoreReadDigits(&p, 4, &y) || *p++ != '-' ||
		!StoreReadDigits(&p, 2, &mo) || *p++ != '-' ||
		!StoreReadDigits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return false;
	p++;
	if (!StoreReadDigits(&p, 2, &h) || *p++ != ':' ||
		!StoreReadDigits(&p, 2, &mi) || *p++ != ':' ||
		!StoreReadDigits(&p, 2, &sec))
		return false;
	if (*p == '.')
	{
		/* fractional seconds: at least one digit, dropped */
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-')
	{
		int			sign = (*p == '-') ? -1 : 1;
		int			oh,
					om;

		p++;
		if (!StoreReadDigits(&p, 2, &oh) || *p++ != ':' ||
			!StoreReadDigits(&p, 2, &om) || oh > 23 || om > 59)
			return false;
		offset = sign * (int64_t) (oh * 3600 + om * 60);
	}
	else
		return false;
	if (*p != '\0')
		return false;

	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60)
		return false;
	maxday = mdays[mo - 1] + ((mo == 2 && StoreIsLeapYear(y)) ? 1 : 0);
	if (d < 1 || d > maxday)
		return false;

	/* a leap second (":60") counts as the next second */
	*result = StoreDaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
		offset;
	return true;
}

/* An RFC 1123 date, as in Last-Modified; see StoreParseHttpDate. */
bool
S3ParseHttpDate(const char *s, int64_t *result)
{
	return StoreParseHttpDate(s, result);
}

/*
 * Fill obj from one <Contents> element.  Returns false with err set when a
 * required child (Key, Size) is missing or a value is malformed; obj may
 * then own memory, which the caller frees with the page.
 */
static bool
parse_contents(const xmlNode *contents, TelemObject *obj, TelemError *err)
{
	const xmlNode *child;
	bool		have_size = false;

	for (child = contents->children; child != NULL; child = child->next)
	{
		char	   *text;

		if (child->type != XML_ELEMENT_NODE)
			continue;
		if (!XmlIsElement(child, "Key") && !XmlIsElement(child, "Size") &&
			!XmlIsElement(child, "ETag") && !XmlIsElement(child, "LastModified"))
			continue;

		text = XmlElementText(child);
		if (text == NULL)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "out of memory parsing an S3 listing");

		if (XmlIsElement(child, "Key"))
		{
			free(obj->key);
			obj->key = text;
			continue;
		}
		if (XmlIsElement(child, "Size"))
		{
			if (!XmlParseSize(text, &obj->size))
			{
				free(text);
				return TelemSetError(err, TELEM_ERR_PROTOCOL,
									 "malformed <Size> in S3 listing");
			}
			have_size = true;
		}
		else if (XmlIsElement(child, "ETag"))
		{
			size_t		n = strlen(text);

			/* S3 quotes ETags ("\"abc\""); store them bare */
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
		else if (XmlIsElement(child, "LastModified"))
		{
			if (!S3ParseTimestamp(text, &obj->last_modified))
			{
				free(text);
				return TelemSetError(err, TELEM_ERR_PROTOCOL,
									 "malformed <LastModified> in S3 listing");
			}
		}
		free(text);
	}

	if (obj->key == NULL || obj->key[0] == '\0')
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "S3 listing entry without a <Key>");
	if (!have_size)
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "S3 listing entry without a <Size>");
	return true;
}

/*
 * The <Prefix> of one <CommonPrefixes> element, malloc'd, into *prefix.
 * false with err set when it is missing, empty or out of memory.
 */
static bool
parse_common_prefix(const xmlNode *cp, char **prefix, TelemError *err)
{
	const xmlNode *child;

	for (child = cp->children; child != NULL; child = child->next)
		if (XmlIsElement(child, "Prefix"))
		{
			free(*prefix);
			*prefix = XmlElementText(child);
			if (*prefix == NULL)
				return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
									 "out of memory parsing an S3 listing");
		}
	if (*prefix == NULL || (*prefix)[0] == '\0')
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "S3 listing <CommonPrefixes> without a <Prefix>");
	return true;
}

bool
S3ParseListing(const char *xml, size_t len, TelemObjectPage *page,
			   TelemError *err)
{
	xmlDocPtr	doc;
	xmlNode    *root;
	xmlNode    *child;
	int			ncontents = 0;
	int			nprefixes = 0;
	bool		truncated = false;
	char	   *token = NULL;
	bool		ok = true;

	memset(page, 0, sizeof(*page));

	doc = XmlParseReply(xml, len, "S3", err);
	if (doc == NULL)
		return false;

	root = xmlDocGetRootElement(doc);
	if (!XmlIsElement(root, "ListBucketResult"))
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "S3 listing reply has root element <%.64s>, "
					  "expected <ListBucketResult>",
					  root != NULL ? (const char *) root->name : "");
		xmlFreeDoc(doc);
		return false;
	}

	for (child = root->children; child != NULL; child = child->next)
	{
		if (XmlIsElement(child, "Contents"))
			ncontents++;
		else if (XmlIsElement(child, "CommonPrefixes"))
			nprefixes++;
	}
	if (ncontents > 0)
		ok = (page->objects = calloc(ncontents, sizeof(TelemObject))) != NULL;
	if (ok && nprefixes > 0)
		ok = (page->prefixes = calloc(nprefixes, sizeof(char *))) != NULL;
	if (!ok)
	{
		xmlFreeDoc(doc);
		TelemObjectPageFree(page);
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							 "out of memory parsing an S3 listing");
	}

	for (child = root->children; ok && child != NULL; child = child->next)
	{
		if (XmlIsElement(child, "Contents"))
		{
			/* count it first so that a failure frees what it allocated */
			TelemObject *obj = &page->objects[page->nobjects++];

			ok = parse_contents(child, obj, err);
		}
		else if (XmlIsElement(child, "CommonPrefixes"))
			ok = parse_common_prefix(child, &page->prefixes[page->nprefixes++],
									 err);
		else if (XmlIsElement(child, "IsTruncated") ||
				 XmlIsElement(child, "NextContinuationToken"))
		{
			char	   *text = XmlElementText(child);

			if (text == NULL)
				ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								   "out of memory parsing an S3 listing");
			else if (XmlIsElement(child, "IsTruncated"))
			{
				truncated = (strcmp(text, "true") == 0);
				free(text);
			}
			else
			{
				free(token);
				token = text;
			}
		}
	}
	xmlFreeDoc(doc);

	/* a truncated page without a token would end the listing silently */
	if (ok && truncated && (token == NULL || token[0] == '\0'))
		ok = TelemSetError(err, TELEM_ERR_PROTOCOL,
						   "S3 listing is truncated but has no "
						   "<NextContinuationToken>");
	if (!ok)
	{
		free(token);
		TelemObjectPageFree(page);
		return false;
	}
	if (truncated)
		page->next_token = token;
	else
		free(token);
	return true;
}

void
S3ParseErrorBody(const char *xml, size_t len, char code[64],
				 char message[256])
{
	XmlParseErrorBody(xml, len, code, message);
}

/*
 * Parse xml[0..len) and check that its root is an element called
 * root_name.  Returns the document (caller frees) or NULL with err set; an
 * <Error> root gives TELEM_ERR_PROTOCOL with err->code its <Code>.
 */
static xmlDocPtr
parse_reply(const char *xml, size_t len, const char *root_name,
			const char *what, TelemError *err)
{
	xmlDocPtr	doc = XmlParseReply(xml, len, "S3", err);
	xmlNode    *root;

	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (XmlIsElement(root, "Error"))
	{
		char		code[64];
		char		message[256];

		xmlFreeDoc(doc);
		S3ParseErrorBody(xml, len, code, message);
		TelemSetError(err, TELEM_ERR_PROTOCOL, "S3 %s failed: %s%s%s", what,
					  code[0] != '\0' ? code : "unknown error",
					  message[0] != '\0' ? ": " : "", message);
		if (err != NULL)
			memcpy(err->code, code, sizeof(err->code));
		return NULL;
	}
	if (!XmlIsElement(root, root_name))
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "S3 %s reply has root element <%.64s>, expected <%s>",
					  what, root != NULL ? (const char *) root->name : "",
					  root_name);
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/*
 * The text of root's first child element called name, malloc'd; NULL with
 * *oom false if there is none.
 */
static char *
child_text(const xmlNode *root, const char *name, bool *oom)
{
	const xmlNode *child;

	*oom = false;
	for (child = root->children; child != NULL; child = child->next)
		if (XmlIsElement(child, name))
		{
			char	   *text = XmlElementText(child);

			*oom = (text == NULL);
			return text;
		}
	return NULL;
}

bool
S3ParseInitiateMultipart(const char *xml, size_t len, char **upload_id,
						 TelemError *err)
{
	xmlDocPtr	doc;
	char	   *id;
	bool		oom;

	*upload_id = NULL;
	doc = parse_reply(xml, len, "InitiateMultipartUploadResult",
					  "initiate multipart upload", err);
	if (doc == NULL)
		return false;
	id = child_text(xmlDocGetRootElement(doc), "UploadId", &oom);
	xmlFreeDoc(doc);
	if (oom)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							 "out of memory parsing an S3 reply");
	if (id == NULL || id[0] == '\0')
	{
		free(id);
		return TelemSetError(err, TELEM_ERR_PROTOCOL,
							 "S3 initiate multipart upload reply has no <UploadId>");
	}
	*upload_id = id;
	return true;
}

bool
S3ParseCompleteMultipart(const char *xml, size_t len, char etag[256],
						 TelemError *err)
{
	xmlDocPtr	doc;
	char	   *text;
	bool		oom;
	size_t		n;

	etag[0] = '\0';
	doc = parse_reply(xml, len, "CompleteMultipartUploadResult",
					  "complete multipart upload", err);
	if (doc == NULL)
		return false;
	text = child_text(xmlDocGetRootElement(doc), "ETag", &oom);
	xmlFreeDoc(doc);
	if (oom)
		return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
							 "out of memory parsing an S3 reply");
	if (text == NULL)
		return true;
	n = strlen(text);
	if (n >= 2 && text[0] == '"' && text[n - 1] == '"')
	{
		memmove(text, text + 1, n - 2);
		text[n - 2] = '\0';
	}
	XmlCopyMessage(etag, 256, text);
	free(text);
	return true;
}

/* Append s to buf at *pos, XML-escaped; buf is large enough. */
static void
append_escaped(char *buf, size_t *pos, const char *s)
{
	for (; *s != '\0'; s++)
	{
		const char *rep = NULL;

		switch (*s)
		{
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			default:
				buf[(*pos)++] = *s;
				continue;
		}
		memcpy(buf + *pos, rep, strlen(rep));
		*pos += strlen(rep);
	}
}

char *
S3BuildCompleteMultipart(const char *const *etags, int nparts, size_t *len)
{
	static const char head[] =
		"<CompleteMultipartUpload xmlns=\"" S3_XMLNS "\">";
	static const char tail[] = "</CompleteMultipartUpload>";
	size_t		cap = sizeof(head) + sizeof(tail);
	size_t		pos = 0;
	char	   *buf;
	int			i;

	/* worst case: every ETag character becomes "&amp;" */
	for (i = 0; i < nparts; i++)
		cap += 64 + 5 * strlen(etags[i]);
	buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	memcpy(buf, head, sizeof(head) - 1);
	pos = sizeof(head) - 1;
	for (i = 0; i < nparts; i++)
	{
		pos += snprintf(buf + pos, cap - pos,
						"<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
		append_escaped(buf, &pos, etags[i]);
		memcpy(buf + pos, "</ETag></Part>", 14);
		pos += 14;
	}
	memcpy(buf + pos, tail, sizeof(tail));
	pos += sizeof(tail) - 1;
	*len = pos;
	return buf;
}
