/*
 * The m2me daemon as a process (m2me_harness.h): every deviceControl action and the reason of
 * each refusal, the attach procedure against a fake network that runs the network side of AKA
 * (fresh challenge, re-synchronisation, repeated synchronisation failure, false network,
 * refusal), user data and its echo, detach, the state kept across a restart, the secrets kept
 * out of the log and the database, and the configuration checks.
 */
#include "m2me_harness.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

TestSuite(device, .init = world_setup, .fini = world_teardown, .timeout = 120);

static void power_on_and_attach(void)
{
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, CARD_IMSI, "");
	a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, CARD_IMSI, "mno-v");
}

static void send_and_check_echo(const char *text)
{
	answer a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = text});
	assert_status(&a, 1, CARD_IMSI, "mno-v");
	cr_assert_eq(a.echo_len, strlen(text));
	cr_assert(!memcmp(a.echo, text, a.echo_len), "the echo differs from what was sent");
}

/* ---- power and the card slot ------------------------------------------------------------------- */

Test(device, first_start_follows_the_settings)
{
	world_start_m2me();
	answer a = act(M2M_DEV_STATUS);
	assert_status(&a, 0, "", "");
	cr_assert_str_eq(a.imei, DEVICE_IMEI);
	cr_assert_str_eq(a.card, "uicc-t");
	cr_assert_str_eq(a.iccid, "");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, power_on_reads_the_card)
{
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, CARD_IMSI, "");
	cr_assert_str_eq(a.iccid, CARD_ICCID);
	cr_assert_eq(fake_card.resets, 1, "the card was not reset");
	cr_assert_eq(fake_card.commands, 9, "SELECT MF, EF_ICCID, ADF.USIM, EF_IMSI, EF_AD, three READ BINARY and"
					     " TERMINAL PROFILE");
	a = act(M2M_DEV_POWER_ON);
	assert_refused(&a, M2M_R_WRONG_STATE);
	a = act(M2M_DEV_POWER_OFF);
	assert_status(&a, 0, "", "");
	cr_assert_str_eq(a.iccid, "", "what was read is forgotten at power-off");
	a = act(M2M_DEV_POWER_OFF);
	assert_refused(&a, M2M_R_WRONG_STATE);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, the_slot_changes_only_while_off)
{
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, CARD_IMSI, "");
	assert_refused((a = act(M2M_DEV_REMOVE_CARD), &a), M2M_R_WRONG_STATE);
	assert_refused((a = control((ctl){.action = M2M_DEV_INSERT_CARD, .card = "uicc-t"}), &a), M2M_R_WRONG_STATE);
	act(M2M_DEV_POWER_OFF);
	a = act(M2M_DEV_REMOVE_CARD);
	assert_status(&a, 0, "", "");
	cr_assert_str_eq(a.card, "");
	assert_refused((a = act(M2M_DEV_REMOVE_CARD), &a), M2M_R_NO_CARD);
	assert_refused((a = control((ctl){.action = M2M_DEV_INSERT_CARD, .card = "uicc-9"}), &a), M2M_R_UNKNOWN_PEER);
	a = control((ctl){.action = M2M_DEV_INSERT_CARD, .card = "uicc-t"});
	assert_status(&a, 0, "", "");
	cr_assert_str_eq(a.card, "uicc-t");
	assert_refused((a = control((ctl){.action = M2M_DEV_INSERT_CARD, .card = "uicc-t"}), &a), M2M_R_WRONG_STATE);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, powered_without_a_card_it_cannot_attach)
{
	world_start_m2me();
	act(M2M_DEV_REMOVE_CARD);
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, "", "");
	cr_assert_eq(fake_card.resets, 0);
	assert_refused((a = act(M2M_DEV_ATTACH), &a), M2M_R_NO_CARD);
	cr_assert_eq(fake_net.attaches, 0);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, a_card_that_does_not_answer)
{
	world_start_m2me();
	act(M2M_DEV_REMOVE_CARD);
	answer a = control((ctl){.action = M2M_DEV_INSERT_CARD, .card = "mno-v"});  /* a peer, but no card */
	assert_status(&a, 0, "", "");
	assert_refused((a = act(M2M_DEV_POWER_ON), &a), M2M_R_UNEXPECTED_MESSAGE);
	assert_status((a = act(M2M_DEV_STATUS), &a), 0, "", "");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, a_malformed_ef_imsi_is_a_card_error)
{
	fake_card.fault = CARD_BAD_IMSI;
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_refused(&a, M2M_R_CARD_ERROR);
	cr_assert(strstr(a.text, "EF_IMSI"), "%s", a.text);
	assert_status((a = act(M2M_DEV_STATUS), &a), 0, "", "");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, an_ef_ad_without_mnc_length_is_a_card_error)
{
	fake_card.fault = CARD_SHORT_AD;
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_refused(&a, M2M_R_CARD_ERROR);
	cr_assert(strstr(a.text, "EF_AD"), "%s", a.text);
	cr_assert_eq(fake_card.commands, 9, "READ BINARY EF_AD repeated with the Le the card named (6C03)");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

/* ---- requests that do not fit ------------------------------------------------------------------ */

Test(device, requests_with_the_wrong_fields)
{
	world_start_m2me();
	answer a;
	assert_refused((a = control((ctl){.action = M2M_DEV_POWER_ON, .data = "x"}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = M2M_DEV_INSERT_CARD}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = M2M_DEV_SEND_DATA}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = M2M_DEV_SET_IMEI}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = M2M_DEV_SET_IMEI, .imei = "356938035643808"}), &a),
		       M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = M2M_DEV_SET_IMEI, .imei = "3569380356438"}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = M2M_DEV_ATTACH, .apn = ""}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = 10}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = M2M_DEV_PROVISION, .data = "x"}), &a), M2M_R_BAD_BODY);
	assert_refused((a = control((ctl){.action = -1}), &a), M2M_R_BAD_BODY);
	/* nothing of it changed the device */
	assert_status((a = act(M2M_DEV_STATUS), &a), 0, "", "");
	cr_assert_str_eq(a.imei, DEVICE_IMEI);
	cr_assert_str_eq(a.card, "uicc-t");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, actions_out_of_order)
{
	world_start_m2me();
	answer a;
	assert_refused((a = act(M2M_DEV_ATTACH), &a), M2M_R_WRONG_STATE);
	assert_refused((a = act(M2M_DEV_DETACH), &a), M2M_R_NOT_ATTACHED);
	assert_refused((a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "x"}), &a), M2M_R_NOT_ATTACHED);
	act(M2M_DEV_POWER_ON);
	assert_refused((a = act(M2M_DEV_DETACH), &a), M2M_R_NOT_ATTACHED);
	assert_refused((a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "x"}), &a), M2M_R_NOT_ATTACHED);
	assert_refused((a = control((ctl){.action = M2M_DEV_ATTACH, .network = "mno-q"}), &a), M2M_R_UNKNOWN_PEER);
	cr_assert_eq(fake_net.attaches, 0);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, set_imei_persists_across_a_restart)
{
	world_start_m2me();
	answer a = control((ctl){.action = M2M_DEV_SET_IMEI, .imei = "490154203237518"});
	assert_status(&a, 0, "", "");
	cr_assert_str_eq(a.imei, "490154203237518");
	world_stop_m2me();
	world_start_m2me();
	a = act(M2M_DEV_POWER_ON);
	a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, CARD_IMSI, "mno-v");
	cr_assert_str_eq(fake_net.imei, "490154203237518", "the network saw IMEI %s", fake_net.imei);
	assert_refused((a = control((ctl){.action = M2M_DEV_SET_IMEI, .imei = DEVICE_IMEI}), &a), M2M_R_WRONG_STATE);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

