/*
 * uiccRelease {changeId, iccid, imsi} from the DRF (Alternative 3b, docs/alt3b.md, contract step
 * 12; dpf.c lets only the configured drf in, notAuthorised otherwise): the device attached with
 * the new operator's IMSI from its card and the TRE reported the switch, so this operator's IMSI
 * on that card ends. In the request's step, all or nothing (hss_deactivate_in): the subscriber
 * record is deleted (K and OPc erased, not flagged; the location purged; audited), the card's OTA
 * keysets at this operator are deleted and its OTA jobs cancelled; the change becomes released
 * with the ICCID, audited with the changeId (mno-admin show tells by which change), and
 * uiccReleaseAck {changeId} is sent once that is committed. The same release again gets the same
 * ack. Refusals, which change nothing:
 *
 *   notFound    no change of this operator's UICC with that changeId and that IMSI; or the card
 *               is not that IMSI's (the record names another ICCID, or the ICCID is another
 *               subscriber's card here); or a released change named another card;
 *   wrongState  the changeId names a change of an MCIM (Alternative 1a: changeRelease ends it);
 *   badBody     the fields break the module's constraints.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/provision.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

typedef struct release {
	uint8_t change_id[DPF_CHANGE_ID_LEN];
	char iccid[HSS_ICCID_MAX + 1], imsi[HSS_IMSI_MAX + 1];
	char id_hex[2 * DPF_CHANGE_ID_LEN + 1];
} release;

static m2m_reason read_release(const M2M_UICC_RELEASE *w, release *q, char *why, size_t len)
{
	if (m2m_read_octets(w->change_id, q->change_id, DPF_CHANGE_ID_LEN) ||
	    m2m_digits(w->iccid, q->iccid, sizeof q->iccid, 18, HSS_ICCID_MAX) ||
	    m2m_digits(w->imsi, q->imsi, sizeof q->imsi, 6, HSS_IMSI_MAX)) {
		snprintf(why, len, "uiccRelease needs a 16-octet changeId, an ICCID of 18 to 20 digits and an IMSI");
		return M2M_R_BAD_BODY;
	}
	m2m_hex(q->change_id, DPF_CHANGE_ID_LEN, q->id_hex);
	return M2M_OK;
}

/* The change the release names, into u: M2M_OK, notFound, wrongState or internalError. */
static m2m_reason find_change(dpf_context *dpf, const release *q, dpf_uicc_change *u, char *why, size_t len)
{
	dpf_change mcim;
	memset(&mcim, 0, sizeof mcim);
	int rc = dpf_uicc_change_find(dpf->db, q->change_id, u);
	int of_mcim = rc == 1 ? dpf_change_find(dpf->db, q->change_id, &mcim) : 1;
	dpf_change_clear(&mcim);
	if (rc < 0 || of_mcim < 0) {
		snprintf(why, len, "the changes cannot be read");
		return M2M_R_INTERNAL;
	}
	if (of_mcim == 0) {
		snprintf(why, len, "change %s is of an MCIM, not of a UICC: changeRelease ends it", q->id_hex);
		return M2M_R_WRONG_STATE;
	}
	if (rc || strcmp(u->imsi, q->imsi)) {
		snprintf(why, len, "%s consented to no change %s of the UICC of IMSI %s", dpf->entity, q->id_hex, q->imsi);
		return M2M_R_NOT_FOUND;
	}
	if (u->state == DPF_UICC_RELEASED && strcmp(u->iccid, q->iccid)) {
		snprintf(why, len, "change %s released the card ICCID %s, not %s", q->id_hex, u->iccid, q->iccid);
		return M2M_R_NOT_FOUND;
	}
	return M2M_OK;
}

/* The card is the IMSI's: its record names it, or names none and no other record does. */
static m2m_reason same_card(dpf_context *dpf, const release *q, char *why, size_t len)
{
	hss_subscriber s;
	char other[HSS_IMSI_MAX + 1] = "";
	int rc = hss_subscriber_load(dpf->db, NULL, q->imsi, &s);
	int held = rc == 0 && !s.iccid[0] ? hss_imsi_of_iccid(dpf->db, q->iccid, other) : 1;
	if (rc < 0 || held < 0) {
		snprintf(why, len, "the record of IMSI %s cannot be read", q->imsi);
		return M2M_R_INTERNAL;
	}
	if (rc > 0 || (s.iccid[0] && strcmp(s.iccid, q->iccid)) || (held == 0 && strcmp(other, q->imsi))) {
		snprintf(why, len, "card ICCID %s is not the card of IMSI %s here", q->iccid, q->imsi);
		return M2M_R_NOT_FOUND;
	}
	return M2M_OK;
}

/* consented -> released: IMSI deactivated, the card's keys at this operator gone. */
static m2m_reason deactivate(dpf_context *dpf, const release *q, dpf_uicc_change *u, char *why, size_t len)
{
	char reason[128], err[200] = "";
	m2m_reason r = same_card(dpf, q, why, len);
	if (r != M2M_OK)
		return r;
	snprintf(reason, sizeof reason, "moved to %s (change %s)", u->to_sho, q->id_hex);
	snprintf(u->iccid, sizeof u->iccid, "%s", q->iccid);
	if (hss_deactivate_in(dpf->db, q->imsi, q->iccid, DPF_ACTOR, reason, err, sizeof err) != HSS_DONE ||
	    dpf_uicc_change_released(dpf->db, u) ||
	    hss_audit(dpf->db, DPF_ACTOR, q->imsi, "change",
		      "change %s (UICC) to %s complete: IMSI deactivated on card ICCID %s; K, OPc and its OTA keysets here"
		      " erased", q->id_hex, u->to_sho, q->iccid)) {
		snprintf(why, len, "the release of change %s cannot be recorded%s%s", q->id_hex, err[0] ? ": " : "", err);
		return M2M_R_INTERNAL;
	}
	m2m_info("change %s: the device with IMEI %s is %s's; IMSI %s on card ICCID %s deactivated", q->id_hex, u->m2me,
		 u->to_sho, q->imsi, q->iccid);
	return M2M_OK;
}

void dpf_uicc_release(dpf_context *dpf, m2m_request *req)
{
	release q;
	dpf_uicc_change u;
	char why[300] = "";
	memset(&q, 0, sizeof q);
	memset(&u, 0, sizeof u);
	m2m_reason r = read_release(req->env.body, &q, why, sizeof why);
	if (r == M2M_OK)
		r = find_change(dpf, &q, &u, why, sizeof why);
	if (r == M2M_OK && u.state == DPF_UICC_CONSENTED)
		r = deactivate(dpf, &q, &u, why, sizeof why);
	dpf_release_answer(dpf, req, M2M_MSG_UICC_RELEASE_ACK, q.change_id, r, why);
}
