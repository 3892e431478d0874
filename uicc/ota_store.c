/*
 * The card's OTA state in SQLite: the keysets by key version number, their KIc, KID and DEK
 * sealed under the storage key with "uicc_ota_keyset:KVN" as associated data (so a sealed
 * keyset cannot be moved to another version); the TARs with their keyset, minimum security
 * level and counter; the segments of a concatenated packet received so far.
 */
#include "card.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

#define KEY_BYTES (2 + M2M_OTA_KEY_MAX)  /* alg, len, the key zero-padded */
#define SEGMENTS_MAX (8 + M2M_SMS_CONCAT_MAX * (1 + M2M_SMS_UD_MAX))

static const char *const app_names[UICC_OTA_APPS] = {[UICC_OTA_RFM] = "rfm", [UICC_OTA_ISD] = "isd"};

/* ---- keysets ---------------------------------------------------------------------------- */

void uicc_keyset_pack(const m2m_ota_keyset *ks, uint8_t out[UICC_KEYSET_BYTES])
{
	const m2m_ota_key *keys[3] = {&ks->kic, &ks->kid, &ks->dek};
	memset(out, 0, UICC_KEYSET_BYTES);
	for (int i = 0; i < 3; i++) {
		uint8_t *p = out + i * KEY_BYTES;
		p[0] = keys[i]->alg;
		p[1] = (uint8_t)keys[i]->len;
		memcpy(p + 2, keys[i]->key, keys[i]->len);
	}
}

int uicc_keyset_unpack(const uint8_t in[UICC_KEYSET_BYTES], uint8_t kvn, m2m_ota_keyset *ks)
{
	m2m_ota_key *keys[3] = {&ks->kic, &ks->kid, &ks->dek};
	memset(ks, 0, sizeof *ks);
	ks->kvn = kvn;
	for (int i = 0; i < 3; i++) {
		const uint8_t *p = in + i * KEY_BYTES;
		if (p[1] > M2M_OTA_KEY_MAX)
			return -1;
		keys[i]->alg = p[0];
		keys[i]->len = p[1];
		memcpy(keys[i]->key, p + 2, p[1]);
	}
	return 0;
}

static void keyset_aad(uint8_t kvn, char aad[32])
{
	snprintf(aad, 32, "uicc_ota_keyset:%u", kvn);
}

static int keyset_differs(const m2m_ota_keyset *a, const m2m_ota_keyset *b)
{
	uint8_t pa[UICC_KEYSET_BYTES], pb[UICC_KEYSET_BYTES];
	uicc_keyset_pack(a, pa);
	uicc_keyset_pack(b, pb);
	int differs = a->kvn != b->kvn || memcmp(pa, pb, sizeof pa);
	m2m_wipe(pa, sizeof pa);
	m2m_wipe(pb, sizeof pb);
	return differs;
}

static int keyset_put(sqlite3 *db, const uint8_t storage_key[32], const m2m_ota_keyset *ks)
{
	uint8_t plain[UICC_KEYSET_BYTES], sealed[UICC_KEYSET_BYTES + M2M_SEAL_OVERHEAD];
	char aad[32];
	keyset_aad(ks->kvn, aad);
	uicc_keyset_pack(ks, plain);
	int rc = m2m_seal(storage_key, aad, strlen(aad), plain, sizeof plain, sealed);
	m2m_wipe(plain, sizeof plain);
	sqlite3_stmt *st = rc ? NULL
			      : m2m_store_prepare(db, "INSERT OR REPLACE INTO uicc_ota_keyset (kvn, kic_alg, kid_alg,"
						      " sealed) VALUES (?1, ?2, ?3, ?4)");
	if (st) {
		sqlite3_bind_int(st, 1, ks->kvn);
		sqlite3_bind_int(st, 2, ks->kic.alg);
		sqlite3_bind_int(st, 3, ks->kid.alg);
		sqlite3_bind_blob(st, 4, sealed, sizeof sealed, SQLITE_STATIC);
	}
	return rc ? -1 : m2m_store_run(db, st);
}

