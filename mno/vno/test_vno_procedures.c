/*
 * The VNO's procedures through its real dispatch (vno_serve) on a real node, in one process: two
 * devices and two home operators are nodes of their own over ipc:// with CurveZMQ, the card is
 * a USIM state and the home operator A a fake HSS over a real AuC (both TS 35.208 test set 1).
 * No daemon runs: these are the refusals and error paths the testbed's scenarios do not reach
 * (another device's attachId, messages out of turn, a silent or refusing home, resync, cancel).
 */
#include "test_vno_common.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define IMSI_A "001010000000001"
#define IMSI_B "001020000000001"
#define IMEI_1 "356938035643809"
#define IMEI_2 "490154203237518"
#define APN "m2m.meter"

enum { VNO, HOME_A, HOME_B, DEV_1, DEV_2, PARTIES };
static const char *const ids[PARTIES] = {"mno-v", "mno-a", "mno-b", "m2me-1", "m2me-2"};

typedef struct fixture {
	char dir[64];
	char pub[PARTIES][M2M_KEY_Z85], sec[PARTIES][M2M_KEY_Z85];
	m2m_node *node[PARTIES];
	vno_context *v;
	/* the card in the devices, and the AuC of home A */
	m2m_milenage card, auc;
	m2m_sqn_usim usim;
	m2m_sqn_he he;
	/* what home A does and saw */
	int silent;              /* defers authInfoRequest for ever: the VNO's call times out */
	m2m_reason refusal;      /* refuses authInfoRequest with it when set */
	const char *imei_lock;   /* in the profile, when set */
	int auth_infos, resyncs, locations, purges;
} fixture;

static fixture fx;

static void add_peer(m2m_node_conf *c, int who, int callable)
{
	m2m_peer_conf *p = &c->peers[c->npeers++];
	snprintf(p->id, sizeof p->id, "%s", ids[who]);
	if (callable)
		snprintf(p->endpoint, sizeof p->endpoint, "ipc://%s/%s.sock", fx.dir, ids[who]);
	snprintf(p->public_key, sizeof p->public_key, "%s", fx.pub[who]);
}

static void conf_of(int who, int serves, int timeout_ms, m2m_node_conf *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->entity, sizeof c->entity, "%s", ids[who]);
	if (serves)
		snprintf(c->bind, sizeof c->bind, "ipc://%s/%s.sock", fx.dir, ids[who]);
	snprintf(c->secret_key, sizeof c->secret_key, "%s", fx.sec[who]);
	c->timeout_ms = timeout_ms;
	c->retries = 0;
}

static m2m_node *start(const m2m_node_conf *c, sqlite3 *db, m2m_dispatch_cb serve, void *arg)
{
	char err[256] = "";
	m2m_node *n = m2m_node_new(c, db, err, sizeof err);
	cr_assert_not_null(n, "%s", err);
	if (serve)
		m2m_node_set_dispatch(n, serve, arg);
	return n;
}

/* ---- home operator A: a fake HSS over a real AuC ------------------------------------------------ */

static void reply_vector(m2m_node *n, m2m_request *req)
{
	m2m_aka_av av;
	cr_assert_eq(m2m_aka_av_generate(&fx.auc, &fx.he, test_amf, &av), 0);
	M2M_AUTH_VECTOR *w = M2M_AUTH_VECTOR_new();
	ASN1_OCTET_STRING_set(w->rand, av.rand, 16);
	ASN1_OCTET_STRING_set(w->xres, av.xres, 8);
	ASN1_OCTET_STRING_set(w->autn, av.autn, 16);
	ASN1_OCTET_STRING_set(w->ck, av.ck, 16);
	ASN1_OCTET_STRING_set(w->ik, av.ik, 16);
	ASN1_OCTET_STRING_set(w->kc, av.ck, 8);
	M2M_AUTH_INFO_RESPONSE *r = sk_M2M_AUTH_VECTOR_new_null();
	sk_M2M_AUTH_VECTOR_push(r, w);
	m2m_reply(n, req, M2M_MSG_AUTH_INFO_RESPONSE, r);
	M2M_AUTH_INFO_RESPONSE_free(r);
}

