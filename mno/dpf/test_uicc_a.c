/*
 * SHO A's side of Alternative 3b (docs/alt3b.md, contract steps 2 and 12), in the world of
 * test_dpf_world.h: the real mno-a, whose staff personalised a card (mno-admin personalise: its
 * record, its OTA keyset) that a device attaches with through the test's mno-v. The test, as the
 * DRF, notifies a change of that device (a TRE without an MCIM of mno-a) and releases it; as the
 * visited network it attaches the card and asks for vectors. A 1a change (the TRE holds an MCIM
 * of mno-a) stays as it was. Every refusal is checked to change nothing.
 */
#include "test_dpf_world.h"

#include "crypto/crypto.h"
#include "store/store.h"
#include "wire/read.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHO_B "mno-b"
#define IMSI_A "001010000000005"
#define ICCID_A "8900101000000000053"
#define IMEISV "3569380356438012"  /* the device of IMEI (test_dpf_world.h): other check digit and SV */
#define OTHER_IMEI "490154203237518"

TestSuite(uicc_a, .init = world_setup, .fini = world_teardown, .timeout = 300);

/* ---- mno-admin, the card and its device ----------------------------------------------------------- */

static int admin(const char *args)
{
	char bin[512];
	return ta_run("%s -c %s/mno-a.conf %s >>%s/admin.out 2>&1", ta_binary("MNO_ADMIN", "mno/hss/mno-admin", bin, sizeof bin),
		      w.dir, args, w.dir);
}

/* mno-admin show IMSI_A: its output (free it). */
static char *admin_show(void)
{
	char bin[512], path[128];
	size_t len = 0;
	cr_assert_eq(ta_run("%s -c %s/mno-a.conf show " IMSI_A " >%s/show.out 2>&1",
			    ta_binary("MNO_ADMIN", "mno/hss/mno-admin", bin, sizeof bin), w.dir, w.dir), 0,
		     "see %s/show.out", w.dir);
	path_of(path, sizeof path, "show.out");
	char *text = ta_read(path, &len);
	cr_assert_not_null(text);
	return text;
}

/* The staff make the card: its record active, its OTA keyset in the OTA server. */
static void personalise_card(void)
{
	char args[256];
	snprintf(args, sizeof args, "personalise --iccid " ICCID_A " --imsi " IMSI_A " --out %s/uicc-a.img", w.dir);
	cr_assert_eq(admin(args), 0, "see %s/admin.out", w.dir);
	cr_assert_str_eq(subscriber_state(IMSI_A), "active");
	cr_assert_gt(query_int("mno-a.db", "SELECT count(*) FROM ota_keyset WHERE iccid = '" ICCID_A "'"), 0);
}