/* The row of version kvn becomes after (absent when after->kvn is 0). */
static int keyset_save(sqlite3 *db, const uint8_t storage_key[32], int kvn, const m2m_ota_keyset *after)
{
	if (after->kvn)
		return keyset_put(db, storage_key, after);
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM uicc_ota_keyset WHERE kvn = ?1");
	if (st)
		sqlite3_bind_int(st, 1, kvn);
	return m2m_store_run(db, st);
}

/* ---- TARs ------------------------------------------------------------------------------- */

static int tar_differs(const uicc_tar *a, const uicc_tar *b)
{
	return a->present != b->present || memcmp(a->tar, b->tar, sizeof a->tar) || a->kvn != b->kvn ||
	       a->msl != b->msl || a->counter != b->counter;
}

static int tar_save(sqlite3 *db, int app, const uicc_tar *t)
{
	sqlite3_stmt *st = m2m_store_prepare(db, t->present ? "INSERT OR REPLACE INTO uicc_ota_tar (application, tar, kvn,"
							      " msl, counter) VALUES (?1, ?2, ?3, ?4, ?5)"
							    : "DELETE FROM uicc_ota_tar WHERE application = ?1");
	if (st) {
		sqlite3_bind_text(st, 1, app_names[app], -1, SQLITE_STATIC);
		if (t->present) {
			sqlite3_bind_blob(st, 2, t->tar, sizeof t->tar, SQLITE_STATIC);
			sqlite3_bind_int(st, 3, t->kvn);
			sqlite3_bind_int(st, 4, t->msl);
			sqlite3_bind_int64(st, 5, (sqlite3_int64)t->counter);
		}
	}
	return m2m_store_run(db, st);
}

/* ---- segments --------------------------------------------------------------------------- */

/* command_packet, ref, total, have (4 bytes), then each segment held: its length and bytes.
 * 0 bytes when no packet is being reassembled. */
static size_t segments_pack(const m2m_sms_concat *c, uint8_t *out)
{
	if (!c->started)
		return 0;
	size_t n = 0;
	out[n++] = (uint8_t)c->command_packet;
	out[n++] = c->ref;
	out[n++] = c->total;
	for (int i = 3; i >= 0; i--)
		out[n++] = (uint8_t)(c->have >> (8 * i));
	for (int i = 0; i < c->total && i < M2M_SMS_CONCAT_MAX; i++) {
		if (!(c->have >> i & 1))
			continue;
		out[n++] = (uint8_t)c->seg_len[i];
		memcpy(out + n, c->seg[i], c->seg_len[i]);
		n += c->seg_len[i];
	}
	return n;
}

static int segments_unpack(const uint8_t *in, size_t len, m2m_sms_concat *c)
{
	memset(c, 0, sizeof *c);
	if (len < 7 || in[2] == 0 || in[2] > M2M_SMS_CONCAT_MAX)
		return -1;
	c->started = 1;
	c->command_packet = in[0];
	c->ref = in[1];
	c->total = in[2];
	c->have = (uint32_t)in[3] << 24 | (uint32_t)in[4] << 16 | (uint32_t)in[5] << 8 | in[6];
	size_t p = 7;
	for (int i = 0; i < M2M_SMS_CONCAT_MAX; i++) {
		if (!(c->have >> i & 1))
			continue;
		if (i >= c->total || p >= len || in[p] > M2M_SMS_UD_MAX || len - p - 1 < in[p])
			return -1;
		c->seg_len[i] = in[p];
		memcpy(c->seg[i], in + p + 1, in[p]);
		p += 1 + (size_t)in[p];
	}
	return p == len ? 0 : -1;
}

