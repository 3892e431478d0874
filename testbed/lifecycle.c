/*
 * `up` and `down`. Up either brings the whole topology and the recorder up, proven by a
 * healthRequest answered by every daemon and every TRE enrolled and booted, or stops whatever it
 * started: never half a testbed. The cards are personalised and the TREs' platform types
 * certified before any daemon starts, so that each uicc finds its image, each home operator its
 * subscribers and each TRE its platform type at their first start. The certification agencies
 * start first: their TREs read the root certificate an agency writes at its start.
 */
#include "testbed.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UP_DEADLINE_MS 10000
#define ROOT_DEADLINE_MS 10000
#define TRE_DEADLINE_MS 10000
#define STOP_GRACE_MS 5000
#define MAX_PIDS (TB_MAX_ENTITIES + 1)

/* The names of the pid files in the run directory ("mno-a", "recorder"). */
static int pid_names(const char *rundir, char (*names)[M2M_ENTITY_MAX + 1], int max)
{
	DIR *d = opendir(rundir);
	int n = 0;
	for (struct dirent *e; d && n < max && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len > 4 && len - 4 <= M2M_ENTITY_MAX && !strcmp(e->d_name + len - 4, ".pid"))
			snprintf(names[n++], M2M_ENTITY_MAX + 1, "%.*s", (int)(len - 4), e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

static void remove_pid_files(const char *rundir)
{
	char names[MAX_PIDS][M2M_ENTITY_MAX + 1], path[PATH_MAX];
	int n = pid_names(rundir, names, MAX_PIDS);
	for (int i = 0; i < n; i++)
		if (!tb_path(path, sizeof path, rundir, names[i], ".pid"))
			unlink(path);
	if (!tb_path(path, sizeof path, rundir, TB_RECORDER, ".ready"))
		unlink(path);
}

/* Refuses to start over a running testbed; pid files of dead processes are just stale. */
static int refuse_if_up(const char *rundir)
{
	char names[MAX_PIDS][M2M_ENTITY_MAX + 1];
	int n = pid_names(rundir, names, MAX_PIDS);
	for (int i = 0; i < n; i++) {
		pid_t pid = tb_pid_running(rundir, names[i]);
		if (pid) {
			fprintf(stderr, "testbed: already up in %s (%s is running as pid %ld); run `testbed down` first\n",
				rundir, names[i], (long)pid);
			return -1;
		}
	}
	remove_pid_files(rundir);
	return 0;
}

static int start_one(const char *rundir, const char *name, char *const argv[], pid_t *pid)
{
	char log[PATH_MAX];
	if (tb_path(log, sizeof log, rundir, name, ".log"))
		return -1;
	*pid = tb_spawn(argv, log);
	if (*pid < 0 || tb_pid_write(rundir, name, *pid))
		return -1;
	printf("started %-10s pid %ld\n", name, (long)*pid);
	return 0;
}

int tb_start_daemon(const char *rundir, const tb_entity *e, pid_t *pid)
{
	char bin[PATH_MAX], conf[PATH_MAX];
	if (tb_role_binary(e->role, bin, sizeof bin) || tb_path(conf, sizeof conf, rundir, e->id, ".conf"))
		return -1;
	char *argv[] = {bin, "-c", conf, NULL};
	return start_one(rundir, e->id, argv, pid);
}

/* The agencies (agencies 1) or every other daemon (agencies 0). */
static int start_daemons(const char *rundir, const tb_topology *t, tb_fleet *f, int agencies)
{
	for (int i = 0; i < t->nentities; i++) {
		const tb_entity *e = &t->entities[i];
		if ((strcmp(e->role, "certauth") == 0) != agencies)
			continue;
		if (tb_start_daemon(rundir, e, &f->daemons[i]))
			return -1;
	}
	return 0;
}

/* The recorder is this same program's hidden `record` sub-command. */
static int start_recorder(const char *rundir, tb_fleet *f)
{
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) {
		fprintf(stderr, "testbed: cannot find my own executable: %s\n", strerror(errno));
		return -1;
	}
	self[n] = 0;
	snprintf(dir, sizeof dir, "%s", rundir);
	char *argv[] = {self, "-d", dir, "record", NULL};
	return start_one(rundir, TB_RECORDER, argv, &f->recorder);
}

static void stop_fleet(const char *rundir, const tb_topology *t, const tb_fleet *f)
{
	pid_t pids[MAX_PIDS];
	int n = 0;
	for (int i = 0; i < t->nentities; i++)
		pids[n++] = f->daemons[i];
	pids[n++] = f->recorder;
	tb_stop_all(pids, n, STOP_GRACE_MS);
	remove_pid_files(rundir);
}

/* Every binary is checked before anything starts, so a missing one costs no clean-up. */
static int check_binaries(const tb_topology *t)
{
	char bin[PATH_MAX];
	for (int i = 0; i < t->nentities; i++)
		if (tb_role_binary(t->entities[i].role, bin, sizeof bin))
			return -1;
	return (t->ncards && tb_admin_check()) || tb_certify_check(t) || tb_manufacture_check(t) ? -1 : 0;
}

/* Cards and platform types, which the daemons find at their first start. */
static int provision(const char *rundir, const tb_topology *t)
{
	if (tb_provision(rundir, t)) {
		fprintf(stderr, "testbed: up failed while personalising the cards; no daemon was started\n");
		return -1;
	}
	if (tb_certify(rundir, t)) {
		fprintf(stderr, "testbed: up failed while certifying the TREs' platform types; no daemon was started\n");
		return -1;
	}
	return 0;
}

static int start_fleet(const char *rundir, const tb_topology *t, tb_fleet *f)
{
	return start_daemons(rundir, t, f, 1) || tb_wait_roots(rundir, t, f, ROOT_DEADLINE_MS) ||
	       start_daemons(rundir, t, f, 0) || start_recorder(rundir, f) || tb_wait_up(rundir, t, f, UP_DEADLINE_MS) ||
	       tb_wait_tres(rundir, t, f, TRE_DEADLINE_MS) || tb_manufacture(rundir, t, TRE_DEADLINE_MS);
}

int tb_cmd_up(tb_opts *o, int argc, char **argv)
{
	tb_topology *t = tb_topology_load(o->topology);
	/* socket lengths are checked before anything is created, and again once symlinks are resolved */
	if (!t || tb_rundir_check_lengths(o->rundir, t) || tb_rundir_resolve(o, 1) ||
	    tb_rundir_check_lengths(o->rundir, t) || refuse_if_up(o->rundir) ||
	    check_binaries(t) || tb_rundir_generate(o->rundir, o->topology, t)) {
		tb_topology_free(t);
		return 1;
	}
	if (provision(o->rundir, t)) {
		tb_topology_free(t);
		return 1;
	}
	tb_fleet f;
	memset(&f, 0, sizeof f);
	int rc = start_fleet(o->rundir, t, &f);
	if (rc) {
		stop_fleet(o->rundir, t, &f);
		fprintf(stderr, "testbed: up failed; everything it had started is stopped\n");
	} else {
		printf("testbed is up in %s: %d daemons answer healthRequest, every TRE is enrolled, booted and holds "
		       "its PCID, the recorder writes trace.jsonl\n",
		       o->rundir, t->nentities);
	}
	tb_topology_free(t);
	return rc ? 1 : 0;
}

int tb_cmd_down(tb_opts *o, int argc, char **argv)
{
	if (access(o->rundir, F_OK) || tb_rundir_resolve(o, 0)) {
		printf("testbed: nothing to stop (no run directory %s)\n", o->rundir);
		return 0;
	}
	char names[MAX_PIDS][M2M_ENTITY_MAX + 1];
	pid_t pids[MAX_PIDS];
	int n = pid_names(o->rundir, names, MAX_PIDS), running = 0;
	for (int i = 0; i < n; i++) {
		pids[i] = tb_pid_running(o->rundir, names[i]);
		running += pids[i] != 0;
	}
	tb_stop_all(pids, n, STOP_GRACE_MS);
	remove_pid_files(o->rundir);
	int left = 0;
	for (int i = 0; i < n; i++)
		if (tb_alive(pids[i])) {
			fprintf(stderr, "testbed: %s (pid %ld) is still alive\n", names[i], (long)pids[i]);
			left++;
		}
	if (left)
		return 1;
	printf("testbed is down in %s (%d processes stopped)\n", o->rundir, running);
	return 0;
}
