/*
 * The tre process, over the wire: a fake agency "ca-t" (enrolment, platform type, CRL, and the
 * PVA that challenges the TRE and acknowledges its tamper reports), a fake operator "mno-a" that
 * receives reports and sends MCIM commands, the test client "testbed" sending treControl, and
 * the M2ME "m2me-t" asking for credentials, AKA and provisioning (the test plays the DRF and the
 * DPF it relays to).
 */
#include "test_fixture.h"

#include "crypto/crypto.h"
#include "daemon/test_agency.h"
#include "log/log.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

typedef struct keypair {
	char pub[M2M_KEY_Z85], sec[M2M_KEY_Z85];
} keypair;

/* What the fake agency and operator saw. */
typedef struct fake_party {
	int enrols, platform_requests, crl_requests, reports, acks_refused;
	int refuse_acks;                 /* answer tamperReport with an error */
	int last_event;
	char last_component[64];
	uint8_t last_secret[64];
	size_t last_secret_len;
} fake_party;

static struct {
	char dir[64];
	keypair key_tre, key_client, key_ca, key_mno, key_m2me;
	fx_agency agency;
	fx_party drf, dpf, dpf_b;  /* what the test signs as the DRF and the operators */
	X509 *tre_cert;            /* the TRE's certificate, as the fake agency issued it */
	pid_t pid;
	m2m_node *client_node, *ca_node, *mno_node, *m2me_node;
	fake_party ca, mno;
} w;

/* ---- the fakes ---------------------------------------------------------------------------- */

static void serve_enrol(m2m_node *n, m2m_request *req)
{
	const M2M_ENROL_REQUEST *q = req->env.body;
	w.ca.enrols++;
	w.ca.last_secret_len = (size_t)ASN1_STRING_length(q->authorisation);
	memcpy(w.ca.last_secret, ASN1_STRING_get0_data(q->authorisation), w.ca.last_secret_len);
	cr_assert_eq(ASN1_ENUMERATED_get(q->profile), M2M_PROFILE_TRE);
	cr_assert_not_null(q->platform);
	X509 *cert = fx_issue_tre(&w.agency, ASN1_STRING_get0_data(q->csr), (size_t)ASN1_STRING_length(q->csr),
				  q->platform);
	M2M_ENROL_RESPONSE *r = fx_enrol_response(&w.agency, cert);
	m2m_reply(n, req, M2M_MSG_ENROL_RESPONSE, r);
	M2M_ENROL_RESPONSE_free(r);
	X509_free(w.tre_cert);
	w.tre_cert = cert;
}

/* CRL 1: nothing revoked. */
static void serve_crl(m2m_node *n, m2m_request *req)
{
	size_t len = 0;
	uint8_t *der = fx_crl(&w.agency, 1, NULL, 0, &len);
	M2M_CRL_RESPONSE *r = M2M_CRL_RESPONSE_new();
	ASN1_OCTET_STRING_set(r->crl, der, (int)len);
	w.ca.crl_requests++;
	m2m_reply(n, req, M2M_MSG_CRL_RESPONSE, r);
	M2M_CRL_RESPONSE_free(r);
	OPENSSL_free(der);
}

static void serve_platform(m2m_node *n, m2m_request *req)
{
	const M2M_PLATFORM_TYPE_REQUEST *q = req->env.body;
	char model[64], version[32];
	w.ca.platform_requests++;
	m2m_str(q->model, model, sizeof model);
	m2m_str(q->version, version, sizeof version);
	M2M_SIGNED_OBJECT *so =
		fx_platform_type(&w.agency, model, version, FX_COMPONENTS, w.agency.agency_key, w.agency.agency);
	m2m_reply(n, req, M2M_MSG_PLATFORM_TYPE_RESPONSE, so);
	M2M_SIGNED_OBJECT_free(so);
}

/* Verified as a PVA would: the signature chains to the root and the signer is the TRE. */
static void serve_report(m2m_node *n, m2m_request *req, fake_party *p)
{
	m2m_trust *trust = fx_trust(&w.agency);
	void *value = NULL;
	X509 *signer = NULL;
	cr_assert_eq(m2m_cms_verify_item(trust, req->env.body, ASN1_ITEM_rptr(M2M_TAMPER_REPORT), &value, &signer),
		     M2M_OK);
	char cn[64];
	cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
	cr_assert_str_eq(cn, FX_ENTITY);
	M2M_TAMPER_REPORT *r = value;
	p->reports++;
	p->last_event = (int)ASN1_ENUMERATED_get(r->event);
	m2m_str(r->component, p->last_component, sizeof p->last_component);
	if (p->refuse_acks) {
		p->acks_refused++;
		m2m_refuse(n, req, M2M_R_INTERNAL, "not now");
	} else {
		M2M_TAMPER_ACK *a = M2M_TAMPER_ACK_new();
		ASN1_STRING_set(a->report_id, ASN1_STRING_get0_data(r->report_id), ASN1_STRING_length(r->report_id));
		m2m_reply(n, req, M2M_MSG_TAMPER_ACK, a);
		M2M_TAMPER_ACK_free(a);
	}
	M2M_TAMPER_REPORT_free(r);
	X509_free(signer);
	m2m_trust_free(trust);
}

