/*
 * The TRE's side of the MCIM download (docs/alt1a.md, "Initial provisioning") and of a change of
 * subscription (docs/alt1a-change.md), a state machine persisted in tre_provision
 * (provision_store.c). The M2ME drives it and is only a pipe: treProvision {} starts it or asks
 * for the current step again; each answer treProvision {answer} hands back what the step's
 * destination answered, and treProvisionNext {state, step, reason} says what to relay next.
 * Every step (a RelayStep: destination, message type, body) is persisted before the reply, so
 * that asking again gives it back byte for byte.
 *
 *   idle, failed  + {}                  nonce; discoveryRequest to the DRF          -> discovering
 *   done          + {}, a change open   the same, with the change's changeId        -> discovering
 *   discovering   + discoveryResponse   ticket checked (ticket.c); mcimRequest to
 *                                       the ticket's DPF with a fresh nonce2          -> ordering
 *   ordering      + mcimPackage         opened and checked (package.c); installed, or
 *                                       refused; installResult to the DPF            -> confirming
 *   confirming    + installAck          done (failed with the refusal's reason when the
 *                                       package was refused); in a change: switching
 *                                       (switch.c: treAttached then commits it to
 *                                       completing, or rolls it back to failed)       -> done, failed,
 *                                                                                       switching
 *   completing    + changeCompleteAck   the change is closed                         -> done
 *   any step      + error               the destination refused: failed with its reason
 *   failed        + {}, switch committed changeComplete again (the device is on the
 *                                       new MCIM already: no new discovery)          -> completing
 *   any           + {}                  the current step again
 * Alternative 3b (docs/alt3b.md): while a change opened by the DRF's trigger is open, a
 * treProvision {} that would start (idle, failed, done), with no change of 1a open, starts the
 * card's procedure instead (uicc_change.c), which then answers every treProvision in the states
 * uiccRegistering to uiccCompleting; its card steps come back in TreProvision.card.
 * Starting needs a credential to attach with (the PCID or an active MCIM), released
 * credentials (secure boot, no tamper), the TRE's certificate, and the agency's CRL, which the
 * TRE fetches first (crl.c). An answer the state does not expect is refused (unexpectedMessage)
 * and, like every refusal, changes nothing.
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"idle",   "discovering", "ordering",  "confirming",
					   "done",   "failed",      "switching", "completing"};

/* ---- starting ------------------------------------------------------------------------------- */

static m2m_reason may_start(tre *t, char *why, size_t len)
{
	tre_credential c;
	if (!t->s.m2me_id[0])
		return snprintf(why, len, "no m2me_id configured: the discovery names the M2ME"), M2M_R_WRONG_STATE;
	if (!tre_enrolled(t))
		return snprintf(why, len, "not enrolled: nothing to sign the discovery with"), M2M_R_WRONG_STATE;
	if (!tre_credentials_allowed(t))
		return tre_withheld(t, why, len);
	tre_credential_current(t, &c);
	if (c.kind == M2M_CREDENTIAL_NONE)
		return snprintf(why, len, "no credential to attach with (a valid PCID or an active MCIM)"), M2M_R_WRONG_STATE;
	if (!tre_crl_current(t))
		return snprintf(why, len, "no current CRL of the agency"), M2M_R_WRONG_STATE;
	return M2M_OK;
}

/* A switch committed before the DRF acknowledged it: the device is on the new MCIM, so the
 * procedure resumes by telling the DRF again rather than with a new discovery. */
static m2m_reason resume_completing(tre *t, tre_provision_state *p, const tre_change *c, char *why, size_t len)
{
	if (!p->has_change || memcmp(p->change_id, c->change_id, TRE_CHANGE_ID_LEN))
		return snprintf(why, len, "the committed change is not the procedure's"), M2M_R_INTERNAL;
	if (tre_switch_completing(t, p))
		return snprintf(why, len, "the change's completion could not be signed"), M2M_R_INTERNAL;
	m2m_info("provisioning: telling %s again that the change to %s is complete", t->s.drf, p->sho);
	return M2M_OK;
}

