/*-------------------------------------------------------------------------
 *
 * test_s3_listing.c
 *		Unit tests of the S3 XML code (ListObjectsV2 pages, <Error>,
 *		multipart upload replies and requests, HTTP dates).
 *
 * Hand-written replies in the shapes AWS and Ceph RGW send, plus hostile
 * ones (malformed, DOCTYPE with entity bombs, truncated pages without a
 * token).  Runs without a network or a server.
 *
 * IDENTIFICATION
 *		test/unit/test_s3_listing.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "store/s3_listing.h"

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""

/* Parse a NUL-terminated sample; fresh err each time. */
static bool
parse(const char *xml, TelemObjectPage *page, TelemError *err)
{
	memset(err, 0, sizeof(*err));
	return S3ParseListing(xml, strlen(xml), page, err);
}

static void
test_truncated_page(void)
{
	const char *xml = XMLDECL
		"<ListBucketResult " NS ">"
		"<Name>telemetry</Name><Prefix>2024/</Prefix>"
		"<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
		"<IsTruncated>true</IsTruncated>"
		"<Contents><Key>2024/01/a.jsonl.gz</Key>"
		"<LastModified>2009-10-12T17:50:30.000Z</LastModified>"
		"<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>"
		"<Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>\n"
		"  <Contents>\n"
		"    <Key>2024/01/b.csv.zst</Key>\n"
		"    <LastModified>2000-02-29T12:00:00+02:00</LastModified>\n"
		"    <ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\n"
		"    <Size>0</Size>\n"
		"  </Contents>\n"
		"<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
		"<StartAfter></StartAfter>"
		"</ListBucketResult>";
	TelemObjectPage page;
	TelemError	err;
	bool		ok = parse(xml, &page, &err);

	CHECK(ok, "truncated page parses: %s", err.message);
	CHECK(page.nobjects == 2, "two objects, got %d", page.nobjects);
	if (page.nobjects == 2)
	{
		CHECK_STREQ(page.objects[0].key, "2024/01/a.jsonl.gz", "key 0");
		CHECK(page.objects[0].size == 434234, "size 0");
		CHECK_STREQ(page.objects[0].etag, "fba9dede5f27731c9771645a39863328",
					"etag 0 without quotes");
		CHECK(page.objects[0].last_modified == 1255369830,
			  "last_modified 0 = %lld", (long long) page.objects[0].last_modified);
		CHECK_STREQ(page.objects[1].key, "2024/01/b.csv.zst", "key 1");
		CHECK(page.objects[1].size == 0, "size 1");
		CHECK_STREQ(page.objects[1].etag, "3858f62230ac3c915f300c664312c11f-9",
					"multipart etag");
		CHECK(page.objects[1].last_modified == 951818400,
			  "offset timestamp = %lld", (long long) page.objects[1].last_modified);
	}
	CHECK_STREQ(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
				"continuation token");
	TelemObjectPageFree(&page);
	CHECK(page.objects == NULL && page.nobjects == 0 && page.next_token == NULL,
		  "page freed and zeroed");
}

static void
test_last_page(void)
{
	/* RGW-style: no namespace prefix issue, token present but not truncated */
	const char *xml = XMLDECL
		"<ListBucketResult " NS ">"
		"<IsTruncated>false</IsTruncated>"
		"<Contents><Key>z</Key><Size>7</Size></Contents>"
		"<NextContinuationToken>stale</NextContinuationToken>"
		"</ListBucketResult>";
	TelemObjectPage page;
	TelemError	err;

	CHECK(parse(xml, &page, &err), "last page parses: %s", err.message);
	CHECK(page.nobjects == 1, "one object");
	CHECK(page.next_token == NULL, "no next token on the last page");
	if (page.nobjects == 1)
	{
		CHECK(page.objects[0].etag == NULL, "missing ETag is NULL");
		CHECK(page.objects[0].last_modified == 0, "missing LastModified is 0");
		CHECK(page.objects[0].size == 7, "size");
	}
	TelemObjectPageFree(&page);
}

