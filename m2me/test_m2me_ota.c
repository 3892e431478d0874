/*
 * The m2me daemon and the OTA of its card (docs/m2me-ota.md), against the fake card and the fake
 * network of m2me_harness.h: TERMINAL PROFILE at power-on (and a command the card has then);
 * smsDeliver from the network handed to the card in the ENVELOPE of TS 31.111 §7.1.1.2 and its
 * PoR returned in the SMS-DELIVER-REPORT; each refusal (badBody, noCard, notAttached, wrongState
 * "busy", cardError, the card's silence); the proactive session a 91XX answer opens (FETCH,
 * REFRESH 02 and 04, another command beyond capabilities, TERMINAL RESPONSE) and the detach and
 * attach with the IMSI the card presents after an OTA of Alternative 3a; a device killed during
 * the refresh re-attaching after restart.
 */
#include "m2me_harness.h"

#include "ota/sms.h"

#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

TestSuite(ota, .init = world_setup, .fini = world_teardown, .timeout = 120);

/* A 30-byte SMS-DELIVER as an OTA server sends it: its bytes are opaque to the device. */
static const uint8_t tpdu[] = {0x40, 0x04, 0x81, 0x10, 0x32, 0x7F, 0xF6, 0x42, 0x10, 0x10, 0x21, 0x43,
			       0x65, 0x00, 0x10, 0x02, 0x70, 0x00, 0x00, 0x0B, 0x0D, 0x00, 0x00, 0xB0,
			       0x00, 0x10, 0x00, 0x00, 0x01, 0x55};

static ta_answer sms_from(int from_network, const char *imsi, const uint8_t *t, size_t len)
{
	ta_answer a;
	sms_start(from_network, imsi, t, len, &a);
	world_poll_until(&a.done, 1);
	return a;
}

static ta_answer sms(const char *imsi)
{
	return sms_from(1, imsi, tpdu, sizeof tpdu);
}

/* The answer is smsReport carrying the SMS-DELIVER-REPORT of the card's PoR. */
static void expect_report_of_por(ta_answer *a)
{
	cr_assert_eq(a->type, M2M_MSG_SMS_REPORT, "answered %s (%s: %s)",
		     a->type < 0 ? "nothing" : m2m_msgtype_name(a->type), m2me_reason_name(a->reason), a->text);
	const M2M_SMS_REPORT *r = a->body;
	cr_assert_not_null(r->tpdu, "smsReport without the report TPDU");
	const uint8_t *t = ASN1_STRING_get0_data(r->tpdu), *ud;
	size_t len = (size_t)ASN1_STRING_length(r->tpdu), ud_len;
	/* TS 23.040 §9.2.2.1a: TP-MTI 00 (SMS-DELIVER-REPORT), TP-UDHI set: the PoR has a header */
	cr_assert_eq(t[0] & 0x03, 0x00, "TP-MTI %u", t[0] & 3);
	cr_assert(t[0] & 0x40, "TP-UDHI is not set");
	cr_assert_eq(m2m_sms_report_parse(t, len, &ud, &ud_len), 0, "not an SMS-DELIVER-REPORT");
	cr_assert_eq(ud_len, fake_card.por_len);
	cr_assert_eq(memcmp(ud, fake_card.por, ud_len), 0, "the user data is not what the card answered");
	ta_answer_free(a);
}

static int ota_phase_is(const char *phase)
{
	char stored[16] = "";
	world_query("SELECT phase FROM ota", stored, sizeof stored);
	return !strcmp(stored, phase);
}

static void poll_until_phase(const char *phase, int net)
{
	for (time_t end = time(NULL) + 10; !ota_phase_is(phase) && time(NULL) < end;)
		world_step(net);
	cr_assert(ota_phase_is(phase), "the phase %s was not stored", phase);
}

/* Nothing is left of the SMS: no row, the device on its session as before. */
static void expect_as_before(void)
{
	cr_assert_eq(world_rows("ota"), 0, "a row was left");
	answer s = act(M2M_DEV_STATUS);
	assert_status(&s, 1, CARD_IMSI, "mno-v");
}

