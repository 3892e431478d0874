/*
 * The visited operator's pure parts, in process and without daemons: routing by the roaming
 * table, the RES check, the attach state machine and its persistence (vector sealed, bound to its
 * attach), the session key against what the device derives from its card, the user plane's
 * counter and tag checks, profile enforcement, the relay's walled garden, the settings, and the
 * two attackers' challenges against a real USIM. The attach through real processes is the
 * testbed's (testbed/).
 */
#include "test_vno_common.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 when needle occurs in any text or blob cell of table. */
static int in_table(sqlite3 *db, const char *table, const uint8_t *needle, size_t len)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	int found = 0;
	while (!found && sqlite3_step(st) == SQLITE_ROW)
		for (int c = 0; c < sqlite3_column_count(st) && !found; c++) {
			const uint8_t *cell = sqlite3_column_blob(st, c);
			size_t n = (size_t)sqlite3_column_bytes(st, c);
			for (size_t i = 0; cell && n >= len && i + len <= n && !found; i++)
				found = !memcmp(cell + i, needle, len);
		}
	sqlite3_finalize(st);
	return found;
}

/* An attach as the home operator's vector leaves it: challenged, vector from a real AuC. */
static void challenged_attach(vno_attach *a, m2m_aka_av *av)
{
	m2m_milenage m;
	m2m_sqn_he he;
	test_milenage(&m);
	cr_assert_eq(m2m_sqn_he_init(&he, NULL, 0), 0);
	cr_assert_eq(m2m_aka_av_generate(&m, &he, test_amf, av), 0);
	m2m_milenage_clear(&m);
	vno_attach_init(a, "m2me-1", "001010000000001", "356938035643809", "m2m.meter", "mno-a");
	a->state = VNO_CHALLENGED;
	a->has_vector = 1;
	memcpy(a->vector.rand, av->rand, 16);
	memcpy(a->vector.autn, av->autn, 16);
	memcpy(a->vector.xres, av->xres, 8);
	a->vector.xres_len = 8;
	memcpy(a->vector.ck, av->ck, 16);
	memcpy(a->vector.ik, av->ik, 16);
}

/* ---- roaming ---------------------------------------------------------------------------------------- */

static void agree(vno_settings *s, const char *plmn, const char *home)
{
	snprintf(s->roaming[s->nroaming].plmn, sizeof s->roaming[0].plmn, "%s", plmn);
	snprintf(s->roaming[s->nroaming].home, sizeof s->roaming[0].home, "%s", home);
	s->nroaming++;
}

Test(roaming, longest_plmn_prefix_wins)
{
	vno_settings s = {0};
	agree(&s, "00101", "mno-a");
	agree(&s, "001012", "mno-c");  /* a 3-digit MNC inside the same MCC || 2 digits */
	agree(&s, "00102", "mno-b");
	cr_assert_str_eq(vno_roaming_home(&s, "001010000000001"), "mno-a");
	cr_assert_str_eq(vno_roaming_home(&s, "001012345678901"), "mno-c");
	cr_assert_str_eq(vno_roaming_home(&s, "001020000000001"), "mno-b");
	/* the order of the table does not matter */
	vno_settings r = {0};
	agree(&r, "001012", "mno-c");
	agree(&r, "00101", "mno-a");
	cr_assert_str_eq(vno_roaming_home(&r, "001012345678901"), "mno-c");
	cr_assert_str_eq(vno_roaming_home(&r, "001019999999999"), "mno-a");
}

Test(roaming, no_agreement)
{
	vno_settings s = {0};
	cr_assert_null(vno_roaming_home(&s, "001010000000001"), "an empty table routes nothing");
	agree(&s, "00101", "mno-a");
	cr_assert_null(vno_roaming_home(&s, "001030000000001"));
	cr_assert_null(vno_roaming_home(&s, "00100"));
	cr_assert_null(vno_roaming_home(&s, "00101"), "an IMSI is more than its PLMN");
}

Test(roaming, a_pcid_agreement_names_the_icf)
{
	vno_settings s = {0};
	agree(&s, "00101", "mno-a");
	agree(&s, "00109", "drf");
	s.roaming[1].pcid = 1;
	const vno_roaming *r = vno_roaming_find(&s, "001090000000001");
	cr_assert_not_null(r);
	cr_assert_str_eq(r->home, "drf");
	cr_assert(r->pcid, "the ICF's agreement lost its pcid flag");
	cr_assert_not(vno_roaming_find(&s, "001010000000001")->pcid, "an HSS's IMSI taken for a PCID");
	cr_assert(vno_serves(&s, "drf", "001090000000001"), "the ICF may cancel its PCIDs");
}

Test(roaming, only_the_serving_home_may_cancel)
{
	vno_settings s = {0};
	agree(&s, "00101", "mno-a");
	agree(&s, "00102", "mno-b");
	cr_assert(vno_serves(&s, "mno-a", "001010000000001"));
	cr_assert_not(vno_serves(&s, "mno-b", "001010000000001"), "B must not cancel A's subscriber");
	cr_assert_not(vno_serves(&s, "mno-a", "001030000000001"), "nobody serves an IMSI without agreement");
}

/* ---- RES ------------------------------------------------------------------------------------------- */

