/*
 * SCP80 packets: the packets of real cards, the primitives' published vectors, round trips of
 * every algorithm and protection, counter modes and the refusals of a card.
 *
 * Packet vectors: osmocom pySim, tests/unittests/test_ota.py (command packets and the PoRs of
 * real cards; only the data is taken). The PoRs are given there as SMS user data, 02 71 00 first.
 */
#include "ota/scp80.h"

#include "crypto/crypto.h"
#include "ota/scp80_crypto.h"
#include "ota/sms.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#define SELECT_MF "00a40004023f00"

typedef struct hexbuf {
	uint8_t b[M2M_OTA_PACKET_MAX];
	size_t n;
} hexbuf;

static hexbuf hx(const char *s)
{
	hexbuf h;
	long n = m2m_unhex_var(s, h.b, sizeof h.b);
	cr_assert_geq(n, 0, "bad hex in the test: %s", s);
	h.n = (size_t)n;
	return h;
}

static m2m_ota_key key(uint8_t alg, const char *hex)
{
	m2m_ota_key k = {.alg = alg};
	hexbuf h = hx(hex);
	memcpy(k.key, h.b, h.n);
	k.len = h.n;
	return k;
}

/* pySim's keysets: 3DES 2 keys, version 3; AES-128, version 2; a real card's 3DES keyset 3. */
static m2m_ota_keyset des_ks(void)
{
	return (m2m_ota_keyset){.kvn = 3,
				.kic = key(0x5, "300102030405060708090a0b0c0d0e0f"),
				.kid = key(0x5, "301102030405060708090a0b0c0d0e0f")};
}

static m2m_ota_keyset aes_ks(void)
{
	return (m2m_ota_keyset){.kvn = 2,
				.kic = key(0x2, "200102030405060708090a0b0c0d0e0f"),
				.kid = key(0x2, "201102030405060708090a0b0c0d0e0f")};
}

static m2m_ota_keyset card_ks(void)
{
	return (m2m_ota_keyset){.kvn = 3,
				.kic = key(0x5, "C21DD66ACAC13CB3BC8B331B24AFB57B"),
				.kid = key(0x5, "12110C78E678C25408233076AA033615")};
}

static m2m_ota_spi spi_of(const char *hex)
{
	hexbuf h = hx(hex);
	m2m_ota_spi spi;
	cr_assert_eq(m2m_ota_spi_decode(h.b, &spi), 0, "SPI %s", hex);
	return spi;
}

static void expect_hex(const uint8_t *b, size_t n, const char *want)
{
	char got[2 * M2M_OTA_PACKET_MAX + 1];
	m2m_hex(b, n, got);
	cr_expect_str_eq(got, want);
}

static void expect_command(const m2m_ota_keyset *ks, const char *spi, const char *tar, const char *apdu,
			   const char *want)
{
	hexbuf t = hx(tar), a = hx(apdu);
	m2m_ota_command c = {.spi = spi_of(spi), .data = a.b, .len = a.n};
	memcpy(c.tar, t.b, 3);
	uint8_t out[M2M_OTA_PACKET_MAX], buf[256];
	size_t n;
	char err[128];
	cr_assert_eq(m2m_ota_command_build(&c, ks, out, sizeof out, &n, err, sizeof err), 0, "%s", err);
	expect_hex(out, n, want);

	hexbuf w = hx(want);
	m2m_ota_command got;
	cr_assert_eq(m2m_ota_command_open(w.b, w.n, ks, &got, buf, sizeof buf), M2M_OTA_POR_OK);
	cr_expect_eq(got.counter, 0);
	cr_expect_eq(got.len, a.n);
	cr_expect_arr_eq(got.data, a.b, a.n);
	cr_expect_arr_eq(got.tar, t.b, 3);
}

Test(scp80_vectors, commands_3des)
{
	m2m_ota_keyset ks = des_ks();
	expect_command(&ks, "0619", "b00011", SELECT_MF,
		       "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f");
	expect_command(&ks, "0609", "b00011", SELECT_MF,
		       "00201506093535b00011c49ac91ab8159ba5b83a54fb6385e0a5e31694f8b215fafc");
	expect_command(&ks, "0601", "b00011", SELECT_MF,
		       "00201506013535b000113190be334900f52b025f3f7eddfe868e96ebf310023b7769");
}

