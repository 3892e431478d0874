/*
 * The card driven through its APDU engine, over a card made from an image in a temporary
 * directory: the file tree and its access conditions, AUTHENTICATE against an AuC built from
 * lib/aka, refusals that change nothing, persistence across a reopened database, and a key
 * store that never reaches the database in clear. The last suite runs the uicc binary itself.
 *
 * Expected bytes are written out from the specifications, not computed by the card's code.
 */
#include "card_fixture.h"

#include "aka/gsm.h"
#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define SELECT_USIM "00 A4 04 0C 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00"
#define SELECT_MF "00 A4 00 0C 02 3F 00"
#define SELECT_ICCID "00 A4 00 0C 02 2F E2"
#define SELECT_DIR "00 A4 00 0C 02 2F 00"
#define SELECT_IMSI "00 A4 00 0C 02 6F 07"
#define SELECT_AD "00 A4 00 0C 02 6F AD"
#define SELECT_LOCI "00 A4 00 0C 02 6F 7E"
#define VERIFY_ADM "00 20 00 0A 08 A1 B2 C3 D4 E5 F6 07 18"
#define VERIFY_WRONG "00 20 00 0A 08 A1 B2 C3 D4 E5 F6 07 19"
#define IMSI_EF "08 09 10 10 10 32 54 76 98"  /* 001010123456789 by TS 31.102 §4.2.2 */
#define NEW_IMSI_EF "08 09 10 10 10 32 54 76 99"

/* 00 88 00 81 22 10 RAND 10 AUTN 00 (TS 31.102 §7.1.2, 3G context). */
static rapdu authenticate(const uint8_t rand[16], const uint8_t autn[16])
{
	uint8_t apdu[5 + 34 + 1] = {0x00, 0x88, 0x00, 0x81, 0x22, 0x10};
	memcpy(apdu + 6, rand, 16);
	apdu[22] = 0x10;
	memcpy(apdu + 23, autn, 16);
	apdu[39] = 0x00;
	return transmit_raw(apdu, sizeof apdu);
}

/* The home network's side: a vector for SQN = SEQ || IND (IND 5 bits, sqn.h). */
static void auc_vector(uint64_t seq, m2m_aka_av *av, m2m_milenage *auc)
{
	static const uint8_t amf[2] = {0x80, 0x00};
	uint8_t rand[16];
	for (int i = 0; i < 16; i++)
		rand[i] = (uint8_t)(0x30 + i + seq);
	cr_assert_eq(m2m_milenage_init(auc, K, OPC), 0);
	cr_assert_eq(m2m_aka_av_build(auc, rand, seq << M2M_SQN_IND_BITS_DEFAULT, amf, av), 0);
}

static void setup(void)
{
	fixture_dir();
	open_card(CARD_IMAGE);
}

TestSuite(card, .init = setup, .fini = fixture_teardown, .timeout = 60);

/* ---- the file tree ---------------------------------------------------------------------- */

Test(card, select_usim_by_aid_then_read_imsi)
{
	expect(SELECT_USIM, 0x9000);
	expect_read(SELECT_IMSI, "00 B0 00 00 09", IMSI_EF);
}

Test(card, select_usim_by_partial_aid)
{
	expect("00 A4 04 0C 07 A0 00 00 00 87 10 02", 0x9000);
	expect_read(SELECT_IMSI, "00 B0 00 00 09", IMSI_EF);
	expect("00 A4 04 0C 07 A0 00 00 00 87 10 04", 0x6A82);  /* the ISIM's code: not on this card */
	expect("00 A4 04 0C 04 A0 00 00 00", 0x6A82);           /* shorter than the RID */
}

Test(card, ef_ad_gives_the_mnc_length)
{
	expect(SELECT_USIM, 0x9000);
	expect_read(SELECT_AD, "00 B0 00 00 04", "00 00 00 02");
}

Test(card, read_iccid_under_the_mf)
{
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_ICCID, 0x6A82);  /* not reachable from ADF.USIM by its identifier */
	expect(SELECT_MF, 0x9000);
	expect_read(SELECT_ICCID, "00 B0 00 00 0A", "98 68 00 21 43 65 87 09 21 43");
}

