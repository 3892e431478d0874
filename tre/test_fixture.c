/* The TRE tests' agency, device files and TRE (test_fixture.h). */
#include "test_fixture.h"

#include "crypto/crypto.h"
#include "daemon/test_agency.h"
#include "log/log.h"

#include <criterion/criterion.h>
#include <openssl/cms.h>
#include <openssl/ec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY (24L * 3600)

const char *const fx_component_names[FX_COMPONENTS] = {"boot-rom", "tre-code", "os"};
const char *const fx_component_content[FX_COMPONENTS] = {"boot rom v1", "tre code v1", "operating system v1"};
const int fx_component_register[FX_COMPONENTS] = {0, 0, 1};

/* ---- the agency --------------------------------------------------------------------------- */

static X509 *issue(fx_agency *a, m2m_cert_kind kind, const char *cn, EVP_PKEY *subject, int profile,
		   const M2M_TRE_PLATFORM *platform, X509 *issuer, EVP_PKEY *issuer_key)
{
	time_t now = time(NULL);
	m2m_cert_spec spec = {kind, cn, subject, a->next_serial++, now - DAY, now + 365 * DAY, profile, platform};
	X509 *x = m2m_pki_issue(&spec, issuer, issuer_key);
	cr_assert_not_null(x, "issuing %s", cn);
	return x;
}

void fx_agency_make(fx_agency *a)
{
	memset(a, 0, sizeof *a);
	a->next_serial = 1;
	a->root_key = m2m_pki_keygen();
	a->ca_key = m2m_pki_keygen();
	a->agency_key = m2m_pki_keygen();
	a->root = issue(a, M2M_CERT_ROOT, "test root CA", a->root_key, -1, NULL, NULL, a->root_key);
	a->ca = issue(a, M2M_CERT_ISSUING_CA, "test issuing CA", a->ca_key, -1, NULL, a->root, a->root_key);
	a->agency = issue(a, M2M_CERT_END_ENTITY, FX_AGENCY, a->agency_key, M2M_PROFILE_PVA, NULL, a->ca, a->ca_key);
}

void fx_agency_free(fx_agency *a)
{
	EVP_PKEY_free(a->root_key);
	EVP_PKEY_free(a->ca_key);
	EVP_PKEY_free(a->agency_key);
	X509_free(a->root);
	X509_free(a->ca);
	X509_free(a->agency);
	memset(a, 0, sizeof *a);
}

X509 *fx_issue_tre(fx_agency *a, const uint8_t *csr, size_t len, const M2M_TRE_PLATFORM *platform)
{
	char cn[64];
	EVP_PKEY *pub = NULL;
	cr_assert_eq(m2m_pki_csr_check(csr, len, cn, &pub), M2M_OK, "the TRE's CSR");
	X509 *x = issue(a, M2M_CERT_END_ENTITY, cn, pub, M2M_PROFILE_TRE, platform, a->ca, a->ca_key);
	EVP_PKEY_free(pub);
	return x;
}

static ASN1_OCTET_STRING *der_of(X509 *x)
{
	uint8_t *der = NULL;
	size_t len = 0;
	cr_assert_eq(m2m_pki_cert_der(x, &der, &len), 0);
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(s, der, (int)len);
	OPENSSL_free(der);
	return s;
}

M2M_ENROL_RESPONSE *fx_enrol_response(const fx_agency *a, X509 *cert)
{
	M2M_ENROL_RESPONSE *r = M2M_ENROL_RESPONSE_new();
	ASN1_OCTET_STRING_free(r->certificate);
	r->certificate = der_of(cert);
	sk_ASN1_OCTET_STRING_push(r->chain, der_of(a->ca));
	sk_ASN1_OCTET_STRING_push(r->chain, der_of(a->root));
	return r;
}

M2M_SIGNED_OBJECT *fx_platform_type(const fx_agency *a, const char *model, const char *version, int n, EVP_PKEY *key,
				    X509 *signer)
{
	M2M_PLATFORM_TYPE *pt = M2M_PLATFORM_TYPE_new();
	m2m_set_str(pt->model, model);
	m2m_set_str(pt->version, version);
	pt->assurance_level = FX_LEVEL;
	for (int i = 0; i < n; i++) {
		M2M_REFERENCE_METRIC *m = M2M_REFERENCE_METRIC_new();
		uint8_t digest[32];
		tre_sha256(fx_component_content[i], strlen(fx_component_content[i]), digest);
		m2m_set_str(m->component, fx_component_names[i]);
		ASN1_OCTET_STRING_set(m->digest, digest, sizeof digest);
		sk_M2M_REFERENCE_METRIC_push(pt->references, m);
	}
	STACK_OF(X509) *extra = sk_X509_new_null();
	sk_X509_push(extra, a->ca);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_cms_sign_item(key, signer, extra, ASN1_ITEM_rptr(M2M_PLATFORM_TYPE), pt, so), 0);
	sk_X509_free(extra);
	M2M_PLATFORM_TYPE_free(pt);
	return so;
}

