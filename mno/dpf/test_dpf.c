/*
 * The DPF over the wire, against real processes: a certauth (the agency that enrols the DPF and
 * the TRE, and the PVA that validates the TRE by challenging it), a tre (enrolled, booted,
 * measured: what the PVA appraises) and the mno itself in home mode with a dpf group. The test
 * plays the others with nodes of its own:
 *
 *   mno-v    the visited operator relaying the TRE's mcimRequest and installResult;
 *   drf      the registration operator: tickets signed by its identity (enrolled at certauth as
 *            registration), and the receiver of provisioned;
 *   testbed  the TRE's controller (treControl: status, tampering);
 *   pva-t    a PVA of its own (enrolled as pva) that signs the verdicts a test wants.
 *
 * The orders and install results are signed with the real TRE's key, read from the TRE's sealed
 * store with the storage key the test gave it (what a lab does with a device on the bench).
 * The DPF's database is read directly to check what is stored, and that a refusal changes none
 * of it.
 */
#include "daemon/identity.h"
#include "daemon/test_agency.h"
#include "dpf/command.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"
#include "wire/read.h"

#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MNO "mno-a"
#define TRE "tre-1"
#define DRF "drf"
#define VNO "mno-v"
#define FAKE_PVA "pva-t"
#define CONTROLLER "testbed"
#define MODEL "acme-tre"
#define VERSION "1.0"
#define IMEI "356938035643809"
#define IMSI_FIRST "001010000100001"
#define NCOMPONENTS 3

static const char *const component_names[NCOMPONENTS] = {"boot-rom", "tre-code", "os"};
static const char *const component_content[NCOMPONENTS] = {"boot rom v1", "tre code v1", "operating system v1"};

/* What a test's fake PVA answers (silent: nothing, ever). */
typedef enum verdict_kind { V_OTHER_TRE, V_OTHER_PARTY, V_EXPIRED, V_SILENT } verdict_kind;

static struct {
	char dir[64];
	ta_agency agency;
	ta_keypair k_mno, k_tre, k_vno, k_drf, k_ctl, k_pva;
	pid_t tre_pid, mno_pid;
	m2m_node *vno, *drf, *ctl, *pva;
	m2m_node *relay;  /* who relays the TRE's objects: mno-v, or pva-t while it must answer meanwhile */
	sqlite3 *drf_db, *pva_db;
	m2m_identity *drf_id, *pva_id;
	EVP_PKEY *tre_key;
	X509 *tre_cert, *tre_ca;
	m2m_trust *trust;  /* the agency's root and issuing CA: what a relying party holds */
	int provisioned, refuse_provisioned;
	uint8_t provisioned_id[16];
	verdict_kind verdict;
} w;

/* ---- small things ------------------------------------------------------------------------------ */

static void path_of(char *out, size_t len, const char *name)
{
	ta_path(out, len, w.dir, name);
}

static void write_key(const char *name, const ta_keypair *k)
{
	char line[64];
	snprintf(line, sizeof line, "%s\n", k->sec);
	ta_write(w.dir, name, line);
}

static void read_hex_file(const char *name, uint8_t *out, size_t len)
{
	char path[128], text[160] = "";
	path_of(path, sizeof path, name);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(text, sizeof text, f));
	fclose(f);
	text[2 * len] = 0;
	cr_assert_eq(m2m_unhex(text, out, len), 0);
}


