/* The test agency and the evidence builders shared by the PVA's tests (test_pva_common.h). */
#include "test_pva_common.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY (24 * 3600)

test_agency ta;

const char *const test_components[TEST_COMPONENTS] = {"boot-rom", "tre-code", "os", "modem-fw", "comm-stack"};
/* boot-rom and tre-code in register 0, the OS in 1, the modem's firmware and stack in 2 */
static const int component_register[TEST_COMPONENTS] = {0, 0, 1, 2, 2};

void test_component_digest(int i, const char *image, uint8_t out[PVA_DIGEST_LEN])
{
	char text[128];
	snprintf(text, sizeof text, "%s %s image%s", test_components[i], TEST_VERSION, image ? image : "");
	cr_assert_eq(EVP_Digest(text, strlen(text), out, NULL, EVP_sha256(), NULL), 1);
}

/* ---- the agency ----------------------------------------------------------------------------------- */

static X509 *issue(m2m_cert_kind kind, const char *cn, EVP_PKEY *key, uint64_t serial, int profile,
		   const M2M_TRE_PLATFORM *platform, X509 *issuer, EVP_PKEY *issuer_key, time_t from, time_t until)
{
	m2m_cert_spec spec = {.kind = kind, .cn = cn, .subject_key = key, .serial = serial, .not_before = from,
			      .not_after = until, .profile = profile, .platform = platform};
	X509 *cert = m2m_pki_issue(&spec, issuer, issuer_key);
	cr_assert_not_null(cert, "cannot issue %s", cn);
	return cert;
}

static M2M_TRE_PLATFORM *platform_of(const char *model)
{
	M2M_TRE_PLATFORM *p = M2M_TRE_PLATFORM_new();
	m2m_set_str(p->model, model);
	m2m_set_str(p->version, TEST_VERSION);
	p->assurance_level = TEST_ASSURANCE;
	return p;
}

/* Each signer: its name, model, serial, validity and issuer. */
static void issue_signer(test_signer s, time_t now)
{
	static const struct {
		const char *name, *model;
		int profile;
		int expired, foreign;
	} spec[SIGNERS] = {
		[SIGNER_TRE1] = {"tre-1", TEST_MODEL, M2M_PROFILE_TRE, 0, 0},
		[SIGNER_TRE2] = {"tre-2", TEST_MODEL, M2M_PROFILE_TRE, 0, 0},
		[SIGNER_EXPIRED] = {"tre-3", TEST_MODEL, M2M_PROFILE_TRE, 1, 0},
		[SIGNER_REVOKED] = {"tre-4", TEST_MODEL, M2M_PROFILE_TRE, 0, 0},
		[SIGNER_WEAK] = {"tre-5", TEST_WEAK_MODEL, M2M_PROFILE_TRE, 0, 0},
		[SIGNER_WEAK_REVOKED] = {"tre-6", TEST_WEAK_MODEL, M2M_PROFILE_TRE, 0, 0},
		[SIGNER_FOREIGN] = {"tre-7", TEST_MODEL, M2M_PROFILE_TRE, 0, 1},
		[SIGNER_OPERATOR] = {"tre-1", NULL, M2M_PROFILE_OPERATOR_FUNCTION, 0, 0},
	};
	test_identity *id = &ta.ids[s];
	snprintf(id->name, sizeof id->name, "%s", spec[s].name);
	id->key = m2m_pki_keygen();
	cr_assert_not_null(id->key);
	M2M_TRE_PLATFORM *pf = spec[s].model ? platform_of(spec[s].model) : NULL;
	time_t from = spec[s].expired ? now - 2 * DAY : now - DAY;
	time_t until = spec[s].expired ? now - DAY : now + 30 * DAY;
	id->cert = issue(M2M_CERT_END_ENTITY, id->name, id->key, 100 + (uint64_t)s, spec[s].profile, pf,
			 spec[s].foreign ? ta.foreign : ta.ca, spec[s].foreign ? ta.foreign_key : ta.ca_key, from, until);
	M2M_TRE_PLATFORM_free(pf);
}

