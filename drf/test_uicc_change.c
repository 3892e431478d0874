/*
 * Alternative 3b at the DRF (docs/alt3b.md): a real drf and certauth; the old SHO "mno-a" and the
 * new SHO "mno-b" are fakes serving the drf's calls (test_fake_sho.c); the TRE "tre-x" signs with
 * its key certified by the agency, and the card "uicc-x" has a certificate of profile uicc from
 * the same agency. The drf's calls time out as in the testbed (500 ms, 2 retries); it calls again
 * every second.
 */
#include "test_world.h"

#include "crypto/crypto.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The same timeout as the other suites of this binary (test_change.c says why). */
TestSuite(uicc_change, .init = setup, .fini = teardown, .timeout = 120);

#define ICCID "89001012345678901234"
#define OTHER_ICCID "8900101234567890129"

/* ---- what the drf signed and sent ------------------------------------------------------------------ */

/* The item so holds, its signature checked with the agency's root alone, signed by the drf. */
static void *signed_by_drf(const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item)
{
	X509 *root = m2m_pki_cert_read_pem(w.agency.root), *signer = NULL;
	m2m_trust *trust = m2m_trust_new(root);
	void *value = NULL;
	char cn[64] = "";
	cr_assert_eq(m2m_cms_verify_item(trust, so, item, &value, &signer), M2M_OK);
	cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, "drf");
	cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_REGISTRATION);
	X509_free(signer);
	m2m_trust_free(trust);
	X509_free(root);
	return value;
}

/* The last body of kind a fake received, decoded as item. */
static void *last_of(fake_sho *a, int kind, const ASN1_ITEM *item)
{
	const unsigned char *p = a->last[kind];
	void *v = ASN1_item_d2i(NULL, &p, a->last_len[kind], item);
	cr_assert_not_null(v, "no message of kind %d kept", kind);
	return v;
}

static int octets_are(const ASN1_OCTET_STRING *s, const void *expected, size_t len)
{
	return (size_t)ASN1_STRING_length(s) == len && !memcmp(ASN1_STRING_get0_data(s), expected, len);
}

static int text_is(const ASN1_STRING *s, const char *expected)
{
	char buf[80];
	return !m2m_str(s, buf, sizeof buf) && !strcmp(buf, expected);
}

/* The last trigger mno-a received: treTrigger {imsi A, TreActivate signed by the drf} for the
 * change id and tre-x, issued now; its nonce into nonce. */
static void last_trigger(const uint8_t id[16], uint8_t nonce[16])
{
	M2M_TRE_TRIGGER *t = last_of(&w.sho_a, LAST_TRIGGER, ASN1_ITEM_rptr(M2M_TRE_TRIGGER));
	cr_assert(text_is(t->imsi, A_IMSI), "the trigger is routed by A's IMSI");
	M2M_TRE_ACTIVATE *a = signed_by_drf(t->trigger, ASN1_ITEM_rptr(M2M_TRE_ACTIVATE));
	int64_t at = 0;
	cr_assert(octets_are(a->change_id, id, 16) && text_is(a->tre, "tre-x") && text_is(a->drf, "drf"));
	cr_assert_eq(m2m_read_octets(a->nonce, nonce, 16), 0);
	cr_assert(!m2m_read_time(a->issued_at, &at) && llabs((long long)(at - time(NULL))) < 30, "issuedAt is now");
	M2M_TRE_ACTIVATE_free(a);
	M2M_TRE_TRIGGER_free(t);
}

/* The last order mno-b received: for the change, tre-x, the card and its nonce, with a ticket
 * signed by the drf for tre-x naming mno-b and carrying the changeId. */
static void assert_order(const uint8_t id[16], const uint8_t card_nonce[16])
{
	M2M_UICC_CREDENTIAL_ORDER *q = last_of(&w.sho_b, LAST_ORDER, ASN1_ITEM_rptr(M2M_UICC_CREDENTIAL_ORDER));
	cr_assert(octets_are(q->change_id, id, 16) && text_is(q->tre, "tre-x") && text_is(q->iccid, ICCID));
	cr_assert(octets_are(q->card_certificate, w.card_cert, w.card_cert_len), "the card certificate as registered");
	cr_assert(octets_are(q->card_nonce, card_nonce, 16), "the card nonce registered last");
	M2M_SIGNED_OBJECT ticket = {.cms = q->ticket};
	M2M_REGISTRATION_TICKET *t = signed_by_drf(&ticket, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET));
	cr_assert(text_is(t->tre, "tre-x") && text_is(t->sho, "mno-b") && text_is(t->dpf, "mno-b"));
	cr_assert(t->change_id && octets_are(t->change_id, id, 16));
	M2M_REGISTRATION_TICKET_free(t);
	M2M_UICC_CREDENTIAL_ORDER_free(q);
}

