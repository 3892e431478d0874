/*
 * attack-clone: someone read card A out and made a copy (uicc-1c: the same image, so the same
 * K, OPc and IMSI) and uses it in m2me-2 while the genuine card is attached in m2me-1. The copy
 * authenticates, but when the visited network reports its location the home operator sees the
 * IMSI already attached with another IMEI and not purged: concurrent use of one subscription.
 * With clone_policy "suspend" it suspends the subscriber (audited), cancels the genuine
 * device's location and refuses the clone subscriberSuspended; until the operator resumes it,
 * the genuine card is refused too. The scenario then resumes IMSI A and shows the genuine device
 * attaching again, for the scenarios after it.
 */
#include "testbed.h"

#define GENUINE "m2me-1"
#define CLONER "m2me-2"
#define CARD "uicc-1"
#define CLONE "uicc-1c"
#define NETWORK "mno-v"

static int clone_refused(tb_session *s)
{
	const char *home = tb_card_home(s, CARD);
	uint64_t since = tb_now_us();
	tb_control attach = {.action = M2M_DEV_ATTACH, .network = NETWORK};
	if (tb_device_refused(s, CLONER, &attach, M2M_R_SUBSCRIBER_SUSPENDED, "the clone attaches from %s", CLONER))
		return -1;
	const tb_msg refusal[] = {
		{CLONER, CLONE, "apduCommand", "apdu=0088"},
		{NETWORK, home, "updateLocation", NULL},
		{home, NETWORK, "error", "reason=subscriberSuspended"},
		{NETWORK, CLONER, "error", "reason=subscriberSuspended"},
	};
	const tb_msg cancel[] = {
		{NETWORK, home, "updateLocation", NULL},
		{home, NETWORK, "cancelLocation", NULL},
		{NETWORK, home, "cancelLocationAck", NULL},
	};
	const tb_msg accept = {NETWORK, CLONER, "attachAccept", NULL};
	return tb_expect_flow(s, "the clone authenticating and its location update refused", refusal, 4, since) ||
	       tb_expect_flow(s, "the genuine device's location cancelled at mno-v", cancel, 3, since) ||
	       tb_expect_none(s, "no attachAccept for the clone", &accept, since);
}

/* The operator's staff see the suspension in the audit trail, and lift it. */
static int restore(tb_session *s)
{
	static const char *const audit[] = {"suspected clone", NULL};
	tb_control attach = {.action = M2M_DEV_ATTACH, .network = NETWORK}, off = {.action = M2M_DEV_POWER_OFF};
	if (tb_subscriber_expect(s, CARD, "suspended", audit) ||
	    tb_device_ok(s, GENUINE, &off, NULL, "%s, whose session mno-v closed, is powered off", GENUINE) ||
	    tb_device_power_on(s, GENUINE, CARD) ||
	    tb_device_refused(s, GENUINE, &attach, M2M_R_SUBSCRIBER_SUSPENDED,
			      "while suspended, even the genuine card is refused") ||
	    tb_subscriber_admin(s, "resume", CARD, "operator A resumes IMSI A once the clone is dealt with") ||
	    tb_device_attach(s, GENUINE, NETWORK) ||
	    tb_device_ok(s, GENUINE, &off, NULL, "%s is powered off", GENUINE) ||
	    tb_device_ok(s, CLONER, &off, NULL, "%s is powered off", CLONER))
		return -1;
	return 0;
}

int tb_scenario_attack_clone(tb_session *s)
{
	static const tb_fit fits[] = {{GENUINE, CARD}, {CLONER, CLONE}};
	if (tb_known_state(s, fits, 2) || tb_device_power_on(s, GENUINE, CARD) || tb_device_attach(s, GENUINE, NETWORK) ||
	    tb_device_power_on(s, CLONER, CLONE) || clone_refused(s) || restore(s))
		return -1;
	printf("outcome: concurrent use of IMSI %s with two IMEIs suspended the subscription; the clone got no session\n",
	       tb_card_imsi(s, CARD));
	return 0;
}
