/*
 * The change of subscription at the DRF (docs/alt1a-change.md), over the wire with a real drf and
 * certauth: the new SHO "mno-b" is a node of the test, the old SHO "mno-a" a fake serving the
 * DRF's calls (test_fake_sho.c), and the TRE "tre-x" signs with its key certified by the agency.
 * The drf's calls time out as in the testbed (500 ms, 2 retries); it tells the old SHO again
 * every second.
 */
#include "test_world.h"

#include "crypto/crypto.h"
#include "wire/read.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The same timeout as the drf suite's: with two timeouts in one binary, Criterion 2.4.1 (BoxFort)
 * leaks a timeout request, which LeakSanitizer turns into a failed run. */
TestSuite(change, .init = setup, .fini = teardown, .timeout = 120);

#define B_DPF "mno-b-dpf"

/* ---- what the TRE signs and asks ------------------------------------------------------------------ */

static answer complete(const uint8_t id[16], const char *tre, const char *sho, const uint8_t mcim_id[16])
{
	M2M_CHANGE_COMPLETE *c = M2M_CHANGE_COMPLETE_new();
	ASN1_OCTET_STRING_set(c->change_id, id, 16);
	m2m_set_str(c->tre, tre);
	m2m_set_str(c->sho, sho);
	ASN1_OCTET_STRING_set(c->mcim_id, mcim_id, 16);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_cms_sign_item(w.tre_x_key, w.tre_x_cert, w.tre_x_extra, ASN1_ITEM_rptr(M2M_CHANGE_COMPLETE), c, so),
		     0);
	M2M_CHANGE_COMPLETE_free(c);
	answer a = call(VISITED, M2M_MSG_CHANGE_COMPLETE, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

static answer discover(const uint8_t *change_id)
{
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	M2M_SIGNED_OBJECT *so =
		discovery_body("tre-x", IMEI_A, nonce, 32, change_id, w.tre_x_key, w.tre_x_cert, w.tre_x_extra);
	answer a = call(VISITED, M2M_MSG_DISCOVERY_REQUEST, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

/* The ticket a discovery got, checked with the agency's root alone: its sho and dpf into the
 * buffers; whether it carries the changeId id (NULL: none). */
static void ticket_of(answer *a, char sho[64], char dpf[64], const uint8_t *id)
{
	assert_type(*a, M2M_MSG_DISCOVERY_RESPONSE);
	X509 *root = m2m_pki_cert_read_pem(w.agency.root);
	m2m_trust *trust = m2m_trust_new(root);
	void *value = NULL;
	cr_assert_eq(m2m_cms_verify_item(trust, a->body, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), &value, NULL), M2M_OK);
	const M2M_REGISTRATION_TICKET *t = value;
	cr_assert_eq(m2m_str(t->sho, sho, 64), 0);
	cr_assert_eq(m2m_str(t->dpf, dpf, 64), 0);
	if (id)
		cr_assert(t->change_id && ASN1_STRING_length(t->change_id) == 16 &&
			  !memcmp(ASN1_STRING_get0_data(t->change_id), id, 16), "the ticket carries the changeId");
	else
		cr_assert_null(t->change_id);
	M2M_REGISTRATION_TICKET_free(value);
	m2m_trust_free(trust);
	X509_free(root);
	answer_free(a);
}

#define OPEN_CHANGES "SELECT count(*) FROM drf_change WHERE state IN ('notifying', 'consented', 'complete')"

/* ---- registration with a subscriber key -------------------------------------------------------------- */

Test(change, subscriber_key_registered_and_checked)
{
	start("after_attach", 4);
	EVP_PKEY *k = m2m_pki_keygen(), *p384 = EVP_EC_gen("P-384");
	reg r[] = {{IMEI_A, "tre-a", "mno-a", "mno-a"}, {IMEI_B, "tre-b", "mno-b", "mno-b"}};
	EVP_PKEY *keys[] = {k, p384};
	answer a = register_keyed(TESTBED, r, keys, 2);
	assert_refused(a, M2M_R_BAD_BODY);
	cr_assert(strstr(a.text, "registration 1: subscriberKey"), "the entry named: %s", a.text);
	keys[1] = NULL;
	a = register_keyed(TESTBED, r, keys, 2);
	cr_assert_eq(registered(&a), 2);
	assert_registration("tre-a " IMEI_A " mno-a mno-a registered subscriber-key\n");
	assert_registration("tre-b " IMEI_B " mno-b mno-b registered\n");
	/* re-registered by its SHO without a key: the subscriber's key stays */
	a = register_batch(SHO_A, r, 1);
	cr_assert_eq(registered(&a), 1);
	assert_registration("tre-a " IMEI_A " mno-a mno-a registered subscriber-key\n");
	/* drf-admin: the key in hex as a fifth column */
	uint8_t *der = NULL;
	int n = spki_der(k, &der);
	char hex[600], text[800], out[4096];
	m2m_hex(der, (size_t)n, hex);
	snprintf(text, sizeof text, "35693803564381 tre-c mno-a mno-a %s\n", hex);
	ta_write(w.dir, "keys.txt", text);
	snprintf(text, sizeof text, "35693803564382 tre-d mno-a mno-a %.40s\n", hex);
	ta_write(w.dir, "bad-keys.txt", text);
	snprintf(text, sizeof text, "register --file %s/bad-keys.txt", w.dir);
	cr_assert_eq(admin(out, sizeof out, text), 1, "%s", out);
	cr_assert(strstr(out, "bad-keys.txt:1") && strstr(out, "P-256"), "%s", out);
	snprintf(text, sizeof text, "register --file %s/keys.txt", w.dir);
	cr_assert_eq(admin(out, sizeof out, text), 0, "%s", out);
	assert_registration("tre-c 35693803564381 mno-a mno-a registered subscriber-key\n");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p384);
}

/* ---- the change, from request to release ------------------------------------------------------------- */

Test(change, consented_discovered_completed_and_released)
{
	start_change(A_CONSENT, A_SILENT);
	auth x = good_auth();
	uint8_t id[16], again[16], unknown[16] = {1}, b_mcim[16] = {0xb1, 0xb2};
	answer a = ask_change(SHO_B, &x);
	change_id_of(&a, id);
	cr_assert_eq(w.sho_a.notifies, 1, "the old SHO was asked");
	wait_state("consented", 1);
	/* asked again with the same authorisation: the same change, the old SHO not asked again */
	a = ask_change(SHO_B, &x);
	change_id_of(&a, again);
	cr_assert_arr_eq(again, id, 16);
	cr_assert_eq(w.sho_a.notifies, 1);
	cr_assert_eq(count("SELECT count(*) FROM drf_change"), 1);
	/* discovery: without the changeId the SHO registered, with it the new one */
	char sho[64], dpf[64];
	a = discover(NULL);
	ticket_of(&a, sho, dpf, NULL);
	cr_assert(!strcmp(sho, "mno-a") && !strcmp(dpf, "mno-a"), "%s %s", sho, dpf);
	a = discover(id);
	ticket_of(&a, sho, dpf, id);
	cr_assert(!strcmp(sho, "mno-b") && !strcmp(dpf, B_DPF), "%s %s", sho, dpf);
	a = discover(unknown);
	assert_refused(a, M2M_R_NOT_FOUND);
	/* the new SHO reports its MCIM installed: accepted, the registration stays until complete */
	a = provisioned(SHO_B, "tre-x", "mno-b");
	assert_type(a, M2M_MSG_PROVISIONED_ACK);
	answer_free(&a);
	assert_registration("tre-x " IMEI_A " mno-a mno-a");
	/* the TRE attached with the new MCIM */
	a = complete(id, "tre-x", "mno-b", b_mcim);
	assert_type(a, M2M_MSG_CHANGE_COMPLETE_ACK);
	cr_assert_arr_eq(ASN1_STRING_get0_data(((M2M_CHANGE_ACK *)a.body)->change_id), id, 16);
	answer_free(&a);
	assert_registration("tre-x " IMEI_A " mno-b " B_DPF " provisioned subscriber-key\n");
	/* the old SHO is told to release its MCIM, again until it acknowledges */
	wait_count(&w.sho_a.releases, 2, 15, "changeReleases the old SHO received");
	cr_assert(w.sho_a.release_named_mcim, "the release names the MCIM the old SHO consented with");
	assert_state("complete");
	w.sho_a.release_mode = A_CONSENT;
	wait_state("released", 15);
	/* the TRE says it again: acknowledged again; the change is over for discovery */
	a = complete(id, "tre-x", "mno-b", b_mcim);
	assert_type(a, M2M_MSG_CHANGE_COMPLETE_ACK);
	answer_free(&a);
	a = discover(id);
	assert_refused(a, M2M_R_WRONG_STATE);
	a = discover(NULL);
	ticket_of(&a, sho, dpf, NULL);
	cr_assert(!strcmp(sho, "mno-b") && !strcmp(dpf, B_DPF), "now with the new SHO: %s %s", sho, dpf);
	char out[4096], hex[33];
	m2m_hex(id, 16, hex);
	cr_assert_eq(admin(out, sizeof out, "changes"), 0, "%s", out);
	cr_assert_eq(strncasecmp(out, hex, 32), 0, "%s", out);
	cr_assert_not_null(strstr(out, " tre-x mno-a mno-b released\n"), "%s", out);
}

Test(change, refusals)
{
	start_change(A_CONSENT, A_CONSENT);
	reg other[] = {{IMEI_B, "tre-y", "mno-a", "mno-a"}};
	answer a = register_batch(TESTBED, other, 1);
	cr_assert_eq(registered(&a), 1);
	EVP_PKEY *stranger = m2m_pki_keygen();
	auth x = good_auth(), y = x;
	y.tre = "tre-y", y.m2me = IMEI_B;
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, "no subscriber key"), "%s", a.text);
	y = x, y.key = stranger;
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	y = x, y.issued_at = time(NULL) - 3700;
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	y = x, y.issued_at = time(NULL) + 3600;
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	y = x, y.from = "mno-v";
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_WRONG_SHO);
	a = ask_change(VISITED, &x);
	assert_refused(a, M2M_R_WRONG_SHO);
	y = x, y.tre = "tre-z";
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_NOT_REGISTERED);
	y = x, y.nonce_len = 15;
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_BAD_BODY);
	cr_assert_eq(count("SELECT count(*) FROM drf_change"), 0, "no refusal left a change");
	cr_assert_eq(w.sho_a.notifies, 0);
	/* the good one; then its nonce again in another authorisation, and a second change */
	uint8_t id[16], b_mcim[16] = {0xb1};
	a = ask_change(SHO_B, &x);
	change_id_of(&a, id);
	y = x, y.issued_at = x.issued_at - 1;
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, "used"), "%s", a.text);
	y = good_auth();
	a = ask_change(SHO_B, &y);
	assert_refused(a, M2M_R_WRONG_STATE);
	cr_assert_eq(count(OPEN_CHANGES), 1);
	/* changeComplete: for another SHO, naming another TRE, for no change */
	a = complete(id, "tre-x", "mno-v", b_mcim);
	assert_refused(a, M2M_R_WRONG_SHO);
	a = complete(id, "tre-y", "mno-b", b_mcim);
	assert_refused(a, M2M_R_BAD_SIGNATURE);
	a = complete(b_mcim, "tre-x", "mno-b", b_mcim);
	assert_refused(a, M2M_R_NOT_FOUND);
	/* provisioned by an SHO that is neither registered nor the change's */
	a = provisioned(VISITED, "tre-x", "mno-v");
	assert_refused(a, M2M_R_WRONG_SHO);
	assert_registration("tre-x " IMEI_A " mno-a mno-a");
	EVP_PKEY_free(stranger);
}

