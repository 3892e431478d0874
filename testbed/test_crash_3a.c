/*
 * Issue 6, the crash safety of Alternative 3a's port (docs/alt3a.md, "Crash safety"): a kill -9
 * of any daemon the port involves (the operators A and B, the visited network, the device and its
 * card) at any step of it, then a restart, ends with the device attached with the old IMSI or the
 * new one, the two operators agreeing which (A's record active and B's pending, or A's deleted and
 * B's active), and the card's EF_IMSI saying that same IMSI.
 *
 * One case per step: a fresh testbed, `run 3a` in the background while the test watches
 * RUNDIR/trace.jsonl; as soon as the step's message is there its daemon is frozen (SIGSTOP) and,
 * after the case's outage, `testbed crash DAEMON` kills it and starts it again. With no outage the
 * peers' retries may bridge the restart; with a long one they give up and only what each party
 * persisted, its ticks and the device's next attempt can finish the port. 3a then ends as it may
 * (noted), `run 3a-recover` keeps the device attached until B's port is over, and the invariants
 * are checked:
 *   - the device works on A or on B (3a-recover's last step says which, and with what IMSI);
 *   - A's record of the card's first IMSI is active (on A) or deleted (on B);
 *   - B's record of the new IMSI is active (on B), or pending or absent (on A);
 *   - uicc-4's EF_IMSI (its database, read-only) is the IMSI the device works with.
 * Each case says on stderr where the device ended, for the test log.
 */
#include "test_crash_tool.h"
#include "test_tool.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PORT_MAX_S 90  /* 3a after the kill: every wait of it is bounded */
#define OUTAGE_MS 2000 /* longer than a daemon's whole call (500 ms x 3 attempts): the peers give up */
#define IMSI_A "001010000000004"   /* uicc-4's IMSI and ICCID in testbed/topology.conf */
#define ICCID "8900101000000000043"
#define PLMN_B "00102"

/* A step of the port and how long its daemon stays down. */
typedef struct port_case {
	crash_case step;
	int outage_ms;
} port_case;

/* The forged and the locked request come first, both refused: the port's portRequest is the third. */
static const port_case cases[] = {
	{{"portRequest", "mno-b", "mno-a", NULL, 3, "mno-a"}, 0},
	{{"portResponse", "mno-a", "mno-b", NULL, 1, "mno-b"}, OUTAGE_MS},
	{{"portTransfer", "mno-a", "mno-b", NULL, 1, "mno-b"}, 0},
	{{"portTransferAck", "mno-b", "mno-a", NULL, 1, "mno-a"}, OUTAGE_MS},
	{{"smsDeliver", "mno-a", "mno-v", NULL, 1, "mno-v"}, 0},
	{{"smsDeliver", "mno-v", "m2me-4", NULL, 1, "m2me-4"}, OUTAGE_MS},
	{{"apduCommand", "m2me-4", "uicc-4", "apdu=80c2", 1, "uicc-4"}, 0}, /* the ENVELOPE in the card */
	{{"smsReport", "m2me-4", "mno-v", NULL, 1, "m2me-4"}, 0},          /* EF_IMSI rewritten, REFRESH pending */
	{{"smsReport", "mno-v", "mno-a", NULL, 1, "mno-a"}, OUTAGE_MS},    /* the PoR lost at A */
	{{"detachRequest", "m2me-4", "mno-v", NULL, 1, "m2me-4"}, OUTAGE_MS},
	{{"authInfoRequest", "mno-v", "mno-b", "imsi=" PLMN_B, 1, "mno-b"}, 0}, /* the first attach with B */
	{{"portComplete", "mno-b", "mno-a", NULL, 1, "mno-a"}, 0},
	{{"portCompleteAck", "mno-a", "mno-b", NULL, 1, "mno-b"}, OUTAGE_MS},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* ---- the cases ----------------------------------------------------------------------------------- */

TestSuite(crash3a, .init = tool_setup, .fini = tool_teardown);

ParameterizedTestParameters(crash3a, a_kill_at_any_step_of_the_port_ends_on_a_or_b)
{
	static int index[NCASES];
	for (int i = 0; i < NCASES; i++)
		index[i] = i;
	return cr_make_param_array(int, index, NCASES);
}

ParameterizedTest(int *i, crash3a, a_kill_at_any_step_of_the_port_ends_on_a_or_b, .timeout = 180)
{
	const port_case *c = &cases[*i];
	static const crash_run run = {"3a", "3a-recover", PORT_MAX_S};
	expect_ok("up");
	char outcome[300];
	char *out = crash_and_recover(&c->step, c->outage_ms, &run, outcome, sizeof outcome);
	static const card_change card = {"uicc-4", IMSI_A, ICCID, PLMN_B};
	expect_card_on_a_or_b(out, &card, &c->step, c->outage_ms, outcome);
	free(out);
	expect_clean_logs();
}
