/*
 * The m2me's pure parts, in process: the command APDUs (the CAT ones too) byte for byte, the
 * decoder of EF_AD (malformed files included; EF_ICCID and EF_IMSI are in lib/aka/test_ef_*.c),
 * the AUTHENTICATE response parser and the IMEI check digit. test_m2me_daemon.c drives the daemon
 * itself, test_m2me_uicc.c the real uicc.
 */
#include "card.h"
#include "device.h"

#include <criterion/criterion.h>
#include <string.h>

static void assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want, size_t want_len)
{
	cr_assert_eq(got_len, want_len, "length %zu, expected %zu", got_len, want_len);
	for (size_t i = 0; i < want_len; i++)
		cr_assert_eq(got[i], want[i], "byte %zu is %02X, expected %02X", i, got[i], want[i]);
}

/* ---- command APDUs ---------------------------------------------------------------------- */

Test(apdu, select_usim_by_aid)
{
	static const uint8_t want[] = {0x00, 0xA4, 0x04, 0x0C, 0x10, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10,
				       0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x07, 0x09, 0x00, 0x00};
	uint8_t apdu[M2ME_APDU_MAX];
	size_t len = m2me_apdu_select_aid(m2me_usim_aid, sizeof m2me_usim_aid, apdu);
	assert_bytes(apdu, len, want, sizeof want);
}

Test(apdu, select_by_file_identifier)
{
	static const struct {
		uint16_t fid;
		uint8_t want[7];
	} cases[] = {
		{M2ME_FID_IMSI, {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0x07}},
		{M2ME_FID_AD, {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0xAD}},
		{M2ME_FID_MF, {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00}},
		{M2ME_FID_ICCID, {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x2F, 0xE2}},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t apdu[M2ME_APDU_MAX];
		size_t len = m2me_apdu_select_fid(cases[i].fid, apdu);
		assert_bytes(apdu, len, cases[i].want, sizeof cases[i].want);
	}
}

Test(apdu, read_binary)
{
	uint8_t apdu[M2ME_APDU_MAX];
	static const uint8_t imsi[] = {0x00, 0xB0, 0x00, 0x00, 0x09};
	assert_bytes(apdu, m2me_apdu_read_binary(0, M2ME_EF_IMSI_LEN, apdu), imsi, sizeof imsi);
	static const uint8_t offset[] = {0x00, 0xB0, 0x01, 0x02, 0x00};
	assert_bytes(apdu, m2me_apdu_read_binary(0x0102, 0, apdu), offset, sizeof offset);
	/* P1 bit 8 set would mean a short file identifier: an offset never sets it */
	static const uint8_t high[] = {0x00, 0xB0, 0x7F, 0xFF, 0x04};
	assert_bytes(apdu, m2me_apdu_read_binary(0xFFFF, 4, apdu), high, sizeof high);
}

