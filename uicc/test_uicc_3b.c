/*
 * Alternative 3b on the card (docs/uicc.md, "Re-credentialing by the new operator"). The first
 * suite drives the engine with an identity of the test's own (a key and a certificate of profile
 * uicc from a test agency made with lib/pki): the certificate read in chained GET DATAs, the
 * single-use challenge, a credential blob built here (UiccCredential signed by a test operator,
 * encrypted to the card) installed by a STORE DATA chain, SWITCH with AUTHENTICATE under the new
 * K and the REFRESH, ROLLBACK, COMMIT, each refusal with its status word and nothing changed,
 * and no key in clear in the database. The second suite runs the uicc daemon against a real
 * certauth: the card makes its key once, keeps it sealed, enrols as uicc, and takes a blob
 * signed by an operator the agency certified.
 */
#include "card_fixture.h"

#include "crypto/crypto.h"
#include "daemon/identity.h"
#include "daemon/test_agency.h"
#include "log/log.h"
#include "wire/wire.h"

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ICCID "89860012345678901234"
#define OTHER_ICCID "89860012345678900000"
#define SELECT_USIM "00 A4 04 0C 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00"
#define READ_IMSI "00 B0 87 00 09"                  /* READ BINARY by SFI 07 */
#define OLD_IMSI_EF "08 09 10 10 10 32 54 76 98"    /* 001010123456789 (TS 31.102 §4.2.2) */
#define NEW_IMSI "001020000000042"
#define NEW_IMSI_EF "08 09 10 20 00 00 00 00 24"
#define TERMINAL_PROFILE "80 10 00 00 03 03 01 80"  /* byte 3 b8: REFRESH */
#define GET_CHALLENGE "80 84 00 00 10"
#define SWITCH "80 38 00 00"
#define COMMIT "80 3A 00 00"
#define ROLLBACK "80 3C 00 00"
#define ROLLBACK_DROP "80 3C 01 00"
#define FETCH_REFRESH "80 12 00 00 14"
#define OTA_IMAGE                                                                                              \
	IMAGE_WITH(ICCID, "001010123456789", "2",                                                              \
		   "  ota_tar = \"b00010\"; ota_kvn = 1; ota_kic = \"4a1c2e7f6b3d5a9e0c8f1b2d3e4f5061\";\n"     \
		   "  ota_kid = \"7e3a9c1b5d2f4e6a8b0c1d2e3f405162\"; ota_dek = \"c0ffee112233445566778899aabbccdd\";\n")
#define NEW_KVN 2
#define NEW_COUNTER 5  /* the counter B's keyset starts with: its first packet counts 6 */
#define OTA_AES 0x2    /* the KIc/KID algorithm nibble of AES (lib/ota/scp80.h) */
#define OPERATOR_CN "mno-b"
#define SQN_START ((uint64_t)1000 << M2M_SQN_IND_BITS_DEFAULT)  /* SEQ 1000, IND 0 */
#define BLOCK 200                                               /* STORE DATA block size here */

static const uint8_t NEW_K[16] = {0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
				  0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};
static const uint8_t NEW_OPC[16] = {0x62, 0xe7, 0x5b, 0x8d, 0x6f, 0xa5, 0xbf, 0x46,
				    0xec, 0x87, 0xa9, 0x27, 0x6f, 0x9d, 0xf5, 0x4d};
static const uint8_t NEW_KIC[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				    0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};
static const uint8_t NEW_KID[16] = {0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98,
				    0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f, 0x10};
static const uint8_t NEW_DEK[16] = {0x31, 0x42, 0x53, 0x64, 0x75, 0x86, 0x97, 0xa8,
				    0xb9, 0xca, 0xdb, 0xec, 0xfd, 0x0e, 0x1f, 0x20};
static const uint8_t CHANGE_ID[16] = {0xc4, 0xa9, 0x07, 0x01, 0x02, 0x03, 0x04, 0x05,
				      0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d};

/* ---- a test agency: root, issuing CA, the card, operators, a forger ----------------------------- */

typedef struct party {
	EVP_PKEY *key;
	X509 *cert;
} party;

static struct {
	EVP_PKEY *root_key, *ca_key;
	X509 *root, *ca;
	uint64_t serial;
	STACK_OF(X509) *extra;  /* the issuing CA, which signatures carry */
	m2m_trust *trust;       /* the root only: what the card holds */
	party card, other_card, operator, operator_c, not_operator, forger_root, forger;
} pki;

static X509 *issue(m2m_cert_kind kind, const char *cn, EVP_PKEY *subject, int profile, X509 *issuer,
		   EVP_PKEY *issuer_key)
{
	time_t now = time(NULL);
	m2m_cert_spec spec = {kind, cn, subject, ++pki.serial, now - 60, now + 86400, profile, NULL};
	X509 *x = m2m_pki_issue(&spec, issuer, issuer_key ? issuer_key : subject);
	cr_assert_not_null(x, "no certificate for %s", cn);
	return x;
}

static void make_party(party *p, const char *cn, int profile)
{
	p->key = m2m_pki_keygen();
	cr_assert_not_null(p->key);
	p->cert = issue(M2M_CERT_END_ENTITY, cn, p->key, profile, pki.ca, pki.ca_key);
}

static void make_pki(void)
{
	pki.root_key = m2m_pki_keygen();
	pki.ca_key = m2m_pki_keygen();
	pki.root = issue(M2M_CERT_ROOT, "test root CA", pki.root_key, -1, NULL, NULL);
	pki.ca = issue(M2M_CERT_ISSUING_CA, "test issuing CA", pki.ca_key, -1, pki.root, pki.root_key);
	pki.extra = sk_X509_new_null();
	cr_assert(sk_X509_push(pki.extra, pki.ca));
	pki.trust = m2m_trust_new(pki.root);
	cr_assert_not_null(pki.trust);
	make_party(&pki.card, "uicc-t", M2M_PROFILE_UICC);
	make_party(&pki.other_card, "uicc-other", M2M_PROFILE_UICC);
	make_party(&pki.operator, OPERATOR_CN, M2M_PROFILE_OPERATOR_FUNCTION);
	make_party(&pki.operator_c, "mno-c", M2M_PROFILE_OPERATOR_FUNCTION);
	make_party(&pki.not_operator, "pva-t", M2M_PROFILE_PVA);
	/* an operatorFunction certificate under a root of its own: an uncertified key */
	pki.forger_root.key = m2m_pki_keygen();
	pki.forger_root.cert = issue(M2M_CERT_ROOT, "test root CA", pki.forger_root.key, -1, NULL, NULL);
	pki.forger.key = m2m_pki_keygen();
	pki.forger.cert = issue(M2M_CERT_END_ENTITY, OPERATOR_CN, pki.forger.key, M2M_PROFILE_OPERATOR_FUNCTION,
				pki.forger_root.cert, pki.forger_root.key);
}

static void free_party(party *p)
{
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
}

