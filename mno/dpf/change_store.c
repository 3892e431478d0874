/* The changes' table (dpf_impl.h, schema.c): one row per change of subscription taking one of
 * this operator's MCIMs away, written inside the caller's step. */
#include "dpf/dpf_impl.h"

#include "log/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {"consented", "triggered", "released", "deleted"};

const char *dpf_change_state_name(dpf_change_state s)
{
	return s >= DPF_CONSENTED && s <= DPF_DELETED ? state_names[s] : "?";
}

static int state_parse(const char *name, dpf_change_state *out)
{
	int i = dpf_name_index(state_names, DPF_DELETED + 1, name);
	*out = (dpf_change_state)i;
	return i < 0 ? -1 : 0;
}

void dpf_change_clear(dpf_change *c)
{
	free(c->command);
	memset(c, 0, sizeof *c);
}

static int read_command(sqlite3_stmt *st, dpf_change *c)
{
	if (sqlite3_column_type(st, 7) == SQLITE_NULL)
		return 0;
	int n = sqlite3_column_bytes(st, 7);
	c->command = malloc((size_t)n + 1);
	if (!c->command || m2m_store_column_blob(st, 6, c->nonce, sizeof c->nonce))
		return -1;
	memcpy(c->command, sqlite3_column_blob(st, 7), (size_t)n);
	c->command_len = (size_t)n;
	return 0;
}

int dpf_change_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], dpf_change *c)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT change_id, tre, mcim_id, imsi, to_sho, state, nonce, command"
						 " FROM dpf_change WHERE change_id = ?");
	memset(c, 0, sizeof *c);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st), result = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW) {
		m2m_store_column_text(st, 1, c->tre, sizeof c->tre);
		m2m_store_column_text(st, 3, c->imsi, sizeof c->imsi);
		m2m_store_column_text(st, 4, c->to_sho, sizeof c->to_sho);
		if (m2m_store_column_blob(st, 0, c->change_id, sizeof c->change_id) ||
		    m2m_store_column_blob(st, 2, c->mcim_id, sizeof c->mcim_id) ||
		    state_parse((const char *)sqlite3_column_text(st, 5), &c->state) || read_command(st, c)) {
			m2m_error("a change of %s is damaged", c->tre);
			result = -1;
		}
	}
	sqlite3_finalize(st);
	if (result < 0)
		dpf_change_clear(c);
	return result;
}

int dpf_change_open_for(sqlite3 *db, const uint8_t mcim_id[DPF_MCIM_ID_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT 1 FROM dpf_change WHERE mcim_id = ? AND state <> 'deleted'");
	if (st)
		sqlite3_bind_blob(st, 1, mcim_id, DPF_MCIM_ID_LEN, SQLITE_STATIC);
	return dpf_exists(st);
}

/* The pending command's nonce and DER as parameters i and i + 1 (NULL when there is none). */
static void bind_command(sqlite3_stmt *st, int i, const dpf_change *c)
{
	if (c->command) {
		sqlite3_bind_blob(st, i, c->nonce, DPF_NONCE_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, i + 1, c->command, (int)c->command_len, SQLITE_STATIC);
	} else {
		sqlite3_bind_null(st, i);
		sqlite3_bind_null(st, i + 1);
	}
}

int dpf_change_insert(sqlite3 *db, const dpf_change *c)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO dpf_change (change_id, tre, mcim_id, imsi, to_sho, state,"
						 " nonce, command, created, changed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, c->change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->tre, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, c->mcim_id, DPF_MCIM_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->to_sho, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, dpf_change_state_name(c->state), -1, SQLITE_STATIC);
	bind_command(st, 7, c);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st);
}

int dpf_change_update(sqlite3 *db, const dpf_change *c)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_change SET state = ?1, nonce = ?2, command = ?3, changed = ?4"
						 " WHERE change_id = ?5");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, dpf_change_state_name(c->state), -1, SQLITE_STATIC);
	bind_command(st, 2, c);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 5, c->change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int dpf_change_deleted(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], const uint8_t *receipt, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_change SET state = 'deleted', nonce = NULL, command = NULL,"
						 " receipt = ?1, changed = ?2 WHERE change_id = ?3 AND state = 'released'");
	if (!st)
		return -1;
	if (receipt)
		sqlite3_bind_blob(st, 1, receipt, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 3, change_id, DPF_CHANGE_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}
