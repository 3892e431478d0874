/*
 * The PVA without the daemon: the dispatch of the requests it serves to one procedure each, and
 * what a restart does to the procedures that were under way.
 */
#include "pva_impl.h"

int pva_resume(pva_context *p)
{
	if (m2m_store_begin(p->db))
		return -1;
	int abandoned = pva_challenge_abandon_all(p->db);
	if (abandoned < 0 || m2m_store_commit(p->db)) {
		m2m_store_rollback(p->db);
		return -1;
	}
	return abandoned;
}

void pva_serve(pva_context *p, m2m_request *req)
{
	switch (req->env.type) {
	case M2M_MSG_VALIDATION_REQUEST:
		pva_validation_request(p, req);
		break;
	case M2M_MSG_TAMPER_REPORT:
		pva_tamper_report(p, req);
		break;
	case M2M_MSG_VALIDATION_STATUS_REQUEST:
		pva_status_request(p, req);
		break;
	default:
		m2m_refuse(p->node, req, M2M_R_UNEXPECTED_MESSAGE,
			   "the PVA serves validationRequest, tamperReport and validationStatusRequest, not %s",
			   m2m_msgtype_name(req->env.type));
	}
}
