/*
 * smsDeliver{imsi, tpdu}: an SMS for the device, relayed by the visited network it is attached
 * through (docs/m2me-ota.md). Only that network may send one, only for the IMSI of the session,
 * and only a card takes it: an SMS-DELIVER for USIM data download (TP-PID 7F) goes to the UICC
 * in an ENVELOPE (SMS-PP download, TS 31.111 §7.1.1.2):
 *
 *   ENVELOPING  80 C2 00 00 Lc D1 {82 02 83 81, 8B TPDU} sent     -> data and SW
 *
 *   9000        smsReport{tpdu: SMS-DELIVER-REPORT (RP-ACK) with the card's data, the PoR}, or
 *               smsReport{} when the card gave no data
 *   91XX        the same report; then the proactive session the card opened (refresh.c): its
 *               phase is stored before the report leaves, and FETCH follows it
 *   another SW  cardError naming it (TS 31.111 §7.1.1.2: the ME reports the card's failure);
 *               no answer: the card link's reason
 *
 * The phase is stored from the moment the ENVELOPE leaves: the card may rewrite its files while
 * it holds the command, so a device killed then reads the card afresh when it starts again.
 * A device busy with another procedure refuses wrongState ("busy"), which the sender retries.
 */
#include "device.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/sms.h"

#include <stdio.h>
#include <string.h>

/* ---- the card's answer ------------------------------------------------------------------------ */

static void end(m2me_device *dev)
{
	m2m_wipe(&dev->proc, sizeof dev->proc);
}

/* The download failed: nothing is left to settle, the row goes with the refusal, which leaves
 * once that is committed (m2me_done_fn). */
static void refuse(m2me_device *dev, m2m_reason reason, const char *text)
{
	if (m2me_store_forget_ota(dev))
		m2m_error("the end of the SMS-PP download could not be stored");
	m2m_refuse_recorded(dev->node, dev->proc.req, reason, "%s", text);
	end(dev);
}

/* smsReport with the SMS-DELIVER-REPORT carrying the card's data (none: no tpdu); NULL when the
 * data does not fit one. */
static M2M_SMS_REPORT *report_of(const m2me_rapdu *r)
{
	M2M_SMS_REPORT *rep = M2M_SMS_REPORT_new();
	if (!r->len)
		return rep;
	uint8_t tpdu[M2M_SMS_TPDU_MAX];
	size_t len;
	if (m2m_sms_report_build(r->data, r->len, tpdu, sizeof tpdu, &len)) {
		M2M_SMS_REPORT_free(rep);
		return NULL;
	}
	rep->tpdu = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(rep->tpdu, tpdu, (int)len);
	return rep;
}

static void on_envelope(m2me_device *dev, const m2me_rapdu *r, m2m_reason reason, const char *text)
{
	m2m_request *req = dev->proc.req;
	if (!r) {
		/* the card may have acted on the packet before it fell silent: it is read again later */
		m2m_warn("smsDeliver refused: %s: %s", m2me_reason_name(reason), text);
		m2m_refuse(dev->node, req, reason, "%s", text);
		m2me_ota_interrupted(dev, "the SMS-PP download got no answer");
		return;
	}
	int proactive = r->sw >> 8 == M2ME_SW1_PROACTIVE;
	if (r->sw != M2ME_SW_OK && !proactive) {
		m2me_fail(dev, refuse, M2M_R_CARD_ERROR, "%s answered the SMS-PP download with SW %04X", dev->state.card,
			  r->sw);
		return;
	}
	/* stored before the report leaves: the proactive session survives a restart */
	if (proactive ? m2me_refresh_begin(dev, (uint8_t)r->sw) : m2me_store_forget_ota(dev)) {
		m2m_refuse(dev->node, req, M2M_R_INTERNAL, "the card's answer could not be stored");
		m2me_ota_interrupted(dev, "the card's answer could not be stored");
		return;
	}
	M2M_SMS_REPORT *rep = report_of(r);
	m2m_info("SMS-PP download: %s answered SW %04X with %zu bytes; smsReport to %s", dev->state.card, r->sw, r->len,
		 req->env.sender);
	if (rep)
		m2m_reply(dev->node, req, M2M_MSG_SMS_REPORT, rep);
	else  /* the card's answer stands, and so does the command it may have pending */
		m2m_refuse_recorded(dev->node, req, M2M_R_CARD_ERROR, "%s answered with %zu bytes: more than an"
				    " SMS-DELIVER-REPORT carries", dev->state.card, r->len);
	M2M_SMS_REPORT_free(rep);
	dev->proc.req = NULL;
	if (proactive)
		m2me_refresh_fetch(dev);
	else
		end(dev);
}

