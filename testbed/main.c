/*
 * testbed: the command line. Global options, then one sub-command from the table below; each
 * sub-command answers --help. Exit status: 0 success, 1 failure, 2 bad usage.
 */
#include "testbed.h"

#include "log/log.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#ifndef TESTBED_TOPOLOGY
#define TESTBED_TOPOLOGY "testbed/topology.conf"
#endif

typedef struct command {
	const char *name;
	const char *args;  /* the positional arguments, for usage lines */
	int nargs;
	const char *summary;
	const char *help;  /* what `testbed COMMAND --help` adds to the summary */
	int (*run)(tb_opts *o, int argc, char **argv);
	int hidden;        /* started by the tool itself, not listed */
} command;

static int cmd_demo(tb_opts *o, int argc, char **argv);

static const command commands[] = {
	{"up", "", 0, "generate keys and configurations, start every daemon and the recorder",
	 "Reads the topology (-t), writes RUNDIR/keys/, one RUNDIR/ID.conf per daemon and\n"
	 "RUNDIR/testbed.conf, personalises the cards and certifies the TREs' platform types,\n"
	 "starts each daemon (log RUNDIR/ID.log, pid RUNDIR/ID.pid; the agencies first, until\n"
	 "their root certificates are written) and the recorder, and waits until every daemon\n"
	 "answers healthRequest, the recorder has subscribed to every tap and every TRE is enrolled\n"
	 "and booted. If any does not come up, says which and why, stops everything it started\n"
	 "and exits 1. Refuses to start over a testbed that is already up.\n",
	 tb_cmd_up, 0},
	{"down", "", 0, "stop every daemon and the recorder",
	 "Sends SIGTERM to every process of the run directory, SIGKILL to any still alive after 5 s,\n"
	 "and removes the pid files. Stopping a testbed that is not up is not an error.\n",
	 tb_cmd_down, 0},
	{"status", "", 0, "ask every daemon healthRequest and print a table",
	 "One row per daemon: entity, role, version, uptime, messages received, sent and refused,\n"
	 "and open transactions; or DOWN with the reason. Exits 1 when anything is down.\n",
	 tb_cmd_status, 0},
	{"run", "SCENARIO", 1, "run a scenario and draw its message sequence chart",
	 "Drives the scenario as the client \"testbed\", printing one line per step; exits 0 only when\n"
	 "the expected outcome is reached. Its part of the trace becomes RUNDIR/charts/SCENARIO.msc\n"
	 "(and .svg when mscgen is installed).\n",
	 tb_cmd_run, 0},
	{"crash", "ID", 1, "kill -9 one daemon and start it again as `up` did",
	 "Sends SIGKILL to the running daemon ID of the run directory and waits until it is gone, then\n"
	 "starts it again exactly as `up` started it (same RUNDIR/ID.conf, output appended to\n"
	 "RUNDIR/ID.log, RUNDIR/ID.pid rewritten) and waits (up to 10 s) until it answers healthRequest;\n"
	 "a TRE also until it is booted and enrolled. Exits 0 when it is back, 1 when it was not running\n"
	 "or did not come back, 2 when the topology has no daemon ID.\n",
	 tb_cmd_crash, 0},
	{"authorise", "FROM TO ICCIDS OUT", 4, "sign the subscriber's authorisation of a port (Alternative 3a)",
	 "As the subscriber's portal, writes to OUT the authorisation to move the cards listed in the\n"
	 "file ICCIDS (one ICCID per line, '#' comments) from operator FROM to operator TO: a CMS\n"
	 "SignedData over PortAuthorisation with a fresh nonce, signed with RUNDIR/keys/subscriber.key and\n"
	 "its certificate RUNDIR/keys/subscriber.crt. Give it to TO's staff: `mno-admin port start --from\n"
	 "FROM --authorisation OUT`.\n",
	 tb_cmd_authorise, 0},
	{"trace", "", 0, "print the chart of the last scenario run", "Prints RUNDIR/charts/LAST.msc and where its SVG is.\n",
	 tb_cmd_trace, 0},
	{"demo", "", 0, "up, run every scenario printing its chart, down",
	 "Exits 1 if the testbed does not come up or any scenario fails.\n", cmd_demo, 0},
	{"bench-attach", "SECONDS", 1, "benchmark: attaches per second with every device of the topology",
	 "Powers on every m2me, then has each attach and detach over and over, all at once, for SECONDS,\n"
	 "and prints the figures. Use the topology testbed/bench.conf (16 devices) with `up -t`.\n",
	 tb_cmd_bench_attach, 0},
	{"bench-validate", "SECONDS", 1, "benchmark: validations per second by the PVA, and raw ECDSA P-256 rates",
	 "Has the PVA validate tre-1 for SECONDS in each mode (autonomous, semiAutonomous, remote), the\n"
	 "testbed as relying party with several requests in flight, then measures OpenSSL's ECDSA P-256\n"
	 "sign and verify in this process for SECONDS each, and prints the figures.\n",
	 tb_cmd_bench_validate, 0},
	{"record", "", 0, "the recorder that `up` starts: taps to RUNDIR/trace.jsonl",
	 "Subscribes to every daemon's tap as the CurveZMQ client \"testbed\" and appends one JSON\n"
	 "line per message to RUNDIR/trace.jsonl until SIGTERM. `up` starts it; run it yourself\n"
	 "only to record a testbed whose recorder you stopped.\n",
	 tb_cmd_record, 1},
	{NULL, NULL, 0, NULL, NULL, NULL, 0},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: testbed [-d RUNDIR] [-t TOPOLOGY] [-v] COMMAND [ARGS]\n"
		"The TR 33.812 reference testbed: its daemons, their links, scenarios and charts.\n"
		"  -d RUNDIR    the run directory (default ./run)\n"
		"  -t TOPOLOGY  the topology `up` starts (default %s)\n"
		"  -v           show the tool's own transport log\n"
		"  --version    print the version\n"
		"commands:\n",
		TESTBED_TOPOLOGY);
	for (const command *c = commands; c->name; c++)
		if (!c->hidden)
			fprintf(out, "  %-14s %-8s %s\n", c->name, c->args, c->summary);
	fprintf(out, "`testbed COMMAND --help` tells more about one.\n");
}

