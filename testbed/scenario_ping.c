/*
 * ping: proves every link of the topology. Each daemon is sent pingPeersRequest without a
 * list, so it pings every peer its configuration names; every one must answer, and the peers
 * pinged must be exactly the daemon's links in the topology (both directions of each link are
 * proven, since both ends are asked). Then every daemon must answer healthRequest as itself.
 */
#include "testbed.h"

#include <stdio.h>
#include <string.h>

static int linked(const tb_entity *e, int other)
{
	for (int i = 0; i < e->npeers; i++)
		if (e->peers[i] == other)
			return 1;
	return 0;
}

static int check_reachability(tb_session *s, const tb_entity *e, const M2M_PING_PEERS_RESPONSE *res)
{
	const tb_topology *t = s->topology;
	int pinged[TB_MAX_ENTITIES] = {0};
	for (int i = 0; i < sk_M2M_PEER_REACHABILITY_num(res); i++) {
		const M2M_PEER_REACHABILITY *r = sk_M2M_PEER_REACHABILITY_value(res, i);
		char peer[M2M_ENTITY_MAX + 1] = "?";
		m2m_str(r->peer, peer, sizeof peer);
		int k = tb_entity_index(t, peer);
		if (k < 0 || !linked(e, k))
			return tb_step_fail(s, "%s pinged %s, which the topology does not link to it", e->id, peer);
		if (!r->reachable) {
			const char *why = r->reason ? m2m_reason_name((m2m_reason)ASN1_ENUMERATED_get(r->reason)) : NULL;
			return tb_step_fail(s, "%s cannot reach %s: %s", e->id, peer, why ? why : "no reason given");
		}
		pinged[k] = 1;
	}
	for (int i = 0; i < e->npeers; i++)
		if (!pinged[e->peers[i]])
			return tb_step_fail(s, "%s did not ping its peer %s", e->id, t->entities[e->peers[i]].id);
	return tb_step_ok(s);
}

static int ping_peers(tb_session *s, const tb_entity *e)
{
	char peers[1024] = "", why[300];
	for (int i = 0; i < e->npeers; i++)
		snprintf(peers + strlen(peers), sizeof peers - strlen(peers), "%s%s", i ? ", " : "",
			 s->topology->entities[e->peers[i]].id);
	tb_step(s, "%s pings its peers (%s)", e->id, peers);
	M2M_PING_PEERS_REQUEST *all = M2M_PING_PEERS_REQUEST_new();  /* no list: every configured peer */
	tb_reply r;
	tb_call(s->node, e->id, M2M_MSG_PING_PEERS_REQUEST, all, &r);
	M2M_PING_PEERS_REQUEST_free(all);
	tb_reply_problem(&r, M2M_MSG_PING_PEERS_RESPONSE, why, sizeof why);
	int rc = why[0] ? tb_step_fail(s, "%s gave no pingPeersResponse: %s", e->id, why)
			: check_reachability(s, e, r.body);
	tb_reply_clear(&r);
	return rc;
}

static int check_health(tb_session *s, const tb_entity *e, const tb_reply *r)
{
	char why[300], entity[M2M_ENTITY_MAX + 1] = "?", role[32] = "?";
	tb_reply_problem(r, M2M_MSG_HEALTH_RESPONSE, why, sizeof why);
	if (why[0])
		return tb_step_fail(s, "%s: %s", e->id, why);
	const M2M_HEALTH_RESPONSE *h = r->body;
	m2m_str(h->entity, entity, sizeof entity);
	m2m_str(h->role, role, sizeof role);
	if (strcmp(entity, e->id) || strcmp(role, e->role))
		return tb_step_fail(s, "%s answered as %s (%s), expected role %s", e->id, entity, role, e->role);
	return 0;
}

static int health_of_all(tb_session *s)
{
	const tb_topology *t = s->topology;
	tb_reply r[TB_MAX_ENTITIES];
	tb_step(s, "every daemon answers healthRequest as itself");
	for (int i = 0; i < t->nentities; i++)
		tb_health_start(s->node, t->entities[i].id, &r[i]);
	tb_call_wait(s->node, r, t->nentities);
	int rc = 0;
	for (int i = 0; i < t->nentities; i++) {
		if (!rc)
			rc = check_health(s, &t->entities[i], &r[i]);
		tb_reply_clear(&r[i]);
	}
	return rc ? rc : tb_step_ok(s);
}

int tb_scenario_ping(tb_session *s)
{
	const tb_topology *t = s->topology;
	for (int i = 0; i < t->nentities; i++)
		if (ping_peers(s, &t->entities[i]))
			return -1;
	if (health_of_all(s))
		return -1;
	printf("outcome: all %d links proven in both directions\n", t->nlinks);
	return 0;
}
