/*
 * An attestationEvidence as it arrives: a CMS SignedData over Evidence, checked as every relying
 * party checks what a TRE signs (m2m_cms_verify_tre_item: the signature, the signer's chain, a TRE
 * certificate of a model that is not revoked, whose CN is the TRE the evidence names). Its
 * platform extension names the certified type whose reference values the appraisal compares
 * against.
 *
 * Evidence that cannot be believed is not an error of the PVA: it is a fail verdict that says why
 * (brief §3: a bad signature or chain "means FAIL"), so every such case ends in pva_outcome_fail.
 */
#include "pva_impl.h"

#include "pki/tre_signed.h"

#include <string.h>

int pva_references_from_wire(const M2M_PLATFORM_TYPE *t, pva_references *out)
{
	memset(out, 0, sizeof *out);
	int n = sk_M2M_REFERENCE_METRIC_num(t->references);
	if (n < 0 || n > PVA_MAX_REFERENCES)
		return -1;
	for (int i = 0; i < n; i++) {
		const M2M_REFERENCE_METRIC *m = sk_M2M_REFERENCE_METRIC_value(t->references, i);
		pva_reference *r = &out->refs[i];
		if (m2m_read_name(m->component, r->component, PVA_COMPONENT_MAX) ||
		    m2m_read_octets(m->digest, r->digest, PVA_DIGEST_LEN))
			return -1;
	}
	out->count = n;
	return 0;
}

/* The certified reference values of the TRE's platform type. A type the agency does not know
 * (any more) has none: every measured component is then unknown. */
static m2m_reason load_references(const pva_appraisal *a, const pva_platform *pf, pva_references *refs)
{
	M2M_PLATFORM_TYPE *type = NULL;
	m2m_reason r = a->agency->platform_type(a->agency->arg, pf->model, pf->version, &type);
	memset(refs, 0, sizeof *refs);
	if (r == M2M_R_NOT_FOUND)
		return M2M_OK;
	if (r == M2M_OK && pva_references_from_wire(type, refs))
		r = M2M_R_INTERNAL;  /* the agency's own store holds something it should not */
	M2M_PLATFORM_TYPE_free(type);
	return r;
}

/* The certified platform of the signer's TRE certificate (m2m_pki_verify_tre checked it reads). */
static m2m_reason read_platform(const M2M_TRE_PLATFORM *ext, pva_platform *pf)
{
	memset(pf, 0, sizeof *pf);
	if (m2m_pki_tre_platform_read(ext, pf->model, pf->version))
		return M2M_R_BAD_CHAIN;  /* the agency never issues such a TRE certificate */
	pf->assurance = (int)ext->assurance_level;
	return M2M_OK;
}

/* The checks once the evidence is known to be signed by a valid TRE certificate. */
static m2m_reason appraise_believed(const pva_appraisal *a, const M2M_EVIDENCE *w, const char *signer,
				    const pva_platform *pf, const pva_challenge *c, pva_outcome *out)
{
	pva_evidence ev;
	m2m_reason r = pva_evidence_from_wire(w, &ev);
	if (r != M2M_OK) {
		pva_outcome_fail(out, r);
		return M2M_OK;
	}
	pva_references refs;
	r = load_references(a, pf, &refs);
	if (r != M2M_OK)
		return r;
	pva_inputs in = {.trust = M2M_OK, .signer = signer, .evidence = &ev, .platform = pf, .refs = &refs,
			 .challenge = c, .unknown = a->unknown, .now = a->now};
	pva_appraise(&in, out);
	return M2M_OK;
}

m2m_reason pva_appraise_signed(const pva_appraisal *a, const M2M_SIGNED_OBJECT *so, const pva_challenge *c,
			       pva_outcome *out)
{
	m2m_tre_signed s;
	pva_platform pf;
	m2m_reason r = m2m_cms_verify_tre_item(a->trust, so, ASN1_ITEM_rptr(M2M_EVIDENCE), M2M_TRE_FIELD(M2M_EVIDENCE), &s);
	if (r == M2M_OK)
		r = read_platform(s.platform, &pf);
	m2m_reason status = M2M_OK;
	if (r == M2M_OK)
		status = appraise_believed(a, s.value, s.tre, &pf, c, out);
	else  /* not even a SignedData carries no signature */
		pva_outcome_fail(out, r == M2M_R_MALFORMED ? M2M_R_BAD_SIGNATURE : r);
	m2m_tre_signed_clear(&s);
	return status;
}
