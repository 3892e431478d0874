/*
 * The receive window: for each sender, the last M2M_WINDOW requests (by sequence number, gaps
 * allowed) with the reply each one got. It is what makes a retry safe and a replay harmless.
 */
#ifndef M2M_NET_WINDOW_H
#define M2M_NET_WINDOW_H

#include "wire/wire.h"

#include <sqlite3.h>

#define M2M_WINDOW 64

typedef enum m2m_window_verdict {
	M2M_WIN_NEW,        /* never seen: process it */
	M2M_WIN_DUPLICATE,  /* same request again: resend the stored reply */
	M2M_WIN_PENDING,    /* same request, still without a reply: process it again (idempotent) */
	M2M_WIN_REPLAYED,   /* sequence reused by a different transaction */
	M2M_WIN_OLD,        /* older than every request in the window */
} m2m_window_verdict;

/*
 * A reply whose type carries SECRET fields is stored sealed under reply_key, a key the node
 * draws at start and never writes anywhere: the database never holds the secret, and after a
 * restart such a request is processed again (M2M_WIN_PENDING) instead of answered from storage.
 */
typedef struct m2m_window_key {
	uint8_t key[32];
} m2m_window_key;

/* On M2M_WIN_DUPLICATE, *reply is a malloc'd copy of the stored reply. */
m2m_window_verdict m2m_window_check(sqlite3 *db, const m2m_window_key *k, const m2m_envelope *env,
				    unsigned char **reply, size_t *reply_len);
/* Records a new request (inside the step's transaction) and forgets what fell out of the window. */
int m2m_window_admit(sqlite3 *db, const m2m_envelope *env);
int m2m_window_store_reply(sqlite3 *db, const m2m_window_key *k, const m2m_envelope *req, int type,
			   const unsigned char *der, size_t len);
/* Forgets a request that was refused after it had been admitted by an earlier step. */
int m2m_window_forget(sqlite3 *db, const m2m_envelope *req);

#endif