/* The visited operator reports the card attached in the device imei. */
static void attach(const char *imsi, const char *imei)
{
	M2M_UPDATE_LOCATION *u = M2M_UPDATE_LOCATION_new();
	m2m_set_digits(&u->imsi, imsi);
	m2m_set_digits(&u->imei, imei);
	m2m_set_str(u->serving_network, VNO);
	ta_answer a = ta_call(w.vno, MNO, M2M_MSG_UPDATE_LOCATION, u);
	M2M_UPDATE_LOCATION_free(u);
	cr_assert_eq(a.type, M2M_MSG_UPDATE_LOCATION_ACK, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	ta_answer_free(&a);
}

/* A world with the card personalised and attached in the device (IMEISV: the same device). */
static void start_card_world(void)
{
	start_world(TA_AGENCY);
	personalise_card();
	attach(IMSI_A, IMEISV);
}

/* ---- the DRF's side ------------------------------------------------------------------------------ */

static ta_answer notify_from(m2m_node *from, const uint8_t change_id[16], const char *tre, const char *imei)
{
	M2M_CHANGE_NOTIFY *n = M2M_CHANGE_NOTIFY_new();
	ASN1_OCTET_STRING_set(n->change_id, change_id, 16);
	m2m_set_str(n->tre, tre);
	m2m_set_digits(&n->m2me, imei);
	m2m_set_str(n->to_sho, SHO_B);
	ta_answer a = ta_call(from, MNO, M2M_MSG_CHANGE_NOTIFY, n);
	M2M_CHANGE_NOTIFY_free(n);
	return a;
}

/* changeNotify from the DRF for the device, consented with the card's IMSI and no mcimId. */
static void consented(const uint8_t change_id[16])
{
	char imsi[16] = "";
	ta_answer a = notify_from(w.drf, change_id, TRE, IMEI);
	cr_assert_eq(a.type, M2M_MSG_CHANGE_CONSENT, "refused: %s %s (see %s)", m2m_reason_name(a.reason), a.text, w.dir);
	const M2M_CHANGE_CONSENT *c = a.body;
	cr_assert_arr_eq(ASN1_STRING_get0_data(c->change_id), change_id, 16);
	cr_assert_null(c->mcim_id, "a consent of 3b names no MCIM");
	cr_assert_eq(m2m_digits(c->imsi, imsi, sizeof imsi, 6, 15), 0, "the consent names no IMSI");
	cr_assert_str_eq(imsi, IMSI_A);
	ta_answer_free(&a);
}

static ta_answer release_from(m2m_node *from, const uint8_t *change_id, int id_len, const char *iccid, const char *imsi)
{
	M2M_UICC_RELEASE *r = M2M_UICC_RELEASE_new();
	ASN1_OCTET_STRING_set(r->change_id, change_id, id_len);
	m2m_set_digits(&r->iccid, iccid);
	m2m_set_digits(&r->imsi, imsi);
	ta_answer a = ta_call(from, MNO, M2M_MSG_UICC_RELEASE, r);
	M2M_UICC_RELEASE_free(r);
	return a;
}

static void released(const uint8_t change_id[16])
{
	ta_answer a = release_from(w.drf, change_id, 16, ICCID_A, IMSI_A);
	cr_assert_eq(a.type, M2M_MSG_UICC_RELEASE_ACK, "refused: %s %s (see %s)", m2m_reason_name(a.reason), a.text, w.dir);
	cr_assert_arr_eq(ASN1_STRING_get0_data(((M2M_CHANGE_ACK *)a.body)->change_id), change_id, 16);
	ta_answer_free(&a);
}

/* ---- what mno-a keeps ------------------------------------------------------------------------------ */

/* The DPF's state with the 3b changes, the locations and the OTA keysets (free it). */
static char *state_now(void)
{
	char *dpf = dpf_state(), uicc[1024] = "";
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db,
		"SELECT coalesce((SELECT group_concat(hex(change_id) || ':' || tre || ':' || imsi || ':' || state || ':'"
		" || coalesce(iccid, ''), ';') FROM dpf_uicc_change), '-') || '|' || coalesce((SELECT group_concat(imsi"
		" || '@' || network, ';') FROM hss_location), '-') || '|' || (SELECT count(*) FROM ota_keyset)", -1, &st,
		NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	snprintf(uicc, sizeof uicc, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	char *all = malloc(strlen(dpf) + strlen(uicc) + 2);
	sprintf(all, "%s#%s", dpf, uicc);
	free(dpf);
	return all;
}

/* A request mno-a must refuse with reason, nothing it keeps changed. */
static void expect_refusal(ta_answer a, m2m_reason reason, const char *before)
{
	cr_assert_eq(a.type, M2M_MSG_ERROR, "not refused: %d", a.type);
	cr_assert_eq(a.reason, reason, "reason %s (%s), not %s", m2m_reason_name(a.reason), a.text, m2m_reason_name(reason));
	char *after = state_now();
	cr_assert_str_eq(after, before, "a refusal changed mno-a's state");
	free(after);
	ta_answer_free(&a);
}

static char change_hex[33];

static void new_change(uint8_t change_id[16])
{
	m2m_random(change_id, 16);
	m2m_hex(change_id, 16, change_hex);
}

static const char *change_state(void)
{
	static char state[16];
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT state FROM dpf_uicc_change WHERE hex(change_id) = upper(?)", -1, &st,
					NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, change_hex, -1, SQLITE_STATIC);
	snprintf(state, sizeof state, "%s", sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "none");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return state;
}

static void restart_mno(void)
{
	cr_assert_eq(ta_stop(w.mno_pid), 0, "see %s/mno-a.log", w.dir);
	start_mno(TA_AGENCY);
	cr_assert(wait_for(dpf_enrolled, 10));
}

/* ---- the change ------------------------------------------------------------------------------------ */

Test(uicc_a, consent_by_the_device_then_release_deactivates_the_imsi)
{
	start_card_world();
	uint8_t change_id[16];
	new_change(change_id);
	/* tre-1 holds no MCIM of mno-a: the card attached with that device (its IMEISV) is found */
	consented(change_id);
	cr_assert_str_eq(change_state(), "consented");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_audit WHERE imsi = '" IMSI_A "' AND action = 'change'"),
		     1);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_change"), 0, "3b is not a change of an MCIM");
	/* the DRF asks again, also after a restart of mno-a: the same consent, nothing written */
	char *before = state_now();
	consented(change_id);
	restart_mno();
	consented(change_id);
	char *after = state_now();
	cr_assert_str_eq(after, before, "a repeated notify changed mno-a's state");
	free(before);
	free(after);
	ta_answer v = auth_info(IMSI_A);
	cr_assert_eq(v.type, M2M_MSG_AUTH_INFO_RESPONSE, "the card works until the release: %s", v.text);
	ta_answer_free(&v);
	/* the device works on B: A's IMSI goes, with everything A held of the card */
	released(change_id);
	cr_assert_str_eq(change_state(), "released");
	cr_assert_str_eq(subscriber_state(IMSI_A), "deleted");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber WHERE imsi = '" IMSI_A "'"
				       " AND (k_opc_sealed IS NOT NULL OR card_keys_sealed IS NOT NULL)"), 0, "K and OPc not erased");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_location WHERE imsi = '" IMSI_A "'"), 0);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM ota_keyset WHERE iccid = '" ICCID_A "'"), 0);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_change WHERE iccid = '" ICCID_A "'"), 1);
	v = auth_info(IMSI_A);
	cr_assert_eq(v.type, M2M_MSG_ERROR, "vectors for a deactivated IMSI");
	cr_assert_eq(v.reason, M2M_R_NOT_FOUND, "%s %s", m2m_reason_name(v.reason), v.text);
	ta_answer_free(&v);
	char *text = admin_show();
	cr_assert_not_null(strstr(text, "state:     deleted"), "%s", text);
	cr_assert_not_null(strstr(text, "keys:      none"), "%s", text);
	char line[256], id_upper[33];
	for (int i = 0; i < 33; i++)
		id_upper[i] = (char)toupper((unsigned char)change_hex[i]);  /* as mno-admin prints it */
	snprintf(line, sizeof line, "change:    %s to " SHO_B ", released: the device with IMEI " IMEI " (TRE " TRE
		 ") on this card; IMSI deactivated by it on card ICCID " ICCID_A, id_upper);
	cr_assert_not_null(strstr(text, line), "no '%s' in\n%s", line, text);
	cr_assert_not_null(strstr(text, "dpf delete"), "%s", text);
	free(text);
	/* the release again (its ack was lost), and the notify: the same answers, nothing written */
	before = state_now();
	released(change_id);
	consented(change_id);
	after = state_now();
	cr_assert_str_eq(after, before);
	free(after);
	/* the card is no longer A's: another change of the device finds nothing */
	uint8_t other[16];
	m2m_random(other, sizeof other);
	expect_refusal(notify_from(w.drf, other, TRE, IMEI), M2M_R_NOT_FOUND, before);
	free(before);
}