Test(scp80_vectors, command_aes128)
{
	m2m_ota_keyset ks = aes_ks();
	expect_command(&ks, "0619", "b00011", SELECT_MF,
		       "00281506192222b00011e87cceebb2d93083011ce294f93fc4d8de80da1abae8c37ca3e72ec4432e5058");
}

Test(scp80_vectors, command_ciphered_without_checksum)
{
	m2m_ota_keyset ks = card_ks();
	expect_command(&ks, "0419", "b00000", "00a40000023f00", "00180d04193535b00000e3ec80a849b554421276af3883927c20");
}

/* Opens a PoR given as SMS user data, checks status, counter and the compact response 01 SW. */
static void expect_por(const m2m_ota_keyset *ks, const char *spi, const char *ud, const char *sw)
{
	hexbuf u = hx(ud);
	const uint8_t *pkt;
	size_t len;
	cr_assert_eq(m2m_sms_por_ud_parse(u.b, u.n, &pkt, &len), 0);
	m2m_ota_spi s = spi_of(spi);
	m2m_ota_response r;
	int unprotected = -1;
	uint8_t buf[64];
	char err[128] = "";
	cr_assert_eq(m2m_ota_response_open(pkt, len, &s, ks, &r, &unprotected, buf, sizeof buf, err, sizeof err), 0,
		     "%s: %s", ud, err);
	cr_expect_eq(unprotected, 0);
	cr_expect_eq(r.status, M2M_OTA_POR_OK);
	cr_expect_eq(r.counter, 0);
	expect_hex(r.tar, 3, "b00011");
	char want[16] = "01";
	strcat(want, sw);
	expect_hex(r.data, r.len, want);
}

/* The PoRs of real cards as SMS user data: keyset (d 3DES, a AES, c the card's), SPI, last SW. */
static const struct por_vector {
	char keyset;
	const char *spi, *sw, *ud;
} por_vectors[] = {
	{'d', "0619", "6132", "027100001c12b000118bb989492c632529326a2f4681feb37c825bc9021c9f6d0b"},
	{'d', "0609", "6132", "027100001612b0001100000000000000b5bcd6353a421fae016132"},
	{'d', "0601", "6132", "027100000e0ab0001100000000000000016132"},
	{'a', "0619", "6132", "027100002412b00011ebc6b497e2cad7aedf36ace0e3a29b38853f0fe9ccde81913be5702b73abce1f"},
	{'c', "0619", "612f", "027100001c12b000119660ebdb81be189b5e4389e9e7ab2bc0954f963ad869ed7c"},
	{'c', "0609", "612f", "027100001612b000110000000000000055f47118381175fb01612f"},
	{'c', "0601", "612f", "027100000e0ab000110000000000000001612f"},
};

static m2m_ota_keyset keyset_named(char name)
{
	return name == 'd' ? des_ks() : name == 'a' ? aes_ks() : card_ks();
}

Test(scp80_vectors, pors_of_real_cards)
{
	for (size_t i = 0; i < sizeof por_vectors / sizeof *por_vectors; i++) {
		m2m_ota_keyset ks = keyset_named(por_vectors[i].keyset);
		expect_por(&ks, por_vectors[i].spi, por_vectors[i].ud, por_vectors[i].sw);
	}
}

/* Our card's PoR for the same content is byte for byte the real card's (zero padding, no randomness). */
Test(scp80_vectors, pors_built_equal_the_cards)
{
	for (size_t i = 0; i < sizeof por_vectors / sizeof *por_vectors; i++) {
		const struct por_vector *v = &por_vectors[i];
		m2m_ota_keyset ks = keyset_named(v->keyset);
		hexbuf d = hx(v->sw);
		uint8_t data[3] = {1, d.b[0], d.b[1]}, out[256], ud[260];
		m2m_ota_response r = {.tar = {0xB0, 0x00, 0x11}, .status = M2M_OTA_POR_OK, .data = data, .len = 3};
		m2m_ota_spi s = spi_of(v->spi);
		size_t n, un;
		char err[128];
		cr_assert_eq(m2m_ota_response_build(&r, &s, &ks, out, sizeof out, &n, err, sizeof err), 0, "%s", err);
		cr_assert_eq(m2m_sms_por_ud_build(out, n, ud, sizeof ud, &un), 0);
		expect_hex(ud, un, v->ud);
	}
}

