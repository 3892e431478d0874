/*
 * The drf process over the wire, with a real certauth (agency and PVA) and, for the validation
 * gate, a real tre process. The test plays the other parties with nodes of its own: the equipment
 * supplier and registrar "testbed", the visited operator "mno-v", the home operators "mno-a" and
 * "mno-b", and a TRE "tre-x" whose key and certificate (enrolled at the real agency) sign
 * discovery requests.
 */
#include "drf.h"

#include "aka/aka.h"
#include "crypto/crypto.h"
#include "daemon/test_agency.h"
#include "log/log.h"
#include "wire/read.h"

#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLMN "00109"
#define FIRST "001090000000001"
#define MODEL "acme-tre"
#define VERSION "1.0"
#define LEVEL 4
#define IMEI_A "356938035643809"
#define IMEI_B "490154203237518"
#define APN "m2m.provisioning"

static const char *const component_names[] = {"boot-rom", "tre-code", "os"};
static const char *const component_content[] = {"boot rom v1", "tre code v1", "operating system v1"};
#define COMPONENTS 3

enum { TESTBED, VISITED, SHO_A, SHO_B, FAKE_TRE, CLIENTS };
static const char *const client_ids[CLIENTS] = {"testbed", "mno-v", "mno-a", "mno-b", "tre-x"};

static struct {
	char dir[64];
	ta_agency agency;
	ta_keypair drf_key, tre_key, clients[CLIENTS];
	m2m_node *node[CLIENTS];
	pid_t drf, tre;
	/* the fake TRE's credentials from the agency */
	EVP_PKEY *tre_x_key;
	X509 *tre_x_cert;
	STACK_OF(X509) *tre_x_extra;
} w;

/* ---- calls -------------------------------------------------------------------------------------- */

typedef ta_answer answer;

static answer call_to(int from, const char *to, int type, const void *body)
{
	return ta_call(w.node[from], to, type, body);
}

static answer call(int from, int type, const void *body)
{
	return call_to(from, "drf", type, body);
}

static void answer_free(answer *a)
{
	ta_answer_free(a);
}

#define assert_refused(a, r) cr_assert_eq((a).reason, (r), "expected %s, got type %d reason %s: %s", \
					  m2m_reason_name(r), (a).type, m2m_reason_name((a).reason), (a).text)
#define assert_type(a, t) cr_assert_eq((a).type, (t), "expected %s, got type %d reason %s: %s", \
				       m2m_msgtype_name(t), (a).type, m2m_reason_name((a).reason), (a).text)

/* ---- the world -------------------------------------------------------------------------------- */

static void sha256_hex(const char *text, char hex[65])
{
	uint8_t digest[32];
	unsigned int n = 0;
	cr_assert(EVP_Digest(text, strlen(text), digest, &n, EVP_sha256(), NULL));
	m2m_hex(digest, sizeof digest, hex);
}

/* The agency: drf enrols as registration, tre-x and tre-1 as tre; the platform is certified. */
static void start_agency(void)
{
	char drf_secret[128], x_secret[128], tre_secret[128], tre_endpoint[128];
	ta_path(drf_secret, sizeof drf_secret, w.dir, "drf.enrol");
	ta_path(x_secret, sizeof x_secret, w.dir, "tre-x.enrol");
	ta_path(tre_secret, sizeof tre_secret, w.dir, "tre-1.enrol");
	snprintf(tre_endpoint, sizeof tre_endpoint, "ipc://%s/tre-1.sock", w.dir);
	ta_peer peers[] = {
		{"drf", w.drf_key.pub, NULL, "registration", drf_secret},
		{"tre-x", w.clients[FAKE_TRE].pub, NULL, "tre", x_secret},
		{"tre-1", w.tre_key.pub, tre_endpoint, "tre", tre_secret},
		{"testbed", w.clients[TESTBED].pub, NULL, NULL, NULL},
	};
	ta_agency_configure(&w.agency, w.dir, peers, 4, NULL);
	char args[1024] = "platform add --model " MODEL " --version " VERSION " --assurance 4", hex[65];
	for (int i = 0; i < COMPONENTS; i++) {
		sha256_hex(component_content[i], hex);
		snprintf(args + strlen(args), sizeof args - strlen(args), " --component %s=%s", component_names[i], hex);
	}
	cr_assert_eq(ta_agency_admin(&w.agency, "%s", args), 0, "see %s/certauth-admin.log", w.dir);
	ta_agency_start(&w.agency);
}

