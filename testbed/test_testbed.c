/*
 * End-to-end tests of the testbed tool: real daemons in a private run directory under /tmp
 * (short, so that socket paths fit; unique, so that tests never share sockets). The test
 * process makes itself a child subreaper: the daemons outlive `testbed up`, and someone must
 * reap them once `down` stopped them, or kill(pid, 0) would still find their zombies.
 */
#include "wire/wire.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_PIDS 64

static char rundir[64];

static void setup(void)
{
	snprintf(rundir, sizeof rundir, "/tmp/tbXXXXXX");
	cr_assert_not_null(mkdtemp(rundir));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Runs the tool on rundir with the given arguments; returns its output (stdout and stderr). */
static char *tool(int *status, ...)
{
	char *argv[16] = {TESTBED_BIN, "-d", rundir};
	int argc = 3;
	va_list ap;
	va_start(ap, status);
	for (char *a; argc < 15 && (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	for (ssize_t n; (n = read(fds[0], out + len, cap - len - 1)) > 0;)
		if ((len += (size_t)n) + 1 == cap)
			out = realloc(out, cap *= 2);
	out[len] = 0;
	close(fds[0]);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	printf("$ testbed %s ... -> %d\n%s", argv[3], *status, out);  /* shown when a test fails */
	cr_expect(!strstr(out, "Sanitizer") && !strstr(out, "runtime error"), "testbed %s: sanitizer report", argv[3]);
	return out;
}

static void expect_ok(const char *command)
{
	int st;
	free(tool(&st, command, NULL));
	cr_assert_eq(st, 0, "testbed %s exited with %d", command, st);
}

static char *read_text(const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", rundir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

static int read_pids(pid_t *pids)
{
	DIR *d = opendir(rundir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d)) && n < MAX_PIDS;) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".pid"))
			continue;
		char *text = read_text(e->d_name);
		pids[n++] = (pid_t)atol(text);
		free(text);
	}
	if (d)
		closedir(d);
	return n;
}

/* No process whose command line mentions the run directory, and none of pids. */
static void expect_no_process(const pid_t *pids, int n)
{
	reap();
	for (int i = 0; i < n; i++)
		cr_expect(kill(pids[i], 0) == -1 && errno == ESRCH, "pid %ld is still there", (long)pids[i]);
	DIR *d = opendir("/proc");
	for (struct dirent *e; (e = readdir(d));) {
		char path[300], cmd[4096];
		if (atol(e->d_name) <= 0 || atol(e->d_name) == getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		size_t len = f ? fread(cmd, 1, sizeof cmd - 1, f) : 0;
		if (f)
			fclose(f);
		for (size_t k = 0; k < len; k++)
			cmd[k] = cmd[k] ? cmd[k] : ' ';
		cmd[len] = 0;
		cr_expect_null(strstr(cmd, rundir), "process %s still runs: %s", e->d_name, cmd);
	}
	closedir(d);
}

/* A sanitizer report in any daemon's or the recorder's log fails the test. */
static void expect_clean_logs(void)
{
	DIR *d = opendir(rundir);
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".log"))
			continue;
		char *text = read_text(e->d_name);
		cr_expect(!strstr(text, "Sanitizer") && !strstr(text, "runtime error"), "%s:\n%s", e->d_name, text);
		free(text);
	}
	closedir(d);
}

