/*
 * SHO B's side of Alternative 3b (uicc_order.c, uicc_package.c; docs/alt3b.md, contract step 9)
 * in the world of test_dpf_world.h: the mno (here playing SHO B) takes uiccCredentialOrder from
 * the test's DRF, asks the PVA (the real one at certauth, or the test's own) about the TRE, and
 * answers uiccCredentialPackage with a blob only the card opens.
 *
 * The card is the test's: a P-256 key certified with profile uicc under the agency's root. The
 * agency certifies cards at their maker's enrolment, which this world does not configure, so the
 * test certifies the card with the agency's issuing CA key, read from the agency's sealed store
 * with the storage key the test gave it (as the world reads the TRE's key: a lab's bench). One
 * test lends that identity to the real card engine (uicc_core, uicc/card_fixture.h), which must
 * take B's blob, switch to it and answer B's AuC.
 */
#include "test_dpf_world.h"

#include "card_fixture.h"

#include "aka/aka.h"
#include "aka/ef_imsi.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "wire/read.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ICCID "8900101000000000057"
#define CARD "uicc-5"
/* The card of the engine test: A's, with its first OTA keyset on the RFM TAR B00010. */
#define CARD_IMAGE_3B                                                                                      \
	IMAGE_WITH(ICCID, "001010123456789", "2",                                                          \
		   "  ota_tar = \"b00010\"; ota_kvn = 1; ota_kic = \"4a1c2e7f6b3d5a9e0c8f1b2d3e4f5061\";\n" \
		   "  ota_kid = \"7e3a9c1b5d2f4e6a8b0c1d2e3f405162\"; ota_dek = \"c0ffee112233445566778899aabbccdd\";\n")
#define SELECT_USIM "00 A4 04 0C 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00"
#define READ_IMSI "00 B0 87 00 09"  /* READ BINARY by SFI 07 */
#define BLOCK 240                   /* STORE DATA block size, as the TRE sends them */

TestSuite(uicc_b, .init = world_setup, .fini = world_teardown, .timeout = 240);

/* ---- the card ---------------------------------------------------------------------------------- */

typedef struct card {
	EVP_PKEY *key;
	X509 *cert;
} card;

