/*
 * uiccChangeComplete (docs/alt3b.md, contract step 10): a SignedObject by the TRE over
 * UiccChangeResult {changeId, tre, iccid, imsi, result}, relayed once the device attached after
 * the card's SWITCH (or its ROLLBACK). Checked as the registration is (uicc_register.c: the TRE's
 * signature, the change of that TRE and of kind uicc), then:
 *   iccid is the card registered for the change                       else notAuthorised
 *   switched: imsi is B's, the package delivered (or the same result
 *     again once completed or released)                               else notAuthorised, wrongState
 *   rolledBack: imsi is A's, the change triggered, ordering or
 *     delivered (a card was registered)                               else notAuthorised, wrongState
 * switched: `completed` and the registration names the new SHO and its DPF (as 1a's completion
 * moves it; no MCIM: the device runs on its card), in the request's step; uiccRelease then goes
 * to A (uicc_release.c). rolledBack: back to `triggered`, open for a new registration with a new
 * card nonce. Both answered uiccChangeCompleteAck {changeId}; the same again gets the same ack.
 */
#include "drf.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

typedef struct result {
	uint8_t id[DRF_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	char iccid[DRF_ICCID_MAX + 1];
	char imsi[DRF_IMSI_MAX + 1];
	int switched;
} result;

static m2m_reason read_result(drf *d, const M2M_SIGNED_OBJECT *so, result *x, char *why, size_t len)
{
	m2m_tre_signed s;
	m2m_reason r = drf_tre_signed(d, so, ASN1_ITEM_rptr(M2M_UICC_CHANGE_RESULT), M2M_TRE_FIELD(M2M_UICC_CHANGE_RESULT), &s);
	const M2M_UICC_CHANGE_RESULT *q = s.value;
	int value = -1;
	if (r != M2M_OK)
		snprintf(why, len, "%s", s.why);
	else if (m2m_read_octets(q->change_id, x->id, DRF_ID_LEN) || m2m_read_name(q->tre, x->tre, M2M_ENTITY_MAX) ||
		 m2m_digits(q->iccid, x->iccid, sizeof x->iccid, DRF_ICCID_MIN, DRF_ICCID_MAX) ||
		 m2m_digits(q->imsi, x->imsi, sizeof x->imsi, 6, DRF_IMSI_MAX) ||
		 m2m_read_enum(q->result, M2M_UICC_ROLLED_BACK, &value)) {
		snprintf(why, len, "a UiccChangeResult has a 16-octet changeId, a tre, an ICCID, an IMSI and a result");
		r = M2M_R_BAD_BODY;
	}
	x->switched = value == M2M_UICC_SWITCHED;
	m2m_tre_signed_clear(&s);
	return r;
}

/* Whether the result may be taken (*repeat: it was taken already): M2M_OK, or the reason with why. */
static m2m_reason acceptable(drf *d, const result *x, const drf_change *c, int *repeat, char *why, size_t len)
{
	drf_uicc u;
	int rc = drf_uicc_load(d, c->id, &u);
	const char *expected = x->switched ? u.b_imsi : c->a_imsi;
	drf_change_state s = c->state;
	if (rc || strcmp(u.iccid, x->iccid)) {
		snprintf(why, len, rc < 0 ? "the card of the change cannot be read" : "the change of TRE %s registered %s%s, not %s",
			 x->tre, rc ? "no card" : "the card of ICCID ", rc ? "" : u.iccid, x->iccid);
		return rc < 0 ? M2M_R_INTERNAL : M2M_R_NOT_AUTHORISED;
	}
	if (x->switched ? s != DRF_CHANGE_DELIVERED && s != DRF_CHANGE_COMPLETED && s != DRF_CHANGE_RELEASED
			: s != DRF_CHANGE_DELIVERED && s != DRF_CHANGE_ORDERING && s != DRF_CHANGE_TRIGGERED) {
		snprintf(why, len, "the change of TRE %s is %s: it cannot have %s", x->tre, drf_change_state_name(s),
			 x->switched ? "switched" : "rolled back");
		return M2M_R_WRONG_STATE;
	}
	if (strcmp(expected, x->imsi)) {
		snprintf(why, len, "TRE %s says the device %s with IMSI %s, not %s's %s", x->tre,
			 x->switched ? "switched" : "rolled back", x->imsi, x->switched ? c->to_sho : c->from_sho, expected);
		return M2M_R_NOT_AUTHORISED;
	}
	*repeat = s != DRF_CHANGE_DELIVERED;  /* switched: completed or released; rolled back: back already */
	return M2M_OK;
}

/* The registration names the new SHO and its DPF, without an MCIM: 0 or -1. */
static int move_registration(drf *d, const drf_change *c)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "UPDATE drf_registration SET sho = ?2, dpf = ?3, mcim_id = NULL,"
						    " provisioned_at = NULL WHERE tre = ?1");
	const char *text[] = {c->tre, c->to_sho, c->to_dpf};
	for (int i = 0; st && i < 3; i++)
		sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_TRANSIENT);
	return m2m_store_run(d->db, st) || sqlite3_changes(d->db) != 1 ? -1 : 0;
}

void drf_uicc_change_complete(drf *d, m2m_request *req)
{
	char why[300];
	result x;
	drf_change c;
	int repeat = 0;
	m2m_reason r = read_result(d, req->env.body, &x, why, sizeof why);
	if (r == M2M_OK)
		r = drf_uicc_change_of(d, x.id, x.tre, &c, why, sizeof why);
	if (r == M2M_OK)
		r = acceptable(d, &x, &c, &repeat, why, sizeof why);
	if (r != M2M_OK) {
		m2m_refuse(d->node, req, r, "%s", why);
		return;
	}
	if (!repeat) {
		c.state = x.switched ? DRF_CHANGE_COMPLETED : DRF_CHANGE_TRIGGERED;
		if (drf_change_save(d, &c, time(NULL)) || (x.switched && move_registration(d, &c))) {
			m2m_refuse(d->node, req, M2M_R_INTERNAL, "the result of the change of TRE %s cannot be stored", c.tre);
			return;
		}
		m2m_info("change of TRE %s: %s IMSI %s%s", c.tre, x.switched ? "switched, attached with" : "rolled back to",
			 x.imsi, x.switched ? "; the old SHO releases its IMSI" : "; open for a new registration");
	}
	drf_reply_change_id(d, req, M2M_MSG_UICC_CHANGE_COMPLETE_ACK, c.id);
	drf_pending *p = x.switched && !repeat ? drf_pending_get(d, c.id) : NULL;
	if (p && drf_uicc_release(d, p, &c))
		drf_pending_retry_later(p);
}
