/*
 * The SMS-PP transport of secured packets (3GPP TS 31.115 §4, TS 23.040, TS 31.111 §7.1):
 * SMS-DELIVER with TP-PID 7F (USIM data download) and TP-DCS F6 (class 2, 8-bit), a user data
 * header with the command packet identifier (IEI 70) and, when the packet does not fit in one
 * message, the concatenation element (IEI 00, 8-bit reference); the ENVELOPE (SMS-PP download)
 * by which the ME hands a message to the card; and the card's answer, the response packet behind
 * IEI 71, which the ME returns in the SMS-DELIVER-REPORT (RP-ACK).
 */
#ifndef M2M_OTA_SMS_H
#define M2M_OTA_SMS_H

#include <stddef.h>
#include <stdint.h>

#define M2M_SMS_UD_MAX 140
#define M2M_SMS_TPDU_MAX 164        /* SMS-DELIVER: 24 header octets at most, 140 of user data */
#define M2M_SMS_ADDRESS_MAX 20      /* TP-OA digits */
#define M2M_SMS_CONCAT_MAX 32       /* segments of one packet */
#define M2M_SMS_PID_DATA_DOWNLOAD 0x7F
#define M2M_SMS_DCS_CLASS2_8BIT 0xF6

/* One SMS-DELIVER as read. ud points into the TPDU, after the user data header. */
typedef struct m2m_sms_deliver {
	char originator[M2M_SMS_ADDRESS_MAX + 1];
	uint8_t pid, dcs;
	uint8_t scts[7];
	int command_packet;              /* IEI 70 present */
	int concatenated;                /* IEI 00 present: */
	uint8_t ref, total, seq;
	const uint8_t *ud;
	size_t ud_len;
} m2m_sms_deliver;

int m2m_sms_deliver_parse(const uint8_t *tpdu, size_t len, m2m_sms_deliver *d, char *err, size_t errlen);

/*
 * Splits a command packet into SMS-DELIVER TPDUs: one when it fits, else concatenated with
 * reference ref, the command packet identifier in the first segment's header only. 0, or -1
 * with err (the packet needs more than max segments).
 */
int m2m_sms_deliver_build(const uint8_t *packet, size_t len, const char *originator, const uint8_t scts[7],
			  uint8_t ref, uint8_t (*tpdus)[M2M_SMS_TPDU_MAX], size_t *lens, size_t max, size_t *count,
			  char *err, size_t errlen);

/*
 * The receiver's reassembly of one concatenated packet (a new reference, or a message that is
 * not concatenated, starts afresh). A segment received twice is ignored when it is the same.
 */
typedef struct m2m_sms_concat {
	int started;
	int command_packet;              /* the first segment carried IEI 70 */
	uint8_t ref, total;
	uint32_t have;                   /* bit seq-1 */
	uint8_t seg[M2M_SMS_CONCAT_MAX][M2M_SMS_UD_MAX];
	size_t seg_len[M2M_SMS_CONCAT_MAX];
} m2m_sms_concat;
/*
 * 1 when the packet is complete (then m2m_sms_concat_take), 0 when segments are missing (or the
 * segment repeats one already held), -1 bad (a total that differs from the reference's, a
 * sequence number out of range, a repeated sequence number with other data): c is unchanged.
 */
int m2m_sms_concat_add(m2m_sms_concat *c, const m2m_sms_deliver *d);
/* Copies the reassembled packet into out and resets c: its length, or 0 when it does not fit. */
size_t m2m_sms_concat_take(m2m_sms_concat *c, uint8_t *out, size_t cap);

/* ENVELOPE (SMS-PP download) data: D1 { 82 02 83 81, 8B TPDU } (BER-TLV, TS 31.111 §7.1.1.2). */
int m2m_sms_pp_download_build(const uint8_t *tpdu, size_t len, uint8_t *out, size_t cap, size_t *out_len);
int m2m_sms_pp_download_parse(const uint8_t *data, size_t len, const uint8_t **tpdu, size_t *tpdu_len);

/* The card's answer to the ENVELOPE: user data 02 71 00 followed by the response packet.
 * The build functions below accept out == the data they wrap (it is moved first). */
int m2m_sms_por_ud_build(const uint8_t *packet, size_t len, uint8_t *out, size_t cap, size_t *out_len);
int m2m_sms_por_ud_parse(const uint8_t *ud, size_t len, const uint8_t **packet, size_t *packet_len);

/* SMS-DELIVER-REPORT for RP-ACK (TS 23.040 §9.2.2.1a) with TP-PID, TP-DCS and that user data. */
int m2m_sms_report_build(const uint8_t *ud, size_t len, uint8_t *out, size_t cap, size_t *out_len);
int m2m_sms_report_parse(const uint8_t *tpdu, size_t len, const uint8_t **ud, size_t *ud_len);

#endif