static void auth_info(m2m_node *n, m2m_request *req)
{
	const M2M_AUTH_INFO_REQUEST *q = req->env.body;
	fx.auth_infos++;
	if (fx.silent) {
		m2m_defer(n, req);  /* freed with the node */
		return;
	}
	if (fx.refusal) {
		m2m_refuse(n, req, fx.refusal, "IMSI %s is suspended", IMSI_A);
		return;
	}
	if (q->resync) {
		fx.resyncs++;
		if (m2m_aka_he_resync(&fx.auc, &fx.he, ASN1_STRING_get0_data(q->resync->rand),
				      ASN1_STRING_get0_data(q->resync->auts)) != M2M_AKA_OK) {
			m2m_refuse(n, req, M2M_R_AUTHENTICATION_FAILED, "MAC-S does not verify");
			return;
		}
	}
	reply_vector(n, req);
}

static void home_serve(m2m_node *n, m2m_request *req, void *arg)
{
	ASN1_NULL *nothing;
	M2M_SUBSCRIPTION_PROFILE *p;
	switch (req->env.type) {
	case M2M_MSG_AUTH_INFO_REQUEST:
		auth_info(n, req);
		break;
	case M2M_MSG_UPDATE_LOCATION:
		fx.locations++;
		p = test_profile(APN, fx.imei_lock);
		m2m_reply(n, req, M2M_MSG_UPDATE_LOCATION_ACK, p);
		M2M_SUBSCRIPTION_PROFILE_free(p);
		break;
	case M2M_MSG_PURGE:
		fx.purges++;
		nothing = ASN1_NULL_new();
		m2m_reply(n, req, M2M_MSG_PURGE_ACK, nothing);
		ASN1_NULL_free(nothing);
		break;
	default:
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "not a home operator's message");
	}
}

static void vno_node_serve(m2m_node *n, m2m_request *req, void *arg)
{
	vno_serve(arg, req);
}

/* ---- set-up ---------------------------------------------------------------------------------------- */

static void start_vno(void)
{
	m2m_node_conf c;
	conf_of(VNO, 1, 300, &c);  /* the home's silence must time out before the device's call */
	add_peer(&c, HOME_A, 1);
	add_peer(&c, HOME_B, 0);
	add_peer(&c, DEV_1, 0);
	add_peer(&c, DEV_2, 0);
	vno_context *v = fx.v = vno_context_new();
	v->db = test_open_db();
	memcpy(v->settings.storage_key, test_storage_key, sizeof test_storage_key);
	snprintf(v->settings.plmn, sizeof v->settings.plmn, "00103");
	snprintf(v->entity, sizeof v->entity, "mno-v");
	static const vno_roaming table[] = {{"00101", "mno-a"}, {"00102", "mno-b"}};
	memcpy(v->settings.roaming, table, sizeof table);
	v->settings.nroaming = 2;
	v->node = fx.node[VNO] = start(&c, v->db, vno_node_serve, v);
}

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/vnoprocXXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	for (int i = 0; i < PARTIES; i++)
		cr_assert_eq(zmq_curve_keypair(fx.pub[i], fx.sec[i]), 0);
	test_milenage(&fx.card);
	test_milenage(&fx.auc);
	m2m_sqn_usim_init(&fx.usim, NULL);
	m2m_sqn_he_init(&fx.he, NULL, 0);
	start_vno();
	m2m_node_conf c;
	conf_of(HOME_A, 1, 2000, &c);
	add_peer(&c, VNO, 1);
	fx.node[HOME_A] = start(&c, NULL, home_serve, NULL);
	conf_of(HOME_B, 0, 2000, &c);  /* B only calls: its cancelLocation for A's IMSI */
	add_peer(&c, VNO, 1);
	fx.node[HOME_B] = start(&c, NULL, NULL, NULL);
	for (int d = DEV_1; d <= DEV_2; d++) {
		conf_of(d, 0, 3000, &c);
		add_peer(&c, VNO, 1);
		fx.node[d] = start(&c, NULL, NULL, NULL);
	}
}

