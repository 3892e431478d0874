/*
 * Contract locks (docs/alt1a-change.md; TR O16: the current SHO may refuse a change of
 * subscription while the subscriber is bound by its contract). The staff lock a subscriber for a
 * number of days (`mno-admin lock IMSI --days N`) or lift the lock (`unlock IMSI`); the DPF asks
 * hss_locked_until when the DRF notifies a change and refuses it contractLocked meanwhile. The
 * lock is a row beside the subscriber record, and every lock and unlock is in its audit trail.
 */
#include "hss/provision.h"

#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_S 86400

int hss_locked_until(sqlite3 *db, const char *imsi, int64_t now, int64_t *until)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT until FROM hss_contract_lock WHERE imsi = ? AND until > ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*until = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int hss_lock_clear(sqlite3 *db, const char *imsi)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM hss_contract_lock WHERE imsi = ?");
	if (st)
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

/* 1..HSS_LOCK_DAYS_MAX in decimal digits: the count, or 0. */
static long parse_days(const char *days)
{
	char *end = NULL;
	if (!days || !*days || strspn(days, "0123456789") != strlen(days) || strlen(days) > 5)
		return 0;
	long n = strtol(days, &end, 10);
	return n >= 1 && n <= HSS_LOCK_DAYS_MAX ? n : 0;
}

/* The subscriber exists and is not deleted: HSS_DONE, or HSS_FAILED with err. */
static hss_outcome lockable(sqlite3 *db, const char *imsi, char *err, size_t len)
{
	hss_subscriber s;
	int rc = hss_subscriber_load(db, NULL, imsi, &s);
	if (rc < 0)
		return hss_db_failed(db, err, len);
	if (rc > 0 || s.state == HSS_DELETED) {
		snprintf(err, len, "IMSI %s: %s", imsi, rc > 0 ? "no such subscriber" : "deleted");
		return HSS_FAILED;
	}
	return HSS_DONE;
}

static hss_outcome lock_in(sqlite3 *db, const char *imsi, long days, const char *actor, char *err, size_t len)
{
	int64_t now = (int64_t)time(NULL), until = now + days * DAY_S;
	char when[32];
	hss_outcome r = lockable(db, imsi, err, len);
	if (r != HSS_DONE)
		return r;
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO hss_contract_lock (imsi, until, since) VALUES (?1, ?2, ?3)"
						 " ON CONFLICT (imsi) DO UPDATE SET until = ?2, since = ?3");
	if (st) {
		sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, until);
		sqlite3_bind_int64(st, 3, now);
	}
	if (m2m_store_run(db, st) ||
	    hss_audit(db, actor, imsi, "lock", "contract locked for %ld day(s), until %s", days, hss_utc(until, when, sizeof when)))
		return hss_db_failed(db, err, len);
	return HSS_DONE;
}

static hss_outcome unlock_in(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len)
{
	int64_t until = 0;
	char when[32];
	hss_outcome r = lockable(db, imsi, err, len);
	if (r != HSS_DONE)
		return r;
	int locked = hss_locked_until(db, imsi, (int64_t)time(NULL), &until);
	if (locked <= 0) {
		if (locked == 0)
			snprintf(err, len, "IMSI %s is not under a contract lock", imsi);
		return locked < 0 ? hss_db_failed(db, err, len) : HSS_FAILED;
	}
	if (hss_lock_clear(db, imsi) ||
	    hss_audit(db, actor, imsi, "unlock", "contract lock until %s lifted", hss_utc(until, when, sizeof when)))
		return hss_db_failed(db, err, len);
	return HSS_DONE;
}

static int bad_imsi(const char *imsi, char *err, size_t len)
{
	if (hss_imsi_valid(imsi))
		return 0;
	snprintf(err, len, "%s: an IMSI is 6 to 15 digits", imsi);
	return 1;
}

hss_outcome hss_lock(sqlite3 *db, const char *imsi, const char *days, const char *actor, char *err, size_t len)
{
	long n = parse_days(days);
	if (bad_imsi(imsi, err, len))
		return HSS_BAD_INPUT;
	if (!n) {
		snprintf(err, len, "%s: --days is a whole number of days from 1 to %d", days ? days : "(none)",
			 HSS_LOCK_DAYS_MAX);
		return HSS_BAD_INPUT;
	}
	hss_outcome r = hss_begin(db, err, len);
	return r == HSS_DONE ? hss_end(db, lock_in(db, imsi, n, actor, err, len), err, len) : r;
}

hss_outcome hss_unlock(sqlite3 *db, const char *imsi, const char *actor, char *err, size_t len)
{
	if (bad_imsi(imsi, err, len))
		return HSS_BAD_INPUT;
	hss_outcome r = hss_begin(db, err, len);
	return r == HSS_DONE ? hss_end(db, unlock_in(db, imsi, actor, err, len), err, len) : r;
}
