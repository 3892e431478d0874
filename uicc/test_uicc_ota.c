/*
 * The card over the air, driven through its APDU engine as a terminal would: secured packets
 * built with lib/ota (SCP80, TS 102 225) travel in SMS-DELIVERs inside ENVELOPE (SMS-PP
 * download), and the PoR in the ENVELOPE's answer is opened with lib/ota. Remote file
 * management of EF_IMSI and the REFRESH it brings, every refusal of a packet (each leaving files,
 * counters and database as they were), concatenated packets, PUT KEY on the ISD's TAR, 3DES
 * keysets, the conversion of the keyset row of earlier cards, and keys kept out of the database
 * and the logs.
 *
 * Expected bytes (proactive commands, file contents) are written out from the specifications.
 */
#include "card_fixture.h"

#include "crypto/crypto.h"
#include "ota/cat.h"
#include "ota/rfm.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define KIC_HEX "4a1c2e7f6b3d5a9e0c8f1b2d3e4f5061"
#define KID_HEX "7e3a9c1b5d2f4e6a8b0c1d2e3f405162"
#define DEK_HEX "c0ffee112233445566778899aabbccdd"
#define OTA_CARD(settings)                                                                                \
	IMAGE_WITH("89860012345678901234", "001010123456789", "2", "  ota_tar = \"b00010\";" settings)
#define OTA_IMAGE                                                                                         \
	OTA_CARD(" ota_kvn = 1; ota_msl = \"16\";\n"                                                          \
		 "  ota_kic = \"" KIC_HEX "\"; ota_kid = \"" KID_HEX "\"; ota_dek = \"" DEK_HEX "\";\n")
/* 3DES: KIc with three keys (alg 9), KID with two (alg 5), a two-key DEK */
#define KIC3_HEX "0123456789abcdeffedcba987654321013579bdf02468ace"
#define KID3_HEX "89abcdef0123456776543210fedcba98"
#define DEK3_HEX "f0e1d2c3b4a5968778695a4b3c2d1e0f"
#define DES_IMAGE                                                                                         \
	OTA_CARD(" ota_kic_alg = 9; ota_kid_alg = 5;\n"                                                       \
		 "  ota_kic = \"" KIC3_HEX "\"; ota_kid = \"" KID3_HEX "\"; ota_dek = \"" DEK3_HEX "\";\n")

#define RFM_TAR "b00010"
#define ISD_TAR "000000"
#define IMSI_EF "08 09 10 10 10 32 54 76 98"      /* 001010123456789, TS 31.102 §4.2.2 */
#define NEW_IMSI_EF "08 09 10 20 00 00 00 00 10"  /* 001020000000001 */
#define UPDATE_IMSI "00 D6 87 00 09 " NEW_IMSI_EF  /* UPDATE BINARY, SFI 07 = EF_IMSI */
#define READ_IMSI "00 B0 87 00 09"
#define TERMINAL_PROFILE "80 10 00 00 03 03 01 80"  /* SMS-PP download, command result, REFRESH */
/* REFRESH (TS 102 223 §6.6.13): command details 81 03 number 01 qualifier 02 (NAA initialisation
 * and file change notification), device identities 82 02 81 82 (UICC to terminal), file list
 * 92 07: one file, 3F00 7FFF 6F07 */
#define REFRESH_1 "D0 12 81 03 01 01 02 82 02 81 82 92 07 01 3F 00 7F FF 6F 07"
#define TERMINAL_RESPONSE_1 "80 14 00 00 0C 81 03 01 01 02 82 02 82 81 83 01 00"

/* CC, ciphering, counter higher; PoR always, with CC, ciphered: the card's MSL 16 and more. */
static const m2m_ota_spi SECURE = {.check = M2M_OTA_CHECK_CC, .ciphered = 1, .counter = M2M_OTA_COUNTER_HIGHER,
				   .por = M2M_OTA_POR_ALWAYS, .por_check = M2M_OTA_CHECK_CC, .por_ciphered = 1};

static void setup(void)
{
	fixture_dir();
	open_card(OTA_IMAGE);
}

TestSuite(ota, .init = setup, .fini = fixture_teardown, .timeout = 60);

/* ---- the OTA server's side, from lib/ota ------------------------------------------------ */

static m2m_ota_key key_of(uint8_t alg, const char *hex)
{
	m2m_ota_key k = {.alg = alg};
	k.len = unhex(hex, k.key, sizeof k.key);
	return k;
}

static m2m_ota_keyset aes_keyset(void)
{
	return (m2m_ota_keyset){.kvn = 1, .kic = key_of(0x2, KIC_HEX), .kid = key_of(0x2, KID_HEX),
				.dek = key_of(0x2, DEK_HEX)};
}

typedef struct packet {
	uint8_t b[M2M_OTA_PACKET_MAX];
	size_t len;
} packet;