static void free_pki(void)
{
	party *parties[] = {&pki.card, &pki.other_card, &pki.operator, &pki.operator_c,
			    &pki.not_operator, &pki.forger_root, &pki.forger};
	for (size_t i = 0; i < sizeof parties / sizeof parties[0]; i++)
		free_party(parties[i]);
	m2m_trust_free(pki.trust);
	sk_X509_free(pki.extra);
	X509_free(pki.root);
	X509_free(pki.ca);
	EVP_PKEY_free(pki.root_key);
	EVP_PKEY_free(pki.ca_key);
	memset(&pki, 0, sizeof pki);
}

/* ---- the card's identity, lent by the test --------------------------------------------------------- */

static m2m_reason open_with(void *key, const uint8_t *der, size_t len, uint8_t **content, size_t *clen)
{
	const party *p = key;
	return m2m_cms_decrypt(p->key, p->cert, der, len, content, clen);
}

static void lend(party *card)
{
	uicc_identity id = {card->cert, pki.trust, open_with, card};
	uicc_card_lend_identity(&t.card, &id);
}

/* The card of the image, reopened from its database, with its identity. */
static void reopen(void)
{
	close_card();
	open_card(OTA_IMAGE);
	lend(&pki.card);
}

static void setup(void)
{
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&t, 0, sizeof t);
	memset(&pki, 0, sizeof pki);
	fixture_dir();
	make_pki();
	open_card(OTA_IMAGE);
	lend(&pki.card);
}

static void teardown(void)
{
	fixture_teardown();
	free_pki();
}

