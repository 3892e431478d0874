/*
 * Processes: where the daemon binaries are, starting one in its own session with its output
 * in a log, pid files, and stopping. A pid file is trusted only while its process is alive
 * and its command line names our run directory, so that a recycled pid is never signalled.
 */
#include "testbed.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int tb_build_binary(const char *rel, char *out, size_t len)
{
	char base[PATH_MAX];
	const char *env = getenv("M2M_BIN_DIR");
	if (env && env[0]) {
		snprintf(base, sizeof base, "%s", env);
	} else {
		/* BUILD/testbed/testbed -> BUILD */
		ssize_t n = readlink("/proc/self/exe", base, sizeof base - 1);
		if (n < 0) {
			fprintf(stderr, "testbed: cannot find my own executable: %s\n", strerror(errno));
			return -1;
		}
		base[n] = 0;
		char *build = dirname(dirname(base));
		memmove(base, build, strlen(build) + 1);
	}
	int n = snprintf(out, len, "%s/%s", base, rel);
	if (n < 0 || (size_t)n >= len || access(out, X_OK)) {
		fprintf(stderr, "testbed: no %s at %s%s\n", strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel, out,
			env && env[0] ? " (from M2M_BIN_DIR)" : " (build it, or set M2M_BIN_DIR to its build directory)");
		return -1;
	}
	return 0;
}

int tb_role_binary(const char *role, char *out, size_t len)
{
	char rel[64];
	snprintf(rel, sizeof rel, "%s/%s", role, role);
	return tb_build_binary(rel, out, len);
}

pid_t tb_spawn(char *const argv[], const char *log_path)
{
	fflush(NULL);  /* the child must not repeat our buffered output */
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "testbed: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* its own session: a ^C at the terminal that ran `up` does not reach the daemons */
	setsid();
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	int null = open("/dev/null", O_RDONLY);
	if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	close(fd);
	close(null);
	execv(argv[0], argv);
	fprintf(stderr, "testbed: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int tb_pid_write(const char *rundir, const char *name, pid_t pid)
{
	char path[PATH_MAX], text[32];
	if (tb_path(path, sizeof path, rundir, name, ".pid"))
		return -1;
	snprintf(text, sizeof text, "%ld\n", (long)pid);
	return tb_write_file(path, text, 0644);
}

/* /proc/PID/stat: "pid (comm) S ...", where comm may itself hold spaces and parentheses. */
static char process_state(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	char *stat = tb_read_file(path, 0, NULL);
	char *close_paren = stat ? strrchr(stat, ')') : NULL;
	char state = close_paren && close_paren[1] == ' ' ? close_paren[2] : '?';
	free(stat);
	return state;
}

int tb_alive(pid_t pid)
{
	if (pid <= 0 || (kill(pid, 0) && errno != EPERM))
		return 0;
	char s = process_state(pid);
	return s != 'Z' && s != 'X';
}

/* Whether an argument of pid is the run directory or a file in it (argv is NUL-separated):
 * daemons get -c RUNDIR/ID.conf, the recorder -d RUNDIR. */
static int runs_in(pid_t pid, const char *rundir)
{
	char path[64];
	size_t len, n = strlen(rundir);
	snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
	char *cmd = tb_read_file(path, 0, &len);
	int found = 0;
	for (size_t i = 0; cmd && i < len && !found; i += strlen(cmd + i) + 1)
		found = !strncmp(cmd + i, rundir, n) && (cmd[i + n] == 0 || cmd[i + n] == '/');
	free(cmd);
	return found;
}

pid_t tb_pid_running(const char *rundir, const char *name)
{
	char path[PATH_MAX];
	if (tb_path(path, sizeof path, rundir, name, ".pid"))
		return 0;
	char *text = tb_read_file(path, 0, NULL);
	long pid = text ? strtol(text, NULL, 10) : 0;
	free(text);
	return pid > 0 && tb_alive((pid_t)pid) && runs_in((pid_t)pid, rundir) ? (pid_t)pid : 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

int tb_wait_gone(const pid_t *pids, int n, int ms)
{
	for (int waited = 0;; waited += 20) {
		int living = 0;
		for (int i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			waitpid(pids[i], NULL, WNOHANG);  /* reaps it when it is our child */
			living += tb_alive(pids[i]);
		}
		if (!living || waited >= ms)
			return living;
		sleep_ms(20);
	}
}

void tb_stop_all(const pid_t *pids, int n, int grace_ms)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	if (!tb_wait_gone(pids, n, grace_ms))
		return;
	for (int i = 0; i < n; i++)
		if (pids[i] > 0 && tb_alive(pids[i])) {
			fprintf(stderr, "testbed: pid %ld ignored SIGTERM for %d ms: killing it\n", (long)pids[i], grace_ms);
			kill(pids[i], SIGKILL);
		}
	if (tb_wait_gone(pids, n, 2000))
		fprintf(stderr, "testbed: some processes survived SIGKILL\n");
}

void tb_print_log_tail(const char *path, int lines)
{
	size_t len;
	char *text = tb_read_file(path, 0, &len);
	if (!text || !len) {
		fprintf(stderr, "  (%s is empty)\n", path);
		free(text);
		return;
	}
	size_t start = len;
	if (text[start - 1] == '\n')
		start--;
	for (int k = 0; start > 0; start--)
		if (text[start - 1] == '\n' && ++k == lines)
			break;
	fprintf(stderr, "  last lines of %s:\n", path);
	for (char *line = strtok(text + start, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "  | %s\n", line);
	free(text);
}
