/*
 * The PVA's procedures through its real dispatch (pva_serve) on real nodes in one process: a
 * relying party (mno-a), a peer that is not one (mno-x), and a TRE (tre-1) answering challenges
 * with evidence signed under the test agency, over ipc:// with CurveZMQ. No daemon runs: the
 * agency is the test's (test_pva_common.c). What the testbed's scenarios do not reach is here:
 * a TRE that never answers, refusals of bad requests, duplicate tamper reports, status.
 */
#include "test_pva_common.h"
#include "daemon/test_agency.h"
#include "pki/verdict.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

enum { PVA, RP, OTHER, TRE, PARTIES };
static const char *const ids[PARTIES] = {"certauth", "mno-a", "mno-x", "tre-1"};

typedef struct fixture {
	char dir[64];
	char pub[PARTIES][M2M_KEY_Z85], sec[PARTIES][M2M_KEY_Z85];
	m2m_node *node[PARTIES];
	pva_context *p;
	/* what the TRE does */
	int silent;        /* defers the challenge for ever: the PVA's call times out */
	int opened;        /* its case was opened: the tamper flag is set */
	int replay;        /* answers every challenge with the evidence of its first one */
	M2M_SIGNED_OBJECT *first;  /* that evidence */
	int challenges;
} fixture;

static fixture fx;

static void add_peer(m2m_node_conf *c, int who, int callable)
{
	char endpoint[128];
	snprintf(endpoint, sizeof endpoint, "ipc://%s/%s.sock", fx.dir, ids[who]);
	ta_peer_add(c, ids[who], callable ? endpoint : NULL, fx.pub[who]);
}

static void conf_of(int who, int serves, int timeout_ms, m2m_node_conf *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->entity, sizeof c->entity, "%s", ids[who]);
	if (serves)
		snprintf(c->bind, sizeof c->bind, "ipc://%s/%s.sock", fx.dir, ids[who]);
	snprintf(c->secret_key, sizeof c->secret_key, "%s", fx.sec[who]);
	c->timeout_ms = timeout_ms;
}

/* ---- the TRE ------------------------------------------------------------------------------------ */

static void tre_serve(m2m_node *n, m2m_request *req, void *arg)
{
	const M2M_ATTESTATION_CHALLENGE *ch = req->env.body;
	pva_evidence e;
	if (req->env.type != M2M_MSG_ATTESTATION_CHALLENGE) {
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "a TRE is challenged");
		return;
	}
	fx.challenges++;
	if (fx.silent) {
		m2m_defer(n, req);  /* freed with the node */
		return;
	}
	test_good_evidence("tre-1", ASN1_STRING_get0_data(ch->nonce), (m2m_validation_mode)ASN1_ENUMERATED_get(ch->mode),
			   &e);
	if (fx.opened)
		e.tamper = PVA_TAMPER_BIT(M2M_TAMPER_CASE_OPENED);
	M2M_SIGNED_OBJECT *so = test_sign_evidence(&e, SIGNER_TRE1);
	if (fx.replay && !fx.first)
		fx.first = ASN1_item_dup(ASN1_ITEM_rptr(M2M_SIGNED_OBJECT), so);
	m2m_reply(n, req, M2M_MSG_ATTESTATION_EVIDENCE, fx.replay ? fx.first : so);
	M2M_SIGNED_OBJECT_free(so);
}

/* ---- set-up ------------------------------------------------------------------------------------- */

static int64_t test_clock(void)
{
	return (int64_t)time(NULL);
}

static void pva_node_serve(m2m_node *n, m2m_request *req, void *arg)
{
	pva_serve(arg, req);
}

static void start_pva(void)
{
	m2m_node_conf c;
	conf_of(PVA, 1, 300, &c);  /* the TRE's silence times out before the relying party's call */
	add_peer(&c, RP, 0);
	add_peer(&c, OTHER, 0);
	add_peer(&c, TRE, 1);
	pva_context *p = fx.p = calloc(1, sizeof *fx.p);
	p->db = test_open_db();
	p->settings.restricted = 1;
	p->settings.nrelying = 1;
	snprintf(p->settings.relying[0], sizeof p->settings.relying[0], "mno-a");
	p->settings.verdict_validity_s = 600;
	p->settings.nonce_lifetime_s = 60;
	p->agency = ta.agency;
	p->now = test_clock;
	p->node = fx.node[PVA] = ta_node(&c, p->db, pva_node_serve, p);
}

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	test_agency_init();
	snprintf(fx.dir, sizeof fx.dir, "/tmp/pvaprocXXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	for (int i = 0; i < PARTIES; i++)
		cr_assert_eq(zmq_curve_keypair(fx.pub[i], fx.sec[i]), 0);
	start_pva();
	m2m_node_conf c;
	conf_of(TRE, 1, 2000, &c);
	add_peer(&c, PVA, 1);
	fx.node[TRE] = ta_node(&c, NULL, tre_serve, NULL);
	for (int who = RP; who <= OTHER; who++) {
		conf_of(who, 0, 3000, &c);
		add_peer(&c, PVA, 1);
		fx.node[who] = ta_node(&c, NULL, NULL, NULL);
	}
}

