/*
 * cancelLocation: the HSS tells a network that an IMSI is no longer attached there (it attached
 * elsewhere, or its subscription was suspended). The call leaves with the step that decided it;
 * its acknowledgement, or the lack of one, is audited when it comes.
 */
#include "hss/hss_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hss_cancel {
	hss_context *h;
	char imsi[HSS_IMSI_MAX + 1];
	char network[M2M_ENTITY_MAX + 1];
	hss_cancel *next;
};

static const char *cause_name(int cause)
{
	return cause == M2M_CANCEL_WITHDRAWN ? "subscriptionWithdrawn" : "attachedElsewhere";
}

static void forget(hss_context *h, hss_cancel *c)
{
	for (hss_cancel **p = &h->cancels; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c);
}

static void cancel_done(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	hss_cancel *c = arg;
	hss_context *h = c->h;
	if (resp && resp->type == M2M_MSG_CANCEL_LOCATION_ACK) {
		hss_audit(h->db, c->network, c->imsi, "cancelLocationAck", "location at %s cancelled", c->network);
	} else {
		const char *why = m2m_reason_name(m2m_call_reason(resp, reason));
		m2m_warn("cancelLocation of IMSI %s at %s not acknowledged: %s", c->imsi, c->network, why ? why : "?");
		hss_audit(h->db, c->network, c->imsi, "cancelLocationUnacknowledged", "%s answered %s", c->network,
			  why ? why : "?");
	}
	forget(h, c);
}

void hss_cancel_location(hss_context *h, const char *actor, const char *network, const char *imsi, int cause)
{
	M2M_CANCEL_LOCATION *m = M2M_CANCEL_LOCATION_new();
	hss_cancel *c = calloc(1, sizeof *c);
	c->h = h;
	snprintf(c->imsi, sizeof c->imsi, "%s", imsi);
	snprintf(c->network, sizeof c->network, "%s", network);
	m2m_set_digits(&m->imsi, imsi);
	ASN1_ENUMERATED_set(m->cause, cause);
	if (m2m_call(h->node, network, M2M_MSG_CANCEL_LOCATION, m, cancel_done, c)) {
		hss_audit(h->db, actor, imsi, "cancelLocation", "%s cannot be reached: location dropped without cancel",
			  network);
		free(c);
	} else {
		hss_audit(h->db, actor, imsi, "cancelLocation", "sent to %s (%s)", network, cause_name(cause));
		c->next = h->cancels;
		h->cancels = c;
	}
	M2M_CANCEL_LOCATION_free(m);
}

void hss_cancels_free(hss_context *h)
{
	while (h->cancels) {
		hss_cancel *c = h->cancels;
		h->cancels = c->next;
		free(c);
	}
}
