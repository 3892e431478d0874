/*
 * uiccCredentialOrder at SHO B (docs/alt3b.md, contract step 9): the registration operator's DRF
 * (dpf.c lets no one else through: notAuthorised) asks for credentials for the card of a TRE that
 * registered a change of subscription to this operator. Checked before anything is recorded:
 *
 *   1. the fields within the module's sizes, the card certificate DER (badBody);
 *   2. the ticket as for 1a's orders (ticket.c): signed by the DRF, for this TRE, naming this
 *      operator, not expired, and if it names a change, this one;
 *   3. the card certificate chains to the agency's root, valid and not revoked (badChain), of
 *      profile uicc (notAuthorised): the blob is encrypted to it, so it must be a card's key;
 *   4. a change already known is for this TRE and this card (wrongState: the credentials are
 *      bound to the ICCID, whose OTA keys B keeps).
 *
 * Then the state machine of dpf_impl.h: an order seen before is answered from its row (the stored
 * blob, unchanged); a new card challenge is recorded validating and the PVA asked (uicc_package.c).
 */
#include "dpf/dpf_impl.h"

#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CARD_CERT_MAX 4096

typedef struct checked_uicc_order {
	dpf_uicc_creds order;      /* change, TRE, ICCID */
	dpf_uicc_package package;  /* change, challenge, card certificate */
	char why[256];
} checked_uicc_order;

static m2m_reason bad_body(checked_uicc_order *c, const char *what)
{
	snprintf(c->why, sizeof c->why, "uiccCredentialOrder needs %s", what);
	return M2M_R_BAD_BODY;
}

/* Check 1: the fields into c. */
static m2m_reason read_fields(const M2M_UICC_CREDENTIAL_ORDER *q, checked_uicc_order *c)
{
	int n = ASN1_STRING_length(q->card_certificate);
	if (m2m_read_octets(q->change_id, c->order.change_id, DPF_CHANGE_ID_LEN) ||
	    m2m_read_octets(q->card_nonce, c->package.card_nonce, DPF_CARD_NONCE_LEN))
		return bad_body(c, "a 16-octet changeId and cardNonce");
	if (m2m_read_name(q->tre, c->order.tre, M2M_ENTITY_MAX) ||
	    m2m_digits(q->iccid, c->order.iccid, sizeof c->order.iccid, 18, HSS_ICCID_MAX))
		return bad_body(c, "a TRE and an ICCID of 18 to 20 digits");
	if (ASN1_STRING_length(q->ticket) < 1 || n < 1 || n > CARD_CERT_MAX)
		return bad_body(c, "a ticket and a card certificate of 1 to 4096 octets");
	memcpy(c->package.change_id, c->order.change_id, DPF_CHANGE_ID_LEN);
	if (!(c->package.card_cert = malloc((size_t)n)))
		return M2M_R_INTERNAL;
	memcpy(c->package.card_cert, ASN1_STRING_get0_data(q->card_certificate), (size_t)n);
	c->package.card_cert_len = (size_t)n;
	return M2M_OK;
}

/* Check 3: a card's certificate under the agency's root. */
static m2m_reason check_card(m2m_trust *trust, checked_uicc_order *c)
{
	X509 *card = m2m_pki_cert_from_der(c->package.card_cert, c->package.card_cert_len);
	m2m_reason r = card ? m2m_trust_verify(trust, card, M2M_PROFILE_UICC) : M2M_R_BAD_BODY;
	if (!card)
		snprintf(c->why, sizeof c->why, "the card certificate is not DER of a certificate");
	else if (r == M2M_R_NOT_AUTHORISED)
		snprintf(c->why, sizeof c->why, "the card certificate of %s's card is of profile %s, not uicc", c->order.tre,
			 m2m_pki_profile_name(m2m_pki_cert_profile(card)) ? m2m_pki_profile_name(m2m_pki_cert_profile(card)) : "?");
	else if (r != M2M_OK) {
		snprintf(c->why, sizeof c->why, "the card certificate of %s's card does not chain to the agency's root (%s)",
			 c->order.tre, m2m_reason_name(r) ? m2m_reason_name(r) : "?");
		r = M2M_R_BAD_CHAIN;
	}
	X509_free(card);
	return r;
}