/* ---- refusals ---------------------------------------------------------------------------------------- */

Test(uicc_a, refusals_and_the_contract_lock_change_nothing)
{
	start_card_world();
	uint8_t change_id[16], short_id[5] = {1, 2, 3, 4, 5};
	new_change(change_id);
	char *before = state_now();
	expect_refusal(notify_from(w.drf, change_id, TRE, OTHER_IMEI), M2M_R_NOT_FOUND, before);
	expect_refusal(notify_from(w.vno, change_id, TRE, IMEI), M2M_R_NOT_AUTHORISED, before);
	expect_refusal(release_from(w.drf, change_id, 16, ICCID_A, IMSI_A), M2M_R_NOT_FOUND, before);
	free(before);
	/* a contract lock on the card's IMSI: refused, nothing recorded, until it is lifted */
	cr_assert_eq(admin("lock " IMSI_A " --days 30"), 0, "see %s/admin.out", w.dir);
	before = state_now();
	ta_answer a = notify_from(w.drf, change_id, TRE, IMEI);
	cr_assert(strstr(a.text, "contract lock until"), "%s", a.text);
	expect_refusal(a, M2M_R_CONTRACT_LOCKED, before);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_change"), 0);
	free(before);
	cr_assert_eq(admin("unlock " IMSI_A), 0, "see %s/admin.out", w.dir);
	consented(change_id);
	/* once consented: another change of the device, this change for another TRE, releases that
	 * name another IMSI or card, are malformed or come from someone else than the DRF */
	uint8_t other[16];
	m2m_random(other, sizeof other);
	before = state_now();
	expect_refusal(notify_from(w.drf, other, TRE, IMEI), M2M_R_WRONG_STATE, before);
	expect_refusal(notify_from(w.drf, change_id, "tre-2", IMEI), M2M_R_WRONG_STATE, before);
	expect_refusal(release_from(w.vno, change_id, 16, ICCID_A, IMSI_A), M2M_R_NOT_AUTHORISED, before);
	expect_refusal(release_from(w.drf, other, 16, ICCID_A, IMSI_A), M2M_R_NOT_FOUND, before);
	expect_refusal(release_from(w.drf, change_id, 16, ICCID_A, "001010000000006"), M2M_R_NOT_FOUND, before);
	expect_refusal(release_from(w.drf, change_id, 16, "8900101000000000061", IMSI_A), M2M_R_NOT_FOUND, before);
	expect_refusal(release_from(w.drf, short_id, 5, ICCID_A, IMSI_A), M2M_R_BAD_BODY, before);
	free(before);
	cr_assert_str_eq(change_state(), "consented");
	cr_assert_str_eq(subscriber_state(IMSI_A), "active");
}

