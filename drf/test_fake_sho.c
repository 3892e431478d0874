/*
 * The fake old SHO of the change tests: "mno-a" serving the DRF's changeNotify and changeRelease
 * on a node of its own, polled by a thread of the test process (a node is used by one thread
 * only: this one creates, polls and frees it). What it answers is set by the test through atomic
 * modes; what it received is counted.
 */
#include "test_world.h"

#include "wire/read.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void consent(m2m_node *n, m2m_request *req, const M2M_CHANGE_NOTIFY *q)
{
	M2M_CHANGE_CONSENT *k = M2M_CHANGE_CONSENT_new();
	ASN1_STRING_copy(k->change_id, q->change_id);
	k->mcim_id = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(k->mcim_id, a_mcim_id, sizeof a_mcim_id);
	m2m_reply(n, req, M2M_MSG_CHANGE_CONSENT, k);
	M2M_CHANGE_CONSENT_free(k);
}

static void release_ack(m2m_node *n, m2m_request *req, const M2M_CHANGE_RELEASE *q)
{
	M2M_CHANGE_ACK *ack = M2M_CHANGE_ACK_new();
	ASN1_STRING_copy(ack->change_id, q->change_id);
	m2m_reply(n, req, M2M_MSG_CHANGE_RELEASE_ACK, ack);
	M2M_CHANGE_ACK_free(ack);
}

static void dispatch(m2m_node *n, m2m_request *req, void *arg)
{
	fake_sho *a = arg;
	uint8_t id[16];
	if (req->env.type == M2M_MSG_CHANGE_NOTIFY) {
		a->notifies++;
		int mode = a->notify_mode;
		if (mode == A_SILENT)
			m2m_defer(n, req);  /* never answered: the node frees it at the end */
		else if (mode == A_LOCKED)
			m2m_refuse(n, req, M2M_R_CONTRACT_LOCKED, "the MCIM of that TRE is under a contract lock for 30 days");
		else
			consent(n, req, req->env.body);
	} else if (req->env.type == M2M_MSG_CHANGE_RELEASE) {
		const M2M_CHANGE_RELEASE *q = req->env.body;
		a->releases++;
		a->release_named_mcim = !m2m_read_octets(q->mcim_id, id, sizeof id) && !memcmp(id, a_mcim_id, sizeof id);
		if (a->release_mode == A_SILENT)
			m2m_defer(n, req);
		else
			release_ack(n, req, q);
	} else {
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "the fake SHO serves changeNotify and changeRelease");
	}
}

static void *serve(void *arg)
{
	fake_sho *a = arg;
	m2m_node_conf c = {.timeout_ms = 3000, .retries = 0, .npeers = 1};
	snprintf(c.entity, sizeof c.entity, "mno-a");
	snprintf(c.bind, sizeof c.bind, "ipc://%s/mno-a.sock", w.dir);
	snprintf(c.secret_key, sizeof c.secret_key, "%s", w.clients[SHO_A].sec);
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

void sho_a_start(int notify_mode, int release_mode)
{
	fake_sho *a = &w.sho_a;
	a->notify_mode = notify_mode;
	a->release_mode = release_mode;
	cr_assert_eq(pthread_create(&a->thread, NULL, serve, a), 0);
	w.sho_a_running = 1;
	while (!a->ready)
		usleep(10 * 1000);
	cr_assert_eq(a->ready, 1, "the fake mno-a has no node");
}

void sho_a_stop(void)
{
	if (!w.sho_a_running)
		return;
	w.sho_a.stop = 1;
	pthread_join(w.sho_a.thread, NULL);
	w.sho_a_running = 0;
}
