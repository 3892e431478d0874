/*
 * The MCIMs the TRE holds (TR O4; brief §2.1 step 10: "installs into an isolated slot"). Each
 * MCIM has a sealed slot "mcim:<hex id>" for its K and OPc (keystore.c), a plain row (id, owner,
 * IMSI, version, state, slot) and an SQN state (credential.c). The row and the SQN state refer
 * to the slot ON DELETE CASCADE, so that deleting the slot (a command, a zeroisation) removes
 * everything of the MCIM at once; secure_delete overwrites the pages.
 *
 * Isolation between MCIMs (T-1a-12): every operation on an existing MCIM names it by id and
 * owner, and an MCIM of another owner is refused (notOwner) rather than found. At most one MCIM
 * is active (a partial unique index enforces it).
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

static void slot_name(const uint8_t id[TRE_MCIM_ID_LEN], char out[TRE_SLOT_MAX + 1])
{
	char hex[2 * TRE_MCIM_ID_LEN + 1];
	m2m_hex(id, TRE_MCIM_ID_LEN, hex);
	snprintf(out, TRE_SLOT_MAX + 1, "mcim:%s", hex);
}

static void read_row(sqlite3_stmt *st, tre_credential *m)
{
	memset(m, 0, sizeof *m);
	m->kind = M2M_CREDENTIAL_MCIM;
	m2m_store_column_blob(st, 0, m->mcim_id, TRE_MCIM_ID_LEN);
	m2m_store_column_text(st, 1, m->owner, sizeof m->owner);
	m2m_store_column_text(st, 2, m->imsi, sizeof m->imsi);
	m->version = sqlite3_column_int(st, 3);
	m->state = (m2m_mcim_state)sqlite3_column_int(st, 4);
	m2m_store_column_text(st, 5, m->slot, sizeof m->slot);
}

#define COLUMNS "SELECT mcim_id, owner, imsi, version, state, slot FROM tre_mcim"

/* ---- installing ------------------------------------------------------------------------- */

static int insert_row(tre *t, const tre_credential *m)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT INTO tre_mcim (mcim_id, owner, imsi, version, state, slot)"
				       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (st) {
		sqlite3_bind_blob(st, 1, m->mcim_id, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, m->owner, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, m->imsi, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 4, m->version);
		sqlite3_bind_int(st, 5, m->state);
		sqlite3_bind_text(st, 6, m->slot, -1, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}

int tre_mcim_install(tre *t, tre_credential *m, const uint8_t k[TRE_AKA_KEY_LEN], const uint8_t opc[TRE_AKA_KEY_LEN],
		     uint64_t sqn, int may_activate)
{
	tre_credential active;
	int none = tre_mcim_active(t, &active);
	if (none < 0)
		return -1;
	m->kind = M2M_CREDENTIAL_MCIM;
	m->state = none && may_activate ? M2M_MCIM_ACTIVE : M2M_MCIM_INSTALLED;
	slot_name(m->mcim_id, m->slot);
	uint8_t secret[2 * TRE_AKA_KEY_LEN];
	memcpy(secret, k, TRE_AKA_KEY_LEN);
	memcpy(secret + TRE_AKA_KEY_LEN, opc, TRE_AKA_KEY_LEN);
	int failed = tre_savepoint(t->db) || tre_slot_put(t, m->slot, m->owner, secret, sizeof secret) ||
		     insert_row(t, m) || tre_sqn_create(t, m->slot, sqn);
	m2m_wipe(secret, sizeof secret);
	return tre_release(t->db, failed);
}

/* ---- finding ---------------------------------------------------------------------------- */

int tre_mcim_find(tre *t, const uint8_t id[TRE_MCIM_ID_LEN], const char *owner, tre_credential *m)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, COLUMNS " WHERE mcim_id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
	int rc = M2M_R_NOT_FOUND;
	if (sqlite3_step(st) == SQLITE_ROW) {
		read_row(st, m);
		rc = strcmp(m->owner, owner) ? M2M_R_NOT_OWNER : 0;
	}
	sqlite3_finalize(st);
	if (rc == M2M_R_NOT_OWNER)
		memset(m, 0, sizeof *m);  /* another owner's MCIM: nothing of it is handed out */
	return rc;
}

int tre_mcim_active(tre *t, tre_credential *m)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, COLUMNS " WHERE state = 1");
	if (!st)
		return -1;
	int rc = 1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		read_row(st, m);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int tre_imsi_held(tre *t, const char *imsi)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT 1 FROM tre_mcim WHERE imsi = ?1"
				       " UNION ALL SELECT 1 FROM tre_pcid WHERE imsi = ?1");
	if (st)
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_TRANSIENT);
	int held = !st || sqlite3_step(st) == SQLITE_ROW;  /* a failure counts as held: nothing is installed */
	sqlite3_finalize(st);
	return held;
}

int tre_mcim_owners(tre *t, char owners[][M2M_ENTITY_MAX + 1], int max)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT DISTINCT owner FROM tre_mcim ORDER BY owner");
	int n = 0;
	while (st && n < max && sqlite3_step(st) == SQLITE_ROW)
		m2m_store_column_text(st, 0, owners[n++], M2M_ENTITY_MAX + 1);
	sqlite3_finalize(st);
	return n;
}

int tre_mcim_count(tre *t)
{
	return tre_count(t->db, "SELECT COUNT(*) FROM tre_mcim");
}

/* ---- changing --------------------------------------------------------------------------- */

static int write_state(tre *t, const char *sql, const tre_credential *m, int state)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, sql);
	if (st) {
		sqlite3_bind_int(st, 1, state);
		sqlite3_bind_blob(st, 2, m->mcim_id, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, m->owner, -1, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}

int tre_mcim_set_state(tre *t, tre_credential *m, m2m_mcim_state state)
{
	/* the one active MCIM steps aside first: the unique index allows one at a time */
	int failed = tre_savepoint(t->db) ||
		     (state == M2M_MCIM_ACTIVE &&
		      write_state(t, "UPDATE tre_mcim SET state = ?1 WHERE state = 1 AND (mcim_id <> ?2 OR owner <> ?3)", m,
				  M2M_MCIM_INACTIVE)) ||
		     write_state(t, "UPDATE tre_mcim SET state = ?1 WHERE mcim_id = ?2 AND owner = ?3", m, state);
	if (tre_release(t->db, failed))
		return -1;
	m->state = state;
	return 0;
}

int tre_mcim_delete(tre *t, const tre_credential *m)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "DELETE FROM tre_slot WHERE slot = (SELECT slot FROM tre_mcim"
				       " WHERE mcim_id = ?1 AND owner = ?2)");
	if (st) {
		sqlite3_bind_blob(st, 1, m->mcim_id, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, m->owner, -1, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}
