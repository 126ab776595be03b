/*-------------------------------------------------------------------------
 *
 * s3_listing.c
 *		S3 XML: parse ListObjectsV2 pages, multipart upload replies and
 *		<Error> bodies; build CompleteMultipartUpload requests.
 *
 * The XML comes from the network, so the parser is set up defensively:
 * XML_PARSE_NONET (never fetch anything), no XML_PARSE_NOENT (no entity
 * substitution beyond the predefined five), no DTD loading or validation,
 * and a document that declares a DOCTYPE at all is refused before its
 * internal subset is read: S3 never sends one, and that closes the door
 * on entity-expansion bombs.  Errors go to a per-parser handler instead of
 * libxml2's global ones, which the PostgreSQL backend may own.
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
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "s3_listing.h"

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

/* Per-parse state, reached through ctxt->_private from SAX callbacks. */
typedef struct ParseState
{
	bool		saw_doctype;
} ParseState;

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
	ParseState *state = (ParseState *) ctxt->_private;

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
 * Parse xml[0..len) into a tree.  Returns NULL when the input is not
 * well-formed XML, carries a DOCTYPE, or memory ran out; if err is not NULL
 * it is filled in then.
 */
static xmlDocPtr
parse_xml(const char *xml, size_t len, TelemError *err)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr	doc;
	ParseState	state = {false};
	const int	options = XML_PARSE_NONET | XML_PARSE_NOERROR |
		XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;

	if (xml == NULL || len == 0)
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL, "S3 returned an empty XML reply");
		return NULL;
	}
	if (len > INT_MAX)
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL, "S3 XML reply is too large");
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

	doc = xmlCtxtReadMemory(ctxt, xml, (int) len, "s3-reply.xml", NULL,
							options);

	if (state.saw_doctype || (doc != NULL && doc->intSubset != NULL))
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "S3 XML reply carries a DOCTYPE, which is not allowed");
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
		/* libxml2 messages end in a newline, now a space: trim it */
		while (detail[0] != '\0' && detail[strlen(detail) - 1] == ' ')
			detail[strlen(detail) - 1] = '\0';
		TelemSetError(err,
					  (xe != NULL && xe->code == XML_ERR_NO_MEMORY) ?
					  TELEM_ERR_OUT_OF_MEMORY : TELEM_ERR_PROTOCOL,
					  "malformed XML from S3 (line %d): %s",
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
 * The text content of element node as a malloc'd string ("" when empty).
 * Only direct text children count; with DOCTYPEs refused, entity
 * references cannot occur, so nothing here can expand.  Returns NULL only
 * when out of memory.
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
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
 * Counting from March 1 puts the leap day at the end of the "year", so a
 * fixed table of month lengths works for every year.
 */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t		yy = (m <= 2) ? y - 1 : y;
	int64_t		era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t		yoe = yy - era * 400;	/* 0..399 */
	int64_t		mp = (m + 9) % 12;	/* March = 0 */
	int64_t		doy = (153 * mp + 2) / 5 + d - 1;	/* 0..365 */
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* 0..146096 */

	return era * 146097 + doe - 719468;
}

static bool
is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

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
		!read_digits(&p, 4, &y) || *p++ != '-' ||
		!read_digits(&p, 2, &mo) || *p++ != '-' ||
		!read_digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return false;
	p++;
	if (!read_digits(&p, 2, &h) || *p++ != ':' ||
		!read_digits(&p, 2, &mi) || *p++ != ':' ||
		!read_digits(&p, 2, &sec))
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
		if (!read_digits(&p, 2, &oh) || *p++ != ':' ||
			!read_digits(&p, 2, &om) || oh > 23 || om > 59)
			return false;
		offset = sign * (int64_t) (oh * 3600 + om * 60);
	}
	else
		return false;
	if (*p != '\0')
		return false;

	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60)
		return false;
	maxday = mdays[mo - 1] + ((mo == 2 && is_leap_year(y)) ? 1 : 0);
	if (d < 1 || d > maxday)
		return false;

	/* a leap second (":60") counts as the next second */
	*result = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
		offset;
	return true;
}