m2m_trust *fx_trust(const fx_agency *a)
{
	m2m_trust *t = m2m_trust_new(a->root);
	cr_assert_not_null(t);
	return t;
}

/* ---- Alternative 1a ------------------------------------------------------------------------- */

const uint8_t fx_mcim_k[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
const uint8_t fx_mcim_opc[16] = {0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
const uint8_t fx_pcid_k[16] = {0x0f, 0xe1, 0x2d, 0x33, 0x6a, 0x71, 0x84, 0x90, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7, 0x08, 0x19};
const uint8_t fx_pcid_opc[16] = {0x62, 0xe7, 0x5b, 0x8d, 0x6f, 0xa5, 0xbf, 0x46, 0xec, 0x87, 0xa9, 0x27, 0x6f, 0x9d, 0xf5, 0x4d};

void fx_party_make(fx_agency *a, fx_party *p, const char *cn, int profile)
{
	p->key = m2m_pki_keygen();
	p->serial = a->next_serial;
	p->cert = issue(a, M2M_CERT_END_ENTITY, cn, p->key, profile, NULL, a->ca, a->ca_key);
}

void fx_party_free(fx_party *p)
{
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
	memset(p, 0, sizeof *p);
}

uint8_t *fx_crl(const fx_agency *a, uint64_t number, const uint64_t *revoked, size_t n, size_t *len)
{
	time_t now = time(NULL);
	m2m_crl_entry entries[8];
	cr_assert_leq(n, 8);
	for (size_t i = 0; i < n; i++)
		entries[i] = (m2m_crl_entry){revoked[i], now - 60, M2M_CRL_KEY_COMPROMISE};
	m2m_crl_spec spec = {entries, n, NULL, 0, number, now - 60, now + DAY};
	uint8_t *der = NULL;
	cr_assert_eq(m2m_pki_crl(&spec, a->ca, a->ca_key, &der, len), 0);
	return der;
}

M2M_SIGNED_OBJECT *fx_sign(const fx_agency *a, const fx_party *p, const ASN1_ITEM *item, const void *value)
{
	STACK_OF(X509) *extra = sk_X509_new_null();
	sk_X509_push(extra, a->ca);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_cms_sign_item(p->key, p->cert, extra, item, value, so), 0);
	sk_X509_free(extra);
	return so;
}

void *fx_verify(const fx_agency *a, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, const char *cn)
{
	m2m_trust *trust = fx_trust(a);
	void *value = NULL;
	X509 *signer = NULL;
	cr_assert_eq(m2m_cms_verify_item(trust, so, item, &value, &signer), M2M_OK, "a signed object of %s", cn);
	char name[64];
	cr_assert_eq(m2m_pki_cert_cn(signer, name, sizeof name), 0);
	cr_assert_str_eq(name, cn);
	X509_free(signer);
	m2m_trust_free(trust);
	return value;
}

uint8_t *fx_der(const ASN1_ITEM *item, const void *value, size_t *len)
{
	unsigned char *der = NULL;
	int n = ASN1_item_i2d((const ASN1_VALUE *)value, &der, item);
	cr_assert_gt(n, 0, "the body encodes");
	*len = (size_t)n;
	return der;
}

M2M_REGISTRATION_TICKET *fx_ticket(const char *tre_id, const char *m2me, const char *sho, const uint8_t nonce[32],
				   long ttl)
{
	M2M_REGISTRATION_TICKET *k = M2M_REGISTRATION_TICKET_new();
	m2m_set_str(k->tre, tre_id);
	m2m_set_digits(&k->m2me, m2me);
	m2m_set_str(k->sho, sho);
	m2m_set_str(k->dpf, sho);
	ASN1_OCTET_STRING_set(k->nonce, nonce, 32);
	ASN1_GENERALIZEDTIME_set(k->expires, time(NULL) + ttl);
	return k;
}

M2M_MCIM *fx_mcim(const uint8_t id[16], const char *owner, const char *tre_id, const uint8_t nonce[32], const char *imsi,
		  uint64_t sqn)
{
	static const uint8_t amf[2] = {0x80, 0x00};
	M2M_MCIM *m = M2M_MCIM_new();
	ASN1_OCTET_STRING_set(m->mcim_id, id, 16);
	m->version = 1;
	m2m_set_str(m->owner, owner);
	m2m_set_str(m->tre, tre_id);
	ASN1_OCTET_STRING_set(m->nonce, nonce, 32);
	m2m_set_digits(&m->imsi, imsi);
	ASN1_OCTET_STRING_set(m->k, fx_mcim_k, 16);
	ASN1_OCTET_STRING_set(m->opc, fx_mcim_opc, 16);
	ASN1_OCTET_STRING_set(m->amf, amf, 2);
	m->sqn = sqn;
	ASN1_STRING *apn = ASN1_UTF8STRING_new();
	m2m_set_str(apn, "m2m.meter");
	sk_ASN1_UTF8STRING_push(m->profile->allowed_apns, apn);
	m->profile->cs_allowed = 0;  /* a required BOOLEAN: FALSE, not OpenSSL's "absent" */
	ASN1_GENERALIZEDTIME_set(m->issued_at, time(NULL));
	return m;
}

/* The DPF's envelope, as a DPF makes it. */
static uint8_t *envelope(X509 *to, const uint8_t *content, size_t clen, size_t *len)
{
	uint8_t *der = NULL;
	cr_assert_eq(m2m_cms_encrypt(to, content, clen, &der, len), 0);
	return der;
}

M2M_MCIM_PACKAGE *fx_package(const fx_agency *a, const fx_party *p, const M2M_MCIM *m, X509 *to)
{
	M2M_SIGNED_OBJECT *so = fx_sign(a, p, ASN1_ITEM_rptr(M2M_MCIM), m);
	size_t len = 0;
	uint8_t *env = envelope(to, so->cms->data, (size_t)so->cms->length, &len);
	M2M_MCIM_PACKAGE *pkg = M2M_MCIM_PACKAGE_new();
	ASN1_OCTET_STRING_set(pkg->mcim_id, ASN1_STRING_get0_data(m->mcim_id), ASN1_STRING_length(m->mcim_id));
	ASN1_OCTET_STRING_set(pkg->package, env, (int)len);
	OPENSSL_free(env);
	M2M_SIGNED_OBJECT_free(so);
	return pkg;
}

M2M_RELAY_RESPONSE *fx_relayed(int type, const void *body)
{
	size_t len = 0;
	uint8_t *der = fx_der(m2m_msgdef_find(type)->item(), body, &len);
	M2M_RELAY_RESPONSE *r = M2M_RELAY_RESPONSE_new();
	r->message_type = type;
	ASN1_OCTET_STRING_set(r->body, der, (int)len);
	OPENSSL_free(der);
	return r;
}

M2M_RELAY_RESPONSE *fx_relayed_ticket(const fx_agency *a, const fx_party *signer, const char *tre_id, const char *sho,
				      const uint8_t nonce[32], long ttl)
{
	M2M_REGISTRATION_TICKET *k = fx_ticket(tre_id, FX_IMEI, sho, nonce, ttl);
	M2M_SIGNED_OBJECT *so = fx_sign(a, signer, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), k);
	M2M_RELAY_RESPONSE *r = fx_relayed(M2M_MSG_DISCOVERY_RESPONSE, so);
	M2M_SIGNED_OBJECT_free(so);
	M2M_REGISTRATION_TICKET_free(k);
	return r;
}

