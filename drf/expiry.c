/*
 * What lasts only so long: a PCID past its validity goes back to the pool (its keys deleted), a
 * cached verdict past its validUntil no longer opens the gate, a ticket past its expiry is
 * forgotten. Checked on use by each procedure, and swept here from the tick.
 */
#include "drf.h"

#include "log/log.h"

static int delete_due(drf *d, const char *sql, int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, sql);
	if (st)
		sqlite3_bind_int64(st, 1, now);
	return m2m_store_run(d->db, st) ? -1 : sqlite3_changes(d->db);
}

int drf_pool_expire(drf *d, int64_t now)
{
	return delete_due(d, "DELETE FROM drf_pcid WHERE valid_until <= ?1", now);
}

int drf_expire(drf *d, int64_t now)
{
	if (m2m_store_begin(d->db))
		return -1;
	int pcids = drf_pool_expire(d, now);
	int verdicts = delete_due(d, "DELETE FROM drf_verdict WHERE valid_until <= ?1", now);
	int tickets = delete_due(d, "DELETE FROM drf_ticket WHERE expires <= ?1", now);
	if (pcids < 0 || verdicts < 0 || tickets < 0 || m2m_store_commit(d->db)) {
		m2m_store_rollback(d->db);
		return -1;
	}
	if (pcids > 0)
		m2m_info("%d expired PCID(s) back in the pool", pcids);
	return 0;
}
