/*
 * STORE DATA for Alternative 3b: the credential blob (docs/alt3b.md, "The key blob") is about
 * 2 KB and a short APDU carries 255 bytes, so it comes as a chain of blocks, numbered from 0 in
 * P2, the last one marked in P1 b8 (as GlobalPlatform's STORE DATA marks it). The blocks are
 * kept with the card's state (a restarted daemon goes on with the chain; a reset forgets it);
 * the last one hands the whole blob to credential.c.
 */
#include "commands.h"

#include "crypto/crypto.h"

#include <string.h>

#define LAST_BLOCK 0x80  /* P1 b8 */
#define BLOCK_MAX 255    /* P2: a block number past it could not be sent */

/* Block 0 starts a chain (dropping one under way); any other must be the next one (6A86), so a
 * chain with a block missing never completes. A shadow that holds the previous credentials
 * after SWITCH is not overwritten: COMMIT or ROLLBACK first (6985). */
uint16_t uicc_cmd_store_data(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	uicc_chain *ch = &c->st.chain;
	int last = (cmd->p1 & LAST_BLOCK) != 0;
	if (cmd->p1 & ~LAST_BLOCK)
		return SW_WRONG_P1P2;
	if (!uicc_identity_usable(c) || c->st.shadow.state == UICC_SLOT_SWITCHED)
		return SW_CONDITIONS_NOT_SATISFIED;
	if (cmd->p2 == 0)
		m2m_wipe(ch, sizeof *ch);
	else if (cmd->p2 != ch->next)
		return SW_WRONG_P1P2;
	if (cmd->lc > sizeof ch->data - ch->len || (!last && cmd->p2 == BLOCK_MAX))
		return SW_NOT_ENOUGH_MEMORY;
	memcpy(ch->data + ch->len, cmd->data, cmd->lc);
	ch->len += cmd->lc;
	ch->next = cmd->p2 + 1;
	if (!last)
		return SW_OK;
	uint16_t sw = uicc_credential_install(c, ch->data, ch->len);
	if (sw == SW_OK)
		m2m_wipe(ch, sizeof *ch);
	return sw;
}
