/*
 * The daemon frame: command line and configuration errors. Each case runs m2m_daemon_main in a
 * child process, as a role binary would, and checks its exit status and the message on stderr.
 */
#include "daemon/admin_tool.h"
#include "daemon/daemon.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

static const char *const migrations[] = {M2M_NODE_SCHEMA};
static const m2m_schema schema = {migrations, 1};

/* A role with one setting of its own, so role-level errors are covered too. */
static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	static const char *const names[] = {"colour", NULL};
	static const char *const colours[] = {"red", "green", NULL};
	m2m_conf_only(c, group, names);
	m2m_conf_enum(c, group, "colour", colours, 0, 0);
}

static const m2m_role role = {.name = "demo", .description = "a test role", .schema = &schema,
			      .configure = configure};

static char dir[64], conf_path[128], key_path[128], pub[41];

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/m2mdaemonXXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char sec[41];
	cr_assert_eq(zmq_curve_keypair(pub, sec), 0);
	snprintf(key_path, sizeof key_path, "%s/secret.key", dir);
	FILE *f = fopen(key_path, "w");
	fprintf(f, "%s\n", sec);
	fclose(f);
	snprintf(conf_path, sizeof conf_path, "%s/demo.conf", dir);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(daemon, .init = setup, .fini = teardown, .timeout = 30);

/* A good file; `transport` replaces the transport settings before the key, `extra` is appended at
 * top level and `peer_extra` inside the one peer. */
static void write_conf(const char *transport, const char *extra, const char *peer_extra)
{
	char bind[128];
	snprintf(bind, sizeof bind, "bind = \"ipc://%s/demo.sock\";", dir);
	FILE *f = fopen(conf_path, "w");
	fprintf(f,
		"entity = \"demo-1\";\n"
		"database = \"%s/demo.db\";\n"
		"transport = { %s secret_key_file = \"%s\"; };\n"
		"peers = (\n"
		"  { id = \"other\"; public_key = \"%s\"; %s }\n"
		");\n%s",
		dir, transport ? transport : bind, key_path, pub, peer_extra ? peer_extra : "", extra ? extra : "");
	fclose(f);
}

/* Replaces the first occurrence of `find` in the file. */
static void edit_conf(const char *find, const char *replace)
{
	char text[4096], out[4096];
	FILE *f = fopen(conf_path, "r");
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = 0;
	char *at = strstr(text, find);
	cr_assert_not_null(at);
	snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, replace, at + strlen(find));
	f = fopen(conf_path, "w");
	fputs(out, f);
	fclose(f);
}

typedef struct outcome {
	int status;
	char out[2048], err[2048];
} outcome;

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
}

static outcome run_main(int argc, char **argv, int term_after_ms)
{
	int out[2], err[2];
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(pipe(err), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		int rc = m2m_daemon_main(argc, argv, &role);
		fflush(stdout);
		_exit(rc);
	}
	close(out[1]);
	close(err[1]);
	if (term_after_ms) {
		usleep((useconds_t)term_after_ms * 1000);
		kill(pid, SIGTERM);
	}
	outcome o;
	slurp(out[0], o.out, sizeof o.out);
	slurp(err[0], o.err, sizeof o.err);
	close(out[0]);
	close(err[0]);
	int st;
	waitpid(pid, &st, 0);
	o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return o;
}

static outcome check(void)
{
	char *argv[] = {"demo", "-c", conf_path, "--check-config", NULL};
	return run_main(4, argv, 0);
}

/* Exit 2 and stderr "demo: FILE:LINE: rest" (line 0: no line). */
static void expect_bad(const char *setting_and_problem, int line)
{
	outcome o = check();
	cr_assert_eq(o.status, 2, "status %d, stderr: %s", o.status, o.err);
	char want[512];
	if (line)
		snprintf(want, sizeof want, "demo: %s:%d: %s\n", conf_path, line, setting_and_problem);
	else
		snprintf(want, sizeof want, "demo: %s: %s\n", conf_path, setting_and_problem);
	cr_assert_str_eq(o.err, want);
}

Test(daemon, help_and_version)
{
	char *help[] = {"demo", "--help", NULL}, *version[] = {"demo", "--version", NULL};
	outcome o = run_main(2, help, 0);
	cr_assert_eq(o.status, 0);
	cr_assert(strstr(o.out, "--check-config") && strstr(o.out, "a test role"), "%s", o.out);
	o = run_main(2, version, 0);
	cr_assert_eq(o.status, 0);
	cr_assert_str_eq(o.out, "demo " M2M_VERSION "\n");
}

