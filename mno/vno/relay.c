/*
 * relayRequest{sessionId, step{destination, messageType, body}}: a device's message to a network
 * function it cannot reach itself, carried over its attach session (docs/alt1a.md): on a PCID
 * session the TRE's discovery, MCIM order and install result; on an operational session also
 * 1a's changeComplete and Alternative 3b's uiccChangeRegister and uiccChangeComplete, the TRE's
 * signed steps to the DRF over the session of the card's IMSI (docs/alt3b.md), whose answers
 * (uiccCredentialDelivery: ciphertext for the card; uiccChangeCompleteAck) come back as any.
 *
 *   the session     exists, is the sender's and open (as protectedData)
 *   the policy      a PCID session is a walled garden (TR 33.812 T-1a-7): only the entities of
 *                   walled_garden, only the provisioning steps; on any session, no operator
 *                   signalling, which the destination would take as this operator's own
 *   the body        decoded strictly as the body of messageType, then sent as our own request
 *                   to destination; the device request stays deferred meanwhile
 *   the answer      relayResponse{its messageType, DER of its body}; an ErrorReport goes back
 *                   as messageType error; no answer refuses with the transport's reason
 *
 * The relay keeps no state and no secret: the MCIM crosses encrypted to the TRE, an answer whose
 * type can carry secrets is never passed on, and a retried relayRequest is answered by the
 * node's window.
 */
#include "vno/vno_impl.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>

#define RELAY_BODY_MAX 65536  /* RelayStep.body and RelayResponse.body */

/* The steps of the TRE's provisioning (docs/alt1a.md steps 4 to 7): all a PCID may send. */
static const int provisioning_types[] = {M2M_MSG_DISCOVERY_REQUEST, M2M_MSG_MCIM_REQUEST, M2M_MSG_INSTALL_RESULT};

/* What operators say to each other: relayed, it would reach the destination in our name (a
 * device asking an HSS for vectors, purging another's location, assigning itself a PCID; in 3b
 * waking another device's TRE, ordering a card's credentials from an operator, releasing an
 * IMSI, which the destinations take from the DRF or a home operator only). */
static const int operator_types[] = {
	M2M_MSG_AUTH_INFO_REQUEST,    M2M_MSG_UPDATE_LOCATION, M2M_MSG_PURGE,         M2M_MSG_CANCEL_LOCATION,
	M2M_MSG_REGISTRATION_REQUEST, M2M_MSG_PROVISIONED,     M2M_MSG_PCID_ASSIGN_REQUEST,
	M2M_MSG_TRE_TRIGGER,          M2M_MSG_UICC_CREDENTIAL_ORDER, M2M_MSG_UICC_RELEASE,
};

static int listed(const int *types, size_t n, int type)
{
	for (size_t i = 0; i < n; i++)
		if (types[i] == type)
			return 1;
	return 0;
}

static int in_walled_garden(const vno_settings *settings, const char *destination)
{
	for (int i = 0; i < settings->nwalled; i++)
		if (!strcmp(settings->walled[i], destination))
			return 1;
	return 0;
}

m2m_reason vno_relay_admit(const vno_settings *settings, const vno_session *s, const char *sender,
			   const char *destination, int type)
{
	m2m_reason r = vno_session_usable(s, sender);
	if (r != M2M_OK)
		return r;
	if (s->pcid && (!in_walled_garden(settings, destination) ||
			!listed(provisioning_types, sizeof provisioning_types / sizeof provisioning_types[0], type)))
		return M2M_R_WALLED_GARDEN;
	if (listed(operator_types, sizeof operator_types / sizeof operator_types[0], type))
		return M2M_R_NOT_AUTHORISED;
	return M2M_OK;
}

/* ---- the body ---------------------------------------------------------------------------------- */

/* The body of type from its DER, as strictly as the body of a message (m2m_decode_body). */
static m2m_reason decode_body(int type, const ASN1_OCTET_STRING *der, void **body)
{
	return m2m_decode_body(type, ASN1_STRING_get0_data(der), (size_t)ASN1_STRING_length(der), body);
}

/* ---- the answer ---------------------------------------------------------------------------------- */

static void relay_answer(vno_context *v, m2m_request *req, const char *destination, const m2m_envelope *resp)
{
	const m2m_msgdef *def = m2m_msgdef_find(resp->type);
	if (m2m_has_secrets(resp->type)) {
		m2m_refuse(v->node, req, M2M_R_NOT_AUTHORISED, "%s answered %s, which can carry secrets: not relayed",
			   destination, def->name);
		return;
	}
	unsigned char *der = NULL;
	int len = ASN1_item_i2d(resp->body, &der, def->item());
	if (len <= 0 || len > RELAY_BODY_MAX) {
		OPENSSL_free(der);
		m2m_refuse(v->node, req, len > 0 ? M2M_R_LENGTH_TOO_LARGE : M2M_R_INTERNAL,
			   "the %s of %s does not fit a relayResponse", def->name, destination);
		return;
	}
	M2M_RELAY_RESPONSE *out = M2M_RELAY_RESPONSE_new();
	out->message_type = resp->type;
	ASN1_OCTET_STRING_set(out->body, der, len);
	OPENSSL_free(der);
	m2m_info("relay: %s answered %s to %s", destination, def->name, req->env.sender);
	m2m_reply(v->node, req, M2M_MSG_RELAY_RESPONSE, out);
	M2M_RELAY_RESPONSE_free(out);
}

