/*
 * What a TRE signs and the DRF checks (discovery, changeComplete): the request reaches the DRF
 * relayed, the relay's name on the envelope; only the CMS signature says who speaks: a valid TRE
 * certificate (chain, revocation, model, profile tre) whose CN is the TRE the content names.
 */
#include "drf.h"

#include <openssl/err.h>
#include <stdio.h>

/* The agency revokes every certificate of a revoked model, and lib/pki's CMS check stops at the
 * revocation without handing out the signer: read it again to tell the two apart (the model is
 * the finding that matters). Called only after certificateRevoked, so the signature verified. */
static m2m_reason revocation_of(m2m_trust *t, const M2M_SIGNED_OBJECT *so)
{
	const unsigned char *p = ASN1_STRING_get0_data(so->cms);
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, ASN1_STRING_length(so->cms));
	STACK_OF(X509) *signers = cms && CMS_set1_signers_certs(cms, NULL, 0) == 1 ? CMS_get0_signers(cms) : NULL;
	m2m_reason r = sk_X509_num(signers) == 1 ? m2m_pki_verify_tre(t, sk_X509_value(signers, 0), NULL)
						 : M2M_R_CERTIFICATE_REVOKED;
	sk_X509_free(signers);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r == M2M_R_MODEL_REVOKED ? r : M2M_R_CERTIFICATE_REVOKED;
}

m2m_reason drf_tre_signed(drf *d, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, const char *what, void **value,
			  char cn[M2M_ENTITY_MAX + 1], char *why, size_t len)
{
	m2m_trust *t = m2m_identity_trust(d->id);
	X509 *signer = NULL;
	*value = NULL;
	m2m_reason r = m2m_cms_verify_item(t, so, item, value, &signer);
	if (r == M2M_R_CERTIFICATE_REVOKED)
		r = revocation_of(t, so);
	if (r == M2M_R_MALFORMED || r == M2M_R_BAD_BODY)
		snprintf(why, len, "not a SignedData over a %s", what), r = M2M_R_BAD_BODY;
	else if (r != M2M_OK)
		snprintf(why, len, "the signature or its certificate does not hold: %s", m2m_reason_name(r));
	else if ((r = m2m_pki_verify_tre(t, signer, NULL)) != M2M_OK)
		snprintf(why, len, "the signer is not a valid TRE: %s", m2m_reason_name(r)),
			r = r == M2M_R_NOT_AUTHORISED ? M2M_R_BAD_SIGNATURE : r;
	else if (m2m_pki_cert_cn(signer, cn, M2M_ENTITY_MAX + 1))
		snprintf(why, len, "the TRE certificate names no entity"), r = M2M_R_BAD_SIGNATURE;
	X509_free(signer);
	if (r != M2M_OK) {
		ASN1_item_free(*value, item);
		*value = NULL;
	}
	return r;
}
