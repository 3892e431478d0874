/*
 * The contacts between the device and its TRE (Alternative 1a, docs/alt1a.md), one request at a
 * time: which credential to attach with (treCredentialRequest), AKA with it (treAkaRequest,
 * offered to the attach behind the interface the card's AUTHENTICATE has), how the attach ended
 * (treAttached, answered like treCredentialRequest: a change of subscription commits or rolls
 * back on it, docs/alt1a-change.md), and the steps of the TRE's provisioning (treProvision). The TRE keeps K, K_pc and its MCIMs; only RES, CK and IK
 * of an AKA come out, handed to the attach and wiped here, never logged.
 */
#include "device.h"

#include "crypto/crypto.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

static int call_tre(m2me_device *dev, int type, const void *body, m2m_response_cb cb)
{
	if (!dev->settings.tre[0] || dev->aka_answer || dev->credential_answer || dev->next_answer)
		return -1;
	return m2m_call(dev->node, dev->settings.tre, type, body, cb, dev);
}

/* The body of the TRE's answer when it is of type (*reason M2M_OK), else NULL with the TRE's
 * refusal or silence in *reason and text. */
static const void *answer_body(m2me_device *dev, const m2m_envelope *resp, int type, m2m_reason *reason, char *text,
			       size_t len)
{
	if (resp && resp->type == type) {
		*reason = M2M_OK;
		return resp->body;
	}
	m2m_call_failure(dev->settings.tre, resp, *reason, text, len);
	*reason = m2m_call_reason(resp, *reason);
	return NULL;
}

static void malformed(const m2me_device *dev, int type, char *text, size_t len)
{
	snprintf(text, len, "%s sent a malformed %s", dev->settings.tre, m2m_msgtype_name(type));
}

/* ---- treCredentialRequest ----------------------------------------------------------------------- */

static m2m_reason read_credential(const M2M_TRE_CREDENTIAL *c, m2me_credential *out)
{
	int kind;
	if (m2m_read_enum(c->kind, M2M_CREDENTIAL_MCIM, &kind))
		return M2M_R_BAD_BODY;
	out->kind = (m2m_credential_kind)kind;
	if (kind == M2M_CREDENTIAL_NONE)
		return M2M_R_NOT_FOUND;
	return m2m_digits(c->imsi, out->imsi, sizeof out->imsi, 6, M2ME_IMSI_MAX) ? M2M_R_BAD_BODY : M2M_OK;
}

static void on_credential(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	m2me_credential_fn done = dev->credential_answer;
	dev->credential_answer = NULL;
	m2me_credential c = {0};
	char text[256] = "";
	const M2M_TRE_CREDENTIAL *body = answer_body(dev, resp, M2M_MSG_TRE_CREDENTIAL, &reason, text, sizeof text);
	int none = 0;
	if (body && (reason = read_credential(body, &c)) == M2M_R_NOT_FOUND)
		none = snprintf(text, sizeof text, "the TRE holds no credential");
	else if (body && reason)
		malformed(dev, M2M_MSG_TRE_CREDENTIAL, text, sizeof text);
	/* kind none is an answer too (3b's treAttached): c with notFound */
	done(dev, !reason || none ? &c : NULL, reason, text);
}

int m2me_tre_credential(m2me_device *dev, m2me_credential_fn done)
{
	ASN1_NULL *body = ASN1_NULL_new();
	int rc = call_tre(dev, M2M_MSG_TRE_CREDENTIAL_REQUEST, body, on_credential);
	ASN1_NULL_free(body);
	if (rc == 0)
		dev->credential_answer = done;
	return rc;
}

/* ---- treAttached ------------------------------------------------------------------------------ */

int m2me_tre_attached(m2me_device *dev, const char *imsi, m2m_reason reason, m2me_credential_fn done)
{
	M2M_TRE_ATTACHED *q = M2M_TRE_ATTACHED_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_ENUMERATED_set(q->result, reason ? M2M_ATTACH_FAILED : M2M_ATTACH_OK);
	if (reason) {
		q->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(q->reason, reason);
	}
	int rc = call_tre(dev, M2M_MSG_TRE_ATTACHED, q, on_credential);
	M2M_TRE_ATTACHED_free(q);
	if (rc == 0)
		dev->credential_answer = done;
	return rc;
}

/* ---- treAkaRequest ------------------------------------------------------------------------------- */

/* RES, CK and IK (success) or AUTS alone (synchronisation failure): the outcome, or GARBLED. */
static m2me_auth_outcome read_aka(const M2M_TRE_AKA_RESPONSE *a, m2me_auth_result *out)
{
	int res_len = a->res ? ASN1_STRING_length(a->res) : 0;
	if (a->auts && !a->res && !a->ck && !a->ik && !m2m_read_octets(a->auts, out->auts, sizeof out->auts))
		return M2ME_AUTH_SYNCH_FAILURE;
	if (a->auts || res_len < 4 || res_len > (int)sizeof out->res || m2m_read_octets(a->ck, out->ck, sizeof out->ck) ||
	    m2m_read_octets(a->ik, out->ik, sizeof out->ik))
		return M2ME_AUTH_GARBLED;
	memcpy(out->res, ASN1_STRING_get0_data(a->res), (size_t)res_len);
	out->res_len = (size_t)res_len;
	return M2ME_AUTH_SUCCESS;
}