/* The agency's issuing CA, certificate and key, from its store (certauth/authority.c). */
static void agency_issuing(X509 **cert, EVP_PKEY **key)
{
	uint8_t storage_key[32], der[512];
	ta_read_hex(w.dir, "certauth.storage", storage_key, sizeof storage_key);
	sqlite3 *db = open_readonly("certauth.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT certificate, key_sealed FROM ca_hierarchy WHERE role = 'issuing'", -1,
					&st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	*cert = m2m_pki_cert_from_der(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	int n = sqlite3_column_bytes(st, 1);
	cr_assert(n > M2M_SEAL_OVERHEAD && n - M2M_SEAL_OVERHEAD <= (int)sizeof der);
	cr_assert_eq(m2m_unseal(storage_key, "certauth:issuing", 16, sqlite3_column_blob(st, 1), (size_t)n, der), 0);
	*key = m2m_pki_key_from_der(der, (size_t)n - M2M_SEAL_OVERHEAD);
	m2m_wipe(der, sizeof der);
	sqlite3_finalize(st);
	sqlite3_close(db);
	cr_assert(*cert && *key);
}

/* A card certified with profile uicc by the agency, or (foreign) under a root of its own. */
static void make_card(card *c, int foreign)
{
	X509 *issuer = NULL;
	EVP_PKEY *issuer_key = NULL;
	time_t now = time(NULL);
	if (foreign) {
		issuer_key = m2m_pki_keygen();
		m2m_cert_spec root = {M2M_CERT_ROOT, "another root", issuer_key, 1, now - 60, now + 86400, -1, NULL};
		issuer = m2m_pki_issue(&root, NULL, issuer_key);
	} else
		agency_issuing(&issuer, &issuer_key);
	uint64_t serial;
	m2m_random(&serial, sizeof serial);
	c->key = m2m_pki_keygen();
	m2m_cert_spec spec = {M2M_CERT_END_ENTITY, CARD, c->key, (serial >> 2) | 1, now - 60, now + 86400,
			      M2M_PROFILE_UICC, NULL};
	c->cert = m2m_pki_issue(&spec, issuer, issuer_key);
	cr_assert_not_null(c->cert);
	X509_free(issuer);
	EVP_PKEY_free(issuer_key);
}

static void card_free(card *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
}

/* ---- the order --------------------------------------------------------------------------------- */

typedef struct order_spec {
	uint8_t change_id[16];
	uint8_t nonce[16];
	X509 *card_cert;
	const char *tre;         /* NULL: TRE */
	const char *ticket_tre;  /* NULL: the order's */
	const char *ticket_sho;  /* NULL: MNO */
	const uint8_t *ticket_change;  /* NULL: the order's */
	long expires_in;         /* 0: 600 */
	signer_kind signer;
	int short_nonce;
} order_spec;

static void new_spec(order_spec *s, X509 *card_cert)
{
	memset(s, 0, sizeof *s);
	m2m_random(s->change_id, sizeof s->change_id);
	m2m_random(s->nonce, sizeof s->nonce);
	s->card_cert = card_cert;
	s->signer = BY_DRF;
}

static M2M_UICC_CREDENTIAL_ORDER *order_body(const order_spec *s)
{
	M2M_UICC_CREDENTIAL_ORDER *q = M2M_UICC_CREDENTIAL_ORDER_new();
	const char *tre = s->tre ? s->tre : TRE;
	uint8_t *der = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_pki_cert_der(s->card_cert, &der, &len), 0);
	ASN1_OCTET_STRING_set(q->change_id, s->change_id, 16);
	m2m_set_str(q->tre, tre);
	m2m_set_digits(&q->iccid, ICCID);
	ASN1_OCTET_STRING_set(q->card_certificate, der, (int)len);
	ASN1_OCTET_STRING_set(q->card_nonce, s->nonce, s->short_nonce ? 8 : 16);
	ASN1_OCTET_STRING_free(q->ticket);
	q->ticket = ticket_for(s->ticket_tre ? s->ticket_tre : tre, s->ticket_sho ? s->ticket_sho : MNO, NULL,
			       s->ticket_change ? s->ticket_change : s->change_id, s->expires_in ? s->expires_in : 600,
			       s->signer);
	OPENSSL_free(der);
	return q;
}

static ta_answer *waiting;

static int answered(void)
{
	return waiting->done;
}

/* The order sent from node `from`, every node of the world served until its answer. */
static ta_answer send_order(m2m_node *from, const order_spec *s)
{
	M2M_UICC_CREDENTIAL_ORDER *q = order_body(s);
	ta_answer a;
	memset(&a, 0, sizeof a);
	ta_call_start(from, MNO, M2M_MSG_UICC_CREDENTIAL_ORDER, q, &a);
	waiting = &a;
	cr_assert(wait_for(answered, 60), "no answer to the order: see %s/mno-a.log", w.dir);
	M2M_UICC_CREDENTIAL_ORDER_free(q);
	return a;
}

/* ---- what B keeps ---------------------------------------------------------------------------- */

static char *text_of(const char *sql)
{
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	const char *v = (const char *)sqlite3_column_text(st, 0);
	char *copy = strdup(v ? v : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return copy;
}

/* Everything the DPF, the HSS and the OTA server keep: equal before and after a refusal. */
static char *b_state(void)
{
	char *base = dpf_state();
	char *more = text_of(
		"SELECT coalesce((SELECT group_concat(hex(change_id) || ':' || tre || ':' || iccid || ':' || coalesce(imsi, '-'),"
		" ';') FROM dpf_uicc_order), '-') || '|' || coalesce((SELECT group_concat(id || ':' || state || ':'"
		" || hex(coalesce(package, '')), ';') FROM dpf_uicc_package), '-')"
		" || '|' || (SELECT count(*) FROM ota_keyset) || '|' || (SELECT count(*) FROM hss_first_attach)");
	size_t len = strlen(base) + strlen(more) + 2;
	char *all = malloc(len);
	snprintf(all, len, "%s|%s", base, more);
	free(base);
	free(more);
	return all;
}

/* An order the DPF must refuse with reason, nothing it keeps changed. */
static void expect_refused(m2m_node *from, const order_spec *s, m2m_reason reason, const char *text)
{
	char *before = b_state();
	ta_answer a = send_order(from, s);
	cr_assert_eq(a.type, M2M_MSG_ERROR, "not refused: %d", a.type);
	cr_assert_eq(a.reason, reason, "reason %s (%s), not %s", m2m_reason_name(a.reason), a.text, m2m_reason_name(reason));
	cr_assert(strstr(a.text, text), "%s", a.text);
	char *after = b_state();
	cr_assert_str_eq(after, before, "a refusal changed what the operator keeps");
	free(before);
	free(after);
	ta_answer_free(&a);
}

/* Whether the bytes of secret are anywhere in a file (the database, its WAL, the log). */
static int file_holds(const char *name, const uint8_t *secret, size_t len)
{
	char path[128], hex[2 * 32 + 1];
	size_t size = 0;
	path_of(path, sizeof path, name);
	char *data = ta_read(path, &size);
	if (!data)
		return 0;
	m2m_hex(secret, len, hex);
	int found = memmem(data, size, secret, len) || strcasestr(data, hex);
	free(data);
	return found;
}

/* ---- the blob, as the card opens it --------------------------------------------------------------- */

/* Decrypted with the card's key, the SignedData checked against the root (signed by B): the
 * UiccCredential; *sd gets the SignedData when sd is not NULL. */
static M2M_UICC_CREDENTIAL *open_blob(const card *c, const M2M_UICC_CREDENTIAL_PACKAGE *p, uint8_t **sd, size_t *sdlen)
{
	uint8_t *inner = NULL;
	size_t inner_len = 0;
	cr_assert_eq(m2m_cms_decrypt(c->key, c->cert, ASN1_STRING_get0_data(p->package),
				     (size_t)ASN1_STRING_length(p->package), &inner, &inner_len), M2M_OK);
	M2M_UICC_CREDENTIAL *v = ta_signed_item(w.trust, inner, inner_len, MNO, ASN1_ITEM_rptr(M2M_UICC_CREDENTIAL));
	if (sd) {
		*sd = inner;
		*sdlen = inner_len;
	} else
		OPENSSL_clear_free(inner, inner_len);
	return v;
}

static ta_answer packaged_for(const order_spec *s)
{
	ta_answer a = send_order(w.drf, s);
	cr_assert_eq(a.type, M2M_MSG_UICC_CREDENTIAL_PACKAGE, "refused: %s %s (see %s)", m2m_reason_name(a.reason), a.text,
		     w.dir);
	return a;
}

/* One vector of B's AuC for imsi, asked as the serving network asks it. */
static M2M_AUTH_VECTOR *vector_of(const char *imsi)
{
	ta_answer a = auth_info(imsi);
	cr_assert_eq(a.type, M2M_MSG_AUTH_INFO_RESPONSE, "no vector: %s %s", m2m_reason_name(a.reason), a.text);
	M2M_AUTH_INFO_RESPONSE *r = a.body;
	M2M_AUTH_VECTOR *v = sk_M2M_AUTH_VECTOR_delete(r, 0);  /* taken out of the answer */
	ta_answer_free(&a);
	return v;
}

/* The card's AKA with the blob's K and OPc, its SQN array at sqnStart, against B's vector. */
static void aka_succeeds(const M2M_UICC_CREDENTIAL *v, const char *imsi)
{
	M2M_AUTH_VECTOR *av = vector_of(imsi);
	m2m_milenage m;
	m2m_sqn_usim u;
	m2m_aka_usim_result res;
	cr_assert_eq(m2m_milenage_init(&m, ASN1_STRING_get0_data(v->k), ASN1_STRING_get0_data(v->opc)), 0);
	cr_assert_eq(m2m_sqn_usim_init(&u, NULL), 0);
	for (uint32_t i = 0; i < (1u << u.p.ind_bits); i++)
		u.seq_ms[i] = v->sqn_start >> u.p.ind_bits;
	cr_assert_eq(m2m_aka_usim_authenticate(&m, &u, ASN1_STRING_get0_data(av->rand), ASN1_STRING_get0_data(av->autn), &res),
		     M2M_AKA_OK, "the blob's K does not authenticate B's vector");
	cr_assert_eq(ASN1_STRING_length(av->xres), 8);
	cr_assert_arr_eq(res.res, ASN1_STRING_get0_data(av->xres), 8, "RES is not XRES");
	m2m_milenage_clear(&m);
	M2M_AUTH_VECTOR_free(av);
}

static void check_keyset(const M2M_OTA_KEYSET *ks)
{
	cr_assert_eq(ks->kvn, 1);
	cr_assert_eq(ks->kic_alg, 0x2, "AES");
	cr_assert_eq(ks->kid_alg, 0x2, "AES");
	cr_assert_eq(ASN1_STRING_length(ks->kic), 16);
	cr_assert_eq(ASN1_STRING_length(ks->kid), 16);
	cr_assert_eq(ASN1_STRING_length(ks->dek), 16, "a DEK, for B's later PUT KEY");
	cr_assert_arr_eq(ASN1_STRING_get0_data(ks->tar), "\xb0\x00\x10", 3);
	cr_assert_eq(ks->counter, 0);
}

static void no_secret_in_clear(const M2M_UICC_CREDENTIAL *v)
{
	const ASN1_OCTET_STRING *secrets[] = {v->k, v->opc, v->ota->kic, v->ota->kid, v->ota->dek};
	const char *files[] = {"mno-a.db", "mno-a.db-wal", "mno-a.log"};
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		for (size_t f = 0; f < sizeof files / sizeof files[0]; f++)
			cr_assert_not(file_holds(files[f], ASN1_STRING_get0_data(secrets[i]), (size_t)ASN1_STRING_length(secrets[i])),
				      "secret %zu in clear in %s", i, files[f]);
}

/* ---- the procedure ---------------------------------------------------------------------------------- */

/* The world with the real PVA, a card of the agency's, and an order for it. */
static void world_with_card(card *c, order_spec *s)
{
	start_world(TA_AGENCY);
	make_card(c, 0);
	new_spec(s, c->cert);
}

Test(uicc_b, a_good_order_gets_a_blob_only_the_card_opens)
{
	card c;
	order_spec s;
	world_with_card(&c, &s);
	ta_answer a = packaged_for(&s);
	const M2M_UICC_CREDENTIAL_PACKAGE *p = a.body;
	char sho[64], imsi[16], iccid[21];
	cr_assert_eq(m2m_read_name(p->sho, sho, sizeof sho - 1), 0);
	cr_assert_str_eq(sho, MNO);
	cr_assert_arr_eq(ASN1_STRING_get0_data(p->change_id), s.change_id, 16);
	cr_assert_eq(m2m_digits(p->imsi, imsi, sizeof imsi, 6, 15), 0);
	cr_assert_str_eq(imsi, IMSI_FIRST, "the first IMSI of B's range");
	uint8_t *sd = NULL;
	size_t sdlen = 0;
	M2M_UICC_CREDENTIAL *v = open_blob(&c, p, &sd, &sdlen);
	cr_assert_eq(m2m_digits(v->iccid, iccid, sizeof iccid, 18, 20), 0);
	cr_assert_str_eq(iccid, ICCID);
	cr_assert_arr_eq(ASN1_STRING_get0_data(v->card_nonce), s.nonce, 16, "the card's challenge");
	cr_assert_arr_eq(ASN1_STRING_get0_data(v->change_id), s.change_id, 16);
	cr_assert_eq(m2m_read_name(v->sho, sho, sizeof sho - 1), 0);
	cr_assert_str_eq(sho, MNO);
	cr_assert_eq(m2m_digits(v->imsi, imsi, sizeof imsi, 6, 15), 0);
	cr_assert_str_eq(imsi, IMSI_FIRST);
	cr_assert_eq(ASN1_STRING_length(v->k), 16);
	cr_assert_eq(ASN1_STRING_length(v->opc), 16);
	check_keyset(v->ota);
	/* another key does not open it */
	card other;
	make_card(&other, 0);
	uint8_t *none = NULL;
	size_t nlen = 0;
	cr_assert_neq(m2m_cms_decrypt(other.key, c.cert, ASN1_STRING_get0_data(p->package),
				      (size_t)ASN1_STRING_length(p->package), &none, &nlen), M2M_OK);
	/* the HSS record: pending with the card, served until its first attach; the OTA keysets */
	char *rec = text_of("SELECT state || ':' || iccid FROM hss_subscriber WHERE imsi = '" IMSI_FIRST "'");
	cr_assert_str_eq(rec, "pending:" ICCID);
	free(rec);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_first_attach WHERE imsi = '" IMSI_FIRST "'"), 1);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM ota_keyset WHERE iccid = '" ICCID "' AND counter = 0"
				   " AND tar IN (x'b00010', x'000000')"), 2);
	/* B's AuC and the blob's K agree */
	aka_succeeds(v, imsi);
	no_secret_in_clear(v);
	/* `openssl cms` verifies the decrypted SignedData against the agency's root */
	char path[128];
	path_of(path, sizeof path, "blob-inner.der");
	FILE *f = fopen(path, "wb");
	cr_assert(f && fwrite(sd, 1, sdlen, f) == sdlen);
	fclose(f);
	cr_assert_eq(ta_run("cd %s && openssl cms -verify -inform DER -binary -in blob-inner.der -CAfile root.pem"
			    " -out credential.der 2>openssl.err && openssl asn1parse -inform DER -in credential.der"
			    " >credential.txt", w.dir), 0, "see %s/openssl.err", w.dir);
	cr_assert_eq(ta_run("grep -q ':" ICCID "' %s/credential.txt && grep -q ':" MNO "' %s/credential.txt", w.dir, w.dir), 0);
	OPENSSL_clear_free(sd, sdlen);
	M2M_UICC_CREDENTIAL_free(v);
	card_free(&c);
	card_free(&other);
	ta_answer_free(&a);
}

