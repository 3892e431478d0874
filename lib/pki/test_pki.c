/*
 * Tests of lib/pki: keys and requests, issuing, the trust store's reasons (expired, revoked by
 * serial and by model, another root, another profile), CRL acceptance, CMS SignedData, and that
 * the DER written here is accepted (or refused) by the openssl command line as docs/pki.md says.
 */
#include "pki/pki.h"
#include "pki/tre_signed.h"

#include "crypto/crypto.h"
#include "wire/wire.h"

#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a hierarchy to test with ------------------------------------------------------------ */

#define HOUR 3600
#define DAY (24 * HOUR)

typedef struct hierarchy {
	EVP_PKEY *root_key, *ca_key;
	X509 *root, *ca;
	uint64_t next_serial;
} hierarchy;

typedef struct entity {
	EVP_PKEY *key;
	X509 *cert;
} entity;

static time_t now(void)
{
	return time(NULL);
}

static X509 *issue(m2m_cert_spec *spec, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *cert = m2m_pki_issue(spec, issuer, issuer_key);
	cr_assert(cert, "issue %s", spec->cn);
	return cert;
}

static hierarchy make_hierarchy(const char *name)
{
	hierarchy h = {m2m_pki_keygen(), m2m_pki_keygen(), NULL, NULL, 100};
	char cn[64];
	snprintf(cn, sizeof cn, "%s root CA", name);
	m2m_cert_spec root = {M2M_CERT_ROOT, cn, h.root_key, 1, now() - 30 * DAY, now() + 3650L * DAY, -1, NULL};
	h.root = issue(&root, NULL, h.root_key);
	snprintf(cn, sizeof cn, "%s issuing CA", name);
	m2m_cert_spec ca = {M2M_CERT_ISSUING_CA, cn, h.ca_key, 2, now() - 30 * DAY, now() + 1825L * DAY, -1, NULL};
	h.ca = issue(&ca, h.root, h.root_key);
	return h;
}

static void free_hierarchy(hierarchy *h)
{
	EVP_PKEY_free(h->root_key);
	EVP_PKEY_free(h->ca_key);
	X509_free(h->root);
	X509_free(h->ca);
}

static M2M_TRE_PLATFORM *platform(const char *model, const char *version, uint64_t level)
{
	M2M_TRE_PLATFORM *p = M2M_TRE_PLATFORM_new();
	cr_assert(p && !m2m_set_str(p->model, model) && !m2m_set_str(p->version, version));
	p->assurance_level = level;
	return p;
}

/* An end entity valid from not_before to not_after (relative to now). */
static entity enrol_at(hierarchy *h, const char *cn, int profile, const M2M_TRE_PLATFORM *p, time_t from, time_t to)
{
	entity e = {m2m_pki_keygen(), NULL};
	m2m_cert_spec spec = {M2M_CERT_END_ENTITY, cn, e.key, h->next_serial++, now() + from, now() + to, profile, p};
	e.cert = issue(&spec, h->ca, h->ca_key);
	return e;
}

static entity enrol(hierarchy *h, const char *cn, int profile)
{
	return enrol_at(h, cn, profile, NULL, -HOUR, DAY);
}

static entity enrol_tre(hierarchy *h, const char *cn, const char *model, const char *version)
{
	M2M_TRE_PLATFORM *p = platform(model, version, 4);
	entity e = enrol_at(h, cn, M2M_PROFILE_TRE, p, -HOUR, DAY);
	M2M_TRE_PLATFORM_free(p);
	return e;
}

static void free_entity(entity *e)
{
	EVP_PKEY_free(e->key);
	X509_free(e->cert);
}

static m2m_trust *trust_of(const hierarchy *h)
{
	m2m_trust *t = m2m_trust_new(h->root);
	cr_assert(t && !m2m_trust_add_intermediate(t, h->ca));
	return t;
}

static uint64_t serial_of(X509 *cert)
{
	uint64_t s = 0;
	cr_assert(!m2m_pki_cert_serial(cert, &s));
	return s;
}

/* A CRL of the issuing CA revoking the given certificates, with the given models withdrawn. */
static void make_crl(const hierarchy *h, X509 **revoked, size_t n, const m2m_revoked_model *models, size_t nmodels,
		     uint64_t number, time_t next_update, uint8_t **der, size_t *len)
{
	m2m_crl_entry entries[8];
	cr_assert(n <= 8);
	for (size_t i = 0; i < n; i++)
		entries[i] = (m2m_crl_entry){serial_of(revoked[i]), now() - 60,
					     nmodels ? M2M_CRL_PRIVILEGE_WITHDRAWN : M2M_CRL_KEY_COMPROMISE};
	m2m_crl_spec spec = {entries, n, models, nmodels, number, now() - 60, now() + next_update};
	cr_assert(!m2m_pki_crl(&spec, h->ca, h->ca_key, der, len));
}

static void set_crl(m2m_trust *t, const hierarchy *h, X509 **revoked, size_t n, const m2m_revoked_model *models,
		    size_t nmodels, uint64_t number)
{
	uint8_t *der;
	size_t len;
	make_crl(h, revoked, n, models, nmodels, number, DAY, &der, &len);
	cr_assert_eq(m2m_trust_set_crl(t, der, len), M2M_OK);
	OPENSSL_free(der);
}