static void
test_entities(void)
{
	const char *xml =
		"<ListBucketResult>"
		"<Contents><Key>a&amp;b/&lt;c&gt; &quot;d&apos;.json</Key><Size>1</Size></Contents>"
		"<Contents><Key>caf&#xE9;/&#9731;.csv</Key><Size>2</Size></Contents>"
		"<Contents><Key><![CDATA[x&y<z>]]></Key><Size>3</Size></Contents>"
		"<Contents><Key>  </Key><Size>4</Size></Contents>"
		"<Contents><Key>100%25 sure+plus</Key><Size>5</Size></Contents>"
		"</ListBucketResult>";
	TelemObjectPage page;
	TelemError	err;

	CHECK(parse(xml, &page, &err), "entities parse: %s", err.message);
	CHECK(page.nobjects == 5, "five objects, got %d", page.nobjects);
	if (page.nobjects == 5)
	{
		CHECK_STREQ(page.objects[0].key, "a&b/<c> \"d'.json", "predefined entities");
		CHECK_STREQ(page.objects[1].key, "caf\xC3\xA9/\xE2\x98\x83.csv",
					"character references become UTF-8");
		CHECK_STREQ(page.objects[2].key, "x&y<z>", "CDATA");
		CHECK_STREQ(page.objects[3].key, "  ", "blank key kept");
		CHECK_STREQ(page.objects[4].key, "100%25 sure+plus", "no URL decoding");
	}
	CHECK(page.next_token == NULL, "not truncated");
	TelemObjectPageFree(&page);
}

static void
test_empty_listing(void)
{
	const char *xml = XMLDECL
		"<ListBucketResult " NS "><Name>b</Name><Prefix>nothing/</Prefix>"
		"<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
		"<IsTruncated>false</IsTruncated></ListBucketResult>";
	TelemObjectPage page;
	TelemError	err;

	CHECK(parse(xml, &page, &err), "empty listing parses: %s", err.message);
	CHECK(page.nobjects == 0 && page.objects == NULL, "no objects");
	CHECK(page.next_token == NULL, "no token");
	TelemObjectPageFree(&page);
}

