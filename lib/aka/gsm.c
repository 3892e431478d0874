/* The GSM conversion functions c2 and c3 of TS 33.102 §6.8.1.2. */
#include "aka/gsm.h"

#include <string.h>

int m2m_gsm_c2(const uint8_t *res, size_t res_len, uint8_t sres[4])
{
	uint8_t padded[16] = {0};
	/* RES is 32 to 128 bits (TS 33.102 §6.3.7); c2 extends it with zeros to 128 bits. */
	if (res_len < 4 || res_len > 16)
		return -1;
	memcpy(padded, res, res_len);
	for (int i = 0; i < 4; i++)
		sres[i] = padded[i] ^ padded[4 + i] ^ padded[8 + i] ^ padded[12 + i];
	return 0;
}

void m2m_gsm_c3(const uint8_t ck[16], const uint8_t ik[16], uint8_t kc[8])
{
	for (int i = 0; i < 8; i++)
		kc[i] = ck[i] ^ ck[8 + i] ^ ik[i] ^ ik[8 + i];
}