static packet command_packet(const char *tar, const m2m_ota_spi *spi, const m2m_ota_keyset *ks, uint64_t counter,
			     const uint8_t *script, size_t script_len)
{
	packet p;
	char err[128];
	m2m_ota_command c = {.spi = *spi, .counter = counter, .data = script, .len = script_len};
	unhex(tar, c.tar, sizeof c.tar);
	cr_assert_eq(m2m_ota_command_build(&c, ks, p.b, sizeof p.b, &p.len, err, sizeof err), 0, "%s", err);
	return p;
}

static packet rfm_packet(const m2m_ota_spi *spi, const m2m_ota_keyset *ks, uint64_t counter, const char *script)
{
	uint8_t s[M2M_OTA_PACKET_MAX];
	return command_packet(RFM_TAR, spi, ks, counter, s, unhex(script, s, sizeof s));
}

/* The ENVELOPE (SMS-PP download) a terminal sends for one SMS-DELIVER, with Le 00. */
static size_t envelope_apdu(const uint8_t *tpdu, size_t len, uint8_t *apdu)
{
	size_t n;
	memcpy(apdu, (const uint8_t[]){0x80, 0xC2, 0x00, 0x00}, 4);
	cr_assert_eq(m2m_sms_pp_download_build(tpdu, len, apdu + 5, UICC_APDU_MAX - 6, &n), 0);
	apdu[4] = (uint8_t)n;
	apdu[5 + n] = 0x00;
	return 6 + n;
}

typedef struct envelopes {
	uint8_t tpdu[M2M_SMS_CONCAT_MAX][M2M_SMS_TPDU_MAX];
	size_t tpdu_len[M2M_SMS_CONCAT_MAX];
	size_t count;
} envelopes;

static void sms_of(const packet *p, uint8_t ref, envelopes *e)
{
	static const uint8_t scts[7] = {0x62, 0x11, 0x32, 0x51, 0x40, 0x00, 0x00};
	char err[128];
	cr_assert_eq(m2m_sms_deliver_build(p->b, p->len, "+4930123", scts, ref, e->tpdu, e->tpdu_len,
					   M2M_SMS_CONCAT_MAX, &e->count, err, sizeof err),
		     0, "%s", err);
}

static rapdu send_sms(const uint8_t *tpdu, size_t len)
{
	uint8_t apdu[UICC_APDU_MAX];
	return transmit_raw(apdu, envelope_apdu(tpdu, len, apdu));
}

/* A packet that fits one SMS: the ENVELOPE's answer. */
static rapdu send_packet(const packet *p)
{
	envelopes e;
	sms_of(p, 1, &e);
	cr_assert_eq(e.count, 1);
	return send_sms(e.tpdu[0], e.tpdu_len[0]);
}

typedef struct por {
	m2m_ota_response r;
	int unprotected;
	uint8_t executed;
	uint16_t sw;
	const uint8_t *data;
	size_t data_len;
	uint8_t buf[UICC_RESPONSE_MAX];
} por;

/* Opens the PoR in the ENVELOPE's answer as the OTA server does. */
static void open_por(const rapdu *a, const m2m_ota_spi *spi, const m2m_ota_keyset *ks, por *p)
{
	const uint8_t *pkt;
	size_t len;
	char err[128];
	cr_assert((a->sw == 0x9000 || (a->sw & 0xFF00) == 0x9100) && a->len > 3, "SW %04X, %zu bytes: no PoR",
		  a->sw, a->len);
	cr_assert_eq(m2m_sms_por_ud_parse(a->data, a->len, &pkt, &len), 0, "not 02 71 00 and a packet");
	cr_assert_eq(m2m_ota_response_open(pkt, len, spi, ks, &p->r, &p->unprotected, p->buf, sizeof p->buf, err,
					   sizeof err),
		     0, "%s", err);
	if (p->r.status == M2M_OTA_POR_OK)
		cr_assert_eq(m2m_rfm_response_parse(p->r.data, p->r.len, &p->executed, &p->sw, &p->data, &p->data_len), 0);
}

/* PoR OK for the script: commands executed, last SW, last data (hex). */
static void expect_script(const rapdu *a, const m2m_ota_keyset *ks, uint8_t executed, uint16_t sw, const char *data)
{
	por p;
	uint8_t want[UICC_RESPONSE_MAX];
	size_t n = unhex(data, want, sizeof want);
	open_por(a, &SECURE, ks, &p);
	cr_assert_eq(p.r.status, M2M_OTA_POR_OK, "PoR %s", m2m_ota_status_name(p.r.status));
	cr_assert_eq(p.unprotected, 0);
	cr_assert_eq(p.executed, executed, "%u commands executed, expected %u", p.executed, executed);
	cr_assert_eq(p.sw, sw, "last SW %04X, expected %04X", p.sw, sw);
	cr_assert_eq(p.data_len, n, "%zu bytes of data, expected %zu", p.data_len, n);
	cr_assert_arr_eq(p.data, want, n);
}

/* Sends a packet that fits one SMS and expects its script's PoR. */
static void expect_run(const packet *p, const m2m_ota_keyset *ks, uint8_t executed, uint16_t sw, const char *data)
{
	rapdu a = send_packet(p);
	expect_script(&a, ks, executed, sw, data);
}

