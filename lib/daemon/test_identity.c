/*
 * A network function's signing identity against a real certauth process: enrolment with the
 * function's profile, the key sealed and kept across a restart, a wrong secret refused and
 * retried until the agency accepts, the CRL refreshed so that a revocation shows, signatures
 * that verify, and its settings.
 */
#include "daemon/identity.h"
#include "daemon/test_agency.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTITY "drf-t"

static const char *const migrations[] = {M2M_NODE_SCHEMA M2M_IDENTITY_SCHEMA};
static const m2m_schema schema = {migrations, 1};

static struct {
	char dir[64];
	ta_agency agency;
	ta_keypair key;
	uint8_t storage_key[32];
	sqlite3 *db;
	m2m_node *node;
	m2m_identity *id;
} w;

static void start_agency(const char *extra)
{
	char secret[128];
	ta_path(secret, sizeof secret, w.dir, "agency-side.enrol");
	ta_peer self = {ENTITY, w.key.pub, NULL, "registration", secret};
	ta_agency_configure(&w.agency, w.dir, &self, 1, extra);
	ta_agency_start(&w.agency);
}

static void setup(void)
{
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
	ta_tempdir(w.dir);
	ta_keypair_make(&w.key);
	m2m_random(w.storage_key, sizeof w.storage_key);
	ta_random_file(w.dir, "drf.enrol", 32);
	/* the agency reads the same secret, unless a test makes it differ */
	ta_run("cp %s/drf.enrol %s/agency-side.enrol", w.dir, w.dir);
}

static void close_function(void)
{
	m2m_identity_free(w.id);
	m2m_node_free(w.node);
	m2m_store_close(w.db);
	w.id = NULL;
	w.node = NULL;
	w.db = NULL;
}

static void teardown(void)
{
	close_function();
	int rc = ta_agency_stop(&w.agency);
	if (rc || getenv("M2M_KEEP")) {
		fprintf(stderr, "certauth exited with %d: see %s\n", rc, w.dir);
		return;
	}
	ta_run("rm -rf %s", w.dir);
}

TestSuite(identity, .init = setup, .fini = teardown, .timeout = 90);

/* ---- the function ------------------------------------------------------------------------------ */

static void write_function_conf(const char *agency, const char *root, const char *secret_file)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "peers = ( { id = \"" TA_AGENCY "\"; endpoint = \"ipc://%s/certauth.sock\"; public_key = \"x\"; },\n"
		 "          { id = \"testbed\"; public_key = \"y\"; } );\n"
		 "drf = { agency = \"%s\"; enrolment_secret_file = \"%s/%s\"; root_certificate = \"%s\";"
		 " crl_refresh_seconds = 1; };\n",
		 w.dir, agency, w.dir, secret_file, root);
	ta_write(w.dir, "function.conf", text);
}

/* The settings as a role reads them: 0, or -1 with the message in err. */
static int configure(m2m_identity_settings *s, char *err, size_t len)
{
	m2m_conf c;
	char path[128];
	ta_path(path, sizeof path, w.dir, "function.conf");
	cr_assert_eq(m2m_conf_load(&c, path), 0, "%s", c.error);
	m2m_identity_configure(&c, config_lookup(&c.cfg, "drf"), M2M_PROFILE_REGISTRATION, s);
	snprintf(err, len, "%.*s", (int)(len - 1), c.error);
	int failed = c.failed;
	m2m_conf_free(&c);
	return failed ? -1 : 0;
}

/* The database, a client node towards the agency, and the identity; NULL identity allowed. */
static m2m_identity *open_function(const uint8_t storage_key[32])
{
	char err[512] = "", path[128];
	write_function_conf(TA_AGENCY, w.agency.root, "drf.enrol");
	ta_path(path, sizeof path, w.dir, "drf.db");
	w.db = m2m_store_open(path, &schema, err, sizeof err);
	cr_assert_not_null(w.db, "%s", err);
	m2m_node_conf nc = {.timeout_ms = 1000, .retries = 0, .npeers = 1};
	snprintf(nc.entity, sizeof nc.entity, ENTITY);
	snprintf(nc.secret_key, sizeof nc.secret_key, "%s", w.key.sec);
	snprintf(nc.peers[0].id, sizeof nc.peers[0].id, TA_AGENCY);
	snprintf(nc.peers[0].endpoint, sizeof nc.peers[0].endpoint, "%s", w.agency.endpoint);
	snprintf(nc.peers[0].public_key, sizeof nc.peers[0].public_key, "%s", w.agency.key.pub);
	w.node = m2m_node_new(&nc, w.db, err, sizeof err);
	cr_assert_not_null(w.node, "%s", err);
	m2m_identity_settings s;
	cr_assert_eq(configure(&s, err, sizeof err), 0, "%s", err);
	w.id = m2m_identity_open(w.db, storage_key, ENTITY, &s);
	m2m_identity_settings_clear(&s);
	return w.id;
}