static sqlite3 *open_readonly(const char *db_name)
{
	char path[128];
	sqlite3 *db = NULL;
	path_of(path, sizeof path, db_name);
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The first column of the first row of a query on a daemon's database, as an integer (-1: no row). */
static long long query_int(const char *db_name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static long long query_int(const char *db_name, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	sqlite3 *db = open_readonly(db_name);
	sqlite3_stmt *st = NULL;
	/* -2 when it cannot be asked yet (the daemon is still creating its tables) */
	long long v = sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ? -2
		      : sqlite3_step(st) == SQLITE_ROW          ? sqlite3_column_int64(st, 0)
								: -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Everything the DPF keeps about orders and subscribers, as one string: equal before and after
 * a refusal. */
static char *dpf_state(void)
{
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db,
		"SELECT (SELECT group_concat(id || ':' || state || ':' || hex(coalesce(mcim_id, '')), ';') FROM dpf_order)"
		" || '|' || (SELECT group_concat(imsi || ':' || state || ':' || hex(coalesce(k_opc_sealed, '')), ';')"
		" FROM hss_subscriber) || '|' || (SELECT count(*) FROM dpf_provisioned)"
		" || '|' || (SELECT count(*) FROM hss_audit)", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	const char *t = (const char *)sqlite3_column_text(st, 0);
	char *copy = strdup(t ? t : "");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return copy;
}

static long long orders(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_order");
}

static char *subscriber_state(const char *imsi)
{
	static char state[32];
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT state FROM hss_subscriber WHERE imsi = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, imsi, -1, SQLITE_STATIC);
	snprintf(state, sizeof state, "%s", sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "none");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return state;
}

/* ---- the test's own nodes ---------------------------------------------------------------------- */

typedef struct peer_spec {
	const char *id;
	const ta_keypair *key;
	const char *sock;  /* NULL: not called */
} peer_spec;

static m2m_node *open_node(const char *entity, const ta_keypair *k, const char *sock, const peer_spec *peers,
			   int npeers, m2m_dispatch_cb serve)
{
	m2m_node_conf c = {.timeout_ms = 8000, .retries = 0};
	snprintf(c.entity, sizeof c.entity, "%s", entity);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", k->sec);
	if (sock)
		snprintf(c.bind, sizeof c.bind, "ipc://%s/%s", w.dir, sock);
	for (int i = 0; i < npeers; i++) {
		m2m_peer_conf *p = &c.peers[c.npeers++];
		snprintf(p->id, sizeof p->id, "%s", peers[i].id);
		snprintf(p->public_key, sizeof p->public_key, "%s", peers[i].key->pub);
		if (peers[i].sock)
			snprintf(p->endpoint, sizeof p->endpoint, "ipc://%s/%s", w.dir, peers[i].sock);
	}
	char err[256] = "";
	m2m_node *n = m2m_node_new(&c, NULL, err, sizeof err);
	cr_assert_not_null(n, "%s: %s", entity, err);
	if (serve)
		m2m_node_set_dispatch(n, serve, NULL);
	return n;
}

/* An identity of the test (the DRF's, the fake PVA's), enrolled through node. */
static m2m_identity *open_identity(const char *entity, int profile, sqlite3 **db)
{
	static const char *const migrations[] = {M2M_NODE_SCHEMA M2M_IDENTITY_SCHEMA};
	static const m2m_schema schema = {migrations, 1};
	char path[128], name[80], err[256] = "";
	snprintf(name, sizeof name, "%s.db", entity);
	path_of(path, sizeof path, name);
	*db = m2m_store_open(path, &schema, err, sizeof err);
	cr_assert_not_null(*db, "%s", err);
	m2m_identity_settings s = {.profile = profile, .crl_refresh_seconds = 1};
	snprintf(s.agency, sizeof s.agency, TA_AGENCY);
	snprintf(name, sizeof name, "%s.enrol", entity);
	read_hex_file(name, s.enrolment_secret, 32);
	s.enrolment_secret_len = 32;
	s.root = m2m_pki_cert_read_pem(w.agency.root);
	uint8_t storage_key[32];
	m2m_random(storage_key, sizeof storage_key);
	m2m_identity *id = m2m_identity_open(*db, storage_key, entity, &s);
	m2m_identity_settings_clear(&s);
	cr_assert_not_null(id);
	return id;
}

static void pump(int ms)
{
	m2m_node *all[] = {w.vno, w.drf, w.ctl, w.pva};
	for (int t = 0; t < ms; t += 4) {
		for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
			if (all[i])
				m2m_node_poll(all[i], 1);
		m2m_identity_tick(w.drf_id, w.drf);
		m2m_identity_tick(w.pva_id, w.pva);
	}
}

static int wait_for(int (*cond)(void), int seconds)
{
	for (int i = 0; i < seconds * 25; i++) {
		if (cond())
			return 1;
		pump(40);
	}
	return cond();
}

/* ---- the test's DRF and PVA --------------------------------------------------------------------- */

static void serve_provisioned(m2m_node *n, m2m_request *req)
{
	const M2M_PROVISIONED *p = req->env.body;
	char tre[64] = "", sho[64] = "";
	m2m_str(p->tre, tre, sizeof tre);
	m2m_str(p->sho, sho, sizeof sho);
	cr_assert_str_eq(tre, TRE);
	cr_assert_str_eq(sho, MNO);
	cr_assert_eq(m2m_read_octets(p->mcim_id, w.provisioned_id, 16), 0);
	if (w.refuse_provisioned) {
		w.refuse_provisioned--;
		m2m_refuse(n, req, M2M_R_INTERNAL, "not now");
		return;
	}
	w.provisioned++;
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(n, req, M2M_MSG_PROVISIONED_ACK, nothing);
	ASN1_NULL_free(nothing);
}

static void drf_serve(m2m_node *n, m2m_request *req, void *arg)
{
	if (req->env.type == M2M_MSG_PROVISIONED)
		serve_provisioned(n, req);
	else
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "the test's DRF");
}

/* The verdict the test wants: OK, but about another TRE, for another relying party, or expired. */
static void pva_serve(m2m_node *n, m2m_request *req, void *arg)
{
	cr_assert_eq(req->env.type, M2M_MSG_VALIDATION_REQUEST);
	if (w.verdict == V_SILENT) {
		m2m_defer(n, req);  /* freed with the node */
		return;
	}
	M2M_VERDICT *v = M2M_VERDICT_new();
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	time_t now = time(NULL);
	m2m_set_str(v->tre, w.verdict == V_OTHER_TRE ? "tre-2" : TRE);
	m2m_set_str(v->relying_party, w.verdict == V_OTHER_PARTY ? "mno-b" : MNO);
	ASN1_ENUMERATED_set(v->mode, M2M_MODE_REMOTE);
	ASN1_ENUMERATED_set(v->result, M2M_VERDICT_OK);
	ASN1_OCTET_STRING_set(v->nonce, nonce, sizeof nonce);
	ASN1_GENERALIZEDTIME_set(v->validated_at, now - 1000);
	ASN1_GENERALIZEDTIME_set(v->valid_until, w.verdict == V_EXPIRED ? now - 500 : now + 600);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(m2m_identity_sign_item(w.pva_id, ASN1_ITEM_rptr(M2M_VERDICT), v, so), 0);
	m2m_reply(n, req, M2M_MSG_VALIDATION_RESPONSE, so);
	M2M_SIGNED_OBJECT_free(so);
	M2M_VERDICT_free(v);
}

/* ---- the processes ------------------------------------------------------------------------------- */

static void digest_hex(const char *content, char out[65])
{
	uint8_t d[32];
	SHA256((const unsigned char *)content, strlen(content), d);
	m2m_hex(d, sizeof d, out);
}

static void start_agency(void)
{
	char secret[4][128];
	const char *names[] = {"mno-a.enrol", "tre-1.enrol", "drf.enrol", "pva-t.enrol"};
	for (int i = 0; i < 4; i++) {
		ta_random_file(w.dir, names[i], 32);
		path_of(secret[i], sizeof secret[i], names[i]);
	}
	char tre_endpoint[128];
	snprintf(tre_endpoint, sizeof tre_endpoint, "ipc://%s/tre-1.sock", w.dir);
	ta_peer peers[] = {
		{MNO, w.k_mno.pub, NULL, "operatorFunction", secret[0]},
		{TRE, w.k_tre.pub, tre_endpoint, "tre", secret[1]},
		{DRF, w.k_drf.pub, NULL, "registration", secret[2]},
		{FAKE_PVA, w.k_pva.pub, NULL, "pva", secret[3]},
	};
	ta_agency_configure(&w.agency, w.dir, peers, 4, "  pva = { relying_parties = ( \"" MNO "\" ); };");
	char args[1024] = "platform add --model " MODEL " --version " VERSION " --assurance 4";
	for (int i = 0; i < NCOMPONENTS; i++) {
		char hex[65];
		digest_hex(component_content[i], hex);
		snprintf(args + strlen(args), sizeof args - strlen(args), " --component %s=%s", component_names[i], hex);
	}
	cr_assert_eq(ta_agency_admin(&w.agency, "%s", args), 0, "platform add: see %s/certauth-admin.log", w.dir);
	ta_agency_start(&w.agency);
}

static void start_tre(void)
{
	char text[4096], components[1024] = "", bin[512], conf[128], log[128];
	for (int i = 0; i < NCOMPONENTS; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s.bin", component_names[i]);
		ta_write(w.dir, name, component_content[i]);
		snprintf(components + strlen(components), sizeof components - strlen(components),
			 "%s{ name = \"%s\"; file = \"%s/%s\"; register = %d; }", i ? ",\n    " : "", component_names[i], w.dir,
			 name, i == 2);
	}
	write_key("tre-1.key", &w.k_tre);
	ta_random_file(w.dir, "tre-1.storage", 32);
	const char *d = w.dir;
	snprintf(text, sizeof text,
		 "entity = \"" TRE "\";\ndatabase = \"%s/tre-1.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/tre-1.sock\"; secret_key_file = \"%s/tre-1.key\"; timeout_ms = 2000;"
		 " retries = 1; };\n"
		 "peers = (\n  { id = \"" CONTROLLER "\"; public_key = \"%s\"; },\n"
		 "  { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; },\n"
		 "  { id = \"" MNO "\"; endpoint = \"ipc://%s/mno-a.sock\"; public_key = \"%s\"; }\n);\n"
		 "tre = {\n  storage_key_file = \"%s/tre-1.storage\";\n  agency = \"" TA_AGENCY "\";\n"
		 "  enrolment_secret_file = \"%s/tre-1.enrol\";\n  root_certificate = \"%s\";\n"
		 "  model = \"" MODEL "\"; version = \"" VERSION "\"; assurance_level = 4;\n"
		 "  pva = \"" TA_AGENCY "\";\n  report_to = ( \"" TA_AGENCY "\", \"" MNO "\" );\n"
		 "  tamper_reaction = \"refuse\";\n  components = (\n    %s );\n};\n",
		 d, d, d, w.k_ctl.pub, w.agency.endpoint, w.agency.key.pub, d, w.k_mno.pub, d, d, w.agency.root, components);
	ta_write(w.dir, "tre-1.conf", text);
	path_of(conf, sizeof conf, "tre-1.conf");
	path_of(log, sizeof log, "tre-1.log");
	w.tre_pid = ta_spawn(ta_binary("TRE_BINARY", "tre/tre", bin, sizeof bin), conf, log);
}

/* The mno's configuration file; dpf_extra replaces the end of its dpf group (tests of settings). */
static void write_mno_conf(const char *pva, const char *dpf_extra)
{
	char text[4096], path[128];
	const char *d = w.dir;
	write_key("mno-a.key", &w.k_mno);
	path_of(path, sizeof path, "mno-a.storage");
	if (access(path, F_OK))  /* a restart keeps its storage key */
		ta_random_file(w.dir, "mno-a.storage", 32);
	path_of(path, sizeof path, "export");
	mkdir(path, 0700);
	snprintf(text, sizeof text,
		 "entity = \"" MNO "\";\ndatabase = \"%s/mno-a.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/mno-a.sock\"; secret_key_file = \"%s/mno-a.key\"; timeout_ms = 6000;"
		 " retries = 0; };\n"
		 "peers = (\n  { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; },\n"
		 "  { id = \"" DRF "\"; endpoint = \"ipc://%s/drf.sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"" FAKE_PVA "\"; endpoint = \"ipc://%s/pva-t.sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"" VNO "\"; public_key = \"%s\"; },\n  { id = \"" TRE "\"; public_key = \"%s\"; }\n);\n"
		 "mno = {\n  mode = \"home\"; plmn = \"00101\"; storage_key_file = \"%s/mno-a.storage\";\n"
		 "  dpf = { agency = \"" TA_AGENCY "\"; enrolment_secret_file = \"%s/mno-a.enrol\"; root_certificate = \"%s\";\n"
		 "          crl_refresh_seconds = 1; drf = \"" DRF "\"; pva = \"%s\"; validation_mode = \"remote\";\n"
		 "          min_assurance = 3; %s };\n};\n",
		 d, d, d, w.agency.endpoint, w.agency.key.pub, d, w.k_drf.pub, d, w.k_pva.pub, w.k_vno.pub, w.k_tre.pub, d,
		 d, w.agency.root, pva, dpf_extra);
	ta_write(w.dir, "mno-a.conf", text);
}

static void start_mno(const char *pva)
{
	char bin[512], conf[128], log[128], extra[256], export[128];
	path_of(export, sizeof export, "export");
	snprintf(extra, sizeof extra,
		 "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10; apns = [ \"m2m.meter\" ]; export_dir = \"%s\";", export);
	write_mno_conf(pva, extra);
	path_of(conf, sizeof conf, "mno-a.conf");
	path_of(log, sizeof log, "mno-a.log");
	w.mno_pid = ta_spawn(ta_binary("MNO_BINARY", "mno/mno", bin, sizeof bin), conf, log);
}

/* ---- readiness ------------------------------------------------------------------------------------ */

/* treControl from the TRE's controller: the answer (treStatus). */
static ta_answer control(m2m_tre_action action, const char *component, const char *content)
{
	M2M_TRE_CONTROL *c = M2M_TRE_CONTROL_new();
	ASN1_ENUMERATED_set(c->action, action);
	if (component) {
		c->component = ASN1_UTF8STRING_new();
		m2m_set_str(c->component, component);
		c->content = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(c->content, (const unsigned char *)content, (int)strlen(content));
	}
	ta_answer a = ta_call(w.ctl, TRE, M2M_MSG_TRE_CONTROL, c);
	M2M_TRE_CONTROL_free(c);
	return a;
}

static int tre_ready(void)
{
	ta_answer a = control(M2M_TRE_CTL_STATUS, NULL, NULL);
	const M2M_TRE_STATUS *s = a.type == M2M_MSG_TRE_STATUS ? a.body : NULL;
	int ready = s && s->enrolled && s->booted && s->secure_boot_ok;
	ta_answer_free(&a);
	return ready;
}

static int dpf_enrolled(void)
{
	char path[128];
	path_of(path, sizeof path, "mno-a.db");
	return access(path, F_OK) == 0 && query_int("mno-a.db", "SELECT count(*) FROM identity_chain") > 0;
}

static int identities_ready(void)
{
	return m2m_identity_ready(w.drf_id) && m2m_identity_ready(w.pva_id);
}

/* The real TRE's key and certificate, from its sealed store (row 'attestation', PKCS#8). */
static void load_tre_identity(void)
{
	uint8_t storage_key[32], der[512];
	read_hex_file("tre-1.storage", storage_key, sizeof storage_key);
	sqlite3 *db = open_readonly("tre-1.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT sealed FROM tre_key WHERE name = 'attestation'", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_bytes(st, 0);
	cr_assert(n > M2M_SEAL_OVERHEAD && n - M2M_SEAL_OVERHEAD <= (int)sizeof der);
	cr_assert_eq(m2m_unseal(storage_key, "attestation", 11, sqlite3_column_blob(st, 0), (size_t)n, der), 0);
	w.tre_key = m2m_pki_key_from_der(der, (size_t)n - M2M_SEAL_OVERHEAD);
	m2m_wipe(der, sizeof der);
	sqlite3_finalize(st);
	cr_assert_not_null(w.tre_key);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT position, der FROM tre_certificate WHERE position <= 1 ORDER BY position",
					-1, &st, NULL), SQLITE_OK);
	X509 **certs[] = {&w.tre_cert, &w.tre_ca};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
		*certs[i] = m2m_pki_cert_from_der(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		cr_assert_not_null(*certs[i]);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	cr_assert_eq(m2m_trust_add_intermediate(w.trust, w.tre_ca), 0);
}

/* The whole world, the DPF asking pva for its verdicts. */
static void start_world(const char *pva)
{
	start_agency();
	start_tre();
	start_mno(pva);
	peer_spec to_agency = {TA_AGENCY, &w.agency.key, "certauth.sock"};
	peer_spec to_mno = {MNO, &w.k_mno, "mno-a.sock"};
	peer_spec drf_peers[] = {to_agency, to_mno};
	peer_spec to_tre = {TRE, &w.k_tre, "tre-1.sock"};
	w.drf = open_node(DRF, &w.k_drf, "drf.sock", drf_peers, 2, drf_serve);
	w.pva = open_node(FAKE_PVA, &w.k_pva, "pva-t.sock", drf_peers, 2, pva_serve);
	w.vno = w.relay = open_node(VNO, &w.k_vno, NULL, &to_mno, 1, NULL);
	w.ctl = open_node(CONTROLLER, &w.k_ctl, NULL, &to_tre, 1, NULL);
	w.drf_id = open_identity(DRF, M2M_PROFILE_REGISTRATION, &w.drf_db);
	w.pva_id = open_identity(FAKE_PVA, M2M_PROFILE_PVA, &w.pva_db);
	X509 *root = m2m_pki_cert_read_pem(w.agency.root);
	w.trust = m2m_trust_new(root);
	X509_free(root);
	cr_assert(wait_for(identities_ready, 30), "the test's DRF and PVA did not enrol: see %s", w.dir);
	cr_assert(wait_for(tre_ready, 40), "the TRE is not enrolled and booted: see %s/tre-1.log", w.dir);
	cr_assert(wait_for(dpf_enrolled, 30), "the DPF did not enrol: see %s/mno-a.log", w.dir);
	load_tre_identity();
}

static void setup(void)
{
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
	ta_tempdir(w.dir);
	ta_keypair *all[] = {&w.k_mno, &w.k_tre, &w.k_vno, &w.k_drf, &w.k_ctl, &w.k_pva};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ta_keypair_make(all[i]);
}

static void teardown(void)
{
	int mno = ta_stop(w.mno_pid), tre = ta_stop(w.tre_pid), agency = ta_agency_stop(&w.agency);
	m2m_node *nodes[] = {w.vno, w.drf, w.ctl, w.pva};
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		m2m_node_free(nodes[i]);
	m2m_identity_free(w.drf_id);
	m2m_identity_free(w.pva_id);
	m2m_store_close(w.drf_db);
	m2m_store_close(w.pva_db);
	EVP_PKEY_free(w.tre_key);
	X509_free(w.tre_cert);
	X509_free(w.tre_ca);
	m2m_trust_free(w.trust);
	/* a clean stop is status 0: with the sanitizers, also no leak */
	if (mno || tre || agency || getenv("M2M_KEEP")) {
		fprintf(stderr, "mno %d, tre %d, certauth %d: see %s\n", mno, tre, agency, w.dir);
		cr_assert_eq(mno, 0, "mno exited with %d: see %s/mno-a.log", mno, w.dir);
		return;
	}
	ta_run("rm -rf %s", w.dir);
}

TestSuite(dpf, .init = setup, .fini = teardown, .timeout = 180);

/* ---- what the TRE and the DRF sign ------------------------------------------------------------ */

typedef enum signer_kind { BY_DRF, BY_TRE, BY_OTHER_FUNCTION } signer_kind;

static void sign_as(signer_kind who, const ASN1_ITEM *item, const void *value, M2M_SIGNED_OBJECT *so)
{
	STACK_OF(X509) *extra = sk_X509_new_null();
	sk_X509_push(extra, w.tre_ca);
	int rc = who == BY_TRE ? m2m_cms_sign_item(w.tre_key, w.tre_cert, extra, item, value, so)
			       : m2m_identity_sign_item(who == BY_DRF ? w.drf_id : w.pva_id, item, value, so);
	cr_assert_eq(rc, 0);
	sk_X509_free(extra);
}

/* The DER of a discoveryResponse: a RegistrationTicket for tre, naming sho. */
static ASN1_OCTET_STRING *ticket(const char *tre, const char *sho, long expires_in, signer_kind who)
{
	M2M_REGISTRATION_TICKET *t = M2M_REGISTRATION_TICKET_new();
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	m2m_set_str(t->tre, tre);
	m2m_set_digits(&t->m2me, IMEI);
	m2m_set_str(t->sho, sho);
	m2m_set_str(t->dpf, sho);
	ASN1_OCTET_STRING_set(t->nonce, nonce, sizeof nonce);
	ASN1_GENERALIZEDTIME_set(t->expires, time(NULL) + expires_in);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	sign_as(who, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), t, so);
	ASN1_OCTET_STRING *der = ASN1_OCTET_STRING_dup(so->cms);
	M2M_SIGNED_OBJECT_free(so);
	M2M_REGISTRATION_TICKET_free(t);
	return der;
}

