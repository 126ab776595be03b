/*-------------------------------------------------------------------------
 *
 * test_azure_listing.c
 *		Unit tests of the Azure XML parsers (List Blobs pages, <Error>)
 *		and of the RFC 1123 date parser.
 *
 * Hand-written replies in the shapes Azure and Azurite send (with and
 * without a byte-order mark, encoded names, directories of a
 * hierarchical namespace), plus hostile ones: malformed, DOCTYPE with an
 * entity bomb, missing fields.  Runs without a network or a server.
 *
 * IDENTIFICATION
 *		test/unit/test_azure_listing.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "store/azure_listing.h"

#define XMLDECL "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>"
#define ROOT "<EnumerationResults ServiceEndpoint=\"https://a.blob.core.windows.net/\" ContainerName=\"telem\">"

/* CHECK_STREQ rejects a char array under -Waddress; pass it through this. */
static const char *
arr(const char *s)
{
	return s;
}

/* Parse a NUL-terminated sample; fresh err each time. */
static bool
parse(const char *xml, TelemObjectPage *page, TelemError *err)
{
	memset(err, 0, sizeof(*err));
	return AzureParseListing(xml, strlen(xml), page, err);
}

static void
test_page(void)
{
	const char *xml = XMLDECL ROOT
		"<Prefix>2024/</Prefix><MaxResults>2</MaxResults>"
		"<Blobs>"
		"<Blob><Name>2024/01/a.jsonl.gz</Name>"
		"<Properties><Creation-Time>Mon, 27 Jan 2014 22:12:37 GMT</Creation-Time>"
		"<Last-Modified>Tue, 29 Feb 2000 12:00:00 GMT</Last-Modified>"
		"<Etag>0x8D0F7E9D38B4A2C</Etag>"
		"<Content-Length>434234</Content-Length>"
		"<Content-Type>application/octet-stream</Content-Type>"
		"<BlobType>BlockBlob</BlobType></Properties>"
		"<OrMetadata /></Blob>\n"
		"  <Blob>\n    <Name>2024/01/b&amp;c.csv</Name>\n"
		"    <Properties>\n"
		"      <Last-Modified>Thu, 01 Jan 1970 00:00:00 GMT</Last-Modified>\n"
		"      <Etag>\"0x8D0\"</Etag>\n"
		"      <Content-Length>0</Content-Length>\n"
		"    </Properties>\n  </Blob>\n"
		"<BlobPrefix><Name>2024/02/</Name></BlobPrefix>"
		"</Blobs>"
		"<NextMarker>2!80!MDAwMDE2IWJsb2IvMDAwMDAwMDAwMDUhMDAwMDI4ITk5OTktMTItMzFUMjM6NTk6NTkuOTk5OTk5OVoh</NextMarker>"
		"</EnumerationResults>";
	TelemObjectPage page;
	TelemError	err;
	bool		ok = parse(xml, &page, &err);

	CHECK(ok, "page parses: %s", err.message);
	CHECK(page.nobjects == 2, "two blobs, got %d", page.nobjects);
	if (page.nobjects == 2)
	{
		CHECK_STREQ(page.objects[0].key, "2024/01/a.jsonl.gz", "key 0");
		CHECK(page.objects[0].size == 434234, "size 0");
		CHECK_STREQ(page.objects[0].etag, "0x8D0F7E9D38B4A2C", "etag 0");
		CHECK(page.objects[0].last_modified == 951825600,
			  "leap-day date, got %lld", (long long) page.objects[0].last_modified);
		CHECK_STREQ(page.objects[1].key, "2024/01/b&c.csv", "key 1 unescaped");
		CHECK(page.objects[1].size == 0, "size 1");
		CHECK_STREQ(page.objects[1].etag, "0x8D0", "quoted etag stored bare");
		CHECK(page.objects[1].last_modified == 0, "epoch");
	}
	CHECK_STREQ(page.next_token,
				"2!80!MDAwMDE2IWJsb2IvMDAwMDAwMDAwMDUhMDAwMDI4ITk5OTktMTItMzFUMjM6NTk6NTkuOTk5OTk5OVoh",
				"next marker");
	TelemObjectPageFree(&page);
}