Test(uicc_b, the_same_order_gets_the_same_blob_a_new_challenge_a_new_one)
{
	card c;
	order_spec s;
	world_with_card(&c, &s);
	ta_answer a = packaged_for(&s);
	char *before = b_state();
	ta_answer b = packaged_for(&s);  /* the answer was lost: the DRF asks again */
	const M2M_UICC_CREDENTIAL_PACKAGE *pa = a.body, *pb = b.body;
	cr_assert_eq(ASN1_STRING_cmp(pa->package, pb->package), 0, "another blob");
	cr_assert_eq(ASN1_STRING_cmp(pa->imsi, pb->imsi), 0);
	char *after = b_state();
	cr_assert_str_eq(after, before);
	free(after);
	/* the TRE registered again with a new challenge (after a rollback): a new blob, the same
	 * credentials */
	m2m_random(s.nonce, sizeof s.nonce);
	ta_answer n = packaged_for(&s);
	const M2M_UICC_CREDENTIAL_PACKAGE *pn = n.body;
	cr_assert_neq(ASN1_STRING_cmp(pa->package, pn->package), 0);
	M2M_UICC_CREDENTIAL *va = open_blob(&c, pa, NULL, NULL), *vn = open_blob(&c, pn, NULL, NULL);
	cr_assert_arr_eq(ASN1_STRING_get0_data(vn->card_nonce), s.nonce, 16);
	cr_assert_eq(ASN1_STRING_cmp(va->imsi, vn->imsi), 0);
	cr_assert_eq(ASN1_STRING_cmp(va->k, vn->k), 0);
	cr_assert_eq(ASN1_STRING_cmp(va->opc, vn->opc), 0);
	cr_assert_eq(ASN1_STRING_cmp(va->ota->kic, vn->ota->kic), 0);
	cr_assert_eq(va->sqn_start, vn->sqn_start);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber"), 1, "one record for the change");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_package WHERE state = 'packaged'"), 2);
	/* the same change for another card is refused, nothing changes */
	card other;
	make_card(&other, 0);
	order_spec bad = s;
	m2m_random(bad.nonce, sizeof bad.nonce);
	bad.tre = "tre-2";
	expect_refused(w.drf, &bad, M2M_R_WRONG_STATE, "this change is " TRE "'s");
	/* the same challenge with another card certificate */
	bad = s;
	bad.card_cert = other.cert;
	expect_refused(w.drf, &bad, M2M_R_WRONG_STATE, "another card certificate");
	free(before);
	M2M_UICC_CREDENTIAL_free(va);
	M2M_UICC_CREDENTIAL_free(vn);
	card_free(&c);
	card_free(&other);
	ta_answer_free(&a);
	ta_answer_free(&b);
	ta_answer_free(&n);
}