static void write_drf_conf(const char *gate, int pool_size)
{
	char text[8192], peers[4096] = "";
	for (int i = 0; i < CLIENTS; i++)
		snprintf(peers + strlen(peers), sizeof peers - strlen(peers), "  { id = \"%s\"; public_key = \"%s\"; },\n",
			 client_ids[i], w.clients[i].pub);
	snprintf(text, sizeof text,
		 "entity = \"drf\";\ndatabase = \"%s/drf.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/drf.sock\"; secret_key_file = \"%s/drf.key\"; timeout_ms = 3000; retries = 1; };\n"
		 "peers = (\n%s  { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; }\n);\n"
		 "drf = {\n  storage_key_file = \"%s/drf.storage\";\n  agency = \"" TA_AGENCY "\";\n"
		 "  enrolment_secret_file = \"%s/drf.enrol\";\n  root_certificate = \"%s\";\n  crl_refresh_seconds = 1;\n"
		 "  plmn = \"" PLMN "\";\n  pool = { first = \"" FIRST "\"; size = %d; };\n  pcid_validity_days = 30;\n"
		 "  gate = \"%s\";\n  pva = \"" TA_AGENCY "\"; validation_mode = \"remote\"; min_assurance = 3;\n"
		 "  suppliers = [ \"testbed\" ];\n  registrars = [ \"testbed\" ];\n  ticket_seconds = 600;\n"
		 "  apn = \"" APN "\";\n};\n",
		 w.dir, w.dir, w.dir, peers, w.agency.endpoint, w.agency.key.pub, w.dir, w.dir, w.agency.root, pool_size, gate);
	ta_write(w.dir, "drf.conf", text);
}

static void start_drf(const char *gate, int pool_size)
{
	char bin[512], conf[128], log[128];
	write_drf_conf(gate, pool_size);
	ta_path(conf, sizeof conf, w.dir, "drf.conf");
	ta_path(log, sizeof log, w.dir, "drf.log");
	w.drf = ta_spawn(ta_binary("DRF_BINARY", "drf/drf", bin, sizeof bin), conf, log);
}

static m2m_node *client_node(int i)
{
	m2m_node_conf c = {.timeout_ms = 8000, .retries = 0, .npeers = 3};
	snprintf(c.entity, sizeof c.entity, "%s", client_ids[i]);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", w.clients[i].sec);
	snprintf(c.peers[0].id, sizeof c.peers[0].id, "drf");
	snprintf(c.peers[0].endpoint, sizeof c.peers[0].endpoint, "ipc://%s/drf.sock", w.dir);
	snprintf(c.peers[0].public_key, sizeof c.peers[0].public_key, "%s", w.drf_key.pub);
	snprintf(c.peers[1].id, sizeof c.peers[1].id, TA_AGENCY);
	snprintf(c.peers[1].endpoint, sizeof c.peers[1].endpoint, "%s", w.agency.endpoint);
	snprintf(c.peers[1].public_key, sizeof c.peers[1].public_key, "%s", w.agency.key.pub);
	snprintf(c.peers[2].id, sizeof c.peers[2].id, "tre-1");
	snprintf(c.peers[2].endpoint, sizeof c.peers[2].endpoint, "ipc://%s/tre-1.sock", w.dir);
	snprintf(c.peers[2].public_key, sizeof c.peers[2].public_key, "%s", w.tre_key.pub);
	char err[256] = "";
	m2m_node *n = m2m_node_new(&c, NULL, err, sizeof err);
	cr_assert_not_null(n, "%s: %s", client_ids[i], err);
	return n;
}

/* Everything up: the agency, the drf (gate, pool size) and the test's own nodes. The drf answers
 * once its database is made: only then may drf-admin open it too. */
static void start(const char *gate, int pool_size)
{
	start_agency();
	start_drf(gate, pool_size);
	for (int i = 0; i < CLIENTS; i++)
		w.node[i] = client_node(i);
	ASN1_NULL *nothing = ASN1_NULL_new();
	answer a = call(TESTBED, M2M_MSG_HEALTH_REQUEST, nothing);
	ASN1_NULL_free(nothing);
	cr_assert_eq(a.type, M2M_MSG_HEALTH_RESPONSE, "the drf is not up: see %s/drf.log", w.dir);
	answer_free(&a);
}

static void setup(void)
{
	char line[64];
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
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
	ta_random_file(w.dir, "tre-1.enrol", 32);
}

static void teardown(void)
{
	int drf_rc = ta_stop(w.drf), tre_rc = ta_stop(w.tre);
	int ca_rc = ta_agency_stop(&w.agency);
	for (int i = 0; i < CLIENTS; i++)
		m2m_node_free(w.node[i]);
	EVP_PKEY_free(w.tre_x_key);
	X509_free(w.tre_x_cert);
	sk_X509_pop_free(w.tre_x_extra, X509_free);
	if (drf_rc || tre_rc || ca_rc || getenv("M2M_KEEP")) {
		fprintf(stderr, "drf %d, tre %d, certauth %d: see %s\n", drf_rc, tre_rc, ca_rc, w.dir);
		return;
	}
	ta_run("rm -rf %s", w.dir);
}

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

/* drf-admin's output into out; its exit status. */
static int admin(char *out, size_t len, const char *args)
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

