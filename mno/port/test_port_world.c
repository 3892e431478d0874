/* The world of the ports' tests: see test_port_world.h. */
#include "test_port_world.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "pki/pki.h"
#include "store/store.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

port_world w;

/* ---- files ----------------------------------------------------------------------------------- */

void path_of(char *out, size_t len, const char *name)
{
	ta_path(out, len, w.dir, name);
}

void write_file(const char *name, const uint8_t *data, size_t len)
{
	char path[160];
	path_of(path, sizeof path, name);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* ---- databases -------------------------------------------------------------------------------- */

/* MNO's database file. */
static const char *db_of(const char *mno)
{
	static char name[64];
	snprintf(name, sizeof name, "%s.db", mno);
	return name;
}

long long query_int(const char *mno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	long long v = ta_query_intv(w.dir, db_of(mno), fmt, ap);
	va_end(ap);
	return v;
}

const char *query_text(const char *mno, const char *fmt, ...)
{
	static char text[65536];
	va_list ap;
	va_start(ap, fmt);
	ta_query_textv(text, sizeof text, w.dir, db_of(mno), fmt, ap);
	va_end(ap);
	return text;
}

char *state_of(const char *mno)
{
	const char *t = query_text(mno,
		"SELECT coalesce((SELECT group_concat(hex(port_id) || ':' || side || ':' || state || ':' || length(coalesce(package, ''))"
		", ';') FROM port_port), '-') || '|' || coalesce((SELECT group_concat(iccid || ':' || new_imsi || ':' || state"
		" || ':' || coalesce(old_imsi, '') || ':' || length(coalesce(receipt, '')), ';') FROM port_device), '-')"
		" || '|' || coalesce((SELECT group_concat(imsi || ':' || state || ':' || hex(coalesce(k_opc_sealed, ''))"
		" || ':' || hex(sqn), ';') FROM hss_subscriber), '-')"
		" || '|' || coalesce((SELECT group_concat(imsi, ';') FROM hss_first_attach), '-')"
		" || '|' || coalesce((SELECT group_concat(iccid || ':' || hex(tar) || ':' || counter || ':' || hex(keys_sealed), ';')"
		" FROM ota_keyset), '-')"
		" || '|' || coalesce((SELECT group_concat(iccid || ':' || owner, ';') FROM hss_card_owner), '-')"
		" || '|' || (SELECT count(*) FROM ota_job) || '|' || (SELECT count(*) FROM hss_audit)"
		" || '|' || (SELECT count(*) FROM hss_contract_lock)");
	return strdup(t);
}

/* ---- mno-admin ------------------------------------------------------------------------------- */

int admin(const char *mno, const char *fmt, ...)
{
	char args[4096], bin[512], out[160], conf[160], name[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(name, sizeof name, "%s.conf", mno);
	path_of(conf, sizeof conf, name);
	path_of(out, sizeof out, "admin.out");
	int rc = ta_run("%s -c %s %s >%s 2>&1", ta_binary("MNO_ADMIN", "mno/hss/mno-admin", bin, sizeof bin), conf, args,
			out);
	size_t len = 0;
	char *text = ta_read(out, &len);
	snprintf(w.out, sizeof w.out, "%s", text ? text : "");
	free(text);
	return rc;
}

/* ---- the processes ----------------------------------------------------------------------------- */

static void write_mno_conf(const char *entity, const char *plmn, const ta_keypair *k, const char *range)
{
	char text[8192], name[64], path[160];
	const char *d = w.dir;
	snprintf(name, sizeof name, "%s.key", entity);
	ta_write_key(w.dir, name, k);
	snprintf(name, sizeof name, "%s.storage", entity);
	path_of(path, sizeof path, name);
	if (access(path, F_OK))
		ta_random_file(w.dir, name, 32);
	snprintf(name, sizeof name, "%s.enrol", entity);
	path_of(path, sizeof path, name);
	snprintf(text, sizeof text,
		 "entity = \"%s\";\ndatabase = \"%s/%s.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/%s.sock\"; secret_key_file = \"%s/%s.key\"; timeout_ms = 30000;"
		 " retries = 0; };\n"
		 "peers = (\n  { id = \"" TA_AGENCY "\"; endpoint = \"%s\"; public_key = \"%s\"; },\n"
		 "  { id = \"%s\"; endpoint = \"ipc://%s/%s.sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"" VNO "\"; endpoint = \"ipc://%s/" VNO ".sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"" FAKE "\"; endpoint = \"ipc://%s/" FAKE ".sock\"; public_key = \"%s\"; }\n);\n"
		 "mno = {\n  mode = \"home\"; plmn = \"%s\"; storage_key_file = \"%s/%s.storage\";\n"
		 "  port = { agency = \"" TA_AGENCY "\"; enrolment_secret_file = \"%s\"; root_certificate = \"%s\";\n"
		 "           crl_refresh_seconds = 5; retry_seconds = %d; max_age_seconds = 3600;%s %s };\n%s};\n",
		 entity, d, entity, d, entity, d, entity, w.agency.endpoint, w.agency.key.pub,
		 !strcmp(entity, A) ? B : A, d, !strcmp(entity, A) ? B : A, !strcmp(entity, A) ? w.k_b.pub : w.k_a.pub, d,
		 w.k_v.pub, d, w.k_t.pub, plmn, d, entity, path, w.agency.root, w.retry_seconds ? w.retry_seconds : 1, range,
		 w.port_extra ? w.port_extra : "", w.ota_group ? w.ota_group : "");
	snprintf(name, sizeof name, "%s.conf", entity);
	ta_write(w.dir, name, text);
}

static pid_t start_mno(const char *entity, const char *plmn, const ta_keypair *k, const char *range)
{
	char bin[512], conf[160], log[160], name[64];
	write_mno_conf(entity, plmn, k, range);
	snprintf(name, sizeof name, "%s.conf", entity);
	path_of(conf, sizeof conf, name);
	snprintf(name, sizeof name, "%s.log", entity);
	path_of(log, sizeof log, name);
	return ta_spawn(ta_binary("MNO_BINARY", "mno/mno", bin, sizeof bin), conf, log);
}

#define B_PORT_RANGE " imsi_first = \"" B_RANGE "\"; imsi_count = 5000;"

static void start_agency(void)
{
	char secret[4][160];
	const char *ids[] = {A, B, FAKE, OTHER};
	const ta_keypair *keys[] = {&w.k_a, &w.k_b, &w.k_t, &w.k_x};
	ta_peer peers[4];
	for (int i = 0; i < 4; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s.enrol", ids[i]);
		ta_random_file(w.dir, name, 32);
		path_of(secret[i], sizeof secret[i], name);
		peers[i] = (ta_peer){ids[i], keys[i]->pub, NULL, "operatorFunction", secret[i]};
	}
	ta_agency_configure(&w.agency, w.dir, peers, 4, NULL);
	ta_agency_start(&w.agency);
}

/* ---- the test's nodes -------------------------------------------------------------------------- */

static m2m_node *open_node(const char *entity, const ta_keypair *k, int bind, m2m_dispatch_cb serve)
{
	m2m_node_conf c = {.timeout_ms = 30000, .retries = 0};
	char endpoint[160];
	snprintf(c.entity, sizeof c.entity, "%s", entity);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", k->sec);
	if (bind)
		snprintf(c.bind, sizeof c.bind, "ipc://%s/%s.sock", w.dir, entity);
	ta_peer_add(&c, TA_AGENCY, w.agency.endpoint, w.agency.key.pub);
	snprintf(endpoint, sizeof endpoint, "ipc://%s/" A ".sock", w.dir);
	ta_peer_add(&c, A, endpoint, w.k_a.pub);
	snprintf(endpoint, sizeof endpoint, "ipc://%s/" B ".sock", w.dir);
	ta_peer_add(&c, B, endpoint, w.k_b.pub);
	return ta_node(&c, NULL, serve, NULL);
}

/* mno-t: answers B's portRequest accepted, and A's portTransfer provisioned (after opening it). */
static void t_serve(m2m_node *n, m2m_request *req, void *arg)
{
	if (req->env.type == M2M_MSG_PORT_REQUEST) {
		M2M_PORT_REQUEST_free(w.request);
		w.request = ASN1_item_dup(ASN1_ITEM_rptr(M2M_PORT_REQUEST), req->env.body);
		M2M_PORT_RESPONSE *r = M2M_PORT_RESPONSE_new();
		ASN1_STRING_copy(r->port_id, w.request->port_id);
		r->accepted = (uint64_t)sk_M2M_PORT_DEVICE_num(w.request->devices);
		m2m_reply(n, req, M2M_MSG_PORT_RESPONSE, r);
		M2M_PORT_RESPONSE_free(r);
	} else if (req->env.type == M2M_MSG_PORT_TRANSFER) {
		M2M_PORT_TRANSFER_free(w.transfer);
		w.transfer = ASN1_item_dup(ASN1_ITEM_rptr(M2M_PORT_TRANSFER), req->env.body);
		w.transfers++;
		M2M_PORT_CREDENTIALS *pc = open_transfer(w.transfer);
		M2M_PORT_TRANSFER_ACK *a = M2M_PORT_TRANSFER_ACK_new();
		ASN1_STRING_copy(a->port_id, w.transfer->port_id);
		a->provisioned = (uint64_t)sk_M2M_PORT_CREDENTIAL_num(pc->credentials);
		m2m_reply(n, req, M2M_MSG_PORT_TRANSFER_ACK, a);
		M2M_PORT_TRANSFER_ACK_free(a);
		M2M_PORT_CREDENTIALS_free(pc);
	} else if (req->env.type == M2M_MSG_PORT_COMPLETE && w.on_complete)
		w.on_complete(n, req);
	else
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "the test's operator");
}

/* mno-v: no device is attached for an OTA server's SMS. */
static void v_serve(m2m_node *n, m2m_request *req, void *arg)
{
	m2m_refuse(n, req, req->env.type == M2M_MSG_SMS_DELIVER ? M2M_R_NOT_ATTACHED : M2M_R_UNEXPECTED_MESSAGE,
		   "the test's visited network");
}

void pump(int ms)
{
	m2m_node *nodes[] = {w.v, w.t, w.x};
	m2m_identity *ids[] = {NULL, w.t_id, w.x_id};
	ta_pump(nodes, ids, sizeof nodes / sizeof nodes[0], ms);
}

int wait_for(int (*cond)(void), int seconds)
{
	return ta_wait_for(cond, seconds, pump);
}

ta_answer call(m2m_node *from, const char *peer, int type, const void *body)
{
	ta_answer a;
	ta_call_start(from, peer, type, body, &a);
	while (!a.done)
		pump(20);
	return a;
}

static int a_enrolled(void) { return ta_db_enrolled(w.dir, db_of(A)); }
static int b_enrolled(void) { return ta_db_enrolled(w.dir, db_of(B)); }

static int identities_ready(void)
{
	return m2m_identity_ready(w.t_id) && m2m_identity_ready(w.x_id);
}

void start_world(int with_a, int with_b)
{
	start_agency();
	if (with_a)
		w.a_pid = start_mno(A, A_PLMN, &w.k_a, "");
	if (with_b)
		w.b_pid = start_mno(B, B_PLMN, &w.k_b, B_PORT_RANGE);
	w.v = open_node(VNO, &w.k_v, 1, v_serve);
	w.t = open_node(FAKE, &w.k_t, 1, t_serve);
	w.x = open_node(OTHER, &w.k_x, 0, NULL);
	w.t_id = ta_identity_open(&w.agency, FAKE, FAKE "-test.db", M2M_PROFILE_OPERATOR_FUNCTION, 5, &w.t_db);
	w.x_id = ta_identity_open(&w.agency, OTHER, OTHER "-test.db", M2M_PROFILE_OPERATOR_FUNCTION, 5, &w.x_db);
	X509 *root = m2m_pki_cert_read_pem(w.agency.root);
	w.trust = m2m_trust_new(root);
	X509_free(root);
	cr_assert(wait_for(identities_ready, 30), "the test's operators did not enrol: see %s", w.dir);
	for (int i = 0; i < sk_X509_num(m2m_identity_chain(w.t_id)); i++)
		m2m_trust_add_intermediate(w.trust, sk_X509_value(m2m_identity_chain(w.t_id), i));
	cr_assert(!with_a || wait_for(a_enrolled, 40), "A did not enrol: see %s/" A ".log", w.dir);
	cr_assert(!with_b || wait_for(b_enrolled, 40), "B did not enrol: see %s/" B ".log", w.dir);
}

void restart(const char *mno)
{
	int a = !strcmp(mno, A);
	pid_t *pid = a ? &w.a_pid : &w.b_pid;
	cr_assert_eq(ta_stop(*pid), 0, "%s did not stop cleanly: see %s/%s.log", mno, w.dir, mno);
	*pid = a ? start_mno(A, A_PLMN, &w.k_a, "") : start_mno(B, B_PLMN, &w.k_b, B_PORT_RANGE);
}

void world_setup(void)
{
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
	ta_tempdir(w.dir);
	ta_keypair *all[] = {&w.k_a, &w.k_b, &w.k_v, &w.k_t, &w.k_x};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		ta_keypair_make(all[i]);
}

void world_teardown(void)
{
	int a = ta_stop(w.a_pid), b = ta_stop(w.b_pid), agency = ta_agency_stop(&w.agency);
	m2m_node *nodes[] = {w.v, w.t, w.x};
	for (size_t i = 0; i < sizeof nodes / sizeof nodes[0]; i++)
		m2m_node_free(nodes[i]);
	m2m_identity_free(w.t_id);
	m2m_identity_free(w.x_id);
	m2m_store_close(w.t_db);
	m2m_store_close(w.x_db);
	m2m_trust_free(w.trust);
	EVP_PKEY_free(w.sub_key);
	X509_free(w.sub_cert);
	M2M_PORT_REQUEST_free(w.request);
	M2M_PORT_TRANSFER_free(w.transfer);
	/* a clean stop is status 0: with the sanitizers, also no leak */
	if (a || b || agency || getenv("M2M_KEEP")) {
		fprintf(stderr, "mno-a %d, mno-b %d, certauth %d: see %s\n", a, b, agency, w.dir);
		cr_assert_eq(a, 0, "mno-a exited with %d: see %s/mno-a.log", a, w.dir);
		cr_assert_eq(b, 0, "mno-b exited with %d: see %s/mno-b.log", b, w.dir);
		return;
	}
	ta_run("rm -rf %s", w.dir);
}

/* ---- cards and the subscriber ---------------------------------------------------------------- */

void personalise(const char *iccid, const char *imsi)
{
	char image[160], name[64];
	snprintf(name, sizeof name, "%s.card", iccid);
	path_of(image, sizeof image, name);
	cr_assert_eq(admin(A, "personalise --iccid %s --imsi %s --out %s", iccid, imsi, image), 0, "%s", w.out);
}

void card_keys(const char *iccid, uint8_t k[16], uint8_t opc[16])
{
	char path[160], name[64];
	config_t cfg;
	const char *hex = NULL;
	snprintf(name, sizeof name, "%s.card", iccid);
	path_of(path, sizeof path, name);
	config_init(&cfg);
	cr_assert_eq(config_read_file(&cfg, path), CONFIG_TRUE);
	cr_assert(config_lookup_string(&cfg, "card.k", &hex) && !m2m_unhex(hex, k, 16));
	cr_assert(config_lookup_string(&cfg, "card.opc", &hex) && !m2m_unhex(hex, opc, 16));
	config_destroy(&cfg);
}

/* A self-signed certificate for key: what a subscriber makes for itself. */
static X509 *self_signed(EVP_PKEY *key, const char *cn, uint64_t serial)
{
	time_t now = time(NULL);
	m2m_cert_spec spec = {.kind = M2M_CERT_ROOT, .cn = cn, .subject_key = key, .serial = serial,
			      .not_before = now - 60, .not_after = now + 86400};
	X509 *cert = m2m_pki_issue(&spec, NULL, key);
	cr_assert_not_null(cert);
	return cert;
}

void make_subscriber(void)
{
	char path[160];
	w.sub_key = m2m_pki_keygen();
	w.sub_cert = self_signed(w.sub_key, SUBSCRIBER, 1);
	path_of(path, sizeof path, "subscriber.pem");
	cr_assert_eq(m2m_pki_cert_write_pem(w.sub_cert, path), 0);
}

void register_subscriber(void)
{
	char path[160];
	make_subscriber();
	path_of(path, sizeof path, "subscriber.pem");
	cr_assert_eq(admin(A, "subscriber register " SUBSCRIBER " %s", path), 0, "%s", w.out);
}

X509 *other_certificate(EVP_PKEY *key, uint64_t serial)
{
	return self_signed(key, SUBSCRIBER, serial);
}

uint8_t *authorise(const char *from, const char *to, const char *const *iccids, int n, const uint8_t *nonce, long age,
		   EVP_PKEY *key, X509 *cert, size_t *len)
{
	M2M_PORT_AUTHORISATION *a = M2M_PORT_AUTHORISATION_new();
	uint8_t fresh[16], *der = NULL, *cms = NULL;
	m2m_random(fresh, sizeof fresh);
	m2m_set_str(a->subscriber, w.sub_name ? w.sub_name : SUBSCRIBER);
	m2m_set_str(a->from_sho, from);
	m2m_set_str(a->to_sho, to);
	for (int i = 0; i < n; i++) {
		ASN1_STRING *s = NULL;
		cr_assert_eq(m2m_set_digits(&s, iccids[i]), 0);
		sk_ASN1_STRING_push(a->iccids, s);
	}
	ASN1_OCTET_STRING_set(a->nonce, nonce ? nonce : fresh, 16);
	ASN1_GENERALIZEDTIME_set(a->issued_at, time(NULL) - age);
	int derlen = i2d_M2M_PORT_AUTHORISATION(a, &der);
	cr_assert_gt(derlen, 0);
	cr_assert_eq(m2m_cms_sign(key ? key : w.sub_key, cert ? cert : w.sub_cert, NULL, der, (size_t)derlen, &cms, len), 0);
	OPENSSL_free(der);
	M2M_PORT_AUTHORISATION_free(a);
	return cms;
}

/* ---- packages ---------------------------------------------------------------------------------- */

M2M_PORT_CREDENTIALS *open_transfer(const M2M_PORT_TRANSFER *t)
{
	uint8_t *sd = NULL;
	size_t sdlen = 0;
	cr_assert_eq(m2m_identity_decrypt(w.t_id, ASN1_STRING_get0_data(t->package), (size_t)ASN1_STRING_length(t->package),
					  &sd, &sdlen), M2M_OK);
	/* the package is signed by A */
	M2M_PORT_CREDENTIALS *pc = ta_signed_item(w.trust, sd, sdlen, A, ASN1_ITEM_rptr(M2M_PORT_CREDENTIALS));
	OPENSSL_clear_free(sd, sdlen);
	return pc;
}

M2M_PORT_TRANSFER *make_transfer(const M2M_PORT_CREDENTIALS *pc, m2m_identity *signer, X509 *recipient)
{
	uint8_t *der = NULL, *sd = NULL, *pkg = NULL;
	size_t sdlen = 0, pkglen = 0;
	int n = i2d_M2M_PORT_CREDENTIALS(pc, &der);
	cr_assert_gt(n, 0);
	cr_assert_eq(m2m_identity_sign(signer, der, (size_t)n, &sd, &sdlen), 0);
	cr_assert_eq(m2m_cms_encrypt(recipient, sd, sdlen, &pkg, &pkglen), 0);
	M2M_PORT_TRANSFER *t = M2M_PORT_TRANSFER_new();
	ASN1_STRING_copy(t->port_id, pc->port_id);
	ASN1_OCTET_STRING_set(t->package, pkg, (int)pkglen);
	OPENSSL_clear_free(der, (size_t)n);
	OPENSSL_clear_free(sd, sdlen);
	OPENSSL_free(pkg);
	return t;
}
