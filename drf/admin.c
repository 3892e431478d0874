/*
 * drf-admin: the registration operator's administration tool. It opens the database named in the
 * daemon's own configuration file, whether the daemon runs or not (SQLite WAL, one transaction
 * per command): registrations from a file (what the subscriber's portal hands over), the state of
 * the PCID pool, the registrations held and the changes of subscription.
 *
 * Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage or configuration.
 */
#include "drf.h"

#include "crypto/crypto.h"
#include "daemon/admin_tool.h"
#include "log/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR "admin"

static const char usage_text[] =
	"usage: drf-admin -c DRF.conf COMMAND ...\n"
	"  register --file F   register the devices of F, one per line: IMEI TRE SHO DPF [KEY]\n"
	"                      (KEY: the subscriber's P-256 public key, hex of its DER\n"
	"                      SubjectPublicKeyInfo; # starts a comment); all or none\n"
	"  pool list           the PCIDs assigned: PCID TRE valid-until, and where each is in use\n"
	"  registrations       every registration: TRE M2ME SHO DPF, whether it is provisioned, and\n"
	"                      whether a subscriber key is registered\n"
	"  changes             every change of subscription: CHANGE-ID TRE FROM TO STATE, and for a\n"
	"                      change of the UICC's credentials (3b): uicc IMSI-A [ICCID [IMSI-B]]\n"
	"Exit status: 0 done, 1 failed (reason on stderr), 2 bad usage or configuration.\n";

static const m2m_admin_tool tool;

typedef struct admin {
	m2m_conf conf;
	drf f;
} admin;

/* ---- configuration and database ----------------------------------------------------------------- */

static void read_settings(void *state, m2m_conf *c)
{
	admin *a = state;
	drf_settings_read(c, config_lookup(&c->cfg, "drf"), &a->f.s);
}

static int open_tool(void *state, const char *config)
{
	admin *a = state;
	return m2m_admin_open_database(&tool, config, &a->conf, read_settings, &drf_schema, &a->f.db);
}

static void close_tool(void *state)
{
	admin *a = state;
	drf_settings_clear(&a->f.s);
	m2m_admin_close_database(&a->conf, a->f.db);
}

/* ---- register --file F ---------------------------------------------------------------------------- */

/* The optional fifth field: the subscriber key in hex into r; 0, or -1 when it is not one. */
static int parse_key(const char *hex, drf_registration *r)
{
	long n = hex ? m2m_unhex_var(hex, r->subscriber_key, sizeof r->subscriber_key) : 0;
	r->subscriber_key_len = n > 0 ? (size_t)n : 0;
	return !hex || (n > 0 && !drf_subscriber_key_check(r->subscriber_key, r->subscriber_key_len)) ? 0 : -1;
}

/* One line of the file into r: 1 a registration, 0 blank or a comment, -1 with why. */
static int parse_line(char *line, drf_registration *r, char *why, size_t len)
{
	char *fields[6] = {0}, *save = NULL;
	int n = 0;
	line[strcspn(line, "#\r\n")] = 0;
	for (char *t = strtok_r(line, " \t", &save); t && n < 6; t = strtok_r(NULL, " \t", &save))
		fields[n++] = t;
	if (n == 0)
		return 0;
	memset(r, 0, sizeof *r);
	why[0] = 0;
	if (n != 4 && n != 5)
		snprintf(why, len, "%d fields, not 4 or 5 (IMEI TRE SHO DPF [KEY])", n);
	else if (!drf_imei_valid(fields[0]))
		snprintf(why, len, "%s is not an IMEI (14 to 16 digits, the check digit right)", fields[0]);
	else if (strlen(fields[1]) > M2M_ENTITY_MAX || strlen(fields[2]) > M2M_ENTITY_MAX ||
		 strlen(fields[3]) > M2M_ENTITY_MAX)
		snprintf(why, len, "an entity id is 1 to %d characters", M2M_ENTITY_MAX);
	else if (parse_key(fields[4], r))
		snprintf(why, len, "the key is not the hex of the DER SubjectPublicKeyInfo of a P-256 key");
	if (why[0])
		return -1;
	snprintf(r->m2me, sizeof r->m2me, "%s", fields[0]);
	snprintf(r->tre, sizeof r->tre, "%s", fields[1]);
	snprintf(r->sho, sizeof r->sho, "%s", fields[2]);
	snprintf(r->dpf, sizeof r->dpf, "%s", fields[3]);
	return 1;
}

/* Every line of f registered, in the caller's transaction: the count, or -1 with err. */
static int register_lines(admin *a, FILE *f, const char *path, char *err, size_t len)
{
	char line[512], why[300];
	drf_registration r;
	int count = 0, rc = 0;
	for (int no = 1; rc >= 0 && fgets(line, sizeof line, f); no++) {
		rc = parse_line(line, &r, why, sizeof why);
		if (rc > 0 && drf_register(&a->f, &r, ACTOR, time(NULL), why, sizeof why) != M2M_OK)
			rc = -1;
		if (rc < 0)
			snprintf(err, len, "%s:%d: %s; none registered", path, no, why);
		count += rc > 0;
	}
	return rc < 0 ? -1 : count;
}

