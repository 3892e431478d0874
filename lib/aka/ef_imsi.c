/* EF_IMSI both ways (ef_imsi.h). */
#include "aka/ef_imsi.h"

#include <string.h>

int m2m_ef_imsi_encode(const char *imsi, uint8_t ef[M2M_EF_IMSI_LEN])
{
	size_t n = imsi ? strlen(imsi) : 0;
	if (n < M2M_IMSI_MIN || n > M2M_IMSI_MAX || strspn(imsi, "0123456789") != n)
		return -1;
	memset(ef, 0xFF, M2M_EF_IMSI_LEN);
	ef[0] = (uint8_t)((n + 2) / 2);
	ef[1] = (uint8_t)((imsi[0] - '0') << 4 | (n % 2 ? 0x08 : 0x00) | 0x01);
	for (size_t i = 1; i < n; i++) {
		uint8_t d = (uint8_t)(imsi[i] - '0');
		uint8_t *b = &ef[1 + (i + 1) / 2];
		*b = i % 2 ? (uint8_t)((*b & 0xF0) | d) : (uint8_t)((*b & 0x0F) | d << 4);
	}
	return 0;
}

/* Nibble i of the bytes from b: the low nibble of each byte comes first. */
static unsigned nibble(const uint8_t *b, size_t i)
{
	return i % 2 ? b[i / 2] >> 4 : b[i / 2] & 0x0F;
}

int m2m_ef_imsi_decode(const uint8_t *ef, size_t len, char imsi[M2M_IMSI_MAX + 1])
{
	if (len < 2 || ef[0] < 1 || ef[0] > 8 || (size_t)ef[0] + 1 > len || (ef[1] & 0x07) != 0x01)
		return -1;
	const uint8_t *used = ef + 1;
	size_t nibbles = 2 * (size_t)ef[0], digits = (ef[1] & 0x08) ? nibbles - 1 : nibbles - 2;
	if (!(ef[1] & 0x08) && nibble(used, nibbles - 1) != 0x0F)
		return -1;  /* an even count must end with the filler */
	if (digits < M2M_IMSI_MIN || digits > M2M_IMSI_MAX)
		return -1;
	for (size_t i = 0; i < digits; i++) {
		unsigned d = nibble(used, i + 1);  /* nibble 0 is the identity type and parity */
		if (d > 9)
			return -1;
		imsi[i] = (char)('0' + d);
	}
	imsi[digits] = 0;
	return 0;
}
