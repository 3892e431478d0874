/*
 * What the end-to-end tests of the testbed tool share (test_testbed.c, test_crash.c): a private
 * run directory under /tmp per test (short, so that socket paths fit; unique, so that tests
 * never share sockets), the tool run on it, and its files read back. The test process makes
 * itself a child subreaper: the daemons outlive `testbed up`, and someone must reap them once
 * they are stopped or killed, or kill(pid, 0) would still find their zombies.
 */
#ifndef TEST_TOOL_H
#define TEST_TOOL_H

#include <sys/types.h>

/* The current test's run directory. */
extern char rundir[64];

/* Criterion .init and .fini: a fresh run directory; `down`, the zombies reaped, the directory removed. */
void tool_setup(void);
void tool_teardown(void);
/* Reaps every child that has ended (the daemons are ours once their parent `testbed up` is gone). */
void reap(void);

/* Runs `testbed -d RUNDIR ARGS...` (NULL-terminated) to its end; its output (stdout and
 * stderr), which the caller frees, and its exit status (128 + signal when killed). A sanitizer
 * report in the output fails the test. */
char *tool(int *status, ...);
/* tool() that must exit 0. */
void expect_ok(const char *command);
/* Starts `testbed -d RUNDIR ARGS...` without waiting, its output into RUNDIR/out_name. */
pid_t tool_start(const char *out_name, ...);
/* Waits for a tool_start(); its exit status as tool() gives it. */
int tool_wait(pid_t pid);

/* RUNDIR/NAME read whole, NUL-terminated; NULL when it cannot be read. */
char *read_text(const char *name);
/* A sanitizer report in any log of the run directory fails the test. */
void expect_clean_logs(void);

#endif