Test(scp80_vectors, por_with_altered_data_fails_its_checksum)
{
	m2m_ota_keyset c = card_ks();
	/* The vector's "01 commands executed" made "02": the CC covers the data. */
	hexbuf u = hx("027100001612b000110000000000000055f47118381175fb02612f");
	m2m_ota_spi s = spi_of("0609");
	m2m_ota_response r;
	int unprotected;
	uint8_t buf[64];
	char err[128] = "";
	cr_expect_eq(m2m_ota_response_open(u.b + 3, u.n - 3, &s, &c, &r, &unprotected, buf, sizeof buf, err,
					   sizeof err),
		     -1);
	cr_expect(strstr(err, "checksum"), "%s", err);
}

/* RFC 4493 §4 (AES-128) and NIST SP 800-38B appendix D.2, D.3 (AES-192, AES-256): the CC keeps 8 bytes. */
static const char cmac_msg[] = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
			       "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

/* The CMACs of the first 0, 16, 40 and 64 bytes of cmac_msg under key k. */
static void expect_cmacs(const char *k, const char *const macs[4])
{
	static const size_t lens[4] = {0, 16, 40, 64};
	m2m_ota_key kid = key(0x2, k);
	hexbuf m = hx(cmac_msg);
	for (int i = 0; i < 4; i++) {
		uint8_t cc[8];
		char want[17];
		cr_assert_eq(m2m_ota_cc(&kid, m.b, lens[i], cc), 0);
		snprintf(want, sizeof want, "%.16s", macs[i]);
		expect_hex(cc, 8, want);
	}
}

Test(scp80_primitives, aes_cmac_published_vectors)
{
	expect_cmacs("2b7e151628aed2a6abf7158809cf4f3c",
		     (const char *const[]){"bb1d6929e95937287fa37d129b756746", "070a16b46b4d4144f79bdd9dd04a287c",
					   "dfa66747de9ae63030ca32611497c827", "51f0bebf7e3b9d92fc49741779363cfe"});
	expect_cmacs("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		     (const char *const[]){"d17ddf46adaacde531cac483de7a9367", "9e99a7bf31e710900662f65e617c5184",
					   "8a1de5be2eb31aad089a82e6ee908b0e", "a1d5df0eed790f794d77589659f39a11"});
	expect_cmacs("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		     (const char *const[]){"028962f61b7bf89efc6b551f4667d983", "28a7023f452e8f82bd4bf28d8c37c35c",
					   "aaf3d8f1de5640c232f5b169b9c911e6", "e1992190549f6ed5696a2c056c315410"});
}

Test(scp80_primitives, crc32_check_value)
{
	/* The CRC-32 check value of "123456789" (ISO/IEC 13239, ITU-T V.42). */
	uint8_t rc[4];
	m2m_ota_crc32((const uint8_t *)"123456789", 9, rc);
	expect_hex(rc, 4, "cbf43926");
}

Test(scp80_primitives, des_cbc_mac_pads_internally)
{
	/* 3DES with K1 = K2 is single DES: the MAC of 7 bytes is that of the same bytes and one zero. */
	m2m_ota_key kid = key(0x5, "0123456789abcdef0123456789abcdef");
	uint8_t seven[8] = {1, 2, 3, 4, 5, 6, 7, 0}, a[8], b[8], c[8];
	cr_assert_eq(m2m_ota_cc(&kid, seven, 7, a), 0);
	cr_assert_eq(m2m_ota_cc(&kid, seven, 8, b), 0);
	cr_expect_arr_eq(a, b, 8);
	cr_assert_eq(m2m_ota_cipher(&kid, 0, 1, seven, 8, c), 0);
	cr_expect_arr_eq(a, c, 8, "one block: the MAC is its CBC ciphertext");
}

/* ---- round trips of every algorithm and protection ---- */

typedef struct alg {
	const char *name;
	uint8_t code;
	size_t len;
} alg;

static const alg algs[] = {{"3DES2", 0x5, 16}, {"3DES3", 0x9, 24}, {"AES128", 0x2, 16},
			   {"AES192", 0x2, 24}, {"AES256", 0x2, 32}};

static m2m_ota_keyset keyset_of(const alg *a)
{
	m2m_ota_keyset ks = {.kvn = 7, .kic = {.alg = a->code, .len = a->len}, .kid = {.alg = a->code, .len = a->len}};
	m2m_random(ks.kic.key, a->len);
	m2m_random(ks.kid.key, a->len);
	return ks;
}