static void teardown(void)
{
	int st;
	free(tool(&st, "down", NULL));
	reap();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", rundir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(testbed, .init = setup, .fini = teardown, .timeout = 120);

/* A ping and a pong in each direction of every link of the topology the run directory holds. */
static void expect_every_link_pinged(const char *trace)
{
	config_t cfg;
	char path[256];
	config_init(&cfg);
	snprintf(path, sizeof path, "%s/topology.conf", rundir);
	cr_assert(config_read_file(&cfg, path), "%s", config_error_text(&cfg));
	config_setting_t *links = config_lookup(&cfg, "links");
	cr_assert(links && config_setting_length(links) > 0);
	for (int i = 0; i < config_setting_length(links); i++) {
		config_setting_t *l = config_setting_get_elem(links, (unsigned)i);
		const char *ends[2] = {config_setting_get_string_elem(l, 0), config_setting_get_string_elem(l, 1)};
		for (int k = 0; k < 2; k++) {
			char want[256];
			const char *a = ends[k], *b = ends[1 - k];
			snprintf(want, sizeof want, "\"from\": \"%s\", \"to\": \"%s\", \"type\": \"ping\"", a, b);
			cr_expect_not_null(strstr(trace, want), "no %s in the trace", want);
			snprintf(want, sizeof want, "\"from\": \"%s\", \"to\": \"%s\", \"type\": \"pong\"", b, a);
			cr_expect_not_null(strstr(trace, want), "no %s in the trace", want);
		}
	}
	config_destroy(&cfg);
}

static void expect_chart_names_every_entity(void)
{
	char *chart = read_text("charts/ping.msc");
	cr_assert_not_null(chart, "no chart");
	static const char *const ids[] = {"certauth", "drf", "mno-a", "mno-b", "mno-v", "m2me-1", "tre-1", "uicc-1",
					  "testbed"};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		char quoted[80];
		snprintf(quoted, sizeof quoted, "\"%s\"", ids[i]);
		cr_expect_not_null(strstr(chart, quoted), "the chart does not name %s", ids[i]);
	}
	cr_expect_not_null(strstr(chart, "pingPeersRequest"));
	free(chart);
	if (system("command -v mscgen >/dev/null") == 0) {
		char *svg = read_text("charts/ping.svg");
		cr_expect_not_null(svg, "mscgen is installed but there is no SVG");
		free(svg);
	}
}

Test(testbed, up_status_ping_trace_down)
{
	int st;
	expect_ok("up");
	char *out = tool(&st, "status", NULL);
	cr_expect_eq(st, 0);
	cr_expect_null(strstr(out, "DOWN"));
	cr_expect_not_null(strstr(out, "uicc-1"));
	free(out);

	out = tool(&st, "run", "ping", NULL);
	cr_expect_eq(st, 0);
	cr_expect_not_null(strstr(out, "step 1: certauth pings its peers"));
	cr_expect_not_null(strstr(out, "scenario ping: passed"));
	free(out);
	char *trace = read_text("trace.jsonl");
	cr_assert_not_null(trace);
	expect_every_link_pinged(trace);
	free(trace);
	expect_chart_names_every_entity();
	out = tool(&st, "trace", NULL);
	cr_expect_eq(st, 0);
	cr_expect_not_null(strstr(out, "msc {"));
	free(out);

	pid_t pids[MAX_PIDS];
	int n = read_pids(pids);
	cr_expect_eq(n, 9, "8 daemons and the recorder, not %d", n);
	expect_ok("down");
	expect_no_process(pids, n);
	expect_clean_logs();
}

Test(testbed, broken_daemon_configuration_fails_up_and_leaves_nothing)
{
	char topo[128];
	snprintf(topo, sizeof topo, "%s/broken.conf", rundir);
	FILE *f = fopen(topo, "w");
	cr_assert_not_null(f);
	fputs("entities = ( { id = \"certauth\"; role = \"certauth\"; },\n"
	      "             { id = \"mno-a\"; role = \"mno\"; settings = { mode = \"home\"; colour = \"blue\"; }; } );\n"
	      "links = ( [ \"mno-a\", \"certauth\" ] );\n",
	      f);
	fclose(f);
	int st;
	char *out = tool(&st, "-t", topo, "up", NULL);
	cr_expect_eq(st, 1);
	cr_expect_not_null(strstr(out, "mno-a did not come up: it exited with status 2"));
	cr_expect_not_null(strstr(out, "colour"), "the log tail should say what is wrong");
	cr_expect_null(strstr(out, "certauth did not come up"));
	/* up printed the pids it started */
	pid_t pids[MAX_PIDS];
	int n = 0;
	for (char *p = out; n < MAX_PIDS && (p = strstr(p, " pid ")); p += 5)
		pids[n++] = (pid_t)atol(p + 5);
	cr_expect_eq(n, 3, "certauth, mno-a and the recorder, not %d", n);
	free(out);
	expect_no_process(pids, n);
	cr_expect_eq(read_pids(pids), 0, "pid files are left");
}

