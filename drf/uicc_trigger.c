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

int drf_uicc_trigger(drf *d, drf_pending *p, const drf_change *c)
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
	return drf_pending_call(p, c->from_sho, M2M_MSG_TRE_TRIGGER, t, t != NULL, on_triggered);
}
