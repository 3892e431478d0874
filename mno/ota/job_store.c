/*
 * The jobs of the OTA server (table ota_job): queued by their owners (mno-admin, a port, a
 * rotation) inside their own transactions, moved along by the server (ota_impl.h has the states).
 */
#include "ota/ota_impl.h"

#include "hss/subscriber.h"
#include "log/log.h"
#include "ota/rfm.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const state_names[] = {"queued", "sent", "done", "failed"};
static const char *const kind_names[] = {"script", "rotate"};
static const char *const keys_names[] = {"card", "pending", "explicit"};

const char *ota_job_state_name(ota_job_state s)
{
	return s >= OTA_JOB_QUEUED && s <= OTA_JOB_FAILED ? state_names[s] : "?";
}

static int name_index(const char *const *names, int n, const unsigned char *name)
{
	for (int i = 0; name && i < n; i++)
		if (!strcmp(names[i], (const char *)name))
			return i;
	return -1;
}

/* A script the card can run: whole commands only (TS 102 226 §5.1.1). */
static int script_valid(const uint8_t *script, size_t len)
{
	m2m_rfm_apdu a;
	size_t off = 0;
	int rc;
	if (!script || len < 1 || len > OTA_SCRIPT_MAX)
		return 0;
	while ((rc = m2m_rfm_script_next(script, len, &off, &a)) == 1)
		;
	return rc == 0;
}

int ota_job_insert(sqlite3 *db, const char *iccid, const uint8_t tar[3], ota_job_kind kind, const uint8_t *script,
		   size_t len, const char *purpose, int64_t *id)
{
	if (!iccid || !hss_iccid_valid(iccid) || (kind == OTA_KIND_SCRIPT && !script_valid(script, len)) || !purpose ||
	    strlen(purpose) >= 64)
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO ota_job (iccid, tar, kind, keys, script, purpose, state,"
					     " due, created, changed) VALUES (?, ?, ?, 'card', ?, ?, 'queued', ?, ?, ?)");
	if (!st)
		return -1;
	int64_t now = (int64_t)time(NULL);
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, tar, 3, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind_names[kind], -1, SQLITE_STATIC);
	if (kind == OTA_KIND_SCRIPT)
		sqlite3_bind_blob(st, 4, script, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, purpose, -1, SQLITE_STATIC);
	for (int i = 6; i <= 8; i++)
		sqlite3_bind_int64(st, i, now);
	if (m2m_store_run(db, st))
		return -1;
	*id = sqlite3_last_insert_rowid(db);
	return 0;
}

int ota_job_queue(sqlite3 *db, const char *iccid, const uint8_t tar[3], const uint8_t *script, size_t len,
		  const char *purpose, int64_t *id)
{
	return ota_job_insert(db, iccid, tar, OTA_KIND_SCRIPT, script, len, purpose, id);
}

int ota_job_queue_raw(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, const uint8_t tar[3],
		      const m2m_ota_keyset *keys, uint64_t counter, const uint8_t *script, size_t len,
		      const char *purpose, int64_t *id)
{
	uint8_t sealed[OTA_KEYS_SEALED_MAX];
	char aad[32];
	if (counter > M2M_OTA_CNTR_MAX || ota_job_insert(db, iccid, tar, OTA_KIND_SCRIPT, script, len, purpose, id))
		return -1;
	/* the row's id is in the aad: the keys open for this job only */
	snprintf(aad, sizeof aad, "ota-job:%lld", (long long)*id);
	size_t n = ota_keys_seal(storage_key, aad, strlen(aad), keys, sealed);
	sqlite3_stmt *st = n ? m2m_store_prepare(db, "UPDATE ota_job SET keys = 'explicit', explicit_sealed = ?,"
						     " explicit_counter = ? WHERE id = ?")
			     : NULL;
	if (st) {
		sqlite3_bind_blob(st, 1, sealed, (int)n, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)counter);
		sqlite3_bind_int64(st, 3, *id);
	}
	m2m_wipe(sealed, sizeof sealed);
	return m2m_store_run(db, st);
}