/* ---- Alternative 1a first ------------------------------------------------------------------------------ */

Test(uicc_a, a_tre_with_an_mcim_of_a_is_changed_as_in_1a)
{
	start_card_world();
	/* an MCIM of mno-a installed in tre-1 (the test signs as the TRE), in the device the card is in */
	packaged p;
	order_packaged(&p);
	install(&p, M2M_INSTALLED);
	uint8_t change_id[16];
	new_change(change_id);
	ta_answer a = notify_from(w.drf, change_id, TRE, IMEI);
	cr_assert_eq(a.type, M2M_MSG_CHANGE_CONSENT, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	const M2M_CHANGE_CONSENT *c = a.body;
	cr_assert_null(c->imsi, "a consent of 1a names no IMSI");
	cr_assert_not_null(c->mcim_id);
	cr_assert_arr_eq(ASN1_STRING_get0_data(c->mcim_id), ASN1_STRING_get0_data(p.package->mcim_id), 16);
	ta_answer_free(&a);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_change"), 1);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_change"), 0);
	/* a 1a change is not released by uiccRelease */
	char *before = state_now();
	expect_refusal(release_from(w.drf, change_id, 16, ICCID_A, p.imsi), M2M_R_WRONG_STATE, before);
	free(before);
	/* the MCIM's own record attached in that device is no card: with the MCIM gone from the
	 * DPF's view (another TRE named), only the card is found */
	attach(p.imsi, IMEI);
	uint8_t other[16];
	new_change(other);
	ta_answer b = notify_from(w.drf, other, "tre-2", IMEI);
	cr_assert_eq(b.type, M2M_MSG_CHANGE_CONSENT, "refused: %s %s", m2m_reason_name(b.reason), b.text);
	char imsi[16] = "";
	cr_assert_eq(m2m_digits(((M2M_CHANGE_CONSENT *)b.body)->imsi, imsi, sizeof imsi, 6, 15), 0);
	cr_assert_str_eq(imsi, IMSI_A, "the MCIM's IMSI %s is not a card", p.imsi);
	ta_answer_free(&b);
	packaged_free(&p);
}