/* ---- smsDeliver ----------------------------------------------------------------------------------- */

/* The ENVELOPE of the SMS-PP download of tpdu into apdu: its length, or 0. */
static size_t envelope_of(const ASN1_OCTET_STRING *tpdu, uint8_t apdu[M2ME_APDU_MAX])
{
	uint8_t data[M2ME_CAT_DATA_MAX];
	size_t len;
	if (m2m_sms_pp_download_build(ASN1_STRING_get0_data(tpdu), (size_t)ASN1_STRING_length(tpdu), data, sizeof data,
				      &len) ||
	    len > M2ME_CAT_DATA_MAX)
		return 0;
	return m2me_apdu_envelope(data, len, apdu);
}

/* The procedure's row and working state: where the session is, should the card change its IMSI. */
static int enter(m2me_device *dev, m2m_request *req)
{
	const m2me_session *s = &dev->state.session;
	dev->proc = (m2me_procedure){.active = 1, .kind = M2ME_PROC_SMS, .req = req};
	m2me_ota_run *o = &dev->proc.ota;
	o->phase = M2ME_OTA_ENVELOPING;
	snprintf(o->network, sizeof o->network, "%s", s->network);
	snprintf(o->apn, sizeof o->apn, "%s", s->apn);
	snprintf(o->from_imsi, sizeof o->from_imsi, "%s", s->imsi);
	return m2me_store_save_ota(dev, o);
}

void m2me_sms_deliver(m2me_device *dev, m2m_request *req)
{
	const M2M_SMS_DELIVER *q = req->env.body;
	char imsi[M2ME_IMSI_MAX + 1], why[200];
	int len = ASN1_STRING_length(q->tpdu);
	if (m2m_digits(q->imsi, imsi, sizeof imsi, 6, M2ME_IMSI_MAX) || len < 1 || len > M2M_SMS_TPDU_MAX) {
		m2m_refuse(dev->node, req, M2M_R_BAD_BODY, "imsi must be 6 to 15 digits and tpdu 1 to %d octets",
			   M2M_SMS_TPDU_MAX);
		return;
	}
	m2m_reason r = m2me_downlink_admit(dev, req->env.sender, imsi, "an SMS-PP download", why, sizeof why);
	if (r) {
		m2m_refuse(dev->node, req, r, "%s", why);
		return;
	}
	uint8_t apdu[M2ME_APDU_MAX];
	size_t n = envelope_of(q->tpdu, apdu);
	if (!n) {
		m2m_refuse(dev->node, req, M2M_R_BAD_BODY, "the tpdu does not fit an ENVELOPE (SMS-PP download)");
		return;
	}
	if (enter(dev, req) || m2me_card_transmit(dev, apdu, n, on_envelope)) {
		end(dev);
		/* the refusal rolls the row back */
		m2m_refuse(dev->node, req, M2M_R_INTERNAL, "the SMS-PP download cannot be started");
		return;
	}
	m2m_info("smsDeliver from %s for IMSI %s: %d-byte TPDU to %s (ENVELOPE, SMS-PP download)", req->env.sender, imsi,
		 len, dev->state.card);
	m2m_defer(dev->node, req);
}
