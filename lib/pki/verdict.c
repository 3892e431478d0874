/* The relying party's check of a PVA verdict (verdict.h). */
#include "pki/verdict.h"

#include "wire/read.h"

#include <limits.h>
#include <string.h>

/* Any signature problem short of the certificate chain is one answer: not the PVA's verdict. */
static m2m_reason signature_reason(m2m_reason r)
{
	switch (r) {
	case M2M_R_MALFORMED:
	case M2M_R_BAD_BODY:
	case M2M_R_NOT_AUTHORISED:
		return M2M_R_BAD_SIGNATURE;
	default:
		return r;
	}
}

static m2m_reason open_verdict(m2m_trust *trust, const uint8_t *cms, size_t len, M2M_VERDICT **v)
{
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	X509 *signer = NULL;
	m2m_reason r = M2M_R_INTERNAL;
	if (so && len <= INT_MAX && ASN1_OCTET_STRING_set(so->cms, cms, (int)len))
		r = m2m_cms_verify_item(trust, so, ASN1_ITEM_rptr(M2M_VERDICT), (void **)v, &signer);
	/* a valid certificate of another profile (a TRE's, an operator's) does not speak for the PVA */
	if (r == M2M_OK && m2m_pki_cert_profile(signer) != M2M_PROFILE_PVA)
		r = M2M_R_NOT_AUTHORISED;
	X509_free(signer);
	M2M_SIGNED_OBJECT_free(so);
	return signature_reason(r);
}

static int same_name(const ASN1_UTF8STRING *s, const char *name)
{
	return s && name && ASN1_STRING_length(s) == (int)strlen(name) &&
	       !memcmp(ASN1_STRING_get0_data(s), name, strlen(name));
}

/* What the verdict says; -1 when a field breaks the module (the PVA never signs such a thing). */
static int read_info(const M2M_VERDICT *v, m2m_verdict_info *info)
{
	int result = 0, mode = 0, n = sk_ASN1_ENUMERATED_num(v->reasons);
	memset(info, 0, sizeof *info);
	if (m2m_read_enum(v->result, M2M_VERDICT_FAIL, &result) || m2m_read_enum(v->mode, M2M_MODE_REMOTE, &mode) || n < 0 ||
	    n > M2M_VERDICT_MAX_REASONS || m2m_read_octets(v->nonce, info->nonce, sizeof info->nonce) ||
	    m2m_read_time(v->validated_at, &info->validated_at) || m2m_read_time(v->valid_until, &info->valid_until))
		return -1;
	for (int i = 0; i < n; i++)
		info->reasons[i] = (m2m_reason)ASN1_ENUMERATED_get(sk_ASN1_ENUMERATED_value(v->reasons, i));
	info->nreasons = n;
	info->result = (m2m_verdict_result)result;
	info->mode = (m2m_validation_mode)mode;
	return 0;
}

m2m_reason m2m_verdict_check(m2m_trust *trust, const uint8_t *cms, size_t len, const char *tre,
			     const char *relying_party, time_t now, m2m_verdict_info *info)
{
	M2M_VERDICT *v = NULL;
	m2m_verdict_info mine;
	m2m_reason r = open_verdict(trust, cms, len, &v);
	if (r == M2M_OK && read_info(v, &mine))
		r = M2M_R_BAD_SIGNATURE;
	/* a verdict about another TRE, or obtained by another relying party, is not one for this use */
	if (r == M2M_OK && (!same_name(v->tre, tre) || !same_name(v->relying_party, relying_party) ||
			    (int64_t)now > mine.valid_until))
		r = M2M_R_STALE_VERDICT;
	if (r == M2M_OK && info)
		*info = mine;
	M2M_VERDICT_free(v);
	return r;
}