Test(card, fcp_templates)
{
	rapdu r = expect("00 A4 04 04 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00 00", 0x9000);
	expect_data(&r, "62 19 82 02 78 21 84 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00 8A 01 05");
	r = expect("00 A4 00 04 02 6F 07 00", 0x9000);
	expect_data(&r, "62 0F 82 02 41 21 83 02 6F 07 8A 01 05 80 02 00 09");
	r = expect("00 A4 00 04 02 3F 00 00", 0x9000);
	expect_data(&r, "62 0B 82 02 78 21 83 02 3F 00 8A 01 05");
	r = expect("00 A4 00 04 02 2F 00 00", 0x9000);
	expect_data(&r, "62 12 82 05 42 21 00 20 01 83 02 2F 00 8A 01 05 80 02 00 20");
}

Test(card, select_by_path_from_the_mf)
{
	expect("00 A4 08 0C 04 7F FF 6F 07", 0x6A82);  /* 7FFF names no ADF before the USIM is selected */
	expect(SELECT_USIM, 0x9000);
	rapdu r = expect("00 A4 08 04 04 7F FF 6F AD 00", 0x9000);
	expect_data(&r, "62 0F 82 02 41 21 83 02 6F AD 8A 01 05 80 02 00 04");
	expect("00 A4 08 0C 02 2F E2", 0x9000);
	r = expect("00 B0 00 00 0A", 0x9000);
	expect_data(&r, "98 68 00 21 43 65 87 09 21 43");
	expect("00 A4 08 0C 04 2F E2 6F 07", 0x6A82);  /* an EF has no children */
	expect("00 A4 08 0C 03 7F FF 6F", 0x6700);
}

Test(card, read_binary_by_short_file_identifier)
{
	expect(SELECT_USIM, 0x9000);
	rapdu r = expect("00 B0 87 00 09", 0x9000);  /* SFI 07: EF_IMSI */
	expect_data(&r, IMSI_EF);
	r = expect("00 B0 00 08 01", 0x9000);        /* ... which is now the current EF */
	expect_data(&r, "98");
	expect("00 B0 9F 00 01", 0x6A82);            /* no EF with SFI 1F */
	expect("00 B0 C7 00 01", 0x6A86);            /* P1 b7 must be 0 with an SFI */
}

Test(card, ef_dir_holds_the_usim_record)
{
	expect(SELECT_DIR, 0x9000);
	rapdu r = expect("00 B2 01 04 20", 0x9000);
	expect_data(&r, "61 18 4F 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00 50 04 55 53 49 4D"
			" FF FF FF FF FF FF");
	r = expect("00 B2 01 F4 00", 0x9000);  /* by SFI 1E, Le 00 */
	cr_assert_eq(r.len, 32);
	expect("00 B2 02 04 20", 0x6A83);
	expect("00 B2 01 04 10", 0x6C20);
	expect("00 B2 01 02 20", 0x6A86);      /* next-record mode: not supported */
	expect("00 B0 00 00 01", 0x6981);      /* a record file is not read as a transparent one */
	expect(SELECT_ICCID, 0x9000);
	expect("00 B2 01 04 0A", 0x6981);
}

Test(card, le_beyond_the_file_names_the_length)
{
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_AD, 0x9000);
	expect("00 B0 00 00 10", 0x6C04);
	rapdu r = expect("00 B0 00 00 00", 0x9000);  /* Le 00: all there is */
	expect_data(&r, "00 00 00 02");
	r = expect("00 B0 00 03 01", 0x9000);
	expect_data(&r, "02");
	expect("00 B0 00 04 01", 0x6B00);
	/* an answer longer than Le: the command is undone, the selection kept */
	expect("00 A4 00 04 02 6F 07 02", 0x6C11);
	r = expect("00 B0 00 00 04", 0x9000);
	expect_data(&r, "00 00 00 02");
}

Test(card, status_returns_the_current_df)
{
	rapdu r = expect("80 F2 00 00 00", 0x9000);
	expect_data(&r, "62 0B 82 02 78 21 83 02 3F 00 8A 01 05");
	expect("80 F2 00 01 00", 0x6985);  /* no application yet */
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_IMSI, 0x9000);
	r = expect("80 F2 00 01 00", 0x9000);
	expect_data(&r, "84 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00");
	r = expect("80 F2 01 00 00", 0x9000);
	cr_assert_eq(r.data[6], 0x84);  /* the ADF's FCP: its DF name */
	expect("80 F2 00 0C", 0x9000);
	expect("00 F2 00 00 00", 0x6E00);  /* STATUS is a class 8X command */
	expect("80 F2 03 00 00", 0x6A86);
}

