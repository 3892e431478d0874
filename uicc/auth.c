/*
 * AUTHENTICATE (TS 31.102 §7.1.2) in the USIM application: the 3G context runs AKA
 * (TS 33.102 §6.3.3) against the card's SQN array; the GSM context answers a GSM challenge
 * from the same K with the conversion functions c2 and c3 (TS 33.102 §6.8.1.2).
 */
#include "commands.h"

#include "aka/gsm.h"
#include "crypto/crypto.h"

#include <string.h>

enum {
	CONTEXT_GSM = 0x80,  /* P2: specific reference data, GSM security context */
	CONTEXT_3G = 0x81,   /* P2: specific reference data, 3G security context */
	TAG_SUCCESS = 0xDB,
	TAG_SYNC_FAILURE = 0xDC,
	RAND_LEN = 16,
	AUTN_LEN = 16,
};

static size_t put_lv(uint8_t *out, const uint8_t *value, size_t len)
{
	out[0] = (uint8_t)len;
	memcpy(out + 1, value, len);
	return 1 + len;
}

/* 'DB' L RES L CK L IK L Kc: Kc is included because the card offers GSM access. */
static size_t success(const m2m_aka_usim_result *r, uint8_t *out)
{
	uint8_t kc[8];
	size_t n = 0;
	m2m_gsm_c3(r->ck, r->ik, kc);
	out[n++] = TAG_SUCCESS;
	n += put_lv(out + n, r->res, sizeof r->res);
	n += put_lv(out + n, r->ck, sizeof r->ck);
	n += put_lv(out + n, r->ik, sizeof r->ik);
	n += put_lv(out + n, kc, sizeof kc);
	m2m_wipe(kc, sizeof kc);
	return n;
}

static uint16_t answer_3g(m2m_aka_status status, const m2m_aka_usim_result *r, uint8_t *out, size_t *out_len)
{
	switch (status) {
	case M2M_AKA_OK:
		*out_len = success(r, out);
		return SW_OK;
	case M2M_AKA_SYNC_FAILURE:
		out[0] = TAG_SYNC_FAILURE;
		*out_len = 1 + put_lv(out + 1, r->auts, sizeof r->auts);
		return SW_OK;
	case M2M_AKA_MAC_FAILURE:
		return SW_AUTH_MAC_FAILURE;
	default:
		return SW_TECHNICAL_PROBLEM;
	}
}

/* Data: L RAND L AUTN. The SQN array moves only on success (m2m_aka_usim_authenticate). */
static uint16_t authenticate_3g(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	if (cmd->lc != 1 + RAND_LEN + 1 + AUTN_LEN)
		return SW_WRONG_LENGTH;
	if (cmd->data[0] != RAND_LEN || cmd->data[1 + RAND_LEN] != AUTN_LEN)
		return SW_WRONG_DATA;
	m2m_aka_usim_result r;
	m2m_aka_status status = m2m_aka_usim_authenticate(&c->milenage, &c->st.sqn, cmd->data + 1,
							  cmd->data + 2 + RAND_LEN, &r);
	uint16_t sw = answer_3g(status, &r, out, out_len);
	m2m_wipe(&r, sizeof r);
	return sw;
}

/* Data: L RAND. Answer: 04 SRES 08 Kc, with SRES = c2(RES) and Kc = c3(CK, IK). */
static uint16_t authenticate_gsm(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	if (cmd->lc != 1 + RAND_LEN)
		return SW_WRONG_LENGTH;
	if (cmd->data[0] != RAND_LEN)
		return SW_WRONG_DATA;
	struct { uint8_t res[8], ck[16], ik[16], ak[6], sres[4], kc[8]; } k;
	uint16_t sw = SW_TECHNICAL_PROBLEM;
	if (m2m_milenage_f2345(&c->milenage, cmd->data + 1, k.res, k.ck, k.ik, k.ak) == 0 &&
	    m2m_gsm_c2(k.res, sizeof k.res, k.sres) == 0) {
		m2m_gsm_c3(k.ck, k.ik, k.kc);
		size_t n = put_lv(out, k.sres, sizeof k.sres);
		*out_len = n + put_lv(out + n, k.kc, sizeof k.kc);
		sw = SW_OK;
	}
	m2m_wipe(&k, sizeof k);
	return sw;
}

/* Only in the USIM application: it must have been selected by its AID since the last reset;
 * selecting other files afterwards does not end it. */
uint16_t uicc_cmd_authenticate(uicc_card *c, const uicc_command *cmd, uint8_t *out, size_t *out_len)
{
	if (cmd->p1 != 0x00 || (cmd->p2 != CONTEXT_3G && cmd->p2 != CONTEXT_GSM))
		return SW_WRONG_P1P2;
	if (!c->st.s.app_active)
		return SW_CONDITIONS_NOT_SATISFIED;
	if (cmd->p2 == CONTEXT_3G)
		return authenticate_3g(c, cmd, out, out_len);
	return authenticate_gsm(c, cmd, out, out_len);
}
