/* The few SQLite helpers the VNO's stores share (attach_store.c, session.c, rogue.c). */
#include "vno/vno_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

sqlite3_stmt *vno_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		m2m_error("database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int vno_run(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	if (st && rc != SQLITE_DONE)
		m2m_error("database: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void vno_column_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, len, "%s", t ? (const char *)t : "");
}

int vno_column_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t len)
{
	const void *b = sqlite3_column_blob(st, i);
	if (!b || sqlite3_column_bytes(st, i) != (int)len)
		return -1;
	memcpy(out, b, len);
	return 0;
}
