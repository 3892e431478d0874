/*
 * attack-imei-lock: a thief takes operator A's card out of m2me-1 and puts it into another
 * device, m2me-2. The card still authenticates (it holds K), but the subscription is locked to
 * m2me-1's IMEI: the home operator's profile carries the lock, the visited network compares it
 * with the IMEI the device presented, refuses imeiNotAllowed and purges the location it just
 * reported, so no session is ever opened for the stolen card.
 */
#include "testbed.h"

#define THIEF "m2me-2"
#define CARD "uicc-1"
#define NETWORK "mno-v"

int tb_scenario_attack_imei_lock(tb_session *s)
{
	static const tb_fit fits[] = {{"m2me-1", NULL}, {THIEF, CARD}};
	const char *home = tb_card_home(s, CARD);
	if (tb_known_state(s, fits, 2) || tb_device_power_on(s, THIEF, CARD))
		return -1;
	uint64_t since = tb_now_us();
	tb_control attach = {.action = M2M_DEV_ATTACH, .network = NETWORK};
	if (tb_device_refused(s, THIEF, &attach, M2M_R_IMEI_NOT_ALLOWED, "the stolen card attaches from %s", THIEF))
		return -1;
	const tb_msg flow[] = {
		{THIEF, NETWORK, "attachRequest", NULL},
		{THIEF, CARD, "apduCommand", "apdu=0088"},
		{THIEF, NETWORK, "authResponse", NULL},
		{NETWORK, home, "updateLocation", NULL},
		{home, NETWORK, "updateLocationAck", "imeiLock="},
		{NETWORK, home, "purge", NULL},
		{home, NETWORK, "purgeAck", NULL},
	};
	const tb_msg accept = {NETWORK, THIEF, "attachAccept", NULL};
	if (tb_expect_flow(s, "the card authenticating, the profile's IMEI lock, the refusal and the purge", flow, 7,
			   since) ||
	    tb_expect_none(s, "no attachAccept for the stolen card", &accept, since))
		return -1;
	tb_control off = {.action = M2M_DEV_POWER_OFF};
	if (tb_device_ok(s, THIEF, &off, NULL, "%s is powered off", THIEF))
		return -1;
	printf("outcome: card A authenticated in %s but was refused imeiNotAllowed: the lock to m2me-1 holds\n", THIEF);
	return 0;
}