static void round_trip(const alg *a, int ciphered, m2m_ota_check check, size_t data_len)
{
	m2m_ota_keyset ks = keyset_of(a);
	m2m_ota_spi spi = {.check = check, .ciphered = ciphered, .counter = M2M_OTA_COUNTER_HIGHER,
			   .por = M2M_OTA_POR_ALWAYS, .por_check = check, .por_ciphered = ciphered};
	uint8_t data[300], pkt[M2M_OTA_PACKET_MAX], buf[300];
	m2m_random(data, data_len);
	m2m_ota_command c = {.spi = spi, .tar = {0xB0, 0x00, 0x10}, .counter = 0x123456789A, .data = data,
			     .len = data_len};
	size_t n, block = ciphered ? (a->code == 0x2 ? 16 : 8) : 1;
	char err[128];
	cr_assert_eq(m2m_ota_command_build(&c, &ks, pkt, sizeof pkt, &n, err, sizeof err), 0, "%s %s", a->name, err);
	size_t sum = check == M2M_OTA_CHECK_CC ? 8 : check == M2M_OTA_CHECK_RC ? 4 : 0;
	cr_expect_eq(pkt[2], 13 + sum, "%s CHL", a->name);
	cr_expect_eq((n - 10) % block, 0, "%s: the ciphered part is whole blocks", a->name);
	cr_expect_eq(n, 16 + sum + data_len + (block - (6 + sum + data_len) % block) % block, "%s length", a->name);

	m2m_ota_command got;
	cr_assert_eq(m2m_ota_command_open(pkt, n, &ks, &got, buf, sizeof buf), M2M_OTA_POR_OK, "%s c%d k%d", a->name,
		     ciphered, check);
	cr_expect_eq(got.counter, 0x123456789A);
	cr_expect_eq(got.len, data_len);
	cr_expect_arr_eq(got.data, data, data_len);
	cr_expect_eq(memcmp(&got.spi, &spi, sizeof spi), 0);

	m2m_ota_response r = {.tar = {0xB0, 0x00, 0x10}, .counter = 0x123456789A, .status = M2M_OTA_POR_OK,
			      .data = data, .len = data_len};
	cr_assert_eq(m2m_ota_response_build(&r, &spi, &ks, pkt, sizeof pkt, &n, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pkt[2], 10 + sum, "%s RHL", a->name);
	m2m_ota_response rgot;
	int unprotected;
	cr_assert_eq(m2m_ota_response_open(pkt, n, &spi, &ks, &rgot, &unprotected, buf, sizeof buf, err, sizeof err),
		     0, "%s c%d k%d: %s", a->name, ciphered, check, err);
	cr_expect_eq(unprotected, 0);
	cr_expect_eq(rgot.counter, 0x123456789A);
	cr_expect_eq(rgot.status, M2M_OTA_POR_OK);
	cr_expect_eq(rgot.len, data_len);
	cr_expect_arr_eq(rgot.data, data, data_len);
}

Test(scp80_round_trip, every_algorithm_protection_and_length)
{
	static const size_t lens[] = {0, 1, 7, 8, 15, 16, 17, 255};
	for (size_t i = 0; i < sizeof algs / sizeof *algs; i++)
		for (int ciphered = 0; ciphered < 2; ciphered++)
			for (int check = 0; check < 3; check++)
				for (size_t l = 0; l < sizeof lens / sizeof *lens; l++)
					round_trip(&algs[i], ciphered, (m2m_ota_check)check, lens[l]);
}

Test(scp80_round_trip, mixed_3des_kic_and_aes_kid)
{
	m2m_ota_keyset ks = des_ks();
	ks.kid = key(0x2, "201102030405060708090a0b0c0d0e0f");
	uint8_t pkt[128], buf[64];
	size_t n;
	char err[64];
	m2m_ota_command c = {.spi = spi_of("1619"), .data = (const uint8_t *)"abc", .len = 3}, got;
	cr_assert_eq(m2m_ota_command_build(&c, &ks, pkt, sizeof pkt, &n, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pkt[5], 0x35);
	cr_expect_eq(pkt[6], 0x32);
	cr_expect_eq(m2m_ota_command_open(pkt, n, &ks, &got, buf, sizeof buf), M2M_OTA_POR_OK);
}

Test(scp80_round_trip, redundancy_check_kid_byte_is_crc32)
{
	uint8_t pkt[128];
	size_t n;
	char err[64];
	/* No keyset at all: a CRC-32 needs none. */
	m2m_ota_command c = {.spi = spi_of("0100"), .data = (const uint8_t *)"abc", .len = 3};
	cr_assert_eq(m2m_ota_command_build(&c, NULL, pkt, sizeof pkt, &n, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pkt[6] & 15, M2M_OTA_KID_CRC32);
	cr_expect_eq(pkt[2], 17);
}

/* ---- SPI ---- */

Test(scp80_spi, encode_decode_every_field)
{
	m2m_ota_spi spi = {.check = M2M_OTA_CHECK_CC, .ciphered = 1, .counter = M2M_OTA_COUNTER_ONE_HIGHER,
			   .por = M2M_OTA_POR_ON_ERROR, .por_check = M2M_OTA_CHECK_RC, .por_ciphered = 1,
			   .por_in_submit = 1},
		    back;
	uint8_t b[2];
	m2m_ota_spi_encode(&spi, b);
	cr_expect_eq(b[0], 0x1E);
	cr_expect_eq(b[1], 0x36);
	cr_assert_eq(m2m_ota_spi_decode(b, &back), 0);
	cr_expect_eq(memcmp(&spi, &back, sizeof spi), 0);
}

Test(scp80_spi, reserved_values_refused)
{
	uint8_t por11[2] = {0x06, 0x03}, spi1_b6[2] = {0x26, 0x01}, spi2_b7[2] = {0x06, 0x41};
	m2m_ota_spi spi;
	cr_expect_eq(m2m_ota_spi_decode(por11, &spi), -1);
	cr_expect_eq(m2m_ota_spi_decode(spi1_b6, &spi), -1);
	cr_expect_eq(m2m_ota_spi_decode(spi2_b7, &spi), -1);
}

Test(scp80_spi, minimum_security_level)
{
	/* MSL 0x16: CC, ciphered, counter higher. */
	cr_expect(m2m_ota_spi_meets(&(m2m_ota_spi){.check = M2M_OTA_CHECK_CC, .ciphered = 1,
						   .counter = M2M_OTA_COUNTER_HIGHER},
				    0x16));
	cr_expect(m2m_ota_spi_meets(&(m2m_ota_spi){.check = M2M_OTA_CHECK_CC, .ciphered = 1,
						   .counter = M2M_OTA_COUNTER_ONE_HIGHER},
				    0x16));
	cr_expect_not(m2m_ota_spi_meets(&(m2m_ota_spi){.check = M2M_OTA_CHECK_CC, .ciphered = 0,
						       .counter = M2M_OTA_COUNTER_HIGHER},
					0x16),
		      "not ciphered");
	cr_expect_not(m2m_ota_spi_meets(&(m2m_ota_spi){.check = M2M_OTA_CHECK_RC, .ciphered = 1,
						       .counter = M2M_OTA_COUNTER_HIGHER},
					0x16),
		      "RC is less than CC");
	cr_expect_not(m2m_ota_spi_meets(&(m2m_ota_spi){.check = M2M_OTA_CHECK_CC, .ciphered = 1,
						       .counter = M2M_OTA_COUNTER_AVAILABLE},
					0x16),
		      "counter not checked");
	cr_expect(m2m_ota_spi_meets(&(m2m_ota_spi){0}, 0x00), "MSL 00: anything goes");
}

/* ---- counters ---- */

Test(scp80_counter, every_mode)
{
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_NONE, 5, 0), M2M_OTA_POR_OK);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_AVAILABLE, 5, 1), M2M_OTA_POR_OK, "no replay check");
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_HIGHER, 5, 6), M2M_OTA_POR_OK);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_HIGHER, 5, 900), M2M_OTA_POR_OK);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_HIGHER, 5, 5), M2M_OTA_CNTR_LOW, "replay");
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_HIGHER, 5, 4), M2M_OTA_CNTR_LOW);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_ONE_HIGHER, 5, 6), M2M_OTA_POR_OK);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_ONE_HIGHER, 5, 7), M2M_OTA_CNTR_HIGH);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_ONE_HIGHER, 5, 5), M2M_OTA_CNTR_LOW);
}

