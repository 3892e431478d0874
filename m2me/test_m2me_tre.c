/*
 * The m2me daemon with a TRE and no card (Alternative 1a, docs/alt1a.md), against the fake TRE
 * and the fake network of m2me_harness.h: the attach with the PCID the TRE names (provisioning
 * APN, AKA in the TRE, the session key from its CK and IK), its MAC failure and
 * re-synchronisation; the provision loop relaying each step the TRE names until it ends
 * attached with the MCIM; a failure's reason passed on; what is refused; the provisioning
 * resumed after a restart.
 */
#include "m2me_harness.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(tre, .init = world_setup, .fini = world_teardown, .timeout = 120);

static void start_with_tre(void)
{
	world_use_tre();
	world_start_m2me();
	answer a = act(M2M_DEV_POWER_ON);
	assert_status(&a, 1, "", "");
}

/* ---- attach with the TRE --------------------------------------------------------------------- */

Test(tre, attach_with_the_pcid_the_tre_names)
{
	start_with_tre();
	answer a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, TRE_PCID, "mno-v");
	cr_assert_str_eq(fake_net.imsi, TRE_PCID);
	cr_assert_str_eq(fake_net.apn, "m2m.provisioning", "a PCID asks for the provisioning APN");
	cr_assert_eq(fake_tre.credentials, 1);
	cr_assert_eq(fake_tre.akas, 1);
	cr_assert_str_eq(fake_tre.aka_imsi, TRE_PCID);
	cr_assert_eq(fake_card.authenticates, 0);
	cr_assert_str_eq(fake_tre.told_log, "001+", "the TRE was not told of the attach");
	/* the echo opens under the key from the TRE's CK and IK */
	a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "keyed by the TRE"});
	assert_status(&a, 1, TRE_PCID, "mno-v");
	cr_assert_eq(a.echo_len, strlen("keyed by the TRE"));
	world_stop_m2me();
	world_start_m2me();
	a = act(M2M_DEV_STATUS);
	assert_status(&a, 1, TRE_PCID, "mno-v");  /* the credential of the session is remembered */
	a = act(M2M_DEV_DETACH);
	assert_status(&a, 1, "", "");
	world_stop_m2me();
}

Test(tre, a_false_network_is_refused_by_the_tre)
{
	start_with_tre();
	fake_net.mode = NET_FALSE;
	answer a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_MAC_FAILURE);
	cr_assert(strstr(a.text, "tre-t"), "%s", a.text);
	cr_assert_eq(fake_net.mac_failures, 1, "the device reported authFailure{macFailure}");
	cr_assert_str_eq(fake_tre.told_log, "001-");
	cr_assert_eq(fake_tre.told_reason, M2M_R_MAC_FAILURE);
	assert_status((a = act(M2M_DEV_STATUS), &a), 1, "", "");
	world_stop_m2me();
}

Test(tre, a_stale_challenge_is_resynchronised_by_the_tre)
{
	start_with_tre();
	answer a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, TRE_PCID, "mno-v");
	act(M2M_DEV_DETACH);
	fake_net.mode = NET_STALE_FIRST;
	a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, TRE_PCID, "mno-v");
	cr_assert_eq(fake_net.synch_failures, 1);
	cr_assert_eq(fake_net.resyncs, 1, "the TRE's AUTS did not open at the network");
	cr_assert_eq(fake_tre.akas, 3, "the first challenge, the stale one, the fresh one");
	world_stop_m2me();
}

Test(tre, a_tre_that_is_not_told_does_not_undo_an_attach)
{
	start_with_tre();
	fake_tre.refuse_told = M2M_R_UNEXPECTED_MESSAGE;
	answer a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, TRE_PCID, "mno-v");
	cr_assert_eq(fake_tre.told, 0);
	world_stop_m2me();
}

Test(tre, no_credential_no_attach)
{
	start_with_tre();
	fake_tre.empty = 1;
	answer a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_NOT_FOUND);
	cr_assert_str_eq(a.text, "the TRE holds no credential");
	cr_assert_eq(fake_net.attaches, 0);
	a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_NOT_FOUND);
	world_stop_m2me();
}

Test(tre, without_card_or_tre_nothing_attaches_or_provisions)
{
	world_start_m2me();
	act(M2M_DEV_REMOVE_CARD);
	act(M2M_DEV_POWER_ON);
	answer a = act(M2M_DEV_ATTACH);
	assert_refused(&a, M2M_R_NO_CARD);
	a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_NO_CARD);
	cr_assert_eq(fake_tre.credentials + fake_tre.provisions, 0, "a TRE the device does not have was asked");
	cr_assert_eq(fake_net.attaches, 0);
	world_stop_m2me();
}

/* ---- provision ----------------------------------------------------------------------------------- */

Test(tre, provision_relays_each_step_and_ends_attached_with_the_mcim)
{
	start_with_tre();
	answer a = act(M2M_DEV_PROVISION);
	assert_status(&a, 1, TRE_MCIM, "mno-v");
	cr_assert_eq(fake_net.relays, 3, "discovery, order and install result");
	assert_relayed(0, "drf", M2M_MSG_DISCOVERY_REQUEST, TRE_PCID);
	assert_relayed(1, "mno-a", M2M_MSG_MCIM_REQUEST, TRE_PCID);
	assert_relayed(2, "mno-a", M2M_MSG_INSTALL_RESULT, TRE_PCID);
	cr_assert_eq(fake_tre.answers, 3, "every answer went back to the TRE");
	cr_assert_eq(fake_tre.state, M2M_PROV_DONE);
	cr_assert_eq(fake_net.detaches, 1, "the PCID session was not detached");
	cr_assert_eq(fake_net.attaches, 2, "the PCID attach, then the MCIM's");
	cr_assert_str_eq(fake_net.imsi, TRE_MCIM);
	cr_assert_str_eq(fake_net.apn, "m2m.meter", "the MCIM attach asks for the configured APN");
	cr_assert_str_eq(fake_tre.aka_imsi, TRE_MCIM);
	cr_assert_str_eq(fake_tre.told_log, "001+ 077+", "each attach, the PCID's and the MCIM's, told");
	a = control((ctl){.action = M2M_DEV_SEND_DATA, .data = "over the MCIM"});
	assert_status(&a, 1, TRE_MCIM, "mno-v");
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0, "the finished provisioning left its row");
}