/* tre-4 is revoked for key compromise, tre-6 with its model; the weak model is revoked. */
static void publish_crl(time_t now)
{
	const m2m_crl_entry entries[] = {{100 + SIGNER_REVOKED, now - 60, M2M_CRL_KEY_COMPROMISE},
					 {100 + SIGNER_WEAK_REVOKED, now - 60, M2M_CRL_PRIVILEGE_WITHDRAWN}};
	const m2m_revoked_model models[] = {{TEST_WEAK_MODEL, ""}};
	m2m_crl_spec spec = {.entries = entries, .nentries = 2, .models = models, .nmodels = 1, .number = 1,
			     .this_update = now - 60, .next_update = now + DAY};
	uint8_t *der = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_pki_crl(&spec, ta.ca, ta.ca_key, &der, &len), 0);
	cr_assert_eq(m2m_trust_set_crl(ta.ctx.trust, der, len), M2M_OK);
	OPENSSL_free(der);
}

static const ca_context *fake_get(void *arg)
{
	return &ta.ctx;
}

/* The certified platform types: both models at TEST_VERSION, with the honest images' digests. */
static m2m_reason fake_platform_type(void *arg, const char *model, const char *version, M2M_PLATFORM_TYPE **out)
{
	if ((strcmp(model, TEST_MODEL) && strcmp(model, TEST_WEAK_MODEL)) || strcmp(version, TEST_VERSION))
		return M2M_R_NOT_FOUND;
	M2M_PLATFORM_TYPE *t = M2M_PLATFORM_TYPE_new();
	m2m_set_str(t->model, model);
	m2m_set_str(t->version, version);
	t->assurance_level = TEST_ASSURANCE;
	for (int i = 0; i < TEST_COMPONENTS; i++) {
		uint8_t d[PVA_DIGEST_LEN];
		test_component_digest(i, NULL, d);
		M2M_REFERENCE_METRIC *m = M2M_REFERENCE_METRIC_new();
		m2m_set_str(m->component, test_components[i]);
		ASN1_OCTET_STRING_set(m->digest, d, sizeof d);
		sk_M2M_REFERENCE_METRIC_push(t->references, m);
	}
	*out = t;
	return M2M_OK;
}

void test_agency_init(void)
{
	time_t now = time(NULL);
	memset(&ta, 0, sizeof ta);
	ta.root_key = m2m_pki_keygen();
	ta.ca_key = m2m_pki_keygen();
	ta.foreign_key = m2m_pki_keygen();
	ta.pva_key = m2m_pki_keygen();
	ta.root = issue(M2M_CERT_ROOT, "Test Agency Root", ta.root_key, 1, 0, NULL, NULL, ta.root_key, now - DAY,
			now + 365 * DAY);
	ta.ca = issue(M2M_CERT_ISSUING_CA, "Test Agency Issuing CA", ta.ca_key, 2, 0, NULL, ta.root, ta.root_key,
		      now - DAY, now + 365 * DAY);
	ta.foreign = issue(M2M_CERT_ROOT, "Another Root", ta.foreign_key, 1, 0, NULL, NULL, ta.foreign_key, now - DAY,
			   now + 365 * DAY);
	ta.pva_cert = issue(M2M_CERT_END_ENTITY, "certauth", ta.pva_key, 3, M2M_PROFILE_PVA, NULL, ta.ca, ta.ca_key,
			    now - DAY, now + 30 * DAY);
	ta.chain = sk_X509_new_null();
	sk_X509_push(ta.chain, ta.ca);
	ta.ctx = (ca_context){.pva_key = ta.pva_key, .pva_cert = ta.pva_cert, .pva_chain = ta.chain, .root = ta.root,
			      .trust = m2m_trust_new(ta.root)};
	cr_assert_not_null(ta.ctx.trust);
	cr_assert_eq(m2m_trust_add_intermediate(ta.ctx.trust, ta.ca), 0);
	for (int s = 0; s < SIGNERS; s++)
		issue_signer((test_signer)s, now);
	publish_crl(now);
	ta.agency = (pva_agency){.get = fake_get, .platform_type = fake_platform_type, .arg = NULL};
}