Test(scp80_counter, blocked_at_the_40_bit_maximum)
{
	uint64_t max = M2M_OTA_CNTR_MAX;
	cr_expect_eq(max, UINT64_C(0xFFFFFFFFFF));
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_HIGHER, max - 1, max), M2M_OTA_POR_OK, "the last one");
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_HIGHER, max, max), M2M_OTA_CNTR_BLOCKED);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_ONE_HIGHER, max, 0), M2M_OTA_CNTR_BLOCKED);
	cr_expect_eq(m2m_ota_counter_check(M2M_OTA_COUNTER_HIGHER, 1, max + 1), M2M_OTA_CNTR_HIGH,
		     "beyond 40 bits");
	m2m_ota_command c = {.spi = spi_of("0000"), .counter = max + 1};
	uint8_t pkt[64];
	size_t n;
	char err[64];
	cr_expect_eq(m2m_ota_command_build(&c, NULL, pkt, sizeof pkt, &n, err, sizeof err), -1);
}

/* ---- refusals of a card ---- */

static size_t build(const char *spi, const m2m_ota_keyset *ks, const char *data, uint8_t *pkt)
{
	m2m_ota_command c = {.spi = spi_of(spi), .tar = {0xB0, 0x00, 0x10}, .counter = 9,
			     .data = (const uint8_t *)data, .len = strlen(data)};
	size_t n;
	char err[128];
	cr_assert_eq(m2m_ota_command_build(&c, ks, pkt, M2M_OTA_PACKET_MAX, &n, err, sizeof err), 0, "%s", err);
	return n;
}

