/* The world of the drf tests (test_world.h). */
#include "test_world.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const component_names[COMPONENTS] = {"boot-rom", "tre-code", "os"};
const char *const component_content[COMPONENTS] = {"boot rom v1", "tre code v1", "operating system v1"};
const char *const client_ids[CLIENTS] = {"testbed", "mno-v", "mno-a", "mno-b", "tre-x", "tre-y", "uicc-x"};
const uint8_t a_mcim_id[16] = {0xa1, 0xa2, 0xa3};

world w;

/* ---- calls -------------------------------------------------------------------------------------- */

answer call_to(int from, const char *to, int type, const void *body)
{
	return ta_call(w.node[from], to, type, body);
}

answer call(int from, int type, const void *body)
{
	return call_to(from, "drf", type, body);
}

void answer_free(answer *a)
{
	ta_answer_free(a);
}

/* ---- the world -------------------------------------------------------------------------------- */

static void sha256_hex(const char *text, char hex[65])
{
	uint8_t digest[32];
	unsigned int n = 0;
	cr_assert(EVP_Digest(text, strlen(text), digest, &n, EVP_sha256(), NULL));
	m2m_hex(digest, sizeof digest, hex);
}

/* The agency: drf enrols as registration, tre-x, tre-y and tre-1 as tre, uicc-x as uicc; the
 * platform is certified. */
void start_agency(void)
{
	char drf_secret[128], x_secret[128], y_secret[128], uicc_secret[128], tre_secret[128], tre_endpoint[128];
	ta_path(drf_secret, sizeof drf_secret, w.dir, "drf.enrol");
	ta_path(x_secret, sizeof x_secret, w.dir, "tre-x.enrol");
	ta_path(y_secret, sizeof y_secret, w.dir, "tre-y.enrol");
	ta_path(uicc_secret, sizeof uicc_secret, w.dir, "uicc-x.enrol");
	ta_path(tre_secret, sizeof tre_secret, w.dir, "tre-1.enrol");
	snprintf(tre_endpoint, sizeof tre_endpoint, "ipc://%s/tre-1.sock", w.dir);
	ta_peer peers[] = {
		{"drf", w.drf_key.pub, NULL, "registration", drf_secret},
		{"tre-x", w.clients[FAKE_TRE].pub, NULL, "tre", x_secret},
		{"tre-y", w.clients[FAKE_TRE_Y].pub, NULL, "tre", y_secret},
		{"uicc-x", w.clients[FAKE_UICC].pub, NULL, "uicc", uicc_secret},
		{"tre-1", w.tre_key.pub, tre_endpoint, "tre", tre_secret},
		{"testbed", w.clients[TESTBED].pub, NULL, NULL, NULL},
	};
	ta_agency_configure(&w.agency, w.dir, peers, 6, NULL);
	char args[1024] = "platform add --model " MODEL " --version " VERSION " --assurance 4", hex[65];
	for (int i = 0; i < COMPONENTS; i++) {
		sha256_hex(component_content[i], hex);
		snprintf(args + strlen(args), sizeof args - strlen(args), " --component %s=%s", component_names[i], hex);
	}
	cr_assert_eq(ta_agency_admin(&w.agency, "%s", args), 0, "see %s/certauth-admin.log", w.dir);
	ta_agency_start(&w.agency);
}

