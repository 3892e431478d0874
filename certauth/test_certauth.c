/*
 * Certification agency tests: the hierarchy created once and kept across restarts (keys, serial
 * counter, root file), enrolment and each reason it is refused for, what the certificates carry
 * and that `openssl verify` accepts them against the root file, revocation by serial and by
 * model as the CRL shows it, the signed platform types as `openssl cms` checks them, the
 * protocol over real nodes, and certauth-admin as a process with its exit statuses.
 */
#include "certauth.h"
#include "schema.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <zmq.h>

#define MODEL "acme-tre"
#define VERSION "2.1"
#define ASSURANCE 4
#define SECRET_TRE1 "000102030405060708090a0b0c0d0e0f"
#define SECRET_TRE2 "101112131415161718191a1b1c1d1e1f"
#define SECRET_MNO "202122232425262728292a2b2c2d2e2f30313233"

typedef struct fixture {
	char dir[64];
	char db_path[128];
	sqlite3 *db;
	certauth c;
	char err[512];
} fixture;

static fixture fx;

static void path_in_dir(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", fx.dir, name);
}

static void add_enrolment(const char *id, int profile, const char *secret_hex)
{
	ca_enrolment *e = &fx.c.settings.enrolments[fx.c.settings.nenrolments++];
	snprintf(e->id, sizeof e->id, "%s", id);
	e->profile = profile;
	e->secret_len = strlen(secret_hex) / 2;
	cr_assert_eq(m2m_unhex(secret_hex, e->secret, e->secret_len), 0);
}

static void open_agency(void)
{
	char err[256] = "";
	fx.db = m2m_store_open(fx.db_path, certauth_schema(), err, sizeof err);
	cr_assert_not_null(fx.db, "%s", err);
	cr_assert_eq(ca_open(&fx.c.authority, fx.db, &fx.c.settings, "certauth", fx.err, sizeof fx.err), 0, "%s", fx.err);
	cr_assert_eq(certauth_ca_init(&fx.c), 0);
}

static void close_agency(void)
{
	certauth_ca_free(&fx.c);
	ca_close(&fx.c.authority);
	m2m_store_close(fx.db);
	fx.db = NULL;
}

static void add_platform(const char *model, const char *version, int assurance)
{
	ca_component comps[2] = {{"boot-rom", {0}}, {"tre-code", {0}}};
	memset(comps[0].digest, 0x11, 32);
	memset(comps[1].digest, 0x22, 32);
	ca_platform_spec spec = {model, version, assurance, comps, 2};
	cr_assert_eq(ca_platform_add(fx.db, &spec, fx.err, sizeof fx.err), CA_DONE, "%s", fx.err);
}

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	m2m_log_init("test", M2M_LOG_WARN);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/m2mcaXXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	path_in_dir(fx.db_path, sizeof fx.db_path, "certauth.db");
	m2m_random(fx.c.settings.storage_key, sizeof fx.c.settings.storage_key);
	path_in_dir(fx.c.settings.root_certificate, sizeof fx.c.settings.root_certificate, "root.pem");
	fx.c.settings.validity_days = 365;
	fx.c.settings.crl_hours = 24;
	add_enrolment("tre-1", M2M_PROFILE_TRE, SECRET_TRE1);
	add_enrolment("tre-2", M2M_PROFILE_TRE, SECRET_TRE2);
	add_enrolment("mno-a", M2M_PROFILE_OPERATOR_FUNCTION, SECRET_MNO);
	open_agency();
	add_platform(MODEL, VERSION, ASSURANCE);
	add_platform("zeta-tre", "1.0", 6);
}

