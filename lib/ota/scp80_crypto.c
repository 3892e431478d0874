/* Ciphers, checksums and the CRC of SCP80 (scp80_crypto.h). Every cipher is OpenSSL's. */
#include "ota/scp80_crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <string.h>

size_t m2m_ota_block_size(uint8_t alg)
{
	switch (alg) {
	case 0x5:
	case 0x9:
		return 8;
	case 0x2:
		return 16;
	default:
		return 0;
	}
}

static const EVP_CIPHER *cipher_of(const m2m_ota_key *k, int ecb)
{
	if (k->alg == 0x5 && k->len == 16)
		return ecb ? EVP_des_ede_ecb() : EVP_des_ede_cbc();
	if (k->alg == 0x9 && k->len == 24)
		return ecb ? EVP_des_ede3_ecb() : EVP_des_ede3_cbc();
	if (k->alg == 0x2 && k->len == 16)
		return ecb ? EVP_aes_128_ecb() : EVP_aes_128_cbc();
	if (k->alg == 0x2 && k->len == 24)
		return ecb ? EVP_aes_192_ecb() : EVP_aes_192_cbc();
	if (k->alg == 0x2 && k->len == 32)
		return ecb ? EVP_aes_256_ecb() : EVP_aes_256_cbc();
	return NULL;
}

int m2m_ota_cipher(const m2m_ota_key *k, int ecb, int enc, const uint8_t *in, size_t len, uint8_t *out)
{
	static const uint8_t zero_iv[16];
	const EVP_CIPHER *cipher = cipher_of(k, ecb);
	size_t block = m2m_ota_block_size(k->alg);
	if (!cipher || len == 0 || len % block != 0 || len > INT32_MAX)
		return -1;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	/* The packets carry their own padding (PCNTR): OpenSSL must add and strip none. */
	int ok = ctx && EVP_CipherInit_ex(ctx, cipher, NULL, k->key, ecb ? NULL : zero_iv, enc) == 1 &&
		 EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
		 EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
		 EVP_CipherFinal_ex(ctx, out + n, &fin) == 1 && (size_t)(n + fin) == len;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * 3DES CBC-MAC: the last block of 3DES-CBC over in completed with zeros to a whole block. Fed one
 * block at a time (no padding, so each update yields exactly that block) to need no copy of in.
 */
static int des_cbc_mac(const m2m_ota_key *kid, const uint8_t *in, size_t len, uint8_t out[8])
{
	static const uint8_t zero_iv[8];
	const EVP_CIPHER *cipher = cipher_of(kid, 0);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ok = cipher && ctx && EVP_EncryptInit_ex(ctx, cipher, NULL, kid->key, zero_iv) == 1 &&
		    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
	for (size_t off = 0; ok && (off < len || off == 0); off += 8) {
		uint8_t block[8] = {0};
		memcpy(block, in + off, len - off < 8 ? len - off : 8);
		ok = EVP_EncryptUpdate(ctx, out, &n, block, 8) == 1 && n == 8;
	}
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

static const char *cmac_cipher_name(size_t len)
{
	return len == 16 ? "AES-128-CBC" : len == 24 ? "AES-192-CBC" : len == 32 ? "AES-256-CBC" : NULL;
}

static int aes_cmac(const m2m_ota_key *kid, const uint8_t *in, size_t len, uint8_t out[8])
{
	const char *name = cmac_cipher_name(kid->len);
	if (!name)
		return -1;
	uint8_t full[16];
	size_t got = 0;
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)name, 0),
			       OSSL_PARAM_construct_end()};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	int ok = ctx && EVP_MAC_init(ctx, kid->key, kid->len, params) == 1 &&
		 EVP_MAC_update(ctx, in, len) == 1 && EVP_MAC_final(ctx, full, &got, sizeof full) == 1 &&
		 got == sizeof full;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	/* TS 102 225 §5.1.3.1: the CC is the leftmost 8 bytes of the 16-byte CMAC. */
	if (ok)
		memcpy(out, full, M2M_OTA_CC_LEN);
	return ok ? 0 : -1;
}

int m2m_ota_cc(const m2m_ota_key *kid, const uint8_t *in, size_t len, uint8_t out[M2M_OTA_CC_LEN])
{
	if (kid->alg == 0x5 || kid->alg == 0x9)
		return des_cbc_mac(kid, in, len, out);
	if (kid->alg == 0x2)
		return aes_cmac(kid, in, len, out);
	return -1;
}

/*
 * TS 102 225 §5.1.3.2 names the CRC-32 of ISO/IEC 13239 (polynomial 04C11DB7, initial value
 * FFFFFFFF, reflected, result complemented: the CRC of zlib and ITU-T V.42), and so computes
 * osmocom pySim's ota.py (zlib.crc32, sent most significant byte first).
 */
void m2m_ota_crc32(const uint8_t *in, size_t len, uint8_t out[M2M_OTA_RC_LEN])
{
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		crc ^= in[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	crc = ~crc;
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(crc >> (24 - 8 * i));
}
