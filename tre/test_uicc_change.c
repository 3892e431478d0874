/*
 * Alternative 3b in the TRE engine, without transport (docs/alt3b.md; docs/tre.md): the test
 * plays the DRF (its trigger, the delivery of B's package, the completion's ack), the M2ME (it
 * passes the card steps and reports the attach) and the UICC, a card scripted after the
 * behaviour docs/uicc.md gives its 3b commands (certificate by GET DATA, a challenge, a STORE
 * DATA chain whose last block is checked against the challenge, a shadow slot with SWITCH,
 * COMMIT and ROLLBACK, EF_ICCID and EF_IMSI). The package is opaque to the TRE; here it starts
 * with the card's challenge so that the card can refuse a stale one as the real card does.
 */
#include "test_fixture.h"

#include "aka/ef_imsi.h"
#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHO_B "mno-b"
#define IMSI_A "001010000000001"
#define IMSI_B "001020000000077"
#define ICCID "8944500102198304826"
#define PACKAGE_LEN 600  /* three blocks: 240, 240, 120 */

static fx_tre fx;
static fx_party drf, card_id;
static const uint8_t change[16] = {0x3b, 0xc4, 1}, other_change[16] = {0x3b, 0xc4, 2};
static uint8_t trigger_nonce[16];
static int restart;  /* a power cycle of the TRE before every answer, and the step asked again */

/* ---- the card ------------------------------------------------------------------------------- */

enum { SLOT_EMPTY, SLOT_LOADED, SLOT_SWITCHED };

static struct card {
	uint8_t *cert;
	size_t cert_len;
	uint8_t challenge[16];
	int challenge_set;
	int on_b, slot;
	uint8_t chain[8192];
	size_t chain_len;
	int next_block;
	unsigned verdict;  /* the last block's status word when the blob would be refused */
	int selected;      /* 1 EF_ICCID, 2 ADF.USIM, 3 EF_IMSI */
	char log[4096];    /* the commands received, in order */
} card;

static void logged(const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(card.log);
	va_start(ap, fmt);
	vsnprintf(card.log + n, sizeof card.log - n, fmt, ap);
	va_end(ap);
}

static void swapped_bcd(const char *digits, uint8_t out[10])
{
	memset(out, 0xFF, 10);
	for (size_t i = 0; digits[i]; i++)
		out[i / 2] = i % 2 ? (uint8_t)((out[i / 2] & 0x0F) | (digits[i] - '0') << 4)
				   : (uint8_t)((out[i / 2] & 0xF0) | (digits[i] - '0'));
}

static unsigned card_read(const uint8_t *a, uint8_t *out, size_t *n)
{
	if (card.selected == 1) {
		swapped_bcd(ICCID, out);
		*n = 10;
	} else if (card.selected == 3) {
		m2m_ef_imsi_encode(card.on_b ? IMSI_B : IMSI_A, out);
		*n = M2M_EF_IMSI_LEN;
	} else
		return 0x6986;
	cr_assert_eq(a[4], *n, "READ BINARY of the whole file");
	logged(card.selected == 1 ? "READ-ICCID " : "READ-IMSI ");
	return 0x9000;
}

static unsigned card_select(const uint8_t *a, size_t len)
{
	static const uint8_t iccid[] = {0x00, 0xA4, 0x08, 0x0C, 0x02, 0x2F, 0xE2};
	static const uint8_t usim[] = {0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02};
	static const uint8_t imsi[] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0x07};
	if (len == sizeof iccid && !memcmp(a, iccid, len))
		return card.selected = 1, logged("SELECT-ICCID "), 0x9000;
	if (len == sizeof usim && !memcmp(a, usim, len))
		return card.selected = 2, logged("SELECT-USIM "), 0x9000;
	if (len == sizeof imsi && !memcmp(a, imsi, len) && card.selected >= 2)
		return card.selected = 3, logged("SELECT-IMSI "), 0x9000;
	cr_assert_fail("a SELECT the TRE should not send");
	return 0x6A82;
}

static unsigned card_get_data(const uint8_t *a, uint8_t *out, size_t *n)
{
	size_t at = (size_t)(a[2] << 8 | a[3]);
	cr_assert_eq(a[4], 0, "GET DATA with Le 00");
	logged("GET-DATA-%04zX ", at);
	if (!card.cert)
		return 0x6A88;
	if (at >= card.cert_len)
		return 0x6B00;
	*n = card.cert_len - at < 256 ? card.cert_len - at : 256;
	memcpy(out, card.cert + at, *n);
	return 0x9000;
}