static int cmd_register(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	if (argc != 2 || strcmp(argv[0], "--file"))
		return m2m_admin_usage(&tool, "register takes --file F");
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		snprintf(err, len, "cannot read %s: %s", argv[1], strerror(errno));
		return 1;
	}
	int n = m2m_store_begin(a->f.db) ? -1 : register_lines(a, f, argv[1], err, len);
	fclose(f);
	if (n >= 0 && m2m_store_commit(a->f.db))
		n = -1, snprintf(err, len, "the registrations cannot be committed");
	if (n < 0) {
		m2m_store_rollback(a->f.db);
		if (!err[0])
			snprintf(err, len, "the database is busy");
		return 1;
	}
	printf("registered %d device(s)\n", n);
	return 0;
}

/* ---- pool list, registrations ----------------------------------------------------------------------- */

/* Every row of sql printed by row(); 0, or 1 with err. */
static int list(admin *a, const char *sql, void (*row)(sqlite3_stmt *), char *err, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(a->f.db, sql);
	int rc = st ? SQLITE_ROW : SQLITE_ERROR;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW)
		row(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	snprintf(err, len, "the database cannot be read");
	return 1;
}

static void pcid_row(sqlite3_stmt *st)
{
	time_t until = (time_t)sqlite3_column_int64(st, 2);
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&until));
	printf("%s %s %s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1), when);
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		printf(" in-use %s@%s", sqlite3_column_text(st, 3), sqlite3_column_text(st, 4));
	putchar('\n');
}

static int cmd_pool(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	if (argc != 1 || strcmp(argv[0], "list"))
		return m2m_admin_usage(&tool, "pool takes list");
	printf("pool %s: %ld PCIDs from %s\n", a->f.s.plmn, a->f.s.pool_size, a->f.s.pool_first);
	return list(a, "SELECT imsi, tre, valid_until, imei, network FROM drf_pcid ORDER BY imsi", pcid_row, err, len);
}

static void registration_row(sqlite3_stmt *st)
{
	printf("%s %s %s %s %s%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
	       sqlite3_column_text(st, 3), sqlite3_column_int(st, 4) ? "provisioned" : "registered",
	       sqlite3_column_int(st, 5) ? " subscriber-key" : "");
}

static int cmd_registrations(void *state, int argc, char **argv, char *err, size_t len)
{
	if (argc)
		return m2m_admin_usage(&tool, "registrations takes no argument");
	return list(state, "SELECT tre, m2me, sho, dpf, provisioned_at IS NOT NULL, subscriber_key IS NOT NULL"
			   " FROM drf_registration ORDER BY tre",
		    registration_row, err, len);
}

static void change_row(sqlite3_stmt *st)
{
	char id[2 * DRF_ID_LEN + 1] = "?";
	if (sqlite3_column_bytes(st, 0) == DRF_ID_LEN)
		m2m_hex(sqlite3_column_blob(st, 0), DRF_ID_LEN, id);
	printf("%s %s %s %s %s", id, sqlite3_column_text(st, 1), sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
	       sqlite3_column_text(st, 4));
	/* Alternative 3b: the IMSI of A on the card, then the card registered and B's IMSI once delivered */
	for (int i = 5; i < 8 && sqlite3_column_type(st, i) != SQLITE_NULL; i++)
		printf(" %s%s", i == 5 ? "uicc " : "", sqlite3_column_text(st, i));
	putchar('\n');
}

static int cmd_changes(void *state, int argc, char **argv, char *err, size_t len)
{
	if (argc)
		return m2m_admin_usage(&tool, "changes takes no argument");
	return list(state, "SELECT c.change_id, c.tre, c.from_sho, c.to_sho, c.state, c.a_imsi, u.iccid, u.b_imsi"
			   " FROM drf_change c LEFT JOIN drf_uicc_change u USING (change_id) ORDER BY c.created_at, c.tre",
		    change_row, err, len);
}

static const m2m_admin_command commands[] = {
	{"register", cmd_register},
	{"pool", cmd_pool},
	{"registrations", cmd_registrations},
	{"changes", cmd_changes},
};

static admin the_admin;
static const m2m_admin_tool tool = {
	.name = "drf-admin",
	.usage_text = usage_text,
	.config_hint = "DRF.conf",
	.commands = commands,
	.ncommands = sizeof commands / sizeof commands[0],
	.state = &the_admin,
	.open = open_tool,
	.close = close_tool,
};

int main(int argc, char **argv)
{
	return m2m_admin_main(argc, argv, &tool);
}
