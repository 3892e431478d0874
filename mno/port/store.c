/* The ports' table (port_impl.h, schema.c): one row per port, written inside the caller's step. */
#include "port/port_impl.h"

#include "log/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[PORT_STATES] = {
	"requesting", "accepted", "transferring", "transferred", "provisioned", "completed", "refused", "failed",
};

const char *port_state_name(port_state s)
{
	return s >= PORT_REQUESTING && s < PORT_STATES ? state_names[s] : "?";
}

const char *port_side_name(port_side s)
{
	return s == PORT_IN ? "in" : "out";
}

static int name_index(const char *const *names, int n, const unsigned char *name)
{
	for (int i = 0; name && i < n; i++)
		if (!strcmp((const char *)name, names[i]))
			return i;
	return -1;
}

void port_row_clear(port_row *p)
{
	free(p->authorisation);
	free(p->certificate);
	free(p->package);
	memset(p, 0, sizeof *p);
}

/* A blob column into a malloc'd copy (NULL, 0 for NULL): 0 or -1. */
static int copy_blob(sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	int n = sqlite3_column_bytes(st, i);
	if (!(*out = malloc((size_t)n + 1)))
		return -1;
	memcpy(*out, sqlite3_column_blob(st, i), (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int read_row(sqlite3_stmt *st, port_row *p)
{
	int state = name_index(state_names, PORT_STATES, sqlite3_column_text(st, 2));
	m2m_store_column_text(st, 1, p->peer, sizeof p->peer);
	m2m_store_column_text(st, 3, p->subscriber, sizeof p->subscriber);
	m2m_store_column_text(st, 11, p->why, sizeof p->why);
	p->side = !strcmp((const char *)sqlite3_column_text(st, 0), "in") ? PORT_IN : PORT_OUT;
	p->state = (port_state)state;
	p->devices = (long)sqlite3_column_int64(st, 4);
	p->reason = sqlite3_column_int(st, 10);
	p->changed = sqlite3_column_int64(st, 12);
	if (state < 0 || copy_blob(st, 5, &p->authorisation, &p->authorisation_len) ||
	    copy_blob(st, 7, &p->certificate, &p->certificate_len) || copy_blob(st, 8, &p->package, &p->package_len) ||
	    (p->side == PORT_OUT && m2m_store_column_blob(st, 6, p->nonce, sizeof p->nonce)))
		return -1;
	return 0;
}

int port_find(sqlite3 *db, const uint8_t id[PORT_ID_LEN], port_row *p)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT side, peer, state, subscriber, devices, authorisation, nonce,"
						 " certificate, package, port_id, reason, why, changed FROM port_port WHERE port_id = ?");
	memset(p, 0, sizeof *p);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, PORT_ID_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st), result = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
	memcpy(p->id, id, PORT_ID_LEN);
	if (rc == SQLITE_ROW && read_row(st, p)) {
		m2m_error("a port of %s is damaged", p->peer);
		result = -1;
	}
	sqlite3_finalize(st);
	if (result < 0)
		port_row_clear(p);
	return result;
}

/* A blob parameter, NULL when there is none. */
static void bind_blob_or_null(sqlite3_stmt *st, int i, const uint8_t *blob, size_t len)
{
	if (blob)
		sqlite3_bind_blob(st, i, blob, (int)len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int port_insert(sqlite3 *db, const port_row *p)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO port_port (port_id, side, peer, subscriber, state, devices,"
						 " authorisation, nonce, certificate, created, changed)"
						 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, p->id, PORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, port_side_name(p->side), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->peer, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->subscriber, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, port_state_name(p->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, p->devices);
	sqlite3_bind_blob(st, 7, p->authorisation, (int)p->authorisation_len, SQLITE_STATIC);
	bind_blob_or_null(st, 8, p->side == PORT_OUT ? p->nonce : NULL, PORT_NONCE_LEN);
	bind_blob_or_null(st, 9, p->certificate, p->certificate_len);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st);
}

int port_set_state(sqlite3 *db, const uint8_t id[PORT_ID_LEN], port_state state, int reason, const char *why)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE port_port SET state = ?1, reason = ?2, why = ?3, changed = ?4"
						 " WHERE port_id = ?5");
	if (!st)
		return -1;
	int ended_badly = state == PORT_REFUSED || state == PORT_FAILED;
	sqlite3_bind_text(st, 1, port_state_name(state), -1, SQLITE_STATIC);
	if (ended_badly) {
		sqlite3_bind_int(st, 2, reason);
		sqlite3_bind_text(st, 3, why ? why : "", -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 5, id, PORT_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int port_set_package(sqlite3 *db, const uint8_t id[PORT_ID_LEN], port_state state, const uint8_t *package, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE port_port SET state = ?1, package = ?2, changed = ?3"
						 " WHERE port_id = ?4");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, port_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, package, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 4, id, PORT_ID_LEN, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int port_nonce_used(sqlite3 *db, const uint8_t nonce[PORT_NONCE_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT 1 FROM port_port WHERE nonce = ?");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, nonce, PORT_NONCE_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

uint8_t (*port_ids(sqlite3 *db, port_side side, port_state state, int *n))[PORT_ID_LEN]
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT port_id FROM port_port WHERE side = ? AND state = ? ORDER BY created");
	uint8_t(*ids)[PORT_ID_LEN] = NULL;
	*n = -1;
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, port_side_name(side), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, port_state_name(state), -1, SQLITE_STATIC);
	int count = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint8_t(*grown)[PORT_ID_LEN] = realloc(ids, (size_t)(count + 1) * sizeof *ids);
		if (!grown || m2m_store_column_blob(st, 0, grown[count], PORT_ID_LEN)) {
			ids = grown ? grown : ids;
			rc = SQLITE_ERROR;
			break;
		}
		ids = grown;
		count++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(ids);
		return NULL;
	}
	*n = count;
	if (!count) {
		free(ids);
		ids = NULL;
	}
	return ids;
}

int port_atomic(sqlite3 *db, int (*fn)(void *arg), void *arg)
{
	if (m2m_store_exec(db, "SAVEPOINT port_step"))
		return -1;
	int rc = fn(arg);
	if (rc)
		sqlite3_exec(db, "ROLLBACK TO port_step", NULL, NULL, NULL);
	return m2m_store_exec(db, "RELEASE port_step") || rc ? -1 : 0;
}

void port_each(port_context *port, port_side side, port_state state,
	       void (*fn)(port_context *port, const uint8_t id[PORT_ID_LEN]))
{
	int n = 0;
	uint8_t(*ids)[PORT_ID_LEN] = port_ids(port->db, side, state, &n);
	for (int i = 0; i < n; i++)
		fn(port, ids[i]);
	free(ids);
}
