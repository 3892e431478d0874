/*
 * Detach: detachRequest{sessionId} to the network the device is attached to, answered by
 * detachAccept once the network has purged the location at the home operator. The device
 * forgets its session whatever the answer, as a UE does when its detach procedure fails
 * (TS 24.301 §5.5.2.2.4): the network's reason, if any, is still reported.
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>

void m2me_forget_session(m2me_device *dev)
{
	if (m2me_store_forget_session(dev))
		m2m_error("the closed session could not be removed from the database");
	dev->state.attached = 0;
	m2m_wipe(&dev->state.session, sizeof dev->state.session);
}

static void on_detach_answer(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	m2me_done_fn done = dev->proc.detach_done;
	char text[256] = "";
	char network[M2M_ENTITY_MAX + 1];
	snprintf(network, sizeof network, "%s", dev->state.session.network);
	m2m_reason r = M2M_OK;
	if (!resp || resp->type != M2M_MSG_DETACH_ACCEPT) {
		m2m_call_failure(network, resp, reason, text, sizeof text);
		r = m2m_call_reason(resp, reason);
	}
	m2me_forget_session(dev);
	m2m_info("detached from %s%s%s", network, r ? ": " : "", text);
	done(dev, r, text);
}

void m2me_detach(m2me_device *dev, m2me_done_fn done)
{
	if (!dev->state.attached) {
		done(dev, M2M_R_NOT_ATTACHED, "not attached");
		return;
	}
	const m2me_session *s = &dev->state.session;
	dev->proc.detach_done = done;
	M2M_DETACH_REQUEST *q = M2M_DETACH_REQUEST_new();
	ASN1_OCTET_STRING_set(q->session_id, s->id, M2M_SESSION_ID_LEN);
	int rc = m2m_call(dev->node, s->network, M2M_MSG_DETACH_REQUEST, q, on_detach_answer, dev);
	M2M_DETACH_REQUEST_free(q);
	if (rc) {
		/* the network was dropped from the configuration since the attach: nobody to tell */
		m2m_warn("%s is no longer a configured peer: the session is forgotten locally", s->network);
		m2me_forget_session(dev);
		done(dev, M2M_OK, NULL);
	}
}
