/* The world of the DPF's tests: see test_dpf_world.h. */
#include "test_dpf_world.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"
#include "wire/read.h"

#include <criterion/criterion.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const component_names[NCOMPONENTS] = {"boot-rom", "tre-code", "os"};
static const char *const component_content[NCOMPONENTS] = {"boot rom v1", "tre code v1", "operating system v1"};


dpf_world w;

/* ---- small things ------------------------------------------------------------------------------ */

void path_of(char *out, size_t len, const char *name)
{
	ta_path(out, len, w.dir, name);
}

void read_hex_file(const char *name, uint8_t *out, size_t len)
{
	ta_read_hex(w.dir, name, out, len);
}

sqlite3 *open_readonly(const char *db_name)
{
	return ta_db_readonly(w.dir, db_name);
}

long long query_int(const char *db_name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	long long v = ta_query_intv(w.dir, db_name, fmt, ap);
	va_end(ap);
	return v;
}

/* Everything the DPF keeps (each part present even when its table is empty). */
char *dpf_state(void)
{
	sqlite3 *db = open_readonly("mno-a.db");
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(db,
		"SELECT coalesce((SELECT group_concat(id || ':' || state || ':' || hex(coalesce(mcim_id, '')), ';')"
		" FROM dpf_order), '-') || '|' || coalesce((SELECT group_concat(imsi || ':' || state || ':'"
		" || hex(coalesce(k_opc_sealed, '')), ';') FROM hss_subscriber), '-')"
		" || '|' || (SELECT count(*) FROM dpf_provisioned) || '|' || (SELECT count(*) FROM hss_audit)"
		" || '|' || coalesce((SELECT group_concat(hex(change_id) || ':' || state || ':' || hex(coalesce(nonce, ''))"
		" || ':' || hex(coalesce(receipt, '')), ';') FROM dpf_change), '-')"
		" || '|' || (SELECT count(*) FROM hss_contract_lock)", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	const char *t = (const char *)sqlite3_column_text(st, 0);
	cr_assert_not_null(t);
	char *copy = strdup(t);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return copy;
}

long long orders(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_order");
}

char *subscriber_state(const char *imsi)
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
		char endpoint[128] = "";
		if (peers[i].sock)
			snprintf(endpoint, sizeof endpoint, "ipc://%s/%s", w.dir, peers[i].sock);
		ta_peer_add(&c, peers[i].id, endpoint, peers[i].key->pub);
	}
	return ta_node(&c, NULL, serve, NULL);
}

void pump(int ms)
{
	m2m_node *nodes[] = {w.vno, w.drf, w.ctl, w.pva, w.m2me};
	m2m_identity *ids[] = {NULL, w.drf_id, NULL, w.pva_id, NULL};
	ta_pump(nodes, ids, sizeof nodes / sizeof nodes[0], ms);
}

int wait_for(int (*cond)(void), int seconds)
{
	return ta_wait_for(cond, seconds, pump);
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

void start_agency(void)
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

/* The factory's PCID file (the registration operator's PLMN): a credential to start with. */
static void write_pcid(void)
{
	char text[200];
	snprintf(text, sizeof text, "pcid = 001090000000001\nk = 000102030405060708090a0b0c0d0e0f\n"
		 "opc = 0f0e0d0c0b0a09080706050403020100\nvalid_until = %lld\n", (long long)time(NULL) + 86400);
	ta_write(w.dir, "tre-1.pcid", text);
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
	ta_write_key(w.dir, "tre-1.key", &w.k_tre);
	ta_random_file(w.dir, "tre-1.storage", 32);
	write_pcid();
	const char *d = w.dir;
	snprintf(text, sizeof text,
		 "entity = \"" TRE "\";\ndatabase = \"%s/tre-1.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/tre-1.sock\"; secret_key_file = \"%s/tre-1.key\"; timeout_ms = 2000;"
		 " retries = 1; };\n"
		 "peers = (\n  { id = \"" CONTROLLER "\"; public_key = \"%s\"; },\n"
		 "  { id = \"" M2ME "\"; public_key = \"%s\"; },\n"
		 "  { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; },\n"
		 "  { id = \"" MNO "\"; endpoint = \"ipc://%s/mno-a.sock\"; public_key = \"%s\"; }\n);\n"
		 "tre = {\n  storage_key_file = \"%s/tre-1.storage\";\n  agency = \"" TA_AGENCY "\";\n"
		 "  enrolment_secret_file = \"%s/tre-1.enrol\";\n  root_certificate = \"%s\";\n"
		 "  model = \"" MODEL "\"; version = \"" VERSION "\"; assurance_level = 4;\n"
		 "  pva = \"" TA_AGENCY "\";\n  report_to = ( \"" TA_AGENCY "\", \"" MNO "\" );\n"
		 "  tamper_reaction = \"refuse\";\n  m2me = \"" M2ME "\"; m2me_id = \"" IMEI "\"; drf = \"" DRF "\";\n"
		 "  pcid_file = \"%s/tre-1.pcid\";\n  components = (\n    %s );\n};\n",
		 d, d, d, w.k_ctl.pub, w.k_m2me.pub, w.agency.endpoint, w.agency.key.pub, d, w.k_mno.pub, d, d, w.agency.root, d, components);
	ta_write(w.dir, "tre-1.conf", text);
	path_of(conf, sizeof conf, "tre-1.conf");
	path_of(log, sizeof log, "tre-1.log");
	w.tre_pid = ta_spawn(ta_binary("TRE_BINARY", "tre/tre", bin, sizeof bin), conf, log);
}

/* The mno's configuration file; dpf_extra replaces the end of its dpf group (tests of settings). */
void write_mno_conf(const char *pva, const char *dpf_extra)
{
	char text[4096], path[128];
	const char *d = w.dir;
	ta_write_key(w.dir, "mno-a.key", &w.k_mno);
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
		 "  { id = \"" VNO "\"; public_key = \"%s\"; },\n"
		 "  { id = \"" TRE "\"; endpoint = \"ipc://%s/tre-1.sock\"; public_key = \"%s\"; }\n);\n"
		 "mno = {\n  mode = \"home\"; plmn = \"00101\"; storage_key_file = \"%s/mno-a.storage\";\n"
		 "  dpf = { agency = \"" TA_AGENCY "\"; enrolment_secret_file = \"%s/mno-a.enrol\"; root_certificate = \"%s\";\n"
		 "          crl_refresh_seconds = 1; drf = \"" DRF "\"; pva = \"%s\"; validation_mode = \"remote\";\n"
		 "          min_assurance = 3; %s };\n};\n",
		 d, d, d, w.agency.endpoint, w.agency.key.pub, d, w.k_drf.pub, d, w.k_pva.pub, w.k_vno.pub, d, w.k_tre.pub, d,
		 d, w.agency.root, pva, dpf_extra);
	ta_write(w.dir, "mno-a.conf", text);
}