TestSuite(card3b, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the blob --------------------------------------------------------------------------------------- */

static void set_octets(ASN1_OCTET_STRING *s, const uint8_t *v, size_t len)
{
	cr_assert(ASN1_OCTET_STRING_set(s, v, (int)len));
}

/* The new operator's credentials for iccid, carrying nonce: B's AES keyset for the card's RFM TAR. */
static M2M_UICC_CREDENTIAL *credential(const char *iccid, const uint8_t nonce[16])
{
	static const uint8_t rfm_tar[3] = {0xb0, 0x00, 0x10};
	M2M_UICC_CREDENTIAL *v = M2M_UICC_CREDENTIAL_new();
	cr_assert_not_null(v);
	cr_assert_eq(m2m_set_digits(&v->iccid, iccid), 0);
	cr_assert_eq(m2m_set_digits(&v->imsi, NEW_IMSI), 0);
	cr_assert(ASN1_STRING_set(v->sho, OPERATOR_CN, -1));
	set_octets(v->card_nonce, nonce, 16);
	set_octets(v->change_id, CHANGE_ID, sizeof CHANGE_ID);
	set_octets(v->k, NEW_K, sizeof NEW_K);
	set_octets(v->opc, NEW_OPC, sizeof NEW_OPC);
	v->ota->kvn = NEW_KVN;
	v->ota->kic_alg = OTA_AES;
	v->ota->kid_alg = OTA_AES;
	set_octets(v->ota->kic, NEW_KIC, sizeof NEW_KIC);
	set_octets(v->ota->kid, NEW_KID, sizeof NEW_KID);
	set_octets(v->ota->dek, NEW_DEK, sizeof NEW_DEK);
	set_octets(v->ota->tar, rfm_tar, sizeof rfm_tar);
	v->ota->counter = NEW_COUNTER;
	v->sqn_start = SQN_START;
	return v;
}

/* content signed by signer (the issuing CA included), encrypted to `to`. */
static uint8_t *seal_content(const uint8_t *content, size_t clen, const party *signer, STACK_OF(X509) *extra, X509 *to,
			     size_t *len)
{
	uint8_t *sd = NULL, *blob = NULL;
	size_t sdlen = 0;
	cr_assert_eq(m2m_cms_sign(signer->key, signer->cert, extra, content, clen, &sd, &sdlen), 0);
	cr_assert_eq(m2m_cms_encrypt(to, sd, sdlen, &blob, len), 0);
	OPENSSL_free(sd);
	return blob;
}

static uint8_t *seal_blob(const M2M_UICC_CREDENTIAL *v, const party *signer, STACK_OF(X509) *extra, X509 *to,
			  size_t *len)
{
	uint8_t *der = NULL;
	int n = i2d_M2M_UICC_CREDENTIAL(v, &der);
	cr_assert_gt(n, 0);
	uint8_t *blob = seal_content(der, (size_t)n, signer, extra, to, len);
	OPENSSL_free(der);
	return blob;
}

/* A blob for this card and nonce, from the certified operator. */
static uint8_t *good_blob(const uint8_t nonce[16], size_t *len)
{
	M2M_UICC_CREDENTIAL *v = credential(ICCID, nonce);
	uint8_t *blob = seal_blob(v, &pki.operator, pki.extra, pki.card.cert, len);
	M2M_UICC_CREDENTIAL_free(v);
	return blob;
}

/* ---- commands ------------------------------------------------------------------------------------- */

typedef rapdu (*transmit_fn)(const uint8_t *apdu, size_t len);

static size_t block_count(size_t len)
{
	return (len + BLOCK - 1) / BLOCK;
}

/* STORE DATA of block i of blob (P1 80 when last), its status word. */
static uint16_t store_block(transmit_fn tx, const uint8_t *blob, size_t len, size_t i, int last)
{
	uint8_t apdu[5 + BLOCK];
	size_t off = i * BLOCK, n = len - off < BLOCK ? len - off : BLOCK;
	apdu[0] = 0x80;
	apdu[1] = 0xE2;
	apdu[2] = last ? 0x80 : 0x00;
	apdu[3] = (uint8_t)i;
	apdu[4] = (uint8_t)n;
	memcpy(apdu + 5, blob + off, n);
	return tx(apdu, 5 + n).sw;
}

static void store_all_but_last(transmit_fn tx, const uint8_t *blob, size_t len)
{
	cr_assert_gt(block_count(len), 2, "a blob of %zu bytes fits in too few blocks to chain", len);
	for (size_t i = 0; i + 1 < block_count(len); i++)
		cr_assert_eq(store_block(tx, blob, len, i, 0), 0x9000, "block %zu", i);
}

static uint16_t store_last(transmit_fn tx, const uint8_t *blob, size_t len)
{
	return store_block(tx, blob, len, block_count(len) - 1, 1);
}

static uint16_t store_blob(transmit_fn tx, const uint8_t *blob, size_t len)
{
	store_all_but_last(tx, blob, len);
	return store_last(tx, blob, len);
}

static void get_challenge(uint8_t nonce[16])
{
	rapdu r = expect(GET_CHALLENGE, 0x9000);
	cr_assert_eq(r.len, 16);
	memcpy(nonce, r.data, 16);
}

/* A fresh challenge and the good blob for it, loaded into the shadow slot. */
static void install(void)
{
	uint8_t nonce[16];
	size_t len = 0;
	get_challenge(nonce);
	uint8_t *blob = good_blob(nonce, &len);
	cr_assert_eq(store_blob(transmit_raw, blob, len), 0x9000);
	OPENSSL_free(blob);
}

/* The terminal's side of a REFRESH: 91 14, FETCH, TERMINAL RESPONSE with its number. */
static void expect_refresh(uint16_t sw)
{
	cr_assert_eq(sw, 0x9114, "SW %04X: no REFRESH announced", sw);
	rapdu r = expect(FETCH_REFRESH, 0x9000);
	cr_assert_eq(r.len, 20);
	cr_assert_eq(r.data[0], 0xD0);
	cr_assert_eq(r.data[5], 0x01, "REFRESH");
	cr_assert_eq(r.data[6], 0x02, "NAA initialisation and file change notification");
	uint8_t tr[] = {0x80, 0x14, 0x00, 0x00, 0x0C, 0x81, 0x03, r.data[4], 0x01, 0x02,
			0x82, 0x02, 0x82, 0x81, 0x83, 0x01, 0x00};
	cr_assert_eq(transmit_raw(tr, sizeof tr).sw, 0x9000);
}

/* ---- AUTHENTICATE ------------------------------------------------------------------------------------ */

static m2m_aka_av vector(const uint8_t k[16], const uint8_t opc[16], uint64_t sqn)
{
	static const uint8_t amf[2] = {0x80, 0x00};
	m2m_milenage auc;
	m2m_aka_av av;
	uint8_t rand[16];
	m2m_random(rand, sizeof rand);
	cr_assert_eq(m2m_milenage_init(&auc, k, opc), 0);
	cr_assert_eq(m2m_aka_av_build(&auc, rand, sqn, amf, &av), 0);
	m2m_milenage_clear(&auc);
	return av;
}

/* 00 88 00 81 22 10 RAND 10 AUTN 00 with a vector of k, opc for sqn: the status word (and
 * RES = XRES checked on success). */
static uint16_t authenticate(const uint8_t k[16], const uint8_t opc[16], uint64_t sqn)
{
	m2m_aka_av av = vector(k, opc, sqn);
	uint8_t apdu[5 + 34 + 1] = {0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
	memcpy(apdu + 6, av.rand, 16);
	apdu[22] = 0x10;
	memcpy(apdu + 23, av.autn, 16);
	rapdu r = transmit_raw(apdu, sizeof apdu);
	if (r.sw == 0x9000 && r.data[0] == 0xDB) {
		cr_assert_eq(r.data[1], 8);
		cr_assert_arr_eq(r.data + 2, av.xres, 8, "RES is not the vector's XRES");
	}
	return r.sw == 0x9000 && r.data[0] == 0xDC ? 0xDC00 : r.sw;  /* DC: a synchronisation failure */
}

static uint64_t seq(uint64_t s)
{
	return s << M2M_SQN_IND_BITS_DEFAULT;
}

/* ---- what the database holds ---------------------------------------------------------------------------- */

#define DUMP_MAX 131072

/* Everything of the card in its database, the 3b tables and the sealed keys included. */
static char *dump_all(void)
{
	char *out = malloc(DUMP_MAX), *extra = malloc(DUMP_MAX);
	cr_assert(out && extra);
	db_dump(out, DUMP_MAX / 2);
	db_text("SELECT ifnull((SELECT state || hex(change_id) || hex(ef_imsi) || hex(sqn) || hex(sealed) FROM uicc_shadow), '-')"
		" || '|' || ifnull((SELECT hex(nonce) FROM uicc_challenge), '-') || '|' ||"
		" ifnull((SELECT next_block || hex(data) FROM uicc_store_data), '-') || '|' ||"
		" (SELECT group_concat(name || hex(sealed)) FROM uicc_key)",
		extra, DUMP_MAX / 2);
	strcat(out, "#");
	strcat(out, extra);
	free(extra);
	return out;
}

static void expect_dump(const char *before, const char *what)
{
	char *now = dump_all();
	cr_assert_str_eq(now, before, "%s changed the card's database", what);
	free(now);
}

static long long db_int(const char *sql)
{
	char text[64];
	db_text(sql, text, sizeof text);
	return strtoll(text, NULL, 10);
}

static void expect_imsi(const char *ef)
{
	expect(SELECT_USIM, 0x9000);
	rapdu r = expect(READ_IMSI, 0x9000);
	expect_data(&r, ef);
}

/* The last block of blob is refused with sw, and changes nothing in the database. */
static void expect_refused(const uint8_t *blob, size_t len, uint16_t sw, const char *what)
{
	store_all_but_last(transmit_raw, blob, len);
	char *before = dump_all();
	cr_assert_eq(store_last(transmit_raw, blob, len), sw, "%s: SW %04X expected", what, sw);
	expect_dump(before, what);
	free(before);
}

/* v (freed here) signed by signer, encrypted to this card: its last block is refused with sw,
 * and nothing changes. */
static void expect_credential_refused(M2M_UICC_CREDENTIAL *v, const party *signer, uint16_t sw, const char *what)
{
	size_t len = 0;
	uint8_t *blob = seal_blob(v, signer, pki.extra, pki.card.cert, &len);
	expect_refused(blob, len, sw, what);
	OPENSSL_free(blob);
	M2M_UICC_CREDENTIAL_free(v);
}

/* ---- the identity ----------------------------------------------------------------------------------------- */

Test(card3b, the_certificate_is_read_in_chained_reads)
{
	uint8_t *der = NULL, got[4096];
	size_t len = 0, have = 0;
	cr_assert_eq(m2m_pki_cert_der(pki.card.cert, &der, &len), 0);
	cr_assert_gt(len, 256, "the certificate fits one answer: chaining is not exercised");
	for (;;) {
		uint8_t apdu[] = {0x80, 0xCA, (uint8_t)(have >> 8), (uint8_t)have, 0x00};
		rapdu r = transmit_raw(apdu, sizeof apdu);
		if (r.sw == 0x6B00)
			break;
		cr_assert_eq(r.sw, 0x9000, "GET DATA at %zu: SW %04X", have, r.sw);
		cr_assert_leq(have + r.len, sizeof got);
		memcpy(got + have, r.data, r.len);
		have += r.len;
	}
	cr_assert_eq(have, len);
	cr_assert_arr_eq(got, der, len, "GET DATA does not give the card's certificate");
	/* Le shorter than what is left is served; past the end it is corrected with 6CXX */
	rapdu r = expect("80 CA 00 00 10", 0x9000);
	cr_assert_eq(r.len, 16);
	cr_assert_arr_eq(r.data, der, 16);
	uint8_t tail[] = {0x80, 0xCA, (uint8_t)((len - 4) >> 8), (uint8_t)(len - 4), 0x10};
	cr_assert_eq(transmit_raw(tail, sizeof tail).sw, 0x6C04);
	expect("80 CA 80 00 00", 0x6A86);  /* P1 b8: no offset that large */
	expect("00 CA 00 00 00", 0x6E00);  /* class 80 only */
	OPENSSL_free(der);
	/* a card without an identity has no certificate, issues no challenge, takes no blob */
	uicc_card_lend_identity(&t.card, NULL);
	expect("80 CA 00 00 00", 0x6A88);
	expect(GET_CHALLENGE, 0x6985);
	expect("80 E2 80 00 01 30", 0x6985);
}

/* ---- the challenge --------------------------------------------------------------------------------------- */

Test(card3b, the_challenge_is_stored_and_single_use)
{
	uint8_t first[16], second[16], stored[16];
	size_t len1 = 0, len2 = 0;
	get_challenge(first);
	get_challenge(second);
	cr_assert_arr_neq(first, second, 16, "two challenges alike");
	char hex[33];
	db_text("SELECT hex(nonce) FROM uicc_challenge", hex, sizeof hex);
	cr_assert_eq(unhex(hex, stored, sizeof stored), 16);
	cr_assert_arr_eq(stored, second, 16, "the challenge in the database is not the last one issued");
	/* the blob for the replaced challenge is stale */
	uint8_t *stale = good_blob(first, &len1);
	expect_refused(stale, len1, 0x6984, "a blob for a replaced challenge");
	/* the challenge survives a restart and a reset */
	reopen();
	uint8_t atr[UICC_ATR_MAX];
	cr_assert_gt(uicc_reset(&t.card, atr), 0);
	uint8_t *blob = good_blob(second, &len2);
	cr_assert_eq(store_blob(transmit_raw, blob, len2), 0x9000);
	cr_assert_eq(db_int("SELECT count(*) FROM uicc_challenge"), 0, "the challenge is not used up");
	/* the same blob again: its challenge is used up; a new challenge does not revive it */
	expect_refused(blob, len2, 0x6984, "a replayed blob");
	get_challenge(first);
	expect_refused(blob, len2, 0x6984, "a replayed blob after a new challenge");
	expect("80 84 00 00 08", 0x6C10);  /* Le 8: the nonce is 16 bytes */
	expect("80 84 01 00 10", 0x6A86);
	OPENSSL_free(stale);
	OPENSSL_free(blob);
}

/* ---- install, switch, rollback, commit -------------------------------------------------------------------- */

Test(card3b, a_blob_installs_and_switch_brings_the_new_credentials)
{
	expect(TERMINAL_PROFILE, 0x9000);
	expect(SELECT_USIM, 0x9000);
	cr_assert_eq(authenticate(K, OPC, seq(1)), 0x9000, "the old credentials before the change");
	install();
	/* loaded, not active: the old IMSI and K still serve */
	char state[16];
	db_text("SELECT state FROM uicc_shadow", state, sizeof state);
	cr_assert_str_eq(state, "loaded");
	expect_imsi(OLD_IMSI_EF);
	cr_assert_eq(authenticate(K, OPC, seq(2)), 0x9000);
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(1)), 0x9862, "the new K before SWITCH");
	/* the shadow survives a restart; SWITCH then */
	reopen();
	expect(TERMINAL_PROFILE, 0x9000);
	expect_refresh(transmit_raw((const uint8_t[]){0x80, 0x38, 0x00, 0x00}, 4).sw);
	expect_imsi(NEW_IMSI_EF);
	/* the SQN array starts at sqnStart: a vector at it is stale, the next one is fresh */
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START), 0xDC00, "SQN_START itself must be stale");
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(1)), 0x9000, "AUTHENTICATE with the new K");
	cr_assert_eq(authenticate(K, OPC, seq(3)), 0x9862, "the old K still authenticates");
	db_text("SELECT state FROM uicc_shadow", state, sizeof state);
	cr_assert_str_eq(state, "switched");
	/* the new operator's OTA keyset serves the card's TARs, counters from the keyset's */
	char rows[256];
	db_text("SELECT group_concat(hex(tar) || application || kvn || counter, ' ') FROM (SELECT * FROM uicc_ota_tar"
		" ORDER BY tar)",
		rows, sizeof rows);
	cr_assert_str_eq(rows, "000000isd25 B00010rfm25");
	db_text("SELECT group_concat(kvn) FROM uicc_ota_keyset", rows, sizeof rows);
	cr_assert_str_eq(rows, "2", "only the new operator's keyset is active");
	/* all of it across a restart: K is stored sealed, the SQN array moved */
	reopen();
	expect_imsi(NEW_IMSI_EF);
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(1)), 0xDC00, "a replayed vector");
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(2)), 0x9000);
	/* nothing to switch to now; no blob while the old credentials wait for COMMIT */
	expect(SWITCH, 0x6985);
	uint8_t nonce[16];
	size_t len = 0;
	get_challenge(nonce);
	uint8_t *blob = good_blob(nonce, &len);
	cr_assert_eq(store_block(transmit_raw, blob, len, 0, 0), 0x6985);
	OPENSSL_free(blob);
}