Test(testbed, down_is_idempotent)
{
	expect_ok("down");  /* nothing was ever up */
	expect_ok("up");
	pid_t pids[MAX_PIDS];
	int n = read_pids(pids);
	expect_ok("down");
	int st;
	char *out = tool(&st, "down", NULL);
	cr_expect_eq(st, 0);
	cr_expect_not_null(strstr(out, "0 processes stopped"));
	free(out);
	expect_no_process(pids, n);
	out = tool(&st, "status", NULL);
	cr_expect_neq(st, 0, "status of a stopped testbed must fail");
	cr_expect_not_null(strstr(out, "DOWN (not running)"));
	free(out);
}

Test(testbed, unknown_scenario_and_usage)
{
	int st;
	char *out = tool(&st, "run", "nosuch", NULL);
	cr_expect_neq(st, 0);
	cr_expect_not_null(strstr(out, "nosuch"));
	free(out);
	out = tool(&st, "frobnicate", NULL);
	cr_expect_eq(st, 2);
	cr_expect_not_null(strstr(out, "usage:"));
	free(out);
	static const char *const commands[] = {"up", "down", "status", "run", "trace", "demo", "record"};
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		out = tool(&st, commands[i], "--help", NULL);
		cr_expect_eq(st, 0, "%s --help", commands[i]);
		cr_expect_not_null(strstr(out, "usage: testbed"), "%s --help", commands[i]);
		free(out);
	}
}

/* The CURVE key pair the tool uses, from the run directory. */
static void key(const char *id, const char *ext, char *out)
{
	char name[64];
	snprintf(name, sizeof name, "keys/%s.%s", id, ext);
	char *text = read_text(name);
	cr_assert_not_null(text);
	snprintf(out, 41, "%s", text);
	free(text);
}

/* Sends bytes to mno-a as "testbed" over a raw DEALER; returns the reason of its error reply. */
static m2m_reason send_garbage(const unsigned char *junk, size_t len)
{
	char pub[41], sec[41], server[41], endpoint[128];
	key("testbed", "pub", pub);
	key("testbed", "key", sec);
	key("mno-a", "pub", server);
	snprintf(endpoint, sizeof endpoint, "ipc://%s/mno-a.sock", rundir);
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0, wait_ms = 5000;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &wait_ms, sizeof wait_ms);
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 41);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 41);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 41);
	cr_assert_eq(zmq_connect(s, endpoint), 0);
	cr_assert_eq(zmq_send(s, junk, len, 0), (int)len);
	unsigned char reply[4096];
	int n = zmq_recv(s, reply, sizeof reply, 0);
	cr_assert_gt(n, 0, "no answer to the garbage");
	m2m_envelope env;
	cr_assert_eq(m2m_decode(reply, (size_t)n, &env), M2M_OK);
	cr_assert_eq(env.type, M2M_MSG_ERROR);
	m2m_reason r = (m2m_reason)ASN1_ENUMERATED_get(((M2M_ERROR_REPORT *)env.body)->reason);
	m2m_envelope_clear(&env);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return r;
}

Test(testbed, recorder_survives_an_undecodable_message)
{
	static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01};
	expect_ok("up");
	cr_expect_eq(send_garbage(junk, sizeof junk), M2M_R_TRUNCATED);
	usleep(500 * 1000);
	char *trace = read_text("trace.jsonl");
	cr_assert_not_null(trace);
	char *line = strstr(trace, "\"observer\": \"mno-a\", \"event\": \"rx\", \"type\": \"undecodable\"");
	cr_expect_not_null(line, "no undecodable rx line:\n%s", trace);
	if (line) {
		cr_expect_not_null(strstr(line, "\"reason\": \"truncated\""));
		cr_expect_not_null(strstr(line, "\"der\": \"30030201\""));
	}
	cr_expect_not_null(strstr(trace, "\"from\": \"mno-a\", \"to\": \"?\", \"type\": \"error\""));
	free(trace);
	/* the recorder is still there and still recording */
	int st;
	char *out = tool(&st, "run", "ping", NULL);
	cr_expect_eq(st, 0);
	free(out);
	trace = read_text("trace.jsonl");
	cr_expect_not_null(strstr(trace, "\"type\": \"pingPeersResponse\""));
	free(trace);
	char *chart = read_text("charts/ping.msc");
	cr_expect_not_null(chart);
	free(chart);
	expect_ok("down");
	expect_clean_logs();
}

