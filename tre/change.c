/*
 * The open change of subscription (docs/alt1a-change.md; brief §2.1(b) step 3, TR O4): the TRE
 * obeys only its MCIM's owner, so a change starts in the TRE with the owner's signed
 * mcimCommand {reprovision, changeId} (commands.c), which this file records in tre_change (one
 * row: changeId, the owner and the MCIM the change replaces). The procedure (provision.c) then
 * runs its discovery for that changeId, and switch.c moves the device from the old MCIM to the
 * new one. The row goes when the DRF acknowledges changeComplete.
 *
 * Only the owner of the ACTIVE MCIM may open a change. While a change is under way (its
 * procedure between discovering and switching) the MCIM it replaces must stay as it is, the one
 * to return to (commands on it are refused wrongState); once the switch is committed it may be
 * deactivated or deleted but not activated again (that would undo the switch).
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

int tre_change_load(tre *t, tre_change *c)
{
	memset(c, 0, sizeof *c);
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT change_id, owner, mcim_id, committed, superseded"
				       " FROM tre_change WHERE id = 1");
	if (!st)
		return -1;
	int rc = 1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		rc = m2m_store_column_blob(st, 0, c->change_id, TRE_CHANGE_ID_LEN) ||
				     m2m_store_column_blob(st, 2, c->mcim_id, TRE_MCIM_ID_LEN)
			     ? -1
			     : 0;
		m2m_store_column_text(st, 1, c->owner, sizeof c->owner);
		c->committed = sqlite3_column_int(st, 3);
		c->has_superseded = !m2m_store_column_blob(st, 4, c->superseded, TRE_MCIM_ID_LEN);
	}
	sqlite3_finalize(st);
	return rc;
}

int tre_change_save(tre *t, const tre_change *c)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT OR REPLACE INTO tre_change (id, change_id, owner, mcim_id,"
				       " committed, superseded) VALUES (1, ?1, ?2, ?3, ?4, ?5)");
	if (st) {
		sqlite3_bind_blob(st, 1, c->change_id, TRE_CHANGE_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, c->owner, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, c->mcim_id, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 4, c->committed);
		if (c->has_superseded)
			sqlite3_bind_blob(st, 5, c->superseded, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 5);
	}
	return m2m_store_run(t->db, st);
}

int tre_change_close(tre *t)
{
	return m2m_store_exec(t->db, "DELETE FROM tre_change WHERE id = 1");
}

/* ---- where the change stands ---------------------------------------------------------------- */

/* What a command on an MCIM must respect: the open change, whether its procedure runs, and the
 * MCIM being switched to. */
typedef struct standing {
	int open;                            /* a change is open */
	tre_change change;
	int under_way;                       /* its procedure is between discovering and completing */
	int switching;                       /* ... and in switching, towards new_id */
	uint8_t new_id[TRE_MCIM_ID_LEN];
} standing;

static int stand(tre *t, standing *s)
{
	memset(s, 0, sizeof *s);
	int rc = tre_change_load(t, &s->change);
	if (rc)
		return rc < 0 ? -1 : 0;
	s->open = 1;
	tre_provision_state p;
	if (tre_provision_load(t, &p))
		return -1;
	int running = p.state >= M2M_PROV_DISCOVERING && p.state <= M2M_PROV_CONFIRMING;
	running = running || p.state == M2M_PROV_SWITCHING || p.state == M2M_PROV_COMPLETING;
	s->under_way = running && p.has_change && !memcmp(p.change_id, s->change.change_id, TRE_CHANGE_ID_LEN);
	s->switching = s->under_way && p.state == M2M_PROV_SWITCHING;
	memcpy(s->new_id, p.mcim_id, TRE_MCIM_ID_LEN);
	tre_provision_free(&p);
	return 0;
}

