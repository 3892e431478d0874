/*
 * The card image the operator's personalisation tool writes (docs/uicc.md, "Card image"), and
 * the files a card made from it starts with.
 */
#include "card.h"
#include "aka/ef_imsi.h"

#include "crypto/crypto.h"

#include <string.h>

static void read_digits(m2m_conf *c, config_setting_t *card, const char *name, size_t min, size_t max,
			char *out)
{
	const char *v = m2m_conf_str(c, card, name, NULL, 1);
	if (!v)
		return;
	size_t n = strlen(v);
	if (n < min || n > max || strspn(v, "0123456789") != n) {
		m2m_conf_fail(c, config_setting_get_member(card, name), "must be %zu to %zu digits", min, max);
		return;
	}
	memcpy(out, v, n + 1);
}

/* The terminal splits the IMSI by the MNC length: some MSIN must be left after MCC and MNC. */
static void check_plmn_split(m2m_conf *c, config_setting_t *card, const uicc_image *img)
{
	if (!c->failed && strlen(img->imsi) <= 3 + (size_t)img->mnc_length)
		m2m_conf_fail(c, config_setting_get_member(card, "imsi"),
			      "leaves no MSIN after the MCC and a %d-digit MNC", img->mnc_length);
}

/* A key in hex for the algorithm nibble alg (TS 102 225: 2 AES, 5 3DES 2 keys, 9 3DES 3 keys):
 * 0 set, 1 absent, -1 refused. */
static int read_key(m2m_conf *c, config_setting_t *card, const char *name, uint8_t alg, int for_kid,
		    m2m_ota_key *k)
{
	const char *hex = m2m_conf_str(c, card, name, NULL, 0);
	if (!hex)
		return c->failed ? -1 : 1;
	long n = m2m_unhex_var(hex, k->key, sizeof k->key);
	k->alg = alg;
	k->len = n > 0 ? (size_t)n : 0;
	if (n > 0 && m2m_ota_key_valid(k, for_kid) == 0)
		return 0;
	m2m_conf_fail(c, config_setting_get_member(card, name),
		      "is not a key of algorithm %X (2 AES: 32, 48 or 64 hex digits; 5 3DES 2 keys: 32;"
		      " 9 3DES 3 keys: 48)", alg);
	return -1;
}

/* The DEK is of the KIc's family: AES, or 3DES with 2 or 3 keys as its length says. */
static uint8_t dek_alg(uint8_t kic_alg, size_t len)
{
	return kic_alg == 0x2 ? 0x2 : len == 24 ? 0x9 : 0x5;
}

static void read_ota_details(m2m_conf *c, config_setting_t *card, uicc_image *img)
{
	img->ota.kvn = (uint8_t)m2m_conf_int(c, card, "ota_kvn", 1, 1, UICC_KVN_MAX, 0);
	img->ota_msl = UICC_MSL_DEFAULT;
	m2m_conf_hex(c, card, "ota_msl", &img->ota_msl, 1, 0);
	const char *dek = m2m_conf_str(c, card, "ota_dek", NULL, 0);
	if (dek && !c->failed) {
		long n = m2m_unhex_var(dek, img->ota.dek.key, sizeof img->ota.dek.key);
		img->ota.dek.len = n > 0 ? (size_t)n : 0;
		img->ota.dek.alg = dek_alg(img->ota.kic.alg, img->ota.dek.len);
		if (n <= 0 || m2m_ota_key_valid(&img->ota.dek, 0))
			m2m_conf_fail(c, config_setting_get_member(card, "ota_dek"),
				      "is not a key of the KIc's algorithm %X", img->ota.kic.alg);
	}
	if (!c->failed && !memcmp(img->ota_tar, (const uint8_t[3]){0}, 3))
		m2m_conf_fail(c, config_setting_get_member(card, "ota_tar"),
			      "000000 is the issuer security domain's TAR, not the USIM's");
}

/* TAR, KIc and KID: all three or none, since a keyset without its TAR (or a key) could not be
 * used. The rest is optional (version 1, no DEK, MSL 16, AES) and needs them. */