static void
test_last_and_empty_pages(void)
{
	TelemObjectPage page;
	TelemError	err;

	CHECK(parse(XMLDECL ROOT "<Blobs /><NextMarker /></EnumerationResults>",
				&page, &err), "empty page: %s", err.message);
	CHECK(page.nobjects == 0 && page.next_token == NULL, "nothing, no token");
	TelemObjectPageFree(&page);

	/* Azurite leaves out an empty <Blobs> and <NextMarker> */
	CHECK(parse("<EnumerationResults></EnumerationResults>", &page, &err),
		  "bare root: %s", err.message);
	CHECK(page.nobjects == 0 && page.next_token == NULL, "bare: nothing");
	TelemObjectPageFree(&page);

	CHECK(parse(ROOT "<Blobs><Blob><Name>k</Name><Properties>"
				"<Content-Length>5</Content-Length></Properties></Blob></Blobs>"
				"<NextMarker></NextMarker></EnumerationResults>", &page, &err),
		  "last page: %s", err.message);
	CHECK(page.nobjects == 1 && page.next_token == NULL, "last page: no token");
	CHECK(page.nobjects == 1 && page.objects[0].etag == NULL &&
		  page.objects[0].last_modified == 0, "optional fields absent");
	TelemObjectPageFree(&page);
}

