/*
 * What the kill -9 tests share (test_crash.c for Alternative 1a's change of subscription,
 * test_crash_3a.c for Alternative 3a's port): a scenario run in the background while the test
 * reads the lines the recorder appends to RUNDIR/trace.jsonl, the daemon of a step frozen the
 * moment the step's message is there, `testbed crash` after the outage, and the interrupted run's
 * outcome for the log.
 */
#ifndef TEST_CRASH_TOOL_H
#define TEST_CRASH_TOOL_H

#include <sqlite3.h>
#include <stddef.h>
#include <sys/types.h>

/* A step of a procedure: the nth message of type from -> to in the scenario's part of the trace
 * (with summary in its line when set, a retry of a transaction not counted again), and the daemon
 * killed as soon as it appears. */
typedef struct crash_case {
	const char *type, *from, *to, *summary;
	int nth;
	const char *victim;
} crash_case;

/* The size of RUNDIR/NAME: where the next scenario's part of a file begins. */
long file_size(const char *name);
/* Polls the trace from pos until the case's message appears (1) or the run ends first (0, with
 * its exit status in *status). */
int wait_for_step(const crash_case *c, long pos, pid_t run, int *status);
/* SIGSTOP to the victim: it does nothing more while `testbed crash` starts (tens of
 * milliseconds, in which the procedure would run several steps further) and kills it. */
void freeze(const char *victim);
/* Waits for the run, killing it (and failing the test) after max_s; its exit status. */
int wait_capped(pid_t run, int max_s);
/* How an interrupted run ended, for the log: "passed" or "failed (step N failed: ...)", from the
 * output it wrote to RUNDIR/out_name. */
void describe_run(const char *out_name, int status, char *out, size_t len);
/* `run SCENARIO` that must pass. */
void run_passing(const char *scenario);
/* The case's victim frozen, then after outage_ms killed and started again (`testbed crash`). */
void crash_victim(const crash_case *c, int outage_ms);

/* A scenario interrupted, and the one that recovers after it. */
typedef struct crash_run {
	const char *scenario, *recover;
	int max_s;  /* how long the interrupted scenario may take after the kill */
} crash_run;
/* One case on the testbed that is up: `run scenario` in the background until the case's message
 * is in the trace, the victim crashed after outage_ms, how the run ended into outcome, then
 * `run recover`, which must pass: its output (the caller frees). */
char *crash_and_recover(const crash_case *c, int outage_ms, const crash_run *r, char *outcome, size_t len);

/* A daemon's database RUNDIR/ID.db opened read-only (it may be running) with sql prepared: the
 * statement, its database in *db; close both with query_end. */
sqlite3_stmt *query(const char *id, const char *sql, sqlite3 **db);
void query_end(sqlite3_stmt *st, sqlite3 *db);

/* A recovery scenario's last step, "(on A: IMSI 00101...": the side ('A', 'B') and the IMSI. */
char where_it_ended(const char *out, char imsi[16]);
/* `mno-admin show IMSI` at the operator: its exit status, and the word of its "state:" line
 * ("active", "pending", "deleted") into state ("" when none). */
int admin_state(const char *operator, const char *imsi, char *state, size_t len);

/* A change of operator with the card in place (3a, 3b): the card, its first IMSI and ICCID, and
 * the PLMN of B's IMSIs. */
typedef struct card_change {
	const char *card, *imsi_a, *iccid, *plmn_b;
} card_change;
/* The invariants after recover_out: the device on A or B (the recovery's last step), the card's
 * EF_IMSI that IMSI; on A, A's record active and B's for the card pending or absent; on B, B's
 * active and A's deleted. The case and how the interrupted run ended go to stderr. */
void expect_card_on_a_or_b(const char *recover_out, const card_change *k, const crash_case *c, int outage_ms,
			   const char *outcome);

/* A card's EF_IMSI (its database, read-only), decoded. */
void card_imsi(const char *card, char imsi[16]);
/* The IMSI of plmn that operator op holds a live record of for the card iccid (mno-admin list and
 * show); "" when none. A deleted record is not the card's IMSI any more. */
void new_imsi(const char *op, const char *plmn, const char *iccid, char imsi[16]);

#endif
