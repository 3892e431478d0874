/*
 * The VNO's procedures through its real dispatch on a real node, in one process
 * (test_vno_world.h): the refusals and error paths the testbed's scenarios do not reach (another
 * device's attachId, messages out of turn, a silent or refusing home, resync, cancel).
 */
#include "test_vno_world.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(procedure, .init = world_setup, .fini = world_teardown, .timeout = 60);

/* ---- the tests -------------------------------------------------------------------------------------- */

Test(procedure, attach_data_detach)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	cr_assert_eq(fx.auth_infos, 1);
	cr_assert_eq(fx.locations, 1);
	expect_attach("accepted", M2M_OK);
	outcome e = send_data(DEV_1, sid, key, 1, "meter 0042");
	cr_assert_eq(e.type, M2M_MSG_PROTECTED_DATA_ECHO, "no echo: %s", m2m_reason_name(e.reason));
	cr_assert_eq(e.counter, 1);
	uint8_t plain[64];
	cr_assert_eq(m2m_session_open(key, sid, M2M_DOWNLINK, 1, e.sealed, e.sealed_len, plain), 0);
	cr_assert_eq(memcmp(plain, "meter 0042", 10), 0);
	outcome d = detach(DEV_1, sid);
	cr_assert_eq(d.type, M2M_MSG_DETACH_ACCEPT, "detach: %s", m2m_reason_name(d.reason));
	cr_assert_eq(fx.purges, 1);
	outcome after = send_data(DEV_1, sid, key, 2, "late");
	expect_refused(&after, M2M_R_NOT_ATTACHED, "data after the detach");
	outcome again = detach(DEV_1, sid);
	expect_refused(&again, M2M_R_NOT_ATTACHED, "a second detach");
	cr_assert_eq(fx.purges, 1);
}

Test(procedure, user_plane_refusals)
{
	uint8_t sid[8], key[32], unknown[8] = {0}, wrong_key[32] = {0};
	attached(DEV_1, sid, key);
	cr_assert_eq(send_data(DEV_1, sid, key, 5, "first").type, M2M_MSG_PROTECTED_DATA_ECHO);
	outcome o = send_data(DEV_1, sid, key, 5, "first");
	expect_refused(&o, M2M_R_REPLAYED, "the same counter in a new message");
	o = send_data(DEV_1, sid, key, 4, "older");
	expect_refused(&o, M2M_R_REPLAYED, "an older counter");
	o = send_data(DEV_2, sid, key, 6, "not mine");
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device on the session");
	o = send_data(DEV_1, unknown, key, 6, "nowhere");
	expect_refused(&o, M2M_R_NOT_FOUND, "an unknown session");
	o = send_data(DEV_1, sid, wrong_key, 6, "forged");
	expect_refused(&o, M2M_R_AUTHENTICATION_FAILED, "data under another key");
	o = send_data(DEV_1, sid, key, UINT64_C(4294967296), "too far");
	expect_refused(&o, M2M_R_BAD_BODY, "a counter beyond 32 bits");
	/* the refusals moved nothing: counter 6 is still free */
	cr_assert_eq(send_data(DEV_1, sid, key, 6, "second").type, M2M_MSG_PROTECTED_DATA_ECHO);
	o = detach(DEV_2, sid);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device detaching the session");
	cr_assert_eq(fx.purges, 0);
}

Test(procedure, attach_by_another_device_or_out_of_turn)
{
	m2m_aka_usim_result r;
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	card(&ch, &r);
	uint8_t unknown[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	outcome o = auth_response(DEV_2, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device's authResponse");
	o = auth_failure(DEV_2, ch.attach_id, NULL);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device's authFailure");
	o = auth_response(DEV_1, unknown, r.res, 8);
	expect_refused(&o, M2M_R_NOT_FOUND, "an unknown attachId");
	expect_attach("challenged", M2M_OK);  /* none of it changed the attach */
	o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	cr_assert_eq(o.type, M2M_MSG_ATTACH_ACCEPT);
	o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_WRONG_STATE, "authResponse to an accepted attach");
	o = auth_failure(DEV_1, ch.attach_id, NULL);
	expect_refused(&o, M2M_R_WRONG_STATE, "authFailure to an accepted attach");
	cr_assert_eq(fx.locations, 1);
}

Test(procedure, wrong_res_ends_the_attach)
{
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	uint8_t res[8] = {0};
	outcome o = auth_response(DEV_1, ch.attach_id, res, 8);
	expect_refused(&o, M2M_R_AUTHENTICATION_FAILED, "a wrong RES");
	expect_attach("failed", M2M_R_AUTHENTICATION_FAILED);
	m2m_aka_usim_result r;
	card(&ch, &r);
	o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_WRONG_STATE, "the right RES after a wrong one");
	cr_assert_eq(fx.locations, 0);
}