Test(res, compared_whole_and_by_length)
{
	vno_vector v = {.xres_len = 8};
	for (int i = 0; i < 8; i++)
		v.xres[i] = (uint8_t)(0x30 + i);
	uint8_t res[16];
	memcpy(res, v.xres, 8);
	cr_assert(vno_res_matches(&v, res, 8));
	for (int bit = 0; bit < 64; bit++) {
		res[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_not(vno_res_matches(&v, res, 8), "RES with bit %d flipped matched", bit);
		res[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	cr_assert_not(vno_res_matches(&v, res, 4), "a prefix of XRES is not XRES");
	res[8] = 0;
	cr_assert_not(vno_res_matches(&v, res, 9), "XRES with more octets is not XRES");
	v.xres_len = 16;
	memset(v.xres, 0x5A, 16);
	memset(res, 0x5A, 16);
	cr_assert(vno_res_matches(&v, res, 16));
}

Test(res, no_xres_matches_nothing)
{
	vno_vector v = {0};  /* a replayed challenge: the rogue holds no XRES */
	uint8_t res[8] = {0};
	cr_assert_not(vno_res_matches(&v, res, 8));
	cr_assert_not(vno_res_matches(&v, res, 0));
}

Test(res, usim_res_matches_auc_xres)
{
	vno_attach a;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	m2m_milenage m;
	m2m_sqn_usim u;
	m2m_aka_usim_result r;
	test_milenage(&m);
	m2m_sqn_usim_init(&u, NULL);
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, a.vector.rand, a.vector.autn, &r), M2M_AKA_OK);
	m2m_milenage_clear(&m);
	cr_assert(vno_res_matches(&a.vector, r.res, sizeof r.res));
}

/* ---- the attach state machine ------------------------------------------------------------------ */

typedef struct transition {
	vno_attach_state from;
	vno_attach_event event;
	int resyncs;
	int to;  /* -1: refused wrongState */
} transition;

static const transition table[] = {
	/* the honest path */
	{VNO_AWAITING_VECTORS, VNO_EV_VECTOR, 0, VNO_CHALLENGED},
	{VNO_CHALLENGED, VNO_EV_RES_OK, 0, VNO_LOCATING},
	{VNO_LOCATING, VNO_EV_PROFILE_OK, 0, VNO_ACCEPTED},
	/* re-synchronisation, once */
	{VNO_CHALLENGED, VNO_EV_SYNCH_FAILURE, 0, VNO_RESYNCHRONISING},
	{VNO_RESYNCHRONISING, VNO_EV_VECTOR, 1, VNO_CHALLENGED},
	{VNO_CHALLENGED, VNO_EV_SYNCH_FAILURE, 1, VNO_FAILED},
	{VNO_CHALLENGED, VNO_EV_RES_OK, 1, VNO_LOCATING},
	/* the device's failures */
	{VNO_CHALLENGED, VNO_EV_RES_MISMATCH, 0, VNO_FAILED},
	{VNO_CHALLENGED, VNO_EV_MAC_FAILURE, 0, VNO_FAILED},
	/* the home operator's refusals and silences */
	{VNO_AWAITING_VECTORS, VNO_EV_HOME_REFUSED, 0, VNO_FAILED},
	{VNO_RESYNCHRONISING, VNO_EV_HOME_REFUSED, 1, VNO_FAILED},
	{VNO_LOCATING, VNO_EV_HOME_REFUSED, 0, VNO_FAILED},
	/* the profile refuses: purge, then fail */
	{VNO_LOCATING, VNO_EV_PROFILE_REFUSED, 0, VNO_PURGING},
	{VNO_PURGING, VNO_EV_PURGED, 0, VNO_FAILED},
	/* a restart ends what waited on the home, not what waits on the device */
	{VNO_AWAITING_VECTORS, VNO_EV_ABANDONED, 0, VNO_FAILED},
	{VNO_RESYNCHRONISING, VNO_EV_ABANDONED, 1, VNO_FAILED},
	{VNO_LOCATING, VNO_EV_ABANDONED, 0, VNO_FAILED},
	{VNO_PURGING, VNO_EV_ABANDONED, 0, VNO_FAILED},
	{VNO_CHALLENGED, VNO_EV_ABANDONED, 0, -1},
	/* device messages out of turn: wrongState */
	{VNO_AWAITING_VECTORS, VNO_EV_RES_OK, 0, -1},
	{VNO_AWAITING_VECTORS, VNO_EV_SYNCH_FAILURE, 0, -1},
	{VNO_AWAITING_VECTORS, VNO_EV_MAC_FAILURE, 0, -1},
	{VNO_RESYNCHRONISING, VNO_EV_RES_OK, 1, -1},
	{VNO_RESYNCHRONISING, VNO_EV_SYNCH_FAILURE, 1, -1},
	{VNO_LOCATING, VNO_EV_RES_OK, 0, -1},
	{VNO_LOCATING, VNO_EV_RES_MISMATCH, 0, -1},
	{VNO_LOCATING, VNO_EV_MAC_FAILURE, 0, -1},
	{VNO_PURGING, VNO_EV_RES_OK, 0, -1},
	/* home answers out of turn */
	{VNO_CHALLENGED, VNO_EV_VECTOR, 0, -1},
	{VNO_CHALLENGED, VNO_EV_PROFILE_OK, 0, -1},
	{VNO_AWAITING_VECTORS, VNO_EV_PROFILE_OK, 0, -1},
	{VNO_LOCATING, VNO_EV_VECTOR, 0, -1},
	{VNO_PURGING, VNO_EV_PROFILE_OK, 0, -1},
};

Test(attach_state, transitions)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		const transition *t = &table[i];
		int got = vno_attach_next(t->from, t->event, t->resyncs);
		cr_expect_eq(got, t->to, "%s + event %d (resyncs %d) -> %d, expected %d", vno_attach_state_name(t->from),
			     (int)t->event, t->resyncs, got, t->to);
	}
}

Test(attach_state, final_states_take_no_event)
{
	for (int e = 0; e < VNO_ATTACH_EVENTS; e++) {
		cr_expect_eq(vno_attach_next(VNO_ACCEPTED, (vno_attach_event)e, 0), -1, "accepted took event %d", e);
		cr_expect_eq(vno_attach_next(VNO_FAILED, (vno_attach_event)e, 0), -1, "failed took event %d", e);
	}
	cr_expect_eq(vno_attach_next((vno_attach_state)VNO_ATTACH_STATES, VNO_EV_VECTOR, 0), -1);
	cr_expect_eq(vno_attach_next(VNO_CHALLENGED, (vno_attach_event)VNO_ATTACH_EVENTS, 0), -1);
}

