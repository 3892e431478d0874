/*
 * The m2me daemon in Alternative 3b (docs/alt3b.md, m2me/uicc_change.c), against the fake card,
 * network and TRE of m2me_harness.h: the TRE's acknowledged trigger starts the provisioning with
 * nobody waiting; the TRE's card steps reach the card in order and their answers (data, SW, 91XX)
 * come back; a command that is not the re-credentialing's ends the procedure notAuthorised and
 * never reaches the card; after SWITCH the device follows the card's REFRESH, re-attaches with
 * B's IMSI and tells the TRE, which completes and commits; a failed attach with B is reported
 * failed, the card rolled back and the device back on A; a kill in the STORE DATA chain or while
 * following the card resumes by itself after the restart.
 */
#include "m2me_harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

TestSuite(uicc_change, .init = world_setup, .fini = world_teardown, .timeout = 120);

/* The DRF's signed TreActivate: opaque to the device. */
static const uint8_t cms[] = {0x30, 0x80, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02};

/* What the fake TRE logs of the card's answers in a change that ends on B: the ICCID (SELECT MF,
 * SELECT EF_ICCID, READ BINARY), the certificate in two GET DATA, GET CHALLENGE, the STORE DATA
 * chain in two blocks, SWITCH answered 9114 (the REFRESH of EF_IMSI waits). */
#define REGISTERED "A4:9000 A4:9000 B0:9000 CA:9000 CA:9000 84:9000 "
#define LOADED REGISTERED "E2:9000 E2:9000 38:9114 "

/* Powered, attached with the card's IMSI A, and the TRE's trigger acknowledged. */
static void triggered(void)
{
	world_use_card_and_tre();
	world_powered_and_attached();
	ta_answer a;
	trigger_start(1, CARD_IMSI, cms, sizeof cms, &a);
	world_poll_until(&a.done, 1);
	cr_assert_eq(a.type, M2M_MSG_TRE_TRIGGER_ACK, "answered %s (%s: %s)",
		     a.type < 0 ? "nothing" : m2m_msgtype_name(a.type), m2me_reason_name(a.reason), a.text);
	ta_answer_free(&a);
}

static int log_has(const char *text)
{
	size_t len;
	char *log = world_read("m2me.log", &len);
	int found = memmem(log, len, text, strlen(text)) != NULL;
	free(log);
	return found;
}

static void expect_on(const char *imsi)
{
	answer a = act(M2M_DEV_STATUS);
	assert_status(&a, 1, imsi, "mno-v");
}

static void expect_card_log(const char *want)
{
	cr_assert_str_eq(fake_tre.card_log, want, "card answers: %s", fake_tre.card_log);
}

