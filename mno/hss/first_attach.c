/* Records awaiting their first attach: see first_attach.h. */
#include "hss/first_attach.h"

#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static hss_outcome take_keys(hss_subscriber *s, const uint8_t k[16], const uint8_t opc[16], uint64_t sqn,
			     char *err, size_t len)
{
	if (s->state != HSS_PENDING || s->has_keys) {
		snprintf(err, len, "IMSI %s is %s%s: not a record allocated for a card to come", s->imsi,
			 hss_state_name(s->state), s->has_keys ? " with keys" : "");
		return HSS_FAILED;
	}
	if (m2m_sqn_he_init(&s->sqn, NULL, sqn)) {
		snprintf(err, len, "IMSI %s: SQN %llu is not a 48-bit counter", s->imsi, (unsigned long long)sqn);
		return HSS_FAILED;
	}
	memcpy(s->k, k, sizeof s->k);
	memcpy(s->opc, opc, sizeof s->opc);
	s->has_keys = 1;
	return HSS_DONE;
}

hss_outcome hss_first_attach_await(sqlite3 *db, const uint8_t key[32], const char *imsi, const uint8_t k[16],
				   const uint8_t opc[16], uint64_t sqn, const char *origin, const char *actor, char *err,
				   size_t len)
{
	hss_subscriber s;
	int rc = hss_subscriber_load(db, key, imsi, &s);
	if (rc) {
		if (rc > 0)
			snprintf(err, len, "IMSI %s: no such subscriber", imsi);
		return rc < 0 ? hss_db_failed(db, err, len) : HSS_FAILED;
	}
	hss_outcome r = take_keys(&s, k, opc, sqn, err, len);
	sqlite3_stmt *st = r == HSS_DONE ? m2m_store_prepare(db, "INSERT INTO hss_first_attach (imsi, origin, since)"
								 " VALUES (?, ?, ?)")
					 : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	}
	if (r == HSS_DONE &&
	    (hss_subscriber_store(db, key, &s) || m2m_store_run(db, st) ||
	     hss_audit(db, actor, imsi, "portIn", "K and OPc of card ICCID %s from %s; SQN_HE SEQ %llu; served,"
			" pending until its first attach", s.iccid, origin, (unsigned long long)s.sqn.seq_he)))
		r = hss_db_failed(db, err, len);
	else if (r != HSS_DONE)
		sqlite3_finalize(st);
	hss_subscriber_wipe(&s);
	return r;
}

int hss_first_attach_awaited(sqlite3 *db, const char *imsi)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT 1 FROM hss_first_attach WHERE imsi = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

hss_outcome hss_first_attach_done(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len)
{
	hss_outcome r = hss_change_in(db, imsi, HSS_CHANGE_ACTIVATE, actor, err, len);
	sqlite3_stmt *st = r == HSS_DONE ? m2m_store_prepare(db, "DELETE FROM hss_first_attach WHERE imsi = ?") : NULL;
	if (st)
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	if (r == HSS_DONE && m2m_store_run(db, st))
		r = hss_db_failed(db, err, len);
	return r;
}
