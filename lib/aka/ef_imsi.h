/*
 * EF_IMSI (TS 31.102 §4.2.2, coded as in TS 24.008 §10.5.1.4): the IMSI as a USIM holds it,
 * written by whoever makes or rewrites a card (the uicc's image, operator A's OTA script of
 * Alternative 3a) and read by the device at power-on and after a REFRESH (m2me).
 *
 * Nine bytes: byte 1 is the number of bytes used; in byte 2, bits 1-3 are the type of identity
 * (001, IMSI), bit 4 the parity (1: an odd number of digits) and bits 5-8 digit 1; every later
 * byte carries two digits, low nibble first, an even count ends with an 'F' filler and the
 * unused bytes are 'FF'. IMSI 001010123456789 is 08 09 10 10 10 32 54 76 98 (docs/uicc.md).
 */
#ifndef M2M_AKA_EF_IMSI_H
#define M2M_AKA_EF_IMSI_H

#include <stddef.h>
#include <stdint.h>

#define M2M_EF_IMSI_LEN 9
#define M2M_IMSI_MIN 6
#define M2M_IMSI_MAX 15

/* The file for imsi: 0, or -1 (nothing written) when imsi is not 6..15 digits. */
int m2m_ef_imsi_encode(const char *imsi, uint8_t ef[M2M_EF_IMSI_LEN]);
/* The 6..15 digits the file holds: 0, or -1 when it is malformed (length byte, type of identity,
 * parity and filler, a nibble that is no digit). */
int m2m_ef_imsi_decode(const uint8_t *ef, size_t len, char imsi[M2M_IMSI_MAX + 1]);

#endif