static void teardown(void)
{
	if (fx.db)
		close_agency();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(certauth, .init = setup, .fini = teardown);

/* ---- enrolment requests ------------------------------------------------------------------- */

typedef struct request {
	M2M_ENROL_REQUEST *body;
	EVP_PKEY *key;
} request;

static request enrol_request(const char *cn, int profile, const char *secret_hex, const char *model,
			     const char *version, int assurance)
{
	request r = {M2M_ENROL_REQUEST_new(), m2m_pki_keygen()};
	uint8_t *csr, secret[64];
	size_t len, n = strlen(secret_hex) / 2;
	cr_assert(r.body && r.key && !m2m_pki_csr(r.key, cn, &csr, &len));
	cr_assert(ASN1_OCTET_STRING_set(r.body->csr, csr, (int)len));
	OPENSSL_free(csr);
	cr_assert_eq(m2m_unhex(secret_hex, secret, n), 0);
	cr_assert(ASN1_OCTET_STRING_set(r.body->authorisation, secret, (int)n));
	cr_assert(ASN1_ENUMERATED_set(r.body->profile, profile));
	if (model) {
		r.body->platform = M2M_TRE_PLATFORM_new();
		cr_assert(!m2m_set_str(r.body->platform->model, model) && !m2m_set_str(r.body->platform->version, version));
		r.body->platform->assurance_level = (uint64_t)assurance;
	}
	return r;
}

static request tre_request(const char *cn, const char *secret_hex)
{
	return enrol_request(cn, M2M_PROFILE_TRE, secret_hex, MODEL, VERSION, ASSURANCE);
}

static void free_request(request *r)
{
	M2M_ENROL_REQUEST_free(r->body);
	EVP_PKEY_free(r->key);
}

static int count_rows(const char *table)
{
	char sql[128];
	sqlite3_stmt *st = NULL;
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	cr_assert_eq(sqlite3_prepare_v2(fx.db, sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Enrols as sender; the certificate, which the caller frees, or NULL with *reason. */
static X509 *enrol_as(const char *sender, request *r, m2m_reason *reason)
{
	char why[200];
	X509 *cert = NULL;
	*reason = certauth_enrol(&fx.c, sender, r->body, &cert, why, sizeof why);
	cr_assert_eq(*reason == M2M_OK, cert != NULL, "%s", why);
	return cert;
}

static X509 *enrol_ok(const char *sender, request *r)
{
	m2m_reason reason;
	X509 *cert = enrol_as(sender, r, &reason);
	cr_assert_eq(reason, M2M_OK, "%s", m2m_reason_name(reason));
	return cert;
}

static X509 *enrol_tre(const char *id, const char *secret)
{
	request r = tre_request(id, secret);
	X509 *cert = enrol_ok(id, &r);
	free_request(&r);
	return cert;
}

static void assert_refused(const char *sender, request r, m2m_reason want)
{
	int before = count_rows("ca_certificate");
	m2m_reason got;
	X509 *cert = enrol_as(sender, &r, &got);
	cr_assert_null(cert);
	cr_assert_eq(got, want, "%s, not %s", m2m_reason_name(got), m2m_reason_name(want));
	cr_assert_eq(count_rows("ca_certificate"), before, "a refusal issues nothing");
	free_request(&r);
}

/* ---- the openssl command line ------------------------------------------------------------- */

static void write_pem(const char *name, X509 *cert)
{
	char path[128];
	path_in_dir(path, sizeof path, name);
	cr_assert_eq(m2m_pki_cert_write_pem(cert, path), 0);
}

static void write_file(const char *name, const uint8_t *data, size_t len)
{
	char path[128];
	path_in_dir(path, sizeof path, name);
	FILE *f = fopen(path, "wb");
	cr_assert(f && fwrite(data, 1, len, f) == len && !fclose(f));
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A shell command run in the fixture's directory; its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	int n = snprintf(cmd, sizeof cmd, "cd %s && ", fx.dir);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The newest CRL as crl.pem (and crl.der), for openssl verify -crl_check. */
static X509_CRL *newest_crl(void)
{
	uint8_t *der;
	size_t len;
	uint64_t number;
	cr_assert_eq(ca_crl_latest(fx.db, &der, &len, &number), 0);
	write_file("crl.der", der, len);
	cr_assert_eq(sh("openssl crl -inform DER -in crl.der -out crl.pem 2>/dev/null"), 0);
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	cr_assert_not_null(crl);
	OPENSSL_free(der);
	return crl;
}

static int openssl_verify(X509 *cert, int crl_check)
{
	write_pem("issuing.pem", fx.c.authority.issuing);
	write_pem("leaf.pem", cert);
	if (crl_check)
		X509_CRL_free(newest_crl());
	return sh("openssl verify %s-CAfile root.pem -untrusted issuing.pem leaf.pem >/dev/null 2>&1",
		  crl_check ? "-crl_check -CRLfile crl.pem " : "");
}

/* The reasonCode of serial in crl, -1 when it is not listed, 0 when listed without one. */
static int crl_reason(X509_CRL *crl, X509 *cert)
{
	X509_REVOKED *rev = NULL;
	if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert)) != 1)
		return -1;
	ASN1_ENUMERATED *reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	int r = reason ? (int)ASN1_ENUMERATED_get(reason) : 0;
	ASN1_ENUMERATED_free(reason);
	return r;
}

/* ---- enrolment ---------------------------------------------------------------------------- */

Test(certauth, enrolment_of_an_operator_function)
{
	request r = enrol_request("mno-a", M2M_PROFILE_OPERATOR_FUNCTION, SECRET_MNO, NULL, NULL, 0);
	X509 *cert = enrol_ok("mno-a", &r);
	char cn[64];
	cr_assert(!m2m_pki_cert_cn(cert, cn, sizeof cn) && !strcmp(cn, "mno-a"));
	cr_assert_eq(m2m_pki_cert_profile(cert), M2M_PROFILE_OPERATOR_FUNCTION);
	cr_assert_eq(X509_check_private_key(cert, r.key), 1, "the certificate is for the CSR's key");
	const ca_context *ca = certauth_ca_current(&fx.c);
	cr_assert_eq(m2m_trust_verify(ca->trust, cert, M2M_PROFILE_OPERATOR_FUNCTION), M2M_OK);
	cr_assert_eq(openssl_verify(cert, 1), 0, "openssl verify against the root file");
	X509_free(cert);
	free_request(&r);
}

Test(certauth, tre_certificate_carries_its_platform)
{
	X509 *cert = enrol_tre("tre-1", SECRET_TRE1);
	M2M_TRE_PLATFORM *p = NULL;
	cr_assert_eq(m2m_pki_verify_tre(certauth_ca_current(&fx.c)->trust, cert, &p), M2M_OK);
	char model[64], version[32];
	cr_assert(!m2m_pki_tre_platform_read(p, model, version));
	cr_assert_str_eq(model, MODEL);
	cr_assert_str_eq(version, VERSION);
	cr_assert_eq(p->assurance_level, ASSURANCE);
	M2M_TRE_PLATFORM_free(p);
	cr_assert_eq(openssl_verify(cert, 1), 0);
	cr_assert_eq(sh("openssl x509 -in leaf.pem -noout -ext certificatePolicies | grep -q %s.5", M2M_OID_PROFILE_ARC), 0);
	cr_assert_eq(sh("openssl x509 -in leaf.pem -noout -text | grep -q %s", M2M_OID_TRE_PLATFORM), 0);
	X509_free(cert);
}

Test(certauth, refused_enrolments)
{
	char other[] = "ffffffffffffffffffffffffffffffff";
	assert_refused("tre-1", tre_request("tre-1", other), M2M_R_ENROLMENT_REFUSED);            /* secret */
	assert_refused("tre-1", tre_request("tre-1", SECRET_TRE2), M2M_R_ENROLMENT_REFUSED);      /* tre-2's secret */
	assert_refused("tre-1", tre_request("tre-2", SECRET_TRE2), M2M_R_ENROLMENT_REFUSED);      /* for another */
	assert_refused("tre-9", tre_request("tre-9", SECRET_TRE1), M2M_R_ENROLMENT_REFUSED);      /* not listed */
	assert_refused("mno-a", enrol_request("mno-a", M2M_PROFILE_PVA, SECRET_MNO, NULL, NULL, 0),
		       M2M_R_ENROLMENT_REFUSED);                                                  /* profile */
	assert_refused("tre-1", enrol_request("tre-1", M2M_PROFILE_TRE, SECRET_TRE1, NULL, NULL, 0),
		       M2M_R_BAD_BODY);                                                           /* no platform */
	assert_refused("tre-1", enrol_request("tre-1", M2M_PROFILE_TRE, SECRET_TRE1, "other-tre", "1", 3),
		       M2M_R_ENROLMENT_REFUSED);                                                  /* not certified */
	assert_refused("tre-1", enrol_request("tre-1", M2M_PROFILE_TRE, SECRET_TRE1, MODEL, VERSION, 7),
		       M2M_R_ENROLMENT_REFUSED);                                                  /* assurance */
	cr_assert_eq(count_rows("ca_certificate"), 1, "only the agency's own certificate");
}

Test(certauth, bad_csr)
{
	request r = tre_request("tre-1", SECRET_TRE1);
	ASN1_OCTET_STRING_set(r.body->csr, (const unsigned char *)"\x30\x03\x02\x01\x01", 5);
	assert_refused("tre-1", r, M2M_R_BAD_BODY);
	r = tre_request("tre-1", SECRET_TRE1);
	unsigned char *der = (unsigned char *)ASN1_STRING_get0_data(r.body->csr);
	der[ASN1_STRING_length(r.body->csr) - 3] ^= 1;  /* inside the signature */
	assert_refused("tre-1", r, M2M_R_BAD_SIGNATURE);
}

/* ---- revocation --------------------------------------------------------------------------- */

Test(certauth, revocation_by_serial)
{
	X509 *a = enrol_tre("tre-1", SECRET_TRE1), *b = enrol_tre("tre-2", SECRET_TRE2);
	uint64_t serial;
	cr_assert(!m2m_pki_cert_serial(a, &serial));
	cr_assert_eq(ca_revoke_serial(&fx.c.authority, serial, fx.err, sizeof fx.err), CA_DONE, "%s", fx.err);
	cr_assert_eq(ca_revoke_serial(&fx.c.authority, serial, fx.err, sizeof fx.err), CA_FAILED, "only once");
	X509_CRL *crl = newest_crl();
	cr_assert_eq(crl_reason(crl, a), M2M_CRL_KEY_COMPROMISE);
	cr_assert_eq(crl_reason(crl, b), -1);
	X509_CRL_free(crl);
	const ca_context *ca = certauth_ca_current(&fx.c);
	cr_assert_eq(m2m_trust_verify(ca->trust, a, -1), M2M_R_CERTIFICATE_REVOKED);
	cr_assert_eq(m2m_trust_verify(ca->trust, b, -1), M2M_OK);
	cr_assert_neq(openssl_verify(a, 1), 0, "openssl verify -crl_check refuses it");
	cr_assert_eq(openssl_verify(b, 1), 0);
	X509_free(a);
	X509_free(b);
}

Test(certauth, revocation_by_model)
{
	X509 *weak = enrol_tre("tre-1", SECRET_TRE1);
	request r = enrol_request("tre-2", M2M_PROFILE_TRE, SECRET_TRE2, "zeta-tre", "1.0", 6);
	X509 *fine = enrol_ok("tre-2", &r);
	free_request(&r);
	int revoked = 0;
	cr_assert_eq(ca_revoke_model(&fx.c.authority, MODEL, NULL, &revoked, fx.err, sizeof fx.err), CA_DONE);
	cr_assert_eq(revoked, 1);
	X509_CRL *crl = newest_crl();
	cr_assert_eq(crl_reason(crl, weak), M2M_CRL_PRIVILEGE_WITHDRAWN);
	cr_assert_eq(crl_reason(crl, fine), -1);
	X509_CRL_free(crl);
	cr_assert_eq(sh("openssl crl -in crl.pem -noout -text | grep -q %s", M2M_OID_REVOKED_MODELS), 0);
	const ca_context *ca = certauth_ca_current(&fx.c);
	cr_assert(m2m_trust_model_revoked(ca->trust, MODEL, "any version"));
	cr_assert_eq(m2m_pki_verify_tre(ca->trust, weak, NULL), M2M_R_MODEL_REVOKED);
	cr_assert_eq(m2m_pki_verify_tre(ca->trust, fine, NULL), M2M_OK);
	cr_assert_neq(openssl_verify(weak, 1), 0);
	/* and no TRE of the model is certified any more */
	assert_refused("tre-1", tre_request("tre-1", SECRET_TRE1), M2M_R_MODEL_REVOKED);
	X509_free(weak);
	X509_free(fine);
}

Test(certauth, crl_is_republished_when_due)
{
	uint8_t *der;
	size_t len;
	uint64_t first, again;
	cr_assert_eq(ca_crl_latest(fx.db, &der, &len, &first), 0);
	OPENSSL_free(der);
	cr_assert_eq(ca_crl_refresh(&fx.c.authority, 0, fx.err, sizeof fx.err), 0);
	cr_assert_eq(ca_crl_latest(fx.db, &der, &len, &again), 0);
	OPENSSL_free(der);
	cr_assert_eq(again, first, "a fresh CRL is kept");
	cr_assert_eq(sqlite3_exec(fx.db, "UPDATE ca_crl SET this_update = this_update - 13 * 3600, next_update = next_update - 13 * 3600", NULL, NULL, NULL),
		     SQLITE_OK);
	cr_assert_eq(ca_crl_refresh(&fx.c.authority, 0, fx.err, sizeof fx.err), 0);
	cr_assert_eq(ca_crl_latest(fx.db, &der, &len, &again), 0);
	OPENSSL_free(der);
	cr_assert_eq(again, first + 1, "past half its life, a new one");
}

/* ---- restart ------------------------------------------------------------------------------ */

Test(certauth, restart_keeps_keys_and_serials)
{
	X509 *before = enrol_tre("tre-1", SECRET_TRE1);
	X509 *root = X509_dup(fx.c.authority.root), *own = X509_dup(fx.c.authority.pva);
	uint64_t serial_before, serial_after;
	cr_assert(!m2m_pki_cert_serial(before, &serial_before));
	close_agency();
	open_agency();
	cr_assert_eq(X509_cmp(root, fx.c.authority.root), 0, "the same root");
	cr_assert_eq(X509_cmp(own, fx.c.authority.pva), 0, "the same own certificate");
	X509 *after = enrol_tre("tre-2", SECRET_TRE2);
	cr_assert(!m2m_pki_cert_serial(after, &serial_after));
	cr_assert_eq(serial_after, serial_before + 1, "the serial counter survives");
	cr_assert_eq(m2m_trust_verify(certauth_ca_current(&fx.c)->trust, before, -1), M2M_OK);
	X509 *from_file = NULL;
	char path[128];
	path_in_dir(path, sizeof path, "root.pem");
	cr_assert((from_file = m2m_pki_cert_read_pem(path)) && !X509_cmp(from_file, root));

	close_agency();  /* another storage key cannot read the keys */
	m2m_random(fx.c.settings.storage_key, sizeof fx.c.settings.storage_key);
	char err[256] = "";
	fx.db = m2m_store_open(fx.db_path, certauth_schema(), err, sizeof err);
	cr_assert_eq(ca_open(&fx.c.authority, fx.db, &fx.c.settings, "certauth", fx.err, sizeof fx.err), -1);
	cr_assert(strstr(fx.err, "storage_key_file"), "%s", fx.err);
	m2m_store_close(fx.db);
	fx.db = NULL;
	X509_free(before);
	X509_free(after);
	X509_free(root);
	X509_free(own);
	X509_free(from_file);
}

/* The private scalar of key, as the 32 bytes a plaintext copy would contain. */
static void private_scalar(EVP_PKEY *key, uint8_t out[32])
{
	BIGNUM *d = NULL;
	cr_assert(EVP_PKEY_get_bn_param(key, "priv", &d) && BN_bn2binpad(d, out, 32) == 32);
	BN_clear_free(d);
}

Test(certauth, own_certificate_is_renewed_once_revoked)
{
	X509 *own = X509_dup(fx.c.authority.pva);
	uint64_t serial;
	cr_assert(!m2m_pki_cert_serial(own, &serial));
	cr_assert_eq(m2m_store_begin(fx.db), 0);
	cr_assert_eq(ca_revoke_serial(&fx.c.authority, serial, fx.err, sizeof fx.err), CA_DONE);
	cr_assert_eq(m2m_store_commit(fx.db), 0);
	close_agency();
	open_agency();
	cr_assert_neq(X509_cmp(own, fx.c.authority.pva), 0, "a new own certificate at the next start");
	cr_assert_eq(m2m_trust_verify(certauth_ca_current(&fx.c)->trust, fx.c.authority.pva, M2M_PROFILE_PVA), M2M_OK);
	X509_free(own);
}

Test(certauth, keys_are_sealed)
{
	EVP_PKEY *keys[] = {fx.c.authority.root_key, fx.c.authority.issuing_key, fx.c.authority.pva_key};
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(fx.db, "SELECT key_sealed FROM ca_hierarchy", -1, &st, NULL), SQLITE_OK);
	int rows = 0;
	for (; sqlite3_step(st) == SQLITE_ROW; rows++) {
		const uint8_t *blob = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		for (size_t k = 0; k < 3; k++) {
			uint8_t d[32];
			private_scalar(keys[k], d);
			cr_assert_null(memmem(blob, n, d, sizeof d), "no plaintext key in the database");
		}
	}
	sqlite3_finalize(st);
	cr_assert_eq(rows, 3);
}

/* ---- over the wire ------------------------------------------------------------------------ */

typedef struct net {
	m2m_node *agency, *client;
	int replies;
	int last_type;
	m2m_reason last_reason;
	uint8_t *body_der;  /* the DER of the last reply's body */
	int body_len;
} net;

static net nx;

static void node_conf(m2m_node_conf *c, const char *id, const char *secret)
{
	memset(c, 0, sizeof *c);
	snprintf(c->entity, sizeof c->entity, "%s", id);
	snprintf(c->bind, sizeof c->bind, "ipc://%s/%s.sock", fx.dir, id);
	snprintf(c->secret_key, sizeof c->secret_key, "%s", secret);
	c->timeout_ms = 2000;
	c->retries = 1;
}

static void add_peer(m2m_node_conf *c, const char *id, const char *pub)
{
	m2m_peer_conf *p = &c->peers[c->npeers++];
	snprintf(p->id, sizeof p->id, "%s", id);
	snprintf(p->endpoint, sizeof p->endpoint, "ipc://%s/%s.sock", fx.dir, id);
	snprintf(p->public_key, sizeof p->public_key, "%s", pub);
}

static void serve(m2m_node *n, m2m_request *req, void *arg)
{
	certauth_serve(&fx.c, req);
}

/* The agency, and a client that speaks as `client`. */
static void start_network(const char *client)
{
	char pub[2][M2M_KEY_Z85], sec[2][M2M_KEY_Z85], err[256] = "";
	m2m_node_conf ac, cc;
	memset(&nx, 0, sizeof nx);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(zmq_curve_keypair(pub[i], sec[i]), 0);
	node_conf(&ac, "certauth", sec[0]);
	add_peer(&ac, client, pub[1]);
	node_conf(&cc, client, sec[1]);
	add_peer(&cc, "certauth", pub[0]);
	nx.agency = m2m_node_new(&ac, fx.db, err, sizeof err);
	cr_assert_not_null(nx.agency, "%s", err);
	m2m_node_set_dispatch(nx.agency, serve, NULL);
	nx.client = m2m_node_new(&cc, NULL, err, sizeof err);
	cr_assert_not_null(nx.client, "%s", err);
	fx.c.node = nx.agency;
}

static void stop_network(void)
{
	m2m_node_free(nx.client);
	m2m_node_free(nx.agency);
	OPENSSL_free(nx.body_der);
	fx.c.node = NULL;
}

static void on_response(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	nx.replies++;
	nx.last_type = resp ? resp->type : -1;
	nx.last_reason = reason;
	OPENSSL_free(nx.body_der);
	nx.body_der = NULL;
	if (resp && resp->type == M2M_MSG_ERROR)
		nx.last_reason = (m2m_reason)ASN1_ENUMERATED_get(((M2M_ERROR_REPORT *)resp->body)->reason);
	else if (resp)
		nx.body_len = ASN1_item_i2d(resp->body, &nx.body_der, m2m_msgdef_find(resp->type)->item());
}

static void ask(int type, void *body)
{
	int want = nx.replies + 1;
	cr_assert_eq(m2m_call(nx.client, "certauth", type, body, on_response, NULL), 0);
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	for (int i = 0; i < 2000 && nx.replies < want; i++) {
		m2m_node_poll(nx.agency, 0);
		m2m_node_poll(nx.client, 2);
	}
	cr_assert_eq(nx.replies, want, "no answer");
}

/* The last reply's body, decoded again as its type's template. */
static void *last_body(const ASN1_ITEM *item)
{
	const unsigned char *p = nx.body_der;
	void *v = ASN1_item_d2i(NULL, &p, nx.body_len, item);
	cr_assert_not_null(v);
	return v;
}

static M2M_PLATFORM_TYPE_REQUEST *type_request(const char *model, const char *version)
{
	M2M_PLATFORM_TYPE_REQUEST *q = M2M_PLATFORM_TYPE_REQUEST_new();
	cr_assert(!m2m_set_str(q->model, model) && !m2m_set_str(q->version, version));
	return q;
}

Test(certauth, platform_type_over_the_wire)
{
	start_network("tre-1");
	ask(M2M_MSG_PLATFORM_TYPE_REQUEST, type_request(MODEL, VERSION));
	cr_assert_eq(nx.last_type, M2M_MSG_PLATFORM_TYPE_RESPONSE, "%s", m2m_reason_name(nx.last_reason));
	M2M_SIGNED_OBJECT *so = last_body(ASN1_ITEM_rptr(M2M_SIGNED_OBJECT));
	M2M_PLATFORM_TYPE *t = NULL;
	X509 *signer = NULL;
	const ca_context *ca = certauth_ca_current(&fx.c);
	cr_assert_eq(m2m_cms_verify_item(ca->trust, so, ASN1_ITEM_rptr(M2M_PLATFORM_TYPE), (void **)&t, &signer), M2M_OK);
	cr_assert_eq(t->assurance_level, ASSURANCE);
	cr_assert_eq(sk_M2M_REFERENCE_METRIC_num(t->references), 2);
	cr_assert_eq(X509_cmp(signer, ca->pva_cert), 0, "signed with the agency's own certificate");

	write_file("type.der", ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms));
	cr_assert_eq(sh("openssl cms -verify -inform DER -binary -in type.der -CAfile root.pem -out type.bin 2>/dev/null"),
		     0, "openssl cms -verify with the root file only");
	cr_assert_eq(sh("openssl asn1parse -inform DER -in type.bin | grep -q %s", MODEL), 0);

	ask(M2M_MSG_PLATFORM_TYPE_REQUEST, type_request(MODEL, "9.9"));
	cr_assert_eq(nx.last_type, M2M_MSG_ERROR);
	cr_assert_eq(nx.last_reason, M2M_R_NOT_FOUND);
	M2M_PLATFORM_TYPE_free(t);
	X509_free(signer);
	M2M_SIGNED_OBJECT_free(so);
	stop_network();
}

