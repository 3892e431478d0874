/*
 * Health: `up` waits on it, `status` prints it. Both ask each daemon healthRequest as the
 * client "testbed"; a daemon counts as up only when it answers over its CurveZMQ link.
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define QUICK_MS 250  /* one attempt per round while waiting: a daemon may not be bound yet */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "it exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "it was killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, len, "it stopped (wait status %d)", status);
}

int tb_reap_failure(const char *rundir, const char *name, pid_t *pid)
{
	int status;
	if (*pid <= 0 || waitpid(*pid, &status, WNOHANG) != *pid)
		return 0;
	char why[64], log[PATH_MAX];
	describe_exit(status, why, sizeof why);
	fprintf(stderr, "testbed: %s did not come up: %s\n", name, why);
	if (!tb_path(log, sizeof log, rundir, name, ".log"))
		tb_print_log_tail(log, 8);
	*pid = 0;  /* reaped: its pid may be reused and must never be signalled */
	return 1;
}

static int any_exited(const char *rundir, const tb_topology *t, tb_fleet *f)
{
	int failed = 0;
	for (int i = 0; i < t->nentities; i++)
		failed |= tb_reap_failure(rundir, t->entities[i].id, &f->daemons[i]);
	return failed | tb_reap_failure(rundir, TB_RECORDER, &f->recorder);
}

/* Asks every daemon not yet healthy; returns 1 once all are. */
static int health_round(m2m_node *n, const tb_topology *t, int *healthy, char (*problem)[128])
{
	tb_reply r[TB_MAX_ENTITIES];
	for (int i = 0; i < t->nentities; i++) {
		if (healthy[i])
			r[i] = (tb_reply){.done = 1, .type = M2M_MSG_HEALTH_RESPONSE};
		else
			tb_health_start(n, t->entities[i].id, &r[i]);
	}
	tb_call_wait(n, r, t->nentities);
	int all = 1;
	for (int i = 0; i < t->nentities; i++) {
		tb_reply_problem(&r[i], M2M_MSG_HEALTH_RESPONSE, problem[i], sizeof problem[i]);
		healthy[i] = r[i].type == M2M_MSG_HEALTH_RESPONSE;
		all &= healthy[i];
		tb_reply_clear(&r[i]);
	}
	return all;
}

static void report_silent(const char *rundir, const tb_topology *t, const int *healthy, char (*problem)[128],
			  int recorder_ready, int deadline_ms)
{
	char log[PATH_MAX];
	for (int i = 0; i < t->nentities; i++) {
		if (healthy[i])
			continue;
		fprintf(stderr, "testbed: %s did not come up: no answer to healthRequest within %d ms (last attempt: %s)\n",
			t->entities[i].id, deadline_ms, problem[i]);
		if (!tb_path(log, sizeof log, rundir, t->entities[i].id, ".log"))
			tb_print_log_tail(log, 8);
	}
	if (!recorder_ready) {
		fprintf(stderr, "testbed: the recorder did not subscribe to every tap within %d ms\n", deadline_ms);
		if (!tb_path(log, sizeof log, rundir, TB_RECORDER, ".log"))
			tb_print_log_tail(log, 8);
	}
}

int tb_wait_up(const char *rundir, const tb_topology *t, tb_fleet *f, int deadline_ms)
{
	char ready[PATH_MAX];
	if (tb_path(ready, sizeof ready, rundir, TB_RECORDER, ".ready"))
		return -1;
	m2m_node *n = tb_client_open(rundir, QUICK_MS);
	if (!n)
		return -1;
	int healthy[TB_MAX_ENTITIES] = {0}, rc = 0;
	char problem[TB_MAX_ENTITIES][128];
	long long deadline = now_ms() + deadline_ms;
	for (;;) {
		if (any_exited(rundir, t, f)) {
			rc = -1;
			break;
		}
		int all = health_round(n, t, healthy, problem);
		int recorder_ready = access(ready, F_OK) == 0;
		if (all && recorder_ready)
			break;
		if (now_ms() >= deadline) {
			report_silent(rundir, t, healthy, problem, recorder_ready, deadline_ms);
			rc = -1;
			break;
		}
		usleep(50 * 1000);
	}
	m2m_node_free(n);
	return rc;
}

/* ---- status ----------------------------------------------------------------------------------- */

static void print_row(int width, const char *id, const char *role, const tb_reply *r, const char *why)
{
	if (r->type != M2M_MSG_HEALTH_RESPONSE) {
		printf("%-*s %-9s DOWN (%s)\n", width, id, role, why);
		return;
	}
	const M2M_HEALTH_RESPONSE *h = r->body;
	char r_role[32] = "?", version[32] = "?";
	m2m_str(h->role, r_role, sizeof r_role);
	m2m_str(h->software_version, version, sizeof version);
	printf("%-*s %-9s %-8s %7llus %9llu %9llu %8llu %5llu\n", width, id, r_role, version,
	       (unsigned long long)h->uptime_seconds, (unsigned long long)h->received, (unsigned long long)h->sent,
	       (unsigned long long)h->refused, (unsigned long long)h->open_transactions);
}

static int print_recorder(const char *rundir)
{
	pid_t pid = tb_pid_running(rundir, TB_RECORDER);
	if (pid)
		printf("recorder: running (pid %ld), writing %s/trace.jsonl\n", (long)pid, rundir);
	else
		printf("recorder: DOWN (not running)\n");
	return pid ? 0 : 1;
}

int tb_cmd_status(tb_opts *o, int argc, char **argv)
{
	tb_topology *t = tb_rundir_resolve(o, 0) ? NULL : tb_rundir_topology(o->rundir, 0);
	m2m_node *n = t ? tb_client_open(o->rundir, 0) : NULL;
	if (!n) {
		tb_topology_free(t);
		return 1;
	}
	tb_reply r[TB_MAX_ENTITIES];
	int width = 6, running[TB_MAX_ENTITIES];  /* 6: "ENTITY" */
	for (int i = 0; i < t->nentities; i++) {
		const char *id = t->entities[i].id;
		if ((int)strlen(id) > width)
			width = (int)strlen(id);
		/* a process that is gone cannot answer: say so instead of waiting for a timeout */
		running[i] = tb_pid_running(o->rundir, id) != 0;
		if (running[i])
			tb_health_start(n, id, &r[i]);
		else
			r[i] = (tb_reply){.done = 1, .type = -1};
	}
	tb_call_wait(n, r, t->nentities);
	printf("%-*s %-9s %-8s %8s %9s %9s %8s %5s\n", width, "ENTITY", "ROLE", "VERSION", "UPTIME", "RECEIVED", "SENT",
	       "REFUSED", "OPEN");
	int down = 0;
	for (int i = 0; i < t->nentities; i++) {
		char why[300];
		tb_reply_problem(&r[i], M2M_MSG_HEALTH_RESPONSE, why, sizeof why);
		if (!running[i])
			snprintf(why, sizeof why, "not running");
		print_row(width, t->entities[i].id, t->entities[i].role, &r[i], why);
		down += r[i].type != M2M_MSG_HEALTH_RESPONSE;
		tb_reply_clear(&r[i]);
	}
	down += print_recorder(o->rundir);
	m2m_node_free(n);
	tb_topology_free(t);
	return down ? 1 : 0;
}