static void on_aka(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	m2me_aka_fn done = dev->aka_answer;
	dev->aka_answer = NULL;
	m2me_auth_result res = {0};
	m2me_auth_outcome outcome = M2ME_AUTH_GARBLED;
	char text[256] = "";
	const M2M_TRE_AKA_RESPONSE *body = answer_body(dev, resp, M2M_MSG_TRE_AKA_RESPONSE, &reason, text, sizeof text);
	if (body && (outcome = read_aka(body, &res)) == M2ME_AUTH_GARBLED) {
		reason = M2M_R_BAD_BODY;
		malformed(dev, M2M_MSG_TRE_AKA_RESPONSE, text, sizeof text);
	}
	/* the TRE refuses a wrong MAC: the network is not the credential's (TS 33.102 6.3.3) */
	if (reason == M2M_R_MAC_FAILURE && !body) {
		outcome = M2ME_AUTH_MAC_FAILURE;
		reason = M2M_OK;
	}
	done(dev, outcome, reason ? NULL : &res, reason, text);
	m2m_wipe(&res, sizeof res);
}

int m2me_tre_aka(m2me_device *dev, const char *imsi, const uint8_t rand[16], const uint8_t autn[16],
		 m2me_aka_fn done)
{
	M2M_TRE_AKA_REQUEST *q = M2M_TRE_AKA_REQUEST_new();
	m2m_set_digits(&q->imsi, imsi);
	ASN1_OCTET_STRING_set(q->rand, rand, 16);
	ASN1_OCTET_STRING_set(q->autn, autn, 16);
	int rc = call_tre(dev, M2M_MSG_TRE_AKA_REQUEST, q, on_aka);
	M2M_TRE_AKA_REQUEST_free(q);
	if (rc == 0)
		dev->aka_answer = done;
	return rc;
}

/* ---- treProvision ---------------------------------------------------------------------------------- */

/* Done, failed and the switches (the device's turn: an attach) name no step, the others one; in
 * 3b's states a card step (an APDU for the UICC) may come instead: M2M_OK, or badBody. */
static m2m_reason read_next(const M2M_TRE_PROVISION_NEXT *p, m2me_next *out)
{
	int state, reason = 0;
	if (m2m_read_enum(p->state, M2M_PROV_UICC_COMPLETING, &state) ||
	    (p->reason && m2m_read_enum(p->reason, 255, &reason)))
		return M2M_R_BAD_BODY;
	out->state = (m2m_provision_state)state;
	out->step = p->step;
	out->card = p->card;
	out->reason = (m2m_reason)reason;
	int stepless = state == M2M_PROV_DONE || state == M2M_PROV_FAILED || state == M2M_PROV_SWITCHING ||
		       state == M2M_PROV_UICC_SWITCHING;
	if (p->card)
		return state >= M2M_PROV_UICC_REGISTERING && !p->step ? M2M_OK : M2M_R_BAD_BODY;
	return stepless == !p->step ? M2M_OK : M2M_R_BAD_BODY;
}

static void on_next(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2me_device *dev = arg;
	m2me_next_fn done = dev->next_answer;
	dev->next_answer = NULL;
	m2me_next next = {0};
	char text[256] = "";
	const M2M_TRE_PROVISION_NEXT *body = answer_body(dev, resp, M2M_MSG_TRE_PROVISION_NEXT, &reason, text, sizeof text);
	if (body && (reason = read_next(body, &next)))
		malformed(dev, M2M_MSG_TRE_PROVISION_NEXT, text, sizeof text);
	done(dev, reason ? NULL : &next, reason, text);
}

/* The card's answer to a card step (3b): its data and status word, as the card gave them. */
static M2M_APDU_RESPONSE *card_answer(const m2me_rapdu *r)
{
	M2M_APDU_RESPONSE *a = M2M_APDU_RESPONSE_new();
	ASN1_OCTET_STRING_set(a->data, r->data, (int)r->len);
	a->status_word = r->sw;
	return a;
}

int m2me_tre_provision(m2me_device *dev, const M2M_RELAY_RESPONSE *answer, const m2me_rapdu *card,
		       m2me_next_fn done)
{
	M2M_TRE_PROVISION *q = M2M_TRE_PROVISION_new();
	if (answer)
		q->answer = ASN1_item_dup(ASN1_ITEM_rptr(M2M_RELAY_RESPONSE), answer);
	if (card)
		q->card = card_answer(card);
	int rc = answer && !q->answer ? -1 : call_tre(dev, M2M_MSG_TRE_PROVISION, q, on_next);
	M2M_TRE_PROVISION_free(q);
	if (rc == 0)
		dev->next_answer = done;
	return rc;
}
