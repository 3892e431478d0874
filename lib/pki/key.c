/* ECDSA P-256 keys: generation, PKCS#8 DER (sealed by callers), and PKCS#10 requests. */
#include "pki_impl.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <limits.h>
#include <string.h>

EVP_PKEY *m2m_pki_keygen(void)
{
	return EVP_EC_gen("P-256");
}

/* Every key of the hierarchy is P-256: anything else is refused where keys come in. */
static int is_p256(const EVP_PKEY *key)
{
	char group[32];
	return key && EVP_PKEY_is_a(key, "EC") &&
	       EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) &&
	       !strcmp(group, "prime256v1");
}

int m2m_pki_key_der(EVP_PKEY *key, uint8_t **der, size_t *len)
{
	PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);
	unsigned char *out = NULL;
	int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &out) : -1;
	PKCS8_PRIV_KEY_INFO_free(p8);  /* its template clears the key octets before freeing */
	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}

EVP_PKEY *m2m_pki_key_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8 = len <= LONG_MAX ? d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len) : NULL;
	EVP_PKEY *key = p8 && pki_consumed(p, der, len) ? EVP_PKCS82PKEY(p8) : NULL;
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (key && !is_p256(key)) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

EVP_PKEY *m2m_pki_pubkey_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *key = len > 0 && len <= LONG_MAX ? d2i_PUBKEY(NULL, &p, (long)len) : NULL;
	unsigned char *again = NULL;
	int ok = key && pki_consumed(p, der, len) && is_p256(key) && i2d_PUBKEY(key, &again) == (int)len &&
		 !memcmp(again, der, len);
	OPENSSL_free(again);
	ERR_clear_error();
	if (!ok) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	return key;
}

int m2m_pki_csr(EVP_PKEY *key, const char *cn, uint8_t **der, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	unsigned char *out = NULL;
	int n = -1;
	if (req && X509_REQ_set_version(req, X509_REQ_VERSION_1) &&
	    X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0) &&
	    X509_REQ_set_pubkey(req, key) && X509_REQ_sign(req, key, EVP_sha256()) > 0)
		n = i2d_X509_REQ(req, &out);
	X509_REQ_free(req);
	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}

/* The request's subject: exactly one attribute, a CN of 1..63 characters without NUL. */
static int subject_cn(const X509_NAME *name, char cn[64])
{
	if (X509_NAME_entry_count(name) != 1)
		return -1;
	const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, 0);
	if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_commonName)
		return -1;
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	int ok = n >= 1 && n <= 63 && memchr(utf8, 0, (size_t)n) == NULL;
	if (ok) {
		memcpy(cn, utf8, (size_t)n);
		cn[n] = 0;
	}
	OPENSSL_free(utf8);
	return ok ? 0 : -1;
}

m2m_reason m2m_pki_csr_check(const uint8_t *der, size_t len, char cn[64], EVP_PKEY **pub)
{
	const unsigned char *p = der;
	X509_REQ *req = len <= LONG_MAX ? d2i_X509_REQ(NULL, &p, (long)len) : NULL;
	m2m_reason r = M2M_R_MALFORMED;
	EVP_PKEY *key = req ? X509_REQ_get_pubkey(req) : NULL;
	if (req && pki_consumed(p, der, len) && is_p256(key) && !subject_cn(X509_REQ_get_subject_name(req), cn))
		r = X509_REQ_verify(req, key) == 1 ? M2M_OK : M2M_R_BAD_SIGNATURE;
	X509_REQ_free(req);
	ERR_clear_error();
	if (r == M2M_OK && pub)
		*pub = key;
	else
		EVP_PKEY_free(key);
	return r;
}
