/*
 * Alternative 3a between operators (docs/alt3a.md), with real processes (test_port_world.h):
 *
 *   old_operator   the real A against the test as B: every refusal of a portRequest, each leaving
 *                  A's state as it was; the accepted port, the same answer again, the replayed
 *                  nonce; A's package as B opens it; the OTA jobs with the right EF_IMSI; every
 *                  refusal of portComplete; the deletion with keys erased and the signed receipt
 *                  (checked by `openssl cms -verify`), the same receipt again.
 *   new_operator   the real B against the test as A: every refusal of a transfer (unknown port,
 *                  signed by another, encrypted to another, altered, for another operator, with
 *                  IMSIs B did not allocate), each leaving B's state as it was; the transfer taken,
 *                  the same again, a replay; AKA at B with the transferred K needs no
 *                  re-synchronisation; the first attach activates the record; a receipt not
 *                  signed by A is not taken, A's is, and the OTA keys' rotation is queued.
 *   both           the real A and B: the whole port up to the HSSs, with AKA at A before and at
 *                  B after (no re-synchronisation), portComplete and the receipt both keep.
 *   batch          one port of 2000 cards: request, transfer, 2000 pending records at B, the
 *                  status counts; the time it took and the package size are printed.
 */
#include "test_port_world.h"

#include "aka/aka.h"
#include "aka/ef_imsi.h"
#include "crypto/crypto.h"
#include "hss/owner.h"
#include "pki/pki.h"
#include "port/port_impl.h"
#include "schema.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ICCID1 "8900101000000000011"
#define ICCID2 "8900101000000000029"
#define ICCID3 "8900101000000000037"
#define IMSI1 "001010000000011"
#define IMSI2 "001010000000029"
#define IMSI3 "001010000000037"
#define FAKE_IMSI "001090000000001"  /* the new IMSIs the test asks for as B */

/* ---- small things ------------------------------------------------------------------------------ */

static void random_id(uint8_t id[16])
{
	m2m_random(id, 16);
}

static char *hex_of(const uint8_t *b, size_t n)
{
	static char out[2 * 64 + 1];
	m2m_hex(b, n, out);
	return out;
}

/* A NumericString of the module that holds exactly these digits. */
static void expect_digits(const ASN1_STRING *s, const char *digits)
{
	char text[32];
	cr_assert_eq(m2m_digits(s, text, sizeof text, 6, 20), 0);
	cr_assert_str_eq(text, digits);
}

static void expect_refused(const ta_answer *a, m2m_reason r, const char *what)
{
	cr_assert_eq(a->type, M2M_MSG_ERROR, "%s: not refused", what);
	cr_assert_eq(a->reason, r, "%s: %s (%s), not %s", what, m2m_reason_name(a->reason), a->text, m2m_reason_name(r));
}

/* A call that mno refuses with r, changing nothing of its state. */
static void refused_unchanged(const char *mno, m2m_node *from, int type, const void *body, m2m_reason r,
			      const char *what)
{
	char *before = state_of(mno);
	ta_answer a = call(from, mno, type, body);
	expect_refused(&a, r, what);
	char *after = state_of(mno);
	cr_assert_str_eq(after, before, "%s: the state of %s changed", what, mno);
	free(before);
	free(after);
}

/* ---- as B, to the real A --------------------------------------------------------------------- */

/* portRequest {id, auth, devices (iccids with new IMSIs of the test's), certificate}. */
static M2M_PORT_REQUEST *request_to_a(const uint8_t id[16], const uint8_t *auth, size_t len, const char *const *iccids,
				      int n, X509 *cert)
{
	M2M_PORT_REQUEST *q = M2M_PORT_REQUEST_new();
	uint8_t *der = NULL;
	size_t derlen = 0;
	ASN1_OCTET_STRING_set(q->port_id, id, 16);
	ASN1_OCTET_STRING_set(q->authorisation, auth, (int)len);
	for (int i = 0; i < n; i++) {
		char imsi[32];
		M2M_PORT_DEVICE *d = M2M_PORT_DEVICE_new();
		snprintf(imsi, sizeof imsi, "%.14s%d", FAKE_IMSI, i + 1);
		m2m_set_digits(&d->iccid, iccids[i]);
		m2m_set_digits(&d->new_imsi, imsi);
		sk_M2M_PORT_DEVICE_push(q->devices, d);
	}
	cr_assert_eq(m2m_pki_cert_der(cert ? cert : m2m_identity_cert(w.t_id), &der, &derlen), 0);
	ASN1_OCTET_STRING_set(q->certificate, der, (int)derlen);
	OPENSSL_free(der);
	return q;
}

/* ... sent from mno-t. */
static ta_answer ask_a(const uint8_t id[16], const uint8_t *auth, size_t len, const char *const *iccids, int n,
		       X509 *cert)
{
	M2M_PORT_REQUEST *q = request_to_a(id, auth, len, iccids, n, cert);
	ta_answer a = call(w.t, A, M2M_MSG_PORT_REQUEST, q);
	M2M_PORT_REQUEST_free(q);
	return a;
}

/* A portRequest that A must refuse with r, changing nothing (auth consumed). */
static void a_refuses(m2m_reason r, const char *what, uint8_t *auth, size_t len, const char *const *iccids, int n,
		      X509 *cert)
{
	uint8_t id[16];
	random_id(id);
	M2M_PORT_REQUEST *q = request_to_a(id, auth, len, iccids, n, cert);
	refused_unchanged(A, w.t, M2M_MSG_PORT_REQUEST, q, r, what);
	M2M_PORT_REQUEST_free(q);
	free(auth);
}

static void check_credentials(const M2M_PORT_CREDENTIALS *pc, const uint8_t id[16])
{
	const char *iccids[] = {ICCID1, ICCID2}, *imsis[] = {IMSI1, IMSI2};
	char s[32];
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(pc->port_id), id, 16), 0);
	cr_assert_eq(m2m_str(pc->from_sho, s, sizeof s), 0);
	cr_assert_str_eq(s, A);
	cr_assert_eq(m2m_str(pc->to_sho, s, sizeof s), 0);
	cr_assert_str_eq(s, FAKE);
	cr_assert_eq(sk_M2M_PORT_CREDENTIAL_num(pc->credentials), 2);
	for (int i = 0; i < 2; i++) {
		const M2M_PORT_CREDENTIAL *c = sk_M2M_PORT_CREDENTIAL_value(pc->credentials, i);
		uint8_t k[16], opc[16];
		card_keys(iccids[i], k, opc);
		expect_digits(c->iccid, iccids[i]);
		expect_digits(c->old_imsi, imsis[i]);
		cr_assert_eq(memcmp(ASN1_STRING_get0_data(c->k), k, 16), 0, "K as on the card");
		cr_assert_eq(memcmp(ASN1_STRING_get0_data(c->opc), opc, 16), 0, "OPc as on the card");
		cr_assert_geq(c->sqn, (uint64_t)PORT_SEQ_RESERVE << 5, "SQN beyond what A keeps for itself");
		int keysets = sk_M2M_OTA_KEYSET_num(c->keysets), rfm = 0;
		cr_assert_geq(keysets, 1);
		for (int j = 0; j < keysets; j++) {
			const M2M_OTA_KEYSET *ks = sk_M2M_OTA_KEYSET_value(c->keysets, j);
			rfm |= !memcmp(ASN1_STRING_get0_data(ks->tar), "\xB0\x00\x10", 3);
			cr_assert_geq(ks->counter, (uint64_t)PORT_COUNTER_RESERVE);
			cr_assert_eq(ASN1_STRING_length(ks->kic), 16);
		}
		cr_assert(rfm, "the USIM's RFM keyset is handed over");
	}
}