static void on_answer(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
		      const m2m_envelope *resp, m2m_reason reason)
{
	const M2M_RELAY_REQUEST *q = req->env.body;
	char destination[M2M_ENTITY_MAX + 1], text[300];
	m2m_read_name(q->step->destination, destination, M2M_ENTITY_MAX);  /* read before the call */
	if (resp) {
		relay_answer(v, req, destination, resp);
		return;
	}
	m2m_refuse(v->node, req, reason, "%s", m2m_call_failure(destination, NULL, reason, text, sizeof text));
}

/* ---- relayRequest -------------------------------------------------------------------------------- */

static void refuse_policy(vno_context *v, m2m_request *req, m2m_reason r, const char *destination, int type)
{
	char reach[VNO_WALLED_MAX * (M2M_ENTITY_MAX + 2) + 1] = "";
	for (int i = 0; i < v->settings.nwalled; i++)
		snprintf(reach + strlen(reach), sizeof reach - strlen(reach), "%s%s", i ? ", " : "", v->settings.walled[i]);
	if (r == M2M_R_WALLED_GARDEN)
		m2m_refuse(v->node, req, r,
			   "a PCID session may reach only %s, with discoveryRequest, mcimRequest or installResult:"
			   " not %s with %s", reach[0] ? reach : "nothing", destination, m2m_msgtype_name(type));
	else if (r == M2M_R_NOT_AUTHORISED)
		m2m_refuse(v->node, req, r, "%s is operator signalling: a device cannot send it in the name of %s",
			   m2m_msgtype_name(type), v->entity);
	else
		m2m_refuse(v->node, req, r, "the session cannot carry a relay (%s)", m2m_reason_name(r));
}

/* The step's destination and type, checked: 0, or -1 after refusing. */
static int read_step(vno_context *v, m2m_request *req, const M2M_RELAY_STEP *step, char *destination)
{
	int len = ASN1_STRING_length(step->body);
	const char *bad = m2m_read_name(step->destination, destination, M2M_ENTITY_MAX) ? "destination is not an entity id"
			  : !m2m_msgdef_find(step->message_type) ? "messageType is not a message of the module"
			  : len < 1 || len > RELAY_BODY_MAX    ? "body must be 1 to 65536 octets"
							       : NULL;
	if (bad)
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "%s", bad);
	return bad ? -1 : 0;
}

static void forward(vno_context *v, m2m_request *req, const vno_session *s, const char *destination)
{
	const M2M_RELAY_STEP *step = ((const M2M_RELAY_REQUEST *)req->env.body)->step;
	int type = step->message_type;
	const char *name = m2m_msgtype_name(type);
	void *body = NULL;
	m2m_reason r = decode_body(type, step->body, &body);
	if (r != M2M_OK) {
		m2m_refuse(v->node, req, r, "body is not a %s body in DER (%s)", name, m2m_reason_name(r));
		return;
	}
	const m2m_peer_conf *peer = m2m_node_conf_peer(m2m_node_config(v->node), destination);
	if (!peer || !peer->endpoint[0])
		m2m_refuse(v->node, req, M2M_R_UNKNOWN_PEER, "%s is not a peer this network can call", destination);
	else if (vno_home_call(v, destination, type, body, req, s->id, on_answer))
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the %s cannot be sent to %s", name, destination);
	else {
		m2m_info("relay: %s from %s to %s on the %s session of IMSI %s", name, s->device, destination,
			 s->pcid ? "PCID" : "operational", s->imsi);
		m2m_defer(v->node, req);
	}
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
}

void vno_relay_request(vno_context *v, m2m_request *req)
{
	const M2M_RELAY_REQUEST *q = req->env.body;
	char destination[M2M_ENTITY_MAX + 1];
	vno_session s;
	if (read_step(v, req, q->step, destination) || vno_session_of_device(v, req, q->session_id, &s))
		return;
	m2m_reason r = vno_relay_admit(&v->settings, &s, req->env.sender, destination, q->step->message_type);
	if (r != M2M_OK)
		refuse_policy(v, req, r, destination, q->step->message_type);
	else
		forward(v, req, &s, destination);
	vno_session_wipe(&s);
}