/* ---- access conditions and ADM ---------------------------------------------------------- */

Test(card, ef_imsi_is_updated_only_after_adm)
{
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_IMSI, 0x9000);
	expect("00 D6 00 00 09 " NEW_IMSI_EF, 0x6982);
	rapdu r = expect("00 B0 00 00 09", 0x9000);
	expect_data(&r, IMSI_EF);
	expect(VERIFY_ADM, 0x9000);
	expect("00 D6 00 00 09 " NEW_IMSI_EF, 0x9000);
	r = expect("00 B0 00 00 09", 0x9000);
	expect_data(&r, NEW_IMSI_EF);
	expect("00 D6 00 08 02 99 99", 0x6700);  /* past the end */
	expect("00 D6 00 09 01 99", 0x6B00);
}

Test(card, ef_loci_is_updated_without_adm)
{
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_LOCI, 0x9000);
	rapdu r = expect("00 B0 00 00 0B", 0x9000);
	expect_data(&r, "FF FF FF FF FF FF FF FF FE FF 01");
	expect("00 D6 00 00 0B 12 34 56 78 00 F1 10 00 01 FF 00", 0x9000);
	r = expect("00 B0 00 00 0B", 0x9000);
	expect_data(&r, "12 34 56 78 00 F1 10 00 01 FF 00");
}

Test(card, ef_iccid_and_ef_ad_need_adm_too)
{
	expect(SELECT_ICCID, 0x9000);
	expect("00 D6 00 00 01 00", 0x6982);
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_AD, 0x9000);
	expect("00 D6 00 03 01 03", 0x6982);
	expect(VERIFY_ADM, 0x9000);
	expect("00 D6 00 03 01 03", 0x9000);
}

Test(card, a_wrong_adm_counts_down_and_blocks)
{
	expect("00 20 00 0A", 0x63CA);  /* attempts left, asked without data */
	expect(VERIFY_WRONG, 0x63C9);
	expect(VERIFY_WRONG, 0x63C8);
	expect("00 20 00 0A", 0x63C8);
	expect(VERIFY_ADM, 0x9000);  /* restores all attempts */
	expect("00 20 00 0A", 0x9000);
	expect(VERIFY_WRONG, 0x63C9);
	expect(SELECT_ICCID, 0x9000);
	expect("00 D6 00 00 01 00", 0x6982);  /* a wrong value clears the security status */
	for (int left = 8; left >= 0; left--)
		expect(VERIFY_WRONG, (uint16_t)(0x63C0 | left));
	expect(VERIFY_ADM, 0x6983);
	expect("00 20 00 0A", 0x6983);
	expect("00 D6 00 00 01 00", 0x6982);
}

Test(card, verify_parameters)
{
	expect("00 20 00 01 08 31 32 33 34 FF FF FF FF", 0x6A88);  /* PIN1: this card has no PIN */
	expect("00 20 00 0F 08 31 32 33 34 FF FF FF FF", 0x6A86);  /* not a key reference */
	expect("00 20 01 0A 08 A1 B2 C3 D4 E5 F6 07 18", 0x6A86);
	expect("00 20 00 0A 07 A1 B2 C3 D4 E5 F6 07", 0x6700);
	expect("00 20 00 0A 08", 0x6700);  /* Le where there is none */
	expect("00 20 00 0A", 0x63CA);     /* none of these cost an attempt */
}

/* ---- AUTHENTICATE ----------------------------------------------------------------------- */

Test(card, authenticate_3g_success)
{
	m2m_milenage auc;
	m2m_aka_av av;
	uint8_t kc[8];
	auc_vector(1, &av, &auc);
	m2m_gsm_c3(av.ck, av.ik, kc);
	expect(SELECT_USIM, 0x9000);
	rapdu r = authenticate(av.rand, av.autn);
	cr_assert_eq(r.sw, 0x9000);
	cr_assert_eq(r.len, 53);
	cr_assert_eq(r.data[0], 0xDB);
	cr_assert_eq(r.data[1], 8);
	cr_assert_arr_eq(r.data + 2, av.xres, 8);
	cr_assert_eq(r.data[10], 16);
	cr_assert_arr_eq(r.data + 11, av.ck, 16);
	cr_assert_eq(r.data[27], 16);
	cr_assert_arr_eq(r.data + 28, av.ik, 16);
	cr_assert_eq(r.data[44], 8);
	cr_assert_arr_eq(r.data + 45, kc, 8);
	m2m_milenage_clear(&auc);
}