static void teardown(void)
{
	for (int i = PARTIES - 1; i >= 0; i--)
		m2m_node_free(fx.node[i]);
	if (fx.p) {
		pva_pending_free_all(fx.p);
		m2m_store_close(fx.p->db);
		free(fx.p);
	}
	M2M_SIGNED_OBJECT_free(fx.first);
	test_agency_free();
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(procedure, .init = setup, .fini = teardown, .timeout = 60);

/* ---- a party's call and its answer ------------------------------------------------------------- */

typedef struct answer {
	int done;
	int type;            /* -1 when none came */
	m2m_reason reason;   /* an ErrorReport's, or the transport's */
	uint8_t cms[8192];   /* validationResponse */
	size_t cms_len;
	uint8_t report_id[PVA_REPORT_ID_LEN];  /* tamperAck */
	int status;          /* validationStatus.result */
	int status_times;    /* both times present */
} answer;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void keep_body(answer *a, const m2m_envelope *resp)
{
	if (a->type == M2M_MSG_VALIDATION_RESPONSE) {
		const ASN1_OCTET_STRING *cms = ((const M2M_SIGNED_OBJECT *)resp->body)->cms;
		a->cms_len = (size_t)ASN1_STRING_length(cms);
		cr_assert_leq(a->cms_len, sizeof a->cms);
		memcpy(a->cms, ASN1_STRING_get0_data(cms), a->cms_len);
	} else if (a->type == M2M_MSG_TAMPER_ACK) {
		cr_assert_eq(m2m_read_octets(((const M2M_TAMPER_ACK *)resp->body)->report_id, a->report_id,
					     PVA_REPORT_ID_LEN), 0);
	} else if (a->type == M2M_MSG_VALIDATION_STATUS) {
		const M2M_VALIDATION_STATUS *s = resp->body;
		a->status = (int)ASN1_ENUMERATED_get(s->result);
		a->status_times = s->validated_at && s->valid_until;
	}
}

static void on_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	answer *a = arg;
	a->done = 1;
	a->type = resp ? resp->type : -1;
	a->reason = reason;
	if (a->type == M2M_MSG_ERROR)
		a->reason = (m2m_reason)ASN1_ENUMERATED_get(((const M2M_ERROR_REPORT *)resp->body)->reason);
	else if (resp)
		keep_body(a, resp);
}

/* from sends a request to the PVA and every node runs until it is answered. */
static answer ask(int from, int type, const void *body)
{
	answer *a = calloc(1, sizeof *a);
	a->type = -1;
	cr_assert_eq(m2m_call(fx.node[from], "certauth", type, body, on_answer, a), 0);
	for (int64_t end = now_ms() + 10000; !a->done && now_ms() < end;)
		for (int i = 0; i < PARTIES; i++)
			m2m_node_poll(fx.node[i], i == PARTIES - 1 ? 2 : 0);
	cr_assert(a->done, "%s got no answer", ids[from]);
	answer copy = *a;
	free(a);
	return copy;
}

static void expect_refused(const answer *a, m2m_reason want, const char *what)
{
	cr_assert_eq(a->type, M2M_MSG_ERROR, "%s: answered %d, not an error", what, a->type);
	cr_assert_eq(a->reason, want, "%s: refused %s, expected %s", what, m2m_reason_name(a->reason),
		     m2m_reason_name(want));
}

static answer validate(int from, const char *tre, m2m_validation_mode mode, int min_assurance)
{
	M2M_VALIDATION_REQUEST *q = M2M_VALIDATION_REQUEST_new();
	m2m_set_str(q->tre, tre);
	ASN1_ENUMERATED_set(q->mode, mode);
	q->min_assurance = (uint64_t)min_assurance;
	answer a = ask(from, M2M_MSG_VALIDATION_REQUEST, q);
	M2M_VALIDATION_REQUEST_free(q);
	return a;
}

static answer status(int from, const char *tre)
{
	M2M_VALIDATION_STATUS_REQUEST *q = M2M_VALIDATION_STATUS_REQUEST_new();
	m2m_set_str(q->tre, tre);
	answer a = ask(from, M2M_MSG_VALIDATION_STATUS_REQUEST, q);
	M2M_VALIDATION_STATUS_REQUEST_free(q);
	return a;
}

