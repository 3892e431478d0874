/*
 * End-to-end tests of the testbed tool: real daemons in a private run directory under /tmp
 * (test_tool.h: the run directory, the tool, its files).
 */
#include "test_tool.h"
#include "wire/wire.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_PIDS 64

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

TestSuite(testbed, .init = tool_setup, .fini = tool_teardown, .timeout = 120);

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
	static const char *const ids[] = {"certauth", "drf", "mno-a", "mno-b", "mno-v", "mno-xf", "mno-xr", "m2me-1",
					  "tre-1", "uicc-1", "uicc-2", "m2me-2", "uicc-1c", "tre-2", "testbed"};
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
	cr_expect_eq(n, 22, "21 daemons and the recorder, not %d", n);
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
	static const char *const commands[] = {"up", "down", "status", "run", "trace", "demo", "record",
					       "bench-attach", "bench-validate", "crash"};
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

/* ---- Alternative 2 scenarios -------------------------------------------------------------- */

static const char *const scenario_names[] = {"ping",          "2",
					     "2-swap",        "attack-imei-lock",
					     "attack-clone",  "attack-replay",
					     "attack-false-network", "attack-apn",
					     "validate",      "1a",
					     "1a-change",     "1a-recover",
					     "3a",            "3a-recover",
					     "3b",            "3b-recover",
					     NULL};

/* Runs a scenario that must pass on the running testbed; its output, which the caller frees. */
static char *run_passing(const char *name)
{
	int st;
	char *out = tool(&st, "run", name, NULL);
	char want[64];
	snprintf(want, sizeof want, "scenario %s: passed", name);
	cr_expect_eq(st, 0, "scenario %s exited with %d", name, st);
	cr_expect_not_null(strstr(out, want), "no \"%s\"", want);
	cr_expect_not_null(strstr(out, "outcome: "), "%s states no outcome", name);
	return out;
}

static char *chart_of(const char *name)
{
	char rel[64];
	snprintf(rel, sizeof rel, "charts/%s.msc", name);
	char *chart = read_text(rel);
	cr_assert_not_null(chart, "no chart %s", rel);
	return chart;
}