int ota_job_explicit_keys(sqlite3 *db, const uint8_t storage_key[32], int64_t id, m2m_ota_keyset *ks)
{
	char aad[32];
	snprintf(aad, sizeof aad, "ota-job:%lld", (long long)id);
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT explicit_sealed FROM ota_job WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB
			 ? ota_keys_open(storage_key, aad, strlen(aad), sqlite3_column_blob(st, 0),
					 (size_t)sqlite3_column_bytes(st, 0), ks)
			 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* ---- reading ------------------------------------------------------------------------------------ */

#define JOB_COLUMNS                                                                                  \
	"SELECT id, iccid, tar, state, por_status, executed, last_sw, data, attempts, purpose, last_error," \
	" reason, counter, kind, keys, explicit_counter, script FROM ota_job WHERE id = ?"

static int read_row(sqlite3_stmt *st, ota_job_row *r)
{
	ota_job *j = &r->job;
	int state = name_index(state_names, 4, sqlite3_column_text(st, 3));
	int kind = name_index(kind_names, 2, sqlite3_column_text(st, 13));
	int keys = name_index(keys_names, 3, sqlite3_column_text(st, 14));
	size_t dlen = (size_t)sqlite3_column_bytes(st, 7), slen = (size_t)sqlite3_column_bytes(st, 16);
	if (state < 0 || kind < 0 || keys < 0 || m2m_store_column_blob(st, 2, j->tar, 3) || dlen > sizeof j->data ||
	    slen > sizeof r->script)
		return -1;
	j->id = sqlite3_column_int64(st, 0);
	m2m_store_column_text(st, 1, j->iccid, sizeof j->iccid);
	j->state = (ota_job_state)state;
	j->por_status = sqlite3_column_int(st, 4);
	j->executed = sqlite3_column_int(st, 5);
	j->last_sw = (uint16_t)sqlite3_column_int(st, 6);
	if (dlen)
		memcpy(j->data, sqlite3_column_blob(st, 7), dlen);
	j->data_len = dlen;
	j->attempts = sqlite3_column_int(st, 8);
	m2m_store_column_text(st, 9, j->purpose, sizeof j->purpose);
	m2m_store_column_text(st, 10, j->last_error, sizeof j->last_error);
	j->reason = sqlite3_column_int(st, 11);
	j->counter = (uint64_t)sqlite3_column_int64(st, 12);
	r->kind = (ota_job_kind)kind;
	r->keys = (ota_keys_from)keys;
	r->explicit_counter = (uint64_t)sqlite3_column_int64(st, 15);
	if (slen)
		memcpy(r->script, sqlite3_column_blob(st, 16), slen);
	r->script_len = slen;
	return 0;
}

int ota_job_row_get(sqlite3 *db, int64_t id, ota_job_row *out)
{
	sqlite3_stmt *st = m2m_store_prepare(db, JOB_COLUMNS);
	if (!st)
		return -1;
	memset(out, 0, sizeof *out);
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? read_row(st, out) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_finalize(st);
	if (r < 0)
		m2m_error("OTA job %lld cannot be read", (long long)id);
	return r;
}

int ota_job_get(sqlite3 *db, int64_t id, ota_job *out)
{
	ota_job_row r;
	int rc = ota_job_row_get(db, id, &r);
	if (rc == 0)
		*out = r.job;
	return rc;
}

int ota_job_next(sqlite3 *db, int64_t now, char (*skip)[OTA_ICCID_MAX + 1], size_t n, int64_t *id,
		 char iccid_out[OTA_ICCID_MAX + 1])
{
	/* A card's jobs go in order, one at a time: its counters and its files change in that order.
	 * Only a card the HSS knows a serving network for can be reached: the jobs of cards attached
	 * nowhere wait without taking a place in a tick's budget (thousands of them in a batch port
	 * must not hold up the one card that is on air), and a waiting job is due as soon as its
	 * card's IMSI attaches after the job's last try, whatever its retry delay. */
	sqlite3_stmt *st = m2m_store_prepare(
		db, "SELECT j.id, j.iccid FROM ota_job j WHERE j.state = 'queued' AND EXISTS"
		    " (SELECT 1 FROM hss_subscriber s JOIN hss_location l ON l.imsi = s.imsi WHERE s.iccid = j.iccid"
		    " AND s.state <> 'deleted' AND (j.due <= ?1 OR l.since > j.changed)) AND NOT EXISTS (SELECT 1 FROM ota_job o"
		    " WHERE o.iccid = j.iccid AND (o.state = 'sent' OR (o.state = 'queued' AND o.id < j.id)))"
		    " ORDER BY j.due, j.id");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc, found = 0;
	while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *iccid = (const char *)sqlite3_column_text(st, 1);
		found = 1;
		for (size_t i = 0; i < n && found; i++)
			found = strcmp(skip[i], iccid) != 0;
		*id = sqlite3_column_int64(st, 0);
		snprintf(iccid_out, OTA_ICCID_MAX + 1, "%s", iccid);
	}
	sqlite3_finalize(st);
	return found ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* ---- moving along ------------------------------------------------------------------------------- */

int ota_job_mark_sent(sqlite3 *db, int64_t id, uint64_t counter)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE ota_job SET state = 'sent', counter = ?, attempts = attempts + 1,"
					     " changed = ? WHERE id = ? AND state = 'queued'");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)counter);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 3, id);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int ota_job_requeue(sqlite3 *db, int64_t id, int64_t due, int count_attempt, const char *why)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE ota_job SET state = 'queued', due = ?, last_error = ?,"
					     " attempts = attempts + ?, changed = ?"
					     " WHERE id = ? AND state IN ('queued', 'sent')");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, due);
	sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, count_attempt ? 1 : 0);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 5, id);
	return m2m_store_run(db, st);
}

