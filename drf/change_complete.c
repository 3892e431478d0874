/*
 * The end of a change of subscription (docs/alt1a-change.md steps 5 and 6).
 *
 * changeComplete: a SignedObject over ChangeComplete {changeId, tre, sho, mcimId} by the TRE,
 * relayed once its M2ME attached with the new MCIM; checked as a discovery is (TRE certificate,
 * revocation, CN = tre). For the consented change of that TRE, for its new SHO: the change is
 * `complete` and the registration names the new SHO and its DPF (provisioned with the new MCIM),
 * in the request's step; answer changeCompleteAck {changeId}. Said again for the same change and
 * MCIM, it is acknowledged again.
 *
 * Then the old SHO releases: changeRelease {changeId, tre, mcimId = its MCIM} to its DPF, from the
 * step and again from the tick every change_retry_seconds until changeReleaseAck: `released`.
 */
#include "drf.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

/* The signed ChangeComplete's fields: M2M_OK, or the reason with why. */
static m2m_reason read_complete(drf *d, const M2M_SIGNED_OBJECT *so, uint8_t id[DRF_ID_LEN], char tre[M2M_ENTITY_MAX + 1],
				char sho[M2M_ENTITY_MAX + 1], uint8_t mcim_id[DRF_ID_LEN], char *why, size_t len)
{
	m2m_tre_signed s;
	m2m_reason r = drf_tre_signed(d, so, ASN1_ITEM_rptr(M2M_CHANGE_COMPLETE), M2M_TRE_FIELD(M2M_CHANGE_COMPLETE), &s);
	const M2M_CHANGE_COMPLETE *c = s.value;
	if (r != M2M_OK)
		snprintf(why, len, "%s", s.why);
	else if (m2m_read_octets(c->change_id, id, DRF_ID_LEN) || m2m_read_name(c->tre, tre, M2M_ENTITY_MAX) ||
		 m2m_read_name(c->sho, sho, M2M_ENTITY_MAX) || m2m_read_octets(c->mcim_id, mcim_id, DRF_ID_LEN))
		snprintf(why, len, "a ChangeComplete has a 16-octet changeId, a tre, a sho and a 16-octet mcimId"),
			r = M2M_R_BAD_BODY;
	m2m_tre_signed_clear(&s);
	return r;
}

/* The change the TRE speaks of, in a state where it may complete: M2M_OK (repeat set when it has
 * completed already with the same MCIM), or the reason with why. */
static m2m_reason completable(drf *d, const uint8_t id[DRF_ID_LEN], const char *tre, const char *sho,
			      const uint8_t mcim_id[DRF_ID_LEN], drf_change *c, int *repeat, char *why, size_t len)
{
	int rc = drf_change_load(d, id, c);
	if (rc < 0) {
		snprintf(why, len, "the changes of %s cannot be read", tre);
		return M2M_R_INTERNAL;
	}
	if (rc > 0 || strcmp(c->tre, tre)) {
		snprintf(why, len, "no change of subscription of TRE %s has that changeId", tre);
		return M2M_R_NOT_FOUND;
	}
	if (strcmp(c->to_sho, sho)) {
		snprintf(why, len, "the change of TRE %s is to %s, not %s", tre, c->to_sho, sho);
		return M2M_R_WRONG_SHO;
	}
	if (c->kind == DRF_KIND_UICC) {
		snprintf(why, len, "the change of TRE %s re-credentials its UICC: it ends with uiccChangeComplete", tre);
		return M2M_R_WRONG_STATE;
	}
	*repeat = (c->state == DRF_CHANGE_COMPLETE || c->state == DRF_CHANGE_RELEASED) &&
		  !memcmp(c->b_mcim_id, mcim_id, DRF_ID_LEN);
	if (c->state != DRF_CHANGE_CONSENTED && !*repeat) {
		snprintf(why, len, "the change of TRE %s to %s is %s, not consented", tre, sho, drf_change_state_name(c->state));
		return M2M_R_WRONG_STATE;
	}
	return M2M_OK;
}

/* The registration names the new SHO, provisioned with its MCIM: 0 or -1. */
static int move_registration(drf *d, const drf_change *c, int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "UPDATE drf_registration SET sho = ?2, dpf = ?3, mcim_id = ?4,"
						    " provisioned_at = ?5 WHERE tre = ?1");
	if (!st)
		return -1;
	const char *text[] = {c->tre, c->to_sho, c->to_dpf};
	for (int i = 0; i < 3; i++)
		sqlite3_bind_text(st, i + 1, text[i], -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, c->b_mcim_id, DRF_ID_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now);
	return m2m_store_run(d->db, st) || sqlite3_changes(d->db) != 1 ? -1 : 0;
}

void drf_change_complete(drf *d, m2m_request *req)
{
	char why[256], tre[M2M_ENTITY_MAX + 1], sho[M2M_ENTITY_MAX + 1];
	uint8_t id[DRF_ID_LEN], mcim_id[DRF_ID_LEN];
	int64_t now = time(NULL);
	int repeat = 0;
	drf_change c;
	m2m_reason r = read_complete(d, req->env.body, id, tre, sho, mcim_id, why, sizeof why);
	if (r == M2M_OK)
		r = completable(d, id, tre, sho, mcim_id, &c, &repeat, why, sizeof why);
	if (r != M2M_OK) {
		m2m_refuse(d->node, req, r, "%s", why);
		return;
	}
	if (repeat) {
		drf_reply_change_id(d, req, M2M_MSG_CHANGE_COMPLETE_ACK, c.id);
		return;
	}
	c.state = DRF_CHANGE_COMPLETE;
	c.has_b_mcim = 1;
	memcpy(c.b_mcim_id, mcim_id, DRF_ID_LEN);
	if (drf_change_save(d, &c, now) || move_registration(d, &c, now)) {
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the completion of the change of TRE %s cannot be stored", tre);
		return;
	}
	m2m_info("change of TRE %s complete: now with %s (DPF %s); %s to release its MCIM", tre, c.to_sho, c.to_dpf,
		 c.from_sho);
	drf_reply_change_id(d, req, M2M_MSG_CHANGE_COMPLETE_ACK, c.id);
	drf_pending *p = drf_pending_get(d, c.id);
	if (p && drf_change_release(d, p, &c))
		drf_pending_retry_later(p);
}

/* ---- changeRelease to the old SHO ------------------------------------------------------------------ */

static void on_released(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	static const drf_ack_step release = {DRF_CHANGE_COMPLETE, DRF_CHANGE_RELEASED, M2M_MSG_CHANGE_RELEASE_ACK, "release"};
	drf_change c;
	if (drf_pending_acked(arg, resp, reason, &release, &c))
		m2m_info("change of TRE %s from %s to %s released: closed", c.tre, c.from_sho, c.to_sho);
}

int drf_change_release(drf *d, drf_pending *p, const drf_change *c)
{
	M2M_CHANGE_RELEASE *q = M2M_CHANGE_RELEASE_new();
	int made = q && c->has_a_mcim && ASN1_OCTET_STRING_set(q->change_id, c->id, DRF_ID_LEN) &&
		   !m2m_set_str(q->tre, c->tre) && ASN1_OCTET_STRING_set(q->mcim_id, c->a_mcim_id, DRF_ID_LEN);
	return drf_pending_call(p, c->from_dpf, M2M_MSG_CHANGE_RELEASE, q, made, on_released);
}
