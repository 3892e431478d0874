/*
 * The downlink from a home operator to a device attached here: smsDeliver{imsi, tpdu} from its
 * OTA server (docs/m2me-ota.md; the visited network plays the SMS service centre and the radio
 * for the SMS-PP download of a secured packet, TS 23.040, TS 31.115) and treTrigger{imsi,
 * trigger} of Alternative 3b (docs/alt3b.md; the registration operator's signed wake-up for the
 * device's TRE, which only the IMSI's home can route). Both travel the same way:
 *
 *   the sender   only the home operator that serves the IMSI by the roaming table may send to
 *                it (notAuthorised), as for cancelLocation
 *   the device   the one with an open session of the IMSI (notAttached when there is none); a
 *                PCID's session is a walled garden and gets nothing (walledGarden, T-1a-7)
 *   the relay    the same message to the device, the home's request deferred meanwhile; the
 *                device's answer (smsReport, treTriggerAck) goes back as it came, its refusal
 *                with its reason (a busy device's wrongState, which the home retries), no answer
 *                with the transport's (timeout)
 *
 * Nothing is stored: the TPDU is the card's secured packet and the trigger the TRE's signed
 * object, both opaque here; a log line records each relay, and the node's window answers a
 * retried request.
 */
#include "vno/vno_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

#define SMS_TPDU_MAX 164  /* SmsDeliver.tpdu: one SMS-DELIVER */

/* One kind of downlink message: its answer, its name in the logs, and where its IMSI is. */
typedef struct downlink_kind {
	int type, answer;
	const char *name;
	/* The body's IMSI into imsi, 0; -1 with the refusal's text in why when the body is bad. */
	int (*read)(const void *body, char imsi[VNO_IMSI_MAX + 1], const char **why);
} downlink_kind;

static int read_sms(const void *body, char imsi[VNO_IMSI_MAX + 1], const char **why)
{
	const M2M_SMS_DELIVER *q = body;
	int len = ASN1_STRING_length(q->tpdu);
	*why = "imsi must be 6 to 15 digits and tpdu 1 to 164 octets";
	return vno_read_imsi(q->imsi, imsi) || len < 1 || len > SMS_TPDU_MAX ? -1 : 0;
}

/* The signed object is the TRE's to check; only its routing IMSI is read here. */
static int read_trigger(const void *body, char imsi[VNO_IMSI_MAX + 1], const char **why)
{
	*why = "imsi must be 6 to 15 digits";
	return vno_read_imsi(((const M2M_TRE_TRIGGER *)body)->imsi, imsi);
}

static const downlink_kind kinds[] = {
	{M2M_MSG_SMS_DELIVER, M2M_MSG_SMS_REPORT, "smsDeliver", read_sms},
	{M2M_MSG_TRE_TRIGGER, M2M_MSG_TRE_TRIGGER_ACK, "treTrigger", read_trigger},
};

static const downlink_kind *kind_of(int type)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].type == type)
			return &kinds[i];
	return NULL;
}

m2m_reason vno_downlink_admit(const vno_settings *settings, const char *home, const char *imsi, const vno_session *s)
{
	if (!vno_serves(settings, home, imsi))
		return M2M_R_NOT_AUTHORISED;
	if (!s || !s->open)
		return M2M_R_NOT_ATTACHED;
	return s->pcid ? M2M_R_WALLED_GARDEN : M2M_OK;
}

static void on_answer(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN], const m2m_envelope *resp,
		      m2m_reason reason)
{
	const downlink_kind *k = kind_of(req->env.type);
	vno_session s;
	char device[M2M_ENTITY_MAX + 1] = "the device", text[300];
	if (vno_session_load(v->db, v->settings.storage_key, id, &s) == 0)
		snprintf(device, sizeof device, "%s", s.device);
	vno_session_wipe(&s);
	if (resp && resp->type == k->answer) {
		m2m_info("downlink: %s answered %s; back to %s", device, m2m_msgtype_name(k->answer), req->env.sender);
		m2m_reply(v->node, req, k->answer, resp->body);
		return;
	}
	m2m_call_failure(device, resp, reason, text, sizeof text);
	m2m_refuse(v->node, req, m2m_call_reason(resp, reason), "%s", text);
}

/* Why the sender may not reach the device of s, in words for the refusal. */
static void refuse_admission(vno_context *v, m2m_request *req, m2m_reason r, const downlink_kind *k, const char *imsi)
{
	if (r == M2M_R_NOT_AUTHORISED)
		m2m_refuse(v->node, req, r, "%s is not the home operator of IMSI %s", req->env.sender, imsi);
	else if (r == M2M_R_WALLED_GARDEN)
		m2m_refuse(v->node, req, r, "IMSI %s is a PCID: its walled-garden session carries no %s", imsi, k->name);
	else
		m2m_refuse(v->node, req, r, "IMSI %s is not attached here", imsi);
}

static void relay(vno_context *v, m2m_request *req, const downlink_kind *k, const vno_session *s)
{
	const m2m_peer_conf *peer = m2m_node_conf_peer(m2m_node_config(v->node), s->device);
	if (!peer || !peer->endpoint[0])
		m2m_refuse(v->node, req, M2M_R_UNREACHABLE, "%s, attached with IMSI %s, cannot be called from here",
			   s->device, s->imsi);
	else if (vno_home_call(v, s->device, k->type, req->env.body, req, s->id, on_answer))
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the %s cannot be sent to %s", k->name, s->device);
	else {
		m2m_info("downlink: %s from %s for IMSI %s relayed to %s", k->name, req->env.sender, s->imsi, s->device);
		m2m_defer(v->node, req);
	}
}

void vno_downlink(vno_context *v, m2m_request *req)
{
	const downlink_kind *k = kind_of(req->env.type);
	char imsi[VNO_IMSI_MAX + 1];
	const char *why;
	if (!k) {
		m2m_refuse(v->node, req, M2M_R_UNEXPECTED_MESSAGE, "%s is not a downlink message",
			   m2m_msgtype_name(req->env.type));
		return;
	}
	if (k->read(req->env.body, imsi, &why)) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "%s", why);
		return;
	}
	vno_session s;
	int found = vno_session_of_imsi(v->db, v->settings.storage_key, imsi, &s);
	if (found < 0) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the sessions of IMSI %s cannot be read", imsi);
		return;
	}
	m2m_reason r = vno_downlink_admit(&v->settings, req->env.sender, imsi, found ? NULL : &s);
	if (r != M2M_OK)
		refuse_admission(v, req, r, k, imsi);
	else
		relay(v, req, k, &s);
	vno_session_wipe(&s);
}
