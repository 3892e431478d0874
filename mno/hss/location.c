/*
 * updateLocation: after a successful authentication the visited network reports where the IMSI
 * is attached. The HSS records it, cancels a location held by another network, and answers the
 * subscription profile the visited network enforces (APNs, CS, IMEI lock).
 *
 * Clone detection (a project decision for threat T-2-1, docs/alt2.md): the same IMSI still
 * attached with ANOTHER IMEI (another device: TAC and serial number differ) and not purged
 * means two cards with one K in use at once. With
 * clone_policy "suspend" the subscriber is suspended, the old location cancelled, and the update
 * refused subscriberSuspended; those changes are kept (the refusal is a committed reply). With
 * "log" the event is only audited and the update proceeds.
 *
 * A record that awaits its first attach (a card ported in, hss/first_attach.h) becomes active
 * here, in the same step: the attach that reports this location authenticated with its K.
 */
#include "hss/hss_impl.h"

#include "hss/first_attach.h"

#include "log/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static m2m_reason stored(int rc, hss_located *out, const char *imsi)
{
	if (!rc)
		return M2M_OK;
	snprintf(out->why, sizeof out->why, "the location of IMSI %s cannot be stored", imsi);
	return M2M_R_INTERNAL;
}

static void cancel(hss_located *out, const char *network, int cause)
{
	snprintf(out->cancel_at, sizeof out->cancel_at, "%s", network);
	out->cancel_cause = cause;
}

/* Concurrent use of one IMSI by two IMEIs: audited, and acted on per clone_policy. */
static m2m_reason concurrent_use(hss_context *h, const char *network, const char *imsi, const char *imei,
				 const hss_location *was, hss_located *out)
{
	int suspend = h->settings.clone_policy == HSS_CLONE_SUSPEND;
	int rc = hss_audit(h->db, network, imsi, "clone",
			   "concurrent use: attached at %s with IMEI %s, now at %s with IMEI %s (clone_policy %s)",
			   was->network, was->imei, network, imei, suspend ? "suspend" : "log");
	m2m_warn("IMSI %s attached with IMEI %s at %s and IMEI %s at %s: suspected clone", imsi, was->imei,
		 was->network, imei, network);
	if (!suspend)
		return stored(rc, out, imsi);
	rc = rc || hss_subscriber_set_state(h->db, imsi, HSS_SUSPENDED) || hss_location_clear(h->db, imsi) ||
	     hss_audit(h->db, network, imsi, "suspend", "suspected clone card (clone_policy suspend)");
	if (rc)
		return stored(rc, out, imsi);
	cancel(out, was->network, M2M_CANCEL_WITHDRAWN);
	out->keep = 1;
	snprintf(out->why, sizeof out->why, "IMSI %s suspended: in use with two IMEIs at once (suspected clone)", imsi);
	return M2M_R_SUBSCRIBER_SUSPENDED;
}

m2m_reason hss_locate(hss_context *h, const char *network, const char *imsi, const char *imei, hss_located *out)
{
	hss_subscriber s;
	hss_location was, now = {.since = (int64_t)time(NULL)};
	memset(out, 0, sizeof *out);
	m2m_reason r = hss_serviceable(h, imsi, &s, out->why, sizeof out->why);
	if (r != M2M_OK)
		return r;
	int first = s.state == HSS_PENDING;  /* served while pending: a ported card's first attach */
	out->profile = s.profile;
	hss_subscriber_wipe(&s);
	int rc = hss_location_get(h->db, imsi, &was);
	if (rc < 0)
		return stored(rc, out, imsi);
	int attached = rc == 0;
	if (attached && !hss_imei_same_device(was.imei, imei)) {
		r = concurrent_use(h, network, imsi, imei, &was, out);
		if (r != M2M_OK)
			return r;
	}
	if (attached && strcmp(was.network, network))
		cancel(out, was.network, M2M_CANCEL_ATTACHED_ELSEWHERE);
	snprintf(now.network, sizeof now.network, "%s", network);
	snprintf(now.imei, sizeof now.imei, "%s", imei);
	return stored(hss_location_set(h->db, imsi, &now) ||
		      hss_audit(h->db, network, imsi, "updateLocation", "attached at %s with IMEI %s", network, imei) ||
		      (first && hss_first_attach_done(h->db, imsi, network, out->why, sizeof out->why) != HSS_DONE),
		      out, imsi);
}

/* ---- the message -------------------------------------------------------------------------------- */

M2M_SUBSCRIPTION_PROFILE *hss_profile_message(const hss_profile *p)
{
	M2M_SUBSCRIPTION_PROFILE *m = M2M_SUBSCRIPTION_PROFILE_new();
	for (int i = 0; i < p->napns; i++) {
		ASN1_UTF8STRING *apn = ASN1_UTF8STRING_new();
		m2m_set_str(apn, p->apns[i]);
		sk_ASN1_UTF8STRING_push(m->allowed_apns, apn);
	}
	m->cs_allowed = p->cs_allowed ? 0xff : 0;
	if (p->imei_lock[0])
		m2m_set_digits(&m->imei_lock, p->imei_lock);
	return m;
}

void hss_update_location(hss_context *h, m2m_request *req)
{
	const M2M_UPDATE_LOCATION *q = req->env.body;
	char imsi[HSS_IMSI_MAX + 1], imei[HSS_IMEI_MAX + 1], network[M2M_ENTITY_MAX + 1];
	hss_located out;
	if (hss_request_imsi(h, req, q->imsi, q->serving_network, imsi))
		return;
	if (m2m_digits(q->imei, imei, sizeof imei, 14, HSS_IMEI_MAX)) {
		m2m_refuse(h->node, req, M2M_R_BAD_BODY, "imei is not 14 to 16 digits");
		return;
	}
	snprintf(network, sizeof network, "%s", req->env.sender);
	m2m_reason r = hss_locate(h, network, imsi, imei, &out);
	if (r != M2M_OK && !out.keep) {
		m2m_refuse(h->node, req, r, "%s", out.why);
		return;
	}
	if (out.cancel_at[0])
		hss_cancel_location(h, network, out.cancel_at, imsi, out.cancel_cause);
	if (r != M2M_OK) {
		m2m_refuse_recorded(h->node, req, r, "%s", out.why);
		return;
	}
	M2M_SUBSCRIPTION_PROFILE *profile = hss_profile_message(&out.profile);
	m2m_reply(h->node, req, M2M_MSG_UPDATE_LOCATION_ACK, profile);
	M2M_SUBSCRIPTION_PROFILE_free(profile);
}
