/* EF_ICCID (ef_iccid.h): what the M2ME reads at power-on and the TRE before a change of 3b. */
#include "aka/ef_iccid.h"

#include <criterion/criterion.h>
#include <string.h>

static void assert_iccid(const uint8_t *ef, size_t len, const char *want)
{
	char iccid[M2M_ICCID_MAX + 1] = "";
	cr_assert_eq(m2m_ef_iccid_decode(ef, len, iccid), 0, "EF_ICCID for %s refused", want);
	cr_assert_str_eq(iccid, want);
}

static void assert_iccid_refused(const uint8_t *ef, size_t len, const char *why)
{
	char iccid[M2M_ICCID_MAX + 1] = "";
	cr_assert_eq(m2m_ef_iccid_decode(ef, len, iccid), -1, "accepted although %s (decoded %s)", why, iccid);
}

Test(ef_iccid, swapped_bcd_with_padding)
{
	static const uint8_t d19[] = {0x98, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF9};
	assert_iccid(d19, sizeof d19, "8900101000000000019");
	static const uint8_t d20[] = {0x98, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0x09};
	assert_iccid(d20, sizeof d20, "89001010000000000190");
	static const uint8_t d18[] = {0x98, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0xFF};
	assert_iccid(d18, sizeof d18, "890010100000000001");
}

Test(ef_iccid, malformed)
{
	uint8_t ef[] = {0x98, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF9};
	assert_iccid_refused(ef, 9, "the file is 9 bytes");
	uint8_t longer[11] = {0};
	memcpy(longer, ef, sizeof ef);
	assert_iccid_refused(longer, sizeof longer, "the file is 11 bytes");
	ef[3] = 0x0B;
	assert_iccid_refused(ef, sizeof ef, "a nibble is B");
	ef[3] = 0x1F;
	assert_iccid_refused(ef, sizeof ef, "digits follow the padding");
	static const uint8_t few[] = {0x98, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0xF0, 0xFF};
	assert_iccid_refused(few, sizeof few, "17 digits are too few");
	static const uint8_t erased[10] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	assert_iccid_refused(erased, sizeof erased, "the file is erased");
}
