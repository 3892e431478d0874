/*
 * Security status (TS 102 221 §9.5): the ADM key, key reference 0A, guards the files the
 * operator personalises (EF_ICCID, EF_DIR, EF_IMSI, EF_AD). No PIN is enabled on this card,
 * so the files a terminal updates while attaching (EF_LOCI, EF_PSLOCI, EF_KEYS) are free.
 */
#include "commands.h"

#include "crypto/crypto.h"

#define KEY_REF_ADM1 0x0A

/* Key references TS 102 221 §9.5.1 gives a UICC (PINs 01-08 and 81-88, universal PIN 11,
 * ADM 0A-0E and 8A-8E): one this card lacks is "not found", anything else a bad P2. */
static int defined_key_reference(uint8_t ref)
{
	uint8_t low = ref & 0x7F;
	return (low >= 0x01 && low <= 0x08) || (low >= 0x0A && low <= 0x0E) || ref == 0x11;
}

int uicc_access_granted(const uicc_card *c, uicc_access ac)
{
	return ac == UICC_ALWAYS || (ac == UICC_ADM && c->st.s.adm_verified);
}

/* Without data VERIFY only asks how many attempts are left (TS 102 221 §11.1.9). A wrong
 * value costs an attempt and clears the security status; the right one restores them all. */
uint16_t uicc_cmd_verify(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	uicc_state *st = &c->st;
	if (cmd->p1 != 0x00)
		return SW_WRONG_P1P2;
	if (cmd->p2 != KEY_REF_ADM1)
		return defined_key_reference(cmd->p2) ? SW_KEY_NOT_FOUND : SW_WRONG_P1P2;
	if (st->adm_tries == 0)
		return SW_AUTH_METHOD_BLOCKED;
	if (cmd->lc == 0)
		return st->s.adm_verified ? SW_OK : (uint16_t)(SW_VERIFY_FAILED | st->adm_tries);
	if (cmd->lc != UICC_ADM_LEN)
		return SW_WRONG_LENGTH;
	if (m2m_ct_compare(cmd->data, c->adm, UICC_ADM_LEN) == 0) {
		st->adm_tries = UICC_ADM_TRIES;
		st->s.adm_verified = 1;
		return SW_OK;
	}
	st->adm_tries--;
	st->s.adm_verified = 0;
	return (uint16_t)(SW_VERIFY_FAILED | st->adm_tries);
}
