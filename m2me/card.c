/* Command APDUs for the UICC and the decoders of what it answers (see card.h for the sources). */
#include "card.h"

#include <string.h>

const uint8_t m2me_usim_aid[M2ME_USIM_AID_LEN] = {0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF,
						   0xFF, 0xFF, 0xFF, 0x89, 0x07, 0x09, 0x00, 0x00};

enum {
	CLA = 0x00,
	CLA_CAT = 0x80,            /* TS 102 221 table 10.5: the CAT commands are of class 80 */
	INS_TERMINAL_PROFILE = 0x10,
	INS_FETCH = 0x12,
	INS_TERMINAL_RESPONSE = 0x14,
	INS_ENVELOPE = 0xC2,
	INS_SELECT = 0xA4,
	INS_READ_BINARY = 0xB0,
	INS_AUTHENTICATE = 0x88,
	SELECT_BY_FID = 0x00,      /* P1: MF, DF or EF by file identifier */
	SELECT_BY_DF_NAME = 0x04,  /* P1: an application by its AID */
	SELECT_NO_DATA = 0x0C,     /* P2: no FCP wanted, so no Le */
	AUTH_3G_CONTEXT = 0x81,    /* P2 of AUTHENTICATE: specific reference data, 3G context */
	TAG_SUCCESS = 0xDB,
	TAG_SYNCH_FAILURE = 0xDC,
};

static size_t header(uint8_t *out, uint8_t ins, uint8_t p1, uint8_t p2)
{
	out[0] = CLA;
	out[1] = ins;
	out[2] = p1;
	out[3] = p2;
	return 4;
}

size_t m2me_apdu_select_aid(const uint8_t *aid, size_t aid_len, uint8_t *out)
{
	size_t n = header(out, INS_SELECT, SELECT_BY_DF_NAME, SELECT_NO_DATA);
	out[n++] = (uint8_t)aid_len;
	memcpy(out + n, aid, aid_len);
	return n + aid_len;
}

size_t m2me_apdu_select_fid(uint16_t fid, uint8_t *out)
{
	size_t n = header(out, INS_SELECT, SELECT_BY_FID, SELECT_NO_DATA);
	out[n++] = 2;
	out[n++] = (uint8_t)(fid >> 8);
	out[n++] = (uint8_t)fid;
	return n;
}

size_t m2me_apdu_read_binary(uint16_t offset, uint8_t le, uint8_t *out)
{
	/* P1 b8 must stay 0: a set bit would name a short file identifier instead of an offset */
	size_t n = header(out, INS_READ_BINARY, (uint8_t)((offset >> 8) & 0x7F), (uint8_t)offset);
	out[n++] = le;
	return n;
}

size_t m2me_apdu_authenticate(const uint8_t rand[16], const uint8_t autn[16], uint8_t *out)
{
	size_t n = header(out, INS_AUTHENTICATE, 0x00, AUTH_3G_CONTEXT);
	out[n++] = 1 + 16 + 1 + 16;  /* Lc = 0x22: RAND and AUTN, each with its length byte */
	out[n++] = 16;
	memcpy(out + n, rand, 16);
	n += 16;
	out[n++] = 16;
	memcpy(out + n, autn, 16);
	n += 16;
	out[n++] = 0x00;  /* Le: the answer's length is known only to the card */
	return n;
}

/* A CAT command carrying data: class 80, P1 P2 00 00, Lc, the data (no Le: the answer comes at once). */
static size_t cat_with_data(uint8_t ins, const uint8_t *data, size_t len, uint8_t *out)
{
	size_t n = header(out, ins, 0x00, 0x00);
	out[0] = CLA_CAT;
	out[n++] = (uint8_t)len;
	memcpy(out + n, data, len);
	return n + len;
}

size_t m2me_apdu_terminal_profile(const uint8_t *data, size_t len, uint8_t *out)
{
	return cat_with_data(INS_TERMINAL_PROFILE, data, len, out);
}

size_t m2me_apdu_envelope(const uint8_t *data, size_t len, uint8_t *out)
{
	return cat_with_data(INS_ENVELOPE, data, len, out);
}

size_t m2me_apdu_terminal_response(const uint8_t *data, size_t len, uint8_t *out)
{
	return cat_with_data(INS_TERMINAL_RESPONSE, data, len, out);
}

size_t m2me_apdu_fetch(uint8_t le, uint8_t *out)
{
	size_t n = header(out, INS_FETCH, 0x00, 0x00);
	out[0] = CLA_CAT;
	out[n++] = le;
	return n;
}

/* ---- AUTHENTICATE response ------------------------------------------------------------- */

/* Reads one length-prefixed value of min..max bytes at *pos; 0, or -1 when it does not fit. */
static int take_lv(const uint8_t *data, size_t len, size_t *pos, size_t min, size_t max, uint8_t *out,
		   size_t *out_len)
{
	if (*pos >= len)
		return -1;
	size_t l = data[*pos];
	if (l < min || l > max || len - *pos - 1 < l)
		return -1;
	memcpy(out, data + *pos + 1, l);
	*pos += 1 + l;
	if (out_len)
		*out_len = l;
	return 0;
}

/* 'DB' L RES L CK L IK [L Kc], nothing after (TS 31.102 §7.1.2.1). */
static int parse_success(const uint8_t *data, size_t len, m2me_auth_result *out)
{
	size_t pos = 1;
	if (take_lv(data, len, &pos, 4, 16, out->res, &out->res_len) ||
	    take_lv(data, len, &pos, 16, 16, out->ck, NULL) || take_lv(data, len, &pos, 16, 16, out->ik, NULL))
		return -1;
	if (pos < len) {
		if (take_lv(data, len, &pos, 8, 8, out->kc, NULL))
			return -1;
		out->has_kc = 1;
	}
	return pos == len ? 0 : -1;
}

/* 'DC' 0E AUTS, nothing after. */
static int parse_synch_failure(const uint8_t *data, size_t len, m2me_auth_result *out)
{
	size_t pos = 1;
	return take_lv(data, len, &pos, 14, 14, out->auts, NULL) || pos != len ? -1 : 0;
}

m2me_auth_outcome m2me_auth_parse(const uint8_t *data, size_t len, uint16_t sw, m2me_auth_result *out)
{
	memset(out, 0, sizeof *out);
	if (sw == M2ME_SW_AUTH_MAC)
		return len == 0 ? M2ME_AUTH_MAC_FAILURE : M2ME_AUTH_GARBLED;
	if (sw != M2ME_SW_OK || len == 0)
		return M2ME_AUTH_GARBLED;
	int bad = -1;
	m2me_auth_outcome outcome = M2ME_AUTH_GARBLED;
	if (data[0] == TAG_SUCCESS) {
		bad = parse_success(data, len, out);
		outcome = M2ME_AUTH_SUCCESS;
	} else if (data[0] == TAG_SYNCH_FAILURE) {
		bad = parse_synch_failure(data, len, out);
		outcome = M2ME_AUTH_SYNCH_FAILURE;
	}
	if (bad) {
		memset(out, 0, sizeof *out);
		return M2ME_AUTH_GARBLED;
	}
	return outcome;
}

/* ---- files read at power-on ------------------------------------------------------------ */

/* EF_AD (TS 31.102 §4.2.18): bits 1-4 of byte 4 give the number of MNC digits in the IMSI. */
int m2me_ad_mnc_length(const uint8_t *ef, size_t len)
{
	if (len < 4)
		return -1;
	int mnc = ef[3] & 0x0F;
	return mnc == 2 || mnc == 3 ? mnc : -1;
}
