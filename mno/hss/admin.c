/*
 * mno-admin: the home operator's administration tool. It opens the operator's database named in
 * the daemon's own configuration file, whether the daemon runs or not (SQLite WAL, one
 * transaction per command), and does what the operator's staff do to subscriber records
 * (provision.h). Every change is audited with the actor "admin".
 *
 * Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage or configuration.
 */
#include "hss/hss.h"
#include "hss/provision.h"
#include "ota/ota.h"
#include "port/admin.h"
#include "schema.h"

#include "daemon/admin_tool.h"
#include "log/log.h"
#include "store/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR "admin"

static const char usage_text[] =
	"usage: mno-admin -c MNO.conf COMMAND ...\n"
	"  add --imsi IMSI [--k HEX --opc HEX] [--amf HEX4] [--apn APN]... [--cs] [--imei-lock IMEI]\n"
	"                      a subscriber; without K and OPc it is pending until personalised\n"
	"  list                every subscriber, one per line\n"
	"  show IMSI           one subscriber: record, location, lock, changes, audit trail (never keys)\n"
	"  suspend IMSI | resume IMSI | delete IMSI\n"
	"  lock IMSI --days N  a contract lock: no change of subscription takes the MCIM away for N days\n"
	"  unlock IMSI         lifts the contract lock\n"
	"  import FILE.csv     header imsi,k,opc,amf,apns,cs,imei_lock; apns ';'-separated; all or none\n"
	"  personalise --iccid ICCID --imsi IMSI --out IMAGE [--apn APN]... [--cs] [--imei-lock IMEI]\n"
	"                      random K, OPc and ADM into the card image (mode 0600) and the record\n"
	OTA_ADMIN_USAGE
	PORT_ADMIN_USAGE
	"Defaults: AMF 8000, APN list \"" HSS_DEFAULT_APN "\", no CS, no IMEI lock.\n"
	"Exit status: 0 done, 1 failed (reason on stderr), 2 bad usage or configuration.\n";

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const m2m_admin_tool tool;

static int usage(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return m2m_admin_usage(&tool, "%s", text);
}

/* ---- command options --------------------------------------------------------------------------- */

enum {
	OPT_IMSI = 1 << 0, OPT_K = 1 << 1, OPT_OPC = 1 << 2, OPT_AMF = 1 << 3, OPT_APN = 1 << 4,
	OPT_CS = 1 << 5, OPT_IMEI_LOCK = 1 << 6, OPT_ICCID = 1 << 7, OPT_OUT = 1 << 8, OPT_DAYS = 1 << 9,
};

typedef struct option_def {
	const char *name;
	unsigned flag;
	int takes_value;
} option_def;

static const option_def option_defs[] = {
	{"--imsi", OPT_IMSI, 1}, {"--k", OPT_K, 1}, {"--opc", OPT_OPC, 1}, {"--amf", OPT_AMF, 1},
	{"--apn", OPT_APN, 1}, {"--cs", OPT_CS, 0}, {"--imei-lock", OPT_IMEI_LOCK, 1},
	{"--iccid", OPT_ICCID, 1}, {"--out", OPT_OUT, 1}, {"--days", OPT_DAYS, 1},
};

typedef struct options {
	hss_order order;
	const char *iccid, *out, *days;
	unsigned seen;
} options;

static const option_def *find_option(const char *name)
{
	for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++)
		if (!strcmp(option_defs[i].name, name))
			return &option_defs[i];
	return NULL;
}

static void set_option(options *o, unsigned flag, const char *value)
{
	switch (flag) {
	case OPT_IMSI: o->order.imsi = value; break;
	case OPT_K: o->order.k = value; break;
	case OPT_OPC: o->order.opc = value; break;
	case OPT_AMF: o->order.amf = value; break;
	case OPT_APN: o->order.apns[o->order.napns++] = value; break;
	case OPT_CS: o->order.cs_allowed = 1; break;
	case OPT_IMEI_LOCK: o->order.imei_lock = value; break;
	case OPT_ICCID: o->iccid = value; break;
	case OPT_OUT: o->out = value; break;
	case OPT_DAYS: o->days = value; break;
	}
}