M2M_RELAY_RESPONSE *fx_relayed_package(const fx_agency *a, const fx_party *signer, const uint8_t id[16],
				       const char *owner, const uint8_t nonce2[32], uint64_t sqn, X509 *to)
{
	M2M_MCIM *m = fx_mcim(id, owner, FX_ENTITY, nonce2, FX_MCIM_IMSI, sqn);
	M2M_MCIM_PACKAGE *pkg = fx_package(a, signer, m, to);
	M2M_RELAY_RESPONSE *r = fx_relayed(M2M_MSG_MCIM_PACKAGE, pkg);
	M2M_MCIM_PACKAGE_free(pkg);
	M2M_MCIM_free(m);
	return r;
}

M2M_RELAY_RESPONSE *fx_relayed_refusal(m2m_reason reason)
{
	M2M_ERROR_REPORT *er = M2M_ERROR_REPORT_new();
	ASN1_ENUMERATED_set(er->reason, reason);
	m2m_set_str(er->text, "refused by the destination");
	M2M_RELAY_RESPONSE *r = fx_relayed(M2M_MSG_ERROR, er);
	M2M_ERROR_REPORT_free(er);
	return r;
}

M2M_RELAY_RESPONSE *fx_relayed_ack(const uint8_t id[16])
{
	M2M_INSTALL_ACK *k = M2M_INSTALL_ACK_new();
	ASN1_OCTET_STRING_set(k->mcim_id, id, 16);
	M2M_RELAY_RESPONSE *r = fx_relayed(M2M_MSG_INSTALL_ACK, k);
	M2M_INSTALL_ACK_free(k);
	return r;
}