static uint64_t counter(uicc_ota_app app)
{
	return t.card.st.ota.tar[app].counter;
}

static void reopen(void)
{
	int imported;
	close_card();
	cr_assert_eq(open_card_from(OTA_IMAGE, &imported), 0);
	cr_assert_eq(imported, 0);
}

#define SELECT_USIM "00 A4 04 0C 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00"

static void expect_imsi(const char *ef)
{
	expect(SELECT_USIM, 0x9000);
	expect_read("00 A4 00 0C 02 6F 07", "00 B0 00 00 09", ef);
}

/* ---- remote file management and REFRESH ------------------------------------------------- */

Test(ota, update_imsi_then_refresh)
{
	m2m_ota_keyset ks = aes_keyset();
	expect(TERMINAL_PROFILE, 0x9000);
	packet p = rfm_packet(&SECURE, &ks, 1, UPDATE_IMSI);
	rapdu a = send_packet(&p);
	cr_assert_eq(a.sw, 0x9114, "SW %04X: the REFRESH (20 bytes) is not announced", a.sw);
	expect_script(&a, &ks, 1, 0x9000, "");
	cr_assert_eq(counter(UICC_OTA_RFM), 1);

	/* the new IMSI and the pending REFRESH are in the database */
	reopen();
	expect("80 F2 00 0C", 0x9114);
	rapdu r = expect("80 12 00 00 14", 0x9000);
	expect_data(&r, REFRESH_1);
	expect("80 F2 00 0C", 0x9000);           /* fetched: no more 91XX */
	expect("80 14 00 00 0C 81 03 02 01 02 82 02 82 81 83 01 00", 0x6A80);  /* another number */
	expect(TERMINAL_RESPONSE_1, 0x9000);
	expect("80 12 00 00 14", 0x6985);        /* nothing left to fetch */
	expect(TERMINAL_RESPONSE_1, 0x6985);
	expect_imsi(NEW_IMSI_EF);
	reopen();
	expect_imsi(NEW_IMSI_EF);
	cr_assert_eq(counter(UICC_OTA_RFM), 1);
}

Test(ota, no_refresh_unless_the_terminal_announced_it)
{
	m2m_ota_keyset ks = aes_keyset();
	expect("80 10 00 00 02 03 01", 0x9000);  /* no byte 3: no REFRESH */
	packet p = rfm_packet(&SECURE, &ks, 1, UPDATE_IMSI);
	rapdu a = send_packet(&p);
	cr_assert_eq(a.sw, 0x9000);
	expect_script(&a, &ks, 1, 0x9000, "");
	expect("80 12 00 00 14", 0x6985);
	expect_imsi(NEW_IMSI_EF);
}

Test(ota, a_reset_forgets_the_profile_and_the_pending_refresh)
{
	m2m_ota_keyset ks = aes_keyset();
	uint8_t atr[UICC_ATR_MAX];
	expect(TERMINAL_PROFILE, 0x9000);
	packet p = rfm_packet(&SECURE, &ks, 1, UPDATE_IMSI);
	cr_assert_eq(send_packet(&p).sw, 0x9114);
	expect("80 12 00 00 10", 0x6C14);  /* Le too short: ask again with 14 */
	cr_assert_gt(uicc_reset(&t.card, atr), 0);
	expect("80 F2 00 0C", 0x9000);
	expect("80 12 00 00 14", 0x6985);
	p = rfm_packet(&SECURE, &ks, 2, "00 D6 87 00 09 " IMSI_EF);
	cr_assert_eq(send_packet(&p).sw, 0x9000, "a REFRESH without a new TERMINAL PROFILE");
	expect(TERMINAL_PROFILE, 0x9000);
	p = rfm_packet(&SECURE, &ks, 3, UPDATE_IMSI);
	cr_assert_eq(send_packet(&p).sw, 0x9114);
	rapdu r = expect("80 12 00 00 14", 0x9000);
	expect_data(&r, "D0 12 81 03 02 01 02 82 02 81 82 92 07 01 3F 00 7F FF 6F 07");  /* number 2 */
}

/* READ BINARY over RFM: the content comes back in the PoR; ADF.USIM is selected at the start
 * of the script, and the terminal's own selection and security status are untouched. */