static m2m_reason start(tre *t, tre_provision_state *p, char *why, size_t len)
{
	tre_change c;
	int open = tre_change_load(t, &c);
	if (open < 0)
		return snprintf(why, len, "the change of subscription could not be read"), M2M_R_INTERNAL;
	if (open == 0 && c.committed)
		return resume_completing(t, p, &c, why, len);
	m2m_reason r = may_start(t, why, len);
	if (r)
		return r;
	tre_provision_free(p);
	p->has_change = open == 0;
	memcpy(p->change_id, c.change_id, TRE_CHANGE_ID_LEN);
	m2m_random(p->nonce, sizeof p->nonce);
	uint8_t *body = NULL;
	size_t blen = 0;
	if (tre_discovery_der(t, p->nonce, p->has_change ? p->change_id : NULL, &body, &blen) ||
	    tre_provision_step(p, t->s.drf, M2M_MSG_DISCOVERY_REQUEST, body, blen))
		return snprintf(why, len, "the discovery could not be signed"), M2M_R_INTERNAL;
	p->state = M2M_PROV_DISCOVERING;
	m2m_info("provisioning: discovery at %s for M2ME %s%s", t->s.drf, t->s.m2me_id,
		 p->has_change ? " (a change of subscription)" : "");
	return M2M_OK;
}

/* ---- answers -------------------------------------------------------------------------------- */

static m2m_reason on_error(tre_provision_state *p, const M2M_ERROR_REPORT *er, char *why, size_t len)
{
	long reason = ASN1_ENUMERATED_get(er->reason);
	if (reason <= 0 || !m2m_reason_name((m2m_reason)reason))
		return snprintf(why, len, "the error carries no known reason"), M2M_R_BAD_BODY;
	int drf = p->state == M2M_PROV_DISCOVERING || p->state == M2M_PROV_COMPLETING;
	m2m_warn("provisioning failed while %s: %s refused with %s", state_names[p->state], drf ? "the DRF" : p->dpf,
		 m2m_reason_name((m2m_reason)reason));
	tre_provision_fail(p, (m2m_reason)reason);
	return M2M_OK;
}

static m2m_reason on_ticket(tre *t, tre_provision_state *p, const M2M_SIGNED_OBJECT *so, char *why, size_t len)
{
	m2m_reason r = tre_ticket_accept(t, so, p, why, len);
	if (r)
		return r;
	m2m_random(p->nonce2, sizeof p->nonce2);
	uint8_t *body = NULL;
	size_t blen = 0;
	if (tre_order_der(t, p, &body, &blen) || tre_provision_step(p, p->dpf, M2M_MSG_MCIM_REQUEST, body, blen))
		return snprintf(why, len, "the order could not be signed"), M2M_R_INTERNAL;
	p->state = M2M_PROV_ORDERING;
	m2m_info("provisioning: ticket of %s for SHO %s; ordering the MCIM from %s", t->s.drf, p->sho, p->dpf);
	return M2M_OK;
}

static m2m_reason on_package(tre *t, tre_provision_state *p, const M2M_MCIM_PACKAGE *pkg, char *why, size_t len)
{
	M2M_MCIM *mcim = NULL;
	m2m_reason r = tre_package_open(t, pkg, p, &mcim, why, len);
	if (r)
		return r;
	memcpy(p->mcim_id, ASN1_STRING_get0_data(pkg->mcim_id), TRE_MCIM_ID_LEN);
	char reason[200];
	p->refusal = tre_package_install(t, mcim, p, reason, sizeof reason);
	tre_mcim_free(mcim);
	if (p->refusal)
		m2m_warn("provisioning: the package of %s is refused: %s", p->sho, reason);
	uint8_t *body = NULL;
	size_t blen = 0;
	if (tre_install_result_der(t, p, &body, &blen) ||
	    tre_provision_step(p, p->dpf, M2M_MSG_INSTALL_RESULT, body, blen))
		return snprintf(why, len, "the install result could not be signed"), M2M_R_INTERNAL;
	p->state = M2M_PROV_CONFIRMING;
	return M2M_OK;
}

