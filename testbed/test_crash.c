/*
 * Issue 5, the crash safety of the change of subscription (docs/alt1a-change.md): "killing any
 * daemon (kill -9) at any step of the change and restarting it ends with the device on A or on
 * B, never on neither and never with both active".
 *
 * One case per step of 1a-change and outage: a fresh testbed, `run 1a` (m2me-3 on operator A),
 * then `run 1a-change` in the background while the test watches RUNDIR/trace.jsonl. As soon as
 * the step's message is there the daemon of the step is frozen (SIGSTOP: it does nothing more),
 * and after the outage `testbed crash DAEMON` kills it with SIGKILL and starts it again. With no
 * outage the peers' own retries may bridge the restart; with a long one they give up, and only
 * what each party persisted, its ticks and the device's next attempt can finish or undo the
 * change. 1a-change then ends as it may (its outcome is only noted), `run 1a-recover` has the
 * device and its TRE finish or undo what was under way, and the invariants are checked:
 *   - the device works on A or on B (1a-recover's last step says which, and with what IMSI);
 *   - tre-3 holds exactly one active MCIM, the one of that IMSI (its database, read-only);
 *   - the operator of that IMSI holds its subscriber active (mno-admin show).
 * Each case says on stderr where the device ended, for the test log.
 */
#include "test_crash_tool.h"
#include "test_tool.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHANGE_MAX_S 60     /* 1a-change after the kill: its calls time out, it cannot hang */
/* The long outage: longer than a daemon's whole call to it (timeout_ms 500 x 3 attempts in the
 * topology), so that its peers give up and only persisted state and the ticks can resume. */
#define OUTAGE_MS 2000

static const crash_case cases[] = {
	/* the first changeNotify is answered contractLocked: the second is the change's */
	{"changeNotify", "drf", "mno-a", NULL, 2, "drf"},
	{"changeConsent", "mno-a", "drf", NULL, 1, "mno-a"},
	{"mcimCommand", "mno-a", "tre-3", NULL, 1, "tre-3"}, /* reprovision */
	{"relayRequest", "m2me-3", "mno-v", "messageType=discoveryRequest", 1, "m2me-3"},
	{"discoveryResponse", "drf", "mno-v", NULL, 1, "drf"},
	{"mcimRequest", "mno-v", "mno-b", NULL, 1, "mno-b"},
	{"mcimPackage", "mno-b", "mno-v", NULL, 1, "tre-3"},
	{"installResult", "mno-v", "mno-b", NULL, 1, "mno-b"},
	{"installAck", "mno-b", "mno-v", NULL, 1, "m2me-3"}, /* the device dies as it starts switching */
	/* B's HSS down while the device attaches with B: the switch fails, the TRE goes back to A */
	{"authInfoRequest", "mno-v", "mno-b", "imsi=00102", 1, "mno-b"},
	{"treAttached", "m2me-3", "tre-3", "imsi=00102", 1, "tre-3"},
	{"changeComplete", "mno-v", "drf", NULL, 1, "drf"},
	{"changeRelease", "drf", "mno-a", NULL, 1, "mno-a"},
	{"mcimCommand", "mno-a", "tre-3", NULL, 2, "tre-3"}, /* delete */
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- the invariants ------------------------------------------------------------------------------ */

/* tre-3's database, read-only: the IMSIs of its active MCIMs (state 1, tre/schema.c). */
static int active_mcims(char imsis[4][16])
{
	sqlite3 *db;
	sqlite3_stmt *st = query("tre-3", "SELECT imsi FROM tre_mcim WHERE state = 1", &db);
	int n = 0;
	for (int rc; (rc = sqlite3_step(st)) != SQLITE_DONE; n++) {
		cr_assert_eq(rc, SQLITE_ROW, "%s", sqlite3_errmsg(db));
		if (n < 4)
			snprintf(imsis[n], 16, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	query_end(st, db);
	return n;
}

/* `mno-admin show IMSI` at the operator: its subscriber is active. */
static void expect_active_at(const char *operator, const char *imsi)
{
	char state[32];
	int rc = admin_state(operator, imsi, state, sizeof state);
	cr_expect(rc == 0 && !strcmp(state, "active"), "%s does not hold IMSI %s active (mno-admin show: status %d, %s)",
		  operator, imsi, rc, state);
}

static void expect_invariants(const char *recover_out, const crash_case *c, int outage_ms, const char *change)
{
	char imsi[16], active[4][16];
	char side = where_it_ended(recover_out, imsi);
	int n = active_mcims(active);
	cr_expect_eq(n, 1, "tre-3 holds %d active MCIMs, not exactly one", n);
	cr_expect(n < 1 || !strcmp(active[0], imsi), "tre-3's active MCIM is IMSI %s, the device works with %s", active[0],
		  imsi);
	expect_active_at(side == 'A' ? "mno-a" : "mno-b", imsi);
	/* on stderr: under meson (--tap=/dev/stdout) it is what the test log keeps of a case */
	fprintf(stderr, "crash case: %s killed at %s %s->%s (#%d), down %d ms: 1a-change %s; the device ended on %c (IMSI %s)\n",
	       c->victim, c->type, c->from, c->to, c->nth, outage_ms, change, side, imsi);
}

/* ---- the cases ----------------------------------------------------------------------------------- */

TestSuite(crash, .init = tool_setup, .fini = tool_teardown);

/* Each step twice: restarted at once (the peers' retries may bridge the gap), and after a long
 * outage (they do not). Even parameters are the first, odd ones the second. */
ParameterizedTestParameters(crash, a_kill_at_any_step_of_the_change_ends_on_a_or_b)
{
	static int index[2 * NCASES];
	for (int i = 0; i < 2 * NCASES; i++)
		index[i] = i;
	return cr_make_param_array(int, index, 2 * NCASES);
}

ParameterizedTest(int *i, crash, a_kill_at_any_step_of_the_change_ends_on_a_or_b, .timeout = 150)
{
	const crash_case *c = &cases[*i / 2];
	int outage_ms = *i % 2 ? OUTAGE_MS : 0;
	static const crash_run run = {"1a-change", "1a-recover", CHANGE_MAX_S};
	expect_ok("up");
	run_passing("1a");
	char change_outcome[300];
	char *out = crash_and_recover(c, outage_ms, &run, change_outcome, sizeof change_outcome);
	expect_invariants(out, c, outage_ms, change_outcome);
	free(out);
	expect_clean_logs();
}