Test(ota, read_binary_and_select_over_rfm)
{
	m2m_ota_keyset ks = aes_keyset();
	expect("00 A4 00 0C 02 2F E2", 0x9000);  /* the terminal is at EF_ICCID, under the MF */
	packet p = rfm_packet(&SECURE, &ks, 1, READ_IMSI);
	rapdu a = send_packet(&p);
	cr_assert_eq(a.sw, 0x9000);
	expect_script(&a, &ks, 1, 0x9000, IMSI_EF);
	p = rfm_packet(&SECURE, &ks, 2, "00 A4 00 0C 02 6F AD  00 B0 00 00 04");
	expect_run(&p, &ks, 2, 0x9000, "00 00 00 02");
	p = rfm_packet(&SECURE, &ks, 3, "00 A4 00 0C 02 7F FF  80 F2 00 01 12");
	expect_run(&p, &ks, 2, 0x9000,
		      "84 10 A0 00 00 00 87 10 02 FF FF FF FF 89 07 09 00 00");
	rapdu r = expect("00 B0 00 00 0A", 0x9000);  /* still EF_ICCID */
	expect_data(&r, "98 68 00 21 43 65 87 09 21 43");
	expect("00 A4 00 0C 02 6F 07", 0x6A82);      /* still under the MF */
	expect(SELECT_USIM, 0x9000);
	expect("00 A4 00 0C 02 6F 07", 0x9000);
	expect("00 D6 00 00 09 " NEW_IMSI_EF, 0x6982);  /* RFM's ADM level did not leak */
}

/* The script stops at the first command that fails; it counts, with its SW. */
Test(ota, a_script_stops_at_the_first_failure)
{
	m2m_ota_keyset ks = aes_keyset();
	packet p = rfm_packet(&SECURE, &ks, 1, READ_IMSI "  00 A4 00 0C 02 6F 99  " UPDATE_IMSI);
	expect_run(&p, &ks, 2, 0x6A82, "");
	p = rfm_packet(&SECURE, &ks, 2, "00 20 00 0A 08 A1 B2 C3 D4 E5 F6 07 18  " UPDATE_IMSI);
	expect_run(&p, &ks, 1, 0x6D00, "");  /* VERIFY is not remote */
	p = rfm_packet(&SECURE, &ks, 3, "00 B0 87 00 0A");  /* Le past the end of EF_IMSI */
	expect_run(&p, &ks, 1, 0x6C09, "");
	p = rfm_packet(&SECURE, &ks, 4, READ_IMSI " 00 D6 87 00 09 08 09");  /* cut short */
	expect_run(&p, &ks, 2, 0x6700, "");
	cr_assert_eq(counter(UICC_OTA_RFM), 4, "the packets were accepted");
	expect_imsi(IMSI_EF);
}

/* ---- refusals: nothing changes ---------------------------------------------------------- */

typedef struct snapshot {
	char db[32768];
	uint8_t ef[UICC_FILE_COUNT][UICC_EF_MAX];
	uicc_tar tar[UICC_OTA_APPS];
} snapshot;

static void snap(snapshot *s)
{
	db_dump(s->db, sizeof s->db);
	memcpy(s->ef, t.card.st.ef, sizeof s->ef);
	memcpy(s->tar, t.card.st.ota.tar, sizeof s->tar);
}

static void expect_unchanged(const snapshot *before, const char *what)
{
	static snapshot now;
	snap(&now);
	cr_assert_str_eq(now.db, before->db, "%s changed the database", what);
	cr_assert_arr_eq(now.ef, before->ef, sizeof now.ef, "%s changed a file", what);
	for (int app = 0; app < UICC_OTA_APPS; app++)
		cr_assert_eq(now.tar[app].counter, before->tar[app].counter, "%s moved a counter", what);
}

/* The packet is answered with a PoR of that status, protected or not, and changes nothing. */
static void expect_refused(const packet *p, const m2m_ota_spi *spi, const m2m_ota_keyset *ks,
			   m2m_ota_status status, int unprotected, const char *what)
{
	static snapshot before;
	por got;
	snap(&before);
	rapdu a = send_packet(p);
	cr_assert_eq(a.sw, 0x9000, "%s: SW %04X", what, a.sw);
	open_por(&a, spi, ks, &got);
	cr_assert_eq(got.r.status, status, "%s: PoR %s, expected %s", what, m2m_ota_status_name(got.r.status),
		     m2m_ota_status_name(status));
	cr_assert_eq(got.unprotected, unprotected, "%s: the PoR should %sbe protected", what, unprotected ? "not " : "");
	expect_unchanged(&before, what);
}

Test(ota, a_wrong_checksum_is_answered_unprotected)
{
	m2m_ota_keyset ks = aes_keyset(), other = ks;
	other.kid.key[0] ^= 1;
	packet p = rfm_packet(&SECURE, &other, 1, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &ks, M2M_OTA_CHECK_FAILED, 1, "a CC under another KID");
	p = rfm_packet(&SECURE, &ks, 1, UPDATE_IMSI);
	p.b[p.len - 1] ^= 0x80;
	expect_refused(&p, &SECURE, &ks, M2M_OTA_CHECK_FAILED, 1, "a flipped bit");
	expect_imsi(IMSI_EF);
}

