/* EF_ICCID: see ef_iccid.h. */
#include "aka/ef_iccid.h"

/* Nibble i of a swapped-BCD string: the low nibble of each byte comes first. */
static unsigned nibble(const uint8_t *b, size_t i)
{
	return i % 2 ? b[i / 2] >> 4 : b[i / 2] & 0x0F;
}

int m2m_ef_iccid_decode(const uint8_t *ef, size_t len, char iccid[M2M_ICCID_MAX + 1])
{
	if (len != M2M_EF_ICCID_LEN)
		return -1;
	size_t digits = 0;
	while (digits < 2 * len && nibble(ef, digits) <= 9) {
		iccid[digits] = (char)('0' + nibble(ef, digits));
		digits++;
	}
	for (size_t i = digits; i < 2 * len; i++)
		if (nibble(ef, i) != 0x0F)
			return -1;  /* a non-BCD nibble, or a digit after the padding */
	iccid[digits] = 0;
	return digits < M2M_ICCID_MIN ? -1 : 0;
}
