/*
 * The card's SQLite state. Files are kept by name (EF_IMSI...) and the selection by file name,
 * so that a row keeps its meaning whatever the order of the tree in fs.c. K, OPc and the ADM
 * key are sealed under the storage key with their name as associated data, so that one cannot
 * be moved into another's row (the OTA keysets likewise, in ota_store.c, and the shadow slot in
 * shadow_store.c); K and OPc are rewritten when SWITCH or ROLLBACK changes them. Every write is made
 * inside a savepoint: all or nothing, inside the node's step transaction or on its own.
 */
#include "card.h"

#include "crypto/crypto.h"
#include "daemon/identity.h"
#include "log/log.h"
#include "net/node.h"

#include <string.h>

static const char *const migrations[] = {
	M2M_NODE_SCHEMA
	"CREATE TABLE uicc_file (name TEXT PRIMARY KEY, content BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE uicc_key (name TEXT PRIMARY KEY CHECK (name IN ('K', 'OPc', 'ADM', 'OTA')),"
	" sealed BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE uicc_state (id INTEGER PRIMARY KEY CHECK (id = 1), sqn BLOB NOT NULL,"
	" adm_tries INTEGER NOT NULL, current_df TEXT NOT NULL, current_ef TEXT,"
	" app_active INTEGER NOT NULL, adm_verified INTEGER NOT NULL);",
	/* issue 6: over the air. The keysets' keys are sealed (aad "uicc_ota_keyset:KVN"); the
	 * toolkit's state sits with the session in uicc_state; the old 'OTA' key row is converted
	 * when the card is loaded (ota_store.c). */
	"CREATE TABLE uicc_ota_keyset (kvn INTEGER PRIMARY KEY CHECK (kvn BETWEEN 1 AND 15),"
	" kic_alg INTEGER NOT NULL, kid_alg INTEGER NOT NULL, sealed BLOB NOT NULL);"
	"CREATE TABLE uicc_ota_tar (tar BLOB PRIMARY KEY CHECK (length(tar) = 3),"
	" application TEXT NOT NULL UNIQUE CHECK (application IN ('rfm', 'isd')),"
	" kvn INTEGER NOT NULL CHECK (kvn BETWEEN 1 AND 15), msl INTEGER NOT NULL,"
	" counter INTEGER NOT NULL CHECK (counter >= 0)) WITHOUT ROWID;"
	"CREATE TABLE uicc_sms_segments (id INTEGER PRIMARY KEY CHECK (id = 1), segments BLOB NOT NULL);"
	"ALTER TABLE uicc_state ADD COLUMN profile BLOB NOT NULL DEFAULT x'';"
	"ALTER TABLE uicc_state ADD COLUMN proactive BLOB;"
	"ALTER TABLE uicc_state ADD COLUMN proactive_number INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE uicc_state ADD COLUMN proactive_fetched INTEGER NOT NULL DEFAULT 0;",
	/* issue 7: Alternative 3b. The card's identity (lib/daemon/identity: its key sealed, its
	 * certificate chain); the shadow slot, its keys sealed (aad "uicc_shadow"); the outstanding
	 * challenge; the blocks of a STORE DATA chain (shadow_store.c). */
	M2M_IDENTITY_SCHEMA
	"CREATE TABLE uicc_shadow (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" state TEXT NOT NULL CHECK (state IN ('loaded', 'switched')),"
	" change_id BLOB NOT NULL CHECK (length(change_id) = 16), ef_imsi BLOB NOT NULL CHECK (length(ef_imsi) = 9),"
	" sqn BLOB NOT NULL, sealed BLOB NOT NULL);"
	"CREATE TABLE uicc_challenge (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" nonce BLOB NOT NULL CHECK (length(nonce) = 16));"
	"CREATE TABLE uicc_store_data (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" next_block INTEGER NOT NULL CHECK (next_block BETWEEN 1 AND 255), data BLOB NOT NULL);",
};
const m2m_schema uicc_schema = {migrations, sizeof migrations / sizeof migrations[0]};

/* ---- statements ------------------------------------------------------------------------- */

int uicc_store_savepoint(sqlite3 *db)
{
	return m2m_store_exec(db, "SAVEPOINT uicc");
}

int uicc_store_release(sqlite3 *db, int failed)
{
	if (failed)
		sqlite3_exec(db, "ROLLBACK TO uicc", NULL, NULL, NULL);
	if (m2m_store_exec(db, "RELEASE uicc"))
		return -1;
	return failed ? -1 : 0;
}

/* ---- writing ---------------------------------------------------------------------------- */

static int save_file(sqlite3 *db, int index, const uint8_t *content)
{
	const uicc_file *f = uicc_file_at(index);
	return m2m_store_put_blob(db, "INSERT OR REPLACE INTO uicc_file (name, content) VALUES (?1, ?2)", f->name,
				  content, (size_t)f->size);
}

