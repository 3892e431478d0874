/*
 * changeRequest {authorisation, dpf} from the new SHO, or from a registrar (the subscriber's
 * portal, which may also register devices for any SHO) on the subscriber's behalf
 * (docs/alt1a-change.md step 1, brief 2.1(b), T-1a-9): the DRF checks what the subscriber signed,
 * in this order:
 *   toSho is the sender, or the sender a registrar else wrongSho
 *   the device (tre, m2me) is registered           else notRegistered
 *   a subscriber key is registered for it, and
 *   the signature verifies under it                else notAuthorised
 *   its nonce was never used                       else notAuthorised (the same request again is
 *                                                  answered from its change: see below)
 *   fromSho is the SHO registered now              else wrongSho
 *   issuedAt within authorisation_seconds          else notAuthorised
 *   no other change of the device is open          else wrongState
 * Then, in the request's step: the change is stored `notifying` (its row marks the nonce used),
 * changeNotify goes to the old SHO's DPF, and the request is deferred until the old SHO answers
 * (change_notify.c).
 *
 * The new SHO may ask again with the same authorisation (its call timed out, the DRF restarted):
 * that opens nothing new; it waits on the change while it is notifying, and gets the change's
 * answer once there is one (changeResponse with the same changeId, or the old SHO's refusal).
 */
#include "drf.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

#define CLOCK_SKEW 300  /* seconds an authorisation may come from the future: clocks differ */

/* The request's fields into a change (its id not yet drawn): 0, or -1 with why. */
static int read_request(const M2M_CHANGE_REQUEST *q, drf_change *c, char *why, size_t len)
{
	const M2M_CHANGE_AUTHORISATION *a = q->authorisation->content;
	int sig = ASN1_STRING_length(q->authorisation->signature);
	memset(c, 0, sizeof *c);
	const char *bad = m2m_read_name(a->tre, c->tre, M2M_ENTITY_MAX) ? "tre is not an entity id"
			  : m2m_digits(a->m2me, c->m2me, sizeof c->m2me, DRF_IMEI_MIN, DRF_IMEI_MAX) ? "m2me is not an IMEI"
			  : m2m_read_name(a->from_sho, c->from_sho, M2M_ENTITY_MAX) ? "fromSho is not an entity id"
			  : m2m_read_name(a->to_sho, c->to_sho, M2M_ENTITY_MAX) ? "toSho is not an entity id"
			  : m2m_read_octets(a->nonce, c->nonce, DRF_CHANGE_NONCE_LEN) ? "the nonce is not 16 octets"
			  : m2m_read_time(a->issued_at, &c->issued_at) ? "issuedAt is not a time"
			  : sig < 8 || sig > 80 ? "the signature is not 8 to 80 octets"
			  : m2m_read_name(q->dpf, c->to_dpf, M2M_ENTITY_MAX) ? "dpf is not an entity id"
									 : NULL;
	if (bad)
		snprintf(why, len, "a ChangeRequest: %s", bad);
	return bad ? -1 : 0;
}

/* The same authorisation again: the change it opened, unless the nonce was used by another. */
static int same_request(const drf_change *old, const drf_change *c)
{
	return !strcmp(old->from_sho, c->from_sho) && !strcmp(old->to_sho, c->to_sho) &&
	       !strcmp(old->to_dpf, c->to_dpf) && old->issued_at == c->issued_at;
}

/* Everything up to the nonce: M2M_OK with the registration in r, or the reason with why. */
static m2m_reason authorised(drf *d, const M2M_CHANGE_REQUEST *q, const char *sender, const drf_change *c,
			     drf_registration *r, char *why, size_t len)
{
	if (strcmp(c->to_sho, sender) && !drf_is_registrar(&d->s, sender)) {
		snprintf(why, len, "%s may ask for a change to itself only, not to %s", sender, c->to_sho);
		return M2M_R_WRONG_SHO;
	}
	int rc = drf_registration_load(d, c->tre, r);
	if (rc < 0) {
		snprintf(why, len, "the registration of %s cannot be read", c->tre);
		return M2M_R_INTERNAL;
	}
	if (rc > 0 || strncmp(r->m2me, c->m2me, DRF_IMEI_MIN)) {
		snprintf(why, len, "no registration for TRE %s in M2ME %s", c->tre, c->m2me);
		return M2M_R_NOT_REGISTERED;
	}
	if (!r->subscriber_key_len) {
		snprintf(why, len, "no subscriber key is registered for TRE %s: nobody can authorise a change", c->tre);
		return M2M_R_NOT_AUTHORISED;
	}
	if (drf_authorisation_verify(r->subscriber_key, r->subscriber_key_len, q->authorisation)) {
		snprintf(why, len, "the authorisation does not verify under the subscriber key of TRE %s", c->tre);
		return M2M_R_NOT_AUTHORISED;
	}
	return M2M_OK;
}

