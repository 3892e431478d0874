/*
 * changeNotify from the DRF (docs/alt1a-change.md step 2; TR step 2, O15, O16): the subscriber
 * asked to move a device of this operator to toSho. This operator, the current SHO, consents with
 * changeConsent {changeId, mcimId}, naming its MCIM the change replaces, or refuses:
 *
 *   notFound        no MCIM of this operator is installed and active in that TRE, and the device
 *                   does not run on a card of this operator either (Alternative 3b, below);
 *   contractLocked  its subscriber is under a contract lock (mno-admin lock);
 *   wrongState      another change of that MCIM is under way, or this changeId is another TRE's;
 *   wrongSho        toSho is this operator;
 *   badBody         the fields break the module's constraints.
 *
 * A refusal changes nothing. A consent is recorded (dpf_change consented, audited on the
 * subscriber record) with the signed mcimCommand reprovision {changeId} that the tick then sends
 * the TRE (change_command.c), before the answer leaves. The same notify again gets the same
 * consent, whatever the change's state since.
 *
 * A TRE without an MCIM of this operator in a device attached with this operator's card is
 * Alternative 3b (uicc_consent.c): the consent names the card's IMSI instead of an MCIM,
 * changeConsent {changeId, imsi}, and is recorded in a table of its own; a changeId is looked up
 * in both, so a repeated notify gets the consent of its kind.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/provision.h"
#include "log/log.h"
#include "store/store.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The notify's fields into c (change_id, tre, to_sho) and m2me: M2M_OK or badBody. */
static m2m_reason read_notify(const M2M_CHANGE_NOTIFY *w, dpf_change *c, char m2me[HSS_IMEI_MAX + 1], char *why,
			      size_t len)
{
	if (m2m_read_octets(w->change_id, c->change_id, DPF_CHANGE_ID_LEN) || m2m_read_name(w->tre, c->tre, M2M_ENTITY_MAX) ||
	    m2m_digits(w->m2me, m2me, HSS_IMEI_MAX + 1, 14, 16) || m2m_read_name(w->to_sho, c->to_sho, M2M_ENTITY_MAX)) {
		snprintf(why, len, "changeNotify needs a 16-octet changeId, a tre, an IMEI of 14 to 16 digits and a toSho");
		return M2M_R_BAD_BODY;
	}
	return M2M_OK;
}

/* This operator's MCIM installed in c->tre whose record is active (the latest, should there be
 * several): M2M_OK with c->mcim_id and c->imsi, notFound, or internalError. */