bool
S3ParseHttpDate(const char *s, int64_t *result)
{
	static const char *const months[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	static const char *const wdays[7] = {
		"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
	};
	char		iso[64];
	const char *p;
	int			d,
				y,
				mo = -1,
				i;

	/* "Www, DD Mon YYYY HH:MM:SS GMT", all fixed width */
	if (s == NULL || strlen(s) != 29 || strcmp(s + 25, " GMT") != 0 ||
		s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
		s[16] != ' ')
		return false;
	for (i = 0; i < 7; i++)
		if (strncmp(s, wdays[i], 3) == 0)
			break;
	if (i == 7)
		return false;
	for (i = 0; i < 12; i++)
		if (strncmp(s + 8, months[i], 3) == 0)
			mo = i + 1;
	p = s + 5;
	if (mo < 0 || !read_digits(&p, 2, &d))
		return false;
	p = s + 12;
	if (!read_digits(&p, 4, &y))
		return false;

	/* the clock part is checked by S3ParseTimestamp */
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%.8sZ", y, mo, d, s + 17);
	return S3ParseTimestamp(iso, result);
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
		if (!is_element(child, "Key") && !is_element(child, "Size") &&
			!is_element(child, "ETag") && !is_element(child, "LastModified"))
			continue;

		text = element_text(child);
		if (text == NULL)
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "out of memory parsing an S3 listing");

		if (is_element(child, "Key"))
		{
			free(obj->key);
			obj->key = text;
			continue;
		}
		if (is_element(child, "Size"))
		{
			if (!parse_size(text, &obj->size))
			{
				free(text);
				return TelemSetError(err, TELEM_ERR_PROTOCOL,
									 "malformed <Size> in S3 listing");
			}
			have_size = true;
		}
		else if (is_element(child, "ETag"))
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
		else if (is_element(child, "LastModified"))
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

bool
S3ParseListing(const char *xml, size_t len, TelemObjectPage *page,
			   TelemError *err)
{
	xmlDocPtr	doc;
	xmlNode    *root;
	xmlNode    *child;
	int			ncontents = 0;
	bool		truncated = false;
	char	   *token = NULL;
	bool		ok = true;

	memset(page, 0, sizeof(*page));

	doc = parse_xml(xml, len, err);
	if (doc == NULL)
		return false;

	root = xmlDocGetRootElement(doc);
	if (!is_element(root, "ListBucketResult"))
	{
		TelemSetError(err, TELEM_ERR_PROTOCOL,
					  "S3 listing reply has root element <%.64s>, "
					  "expected <ListBucketResult>",
					  root != NULL ? (const char *) root->name : "");
		xmlFreeDoc(doc);
		return false;
	}

	for (child = root->children; child != NULL; child = child->next)
		if (is_element(child, "Contents"))
			ncontents++;
	if (ncontents > 0)
	{
		page->objects = calloc(ncontents, sizeof(TelemObject));
		if (page->objects == NULL)
		{
			xmlFreeDoc(doc);
			return TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								 "out of memory parsing an S3 listing");
		}
	}

	for (child = root->children; ok && child != NULL; child = child->next)
	{
		if (is_element(child, "Contents"))
		{
			/* count it first so that a failure frees what it allocated */
			TelemObject *obj = &page->objects[page->nobjects++];

			ok = parse_contents(child, obj, err);
		}
		else if (is_element(child, "IsTruncated") ||
				 is_element(child, "NextContinuationToken"))
		{
			char	   *text = element_text(child);

			if (text == NULL)
				ok = TelemSetError(err, TELEM_ERR_OUT_OF_MEMORY,
								   "out of memory parsing an S3 listing");
			else if (is_element(child, "IsTruncated"))
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

/*
 * Parse xml[0..len) and check that its root is an element called
 * root_name.  Returns the document (caller frees) or NULL with err set; an
 * <Error> root gives TELEM_ERR_PROTOCOL with err->code its <Code>.
 */
static xmlDocPtr
parse_reply(const char *xml, size_t len, const char *root_name,
			const char *what, TelemError *err)
{
	xmlDocPtr	doc = parse_xml(xml, len, err);
	xmlNode    *root;

	if (doc == NULL)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (is_element(root, "Error"))
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
	if (!is_element(root, root_name))
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
		if (is_element(child, name))
		{
			char	   *text = element_text(child);

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
	copy_message(etag, 256, text);
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
