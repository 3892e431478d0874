/*
 * A card's OTA keysets, one per TAR (table ota_keyset): KIc, KID and DEK sealed together under the
 * storage key with aad = ICCID || TAR, the algorithms and kvn in clear (mno-admin shows them), and
 * the last counter sent.
 */
#include "ota/ota_impl.h"

#include "log/log.h"
#include "store/store.h"

#include <string.h>

/* ---- sealing ------------------------------------------------------------------------------------ */

static size_t key_put(const m2m_ota_key *k, uint8_t *out)
{
	out[0] = k->alg;
	out[1] = (uint8_t)k->len;
	memcpy(out + 2, k->key, k->len);
	return 2 + k->len;
}

static int key_get(const uint8_t *in, size_t len, size_t *off, m2m_ota_key *k)
{
	if (*off + 2 > len || in[*off + 1] > M2M_OTA_KEY_MAX || *off + 2 + in[*off + 1] > len)
		return -1;
	k->alg = in[*off];
	k->len = in[*off + 1];
	memcpy(k->key, in + *off + 2, k->len);
	*off += 2 + k->len;
	return 0;
}

size_t ota_keys_seal(const uint8_t key[32], const void *aad, size_t aadlen, const m2m_ota_keyset *ks,
		     uint8_t out[OTA_KEYS_SEALED_MAX])
{
	uint8_t blob[OTA_KEYS_BLOB_MAX];
	size_t n = 0;
	if (ks->kic.len > M2M_OTA_KEY_MAX || ks->kid.len > M2M_OTA_KEY_MAX || ks->dek.len > M2M_OTA_KEY_MAX)
		return 0;
	blob[n++] = ks->kvn;
	n += key_put(&ks->kic, blob + n);
	n += key_put(&ks->kid, blob + n);
	n += key_put(&ks->dek, blob + n);
	int rc = m2m_seal(key, aad, aadlen, blob, n, out);
	m2m_wipe(blob, sizeof blob);
	return rc ? 0 : n + M2M_SEAL_OVERHEAD;
}

int ota_keys_open(const uint8_t key[32], const void *aad, size_t aadlen, const uint8_t *sealed, size_t len,
		  m2m_ota_keyset *ks)
{
	uint8_t blob[OTA_KEYS_BLOB_MAX];
	size_t n = 0, off = 1;
	memset(ks, 0, sizeof *ks);
	int rc = !sealed || len < M2M_SEAL_OVERHEAD + 1 || len > OTA_KEYS_SEALED_MAX ||
		 m2m_unseal(key, aad, aadlen, sealed, len, blob) ? -1 : 0;
	if (!rc) {
		n = len - M2M_SEAL_OVERHEAD;
		ks->kvn = blob[0];
		rc = key_get(blob, n, &off, &ks->kic) || key_get(blob, n, &off, &ks->kid) ||
		     key_get(blob, n, &off, &ks->dek) || off != n ? -1 : 0;
	}
	m2m_wipe(blob, sizeof blob);
	if (rc)
		m2m_wipe(ks, sizeof *ks);
	return rc;
}

/* aad = ICCID || TAR: a sealed keyset cannot be moved to another card or TAR. */
static size_t keyset_aad(const char *iccid, const uint8_t tar[3], uint8_t aad[OTA_ICCID_MAX + 3])
{
	size_t n = strlen(iccid);
	memcpy(aad, iccid, n);
	memcpy(aad + n, tar, 3);
	return n + 3;
}

/* ---- the table ---------------------------------------------------------------------------------- */

int ota_keyset_put(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, const ota_card_keyset *k)
{
	uint8_t aad[OTA_ICCID_MAX + 3], sealed[OTA_KEYS_SEALED_MAX];
	if (strlen(iccid) > OTA_ICCID_MAX || k->keys.kvn < 1 || k->keys.kvn > 15 || k->counter > M2M_OTA_CNTR_MAX)
		return -1;
	size_t n = ota_keys_seal(storage_key, aad, keyset_aad(iccid, k->tar, aad), &k->keys, sealed);
	sqlite3_stmt *st = n ? m2m_store_prepare(db, "INSERT OR REPLACE INTO ota_keyset (iccid, tar, kvn, kic_alg,"
						     " kid_alg, keys_sealed, counter) VALUES (?, ?, ?, ?, ?, ?, ?)")
			     : NULL;
	if (!st) {
		m2m_wipe(sealed, sizeof sealed);
		return -1;
	}
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, k->tar, 3, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, k->keys.kvn);
	sqlite3_bind_int(st, 4, k->keys.kic.alg);
	sqlite3_bind_int(st, 5, k->keys.kid.alg);
	sqlite3_bind_blob(st, 6, sealed, (int)n, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)k->counter);
	m2m_wipe(sealed, sizeof sealed);
	return m2m_store_run(db, st);
}