static unsigned card_store_data(const uint8_t *a, size_t len)
{
	logged("STORE-DATA-%d%s ", a[3], a[2] == 0x80 ? "-LAST" : "");
	cr_assert_eq(len, 5u + a[4], "Lc is the block's length");
	cr_assert_leq(a[4], 240);
	if (card.slot == SLOT_SWITCHED)
		return 0x6985;
	if (a[3] == 0)
		card.chain_len = 0, card.next_block = 0;
	else if (a[3] != card.next_block)
		return 0x6A86;
	memcpy(card.chain + card.chain_len, a + 5, a[4]);
	card.chain_len += a[4];
	card.next_block++;
	if (a[2] != 0x80)
		return 0x9000;
	if (card.verdict != 0x9000)
		return card.verdict;
	if (!card.challenge_set || memcmp(card.chain, card.challenge, 16))
		return 0x6984;
	card.challenge_set = 0;
	card.slot = SLOT_LOADED;
	return 0x9000;
}

/* SWITCH, COMMIT, ROLLBACK 00 on the shadow slot. */
static unsigned card_slot(uint8_t ins)
{
	if (ins == 0x38) {
		logged("SWITCH ");
		if (card.slot != SLOT_LOADED)
			return 0x6985;
		card.on_b = !card.on_b, card.slot = SLOT_SWITCHED;
		return 0x9114;
	}
	if (ins == 0x3A) {
		logged("COMMIT ");
		if (card.slot != SLOT_SWITCHED)
			return 0x6985;
		card.slot = SLOT_EMPTY;
		return 0x9000;
	}
	logged("ROLLBACK ");
	if (card.slot != SLOT_SWITCHED)
		return 0x6985;
	card.on_b = !card.on_b, card.slot = SLOT_LOADED;
	return 0x9114;
}

/* The card's answer to an APDU: only what the M2ME lets through may come. */
static unsigned card_run(const uint8_t *a, size_t len, uint8_t *out, size_t *n)
{
	*n = 0;
	cr_assert_geq(len, 4);
	if (a[0] == 0x00 && a[1] == 0xA4)
		return card_select(a, len);
	if (a[0] == 0x00 && a[1] == 0xB0 && len == 5)
		return card_read(a, out, n);
	cr_assert_eq(a[0], 0x80, "class 80 only, besides SELECT and READ BINARY");
	if (a[1] == 0xCA && len == 5)
		return card_get_data(a, out, n);
	if (a[1] == 0x84 && len == 5 && a[4] == 16) {
		logged("GET-CHALLENGE ");
		m2m_random(card.challenge, 16);
		card.challenge_set = 1;
		memcpy(out, card.challenge, 16);
		*n = 16;
		return 0x9000;
	}
	if (a[1] == 0xE2)
		return card_store_data(a, len);
	cr_assert(len == 4 && !a[2] && !a[3] && (a[1] == 0x38 || a[1] == 0x3A || a[1] == 0x3C), "a command the card's "
												   "3b does not have");
	return card_slot(a[1]);
}

/* ---- the TRE, driven as the M2ME drives it ------------------------------------------------ */

static void setup(void)
{
	fx_tre_open(&fx, M2M_TAMPER_REFUSED, 1);
	fx_boot(&fx);
	fx_party_make(&fx.agency, &drf, FX_DRF, M2M_PROFILE_REGISTRATION);
	fx_party_make(&fx.agency, &card_id, "uicc-t", M2M_PROFILE_UICC);
	fx_accept_crl(&fx, 1, NULL, 0);
	memset(&card, 0, sizeof card);
	int n = i2d_X509(card_id.cert, &card.cert);
	cr_assert_gt(n, 256, "a certificate of more than one GET DATA read");
	card.cert_len = (size_t)n;
	card.verdict = 0x9000;
	restart = 0;
}

static void teardown(void)
{
	OPENSSL_free(card.cert);
	fx_party_free(&drf);
	fx_party_free(&card_id);
	fx_tre_close(&fx);
}

TestSuite(uicc_change, .init = setup, .fini = teardown);