Test(certauth, enrolment_and_crl_over_the_wire)
{
	start_network("tre-1");
	request r = tre_request("tre-1", SECRET_TRE1);
	ask(M2M_MSG_ENROL_REQUEST, r.body);
	r.body = NULL;
	cr_assert_eq(nx.last_type, M2M_MSG_ENROL_RESPONSE, "%s", m2m_reason_name(nx.last_reason));
	M2M_ENROL_RESPONSE *resp = last_body(ASN1_ITEM_rptr(M2M_ENROL_RESPONSE));
	cr_assert_eq(sk_ASN1_OCTET_STRING_num(resp->chain), 2, "issuing CA, then root");
	X509 *cert = m2m_pki_cert_from_der(ASN1_STRING_get0_data(resp->certificate),
					   (size_t)ASN1_STRING_length(resp->certificate));
	const ASN1_OCTET_STRING *ca_der = sk_ASN1_OCTET_STRING_value(resp->chain, 0);
	X509 *issuing = m2m_pki_cert_from_der(ASN1_STRING_get0_data(ca_der), (size_t)ASN1_STRING_length(ca_der));
	cr_assert(cert && issuing);

	/* a relying party with the root file, the chain and the CRL it asks for */
	char path[128];
	path_in_dir(path, sizeof path, "root.pem");
	X509 *root = m2m_pki_cert_read_pem(path);
	m2m_trust *t = m2m_trust_new(root);
	cr_assert(t && !m2m_trust_add_intermediate(t, issuing));
	ask(M2M_MSG_CRL_REQUEST, ASN1_NULL_new());
	cr_assert_eq(nx.last_type, M2M_MSG_CRL_RESPONSE);
	M2M_CRL_RESPONSE *crl = last_body(ASN1_ITEM_rptr(M2M_CRL_RESPONSE));
	cr_assert_eq(m2m_trust_set_crl(t, ASN1_STRING_get0_data(crl->crl), (size_t)ASN1_STRING_length(crl->crl)), M2M_OK);
	cr_assert_eq(m2m_pki_verify_tre(t, cert, NULL), M2M_OK);

	/* a wrong secret is refused with its reason */
	request bad = tre_request("tre-1", SECRET_TRE2);
	ask(M2M_MSG_ENROL_REQUEST, bad.body);
	bad.body = NULL;
	cr_assert_eq(nx.last_reason, M2M_R_ENROLMENT_REFUSED);
	free_request(&bad);

	M2M_CRL_RESPONSE_free(crl);
	M2M_ENROL_RESPONSE_free(resp);
	m2m_trust_free(t);
	X509_free(root);
	X509_free(cert);
	X509_free(issuing);
	free_request(&r);
	stop_network();
}

