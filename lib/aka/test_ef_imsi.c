/* EF_IMSI (TS 31.102 §4.2.2): the bytes of known IMSIs both ways, and the malformed files refused. */
#include "aka/ef_imsi.h"

#include <criterion/criterion.h>
#include <string.h>

/* ---- encoding ------------------------------------------------------------------------------- */

static void expect_ef(const char *imsi, const uint8_t want[M2M_EF_IMSI_LEN])
{
	uint8_t ef[M2M_EF_IMSI_LEN];
	char back[M2M_IMSI_MAX + 1] = "";
	cr_assert_eq(m2m_ef_imsi_encode(imsi, ef), 0, "%s", imsi);
	cr_assert_arr_eq(ef, want, M2M_EF_IMSI_LEN, "EF_IMSI of %s", imsi);
	cr_assert_eq(m2m_ef_imsi_decode(ef, sizeof ef, back), 0, "%s", imsi);
	cr_assert_str_eq(back, imsi, "decoded again");
}

/* The example of docs/uicc.md, an even count with its 'F' filler, the shortest. */
Test(ef_imsi, known_bytes)
{
	expect_ef("001010123456789", (const uint8_t[]){0x08, 0x09, 0x10, 0x10, 0x10, 0x32, 0x54, 0x76, 0x98});
	expect_ef("00101012345678", (const uint8_t[]){0x08, 0x01, 0x10, 0x10, 0x10, 0x32, 0x54, 0x76, 0xF8});
	expect_ef("001010", (const uint8_t[]){0x04, 0x01, 0x10, 0x10, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF});
	expect_ef("310150123456789", (const uint8_t[]){0x08, 0x39, 0x01, 0x51, 0x10, 0x32, 0x54, 0x76, 0x98});
}

Test(ef_imsi, what_is_no_imsi_is_not_encoded)
{
	uint8_t ef[M2M_EF_IMSI_LEN], untouched[M2M_EF_IMSI_LEN];
	memset(ef, 0xA5, sizeof ef);
	memcpy(untouched, ef, sizeof ef);
	cr_assert_eq(m2m_ef_imsi_encode("12345", ef), -1, "5 digits");
	cr_assert_eq(m2m_ef_imsi_encode("0010101234567890", ef), -1, "16 digits");
	cr_assert_eq(m2m_ef_imsi_encode("00101a", ef), -1, "a letter");
	cr_assert_eq(m2m_ef_imsi_encode(NULL, ef), -1, "none");
	cr_assert_arr_eq(ef, untouched, sizeof ef, "a refusal writes nothing");
}

/* ---- decoding ------------------------------------------------------------------------------- */

static void assert_imsi(const uint8_t *ef, size_t len, const char *want)
{
	char imsi[M2M_IMSI_MAX + 1] = "";
	cr_assert_eq(m2m_ef_imsi_decode(ef, len, imsi), 0, "EF_IMSI for %s refused", want);
	cr_assert_str_eq(imsi, want);
}

static void assert_imsi_refused(const uint8_t *ef, size_t len, const char *why)
{
	char imsi[M2M_IMSI_MAX + 1] = "";
	cr_assert_eq(m2m_ef_imsi_decode(ef, len, imsi), -1, "accepted although %s (decoded %s)", why, imsi);
}

Test(ef_imsi, odd_number_of_digits)
{
	static const uint8_t ef[] = {0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10};
	assert_imsi(ef, sizeof ef, "001010000000001");
	static const uint8_t us[] = {0x08, 0x39, 0x01, 0x51, 0x10, 0x32, 0x54, 0x76, 0x98};
	assert_imsi(us, sizeof us, "310150123456789");
}

Test(ef_imsi, even_number_of_digits_ends_with_filler)
{
	static const uint8_t ef[] = {0x08, 0x01, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0xF1};
	assert_imsi(ef, sizeof ef, "00101000000001");
	/* the shortest IMSI the protocol carries, unused bytes 'FF' */
	static const uint8_t shortest[] = {0x04, 0x01, 0x10, 0x10, 0xF0, 0xFF, 0xFF, 0xFF, 0xFF};
	assert_imsi(shortest, sizeof shortest, "001010");
}

Test(ef_imsi, wrong_length_byte)
{
	uint8_t ef[] = {0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10};
	ef[0] = 0x00;
	assert_imsi_refused(ef, sizeof ef, "the length byte is 0");
	ef[0] = 0x09;
	assert_imsi_refused(ef, sizeof ef, "the length byte is 9 (past the file)");
	ef[0] = 0xFF;
	assert_imsi_refused(ef, sizeof ef, "the length byte is FF (an erased file)");
	ef[0] = 0x08;
	assert_imsi_refused(ef, 8, "the file is shorter than its length byte says");
	assert_imsi_refused(ef, 1, "only the length byte is there");
	assert_imsi_refused(ef, 0, "the file is empty");
	static const uint8_t few[] = {0x03, 0x09, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	assert_imsi_refused(few, sizeof few, "5 digits are too few for an IMSI");
}

Test(ef_imsi, non_bcd_nibbles)
{
	uint8_t ef[] = {0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10};
	ef[4] = 0x0A;
	assert_imsi_refused(ef, sizeof ef, "a digit is A");
	ef[4] = 0xE0;
	assert_imsi_refused(ef, sizeof ef, "a digit is E");
	ef[4] = 0xF0;
	assert_imsi_refused(ef, sizeof ef, "a filler stands inside the IMSI");
	ef[4] = 0x00;
	ef[1] = 0xC9;
	assert_imsi_refused(ef, sizeof ef, "digit 1 is C");
}

Test(ef_imsi, identity_type_and_parity)
{
	uint8_t ef[] = {0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0x10};
	ef[1] = 0x0A;  /* type 010: an IMEI, not an IMSI */
	assert_imsi_refused(ef, sizeof ef, "the type of identity is not IMSI");
	ef[1] = 0x01;  /* even parity, but the last nibble is a digit */
	assert_imsi_refused(ef, sizeof ef, "even parity without the filler");
	static const uint8_t odd_with_filler[] = {0x08, 0x09, 0x10, 0x10, 0x00, 0x00, 0x00, 0x00, 0xF1};
	assert_imsi_refused(odd_with_filler, sizeof odd_with_filler, "odd parity but a filler as last digit");
}