static void teardown(void)
{
	for (int i = PARTIES - 1; i >= 0; i--)
		m2m_node_free(fx.node[i]);
	if (fx.v) {
		m2m_store_close(fx.v->db);
		vno_context_free(fx.v);
	}
	m2m_milenage_clear(&fx.card);
	m2m_milenage_clear(&fx.auc);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx.dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(procedure, .init = setup, .fini = teardown, .timeout = 60);

/* ---- a party's call and its answer ------------------------------------------------------------ */

typedef struct outcome {
	int done;
	int type;            /* of the answer; -1 when none came */
	m2m_reason reason;   /* an ErrorReport's, or the transport's */
	uint8_t attach_id[8], rand[16], autn[16], session_id[8];
	uint64_t counter;
	uint8_t sealed[64];
	size_t sealed_len;
} outcome;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy(const ASN1_OCTET_STRING *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = (size_t)ASN1_STRING_length(s);
	cr_assert_leq(n, max);
	memcpy(out, ASN1_STRING_get0_data(s), n);
	if (len)
		*len = n;
}

static void on_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	outcome *o = arg;
	o->done = 1;
	o->type = resp ? resp->type : -1;
	o->reason = reason;
	if (o->type == M2M_MSG_ERROR)
		o->reason = (m2m_reason)ASN1_ENUMERATED_get(((const M2M_ERROR_REPORT *)resp->body)->reason);
	if (o->type == M2M_MSG_AUTH_CHALLENGE) {
		const M2M_AUTH_CHALLENGE *ch = resp->body;
		copy(ch->attach_id, o->attach_id, 8, NULL);
		copy(ch->rand, o->rand, 16, NULL);
		copy(ch->autn, o->autn, 16, NULL);
	}
	if (o->type == M2M_MSG_ATTACH_ACCEPT)
		copy(((const M2M_ATTACH_ACCEPT *)resp->body)->session_id, o->session_id, 8, NULL);
	if (o->type == M2M_MSG_PROTECTED_DATA_ECHO) {
		const M2M_PROTECTED_DATA *e = resp->body;
		o->counter = e->counter;
		copy(e->sealed, o->sealed, sizeof o->sealed, &o->sealed_len);
	}
}

/* from sends a request to mno-v and every node runs until it is answered. */
static outcome ask(int from, int type, const void *body)
{
	outcome o = {.type = -1};
	cr_assert_eq(m2m_call(fx.node[from], "mno-v", type, body, on_answer, &o), 0);
	for (int64_t end = now_ms() + 10000; !o.done && now_ms() < end;)
		for (int i = 0; i < PARTIES; i++)
			m2m_node_poll(fx.node[i], i == PARTIES - 1 ? 2 : 0);
	cr_assert(o.done, "%s got no answer", ids[from]);
	return o;
}

static void expect_refused(const outcome *o, m2m_reason want, const char *what)
{
	cr_assert_eq(o->type, M2M_MSG_ERROR, "%s: answered %d, not an error", what, o->type);
	cr_assert_eq(o->reason, want, "%s: refused %s, expected %s", what, m2m_reason_name(o->reason),
		     m2m_reason_name(want));
}

/* ---- the device's messages ---------------------------------------------------------------------- */

static outcome attach_request(int dev, const char *imsi, const char *imei, const char *apn)
{
	M2M_ATTACH_REQUEST *q = M2M_ATTACH_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_digits(&q->imei, imei);
	m2m_set_str(q->apn, apn);
	outcome o = ask(dev, M2M_MSG_ATTACH_REQUEST, q);
	M2M_ATTACH_REQUEST_free(q);
	return o;
}

static outcome auth_response(int dev, const uint8_t attach_id[8], const uint8_t *res, int len)
{
	M2M_AUTH_RESPONSE *q = M2M_AUTH_RESPONSE_new();
	ASN1_OCTET_STRING_set(q->attach_id, attach_id, 8);
	ASN1_OCTET_STRING_set(q->res, res, len);
	outcome o = ask(dev, M2M_MSG_AUTH_RESPONSE, q);
	M2M_AUTH_RESPONSE_free(q);
	return o;
}