/* ---- certauth-admin ----------------------------------------------------------------------- */

static void write_config(void)
{
	char path[128], key_path[128], hex[65];
	path_in_dir(key_path, sizeof key_path, "storage.key");
	m2m_hex(fx.c.settings.storage_key, 32, hex);
	FILE *f = fopen(key_path, "w");
	cr_assert(f && fprintf(f, "%s\n", hex) > 0 && !fclose(f));
	path_in_dir(path, sizeof path, "certauth.conf");
	f = fopen(path, "w");
	cr_assert(f);
	fprintf(f,
		"entity = \"certauth\";\ndatabase = \"%s\";\n"
		"certauth = { storage_key_file = \"%s\"; root_certificate = \"%s\";\n"
		"  enrolment = ( { id = \"tre-1\"; profile = \"tre\"; secret = \"%s\"; } ); };\n",
		fx.db_path, key_path, fx.c.settings.root_certificate, SECRET_TRE1);
	cr_assert(!fclose(f));
}

static int admin(const char *args)
{
	const char *tool = getenv("CERTAUTH_ADMIN");
	cr_assert_not_null(tool, "CERTAUTH_ADMIN names the certauth-admin binary (meson test sets it)");
	return sh("%s -c certauth.conf %s >admin.out 2>admin.err", tool, args);
}

