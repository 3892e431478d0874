/* SMS-PP transport: SMS-DELIVER build and parse, concatenation, ENVELOPE, PoR user data, report. */
#include "ota/sms.h"

#include "crypto/crypto.h"

#include <criterion/criterion.h>
#include <string.h>

static const uint8_t scts[7] = {0x42, 0x60, 0x21, 0x11, 0x45, 0x00, 0x40};

typedef struct msgs {
	uint8_t tpdu[M2M_SMS_CONCAT_MAX][M2M_SMS_TPDU_MAX];
	size_t len[M2M_SMS_CONCAT_MAX], count;
} msgs;

static void split(const uint8_t *pkt, size_t len, uint8_t ref, msgs *m)
{
	char err[128];
	cr_assert_eq(m2m_sms_deliver_build(pkt, len, "+491721234567", scts, ref, m->tpdu, m->len, M2M_SMS_CONCAT_MAX,
					   &m->count, err, sizeof err),
		     0, "%s", err);
}

static m2m_sms_deliver parse(const msgs *m, size_t i)
{
	m2m_sms_deliver d;
	char err[128];
	cr_assert_eq(m2m_sms_deliver_parse(m->tpdu[i], m->len[i], &d, err, sizeof err), 0, "%s", err);
	return d;
}

/* Splits len random bytes and reassembles them in the order given (NULL: in order). */
static void split_and_join(size_t len, size_t want_count, const size_t *order)
{
	static uint8_t pkt[4096], back[4096];
	static msgs m;
	m2m_random(pkt, len);
	split(pkt, len, 0x5A, &m);
	cr_assert_eq(m.count, want_count, "%zu bytes", len);
	m2m_sms_concat c = {0};
	for (size_t k = 0; k < m.count; k++) {
		size_t i = order ? order[k] : k;
		m2m_sms_deliver d = parse(&m, i);
		cr_expect_eq(d.pid, M2M_SMS_PID_DATA_DOWNLOAD);
		cr_expect_eq(d.dcs, M2M_SMS_DCS_CLASS2_8BIT);
		cr_expect_str_eq(d.originator, "+491721234567");
		cr_expect_arr_eq(d.scts, scts, 7);
		cr_expect_eq(d.command_packet, i == 0, "IEI 70 in the first segment only");
		cr_expect_eq(d.concatenated, m.count > 1);
		cr_expect_leq(m.len[i], M2M_SMS_TPDU_MAX);
		cr_expect_eq(m2m_sms_concat_add(&c, &d), k + 1 == m.count, "segment %zu of %zu", k + 1, m.count);
	}
	cr_expect_eq(c.command_packet, 1);
	cr_assert_eq(m2m_sms_concat_take(&c, back, sizeof back), len);
	cr_expect_arr_eq(back, pkt, len);
	cr_expect_eq(c.started, 0, "take resets");
}

Test(sms, one_segment)
{
	split_and_join(1, 1, NULL);
	split_and_join(137, 1, NULL);
}

Test(sms, two_segments)
{
	split_and_join(138, 2, NULL);
	split_and_join(132 + 134, 2, NULL);
	static const size_t reversed[] = {1, 0};
	split_and_join(200, 2, reversed);
}

Test(sms, ten_segments_out_of_order)
{
	static const size_t order[] = {9, 3, 0, 5, 1, 8, 2, 7, 4, 6};
	split_and_join(132 + 8 * 134 + 1, 10, order);
}

Test(sms, too_many_segments)
{
	static uint8_t pkt[4096];
	static msgs m;
	char err[128];
	cr_expect_eq(m2m_sms_deliver_build(pkt, 132 + 31 * 134 + 1, "123", scts, 1, m.tpdu, m.len, M2M_SMS_CONCAT_MAX,
					   &m.count, err, sizeof err),
		     -1);
	cr_expect_eq(m2m_sms_deliver_build(pkt, 300, "123", scts, 1, m.tpdu, m.len, 2, &m.count, err, sizeof err), -1,
		     "max 2");
	cr_expect_eq(m2m_sms_deliver_build(pkt, 10, "12a", scts, 1, m.tpdu, m.len, 2, &m.count, err, sizeof err), -1,
		     "address with a letter");
	cr_expect_eq(m2m_sms_deliver_build(pkt, 10, "", scts, 1, m.tpdu, m.len, 2, &m.count, err, sizeof err), -1);
	cr_expect_eq(m2m_sms_deliver_build(pkt, 10, "123456789012345678901", scts, 1, m.tpdu, m.len, 2, &m.count, err,
					   sizeof err),
		     -1, "21 digits");
}