void write_drf_conf(const char *gate, int pool_size)
{
	char text[8192], peers[4096] = "", endpoint[128], wake[64] = "";
	if (w.uicc_wake_seconds)
		snprintf(wake, sizeof wake, "  uicc_wake_seconds = %d;\n", w.uicc_wake_seconds);
	/* mno-a and mno-b can be called: the fake SHOs of the change tests bind there */
	for (int i = 0; i < CLIENTS; i++) {
		snprintf(endpoint, sizeof endpoint, " endpoint = \"ipc://%s/%s.sock\";", w.dir, client_ids[i]);
		snprintf(peers + strlen(peers), sizeof peers - strlen(peers), "  { id = \"%s\"; public_key = \"%s\";%s },\n",
			 client_ids[i], w.clients[i].pub, i == SHO_A || i == SHO_B ? endpoint : "");
	}
	snprintf(text, sizeof text,
		 "entity = \"drf\";\ndatabase = \"%s/drf.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/drf.sock\"; secret_key_file = \"%s/drf.key\"; timeout_ms = %d; retries = %d; };\n"
		 "peers = (\n%s  { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; }\n);\n"
		 "drf = {\n  storage_key_file = \"%s/drf.storage\";\n  agency = \"" TA_AGENCY "\";\n"
		 "  enrolment_secret_file = \"%s/drf.enrol\";\n  root_certificate = \"%s\";\n  crl_refresh_seconds = 1;\n"
		 "  plmn = \"" PLMN "\";\n  pool = { first = \"" FIRST "\"; size = %d; };\n  pcid_validity_days = 30;\n"
		 "  gate = \"%s\";\n  pva = \"" TA_AGENCY "\"; validation_mode = \"remote\"; min_assurance = 3;\n"
		 "  suppliers = [ \"testbed\" ];\n  registrars = [ \"testbed\" ];\n  ticket_seconds = 600;\n"
		 "  apn = \"" APN "\";\n  authorisation_seconds = 3600;\n  change_retry_seconds = 1;\n%s};\n",
		 w.dir, w.dir, w.dir, w.drf_timeout_ms, w.drf_retries, peers, w.agency.endpoint, w.agency.key.pub, w.dir,
		 w.dir, w.agency.root, pool_size, gate, wake);
	ta_write(w.dir, "drf.conf", text);
}

static void spawn_drf(void)
{
	char bin[512], conf[128], log[128];
	ta_path(conf, sizeof conf, w.dir, "drf.conf");
	ta_path(log, sizeof log, w.dir, "drf.log");
	w.drf = ta_spawn(ta_binary("DRF_BINARY", "drf/drf", bin, sizeof bin), conf, log);
}

static m2m_node *client_node(int i)
{
	m2m_node_conf c = {.timeout_ms = 8000, .retries = 0};
	char endpoint[128];
	snprintf(c.entity, sizeof c.entity, "%s", client_ids[i]);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", w.clients[i].sec);
	snprintf(endpoint, sizeof endpoint, "ipc://%s/drf.sock", w.dir);
	ta_peer_add(&c, "drf", endpoint, w.drf_key.pub);
	ta_peer_add(&c, TA_AGENCY, w.agency.endpoint, w.agency.key.pub);
	snprintf(endpoint, sizeof endpoint, "ipc://%s/tre-1.sock", w.dir);
	ta_peer_add(&c, "tre-1", endpoint, w.tre_key.pub);
	return ta_node(&c, NULL, NULL, NULL);
}

static void wait_drf_up(void)
{
	ASN1_NULL *nothing = ASN1_NULL_new();
	answer a = call(TESTBED, M2M_MSG_HEALTH_REQUEST, nothing);
	ASN1_NULL_free(nothing);
	cr_assert_eq(a.type, M2M_MSG_HEALTH_RESPONSE, "the drf is not up: see %s/drf.log", w.dir);
	answer_free(&a);
}

void start(const char *gate, int pool_size)
{
	start_agency();
	write_drf_conf(gate, pool_size);
	spawn_drf();
	for (int i = 0; i < CLIENTS; i++)
		w.node[i] = client_node(i);
	wait_drf_up();
}

void restart_drf(void)
{
	int status = 0;
	kill(w.drf, SIGKILL);
	waitpid(w.drf, &status, 0);
	spawn_drf();
	wait_drf_up();
}

void setup(void)
{
	char line[64];
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
	w.drf_timeout_ms = 3000;
	w.drf_retries = 1;
	ta_tempdir(w.dir);
	ta_keypair_make(&w.drf_key);
	ta_keypair_make(&w.tre_key);
	for (int i = 0; i < CLIENTS; i++)
		ta_keypair_make(&w.clients[i]);
	snprintf(line, sizeof line, "%s\n", w.drf_key.sec);
	ta_write(w.dir, "drf.key", line);
	snprintf(line, sizeof line, "%s\n", w.tre_key.sec);
	ta_write(w.dir, "tre-1.key", line);
	ta_random_file(w.dir, "drf.storage", 32);
	ta_random_file(w.dir, "tre-1.storage", 32);
	ta_random_file(w.dir, "drf.enrol", 32);
	ta_random_file(w.dir, "tre-x.enrol", 32);
	ta_random_file(w.dir, "tre-y.enrol", 32);
	ta_random_file(w.dir, "uicc-x.enrol", 32);
	w.b_dpf = "mno-b-dpf";
	ta_random_file(w.dir, "tre-1.enrol", 32);
}