Test(change, old_sho_refuses_contract_locked)
{
	start_change(A_LOCKED, A_CONSENT);
	auth x = good_auth();
	answer a = ask_change(SHO_B, &x);
	assert_refused(a, M2M_R_CONTRACT_LOCKED);
	cr_assert(strstr(a.text, "contract lock"), "the old SHO's text: %s", a.text);
	char state[16];
	newest_change(state, NULL);
	cr_assert_str_eq(state, "refused");
	cr_assert_eq(count(OPEN_CHANGES), 0, "no change is open");
	/* the same authorisation again: the same outcome, the old SHO not asked again */
	a = ask_change(SHO_B, &x);
	assert_refused(a, M2M_R_CONTRACT_LOCKED);
	cr_assert_eq(w.sho_a.notifies, 1);
	assert_registration("tre-x " IMEI_A " mno-a mno-a");
	/* the lock over, a new authorisation */
	w.sho_a.notify_mode = A_CONSENT;
	x = good_auth();
	uint8_t id[16];
	a = ask_change(SHO_B, &x);
	change_id_of(&a, id);
	cr_assert_eq(count(OPEN_CHANGES), 1);
}

/* The old SHO silent: the new SHO's request, answered timeout, leaves the change notifying. */
static auth silent_start(int release_mode, uint8_t id[16])
{
	start_change(A_SILENT, release_mode);
	auth x = good_auth();
	answer a = ask_change(SHO_B, &x);
	assert_refused(a, M2M_R_TIMEOUT);
	char state[16];
	newest_change(state, id);
	cr_assert_str_eq(state, "notifying");
	return x;
}