Test(attach_state, names_round_trip)
{
	for (int s = 0; s < VNO_ATTACH_STATES; s++)
		cr_expect_eq(vno_attach_state_parse(vno_attach_state_name((vno_attach_state)s)), s);
	cr_expect_eq(vno_attach_state_parse("attached"), -1);
}

/* ---- attach records -------------------------------------------------------------------------------- */

Test(attach_store, round_trip_with_the_vector_sealed)
{
	sqlite3 *db = test_open_db();
	vno_attach a, b;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	a.resyncs = 1;
	cr_assert_eq(vno_attach_save(db, test_storage_key, &a), 0);
	cr_assert_eq(vno_attach_load(db, test_storage_key, a.id, &b), 0);
	cr_assert_str_eq(b.device, "m2me-1");
	cr_assert_str_eq(b.imsi, a.imsi);
	cr_assert_str_eq(b.imei, a.imei);
	cr_assert_str_eq(b.apn, a.apn);
	cr_assert_str_eq(b.home, "mno-a");
	cr_assert_eq(b.state, VNO_CHALLENGED);
	cr_assert_eq(b.resyncs, 1);
	cr_assert_eq(b.origin, VNO_FROM_HOME);
	cr_assert(b.has_vector);
	cr_assert_eq(memcmp(&a.vector, &b.vector, sizeof a.vector), 0);
	/* XRES, CK and IK are nowhere in clear */
	cr_assert_not(in_table(db, "vno_attach", av.xres, sizeof av.xres), "XRES in clear");
	cr_assert_not(in_table(db, "vno_attach", av.ck, sizeof av.ck), "CK in clear");
	cr_assert_not(in_table(db, "vno_attach", av.ik, sizeof av.ik), "IK in clear");
	uint8_t other[VNO_ATTACH_ID_LEN] = {0};
	cr_assert_eq(vno_attach_load(db, test_storage_key, other, &b), 1, "an unknown attach is not found");
	m2m_store_close(db);
}

Test(attach_store, a_sealed_vector_does_not_move_to_another_attach)
{
	sqlite3 *db = test_open_db();
	vno_attach a, b, c;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	challenged_attach(&b, &av);
	cr_assert_eq(vno_attach_save(db, test_storage_key, &a), 0);
	cr_assert_eq(vno_attach_save(db, test_storage_key, &b), 0);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db,
					"UPDATE vno_attach SET vector_sealed = (SELECT vector_sealed FROM vno_attach"
					" WHERE attach_id = ?1) WHERE attach_id = ?2",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_blob(st, 1, a.id, sizeof a.id, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, b.id, sizeof b.id, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	cr_assert_eq(vno_attach_load(db, test_storage_key, b.id, &c), -1, "a vector sealed for another attach opened");
	uint8_t wrong[32] = {1};
	cr_assert_eq(vno_attach_load(db, wrong, a.id, &c), -1, "opened under another storage key");
	m2m_store_close(db);
}

Test(attach_store, a_final_state_drops_the_vector)
{
	vno_context v = {.db = test_open_db()};
	memcpy(v.settings.storage_key, test_storage_key, sizeof test_storage_key);
	vno_attach a, b;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	cr_assert_eq(vno_attach_advance(&v, &a, VNO_EV_RES_OK), 0);
	cr_assert_eq(vno_attach_load(v.db, test_storage_key, a.id, &b), 0);
	cr_assert_eq(b.state, VNO_LOCATING);
	cr_assert(b.has_vector, "CK and IK are still needed for the session key");
	cr_assert_eq(vno_attach_advance(&v, &a, VNO_EV_HOME_REFUSED), 0);
	cr_assert_eq(vno_attach_load(v.db, test_storage_key, a.id, &b), 0);
	cr_assert_eq(b.state, VNO_FAILED);
	cr_assert_not(b.has_vector);
	cr_assert_neq(vno_attach_advance(&v, &a, VNO_EV_RES_OK), 0, "a failed attach moved on");
	m2m_store_close(v.db);
}

Test(attach_store, a_sync_failure_counts_the_resync)
{
	vno_context v = {.db = test_open_db()};
	memcpy(v.settings.storage_key, test_storage_key, sizeof test_storage_key);
	vno_attach a, b;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	cr_assert_eq(vno_attach_advance(&v, &a, VNO_EV_SYNCH_FAILURE), 0);
	cr_assert_eq(vno_attach_advance(&v, &a, VNO_EV_VECTOR), 0);
	cr_assert_eq(vno_attach_load(v.db, test_storage_key, a.id, &b), 0);
	cr_assert_eq(b.state, VNO_CHALLENGED);
	cr_assert_eq(b.resyncs, 1);
	cr_assert_eq(vno_attach_next(b.state, VNO_EV_SYNCH_FAILURE, b.resyncs), VNO_FAILED,
		     "a second sync failure must end the attach");
	m2m_store_close(v.db);
}

Test(attach_store, a_restart_ends_what_waited_on_the_home)
{
	sqlite3 *db = test_open_db();
	static const vno_attach_state states[] = {VNO_AWAITING_VECTORS, VNO_CHALLENGED, VNO_RESYNCHRONISING,
						  VNO_LOCATING, VNO_PURGING, VNO_ACCEPTED};
	vno_attach a[6], b;
	m2m_aka_av av;
	for (int i = 0; i < 6; i++) {
		challenged_attach(&a[i], &av);
		a[i].state = states[i];
		a[i].reason = states[i] == VNO_PURGING ? M2M_R_IMEI_NOT_ALLOWED : M2M_OK;
		if (states[i] == VNO_ACCEPTED)
			a[i].has_vector = 0;
		cr_assert_eq(vno_attach_save(db, test_storage_key, &a[i]), 0);
	}
	cr_assert_eq(vno_attach_abandon_waiting(db, test_storage_key), 4);
	static const struct {
		vno_attach_state state;
		m2m_reason reason;
	} want[] = {{VNO_FAILED, M2M_R_TIMEOUT}, {VNO_CHALLENGED, M2M_OK},   {VNO_FAILED, M2M_R_TIMEOUT},
		    {VNO_FAILED, M2M_R_TIMEOUT}, {VNO_FAILED, M2M_R_IMEI_NOT_ALLOWED}, {VNO_ACCEPTED, M2M_OK}};
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(vno_attach_load(db, test_storage_key, a[i].id, &b), 0);
		cr_expect_eq(b.state, want[i].state, "attach %d is %s", i, vno_attach_state_name(b.state));
		cr_expect_eq(b.reason, want[i].reason, "attach %d ended with %d", i, (int)b.reason);
	}
	cr_assert_eq(vno_attach_abandon_waiting(db, test_storage_key), 0, "nothing is left waiting");
	m2m_store_close(db);
}

