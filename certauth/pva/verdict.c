/*
 * The Verdict (docs/protocol.asn1) of one appraisal, signed by the PVA's key as CMS SignedData
 * with the issuing CA alongside, so that a relying party holding only the agency's root can check
 * it offline (`openssl cms -verify -inform DER -binary -CAfile root.pem`).
 *
 * Every result gets the same validity: the verdict states what the PVA found at validatedAt,
 * and a relying party must not act on it, whatever it says, after validUntil.
 */
#include "pva_impl.h"

#include <time.h>

int pva_set_time(ASN1_GENERALIZEDTIME *t, int64_t at)
{
	return ASN1_GENERALIZEDTIME_set(t, (time_t)at) ? 0 : -1;
}

static int set_reasons(M2M_VERDICT *v, const pva_outcome *o)
{
	for (int i = 0; i < o->nreasons; i++) {
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
		if (!e || !ASN1_ENUMERATED_set(e, o->reasons[i]) || !sk_ASN1_ENUMERATED_push(v->reasons, e)) {
			ASN1_ENUMERATED_free(e);
			return -1;
		}
	}
	return 0;
}

static M2M_VERDICT *verdict_of(const pva_record *r, const pva_outcome *o)
{
	M2M_VERDICT *v = M2M_VERDICT_new();
	if (!v || m2m_set_str(v->tre, r->tre) || m2m_set_str(v->relying_party, r->relying_party) ||
	    !ASN1_ENUMERATED_set(v->mode, r->mode) || !ASN1_ENUMERATED_set(v->result, o->result) ||
	    set_reasons(v, o) || !ASN1_OCTET_STRING_set(v->nonce, r->nonce, PVA_NONCE_LEN) ||
	    pva_set_time(v->validated_at, r->validated_at) || pva_set_time(v->valid_until, r->valid_until)) {
		M2M_VERDICT_free(v);
		return NULL;
	}
	return v;
}

int pva_verdict_sign(const ca_context *ca, const pva_record *r, const pva_outcome *o, M2M_SIGNED_OBJECT *so)
{
	M2M_VERDICT *v = verdict_of(r, o);
	int rc = v ? m2m_cms_sign_item(ca->pva_key, ca->pva_cert, ca->pva_chain, ASN1_ITEM_rptr(M2M_VERDICT), v, so)
		   : -1;
	M2M_VERDICT_free(v);
	return rc;
}
