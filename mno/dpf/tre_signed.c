/*
 * What a TRE signs for the DPF (McimOrder, InstallResult, TamperReport, McimReceipt) arrives
 * relayed by networks that prove nothing: its authenticity is the CMS alone, checked as every
 * relying party checks it (m2m_cms_verify_tre_item: a TRE certificate whose CN is the TRE the
 * content names, of a model the agency has not withdrawn).
 */
#include "dpf/dpf_impl.h"

#include <string.h>

m2m_reason dpf_tre_signed(m2m_trust *trust, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, size_t tre_field,
			  m2m_tre_signed *s)
{
	m2m_reason r = m2m_cms_verify_tre_item(trust, so, item, tre_field, s);
	return r == M2M_R_MALFORMED ? M2M_R_BAD_SIGNATURE : r;  /* not even a SignedData carries no signature */
}

int dpf_same_name(const ASN1_STRING *s, const char *name)
{
	return s && ASN1_STRING_length(s) == (int)strlen(name) && !memcmp(ASN1_STRING_get0_data(s), name, strlen(name));
}