/* The compact script A queued for card iccid, in hex. */
static const char *rewrite_script(const char *iccid)
{
	return query_text(A, "SELECT lower(hex(script)) FROM ota_job WHERE iccid = '%s' AND purpose LIKE 'port:%%'", iccid);
}

static ta_answer complete_at_a(m2m_node *from, const uint8_t id[16], const char *iccid, const char *new_imsi)
{
	M2M_PORT_COMPLETE *q = M2M_PORT_COMPLETE_new();
	ASN1_OCTET_STRING_set(q->port_id, id, 16);
	m2m_set_digits(&q->iccid, iccid);
	m2m_set_digits(&q->new_imsi, new_imsi);
	ta_answer a = call(from, A, M2M_MSG_PORT_COMPLETE, q);
	M2M_PORT_COMPLETE_free(q);
	return a;
}

/* `openssl cms -verify` of a receipt against the agency's root: its exit status. */
static int openssl_verify(const ASN1_OCTET_STRING *receipt)
{
	write_file("receipt.der", ASN1_STRING_get0_data(receipt), (size_t)ASN1_STRING_length(receipt));
	return ta_run("cd %s && openssl cms -verify -inform DER -binary -in receipt.der -CAfile %s -out receipt.content"
		      " 2>/dev/null", w.dir, w.agency.root);
}

/* The receipt's content: DeletionReceipt {id, iccid, old imsi}. */
static void check_receipt_content(const uint8_t id[16], const char *iccid, const char *old_imsi)
{
	char path[160];
	size_t len = 0;
	path_of(path, sizeof path, "receipt.content");
	char *der = ta_read(path, &len);
	const unsigned char *p = (const unsigned char *)der;
	M2M_DELETION_RECEIPT *r = d2i_M2M_DELETION_RECEIPT(NULL, &p, (long)len);
	cr_assert_not_null(r);
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(r->port_id), id, 16), 0);
	expect_digits(r->iccid, iccid);
	expect_digits(r->old_imsi, old_imsi);
	M2M_DELETION_RECEIPT_free(r);
	free(der);
}

static int a_sent_transfer(void)
{
	return w.transfers > 0;
}

static uint8_t port_a[16];

static int a_transferred(void)
{
	return !strcmp(query_text(A, "SELECT state FROM port_port WHERE port_id = x'%s'", hex_of(port_a, 16)), "transferred");
}

/* Authorisations by the subscriber that A refuses all the same. */
typedef struct refusal {
	m2m_reason reason;
	const char *what;
	const char *to;                 /* the authorisation's new operator */
	const char *const *authorised;  /* its cards */
	int n_authorised;
	const char *const *asked;       /* the cards B asks for */
	int n_asked;
	long age;                       /* seconds since it was issued */
	int others_certificate;         /* B sends mno-x's certificate */
} refusal;

static const char *const both_cards[] = {ICCID1, ICCID2}, *const three_cards[] = {ICCID1, ICCID2, ICCID3},
		       *const unknown_cards[] = {ICCID1, "8900101999999999999"};

static const refusal refusals[] = {
	{M2M_R_NOT_AUTHORISED, "authorisation for another B", B, both_cards, 2, both_cards, 2, 0, 0},
	{M2M_R_NOT_AUTHORISED, "stale authorisation", FAKE, both_cards, 2, both_cards, 2, 7200, 0},
	{M2M_R_NOT_OWNER, "another's card", FAKE, three_cards, 3, three_cards, 3, 0, 0},
	{M2M_R_NOT_FOUND, "unknown ICCID", FAKE, unknown_cards, 2, unknown_cards, 2, 0, 0},
	{M2M_R_NOT_AUTHORISED, "card not authorised", FAKE, both_cards, 1, both_cards, 2, 0, 0},
	{M2M_R_NOT_AUTHORISED, "another's certificate", FAKE, both_cards, 2, both_cards, 2, 0, 1},
};

static void a_refuses_each(const refusal *r)
{
	size_t len = 0;
	uint8_t *auth = authorise(A, r->to, r->authorised, r->n_authorised, NULL, r->age, NULL, NULL, &len);
	a_refuses(r->reason, r->what, auth, len, r->asked, r->n_asked, r->others_certificate ? m2m_identity_cert(w.x_id) : NULL);
}

/* Signatures A refuses: none, another signer's, a forger's, an altered one, an unknown subscriber's. */
static void a_refuses_signatures(void)
{
	size_t len = 0;
	uint8_t *auth = (uint8_t *)strdup("not a CMS at all");
	a_refuses(M2M_R_BAD_BODY, "garbage", auth, strlen((char *)auth), both_cards, 2, NULL);
	/* a forger: another key, with a certificate of its own, or one that copies the subscriber's
	 * name and serial number (it claims to be that certificate; the signature says otherwise) */
	EVP_PKEY *forger = m2m_pki_keygen();
	X509 *own = other_certificate(forger, 2), *copied = other_certificate(forger, 1);
	auth = authorise(A, FAKE, both_cards, 2, NULL, 0, forger, own, &len);
	a_refuses(M2M_R_NOT_AUTHORISED, "another signer", auth, len, both_cards, 2, NULL);
	auth = authorise(A, FAKE, both_cards, 2, NULL, 0, forger, copied, &len);
	a_refuses(M2M_R_BAD_SIGNATURE, "a forged signature", auth, len, both_cards, 2, NULL);
	EVP_PKEY_free(forger);
	X509_free(own);
	X509_free(copied);
	auth = authorise(A, FAKE, both_cards, 2, NULL, 0, NULL, NULL, &len);
	auth[len - 1] ^= 0x01;
	a_refuses(M2M_R_BAD_SIGNATURE, "altered signature", auth, len, both_cards, 2, NULL);
	w.sub_name = "nobody";
	auth = authorise(A, FAKE, both_cards, 2, NULL, 0, NULL, NULL, &len);
	w.sub_name = NULL;
	a_refuses(M2M_R_NOT_AUTHORISED, "unregistered subscriber", auth, len, both_cards, 2, NULL);
}