Test(procedure, mac_failure_ends_the_attach)
{
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	outcome o = auth_failure(DEV_1, ch.attach_id, NULL);
	expect_refused(&o, M2M_R_MAC_FAILURE, "macFailure");
	expect_attach("failed", M2M_R_MAC_FAILURE);
}

Test(procedure, one_resync_then_synch_failure)
{
	/* the card is ahead of the AuC: it has accepted SQNs the AuC then forgot */
	m2m_sqn_he ahead = fx.he;
	for (int i = 0; i < 3; i++) {
		m2m_aka_av av;
		m2m_aka_usim_result r;
		cr_assert_eq(m2m_aka_av_generate(&fx.auc, &ahead, test_amf, &av), 0);
		cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, av.rand, av.autn, &r), M2M_AKA_OK);
	}
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, ch.rand, ch.autn, &r), M2M_AKA_SYNC_FAILURE);
	outcome again = auth_failure(DEV_1, ch.attach_id, r.auts);
	cr_assert_eq(again.type, M2M_MSG_AUTH_CHALLENGE, "no new challenge: %s", m2m_reason_name(again.reason));
	cr_assert_eq(memcmp(again.attach_id, ch.attach_id, 8), 0, "the same attach continues");
	cr_assert_eq(fx.resyncs, 1, "the AUTS did not reach the home operator");
	/* a second sync failure in the same attach ends it, without asking the home again */
	outcome o = auth_failure(DEV_1, ch.attach_id, r.auts);
	expect_refused(&o, M2M_R_SYNCH_FAILURE, "a second sync failure");
	cr_assert_eq(fx.auth_infos, 2);
	expect_attach("failed", M2M_R_SYNCH_FAILURE);
}

Test(procedure, resync_then_accept)
{
	m2m_sqn_he ahead = fx.he;
	m2m_aka_av av;
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_aka_av_generate(&fx.auc, &ahead, test_amf, &av), 0);
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, av.rand, av.autn, &r), M2M_AKA_OK);
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, ch.rand, ch.autn, &r), M2M_AKA_SYNC_FAILURE);
	outcome again = auth_failure(DEV_1, ch.attach_id, r.auts);
	cr_assert_eq(again.type, M2M_MSG_AUTH_CHALLENGE);
	card(&again, &r);
	outcome acc = auth_response(DEV_1, again.attach_id, r.res, 8);
	cr_assert_eq(acc.type, M2M_MSG_ATTACH_ACCEPT, "after the resync: %s", m2m_reason_name(acc.reason));
	expect_attach("accepted", M2M_OK);
}

Test(procedure, a_silent_home_fails_the_attach_with_timeout)
{
	fx.silent = 1;
	outcome o = attach_request(DEV_1, IMSI_A, IMEI_1, APN);
	expect_refused(&o, M2M_R_TIMEOUT, "attach with a silent home");
	expect_attach("failed", M2M_R_TIMEOUT);
}

Test(procedure, a_refusing_home_fails_the_attach_with_its_reason)
{
	fx.refusal = M2M_R_SUBSCRIBER_SUSPENDED;
	outcome o = attach_request(DEV_1, IMSI_A, IMEI_1, APN);
	expect_refused(&o, M2M_R_SUBSCRIBER_SUSPENDED, "attach of a suspended subscriber");
	expect_attach("failed", M2M_R_SUBSCRIBER_SUSPENDED);
}