/* Runs the world until the device is attached with imsi (or 20 s). */
static void poll_until_attached_with(const char *imsi)
{
	int done = 0;
	for (time_t end = time(NULL) + 20; !done && time(NULL) < end;) {
		world_step(1);
		if (fake_net.attaches > 1 && fake_net.session_open && !strcmp(fake_net.imsi, imsi)) {
			answer a = act(M2M_DEV_STATUS);
			done = a.type == M2M_MSG_DEVICE_STATUS && !strcmp(a.imsi, imsi) && a.attached_to[0];
		}
	}
	cr_assert(done, "the device did not attach with IMSI %s", imsi);
}

/* Attached with the new IMSI through the same network and APN, the session usable, nothing left. */
static void expect_on_the_new_imsi(void)
{
	poll_until_attached_with(NEW_IMSI);
	answer a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "after the OTA"});
	assert_status(&a, 1, NEW_IMSI, "mno-v");
	cr_assert_str_eq(fake_net.apn, "m2m.meter", "another APN");
	cr_assert_eq(fake_net.detaches, 1, "the session of the old IMSI was not detached");
	for (time_t end = time(NULL) + 5; world_rows("ota") && time(NULL) < end;)
		world_step(1);
	cr_assert_eq(world_rows("ota"), 0, "the settled OTA left its row");
}

/* An OTA of Alternative 3a is on its way: the SMS rewrites EF_IMSI, the card asks for REFRESH
 * with qualifier. */
static void imsi_rewritten(uint8_t qualifier)
{
	world_powered_and_attached();
	fake_card.ota_ef_imsi = new_ef_imsi;
	fake_card.refresh_qualifier = qualifier;
}

/* ... it arrives: the PoR goes back, the device ends on the new IMSI. */
static void imsi_rewritten_and_followed(uint8_t qualifier)
{
	imsi_rewritten(qualifier);
	ta_answer a = sms(CARD_IMSI);
	expect_report_of_por(&a);
	expect_on_the_new_imsi();
}

/* ---- power-on ------------------------------------------------------------------------------------ */

Test(ota, power_on_sends_the_terminal_profile)
{
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, CARD_IMSI, "");
	cr_assert_eq(fake_card.profiles, 1, "no TERMINAL PROFILE");
	cr_assert(fake_card.refresh_announced, "the profile does not announce REFRESH");
	cr_assert_eq(fake_card.commands, 9, "the reading and the profile");
	world_stop_m2me();
}

Test(ota, a_command_pending_at_power_on_is_fetched_after_it)
{
	fake_card.refresh_on_profile = 1;
	fake_card.refresh_qualifier = M2M_CAT_REFRESH_INIT;
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, CARD_IMSI, "");
	for (time_t end = time(NULL) + 10; (!fake_card.responses || world_rows("ota")) && time(NULL) < end;)
		world_step(1);
	cr_assert_eq(fake_card.fetches, 1, "the pending command was not fetched");
	cr_assert_eq(fake_card.responses, 1, "no TERMINAL RESPONSE");
	cr_assert_eq(fake_card.response[fake_card.response_len - 1], M2M_CAT_RESULT_OK);
	cr_assert_eq(world_rows("ota"), 0);
	a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, CARD_IMSI, "mno-v");
	world_stop_m2me();
}

/* ---- the SMS-PP download ------------------------------------------------------------------------- */

Test(ota, sms_goes_to_the_card_and_its_por_comes_back)
{
	world_powered_and_attached();
	ta_answer a = sms(CARD_IMSI);
	expect_report_of_por(&a);
	/* TS 31.111 §7.1.1.2: ENVELOPE (80 C2 00 00 Lc), SMS-PP download D1, device identities
	 * 82 02 83 81 (network to UICC), SMS TPDU 8B with the TPDU as it came */
	uint8_t want[5 + 2 + 4 + 2 + sizeof tpdu] = {0x80, 0xC2, 0x00, 0x00, 2 + 4 + 2 + sizeof tpdu,
						     0xD1, 4 + 2 + sizeof tpdu, 0x82, 0x02, 0x83, 0x81, 0x8B, sizeof tpdu};
	memcpy(want + 13, tpdu, sizeof tpdu);
	cr_assert_eq(fake_card.envelopes, 1);
	cr_assert_eq(fake_card.envelope_len, sizeof want);
	cr_assert_eq(memcmp(fake_card.envelope, want, sizeof want), 0, "the ENVELOPE is not TS 31.111's");
	cr_assert_eq(fake_card.fetches, 0, "nothing was pending, yet the device fetched");
	expect_as_before();
	world_stop_m2me();
}