static m2m_reason active_mcim(dpf_context *dpf, dpf_change *c, char *why, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(dpf->db, "SELECT o.mcim_id, o.imsi FROM dpf_order o JOIN hss_subscriber s"
						      " ON s.imsi = o.imsi WHERE o.tre = ? AND o.state = 'installed'"
						      " AND s.state = 'active' ORDER BY o.id DESC LIMIT 1");
	if (!st) {
		snprintf(why, len, "the MCIMs cannot be read");
		return M2M_R_INTERNAL;
	}
	sqlite3_bind_text(st, 1, c->tre, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		m2m_store_column_text(st, 1, c->imsi, sizeof c->imsi);
		rc = m2m_store_column_blob(st, 0, c->mcim_id, sizeof c->mcim_id) ? SQLITE_ERROR : rc;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return M2M_OK;
	snprintf(why, len, rc == SQLITE_DONE ? "%s holds no active MCIM of %s" : "the MCIMs of %s cannot be read", c->tre,
		 dpf->entity);
	return rc == SQLITE_DONE ? M2M_R_NOT_FOUND : M2M_R_INTERNAL;
}

/* Whether this operator lets the MCIM go now: M2M_OK, wrongState, contractLocked, internalError. */
static m2m_reason may_go(dpf_context *dpf, const dpf_change *c, char *why, size_t len)
{
	int64_t until = 0;
	char when[32];
	int open = dpf_change_open_for(dpf->db, c->mcim_id);
	int locked = open ? 0 : hss_locked_until(dpf->db, c->imsi, (int64_t)time(NULL), &until);
	if (open < 0 || locked < 0) {
		snprintf(why, len, "the changes and locks cannot be read");
		return M2M_R_INTERNAL;
	}
	if (open) {
		snprintf(why, len, "another change of the MCIM of %s is under way", c->tre);
		return M2M_R_WRONG_STATE;
	}
	if (locked) {
		snprintf(why, len, "the subscription of %s (IMSI %s) is under a contract lock until %s", c->tre, c->imsi,
			 hss_utc(until, when, sizeof when));
		return M2M_R_CONTRACT_LOCKED;
	}
	return M2M_OK;
}

/* A new change: checked, then recorded consented with its reprovision command; or, for a TRE
 * without an MCIM of this operator, the consent of Alternative 3b (into u, u->imsi set). */
static m2m_reason consent(dpf_context *dpf, dpf_change *c, const char *m2me, dpf_uicc_change *u, char *why,
			  size_t len)
{
	char id_hex[2 * DPF_CHANGE_ID_LEN + 1], mcim_hex[2 * DPF_MCIM_ID_LEN + 1];
	m2m_reason r = strcmp(c->to_sho, dpf->entity) ? active_mcim(dpf, c, why, len) : M2M_R_WRONG_SHO;
	if (r == M2M_R_WRONG_SHO)
		snprintf(why, len, "%s is already the operator of %s", dpf->entity, c->tre);
	if (r == M2M_R_NOT_FOUND)
		return dpf_uicc_consent(dpf, c, m2me, u, why, len);
	if (r == M2M_OK)
		r = may_go(dpf, c, why, len);
	if (r != M2M_OK)
		return r;
	m2m_hex(c->change_id, sizeof c->change_id, id_hex);
	m2m_hex(c->mcim_id, sizeof c->mcim_id, mcim_hex);
	c->state = DPF_CONSENTED;
	if (dpf_change_arm(dpf, c, M2M_MCIM_REPROVISION) || dpf_change_insert(dpf->db, c) ||
	    hss_audit(dpf->db, DPF_ACTOR, c->imsi, "change", "change %s: MCIM %s of %s may go to %s", id_hex, mcim_hex,
		      c->tre, c->to_sho)) {
		snprintf(why, len, "the consent to change %s cannot be recorded", id_hex);
		return M2M_R_INTERNAL;
	}
	m2m_info("change %s: %s (IMSI %s) may go to %s", id_hex, c->tre, c->imsi, c->to_sho);
	return M2M_OK;
}

static void reply_consent(dpf_context *dpf, m2m_request *req, const dpf_change *c)
{
	M2M_CHANGE_CONSENT *a = M2M_CHANGE_CONSENT_new();
	if (a && ASN1_OCTET_STRING_set(a->change_id, c->change_id, DPF_CHANGE_ID_LEN) &&
	    (a->mcim_id = ASN1_OCTET_STRING_new()) && ASN1_OCTET_STRING_set(a->mcim_id, c->mcim_id, DPF_MCIM_ID_LEN))
		m2m_reply(dpf->node, req, M2M_MSG_CHANGE_CONSENT, a);
	else
		m2m_refuse(dpf->node, req, M2M_R_INTERNAL, "changeConsent cannot be encoded");
	M2M_CHANGE_CONSENT_free(a);
}

void dpf_change_notify(dpf_context *dpf, m2m_request *req)
{
	dpf_change asked, known;
	dpf_uicc_change uicc;
	char m2me[HSS_IMEI_MAX + 1] = "", why[256] = "";
	memset(&asked, 0, sizeof asked);
	memset(&known, 0, sizeof known);
	memset(&uicc, 0, sizeof uicc);
	m2m_reason r = read_notify(req->env.body, &asked, m2me, why, sizeof why);
	int found = r == M2M_OK ? dpf_change_find(dpf->db, asked.change_id, &known) : 1;
	int found_uicc = r == M2M_OK && found == 1 ? dpf_uicc_change_find(dpf->db, asked.change_id, &uicc) : 1;
	const char *tre = found == 0 ? known.tre : uicc.tre;
	if (found < 0 || found_uicc < 0) {
		r = M2M_R_INTERNAL;
		snprintf(why, sizeof why, "the changes cannot be read");
	} else if ((found == 0 || found_uicc == 0) && strcmp(tre, asked.tre)) {
		r = M2M_R_WRONG_STATE;
		snprintf(why, sizeof why, "this changeId names a change of %s, not of %s", tre, asked.tre);
	} else if (r == M2M_OK && found && found_uicc)
		r = consent(dpf, &asked, m2me, &uicc, why, sizeof why);
	/* the same notify again: the same consent, of its kind */
	if (r != M2M_OK)
		m2m_refuse(dpf->node, req, r, "change refused: %s", why);
	else if (uicc.imsi[0])
		dpf_uicc_consent_reply(dpf, req, &uicc);
	else
		reply_consent(dpf, req, found ? &asked : &known);
	dpf_change_clear(&asked);
	dpf_change_clear(&known);
}