Test(card, a_replayed_autn_gives_auts_the_auc_accepts)
{
	m2m_milenage auc;
	m2m_aka_av av;
	auc_vector(5, &av, &auc);
	expect(SELECT_USIM, 0x9000);
	cr_assert_eq(authenticate(av.rand, av.autn).sw, 0x9000);
	rapdu r = authenticate(av.rand, av.autn);
	cr_assert_eq(r.sw, 0x9000);
	cr_assert_eq(r.len, 16);
	cr_assert_eq(r.data[0], 0xDC);
	cr_assert_eq(r.data[1], 14);
	uint64_t sqn_ms = 0;
	cr_assert_eq(m2m_aka_auts_open(&auc, av.rand, r.data + 2, &sqn_ms), M2M_AKA_OK);
	cr_assert_eq(sqn_ms, (uint64_t)5 << M2M_SQN_IND_BITS_DEFAULT);
	m2m_milenage_clear(&auc);
}

Test(card, a_flipped_mac_bit_is_a_mac_failure)
{
	m2m_milenage auc;
	m2m_aka_av av;
	auc_vector(1, &av, &auc);
	expect(SELECT_USIM, 0x9000);
	uint8_t forged[16];
	memcpy(forged, av.autn, 16);
	forged[15] ^= 0x01;
	rapdu r = authenticate(av.rand, forged);
	cr_assert_eq(r.sw, 0x9862);
	cr_assert_eq(r.len, 0);
	/* the forged challenge moved nothing: the genuine one is still fresh */
	cr_assert_eq(authenticate(av.rand, av.autn).sw, 0x9000);
	m2m_milenage_clear(&auc);
}

Test(card, gsm_context_gives_c2_and_c3)
{
	m2m_milenage auc;
	uint8_t rand[16], res[8], ck[16], ik[16], ak[6], sres[4], kc[8];
	memset(rand, 0x5A, sizeof rand);
	cr_assert_eq(m2m_milenage_init(&auc, K, OPC), 0);
	cr_assert_eq(m2m_milenage_f2345(&auc, rand, res, ck, ik, ak), 0);
	cr_assert_eq(m2m_gsm_c2(res, sizeof res, sres), 0);
	m2m_gsm_c3(ck, ik, kc);
	expect(SELECT_USIM, 0x9000);
	uint8_t apdu[23] = {0x00, 0x88, 0x00, 0x80, 0x11, 0x10};
	memcpy(apdu + 6, rand, 16);
	rapdu r = transmit_raw(apdu, sizeof apdu);
	cr_assert_eq(r.sw, 0x9000);
	cr_assert_eq(r.len, 14);
	cr_assert_eq(r.data[0], 4);
	cr_assert_arr_eq(r.data + 1, sres, 4);
	cr_assert_eq(r.data[5], 8);
	cr_assert_arr_eq(r.data + 6, kc, 8);
	m2m_milenage_clear(&auc);
}