static int save_state(sqlite3 *db, const uicc_state *s)
{
	uint8_t blob[M2M_SQN_USIM_BLOB_LEN];
	m2m_sqn_usim_serialise(&s->sqn, blob);
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT OR REPLACE INTO uicc_state (id, sqn, adm_tries, current_df,"
				   " current_ef, app_active, adm_verified, profile, proactive, proactive_number,"
				   " proactive_fetched) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
	if (st) {
		sqlite3_bind_blob(st, 1, blob, sizeof blob, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, s->adm_tries);
		sqlite3_bind_text(st, 3, uicc_file_at(s->s.df)->name, -1, SQLITE_STATIC);
		if (s->s.ef >= 0)
			sqlite3_bind_text(st, 4, uicc_file_at(s->s.ef)->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 5, s->s.app_active);
		sqlite3_bind_int(st, 6, s->s.adm_verified);
		sqlite3_bind_blob(st, 7, s->cat.profile, (int)s->cat.profile_len, SQLITE_STATIC);
		if (s->cat.command_len)
			sqlite3_bind_blob(st, 8, s->cat.command, (int)s->cat.command_len, SQLITE_STATIC);
		sqlite3_bind_int(st, 9, s->cat.number);
		sqlite3_bind_int(st, 10, s->cat.fetched);
	}
	return m2m_store_run(db, st);
}

static int save_key(sqlite3 *db, const uint8_t storage_key[32], const char *name, const uint8_t *value,
		    size_t len)
{
	uint8_t sealed[64 + M2M_SEAL_OVERHEAD];
	if (len > 64)
		return -1;
	if (m2m_seal(storage_key, name, strlen(name), value, len, sealed))
		return -1;
	return m2m_store_put_blob(db, "INSERT OR REPLACE INTO uicc_key (name, sealed) VALUES (?1, ?2)", name, sealed,
				  len + M2M_SEAL_OVERHEAD);
}

/* The active K and OPc, when SWITCH or ROLLBACK exchanged them. */
static int save_aka_keys(sqlite3 *db, const uint8_t storage_key[32], const uicc_state *before, const uicc_state *after)
{
	int failed = 0;
	if (memcmp(before->k, after->k, sizeof after->k))
		failed = save_key(db, storage_key, "K", after->k, sizeof after->k);
	if (!failed && memcmp(before->opc, after->opc, sizeof after->opc))
		failed = save_key(db, storage_key, "OPc", after->opc, sizeof after->opc);
	return failed;
}

static int toolkit_differs(const uicc_toolkit *a, const uicc_toolkit *b)
{
	return a->profile_len != b->profile_len || memcmp(a->profile, b->profile, a->profile_len) ||
	       a->command_len != b->command_len || memcmp(a->command, b->command, a->command_len) ||
	       a->number != b->number || a->fetched != b->fetched;
}

static int state_row_differs(const uicc_state *a, const uicc_state *b)
{
	uint8_t sa[M2M_SQN_USIM_BLOB_LEN], sb[M2M_SQN_USIM_BLOB_LEN];
	m2m_sqn_usim_serialise(&a->sqn, sa);
	m2m_sqn_usim_serialise(&b->sqn, sb);
	return memcmp(sa, sb, sizeof sa) || a->adm_tries != b->adm_tries || a->s.df != b->s.df ||
	       a->s.ef != b->s.ef || a->s.app_active != b->s.app_active ||
	       a->s.adm_verified != b->s.adm_verified || toolkit_differs(&a->cat, &b->cat);
}

int uicc_store_save(sqlite3 *db, const uint8_t storage_key[32], const uicc_state *before,
		    const uicc_state *after)
{
	if (uicc_store_savepoint(db))
		return -1;
	int failed = 0;
	for (int i = 0; i < UICC_FILE_COUNT && !failed; i++)
		if (uicc_fs_is_ef(i) && memcmp(before->ef[i], after->ef[i], uicc_file_at(i)->size))
			failed = save_file(db, i, after->ef[i]);
	if (!failed && state_row_differs(before, after))
		failed = save_state(db, after);
	failed = failed || uicc_ota_save(db, storage_key, &before->ota, &after->ota) ||
		 save_aka_keys(db, storage_key, before, after) || uicc_shadow_save(db, storage_key, before, after);
	return uicc_store_release(db, failed);
}

int uicc_store_create(sqlite3 *db, const uint8_t storage_key[32], const uicc_image *img)
{
	static const uicc_ota none;
	uicc_state st;
	uicc_image_state(img, &st);
	if (uicc_store_savepoint(db))
		return -1;
	int failed = save_state(db, &st);
	for (int i = 0; i < UICC_FILE_COUNT && !failed; i++)
		if (uicc_fs_is_ef(i))
			failed = save_file(db, i, st.ef[i]);
	failed = failed || save_key(db, storage_key, "K", st.k, sizeof st.k) ||
		 save_key(db, storage_key, "OPc", st.opc, sizeof st.opc) ||
		 save_key(db, storage_key, "ADM", img->adm, sizeof img->adm) ||
		 uicc_ota_save(db, storage_key, &none, &st.ota);
	m2m_wipe(&st, sizeof st);
	return uicc_store_release(db, failed);
}

/* ---- reading ---------------------------------------------------------------------------- */

static int load_session(sqlite3_stmt *st, uicc_session *s)
{
	const char *ef = (const char *)sqlite3_column_text(st, 3);
	s->df = uicc_fs_by_name((const char *)sqlite3_column_text(st, 2));
	s->ef = ef ? uicc_fs_by_name(ef) : -1;
	s->app_active = sqlite3_column_int(st, 4);
	s->adm_verified = sqlite3_column_int(st, 5);
	if (s->df < 0 || uicc_fs_is_ef(s->df))
		return -1;
	/* the current EF is always a child of the current DF */
	return !ef || (uicc_fs_is_ef(s->ef) && uicc_file_at(s->ef)->parent == s->df) ? 0 : -1;
}

/* Columns 6..9: the terminal profile and the pending proactive command. */
static int load_toolkit(sqlite3_stmt *st, uicc_toolkit *t)
{
	size_t profile = (size_t)sqlite3_column_bytes(st, 6), command = (size_t)sqlite3_column_bytes(st, 7);
	int number = sqlite3_column_int(st, 8);
	if (profile > sizeof t->profile || command > sizeof t->command || number < 0 || number > 0xFE)
		return -1;
	t->profile_len = profile;
	t->command_len = command;
	if (profile)
		memcpy(t->profile, sqlite3_column_blob(st, 6), profile);
	if (command)
		memcpy(t->command, sqlite3_column_blob(st, 7), command);
	t->number = (uint8_t)number;
	t->fetched = sqlite3_column_int(st, 9);
	return 0;
}

/* 1 when there is no card yet. */
static int load_state(sqlite3 *db, uicc_state *s)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT sqn, adm_tries, current_df, current_ef, app_active, adm_verified,"
				   " profile, proactive, proactive_number, proactive_fetched FROM uicc_state WHERE id = 1");
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	int result = rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW) {
		s->adm_tries = sqlite3_column_int(st, 1);
		int bad = sqlite3_column_bytes(st, 0) != M2M_SQN_USIM_BLOB_LEN ||
			  m2m_sqn_usim_deserialise(&s->sqn, sqlite3_column_blob(st, 0)) ||
			  s->adm_tries < 0 || s->adm_tries > UICC_ADM_TRIES || load_session(st, &s->s) ||
			  load_toolkit(st, &s->cat);
		result = bad ? -1 : 0;
		if (bad)
			m2m_error("the card's state in the database is not valid");
	}
	sqlite3_finalize(st);
	return result;
}

