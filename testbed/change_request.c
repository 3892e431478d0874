/*
 * What the subscriber's portal (the testbed, a registrar of the DRF) does for a device that may
 * change operator, in Alternatives 1a and 3b alike: it registers the device with its operator
 * and the subscriber's public key, and it asks the DRF for a change signed with that key.
 */
#include "testbed.h"

#include "pki/pki.h"
#include "wire/read.h"

#include <stdio.h>

static const char *drf(const tb_session *s)
{
	return tb_registration_operator(s->topology);
}

static const char *imei_of(const tb_session *s, const char *device)
{
	return tb_entity_setting(&s->topology->entities[tb_entity_index(s->topology, device)], "imei", "");
}

int tb_register_device(tb_session *s, const char *device, const char *tre, const char *sho)
{
	tb_step(s, "the subscriber registers %s (%s) with %s at the DRF %s, with the subscriber's key", device, tre,
		sho, drf(s));
	EVP_PKEY *key = tb_subscriber_key(s->rundir);
	M2M_REGISTRATION *r = M2M_REGISTRATION_new();
	M2M_REGISTRATION_REQUEST *q = sk_M2M_REGISTRATION_new_null();
	int bad = !key || !r || !q || m2m_set_digits(&r->m2me, imei_of(s, device)) || m2m_set_str(r->tre, tre) ||
		  m2m_set_str(r->sho, sho) || m2m_set_str(r->dpf, sho) || tb_subscriber_public(key, &r->subscriber_key) ||
		  !sk_M2M_REGISTRATION_push(q, r);
	EVP_PKEY_free(key);
	if (bad)
		M2M_REGISTRATION_free(r);
	tb_reply rep = {0};
	char why[300];
	int rc = bad ? -1 : tb_call(s->node, drf(s), M2M_MSG_REGISTRATION_REQUEST, q, &rep);
	sk_M2M_REGISTRATION_pop_free(q, M2M_REGISTRATION_free);
	if (rc || rep.type != M2M_MSG_REGISTRATION_RESPONSE) {
		tb_reply_problem(&rep, M2M_MSG_REGISTRATION_RESPONSE, why, sizeof why);
		tb_reply_clear(&rep);
		return tb_step_fail(s, "%s", why);
	}
	tb_reply_clear(&rep);
	return tb_step_ok(s);
}

m2m_reason tb_change_request(tb_session *s, EVP_PKEY *signer, const tb_change *c, uint8_t change_id[16], char *why,
			     size_t len)
{
	M2M_CHANGE_REQUEST *q = M2M_CHANGE_REQUEST_new();
	M2M_SUBSCRIBER_AUTHORISATION *a = tb_subscriber_authorise(signer, c->tre, imei_of(s, c->device), c->from, c->to);
	if (!q || !a || m2m_set_str(q->dpf, c->to)) {
		M2M_CHANGE_REQUEST_free(q);
		M2M_SUBSCRIBER_AUTHORISATION_free(a);
		snprintf(why, len, "cannot build the request");
		return M2M_R_INTERNAL;
	}
	M2M_SUBSCRIBER_AUTHORISATION_free(q->authorisation);
	q->authorisation = a;
	tb_reply r = {0};
	int rc = tb_call(s->node, drf(s), M2M_MSG_CHANGE_REQUEST, q, &r);
	M2M_CHANGE_REQUEST_free(q);
	m2m_reason out = M2M_OK;
	if (rc || r.type != M2M_MSG_CHANGE_RESPONSE) {
		tb_reply_problem(&r, M2M_MSG_CHANGE_RESPONSE, why, len);
		out = rc ? M2M_R_INTERNAL : r.reason ? r.reason : M2M_R_UNEXPECTED_MESSAGE;
	} else if (m2m_read_octets(((const M2M_CHANGE_RESPONSE *)r.body)->change_id, change_id, 16)) {
		snprintf(why, len, "the changeId is not 16 octets");
		out = M2M_R_BAD_BODY;
	}
	tb_reply_clear(&r);
	return out;
}

int tb_change_refused(tb_session *s, EVP_PKEY *signer, const tb_change *c, m2m_reason want, const char *what)
{
	uint8_t id[16];
	char why[300] = "";
	tb_step(s, "%s: refused %s", what, m2m_reason_name(want));
	m2m_reason r = tb_change_request(s, signer, c, id, why, sizeof why);
	if (r != want)
		return tb_step_fail(s, "%s", r == M2M_OK ? "the change was accepted" : why);
	printf("(%s) ", why);
	return tb_step_ok(s);
}

int tb_change_refusals(tb_session *s, EVP_PKEY *subscriber, const tb_change *c, const char *imsi_a)
{
	EVP_PKEY *other = m2m_pki_keygen();
	int rc = tb_change_refused(s, other, c, M2M_R_NOT_AUTHORISED,
				   "an authorisation signed by another key than the subscriber's");
	EVP_PKEY_free(other);
	const char *lock[] = {"lock", imsi_a, "--days", "30", NULL}, *unlock[] = {"unlock", imsi_a, NULL};
	if (rc || tb_admin_step(s, c->from, lock, "operator A puts IMSI %s under a 30-day contract lock (mno-admin lock)",
				imsi_a))
		return -1;
	rc = tb_change_refused(s, subscriber, c, M2M_R_CONTRACT_LOCKED, "the subscriber's own authorisation, under A's lock");
	return tb_admin_step(s, c->from, unlock, "operator A lifts the lock (mno-admin unlock)") || rc ? -1 : 0;
}