void teardown(void)
{
	int drf_rc = ta_stop(w.drf), tre_rc = ta_stop(w.tre);
	int ca_rc = ta_agency_stop(&w.agency);
	sho_a_stop();
	sho_b_stop();
	for (int i = 0; i < CLIENTS; i++)
		m2m_node_free(w.node[i]);
	EVP_PKEY_free(w.tre_x_key);
	EVP_PKEY_free(w.subscriber);
	X509_free(w.tre_x_cert);
	sk_X509_pop_free(w.tre_x_extra, X509_free);
	EVP_PKEY_free(w.tre_y_key);
	X509_free(w.tre_y_cert);
	sk_X509_pop_free(w.tre_y_extra, X509_free);
	free(w.card_cert);
	if (drf_rc || tre_rc || ca_rc || getenv("M2M_KEEP")) {
		fprintf(stderr, "drf %d, tre %d, certauth %d: see %s\n", drf_rc, tre_rc, ca_rc, w.dir);
		return;
	}
	ta_run("rm -rf %s", w.dir);
}


/* ---- drf-admin and the database -------------------------------------------------------------------- */

int admin(char *out, size_t len, const char *args)
{
	char bin[512], path[128];
	ta_path(path, sizeof path, w.dir, "admin.out");
	int rc = ta_run("%s -c %s/drf.conf %s >%s 2>&1", ta_binary("DRF_ADMIN", "drf/drf-admin", bin, sizeof bin), w.dir,
			args, path);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(out, 1, len - 1, f) : 0;
	out[n] = 0;
	if (f)
		fclose(f);
	return rc;
}

void db_text(const char *sql, char *out, size_t len)
{
	sqlite3 *db = NULL;
	char path[128];
	out[0] = 0;
	ta_path(path, sizeof path, w.dir, "drf.db");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st = NULL;
		sqlite3_busy_timeout(db, 5000);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
		    sqlite3_column_text(st, 0))
			snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

