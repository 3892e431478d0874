/*
 * One command APDU from bytes to status word: split it (ISO 7816-3 §12.1), check the class and
 * instruction (TS 102 221 §10.1.1), run the handler, and keep or undo what it changed. The
 * commands of an RFM script take the same path, short of persisting (uicc_script_command).
 */
#include "commands.h"

#include "crypto/crypto.h"

#include <string.h>

/* The shapes of commands.h, short for the table. */
enum { CASE_1 = UICC_CASE_1, CASE_2 = UICC_CASE_2, CASE_3 = UICC_CASE_3, CASE_4 = UICC_CASE_4 };

#define CLA_ISO 0x00  /* TS 102 221 table 10.5: '0X' commands, logical channel 0, no SM */
#define CLA_UICC 0x80 /* '8X': commands proprietary to TS 102 221: STATUS and the toolkit's; and
		       * this card's own for Alternative 3b */

/* Every command returns its data at once with 9000 (never 61XX), so no response is ever left
 * waiting to be fetched. */
static uint16_t get_response(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	return SW_CONDITIONS_NOT_SATISFIED;
}

static const struct command {
	uint8_t ins;
	const char *name;
	uint8_t cla;
	unsigned cases;
	uicc_handler run;
} commands[] = {
	{0xA4, "SELECT", CLA_ISO, CASE_3 | CASE_4, uicc_cmd_select},
	{0xF2, "STATUS", CLA_UICC, CASE_1 | CASE_2, uicc_cmd_status},
	{0xB0, "READ BINARY", CLA_ISO, CASE_2, uicc_cmd_read_binary},
	{0xD6, "UPDATE BINARY", CLA_ISO, CASE_3, uicc_cmd_update_binary},
	{0xB2, "READ RECORD", CLA_ISO, CASE_2, uicc_cmd_read_record},
	{0x20, "VERIFY", CLA_ISO, CASE_1 | CASE_3, uicc_cmd_verify},
	{0x88, "AUTHENTICATE", CLA_ISO, CASE_3 | CASE_4, uicc_cmd_authenticate},
	{0xC0, "GET RESPONSE", CLA_ISO, CASE_2, get_response},
	{0x10, "TERMINAL PROFILE", CLA_UICC, CASE_3, uicc_cmd_terminal_profile},
	{0xC2, "ENVELOPE", CLA_UICC, CASE_3 | CASE_4, uicc_cmd_envelope},
	{0x12, "FETCH", CLA_UICC, CASE_2, uicc_cmd_fetch},
	{0x14, "TERMINAL RESPONSE", CLA_UICC, CASE_3, uicc_cmd_terminal_response},
	/* Alternative 3b, proprietary (docs/uicc.md): the card's identity and its shadow slot */
	{0xCA, "GET DATA", CLA_UICC, CASE_2, uicc_cmd_get_data},
	{0x84, "GET CHALLENGE", CLA_UICC, CASE_2, uicc_cmd_get_challenge},
	{0xE2, "STORE DATA", CLA_UICC, CASE_3, uicc_cmd_store_data},
	{0x38, "SWITCH", CLA_UICC, CASE_1, uicc_cmd_switch},
	{0x3A, "COMMIT", CLA_UICC, CASE_1, uicc_cmd_commit},
	{0x3C, "ROLLBACK", CLA_UICC, CASE_1, uicc_cmd_rollback},
};

static const struct command *find(uint8_t ins)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].ins == ins)
			return &commands[i];
	return NULL;
}

const char *uicc_ins_name(uint8_t ins)
{
	const struct command *k = find(ins);
	return k ? k->name : "unknown";
}

/* Short lengths only: Lc = 00 would start an extended length, which this card does not take
 * (its historical bytes say so). Returns the case, or 0 when the lengths do not add up. */
