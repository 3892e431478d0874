/* A SignedObject from a TRE, checked as every relying party checks it (tre_signed.h). */
#include "pki/tre_signed.h"

#include "wire/read.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

/*
 * The agency revokes every certificate of a revoked model too, and m2m_cms_verify_item stops at the
 * certificate's revocation without handing out the signer. The model is the finding that matters
 * (every TRE of it is weak), so the signer is read again to tell the two apart. Only called after
 * certificateRevoked, which lib/pki returns only once the signature verified.
 */
static m2m_reason revocation_of(m2m_trust *t, const M2M_SIGNED_OBJECT *so)
{
	const unsigned char *p = ASN1_STRING_get0_data(so->cms);
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, ASN1_STRING_length(so->cms));
	STACK_OF(X509) *signers = cms && CMS_set1_signers_certs(cms, NULL, 0) == 1 ? CMS_get0_signers(cms) : NULL;
	X509 *signer = sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
	m2m_reason r = signer && m2m_pki_verify_tre(t, signer, NULL) == M2M_R_MODEL_REVOKED ? M2M_R_MODEL_REVOKED
										       : M2M_R_CERTIFICATE_REVOKED;
	sk_X509_free(signers);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}

/* The CMS and the signer's chain (any profile yet). */
static m2m_reason signature(m2m_trust *t, const M2M_SIGNED_OBJECT *so, m2m_tre_signed *out)
{
	m2m_reason r = so && so->cms ? m2m_cms_verify_item(t, so, out->item, &out->value, &out->cert) : M2M_R_MALFORMED;
	if (r == M2M_R_CERTIFICATE_REVOKED)
		r = revocation_of(t, so);
	if (r == M2M_R_MALFORMED)
		snprintf(out->why, sizeof out->why, "not a CMS SignedData of one signer over embedded content");
	else if (r == M2M_R_BAD_BODY)
		snprintf(out->why, sizeof out->why, "the signed content is not DER of the expected type");
	else if (r == M2M_R_BAD_SIGNATURE)
		snprintf(out->why, sizeof out->why, "the signature does not verify");
	else if (r != M2M_OK)
		snprintf(out->why, sizeof out->why, "the signer's certificate does not hold: %s", m2m_reason_name(r));
	return r;
}

/* The signer: a TRE certificate (a valid certificate of another profile does not speak for a
 * TRE), whose CN is the TRE the content names. */
static m2m_reason signer(m2m_trust *t, size_t tre_field, m2m_tre_signed *out)
{
	m2m_reason r = m2m_pki_verify_tre(t, out->cert, &out->platform);
	if (r != M2M_OK) {
		snprintf(out->why, sizeof out->why, "the signer is not a valid TRE certificate: %s", m2m_reason_name(r));
		return r == M2M_R_NOT_AUTHORISED ? M2M_R_BAD_SIGNATURE : r;
	}
	const ASN1_STRING *field = *(ASN1_STRING *const *)((const char *)out->value + tre_field);
	char named[M2M_ENTITY_MAX + 1];
	if (m2m_read_name(field, named, M2M_ENTITY_MAX)) {
		snprintf(out->why, sizeof out->why, "the content names no TRE (tre: 1 to %d characters)", M2M_ENTITY_MAX);
		return M2M_R_BAD_BODY;
	}
	if (m2m_pki_cert_cn(out->cert, out->tre, sizeof out->tre) || strcmp(out->tre, named)) {
		snprintf(out->why, sizeof out->why, "signed by %s, not by the TRE it names (%s)",
			 out->tre[0] ? out->tre : "an unnamed certificate", named);
		return M2M_R_BAD_SIGNATURE;
	}
	return M2M_OK;
}

m2m_reason m2m_cms_verify_tre_item(m2m_trust *t, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, size_t tre_field,
				   m2m_tre_signed *out)
{
	memset(out, 0, sizeof *out);
	out->item = item;
	m2m_reason r = M2M_R_INTERNAL;
	if (!t)
		snprintf(out->why, sizeof out->why, "no trust store to check it against yet (not enrolled)");
	else if ((r = signature(t, so, out)) == M2M_OK)
		r = signer(t, tre_field, out);
	if (r != M2M_OK)
		m2m_tre_signed_clear(out);  /* why stays */
	return r;
}

void m2m_tre_signed_clear(m2m_tre_signed *s)
{
	if (s->value)
		ASN1_item_free(s->value, s->item);
	X509_free(s->cert);
	M2M_TRE_PLATFORM_free(s->platform);
	s->value = NULL;
	s->cert = NULL;
	s->platform = NULL;
	s->tre[0] = 0;
}
