/*
 * A bare ECDSA signature over the DER of a value, for what is signed without a certificate: a
 * subscriber's ChangeAuthorisation, checked under the key the subscriber registered.
 */
#include "pki_impl.h"

#include <openssl/err.h>

int m2m_pki_sign_der_of(EVP_PKEY *key, const ASN1_ITEM *item, const void *value, ASN1_OCTET_STRING *signature)
{
	unsigned char *der = NULL, sig[80];  /* an Ecdsa-Sig-Value of P-256: at most 72 octets */
	size_t siglen = sizeof sig;
	int n = ASN1_item_i2d((const ASN1_VALUE *)value, &der, item);
	EVP_MD_CTX *md = n > 0 ? EVP_MD_CTX_new() : NULL;
	int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestSign(md, sig, &siglen, der, (size_t)n) == 1 &&
		 ASN1_OCTET_STRING_set(signature, sig, (int)siglen);
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok ? 0 : -1;
}

int m2m_pki_verify_der_of(EVP_PKEY *key, const ASN1_ITEM *item, const void *value, const ASN1_OCTET_STRING *signature)
{
	unsigned char *der = NULL;
	int n = key ? ASN1_item_i2d((const ASN1_VALUE *)value, &der, item) : -1;
	EVP_MD_CTX *md = n > 0 ? EVP_MD_CTX_new() : NULL;
	int ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestVerify(md, ASN1_STRING_get0_data(signature), (size_t)ASN1_STRING_length(signature), der,
				  (size_t)n) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ERR_clear_error();
	return ok ? 0 : -1;
}
