/*
 * The attach records (table vno_attach). The vector of the current challenge is stored sealed
 * under the storage key with the attach id as associated data, so that a sealed vector cannot be
 * moved to another attach; it is dropped (NULL) once the session key has been derived from it.
 * Every function works inside the caller's transaction.
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The vector is sealed as the bytes of the struct: octet arrays only, so no padding. */
static_assert(sizeof(vno_vector) == 16 + 16 + VNO_RES_MAX + 1 + 16 + 16, "vno_vector has padding");
#define SEALED_VECTOR_LEN (sizeof(vno_vector) + M2M_SEAL_OVERHEAD)

static const char *const origin_names[] = {"home", "false-network", "replay"};

static int origin_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(origin_names[i], name))
			return i;
	return -1;
}

void vno_attach_init(vno_attach *a, const char *device, const char *imsi, const char *imei, const char *apn,
		     const char *home)
{
	memset(a, 0, sizeof *a);
	m2m_random(a->id, sizeof a->id);
	snprintf(a->device, sizeof a->device, "%s", device);
	snprintf(a->imsi, sizeof a->imsi, "%s", imsi);
	snprintf(a->imei, sizeof a->imei, "%s", imei);
	snprintf(a->apn, sizeof a->apn, "%s", apn);
	snprintf(a->home, sizeof a->home, "%s", home ? home : "");
	a->state = VNO_AWAITING_VECTORS;
	a->origin = VNO_FROM_HOME;
}

void vno_attach_wipe(vno_attach *a)
{
	m2m_wipe(a, sizeof *a);
}

static void bind_vector(sqlite3_stmt *st, int i, const uint8_t key[32], const vno_attach *a, int *failed)
{
	uint8_t sealed[SEALED_VECTOR_LEN];
	if (!a->has_vector) {
		sqlite3_bind_null(st, i);
		return;
	}
	if (m2m_seal(key, a->id, sizeof a->id, (const uint8_t *)&a->vector, sizeof a->vector, sealed)) {
		*failed = 1;
		return;
	}
	sqlite3_bind_blob(st, i, sealed, sizeof sealed, SQLITE_TRANSIENT);
}

int vno_attach_save(sqlite3 *db, const uint8_t key[32], const vno_attach *a)
{
	sqlite3_stmt *st = m2m_store_prepare(db,
		"INSERT INTO vno_attach (attach_id, device, imsi, imei, apn, home, origin, state, resyncs, reason,"
		" vector_sealed, session_id, created, changed, pcid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		" ?12, ?13, ?13, ?14) ON CONFLICT (attach_id) DO UPDATE SET state = ?8, resyncs = ?9, reason = ?10,"
		" vector_sealed = ?11, session_id = ?12, changed = ?13");
	if (!st)
		return -1;
	int failed = 0;
	sqlite3_bind_blob(st, 1, a->id, sizeof a->id, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, a->device, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, a->imsi, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, a->imei, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, a->apn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, a->home, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, origin_names[a->origin], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, vno_attach_state_name(a->state), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, a->resyncs);
	sqlite3_bind_int(st, 10, (int)a->reason);
	bind_vector(st, 11, key, a, &failed);
	if (a->state == VNO_ACCEPTED)
		sqlite3_bind_blob(st, 12, a->session_id, sizeof a->session_id, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 12);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(st, 14, a->pcid ? 1 : 0);
	if (failed) {
		sqlite3_finalize(st);
		return -1;
	}
	return m2m_store_run(db, st);
}

/* The sealed vector of column i into a: 0 (also when there is none), -1 when it does not open. */
static int column_vector(sqlite3_stmt *st, int i, const uint8_t key[32], vno_attach *a)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	if (sqlite3_column_bytes(st, i) != (int)SEALED_VECTOR_LEN ||
	    m2m_unseal(key, a->id, sizeof a->id, sqlite3_column_blob(st, i), SEALED_VECTOR_LEN,
		       (uint8_t *)&a->vector))
		return -1;
	a->has_vector = 1;
	return 0;
}

