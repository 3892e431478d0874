/*
 * 1a-change: the change of subscription of Alternative 1a (docs/alt1a-change.md), after `1a`
 * left m2me-3 working on operator A's MCIM. The subscriber moves the device to operator B: the
 * DRF refuses an authorisation not signed by the subscriber's registered key and, while A holds a
 * contract lock, A's refusal; with the lock lifted, A consents and lets the TRE start; the device
 * discovers B, B has the TRE validated afresh and sends MCIM B, which the TRE installs beside A's;
 * the device switches and attaches with B (make before break), the TRE tells the DRF, and only then
 * does A delete its MCIM, with a receipt signed by the TRE, and its HSS record.
 */
#include "testbed.h"

#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE "m2me-3"
#define TRE "tre-3"
#define NETWORK "mno-v"
#define FROM "mno-a"
#define TO "mno-b"
#define CHANGE_ID_LEN 16

static const char *drf(const tb_session *s)
{
	return tb_registration_operator(s->topology);
}

static const tb_change change = {DEVICE, TRE, FROM, TO};

/* Powers the device on and attaches it: it must be on A's MCIM (scenario 1a ran before). */
static int on_mcim_a(tb_session *s, char imsi_a[16])
{
	tb_device_status st;
	tb_control on = {.action = M2M_DEV_POWER_ON}, at = {.action = M2M_DEV_ATTACH, .network = NETWORK};
	if (tb_device_ok(s, DEVICE, &on, &st, "%s powers on", DEVICE) ||
	    tb_device_ok(s, DEVICE, &at, &st, "%s attaches with the MCIM its TRE holds", DEVICE))
		return -1;
	tb_step(s, "the device works on %s's MCIM (IMSI 00101...; scenario 1a provisioned it)", FROM);
	if (strncmp(st.imsi, "00101", 5))
		return tb_step_fail(s, "it attached with %s: run scenario 1a first", st.imsi[0] ? st.imsi : "nothing");
	snprintf(imsi_a, 16, "%s", st.imsi);
	return tb_step_ok(s);
}

static int consented(tb_session *s, EVP_PKEY *subscriber, uint64_t since)
{
	uint8_t id[CHANGE_ID_LEN];
	char why[300] = "";
	tb_step(s, "the subscriber authorises the move of %s to %s: the DRF answers a changeId", DEVICE, TO);
	if (tb_change_request(s, subscriber, &change, id, why, sizeof why) != M2M_OK)
		return tb_step_fail(s, "%s", why);
	tb_step_ok(s);
	/* the DRF's answer to the testbed and A's command to the TRE both follow A's consent, in
	 * either order: the answer was checked above */
	const tb_msg flow[] = {
		{drf(s), FROM, "changeNotify", NULL},
		{FROM, drf(s), "changeConsent", NULL},
		{FROM, TRE, "mcimCommand", NULL},
		{TRE, FROM, "mcimReceipt", NULL},
	};
	return tb_expect_flow(s, "A consents, then lets its TRE start the change (reprovision, signed receipt)", flow, 4,
			      since);
}

static int switched(tb_session *s, uint64_t since)
{
	tb_device_status st;
	tb_control c = {.action = M2M_DEV_PROVISION};
	if (tb_device_ok(s, DEVICE, &c, &st, "%s runs its TRE's procedure over A's session", DEVICE))
		return -1;
	tb_step(s, "the device now works on %s's MCIM (IMSI 00102...)", TO);
	if (strncmp(st.imsi, "00102", 5) || strcmp(st.attached_to, NETWORK))
		return tb_step_fail(s, "it says IMSI %s attached to %s", st.imsi, st.attached_to);
	tb_step_ok(s);
	const tb_msg flow[] = {
		{NETWORK, drf(s), "discoveryRequest", NULL},
		{NETWORK, TO, "mcimRequest", NULL},
		{TO, "certauth", "validationRequest", "tre=" TRE},
		{"certauth", TRE, "attestationChallenge", NULL},
		{TO, NETWORK, "mcimPackage", NULL},
		{NETWORK, TO, "installResult", NULL},
		{DEVICE, NETWORK, "attachRequest", "imsi=00102"},
		{NETWORK, TO, "authInfoRequest", "imsi=00102"},
		{DEVICE, TRE, "treAttached", "imsi=00102"},
		{NETWORK, drf(s), "changeComplete", NULL},
		{drf(s), FROM, "changeRelease", NULL},
		{FROM, TRE, "mcimCommand", NULL},
		{TRE, FROM, "mcimReceipt", NULL},
	};
	return tb_expect_flow(s, "ticket for B, fresh validation by B, MCIM B, attach with B, then A's release and "
				 "signed deletion",
			      flow, (int)(sizeof flow / sizeof flow[0]), since);
}

/* A's own records: the subscriber deleted, with the TRE's signed receipt kept (audited). */
static int a_deleted(tb_session *s, const char *imsi_a)
{
	const char *args[] = {"show", imsi_a, NULL};
	tb_buf out = {0}, err = {0};
	tb_step(s, "%s's records (mno-admin show %s): the MCIM deleted in %s, its signed receipt kept", FROM, imsi_a, TRE);
	int rc = tb_admin(s->rundir, FROM, args, &out, &err);
	const char *text = out.data ? out.data : "";
	int ok = !rc && strstr(text, "-> deleted") && strstr(text, "signed receipt kept");
	if (ok)
		tb_step_ok(s);
	else
		tb_step_fail(s, "mno-admin show says:\n%s%s", text, err.data ? err.data : "");
	tb_buf_free(&out);
	tb_buf_free(&err);
	return ok ? 0 : -1;
}

int tb_scenario_1a_change(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, NULL}};
	char imsi_a[16];
	if (tb_known_state(s, fits, 1) || on_mcim_a(s, imsi_a))
		return -1;
	EVP_PKEY *subscriber = tb_subscriber_key(s->rundir);
	int rc = !subscriber || tb_change_refusals(s, subscriber, &change, imsi_a) || consented(s, subscriber, tb_now_us());
	EVP_PKEY_free(subscriber);
	if (rc || switched(s, tb_now_us()) || a_deleted(s, imsi_a) || tb_device_send(s, DEVICE, "meter 0007: 91.4 kWh"))
		return -1;
	printf("outcome: %s moved from %s to %s with the subscriber's signed authorisation: %s's MCIM was installed "
	       "and used before %s deleted its own, with a receipt signed by the TRE\n",
	       DEVICE, FROM, TO, TO, FROM);
	return 0;
}
