/* The orders' table (dpf_impl.h): one row per TRE order, written inside the caller's step. */
#include "dpf/dpf_impl.h"

#include "hss/provision.h"
#include "log/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {"validating", "packaged", "installed", "refused", "withdrawn"};

const char *dpf_order_state_name(dpf_order_state s)
{
	return s >= DPF_VALIDATING && s <= DPF_WITHDRAWN ? state_names[s] : "?";
}

int dpf_name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

static int state_parse(const char *name, dpf_order_state *out)
{
	int i = dpf_name_index(state_names, DPF_WITHDRAWN + 1, name);
	*out = (dpf_order_state)i;
	return i < 0 ? -1 : 0;
}

void dpf_order_clear(dpf_order *o)
{
	free(o->tre_cert);
	free(o->package);
	memset(o, 0, sizeof *o);
}

/* ---- reading ---------------------------------------------------------------------------------- */

#define ORDER_COLUMNS "SELECT id, tre, nonce, state, tre_cert, mcim_id, imsi, package FROM dpf_order "

int dpf_column_copy(sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
	int n = sqlite3_column_bytes(st, i);
	*len = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	*out = malloc((size_t)n + 1);
	if (!*out)
		return -1;
	memcpy(*out, sqlite3_column_blob(st, i), (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int read_row(sqlite3_stmt *st, dpf_order *o)
{
	o->id = sqlite3_column_int64(st, 0);
	m2m_store_column_text(st, 1, o->tre, sizeof o->tre);
	m2m_store_column_text(st, 6, o->imsi, sizeof o->imsi);
	int packaged = sqlite3_column_type(st, 5) != SQLITE_NULL;
	if (m2m_store_column_blob(st, 2, o->nonce, sizeof o->nonce) ||
	    state_parse((const char *)sqlite3_column_text(st, 3), &o->state) ||
	    dpf_column_copy(st, 4, &o->tre_cert, &o->tre_cert_len) ||
	    (packaged && m2m_store_column_blob(st, 5, o->mcim_id, sizeof o->mcim_id)) ||
	    dpf_column_copy(st, 7, &o->package, &o->package_len)) {
		m2m_error("order %lld of %s is damaged", (long long)o->id, o->tre);
		return -1;
	}
	return 0;
}

/* Runs a prepared single-row query: 0 with the order, 1 none, -1 error. */
static int fetch(sqlite3_stmt *st, dpf_order *o)
{
	memset(o, 0, sizeof *o);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	int result = rc == SQLITE_ROW ? read_row(st, o) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_finalize(st);
	if (result < 0)
		dpf_order_clear(o);
	return result;
}

int dpf_order_find(sqlite3 *db, const char *tre, const uint8_t nonce[DPF_NONCE_LEN], dpf_order *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, ORDER_COLUMNS "WHERE tre = ? AND nonce = ?");
	if (st) {
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, nonce, DPF_NONCE_LEN, SQLITE_STATIC);
	}
	return fetch(st, o);
}

int dpf_order_by_id(sqlite3 *db, int64_t id, dpf_order *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, ORDER_COLUMNS "WHERE id = ?");
	if (st)
		sqlite3_bind_int64(st, 1, id);
	return fetch(st, o);
}

int dpf_order_by_mcim(sqlite3 *db, const uint8_t mcim_id[DPF_MCIM_ID_LEN], dpf_order *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, ORDER_COLUMNS "WHERE mcim_id = ?");
	if (st)
		sqlite3_bind_blob(st, 1, mcim_id, DPF_MCIM_ID_LEN, SQLITE_STATIC);
	return fetch(st, o);
}

int dpf_exists(sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int dpf_order_superseded(sqlite3 *db, const dpf_order *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT 1 FROM dpf_order WHERE tre = ? AND id > ?"
						 " AND state IN ('validating', 'packaged')");
	if (st) {
		sqlite3_bind_text(st, 1, o->tre, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, o->id);
	}
	return dpf_exists(st);
}

dpf_order_ref *dpf_order_refs(sqlite3 *db, const char *tre, dpf_order_state state, int *n)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT id, imsi FROM dpf_order WHERE tre = ? AND state = ? ORDER BY id");
	dpf_order_ref *refs = NULL;
	int rc = SQLITE_ERROR, cap = 0;
	*n = 0;
	if (st) {
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, dpf_order_state_name(state), -1, SQLITE_STATIC);
	}
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			dpf_order_ref *more = realloc(refs, (size_t)cap * sizeof *refs);
			if (!more) {
				rc = SQLITE_NOMEM;
				break;
			}
			refs = more;
		}
		refs[*n].id = sqlite3_column_int64(st, 0);
		m2m_store_column_text(st, 1, refs[*n].imsi, sizeof refs[*n].imsi);
		(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(refs);
		*n = -1;
		return NULL;
	}
	return refs;
}

/* ---- writing ---------------------------------------------------------------------------------- */

int dpf_order_insert(sqlite3 *db, dpf_order *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO dpf_order (tre, nonce, state, tre_cert, created, changed)"
						 " VALUES (?1, ?2, 'validating', ?3, ?4, ?4)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, o->tre, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, o->nonce, DPF_NONCE_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, o->tre_cert, (int)o->tre_cert_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	if (m2m_store_run(db, st))
		return -1;
	o->id = sqlite3_last_insert_rowid(db);
	o->state = DPF_VALIDATING;
	return 0;
}

int dpf_order_packaged(sqlite3 *db, const dpf_order *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_order SET state = 'packaged', mcim_id = ?1, imsi = ?2,"
						 " package = ?3, changed = ?4 WHERE id = ?5 AND state = 'validating'");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, o->mcim_id, DPF_MCIM_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->imsi, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, o->package, (int)o->package_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 5, o->id);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int dpf_order_set_state(sqlite3 *db, int64_t id, dpf_order_state state)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE dpf_order SET state = ?, changed = ? WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, dpf_order_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 3, id);
	return m2m_store_run(db, st);
}

int dpf_order_delete(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM dpf_order WHERE id = ? AND state = 'validating'");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return m2m_store_run(db, st);
}

m2m_reason dpf_order_withdraw(dpf_context *dpf, const dpf_order_ref *ref, const char *why)
{
	char err[256];
	if (dpf_order_set_state(dpf->db, ref->id, DPF_WITHDRAWN) ||
	    hss_change_in(dpf->db, ref->imsi, HSS_CHANGE_DELETE, DPF_ACTOR, err, sizeof err) != HSS_DONE) {
		m2m_error("order %lld (IMSI %s) cannot be withdrawn", (long long)ref->id, ref->imsi);
		return M2M_R_INTERNAL;
	}
	m2m_info("order %lld withdrawn, IMSI %s deleted: %s", (long long)ref->id, ref->imsi, why);
	return M2M_OK;
}
