/*
 * The end of an authenticated attach: updateLocation{imsi, imei, servingNetwork} to the home
 * operator, whose updateLocationAck is the subscription profile the visited network enforces
 * (brief 2.3 [R], TR 33.812 5.4.3 "service profile"):
 *
 *   the APN asked for is one of allowedApns, else apnNotAllowed;
 *   an imeiLock, when present, is the device's IMEI, else imeiNotAllowed.
 *
 * Accepted: a session is opened under a key from CK and IK (lib/aka/session.h) and the device
 * gets attachAccept{sessionId, apn}. Refused: the home operator has just recorded the location,
 * so it is purged first, and the device is refused once the purge is answered (so a trace shows
 * the purge before the refusal, and a retried attach never meets a stale location).
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

m2m_reason vno_profile_enforce(const M2M_SUBSCRIPTION_PROFILE *p, const char *apn, const char *imei)
{
	int allowed = 0;
	char name[VNO_APN_MAX + 1], lock[VNO_IMEI_MAX + 1];
	for (int i = 0; p->allowed_apns && i < sk_ASN1_UTF8STRING_num(p->allowed_apns) && !allowed; i++)
		/* APNs are domain names (TS 23.003 9.1): compared without regard to case */
		allowed = !m2m_str(sk_ASN1_UTF8STRING_value(p->allowed_apns, i), name, sizeof name) &&
			  !strcasecmp(name, apn);
	if (!allowed)
		return M2M_R_APN_NOT_ALLOWED;
	if (p->imei_lock && (vno_read_imei(p->imei_lock, lock) || strcmp(lock, imei)))
		return M2M_R_IMEI_NOT_ALLOWED;
	return M2M_OK;
}

/* The refusal a profile gave, in words (never the locked IMEI: it names another device). */
static void refusal_text(const vno_attach *a, char *text, size_t len)
{
	if (a->reason == M2M_R_APN_NOT_ALLOWED)
		snprintf(text, len, "APN %s is not in the subscription of IMSI %s", a->apn, a->imsi);
	else if (a->reason == M2M_R_IMEI_NOT_ALLOWED)
		snprintf(text, len, "the subscription of IMSI %s is locked to another device than IMEI %s", a->imsi,
			 a->imei);
	else
		snprintf(text, len, "the subscription of IMSI %s refuses this attach", a->imsi);
}

/* ---- refused: purge, then refuse ------------------------------------------------------------------ */

static void on_purged(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
		      const m2m_envelope *resp, m2m_reason reason)
{
	vno_attach a;
	if (vno_attach_answered(v, req, id, VNO_EV_PURGED, &a))
		return;
	if (!resp || resp->type != M2M_MSG_PURGE_ACK) {
		char why[300];
		m2m_warn("the purge of IMSI %s after a refused attach was not acknowledged: %s", a.imsi,
			 m2m_call_failure(a.home, resp, reason, why, sizeof why));
	}
	char text[256];
	refusal_text(&a, text, sizeof text);
	vno_attach_fail(v, req, &a, VNO_EV_PURGED, a.reason, text);
	vno_attach_wipe(&a);
}

static void refuse_after_purge(vno_context *v, m2m_request *req, vno_attach *a, m2m_reason r)
{
	char text[256];
	a->reason = r;
	if (vno_attach_advance(v, a, VNO_EV_PROFILE_REFUSED)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach cannot be stored");
		return;
	}
	M2M_PURGE *p = vno_purge_message(v, a->imsi);
	int rc = vno_home_call(v, a->home, M2M_MSG_PURGE, p, req, a->id, on_purged);
	M2M_PURGE_free(p);
	if (rc) {  /* the home was reachable a moment ago; refuse at once rather than hang */
		refusal_text(a, text, sizeof text);
		vno_attach_fail(v, req, a, VNO_EV_PURGED, r, text);
		return;
	}
	m2m_info("attach of IMSI %s refused by its profile (%s): purging its location at %s", a->imsi,
		 m2m_reason_name(r), a->home);
}

/* ---- accepted: the session ---------------------------------------------------------------------- */

static void accept(vno_context *v, m2m_request *req, vno_attach *a)
{
	vno_session s;
	if (vno_session_open(v->db, v->settings.storage_key, a, &s)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the session cannot be opened");
		return;
	}
	memcpy(a->session_id, s.id, sizeof a->session_id);
	vno_session_wipe(&s);
	if (vno_attach_advance(v, a, VNO_EV_PROFILE_OK)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach cannot be stored");
		return;
	}
	M2M_ATTACH_ACCEPT *acc = M2M_ATTACH_ACCEPT_new();
	ASN1_OCTET_STRING_set(acc->session_id, a->session_id, sizeof a->session_id);
	m2m_set_str(acc->apn, a->apn);
	m2m_info("attach: IMSI %s accepted from %s (IMEI %s, APN %s)", a->imsi, a->device, a->imei, a->apn);
	m2m_reply(v->node, req, M2M_MSG_ATTACH_ACCEPT, acc);
	M2M_ATTACH_ACCEPT_free(acc);
}

static void on_location(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
			const m2m_envelope *resp, m2m_reason reason)
{
	vno_attach a;
	if (vno_attach_answered(v, req, id, VNO_EV_PROFILE_OK, &a))
		return;
	if (resp && resp->type == M2M_MSG_UPDATE_LOCATION_ACK) {
		m2m_reason r = vno_profile_enforce(resp->body, a.apn, a.imei);
		if (r == M2M_OK)
			accept(v, req, &a);
		else
			refuse_after_purge(v, req, &a, r);
	} else {
		char text[300];
		m2m_call_failure(a.home, resp, reason, text, sizeof text);
		vno_attach_fail(v, req, &a, VNO_EV_HOME_REFUSED, m2m_call_reason(resp, reason), text);
	}
	vno_attach_wipe(&a);
}

void vno_locate(vno_context *v, m2m_request *req, vno_attach *a)
{
	if (!a->home[0]) {  /* a challenge no home operator made (rogue.c): nobody to report to */
		m2m_refuse(v->node, req, M2M_R_ROAMING_NOT_ALLOWED, "no home operator for IMSI %s", a->imsi);
		return;
	}
	M2M_UPDATE_LOCATION *u = M2M_UPDATE_LOCATION_new();
	m2m_set_digits(&u->imsi, a->imsi);
	m2m_set_digits(&u->imei, a->imei);
	m2m_set_str(u->serving_network, v->entity);
	int rc = vno_attach_advance(v, a, VNO_EV_RES_OK) ||
		 vno_home_call(v, a->home, M2M_MSG_UPDATE_LOCATION, u, req, a->id, on_location);
	M2M_UPDATE_LOCATION_free(u);
	if (rc) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the location cannot be reported to %s", a->home);
		return;
	}
	m2m_info("attach: IMSI %s authenticated; updateLocation to %s", a->imsi, a->home);
	m2m_defer(v->node, req);
}
