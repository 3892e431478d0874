/*
 * The old SHO's say (docs/alt1a-change.md step 2, O15, O16): changeNotify {changeId, tre, m2me,
 * toSho} to its DPF, which answers changeConsent {changeId, mcimId} or refuses (contractLocked
 * while its MCIM is under a contract lock). Its answer is the change's outcome and the new SHO's:
 *   consent: `consented`, A's MCIM id kept for the release; the new SHO gets changeResponse;
 *   consent with the IMSI of the device's UICC instead (Alternative 3b, docs/alt3b.md): the
 *     change is of kind uicc, `triggering` (uicc_trigger.c), A's IMSI kept; changeResponse too;
 *   a consent with both or neither: no decision (the new SHO's request refused badBody), told again;
 *   a refusal: `refused` (closed) with A's reason and text; the new SHO gets that refusal (a
 *     transport refusal or internalError is no decision: as no answer);
 *   no usable answer: still `notifying`; the tick tells A again after change_retry_seconds, and
 *   the new SHO's waiting request is answered timeout (it asks again with the same authorisation).
 * The answer is handled in the node's callback step: the state is committed before the new SHO's
 * answer leaves.
 */
#include "drf.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

/* Both bodies are SEQUENCE { changeId OCTET STRING (SIZE (16)) }: made from that DER, so that one
 * function serves the two types. */
void drf_reply_change_id(drf *d, m2m_request *req, int type, const uint8_t id[DRF_ID_LEN])
{
	uint8_t der[4 + DRF_ID_LEN] = {0x30, 2 + DRF_ID_LEN, 0x04, DRF_ID_LEN};
	void *body = NULL;
	memcpy(der + 4, id, DRF_ID_LEN);
	if (m2m_decode_body(type, der, sizeof der, &body) != M2M_OK) {
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the %s cannot be made", m2m_msgtype_name(type));
		return;
	}
	m2m_reply(d->node, req, type, body);
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
}

void drf_change_answer(drf *d, m2m_request *req, const drf_change *c, int recorded)
{
	if (c->state == DRF_CHANGE_REFUSED) {
		const char *reason = m2m_reason_name(c->refusal);
		if (recorded)
			m2m_refuse_recorded(d->node, req, c->refusal, "%s refused the change of TRE %s: %s", c->from_sho,
					    c->tre, c->refusal_text);
		else
			m2m_refuse(d->node, req, c->refusal, "%s refused the change of TRE %s (%s): %s", c->from_sho, c->tre,
				   reason ? reason : "?", c->refusal_text);
		return;
	}
	drf_reply_change_id(d, req, M2M_MSG_CHANGE_RESPONSE, c->id);
}

/* Every waiting request answered from the change's state, or refused (reason, text). */
static void answer_waiters(drf *d, drf_pending *p, const drf_change *c, m2m_reason reason, const char *text)
{
	for (drf_waiter *w = p->waiting; w; w = w->next)
		if (reason == M2M_OK)
			drf_change_answer(d, w->req, c, 1);
		else
			m2m_refuse(d->node, w->req, reason, "%s", text);
	drf_waiters_clear(&p->waiting);
}

/* A consent for this change with exactly one of A's MCIM id (1a: consented) or the IMSI of the
 * device's UICC (3b: the change is of kind uicc, triggering): 0 with c's state set, or -1. */
static int consent_of(const m2m_envelope *resp, drf_change *c)
{
	const M2M_CHANGE_CONSENT *k = resp->body;
	uint8_t id[DRF_ID_LEN];
	if (m2m_read_octets(k->change_id, id, sizeof id) || memcmp(id, c->id, DRF_ID_LEN) || !k->mcim_id == !k->imsi)
		return -1;
	if (k->imsi) {
		if (m2m_digits(k->imsi, c->a_imsi, sizeof c->a_imsi, 6, DRF_IMSI_MAX))
			return -1;
		c->kind = DRF_KIND_UICC;
		c->state = DRF_CHANGE_TRIGGERING;
		return 0;
	}
	if (m2m_read_octets(k->mcim_id, c->a_mcim_id, DRF_ID_LEN))
		return -1;
	c->has_a_mcim = 1;
	c->state = DRF_CHANGE_CONSENTED;
	return 0;
}

