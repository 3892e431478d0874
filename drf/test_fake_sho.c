/*
 * The fake SHOs of the change tests, each on a node of its own polled by a thread of the test
 * process (a node is used by one thread only: this one creates, polls and frees it): "mno-a", the
 * old SHO, serving the DRF's changeNotify, changeRelease and, for Alternative 3b, treTrigger and
 * uiccRelease; "mno-b", the new SHO, serving uiccCredentialOrder. What they answer is set by the
 * test through atomic modes; what they received is counted, and the last 3b message of each kind
 * kept as the DER of its body for the test to check.
 */
#include "test_world.h"

#include "wire/read.h"

#include <openssl/cms.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void consent(m2m_node *n, m2m_request *req, const M2M_CHANGE_NOTIFY *q, int uicc)
{
	M2M_CHANGE_CONSENT *k = M2M_CHANGE_CONSENT_new();
	ASN1_STRING_copy(k->change_id, q->change_id);
	if (uicc) {
		m2m_set_digits(&k->imsi, A_IMSI);
	} else {
		k->mcim_id = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(k->mcim_id, a_mcim_id, sizeof a_mcim_id);
	}
	m2m_reply(n, req, M2M_MSG_CHANGE_CONSENT, k);
	M2M_CHANGE_CONSENT_free(k);
}

/* The body of req kept as the last of its kind. */
static void keep(fake_sho *a, int kind, const m2m_request *req)
{
	uint8_t *der = NULL;
	int len = ASN1_item_i2d(req->env.body, &der, m2m_msgdef_find(req->env.type)->item());
	if (len > 0 && len <= (int)sizeof a->last[kind]) {
		memcpy(a->last[kind], der, (size_t)len);
		a->last_len[kind] = len;
	}
	OPENSSL_free(der);
}

/* The changeId of the TreActivate a trigger carries (its signature is the test's to check). */
static int trigger_change_id(const M2M_TRE_TRIGGER *t, uint8_t id[16])
{
	const unsigned char *p = ASN1_STRING_get0_data(t->trigger->cms);
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, ASN1_STRING_length(t->trigger->cms));
	ASN1_OCTET_STRING **content = cms ? CMS_get0_content(cms) : NULL;
	const unsigned char *q = content && *content ? ASN1_STRING_get0_data(*content) : NULL;
	M2M_TRE_ACTIVATE *a = q ? d2i_M2M_TRE_ACTIVATE(NULL, &q, ASN1_STRING_length(*content)) : NULL;
	int rc = a && !m2m_read_octets(a->change_id, id, 16) ? 0 : -1;
	M2M_TRE_ACTIVATE_free(a);
	CMS_ContentInfo_free(cms);
	return rc;
}

/* B's package for an order: "package for " and the card nonce, so that each nonce has its own. */
static void package(m2m_node *n, m2m_request *req, const M2M_UICC_CREDENTIAL_ORDER *q)
{
	M2M_UICC_CREDENTIAL_PACKAGE *k = M2M_UICC_CREDENTIAL_PACKAGE_new();
	uint8_t blob[12 + 16] = "package for ";
	memcpy(blob + 12, ASN1_STRING_get0_data(q->card_nonce), 16);
	ASN1_STRING_copy(k->change_id, q->change_id);
	m2m_set_str(k->sho, "mno-b");
	m2m_set_digits(&k->imsi, B_IMSI);
	ASN1_OCTET_STRING_set(k->package, blob, sizeof blob);
	m2m_reply(n, req, M2M_MSG_UICC_CREDENTIAL_PACKAGE, k);
	M2M_UICC_CREDENTIAL_PACKAGE_free(k);
}

/* Whether the mode says to answer; A_SILENT: the request is kept unanswered (the node frees it). */
static int answering(m2m_node *n, m2m_request *req, int mode)
{
	if (mode == A_SILENT)
		m2m_defer(n, req);
	return mode != A_SILENT;
}