static int admin_said(const char *file, const char *text)
{
	return sh("grep -q -- '%s' %s", text, file) == 0;
}

Test(certauth, admin_tool)
{
	write_config();
	static const char digest[] = "=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char args[512];
	snprintf(args, sizeof args, "platform add --model beta-tre --version 3 --assurance 5 --component os%s "
		 "--component modem-fw%s", digest, digest);
	cr_assert_eq(admin(args), 0);
	cr_assert_eq(admin(args), 1, "certified already");
	cr_assert(admin_said("admin.err", "certified already"));
	cr_assert_eq(admin("platform list"), 0);
	cr_assert(admin_said("admin.out", "beta-tre 3 assurance=5 modem-fw=0011"));
	cr_assert_eq(admin("platform add --model m --version 1 --assurance 8 --component os=00"), 2);
	cr_assert_eq(admin("platform add --model m --version 1 --assurance 1 --component os=00"), 2, "short digest");
	cr_assert_eq(admin("platform add --model m --version 1 --assurance 1"), 2, "no component");

	X509 *cert = enrol_tre("tre-1", SECRET_TRE1);
	uint64_t serial;
	cr_assert(!m2m_pki_cert_serial(cert, &serial));
	cr_assert_eq(admin("list"), 0);
	cr_assert(admin_said("admin.out", "tre-1 tre acme-tre/2.1"));
	snprintf(args, sizeof args, "revoke --serial %llu", (unsigned long long)serial);
	cr_assert_eq(admin(args), 0);
	cr_assert_eq(admin(args), 1, "revoked already");
	cr_assert_eq(admin("revoke --serial 999"), 1, "no such certificate");
	cr_assert_eq(admin("revoke --serial x"), 2);
	cr_assert_eq(admin("revoke --serial 1 --model m"), 2);
	cr_assert_eq(admin("revoke --version 1"), 2);
	cr_assert_eq(admin("list"), 0);
	cr_assert(admin_said("admin.out", "revoked"));
	/* the daemon sees the admin's CRL at its next request */
	cr_assert_eq(m2m_trust_verify(certauth_ca_current(&fx.c)->trust, cert, -1), M2M_R_CERTIFICATE_REVOKED);

	cr_assert_eq(admin("revoke --model zeta-tre --version 1.0"), 0);
	cr_assert(admin_said("admin.out", "withdrew model zeta-tre 1.0: 0 certificate"));
	cr_assert(m2m_trust_model_revoked(certauth_ca_current(&fx.c)->trust, "zeta-tre", "1.0"));
	cr_assert_eq(admin("frobnicate"), 2);
	cr_assert_eq(sh("%s platform list >/dev/null 2>&1", getenv("CERTAUTH_ADMIN")), 2, "no -c");
	X509_free(cert);
}

