/*
 * Tamper reports received (table pva_tamper). The TRE keeps a report until it is acknowledged
 * and resends it at every connectivity opportunity (brief §3), so the same report arriving again
 * is normal: it is acknowledged again and not recorded twice.
 */
#include "pva_impl.h"

static const char *const event_names[] = {"caseOpened", "componentModified"};
static const char *const reaction_names[] = {"refused", "zeroised"};

int pva_tamper_save(sqlite3 *db, const pva_tamper *t, const uint8_t *report, size_t report_len, int64_t now)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT OR IGNORE INTO pva_tamper (tre, report_id, event, component, at,"
					   " reaction, received, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, t->tre, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, t->report_id, PVA_REPORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, event_names[t->event], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->component, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, t->at);
	sqlite3_bind_text(st, 6, reaction_names[t->reaction], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_blob(st, 8, report, (int)report_len, SQLITE_STATIC);
	if (m2m_store_run(db, st))
		return -1;
	return sqlite3_changes(db) == 1;
}

const char *pva_tamper_event_name(m2m_tamper_event e)
{
	return event_names[e];
}