/* auts NULL: macFailure. */
static outcome auth_failure(int dev, const uint8_t attach_id[8], const uint8_t *auts)
{
	M2M_AUTH_FAILURE *q = M2M_AUTH_FAILURE_new();
	ASN1_OCTET_STRING_set(q->attach_id, attach_id, 8);
	ASN1_ENUMERATED_set(q->cause, auts ? M2M_AUTH_SYNCH_FAILURE : M2M_AUTH_MAC_FAILURE);
	if (auts) {
		q->auts = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(q->auts, auts, 14);
	}
	outcome o = ask(dev, M2M_MSG_AUTH_FAILURE, q);
	M2M_AUTH_FAILURE_free(q);
	return o;
}

static outcome challenged(int dev, const char *imei, const char *apn)
{
	outcome ch = attach_request(dev, IMSI_A, imei, apn);
	cr_assert_eq(ch.type, M2M_MSG_AUTH_CHALLENGE, "no challenge: %s", m2m_reason_name(ch.reason));
	return ch;
}

/* The card answers a challenge: RES, CK, IK in r. */
static void card(const outcome *ch, m2m_aka_usim_result *r)
{
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, ch->rand, ch->autn, r), M2M_AKA_OK);
}

/* A whole attach of dev: the session id and the device's session key. */
static void attached(int dev, uint8_t session_id[8], uint8_t key[32])
{
	m2m_aka_usim_result r;
	outcome ch = challenged(dev, dev == DEV_1 ? IMEI_1 : IMEI_2, APN);
	card(&ch, &r);
	outcome acc = auth_response(dev, ch.attach_id, r.res, 8);
	cr_assert_eq(acc.type, M2M_MSG_ATTACH_ACCEPT, "not accepted: %s", m2m_reason_name(acc.reason));
	memcpy(session_id, acc.session_id, 8);
	cr_assert_eq(m2m_session_key(r.ck, r.ik, session_id, key), 0);
}

static outcome send_data(int dev, const uint8_t session_id[8], const uint8_t key[32], uint64_t counter,
			 const char *text)
{
	uint8_t sealed[64];
	size_t len = strlen(text);
	cr_assert_eq(m2m_session_seal(key, session_id, M2M_UPLINK, counter, (const uint8_t *)text, len, sealed), 0);
	M2M_PROTECTED_DATA *d = M2M_PROTECTED_DATA_new();
	ASN1_OCTET_STRING_set(d->session_id, session_id, 8);
	d->counter = counter;
	ASN1_OCTET_STRING_set(d->sealed, sealed, (int)(len + M2M_SESSION_TAG_LEN));
	outcome o = ask(dev, M2M_MSG_PROTECTED_DATA, d);
	M2M_PROTECTED_DATA_free(d);
	return o;
}

static outcome detach(int dev, const uint8_t session_id[8])
{
	M2M_DETACH_REQUEST *q = M2M_DETACH_REQUEST_new();
	ASN1_OCTET_STRING_set(q->session_id, session_id, 8);
	outcome o = ask(dev, M2M_MSG_DETACH_REQUEST, q);
	M2M_DETACH_REQUEST_free(q);
	return o;
}

/* The state and reason of the one attach record of the test. */
static void expect_attach(const char *state, m2m_reason reason)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.v->db, "SELECT state, reason FROM vno_attach", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "no attach record");
	cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), state);
	cr_expect_eq(sqlite3_column_int(st, 1), (int)reason);
	cr_expect_eq(sqlite3_step(st), SQLITE_DONE, "more than one attach record");
	sqlite3_finalize(st);
}

/* ---- the tests -------------------------------------------------------------------------------------- */

