/*
 * The device against the real uicc daemon (uicc/, docs/uicc.md), started from a card image and
 * a storage key in the test's own directory: the power-on reading run in this process, then
 * the m2me daemon attaching with it through the fake network (fresh challenge, the
 * re-synchronisation of a stale one, a false network). Skipped while the uicc binary is the
 * foundation's stub, which takes no card image.
 */
#include "m2me_harness.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(uicc, .init = world_setup, .fini = world_teardown, .timeout = 120);

static const char *need_uicc(void)
{
	const char *bin = world_real_uicc();
	if (!bin) {
		world_teardown();  /* a skipped test's fini is not run */
		cr_skip_test("no uicc daemon that takes a card image is built (UICC_BINARY)");
	}
	return bin;
}

typedef struct read_result {
	int done;
	m2m_reason reason;
	char text[256];
	m2me_card_info info;
} read_result;

static read_result result;

static void on_read(m2me_device *dev, const m2me_card_info *info, m2m_reason reason, const char *text)
{
	result.done = 1;
	result.reason = reason;
	snprintf(result.text, sizeof result.text, "%s", text ? text : "");
	if (info)
		result.info = *info;
}

Test(uicc, power_on_reading_in_process)
{
	world_start_uicc(need_uicc());
	m2me_device *dev = world_device_in_process();
	memset(&result, 0, sizeof result);
	m2me_card_read_start(dev, on_read);
	world_device_poll(dev, &result.done);
	cr_assert_eq(result.reason, M2M_OK, "%s: %s", m2me_reason_name(result.reason), result.text);
	cr_assert_str_eq(result.info.imsi, CARD_IMSI);
	cr_assert_str_eq(result.info.iccid, CARD_ICCID);
	cr_assert_eq(result.info.mnc_length, 2);
	m2m_node_free(dev->node);
	free(dev);
}

static void assert_card_status(const answer *a, const char *attached_to)
{
	cr_assert_eq(a->type, M2M_MSG_DEVICE_STATUS, "expected deviceStatus, got %s: %s",
		     a->type == M2M_MSG_ERROR ? m2me_reason_name(a->reason) : "no answer", a->text);
	cr_assert_str_eq(a->imsi, CARD_IMSI);
	cr_assert_str_eq(a->attached_to, attached_to);
}

Test(uicc, attach_with_the_real_card)
{
	world_start_uicc(need_uicc());
	world_start_m2me();
	answer a = control((ctl){.action = M2M_DEV_POWER_ON});
	assert_card_status(&a, "");
	cr_assert_str_eq(a.iccid, CARD_ICCID);
	a = control((ctl){.action = M2M_DEV_ATTACH});
	assert_card_status(&a, "mno-v");
	a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "through the real card's CK and IK"});
	assert_card_status(&a, "mno-v");
	cr_assert_eq(a.echo_len, strlen("through the real card's CK and IK"));
	a = control((ctl){.action = M2M_DEV_DETACH});
	assert_card_status(&a, "");
	/* the same challenge again: the card finds it stale, the network re-synchronises */
	fake_net.mode = NET_STALE_FIRST;
	a = control((ctl){.action = M2M_DEV_ATTACH});
	assert_card_status(&a, "mno-v");
	cr_assert_eq(fake_net.resyncs, 1, "the real card's AUTS opened at the network");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(uicc, the_real_card_refuses_a_false_network)
{
	world_start_uicc(need_uicc());
	world_start_m2me();
	fake_net.mode = NET_FALSE;
	answer a = control((ctl){.action = M2M_DEV_POWER_ON});
	assert_card_status(&a, "");
	a = control((ctl){.action = M2M_DEV_ATTACH});
	cr_assert_eq(a.type, M2M_MSG_ERROR);
	cr_assert_eq(a.reason, M2M_R_MAC_FAILURE, "%s: %s", m2me_reason_name(a.reason), a.text);
	cr_assert_eq(fake_net.mac_failures, 1);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}