#define ASSERT_REASON(expr, want)                                                                           \
	do {                                                                                                \
		m2m_reason got_ = (expr);                                                                   \
		cr_assert_eq(got_, want, "%s: %s, not %s", #expr, m2m_reason_name(got_), m2m_reason_name(want)); \
	} while (0)

/* ---- keys and requests -------------------------------------------------------------------- */

Test(key, pkcs8_round_trip)
{
	EVP_PKEY *k = m2m_pki_keygen();
	uint8_t *der;
	size_t len;
	cr_assert(k && !m2m_pki_key_der(k, &der, &len));
	EVP_PKEY *back = m2m_pki_key_from_der(der, len);
	cr_assert(back && EVP_PKEY_eq(k, back) == 1);
	cr_assert_null(m2m_pki_key_from_der(der, len - 1), "truncated");
	OPENSSL_clear_free(der, len);
	EVP_PKEY_free(k);
	EVP_PKEY_free(back);
}

Test(key, other_curves_are_refused)
{
	EVP_PKEY *k = EVP_EC_gen("P-384");
	uint8_t *der;
	size_t len;
	cr_assert(k && !m2m_pki_key_der(k, &der, &len));
	cr_assert_null(m2m_pki_key_from_der(der, len));
	OPENSSL_clear_free(der, len);
	EVP_PKEY_free(k);
}

/* The DER SubjectPublicKeyInfo of key, with extra bytes of slack at its end. */
static uint8_t *spki_of(EVP_PKEY *key, int *len)
{
	unsigned char *der = NULL;
	*len = i2d_PUBKEY(key, &der);
	cr_assert_gt(*len, 0);
	uint8_t *copy = calloc(1, (size_t)*len + 1);
	memcpy(copy, der, (size_t)*len);
	OPENSSL_free(der);
	return copy;
}

Test(key, public_keys_from_der)
{
	EVP_PKEY *k = m2m_pki_keygen(), *p384 = EVP_EC_gen("P-384");
	int len = 0, len384 = 0;
	uint8_t *der = spki_of(k, &len), *der384 = spki_of(p384, &len384);
	EVP_PKEY *back = m2m_pki_pubkey_from_der(der, (size_t)len);
	cr_assert(back && EVP_PKEY_eq(k, back) == 1);
	cr_assert_null(m2m_pki_pubkey_from_der(der, (size_t)len + 1), "a byte after the DER");
	cr_assert_null(m2m_pki_pubkey_from_der(der, (size_t)len - 1), "truncated");
	cr_assert_null(m2m_pki_pubkey_from_der(der384, (size_t)len384), "another curve");
	cr_assert_null(m2m_pki_pubkey_from_der(der, 0));
	EVP_PKEY_free(back);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p384);
	free(der);
	free(der384);
}