Test(ota, counters_low_high_and_blocked)
{
	m2m_ota_keyset ks = aes_keyset();
	m2m_ota_spi one_higher = SECURE;
	one_higher.counter = M2M_OTA_COUNTER_ONE_HIGHER;
	packet p = rfm_packet(&SECURE, &ks, 5, READ_IMSI);
	expect_run(&p, &ks, 1, 0x9000, IMSI_EF);
	p = rfm_packet(&SECURE, &ks, 5, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &ks, M2M_OTA_CNTR_LOW, 0, "a replayed counter");
	p = rfm_packet(&SECURE, &ks, 4, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &ks, M2M_OTA_CNTR_LOW, 0, "a lower counter");
	p = rfm_packet(&one_higher, &ks, 7, UPDATE_IMSI);
	expect_refused(&p, &one_higher, &ks, M2M_OTA_CNTR_HIGH, 0, "two higher where one higher is asked");
	p = rfm_packet(&one_higher, &ks, 6, READ_IMSI);
	cr_assert_eq(send_packet(&p).sw, 0x9000);
	cr_assert_eq(counter(UICC_OTA_RFM), 6);

	/* the last counter a 40-bit CNTR can hold blocks the TAR */
	int imported;
	close_card();
	open_db();
	cr_assert_eq(sqlite3_exec(t.db, "UPDATE uicc_ota_tar SET counter = 1099511627775 WHERE application = 'rfm'",
				  NULL, NULL, NULL),
		     SQLITE_OK);
	cr_assert_eq(uicc_card_open(&t.card, t.db, STORAGE_KEY, NULL, &imported), 0);
	p = rfm_packet(&SECURE, &ks, 7, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &ks, M2M_OTA_CNTR_BLOCKED, 0, "a blocked counter");
	expect_imsi(IMSI_EF);
}

Test(ota, security_below_the_msl_unknown_tar_and_key_version)
{
	m2m_ota_keyset ks = aes_keyset(), kvn5 = ks;
	kvn5.kvn = 5;
	m2m_ota_spi clear = SECURE;
	clear.ciphered = 0;
	clear.por_ciphered = 0;
	packet p = rfm_packet(&clear, &ks, 1, UPDATE_IMSI);
	expect_refused(&p, &clear, &ks, M2M_OTA_INSUFFICIENT_SECURITY, 0, "CC without ciphering under MSL 16");
	clear.check = M2M_OTA_CHECK_NONE;  /* no CC: the card signs no answer to it */
	p = rfm_packet(&clear, &ks, 1, UPDATE_IMSI);
	expect_refused(&p, &clear, &ks, M2M_OTA_INSUFFICIENT_SECURITY, 1, "no checksum at all");
	uint8_t script[64];
	p = command_packet("b00099", &SECURE, &ks, 1, script, unhex(UPDATE_IMSI, script, sizeof script));
	expect_refused(&p, &SECURE, &ks, M2M_OTA_TAR_UNKNOWN, 1, "TAR B00099");
	p = rfm_packet(&SECURE, &kvn5, 1, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &ks, M2M_OTA_SECURITY_ERROR, 1, "key version 5");
	expect_imsi(IMSI_EF);
}

Test(ota, a_truncated_packet)
{
	m2m_ota_keyset ks = aes_keyset();
	packet p = rfm_packet(&SECURE, &ks, 1, UPDATE_IMSI);
	p.len -= 4;  /* CPL now says 4 bytes more than there are */
	expect_refused(&p, &SECURE, &ks, M2M_OTA_SECURITY_ERROR, 1, "a truncated packet");
	/* too short for a header (SPI, TAR): no PoR can be made; the SMS is refused */
	snapshot before;
	snap(&before);
	p.len = 10;
	envelopes e;
	sms_of(&p, 1, &e);
	expect_unchanged(&before, "10 bytes");
	cr_assert_eq(send_sms(e.tpdu[0], e.tpdu_len[0]).sw, 0x6A80);
	expect_unchanged(&before, "10 bytes");
}

/* An SMS that is no command packet, or an ENVELOPE that is no SMS-PP download: 6A80, so that the
 * terminal answers the network with RP-ERROR (TS 31.111 §7.1.1.2). */
Test(ota, not_a_command_packet)
{
	m2m_ota_keyset ks = aes_keyset();
	packet p = rfm_packet(&SECURE, &ks, 1, UPDATE_IMSI);
	envelopes e;
	snapshot before;
	snap(&before);
	sms_of(&p, 1, &e);
	uint8_t *pid = memmem(e.tpdu[0], e.tpdu_len[0], (const uint8_t[]){0x7F, 0xF6}, 2);
	cr_assert_not_null(pid);
	*pid = 0x00;  /* an ordinary short message */
	cr_assert_eq(send_sms(e.tpdu[0], e.tpdu_len[0]).sw, 0x6A80);
	*pid = 0x7F;
	uint8_t *cpi = memmem(e.tpdu[0], e.tpdu_len[0], (const uint8_t[]){0x02, 0x70, 0x00}, 3);
	cr_assert_not_null(cpi);
	cpi[1] = 0x24;  /* another information element instead of the command packet identifier */
	cr_assert_eq(send_sms(e.tpdu[0], e.tpdu_len[0]).sw, 0x6A80);
	expect("80 C2 00 00 07 D1 06 82 02 83 81 8B", 0x6A80);       /* length beyond the data */
	expect("80 C2 00 00 06 D1 04 82 02 83 81 00", 0x6A80);       /* no TPDU */
	expect("80 C2 00 00 08 D6 06 82 02 83 81 8B 00 00", 0x6A80); /* event download, not D1 */
	expect("80 C2 00 00 08 D1 06 82 02 83 81 8B 00", 0x6A80);    /* an empty TPDU */
	expect("80 C2 01 00 08 D1 06 82 02 83 81 8B 00", 0x6A86);
	expect("00 C2 00 00 08 D1 06 82 02 83 81 8B 00", 0x6E00);
	expect_unchanged(&before, "an SMS that is no command packet");
}