/* The chart's arcs from -> to whose label begins with label, from text on (a part of a chart). */
static int arcs(const char *text, const char *from, const char *to, const char *label)
{
	char head[64], tail[128];
	snprintf(head, sizeof head, "  \"%s\" ", from);
	snprintf(tail, sizeof tail, " \"%s\" [label = \"%s", to, label);
	int n = 0;
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		n += !strncmp(copy, head, strlen(head)) && strstr(copy, tail);
		free(copy);
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* Every line of the trace of type (e.g. protectedData) is free of needle. */
static void expect_not_in_lines(const char *trace, const char *type, const char *needle)
{
	char want[64];
	snprintf(want, sizeof want, "\"type\": \"%s\"", type);
	int lines = 0;
	for (const char *line = trace; line && *line;) {
		const char *end = strchr(line, '\n');
		char *copy = strndup(line, end ? (size_t)(end - line) : strlen(line));
		if (strstr(copy, want)) {
			lines++;
			cr_expect_null(strstr(copy, needle), "a %s line holds %s: %s", type, needle, copy);
		}
		free(copy);
		line = end ? end + 1 : NULL;
	}
	cr_expect_gt(lines, 0, "no %s in the trace", type);
}

static void hex_of(const char *text, char *out)
{
	for (size_t i = 0; text[i]; i++)
		sprintf(out + 2 * i, "%02x", (unsigned char)text[i]);
}

/* m2m-manufacture as the equipment supplier runs it against the running ICF, as the client
 * "testbed" (a supplier the drf knows); its output and exit status. */
static char *manufacture(int *status, const char *args)
{
	char cmd[1024];
	const char *bin = getenv("M2M_BIN_DIR");
	cr_assert_not_null(bin, "M2M_BIN_DIR is not set (meson test sets it)");
	snprintf(cmd, sizeof cmd, "%s/tre/manufacture/m2m-manufacture -c %s/testbed.conf --out %s/factory %s 2>&1", bin,
		 rundir, rundir, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t len = 0;
	char *out = calloc(1, 65536);
	for (size_t n; (n = fread(out + len, 1, 65535 - len, p)) > 0;)
		len += n;
	int st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	printf("$ m2m-manufacture %s -> %d\n%s", args, *status, out);
	return out;
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(testbed, manufacture_gives_a_fleet_pcids_from_the_pool_all_or_nothing, .timeout = 180)
{
	expect_ok("up");
	char path[128];
	snprintf(path, sizeof path, "%s/factory", rundir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/fleet.txt", rundir);
	FILE *f = fopen(path, "w");
	cr_assert(f && fputs("meter-1\nmeter-2  # comment\n\nmeter-3\n", f) >= 0 && !fclose(f));
	char args[256];
	snprintf(args, sizeof args, "--icf drf --batch %s", path);
	int st;
	char *out = manufacture(&st, args);
	cr_assert_eq(st, 0);
	cr_expect_eq(count_lines_with(out, ": PCID 00109"), 3, "one PCID each, from the drf's range");
	free(out);
	for (int i = 1; i <= 3; i++) {
		char rel[64];
		struct stat sb;
		snprintf(rel, sizeof rel, "factory/meter-%d.pcid", i);
		snprintf(path, sizeof path, "%s/%s", rundir, rel);
		cr_assert_eq(stat(path, &sb), 0, "%s", rel);
		cr_expect_eq(sb.st_mode & 0777, 0600, "%s is readable by its owner only", rel);
		char *text = read_text(rel);
		cr_expect(strstr(text, "pcid = 00109") && strstr(text, "\nk = ") && strstr(text, "\nopc = ") &&
			  strstr(text, "\nvalid_until = "), "%s: the TRE's file format", rel);
		free(text);
	}
	/* the same TRE asks again: the same PCID (the ICF's assignment is idempotent) */
	char *first = read_text("factory/meter-1.pcid");
	out = manufacture(&st, "--icf drf meter-1");
	cr_expect_eq(st, 0);
	free(out);
	char *again = read_text("factory/meter-1.pcid");
	cr_expect_str_eq(again, first);
	free(first);
	free(again);
	/* 64 PCIDs, 6 assigned: a fleet of 59 exhausts the pool, and nothing at all is written */
	char many[2048] = "--icf drf";
	for (int i = 0; i < 59; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), " big-%d", i);
	out = manufacture(&st, many);
	cr_expect_eq(st, 1);
	cr_expect_not_null(strstr(out, "poolExhausted"), "the ICF's reason is shown");
	free(out);
	snprintf(path, sizeof path, "%s/factory/big-0.pcid", rundir);
	cr_expect_neq(access(path, F_OK), 0, "nothing written for a refused fleet");
	out = manufacture(&st, "--icf nosuch tre-9");
	cr_expect_eq(st, 2, "an ICF that is not a peer is a configuration error");
	free(out);
	out = manufacture(&st, "meter-1");
	cr_expect_eq(st, 2, "--icf is required");
	free(out);
}

Test(testbed, alt1a_pcid_walled_garden_then_mcim_in_the_tre, .timeout = 180)
{
	expect_ok("up");
	char *out = run_passing("1a");
	cr_expect_not_null(strstr(out, "user data on the PCID session is refused"));
	cr_expect_not_null(strstr(out, "the echo, decrypted by m2me-3, equals what it sent"));
	free(out);
	char *chart = chart_of("1a");
	cr_expect_geq(arcs(chart, "m2me-3", "mno-v", "relayRequest"), 3, "discovery, order and install result relayed");
	cr_expect_eq(arcs(chart, "mno-v", "drf", "discoveryRequest"), 1);
	cr_expect_eq(arcs(chart, "mno-a", "certauth", "validationRequest"), 1, "the DPF has the TRE validated");
	cr_expect_eq(arcs(chart, "mno-a", "drf", "provisioned"), 1, "the ICF is told to release the PCID");
	free(chart);
	/* the MCIM's IMSI (mno-a's dpf range 0010100001...) is inside the package, never in clear on a link */
	char *trace = read_text("trace.jsonl"), imsi_hex[64];
	hex_of("0010100001", imsi_hex);
	expect_not_in_lines(trace, "mcimPackage", imsi_hex);
	expect_not_in_lines(trace, "relayResponse", imsi_hex);
	free(trace);
}

Test(testbed, alt1a_change_of_subscription_make_before_break, .timeout = 240)
{
	expect_ok("up");
	free(run_passing("1a"));
	char *out = run_passing("1a-change");
	cr_expect_not_null(strstr(out, "refused: notAuthorised"), "a forged authorisation is refused");
	cr_expect_not_null(strstr(out, "refused: contractLocked"), "A's lock is honoured");
	free(out);
	char *chart = chart_of("1a-change");
	cr_expect_eq(arcs(chart, "drf", "mno-a", "changeNotify"), 2, "A is asked twice: once locked, once free");
	cr_expect_eq(arcs(chart, "mno-b", "certauth", "validationRequest"), 1, "B has the TRE validated afresh");
	cr_expect_eq(arcs(chart, "mno-v", "drf", "changeComplete"), 1);
	cr_expect_geq(arcs(chart, "mno-a", "tre-3", "mcimCommand"), 2, "reprovision, then delete");
	free(chart);
}

Test(testbed, alt2_attach_sends_protected_data_and_detaches)
{
	expect_ok("up");
	char *out = run_passing("2");
	cr_expect_not_null(strstr(out, "the echo, decrypted by m2me-1, equals what it sent"));
	free(out);
	char *chart = chart_of("2");
	static const char *const flow[][3] = {
		{"m2me-1", "mno-v", "attachRequest"},    {"mno-v", "mno-a", "authInfoRequest"},
		{"mno-a", "mno-v", "authInfoResponse"},  {"mno-v", "m2me-1", "authChallenge"},
		{"m2me-1", "uicc-1", "apduCommand apdu=0088"}, {"uicc-1", "m2me-1", "apduResponse data=000000000000"},
		{"m2me-1", "mno-v", "authResponse"},     {"mno-v", "mno-a", "updateLocation "},
		{"mno-a", "mno-v", "updateLocationAck"}, {"mno-v", "m2me-1", "attachAccept"},
		{"m2me-1", "mno-v", "protectedData "},   {"mno-v", "m2me-1", "protectedDataEcho"},
		{"m2me-1", "mno-v", "detachRequest"},    {"mno-v", "mno-a", "purge "},
	};
	for (size_t i = 0; i < sizeof flow / sizeof flow[0]; i++)
		cr_expect_eq(arcs(chart, flow[i][0], flow[i][1], flow[i][2]), 1, "%s -> %s %s is not drawn once", flow[i][0],
			     flow[i][1], flow[i][2]);
	free(chart);
	/* the user data crossed the network sealed: its plaintext is in no protectedData message */
	char *trace = read_text("trace.jsonl"), hex[128];
	hex_of("meter 0042", hex);
	expect_not_in_lines(trace, "protectedData", hex);
	expect_not_in_lines(trace, "protectedData", "meter 0042");
	free(trace);
	expect_ok("down");
	expect_clean_logs();
}

/* The scenarios are independent: each puts the devices, cards and subscribers it needs into a
 * known state first, so the order here (the reverse of the demo's) must not matter. */
Test(testbed, alt2_swap_then_attach_again_in_any_order, .timeout = 180)
{
	expect_ok("up");
	char *out = run_passing("2-swap");
	cr_expect_not_null(strstr(out, "(refused: subscriberSuspended, as expected)"));
	cr_expect_not_null(strstr(out, "mno-admin suspend 001010000000001"));
	free(out);
	char *chart = chart_of("2-swap");
	cr_expect_geq(arcs(chart, "mno-v", "mno-b", "authInfoRequest"), 1, "B never asked for vectors");
	cr_expect_geq(arcs(chart, "mno-v", "mno-b", "updateLocation "), 1, "B never learnt the location");
	cr_expect_eq(arcs(chart, "mno-a", "mno-v", "error: subscriberSuspended"), 1);
	free(chart);
	free(run_passing("2"));  /* IMSI A was resumed: the base scenario still passes */
	free(run_passing("2-swap"));
	expect_ok("down");
	expect_clean_logs();
}

Test(testbed, attack_imei_lock_refuses_card_a_in_another_device)
{
	expect_ok("up");
	char *out = run_passing("attack-imei-lock");
	cr_expect_not_null(strstr(out, "(refused: imeiNotAllowed, as expected)"));
	free(out);
	char *chart = chart_of("attack-imei-lock");
	cr_expect_eq(arcs(chart, "mno-v", "m2me-2", "attachAccept"), 0);
	cr_expect_eq(arcs(chart, "mno-v", "m2me-2", "error: imeiNotAllowed"), 1);
	cr_expect_eq(arcs(chart, "mno-v", "mno-a", "purge "), 1);
	free(chart);
	expect_ok("down");
	expect_clean_logs();
}

Test(testbed, attack_clone_suspends_the_subscriber_and_is_undone)
{
	expect_ok("up");
	char *out = run_passing("attack-clone");
	cr_expect_not_null(strstr(out, "(refused: subscriberSuspended, as expected)"));
	free(out);
	char *chart = chart_of("attack-clone");
	cr_expect_eq(arcs(chart, "mno-v", "m2me-2", "attachAccept"), 0, "the clone was accepted");
	cr_expect_eq(arcs(chart, "mno-a", "mno-v", "cancelLocation"), 1);
	free(chart);
	free(run_passing("2"));  /* resumed: the genuine card works again */
	expect_ok("down");
	expect_clean_logs();
}

Test(testbed, attack_replay_gets_a_sync_failure_and_no_keys)
{
	expect_ok("up");
	char *out = run_passing("attack-replay");
	cr_expect_not_null(strstr(out, "(refused: synchFailure, as expected)"));
	free(out);
	char *chart = chart_of("attack-replay");
	/* one honest relay, then nothing accepted once the device reported the sync failure */
	cr_expect_eq(arcs(chart, "mno-xr", "m2me-1", "attachAccept"), 1);
	const char *failure = strstr(chart, "\"m2me-1\" -> \"mno-xr\" [label = \"authFailure");
	cr_assert_not_null(failure, "no authFailure");
	cr_expect_eq(arcs(failure, "mno-xr", "m2me-1", "attachAccept"), 0);
	free(chart);
	expect_ok("down");
	expect_clean_logs();
}

Test(testbed, attack_false_network_meets_a_mac_failure)
{
	expect_ok("up");
	char *out = run_passing("attack-false-network");
	cr_expect_not_null(strstr(out, "(refused: macFailure, as expected)"));
	free(out);
	char *chart = chart_of("attack-false-network");
	cr_expect_eq(arcs(chart, "mno-xf", "m2me-1", "attachAccept"), 0);
	cr_expect_eq(arcs(chart, "m2me-1", "mno-xf", "authFailure"), 1);
	free(chart);
	char *trace = read_text("trace.jsonl");
	cr_expect_not_null(strstr(trace, "statusWord=39010"), "the card never answered 98 62");
	free(trace);
	expect_ok("down");
	expect_clean_logs();
}

Test(testbed, attack_apn_is_refused_outside_the_subscription)
{
	expect_ok("up");
	char *out = run_passing("attack-apn");
	cr_expect_not_null(strstr(out, "(refused: apnNotAllowed, as expected)"));
	free(out);
	char *chart = chart_of("attack-apn");
	cr_expect_eq(arcs(chart, "mno-v", "m2me-1", "error: apnNotAllowed"), 1);
	cr_expect_eq(arcs(chart, "mno-v", "m2me-1", "attachAccept"), 1, "only the subscribed APN is accepted");
	free(chart);
	expect_ok("down");
	expect_clean_logs();
}

/* ---- platform validation ---------------------------------------------------------------- */

/* The chart draws every arc of a validation of tre. */
static void expect_validation_arcs(const char *text, const char *tre)
{
	static const char *const flow[][3] = {
		{"testbed", "certauth", "validationRequest"}, {"certauth", "TRE", "attestationChallenge"},
		{"TRE", "certauth", "attestationEvidence"},   {"certauth", "testbed", "validationResponse"},
	};
	for (size_t i = 0; i < sizeof flow / sizeof flow[0]; i++) {
		const char *from = strcmp(flow[i][0], "TRE") ? flow[i][0] : tre, *to = strcmp(flow[i][1], "TRE") ? flow[i][1] : tre;
		cr_expect_geq(arcs(text, from, to, flow[i][2]), 1, "no %s %s -> %s in the chart", flow[i][2], from, to);
	}
}

Test(testbed, validate_passes_the_genuine_tre_and_fails_the_tampered_one, .timeout = 180)
{
	expect_ok("up");
	char *out = run_passing("validate");
	for (int mode = 0; mode < 3; mode++) {
		static const char *const modes[] = {"autonomous", "semiAutonomous", "remote"};
		char want[128];
		snprintf(want, sizeof want, "validationRequest {tre-1, %s, minAssurance 3} ... (signed verdict: ok) ok", modes[mode]);
		cr_expect_not_null(strstr(out, want), "no \"%s\"", want);
		snprintf(want, sizeof want, "validationRequest {tre-2, %s, minAssurance 3} ... (signed verdict: fail (", modes[mode]);
		cr_expect_not_null(strstr(out, want), "no \"%s\"", want);
	}
	cr_expect_not_null(strstr(out, "minAssurance 5} ... (signed verdict: fail (assuranceTooLow)) ok"));
	cr_expect_not_null(strstr(out, "componentModified"));
	cr_expect_not_null(strstr(out, "(signed verdict: fail (tamperDetected)) ok"));
	free(out);
	char *chart = chart_of("validate");
	expect_validation_arcs(chart, "tre-1");
	expect_validation_arcs(chart, "tre-2");
	/* two reports (componentModified, caseOpened), each acknowledged */
	cr_expect_eq(arcs(chart, "tre-2", "certauth", "tamperReport"), 2);
	cr_expect_eq(arcs(chart, "certauth", "tre-2", "tamperAck"), 2);
	cr_expect_eq(arcs(chart, "tre-1", "certauth", "tamperReport"), 0, "the genuine TRE reported tampering");
	free(chart);
	/* again on the tampered tre-2: the opened case is a latch and makes no new report */
	out = run_passing("validate");
	cr_expect_not_null(strstr(out, "note: tre-2's case was opened by an earlier run"));
	free(out);
	chart = chart_of("validate");
	cr_expect_eq(arcs(chart, "tre-2", "certauth", "tamperReport"), 1, "only the component is reported anew");
	free(chart);
	expect_ok("down");
	expect_clean_logs();
}

Test(testbed, bench_validate_prints_rates_per_mode_and_for_ecdsa)
{
	expect_ok("up");
	int st;
	char *out = tool(&st, "bench-validate", "0.5", NULL);
	cr_expect_eq(st, 0);
	static const char *const lines[] = {"\nautonomous ", "\nsemiAutonomous ", "\nremote ", "\nfailed_validations 0\n",
					    "\necdsa_sign_per_second ", "\necdsa_verify_per_second "};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		const char *at = strstr(out, lines[i]);
		cr_expect_not_null(at, "no %s line", lines[i] + 1);
		if (at && strchr(lines[i] + 1, ' ')[1] == 0)
			cr_expect_gt(atof(strchr(at + 1, ' ') + 1), 0, "%s is not a positive rate", lines[i] + 1);
	}
	free(out);
	expect_ok("down");
	expect_clean_logs();
}

/* Stops a daemon of the run directory (the test, a subreaper, reaps it) and starts it again the
 * way `up` does, with a fresh database: a new TRE of the same identity. */
static void restart_fresh(const char *id, const char *role)
{
	char name[64], path[256], conf[128], bin[256], log[128];
	snprintf(name, sizeof name, "%s.pid", id);
	char *text = read_text(name);
	cr_assert_not_null(text);
	pid_t old = (pid_t)atol(text);
	free(text);
	cr_assert_eq(kill(old, SIGTERM), 0);
	cr_assert_eq(waitpid(old, NULL, 0), old);
	static const char *const state[] = {".db", ".db-wal", ".db-shm"};
	for (size_t i = 0; i < sizeof state / sizeof state[0]; i++) {
		snprintf(path, sizeof path, "%s/%s%s", rundir, id, state[i]);
		unlink(path);
	}
	snprintf(bin, sizeof bin, "%s/%s/%s", getenv("M2M_BIN_DIR"), role, role);
	snprintf(conf, sizeof conf, "%s/%s.conf", rundir, id);
	snprintf(log, sizeof log, "%s/%s.log", rundir, id);
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int fd = open(log, O_WRONLY | O_APPEND);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(bin, bin, "-c", conf, (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof path, "%s/%s.pid", rundir, id);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%ld\n", (long)pid);
	fclose(f);
}

/* The trace holds a message of type from -> to within a few seconds; the trace then. */
static char *wait_in_trace(const char *from, const char *to, const char *type)
{
	char want[200];
	snprintf(want, sizeof want, "\"from\": \"%s\", \"to\": \"%s\", \"type\": \"%s\"", from, to, type);
	for (int waited = 0; waited < 10000; waited += 100) {
		char *trace = read_text("trace.jsonl");
		if (trace && strstr(trace, want))
			return trace;
		free(trace);
		usleep(100 * 1000);
	}
	cr_assert_fail("no %s in the trace", want);
	return NULL;
}

/* `up` starts the recorder after the daemons, so the TREs' first enrolment usually goes
 * unrecorded: a TRE enrolling afresh while the recorder runs shows whether its secret travels. */
Test(testbed, the_enrolment_secret_is_not_in_the_trace)
{
	expect_ok("up");
	restart_fresh("tre-2", "tre");
	char *trace = wait_in_trace("tre-2", "certauth", "enrolRequest");
	char *secret = read_text("keys/tre-2.enrol"), upper[80];
	cr_assert_not_null(secret);
	for (size_t i = 0; secret[i] && i < sizeof upper - 1; i++)
		upper[i] = (char)toupper((unsigned char)secret[i]), upper[i + 1] = 0;
	expect_not_in_lines(trace, "enrolRequest", secret);
	expect_not_in_lines(trace, "enrolRequest", upper);
	free(secret);
	free(trace);
	expect_ok("down");
	expect_clean_logs();
}

/* ---- provisioning and the cards section (no daemon needs to run) ---------------------------- */

/* A topology file in the run directory holding text. */
static void write_topology(char *path, size_t len, const char *text)
{
	snprintf(path, len, "%s/topology-test.conf", rundir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(testbed, card_mistakes_are_named_before_anything_starts)
{
	static const char *const head =
		"entities = ( { id = \"mno-a\"; role = \"mno\"; settings = { mode = \"home\"; plmn = \"00101\"; }; },\n"
		"             { id = \"mno-v\"; role = \"mno\"; settings = { mode = \"visited\"; }; },\n"
		"             { id = \"uicc-1\"; role = \"uicc\"; }, { id = \"uicc-2\"; role = \"uicc\"; } );\n";
	static const struct {
		const char *cards, *message;
	} cases[] = {
		{"{ id = \"uicc-1\"; operator = \"mno-v\"; iccid = \"8900101000000000019\"; imsi = \"001010000000001\"; }",
		 "cards.[0].operator: \"mno-v\" is not a home operator"},
		{"{ id = \"uicc-1\"; operator = \"mno-a\"; iccid = \"8900101000000000019\"; imsi = \"001020000000001\"; }",
		 "does not begin with the PLMN 00101 of mno-a"},
		{"{ id = \"uicc-1\"; operator = \"mno-a\"; iccid = \"89001\"; imsi = \"001010000000001\"; }",
		 "cards.[0].iccid: iccid must be 18 to 20 digits"},
		{"{ id = \"uicc-2\"; clone_of = \"uicc-1\"; }", "cards.[0].clone_of: \"uicc-1\" is not a personalised card"},
		{"{ id = \"mno-a\"; clone_of = \"uicc-1\"; }", "cards.[0].id: \"mno-a\" is not a uicc entity"},
		{"{ id = \"uicc-1\"; operator = \"mno-a\"; iccid = \"8900101000000000019\"; imsi = \"001010000000001\"; k = \"00\"; }",
		 "cards.[0].k: unknown setting"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[1024], topo[128];
		snprintf(text, sizeof text, "%scards = ( %s );\n", head, cases[i].cards);
		write_topology(topo, sizeof topo, text);
		int st;
		char *out = tool(&st, "-t", topo, "up", NULL);
		cr_expect_eq(st, 1, "case %zu", i);
		cr_expect_not_null(strstr(out, cases[i].message), "case %zu: no \"%s\"", i, cases[i].message);
		cr_expect_null(strstr(out, "started"), "case %zu started something", i);
		free(out);
	}
	char topo[128];
	write_topology(topo, sizeof topo,
		       "entities = ( { id = \"uicc-1\"; role = \"uicc\"; settings = { image = \"/tmp/x.card\"; }; } );\n");
	int st;
	char *out = tool(&st, "-t", topo, "up", NULL);
	cr_expect_eq(st, 1);
	cr_expect_not_null(strstr(out, "image is generated by `testbed up`"));
	free(out);
}

Test(testbed, tre_mistakes_are_named_before_anything_starts)
{
	static const char *const agency = "{ id = \"certauth\"; role = \"certauth\"; }";
	static const char *const platform = "model = \"acme-m2m-tre\"; version = \"1.0\"; assurance_level = 4;";
	static const struct {
		const char *settings, *links, *message;
	} cases[] = {
		{"", "[ \"tre-1\", \"certauth\" ]", "tre tre-1 needs settings { model"},
		{"model = \"acme-m2m-tre\"; version = \"1.0\";", "[ \"tre-1\", \"certauth\" ]", "assurance_level = 1..7"},
		{"", "", "tre tre-1 is linked to no certauth entity"},
		{"root_certificate = \"/tmp/root.pem\";", "[ \"tre-1\", \"certauth\" ]",
		 "root_certificate is generated by `testbed up`"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[1024], topo[128];
		snprintf(text, sizeof text,
			 "entities = ( %s, { id = \"tre-1\"; role = \"tre\"; settings = { %s %s }; } );\nlinks = ( %s );\n", agency,
			 i == 2 || i == 3 ? platform : "", cases[i].settings, cases[i].links);
		write_topology(topo, sizeof topo, text);
		int st;
		char *out = tool(&st, "-t", topo, "up", NULL);
		cr_expect_eq(st, 1, "case %zu", i);
		cr_expect_not_null(strstr(out, cases[i].message), "case %zu: no \"%s\"", i, cases[i].message);
		cr_expect_null(strstr(out, "started"), "case %zu started something", i);
		free(out);
	}
}

/* A build directory whose daemons are placeholders and whose mno-admin refuses: `up` must stop
 * at the personalisation, say why with the tool's own words, and start nothing. */
Test(testbed, a_failing_personalisation_fails_up_with_the_tools_message)
{
	static const char *const roles[] = {"mno", "uicc"};
	char bin[80], path[512];
	snprintf(bin, sizeof bin, "%.60s/bin", rundir);
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		snprintf(path, sizeof path, "mkdir -p %s/%s && printf '#!/bin/sh\\nexit 3\\n' > %s/%s/%s && chmod +x %s/%s/%s",
			 bin, roles[i], bin, roles[i], roles[i], bin, roles[i], roles[i]);
		cr_assert_eq(system(path), 0);
	}
	snprintf(path, sizeof path,
		 "mkdir -p %s/mno/hss && printf '#!/bin/sh\\necho \"mno-admin: no database here\" >&2\\nexit 1\\n' > "
		 "%s/mno/hss/mno-admin && chmod +x %s/mno/hss/mno-admin",
		 bin, bin, bin);
	cr_assert_eq(system(path), 0);
	char topo[128];
	write_topology(topo, sizeof topo,
		       "entities = ( { id = \"mno-a\"; role = \"mno\"; settings = { mode = \"home\"; plmn = \"00101\"; }; },\n"
		       "             { id = \"uicc-1\"; role = \"uicc\"; } );\n"
		       "cards = ( { id = \"uicc-1\"; operator = \"mno-a\"; iccid = \"8900101000000000019\";\n"
		       "            imsi = \"001010000000001\"; } );\n");
	char *saved = getenv("M2M_BIN_DIR") ? strdup(getenv("M2M_BIN_DIR")) : NULL;
	setenv("M2M_BIN_DIR", bin, 1);
	int st;
	char *out = tool(&st, "-t", topo, "up", NULL);
	if (saved)
		setenv("M2M_BIN_DIR", saved, 1);
	else
		unsetenv("M2M_BIN_DIR");
	free(saved);
	cr_expect_eq(st, 1);
	cr_expect_not_null(strstr(out, "mno-a could not personalise uicc-1 (IMSI 001010000000001): mno-admin exited with status 1"));
	cr_expect_not_null(strstr(out, "mno-admin: no database here"), "the tool's own message is missing");
	cr_expect_not_null(strstr(out, "no daemon was started"));
	cr_expect_null(strstr(out, "started "));
	free(out);
	pid_t pids[MAX_PIDS];
	cr_expect_eq(read_pids(pids), 0, "pid files are left");
}

/*
 * No key material outside keys/: every secret the run generated is searched, as text, as raw
 * bytes and as hex in either case, in every other file of the run directory: logs, trace,
 * charts, configurations and databases with their WAL files. The secrets are each file of
 * RUNDIR/keys except the public *.pub ones: CURVE secret keys (Z85), storage keys (64 hex), the
 * TREs' enrolment secrets (*.enrol, 64 hex), the subscriber's key, and the card images
 * (libconfig), whose k, opc, adm and OTA keys (ota_kic, ota_kid, ota_dek) each count (their iccid
 * and imsi do not: identities are meant to travel). keys/ID.conf, the agency's settings group that
 * lists the enrolment secrets, holds no secret of its own, nor does the subscriber's certificate.
 * The demo runs 3a, whose port carries uicc-4's K, OPc and OTA keys from A to B: only inside a
 * package encrypted to B, never in clear in the trace.
 */
typedef struct secret {
	char name[200];
	uint8_t raw[64];
	size_t len;
	char text[130];
} secret;

/* A secret from its text: Z85 for a CURVE key, else hex. */
static void decode_secret(secret *s, const char *name, const char *text, size_t min_len)
{
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->text, sizeof s->text, "%.*s", (int)strcspn(text, "\r\n"), text);
	s->len = 0;
	if (strlen(s->text) == 40 && zmq_z85_decode(s->raw, s->text))
		s->len = 32;
	else
		for (; s->len < sizeof s->raw && sscanf(s->text + 2 * s->len, "%2hhx", &s->raw[s->len]) == 1;)
			s->len++;
	cr_assert_geq(s->len, min_len, "%s holds no key", name);
}

/* The key material of a card image: card = { ...; k = "HEX"; opc = "HEX"; adm = "HEX"; }. */
static int load_card_secrets(const char *rel, secret *out, int max)
{
	static const struct {
		const char *member;
		size_t len;
	} fields[] = {{"k", 16}, {"opc", 16}, {"adm", 8}, {"ota_kic", 16}, {"ota_kid", 16}, {"ota_dek", 16}};
	char path[256];
	config_t cfg;
	config_init(&cfg);
	snprintf(path, sizeof path, "%.60s/%.150s", rundir, rel);
	cr_assert(config_read_file(&cfg, path), "%s: %s", rel, config_error_text(&cfg));
	int n = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0] && n < max; i++) {
		char lookup[32], name[200];
		const char *hex = NULL;
		snprintf(lookup, sizeof lookup, "card.%s", fields[i].member);
		cr_assert(config_lookup_string(&cfg, lookup, &hex), "%s has no %s", rel, lookup);
		snprintf(name, sizeof name, "%.150s %s", rel, fields[i].member);
		decode_secret(&out[n++], name, hex, fields[i].len);
		cr_assert_eq(out[n - 1].len, fields[i].len, "%s is not %zu bytes", name, fields[i].len);
	}
	config_destroy(&cfg);
	return n;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n > k && !strcmp(s + n - k, suffix);
}

static int load_secrets(secret *out, int max)
{
	char path[256];
	snprintf(path, sizeof path, "%s/keys", rundir);
	DIR *d = opendir(path);
	cr_assert_not_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < max;) {
		/* public: CURVE public keys, settings, the subscriber's certificate */
		if (e->d_name[0] == '.' || ends_with(e->d_name, ".pub") || ends_with(e->d_name, ".conf") ||
		    ends_with(e->d_name, ".crt"))
			continue;
		char rel[128];
		snprintf(rel, sizeof rel, "keys/%.100s", e->d_name);
		if (ends_with(e->d_name, ".card")) {
			n += load_card_secrets(rel, out + n, max - n);
			continue;
		}
		char *text = read_text(rel);
		decode_secret(&out[n++], e->d_name, text, 16);
		if (ends_with(e->d_name, ".storage") || ends_with(e->d_name, ".enrol"))
			cr_assert(strlen(text) == 64 && out[n - 1].len == 32, "%s is not 64 hex digits", rel);
		free(text);
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

Test(testbed, demo_leaves_no_key_material_in_logs_traces_or_databases, .timeout = 300)
{
	int st;
	char *out = tool(&st, "demo", NULL);
	cr_assert_eq(st, 0, "the demo failed");
	for (const char *const *name = scenario_names; *name; name++) {
		char passed[64];
		snprintf(passed, sizeof passed, "scenario %s: passed", *name);
		cr_expect_not_null(strstr(out, passed), "the demo did not run %s", *name);
	}
	free(out);
	secret secrets[128];
	int n = load_secrets(secrets, 128);
	/* 22 CURVE keys (21 daemons, the tool), 21 storage keys (5 mno, 5 uicc, 5 m2me, 4 tre,
	 * certauth, drf), 8 enrolment secrets (4 TREs, drf, 2 DPFs, the card of 3b), 5 images of 6
	 * secrets, the subscriber's key */
	cr_assert_geq(n, 22 + 21 + 8 + 30 + 1, "only %d secrets", n);
	int cards = 0, storage = 0, enrol = 0, subscriber = 0;
	for (int i = 0; i < n; i++) {
		cards += strstr(secrets[i].name, ".card ") != NULL;
		storage += ends_with(secrets[i].name, ".storage");
		enrol += ends_with(secrets[i].name, ".enrol");
		subscriber += !strcmp(secrets[i].name, "subscriber.key");
	}
	cr_expect_eq(cards, 30, "k, opc, adm, ota_kic, ota_kid and ota_dek of 5 card images, not %d", cards);
	cr_expect_eq(storage, 21, "storage keys of 5 mno, 5 uicc, 5 m2me, 4 tre, certauth and drf, not %d", storage);
	cr_expect_eq(subscriber, 1, "the subscriber's key is scanned for");
	cr_expect_eq(enrol, 8, "enrolment secrets of tre-1, tre-2, tre-3, tre-5, drf, mno-a, mno-b and uicc-5, not %d",
		     enrol);
	int files = scan_dir("", secrets, n);
	cr_expect_geq(files, 30, "only %d files scanned", files);
}

/* ---- Alternative 3a ------------------------------------------------------------------------ */

/* The secrets of one card image are nowhere in the trace, as text, bytes or hex. */
static void expect_card_not_in_trace(const char *card)
{
	char rel[64];
	secret secrets[8];
	snprintf(rel, sizeof rel, "keys/%s.card", card);
	int n = load_card_secrets(rel, secrets, 8);
	char *trace = read_text("trace.jsonl");
	cr_assert_not_null(trace);
	for (int i = 0; i < n; i++)
		expect_absent("trace.jsonl", trace, strlen(trace), &secrets[i]);
	free(trace);
}

Test(testbed, alt3a_port_rewrites_the_imsi_over_the_air_and_b_rotates_the_keys, .timeout = 240)
{
	expect_ok("up");
	char *out = run_passing("3a");
	cr_expect(strstr(out, "notAuthorised") || strstr(out, "badSignature"), "a forged authorisation is refused");
	cr_expect_not_null(strstr(out, "contractLocked"), "A's lock is honoured");
	cr_expect_not_null(strstr(out, "PoR status RC/CC/DS failed"), "the keys A knew are refused after the rotation");
	free(out);
	char *chart = chart_of("3a");
	cr_expect_eq(arcs(chart, "mno-b", "mno-a", "portRequest"), 3, "forged, locked, then the port");
	cr_expect_eq(arcs(chart, "mno-a", "mno-b", "portTransfer "), 1, "one transfer, after the accepted request");
	cr_expect_geq(arcs(chart, "mno-a", "mno-v", "smsDeliver"), 1, "A's rewrite of EF_IMSI");
	cr_expect_geq(arcs(chart, "mno-b", "mno-v", "smsDeliver"), 3, "B's rotation and the two probes");
	cr_expect_eq(arcs(chart, "mno-v", "mno-b", "authInfoRequest imsi=00102"), 1, "the first attach with B");
	cr_expect_eq(arcs(chart, "mno-b", "mno-a", "portComplete "), 1);
	free(chart);
	expect_card_not_in_trace("uicc-4");
	/* taken as 3a left it, the device is found on B */
	int st;
	out = tool(&st, "run", "3a-recover", NULL);
	cr_expect_eq(st, 0);
	cr_expect_not_null(strstr(out, "(on B: IMSI 00102"), "3a-recover finds the device on B");
	free(out);
}

Test(testbed, alt3b_b_recredentials_the_card_through_the_tre, .timeout = 240)
{
	expect_ok("up");
	char *out = run_passing("3b");
	cr_expect(strstr(out, "notAuthorised") || strstr(out, "badSignature"), "a forged authorisation is refused");
	cr_expect_not_null(strstr(out, "contractLocked"), "A's lock is honoured");
	free(out);
	char *chart = chart_of("3b");
	cr_expect_geq(arcs(chart, "drf", "mno-a", "treTrigger"), 1, "the DRF's trigger goes through A");
	cr_expect_eq(arcs(chart, "drf", "mno-b", "uiccCredentialOrder"), 1, "one order to B");
	cr_expect_geq(arcs(chart, "mno-b", "certauth", "validationRequest tre=tre-5"), 1, "B validates the TRE afresh");
	cr_expect_eq(arcs(chart, "mno-v", "mno-b", "authInfoRequest imsi=00102"), 1, "the first attach with B");
	cr_expect_eq(arcs(chart, "testbed", "mno-b", "authInfoRequest imsi=00102"), 1, "the challenge the old K fails");
	cr_expect_eq(arcs(chart, "drf", "mno-a", "uiccRelease "), 1, "A deactivates only after the switch");
	free(chart);
	expect_card_not_in_trace("uicc-5");
	/* taken as 3b left it, the device is found on B */
	int st;
	out = tool(&st, "run", "3b-recover", NULL);
	cr_expect_eq(st, 0);
	cr_expect_not_null(strstr(out, "(on B: IMSI 00102"), "3b-recover finds the device on B");
	free(out);
}

/*
 * A batch port: 2000 cards of operator A (personalised for the purpose with mno-admin, in no
 * device) owned by the subscriber, moved to B by one authorisation, while uicc-4's own port (run
 * 3a) goes on beside it. B allocates 2000 IMSIs, A checks the authorisation and transfers all the
 * cards' credentials in one package, B makes 2000 pending records, and A queues 2000 rewrites that
 * wait for devices that never attach; `port status` counts the cards per state at both ends.
 */
#define BATCH 2000
#define BATCH_ICCID "8900101100000"  /* + 5 digits + the Luhn digit */
#define BATCH_IMSI "001010003"       /* + 6 digits: outside A's cards, DPF and port ranges */

static int luhn_digit(const char *digits)
{
	int sum = 0, n = (int)strlen(digits);
	for (int i = 0; i < n; i++) {
		int d = digits[n - 1 - i] - '0';
		if (i % 2 == 0 && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	return (10 - sum % 10) % 10;
}

/* mno-admin -c RUNDIR/OP.conf ARGS..., its output into out (when not NULL); its exit status. */
static int mno_admin(const char *op, char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int mno_admin(const char *op, char *out, size_t len, const char *fmt, ...)
{
	char args[4096], cmd[4400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "%s/mno/hss/mno-admin -c %s/%s.conf %s 2>&1", getenv("M2M_BIN_DIR"), rundir, op, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = 0;
	char sink[4096];
	for (size_t got; (got = fread(out ? out + n : sink, 1, out ? len - 1 - n : sizeof sink, p)) > 0;)
		n += out ? got : 0;
	if (out)
		out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* mno-admin personalise of batch card i at mno-a, started without waiting (no shell: 2000 of them). */
static pid_t personalise_start(int i, char iccid[24])
{
	char imsi[16], image[128], conf[128], bin[256];
	snprintf(iccid, 24, "%s%05d", BATCH_ICCID, i);
	snprintf(iccid + strlen(iccid), 2, "%d", luhn_digit(iccid));
	snprintf(imsi, sizeof imsi, "%s%06d", BATCH_IMSI, i);
	snprintf(image, sizeof image, "%s/batch/%d.card", rundir, i);
	snprintf(conf, sizeof conf, "%s/mno-a.conf", rundir);
	snprintf(bin, sizeof bin, "%s/mno/hss/mno-admin", getenv("M2M_BIN_DIR"));
	char *argv[] = {bin, "-c", conf, "personalise", "--iccid", iccid, "--imsi", imsi, "--out", image, NULL};
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execv(bin, argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0, "fork");
	return pid;
}

/* BATCH cards personalised at mno-a (two at a time: the machine has two cores) into RUNDIR/batch/,
 * their ICCIDs in RUNDIR/batch.iccids, assigned to the subscriber of the topology. */
static void batch_cards(void)
{
	char path[128], iccid[24];
	snprintf(path, sizeof path, "%s/batch", rundir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof path, "%s/batch.iccids", rundir);
	FILE *list = fopen(path, "w");
	cr_assert_not_null(list);
	size_t cap = (size_t)BATCH * 21 + 512, used = 0;
	char *cmd = malloc(cap);
	used += (size_t)snprintf(cmd, cap, "%s/mno/hss/mno-admin -c %s/mno-a.conf subscriber assign acme-metering",
				 getenv("M2M_BIN_DIR"), rundir);
	pid_t running[2] = {0, 0};
	for (int i = 0; i < BATCH + 2; i++) {
		pid_t *slot = &running[i % 2];
		if (*slot)
			cr_assert_eq(tool_wait(*slot), 0, "mno-admin personalise of batch card %d failed", i - 2);
		*slot = 0;
		if (i >= BATCH)
			continue;
		*slot = personalise_start(i, iccid);
		fprintf(list, "%s\n", iccid);
		used += (size_t)snprintf(cmd + used, cap - used, " %s", iccid);
	}
	cr_assert_eq(fclose(list), 0);
	snprintf(cmd + used, cap - used, " >/dev/null 2>&1");
	cr_assert_eq(system(cmd), 0, "the subscriber's %d cards not assigned", BATCH);
	free(cmd);
}

/* The count of a card state in a port status ("provisioned: 2000"), or -1 when it has none. */
static long count_of(const char *status, const char *name)
{
	char want[64];
	snprintf(want, sizeof want, "\n%s:", name);
	const char *at = strstr(status, want);
	return at ? atol(at + strlen(want)) : -1;
}

/* Whether the "state:" line of a status names state. */
static int says_state(const char *status, const char *state)
{
	const char *at = strstr(status, "\nstate:");
	if (!at)
		return 0;
	at += strlen("\nstate:");
	at += strspn(at, " ");
	return !strncmp(at, state, strlen(state)) && at[strlen(state)] == '\n';
}

/* Polls `port status ID` at op until its state line names state, up to ms; the last status. */
static void port_status_until(const char *op, const char *id, const char *state, int ms, char *out, size_t len)
{
	for (int waited = 0;; waited += 200) {
		mno_admin(op, out, len, "port status %s", id);
		if (says_state(out, state) || waited >= ms)
			break;
		usleep(200 * 1000);
	}
	printf("$ mno-admin port status %s at %s\n%s", id, op, out);
	cr_assert(says_state(out, state), "the port at %s is not %s after %d s", op, state, ms / 1000);
}

Test(testbed, alt3a_a_batch_of_2000_cards_is_transferred_beside_the_device_port, .timeout = 600)
{
	expect_ok("up");
	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	batch_cards();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	char iccids[128], der[128], out[8192], id[40] = "";
	snprintf(iccids, sizeof iccids, "%s/batch.iccids", rundir);
	snprintf(der, sizeof der, "%s/batch.der", rundir);
	int st;
	free(tool(&st, "authorise", "mno-a", "mno-b", iccids, der, NULL));
	cr_assert_eq(st, 0, "testbed authorise");
	cr_assert_eq(mno_admin("mno-b", out, sizeof out, "port start --from mno-a --authorisation %s", der), 0, "%s", out);
	printf("$ mno-admin port start at mno-b\n%s", out);
	for (const char *p = out; *p && !id[0]; p++)
		if (strspn(p, "0123456789abcdef") == 32)
			snprintf(id, sizeof id, "%.32s", p);
	cr_assert(id[0], "port start names no port id");
	/* uicc-4's own port runs beside the batch */
	pid_t device_port = tool_start("3a.out", "run", "3a", NULL);
	port_status_until("mno-b", id, "provisioned", 120000, out, sizeof out);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	cr_expect_eq(count_of(out, "provisioned"), BATCH, "B holds %d pending records", BATCH);
	port_status_until("mno-a", id, "transferred", 30000, out, sizeof out);
	cr_expect_eq(count_of(out, "rewriting"), BATCH, "A rewrites every card (jobs queued, no device attached)");
	fprintf(stderr, "batch port: %d cards personalised in %.1f s; authorised, requested, transferred and provisioned in "
			"%.1f s\n",
		BATCH, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		(double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9);
	st = tool_wait(device_port);
	char *text = read_text("3a.out");
	printf("%s", text);
	cr_expect_eq(st, 0, "uicc-4's port beside the batch: 3a exited with %d", st);
	cr_expect_not_null(strstr(text, "scenario 3a: passed"));
	free(text);
	expect_clean_logs();
}