int count_lines(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- registration, the fake TRE ---------------------------------------------------------------------- */

int spki_der(EVP_PKEY *key, uint8_t **der)
{
	*der = NULL;
	int n = i2d_PUBKEY(key, der);
	cr_assert_gt(n, 0);
	return n;
}

answer register_batch(int from, const reg *r, int n)
{
	return register_keyed(from, r, NULL, n);
}

answer register_keyed(int from, const reg *r, EVP_PKEY *const *keys, int n)
{
	M2M_REGISTRATION_REQUEST *q = sk_M2M_REGISTRATION_new_null();
	for (int i = 0; i < n; i++) {
		M2M_REGISTRATION *e = M2M_REGISTRATION_new();
		m2m_set_digits(&e->m2me, r[i].m2me);
		m2m_set_str(e->tre, r[i].tre);
		m2m_set_str(e->sho, r[i].sho);
		m2m_set_str(e->dpf, r[i].dpf);
		uint8_t *key = NULL;
		int n_key = keys && keys[i] ? spki_der(keys[i], &key) : 0;
		if (n_key > 0) {
			e->subscriber_key = ASN1_OCTET_STRING_new();
			ASN1_OCTET_STRING_set(e->subscriber_key, key, n_key);
		}
		OPENSSL_free(key);
		sk_M2M_REGISTRATION_push(q, e);
	}
	answer a = call(from, M2M_MSG_REGISTRATION_REQUEST, q);
	M2M_REGISTRATION_REQUEST_free(q);
	return a;
}

int registered(answer *a)
{
	assert_type(*a, M2M_MSG_REGISTRATION_RESPONSE);
	int n = (int)((M2M_REGISTRATION_RESPONSE *)a->body)->registered;
	answer_free(a);
	return n;
}

/* Client i enrols at the real agency with a fresh key of the test's (profile tre: of the platform). */
static void enrol(int i, int profile, EVP_PKEY **key, X509 **cert, STACK_OF(X509) **extra)
{
	uint8_t *csr = NULL, secret[64];
	size_t len = 0;
	char path[128], name[64], hex[160];
	*key = m2m_pki_keygen();
	cr_assert_eq(m2m_pki_csr(*key, client_ids[i], &csr, &len), 0);
	snprintf(name, sizeof name, "%s.enrol", client_ids[i]);
	ta_path(path, sizeof path, w.dir, name);
	FILE *f = fopen(path, "r");
	cr_assert(f && fgets(hex, sizeof hex, f));
	fclose(f);
	hex[strcspn(hex, "\n")] = 0;
	long n = m2m_unhex_var(hex, secret, sizeof secret);
	M2M_ENROL_REQUEST *q = M2M_ENROL_REQUEST_new();
	ASN1_OCTET_STRING_set(q->csr, csr, (int)len);
	ASN1_OCTET_STRING_set(q->authorisation, secret, (int)n);
	ASN1_ENUMERATED_set(q->profile, profile);
	if (profile == M2M_PROFILE_TRE) {
		q->platform = M2M_TRE_PLATFORM_new();
		m2m_set_str(q->platform->model, MODEL);
		m2m_set_str(q->platform->version, VERSION);
		q->platform->assurance_level = LEVEL;
	}
	answer a = call_to(i, TA_AGENCY, M2M_MSG_ENROL_REQUEST, q);
	M2M_ENROL_REQUEST_free(q);
	OPENSSL_free(csr);
	assert_type(a, M2M_MSG_ENROL_RESPONSE);
	const M2M_ENROL_RESPONSE *r = a.body;
	*cert = m2m_pki_cert_from_der(r->certificate->data, (size_t)r->certificate->length);
	const ASN1_OCTET_STRING *ca = sk_ASN1_OCTET_STRING_value(r->chain, 0);
	*extra = sk_X509_new_null();
	sk_X509_push(*extra, m2m_pki_cert_from_der(ca->data, (size_t)ca->length));
	answer_free(&a);
}

void enrol_fake_tre(void)
{
	enrol(FAKE_TRE, M2M_PROFILE_TRE, &w.tre_x_key, &w.tre_x_cert, &w.tre_x_extra);
}

void enrol_fake_tre_y(void)
{
	enrol(FAKE_TRE_Y, M2M_PROFILE_TRE, &w.tre_y_key, &w.tre_y_cert, &w.tre_y_extra);
}

void enrol_fake_uicc(void)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *extra = NULL;
	enrol(FAKE_UICC, M2M_PROFILE_UICC, &key, &cert, &extra);
	cr_assert_eq(m2m_pki_cert_der(cert, &w.card_cert, &w.card_cert_len), 0);
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(extra, X509_free);
}

/* The drf holds its certificate: a discovery is answered with anything but wrongState. */
static int drf_enrolled(void)
{
	char n[32];
	db_text("SELECT COUNT(*) FROM identity_chain", n, sizeof n);
	return atoi(n) > 0;
}

void wait_drf_enrolled(void)
{
	for (int i = 0; i < 300 && !drf_enrolled(); i++)
		usleep(50 * 1000);
	cr_assert(drf_enrolled(), "the drf never enrolled: see %s/drf.log", w.dir);
}

M2M_SIGNED_OBJECT *discovery_body(const char *tre, const char *imei, const uint8_t *nonce, int nonce_len,
				  const uint8_t *change_id, EVP_PKEY *key, X509 *cert, STACK_OF(X509) *extra)
{
	M2M_DISCOVERY_REQUEST *q = M2M_DISCOVERY_REQUEST_new();
	m2m_set_str(q->tre, tre);
	m2m_set_digits(&q->m2me, imei);
	ASN1_OCTET_STRING_set(q->nonce, nonce, nonce_len);
	if (change_id) {
		q->change_id = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(q->change_id, change_id, 16);
	}
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_cms_sign_item(key, cert, extra, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST), q, so), 0);
	M2M_DISCOVERY_REQUEST_free(q);
	return so;
}

answer provisioned(int from, const char *tre, const char *sho)
{
	M2M_PROVISIONED *q = M2M_PROVISIONED_new();
	uint8_t id[16] = {1, 2, 3};
	m2m_set_str(q->tre, tre);
	m2m_set_str(q->sho, sho);
	ASN1_OCTET_STRING_set(q->mcim_id, id, sizeof id);
	answer a = call(from, M2M_MSG_PROVISIONED, q);
	M2M_PROVISIONED_free(q);
	return a;
}