/* The answer to a registration: uiccCredentialDelivery, the body mno-b sent for the card nonce. */
static void assert_delivery(answer *a, const uint8_t id[16], const uint8_t card_nonce[16])
{
	assert_type(*a, M2M_MSG_UICC_CREDENTIAL_DELIVERY);
	const M2M_UICC_CREDENTIAL_PACKAGE *k = a->body;
	uint8_t blob[12 + 16] = "package for ";
	memcpy(blob + 12, card_nonce, 16);
	cr_assert(octets_are(k->change_id, id, 16) && text_is(k->sho, "mno-b") && text_is(k->imsi, B_IMSI));
	cr_assert(octets_are(k->package, blob, sizeof blob), "B's package for that card nonce");
	answer_free(a);
}

/* ---- what the TRE signs ------------------------------------------------------------------------------ */

typedef struct card_reg {
	uint8_t id[16];
	const char *tre;
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *extra;
	const char *iccid;
	const uint8_t *card_cert;
	size_t card_cert_len;
	uint8_t card_nonce[16], trigger_nonce[16];
} card_reg;

/* tre-x registers uicc-x for the change with the last trigger's nonce and a fresh card nonce. */
static card_reg good_reg(const uint8_t id[16])
{
	card_reg r = {.tre = "tre-x", .key = w.tre_x_key, .cert = w.tre_x_cert, .extra = w.tre_x_extra, .iccid = ICCID,
		      .card_cert = w.card_cert, .card_cert_len = w.card_cert_len};
	memcpy(r.id, id, 16);
	last_trigger(id, r.trigger_nonce);
	m2m_random(r.card_nonce, 16);
	return r;
}

