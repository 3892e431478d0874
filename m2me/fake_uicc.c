/*
 * The fake UICC of the m2me tests: the MF with EF_ICCID and ADF.USIM with EF_IMSI and EF_AD,
 * SELECT (by AID or file identifier, P2 = 0C), READ BINARY (6Cxx when Le is too long) and
 * AUTHENTICATE in the 3G context over the USIM functions of lib/aka, as TS 31.102 §7.1.2
 * answers it: DB with RES, CK, IK and Kc, DC with AUTS, or 98 62. Its toolkit takes TERMINAL
 * PROFILE, answers ENVELOPE with its PoR (and may then rewrite EF_IMSI and queue a REFRESH, as
 * an OTA of Alternative 3a does, answering 91XX), FETCH and TERMINAL RESPONSE; a reset ends the
 * proactive session. For Alternative 3b it has a certificate (GET DATA), a challenge, and a shadow
 * slot holding B's IMSI and keys that the STORE DATA chain marks loaded, SWITCH makes active
 * (REFRESH queued when announced, as uicc/shadow.c does), COMMIT keeps and ROLLBACK undoes. It can
 * misbehave on demand.
 */
#include "m2me_harness.h"

#include "aka/gsm.h"
#include "ota/sms.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

const uint8_t new_ef_imsi[M2ME_EF_IMSI_LEN] = {0x08, 0x09, 0x10, 0x20, 0x00, 0x00, 0x00, 0x00, 0x50};
static const uint8_t ef_imsi_bad[] = {0x08, 0x09, 0x10, 0x1A, 0x00, 0x00, 0x00, 0x00, 0x10};
static const uint8_t ef_ad[] = {0x00, 0x00, 0x00, 0x02};
static const uint8_t ef_iccid[] = {0x98, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x10, 0xF9};

static uint16_t card_select(const uint8_t *a, size_t len)
{
	if (len < 5 || (size_t)a[4] + 5 != len || a[3] != 0x0C)
		return 0x6700;
	if (a[2] == 0x04) {
		if (a[4] != M2ME_USIM_AID_LEN || memcmp(a + 5, m2me_usim_aid, M2ME_USIM_AID_LEN))
			return 0x6A82;
		fake_card.in_adf = 1;
		fake_card.ef = 0;
		return 0x9000;
	}
	if (a[2] != 0x00 || a[4] != 2)
		return 0x6A86;
	uint16_t fid = (uint16_t)(a[5] << 8 | a[6]);
	if (fid == M2ME_FID_MF) {
		fake_card.in_adf = 0;
		fake_card.ef = 0;
	} else if ((fid == M2ME_FID_ICCID && !fake_card.in_adf) ||
		   ((fid == M2ME_FID_IMSI || fid == M2ME_FID_AD) && fake_card.in_adf)) {
		fake_card.ef = fid;
	} else {
		return 0x6A82;
	}
	return 0x9000;
}

static uint16_t card_read(const uint8_t *a, size_t len, uint8_t *out, size_t *out_len)
{
	if (len != 5)
		return 0x6700;
	const uint8_t *imsi = fake_card.fault == CARD_BAD_IMSI ? ef_imsi_bad : fake_card.ef_imsi;
	const uint8_t *file = fake_card.ef == M2ME_FID_IMSI ? imsi
			      : fake_card.ef == M2ME_FID_AD  ? ef_ad
			      : fake_card.ef == M2ME_FID_ICCID ? ef_iccid
							       : NULL;
	size_t size = fake_card.ef == M2ME_FID_IMSI ? 9
		      : fake_card.ef == M2ME_FID_AD ? (fake_card.fault == CARD_SHORT_AD ? 3 : 4)
						    : 10;
	if (!file)
		return 0x6986;
	size_t le = a[4] ? a[4] : 256;
	if (le > size)
		return (uint16_t)(0x6C00 | size);
	memcpy(out, file, le);
	*out_len = le;
	return 0x9000;
}

static size_t put_lv(uint8_t *out, const uint8_t *v, size_t len)
{
	out[0] = (uint8_t)len;
	memcpy(out + 1, v, len);
	return 1 + len;
}

