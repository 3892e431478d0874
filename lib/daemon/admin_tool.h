/*
 * The frame every administration tool shares (mno-admin, certauth-admin): the operator's staff
 * work on a daemon's own database, named in the daemon's configuration file, while the daemon
 * runs or not (SQLite WAL). The frame reads `TOOL -c FILE COMMAND ARGS`, --help and --version,
 * opens the tool's state, runs one command, and prints its failure.
 * Exit status: 0 done, 1 failed (reason on stderr), 2 bad usage or configuration.
 */
#ifndef M2M_ADMIN_TOOL_H
#define M2M_ADMIN_TOOL_H

#include "conf/conf.h"
#include "store/store.h"

#include <stddef.h>

typedef struct m2m_admin_command {
	const char *name;
	/* 0, 1 with err set, or 2 after printing its own usage message */
	int (*run)(void *state, int argc, char **argv, char *err, size_t len);
} m2m_admin_command;

typedef struct m2m_admin_tool {
	const char *name;         /* "mno-admin" */
	const char *usage_text;   /* printed by --help, and after a usage error */
	const char *config_hint;  /* "MNO.conf", for the message when -c is missing */
	const m2m_admin_command *commands;
	size_t ncommands;
	void *state;
	/* Reads the daemon's configuration file and opens its database: 0, or the exit status
	 * after printing why. close is called in every case. */
	int (*open)(void *state, const char *config);
	void (*close)(void *state);
} m2m_admin_tool;

int m2m_admin_main(int argc, char **argv, const m2m_admin_tool *t);

/* "TOOL: message", then the usage text, on stderr; returns 2. */
int m2m_admin_usage(const m2m_admin_tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * What a tool's open hook opens: the daemon's configuration file into c, the role's settings read
 * from it by settings(t->state, c) (problems recorded in c), then the database its top-level
 * `database` names, migrated to schema (a tool may create it before the daemon's first start).
 * 0; 2 after printing a bad configuration; 1 after printing why the database cannot be opened.
 * The close hook calls m2m_admin_close_database in every case.
 */
int m2m_admin_open_database(const m2m_admin_tool *t, const char *config, m2m_conf *c,
			    void (*settings)(void *state, m2m_conf *c), const m2m_schema *schema, sqlite3 **db);
void m2m_admin_close_database(m2m_conf *c, sqlite3 *db);

#endif
