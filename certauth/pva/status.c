/*
 * validationStatusRequest {tre} -> validationStatus: the latest outcome the PVA holds for the TRE
 * (result, validatedAt, validUntil), or `never` without times when it never validated it. Not
 * signed: a relying party that must prove what it relied on keeps the signed verdict; this is for
 * monitoring, and for learning of a tamper report that arrived after the verdict (record.c).
 * Asked by the same relying parties as validations: who was validated when is not public.
 */
#include "pva_impl.h"

static int set_record(M2M_VALIDATION_STATUS *s, const pva_record *r)
{
	s->validated_at = ASN1_GENERALIZEDTIME_new();
	s->valid_until = ASN1_GENERALIZEDTIME_new();
	if (!s->validated_at || !s->valid_until || !ASN1_ENUMERATED_set(s->result, r->result))
		return -1;
	return pva_set_time(s->validated_at, r->validated_at) || pva_set_time(s->valid_until, r->valid_until) ? -1 : 0;
}

void pva_status_request(pva_context *p, m2m_request *req)
{
	const M2M_VALIDATION_STATUS_REQUEST *q = req->env.body;
	char tre[M2M_ENTITY_MAX + 1];
	pva_record r;
	if (!pva_may_ask(&p->settings, req->env.sender)) {
		m2m_refuse(p->node, req, M2M_R_NOT_AUTHORISED, "%s is not a relying party of this PVA", req->env.sender);
		return;
	}
	if (pva_read_entity(q->tre, tre)) {
		m2m_refuse(p->node, req, M2M_R_BAD_BODY, "tre must be an entity id of 1 to 63 characters");
		return;
	}
	int found = pva_record_load(p->db, tre, &r);
	M2M_VALIDATION_STATUS *s = M2M_VALIDATION_STATUS_new();
	int bad = found < 0 || !s || m2m_set_str(s->tre, tre) ||
		  (found == 0 ? set_record(s, &r) : !ASN1_ENUMERATED_set(s->result, M2M_VERDICT_NEVER));
	if (bad)
		m2m_refuse(p->node, req, M2M_R_INTERNAL, "the status of %s could not be read", tre);
	else
		m2m_reply(p->node, req, M2M_MSG_VALIDATION_STATUS, s);
	M2M_VALIDATION_STATUS_free(s);
}