Test(key, signature_over_der)
{
	EVP_PKEY *k = m2m_pki_keygen(), *other = m2m_pki_keygen();
	M2M_TRE_PLATFORM *p = platform("acme-tre", "2.1", 4);
	ASN1_OCTET_STRING *sig = ASN1_OCTET_STRING_new();
	const ASN1_ITEM *item = ASN1_ITEM_rptr(M2M_TRE_PLATFORM);
	cr_assert_eq(m2m_pki_sign_der_of(k, item, p, sig), 0);
	cr_assert_eq(m2m_pki_verify_der_of(k, item, p, sig), 0);
	cr_assert_eq(m2m_pki_verify_der_of(other, item, p, sig), -1, "another key");
	cr_assert_eq(m2m_pki_verify_der_of(NULL, item, p, sig), -1, "no key");
	p->assurance_level = 5;
	cr_assert_eq(m2m_pki_verify_der_of(k, item, p, sig), -1, "another value");
	ASN1_OCTET_STRING_free(sig);
	M2M_TRE_PLATFORM_free(p);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

Test(csr, good_request)
{
	EVP_PKEY *k = m2m_pki_keygen(), *pub = NULL;
	uint8_t *der;
	size_t len;
	char cn[64];
	cr_assert(!m2m_pki_csr(k, "tre-1", &der, &len));
	ASSERT_REASON(m2m_pki_csr_check(der, len, cn, &pub), M2M_OK);
	cr_assert_str_eq(cn, "tre-1");
	cr_assert_eq(EVP_PKEY_eq(k, pub), 1);
	OPENSSL_free(der);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
}

Test(csr, bad_requests)
{
	EVP_PKEY *k = m2m_pki_keygen();
	uint8_t *der;
	size_t len;
	char cn[64];
	cr_assert(!m2m_pki_csr(k, "tre-1", &der, &len));
	der[len - 3] ^= 0x01;  /* inside the signature's s: still DER, no longer valid */
	ASSERT_REASON(m2m_pki_csr_check(der, len, cn, NULL), M2M_R_BAD_SIGNATURE);
	ASSERT_REASON(m2m_pki_csr_check(der, len - 1, cn, NULL), M2M_R_MALFORMED);
	ASSERT_REASON(m2m_pki_csr_check((const uint8_t *)"\x30\x00", 2, cn, NULL), M2M_R_MALFORMED);
	OPENSSL_free(der);
	char long_cn[65];
	memset(long_cn, 'x', 64);
	long_cn[64] = 0;
	cr_assert(!m2m_pki_csr(k, long_cn, &der, &len));
	ASSERT_REASON(m2m_pki_csr_check(der, len, cn, NULL), M2M_R_MALFORMED);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

/* ---- certificates ------------------------------------------------------------------------- */

Test(cert, fields_and_der_round_trip)
{
	hierarchy h = make_hierarchy("agency");
	entity e = enrol_tre(&h, "tre-1", "acme-tre", "2.1");
	char cn[64];
	cr_assert(!m2m_pki_cert_cn(e.cert, cn, sizeof cn));
	cr_assert_str_eq(cn, "tre-1");
	cr_assert_eq(serial_of(e.cert), 100);
	cr_assert_eq(m2m_pki_cert_profile(e.cert), M2M_PROFILE_TRE);
	cr_assert_eq(m2m_pki_cert_profile(h.ca), -1);
	M2M_TRE_PLATFORM *p = NULL;
	cr_assert(!m2m_pki_get_tre_platform(e.cert, &p));
	char model[64], version[32];
	cr_assert(!m2m_pki_tre_platform_read(p, model, version));
	cr_assert_str_eq(model, "acme-tre");
	cr_assert_str_eq(version, "2.1");
	cr_assert_eq(p->assurance_level, 4);
	M2M_TRE_PLATFORM_free(p);

	uint8_t *der;
	size_t len;
	cr_assert(!m2m_pki_cert_der(e.cert, &der, &len));
	X509 *back = m2m_pki_cert_from_der(der, len);
	cr_assert(back && !X509_cmp(back, e.cert));
	cr_assert_null(m2m_pki_cert_from_der(der, len - 1));
	X509_free(back);
	OPENSSL_free(der);
	free_entity(&e);
	free_hierarchy(&h);
}

Test(cert, chains_from_the_wire)
{
	hierarchy h = make_hierarchy("agency");
	STACK_OF(ASN1_OCTET_STRING) *ders = sk_ASN1_OCTET_STRING_new_null();
	X509 *certs[] = {h.ca, h.root};
	for (int i = 0; i < 2; i++) {
		uint8_t *der;
		size_t len;
		ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
		cr_assert(!m2m_pki_cert_der(certs[i], &der, &len) && ASN1_OCTET_STRING_set(s, der, (int)len));
		sk_ASN1_OCTET_STRING_push(ders, s);
		OPENSSL_free(der);
	}
	STACK_OF(X509) *chain = m2m_pki_chain_from_der(ders, 4);
	cr_assert_eq(sk_X509_num(chain), 2);
	cr_assert_eq(X509_cmp(sk_X509_value(chain, 0), h.ca), 0, "in the order sent");
	sk_X509_pop_free(chain, X509_free);
	cr_assert_null(m2m_pki_chain_from_der(ders, 1), "longer than allowed");
	ASN1_OCTET_STRING_set(sk_ASN1_OCTET_STRING_value(ders, 1), (const unsigned char *)"not DER", 7);
	cr_assert_null(m2m_pki_chain_from_der(ders, 4), "one is not DER of a certificate");
	sk_ASN1_OCTET_STRING_pop_free(ders, ASN1_OCTET_STRING_free);
	ders = sk_ASN1_OCTET_STRING_new_null();
	cr_assert_null(m2m_pki_chain_from_der(ders, 4), "empty");
	sk_ASN1_OCTET_STRING_free(ders);
	free_hierarchy(&h);
}

Test(cert, only_tre_certificates_carry_a_platform)
{
	hierarchy h = make_hierarchy("agency");
	entity pva = enrol(&h, "certauth", M2M_PROFILE_PVA);
	M2M_TRE_PLATFORM *p = NULL;
	cr_assert_eq(m2m_pki_get_tre_platform(pva.cert, &p), -1);
	EVP_PKEY *k = m2m_pki_keygen();
	M2M_TRE_PLATFORM *tp = platform("acme-tre", "2.1", 8);  /* assurance 1..7 */
	m2m_cert_spec spec = {M2M_CERT_END_ENTITY, "tre-9", k, 9, now(), now() + DAY, M2M_PROFILE_TRE, tp};
	cr_assert_null(m2m_pki_issue(&spec, h.ca, h.ca_key), "assurance level 8");
	spec.platform = NULL;
	cr_assert_null(m2m_pki_issue(&spec, h.ca, h.ca_key), "tre without a platform");
	tp->assurance_level = 7;
	spec.platform = tp;
	spec.profile = M2M_PROFILE_OPERATOR_FUNCTION;
	cr_assert_null(m2m_pki_issue(&spec, h.ca, h.ca_key), "a platform on another profile");
	M2M_TRE_PLATFORM_free(tp);
	EVP_PKEY_free(k);
	free_entity(&pva);
	free_hierarchy(&h);
}

/* ---- trust: one reason per way a certificate can be wrong --------------------------------- */

Test(trust, good_certificate)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity e = enrol(&h, "mno-a", M2M_PROFILE_OPERATOR_FUNCTION);
	ASSERT_REASON(m2m_trust_verify(t, e.cert, M2M_PROFILE_OPERATOR_FUNCTION), M2M_OK);
	ASSERT_REASON(m2m_trust_verify(t, e.cert, -1), M2M_OK);
	set_crl(t, &h, NULL, 0, NULL, 0, 1);
	ASSERT_REASON(m2m_trust_verify(t, e.cert, -1), M2M_OK);
	free_entity(&e);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

Test(trust, wrong_profile_is_not_authorised)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity e = enrol(&h, "mno-a", M2M_PROFILE_OPERATOR_FUNCTION);
	ASSERT_REASON(m2m_trust_verify(t, e.cert, M2M_PROFILE_PVA), M2M_R_NOT_AUTHORISED);
	ASSERT_REASON(m2m_pki_verify_tre(t, e.cert, NULL), M2M_R_NOT_AUTHORISED);
	free_entity(&e);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

Test(trust, expired_and_not_yet_valid)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity old = enrol_at(&h, "tre-old", M2M_PROFILE_OPERATOR_FUNCTION, NULL, -2 * DAY, -DAY);
	entity future = enrol_at(&h, "tre-new", M2M_PROFILE_OPERATOR_FUNCTION, NULL, DAY, 2 * DAY);
	ASSERT_REASON(m2m_trust_verify(t, old.cert, -1), M2M_R_CERTIFICATE_EXPIRED);
	ASSERT_REASON(m2m_trust_verify(t, future.cert, -1), M2M_R_CERTIFICATE_EXPIRED);
	m2m_trust_set_time(t, now() - DAY - HOUR);  /* back when it was valid */
	ASSERT_REASON(m2m_trust_verify(t, old.cert, -1), M2M_OK);
	free_entity(&old);
	free_entity(&future);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

Test(trust, revoked_by_serial)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity a = enrol(&h, "tre-1", M2M_PROFILE_OPERATOR_FUNCTION);
	entity b = enrol(&h, "tre-2", M2M_PROFILE_OPERATOR_FUNCTION);
	set_crl(t, &h, &a.cert, 1, NULL, 0, 1);
	ASSERT_REASON(m2m_trust_verify(t, a.cert, -1), M2M_R_CERTIFICATE_REVOKED);
	ASSERT_REASON(m2m_trust_verify(t, b.cert, -1), M2M_OK);
	cr_assert_eq(m2m_trust_crl_number(t), 1);
	free_entity(&a);
	free_entity(&b);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

Test(trust, revoked_by_model)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity weak = enrol_tre(&h, "tre-1", "acme-tre", "2.1");
	entity other_version = enrol_tre(&h, "tre-2", "acme-tre", "2.2");
	entity fine = enrol_tre(&h, "tre-3", "zeta-tre", "1.0");
	M2M_TRE_PLATFORM *p = NULL;
	ASSERT_REASON(m2m_pki_verify_tre(t, weak.cert, &p), M2M_OK);
	cr_assert(p && p->assurance_level == 4);
	M2M_TRE_PLATFORM_free(p);

	m2m_revoked_model model = {"acme-tre", "2.1"};
	set_crl(t, &h, &weak.cert, 1, &model, 1, 1);
	ASSERT_REASON(m2m_pki_verify_tre(t, weak.cert, NULL), M2M_R_MODEL_REVOKED);
	ASSERT_REASON(m2m_trust_verify(t, weak.cert, M2M_PROFILE_TRE), M2M_R_CERTIFICATE_REVOKED);
	ASSERT_REASON(m2m_pki_verify_tre(t, other_version.cert, NULL), M2M_OK);
	cr_assert(m2m_trust_model_revoked(t, "acme-tre", "2.1"));
	cr_assert(!m2m_trust_model_revoked(t, "acme-tre", "2.2"));

	/* every version, revoked locally: the CRL need not list the certificate for the reason to show */
	cr_assert(!m2m_trust_revoke_model(t, "acme-tre", NULL));
	ASSERT_REASON(m2m_pki_verify_tre(t, other_version.cert, NULL), M2M_R_MODEL_REVOKED);
	ASSERT_REASON(m2m_pki_verify_tre(t, fine.cert, NULL), M2M_OK);

	/* a newer CRL that forgets the model does not un-revoke it */
	set_crl(t, &h, NULL, 0, NULL, 0, 2);
	ASSERT_REASON(m2m_pki_verify_tre(t, weak.cert, NULL), M2M_R_MODEL_REVOKED);
	free_entity(&weak);
	free_entity(&other_version);
	free_entity(&fine);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

Test(trust, another_root_is_a_bad_chain)
{
	hierarchy h = make_hierarchy("agency"), rogue = make_hierarchy("agency");  /* same names, other keys */
	m2m_trust *t = trust_of(&h);
	entity e = enrol(&rogue, "tre-1", M2M_PROFILE_OPERATOR_FUNCTION);
	ASSERT_REASON(m2m_trust_verify(t, e.cert, -1), M2M_R_BAD_CHAIN);
	ASSERT_REASON(m2m_trust_verify(t, h.ca, -1), M2M_R_BAD_CHAIN);  /* a CA is not an end entity */
	m2m_trust *bare = m2m_trust_new(h.root);  /* without the intermediate there is no chain */
	entity mine = enrol(&h, "tre-2", M2M_PROFILE_OPERATOR_FUNCTION);
	ASSERT_REASON(m2m_trust_verify(bare, mine.cert, -1), M2M_R_BAD_CHAIN);
	free_entity(&e);
	free_entity(&mine);
	m2m_trust_free(t);
	m2m_trust_free(bare);
	free_hierarchy(&h);
	free_hierarchy(&rogue);
}

Test(trust, crl_acceptance)
{
	hierarchy h = make_hierarchy("agency"), rogue = make_hierarchy("rogue");
	m2m_trust *t = trust_of(&h);
	entity e = enrol(&h, "tre-1", M2M_PROFILE_OPERATOR_FUNCTION);
	uint8_t *der;
	size_t len;
	make_crl(&rogue, &e.cert, 1, NULL, 0, 5, DAY, &der, &len);
	ASSERT_REASON(m2m_trust_set_crl(t, der, len), M2M_R_BAD_SIGNATURE);
	OPENSSL_free(der);
	ASSERT_REASON(m2m_trust_set_crl(t, (const uint8_t *)"\x30\x00", 2), M2M_R_MALFORMED);

	set_crl(t, &h, &e.cert, 1, NULL, 0, 3);
	make_crl(&h, NULL, 0, NULL, 0, 2, DAY, &der, &len);  /* older: would un-revoke */
	ASSERT_REASON(m2m_trust_set_crl(t, der, len), M2M_R_REPLAYED);
	ASSERT_REASON(m2m_trust_set_crl(t, der, len - 1), M2M_R_MALFORMED);
	OPENSSL_free(der);
	ASSERT_REASON(m2m_trust_verify(t, e.cert, -1), M2M_R_CERTIFICATE_REVOKED);
	free_entity(&e);
	m2m_trust_free(t);
	free_hierarchy(&h);
	free_hierarchy(&rogue);
}

Test(trust, stale_crl_is_a_bad_chain)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity e = enrol(&h, "tre-1", M2M_PROFILE_OPERATOR_FUNCTION);
	uint8_t *der;
	size_t len;
	make_crl(&h, NULL, 0, NULL, 0, 1, HOUR, &der, &len);
	ASSERT_REASON(m2m_trust_set_crl(t, der, len), M2M_OK);
	m2m_trust_set_time(t, now() + 2 * HOUR);  /* past its nextUpdate */
	ASSERT_REASON(m2m_trust_verify(t, e.cert, -1), M2M_R_BAD_CHAIN);
	OPENSSL_free(der);
	free_entity(&e);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

/* ---- CMS ---------------------------------------------------------------------------------- */

static const uint8_t payload[] = "a platform type, a verdict, evidence: any DER\r\n\0with binary bytes";

static STACK_OF(X509) *chain_of(const hierarchy *h)
{
	STACK_OF(X509) *s = sk_X509_new_null();
	cr_assert(s && sk_X509_push(s, h->ca));
	return s;
}

static void sign(const hierarchy *h, const entity *e, uint8_t **der, size_t *len)
{
	STACK_OF(X509) *extra = chain_of(h);
	cr_assert(!m2m_cms_sign(e->key, e->cert, extra, payload, sizeof payload, der, len));
	sk_X509_free(extra);
}

Test(cms, round_trip)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = m2m_trust_new(h.root);  /* the intermediate comes with the CMS */
	entity pva = enrol(&h, "certauth", M2M_PROFILE_PVA);
	uint8_t *der, *content;
	size_t len, clen;
	X509 *signer = NULL;
	sign(&h, &pva, &der, &len);
	ASSERT_REASON(m2m_cms_verify(t, der, len, &content, &clen, &signer), M2M_OK);
	cr_assert_eq(clen, sizeof payload);
	cr_assert(!memcmp(content, payload, clen));
	cr_assert(signer && !X509_cmp(signer, pva.cert));
	cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_PVA);
	OPENSSL_free(content);
	X509_free(signer);
	ASSERT_REASON(m2m_cms_verify(t, der, len, NULL, NULL, NULL), M2M_OK);
	OPENSSL_free(der);
	free_entity(&pva);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

/* The offset of the payload inside the DER: where tampering changes the content only. */
static size_t find_payload(const uint8_t *der, size_t len)
{
	for (size_t i = 0; i + sizeof payload <= len; i++)
		if (!memcmp(der + i, payload, sizeof payload))
			return i;
	cr_assert_fail("the content is embedded");
	return 0;
}

Test(cms, tampered_content)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity pva = enrol(&h, "certauth", M2M_PROFILE_PVA);
	uint8_t *der, *content = NULL;
	size_t len, clen;
	X509 *signer = NULL;
	sign(&h, &pva, &der, &len);
	der[find_payload(der, len) + 2] ^= 0x20;
	ASSERT_REASON(m2m_cms_verify(t, der, len, &content, &clen, &signer), M2M_R_BAD_SIGNATURE);
	cr_assert_null(content);
	cr_assert_null(signer);
	ASSERT_REASON(m2m_cms_verify(t, der, len - 1, NULL, NULL, NULL), M2M_R_MALFORMED);
	OPENSSL_free(der);
	free_entity(&pva);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

Test(cms, signer_reasons)
{
	hierarchy h = make_hierarchy("agency"), rogue = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity outsider = enrol(&rogue, "certauth", M2M_PROFILE_PVA);
	M2M_TRE_PLATFORM *p = platform("acme-tre", "2.1", 3);
	entity old = enrol_at(&h, "tre-1", M2M_PROFILE_TRE, p, -2 * DAY, -DAY);
	entity revoked = enrol_at(&h, "tre-2", M2M_PROFILE_TRE, p, -HOUR, DAY);
	M2M_TRE_PLATFORM_free(p);
	set_crl(t, &h, &revoked.cert, 1, NULL, 0, 1);
	const struct {
		const hierarchy *h;
		entity *e;
		m2m_reason want;
	} cases[] = {{&rogue, &outsider, M2M_R_BAD_CHAIN},
		     {&h, &old, M2M_R_CERTIFICATE_EXPIRED},
		     {&h, &revoked, M2M_R_CERTIFICATE_REVOKED}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t *der;
		size_t len;
		sign(cases[i].h, cases[i].e, &der, &len);
		ASSERT_REASON(m2m_cms_verify(t, der, len, NULL, NULL, NULL), cases[i].want);
		OPENSSL_free(der);
	}
	free_entity(&outsider);
	free_entity(&old);
	free_entity(&revoked);
	m2m_trust_free(t);
	free_hierarchy(&h);
	free_hierarchy(&rogue);
}

Test(cms, signed_items)
{
	hierarchy h = make_hierarchy("agency");
	m2m_trust *t = trust_of(&h);
	entity pva = enrol(&h, "certauth", M2M_PROFILE_PVA);
	STACK_OF(X509) *extra = chain_of(&h);
	M2M_TRE_PLATFORM *want = platform("acme-tre", "2.1", 5), *got = NULL;
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert(!m2m_cms_sign_item(pva.key, pva.cert, extra, ASN1_ITEM_rptr(M2M_TRE_PLATFORM), want, so));
	X509 *signer = NULL;
	ASSERT_REASON(m2m_cms_verify_item(t, so, ASN1_ITEM_rptr(M2M_TRE_PLATFORM), (void **)&got, &signer), M2M_OK);
	cr_assert(got && got->assurance_level == 5 && !ASN1_STRING_cmp(got->model, want->model));
	cr_assert(signer);
	M2M_TRE_PLATFORM_free(got);
	X509_free(signer);
	got = NULL;
	/* signed fine, but not a PlatformType */
	ASSERT_REASON(m2m_cms_verify_item(t, so, ASN1_ITEM_rptr(M2M_PLATFORM_TYPE), (void **)&got, NULL), M2M_R_BAD_BODY);
	cr_assert_null(got);
	M2M_SIGNED_OBJECT_free(so);
	M2M_TRE_PLATFORM_free(want);
	sk_X509_free(extra);
	free_entity(&pva);
	m2m_trust_free(t);
	free_hierarchy(&h);
}

/* ---- what a TRE signs about itself (tre_signed.h) -------------------------------------------- */

/* The agency, a relying party's trust store and TRE tre-1 of acme-tre 2.1. */
static struct {
	hierarchy h;
	m2m_trust *t;
	entity tre;
} ts;

static void tre_signed_setup(void)
{
	ts.h = make_hierarchy("agency");
	ts.t = trust_of(&ts.h);
	ts.tre = enrol_tre(&ts.h, "tre-1", "acme-tre", "2.1");
}

static void tre_signed_teardown(void)
{
	free_entity(&ts.tre);
	m2m_trust_free(ts.t);
	free_hierarchy(&ts.h);
}

TestSuite(tre_signed, .init = tre_signed_setup, .fini = tre_signed_teardown);

/* An McimOrder naming tre, signed by e. */
static M2M_SIGNED_OBJECT *order_by(const entity *e, const char *tre)
{
	M2M_MCIM_ORDER *o = M2M_MCIM_ORDER_new();
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	STACK_OF(X509) *extra = chain_of(&ts.h);
	cr_assert(o && so && !m2m_set_str(o->tre, tre) && ASN1_OCTET_STRING_set(o->nonce, payload, 32));
	cr_assert(!m2m_cms_sign_item(e->key, e->cert, extra, ASN1_ITEM_rptr(M2M_MCIM_ORDER), o, so));
	sk_X509_free(extra);
	M2M_MCIM_ORDER_free(o);
	return so;
}

static m2m_reason check_order(m2m_trust *t, const M2M_SIGNED_OBJECT *so, m2m_tre_signed *s)
{
	m2m_reason r = m2m_cms_verify_tre_item(t, so, ASN1_ITEM_rptr(M2M_MCIM_ORDER), M2M_TRE_FIELD(M2M_MCIM_ORDER), s);
	cr_assert(r == M2M_OK ? s->value && s->cert && s->platform && s->tre[0]
			      : !s->value && !s->cert && !s->platform && s->why[0],
		  "%s gives everything or nothing but why", m2m_reason_name(r));
	return r;
}

/* check_order of so, which is then freed: the reason. */
static m2m_reason refusal(m2m_trust *t, M2M_SIGNED_OBJECT *so)
{
	m2m_tre_signed s;
	m2m_reason r = check_order(t, so, &s);
	m2m_tre_signed_clear(&s);
	M2M_SIGNED_OBJECT_free(so);
	return r;
}

Test(tre_signed, a_tre_about_itself)
{
	M2M_SIGNED_OBJECT *so = order_by(&ts.tre, "tre-1");
	m2m_tre_signed s;
	ASSERT_REASON(check_order(ts.t, so, &s), M2M_OK);
	cr_assert_str_eq(s.tre, "tre-1");
	cr_assert_eq(X509_cmp(s.cert, ts.tre.cert), 0);
	cr_assert_eq(s.platform->assurance_level, 4);
	cr_assert_eq(ASN1_STRING_length(((M2M_MCIM_ORDER *)s.value)->nonce), 32);
	m2m_tre_signed_clear(&s);
	cr_assert(!s.value && !s.cert && !s.platform);
	M2M_SIGNED_OBJECT_free(so);
}

Test(tre_signed, refusals)
{
	entity dpf = enrol(&ts.h, "mno-a", M2M_PROFILE_OPERATOR_FUNCTION);
	ASSERT_REASON(refusal(ts.t, order_by(&ts.tre, "tre-2")), M2M_R_BAD_SIGNATURE);  /* about another TRE */
	ASSERT_REASON(refusal(ts.t, order_by(&dpf, "mno-a")), M2M_R_BAD_SIGNATURE);  /* valid, not a TRE's */
	ASSERT_REASON(refusal(ts.t, order_by(&ts.tre, "")), M2M_R_BAD_BODY);  /* names no TRE */
	ASSERT_REASON(refusal(NULL, order_by(&ts.tre, "tre-1")), M2M_R_INTERNAL);  /* nothing to check it against */
	/* signed by the TRE, but not an McimOrder; then not even a SignedData */
	M2M_TRE_PLATFORM *p = platform("acme-tre", "2.1", 4);
	STACK_OF(X509) *extra = chain_of(&ts.h);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert(!m2m_cms_sign_item(ts.tre.key, ts.tre.cert, extra, ASN1_ITEM_rptr(M2M_TRE_PLATFORM), p, so));
	ASSERT_REASON(refusal(ts.t, so), M2M_R_BAD_BODY);
	so = M2M_SIGNED_OBJECT_new();
	cr_assert(ASN1_OCTET_STRING_set(so->cms, payload, sizeof payload));
	ASSERT_REASON(refusal(ts.t, so), M2M_R_MALFORMED);
	sk_X509_free(extra);
	M2M_TRE_PLATFORM_free(p);
	free_entity(&dpf);
}

Test(tre_signed, a_revoked_model_comes_before_its_certificate)
{
	set_crl(ts.t, &ts.h, &ts.tre.cert, 1, NULL, 0, 1);
	ASSERT_REASON(refusal(ts.t, order_by(&ts.tre, "tre-1")), M2M_R_CERTIFICATE_REVOKED);
	m2m_revoked_model model = {"acme-tre", ""};
	set_crl(ts.t, &ts.h, &ts.tre.cert, 1, &model, 1, 2);
	ASSERT_REASON(refusal(ts.t, order_by(&ts.tre, "tre-1")), M2M_R_MODEL_REVOKED);
	/* a model withdrawn while its certificates still stand */
	m2m_trust *fresh = trust_of(&ts.h);
	cr_assert(!m2m_trust_revoke_model(fresh, "acme-tre", "2.1"));
	ASSERT_REASON(refusal(fresh, order_by(&ts.tre, "tre-1")), M2M_R_MODEL_REVOKED);
	m2m_trust_free(fresh);
}

/* ---- the openssl command line agrees ------------------------------------------------------ */

typedef struct workdir {
	char path[64];
} workdir;

static workdir make_workdir(void)
{
	workdir w;
	snprintf(w.path, sizeof w.path, "/tmp/test_pki.XXXXXX");
	cr_assert(mkdtemp(w.path));
	return w;
}

static void remove_workdir(const workdir *w)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", w->path);
	cr_assert_eq(system(cmd), 0);
}

