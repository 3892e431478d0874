/*
 * Issue 7, the crash safety of Alternative 3b (docs/alt3b.md, "Crash safety"): a kill -9 of any
 * daemon the change involves (the DRF, the operators A and B, the visited network, the agency with
 * its PVA, the device, its TRE and its card) at any step of it, then a restart, ends with the
 * device attached with A's IMSI or B's, never neither, never both active:
 *   - the device works on A or on B (3b-recover's last step says which, and with what IMSI);
 *   - uicc-5's EF_IMSI (its database, read-only) is the IMSI the device works with;
 *   - on A: A's record of the card's IMSI is active and B's, if B made one, is not active;
 *   - on B: B's record is active and A's is deleted (A deactivated it only after the switch).
 *
 * One case per step, as test_crash_3a.c: a fresh testbed, `run 3b` in the background while the
 * test watches RUNDIR/trace.jsonl; as soon as the step's message is there its daemon is frozen
 * and, after the case's outage, `testbed crash DAEMON` kills it and starts it again; then `run
 * 3b-recover` and the invariants. Each case says on stderr where the device ended.
 */
#include "test_crash_tool.h"
#include "test_tool.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGE_MAX_S 90 /* 3b after the kill: every wait of it is bounded */
#define OUTAGE_MS 2000  /* longer than a daemon's whole call (500 ms x 3 attempts): the peers give up */
#define CARD "uicc-5"
#define IMSI_A "001010000000005" /* uicc-5's IMSI and ICCID in testbed/topology.conf */
#define ICCID "8900101000000000050"
#define PLMN_B "00102"

typedef struct change_case {
	crash_case step;
	int outage_ms;
} change_case;

/* The locked request is notified too (and refused): the change's changeNotify is the second. */
static const change_case cases[] = {
	{{"changeNotify", "drf", "mno-a", NULL, 2, "mno-a"}, 0},
	{{"changeConsent", "mno-a", "drf", NULL, 1, "drf"}, OUTAGE_MS},
	{{"treTrigger", "drf", "mno-a", NULL, 1, "mno-a"}, OUTAGE_MS},
	{{"treTrigger", "mno-v", "m2me-5", NULL, 1, "m2me-5"}, 0},
	{{"treTriggerAck", "tre-5", "m2me-5", NULL, 1, "m2me-5"}, OUTAGE_MS},
	{{"apduCommand", "m2me-5", CARD, "apdu=8084", 1, CARD}, 0}, /* GET CHALLENGE */
	{{"uiccChangeRegister", "mno-v", "drf", NULL, 1, "drf"}, 0},
	{{"uiccCredentialOrder", "drf", "mno-b", NULL, 1, "mno-b"}, 0},
	{{"validationRequest", "mno-b", "certauth", "tre=tre-5", 1, "certauth"}, OUTAGE_MS},
	{{"uiccCredentialPackage", "mno-b", "drf", NULL, 1, "drf"}, 0},
	{{"uiccCredentialDelivery", "drf", "mno-v", NULL, 1, "tre-5"}, 0},
	{{"apduCommand", "m2me-5", CARD, "apdu=80e2", 2, "m2me-5"}, 0},  /* in the STORE DATA chain */
	{{"apduCommand", "m2me-5", CARD, "apdu=8038", 1, CARD}, 0},      /* SWITCH */
	{{"authInfoRequest", "mno-v", "mno-b", "imsi=" PLMN_B, 1, "mno-b"}, 0}, /* the first attach with B */
	{{"treAttached", "m2me-5", "tre-5", "imsi=" PLMN_B, 1, "tre-5"}, 0},
	{{"uiccChangeComplete", "mno-v", "drf", NULL, 1, "drf"}, OUTAGE_MS},
	{{"apduCommand", "m2me-5", CARD, "apdu=803a", 1, "m2me-5"}, 0},  /* COMMIT */
	{{"uiccRelease", "drf", "mno-a", NULL, 1, "mno-a"}, OUTAGE_MS},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

TestSuite(crash3b, .init = tool_setup, .fini = tool_teardown);

ParameterizedTestParameters(crash3b, a_kill_at_any_step_of_the_change_ends_on_a_or_b)
{
	static int index[NCASES];
	for (int i = 0; i < NCASES; i++)
		index[i] = i;
	return cr_make_param_array(int, index, NCASES);
}

ParameterizedTest(int *i, crash3b, a_kill_at_any_step_of_the_change_ends_on_a_or_b, .timeout = 180)
{
	const change_case *c = &cases[*i];
	static const crash_run run = {"3b", "3b-recover", CHANGE_MAX_S};
	expect_ok("up");
	char outcome[300];
	char *out = crash_and_recover(&c->step, c->outage_ms, &run, outcome, sizeof outcome);
	static const card_change card = {CARD, IMSI_A, ICCID, PLMN_B};
	expect_card_on_a_or_b(out, &card, &c->step, c->outage_ms, outcome);
	free(out);
	expect_clean_logs();
}
