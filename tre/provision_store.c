/*
 * The provisioning procedure as persisted (table tre_provision, one row): what provision.c and
 * switch.c read at the start of a step and write before its reply. The step to relay is kept as
 * the DER of its RelayStep, so that asking again gives it back byte for byte, also after a
 * restart; a change of subscription adds its changeId and the switch deadline (wall-clock
 * seconds, so that it survives a power cycle).
 */
#include "tre.h"

#include <stdlib.h>
#include <string.h>

void tre_provision_free(tre_provision_state *p)
{
	free(p->ticket);
	free(p->step);
	free(p->card);
	memset(p, 0, sizeof *p);
}

int tre_copy_blob(sqlite3_stmt *st, int col, uint8_t **out, size_t *len)
{
	*len = (size_t)sqlite3_column_bytes(st, col);
	*out = *len ? malloc(*len) : NULL;
	if (*len && !*out)
		return -1;
	if (*len)
		memcpy(*out, sqlite3_column_blob(st, col), *len);
	return 0;
}

int tre_provision_load(tre *t, tre_provision_state *p)
{
	memset(p, 0, sizeof *p);
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT state, reason, refusal, nonce, nonce2, mcim_id, sho, dpf,"
				       " ticket, step, change_id, deadline, card FROM tre_provision WHERE id = 1");
	int rc = st && sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	if (!rc) {
		p->state = (m2m_provision_state)sqlite3_column_int(st, 0);
		p->reason = (m2m_reason)sqlite3_column_int(st, 1);
		p->refusal = (m2m_reason)sqlite3_column_int(st, 2);
		m2m_store_column_blob(st, 3, p->nonce, TRE_NONCE_LEN);
		m2m_store_column_blob(st, 4, p->nonce2, TRE_NONCE_LEN);
		m2m_store_column_blob(st, 5, p->mcim_id, TRE_MCIM_ID_LEN);
		m2m_store_column_text(st, 6, p->sho, sizeof p->sho);
		m2m_store_column_text(st, 7, p->dpf, sizeof p->dpf);
		p->has_change = !m2m_store_column_blob(st, 10, p->change_id, TRE_CHANGE_ID_LEN);
		p->deadline = sqlite3_column_int64(st, 11);
		rc = tre_copy_blob(st, 8, &p->ticket, &p->ticket_len) || tre_copy_blob(st, 9, &p->step, &p->step_len) ||
		     tre_copy_blob(st, 12, &p->card, &p->card_len);
	}
	sqlite3_finalize(st);
	return rc;
}

int tre_provision_save(tre *t, const tre_provision_state *p)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "UPDATE tre_provision SET state = ?1, reason = ?2, refusal = ?3,"
				       " nonce = ?4, nonce2 = ?5, mcim_id = ?6, sho = ?7, dpf = ?8, ticket = ?9, step = ?10,"
				       " change_id = ?11, deadline = ?12, card = ?13 WHERE id = 1");
	if (st) {
		sqlite3_bind_int(st, 1, p->state);
		sqlite3_bind_int(st, 2, p->reason);
		sqlite3_bind_int(st, 3, p->refusal);
		sqlite3_bind_blob(st, 4, p->nonce, TRE_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 5, p->nonce2, TRE_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 6, p->mcim_id, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 7, p->sho, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, p->dpf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 9, p->ticket, (int)p->ticket_len, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 10, p->step, (int)p->step_len, SQLITE_TRANSIENT);
		if (p->has_change)
			sqlite3_bind_blob(st, 11, p->change_id, TRE_CHANGE_ID_LEN, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, 11);
		sqlite3_bind_int64(st, 12, p->deadline);
		sqlite3_bind_blob(st, 13, p->card, (int)p->card_len, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}

int tre_provision_step(tre_provision_state *p, const char *destination, int type, uint8_t *body, size_t len)
{
	M2M_RELAY_STEP *s = M2M_RELAY_STEP_new();
	unsigned char *der = NULL;
	int n = -1;
	if (s && !m2m_set_str(s->destination, destination) && ASN1_OCTET_STRING_set(s->body, body, (int)len)) {
		s->message_type = type;
		n = i2d_M2M_RELAY_STEP(s, &der);
	}
	M2M_RELAY_STEP_free(s);
	OPENSSL_free(body);
	if (n <= 0)
		return -1;
	free(p->step);
	p->step = malloc((size_t)n);
	if (p->step)
		memcpy(p->step, der, (size_t)n);
	p->step_len = p->step ? (size_t)n : 0;
	OPENSSL_free(der);
	return p->step ? 0 : -1;
}

int tre_provision_card(tre_provision_state *p, const uint8_t *apdu, size_t len)
{
	free(p->card);
	p->card = malloc(len);
	p->card_len = p->card ? len : 0;
	if (p->card)
		memcpy(p->card, apdu, len);
	return p->card ? 0 : -1;
}

/* Neither a step to relay nor a card APDU. */
void tre_provision_no_step(tre_provision_state *p)
{
	free(p->step);
	free(p->card);
	p->step = p->card = NULL;
	p->step_len = p->card_len = 0;
}

void tre_provision_fail(tre_provision_state *p, m2m_reason reason)
{
	p->state = M2M_PROV_FAILED;
	p->reason = reason;
	tre_provision_no_step(p);
}

int tre_provision_state_now(tre *t)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT state FROM tre_provision WHERE id = 1");
	int s = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return s;
}
