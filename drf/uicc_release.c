/*
 * The end of an Alternative 3b change (docs/alt3b.md, contract step 11): once the TRE reported the
 * device switched and attached with B's IMSI (`completed`, uicc_complete.c), the old SHO's DPF is
 * told uiccRelease {changeId, iccid, imsi A} so that A deactivates its IMSI; from the completion's
 * step and from the tick every change_retry_seconds until uiccReleaseAck {changeId}: `released`
 * (drf_pending_acked, as 1a's changeRelease). A deactivates only after the switch: the
 * device is never left without an active subscription.
 */
#include "drf.h"

#include "log/log.h"

static void on_released(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	static const drf_ack_step release = {DRF_CHANGE_COMPLETED, DRF_CHANGE_RELEASED, M2M_MSG_UICC_RELEASE_ACK,
					     "uiccRelease"};
	drf_change c;
	if (drf_pending_acked(arg, resp, reason, &release, &c))
		m2m_info("change of TRE %s from %s to %s released: IMSI %s deactivated by %s, closed", c.tre, c.from_sho,
			 c.to_sho, c.a_imsi, c.from_sho);
}

int drf_uicc_release(drf *d, drf_pending *p, const drf_change *c)
{
	drf_uicc u;
	M2M_UICC_RELEASE *q = M2M_UICC_RELEASE_new();
	int made = q && !drf_uicc_load(d, c->id, &u) && ASN1_OCTET_STRING_set(q->change_id, c->id, DRF_ID_LEN) &&
		   !m2m_set_digits(&q->iccid, u.iccid) && !m2m_set_digits(&q->imsi, c->a_imsi);
	return drf_pending_call(p, c->from_dpf, M2M_MSG_UICC_RELEASE, q, made, on_released);
}
