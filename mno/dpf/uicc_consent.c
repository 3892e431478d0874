/*
 * changeNotify for a device on this operator's UICC (Alternative 3b, docs/alt3b.md, contract step
 * 2): the TRE the DRF names holds no MCIM of this operator (consent.c looked first), but the
 * device may run on a card of this operator. Its subscriber is found by the device: an active
 * record whose current location (hss_location, written by updateLocation) has the IMEI of the
 * notify, with the same-device rule of the HSS (TAC and serial number; the IMEISV's software
 * version may differ). Records of MCIMs (dpf_order) are not cards and are left out. Then:
 *
 *   notFound        no such subscriber (nor an MCIM: consent.c says both);
 *   contractLocked  its IMSI is under a contract lock (mno-admin lock);
 *   wrongState      another change of that IMSI was consented and not released.
 *
 * Otherwise the change is recorded consented in dpf_uicc_change with the IMSI (audited on the
 * subscriber record) before changeConsent {changeId, imsi} leaves: no mcimId, and no command to
 * send (the DRF's signed trigger wakes the TRE). A refusal writes nothing. The store of those
 * rows is here too; uicc_release.c ends them.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/provision.h"
#include "log/log.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define AT_DEVICE_MAX 4  /* records attached with one device: one card, and MCIMs of its TRE */

static const char *const state_names[] = {"consented", "released"};

/* ---- the rows ------------------------------------------------------------------------------------ */

int dpf_uicc_change_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], dpf_uicc_change *u)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT change_id, tre, m2me, imsi, to_sho, state, coalesce(iccid, '')"
						 " FROM dpf_uicc_change WHERE change_id = ?");
	memset(u, 0, sizeof *u);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st), result = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW) {
		m2m_store_column_text(st, 1, u->tre, sizeof u->tre);
		m2m_store_column_text(st, 2, u->m2me, sizeof u->m2me);
		m2m_store_column_text(st, 3, u->imsi, sizeof u->imsi);
		m2m_store_column_text(st, 4, u->to_sho, sizeof u->to_sho);
		m2m_store_column_text(st, 6, u->iccid, sizeof u->iccid);
		int state = dpf_name_index(state_names, 2, (const char *)sqlite3_column_text(st, 5));
		u->state = (dpf_uicc_change_state)state;
		if (state < 0 || m2m_store_column_blob(st, 0, u->change_id, sizeof u->change_id)) {
			m2m_error("a change of the UICC of %s is damaged", u->tre);
			result = -1;
		}
	}
	sqlite3_finalize(st);
	return result;
}

static int insert(sqlite3 *db, const dpf_uicc_change *u)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO dpf_uicc_change (change_id, tre, m2me, imsi, to_sho, state,"
						 " created, changed) VALUES (?1, ?2, ?3, ?4, ?5, 'consented', ?6, ?6)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, u->change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, u->tre, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->m2me, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, u->imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, u->to_sho, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st);
}

int dpf_uicc_change_released(sqlite3 *db, const dpf_uicc_change *u)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_uicc_change SET state = 'released', iccid = ?1, changed = ?2"
						 " WHERE change_id = ?3 AND state = 'consented'");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, u->iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 3, u->change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

/* ---- the consent --------------------------------------------------------------------------------- */

/* Whether imsi is an MCIM's record (its TRE's, not a card's): 1, 0, or -1 on error. */
static int is_mcim(sqlite3 *db, const char *imsi)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT 1 FROM dpf_order WHERE imsi = ?");
	if (st)
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	return dpf_exists(st);
}

/* The card's subscriber attached with the device u->m2me, into u->imsi: M2M_OK, notFound or
 * internalError. */
