/*
 * The factory step of Alternative 1a at `up` (docs/alt1a.md, "Preconditions"): once the
 * registration operator runs, the testbed, as the equipment supplier, has `m2m-manufacture`
 * fetch one PCID per TRE from its ICF into RUNDIR/keys/ID.pcid, and waits until every TRE has
 * taken its file in (a TRE seals the PCID into its own store and deletes the file). Every TRE
 * leaves the factory with a PCID, as a real fleet would; only the devices without a card use it.
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 50

static int has_tres(const tb_topology *t)
{
	for (int i = 0; i < t->nentities; i++)
		if (!strcmp(t->entities[i].role, "tre"))
			return 1;
	return 0;
}

int tb_manufacture_check(const tb_topology *t)
{
	char bin[PATH_MAX];
	return tb_registration_operator(t) && has_tres(t) ? tb_build_binary(TB_MANUFACTURE, bin, sizeof bin) : 0;
}

static int pcid_path(char *out, size_t len, const char *rundir, const char *tre)
{
	char dir[PATH_MAX];
	return tb_path(dir, sizeof dir, rundir, "keys", "") || tb_path(out, len, dir, tre, ".pcid");
}

/* m2m-manufacture -c RUNDIR/testbed.conf --icf DRF --out RUNDIR/keys TRE... */
static int run_tool(const char *rundir, const tb_topology *t, const char *icf)
{
	char keys[PATH_MAX];
	const char *args[TB_MAX_ENTITIES + 8];
	int n = 0;
	if (tb_path(keys, sizeof keys, rundir, "keys", ""))
		return -1;
	args[n++] = "--icf";
	args[n++] = icf;
	args[n++] = "--out";
	args[n++] = keys;
	for (int i = 0; i < t->nentities; i++)
		if (!strcmp(t->entities[i].role, "tre"))
			args[n++] = t->entities[i].id;
	args[n] = NULL;
	tb_buf out = {0}, err = {0};
	int rc = tb_tool(TB_MANUFACTURE, rundir, TB_SELF, args, &out, &err);
	if (rc) {
		char how[64];
		fprintf(stderr, "testbed: m2m-manufacture at %s %s\n%s%s", icf, tb_tool_status(rc, how, sizeof how),
			out.data ? out.data : "", err.data ? err.data : "");
	} else {
		printf("%s", out.data ? out.data : "");
	}
	tb_buf_free(&out);
	tb_buf_free(&err);
	return rc ? -1 : 0;
}

/* The TRE that has not taken its PCID file in, or NULL when all have. */
static const char *waiting_tre(const char *rundir, const tb_topology *t)
{
	char path[PATH_MAX];
	for (int i = 0; i < t->nentities; i++)
		if (!strcmp(t->entities[i].role, "tre") &&
		    (pcid_path(path, sizeof path, rundir, t->entities[i].id) || access(path, F_OK) == 0))
			return t->entities[i].id;
	return NULL;
}

int tb_manufacture(const char *rundir, const tb_topology *t, int deadline_ms)
{
	const char *icf = tb_registration_operator(t);
	if (!icf || !has_tres(t))
		return 0;
	if (run_tool(rundir, t, icf))
		return -1;
	for (int waited = 0;; waited += POLL_MS) {
		const char *tre = waiting_tre(rundir, t);
		if (!tre)
			return 0;
		if (waited >= deadline_ms) {
			fprintf(stderr, "testbed: %s did not take in its PCID file within %d ms\n", tre, deadline_ms);
			return -1;
		}
		nanosleep(&(struct timespec){0, POLL_MS * 1000000L}, NULL);
	}
}