Test(procedure, attach_data_detach)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	cr_assert_eq(fx.auth_infos, 1);
	cr_assert_eq(fx.locations, 1);
	expect_attach("accepted", M2M_OK);
	outcome e = send_data(DEV_1, sid, key, 1, "meter 0042");
	cr_assert_eq(e.type, M2M_MSG_PROTECTED_DATA_ECHO, "no echo: %s", m2m_reason_name(e.reason));
	cr_assert_eq(e.counter, 1);
	uint8_t plain[64];
	cr_assert_eq(m2m_session_open(key, sid, M2M_DOWNLINK, 1, e.sealed, e.sealed_len, plain), 0);
	cr_assert_eq(memcmp(plain, "meter 0042", 10), 0);
	outcome d = detach(DEV_1, sid);
	cr_assert_eq(d.type, M2M_MSG_DETACH_ACCEPT, "detach: %s", m2m_reason_name(d.reason));
	cr_assert_eq(fx.purges, 1);
	outcome after = send_data(DEV_1, sid, key, 2, "late");
	expect_refused(&after, M2M_R_NOT_ATTACHED, "data after the detach");
	outcome again = detach(DEV_1, sid);
	expect_refused(&again, M2M_R_NOT_ATTACHED, "a second detach");
	cr_assert_eq(fx.purges, 1);
}

Test(procedure, user_plane_refusals)
{
	uint8_t sid[8], key[32], unknown[8] = {0}, wrong_key[32] = {0};
	attached(DEV_1, sid, key);
	cr_assert_eq(send_data(DEV_1, sid, key, 5, "first").type, M2M_MSG_PROTECTED_DATA_ECHO);
	outcome o = send_data(DEV_1, sid, key, 5, "first");
	expect_refused(&o, M2M_R_REPLAYED, "the same counter in a new message");
	o = send_data(DEV_1, sid, key, 4, "older");
	expect_refused(&o, M2M_R_REPLAYED, "an older counter");
	o = send_data(DEV_2, sid, key, 6, "not mine");
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device on the session");
	o = send_data(DEV_1, unknown, key, 6, "nowhere");
	expect_refused(&o, M2M_R_NOT_FOUND, "an unknown session");
	o = send_data(DEV_1, sid, wrong_key, 6, "forged");
	expect_refused(&o, M2M_R_AUTHENTICATION_FAILED, "data under another key");
	o = send_data(DEV_1, sid, key, UINT64_C(4294967296), "too far");
	expect_refused(&o, M2M_R_BAD_BODY, "a counter beyond 32 bits");
	/* the refusals moved nothing: counter 6 is still free */
	cr_assert_eq(send_data(DEV_1, sid, key, 6, "second").type, M2M_MSG_PROTECTED_DATA_ECHO);
	o = detach(DEV_2, sid);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device detaching the session");
	cr_assert_eq(fx.purges, 0);
}

Test(procedure, attach_by_another_device_or_out_of_turn)
{
	m2m_aka_usim_result r;
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	card(&ch, &r);
	uint8_t unknown[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	outcome o = auth_response(DEV_2, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device's authResponse");
	o = auth_failure(DEV_2, ch.attach_id, NULL);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "another device's authFailure");
	o = auth_response(DEV_1, unknown, r.res, 8);
	expect_refused(&o, M2M_R_NOT_FOUND, "an unknown attachId");
	expect_attach("challenged", M2M_OK);  /* none of it changed the attach */
	o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	cr_assert_eq(o.type, M2M_MSG_ATTACH_ACCEPT);
	o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_WRONG_STATE, "authResponse to an accepted attach");
	o = auth_failure(DEV_1, ch.attach_id, NULL);
	expect_refused(&o, M2M_R_WRONG_STATE, "authFailure to an accepted attach");
	cr_assert_eq(fx.locations, 1);
}

Test(procedure, wrong_res_ends_the_attach)
{
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	uint8_t res[8] = {0};
	outcome o = auth_response(DEV_1, ch.attach_id, res, 8);
	expect_refused(&o, M2M_R_AUTHENTICATION_FAILED, "a wrong RES");
	expect_attach("failed", M2M_R_AUTHENTICATION_FAILED);
	m2m_aka_usim_result r;
	card(&ch, &r);
	o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_WRONG_STATE, "the right RES after a wrong one");
	cr_assert_eq(fx.locations, 0);
}

