/*
 * Scenarios: end-to-end procedures the tool drives as the client "testbed" against a running
 * testbed, one step at a time, each step saying what it proves. After a run the trace lines it
 * caused become its chart; RUNDIR/last_run names it for `trace`.
 */
#include "testbed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRAIN_MS 300  /* time for the last tap events to reach the trace */

const tb_scenario tb_scenarios[] = {
	{"ping", "every daemon pings each of its peers: every link of the topology is proven", tb_scenario_ping},
	{"2", "Alternative 2: m2me-1 with operator A's card attaches through mno-v (AKA on the UICC), sends "
	      "protected data, detaches", tb_scenario_attach},
	{"2-swap", "Alternative 2: the subscriber moves to operator B by changing the card; A deactivates IMSI A, "
		   "and card A is refused", tb_scenario_swap},
	{"attack-imei-lock", "attack: card A in another device (m2me-2) is refused imeiNotAllowed",
	 tb_scenario_attack_imei_lock},
	{"attack-clone", "attack: a clone of card A attaches while the genuine one is attached: operator A "
			 "suspends IMSI A", tb_scenario_attack_clone},
	{"attack-replay", "attack: a rogue network (mno-xr) replays an old challenge: the card answers with a "
			  "synchronisation failure, no keys", tb_scenario_attack_replay},
	{"attack-false-network", "attack: a false network (mno-xf) without K: the card rejects its AUTN (98 62), "
				 "macFailure", tb_scenario_attack_false_network},
	{"attack-apn", "attack: an APN outside the subscription is refused apnNotAllowed", tb_scenario_attack_apn},
	{"validate", "platform validation, the testbed as relying party: tre-1 passes in each mode; tre-2, modified "
		     "and opened, fails componentModified and tamperDetected and reports it", tb_scenario_validate},
	{"1a", "Alternative 1a: m2me-3 without a card attaches with its TRE's PCID into a walled garden, discovers "
	       "operator A through the DRF, is validated, receives its MCIM into the TRE and works on it",
	 tb_scenario_1a},
	{"1a-change", "Alternative 1a: after 1a, m2me-3 moves from operator A to B with the subscriber's signed "
		      "authorisation (a forged one and A's contract lock refused); make before break, then A's "
		      "signed deletion", tb_scenario_1a_change},
	{"1a-recover", "Alternative 1a: after an interruption (a daemon killed during 1a-change), m2me-3 powers on, "
		       "attaches with what tre-3 names and runs its TRE's procedure until it is done; it must end "
		       "attached on A or on B", tb_scenario_1a_recover},
	{"3a", "Alternative 3a: m2me-4 moves from operator A to B with its card in place: the subscriber's signed "
	       "authorisation (a forged one and A's contract lock refused), A's transfer of K and the OTA keys to B, "
	       "EF_IMSI rewritten over the air, the refresh and attach with B, A's deletion, B's OTA key rotation",
	 tb_scenario_3a},
	{"3a-recover", "Alternative 3a: after an interruption (a daemon killed during 3a's port), m2me-4 stays "
		       "attached with what its card says until the port is over; it must end on A or on B, as the port "
		       "ended", tb_scenario_3a_recover},
	{"3b", "Alternative 3b: m2me-5 moves from operator A to B with its card in place: the subscriber's signed "
	       "authorisation (a forged one and A's contract lock refused), the DRF's signed trigger through A to the "
	       "TRE, B's fresh validation of the TRE, B's new IMSI, K, OPc and OTA keys encrypted to the card, the "
	       "switch and attach with B, then A's release",
	 tb_scenario_3b},
	{"3b-recover", "Alternative 3b: after an interruption (a daemon killed during 3b), m2me-5 stays attached with "
		       "what its card presents, and runs its TRE's procedure while the DRF's change waits on it, until "
		       "the change is over; it must end on A or on B",
	 tb_scenario_3b_recover},
	{NULL, NULL, NULL},
};

const tb_scenario *tb_scenario_find(const char *name)
{
	for (const tb_scenario *sc = tb_scenarios; sc->name; sc++)
		if (!strcmp(sc->name, name))
			return sc;
	return NULL;
}

void tb_step(tb_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("step %d: ", ++s->step);
	vprintf(fmt, ap);
	printf(" ... ");
	fflush(stdout);
	va_end(ap);
}

int tb_step_ok(tb_session *s)
{
	printf("ok\n");
	return 0;
}

int tb_step_fail(tb_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAILED\n  step %d failed: ", s->step);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	return -1;
}

/* ---- running one ------------------------------------------------------------------------------ */

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? 0 : (long)st.st_size;
}

/* Every daemon and the recorder must be running: a scenario against half a testbed fails
 * for reasons that have nothing to do with what it tests. */