static void ca_serve(m2m_node *n, m2m_request *req, void *arg)
{
	if (req->env.type == M2M_MSG_ENROL_REQUEST)
		serve_enrol(n, req);
	else if (req->env.type == M2M_MSG_PLATFORM_TYPE_REQUEST)
		serve_platform(n, req);
	else if (req->env.type == M2M_MSG_CRL_REQUEST)
		serve_crl(n, req);
	else if (req->env.type == M2M_MSG_TAMPER_REPORT)
		serve_report(n, req, &w.ca);
	else
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "fake agency");
}

static void mno_serve(m2m_node *n, m2m_request *req, void *arg)
{
	if (req->env.type == M2M_MSG_TAMPER_REPORT)
		serve_report(n, req, &w.mno);
	else
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "fake operator");
}

/* ---- the world ---------------------------------------------------------------------------- */

static void write_text(const char *name, const char *text)
{
	fx_write(w.dir, name, text, strlen(text));
}

static m2m_node *open_node(const char *entity, const char *sock, const keypair *k, m2m_dispatch_cb serve)
{
	m2m_node_conf c = {.timeout_ms = 3000, .retries = 0};
	snprintf(c.entity, sizeof c.entity, "%s", entity);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", k->sec);
	if (sock)
		snprintf(c.bind, sizeof c.bind, "ipc://%s/%s", w.dir, sock);
	char endpoint[128];
	snprintf(endpoint, sizeof endpoint, "ipc://%s/tre.sock", w.dir);
	ta_peer_add(&c, FX_ENTITY, endpoint, w.key_tre.pub);
	return ta_node(&c, NULL, serve, NULL);
}

static void write_config(void)
{
	const char *d = w.dir;
	char components[1024] = "", text[4096];
	for (int i = 0; i < FX_COMPONENTS; i++)
		snprintf(components + strlen(components), sizeof components - strlen(components),
			 "%s{ name = \"%s\"; file = \"%s/%s.bin\"; register = %d; }", i ? ",\n    " : "",
			 fx_component_names[i], d, fx_component_names[i], fx_component_register[i]);
	snprintf(text, sizeof text,
		 "entity = \"" FX_ENTITY "\";\ndatabase = \"%s/tre.db\";\nlog_level = \"debug\";\n"
		 "transport = { bind = \"ipc://%s/tre.sock\"; secret_key_file = \"%s/tre.key\"; timeout_ms = 300;"
		 " retries = 1; };\n"
		 "peers = (\n"
		 "  { id = \"testbed\"; public_key = \"%s\"; },\n"
		 "  { id = \"" FX_M2ME "\"; public_key = \"%s\"; },\n"
		 "  { id = \"" FX_AGENCY "\"; endpoint = \"ipc://%s/ca.sock\"; public_key = \"%s\"; },\n"
		 "  { id = \"" FX_OPERATOR "\"; endpoint = \"ipc://%s/mno.sock\"; public_key = \"%s\"; }\n);\n"
		 "tre = {\n  storage_key_file = \"%s/tre.storage\";\n  agency = \"" FX_AGENCY "\";\n"
		 "  enrolment_secret_file = \"%s/tre.enrol\";\n  root_certificate = \"%s/root.pem\";\n"
		 "  model = \"" FX_MODEL "\"; version = \"" FX_VERSION "\"; assurance_level = %d;\n"
		 "  pva = \"" FX_AGENCY "\";\n  report_to = ( \"" FX_AGENCY "\", \"" FX_OPERATOR "\" );\n"
		 "  tamper_reaction = \"refuse\";\n  components = (\n    %s );\n"
		 "  m2me = \"" FX_M2ME "\"; m2me_id = \"" FX_IMEI "\"; drf = \"" FX_DRF "\";\n"
		 "  pcid_file = \"%s/tre.pcid\";\n};\n",
		 d, d, d, w.key_client.pub, w.key_m2me.pub, d, w.key_ca.pub, d, w.key_mno.pub, d, d, d, FX_LEVEL,
		 components, d);
	write_text("tre.conf", text);
}

static void write_secrets(void)
{
	char line[160];
	snprintf(line, sizeof line, "%s\n", w.key_tre.sec);
	write_text("tre.key", line);
	uint8_t key[32];
	m2m_random(key, sizeof key);
	m2m_hex(key, sizeof key, line);
	write_text("tre.storage", line);
	write_text("tre.enrol", "00112233445566778899aabbccddeeff\n");
	char path[128];
	snprintf(path, sizeof path, "%s/root.pem", w.dir);
	cr_assert_eq(m2m_pki_cert_write_pem(w.agency.root, path), 0);
	tre_pcid pcid;
	fx_pcid(&pcid, time(NULL) + 3600);
	fx_write_pcid(w.dir, "tre.pcid", &pcid);
}

