/* Why a call got no usable answer (daemon.h): every role's log lines and relayed refusals. */
#include "daemon/daemon.h"

#include <stdio.h>

const char *m2m_call_failure(const char *peer, const m2m_envelope *resp, m2m_reason reason, char *buf, size_t len)
{
	char said[256] = "";
	if (!resp) {
		const char *name = m2m_reason_name(reason);
		snprintf(buf, len, "no answer from %s (%s)", peer, name ? name : "?");
	} else if (resp->type == M2M_MSG_ERROR) {
		const M2M_ERROR_REPORT *er = resp->body;
		const char *name = m2m_reason_name((m2m_reason)ASN1_ENUMERATED_get(er->reason));
		if (m2m_str(er->text, said, sizeof said))
			said[0] = 0;
		snprintf(buf, len, "%s refused: %s: %s", peer, name ? name : "?", said);
	} else {
		snprintf(buf, len, "%s answered with an unexpected %s", peer, m2m_msgtype_name(resp->type));
	}
	return buf;
}

m2m_reason m2m_call_reason(const m2m_envelope *resp, m2m_reason reason)
{
	if (!resp)
		return reason;
	long r = resp->type == M2M_MSG_ERROR ? ASN1_ENUMERATED_get(((const M2M_ERROR_REPORT *)resp->body)->reason) : 0;
	return r > 0 ? (m2m_reason)r : M2M_R_UNEXPECTED_MESSAGE;
}