/* ---- authentication vectors from the wire ------------------------------------------------------- */

static M2M_AUTH_VECTOR *wire_vector(const m2m_aka_av *av, int rand_len)
{
	M2M_AUTH_VECTOR *w = M2M_AUTH_VECTOR_new();
	ASN1_OCTET_STRING_set(w->rand, av->rand, rand_len);
	ASN1_OCTET_STRING_set(w->xres, av->xres, sizeof av->xres);
	ASN1_OCTET_STRING_set(w->autn, av->autn, sizeof av->autn);
	ASN1_OCTET_STRING_set(w->ck, av->ck, sizeof av->ck);
	ASN1_OCTET_STRING_set(w->ik, av->ik, sizeof av->ik);
	ASN1_OCTET_STRING_set(w->kc, av->ck, 8);
	return w;
}

Test(vectors, the_first_vector_is_taken_and_checked)
{
	vno_attach a;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	M2M_AUTH_INFO_RESPONSE *resp = sk_M2M_AUTH_VECTOR_new_null();
	vno_vector v;
	cr_assert_eq(vno_vector_from_wire(resp, &v), -1, "no vector");
	sk_M2M_AUTH_VECTOR_push(resp, wire_vector(&av, 16));
	cr_assert_eq(vno_vector_from_wire(resp, &v), 0);
	cr_assert_eq(memcmp(&v, &a.vector, sizeof v), 0);
	M2M_AUTH_INFO_RESPONSE_free(resp);
	resp = sk_M2M_AUTH_VECTOR_new_null();
	sk_M2M_AUTH_VECTOR_push(resp, wire_vector(&av, 15));
	cr_assert_eq(vno_vector_from_wire(resp, &v), -1, "a 15-octet RAND");
	M2M_AUTH_INFO_RESPONSE_free(resp);
}

/* ---- profile enforcement ------------------------------------------------------------------------ */

Test(profile, apn_and_imei_lock)
{
	M2M_SUBSCRIPTION_PROFILE *open = test_profile("m2m.meter", NULL);
	cr_assert_eq(vno_profile_enforce(open, "m2m.meter", "356938035643809"), M2M_OK);
	cr_assert_eq(vno_profile_enforce(open, "M2M.Meter", "356938035643809"), M2M_OK, "APNs ignore case");
	cr_assert_eq(vno_profile_enforce(open, "internet", "356938035643809"), M2M_R_APN_NOT_ALLOWED);
	cr_assert_eq(vno_profile_enforce(open, "m2m.mete", "356938035643809"), M2M_R_APN_NOT_ALLOWED);
	M2M_SUBSCRIPTION_PROFILE_free(open);
	M2M_SUBSCRIPTION_PROFILE *locked = test_profile("m2m.meter", "356938035643809");
	cr_assert_eq(vno_profile_enforce(locked, "m2m.meter", "356938035643809"), M2M_OK);
	cr_assert_eq(vno_profile_enforce(locked, "m2m.meter", "490154203237518"), M2M_R_IMEI_NOT_ALLOWED);
	cr_assert_eq(vno_profile_enforce(locked, "internet", "490154203237518"), M2M_R_APN_NOT_ALLOWED);
	M2M_SUBSCRIPTION_PROFILE_free(locked);
	M2M_SUBSCRIPTION_PROFILE *none = M2M_SUBSCRIPTION_PROFILE_new();
	cr_assert_eq(vno_profile_enforce(none, "m2m.meter", "356938035643809"), M2M_R_APN_NOT_ALLOWED);
	M2M_SUBSCRIPTION_PROFILE_free(none);
}

/* ---- sessions and the user plane ---------------------------------------------------------------- */

typedef struct device_side {
	uint8_t ck[16], ik[16];
} device_side;

/* The card answers the challenge of a: the device's CK and IK. */
static void card_answers(const vno_attach *a, device_side *dev)
{
	m2m_milenage m;
	m2m_sqn_usim u;
	m2m_aka_usim_result r;
	test_milenage(&m);
	m2m_sqn_usim_init(&u, NULL);
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, a->vector.rand, a->vector.autn, &r), M2M_AKA_OK);
	m2m_milenage_clear(&m);
	memcpy(dev->ck, r.ck, 16);
	memcpy(dev->ik, r.ik, 16);
}

static void open_session(sqlite3 *db, vno_session *s, device_side *dev)
{
	vno_attach a;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	card_answers(&a, dev);
	cr_assert_eq(vno_session_open(db, test_storage_key, &a, s), 0);
}