/* The role's loop: ticks and events until cond holds or seconds pass; whether it held. */
static int run_until(int (*cond)(void), int seconds)
{
	for (int i = 0; i < seconds * 50; i++) {
		if (cond())
			return 1;
		m2m_identity_tick(w.id, w.node);
		m2m_node_poll(w.node, 20);
	}
	return cond();
}

static int ready(void)
{
	return m2m_identity_ready(w.id);
}

static void start_ready(void)
{
	start_agency(NULL);
	cr_assert_not_null(open_function(w.storage_key));
	cr_assert(run_until(ready, 20), "not enrolled: see %s/certauth.log", w.dir);
}

/* ---- enrolment ------------------------------------------------------------------------------- */

Test(identity, enrols_with_its_profile_and_signs)
{
	start_ready();
	X509 *cert = m2m_identity_cert(w.id);
	char cn[64];
	cr_assert_eq(m2m_pki_cert_cn(cert, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, ENTITY);
	cr_assert_eq(m2m_pki_cert_profile(cert), M2M_PROFILE_REGISTRATION);
	cr_assert_geq(sk_X509_num(m2m_identity_chain(w.id)), 1);
	/* what a relying party with the root file alone makes of a signature */
	X509 *root = m2m_pki_cert_read_pem(w.agency.root);
	m2m_trust *trust = m2m_trust_new(root);
	const char text[] = "registration ticket";
	uint8_t *der = NULL, *content = NULL;
	size_t len = 0, clen = 0;
	X509 *signer = NULL;
	cr_assert_eq(m2m_identity_sign(w.id, (const uint8_t *)text, sizeof text, &der, &len), 0);
	cr_assert_eq(m2m_cms_verify(trust, der, len, &content, &clen, &signer), M2M_OK);
	cr_assert_eq(clen, sizeof text);
	cr_assert_arr_eq(content, text, clen);
	cr_assert_eq(X509_cmp(signer, cert), 0);
	/* a template type, and tampering detected */
	M2M_PING *ping = M2M_PING_new();
	ASN1_OCTET_STRING_set(ping->nonce, (const unsigned char *)"12345678", 8);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_identity_sign_item(w.id, ASN1_ITEM_rptr(M2M_PING), ping, so), 0);
	void *value = NULL;
	X509 *signer2 = NULL;
	cr_assert_eq(m2m_cms_verify_item(trust, so, ASN1_ITEM_rptr(M2M_PING), &value, &signer2), M2M_OK);
	cr_assert_eq(ASN1_STRING_length(((M2M_PING *)value)->nonce), 8);
	der[len - 5] ^= 1;
	X509 *signer3 = NULL;
	cr_assert_neq(m2m_cms_verify(trust, der, len, NULL, NULL, &signer3), M2M_OK);
	M2M_PING_free(value);
	M2M_PING_free(ping);
	M2M_SIGNED_OBJECT_free(so);
	X509_free(signer);
	X509_free(signer2);
	OPENSSL_free(content);
	OPENSSL_free(der);
	m2m_trust_free(trust);
	X509_free(root);
}

/* The bytes of a file's first column blob of a query, for a look at what is stored. */
static int stored_blob(const char *sql, uint8_t *out, size_t max)
{
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(w.db, sql, -1, &st, NULL), SQLITE_OK);
	int n = -1;
	if (sqlite3_step(st) == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) <= max) {
		n = sqlite3_column_bytes(st, 0);
		memcpy(out, sqlite3_column_blob(st, 0), (size_t)n);
	}
	sqlite3_finalize(st);
	return n;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return 1;
	return 0;
}

Test(identity, key_sealed_and_kept_across_a_restart)
{
	start_ready();
	uint64_t serial = 0, again = 0;
	cr_assert_eq(m2m_pki_cert_serial(m2m_identity_cert(w.id), &serial), 0);
	/* the stored key does not show even its public half: it is sealed as a whole */
	uint8_t sealed[1024];
	int n = stored_blob("SELECT sealed FROM identity_key", sealed, sizeof sealed);
	cr_assert_gt(n, M2M_SEAL_OVERHEAD);
	unsigned char *point = NULL;
	cr_assert_eq(EVP_PKEY_get1_encoded_public_key(X509_get0_pubkey(m2m_identity_cert(w.id)), &point), 65);
	cr_assert_not(contains(sealed, (size_t)n, point + 1, 32), "the key is stored in clear");
	OPENSSL_free(point);
	/* a restart: the same certificate at once, nothing asked of the agency */
	close_function();
	cr_assert_eq(ta_agency_stop(&w.agency), 0);
	cr_assert_not_null(open_function(w.storage_key));
	cr_assert(m2m_identity_ready(w.id), "enrolled from the database alone");
	cr_assert_eq(m2m_pki_cert_serial(m2m_identity_cert(w.id), &again), 0);
	cr_assert_eq(again, serial);
	/* another storage key does not open it */
	close_function();
	uint8_t other[32];
	m2m_random(other, sizeof other);
	cr_assert_null(open_function(other));
}