Test(uicc_change, the_trigger_starts_the_change_of_the_card_which_ends_on_b)
{
	fake_tre.empty = 1;  /* the TRE of a 3b device holds no credential: treAttached gets kind none */
	triggered();
	world_until_no_provision();
	cr_assert_eq(fake_tre.uicc_done, 1);
	cr_assert_eq(fake_tre.state, M2M_PROV_DONE, "the TRE ended in %d (%s)", fake_tre.state,
		     m2me_reason_name(fake_tre.reason));
	/* the card steps in order, each answer back to the TRE as the card gave it */
	expect_card_log(LOADED "3A:9000 ");
	char iccid[M2M_ICCID_MAX + 1];
	cr_assert_eq(m2m_ef_iccid_decode(fake_tre.iccid_read, sizeof fake_tre.iccid_read, iccid), 0);
	cr_assert_str_eq(iccid, CARD_ICCID);
	cr_assert_eq(fake_tre.cert_read, FAKE_CERT_LEN, "the certificate did not come back whole");
	cr_assert_eq(fake_tre.challenge_len, 16);
	cr_assert_eq(fake_card.stored_len, FAKE_PACKAGE_LEN);
	cr_assert_eq(memcmp(fake_card.stored, fake_package, FAKE_PACKAGE_LEN), 0, "the chain changed the package");
	cr_assert_eq(fake_card.commits, 1);
	cr_assert(fake_card.on_b);
	/* the registration over A's session, the completion over B's */
	cr_assert_eq(fake_net.relays, 2);
	assert_relayed(0, "drf", M2M_MSG_UICC_CHANGE_REGISTER, CARD_IMSI);
	assert_relayed(1, "drf", M2M_MSG_UICC_CHANGE_COMPLETE, CARD_B_IMSI);
	/* the REFRESH followed (FETCH, TERMINAL RESPONSE), the card reset and read, B attached, told */
	cr_assert_eq(fake_card.fetches, 1);
	cr_assert_eq(fake_card.responses, 1);
	cr_assert_eq(fake_card.resets, 2, "power-on, then the reset after the switch");
	cr_assert_eq(fake_net.detaches, 1);
	cr_assert_eq(fake_net.attaches, 2);
	cr_assert_str_eq(fake_net.imsi, CARD_B_IMSI);
	cr_assert_str_eq(fake_net.apn, "m2m.meter", "the re-attach asks for the session's APN");
	cr_assert_str_eq(fake_tre.told_log, "009+");
	expect_on(CARD_B_IMSI);
	answer a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "over B"});
	assert_status(&a, 1, CARD_B_IMSI, "mno-v");
	world_stop_m2me();
	cr_assert(log_has("provision (started by the TRE's trigger) done"));
	cr_assert(log_has("card step 7, STORE DATA (245 bytes)"));
	size_t len;
	char *log = world_read("m2me.log", &len);
	cr_assert_not(world_leaks(log, len, fake_package + 4, 6), "the package is in the log");
	cr_assert_not(world_leaks(log, len, fake_card.challenge, 16), "the card's challenge is in the log");
	free(log);
	cr_assert_eq(world_rows("provision"), 0);
	cr_assert_eq(world_rows("ota"), 0);
}

/* Each: a deviceControl provision on a change the TRE holds open, whose first card step is apdu. */
static void refused_before_the_card(const uint8_t *apdu, size_t len, const char *what)
{
	fake_tre.uicc_change = 1;
	fake_tre.nops = fake_tre.upc = 0;
	memcpy(fake_tre.forbidden, apdu, len);
	fake_tre.forbidden_len = len;
	int commands = fake_card.commands;
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, "not one of the re-credentialing's"), "%s: %s", what, a.text);
	cr_assert_eq(fake_card.commands, commands, "%s reached the card", what);
	expect_on(CARD_IMSI);
}

Test(uicc_change, a_command_that_is_not_the_re_credentialing_s_never_reaches_the_card)
{
	static const uint8_t authenticate[40] = {0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
	static const uint8_t update_binary[] = {0x00, 0xD6, 0x00, 0x00, 0x09, 0x08, 0x09, 0x10, 0x20,
						0x00, 0x00, 0x00, 0x00, 0x90};
	static const uint8_t verify[] = {0x00, 0x20, 0x00, 0x0A, 0x08, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t get_data_00[] = {0x00, 0xCA, 0x00, 0x00, 0x00};       /* class 00, another INS */
	static const uint8_t terminal_profile[] = {0x80, 0x10, 0x00, 0x00, 0x01, 0xFF};  /* class 80, another INS */
	memcpy(fake_tre.forbidden, authenticate, sizeof authenticate);
	fake_tre.forbidden_len = sizeof authenticate;
	triggered();
	int commands = fake_card.commands;
	world_until_no_provision();
	cr_assert_eq(fake_card.commands, commands, "AUTHENTICATE reached the card");
	cr_assert_str_eq(fake_tre.card_log, "", "an answer went to the TRE");
	cr_assert(log_has("provision (started by the TRE's trigger) failed: notAuthorised"));
	refused_before_the_card(update_binary, sizeof update_binary, "UPDATE BINARY");
	refused_before_the_card(verify, sizeof verify, "VERIFY");
	refused_before_the_card(get_data_00, sizeof get_data_00, "00 CA");
	refused_before_the_card(terminal_profile, sizeof terminal_profile, "TERMINAL PROFILE");
	cr_assert(!strstr(fake_card.ins_log, "0088 0088"), "%s", fake_card.ins_log);
	cr_assert(!strstr(fake_card.ins_log, "00D6") && !strstr(fake_card.ins_log, "0020") &&
		  !strstr(fake_card.ins_log, "00CA"), "%s", fake_card.ins_log);
	world_stop_m2me();
}

Test(uicc_change, a_failed_attach_with_b_is_reported_and_the_card_rolled_back_to_a)
{
	world_use_card_and_tre();
	world_powered_and_attached();
	fake_tre.uicc_change = 1;  /* the trigger came before: a deviceControl provision runs it */
	snprintf(fake_net.refuse_imsi, sizeof fake_net.refuse_imsi, "%s", CARD_B_IMSI);
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_ROAMING_NOT_ALLOWED);
	cr_assert_eq(fake_tre.state, M2M_PROV_FAILED);
	cr_assert_str_eq(fake_tre.told_log, "009- 001+", "B failed, then A attached: %s", fake_tre.told_log);
	cr_assert_eq(fake_tre.told_reason, M2M_OK);
	expect_card_log(LOADED "3C:9114 ");
	cr_assert_eq(fake_card.rollbacks, 1);
	cr_assert_eq(fake_card.commits, 0);
	cr_assert_not(fake_card.on_b);
	cr_assert_eq(fake_card.fetches, 2, "each switch's REFRESH was fetched");
	cr_assert_eq(fake_net.relays, 2);
	assert_relayed(1, "drf", M2M_MSG_UICC_CHANGE_COMPLETE, CARD_IMSI);
	expect_on(CARD_IMSI);
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0);
}