Test(procedure, mac_failure_ends_the_attach)
{
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	outcome o = auth_failure(DEV_1, ch.attach_id, NULL);
	expect_refused(&o, M2M_R_MAC_FAILURE, "macFailure");
	expect_attach("failed", M2M_R_MAC_FAILURE);
}

Test(procedure, one_resync_then_synch_failure)
{
	/* the card is ahead of the AuC: it has accepted SQNs the AuC then forgot */
	m2m_sqn_he ahead = fx.he;
	for (int i = 0; i < 3; i++) {
		m2m_aka_av av;
		m2m_aka_usim_result r;
		cr_assert_eq(m2m_aka_av_generate(&fx.auc, &ahead, test_amf, &av), 0);
		cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, av.rand, av.autn, &r), M2M_AKA_OK);
	}
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, ch.rand, ch.autn, &r), M2M_AKA_SYNC_FAILURE);
	outcome again = auth_failure(DEV_1, ch.attach_id, r.auts);
	cr_assert_eq(again.type, M2M_MSG_AUTH_CHALLENGE, "no new challenge: %s", m2m_reason_name(again.reason));
	cr_assert_eq(memcmp(again.attach_id, ch.attach_id, 8), 0, "the same attach continues");
	cr_assert_eq(fx.resyncs, 1, "the AUTS did not reach the home operator");
	/* a second sync failure in the same attach ends it, without asking the home again */
	outcome o = auth_failure(DEV_1, ch.attach_id, r.auts);
	expect_refused(&o, M2M_R_SYNCH_FAILURE, "a second sync failure");
	cr_assert_eq(fx.auth_infos, 2);
	expect_attach("failed", M2M_R_SYNCH_FAILURE);
}

Test(procedure, resync_then_accept)
{
	m2m_sqn_he ahead = fx.he;
	m2m_aka_av av;
	m2m_aka_usim_result r;
	cr_assert_eq(m2m_aka_av_generate(&fx.auc, &ahead, test_amf, &av), 0);
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, av.rand, av.autn, &r), M2M_AKA_OK);
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, ch.rand, ch.autn, &r), M2M_AKA_SYNC_FAILURE);
	outcome again = auth_failure(DEV_1, ch.attach_id, r.auts);
	cr_assert_eq(again.type, M2M_MSG_AUTH_CHALLENGE);
	card(&again, &r);
	outcome acc = auth_response(DEV_1, again.attach_id, r.res, 8);
	cr_assert_eq(acc.type, M2M_MSG_ATTACH_ACCEPT, "after the resync: %s", m2m_reason_name(acc.reason));
	expect_attach("accepted", M2M_OK);
}

Test(procedure, a_silent_home_fails_the_attach_with_timeout)
{
	fx.silent = 1;
	outcome o = attach_request(DEV_1, IMSI_A, IMEI_1, APN);
	expect_refused(&o, M2M_R_TIMEOUT, "attach with a silent home");
	expect_attach("failed", M2M_R_TIMEOUT);
}

Test(procedure, a_refusing_home_fails_the_attach_with_its_reason)
{
	fx.refusal = M2M_R_SUBSCRIBER_SUSPENDED;
	outcome o = attach_request(DEV_1, IMSI_A, IMEI_1, APN);
	expect_refused(&o, M2M_R_SUBSCRIBER_SUSPENDED, "attach of a suspended subscriber");
	expect_attach("failed", M2M_R_SUBSCRIBER_SUSPENDED);
}

Test(procedure, no_roaming_agreement)
{
	outcome o = attach_request(DEV_1, "001090000000001", IMEI_1, APN);
	expect_refused(&o, M2M_R_ROAMING_NOT_ALLOWED, "an IMSI of a PLMN without agreement");
	cr_assert_eq(fx.auth_infos, 0);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.v->db, "SELECT count(*) FROM vno_attach", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 0, "a refused attachRequest left a record");
	sqlite3_finalize(st);
}

