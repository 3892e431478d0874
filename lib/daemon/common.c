/*
 * Requests every entity answers, whatever its role: healthRequest (role, entity, version,
 * uptime, counters), ping (echo the nonce) and pingPeersRequest (ping each configured peer and
 * report which answered, used by the testbed to prove every link before a scenario runs).
 */
#include "daemon/daemon_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ping_round {
	m2m_request *req;
	int outstanding;
	M2M_PING_PEERS_RESPONSE *results;
} ping_round;

typedef struct ping_probe {
	ping_round *round;
	int index;  /* into round->results */
	uint8_t nonce[16];
	struct timespec sent;
} ping_probe;

static void answer_health(m2m_daemon *d, m2m_request *req)
{
	M2M_HEALTH_RESPONSE *h = M2M_HEALTH_RESPONSE_new();
	m2m_counters c = m2m_node_counters(d->node);
	m2m_set_str(h->role, d->role->name);
	m2m_set_str(h->entity, m2m_daemon_entity(d));
	m2m_set_str(h->software_version, M2M_VERSION);
	h->uptime_seconds = (uint64_t)(time(NULL) - d->started);
	h->received = c.received;
	h->sent = c.sent;
	h->refused = c.refused;
	h->open_transactions = m2m_node_open_calls(d->node);
	m2m_reply(d->node, req, M2M_MSG_HEALTH_RESPONSE, h);
	M2M_HEALTH_RESPONSE_free(h);
}

static void answer_ping(m2m_daemon *d, m2m_request *req)
{
	m2m_reply(d->node, req, M2M_MSG_PONG, req->env.body);
}

static uint64_t micros_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000000 + (uint64_t)((t.tv_nsec - t0->tv_nsec) / 1000);
}

static void set_unreachable(M2M_PEER_REACHABILITY *r, m2m_reason why)
{
	r->reachable = 0;
	r->reason = ASN1_ENUMERATED_new();
	ASN1_ENUMERATED_set(r->reason, why);
}

static void probe_done(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	ping_probe *p = arg;
	ping_round *round = p->round;
	M2M_PEER_REACHABILITY *r = sk_M2M_PEER_REACHABILITY_value(round->results, p->index);
	r->round_trip_micros = micros_since(&p->sent);
	const M2M_PING *pong = resp && resp->type == M2M_MSG_PONG ? resp->body : NULL;
	if (pong && ASN1_STRING_length(pong->nonce) == sizeof p->nonce &&
	    !memcmp(ASN1_STRING_get0_data(pong->nonce), p->nonce, sizeof p->nonce))
		r->reachable = 0xff;
	else if (resp && resp->type == M2M_MSG_ERROR)
		set_unreachable(r, (m2m_reason)ASN1_ENUMERATED_get(((M2M_ERROR_REPORT *)resp->body)->reason));
	else
		set_unreachable(r, resp ? M2M_R_UNEXPECTED_MESSAGE : reason);
	free(p);
	if (--round->outstanding == 0) {
		m2m_reply(n, round->req, M2M_MSG_PING_PEERS_RESPONSE, round->results);
		M2M_PING_PEERS_RESPONSE_free(round->results);
		free(round);
	}
}

static void probe(m2m_daemon *d, ping_round *round, const char *peer)
{
	M2M_PEER_REACHABILITY *r = M2M_PEER_REACHABILITY_new();
	m2m_set_str(r->peer, peer);
	sk_M2M_PEER_REACHABILITY_push(round->results, r);
	ping_probe *p = calloc(1, sizeof *p);
	p->round = round;
	p->index = sk_M2M_PEER_REACHABILITY_num(round->results) - 1;
	m2m_random(p->nonce, sizeof p->nonce);
	clock_gettime(CLOCK_MONOTONIC, &p->sent);
	M2M_PING *ping = M2M_PING_new();
	ASN1_OCTET_STRING_set(ping->nonce, p->nonce, sizeof p->nonce);
	round->outstanding++;
	if (m2m_call(d->node, peer, M2M_MSG_PING, ping, probe_done, p)) {
		round->outstanding--;
		set_unreachable(r, M2M_R_UNKNOWN_PEER);
		free(p);
	}
	M2M_PING_free(ping);
}

static void answer_ping_peers(m2m_daemon *d, m2m_request *req)
{
	const M2M_PING_PEERS_REQUEST *q = req->env.body;
	ping_round *round = calloc(1, sizeof *round);
	round->req = req;
	round->results = sk_M2M_PEER_REACHABILITY_new_null();
	round->outstanding = 1;  /* held until every probe is started */
	char id[M2M_ENTITY_MAX + 1];
	if (q->peers) {
		for (int i = 0; i < sk_ASN1_UTF8STRING_num(q->peers); i++)
			if (!m2m_str(sk_ASN1_UTF8STRING_value(q->peers, i), id, sizeof id))
				probe(d, round, id);
	} else {
		const m2m_node_conf *nc = m2m_node_config(d->node);
		for (int i = 0; i < nc->npeers; i++)
			if (nc->peers[i].endpoint[0])
				probe(d, round, nc->peers[i].id);
	}
	m2m_defer(d->node, req);
	if (--round->outstanding == 0) {
		m2m_reply(d->node, req, M2M_MSG_PING_PEERS_RESPONSE, round->results);
		M2M_PING_PEERS_RESPONSE_free(round->results);
		free(round);
	}
}

int m2m_common_dispatch(m2m_daemon *d, m2m_request *req)
{
	switch (req->env.type) {
	case M2M_MSG_HEALTH_REQUEST:
		answer_health(d, req);
		return 1;
	case M2M_MSG_PING:
		answer_ping(d, req);
		return 1;
	case M2M_MSG_PING_PEERS_REQUEST:
		answer_ping_peers(d, req);
		return 1;
	default:
		return 0;
	}
}
