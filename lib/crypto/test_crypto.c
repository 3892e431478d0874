/* Crypto helpers: hex parsing edge cases, sealing round trip and every kind of tampering. */
#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <string.h>

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const uint8_t secret[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
				   0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};

Test(hex, round_trip_and_case)
{
	char h[33];
	uint8_t back[16];
	m2m_hex(secret, 16, h);
	cr_assert_str_eq(h, "465b5ce8b199b49faa5f0a2ee238a6bc");
	cr_assert_eq(m2m_unhex("465B5CE8B199B49FAA5F0A2EE238A6BC", back, 16), 0);
	cr_assert_eq(memcmp(back, secret, 16), 0);
}

Test(hex, refuses_bad_input)
{
	uint8_t out[4];
	cr_assert_eq(m2m_unhex("0011223", out, 4), -1, "odd length");
	cr_assert_eq(m2m_unhex("001122", out, 4), -1, "too short");
	cr_assert_eq(m2m_unhex("0011223344", out, 4), -1, "too long");
	cr_assert_eq(m2m_unhex("0011zz33", out, 4), -1, "not hex");
	cr_assert_eq(m2m_unhex("00 11 22 33", out, 4), -1, "separators");
	cr_assert_eq(m2m_unhex_var("", out, 4), 0);
	cr_assert_eq(m2m_unhex_var("abcd", out, 4), 2);
	cr_assert_eq(m2m_unhex_var(NULL, out, 4), -1);
}

Test(compare, constant_time_compare)
{
	uint8_t a[16];
	memcpy(a, secret, 16);
	cr_assert_eq(m2m_ct_compare(a, secret, 16), 0);
	a[15] ^= 1;
	cr_assert_neq(m2m_ct_compare(a, secret, 16), 0);
}

Test(seal, round_trip_with_fresh_nonces)
{
	uint8_t s1[16 + M2M_SEAL_OVERHEAD], s2[16 + M2M_SEAL_OVERHEAD], out[16];
	cr_assert_eq(m2m_seal(key, "imsi-1", 6, secret, 16, s1), 0);
	cr_assert_eq(m2m_seal(key, "imsi-1", 6, secret, 16, s2), 0);
	cr_assert_neq(memcmp(s1, s2, sizeof s1), 0, "two seals of one value differ");
	cr_assert_null(memmem(s1, sizeof s1, secret, 16), "the plaintext is not in the sealed form");
	cr_assert_eq(m2m_unseal(key, "imsi-1", 6, s1, sizeof s1, out), 0);
	cr_assert_eq(memcmp(out, secret, 16), 0);
}

Test(seal, every_flipped_bit_is_detected)
{
	uint8_t s[16 + M2M_SEAL_OVERHEAD], out[16];
	cr_assert_eq(m2m_seal(key, "imsi-1", 6, secret, 16, s), 0);
	for (size_t bit = 0; bit < 8 * sizeof s; bit++) {
		s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_eq(m2m_unseal(key, "imsi-1", 6, s, sizeof s, out), -1, "bit %zu", bit);
		s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

Test(seal, wrong_record_key_or_length_is_refused)
{
	uint8_t s[16 + M2M_SEAL_OVERHEAD], out[16], other[32];
	cr_assert_eq(m2m_seal(key, "imsi-1", 6, secret, 16, s), 0);
	cr_assert_eq(m2m_unseal(key, "imsi-2", 6, s, sizeof s, out), -1, "moved to another record");
	memcpy(other, key, 32);
	other[0] ^= 0x80;
	cr_assert_eq(m2m_unseal(other, "imsi-1", 6, s, sizeof s, out), -1, "another storage key");
	cr_assert_eq(m2m_unseal(key, "imsi-1", 6, s, sizeof s - 1, out), -1, "truncated");
	cr_assert_eq(m2m_unseal(key, "imsi-1", 6, s, M2M_SEAL_OVERHEAD - 1, out), -1, "shorter than overhead");
}

Test(seal, empty_value)
{
	uint8_t s[M2M_SEAL_OVERHEAD], out[1];
	cr_assert_eq(m2m_seal(key, NULL, 0, NULL, 0, s), 0);
	cr_assert_eq(m2m_unseal(key, NULL, 0, s, sizeof s, out), 0);
}
