/*
 * The contacts between the device and the UICC in its slot: one command APDU (or a card
 * reset) at a time, as on a real ISO 7816 interface, carried as apduCommand/apduResponse and
 * cardReset/cardAtr messages to the uicc entity. Response data may hold RES, CK, IK and Kc:
 * it is handed to the procedure and wiped here, never logged. AUTHENTICATE is offered to the
 * attach behind the interface the TRE's AKA has too (m2me_aka_start_fn).
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* Copies an expected answer out of the envelope; M2M_OK or why it is not one. */
static m2m_reason take_answer(const m2m_envelope *resp, int expected, m2me_rapdu *r)
{
	if (resp->type != expected)
		return M2M_R_UNEXPECTED_MESSAGE;
	const ASN1_OCTET_STRING *data;
	if (expected == M2M_MSG_CARD_ATR) {
		data = ((const M2M_CARD_ATR *)resp->body)->atr;
		r->sw = M2ME_SW_OK;
	} else {
		const M2M_APDU_RESPONSE *a = resp->body;
		if (a->status_word > 0xFFFF)
			return M2M_R_BAD_BODY;
		data = a->data;
		r->sw = (uint16_t)a->status_word;
	}
	int len = ASN1_STRING_length(data);
	if (len < 0 || (size_t)len > sizeof r->data)
		return M2M_R_BAD_BODY;
	memcpy(r->data, ASN1_STRING_get0_data(data), (size_t)len);
	r->len = (size_t)len;
	return M2M_OK;
}

static void deliver(m2me_device *dev, const m2m_envelope *resp, m2m_reason reason, int expected)
{
	m2me_rapdu_fn answer = dev->card_answer;
	dev->card_answer = NULL;
	m2me_rapdu r = {0};
	char text[256] = "";
	if (resp && resp->type != M2M_MSG_ERROR) {
		reason = take_answer(resp, expected, &r);
		if (reason)
			snprintf(text, sizeof text, "%s answered %s with a %s", dev->state.card,
				 expected == M2M_MSG_CARD_ATR ? "cardReset" : "a command APDU",
				 reason == M2M_R_BAD_BODY ? "malformed body" : m2m_msgtype_name(resp->type));
	} else {
		m2m_call_failure(dev->state.card, resp, reason, text, sizeof text);
		reason = m2m_call_reason(resp, reason);
	}
	answer(dev, reason ? NULL : &r, reason, text);
	m2m_wipe(&r, sizeof r);
}

static void on_apdu_response(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	deliver(arg, resp, reason, M2M_MSG_APDU_RESPONSE);
}

static void on_atr(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	deliver(arg, resp, reason, M2M_MSG_CARD_ATR);
}

int m2me_card_transmit(m2me_device *dev, const uint8_t *apdu, size_t len, m2me_rapdu_fn answer)
{
	if (!dev->state.card[0] || dev->card_answer)
		return -1;
	M2M_APDU_COMMAND *c = M2M_APDU_COMMAND_new();
	ASN1_OCTET_STRING_set(c->apdu, apdu, (int)len);
	int rc = m2m_call(dev->node, dev->state.card, M2M_MSG_APDU_COMMAND, c, on_apdu_response, dev);
	M2M_APDU_COMMAND_free(c);
	if (rc == 0)
		dev->card_answer = answer;
	return rc;
}

int m2me_card_reset(m2me_device *dev, m2me_rapdu_fn answer)
{
	if (!dev->state.card[0] || dev->card_answer)
		return -1;
	/* the body of cardReset is NULL: an ASN1_NULL value */
	ASN1_NULL *body = ASN1_NULL_new();
	int rc = m2m_call(dev->node, dev->state.card, M2M_MSG_CARD_RESET, body, on_atr, dev);
	ASN1_NULL_free(body);
	if (rc == 0)
		dev->card_answer = answer;
	return rc;
}

/* The card's answer to AUTHENTICATE (TS 31.102 §7.1.2.1) handed on as the holder's outcome. */
static void on_authenticate(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	m2me_aka_fn done = dev->aka_answer;
	dev->aka_answer = NULL;
	if (!r) {
		done(dev, M2ME_AUTH_GARBLED, NULL, reason, text);
		return;
	}
	m2me_auth_result res;
	m2me_auth_outcome outcome = m2me_auth_parse(r->data, r->len, r->sw, &res);
	if (outcome == M2ME_AUTH_GARBLED) {
		char why[128];
		snprintf(why, sizeof why, "%s answered AUTHENTICATE with SW %04X%s", dev->state.card, r->sw,
			 r->sw == M2ME_SW_OK ? " and data that does not parse" : "");
		done(dev, outcome, NULL, M2M_R_CARD_ERROR, why);
	} else {
		done(dev, outcome, &res, M2M_OK, NULL);
	}
	m2m_wipe(&res, sizeof res);
}

int m2me_card_aka(m2me_device *dev, const char *imsi, const uint8_t rand[16], const uint8_t autn[16],
		  m2me_aka_fn done)
{
	uint8_t apdu[M2ME_APDU_MAX];
	size_t len = m2me_apdu_authenticate(rand, autn, apdu);
	if (m2me_card_transmit(dev, apdu, len, on_authenticate))
		return -1;
	dev->aka_answer = done;
	return 0;
}
