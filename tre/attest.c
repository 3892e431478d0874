/*
 * attestationChallenge {nonce, mode} from the PVA -> attestationEvidence {cms}: the Evidence of
 * the current boot for that nonce and mode (evidence.c), CMS SignedData under the attestation key
 * with the TRE's certificate, so that the PVA can check it against the agency's root (brief §3,
 * "PVA decision algorithm", steps 1 and 2). Only the configured PVA may ask: evidence is
 * disclosure of the device's configuration (the privacy cost of remote validation).
 */
#include "tre.h"

#include "log/log.h"

#include <string.h>

/* The challenge's fields, or a refusal naming the field that is wrong. */
static m2m_reason check_challenge(const tre *t, const m2m_request *req, long *mode, char *why, size_t len)
{
	const M2M_ATTESTATION_CHALLENGE *c = req->env.body;
	*mode = ASN1_ENUMERATED_get(c->mode);
	if (strcmp(req->env.sender, t->s.pva))
		return snprintf(why, len, "only the PVA %s may challenge this TRE, not %s", t->s.pva, req->env.sender),
		       M2M_R_NOT_AUTHORISED;
	if (ASN1_STRING_length(c->nonce) != TRE_NONCE_LEN)
		return snprintf(why, len, "the nonce has %d bytes, not %d", ASN1_STRING_length(c->nonce), TRE_NONCE_LEN),
		       M2M_R_BAD_BODY;
	if (*mode < M2M_MODE_AUTONOMOUS || *mode > M2M_MODE_REMOTE)
		return snprintf(why, len, "mode %ld is not autonomous (0), semiAutonomous (1) or remote (2)", *mode),
		       M2M_R_BAD_BODY;
	if (!t->boot.booted)
		return snprintf(why, len, "not booted: nothing measured yet (no certified reference values)"),
		       M2M_R_WRONG_STATE;
	if (!tre_enrolled(t))
		return snprintf(why, len, "not enrolled: no certificate to sign evidence with"), M2M_R_WRONG_STATE;
	return M2M_OK;
}

static const char *mode_name(long mode)
{
	static const char *const names[] = {"autonomous", "semiAutonomous", "remote"};
	return names[mode];
}

void tre_attest(tre *t, m2m_request *req)
{
	char why[200];
	long mode = 0;
	m2m_reason r = check_challenge(t, req, &mode, why, sizeof why);
	if (r) {
		m2m_refuse(t->node, req, r, "%s", why);
		return;
	}
	const M2M_ATTESTATION_CHALLENGE *c = req->env.body;
	M2M_EVIDENCE *e = tre_evidence_build(t, ASN1_STRING_get0_data(c->nonce), (m2m_validation_mode)mode);
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	if (tre_keystore_sign_item(t, ASN1_ITEM_rptr(M2M_EVIDENCE), e, so))
		m2m_refuse(t->node, req, M2M_R_INTERNAL, "the evidence could not be signed");
	else {
		m2m_log_event(M2M_LOG_INFO, req->env.txid, "attestationChallenge", "%s evidence for %s: secure boot %s",
			      mode_name(mode), req->env.sender, t->boot.secure_boot_ok ? "ok" : "failed");
		m2m_reply(t->node, req, M2M_MSG_ATTESTATION_EVIDENCE, so);
	}
	M2M_SIGNED_OBJECT_free(so);
	M2M_EVIDENCE_free(e);
}