Test(change, notify_retried_while_the_old_sho_is_silent)
{
	uint8_t id[16], again[16], b_mcim[16] = {0xb1};
	auth x = silent_start(A_CONSENT, id);
	/* not consented yet: no ticket for the new SHO, no completion */
	answer a = discover(id);
	assert_refused(a, M2M_R_WRONG_STATE);
	a = complete(id, "tre-x", "mno-b", b_mcim);
	assert_refused(a, M2M_R_WRONG_STATE);
	/* the tick tells the old SHO again; once it answers, the change is consented */
	wait_count(&w.sho_a.notifies, 2, 15, "changeNotifies the old SHO received");
	/* the new SHO asks again meanwhile: it waits on the notify, and no second change opens */
	a = ask_change(SHO_B, &x);
	assert_refused(a, M2M_R_TIMEOUT);
	cr_assert_eq(count("SELECT count(*) FROM drf_change"), 1);
	w.sho_a.notify_mode = A_CONSENT;
	wait_state("consented", 15);
	a = ask_change(SHO_B, &x);
	change_id_of(&a, again);
	cr_assert_arr_eq(again, id, 16, "the change the first request opened");
	cr_assert_eq(count("SELECT count(*) FROM drf_change"), 1);
}

Test(change, resumes_after_a_restart)
{
	uint8_t id[16], again[16], b_mcim[16] = {0xb1};
	auth x = silent_start(A_SILENT, id);
	/* killed while notifying: the restarted drf tells the old SHO again */
	resumed_after_restart(&w.sho_a.notify_mode, &w.sho_a.notifies, "consented");
	answer a = ask_change(SHO_B, &x);
	change_id_of(&a, again);
	cr_assert_arr_eq(again, id, 16);
	/* killed while the release is unacknowledged: the restarted drf asks again */
	a = complete(id, "tre-x", "mno-b", b_mcim);
	assert_type(a, M2M_MSG_CHANGE_COMPLETE_ACK);
	answer_free(&a);
	wait_count(&w.sho_a.releases, 1, 15, "changeReleases the old SHO received");
	resumed_after_restart(&w.sho_a.release_mode, &w.sho_a.releases, "released");
	assert_registration("tre-x " IMEI_A " mno-b " B_DPF " provisioned");
}