/* mcimRequest: McimOrder {tre, ticket, nonce}, signed by the TRE; the ticket is consumed. */
static M2M_SIGNED_OBJECT *order(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der)
{
	M2M_MCIM_ORDER *o = M2M_MCIM_ORDER_new();
	m2m_set_str(o->tre, TRE);
	ASN1_OCTET_STRING_free(o->ticket);
	o->ticket = ticket_der;
	ASN1_OCTET_STRING_set(o->nonce, nonce, 32);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	sign_as(BY_TRE, ASN1_ITEM_rptr(M2M_MCIM_ORDER), o, so);
	M2M_MCIM_ORDER_free(o);
	return so;
}

static M2M_SIGNED_OBJECT *install_result(const uint8_t mcim_id[16], const uint8_t nonce[32], int status, signer_kind who)
{
	M2M_INSTALL_RESULT *r = M2M_INSTALL_RESULT_new();
	ASN1_OCTET_STRING_set(r->mcim_id, mcim_id, 16);
	m2m_set_str(r->tre, TRE);
	ASN1_OCTET_STRING_set(r->nonce, nonce, 32);
	ASN1_ENUMERATED_set(r->status, status);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	sign_as(who, ASN1_ITEM_rptr(M2M_INSTALL_RESULT), r, so);
	M2M_INSTALL_RESULT_free(r);
	return so;
}