static const char *file_in(const workdir *w, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", w->path, name);
	return buf;
}

static void write_pem(const workdir *w, const char *name, X509 *cert)
{
	char path[128];
	cr_assert(!m2m_pki_cert_write_pem(cert, file_in(w, name, path, sizeof path)));
}

static void write_bytes(const workdir *w, const char *name, const uint8_t *der, size_t len)
{
	char path[128];
	FILE *f = fopen(file_in(w, name, path, sizeof path), "wb");
	cr_assert(f && fwrite(der, 1, len, f) == len);
	cr_assert(!fclose(f));
}

/* Runs an openssl command in the work directory, its output kept out of the test log; exit status. */
static int openssl(const workdir *w, const char *args)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cd %s && openssl %s >out.txt 2>&1", w->path, args);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(openssl, verify_with_crl_check)
{
	hierarchy h = make_hierarchy("agency");
	entity good = enrol_tre(&h, "tre-1", "acme-tre", "2.1");
	entity bad = enrol(&h, "tre-2", M2M_PROFILE_OPERATOR_FUNCTION);
	uint8_t *der;
	size_t len;
	make_crl(&h, &bad.cert, 1, NULL, 0, 1, DAY, &der, &len);
	workdir w = make_workdir();
	write_pem(&w, "root.pem", h.root);
	write_pem(&w, "ca.pem", h.ca);
	write_pem(&w, "good.pem", good.cert);
	write_pem(&w, "bad.pem", bad.cert);
	write_bytes(&w, "crl.der", der, len);
	cr_assert_eq(openssl(&w, "crl -inform DER -in crl.der -out crl.pem"), 0);
	static const char verify[] = "verify -crl_check -CAfile root.pem -untrusted ca.pem -CRLfile crl.pem ";
	char args[256];
	snprintf(args, sizeof args, "%sgood.pem", verify);
	cr_assert_eq(openssl(&w, args), 0, "openssl verify accepts a good certificate");
	snprintf(args, sizeof args, "%sbad.pem", verify);
	cr_assert_neq(openssl(&w, args), 0, "openssl verify refuses a revoked one");
	cr_assert_eq(openssl(&w, "verify -CAfile root.pem -untrusted ca.pem bad.pem"), 0, "and accepts it without the CRL");
	remove_workdir(&w);
	OPENSSL_free(der);
	free_entity(&good);
	free_entity(&bad);
	free_hierarchy(&h);
}

