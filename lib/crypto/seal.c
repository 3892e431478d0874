/* Secrets at rest: AES-256-GCM with the record's identity as associated data (crypto.h). */
#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <string.h>

#define NONCE 12
#define TAG 16

/* One GCM pass in either direction; the tag is written (seal) or checked (unseal). */
int m2m_gcm(int enc, const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aadlen,
	       const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, ok = ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) == 1 &&
		    (aadlen == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) == 1) &&
		    (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1) &&
		    (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, tag) == 1) &&
		    EVP_CipherFinal_ex(ctx, out + len, &n) == 1 &&
		    (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, tag) == 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

int m2m_seal(const uint8_t key[32], const void *aad, size_t aadlen, const uint8_t *in, size_t len,
	     uint8_t *out)
{
	m2m_random(out, NONCE);
	return m2m_gcm(1, key, out, aad, aadlen, in, len, out + NONCE, out + NONCE + len);
}

int m2m_unseal(const uint8_t key[32], const void *aad, size_t aadlen, const uint8_t *sealed,
	       size_t sealed_len, uint8_t *out)
{
	if (sealed_len < M2M_SEAL_OVERHEAD)
		return -1;
	size_t len = sealed_len - M2M_SEAL_OVERHEAD;
	uint8_t tag[TAG];
	memcpy(tag, sealed + NONCE + len, TAG);
	if (m2m_gcm(0, key, sealed, aad, aadlen, sealed + NONCE, len, out, tag) == 0)
		return 0;
	m2m_wipe(out, len);
	return -1;
}
