/*
 * The card steps of Alternative 3b (docs/uicc.md, "Re-credentialing by the new operator"): the
 * APDUs the TRE asks its M2ME to send to the UICC, and the decoding of what comes back. Only the
 * commands the M2ME lets through are built: class 00 SELECT and READ BINARY of EF_ICCID and
 * EF_IMSI, class 80 GET DATA, GET CHALLENGE, STORE DATA, SWITCH, COMMIT, ROLLBACK.
 *
 * The files are selected in forms that do not depend on what the M2ME selected before: EF_ICCID
 * by its path from the MF (a file identifier alone reaches it only from the MF), EF_IMSI after
 * selecting the USIM by its partial AID (RID A000000087, application code 1002, TS 101 220).
 */
#include "tre.h"

#include <string.h>

enum {
	GET_DATA_LE = 0x00,       /* up to 256 bytes a read */
	STORE_DATA_LAST = 0x80,   /* P1 of the chain's last block */
	SW_OK = 0x9000,
};

static const uint8_t select_iccid[] = {0x00, 0xA4, 0x08, 0x0C, 0x02, 0x2F, 0xE2};
static const uint8_t read_iccid[] = {0x00, 0xB0, 0x00, 0x00, M2M_EF_ICCID_LEN};
static const uint8_t get_challenge[] = {0x80, 0x84, 0x00, 0x00, TRE_CARD_NONCE_LEN};
static const uint8_t switch_slot[] = {0x80, 0x38, 0x00, 0x00};
static const uint8_t commit[] = {0x80, 0x3A, 0x00, 0x00};
static const uint8_t rollback[] = {0x80, 0x3C, 0x00, 0x00};  /* P1 00: B's credentials stay loaded */
static const uint8_t select_usim[] = {0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02};
static const uint8_t select_imsi[] = {0x00, 0xA4, 0x00, 0x0C, 0x02, 0x6F, 0x07};
static const uint8_t read_imsi[] = {0x00, 0xB0, 0x00, 0x00, 0x09};

static int fixed(tre_apdu *a, const uint8_t *b, size_t len)
{
	memcpy(a->b, b, len);
	a->len = len;
	return 0;
}

/* GET DATA of the certificate from the offset read so far. */
static int get_data(const tre_uicc_procedure *u, tre_apdu *a)
{
	const uint8_t b[] = {0x80, 0xCA, (uint8_t)(u->certificate_len >> 8), (uint8_t)u->certificate_len, GET_DATA_LE};
	return fixed(a, b, sizeof b);
}

static int store_data(const tre_uicc_procedure *u, tre_apdu *a)
{
	size_t at = (size_t)u->block * TRE_STORE_BLOCK;
	if (u->block < 0 || u->block > 0xFF || at >= u->package_len)
		return -1;
	size_t n = u->package_len - at < TRE_STORE_BLOCK ? u->package_len - at : TRE_STORE_BLOCK;
	const uint8_t head[] = {0x80, 0xE2, at + n == u->package_len ? STORE_DATA_LAST : 0x00, (uint8_t)u->block,
				(uint8_t)n};
	fixed(a, head, sizeof head);
	memcpy(a->b + sizeof head, u->package + at, n);
	a->len += n;
	return 0;
}

int tre_uicc_apdu(const tre_uicc_procedure *u, tre_apdu *a)
{
	switch (u->phase) {
	case TRE_UICC_SELECT_ICCID: return fixed(a, select_iccid, sizeof select_iccid);
	case TRE_UICC_READ_ICCID: return fixed(a, read_iccid, sizeof read_iccid);
	case TRE_UICC_GET_CERTIFICATE: return get_data(u, a);
	case TRE_UICC_GET_CHALLENGE: return fixed(a, get_challenge, sizeof get_challenge);
	case TRE_UICC_STORE: return store_data(u, a);
	case TRE_UICC_SWITCH: return fixed(a, switch_slot, sizeof switch_slot);
	case TRE_UICC_ROLLBACK: return fixed(a, rollback, sizeof rollback);
	case TRE_UICC_COMMIT: return fixed(a, commit, sizeof commit);
	case TRE_UICC_PROBE_ADF: return fixed(a, select_usim, sizeof select_usim);
	case TRE_UICC_PROBE_EF: return fixed(a, select_imsi, sizeof select_imsi);
	case TRE_UICC_PROBE_READ: return fixed(a, read_imsi, sizeof read_imsi);
	default: return -1;
	}
}

long tre_der_length(const uint8_t *der, size_t len)
{
	if (len < 2)
		return 0;
	if (der[0] != 0x30)
		return -1;
	long total;
	if (der[1] < 0x80)
		total = 2 + der[1];
	else if (der[1] == 0x81)
		total = len < 3 ? 0 : 3 + der[2];
	else if (der[1] == 0x82)
		total = len < 4 ? 0 : 4 + (der[2] << 8 | der[3]);
	else
		return -1;  /* no certificate of at most 4096 bytes has a longer length */
	return total > TRE_CARD_CERT_MAX ? -1 : total;
}

m2m_reason tre_store_data_refusal(unsigned sw, const char **text)
{
	static const struct {
		unsigned sw;
		m2m_reason reason;
		const char *text;
	} table[] = {
		{0x6984, M2M_R_REPLAYED, "the package carries a challenge the card no longer holds"},
		{0x6988, M2M_R_WRONG_RECIPIENT, "the package does not open with the card's key (another card's, or altered)"},
		{0x6982, M2M_R_BAD_SIGNATURE, "the new operator's signature or certificate was refused"},
		{0x6A88, M2M_R_WRONG_RECIPIENT, "the package names another ICCID"},
		{0x6A80, M2M_R_MALFORMED, "the package is malformed"},
		{0x6A84, M2M_R_BAD_BODY, "the package is larger than the card takes"},
		{0x6985, M2M_R_WRONG_STATE, "the card cannot load credentials now"},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].sw == sw)
			return *text = table[i].text, table[i].reason;
	*text = "a status word not expected";
	return M2M_R_CARD_ERROR;
}

int tre_sw_ok(unsigned sw)
{
	return sw == SW_OK || (sw & 0xFF00) == 0x9100;
}
