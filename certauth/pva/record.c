/*
 * The latest outcome per TRE (table pva_validation): when it was last validated, with what
 * result and until when. This answers validationStatus, and is what peers.md asks of a verifier
 * (Keylime's gap: "no last-attestation time").
 */
#include "pva_impl.h"

#include <stdio.h>
#include <string.h>

int pva_record_save(sqlite3 *db, const pva_record *r)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT OR REPLACE INTO pva_validation (tre, relying_party, mode, result,"
					   " reasons, nonce, validated_at, valid_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, r->tre, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->relying_party, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)r->mode);
	sqlite3_bind_text(st, 4, pva_result_name(r->result), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->reasons, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, r->nonce, PVA_NONCE_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, r->validated_at);
	sqlite3_bind_int64(st, 8, r->valid_until);
	return m2m_store_run(db, st);
}

static int row_to_record(sqlite3_stmt *st, pva_record *r)
{
	char result[16];
	memset(r, 0, sizeof *r);
	m2m_store_column_text(st, 0, r->tre, sizeof r->tre);
	m2m_store_column_text(st, 1, r->relying_party, sizeof r->relying_party);
	r->mode = (m2m_validation_mode)sqlite3_column_int(st, 2);
	m2m_store_column_text(st, 3, result, sizeof result);
	int res = pva_result_parse(result);
	if (res < 0)
		return -1;
	r->result = (m2m_verdict_result)res;
	m2m_store_column_text(st, 4, r->reasons, sizeof r->reasons);
	if (m2m_store_column_blob(st, 5, r->nonce, PVA_NONCE_LEN))
		return -1;
	r->validated_at = sqlite3_column_int64(st, 6);
	r->valid_until = sqlite3_column_int64(st, 7);
	return 0;
}

int pva_record_load(sqlite3 *db, const char *tre, pva_record *r)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT tre, relying_party, mode, result, reasons, nonce, validated_at,"
					   " valid_until FROM pva_validation WHERE tre = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, tre, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int result = rc == SQLITE_ROW ? row_to_record(st, r) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_finalize(st);
	return result;
}

/* A tamper event after a verdict makes that verdict wrong from then on: the TRE's record becomes
 * a failure (tamperDetected), whatever it was, so that a relying party asking validationStatus
 * before it acts learns of it. A TRE never validated keeps no record: it has nothing to revoke. */
int pva_record_tampered(sqlite3 *db, const char *tre)
{
	char reasons[8];
	snprintf(reasons, sizeof reasons, "%d", (int)M2M_R_TAMPER_DETECTED);
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE pva_validation SET result = 'fail', reasons = ? WHERE tre = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, reasons, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tre, -1, SQLITE_STATIC);
	return m2m_store_run(db, st);
}