Test(uicc_b, orders_that_do_not_check_change_nothing)
{
	card c, foreign;
	order_spec s;
	world_with_card(&c, &s);
	make_card(&foreign, 1);
	/* only the configured DRF orders */
	expect_refused(w.vno, &s, M2M_R_NOT_AUTHORISED, "only the DRF");
	/* the ticket */
	order_spec bad = s;
	bad.ticket_sho = "mno-b";
	expect_refused(w.drf, &bad, M2M_R_WRONG_SHO, "another operator");
	bad = s;
	bad.ticket_tre = "tre-2";
	expect_refused(w.drf, &bad, M2M_R_NOT_AUTHORISED, "another TRE");
	bad = s;
	bad.signer = BY_OTHER_FUNCTION;  /* the test's PVA */
	expect_refused(w.drf, &bad, M2M_R_BAD_SIGNATURE, "not by the registration operator's DRF");
	uint8_t other_change[16];
	m2m_random(other_change, sizeof other_change);
	bad = s;
	bad.ticket_change = other_change;
	expect_refused(w.drf, &bad, M2M_R_NOT_AUTHORISED, "another change");
	bad = s;
	bad.expires_in = -10;
	expect_refused(w.drf, &bad, M2M_R_WRONG_STATE, "expired");
	/* the card certificate: a TRE's (profile tre), one under another root */
	bad = s;
	bad.card_cert = w.tre_cert;
	expect_refused(w.drf, &bad, M2M_R_NOT_AUTHORISED, "not uicc");
	bad = s;
	bad.card_cert = foreign.cert;
	expect_refused(w.drf, &bad, M2M_R_BAD_CHAIN, "does not chain");
	/* malformed */
	bad = s;
	bad.short_nonce = 1;
	expect_refused(w.drf, &bad, M2M_R_BAD_BODY, "16-octet");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_order"), 0);
	/* and the good one still works */
	ta_answer a = packaged_for(&s);
	ta_answer_free(&a);
	card_free(&c);
	card_free(&foreign);
}

