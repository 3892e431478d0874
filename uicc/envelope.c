/*
 * ENVELOPE (TS 102 221 §11.2.2) carrying an SMS-PP download (TS 31.111 §7.1.1.2): the terminal
 * hands the card an SMS-DELIVER for USIM data download (TP-PID 7F, TS 23.040 §9.2.3.9). Its user
 * data is a command packet (TS 31.115 §4: the header holds the command packet identifier,
 * IEI 70) or one segment of one (IEI 00, reassembled here). The card's answer is the user data
 * of the SMS-DELIVER-REPORT the terminal returns: 02 71 00 and the PoR.
 */
#include "commands.h"

#include "log/log.h"

#include <string.h>

/*
 * An SMS the card cannot take as a secured packet is refused with 6A80 ("incorrect parameters
 * in the data field"): TS 31.111 §7.1.1.2 has the terminal answer any such status word with
 * RP-ERROR (TP-FCS "(U)SIM data download error"), which is what the network must learn. This
 * card has no EF_SMS to store an ordinary message in.
 */
static uint16_t not_a_packet(const char *why)
{
	m2m_info("SMS-PP download refused (6A80): %s", why);
	return SW_WRONG_DATA;
}

uint16_t uicc_cmd_envelope(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	const uint8_t *tpdu;
	size_t tpdu_len;
	m2m_sms_deliver d;
	char err[128];
	if (cmd->p1 || cmd->p2)
		return SW_WRONG_P1P2;
	if (m2m_sms_pp_download_parse(cmd->data, cmd->lc, &tpdu, &tpdu_len))
		return not_a_packet("not an SMS-PP download (D1 with device identities 83 81 and a TPDU)");
	if (m2m_sms_deliver_parse(tpdu, tpdu_len, &d, err, sizeof err))
		return not_a_packet(err);
	if (d.pid != M2M_SMS_PID_DATA_DOWNLOAD)
		return not_a_packet("TP-PID is not 7F (USIM data download)");
	/* IEI 70 is in the only message, or in the first segment of a concatenated one */
	if ((!d.concatenated || d.seq == 1) && !d.command_packet)
		return not_a_packet("no command packet identifier (IEI 70) in the user data header");
	int complete = m2m_sms_concat_add(&c->st.ota.sms, &d);
	if (complete < 0)
		return not_a_packet("a segment that does not fit the packet being reassembled");
	if (!complete)
		return SW_OK;  /* more segments to come: nothing to answer yet */
	uint8_t packet[M2M_SMS_CONCAT_MAX * M2M_SMS_UD_MAX];
	size_t len = m2m_sms_concat_take(&c->st.ota.sms, packet, sizeof packet);
	return uicc_secured_packet(c, packet, len, out, out_len);
}