/* The visited operator relays one signed object to the DPF (the DPF believes the CMS only, so
 * any peer may carry it: the fake PVA does while it must answer the DPF's question). */
static ta_answer relay(int type, M2M_SIGNED_OBJECT *so)
{
	ta_answer a = ta_call(w.relay, MNO, type, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

static ta_answer order_with(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der)
{
	return relay(M2M_MSG_MCIM_REQUEST, order(nonce, ticket_der));
}

/* An order the DPF must refuse with reason, its database unchanged. */
static void expect_refused(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der, m2m_reason reason, const char *text)
{
	char *before = dpf_state();
	ta_answer a = order_with(nonce, ticket_der);
	cr_assert_eq(a.type, M2M_MSG_ERROR, "not refused: %d", a.type);
	cr_assert_eq(a.reason, reason, "reason %s (%s), not %s", m2m_reason_name(a.reason), a.text, m2m_reason_name(reason));
	cr_assert(strstr(a.text, text), "%s", a.text);
	char *after = dpf_state();
	cr_assert_str_eq(after, before, "a refusal changed the DPF's state");
	free(before);
	free(after);
}

/* ---- the package, as the TRE opens it ------------------------------------------------------------ */

/* Decrypted with the TRE's key, the inner SignedData checked against the root: the Mcim. */
static M2M_MCIM *open_package(const M2M_MCIM_PACKAGE *p)
{
	uint8_t *inner = NULL, *content = NULL;
	size_t inner_len = 0, clen = 0;
	X509 *signer = NULL;
	cr_assert_eq(m2m_cms_decrypt(w.tre_key, w.tre_cert, ASN1_STRING_get0_data(p->package),
				     (size_t)ASN1_STRING_length(p->package), &inner, &inner_len), M2M_OK);
	cr_assert_eq(m2m_cms_verify(w.trust, inner, inner_len, &content, &clen, &signer), M2M_OK);
	char cn[64];
	cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, MNO, "the MCIM is signed by the SHO's DPF");
	cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_OPERATOR_FUNCTION);
	const uint8_t *q = content;
	M2M_MCIM *m = d2i_M2M_MCIM(NULL, &q, (long)clen);
	cr_assert_not_null(m);
	OPENSSL_clear_free(inner, inner_len);
	OPENSSL_clear_free(content, clen);
	X509_free(signer);
	/* another key does not open it */
	EVP_PKEY *other = m2m_pki_keygen();
	uint8_t *none = NULL;
	size_t nlen = 0;
	cr_assert_neq(m2m_cms_decrypt(other, w.tre_cert, ASN1_STRING_get0_data(p->package),
				      (size_t)ASN1_STRING_length(p->package), &none, &nlen), M2M_OK);
	EVP_PKEY_free(other);
	return m;
}

