/*
 * The drf process over the wire, with a real certauth (agency and PVA) and, for the validation
 * gate, a real tre process; the other parties are the test's own nodes (test_world.h). The change
 * of subscription has its own tests (test_change.c).
 */
#include "test_world.h"

#include "aka/aka.h"
#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

TestSuite(drf, .init = setup, .fini = teardown, .timeout = 120);

/* ---- the ICF's pool ------------------------------------------------------------------------------ */

typedef struct credential {
	char tre[64], pcid[16];
	uint8_t k[16], opc[16];
	int64_t valid_until;
} credential;

/* pcidAssignRequest for n TREs: the answer; the credentials into out (n of them) when it is one. */
static answer assign(int from, const char *const *tres, int n, credential *out)
{
	M2M_PCID_ASSIGN_REQUEST *q = M2M_PCID_ASSIGN_REQUEST_new();
	for (int i = 0; i < n; i++) {
		ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
		m2m_set_str(s, tres[i]);
		sk_ASN1_UTF8STRING_push(q->tres, s);
	}
	answer a = call(from, M2M_MSG_PCID_ASSIGN_REQUEST, q);
	M2M_PCID_ASSIGN_REQUEST_free(q);
	if (a.type != M2M_MSG_PCID_ASSIGN_RESPONSE)
		return a;
	cr_assert_eq(sk_M2M_PCID_CREDENTIAL_num(a.body), n);
	for (int i = 0; i < n && out; i++) {
		const M2M_PCID_CREDENTIAL *c = sk_M2M_PCID_CREDENTIAL_value(a.body, i);
		cr_assert_eq(m2m_str(c->tre, out[i].tre, sizeof out[i].tre), 0);
		cr_assert_str_eq(out[i].tre, tres[i], "in the order asked");
		cr_assert_eq(m2m_digits(c->pcid, out[i].pcid, sizeof out[i].pcid, 15, 15), 0);
		cr_assert_eq(m2m_read_octets(c->k, out[i].k, 16), 0);
		cr_assert_eq(m2m_read_octets(c->opc, out[i].opc, 16), 0);
		cr_assert_eq(m2m_read_time(c->valid_until, &out[i].valid_until), 0);
	}
	answer_free(&a);
	return a;
}

static credential assign_one(const char *tre)
{
	credential c;
	answer a = assign(TESTBED, &tre, 1, &c);
	assert_type(a, M2M_MSG_PCID_ASSIGN_RESPONSE);
	return c;
}