Test(ota, a_card_without_answer_data_gives_a_report_without_tpdu)
{
	world_powered_and_attached();
	fake_card.por_len = 0;
	ta_answer a = sms(CARD_IMSI);
	cr_assert_eq(a.type, M2M_MSG_SMS_REPORT, "%s: %s", m2me_reason_name(a.reason), a.text);
	cr_assert_null(((const M2M_SMS_REPORT *)a.body)->tpdu, "a report TPDU out of nothing");
	ta_answer_free(&a);
	world_stop_m2me();
}

static ta_answer sms_of_the_tpdu(int from_network, const char *imsi)
{
	return sms_from(from_network, imsi, tpdu, sizeof tpdu);
}

Test(ota, sms_the_device_does_not_take)
{
	world_downlink_refusals(sms_of_the_tpdu);
	ta_answer a = sms_from(1, CARD_IMSI, tpdu, 0);
	expect_refused(&a, M2M_R_BAD_BODY, "an empty TPDU");
	a = sms_from(1, "12345", tpdu, sizeof tpdu);
	expect_refused(&a, M2M_R_BAD_BODY, "a 5-digit IMSI");
	uint8_t big[M2M_SMS_TPDU_MAX + 1] = {0};
	a = sms_from(1, CARD_IMSI, big, sizeof big);
	expect_refused(&a, M2M_R_BAD_BODY, "a TPDU of 165 octets");
	cr_assert_eq(fake_card.envelopes, 0, "a refused SMS reached the card");
	act(M2M_DEV_POWER_OFF);
	act(M2M_DEV_REMOVE_CARD);
	a = sms(CARD_IMSI);
	expect_refused(&a, M2M_R_NO_CARD, "an empty slot");
	cr_assert_eq(world_rows("ota"), 0, "a refusal left a row");
	world_stop_m2me();
}

Test(ota, a_card_error_is_named)
{
	world_powered_and_attached();
	fake_card.envelope_sw = 0x6F00;
	ta_answer a = sms(CARD_IMSI);
	expect_refused(&a, M2M_R_CARD_ERROR, "an ENVELOPE answered 6F00");
	cr_assert(strstr(a.text, "6F00"), "%s", a.text);
	expect_as_before();
	world_stop_m2me();
}

Test(ota, a_busy_device_says_so)
{
	world_powered_and_attached();
	fake_card.hold_envelope = 1;
	ta_answer first;
	sms_start(1, CARD_IMSI, tpdu, sizeof tpdu, &first);
	world_poll_until(&fake_card.envelopes, 1);
	cr_assert(ota_phase_is("enveloping"), "the download was not stored before the card had it");
	world_busy_refusals(sms_of_the_tpdu, "SMS-PP");
	/* the card never answers: the first is refused with the card link's reason */
	world_poll_until(&first.done, 1);
	expect_refused(&first, M2M_R_TIMEOUT, "the card's silence");
	/* ... and the card, which may have acted on it, is read again */
	fake_card.hold_envelope = 0;
	int resets = fake_card.resets;
	for (time_t end = time(NULL) + 10; (world_rows("ota") || fake_card.resets == resets) && time(NULL) < end;)
		world_step(1);
	cr_assert_gt(fake_card.resets, resets, "the card was not read again");
	expect_as_before();
	cr_assert_eq(fake_net.detaches, 0, "the same IMSI, yet the device detached");
	world_stop_m2me();
}

/* ---- the proactive session ---------------------------------------------------------------------- */

Test(ota, a_refresh_after_the_imsi_changed_reattaches_with_the_new_imsi)
{
	imsi_rewritten_and_followed(M2M_CAT_REFRESH_INIT_FCN);
	cr_assert_eq(fake_card.fetches, 1);
	cr_assert_eq(fake_card.resets, 1, "REFRESH 02 does not reset the card");
	/* TERMINAL RESPONSE: command details of the REFRESH, device identities ME to UICC, result OK */
	static const uint8_t want[] = {0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, 0x01, 0x01, 0x02,
				       0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x00};
	cr_assert_eq(fake_card.responses, 1);
	cr_assert_eq(fake_card.response_len, sizeof want);
	cr_assert_eq(memcmp(fake_card.response, want, sizeof want), 0, "not the TERMINAL RESPONSE of TS 102 223");
	cr_assert_eq(fake_card.proactive_len, 0, "the command is still pending");
	world_stop_m2me();
}