static int check_up(const char *rundir, const tb_topology *t)
{
	for (int i = 0; i < t->nentities; i++)
		if (!tb_pid_running(rundir, t->entities[i].id)) {
			fprintf(stderr, "testbed: %s is not running in %s: run `testbed up` first\n", t->entities[i].id,
				rundir);
			return -1;
		}
	if (!tb_pid_running(rundir, TB_RECORDER)) {
		fprintf(stderr, "testbed: the recorder is not running in %s: run `testbed down` and `testbed up`\n", rundir);
		return -1;
	}
	return 0;
}

static int drive(const tb_scenario *sc, const tb_topology *t, const char *rundir, long trace_from)
{
	m2m_node *n = tb_client_open(rundir, 0);
	if (!n)
		return -1;
	tb_session s = {.node = n, .topology = t, .rundir = rundir, .trace_from = trace_from};
	printf("scenario %s: %s\n", sc->name, sc->description);
	int rc = sc->run(&s);
	m2m_node_free(n);
	return rc;
}

/* The chart's text (with contents) or just where it is, and its SVG when mscgen drew one. */
static int print_chart(const char *rundir, const char *name, int contents)
{
	char dir[PATH_MAX], msc[PATH_MAX], svg[PATH_MAX];
	if (tb_path(dir, sizeof dir, rundir, "charts", "") || tb_path(msc, sizeof msc, dir, name, ".msc") ||
	    tb_path(svg, sizeof svg, dir, name, ".svg"))
		return -1;
	char *text = contents ? tb_read_file(msc, 0, NULL) : NULL;
	if (contents && !text) {
		fprintf(stderr, "testbed: no chart %s\n", msc);
		return -1;
	}
	printf("%schart: %s\n", text ? text : "", msc);
	if (access(svg, R_OK) == 0)
		printf("svg:   %s\n", svg);
	free(text);
	return 0;
}

static int chart(const tb_scenario *sc, const tb_topology *t, const char *rundir, long from, int print_contents)
{
	char trace[PATH_MAX], title[256], last[PATH_MAX];
	if (tb_path(trace, sizeof trace, rundir, "trace", ".jsonl") || tb_path(last, sizeof last, rundir, "last_run", ""))
		return -1;
	usleep(DRAIN_MS * 1000);
	char *lines = tb_read_file(trace, from, NULL);
	snprintf(title, sizeof title, "scenario %s: %s", sc->name, sc->description);
	int rc = tb_chart_render(rundir, t, sc->name, title, lines ? lines : "");
	free(lines);
	snprintf(title, sizeof title, "%s\n", sc->name);
	if (rc || tb_write_file(last, title, 0644))
		return -1;
	return print_chart(rundir, sc->name, print_contents);
}

int tb_scenario_run(const tb_opts *o, const tb_scenario *sc, int print_contents)
{
	char trace[PATH_MAX];
	tb_topology *t = tb_rundir_topology(o->rundir, 0);
	if (!t || check_up(o->rundir, t) || tb_path(trace, sizeof trace, o->rundir, "trace", ".jsonl")) {
		tb_topology_free(t);
		return -1;
	}
	long from = file_size(trace);
	int rc = drive(sc, t, o->rundir, from);
	/* a failed run is charted too: the chart shows where it went wrong */
	if (chart(sc, t, o->rundir, from, print_contents))
		rc = -1;
	printf("scenario %s: %s\n", sc->name, rc ? "FAILED" : "passed");
	tb_topology_free(t);
	return rc;
}

/* ---- sub-commands ------------------------------------------------------------------------------ */

void tb_scenarios_list(FILE *out)
{
	fprintf(out, "scenarios:\n");
	for (const tb_scenario *sc = tb_scenarios; sc->name; sc++)
		fprintf(out, "  %-20s %s\n", sc->name, sc->description);
}

int tb_cmd_run(tb_opts *o, int argc, char **argv)
{
	const tb_scenario *sc = tb_scenario_find(argv[1]);
	if (!sc) {
		fprintf(stderr, "testbed: no scenario named \"%s\"\n", argv[1]);
		tb_scenarios_list(stderr);
		return 2;
	}
	if (tb_rundir_resolve(o, 0))
		return 1;
	return tb_scenario_run(o, sc, 0) ? 1 : 0;
}

int tb_cmd_trace(tb_opts *o, int argc, char **argv)
{
	char path[PATH_MAX];
	char *name = tb_rundir_resolve(o, 0) || tb_path(path, sizeof path, o->rundir, "last_run", "")
			     ? NULL : tb_read_file(path, 0, NULL);
	if (!name || !name[0]) {
		fprintf(stderr, "testbed: no scenario has been run in %s yet\n", o->rundir);
		free(name);
		return 1;
	}
	name[strcspn(name, "\n")] = 0;
	int rc = print_chart(o->rundir, name, 1);
	free(name);
	return rc ? 1 : 0;
}
