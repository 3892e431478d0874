/*
 * CMS AuthEnvelopedData (RFC 5083) for what only one certified key may read: an MCIM package
 * (Alternative 1a), later a card's key blob (3b). AES-256-GCM content encryption; the content key
 * reaches the recipient by ephemeral-static ECDH with the key in its certificate, the X9.63 KDF
 * over SHA-256 and AES-256 key wrap (RFC 5753, dhSinglePass-stdDH-sha256kdf-scheme), so that
 * `openssl cms -decrypt -inform DER` with the recipient's key opens it.
 */
#include "pki_impl.h"

#include <openssl/err.h>
#include <limits.h>

/* RFC 5753: the KDF of the key agreement is chosen on the recipient info. */
static int choose_kdf(CMS_ContentInfo *cms)
{
	CMS_RecipientInfo *ri = sk_CMS_RecipientInfo_value(CMS_get0_RecipientInfos(cms), 0);
	EVP_PKEY_CTX *pctx = ri ? CMS_RecipientInfo_get0_pkey_ctx(ri) : NULL;
	return pctx && EVP_PKEY_CTX_set_ecdh_kdf_md(pctx, EVP_sha256()) > 0 ? 0 : -1;
}

int m2m_cms_encrypt(X509 *recipient, const uint8_t *content, size_t len, uint8_t **der, size_t *derlen)
{
	BIO *in = len <= INT_MAX ? BIO_new_mem_buf(content, (int)len) : NULL;
	CMS_ContentInfo *cms = in ? CMS_AuthEnvelopedData_create(EVP_aes_256_gcm()) : NULL;
	/* the ciphertext inside: AuthEnvelopedData starts out detached, unlike CMS_encrypt's */
	int ok = cms && CMS_add1_recipient_cert(cms, recipient, CMS_KEY_PARAM) && !choose_kdf(cms) &&
		 CMS_set_detached(cms, 0) && CMS_final(cms, in, NULL, CMS_BINARY) == 1;
	return pki_cms_der(ok, cms, in, der, derlen);
}

m2m_reason m2m_cms_decrypt(EVP_PKEY *key, X509 *cert, const uint8_t *der, size_t len, uint8_t **content,
			   size_t *clen)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = len <= LONG_MAX ? d2i_CMS_ContentInfo(NULL, &p, (long)len) : NULL;
	if (!cms || p != der + len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_id_smime_ct_authEnvelopedData) {
		CMS_ContentInfo_free(cms);
		ERR_clear_error();
		return M2M_R_MALFORMED;
	}
	BIO *out = BIO_new(BIO_s_mem());
	/* an explicit certificate: only the recipient info for this key is tried, and a package
	 * for another key fails instead of being tried against every recipient */
	m2m_reason r = out && CMS_decrypt(cms, key, cert, NULL, out, CMS_BINARY) == 1 ? M2M_OK : M2M_R_BAD_SIGNATURE;
	if (r == M2M_OK) {
		const unsigned char *data;
		long n = BIO_get_mem_data(out, &data);
		*content = n > 0 ? OPENSSL_memdup(data, (size_t)n) : NULL;
		*clen = n > 0 ? (size_t)n : 0;
		if (!*content)
			r = M2M_R_MALFORMED;
	}
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}
