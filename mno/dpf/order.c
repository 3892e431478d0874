/*
 * mcimRequest: a SignedObject over McimOrder {tre, ticket, nonce}, signed by the TRE, relayed by
 * the visited operator (whose envelope proves nothing about the TRE). Checked before anything
 * is recorded (docs/alt1a.md step 5, brief §2.1 steps 6 and 7):
 *
 *   1. the order verifies under a valid TRE certificate whose CN is order.tre (tre_signed.c);
 *   2. the ticket is a SignedData over RegistrationTicket by a registration certificate whose CN
 *      is the configured DRF (badSignature otherwise), for this TRE (notAuthorised), naming this
 *      operator as SHO (wrongSho), not expired (wrongState: the device must discover again):
 *      ticket.c.
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

typedef struct checked_order {
	dpf_order order;  /* tre, nonce and the signer's certificate filled in */
	char why[256];
} checked_order;

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
		r = dpf_ticket_check(dpf, trust, w->ticket, c->order.tre, NULL, c->why, sizeof c->why);
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
