/*-------------------------------------------------------------------------
 *
 * store_encode.c
 *		Encodings the network stores share: percent-encoding, base64, hex,
 *		and the base64 MD5 of Content-MD5.
 *
 * Plain C with OpenSSL; no postgres.h (see store.h).
 *
 * IDENTIFICATION
 *		src/store/store_encode.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "store_util.h"

static const char hexdigits_lower[] = "0123456789abcdef";

/*
 * src percent-encoded (see StoreBufAppendEncoded) as a new malloc'd string;
 * a NULL src is "".  NULL only when out of memory.
 */
char *
StoreUrlEncode(const char *src, bool keep_slash)
{
	StoreBuf	b = {NULL, 0, 0, false};

	if (src != NULL)
		StoreBufAppendEncoded(&b, src, strlen(src), keep_slash);
	return StoreBufFinish(&b);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode src[0..len) into a new malloc'd string (NULL if out of
 * memory).  A '%' not followed by two hex digits is kept literally; '+'
 * becomes a space only when plus_space (form encoding).
 */
char *
StoreUrlDecode(const char *src, size_t len, bool plus_space)
{
	char	   *out = malloc(len + 1);
	size_t		i;
	size_t		o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
	{
		if (src[i] == '%' && i + 2 < len &&
			hexval(src[i + 1]) >= 0 && hexval(src[i + 2]) >= 0)
		{
			out[o++] = (char) (hexval(src[i + 1]) * 16 + hexval(src[i + 2]));
			i += 2;
		}
		else if (plus_space && src[i] == '+')
			out[o++] = ' ';
		else
			out[o++] = src[i];
	}
	out[o] = '\0';
	return out;
}

/* Base64 (with padding) of data[0..len), malloc'd; NULL when out of memory. */
char *
StoreBase64Encode(const void *data, size_t len)
{
	size_t		outlen = 4 * ((len + 2) / 3);
	char	   *out;

	if (len > (size_t) 0x3FFFFFFF)
		return NULL;			/* EVP_EncodeBlock takes an int */
	out = malloc(outlen + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) data,
					(int) len);
	out[outlen] = '\0';
	return out;
}

/* The 6-bit value of a base64 character, -1 if it is none. */
static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode padded base64 src into a malloc'd buffer, its length in *len.
 * NULL when src is not base64 or memory ran out.  The result may be a key:
 * the caller wipes it.
 */
unsigned char *
StoreBase64Decode(const char *src, size_t *len)
{
	size_t		n = strlen(src);
	size_t		pad = 0;
	size_t		i;
	size_t		o = 0;
	unsigned char *out;

	*len = 0;
	if (n == 0 || n % 4 != 0)
		return NULL;
	if (src[n - 1] == '=')
		pad++;
	if (src[n - 2] == '=')
		pad++;
	out = malloc(n / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i += 4)
	{
		int			v[4];
		int			k;
		bool		last = (i + 4 == n);

		for (k = 0; k < 4; k++)
		{
			if (last && k >= 4 - (int) pad)
				v[k] = 0;
			else if ((v[k] = b64val(src[i + k])) < 0)
				goto bad;
		}
		out[o++] = (unsigned char) ((v[0] << 2) | (v[1] >> 4));
		if (!last || pad < 2)
			out[o++] = (unsigned char) (((v[1] & 0xF) << 4) | (v[2] >> 2));
		if (!last || pad < 1)
			out[o++] = (unsigned char) (((v[2] & 0x3) << 6) | v[3]);
	}
	*len = o;
	return out;

bad:
	OPENSSL_cleanse(out, n / 4 * 3 + 1);
	free(out);
	return NULL;
}

/*
 * Base64 of the MD5 of data[0..len), for Content-MD5 (a transfer
 * checksum, not a security measure).  False, out "", if MD5 is unavailable.
 */
bool
StoreContentMd5(const void *data, size_t len, char out[25])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
		return false;
	EVP_EncodeBlock((unsigned char *) out, md, 16);
	out[24] = '\0';
	return true;
}

/* Lower-case hex of bin[0..n) into hex (2n + 1 bytes, NUL-terminated). */
void
StoreHexEncode(const unsigned char *bin, size_t n, char *hex)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		hex[2 * i] = hexdigits_lower[bin[i] >> 4];
		hex[2 * i + 1] = hexdigits_lower[bin[i] & 0x0F];
	}
	hex[2 * n] = '\0';
}
