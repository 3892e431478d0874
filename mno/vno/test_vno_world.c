/* The in-process world of the VNO's procedure tests (test_vno_world.h). */
#include "test_vno_world.h"

#include "crypto/crypto.h"
#include "daemon/test_agency.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

const char *const ids[PARTIES] = {"mno-v", "mno-a", "mno-b", "m2me-1", "m2me-2", "drf"};

fixture fx;

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
	c->retries = 0;
}

/* ---- the homes: a fake HSS over a real AuC, and the provisioning functions --------------------- */

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

/* A provisioning step answered with a body of its own: a SignedObject (the ticket), an
 * McimPackage or InstallAck whose octets say who made them; 3b's uiccChangeRegister the
 * UiccCredentialPackage of B (its package saying who delivered it), uiccChangeComplete the ack. */
static void provisioning_step(m2m_node *n, m2m_request *req, const char *who)
{
	static const uint8_t id[16] = {0x11};
	if (fx.refuse_relayed) {
		m2m_refuse(n, req, fx.refuse_relayed, "%s refuses the %s", who, m2m_msgtype_name(req->env.type));
		return;
	}
	if (req->env.type == M2M_MSG_DISCOVERY_REQUEST) {
		M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
		ASN1_OCTET_STRING_set(so->cms, (const unsigned char *)"ticket", 6);
		m2m_reply(n, req, M2M_MSG_DISCOVERY_RESPONSE, so);
		M2M_SIGNED_OBJECT_free(so);
	} else if (req->env.type == M2M_MSG_UICC_CHANGE_REGISTER) {
		M2M_UICC_CREDENTIAL_PACKAGE *p = M2M_UICC_CREDENTIAL_PACKAGE_new();
		ASN1_OCTET_STRING_set(p->change_id, id, sizeof id);
		m2m_set_str(p->sho, "mno-b");
		m2m_set_digits(&p->imsi, IMSI_B);
		ASN1_OCTET_STRING_set(p->package, (const unsigned char *)who, (int)strlen(who));
		m2m_reply(n, req, M2M_MSG_UICC_CREDENTIAL_DELIVERY, p);
		M2M_UICC_CREDENTIAL_PACKAGE_free(p);
	} else if (req->env.type == M2M_MSG_UICC_CHANGE_COMPLETE) {
		ta_reply_change_ack(n, req, M2M_MSG_UICC_CHANGE_COMPLETE_ACK, id);
	} else if (req->env.type == M2M_MSG_MCIM_REQUEST) {
		M2M_MCIM_PACKAGE *p = M2M_MCIM_PACKAGE_new();
		ASN1_OCTET_STRING_set(p->mcim_id, id, sizeof id);
		ASN1_OCTET_STRING_set(p->package, (const unsigned char *)who, (int)strlen(who));
		m2m_reply(n, req, M2M_MSG_MCIM_PACKAGE, p);
		M2M_MCIM_PACKAGE_free(p);
	} else {
		M2M_INSTALL_ACK *a = M2M_INSTALL_ACK_new();
		ASN1_OCTET_STRING_set(a->mcim_id, id, sizeof id);
		m2m_reply(n, req, M2M_MSG_INSTALL_ACK, a);
		M2M_INSTALL_ACK_free(a);
	}
}

static void keep_request(int who, const m2m_request *req)
{
	received *g = &fx.got[who];
	unsigned char *der = NULL;
	int len = ASN1_item_i2d(req->env.body, &der, m2m_msgdef_find(req->env.type)->item());
	cr_assert(len > 0 && len <= BODY_MAX);
	g->count++;
	g->type = req->env.type;
	snprintf(g->sender, sizeof g->sender, "%s", req->env.sender);
	memcpy(g->body, der, (size_t)len);
	g->body_len = (size_t)len;
	OPENSSL_free(der);
}

static void home_serve(m2m_node *n, m2m_request *req, void *arg)
{
	int who = (int)(intptr_t)arg;
	ASN1_NULL *nothing;
	M2M_SUBSCRIPTION_PROFILE *p;
	keep_request(who, req);
	if (fx.silent) {
		m2m_defer(n, req);  /* freed with the node */
		return;
	}
	switch (req->env.type) {
	case M2M_MSG_AUTH_INFO_REQUEST:
		auth_info(n, req);
		break;
	case M2M_MSG_UPDATE_LOCATION:
		fx.locations++;
		p = test_profile(who == DRF ? "m2m.provisioning" : APN, fx.imei_lock);
		m2m_reply(n, req, M2M_MSG_UPDATE_LOCATION_ACK, p);
		M2M_SUBSCRIPTION_PROFILE_free(p);
		break;
	case M2M_MSG_PURGE:
		fx.purges++;
		nothing = ASN1_NULL_new();
		m2m_reply(n, req, M2M_MSG_PURGE_ACK, nothing);
		ASN1_NULL_free(nothing);
		break;
	case M2M_MSG_DISCOVERY_REQUEST:
	case M2M_MSG_MCIM_REQUEST:
	case M2M_MSG_INSTALL_RESULT:
	case M2M_MSG_UICC_CHANGE_REGISTER:
	case M2M_MSG_UICC_CHANGE_COMPLETE:
		provisioning_step(n, req, ids[who]);
		break;
	case M2M_MSG_PING:
		m2m_reply(n, req, M2M_MSG_PONG, req->env.body);
		break;
	default:
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "not a home operator's message");
	}
}