void start_mno(const char *pva)
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
ta_answer control(m2m_tre_action action, const char *component, const char *content)
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

int dpf_enrolled(void)
{
	return ta_db_enrolled(w.dir, "mno-a.db");
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
void start_world(const char *pva)
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
	w.m2me = open_node(M2ME, &w.k_m2me, NULL, &to_tre, 1, NULL);
	/* the test's DRF and PVA, enrolled through their nodes */
	w.drf_id = ta_identity_open(&w.agency, DRF, DRF ".db", M2M_PROFILE_REGISTRATION, 1, &w.drf_db);
	w.pva_id = ta_identity_open(&w.agency, FAKE_PVA, FAKE_PVA ".db", M2M_PROFILE_PVA, 1, &w.pva_db);
	X509 *root = m2m_pki_cert_read_pem(w.agency.root);
	w.trust = m2m_trust_new(root);
	X509_free(root);
	cr_assert(wait_for(identities_ready, 30), "the test's DRF and PVA did not enrol: see %s", w.dir);
	cr_assert(wait_for(tre_ready, 40), "the TRE is not enrolled and booted: see %s/tre-1.log", w.dir);
	cr_assert(wait_for(dpf_enrolled, 30), "the DPF did not enrol: see %s/mno-a.log", w.dir);
	load_tre_identity();
}

void world_setup(void)
{
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
	ta_tempdir(w.dir);
	ta_keypair *all[] = {&w.k_mno, &w.k_tre, &w.k_vno, &w.k_drf, &w.k_ctl, &w.k_pva, &w.k_m2me};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ta_keypair_make(all[i]);
}

void world_teardown(void)
{
	int mno = ta_stop(w.mno_pid), tre = ta_stop(w.tre_pid), agency = ta_agency_stop(&w.agency);
	m2m_node *nodes[] = {w.vno, w.drf, w.ctl, w.pva, w.m2me};
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


/* ---- what the TRE and the DRF sign ------------------------------------------------------------ */

void sign_as(signer_kind who, const ASN1_ITEM *item, const void *value, M2M_SIGNED_OBJECT *so)
{
	STACK_OF(X509) *extra = sk_X509_new_null();
	sk_X509_push(extra, w.tre_ca);
	int rc = who == BY_TRE ? m2m_cms_sign_item(w.tre_key, w.tre_cert, extra, item, value, so)
			       : m2m_identity_sign_item(who == BY_DRF ? w.drf_id : w.pva_id, item, value, so);
	cr_assert_eq(rc, 0);
	sk_X509_free(extra);
}

ASN1_OCTET_STRING *ticket_for(const char *tre, const char *sho, const uint8_t *nonce, const uint8_t *change_id,
			      long expires_in, signer_kind who)
{
	M2M_REGISTRATION_TICKET *t = M2M_REGISTRATION_TICKET_new();
	uint8_t fresh[32];
	m2m_random(fresh, sizeof fresh);
	m2m_set_str(t->tre, tre);
	m2m_set_digits(&t->m2me, IMEI);
	m2m_set_str(t->sho, sho);
	m2m_set_str(t->dpf, sho);
	ASN1_OCTET_STRING_set(t->nonce, nonce ? nonce : fresh, sizeof fresh);
	ASN1_GENERALIZEDTIME_set(t->expires, time(NULL) + expires_in);
	if (change_id) {
		t->change_id = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(t->change_id, change_id, 16);
	}
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	sign_as(who, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), t, so);
	ASN1_OCTET_STRING *der = ASN1_OCTET_STRING_dup(so->cms);
	M2M_SIGNED_OBJECT_free(so);
	M2M_REGISTRATION_TICKET_free(t);
	return der;
}

