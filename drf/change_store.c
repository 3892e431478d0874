/*
 * The changes of subscription in the database (drf_change, schema.c): a row per change asked for
 * and accepted, from `notifying` to `released` or `refused`, kept after it closed so that its
 * authorisation's nonce stays used. Every write happens in the step (or callback step) whose
 * answer depends on it.
 */
#include "drf.h"

#include <stdio.h>
#include <string.h>

static const char *const state_names[] = {"notifying", "consented", "complete", "released", "refused", "triggering",
					  "triggered", "ordering", "delivered", "completed"};
#define NSTATES (int)(sizeof state_names / sizeof state_names[0])

#define COLUMNS                                                                                              \
	"change_id, tre, m2me, from_sho, from_dpf, to_sho, to_dpf, state, nonce, issued_at, a_mcim_id, b_mcim_id," \
	" refusal, refusal_text, kind, a_imsi"

const char *drf_change_state_name(drf_change_state s)
{
	return (int)s >= 0 && (int)s < NSTATES ? state_names[s] : "?";
}

static int state_of(const char *name)
{
	for (int i = 0; i < NSTATES; i++)
		if (!strcmp(state_names[i], name))
			return i;
	return -1;
}

/* An optional 16-octet column: 1 when present (copied), 0 when NULL. */
static int column_id(sqlite3_stmt *st, int i, uint8_t out[DRF_ID_LEN])
{
	return sqlite3_column_type(st, i) != SQLITE_NULL && !m2m_store_column_blob(st, i, out, DRF_ID_LEN);
}

static int read_row(sqlite3_stmt *st, drf_change *c)
{
	char state[16];
	memset(c, 0, sizeof *c);
	char *text[] = {c->tre, c->m2me, c->from_sho, c->from_dpf, c->to_sho, c->to_dpf, state};
	size_t size[] = {sizeof c->tre, sizeof c->m2me, sizeof c->from_sho, sizeof c->from_dpf, sizeof c->to_sho,
			 sizeof c->to_dpf, sizeof state};
	for (int i = 0; i < 7; i++)
		m2m_store_column_text(st, i + 1, text[i], size[i]);
	int s = state_of(state);
	if (s < 0 || m2m_store_column_blob(st, 0, c->id, DRF_ID_LEN) ||
	    m2m_store_column_blob(st, 8, c->nonce, DRF_CHANGE_NONCE_LEN))
		return -1;
	c->state = (drf_change_state)s;
	c->issued_at = sqlite3_column_int64(st, 9);
	c->has_a_mcim = column_id(st, 10, c->a_mcim_id);
	c->has_b_mcim = column_id(st, 11, c->b_mcim_id);
	c->refusal = (m2m_reason)sqlite3_column_int(st, 12);
	m2m_store_column_text(st, 13, c->refusal_text, sizeof c->refusal_text);
	m2m_store_column_text(st, 14, state, sizeof state);
	c->kind = strcmp(state, "uicc") ? DRF_KIND_MCIM : DRF_KIND_UICC;
	m2m_store_column_text(st, 15, c->a_imsi, sizeof c->a_imsi);
	return 0;
}

/* The one change the query finds (?1 text, ?2 blob: either may be left out of where): 0, 1 when
 * none, -1. */
static int load(drf *d, const char *where, const char *text, const uint8_t *blob, size_t blob_len, drf_change *c)
{
	char sql[512];
	snprintf(sql, sizeof sql, "SELECT " COLUMNS " FROM drf_change WHERE %s", where);
	sqlite3_stmt *st = m2m_store_prepare(d->db, sql);
	int rc = -1;
	if (st) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, blob, (int)blob_len, SQLITE_TRANSIENT);
		int step = sqlite3_step(st);
		rc = step == SQLITE_ROW ? read_row(st, c) : step == SQLITE_DONE ? 1 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

int drf_change_load(drf *d, const uint8_t id[DRF_ID_LEN], drf_change *c)
{
	return load(d, "change_id = ?2", NULL, id, DRF_ID_LEN, c);
}

int drf_change_by_nonce(drf *d, const char *tre, const uint8_t nonce[DRF_CHANGE_NONCE_LEN], drf_change *c)
{
	return load(d, "tre = ?1 AND nonce = ?2", tre, nonce, DRF_CHANGE_NONCE_LEN, c);
}

