/*
 * A job's secured packet on its way to the card (TS 31.115 §4): split into SMS-DELIVERs
 * (TP-PID 7F, class 2), each sent as smsDeliver {imsi, tpdu} to the network serving the IMSI, one
 * after the other; the serving network hands each to the M2ME, which gives it to its card
 * (ENVELOPE, SMS-PP download) and returns the SMS-DELIVER-REPORT as smsReport. The card answers
 * the packet only once it has all the segments: the last report carries the PoR (IEI 71), read
 * here under the keys the packet went under.
 */
#include "ota/ota_impl.h"

#include "daemon/daemon.h"
#include "log/log.h"
#include "ota/rfm.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void ota_spi(m2m_ota_spi *spi)
{
	*spi = (m2m_ota_spi){.check = M2M_OTA_CHECK_CC, .ciphered = 1, .counter = M2M_OTA_COUNTER_HIGHER,
			     .por = M2M_OTA_POR_ALWAYS, .por_check = M2M_OTA_CHECK_CC, .por_ciphered = 1};
}

static uint8_t semi_octets(int v)
{
	return (uint8_t)((v % 10) << 4 | (v / 10) % 10);
}

/* TP-SCTS (TS 23.040 §9.2.3.11): the time now in UTC, semi-octets swapped, time zone 0. */
static void scts_now(uint8_t scts[7])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	int v[6] = {tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
	for (int i = 0; i < 6; i++)
		scts[i] = semi_octets(v[i]);
	scts[6] = 0;
}

int ota_delivery_build(ota_context *o, ota_flight *f, const uint8_t *script, size_t len, char *err, size_t errlen)
{
	uint8_t packet[M2M_OTA_PACKET_MAX], scts[7];
	size_t plen;
	m2m_ota_command c = {.spi = f->spi, .counter = f->counter, .data = script, .len = len};
	memcpy(c.tar, f->tar, 3);
	scts_now(scts);
	int rc = m2m_ota_command_build(&c, &f->keys, packet, sizeof packet, &plen, err, errlen) ||
		 m2m_sms_deliver_build(packet, plen, o->settings.address, scts, (uint8_t)f->counter, f->tpdus, f->lens,
				       M2M_SMS_CONCAT_MAX, &f->count, err, errlen);
	f->next = 0;
	return rc ? -1 : 0;
}

/* ---- the answers ---------------------------------------------------------------------------------- */

static void no_answer(ota_answer *a, m2m_reason reason, const char *why)
{
	a->kind = OTA_ANSWER_NONE;
	a->reason = reason;
	snprintf(a->why, sizeof a->why, "%s", why);
}

/* The compact response data of a PoR OK (TS 102 226 §5.2.1); data that is not in that format is
 * kept as it came, with no command counted. */
static void read_results(const m2m_ota_response *r, ota_answer *a)
{
	uint8_t executed = 0;
	a->por.data = r->data;
	a->por.len = r->len;
	if (r->len && !m2m_rfm_response_parse(r->data, r->len, &executed, &a->por.sw, &a->por.data, &a->por.len))
		a->por.executed = executed;
}

/* Opens the PoR of f's packet under the keys it went under; a rotation's PoR may also come
 * protected under the new keys the card just took. 0, or -1 with err. */
static int open_por(ota_flight *f, const uint8_t *pkt, size_t len, m2m_ota_response *r, ota_answer *a, char *err,
		    size_t errlen)
{
	if (!m2m_ota_response_open(pkt, len, &f->spi, &f->keys, r, &a->unprotected, a->buf, sizeof a->buf, err,
				   errlen))
		return 0;
	if (f->has_pending &&
	    !m2m_ota_response_open(pkt, len, &f->spi, &f->pending, r, &a->unprotected, a->buf, sizeof a->buf, err,
				   errlen)) {
		a->under_pending = 1;
		return 0;
	}
	return -1;
}

static void read_report(ota_flight *f, const M2M_SMS_REPORT *rep, ota_answer *a)
{
	const uint8_t *ud, *pkt;
	size_t ud_len, pkt_len;
	m2m_ota_response r;
	char err[160] = "", why[200];
	if (!rep->tpdu) {
		no_answer(a, M2M_R_TIMEOUT, "the last SMS-DELIVER was acknowledged without a PoR");
		return;
	}
	if (m2m_sms_report_parse(ASN1_STRING_get0_data(rep->tpdu), (size_t)ASN1_STRING_length(rep->tpdu), &ud,
				 &ud_len) ||
	    m2m_sms_por_ud_parse(ud, ud_len, &pkt, &pkt_len)) {
		no_answer(a, M2M_R_BAD_BODY, "the SMS-DELIVER-REPORT carries no response packet");
		return;
	}
	if (open_por(f, pkt, pkt_len, &r, a, err, sizeof err)) {
		snprintf(why, sizeof why, "a PoR that does not verify: %s", err);
		no_answer(a, M2M_R_MAC_FAILURE, why);
		return;
	}
	/* an unprotected PoR's counter may be anything: the card could not read the packet's */
	if (memcmp(r.tar, f->tar, 3) || (!a->unprotected && r.counter != f->counter)) {
		no_answer(a, M2M_R_UNEXPECTED_MESSAGE, "a PoR for another packet (TAR or counter differs)");
		return;
	}
	a->kind = OTA_ANSWER_POR;
	a->por.status = (int)r.status;
	if (!a->unprotected && r.status == M2M_OTA_POR_OK)
		read_results(&r, a);
}

static void on_report(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	ota_flight *f = arg;
	ota_answer a;
	memset(&a, 0, sizeof a);
	if (!resp || resp->type != M2M_MSG_SMS_REPORT) {
		char why[300];
		no_answer(&a, m2m_call_reason(resp, reason), m2m_call_failure(f->network, resp, reason, why, sizeof why));
	} else if (f->next + 1 < f->count) {
		f->next++;
		if (!ota_delivery_send(f))
			return;  /* the next segment is on its way */
		no_answer(&a, M2M_R_UNREACHABLE, "no route to the serving network");
	} else
		read_report(f, resp->body, &a);
	ota_job_answered(f, &a);
	m2m_wipe(&a, sizeof a);
}

int ota_delivery_send(ota_flight *f)
{
	M2M_SMS_DELIVER *d = M2M_SMS_DELIVER_new();
	int rc = !d || m2m_set_digits(&d->imsi, f->imsi) ||
		 !ASN1_OCTET_STRING_set(d->tpdu, f->tpdus[f->next], (int)f->lens[f->next]) ||
		 m2m_call(f->ota->node, f->network, M2M_MSG_SMS_DELIVER, d, on_report, f);
	M2M_SMS_DELIVER_free(d);
	return rc ? -1 : 0;
}
