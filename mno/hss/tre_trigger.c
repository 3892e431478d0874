/*
 * treTrigger{imsi, trigger} of Alternative 3b (docs/alt3b.md): the registration operator asks
 * SHO A, the home of the device's current IMSI, to wake the device's TRE, because only A knows
 * where that IMSI is served. A routes it and does not read the signed TreActivate (the TRE checks
 * it, T-3b-3):
 *
 *   the sender   the operator's registration operator, the DRF of its dpf group (notAuthorised
 *                otherwise, and for an operator without one)
 *   the IMSI     a subscriber of this HSS (notFound), serviceable as for authentication
 *                (pending: wrongState, suspended: subscriberSuspended)
 *   the network  the serving network of its current location (notAttached when it has none)
 *   the relay    the same treTrigger to that network (mno/vno/downlink.c takes it on to the
 *                device), the DRF's request deferred meanwhile; the treTriggerAck goes back as it
 *                came, a refusal with its reason, silence with the transport's (timeout)
 *
 * Nothing is stored: the change is the DRF's and the TRE's; a log line records each relay.
 */
#include "hss/hss_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* arg: the DRF's request (the node frees it, and forgets this call, if it stops first). */
static void on_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2m_request *req = arg;
	char text[300];
	if (resp && resp->type == M2M_MSG_TRE_TRIGGER_ACK) {
		m2m_info("treTrigger: acknowledged by %s; back to %s", resp->sender, req->env.sender);
		m2m_reply(n, req, M2M_MSG_TRE_TRIGGER_ACK, resp->body);
		return;
	}
	m2m_call_failure("the serving network", resp, reason, text, sizeof text);
	m2m_refuse(n, req, m2m_call_reason(resp, reason), "%s", text);
}

/* The network serving imsi, or a refusal sent. */
static int serving_network(hss_context *h, m2m_request *req, const char *imsi, hss_location *loc)
{
	hss_subscriber s;
	char why[200];
	m2m_reason r = hss_serviceable(h, imsi, &s, why, sizeof why);
	hss_subscriber_wipe(&s);
	if (r) {
		m2m_refuse(h->node, req, r, "%s", why);
		return -1;
	}
	int rc = hss_location_get(h->db, imsi, loc);
	if (rc < 0)
		m2m_refuse(h->node, req, M2M_R_INTERNAL, "the location of IMSI %s cannot be read", imsi);
	else if (rc > 0)
		m2m_refuse(h->node, req, M2M_R_NOT_ATTACHED, "IMSI %s is attached nowhere", imsi);
	return rc ? -1 : 0;
}

void hss_tre_trigger(hss_context *h, m2m_request *req)
{
	const M2M_TRE_TRIGGER *q = req->env.body;
	char imsi[HSS_IMSI_MAX + 1];
	hss_location loc;
	if (m2m_digits(q->imsi, imsi, sizeof imsi, 6, HSS_IMSI_MAX)) {
		m2m_refuse(h->node, req, M2M_R_BAD_BODY, "imsi is not 6 to 15 digits");
		return;
	}
	if (!h->drf[0] || strcmp(req->env.sender, h->drf)) {
		m2m_refuse(h->node, req, M2M_R_NOT_AUTHORISED, "only the registration operator%s%s triggers a TRE, not %s",
			   h->drf[0] ? " " : "", h->drf, req->env.sender);
		return;
	}
	if (serving_network(h, req, imsi, &loc))
		return;
	if (m2m_call(h->node, loc.network, M2M_MSG_TRE_TRIGGER, q, on_answer, req)) {
		m2m_refuse(h->node, req, M2M_R_UNREACHABLE, "%s, serving IMSI %s, cannot be called from here", loc.network,
			   imsi);
		return;
	}
	m2m_info("treTrigger from %s for IMSI %s relayed to %s", req->env.sender, imsi, loc.network);
	m2m_defer(h->node, req);
}