Test(procedure, no_roaming_agreement)
{
	outcome o = attach_request(DEV_1, "001080000000001", IMEI_1, APN);
	expect_refused(&o, M2M_R_ROAMING_NOT_ALLOWED, "an IMSI of a PLMN without agreement");
	cr_assert_eq(fx.auth_infos, 0);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.v->db, "SELECT count(*) FROM vno_attach", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 0, "a refused attachRequest left a record");
	sqlite3_finalize(st);
}

Test(procedure, bad_bodies)
{
	outcome o = attach_request(DEV_1, "00101abc", IMEI_1, APN);
	expect_refused(&o, M2M_R_BAD_BODY, "an IMSI with letters");
	o = attach_request(DEV_1, IMSI_A, "1234", APN);
	expect_refused(&o, M2M_R_BAD_BODY, "a 4-digit IMEI");
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	M2M_AUTH_FAILURE *q = M2M_AUTH_FAILURE_new();
	ASN1_OCTET_STRING_set(q->attach_id, ch.attach_id, 8);
	ASN1_ENUMERATED_set(q->cause, M2M_AUTH_SYNCH_FAILURE);
	o = ask(DEV_1, M2M_MSG_AUTH_FAILURE, q);
	M2M_AUTH_FAILURE_free(q);
	expect_refused(&o, M2M_R_BAD_BODY, "synchFailure without AUTS");
	uint8_t res[3] = {0};
	o = auth_response(DEV_1, ch.attach_id, res, 3);
	expect_refused(&o, M2M_R_BAD_BODY, "a 3-octet RES");
	expect_attach("challenged", M2M_OK);
}

Test(procedure, the_profile_refuses_after_a_purge)
{
	m2m_aka_usim_result r;
	outcome ch = challenged(DEV_1, IMEI_1, "internet");
	card(&ch, &r);
	outcome o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_APN_NOT_ALLOWED, "an APN outside the subscription");
	cr_assert_eq(fx.purges, 1, "the location was not purged");
	expect_attach("failed", M2M_R_APN_NOT_ALLOWED);
}

Test(procedure, the_imei_lock_refuses_another_device)
{
	fx.imei_lock = IMEI_1;
	m2m_aka_usim_result r;
	outcome ch = challenged(DEV_2, IMEI_2, APN);
	card(&ch, &r);
	outcome o = auth_response(DEV_2, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_IMEI_NOT_ALLOWED, "the card in another device");
	cr_assert_eq(fx.purges, 1);
	expect_attach("failed", M2M_R_IMEI_NOT_ALLOWED);
}

static outcome cancel_location(int home, const char *imsi)
{
	M2M_CANCEL_LOCATION *q = M2M_CANCEL_LOCATION_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_ENUMERATED_set(q->cause, M2M_CANCEL_WITHDRAWN);
	outcome o = ask(home, M2M_MSG_CANCEL_LOCATION, q);
	M2M_CANCEL_LOCATION_free(q);
	return o;
}

Test(procedure, only_the_home_of_the_imsi_cancels_it)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	outcome o = cancel_location(HOME_B, IMSI_A);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "B cancelling A's subscriber");
	cr_assert_eq(send_data(DEV_1, sid, key, 1, "still here").type, M2M_MSG_PROTECTED_DATA_ECHO);
	o = cancel_location(HOME_A, IMSI_A);
	cr_assert_eq(o.type, M2M_MSG_CANCEL_LOCATION_ACK, "A's cancel: %s", m2m_reason_name(o.reason));
	o = send_data(DEV_1, sid, key, 2, "cut off");
	expect_refused(&o, M2M_R_NOT_ATTACHED, "data after the cancel");
	o = cancel_location(HOME_B, IMSI_B);
	cr_assert_eq(o.type, M2M_MSG_CANCEL_LOCATION_ACK, "a cancel with nothing to close is acknowledged");
}

Test(procedure, messages_a_visited_network_does_not_serve)
{
	M2M_PURGE *p = M2M_PURGE_new();
	m2m_set_digits(&p->imsi, IMSI_A);
	m2m_set_str(p->serving_network, "m2me-1");
	outcome o = ask(DEV_1, M2M_MSG_PURGE, p);
	M2M_PURGE_free(p);
	expect_refused(&o, M2M_R_UNEXPECTED_MESSAGE, "purge sent to a visited network");
}