Test(daemon, bad_usage_exits_2)
{
	char *none[] = {"demo", NULL}, *unknown[] = {"demo", "--frobnicate", NULL}, *dangling[] = {"demo", "-c", NULL};
	cr_assert_eq(run_main(1, none, 0).status, 2);
	outcome o = run_main(2, unknown, 0);
	cr_assert_eq(o.status, 2);
	cr_assert(strstr(o.err, "unknown argument --frobnicate"), "%s", o.err);
	cr_assert_eq(run_main(2, dangling, 0).status, 2);
}

Test(daemon, good_file_checks_ok)
{
	write_conf(NULL, "demo = { colour = \"green\"; };\n", NULL);
	outcome o = check();
	cr_assert_eq(o.status, 0, "%s", o.err);
	cr_assert(strstr(o.out, "configuration OK"), "%s", o.out);
}

Test(daemon, missing_file)
{
	snprintf(conf_path, sizeof conf_path, "%s/absent.conf", dir);
	expect_bad("cannot read", 0);
}

Test(daemon, syntax_error)
{
	write_conf(NULL, "log_level = ;\n", NULL);
	outcome o = check();
	cr_assert_eq(o.status, 2);
	char want[256];
	snprintf(want, sizeof want, "demo: %s:7: syntax error", conf_path);
	cr_assert(!strncmp(o.err, want, strlen(want)), "%s", o.err);
}

Test(daemon, unknown_top_level_setting)
{
	write_conf(NULL, "databse = \"x\";\n", NULL);
	expect_bad("databse: unknown setting (misspelt?)", 7);
}

Test(daemon, missing_entity)
{
	FILE *f = fopen(conf_path, "w");
	fprintf(f, "database = \"x.db\";\ntransport = { bind = \"ipc://x\"; secret_key_file = \"%s\"; };\n", key_path);
	fclose(f);
	expect_bad("entity: missing (required)", 0);
}

Test(daemon, missing_bind)
{
	write_conf("tap = \"ipc://t\";", NULL, NULL);
	expect_bad("transport.bind: missing (required)", 3);
}

Test(daemon, bad_timeout)
{
	write_conf("bind = \"ipc://x\"; timeout_ms = -5;", NULL, NULL);
	expect_bad("transport.timeout_ms: -5 is out of range [1, 600000]", 3);
}

Test(daemon, unreadable_secret_key)
{
	write_conf(NULL, NULL, NULL);
	unlink(key_path);
	char want[256];
	snprintf(want, sizeof want, "transport.secret_key_file: cannot read %s", key_path);
	expect_bad(want, 3);
}

Test(daemon, malformed_secret_key)
{
	write_conf(NULL, NULL, NULL);
	FILE *f = fopen(key_path, "w");
	fputs("not-a-key\n", f);
	fclose(f);
	char want[256];
	snprintf(want, sizeof want, "transport.secret_key_file: %s does not hold a 40-character Z85 CURVE secret key",
		 key_path);
	expect_bad(want, 3);
}

Test(daemon, malformed_peer_key)
{
	write_conf(NULL, NULL, NULL);
	char short_key[6];
	memcpy(short_key, pub, 5);
	short_key[5] = 0;
	edit_conf(pub, short_key);
	expect_bad("peers.[0].public_key: must be 40 Z85 characters", 5);
}

Test(daemon, misspelt_peer_setting)
{
	write_conf(NULL, NULL, "endpiont = \"ipc://x\";");
	expect_bad("peers.[0].endpiont: unknown setting (misspelt?)", 5);
}

Test(daemon, bad_log_level)
{
	write_conf(NULL, "log_level = \"loud\";\n", NULL);
	expect_bad("log_level: \"loud\" is not one of: debug, info, warn, error", 7);
}

Test(daemon, role_setting_errors)
{
	write_conf(NULL, "demo = {\n  colour = \"blue\";\n};\n", NULL);
	expect_bad("demo.colour: \"blue\" is not one of: red, green", 8);
	write_conf(NULL, "demo = {\n  flavour = \"x\";\n};\n", NULL);
	expect_bad("demo.flavour: unknown setting (misspelt?)", 8);
}

Test(daemon, runs_and_stops_cleanly_on_sigterm)
{
	write_conf(NULL, NULL, NULL);
	char *argv[] = {"demo", "-c", conf_path, NULL};
	outcome o = run_main(3, argv, 500);
	cr_assert_eq(o.status, 0, "status %d: %s", o.status, o.err);
	cr_assert(strstr(o.err, "serving on ipc://"), "%s", o.err);
	cr_assert(strstr(o.err, "stopping on signal 15"), "%s", o.err);
}