static answer send_signed(int type, const ASN1_ITEM *item, const void *value, EVP_PKEY *key, X509 *cert,
			  STACK_OF(X509) *extra)
{
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_cms_sign_item(key, cert, extra, item, value, so), 0);
	answer a = call(VISITED, type, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

static answer send_reg(const card_reg *r)
{
	M2M_UICC_CHANGE_REGISTRATION *q = M2M_UICC_CHANGE_REGISTRATION_new();
	ASN1_OCTET_STRING_set(q->change_id, r->id, 16);
	m2m_set_str(q->tre, r->tre);
	m2m_set_digits(&q->iccid, r->iccid);
	ASN1_OCTET_STRING_set(q->card_certificate, r->card_cert, (int)r->card_cert_len);
	ASN1_OCTET_STRING_set(q->card_nonce, r->card_nonce, 16);
	ASN1_OCTET_STRING_set(q->trigger_nonce, r->trigger_nonce, 16);
	answer a = send_signed(M2M_MSG_UICC_CHANGE_REGISTER, ASN1_ITEM_rptr(M2M_UICC_CHANGE_REGISTRATION), q, r->key, r->cert,
			       r->extra);
	M2M_UICC_CHANGE_REGISTRATION_free(q);
	return a;
}

/* uiccChangeComplete by tre-x. */
static answer send_result(const uint8_t id[16], const char *iccid, const char *imsi, int result)
{
	M2M_UICC_CHANGE_RESULT *q = M2M_UICC_CHANGE_RESULT_new();
	ASN1_OCTET_STRING_set(q->change_id, id, 16);
	m2m_set_str(q->tre, "tre-x");
	m2m_set_digits(&q->iccid, iccid);
	m2m_set_digits(&q->imsi, imsi);
	ASN1_ENUMERATED_set(q->result, result);
	answer a = send_signed(M2M_MSG_UICC_CHANGE_COMPLETE, ASN1_ITEM_rptr(M2M_UICC_CHANGE_RESULT), q, w.tre_x_key,
			       w.tre_x_cert, w.tre_x_extra);
	M2M_UICC_CHANGE_RESULT_free(q);
	return a;
}

static void assert_acked(answer *a, const uint8_t id[16])
{
	assert_type(*a, M2M_MSG_UICC_CHANGE_COMPLETE_ACK);
	cr_assert(octets_are(((M2M_CHANGE_ACK *)a->body)->change_id, id, 16));
	answer_free(a);
}

/* ---- the world of a 3b change -------------------------------------------------------------------------- */

/* tre-x registered with mno-a, which consents with the IMSI of its card; mno-b asked the change
 * (DPF mno-b) and got its changeId; the fakes answer as the modes say. */
static void start_uicc(int trigger_mode, int order_mode, int release_mode, uint8_t id[16])
{
	w.b_dpf = "mno-b";
	w.sho_a.trigger_mode = trigger_mode;
	start_change(A_UICC, release_mode);
	enrol_fake_uicc();
	sho_b_start(order_mode);
	auth x = good_auth();
	answer a = ask_change(SHO_B, &x);
	change_id_of(&a, id);
}

/* What the drf holds of the change and the registration, for "nothing changed". */
static void snapshot(char *out, size_t len)
{
	db_text("SELECT c.state || '/' || c.kind || '/' || c.a_imsi || '/' || coalesce(u.iccid, '') || '/'"
		" || coalesce(hex(u.card_nonce), '') || '/' || coalesce(u.b_imsi, '') || '/' || r.sho || '/' || r.dpf"
		" FROM drf_change c LEFT JOIN drf_uicc_change u USING (change_id) JOIN drf_registration r USING (tre)",
		out, len);
	cr_assert_neq(out[0], 0);
}

#define assert_unchanged(before)                                                                \
	do {                                                                                    \
		char now_[512];                                                                 \
		snapshot(now_, sizeof now_);                                                    \
		cr_assert_str_eq(now_, before, "a refusal changed the drf's state");           \
	} while (0)

/* ---- the whole change -------------------------------------------------------------------------------------- */

Test(uicc_change, triggered_registered_delivered_switched_and_released)
{
	uint8_t id[16];
	start_uicc(A_CONSENT, A_CONSENT, A_CONSENT, id);
	cr_assert_eq(count("SELECT count(*) FROM drf_change WHERE kind = 'uicc' AND a_imsi = '" A_IMSI "'"), 1);
	/* the tick triggers the TRE through mno-a, signed by the drf; the ack: triggered */
	wait_state("triggered", 15);
	cr_assert_eq(w.sho_a.triggers, 1);
	card_reg r = good_reg(id);
	cr_assert_eq(count("SELECT count(*) FROM drf_trigger_nonce"), 1, "the nonce was recorded");
	/* the TRE registers its card: ordered from mno-b, whose package answers the registration */
	answer a = send_reg(&r);
	assert_delivery(&a, id, r.card_nonce);
	cr_assert_eq(w.sho_b.orders, 1);
	assert_order(id, r.card_nonce);
	wait_state("delivered", 1);
	/* the same registration again, even after a restart: the package stored, B not asked again */
	restart_drf();
	a = send_reg(&r);
	assert_delivery(&a, id, r.card_nonce);
	cr_assert_eq(w.sho_b.orders, 1);
	/* the device attached with B's IMSI: completed, the registration names mno-b */
	a = send_result(id, ICCID, B_IMSI, M2M_UICC_SWITCHED);
	assert_acked(&a, id);
	assert_registration("tre-x " IMEI_A " mno-b mno-b registered subscriber-key\n");
	/* A is told to release its IMSI, until it acknowledges */
	wait_state("released", 15);
	M2M_UICC_RELEASE *q = last_of(&w.sho_a, LAST_RELEASE, ASN1_ITEM_rptr(M2M_UICC_RELEASE));
	cr_assert(octets_are(q->change_id, id, 16) && text_is(q->iccid, ICCID) && text_is(q->imsi, A_IMSI));
	M2M_UICC_RELEASE_free(q);
	/* the TRE says it again: the same ack, nothing more */
	a = send_result(id, ICCID, B_IMSI, M2M_UICC_SWITCHED);
	assert_acked(&a, id);
	char out[4096], hex[33];
	m2m_hex(id, 16, hex);
	cr_assert_eq(admin(out, sizeof out, "changes"), 0, "%s", out);
	cr_assert_not_null(strstr(out, " tre-x mno-a mno-b released uicc " A_IMSI " " ICCID " " B_IMSI "\n"), "%s", out);
	cr_assert_eq(w.sho_a.triggers, 1, "no trigger after the ack");
}

/* ---- refusals ------------------------------------------------------------------------------------------------- */

Test(uicc_change, refusals_change_nothing)
{
	uint8_t id[16], unknown[16] = {7};
	char before[512];
	start_uicc(A_CONSENT, A_CONSENT, A_CONSENT, id);
	enrol_fake_tre_y();
	wait_state("triggered", 15);
	snapshot(before, sizeof before);
	card_reg good = good_reg(id), r;
	/* by another TRE, for itself and in tre-x's name; a nonce never issued */
	r = good, r.tre = "tre-y", r.key = w.tre_y_key, r.cert = w.tre_y_cert, r.extra = w.tre_y_extra;
	answer a = send_reg(&r);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, "tre-x"), "%s", a.text);
	r = good, r.key = w.tre_y_key, r.cert = w.tre_y_cert, r.extra = w.tre_y_extra;
	a = send_reg(&r);
	assert_refused(a, M2M_R_BAD_SIGNATURE);
	r = good, r.trigger_nonce[0] ^= 1;
	a = send_reg(&r);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, "trigger nonce"), "%s", a.text);
	/* card certificates: of a TRE, of a card under another root, not a certificate */
	uint8_t *der = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_pki_cert_der(w.tre_x_cert, &der, &len), 0);
	r = good, r.card_cert = der, r.card_cert_len = len;
	a = send_reg(&r);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, "profile uicc"), "%s", a.text);
	OPENSSL_free(der);
	time_t now = time(NULL);
	EVP_PKEY *rogue_key = m2m_pki_keygen(), *card = m2m_pki_keygen();
	m2m_cert_spec root = {M2M_CERT_ROOT, "rogue", rogue_key, 1, now - 60, now + 3600, -1, NULL};
	m2m_cert_spec leaf = {M2M_CERT_END_ENTITY, "uicc-x", card, 2, now - 60, now + 3600, M2M_PROFILE_UICC, NULL};
	X509 *rogue = m2m_pki_issue(&root, NULL, rogue_key), *forged = rogue ? m2m_pki_issue(&leaf, rogue, rogue_key) : NULL;
	cr_assert(forged && !m2m_pki_cert_der(forged, &der, &len));
	r = good, r.card_cert = der, r.card_cert_len = len;
	a = send_reg(&r);
	assert_refused(a, M2M_R_BAD_CHAIN);
	OPENSSL_free(der);
	r = good, r.card_cert = (const uint8_t *)"not a certificate", r.card_cert_len = 17;
	a = send_reg(&r);
	assert_refused(a, M2M_R_BAD_BODY);
	/* an unknown change */
	r = good;
	memcpy(r.id, unknown, 16);
	a = send_reg(&r);
	assert_refused(a, M2M_R_NOT_FOUND);
	/* 1a's changeComplete for this change */
	M2M_CHANGE_COMPLETE *cc = M2M_CHANGE_COMPLETE_new();
	ASN1_OCTET_STRING_set(cc->change_id, id, 16);
	m2m_set_str(cc->tre, "tre-x");
	m2m_set_str(cc->sho, "mno-b");
	ASN1_OCTET_STRING_set(cc->mcim_id, unknown, 16);
	a = send_signed(M2M_MSG_CHANGE_COMPLETE, ASN1_ITEM_rptr(M2M_CHANGE_COMPLETE), cc, w.tre_x_key, w.tre_x_cert,
			w.tre_x_extra);
	M2M_CHANGE_COMPLETE_free(cc);
	assert_refused(a, M2M_R_WRONG_STATE);
	/* a result before any card was registered */
	a = send_result(id, ICCID, B_IMSI, M2M_UICC_SWITCHED);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	assert_unchanged(before);
	cr_assert_eq(w.sho_b.orders, 0, "no refused registration reached B");
	/* the good registration; then results for another card, with A's IMSI as switched */
	a = send_reg(&good);
	assert_delivery(&a, id, good.card_nonce);
	snapshot(before, sizeof before);
	a = send_result(id, OTHER_ICCID, B_IMSI, M2M_UICC_SWITCHED);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, ICCID), "%s", a.text);
	a = send_result(id, ICCID, A_IMSI, M2M_UICC_SWITCHED);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	/* another card for the change */
	r = good, r.iccid = OTHER_ICCID;
	m2m_random(r.card_nonce, 16);
	a = send_reg(&r);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	assert_unchanged(before);
	/* B refuses: its reason passed back, the change back to triggered */
	w.sho_b.order_mode = A_LOCKED;
	r = good;
	m2m_random(r.card_nonce, 16);
	a = send_reg(&r);
	assert_refused(a, M2M_R_NOT_VALIDATED);
	cr_assert(strstr(a.text, "verdict"), "B's text: %s", a.text);
	wait_state("triggered", 1);
	assert_registration("tre-x " IMEI_A " mno-a mno-a");
	EVP_PKEY_free(rogue_key);
	EVP_PKEY_free(card);
	X509_free(rogue);
	X509_free(forged);
}

