/*
 * mcimCommand (docs/alt1a.md, "MCIM life cycle in the TRE"; TR O4, T-1a-12): only the MCIM's owner
 * may activate, deactivate or delete it in the TRE, so the DPF signs each command with its
 * identity (profile operatorFunction, CN = the owner), and the TRE answers with a receipt it
 * signs. The change of subscription sends them (change_command.c).
 */
#ifndef MNO_DPF_COMMAND_H
#define MNO_DPF_COMMAND_H

#include "daemon/identity.h"

#include <stdint.h>

typedef struct dpf_command {
	uint8_t mcim_id[16];
	char tre[M2M_ENTITY_MAX + 1];
	m2m_mcim_action action;
	uint8_t nonce[32];          /* fresh: dpf_command_sign draws it */
	const uint8_t *change_id;   /* 16 octets of a change of subscription, or NULL */
} dpf_command;

/* McimCommand {mcimId, owner, tre, action, nonce, changeId} signed by id into out (allocated by
 * the caller: a message body); cmd->nonce is drawn first. 0, or -1 (id not enrolled yet). */
int dpf_command_sign(m2m_identity *id, const char *owner, dpf_command *cmd, M2M_SIGNED_OBJECT *out);

/* A mcimReceipt for cmd: signed by cmd->tre's valid TRE certificate under trust, about the same
 * mcimId, TRE, action and nonce. M2M_OK with the MCIM's state in the TRE after the command;
 * otherwise the reason (badSignature, badChain, certificateRevoked..., badBody for the receipt
 * of another command, nonceReplayed for another nonce) with why. */
m2m_reason dpf_receipt_check(m2m_trust *trust, const M2M_SIGNED_OBJECT *so, const dpf_command *cmd,
			     m2m_mcim_state *state, char *why, size_t len);

#endif