static m2m_ota_status open_status(const uint8_t *pkt, size_t n, const m2m_ota_keyset *ks)
{
	m2m_ota_command c;
	uint8_t buf[256];
	return m2m_ota_command_open(pkt, n, ks, &c, buf, sizeof buf);
}

Test(scp80_refusal, wrong_cc)
{
	m2m_ota_keyset ks = aes_ks();
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	size_t n = build("1200", &ks, "clear data", pkt);
	pkt[n - 1] ^= 1;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_CHECK_FAILED);
	pkt[n - 1] ^= 1;
	m2m_ota_keyset other = ks;
	other.kid.key[0] ^= 1;
	cr_expect_eq(open_status(pkt, n, &other), M2M_OTA_CHECK_FAILED, "another KID key");
	pkt[7] ^= 1;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_CHECK_FAILED, "the TAR is covered");
}

Test(scp80_refusal, wrong_rc)
{
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	size_t n = build("0100", NULL, "redundancy", pkt);
	pkt[n - 2] ^= 0x80;
	cr_expect_eq(open_status(pkt, n, NULL), M2M_OTA_CHECK_FAILED);
}

Test(scp80_refusal, corrupted_ciphertext)
{
	m2m_ota_keyset ks = des_ks();
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	size_t n = build("1619", &ks, "ciphered and checked", pkt);
	for (size_t i = 10; i < n; i++) {
		pkt[i] ^= 0x20;
		m2m_ota_status st = open_status(pkt, n, &ks);
		cr_expect(st == M2M_OTA_CHECK_FAILED || st == M2M_OTA_CIPHERING_ERROR, "byte %zu: %d", i, st);
		pkt[i] ^= 0x20;
	}
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_POR_OK);
	/* Ciphertext that is no whole number of blocks. */
	pkt[1]--;
	cr_expect_eq(open_status(pkt, n - 1, &ks), M2M_OTA_CIPHERING_ERROR);
}

Test(scp80_refusal, lengths_inconsistent)
{
	m2m_ota_keyset ks = des_ks();
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	size_t n = build("1619", &ks, "abc", pkt);
	cr_expect_eq(open_status(pkt, n - 1, &ks), M2M_OTA_SECURITY_ERROR, "truncated: CPL says more");
	cr_expect_eq(open_status(pkt, 9, &ks), M2M_OTA_SECURITY_ERROR, "no header");
	cr_expect_eq(open_status(pkt, 0, &ks), M2M_OTA_SECURITY_ERROR);
	pkt[1]++;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR, "CPL larger than the packet");
	pkt[1]--;
	pkt[2] = 13;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR, "CHL with no room for the CC");
	pkt[2] = 25;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR, "CHL larger than the CC");
	pkt[2] = 200;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR, "CHL beyond the packet");
}