Test(openssl, cms_verify)
{
	hierarchy h = make_hierarchy("agency");
	entity pva = enrol(&h, "certauth", M2M_PROFILE_PVA);
	uint8_t *der;
	size_t len;
	sign(&h, &pva, &der, &len);
	workdir w = make_workdir();
	write_pem(&w, "root.pem", h.root);
	write_bytes(&w, "signed.der", der, len);
	cr_assert_eq(openssl(&w, "cms -verify -inform DER -binary -in signed.der -CAfile root.pem -out content.bin"), 0);
	char path[128];
	FILE *f = fopen(file_in(&w, "content.bin", path, sizeof path), "rb");
	uint8_t back[sizeof payload + 1];
	cr_assert(f && fread(back, 1, sizeof back, f) == sizeof payload && !memcmp(back, payload, sizeof payload));
	fclose(f);
	der[find_payload(der, len)] ^= 0x01;
	write_bytes(&w, "tampered.der", der, len);
	cr_assert_neq(openssl(&w, "cms -verify -inform DER -binary -in tampered.der -CAfile root.pem -out /dev/null"), 0);
	remove_workdir(&w);
	OPENSSL_free(der);
	free_entity(&pva);
	free_hierarchy(&h);
}

/* ---- CMS AuthEnvelopedData: an MCIM package's envelope (envelope.c) ------------------------- */

