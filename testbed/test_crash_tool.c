/*
 * The kill -9 tests' hands on a run in progress (test_crash_tool.h).
 */
#include "test_crash_tool.h"

#include "aka/ef_imsi.h"

#include "test_tool.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WATCH_POLL_US 2000  /* a whole procedure takes well under a second: look often */
#define MAX_SEEN 16

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

int wait_for_step(const crash_case *c, long pos, pid_t run, int *status)
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

long file_size(const char *name)
{
	char *text = read_text(name);
	long n = text ? (long)strlen(text) : 0;
	free(text);
	return n;
}

int wait_capped(pid_t run, int max_s)
{
	int st;
	for (int waited = 0; waited < max_s * 10; waited++) {
		if (waitpid(run, &st, WNOHANG) == run)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(100 * 1000);
	}
	kill(run, SIGKILL);
	cr_expect_fail("the interrupted scenario did not end within %d s of the kill", max_s);
	return tool_wait(run);
}

void describe_run(const char *out_name, int status, char *out, size_t len)
{
	char *text = read_text(out_name);
	const char *failed = text ? strstr(text, "  step ") : NULL;
	if (status == 0)
		snprintf(out, len, "passed");
	else if (failed)
		snprintf(out, len, "failed (%.*s)", (int)strcspn(failed + 2, "\n"), failed + 2);
	else
		snprintf(out, len, "failed (status %d)", status);
	free(text);
}

void freeze(const char *victim)
{
	char name[64];
	snprintf(name, sizeof name, "%s.pid", victim);
	char *text = read_text(name);
	cr_assert_not_null(text, "no %s", name);
	cr_assert_eq(kill((pid_t)atol(text), SIGSTOP), 0, "SIGSTOP to %s", victim);
	free(text);
}

void run_passing(const char *scenario)
{
	int st;
	free(tool(&st, "run", scenario, NULL));
	cr_assert_eq(st, 0, "scenario %s exited with %d", scenario, st);
}

void crash_victim(const crash_case *c, int outage_ms)
{
	int st;
	freeze(c->victim);
	usleep((useconds_t)outage_ms * 1000);
	free(tool(&st, "crash", c->victim, NULL));
	cr_assert_eq(st, 0, "%s did not come back after its kill", c->victim);
}

char where_it_ended(const char *out, char imsi[16])
{
	const char *at = strstr(out, "(on A: IMSI ");
	if (!at)
		at = strstr(out, "(on B: IMSI ");
	cr_assert_not_null(at, "the recovery does not say where the device ended");
	snprintf(imsi, 16, "%.15s", at + 12);
	cr_assert_eq(strspn(imsi, "0123456789"), 15, "no IMSI in \"%.40s\"", at);
	return at[4];
}

