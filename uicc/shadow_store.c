/*
 * The card's Alternative 3b state in SQLite: the shadow slot (uicc_shadow: its state, change id
 * and EF_IMSI in clear, its SQN array serialised, K, OPc, its OTA keysets and TARs sealed under
 * the storage key with "uicc_shadow" as associated data), the outstanding challenge
 * (uicc_challenge) and the blocks of a STORE DATA chain (uicc_store_data: only ciphertext).
 * Written when they differ, inside the caller's savepoint (card_store.c).
 */
#include "card.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <string.h>

#define SHADOW_AAD "uicc_shadow"
#define TAR_BYTES (1 + M2M_OTA_TAR_LEN + 1 + 1 + 8)  /* present, TAR, kvn, msl, counter */
#define SECRET_BYTES (2 * UICC_AKA_KEY_LEN + UICC_KVN_MAX * (1 + UICC_KEYSET_BYTES) + UICC_OTA_APPS * TAR_BYTES)

static const char *const state_names[] = {[UICC_SLOT_LOADED] = "loaded", [UICC_SLOT_SWITCHED] = "switched"};

/* ---- the slot's secrets, packed to be sealed ------------------------------------------------- */

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* K, OPc, then each key version (present, its keys), then each TAR. */
static void pack_secrets(const uicc_slot *s, uint8_t out[SECRET_BYTES])
{
	uint8_t *p = out;
	memset(out, 0, SECRET_BYTES);
	memcpy(p, s->k, UICC_AKA_KEY_LEN);
	memcpy(p + UICC_AKA_KEY_LEN, s->opc, UICC_AKA_KEY_LEN);
	p += 2 * UICC_AKA_KEY_LEN;
	for (int kvn = 1; kvn <= UICC_KVN_MAX; kvn++, p += 1 + UICC_KEYSET_BYTES) {
		p[0] = s->keyset[kvn].kvn != 0;
		if (p[0])
			uicc_keyset_pack(&s->keyset[kvn], p + 1);
	}
	for (int app = 0; app < UICC_OTA_APPS; app++, p += TAR_BYTES) {
		const uicc_tar *t = &s->tar[app];
		p[0] = t->present != 0;
		memcpy(p + 1, t->tar, M2M_OTA_TAR_LEN);
		p[4] = t->kvn;
		p[5] = t->msl;
		put_be64(p + 6, t->counter);
	}
}

static int unpack_tar(const uint8_t *p, const uicc_slot *s, uicc_tar *t)
{
	if (!p[0])
		return 0;
	t->present = 1;
	memcpy(t->tar, p + 1, M2M_OTA_TAR_LEN);
	t->kvn = p[4];
	t->msl = p[5];
	t->counter = get_be64(p + 6);
	return p[0] == 1 && t->kvn >= 1 && t->kvn <= UICC_KVN_MAX && s->keyset[t->kvn].kvn && t->counter <= M2M_OTA_CNTR_MAX
		       ? 0
		       : -1;
}

static int unpack_secrets(const uint8_t in[SECRET_BYTES], uicc_slot *s)
{
	const uint8_t *p = in + 2 * UICC_AKA_KEY_LEN;
	int bad = 0;
	memcpy(s->k, in, UICC_AKA_KEY_LEN);
	memcpy(s->opc, in + UICC_AKA_KEY_LEN, UICC_AKA_KEY_LEN);
	for (int kvn = 1; kvn <= UICC_KVN_MAX && !bad; kvn++, p += 1 + UICC_KEYSET_BYTES)
		bad = p[0] > 1 || (p[0] && uicc_keyset_unpack(p + 1, (uint8_t)kvn, &s->keyset[kvn]));
	for (int app = 0; app < UICC_OTA_APPS && !bad; app++, p += TAR_BYTES)
		bad = unpack_tar(p, s, &s->tar[app]);
	return bad ? -1 : 0;
}