static void encrypt_for(const entity *to, uint8_t **der, size_t *len)
{
	cr_assert_eq(m2m_cms_encrypt(to->cert, payload, sizeof payload, der, len), 0);
}

Test(envelope, only_the_recipient_opens_it)
{
	hierarchy h = make_hierarchy("agency");
	entity tre = enrol_tre(&h, "tre-3", "acme-tre", "2.1");
	entity other = enrol_tre(&h, "tre-4", "acme-tre", "2.1");
	uint8_t *der, *out = NULL;
	size_t len, outlen = 0;
	encrypt_for(&tre, &der, &len);
	cr_assert(!memmem(der, len, payload, sizeof payload), "the content is not in clear");
	cr_assert_eq(m2m_cms_decrypt(tre.key, tre.cert, der, len, &out, &outlen), M2M_OK);
	cr_assert(outlen == sizeof payload && !memcmp(out, payload, outlen));
	OPENSSL_free(out);
	out = NULL;
	cr_assert_eq(m2m_cms_decrypt(other.key, other.cert, der, len, &out, &outlen), M2M_R_BAD_SIGNATURE,
		     "another TRE's key does not open it");
	cr_assert_null(out);
	OPENSSL_free(der);
	free_entity(&tre);
	free_entity(&other);
	free_hierarchy(&h);
}

