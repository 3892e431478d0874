/*
 * attack-apn: a device with a genuine card asks for an APN its subscription does not include
 * (a meter trying to reach the open internet). Authentication succeeds, but the profile the home
 * operator returns lists the allowed APNs, and the visited network refuses apnNotAllowed before
 * opening any session. The same device asking for its subscribed APN is then accepted: the
 * refusal was about the APN alone.
 */
#include "testbed.h"

#define DEVICE "m2me-1"
#define CARD "uicc-1"
#define NETWORK "mno-v"
#define FORBIDDEN_APN "internet"

int tb_scenario_attack_apn(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, CARD}, {"m2me-2", NULL}};
	const char *home = tb_card_home(s, CARD);
	if (tb_known_state(s, fits, 2) || tb_device_power_on(s, DEVICE, CARD))
		return -1;
	uint64_t since = tb_now_us();
	tb_control attach = {.action = M2M_DEV_ATTACH, .network = NETWORK, .apn = FORBIDDEN_APN};
	if (tb_device_refused(s, DEVICE, &attach, M2M_R_APN_NOT_ALLOWED, "%s attaches through %s asking for APN %s",
			      DEVICE, NETWORK, FORBIDDEN_APN))
		return -1;
	const tb_msg flow[] = {
		{DEVICE, NETWORK, "attachRequest", "apn=" FORBIDDEN_APN},
		{DEVICE, NETWORK, "authResponse", NULL},
		{home, NETWORK, "updateLocationAck", "allowedApns="},
		{NETWORK, DEVICE, "error", "reason=apnNotAllowed"},
	};
	const tb_msg accept = {NETWORK, DEVICE, "attachAccept", NULL};
	if (tb_expect_flow(s, "authentication passing and the profile's APN list refusing " FORBIDDEN_APN, flow, 4,
			   since) ||
	    tb_expect_none(s, "no attachAccept for APN " FORBIDDEN_APN, &accept, since))
		return -1;
	tb_control off = {.action = M2M_DEV_POWER_OFF};
	if (tb_device_attach(s, DEVICE, NETWORK) || tb_device_ok(s, DEVICE, &off, NULL, "%s is powered off", DEVICE))
		return -1;
	printf("outcome: APN %s outside the subscription was refused apnNotAllowed; the subscribed APN is accepted\n",
	       FORBIDDEN_APN);
	return 0;
}