/* ---- concatenated packets --------------------------------------------------------------- */

Test(ota, a_packet_in_three_segments)
{
	m2m_ota_keyset ks = aes_keyset();
	char script[64 * 16] = "";
	for (int i = 0; i < 59; i++)
		strcat(script, "00 B0 87 00 02 ");
	strcat(script, READ_IMSI);
	packet p = rfm_packet(&SECURE, &ks, 1, script);
	envelopes e;
	sms_of(&p, 7, &e);
	cr_assert_eq(e.count, 3);
	/* segments 1 and 3: nothing complete, nothing run, nothing answered */
	rapdu a = send_sms(e.tpdu[0], e.tpdu_len[0]);
	cr_assert_eq(a.sw, 0x9000);
	cr_assert_eq(a.len, 0);
	a = send_sms(e.tpdu[2], e.tpdu_len[2]);
	cr_assert_eq(a.sw, 0x9000);
	cr_assert_eq(a.len, 0);
	cr_assert_eq(counter(UICC_OTA_RFM), 0);
	reopen();  /* the segments so far are kept in the database */
	a = send_sms(e.tpdu[1], e.tpdu_len[1]);
	expect_script(&a, &ks, 60, 0x9000, IMSI_EF);
	cr_assert_eq(counter(UICC_OTA_RFM), 1);
	char rows[16];
	db_text("SELECT count(*) FROM uicc_sms_segments", rows, sizeof rows);
	cr_assert_str_eq(rows, "0", "the segments of a packet that ran are not kept");
}

/* ---- PUT KEY ---------------------------------------------------------------------------- */

static packet put_key_packet(const m2m_ota_keyset *under, uint64_t counter, uint8_t replaces,
			     const m2m_ota_keyset *next, int corrupt_kcv)
{
	uint8_t apdu[M2M_RFM_PUT_KEY_MAX];
	size_t len;
	char err[128];
	cr_assert_eq(m2m_rfm_put_key_build(&under->dek, replaces, next, apdu, sizeof apdu, &len, err, sizeof err), 0,
		     "%s", err);
	if (corrupt_kcv)
		apdu[len - 1] ^= 1;  /* the DEK's key check value */
	return command_packet(ISD_TAR, &SECURE, under, counter, apdu, len);
}

static m2m_ota_keyset new_keyset(uint8_t kvn)
{
	return (m2m_ota_keyset){.kvn = kvn, .kic = key_of(0x2, "000102030405060708090a0b0c0d0e0f"),
				.kid = key_of(0x2, "101112131415161718191a1b1c1d1e1f"),
				.dek = key_of(0x2, "202122232425262728292a2b2c2d2e2f")};
}

Test(ota, put_key_replaces_the_keyset)
{
	m2m_ota_keyset old = aes_keyset(), next = new_keyset(1);
	packet p = rfm_packet(&SECURE, &old, 1, READ_IMSI);
	cr_assert_eq(send_packet(&p).sw, 0x9000);
	p = put_key_packet(&old, 1, 1, &next, 0);
	expect_run(&p, &old, 1, 0x9000, "");  /* the PoR under the old keys */
	cr_assert_eq(counter(UICC_OTA_ISD), 1);
	reopen();
	p = rfm_packet(&SECURE, &old, 2, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &old, M2M_OTA_CHECK_FAILED, 1, "the old keys");
	p = rfm_packet(&SECURE, &next, 1, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &next, M2M_OTA_CNTR_LOW, 0, "the new keys, the RFM TAR's counter kept");
	p = rfm_packet(&SECURE, &next, 2, UPDATE_IMSI);
	expect_run(&p, &next, 1, 0x9000, "");
	expect_imsi(NEW_IMSI_EF);
	/* the ISD's TAR moved to the new keyset too */
	m2m_ota_keyset third = new_keyset(1);
	third.kic.key[0] ^= 0xFF;
	p = put_key_packet(&next, 2, 1, &third, 0);
	expect_run(&p, &next, 1, 0x9000, "");
}

Test(ota, put_key_with_a_wrong_check_value_changes_no_key)
{
	m2m_ota_keyset old = aes_keyset(), next = new_keyset(1);
	packet p = put_key_packet(&old, 1, 1, &next, 1);
	expect_run(&p, &old, 1, 0x6A80, "");
	p = rfm_packet(&SECURE, &old, 1, READ_IMSI);
	expect_run(&p, &old, 1, 0x9000, IMSI_EF);
	p = rfm_packet(&SECURE, &next, 2, READ_IMSI);
	expect_refused(&p, &SECURE, &old, M2M_OTA_CHECK_FAILED, 1, "keys that were not installed");
}

