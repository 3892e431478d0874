/*
 * The switch of a change of subscription (docs/alt1a-change.md step 5; brief §2.1(b): "If attach
 * with MCIM-B fails within T_switch: the TRE re-activates MCIM-A"). Make before break: the new
 * MCIM (B) is installed but not active while the old one (A) stays active; installAck puts the
 * procedure in switching with a persisted deadline (now + switch_seconds). While switching,
 * treCredential names B and AKA runs with B (and with A, for a roll-back attach). The M2ME
 * reports every attach with treAttached {imsi, result}, answered with treCredential:
 *
 *   switching + attached with B        commit: B active, A inactive; changeComplete (signed by
 *                                      the TRE) to relay to the DRF                -> completing
 *   switching + failed (any IMSI)      roll back: A active, B inactive, the reason  -> failed
 *   switching + the deadline passed    roll back, reason timeout (the tick, every request)
 *   anything else                      nothing changes
 *
 * In Alternative 3b's uiccSwitching the report goes to the card's procedure (uicc_change.c).
 *
 * The commit and the roll-back are one transaction each, the procedure's state with both MCIMs'
 * states: at every instant one MCIM is active (A until the commit, B after it), and the change
 * stays open after a roll-back so that treProvision {} runs it again with the same changeId.
 */
#include "tre.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- which MCIM the device switches to ------------------------------------------------------ */

int tre_switch_target(tre *t, tre_credential *b)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT mcim_id, sho FROM tre_provision WHERE id = 1 AND state = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, M2M_PROV_SWITCHING);
	uint8_t id[TRE_MCIM_ID_LEN];
	char sho[M2M_ENTITY_MAX + 1];
	int rc = 1;
	if (sqlite3_step(st) == SQLITE_ROW && !m2m_store_column_blob(st, 0, id, sizeof id)) {
		m2m_store_column_text(st, 1, sho, sizeof sho);
		rc = 0;
	}
	sqlite3_finalize(st);
	if (rc)
		return rc;
	rc = tre_mcim_find(t, id, sho, b);
	return rc == M2M_R_NOT_FOUND ? 1 : rc ? -1 : 0;  /* zeroised meanwhile: nothing to switch to */
}

m2m_reason tre_switch_begin(tre *t, tre_provision_state *p)
{
	p->state = M2M_PROV_SWITCHING;
	p->deadline = (int64_t)time(NULL) + t->s.switch_seconds;
	tre_provision_no_step(p);
	m2m_info("change of subscription: the MCIM of %s is installed; the M2ME attaches with it within %d s",
		 p->sho, t->s.switch_seconds);
	return M2M_OK;
}

/* ---- commit ---------------------------------------------------------------------------------- */

static int complete_der(tre *t, const tre_provision_state *p, uint8_t **der, size_t *len)
{
	M2M_CHANGE_COMPLETE *c = M2M_CHANGE_COMPLETE_new();
	int rc = !c || !ASN1_OCTET_STRING_set(c->change_id, p->change_id, TRE_CHANGE_ID_LEN) ||
			 m2m_set_str(c->tre, t->entity) || m2m_set_str(c->sho, p->sho) ||
			 !ASN1_OCTET_STRING_set(c->mcim_id, p->mcim_id, TRE_MCIM_ID_LEN)
		 ? -1
		 : tre_signed_der(t, ASN1_ITEM_rptr(M2M_CHANGE_COMPLETE), c, der, len);
	M2M_CHANGE_COMPLETE_free(c);
	return rc;
}

int tre_switch_completing(tre *t, tre_provision_state *p)
{
	uint8_t *body = NULL;
	size_t len = 0;
	if (complete_der(t, p, &body, &len) || tre_provision_step(p, t->s.drf, M2M_MSG_CHANGE_COMPLETE, body, len))
		return -1;
	p->state = M2M_PROV_COMPLETING;
	return 0;
}

/* Attached with B: B becomes the active MCIM (A, the active one, steps aside to inactive). */
static int commit(tre *t, tre_provision_state *p, tre_change *c)
{
	tre_credential b;
	if (tre_mcim_find(t, p->mcim_id, p->sho, &b) || tre_mcim_set_state(t, &b, M2M_MCIM_ACTIVE))
		return -1;
	c->committed = 1;
	if (tre_change_save(t, c) || tre_switch_completing(t, p))
		return -1;
	m2m_info("change of subscription: attached with the MCIM of %s (IMSI %s), now the active one; the DRF is told",
		 p->sho, b.imsi);
	return 0;
}

/* ---- roll-back ------------------------------------------------------------------------------- */

/* Sets an MCIM's state when it is still held (a zeroisation may have removed it). */
static int set_if_held(tre *t, const uint8_t id[TRE_MCIM_ID_LEN], const char *owner, m2m_mcim_state state)
{
	tre_credential m;
	int rc = tre_mcim_find(t, id, owner, &m);
	if (rc == M2M_R_NOT_FOUND)
		return 0;
	return rc ? -1 : tre_mcim_set_state(t, &m, state);
}