Test(card3b, rollback_restores_the_old_credentials_and_commit_wipes_them)
{
	expect(TERMINAL_PROFILE, 0x9000);
	expect(SELECT_USIM, 0x9000);
	cr_assert_eq(authenticate(K, OPC, seq(1)), 0x9000);
	expect(ROLLBACK, 0x6985);
	expect(COMMIT, 0x6985);
	install();
	expect(COMMIT, 0x6985);  /* nothing switched */
	expect(ROLLBACK, 0x6985);  /* a plain ROLLBACK never drops what was not switched */
	expect_refresh(transmit_raw((const uint8_t[]){0x80, 0x38, 0x00, 0x00}, 4).sw);
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(1)), 0x9000);
	/* the first attach failed: back to the old credentials, whose SQN array was kept */
	expect_refresh(transmit_raw((const uint8_t[]){0x80, 0x3C, 0x00, 0x00}, 4).sw);
	expect_imsi(OLD_IMSI_EF);
	cr_assert_eq(authenticate(K, OPC, seq(1)), 0xDC00, "the old SQN array was not kept");
	cr_assert_eq(authenticate(K, OPC, seq(2)), 0x9000, "the old K after ROLLBACK");
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(2)), 0x9862);
	char rows[256];
	db_text("SELECT group_concat(kvn) FROM uicc_ota_keyset", rows, sizeof rows);
	cr_assert_str_eq(rows, "1", "the old operator's keyset is back");
	/* the new credentials wait for another SWITCH, with their SQN array */
	reopen();
	uint8_t atr[UICC_ATR_MAX];
	cr_assert_gt(uicc_reset(&t.card, atr), 0);
	expect(SELECT_USIM, 0x9000);
	expect(SWITCH, 0x9000);  /* no TERMINAL PROFILE since the reset: no REFRESH */
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(1)), 0xDC00);
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(2)), 0x9000);
	/* the first attach succeeded: the old credentials go for good */
	expect(COMMIT, 0x9000);
	cr_assert_eq(db_int("SELECT count(*) FROM uicc_shadow"), 0);
	expect(ROLLBACK, 0x6985);
	expect(ROLLBACK_DROP, 0x6985);
	expect(COMMIT, 0x6985);
	reopen();
	expect(SELECT_USIM, 0x9000);
	expect_imsi(NEW_IMSI_EF);
	cr_assert_eq(authenticate(K, OPC, seq(3)), 0x9862, "the old K survived COMMIT");
	cr_assert_eq(authenticate(NEW_K, NEW_OPC, SQN_START + seq(3)), 0x9000);
	expect("80 3A 01 00", 0x6A86);
	expect("80 3C 02 00", 0x6A86);
	expect("80 38 00 00 00", 0x6700);  /* no Le: case 1 only */
}