Test(session, the_key_is_the_one_the_device_derives)
{
	sqlite3 *db = test_open_db();
	vno_session s, loaded;
	device_side dev;
	open_session(db, &s, &dev);
	uint8_t device_key[32];
	cr_assert_eq(m2m_session_key(dev.ck, dev.ik, s.id, device_key), 0);
	cr_assert_eq(vno_session_load(db, test_storage_key, s.id, &loaded), 0);
	cr_assert_eq(memcmp(loaded.key, device_key, 32), 0, "the VNO and the device derived different keys");
	cr_assert_eq(loaded.last_uplink, -1);
	cr_assert(loaded.open);
	cr_assert_str_eq(loaded.device, "m2me-1");
	cr_assert_str_eq(loaded.home, "mno-a");
	cr_assert_not(in_table(db, "vno_session", device_key, sizeof device_key), "session key in clear");
	/* the device seals uplink, the VNO echoes downlink, the device opens the echo */
	static const uint8_t data[] = "meter 0042";
	uint8_t up[sizeof data + M2M_SESSION_TAG_LEN], down[sizeof up], back[sizeof data];
	cr_assert_eq(m2m_session_seal(device_key, s.id, M2M_UPLINK, 1, data, sizeof data, up), 0);
	cr_assert_eq(vno_uplink_echo(&loaded, 1, up, sizeof up, down), M2M_OK);
	cr_assert_eq(m2m_session_open(device_key, s.id, M2M_DOWNLINK, 1, down, sizeof down, back), 0);
	cr_assert_eq(memcmp(back, data, sizeof data), 0);
	m2m_store_close(db);
}

Test(session, a_sealed_key_does_not_move_to_another_session)
{
	sqlite3 *db = test_open_db();
	vno_session s1, s2, loaded;
	device_side dev;
	open_session(db, &s1, &dev);
	open_session(db, &s2, &dev);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db,
					"UPDATE vno_session SET key_sealed = (SELECT key_sealed FROM vno_session"
					" WHERE session_id = ?1) WHERE session_id = ?2",
					-1, &st, NULL),
		     SQLITE_OK);
	sqlite3_bind_blob(st, 1, s1.id, sizeof s1.id, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, s2.id, sizeof s2.id, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	cr_assert_eq(vno_session_load(db, test_storage_key, s2.id, &loaded), -1);
	cr_assert_eq(vno_session_load(db, test_storage_key, s1.id, &loaded), 0);
	m2m_store_close(db);
}

Test(user_plane, the_counter_must_rise)
{
	sqlite3 *db = test_open_db();
	vno_session s;
	device_side dev;
	open_session(db, &s, &dev);
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 0), M2M_OK, "the first counter may be 0");
	cr_assert_eq(vno_session_set_uplink(db, s.id, 5), 0);
	cr_assert_eq(vno_session_load(db, test_storage_key, s.id, &s), 0);
	cr_assert_eq(s.last_uplink, 5);
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 5), M2M_R_REPLAYED, "the same counter again");
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 4), M2M_R_REPLAYED, "an older counter");
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 0), M2M_R_REPLAYED);
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 6), M2M_OK);
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", UINT64_C(4294967295)), M2M_OK);
	cr_assert_neq(vno_session_set_uplink(db, s.id, 5), 0, "the stored counter went back");
	cr_assert_neq(vno_session_set_uplink(db, s.id, 4), 0, "the stored counter went back");
	m2m_store_close(db);
}

Test(user_plane, a_replayed_message_is_refused_end_to_end)
{
	sqlite3 *db = test_open_db();
	vno_session s;
	device_side dev;
	open_session(db, &s, &dev);
	uint8_t key[32], up[4 + M2M_SESSION_TAG_LEN], down[sizeof up];
	cr_assert_eq(m2m_session_key(dev.ck, dev.ik, s.id, key), 0);
	cr_assert_eq(m2m_session_seal(key, s.id, M2M_UPLINK, 1, (const uint8_t *)"ping", 4, up), 0);
	/* what vno_protected_data does: admit, open and echo, then store the counter */
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 1), M2M_OK);
	cr_assert_eq(vno_uplink_echo(&s, 1, up, sizeof up, down), M2M_OK);
	cr_assert_eq(vno_session_set_uplink(db, s.id, 1), 0);
	/* the captured message sent again */
	cr_assert_eq(vno_session_load(db, test_storage_key, s.id, &s), 0);
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 1), M2M_R_REPLAYED);
	m2m_store_close(db);
}

Test(user_plane, who_may_use_a_session)
{
	sqlite3 *db = test_open_db();
	vno_session s;
	device_side dev;
	open_session(db, &s, &dev);
	cr_assert_eq(vno_uplink_admit(&s, "m2me-2", 1), M2M_R_NOT_AUTHORISED, "another device's session");
	cr_assert_eq(vno_sessions_close_imsi(db, "001010000000001"), 1);
	cr_assert_eq(vno_session_load(db, test_storage_key, s.id, &s), 0);
	cr_assert_not(s.open);
	cr_assert_eq(vno_uplink_admit(&s, "m2me-1", 1), M2M_R_NOT_ATTACHED, "a cancelled session");
	cr_assert_eq(vno_uplink_admit(&s, "m2me-2", 1), M2M_R_NOT_AUTHORISED, "nothing said to another device");
	cr_assert_eq(vno_sessions_close_imsi(db, "001010000000001"), 0, "nothing left open");
	cr_assert_neq(vno_session_set_uplink(db, s.id, 9), 0, "a closed session takes no data");
	uint8_t unknown[M2M_SESSION_ID_LEN] = {0};
	cr_assert_eq(vno_session_load(db, test_storage_key, unknown, &s), 1);
	m2m_store_close(db);
}