Test(uicc_b, a_tre_the_pva_fails_gets_nothing)
{
	card c;
	order_spec s;
	world_with_card(&c, &s);
	ta_answer a = control(M2M_TRE_CTL_MODIFY_COMPONENT, "os", "rootkit");
	ta_answer_free(&a);
	a = control(M2M_TRE_CTL_BOOT, NULL, NULL);
	ta_answer_free(&a);
	expect_refused(w.drf, &s, M2M_R_NOT_VALIDATED, "fail");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber"), 0, "an HSS record was made");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM ota_keyset"), 0, "OTA keys were made");
	card_free(&c);
}

Test(uicc_b, no_verdict_gets_nothing_and_a_restart_asks_again)
{
	w.verdict = V_SILENT;
	start_world(FAKE_PVA);
	card c;
	make_card(&c, 0);
	order_spec s;
	new_spec(&s, c.cert);
	/* the PVA never answers: refused once the DPF's call times out, nothing generated */
	expect_refused(w.drf, &s, M2M_R_NOT_VALIDATED, "no verdict");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber"), 0);
	/* the DPF stops while validating; the DRF's retry after its restart (now with the real PVA)
	 * gets the blob */
	M2M_UICC_CREDENTIAL_ORDER *q = order_body(&s);
	ta_answer lost;
	memset(&lost, 0, sizeof lost);
	ta_call_start(w.drf, MNO, M2M_MSG_UICC_CREDENTIAL_ORDER, q, &lost);
	M2M_UICC_CREDENTIAL_ORDER_free(q);
	for (int i = 0; i < 100 && query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_package WHERE state = 'validating'") != 1;
	     i++)
		pump(50);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_package WHERE state = 'validating'"), 1,
		     "the order was not recorded before the PVA was asked");
	cr_assert_eq(ta_stop(w.mno_pid), 0, "see %s/mno-a.log", w.dir);
	start_mno(TA_AGENCY);
	cr_assert(wait_for(dpf_enrolled, 10));
	ta_answer a = packaged_for(&s);
	M2M_UICC_CREDENTIAL *v = open_blob(&c, a.body, NULL, NULL);
	cr_assert_arr_eq(ASN1_STRING_get0_data(v->card_nonce), s.nonce, 16);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_uicc_package"), 1, "the same order, packaged");
	pump(200);  /* the lost call's answer, if any, lands in `lost` */
	M2M_UICC_CREDENTIAL_free(v);
	ta_answer_free(&a);
	ta_answer_free(&lost);
	card_free(&c);
}