Test(procedure, bad_bodies)
{
	outcome o = attach_request(DEV_1, "00101abc", IMEI_1, APN);
	expect_refused(&o, M2M_R_BAD_BODY, "an IMSI with letters");
	o = attach_request(DEV_1, IMSI_A, "1234", APN);
	expect_refused(&o, M2M_R_BAD_BODY, "a 4-digit IMEI");
	outcome ch = challenged(DEV_1, IMEI_1, APN);
	M2M_AUTH_FAILURE *q = M2M_AUTH_FAILURE_new();
	ASN1_OCTET_STRING_set(q->attach_id, ch.attach_id, 8);
	ASN1_ENUMERATED_set(q->cause, M2M_AUTH_SYNCH_FAILURE);
	o = ask(DEV_1, M2M_MSG_AUTH_FAILURE, q);
	M2M_AUTH_FAILURE_free(q);
	expect_refused(&o, M2M_R_BAD_BODY, "synchFailure without AUTS");
	uint8_t res[3] = {0};
	o = auth_response(DEV_1, ch.attach_id, res, 3);
	expect_refused(&o, M2M_R_BAD_BODY, "a 3-octet RES");
	expect_attach("challenged", M2M_OK);
}

Test(procedure, the_profile_refuses_after_a_purge)
{
	m2m_aka_usim_result r;
	outcome ch = challenged(DEV_1, IMEI_1, "internet");
	card(&ch, &r);
	outcome o = auth_response(DEV_1, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_APN_NOT_ALLOWED, "an APN outside the subscription");
	cr_assert_eq(fx.purges, 1, "the location was not purged");
	expect_attach("failed", M2M_R_APN_NOT_ALLOWED);
}

Test(procedure, the_imei_lock_refuses_another_device)
{
	fx.imei_lock = IMEI_1;
	m2m_aka_usim_result r;
	outcome ch = challenged(DEV_2, IMEI_2, APN);
	card(&ch, &r);
	outcome o = auth_response(DEV_2, ch.attach_id, r.res, 8);
	expect_refused(&o, M2M_R_IMEI_NOT_ALLOWED, "the card in another device");
	cr_assert_eq(fx.purges, 1);
	expect_attach("failed", M2M_R_IMEI_NOT_ALLOWED);
}

static outcome cancel_location(int home, const char *imsi)
{
	M2M_CANCEL_LOCATION *q = M2M_CANCEL_LOCATION_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_ENUMERATED_set(q->cause, M2M_CANCEL_WITHDRAWN);
	outcome o = ask(home, M2M_MSG_CANCEL_LOCATION, q);
	M2M_CANCEL_LOCATION_free(q);
	return o;
}

Test(procedure, only_the_home_of_the_imsi_cancels_it)
{
	uint8_t sid[8], key[32];
	attached(DEV_1, sid, key);
	outcome o = cancel_location(HOME_B, IMSI_A);
	expect_refused(&o, M2M_R_NOT_AUTHORISED, "B cancelling A's subscriber");
	cr_assert_eq(send_data(DEV_1, sid, key, 1, "still here").type, M2M_MSG_PROTECTED_DATA_ECHO);
	o = cancel_location(HOME_A, IMSI_A);
	cr_assert_eq(o.type, M2M_MSG_CANCEL_LOCATION_ACK, "A's cancel: %s", m2m_reason_name(o.reason));
	o = send_data(DEV_1, sid, key, 2, "cut off");
	expect_refused(&o, M2M_R_NOT_ATTACHED, "data after the cancel");
	o = cancel_location(HOME_B, IMSI_B);
	cr_assert_eq(o.type, M2M_MSG_CANCEL_LOCATION_ACK, "a cancel with nothing to close is acknowledged");
}

Test(procedure, messages_a_visited_network_does_not_serve)
{
	M2M_PURGE *p = M2M_PURGE_new();
	m2m_set_digits(&p->imsi, IMSI_A);
	m2m_set_str(p->serving_network, "m2me-1");
	outcome o = ask(DEV_1, M2M_MSG_PURGE, p);
	M2M_PURGE_free(p);
	expect_refused(&o, M2M_R_UNEXPECTED_MESSAGE, "purge sent to a visited network");
}
