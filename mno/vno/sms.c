/*
 * smsDeliver{imsi, tpdu} from a home operator's OTA server (docs/m2me-ota.md): the visited
 * network plays the SMS service centre and the radio for the SMS-PP download of a secured
 * packet to the card of a device attached here (TS 23.040, TS 31.115).
 *
 *   the sender   only the home operator that serves the IMSI by the roaming table may send to
 *                it (notAuthorised), as for cancelLocation
 *   the device   the one with an open session of the IMSI (notAttached when there is none); a
 *                PCID's session is a walled garden and gets no SMS (walledGarden, T-1a-7)
 *   the relay    the same smsDeliver to the device, the home's request deferred meanwhile; the
 *                device's smsReport goes back as it came, its refusal with its reason (a busy
 *                device's wrongState, which the home retries), no answer with the transport's
 *                (timeout)
 *
 * Nothing is stored: the TPDU is the card's secured packet, opaque here; a log line records
 * each relay, and the node's window answers a retried smsDeliver.
 */
#include "vno/vno_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

#define SMS_TPDU_MAX 164  /* SmsDeliver.tpdu: one SMS-DELIVER */

m2m_reason vno_sms_admit(const vno_settings *settings, const char *home, const char *imsi, const vno_session *s)
{
	if (!vno_serves(settings, home, imsi))
		return M2M_R_NOT_AUTHORISED;
	if (!s || !s->open)
		return M2M_R_NOT_ATTACHED;
	return s->pcid ? M2M_R_WALLED_GARDEN : M2M_OK;
}

static void on_report(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN], const m2m_envelope *resp,
		      m2m_reason reason)
{
	vno_session s;
	char device[M2M_ENTITY_MAX + 1] = "the device", text[300];
	if (vno_session_load(v->db, v->settings.storage_key, id, &s) == 0)
		snprintf(device, sizeof device, "%s", s.device);
	vno_session_wipe(&s);
	if (resp && resp->type == M2M_MSG_SMS_REPORT) {
		m2m_info("sms: %s answered smsReport%s; back to %s", device,
			 ((const M2M_SMS_REPORT *)resp->body)->tpdu ? " with its report TPDU" : "", req->env.sender);
		m2m_reply(v->node, req, M2M_MSG_SMS_REPORT, resp->body);
		return;
	}
	m2m_call_failure(device, resp, reason, text, sizeof text);
	m2m_refuse(v->node, req, m2m_call_reason(resp, reason), "%s", text);
}

/* Why the sender may not reach the device of s, in words for the refusal. */
static void refuse_admission(vno_context *v, m2m_request *req, m2m_reason r, const char *imsi)
{
	if (r == M2M_R_NOT_AUTHORISED)
		m2m_refuse(v->node, req, r, "%s is not the home operator of IMSI %s", req->env.sender, imsi);
	else if (r == M2M_R_WALLED_GARDEN)
		m2m_refuse(v->node, req, r, "IMSI %s is a PCID: its walled-garden session carries no SMS", imsi);
	else
		m2m_refuse(v->node, req, r, "IMSI %s is not attached here", imsi);
}

static void relay(vno_context *v, m2m_request *req, const vno_session *s)
{
	const m2m_peer_conf *peer = m2m_node_conf_peer(m2m_node_config(v->node), s->device);
	if (!peer || !peer->endpoint[0])
		m2m_refuse(v->node, req, M2M_R_UNREACHABLE, "%s, attached with IMSI %s, cannot be called from here",
			   s->device, s->imsi);
	else if (vno_home_call(v, s->device, M2M_MSG_SMS_DELIVER, req->env.body, req, s->id, on_report))
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the smsDeliver cannot be sent to %s", s->device);
	else {
		m2m_info("sms: smsDeliver from %s for IMSI %s relayed to %s", req->env.sender, s->imsi, s->device);
		m2m_defer(v->node, req);
	}
}

void vno_sms_deliver(vno_context *v, m2m_request *req)
{
	const M2M_SMS_DELIVER *q = req->env.body;
	char imsi[VNO_IMSI_MAX + 1];
	int len = ASN1_STRING_length(q->tpdu);
	if (vno_read_imsi(q->imsi, imsi) || len < 1 || len > SMS_TPDU_MAX) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "imsi must be 6 to 15 digits and tpdu 1 to %d octets",
			   SMS_TPDU_MAX);
		return;
	}
	vno_session s;
	int found = vno_session_of_imsi(v->db, v->settings.storage_key, imsi, &s);
	if (found < 0) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the sessions of IMSI %s cannot be read", imsi);
		return;
	}
	m2m_reason r = vno_sms_admit(&v->settings, req->env.sender, imsi, found ? NULL : &s);
	if (r != M2M_OK)
		refuse_admission(v, req, r, imsi);
	else
		relay(v, req, &s);
	vno_session_wipe(&s);
}
