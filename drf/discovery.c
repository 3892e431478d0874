/*
 * Discovery (brief 2.1 step 5, T-1a-10): a TRE asks which SHO its device is registered for. The
 * request reaches the DRF relayed by the visited operator, whose name is on the envelope; only the
 * CMS signature says who asks: a valid TRE certificate (chain, revocation, model, profile tre)
 * whose CN is the DiscoveryRequest's tre. The answer is a RegistrationTicket {tre, m2me, sho,
 * dpf, nonce, expires} signed with the DRF's own certificate (profile registration), which the
 * TRE hands to the SHO's DPF. The ticket is stored before it leaves; a discovery repeated with the
 * same nonce gets the same ticket.
 *
 * During a change of subscription (docs/alt1a-change.md step 3) the request carries the changeId:
 * only for the open change of that TRE, once the old SHO consented, the ticket names the new SHO
 * and its DPF, and carries the changeId. Without it, the ticket names the SHO registered, which
 * stays the old one until the change completes.
 */
#include "drf.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

/* The signed request: M2M_OK with *q, or the refusal's reason and text. */
static m2m_reason verify(drf *d, const M2M_SIGNED_OBJECT *so, M2M_DISCOVERY_REQUEST **q, char *why, size_t len)
{
	m2m_tre_signed s;
	m2m_reason r = drf_tre_signed(d, so, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST), M2M_TRE_FIELD(M2M_DISCOVERY_REQUEST), &s);
	if (r == M2M_OK) {
		*q = s.value;
		s.value = NULL;
	} else {
		snprintf(why, len, "%s", s.why);
	}
	m2m_tre_signed_clear(&s);
	return r;
}

/* ---- the ticket -------------------------------------------------------------------------------- */

static M2M_SIGNED_OBJECT *stored_ticket(drf *d, const char *tre, const uint8_t nonce[DRF_NONCE_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "SELECT cms FROM drf_ticket WHERE tre = ?1 AND nonce = ?2");
	M2M_SIGNED_OBJECT *so = NULL;
	if (st) {
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, nonce, DRF_NONCE_LEN, SQLITE_TRANSIENT);
	}
	if (st && sqlite3_step(st) == SQLITE_ROW && (so = M2M_SIGNED_OBJECT_new()) &&
	    !ASN1_OCTET_STRING_set(so->cms, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0))) {
		M2M_SIGNED_OBJECT_free(so);
		so = NULL;
	}
	sqlite3_finalize(st);
	return so;
}

static int store_ticket(drf *d, const char *tre, const uint8_t nonce[DRF_NONCE_LEN], const M2M_SIGNED_OBJECT *so,
			int64_t expires)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "INSERT INTO drf_ticket (tre, nonce, cms, expires) VALUES (?1, ?2, ?3, ?4)");
	if (st) {
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, nonce, DRF_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, ASN1_STRING_get0_data(so->cms), ASN1_STRING_length(so->cms), SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, expires);
	}
	return m2m_store_run(d->db, st);
}

/* The RegistrationTicket for the registration, signed and stored; NULL on failure. */
static M2M_SIGNED_OBJECT *issue(drf *d, const drf_registration *r, const uint8_t nonce[DRF_NONCE_LEN],
				const ASN1_OCTET_STRING *change_id)
{
	int64_t expires = time(NULL) + d->s.ticket_seconds;
	M2M_REGISTRATION_TICKET *t = M2M_REGISTRATION_TICKET_new();
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	int ok = t && so && !m2m_set_str(t->tre, r->tre) && !m2m_set_digits(&t->m2me, r->m2me) &&
		 !m2m_set_str(t->sho, r->sho) && !m2m_set_str(t->dpf, r->dpf) &&
		 ASN1_OCTET_STRING_set(t->nonce, nonce, DRF_NONCE_LEN) &&
		 ASN1_GENERALIZEDTIME_set(t->expires, (time_t)expires) &&
		 (!change_id || (t->change_id = ASN1_OCTET_STRING_dup(change_id))) &&
		 !m2m_identity_sign_item(d->id, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), t, so) &&
		 !store_ticket(d, r->tre, nonce, so, expires);
	M2M_REGISTRATION_TICKET_free(t);
	if (!ok) {
		M2M_SIGNED_OBJECT_free(so);
		return NULL;
	}
	return so;
}

M2M_SIGNED_OBJECT *drf_ticket(drf *d, const drf_registration *r, const uint8_t nonce[DRF_NONCE_LEN],
			      const ASN1_OCTET_STRING *change_id)
{
	M2M_SIGNED_OBJECT *so = stored_ticket(d, r->tre, nonce);
	return so ? so : issue(d, r, nonce, change_id);
}

