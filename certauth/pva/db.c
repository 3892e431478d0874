/* The few SQLite helpers the PVA's stores share (challenge_store.c, record.c, tamper_store.c). */
#include "pva_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

sqlite3_stmt *pva_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		m2m_error("database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int pva_run(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	if (st && rc != SQLITE_DONE)
		m2m_error("database: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void pva_column_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, len, "%s", t ? (const char *)t : "");
}

int pva_column_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t len)
{
	const void *b = sqlite3_column_blob(st, i);
	if (!b || sqlite3_column_bytes(st, i) != (int)len)
		return -1;
	memcpy(out, b, len);
	return 0;
}

/* "ok" ... "fail" back to the result; -1 for anything else (a database edited by hand). */
int pva_result_parse(const char *name)
{
	for (int r = M2M_VERDICT_OK; r <= M2M_VERDICT_FAIL; r++)
		if (!strcmp(name, pva_result_name((m2m_verdict_result)r)))
			return r;
	return -1;
}

/* Reasons as "64,65": readable in sqlite3, and stable because the values are wire values. */
void pva_reasons_text(const pva_outcome *o, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (int i = 0; i < o->nreasons && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%d", i ? "," : "", (int)o->reasons[i]);
}