Test(scp80_refusal, unsupported_algorithms)
{
	m2m_ota_keyset ks = des_ks();
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	size_t n = build("1619", &ks, "abc", pkt);
	m2m_ota_keyset single = ks;
	single.kic.alg = 0x1;  /* single DES */
	single.kic.len = 8;
	pkt[5] = 0x31;
	cr_expect_eq(open_status(pkt, n, &single), M2M_OTA_SECURITY_ERROR, "single DES KIc");
	pkt[5] = 0x35;
	pkt[6] = 0x3D;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR, "KID names DES-ECB, not the keyset's 3DES");
	pkt[6] = 0x35;
	pkt[3] = 0x17;  /* SPI1: DS */
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR, "digital signature");
	pkt[3] = 0x16;
	pkt[4] = 0x03;  /* SPI2: PoR mode 11, reserved */
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR, "reserved SPI");
	pkt[4] = 0x19;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_POR_OK);
	cr_expect_eq(open_status(pkt, n, NULL), M2M_OTA_SECURITY_ERROR, "no keyset");

	m2m_ota_command c = {.spi = spi_of("1619"), .data = (const uint8_t *)"x", .len = 1};
	char err[128];
	cr_expect_eq(m2m_ota_command_build(&c, &single, pkt, sizeof pkt, &n, err, sizeof err), -1);
	c.spi.check = M2M_OTA_CHECK_DS;
	cr_expect_eq(m2m_ota_command_build(&c, &ks, pkt, sizeof pkt, &n, err, sizeof err), -1);
	cr_expect(strstr(err, "signature"), "%s", err);
}

Test(scp80_refusal, key_version_mismatch)
{
	m2m_ota_keyset ks = des_ks();
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	size_t n = build("1619", &ks, "abc", pkt);
	ks.kvn = 4;
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_SECURITY_ERROR);
}

/* Rewrites the PCNTR of a ciphered packet without a checksum, as a forger could. */
Test(scp80_refusal, pcntr_larger_than_the_data)
{
	m2m_ota_keyset ks = des_ks();
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	size_t n = build("0419", &ks, "abc", pkt);
	cr_assert_eq(m2m_ota_cipher(&ks.kic, 0, 0, pkt + 10, n - 10, pkt + 10), 0);
	cr_expect_eq(pkt[15], 7, "6 + 3 bytes padded to 16");
	pkt[15] = 11;  /* 3 bytes of data and 7 of padding follow it */
	cr_assert_eq(m2m_ota_cipher(&ks.kic, 0, 1, pkt + 10, n - 10, pkt + 10), 0);
	cr_expect_eq(open_status(pkt, n, &ks), M2M_OTA_CIPHERING_ERROR);

	n = build("0000", NULL, "abc", pkt);
	pkt[15] = 4;
	cr_expect_eq(open_status(pkt, n, NULL), M2M_OTA_SECURITY_ERROR, "clear packet");
	pkt[15] = 3;
	m2m_ota_command c;
	uint8_t buf[8];
	cr_expect_eq(m2m_ota_command_open(pkt, n, NULL, &c, buf, sizeof buf), M2M_OTA_POR_OK);
	cr_expect_eq(c.len, 0, "all three bytes were padding");
}

Test(scp80_refusal, data_larger_than_the_buffer)
{
	uint8_t pkt[M2M_OTA_PACKET_MAX], buf[4];
	size_t n = build("0000", NULL, "five!", pkt);
	m2m_ota_command c;
	cr_expect_eq(m2m_ota_command_open(pkt, n, NULL, &c, buf, sizeof buf), M2M_OTA_NO_MEMORY);
}

Test(scp80_refusal, packet_too_long_to_build)
{
	static uint8_t big[M2M_OTA_PACKET_MAX];
	uint8_t pkt[M2M_OTA_PACKET_MAX];
	m2m_ota_command c = {.spi = spi_of("0000"), .data = big, .len = sizeof big - 15};
	size_t n;
	char err[128];
	cr_expect_eq(m2m_ota_command_build(&c, NULL, pkt, sizeof pkt, &n, err, sizeof err), -1);
	c.len = sizeof big - 16;
	cr_expect_eq(m2m_ota_command_build(&c, NULL, pkt, sizeof pkt, &n, err, sizeof err), 0, "%s", err);
	cr_expect_eq(m2m_ota_command_build(&c, NULL, pkt, 100, &n, err, sizeof err), -1, "cap");
}

/* ---- responses ---- */