/* The options of a command: only those in allowed, each once (--apn up to 16 times), and
 * those in required present. 0, or the exit status of a usage error. */
static int parse_options(int argc, char **argv, unsigned allowed, unsigned required, options *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i++) {
		const option_def *d = find_option(argv[i]);
		if (!d || !(d->flag & allowed))
			return usage("this command takes no %s", argv[i]);
		if (d->takes_value && i + 1 >= argc)
			return usage("%s needs a value", argv[i]);
		if (d->flag == OPT_APN ? o->order.napns == HSS_APNS_MAX : (o->seen & d->flag) != 0)
			return usage("%s given too often", argv[i]);
		o->seen |= d->flag;
		set_option(o, d->flag, d->takes_value ? argv[++i] : NULL);
	}
	for (size_t i = 0; i < sizeof option_defs / sizeof option_defs[0]; i++)
		if ((required & option_defs[i].flag) && !(o->seen & option_defs[i].flag))
			return usage("%s is required", option_defs[i].name);
	return 0;
}

/* ---- configuration and database ---------------------------------------------------------------- */

typedef struct admin {
	m2m_conf conf;
	hss_settings settings;
	port_settings port;            /* with has_port: the mno group's port group */
	int has_port;
	char entity[M2M_ENTITY_MAX + 1];  /* this operator: the new one of a port it starts */
	sqlite3 *db;
} admin;

/* The daemon's file, in home mode: the `mno` group. */
static void read_settings(void *state, m2m_conf *c)
{
	static const char *const modes[] = {"home", "visited", NULL};
	admin *a = state;
	config_setting_t *group = config_lookup(&c->cfg, "mno");
	if (group && m2m_conf_enum(c, group, "mode", modes, 0, 1) != 0)
		m2m_conf_fail(c, config_setting_get_member(group, "mode"),
			      "mno-admin administers a home operator (mode = \"home\")");
	hss_settings_read(c, group, &a->settings);
	config_setting_t *port = group ? config_setting_get_member(group, "port") : NULL;
	const char *entity = NULL;
	if (port && !c->failed) {
		port_settings_read(c, port, a->settings.plmn, !config_setting_get_member(group, "dpf"), &a->port);
		a->has_port = 1;
	}
	if (config_lookup_string(&c->cfg, "entity", &entity) == CONFIG_TRUE)
		snprintf(a->entity, sizeof a->entity, "%s", entity);
}

/* ---- commands ---------------------------------------------------------------------------------- */

static int one_argument(int argc, char **argv, const char *what)
{
	if (argc != 1)
		return usage("this command takes exactly one %s", what);
	if (argv[0][0] == '-')
		return usage("%s is not an argument here", argv[0]);
	return 0;
}

static int cmd_add(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	options o;
	int rc = parse_options(argc, argv, OPT_IMSI | OPT_K | OPT_OPC | OPT_AMF | OPT_APN | OPT_CS | OPT_IMEI_LOCK,
			       OPT_IMSI, &o);
	if (rc)
		return rc;
	rc = (int)hss_add(a->db, &a->settings, &o.order, ACTOR, err, len);
	if (rc == HSS_DONE)
		printf("added IMSI %s (%s)\n", o.order.imsi, o.order.k ? "active" : "pending: no card yet");
	return rc;
}

static int cmd_personalise(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	options o;
	int rc = parse_options(argc, argv, OPT_IMSI | OPT_ICCID | OPT_OUT | OPT_APN | OPT_CS | OPT_IMEI_LOCK,
			       OPT_IMSI | OPT_ICCID | OPT_OUT, &o);
	if (rc)
		return rc;
	rc = (int)hss_personalise(a->db, &a->settings, o.iccid, &o.order, o.out, ACTOR, err, len);
	if (rc == HSS_DONE)
		printf("personalised IMSI %s: card ICCID %s, image %s\n", o.order.imsi, o.iccid, o.out);
	return rc;
}

