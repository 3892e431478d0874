/* The cards of the ports (port_impl.h, schema.c): one row per card of a port, written inside the
 * caller's step. */
#include "port/port_impl.h"

#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const state_names[PORT_DEVICE_STATES] = {
	"requested", "refused", "provisioned", "attached", "completed",
	"accepted", "rewriting", "rewritten", "rewriteFailed", "deleted",
};

const char *port_device_state_name(port_device_state s)
{
	return s >= DEV_REQUESTED && s < PORT_DEVICE_STATES ? state_names[s] : "?";
}

static int state_of(const unsigned char *name)
{
	for (int i = 0; name && i < PORT_DEVICE_STATES; i++)
		if (!strcmp((const char *)name, state_names[i]))
			return i;
	return -1;
}

int port_device_insert(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const port_device *d)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO port_device (port_id, iccid, old_imsi, new_imsi, state, changed)"
						 " VALUES (?, ?, nullif(?, ''), ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, PORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->iccid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->old_imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->new_imsi, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, port_device_state_name(d->state), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st);
}

#define DEVICE_COLUMNS "iccid, coalesce(old_imsi, ''), new_imsi, state, coalesce(job_id, 0)"

static int read_device(sqlite3_stmt *st, port_device *d)
{
	int state = state_of(sqlite3_column_text(st, 3));
	memset(d, 0, sizeof *d);
	m2m_store_column_text(st, 0, d->iccid, sizeof d->iccid);
	m2m_store_column_text(st, 1, d->old_imsi, sizeof d->old_imsi);
	m2m_store_column_text(st, 2, d->new_imsi, sizeof d->new_imsi);
	d->state = (port_device_state)state;
	d->job_id = sqlite3_column_int64(st, 4);
	return state < 0 ? -1 : 0;
}

int port_device_find(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, port_device *d)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT " DEVICE_COLUMNS " FROM port_device WHERE port_id = ? AND iccid = ?");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, PORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, iccid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int result = rc == SQLITE_ROW ? read_device(st, d) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_finalize(st);
	return result;
}

/* The cards a prepared query selects (st finalized): as port_devices. */
static port_device *collect(sqlite3_stmt *st, int *n)
{
	port_device *list = NULL;
	int count = 0, cap = 0, rc = SQLITE_ERROR;
	*n = -1;
	if (!st)
		return NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? 2 * cap : 64;
			port_device *grown = realloc(list, (size_t)cap * sizeof *list);
			if (!grown) {
				rc = SQLITE_NOMEM;
				break;
			}
			list = grown;
		}
		if (read_device(st, &list[count++])) {
			rc = SQLITE_CORRUPT;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(list);
		return NULL;
	}
	*n = count;
	return list;
}

port_device *port_devices(sqlite3 *db, const uint8_t id[PORT_ID_LEN], int state, int *n)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT " DEVICE_COLUMNS " FROM port_device WHERE port_id = ?1"
						 " AND (?2 IS NULL OR state = ?2) ORDER BY iccid");
	if (st) {
		sqlite3_bind_blob(st, 1, id, PORT_ID_LEN, SQLITE_STATIC);
		if (state >= 0)
			sqlite3_bind_text(st, 2, port_device_state_name((port_device_state)state), -1, SQLITE_STATIC);
	}
	return collect(st, n);
}

port_device *port_devices_active(sqlite3 *db, const uint8_t id[PORT_ID_LEN], int *n)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT " DEVICE_COLUMNS " FROM port_device d WHERE d.port_id = ?"
						 " AND d.state = 'provisioned' AND EXISTS (SELECT 1 FROM hss_subscriber s"
						 " WHERE s.imsi = d.new_imsi AND s.state = 'active') ORDER BY iccid");
	if (st)
		sqlite3_bind_blob(st, 1, id, PORT_ID_LEN, SQLITE_STATIC);
	return collect(st, n);
}

int port_device_set(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, port_device_state state,
		    int64_t job_id)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE port_device SET state = ?1, job_id = coalesce(?2, job_id),"
						 " changed = ?3 WHERE port_id = ?4 AND iccid = ?5");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, port_device_state_name(state), -1, SQLITE_STATIC);
	if (job_id)
		sqlite3_bind_int64(st, 2, job_id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 4, id, PORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, iccid, -1, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int port_device_set_old_imsi(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, const char *old_imsi)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE port_device SET old_imsi = ? WHERE port_id = ? AND iccid = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, old_imsi, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, id, PORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, iccid, -1, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int port_device_set_receipt(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, port_device_state state,
			    const uint8_t *receipt, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE port_device SET state = ?1, receipt = ?2, changed = ?3"
						 " WHERE port_id = ?4 AND iccid = ?5");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, port_device_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, receipt, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 4, id, PORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, iccid, -1, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int port_device_receipt(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, uint8_t **der, size_t *len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT receipt FROM port_device WHERE port_id = ? AND iccid = ?"
						 " AND receipt IS NOT NULL");
	*der = NULL;
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, PORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, iccid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*len = (size_t)sqlite3_column_bytes(st, 0);
		if ((*der = malloc(*len + 1)) != NULL)
			memcpy(*der, sqlite3_column_blob(st, 0), *len);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return *der ? 0 : -1;
	return rc == SQLITE_DONE ? 1 : -1;
}

int port_device_counts(sqlite3 *db, const uint8_t id[PORT_ID_LEN], long counts[PORT_DEVICE_STATES])
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT state, count(*) FROM port_device WHERE port_id = ? GROUP BY state");
	memset(counts, 0, PORT_DEVICE_STATES * sizeof counts[0]);
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, PORT_ID_LEN, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = state_of(sqlite3_column_text(st, 0));
		if (state >= 0)
			counts[state] = (long)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int port_device_busy(sqlite3 *db, const char *iccid)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT 1 FROM port_device d JOIN port_port p ON p.port_id = d.port_id"
						 " WHERE d.iccid = ? AND p.state NOT IN ('completed', 'refused', 'failed')"
						 " AND d.state NOT IN ('refused', 'completed', 'deleted')");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
