/*
 * The trigger of Alternative 3b (docs/alt3b.md, TR claim 2; contract step 4): once the old SHO
 * consented with the IMSI of the device's UICC, the change is `triggering` and the tick sends
 * treTrigger {imsi A, SignedObject by the DRF over TreActivate {changeId, tre, drf, nonce,
 * issuedAt}} to SHO A, the only one that can reach the device; A -> VNO -> M2ME -> TRE.
 *
 * Every attempt signs a fresh 16-octet nonce, recorded in drf_trigger_nonce (committed in the
 * tick's own transaction) before the trigger leaves: the TRE refuses a nonce it saw (replayed),
 * and its registration must name one the DRF issued for the change. treTriggerAck {changeId}:
 * `triggered`, in the callback step. A refusal or silence: again after change_retry_seconds, with
 * a new nonce. After a restart the tick finds the change `triggering` and triggers again.
 *
 * A change the device has left waiting (`triggered`: no registration; `delivered`: no completion)
 * for uicc_wake_seconds is triggered again the same way, its state kept: the M2ME then runs its
 * TRE's procedure again, which resumes where the TRE is (a failed procedure, a device whose owner
 * never asked it again). The ack restarts the wait.
 */
#include "drf.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <string.h>

static void on_triggered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	static const drf_ack_step trigger = {DRF_CHANGE_TRIGGERING, DRF_CHANGE_TRIGGERED, M2M_MSG_TRE_TRIGGER_ACK,
					     "trigger (a new nonce next)"};
	drf_change c;
	if (drf_pending_acked(arg, resp, reason, &trigger, &c))
		m2m_info("change of TRE %s to %s: triggered; the TRE registers its card next", c.tre, c.to_sho);
}

/* A fresh nonce for the change, committed: 0 or -1. */
static int new_nonce(drf *d, const drf_change *c, uint8_t nonce[DRF_CARD_NONCE_LEN], int64_t now)
{
	m2m_random(nonce, DRF_CARD_NONCE_LEN);
	if (m2m_store_begin(d->db))
		return -1;
	if (drf_trigger_nonce_insert(d, c->id, nonce, now) || m2m_store_commit(d->db)) {
		m2m_store_rollback(d->db);
		return -1;
	}
	return 0;
}

/* TreTrigger {imsi A, TreActivate signed by the DRF}; NULL when it cannot be made. */
static M2M_TRE_TRIGGER *make_trigger(drf *d, const drf_change *c, const uint8_t nonce[DRF_CARD_NONCE_LEN], int64_t now)
{
	M2M_TRE_ACTIVATE *a = M2M_TRE_ACTIVATE_new();
	M2M_TRE_TRIGGER *t = M2M_TRE_TRIGGER_new();
	int ok = a && t && ASN1_OCTET_STRING_set(a->change_id, c->id, DRF_ID_LEN) && !m2m_set_str(a->tre, c->tre) &&
		 !m2m_set_str(a->drf, d->entity) && ASN1_OCTET_STRING_set(a->nonce, nonce, DRF_CARD_NONCE_LEN) &&
		 ASN1_GENERALIZEDTIME_set(a->issued_at, (time_t)now) && !m2m_set_digits(&t->imsi, c->a_imsi) &&
		 !m2m_identity_sign_item(d->id, ASN1_ITEM_rptr(M2M_TRE_ACTIVATE), a, t->trigger);
	M2M_TRE_ACTIVATE_free(a);
	if (!ok) {
		M2M_TRE_TRIGGER_free(t);
		return NULL;
	}
	return t;
}

/* The trigger with a fresh nonce, its answer to cb. */
static int send(drf *d, drf_pending *p, const drf_change *c, m2m_response_cb cb)
{
	uint8_t nonce[DRF_CARD_NONCE_LEN];
	int64_t now = time(NULL);
	if (p->in_flight)
		return 0;
	if (!m2m_identity_ready(d->id) || new_nonce(d, c, nonce, now)) {
		m2m_warn("trigger of TRE %s: %s", c->tre,
			 m2m_identity_ready(d->id) ? "its nonce cannot be stored" : "the DRF holds no certificate yet");
		return -1;
	}
	M2M_TRE_TRIGGER *t = make_trigger(d, c, nonce, now);
	m2m_info("change of TRE %s to %s: trigger through %s for IMSI %s", c->tre, c->to_sho, c->from_sho, c->a_imsi);
	return drf_pending_call(p, c->from_sho, M2M_MSG_TRE_TRIGGER, t, t != NULL, cb);
}

int drf_uicc_trigger(drf *d, drf_pending *p, const drf_change *c)
{
	return send(d, p, c, on_triggered);
}

/* The ack of a wake-up: the change saved as it is, so that it waits uicc_wake_seconds again. */
static void on_woken(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	drf_pending *p = arg;
	drf *d = p->d;
	drf_change c;
	char why[300];
	if (drf_change_load(d, p->id, &c) || (c.state != DRF_CHANGE_TRIGGERED && c.state != DRF_CHANGE_DELIVERED)) {
		drf_pending_done(p);  /* the device went on meanwhile */
		return;
	}
	if (drf_acked(resp, M2M_MSG_TRE_TRIGGER_ACK, p->id) && !drf_change_save(d, &c, time(NULL))) {
		m2m_info("change of TRE %s to %s: the device, left waiting, was triggered again", c.tre, c.to_sho);
		drf_pending_done(p);
		return;
	}
	m2m_warn("wake-up of TRE %s not done: %s; again in %ds", c.tre,
		 m2m_call_failure(p->to, resp, reason, why, sizeof why), d->s.change_retry_seconds);
	drf_pending_retry_later(p);
}

int drf_uicc_wake(drf *d, drf_pending *p, const drf_change *c)
{
	return send(d, p, c, on_woken);
}