/* A new authorisation: the rest of the checks. M2M_OK, or the reason with why. */
static m2m_reason acceptable(drf *d, const drf_change *c, const drf_registration *r, int64_t now, char *why, size_t len)
{
	drf_change open;
	int rc;
	if (strcmp(c->from_sho, r->sho)) {
		snprintf(why, len, "TRE %s is with %s, not %s", c->tre, r->sho, c->from_sho);
		return M2M_R_WRONG_SHO;
	}
	if (c->issued_at < now - d->s.authorisation_seconds || c->issued_at > now + CLOCK_SKEW) {
		snprintf(why, len, "the authorisation was issued %lld s ago: it is good for %d s", (long long)(now - c->issued_at),
			 d->s.authorisation_seconds);
		return M2M_R_NOT_AUTHORISED;
	}
	if ((rc = drf_change_open_of(d, c->tre, &open)) == 0) {
		snprintf(why, len, "a change of TRE %s to %s is open (%s)", c->tre, open.to_sho, drf_change_state_name(open.state));
		return M2M_R_WRONG_STATE;
	}
	if (rc < 0) {
		snprintf(why, len, "the changes of %s cannot be read", c->tre);
		return M2M_R_INTERNAL;
	}
	return M2M_OK;
}

/* The request waits on the change's notify, sent now unless one is in flight. */
static void wait_for_notify(drf *d, m2m_request *req, const drf_change *c)
{
	drf_pending *p = drf_pending_get(d, c->id);
	if (!p || drf_change_notify(d, p, c)) {
		if (p && !p->waiting && !p->in_flight)
			drf_pending_done(p);
		m2m_refuse(d->node, req, M2M_R_UNREACHABLE, "%s, the DPF of the SHO TRE %s is with, cannot be called",
			   c->from_dpf, c->tre);
		return;
	}
	if (drf_wait(d, &p->waiting, req))
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "out of memory");
}

/* Asked again with the same authorisation: the change's answer, or wait for it. */
static void asked_again(drf *d, m2m_request *req, const drf_change *old, const drf_change *c)
{
	if (!same_request(old, c))
		m2m_refuse(d->node, req, M2M_R_NOT_AUTHORISED, "the authorisation's nonce was used already");
	else if (old->state == DRF_CHANGE_NOTIFYING)
		wait_for_notify(d, req, old);
	else
		drf_change_answer(d, req, old, 0);
}

/* Opens the change: stored notifying, the old SHO notified, the request waiting. */
static void open_change(drf *d, m2m_request *req, drf_change *c, const drf_registration *r, int64_t now)
{
	snprintf(c->from_dpf, sizeof c->from_dpf, "%s", r->dpf);
	c->state = DRF_CHANGE_NOTIFYING;
	m2m_random(c->id, sizeof c->id);
	if (drf_change_insert(d, c, now)) {
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the change of TRE %s cannot be stored", c->tre);
		return;
	}
	m2m_info("change of TRE %s from %s to %s asked by %s: telling %s", c->tre, c->from_sho, c->to_sho,
		 req->env.sender, c->from_dpf);
	wait_for_notify(d, req, c);
}

void drf_change_request(drf *d, m2m_request *req)
{
	const M2M_CHANGE_REQUEST *q = req->env.body;
	int64_t now = time(NULL);
	char why[256];
	drf_change c, old;
	drf_registration r;
	if (read_request(q, &c, why, sizeof why)) {
		m2m_refuse(d->node, req, M2M_R_BAD_BODY, "%s", why);
		return;
	}
	m2m_reason rc = authorised(d, q, req->env.sender, &c, &r, why, sizeof why);
	if (rc != M2M_OK) {
		m2m_refuse(d->node, req, rc, "%s", why);
		return;
	}
	int used = drf_change_by_nonce(d, c.tre, c.nonce, &old);
	if (used == 0) {
		asked_again(d, req, &old, &c);
		return;
	}
	rc = used < 0 ? M2M_R_INTERNAL : acceptable(d, &c, &r, now, why, sizeof why);
	if (rc != M2M_OK)
		m2m_refuse(d->node, req, rc, "%s", used < 0 ? "the changes cannot be read" : why);
	else
		open_change(d, req, &c, &r, now);
}