Test(card3b, rollback_with_p1_01_drops_the_new_credentials)
{
	install();
	expect(ROLLBACK_DROP, 0x9000);  /* before SWITCH: they are wiped */
	cr_assert_eq(db_int("SELECT count(*) FROM uicc_shadow"), 0);
	expect(SWITCH, 0x6985);
	install();
	expect(SWITCH, 0x9000);
	expect(ROLLBACK_DROP, 0x9000);  /* after SWITCH: the old ones are back, the new ones gone */
	cr_assert_eq(db_int("SELECT count(*) FROM uicc_shadow"), 0);
	expect_imsi(OLD_IMSI_EF);
	cr_assert_eq(authenticate(K, OPC, seq(1)), 0x9000);
	expect(SWITCH, 0x6985);
}

/* ---- refusals ---------------------------------------------------------------------------------------------- */

Test(card3b, a_blob_for_another_card_is_refused)
{
	uint8_t nonce[16];
	size_t len = 0;
	get_challenge(nonce);
	M2M_UICC_CREDENTIAL *v = credential(ICCID, nonce);
	/* encrypted to another card's certificate: this card cannot open it */
	uint8_t *blob = seal_blob(v, &pki.operator, pki.extra, pki.other_card.cert, &len);
	expect_refused(blob, len, 0x6988, "a blob encrypted to another card");
	OPENSSL_free(blob);
	/* encrypted to this card but naming another card's ICCID */
	M2M_UICC_CREDENTIAL *other = credential(OTHER_ICCID, nonce);
	blob = seal_blob(other, &pki.operator, pki.extra, pki.card.cert, &len);
	expect_refused(blob, len, 0x6A88, "a blob naming another ICCID");
	OPENSSL_free(blob);
	/* altered on the way: the GCM tag does not verify */
	blob = seal_blob(v, &pki.operator, pki.extra, pki.card.cert, &len);
	blob[len - 20] ^= 0x01;
	expect_refused(blob, len, 0x6988, "an altered blob");
	OPENSSL_free(blob);
	M2M_UICC_CREDENTIAL_free(v);
	M2M_UICC_CREDENTIAL_free(other);
	/* the challenge is still there: the genuine blob installs */
	blob = good_blob(nonce, &len);
	cr_assert_eq(store_blob(transmit_raw, blob, len), 0x9000);
	OPENSSL_free(blob);
}

Test(card3b, a_blob_signed_by_anyone_but_a_certified_operator_is_refused)
{
	uint8_t nonce[16];
	size_t len = 0;
	get_challenge(nonce);
	M2M_UICC_CREDENTIAL *v = credential(ICCID, nonce);
	STACK_OF(X509) *forged_chain = sk_X509_new_null();
	cr_assert(sk_X509_push(forged_chain, pki.forger_root.cert));
	uint8_t *blob = seal_blob(v, &pki.forger, forged_chain, pki.card.cert, &len);
	expect_refused(blob, len, 0x6982, "a blob signed by an uncertified key");
	OPENSSL_free(blob);
	M2M_UICC_CREDENTIAL_free(v);
	sk_X509_free(forged_chain);
	expect_credential_refused(credential(ICCID, nonce), &pki.not_operator, 0x6982,
				  "a blob signed by a certified key of another profile");
	expect_credential_refused(credential(ICCID, nonce), &pki.other_card, 0x6982, "a blob signed by another card");
}

Test(card3b, a_malformed_blob_is_refused)
{
	uint8_t nonce[16], junk[600];
	size_t len = 0;
	get_challenge(nonce);
	/* no CMS at all */
	memset(junk, 0x5A, sizeof junk);
	expect_refused(junk, sizeof junk, 0x6A80, "bytes that are no CMS");
	/* a genuine envelope and signature over something that is not a UiccCredential */
	uint8_t *blob = seal_content(junk, sizeof junk, &pki.operator, pki.extra, pki.card.cert, &len);
	expect_refused(blob, len, 0x6A80, "a SignedData over junk");
	OPENSSL_free(blob);
	/* fields out of their sizes: K of 15 bytes, KVN 0, an ICCID of letters, no sho */
	M2M_UICC_CREDENTIAL *v = credential(ICCID, nonce);
	set_octets(v->k, NEW_K, 15);
	expect_credential_refused(v, &pki.operator, 0x6A80, "K of 15 bytes");
	v = credential(ICCID, nonce);
	v->ota->kvn = 0;
	expect_credential_refused(v, &pki.operator, 0x6A80, "OTA keyset version 0");
	expect_credential_refused(credential("8986001234567890ABCD", nonce), &pki.operator, 0x6A80,
				  "an ICCID that is no digits");
	v = credential(ICCID, nonce);
	cr_assert(ASN1_STRING_set(v->sho, "", 0));
	expect_credential_refused(v, &pki.operator, 0x6A80, "an empty sho");
}

/* An OTA keyset the card cannot take: not AES, for a TAR it has not, without DEK, a counter past
 * 40 bits. The challenge stays: the genuine blob installs afterwards. */
Test(card3b, a_keyset_the_card_cannot_use_is_refused)
{
	static const uint8_t other_tar[3] = {0xb0, 0x00, 0x20};
	uint8_t nonce[16];
	get_challenge(nonce);
	M2M_UICC_CREDENTIAL *v = credential(ICCID, nonce);
	v->ota->kic_alg = 0x5;  /* 3DES with 2 keys: its 16-byte key would fit */
	expect_credential_refused(v, &pki.operator, 0x6A80, "a 3DES KIc");
	v = credential(ICCID, nonce);
	v->ota->kid_alg = 0x5;
	expect_credential_refused(v, &pki.operator, 0x6A80, "a 3DES KID");
	v = credential(ICCID, nonce);
	set_octets(v->ota->tar, other_tar, sizeof other_tar);
	expect_credential_refused(v, &pki.operator, 0x6A80, "a keyset for a TAR the card has not");
	v = credential(ICCID, nonce);
	set_octets(v->ota->dek, NEW_DEK, 0);
	expect_credential_refused(v, &pki.operator, 0x6A80, "a keyset without DEK");
	v = credential(ICCID, nonce);
	v->ota->counter = M2M_OTA_CNTR_MAX + 1;
	expect_credential_refused(v, &pki.operator, 0x6A80, "a counter past 40 bits");
	size_t len = 0;
	uint8_t *blob = good_blob(nonce, &len);
	cr_assert_eq(store_blob(transmit_raw, blob, len), 0x9000);
	OPENSSL_free(blob);
}

/* Another certified operator cannot pass its credentials off as B's, nor B name another operator:
 * the card checks that the signer is the sho the blob names. */
Test(card3b, a_blob_whose_sho_is_not_its_signer_is_refused)
{
	uint8_t nonce[16];
	get_challenge(nonce);
	expect_credential_refused(credential(ICCID, nonce), &pki.operator_c, 0x6982,
				  "a blob naming mno-b signed by mno-c");
	M2M_UICC_CREDENTIAL *v = credential(ICCID, nonce);
	cr_assert(ASN1_STRING_set(v->sho, "mno-c", -1));
	expect_credential_refused(v, &pki.operator, 0x6982, "a blob naming mno-c signed by mno-b");
	cr_assert_eq(db_int("SELECT count(*) FROM uicc_shadow"), 0);
	size_t len = 0;
	uint8_t *blob = good_blob(nonce, &len);
	cr_assert_eq(store_blob(transmit_raw, blob, len), 0x9000);
	OPENSSL_free(blob);
}

