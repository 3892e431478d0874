/*
 * The protected sessions an accepted attach opens (table vno_session). The session key is
 * m2m_session_key(CK, IK, sessionId), the same derivation the device makes from its card's CK
 * and IK (lib/aka/session.h); it is stored sealed under the storage key with the session id as
 * associated data, and erased when the session closes. A session a PCID opened is marked so
 * (pcid): it is a walled garden for its whole life. Every function works inside the caller's
 * transaction.
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SEALED_KEY_LEN (32 + M2M_SEAL_OVERHEAD)

void vno_session_wipe(vno_session *s)
{
	m2m_wipe(s, sizeof *s);
}

m2m_reason vno_session_usable(const vno_session *s, const char *sender)
{
	if (strcmp(s->device, sender))
		return M2M_R_NOT_AUTHORISED;  /* checked first: another device learns nothing of it */
	return s->open ? M2M_OK : M2M_R_NOT_ATTACHED;
}

const char *vno_session_refusal(m2m_reason r)
{
	switch (r) {
	case M2M_R_NOT_FOUND:
		return "no such session";
	case M2M_R_NOT_AUTHORISED:
		return "the session belongs to another device";
	case M2M_R_NOT_ATTACHED:
		return "the session is closed (detached or cancelled): attach again";
	default:
		return "the session cannot be served (internal error)";
	}
}

int vno_session_of_device(vno_context *v, m2m_request *req, const ASN1_OCTET_STRING *field, vno_session *s)
{
	uint8_t id[M2M_SESSION_ID_LEN];
	memset(s, 0, sizeof *s);
	if (m2m_read_octets(field, id, sizeof id)) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "sessionId must be %d octets", M2M_SESSION_ID_LEN);
		return -1;
	}
	int rc = vno_session_load(v->db, v->settings.storage_key, id, s);
	m2m_reason r = rc > 0 ? M2M_R_NOT_FOUND : rc < 0 ? M2M_R_INTERNAL : vno_session_usable(s, req->env.sender);
	if (r != M2M_OK) {
		m2m_refuse(v->node, req, r, "%s", vno_session_refusal(r));
		vno_session_wipe(s);
		return -1;
	}
	return 0;
}

static int insert(sqlite3 *db, const uint8_t storage_key[32], const vno_session *s)
{
	uint8_t sealed[SEALED_KEY_LEN];
	if (m2m_seal(storage_key, s->id, sizeof s->id, s->key, sizeof s->key, sealed))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(db,
		"INSERT INTO vno_session (session_id, device, imsi, home, apn, key_sealed, last_uplink, state, created,"
		" changed, pcid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, -1, 'open', ?7, ?7, ?8)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, s->id, sizeof s->id, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, s->device, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, s->imsi, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, s->home, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, s->apn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 6, sealed, sizeof sealed, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(st, 8, s->pcid ? 1 : 0);
	return m2m_store_run(db, st);
}

int vno_session_open(sqlite3 *db, const uint8_t storage_key[32], const vno_attach *a, vno_session *out)
{
	memset(out, 0, sizeof *out);
	if (!a->has_vector)
		return -1;
	m2m_random(out->id, sizeof out->id);
	snprintf(out->device, sizeof out->device, "%s", a->device);
	snprintf(out->imsi, sizeof out->imsi, "%s", a->imsi);
	snprintf(out->home, sizeof out->home, "%s", a->home);
	snprintf(out->apn, sizeof out->apn, "%s", a->apn);
	out->pcid = a->pcid;
	out->last_uplink = -1;
	out->open = 1;
	if (m2m_session_key(a->vector.ck, a->vector.ik, out->id, out->key) || insert(db, storage_key, out)) {
		vno_session_wipe(out);
		return -1;
	}
	return 0;
}

static int read_row(sqlite3_stmt *st, const uint8_t storage_key[32], vno_session *s)
{
	char state[8];
	m2m_store_column_text(st, 0, s->device, sizeof s->device);
	m2m_store_column_text(st, 1, s->imsi, sizeof s->imsi);
	m2m_store_column_text(st, 2, s->home, sizeof s->home);
	m2m_store_column_text(st, 3, s->apn, sizeof s->apn);
	s->last_uplink = sqlite3_column_int64(st, 5);
	m2m_store_column_text(st, 6, state, sizeof state);
	s->open = !strcmp(state, "open");
	s->pcid = sqlite3_column_int(st, 7);
	if (!s->open)
		return 0;  /* its key was erased when it closed */
	if (sqlite3_column_bytes(st, 4) != SEALED_KEY_LEN ||
	    m2m_unseal(storage_key, s->id, sizeof s->id, sqlite3_column_blob(st, 4), SEALED_KEY_LEN, s->key)) {
		m2m_error("the key of a session does not open under this storage key");
		return -1;
	}
	return 0;
}

int vno_session_load(sqlite3 *db, const uint8_t storage_key[32], const uint8_t id[M2M_SESSION_ID_LEN],
		     vno_session *s)
{
	uint8_t copy[M2M_SESSION_ID_LEN];
	memcpy(copy, id, sizeof copy);  /* id may be s->id itself */
	memset(s, 0, sizeof *s);
	memcpy(s->id, copy, sizeof s->id);
	id = s->id;
	sqlite3_stmt *st = m2m_store_prepare(db,
		"SELECT device, imsi, home, apn, key_sealed, last_uplink, state, pcid FROM vno_session"
		" WHERE session_id = ?");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, M2M_SESSION_ID_LEN, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st), result = rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW)
		result = read_row(st, storage_key, s);
	sqlite3_finalize(st);
	if (result)
		vno_session_wipe(s);
	return result;
}

int vno_session_of_imsi(sqlite3 *db, const uint8_t storage_key[32], const char *imsi, vno_session *s)
{
	memset(s, 0, sizeof *s);
	sqlite3_stmt *st = m2m_store_prepare(db,
		"SELECT session_id FROM vno_session WHERE imsi = ? AND state = 'open' ORDER BY created DESC LIMIT 1");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_TRANSIENT);
	uint8_t id[M2M_SESSION_ID_LEN];
	int rc = sqlite3_step(st), result = rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW && !m2m_store_column_blob(st, 0, id, sizeof id))
		result = 0;
	sqlite3_finalize(st);
	return result ? result : vno_session_load(db, storage_key, id, s);
}

int vno_session_set_uplink(sqlite3 *db, const uint8_t id[M2M_SESSION_ID_LEN], uint64_t counter)
{
	sqlite3_stmt *st = m2m_store_prepare(db,
		"UPDATE vno_session SET last_uplink = ?1, changed = ?2 WHERE session_id = ?3 AND state = 'open'"
		" AND last_uplink < ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)counter);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 3, id, M2M_SESSION_ID_LEN, SQLITE_TRANSIENT);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

/* A closed session keeps its row (so that its device is told notAttached, not notFound) but
 * not its key. */
#define CLOSE_SQL "UPDATE vno_session SET state = 'closed', key_sealed = X'', changed = ? WHERE state = 'open' AND "

int vno_session_close(sqlite3 *db, const uint8_t id[M2M_SESSION_ID_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(db, CLOSE_SQL "session_id = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 2, id, M2M_SESSION_ID_LEN, SQLITE_TRANSIENT);
	return m2m_store_run(db, st);
}

int vno_sessions_close_imsi(sqlite3 *db, const char *imsi)
{
	sqlite3_stmt *st = m2m_store_prepare(db, CLOSE_SQL "imsi = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, imsi, -1, SQLITE_TRANSIENT);
	return m2m_store_run(db, st) ? -1 : sqlite3_changes(db);
}
