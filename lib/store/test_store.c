/* Storage: migrations, refusal of a newer schema, WAL, and that an interrupted step leaves no trace. */
#include "store/store.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], path[96];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/m2mstoreXXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state.db", dir);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static const char *const v1[] = {"CREATE TABLE subscriber (imsi TEXT PRIMARY KEY);"};
static const char *const v2[] = {
	"CREATE TABLE subscriber (imsi TEXT PRIMARY KEY);",
	"ALTER TABLE subscriber ADD COLUMN state TEXT NOT NULL DEFAULT 'active';"
	"CREATE TABLE audit (imsi TEXT REFERENCES subscriber(imsi));",
};
static const char *const v2_broken[] = {
	"CREATE TABLE subscriber (imsi TEXT PRIMARY KEY);",
	"CREATE TABLE audit (x); CREATE TABLE this is not sql;",
};

static long long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	long long n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static sqlite3 *open_ok(const char *const *migrations, int n)
{
	m2m_schema s = {migrations, n};
	char err[256] = "";
	sqlite3 *db = m2m_store_open(path, &s, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	return db;
}

Test(store, fresh_database_is_wal_with_busy_timeout_and_foreign_keys)
{
	sqlite3 *db = open_ok(v2, 2);
	cr_assert_eq(m2m_store_version(db), 2);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	cr_assert_eq(count(db, "PRAGMA foreign_keys"), 1);
	cr_assert_eq(count(db, "PRAGMA busy_timeout"), 5000);
	cr_assert_neq(m2m_store_exec(db, "INSERT INTO audit VALUES ('nobody')"), 0, "foreign keys are enforced");
	m2m_store_close(db);
}

Test(store, migrates_an_older_database_keeping_its_rows)
{
	sqlite3 *db = open_ok(v1, 1);
	cr_assert_eq(m2m_store_exec(db, "INSERT INTO subscriber VALUES ('001010000000001')"), 0);
	m2m_store_close(db);
	db = open_ok(v2, 2);
	cr_assert_eq(m2m_store_version(db), 2);
	cr_assert_eq(count(db, "SELECT count(*) FROM subscriber WHERE state = 'active'"), 1);
	m2m_store_close(db);
}

Test(store, failed_migration_leaves_the_previous_version)
{
	sqlite3 *db = open_ok(v1, 1);
	m2m_store_close(db);
	m2m_schema s = {v2_broken, 2};
	char err[256] = "";
	cr_assert_null(m2m_store_open(path, &s, err, sizeof err));
	cr_assert(strstr(err, "migration to schema version 2"), "%s", err);
	db = open_ok(v1, 1);
	cr_assert_eq(m2m_store_version(db), 1);
	cr_assert_eq(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'audit'"), 0,
		     "half a migration stayed");
	m2m_store_close(db);
}

Test(store, newer_schema_is_refused)
{
	sqlite3 *db = open_ok(v2, 2);
	m2m_store_close(db);
	m2m_schema s = {v1, 1};
	char err[256] = "";
	cr_assert_null(m2m_store_open(path, &s, err, sizeof err));
	cr_assert(strstr(err, "newer"), "%s", err);
}

Test(store, unopenable_path_is_reported)
{
	m2m_schema s = {v1, 1};
	char err[256] = "";
	cr_assert_null(m2m_store_open("/nonexistent-dir/x.db", &s, err, sizeof err));
	cr_assert(strstr(err, "/nonexistent-dir/x.db"), "%s", err);
}

/* A child process opens a step, writes, and is killed before committing. */
Test(store, step_killed_before_commit_leaves_no_trace)
{
	sqlite3 *db = open_ok(v1, 1);
	cr_assert_eq(m2m_store_exec(db, "INSERT INTO subscriber VALUES ('committed')"), 0);
	m2m_store_close(db);
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	if (pid == 0) {
		sqlite3 *c = open_ok(v1, 1);
		m2m_store_begin(c);
		m2m_store_exec(c, "INSERT INTO subscriber VALUES ('uncommitted')");
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	char x;
	cr_assert_eq(read(ready[0], &x, 1), 1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	db = open_ok(v1, 1);
	cr_assert_eq(count(db, "SELECT count(*) FROM subscriber"), 1);
	cr_assert_eq(count(db, "SELECT count(*) FROM subscriber WHERE imsi = 'uncommitted'"), 0);
	m2m_store_close(db);
}

Test(store, rollback_undoes_the_step)
{
	sqlite3 *db = open_ok(v1, 1);
	cr_assert_eq(m2m_store_begin(db), 0);
	cr_assert_eq(m2m_store_exec(db, "INSERT INTO subscriber VALUES ('x')"), 0);
	m2m_store_rollback(db);
	m2m_store_rollback(db);  /* harmless outside a transaction */
	cr_assert_eq(count(db, "SELECT count(*) FROM subscriber"), 0);
	m2m_store_close(db);
}

/* Two processes (a daemon and its admin tool): the busy timeout makes the second writer wait
 * for the first one's commit instead of failing with SQLITE_BUSY. */
Test(store, second_writer_waits_for_the_first)
{
	sqlite3 *db = open_ok(v1, 1);
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	if (pid == 0) {
		sqlite3 *c = open_ok(v1, 1);
		m2m_store_begin(c);
		m2m_store_exec(c, "INSERT INTO subscriber VALUES ('first')");
		if (write(ready[1], "x", 1) != 1)
			_exit(3);
		usleep(300000);
		_exit(m2m_store_commit(c) == 0 ? 0 : 4);
	}
	char x;
	cr_assert_eq(read(ready[0], &x, 1), 1);
	cr_assert_eq(m2m_store_begin(db), 0, "the second writer waited for the lock");
	cr_assert_eq(m2m_store_exec(db, "INSERT INTO subscriber VALUES ('second')"), 0);
	cr_assert_eq(m2m_store_commit(db), 0);
	int status;
	waitpid(pid, &status, 0);
	cr_assert_eq(WEXITSTATUS(status), 0);
	cr_assert_eq(count(db, "SELECT count(*) FROM subscriber"), 2);
	m2m_store_close(db);
}

/* A daemon and its admin tool may open a fresh database at the same moment: both must find it
 * migrated once, neither may fail on the other's tables (the version is read under the lock). */
Test(store, two_processes_migrating_a_fresh_database_at_once)
{
	for (int round = 0; round < 20; round++) {
		static const char *const suffixes[] = {"", "-wal", "-shm"};
		for (size_t k = 0; k < 3; k++) {
			char p[128];
			snprintf(p, sizeof p, "%s%s", path, suffixes[k]);
			unlink(p);
		}
		int go[2];
		cr_assert_eq(pipe(go), 0);
		pid_t pids[4];
		for (int i = 0; i < 4; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				char x;
				close(go[1]);
				if (read(go[0], &x, 1) != 0)
					_exit(3);
				m2m_schema s = {v2, 2};
				char err[256];
				sqlite3 *db = m2m_store_open(path, &s, err, sizeof err);
				if (!db)
					fprintf(stderr, "%s\n", err);
				_exit(db ? 0 : 4);
			}
		}
		close(go[0]);
		close(go[1]);  /* every child starts now */
		for (int i = 0; i < 4; i++) {
			int status;
			waitpid(pids[i], &status, 0);
			cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d: an opener failed", round);
		}
	}
	sqlite3 *db = open_ok(v2, 2);
	cr_assert_eq(m2m_store_version(db), 2);
	m2m_store_close(db);
}

Test(store, a_blob_put_under_its_key)
{
	static const char *const kv[] = {"CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB NOT NULL);"};
	sqlite3 *db = open_ok(kv, 1);
	const uint8_t blob[] = {0, 1, 2, 0xff};
	cr_assert_eq(m2m_store_put_blob(db, "INSERT INTO kv (k, v) VALUES (?1, ?2)", "a", blob, sizeof blob), 0);
	cr_assert_eq(m2m_store_put_blob(db, "UPDATE kv SET v = ?2 WHERE k = ?1", "a", blob + 1, 2), 0);
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT v FROM kv WHERE k = 'a'");
	uint8_t got[2];
	cr_assert(st && sqlite3_step(st) == SQLITE_ROW && !m2m_store_column_blob(st, 0, got, sizeof got));
	cr_assert(!memcmp(got, blob + 1, 2), "the row holds what was put last");
	sqlite3_finalize(st);
	cr_assert_eq(m2m_store_put_blob(db, "INSERT INTO kv (k, v) VALUES (?1, ?2)", "a", blob, 1), -1, "a second row a");
	cr_assert_eq(m2m_store_put_blob(db, "INSERT INTO nowhere VALUES (?1, ?2)", "a", blob, 1), -1, "bad SQL");
	m2m_store_close(db);
}

Test(store, a_text_got_by_its_key)
{
	static const char *const kv[] = {"CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT);"};
	sqlite3 *db = open_ok(kv, 1);
	cr_assert_eq(m2m_store_exec(db, "INSERT INTO kv VALUES ('a', '001010123456789'), ('n', NULL)"), 0);
	char out[8] = "x";
	cr_assert_eq(m2m_store_get_text(db, "SELECT v FROM kv WHERE k = ?", "a", out, sizeof out), 0);
	cr_assert_str_eq(out, "0010101", "cut to the buffer");
	cr_assert_eq(m2m_store_get_text(db, "SELECT v FROM kv WHERE k = ?1", "n", out, sizeof out), 0);
	cr_assert_str_eq(out, "", "NULL is empty");
	snprintf(out, sizeof out, "kept");
	cr_assert_eq(m2m_store_get_text(db, "SELECT v FROM kv WHERE k = ?", "b", out, sizeof out), 1, "no row");
	cr_assert_str_eq(out, "kept", "no row writes nothing");
	cr_assert_eq(m2m_store_get_text(db, "SELECT v FROM nowhere WHERE k = ?", "a", out, sizeof out), -1, "bad SQL");
	m2m_store_close(db);
}
