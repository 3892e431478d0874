/*
 * Remote file management of the USIM (TS 102 226 §6, TS 31.116): the commands of a script on
 * the RFM TAR run with the card's own handlers, in an RFM context of their own: ADF.USIM is
 * implicitly selected when the script starts (TS 31.116), and the TAR's access domain (the UICC
 * access parameters of TS 102 226 §8) grants the ADM level, so the operator updates EF_IMSI
 * without ever sending its ADM key. The terminal's own selection and security status are left
 * as they were. A script that changed EF_IMSI makes the card ask for a REFRESH (proactive.c).
 */
#include "commands.h"

#include "log/log.h"

#include <string.h>

/* The file commands this card runs remotely; any other gets 6D00 in the PoR. */
static int rfm_command(uint8_t ins)
{
	static const uint8_t allowed[] = {0xA4 /* SELECT */, 0xB0 /* READ BINARY */, 0xD6 /* UPDATE BINARY */,
					  0xB2 /* READ RECORD */, 0xF2 /* STATUS */};
	return memchr(allowed, ins, sizeof allowed) != NULL;
}

static uint16_t rfm_step(uicc_card *c, const m2m_ota_keyset *ks, const uicc_command *cmd, unsigned shape,
			 uint8_t *out, size_t *out_len)
{
	if (!rfm_command(cmd->ins))
		return SW_INS_NOT_SUPPORTED;
	return uicc_script_command(c, cmd, shape, out, out_len);
}

int uicc_rfm_run(uicc_card *c, const uint8_t *script, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	uicc_session terminal = c->st.s;
	uint8_t imsi[UICC_EF_MAX];
	memcpy(imsi, c->st.ef[UICC_EF_IMSI], sizeof imsi);
	c->st.s = (uicc_session){.df = UICC_ADF_USIM, .ef = -1, .app_active = 1, .adm_verified = 1};
	int rc = uicc_script_run(c, rfm_step, NULL, script, len, out, cap, out_len);
	c->st.s = terminal;
	if (rc || !memcmp(imsi, c->st.ef[UICC_EF_IMSI], sizeof imsi))
		return rc;
	int refresh = uicc_toolkit_refresh_imsi(c);
	if (refresh > 0)
		m2m_info("EF_IMSI updated over the air; the terminal did not announce REFRESH: it reads the"
			 " new IMSI at its next reset");
	return refresh < 0 ? -1 : 0;
}
