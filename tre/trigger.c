/*
 * The registration operator's treTrigger of Alternative 3b (docs/alt3b.md; TR claim 2, T-3b-3):
 *   treTrigger     {imsi, trigger: SignedObject over TreActivate {changeId, tre, drf, nonce,
 *                  issuedAt}}, routed DRF -> SHO A -> the visited network -> the M2ME -> here
 *   treTriggerAck  {changeId}, once the change is persisted
 * Like an owner's command (commands.c) it may come over any path: its authority is the DRF's
 * signature. It is accepted only when the signer's certificate chains to the agency's root and
 * is not revoked (a current CRL is held or fetched first), has profile registration and names
 * (CN) the DRF this TRE was configured with, which TreActivate.drf must name too; when it is for
 * this TRE; when issuedAt is within trigger_window seconds of now; and when its nonce was never
 * accepted (every accepted nonce is kept for good). The change it opens is then stored (changeId,
 * DRF, nonce): the card's certificate and challenge, and the registration with the DRF, follow
 * from it. A refusal stores nothing; the IMSI was the routers' and is not read here.
 */
#include "tre.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct activation {
	tre_uicc_change change;
	char tre[M2M_ENTITY_MAX + 1];
	int64_t issued_at;
} activation;

/* ---- checks ------------------------------------------------------------------------------- */

static m2m_reason read_activation(const M2M_TRE_ACTIVATE *a, activation *v, char *why, size_t len)
{
	if (m2m_read_octets(a->change_id, v->change.change_id, TRE_CHANGE_ID_LEN) ||
	    m2m_read_name(a->tre, v->tre, M2M_ENTITY_MAX) || m2m_read_name(a->drf, v->change.drf, M2M_ENTITY_MAX) ||
	    m2m_read_octets(a->nonce, v->change.nonce, TRE_TRIGGER_NONCE_LEN) || m2m_read_time(a->issued_at, &v->issued_at))
		return snprintf(why, len, "the trigger needs changeId (16 bytes), tre, drf, nonce (16 bytes), issuedAt"),
		       M2M_R_BAD_BODY;
	return M2M_OK;
}

/* For this TRE, from its DRF, issued lately. */
static m2m_reason check_activation(const tre *t, const activation *v, char *why, size_t len)
{
	int64_t age = (int64_t)time(NULL) - v->issued_at;
	if (strcmp(v->change.drf, t->s.drf))
		return snprintf(why, len, "the trigger names %s, not this TRE's registration operator", v->change.drf),
		       M2M_R_NOT_AUTHORISED;
	if (strcmp(v->tre, t->entity))
		return snprintf(why, len, "the trigger is for %s, not this TRE", v->tre), M2M_R_WRONG_RECIPIENT;
	if (age > t->s.trigger_window || -age > t->s.trigger_window)
		return snprintf(why, len, "the trigger is stale: issued %lld s %s, the window is %d s",
				(long long)(age < 0 ? -age : age), age < 0 ? "ahead" : "ago", t->s.trigger_window),
		       M2M_R_OUT_OF_WINDOW;
	return M2M_OK;
}

