/*
 * mcimRequest: a SignedObject over McimOrder {tre, ticket, nonce}, signed by the TRE, relayed by
 * the visited operator (whose envelope proves nothing about the TRE). Checked before anything
 * is recorded (docs/alt1a.md step 5, brief §2.1 steps 6 and 7):
 *
 *   1. the order verifies under a valid TRE certificate whose CN is order.tre (tre_signed.c);
 *   2. the ticket is a SignedData over RegistrationTicket by a registration certificate whose CN
 *      is the configured DRF (badSignature otherwise), for this TRE (notAuthorised), naming this
 *      operator as SHO (wrongSho), not expired (wrongState: the device must discover again).
 *
 * Then the order's state machine: an order seen before is answered from its state (the stored
 * package, unchanged, for a retry after a lost reply); a new one is recorded validating and the
 * PVA asked (validate.c).
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct checked_order {
	dpf_order order;  /* tre, nonce and the signer's certificate filled in */
	char why[256];
} checked_order;

/* ---- the ticket ------------------------------------------------------------------------------- */

static m2m_reason ticket_signer(const dpf_context *dpf, X509 *signer, char *why, size_t len)
{
	char cn[M2M_ENTITY_MAX + 1] = "";
	if (m2m_pki_cert_profile(signer) != M2M_PROFILE_REGISTRATION || m2m_pki_cert_cn(signer, cn, sizeof cn) ||
	    strcmp(cn, dpf->settings.drf)) {
		snprintf(why, len, "the ticket is signed by %s, not by the registration operator's DRF %s",
			 cn[0] ? cn : "an unnamed certificate", dpf->settings.drf);
		return M2M_R_BAD_SIGNATURE;
	}
	return M2M_OK;
}

static m2m_reason ticket_fields(const dpf_context *dpf, const M2M_REGISTRATION_TICKET *t, const char *tre, char *why,
				size_t len)
{
	int64_t expires = 0;
	if (m2m_read_time(t->expires, &expires)) {
		snprintf(why, len, "the ticket's expiry is not a time");
		return M2M_R_BAD_BODY;
	}
	if (!dpf_same_name(t->tre, tre)) {
		snprintf(why, len, "the ticket was issued to another TRE than %s", tre);
		return M2M_R_NOT_AUTHORISED;
	}
	if (!dpf_same_name(t->sho, dpf->entity)) {
		snprintf(why, len, "the DRF registered %s with another operator than %s", tre, dpf->entity);
		return M2M_R_WRONG_SHO;
	}
	if (expires < (int64_t)time(NULL)) {
		snprintf(why, len, "ticket expired: %s must discover its operator again", tre);
		return M2M_R_WRONG_STATE;
	}
	return M2M_OK;
}

static m2m_reason check_ticket(dpf_context *dpf, m2m_trust *trust, ASN1_OCTET_STRING *der, const char *tre,
			       char *why, size_t len)
{
	M2M_SIGNED_OBJECT ticket = {.cms = der};
	M2M_REGISTRATION_TICKET *t = NULL;
	X509 *signer = NULL;
	m2m_reason r = m2m_cms_verify_item(trust, &ticket, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), (void **)&t, &signer);
	if (r == M2M_R_MALFORMED || r == M2M_R_BAD_BODY || r == M2M_R_NOT_AUTHORISED)
		r = M2M_R_BAD_SIGNATURE;
	if (r != M2M_OK)
		snprintf(why, len, "the ticket is not a SignedData over RegistrationTicket that verifies (%s)",
			 m2m_reason_name(r) ? m2m_reason_name(r) : "?");
	if (r == M2M_OK)
		r = ticket_signer(dpf, signer, why, len);
	if (r == M2M_OK)
		r = ticket_fields(dpf, t, tre, why, len);
	M2M_REGISTRATION_TICKET_free(t);
	X509_free(signer);
	return r;
}

/* ---- the order -------------------------------------------------------------------------------- */

static m2m_reason keep_signer(X509 *signer, dpf_order *o)
{
	size_t len = 0;
	uint8_t *der = NULL;
	if (m2m_pki_cert_der(signer, &der, &len))
		return M2M_R_INTERNAL;
	o->tre_cert = malloc(len);
	if (o->tre_cert) {
		memcpy(o->tre_cert, der, len);
		o->tre_cert_len = len;
	}
	OPENSSL_free(der);
	return o->tre_cert ? M2M_OK : M2M_R_INTERNAL;
}

/* Checks 1 and 2 of the header: M2M_OK with c->order ready to be recorded. */
static m2m_reason check_order(dpf_context *dpf, const M2M_SIGNED_OBJECT *so, checked_order *c)
{
	m2m_trust *trust = m2m_identity_trust(dpf->id);
	m2m_tre_signed s;
	m2m_reason r = dpf_tre_signed(trust, so, ASN1_ITEM_rptr(M2M_MCIM_ORDER), M2M_TRE_FIELD(M2M_MCIM_ORDER), &s);
	const M2M_MCIM_ORDER *w = s.value;
	snprintf(c->why, sizeof c->why, "order refused: %s", s.why);
	if (r == M2M_OK && m2m_read_octets(w->nonce, c->order.nonce, DPF_NONCE_LEN)) {
		r = M2M_R_BAD_BODY;
		snprintf(c->why, sizeof c->why, "the order needs a 32-octet nonce");
	}
	if (r == M2M_OK) {
		snprintf(c->order.tre, sizeof c->order.tre, "%s", s.tre);
		r = check_ticket(dpf, trust, w->ticket, c->order.tre, c->why, sizeof c->why);
	}
	if (r == M2M_OK && (r = keep_signer(s.cert, &c->order)) != M2M_OK)
		snprintf(c->why, sizeof c->why, "the TRE's certificate cannot be kept");
	m2m_tre_signed_clear(&s);
	return r;
}

/* An order seen before: answered from its state. */
static void known_order(dpf_context *dpf, m2m_request *req, const dpf_order *o)
{
	switch (o->state) {
	case DPF_VALIDATING:
		dpf_validate(dpf, req, o);  /* joins the validation under way, or (after a restart) asks anew */
		break;
	case DPF_PACKAGED:
	case DPF_INSTALLED:
		dpf_package_reply(dpf, req, o);
		break;
	default:
		m2m_refuse(dpf->node, req, M2M_R_WRONG_STATE, "the order of %s with this nonce was %s: order anew", o->tre,
			   dpf_order_state_name(o->state));
	}
}

void dpf_mcim_request(dpf_context *dpf, m2m_request *req)
{
	checked_order c;
	dpf_order known;
	memset(&c, 0, sizeof c);
	m2m_reason r = check_order(dpf, req->env.body, &c);
	int found = r == M2M_OK ? dpf_order_find(dpf->db, c.order.tre, c.order.nonce, &known) : -1;
	if (r != M2M_OK)
		m2m_refuse(dpf->node, req, r, "%s", c.why);
	else if (found == 0)
		known_order(dpf, req, &known);
	else if (found < 0 || dpf_order_insert(dpf->db, &c.order))
		m2m_refuse(dpf->node, req, M2M_R_INTERNAL, "the order of %s cannot be recorded", c.order.tre);
	else
		dpf_validate(dpf, req, &c.order);
	if (found == 0)
		dpf_order_clear(&known);
	dpf_order_clear(&c.order);
}