static int slot_differs(const uicc_slot *a, const uicc_slot *b)
{
	uint8_t pa[SECRET_BYTES], pb[SECRET_BYTES], sa[M2M_SQN_USIM_BLOB_LEN], sb[M2M_SQN_USIM_BLOB_LEN];
	if (a->state != b->state)
		return 1;
	if (a->state == UICC_SLOT_EMPTY)
		return 0;
	pack_secrets(a, pa);
	pack_secrets(b, pb);
	m2m_sqn_usim_serialise(&a->sqn, sa);
	m2m_sqn_usim_serialise(&b->sqn, sb);
	int differs = memcmp(a->change_id, b->change_id, sizeof a->change_id) ||
		      memcmp(a->ef_imsi, b->ef_imsi, sizeof a->ef_imsi) || memcmp(sa, sb, sizeof sa) ||
		      memcmp(pa, pb, sizeof pa);
	m2m_wipe(pa, sizeof pa);
	m2m_wipe(pb, sizeof pb);
	return differs;
}

/* ---- writing ----------------------------------------------------------------------------------- */

static int slot_save(sqlite3 *db, const uint8_t storage_key[32], const uicc_slot *s)
{
	uint8_t plain[SECRET_BYTES], sealed[SECRET_BYTES + M2M_SEAL_OVERHEAD], sqn[M2M_SQN_USIM_BLOB_LEN];
	if (s->state == UICC_SLOT_EMPTY)
		return m2m_store_exec(db, "DELETE FROM uicc_shadow");
	pack_secrets(s, plain);
	int rc = m2m_seal(storage_key, SHADOW_AAD, strlen(SHADOW_AAD), plain, sizeof plain, sealed);
	m2m_wipe(plain, sizeof plain);
	m2m_sqn_usim_serialise(&s->sqn, sqn);
	sqlite3_stmt *st = rc ? NULL
			      : m2m_store_prepare(db, "INSERT OR REPLACE INTO uicc_shadow (id, state, change_id, ef_imsi, sqn,"
						      " sealed) VALUES (1, ?1, ?2, ?3, ?4, ?5)");
	if (st) {
		sqlite3_bind_text(st, 1, state_names[s->state], -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, s->change_id, sizeof s->change_id, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, s->ef_imsi, sizeof s->ef_imsi, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, sqn, sizeof sqn, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, sealed, sizeof sealed, SQLITE_STATIC);
	}
	return rc ? -1 : m2m_store_run(db, st);
}