Test(card, authenticate_needs_the_usim_and_well_formed_data)
{
	m2m_milenage auc;
	m2m_aka_av av;
	auc_vector(1, &av, &auc);
	cr_assert_eq(authenticate(av.rand, av.autn).sw, 0x6985);  /* no application selected */
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_MF, 0x9000);
	expect("00 88 00 82 11 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 0x6A86);
	expect("00 88 00 81 11 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 0x6700);
	expect("00 88 00 80 11 0F 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00", 0x6A80);
	cr_assert_eq(authenticate(av.rand, av.autn).sw, 0x9000);  /* the USIM stays active under the MF */
	m2m_milenage_clear(&auc);
}

/* ---- refusals --------------------------------------------------------------------------- */

Test(card, malformed_apdus_change_nothing)
{
	static const struct { const char *apdu; uint16_t sw; } cases[] = {
		{"A0 A4 00 0C 02 6F 07", 0x6E00},              /* GSM class A0 */
		{"0C B0 00 00 09", 0x6E00},                    /* secure messaging */
		{"80 A4 00 0C 02 6F 07", 0x6E00},              /* SELECT is class 0X */
		{"00 CA 00 00 00", 0x6E00},                    /* GET DATA is class 80 (Alternative 3b) */
		{"00 CB 00 00 00", 0x6D00},                    /* RETRIEVE DATA: not on this card */
		{"00 DC 01 04 01 00", 0x6D00},                 /* UPDATE RECORD: not on this card */
		{"00 A4 02 0C 02 6F 07", 0x6A86},              /* P1 02 */
		{"00 A4 00 00 02 6F 07", 0x6A86},              /* P2 00 */
		{"00 A4 04 4C 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00", 0x6A86}, /* termination */
		{"00 A4 00 0C 03 6F 07", 0x6700},              /* Lc 3, two bytes */
		{"00 A4 00 0C 01 6F 07", 0x6700},              /* Lc 1 (then Le 07): one byte of FID */
		{"00 A4 00 0C 02 6F 07 00 00", 0x6700},        /* a byte too many */
		{"00 A4 00", 0x6700},                          /* truncated header */
		{"00", 0x6700},
		{"00 A4 00 0C", 0x6700},                       /* SELECT without data */
		{"00 A4 00 0C 00 6F 07", 0x6700},              /* Lc 00: extended length */
		{"00 B0 00 00", 0x6700},                       /* READ BINARY without Le */
		{"00 B0 00 00 02 00 00", 0x6700},              /* READ BINARY with data */
		{"00 B0 00 00 09", 0x6986},                    /* no EF selected */
		{"00 D6 00 00 01 00", 0x6986},
		{"00 A4 00 0C 02 6F 07", 0x6A82},              /* EF_IMSI is not under the MF */
		{"00 A4 00 0C 02 7F FF", 0x6A82},              /* no application active */
		{"00 C0 00 00 10", 0x6985},                    /* GET RESPONSE: nothing is ever pending */
		{"00 20 00 0A 08 00 00 00 00 00 00 00 00 00", 0x6700}, /* VERIFY with Le */
	};
	expect(SELECT_MF, 0x9000);
	uicc_state before = t.card.st;
	char db_before[8192], db_after[8192];
	db_dump(db_before, sizeof db_before);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		expect(cases[i].apdu, cases[i].sw);
		cr_assert_arr_eq(&t.card.st, &before, sizeof before, "%s changed the card", cases[i].apdu);
		db_dump(db_after, sizeof db_after);
		cr_assert_str_eq(db_after, db_before, "%s changed the database", cases[i].apdu);
	}
	uint8_t long_apdu[UICC_APDU_MAX + 1] = {0x00, 0xD6, 0x00, 0x00, 0xFF};
	cr_assert_eq(transmit_raw(long_apdu, sizeof long_apdu).sw, 0x6700);
}

Test(card, a_refused_select_keeps_the_selection)
{
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_IMSI, 0x9000);
	expect("00 A4 00 0C 02 6F 99", 0x6A82);
	rapdu r = expect("00 B0 00 00 09", 0x9000);
	expect_data(&r, IMSI_EF);
}

/* ---- reset ------------------------------------------------------------------------------ */

Test(card, reset_gives_the_atr_and_forgets_the_session)
{
	uint8_t atr[UICC_ATR_MAX], x = 0;
	expect(SELECT_USIM, 0x9000);
	expect(SELECT_IMSI, 0x9000);
	expect(VERIFY_ADM, 0x9000);
	int n = uicc_reset(&t.card, atr);
	cr_assert_geq(n, 2);
	cr_assert_eq(atr[0], 0x3B);
	for (int i = 1; i < n; i++)
		x ^= atr[i];
	cr_assert_eq(x, 0, "TCK does not check");
	expect("00 B0 00 00 09", 0x6986);
	expect("00 20 00 0A", 0x63CA);
	rapdu r = expect("80 F2 00 00 00", 0x9000);
	expect_data(&r, "62 0B 82 02 78 21 83 02 3F 00 8A 01 05");
	expect("00 A4 00 0C 02 7F FF", 0x6A82);
}

/* ---- persistence and the key store ------------------------------------------------------ */