static int provisioned_once(void)
{
	return w.provisioned >= 1;
}

static int provisioned_acknowledged(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_provisioned WHERE acknowledged IS NOT NULL") == 1;
}

/* A good order packaged: its nonce, package and MCIM. */
typedef struct packaged {
	uint8_t nonce[32];
	M2M_MCIM_PACKAGE *package;
	M2M_MCIM *mcim;
	char imsi[16];
} packaged;

static void order_packaged(packaged *p)
{
	m2m_random(p->nonce, sizeof p->nonce);
	ta_answer a = order_with(p->nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE, "refused: %s %s (see %s)", m2m_reason_name(a.reason), a.text, w.dir);
	p->package = a.body;
	p->mcim = open_package(p->package);
	cr_assert_eq(m2m_digits(p->mcim->imsi, p->imsi, sizeof p->imsi, 6, 15), 0);
}

static void packaged_free(packaged *p)
{
	M2M_MCIM_PACKAGE_free(p->package);
	M2M_MCIM_free(p->mcim);
}

/* The TRE's signed result about p, acknowledged with p's mcimId. */
static void install(const packaged *p, int status)
{
	const uint8_t *mcim_id = ASN1_STRING_get0_data(p->package->mcim_id);
	ta_answer a = relay(M2M_MSG_INSTALL_RESULT, install_result(mcim_id, p->nonce, status, BY_TRE));
	cr_assert_eq(a.type, M2M_MSG_INSTALL_ACK, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	cr_assert_arr_eq(ASN1_STRING_get0_data(((M2M_INSTALL_ACK *)a.body)->mcim_id), mcim_id, 16);
	ta_answer_free(&a);
}

/* ---- the procedure ------------------------------------------------------------------------------- */

Test(dpf, good_order_gets_a_package_only_the_tre_opens)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	M2M_MCIM *m = p.mcim;
	char owner[64], tre[64];
	m2m_str(m->owner, owner, sizeof owner);
	m2m_str(m->tre, tre, sizeof tre);
	cr_assert_str_eq(owner, MNO);
	cr_assert_str_eq(tre, TRE);
	cr_assert_str_eq(p.imsi, IMSI_FIRST, "the first IMSI of the range");
	cr_assert_eq(m->version, 1);
	cr_assert_eq(ASN1_STRING_length(m->nonce), 32);
	cr_assert_arr_eq(ASN1_STRING_get0_data(m->nonce), p.nonce, 32, "the MCIM carries the order's nonce");
	cr_assert_arr_eq(ASN1_STRING_get0_data(m->mcim_id), ASN1_STRING_get0_data(p.package->mcim_id), 16);
	cr_assert_eq(ASN1_STRING_length(m->k), 16);
	cr_assert_eq(ASN1_STRING_length(m->opc), 16);
	cr_assert_arr_eq(ASN1_STRING_get0_data(m->amf), "\x80\x00", 2);
	cr_assert_eq(m->sqn, 0);
	cr_assert_eq(sk_ASN1_UTF8STRING_num(m->profile->allowed_apns), 1);
	cr_assert_eq(m->profile->cs_allowed, 0);
	cr_assert_null(m->profile->imei_lock);
	/* the HSS record: pending, K and OPc sealed (not in clear anywhere in the row) */
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "pending");
	char k_hex[33];
	m2m_hex(ASN1_STRING_get0_data(m->k), 16, k_hex);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber WHERE instr(hex(k_opc_sealed), upper('%s'))"
				   " OR instr(hex(sqn), upper('%s'))", k_hex, k_hex), 0, "K in clear");
	cr_assert_eq(query_int("mno-a.db", "SELECT length(k_opc_sealed) FROM hss_subscriber WHERE imsi = '" IMSI_FIRST "'"),
		     32 + M2M_SEAL_OVERHEAD);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'packaged'"), 1);
	packaged_free(&p);
}