Test(card3b, a_truncated_or_broken_chain_is_refused)
{
	uint8_t nonce[16];
	size_t len = 0;
	get_challenge(nonce);
	uint8_t *blob = good_blob(nonce, &len);
	size_t last = block_count(len) - 1;
	/* a block before the chain started, or out of order */
	char *before = dump_all();
	cr_assert_eq(store_block(transmit_raw, blob, len, 1, 0), 0x6A86);
	expect_dump(before, "a block without a chain");
	free(before);
	cr_assert_eq(store_block(transmit_raw, blob, len, 0, 0), 0x9000);
	before = dump_all();
	cr_assert_eq(store_block(transmit_raw, blob, len, 2, 0), 0x6A86, "block 1 skipped");
	cr_assert_eq(store_block(transmit_raw, blob, len, last, 1), 0x6A86, "the last block after a gap");
	expect_dump(before, "blocks out of order");
	free(before);
	/* the chain ended early: what it holds is no whole CMS */
	cr_assert_eq(store_block(transmit_raw, blob, len, 1, 0), 0x9000);
	before = dump_all();
	cr_assert_eq(store_block(transmit_raw, blob, len, 2, 1), 0x6A80, "a chain cut short");
	expect_dump(before, "a chain cut short");
	free(before);
	/* P1 other than 00 and 80 */
	expect("80 E2 40 00 01 30", 0x6A86);
	/* the chain is kept across a restart, forgotten by a reset */
	reopen();
	for (size_t i = 2; i < last; i++)
		cr_assert_eq(store_block(transmit_raw, blob, len, i, 0), 0x9000, "block %zu after a restart", i);
	uint8_t atr[UICC_ATR_MAX];
	cr_assert_gt(uicc_reset(&t.card, atr), 0);
	cr_assert_eq(db_int("SELECT count(*) FROM uicc_store_data"), 0, "a reset keeps the chain");
	cr_assert_eq(store_last(transmit_raw, blob, len), 0x6A86);
	/* started again it completes */
	cr_assert_eq(store_blob(transmit_raw, blob, len), 0x9000);
	OPENSSL_free(blob);
}

Test(card3b, a_chain_longer_than_the_card_holds_is_refused)
{
	uint8_t apdu[5 + 255];
	memset(apdu, 0x30, sizeof apdu);
	apdu[0] = 0x80;
	apdu[1] = 0xE2;
	apdu[2] = 0x00;
	apdu[4] = 255;
	uint16_t sw = 0x9000;
	for (int i = 0; i < 40 && sw == 0x9000; i++) {
		apdu[3] = (uint8_t)i;
		sw = transmit_raw(apdu, sizeof apdu).sw;
	}
	cr_assert_eq(sw, 0x6A84, "an endless chain: SW %04X", sw);
}

/* ---- the TRE's reads beside the M2ME's USIM -------------------------------------------------------------- */

#define SELECT_ICCID "00 A4 00 04 02 2F E2"
#define READ_ICCID "00 B0 00 00 0A"
#define SELECT_ICCID_BY_PATH "00 A4 08 0C 02 2F E2"  /* what tre/uicc_card.c sends */
#define SELECT_MF "00 A4 00 0C 02 3F 00"
#define ICCID_EF "98 68 00 21 43 65 87 09 21 43"  /* ICCID in swapped BCD */

/*
 * The TRE reads the ICCID through the M2ME while the USIM serves the network (alt3b step 6). The
 * card follows TS 102 221 §8.4.1: from ADF.USIM a file identifier does not reach EF_ICCID, a
 * child of the MF, so the SELECT by identifier is refused 6A82 and READ BINARY then has no EF
 * (6986); SELECT by path from the MF, or the MF first, reaches it. None of them ends the USIM's
 * activation: AUTHENTICATE works without selecting the ADF again. EF_IMSI by SFI then needs the
 * ADF again, the current DF being the MF.
 */
Test(card3b, the_iccid_is_read_while_the_usim_is_active)
{
	expect(SELECT_USIM, 0x9000);
	cr_assert_eq(authenticate(K, OPC, seq(1)), 0x9000);
	expect(SELECT_ICCID, 0x6A82);
	expect(READ_ICCID, 0x6986);
	cr_assert_eq(authenticate(K, OPC, seq(2)), 0x9000, "AUTHENTICATE after the refused SELECT");
	/* by path from the MF */
	expect(SELECT_ICCID_BY_PATH, 0x9000);
	rapdu r = expect(READ_ICCID, 0x9000);
	expect_data(&r, ICCID_EF);
	cr_assert_eq(authenticate(K, OPC, seq(3)), 0x9000, "AUTHENTICATE after reading the ICCID by path");
	expect(READ_IMSI, 0x6A82);
	/* the MF first, then exactly the identifier's SELECT and READ BINARY */
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_MF, 0x9000);
	expect(SELECT_ICCID, 0x9000);
	r = expect(READ_ICCID, 0x9000);
	expect_data(&r, ICCID_EF);
	cr_assert_eq(authenticate(K, OPC, seq(4)), 0x9000, "AUTHENTICATE after reading the ICCID from the MF");
}

/* ---- secrets ---------------------------------------------------------------------------------------------- */

static void expect_no_secrets(void)
{
	const struct { const uint8_t *bytes; const char *name; } secrets[] = {
		{K, "the old K"},       {OPC, "the old OPc"},   {NEW_K, "the new K"},
		{NEW_OPC, "the new OPc"}, {NEW_KIC, "the new KIc"}, {NEW_KID, "the new KID"}, {NEW_DEK, "the new DEK"},
	};
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", t.db_path);
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
		expect_absent(t.db_path, secrets[i].bytes, 16, secrets[i].name);
		expect_absent(wal, secrets[i].bytes, 16, secrets[i].name);
	}
}

Test(card3b, no_key_is_in_the_database_in_clear)
{
	uint8_t nonce[16];
	size_t len = 0;
	get_challenge(nonce);
	uint8_t *blob = good_blob(nonce, &len);
	store_all_but_last(transmit_raw, blob, len);
	expect_no_secrets();  /* the chain holds only ciphertext */
	cr_assert_eq(store_last(transmit_raw, blob, len), 0x9000);
	expect_no_secrets();  /* loaded */
	expect(SWITCH, 0x9000);
	expect_no_secrets();  /* switched: the old K in the shadow */
	reopen();
	char sealed[16];
	db_text("SELECT length(sealed) FROM uicc_key WHERE name = 'K'", sealed, sizeof sealed);
	cr_assert_str_eq(sealed, "44", "K is sealed (16 bytes and 28)");
	/* another storage key opens nothing */
	close_card();
	open_db();
	uint8_t other[32];
	memset(other, 0x77, sizeof other);
	int imported;
	cr_assert_neq(uicc_card_open(&t.card, t.db, other, NULL, &imported), 0);
	OPENSSL_free(blob);
}

/* ---- the daemon against a real agency ---------------------------------------------------------------------- */

#define CARD_ENTITY "uicc-t"
#define OPERATOR OPERATOR_CN  /* the sho the blob names */

