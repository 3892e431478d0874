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
#include "test_tool.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WATCH_POLL_US 2000  /* the whole change takes well under a second: look often */
#define CHANGE_MAX_S 60     /* 1a-change after the kill: its calls time out, it cannot hang */
#define MAX_SEEN 16
/* The long outage: longer than a daemon's whole call to it (timeout_ms 500 x 3 attempts in the
 * topology), so that its peers give up and only persisted state and the ticks can resume. */
#define OUTAGE_MS 2000

/* A step of the change: the nth message of type from -> to in 1a-change's part of the trace
 * (with summary in its line when set), and the daemon killed as soon as it appears. */
typedef struct crash_case {
	const char *type, *from, *to, *summary;
	int nth;
	const char *victim;
} crash_case;

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

/* ---- watching the trace ---------------------------------------------------------------------- */

typedef struct watch {
	const crash_case *c;
	long pos;  /* where the next unread line of the trace begins */
	int nseen;
	char seen[MAX_SEEN][40];  /* the txids of the matching messages so far: a retry is not another */
} watch;

/* A line of the case's message whose transaction is new: 1 once it is the nth. */
static int count_line(watch *w, const char *line)
{
	char head[160], txid[40];
	snprintf(head, sizeof head, "\"from\": \"%s\", \"to\": \"%s\", \"type\": \"%s\"", w->c->from, w->c->to, w->c->type);
	const char *at = strstr(line, "\"txid\": \"");
	if (!strstr(line, head) || (w->c->summary && !strstr(line, w->c->summary)) || !at)
		return 0;
	snprintf(txid, sizeof txid, "%.*s", (int)strcspn(at + 9, "\""), at + 9);
	for (int i = 0; i < w->nseen; i++)
		if (!strcmp(w->seen[i], txid))
			return 0;
	if (w->nseen < MAX_SEEN)
		snprintf(w->seen[w->nseen++], sizeof w->seen[0], "%s", txid);
	return w->nseen >= w->c->nth;
}

/* Reads the complete lines appended since the last look; 1 when the message is among them. */
static int look(watch *w, FILE *trace)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int found = 0;
	fseek(trace, w->pos, SEEK_SET);
	while (!found && (n = getline(&line, &cap, trace)) > 0 && line[n - 1] == '\n') {
		w->pos += n;  /* a line still being written is read again, whole, next time */
		found = count_line(w, line);
	}
	free(line);
	clearerr(trace);
	return found;
}

/* Polls the trace from pos until the case's message appears (1) or the run ends first (0,
 * with its exit status in *status). */
static int wait_for_step(const crash_case *c, long pos, pid_t run, int *status)
{
	char path[128];
	snprintf(path, sizeof path, "%s/trace.jsonl", rundir);
	FILE *trace = fopen(path, "r");
	cr_assert_not_null(trace);
	watch w = {.c = c, .pos = pos};
	int found = 0, st;
	while (!(found = look(&w, trace))) {
		if (waitpid(run, &st, WNOHANG) == run) {
			found = look(&w, trace);
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			break;
		}
		usleep(WATCH_POLL_US);
	}
	fclose(trace);
	return found;
}

static long file_size(const char *name)
{
	char *text = read_text(name);
	long n = text ? (long)strlen(text) : 0;
	free(text);
	return n;
}

/* Waits for the run, killing it after CHANGE_MAX_S; its exit status. */
static int wait_capped(pid_t run)
{
	int st;
	for (int waited = 0; waited < CHANGE_MAX_S * 10; waited++) {
		if (waitpid(run, &st, WNOHANG) == run)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(100 * 1000);
	}
	kill(run, SIGKILL);
	cr_expect_fail("1a-change did not end within %d s of the kill", CHANGE_MAX_S);
	return tool_wait(run);
}

/* How the interrupted 1a-change ended, for the log: "passed" or its failed step. */
static void describe_change(int status, char *out, size_t len)
{
	char *text = read_text("change.out");
	const char *failed = text ? strstr(text, "  step ") : NULL;
	if (status == 0)
		snprintf(out, len, "passed");
	else if (failed)
		snprintf(out, len, "failed (%.*s)", (int)strcspn(failed + 2, "\n"), failed + 2);
	else
		snprintf(out, len, "failed (status %d)", status);
	free(text);
}