Test(certauth, admin_before_the_first_start_creates_the_hierarchy)
{
	close_agency();
	cr_assert_eq(sh("rm certauth.db* root.pem"), 0);
	write_config();
	cr_assert_eq(admin("platform add --model m --version 1 --assurance 2 --component os="
			   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"), 0);
	char path[128];
	path_in_dir(path, sizeof path, "root.pem");
	X509 *root = m2m_pki_cert_read_pem(path);
	cr_assert_not_null(root, "the root file is written before any daemon runs");
	open_agency();
	cr_assert_eq(X509_cmp(root, fx.c.authority.root), 0, "and the daemon keeps that hierarchy");
	M2M_PLATFORM_TYPE *t = NULL;
	cr_assert_eq(ca_platform_get(fx.db, "m", "1", &t), M2M_OK);
	M2M_PLATFORM_TYPE_free(t);
	X509_free(root);
}

/* An enrolment secret may live in a file of its own (as the TRE's own enrolment_secret_file), so
 * that no configuration file holds one; inline and file together, or neither, is an error. */
static int read_group(const char *group_text, ca_settings *out, char *error, size_t len)
{
	char path[128];
	path_in_dir(path, sizeof path, "group.conf");
	FILE *f = fopen(path, "w");
	cr_assert(f && fprintf(f, "certauth = %s;\n", group_text) > 0 && !fclose(f));
	m2m_conf c;
	cr_assert_eq(m2m_conf_load(&c, path), 0, "%s", c.error);
	memset(out, 0, sizeof *out);
	ca_settings_read(&c, config_lookup(&c.cfg, "certauth"), out);
	int failed = c.failed;
	snprintf(error, len, "%s", c.error);
	m2m_conf_free(&c);
	return failed;
}

Test(certauth, enrolment_secret_from_a_file)
{
	char secret_path[128], key_path[128], group[1024], error[1024], hex[65];
	path_in_dir(secret_path, sizeof secret_path, "tre-1.enrol");
	path_in_dir(key_path, sizeof key_path, "storage.key");
	m2m_hex(fx.c.settings.storage_key, 32, hex);
	FILE *f = fopen(key_path, "w");
	cr_assert(f && fprintf(f, "%s\n", hex) > 0 && !fclose(f));
	f = fopen(secret_path, "w");
	cr_assert(f && fprintf(f, "%s", SECRET_TRE1) > 0 && !fclose(f));
	ca_settings s;
	snprintf(group, sizeof group, "{ storage_key_file = \"%s\"; root_certificate = \"/tmp/r.pem\";"
		 " enrolment = ( { id = \"tre-1\"; profile = \"tre\"; secret_file = \"%s\"; } ); }", key_path, secret_path);
	cr_assert_eq(read_group(group, &s, error, sizeof error), 0, "%s", error);
	uint8_t want[64];
	long n = m2m_unhex_var(SECRET_TRE1, want, sizeof want);
	cr_assert_eq(s.enrolments[0].secret_len, (size_t)n);
	cr_assert_eq(memcmp(s.enrolments[0].secret, want, (size_t)n), 0);
	ca_settings_wipe(&s);
	snprintf(group, sizeof group, "{ storage_key_file = \"%s\"; root_certificate = \"/tmp/r.pem\";"
		 " enrolment = ( { id = \"tre-1\"; profile = \"tre\"; secret = \"%s\"; secret_file = \"%s\"; } ); }",
		 key_path, SECRET_TRE1, secret_path);
	cr_assert_eq(read_group(group, &s, error, sizeof error), 1);
	cr_assert(strstr(error, "enrolment.[0]: give the enrolment secret as secret or as secret_file, not both"), "%s",
		  error);
	cr_assert_null(strstr(error, SECRET_TRE1), "the message shows the secret");
	ca_settings_wipe(&s);
	snprintf(group, sizeof group, "{ storage_key_file = \"%s\"; root_certificate = \"/tmp/r.pem\";"
		 " enrolment = ( { id = \"tre-1\"; profile = \"tre\"; } ); }", key_path);
	cr_assert_eq(read_group(group, &s, error, sizeof error), 1);
	cr_assert(strstr(error, "not neither"), "%s", error);
	ca_settings_wipe(&s);
}