Test(ota, put_key_versions_and_tars)
{
	m2m_ota_keyset old = aes_keyset(), added = new_keyset(2);
	packet p = put_key_packet(&old, 1, 3, &added, 0);
	expect_run(&p, &old, 1, 0x6A88, "");  /* no keyset 3 to replace */
	p = put_key_packet(&old, 2, 0, &added, 0);
	expect_run(&p, &old, 1, 0x9000, "");  /* a new keyset 2 */
	p = put_key_packet(&old, 3, 0, &added, 0);
	expect_run(&p, &old, 1, 0x6A80, "");  /* version 2 is taken */
	/* keyset 2 is the card's, but no TAR uses it: the TARs keep keyset 1 */
	p = rfm_packet(&SECURE, &added, 1, READ_IMSI);
	expect_refused(&p, &SECURE, &added, M2M_OTA_SECURITY_ERROR, 1, "a keyset the TAR does not use");
	/* PUT KEY is the ISD's; the ISD runs nothing else */
	uint8_t script[16], apdu[M2M_RFM_PUT_KEY_MAX];
	size_t len;
	char err[128];
	cr_assert_eq(m2m_rfm_put_key_build(&old.dek, 1, &added, apdu, sizeof apdu, &len, err, sizeof err), 0);
	p = command_packet(RFM_TAR, &SECURE, &old, 2, apdu, len);
	expect_run(&p, &old, 1, 0x6D00, "");
	p = command_packet(ISD_TAR, &SECURE, &old, 4, script, unhex(READ_IMSI, script, sizeof script));
	expect_run(&p, &old, 1, 0x6D00, "");
}

/* ---- 3DES ------------------------------------------------------------------------------- */

Test(ota, a_3des_keyset)
{
	close_card();
	unlink(t.db_path);
	open_card(DES_IMAGE);
	m2m_ota_keyset ks = {.kvn = 1, .kic = key_of(0x9, KIC3_HEX), .kid = key_of(0x5, KID3_HEX),
			     .dek = key_of(0x5, DEK3_HEX)};
	m2m_ota_keyset other = ks;
	other.kid.key[15] ^= 0x80;  /* not bit 1: DES ignores the parity bits */
	packet p = rfm_packet(&SECURE, &other, 1, UPDATE_IMSI);
	expect_refused(&p, &SECURE, &ks, M2M_OTA_CHECK_FAILED, 1, "a 3DES CC under another KID");
	p = rfm_packet(&SECURE, &ks, 1, UPDATE_IMSI);
	expect_run(&p, &ks, 1, 0x9000, "");
	expect_imsi(NEW_IMSI_EF);
	m2m_ota_keyset next = new_keyset(1);
	p = put_key_packet(&ks, 1, 1, &next, 0);
	expect_run(&p, &ks, 1, 0x9000, "");  /* AES keys under a 3DES DEK */
	p = rfm_packet(&SECURE, &next, 2, READ_IMSI);
	expect_run(&p, &next, 1, 0x9000, NEW_IMSI_EF);
}

/* ---- keys at rest and in logs ----------------------------------------------------------- */

static void expect_key_absent(const char *path, const m2m_ota_key *k, const char *what)
{
	char hex[2 * M2M_OTA_KEY_MAX + 1], upper[sizeof hex];
	expect_absent(path, k->key, k->len, what);
	m2m_hex(k->key, k->len, hex);
	for (size_t i = 0; i <= strlen(hex); i++)
		upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
	expect_absent(path, (const uint8_t *)hex, strlen(hex), what);
	expect_absent(path, (const uint8_t *)upper, strlen(upper), what);
}

static void expect_keyset_absent(const char *path, const m2m_ota_keyset *ks)
{
	expect_key_absent(path, &ks->kic, "KIc");
	expect_key_absent(path, &ks->kid, "KID");
	expect_key_absent(path, &ks->dek, "DEK");
}

Test(ota, no_key_in_the_database_or_the_log)
{
	char log[160], wal[160];
	snprintf(log, sizeof log, "%s/card.log", t.dir);
	snprintf(wal, sizeof wal, "%s-wal", t.db_path);
	cr_assert_not_null(freopen(log, "w", stderr));
	m2m_ota_keyset old = aes_keyset(), next = new_keyset(1), bad = next;
	bad.kvn = 2;
	packet p = put_key_packet(&old, 1, 1, &next, 0);
	cr_assert_eq(send_packet(&p).sw, 0x9000);
	p = put_key_packet(&next, 2, 0, &bad, 1);
	cr_assert_eq(send_packet(&p).sw, 0x9000);
	p = rfm_packet(&SECURE, &old, 1, UPDATE_IMSI);
	cr_assert_eq(send_packet(&p).sw, 0x9000);
	fflush(stderr);
	const char *paths[] = {t.db_path, wal, log};
	for (int i = 0; i < 3; i++) {
		expect_keyset_absent(paths[i], &old);
		expect_keyset_absent(paths[i], &next);
	}
	close_card();
	expect_keyset_absent(t.db_path, &next);
	char text[4096] = "";
	FILE *f = fopen(log, "r");
	cr_assert_not_null(f);
	text[fread(text, 1, sizeof text - 1, f)] = 0;
	fclose(f);
	cr_assert_not_null(strstr(text, "TAR B00010 refused: RC/CC/DS failed"), "%s", text);
}

