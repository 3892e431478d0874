/* SQLite state for one daemon: open, configure, migrate, and the transaction bracket every
 * protocol step runs in. See store.h for the contract. */
#include "store/store.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "log/log.h"

/* NORMAL is durable enough under WAL: a committed step survives a process crash (the case the
 * state machines care about); only an OS crash can lose the last commits. */
static const char *const pragmas =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"PRAGMA foreign_keys=ON;";

int m2m_store_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	m2m_error("database: %s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

int m2m_store_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int m2m_store_begin(sqlite3 *db)
{
	/* IMMEDIATE takes the write lock now, so a step never fails half-way on a lock upgrade. */
	return m2m_store_exec(db, "BEGIN IMMEDIATE");
}

int m2m_store_commit(sqlite3 *db)
{
	return m2m_store_exec(db, "COMMIT");
}

void m2m_store_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* One migration and its version bump commit together, so a crash mid-migration leaves the
 * database at the previous version, never between two. The version is read again under the
 * write lock: another process (a daemon and its admin tool starting at once) may have applied
 * the migration since, and then there is nothing to do. 1 applied, 0 already there, -1 failed. */
static int migrate_one(sqlite3 *db, const char *sql, int to, char *err, size_t errlen)
{
	char bump[64];
	char *msg = NULL;
	snprintf(bump, sizeof bump, "PRAGMA user_version=%d", to);
	if (m2m_store_begin(db) == 0 && m2m_store_version(db) >= to)
		return m2m_store_commit(db) == 0 ? 0 : -1;
	if (sqlite3_get_autocommit(db) || sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK ||
	    m2m_store_exec(db, bump) != 0 || m2m_store_commit(db) != 0) {
		snprintf(err, errlen, "migration to schema version %d failed: %s", to,
			 msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		m2m_store_rollback(db);
		return -1;
	}
	return 1;
}

static int migrate(sqlite3 *db, const m2m_schema *schema, char *err, size_t errlen)
{
	int v = m2m_store_version(db);
	if (v < 0) {
		snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (v > schema->count) {
		snprintf(err, errlen, "schema version %d is newer than this program's %d", v, schema->count);
		return -1;
	}
	for (; v < schema->count; v++)
		if (migrate_one(db, schema->migrations[v], v + 1, err, errlen) < 0)
			return -1;
	return 0;
}

/* Two processes creating one database at once race to switch it to WAL, and SQLite answers the
 * loser SQLITE_BUSY at once, without calling the busy handler: it tries again a little later. */
static int set_pragmas(sqlite3 *db, char **msg)
{
	int rc = SQLITE_BUSY;
	for (int tries = 0; tries < 100 && rc == SQLITE_BUSY; tries++) {
		if (tries) {
			sqlite3_free(*msg);
			*msg = NULL;
			sqlite3_sleep(20);
		}
		rc = sqlite3_exec(db, pragmas, NULL, NULL, msg);
	}
	return rc;
}

sqlite3 *m2m_store_open(const char *path, const m2m_schema *schema, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (set_pragmas(db, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	if (schema && migrate(db, schema, err, errlen) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

void m2m_store_close(sqlite3 *db)
{
	if (db)
		sqlite3_close(db);
}

sqlite3_stmt *m2m_store_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		m2m_error("database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int m2m_store_run(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	if (st && rc != SQLITE_DONE)
		m2m_error("database: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int m2m_store_put_blob(sqlite3 *db, const char *sql, const char *key, const void *blob, size_t len)
{
	sqlite3_stmt *st = len <= INT_MAX ? m2m_store_prepare(db, sql) : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, blob, (int)len, SQLITE_TRANSIENT);
	}
	return m2m_store_run(db, st);
}

int m2m_store_get_text(sqlite3 *db, const char *sql, const char *key, char *out, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, sql);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		m2m_store_column_text(st, 0, out, len);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

void m2m_store_column_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, len, "%s", t ? (const char *)t : "");
}

int m2m_store_column_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t len)
{
	const void *b = sqlite3_column_blob(st, i);
	if (!b || sqlite3_column_bytes(st, i) != (int)len)
		return -1;
	memcpy(out, b, len);
	return 0;
}