void test_agency_free(void)
{
	for (int s = 0; s < SIGNERS; s++) {
		X509_free(ta.ids[s].cert);
		EVP_PKEY_free(ta.ids[s].key);
	}
	m2m_trust_free(ta.ctx.trust);
	sk_X509_free(ta.chain);
	X509_free(ta.pva_cert);
	X509_free(ta.foreign);
	X509_free(ta.ca);
	X509_free(ta.root);
	EVP_PKEY_free(ta.pva_key);
	EVP_PKEY_free(ta.foreign_key);
	EVP_PKEY_free(ta.ca_key);
	EVP_PKEY_free(ta.root_key);
}

/* ---- evidence ----------------------------------------------------------------------------------- */

void test_seal_quote(pva_quote *q)
{
	memset(q->registers, 0, sizeof q->registers);
	for (int i = 0; i < q->nlog; i++) {
		uint8_t in[2 * PVA_DIGEST_LEN];
		memcpy(in, q->registers[q->log[i].reg], PVA_DIGEST_LEN);
		memcpy(in + PVA_DIGEST_LEN, q->log[i].digest, PVA_DIGEST_LEN);
		cr_assert_eq(EVP_Digest(in, sizeof in, q->registers[q->log[i].reg], NULL, EVP_sha256(), NULL), 1);
	}
}

void test_good_evidence(const char *tre, const uint8_t nonce[PVA_NONCE_LEN], m2m_validation_mode mode,
			pva_evidence *e)
{
	memset(e, 0, sizeof *e);
	snprintf(e->tre, sizeof e->tre, "%s", tre);
	memcpy(e->nonce, nonce, PVA_NONCE_LEN);
	e->mode = mode;
	e->secure_boot = 1;
	e->has_verdicts = mode == M2M_MODE_SEMI_AUTONOMOUS;
	e->has_quote = mode == M2M_MODE_REMOTE;
	e->nverdicts = e->has_verdicts ? TEST_COMPONENTS : 0;
	e->quote.nregisters = e->has_quote ? 3 : 0;
	e->quote.nlog = e->has_quote ? TEST_COMPONENTS : 0;
	for (int i = 0; i < TEST_COMPONENTS; i++) {
		snprintf(e->verdicts[i].component, sizeof e->verdicts[i].component, "%s", test_components[i]);
		e->verdicts[i].matches = 1;
		pva_log_entry *l = &e->quote.log[i];
		l->reg = component_register[i];
		snprintf(l->component, sizeof l->component, "%s", test_components[i]);
		test_component_digest(i, NULL, l->digest);
	}
	test_seal_quote(&e->quote);
}

static M2M_QUOTE *quote_to_wire(const pva_quote *q)
{
	M2M_QUOTE *w = M2M_QUOTE_new();
	for (int i = 0; i < q->nregisters; i++) {
		ASN1_OCTET_STRING *r = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(r, q->registers[i], PVA_DIGEST_LEN);
		sk_ASN1_OCTET_STRING_push(w->registers, r);
	}
	for (int i = 0; i < q->nlog; i++) {
		M2M_MEASUREMENT_LOG_ENTRY *l = M2M_MEASUREMENT_LOG_ENTRY_new();
		l->register_ = (uint64_t)q->log[i].reg;
		m2m_set_str(l->component, q->log[i].component);
		ASN1_OCTET_STRING_set(l->digest, q->log[i].digest, PVA_DIGEST_LEN);
		sk_M2M_MEASUREMENT_LOG_ENTRY_push(w->log, l);
	}
	return w;
}