static uint16_t card_authenticate(const uint8_t *a, size_t len, uint8_t *out, size_t *out_len)
{
	fake_card.authenticates++;
	if (!fake_card.in_adf)
		return 0x6985;
	if (len != 40 || a[2] != 0x00 || a[3] != 0x81 || a[4] != 0x22 || a[5] != 16 || a[22] != 16 || a[39] != 0)
		return 0x6700;
	if (fake_card.fault == CARD_AUTH_REFUSED)
		return 0x6982;
	if (fake_card.fault == CARD_GARBLED_AUTH) {
		static const uint8_t garbled[] = {0xDB, 0x03, 0x01, 0x02, 0x03};
		memcpy(out, garbled, sizeof garbled);
		*out_len = sizeof garbled;
		return 0x9000;
	}
	m2m_aka_usim_result r;
	m2m_aka_status s = m2m_aka_usim_authenticate(fake_card.on_b ? &fake_card.m_b : &fake_card.m,
						     fake_card.on_b ? &fake_card.sqn_b : &fake_card.sqn, a + 6, a + 23, &r);
	size_t n = 0;
	if (s == M2M_AKA_OK) {
		uint8_t kc[8];
		m2m_gsm_c3(r.ck, r.ik, kc);
		out[n++] = 0xDB;
		n += put_lv(out + n, r.res, 8);
		n += put_lv(out + n, r.ck, 16);
		n += put_lv(out + n, r.ik, 16);
		n += put_lv(out + n, kc, 8);
	} else if (s == M2M_AKA_SYNC_FAILURE) {
		out[n++] = 0xDC;
		n += put_lv(out + n, r.auts, 14);
	}
	*out_len = n;
	return s == M2M_AKA_MAC_FAILURE ? 0x9862 : s == M2M_AKA_ERROR ? 0x6F00 : 0x9000;
}

/* ---- the toolkit --------------------------------------------------------------------------------- */

void fake_card_queue(uint8_t type, uint8_t qualifier)
{
	/* the file list of a file change notification: EF_IMSI by its path 3F00 7FFF 6F07 */
	static const uint8_t files[] = {0x01, 0x3F, 0x00, 0x7F, 0xFF, 0x6F, 0x07};
	m2m_cat_command c = {.number = 1, .type = type, .qualifier = qualifier};
	if (type == M2M_CAT_CMD_REFRESH && (qualifier == M2M_CAT_REFRESH_FCN || qualifier == M2M_CAT_REFRESH_INIT_FCN)) {
		memcpy(c.files, files, sizeof files);
		c.files_len = sizeof files;
	}
	size_t *len = &fake_card.proactive_len;
	cr_assert_eq(m2m_cat_command_build(&c, fake_card.proactive, sizeof fake_card.proactive, len), 0);
}

/* 9000, or 91XX while a proactive command is pending. */
static uint16_t toolkit_sw(void)
{
	return fake_card.proactive_len ? (uint16_t)(0x9100 | fake_card.proactive_len) : 0x9000;
}

static uint16_t card_profile(const uint8_t *a, size_t len)
{
	if (len < 6 || (size_t)a[4] + 5 != len)
		return 0x6700;
	fake_card.profiles++;
	fake_card.refresh_announced = m2m_cat_profile_has(a + 5, a[4], M2M_CAT_PROFILE_REFRESH);
	if (fake_card.refresh_on_profile && fake_card.refresh_announced)
		fake_card_queue(M2M_CAT_CMD_REFRESH, (uint8_t)fake_card.refresh_qualifier);
	return toolkit_sw();
}

static uint16_t card_envelope(const uint8_t *a, size_t len, uint8_t *out, size_t *out_len)
{
	fake_card.envelopes++;
	memcpy(fake_card.envelope, a, len);
	fake_card.envelope_len = len;
	const uint8_t *tpdu;
	size_t tpdu_len;
	if (len < 6 || (size_t)a[4] + 5 != len || m2m_sms_pp_download_parse(a + 5, a[4], &tpdu, &tpdu_len))
		return 0x6700;
	if (fake_card.envelope_sw)
		return fake_card.envelope_sw;
	if (fake_card.ota_ef_imsi) {  /* the secured packet's UPDATE BINARY of EF_IMSI, and its last stage */
		memcpy(fake_card.ef_imsi, fake_card.ota_ef_imsi, sizeof fake_card.ef_imsi);
		fake_card.ota_ef_imsi = NULL;
		if (fake_card.refresh_announced)
			fake_card_queue(M2M_CAT_CMD_REFRESH, (uint8_t)fake_card.refresh_qualifier);
	}
	memcpy(out, fake_card.por, fake_card.por_len);
	*out_len = fake_card.por_len;
	return toolkit_sw();
}

