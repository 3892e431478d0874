#include "net/window.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static void bind_key(sqlite3_stmt *st, const m2m_envelope *env)
{
	sqlite3_bind_text(st, 1, env->sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)env->seq);
}

static int oldest_when_full(sqlite3 *db, const char *sender, sqlite3_int64 *oldest)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT count(*), min(seq) FROM peer_window WHERE sender = ?");
	int full = 0;
	sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
	if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) >= M2M_WINDOW) {
		*oldest = sqlite3_column_int64(st, 1);
		full = 1;
	}
	sqlite3_finalize(st);
	return full;
}

/* The stored reply as it was sent, or -1 when it was sealed by an earlier run of the node. */
static int stored_reply(sqlite3_stmt *st, const m2m_window_key *k, const m2m_envelope *env,
			unsigned char **reply, size_t *reply_len)
{
	const unsigned char *blob = sqlite3_column_blob(st, 1);
	size_t len = (size_t)sqlite3_column_bytes(st, 1);
	*reply = malloc(len ? len : 1);
	*reply_len = len;
	if (!sqlite3_column_int(st, 2)) {
		memcpy(*reply, blob, len);
		return 0;
	}
	if (len >= M2M_SEAL_OVERHEAD && m2m_unseal(k->key, env->txid, M2M_TXID_LEN, blob, len, *reply) == 0) {
		*reply_len = len - M2M_SEAL_OVERHEAD;
		return 0;
	}
	free(*reply);
	*reply = NULL;
	return -1;
}

m2m_window_verdict m2m_window_check(sqlite3 *db, const m2m_window_key *k, const m2m_envelope *env,
				    unsigned char **reply, size_t *reply_len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT txid, reply, sealed FROM peer_window WHERE sender = ? AND seq = ?");
	bind_key(st, env);
	m2m_window_verdict v = M2M_WIN_NEW;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		const void *txid = sqlite3_column_blob(st, 0);
		if (sqlite3_column_bytes(st, 0) != M2M_TXID_LEN || memcmp(txid, env->txid, M2M_TXID_LEN))
			v = M2M_WIN_REPLAYED;
		else if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			v = M2M_WIN_PENDING;
		else
			v = stored_reply(st, k, env, reply, reply_len) ? M2M_WIN_PENDING : M2M_WIN_DUPLICATE;
	}
	sqlite3_finalize(st);
	sqlite3_int64 oldest;
	if (v == M2M_WIN_NEW && oldest_when_full(db, env->sender, &oldest) &&
	    (sqlite3_int64)env->seq < oldest)
		v = M2M_WIN_OLD;
	return v;
}

int m2m_window_admit(sqlite3 *db, const m2m_envelope *env)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT OR IGNORE INTO peer_window (sender, seq, txid) VALUES (?, ?, ?)");
	bind_key(st, env);
	sqlite3_bind_blob(st, 3, env->txid, M2M_TXID_LEN, SQLITE_STATIC);
	if (m2m_store_run(db, st))
		return -1;
	st = m2m_store_prepare(db, "DELETE FROM peer_window WHERE sender = ?1 AND seq NOT IN"
			 " (SELECT seq FROM peer_window WHERE sender = ?1 ORDER BY seq DESC LIMIT ?2)");
	sqlite3_bind_text(st, 1, env->sender, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, M2M_WINDOW);
	return m2m_store_run(db, st);
}

int m2m_window_store_reply(sqlite3 *db, const m2m_window_key *k, const m2m_envelope *req, int type,
			   const unsigned char *der, size_t len)
{
	int sealed = m2m_has_secrets(type);
	unsigned char *blob = sealed ? malloc(len + M2M_SEAL_OVERHEAD) : NULL;
	if (sealed && m2m_seal(k->key, req->txid, M2M_TXID_LEN, der, len, blob)) {
		free(blob);
		return -1;
	}
	sqlite3_stmt *st = m2m_store_prepare(db, "UPDATE peer_window SET reply = ?3, sealed = ?4 WHERE sender = ?1 AND seq = ?2");
	bind_key(st, req);
	sqlite3_bind_blob(st, 3, sealed ? blob : der, (int)(sealed ? len + M2M_SEAL_OVERHEAD : len), SQLITE_STATIC);
	sqlite3_bind_int(st, 4, sealed);
	int rc = m2m_store_run(db, st);
	free(blob);
	return rc;
}

int m2m_window_forget(sqlite3 *db, const m2m_envelope *req)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM peer_window WHERE sender = ? AND seq = ?");
	bind_key(st, req);
	return m2m_store_run(db, st);
}