/* ---- the real card takes the blob ------------------------------------------------------------------- */

static m2m_reason open_with(void *key, const uint8_t *der, size_t len, uint8_t **content, size_t *clen)
{
	const card *c = key;
	return m2m_cms_decrypt(c->key, c->cert, der, len, content, clen);
}

/* The blob in a STORE DATA chain (P2 the block number, P1 80 on the last): the last SW. */
static uint16_t store_blob(const ASN1_OCTET_STRING *blob)
{
	const uint8_t *data = ASN1_STRING_get0_data(blob);
	size_t len = (size_t)ASN1_STRING_length(blob), blocks = (len + BLOCK - 1) / BLOCK;
	uint16_t sw = 0;
	for (size_t i = 0; i < blocks; i++) {
		uint8_t apdu[5 + BLOCK] = {0x80, 0xE2, i + 1 == blocks ? 0x80 : 0x00, (uint8_t)i};
		size_t n = len - i * BLOCK < BLOCK ? len - i * BLOCK : BLOCK;
		apdu[4] = (uint8_t)n;
		memcpy(apdu + 5, data + i * BLOCK, n);
		sw = transmit_raw(apdu, 5 + n).sw;
		cr_assert(sw == 0x9000, "STORE DATA block %zu of %zu: SW %04X", i, blocks, sw);
	}
	return sw;
}

