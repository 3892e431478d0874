/*
 * Discovery and order (docs/alt1a.md steps 4 and 5; brief §2.1 step 5):
 *   discoveryRequest   SignedObject over DiscoveryRequest {tre, m2me, nonce, changeId?}, signed by
 *                      the TRE (changeId: a change of subscription is open, docs/alt1a-change.md)
 *   discoveryResponse  SignedObject over RegistrationTicket {tre, m2me, sho, dpf, nonce, expires,
 *                      changeId?}, signed by the DRF
 *   mcimRequest        SignedObject over McimOrder {tre, ticket, nonce2}, signed by the TRE
 * The ticket is accepted only when the configured DRF signed it (a certificate of profile
 * registration with CN = the drf setting, valid and not revoked) and it answers this discovery:
 * this TRE, its M2ME, our nonce, not expired, and the same changeId (or none). Its SHO is then
 * the only operator whose package the TRE installs (package.c: T-1a-1, T-1a-10).
 */
#include "tre.h"

#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tre_discovery_der(tre *t, const uint8_t nonce[TRE_NONCE_LEN], const uint8_t *change_id, uint8_t **der, size_t *len)
{
	M2M_DISCOVERY_REQUEST *q = M2M_DISCOVERY_REQUEST_new();
	int rc = !q || m2m_set_str(q->tre, t->entity) || m2m_set_digits(&q->m2me, t->s.m2me_id) ||
		 !ASN1_OCTET_STRING_set(q->nonce, nonce, TRE_NONCE_LEN);
	if (!rc && change_id) {
		q->change_id = ASN1_OCTET_STRING_new();
		rc = !q->change_id || !ASN1_OCTET_STRING_set(q->change_id, change_id, TRE_CHANGE_ID_LEN);
	}
	if (!rc)
		rc = tre_signed_der(t, ASN1_ITEM_rptr(M2M_DISCOVERY_REQUEST), q, der, len);
	M2M_DISCOVERY_REQUEST_free(q);
	return rc;
}

/* A change's discovery is answered only by a ticket for that change: like the nonce, the changeId
 * binds the ticket to this discovery. */
static m2m_reason check_change(const M2M_REGISTRATION_TICKET *k, const tre_provision_state *p, char *why, size_t len)
{
	if (!p->has_change && k->change_id)
		return snprintf(why, len, "a ticket for a change of subscription answers no initial discovery"),
		       M2M_R_BAD_BODY;
	if (p->has_change && (!k->change_id || ASN1_STRING_length(k->change_id) != TRE_CHANGE_ID_LEN ||
			      memcmp(ASN1_STRING_get0_data(k->change_id), p->change_id, TRE_CHANGE_ID_LEN)))
		return snprintf(why, len, "the ticket does not answer this change of subscription's discovery"),
		       M2M_R_NONCE_REPLAYED;
	return M2M_OK;
}

/* The ticket answers our discovery. */
static m2m_reason check_ticket(const tre *t, const M2M_REGISTRATION_TICKET *k, const tre_provision_state *p,
			       char *why, size_t len)
{
	char tre_id[M2M_ENTITY_MAX + 1], m2me[TRE_IMEI_LEN + 2];
	int64_t expires = 0;
	if (m2m_read_name(k->tre, tre_id, M2M_ENTITY_MAX) || strcmp(tre_id, t->entity))
		return snprintf(why, len, "the ticket is for another TRE"), M2M_R_NOT_AUTHORISED;
	if (m2m_digits(k->m2me, m2me, sizeof m2me, 14, 16) || strcmp(m2me, t->s.m2me_id))
		return snprintf(why, len, "the ticket is for another M2ME than %s", t->s.m2me_id), M2M_R_NOT_AUTHORISED;
	if (ASN1_STRING_length(k->nonce) != TRE_NONCE_LEN ||
	    memcmp(ASN1_STRING_get0_data(k->nonce), p->nonce, TRE_NONCE_LEN))
		return snprintf(why, len, "the ticket does not carry this discovery's nonce"), M2M_R_NONCE_REPLAYED;
	if (m2m_read_time(k->expires, &expires) || expires <= (int64_t)time(NULL))
		return snprintf(why, len, "the ticket has expired"), M2M_R_STALE_VERDICT;
	return check_change(k, p, why, len);
}

static m2m_reason take_parties(const M2M_REGISTRATION_TICKET *k, tre_provision_state *p, char *why, size_t len)
{
	if (m2m_read_name(k->sho, p->sho, M2M_ENTITY_MAX) || m2m_read_name(k->dpf, p->dpf, M2M_ENTITY_MAX))
		return snprintf(why, len, "the ticket's sho and dpf must be entity ids"), M2M_R_BAD_BODY;
	return M2M_OK;
}

static int keep_ticket(const M2M_SIGNED_OBJECT *so, tre_provision_state *p)
{
	size_t n = (size_t)ASN1_STRING_length(so->cms);
	uint8_t *copy = malloc(n);
	if (!copy)
		return -1;
	memcpy(copy, ASN1_STRING_get0_data(so->cms), n);
	free(p->ticket);
	p->ticket = copy;
	p->ticket_len = n;
	return 0;
}

m2m_reason tre_ticket_accept(tre *t, const M2M_SIGNED_OBJECT *so, tre_provision_state *p, char *why, size_t len)
{
	void *value = NULL;
	tre_signer signer;
	m2m_reason r = tre_verify_signed(t, so, ASN1_ITEM_rptr(M2M_REGISTRATION_TICKET), "the ticket", &value, &signer, why, len);
	/* signed by the registration operator this TRE was given */
	if (r == M2M_OK &&
	    (r = tre_signer_check(&signer, M2M_PROFILE_REGISTRATION, t->s.drf, M2M_R_BAD_SIGNATURE, M2M_R_BAD_SIGNATURE,
				  "the ticket", why, len)) == M2M_OK &&
	    (r = check_ticket(t, value, p, why, len)) == M2M_OK)
		r = take_parties(value, p, why, len);
	if (r == M2M_OK && keep_ticket(so, p))
		r = M2M_R_INTERNAL, snprintf(why, len, "out of memory");
	M2M_REGISTRATION_TICKET_free(value);
	return r;
}

int tre_order_der(tre *t, const tre_provision_state *p, uint8_t **der, size_t *len)
{
	M2M_MCIM_ORDER *o = M2M_MCIM_ORDER_new();
	int rc = !o || m2m_set_str(o->tre, t->entity) || !ASN1_OCTET_STRING_set(o->ticket, p->ticket, (int)p->ticket_len) ||
			 !ASN1_OCTET_STRING_set(o->nonce, p->nonce2, TRE_NONCE_LEN)
		 ? -1
		 : tre_signed_der(t, ASN1_ITEM_rptr(M2M_MCIM_ORDER), o, der, len);
	M2M_MCIM_ORDER_free(o);
	return rc;
}