static m2m_reason on_ack(tre *t, tre_provision_state *p, const M2M_INSTALL_ACK *a, char *why, size_t len)
{
	if (ASN1_STRING_length(a->mcim_id) != TRE_MCIM_ID_LEN ||
	    memcmp(ASN1_STRING_get0_data(a->mcim_id), p->mcim_id, TRE_MCIM_ID_LEN))
		return snprintf(why, len, "the acknowledgement is for another MCIM"), M2M_R_BAD_BODY;
	if (p->refusal) {
		tre_provision_fail(p, p->refusal);
		return M2M_OK;
	}
	if (p->has_change)
		return tre_switch_begin(t, p);
	p->state = M2M_PROV_DONE;
	tre_provision_no_step(p);
	m2m_info("provisioning done: the MCIM of %s is confirmed", p->sho);
	return M2M_OK;
}

/* The DRF has the change's completion: the change is closed; the old MCIM stays inactive until
 * its owner's delete. */
static m2m_reason on_change_ack(tre *t, tre_provision_state *p, const M2M_CHANGE_ACK *a, char *why, size_t len)
{
	if (ASN1_STRING_length(a->change_id) != TRE_CHANGE_ID_LEN ||
	    memcmp(ASN1_STRING_get0_data(a->change_id), p->change_id, TRE_CHANGE_ID_LEN))
		return snprintf(why, len, "the acknowledgement is for another change"), M2M_R_BAD_BODY;
	if (tre_change_close(t))
		return snprintf(why, len, "the change could not be closed"), M2M_R_INTERNAL;
	p->state = M2M_PROV_DONE;
	tre_provision_no_step(p);
	m2m_info("change of subscription complete: the MCIM of %s is the active one", p->sho);
	return M2M_OK;
}

/* The message type the state waits for. */
static int expected(m2m_provision_state s)
{
	return s == M2M_PROV_DISCOVERING ? M2M_MSG_DISCOVERY_RESPONSE
	       : s == M2M_PROV_ORDERING  ? M2M_MSG_MCIM_PACKAGE
	       : s == M2M_PROV_CONFIRMING ? M2M_MSG_INSTALL_ACK
	       : s == M2M_PROV_COMPLETING ? M2M_MSG_CHANGE_COMPLETE_ACK
					  : -1;
}

static m2m_reason dispatch_answer(tre *t, tre_provision_state *p, int type, const void *body, char *why, size_t len)
{
	if (type == M2M_MSG_ERROR)
		return on_error(p, body, why, len);
	if (type == M2M_MSG_DISCOVERY_RESPONSE)
		return on_ticket(t, p, body, why, len);
	if (type == M2M_MSG_MCIM_PACKAGE)
		return on_package(t, p, body, why, len);
	if (type == M2M_MSG_CHANGE_COMPLETE_ACK)
		return on_change_ack(t, p, body, why, len);
	return on_ack(t, p, body, why, len);
}

static m2m_reason on_answer(tre *t, tre_provision_state *p, const M2M_RELAY_RESPONSE *a, char *why, size_t len)
{
	int type = a->message_type, wanted = expected(p->state);
	const char *name = m2m_msgtype_name(type);
	if (wanted < 0 || (type != wanted && type != M2M_MSG_ERROR))
		return snprintf(why, len, "%s: %s is not the answer awaited", state_names[p->state], name ? name : "an unknown type"),
		       M2M_R_UNEXPECTED_MESSAGE;
	void *body = tre_body_decode(type, ASN1_STRING_get0_data(a->body), (size_t)ASN1_STRING_length(a->body));
	if (!body)
		return snprintf(why, len, "the answer is not the DER of a %s", name), M2M_R_BAD_BODY;
	m2m_reason r = dispatch_answer(t, p, type, body, why, len);
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	return r;
}

/* ---- the request ---------------------------------------------------------------------------- */

static M2M_TRE_PROVISION_NEXT *next_of(const tre_provision_state *p)
{
	M2M_TRE_PROVISION_NEXT *n = M2M_TRE_PROVISION_NEXT_new();
	ASN1_ENUMERATED_set(n->state, p->state);
	const unsigned char *q = p->step;
	if (p->step_len)
		n->step = d2i_M2M_RELAY_STEP(NULL, &q, (long)p->step_len);
	if (p->state == M2M_PROV_FAILED) {
		n->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(n->reason, p->reason);
	}
	if (p->card_len) {
		n->card = M2M_APDU_COMMAND_new();
		ASN1_OCTET_STRING_set(n->card->apdu, p->card, (int)p->card_len);
	}
	return n;
}