static void serve_3b(fake_sho *a, m2m_node *n, m2m_request *req)
{
	uint8_t id[16];
	switch (req->env.type) {
	case M2M_MSG_TRE_TRIGGER:
		keep(a, LAST_TRIGGER, req);
		a->triggers++;
		if (!answering(n, req, a->trigger_mode))
			break;
		if (a->trigger_mode == A_LOCKED || trigger_change_id(req->env.body, id))
			m2m_refuse(n, req, M2M_R_NOT_ATTACHED, "the device is not attached");
		else
			ta_reply_change_ack(n, req, M2M_MSG_TRE_TRIGGER_ACK, id);
		break;
	case M2M_MSG_UICC_CREDENTIAL_ORDER:
		keep(a, LAST_ORDER, req);
		a->orders++;
		if (!answering(n, req, a->order_mode))
			break;
		if (a->order_mode == A_LOCKED)
			m2m_refuse(n, req, M2M_R_NOT_VALIDATED, "no fresh OK verdict for the TRE");
		else
			package(n, req, req->env.body);
		break;
	case M2M_MSG_UICC_RELEASE:
		keep(a, LAST_RELEASE, req);
		a->releases++;
		if (answering(n, req, a->release_mode) && !m2m_read_octets(((M2M_UICC_RELEASE *)req->env.body)->change_id, id, 16))
			ta_reply_change_ack(n, req, M2M_MSG_UICC_RELEASE_ACK, id);
		break;
	default:
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "the fake SHO does not serve %s", m2m_msgtype_name(req->env.type));
	}
}

static void dispatch(m2m_node *n, m2m_request *req, void *arg)
{
	fake_sho *a = arg;
	uint8_t id[16];
	if (req->env.type == M2M_MSG_CHANGE_NOTIFY) {
		a->notifies++;
		int mode = a->notify_mode;
		if (!answering(n, req, mode))
			return;
		if (mode == A_LOCKED)
			m2m_refuse(n, req, M2M_R_CONTRACT_LOCKED, "the MCIM of that TRE is under a contract lock for 30 days");
		else
			consent(n, req, req->env.body, mode == A_UICC);
	} else if (req->env.type == M2M_MSG_CHANGE_RELEASE) {
		const M2M_CHANGE_RELEASE *q = req->env.body;
		uint8_t mcim[16];
		a->releases++;
		a->release_named_mcim = !m2m_read_octets(q->mcim_id, mcim, sizeof mcim) && !memcmp(mcim, a_mcim_id, sizeof mcim);
		if (answering(n, req, a->release_mode) && !m2m_read_octets(q->change_id, id, sizeof id))
			ta_reply_change_ack(n, req, M2M_MSG_CHANGE_RELEASE_ACK, id);
	} else {
		serve_3b(a, n, req);
	}
}

static void *serve(void *arg)
{
	fake_sho *a = arg;
	int me = strcmp(a->entity, "mno-a") ? SHO_B : SHO_A;
	m2m_node_conf c = {.timeout_ms = 3000, .retries = 0, .npeers = 1};
	snprintf(c.entity, sizeof c.entity, "%s", a->entity);
	snprintf(c.bind, sizeof c.bind, "ipc://%s/%s.sock", w.dir, a->entity);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", w.clients[me].sec);
	snprintf(c.peers[0].id, sizeof c.peers[0].id, "drf");
	snprintf(c.peers[0].public_key, sizeof c.peers[0].public_key, "%s", w.drf_key.pub);
	char err[256] = "";
	m2m_node *n = m2m_node_new(&c, NULL, err, sizeof err);
	if (n)
		m2m_node_set_dispatch(n, dispatch, a);
	a->ready = n ? 1 : -1;
	while (n && !a->stop)
		m2m_node_poll(n, 20);
	m2m_node_free(n);
	return NULL;
}

static void fake_start(fake_sho *a, int *running)
{
	cr_assert_eq(pthread_create(&a->thread, NULL, serve, a), 0);
	*running = 1;
	while (!a->ready)
		usleep(10 * 1000);
	cr_assert_eq(a->ready, 1, "the fake %s has no node", a->entity);
}

static void fake_stop(fake_sho *a, int *running)
{
	if (!*running)
		return;
	a->stop = 1;
	pthread_join(a->thread, NULL);
	*running = 0;
}

void sho_a_start(int notify_mode, int release_mode)
{
	w.sho_a.entity = "mno-a";
	w.sho_a.notify_mode = notify_mode;
	w.sho_a.release_mode = release_mode;
	fake_start(&w.sho_a, &w.sho_a_running);
}

void sho_a_stop(void)
{
	fake_stop(&w.sho_a, &w.sho_a_running);
}

void sho_b_start(int order_mode)
{
	w.sho_b.entity = "mno-b";
	w.sho_b.order_mode = order_mode;
	fake_start(&w.sho_b, &w.sho_b_running);
}

void sho_b_stop(void)
{
	fake_stop(&w.sho_b, &w.sho_b_running);
}