/* A delimited (list_level) page: <CommonPrefixes> beside <Contents>. */
static void
test_delimited_listing(void)
{
	const char *xml = XMLDECL
		"<ListBucketResult " NS "><Name>b</Name><Prefix>lvl/</Prefix>"
		"<KeyCount>5</KeyCount><MaxKeys>1000</MaxKeys>"
		"<Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>"
		"<Contents><Key>lvl/z&amp;%41.jsonl</Key>"
		"<LastModified>2009-10-12T17:50:30.000Z</LastModified>"
		"<ETag>\"e1\"</ETag><Size>7</Size></Contents>"
		"<CommonPrefixes><Prefix>lvl/a=1/</Prefix></CommonPrefixes>"
		"<CommonPrefixes>\n  <Prefix>lvl/a&lt;2&gt;/</Prefix>\n</CommonPrefixes>"
		"<CommonPrefixes><Prefix>lvl/caf\xC3\xA9 %2F/</Prefix></CommonPrefixes>"
		"<CommonPrefixes><Prefix>lvl/&#x263A;/</Prefix></CommonPrefixes>"
		"</ListBucketResult>";
	const char *paged = XMLDECL
		"<ListBucketResult " NS "><Prefix>lvl/</Prefix><MaxKeys>1</MaxKeys>"
		"<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
		"<CommonPrefixes><Prefix>lvl/a=1/</Prefix></CommonPrefixes>"
		"<NextContinuationToken>tok/+=</NextContinuationToken>"
		"</ListBucketResult>";
	const char *empty = XMLDECL
		"<ListBucketResult " NS "><Prefix>none/</Prefix>"
		"<Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>"
		"</ListBucketResult>";
	TelemObjectPage page;
	TelemError	err;

	CHECK(parse(xml, &page, &err), "delimited page parses: %s", err.message);
	CHECK(page.nobjects == 1 && page.nprefixes == 4,
		  "1 object, 4 prefixes: %d %d", page.nobjects, page.nprefixes);
	if (page.nobjects == 1)
	{
		/* no encoding-type=url was asked for: '%' is literal */
		CHECK_STREQ(page.objects[0].key, "lvl/z&%41.jsonl", "object key");
		CHECK(page.objects[0].size == 7, "object size");
		CHECK_STREQ(page.objects[0].etag, "e1", "object etag");
	}
	if (page.nprefixes == 4)
	{
		CHECK_STREQ(page.prefixes[0], "lvl/a=1/", "prefix 0");
		CHECK_STREQ(page.prefixes[1], "lvl/a<2>/", "prefix 1 unescaped");
		CHECK_STREQ(page.prefixes[2], "lvl/caf\xC3\xA9 %2F/", "prefix 2 as is");
		CHECK_STREQ(page.prefixes[3], "lvl/\xE2\x98\xBA/", "character reference");
	}
	CHECK(page.next_token == NULL, "last page");
	TelemObjectPageFree(&page);
	CHECK(page.prefixes == NULL && page.nprefixes == 0, "prefixes freed");

	CHECK(parse(paged, &page, &err), "paged: %s", err.message);
	CHECK(page.nobjects == 0 && page.objects == NULL && page.nprefixes == 1,
		  "prefixes only: %d %d", page.nobjects, page.nprefixes);
	CHECK_STREQ(page.next_token, "tok/+=", "token of a delimited page");
	TelemObjectPageFree(&page);

	CHECK(parse(empty, &page, &err), "empty level: %s", err.message);
	CHECK(page.nobjects == 0 && page.nprefixes == 0 && page.prefixes == NULL &&
		  page.next_token == NULL, "empty level is empty");
	TelemObjectPageFree(&page);

	/* a broken entry after good ones: nothing leaks, page left empty */
	memset(&err, 0, sizeof(err));
	CHECK(!parse("<ListBucketResult>"
				 "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>"
				 "<CommonPrefixes><Prefix></Prefix></CommonPrefixes>"
				 "</ListBucketResult>", &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL &&
		  strstr(err.message, "CommonPrefixes") != NULL,
		  "empty <Prefix> refused: %s", err.message);
	CHECK(page.prefixes == NULL && page.nprefixes == 0, "page left empty");
	CHECK(!parse("<ListBucketResult>"
				 "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>"
				 "<CommonPrefixes/></ListBucketResult>", &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL, "missing <Prefix> refused");
	CHECK(!parse("<ListBucketResult>"
				 "<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>"
				 "<Contents><Key>k</Key></Contents></ListBucketResult>",
				 &page, &err) &&
		  err.kind == TELEM_ERR_PROTOCOL && page.nprefixes == 0,
		  "bad <Contents> after a prefix: %s", err.message);
}

/* Every sample here must fail with kind, leaving the page empty. */
static void
expect_failure(const char *xml, size_t len, TelemErrorKind kind,
			   const char *needle, const char *label)
{
	TelemObjectPage page;
	TelemError	err;
	bool		ok;

	memset(&err, 0, sizeof(err));
	memset(&page, 0x7f, sizeof(page));	/* must be overwritten */
	ok = S3ParseListing(xml, len, &page, &err);
	CHECK(!ok, "%s: should fail", label);
	CHECK(err.kind == kind, "%s: kind %d, want %d (%s)", label, err.kind, kind,
		  err.message);
	CHECK(page.objects == NULL && page.nobjects == 0 && page.next_token == NULL,
		  "%s: page left empty", label);
	CHECK(needle == NULL || strstr(err.message, needle) != NULL,
		  "%s: message \"%s\" lacks \"%s\"", label, err.message, needle);
	if (ok)
		TelemObjectPageFree(&page);
}

static void
test_malformed(void)
{
	const char *unclosed = "<ListBucketResult><Contents><Key>a</Key>";
	const char *mismatched = "<ListBucketResult><Contents></Key></ListBucketResult>";
	const char *html = "<html><body>502 Bad Gateway</body></html>";
	const char *no_token =
		"<ListBucketResult><IsTruncated>true</IsTruncated>"
		"<Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResult>";
	const char *empty_token =
		"<ListBucketResult><IsTruncated>true</IsTruncated>"
		"<NextContinuationToken></NextContinuationToken></ListBucketResult>";
	const char *no_size =
		"<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>"
		"<Contents><Key>b</Key></Contents></ListBucketResult>";
	const char *bad_size =
		"<ListBucketResult><Contents><Key>a</Key><Size>12x</Size></Contents>"
		"</ListBucketResult>";
	const char *neg_size =
		"<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents>"
		"</ListBucketResult>";
	const char *no_key =
		"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>";
	const char *bad_date =
		"<ListBucketResult><Contents><Key>a</Key><Size>1</Size>"
		"<LastModified>2001-02-29T00:00:00Z</LastModified></Contents>"
		"</ListBucketResult>";
	const char *error_body =
		"<Error><Code>AccessDenied</Code><Message>no</Message></Error>";
	const char *bomb =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE lolz [\n"
		" <!ENTITY lol \"lol\">\n"
		" <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
		" <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
		" <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
		"]>\n"
		"<ListBucketResult><Contents><Key>&lol3;</Key><Size>1</Size></Contents>"
		"</ListBucketResult>";
	const char *external =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/evil.dtd\">\n"
		"<ListBucketResult/>";
	const char *xxe =
		"<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<ListBucketResult><Contents><Key>&x;</Key><Size>1</Size></Contents>"
		"</ListBucketResult>";
	const char *undefined_entity =
		"<ListBucketResult><Contents><Key>&nope;</Key><Size>1</Size></Contents>"
		"</ListBucketResult>";

	expect_failure(unclosed, strlen(unclosed), TELEM_ERR_PROTOCOL,
				   "malformed XML", "unclosed");
	expect_failure(mismatched, strlen(mismatched), TELEM_ERR_PROTOCOL,
				   "malformed XML", "mismatched tag");
	expect_failure("", 0, TELEM_ERR_PROTOCOL, "empty", "empty input");
	expect_failure(NULL, 0, TELEM_ERR_PROTOCOL, "empty", "NULL input");
	expect_failure("not xml at all", 14, TELEM_ERR_PROTOCOL, "malformed XML",
				   "plain text");
	expect_failure(html, strlen(html), TELEM_ERR_PROTOCOL, "<html>",
				   "wrong root");
	expect_failure(error_body, strlen(error_body), TELEM_ERR_PROTOCOL,
				   "<Error>", "error body is not a listing");
	expect_failure(no_token, strlen(no_token), TELEM_ERR_PROTOCOL,
				   "NextContinuationToken", "truncated without token");
	expect_failure(empty_token, strlen(empty_token), TELEM_ERR_PROTOCOL,
				   "NextContinuationToken", "truncated with empty token");
	expect_failure(no_size, strlen(no_size), TELEM_ERR_PROTOCOL, "<Size>",
				   "missing size");
	expect_failure(bad_size, strlen(bad_size), TELEM_ERR_PROTOCOL, "<Size>",
				   "bad size");
	expect_failure(neg_size, strlen(neg_size), TELEM_ERR_PROTOCOL, "<Size>",
				   "negative size");
	expect_failure(no_key, strlen(no_key), TELEM_ERR_PROTOCOL, "<Key>",
				   "missing key");
	expect_failure(bad_date, strlen(bad_date), TELEM_ERR_PROTOCOL,
				   "LastModified", "Feb 29 in a common year");
	expect_failure(bomb, strlen(bomb), TELEM_ERR_PROTOCOL, "DOCTYPE",
				   "entity bomb");
	expect_failure(external, strlen(external), TELEM_ERR_PROTOCOL, "DOCTYPE",
				   "external DTD");
	expect_failure(xxe, strlen(xxe), TELEM_ERR_PROTOCOL, "DOCTYPE",
				   "external entity");
	expect_failure(undefined_entity, strlen(undefined_entity),
				   TELEM_ERR_PROTOCOL, "malformed XML", "undefined entity");
}

/* The parser must honor len and never read up to a NUL. */
static void
test_length_bound(void)
{
	const char *full =
		"<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>"
		"</ListBucketResult>GARBAGE";
	size_t		len = strlen(full) - strlen("GARBAGE");
	char	   *copy = malloc(len);
	TelemObjectPage page;
	TelemError	err;

	memcpy(copy, full, len);	/* no terminator: valgrind catches overreads */
	memset(&err, 0, sizeof(err));
	CHECK(S3ParseListing(copy, len, &page, &err), "bounded parse: %s",
		  err.message);
	CHECK(page.nobjects == 1, "one object");
	TelemObjectPageFree(&page);

	/* cutting the same buffer short must fail cleanly */
	expect_failure(copy, len - 5, TELEM_ERR_PROTOCOL, "malformed XML",
				   "cut short");
	free(copy);
}

static void
test_error_body(void)
{
	char		code[64];
	char		message[256];
	const char *codep = code;	/* CHECK_STREQ wants pointers */
	const char *messagep = message;
	const char *aws = XMLDECL
		"<Error><Code>NoSuchBucket</Code>"
		"<Message>The specified bucket does not exist</Message>"
		"<BucketName>nope</BucketName><RequestId>tx0000</RequestId>"
		"<HostId>abc</HostId></Error>";
	const char *sig =
		"<Error><Code>SignatureDoesNotMatch</Code><Message></Message>"
		"<StringToSign>AWS4-HMAC-SHA256\n...</StringToSign></Error>";
	const char *multiline =
		"<Error><Code>SlowDown</Code><Message>Please reduce\n\tyour request "
		"rate &amp; retry.</Message></Error>";
	char		longmsg[600];
	int			i;
	size_t		n;

	S3ParseErrorBody(aws, strlen(aws), code, message);
	CHECK_STREQ(codep, "NoSuchBucket", "code");
	CHECK_STREQ(messagep, "The specified bucket does not exist", "message");

	S3ParseErrorBody(sig, strlen(sig), code, message);
	CHECK_STREQ(codep, "SignatureDoesNotMatch", "signature code");
	CHECK_STREQ(messagep, "", "empty message");

	S3ParseErrorBody(multiline, strlen(multiline), code, message);
	CHECK_STREQ(codep, "SlowDown", "slowdown code");
	CHECK_STREQ(messagep, "Please reduce  your request rate & retry.",
				"control characters flattened");

	/* not XML, empty, wrong root: empty strings, no failure */
	S3ParseErrorBody("<html>oops", 10, code, message);
	CHECK(code[0] == '\0' && message[0] == '\0', "HTML body gives empty strings");
	S3ParseErrorBody(NULL, 0, code, message);
	CHECK(code[0] == '\0' && message[0] == '\0', "no body");
	S3ParseErrorBody("<ListBucketResult/>", 19, code, message);
	CHECK(code[0] == '\0' && message[0] == '\0', "wrong root");

	/* long message of 3-byte characters: cut on a character boundary */
	strcpy(longmsg, "<Error><Code>");
	for (i = 0; i < 70; i++)
		strcat(longmsg, "C");
	strcat(longmsg, "</Code><Message>");
	for (i = 0; i < 120; i++)
		strcat(longmsg, "\xE2\x98\x83");	/* 360 bytes */
	strcat(longmsg, "</Message></Error>");
	S3ParseErrorBody(longmsg, strlen(longmsg), code, message);
	CHECK(strlen(code) == 63, "code truncated to 63, got %zu", strlen(code));
	n = strlen(message);
	CHECK(n == 255, "message truncated to 255 bytes, got %zu", n);
	CHECK(n % 3 == 0, "message cut on a character boundary (%zu bytes)", n);
}

static void
test_timestamps(void)
{
	int64_t		t = 42;

	CHECK(S3ParseTimestamp("1970-01-01T00:00:00Z", &t) && t == 0, "epoch");
	CHECK(S3ParseTimestamp("1969-12-31T23:59:59Z", &t) && t == -1,
		  "before the epoch: %lld", (long long) t);
	CHECK(S3ParseTimestamp("2009-10-12T17:50:30.000Z", &t) && t == 1255369830,
		  "millis");
	CHECK(S3ParseTimestamp("2009-10-12T17:50:30.123456789Z", &t) &&
		  t == 1255369830, "nanos");
	CHECK(S3ParseTimestamp("2009-10-12T19:50:30+02:00", &t) && t == 1255369830,
		  "positive offset");
	CHECK(S3ParseTimestamp("2009-10-12T15:50:30-02:00", &t) && t == 1255369830,
		  "negative offset");
	CHECK(S3ParseTimestamp("2024-02-29T23:59:60Z", &t) && t == 1709251200,
		  "leap day and leap second");
	CHECK(!S3ParseTimestamp("2009-10-12T17:50:30", &t), "no zone");
	CHECK(!S3ParseTimestamp("2009-10-12 17:50:30Z", &t), "space separator");
	CHECK(!S3ParseTimestamp("2009-13-12T17:50:30Z", &t), "month 13");
	CHECK(!S3ParseTimestamp("2009-04-31T17:50:30Z", &t), "April 31");
	CHECK(!S3ParseTimestamp("1900-02-29T00:00:00Z", &t), "1900 is not leap");
	CHECK(S3ParseTimestamp("2000-02-29T00:00:00Z", &t), "2000 is leap");
	CHECK(!S3ParseTimestamp("2009-10-12T24:00:00Z", &t), "hour 24");
	CHECK(!S3ParseTimestamp("2009-10-12T17:50:30.Z", &t), "empty fraction");
	CHECK(!S3ParseTimestamp("2009-10-12T17:50:30Zjunk", &t), "trailing junk");
	CHECK(!S3ParseTimestamp("", &t), "empty");
	CHECK(!S3ParseTimestamp(NULL, &t), "NULL");
}

static void
test_http_date(void)
{
	int64_t		t = -1;

	CHECK(S3ParseHttpDate("Mon, 12 Oct 2009 17:50:30 GMT", &t) &&
		  t == 1255369830, "Last-Modified = %lld", (long long) t);
	CHECK(S3ParseHttpDate("Tue, 29 Feb 2000 10:00:00 GMT", &t) &&
		  t == 951818400, "leap day = %lld", (long long) t);
	CHECK(!S3ParseHttpDate("Mon, 12 Oct 2009 17:50:30 UTC", &t), "zone");
	CHECK(!S3ParseHttpDate("Mon, 12 Okt 2009 17:50:30 GMT", &t), "month name");
	CHECK(!S3ParseHttpDate("Xyz, 12 Oct 2009 17:50:30 GMT", &t), "day name");
	CHECK(!S3ParseHttpDate("Mon, 31 Feb 2009 17:50:30 GMT", &t), "Feb 31");
	CHECK(!S3ParseHttpDate("Mon, 12 Oct 2009 24:50:30 GMT", &t), "hour 24");
	CHECK(!S3ParseHttpDate("Mon, 12 Oct 2009 17:50:30 GMT ", &t), "trailing");
	CHECK(!S3ParseHttpDate("Monday, 12-Oct-09 17:50:30 GMT", &t), "RFC 850");
	CHECK(!S3ParseHttpDate("", &t), "empty");
	CHECK(!S3ParseHttpDate(NULL, &t), "NULL");
}

static void
test_initiate_multipart(void)
{
	const char *aws = XMLDECL
		"<InitiateMultipartUploadResult " NS ">"
		"<Bucket>telemetry</Bucket><Key>2024/big.jsonl</Key>"
		"<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>"
		"</InitiateMultipartUploadResult>";
	const char *rgw =
		"<InitiateMultipartUploadResult><UploadId>2~a&amp;b/c+d</UploadId>"
		"</InitiateMultipartUploadResult>";
	const char *error =
		"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
	const char *no_id =
		"<InitiateMultipartUploadResult><Key>k</Key></InitiateMultipartUploadResult>";
	const char *empty_id =
		"<InitiateMultipartUploadResult><UploadId></UploadId>"
		"</InitiateMultipartUploadResult>";
	const char *doctype =
		"<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">]>"
		"<InitiateMultipartUploadResult><UploadId>&a;</UploadId>"
		"</InitiateMultipartUploadResult>";
	TelemError	err;
	char	   *id = NULL;

	memset(&err, 0, sizeof(err));
	CHECK(S3ParseInitiateMultipart(aws, strlen(aws), &id, &err),
		  "AWS reply parses: %s", err.message);
	CHECK_STREQ(id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
				"AWS upload id");
	free(id);

	CHECK(S3ParseInitiateMultipart(rgw, strlen(rgw), &id, &err),
		  "RGW reply parses: %s", err.message);
	CHECK_STREQ(id, "2~a&b/c+d", "entity decoded once");
	free(id);

	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseInitiateMultipart(error, strlen(error), &id, &err) &&
		  id == NULL, "an <Error> reply fails");
	CHECK(err.kind == TELEM_ERR_PROTOCOL && strcmp(err.code, "AccessDenied") == 0,
		  "error code kept: kind %d code \"%s\"", err.kind, err.code);
	CHECK(strstr(err.message, "Access Denied") != NULL, "message: %s",
		  err.message);

	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseInitiateMultipart(no_id, strlen(no_id), &id, &err) &&
		  id == NULL && strstr(err.message, "UploadId") != NULL,
		  "missing <UploadId>: %s", err.message);
	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseInitiateMultipart(empty_id, strlen(empty_id), &id, &err) &&
		  id == NULL && err.kind == TELEM_ERR_PROTOCOL,
		  "empty <UploadId>: %s", err.message);
	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseInitiateMultipart(doctype, strlen(doctype), &id, &err) &&
		  id == NULL && strstr(err.message, "DOCTYPE") != NULL,
		  "DOCTYPE refused: %s", err.message);
	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseInitiateMultipart(aws, 40, &id, &err) && id == NULL &&
		  err.kind == TELEM_ERR_PROTOCOL, "truncated reply: %s", err.message);
	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseInitiateMultipart(no_id, 0, &id, &err) && id == NULL,
		  "empty body fails");
}