/* Whether treProvision {} in this state starts the procedure: after a failure or before the
 * first, and once done only for an open change (tre_change_load: 0 open). */
static int starts(m2m_provision_state state, int change)
{
	return state == M2M_PROV_IDLE || state == M2M_PROV_FAILED || (state == M2M_PROV_DONE && change == 0);
}

/* Alternative 3b starts when no procedure is under way and no change of 1a is open, even after
 * a finished one (done): 0 with the change of the latest trigger in *u, 1 not, -1. */
static int starts_uicc(tre *t, m2m_provision_state state, int change, tre_uicc_change *u)
{
	if (change != 1 || (state != M2M_PROV_IDLE && state != M2M_PROV_FAILED && state != M2M_PROV_DONE))
		return change < 0 ? -1 : 1;
	return tre_uicc_change_open(t, u);
}

static m2m_reason run(tre *t, const M2M_TRE_PROVISION *q, tre_provision_state *p, char *why, size_t len)
{
	tre_change c;
	tre_uicc_change u;
	if (tre_provision_load(t, p))
		return snprintf(why, len, "the procedure's state could not be read"), M2M_R_INTERNAL;
	int change = tre_change_load(t, &c), uicc = tre_uicc_state(p->state) ? 1 : starts_uicc(t, p->state, change, &u);
	m2m_reason r = M2M_OK;
	if (change < 0 || uicc < 0)
		return snprintf(why, len, "the open change could not be read"), M2M_R_INTERNAL;
	if (tre_uicc_state(p->state))
		r = tre_uicc_next(t, q, p, why, len);
	else if (q->card)
		return snprintf(why, len, "%s: no card step was asked", state_names[p->state]), M2M_R_UNEXPECTED_MESSAGE;
	else if (q->answer)
		r = on_answer(t, p, q->answer, why, len);
	else if (uicc == 0)
		r = tre_uicc_start(t, p, &u, why, len);
	else if (starts(p->state, change))
		r = start(t, p, why, len);
	else
		return M2M_OK;  /* the current step again, unchanged */
	if (r == M2M_OK && tre_provision_save(t, p))
		r = M2M_R_INTERNAL, snprintf(why, len, "the procedure's state could not be stored");
	return r;
}

/* All or nothing: a refusal leaves the state (and any install) as it was. */
m2m_reason tre_provision_run(tre *t, const M2M_TRE_PROVISION *q, M2M_TRE_PROVISION_NEXT **next, char *why, size_t len)
{
	tre_provision_state p;
	if (tre_savepoint(t->db))
		return snprintf(why, len, "no transaction"), M2M_R_INTERNAL;
	m2m_reason r = run(t, q, &p, why, len);
	if (tre_release(t->db, r != M2M_OK) && r == M2M_OK)
		r = M2M_R_INTERNAL, snprintf(why, len, "the procedure's state could not be stored");
	if (r == M2M_OK)
		*next = next_of(&p);
	tre_provision_free(&p);
	return r;
}

static void answer(tre *t, m2m_request *req)
{
	char why[256];
	M2M_TRE_PROVISION_NEXT *next = NULL;
	m2m_reason r = tre_provision_run(t, req->env.body, &next, why, sizeof why);
	m2m_answer(t->node, req, r, M2M_MSG_TRE_PROVISION_NEXT, next, why);
	M2M_TRE_PROVISION_NEXT_free(next);
}

static int startable(tre *t)
{
	tre_change c;
	int state = tre_provision_state_now(t);
	return state >= 0 && starts((m2m_provision_state)state, tre_change_load(t, &c));
}

/* A start fetches the agency's CRL first, so that a DPF revoked since the last start is refused;
 * the other steps fetch one only when the CRL held is no longer current. */
void tre_provision(tre *t, m2m_request *req)
{
	if (tre_refuse_unless_m2me(t, req))
		return;
	const M2M_TRE_PROVISION *q = req->env.body;
	tre_with_crl(t, req, !q->answer && startable(t), answer);
}