m2m_aka_av fx_vector(const uint8_t k[16], const uint8_t opc[16], uint64_t sqn)
{
	m2m_milenage m;
	m2m_aka_av av;
	uint8_t rand[16];
	m2m_random(rand, sizeof rand);
	cr_assert_eq(m2m_milenage_init(&m, k, opc), 0);
	cr_assert_eq(m2m_aka_av_build(&m, rand, sqn, (const uint8_t[2]){0x80, 0x00}, &av), 0);
	m2m_milenage_clear(&m);
	return av;
}

M2M_SIGNED_OBJECT *fx_signed_command(const fx_agency *a, const fx_party *signer, const uint8_t id[16], const char *owner,
				     const char *tre_id, int action, const uint8_t nonce[16], const uint8_t *change_id)
{
	M2M_MCIM_COMMAND *c = M2M_MCIM_COMMAND_new();
	ASN1_OCTET_STRING_set(c->mcim_id, id, 16);
	m2m_set_str(c->owner, owner);
	m2m_set_str(c->tre, tre_id);
	ASN1_ENUMERATED_set(c->action, action);
	ASN1_OCTET_STRING_set(c->nonce, nonce, 16);
	if (change_id) {
		c->change_id = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(c->change_id, change_id, 16);
	}
	M2M_SIGNED_OBJECT *so = fx_sign(a, signer, ASN1_ITEM_rptr(M2M_MCIM_COMMAND), c);
	M2M_MCIM_COMMAND_free(c);
	return so;
}

void fx_pcid(tre_pcid *p, int64_t valid_until)
{
	memset(p, 0, sizeof *p);
	p->present = 1;
	snprintf(p->imsi, sizeof p->imsi, FX_PCID);
	memcpy(p->k, fx_pcid_k, 16);
	memcpy(p->opc, fx_pcid_opc, 16);
	p->valid_until = valid_until;
}

void fx_write_pcid(const char *dir, const char *name, const tre_pcid *p)
{
	char k[33], opc[33], text[200];
	m2m_hex(p->k, 16, k);
	m2m_hex(p->opc, 16, opc);
	snprintf(text, sizeof text, "pcid = %s\nk = %s\nopc = %s\nvalid_until = %lld\n", p->imsi, k, opc,
		 (long long)p->valid_until);
	fx_write(dir, name, text, strlen(text));
}

/* ---- files -------------------------------------------------------------------------------- */