Test(card, state_survives_reopening_and_the_image_is_not_read_again)
{
	m2m_milenage auc;
	m2m_aka_av av;
	auc_vector(3, &av, &auc);
	expect(SELECT_USIM, 0x9000);
	cr_assert_eq(authenticate(av.rand, av.autn).sw, 0x9000);
	expect(SELECT_IMSI, 0x9000);
	expect(VERIFY_ADM, 0x9000);
	expect("00 D6 00 00 09 " NEW_IMSI_EF, 0x9000);
	expect(VERIFY_WRONG, 0x63C9);
	close_card();

	int imported = -1;
	cr_assert_eq(open_card_from(IMAGE("89860012345678900000", "001010000000009", "3"), &imported), 0);
	cr_assert_eq(imported, 0);
	rapdu r = expect("00 B0 00 00 09", 0x9000);  /* EF_IMSI is still the current EF */
	expect_data(&r, NEW_IMSI_EF);
	expect("00 20 00 0A", 0x63C9);
	r = authenticate(av.rand, av.autn);
	cr_assert_eq(r.sw, 0x9000);
	cr_assert_eq(r.data[0], 0xDC, "the SQN array was not kept");
	expect(SELECT_AD, 0x9000);
	r = expect("00 B0 00 00 04", 0x9000);
	expect_data(&r, "00 00 00 02");
	m2m_milenage_clear(&auc);
}

static void expect_no_keys_in(const char *db_path)
{
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", db_path);
	const char *paths[] = {db_path, wal};
	for (int i = 0; i < 2; i++) {
		expect_absent(paths[i], K, sizeof K, "K");
		expect_absent(paths[i], OPC, sizeof OPC, "OPc");
		expect_absent(paths[i], ADM, sizeof ADM, "ADM");
	}
}

Test(card, the_database_holds_no_key_in_clear)
{
	char rows[16];
	db_text("SELECT count(*) FROM uicc_key", rows, sizeof rows);
	cr_assert_str_eq(rows, "3", "K, OPc and ADM are stored (sealed)");
	expect_no_keys_in(t.db_path);
	close_card();
	expect_no_keys_in(t.db_path);
}

Test(card, another_storage_key_does_not_open_the_card)
{
	close_card();
	uint8_t other[32];
	memcpy(other, STORAGE_KEY, sizeof other);
	other[31] ^= 1;
	open_db();
	int imported;
	cr_assert_eq(uicc_card_open(&t.card, t.db, other, NULL, &imported), -1);
	cr_assert_eq(uicc_card_open(&t.card, t.db, STORAGE_KEY, NULL, &imported), 0);
}

Test(card, an_empty_database_without_image_is_no_card)
{
	close_card();
	snprintf(t.db_path, sizeof t.db_path, "%s/empty.db", t.dir);
	open_db();
	int imported;
	cr_assert_eq(uicc_card_open(&t.card, t.db, STORAGE_KEY, NULL, &imported), -1);
}

/* ---- the image -------------------------------------------------------------------------- */

Test(card, odd_lengths_are_padded_with_f)
{
	uicc_image img = {.iccid = "8900101000000000017", .imsi = "00101012345678", .mnc_length = 3};
	uicc_state st;
	uicc_image_state(&img, &st);
	const uint8_t iccid[] = {0x98, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF7};
	const uint8_t imsi[] = {0x08, 0x01, 0x10, 0x10, 0x10, 0x32, 0x54, 0x76, 0xF8};  /* even: parity 0 */
	cr_assert_arr_eq(st.ef[UICC_EF_ICCID], iccid, sizeof iccid);
	cr_assert_arr_eq(st.ef[UICC_EF_IMSI], imsi, sizeof imsi);
	cr_assert_eq(st.ef[UICC_EF_AD][3], 3);
	img = (uicc_image){.iccid = "891234567890123456", .imsi = "001011", .mnc_length = 2};
	uicc_image_state(&img, &st);
	const uint8_t short_imsi[] = {0x04, 0x01, 0x10, 0x10, 0xF1, 0xFF, 0xFF, 0xFF, 0xFF};
	cr_assert_arr_eq(st.ef[UICC_EF_IMSI], short_imsi, sizeof short_imsi);
}

