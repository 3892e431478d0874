/*
 * The nonces the PVA issued (table pva_challenge). A nonce is single use: it leaves the 'issued'
 * state exactly once, when evidence for it is appraised ('used') or when the TRE did not answer
 * ('abandoned'). Both are final, so evidence that comes back with a nonce already spent is
 * refused nonceReplayed even across a restart.
 */
#include "pva_impl.h"

#include <string.h>

int pva_challenge_issue(sqlite3 *db, const pva_challenge *c, const char *relying_party, int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO pva_challenge (nonce, tre, relying_party, mode, min_assurance,"
					   " state, issued, expires) VALUES (?, ?, ?, ?, ?, 'issued', ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, c->nonce, PVA_NONCE_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->tre, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, relying_party, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)c->mode);
	sqlite3_bind_int(st, 5, c->min_assurance);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, c->expires);
	return m2m_store_run(db, st);
}

static int row_to_challenge(sqlite3_stmt *st, pva_challenge *c)
{
	char state[16];
	memset(c, 0, sizeof *c);
	if (m2m_store_column_blob(st, 0, c->nonce, PVA_NONCE_LEN))
		return -1;
	m2m_store_column_text(st, 1, c->tre, sizeof c->tre);
	m2m_store_column_text(st, 2, c->relying_party, sizeof c->relying_party);
	c->mode = (m2m_validation_mode)sqlite3_column_int(st, 3);
	c->min_assurance = sqlite3_column_int(st, 4);
	m2m_store_column_text(st, 5, state, sizeof state);
	c->used = strcmp(state, "issued") != 0;
	c->expires = sqlite3_column_int64(st, 6);
	return 0;
}

int pva_challenge_load(sqlite3 *db, const uint8_t nonce[PVA_NONCE_LEN], pva_challenge *c)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT nonce, tre, relying_party, mode, min_assurance, state, expires"
					   " FROM pva_challenge WHERE nonce = ?");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, nonce, PVA_NONCE_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int result = rc == SQLITE_ROW ? row_to_challenge(st, c) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_finalize(st);
	return result;
}

int pva_challenge_spend(sqlite3 *db, const uint8_t nonce[PVA_NONCE_LEN], const pva_outcome *o)
{
	char reasons[PVA_REASONS_TEXT];
	pva_reasons_text(o, reasons, sizeof reasons);
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE pva_challenge SET state = 'used', result = ?, reasons = ?"
					   " WHERE nonce = ? AND state = 'issued'");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, pva_result_name(o->result), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reasons, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, nonce, PVA_NONCE_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

int pva_challenge_abandon(sqlite3 *db, const uint8_t nonce[PVA_NONCE_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE pva_challenge SET state = 'abandoned' WHERE nonce = ? AND state = 'issued'");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, nonce, PVA_NONCE_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

int pva_challenge_abandon_all(sqlite3 *db)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE pva_challenge SET state = 'abandoned' WHERE state = 'issued'");
	if (!st || m2m_store_run(db, st))
		return -1;
	return sqlite3_changes(db);
}