/* ---- the change of subscription ------------------------------------------------------------------ */

auth good_auth(void)
{
	auth a = {"tre-x", IMEI_A, "mno-a", "mno-b", {0}, 16, time(NULL) - 10, w.subscriber};
	m2m_random(a.nonce, sizeof a.nonce);
	return a;
}

answer ask_change(int from, const auth *x)
{
	M2M_CHANGE_REQUEST *q = M2M_CHANGE_REQUEST_new();
	M2M_CHANGE_AUTHORISATION *c = q->authorisation->content;
	m2m_set_str(c->tre, x->tre);
	m2m_set_digits(&c->m2me, x->m2me);
	m2m_set_str(c->from_sho, x->from);
	m2m_set_str(c->to_sho, x->to);
	ASN1_OCTET_STRING_set(c->nonce, x->nonce, x->nonce_len);
	ASN1_GENERALIZEDTIME_set(c->issued_at, (time_t)x->issued_at);
	cr_assert(!m2m_pki_sign_der_of(x->key, ASN1_ITEM_rptr(M2M_CHANGE_AUTHORISATION), c, q->authorisation->signature));
	m2m_set_str(q->dpf, w.b_dpf);
	answer a = call(from, M2M_MSG_CHANGE_REQUEST, q);
	M2M_CHANGE_REQUEST_free(q);
	return a;
}

void change_id_of(answer *a, uint8_t id[16])
{
	assert_type(*a, M2M_MSG_CHANGE_RESPONSE);
	cr_assert_eq(m2m_read_octets(((M2M_CHANGE_RESPONSE *)a->body)->change_id, id, 16), 0);
	answer_free(a);
}

void newest_change(char state[16], uint8_t id[16])
{
	char hex[40];
	db_text("SELECT state FROM drf_change ORDER BY created_at DESC LIMIT 1", state, 16);
	db_text("SELECT hex(change_id) FROM drf_change ORDER BY created_at DESC LIMIT 1", hex, sizeof hex);
	if (id)
		cr_assert_eq(m2m_unhex(hex, id, 16), 0, "no change stored");
}

int count(const char *sql)
{
	char n[32];
	db_text(sql, n, sizeof n);
	return atoi(n);
}

void wait_state(const char *expected, int seconds)
{
	char state[16] = "";
	for (int i = 0; i < seconds * 20; i++) {
		newest_change(state, NULL);
		if (!strcmp(state, expected))
			return;
		usleep(50 * 1000);
	}
	cr_assert_fail("the change is %s, not %s, after %d s: see %s/drf.log", state, expected, seconds, w.dir);
}

void assert_state(const char *expected)
{
	char state[16];
	newest_change(state, NULL);
	cr_assert_str_eq(state, expected, "the change is %s, not %s: see %s/drf.log", state, expected, w.dir);
}

void resumed_after_restart(atomic_int *mode, atomic_int *received, const char *state)
{
	restart_drf();
	int before = *received;
	*mode = A_CONSENT;
	wait_state(state, 15);
	cr_assert_gt(*received, before, "the restarted drf called again");
}

void wait_count(atomic_int *n, int at_least, int seconds, const char *what)
{
	for (int i = 0; i < seconds * 20 && *n < at_least; i++)
		usleep(50 * 1000);
	cr_assert_geq(*n, at_least, "%s: %d, not %d, after %d s (see %s/drf.log)", what, (int)*n, at_least, seconds, w.dir);
}

void assert_registration(const char *expected)
{
	char out[4096];
	cr_assert_eq(admin(out, sizeof out, "registrations"), 0, "%s", out);
	cr_assert_not_null(strstr(out, expected), "%s is not in: %s", expected, out);
}

void start_change(int notify_mode, int release_mode)
{
	w.drf_timeout_ms = 500;
	w.drf_retries = 2;
	start("after_attach", 4);
	enrol_fake_tre();
	w.subscriber = m2m_pki_keygen();
	reg r[] = {{IMEI_A, "tre-x", "mno-a", "mno-a"}};
	answer a = register_keyed(TESTBED, r, &w.subscriber, 1);
	cr_assert_eq(registered(&a), 1);
	wait_drf_enrolled();
	sho_a_start(notify_mode, release_mode);
}
