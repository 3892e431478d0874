/*
 * The registration ticket an order carries (docs/alt1a.md step 5, brief §2.1 steps 6 and 7): a
 * SignedData over RegistrationTicket by a registration certificate whose CN is the configured DRF
 * (badSignature otherwise), for the ordering TRE (notAuthorised), naming this operator as SHO
 * (wrongSho), not expired (wrongState: the device must discover again). Checked the same way for
 * 1a's mcimRequest (order.c) and 3b's uiccCredentialOrder (uicc_order.c), where a ticket that
 * names a change must name the one ordered (notAuthorised).
 */
#include "dpf/dpf_impl.h"

#include "wire/read.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

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

/* A ticket of a change of subscription (changeId present) is for that change only. */
static int other_change(const M2M_REGISTRATION_TICKET *t, const uint8_t *change_id)
{
	return change_id && t->change_id &&
	       (ASN1_STRING_length(t->change_id) != DPF_CHANGE_ID_LEN ||
		memcmp(ASN1_STRING_get0_data(t->change_id), change_id, DPF_CHANGE_ID_LEN));
}

static m2m_reason ticket_fields(const dpf_context *dpf, const M2M_REGISTRATION_TICKET *t, const char *tre,
				const uint8_t *change_id, char *why, size_t len)
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
	if (other_change(t, change_id)) {
		snprintf(why, len, "the ticket of %s is for another change of subscription", tre);
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

m2m_reason dpf_ticket_check(dpf_context *dpf, m2m_trust *trust, ASN1_OCTET_STRING *der, const char *tre,
			    const uint8_t *change_id, char *why, size_t len)
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
		r = ticket_fields(dpf, t, tre, change_id, why, len);
	M2M_REGISTRATION_TICKET_free(t);
	X509_free(signer);
	return r;
}