/* ---- discoveryRequest -------------------------------------------------------------------------- */

/* The request's fields and its registration: M2M_OK, or the reason with why. */
static m2m_reason registered(drf *d, const M2M_DISCOVERY_REQUEST *q, drf_registration *r, uint8_t nonce[DRF_NONCE_LEN],
			     char *why, size_t len)
{
	char tre[M2M_ENTITY_MAX + 1], m2me[DRF_IMEI_MAX + 1];
	m2m_read_name(q->tre, tre, M2M_ENTITY_MAX);  /* verify() read it already */
	if (m2m_read_octets(q->nonce, nonce, DRF_NONCE_LEN) ||
	    m2m_digits(q->m2me, m2me, sizeof m2me, DRF_IMEI_MIN, DRF_IMEI_MAX) ||
	    (q->change_id && ASN1_STRING_length(q->change_id) != DRF_ID_LEN)) {
		snprintf(why, len, "a DiscoveryRequest has a 32-octet nonce, an IMEI of 14 to 16 digits and a changeId of 16 octets");
		return M2M_R_BAD_BODY;
	}
	int rc = drf_registration_load(d, tre, r);
	if (rc < 0) {
		snprintf(why, len, "the registration of %s cannot be read", tre);
		return M2M_R_INTERNAL;
	}
	if (rc > 0 || strncmp(r->m2me, m2me, DRF_IMEI_MIN)) {
		snprintf(why, len, "no registration for TRE %s in M2ME %s", tre, m2me);
		return M2M_R_NOT_REGISTERED;
	}
	return M2M_OK;
}

/* A discovery with a changeId: the ticket is for the new SHO of that open change of the TRE, once
 * the old SHO consented. M2M_OK with r naming it, or the reason with why. */
static m2m_reason change_target(drf *d, const ASN1_OCTET_STRING *change_id, drf_registration *r, char *why, size_t len)
{
	drf_change c;
	int rc = drf_change_load(d, ASN1_STRING_get0_data(change_id), &c);
	if (rc < 0) {
		snprintf(why, len, "the changes of %s cannot be read", r->tre);
		return M2M_R_INTERNAL;
	}
	if (rc > 0 || strcmp(c.tre, r->tre)) {
		snprintf(why, len, "no change of subscription of TRE %s has that changeId", r->tre);
		return M2M_R_NOT_FOUND;
	}
	if (c.state != DRF_CHANGE_CONSENTED) {
		snprintf(why, len, "the change of TRE %s from %s to %s is %s, not consented", r->tre, c.from_sho, c.to_sho,
			 drf_change_state_name(c.state));
		return M2M_R_WRONG_STATE;
	}
	snprintf(r->sho, sizeof r->sho, "%s", c.to_sho);
	snprintf(r->dpf, sizeof r->dpf, "%s", c.to_dpf);
	return M2M_OK;
}

void drf_discovery_request(drf *d, m2m_request *req)
{
	char why[256];
	uint8_t nonce[DRF_NONCE_LEN];
	M2M_DISCOVERY_REQUEST *q = NULL;
	drf_registration r;
	if (!m2m_identity_ready(d->id)) {
		m2m_refuse(d->node, req, M2M_R_WRONG_STATE, "the DRF holds no certificate yet: it cannot sign a ticket");
		return;
	}
	m2m_reason rc = verify(d, req->env.body, &q, why, sizeof why);
	if (rc == M2M_OK)
		rc = registered(d, q, &r, nonce, why, sizeof why);
	if (rc == M2M_OK && q->change_id)
		rc = change_target(d, q->change_id, &r, why, sizeof why);
	if (rc != M2M_OK) {
		M2M_DISCOVERY_REQUEST_free(q);
		m2m_refuse(d->node, req, rc, "%s", why);
		return;
	}
	int change = q->change_id != NULL;
	M2M_SIGNED_OBJECT *so = drf_ticket(d, &r, nonce, q->change_id);
	M2M_DISCOVERY_REQUEST_free(q);
	if (!so) {
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the ticket for %s cannot be signed or stored", r.tre);
		return;
	}
	m2m_info("ticket for TRE %s (M2ME %s): SHO %s, DPF %s%s, relayed by %s", r.tre, r.m2me, r.sho, r.dpf,
		 change ? " (a change of subscription)" : "", req->env.sender);
	m2m_reply(d->node, req, M2M_MSG_DISCOVERY_RESPONSE, so);
	M2M_SIGNED_OBJECT_free(so);
}