Test(sms, tpdu_layout_of_a_single_message)
{
	/* pySim's 0619 command packet (test_scp80.c) in one SMS-DELIVER, with TP-UDL computed right. */
	uint8_t pkt[34];
	cr_assert_eq(m2m_unhex("00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f", pkt, 34), 0);
	msgs m;
	char err[128], hex[2 * M2M_SMS_TPDU_MAX + 1];
	cr_assert_eq(m2m_sms_deliver_build(pkt, 34, "12345", scts, 0, m.tpdu, m.len, 1, &m.count, err, sizeof err),
		     0);
	m2m_hex(m.tpdu[0], m.len[0], hex);
	cr_expect_str_eq(hex, "44"                   /* SMS-DELIVER, TP-MMS, TP-UDHI */
			      "05812143f5"           /* TP-OA: 5 digits, 81, 12345F */
			      "7ff6"                 /* TP-PID, TP-DCS */
			      "42602111450040"       /* TP-SCTS */
			      "25"                   /* TP-UDL: 37 = 3 + 34 */
			      "027000"               /* UDHL, command packet identifier */
			      "00201506193535b00011ae733256918d050b87c94fbfe12e4dc402f262c41cf67f2f");
}

static m2m_sms_concat fed(msgs *m, size_t upto)
{
	m2m_sms_concat c = {0};
	for (size_t i = 0; i < upto; i++) {
		m2m_sms_deliver d = parse(m, i);
		cr_assert_eq(m2m_sms_concat_add(&c, &d), 0);
	}
	return c;
}

Test(sms, duplicate_segment)
{
	static uint8_t pkt[400];
	static msgs m;
	m2m_random(pkt, sizeof pkt);
	split(pkt, sizeof pkt, 7, &m);
	cr_assert_eq(m.count, 3);
	m2m_sms_concat c = fed(&m, 2);
	m2m_sms_deliver d = parse(&m, 1);
	cr_expect_eq(m2m_sms_concat_add(&c, &d), 0, "the same segment again is harmless");
	uint8_t other[M2M_SMS_UD_MAX];
	memcpy(other, d.ud, d.ud_len);
	other[0] ^= 1;
	d.ud = other;
	cr_expect_eq(m2m_sms_concat_add(&c, &d), -1, "the same number with other data");
	d = parse(&m, 2);
	cr_expect_eq(m2m_sms_concat_add(&c, &d), 1, "still complete with the original");
	uint8_t back[400];
	cr_assert_eq(m2m_sms_concat_take(&c, back, sizeof back), sizeof pkt);
	cr_expect_arr_eq(back, pkt, sizeof pkt);
}

Test(sms, wrong_total)
{
	static uint8_t pkt[400];
	static msgs m;
	split(pkt, sizeof pkt, 7, &m);
	m2m_sms_concat c = fed(&m, 1);
	m2m_sms_deliver d = parse(&m, 1);
	d.total = 4;
	cr_expect_eq(m2m_sms_concat_add(&c, &d), -1);
	d.total = 3;
	d.seq = 4;
	cr_expect_eq(m2m_sms_concat_add(&c, &d), -1, "sequence beyond the total");
	d.seq = 2;
	cr_expect_eq(m2m_sms_concat_add(&c, &d), 0, "state unchanged by the refusals");
	uint8_t back[400];
	cr_expect_eq(m2m_sms_concat_take(&c, back, sizeof back), 0, "incomplete");
}

Test(sms, new_reference_restarts)
{
	static uint8_t a[300], b[300], back[300];
	static msgs ma, mb;
	m2m_random(a, sizeof a);
	m2m_random(b, sizeof b);
	split(a, sizeof a, 1, &ma);
	split(b, sizeof b, 2, &mb);
	m2m_sms_concat c = fed(&ma, 2);
	for (size_t i = 0; i < mb.count; i++) {
		m2m_sms_deliver d = parse(&mb, i);
		cr_expect_eq(m2m_sms_concat_add(&c, &d), i + 1 == mb.count);
	}
	cr_assert_eq(m2m_sms_concat_take(&c, back, sizeof back), sizeof b);
	cr_expect_arr_eq(back, b, sizeof b);
}

