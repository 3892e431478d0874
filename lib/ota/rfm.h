/*
 * What travels inside a secured packet to the card's remote file management (TS 102 226 §5,
 * TS 31.116) and to its issuer security domain: the compact command script, the compact
 * response data of the PoR, and GlobalPlatform PUT KEY for an SCP80 keyset.
 */
#ifndef M2M_OTA_RFM_H
#define M2M_OTA_RFM_H

#include "ota/scp80.h"

/*
 * One command of a compact script (TS 102 226 §5.1.1): CLA INS P1 P2 P3 [data], as T=0 TPDUs:
 * P3 is Le for the commands that only return data (READ BINARY B0, READ RECORD B2, GET RESPONSE
 * C0, STATUS F2) and Lc for the others.
 */
typedef struct m2m_rfm_apdu {
	uint8_t cla, ins, p1, p2, p3;
	const uint8_t *data;  /* Lc bytes; NULL for a Le command */
	size_t lc;
	int has_le;
	const uint8_t *raw;   /* the whole command in the script */
	size_t raw_len;
} m2m_rfm_apdu;

/* Reads the command at *off and moves past it: 1, 0 at the end, -1 when it is truncated. */
int m2m_rfm_script_next(const uint8_t *script, size_t len, size_t *off, m2m_rfm_apdu *out);

/* Compact response data: commands executed (1), last status word (2), last response data. */
int m2m_rfm_response_build(uint8_t executed, uint16_t sw, const uint8_t *data, size_t len, uint8_t *out,
			   size_t cap, size_t *out_len);
int m2m_rfm_response_parse(const uint8_t *in, size_t len, uint8_t *executed, uint16_t *sw,
			   const uint8_t **data, size_t *data_len);

/*
 * PUT KEY (GlobalPlatform Card Specification 2.2 §11.8) carrying a whole SCP80 keyset: the APDU
 * 80 D8 P1 P2 Lc data, P1 the version it replaces (0: a new one), P2 = 0x81 (key identifier 1,
 * several keys); data = new KVN, then KIc (id 1), KID (id 2), DEK (id 3), each as key type
 * (0x80 DES, 0x88 AES), length, [for AES only, the key's own length: GP Amendment D], the key
 * zero-padded to whole blocks of the DEK and wrapped under the current DEK (3DES-ECB, or AES-CBC
 * with a zero IV), then 03 and the 3-byte key check value (the key over zeros for DES, over 0x01
 * bytes for AES). A 3DES key is 16 or 24 bytes (24 padded to 32 under an AES DEK).
 */
#define M2M_RFM_PUT_KEY_MAX 160   /* the cap m2m_rfm_put_key_build wants (it uses 123 at most) */
int m2m_rfm_put_key_build(const m2m_ota_key *dek, uint8_t replaces, const m2m_ota_keyset *next, uint8_t *apdu,
			  size_t cap, size_t *len, char *err, size_t errlen);
/*
 * Unwraps a PUT KEY's data with the current DEK and checks each key's check value: 0, or -1 with
 * err and nothing written to next. The key algorithms follow from the key types and lengths.
 */
int m2m_rfm_put_key_parse(const uint8_t *data, size_t len, const m2m_ota_key *dek, m2m_ota_keyset *next, char *err,
			  size_t errlen);

#endif