static void a_refusals(void)
{
	size_t len = 0;
	a_refuses_signatures();
	for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
		a_refuses_each(&refusals[i]);
	/* a card under a contract lock */
	cr_assert_eq(admin(A, "lock " IMSI2 " --days 1"), 0, "%s", w.out);
	uint8_t *auth = authorise(A, FAKE, both_cards, 2, NULL, 0, NULL, NULL, &len);
	a_refuses(M2M_R_CONTRACT_LOCKED, "contract lock", auth, len, both_cards, 2, NULL);
	cr_assert_eq(admin(A, "unlock " IMSI2), 0, "%s", w.out);
}

static void a_completions(void)
{
	uint8_t other[16];
	char new1[16], new2[16];
	snprintf(new1, sizeof new1, "%.14s1", FAKE_IMSI);
	snprintf(new2, sizeof new2, "%.14s2", FAKE_IMSI);
	random_id(other);
	char *before = state_of(A);
	ta_answer a = complete_at_a(w.t, other, ICCID1, new1);
	expect_refused(&a, M2M_R_NOT_FOUND, "portComplete of an unknown port");
	a = complete_at_a(w.t, port_a, ICCID1, new2);
	expect_refused(&a, M2M_R_NOT_FOUND, "portComplete with another new IMSI");
	a = complete_at_a(w.v, port_a, ICCID1, new1);
	expect_refused(&a, M2M_R_NOT_AUTHORISED, "portComplete from another than B");
	char *after = state_of(A);
	cr_assert_str_eq(after, before, "a refused portComplete changed A's state");
	free(before);
	free(after);
	/* the card's record, keys and owner go; the receipt verifies */
	a = complete_at_a(w.t, port_a, ICCID1, new1);
	cr_assert_eq(a.type, M2M_MSG_PORT_COMPLETE_ACK, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	const M2M_PORT_COMPLETE_ACK *ack = a.body;
	cr_assert_eq(openssl_verify(ack->receipt), 0, "openssl cms -verify refused the receipt");
	check_receipt_content(port_a, ICCID1, IMSI1);
	cr_assert_str_eq(query_text(A, "SELECT state FROM hss_subscriber WHERE imsi = '" IMSI1 "'"), "deleted");
	cr_assert_eq(query_int(A, "SELECT count(*) FROM hss_subscriber WHERE imsi = '" IMSI1 "' AND (k_opc_sealed IS NOT NULL"
				  " OR card_keys_sealed IS NOT NULL)"), 0, "K and OPc erased");
	cr_assert_eq(query_int(A, "SELECT count(*) FROM ota_keyset WHERE iccid = '" ICCID1 "'"), 0, "OTA keys erased");
	cr_assert_eq(query_int(A, "SELECT count(*) FROM hss_card_owner WHERE iccid = '" ICCID1 "'"), 0);
	cr_assert_gt(query_int(A, "SELECT count(*) FROM hss_audit WHERE imsi = '" IMSI1 "' AND action = 'portOut'"
				  " AND detail LIKE '%%receipt%%'"), 0);
	/* the same again: the same receipt, nothing more done */
	char *done = state_of(A);
	ta_answer again = complete_at_a(w.t, port_a, ICCID1, new1);
	cr_assert_eq(again.type, M2M_MSG_PORT_COMPLETE_ACK);
	const M2M_PORT_COMPLETE_ACK *ack2 = again.body;
	cr_assert_eq(ASN1_STRING_cmp(ack->receipt, ack2->receipt), 0, "the same receipt");
	char *still = state_of(A);
	cr_assert_str_eq(still, done);
	free(done);
	free(still);
	ta_answer_free(&a);
	ta_answer_free(&again);
	/* the last card: the port is completed */
	a = complete_at_a(w.t, port_a, ICCID2, new2);
	cr_assert_eq(a.type, M2M_MSG_PORT_COMPLETE_ACK);
	ta_answer_free(&a);
	cr_assert_str_eq(query_text(A, "SELECT state FROM port_port WHERE port_id = x'%s'", hex_of(port_a, 16)), "completed");
}

/* What mno-admin refuses of the subscribers and ports, changing nothing. */
static void admin_refusals(void)
{
	char *before = state_of(A), path[160];
	path_of(path, sizeof path, A ".conf");
	cr_assert_eq(admin(A, "subscriber register other %s", path), 2, "not a certificate: %s", w.out);
	cr_assert_eq(admin(A, "subscriber register 'no spaces' %s/subscriber.pem", w.dir), 2, "%s", w.out);
	cr_assert_eq(admin(A, "subscriber assign " SUBSCRIBER " 8900101999999999999"), 1, "unknown card: %s", w.out);
	cr_assert_eq(admin(A, "subscriber assign nobody " ICCID3), 1, "unregistered subscriber: %s", w.out);
	cr_assert_eq(admin(A, "subscriber assign " SUBSCRIBER " " ICCID3 " 12345"), 2, "%s", w.out);
	cr_assert_eq(admin(A, "port status 00"), 2, "%s", w.out);
	cr_assert_eq(admin(A, "port status 000102030405060708090a0b0c0d0e0f"), 1, "%s", w.out);
	cr_assert_eq(admin(A, "port start --from " B " --authorisation %s", path), 1, "A has no port range: %s", w.out);
	cr_assert_eq(admin(A, "port start --from " B), 2, "%s", w.out);
	char *after = state_of(A);
	cr_assert_str_eq(after, before, "a refused command changed A's state");
	free(before);
	free(after);
	cr_assert_eq(admin(A, "subscriber show " SUBSCRIBER), 0, "%s", w.out);
	cr_assert(strstr(w.out, ICCID1 " imsi=" IMSI1 " active") && strstr(w.out, ICCID2) && !strstr(w.out, ICCID3),
		  "%s", w.out);
}

Test(port, old_operator, .init = world_setup, .fini = world_teardown, .timeout = 600)
{
	size_t len = 0;
	start_world(1, 0);
	personalise(ICCID1, IMSI1);
	personalise(ICCID2, IMSI2);
	personalise(ICCID3, IMSI3);
	register_subscriber();
	cr_assert_eq(admin(A, "subscriber assign " SUBSCRIBER " " ICCID1 " " ICCID2), 0, "%s", w.out);
	admin_refusals();
	a_refusals();
	/* accepted; the same request again: the same answer; its nonce again: replayed */
	uint8_t nonce[16], other[16];
	m2m_random(nonce, sizeof nonce);
	random_id(port_a);
	uint8_t *auth = authorise(A, FAKE, both_cards, 2, nonce, 0, NULL, NULL, &len);
	ta_answer a = ask_a(port_a, auth, len, both_cards, 2, NULL);
	cr_assert_eq(a.type, M2M_MSG_PORT_RESPONSE, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	cr_assert_eq(((M2M_PORT_RESPONSE *)a.body)->accepted, 2);
	ta_answer_free(&a);
	a = ask_a(port_a, auth, len, both_cards, 2, NULL);
	cr_assert_eq(a.type, M2M_MSG_PORT_RESPONSE, "the same request again");
	ta_answer_free(&a);
	/* (A's tick moves the port on meanwhile: only what a new port would add is compared) */
	random_id(other);
	a = ask_a(other, auth, len, both_cards, 2, NULL);
	expect_refused(&a, M2M_R_REPLAYED, "the nonce again");
	cr_assert_eq(query_int(A, "SELECT count(*) FROM port_port"), 1, "the nonce again made a port");
	cr_assert_eq(query_int(A, "SELECT count(*) FROM port_device"), 2);
	free(auth);
	/* A transfers to the test; the package holds the cards' keys */
	cr_assert(wait_for(a_sent_transfer, 30), "A sent no portTransfer: see %s/" A ".log", w.dir);
	M2M_PORT_CREDENTIALS *pc = open_transfer(w.transfer);
	check_credentials(pc, port_a);
	M2M_PORT_CREDENTIALS_free(pc);
	/* then rewrites EF_IMSI: 08 09 10 90 00 00 00 00 10 is 001090000000001 */
	cr_assert(wait_for(a_transferred, 30), "A's port is not transferred: see %s", w.dir);
	cr_assert_str_eq(rewrite_script(ICCID1), "00a4000c026f07" "00d6000009" "080910900000000010");
	cr_assert_str_eq(query_text(A, "SELECT group_concat(state) FROM port_device"), "rewriting,rewriting");
	char line[160];
	snprintf(line, sizeof line, "card: " ICCID1 " " IMSI1 " -> %.14s1 rewriting job=%lld\n", FAKE_IMSI,
		 query_int(A, "SELECT id FROM ota_job WHERE iccid = '" ICCID1 "'"));
	cr_assert_eq(admin(A, "port status %s", hex_of(port_a, 16)), 0, "%s", w.out);
	cr_assert(strstr(w.out, line) && strstr(w.out, "card: " ICCID2 " " IMSI2 " -> "), "no line %s in:\n%s", line, w.out);
	/* the old IMSI is still served meanwhile */
	cr_assert_str_eq(query_text(A, "SELECT state FROM hss_subscriber WHERE imsi = '" IMSI1 "'"), "active");
	a_completions();
}

/* ---- as A, to the real B ----------------------------------------------------------------------- */

#define OLD1 "001090000000011"
#define OLD2 "001090000000029"
#define SQN_SENT (((uint64_t)100 << 5) | 3)

static uint8_t port_b[16];
static uint8_t k_sent[2][16], opc_sent[2][16];

static int b_requested(void)
{
	return w.request != NULL;
}

static const char *b_state(void)
{
	return query_text(B, "SELECT state FROM port_port WHERE port_id = x'%s'", hex_of(port_b, 16));
}

static int b_accepted(void)
{
	return !strcmp(b_state(), "accepted");
}

static M2M_OTA_KEYSET *keyset(const uint8_t tar[3])
{
	M2M_OTA_KEYSET *k = M2M_OTA_KEYSET_new();
	uint8_t key[16];
	k->kvn = 1;
	k->kic_alg = 2;
	k->kid_alg = 2;
	m2m_random(key, sizeof key);
	ASN1_OCTET_STRING_set(k->kic, key, 16);
	m2m_random(key, sizeof key);
	ASN1_OCTET_STRING_set(k->kid, key, 16);
	m2m_random(key, sizeof key);
	ASN1_OCTET_STRING_set(k->dek, key, 16);
	ASN1_OCTET_STRING_set(k->tar, tar, 3);
	k->counter = 4100;
	return k;
}

/* The credentials the test hands B for the devices of its portRequest. */
static M2M_PORT_CREDENTIALS *credentials_for_b(const char *from, const char *to)
{
	M2M_PORT_CREDENTIALS *pc = M2M_PORT_CREDENTIALS_new();
	const char *old[] = {OLD1, OLD2};
	ASN1_OCTET_STRING_set(pc->port_id, port_b, 16);
	m2m_set_str(pc->from_sho, from);
	m2m_set_str(pc->to_sho, to);
	for (int i = 0; i < sk_M2M_PORT_DEVICE_num(w.request->devices); i++) {
		const M2M_PORT_DEVICE *d = sk_M2M_PORT_DEVICE_value(w.request->devices, i);
		M2M_PORT_CREDENTIAL *c = M2M_PORT_CREDENTIAL_new();
		ASN1_STRING_copy(c->iccid, d->iccid);
		ASN1_STRING_copy(c->new_imsi, d->new_imsi);
		m2m_set_digits(&c->old_imsi, old[i]);
		ASN1_OCTET_STRING_set(c->k, k_sent[i], 16);
		ASN1_OCTET_STRING_set(c->opc, opc_sent[i], 16);
		c->sqn = SQN_SENT;
		sk_M2M_OTA_KEYSET_push(c->keysets, keyset((const uint8_t *)"\xB0\x00\x10"));
		sk_M2M_OTA_KEYSET_push(c->keysets, keyset((const uint8_t *)"\x00\x00\x00"));
		sk_M2M_PORT_CREDENTIAL_push(pc->credentials, c);
	}
	return pc;
}

static X509 *b_certificate(void)
{
	X509 *b = m2m_pki_cert_from_der(ASN1_STRING_get0_data(w.request->certificate),
					(size_t)ASN1_STRING_length(w.request->certificate));
	char cn[64] = "";
	cr_assert_not_null(b);
	cr_assert_eq(m2m_pki_cert_cn(b, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, B, "B sends its own certificate");
	cr_assert_eq(m2m_trust_verify(w.trust, b, M2M_PROFILE_OPERATOR_FUNCTION), M2M_OK);
	return b;
}

/* A transfer that B must refuse with r, changing nothing (consumed). */
static void b_refuses(m2m_reason r, const char *what, M2M_PORT_TRANSFER *t)
{
	refused_unchanged(B, w.t, M2M_MSG_PORT_TRANSFER, t, r, what);
	M2M_PORT_TRANSFER_free(t);
}

static void b_refusals(X509 *b)
{
	M2M_PORT_CREDENTIALS *pc = credentials_for_b(FAKE, B);
	X509 *other = m2m_identity_cert(w.x_id);
	M2M_PORT_TRANSFER *t = make_transfer(pc, w.t_id, b);
	uint8_t unknown[16];
	random_id(unknown);
	ASN1_OCTET_STRING_set(t->port_id, unknown, 16);
	b_refuses(M2M_R_NOT_FOUND, "an unknown port", t);
	b_refuses(M2M_R_BAD_SIGNATURE, "signed by another than A", make_transfer(pc, w.x_id, b));
	b_refuses(M2M_R_NOT_AUTHORISED, "encrypted to another", make_transfer(pc, w.t_id, other));
	t = make_transfer(pc, w.t_id, b);
	t->package->data[t->package->length / 2] ^= 0x01;
	b_refuses(M2M_R_NOT_AUTHORISED, "altered", t);
	M2M_PORT_CREDENTIALS_free(pc);
	pc = credentials_for_b(FAKE, "mno-z");
	b_refuses(M2M_R_NOT_AUTHORISED, "for another operator", make_transfer(pc, w.t_id, b));
	M2M_PORT_CREDENTIALS_free(pc);
	pc = credentials_for_b(FAKE, B);
	m2m_set_digits(&sk_M2M_PORT_CREDENTIAL_value(pc->credentials, 0)->new_imsi, "001020000299999");
	b_refuses(M2M_R_NOT_AUTHORISED, "an IMSI B did not allocate", make_transfer(pc, w.t_id, b));
	M2M_PORT_CREDENTIALS_free(pc);
}

/* The visited network asks an HSS for one vector of imsi; the test's USIM u checks it. */
static m2m_aka_status authenticate(const char *hss, const char *imsi, const uint8_t k[16], const uint8_t opc[16],
				   m2m_sqn_usim *u)
{
	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_str(q->serving_network, VNO);
	q->num_vectors = 1;
	ta_answer a = call(w.v, hss, M2M_MSG_AUTH_INFO_REQUEST, q);
	M2M_AUTH_INFO_REQUEST_free(q);
	cr_assert_eq(a.type, M2M_MSG_AUTH_INFO_RESPONSE, "%s gave no vector for %s: %s %s", hss, imsi,
		     m2m_reason_name(a.reason), a.text);
	const M2M_AUTH_VECTOR *v = sk_M2M_AUTH_VECTOR_value((M2M_AUTH_INFO_RESPONSE *)a.body, 0);
	m2m_milenage m;
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_milenage_init(&m, k, opc), 0);
	m2m_aka_status s = m2m_aka_usim_authenticate(&m, u, ASN1_STRING_get0_data(v->rand), ASN1_STRING_get0_data(v->autn), &r);
	if (s == M2M_AKA_OK)
		cr_assert_eq(memcmp(r.res, ASN1_STRING_get0_data(v->xres), 8), 0);
	m2m_milenage_clear(&m);
	ta_answer_free(&a);
	return s;
}

static void attach(const char *hss, const char *imsi)
{
	M2M_UPDATE_LOCATION *q = M2M_UPDATE_LOCATION_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_digits(&q->imei, IMEI);
	m2m_set_str(q->serving_network, VNO);
	ta_answer a = call(w.v, hss, M2M_MSG_UPDATE_LOCATION, q);
	M2M_UPDATE_LOCATION_free(q);
	cr_assert_eq(a.type, M2M_MSG_UPDATE_LOCATION_ACK, "%s refused the location of %s: %s %s", hss, imsi,
		     m2m_reason_name(a.reason), a.text);
	ta_answer_free(&a);
}

static m2m_identity *receipt_signer;

/* The test as A answers B's portComplete with a receipt signed by receipt_signer. */
static void answer_complete(m2m_node *n, m2m_request *req)
{
	const M2M_PORT_COMPLETE *q = req->env.body;
	char iccid[24];
	cr_assert_eq(m2m_digits(q->iccid, iccid, sizeof iccid, 18, 20), 0);
	M2M_DELETION_RECEIPT *r = M2M_DELETION_RECEIPT_new();
	ASN1_STRING_copy(r->port_id, q->port_id);
	ASN1_STRING_copy(r->iccid, q->iccid);
	m2m_set_digits(&r->old_imsi, !strcmp(iccid, query_text(B, "SELECT min(iccid) FROM port_device")) ? OLD1 : OLD2);
	ASN1_GENERALIZEDTIME_set(r->deleted_at, time(NULL));
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_identity_sign_item(receipt_signer, ASN1_ITEM_rptr(M2M_DELETION_RECEIPT), r, so), 0);
	M2M_PORT_COMPLETE_ACK *a = M2M_PORT_COMPLETE_ACK_new();
	ASN1_STRING_copy(a->port_id, q->port_id);
	ASN1_STRING_copy(a->iccid, q->iccid);
	ASN1_STRING_copy(a->receipt, so->cms);
	m2m_reply(n, req, M2M_MSG_PORT_COMPLETE_ACK, a);
	M2M_PORT_COMPLETE_ACK_free(a);
	M2M_SIGNED_OBJECT_free(so);
	M2M_DELETION_RECEIPT_free(r);
}

static char first_new[16];

static int b_attached(void)
{
	return !strcmp(query_text(B, "SELECT state FROM port_device WHERE new_imsi = '%s'", first_new), "attached");
}

static int b_completed_first(void)
{
	return !strcmp(query_text(B, "SELECT state FROM port_device WHERE new_imsi = '%s'", first_new), "completed");
}

static void b_provisioned_checks(void)
{
	cr_assert_str_eq(b_state(), "provisioned");
	cr_assert_eq(query_int(B, "SELECT count(*) FROM hss_subscriber s JOIN port_device d ON d.new_imsi = s.imsi"
				  " WHERE s.state = 'pending' AND s.k_opc_sealed IS NOT NULL"), 2, "pending records with keys");
	cr_assert_eq(query_int(B, "SELECT count(*) FROM hss_first_attach"), 2);
	cr_assert_eq(query_int(B, "SELECT count(*) FROM ota_keyset"), 4, "the OTA keysets taken over");
	cr_assert_eq(query_int(B, "SELECT count(*) FROM ota_keyset WHERE counter = 4100"), 4, "with their counters");
	cr_assert_eq(query_int(B, "SELECT count(*) FROM port_device WHERE state = 'provisioned' AND old_imsi IN ('" OLD1
				  "', '" OLD2 "')"), 2);
}

/* The subscriber's authorisation (signed with key and cert; NULL: the subscriber's) written to
 * auth.der in the test's directory, its path into path. */
static void authorisation_file(const char *from, const char *to, const char *const *iccids, int n, EVP_PKEY *key,
			       X509 *cert, char path[160])
{
	size_t len = 0;
	uint8_t *auth = authorise(from, to, iccids, n, NULL, 0, key, cert, &len);
	write_file("auth.der", auth, len);
	free(auth);
	path_of(path, 160, "auth.der");
}

Test(port, new_operator, .init = world_setup, .fini = world_teardown, .timeout = 600)
{
	const char *both[] = {ICCID1, ICCID2};
	char path[160];
	start_world(0, 1);
	make_subscriber();
	authorisation_file(FAKE, B, both, 2, NULL, NULL, path);
	/* refused by B itself: the authorisation is for another old operator */
	cr_assert_eq(admin(B, "port start --from " A " --authorisation %s", path), 2, "%s", w.out);
	cr_assert_eq(admin(B, "port start --from " FAKE " --authorisation %s", path), 0, "%s", w.out);
	cr_assert_eq(m2m_unhex_var(strtok(w.out, "\n"), port_b, sizeof port_b), 16, "port start prints the id");
	cr_assert(wait_for(b_requested, 30), "B sent no portRequest: see %s/" B ".log", w.dir);
	cr_assert_eq(memcmp(ASN1_STRING_get0_data(w.request->port_id), port_b, 16), 0);
	cr_assert_eq(sk_M2M_PORT_DEVICE_num(w.request->devices), 2);
	cr_assert(wait_for(b_accepted, 30), "B's port is not accepted");
	X509 *b = b_certificate();
	for (int i = 0; i < 2; i++) {
		m2m_random(k_sent[i], 16);
		m2m_random(opc_sent[i], 16);
	}
	b_refusals(b);
	/* the transfer; the same again; another package for the same port: a replay */
	M2M_PORT_CREDENTIALS *pc = credentials_for_b(FAKE, B);
	M2M_PORT_TRANSFER *t = make_transfer(pc, w.t_id, b);
	ta_answer a = call(w.t, B, M2M_MSG_PORT_TRANSFER, t);
	cr_assert_eq(a.type, M2M_MSG_PORT_TRANSFER_ACK, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	cr_assert_eq(((M2M_PORT_TRANSFER_ACK *)a.body)->provisioned, 2);
	ta_answer_free(&a);
	b_provisioned_checks();
	a = call(w.t, B, M2M_MSG_PORT_TRANSFER, t);
	cr_assert_eq(a.type, M2M_MSG_PORT_TRANSFER_ACK, "the same transfer again");
	ta_answer_free(&a);
	M2M_PORT_TRANSFER_free(t);
	b_refuses(M2M_R_REPLAYED, "a replayed transfer", make_transfer(pc, w.t_id, b));
	M2M_PORT_CREDENTIALS_free(pc);
	/* AKA with the transferred K at B: a USIM that accepted A's last SQN takes B's first vector */
	const M2M_PORT_DEVICE *d = sk_M2M_PORT_DEVICE_value(w.request->devices, 0);
	cr_assert_eq(m2m_digits(d->new_imsi, first_new, sizeof first_new, 6, 15), 0);
	char first_iccid[24];
	snprintf(first_iccid, sizeof first_iccid, "%s", query_text(B, "SELECT iccid FROM port_device WHERE new_imsi = '%s'",
								     first_new));
	int index = strcmp(first_iccid, query_text(B, "SELECT min(iccid) FROM port_device")) ? 1 : 0;
	m2m_sqn_usim u;
	cr_assert_eq(m2m_sqn_usim_init(&u, NULL), 0);
	cr_assert_eq(m2m_sqn_usim_accept(&u, SQN_SENT), 0);
	cr_assert_eq(authenticate(B, first_new, k_sent[index], opc_sent[index], &u), M2M_AKA_OK,
		     "the first AKA at B needs no re-synchronisation");
	attach(B, first_new);
	cr_assert_str_eq(query_text(B, "SELECT state FROM hss_subscriber WHERE imsi = '%s'", first_new), "active");
	cr_assert(wait_for(b_attached, 20), "B did not see the first attach");
	/* a receipt signed by another than A is not taken; A's is, and the rotation is queued */
	receipt_signer = w.x_id;
	w.on_complete = answer_complete;
	pump(3000);
	cr_assert(b_attached(), "a receipt signed by another than A was taken");
	receipt_signer = w.t_id;
	cr_assert(wait_for(b_completed_first, 20), "B did not take A's receipt");
	cr_assert_eq(query_int(B, "SELECT count(*) FROM ota_job WHERE kind = 'rotate' AND iccid = '%s'", first_iccid), 1,
		     "the OTA keys' rotation is queued");
	cr_assert_eq(query_int(B, "SELECT length(receipt) > 0 FROM port_device WHERE new_imsi = '%s'", first_new), 1);
	cr_assert_eq(admin(B, "port status %s", hex_of(port_b, 16)), 0, "%s", w.out);
	cr_assert(strstr(w.out, "state:      provisioned") && strstr(w.out, "completed: 1") && strstr(w.out, "provisioned: 1"),
		  "%s", w.out);
	w.on_complete = NULL;
	X509_free(b);
}

/* ---- the real A and B ----------------------------------------------------------------------- */

static char port_hex[40];

static const char *b_port_state(void)
{
	return query_text(B, "SELECT state FROM port_port WHERE port_id = x'%s'", port_hex);
}

static int b_provisioned(void)
{
	return !strcmp(b_port_state(), "provisioned");
}

/* A takes B's portTransferAck a moment after B recorded its side */
static int a_rewriting(void)
{
	return !strcmp(query_text(A, "SELECT state FROM port_device"), "rewriting");
}

static int a_only_port_transferred(void)
{
	return !strcmp(query_text(A, "SELECT state FROM port_port"), "transferred");
}

static int b_completed(void)
{
	return !strcmp(b_port_state(), "completed");
}

static int b_refused(void)
{
	return !strcmp(b_port_state(), "refused");
}

/* port start at B with an authorisation signed with key and cert (NULL: the subscriber's). */
static void start_port_signed(const char *const *iccids, int n, EVP_PKEY *key, X509 *cert)
{
	char path[160];
	authorisation_file(A, B, iccids, n, key, cert, path);
	cr_assert_eq(admin(B, "port start --from " A " --authorisation %s", path), 0, "%s", w.out);
	snprintf(port_hex, sizeof port_hex, "%.32s", w.out);
}

static void start_port(const char *const *iccids, int n)
{
	start_port_signed(iccids, n, NULL, NULL);
}

/* A refuses a port whose authorisation the subscriber did not sign: B's port is refused, with
 * A's reason, and the IMSIs it allocated are deleted. */
static void refused_port(const char *const *cards)
{
	EVP_PKEY *forger = m2m_pki_keygen();
	X509 *forged = other_certificate(forger, 1);
	start_port_signed(cards, 1, forger, forged);
	EVP_PKEY_free(forger);
	X509_free(forged);
	cr_assert(wait_for(b_refused, 30), "B's port is %s", b_port_state());
	cr_assert_eq(admin(B, "port status %s", port_hex), 0, "%s", w.out);
	cr_assert(strstr(w.out, "state:      refused") && strstr(w.out, "reason:     badSignature") &&
		  strstr(w.out, "refused: 1") && strstr(w.out, "card: " ICCID1 " - -> " B_PLMN) &&
		  strstr(w.out, " refused\n"), "%s", w.out);
	cr_assert_eq(query_int(B, "SELECT count(*) FROM hss_subscriber WHERE state <> 'deleted'"), 0,
		     "the IMSI allocated for the refused port is deleted");
	cr_assert_eq(query_int(A, "SELECT count(*) FROM port_port"), 0, "A stored nothing");
}

Test(port, both, .init = world_setup, .fini = world_teardown, .timeout = 600)
{
	const char *cards[] = {ICCID1};
	uint8_t k[16], opc[16];
	char new_imsi[16];
	start_world(1, 1);
	personalise(ICCID1, IMSI1);
	register_subscriber();
	cr_assert_eq(admin(A, "subscriber assign " SUBSCRIBER " " ICCID1), 0, "%s", w.out);
	card_keys(ICCID1, k, opc);
	/* the device authenticates at A a few times before the port */
	m2m_sqn_usim u;
	cr_assert_eq(m2m_sqn_usim_init(&u, NULL), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(authenticate(A, IMSI1, k, opc, &u), M2M_AKA_OK);
	refused_port(cards);
	start_port(cards, 1);
	cr_assert(wait_for(b_provisioned, 60), "B's port is %s: see %s", b_port_state(), w.dir);
	snprintf(new_imsi, sizeof new_imsi, "%s", query_text(B, "SELECT new_imsi FROM port_device WHERE port_id = x'%s'",
								   port_hex));
	cr_assert_eq(strncmp(new_imsi, B_PLMN, 5), 0, "a new IMSI of B");
	/* A rewrites the card's IMSI with that one, and still serves the old IMSI: the device
	 * authenticates there once more before its IMSI changes */
	cr_assert(wait_for(a_rewriting, 60), "A's card is %s", query_text(A, "SELECT state FROM port_device"));
	uint8_t ef[M2M_EF_IMSI_LEN];
	char expected[200];
	cr_assert_eq(m2m_ef_imsi_encode(new_imsi, ef), 0);
	snprintf(expected, sizeof expected, "00a4000c026f0700d6000009%s", hex_of(ef, sizeof ef));
	cr_assert_str_eq(query_text(A, "SELECT lower(hex(script)) FROM ota_job"), expected);
	cr_assert_eq(authenticate(A, IMSI1, k, opc, &u), M2M_AKA_OK);
	/* both operators restart: what is left resumes from their databases */
	restart(A);
	restart(B);
	/* the card now presents the new IMSI: the first AKA at B, with the same K, needs no resync */
	cr_assert_eq(authenticate(B, new_imsi, k, opc, &u), M2M_AKA_OK, "the first AKA at B needs no re-synchronisation");
	attach(B, new_imsi);
	cr_assert(wait_for(b_completed, 30), "B's port is %s: see %s", b_port_state(), w.dir);
	/* A deleted its copy and signed for it; both keep the same receipt */
	cr_assert_str_eq(query_text(A, "SELECT state FROM hss_subscriber WHERE imsi = '" IMSI1 "'"), "deleted");
	cr_assert_eq(query_int(A, "SELECT count(*) FROM ota_keyset"), 0);
	cr_assert_str_eq(query_text(A, "SELECT state FROM port_port"), "completed");
	char receipt_a[8192];
	snprintf(receipt_a, sizeof receipt_a, "%s", query_text(A, "SELECT hex(receipt) FROM port_device"));
	cr_assert_str_eq(query_text(B, "SELECT hex(receipt) FROM port_device WHERE port_id = x'%s'", port_hex), receipt_a);
	cr_assert_str_eq(query_text(B, "SELECT state FROM hss_subscriber WHERE imsi = '%s'", new_imsi), "active");
	cr_assert_eq(query_int(B, "SELECT count(*) FROM ota_job WHERE kind = 'rotate'"), 1);
	cr_assert_eq(admin(B, "port status %s", port_hex), 0, "%s", w.out);
	cr_assert(strstr(w.out, "state:      completed") && strstr(w.out, "completed: 1"), "%s", w.out);
	char line[160];
	snprintf(line, sizeof line, "card: " ICCID1 " " IMSI1 " -> %s completed job=%lld\n", new_imsi,
		 query_int(B, "SELECT id FROM ota_job WHERE kind = 'rotate'"));
	cr_assert(strstr(w.out, line), "no line %s in:\n%s", line, w.out);
	cr_assert_eq(admin(A, "port list"), 0, "%s", w.out);
	cr_assert(strstr(w.out, port_hex) && strstr(w.out, "completed"), "%s", w.out);
}

/* ---- one port of 2000 cards ------------------------------------------------------------------ */

#define BATCH 2000

static hss_settings a_settings;

/* The cards personalised and assigned in A's database directly (what mno-admin does, without
 * 4000 processes). */
static void batch_cards(char (*iccids)[24])
{
	char path[160], err[256] = "";
	path_of(path, sizeof path, A ".db");
	sqlite3 *db = m2m_store_open(path, mno_schema(), err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	uint8_t key[32];
	char hex[80] = "";
	path_of(path, sizeof path, A ".storage");
	FILE *f = fopen(path, "r");
	cr_assert(f && fgets(hex, sizeof hex, f));
	fclose(f);
	hex[64] = 0;
	cr_assert_eq(m2m_unhex(hex, key, 32), 0);
	memset(&a_settings, 0, sizeof a_settings);
	snprintf(a_settings.plmn, sizeof a_settings.plmn, A_PLMN);
	a_settings.mnc_length = 2;
	memcpy(a_settings.storage_key, key, 32);
	char *list[BATCH];
	for (int i = 0; i < BATCH; i++) {
		char imsi[16], image[160], name[64];
		hss_order o = {.imsi = imsi};
		snprintf(iccids[i], 24, "89001020000%08d", i);
		snprintf(imsi, sizeof imsi, "0010100005%05d", i);
		snprintf(name, sizeof name, "b%d.card", i);
		path_of(image, sizeof image, name);
		cr_assert_eq(hss_personalise(db, &a_settings, iccids[i], &o, image, "admin", err, sizeof err), HSS_DONE, "%s",
			     err);
		list[i] = iccids[i];
	}
	path_of(path, sizeof path, "subscriber.pem");
	cr_assert_eq(hss_owner_register(db, SUBSCRIBER, path, "admin", err, sizeof err), HSS_DONE, "%s", err);
	cr_assert_eq(hss_owner_assign(db, SUBSCRIBER, list, BATCH, "admin", err, sizeof err), HSS_DONE, "%s", err);
	m2m_store_close(db);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(port, batch, .init = world_setup, .fini = world_teardown, .timeout = 600)
{
	static char iccids[BATCH][24];
	const char *names[BATCH];
	struct timespec t0;
	start_world(1, 1);
	make_subscriber();
	batch_cards(iccids);
	for (int i = 0; i < BATCH; i++)
		names[i] = iccids[i];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	start_port(names, BATCH);
	double started = seconds_since(&t0);
	cr_assert(wait_for(b_provisioned, 600), "B's port is %s: see %s", b_port_state(), w.dir);
	double provisioned = seconds_since(&t0);
	cr_assert_eq(query_int(B, "SELECT count(*) FROM hss_first_attach"), BATCH);
	cr_assert_eq(query_int(B, "SELECT count(*) FROM hss_subscriber WHERE state = 'pending' AND k_opc_sealed IS NOT NULL"),
		     BATCH);
	cr_assert_eq(admin(B, "port status %s", port_hex), 0, "%s", w.out);
	cr_assert(strstr(w.out, "devices:    2000") && strstr(w.out, "provisioned: 2000"), "%s", w.out);
	cr_assert_null(strstr(w.out, "card: "), "a port of 2000 cards is shown by its counts only");
	long long package = query_int(A, "SELECT length(package) FROM port_port");
	fprintf(stderr, "port of %d cards: port start %.1f s, provisioned at B after %.1f s; package %lld octets\n", BATCH,
		started, provisioned, package);
	cr_assert_gt(package, 0);
	cr_assert_lt(package, M2M_MAX_MESSAGE);
}

/* ---- a port's next step at once, its retries a round apart ---------------------------------- */

/* The real A and B with a retry of 30 s: each step that an answer, a request, the port's start
 * or the card's first attach makes goes on at the next tick, not 30 s later. */
Test(port, prompt, .init = world_setup, .fini = world_teardown, .timeout = 600)
{
	const char *cards[] = {ICCID1};
	uint8_t k[16], opc[16];
	char new_imsi[16];
	w.retry_seconds = 30;
	start_world(1, 1);
	personalise(ICCID1, IMSI1);
	register_subscriber();
	cr_assert_eq(admin(A, "subscriber assign " SUBSCRIBER " " ICCID1), 0, "%s", w.out);
	card_keys(ICCID1, k, opc);
	pump(2000);  /* both ticks had their first round: the next is 30 s away */
	start_port(cards, 1);
	cr_assert(wait_for(b_provisioned, 10), "B's port is %s 10 s after its start: see %s", b_port_state(), w.dir);
	cr_assert(wait_for(a_only_port_transferred, 10), "A's port is %s", query_text(A, "SELECT state FROM port_port"));
	snprintf(new_imsi, sizeof new_imsi, "%s", query_text(B, "SELECT new_imsi FROM port_device"));
	m2m_sqn_usim u;
	cr_assert_eq(m2m_sqn_usim_init(&u, NULL), 0);
	cr_assert_eq(authenticate(B, new_imsi, k, opc, &u), M2M_AKA_OK);
	attach(B, new_imsi);
	cr_assert(wait_for(b_completed, 10), "B's port is %s 10 s after the first attach: see %s", b_port_state(), w.dir);
	cr_assert_str_eq(query_text(A, "SELECT state FROM port_port"), "completed");
}

static int a_gave_up(void)
{
	return !strcmp(query_text(A, "SELECT state FROM port_device WHERE iccid = '" ICCID1 "'"), "rewriteFailed");
}

/* A rewrite whose OTA job fails (the device attached nowhere, the OTA server gives up after one
 * attempt) goes again with a new job rewrite_retries times, then the card stays rewriteFailed
 * with A's IMSI, still served. */
Test(port, rewrite_retry, .init = world_setup, .fini = world_teardown, .timeout = 600)
{
	const char *cards[] = {ICCID1};
	size_t len = 0;
	w.port_extra = "rewrite_retries = 2;";
	w.ota_group = "  ota = { max_attempts = 1; retry_first_s = 1; };\n";
	start_world(1, 0);
	personalise(ICCID1, IMSI1);
	register_subscriber();
	cr_assert_eq(admin(A, "subscriber assign " SUBSCRIBER " " ICCID1), 0, "%s", w.out);
	/* the device attached at mno-v, which answers A's SMS notAttached */
	uint8_t k[16], opc[16];
	m2m_sqn_usim u;
	card_keys(ICCID1, k, opc);
	cr_assert_eq(m2m_sqn_usim_init(&u, NULL), 0);
	cr_assert_eq(authenticate(A, IMSI1, k, opc, &u), M2M_AKA_OK);
	attach(A, IMSI1);
	random_id(port_a);
	uint8_t *auth = authorise(A, FAKE, cards, 1, NULL, 0, NULL, NULL, &len);
	ta_answer a = ask_a(port_a, auth, len, cards, 1, NULL);
	cr_assert_eq(a.type, M2M_MSG_PORT_RESPONSE, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	ta_answer_free(&a);
	free(auth);
	cr_assert(wait_for(a_gave_up, 60), "the card is %s: see %s/" A ".log",
		  query_text(A, "SELECT state FROM port_device"), w.dir);
	cr_assert_eq(query_int(A, "SELECT count(*) FROM ota_job WHERE iccid = '" ICCID1 "' AND purpose LIKE 'port:%%'"
				  " AND state = 'failed'"), 3, "the first job and two retries, each failed");
	cr_assert_eq(query_int(A, "SELECT count(DISTINCT script) FROM ota_job WHERE iccid = '" ICCID1 "'"), 1,
		     "each writes the same new IMSI");
	pump(3000);
	cr_assert_eq(query_int(A, "SELECT count(*) FROM ota_job WHERE iccid = '" ICCID1 "'"), 3, "no retry beyond 2");
	cr_assert_str_eq(query_text(A, "SELECT state FROM hss_subscriber WHERE imsi = '" IMSI1 "'"), "active",
			 "the card keeps A's IMSI, which A still serves");
	cr_assert_eq(admin(A, "port status %s", hex_of(port_a, 16)), 0, "%s", w.out);
	cr_assert(strstr(w.out, "rewriteFailed: 1") && strstr(w.out, " rewriteFailed job="), "%s", w.out);
}

static int b_failed(void)
{
	return !strcmp(b_port_state(), "failed");
}

/* A port A accepted (the test as A) but never transferred fails at B after
 * transfer_timeout_seconds: reason timeout, the new IMSIs' pending records deleted; a transfer
 * that comes after is refused wrongState, changing nothing. */
Test(port, transfer_timeout, .init = world_setup, .fini = world_teardown, .timeout = 600)
{
	const char *both[] = {ICCID1, ICCID2};
	char path[160];
	w.port_extra = "transfer_timeout_seconds = 3;";
	start_world(0, 1);
	make_subscriber();
	authorisation_file(FAKE, B, both, 2, NULL, NULL, path);
	cr_assert_eq(admin(B, "port start --from " FAKE " --authorisation %s", path), 0, "%s", w.out);
	snprintf(port_hex, sizeof port_hex, "%.32s", w.out);
	cr_assert_eq(m2m_unhex(port_hex, port_b, sizeof port_b), 0);
	cr_assert(wait_for(b_accepted, 30), "B's port is not accepted");
	cr_assert_eq(query_int(B, "SELECT count(*) FROM hss_subscriber WHERE state = 'pending'"), 2);
	pump(1500);
	cr_assert_str_eq(b_port_state(), "accepted", "B gave up before its timeout");
	cr_assert(wait_for(b_failed, 20), "B's port is %s: see %s/" B ".log", b_port_state(), w.dir);
	cr_assert_eq(admin(B, "port status %s", port_hex), 0, "%s", w.out);
	cr_assert(strstr(w.out, "reason:     timeout") && strstr(w.out, "refused: 2"), "%s", w.out);
	cr_assert_eq(query_int(B, "SELECT count(*) FROM hss_subscriber WHERE state <> 'deleted'"), 0,
		     "the pending records are deleted");
	cr_assert_gt(query_int(B, "SELECT count(*) FROM hss_audit WHERE action = 'portIn' AND detail LIKE '%%within 3 s%%'"),
		     1);
	/* A's transfer, late */
	X509 *b = b_certificate();
	for (int i = 0; i < 2; i++) {
		m2m_random(k_sent[i], 16);
		m2m_random(opc_sent[i], 16);
	}
	M2M_PORT_CREDENTIALS *pc = credentials_for_b(FAKE, B);
	b_refuses(M2M_R_WRONG_STATE, "a transfer after the timeout", make_transfer(pc, w.t_id, b));
	M2M_PORT_CREDENTIALS_free(pc);
	X509_free(b);
}