/*
 * No key material outside keys/: every secret the run generated (each file of RUNDIR/keys except
 * the public *.pub ones: CURVE secret keys in Z85, and any hex key) is searched, as text, as raw
 * bytes and as hex in either case, in every other file of the run directory: logs, trace,
 * charts, configurations and databases with their WAL files.
 */
typedef struct secret {
	char name[64];
	uint8_t raw[64];
	size_t len;
	char text[130];
} secret;

static int load_secrets(secret *out, int max)
{
	char path[256];
	snprintf(path, sizeof path, "%s/keys", rundir);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' || (len > 4 && !strcmp(e->d_name + len - 4, ".pub")))
			continue;
		char rel[128];
		snprintf(rel, sizeof rel, "keys/%s", e->d_name);
		char *text = read_text(rel);
		secret *s = &out[n];
		snprintf(s->name, sizeof s->name, "%s", e->d_name);
		snprintf(s->text, sizeof s->text, "%.*s", (int)strcspn(text, "\r\n"), text);
		free(text);
		if (strlen(s->text) == 40 && zmq_z85_decode(s->raw, s->text))
			s->len = 32;
		else
			for (; s->len < sizeof s->raw && sscanf(s->text + 2 * s->len, "%2hhx", &s->raw[s->len]) == 1;)
				s->len++;
		cr_assert_geq(s->len, 16, "%s holds no key", rel);
		n++;
	}
	closedir(d);
	return n;
}

static void expect_absent(const char *file, const char *data, size_t len, const secret *s)
{
	char hex[129], upper[129];
	for (size_t i = 0; i < s->len; i++) {
		snprintf(hex + 2 * i, 3, "%02x", s->raw[i]);
		snprintf(upper + 2 * i, 3, "%02X", s->raw[i]);
	}
	cr_expect_null(memmem(data, len, s->text, strlen(s->text)), "%s holds %s as text", file, s->name);
	cr_expect_null(memmem(data, len, s->raw, s->len), "%s holds %s as bytes", file, s->name);
	cr_expect_null(memmem(data, len, hex, 2 * s->len), "%s holds %s in hex", file, s->name);
	cr_expect_null(memmem(data, len, upper, 2 * s->len), "%s holds %s in HEX", file, s->name);
}

static int scan_dir(const char *rel, const secret *secrets, int n)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", rundir, rel);
	DIR *d = opendir(path);
	int files = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		char child[256];
		struct stat st;
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "keys"))
			continue;
		snprintf(child, sizeof child, "%.100s%s%.100s", rel, rel[0] ? "/" : "", e->d_name);
		snprintf(path, sizeof path, "%.60s/%.190s", rundir, child);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			files += scan_dir(child, secrets, n);
		} else if (S_ISREG(st.st_mode)) {
			char *data = read_text(child);
			for (int i = 0; i < n; i++)
				expect_absent(child, data, (size_t)st.st_size, &secrets[i]);
			free(data);
			files++;
		}
	}
	if (d)
		closedir(d);
	return files;
}

Test(testbed, demo_leaves_no_key_material_in_logs_traces_or_databases)
{
	int st;
	char *out = tool(&st, "demo", NULL);
	cr_assert_eq(st, 0, "the demo failed");
	free(out);
	secret secrets[64];
	int n = load_secrets(secrets, 64);
	cr_assert_geq(n, 9, "a secret key per daemon and the tool's");
	int files = scan_dir("", secrets, n);
	cr_expect_geq(files, 30, "only %d files scanned", files);
}
