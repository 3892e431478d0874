/* The requests the agency itself answers, each to its procedure (enrol.c, publish.c). */
#include "certauth.h"

void certauth_serve(certauth *c, m2m_request *req)
{
	switch (req->env.type) {
	case M2M_MSG_ENROL_REQUEST:
		certauth_enrol_request(c, req);
		break;
	case M2M_MSG_CRL_REQUEST:
		certauth_crl_request(c, req);
		break;
	case M2M_MSG_PLATFORM_TYPE_REQUEST:
		certauth_platform_type_request(c, req);
		break;
	default:
		m2m_refuse(c->node, req, M2M_R_UNEXPECTED_MESSAGE,
			   "the certification agency serves enrolRequest, crlRequest, platformTypeRequest, "
			   "validationRequest, tamperReport and validationStatusRequest, not %s",
			   m2m_msgtype_name(req->env.type));
	}
}