static void
test_complete_multipart(void)
{
	const char *ok = XMLDECL
		"<CompleteMultipartUploadResult " NS ">"
		"<Location>http://telemetry.s3.amazonaws.com/big</Location>"
		"<Bucket>telemetry</Bucket><Key>big</Key>"
		"<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>"
		"</CompleteMultipartUploadResult>";
	const char *no_etag =
		"<CompleteMultipartUploadResult><Key>big</Key>"
		"</CompleteMultipartUploadResult>";
	/* S3 may say 200 first and report the failure in the body */
	const char *late_error = XMLDECL "\n\n\n"
		"<Error><Code>InternalError</Code>"
		"<Message>We encountered an internal error. Please try again.</Message>"
		"<RequestId>656c76696e6727732072657175657374</RequestId></Error>";
	const char *wrong_root = "<ListBucketResult></ListBucketResult>";
	TelemError	err;
	char		etag[256];

	memset(&err, 0, sizeof(err));
	CHECK(S3ParseCompleteMultipart(ok, strlen(ok), etag, &err),
		  "complete reply parses: %s", err.message);
	CHECK(strcmp(etag, "3858f62230ac3c915f300c664312c11f-9") == 0,
		  "etag unquoted: %s", etag);

	CHECK(S3ParseCompleteMultipart(no_etag, strlen(no_etag), etag, &err) &&
		  etag[0] == '\0', "no <ETag> is no error");

	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseCompleteMultipart(late_error, strlen(late_error), etag, &err),
		  "an <Error> in a 200 reply fails");
	CHECK(strcmp(err.code, "InternalError") == 0 &&
		  err.kind == TELEM_ERR_PROTOCOL,
		  "code \"%s\" kind %d", err.code, err.kind);
	CHECK(strstr(err.message, "complete multipart upload") != NULL &&
		  strstr(err.message, "try again") != NULL, "message: %s",
		  err.message);

	memset(&err, 0, sizeof(err));
	CHECK(!S3ParseCompleteMultipart(wrong_root, strlen(wrong_root), etag, &err) &&
		  strstr(err.message, "<ListBucketResult>") != NULL,
		  "wrong root: %s", err.message);
}