/* A's ErrorReport, when it is A's decision, into c: refused, with its reason and text; -1 when it
 * says only that A could not decide now (the transport's refusals, internalError): asked again. */
static int refusal_of(const m2m_envelope *resp, drf_change *c)
{
	const M2M_ERROR_REPORT *er = resp->body;
	m2m_reason r = (m2m_reason)ASN1_ENUMERATED_get(er->reason);
	if ((r >= M2M_R_WRONG_RECIPIENT && r <= M2M_R_UNREACHABLE) || r == M2M_R_INTERNAL)
		return -1;
	c->state = DRF_CHANGE_REFUSED;
	c->refusal = r;
	if (m2m_str(er->text, c->refusal_text, sizeof c->refusal_text))
		c->refusal_text[0] = 0;
	return 0;
}

/* What A's answer decides: M2M_OK with c's new state saved, or why nothing was decided. */
static m2m_reason decide(drf *d, const m2m_envelope *resp, m2m_reason reason, drf_change *c, char *why, size_t len)
{
	int consent = resp && resp->type == M2M_MSG_CHANGE_CONSENT;
	if (consent && consent_of(resp, c)) {
		snprintf(why, len, "%s consented to another change, or not with exactly one of an MCIM id and an IMSI",
			 c->from_dpf);
		return M2M_R_BAD_BODY;
	}
	if (!consent && (!resp || resp->type != M2M_MSG_ERROR || refusal_of(resp, c))) {
		m2m_call_failure(c->from_dpf, resp, reason, why, len);
		return M2M_R_TIMEOUT;
	}
	if (drf_change_save(d, c, time(NULL))) {
		snprintf(why, len, "the outcome of the change of TRE %s cannot be stored", c->tre);
		return M2M_R_INTERNAL;
	}
	return M2M_OK;
}

static void on_notified(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	drf_pending *p = arg;
	drf *d = p->d;
	drf_change c;
	char why[300] = "";
	if (drf_change_load(d, p->id, &c) || c.state != DRF_CHANGE_NOTIFYING) {
		answer_waiters(d, p, &c, M2M_R_INTERNAL, "the change cannot be read");
		drf_pending_done(p);
		return;
	}
	m2m_reason r = decide(d, resp, reason, &c, why, sizeof why);
	if (r != M2M_OK) {
		m2m_warn("change of TRE %s to %s: %s; %s is told again in %ds", c.tre, c.to_sho, why, c.from_dpf,
			 d->s.change_retry_seconds);
		answer_waiters(d, p, &c, r, r == M2M_R_TIMEOUT ? "the SHO the device is with has not answered yet: ask again"
							       : why);
		drf_pending_retry_later(p);
		return;
	}
	m2m_info("change of TRE %s from %s to %s: %s%s%s", c.tre, c.from_sho, c.to_sho, drf_change_state_name(c.state),
		 c.state == DRF_CHANGE_REFUSED ? ", " : "", c.state == DRF_CHANGE_REFUSED ? m2m_reason_name(c.refusal) : "");
	answer_waiters(d, p, &c, M2M_OK, NULL);
	drf_pending_done(p);
}

int drf_change_notify(drf *d, drf_pending *p, const drf_change *c)
{
	M2M_CHANGE_NOTIFY *q = M2M_CHANGE_NOTIFY_new();
	int made = q && ASN1_OCTET_STRING_set(q->change_id, c->id, DRF_ID_LEN) && !m2m_set_str(q->tre, c->tre) &&
		   !m2m_set_digits(&q->m2me, c->m2me) && !m2m_set_str(q->to_sho, c->to_sho);
	return drf_pending_call(p, c->from_dpf, M2M_MSG_CHANGE_NOTIFY, q, made, on_notified);
}