static uint16_t card_fetch(const uint8_t *a, size_t len, uint8_t *out, size_t *out_len)
{
	fake_card.fetches++;
	if (!fake_card.proactive_len)
		return 0x6F00;
	if (len != 5 || a[4] != fake_card.proactive_len)
		return (uint16_t)(0x6C00 | fake_card.proactive_len);
	memcpy(out, fake_card.proactive, fake_card.proactive_len);
	*out_len = fake_card.proactive_len;
	return 0x9000;
}

static uint16_t card_terminal_response(const uint8_t *a, size_t len)
{
	fake_card.responses++;
	memcpy(fake_card.response, a, len);
	fake_card.response_len = len;
	if (!fake_card.proactive_len)
		return 0x6F00;
	fake_card.proactive_len = 0;
	return 0x9000;
}

/* ---- Alternative 3b ------------------------------------------------------------------------------- */

/* GET DATA 80 CA P1 P2 Le: the certificate from offset P1 P2, Le 00 what is left up to 256. */
static uint16_t card_get_data(const uint8_t *a, size_t len, uint8_t *out, size_t *out_len)
{
	size_t offset = (size_t)(a[2] << 8 | a[3]);
	if (len != 5)
		return 0x6700;
	if (offset >= sizeof fake_card.cert)
		return 0x6B00;
	size_t left = sizeof fake_card.cert - offset, le = a[4] ? a[4] : 256;
	if (a[4] && le > left)
		return (uint16_t)(0x6C00 | left);
	*out_len = le < left ? le : left;
	memcpy(out, fake_card.cert + offset, *out_len);
	return 0x9000;
}

static uint16_t card_get_challenge(const uint8_t *a, size_t len, uint8_t *out, size_t *out_len)
{
	if (len != 5 || a[2] || a[3] || a[4] != 16)
		return 0x6A86;
	for (size_t i = 0; i < 16; i++)
		fake_card.challenge[i] = (uint8_t)(0xC0 + i + fake_card.commands);
	memcpy(out, fake_card.challenge, 16);
	*out_len = 16;
	return 0x9000;
}

static uint16_t card_store_data(const uint8_t *a, size_t len)
{
	if (len < 6 || (size_t)a[4] + 5 != len || (a[2] != 0x00 && a[2] != 0x80))
		return 0x6700;
	if (a[3] == 0) {
		fake_card.stored_len = 0;
		fake_card.blocks = 0;
	} else if (a[3] != fake_card.blocks) {
		return 0x6A86;
	}
	if (fake_card.stored_len + a[4] > sizeof fake_card.stored)
		return 0x6A84;
	memcpy(fake_card.stored + fake_card.stored_len, a + 5, a[4]);
	fake_card.stored_len += a[4];
	fake_card.blocks++;
	fake_card.loaded = a[2] == 0x80;
	return 0x9000;
}

/* SWITCH and ROLLBACK: the slot's IMSI and keys trade places with the active ones. */
static uint16_t card_swap(void)
{
	uint8_t ef[M2ME_EF_IMSI_LEN];
	memcpy(ef, fake_card.ef_imsi, sizeof ef);
	memcpy(fake_card.ef_imsi, fake_card.ef_imsi_shadow, sizeof ef);
	memcpy(fake_card.ef_imsi_shadow, ef, sizeof ef);
	fake_card.on_b = !fake_card.on_b;
	if (fake_card.refresh_announced)
		fake_card_queue(M2M_CAT_CMD_REFRESH, M2M_CAT_REFRESH_INIT_FCN);
	return toolkit_sw();
}

