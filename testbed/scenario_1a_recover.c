/*
 * 1a-recover: what the device of Alternative 1a and its subscriber do after an interruption,
 * typically a daemon killed during 1a-change (`testbed crash ID`, test_crash.c). Nothing is reset:
 * the scenario takes m2me-3 as the interruption left it. Within RECOVER_MS it gets the device
 * powered on and attached with what tre-3 names, then runs the TRE's procedure (deviceControl
 * provision) until it answers deviceStatus, or until the procedure ends failed the same way twice
 * in a row (nothing left to do: the DRF or a DPF refuses it for good). Every refusal or silence on
 * the way is shown and retried: the daemons resume their own persisted procedures from their
 * ticks, and a daemon that was just restarted may not answer at once.
 *
 * Its last step says where the device ended: attached with an IMSI of operator A (mno-a) or of
 * operator B (mno-b), its session proven by protected data echoed back. It fails when the device
 * is on neither (docs/alt1a-change.md, "Crash safety": never neither).
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>

#define DEVICE "m2me-3"
#define TRE "tre-3"
#define NETWORK "mno-v"
#define SHO_A "mno-a"
#define SHO_B "mno-b"
#define RECOVER_MS 20000
#define TRE_FAILED "the TRE's provisioning failed"

typedef struct recovery {
	tb_session *s;
	uint64_t deadline_us;
	m2m_reason last;  /* the previous round's refusal by the TRE's procedure, or M2M_OK */
	char imsi[16];    /* where the device is attached, once it says so */
	int on_a;         /* where() found it on A (else on B) */
} recovery;

static int expired(const recovery *r)
{
	return tb_now_us() >= r->deadline_us;
}

static int ready_round(recovery *r)
{
	return tb_device_ready_round(r->s, DEVICE, NETWORK, r->imsi);
}

static int attached(recovery *r)
{
	tb_step(r->s, "%s is powered on and attached through %s with what %s names (powerOn, attach; retried)", DEVICE,
		NETWORK, TRE);
	while (!ready_round(r))
		if (expired(r))
			return tb_step_fail(r->s, "%s is not attached after %d s", DEVICE, RECOVER_MS / 1000);
	printf("\n  (attached with IMSI %s) ", r->imsi);
	return tb_step_ok(r->s);
}

/* The TRE's procedure refused the same way twice in a row: 1, nothing is left to do. */
static int ended_for_good(recovery *r, m2m_reason got, const char *why)
{
	m2m_reason previous = r->last;
	r->last = strstr(why, TRE_FAILED) ? got : M2M_OK;
	return r->last != M2M_OK && r->last == previous;
}

static int provisioned(recovery *r)
{
	tb_step(r->s, "%s runs its TRE's procedure (deviceControl provision) until it is done or nothing is left to do",
		DEVICE);
	tb_control c = {.action = M2M_DEV_PROVISION};
	for (;;) {
		tb_device_status st;
		char why[300];
		if (!ready_round(r)) {  /* a refusal may have left it detached, or a restart powered off */
			if (expired(r))
				return tb_step_fail(r->s, "%s could not be attached again within %d s", DEVICE, RECOVER_MS / 1000);
			continue;
		}
		m2m_reason got = tb_device(r->s, DEVICE, &c, &st, why, sizeof why);
		if (got == M2M_OK) {
			printf("\n  (done: deviceStatus, IMSI %s attached to %s) ", st.imsi, st.attached_to);
			return tb_step_ok(r->s);
		}
		if (ended_for_good(r, got, why)) {
			printf("\n  provision: %s\n  (nothing left to do: the TRE's procedure ended %s twice in a row) ", why,
			       m2m_reason_name(got));
			return tb_step_ok(r->s);
		}
		if (expired(r))
			return tb_step_fail(r->s, "the procedure did not end within %d s; last answer: %s", RECOVER_MS / 1000, why);
		tb_retry_note("provision", why);
	}
}

static int where(recovery *r)
{
	const tb_where w = {DEVICE, NETWORK, SHO_A, SHO_B, "meter 0007: after the interruption"};
	int side = tb_recovered_where(r->s, &w, &r->deadline_us, r->imsi);
	if (side < 0)
		return -1;
	r->on_a = side == 'A';
	return tb_step_ok(r->s);
}

int tb_scenario_1a_recover(tb_session *s)
{
	recovery r = {.s = s, .deadline_us = tb_now_us() + RECOVER_MS * 1000u};
	/* the last step runs whatever the others said: where the device is, is the point */
	int rc = attached(&r) | provisioned(&r);
	if (where(&r))
		return -1;
	if (rc)
		return -1;
	printf("outcome: %s recovered: it works with IMSI %s, on %s\n", DEVICE, r.imsi,
	       r.on_a ? "A (" SHO_A ")" : "B (" SHO_B ")");
	return 0;
}