static int read_row(sqlite3_stmt *st, const uint8_t key[32], vno_attach *a)
{
	char origin[16], state[24];
	m2m_store_column_text(st, 0, a->device, sizeof a->device);
	m2m_store_column_text(st, 1, a->imsi, sizeof a->imsi);
	m2m_store_column_text(st, 2, a->imei, sizeof a->imei);
	m2m_store_column_text(st, 3, a->apn, sizeof a->apn);
	m2m_store_column_text(st, 4, a->home, sizeof a->home);
	m2m_store_column_text(st, 5, origin, sizeof origin);
	m2m_store_column_text(st, 6, state, sizeof state);
	a->resyncs = sqlite3_column_int(st, 7);
	a->reason = (m2m_reason)sqlite3_column_int(st, 8);
	a->pcid = sqlite3_column_int(st, 11);
	int o = origin_parse(origin), s = vno_attach_state_parse(state);
	if (o < 0 || s < 0)
		return -1;
	a->origin = (vno_origin)o;
	a->state = (vno_attach_state)s;
	if (a->state == VNO_ACCEPTED && m2m_store_column_blob(st, 10, a->session_id, sizeof a->session_id))
		return -1;
	return column_vector(st, 9, key, a);
}

int vno_attach_load(sqlite3 *db, const uint8_t key[32], const uint8_t id[VNO_ATTACH_ID_LEN], vno_attach *a)
{
	uint8_t copy[VNO_ATTACH_ID_LEN];
	memcpy(copy, id, sizeof copy);  /* id may be a->id itself */
	memset(a, 0, sizeof *a);
	memcpy(a->id, copy, sizeof a->id);
	id = a->id;
	sqlite3_stmt *st = m2m_store_prepare(db,
		"SELECT device, imsi, imei, apn, home, origin, state, resyncs, reason, vector_sealed, session_id, pcid"
		" FROM vno_attach WHERE attach_id = ?");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, id, VNO_ATTACH_ID_LEN, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st), result = rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW) {
		result = read_row(st, key, a);
		if (result)
			m2m_error("the attach record cannot be read (its vector does not open under this storage key)");
	}
	sqlite3_finalize(st);
	if (result)
		vno_attach_wipe(a);
	return result;
}

/* The ids of the attaches in a state the restart interrupts, at most max of them. */
static int waiting_ids(sqlite3 *db, uint8_t (*ids)[VNO_ATTACH_ID_LEN], int max)
{
	sqlite3_stmt *st = m2m_store_prepare(db,
		"SELECT attach_id FROM vno_attach WHERE state IN ('awaitingVectors', 'resynchronising', 'locating',"
		" 'purging')");
	if (!st)
		return -1;
	int n = 0, rc;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!m2m_store_column_blob(st, 0, ids[n], VNO_ATTACH_ID_LEN))
			n++;
	sqlite3_finalize(st);
	return n;
}

int vno_attach_abandon_waiting(sqlite3 *db, const uint8_t key[32])
{
	enum { BATCH = 64 };
	uint8_t ids[BATCH][VNO_ATTACH_ID_LEN];
	int total = 0, n;
	/* each pass moves what it read out of the selected states, so the loop ends */
	while ((n = waiting_ids(db, ids, BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			vno_attach a;
			if (vno_attach_load(db, key, ids[i], &a))
				return -1;
			int next = vno_attach_next(a.state, VNO_EV_ABANDONED, a.resyncs);
			if (a.state != VNO_PURGING)  /* a purging attach keeps the refusal it was sending */
				a.reason = M2M_R_TIMEOUT;
			a.state = next < 0 ? VNO_FAILED : (vno_attach_state)next;
			a.has_vector = 0;
			int rc = vno_attach_save(db, key, &a);
			vno_attach_wipe(&a);
			if (rc)
				return -1;
			total++;
		}
	}
	return n < 0 ? -1 : total;
}