/* Every EF of the tree, each of its own size. */
static int load_files(sqlite3 *db, uicc_state *s)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT name, content FROM uicc_file");
	int found = 0, bad = !st;
	while (!bad && sqlite3_step(st) == SQLITE_ROW) {
		int i = uicc_fs_by_name((const char *)sqlite3_column_text(st, 0));
		bad = !uicc_fs_is_ef(i) || sqlite3_column_bytes(st, 1) != uicc_file_at(i)->size;
		if (!bad)
			memcpy(s->ef[i], sqlite3_column_blob(st, 1), uicc_file_at(i)->size);
		found++;
	}
	sqlite3_finalize(st);
	for (int i = 0; i < UICC_FILE_COUNT; i++)
		found -= uicc_fs_is_ef(i);
	if (bad || found)
		m2m_error("the card's files in the database do not match its file tree");
	return bad || found ? -1 : 0;
}

static int load_key(sqlite3 *db, const uint8_t storage_key[32], const char *name, uint8_t *out, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT sealed FROM uicc_key WHERE name = ?1");
	int rc = -1;
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)(len + M2M_SEAL_OVERHEAD))
			rc = m2m_unseal(storage_key, name, strlen(name), sqlite3_column_blob(st, 0),
					len + M2M_SEAL_OVERHEAD, out);
	}
	sqlite3_finalize(st);
	if (rc)
		m2m_error("the card's %s does not open with this storage key", name);
	return rc;
}

static int load_keys(uicc_card *c, const uint8_t storage_key[32])
{
	uicc_state *s = &c->st;
	int rc = load_key(c->db, storage_key, "K", s->k, sizeof s->k) ||
		 load_key(c->db, storage_key, "OPc", s->opc, sizeof s->opc) ||
		 load_key(c->db, storage_key, "ADM", c->adm, sizeof c->adm) ||
		 m2m_milenage_init(&c->milenage, s->k, s->opc);
	c->keyed = !rc;
	return rc ? -1 : 0;
}

int uicc_store_load(uicc_card *c)
{
	int rc = load_state(c->db, &c->st);
	if (rc)
		return rc;
	return load_files(c->db, &c->st) || load_keys(c, c->storage_key) ||
			       uicc_ota_load(c->db, c->storage_key, &c->st.ota) ||
			       uicc_shadow_load(c->db, c->storage_key, &c->st)
		       ? -1
		       : 0;
}