static m2m_reason device_imsi(dpf_context *dpf, dpf_uicc_change *u, char *why, size_t len)
{
	char at[AT_DEVICE_MAX][HSS_IMSI_MAX + 1];
	int n = hss_imsis_at_device(dpf->db, u->m2me, at, AT_DEVICE_MAX), mcim = 1;
	for (int i = 0; i < n && mcim == 1; i++) {
		mcim = is_mcim(dpf->db, at[i]);
		if (!mcim)
			snprintf(u->imsi, sizeof u->imsi, "%s", at[i]);
	}
	if (n < 0 || mcim < 0) {
		snprintf(why, len, "the subscribers' locations cannot be read");
		return M2M_R_INTERNAL;
	}
	if (mcim) {
		snprintf(why, len, "%s holds no active MCIM of %s, and no card of %s is attached with IMEI %s", u->tre,
			 dpf->entity, dpf->entity, u->m2me);
		return M2M_R_NOT_FOUND;
	}
	return M2M_OK;
}

/* Whether the subscription may go now: M2M_OK, wrongState, contractLocked or internalError. */
static m2m_reason may_go(dpf_context *dpf, const dpf_uicc_change *u, char *why, size_t len)
{
	int64_t until = 0;
	char when[32];
	sqlite3_stmt *st = m2m_store_prepare(dpf->db, "SELECT 1 FROM dpf_uicc_change WHERE imsi = ? AND state = 'consented'");
	if (st)
		sqlite3_bind_text(st, 1, u->imsi, -1, SQLITE_STATIC);
	int open = dpf_exists(st);
	int locked = open ? 0 : hss_locked_until(dpf->db, u->imsi, (int64_t)time(NULL), &until);
	if (open < 0 || locked < 0) {
		snprintf(why, len, "the changes and locks cannot be read");
		return M2M_R_INTERNAL;
	}
	if (open)
		snprintf(why, len, "another change of the device with IMEI %s (IMSI %s) is under way", u->m2me, u->imsi);
	else if (locked)
		snprintf(why, len, "the subscription of the device with IMEI %s (IMSI %s) is under a contract lock until %s",
			 u->m2me, u->imsi, hss_utc(until, when, sizeof when));
	return open ? M2M_R_WRONG_STATE : locked ? M2M_R_CONTRACT_LOCKED : M2M_OK;
}

m2m_reason dpf_uicc_consent(dpf_context *dpf, const dpf_change *c, const char *m2me, dpf_uicc_change *u, char *why,
			    size_t len)
{
	char id_hex[2 * DPF_CHANGE_ID_LEN + 1];
	memset(u, 0, sizeof *u);
	memcpy(u->change_id, c->change_id, sizeof u->change_id);
	snprintf(u->tre, sizeof u->tre, "%s", c->tre);
	snprintf(u->m2me, sizeof u->m2me, "%s", m2me);
	snprintf(u->to_sho, sizeof u->to_sho, "%s", c->to_sho);
	m2m_reason r = device_imsi(dpf, u, why, len);
	if (r == M2M_OK)
		r = may_go(dpf, u, why, len);
	if (r != M2M_OK)
		return r;
	m2m_hex(u->change_id, sizeof u->change_id, id_hex);
	if (insert(dpf->db, u) ||
	    hss_audit(dpf->db, DPF_ACTOR, u->imsi, "change", "change %s (UICC): the device with IMEI %s (TRE %s) may go to %s",
		      id_hex, u->m2me, u->tre, u->to_sho)) {
		snprintf(why, len, "the consent to change %s cannot be recorded", id_hex);
		return M2M_R_INTERNAL;
	}
	m2m_info("change %s: the device with IMEI %s (TRE %s) on IMSI %s may go to %s", id_hex, u->m2me, u->tre, u->imsi,
		 u->to_sho);
	return M2M_OK;
}

void dpf_uicc_consent_reply(dpf_context *dpf, m2m_request *req, const dpf_uicc_change *u)
{
	M2M_CHANGE_CONSENT *a = M2M_CHANGE_CONSENT_new();
	if (a && ASN1_OCTET_STRING_set(a->change_id, u->change_id, DPF_CHANGE_ID_LEN) && !m2m_set_digits(&a->imsi, u->imsi))
		m2m_reply(dpf->node, req, M2M_MSG_CHANGE_CONSENT, a);
	else
		m2m_refuse(dpf->node, req, M2M_R_INTERNAL, "changeConsent cannot be encoded");
	M2M_CHANGE_CONSENT_free(a);
}