static int segments_save(sqlite3 *db, const m2m_sms_concat *before, const m2m_sms_concat *after)
{
	uint8_t a[SEGMENTS_MAX], b[SEGMENTS_MAX];
	size_t na = segments_pack(before, a), nb = segments_pack(after, b);
	if (na == nb && !memcmp(a, b, na))
		return 0;
	sqlite3_stmt *st = m2m_store_prepare(db, nb ? "INSERT OR REPLACE INTO uicc_sms_segments (id, segments)"
						      " VALUES (1, ?1)"
						    : "DELETE FROM uicc_sms_segments");
	if (st && nb)
		sqlite3_bind_blob(st, 1, b, (int)nb, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

int uicc_ota_save(sqlite3 *db, const uint8_t storage_key[32], const uicc_ota *before, const uicc_ota *after)
{
	int failed = 0;
	for (int kvn = 1; kvn <= UICC_KVN_MAX && !failed; kvn++)
		if (keyset_differs(&before->keyset[kvn], &after->keyset[kvn]))
			failed = keyset_save(db, storage_key, kvn, &after->keyset[kvn]);
	for (int app = 0; app < UICC_OTA_APPS && !failed; app++)
		if (tar_differs(&before->tar[app], &after->tar[app]))
			failed = tar_save(db, app, &after->tar[app]);
	return failed || segments_save(db, &before->sms, &after->sms) ? -1 : 0;
}

/* ---- reading ---------------------------------------------------------------------------- */

static int load_keyset(sqlite3_stmt *st, const uint8_t storage_key[32], uicc_ota *o)
{
	int kvn = sqlite3_column_int(st, 0);
	uint8_t plain[UICC_KEYSET_BYTES];
	char aad[32];
	if (kvn < 1 || kvn > UICC_KVN_MAX ||
	    sqlite3_column_bytes(st, 3) != (int)(UICC_KEYSET_BYTES + M2M_SEAL_OVERHEAD))
		return -1;
	keyset_aad((uint8_t)kvn, aad);
	m2m_ota_keyset *ks = &o->keyset[kvn];
	int rc = m2m_unseal(storage_key, aad, strlen(aad), sqlite3_column_blob(st, 3),
			    UICC_KEYSET_BYTES + M2M_SEAL_OVERHEAD, plain) ||
		 uicc_keyset_unpack(plain, (uint8_t)kvn, ks) || ks->kic.alg != sqlite3_column_int(st, 1) ||
		 ks->kid.alg != sqlite3_column_int(st, 2);
	m2m_wipe(plain, sizeof plain);
	if (rc)
		m2m_error("the card's OTA keyset %d does not open with this storage key", kvn);
	return rc ? -1 : 0;
}

static int load_tar(sqlite3_stmt *st, const uint8_t storage_key[32], uicc_ota *o)
{
	(void)storage_key;
	const char *name = (const char *)sqlite3_column_text(st, 1);
	int app = -1;
	for (int i = 0; i < UICC_OTA_APPS; i++)
		if (name && !strcmp(name, app_names[i]))
			app = i;
	int kvn = sqlite3_column_int(st, 2), msl = sqlite3_column_int(st, 3);
	sqlite3_int64 counter = sqlite3_column_int64(st, 4);
	if (app < 0 || kvn < 1 || kvn > UICC_KVN_MAX || !o->keyset[kvn].kvn || msl < 0 || msl > 0xFF ||
	    counter < 0 || (uint64_t)counter > M2M_OTA_CNTR_MAX || m2m_store_column_blob(st, 0, o->tar[app].tar, 3))
		return -1;
	o->tar[app].present = 1;
	o->tar[app].kvn = (uint8_t)kvn;
	o->tar[app].msl = (uint8_t)msl;
	o->tar[app].counter = (uint64_t)counter;
	return 0;
}

typedef int (*row_reader)(sqlite3_stmt *st, const uint8_t storage_key[32], uicc_ota *o);

/* Runs query and hands each row to read; 0 or -1. */
static int load_rows(sqlite3 *db, const char *query, row_reader read, const uint8_t storage_key[32], uicc_ota *o)
{
	sqlite3_stmt *st = m2m_store_prepare(db, query);
	int bad = !st;
	while (!bad && sqlite3_step(st) == SQLITE_ROW)
		bad = read(st, storage_key, o);
	sqlite3_finalize(st);
	return bad ? -1 : 0;
}

static int load_segments(sqlite3 *db, m2m_sms_concat *c)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT segments FROM uicc_sms_segments WHERE id = 1");
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR, bad = rc != SQLITE_DONE && rc != SQLITE_ROW;
	if (rc == SQLITE_ROW)
		bad = segments_unpack(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), c);
	sqlite3_finalize(st);
	return bad ? -1 : 0;
}