static void read_ota_keyset(m2m_conf *c, config_setting_t *card, uicc_image *img)
{
	static const char *const details[] = {"ota_kvn", "ota_dek", "ota_msl", "ota_kic_alg", "ota_kid_alg", NULL};
	uint8_t kic_alg = (uint8_t)m2m_conf_int(c, card, "ota_kic_alg", 0x2, 0, 15, 0);
	uint8_t kid_alg = (uint8_t)m2m_conf_int(c, card, "ota_kid_alg", 0x2, 0, 15, 0);
	int tar = m2m_conf_hex(c, card, "ota_tar", img->ota_tar, 3, 0);
	int kic = read_key(c, card, "ota_kic", kic_alg, 0, &img->ota.kic);
	int kid = read_key(c, card, "ota_kid", kid_alg, 1, &img->ota.kid);
	if (tar < 0 || kic < 0 || kid < 0)
		return;
	img->has_ota = tar == 0 && kic == 0 && kid == 0;
	if (!img->has_ota && (tar == 0 || kic == 0 || kid == 0))
		m2m_conf_fail(c, card, "ota_tar, ota_kic and ota_kid go together");
	for (int i = 0; details[i] && !img->has_ota && !c->failed; i++)
		if (config_setting_get_member(card, details[i]))
			m2m_conf_fail(c, config_setting_get_member(card, details[i]),
				      "needs an OTA keyset (ota_tar, ota_kic and ota_kid)");
	if (img->has_ota)
		read_ota_details(c, card, img);
}

int uicc_image_read(m2m_conf *ic, const char *path, uicc_image *out)
{
	static const char *const top[] = {"card", NULL};
	static const char *const names[] = {"iccid", "imsi", "mnc_length", "k", "opc", "adm", "ota_tar",
					    "ota_kic", "ota_kid", "ota_kvn", "ota_dek", "ota_msl", "ota_kic_alg",
					    "ota_kid_alg", NULL};
	memset(out, 0, sizeof *out);
	if (m2m_conf_load(ic, path))
		return -1;
	m2m_conf_only(ic, config_root_setting(&ic->cfg), top);
	config_setting_t *card = m2m_conf_group(ic, NULL, "card", 1);
	if (card) {
		m2m_conf_only(ic, card, names);
		read_digits(ic, card, "iccid", 18, 20, out->iccid);
		read_digits(ic, card, "imsi", 6, 15, out->imsi);
		out->mnc_length = (int)m2m_conf_int(ic, card, "mnc_length", 2, 2, 3, 1);
		m2m_conf_hex(ic, card, "k", out->k, sizeof out->k, 1);
		m2m_conf_hex(ic, card, "opc", out->opc, sizeof out->opc, 1);
		m2m_conf_hex(ic, card, "adm", out->adm, sizeof out->adm, 1);
		read_ota_keyset(ic, card, out);
		check_plmn_split(ic, card, out);
	}
	if (!ic->failed)
		return 0;
	uicc_image_wipe(out);
	return -1;
}

void uicc_image_wipe(uicc_image *img)
{
	m2m_wipe(img, sizeof *img);
}

/* Two digits a byte, the first in the low nibble, 'F' filling what the digits leave. */
static void swapped_bcd(const char *digits, uint8_t *out, size_t len)
{
	memset(out, 0xFF, len);
	for (size_t i = 0; digits[i] && i < 2 * len; i++) {
		uint8_t d = (uint8_t)(digits[i] - '0');
		out[i / 2] = i % 2 ? (uint8_t)((out[i / 2] & 0x0F) | d << 4) : (uint8_t)((out[i / 2] & 0xF0) | d);
	}
}

void uicc_iccid_encode(const char *iccid, uint8_t out[UICC_ICCID_LEN])
{
	swapped_bcd(iccid, out, UICC_ICCID_LEN);  /* TS 102 221 §13.2 */
}

void uicc_image_state(const uicc_image *img, uicc_state *st)
{
	memset(st, 0, sizeof *st);
	uicc_fs_format(st->ef);
	uicc_iccid_encode(img->iccid, st->ef[UICC_EF_ICCID]);
	m2m_ef_imsi_encode(img->imsi, st->ef[UICC_EF_IMSI]);  /* 6..15 digits: the image was read so */
	memcpy(st->k, img->k, sizeof st->k);
	memcpy(st->opc, img->opc, sizeof st->opc);
	st->ef[UICC_EF_AD][3] = (uint8_t)img->mnc_length;  /* TS 31.102 §4.2.18: byte 4 b4-b1 */
	m2m_sqn_usim_init(&st->sqn, NULL);
	st->adm_tries = UICC_ADM_TRIES;
	st->s = (uicc_session){.df = UICC_MF, .ef = -1};
	if (!img->has_ota)
		return;
	st->ota.keyset[img->ota.kvn] = img->ota;
	st->ota.tar[UICC_OTA_RFM] = (uicc_tar){.present = 1, .kvn = img->ota.kvn, .msl = img->ota_msl};
	memcpy(st->ota.tar[UICC_OTA_RFM].tar, img->ota_tar, M2M_OTA_TAR_LEN);
	/* the issuer security domain's TAR 000000 (TS 101 220 Annex D) under the same keyset */
	st->ota.tar[UICC_OTA_ISD] = (uicc_tar){.present = 1, .kvn = img->ota.kvn, .msl = img->ota_msl};
}