Test(ota, a_refresh_with_uicc_reset_reads_the_card_afresh)
{
	imsi_rewritten_and_followed(M2M_CAT_REFRESH_UICC_RESET);
	cr_assert_eq(fake_card.resets, 2, "the card was not reset");
	cr_assert_eq(fake_card.profiles, 2, "no TERMINAL PROFILE after the reset");
	cr_assert_eq(fake_card.responses, 0, "a TERMINAL RESPONSE after a UICC reset");
	world_stop_m2me();
}

Test(ota, a_refresh_that_changed_nothing_keeps_the_session)
{
	world_powered_and_attached();
	fake_card_queue(M2M_CAT_CMD_REFRESH, M2M_CAT_REFRESH_FCN);
	ta_answer a = sms(CARD_IMSI);
	expect_report_of_por(&a);
	for (time_t end = time(NULL) + 10; !fake_card.responses && time(NULL) < end;)
		world_step(1);
	cr_assert_eq(fake_card.responses, 1, "no TERMINAL RESPONSE");
	cr_assert_eq(fake_card.response[fake_card.response_len - 1], M2M_CAT_RESULT_OK);
	for (time_t end = time(NULL) + 5; world_rows("ota") && time(NULL) < end;)
		world_step(1);
	cr_assert_eq(world_rows("ota"), 0);
	answer s = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "same session"});
	assert_status(&s, 1, CARD_IMSI, "mno-v");
	cr_assert_eq(fake_net.detaches, 0);
	cr_assert_eq(fake_net.attaches, 1);
	world_stop_m2me();
}

Test(ota, another_proactive_command_is_beyond_capabilities)
{
	world_powered_and_attached();
	fake_card_queue(0x13, 0x00);  /* SEND SHORT MESSAGE */
	ta_answer a = sms(CARD_IMSI);
	expect_report_of_por(&a);
	for (time_t end = time(NULL) + 10; !fake_card.responses && time(NULL) < end;)
		world_step(1);
	cr_assert_eq(fake_card.responses, 1, "no TERMINAL RESPONSE");
	static const uint8_t want[] = {0x81, 0x03, 0x01, 0x13, 0x00, 0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x30};
	cr_assert_eq(fake_card.response_len, 5 + sizeof want);
	cr_assert_eq(memcmp(fake_card.response + 5, want, sizeof want), 0, "not \"beyond terminal's capabilities\"");
	for (time_t end = time(NULL) + 5; world_rows("ota") && time(NULL) < end;)
		world_step(1);
	expect_as_before();
	world_stop_m2me();
}

/* ---- a restart in the middle --------------------------------------------------------------------- */

Test(ota, killed_before_the_fetch_it_reattaches_after_restart)
{
	imsi_rewritten(M2M_CAT_REFRESH_INIT_FCN);
	fake_card.hold_fetch = 1;
	ta_answer a = sms(CARD_IMSI);
	expect_report_of_por(&a);
	world_poll_until(&fake_card.fetches, 1);
	cr_assert(ota_phase_is("fetching"), "the proactive session was not stored");
	world_kill_m2me();
	fake_card.hold_fetch = 0;
	world_start_m2me();
	expect_on_the_new_imsi();
	cr_assert_eq(fake_card.resets, 2, "the restarted device did not reset its card");
	world_stop_m2me();
}

Test(ota, killed_during_the_reattach_it_attaches_after_restart)
{
	imsi_rewritten(M2M_CAT_REFRESH_INIT_FCN);
	ta_answer a;
	sms_start(1, CARD_IMSI, tpdu, sizeof tpdu, &a);
	/* the network is not served: the device has sent its detach when it is stopped */
	poll_until_phase("reattaching", 0);
	world_kill_m2me();
	world_start_m2me();
	world_poll_until(&a.done, 1);
	expect_report_of_por(&a);
	expect_on_the_new_imsi();
	world_stop_m2me();
}