Test(daemon, unusable_database_is_a_runtime_failure)
{
	write_conf(NULL, NULL, NULL);
	edit_conf("/demo.db", "/no/x.db");
	char *argv[] = {"demo", "-c", conf_path, NULL};
	outcome o = run_main(3, argv, 0);
	cr_assert_eq(o.status, 1, "%s", o.err);
	cr_assert(strstr(o.err, "database"), "%s", o.err);
}

/* ---- an administration tool's configuration and database (admin_tool.h) ------------------------ */

typedef struct tool_state {
	int settings_read;
	m2m_conf conf;
	sqlite3 *db;
} tool_state;

static void read_settings(void *state, m2m_conf *c)
{
	tool_state *s = state;
	static const char *const colours[] = {"red", "green", NULL};
	s->settings_read++;
	m2m_conf_enum(c, NULL, "colour", colours, 0, 0);
}

/* m2m_admin_open_database on a file of text, then closed: its result. */
static int open_tool_with(const char *text, tool_state *s)
{
	FILE *f = fopen(conf_path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	memset(s, 0, sizeof *s);
	m2m_admin_tool t = {.name = "demo-admin", .state = s};
	int rc = m2m_admin_open_database(&t, conf_path, &s->conf, read_settings, &schema, &s->db);
	cr_assert(rc == 0 ? s->db != NULL : s->db == NULL);
	if (s->db)
		cr_assert_eq(m2m_store_version(s->db), 1, "the tool migrates the database");
	m2m_admin_close_database(&s->conf, s->db);
	return rc;
}

Test(daemon, admin_tool_opens_the_database_its_daemon_names)
{
	char text[256];
	tool_state s;
	snprintf(text, sizeof text, "database = \"%s/demo.db\";\ncolour = \"green\";\n", dir);
	cr_assert_eq(open_tool_with(text, &s), 0);
	cr_assert_eq(s.settings_read, 1, "the role's settings are read");
	snprintf(text, sizeof text, "database = \"%s/no/demo.db\";\n", dir);
	cr_assert_eq(open_tool_with(text, &s), 1, "a database that cannot be opened");
	cr_assert_eq(open_tool_with("colour = \"red\";\n", &s), 2, "no database setting");
	snprintf(text, sizeof text, "database = \"%s/demo.db\";\ncolour = \"blue\";\n", dir);
	cr_assert_eq(open_tool_with(text, &s), 2, "a bad setting of the role");
	cr_assert_eq(open_tool_with("database = ;\n", &s), 2, "a syntax error");
}

/* ---- a call that got no usable answer (daemon.h) ------------------------------------------------ */

Test(daemon, call_failure_says_why_and_passes_the_reason_on)
{
	char buf[256];
	cr_assert_str_eq(m2m_call_failure("mno-a", NULL, M2M_R_TIMEOUT, buf, sizeof buf), "no answer from mno-a (timeout)");
	cr_assert_eq(m2m_call_reason(NULL, M2M_R_TIMEOUT), M2M_R_TIMEOUT);
	M2M_ERROR_REPORT *er = M2M_ERROR_REPORT_new();
	cr_assert(er && ASN1_ENUMERATED_set(er->reason, M2M_R_WRONG_STATE) && !m2m_set_str(er->text, "busy"));
	m2m_envelope refused = {.type = M2M_MSG_ERROR, .body = er};
	cr_assert_str_eq(m2m_call_failure("mno-a", &refused, M2M_OK, buf, sizeof buf), "mno-a refused: wrongState: busy");
	cr_assert_eq(m2m_call_reason(&refused, M2M_OK), M2M_R_WRONG_STATE);
	cr_assert(ASN1_ENUMERATED_set(er->reason, M2M_OK));
	cr_assert_eq(m2m_call_reason(&refused, M2M_OK), M2M_R_UNEXPECTED_MESSAGE, "an ErrorReport that says ok is none");
	m2m_envelope other = {.type = M2M_MSG_PING, .body = NULL};
	cr_assert_str_eq(m2m_call_failure("mno-a", &other, M2M_OK, buf, sizeof buf), "mno-a answered with an unexpected ping");
	cr_assert_eq(m2m_call_reason(&other, M2M_OK), M2M_R_UNEXPECTED_MESSAGE);
	M2M_ERROR_REPORT_free(er);
}
