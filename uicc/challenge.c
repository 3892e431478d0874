/*
 * GET CHALLENGE for Alternative 3b: a fresh 16-byte nonce that the TRE reads before the new
 * operator makes the card's credentials, and that the blob must carry (T-3b-1: a blob made for
 * an earlier challenge, or replayed, is refused). The nonce is stored, so that it survives a
 * restart and a reset during the minutes the registration takes; a new GET CHALLENGE replaces
 * it, and an installed blob uses it up.
 */
#include "commands.h"

#include "crypto/crypto.h"

#include <string.h>

/* 80 84 00 00 Le: the nonce, 16 bytes (Le 10 or 00). Only a card with an identity issues one:
 * without it no blob could be opened. */
uint16_t uicc_cmd_get_challenge(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	uicc_challenge *ch = &c->st.challenge;
	if (cmd->p1 || cmd->p2)
		return SW_WRONG_P1P2;
	if (!uicc_identity_usable(c))
		return SW_CONDITIONS_NOT_SATISFIED;
	m2m_random(ch->nonce, sizeof ch->nonce);
	ch->issued = 1;
	memcpy(out, ch->nonce, sizeof ch->nonce);
	*out_len = sizeof ch->nonce;
	return SW_OK;
}

uint16_t uicc_challenge_use(uicc_card *c, const uint8_t nonce[UICC_CHALLENGE_LEN])
{
	uicc_challenge *ch = &c->st.challenge;
	if (!ch->issued || m2m_ct_compare(nonce, ch->nonce, sizeof ch->nonce))
		return SW_REFERENCE_NOT_USABLE;
	m2m_wipe(ch, sizeof *ch);
	return SW_OK;
}