Test(envelope, tampering_and_garbage_are_refused)
{
	hierarchy h = make_hierarchy("agency");
	entity tre = enrol_tre(&h, "tre-3", "acme-tre", "2.1");
	uint8_t *der, *out = NULL;
	size_t len, outlen;
	encrypt_for(&tre, &der, &len);
	der[len - 20] ^= 0x01;  /* inside the ciphertext or the GCM tag: the tag no longer verifies */
	cr_assert_eq(m2m_cms_decrypt(tre.key, tre.cert, der, len, &out, &outlen), M2M_R_BAD_SIGNATURE);
	cr_assert_eq(m2m_cms_decrypt(tre.key, tre.cert, der, len - 1, &out, &outlen), M2M_R_MALFORMED);
	uint8_t *signed_der;
	size_t signed_len;
	sign(&h, &tre, &signed_der, &signed_len);
	cr_assert_eq(m2m_cms_decrypt(tre.key, tre.cert, signed_der, signed_len, &out, &outlen), M2M_R_MALFORMED,
		     "a SignedData is not an envelope");
	cr_assert_null(out);
	OPENSSL_free(der);
	OPENSSL_free(signed_der);
	free_entity(&tre);
	free_hierarchy(&h);
}

/* docs/alt1a.md shows this command on an exported package. */
Test(openssl, cms_decrypt_of_an_envelope)
{
	hierarchy h = make_hierarchy("agency");
	entity tre = enrol_tre(&h, "tre-3", "acme-tre", "2.1");
	uint8_t *der, *key;
	size_t len, keylen;
	encrypt_for(&tre, &der, &len);
	cr_assert_eq(m2m_pki_key_der(tre.key, &key, &keylen), 0);
	workdir w = make_workdir();
	write_pem(&w, "tre.pem", tre.cert);
	write_bytes(&w, "key.der", key, keylen);
	write_bytes(&w, "package.der", der, len);
	cr_assert_eq(openssl(&w, "cms -cmsout -print -inform DER -in package.der"), 0);
	cr_assert_eq(openssl(&w, "cms -decrypt -inform DER -in package.der -recip tre.pem -inkey key.der "
				 "-keyform DER -binary -out content.bin"), 0);
	char path[128];
	FILE *f = fopen(file_in(&w, "content.bin", path, sizeof path), "rb");
	uint8_t back[sizeof payload + 1];
	cr_assert(f && fread(back, 1, sizeof back, f) == sizeof payload && !memcmp(back, payload, sizeof payload));
	fclose(f);
	remove_workdir(&w);
	m2m_wipe(key, keylen);
	OPENSSL_free(key);
	OPENSSL_free(der);
	free_entity(&tre);
	free_hierarchy(&h);
}