void fx_tempdir(char *dir)
{
	snprintf(dir, 64, "/tmp/treXXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

void fx_write(const char *dir, const char *name, const void *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

void fx_write_components(const char *dir)
{
	for (int i = 0; i < FX_COMPONENTS; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s.bin", fx_component_names[i]);
		fx_write(dir, name, fx_component_content[i], strlen(fx_component_content[i]));
	}
}

int fx_contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; m && i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return 1;
	return 0;
}

int fx_file_holds(const char *path, const void *needle, size_t len)
{
	size_t n = 0;
	uint8_t *buf = (uint8_t *)ta_read(path, &n);
	int found = buf && fx_contains(buf, n, needle, len);
	free(buf);
	return found;
}

/* ---- a TRE -------------------------------------------------------------------------------- */

void fx_settings(tre_settings *s, const char *dir, const uint8_t storage_key[32], m2m_tamper_reaction reaction)
{
	memset(s, 0, sizeof *s);
	memcpy(s->storage_key, storage_key, 32);
	snprintf(s->agency, sizeof s->agency, FX_AGENCY);
	memset(s->enrolment_secret, 0x5a, 16);
	s->enrolment_secret_len = 16;
	snprintf(s->model, sizeof s->model, FX_MODEL);
	snprintf(s->version, sizeof s->version, FX_VERSION);
	s->assurance = FX_LEVEL;
	snprintf(s->pva, sizeof s->pva, FX_AGENCY);
	snprintf(s->controller, sizeof s->controller, "testbed");
	s->nreport_to = 2;
	snprintf(s->report_to[0], sizeof s->report_to[0], FX_AGENCY);
	snprintf(s->report_to[1], sizeof s->report_to[1], FX_OPERATOR);
	s->reaction = reaction;
	snprintf(s->m2me, sizeof s->m2me, FX_M2ME);
	snprintf(s->m2me_id, sizeof s->m2me_id, FX_IMEI);
	snprintf(s->drf, sizeof s->drf, FX_DRF);
	s->switch_seconds = 30;
	s->trigger_window = 600;
	s->ncomponents = FX_COMPONENTS;
	for (int i = 0; i < FX_COMPONENTS; i++) {
		tre_component *c = &s->components[i];
		snprintf(c->name, sizeof c->name, "%s", fx_component_names[i]);
		snprintf(c->file, sizeof c->file, "%s/%s.bin", dir, fx_component_names[i]);
		c->reg = fx_component_register[i];
	}
}

static void open_tre(fx_tre *f, m2m_tamper_reaction reaction, const uint8_t storage_key[32], int expect_ok)
{
	char err[256] = "";
	sqlite3 *db = m2m_store_open(f->dbpath, &tre_schema, err, sizeof err);
	cr_assert_not_null(db, "%s", err);
	memset(&f->t, 0, sizeof f->t);
	fx_settings(&f->t.s, f->dir, storage_key, reaction);
	X509_up_ref(f->agency.root);
	f->t.root = f->agency.root;
	int rc = tre_open(&f->t, FX_ENTITY, db, NULL);
	cr_assert_eq(rc, expect_ok ? 0 : -1, "tre_open");
}

static void provision(fx_tre *f)
{
	unsigned char *csr = NULL;
	size_t len = 0;
	char why[300] = "";
	cr_assert_eq(tre_keystore_csr(&f->t, &csr, &len), 0);
	M2M_TRE_PLATFORM *p = M2M_TRE_PLATFORM_new();
	m2m_set_str(p->model, FX_MODEL);
	m2m_set_str(p->version, FX_VERSION);
	p->assurance_level = FX_LEVEL;
	X509 *cert = fx_issue_tre(&f->agency, csr, len, p);
	M2M_ENROL_RESPONSE *r = fx_enrol_response(&f->agency, cert);
	cr_assert_eq(tre_enrol_accept(&f->t, r, why, sizeof why), M2M_OK, "enrolment: %s", why);
	M2M_SIGNED_OBJECT *so =
		fx_platform_type(&f->agency, FX_MODEL, FX_VERSION, FX_COMPONENTS, f->agency.agency_key, f->agency.agency);
	cr_assert_eq(tre_platform_accept(&f->t, so->cms->data, (size_t)so->cms->length, why, sizeof why), M2M_OK,
		     "platform type: %s", why);
	M2M_SIGNED_OBJECT_free(so);
	M2M_ENROL_RESPONSE_free(r);
	M2M_TRE_PLATFORM_free(p);
	X509_free(cert);
	OPENSSL_free(csr);
}

void fx_tre_open(fx_tre *f, m2m_tamper_reaction reaction, int provisioned)
{
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(f, 0, sizeof *f);
	fx_tempdir(f->dir);
	snprintf(f->dbpath, sizeof f->dbpath, "%s/tre.db", f->dir);
	fx_write_components(f->dir);
	fx_agency_make(&f->agency);
	m2m_random(f->storage_key, sizeof f->storage_key);
	open_tre(f, reaction, f->storage_key, 1);
	if (provisioned)
		provision(f);
}

static void close_tre(fx_tre *f)
{
	sqlite3 *db = f->t.db;
	tre_close(&f->t);
	m2m_store_close(db);
	f->t.db = NULL;
}

void fx_tre_reopen(fx_tre *f, const uint8_t storage_key[32])
{
	m2m_tamper_reaction reaction = f->t.s.reaction;
	close_tre(f);
	open_tre(f, reaction, storage_key, !memcmp(storage_key, f->storage_key, 32));
}

void fx_tre_close(fx_tre *f)
{
	if (f->t.db)
		close_tre(f);
	fx_agency_free(&f->agency);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	cr_assert_eq(system(cmd), 0);
}

void fx_boot(fx_tre *f)
{
	cr_assert_eq(m2m_store_begin(f->t.db), 0);
	cr_assert_eq(tre_boot(&f->t), 0);
	cr_assert_eq(m2m_store_commit(f->t.db), 0);
}

/* ---- driving the engine as the M2ME and the network do -------------------------------------- */

void fx_accept_crl(fx_tre *f, uint64_t number, const uint64_t *revoked, size_t n)
{
	size_t len = 0;
	char why[300];
	uint8_t *der = fx_crl(&f->agency, number, revoked, n, &len);
	cr_assert_eq(tre_crl_accept(&f->t, der, len, why, sizeof why), M2M_OK, "%s", why);
	OPENSSL_free(der);
}

M2M_TRE_CREDENTIAL *fx_credential(fx_tre *f, int kind, const char *imsi)
{
	M2M_TRE_CREDENTIAL *c = tre_credential_body(&f->t);
	cr_assert_eq(ASN1_ENUMERATED_get(c->kind), kind);
	char digits[16] = "";
	if (imsi) {
		cr_assert_eq(m2m_digits(c->imsi, digits, sizeof digits, 6, 15), 0);
		cr_assert_str_eq(digits, imsi);
	} else {
		cr_assert_null(c->imsi);
	}
	return c;
}

char *fx_snapshot(fx_tre *f)
{
	sqlite3_stmt *st = m2m_store_prepare(f->t.db, "SELECT state || '/' || reason || '/' || refusal || '/' || hex(nonce)"
				       " || hex(nonce2) || hex(mcim_id) || ifnull(sho, '') || ifnull(dpf, '') || hex(ticket)"
				       " || hex(step) || '/' || hex(change_id) || '/' || deadline || '/' ||"
				       " (SELECT COUNT(*) FROM tre_slot) || '/' ||"
				       " ifnull((SELECT group_concat(hex(mcim_id) || ':' || state, ',') FROM tre_mcim), '') || '/' ||"
				       " ifnull((SELECT hex(change_id) || owner || hex(mcim_id) || committed || hex(superseded)"
				       " FROM tre_change), '') FROM tre_provision");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	char *s = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s;
}

m2m_reason fx_provision(fx_tre *f, M2M_RELAY_RESPONSE *answer, M2M_TRE_PROVISION_NEXT **next)
{
	M2M_TRE_PROVISION *q = M2M_TRE_PROVISION_new();
	q->answer = answer;
	f->why[0] = 0;
	*next = NULL;
	m2m_reason r = tre_provision_run(&f->t, q, next, f->why, sizeof f->why);
	M2M_TRE_PROVISION_free(q);
	cr_assert(r == M2M_OK || f->why[0], "a refusal says why");
	return r;
}

M2M_TRE_PROVISION_NEXT *fx_provision_ok(fx_tre *f, M2M_RELAY_RESPONSE *answer)
{
	M2M_TRE_PROVISION_NEXT *next = NULL;
	m2m_reason r = fx_provision(f, answer, &next);
	cr_assert_eq(r, M2M_OK, "refused: %s (%s)", m2m_reason_name(r), f->why);
	return next;
}

void fx_provision_refused(fx_tre *f, M2M_RELAY_RESPONSE *answer, m2m_reason expect, const char *what)
{
	char *before = fx_snapshot(f);
	M2M_TRE_PROVISION_NEXT *next = NULL;
	m2m_reason r = fx_provision(f, answer, &next);
	cr_assert_eq(r, expect, "%s: %s, not %s (%s)", what, m2m_reason_name(r), m2m_reason_name(expect), f->why);
	char *after = fx_snapshot(f);
	cr_assert_str_eq(after, before, "%s changed the state", what);
	free(before);
	free(after);
}

M2M_SIGNED_OBJECT *fx_step_of(M2M_TRE_PROVISION_NEXT *next, int state, const char *destination, int type)
{
	cr_assert_eq(ASN1_ENUMERATED_get(next->state), state);
	cr_assert_not_null(next->step);
	char d[64];
	cr_assert_eq(m2m_str(next->step->destination, d, sizeof d), 0);
	cr_assert_str_eq(d, destination);
	cr_assert_eq(next->step->message_type, type);
	const unsigned char *p = next->step->body->data;
	M2M_SIGNED_OBJECT *so = d2i_M2M_SIGNED_OBJECT(NULL, &p, next->step->body->length);
	cr_assert_not_null(so);
	M2M_TRE_PROVISION_NEXT_free(next);
	return so;
}
