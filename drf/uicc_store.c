/*
 * What the DRF keeps of an Alternative 3b change besides its drf_change row (schema.c, migration
 * 3): the nonces it signed into triggers (drf_trigger_nonce), and the card the TRE registered with
 * SHO B's package for the card's challenge (drf_uicc_change). The package is ciphertext for the
 * card (CMS AuthEnvelopedData): nothing here is secret. Every write happens in the step, callback
 * step or tick transaction whose message or answer depends on it.
 */
#include "drf.h"

#include <stdio.h>
#include <string.h>

int drf_trigger_nonce_insert(drf *d, const uint8_t id[DRF_ID_LEN], const uint8_t nonce[DRF_CARD_NONCE_LEN], int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "INSERT INTO drf_trigger_nonce (nonce, change_id, issued_at) VALUES (?1, ?2, ?3)");
	if (st) {
		sqlite3_bind_blob(st, 1, nonce, DRF_CARD_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, id, DRF_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now);
	}
	return m2m_store_run(d->db, st);
}

int drf_trigger_nonce_issued(drf *d, const uint8_t id[DRF_ID_LEN], const uint8_t nonce[DRF_CARD_NONCE_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "SELECT 1 FROM drf_trigger_nonce WHERE nonce = ?1 AND change_id = ?2");
	int rc = -1;
	if (st) {
		sqlite3_bind_blob(st, 1, nonce, DRF_CARD_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, id, DRF_ID_LEN, SQLITE_TRANSIENT);
		int step = sqlite3_step(st);
		rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

int drf_uicc_load(drf *d, const uint8_t id[DRF_ID_LEN], drf_uicc *u)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "SELECT iccid, card_certificate, card_nonce, b_imsi"
						    " FROM drf_uicc_change WHERE change_id = ?1");
	int rc = -1;
	memset(u, 0, sizeof *u);
	if (st) {
		sqlite3_bind_blob(st, 1, id, DRF_ID_LEN, SQLITE_TRANSIENT);
		int step = sqlite3_step(st);
		rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? 1 : -1;
	}
	int n = rc == 0 ? sqlite3_column_bytes(st, 1) : 0;
	if (rc == 0 && (n < 1 || n > DRF_CARD_CERT_MAX || m2m_store_column_blob(st, 2, u->card_nonce, DRF_CARD_NONCE_LEN)))
		rc = -1;
	if (rc == 0) {
		memcpy(u->id, id, DRF_ID_LEN);
		m2m_store_column_text(st, 0, u->iccid, sizeof u->iccid);
		memcpy(u->card_cert, sqlite3_column_blob(st, 1), (size_t)n);
		u->card_cert_len = (size_t)n;
		u->has_package = sqlite3_column_type(st, 3) != SQLITE_NULL;
		m2m_store_column_text(st, 3, u->b_imsi, sizeof u->b_imsi);
	}
	sqlite3_finalize(st);
	return rc;
}

int drf_uicc_register(drf *d, const drf_uicc *u, int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "INSERT INTO drf_uicc_change (change_id, iccid, card_certificate, card_nonce,"
						    " registered_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (change_id) DO UPDATE"
						    " SET iccid = ?2, card_certificate = ?3, card_nonce = ?4, registered_at = ?5,"
						    " b_imsi = NULL, package = NULL");
	if (st) {
		sqlite3_bind_blob(st, 1, u->id, DRF_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, u->iccid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, u->card_cert, (int)u->card_cert_len, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 4, u->card_nonce, DRF_CARD_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, now);
	}
	return m2m_store_run(d->db, st);
}

int drf_uicc_set_package(drf *d, const uint8_t id[DRF_ID_LEN], const M2M_UICC_CREDENTIAL_PACKAGE *k)
{
	char imsi[DRF_IMSI_MAX + 1];
	if (m2m_digits(k->imsi, imsi, sizeof imsi, 6, DRF_IMSI_MAX))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(d->db, "UPDATE drf_uicc_change SET b_imsi = ?2, package = ?3 WHERE change_id = ?1");
	if (st) {
		sqlite3_bind_blob(st, 1, id, DRF_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, imsi, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 3, ASN1_STRING_get0_data(k->package), ASN1_STRING_length(k->package), SQLITE_TRANSIENT);
	}
	return m2m_store_run(d->db, st) || sqlite3_changes(d->db) != 1 ? -1 : 0;
}

M2M_UICC_CREDENTIAL_PACKAGE *drf_uicc_package(drf *d, const uint8_t id[DRF_ID_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "SELECT c.to_sho, u.b_imsi, u.package FROM drf_uicc_change u"
						    " JOIN drf_change c USING (change_id) WHERE change_id = ?1 AND u.package IS NOT NULL");
	M2M_UICC_CREDENTIAL_PACKAGE *k = NULL;
	if (st)
		sqlite3_bind_blob(st, 1, id, DRF_ID_LEN, SQLITE_TRANSIENT);
	if (st && sqlite3_step(st) == SQLITE_ROW && (k = M2M_UICC_CREDENTIAL_PACKAGE_new()) &&
	    !(ASN1_OCTET_STRING_set(k->change_id, id, DRF_ID_LEN) &&
	      !m2m_set_str(k->sho, (const char *)sqlite3_column_text(st, 0)) &&
	      !m2m_set_digits(&k->imsi, (const char *)sqlite3_column_text(st, 1)) &&
	      ASN1_OCTET_STRING_set(k->package, sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2)))) {
		M2M_UICC_CREDENTIAL_PACKAGE_free(k);
		k = NULL;
	}
	sqlite3_finalize(st);
	return k;
}
