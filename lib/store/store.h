/*
 * Each daemon's state lives in its own SQLite database: WAL journal, a busy timeout, foreign
 * keys on, and the schema version in PRAGMA user_version, moved forward one migration at a
 * time (each in its own transaction). Every protocol step runs inside one IMMEDIATE
 * transaction that is committed before the step's reply is sent.
 */
#ifndef M2M_STORE_H
#define M2M_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* migrations[i] is the SQL that brings the schema from version i to version i + 1. */
typedef struct m2m_schema {
	const char *const *migrations;
	int count;
} m2m_schema;

/* Opens (creating if needed) and migrates. A database whose user_version is newer than
 * schema->count is refused. On failure returns NULL and writes a one-line reason to err. */
sqlite3 *m2m_store_open(const char *path, const m2m_schema *schema, char *err, size_t errlen);
void m2m_store_close(sqlite3 *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK; 0 on success, -1 with the failure logged. */
int m2m_store_begin(sqlite3 *db);
int m2m_store_commit(sqlite3 *db);
void m2m_store_rollback(sqlite3 *db);

/* Runs SQL that returns no rows; 0 on success, -1 with the failure logged. */
int m2m_store_exec(sqlite3 *db, const char *sql);

/* Statement helpers the roles' stores share: prepare (NULL with the failure logged); run a
 * statement that returns no rows and finalize it (0, or -1 logged; st may be NULL from a failed
 * prepare); copy a text column ("" for NULL); copy a blob column of exactly len bytes (0 or -1). */
sqlite3_stmt *m2m_store_prepare(sqlite3 *db, const char *sql);
int m2m_store_run(sqlite3 *db, sqlite3_stmt *st);
void m2m_store_column_text(sqlite3_stmt *st, int i, char *out, size_t len);
int m2m_store_column_blob(sqlite3_stmt *st, int i, uint8_t *out, size_t len);

/* Runs sql (no rows) with ?1 the text key and ?2 the blob of len bytes: a row's state (an SQN, a
 * sealed key, a file) written under its key. 0, or -1 logged. */
int m2m_store_put_blob(sqlite3 *db, const char *sql, const char *key, const void *blob, size_t len);

/* Runs sql (one row at most) with ?1 the text key and copies the text of its first column into
 * out ("" for NULL): a one-column lookup (the IMSI of an ICCID, a card's owner). 0, 1 when there
 * is no row, or -1 (a failed prepare logged). */
int m2m_store_get_text(sqlite3 *db, const char *sql, const char *key, char *out, size_t len);

/* The current PRAGMA user_version, or -1. */
int m2m_store_version(sqlite3 *db);

#endif