int admin_state(const char *operator, const char *imsi, char *state, size_t len)
{
	char cmd[512], line[256];
	const char *bin = getenv("M2M_BIN_DIR");
	cr_assert_not_null(bin, "M2M_BIN_DIR is not set (meson test sets it)");
	snprintf(cmd, sizeof cmd, "%s/mno/hss/mno-admin -c %s/%s.conf show %s 2>&1", bin, rundir, operator, imsi);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	state[0] = 0;
	while (fgets(line, sizeof line, p))
		if (!strncmp(line, "state:", 6)) {
			const char *w = line + 6 + strspn(line + 6, " \t");
			snprintf(state, len, "%.*s", (int)strcspn(w, " \t\n"), w);
		}
	int st = pclose(p);
	printf("$ mno-admin show %s at %s -> %d: state %s\n", imsi, operator, st, state[0] ? state : "(none)");
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

sqlite3_stmt *query(const char *id, const char *sql, sqlite3 **db)
{
	char path[128];
	sqlite3_stmt *st = NULL;
	snprintf(path, sizeof path, "%s/%s.db", rundir, id);
	*db = NULL;
	cr_assert_eq(sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s: %s", path, sqlite3_errmsg(*db));
	sqlite3_busy_timeout(*db, 2000);
	cr_assert_eq(sqlite3_prepare_v2(*db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", path, sqlite3_errmsg(*db));
	return st;
}

void query_end(sqlite3_stmt *st, sqlite3 *db)
{
	sqlite3_finalize(st);
	sqlite3_close(db);
}

void card_imsi(const char *card, char imsi[16])
{
	sqlite3 *db;
	sqlite3_stmt *st = query(card, "SELECT content FROM uicc_file WHERE name = 'EF_IMSI'", &db);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s has no EF_IMSI", card);
	cr_assert_eq(m2m_ef_imsi_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), imsi), 0,
		     "%s's EF_IMSI does not decode", card);
	query_end(st, db);
}

/* mno-admin at op, its output (malloc'd, the caller frees). */
static char *admin_output(const char *op, const char *args)
{
	char cmd[512];
	const char *bin = getenv("M2M_BIN_DIR");
	cr_assert_not_null(bin, "M2M_BIN_DIR is not set (meson test sets it)");
	snprintf(cmd, sizeof cmd, "%s/mno/hss/mno-admin -c %s/%s.conf %s 2>&1", bin, rundir, op, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t len = 0, cap = 65536;
	char *out = calloc(1, cap);
	for (size_t n; (n = fread(out + len, 1, cap - 1 - len, p)) > 0;)
		len += n;
	pclose(p);
	return out;
}

void new_imsi(const char *op, const char *plmn, const char *iccid, char imsi[16])
{
	char *list = admin_output(op, "list"), want[64];
	snprintf(want, sizeof want, "iccid:     %s", iccid);
	imsi[0] = 0;
	for (const char *line = list; line && *line && !imsi[0]; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char candidate[16], args[64];
		if (strncmp(line, plmn, strlen(plmn)) || strspn(line, "0123456789") != 15 || strstr(line, " deleted ") == line + 15)
			continue;
		snprintf(candidate, sizeof candidate, "%.15s", line);
		snprintf(args, sizeof args, "show %s", candidate);
		char *record = admin_output(op, args);
		if (strstr(record, want))
			snprintf(imsi, 16, "%s", candidate);
		free(record);
	}
	free(list);
}

char *crash_and_recover(const crash_case *c, int outage_ms, const crash_run *r, char *outcome, size_t len)
{
	int st = -1;
	long from = file_size("trace.jsonl");
	pid_t run = tool_start("crash.out", "run", r->scenario, NULL);
	int seen = wait_for_step(c, from, run, &st);
	cr_assert(seen, "%s ended (status %d) before %s %s->%s #%d appeared in the trace", r->scenario, st, c->type,
		  c->from, c->to, c->nth);
	crash_victim(c, outage_ms);
	describe_run("crash.out", wait_capped(run, r->max_s), outcome, len);
	char *out = tool(&st, "run", r->recover, NULL);
	cr_expect_eq(st, 0, "%s failed after %s was killed at %s", r->recover, c->victim, c->type);
	return out;
}

void expect_card_on_a_or_b(const char *recover_out, const card_change *k, const crash_case *c, int outage_ms,
			   const char *outcome)
{
	char imsi[16], on_card[16], imsi_b[16], state_a[32], state_b[32] = "";
	char side = where_it_ended(recover_out, imsi);
	card_imsi(k->card, on_card);
	cr_expect_str_eq(on_card, imsi, "%s's EF_IMSI is %s, the device works with %s", k->card, on_card, imsi);
	new_imsi("mno-b", k->plmn_b, k->iccid, imsi_b);
	admin_state("mno-a", k->imsi_a, state_a, sizeof state_a);
	if (imsi_b[0])
		admin_state("mno-b", imsi_b, state_b, sizeof state_b);
	if (side == 'A') {
		cr_expect_str_eq(imsi, k->imsi_a, "on A with IMSI %s, not %s's first", imsi, k->card);
		cr_expect_str_eq(state_a, "active", "the device works on A, whose record says %s", state_a);
		cr_expect(!imsi_b[0] || !state_b[0] || !strcmp(state_b, "pending"),
			  "the device works on A, and B's record of %s says %s", imsi_b, state_b);
	} else {
		cr_expect_str_eq(imsi, imsi_b, "on B with IMSI %s, not the one B made for the card (%s)", imsi, imsi_b);
		cr_expect_str_eq(state_a, "deleted", "the device works on B, and A's record says %s", state_a);
		cr_expect_str_eq(state_b, "active", "the device works on B, whose record says %s", state_b);
	}
	/* on stderr: what a test log keeps of a case */
	fprintf(stderr, "crash case: %s killed at %s %s->%s (#%d), down %d ms: %s; the device ended on %c (IMSI %s; A %s, B %s)\n",
		c->victim, c->type, c->from, c->to, c->nth, outage_ms, outcome, side, imsi, state_a,
		state_b[0] ? state_b : "none");
}