/* AUTHENTICATE with B's vector for imsi: RES must be XRES. */
static void card_authenticates(const char *imsi)
{
	M2M_AUTH_VECTOR *av = vector_of(imsi);
	uint8_t apdu[5 + 34 + 1] = {0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
	memcpy(apdu + 6, ASN1_STRING_get0_data(av->rand), 16);
	apdu[22] = 0x10;
	memcpy(apdu + 23, ASN1_STRING_get0_data(av->autn), 16);
	rapdu r = transmit_raw(apdu, sizeof apdu);
	cr_assert_eq(r.sw, 0x9000, "AUTHENTICATE: SW %04X", r.sw);
	cr_assert_eq(r.data[0], 0xDB, "AUTHENTICATE did not succeed (%02X)", r.data[0]);
	cr_assert_arr_eq(r.data + 2, ASN1_STRING_get0_data(av->xres), 8, "RES is not B's XRES");
	M2M_AUTH_VECTOR_free(av);
}

Test(uicc_b, the_card_takes_the_blob_and_answers_bs_auc)
{
	card c;
	order_spec s;
	world_with_card(&c, &s);
	fixture_dir();
	open_card(CARD_IMAGE_3B);
	uicc_identity id = {c.cert, w.trust, open_with, &c};
	uicc_card_lend_identity(&t.card, &id);
	/* the TRE's GET CHALLENGE, then the order with it */
	rapdu r = expect("80 84 00 00 10", 0x9000);
	cr_assert_eq(r.len, 16);
	memcpy(s.nonce, r.data, 16);
	ta_answer a = packaged_for(&s);
	const M2M_UICC_CREDENTIAL_PACKAGE *p = a.body;
	char imsi[16];
	cr_assert_eq(m2m_digits(p->imsi, imsi, sizeof imsi, 6, 15), 0);
	cr_assert_eq(store_blob(p->package), 0x9000, "the card refused B's blob");
	/* SWITCH (a REFRESH follows when the terminal announced it: not here), then the card is B's */
	uint8_t sw_apdu[] = {0x80, 0x38, 0x00, 0x00};
	uint16_t sw = transmit_raw(sw_apdu, sizeof sw_apdu).sw;
	cr_assert(sw == 0x9000 || sw == 0x9114, "SWITCH: SW %04X", sw);
	uint8_t ef[9];
	char ef_hex[19];
	cr_assert_eq(m2m_ef_imsi_encode(imsi, ef), 0);
	m2m_hex(ef, sizeof ef, ef_hex);
	expect(SELECT_USIM, 0x9000);
	rapdu e = expect(READ_IMSI, 0x9000);
	expect_data(&e, ef_hex);
	card_authenticates(imsi);
	ta_answer_free(&a);
	card_free(&c);
	fixture_teardown();
}
