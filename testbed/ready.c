/*
 * What `up` waits for besides health (health.c), for the certification agency and its TREs:
 *   - an agency's root certificate, before its TREs start: a TRE refuses a configuration whose
 *     root_certificate it cannot read, and the agency writes that file at its start;
 *   - every TRE enrolled and booted, before the testbed is declared up: a TRE enrols and fetches
 *     its platform type in the background after it starts, and a validation before then would
 *     be refused wrongState. treControl status tells both.
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUICK_MS 250   /* one attempt per round: a TRE not bound yet is asked again */
#define ROUND_MS 100

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int is_role(const tb_topology *t, int i, const char *role)
{
	return !strcmp(t->entities[i].role, role);
}

static void report_log(const char *rundir, const char *id)
{
	char log[PATH_MAX];
	if (!tb_path(log, sizeof log, rundir, id, ".log"))
		tb_print_log_tail(log, 8);
}

/* ---- the agencies' root certificates ------------------------------------------------------------ */

/* 1 when written (the agency writes it atomically), 0 while not yet, -1 when the agency died. */
static int root_written(const char *rundir, const tb_topology *t, tb_fleet *f, int i)
{
	char root[PATH_MAX];
	const char *id = t->entities[i].id;
	if (tb_reap_failure(rundir, id, &f->daemons[i]) || tb_root_path(root, sizeof root, rundir, id))
		return -1;
	return access(root, R_OK) == 0;
}

int tb_wait_roots(const char *rundir, const tb_topology *t, tb_fleet *f, int deadline_ms)
{
	long long deadline = now_ms() + deadline_ms;
	for (int i = 0; i < t->nentities; i++) {
		if (!is_role(t, i, "certauth"))
			continue;
		int written;
		while (!(written = root_written(rundir, t, f, i)) && now_ms() < deadline)
			usleep(ROUND_MS * 1000);
		if (written < 0)
			return -1;
		if (!written) {
			fprintf(stderr, "testbed: %s did not write its root certificate within %d ms\n", t->entities[i].id,
				deadline_ms);
			report_log(rundir, t->entities[i].id);
			return -1;
		}
	}
	return 0;
}

/* ---- the TREs ------------------------------------------------------------------------------------ */

/* Ready: booted with secure boot passed, and enrolled. why says what is missing. */
static int tre_ready(m2m_node *n, const char *rundir, const tb_topology *t, int i, char *why, size_t len)
{
	tb_tre_status st;
	const char *agency = t->entities[tb_agency_of(t, i)].id, *id = t->entities[i].id;
	if (tb_tre(n, id, M2M_TRE_CTL_STATUS, NULL, NULL, &st, why, len))
		return 0;
	if (!st.booted || !st.secure_boot_ok) {
		snprintf(why, len, "%s (treStatus)", st.booted ? "booted, but secure boot failed" : "not booted");
		return 0;
	}
	if (!st.enrolled) {
		snprintf(why, len, "booted, but not enrolled with %s yet (treStatus)", agency);
		return 0;
	}
	return 1;
}

/* One round over the TREs not ready yet; 1 once all are, -1 when one of them died. */
static int tres_round(m2m_node *n, const char *rundir, const tb_topology *t, tb_fleet *f, int *ready,
		      char (*why)[160])
{
	int all = 1;
	for (int i = 0; i < t->nentities; i++) {
		if (!is_role(t, i, "tre") || ready[i])
			continue;
		if (tb_reap_failure(rundir, t->entities[i].id, &f->daemons[i]))
			return -1;
		ready[i] = tre_ready(n, rundir, t, i, why[i], sizeof why[i]);
		all &= ready[i];
	}
	return all;
}

int tb_wait_tres(const char *rundir, const tb_topology *t, tb_fleet *f, int deadline_ms)
{
	int ready[TB_MAX_ENTITIES] = {0}, rc;
	char why[TB_MAX_ENTITIES][160];
	m2m_node *n = tb_client_open(rundir, QUICK_MS);
	if (!n)
		return -1;
	long long deadline = now_ms() + deadline_ms;
	while (!(rc = tres_round(n, rundir, t, f, ready, why)) && now_ms() < deadline)
		usleep(ROUND_MS * 1000);
	m2m_node_free(n);
	for (int i = 0; rc == 0 && i < t->nentities; i++) {
		if (!is_role(t, i, "tre") || ready[i])
			continue;
		fprintf(stderr, "testbed: %s is not ready within %d ms: %s\n", t->entities[i].id, deadline_ms, why[i]);
		report_log(rundir, t->entities[i].id);
	}
	return rc == 1 ? 0 : -1;
}