static STACK_OF(M2M_COMPONENT_VERDICT) *verdicts_to_wire(const pva_evidence *e)
{
	STACK_OF(M2M_COMPONENT_VERDICT) *sk = sk_M2M_COMPONENT_VERDICT_new_null();
	for (int i = 0; i < e->nverdicts; i++) {
		M2M_COMPONENT_VERDICT *v = M2M_COMPONENT_VERDICT_new();
		m2m_set_str(v->component, e->verdicts[i].component);
		v->matches = e->verdicts[i].matches ? 0xff : 0;
		sk_M2M_COMPONENT_VERDICT_push(sk, v);
	}
	return sk;
}

M2M_EVIDENCE *test_evidence_wire(const pva_evidence *e)
{
	M2M_EVIDENCE *w = M2M_EVIDENCE_new();
	m2m_set_str(w->tre, e->tre);
	ASN1_OCTET_STRING_set(w->nonce, e->nonce, PVA_NONCE_LEN);
	ASN1_ENUMERATED_set(w->mode, e->mode);
	for (int bit = 0; bit < 2; bit++)
		if (e->tamper & PVA_TAMPER_BIT(bit))
			ASN1_BIT_STRING_set_bit(w->tamper, bit, 1);
	w->secure_boot = e->secure_boot ? 0xff : 0;
	if (e->has_verdicts)
		w->verdicts = verdicts_to_wire(e);
	if (e->has_quote)
		w->quote = quote_to_wire(&e->quote);
	return w;
}

static M2M_SIGNED_OBJECT *sign(const ASN1_ITEM *item, const void *value, test_signer who)
{
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	STACK_OF(X509) *extra = who == SIGNER_FOREIGN ? NULL : ta.chain;
	cr_assert_eq(m2m_cms_sign_item(ta.ids[who].key, ta.ids[who].cert, extra, item, value, so), 0);
	return so;
}

M2M_SIGNED_OBJECT *test_sign_evidence_wire(const M2M_EVIDENCE *w, test_signer who)
{
	return sign(ASN1_ITEM_rptr(M2M_EVIDENCE), w, who);
}

M2M_SIGNED_OBJECT *test_sign_evidence(const pva_evidence *e, test_signer who)
{
	M2M_EVIDENCE *w = test_evidence_wire(e);
	M2M_SIGNED_OBJECT *so = test_sign_evidence_wire(w, who);
	M2M_EVIDENCE_free(w);
	return so;
}

M2M_SIGNED_OBJECT *test_sign_tamper(const uint8_t id[PVA_REPORT_ID_LEN], const char *tre, test_signer who)
{
	M2M_TAMPER_REPORT *r = M2M_TAMPER_REPORT_new();
	ASN1_OCTET_STRING_set(r->report_id, id, PVA_REPORT_ID_LEN);
	m2m_set_str(r->tre, tre);
	ASN1_ENUMERATED_set(r->event, M2M_TAMPER_CASE_OPENED);
	m2m_set_str(r->component, "");
	ASN1_GENERALIZEDTIME_set(r->at, time(NULL));
	ASN1_ENUMERATED_set(r->reaction, M2M_TAMPER_ZEROISED);
	M2M_SIGNED_OBJECT *so = sign(ASN1_ITEM_rptr(M2M_TAMPER_REPORT), r, who);
	M2M_TAMPER_REPORT_free(r);
	return so;
}

/* ---- database ------------------------------------------------------------------------------------- */

static char migration[8192];
static const char *const migrations[] = {migration};
static const m2m_schema schema = {migrations, 1};

sqlite3 *test_open_db(void)
{
	char err[256] = "";
	snprintf(migration, sizeof migration, "%s%s", M2M_NODE_SCHEMA, PVA_SCHEMA_V1);
	sqlite3 *db = m2m_store_open(":memory:", &schema, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	return db;
}