Test(dpf, exported_package_opens_with_the_openssl_command_line)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	char id_hex[33], keyfile[128];
	m2m_hex(ASN1_STRING_get0_data(p.package->mcim_id), 16, id_hex);
	path_of(keyfile, sizeof keyfile, "tre-1.key.pem");
	FILE *f = fopen(keyfile, "w");
	cr_assert(f && PEM_write_PrivateKey(f, w.tre_key, NULL, NULL, 0, NULL, NULL));
	fclose(f);
	cr_assert_eq(ta_run("cd %s && openssl cms -decrypt -inform DER -binary -in export/%s.cms -recip export/" TRE ".pem"
			    " -inkey tre-1.key.pem -out inner.der 2>openssl.err"
			    " && openssl cms -verify -inform DER -binary -in inner.der -CAfile root.pem -out mcim.der"
			    " 2>>openssl.err && openssl asn1parse -inform DER -in mcim.der >mcim.txt", w.dir, id_hex), 0,
		     "see %s/openssl.err", w.dir);
	cr_assert_eq(ta_run("grep -q ':" TRE "' %s/mcim.txt && grep -q -- '-----BEGIN CERTIFICATE' %s/export/dpf.pem", w.dir,
			    w.dir), 0);
	packaged_free(&p);
}

Test(dpf, retried_order_gets_the_same_bytes)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	char *before = dpf_state();
	/* the same McimOrder again (the reply was lost on the way back): a new envelope, a new
	 * ticket even, the same TRE and nonce */
	ta_answer a = order_with(p.nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE);
	const M2M_MCIM_PACKAGE *again = a.body;
	cr_assert_eq(ASN1_STRING_cmp(again->package, p.package->package), 0, "another package");
	cr_assert_eq(ASN1_STRING_cmp(again->mcim_id, p.package->mcim_id), 0);
	char *after = dpf_state();
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
	ta_answer_free(&a);
	/* a new order (another nonce) withdraws the pending one and gets the next IMSI */
	packaged q;
	order_packaged(&q);
	cr_assert_str_eq(q.imsi, "001010000100002");
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "deleted");
	cr_assert_str_eq(subscriber_state(q.imsi), "pending");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'withdrawn'"), 1);
	/* the withdrawn one cannot be installed */
	ta_answer r = relay(M2M_MSG_INSTALL_RESULT, install_result(ASN1_STRING_get0_data(p.package->mcim_id), p.nonce,
							     M2M_INSTALLED, BY_TRE));
	cr_assert_eq(r.reason, M2M_R_WRONG_STATE, "%s", r.text);
	packaged_free(&p);
	packaged_free(&q);
}

static int validating(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'validating'") == 1;
}

static void ignore_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
}

Test(dpf, an_order_validating_across_a_restart_is_validated_again)
{
	w.verdict = V_SILENT;
	start_world(FAKE_PVA);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	M2M_SIGNED_OBJECT *so = order(nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(m2m_call(w.vno, MNO, M2M_MSG_MCIM_REQUEST, so, ignore_answer, NULL), 0);
	cr_assert(wait_for(validating, 10), "the order was not recorded before the PVA was asked");
	/* the DPF stops while the PVA has not answered; it comes back asking the real PVA */
	cr_assert_eq(ta_stop(w.mno_pid), 0, "see %s/mno-a.log", w.dir);
	start_mno(TA_AGENCY);
	cr_assert(wait_for(dpf_enrolled, 10));
	ta_answer a = ta_call(w.vno, MNO, M2M_MSG_MCIM_REQUEST, so);
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE, "%s %s", m2m_reason_name(a.reason), a.text);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order"), 1, "the same order, packaged");
	/* and a packaged order survives a restart: the same bytes again */
	cr_assert_eq(ta_stop(w.mno_pid), 0);
	start_mno(TA_AGENCY);
	ta_answer b = ta_call(w.vno, MNO, M2M_MSG_MCIM_REQUEST, so);
	cr_assert_eq(b.type, M2M_MSG_MCIM_PACKAGE, "%s %s", m2m_reason_name(b.reason), b.text);
	cr_assert_eq(ASN1_STRING_cmp(((M2M_MCIM_PACKAGE *)b.body)->package, ((M2M_MCIM_PACKAGE *)a.body)->package), 0);
	ta_answer_free(&a);
	ta_answer_free(&b);
	M2M_SIGNED_OBJECT_free(so);
}