/* Runs the world until the card got a command of this class and INS. */
static void until_the_card_got(const char *cla_ins)
{
	for (time_t end = time(NULL) + 20; !strstr(fake_card.ins_log, cla_ins) && time(NULL) < end;)
		world_step(1);
	cr_assert(strstr(fake_card.ins_log, cla_ins), "the card never got %s: %s", cla_ins, fake_card.ins_log);
}

static void expect_row(const char *sql, const char *want)
{
	char row[64];
	cr_assert(world_query(sql, row, sizeof row), "%s: no row", sql);
	cr_assert_str_eq(row, want, "%s", sql);
}

/* Restarted, the device resumes the procedure the trigger started, with no deviceControl, and it
 * ends on B. */
static void resumed_to_b(void)
{
	world_start_m2me();
	world_poll_until(&fake_tre.uicc_done, 1);
	world_until_no_provision();
	cr_assert_eq(fake_tre.state, M2M_PROV_DONE, "the TRE ended in %d (%s)", fake_tre.state,
		     m2me_reason_name(fake_tre.reason));
	cr_assert_geq(fake_tre.repeats, 1, "the TRE was not asked for its current step again");
	cr_assert_eq(fake_card.commits, 1);
	expect_on(CARD_B_IMSI);
	world_stop_m2me();
	cr_assert(log_has("provision (started by the TRE's trigger) done"));
	cr_assert_eq(world_rows("ota"), 0);
}

Test(uicc_change, a_kill_in_the_store_data_chain_resumes_by_itself)
{
	fake_card.hold_ins = 0xE2;  /* the first STORE DATA never gets its answer */
	triggered();
	until_the_card_got("80E2");
	world_kill_m2me();
	expect_row("SELECT phase || ',' || uicc || ',' || unattended FROM provision", "carding,1,1");
	resumed_to_b();
	expect_card_log(LOADED "3A:9000 ");
}

Test(uicc_change, a_kill_while_following_the_card_resumes_by_itself)
{
	fake_card.hold_fetch = 1;  /* the FETCH of the REFRESH after SWITCH never gets its answer */
	triggered();
	until_the_card_got("8012");
	world_kill_m2me();
	expect_row("SELECT phase || ',' || unattended FROM provision", "following,1");
	expect_row("SELECT phase FROM ota", "fetching");
	fake_card.hold_fetch = 0;
	resumed_to_b();
	cr_assert_str_eq(fake_tre.told_log, "009+", "%s", fake_tre.told_log);
}
