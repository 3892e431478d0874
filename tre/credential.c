/*
 * Which credential the M2ME attaches with (docs/alt1a.md): treCredentialRequest from the TRE's
 * own M2ME -> treCredential {kind, imsi, mcimId, owner}. While a change of subscription switches
 * (switch.c) the new MCIM, which is installed but not yet active; else the active MCIM when there
 * is one, else the PCID while it is valid, else none; and none whenever credentials are withheld
 * (secure boot failed or a tamper flag is set: autonomous validation, brief §3). The M2ME learns
 * identities only; the keys stay in the TRE, which runs AKA itself (aka.c) with the credential
 * named, the active MCIM's, or the PCID.
 *
 * Each credential has its SQN state (the USIM side of TS 33.102 Annex C) in tre_sqn, keyed by
 * its slot and deleted with it.
 */
#include "tre.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* ---- which credential ------------------------------------------------------------------- */

void tre_credential_current(tre *t, tre_credential *c)
{
	tre_credential pcid;
	if (tre_credentials_allowed(t) && (!tre_switch_target(t, c) || !tre_mcim_active(t, c)))
		return;
	memset(c, 0, sizeof *c);
	if (tre_credentials_allowed(t) && !tre_pcid_held(t, &pcid) && tre_pcid_valid(&pcid))
		*c = pcid;
	else
		c->kind = M2M_CREDENTIAL_NONE;
}

int tre_credential_for(tre *t, const char *imsi, tre_credential *c)
{
	int rc = tre_mcim_active(t, c);
	if (rc == 0 && !strcmp(c->imsi, imsi))
		return 0;
	if (rc >= 0)
		rc = tre_switch_target(t, c);
	if (rc == 0 && !strcmp(c->imsi, imsi))
		return 0;
	if (rc >= 0)
		rc = tre_pcid_held(t, c);
	if (rc == 0 && !strcmp(c->imsi, imsi))
		return 0;
	return rc < 0 ? -1 : M2M_R_NOT_FOUND;
}

m2m_reason tre_withheld(const tre *t, char *why, size_t len)
{
	if (tre_tamper_flags(t))
		return snprintf(why, len, "credentials withheld: tampering was detected"), M2M_R_TAMPER_DETECTED;
	if (!t->boot.booted)
		return snprintf(why, len, "credentials withheld: not booted yet"), M2M_R_WRONG_STATE;
	return snprintf(why, len, "credentials withheld: secure boot failed"), M2M_R_WRONG_STATE;
}

/* ---- SQN state -------------------------------------------------------------------------- */

int tre_sqn_save(tre *t, const char *slot, const m2m_sqn_usim *u)
{
	uint8_t blob[M2M_SQN_USIM_BLOB_LEN];
	m2m_sqn_usim_serialise(u, blob);
	return m2m_store_put_blob(t->db, "INSERT OR REPLACE INTO tre_sqn (slot, state) VALUES (?1, ?2)", slot, blob,
				  sizeof blob);
}

/* A new state that accepts what follows sqn (the highest SQN the network issued so far): the
 * first challenge then needs no resynchronisation. */
int tre_sqn_create(tre *t, const char *slot, uint64_t sqn)
{
	m2m_sqn_usim u;
	if (m2m_sqn_usim_init(&u, NULL))
		return -1;
	if (sqn && m2m_sqn_usim_accept(&u, sqn))
		m2m_warn("SQN %llu is out of a new USIM's range: the first AKA of %s resynchronises", (unsigned long long)sqn,
			 slot);
	return tre_sqn_save(t, slot, &u);
}

int tre_sqn_load(tre *t, const char *slot, m2m_sqn_usim *u)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT state FROM tre_sqn WHERE slot = ?1");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, slot, -1, SQLITE_TRANSIENT);
	uint8_t blob[M2M_SQN_USIM_BLOB_LEN];
	int rc = sqlite3_step(st) == SQLITE_ROW && !m2m_store_column_blob(st, 0, blob, sizeof blob) &&
			 !m2m_sqn_usim_deserialise(u, blob)
		 ? 0
		 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* ---- treCredentialRequest --------------------------------------------------------------- */

int tre_refuse_unless_m2me(tre *t, m2m_request *req)
{
	if (t->s.m2me[0] && !strcmp(req->env.sender, t->s.m2me))
		return 0;
	m2m_refuse(t->node, req, M2M_R_NOT_AUTHORISED, "only this TRE's M2ME%s%s may ask for %s, not %s",
		   t->s.m2me[0] ? " " : " (none configured)", t->s.m2me, m2m_msgtype_name(req->env.type), req->env.sender);
	return 1;
}

M2M_TRE_CREDENTIAL *tre_credential_body(tre *t)
{
	tre_credential c;
	tre_credential_current(t, &c);
	M2M_TRE_CREDENTIAL *b = M2M_TRE_CREDENTIAL_new();
	ASN1_ENUMERATED_set(b->kind, c.kind);
	if (c.kind != M2M_CREDENTIAL_NONE)
		m2m_set_digits(&b->imsi, c.imsi);
	if (c.kind == M2M_CREDENTIAL_MCIM) {
		b->mcim_id = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(b->mcim_id, c.mcim_id, TRE_MCIM_ID_LEN);
		b->owner = ASN1_UTF8STRING_new();
		m2m_set_str(b->owner, c.owner);
	}
	return b;
}

void tre_credential_request(tre *t, m2m_request *req)
{
	if (tre_refuse_unless_m2me(t, req))
		return;
	M2M_TRE_CREDENTIAL *b = tre_credential_body(t);
	m2m_reply(t->node, req, M2M_MSG_TRE_CREDENTIAL, b);
	M2M_TRE_CREDENTIAL_free(b);
}
