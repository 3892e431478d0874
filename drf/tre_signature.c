/*
 * What a TRE signs and the DRF checks (discovery, changeComplete): the request reaches the DRF
 * relayed, the relay's name on the envelope; only the CMS signature says who speaks: a valid TRE
 * certificate (chain, revocation, model, profile tre) whose CN is the TRE the content names
 * (m2m_cms_verify_tre_item, as every relying party checks it).
 */
#include "drf.h"

m2m_reason drf_tre_signed(drf *d, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, size_t tre_field,
			  m2m_tre_signed *s)
{
	m2m_reason r = m2m_cms_verify_tre_item(m2m_identity_trust(d->id), so, item, tre_field, s);
	return r == M2M_R_MALFORMED ? M2M_R_BAD_BODY : r;  /* not a SignedData over item: the body is wrong */
}