Test(dpf, install_activates_and_tells_the_drf)
{
	start_world(TA_AGENCY);
	w.refuse_provisioned = 1;  /* the DRF's first answer is lost: the DPF tries again */
	packaged p;
	order_packaged(&p);
	const uint8_t *mcim_id = ASN1_STRING_get0_data(p.package->mcim_id);
	install(&p, M2M_INSTALLED);
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "active");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'installed'"), 1);
	cr_assert(wait_for(provisioned_once, 20), "no provisioned reached the DRF");
	cr_assert_arr_eq(w.provisioned_id, mcim_id, 16);
	cr_assert(wait_for(provisioned_acknowledged, 10));
	/* the install result again (its ack was lost): the same ack, nothing changes */
	char *before = dpf_state();
	install(&p, M2M_INSTALLED);
	char *after = dpf_state();
	cr_assert_str_eq(after, before);
	pump(200);
	cr_assert_eq(w.provisioned, 1, "provisioned twice");
	free(before);
	free(after);
	packaged_free(&p);
}

Test(dpf, refused_install_deletes_the_pending_record)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	install(&p, M2M_INSTALL_REFUSED);
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "deleted");
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber WHERE k_opc_sealed IS NOT NULL"), 0);
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM dpf_order WHERE state = 'refused'"), 1);
	pump(300);
	cr_assert_eq(w.provisioned, 0);
	packaged_free(&p);
}

Test(dpf, install_results_that_do_not_match_are_refused)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	const uint8_t *mcim_id = ASN1_STRING_get0_data(p.package->mcim_id);
	uint8_t other[32];
	m2m_random(other, sizeof other);
	char *before = dpf_state();
	struct {
		M2M_SIGNED_OBJECT *so;
		m2m_reason reason;
	} cases[] = {
		{install_result(mcim_id, other, M2M_INSTALLED, BY_TRE), M2M_R_NONCE_REPLAYED},
		{install_result(other, p.nonce, M2M_INSTALLED, BY_TRE), M2M_R_NOT_FOUND},
		{install_result(mcim_id, p.nonce, M2M_INSTALLED, BY_DRF), M2M_R_BAD_SIGNATURE},
		{install_result(mcim_id, p.nonce, M2M_INSTALLED, BY_TRE), M2M_R_BAD_SIGNATURE},
	};
	/* the last one's signature is damaged on the way */
	M2M_SIGNED_OBJECT *damaged = cases[3].so;
	damaged->cms->data[damaged->cms->length - 10] ^= 0x01;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ta_answer a = relay(M2M_MSG_INSTALL_RESULT, cases[i].so);
		cr_assert_eq(a.type, M2M_MSG_ERROR, "case %zu accepted", i);
		cr_assert_eq(a.reason, cases[i].reason, "case %zu: %s (%s)", i, m2m_reason_name(a.reason), a.text);
	}
	char *after = dpf_state();
	cr_assert_str_eq(after, before, "a refusal changed the DPF's state");
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "pending");
	free(before);
	free(after);
	packaged_free(&p);
}

/* ---- refused orders --------------------------------------------------------------------------------- */

Test(dpf, orders_with_bad_tickets_are_refused)
{
	start_world(TA_AGENCY);
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_TRE), M2M_R_BAD_SIGNATURE, "not by the registration operator");
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_OTHER_FUNCTION), M2M_R_BAD_SIGNATURE, "not by the registration");
	expect_refused(nonce, ticket(TRE, "mno-b", 600, BY_DRF), M2M_R_WRONG_SHO, "another operator");
	expect_refused(nonce, ticket(TRE, MNO, -10, BY_DRF), M2M_R_WRONG_STATE, "ticket expired");
	expect_refused(nonce, ticket("tre-2", MNO, 600, BY_DRF), M2M_R_NOT_AUTHORISED, "another TRE");
	cr_assert_eq(orders(), 0, "%lld orders", orders());
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber"), 0);
	/* the same nonce with a good ticket is then fine */
	ta_answer a = order_with(nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE, "%s", a.text);
	ta_answer_free(&a);
}

Test(dpf, order_signed_by_a_revoked_tre_is_refused)
{
	start_world(TA_AGENCY);
	uint64_t serial = 0;
	cr_assert_eq(m2m_pki_cert_serial(w.tre_cert, &serial), 0);
	cr_assert_eq(ta_agency_admin(&w.agency, "revoke --serial %llu", (unsigned long long)serial), 0);
	pump(3000);  /* the DPF fetches the CRL every second */
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_DRF), M2M_R_CERTIFICATE_REVOKED, "order refused");
	cr_assert_eq(orders(), 0, "%lld orders", orders());
}

Test(dpf, a_tre_the_pva_fails_gets_nothing)
{
	start_world(TA_AGENCY);
	/* an attacker flashes the OS; the next boot measures it, and the PVA sees it in the quote */
	ta_answer a = control(M2M_TRE_CTL_MODIFY_COMPONENT, "os", "rootkit");
	ta_answer_free(&a);
	a = control(M2M_TRE_CTL_BOOT, NULL, NULL);
	ta_answer_free(&a);
	pump(500);  /* the TRE's tamper report reaches the DPF too: nothing to suspend yet */
	uint8_t nonce[32];
	m2m_random(nonce, sizeof nonce);
	expect_refused(nonce, ticket(TRE, MNO, 600, BY_DRF), M2M_R_NOT_VALIDATED, "componentModified");
	cr_assert_eq(orders(), 0, "%lld orders", orders());
	cr_assert_eq(query_int("mno-a.db", "SELECT count(*) FROM hss_subscriber"), 0);
}

Test(dpf, verdicts_not_about_this_tre_for_this_operator_are_refused)
{
	start_world(FAKE_PVA);
	w.relay = w.pva;
	verdict_kind kinds[] = {V_OTHER_TRE, V_OTHER_PARTY, V_EXPIRED};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		w.verdict = kinds[i];
		uint8_t nonce[32];
		m2m_random(nonce, sizeof nonce);
		expect_refused(nonce, ticket(TRE, MNO, 600, BY_DRF), M2M_R_STALE_VERDICT, "not a fresh one");
	}
	cr_assert_eq(orders(), 0, "%lld orders", orders());
}

/* ---- tampering and commands -------------------------------------------------------------------------- */

static int suspended(void)
{
	return !strcmp(subscriber_state(IMSI_FIRST), "suspended");
}

