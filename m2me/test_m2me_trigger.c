/*
 * The m2me daemon and the treTrigger of Alternative 3b (docs/alt3b.md), against the fake card,
 * network and TRE of m2me_harness.h: the trigger from the network of the session, for its IMSI,
 * goes unchanged to the device's TRE and the TRE's treTriggerAck comes back; refused as an SMS
 * is (notAttached, another IMSI, another sender, busy), notFound without a TRE, badBody; the
 * TRE's refusal and silence passed on; the device busy while the TRE holds the trigger.
 */
#include "m2me_harness.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(trigger, .init = world_setup, .fini = world_teardown, .timeout = 120);

/* The DRF's signed object: opaque to the device, the TRE checks it. */
static const uint8_t cms[] = {0x30, 0x80, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02};

static ta_answer trigger_from(int from_network, const char *imsi, size_t len)
{
	ta_answer a;
	trigger_start(from_network, imsi, cms, len, &a);
	world_poll_until(&a.done, 1);
	return a;
}

static ta_answer trigger(const char *imsi)
{
	return trigger_from(1, imsi, sizeof cms);
}

static ta_answer trigger_of_the_cms(int from_network, const char *imsi)
{
	return trigger_from(from_network, imsi, sizeof cms);
}

Test(trigger, the_trigger_reaches_the_tre_and_its_ack_comes_back)
{
	world_use_card_and_tre();
	world_powered_and_attached();
	ta_answer a = trigger(CARD_IMSI);
	cr_assert_eq(a.type, M2M_MSG_TRE_TRIGGER_ACK, "answered %s (%s: %s)",
		     a.type < 0 ? "nothing" : m2m_msgtype_name(a.type), m2me_reason_name(a.reason), a.text);
	const M2M_CHANGE_ACK *ack = a.body;
	cr_assert_eq(ASN1_STRING_length(ack->change_id), (int)sizeof fake_change_id);
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(ack->change_id), fake_change_id, sizeof fake_change_id), 0);
	ta_answer_free(&a);
	cr_assert_eq(fake_tre.triggers, 1);
	cr_assert_eq(fake_tre.trigger_len, sizeof cms);
	cr_assert_eq(memcmp(fake_tre.trigger, cms, sizeof cms), 0, "the signed trigger changed on the way");
	/* the device then ran the change of its card by itself (test_m2me_uicc_change.c) and is free
	 * again, on B's IMSI */
	world_until_no_provision();
	answer c = act(M2M_DEV_STATUS);
	assert_status(&c, 1, CARD_B_IMSI, "mno-v");
	a = trigger(CARD_B_IMSI);
	cr_assert_eq(a.type, M2M_MSG_TRE_TRIGGER_ACK);
	ta_answer_free(&a);
	world_stop_m2me();
}

Test(trigger, a_trigger_the_device_does_not_take)
{
	world_use_card_and_tre();
	world_downlink_refusals(trigger_of_the_cms);
	ta_answer a = trigger_from(1, "12345", sizeof cms);
	expect_refused(&a, M2M_R_BAD_BODY, "a 5-digit IMSI");
	a = trigger_from(1, CARD_IMSI, 0);
	expect_refused(&a, M2M_R_BAD_BODY, "an empty trigger");
	cr_assert_eq(fake_tre.triggers, 0, "a refused trigger reached the TRE");
	world_stop_m2me();
}

Test(trigger, a_device_without_tre_has_nobody_to_trigger)
{
	world_powered_and_attached();
	ta_answer a = trigger(CARD_IMSI);
	expect_refused(&a, M2M_R_NOT_FOUND, "a device without TRE");
	cr_assert(strstr(a.text, "TRE"), "%s", a.text);
	cr_assert_eq(fake_tre.triggers, 0);
	world_stop_m2me();
}

Test(trigger, the_tre_s_refusal_and_silence_are_passed_on)
{
	world_use_card_and_tre();
	world_powered_and_attached();
	fake_tre.refuse_trigger = M2M_R_OUT_OF_WINDOW;
	ta_answer a = trigger(CARD_IMSI);
	expect_refused(&a, M2M_R_OUT_OF_WINDOW, "the TRE's refusal");
	cr_assert(strstr(a.text, "stale"), "%s", a.text);
	fake_tre.refuse_trigger = M2M_OK;
	fake_tre.hold_trigger = 1;
	ta_answer first;
	trigger_start(1, CARD_IMSI, cms, sizeof cms, &first);
	for (int i = 0; i < 50 && fake_tre.triggers < 2; i++)
		world_step(1);
	cr_assert_eq(fake_tre.triggers, 2, "the second trigger did not reach the TRE");
	/* busy while the TRE holds it: another trigger, an SMS and a detach wait */
	world_busy_refusals(trigger_of_the_cms, "treTrigger held by the TRE");
	static const uint8_t tpdu[] = {0x40, 0x04, 0x81, 0x10, 0x32, 0x7F, 0xF6, 0x42, 0x10, 0x10, 0x21, 0x43, 0x65, 0x00};
	sms_start(1, CARD_IMSI, tpdu, sizeof tpdu, &a);
	world_poll_until(&a.done, 1);
	expect_refused(&a, M2M_R_WRONG_STATE, "an SMS while the TRE holds the trigger");
	world_poll_until(&first.done, 1);
	expect_refused(&first, M2M_R_TIMEOUT, "the TRE's silence");
	cr_assert(strstr(first.text, "tre-t"), "%s", first.text);
	answer c = act(M2M_DEV_STATUS);
	assert_status(&c, 1, CARD_IMSI, "mno-v");
	world_stop_m2me();
}
