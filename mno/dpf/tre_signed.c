/*
 * What a TRE signs for the DPF (McimOrder, InstallResult, TamperReport, McimReceipt) arrives
 * relayed by networks that prove nothing: its authenticity is the CMS alone. The signature and
 * chain are lib/pki's check; the signer must then be a TRE certificate (profile tre, its
 * platform extension, a model the agency has not withdrawn).
 */
#include "dpf/dpf_impl.h"

#include <string.h>

/* A CMS that is not even a SignedData carries no signature; a valid certificate of another
 * profile (an operator's, the DRF's) does not speak for a TRE. */
static m2m_reason as_tre_reason(m2m_reason r)
{
	return r == M2M_R_MALFORMED || r == M2M_R_NOT_AUTHORISED ? M2M_R_BAD_SIGNATURE : r;
}

m2m_reason dpf_tre_signed(m2m_trust *trust, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, void **value,
			  X509 **signer, char tre[M2M_ENTITY_MAX + 1], const char **why)
{
	*value = NULL;
	*signer = NULL;
	*why = "the signature or the signer's certificate does not verify";
	if (!trust) {
		*why = "the DPF holds no trust store yet (not enrolled)";
		return M2M_R_INTERNAL;
	}
	m2m_reason r = as_tre_reason(m2m_cms_verify_item(trust, so, item, value, signer));
	if (r == M2M_R_BAD_BODY)
		*why = "the signed content is not DER of the expected type";
	if (r == M2M_OK) {
		r = as_tre_reason(m2m_pki_verify_tre(trust, *signer, NULL));
		*why = "the signer is not a valid TRE certificate";
	}
	if (r == M2M_OK && m2m_pki_cert_cn(*signer, tre, M2M_ENTITY_MAX + 1)) {
		r = M2M_R_BAD_SIGNATURE;
		*why = "the signer's certificate names no entity";
	}
	if (r != M2M_OK) {
		ASN1_item_free(*value, item);
		X509_free(*signer);
		*value = NULL;
		*signer = NULL;
	}
	return r;
}

int dpf_same_name(const ASN1_STRING *s, const char *name)
{
	return s && ASN1_STRING_length(s) == (int)strlen(name) && !memcmp(ASN1_STRING_get0_data(s), name, strlen(name));
}