int drf_change_open_of(drf *d, const char *tre, drf_change *c)
{
	return load(d, "tre = ?1 AND state NOT IN ('released', 'refused')", tre, NULL, 0, c);
}

static void bind_id(sqlite3_stmt *st, int i, int present, const uint8_t id[DRF_ID_LEN])
{
	if (present)
		sqlite3_bind_blob(st, i, id, DRF_ID_LEN, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* What changes over a change's life: ?1 its id, ?2 state, ?3 and ?4 the MCIM ids, ?5 and ?6 the
 * refusal, ?7 now, ?16 the kind and ?17 A's IMSI (3b). */
static void bind_progress(sqlite3_stmt *st, const drf_change *c, int64_t now)
{
	sqlite3_bind_blob(st, 1, c->id, DRF_ID_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, drf_change_state_name(c->state), -1, SQLITE_STATIC);
	bind_id(st, 3, c->has_a_mcim, c->a_mcim_id);
	bind_id(st, 4, c->has_b_mcim, c->b_mcim_id);
	if (c->state == DRF_CHANGE_REFUSED) {
		sqlite3_bind_int(st, 5, (int)c->refusal);
		sqlite3_bind_text(st, 6, c->refusal_text, -1, SQLITE_TRANSIENT);
	}
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_text(st, 16, c->kind == DRF_KIND_UICC ? "uicc" : "mcim", -1, SQLITE_STATIC);
	if (c->kind == DRF_KIND_UICC)
		sqlite3_bind_text(st, 17, c->a_imsi, -1, SQLITE_TRANSIENT);
}

int drf_change_insert(drf *d, const drf_change *c, int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "INSERT INTO drf_change (" COLUMNS ", created_at, updated_at)"
						    " VALUES (?1, ?8, ?9, ?10, ?11, ?12, ?13, ?2, ?14, ?15, ?3, ?4, ?5, ?6, ?16, ?17, ?7, ?7)");
	if (!st)
		return -1;
	bind_progress(st, c, now);
	const char *text[] = {c->tre, c->m2me, c->from_sho, c->from_dpf, c->to_sho, c->to_dpf};
	for (int i = 0; i < 6; i++)
		sqlite3_bind_text(st, 8 + i, text[i], -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 14, c->nonce, DRF_CHANGE_NONCE_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 15, c->issued_at);
	return m2m_store_run(d->db, st);
}

int drf_change_save(drf *d, const drf_change *c, int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "UPDATE drf_change SET state = ?2, a_mcim_id = ?3, b_mcim_id = ?4,"
						    " refusal = ?5, refusal_text = ?6, updated_at = ?7, kind = ?16, a_imsi = ?17"
						    " WHERE change_id = ?1");
	if (!st)
		return -1;
	bind_progress(st, c, now);
	return m2m_store_run(d->db, st) || sqlite3_changes(d->db) != 1 ? -1 : 0;
}

/* The ids the query (?1 the limit, ?2 a time) selects. */
static int change_ids(drf *d, const char *sql, int64_t at, uint8_t (*ids)[DRF_ID_LEN], int max)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, sql);
	int n = 0, step = SQLITE_ERROR;
	if (st) {
		sqlite3_bind_int(st, 1, max);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
	}
	while (st && (step = sqlite3_step(st)) == SQLITE_ROW)
		if (n < max && !m2m_store_column_blob(st, 0, ids[n], DRF_ID_LEN))
			n++;
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? n : -1;
}

int drf_change_due(drf *d, uint8_t (*ids)[DRF_ID_LEN], int max)
{
	return change_ids(d, "SELECT change_id FROM drf_change"
			     " WHERE state IN ('notifying', 'complete', 'triggering', 'ordering', 'completed')"
			     " ORDER BY updated_at LIMIT ?1", 0, ids, max);
}

int drf_change_waiting(drf *d, int64_t since, uint8_t (*ids)[DRF_ID_LEN], int max)
{
	return change_ids(d, "SELECT change_id FROM drf_change WHERE kind = 'uicc'"
			     " AND state IN ('triggered', 'delivered') AND updated_at <= ?2 ORDER BY updated_at LIMIT ?1",
			  since, ids, max);
}