/* ---- cards made before OTA -------------------------------------------------------------- */

/* The single sealed 'OTA' key row (TAR || KIc || KID) of earlier cards becomes keyset 1 of the
 * RFM TAR and the ISD's, without a DEK. */
Test(ota, the_keyset_row_of_an_earlier_card_is_converted)
{
	close_card();
	unlink(t.db_path);
	open_card(CARD_IMAGE);
	m2m_ota_keyset ks = aes_keyset();
	uint8_t row[35], sealed[35 + M2M_SEAL_OVERHEAD];
	unhex(RFM_TAR, row, 3);
	memcpy(row + 3, ks.kic.key, 16);
	memcpy(row + 19, ks.kid.key, 16);
	cr_assert_eq(m2m_seal(STORAGE_KEY, "OTA", 3, row, sizeof row, sealed), 0);
	cr_assert_eq(m2m_store_put_blob(t.db, "INSERT INTO uicc_key (name, sealed) VALUES (?1, ?2)", "OTA", sealed,
					sizeof sealed),
		     0);
	reopen();
	char rows[256];
	db_text("SELECT (SELECT count(*) FROM uicc_key WHERE name = 'OTA') || ' ' ||"
		" (SELECT group_concat(kvn) FROM uicc_ota_keyset) || ' ' ||"
		" (SELECT group_concat(hex(tar) || application || kvn || msl || counter, ' ')"
		" FROM (SELECT * FROM uicc_ota_tar ORDER BY tar))",
		rows, sizeof rows);
	cr_assert_str_eq(rows, "0 1 000000isd1220 B00010rfm1220");
	packet p = rfm_packet(&SECURE, &ks, 1, READ_IMSI);
	expect_run(&p, &ks, 1, 0x9000, IMSI_EF);
	m2m_ota_keyset next = new_keyset(1);
	ks.dek = next.dek;  /* the card has none: it cannot unwrap anything */
	p = put_key_packet(&ks, 1, 1, &next, 0);
	expect_run(&p, &ks, 1, 0x6985, "");
	reopen();  /* converted once */
	p = rfm_packet(&SECURE, &ks, 2, READ_IMSI);
	expect_run(&p, &ks, 1, 0x9000, IMSI_EF);
}

/* ---- the image -------------------------------------------------------------------------- */

static void expect_image_error(const char *extra, const char *error)
{
	char text[2048], want[512];
	uicc_image img;
	m2m_conf ic;
	snprintf(text, sizeof text, IMAGE_WITH("89860012345678901234", "001010123456789", "2", "%s"), extra);
	write_text(t.image, text);
	cr_assert_eq(uicc_image_read(&ic, t.image, &img), -1, "accepted: %s", extra);
	snprintf(want, sizeof want, "%s:%s", t.image, error);
	cr_assert_str_eq(ic.error, want);
	m2m_conf_free(&ic);
}

#define KEYS "  ota_tar = \"b00010\"; ota_kic = \"" KIC_HEX "\"; ota_kid = \"" KID_HEX "\";\n"

Test(ota, image_errors)
{
	expect_image_error("  ota_dek = \"" DEK_HEX "\";\n",
			   "9: card.ota_dek: needs an OTA keyset (ota_tar, ota_kic and ota_kid)");
	expect_image_error(KEYS "  ota_kic_alg = 9;\n",
			   "9: card.ota_kic: is not a key of algorithm 9 (2 AES: 32, 48 or 64 hex digits;"
			   " 5 3DES 2 keys: 32; 9 3DES 3 keys: 48)");
	expect_image_error("  ota_tar = \"b00010\"; ota_kic = \"" KIC_HEX "\"; ota_kid = \"0011\";\n",
			   "9: card.ota_kid: is not a key of algorithm 2 (2 AES: 32, 48 or 64 hex digits;"
			   " 5 3DES 2 keys: 32; 9 3DES 3 keys: 48)");
	expect_image_error(KEYS "  ota_kvn = 16;\n", "10: card.ota_kvn: 16 is out of range [1, 15]");
	expect_image_error(KEYS "  ota_msl = \"1\";\n", "10: card.ota_msl: must be exactly 2 hex digits");
	expect_image_error(KEYS "  ota_dek = \"00\";\n", "10: card.ota_dek: is not a key of the KIc's algorithm 2");
	expect_image_error("  ota_tar = \"000000\"; ota_kic = \"" KIC_HEX "\"; ota_kid = \"" KID_HEX "\";\n",
			   "9: card.ota_tar: 000000 is the issuer security domain's TAR, not the USIM's");
}
