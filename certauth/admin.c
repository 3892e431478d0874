/*
 * certauth-admin: the certification agency's administration tool. It opens the agency's
 * database named in the daemon's own configuration file, whether the daemon runs or not (SQLite
 * WAL, one transaction per command); the daemon picks up a revocation at its next request.
 *
 * Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage or configuration.
 */
#include "authority.h"
#include "schema.h"

#include "crypto/crypto.h"
#include "daemon/admin_tool.h"
#include "log/log.h"
#include "store/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define USAGE_ERROR 2

static const char usage_text[] =
	"usage: certauth-admin -c CERTAUTH.conf COMMAND ...\n"
	"  platform add --model M --version V --assurance N --component NAME=SHA256HEX ...\n"
	"                      certify a platform type (1 to 32 components); before the daemon's\n"
	"                      first start it also creates the hierarchy and writes the root file\n"
	"  platform list       every certified platform type, one component per line\n"
	"  revoke --serial N   revoke one certificate and publish a new CRL\n"
	"  revoke --model M [--version V]\n"
	"                      withdraw a TRE model (every version without --version): its certificates\n"
	"                      are revoked and the model is listed in the CRL's RevokedModels\n"
	"  list                every certificate issued, one per line\n"
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

/* ---- options: --name VALUE pairs, each once except --component ------------------------------ */

typedef struct options {
	const char *model, *version, *assurance, *serial;
	ca_component components[CA_COMPONENTS_MAX];
	size_t ncomponents;
} options;

static int parse_component(options *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	ca_component *c = &o->components[o->ncomponents];
	size_t n = eq ? (size_t)(eq - arg) : 0;
	if (o->ncomponents == CA_COMPONENTS_MAX)
		return usage("at most %d components", CA_COMPONENTS_MAX);
	if (!eq || n < 1 || n >= sizeof c->name || m2m_unhex(eq + 1, c->digest, sizeof c->digest))
		return usage("--component takes NAME=SHA256HEX (1 to 63 characters, 64 hex digits), not %s", arg);
	memcpy(c->name, arg, n);
	c->name[n] = 0;
	o->ncomponents++;
	return 0;
}

static const char **slot_of(options *o, const char *name)
{
	return !strcmp(name, "--model")	     ? &o->model
	       : !strcmp(name, "--version")   ? &o->version
	       : !strcmp(name, "--assurance") ? &o->assurance
	       : !strcmp(name, "--serial")    ? &o->serial
					      : NULL;
}

/* Whether name is one of the space-separated words of allowed. */
static int allowed_option(const char *allowed, const char *name)
{
	size_t n = strlen(name);
	for (const char *at = strstr(allowed, name); at; at = strstr(at + 1, name))
		if ((at == allowed || at[-1] == ' ') && (!at[n] || at[n] == ' '))
			return 1;
	return 0;
}

/* allowed: the option names this command takes, e.g. "--model --version". */
static int parse_options(int argc, char **argv, const char *allowed, options *o)
{
	memset(o, 0, sizeof *o);
	for (int i = 0; i < argc; i += 2) {
		const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
		if (!allowed_option(allowed, name))
			return usage("this command takes no %s", name);
		if (!value)
			return usage("%s needs a value", name);
		const char **slot = slot_of(o, name);
		if (!slot) {  /* --component, the one option given more than once */
			if (parse_component(o, value))
				return USAGE_ERROR;
		} else if (*slot) {
			return usage("%s given twice", name);
		} else {
			*slot = value;
		}
	}
	return 0;
}

/* A decimal number in [min, max]; -1 when it is not one. */
static long long number(const char *s, long long min, long long max)
{
	char *end;
	errno = 0;
	long long v = s && *s >= '0' && *s <= '9' ? strtoll(s, &end, 10) : -1;
	return v >= min && v <= max && !errno && !*end ? v : -1;
}

/* ---- configuration and database ------------------------------------------------------------ */

typedef struct admin {
	m2m_conf conf;
	ca_settings settings;
	char entity[M2M_ENTITY_MAX + 1];
	sqlite3 *db;
} admin;

static void read_settings(void *state, m2m_conf *c)
{
	admin *a = state;
	const char *entity = m2m_conf_str(c, NULL, "entity", NULL, 1);
	snprintf(a->entity, sizeof a->entity, "%s", entity ? entity : "");
	ca_settings_read(c, config_lookup(&c->cfg, "certauth"), &a->settings);
}

/* Runs op inside one transaction: committed when it succeeds, rolled back otherwise. */
static int in_transaction(admin *a, ca_outcome (*op)(admin *, const options *, char *, size_t), const options *o,
			  char *err, size_t len)
{
	if (m2m_store_begin(a->db)) {
		snprintf(err, len, "the database is busy");
		return CA_FAILED;
	}
	ca_outcome rc = op(a, o, err, len);
	if (rc == CA_DONE && m2m_store_commit(a->db)) {
		snprintf(err, len, "the change cannot be committed");
		rc = CA_FAILED;
	}
	if (rc != CA_DONE)
		m2m_store_rollback(a->db);
	return (int)rc;
}