Test(session, a_pcid_session_stays_marked)
{
	sqlite3 *db = test_open_db();
	vno_attach a;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	a.pcid = 1;
	cr_assert_eq(vno_attach_save(db, test_storage_key, &a), 0);
	vno_attach back;
	cr_assert_eq(vno_attach_load(db, test_storage_key, a.id, &back), 0);
	cr_assert(back.pcid, "the attach forgot it is a PCID's");
	vno_session s, loaded;
	cr_assert_eq(vno_session_open(db, test_storage_key, &back, &s), 0);
	cr_assert_eq(vno_session_load(db, test_storage_key, s.id, &loaded), 0);
	cr_assert(loaded.pcid, "the session forgot it is a PCID's");
	cr_assert_eq(vno_uplink_admit(&loaded, "m2me-1", 1), M2M_R_WALLED_GARDEN, "user data on a PCID session");
	cr_assert_eq(vno_uplink_admit(&loaded, "m2me-2", 1), M2M_R_NOT_AUTHORISED, "nothing said to another device");
	m2m_store_close(db);
}

Test(user_plane, a_bad_tag_is_refused)
{
	sqlite3 *db = test_open_db();
	vno_session s;
	device_side dev;
	open_session(db, &s, &dev);
	uint8_t key[32], up[5 + M2M_SESSION_TAG_LEN], down[sizeof up];
	cr_assert_eq(m2m_session_key(dev.ck, dev.ik, s.id, key), 0);
	cr_assert_eq(m2m_session_seal(key, s.id, M2M_UPLINK, 7, (const uint8_t *)"hello", 5, up), 0);
	cr_assert_eq(vno_uplink_echo(&s, 8, up, sizeof up, down), M2M_R_AUTHENTICATION_FAILED, "another counter");
	up[0] ^= 1;
	cr_assert_eq(vno_uplink_echo(&s, 7, up, sizeof up, down), M2M_R_AUTHENTICATION_FAILED, "a flipped bit");
	up[0] ^= 1;
	cr_assert_eq(vno_uplink_echo(&s, 7, up, 8, down), M2M_R_BAD_BODY, "shorter than a tag");
	/* an echo reflected back as uplink data: the direction is in the nonce */
	cr_assert_eq(vno_uplink_echo(&s, 7, up, sizeof up, down), M2M_OK);
	cr_assert_eq(vno_uplink_echo(&s, 7, down, sizeof down, up), M2M_R_AUTHENTICATION_FAILED);
	m2m_store_close(db);
}

/* ---- the relay's policy (relay.c) ------------------------------------------------------------------ */

Test(relay_policy, a_pcid_session_is_a_walled_garden)
{
	vno_settings set = {0};
	snprintf(set.walled[0], sizeof set.walled[0], "drf");
	snprintf(set.walled[1], sizeof set.walled[1], "mno-a");
	set.nwalled = 2;
	vno_session s = {.open = 1, .pcid = 1};
	snprintf(s.device, sizeof s.device, "m2me-1");
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_DISCOVERY_REQUEST), M2M_OK);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "mno-a", M2M_MSG_MCIM_REQUEST), M2M_OK);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "mno-a", M2M_MSG_INSTALL_RESULT), M2M_OK);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "mno-b", M2M_MSG_DISCOVERY_REQUEST), M2M_R_WALLED_GARDEN);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_PING), M2M_R_WALLED_GARDEN);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_PCID_ASSIGN_REQUEST), M2M_R_WALLED_GARDEN);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-2", "drf", M2M_MSG_DISCOVERY_REQUEST), M2M_R_NOT_AUTHORISED);
	s.open = 0;
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_DISCOVERY_REQUEST), M2M_R_NOT_ATTACHED);
	set.nwalled = 0;  /* an empty walled garden: a PCID reaches nothing */
	s.open = 1;
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_DISCOVERY_REQUEST), M2M_R_WALLED_GARDEN);
}

Test(relay_policy, an_operational_session_sends_no_operator_signalling)
{
	vno_settings set = {0};
	vno_session s = {.open = 1};
	snprintf(s.device, sizeof s.device, "m2me-1");
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "mno-b", M2M_MSG_PING), M2M_OK);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_DISCOVERY_REQUEST), M2M_OK);
	static const int operator_types[] = {M2M_MSG_AUTH_INFO_REQUEST, M2M_MSG_UPDATE_LOCATION, M2M_MSG_PURGE,
					     M2M_MSG_CANCEL_LOCATION, M2M_MSG_PROVISIONED, M2M_MSG_PCID_ASSIGN_REQUEST,
					     M2M_MSG_REGISTRATION_REQUEST, M2M_MSG_TRE_TRIGGER,
					     M2M_MSG_UICC_CREDENTIAL_ORDER, M2M_MSG_UICC_RELEASE};
	for (size_t i = 0; i < sizeof operator_types / sizeof operator_types[0]; i++)
		cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "mno-a", operator_types[i]), M2M_R_NOT_AUTHORISED, "%s",
			     m2m_msgtype_name(operator_types[i]));
}

/* ---- the attackers (rogue.c) against a real USIM --------------------------------------------- */

Test(rogue, a_false_network_challenge_fails_at_the_usim)
{
	m2m_milenage m;
	m2m_sqn_usim u, before;
	test_milenage(&m);
	m2m_sqn_usim_init(&u, NULL);
	before = u;
	for (int i = 0; i < 32; i++) {
		vno_vector v;
		m2m_aka_usim_result r;
		cr_assert_eq(vno_rogue_false_vector(&v), 0);
		cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, v.rand, v.autn, &r), M2M_AKA_MAC_FAILURE,
			     "the card accepted a false network's AUTN");
		static const uint8_t zeros[16] = {0};
		cr_assert_eq(memcmp(r.ck, zeros, 16), 0, "the card gave out CK");
		cr_assert_eq(memcmp(r.res, zeros, 8), 0, "the card gave out RES");
	}
	cr_assert_eq(memcmp(&u, &before, sizeof u), 0, "a MAC failure changed the card's SQN state");
	m2m_milenage_clear(&m);
}