static struct {
	char dir[64], conf[128], log[128], endpoint[128];
	ta_agency agency;
	ta_keypair uicc, tester, operator;
	pid_t pid;
	m2m_node *node, *operator_node;
	sqlite3 *operator_db;
	m2m_identity *operator_id;
} w;

static void daemon_setup(void)
{
	char uicc_secret[128], operator_secret[128];
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
	ta_tempdir(w.dir);
	ta_keypair_make(&w.uicc);
	ta_keypair_make(&w.tester);
	ta_keypair_make(&w.operator);
	ta_random_file(w.dir, CARD_ENTITY ".enrol", 32);
	ta_random_file(w.dir, OPERATOR ".enrol", 32);
	ta_path(uicc_secret, sizeof uicc_secret, w.dir, CARD_ENTITY ".enrol");
	ta_path(operator_secret, sizeof operator_secret, w.dir, OPERATOR ".enrol");
	ta_peer peers[] = {{CARD_ENTITY, w.uicc.pub, NULL, "uicc", uicc_secret},
			   {OPERATOR, w.operator.pub, NULL, "operatorFunction", operator_secret}};
	ta_agency_configure(&w.agency, w.dir, peers, 2, NULL);
	ta_agency_start(&w.agency);
}

static void daemon_teardown(void)
{
	m2m_node_free(w.node);
	m2m_identity_free(w.operator_id);
	m2m_node_free(w.operator_node);
	m2m_store_close(w.operator_db);
	int card = ta_stop(w.pid), agency = ta_agency_stop(&w.agency);
	if (card || agency || getenv("M2M_KEEP")) {
		fprintf(stderr, "uicc exited with %d, certauth with %d: see %s\n", card, agency, w.dir);
		return;
	}
	ta_run("rm -rf %s", w.dir);
}

TestSuite(daemon3b, .init = daemon_setup, .fini = daemon_teardown, .timeout = 120);

static void write_card_conf(void)
{
	char text[4096];
	ta_write(w.dir, "card.image", OTA_IMAGE);  /* B's keyset is for its RFM TAR */
	ta_write_key(w.dir, "uicc.key", &w.uicc);
	ta_random_file(w.dir, "uicc.storage", 32);
	snprintf(w.endpoint, sizeof w.endpoint, "ipc://%s/uicc.sock", w.dir);
	snprintf(text, sizeof text,
		 "entity = \"" CARD_ENTITY "\";\ndatabase = \"%s/uicc.db\";\nlog_level = \"info\";\n"
		 "transport = { bind = \"%s\"; secret_key_file = \"%s/uicc.key\"; timeout_ms = 2000; retries = 1; };\n"
		 "peers = ( { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; },\n"
		 "          { id = \"tester\"; public_key = \"%s\"; } );\n"
		 "uicc = { image = \"%s/card.image\"; storage_key_file = \"%s/uicc.storage\";\n"
		 "         agency = \"" TA_AGENCY "\"; enrolment_secret_file = \"%s/" CARD_ENTITY ".enrol\";\n"
		 "         root_certificate = \"%s\"; };\n",
		 w.dir, w.endpoint, w.dir, w.agency.endpoint, w.agency.key.pub, w.tester.pub, w.dir, w.dir, w.dir,
		 w.agency.root);
	ta_write(w.dir, "uicc.conf", text);
	ta_path(w.conf, sizeof w.conf, w.dir, "uicc.conf");
	ta_path(w.log, sizeof w.log, w.dir, "uicc.log");
}

static void start_card(void)
{
	char bin[PATH_MAX];
	w.pid = ta_spawn(ta_binary("UICC_BINARY", "uicc/uicc", bin, sizeof bin), w.conf, w.log);
}

static void stop_card(void)
{
	cr_assert_eq(ta_stop(w.pid), 0, "the uicc daemon did not stop cleanly: see %s", w.log);
	w.pid = 0;
}

static rapdu remote_raw(const uint8_t *apdu, size_t len)
{
	M2M_APDU_COMMAND *c = M2M_APDU_COMMAND_new();
	cr_assert(c && ASN1_OCTET_STRING_set(c->apdu, apdu, (int)len));
	ta_answer a = ta_call(w.node, CARD_ENTITY, M2M_MSG_APDU_COMMAND, c);
	M2M_APDU_COMMAND_free(c);
	rapdu r = {.len = 0, .sw = 0};
	if (a.type == M2M_MSG_APDU_RESPONSE) {
		const M2M_APDU_RESPONSE *b = a.body;
		r.len = (size_t)ASN1_STRING_length(b->data);
		cr_assert_leq(r.len, sizeof r.data);
		memcpy(r.data, ASN1_STRING_get0_data(b->data), r.len);
		r.sw = (uint16_t)b->status_word;
	}
	ta_answer_free(&a);
	return r;
}

static rapdu remote(const char *hex)
{
	uint8_t apdu[300];
	return remote_raw(apdu, unhex(hex, apdu, sizeof apdu));
}

/* The card's certificate by GET DATA over the transport: DER into out, its length (0: none). */
static size_t remote_certificate(uint8_t *out, size_t cap)
{
	size_t have = 0;
	for (;;) {
		uint8_t apdu[] = {0x80, 0xCA, (uint8_t)(have >> 8), (uint8_t)have, 0x00};
		rapdu r = remote_raw(apdu, sizeof apdu);
		if (r.sw != 0x9000)
			return r.sw == 0x6B00 ? have : 0;
		cr_assert_leq(have + r.len, cap);
		memcpy(out + have, r.data, r.len);
		have += r.len;
	}
}

static void open_tester(void)
{
	m2m_node_conf nc = {.timeout_ms = 1000, .retries = 0};
	snprintf(nc.entity, sizeof nc.entity, "tester");
	snprintf(nc.secret_key, sizeof nc.secret_key, "%s", w.tester.sec);
	ta_peer_add(&nc, CARD_ENTITY, w.endpoint, w.uicc.pub);
	w.node = ta_node(&nc, NULL, NULL, NULL);
}

static int card_enrolled(void)
{
	return ta_db_enrolled(w.dir, "uicc.db");
}