Test(scp80_response, unprotected_por_for_an_unauthenticated_packet)
{
	m2m_ota_keyset ks = des_ks();
	m2m_ota_spi spi = spi_of("1619");
	m2m_ota_response r = {.tar = {0xB0, 0x00, 0x10}, .counter = 9, .status = M2M_OTA_CHECK_FAILED}, got;
	uint8_t pkt[64], buf[16];
	size_t n;
	int unprotected;
	char err[128];
	cr_assert_eq(m2m_ota_response_build(&r, &spi, NULL, pkt, sizeof pkt, &n, err, sizeof err), 0, "%s", err);
	cr_expect_eq(pkt[2], 10, "RHL: no checksum");
	cr_expect_eq(n, 13, "nothing ciphered, nothing padded");
	cr_assert_eq(m2m_ota_response_open(pkt, n, &spi, &ks, &got, &unprotected, buf, sizeof buf, err, sizeof err), 0,
		     "%s", err);
	cr_expect_eq(unprotected, 1);
	cr_expect_eq(got.status, M2M_OTA_CHECK_FAILED);
	cr_expect_str_eq(m2m_ota_status_name(got.status), "RC/CC/DS failed");

	/* Ciphering only asked for: 7 bytes after the TAR are no whole 3DES block. */
	spi = spi_of("0410");
	cr_assert_eq(m2m_ota_response_open(pkt, n, &spi, &ks, &got, &unprotected, buf, sizeof buf, err, sizeof err), 0,
		     "%s", err);
	cr_expect_eq(unprotected, 1);
}

Test(scp80_response, unprotected_success_is_not_believed)
{
	m2m_ota_keyset ks = des_ks();
	m2m_ota_spi spi = spi_of("1619");
	m2m_ota_response r = {.status = M2M_OTA_POR_OK}, got;
	uint8_t pkt[64], buf[16];
	size_t n;
	int unprotected;
	char err[128];
	cr_assert_eq(m2m_ota_response_build(&r, &spi, NULL, pkt, sizeof pkt, &n, err, sizeof err), 0);
	cr_expect_eq(m2m_ota_response_open(pkt, n, &spi, &ks, &got, &unprotected, buf, sizeof buf, err, sizeof err),
		     -1);
	cr_expect(strstr(err, "unprotected"), "%s", err);
}

Test(scp80_response, malformed)
{
	m2m_ota_keyset ks = des_ks();
	m2m_ota_spi spi = spi_of("1619");
	m2m_ota_response r = {.status = M2M_OTA_POR_OK, .data = (const uint8_t *)"\x01\x90\x00", .len = 3}, got;
	uint8_t pkt[64], buf[16];
	size_t n;
	int unprotected;
	char err[128];
	cr_assert_eq(m2m_ota_response_build(&r, &spi, &ks, pkt, sizeof pkt, &n, err, sizeof err), 0);
	cr_expect_eq(m2m_ota_response_open(pkt, n - 1, &spi, &ks, &got, &unprotected, buf, sizeof buf, err,
					   sizeof err),
		     -1, "RPL and length");
	cr_expect_eq(m2m_ota_response_open(pkt, 5, &spi, &ks, &got, &unprotected, buf, sizeof buf, err, sizeof err),
		     -1);
	cr_expect_eq(m2m_ota_response_open(pkt, n, &spi, &ks, &got, &unprotected, buf, 2, err, sizeof err), -1,
		     "buffer");
	pkt[n - 1] ^= 1;
	cr_expect_eq(m2m_ota_response_open(pkt, n, &spi, &ks, &got, &unprotected, buf, sizeof buf, err, sizeof err),
		     -1, "checksum");
}

Test(scp80_response, status_names)
{
	cr_expect_str_eq(m2m_ota_status_name(M2M_OTA_POR_OK), "PoR OK");
	cr_expect_str_eq(m2m_ota_status_name(M2M_OTA_CNTR_LOW), "CNTR low");
	cr_expect_str_eq(m2m_ota_status_name(M2M_OTA_TAR_UNKNOWN), "TAR unknown");
	cr_expect_str_eq(m2m_ota_status_name(M2M_OTA_RESPONSE_ELSEWHERE), "response data in USSD");
	cr_expect_str_eq(m2m_ota_status_name(0x0D), "reserved");
	cr_expect_str_eq(m2m_ota_status_name(-1), "reserved");
}