/* Whether a file holds the bytes: a secret in clear on disk. */
static int file_holds(const char *name, const uint8_t *bytes, size_t len)
{
	char path[128];
	ta_path(path, sizeof path, w.dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	static uint8_t buf[4 << 20];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	for (size_t i = 0; i + len <= n; i++)
		if (!memcmp(buf + i, bytes, len))
			return 1;
	return 0;
}

Test(drf, pool_assignment_idempotent_all_or_nothing)
{
	start("after_attach", 3);
	const char *two[] = {"tre-a", "tre-b"}, *again[] = {"tre-a"}, *over[] = {"tre-c", "tre-d"};
	credential c[2], d[1];
	answer a = assign(TESTBED, two, 2, c);
	assert_type(a, M2M_MSG_PCID_ASSIGN_RESPONSE);
	cr_assert_str_neq(c[0].pcid, c[1].pcid);
	cr_assert_eq(strncmp(c[0].pcid, PLMN, 5), 0, "an IMSI of the registration operator");
	cr_assert_neq(memcmp(c[0].k, c[1].k, 16), 0);
	int64_t days = (c[0].valid_until - time(NULL) + 3600) / 86400;
	cr_assert_eq(days, 30, "valid for pcid_validity_days");
	/* the same TRE again: the same PCID and keys */
	a = assign(TESTBED, again, 1, d);
	assert_type(a, M2M_MSG_PCID_ASSIGN_RESPONSE);
	cr_assert_str_eq(d[0].pcid, c[0].pcid);
	cr_assert_arr_eq(d[0].k, c[0].k, 16);
	cr_assert_arr_eq(d[0].opc, c[0].opc, 16);
	/* two more than the one left: refused whole, nothing assigned */
	a = assign(TESTBED, over, 2, NULL);
	assert_refused(a, M2M_R_POOL_EXHAUSTED);
	char out[4096];
	cr_assert_eq(admin(out, sizeof out, "pool list"), 0, "%s", out);
	cr_assert_eq(count_lines(out, "\n00109"), 2, "%s", out);
	cr_assert_null(strstr(out, "tre-c"), "no partial assignment: %s", out);
	cr_assert_not_null(strstr(out, "tre-a"), "%s", out);
	/* the one left goes to the first of them */
	credential e = assign_one("tre-c");
	cr_assert_str_eq(e.pcid, "001090000000003");
	/* refusals */
	a = assign(VISITED, again, 1, NULL);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	const char *bad[] = {"tre-a", ""};
	a = assign(TESTBED, bad, 2, NULL);
	assert_refused(a, M2M_R_BAD_BODY);
	cr_assert(strstr(a.text, "tres[1]"), "%s", a.text);
	/* K_pc is nowhere on disk in clear */
	cr_assert_not(file_holds("drf.db", c[0].k, 16) || file_holds("drf.db-wal", c[0].k, 16), "K_pc stored in clear");
}

/* ---- AKA with K_pc ------------------------------------------------------------------------------- */

static answer auth_info(int from, const char *imsi, const char *network, int n, const uint8_t *rand,
			const uint8_t *auts)
{
	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_str(q->serving_network, network);
	q->num_vectors = (uint64_t)n;
	if (auts) {
		q->resync = M2M_RESYNC_new();
		ASN1_OCTET_STRING_set(q->resync->rand, rand, 16);
		ASN1_OCTET_STRING_set(q->resync->auts, auts, 14);
	}
	answer a = call(from, M2M_MSG_AUTH_INFO_REQUEST, q);
	M2M_AUTH_INFO_REQUEST_free(q);
	return a;
}

/* The USIM side (lib/aka) on one vector: its status; res checked against xres on success. */
static m2m_aka_status usim(const credential *c, m2m_sqn_usim *u, const M2M_AUTH_VECTOR *v, uint8_t auts[14])
{
	m2m_milenage m;
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_milenage_init(&m, c->k, c->opc), 0);
	m2m_aka_status s = m2m_aka_usim_authenticate(&m, u, ASN1_STRING_get0_data(v->rand), ASN1_STRING_get0_data(v->autn), &r);
	m2m_milenage_clear(&m);
	if (s == M2M_AKA_OK) {
		cr_assert_eq(ASN1_STRING_length(v->xres), 8);
		cr_assert_arr_eq(r.res, ASN1_STRING_get0_data(v->xres), 8);
		cr_assert_arr_eq(r.ck, ASN1_STRING_get0_data(v->ck), 16);
		cr_assert_arr_eq(r.ik, ASN1_STRING_get0_data(v->ik), 16);
	}
	if (auts)
		memcpy(auts, r.auts, 14);
	return s;
}

Test(drf, vectors_verify_in_the_usim_and_resynchronise)
{
	start("after_attach", 4);
	credential c = assign_one("tre-a");
	m2m_sqn_usim u;
	cr_assert_eq(m2m_sqn_usim_init(&u, NULL), 0);
	answer a = auth_info(VISITED, c.pcid, "mno-v", 2, NULL, NULL);
	assert_type(a, M2M_MSG_AUTH_INFO_RESPONSE);
	cr_assert_eq(sk_M2M_AUTH_VECTOR_num(a.body), 2);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(usim(&c, &u, sk_M2M_AUTH_VECTOR_value(a.body, i), NULL), M2M_AKA_OK, "vector %d", i);
	/* a vector the USIM has seen: out of sequence; the AUTS re-synchronises the ICF */
	uint8_t auts[14], rand[16];
	const M2M_AUTH_VECTOR *old = sk_M2M_AUTH_VECTOR_value(a.body, 0);
	memcpy(rand, ASN1_STRING_get0_data(old->rand), 16);
	cr_assert_eq(usim(&c, &u, old, auts), M2M_AKA_SYNC_FAILURE);
	answer_free(&a);
	a = auth_info(VISITED, c.pcid, "mno-v", 1, rand, auts);
	assert_type(a, M2M_MSG_AUTH_INFO_RESPONSE);
	cr_assert_eq(usim(&c, &u, sk_M2M_AUTH_VECTOR_value(a.body, 0), NULL), M2M_AKA_OK);
	answer_free(&a);
	/* a forged AUTS */
	auts[13] ^= 1;
	a = auth_info(VISITED, c.pcid, "mno-v", 1, rand, auts);
	assert_refused(a, M2M_R_AUTHENTICATION_FAILED);
	/* refusals */
	a = auth_info(VISITED, "001099999999999", "mno-v", 1, NULL, NULL);
	assert_refused(a, M2M_R_NOT_FOUND);
	a = auth_info(VISITED, c.pcid, "mno-a", 1, NULL, NULL);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	a = auth_info(VISITED, c.pcid, "mno-v", 6, NULL, NULL);
	assert_refused(a, M2M_R_BAD_BODY);
}