static int roll_back(tre *t, tre_provision_state *p, tre_change *c, m2m_reason reason)
{
	if (set_if_held(t, p->mcim_id, p->sho, M2M_MCIM_INACTIVE) ||
	    set_if_held(t, c->mcim_id, c->owner, M2M_MCIM_ACTIVE))
		return -1;
	/* the next attempt's package from the same SHO replaces it (change.c) */
	c->has_superseded = 1;
	memcpy(c->superseded, p->mcim_id, TRE_MCIM_ID_LEN);
	if (tre_change_save(t, c))
		return -1;
	tre_provision_fail(p, reason);
	m2m_warn("change of subscription: no attach with the MCIM of %s (%s); back to the MCIM of %s", p->sho,
		 m2m_reason_name(reason), c->owner);
	return 0;
}

/* ---- the steps, each one transaction ------------------------------------------------------ */

typedef struct attach_report {
	char imsi[TRE_IMSI_MAX + 1];
	int failed;
	m2m_reason reason;   /* failed: why (notAttached when the M2ME gave none) */
} attach_report;

/* What the switch does with a report (NULL: the deadline check alone). 0, or -1 on a database
 * failure. */
static int decide(tre *t, const attach_report *a)
{
	tre_provision_state p;
	tre_change c;
	int rc = tre_provision_load(t, &p) ? -1 : tre_change_load(t, &c);
	if (rc || p.state != M2M_PROV_SWITCHING) {
		tre_provision_free(&p);
		return rc < 0 ? -1 : 0;
	}
	tre_credential b;
	int to_b = a && !a->failed && !tre_mcim_find(t, p.mcim_id, p.sho, &b) && !strcmp(b.imsi, a->imsi);
	if ((int64_t)time(NULL) >= p.deadline)
		rc = roll_back(t, &p, &c, M2M_R_TIMEOUT);
	else if (a && a->failed)
		rc = roll_back(t, &p, &c, a->reason);
	else if (to_b)
		rc = commit(t, &p, &c);
	else {
		tre_provision_free(&p);
		return 0;  /* attached with A (not switched yet) or nothing to report: no change */
	}
	rc = rc || tre_provision_save(t, &p) ? -1 : 0;
	tre_provision_free(&p);
	return rc;
}

static int decide_atomically(tre *t, const attach_report *a)
{
	if (tre_savepoint(t->db))
		return -1;
	return tre_release(t->db, decide(t, a));
}

/* The card of Alternative 3b switched or rolled back (uicc_change.c). */
static int uicc_decide_atomically(tre *t, const attach_report *a)
{
	if (tre_savepoint(t->db))
		return -1;
	return tre_release(t->db, tre_uicc_attached(t, a->imsi, a->failed, a->reason));
}

void tre_switch_expire(tre *t)
{
	if (tre_provision_state_now(t) == M2M_PROV_SWITCHING && decide_atomically(t, NULL))
		m2m_error("the switch deadline could not be checked");
}

/* ---- treAttached ---------------------------------------------------------------------------- */

static m2m_reason read_report(const M2M_TRE_ATTACHED *q, attach_report *a, char *why, size_t len)
{
	int result = 0;
	if (m2m_digits(q->imsi, a->imsi, sizeof a->imsi, TRE_IMSI_MIN, TRE_IMSI_MAX))
		return snprintf(why, len, "imsi must be %d..%d digits", TRE_IMSI_MIN, TRE_IMSI_MAX), M2M_R_BAD_BODY;
	if (m2m_read_enum(q->result, M2M_ATTACH_FAILED, &result))
		return snprintf(why, len, "result must be attached (0) or failed (1)"), M2M_R_BAD_BODY;
	long reason = q->reason ? ASN1_ENUMERATED_get(q->reason) : M2M_R_NOT_ATTACHED;
	if (reason <= 0 || !m2m_reason_name((m2m_reason)reason))
		return snprintf(why, len, "reason is not a known reason code"), M2M_R_BAD_BODY;
	a->failed = result == M2M_ATTACH_FAILED;
	a->reason = (m2m_reason)reason;
	return M2M_OK;
}

m2m_reason tre_attached_run(tre *t, const M2M_TRE_ATTACHED *q, M2M_TRE_CREDENTIAL **credential, char *why, size_t len)
{
	attach_report a;
	m2m_reason r = read_report(q, &a, why, len);
	if (r)
		return r;
	int failed = tre_provision_state_now(t) == M2M_PROV_UICC_SWITCHING ? uicc_decide_atomically(t, &a)
									   : decide_atomically(t, &a);
	if (failed)
		return snprintf(why, len, "the switch could not be stored"), M2M_R_INTERNAL;
	*credential = tre_credential_body(t);
	return M2M_OK;
}

void tre_attached(tre *t, m2m_request *req)
{
	if (tre_refuse_unless_m2me(t, req))
		return;
	char why[200];
	M2M_TRE_CREDENTIAL *c = NULL;
	m2m_reason r = tre_attached_run(t, req->env.body, &c, why, sizeof why);
	m2m_answer(t->node, req, r, M2M_MSG_TRE_CREDENTIAL, c, why);
	M2M_TRE_CREDENTIAL_free(c);
}
