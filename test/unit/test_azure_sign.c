/*-------------------------------------------------------------------------
 *
 * test_azure_sign.c
 *		Unit test for azure_sign.c: Shared Key stages and the encodings.
 *
 * The published vectors come from $AZURE_VECTORS, or VECTORS_DEFAULT
 * relative to test/unit; a missing file is a failure, not a skip.  As its
 * SOURCES.md explains, the Shared Key vector's own string to sign was made
 * with the path "container" (no leading '/'), so it is used twice: with
 * that path, to check our string to sign and signature byte for byte, and
 * with the real path "/container" against the signature computed for it.
 * The SAS vectors check the HMAC/base64 step.  Our own cases cover header
 * and query canonicalization, the zero Content-Length rule and the
 * emulator's doubled account in the resource.
 *
 * IDENTIFICATION
 *		test/unit/test_azure_sign.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/azure_sign.h"
#include "unit.h"

#define VECTORS_DEFAULT \
	"../../../shared/testdata/azure-sharedkey/azure_sharedkey_sas_vectors.json"

/* The well-known emulator key, as the vectors also use it. */
#define DEV_KEY \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

/*
 * CHECK_STREQ tests its argument against NULL, which -Waddress rejects for
 * a char array; pass arrays through this.
 */
static const char *
arr(const char *s)
{
	return s;
}

