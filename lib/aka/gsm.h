/*
 * GSM interworking: the conversion functions a UMTS AuC and USIM use to answer a GSM (2G)
 * authentication from a UMTS context (TS 33.102 §6.8.1.2).
 */
#ifndef M2M_AKA_GSM_H
#define M2M_AKA_GSM_H

#include <stddef.h>
#include <stdint.h>

/*
 * c2: SRES = RES1 xor RES2 xor RES3 xor RES4, the 32-bit words of RES zero-padded to 128 bits
 * (so a 64-bit MILENAGE RES gives the xor of its two halves). res_len is 4..16 octets;
 * returns 0, or -1 for any other length.
 */
int m2m_gsm_c2(const uint8_t *res, size_t res_len, uint8_t sres[4]);
/* c3: Kc = CK1 xor CK2 xor IK1 xor IK2, over the 64-bit halves of CK and IK. */
void m2m_gsm_c3(const uint8_t ck[16], const uint8_t ik[16], uint8_t kc[8]);

#endif
