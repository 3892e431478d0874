/*
 * What travels through the M2ME (docs/alt1a.md): the TRE's side of a RelayStep is the DER of a
 * message body, and what comes back (RelayResponse.body) is the DER of the destination's answer.
 * The M2ME and the visited operator are pipes, so nothing they carry is trusted for what it
 * says: each body is decoded as strictly as the envelope codec decodes a message (the whole
 * input, canonical DER), and what matters in it is signed (CMS SignedData) end to end.
 */
#include "tre.h"

#include <openssl/err.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

int tre_signed_der(tre *t, const ASN1_ITEM *item, const void *value, uint8_t **der, size_t *len)
{
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	unsigned char *out = NULL;
	int n = so && !tre_keystore_sign_item(t, item, value, so) ? i2d_M2M_SIGNED_OBJECT(so, &out) : -1;
	M2M_SIGNED_OBJECT_free(so);
	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}

void *tre_body_decode(int type, const uint8_t *der, size_t len)
{
	const m2m_msgdef *def = m2m_msgdef_find(type);
	if (!def || !len || len > LONG_MAX)
		return NULL;
	const ASN1_ITEM *item = def->item();
	const unsigned char *p = der;
	ASN1_VALUE *body = ASN1_item_d2i(NULL, &p, (long)len, item);
	unsigned char *again = NULL;
	/* re-encoding gives back the bytes received: no BER, nothing after the body */
	int n = body && p == der + len ? ASN1_item_i2d(body, &again, item) : -1;
	if (n < 0 || (size_t)n != len || memcmp(again, der, len)) {
		ASN1_item_free(body, item);
		body = NULL;
	}
	OPENSSL_free(again);
	ERR_clear_error();
	return body;
}

m2m_reason tre_verify_signed(tre *t, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, const char *what, void **value,
			     tre_signer *signer, char *why, size_t len)
{
	if (!tre_crl_current(t))
		return snprintf(why, len, "no current CRL: %s's signer cannot be checked", what), M2M_R_WRONG_STATE;
	m2m_trust *trust = tre_trust_new(t, NULL);
	X509 *cert = NULL;
	m2m_reason r = trust ? m2m_cms_verify_item(trust, so, item, value, &cert) : M2M_R_INTERNAL;
	if (r)
		snprintf(why, len, "%s does not verify: %s", what, m2m_reason_name(r));
	else if (m2m_pki_cert_cn(cert, signer->cn, sizeof signer->cn))
		signer->cn[0] = 0;  /* no single CN: it names no entity */
	signer->profile = r == M2M_OK ? m2m_pki_cert_profile(cert) : -1;
	X509_free(cert);
	m2m_trust_free(trust);
	return r;
}

m2m_reason tre_signer_check(const tre_signer *s, int profile, const char *cn, m2m_reason bad_profile, m2m_reason bad_cn,
			    const char *what, char *why, size_t len)
{
	if (s->profile != profile)
		return snprintf(why, len, "%s is signed by %s, whose certificate is not of profile %s", what, s->cn,
				m2m_pki_profile_name(profile)), bad_profile;
	if (strcmp(s->cn, cn))
		return snprintf(why, len, "%s is signed by %s, not by %s", what, s->cn, cn), bad_cn;
	return M2M_OK;
}
