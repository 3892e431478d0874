/*
 * attack-false-network: a false base station (mno-xf) with no roaming agreement and no access to
 * any home operator answers attachRequest itself, with a random RAND and an AUTN made under a
 * random K. The card checks the AUTN's MAC with its own K, finds it wrong and answers 98 62
 * (TS 31.102 7.1.2.1): the device reports macFailure and never runs on the false network's keys.
 * Mutual authentication is what tells the device this network is not its operator's.
 */
#include "testbed.h"

#define DEVICE "m2me-1"
#define CARD "uicc-1"
#define FALSE_NETWORK "mno-xf"

int tb_scenario_attack_false_network(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, CARD}, {"m2me-2", NULL}};
	if (tb_known_state(s, fits, 2) || tb_device_power_on(s, DEVICE, CARD))
		return -1;
	uint64_t since = tb_now_us();
	tb_control attach = {.action = M2M_DEV_ATTACH, .network = FALSE_NETWORK};
	if (tb_device_refused(s, DEVICE, &attach, M2M_R_MAC_FAILURE, "%s attaches through %s", DEVICE, FALSE_NETWORK))
		return -1;
	const tb_msg flow[] = {
		{DEVICE, FALSE_NETWORK, "attachRequest", NULL},
		{FALSE_NETWORK, DEVICE, "authChallenge", NULL},
		{DEVICE, CARD, "apduCommand", "apdu=0088"},
		{CARD, DEVICE, "apduResponse", "statusWord=39010"},  /* 98 62: authentication error, wrong MAC */
		{DEVICE, FALSE_NETWORK, "authFailure", "cause=0"},    /* macFailure */
	};
	const tb_msg accept = {FALSE_NETWORK, DEVICE, "attachAccept", NULL};
	if (tb_expect_flow(s, "the card rejecting the false AUTN with 98 62 and the device's macFailure", flow, 5, since) ||
	    tb_expect_none(s, "no attachAccept from the false network", &accept, since))
		return -1;
	tb_control off = {.action = M2M_DEV_POWER_OFF};
	if (tb_device_ok(s, DEVICE, &off, NULL, "%s is powered off", DEVICE))
		return -1;
	printf("outcome: the card did not authenticate the false network (98 62): the device refused it, macFailure\n");
	return 0;
}
