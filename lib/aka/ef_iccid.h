/*
 * EF_ICCID (TS 102 221 §13.2): the card's identification number, 10 bytes of swapped BCD (the low
 * nibble of each byte first), unused trailing nibbles 'F'. The M2ME reads it at power-on, the TRE
 * before it registers a change of Alternative 3b.
 */
#ifndef M2M_AKA_EF_ICCID_H
#define M2M_AKA_EF_ICCID_H

#include <stddef.h>
#include <stdint.h>

#define M2M_EF_ICCID_LEN 10
#define M2M_ICCID_MIN 18
#define M2M_ICCID_MAX 20

/* The 18 to 20 digits of ef (M2M_EF_ICCID_LEN bytes) into iccid: 0, or -1 (another length, a
 * nibble that is no digit, a digit after the padding, too few digits). */
int m2m_ef_iccid_decode(const uint8_t *ef, size_t len, char iccid[M2M_ICCID_MAX + 1]);

#endif
