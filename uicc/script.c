/*
 * A compact command script (TS 102 226 §5.1.1): the commands of a secured packet, each a T=0
 * TPDU, run in order until one does not end in 9000; the compact response data (§5.1.2) says
 * how many ran (the failed one included), the last status word and the last response data.
 * This card returns data at once with 9000 (docs/uicc.md), so no 61XX ever ends a command.
 */
#include "commands.h"

#include "crypto/crypto.h"
#include "ota/rfm.h"

/* P3 is Le for the commands that only return data, else Lc (m2m_rfm_script_next knows which). */
static unsigned shape_of(const m2m_rfm_apdu *a, uicc_command *cmd)
{
	*cmd = (uicc_command){.cla = a->cla, .ins = a->ins, .p1 = a->p1, .p2 = a->p2};
	if (a->has_le) {
		cmd->has_le = 1;
		cmd->ne = a->p3 ? a->p3 : 256;
		return UICC_CASE_2;
	}
	if (!a->lc)
		return UICC_CASE_1;
	cmd->data = a->data;
	cmd->lc = a->lc;
	return UICC_CASE_3;
}

/* The count is one byte: a script runs 255 commands at the most, the rest are not run. A
 * command cut short by the end of the script counts, with 6700 (wrong length). */
int uicc_script_run(uicc_card *c, uicc_script_step step, const m2m_ota_keyset *ks, const uint8_t *script,
		    size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t data[UICC_RESPONSE_MAX];
	size_t data_len = 0, off = 0;
	uint16_t sw = SW_OK;
	uint8_t executed = 0;
	m2m_rfm_apdu a;
	int more;
	while (sw == SW_OK && executed < 0xFF && (more = m2m_rfm_script_next(script, len, &off, &a)) != 0) {
		uicc_command cmd;
		executed++;
		m2m_wipe(data, data_len);
		data_len = 0;
		if (more < 0) {
			sw = SW_WRONG_LENGTH;
			break;
		}
		unsigned shape = shape_of(&a, &cmd);
		sw = step(c, ks, &cmd, shape, data, &data_len);
	}
	int rc = m2m_rfm_response_build(executed, sw, data, data_len, out, cap, out_len);
	m2m_wipe(data, sizeof data);
	return rc;
}
