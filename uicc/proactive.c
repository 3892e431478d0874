/*
 * The proactive side of the card (TS 102 221 §11.2, TS 102 223 §6): the terminal says what it
 * supports with TERMINAL PROFILE; the card announces a command with 91XX, the terminal FETCHes
 * it and reports with TERMINAL RESPONSE. The card's only command is REFRESH, which it queues
 * after an OTA script changed EF_IMSI (rfm.c): docs/uicc.md, "REFRESH after a new IMSI".
 */
#include "commands.h"

#include "log/log.h"
#include "ota/cat.h"

#include <string.h>

uint16_t uicc_cmd_terminal_profile(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	uicc_toolkit *t = &c->st.cat;
	if (cmd->p1 || cmd->p2)
		return SW_WRONG_P1P2;
	/* a longer profile announces facilities this card never uses: it keeps what it reads */
	t->profile_len = cmd->lc < sizeof t->profile ? cmd->lc : sizeof t->profile;
	memcpy(t->profile, cmd->data, t->profile_len);
	return SW_OK;
}

/* The command stays pending until its TERMINAL RESPONSE: a FETCH repeated after a lost answer
 * gets it again. */
uint16_t uicc_cmd_fetch(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	uicc_toolkit *t = &c->st.cat;
	if (cmd->p1 || cmd->p2)
		return SW_WRONG_P1P2;
	if (!t->command_len)
		return SW_CONDITIONS_NOT_SATISFIED;
	memcpy(out, t->command, t->command_len);
	*out_len = t->command_len;
	t->fetched = 1;
	return SW_OK;
}

/* The response must answer the pending command: same number, type and qualifier (TS 102 223
 * §6.8). Any result ends it: a terminal that could not refresh reads the new IMSI at its next
 * reset anyway. */
uint16_t uicc_cmd_terminal_response(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	uicc_toolkit *t = &c->st.cat;
	m2m_cat_command pending, answered;
	uint8_t result;
	if (cmd->p1 || cmd->p2)
		return SW_WRONG_P1P2;
	if (!t->command_len)
		return SW_CONDITIONS_NOT_SATISFIED;
	if (m2m_cat_command_parse(t->command, t->command_len, &pending) ||
	    m2m_cat_terminal_response_parse(cmd->data, cmd->lc, &answered, &result) ||
	    answered.number != pending.number || answered.type != pending.type ||
	    answered.qualifier != pending.qualifier)
		return SW_WRONG_DATA;
	m2m_info("proactive command %u (type %02X) done: result %02X", pending.number, pending.type, result);
	t->command_len = 0;
	t->fetched = 0;
	return SW_OK;
}

/* TS 102 223 §8.6: command numbers 01..FE. */
static uint8_t next_number(uint8_t n)
{
	return (uint8_t)(n % 0xFE + 1);
}

int uicc_toolkit_refresh_imsi(uicc_card *c)
{
	/* the file list (TS 102 223 §8.18): one file, by its full path 3F00 7FFF 6F07 */
	static const uint8_t files[] = {0x01, 0x3F, 0x00, 0x7F, 0xFF, 0x6F, 0x07};
	uicc_toolkit *t = &c->st.cat;
	if (!m2m_cat_profile_has(t->profile, t->profile_len, M2M_CAT_PROFILE_REFRESH))
		return 1;
	m2m_cat_command refresh = {.number = next_number(t->number), .type = M2M_CAT_CMD_REFRESH,
				   .qualifier = M2M_CAT_REFRESH_INIT_FCN, .files_len = sizeof files};
	memcpy(refresh.files, files, sizeof files);
	if (m2m_cat_command_build(&refresh, t->command, sizeof t->command, &t->command_len))
		return -1;
	t->number = refresh.number;
	t->fetched = 0;
	return 0;
}

uint16_t uicc_toolkit_sw(const uicc_card *c, uint16_t sw)
{
	const uicc_toolkit *t = &c->st.cat;
	if (sw != SW_OK || !t->command_len || t->fetched)
		return sw;
	return (uint16_t)(SW_PROACTIVE_PENDING | (t->command_len & 0xFF));
}
