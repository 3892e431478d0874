/*
 * 2: Alternative 2 of TR 33.812 as it is meant to work. The M2ME m2me-1 holds operator A's UICC
 * (uicc-1) and attaches through the visited network mno-v: mno-v routes by the IMSI's PLMN to
 * the home operator, which returns an authentication vector; the card alone computes RES, CK
 * and IK from K (TS 33.102 6.3); mno-v checks RES, the home operator records the location and
 * returns the subscription profile, and mno-v opens a session whose key both ends derive from
 * CK and IK. User data then travels protected under that key, and the device detaches.
 */
#include "testbed.h"

#include <string.h>

#define DEVICE "m2me-1"
#define CARD "uicc-1"
#define NETWORK "mno-v"

static int detach(tb_session *s, uint64_t since)
{
	const char *home = tb_card_home(s, CARD);
	tb_control c = {.action = M2M_DEV_DETACH};
	tb_device_status st;
	if (tb_device_ok(s, DEVICE, &c, &st, "%s detaches", DEVICE))
		return -1;
	if (st.attached_to[0])
		return tb_step_fail(s, "%s still says it is attached to %s", DEVICE, st.attached_to);
	const tb_msg flow[] = {
		{DEVICE, NETWORK, "detachRequest", NULL},
		{NETWORK, home, "purge", NULL},
		{home, NETWORK, "purgeAck", NULL},
		{NETWORK, DEVICE, "detachAccept", NULL},
	};
	return tb_expect_flow(s, "the detach: mno-v purges the location at the home operator", flow, 4, since);
}

int tb_scenario_attach(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, CARD}, {"m2me-2", NULL}};
	if (tb_known_state(s, fits, 2) || tb_device_power_on(s, DEVICE, CARD))
		return -1;
	uint64_t since = tb_now_us();
	if (tb_device_attach(s, DEVICE, NETWORK) || tb_expect_attach(s, DEVICE, CARD, NETWORK, since))
		return -1;
	since = tb_now_us();
	const tb_msg data[] = {{DEVICE, NETWORK, "protectedData", NULL}, {NETWORK, DEVICE, "protectedDataEcho", NULL}};
	if (tb_device_send(s, DEVICE, "meter 0042: 1234.5 kWh") ||
	    tb_expect_flow(s, "the data sealed under the session key, and its echo", data, 2, since))
		return -1;
	since = tb_now_us();
	if (detach(s, since))
		return -1;
	printf("outcome: %s attached with the subscription on %s's card, its data went protected under keys only "
	       "the card and the network hold, and it detached\n",
	       DEVICE, tb_card_home(s, CARD));
	return 0;
}