static int cmd_list(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	return argc ? usage("list takes no %s", argv[0]) : (int)hss_list(a->db, stdout, err, len);
}

static int cmd_show(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	int rc = one_argument(argc, argv, "IMSI");
	return rc ? rc : (int)hss_show(a->db, argv[0], stdout, err, len);
}

/* suspend, resume, delete and unlock: one IMSI, one transition. */
static int state_change(hss_outcome (*op)(sqlite3 *, const char *, const char *, char *, size_t), const char *done,
			admin *a, int argc, char **argv, char *err, size_t len)
{
	int rc = one_argument(argc, argv, "IMSI");
	if (rc)
		return rc;
	rc = (int)op(a->db, argv[0], ACTOR, err, len);
	if (rc == HSS_DONE)
		printf("IMSI %s %s\n", argv[0], done);
	return rc;
}

static int cmd_suspend(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	return state_change(hss_suspend, "suspended", a, argc, argv, err, len);
}

static int cmd_resume(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	return state_change(hss_resume, "resumed", a, argc, argv, err, len);
}

static int cmd_delete(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	return state_change(hss_delete, "deleted", a, argc, argv, err, len);
}

/* lock IMSI --days N */
static int cmd_lock(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	options o;
	int rc = argc < 1 ? usage("lock takes an IMSI and --days N") : one_argument(1, argv, "IMSI");
	if (!rc)
		rc = parse_options(argc - 1, argv + 1, OPT_DAYS, OPT_DAYS, &o);
	if (rc)
		return rc;
	rc = (int)hss_lock(a->db, argv[0], o.days, ACTOR, err, len);
	if (rc == HSS_DONE)
		printf("IMSI %s under a contract lock for %s day(s)\n", argv[0], o.days);
	return rc;
}

static int cmd_unlock(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	return state_change(hss_unlock, "unlocked", a, argc, argv, err, len);
}

static int cmd_import(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	int imported = 0, rc = one_argument(argc, argv, "FILE.csv");
	if (rc)
		return rc;
	rc = (int)hss_import(a->db, &a->settings, argv[0], ACTOR, &imported, err, len);
	if (rc == HSS_DONE)
		printf("imported %d subscriber(s) from %s\n", imported, argv[0]);
	return rc;
}

/* port ... and subscriber ...: Alternative 3a (mno/port/admin.c) */
static int cmd_port(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	int rc = port_admin(a->db, &a->settings, a->has_port ? &a->port : NULL, a->entity, argc, argv, err, len);
	return rc == 2 ? usage("%s", err) : rc;
}

static int cmd_subscriber(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	int rc = port_admin_subscriber(a->db, argc, argv, err, len);
	return rc == 2 ? usage("%s", err) : rc;
}

/* ota ...: the OTA server's jobs and keysets (mno/ota/admin.c) */
static int cmd_ota(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	int rc = ota_admin(a->db, a->settings.storage_key, argc, argv, err, len);
	return rc == 2 ? usage("%s", err) : rc;
}

static const m2m_admin_command commands[] = {
	{"add", cmd_add}, {"list", cmd_list}, {"show", cmd_show}, {"suspend", cmd_suspend},
	{"resume", cmd_resume}, {"delete", cmd_delete}, {"import", cmd_import}, {"personalise", cmd_personalise},
	{"lock", cmd_lock}, {"unlock", cmd_unlock}, {"ota", cmd_ota}, {"port", cmd_port},
	{"subscriber", cmd_subscriber},
};

/* The daemon's configuration, then its database (the frame closes both, whatever happened). */
static int open_tool(void *state, const char *config)
{
	admin *a = state;
	return m2m_admin_open_database(&tool, config, &a->conf, read_settings, mno_schema(), &a->db);
}

static void close_tool(void *state)
{
	admin *a = state;
	hss_settings_wipe(&a->settings);
	port_settings_clear(&a->port);
	m2m_admin_close_database(&a->conf, a->db);
}

static admin the_admin;
static const m2m_admin_tool tool = {
	.name = "mno-admin",
	.usage_text = usage_text,
	.config_hint = "MNO.conf",
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