static void command_help(FILE *out, const command *c)
{
	fprintf(out, "usage: testbed [-d RUNDIR] [-t TOPOLOGY] [-v] %s%s%s\n%s.\n%s", c->name, c->args[0] ? " " : "",
		c->args, c->summary, c->help);
	if (!strcmp(c->name, "run"))
		tb_scenarios_list(out);
}

static int cmd_demo(tb_opts *o, int argc, char **argv)
{
	if (tb_cmd_up(o, argc, argv))
		return 1;
	int failed = 0;
	for (const tb_scenario *sc = tb_scenarios; sc->name; sc++)
		failed |= tb_scenario_run(o, sc, 1) != 0;
	int down = tb_cmd_down(o, argc, argv);
	printf("demo: %s\n", failed ? "a scenario FAILED" : "every scenario passed");
	return failed || down ? 1 : 0;
}

static int run_command(tb_opts *o, int argc, char **argv)
{
	const command *c = commands;
	while (c->name && strcmp(c->name, argv[0]))
		c++;
	if (!c->name) {
		fprintf(stderr, "testbed: unknown command \"%s\"\n", argv[0]);
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			command_help(stdout, c);
			return 0;
		}
	if (argc - 1 != c->nargs) {
		fprintf(stderr, "testbed: %s takes %s\n", c->name, c->nargs ? c->args : "no arguments");
		command_help(stderr, c);
		return 2;
	}
	return c->run(o, argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {{"help", no_argument, NULL, 'h'},
					      {"version", no_argument, NULL, 'V'},
					      {NULL, 0, NULL, 0}};
	tb_opts o = {.rundir = "run", .topology = TESTBED_TOPOLOGY};
	int opt;
	setvbuf(stdout, NULL, _IOLBF, 0);  /* keeps progress and errors in order in a pipe or a log */
	/* '+': options end at the command, whose own arguments are its business */
	while ((opt = getopt_long(argc, argv, "+d:t:vh", longs, NULL)) != -1) {
		switch (opt) {
		case 'd':
			snprintf(o.rundir, sizeof o.rundir, "%s", optarg);
			break;
		case 't':
			o.topology = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("testbed %s\n", M2M_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	m2m_log_init(TB_SELF, o.verbose ? M2M_LOG_INFO : M2M_LOG_ERROR);
	return run_command(&o, argc - optind, argv + optind);
}