/* ---- retries and restarts ---------------------------------------------------------------------------------------- */

Test(uicc_change, trigger_retried_with_a_new_nonce_across_a_restart)
{
	uint8_t id[16], first[16], second[16], third[16];
	start_uicc(A_SILENT, A_CONSENT, A_CONSENT, id);
	wait_count(&w.sho_a.triggers, 1, 15, "triggers mno-a received");
	last_trigger(id, first);
	wait_count(&w.sho_a.triggers, 2, 15, "triggers mno-a received");
	last_trigger(id, second);
	cr_assert_arr_neq(first, second, 16, "a new nonce every attempt");
	assert_state("triggering");
	/* killed while triggering: the restarted drf triggers again, with a nonce of its own */
	resumed_after_restart(&w.sho_a.trigger_mode, &w.sho_a.triggers, "triggered");
	last_trigger(id, third);
	cr_assert_arr_neq(third, second, 16);
	cr_assert_geq(count("SELECT count(DISTINCT nonce) FROM drf_trigger_nonce"), 3);
	/* every nonce issued for the change is one a registration may name */
	card_reg r = good_reg(id);
	memcpy(r.trigger_nonce, first, 16);
	answer a = send_reg(&r);
	assert_delivery(&a, id, r.card_nonce);
}

/* A device that never registers (its procedure failed, its owner never asked again) is triggered
 * again after uicc_wake_seconds with a new nonce, the change still triggered; so is one that took
 * B's package and never completed, which stays delivered. */
