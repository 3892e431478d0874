/*
 * 3b-recover: what the device of Alternative 3b and its subscriber do after an interruption,
 * typically a daemon killed during 3b (`testbed crash ID`, test_crash_3b.c). Nothing is reset:
 * m2me-5, its TRE, its card, the DRF and both operators are taken as the interruption left them.
 * Within RECOVER_MS the device is kept powered on and attached with what its card presents, while
 * the daemons resume their persisted procedures from their ticks (the DRF's trigger, order or
 * release; the device's own provisioning after a restart). While the DRF's change waits on the
 * device (triggered, ordering, delivered), the device runs its TRE's procedure (deviceControl
 * provision), as its owner would after a failure, until the change is released or the procedure
 * ends failed the same way twice in a row (nothing left to do).
 *
 * Its last step says where the device ended: attached with an IMSI of operator A or of operator B,
 * its session proven by protected data echoed back; the kill -9 test checks that the operators
 * and the card agree (docs/alt3b.md, "Crash safety"): never neither, never both.
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>

#define DEVICE "m2me-5"
#define TRE "tre-5"
#define NETWORK "mno-v"
#define SHO_A "mno-a"
#define SHO_B "mno-b"
#define RECOVER_MS 30000
#define DRF_ADMIN "drf/drf-admin"

typedef struct recovery {
	tb_session *s;
	uint64_t deadline_us;
	m2m_reason last;  /* the previous provision's refusal, or M2M_OK */
	char state[24];   /* the DRF's change of TRE, "" when it holds none */
	char imsi[16];
	int on_a;
} recovery;

static int expired(const recovery *r)
{
	return tb_now_us() >= r->deadline_us;
}

/* The state of the DRF's last 3b change of TRE (drf-admin changes: ID TRE FROM TO STATE uicc ...). */
static void change_state(recovery *r)
{
	const char *args[] = {"changes", NULL};
	tb_buf out = {0};
	r->state[0] = 0;
	if (tb_tool(DRF_ADMIN, r->s->rundir, tb_registration_operator(r->s->topology), args, &out, NULL) == 0 && out.data)
		for (const char *line = out.data; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			char id[40], tre[M2M_ENTITY_MAX + 1], from[M2M_ENTITY_MAX + 1], to[M2M_ENTITY_MAX + 1], state[24],
				kind[8];
			if (sscanf(line, "%39s %63s %63s %63s %23s %7s", id, tre, from, to, state, kind) == 6 &&
			    !strcmp(tre, TRE) && !strcmp(kind, "uicc"))
				snprintf(r->state, sizeof r->state, "%s", state);
		}
	tb_buf_free(&out);
}

/* The change waits on the device's procedure. */
static int waits_on_device(const recovery *r)
{
	return !strcmp(r->state, "triggered") || !strcmp(r->state, "ordering") || !strcmp(r->state, "delivered");
}

static int over(const recovery *r)
{
	return !r->state[0] || !strcmp(r->state, "released") || !strcmp(r->state, "refused");
}

/* One provision: 1 when it ended failed as the one before (nothing left to do). */
static int provision_round(recovery *r)
{
	tb_control c = {.action = M2M_DEV_PROVISION};
	tb_device_status st;
	char why[300];
	m2m_reason got = tb_device(r->s, DEVICE, &c, &st, why, sizeof why);
	if (got == M2M_OK) {
		r->last = M2M_OK;
		return 0;
	}
	int again = got == r->last && got != M2M_R_WRONG_STATE && got != M2M_R_TIMEOUT;
	r->last = got;
	tb_retry_note("provision", why);
	return again;
}

static int settled(recovery *r)
{
	tb_step(r->s, "%s stays attached with what its card presents until the DRF's change of %s is over", DEVICE, TRE);
	for (;;) {
		char imsi[16];
		int ready = tb_device_ready_round(r->s, DEVICE, NETWORK, imsi);
		change_state(r);
		if (over(r) || expired(r))
			break;
		if (ready && waits_on_device(r) && provision_round(r)) {
			printf("\n  (nothing left to do: the procedure ended %s twice in a row) ", m2m_reason_name(r->last));
			break;
		}
		if (!ready || !waits_on_device(r))
			tb_retry_note("change", r->state);
	}
	printf("\n  (the change is %s) ", r->state[0] ? r->state : "not at the DRF");
	return tb_step_ok(r->s);
}

static int where(recovery *r)
{
	const tb_where w = {DEVICE, NETWORK, SHO_A, SHO_B, "meter 0503: after the interruption"};
	int side = tb_recovered_where(r->s, &w, &r->deadline_us, r->imsi);
	if (side < 0)
		return -1;
	r->on_a = side == 'A';
	return tb_step_ok(r->s);
}

int tb_scenario_3b_recover(tb_session *s)
{
	recovery r = {.s = s, .deadline_us = tb_now_us() + RECOVER_MS * 1000u};
	settled(&r);
	if (where(&r))
		return -1;
	printf("outcome: %s recovered: it works with IMSI %s, on %s; the DRF's change is %s\n", DEVICE, r.imsi,
	       r.on_a ? "A (" SHO_A ")" : "B (" SHO_B ")", r.state[0] ? r.state : "absent");
	return 0;
}
