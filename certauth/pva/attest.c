/*
 * The TRE's answer to an attestationChallenge, in a step of its own: the nonce is spent, the
 * evidence appraised, the outcome recorded for the TRE, and the relying party answered with the
 * signed verdict, whatever it says (a fail is an answer too: the relying party decides what to
 * do with it). Only when there is nothing to appraise (no answer, a refusal, another message) is
 * the relying party refused, with the reason the TRE gave or the transport's.
 */
#include "pva_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

static void no_evidence(pva_context *p, m2m_request *req, const pva_challenge *c, const m2m_envelope *resp,
			m2m_reason reason)
{
	char text[256];
	m2m_reason why = m2m_call_reason(resp, reason);  /* the TRE's refusal, the transport's, or not evidence */
	m2m_call_failure(c->tre, resp, reason, text, sizeof text);
	/* the nonce is spent either way: evidence for it arriving later is not fresh */
	if (pva_challenge_abandon(p->db, c->nonce))
		m2m_error("the challenge to %s could not be closed", c->tre);
	m2m_refuse(p->node, req, why, "%s", text);
}

static void record_of(const pva_context *p, const pva_challenge *c, const pva_outcome *o, int64_t now,
		      pva_record *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->tre, sizeof r->tre, "%s", c->tre);
	snprintf(r->relying_party, sizeof r->relying_party, "%s", c->relying_party);
	r->mode = c->mode;
	r->result = o->result;
	pva_reasons_text(o, r->reasons, sizeof r->reasons);
	memcpy(r->nonce, c->nonce, PVA_NONCE_LEN);
	r->validated_at = now;
	r->valid_until = now + p->settings.verdict_validity_s;
}

static void log_outcome(const pva_record *r, const pva_outcome *o)
{
	char names[256] = "";
	size_t used = 0;
	for (int i = 0; i < o->nreasons && used < sizeof names; i++) {
		const char *name = m2m_reason_name(o->reasons[i]);
		used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", name ? name : "?");
	}
	m2m_info("%s validated for %s: %s%s%s%s", r->tre, r->relying_party, pva_result_name(o->result),
		 o->nreasons ? " (" : "", names, o->nreasons ? ")" : "");
}

/* Records the outcome and answers the relying party with it, signed. */
static void conclude(pva_context *p, m2m_request *req, const ca_context *ca, const pva_challenge *c,
		     const pva_outcome *o, int64_t now)
{
	pva_record r;
	record_of(p, c, o, now, &r);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	/* signed first: a verdict that cannot be signed must not be recorded as given */
	if (!so || pva_verdict_sign(ca, &r, o, so) || pva_challenge_spend(p->db, c->nonce, o) ||
	    pva_record_save(p->db, &r)) {
		M2M_SIGNED_OBJECT_free(so);
		m2m_refuse(p->node, req, M2M_R_INTERNAL, "the verdict on %s could not be signed or recorded", c->tre);
		return;
	}
	log_outcome(&r, o);
	m2m_reply(p->node, req, M2M_MSG_VALIDATION_RESPONSE, so);
	M2M_SIGNED_OBJECT_free(so);
}

static void appraise(pva_context *p, m2m_request *req, const pva_challenge *c, const M2M_SIGNED_OBJECT *so)
{
	const ca_context *ca = p->agency.get(p->agency.arg);
	int64_t now = p->now();
	pva_outcome o;
	pva_appraisal a = {.trust = ca ? ca->trust : NULL, .agency = &p->agency, .unknown = p->settings.unknown,
			   .now = now};
	if (!ca || pva_appraise_signed(&a, so, c, &o) != M2M_OK) {
		pva_challenge_abandon(p->db, c->nonce);
		m2m_refuse(p->node, req, M2M_R_INTERNAL, "the agency's trust store or platform types are not available");
		return;
	}
	conclude(p, req, ca, c, &o, now);
}

void pva_evidence_answered(pva_context *p, m2m_request *req, const uint8_t nonce[PVA_NONCE_LEN],
			   const m2m_envelope *resp, m2m_reason reason)
{
	pva_challenge c;
	if (pva_challenge_load(p->db, nonce, &c)) {
		m2m_refuse(p->node, req, M2M_R_INTERNAL, "the challenge this answer is for is not recorded");
		return;
	}
	if (!resp || resp->type != M2M_MSG_ATTESTATION_EVIDENCE)
		no_evidence(p, req, &c, resp, reason);
	else
		appraise(p, req, &c, resp->body);
}