Test(tre, provision_from_a_pcid_session)
{
	start_with_tre();
	answer a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, TRE_PCID, "mno-v");
	a = control((ctl){.action = M2M_DEV_PROVISION, .apn = "m2m.other"});
	assert_status(&a, 1, TRE_MCIM, "mno-v");
	cr_assert_eq(fake_net.attaches, 2, "the existing PCID session is used");
	cr_assert_str_eq(fake_net.apn, "m2m.other");
	world_stop_m2me();
}

Test(tre, a_refused_step_ends_the_provisioning_with_its_reason)
{
	start_with_tre();
	fake_net.relay_error = M2M_R_NOT_REGISTERED;
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_NOT_REGISTERED);
	cr_assert_eq(fake_tre.state, M2M_PROV_FAILED, "the TRE did not get the ErrorReport");
	cr_assert_eq(fake_net.relays, 1);
	assert_status((a = act(M2M_DEV_STATUS), &a), 1, TRE_PCID, "mno-v");
	/* registered meanwhile: the next provision starts again and succeeds */
	fake_net.relay_error = M2M_OK;
	a = act(M2M_DEV_PROVISION);
	assert_status(&a, 1, TRE_MCIM, "mno-v");
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0);
}

Test(tre, a_relay_the_network_refuses_ends_the_provisioning)
{
	start_with_tre();
	fake_net.refuse_relay = M2M_R_WALLED_GARDEN;
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_WALLED_GARDEN);
	cr_assert(strstr(a.text, "mno-v"), "%s", a.text);
	cr_assert_eq(fake_tre.state, M2M_PROV_DISCOVERING, "the TRE keeps its step for a later provision");
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0);
}

Test(tre, provision_refusals)
{
	world_use_tre();
	world_start_m2me();
	answer a = act(M2M_DEV_PROVISION);
	assert_refused(&a, M2M_R_WRONG_STATE);  /* powered off */
	act(M2M_DEV_POWER_ON);
	a = control((ctl){.action = M2M_DEV_PROVISION, .network = "mno-q"});
	assert_refused(&a, M2M_R_UNKNOWN_PEER);
	cr_assert_eq(fake_tre.provisions, 0);
	world_stop_m2me();
}

Test(tre, a_restarted_device_resumes_the_provisioning)
{
	start_with_tre();
	answer a = act(M2M_DEV_ATTACH);
	assert_status(&a, 1, TRE_PCID, "mno-v");
	/* the first step goes out, and the device stops before the network answers */
	answer held;
	control_start((ctl){.action = M2M_DEV_PROVISION}, &held);
	world_poll_until(&fake_tre.provisions, 0);
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 1, "the progress was not stored");
	world_start_m2me();
	/* the testbed's retry of the same deviceControl reaches the new process, which resumes */
	world_poll(&held, 1);
	assert_status(&held, 1, TRE_MCIM, "mno-v");
	cr_assert_geq(fake_tre.repeats, 1, "the TRE was not asked for its current step again");
	cr_assert_eq(fake_tre.state, M2M_PROV_DONE);
	world_stop_m2me();
	cr_assert_eq(world_rows("provision"), 0);
}

Test(tre, no_ck_or_ik_of_the_tre_in_the_log_or_the_database)
{
	start_with_tre();
	answer a = act(M2M_DEV_PROVISION);
	assert_status(&a, 1, TRE_MCIM, "mno-v");
	world_stop_m2me();
	const char *files[] = {"m2me.log", "m2me.db", "m2me.db-wal"};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		size_t len = 0;
		char *buf = world_exists(files[f]) ? world_read(files[f], &len) : NULL;
		cr_assert(!buf || !world_leaks(buf, len, fake_net.last.ck, 16), "CK is in %s", files[f]);
		cr_assert(!buf || !world_leaks(buf, len, fake_net.last.ik, 16), "IK is in %s", files[f]);
		cr_assert(!buf || !world_leaks(buf, len, fake_net.key, 32), "the session key is in %s", files[f]);
		free(buf);
	}
}

Test(tre, configuration_of_the_tre)
{
	world_use_tre();
	cr_assert_eq(world_check_config(NULL, NULL), 0, "the good configuration");
	cr_assert_eq(world_check_config("tre = \"tre-t\"", "tre = \"tre-9\""), 2, "a TRE that is no peer");
	cr_assert_eq(world_check_config("tre = \"tre-t\"", "tre = \"mno-q\""), 2, "a TRE without endpoint");
	cr_assert_eq(world_check_config("tre = \"tre-t\";", "tre = \"tre-t\"; provisioning_apn = \"\";"), 2,
		     "an empty provisioning APN");
	cr_assert_eq(world_check_config("tre = \"tre-t\";", "tre = \"tre-t\"; provisioning_apn = \"m2m.prov\";"), 0,
		     "another provisioning APN");
}