Test(uicc_change, a_change_left_waiting_on_the_device_is_triggered_again)
{
	uint8_t id[16], first[16], second[16], third[16];
	w.uicc_wake_seconds = 5;
	start_uicc(A_CONSENT, A_CONSENT, A_CONSENT, id);
	wait_state("triggered", 15);
	last_trigger(id, first);
	cr_assert_eq(w.sho_a.triggers, 1, "not again before the wait is over");
	wait_count(&w.sho_a.triggers, 2, 15, "triggers mno-a received");
	last_trigger(id, second);
	cr_assert_arr_neq(first, second, 16, "a new nonce");
	assert_state("triggered");
	card_reg r = good_reg(id);
	answer a = send_reg(&r);
	assert_delivery(&a, id, r.card_nonce);
	wait_state("delivered", 1);
	wait_count(&w.sho_a.triggers, 3, 15, "triggers mno-a received");
	last_trigger(id, third);
	assert_state("delivered");
	/* the device goes on with the nonce it was last woken with: the same package */
	memcpy(r.trigger_nonce, third, 16);
	a = send_reg(&r);
	assert_delivery(&a, id, r.card_nonce);
	cr_assert_eq(w.sho_b.orders, 1, "B not asked again");
}

Test(uicc_change, rolled_back_then_a_new_order_and_restarts_between_steps)
{
	uint8_t id[16];
	start_uicc(A_CONSENT, A_SILENT, A_SILENT, id);
	wait_state("triggered", 15);
	card_reg r = good_reg(id);
	/* B silent: the registration gets timeout, the change stays ordering and B is asked again */
	answer a = send_reg(&r);
	assert_refused(a, M2M_R_TIMEOUT);
	wait_count(&w.sho_b.orders, 2, 15, "orders mno-b received");
	assert_state("ordering");
	/* killed while ordering: the restarted drf orders again; B answers, the package is stored */
	resumed_after_restart(&w.sho_b.order_mode, &w.sho_b.orders, "delivered");
	int orders = w.sho_b.orders;
	a = send_reg(&r);
	assert_delivery(&a, id, r.card_nonce);
	cr_assert_eq(w.sho_b.orders, orders, "the package stored answers, B not asked");
	/* the attach with B failed: rolled back, open again; the same result again, the same ack */
	a = send_result(id, ICCID, A_IMSI, M2M_UICC_ROLLED_BACK);
	assert_acked(&a, id);
	wait_state("triggered", 1);
	a = send_result(id, ICCID, A_IMSI, M2M_UICC_ROLLED_BACK);
	assert_acked(&a, id);
	assert_registration("tre-x " IMEI_A " mno-a mno-a");
	/* a new registration with a new card nonce: a new order, a new package */
	m2m_random(r.card_nonce, 16);
	a = send_reg(&r);
	assert_delivery(&a, id, r.card_nonce);
	cr_assert_eq(w.sho_b.orders, orders + 1);
	assert_order(id, r.card_nonce);
	/* switched; A silent: killed while completed, the restarted drf releases again */
	a = send_result(id, ICCID, B_IMSI, M2M_UICC_SWITCHED);
	assert_acked(&a, id);
	wait_count(&w.sho_a.releases, 1, 15, "uiccReleases mno-a received");
	assert_state("completed");
	resumed_after_restart(&w.sho_a.release_mode, &w.sho_a.releases, "released");
	assert_registration("tre-x " IMEI_A " mno-b mno-b registered");
}
