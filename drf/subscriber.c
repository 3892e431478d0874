/*
 * The subscriber's say in a change of subscription (docs/alt1a-change.md, "Who decides what"):
 * at registration the subscriber's portal hands the DRF a P-256 public key; a change needs a
 * ChangeAuthorisation signed by it (ECDSA with SHA-256 over the DER of the content), which the
 * new SHO carries to the DRF. The TR asks for the subscriber's authorisation without saying how;
 * a key registered with the device is the simplest thing a third party can check.
 */
#include "drf.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

/* The key, when der is exactly the DER of a SubjectPublicKeyInfo of a P-256 key; else NULL. */
static EVP_PKEY *p256_key(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *key = len > 0 && len <= DRF_KEY_MAX ? d2i_PUBKEY(NULL, &p, (long)len) : NULL;
	unsigned char *again = NULL;
	char group[32] = "";
	/* DER: the whole input, and what it re-encodes to is the same bytes */
	int ok = key && p == der + len && EVP_PKEY_is_a(key, "EC") &&
		 EVP_PKEY_get_group_name(key, group, sizeof group, NULL) && !strcmp(group, "prime256v1") &&
		 i2d_PUBKEY(key, &again) == (int)len && !memcmp(again, der, len);
	OPENSSL_free(again);
	ERR_clear_error();
	if (!ok) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

int drf_subscriber_key_check(const uint8_t *der, size_t len)
{
	EVP_PKEY *key = p256_key(der, len);
	EVP_PKEY_free(key);
	return key ? 0 : -1;
}

int drf_authorisation_verify(const uint8_t *key_der, size_t key_len, const M2M_SUBSCRIBER_AUTHORISATION *a)
{
	EVP_PKEY *key = p256_key(key_der, key_len);
	unsigned char *content = NULL;
	int n = key ? i2d_M2M_CHANGE_AUTHORISATION(a->content, &content) : -1;
	EVP_MD_CTX *ctx = n > 0 ? EVP_MD_CTX_new() : NULL;
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, ASN1_STRING_get0_data(a->signature), (size_t)ASN1_STRING_length(a->signature),
				  content, (size_t)n) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(content);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return ok ? 0 : -1;
}