Test(rogue, a_replayed_challenge_gets_a_sync_failure)
{
	sqlite3 *db = test_open_db();
	vno_attach a;
	m2m_aka_av av;
	challenged_attach(&a, &av);
	/* the honest relay: the card accepts, the rogue keeps the challenge */
	m2m_milenage m;
	m2m_sqn_usim u;
	m2m_aka_usim_result r;
	test_milenage(&m);
	m2m_sqn_usim_init(&u, NULL);
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, av.rand, av.autn, &r), M2M_AKA_OK);
	cr_assert_eq(vno_rogue_keep_challenge(db, a.imsi, av.rand, av.autn), 0);
	cr_assert_not(in_table(db, "vno_replay_challenge", av.ck, sizeof av.ck), "the rogue kept CK");
	/* the replay: the same RAND/AUTN, no XRES, and the card answers DC with AUTS */
	vno_vector v;
	cr_assert_eq(vno_rogue_take_challenge(db, a.imsi, &v), 1);
	cr_assert_eq(memcmp(v.rand, av.rand, 16), 0);
	cr_assert_eq(memcmp(v.autn, av.autn, 16), 0);
	cr_assert_eq(v.xres_len, 0, "the rogue has no XRES for a replay");
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, v.rand, v.autn, &r), M2M_AKA_SYNC_FAILURE);
	static const uint8_t zeros[16] = {0};
	cr_assert_eq(memcmp(r.ck, zeros, 16), 0, "the card gave out CK for a replay");
	/* and again, the second sync failure of the attach */
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, v.rand, v.autn, &r), M2M_AKA_SYNC_FAILURE);
	m2m_milenage_clear(&m);
	cr_assert_eq(vno_rogue_take_challenge(db, a.imsi, &v), 0, "a challenge is replayed once");
	cr_assert_eq(vno_rogue_take_challenge(db, "001020000000001", &v), 0);
	m2m_store_close(db);
}

/* ---- settings ------------------------------------------------------------------------------------ */

static char dir[64];
static m2m_conf conf;

static void settings_setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/vno-testXXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/v.storage", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "%064d\n", 7);
	fclose(f);
}

static void settings_teardown(void)
{
	m2m_conf_free(&conf);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	cr_expect_eq(system(cmd), 0);
}

/* Reads `mno = { ... }` with the storage key file filled in; returns conf.failed. */
static int read_settings(vno_settings *s, const char *body)
{
	char path[128], text[2048];
	snprintf(path, sizeof path, "%s/v.conf", dir);
	snprintf(text, sizeof text, "mno = {\n mode = \"visited\";\n storage_key_file = \"%s/v.storage\";\n%s};\n", dir,
		 body);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(m2m_conf_load(&conf, path), 0, "%s", conf.error);
	vno_settings_read(&conf, config_lookup(&conf.cfg, "mno"), s);
	return conf.failed;
}

static void expect_error(const char *fragment)
{
	cr_assert(conf.failed, "no error");
	cr_assert_not_null(strstr(conf.error, fragment), "\"%s\" not in: %s", fragment, conf.error);
}

TestSuite(settings, .init = settings_setup, .fini = settings_teardown);

Test(settings, visited_operator)
{
	vno_settings s;
	cr_assert_eq(read_settings(&s, " plmn = \"00103\";\n"
				       " roaming = ( { plmn = \"00101\"; home = \"mno-a\"; },\n"
				       "             { plmn = \"00102\"; home = \"mno-b\"; } );\n"),
		     0, "%s", conf.error);
	cr_assert_str_eq(s.plmn, "00103");
	cr_assert_eq(s.nroaming, 2);
	cr_assert_str_eq(s.roaming[1].plmn, "00102");
	cr_assert_str_eq(s.roaming[1].home, "mno-b");
	cr_assert_eq(s.attack, VNO_ATTACK_NONE, "attack defaults to none");
	for (int i = 0; i < 32; i++)
		cr_assert_eq(s.storage_key[i], i == 31 ? 0x07 : 0);
}

Test(settings, a_registration_operator_and_its_walled_garden)
{
	vno_settings s;
	cr_assert_eq(read_settings(&s, " plmn = \"00103\";\n"
				       " roaming = ( { plmn = \"00101\"; home = \"mno-a\"; },\n"
				       "             { plmn = \"00109\"; home = \"drf\"; pcid = true; } );\n"
				       " walled_garden = [ \"drf\", \"mno-a\", \"certauth\" ];\n"),
		     0, "%s", conf.error);
	cr_assert_not(s.roaming[0].pcid, "pcid defaults to false");
	cr_assert(s.roaming[1].pcid);
	cr_assert_eq(s.nwalled, 3);
	cr_assert_str_eq(s.walled[2], "certauth");
}

Test(settings, attackers_and_no_roaming)
{
	vno_settings s;
	cr_assert_eq(read_settings(&s, " plmn = \"00104\"; attack = \"false-network\";\n"), 0, "%s", conf.error);
	cr_assert_eq(s.attack, VNO_ATTACK_FALSE_NETWORK);
	cr_assert_eq(s.nroaming, 0);
	m2m_conf_free(&conf);
	cr_assert_eq(read_settings(&s, " plmn = \"00105\"; attack = \"replay\";\n"), 0, "%s", conf.error);
	cr_assert_eq(s.attack, VNO_ATTACK_REPLAY);
}

Test(settings, unknown_settings_are_refused)
{
	vno_settings s;
	read_settings(&s, " plmn = \"00103\"; clone_policy = \"suspend\";\n");
	expect_error("clone_policy");
}