/* Read a whole file into a malloc'd string; NULL if it cannot. */
static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t) n + 1)) == NULL)
	{
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t) n, f) != (size_t) n)
	{
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *
json_str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Find the vector called name in array 'list' of the document. */
static const cJSON *
find_vector(const cJSON *doc, const char *list, const char *name)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, list);
	const cJSON *v;

	cJSON_ArrayForEach(v, arr)
	{
		const char *n = json_str(v, "name");

		if (n != NULL && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

/* Check the string to sign and Authorization of one request. */
static void
check_request(const char *label, const char *account,
			  const unsigned char *key, size_t keylen,
			  const AzureSignRequest *req, const char *want_sts,
			  const char *want_auth)
{
	char	   *sts = AzureStringToSign(account, req);
	char	   *auth = key != NULL ?
		AzureSharedKeyAuthorization(account, key, keylen, req) : NULL;

	CHECK_STREQ(sts, want_sts, label);
	if (want_auth != NULL)
		CHECK_STREQ(auth, want_auth, label);
	free(sts);
	free(auth);
}

static void
test_vectors(const unsigned char *key, size_t keylen)
{
	const char *path = getenv("AZURE_VECTORS");
	char	   *text;
	cJSON	   *doc;
	const cJSON *v;
	const char *account;
	const char *names[2] = {
		"account-sas-blob-service-read-https-ip-range",
		"service-sas-blob-read-https"
	};
	int			i;

	if (path == NULL)
		path = VECTORS_DEFAULT;
	text = read_file(path);
	CHECK(text != NULL, "cannot read vectors file %s", path);
	if (text == NULL)
		return;
	doc = cJSON_Parse(text);
	free(text);
	CHECK(doc != NULL, "vectors file %s is not JSON", path);
	if (doc == NULL)
		return;

	account = json_str(doc, "account_name");
	CHECK(account != NULL && strcmp(account, "devstoreaccount1") == 0,
		  "account_name");
	CHECK(json_str(doc, "account_key_base64") != NULL &&
		  strcmp(json_str(doc, "account_key_base64"), DEV_KEY) == 0,
		  "the vectors use the emulator key");

	/* Shared Key: the request as Microsoft's test builds it */
	v = find_vector(doc, "signed", "sharedkey-get-container-restype");
	CHECK(v != NULL, "sharedkey vector present");
	if (v != NULL && account != NULL)
	{
		AzureHeader h[3] = {
			{"Content-Type", ""},
			{"x-ms-version", "2018-03-28"},
			{"x-ms-date", "Fri, 23 Sep 2011 01:37:34 GMT"},
		};
		AzureSignRequest req = {"GET", "container", "restype=container",
		h, 3, 0};
		const char *want_sts = json_str(v, "string_to_sign");
		const char *want_auth = json_str(v, "expected_authorization");
		char	   *sig;

		check_request("sharedkey vector, path as the test gives it",
					  account, key, keylen, &req, want_sts, want_auth);

		/* stage 4 alone on the vector's own string */
		sig = want_sts != NULL ? AzureSignature(key, keylen, want_sts) : NULL;
		CHECK(sig != NULL && want_auth != NULL &&
			  strstr(want_auth, sig) != NULL &&
			  strlen(strchr(want_auth, ':') + 1) == strlen(sig),
			  "HMAC of the vector's string to sign: %s", sig ? sig : "(null)");
		free(sig);

		/* the real path "/container", signature from SOURCES.md's caveat */
		req.path = "/container";
		check_request("sharedkey vector, real path", account, key, keylen, &req,
					  "GET\n\n\n\n\n\n\n\n\n\n\n\n"
					  "x-ms-date:Fri, 23 Sep 2011 01:37:34 GMT\n"
					  "x-ms-version:2018-03-28\n"
					  "/devstoreaccount1/container\nrestype:container",
					  "SharedKey devstoreaccount1:"
					  "yIPvB4nfgEfotyCaVJUamTZg79qS7PD67J3VL5Ro/7k=");
	}

	/* SAS vectors: the HMAC/base64 step over the given string to sign */
	for (i = 0; i < 2; i++)
	{
		v = find_vector(doc, "signed", names[i]);
		CHECK(v != NULL, "vector %s present", names[i]);
		if (v != NULL)
		{
			const char *sts = json_str(v, "string_to_sign");
			const char *want = json_str(v, "expected_sig");
			char	   *sig = sts != NULL ? AzureSignature(key, keylen, sts) : NULL;

			CHECK(want != NULL && sig != NULL && strcmp(sig, want) == 0,
				  "%s: got %s, want %s", names[i], sig ? sig : "(null)",
				  want ? want : "(null)");
			free(sig);
		}
	}

	/* the docs' canonicalization example: no key, so no signature */
	v = find_vector(doc, "canonicalization_only", "docs-get-container-metadata");
	CHECK(v != NULL, "docs vector present");
	if (v != NULL)
	{
		AzureHeader h[2] = {
			{"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
			{"x-ms-version", "2015-02-21"},
		};
		AzureSignRequest req = {"GET", "/mycontainer",
			"restype=container&comp=metadata&timeout=20", h, 2, 0};

		check_request("docs canonicalization example", "myaccount", NULL, 0,
					  &req, json_str(v, "string_to_sign"), NULL);
	}
	cJSON_Delete(doc);
}

static void
test_canonicalized_headers(void)
{
	AzureHeader h[7] = {
		{"X-MS-Version", " 2023-11-03 "},
		{"Content-Type", "text/plain"},
		{"x-ms-meta-B", "two  spaces inside"},
		{"x-ms-date", "\tSun, 06 Nov 1994 08:49:37 GMT"},
		{"x-ms-meta-a", "first"},
		{"x-ms-meta-a", "second"},
		{"Authorization", "ignored"},
	};
	char	   *got = AzureCanonicalizedHeaders(h, 7);

	CHECK_STREQ(got,
				"x-ms-date:Sun, 06 Nov 1994 08:49:37 GMT\n"
				"x-ms-meta-a:first,second\n"
				"x-ms-meta-b:two  spaces inside\n"
				"x-ms-version:2023-11-03\n",
				"headers lower-cased, sorted, trimmed, repeats joined");
	free(got);

	got = AzureCanonicalizedHeaders(NULL, 0);
	CHECK_STREQ(got, "", "no headers");
	free(got);
}

static void
test_canonicalized_resource(void)
{
	char	   *got;

	got = AzureCanonicalizedResource("acct", "/c/dir/a%20b.jsonl", NULL);
	CHECK_STREQ(got, "/acct/c/dir/a%20b.jsonl", "path kept as sent");
	free(got);

	got = AzureCanonicalizedResource("acct", "", "");
	CHECK_STREQ(got, "/acct/", "empty path is /");
	free(got);

	got = AzureCanonicalizedResource("acct", "/c",
									 "restype=container&COMP=list&prefix=a%2Fb+c"
									 "&Include=snapshots&include=metadata&flag"
									 "&marker=");
	CHECK_STREQ(got,
				"/acct/c\n"
				"comp:list\n"
				"flag:\n"
				"include:metadata,snapshots\n"
				"marker:\n"
				"prefix:a/b c\n"
				"restype:container",
				"query names lower-cased and sorted, values decoded, "
				"repeats sorted and joined");
	free(got);

	/* the emulator's endpoint path holds the account: it shows twice */
	got = AzureCanonicalizedResource("devstoreaccount1",
									 "/devstoreaccount1/telem/x.csv",
									 "comp=block&blockid=QUJD%2B%2F%3D%3D");
	CHECK_STREQ(got,
				"/devstoreaccount1/devstoreaccount1/telem/x.csv\n"
				"blockid:QUJD+/==\ncomp:block",
				"emulator path, encoded block id");
	free(got);
}

static void
test_string_to_sign(const unsigned char *key, size_t keylen)
{
	/* a Put Block with every position we use filled in */
	AzureHeader h[5] = {
		{"Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww=="},
		{"x-ms-meta-telem_source", "v1  two"},
		{"x-ms-date", "Sun, 06 Nov 1994 08:49:37 GMT"},
		{"x-ms-version", "2023-11-03"},
		{"Host", "not signed"},
	};
	AzureSignRequest put = {"PUT", "/devstoreaccount1/telem/dir/a%20b.jsonl",
		"comp=block&blockid=AAAA%2B%2F%3D%3D", h, 5, 11};
	AzureHeader g[4] = {
		{"x-ms-date", "Sun, 06 Nov 1994 08:49:37 GMT"},
		{"x-ms-version", "2023-11-03"},
		{"range", "bytes=100-"},
		{"If-Match", "\"0x8D0\""},
	};
	AzureSignRequest get = {"GET", "/c/k", NULL, g, 4, 0};

	/* expected signature computed independently with Python's hmac */
	check_request("put block", "devstoreaccount1", key, keylen, &put,
				  "PUT\n\n\n11\nXrY7u+Ae7tCTyyK7j1rNww==\n\n\n\n\n\n\n\n"
				  "x-ms-date:Sun, 06 Nov 1994 08:49:37 GMT\n"
				  "x-ms-meta-telem_source:v1  two\n"
				  "x-ms-version:2023-11-03\n"
				  "/devstoreaccount1/devstoreaccount1/telem/dir/a%20b.jsonl\n"
				  "blockid:AAAA+/==\ncomp:block",
				  "SharedKey devstoreaccount1:"
				  "SHlCNdvlxYRDTSwAcSrzil3m3kEXpn/TNI3e/2TANfs=");

	/* Content-Length 0 is "", Range and If-Match land in their slots */
	check_request("ranged get", "acct", NULL, 0, &get,
				  "GET\n\n\n\n\n\n\n\n\"0x8D0\"\n\n\nbytes=100-\n"
				  "x-ms-date:Sun, 06 Nov 1994 08:49:37 GMT\n"
				  "x-ms-version:2023-11-03\n"
				  "/acct/c/k", NULL);

	get.method = "DELETE";
	get.nheaders = 2;
	check_request("delete", "acct", NULL, 0, &get,
				  "DELETE\n\n\n\n\n\n\n\n\n\n\n\n"
				  "x-ms-date:Sun, 06 Nov 1994 08:49:37 GMT\n"
				  "x-ms-version:2023-11-03\n"
				  "/acct/c/k", NULL);
}

static void
test_base64(void)
{
	static const struct
	{
		const char *raw;
		const char *b64;
	}			cases[] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	static const char *const bad[] = {
		"", "Zg=", "Zg", "Z===", "Zm9v\n", "Zm 9", "Zm-_", "=Zm9", "Zg==Zg==",
		"Zm=v",
	};
	size_t		i;
	size_t		len;
	unsigned char *dec;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *enc = AzureBase64Encode(cases[i].raw, strlen(cases[i].raw));

		CHECK_STREQ(enc, cases[i].b64, "base64 encode");
		free(enc);
		if (cases[i].raw[0] == '\0')
			continue;
		dec = AzureBase64Decode(cases[i].b64, &len);
		CHECK(dec != NULL && len == strlen(cases[i].raw) &&
			  memcmp(dec, cases[i].raw, len) == 0,
			  "base64 decode of %s", cases[i].b64);
		free(dec);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		dec = AzureBase64Decode(bad[i], &len);
		CHECK(dec == NULL, "base64 decode refuses \"%s\"", bad[i]);
		free(dec);
	}
	dec = AzureBase64Decode(DEV_KEY, &len);
	CHECK(dec != NULL && len == 64, "the emulator key is 64 bytes");
	free(dec);
}

static void
test_encodings(void)
{
	char		md5[25];
	char		date[30];
	char	   *s;

	AzureContentMd5("", 0, md5);
	CHECK_STREQ(arr(md5), "1B2M2Y8AsgTpgAmY7PhCfg==", "md5 of nothing");
	AzureContentMd5("hello world", 11, md5);
	CHECK_STREQ(arr(md5), "XrY7u+Ae7tCTyyK7j1rNww==", "md5");

	s = AzureUrlEncode("dir/a b+c%~_.-é", true);
	CHECK_STREQ(s, "dir/a%20b%2Bc%25~_.-%C3%A9", "path encoding keeps /");
	free(s);
	s = AzureUrlEncode("a/b=", false);
	CHECK_STREQ(s, "a%2Fb%3D", "query encoding");
	free(s);
	s = AzureUrlDecode("a%2fb+c%zz%4", 12, true);
	CHECK_STREQ(s, "a/b c%zz%4", "decode; bad escapes kept");
	free(s);
	s = AzureUrlDecode("a+b", 3, false);
	CHECK_STREQ(s, "a+b", "decode without plus_space");
	free(s);

	AzureFormatDate(784111777, date);
	CHECK_STREQ(arr(date), "Sun, 06 Nov 1994 08:49:37 GMT", "rfc 1123");
	AzureFormatDate(0, date);
	CHECK_STREQ(arr(date), "Thu, 01 Jan 1970 00:00:00 GMT", "epoch");

	s = AzureQueryWithSas("comp=list", "?sv=2023&sig=a%2Bb");
	CHECK_STREQ(s, "comp=list&sv=2023&sig=a%2Bb", "query and sas");
	free(s);
	s = AzureQueryWithSas(NULL, "sv=1");
	CHECK_STREQ(s, "sv=1", "sas alone");
	free(s);
	s = AzureQueryWithSas("a=1", NULL);
	CHECK_STREQ(s, "a=1", "no sas");
	free(s);
	s = AzureQueryWithSas("", "");
	CHECK_STREQ(s, "", "neither");
	free(s);

	CHECK(AzureSasIsValid("?sv=2023-11-03&sig=abc%2B"), "valid sas");
	CHECK(AzureSasIsValid("sv=1"), "valid sas without ?");
	CHECK(!AzureSasIsValid("?"), "empty sas");
	CHECK(!AzureSasIsValid(NULL), "null sas");
	CHECK(!AzureSasIsValid("sv=1 &sig=x"), "sas with a space");
	CHECK(!AzureSasIsValid("sv=1\r\nX-Evil: 1"), "sas with a line break");
	CHECK(!AzureSasIsValid("sv=1#frag"), "sas with a fragment");
}

int
main(void)
{
	size_t		keylen = 0;
	unsigned char *key = AzureBase64Decode(DEV_KEY, &keylen);

	CHECK(key != NULL, "decode the emulator key");
	if (key != NULL)
	{
		test_vectors(key, keylen);
		test_string_to_sign(key, keylen);
	}
	test_canonicalized_headers();
	test_canonicalized_resource();
	test_base64();
	test_encodings();
	free(key);
	return unit_finish("test_azure_sign");
}