static void
test_encoded_names_and_directories(void)
{
	const char *xml = ROOT "<Blobs>"
		"<Blob><Name Encoded=\"true\">dir%2Fa%01b%EF%BF%BF</Name>"
		"<Properties><Content-Length>1</Content-Length></Properties></Blob>"
		"<Blob><Name>dir</Name><Properties><Content-Length>0</Content-Length>"
		"<ResourceType>directory</ResourceType></Properties></Blob>"
		"<Blob><Name Encoded=\"false\">a%20b</Name>"
		"<Properties><Content-Length>2</Content-Length>"
		"<ResourceType>file</ResourceType></Properties></Blob>"
		"</Blobs></EnumerationResults>";
	TelemObjectPage page;
	TelemError	err;

	CHECK(parse(xml, &page, &err), "encoded names: %s", err.message);
	CHECK(page.nobjects == 2, "the directory is left out, got %d",
		  page.nobjects);
	if (page.nobjects == 2)
	{
		CHECK_STREQ(page.objects[0].key, "dir/a\001b\xEF\xBF\xBF", "decoded name");
		CHECK_STREQ(page.objects[1].key, "a%20b", "not encoded: as is");
	}
	TelemObjectPageFree(&page);

	CHECK(!parse(ROOT "<Blobs><Blob><Name Encoded=\"true\">a%00b</Name>"
				 "<Properties><Content-Length>1</Content-Length></Properties>"
				 "</Blob></Blobs></EnumerationResults>", &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL, "an encoded NUL is refused");
	CHECK(!parse(ROOT "<Blobs><Blob><Name Encoded=\"true\">a%4</Name>"
				 "<Properties><Content-Length>1</Content-Length></Properties>"
				 "</Blob></Blobs></EnumerationResults>", &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL, "a short escape is refused");
	CHECK(page.nobjects == 0 && page.objects == NULL, "page left empty");
}

/* A delimited (list_level) page: <BlobPrefix> among the <Blob>s. */
static void
test_blob_prefixes(void)
{
	const char *xml = XMLDECL ROOT
		"<Prefix>lvl/</Prefix><Delimiter>/</Delimiter><Blobs>"
		"<BlobPrefix><Name>lvl/a=1/</Name></BlobPrefix>"
		"<BlobPrefix><Name>lvl/a&amp;&lt;2&gt;/</Name></BlobPrefix>"
		"<BlobPrefix><Name Encoded=\"true\">lvl/x%01y/</Name></BlobPrefix>"
		"<BlobPrefix>\n<Name>lvl/p%2F/</Name>\n</BlobPrefix>"
		"<Blob><Name>lvl/z.jsonl</Name><Properties>"
		"<Last-Modified>Mon, 27 Jan 2014 22:12:37 GMT</Last-Modified>"
		"<Etag>0x8D1</Etag><Content-Length>3</Content-Length>"
		"</Properties></Blob>"
		"<Blob><Name>lvl/a=1</Name><Properties><Content-Length>0</Content-Length>"
		"<ResourceType>directory</ResourceType></Properties></Blob>"
		"</Blobs><NextMarker/></EnumerationResults>";
	const char *paged = ROOT "<Blobs>"
		"<BlobPrefix><Name>lvl/a=1/</Name></BlobPrefix>"
		"</Blobs><NextMarker>2!72!MDAw/+=</NextMarker></EnumerationResults>";
	const char *empty = ROOT "<Prefix>none/</Prefix><Delimiter>/</Delimiter>"
		"<Blobs /><NextMarker /></EnumerationResults>";
	TelemObjectPage page;
	TelemError	err;

	CHECK(parse(xml, &page, &err), "blob prefixes: %s", err.message);
	CHECK(page.nobjects == 1 && page.nprefixes == 4,
		  "1 blob (directory left out), 4 prefixes: %d %d",
		  page.nobjects, page.nprefixes);
	if (page.nobjects == 1)
	{
		CHECK_STREQ(page.objects[0].key, "lvl/z.jsonl", "blob name");
		CHECK(page.objects[0].size == 3, "blob size");
	}
	if (page.nprefixes == 4)
	{
		CHECK_STREQ(page.prefixes[0], "lvl/a=1/", "prefix 0");
		CHECK_STREQ(page.prefixes[1], "lvl/a&<2>/", "prefix 1 unescaped");
		CHECK_STREQ(page.prefixes[2], "lvl/x\001y/", "prefix 2 decoded");
		CHECK_STREQ(page.prefixes[3], "lvl/p%2F/", "prefix 3 not encoded");
	}
	CHECK(page.next_token == NULL, "empty NextMarker: last page");
	TelemObjectPageFree(&page);
	CHECK(page.prefixes == NULL && page.nprefixes == 0, "prefixes freed");

	CHECK(parse(paged, &page, &err), "paged: %s", err.message);
	CHECK(page.nobjects == 0 && page.objects == NULL && page.nprefixes == 1,
		  "prefixes only: %d %d", page.nobjects, page.nprefixes);
	CHECK_STREQ(page.next_token, "2!72!MDAw/+=", "marker of a delimited page");
	TelemObjectPageFree(&page);

	CHECK(parse(empty, &page, &err), "empty level: %s", err.message);
	CHECK(page.nobjects == 0 && page.nprefixes == 0 && page.prefixes == NULL &&
		  page.next_token == NULL, "empty level is empty");
	TelemObjectPageFree(&page);

	/* broken entries after good ones: nothing leaks, page left empty */
	CHECK(!parse(ROOT "<Blobs><BlobPrefix><Name>p/</Name></BlobPrefix>"
				 "<BlobPrefix><Name></Name></BlobPrefix>"
				 "</Blobs></EnumerationResults>", &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL &&
		  strstr(err.message, "BlobPrefix") != NULL,
		  "empty prefix name refused: %s", err.message);
	CHECK(page.prefixes == NULL && page.nprefixes == 0, "page left empty");
	CHECK(!parse(ROOT "<Blobs><BlobPrefix><Name>p/</Name></BlobPrefix>"
				 "<BlobPrefix/></Blobs></EnumerationResults>", &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL, "prefix without a name refused");
	CHECK(!parse(ROOT "<Blobs><BlobPrefix><Name Encoded=\"true\">p%00/</Name>"
				 "</BlobPrefix></Blobs></EnumerationResults>", &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL, "an encoded NUL in a prefix");
	CHECK(!parse(ROOT "<Blobs><BlobPrefix><Name>p/</Name></BlobPrefix>"
				 "<Blob><Name>k</Name></Blob></Blobs></EnumerationResults>",
				 &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL && page.nprefixes == 0,
		  "bad <Blob> after a prefix: %s", err.message);
}

static void
test_malformed(void)
{
	static const struct
	{
		const char *xml;
		const char *why;
	}			cases[] = {
		{"", "empty"},
		{"not xml", "not xml"},
		{ROOT "<Blobs><Blob>", "truncated"},
		{"<ListBucketResult/>", "wrong root"},
		{ROOT "<Blobs><Blob><Properties><Content-Length>1</Content-Length>"
		"</Properties></Blob></Blobs></EnumerationResults>", "no name"},
		{ROOT "<Blobs><Blob><Name>a</Name></Blob></Blobs></EnumerationResults>",
		"no length"},
		{ROOT "<Blobs><Blob><Name>a</Name><Properties><Content-Length>-1"
		"</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"negative length"},
		{ROOT "<Blobs><Blob><Name>a</Name><Properties><Content-Length>1x"
		"</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"junk length"},
		{ROOT "<Blobs><Blob><Name>a</Name><Properties><Content-Length>99999999999999999999"
		"</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"overflowing length"},
		{ROOT "<Blobs><Blob><Name>a</Name><Properties><Content-Length>1"
		"</Content-Length><Last-Modified>2024-01-01T00:00:00Z</Last-Modified>"
		"</Properties></Blob></Blobs></EnumerationResults>", "ISO date"},
		{ROOT "<Blobs/><Blobs/></EnumerationResults>", "two Blobs"},
		{"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
			"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>"
			"<EnumerationResults><Blobs><Blob><Name>&lol2;</Name>"
			"<Properties><Content-Length>1</Content-Length></Properties>"
		"</Blob></Blobs></EnumerationResults>", "entity bomb"},
		{"<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><EnumerationResults/>",
		"external DTD"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		TelemObjectPage page;
		TelemError	err;
		bool		ok = parse(cases[i].xml, &page, &err);

		CHECK(!ok && err.kind == TELEM_ERR_PROTOCOL && err.message[0] != '\0',
			  "%s must fail with TELEM_ERR_PROTOCOL (ok=%d kind=%d: %s)",
			  cases[i].why, ok, err.kind, err.message);
		CHECK(page.nobjects == 0 && page.objects == NULL &&
			  page.next_token == NULL, "%s: page left empty", cases[i].why);
		TelemObjectPageFree(&page);
	}
}

static void
test_error_body(void)
{
	char		code[64];
	char		message[256];
	const char *xml = XMLDECL
		"<Error><Code>AuthenticationFailed</Code>"
		"<Message>Server failed to authenticate the request.\n"
		"RequestId:0c1d\nTime:2024-01-01T00:00:00.0000000Z</Message>"
		"<AuthenticationErrorDetail>The MAC signature found in the HTTP "
		"request 'c2VjcmV0' is not the same as any computed signature."
		"</AuthenticationErrorDetail></Error>";
	char		longmsg[600];

	AzureParseErrorBody(xml, strlen(xml), code, message);
	CHECK_STREQ(arr(code), "AuthenticationFailed", "error code");
	CHECK_STREQ(arr(message),
				"Server failed to authenticate the request. RequestId:0c1d "
				"Time:2024-01-01T00:00:00.0000000Z",
				"message on one line, no detail");

	AzureParseErrorBody("junk", 4, code, message);
	CHECK(code[0] == '\0' && message[0] == '\0', "junk gives nothing");
	AzureParseErrorBody(NULL, 0, code, message);
	CHECK(code[0] == '\0' && message[0] == '\0', "no body gives nothing");
	AzureParseErrorBody("<Other><Code>x</Code></Other>", 29, code, message);
	CHECK(code[0] == '\0', "other root gives nothing");

	/* a long message is cut on a character boundary */
	strcpy(longmsg, "<Error><Code>C</Code><Message>");
	while (strlen(longmsg) < 500)
		strcat(longmsg, "\xC3\xA9");
	strcat(longmsg, "</Message></Error>");
	AzureParseErrorBody(longmsg, strlen(longmsg), code, message);
	CHECK(strlen(message) == 254, "cut to 254 bytes, got %zu",
		  strlen(message));
}

static void
test_dates(void)
{
	int64_t		t = -1;

	CHECK(AzureParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", &t) &&
		  t == 784111777, "rfc 1123 date");
	CHECK(AzureParseHttpDate("Fri, 31 Dec 9999 23:59:59 GMT", &t) &&
		  t == 253402300799LL, "far future");
	CHECK(!AzureParseHttpDate("Sun, 06 Nov 1994 08:49:37 UTC", &t), "zone");
	CHECK(!AzureParseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT", &t), "31 Feb");
	CHECK(!AzureParseHttpDate("Sun, 29 Feb 1900 08:49:37 GMT", &t), "1900");
	CHECK(!AzureParseHttpDate("Sun, 06 Nox 1994 08:49:37 GMT", &t), "month");
	CHECK(!AzureParseHttpDate("Sun, 06 Nov 1994 24:49:37 GMT", &t), "hour");
	CHECK(!AzureParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", &t), "rfc 850");
	CHECK(!AzureParseHttpDate("", &t), "empty");
	CHECK(!AzureParseHttpDate(NULL, &t), "null");
}

int
main(void)
{
	test_page();
	test_last_and_empty_pages();
	test_encoded_names_and_directories();
	test_blob_prefixes();
	test_malformed();
	test_error_body();
	test_dates();
	return unit_finish("test_azure_listing");
}
