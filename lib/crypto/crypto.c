/* Randomness, hex, constant-time comparison and wiping over OpenSSL. */
#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>

void m2m_random(void *buf, size_t len)
{
	/* Every caller makes keys, nonces or transaction ids from this: continuing with weak bytes
	 * would be worse than stopping. */
	if (len && RAND_bytes(buf, (int)len) != 1) {
		fputs("fatal: OpenSSL DRBG failed\n", stderr);
		abort();
	}
}

void m2m_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long m2m_unhex_var(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	if (!hex)
		return -1;
	for (; hex[0]; hex += 2, n++) {
		int hi = nibble(hex[0]), lo = hex[1] ? nibble(hex[1]) : -1;
		if (hi < 0 || lo < 0 || n == max)
			return -1;
		out[n] = (uint8_t)(hi << 4 | lo);
	}
	return (long)n;
}

int m2m_unhex(const char *hex, uint8_t *out, size_t len)
{
	return m2m_unhex_var(hex, out, len) == (long)len ? 0 : -1;
}

int m2m_ct_compare(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) != 0;
}

void m2m_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}