static void setup(void)
{
	m2m_log_init("test", M2M_LOG_ERROR);
	memset(&w, 0, sizeof w);
	fx_tempdir(w.dir);
	keypair *all[] = {&w.key_tre, &w.key_client, &w.key_ca, &w.key_mno, &w.key_m2me};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		cr_assert_eq(zmq_curve_keypair(all[i]->pub, all[i]->sec), 0);
	fx_agency_make(&w.agency);
	fx_party_make(&w.agency, &w.drf, FX_DRF, M2M_PROFILE_REGISTRATION);
	fx_party_make(&w.agency, &w.dpf, FX_OPERATOR, M2M_PROFILE_OPERATOR_FUNCTION);
	fx_party_make(&w.agency, &w.dpf_b, "mno-b", M2M_PROFILE_OPERATOR_FUNCTION);
	fx_write_components(w.dir);
	write_secrets();
	write_config();
	w.client_node = open_node("testbed", NULL, &w.key_client, NULL);
	w.m2me_node = open_node(FX_M2ME, NULL, &w.key_m2me, NULL);
}

static void start_ca(void)
{
	w.ca_node = open_node(FX_AGENCY, "ca.sock", &w.key_ca, ca_serve);
}

static void start_mno(void)
{
	w.mno_node = open_node(FX_OPERATOR, "mno.sock", &w.key_mno, mno_serve);
}

static const char *tre_binary(void)
{
	const char *bin = getenv("TRE_BINARY");
	cr_assert_not_null(bin, "TRE_BINARY is not set (meson test sets it)");
	return bin;
}

static void start_tre(void)
{
	char conf[128], log[128];
	snprintf(conf, sizeof conf, "%s/tre.conf", w.dir);
	snprintf(log, sizeof log, "%s/tre.log", w.dir);
	w.pid = fork();
	cr_assert_neq(w.pid, -1);
	if (w.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(tre_binary(), tre_binary(), "-c", conf, (char *)NULL);
		_exit(127);
	}
}

/* A clean stop is exit status 0: with the sanitizers, also no leak. */
static int stop_tre(void)
{
	int status = 0;
	kill(w.pid, SIGTERM);
	waitpid(w.pid, &status, 0);
	w.pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void teardown(void)
{
	int rc = w.pid ? stop_tre() : 0;
	m2m_node_free(w.client_node);
	m2m_node_free(w.ca_node);
	m2m_node_free(w.mno_node);
	m2m_node_free(w.m2me_node);
	X509_free(w.tre_cert);
	fx_party_free(&w.drf);
	fx_party_free(&w.dpf);
	fx_party_free(&w.dpf_b);
	fx_agency_free(&w.agency);
	if (rc || getenv("TRE_KEEP")) {
		fprintf(stderr, "tre exited with %d: see %s/tre.log\n", rc, w.dir);
		return;
	}
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", w.dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", w.dir);
}

/* ---- calls -------------------------------------------------------------------------------- */

typedef ta_answer answer;

static void poll_all(int ms)
{
	m2m_node_poll(w.client_node, ms);
	m2m_node_poll(w.m2me_node, 0);
	if (w.ca_node)
		m2m_node_poll(w.ca_node, 0);
	if (w.mno_node)
		m2m_node_poll(w.mno_node, 0);
}

static answer call(m2m_node *from, int type, const void *body)
{
	answer a;
	ta_call_start(from, FX_ENTITY, type, body, &a);
	while (!a.done) {
		poll_all(2);
		m2m_node_poll(from, 0);
	}
	return a;
}

static answer control(long action, const char *component, const char *content)
{
	M2M_TRE_CONTROL *c = M2M_TRE_CONTROL_new();
	ASN1_ENUMERATED_set(c->action, action);
	if (component) {
		c->component = ASN1_UTF8STRING_new();
		m2m_set_str(c->component, component);
	}
	if (content) {
		c->content = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(c->content, (const unsigned char *)content, (int)strlen(content));
	}
	answer a = call(w.client_node, M2M_MSG_TRE_CONTROL, c);
	M2M_TRE_CONTROL_free(c);
	return a;
}

static M2M_TRE_STATUS *status_of(answer *a)
{
	cr_assert_eq(a->type, M2M_MSG_TRE_STATUS, "treStatus expected, got type %d (%s)", a->type, a->text);
	return a->body;
}

/* treStatus once cond holds, polling the TRE (and the fakes) for up to 10 s. */
static M2M_TRE_STATUS *wait_status(int (*cond)(const M2M_TRE_STATUS *), const char *what)
{
	for (int i = 0; i < 1000; i++) {
		answer a = control(M2M_TRE_CTL_STATUS, NULL, NULL);
		M2M_TRE_STATUS *s = status_of(&a);
		if (cond(s))
			return s;
		M2M_TRE_STATUS_free(s);
		for (int k = 0; k < 5; k++)
			poll_all(2);
	}
	cr_assert_fail("the TRE never got to: %s (see %s/tre.log)", what, w.dir);
	return NULL;
}

