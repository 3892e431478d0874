/*
 * `crash ID`: a power cut of one daemon, for the crash tests of the change of subscription
 * (docs/alt1a-change.md, "Crash safety"). SIGKILL runs no handler and finishes no transaction:
 * the daemon keeps only what SQLite had committed. It is then started again exactly as `up`
 * started it (same configuration, log appended, pid file rewritten) and counts as back once it
 * answers healthRequest, and a TRE once it is booted and enrolled again, as `up` waits for.
 */
#include "testbed.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define GONE_MS 5000
#define BACK_MS 10000

/* SIGKILL, then wait until it is gone (a zombie counts as gone: it runs no more code). */
static int kill_hard(const char *id, pid_t pid)
{
	if (kill(pid, SIGKILL)) {
		perror("testbed: kill");
		return -1;
	}
	if (tb_wait_gone(&pid, 1, GONE_MS)) {
		fprintf(stderr, "testbed: %s (pid %ld) still runs %d ms after SIGKILL\n", id, (long)pid, GONE_MS);
		return -1;
	}
	printf("killed %-10s pid %ld (SIGKILL)\n", id, (long)pid);
	return 0;
}

/* Started as `up` starts it; back when it answers healthRequest (a TRE: ready as at `up`). */
static int restart(const char *rundir, const tb_topology *t, int i)
{
	tb_fleet f;
	memset(&f, 0, sizeof f);  /* only the restarted one is ours to watch for an early exit */
	if (tb_start_daemon(rundir, &t->entities[i], &f.daemons[i]) || tb_wait_up(rundir, t, &f, BACK_MS))
		return -1;
	if (!strcmp(t->entities[i].role, "tre") && tb_wait_tres(rundir, t, &f, BACK_MS))
		return -1;
	return 0;
}

int tb_cmd_crash(tb_opts *o, int argc, char **argv)
{
	const char *id = argv[1];
	tb_topology *t = tb_rundir_resolve(o, 0) ? NULL : tb_rundir_topology(o->rundir, 0);
	if (!t)
		return 1;
	int i = tb_entity_index(t, id), rc = 1;
	pid_t pid = i < 0 ? 0 : tb_pid_running(o->rundir, id);
	if (i < 0) {
		fprintf(stderr, "testbed: no daemon named \"%s\" in the topology of %s\n", id, o->rundir);
		rc = 2;
	} else if (!pid) {
		fprintf(stderr, "testbed: %s is not running in %s: nothing to crash\n", id, o->rundir);
	} else if (kill_hard(id, pid) == 0 && restart(o->rundir, t, i) == 0) {
		printf("%s is back: it answers healthRequest%s\n", id,
		       strcmp(t->entities[i].role, "tre") ? "" : ", booted and enrolled");
		rc = 0;
	} else {
		fprintf(stderr, "testbed: %s did not come back; `testbed down` stops whatever was started\n", id);
	}
	tb_topology_free(t);
	return rc;
}