/* ---- attach, user data, detach ------------------------------------------------------------------ */

Test(device, attach_send_data_detach)
{
	world_start_m2me();
	power_on_and_attach();
	cr_assert_str_eq(fake_net.imsi, CARD_IMSI);
	cr_assert_str_eq(fake_net.imei, DEVICE_IMEI);
	cr_assert_str_eq(fake_net.apn, "m2m.meter");
	cr_assert_eq(fake_card.authenticates, 1);
	send_and_check_echo("meter 42: 1234.5 kWh");
	send_and_check_echo("meter 42: 1234.6 kWh");
	cr_assert_eq(fake_net.last_uplink, 2, "uplink counters 1 and 2, got %llu",
		     (unsigned long long)fake_net.last_uplink);
	answer a;
	assert_refused((a = act(M2M_DEV_ATTACH), &a), M2M_R_WRONG_STATE);
	a = act(M2M_DEV_DETACH);
	assert_status(&a, 1, CARD_IMSI, "");
	cr_assert_eq(fake_net.detaches, 1);
	assert_refused((a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "x"}), &a), M2M_R_NOT_ATTACHED);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, attach_with_another_apn)
{
	world_start_m2me();
	act(M2M_DEV_POWER_ON);
	answer a = control((ctl){.action = M2M_DEV_ATTACH, .network = "mno-v", .apn = "internet"});
	assert_status(&a, 1, CARD_IMSI, "mno-v");
	cr_assert_str_eq(fake_net.apn, "internet");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, a_stale_challenge_is_resynchronised)
{
	world_start_m2me();
	power_on_and_attach();
	act(M2M_DEV_DETACH);
	fake_net.mode = NET_STALE_FIRST;
	answer a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, CARD_IMSI, "mno-v");
	cr_assert_eq(fake_net.synch_failures, 1);
	cr_assert_eq(fake_net.resyncs, 1);
	cr_assert_eq(fake_card.authenticates, 3, "the stale challenge, then the fresh one");
	send_and_check_echo("after re-synchronisation");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, a_second_synch_failure_ends_the_attach)
{
	world_start_m2me();
	power_on_and_attach();
	act(M2M_DEV_DETACH);
	fake_net.mode = NET_ALWAYS_STALE;
	answer a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_SYNCH_FAILURE);
	cr_assert_eq(fake_net.synch_failures, 2);
	assert_status((a = act(M2M_DEV_STATUS), &a), 1, CARD_IMSI, "");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, a_false_network_is_refused_by_the_card)
{
	world_start_m2me();
	fake_net.mode = NET_FALSE;
	act(M2M_DEV_POWER_ON);
	answer a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_MAC_FAILURE);
	cr_assert_eq(fake_net.mac_failures, 1, "the device reported authFailure{macFailure}");
	assert_status((a = act(M2M_DEV_STATUS), &a), 1, CARD_IMSI, "");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, the_network_reason_is_passed_on)
{
	world_start_m2me();
	fake_net.mode = NET_REFUSE;
	act(M2M_DEV_POWER_ON);
	answer a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_IMEI_NOT_ALLOWED);
	cr_assert(strstr(a.text, "mno-v") && strstr(a.text, "locked"), "%s", a.text);
	cr_assert_eq(fake_card.authenticates, 0);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, an_unexpected_card_answer_is_a_card_error)
{
	world_start_m2me();
	act(M2M_DEV_POWER_ON);
	fake_card.fault = CARD_GARBLED_AUTH;
	answer a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_CARD_ERROR);
	fake_card.fault = CARD_AUTH_REFUSED;
	a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_CARD_ERROR);
	cr_assert(strstr(a.text, "6982"), "%s", a.text);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, power_off_detaches_first)
{
	world_start_m2me();
	power_on_and_attach();
	answer a = act(M2M_DEV_POWER_OFF);
	assert_status(&a, 0, "", "");
	cr_assert_eq(fake_net.detaches, 1);
	cr_assert_eq(fake_net.session_open, 0);
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, a_session_the_network_closed_is_forgotten)
{
	world_start_m2me();
	power_on_and_attach();
	fake_net.session_open = 0;  /* e.g. cancelLocation after a clone was seen */
	answer a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "x"});
	assert_refused(&a, M2M_R_NOT_ATTACHED);
	assert_status((a = act(M2M_DEV_STATUS), &a), 1, CARD_IMSI, "");
	a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, CARD_IMSI, "mno-v");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, one_procedure_at_a_time)
{
	world_start_m2me();
	act(M2M_DEV_POWER_ON);
	answer attach, other;
	control_start((ctl){.action = M2M_DEV_ATTACH}, &attach);
	/* the network does not answer yet: the attach stays open */
	control_start((ctl){.action = M2M_DEV_POWER_OFF}, &other);
	world_poll(&other, 0);
	assert_refused(&other, M2M_R_WRONG_STATE);
	cr_assert(strstr(other.text, "attach"), "%s", other.text);
	control_start((ctl){.action = M2M_DEV_STATUS}, &other);
	world_poll(&other, 0);
	assert_status(&other, 1, CARD_IMSI, "");
	world_poll(&attach, 1);
	assert_status(&attach, 1, CARD_IMSI, "mno-v");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

/* ---- restart and secrets ------------------------------------------------------------------------- */

Test(device, a_restarted_device_knows_where_it_was)
{
	world_start_m2me();
	power_on_and_attach();
	send_and_check_echo("before the restart");
	world_stop_m2me();
	world_start_m2me();
	answer a = act(M2M_DEV_STATUS);
	assert_status(&a, 1, CARD_IMSI, "mno-v");
	cr_assert_str_eq(a.iccid, CARD_ICCID);
	send_and_check_echo("after the restart");  /* the session key opened from its seal */
	cr_assert_eq(fake_net.last_uplink, 2, "the uplink counter continued");
	a = act(M2M_DEV_POWER_OFF);
	assert_status(&a, 0, "", "");
	world_stop_m2me();  /* a clean exit: no leak, no sanitizer report */
}

Test(device, no_secret_in_the_log_or_the_database)
{
	world_start_m2me();
	power_on_and_attach();
	send_and_check_echo("secret-free");
	world_stop_m2me();
	const struct {
		const char *what;
		const uint8_t *bytes;
		size_t len;
	} secrets[] = {
		{"RES", fake_net.last.xres, 8}, {"CK", fake_net.last.ck, 16}, {"IK", fake_net.last.ik, 16},
		{"session key", fake_net.key, 32},
	};
	const char *files[] = {"m2me.log", "m2me.db", "m2me.db-wal"};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		size_t len = 0;
		char *buf = world_exists(files[f]) ? world_read(files[f], &len) : NULL;
		for (size_t s = 0; buf && s < sizeof secrets / sizeof secrets[0]; s++)
			cr_assert(!world_leaks(buf, len, secrets[s].bytes, secrets[s].len), "%s is in %s", secrets[s].what, files[f]);
		free(buf);
	}
}

