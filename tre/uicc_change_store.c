/*
 * The 3b procedure as persisted (table tre_uicc_procedure, one row, written in the transaction
 * of every step together with tre_provision) and the changes the DRF's triggers opened (table
 * tre_uicc_change, trigger.c). Nothing here is secret: the card's certificate and challenge, the
 * ICCID, the IMSIs, and B's package, which is ciphertext for the card's key alone.
 */
#include "tre.h"

#include <stdlib.h>
#include <string.h>

void tre_uicc_procedure_free(tre_uicc_procedure *u)
{
	free(u->certificate);
	free(u->package);
	memset(u, 0, sizeof *u);
	u->result = -1;
}

int tre_uicc_procedure_load(tre *t, tre_uicc_procedure *u)
{
	memset(u, 0, sizeof *u);
	u->result = -1;
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT change_id, phase, probe, card_switched, iccid, certificate,"
				       " card_nonce, sho, imsi, package, block, result, attached, attach_reason"
				       " FROM tre_uicc_procedure WHERE id = 1");
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		m2m_store_column_blob(st, 0, u->change_id, TRE_CHANGE_ID_LEN);
		u->phase = (tre_uicc_phase)sqlite3_column_int(st, 1);
		u->probe = (tre_uicc_phase)sqlite3_column_int(st, 2);
		u->card_switched = sqlite3_column_int(st, 3);
		m2m_store_column_text(st, 4, u->iccid, sizeof u->iccid);
		m2m_store_column_blob(st, 6, u->card_nonce, TRE_CARD_NONCE_LEN);
		m2m_store_column_text(st, 7, u->sho, sizeof u->sho);
		m2m_store_column_text(st, 8, u->imsi, sizeof u->imsi);
		u->block = sqlite3_column_int(st, 10);
		u->result = sqlite3_column_int(st, 11);
		m2m_store_column_text(st, 12, u->attached, sizeof u->attached);
		u->attach_reason = (m2m_reason)sqlite3_column_int(st, 13);
		if (tre_copy_blob(st, 5, &u->certificate, &u->certificate_len) || tre_copy_blob(st, 9, &u->package, &u->package_len))
			rc = SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int tre_uicc_procedure_save(tre *t, const tre_uicc_procedure *u)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT OR REPLACE INTO tre_uicc_procedure (id, change_id, phase, probe,"
				       " card_switched, iccid, certificate, card_nonce, sho, imsi, package, block, result,"
				       " attached, attach_reason) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
				       " ?12, ?13, ?14)");
	if (st) {
		sqlite3_bind_blob(st, 1, u->change_id, TRE_CHANGE_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, u->phase);
		sqlite3_bind_int(st, 3, u->probe);
		sqlite3_bind_int(st, 4, u->card_switched);
		sqlite3_bind_text(st, 5, u->iccid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 6, u->certificate, (int)u->certificate_len, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 7, u->card_nonce, TRE_CARD_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, u->sho, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 9, u->imsi, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 10, u->package, (int)u->package_len, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 11, u->block);
		sqlite3_bind_int(st, 12, u->result);
		sqlite3_bind_text(st, 13, u->attached, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 14, u->attach_reason);
	}
	return m2m_store_run(t->db, st);
}

int tre_uicc_change_open(tre *t, tre_uicc_change *c)
{
	memset(c, 0, sizeof *c);
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT change_id FROM tre_uicc_change"
				       " ORDER BY triggered DESC, change_id DESC LIMIT 1");
	if (!st)
		return -1;
	uint8_t id[TRE_CHANGE_ID_LEN];
	int rc = sqlite3_step(st);
	int found = rc == SQLITE_ROW && !m2m_store_column_blob(st, 0, id, sizeof id);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 1 : -1;
	return found ? tre_uicc_change_load(t, id, c) : -1;
}

/* A change triggered before the one done cannot be pending any more: the card has B's
 * credentials now. One triggered after it stays open. */
int tre_uicc_change_close(tre *t, const uint8_t change_id[TRE_CHANGE_ID_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "DELETE FROM tre_uicc_change WHERE change_id = ?1 OR triggered <="
				       " ifnull((SELECT triggered FROM tre_uicc_change WHERE change_id = ?1), -1) - 1");
	if (st)
		sqlite3_bind_blob(st, 1, change_id, TRE_CHANGE_ID_LEN, SQLITE_TRANSIENT);
	return m2m_store_run(t->db, st);
}