/* ---- the device the VNO can call: smsDeliver, treTrigger ---------------------------------------- */

const uint8_t device_report[8] = {0x40, 0x07, 0x7F, 0xF6, 0x03, 0x02, 0x71, 0x00};
const uint8_t device_change_id[16] = {0xC4, 0xA2, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

static void device_serve(m2m_node *n, m2m_request *req, void *arg)
{
	keep_request(DEV_1, req);
	if (fx.device_silent) {
		m2m_defer(n, req);  /* freed with the node */
		return;
	}
	if ((req->env.type != M2M_MSG_SMS_DELIVER && req->env.type != M2M_MSG_TRE_TRIGGER) || fx.device_refusal) {
		m2m_refuse(n, req, fx.device_refusal ? fx.device_refusal : M2M_R_UNEXPECTED_MESSAGE, "busy: the card is in use");
		return;
	}
	if (req->env.type == M2M_MSG_TRE_TRIGGER) {
		ta_reply_change_ack(n, req, M2M_MSG_TRE_TRIGGER_ACK, device_change_id);
		return;
	}
	M2M_SMS_REPORT *r = M2M_SMS_REPORT_new();
	r->tpdu = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(r->tpdu, device_report, sizeof device_report);
	m2m_reply(n, req, M2M_MSG_SMS_REPORT, r);
	M2M_SMS_REPORT_free(r);
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
	add_peer(&c, HOME_B, 1);
	add_peer(&c, DEV_1, 1);  /* the SMS relay calls it */
	add_peer(&c, DEV_2, 0);
	add_peer(&c, DRF, 1);
	vno_context *v = fx.v = vno_context_new();
	v->db = test_open_db();
	memcpy(v->settings.storage_key, test_storage_key, sizeof test_storage_key);
	snprintf(v->settings.plmn, sizeof v->settings.plmn, "00103");
	snprintf(v->entity, sizeof v->entity, "mno-v");
	static const vno_roaming table[] = {{"00101", "mno-a", 0}, {"00102", "mno-b", 0}, {"00109", "drf", 1}};
	memcpy(v->settings.roaming, table, sizeof table);
	v->settings.nroaming = 3;
	snprintf(v->settings.walled[0], sizeof v->settings.walled[0], "drf");
	snprintf(v->settings.walled[1], sizeof v->settings.walled[1], "mno-a");
	v->settings.nwalled = 2;
	v->node = fx.node[VNO] = ta_node(&c, v->db, vno_node_serve, v);
}

static void start_home(int who)
{
	m2m_node_conf c;
	conf_of(who, 1, 2000, &c);
	add_peer(&c, VNO, 1);
	fx.node[who] = ta_node(&c, NULL, home_serve, (void *)(intptr_t)who);
}

void world_setup(void)
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
	start_home(HOME_A);
	start_home(HOME_B);
	start_home(DRF);
	for (int d = DEV_1; d <= DEV_2; d++) {
		m2m_node_conf c;
		conf_of(d, d == DEV_1, 3000, &c);
		add_peer(&c, VNO, 1);
		fx.node[d] = ta_node(&c, NULL, d == DEV_1 ? device_serve : NULL, NULL);
	}
}

void world_teardown(void)
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

/* ---- a party's call and its answer ------------------------------------------------------------ */

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
	if (o->type == M2M_MSG_ERROR) {
		const M2M_ERROR_REPORT *er = resp->body;
		o->reason = (m2m_reason)ASN1_ENUMERATED_get(er->reason);
		m2m_str(er->text, o->text, sizeof o->text);
	}
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
	if (o->type == M2M_MSG_SMS_REPORT && ((const M2M_SMS_REPORT *)resp->body)->tpdu) {
		o->has_report = 1;
		copy(((const M2M_SMS_REPORT *)resp->body)->tpdu, o->report, sizeof o->report, &o->report_len);
	}
	if (o->type == M2M_MSG_TRE_TRIGGER_ACK) {
		o->has_report = 1;
		copy(((const M2M_CHANGE_ACK *)resp->body)->change_id, o->report, sizeof o->report, &o->report_len);
	}
	if (o->type == M2M_MSG_RELAY_RESPONSE) {
		const M2M_RELAY_RESPONSE *r = resp->body;
		o->relayed_type = r->message_type;
		copy(r->body, o->relayed, sizeof o->relayed, &o->relayed_len);
	}
}

