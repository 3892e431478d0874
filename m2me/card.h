/*
 * What the M2ME says to its UICC and how it reads the answers: command APDUs (ISO 7816-4,
 * TS 102 221 §10-11, TS 31.102 §7.1.2) and the decoders of the files read at power-on
 * (EF_AD TS 31.102 §4.2.18, EF_ICCID TS 102 221 §13.2; EF_IMSI's is lib/aka/ef_imsi.h). Pure
 * functions: no transport, no state, so that every byte can be tested in isolation.
 */
#ifndef M2ME_CARD_H
#define M2ME_CARD_H

#include "aka/ef_iccid.h"
#include "aka/ef_imsi.h"

#include <stddef.h>
#include <stdint.h>

/* The USIM application identifier (TS 101 220 Annex E: RID A000000087, PIX 1002 = 3GPP USIM). */
#define M2ME_USIM_AID_LEN 16
extern const uint8_t m2me_usim_aid[M2ME_USIM_AID_LEN];

#define M2ME_FID_MF 0x3F00
#define M2ME_FID_ICCID 0x2FE2  /* under the MF */
#define M2ME_FID_IMSI 0x6F07   /* under ADF.USIM */
#define M2ME_FID_AD 0x6FAD     /* under ADF.USIM */

/* Sizes the files have by specification; the device reads exactly these. */
#define M2ME_EF_IMSI_LEN M2M_EF_IMSI_LEN
#define M2ME_EF_AD_READ_LEN 4  /* bytes 1..4: byte 4 is the MNC length, the rest is not needed */

#define M2ME_APDU_MAX 261
#define M2ME_SW_OK 0x9000
#define M2ME_SW_AUTH_MAC 0x9862  /* TS 31.102 §7.1.2: authentication error, incorrect MAC */
#define M2ME_SW1_WRONG_LE 0x6C   /* ISO 7816-3 §10.3.4: repeat with Le = SW2 */
#define M2ME_SW1_PROACTIVE 0x91  /* TS 102 221 §10.2.1.1: done, and a proactive command of SW2 bytes waits */
#define M2ME_CAT_DATA_MAX 255    /* the data of a short APDU */

#define M2ME_IMSI_MAX M2M_IMSI_MAX

/* Each builder writes the command into out (M2ME_APDU_MAX bytes) and returns its length. */
size_t m2me_apdu_select_aid(const uint8_t *aid, size_t aid_len, uint8_t *out);
size_t m2me_apdu_select_fid(uint16_t fid, uint8_t *out);
/* le 0 means 256, as in a short APDU. */
size_t m2me_apdu_read_binary(uint16_t offset, uint8_t le, uint8_t *out);
/* AUTHENTICATE in the 3G security context: 00 88 00 81 22 10 RAND 10 AUTN 00. */
size_t m2me_apdu_authenticate(const uint8_t rand[16], const uint8_t autn[16], uint8_t *out);

/*
 * The CAT commands of TS 102 221 table 10.5 (class 80): TERMINAL PROFILE 80 10 00 00 Lc data,
 * ENVELOPE 80 C2 00 00 Lc data, TERMINAL RESPONSE 80 14 00 00 Lc data (len 1..255), and
 * FETCH 80 12 00 00 Le with the length the card announced in 91XX.
 */
size_t m2me_apdu_terminal_profile(const uint8_t *data, size_t len, uint8_t *out);
size_t m2me_apdu_envelope(const uint8_t *data, size_t len, uint8_t *out);
size_t m2me_apdu_terminal_response(const uint8_t *data, size_t len, uint8_t *out);
size_t m2me_apdu_fetch(uint8_t le, uint8_t *out);

/* The three answers TS 31.102 §7.1.2.1 gives to AUTHENTICATE, and anything else. */
typedef enum m2me_auth_outcome {
	M2ME_AUTH_SUCCESS,        /* 'DB': RES, CK, IK (and Kc) */
	M2ME_AUTH_SYNCH_FAILURE,  /* 'DC': AUTS */
	M2ME_AUTH_MAC_FAILURE,    /* SW 98 62 */
	M2ME_AUTH_GARBLED,        /* another status word, or data that does not parse */
} m2me_auth_outcome;

/* Holds RES, CK, IK and Kc: the caller wipes it (m2m_wipe) once used. */
typedef struct m2me_auth_result {
	uint8_t res[16];
	size_t res_len;   /* 4..16 */
	uint8_t ck[16];
	uint8_t ik[16];
	uint8_t kc[8];
	int has_kc;       /* Kc comes only when the card offers GSM access (service n°27) */
	uint8_t auts[14];
} m2me_auth_result;

/* Parses the response data and status word; out is zeroed unless the outcome carries values. */
m2me_auth_outcome m2me_auth_parse(const uint8_t *data, size_t len, uint16_t sw, m2me_auth_result *out);

/* The MNC length from EF_AD byte 4: 2 or 3, or -1. */
int m2me_ad_mnc_length(const uint8_t *ef, size_t len);

#endif
