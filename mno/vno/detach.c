/*
 * Detach: detachRequest{sessionId} closes the session at once (its key is erased, later data is
 * refused notAttached), then purge{imsi, servingNetwork} tells the home operator the IMSI is no
 * longer here, and the device gets detachAccept once the home has acknowledged. Should the home
 * not answer or refuse, the session stays closed and the device is told why.
 */
#include "vno/vno_impl.h"

#include "log/log.h"

#include <assert.h>
#include <stdio.h>

/* a pending home call carries the session id in the attach id's place */
static_assert(M2M_SESSION_ID_LEN == VNO_ATTACH_ID_LEN, "session and attach ids differ in length");

static void detach_accept(vno_context *v, m2m_request *req)
{
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(v->node, req, M2M_MSG_DETACH_ACCEPT, nothing);
	ASN1_NULL_free(nothing);
}

static void on_purged(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
		      const m2m_envelope *resp, m2m_reason reason)
{
	if (resp && resp->type == M2M_MSG_PURGE_ACK) {
		m2m_info("detach of %s: purged at the home operator", req->env.sender);
		detach_accept(v, req);
		return;
	}
	char text[300];
	m2m_call_failure("the home operator", resp, reason, text, sizeof text);
	m2m_refuse_recorded(v->node, req, m2m_call_reason(resp, reason), "session closed, but the purge failed: %s", text);
}

void vno_detach_request(vno_context *v, m2m_request *req)
{
	const M2M_DETACH_REQUEST *q = req->env.body;
	vno_session s;
	if (vno_session_of_device(v, req, q->session_id, &s))
		return;
	M2M_PURGE *p = vno_purge_message(v, s.imsi);
	int rc = vno_session_close(v->db, s.id) || vno_home_call(v, s.home, M2M_MSG_PURGE, p, req, s.id, on_purged);
	M2M_PURGE_free(p);
	if (rc)
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the session cannot be closed and purged at %s", s.home);
	else {
		m2m_info("detach: session of IMSI %s from %s closed; purge to %s", s.imsi, s.device, s.home);
		m2m_defer(v->node, req);
	}
	vno_session_wipe(&s);
}
