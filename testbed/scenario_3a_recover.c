/*
 * 3a-recover: what the device of Alternative 3a and the operators do after an interruption,
 * typically a daemon killed during 3a's port (`testbed crash ID`, test_crash_3a.c). Nothing is
 * reset: m2me-4, its card and both operators are taken as the interruption left them. Within
 * RECOVER_MS the device is kept powered on and attached through mno-v with whatever IMSI its card
 * presents (a device that lost power reads the card again when it comes back), while the
 * operators resume their persisted procedures from their ticks (A's transfer or its OTA job, B's
 * completion), until B's port, the one 3a noted in RUNDIR/port/uicc-4.port, is over.
 *
 * Its last step says where the device ended: attached with the IMSI of operator A or of operator
 * B, its session proven by protected data echoed back, and that this agrees with how the port
 * ended (completed: B; failed or refused: A). It fails when the device works on neither, on a
 * side the port's outcome contradicts, or on B with another IMSI than the one B's port status
 * names for the card (docs/alt3a.md, "Crash safety").
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>

#define DEVICE "m2me-4"
#define CARD "uicc-4"
#define NETWORK "mno-v"
#define SHO_A "mno-a"
#define SHO_B "mno-b"
#define RECOVER_MS 30000

typedef struct recovery {
	tb_session *s;
	uint64_t deadline_us;
	char port[TB_PORT_ID_HEX + 1];  /* "" when 3a started none */
	int outcome;                    /* index in over[], or -1 while the port is not over */
	char imsi[16];
	int on_a;
} recovery;

static const char *const over[] = {"completed", "failed", "refused", NULL};

static int expired(const recovery *r)
{
	return tb_now_us() >= r->deadline_us;
}

static int attached(recovery *r)
{
	tb_step(r->s, "%s is powered on and attached through %s with the IMSI its card presents (powerOn, attach; "
		      "retried)",
		DEVICE, NETWORK);
	while (!tb_device_ready_round(r->s, DEVICE, NETWORK, r->imsi))
		if (expired(r))
			return tb_step_fail(r->s, "%s is not attached after %d s", DEVICE, RECOVER_MS / 1000);
	printf("\n  (attached with IMSI %s) ", r->imsi);
	return tb_step_ok(r->s);
}

/* The port's state at B: its index in over[], or -1 while it goes on. */
static int port_outcome(recovery *r, tb_buf *status)
{
	return tb_port_wait(r->s, SHO_B, r->port, over, 0, status);
}

static int settled(recovery *r)
{
	if (tb_port_noted(r->s->rundir, CARD, r->port)) {
		tb_step(r->s, "3a started no port for %s: nothing to wait for", CARD);
		r->port[0] = 0;
		return tb_step_ok(r->s);
	}
	tb_step(r->s, "the operators finish or end port %s while %s stays attached", r->port, DEVICE);
	tb_buf status = {0};
	for (;;) {
		char imsi[16];
		tb_device_ready_round(r->s, DEVICE, NETWORK, imsi);  /* a refresh or a restart may have detached it */
		if ((r->outcome = port_outcome(r, &status)) >= 0 || expired(r))
			break;
		tb_retry_note("port", "not over yet");
	}
	tb_show_output(status.data);
	tb_buf_free(&status);
	if (r->outcome < 0)
		return tb_step_fail(r->s, "port %s is not over after %d s", r->port, RECOVER_MS / 1000);
	printf("  (the port ended %s) ", over[r->outcome]);
	return tb_step_ok(r->s);
}

/* On B, the device works with the IMSI B allocated for the card, as B's port status says. */
static int on_its_imsi(recovery *r)
{
	const tb_card *k = tb_card_of(r->s->topology, CARD);
	tb_port_card c;
	if (!k || tb_port_card_of(r->s, SHO_B, r->port, k->iccid, &c))
		return tb_step_fail(r->s, "B's port %s has no line for %s", r->port, CARD);
	if (strcmp(c.new_imsi, r->imsi))
		return tb_step_fail(r->s, "the device works with IMSI %s, B allocated %s for %s", r->imsi, c.new_imsi, CARD);
	return tb_step_ok(r->s);
}

static int where(recovery *r)
{
	const tb_where w = {DEVICE, NETWORK, SHO_A, SHO_B, "meter 0404: after the interruption"};
	int side = tb_recovered_where(r->s, &w, &r->deadline_us, r->imsi);
	if (side < 0)
		return -1;
	r->on_a = side == 'A';
	/* completed means B took the card over; any other end leaves it with A */
	if (r->port[0] && r->outcome >= 0 && r->on_a == (r->outcome == 0))
		return tb_step_fail(r->s, "the port ended %s, but the device works on %c", over[r->outcome], side);
	if (r->port[0] && !r->on_a)
		return on_its_imsi(r);
	return tb_step_ok(r->s);
}

int tb_scenario_3a_recover(tb_session *s)
{
	recovery r = {.s = s, .deadline_us = tb_now_us() + RECOVER_MS * 1000u, .outcome = -1};
	/* the last step runs whatever the others said: where the device is, is the point */
	int rc = attached(&r) | settled(&r);
	if (where(&r) || rc)
		return -1;
	printf("outcome: %s recovered: it works with IMSI %s, on %s\n", DEVICE, r.imsi,
	       r.on_a ? "A (" SHO_A ")" : "B (" SHO_B ")");
	return 0;
}