ASN1_OCTET_STRING *ticket(const char *tre, const char *sho, long expires_in, signer_kind who)
{
	return ticket_for(tre, sho, NULL, NULL, expires_in, who);
}

/* mcimRequest: McimOrder {tre, ticket, nonce}, signed by the TRE; the ticket is consumed. */
M2M_SIGNED_OBJECT *order(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der)
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

M2M_SIGNED_OBJECT *install_result(const uint8_t mcim_id[16], const uint8_t nonce[32], int status, signer_kind who)
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
ta_answer auth_info(const char *imsi)
{
	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_str(q->serving_network, VNO);
	q->num_vectors = 1;
	ta_answer a = ta_call(w.vno, MNO, M2M_MSG_AUTH_INFO_REQUEST, q);
	M2M_AUTH_INFO_REQUEST_free(q);
	return a;
}

ta_answer relay(int type, M2M_SIGNED_OBJECT *so)
{
	ta_answer a = ta_call(w.relay, MNO, type, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

ta_answer order_with(const uint8_t nonce[32], ASN1_OCTET_STRING *ticket_der)
{
	return relay(M2M_MSG_MCIM_REQUEST, order(nonce, ticket_der));
}

/* ---- the package, as the TRE opens it ------------------------------------------------------------ */

/* Decrypted with the TRE's key, the inner SignedData checked against the root: the Mcim. */
M2M_MCIM *open_package(const M2M_MCIM_PACKAGE *p)
{
	uint8_t *inner = NULL;
	size_t inner_len = 0;
	cr_assert_eq(m2m_cms_decrypt(w.tre_key, w.tre_cert, ASN1_STRING_get0_data(p->package),
				     (size_t)ASN1_STRING_length(p->package), &inner, &inner_len), M2M_OK);
	/* the MCIM is signed by the SHO's DPF */
	M2M_MCIM *m = ta_signed_item(w.trust, inner, inner_len, MNO, ASN1_ITEM_rptr(M2M_MCIM));
	OPENSSL_clear_free(inner, inner_len);
	/* another key does not open it */
	EVP_PKEY *other = m2m_pki_keygen();
	uint8_t *none = NULL;
	size_t nlen = 0;
	cr_assert_neq(m2m_cms_decrypt(other, w.tre_cert, ASN1_STRING_get0_data(p->package),
				      (size_t)ASN1_STRING_length(p->package), &none, &nlen), M2M_OK);
	EVP_PKEY_free(other);
	return m;
}

int provisioned_once(void)
{
	return w.provisioned >= 1;
}

int provisioned_acknowledged(void)
{
	return query_int("mno-a.db", "SELECT count(*) FROM dpf_provisioned WHERE acknowledged IS NOT NULL") == 1;
}

void order_packaged(packaged *p)
{
	m2m_random(p->nonce, sizeof p->nonce);
	ta_answer a = order_with(p->nonce, ticket(TRE, MNO, 600, BY_DRF));
	cr_assert_eq(a.type, M2M_MSG_MCIM_PACKAGE, "refused: %s %s (see %s)", m2m_reason_name(a.reason), a.text, w.dir);
	p->package = a.body;
	p->mcim = open_package(p->package);
	cr_assert_eq(m2m_digits(p->mcim->imsi, p->imsi, sizeof p->imsi, 6, 15), 0);
}

void packaged_free(packaged *p)
{
	M2M_MCIM_PACKAGE_free(p->package);
	M2M_MCIM_free(p->mcim);
}

/* The TRE's signed result about p, acknowledged with p's mcimId. */
void install(const packaged *p, int status)
{
	const uint8_t *mcim_id = ASN1_STRING_get0_data(p->package->mcim_id);
	ta_answer a = relay(M2M_MSG_INSTALL_RESULT, install_result(mcim_id, p->nonce, status, BY_TRE));
	cr_assert_eq(a.type, M2M_MSG_INSTALL_ACK, "refused: %s %s", m2m_reason_name(a.reason), a.text);
	cr_assert_arr_eq(ASN1_STRING_get0_data(((M2M_INSTALL_ACK *)a.body)->mcim_id), mcim_id, 16);
	ta_answer_free(&a);
}