static void expect_image_error(const char *text, const char *error)
{
	uicc_image img;
	m2m_conf ic;
	char want[512];
	write_text(t.image, text);
	cr_assert_eq(uicc_image_read(&ic, t.image, &img), -1, "accepted: %s", text);
	snprintf(want, sizeof want, "%s:%s", t.image, error);
	cr_assert_str_eq(ic.error, want);
	m2m_conf_free(&ic);
}

Test(card, a_bad_image_is_located)
{
	expect_image_error(IMAGE("89860012345678901234", "00101012345678X", "2"),
			   "4: card.imsi: must be 6 to 15 digits");
	expect_image_error(IMAGE("8986001234567890", "001010123456789", "2"),
			   "3: card.iccid: must be 18 to 20 digits");
	expect_image_error(IMAGE("89860012345678901234", "001010123456789", "4"),
			   "5: card.mnc_length: 4 is out of range [2, 3]");
	expect_image_error(IMAGE("89860012345678901234", "001011", "3"),
			   "4: card.imsi: leaves no MSIN after the MCC and a 3-digit MNC");
	expect_image_error("card = { iccid = \"89860012345678901234\"; imsi = \"001010123456789\";\n"
			   " mnc_length = 2; k = \"00\"; opc = \"" OPC_HEX "\"; adm = \"" ADM_HEX "\"; };\n",
			   "2: card.k: must be exactly 32 hex digits");
	expect_image_error("card = { iccid = \"89860012345678901234\"; imsi = \"001010123456789\";\n"
			   " mnc_length = 2; k = \"" K_HEX "\"; opc = \"" OPC_HEX "\"; };\n",
			   "1: card.adm: missing (required)");
	expect_image_error(IMAGE("89860012345678901234", "001010123456789", "2") "op = \"00\";\n",
			   "10: op: unknown setting (misspelt?)");
	expect_image_error("card = { iccid = \"89860012345678901234\"; imsi = \"001010123456789\";\n"
			   " mnc_length = 2; k = \"" K_HEX "\"; opc = \"" OPC_HEX "\"; adm = \"" ADM_HEX "\";\n"
			   " ota_tar = \"b00010\"; ota_kic = \"" K_HEX "\"; };\n",
			   "1: card: ota_tar, ota_kic and ota_kid go together");
}