/* SIGSTOP the moment the step is seen: the victim does nothing more while `testbed crash` starts
 * (tens of milliseconds, in which the change would run several steps further) and kills it. */
static void freeze(const char *victim)
{
	char name[64];
	snprintf(name, sizeof name, "%s.pid", victim);
	char *text = read_text(name);
	cr_assert_not_null(text, "no %s", name);
	cr_assert_eq(kill((pid_t)atol(text), SIGSTOP), 0, "SIGSTOP to %s", victim);
	free(text);
}

/* ---- the invariants ------------------------------------------------------------------------------ */

/* 1a-recover's last step: "(on A: IMSI 00101...": the side ('A', 'B') and the IMSI. */
static char where_it_ended(const char *out, char imsi[16])
{
	const char *at = strstr(out, "(on A: IMSI ");
	if (!at)
		at = strstr(out, "(on B: IMSI ");
	cr_assert_not_null(at, "1a-recover does not say where the device ended");
	snprintf(imsi, 16, "%.15s", at + 12);
	cr_assert_eq(strspn(imsi, "0123456789"), 15, "no IMSI in \"%.40s\"", at);
	return at[4];
}

/* tre-3's database, read-only: the IMSIs of its active MCIMs (state 1, tre/schema.c). */
static int active_mcims(char imsis[4][16])
{
	char path[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof path, "%s/tre-3.db", rundir);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 2000);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT imsi FROM tre_mcim WHERE state = 1", -1, &st, NULL), SQLITE_OK, "%s",
		     sqlite3_errmsg(db));
	int n = 0;
	for (int rc; (rc = sqlite3_step(st)) != SQLITE_DONE; n++) {
		cr_assert_eq(rc, SQLITE_ROW, "%s", sqlite3_errmsg(db));
		if (n < 4)
			snprintf(imsis[n], 16, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* `mno-admin show IMSI` at the operator: its subscriber is active. */
static void expect_active_at(const char *operator, const char *imsi)
{
	char cmd[512], line[256];
	const char *bin = getenv("M2M_BIN_DIR");
	cr_assert_not_null(bin, "M2M_BIN_DIR is not set (meson test sets it)");
	snprintf(cmd, sizeof cmd, "%s/mno/hss/mno-admin -c %s/%s.conf show %s 2>&1", bin, rundir, operator, imsi);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	int active = 0;
	while (fgets(line, sizeof line, p))
		active |= !strncmp(line, "state:", 6) && strstr(line, " active\n");
	int rc = pclose(p);
	cr_expect(rc == 0 && active, "%s does not hold IMSI %s active (mno-admin show: status %d)", operator, imsi, rc);
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

/* `run SCENARIO` that must pass. */
static void run_passing(const char *scenario)
{
	int st;
	free(tool(&st, "run", scenario, NULL));
	cr_assert_eq(st, 0, "scenario %s exited with %d", scenario, st);
}

ParameterizedTest(int *i, crash, a_kill_at_any_step_of_the_change_ends_on_a_or_b, .timeout = 150)
{
	const crash_case *c = &cases[*i / 2];
	int outage_ms = *i % 2 ? OUTAGE_MS : 0, st = -1;
	expect_ok("up");
	run_passing("1a");
	long from = file_size("trace.jsonl");
	pid_t change = tool_start("change.out", "run", "1a-change", NULL);
	int seen = wait_for_step(c, from, change, &st);
	cr_assert(seen, "1a-change ended (status %d) before %s %s->%s #%d appeared in the trace", st, c->type, c->from,
		  c->to, c->nth);
	freeze(c->victim);
	usleep((useconds_t)outage_ms * 1000);
	char *out = tool(&st, "crash", c->victim, NULL);
	free(out);
	cr_assert_eq(st, 0, "%s did not come back after its kill", c->victim);
	char change_outcome[300];
	describe_change(wait_capped(change), change_outcome, sizeof change_outcome);
	out = tool(&st, "run", "1a-recover", NULL);
	cr_expect_eq(st, 0, "1a-recover failed after %s was killed at %s", c->victim, c->type);
	expect_invariants(out, c, outage_ms, change_outcome);
	free(out);
	expect_clean_logs();
}
