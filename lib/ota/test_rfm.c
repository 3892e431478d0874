/*
 * RFM data: the compact script and response (TS 102 226 §5.1) and PUT KEY (GlobalPlatform).
 * The PUT KEY layouts below were computed independently with Python's `cryptography` package;
 * 8BAF47 is the published check value of the GlobalPlatform test key 40..4F.
 */
#include "ota/rfm.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <string.h>

static m2m_ota_key key_of(uint8_t alg, const char *hex)
{
	m2m_ota_key k = {.alg = alg};
	long n = m2m_unhex_var(hex, k.key, sizeof k.key);
	cr_assert_gt(n, 0);
	k.len = (size_t)n;
	return k;
}

static m2m_ota_key random_key(uint8_t alg, size_t len)
{
	m2m_ota_key k = {.alg = alg, .len = len};
	m2m_random(k.key, len);
	return k;
}

static void expect_hex(const uint8_t *b, size_t n, const char *want)
{
	char got[2 * 256 + 1];
	cr_assert_leq(n, 256);
	m2m_hex(b, n, got);
	cr_expect_str_eq(got, want);
}

Test(rfm_script, commands_of_a_compact_script)
{
	uint8_t s[64];
	long n = m2m_unhex_var("00a40004023f00"    /* SELECT MF: Lc 2 */
			       "00b0000010"        /* READ BINARY: Le 16 */
			       "80f2000016"        /* STATUS: Le */
			       "00d6000003aabbcc"  /* UPDATE BINARY: Lc 3 */
			       "00c0000000",       /* GET RESPONSE, Le 0 */
			       s, sizeof s);
	size_t off = 0;
	m2m_rfm_apdu a;
	cr_assert_eq(m2m_rfm_script_next(s, (size_t)n, &off, &a), 1);
	cr_expect_eq(a.ins, 0xA4);
	cr_expect_eq(a.lc, 2);
	cr_expect_eq(a.has_le, 0);
	cr_expect_eq(a.data[0], 0x3F);
	cr_expect_eq(a.raw_len, 7);
	cr_assert_eq(m2m_rfm_script_next(s, (size_t)n, &off, &a), 1);
	cr_expect_eq(a.ins, 0xB0);
	cr_expect_eq(a.has_le, 1);
	cr_expect_eq(a.p3, 16);
	cr_expect_null(a.data);
	cr_expect_eq(a.lc, 0);
	cr_assert_eq(m2m_rfm_script_next(s, (size_t)n, &off, &a), 1);
	cr_expect_eq(a.cla, 0x80);
	cr_expect_eq(a.has_le, 1);
	cr_assert_eq(m2m_rfm_script_next(s, (size_t)n, &off, &a), 1);
	cr_expect_eq(a.ins, 0xD6);
	cr_expect_eq(a.lc, 3);
	cr_expect_eq(a.data[2], 0xCC);
	cr_assert_eq(m2m_rfm_script_next(s, (size_t)n, &off, &a), 1);
	cr_expect_eq(a.ins, 0xC0);
	cr_expect_eq(m2m_rfm_script_next(s, (size_t)n, &off, &a), 0);
	cr_expect_eq(off, (size_t)n);
}

Test(rfm_script, truncated)
{
	uint8_t s[] = {0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F};
	size_t off = 0;
	m2m_rfm_apdu a;
	cr_expect_eq(m2m_rfm_script_next(s, sizeof s, &off, &a), -1, "Lc 2, one byte");
	cr_expect_eq(off, 0);
	cr_expect_eq(m2m_rfm_script_next(s, 4, &off, &a), -1, "no P3");
	off = 7;
	cr_expect_eq(m2m_rfm_script_next(s, sizeof s, &off, &a), -1, "offset beyond");
	off = 0;
	cr_expect_eq(m2m_rfm_script_next(s, 0, &off, &a), 0, "empty script");
}