Test(apdu, authenticate_3g_context)
{
	uint8_t rand[16], autn[16], want[40] = {0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
	for (int i = 0; i < 16; i++) {
		rand[i] = (uint8_t)(0x10 + i);
		autn[i] = (uint8_t)(0xA0 + i);
	}
	memcpy(want + 6, rand, 16);
	want[22] = 0x10;
	memcpy(want + 23, autn, 16);
	want[39] = 0x00;
	uint8_t apdu[M2ME_APDU_MAX];
	size_t len = m2me_apdu_authenticate(rand, autn, apdu);
	assert_bytes(apdu, len, want, sizeof want);
}

/* TS 102 221 table 10.5: the CAT commands are class 80, with P1 P2 00 00. */
Test(apdu, cat_commands)
{
	static const uint8_t data[] = {0xD1, 0x03, 0x01, 0x02, 0x03};
	uint8_t apdu[M2ME_APDU_MAX];
	static const uint8_t profile[] = {0x80, 0x10, 0x00, 0x00, 0x05, 0xD1, 0x03, 0x01, 0x02, 0x03};
	assert_bytes(apdu, m2me_apdu_terminal_profile(data, sizeof data, apdu), profile, sizeof profile);
	static const uint8_t envelope[] = {0x80, 0xC2, 0x00, 0x00, 0x05, 0xD1, 0x03, 0x01, 0x02, 0x03};
	assert_bytes(apdu, m2me_apdu_envelope(data, sizeof data, apdu), envelope, sizeof envelope);
	static const uint8_t response[] = {0x80, 0x14, 0x00, 0x00, 0x05, 0xD1, 0x03, 0x01, 0x02, 0x03};
	assert_bytes(apdu, m2me_apdu_terminal_response(data, sizeof data, apdu), response, sizeof response);
	static const uint8_t fetch[] = {0x80, 0x12, 0x00, 0x00, 0x1B};
	assert_bytes(apdu, m2me_apdu_fetch(0x1B, apdu), fetch, sizeof fetch);
	/* the longest data a short APDU carries */
	uint8_t big[M2ME_CAT_DATA_MAX];
	memset(big, 0xA5, sizeof big);
	cr_assert_eq(m2me_apdu_envelope(big, sizeof big, apdu), 5 + sizeof big);
	cr_assert_eq(apdu[4], 0xFF);
	cr_assert_eq(apdu[5 + sizeof big - 1], 0xA5);
}

/* ---- EF_AD --------------------------------------------------------------------------- */

Test(ef_ad, mnc_length)
{
	static const uint8_t two[] = {0x00, 0x00, 0x00, 0x02}, three[] = {0x80, 0x00, 0x00, 0x03},
			     rfu[] = {0x00, 0x00, 0x00, 0xF2}, longer[] = {0x00, 0x00, 0x00, 0x03, 0xFF};
	cr_assert_eq(m2me_ad_mnc_length(two, sizeof two), 2);
	cr_assert_eq(m2me_ad_mnc_length(three, sizeof three), 3);
	cr_assert_eq(m2me_ad_mnc_length(rfu, sizeof rfu), 2, "bits 5-8 of byte 4 are RFU");
	cr_assert_eq(m2me_ad_mnc_length(longer, sizeof longer), 3);
	static const uint8_t one[] = {0x00, 0x00, 0x00, 0x01}, four[] = {0x00, 0x00, 0x00, 0x04},
			     old[] = {0x00, 0x00, 0x00};
	cr_assert_eq(m2me_ad_mnc_length(one, sizeof one), -1);
	cr_assert_eq(m2me_ad_mnc_length(four, sizeof four), -1);
	cr_assert_eq(m2me_ad_mnc_length(old, sizeof old), -1, "a 3-byte EF_AD has no MNC length");
}

/* ---- AUTHENTICATE response ------------------------------------------------------------------ */

/* TS 35.208 test set 1: RES, CK and IK for K 465b5ce8..., RAND 23553cbe...; Kc = c3(CK, IK) */
static const uint8_t res1[8] = {0xa5, 0x42, 0x11, 0xd5, 0xe3, 0xba, 0x50, 0xbf};
static const uint8_t ck1[16] = {0xb4, 0x0b, 0xa9, 0xa3, 0xc5, 0x8b, 0x2a, 0x05,
				0xbb, 0xf0, 0xd9, 0x87, 0xb2, 0x1b, 0xf8, 0xcb};
static const uint8_t ik1[16] = {0xf7, 0x69, 0xbc, 0xd7, 0x51, 0x04, 0x46, 0x04,
				0x12, 0x76, 0x72, 0x71, 0x1c, 0x6d, 0x34, 0x41};
static const uint8_t kc1[8] = {0xea, 0xe4, 0xbe, 0x82, 0x3a, 0xf9, 0xa0, 0x8b};

/* 'DB' 08 RES 10 CK 10 IK [08 Kc] */
static size_t success_answer(uint8_t *out, int with_kc)
{
	size_t n = 0;
	out[n++] = 0xDB;
	out[n++] = 8;
	memcpy(out + n, res1, 8);
	n += 8;
	out[n++] = 16;
	memcpy(out + n, ck1, 16);
	n += 16;
	out[n++] = 16;
	memcpy(out + n, ik1, 16);
	n += 16;
	if (with_kc) {
		out[n++] = 8;
		memcpy(out + n, kc1, 8);
		n += 8;
	}
	return n;
}

static void assert_garbled(const uint8_t *data, size_t len, uint16_t sw, const char *why)
{
	m2me_auth_result r;
	cr_assert_eq(m2me_auth_parse(data, len, sw, &r), M2ME_AUTH_GARBLED, "accepted although %s", why);
	static const m2me_auth_result zero;
	cr_assert(!memcmp(&r, &zero, sizeof r), "a refused answer left values behind (%s)", why);
}

Test(authenticate, success_with_and_without_kc)
{
	uint8_t data[64];
	m2me_auth_result r;
	size_t len = success_answer(data, 1);
	cr_assert_eq(len, 53);
	cr_assert_eq(m2me_auth_parse(data, len, 0x9000, &r), M2ME_AUTH_SUCCESS);
	assert_bytes(r.res, r.res_len, res1, sizeof res1);
	assert_bytes(r.ck, 16, ck1, 16);
	assert_bytes(r.ik, 16, ik1, 16);
	cr_assert(r.has_kc);
	assert_bytes(r.kc, 8, kc1, 8);
	len = success_answer(data, 0);
	cr_assert_eq(m2me_auth_parse(data, len, 0x9000, &r), M2ME_AUTH_SUCCESS);
	cr_assert(!r.has_kc);
	assert_bytes(r.ik, 16, ik1, 16);
}

Test(authenticate, synch_failure_and_mac_failure)
{
	uint8_t data[16] = {0xDC, 0x0E};
	for (int i = 0; i < 14; i++)
		data[2 + i] = (uint8_t)(0x30 + i);
	m2me_auth_result r;
	cr_assert_eq(m2me_auth_parse(data, 16, 0x9000, &r), M2ME_AUTH_SYNCH_FAILURE);
	assert_bytes(r.auts, 14, data + 2, 14);
	cr_assert_eq(m2me_auth_parse(NULL, 0, 0x9862, &r), M2ME_AUTH_MAC_FAILURE);
}

Test(authenticate, truncated_and_garbled_answers)
{
	uint8_t data[64];
	size_t len = success_answer(data, 1);
	for (size_t cut = 0; cut < len; cut++)
		if (cut != 44)  /* 44 bytes: a complete answer without Kc */
			assert_garbled(data, cut, 0x9000, "the answer is truncated");
	data[len] = 0x00;
	assert_garbled(data, len + 1, 0x9000, "a byte follows Kc");
	len = success_answer(data, 0);
	data[1] = 3;
	assert_garbled(data, len, 0x9000, "RES is 3 bytes");
	data[1] = 17;
	assert_garbled(data, len, 0x9000, "RES is 17 bytes");
	success_answer(data, 1);
	data[10] = 15;
	assert_garbled(data, 53, 0x9000, "CK is 15 bytes");
	success_answer(data, 1);
	data[44] = 7;  /* the Kc length byte */
	assert_garbled(data, 53, 0x9000, "Kc is 7 bytes");
	success_answer(data, 1);
	data[0] = 0xDD;
	assert_garbled(data, 53, 0x9000, "the tag is neither DB nor DC");
	assert_garbled(data, 0, 0x9000, "there is no data");
}

Test(authenticate, synch_failure_garbled)
{
	uint8_t data[17] = {0xDC, 0x0E};
	assert_garbled(data, 15, 0x9000, "AUTS is cut short");
	assert_garbled(data, 17, 0x9000, "a byte follows AUTS");
	data[1] = 0x0D;
	assert_garbled(data, 15, 0x9000, "AUTS is 13 bytes");
}

Test(authenticate, other_status_words)
{
	uint8_t data[64];
	size_t len = success_answer(data, 1);
	assert_garbled(data, len, 0x6982, "the status word is 69 82");
	assert_garbled(NULL, 0, 0x6985, "the status word is 69 85");
	assert_garbled(NULL, 0, 0x9864, "the status word is 98 64 (context not supported)");
	assert_garbled(data, len, 0x9862, "98 62 came with data");
}

/* ---- IMEI ------------------------------------------------------------------------------------- */

Test(imei, luhn_check_digit)
{
	cr_assert(m2me_imei_valid("356938035643809"));
	cr_assert(m2me_imei_valid("490154203237518"));
	cr_assert(m2me_imei_valid("000000000000000"));
	cr_assert(!m2me_imei_valid("356938035643808"), "wrong check digit");
	cr_assert(!m2me_imei_valid("490154203237519"), "wrong check digit");
	cr_assert(!m2me_imei_valid("35693803564380"), "14 digits");
	cr_assert(!m2me_imei_valid("3569380356438090"), "16 digits");
	cr_assert(!m2me_imei_valid("35693803564380a"), "a letter");
	cr_assert(!m2me_imei_valid(" 56938035643809"), "a space");
	cr_assert(!m2me_imei_valid(""));
	cr_assert(!m2me_imei_valid(NULL));
}