int ota_job_set_keys(sqlite3 *db, int64_t id, ota_keys_from keys)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE ota_job SET keys = ? WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, keys_names[keys], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	return m2m_store_run(db, st);
}

int ota_job_end(sqlite3 *db, int64_t id, ota_job_state state, const ota_por_result *por, m2m_reason reason,
		const char *why)
{
	sqlite3_stmt *st = m2m_store_prepare(
		db, "UPDATE ota_job SET state = ?, por_status = ?, executed = ?, last_sw = ?, data = ?, reason = ?,"
		    " last_error = ?, explicit_sealed = NULL, changed = ? WHERE id = ? AND state IN ('queued', 'sent')");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, state_names[state], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, por ? por->status : -1);
	sqlite3_bind_int(st, 3, por ? por->executed : 0);
	sqlite3_bind_int(st, 4, por ? por->sw : 0);
	if (por && por->len)
		sqlite3_bind_blob(st, 5, por->data, (int)(por->len < 256 ? por->len : 256), SQLITE_STATIC);
	sqlite3_bind_int(st, 6, (int)reason);
	sqlite3_bind_text(st, 7, why ? why : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 9, id);
	return m2m_store_run(db, st);
}

int ota_job_requeue_sent(sqlite3 *db)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE ota_job SET state = 'queued', due = ?, last_error ="
					     " 'sent before a restart: sent again with a new counter' WHERE state = 'sent'");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	return m2m_store_run(db, st) ? -1 : sqlite3_changes(db);
}

int ota_job_cancel_card(sqlite3 *db, const char *iccid, const char *why)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT id FROM ota_job WHERE iccid = ? AND state IN ('queued', 'sent')");
	int64_t ids[64];
	int n = 0, rc;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 64)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -1;
	for (int i = 0; i < n; i++)
		if (ota_job_end(db, ids[i], OTA_JOB_FAILED, NULL, M2M_R_WRONG_STATE, why))
			return -1;
	if (n == 64)
		return ota_job_cancel_card(db, iccid, why);  /* more than one batch */
	/* a rotation of the card is over with its job */
	return ota_rotation_end(db, NULL, iccid, 0);
}
