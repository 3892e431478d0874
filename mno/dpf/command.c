/* Signed MCIM commands and their receipts: see command.h. */
#include "dpf/command.h"
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

int dpf_command_sign(m2m_identity *id, const char *owner, dpf_command *cmd, M2M_SIGNED_OBJECT *out)
{
	M2M_MCIM_COMMAND *c = M2M_MCIM_COMMAND_new();
	m2m_random(cmd->nonce, sizeof cmd->nonce);
	int ok = c && ASN1_OCTET_STRING_set(c->mcim_id, cmd->mcim_id, sizeof cmd->mcim_id) && !m2m_set_str(c->owner, owner) &&
		 !m2m_set_str(c->tre, cmd->tre) && ASN1_ENUMERATED_set(c->action, cmd->action) &&
		 ASN1_OCTET_STRING_set(c->nonce, cmd->nonce, sizeof cmd->nonce);
	if (ok && cmd->change_id) {
		c->change_id = ASN1_OCTET_STRING_new();
		ok = c->change_id && ASN1_OCTET_STRING_set(c->change_id, cmd->change_id, 16);
	}
	int rc = ok ? m2m_identity_sign_item(id, ASN1_ITEM_rptr(M2M_MCIM_COMMAND), c, out) : -1;
	M2M_MCIM_COMMAND_free(c);
	return rc;
}

static m2m_reason match(const M2M_MCIM_RECEIPT *w, const dpf_command *cmd, m2m_mcim_state *state, char *why,
			size_t len)
{
	uint8_t mcim_id[16], nonce[32];
	int action = 0, after = 0;
	if (m2m_read_octets(w->mcim_id, mcim_id, sizeof mcim_id) || m2m_read_octets(w->nonce, nonce, sizeof nonce) ||
	    m2m_read_enum(w->action, M2M_MCIM_REPROVISION, &action) || m2m_read_enum(w->state, M2M_MCIM_DELETED, &after) ||
	    memcmp(mcim_id, cmd->mcim_id, sizeof mcim_id) || (m2m_mcim_action)action != cmd->action) {
		snprintf(why, len, "the receipt does not answer this command on this MCIM");
		return M2M_R_BAD_BODY;
	}
	if (m2m_ct_compare(nonce, cmd->nonce, sizeof nonce)) {
		snprintf(why, len, "the receipt carries another command's nonce");
		return M2M_R_NONCE_REPLAYED;
	}
	*state = (m2m_mcim_state)after;
	return M2M_OK;
}

m2m_reason dpf_receipt_check(m2m_trust *trust, const M2M_SIGNED_OBJECT *so, const dpf_command *cmd,
			     m2m_mcim_state *state, char *why, size_t len)
{
	m2m_tre_signed s;
	m2m_reason r = dpf_tre_signed(trust, so, ASN1_ITEM_rptr(M2M_MCIM_RECEIPT), M2M_TRE_FIELD(M2M_MCIM_RECEIPT), &s);
	if (r != M2M_OK)
		snprintf(why, len, "receipt refused: %s", s.why);
	else if (strcmp(s.tre, cmd->tre)) {
		snprintf(why, len, "the receipt is not signed by %s about itself", cmd->tre);
		r = M2M_R_BAD_SIGNATURE;
	} else
		r = match(s.value, cmd, state, why, len);
	m2m_tre_signed_clear(&s);
	return r;
}