/* 0: never accepted; 1: used; -1: the database failed. */
static int nonce_used(tre *t, const uint8_t nonce[TRE_TRIGGER_NONCE_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT 1 FROM tre_trigger_nonce WHERE nonce = ?1");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, nonce, TRE_TRIGGER_NONCE_LEN, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static m2m_reason accept(tre *t, const M2M_SIGNED_OBJECT *so, activation *v, char *why, size_t len)
{
	void *value = NULL;
	tre_signer signer;
	int used = 0;
	m2m_reason r = tre_verify_signed(t, so, ASN1_ITEM_rptr(M2M_TRE_ACTIVATE), "the trigger", &value, &signer, why, len);
	if (r == M2M_OK && (r = read_activation(value, v, why, len)) == M2M_OK &&
	    (r = tre_signer_check(&signer, M2M_PROFILE_REGISTRATION, t->s.drf, M2M_R_NOT_AUTHORISED, M2M_R_NOT_AUTHORISED,
				  "the trigger", why, len)) == M2M_OK &&
	    (r = check_activation(t, v, why, len)) == M2M_OK && (used = nonce_used(t, v->change.nonce)) != 0)
		r = used < 0 ? M2M_R_INTERNAL : M2M_R_REPLAYED,
		snprintf(why, len, used < 0 ? "the nonces could not be read" : "this trigger's nonce was used already");
	M2M_TRE_ACTIVATE_free(value);
	return r;
}

/* ---- the change it opens ------------------------------------------------------------------ */

/* The nonce used, the change stored (the DRF's new trigger for the same change takes its nonce). */
static int keep(tre *t, const activation *v)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT INTO tre_trigger_nonce (nonce, used) VALUES (?1, ?2)");
	if (st) {
		sqlite3_bind_blob(st, 1, v->change.nonce, TRE_TRIGGER_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	}
	if (m2m_store_run(t->db, st))
		return -1;
	st = m2m_store_prepare(t->db, "INSERT INTO tre_uicc_change (change_id, drf, nonce, issued_at, triggered)"
				      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (change_id) DO UPDATE SET"
				      " drf = excluded.drf, nonce = excluded.nonce, issued_at = excluded.issued_at,"
				      " triggered = excluded.triggered");
	if (st) {
		sqlite3_bind_blob(st, 1, v->change.change_id, TRE_CHANGE_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, v->change.drf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, v->change.nonce, TRE_TRIGGER_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)v->issued_at);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	}
	return m2m_store_run(t->db, st);
}

int tre_uicc_change_load(tre *t, const uint8_t change_id[TRE_CHANGE_ID_LEN], tre_uicc_change *c)
{
	memset(c, 0, sizeof *c);
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT drf, nonce FROM tre_uicc_change WHERE change_id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, change_id, TRE_CHANGE_ID_LEN, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == TRE_TRIGGER_NONCE_LEN) {
		memcpy(c->change_id, change_id, TRE_CHANGE_ID_LEN);
		snprintf(c->drf, sizeof c->drf, "%s", (const char *)sqlite3_column_text(st, 0));
		memcpy(c->nonce, sqlite3_column_blob(st, 1), TRE_TRIGGER_NONCE_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* All or nothing: a refusal uses no nonce and opens no change. */
m2m_reason tre_trigger_run(tre *t, const M2M_TRE_TRIGGER *q, tre_uicc_change *c, char *why, size_t len)
{
	activation v = {0};
	if (tre_savepoint(t->db))
		return snprintf(why, len, "no transaction"), M2M_R_INTERNAL;
	m2m_reason r = accept(t, q->trigger, &v, why, len);
	if (r == M2M_OK && keep(t, &v))
		r = M2M_R_INTERNAL, snprintf(why, len, "the change could not be stored");
	if (tre_release(t->db, r != M2M_OK) && r == M2M_OK)
		r = M2M_R_INTERNAL, snprintf(why, len, "the change could not be stored");
	if (r == M2M_OK) {
		*c = v.change;
		m2m_info("treTrigger: change opened by %s, issued %lld s ago", c->drf, (long long)(time(NULL) - v.issued_at));
	}
	return r;
}

static void answer(tre *t, m2m_request *req)
{
	char why[256] = "";
	tre_uicc_change c;
	M2M_CHANGE_ACK *ack = M2M_CHANGE_ACK_new();
	m2m_reason r = tre_trigger_run(t, req->env.body, &c, why, sizeof why);
	if (r == M2M_OK && !ASN1_OCTET_STRING_set(ack->change_id, c.change_id, TRE_CHANGE_ID_LEN))
		r = M2M_R_INTERNAL, snprintf(why, sizeof why, "out of memory");
	if (r)
		m2m_warn("treTrigger refused: %s: %s", m2m_reason_name(r), why);
	m2m_answer(t->node, req, r, M2M_MSG_TRE_TRIGGER_ACK, ack, why);
	M2M_CHANGE_ACK_free(ack);
}

void tre_trigger(tre *t, m2m_request *req)
{
	tre_with_crl(t, req, 0, answer);
}