Test(sms, take_too_small)
{
	static uint8_t pkt[200], back[100];
	static msgs m;
	split(pkt, sizeof pkt, 1, &m);
	m2m_sms_concat c = {0};
	for (size_t i = 0; i < m.count; i++) {
		m2m_sms_deliver d = parse(&m, i);
		m2m_sms_concat_add(&c, &d);
	}
	cr_expect_eq(m2m_sms_concat_take(&c, back, sizeof back), 0);
}

Test(sms, malformed_deliver)
{
	uint8_t pkt[20] = {0};
	msgs m;
	m2m_sms_deliver d;
	char err[128];
	cr_assert_eq(m2m_sms_deliver_build(pkt, sizeof pkt, "12345", scts, 0, m.tpdu, m.len, 1, &m.count, err,
					   sizeof err),
		     0);
	uint8_t t[M2M_SMS_TPDU_MAX];
	size_t n = m.len[0];
	for (size_t cut = 0; cut < n; cut++) {
		memcpy(t, m.tpdu[0], cut);
		cr_expect_eq(m2m_sms_deliver_parse(t, cut, &d, err, sizeof err), -1, "cut at %zu", cut);
	}
	memcpy(t, m.tpdu[0], n);
	t[1 + 5 + 9] = 0x22;  /* TP-UDL one less */
	cr_expect_eq(m2m_sms_deliver_parse(t, n, &d, err, sizeof err), -1, "TP-UDL");
	memcpy(t, m.tpdu[0], n);
	t[1 + 5 + 1] = 0x00;  /* TP-DCS: GSM 7-bit */
	cr_expect_eq(m2m_sms_deliver_parse(t, n, &d, err, sizeof err), -1, "7-bit");
	memcpy(t, m.tpdu[0], n);
	t[1 + 5 + 10] = 0x30;  /* UDHL beyond the user data */
	cr_expect_eq(m2m_sms_deliver_parse(t, n, &d, err, sizeof err), -1, "UDHL");
	memcpy(t, m.tpdu[0], n);
	t[0] = 0x01;  /* SMS-SUBMIT */
	cr_expect_eq(m2m_sms_deliver_parse(t, n, &d, err, sizeof err), -1, "MTI");
	memcpy(t, m.tpdu[0], n);
	cr_expect_eq(m2m_sms_deliver_parse(t, n, &d, err, sizeof err), 0);
	cr_expect_str_eq(d.originator, "12345");
	cr_expect_eq(d.ud_len, sizeof pkt);
}

Test(sms, envelope_round_trip)
{
	static msgs m;
	uint8_t pkt[120], env[256];
	m2m_random(pkt, sizeof pkt);
	split(pkt, sizeof pkt, 0, &m);
	size_t n;
	cr_assert_eq(m2m_sms_pp_download_build(m.tpdu[0], m.len[0], env, sizeof env, &n), 0);
	/* A TPDU over 127 bytes: both lengths take two bytes. */
	cr_assert_gt(m.len[0], 127);
	cr_expect_eq(env[0], 0xD1);
	cr_expect_eq(env[1], 0x81);
	cr_expect_eq(env[2], n - 3);
	uint8_t ids[] = {0x82, 0x02, 0x83, 0x81, 0x8B, 0x81};
	cr_expect_arr_eq(env + 3, ids, sizeof ids);
	const uint8_t *tpdu;
	size_t tlen;
	cr_assert_eq(m2m_sms_pp_download_parse(env, n, &tpdu, &tlen), 0);
	cr_expect_eq(tlen, m.len[0]);
	cr_expect_arr_eq(tpdu, m.tpdu[0], tlen);

	cr_expect_eq(m2m_sms_pp_download_parse(env, n - 1, &tpdu, &tlen), -1, "truncated");
	env[5] = 0x82;  /* source UICC, not network */
	cr_expect_eq(m2m_sms_pp_download_parse(env, n, &tpdu, &tlen), -1, "device identities");
	env[5] = 0x83;
	env[0] = 0xD0;
	cr_expect_eq(m2m_sms_pp_download_parse(env, n, &tpdu, &tlen), -1, "tag");
	cr_expect_eq(m2m_sms_pp_download_build(m.tpdu[0], m.len[0], env, 40, &n), -1, "cap");
}

