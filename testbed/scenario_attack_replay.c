/*
 * attack-replay: a rogue visited network (mno-xr, an attacker's base station with a roaming
 * link to operator A) relays one attach of card A honestly and keeps the challenge it relayed.
 * At the next attach it replays that old RAND/AUTN instead of asking the home operator. The
 * card sees a sequence number it has already accepted and answers with a synchronisation
 * failure (DC and AUTS, TS 33.102 6.3.5) instead of RES, CK and IK: the replayed challenge gets
 * the attacker no keys. The rogue, replaying again after the re-synchronisation, meets a second
 * sync failure, which ends the attach with synchFailure (the contract's rule).
 */
#include "testbed.h"

#define DEVICE "m2me-1"
#define CARD "uicc-1"
#define ROGUE "mno-xr"

/* The honest relay the rogue learns its challenge from. */
static int prime(tb_session *s)
{
	uint64_t since = tb_now_us();
	tb_control detach = {.action = M2M_DEV_DETACH};
	return tb_device_attach(s, DEVICE, ROGUE) || tb_expect_attach(s, DEVICE, CARD, ROGUE, since) ||
	       tb_device_ok(s, DEVICE, &detach, NULL, "%s detaches from %s", DEVICE, ROGUE);
}

int tb_scenario_attack_replay(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, CARD}, {"m2me-2", NULL}};
	if (tb_known_state(s, fits, 2) || tb_device_power_on(s, DEVICE, CARD) || prime(s))
		return -1;
	uint64_t since = tb_now_us();
	tb_control attach = {.action = M2M_DEV_ATTACH, .network = ROGUE};
	if (tb_device_refused(s, DEVICE, &attach, M2M_R_SYNCH_FAILURE, "%s attaches through %s again", DEVICE, ROGUE))
		return -1;
	const tb_msg flow[] = {
		{DEVICE, ROGUE, "attachRequest", NULL},
		{ROGUE, DEVICE, "authChallenge", NULL},
		{DEVICE, CARD, "apduCommand", "apdu=0088"},
		{CARD, DEVICE, "apduResponse", "data=dc"},  /* DC || AUTS: sync failure, no keys */
		{DEVICE, ROGUE, "authFailure", "cause=1"},  /* synchFailure with AUTS */
	};
	const tb_msg accept = {ROGUE, DEVICE, "attachAccept", NULL};
	const tb_msg keys = {CARD, DEVICE, "apduResponse", "data=db"};
	if (tb_expect_flow(s, "the replayed challenge answered by the card with DC and AUTS", flow, 5, since) ||
	    tb_expect_none(s, "no RES, CK, IK (DB) from the card for the replayed challenge", &keys, since) ||
	    tb_expect_none(s, "no attachAccept after the replay", &accept, since))
		return -1;
	tb_control off = {.action = M2M_DEV_POWER_OFF};
	if (tb_device_ok(s, DEVICE, &off, NULL, "%s is powered off", DEVICE))
		return -1;
	printf("outcome: the replayed challenge was refused by the card (synchFailure): the rogue got no keys\n");
	return 0;
}