Test(rfm_response, compact_response_of_a_real_card)
{
	/* pySim's PoRs: one command executed, last SW 6132, no data. */
	uint8_t r[] = {0x01, 0x61, 0x32}, out[8];
	uint8_t executed;
	uint16_t sw;
	const uint8_t *data;
	size_t n;
	cr_assert_eq(m2m_rfm_response_parse(r, sizeof r, &executed, &sw, &data, &n), 0);
	cr_expect_eq(executed, 1);
	cr_expect_eq(sw, 0x6132);
	cr_expect_eq(n, 0);
	cr_assert_eq(m2m_rfm_response_build(1, 0x6132, NULL, 0, out, sizeof out, &n), 0);
	cr_expect_arr_eq(out, r, 3);
	cr_expect_eq(m2m_rfm_response_parse(r, 2, &executed, &sw, &data, &n), -1);
	cr_assert_eq(m2m_rfm_response_build(2, 0x9000, (const uint8_t *)"\xAA\xBB", 2, out, sizeof out, &n), 0);
	cr_expect_eq(n, 5);
	cr_expect_eq(m2m_rfm_response_build(2, 0x9000, (const uint8_t *)"\xAA\xBB", 2, out, 4, &n), -1);
}

/* The PUT KEY APDU in hex from byte `from` on. */
static void expect_put_key(const m2m_ota_key *dek, uint8_t replaces, const m2m_ota_keyset *next, size_t from,
			   const char *want)
{
	uint8_t apdu[M2M_RFM_PUT_KEY_MAX];
	size_t n;
	char err[128];
	cr_assert_eq(m2m_rfm_put_key_build(dek, replaces, next, apdu, sizeof apdu, &n, err, sizeof err), 0, "%s", err);
	cr_assert_geq(n, from + strlen(want) / 2);
	expect_hex(apdu + from, strlen(want) / 2, want);
}

Test(rfm_put_key, layout_with_a_3des_dek)
{
	m2m_ota_key gp = key_of(0x5, "404142434445464748494a4b4c4d4e4f");
	expect_put_key(&gp, 1, &(m2m_ota_keyset){.kvn = 2, .kic = gp, .kid = gp, .dek = gp}, 0,
		       "80d8018143"
		       "02"
		       "8010b4baa89a8cd0292b45210e1bc84b1c31038baf47"
		       "8010b4baa89a8cd0292b45210e1bc84b1c31038baf47"
		       "8010b4baa89a8cd0292b45210e1bc84b1c31038baf47");
}

Test(rfm_put_key, layout_of_an_aes192_key_under_an_aes_dek)
{
	m2m_ota_key dek = key_of(0x2, "000102030405060708090a0b0c0d0e0f");
	m2m_ota_key k192 = key_of(0x2, "202122232425262728292a2b2c2d2e2f3031323334353637");
	/* Type 88, length 33: the key's length 24, 32 bytes of wrapped key; 03 and the KCV. */
	expect_put_key(&dek, 0, &(m2m_ota_keyset){.kvn = 4, .kic = k192, .kid = dek, .dek = dek}, 6,
		       "882118"
		       "5be87e2e5b447c944b21c9af7756c0d871a6e66ed9d63a019c7fb9d7348ef9c2"
		       "0320ed61");
}

static void round_trip(const m2m_ota_key *dek, const m2m_ota_keyset *next)
{
	uint8_t apdu[M2M_RFM_PUT_KEY_MAX];
	size_t n;
	char err[128];
	cr_assert_eq(m2m_rfm_put_key_build(dek, 3, next, apdu, sizeof apdu, &n, err, sizeof err), 0, "%s", err);
	cr_expect_eq(apdu[0], 0x80);
	cr_expect_eq(apdu[1], 0xD8);
	cr_expect_eq(apdu[2], 3);
	cr_expect_eq(apdu[3], 0x81);
	cr_expect_eq(apdu[4], n - 5);
	size_t off = 0;
	m2m_rfm_apdu a;
	cr_assert_eq(m2m_rfm_script_next(apdu, n, &off, &a), 1, "a PUT KEY fits a compact script");
	cr_expect_eq(a.lc, n - 5);

	m2m_ota_keyset got;
	cr_assert_eq(m2m_rfm_put_key_parse(apdu + 5, n - 5, dek, &got, err, sizeof err), 0, "%s", err);
	cr_expect_eq(got.kvn, next->kvn);
	const m2m_ota_key *want[] = {&next->kic, &next->kid, &next->dek}, *have[] = {&got.kic, &got.kid, &got.dek};
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(have[i]->alg, want[i]->alg, "key %d", i + 1);
		cr_expect_eq(have[i]->len, want[i]->len, "key %d", i + 1);
		cr_expect_arr_eq(have[i]->key, want[i]->key, want[i]->len, "key %d", i + 1);
	}

	m2m_ota_key wrong = *dek;
	wrong.key[3] ^= 0x10;
	memset(&got, 0xEE, sizeof got);
	cr_expect_eq(m2m_rfm_put_key_parse(apdu + 5, n - 5, &wrong, &got, err, sizeof err), -1);
	cr_expect(strstr(err, "check value"), "%s", err);
	cr_expect_eq(got.kvn, 0xEE, "nothing written");
}