/*
 * Cards made before issue 6 hold their image's keyset as one key row 'OTA' (TAR || KIc || KID,
 * AES-128): it becomes keyset 1 (no DEK) on that TAR and on the ISD's, with the default
 * minimum security level and counters zero, and the row goes, in one savepoint.
 */
static int convert_legacy(sqlite3 *db, const uint8_t storage_key[32])
{
	static const uicc_ota none;
	enum { LEGACY_LEN = M2M_OTA_TAR_LEN + 16 + 16 };
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT sealed FROM uicc_key WHERE name = 'OTA'");
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	uint8_t plain[LEGACY_LEN];
	int failed = rc != SQLITE_DONE && rc != SQLITE_ROW;
	if (rc == SQLITE_ROW)
		failed = sqlite3_column_bytes(st, 0) != LEGACY_LEN + M2M_SEAL_OVERHEAD ||
			 m2m_unseal(storage_key, "OTA", 3, sqlite3_column_blob(st, 0), LEGACY_LEN + M2M_SEAL_OVERHEAD,
				    plain);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW || failed) {
		if (failed)
			m2m_error("the card's OTA key row does not open with this storage key");
		return failed ? -1 : 0;
	}
	uicc_ota ota = {0}, *o = &ota;
	o->keyset[1] = (m2m_ota_keyset){.kvn = 1, .kic = {.alg = 0x2, .len = 16}, .kid = {.alg = 0x2, .len = 16}};
	memcpy(o->keyset[1].kic.key, plain + M2M_OTA_TAR_LEN, 16);
	memcpy(o->keyset[1].kid.key, plain + M2M_OTA_TAR_LEN + 16, 16);
	o->tar[UICC_OTA_RFM] = (uicc_tar){.present = 1, .kvn = 1, .msl = UICC_MSL_DEFAULT};
	memcpy(o->tar[UICC_OTA_RFM].tar, plain, M2M_OTA_TAR_LEN);
	o->tar[UICC_OTA_ISD] = (uicc_tar){.present = 1, .kvn = 1, .msl = UICC_MSL_DEFAULT};
	m2m_wipe(plain, sizeof plain);
	failed = uicc_store_savepoint(db);
	if (!failed)
		failed = uicc_store_release(db, uicc_ota_save(db, storage_key, &none, o) ||
							m2m_store_exec(db, "DELETE FROM uicc_key WHERE name = 'OTA'"));
	m2m_wipe(o, sizeof *o);
	if (!failed)
		m2m_info("the card's OTA keyset is now keyset 1 of its RFM TAR and of the ISD's TAR 000000");
	return failed ? -1 : 0;
}

int uicc_ota_load(sqlite3 *db, const uint8_t storage_key[32], uicc_ota *out)
{
	memset(out, 0, sizeof *out);
	int rc = convert_legacy(db, storage_key) ||
		 load_rows(db, "SELECT kvn, kic_alg, kid_alg, sealed FROM uicc_ota_keyset", load_keyset, storage_key,
			   out) ||
		 load_rows(db, "SELECT tar, application, kvn, msl, counter FROM uicc_ota_tar", load_tar, storage_key,
			   out) ||
		 load_segments(db, &out->sms);
	if (rc) {
		m2m_error("the card's OTA keysets, TARs or segments in the database are not valid");
		m2m_wipe(out, sizeof *out);
	}
	return rc ? -1 : 0;
}