static uint16_t card_credentials(uint8_t ins)
{
	if (ins == 0x38 && fake_card.loaded && !fake_card.switched) {
		fake_card.switched = 1;
		return card_swap();
	}
	if (ins == 0x3A && fake_card.switched) {
		fake_card.commits++;
		fake_card.switched = fake_card.loaded = 0;
		return 0x9000;
	}
	if (ins == 0x3C && fake_card.switched) {
		fake_card.rollbacks++;
		fake_card.switched = 0;
		return card_swap();
	}
	return 0x6985;
}

static int held(m2m_node *n, m2m_request *req, uint8_t cla, uint8_t ins)
{
	if ((ins == 0xC2 && fake_card.hold_envelope) || (ins == 0x12 && fake_card.hold_fetch)) {
		ins == 0xC2 ? fake_card.envelopes++ : fake_card.fetches++;
		m2m_defer(n, req);  /* freed with the node */
		return 1;
	}
	if (cla == 0x80 && fake_card.hold_ins && ins == fake_card.hold_ins) {
		fake_card.hold_ins = 0;
		m2m_defer(n, req);
		return 1;
	}
	return 0;
}

static uint16_t card_command(const uint8_t *a, size_t len, uint8_t *out, size_t *out_len)
{
	if (a[0] == 0x80)
		return a[1] == 0x10   ? card_profile(a, len)
		       : a[1] == 0xC2 ? card_envelope(a, len, out, out_len)
		       : a[1] == 0x12 ? card_fetch(a, len, out, out_len)
		       : a[1] == 0x14 ? card_terminal_response(a, len)
		       : a[1] == 0xCA ? card_get_data(a, len, out, out_len)
		       : a[1] == 0x84 ? card_get_challenge(a, len, out, out_len)
		       : a[1] == 0xE2 ? card_store_data(a, len)
		       : a[1] == 0x38 || a[1] == 0x3A || a[1] == 0x3C ? card_credentials(a[1])
				      : 0x6D00;
	return a[1] == 0xA4   ? card_select(a, len)
	       : a[1] == 0xB0 ? card_read(a, len, out, out_len)
	       : a[1] == 0x88 ? card_authenticate(a, len, out, out_len)
			      : 0x6D00;
}

void fake_card_serve(m2m_node *n, m2m_request *req, void *arg)
{
	if (req->env.type == M2M_MSG_CARD_RESET) {
		static const uint8_t atr[] = {0x3B, 0x9F, 0x96, 0x80, 0x1F, 0xC7, 0x80, 0x31, 0xE0, 0x73, 0xFE};
		fake_card.resets++;
		fake_card.in_adf = 0;
		fake_card.ef = 0;
		fake_card.proactive_len = 0;  /* a reset ends the proactive session */
		M2M_CARD_ATR *body = M2M_CARD_ATR_new();
		ASN1_OCTET_STRING_set(body->atr, atr, sizeof atr);
		m2m_reply(n, req, M2M_MSG_CARD_ATR, body);
		M2M_CARD_ATR_free(body);
		return;
	}
	if (req->env.type != M2M_MSG_APDU_COMMAND) {
		m2m_refuse(n, req, M2M_R_UNEXPECTED_MESSAGE, "a card");
		return;
	}
	const ASN1_OCTET_STRING *c = ((M2M_APDU_COMMAND *)req->env.body)->apdu;
	const uint8_t *a = ASN1_STRING_get0_data(c);
	size_t len = (size_t)ASN1_STRING_length(c), out_len = 0;
	uint8_t out[256];
	uint16_t sw = 0x6700;
	fake_card.commands++;
	if (len >= 2) {
		size_t used = strlen(fake_card.ins_log);
		snprintf(fake_card.ins_log + used, sizeof fake_card.ins_log - used, "%02X%02X ", a[0], a[1]);
	}
	if (len >= 4 && held(n, req, a[0], a[1]))
		return;
	if (len >= 4)
		sw = card_command(a, len, out, &out_len);
	M2M_APDU_RESPONSE *r = M2M_APDU_RESPONSE_new();
	ASN1_OCTET_STRING_set(r->data, out, (int)out_len);
	r->status_word = sw;
	m2m_reply(n, req, M2M_MSG_APDU_RESPONSE, r);
	M2M_APDU_RESPONSE_free(r);
}

