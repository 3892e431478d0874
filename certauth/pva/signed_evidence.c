/*
 * An attestationEvidence as it arrives: a CMS SignedData over Evidence. lib/pki checks the
 * signature and the signer's chain; then the signer must be a TRE certificate of a model that is
 * not revoked (m2m_pki_verify_tre), whose platform extension names the certified type whose
 * reference values the appraisal compares against.
 *
 * Evidence that cannot be believed is not an error of the PVA: it is a fail verdict that says why
 * (brief §3: a bad signature or chain "means FAIL"), so every such case ends in pva_outcome_fail.
 */
#include "pva_impl.h"

#include <openssl/err.h>
#include <string.h>

/* What lib/pki's reasons mean for evidence. A CMS that is not even a SignedData carries no
 * signature at all; a valid certificate of another profile (an operator's) is not a TRE's. */
static m2m_reason trust_reason(m2m_reason r)
{
	switch (r) {
	case M2M_R_MALFORMED:
	case M2M_R_NOT_AUTHORISED:
		return M2M_R_BAD_SIGNATURE;
	default:
		return r;
	}
}

/*
 * The agency revokes every certificate of a revoked model too, and lib/pki's CMS check stops at
 * the certificate's revocation without handing out the signer. The model is the finding that
 * matters (every TRE of it is weak), so the signer is read again to tell the two apart. Only
 * called after certificateRevoked, which lib/pki returns only once the signature verified.
 */
static m2m_reason refine_revocation(m2m_trust *t, const M2M_SIGNED_OBJECT *so)
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

/* The signer's identity and certified platform: M2M_OK, or the reason the certificate fails. */
static m2m_reason read_signer(m2m_trust *t, X509 *signer, char cn[M2M_ENTITY_MAX + 1], pva_platform *pf)
{
	M2M_TRE_PLATFORM *ext = NULL;
	m2m_reason r = trust_reason(m2m_pki_verify_tre(t, signer, &ext));
	if (r == M2M_OK && (m2m_pki_cert_cn(signer, cn, M2M_ENTITY_MAX + 1) ||
			    m2m_pki_tre_platform_read(ext, pf->model, pf->version)))
		r = M2M_R_BAD_CHAIN;  /* the agency never issues such a TRE certificate */
	if (r == M2M_OK)
		pf->assurance = (int)ext->assurance_level;
	M2M_TRE_PLATFORM_free(ext);
	return r;
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
	M2M_EVIDENCE *w = NULL;
	X509 *signer = NULL;
	m2m_reason r = so && so->cms ? m2m_cms_verify_item(a->trust, so, ASN1_ITEM_rptr(M2M_EVIDENCE), (void **)&w, &signer)
				     : M2M_R_MALFORMED;
	if (r == M2M_R_CERTIFICATE_REVOKED)
		r = refine_revocation(a->trust, so);
	char cn[M2M_ENTITY_MAX + 1] = "";
	pva_platform pf;
	memset(&pf, 0, sizeof pf);
	if (r == M2M_OK)
		r = read_signer(a->trust, signer, cn, &pf);
	m2m_reason status = M2M_OK;
	if (r == M2M_OK)
		status = appraise_believed(a, w, cn, &pf, c, out);
	else
		pva_outcome_fail(out, trust_reason(r));
	M2M_EVIDENCE_free(w);
	X509_free(signer);
	return status;
}
