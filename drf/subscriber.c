/*
 * The subscriber's say in a change of subscription (docs/alt1a-change.md, "Who decides what"):
 * at registration the subscriber's portal hands the DRF a P-256 public key; a change needs a
 * ChangeAuthorisation signed by it (ECDSA with SHA-256 over the DER of the content), which the
 * new SHO carries to the DRF. The TR asks for the subscriber's authorisation without saying how;
 * a key registered with the device is the simplest thing a third party can check.
 */
#include "drf.h"

/* The key, when der is exactly the DER of a SubjectPublicKeyInfo of a P-256 key that fits the
 * registration's column; else NULL. */
static EVP_PKEY *p256_key(const uint8_t *der, size_t len)
{
	return len <= DRF_KEY_MAX ? m2m_pki_pubkey_from_der(der, len) : NULL;
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
	int rc = m2m_pki_verify_der_of(key, ASN1_ITEM_rptr(M2M_CHANGE_AUTHORISATION), a->content, a->signature);
	EVP_PKEY_free(key);
	return rc;
}