/* ---- configuration ----------------------------------------------------------------------------------- */

Test(device, configuration_is_checked)
{
	cr_assert_eq(world_check_config(NULL, NULL), 0, "the good configuration");
	cr_assert_eq(world_check_config("apn = ", "colour = \"red\"; apn = "), 2, "an unknown setting");
	cr_assert_eq(world_check_config(DEVICE_IMEI, "356938035643808"), 2, "a wrong check digit");
	cr_assert_eq(world_check_config(DEVICE_IMEI, "35693803564380"), 2, "14 digits");
	cr_assert_eq(world_check_config("network = \"mno-v\"", "network = \"mno-q\""), 2, "a peer without endpoint");
	cr_assert_eq(world_check_config("network = \"mno-v\"; ", ""), 2, "no network");
	cr_assert_eq(world_check_config("card = \"uicc-t\"", "card = \"uicc-9\""), 2, "a card that is no peer");
	cr_assert_eq(world_check_config("card = \"uicc-t\"; ", ""), 0, "no card: an empty slot");
	cr_assert_eq(world_check_config("apn = \"m2m.meter\"", "apn = \"\""), 2, "an empty APN");
	cr_assert_eq(world_check_config("m2me.storage", "m2me.key"), 2, "a storage key that is not 64 hex digits");
	cr_assert_eq(world_check_config("m2me.storage", "missing.storage"), 2, "no storage key file");
}