/* ---- commands ------------------------------------------------------------------------------ */

/*
 * The hierarchy, created if this runs before the daemon's first start, and the root file written:
 * so that a testbed can certify its platform types and hand out the root before any daemon runs.
 * Runs its own transaction. The keys are only needed to sign (revoke).
 */
static int open_authority(admin *a, ca_authority *auth, char *err, size_t len)
{
	return ca_open(auth, a->db, &a->settings, a->entity, err, len);
}

static ca_outcome add_platform(admin *a, const options *o, char *err, size_t len)
{
	ca_platform_spec spec = {o->model, o->version, (int)number(o->assurance, 1, 7), o->components, o->ncomponents};
	ca_outcome rc = ca_platform_add(a->db, &spec, err, len);
	if (rc == CA_DONE)
		printf("certified %s %s at assurance level %d with %zu component(s)\n", o->model, o->version,
		       spec.assurance, o->ncomponents);
	return rc;
}

static int cmd_platform(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	options o;
	if (argc == 1 && !strcmp(argv[0], "list"))
		return (int)ca_platform_list(a->db, stdout, err, len);
	if (argc < 1 || strcmp(argv[0], "add"))
		return usage("platform takes add or list");
	int rc = parse_options(argc - 1, argv + 1, "--model --version --assurance --component", &o);
	if (rc)
		return rc;
	if (!o.model || !o.version || !o.assurance || !o.ncomponents)
		return usage("platform add needs --model, --version, --assurance and at least one --component");
	if (number(o.assurance, 1, 7) < 0)
		return usage("--assurance is 1 to 7");
	ca_authority auth;
	if (open_authority(a, &auth, err, len))
		return CA_FAILED;
	ca_close(&auth);
	return in_transaction(a, add_platform, &o, err, len);
}

/* A revocation signs a new CRL: the hierarchy's keys are needed (ca_open, its own transaction). */
static ca_outcome revoke(admin *a, const options *o, char *err, size_t len)
{
	ca_authority auth;
	if (open_authority(a, &auth, err, len))
		return CA_FAILED;
	ca_outcome rc = m2m_store_begin(a->db) ? CA_FAILED : CA_DONE;
	int revoked = 0;
	if (rc == CA_DONE)
		rc = o->serial ? ca_revoke_serial(&auth, (uint64_t)number(o->serial, 1, INT64_MAX), err, len)
			       : ca_revoke_model(&auth, o->model, o->version, &revoked, err, len);
	if (rc == CA_DONE && m2m_store_commit(a->db)) {
		snprintf(err, len, "the revocation cannot be committed");
		rc = CA_FAILED;
	} else if (rc != CA_DONE) {
		m2m_store_rollback(a->db);
	}
	if (rc == CA_DONE && o->serial)
		printf("revoked certificate %s\n", o->serial);
	else if (rc == CA_DONE)
		printf("withdrew model %s%s%s: %d certificate(s) revoked\n", o->model, o->version ? " " : "",
		       o->version ? o->version : " (every version)", revoked);
	ca_close(&auth);
	return rc;
}

static int cmd_revoke(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	options o;
	int rc = parse_options(argc, argv, "--serial --model --version", &o);
	if (rc)
		return rc;
	if (!o.serial == !o.model || (o.version && !o.model))
		return usage("revoke takes --serial N, or --model M with an optional --version V");
	if (o.serial && number(o.serial, 1, INT64_MAX) < 0)
		return usage("--serial is a positive number");
	return (int)revoke(a, &o, err, len);
}

static int cmd_list(void *state, int argc, char **argv, char *err, size_t len)
{
	admin *a = state;
	return argc ? usage("list takes no %s", argv[0]) : (int)ca_list(a->db, stdout, err, len);
}

static const m2m_admin_command commands[] = {{"platform", cmd_platform}, {"revoke", cmd_revoke}, {"list", cmd_list}};

/* The daemon's configuration, then its database (the frame closes both, whatever happened). */
static int open_tool(void *state, const char *config)
{
	admin *a = state;
	return m2m_admin_open_database(&tool, config, &a->conf, read_settings, certauth_schema(), &a->db);
}

static void close_tool(void *state)
{
	admin *a = state;
	ca_settings_wipe(&a->settings);
	m2m_admin_close_database(&a->conf, a->db);
}

static admin the_admin;
static const m2m_admin_tool tool = {
	.name = "certauth-admin",
	.usage_text = usage_text,
	.config_hint = "CERTAUTH.conf",
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