static void
test_build_complete(void)
{
	const char *etags[3] = {
		"\"a54357aff0632cce46d942af68356b38\"",
		"\"0c78aef83f66abc1fa1e8477f296d394\"",
		"\"odd<&>\""
	};
	const char *want =
		"<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Part><PartNumber>1</PartNumber>"
		"<ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
		"<Part><PartNumber>2</PartNumber>"
		"<ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag></Part>"
		"<Part><PartNumber>3</PartNumber>"
		"<ETag>\"odd&lt;&amp;&gt;\"</ETag></Part>"
		"</CompleteMultipartUpload>";
	size_t		len = 0;
	char	   *body = S3BuildCompleteMultipart(etags, 3, &len);

	CHECK_STREQ(body, want, "CompleteMultipartUpload body");
	CHECK(body != NULL && len == strlen(body), "length %zu", len);
	free(body);

	body = S3BuildCompleteMultipart(etags, 0, &len);
	CHECK_STREQ(body,
				"<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
				"</CompleteMultipartUpload>", "no parts");
	free(body);
}

int
main(void)
{
	test_truncated_page();
	test_last_page();
	test_entities();
	test_empty_listing();
	test_delimited_listing();
	test_malformed();
	test_length_bound();
	test_error_body();
	test_timestamps();
	test_http_date();
	test_initiate_multipart();
	test_complete_multipart();
	test_build_complete();
	return unit_finish("test_s3_listing");
}