Test(rfm_put_key, round_trips_with_aes_and_3des_deks)
{
	m2m_ota_key des2 = random_key(0x5, 16), des3 = random_key(0x9, 24), aes128 = random_key(0x2, 16),
		    aes192 = random_key(0x2, 24), aes256 = random_key(0x2, 32);
	round_trip(&aes128, &(m2m_ota_keyset){.kvn = 2, .kic = aes128, .kid = aes256, .dek = aes192});
	round_trip(&aes256, &(m2m_ota_keyset){.kvn = 15, .kic = des3, .kid = des2, .dek = aes128});
	round_trip(&des2, &(m2m_ota_keyset){.kvn = 1, .kic = des2, .kid = des3, .dek = des2});
	round_trip(&des3, &(m2m_ota_keyset){.kvn = 5, .kic = aes256, .kid = aes192, .dek = des3});
}

Test(rfm_put_key, refusals)
{
	m2m_ota_key dek = random_key(0x2, 16), des = random_key(0x5, 16);
	m2m_ota_keyset next = {.kvn = 2, .kic = dek, .kid = dek, .dek = dek}, got;
	uint8_t apdu[M2M_RFM_PUT_KEY_MAX];
	size_t n;
	char err[128];
	cr_assert_eq(m2m_rfm_put_key_build(&dek, 1, &next, apdu, sizeof apdu, &n, err, sizeof err), 0, "%s", err);
	uint8_t *data = apdu + 5;
	size_t len = n - 5;
	cr_expect_eq(m2m_rfm_put_key_parse(data, len - 1, &dek, &got, err, sizeof err), -1, "truncated");
	cr_expect_eq(m2m_rfm_put_key_parse(data, 1, &dek, &got, err, sizeof err), -1, "version only");
	cr_expect_eq(m2m_rfm_put_key_parse(data, len, &des, &got, err, sizeof err), -1, "a 3DES DEK for AES-wrapped keys");
	data[len - 1] ^= 1;
	cr_expect_eq(m2m_rfm_put_key_parse(data, len, &dek, &got, err, sizeof err), -1, "DEK's KCV");
	cr_expect(strstr(err, "DEK"), "%s", err);
	data[len - 1] ^= 1;
	data[0] = 0;
	cr_expect_eq(m2m_rfm_put_key_parse(data, len, &dek, &got, err, sizeof err), -1, "version 0");
	data[0] = 2;
	data[1] = 0x81;  /* unknown key type */
	cr_expect_eq(m2m_rfm_put_key_parse(data, len, &dek, &got, err, sizeof err), -1, "key type");
	data[1] = 0x88;
	cr_expect_eq(m2m_rfm_put_key_parse(data, len, &dek, &got, err, sizeof err), 0, "%s", err);

	uint8_t longer[M2M_RFM_PUT_KEY_MAX + 1];
	memcpy(longer, data, len);
	longer[len] = 0;
	cr_expect_eq(m2m_rfm_put_key_parse(longer, len + 1, &dek, &got, err, sizeof err), -1, "trailing data");

	m2m_ota_keyset bad = next;
	bad.kvn = 16;
	cr_expect_eq(m2m_rfm_put_key_build(&dek, 1, &bad, apdu, sizeof apdu, &n, err, sizeof err), -1);
	bad = next;
	bad.kid.alg = 0x1;  /* single DES */
	bad.kid.len = 8;
	cr_expect_eq(m2m_rfm_put_key_build(&dek, 1, &bad, apdu, sizeof apdu, &n, err, sizeof err), -1);
	cr_expect_eq(m2m_rfm_put_key_build(&dek, 1, &next, apdu, 100, &n, err, sizeof err), -1, "cap");
}
