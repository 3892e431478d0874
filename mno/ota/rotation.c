/*
 * Key rotation: fresh random keys for a card's keyset, sent by PUT KEY (GlobalPlatform 2.2 §11.8)
 * to the issuer security domain (TAR 000000) under the current keyset, the new keys wrapped under
 * the current DEK. Until a protected PoR says OK the new keys are only "pending" (table
 * ota_rotation, sealed); then they replace the keyset of that version on every TAR of the card
 * (the card does the same: its TARs keep their counters).
 *
 * A PoR lost after the card applied PUT KEY must not strand the server: the retry under the old
 * keys then gets an unprotected PoR "RC/CC/DS failed" (the card no longer has them). The server
 * (server.c) then sends the same PUT KEY again under the pending keys, wrapped under the pending
 * DEK: to a card that has them it is a PUT KEY replacing the keys by themselves, answered by a
 * protected PoR OK, which ends the rotation; a card that has neither answers 01 again and the
 * rotation fails (its pending keys dropped).
 */
#include "ota/ota_impl.h"

#include "log/log.h"
#include "ota/rfm.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

static size_t rotation_aad(const char *iccid, char aad[64])
{
	return (size_t)snprintf(aad, 64, "ota-rotation:%s", iccid);
}

/* Fresh keys like k: same algorithm and length. */
static void fresh_key(const m2m_ota_key *k, m2m_ota_key *out)
{
	out->alg = k->alg;
	out->len = k->len;
	m2m_random(out->key, out->len);
}

static int rotation_insert(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, int64_t job_id,
			   const m2m_ota_keyset *next)
{
	char aad[64];
	uint8_t sealed[OTA_KEYS_SEALED_MAX];
	size_t n = ota_keys_seal(storage_key, aad, rotation_aad(iccid, aad), next, sealed);
	sqlite3_stmt *st =
		n ? m2m_store_prepare(db, "INSERT INTO ota_rotation (iccid, job_id, keys_sealed) VALUES (?, ?, ?)") : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, job_id);
		sqlite3_bind_blob(st, 3, sealed, (int)n, SQLITE_TRANSIENT);
	}
	m2m_wipe(sealed, sizeof sealed);
	return m2m_store_run(db, st);
}

int ota_rotate_queue(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, int64_t *id, char *err,
		     size_t errlen)
{
	ota_card_keyset cur;
	m2m_ota_keyset next;
	int64_t pending_job;
	int rc = ota_rotation_pending(db, storage_key, iccid, &pending_job, &next);
	if (rc <= 0) {
		snprintf(err, errlen, rc ? "the rotation state of ICCID %s cannot be read"
					 : "ICCID %s: a rotation is already pending (job %lld)",
			 iccid, (long long)pending_job);
		m2m_wipe(&next, sizeof next);
		return -1;
	}
	rc = ota_keyset_get(db, storage_key, iccid, OTA_TAR_ISD, &cur);
	if (rc) {
		snprintf(err, errlen, rc > 0 ? "ICCID %s has no keyset for the issuer security domain (TAR 000000)"
					     : "the keysets of ICCID %s cannot be read",
			 iccid);
		return -1;
	}
	next.kvn = cur.keys.kvn;
	fresh_key(&cur.keys.kic, &next.kic);
	fresh_key(&cur.keys.kid, &next.kid);
	fresh_key(&cur.keys.dek, &next.dek);
	rc = ota_job_insert(db, iccid, OTA_TAR_ISD, OTA_KIND_ROTATE, NULL, 0, "rotate", id) ||
	     rotation_insert(db, storage_key, iccid, *id, &next);
	m2m_wipe(&cur, sizeof cur);
	m2m_wipe(&next, sizeof next);
	if (rc)
		snprintf(err, errlen, "database: %s", sqlite3_errmsg(db));
	return rc ? -1 : 0;
}

int ota_rotation_pending(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, int64_t *job_id,
			 m2m_ota_keyset *keys)
{
	char aad[64];
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT job_id, keys_sealed FROM ota_rotation WHERE iccid = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 1 : rc == SQLITE_ROW ? 0 : -1;
	if (r == 0) {
		*job_id = sqlite3_column_int64(st, 0);
		r = ota_keys_open(storage_key, aad, rotation_aad(iccid, aad), sqlite3_column_blob(st, 1),
				  (size_t)sqlite3_column_bytes(st, 1), keys);
	}
	sqlite3_finalize(st);
	return r;
}

int ota_rotation_script(const m2m_ota_keyset *under, const m2m_ota_keyset *next, uint8_t *out, size_t cap,
			size_t *len, char *err, size_t errlen)
{
	/* P1 = the version replaced: the same kvn, new keys */
	return m2m_rfm_put_key_build(&under->dek, next->kvn, next, out, cap, len, err, errlen);
}

int ota_rotation_end(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, int done)
{
	m2m_ota_keyset next;
	int64_t job_id;
	int rc = 0;
	if (done) {
		rc = ota_rotation_pending(db, storage_key, iccid, &job_id, &next);
		rc = rc || ota_keyset_replace_kvn(db, storage_key, iccid, next.kvn, &next);
		m2m_wipe(&next, sizeof next);
	}
	sqlite3_stmt *st = rc ? NULL : m2m_store_prepare(db, "DELETE FROM ota_rotation WHERE iccid = ?");
	if (st)
		sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	return m2m_store_run(db, st);
}