static answer tamper(const uint8_t id[PVA_REPORT_ID_LEN], const char *tre, test_signer who)
{
	M2M_SIGNED_OBJECT *so = test_sign_tamper(id, tre, who);
	answer a = ask(TRE, M2M_MSG_TAMPER_REPORT, so);
	M2M_SIGNED_OBJECT_free(so);
	return a;
}

static int count_rows(const char *sql)
{
	sqlite3_stmt *st = NULL;
	cr_assert_eq(sqlite3_prepare_v2(fx.p->db, sql, -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* ---- validation ------------------------------------------------------------------------------------ */

Test(procedure, each_mode_gives_a_signed_ok_for_the_relying_party)
{
	for (int mode = M2M_MODE_AUTONOMOUS; mode <= M2M_MODE_REMOTE; mode++) {
		answer a = validate(RP, "tre-1", (m2m_validation_mode)mode, 2);
		cr_assert_eq(a.type, M2M_MSG_VALIDATION_RESPONSE, "mode %d: %s", mode, m2m_reason_name(a.reason));
		m2m_verdict_info info;
		cr_assert_eq(m2m_verdict_check(ta.ctx.trust, a.cms, a.cms_len, "tre-1", "mno-a", time(NULL), &info), M2M_OK);
		cr_expect_eq(info.result, M2M_VERDICT_OK);
		cr_expect_eq((int)info.mode, mode);
		cr_expect_eq(info.nreasons, 0);
		cr_expect_eq(info.valid_until - info.validated_at, 600);
	}
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_challenge WHERE state = 'used' AND result = 'ok'"), 3);
	answer s = status(RP, "tre-1");
	cr_assert_eq(s.type, M2M_MSG_VALIDATION_STATUS);
	cr_expect_eq(s.status, M2M_VERDICT_OK);
	cr_expect(s.status_times);
}

Test(procedure, a_failing_platform_is_a_signed_fail_not_a_refusal)
{
	fx.opened = 1;
	answer a = validate(RP, "tre-1", M2M_MODE_REMOTE, 2);
	cr_assert_eq(a.type, M2M_MSG_VALIDATION_RESPONSE);
	m2m_verdict_info info;
	cr_assert_eq(m2m_verdict_check(ta.ctx.trust, a.cms, a.cms_len, "tre-1", "mno-a", time(NULL), &info), M2M_OK);
	cr_expect_eq(info.result, M2M_VERDICT_FAIL);
	cr_assert_eq(info.nreasons, 1);
	cr_expect_eq(info.reasons[0], M2M_R_TAMPER_DETECTED);
	cr_expect_eq(status(RP, "tre-1").status, M2M_VERDICT_FAIL);
}

/* An attacker holding a TRE's earlier evidence (or a TRE that cannot produce fresh evidence any
 * more) answers a new challenge with it: signed, valid, and stale. */
Test(procedure, replayed_evidence_is_a_signed_fail)
{
	fx.replay = 1;
	answer first = validate(RP, "tre-1", M2M_MODE_REMOTE, 2);
	answer again = validate(RP, "tre-1", M2M_MODE_REMOTE, 2);
	m2m_verdict_info info;
	cr_assert_eq(m2m_verdict_check(ta.ctx.trust, first.cms, first.cms_len, "tre-1", "mno-a", time(NULL), &info), M2M_OK);
	cr_expect_eq(info.result, M2M_VERDICT_OK);
	cr_assert_eq(m2m_verdict_check(ta.ctx.trust, again.cms, again.cms_len, "tre-1", "mno-a", time(NULL), &info), M2M_OK);
	cr_expect_eq(info.result, M2M_VERDICT_FAIL);
	cr_assert_eq(info.nreasons, 1);
	cr_expect_eq(info.reasons[0], M2M_R_NONCE_REPLAYED);
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_challenge WHERE state = 'used'"), 2);
}

/* After a restart the requests a challenge was for are gone: their nonces must never validate. */
Test(procedure, a_restart_voids_the_challenges_under_way)
{
	fx.silent = 1;
	M2M_VALIDATION_REQUEST *q = M2M_VALIDATION_REQUEST_new();
	m2m_set_str(q->tre, "tre-1");
	ASN1_ENUMERATED_set(q->mode, M2M_MODE_REMOTE);
	q->min_assurance = 1;
	answer *a = calloc(1, sizeof *a);
	cr_assert_eq(m2m_call(fx.node[RP], "certauth", M2M_MSG_VALIDATION_REQUEST, q, on_answer, a), 0);
	M2M_VALIDATION_REQUEST_free(q);
	for (int64_t end = now_ms() + 10000; fx.challenges == 0 && now_ms() < end;)
		for (int i = 0; i < PARTIES; i++)
			m2m_node_poll(fx.node[i], 2);
	cr_assert_eq(count_rows("SELECT count(*) FROM pva_challenge WHERE state = 'issued'"), 1);
	cr_expect_eq(pva_resume(fx.p), 1);
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_challenge WHERE state = 'abandoned'"), 1);
	m2m_node_free(fx.node[RP]);  /* its call (and a with it) ends here */
	fx.node[RP] = NULL;
	free(a);
}

Test(procedure, a_silent_tre_is_a_timeout_and_its_nonce_is_void)
{
	fx.silent = 1;
	answer a = validate(RP, "tre-1", M2M_MODE_AUTONOMOUS, 2);
	expect_refused(&a, M2M_R_TIMEOUT, "silent TRE");
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_challenge WHERE state = 'abandoned'"), 1);
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_validation"), 0);
	cr_expect_eq(status(RP, "tre-1").status, M2M_VERDICT_NEVER);
}

Test(procedure, bad_requests_are_refused_without_a_trace)
{
	expect_refused((answer[]){validate(OTHER, "tre-1", M2M_MODE_REMOTE, 2)}, M2M_R_NOT_AUTHORISED, "not a relying party");
	expect_refused((answer[]){validate(RP, "tre-9", M2M_MODE_REMOTE, 2)}, M2M_R_UNKNOWN_PEER, "unknown TRE");
	expect_refused((answer[]){validate(RP, "tre-1", M2M_MODE_REMOTE, 0)}, M2M_R_BAD_BODY, "minAssurance 0");
	expect_refused((answer[]){validate(RP, "tre-1", M2M_MODE_REMOTE, 8)}, M2M_R_BAD_BODY, "minAssurance 8");
	expect_refused((answer[]){validate(RP, "tre-1", (m2m_validation_mode)3, 2)}, M2M_R_BAD_BODY, "mode 3");
	expect_refused((answer[]){validate(RP, "", M2M_MODE_REMOTE, 2)}, M2M_R_BAD_BODY, "empty tre");
	expect_refused((answer[]){status(OTHER, "tre-1")}, M2M_R_NOT_AUTHORISED, "status, not a relying party");
	cr_expect_eq(fx.challenges, 0);
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_challenge"), 0);
}

Test(procedure, status_of_a_tre_never_validated)
{
	answer s = status(RP, "tre-2");
	cr_assert_eq(s.type, M2M_MSG_VALIDATION_STATUS);
	cr_expect_eq(s.status, M2M_VERDICT_NEVER);
	cr_expect_not(s.status_times);
}

Test(procedure, other_requests_are_unexpected)
{
	ASN1_NULL *nothing = ASN1_NULL_new();
	expect_refused((answer[]){ask(RP, M2M_MSG_CRL_REQUEST, nothing)}, M2M_R_UNEXPECTED_MESSAGE, "crlRequest");
	ASN1_NULL_free(nothing);
}

/* ---- tamper reports ---------------------------------------------------------------------------------- */

Test(procedure, a_tamper_report_is_recorded_once_and_acknowledged_twice)
{
	uint8_t id[PVA_REPORT_ID_LEN] = {1, 2, 3, 4};
	cr_assert_eq(validate(RP, "tre-1", M2M_MODE_AUTONOMOUS, 2).type, M2M_MSG_VALIDATION_RESPONSE);
	cr_assert_eq(status(RP, "tre-1").status, M2M_VERDICT_OK);
	for (int i = 0; i < 2; i++) {
		answer a = tamper(id, "tre-1", SIGNER_TRE1);
		cr_assert_eq(a.type, M2M_MSG_TAMPER_ACK, "report %d: %s", i, m2m_reason_name(a.reason));
		cr_expect_eq(memcmp(a.report_id, id, sizeof id), 0);
	}
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_tamper"), 1);
	/* the verdict given before the report is no longer what the PVA holds */
	cr_expect_eq(status(RP, "tre-1").status, M2M_VERDICT_FAIL);
}

Test(procedure, a_tamper_report_must_be_the_senders_own)
{
	uint8_t id[PVA_REPORT_ID_LEN] = {9};
	expect_refused((answer[]){tamper(id, "tre-2", SIGNER_TRE2)}, M2M_R_BAD_SIGNATURE, "another TRE's report");
	expect_refused((answer[]){tamper(id, "tre-1", SIGNER_OPERATOR)}, M2M_R_BAD_SIGNATURE, "not a TRE certificate");
	expect_refused((answer[]){tamper(id, "tre-1", SIGNER_FOREIGN)}, M2M_R_BAD_CHAIN, "another root");
	cr_expect_eq(count_rows("SELECT count(*) FROM pva_tamper"), 0);
}
