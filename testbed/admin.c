/*
 * The administration tools the testbed runs as an entity's staff would, each on the entity's
 * own configuration file (`TOOL -c RUNDIR/ID.conf ARGS...`): the home operator's `mno-admin`
 * (built in mno/hss) to personalise cards at `up` and to suspend, resume and show subscribers in
 * scenarios, and the certification agency's `certauth-admin` to certify platform types at `up`
 * and to see what it issued. Both work on the entity's database whether its daemon runs or not.
 */
#include "testbed.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ADMIN_MAX_ARGS 32

int tb_admin_check(void)
{
	char bin[PATH_MAX];
	return tb_build_binary(TB_MNO_ADMIN, bin, sizeof bin);
}

static void child(char *const argv[], int out, int err)
{
	int null = open("/dev/null", O_RDONLY);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(126);
	execv(argv[0], argv);
	fprintf(stderr, "testbed: cannot execute %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reads both pipes until the program closes them: neither can fill up and block it. */
static void collect(int out, int err, tb_buf *bout, tb_buf *berr)
{
	struct pollfd p[2] = {{.fd = out, .events = POLLIN}, {.fd = err, .events = POLLIN}};
	tb_buf *into[2] = {bout, berr};
	char chunk[4096];
	for (int open_fds = 2; open_fds > 0;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t n = read(p[i].fd, chunk, sizeof chunk);
			if (n > 0 && into[i])
				tb_buf_printf(into[i], "%.*s", (int)n, chunk);
			if (n == 0 || (n < 0 && errno != EINTR)) {
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
}

/* Runs argv with its output captured; the exit status, or -1 when it could not run. */
static int run_captured(char *const argv[], tb_buf *out, tb_buf *err)
{
	int po[2], pe[2];
	if (pipe(po))
		return -1;
	if (pipe(pe)) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(po[0]);
		close(pe[0]);
		child(argv, po[1], pe[1]);
	}
	close(po[1]);
	close(pe[1]);
	if (pid > 0)
		collect(po[0], pe[0], out, err);
	close(po[0]);
	close(pe[0]);
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tb_tool(const char *tool, const char *rundir, const char *id, const char *const *args, tb_buf *out, tb_buf *err)
{
	char bin[PATH_MAX], conf[PATH_MAX];
	char *argv[ADMIN_MAX_ARGS + 4] = {bin, "-c", conf};
	int n = 3;
	if (tb_build_binary(tool, bin, sizeof bin) || tb_path(conf, sizeof conf, rundir, id, ".conf"))
		return -1;
	for (; args[n - 3] && n < ADMIN_MAX_ARGS + 3; n++)
		argv[n] = (char *)args[n - 3];
	argv[n] = NULL;
	/* the captured output must end in a string even when the tool said nothing */
	if (out)
		tb_buf_printf(out, "%s", "");
	if (err)
		tb_buf_printf(err, "%s", "");
	return run_captured(argv, out, err);
}

int tb_admin(const char *rundir, const char *operator_id, const char *const *args, tb_buf *out, tb_buf *err)
{
	return tb_tool(TB_MNO_ADMIN, rundir, operator_id, args, out, err);
}

const char *tb_tool_status(int rc, char *buf, size_t len)
{
	if (rc < 0)
		snprintf(buf, len, "did not run");
	else
		snprintf(buf, len, "exited with status %d%s", rc, rc == 2 ? " (bad usage or configuration)" : "");
	return buf;
}
