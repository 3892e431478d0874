/*
 * cancelLocation{imsi, cause} from a home operator: the IMSI is no longer attached here (it
 * attached elsewhere, or its subscription was withdrawn, e.g. suspended as a suspected clone).
 * Every open session of the IMSI closes, and their devices are refused notAttached from then on.
 * Only the home operator that serves the IMSI by our roaming table may cancel it, so that one
 * operator cannot cut off another's subscribers. An IMSI with no open session is acknowledged
 * all the same: the cancel's effect, no session, holds.
 */
#include "vno/vno_impl.h"

#include "log/log.h"

void vno_cancel_location(vno_context *v, m2m_request *req)
{
	const M2M_CANCEL_LOCATION *q = req->env.body;
	char imsi[VNO_IMSI_MAX + 1];
	long cause = ASN1_ENUMERATED_get(q->cause);
	if (vno_read_imsi(q->imsi, imsi) || (cause != M2M_CANCEL_WITHDRAWN && cause != M2M_CANCEL_ATTACHED_ELSEWHERE)) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "imsi must be 6 to 15 digits and cause one of the two defined");
		return;
	}
	if (!vno_serves(&v->settings, req->env.sender, imsi)) {
		m2m_refuse(v->node, req, M2M_R_NOT_AUTHORISED, "%s is not the home operator of IMSI %s", req->env.sender,
			   imsi);
		return;
	}
	int closed = vno_sessions_close_imsi(v->db, imsi);
	if (closed < 0) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the sessions of IMSI %s cannot be closed", imsi);
		return;
	}
	m2m_info("cancelLocation from %s (%s): %d session(s) of IMSI %s closed", req->env.sender,
		 cause == M2M_CANCEL_WITHDRAWN ? "subscriptionWithdrawn" : "attachedElsewhere", closed, imsi);
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(v->node, req, M2M_MSG_CANCEL_LOCATION_ACK, nothing);
	ASN1_NULL_free(nothing);
}