Test(sms, envelope_short_and_without_cr_bits)
{
	uint8_t env[] = {0xD1, 0x09, 0x02, 0x02, 0x83, 0x81, 0x0B, 0x03, 0xAA, 0xBB, 0xCC};
	const uint8_t *tpdu;
	size_t tlen;
	cr_assert_eq(m2m_sms_pp_download_parse(env, sizeof env, &tpdu, &tlen), 0);
	cr_expect_eq(tlen, 3);
	cr_expect_eq(tpdu[0], 0xAA);
	env[1] = 0x81;  /* 81 for a length below 128 */
	cr_expect_eq(m2m_sms_pp_download_parse(env, sizeof env, &tpdu, &tlen), -1);
}

Test(sms, por_user_data_and_report)
{
	uint8_t por[19], ud[64], rep[80];
	cr_assert_eq(m2m_unhex("027100000e0ab0001100000000000000016132", por, sizeof por), 0);
	const uint8_t *pkt;
	size_t plen, n, rn;
	cr_assert_eq(m2m_sms_por_ud_parse(por, sizeof por, &pkt, &plen), 0);
	cr_expect_eq(plen, 16);
	cr_expect_eq(pkt[0], 0x00);
	cr_expect_eq(pkt[1], 0x0e);
	cr_assert_eq(m2m_sms_por_ud_build(pkt, plen, ud, sizeof ud, &n), 0);
	cr_expect_eq(n, sizeof por);
	cr_expect_arr_eq(ud, por, n);

	cr_assert_eq(m2m_sms_report_build(ud, n, rep, sizeof rep, &rn), 0);
	uint8_t head[] = {0x40, 0x07, 0x7F, 0xF6, (uint8_t)n};
	cr_expect_arr_eq(rep, head, sizeof head);
	const uint8_t *back;
	size_t blen;
	cr_assert_eq(m2m_sms_report_parse(rep, rn, &back, &blen), 0);
	cr_expect_eq(blen, n);
	cr_expect_arr_eq(back, por, n);
	cr_expect_eq(m2m_sms_report_parse(rep, rn - 1, &back, &blen), -1, "TP-UDL");
	cr_expect_eq(m2m_sms_report_build(ud, n, rep, 10, &rn), -1, "cap");

	/* In place: the packet is moved behind the header it gets. */
	uint8_t inplace[32] = {0xAA, 0xBB, 0xCC, 0xDD};
	cr_assert_eq(m2m_sms_por_ud_build(inplace, 4, inplace, sizeof inplace, &n), 0);
	uint8_t moved[] = {0x02, 0x71, 0x00, 0xAA, 0xBB, 0xCC, 0xDD};
	cr_expect_arr_eq(inplace, moved, sizeof moved);
	cr_assert_eq(m2m_sms_report_build(inplace, 7, inplace, sizeof inplace, &n), 0);
	cr_expect_arr_eq(inplace + 5, moved, sizeof moved);

	uint8_t cmd_ud[] = {0x02, 0x70, 0x00, 0x01};
	cr_expect_eq(m2m_sms_por_ud_parse(cmd_ud, sizeof cmd_ud, &pkt, &plen), -1, "a command, not a PoR");
	uint8_t bad[] = {0x05, 0x71, 0x00};
	cr_expect_eq(m2m_sms_por_ud_parse(bad, sizeof bad, &pkt, &plen), -1, "UDHL");
}

Test(sms, report_without_user_data)
{
	uint8_t rep[] = {0x00, 0x00};
	const uint8_t *ud;
	size_t n;
	cr_assert_eq(m2m_sms_report_parse(rep, sizeof rep, &ud, &n), 0);
	cr_expect_eq(n, 0);
	uint8_t ext[] = {0x00, 0x87, 0x00};
	cr_expect_eq(m2m_sms_report_parse(ext, sizeof ext, &ud, &n), -1, "TP-PI extension");
}
