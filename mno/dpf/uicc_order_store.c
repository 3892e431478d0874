/* SHO B's 3b tables (dpf_impl.h, schema.c): one row per change, one per card challenge of it,
 * written inside the caller's step. */
#include "dpf/dpf_impl.h"

#include "log/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the change ----------------------------------------------------------------------------- */

int dpf_uicc_order_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], dpf_uicc_creds *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT tre, iccid, imsi, sqn_start FROM dpf_uicc_order WHERE change_id = ?");
	memset(o, 0, sizeof *o);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memcpy(o->change_id, change_id, DPF_CHANGE_ID_LEN);
		m2m_store_column_text(st, 0, o->tre, sizeof o->tre);
		m2m_store_column_text(st, 1, o->iccid, sizeof o->iccid);
		m2m_store_column_text(st, 2, o->imsi, sizeof o->imsi);
		o->sqn_start = (uint64_t)sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int dpf_uicc_order_insert(sqlite3 *db, const dpf_uicc_creds *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO dpf_uicc_order (change_id, tre, iccid, created, changed)"
						 " VALUES (?1, ?2, ?3, ?4, ?4)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, o->change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->tre, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->iccid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st);
}

int dpf_uicc_order_made(sqlite3 *db, const dpf_uicc_creds *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_uicc_order SET imsi = ?1, sqn_start = ?2, changed = ?3"
						 " WHERE change_id = ?4 AND imsi IS NULL");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, o->imsi, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)o->sqn_start);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 4, o->change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int dpf_uicc_order_forget(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM dpf_uicc_order WHERE change_id = ?1 AND imsi IS NULL"
						 " AND NOT EXISTS (SELECT 1 FROM dpf_uicc_package WHERE change_id = ?1)");
	if (st)
		sqlite3_bind_blob(st, 1, change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

/* ---- its packages ----------------------------------------------------------------------------- */

#define PACKAGE_COLUMNS "SELECT id, change_id, card_nonce, state, card_cert, package FROM dpf_uicc_package "

void dpf_uicc_package_clear(dpf_uicc_package *p)
{
	free(p->card_cert);
	free(p->package);
	memset(p, 0, sizeof *p);
}

static int read_package(sqlite3_stmt *st, dpf_uicc_package *p)
{
	p->id = sqlite3_column_int64(st, 0);
	const char *state = (const char *)sqlite3_column_text(st, 3);
	p->state = state && !strcmp(state, "packaged") ? DPF_UICC_PACKAGED : DPF_UICC_VALIDATING;
	if (m2m_store_column_blob(st, 1, p->change_id, sizeof p->change_id) ||
	    m2m_store_column_blob(st, 2, p->card_nonce, sizeof p->card_nonce) ||
	    dpf_column_copy(st, 4, &p->card_cert, &p->card_cert_len) || dpf_column_copy(st, 5, &p->package, &p->package_len) ||
	    (p->state == DPF_UICC_PACKAGED) != (p->package != NULL)) {
		m2m_error("the 3b package row %lld is damaged", (long long)p->id);
		return -1;
	}
	return 0;
}

/* Runs a prepared single-row query: 0 with the row, 1 none, -1 error. */
static int fetch(sqlite3_stmt *st, dpf_uicc_package *p)
{
	memset(p, 0, sizeof *p);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	int result = rc == SQLITE_ROW ? read_package(st, p) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_finalize(st);
	if (result < 0)
		dpf_uicc_package_clear(p);
	return result;
}

int dpf_uicc_package_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN],
			  const uint8_t card_nonce[DPF_CARD_NONCE_LEN], dpf_uicc_package *p)
{
	sqlite3_stmt *st = m2m_store_prepare(db, PACKAGE_COLUMNS "WHERE change_id = ? AND card_nonce = ?");
	if (st) {
		sqlite3_bind_blob(st, 1, change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, card_nonce, DPF_CARD_NONCE_LEN, SQLITE_STATIC);
	}
	return fetch(st, p);
}

int dpf_uicc_package_by_id(sqlite3 *db, int64_t id, dpf_uicc_package *p)
{
	sqlite3_stmt *st = m2m_store_prepare(db, PACKAGE_COLUMNS "WHERE id = ?");
	if (st)
		sqlite3_bind_int64(st, 1, id);
	return fetch(st, p);
}

int dpf_uicc_package_insert(sqlite3 *db, dpf_uicc_package *p)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO dpf_uicc_package (change_id, card_nonce, state, card_cert,"
						 " created, changed) VALUES (?1, ?2, 'validating', ?3, ?4, ?4)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, p->change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, p->card_nonce, DPF_CARD_NONCE_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, p->card_cert, (int)p->card_cert_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	if (m2m_store_run(db, st))
		return -1;
	p->id = sqlite3_last_insert_rowid(db);
	p->state = DPF_UICC_VALIDATING;
	return 0;
}

int dpf_uicc_package_packaged(sqlite3 *db, const dpf_uicc_package *p)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_uicc_package SET state = 'packaged', package = ?1, changed = ?2"
						 " WHERE id = ?3 AND state = 'validating'");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, p->package, (int)p->package_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 3, p->id);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int dpf_uicc_package_delete(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM dpf_uicc_package WHERE id = ? AND state = 'validating'");
	if (st)
		sqlite3_bind_int64(st, 1, id);
	return m2m_store_run(db, st);
}