/* One row (tar, keys_sealed, counter) into k; storage_key NULL leaves the keys empty but kvn and
 * algorithms (what mno-admin shows). */
static int read_keyset(sqlite3_stmt *st, const uint8_t *storage_key, const char *iccid, ota_card_keyset *k)
{
	uint8_t aad[OTA_ICCID_MAX + 3];
	memset(k, 0, sizeof *k);
	if (m2m_store_column_blob(st, 0, k->tar, 3))
		return -1;
	k->counter = (uint64_t)sqlite3_column_int64(st, 2);
	if (storage_key &&
	    ota_keys_open(storage_key, aad, keyset_aad(iccid, k->tar, aad), sqlite3_column_blob(st, 1),
			  (size_t)sqlite3_column_bytes(st, 1), &k->keys)) {
		m2m_error("the OTA keyset of ICCID %s does not open under this storage key", iccid);
		return -1;
	}
	k->keys.kvn = (uint8_t)sqlite3_column_int(st, 3);
	k->keys.kic.alg = (uint8_t)sqlite3_column_int(st, 4);
	k->keys.kid.alg = (uint8_t)sqlite3_column_int(st, 5);
	return 0;
}

#define KEYSET_COLUMNS "SELECT tar, keys_sealed, counter, kvn, kic_alg, kid_alg FROM ota_keyset WHERE iccid = ?"

int ota_keyset_list(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, ota_card_keyset *out, size_t max,
		    size_t *n)
{
	sqlite3_stmt *st = m2m_store_prepare(db, KEYSET_COLUMNS " ORDER BY tar");
	int rc = SQLITE_DONE, bad = 0;
	*n = 0;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	while (!bad && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		bad = read_keyset(st, storage_key, iccid, &out[(*n)++]);
	sqlite3_finalize(st);
	if (bad || (rc != SQLITE_DONE && rc != SQLITE_ROW)) {
		m2m_wipe(out, *n * sizeof *out);
		*n = 0;
		return -1;
	}
	return 0;
}

int ota_keyset_get(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, const uint8_t tar[3],
		   ota_card_keyset *out)
{
	sqlite3_stmt *st = m2m_store_prepare(db, KEYSET_COLUMNS " AND tar = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, tar, 3, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? read_keyset(st, storage_key, iccid, out) : rc == SQLITE_DONE ? 1 : -1;
	sqlite3_finalize(st);
	return r;
}

int ota_keyset_delete_card(sqlite3 *db, const char *iccid)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM ota_keyset WHERE iccid = ?");
	if (st)
		sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

int ota_keyset_personalise(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, const m2m_ota_keyset *keys)
{
	ota_card_keyset k = {.keys = *keys, .counter = 0};
	memcpy(k.tar, OTA_TAR_USIM_RFM, 3);
	int rc = ota_keyset_put(db, storage_key, iccid, &k);
	memcpy(k.tar, OTA_TAR_ISD, 3);
	rc = rc || ota_keyset_put(db, storage_key, iccid, &k);
	m2m_wipe(&k, sizeof k);
	return rc ? -1 : 0;
}

int ota_keyset_set_counter(sqlite3 *db, const char *iccid, const uint8_t tar[3], uint64_t counter)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE ota_keyset SET counter = ? WHERE iccid = ? AND tar = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)counter);
	sqlite3_bind_text(st, 2, iccid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, tar, 3, SQLITE_STATIC);
	return m2m_store_run(db, st) || sqlite3_changes(db) != 1 ? -1 : 0;
}

int ota_keyset_replace_kvn(sqlite3 *db, const uint8_t storage_key[32], const char *iccid, uint8_t kvn,
			   const m2m_ota_keyset *keys)
{
	ota_card_keyset all[8];
	size_t n;
	int rc = ota_keyset_list(db, storage_key, iccid, all, sizeof all / sizeof all[0], &n);
	for (size_t i = 0; !rc && i < n; i++)
		if (all[i].keys.kvn == kvn) {
			all[i].keys = *keys;  /* the counter stays: the card keeps its TAR's */
			rc = ota_keyset_put(db, storage_key, iccid, &all[i]);
		}
	m2m_wipe(all, sizeof all);
	return rc;
}