static m2m_reason check_order(dpf_context *dpf, const M2M_UICC_CREDENTIAL_ORDER *q, checked_uicc_order *c)
{
	m2m_trust *trust = m2m_identity_trust(dpf->id);
	m2m_reason r = read_fields(q, c);
	if (r == M2M_OK)
		r = dpf_ticket_check(dpf, trust, q->ticket, c->order.tre, c->order.change_id, c->why, sizeof c->why);
	if (r == M2M_OK)
		r = check_card(trust, c);
	return r;
}

/* Check 4, against the change's row. */
static m2m_reason same_change(const dpf_uicc_creds *known, checked_uicc_order *c)
{
	if (!strcmp(known->tre, c->order.tre) && !strcmp(known->iccid, c->order.iccid))
		return M2M_OK;
	snprintf(c->why, sizeof c->why, "this change is %s's with card %s, not %s's with card %s", known->tre,
		 known->iccid, c->order.tre, c->order.iccid);
	return M2M_R_WRONG_STATE;
}

/* A challenge seen before: answered from its row, if the order is the same one. */
static void known_package(dpf_context *dpf, m2m_request *req, const dpf_uicc_creds *o, const dpf_uicc_package *p,
			  const checked_uicc_order *c)
{
	if (p->card_cert_len != c->package.card_cert_len || memcmp(p->card_cert, c->package.card_cert, p->card_cert_len))
		m2m_refuse(dpf->node, req, M2M_R_WRONG_STATE, "this card challenge was ordered for another card certificate");
	else if (p->state == DPF_UICC_PACKAGED)
		dpf_uicc_package_reply(dpf, req, o, p);
	else
		dpf_uicc_validate(dpf, req, o, p);  /* joins the validation under way, or (after a restart) asks anew */
}

/* A new challenge: recorded validating (with its change, if new), then validated. */
static void new_package(dpf_context *dpf, m2m_request *req, int change_known, checked_uicc_order *c)
{
	if ((!change_known && dpf_uicc_order_insert(dpf->db, &c->order)) || dpf_uicc_package_insert(dpf->db, &c->package))
		m2m_refuse(dpf->node, req, M2M_R_INTERNAL, "the credential order of %s cannot be recorded", c->order.tre);
	else
		dpf_uicc_validate(dpf, req, &c->order, &c->package);
}

void dpf_uicc_order(dpf_context *dpf, m2m_request *req)
{
	checked_uicc_order c;
	dpf_uicc_creds known;
	dpf_uicc_package seen;
	memset(&c, 0, sizeof c);
	memset(&seen, 0, sizeof seen);
	m2m_reason r = check_order(dpf, req->env.body, &c);
	int change = r == M2M_OK ? dpf_uicc_order_find(dpf->db, c.order.change_id, &known) : -1;
	int found = change == 0 ? dpf_uicc_package_find(dpf->db, c.order.change_id, c.package.card_nonce, &seen) : 1;
	if (r == M2M_OK && (change < 0 || found < 0)) {
		r = M2M_R_INTERNAL;
		snprintf(c.why, sizeof c.why, "the credential orders cannot be read");
	}
	if (r == M2M_OK && change == 0)
		r = same_change(&known, &c);
	if (r != M2M_OK)
		m2m_refuse(dpf->node, req, r, "credential order refused: %s", c.why);
	else if (found == 0)
		known_package(dpf, req, &known, &seen, &c);
	else
		new_package(dpf, req, change == 0, &c);
	dpf_uicc_package_clear(&seen);
	dpf_uicc_package_clear(&c.package);
}