Test(settings, refusals)
{
	static const struct {
		const char *body, *fragment;
	} cases[] = {
		{" plmn = \"0010\";\n", "mno.plmn: must be 5 or 6 digits"},
		{" plmn = \"00103\"; attack = \"jam\";\n", "mno.attack"},
		{" plmn = \"00103\"; roaming = ( { plmn = \"00101\"; home = \"mno-a\"; colour = 1; } );\n", "colour"},
		{" plmn = \"00103\"; roaming = ( { plmn = \"001\"; home = \"mno-a\"; } );\n",
		 "mno.roaming.[0].plmn: must be 5 or 6 digits"},
		{" plmn = \"00103\"; roaming = ( { plmn = \"00101\"; } );\n", "home"},
		{" plmn = \"00103\"; roaming = ( { plmn = \"00101\"; home = \"mno-a\"; },"
		 " { plmn = \"00101\"; home = \"mno-b\"; } );\n",
		 "PLMN 00101 has two roaming agreements"},
		{" plmn = \"00103\"; roaming = ( \"mno-a\" );\n", "each roaming agreement is a group"},
		{" plmn = \"00103\"; roaming = ( { plmn = \"00109\"; home = \"drf\"; pcid = \"yes\"; } );\n",
		 "mno.roaming.[0].pcid"},
		{" plmn = \"00103\"; walled_garden = \"drf\";\n", "mno.walled_garden: must list at most 16"},
		{" plmn = \"00103\"; walled_garden = [ \"drf\", \"\" ];\n", "mno.walled_garden.[1]: must be an entity id"},
		{" plmn = \"00103\"; walled_garden = [ 7 ];\n", "mno.walled_garden.[0]: must be an entity id"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		vno_settings s;
		if (i)
			m2m_conf_free(&conf);  /* the last one is the teardown's */
		read_settings(&s, cases[i].body);
		expect_error(cases[i].fragment);
	}
}

Test(settings, the_storage_key_file_must_hold_64_hex_digits)
{
	char path[128];
	snprintf(path, sizeof path, "%s/v.storage", dir);
	FILE *f = fopen(path, "w");
	fputs("abc\n", f);
	fclose(f);
	vno_settings s;
	read_settings(&s, " plmn = \"00103\";\n");
	expect_error("does not hold 64 hex digits");
	cr_assert_null(strstr(conf.error, "abc"), "the key file's content was echoed");
}

Test(settings, every_home_must_be_a_callable_peer)
{
	vno_settings s;
	cr_assert_eq(read_settings(&s, " plmn = \"00103\";\n"
				       " roaming = ( { plmn = \"00101\"; home = \"mno-a\"; },\n"
				       "             { plmn = \"00102\"; home = \"mno-b\"; } );\n"),
		     0, "%s", conf.error);
	m2m_node_conf *nc = calloc(1, sizeof *nc);
	nc->npeers = 2;
	snprintf(nc->peers[0].id, sizeof nc->peers[0].id, "mno-a");
	snprintf(nc->peers[0].endpoint, sizeof nc->peers[0].endpoint, "ipc:///tmp/a");
	snprintf(nc->peers[1].id, sizeof nc->peers[1].id, "m2me-1");
	config_setting_t *group = config_lookup(&conf.cfg, "mno");
	vno_settings_check_peers(&conf, group, &s, nc);
	expect_error("mno.roaming.[1].home: mno-b is not a configured peer");
	conf.failed = 0;
	snprintf(nc->peers[1].id, sizeof nc->peers[1].id, "mno-b");  /* listed, but only calls us */
	vno_settings_check_peers(&conf, group, &s, nc);
	expect_error("peer mno-b has no endpoint");
	conf.failed = 0;
	snprintf(nc->peers[1].endpoint, sizeof nc->peers[1].endpoint, "ipc:///tmp/b");
	vno_settings_check_peers(&conf, group, &s, nc);
	cr_assert_not(conf.failed, "%s", conf.error);
	free(nc);
}

Test(settings, every_walled_garden_entity_must_be_a_callable_peer)
{
	vno_settings s;
	cr_assert_eq(read_settings(&s, " plmn = \"00103\"; walled_garden = [ \"drf\", \"certauth\" ];\n"), 0, "%s",
		     conf.error);
	m2m_node_conf *nc = calloc(1, sizeof *nc);
	nc->npeers = 1;
	snprintf(nc->peers[0].id, sizeof nc->peers[0].id, "drf");
	snprintf(nc->peers[0].endpoint, sizeof nc->peers[0].endpoint, "ipc:///tmp/drf");
	config_setting_t *group = config_lookup(&conf.cfg, "mno");
	vno_settings_check_peers(&conf, group, &s, nc);
	expect_error("mno.walled_garden.[1]: certauth is not a configured peer");
	conf.failed = 0;
	nc->npeers = 2;
	snprintf(nc->peers[1].id, sizeof nc->peers[1].id, "certauth");
	vno_settings_check_peers(&conf, group, &s, nc);
	expect_error("peer certauth has no endpoint: a walled-garden entity must be callable");
	free(nc);
}

/* Alternative 3b: the TRE's signed steps to the DRF pass from an operational session (the card's
 * IMSI), not from a PCID's walled garden, and only from the session's device. */
Test(relay_policy, the_card_s_change_passes_from_an_operational_session_only)
{
	vno_settings set = {0};
	snprintf(set.walled[0], sizeof set.walled[0], "drf");
	set.nwalled = 1;
	vno_session s = {.open = 1};
	snprintf(s.device, sizeof s.device, "m2me-1");
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_UICC_CHANGE_REGISTER), M2M_OK);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_UICC_CHANGE_COMPLETE), M2M_OK);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-2", "drf", M2M_MSG_UICC_CHANGE_REGISTER), M2M_R_NOT_AUTHORISED);
	s.pcid = 1;
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_UICC_CHANGE_REGISTER), M2M_R_WALLED_GARDEN);
	cr_assert_eq(vno_relay_admit(&set, &s, "m2me-1", "drf", M2M_MSG_UICC_CHANGE_COMPLETE), M2M_R_WALLED_GARDEN);
}
