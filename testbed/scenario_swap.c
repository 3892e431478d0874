/*
 * 2-swap: changing operator under Alternative 2 means changing the UICC. The subscriber of
 * m2me-1 moves from operator A to operator B: the device is powered off, card A (uicc-1) taken
 * out and B's card (uicc-2) put in; it attaches through the same visited network, which now
 * routes to B. On the subscriber's request A deactivates IMSI A (an audited suspension), and
 * card A put back in is refused: a subscription the home operator withdrew gets no vectors.
 * It ends as the subscriber left it, card B in, and resumes IMSI A for the other scenarios.
 */
#include "testbed.h"

#define DEVICE "m2me-1"
#define CARD_A "uicc-1"
#define CARD_B "uicc-2"
#define NETWORK "mno-v"

/* Off, out with the old card, in with the new: the only way to change operator here. */
static int change_card(tb_session *s, const char *from, const char *to)
{
	tb_control off = {.action = M2M_DEV_POWER_OFF}, out = {.action = M2M_DEV_REMOVE_CARD},
		   in = {.action = M2M_DEV_INSERT_CARD, .card = to};
	return tb_device_ok(s, DEVICE, &off, NULL, "%s is powered off (it detaches first)", DEVICE) ||
	       tb_device_ok(s, DEVICE, &out, NULL, "%s is taken out", from) ||
	       tb_device_ok(s, DEVICE, &in, NULL, "%s is put in", to) || tb_device_power_on(s, DEVICE, to);
}

/* Operator A's suspension: an audited change, refused at the first step of the next attach. */
static int card_a_refused(tb_session *s)
{
	static const char *const audit[] = {"admin suspend", NULL};
	const char *home = tb_card_home(s, CARD_A);
	if (tb_subscriber_admin(s, "suspend", CARD_A, "the subscriber asks operator A to deactivate IMSI A") ||
	    tb_subscriber_expect(s, CARD_A, "suspended", audit) || change_card(s, CARD_B, CARD_A))
		return -1;
	uint64_t since = tb_now_us();
	tb_control attach = {.action = M2M_DEV_ATTACH, .network = NETWORK};
	if (tb_device_refused(s, DEVICE, &attach, M2M_R_SUBSCRIBER_SUSPENDED, "card A attaches again through %s",
			      NETWORK))
		return -1;
	const tb_msg flow[] = {
		{DEVICE, NETWORK, "attachRequest", NULL},
		{NETWORK, home, "authInfoRequest", NULL},
		{home, NETWORK, "error", "reason=subscriberSuspended"},
		{NETWORK, DEVICE, "error", "reason=subscriberSuspended"},
	};
	if (tb_expect_flow(s, "operator A refusing vectors for the suspended IMSI", flow, 4, since))
		return -1;
	const tb_msg challenge = {NETWORK, DEVICE, "authChallenge", NULL};
	return tb_expect_none(s, "no challenge for the suspended IMSI", &challenge, since);
}

int tb_scenario_swap(tb_session *s)
{
	static const tb_fit fits[] = {{DEVICE, CARD_A}, {"m2me-2", NULL}};
	if (tb_known_state(s, fits, 2) || tb_device_power_on(s, DEVICE, CARD_A) || tb_device_attach(s, DEVICE, NETWORK) ||
	    change_card(s, CARD_A, CARD_B))
		return -1;
	uint64_t since = tb_now_us();
	if (tb_device_attach(s, DEVICE, NETWORK) || tb_expect_attach(s, DEVICE, CARD_B, NETWORK, since) ||
	    tb_device_send(s, DEVICE, "meter 0042 on operator B"))
		return -1;
	if (card_a_refused(s) || change_card(s, CARD_A, CARD_B))
		return -1;
	tb_control off = {.action = M2M_DEV_POWER_OFF};
	if (tb_device_ok(s, DEVICE, &off, NULL, "%s is left off with card B in, as the subscriber keeps it", DEVICE) ||
	    tb_subscriber_admin(s, "resume", CARD_A, "clean-up for the other scenarios"))
		return -1;
	printf("outcome: the subscription moved from %s to %s with the card; %s's withdrawn IMSI gets no vectors\n",
	       tb_card_home(s, CARD_A), tb_card_home(s, CARD_B), tb_card_home(s, CARD_A));
	return 0;
}