m2m_reason tre_change_guard(tre *t, int action, const tre_credential *m, char *why, size_t len)
{
	standing s;
	if (stand(t, &s))
		return snprintf(why, len, "the change of subscription could not be read"), M2M_R_INTERNAL;
	if (!s.open || action == M2M_MCIM_REPROVISION)
		return M2M_OK;  /* a reprovision is judged by tre_change_begin */
	int replaced = !memcmp(m->mcim_id, s.change.mcim_id, TRE_MCIM_ID_LEN);
	if (s.switching && !memcmp(m->mcim_id, s.new_id, TRE_MCIM_ID_LEN))
		return snprintf(why, len, "the device is switching to this MCIM: it is not to be changed now"),
		       M2M_R_WRONG_STATE;
	if (replaced && s.change.committed && action == M2M_MCIM_ACTIVATE)
		return snprintf(why, len, "a change of subscription replaced this MCIM: it stays inactive"), M2M_R_WRONG_STATE;
	if (replaced && s.under_way && !s.change.committed)
		return snprintf(why, len, "a change of subscription is under way: this MCIM is its fallback"),
		       M2M_R_WRONG_STATE;
	return M2M_OK;
}

/* ---- opening -------------------------------------------------------------------------------- */

m2m_reason tre_change_begin(tre *t, const uint8_t change_id[TRE_CHANGE_ID_LEN], const tre_credential *m, char *why,
			    size_t len)
{
	if (m->state != M2M_MCIM_ACTIVE)
		return snprintf(why, len, "only the owner of the active MCIM may start a change"), M2M_R_WRONG_STATE;
	standing s;
	if (stand(t, &s))
		return snprintf(why, len, "the change of subscription could not be read"), M2M_R_INTERNAL;
	int same = s.open && !memcmp(s.change.change_id, change_id, TRE_CHANGE_ID_LEN);
	if (same && (strcmp(s.change.owner, m->owner) || memcmp(s.change.mcim_id, m->mcim_id, TRE_MCIM_ID_LEN)))
		return snprintf(why, len, "this change is open for another MCIM"), M2M_R_WRONG_STATE;
	if (same)
		return M2M_OK;  /* a repeated trigger (its receipt was lost): the same open change */
	if (s.open && (s.under_way || s.change.committed))
		return snprintf(why, len, "another change of subscription is under way"), M2M_R_WRONG_STATE;
	tre_change c = {0};
	c.has_superseded = s.change.has_superseded;  /* still replaced by its SHO's next package */
	memcpy(c.superseded, s.change.superseded, TRE_MCIM_ID_LEN);
	memcpy(c.change_id, change_id, TRE_CHANGE_ID_LEN);
	snprintf(c.owner, sizeof c.owner, "%s", m->owner);
	memcpy(c.mcim_id, m->mcim_id, TRE_MCIM_ID_LEN);
	if (tre_change_save(t, &c))
		return snprintf(why, len, "the change could not be recorded"), M2M_R_INTERNAL;
	char hex[2 * TRE_CHANGE_ID_LEN + 1];
	m2m_hex(change_id, TRE_CHANGE_ID_LEN, hex);
	m2m_info("change of subscription %s opened by %s (%s)", hex, m->owner,
		 s.open ? "it replaces a change that never got under way" : "the next provisioning runs it");
	return M2M_OK;
}

/* ---- the MCIM of a failed attempt ----------------------------------------------------------- */

int tre_change_supersede(tre *t, const char *owner)
{
	tre_change c;
	tre_credential old;
	int rc = tre_change_load(t, &c);
	if (rc)
		return rc < 0 ? -1 : 0;
	if (!c.has_superseded)
		return 0;
	rc = tre_mcim_find(t, c.superseded, owner, &old);
	if (rc == M2M_R_NOT_FOUND || rc == M2M_R_NOT_OWNER)
		return 0;  /* gone already, or another operator's: not this package's to replace */
	if (rc)
		return -1;
	if (old.state == M2M_MCIM_ACTIVE)
		return 0;  /* activated by its owner since: in use, kept */
	if (tre_mcim_delete(t, &old))
		return -1;
	c.has_superseded = 0;
	m2m_info("the MCIM of %s from a failed attempt (slot %s) is replaced by its new package", owner, old.slot);
	return tre_change_save(t, &c);
}