static int count_lines(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
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

typedef struct reg {
	const char *m2me, *tre, *sho, *dpf;
} reg;

static answer register_batch(int from, const reg *r, int n)
{
	M2M_REGISTRATION_REQUEST *q = sk_M2M_REGISTRATION_new_null();
	for (int i = 0; i < n; i++) {
		M2M_REGISTRATION *e = M2M_REGISTRATION_new();
		m2m_set_digits(&e->m2me, r[i].m2me);
		m2m_set_str(e->tre, r[i].tre);
		m2m_set_str(e->sho, r[i].sho);
		m2m_set_str(e->dpf, r[i].dpf);
		sk_M2M_REGISTRATION_push(q, e);
	}
	answer a = call(from, M2M_MSG_REGISTRATION_REQUEST, q);
	M2M_REGISTRATION_REQUEST_free(q);
	return a;
}

static int registered(answer *a)
{
	assert_type(*a, M2M_MSG_REGISTRATION_RESPONSE);
	int n = (int)((M2M_REGISTRATION_RESPONSE *)a->body)->registered;
	answer_free(a);
	return n;
}

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

/* tre-x enrols at the real agency with a key of the test's: a TRE certificate of the platform. */
static void enrol_fake_tre(void)
{
	uint8_t *csr = NULL, secret[64];
	size_t len = 0;
	char path[128], hex[160];
	w.tre_x_key = m2m_pki_keygen();
	cr_assert_eq(m2m_pki_csr(w.tre_x_key, "tre-x", &csr, &len), 0);
	ta_path(path, sizeof path, w.dir, "tre-x.enrol");
	FILE *f = fopen(path, "r");
	cr_assert(f && fgets(hex, sizeof hex, f));
	fclose(f);
	hex[strcspn(hex, "\n")] = 0;
	long n = m2m_unhex_var(hex, secret, sizeof secret);
	M2M_ENROL_REQUEST *q = M2M_ENROL_REQUEST_new();
	ASN1_OCTET_STRING_set(q->csr, csr, (int)len);
	ASN1_OCTET_STRING_set(q->authorisation, secret, (int)n);
	ASN1_ENUMERATED_set(q->profile, M2M_PROFILE_TRE);
	q->platform = M2M_TRE_PLATFORM_new();
	m2m_set_str(q->platform->model, MODEL);
	m2m_set_str(q->platform->version, VERSION);
	q->platform->assurance_level = LEVEL;
	answer a = call_to(FAKE_TRE, TA_AGENCY, M2M_MSG_ENROL_REQUEST, q);
	M2M_ENROL_REQUEST_free(q);
	OPENSSL_free(csr);
	assert_type(a, M2M_MSG_ENROL_RESPONSE);
	const M2M_ENROL_RESPONSE *r = a.body;
	w.tre_x_cert = m2m_pki_cert_from_der(r->certificate->data, (size_t)r->certificate->length);
	const ASN1_OCTET_STRING *ca = sk_ASN1_OCTET_STRING_value(r->chain, 0);
	w.tre_x_extra = sk_X509_new_null();
	sk_X509_push(w.tre_x_extra, m2m_pki_cert_from_der(ca->data, (size_t)ca->length));
	answer_free(&a);
}

/* The drf holds its certificate: a discovery is answered with anything but wrongState. */
static int drf_enrolled(void)
{
	sqlite3 *db = NULL;
	char path[128];
	int n = 0;
	ta_path(path, sizeof path, w.dir, "drf.db");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM identity_chain", -1, &st, NULL) == SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n > 0;
}

static void wait_drf_enrolled(void)
{
	for (int i = 0; i < 300 && !drf_enrolled(); i++)
		usleep(50 * 1000);
	cr_assert(drf_enrolled(), "the drf never enrolled: see %s/drf.log", w.dir);
}

static M2M_SIGNED_OBJECT *discovery_body(const char *tre, const char *imei, const uint8_t *nonce, int nonce_len,
					 EVP_PKEY *key, X509 *cert, STACK_OF(X509) *extra)
{
	M2M_DISCOVERY_REQUEST *q = M2M_DISCOVERY_REQUEST_new();
	m2m_set_str(q->tre, tre);
	m2m_set_digits(&q->m2me, imei);
	ASN1_OCTET_STRING_set(q->nonce, nonce, nonce_len);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_cms_sign_item(key, cert, extra, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST), q, so), 0);
	M2M_DISCOVERY_REQUEST_free(q);
	return so;
}

static answer discover(const char *tre, const char *imei, const uint8_t nonce[32])
{
	M2M_SIGNED_OBJECT *so = discovery_body(tre, imei, nonce, 32, w.tre_x_key, w.tre_x_cert, w.tre_x_extra);
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
	M2M_SIGNED_OBJECT *so = discovery_body("tre-x", IMEI_A, nonce, 32, k, self, NULL);
	a = call(VISITED, M2M_MSG_DISCOVERY_REQUEST, so);
	assert_refused(a, M2M_R_BAD_CHAIN);
	/* a nonce of another size */
	M2M_SIGNED_OBJECT_free(so);
	so = discovery_body("tre-x", IMEI_A, nonce, 31, w.tre_x_key, w.tre_x_cert, w.tre_x_extra);
	a = call(VISITED, M2M_MSG_DISCOVERY_REQUEST, so);
	assert_refused(a, M2M_R_BAD_BODY);
	/* a signature over other bytes */
	M2M_SIGNED_OBJECT_free(so);
	so = discovery_body("tre-x", IMEI_A, nonce, 32, w.tre_x_key, w.tre_x_cert, w.tre_x_extra);
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

static answer provisioned(int from, const char *tre, const char *sho)
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
}