/* Sets every PCID's validity in the past, as time would (the daemon runs on: WAL). */
static void age_pcids(void)
{
	sqlite3 *db = NULL;
	char path[128];
	ta_path(path, sizeof path, w.dir, "drf.db");
	cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	cr_assert_eq(sqlite3_exec(db, "UPDATE drf_pcid SET valid_until = 1000", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

Test(drf, expired_pcid_refused_released_and_reused)
{
	start("after_attach", 1);
	credential c = assign_one("tre-a");
	const char *other = "tre-b";
	answer a = assign(TESTBED, &other, 1, NULL);
	assert_refused(a, M2M_R_POOL_EXHAUSTED);
	age_pcids();
	a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	assert_refused(a, M2M_R_PCID_EXPIRED);
	a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	assert_refused(a, M2M_R_NOT_FOUND);  /* the refusal was recorded: released */
	credential d = assign_one("tre-b");
	cr_assert_str_eq(d.pcid, c.pcid, "the same PCID, back in the pool, for another TRE");
	cr_assert_neq(memcmp(d.k, c.k, 16), 0, "with new keys");
	/* the tick releases expired PCIDs too, unasked */
	age_pcids();
	char out[4096];
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(admin(out, sizeof out, "pool list"), 0);
		if (!strstr(out, "tre-b"))
			break;
		usleep(50 * 1000);
	}
	cr_assert_null(strstr(out, "tre-b"), "%s", out);
}

/* ---- updateLocation and purge ------------------------------------------------------------------- */

static answer update_location(const char *imsi, const char *imei)
{
	M2M_UPDATE_LOCATION *q = M2M_UPDATE_LOCATION_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_digits(&q->imei, imei);
	m2m_set_str(q->serving_network, "mno-v");
	answer a = call(VISITED, M2M_MSG_UPDATE_LOCATION, q);
	M2M_UPDATE_LOCATION_free(q);
	return a;
}

static answer purge(const char *imsi)
{
	M2M_PURGE *q = M2M_PURGE_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_str(q->serving_network, "mno-v");
	answer a = call(VISITED, M2M_MSG_PURGE, q);
	M2M_PURGE_free(q);
	return a;
}

Test(drf, one_device_per_pcid)
{
	start("after_attach", 4);
	credential c = assign_one("tre-a");
	answer a = update_location(c.pcid, IMEI_A);
	assert_type(a, M2M_MSG_UPDATE_LOCATION_ACK);
	const M2M_SUBSCRIPTION_PROFILE *p = a.body;
	char apn[128];
	cr_assert_eq(sk_ASN1_UTF8STRING_num(p->allowed_apns), 1);
	m2m_str(sk_ASN1_UTF8STRING_value(p->allowed_apns, 0), apn, sizeof apn);
	cr_assert_str_eq(apn, APN, "the provisioning APN only");
	cr_assert_eq(p->cs_allowed, 0);
	answer_free(&a);
	/* the same device again is fine; another one is refused while the first is attached */
	a = update_location(c.pcid, IMEI_A);
	assert_type(a, M2M_MSG_UPDATE_LOCATION_ACK);
	answer_free(&a);
	a = update_location(c.pcid, IMEI_B);
	assert_refused(a, M2M_R_PCID_IN_USE);
	a = purge(c.pcid);
	assert_type(a, M2M_MSG_PURGE_ACK);
	answer_free(&a);
	a = update_location(c.pcid, IMEI_B);
	assert_type(a, M2M_MSG_UPDATE_LOCATION_ACK);
	answer_free(&a);
	a = update_location("001099999999999", IMEI_B);
	assert_refused(a, M2M_R_NOT_FOUND);
	/* a purge after the PCID was released (the device detaching once it has its MCIM) */
	a = purge("001099999999999");
	assert_type(a, M2M_MSG_PURGE_ACK);
	answer_free(&a);
}

/* ---- registration ---------------------------------------------------------------------------------- */

Test(drf, registration_batches_authorised_and_atomic)
{
	start("after_attach", 4);
	reg portal[] = {{IMEI_A, "tre-a", "mno-a", "mno-a"}, {IMEI_B, "tre-b", "mno-b", "mno-b"}};
	answer a = register_batch(TESTBED, portal, 2);
	cr_assert_eq(registered(&a), 2, "a registrar registers for any SHO");
	reg own[] = {{"35693803564381", "tre-c", "mno-a", "mno-a"}};
	a = register_batch(SHO_A, own, 1);
	cr_assert_eq(registered(&a), 1, "an SHO registers its own devices");
	reg foreign[] = {{"35693803564382", "tre-d", "mno-a", "mno-a"}, {"35693803564383", "tre-e", "mno-b", "mno-b"}};
	a = register_batch(SHO_A, foreign, 2);
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	cr_assert(strstr(a.text, "registration 1"), "%s", a.text);
	reg bad_imei[] = {{"35693803564384", "tre-f", "mno-a", "mno-a"}, {"356938035643808", "tre-g", "mno-a", "mno-a"}};
	a = register_batch(TESTBED, bad_imei, 2);
	assert_refused(a, M2M_R_BAD_BODY);
	cr_assert(strstr(a.text, "registration 1"), "the index of the bad entry: %s", a.text);
	reg empty[] = {{"35693803564385", "", "mno-a", "mno-a"}};
	a = register_batch(TESTBED, empty, 1);
	assert_refused(a, M2M_R_BAD_BODY);
	reg switch_sho[] = {{"35693803564386", "tre-h", "mno-a", "mno-a"}, {IMEI_A, "tre-a", "mno-b", "mno-b"}};
	a = register_batch(TESTBED, switch_sho, 2);
	assert_refused(a, M2M_R_WRONG_STATE);
	/* none of the refused batches left anything */
	char out[4096];
	cr_assert_eq(admin(out, sizeof out, "registrations"), 0, "%s", out);
	cr_assert_eq(count_lines(out, "\n"), 3, "%s", out);
	cr_assert_null(strstr(out, "tre-d"), "%s", out);
	cr_assert_null(strstr(out, "tre-f"), "%s", out);
	cr_assert_null(strstr(out, "tre-h"), "%s", out);
	cr_assert_not_null(strstr(out, "tre-a " IMEI_A " mno-a mno-a registered"), "%s", out);
	/* the same SHO again: accepted, nothing doubled */
	a = register_batch(SHO_A, own, 1);
	cr_assert_eq(registered(&a), 1);
}

Test(drf, admin_registers_a_file)
{
	start("after_attach", 4);
	char out[4096];
	ta_write(w.dir, "devices.txt", "# IMEI TRE SHO DPF\n" IMEI_A " tre-a mno-a mno-a\n\n" IMEI_B " tre-b mno-b mno-b\n");
	ta_write(w.dir, "bad.txt", IMEI_A " tre-c mno-a mno-a\n12345 tre-d mno-a mno-a\n");
	char cmd[256];
	snprintf(cmd, sizeof cmd, "register --file %s/bad.txt", w.dir);
	cr_assert_eq(admin(out, sizeof out, cmd), 1);
	cr_assert(strstr(out, "bad.txt:2"), "%s", out);
	snprintf(cmd, sizeof cmd, "register --file %s/devices.txt", w.dir);
	cr_assert_eq(admin(out, sizeof out, cmd), 0, "%s", out);
	cr_assert(strstr(out, "registered 2"), "%s", out);
	cr_assert_eq(admin(out, sizeof out, "registrations"), 0, "%s", out);
	cr_assert_eq(count_lines(out, "\n"), 2, "%s", out);
	cr_assert_eq(admin(out, sizeof out, "frobnicate"), 2);
}

/* ---- discovery ----------------------------------------------------------------------------------- */

static answer discover(const char *tre, const char *imei, const uint8_t nonce[32])
{
	M2M_SIGNED_OBJECT *so = discovery_body(tre, imei, nonce, 32, NULL, w.tre_x_key, w.tre_x_cert, w.tre_x_extra);
	answer a = call(VISITED, M2M_MSG_DISCOVERY_REQUEST, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

/* tre-x registered for mno-a, the drf enrolled; a fresh nonce for the first discovery. */
static void start_discovery(uint8_t nonce[32])
{
	m2m_random(nonce, 32);
	start("after_attach", 4);
	enrol_fake_tre();
	reg r[] = {{IMEI_A, "tre-x", "mno-a", "mno-a-dpf"}};
	answer a = register_batch(TESTBED, r, 1);
	cr_assert_eq(registered(&a), 1);
	wait_drf_enrolled();
}

Test(drf, discovery_answers_a_signed_ticket)
{
	uint8_t nonce[32];
	start_discovery(nonce);
	answer a = discover("tre-x", IMEI_A, nonce);
	assert_type(a, M2M_MSG_DISCOVERY_RESPONSE);
	/* what the TRE and the DPF check, with the root file alone */
	X509 *root = m2m_pki_cert_read_pem(w.agency.root);
	m2m_trust *trust = m2m_trust_new(root);
	void *value = NULL;
	X509 *signer = NULL;
	cr_assert_eq(m2m_cms_verify_item(trust, a.body, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), &value, &signer), M2M_OK);
	char cn[64], text[64];
	cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, "drf");
	cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_REGISTRATION);
	const M2M_REGISTRATION_TICKET *t = value;
	cr_assert_eq(m2m_str(t->tre, text, sizeof text), 0);
	cr_assert_str_eq(text, "tre-x");
	cr_assert_eq(m2m_digits(t->m2me, text, sizeof text, 14, 16), 0);
	cr_assert_str_eq(text, IMEI_A);
	cr_assert_eq(m2m_str(t->sho, text, sizeof text), 0);
	cr_assert_str_eq(text, "mno-a");
	cr_assert_eq(m2m_str(t->dpf, text, sizeof text), 0);
	cr_assert_str_eq(text, "mno-a-dpf");
	cr_assert_arr_eq(ASN1_STRING_get0_data(t->nonce), nonce, 32);
	int64_t expires = 0;
	cr_assert_eq(m2m_read_time(t->expires, &expires), 0);
	cr_assert(expires > time(NULL) + 590 && expires <= time(NULL) + 600, "ticket_seconds");
	/* the same discovery again: the same ticket */
	answer b = discover("tre-x", IMEI_A, nonce);
	assert_type(b, M2M_MSG_DISCOVERY_RESPONSE);
	const ASN1_OCTET_STRING *c1 = ((M2M_SIGNED_OBJECT *)a.body)->cms, *c2 = ((M2M_SIGNED_OBJECT *)b.body)->cms;
	cr_assert_eq(ASN1_STRING_cmp(c1, c2), 0);
	M2M_REGISTRATION_TICKET_free(value);
	X509_free(signer);
	m2m_trust_free(trust);
	X509_free(root);
	answer_free(&a);
	answer_free(&b);
}

Test(drf, discovery_refusals)
{
	uint8_t nonce[32];
	start_discovery(nonce);
	answer a = discover("tre-x", IMEI_B, nonce);
	assert_refused(a, M2M_R_NOT_REGISTERED);
	a = discover("tre-y", IMEI_A, nonce);
	assert_refused(a, M2M_R_BAD_SIGNATURE);
	/* a TRE certificate the test made itself: not the agency's */
	EVP_PKEY *k = m2m_pki_keygen();
	m2m_cert_spec spec = {M2M_CERT_ROOT, "tre-x", k, 7, time(NULL) - 60, time(NULL) + 3600, -1, NULL};
	X509 *self = m2m_pki_issue(&spec, NULL, k);
	M2M_SIGNED_OBJECT *so = discovery_body("tre-x", IMEI_A, nonce, 32, NULL, k, self, NULL);
	a = call(VISITED, M2M_MSG_DISCOVERY_REQUEST, so);
	assert_refused(a, M2M_R_BAD_CHAIN);
	/* a nonce of another size */
	M2M_SIGNED_OBJECT_free(so);
	so = discovery_body("tre-x", IMEI_A, nonce, 31, NULL, w.tre_x_key, w.tre_x_cert, w.tre_x_extra);
	a = call(VISITED, M2M_MSG_DISCOVERY_REQUEST, so);
	assert_refused(a, M2M_R_BAD_BODY);
	/* a signature over other bytes */
	M2M_SIGNED_OBJECT_free(so);
	so = discovery_body("tre-x", IMEI_A, nonce, 32, NULL, w.tre_x_key, w.tre_x_cert, w.tre_x_extra);
	so->cms->data[so->cms->length / 2] ^= 1;
	a = call(VISITED, M2M_MSG_DISCOVERY_REQUEST, so);
	cr_assert(a.reason == M2M_R_BAD_SIGNATURE || a.reason == M2M_R_BAD_BODY, "%s: %s", m2m_reason_name(a.reason), a.text);
	M2M_SIGNED_OBJECT_free(so);
	X509_free(self);
	EVP_PKEY_free(k);
}

static int revoked_reason(m2m_reason expected)
{
	uint8_t nonce[32];
	for (int i = 0; i < 100; i++) {
		m2m_random(nonce, sizeof nonce);
		answer a = discover("tre-x", IMEI_A, nonce);
		answer_free(&a);
		if (a.reason == expected)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

Test(drf, discovery_by_a_revoked_tre)
{
	uint8_t nonce[32];
	start_discovery(nonce);
	uint64_t serial = 0;
	cr_assert_eq(m2m_pki_cert_serial(w.tre_x_cert, &serial), 0);
	cr_assert_eq(ta_agency_admin(&w.agency, "revoke --serial %llu", (unsigned long long)serial), 0);
	cr_assert(revoked_reason(M2M_R_CERTIFICATE_REVOKED), "certificateRevoked once the CRL is fetched (see %s)", w.dir);
	cr_assert_eq(ta_agency_admin(&w.agency, "revoke --model " MODEL), 0);
	cr_assert(revoked_reason(M2M_R_MODEL_REVOKED), "modelRevoked takes precedence (see %s)", w.dir);
}

/* ---- provisioned ---------------------------------------------------------------------------------- */

Test(drf, provisioned_releases_the_pcid)
{
	start("after_attach", 1);
	reg r[] = {{IMEI_A, "tre-a", "mno-a", "mno-a"}};
	answer a = register_batch(TESTBED, r, 1);
	cr_assert_eq(registered(&a), 1);
	credential c = assign_one("tre-a");
	a = provisioned(SHO_B, "tre-a", "mno-b");
	assert_refused(a, M2M_R_WRONG_SHO);
	a = provisioned(SHO_B, "tre-a", "mno-a");
	assert_refused(a, M2M_R_NOT_AUTHORISED);
	a = provisioned(SHO_A, "tre-z", "mno-a");
	assert_refused(a, M2M_R_NOT_REGISTERED);
	a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	assert_type(a, M2M_MSG_AUTH_INFO_RESPONSE);
	answer_free(&a);
	a = provisioned(SHO_A, "tre-a", "mno-a");
	assert_type(a, M2M_MSG_PROVISIONED_ACK);
	answer_free(&a);
	a = provisioned(SHO_A, "tre-a", "mno-a");
	assert_type(a, M2M_MSG_PROVISIONED_ACK);
	answer_free(&a);
	a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	assert_refused(a, M2M_R_NOT_FOUND);
	char out[4096];
	cr_assert_eq(admin(out, sizeof out, "registrations"), 0, "%s", out);
	cr_assert(strstr(out, "tre-a " IMEI_A " mno-a mno-a provisioned"), "%s", out);
	/* the released PCID goes to the next TRE (the pool holds one) */
	credential d = assign_one("tre-b");
	cr_assert_str_eq(d.pcid, c.pcid);
}

Test(drf, other_messages_refused)
{
	start("after_attach", 1);
	M2M_INSTALL_ACK *q = M2M_INSTALL_ACK_new();
	uint8_t id[16] = {0};
	ASN1_OCTET_STRING_set(q->mcim_id, id, sizeof id);
	answer a = call(SHO_A, M2M_MSG_INSTALL_ACK, q);
	M2M_INSTALL_ACK_free(q);
	assert_refused(a, M2M_R_UNEXPECTED_MESSAGE);
}

/* ---- the validation gate, with a real TRE ------------------------------------------------------------ */

/* tre-1: enrols at the agency, fetches its platform type, boots; challenged by the PVA. os.bin
 * holds os_content (the certified content, or not). */
static void start_tre(const char *os_content)
{
	char text[4096], components[1024] = "", bin[512], conf[128], log[128];
	static const int registers[COMPONENTS] = {0, 0, 1};
	for (int i = 0; i < COMPONENTS; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s.bin", component_names[i]);
		ta_write(w.dir, name, i == 2 ? os_content : component_content[i]);
		snprintf(components + strlen(components), sizeof components - strlen(components),
			 "%s{ name = \"%s\"; file = \"%s/%s\"; register = %d; }", i ? ", " : "", component_names[i], w.dir,
			 name, registers[i]);
	}
	snprintf(text, sizeof text,
		 "entity = \"tre-1\";\ndatabase = \"%s/tre-1.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/tre-1.sock\"; secret_key_file = \"%s/tre-1.key\"; timeout_ms = 2000; retries = 1; };\n"
		 "peers = ( { id = \"testbed\"; public_key = \"%s\"; },\n"
		 "  { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; } );\n"
		 "tre = { storage_key_file = \"%s/tre-1.storage\"; agency = \"" TA_AGENCY "\";\n"
		 "  enrolment_secret_file = \"%s/tre-1.enrol\"; root_certificate = \"%s\";\n"
		 "  model = \"" MODEL "\"; version = \"" VERSION "\"; assurance_level = %d; pva = \"" TA_AGENCY "\";\n"
		 "  report_to = ( \"" TA_AGENCY "\" ); tamper_reaction = \"refuse\";\n  components = ( %s ); };\n",
		 w.dir, w.dir, w.dir, w.clients[TESTBED].pub, w.agency.endpoint, w.agency.key.pub, w.dir, w.dir,
		 w.agency.root, LEVEL, components);
	ta_write(w.dir, "tre-1.conf", text);
	ta_path(conf, sizeof conf, w.dir, "tre-1.conf");
	ta_path(log, sizeof log, w.dir, "tre-1.log");
	w.tre = ta_spawn(ta_binary("TRE_BINARY", "tre/tre", bin, sizeof bin), conf, log);
}

/* The TRE's status until it is enrolled and booted. */
static void wait_tre_ready(void)
{
	for (int i = 0; i < 300; i++) {
		M2M_TRE_CONTROL *c = M2M_TRE_CONTROL_new();
		ASN1_ENUMERATED_set(c->action, M2M_TRE_CTL_STATUS);
		answer a = call_to(TESTBED, "tre-1", M2M_MSG_TRE_CONTROL, c);
		M2M_TRE_CONTROL_free(c);
		const M2M_TRE_STATUS *s = a.type == M2M_MSG_TRE_STATUS ? a.body : NULL;
		int ready = s && s->booted && s->enrolled;
		answer_free(&a);
		if (ready)
			return;
		usleep(50 * 1000);
	}
	cr_assert_fail("tre-1 never enrolled and booted: see %s/tre-1.log", w.dir);
}

/* Everything with the gate before_av and tre-1 up: the PCID assigned to tre-1. */
static credential start_gate(const char *os_content)
{
	start("before_av", 4);
	start_tre(os_content);
	wait_tre_ready();
	wait_drf_enrolled();
	return assign_one("tre-1");
}

/* Vectors released only after the PVA's fresh OK verdict on the PCID's TRE. */
Test(drf, gate_before_av_releases_vectors_on_an_ok_verdict)
{
	credential c = start_gate(component_content[2]);
	answer a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	assert_type(a, M2M_MSG_AUTH_INFO_RESPONSE);
	answer_free(&a);
	cr_assert_eq(ta_run("grep -q 'asking certauth to validate tre-1' %s/drf.log", w.dir), 0, "the PVA was asked");
	/* the verdict is cached: the next vectors need no new validation */
	a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	assert_type(a, M2M_MSG_AUTH_INFO_RESPONSE);
	answer_free(&a);
	cr_assert_eq(ta_run("test $(grep -c 'asking certauth to validate tre-1' %s/drf.log) -eq 1", w.dir), 0,
		     "validated once");
}

Test(drf, gate_before_av_refuses_when_the_pva_fails_the_tre)
{
	credential c = start_gate("operating system with a rootkit");
	answer a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	cr_assert_eq(a.type, M2M_MSG_ERROR, "vectors for a TRE the PVA failed");
	cr_assert(a.reason == M2M_R_TAMPER_DETECTED || a.reason == M2M_R_COMPONENT_MODIFIED,
		  "the verdict's reason, not %s: %s", m2m_reason_name(a.reason), a.text);
	cr_assert(strstr(a.text, "did not validate tre-1"), "%s: %s", m2m_reason_name(a.reason), a.text);
	/* and nothing was cached: the next attempt asks again */
	a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	cr_assert_eq(a.type, M2M_MSG_ERROR);
	cr_assert_eq(ta_run("test $(grep -c 'asking certauth to validate tre-1' %s/drf.log) -eq 2", w.dir), 0);
}

Test(drf, gate_after_attach_serves_at_once)
{
	start("after_attach", 4);
	credential c = assign_one("tre-1");  /* no TRE process, no verdict: none asked for */
	answer a = auth_info(VISITED, c.pcid, "mno-v", 1, NULL, NULL);
	assert_type(a, M2M_MSG_AUTH_INFO_RESPONSE);
	answer_free(&a);
	cr_assert_neq(ta_run("grep -q 'asking' %s/drf.log", w.dir), 0);
}

/* ---- configuration --------------------------------------------------------------------------------- */

/* drf --check-config on the configuration with find replaced: its exit status. */
static int check_config(const char *find, const char *replace)
{
	char path[128], bin[512], text[8192], edited[8192];
	ta_path(path, sizeof path, w.dir, "drf.conf");
	FILE *f = fopen(path, "r");
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = 0;
	char *at = strstr(text, find);
	cr_assert_not_null(at, "%s is not in the configuration", find);
	snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, replace, at + strlen(find));
	ta_write(w.dir, "check.conf", edited);
	return ta_run("%s -c %s/check.conf --check-config >>%s/check.log 2>&1",
		      ta_binary("DRF_BINARY", "drf/drf", bin, sizeof bin), w.dir, w.dir);
}

Test(drf, configuration_checked)
{
	start_agency();  /* its root certificate */
	write_drf_conf("after_attach", 4);
	cr_assert_eq(check_config("apn", "apn"), 0);
	cr_assert_eq(check_config("\"after_attach\"", "\"before_av\""), 0, "with a pva");
	cr_assert_eq(check_config("\"after_attach\"", "\"whenever\""), 2);
	cr_assert_eq(check_config("pva = \"" TA_AGENCY "\";", "pva = \"testbed\";"), 2, "a pva without endpoint");
	cr_assert_eq(check_config("first = \"" FIRST "\"", "first = \"001010000000001\""), 2, "outside the plmn");
	cr_assert_eq(check_config("first = \"" FIRST "\"", "first = \"001099999999999\""), 2, "past the last IMSI");
	cr_assert_eq(check_config("suppliers = [ \"testbed\" ]", "suppliers = [ \"nobody\" ]"), 2);
	cr_assert_eq(check_config("registrars = [ \"testbed\" ]", "registrars = [ \"testbed\", \"testbed\" ]"), 2);
	cr_assert_eq(check_config("drf.enrol", "absent.enrol"), 2);
	cr_assert_eq(check_config("ticket_seconds", "ticket_second"), 2, "misspelt");
	cr_assert_eq(check_config("plmn = \"" PLMN "\"", "plmn = \"0010\""), 2);
	cr_assert_eq(check_config("authorisation_seconds = 3600", "authorisation_seconds = 10"), 2);
	cr_assert_eq(check_config("change_retry_seconds = 1", "change_retry_seconds = 0"), 2);
}