/* The DRF's trigger for id opens the change. */
static void triggered(const uint8_t id[16])
{
	M2M_TRE_ACTIVATE *a = M2M_TRE_ACTIVATE_new();
	m2m_random(trigger_nonce, sizeof trigger_nonce);
	ASN1_OCTET_STRING_set(a->change_id, id, 16);
	m2m_set_str(a->tre, FX_ENTITY);
	m2m_set_str(a->drf, FX_DRF);
	ASN1_OCTET_STRING_set(a->nonce, trigger_nonce, 16);
	ASN1_GENERALIZEDTIME_set(a->issued_at, time(NULL));
	M2M_TRE_TRIGGER *q = M2M_TRE_TRIGGER_new();
	m2m_set_digits(&q->imsi, IMSI_A);
	M2M_SIGNED_OBJECT_free(q->trigger);
	q->trigger = fx_sign(&fx.agency, &drf, ASN1_ITEM_rptr(M2M_TRE_ACTIVATE), a);
	tre_uicc_change c;
	char why[256];
	cr_assert_eq(tre_trigger_run(&fx.t, q, &c, why, sizeof why), M2M_OK, "%s", why);
	M2M_TRE_TRIGGER_free(q);
	M2M_TRE_ACTIVATE_free(a);
}

/* What a refusal must leave as it was: the procedure, its row, the open changes. */
static char *stored(void)
{
	sqlite3_stmt *st = m2m_store_prepare(
		fx.t.db,
		"SELECT (SELECT state || '/' || reason || '/' || hex(step) || '/' || hex(card) FROM tre_provision) || '|' ||"
		" ifnull((SELECT phase || '/' || probe || '/' || card_switched || '/' || iccid || hex(certificate) ||"
		" hex(card_nonce) || sho || imsi || hex(package) || '/' || block || '/' || result || attached ||"
		" attach_reason FROM tre_uicc_procedure), '') || '|' ||"
		" ifnull((SELECT group_concat(hex(change_id) || hex(nonce)) FROM tre_uicc_change), '')");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	char *s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

static m2m_reason provision(M2M_TRE_PROVISION *q, M2M_TRE_PROVISION_NEXT **next)
{
	char why[256] = "";
	*next = NULL;
	m2m_reason r = tre_provision_run(&fx.t, q, next, why, sizeof why);
	cr_assert(r == M2M_OK || why[0], "a refusal says why");
	M2M_TRE_PROVISION_free(q);
	return r;
}

static M2M_TRE_PROVISION_NEXT *provision_ok(M2M_TRE_PROVISION *q)
{
	M2M_TRE_PROVISION_NEXT *next;
	m2m_reason r = provision(q, &next);
	cr_assert_eq(r, M2M_OK, "treProvision refused: %s", m2m_reason_name(r));
	return next;
}

static M2M_TRE_PROVISION_NEXT *ask(void)
{
	return provision_ok(M2M_TRE_PROVISION_new());
}

static M2M_TRE_PROVISION *card_answer(const uint8_t *data, size_t n, unsigned sw)
{
	M2M_TRE_PROVISION *q = M2M_TRE_PROVISION_new();
	q->card = M2M_APDU_RESPONSE_new();
	ASN1_OCTET_STRING_set(q->card->data, data, (int)n);
	q->card->status_word = sw;
	return q;
}

static M2M_TRE_PROVISION *relayed(M2M_RELAY_RESPONSE *a)
{
	M2M_TRE_PROVISION *q = M2M_TRE_PROVISION_new();
	q->answer = a;
	return q;
}

static int state_of(const M2M_TRE_PROVISION_NEXT *n)
{
	return (int)ASN1_ENUMERATED_get(n->state);
}

static int same_next(const M2M_TRE_PROVISION_NEXT *a, const M2M_TRE_PROVISION_NEXT *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_M2M_TRE_PROVISION_NEXT(a, &da), lb = i2d_M2M_TRE_PROVISION_NEXT(b, &db);
	int same = la == lb && !memcmp(da, db, (size_t)la);
	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

static int is_store_data(const M2M_TRE_PROVISION_NEXT *n)
{
	return n->card && n->card->apdu->length > 1 && n->card->apdu->data[1] == 0xE2;
}

/* In restart mode: a power cycle, then the step asked again must come back as it was (a STORE
 * DATA chain from block 0); the M2ME goes on with what it got now. */
static M2M_TRE_PROVISION_NEXT *after_restart(M2M_TRE_PROVISION_NEXT *n)
{
	static int in_chain;  /* a chain restarted once goes on: else it would never end */
	if (!restart || (is_store_data(n) && in_chain))
		return n;
	in_chain = is_store_data(n);
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
	M2M_TRE_PROVISION_NEXT *again = ask();
	if (is_store_data(n)) {
		cr_assert(is_store_data(again), "the chain is asked again");
		cr_assert_eq(again->card->apdu->data[3], 0, "from its first block");
	} else
		cr_assert(same_next(n, again), "the step asked again after a restart is the step as it was");
	M2M_TRE_PROVISION_NEXT_free(n);
	return again;
}

/* The M2ME passes every card step to the card and its answer back, until a step is not one. */
static M2M_TRE_PROVISION_NEXT *play(M2M_TRE_PROVISION_NEXT *n)
{
	n = after_restart(n);
	while (n->card) {
		uint8_t out[300];
		size_t len = 0;
		unsigned sw = card_run(n->card->apdu->data, (size_t)n->card->apdu->length, out, &len);
		cr_assert_null(n->step, "a card step or a relayed step, not both");
		M2M_TRE_PROVISION_NEXT_free(n);
		n = after_restart(provision_ok(card_answer(out, len, sw)));
	}
	return n;
}

/* The signed body of a step to the DRF, verified against the agency's root and the TRE's name. */
static void *signed_step(M2M_TRE_PROVISION_NEXT *n, int state, int type, const ASN1_ITEM *item)
{
	M2M_SIGNED_OBJECT *so = fx_step_of(n, state, FX_DRF, type);
	void *v = fx_verify(&fx.agency, so, item, FX_ENTITY);
	M2M_SIGNED_OBJECT_free(so);
	return v;
}

static void assert_octets(const ASN1_OCTET_STRING *s, const uint8_t *want, size_t len, const char *what)
{
	cr_assert_eq((size_t)ASN1_STRING_length(s), len, "%s: length", what);
	cr_assert_arr_eq(ASN1_STRING_get0_data(s), want, len, "%s", what);
}

static void assert_digits(const ASN1_STRING *s, const char *want)
{
	char d[24];
	cr_assert_eq(m2m_digits(s, d, sizeof d, 6, 20), 0);
	cr_assert_str_eq(d, want);
}

/* The card read and the registration: its signature verifies and it carries the card's ICCID,
 * certificate and challenge with the trigger's nonce. Returns the card nonce in it. */
static void registered(M2M_TRE_PROVISION_NEXT *n, uint8_t card_nonce[16])
{
	card.log[0] = 0;
	n = play(n);
	char want[256] = "SELECT-ICCID READ-ICCID ";
	for (size_t at = 0; at < card.cert_len; at += 256)
		snprintf(want + strlen(want), sizeof want - strlen(want), "GET-DATA-%04zX ", at);
	strcat(want, "GET-CHALLENGE ");
	cr_assert_str_eq(card.log, want, "the card steps in order");
	M2M_UICC_CHANGE_REGISTRATION *r = signed_step(n, M2M_PROV_UICC_REGISTERING, M2M_MSG_UICC_CHANGE_REGISTER,
						      ASN1_ITEM_rptr(M2M_UICC_CHANGE_REGISTRATION));
	assert_octets(r->change_id, change, 16, "changeId");
	char tre_id[64];
	cr_assert_eq(m2m_str(r->tre, tre_id, sizeof tre_id), 0);
	cr_assert_str_eq(tre_id, FX_ENTITY);
	assert_digits(r->iccid, ICCID);
	assert_octets(r->card_certificate, card.cert, card.cert_len, "cardCertificate");
	assert_octets(r->card_nonce, card.challenge, 16, "cardNonce: the card's challenge");
	assert_octets(r->trigger_nonce, trigger_nonce, 16, "triggerNonce");
	memcpy(card_nonce, card.challenge, 16);
	M2M_UICC_CHANGE_REGISTRATION_free(r);
}

/* The DRF's uiccCredentialDelivery for id: a package that starts with nonce. */
static M2M_RELAY_RESPONSE *delivery(const uint8_t id[16], const uint8_t nonce[16])
{
	uint8_t package[PACKAGE_LEN];
	m2m_random(package, sizeof package);
	memcpy(package, nonce, 16);
	M2M_UICC_CREDENTIAL_PACKAGE *d = M2M_UICC_CREDENTIAL_PACKAGE_new();
	ASN1_OCTET_STRING_set(d->change_id, id, 16);
	m2m_set_str(d->sho, SHO_B);
	m2m_set_digits(&d->imsi, IMSI_B);
	ASN1_OCTET_STRING_set(d->package, package, sizeof package);
	M2M_RELAY_RESPONSE *a = fx_relayed(M2M_MSG_UICC_CREDENTIAL_DELIVERY, d);
	M2M_UICC_CREDENTIAL_PACKAGE_free(d);
	return a;
}

static M2M_RELAY_RESPONSE *complete_ack(const uint8_t id[16])
{
	M2M_CHANGE_ACK *k = M2M_CHANGE_ACK_new();
	ASN1_OCTET_STRING_set(k->change_id, id, 16);
	M2M_RELAY_RESPONSE *a = fx_relayed(M2M_MSG_UICC_CHANGE_COMPLETE_ACK, k);
	M2M_CHANGE_ACK_free(k);
	return a;
}

/* The M2ME's treAttached after following the card's REFRESH. */
static void attached(const char *imsi, int failed)
{
	M2M_TRE_ATTACHED *q = M2M_TRE_ATTACHED_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_ENUMERATED_set(q->result, failed ? M2M_ATTACH_FAILED : M2M_ATTACH_OK);
	if (failed) {
		q->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(q->reason, M2M_R_AUTHENTICATION_FAILED);
	}
	M2M_TRE_CREDENTIAL *c = NULL;
	char why[256];
	cr_assert_eq(tre_attached_run(&fx.t, q, &c, why, sizeof why), M2M_OK, "%s", why);
	M2M_TRE_CREDENTIAL_free(c);
	M2M_TRE_ATTACHED_free(q);
}

static void expect_state(M2M_TRE_PROVISION_NEXT *n, int state, m2m_reason reason)
{
	cr_assert_eq(state_of(n), state, "state %d, expected %d", state_of(n), state);
	if (state == M2M_PROV_FAILED) {
		cr_assert_not_null(n->reason);
		cr_assert_eq(ASN1_ENUMERATED_get(n->reason), reason, "reason %s, expected %s",
			     m2m_reason_name((m2m_reason)ASN1_ENUMERATED_get(n->reason)), m2m_reason_name(reason));
	}
	cr_assert_null(n->step);
	cr_assert_null(n->card);
	M2M_TRE_PROVISION_NEXT_free(n);
}

/* From the trigger to the card switched, the M2ME to attach: the loading's card steps checked. */
static void loaded_and_switched(void)
{
	uint8_t nonce[16];
	registered(ask(), nonce);
	card.log[0] = 0;
	M2M_TRE_PROVISION_NEXT *n = play(provision_ok(relayed(delivery(change, nonce))));
	cr_assert_str_eq(card.log, "STORE-DATA-0 STORE-DATA-1 STORE-DATA-2-LAST SWITCH ");
	cr_assert(card.on_b && card.slot == SLOT_SWITCHED);
	expect_state(n, M2M_PROV_UICC_SWITCHING, 0);
}

/* The completion's step: signed, for the change, the card and the IMSI attached with. */
static void completing(M2M_TRE_PROVISION_NEXT *n, const char *imsi, int result)
{
	M2M_UICC_CHANGE_RESULT *r = signed_step(n, M2M_PROV_UICC_COMPLETING, M2M_MSG_UICC_CHANGE_COMPLETE,
						ASN1_ITEM_rptr(M2M_UICC_CHANGE_RESULT));
	assert_octets(r->change_id, change, 16, "changeId");
	assert_digits(r->iccid, ICCID);
	assert_digits(r->imsi, imsi);
	cr_assert_eq(ASN1_ENUMERATED_get(r->result), result);
	M2M_UICC_CHANGE_RESULT_free(r);
}

static void switched_to_done(void)
{
	attached(IMSI_B, 0);
	completing(after_restart(ask()), IMSI_B, M2M_UICC_SWITCHED);
	card.log[0] = 0;
	M2M_TRE_PROVISION_NEXT *n = play(provision_ok(relayed(complete_ack(change))));
	cr_assert_str_eq(card.log, "COMMIT ");
	expect_state(n, M2M_PROV_DONE, 0);
	cr_assert(card.on_b && card.slot == SLOT_EMPTY, "the card holds B's credentials alone");
	tre_uicc_change c;
	cr_assert_eq(tre_uicc_change_open(&fx.t, &c), 1, "the change is closed");
	expect_state(ask(), M2M_PROV_DONE, 0);
}

/* ---- the whole sequence ----------------------------------------------------------------------- */

Test(uicc_change, the_card_is_registered_loaded_switched_and_committed)
{
	triggered(change);
	loaded_and_switched();
	expect_state(ask(), M2M_PROV_UICC_SWITCHING, 0);  /* asked again: still waiting for the attach */
	switched_to_done();
}

Test(uicc_change, every_step_survives_a_restart_and_is_asked_again)
{
	restart = 1;
	triggered(change);
	loaded_and_switched();
	switched_to_done();
}

Test(uicc_change, a_failed_attach_rolls_the_card_back_and_leaves_the_change_open)
{
	triggered(change);
	loaded_and_switched();
	attached(IMSI_B, 1);
	card.log[0] = 0;
	M2M_TRE_PROVISION_NEXT *n = play(ask());
	cr_assert_str_eq(card.log, "ROLLBACK ");
	cr_assert(!card.on_b && card.slot == SLOT_LOADED, "the card is back on A, B's credentials loaded");
	expect_state(n, M2M_PROV_UICC_SWITCHING, 0);
	attached(IMSI_A, 1);  /* not yet attached again: nothing changes */
	expect_state(ask(), M2M_PROV_UICC_SWITCHING, 0);
	attached(IMSI_A, 0);
	completing(ask(), IMSI_A, M2M_UICC_ROLLED_BACK);
	expect_state(provision_ok(relayed(complete_ack(change))), M2M_PROV_FAILED, M2M_R_AUTHENTICATION_FAILED);
	tre_uicc_change c;
	cr_assert_eq(tre_uicc_change_open(&fx.t, &c), 0, "the change stays open");
	/* the next provisioning registers again, with a new challenge, and this time it works */
	uint8_t first[16];
	memcpy(first, card.challenge, 16);
	uint8_t nonce[16];
	registered(ask(), nonce);
	cr_assert(memcmp(nonce, first, 16), "a new challenge");
	card.log[0] = 0;
	expect_state(play(provision_ok(relayed(delivery(change, nonce)))), M2M_PROV_UICC_SWITCHING, 0);
	cr_assert_str_eq(card.log, "STORE-DATA-0 STORE-DATA-1 STORE-DATA-2-LAST SWITCH ");
	switched_to_done();
}

Test(uicc_change, an_attach_with_the_old_imsi_after_switch_rolls_back)
{
	triggered(change);
	loaded_and_switched();
	attached(IMSI_A, 0);
	card.log[0] = 0;
	expect_state(play(ask()), M2M_PROV_UICC_SWITCHING, 0);
	cr_assert_str_eq(card.log, "ROLLBACK ");
	attached(IMSI_A, 0);
	completing(ask(), IMSI_A, M2M_UICC_ROLLED_BACK);
	expect_state(provision_ok(relayed(complete_ack(change))), M2M_PROV_FAILED, M2M_R_NOT_ATTACHED);
}

/* ---- repeated asks and lost answers ---------------------------------------------------------- */

Test(uicc_change, asked_again_the_store_data_chain_restarts_at_block_0)
{
	triggered(change);
	uint8_t nonce[16];
	registered(ask(), nonce);
	M2M_TRE_PROVISION_NEXT *n = provision_ok(relayed(delivery(change, nonce)));
	uint8_t out[8];
	size_t len;
	cr_assert_eq(card_run(n->card->apdu->data, (size_t)n->card->apdu->length, out, &len), 0x9000);
	M2M_TRE_PROVISION_NEXT_free(n);
	n = provision_ok(card_answer(NULL, 0, 0x9000));
	cr_assert_eq(state_of(n), M2M_PROV_UICC_LOADING);
	cr_assert_eq(n->card->apdu->data[3], 1, "block 1 next");
	M2M_TRE_PROVISION_NEXT_free(n);
	card.log[0] = 0;
	expect_state(play(ask()), M2M_PROV_UICC_SWITCHING, 0);  /* the answer to block 1 was lost */
	cr_assert_str_eq(card.log, "STORE-DATA-0 STORE-DATA-1 STORE-DATA-2-LAST SWITCH ");
}

/* Runs the card step of n on the card, and loses its answer. */
static void lost(M2M_TRE_PROVISION_NEXT *n)
{
	uint8_t out[300];
	size_t len;
	cr_assert_not_null(n->card);
	card_run(n->card->apdu->data, (size_t)n->card->apdu->length, out, &len);
	M2M_TRE_PROVISION_NEXT_free(n);
	fx_tre_reopen(&fx, fx.storage_key);
	fx_boot(&fx);
}

/* Plays the card steps up to the one whose first APDU byte 1 is ins, and returns it. */
static M2M_TRE_PROVISION_NEXT *play_until(M2M_TRE_PROVISION_NEXT *n, uint8_t ins)
{
	while (n->card && n->card->apdu->data[1] != ins) {
		uint8_t out[300];
		size_t len;
		unsigned sw = card_run(n->card->apdu->data, (size_t)n->card->apdu->length, out, &len);
		M2M_TRE_PROVISION_NEXT_free(n);
		n = provision_ok(card_answer(out, len, sw));
	}
	cr_assert_not_null(n->card, "the card step %02X comes", ins);
	return n;
}

Test(uicc_change, a_lost_switch_answer_is_resolved_by_reading_ef_imsi)
{
	triggered(change);
	uint8_t nonce[16];
	registered(ask(), nonce);
	lost(play_until(provision_ok(relayed(delivery(change, nonce))), 0x38));
	card.log[0] = 0;
	expect_state(play(ask()), M2M_PROV_UICC_SWITCHING, 0);
	cr_assert_str_eq(card.log, "SWITCH SELECT-USIM SELECT-IMSI READ-IMSI ", "SWITCH again, 6985, then EF_IMSI");
	switched_to_done();
}

Test(uicc_change, a_lost_commit_answer_is_resolved_by_reading_ef_imsi)
{
	triggered(change);
	loaded_and_switched();
	attached(IMSI_B, 0);
	completing(ask(), IMSI_B, M2M_UICC_SWITCHED);
	lost(provision_ok(relayed(complete_ack(change))));
	card.log[0] = 0;
	expect_state(play(ask()), M2M_PROV_DONE, 0);
	cr_assert_str_eq(card.log, "COMMIT SELECT-USIM SELECT-IMSI READ-IMSI ");
	tre_uicc_change c;
	cr_assert_eq(tre_uicc_change_open(&fx.t, &c), 1);
}

Test(uicc_change, a_failure_after_switch_resumes_where_the_card_is)
{
	triggered(change);
	loaded_and_switched();
	/* a card answer while waiting for the attach: failed, but the card is on B */
	expect_state(provision_ok(card_answer(NULL, 0, 0x9000)), M2M_PROV_FAILED, M2M_R_UNEXPECTED_MESSAGE);
	card.log[0] = 0;
	expect_state(play(ask()), M2M_PROV_UICC_SWITCHING, 0);
	cr_assert_str_eq(card.log, "SELECT-USIM SELECT-IMSI READ-IMSI ", "the card is read, not loaded again");
	switched_to_done();
}

/* ---- refusals and failures ---------------------------------------------------------------------- */

static void refused(M2M_TRE_PROVISION *q, m2m_reason want, const char *what)
{
	char *before = stored();
	M2M_TRE_PROVISION_NEXT *n;
	m2m_reason r = provision(q, &n);
	cr_assert_eq(r, want, "%s: %s, expected %s", what, m2m_reason_name(r), m2m_reason_name(want));
	char *after = stored();
	cr_assert_str_eq(after, before, "%s changed the state", what);
	free(before);
	free(after);
}

Test(uicc_change, a_delivery_for_another_change_is_refused)
{
	triggered(change);
	uint8_t nonce[16];
	registered(ask(), nonce);
	refused(relayed(delivery(other_change, nonce)), M2M_R_BAD_BODY, "another changeId");
	M2M_RELAY_RESPONSE *garbage = M2M_RELAY_RESPONSE_new();
	garbage->message_type = M2M_MSG_UICC_CREDENTIAL_DELIVERY;
	ASN1_OCTET_STRING_set(garbage->body, (const unsigned char *)"\x30\x00", 2);
	refused(relayed(garbage), M2M_R_BAD_BODY, "an empty delivery");
	M2M_TRE_PROVISION *both = relayed(delivery(change, nonce));
	both->card = M2M_APDU_RESPONSE_new();
	refused(both, M2M_R_BAD_BODY, "a card answer with the relayed one");
	expect_state(play(provision_ok(relayed(delivery(change, nonce)))), M2M_PROV_UICC_SWITCHING, 0);
}

Test(uicc_change, the_card_s_refusals_of_the_package_fail_with_a_reason)
{
	static const struct {
		unsigned sw;
		m2m_reason reason;
	} cases[] = {{0x6988, M2M_R_WRONG_RECIPIENT}, {0x6982, M2M_R_BAD_SIGNATURE}, {0x6A88, M2M_R_WRONG_RECIPIENT},
		     {0x6A80, M2M_R_MALFORMED},	      {0x6F00, M2M_R_CARD_ERROR}};
	triggered(change);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t nonce[16];
		card.verdict = cases[i].sw;
		registered(ask(), nonce);
		expect_state(play(provision_ok(relayed(delivery(change, nonce)))), M2M_PROV_FAILED, cases[i].reason);
		cr_assert(!card.on_b && card.slot == SLOT_EMPTY, "%04X: nothing loaded", cases[i].sw);
	}
	/* a package for a challenge the card no longer holds: 6984 (the real check of the script) */
	card.verdict = 0x9000;
	uint8_t nonce[16], stale[16];
	registered(ask(), stale);
	card.challenge[0] ^= 1;  /* another GET CHALLENGE meanwhile */
	expect_state(play(provision_ok(relayed(delivery(change, stale)))), M2M_PROV_FAILED, M2M_R_REPLAYED);
	tre_uicc_change c;
	cr_assert_eq(tre_uicc_change_open(&fx.t, &c), 0, "the change stays open");
	registered(ask(), nonce);
	expect_state(play(provision_ok(relayed(delivery(change, nonce)))), M2M_PROV_UICC_SWITCHING, 0);
}

Test(uicc_change, a_card_without_certificate_or_an_unexpected_status_word_fails)
{
	triggered(change);
	OPENSSL_free(card.cert);
	card.cert = NULL;
	expect_state(play(ask()), M2M_PROV_FAILED, M2M_R_NOT_FOUND);
	M2M_TRE_PROVISION_NEXT *n = ask();
	cr_assert_eq(state_of(n), M2M_PROV_UICC_REGISTERING, "registering again");
	M2M_TRE_PROVISION_NEXT_free(n);
	refused(card_answer(NULL, 0, 0x19000), M2M_R_BAD_BODY, "a status word of three bytes");
	expect_state(provision_ok(card_answer(NULL, 0, 0x6A82)), M2M_PROV_FAILED, M2M_R_CARD_ERROR);
}

Test(uicc_change, the_drf_s_refusal_or_an_answer_of_another_type_fails)
{
	triggered(change);
	uint8_t nonce[16];
	registered(ask(), nonce);
	expect_state(provision_ok(relayed(fx_relayed_refusal(M2M_R_NOT_AUTHORISED))), M2M_PROV_FAILED,
		     M2M_R_NOT_AUTHORISED);
	registered(ask(), nonce);
	expect_state(provision_ok(relayed(complete_ack(change))), M2M_PROV_FAILED, M2M_R_UNEXPECTED_MESSAGE);
	registered(ask(), nonce);
	expect_state(provision_ok(card_answer(NULL, 0, 0x9000)), M2M_PROV_FAILED, M2M_R_UNEXPECTED_MESSAGE);
	tre_uicc_change c;
	cr_assert_eq(tre_uicc_change_open(&fx.t, &c), 0, "the change stays open");
}

Test(uicc_change, a_complete_ack_for_another_change_is_refused)
{
	triggered(change);
	loaded_and_switched();
	attached(IMSI_B, 0);
	completing(ask(), IMSI_B, M2M_UICC_SWITCHED);
	refused(relayed(complete_ack(other_change)), M2M_R_BAD_BODY, "another changeId");
	M2M_TRE_PROVISION_NEXT *n = play(provision_ok(relayed(complete_ack(change))));
	expect_state(n, M2M_PROV_DONE, 0);
}

Test(uicc_change, without_a_trigger_provisioning_is_1a_s)
{
	M2M_TRE_PROVISION_NEXT *n;
	m2m_reason r = provision(M2M_TRE_PROVISION_new(), &n);
	/* no PCID, no MCIM: 1a's start refuses, and 3b did not start */
	cr_assert_eq(r, M2M_R_WRONG_STATE, "%s", m2m_reason_name(r));
	cr_assert_eq(tre_count(fx.t.db, "SELECT COUNT(*) FROM tre_uicc_procedure"), 0);
	refused(card_answer(NULL, 0, 0x9000), M2M_R_UNEXPECTED_MESSAGE, "a card answer outside 3b");
}