Test(identity, wrong_secret_refused_and_retried)
{
	ta_random_file(w.dir, "agency-side.enrol", 32);  /* the agency expects another secret */
	start_agency(NULL);
	cr_assert_not_null(open_function(w.storage_key));
	cr_assert_not(run_until(ready, 3), "enrolled with a wrong secret");
	cr_assert_null(m2m_identity_cert(w.id));
	cr_assert_eq(m2m_identity_sign_item(w.id, ASN1_ITEM_rptr(M2M_PING), NULL, NULL), -1, "nothing signed unready");
	cr_assert_eq(ta_run("grep -q 'authorisation of " ENTITY " is wrong' %s/certauth.log", w.dir), 0,
		     "the agency saw and refused the request");
	/* the agency is given the right secret: the function's repeated requests get through */
	cr_assert_eq(ta_agency_stop(&w.agency), 0);
	ta_run("cp %s/drf.enrol %s/agency-side.enrol", w.dir, w.dir);
	ta_agency_start(&w.agency);
	cr_assert(run_until(ready, 30), "never enrolled after the fix: see %s/certauth.log", w.dir);
}

/* ---- the CRL -------------------------------------------------------------------------------- */

static int own_revoked(void)
{
	return m2m_trust_verify(m2m_identity_trust(w.id), m2m_identity_cert(w.id), -1) == M2M_R_CERTIFICATE_REVOKED;
}

static int crl_held(void)
{
	return m2m_trust_crl_number(m2m_identity_trust(w.id)) > 0;
}

Test(identity, revocation_reaches_the_trust_store)
{
	start_ready();
	cr_assert(run_until(crl_held, 10), "no CRL fetched");
	m2m_trust *trust = m2m_identity_trust(w.id);
	cr_assert_eq(m2m_trust_verify(trust, m2m_identity_cert(w.id), M2M_PROFILE_REGISTRATION), M2M_OK);
	uint64_t serial = 0, before = m2m_trust_crl_number(trust);
	cr_assert_eq(m2m_pki_cert_serial(m2m_identity_cert(w.id), &serial), 0);
	cr_assert_eq(ta_agency_admin(&w.agency, "revoke --serial %llu", (unsigned long long)serial), 0);
	cr_assert(run_until(own_revoked, 20), "the revocation never showed (CRL %llu)",
		  (unsigned long long)m2m_trust_crl_number(m2m_identity_trust(w.id)));
	cr_assert_gt(m2m_trust_crl_number(m2m_identity_trust(w.id)), before);
}

/* ---- settings ---------------------------------------------------------------------------------- */

Test(identity, settings_checked)
{
	start_agency(NULL);
	char err[512];
	m2m_identity_settings s;
	write_function_conf(TA_AGENCY, w.agency.root, "drf.enrol");
	cr_assert_eq(configure(&s, err, sizeof err), 0, "%s", err);
	cr_assert_str_eq(s.agency, TA_AGENCY);
	cr_assert_eq(s.enrolment_secret_len, 32);
	cr_assert_not_null(s.root);
	cr_assert_eq(s.crl_refresh_seconds, 1);
	cr_assert_eq(s.profile, M2M_PROFILE_REGISTRATION);
	m2m_identity_settings_clear(&s);
	write_function_conf("testbed", w.agency.root, "drf.enrol");
	cr_assert_eq(configure(&s, err, sizeof err), -1);
	cr_assert(strstr(err, "without an endpoint"), "%s", err);
	m2m_identity_settings_clear(&s);
	write_function_conf("nobody", w.agency.root, "drf.enrol");
	cr_assert_eq(configure(&s, err, sizeof err), -1);
	cr_assert(strstr(err, "not in peers"), "%s", err);
	m2m_identity_settings_clear(&s);
	write_function_conf(TA_AGENCY, w.agency.conf, "drf.enrol");
	cr_assert_eq(configure(&s, err, sizeof err), -1);
	cr_assert(strstr(err, "not a PEM certificate"), "%s", err);
	m2m_identity_settings_clear(&s);
	write_function_conf(TA_AGENCY, w.agency.root, "absent.enrol");
	cr_assert_eq(configure(&s, err, sizeof err), -1);
	cr_assert(strstr(err, "enrolment_secret_file"), "%s", err);
	m2m_identity_settings_clear(&s);
}