static int booted(const M2M_TRE_STATUS *s)
{
	return s->booted != 0;
}

static int no_pending(const M2M_TRE_STATUS *s)
{
	return s->pending_reports == 0;
}

static int flag(const M2M_TRE_STATUS *s, int bit)
{
	return ASN1_BIT_STRING_get_bit(s->tamper, bit);
}

static void start_provisioned(void)
{
	start_ca();
	start_tre();
	M2M_TRE_STATUS_free(wait_status(booted, "booted"));
}

/* ---- enrolment and boot ------------------------------------------------------------------- */

TestSuite(daemon, .init = setup, .fini = teardown, .timeout = 60);

Test(daemon, enrols_fetches_references_and_boots)
{
	start_provisioned();
	answer a = control(M2M_TRE_CTL_STATUS, NULL, NULL);
	M2M_TRE_STATUS *s = status_of(&a);
	char name[64];
	m2m_str(s->tre, name, sizeof name);
	cr_assert_str_eq(name, FX_ENTITY);
	cr_assert(s->secure_boot_ok);
	cr_assert_eq(flag(s, M2M_TAMPER_CASE_OPENED) | flag(s, M2M_TAMPER_COMPONENT_MODIFIED), 0);
	cr_assert_eq(s->pending_reports, 0);
	M2M_TRE_STATUS_free(s);
	cr_assert_eq(w.ca.enrols, 1);
	cr_assert_eq(w.ca.platform_requests, 1);
	uint8_t secret[16];
	m2m_unhex("00112233445566778899aabbccddeeff", secret, 16);
	cr_assert_eq(w.ca.last_secret_len, 16);
	cr_assert_arr_eq(w.ca.last_secret, secret, 16, "the enrolment secret of the configuration");
	/* a restart keeps the certificate and the reference values: nothing is asked again */
	cr_assert_eq(stop_tre(), 0);
	start_tre();
	M2M_TRE_STATUS_free(wait_status(booted, "booted again"));
	cr_assert_eq(w.ca.enrols, 1);
	cr_assert_eq(w.ca.platform_requests, 1);
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

Test(daemon, answers_health_while_the_agency_is_away)
{
	start_tre();
	ASN1_NULL *nothing = ASN1_NULL_new();
	answer a = call(w.client_node, M2M_MSG_HEALTH_REQUEST, nothing);
	ASN1_NULL_free(nothing);
	cr_assert_eq(a.type, M2M_MSG_HEALTH_RESPONSE);
	a = control(M2M_TRE_CTL_STATUS, NULL, NULL);
	M2M_TRE_STATUS *s = status_of(&a);
	cr_assert_not(s->booted, "no reference values: no boot yet");
	M2M_TRE_STATUS_free(s);
	a = control(M2M_TRE_CTL_BOOT, NULL, NULL);
	cr_assert_eq(a.reason, M2M_R_WRONG_STATE);
	/* the agency comes up: the TRE's repeated requests get through */
	start_ca();
	M2M_TRE_STATUS_free(wait_status(booted, "booted once the agency answered"));
	cr_assert_geq(w.ca.enrols, 1, "requests queued while it was away may arrive too");
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

/* ---- attestation -------------------------------------------------------------------------- */

static answer challenge(m2m_node *from, const uint8_t *nonce, int nonce_len, long mode)
{
	M2M_ATTESTATION_CHALLENGE *c = M2M_ATTESTATION_CHALLENGE_new();
	ASN1_OCTET_STRING_set(c->nonce, nonce, nonce_len);
	ASN1_ENUMERATED_set(c->mode, mode);
	answer a = call(from, M2M_MSG_ATTESTATION_CHALLENGE, c);
	M2M_ATTESTATION_CHALLENGE_free(c);
	return a;
}

Test(daemon, signed_evidence_in_each_mode)
{
	start_provisioned();
	for (long mode = M2M_MODE_AUTONOMOUS; mode <= M2M_MODE_REMOTE; mode++) {
		uint8_t nonce[32];
		m2m_random(nonce, sizeof nonce);
		answer a = challenge(w.ca_node, nonce, 32, mode);
		cr_assert_eq(a.type, M2M_MSG_ATTESTATION_EVIDENCE, "mode %ld: %s", mode, a.text);
		m2m_trust *trust = fx_trust(&w.agency);
		void *value = NULL;
		X509 *signer = NULL;
		cr_assert_eq(m2m_cms_verify_item(trust, a.body, ASN1_ITEM_rptr(M2M_EVIDENCE), &value, &signer), M2M_OK);
		M2M_EVIDENCE *e = value;
		char cn[64];
		cr_assert_eq(m2m_pki_cert_cn(signer, cn, sizeof cn), 0);
		cr_assert_str_eq(cn, FX_ENTITY);
		cr_assert_arr_eq(ASN1_STRING_get0_data(e->nonce), nonce, 32);
		cr_assert_eq(ASN1_ENUMERATED_get(e->mode), mode);
		cr_assert(e->secure_boot);
		cr_assert_eq(e->verdicts != NULL, mode == M2M_MODE_SEMI_AUTONOMOUS);
		cr_assert_eq(e->quote != NULL, mode == M2M_MODE_REMOTE);
		M2M_EVIDENCE_free(e);
		X509_free(signer);
		m2m_trust_free(trust);
		M2M_SIGNED_OBJECT_free(a.body);
	}
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

Test(daemon, challenges_refused_precisely)
{
	start_provisioned();
	uint8_t nonce[32] = {1};
	answer a = challenge(w.client_node, nonce, 32, M2M_MODE_REMOTE);
	cr_assert_eq(a.reason, M2M_R_NOT_AUTHORISED, "%s", a.text);
	a = challenge(w.ca_node, nonce, 31, M2M_MODE_REMOTE);
	cr_assert_eq(a.reason, M2M_R_BAD_BODY, "%s", a.text);
	cr_assert(strstr(a.text, "nonce"), "%s", a.text);
	a = challenge(w.ca_node, nonce, 32, 3);
	cr_assert_eq(a.reason, M2M_R_BAD_BODY, "%s", a.text);
	cr_assert(strstr(a.text, "mode"), "%s", a.text);
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

/* ---- treControl and tamper ---------------------------------------------------------------- */

Test(daemon, control_refused_precisely)
{
	start_provisioned();
	answer a = control(M2M_TRE_CTL_MODIFY_COMPONENT, "os", NULL);
	cr_assert_eq(a.reason, M2M_R_BAD_BODY, "%s", a.text);
	a = control(M2M_TRE_CTL_MODIFY_COMPONENT, "bios", "x");
	cr_assert_eq(a.reason, M2M_R_NOT_FOUND, "%s", a.text);
	a = control(M2M_TRE_CTL_BOOT, "os", NULL);
	cr_assert_eq(a.reason, M2M_R_BAD_BODY, "%s", a.text);
	a = control(9, NULL, NULL);
	cr_assert_eq(a.reason, M2M_R_BAD_BODY, "%s", a.text);
	M2M_TRE_CONTROL *c = M2M_TRE_CONTROL_new();
	ASN1_ENUMERATED_set(c->action, M2M_TRE_CTL_OPEN_CASE);
	a = call(w.ca_node, M2M_MSG_TRE_CONTROL, c);
	M2M_TRE_CONTROL_free(c);
	cr_assert_eq(a.reason, M2M_R_NOT_AUTHORISED, "%s", a.text);
	/* none of them changed anything */
	size_t n = 0;
	char path[128];
	snprintf(path, sizeof path, "%s/os.bin", w.dir);
	uint8_t *os = (uint8_t *)ta_read(path, &n);
	cr_assert_eq(n, strlen(fx_component_content[2]));
	free(os);
	a = control(M2M_TRE_CTL_STATUS, NULL, NULL);
	M2M_TRE_STATUS *s = status_of(&a);
	cr_assert_eq(flag(s, M2M_TAMPER_CASE_OPENED), 0);
	M2M_TRE_STATUS_free(s);
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

Test(daemon, modified_component_reported_until_acknowledged)
{
	start_provisioned();
	answer a = control(M2M_TRE_CTL_MODIFY_COMPONENT, "os", "os with a rootkit");
	M2M_TRE_STATUS *s = status_of(&a);
	cr_assert(s->secure_boot_ok, "measured at the next boot only");
	M2M_TRE_STATUS_free(s);
	a = control(M2M_TRE_CTL_BOOT, NULL, NULL);
	s = status_of(&a);
	cr_assert_not(s->secure_boot_ok);
	cr_assert(flag(s, M2M_TAMPER_COMPONENT_MODIFIED));
	cr_assert_eq(s->pending_reports, 1);
	M2M_TRE_STATUS_free(s);
	/* the agency acknowledges; the operator is not there: the report stays pending */
	for (int i = 0; i < 200 && !w.ca.reports; i++)
		poll_all(5);
	cr_assert_eq(w.ca.reports, 1);
	cr_assert_eq(w.ca.last_event, M2M_TAMPER_COMPONENT_MODIFIED);
	cr_assert_str_eq(w.ca.last_component, "os");
	a = control(M2M_TRE_CTL_STATUS, NULL, NULL);
	s = status_of(&a);
	cr_assert_eq(s->pending_reports, 1);
	M2M_TRE_STATUS_free(s);
	/* it survives a restart, and reaches the operator once it is up */
	cr_assert_eq(stop_tre(), 0);
	start_tre();
	start_mno();
	M2M_TRE_STATUS_free(wait_status(no_pending, "every report acknowledged"));
	cr_assert_geq(w.mno.reports, 1);
	cr_assert_eq(w.ca.reports, 1, "the agency acknowledged it once: it is not sent again");
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

static int refused_twice(const M2M_TRE_STATUS *s)
{
	return w.mno.acks_refused >= 2;
}

Test(daemon, open_case_reported_and_retried_after_a_refusal)
{
	start_provisioned();
	start_mno();
	w.mno.refuse_acks = 1;
	answer a = control(M2M_TRE_CTL_OPEN_CASE, NULL, NULL);
	M2M_TRE_STATUS *s = status_of(&a);
	cr_assert(flag(s, M2M_TAMPER_CASE_OPENED));
	cr_assert(s->secure_boot_ok, "the boot itself was fine");
	M2M_TRE_STATUS_free(s);
	/* a refusal is retried no sooner than TRE_RETRY_SECONDS, at the next event */
	M2M_TRE_STATUS_free(wait_status(refused_twice, "a second attempt after a refusal"));
	cr_assert_eq(w.mno.last_event, M2M_TAMPER_CASE_OPENED);
	w.mno.refuse_acks = 0;
	M2M_TRE_STATUS_free(wait_status(no_pending, "every report acknowledged"));
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

/* ---- Alternative 1a: the M2ME's requests and the owner's commands ------------------------- */

static answer credential_of(m2m_node *from)
{
	ASN1_NULL *nothing = ASN1_NULL_new();
	answer a = call(from, M2M_MSG_TRE_CREDENTIAL_REQUEST, nothing);
	ASN1_NULL_free(nothing);
	return a;
}

static long credential_kind(void)
{
	answer a = credential_of(w.m2me_node);
	cr_assert_eq(a.type, M2M_MSG_TRE_CREDENTIAL, "treCredential expected (%s)", a.text);
	long kind = ASN1_ENUMERATED_get(((M2M_TRE_CREDENTIAL *)a.body)->kind);
	M2M_TRE_CREDENTIAL_free(a.body);
	return kind;
}

static answer aka(const char *imsi, const m2m_aka_av *av)
{
	M2M_TRE_AKA_REQUEST *q = M2M_TRE_AKA_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->rand, av->rand, 16);
	ASN1_OCTET_STRING_set(q->autn, av->autn, 16);
	answer a = call(w.m2me_node, M2M_MSG_TRE_AKA_REQUEST, q);
	M2M_TRE_AKA_REQUEST_free(q);
	return a;
}

Test(daemon, pcid_imported_released_to_its_m2me_only_and_used_for_aka)
{
	start_provisioned();
	char path[128];
	snprintf(path, sizeof path, "%s/tre.pcid", w.dir);
	cr_assert_neq(access(path, F_OK), 0, "the PCID file is imported and deleted at start");
	cr_assert_eq(credential_kind(), M2M_CREDENTIAL_PCID);
	answer a = credential_of(w.client_node);
	cr_assert_eq(a.reason, M2M_R_NOT_AUTHORISED, "%s", a.text);
	m2m_aka_av av = fx_vector(fx_pcid_k, fx_pcid_opc, UINT64_C(1) << M2M_SQN_IND_BITS_DEFAULT);
	a = aka(FX_PCID, &av);
	cr_assert_eq(a.type, M2M_MSG_TRE_AKA_RESPONSE, "%s", a.text);
	M2M_TRE_AKA_RESPONSE *r = a.body;
	cr_assert_arr_eq(ASN1_STRING_get0_data(r->res), av.xres, 8);
	M2M_TRE_AKA_RESPONSE_free(r);
	m2m_aka_av forged = fx_vector(fx_mcim_k, fx_mcim_opc, UINT64_C(2) << M2M_SQN_IND_BITS_DEFAULT);
	a = aka(FX_PCID, &forged);
	cr_assert_eq(a.reason, M2M_R_MAC_FAILURE, "%s", a.text);
	/* every attach is reported: answered with the credential to use (no switch under way) */
	M2M_TRE_ATTACHED *report = M2M_TRE_ATTACHED_new();
	m2m_set_digits(&report->imsi, FX_PCID);
	ASN1_ENUMERATED_set(report->result, M2M_ATTACH_OK);
	a = call(w.client_node, M2M_MSG_TRE_ATTACHED, report);
	cr_assert_eq(a.reason, M2M_R_NOT_AUTHORISED, "only its M2ME reports attaches (%s)", a.text);
	a = call(w.m2me_node, M2M_MSG_TRE_ATTACHED, report);
	M2M_TRE_ATTACHED_free(report);
	cr_assert_eq(a.type, M2M_MSG_TRE_CREDENTIAL, "treCredential expected (%s)", a.text);
	cr_assert_eq(ASN1_ENUMERATED_get(((M2M_TRE_CREDENTIAL *)a.body)->kind), M2M_CREDENTIAL_PCID);
	M2M_TRE_CREDENTIAL_free(a.body);
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

static answer provision(M2M_RELAY_RESPONSE *relayed)
{
	M2M_TRE_PROVISION *q = M2M_TRE_PROVISION_new();
	q->answer = relayed;
	answer a = call(w.m2me_node, M2M_MSG_TRE_PROVISION, q);
	M2M_TRE_PROVISION_free(q);
	cr_assert_eq(a.type, M2M_MSG_TRE_PROVISION_NEXT, "treProvisionNext expected (%s)", a.text);
	return a;
}

/* The step of a treProvisionNext: its signed body checked (the TRE signed it), decoded. */
static void *step_value(answer *a, int state, const char *destination, const ASN1_ITEM *item)
{
	M2M_TRE_PROVISION_NEXT *n = a->body;
	cr_assert_eq(ASN1_ENUMERATED_get(n->state), state);
	char d[64];
	cr_assert_eq(m2m_str(n->step->destination, d, sizeof d), 0);
	cr_assert_str_eq(d, destination);
	const unsigned char *p = n->step->body->data;
	M2M_SIGNED_OBJECT *so = d2i_M2M_SIGNED_OBJECT(NULL, &p, n->step->body->length);
	void *value = fx_verify(&w.agency, so, item, FX_ENTITY);
	M2M_SIGNED_OBJECT_free(so);
	M2M_TRE_PROVISION_NEXT_free(n);
	return value;
}

static answer command(const fx_party *signer, const uint8_t id[16], const char *owner, int action,
		      const uint8_t nonce[16])
{
	M2M_SIGNED_OBJECT *so = fx_signed_command(&w.agency, signer, id, owner, FX_ENTITY, action, nonce, NULL);
	answer a = call(w.mno_node, M2M_MSG_MCIM_COMMAND, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

Test(daemon, provisions_an_mcim_and_obeys_its_owner)
{
	static const uint8_t id[16] = {0x4d, 0x43, 0x49, 0x4d, 42};
	start_provisioned();
	start_mno();
	answer a = provision(NULL);
	cr_assert_eq(w.ca.crl_requests, 1, "the agency's CRL is fetched first");
	M2M_DISCOVERY_REQUEST *d = step_value(&a, M2M_PROV_DISCOVERING, FX_DRF, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST));
	uint8_t nonce[32], nonce2[32];
	memcpy(nonce, ASN1_STRING_get0_data(d->nonce), 32);
	M2M_DISCOVERY_REQUEST_free(d);
	a = provision(fx_relayed_ticket(&w.agency, &w.drf, FX_ENTITY, FX_OPERATOR, nonce, 600));
	M2M_MCIM_ORDER *o = step_value(&a, M2M_PROV_ORDERING, FX_OPERATOR, ASN1_ITEM_rptr(M2M_MCIM_ORDER));
	memcpy(nonce2, ASN1_STRING_get0_data(o->nonce), 32);
	M2M_MCIM_ORDER_free(o);
	a = provision(fx_relayed_package(&w.agency, &w.dpf, id, FX_OPERATOR, nonce2, 160, w.tre_cert));
	M2M_INSTALL_RESULT *ir = step_value(&a, M2M_PROV_CONFIRMING, FX_OPERATOR, ASN1_ITEM_rptr(M2M_INSTALL_RESULT));
	cr_assert_eq(ASN1_ENUMERATED_get(ir->status), M2M_INSTALLED);
	M2M_INSTALL_RESULT_free(ir);
	a = provision(fx_relayed_ack(id));
	cr_assert_eq(ASN1_ENUMERATED_get(((M2M_TRE_PROVISION_NEXT *)a.body)->state), M2M_PROV_DONE);
	M2M_TRE_PROVISION_NEXT_free(a.body);
	cr_assert_eq(credential_kind(), M2M_CREDENTIAL_MCIM);
	/* its owner deactivates it: a receipt signed by the TRE; the nonce is single use */
	uint8_t nonce3[16];
	m2m_random(nonce3, sizeof nonce3);
	a = command(&w.dpf, id, FX_OPERATOR, M2M_MCIM_DEACTIVATE, nonce3);
	cr_assert_eq(a.type, M2M_MSG_MCIM_RECEIPT, "%s", a.text);
	M2M_MCIM_RECEIPT *r = fx_verify(&w.agency, a.body, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), FX_ENTITY);
	cr_assert_eq(ASN1_ENUMERATED_get(r->state), M2M_MCIM_INACTIVE);
	M2M_MCIM_RECEIPT_free(r);
	M2M_SIGNED_OBJECT_free(a.body);
	a = command(&w.dpf, id, FX_OPERATOR, M2M_MCIM_ACTIVATE, nonce3);
	cr_assert_eq(a.reason, M2M_R_NONCE_REPLAYED, "%s", a.text);
	m2m_random(nonce3, sizeof nonce3);
	a = command(&w.dpf_b, id, "mno-b", M2M_MCIM_ACTIVATE, nonce3);
	cr_assert_eq(a.reason, M2M_R_NOT_OWNER, "%s", a.text);
	cr_assert_eq(credential_kind(), M2M_CREDENTIAL_PCID, "the MCIM stays inactive");
	/* the procedure's state survives a restart */
	cr_assert_eq(stop_tre(), 0);
	start_tre();
	a = provision(NULL);
	cr_assert_eq(ASN1_ENUMERATED_get(((M2M_TRE_PROVISION_NEXT *)a.body)->state), M2M_PROV_DONE);
	M2M_TRE_PROVISION_NEXT_free(a.body);
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

/* ---- the DRF's treTrigger of Alternative 3b (test_trigger.c drives the engine) -------------- */

static answer trigger(const uint8_t change_id[16], const uint8_t nonce[16])
{
	M2M_TRE_ACTIVATE *v = M2M_TRE_ACTIVATE_new();
	ASN1_OCTET_STRING_set(v->change_id, change_id, 16);
	m2m_set_str(v->tre, FX_ENTITY);
	m2m_set_str(v->drf, FX_DRF);
	ASN1_OCTET_STRING_set(v->nonce, nonce, 16);
	ASN1_GENERALIZEDTIME_set(v->issued_at, time(NULL));
	M2M_TRE_TRIGGER *q = M2M_TRE_TRIGGER_new();
	m2m_set_digits(&q->imsi, FX_MCIM_IMSI);
	M2M_SIGNED_OBJECT_free(q->trigger);
	q->trigger = fx_sign(&w.agency, &w.drf, ASN1_ITEM_rptr(M2M_TRE_ACTIVATE), v);
	M2M_TRE_ACTIVATE_free(v);
	answer a = call(w.m2me_node, M2M_MSG_TRE_TRIGGER, q);
	M2M_TRE_TRIGGER_free(q);
	return a;
}

Test(daemon, a_drf_trigger_is_acknowledged_once)
{
	static const uint8_t change_id[16] = {0xC4, 0xA2, 0x3B, 7};
	uint8_t nonce[16];
	m2m_random(nonce, sizeof nonce);
	start_provisioned();
	answer a = trigger(change_id, nonce);
	cr_assert_eq(a.type, M2M_MSG_TRE_TRIGGER_ACK, "%s", a.text);
	cr_assert_eq(w.ca.crl_requests, 1, "the agency's CRL is fetched first");
	const M2M_CHANGE_ACK *ack = a.body;
	cr_assert_arr_eq(ASN1_STRING_get0_data(ack->change_id), change_id, 16);
	ta_answer_free(&a);
	/* the nonce is spent, also across a restart */
	cr_assert_eq(stop_tre(), 0);
	start_tre();
	a = trigger(change_id, nonce);
	cr_assert_eq(a.reason, M2M_R_REPLAYED, "%s", a.text);
	cr_assert_eq(stop_tre(), 0, "a clean stop: exit status 0, no leak (see %s/tre.log)", w.dir);
}

/* ---- configuration ------------------------------------------------------------------------ */

static int check_config(const char *find, const char *replace)
{
	size_t len = 0;
	char path[128], cmd[512];
	snprintf(path, sizeof path, "%s/tre.conf", w.dir);
	char *text = ta_read(path, &len);
	text[len] = 0;
	char *at = strstr(text, find);
	cr_assert_not_null(at, "%s is not in the configuration", find);
	char edited[8192];
	snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, replace, at + strlen(find));
	free(text);
	write_text("check.conf", edited);
	snprintf(cmd, sizeof cmd, "%s -c %s/check.conf --check-config >>%s/check.log 2>&1", tre_binary(), w.dir, w.dir);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(daemon, configuration_checked)
{
	cr_assert_eq(check_config("tamper_reaction", "tamper_reaction"), 0);
	cr_assert_eq(check_config("register = 1", "register = 8"), 2);
	cr_assert_eq(check_config("\"refuse\"", "\"explode\""), 2);
	cr_assert_eq(check_config("pva = \"" FX_AGENCY "\"", "pva = \"nobody\""), 2);
	cr_assert_eq(check_config("report_to = ( \"" FX_AGENCY "\"", "report_to = ( \"testbed\""), 2, "no endpoint");
	cr_assert_eq(check_config("assurance_level = 4", "assurance_level = 8"), 2);
	cr_assert_eq(check_config("name = \"tre-code\"", "name = \"boot-rom\""), 2, "a name twice");
	cr_assert_eq(check_config("tre.enrol", "tre.absent"), 2);
	cr_assert_eq(check_config("root.pem", "tre.conf"), 2, "not a certificate");
	cr_assert_eq(check_config("model =", "modle ="), 2, "misspelt");
	cr_assert_eq(check_config("m2me_id = \"" FX_IMEI "\"", "m2me_id = \"35693803564380\""), 2, "14 digits");
	cr_assert_eq(check_config("m2me = \"" FX_M2ME "\"", "m2me = \"nobody\""), 2, "not a peer");
	cr_assert_eq(check_config("tamper_reaction", "trigger_window = 60; tamper_reaction"), 0);
	cr_assert_eq(check_config("tamper_reaction", "trigger_window = 5; tamper_reaction"), 2, "a window under 10 s");
	fx_write(w.dir, "tre.pcid", "pcid = 00109\n", 13);
	cr_assert_eq(check_config("tamper_reaction", "tamper_reaction"), 2, "a malformed PCID file");
	char path[128];
	snprintf(path, sizeof path, "%s/tre.pcid", w.dir);
	cr_assert_eq(remove(path), 0);
	cr_assert_eq(check_config("tamper_reaction", "tamper_reaction"), 0, "no PCID file: imported already");
}