static void sleep_ms(int ms)
{
	nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

/* The daemon answers GET DATA with a certificate (it may still be starting). */
static size_t wait_for_certificate(uint8_t *out, size_t cap)
{
	for (int i = 0; i < 100; i++) {
		size_t n = remote_certificate(out, cap);
		if (n)
			return n;
		sleep_ms(100);
	}
	cr_assert_fail("the card gives no certificate: see %s", w.log);
	return 0;
}

/* The sealed key row and the stored certificate, as the daemon's database holds them. */
static void read_identity_rows(uint8_t *sealed, size_t *sealed_len, X509 **cert, X509 **ca)
{
	sqlite3 *db = ta_db_readonly(w.dir, "uicc.db");
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT sealed FROM identity_key", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	*sealed_len = (size_t)sqlite3_column_bytes(st, 0);
	cr_assert_leq(*sealed_len, 1024);
	memcpy(sealed, sqlite3_column_blob(st, 0), *sealed_len);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "more than one key");
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT der FROM identity_chain ORDER BY pos", -1, &st, NULL), SQLITE_OK);
	X509 **certs[] = {cert, ca};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		*certs[i] = m2m_pki_cert_from_der(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		cr_assert_not_null(*certs[i]);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The key opens with the daemon's storage key (associated data "identity_key", identity.c), is the
 * certificate's, and its bytes are nowhere in the database in clear. */
static void expect_key_sealed(const uint8_t *sealed, size_t len, X509 *cert)
{
	uint8_t storage_key[32], der[1024];
	char path[160];
	static const uint8_t header[] = {0x02, 0x01, 0x01, 0x04, 0x20};  /* ECPrivateKey: version 1, privateKey */
	ta_read_hex(w.dir, "uicc.storage", storage_key, sizeof storage_key);
	cr_assert_gt(len, M2M_SEAL_OVERHEAD);
	cr_assert_eq(m2m_unseal(storage_key, "identity_key", 12, sealed, len, der), 0, "the key is not sealed so");
	size_t n = len - M2M_SEAL_OVERHEAD;
	EVP_PKEY *key = m2m_pki_key_from_der(der, n);
	cr_assert_not_null(key);
	cr_assert_eq(EVP_PKEY_eq(key, X509_get0_pubkey(cert)), 1, "the certificate is for another key");
	EVP_PKEY_free(key);
	/* the private scalar: the 32 bytes after its header in the PKCS#8 */
	uint8_t *scalar = memmem(der, n, header, sizeof header);
	cr_assert_not_null(scalar);
	snprintf(path, sizeof path, "%s/uicc.db", w.dir);
	expect_absent(path, scalar + sizeof header, 32, "the card's private key");
	snprintf(path, sizeof path, "%s/uicc.db-wal", w.dir);
	expect_absent(path, scalar + sizeof header, 32, "the card's private key");
	m2m_wipe(der, sizeof der);
}

Test(daemon3b, the_card_makes_its_key_once_and_enrols_as_uicc)
{
	uint8_t sealed[1024], again[1024], der[4096], der_again[4096];
	size_t sealed_len = 0, again_len = 0;
	X509 *cert = NULL, *ca = NULL;
	write_card_conf();
	start_card();
	cr_assert(ta_wait_for(card_enrolled, 30, sleep_ms), "the card did not enrol: see %s", w.log);
	open_tester();
	size_t n = wait_for_certificate(der, sizeof der);
	read_identity_rows(sealed, &sealed_len, &cert, &ca);
	/* GET DATA gives the certificate the agency issued: CN the card's entity, profile uicc */
	uint8_t *stored = NULL;
	size_t stored_len = 0;
	cr_assert_eq(m2m_pki_cert_der(cert, &stored, &stored_len), 0);
	cr_assert_eq(n, stored_len);
	cr_assert_arr_eq(der, stored, n);
	OPENSSL_free(stored);
	char cn[64];
	cr_assert_eq(m2m_pki_cert_cn(cert, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, CARD_ENTITY);
	X509 *root = m2m_pki_cert_read_pem(w.agency.root);
	m2m_trust *trust = m2m_trust_new(root);
	cr_assert_eq(m2m_trust_add_intermediate(trust, ca), 0);
	cr_assert_eq(m2m_trust_verify(trust, cert, M2M_PROFILE_UICC), M2M_OK);
	expect_key_sealed(sealed, sealed_len, cert);
	/* a restart keeps the key and the certificate */
	stop_card();
	start_card();
	cr_assert_eq(wait_for_certificate(der_again, sizeof der_again), n);
	cr_assert_arr_eq(der_again, der, n, "another certificate after a restart");
	X509 *cert2 = NULL, *ca2 = NULL;
	read_identity_rows(again, &again_len, &cert2, &ca2);
	cr_assert_eq(again_len, sealed_len);
	cr_assert_arr_eq(again, sealed, sealed_len, "the key was made again");
	X509_free(cert2);
	X509_free(ca2);
	m2m_trust_free(trust);
	X509_free(root);
	X509_free(cert);
	X509_free(ca);
}

static int operator_ready(void)
{
	m2m_node *nodes[] = {w.operator_node};
	m2m_identity *ids[] = {w.operator_id};
	ta_pump(nodes, ids, 1, 20);
	return m2m_identity_ready(w.operator_id);
}

static void open_operator(void)
{
	m2m_node_conf nc = {.timeout_ms = 1000, .retries = 0};
	snprintf(nc.entity, sizeof nc.entity, OPERATOR);
	snprintf(nc.secret_key, sizeof nc.secret_key, "%s", w.operator.sec);
	ta_peer_add(&nc, TA_AGENCY, w.agency.endpoint, w.agency.key.pub);
	w.operator_id = ta_identity_open(&w.agency, OPERATOR, "mno-b.db", M2M_PROFILE_OPERATOR_FUNCTION, 60,
					 &w.operator_db);
	w.operator_node = ta_node(&nc, w.operator_db, NULL, NULL);
	cr_assert(ta_wait_for(operator_ready, 30, sleep_ms), "the operator did not enrol");
}

Test(daemon3b, the_daemon_takes_a_blob_from_an_operator_the_agency_certified)
{
	uint8_t der[4096], nonce[16];
	write_card_conf();
	start_card();
	cr_assert(ta_wait_for(card_enrolled, 30, sleep_ms), "the card did not enrol: see %s", w.log);
	open_tester();
	size_t n = wait_for_certificate(der, sizeof der);
	X509 *card = m2m_pki_cert_from_der(der, n);
	cr_assert_not_null(card);
	open_operator();
	rapdu r = remote(GET_CHALLENGE);
	cr_assert_eq(r.sw, 0x9000);
	cr_assert_eq(r.len, 16);
	memcpy(nonce, r.data, 16);
	/* the new operator's blob: signed by its identity, encrypted to the card's certificate */
	M2M_UICC_CREDENTIAL *v = credential(ICCID, nonce);
	uint8_t *content = NULL, *sd = NULL, *blob = NULL;
	int clen = i2d_M2M_UICC_CREDENTIAL(v, &content);
	size_t sdlen = 0, len = 0;
	cr_assert_gt(clen, 0);
	cr_assert_eq(m2m_identity_sign(w.operator_id, content, (size_t)clen, &sd, &sdlen), 0);
	cr_assert_eq(m2m_cms_encrypt(card, sd, sdlen, &blob, &len), 0);
	cr_assert_eq(store_blob(remote_raw, blob, len), 0x9000, "see %s", w.log);
	cr_assert_eq(remote(SWITCH).sw, 0x9000);
	cr_assert_eq(remote(SELECT_USIM).sw, 0x9000);
	r = remote(READ_IMSI);
	cr_assert_eq(r.sw, 0x9000);
	expect_data(&r, NEW_IMSI_EF);
	/* the same blob again: its challenge is used up */
	cr_assert_eq(remote(COMMIT).sw, 0x9000);
	cr_assert_eq(store_blob(remote_raw, blob, len), 0x6984);
	OPENSSL_free(content);
	OPENSSL_free(sd);
	OPENSSL_free(blob);
	M2M_UICC_CREDENTIAL_free(v);
	X509_free(card);
}