static unsigned split(const uint8_t *apdu, size_t len, uicc_command *cmd)
{
	memset(cmd, 0, sizeof *cmd);
	cmd->cla = apdu[0];
	cmd->ins = apdu[1];
	cmd->p1 = apdu[2];
	cmd->p2 = apdu[3];
	if (len == 4)
		return CASE_1;
	if (len == 5) {
		cmd->has_le = 1;
		cmd->ne = apdu[4] ? apdu[4] : 256;
		return CASE_2;
	}
	size_t lc = apdu[4];
	if (lc == 0 || (len != 5 + lc && len != 6 + lc))
		return 0;
	cmd->data = apdu + 5;
	cmd->lc = lc;
	if (len == 5 + lc)
		return CASE_3;
	cmd->has_le = 1;
	cmd->ne = apdu[len - 1] ? apdu[len - 1] : 256;
	return CASE_4;
}

/* A failed verification must be counted even though the command failed (TS 102 221 §11.1.9);
 * any other refusal leaves the card as it was. */
static int keeps_state(uint16_t sw)
{
	return sw == SW_OK || (sw & 0xFFF0) == SW_VERIFY_FAILED;
}

static uint16_t admit(const struct command *k, uint8_t cla, unsigned shape)
{
	if (!k)
		return SW_INS_NOT_SUPPORTED;
	if (cla != k->cla)
		return SW_CLA_NOT_SUPPORTED;
	return shape & k->cases ? SW_OK : SW_WRONG_LENGTH;
}

/* The handler, then Le: shorter than the answer is ISO 7816-3 §10.3.4's "wrong Le, ask again
 * with SW2". A refusal returns no data. */
static uint16_t handle(uicc_card *c, const struct command *k, const uicc_command *cmd, uint8_t *resp,
		       size_t *resp_len)
{
	uint16_t sw = k->run(c, cmd, resp, resp_len);
	if (sw == SW_OK && cmd->has_le && *resp_len > cmd->ne)
		sw = (uint16_t)(SW_WRONG_LE | (*resp_len & 0xFF));
	if (sw != SW_OK) {
		m2m_wipe(resp, *resp_len);
		*resp_len = 0;
	}
	return sw;
}

static uint16_t run(uicc_card *c, const struct command *k, const uicc_command *cmd, uint8_t *resp,
		    size_t *resp_len)
{
	uicc_state before = c->st;
	uint16_t sw = handle(c, k, cmd, resp, resp_len);
	if (uicc_card_settle(c, &before, keeps_state(sw))) {
		sw = SW_TECHNICAL_PROBLEM;
		m2m_wipe(resp, *resp_len);
		*resp_len = 0;
	}
	return uicc_toolkit_sw(c, sw);
}

uint16_t uicc_apdu(uicc_card *c, const uint8_t *apdu, size_t len, uint8_t *resp, size_t *resp_len)
{
	uicc_command cmd;
	*resp_len = 0;
	if (len < 4 || len > UICC_APDU_MAX)
		return SW_WRONG_LENGTH;
	if (apdu[0] != CLA_ISO && apdu[0] != CLA_UICC)
		return SW_CLA_NOT_SUPPORTED;
	const struct command *k = find(apdu[1]);
	unsigned shape = k ? split(apdu, len, &cmd) : 0;
	uint16_t sw = admit(k, apdu[0], shape);
	return sw == SW_OK ? run(c, k, &cmd, resp, resp_len) : sw;
}

uint16_t uicc_script_command(uicc_card *c, const uicc_command *cmd, unsigned shape, uint8_t *out, size_t *out_len)
{
	const struct command *k = find(cmd->ins);
	uint16_t sw = admit(k, cmd->cla, shape);
	*out_len = 0;
	if (sw != SW_OK)
		return sw;
	uicc_state before = c->st;
	sw = handle(c, k, cmd, out, out_len);
	if (!keeps_state(sw))
		c->st = before;
	m2m_wipe(&before, sizeof before);
	return sw;
}
