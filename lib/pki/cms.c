/*
 * CMS SignedData (RFC 5652) for the objects a third party checks offline: binary, content
 * embedded, one signer whose certificate travels with it. A verifier needs only the root.
 */
#include "pki_impl.h"

#include <openssl/err.h>
#include <limits.h>
#include <string.h>

int m2m_cms_sign(EVP_PKEY *key, X509 *signer, STACK_OF(X509) *extra, const uint8_t *content, size_t len,
		 uint8_t **der, size_t *derlen)
{
	BIO *in = len <= INT_MAX ? BIO_new_mem_buf(content, (int)len) : NULL;
	/* binary: no line-ending rewriting; no S/MIME capabilities, which mean nothing here */
	CMS_ContentInfo *cms = in ? CMS_sign(signer, key, extra, in, CMS_BINARY | CMS_NOSMIMECAP) : NULL;
	return pki_cms_der(cms != NULL, cms, in, der, derlen);
}

int pki_cms_der(int ok, CMS_ContentInfo *cms, BIO *in, uint8_t **der, size_t *derlen)
{
	unsigned char *out = NULL;
	int n = ok && cms ? i2d_CMS_ContentInfo(cms, &out) : -1;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	ERR_clear_error();
	if (n <= 0)
		return -1;
	*der = out;
	*derlen = (size_t)n;
	return 0;
}

/* SignedData over embedded id-data, exactly one signer, its certificate among the CMS's. */
static X509 *shape_signer(CMS_ContentInfo *cms)
{
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed ||
	    OBJ_obj2nid(CMS_get0_eContentType(cms)) != NID_pkcs7_data || CMS_is_detached(cms) ||
	    sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) != 1 || CMS_set1_signers_certs(cms, NULL, 0) != 1)
		return NULL;
	X509 *signer = NULL;
	CMS_SignerInfo_get0_algs(sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0), NULL, &signer, NULL, NULL);
	return signer;
}

/* The signature over the content and the signed attributes; the content on success. */
static m2m_reason check_signature(CMS_ContentInfo *cms, uint8_t **content, size_t *clen)
{
	BIO *out = BIO_new(BIO_s_mem());
	if (!out)
		return M2M_R_INTERNAL;
	m2m_reason r = M2M_R_BAD_SIGNATURE;
	if (CMS_verify(cms, NULL, NULL, NULL, out, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1) {
		const unsigned char *data;
		long n = BIO_get_mem_data(out, &data);
		r = M2M_R_INTERNAL;
		if (!content)
			r = M2M_OK;
		else if ((*content = OPENSSL_memdup(n > 0 ? data : (const unsigned char *)"", n > 0 ? (size_t)n : 1))) {
			*clen = (size_t)n;
			r = M2M_OK;
		}
	}
	BIO_free(out);
	return r;
}

static m2m_reason verify_parsed(m2m_trust *t, CMS_ContentInfo *cms, uint8_t **content, size_t *clen, X509 **signer)
{
	X509 *cert = shape_signer(cms);
	if (!cert)
		return M2M_R_MALFORMED;
	m2m_reason r = check_signature(cms, content, clen);
	if (r != M2M_OK)
		return r;
	STACK_OF(X509) *certs = CMS_get1_certs(cms);
	r = pki_verify_with(t, cert, certs, -1);
	sk_X509_pop_free(certs, X509_free);
	if (r != M2M_OK && content) {
		OPENSSL_free(*content);
		*content = NULL;
	}
	if (r == M2M_OK && signer && X509_up_ref(cert))
		*signer = cert;
	return r;
}

m2m_reason m2m_cms_verify(m2m_trust *t, const uint8_t *der, size_t len, uint8_t **content, size_t *clen,
			  X509 **signer)
{
	const unsigned char *p = der;
	if (content)  /* nothing is given unless everything verified */
		*content = NULL;
	if (signer)
		*signer = NULL;
	CMS_ContentInfo *cms = len <= LONG_MAX ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	m2m_reason r = cms && pki_consumed(p, der, len) ? verify_parsed(t, cms, content, clen, signer) : M2M_R_MALFORMED;
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}

int m2m_cms_sign_item(EVP_PKEY *key, X509 *signer, STACK_OF(X509) *extra, const ASN1_ITEM *item,
		      const void *value, M2M_SIGNED_OBJECT *so)
{
	unsigned char *content = NULL;
	int n = ASN1_item_i2d((const ASN1_VALUE *)value, &content, item);
	uint8_t *der = NULL;
	size_t len = 0;
	int ok = n > 0 && !m2m_cms_sign(key, signer, extra, content, (size_t)n, &der, &len) && len <= INT_MAX &&
		 ASN1_OCTET_STRING_set(so->cms, der, (int)len);
	OPENSSL_free(content);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

/* Strict: the whole content, and the canonical DER of item (what it re-encodes to). */
static void *decode_strict(const uint8_t *der, size_t len, const ASN1_ITEM *item)
{
	const unsigned char *p = der;
	ASN1_VALUE *v = len <= LONG_MAX ? ASN1_item_d2i(NULL, &p, (long)len, item) : NULL;
	unsigned char *again = NULL;
	int n = v && pki_consumed(p, der, len) ? ASN1_item_i2d(v, &again, item) : -1;
	int ok = n >= 0 && (size_t)n == len && !memcmp(again, der, len);
	OPENSSL_free(again);
	if (!ok) {
		ASN1_item_free(v, item);
		v = NULL;
	}
	ERR_clear_error();
	return v;
}

m2m_reason m2m_cms_verify_item(m2m_trust *t, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, void **value,
			       X509 **signer)
{
	uint8_t *content = NULL;
	size_t clen = 0;
	X509 *cert = NULL;
	*value = NULL;
	if (signer)
		*signer = NULL;
	m2m_reason r = m2m_cms_verify(t, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms), &content,
				      &clen, &cert);
	void *v = r == M2M_OK ? decode_strict(content, clen, item) : NULL;
	if (r == M2M_OK && !v)
		r = M2M_R_BAD_BODY;
	OPENSSL_free(content);
	if (r == M2M_OK) {
		*value = v;
		if (signer)
			*signer = cert;
		else
			X509_free(cert);
	} else {
		X509_free(cert);
	}
	return r;
}
