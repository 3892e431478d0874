/*
 * The tests' hands on the testbed tool and its run directory (test_tool.h).
 */
#include "test_tool.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 16

char rundir[64];

void tool_setup(void)
{
	snprintf(rundir, sizeof rundir, "/tmp/tbXXXXXX");
	cr_assert_not_null(mkdtemp(rundir));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* argv = {TESTBED_BIN, "-d", rundir, the arguments..., NULL}. */
static void command_line(char **argv, va_list ap)
{
	int argc = 0;
	argv[argc++] = TESTBED_BIN;
	argv[argc++] = "-d";
	argv[argc++] = rundir;
	for (char *a; argc < MAX_ARGS - 1 && (a = va_arg(ap, char *));)
		argv[argc++] = a;
	argv[argc] = NULL;
}

/* The tool with stdout and stderr on out. */
static pid_t spawn(char **argv, int out)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out, 1);
		dup2(out, 2);
		close(out);
		execv(argv[0], argv);
		_exit(127);
	}
	cr_assert_geq(pid, 0, "fork");
	close(out);
	return pid;
}

int tool_wait(pid_t pid)
{
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void expect_no_sanitizer_report(const char *out, const char *command)
{
	cr_expect(!strstr(out, "Sanitizer") && !strstr(out, "runtime error"), "testbed %s: sanitizer report", command);
}

char *tool(int *status, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;
	va_start(ap, status);
	command_line(argv, ap);
	va_end(ap);
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	pid_t pid = spawn(argv, fds[1]);
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	for (ssize_t n; (n = read(fds[0], out + len, cap - len - 1)) > 0;)
		if ((len += (size_t)n) + 1 == cap)
			out = realloc(out, cap *= 2);
	out[len] = 0;
	close(fds[0]);
	*status = tool_wait(pid);
	printf("$ testbed %s ... -> %d\n%s", argv[3], *status, out);  /* shown when a test fails */
	expect_no_sanitizer_report(out, argv[3]);
	return out;
}

void expect_ok(const char *command)
{
	int st;
	free(tool(&st, command, NULL));
	cr_assert_eq(st, 0, "testbed %s exited with %d", command, st);
}

pid_t tool_start(const char *out_name, ...)
{
	char *argv[MAX_ARGS], path[256];
	va_list ap;
	va_start(ap, out_name);
	command_line(argv, ap);
	va_end(ap);
	snprintf(path, sizeof path, "%s/%s", rundir, out_name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "%s", path);
	return spawn(argv, fd);
}

char *read_text(const char *name)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", rundir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

void expect_clean_logs(void)
{
	DIR *d = opendir(rundir);
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".log"))
			continue;
		char *text = read_text(e->d_name);
		cr_expect(!strstr(text, "Sanitizer") && !strstr(text, "runtime error"), "%s:\n%s", e->d_name, text);
		free(text);
	}
	closedir(d);
}

void tool_teardown(void)
{
	int st;
	free(tool(&st, "down", NULL));
	reap();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", rundir);
	cr_expect_eq(system(cmd), 0);
}