outcome ask(int from, int type, const void *body)
{
	outcome o = {.type = -1};
	cr_assert_eq(m2m_call(fx.node[from], "mno-v", type, body, on_answer, &o), 0);
	for (int64_t end = now_ms() + 10000; !o.done && now_ms() < end;)
		for (int i = 0; i < PARTIES; i++)
			m2m_node_poll(fx.node[i], i == PARTIES - 1 ? 2 : 0);
	cr_assert(o.done, "%s got no answer", ids[from]);
	return o;
}

void expect_refused(const outcome *o, m2m_reason want, const char *what)
{
	cr_assert_eq(o->type, M2M_MSG_ERROR, "%s: answered %d, not an error", what, o->type);
	cr_assert_eq(o->reason, want, "%s: refused %s (%s), expected %s", what, m2m_reason_name(o->reason), o->text,
		     m2m_reason_name(want));
}

/* ---- the device's messages ---------------------------------------------------------------------- */

outcome attach_request(int dev, const char *imsi, const char *imei, const char *apn)
{
	M2M_ATTACH_REQUEST *q = M2M_ATTACH_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	m2m_set_digits(&q->imei, imei);
	m2m_set_str(q->apn, apn);
	outcome o = ask(dev, M2M_MSG_ATTACH_REQUEST, q);
	M2M_ATTACH_REQUEST_free(q);
	return o;
}

outcome auth_response(int dev, const uint8_t attach_id[8], const uint8_t *res, int len)
{
	M2M_AUTH_RESPONSE *q = M2M_AUTH_RESPONSE_new();
	ASN1_OCTET_STRING_set(q->attach_id, attach_id, 8);
	ASN1_OCTET_STRING_set(q->res, res, len);
	outcome o = ask(dev, M2M_MSG_AUTH_RESPONSE, q);
	M2M_AUTH_RESPONSE_free(q);
	return o;
}

outcome auth_failure(int dev, const uint8_t attach_id[8], const uint8_t *auts)
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

static outcome challenged_as(int dev, const char *imsi, const char *imei, const char *apn)
{
	outcome ch = attach_request(dev, imsi, imei, apn);
	cr_assert_eq(ch.type, M2M_MSG_AUTH_CHALLENGE, "no challenge: %s (%s)", m2m_reason_name(ch.reason), ch.text);
	return ch;
}

outcome challenged(int dev, const char *imei, const char *apn)
{
	return challenged_as(dev, IMSI_A, imei, apn);
}

void card(const outcome *ch, m2m_aka_usim_result *r)
{
	cr_assert_eq(m2m_aka_usim_authenticate(&fx.card, &fx.usim, ch->rand, ch->autn, r), M2M_AKA_OK);
}

void attached_as(int dev, const char *imsi, uint8_t session_id[8], uint8_t key[32])
{
	m2m_aka_usim_result r;
	const char *apn = !strcmp(imsi, PCID) ? "m2m.provisioning" : APN;
	outcome ch = challenged_as(dev, imsi, dev == DEV_1 ? IMEI_1 : IMEI_2, apn);
	card(&ch, &r);
	outcome acc = auth_response(dev, ch.attach_id, r.res, 8);
	cr_assert_eq(acc.type, M2M_MSG_ATTACH_ACCEPT, "not accepted: %s (%s)", m2m_reason_name(acc.reason), acc.text);
	memcpy(session_id, acc.session_id, 8);
	cr_assert_eq(m2m_session_key(r.ck, r.ik, session_id, key), 0);
}

void attached(int dev, uint8_t session_id[8], uint8_t key[32])
{
	attached_as(dev, IMSI_A, session_id, key);
}

outcome send_data(int dev, const uint8_t session_id[8], const uint8_t key[32], uint64_t counter, const char *text)
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

outcome detach(int dev, const uint8_t session_id[8])
{
	M2M_DETACH_REQUEST *q = M2M_DETACH_REQUEST_new();
	ASN1_OCTET_STRING_set(q->session_id, session_id, 8);
	outcome o = ask(dev, M2M_MSG_DETACH_REQUEST, q);
	M2M_DETACH_REQUEST_free(q);
	return o;
}

void expect_attach(const char *state, m2m_reason reason)
{
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(fx.v->db, "SELECT state, reason FROM vno_attach", -1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "no attach record");
	cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), state);
	cr_expect_eq(sqlite3_column_int(st, 1), (int)reason);
	cr_expect_eq(sqlite3_step(st), SQLITE_DONE, "more than one attach record");
	sqlite3_finalize(st);
}