static int challenge_save(sqlite3 *db, const uicc_challenge *before, const uicc_challenge *after)
{
	if (before->issued == after->issued && !memcmp(before->nonce, after->nonce, sizeof after->nonce))
		return 0;
	if (!after->issued)
		return m2m_store_exec(db, "DELETE FROM uicc_challenge");
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT OR REPLACE INTO uicc_challenge (id, nonce) VALUES (1, ?1)");
	if (st)
		sqlite3_bind_blob(st, 1, after->nonce, sizeof after->nonce, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

static int chain_save(sqlite3 *db, const uicc_chain *before, const uicc_chain *after)
{
	if (before->next == after->next && before->len == after->len && !memcmp(before->data, after->data, after->len))
		return 0;
	if (!after->next)
		return m2m_store_exec(db, "DELETE FROM uicc_store_data");
	sqlite3_stmt *st =
		m2m_store_prepare(db, "INSERT OR REPLACE INTO uicc_store_data (id, next_block, data) VALUES (1, ?1, ?2)");
	if (st) {
		sqlite3_bind_int(st, 1, after->next);
		sqlite3_bind_blob(st, 2, after->data, (int)after->len, SQLITE_STATIC);
	}
	return m2m_store_run(db, st);
}

int uicc_shadow_save(sqlite3 *db, const uint8_t storage_key[32], const uicc_state *before, const uicc_state *after)
{
	int failed = slot_differs(&before->shadow, &after->shadow) && slot_save(db, storage_key, &after->shadow);
	failed = failed || challenge_save(db, &before->challenge, &after->challenge) ||
		 chain_save(db, &before->chain, &after->chain);
	if (failed)
		m2m_error("the card's shadow slot, challenge or STORE DATA chain could not be stored");
	return failed ? -1 : 0;
}

/* ---- reading ----------------------------------------------------------------------------------- */

static int state_from_name(const char *name)
{
	for (int i = UICC_SLOT_LOADED; i <= UICC_SLOT_SWITCHED; i++)
		if (name && !strcmp(name, state_names[i]))
			return i;
	return -1;
}

static int slot_read(sqlite3_stmt *st, const uint8_t storage_key[32], uicc_slot *s)
{
	uint8_t plain[SECRET_BYTES], sqn[M2M_SQN_USIM_BLOB_LEN];
	int state = state_from_name((const char *)sqlite3_column_text(st, 0));
	int bad = state < 0 || m2m_store_column_blob(st, 1, s->change_id, sizeof s->change_id) ||
		  m2m_store_column_blob(st, 2, s->ef_imsi, sizeof s->ef_imsi) ||
		  m2m_store_column_blob(st, 3, sqn, sizeof sqn) || m2m_sqn_usim_deserialise(&s->sqn, sqn) ||
		  sqlite3_column_bytes(st, 4) != (int)sizeof plain + M2M_SEAL_OVERHEAD ||
		  m2m_unseal(storage_key, SHADOW_AAD, strlen(SHADOW_AAD), sqlite3_column_blob(st, 4),
			     sizeof plain + M2M_SEAL_OVERHEAD, plain) ||
		  unpack_secrets(plain, s);
	s->state = bad ? UICC_SLOT_EMPTY : (uicc_slot_state)state;
	m2m_wipe(plain, sizeof plain);
	return bad ? -1 : 0;
}

/* The one row sql selects, if any, read by read: 0 (also when there is none), or -1. */
static int one_row(sqlite3 *db, const char *sql, int (*read)(sqlite3_stmt *st, void *arg), void *arg)
{
	sqlite3_stmt *st = m2m_store_prepare(db, sql);
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	int bad = rc == SQLITE_ROW ? read(st, arg) : rc != SQLITE_DONE;
	sqlite3_finalize(st);
	return bad ? -1 : 0;
}

typedef struct slot_reading {
	const uint8_t *storage_key;
	uicc_slot *slot;
} slot_reading;

static int slot_row(sqlite3_stmt *st, void *arg)
{
	const slot_reading *r = arg;
	return slot_read(st, r->storage_key, r->slot);
}

static int challenge_row(sqlite3_stmt *st, void *arg)
{
	uicc_challenge *c = arg;
	c->issued = !m2m_store_column_blob(st, 0, c->nonce, sizeof c->nonce);
	return !c->issued;
}

static int chain_row(sqlite3_stmt *st, void *arg)
{
	uicc_chain *c = arg;
	int next = sqlite3_column_int(st, 0), len = sqlite3_column_bytes(st, 1);
	if (next < 1 || next > 255 || len < 1 || (size_t)len > sizeof c->data)
		return -1;
	c->next = next;
	c->len = (size_t)len;
	memcpy(c->data, sqlite3_column_blob(st, 1), c->len);
	return 0;
}

int uicc_shadow_load(sqlite3 *db, const uint8_t storage_key[32], uicc_state *st)
{
	slot_reading slot = {storage_key, &st->shadow};
	int rc = one_row(db, "SELECT state, change_id, ef_imsi, sqn, sealed FROM uicc_shadow WHERE id = 1", slot_row,
			 &slot) ||
		 one_row(db, "SELECT nonce FROM uicc_challenge WHERE id = 1", challenge_row, &st->challenge) ||
		 one_row(db, "SELECT next_block, data FROM uicc_store_data WHERE id = 1", chain_row, &st->chain);
	if (rc)
		m2m_error("the card's shadow slot, challenge or STORE DATA chain in the database is not valid"
			  " (or does not open with this storage key)");
	return rc ? -1 : 0;
}