/* The operator's first OTA keyset is kept sealed like K: keyset 1 on its TAR and on the ISD's. */
Test(card, the_ota_keyset_of_the_image_is_kept_sealed)
{
	close_card();
	unlink(t.db_path);
	open_card(IMAGE_WITH("89860012345678901234", "001010123456789", "2",
			     "  ota_tar = \"b00010\"; ota_kic = \"00112233445566778899aabbccddeeff\";\n"
			     "  ota_kid = \"ffeeddccbbaa99887766554433221100\";\n"));
	char rows[256];
	db_text("SELECT group_concat(kvn || ' ' || kic_alg || ' ' || kid_alg || ' ' || length(sealed)) FROM uicc_ota_keyset",
		rows, sizeof rows);
	cr_assert_str_eq(rows, "1 2 2 130", "keyset 1, AES KIc and KID, sealed (102 bytes and 28)");
	db_text("SELECT group_concat(hex(tar) || application || kvn || msl || counter, ' ')"
		" FROM (SELECT * FROM uicc_ota_tar ORDER BY tar)",
		rows, sizeof rows);
	cr_assert_str_eq(rows, "000000isd1220 B00010rfm1220");
	static const uint8_t kic[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	expect_absent(t.db_path, kic, sizeof kic, "KIc");
}

/* ---- the daemon ------------------------------------------------------------------------- */

static const char *uicc_binary(void)
{
	const char *bin = getenv("UICC_BINARY");
	if (!bin || access(bin, X_OK))
		cr_skip_test("UICC_BINARY does not name the uicc daemon");
	return bin;
}

/* A daemon configuration in t.dir, with `group` as its uicc group. */
static void write_daemon_conf(const char *group)
{
	char pub[41], sec[41], path[160], text[1024], key_hex[65];
	cr_assert_eq(zmq_curve_keypair(pub, sec), 0);
	snprintf(path, sizeof path, "%s/uicc.key", t.dir);
	write_text(path, sec);
	m2m_hex(STORAGE_KEY, sizeof STORAGE_KEY, key_hex);
	snprintf(path, sizeof path, "%s/uicc.storage", t.dir);
	write_text(path, key_hex);
	snprintf(text, sizeof text,
		 "entity = \"uicc-t\";\ndatabase = \"%s/daemon.db\";\n"
		 "transport = { bind = \"ipc://%s/uicc.sock\"; secret_key_file = \"%s/uicc.key\"; };\n"
		 "uicc = %s;\n",
		 t.dir, t.dir, t.dir, group);
	snprintf(path, sizeof path, "%s/uicc.conf", t.dir);
	write_text(path, text);
}

static void default_group(char *out, size_t len)
{
	snprintf(out, len, "{ image = \"%s\"; storage_key_file = \"%s/uicc.storage\"; }", t.image, t.dir);
}

/* Runs the binary with args; its exit status and what it printed. */
static int run_binary(const char *args, char *out, size_t len)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s -c %s/uicc.conf %s 2>&1", uicc_binary(), t.dir, args);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, len - 1, p);
	out[n] = 0;
	int status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(card, the_daemon_checks_its_image_and_settings)
{
	char group[512], out[2048], want[512];
	default_group(group, sizeof group);
	write_daemon_conf(group);
	cr_assert_eq(run_binary("--check-config", out, sizeof out), 0, "%s", out);
	write_text(t.image, IMAGE("89860012345678901234", "0010101234567890", "2"));
	cr_assert_eq(run_binary("--check-config", out, sizeof out), 2, "%s", out);
	snprintf(want, sizeof want, "uicc: %s:4: card.imsi: must be 6 to 15 digits", t.image);
	cr_assert_not_null(strstr(out, want), "%s", out);
	write_text(t.image, CARD_IMAGE);
	snprintf(group, sizeof group, "{ image = \"%s\"; storage_key_file = \"%s/uicc.storage\"; pin = \"1234\"; }",
		 t.image, t.dir);
	write_daemon_conf(group);
	cr_assert_eq(run_binary("--check-config", out, sizeof out), 2, "%s", out);
	cr_assert_not_null(strstr(out, "uicc.pin: unknown setting (misspelt?)"), "%s", out);
}

static void read_log(char *text, size_t len)
{
	char path[160];
	snprintf(path, sizeof path, "%s/uicc.log", t.dir);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(text, 1, len - 1, f) : 0;
	text[n] = 0;
	if (f)
		fclose(f);
}

/* Starts the daemon, waits until it serves, stops it with SIGTERM; its exit status. Its log
 * (uicc.log) is that of this run only. */
static int run_daemon_once(void)
{
	char path[160], text[8192];
	int status = -1;
	snprintf(path, sizeof path, "%s/uicc.log", t.dir);
	unlink(path);  /* before the child starts: the previous run's "serving on" must not count */
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(path, "w", stderr))
			_exit(126);
		snprintf(path, sizeof path, "%s/uicc.conf", t.dir);
		execl(uicc_binary(), "uicc", "-c", path, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		read_log(text, sizeof text);
		if (strstr(text, "serving on"))
			break;
		nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
	}
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0)
		cr_assert_eq(errno, EINTR, "waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(card, the_daemon_makes_its_card_once)
{
	char group[512], log[8192];
	default_group(group, sizeof group);
	write_daemon_conf(group);
	int rc = run_daemon_once();
	read_log(log, sizeof log);
	cr_assert_eq(rc, 0, "status %d: %s", rc, log);
	cr_assert_not_null(strstr(log, "card made from"), "%s", log);
	/* a new image: the daemon keeps the card its database holds */
	write_text(t.image, IMAGE("89860012345678900000", "001010000000009", "2"));
	rc = run_daemon_once();
	read_log(log, sizeof log);
	cr_assert_eq(rc, 0, "status %d: %s", rc, log);
	cr_assert_not_null(strstr(log, "describes another card"), "%s", log);
	close_card();
	snprintf(t.db_path, sizeof t.db_path, "%s/daemon.db", t.dir);
	open_db();
	int imported;
	cr_assert_eq(uicc_card_open(&t.card, t.db, STORAGE_KEY, NULL, &imported), 0);
	expect(SELECT_USIM, 0x9000);
	expect_read(SELECT_IMSI, "00 B0 00 00 09", IMSI_EF);
	expect_no_keys_in(t.db_path);
}