Test(dpf, tamper_report_suspends_the_tres_mcim)
{
	start_world(TA_AGENCY);
	packaged p;
	order_packaged(&p);
	install(&p, M2M_INSTALLED);
	cr_assert_str_eq(subscriber_state(IMSI_FIRST), "active");
	ta_answer a = control(M2M_TRE_CTL_OPEN_CASE, NULL, NULL);
	ta_answer_free(&a);
	cr_assert(wait_for(suspended, 20), "the MCIM's record is %s", subscriber_state(IMSI_FIRST));
	cr_assert_eq(query_int("mno-a.db", "SELECT suspended FROM dpf_tamper"), 1);
	packaged_free(&p);
}

Test(dpf, commands_are_signed_by_the_owner_and_receipts_checked)
{
	start_world(TA_AGENCY);
	/* the DPF's own identity, opened from its database with its storage key (read only) */
	uint8_t storage_key[32];
	read_hex_file("mno-a.storage", storage_key, sizeof storage_key);
	sqlite3 *db = open_readonly("mno-a.db");
	m2m_identity_settings s = {.profile = M2M_PROFILE_OPERATOR_FUNCTION};
	snprintf(s.agency, sizeof s.agency, TA_AGENCY);
	s.root = m2m_pki_cert_read_pem(w.agency.root);
	m2m_identity *id = m2m_identity_open(db, storage_key, MNO, &s);
	cr_assert(m2m_identity_ready(id));
	dpf_command cmd = {.action = M2M_MCIM_DEACTIVATE};
	m2m_random(cmd.mcim_id, sizeof cmd.mcim_id);
	snprintf(cmd.tre, sizeof cmd.tre, TRE);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	cr_assert_eq(dpf_command_sign(id, MNO, &cmd, so), 0);
	/* what the TRE checks: the owner's operatorFunction certificate, the fields */
	M2M_MCIM_COMMAND *got = NULL;
	X509 *signer = NULL;
	cr_assert_eq(m2m_cms_verify_item(w.trust, so, ASN1_ITEM_rptr(M2M_MCIM_COMMAND), (void **)&got, &signer), M2M_OK);
	char cn[64];
	cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, MNO);
	cr_assert_eq(m2m_pki_cert_profile(signer), M2M_PROFILE_OPERATOR_FUNCTION);
	cr_assert_eq(ASN1_ENUMERATED_get(got->action), M2M_MCIM_DEACTIVATE);
	cr_assert_arr_eq(ASN1_STRING_get0_data(got->nonce), cmd.nonce, 32);
	/* the TRE's receipt */
	M2M_MCIM_RECEIPT *r = M2M_MCIM_RECEIPT_new();
	ASN1_OCTET_STRING_set(r->mcim_id, cmd.mcim_id, 16);
	m2m_set_str(r->tre, TRE);
	ASN1_ENUMERATED_set(r->action, M2M_MCIM_DEACTIVATE);
	ASN1_OCTET_STRING_set(r->nonce, cmd.nonce, 32);
	ASN1_ENUMERATED_set(r->state, M2M_MCIM_INACTIVE);
	M2M_SIGNED_OBJECT *receipt = M2M_SIGNED_OBJECT_new(), *forged = M2M_SIGNED_OBJECT_new();
	sign_as(BY_TRE, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), r, receipt);
	sign_as(BY_DRF, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), r, forged);
	m2m_mcim_state state = M2M_MCIM_ACTIVE;
	char why[256];
	cr_assert_eq(dpf_receipt_check(w.trust, receipt, &cmd, &state, why, sizeof why), M2M_OK, "%s", why);
	cr_assert_eq(state, M2M_MCIM_INACTIVE);
	cr_assert_eq(dpf_receipt_check(w.trust, forged, &cmd, &state, why, sizeof why), M2M_R_BAD_SIGNATURE);
	dpf_command other = cmd;
	other.nonce[0] ^= 1;
	cr_assert_eq(dpf_receipt_check(w.trust, receipt, &other, &state, why, sizeof why), M2M_R_NONCE_REPLAYED);
	other = cmd;
	other.action = M2M_MCIM_DELETE;
	cr_assert_eq(dpf_receipt_check(w.trust, receipt, &other, &state, why, sizeof why), M2M_R_BAD_BODY);
	M2M_MCIM_RECEIPT_free(r);
	M2M_SIGNED_OBJECT_free(receipt);
	M2M_SIGNED_OBJECT_free(forged);
	M2M_MCIM_COMMAND_free(got);
	X509_free(signer);
	M2M_SIGNED_OBJECT_free(so);
	m2m_identity_free(id);
	m2m_identity_settings_clear(&s);
	sqlite3_close(db);
}

/* ---- settings ------------------------------------------------------------------------------------------ */

/* mno --check-config on a dpf group ending with extra, pva as given: the exit status; the message
 * is in check.err. */
static int check_config(const char *pva, const char *extra)
{
	char bin[512];
	write_mno_conf(pva, extra);
	return ta_run("%s -c %s/mno-a.conf --check-config >%s/check.err 2>&1",
		      ta_binary("MNO_BINARY", "mno/mno", bin, sizeof bin), w.dir, w.dir);
}

static int check_said(const char *text)
{
	return ta_run("grep -q -- '%s' %s/check.err", text, w.dir) == 0;
}

Test(dpf, settings_are_checked)
{
	start_agency();
	const char *range = "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10;";
	cr_assert_eq(check_config(TA_AGENCY, range), 0, "a good group refused: see %s/check.err", w.dir);
	struct {
		const char *pva, *extra, *said;
	} bad[] = {
		{TA_AGENCY, "imsi_first = \"001020000000001\"; imsi_count = 10;", "plmn 00101"},
		{TA_AGENCY, "imsi_first = \"001019999999999\"; imsi_count = 2;", "outside the 15-digit IMSIs"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\";", "imsi_count"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10; imsi_last = \"1\";", "imsi_last"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10; apns = [ \"a b\" ];", "an APN is"},
		{TA_AGENCY, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10; export_dir = \"/nonexistent\";",
		 "not a directory"},
		{"nobody", "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10;", "not in peers"},
		{VNO, "imsi_first = \"" IMSI_FIRST "\"; imsi_count = 10;", "without an endpoint"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(check_config(bad[i].pva, bad[i].extra), 2, "case %zu accepted", i);
		cr_assert(check_said(bad[i].said), "case %zu: see %s/check.err", i, w.dir);
	}
}
