/* Proactive REFRESH and its TERMINAL RESPONSE, the TERMINAL PROFILE (cat.h; TS 102 223). */
#include "ota/cat.h"

#include "ota/tlv.h"

#include <string.h>

#define TAG_DETAILS 0x81     /* command details, comprehension required (TS 102 223 §8.6) */
#define TAG_IDENTITIES 0x82  /* device identities (§8.7) */
#define TAG_RESULT 0x83      /* result (§8.12) */
#define TAG_FILES 0x92       /* file list (§8.18) */
#define TAG_PROACTIVE 0xD0
#define DEV_UICC 0x81
#define DEV_TERMINAL 0x82

/* TS 102 223 §5.2: byte 1 b1 profile download, b2 SMS-PP data download; byte 2 b1 command
 * result; byte 3 b8 REFRESH. FETCH and TERMINAL RESPONSE need no bit of their own. */
const uint8_t m2m_cat_me_profile[] = {0x03, 0x01, 0x80};
const size_t m2m_cat_me_profile_len = sizeof m2m_cat_me_profile;

static int details_put(const m2m_cat_command *c, uint8_t *out, size_t cap, size_t *pos)
{
	uint8_t d[3] = {c->number, c->type, c->qualifier};
	return m2m_ota_tlv_put(out, cap, pos, TAG_DETAILS, d, sizeof d);
}

static int identities_put(uint8_t from, uint8_t to, uint8_t *out, size_t cap, size_t *pos)
{
	uint8_t d[2] = {from, to};
	return m2m_ota_tlv_put(out, cap, pos, TAG_IDENTITIES, d, sizeof d);
}

int m2m_cat_command_build(const m2m_cat_command *c, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t inner[16 + M2M_CAT_FILES_MAX];
	size_t n = 0, pos = 0;
	if (c->files_len > M2M_CAT_FILES_MAX || details_put(c, inner, sizeof inner, &n) != 0 ||
	    identities_put(DEV_UICC, DEV_TERMINAL, inner, sizeof inner, &n) != 0 ||
	    (c->files_len && m2m_ota_tlv_put(inner, sizeof inner, &n, TAG_FILES, c->files, c->files_len) != 0) ||
	    m2m_ota_tlv_put(out, cap, &pos, TAG_PROACTIVE, inner, n) != 0)
		return -1;
	*out_len = pos;
	return 0;
}

/*
 * Reads the simple TLVs of a command, or of a terminal response when result is not NULL, into
 * c and *result: the device identities must name from -> to. Tags are compared without the
 * comprehension bit; a terminal response's first result counts.
 */
static int items_parse(const uint8_t *in, size_t len, uint8_t from, uint8_t to, m2m_cat_command *c,
		       uint8_t *result)
{
	m2m_ota_tlv t;
	int details = 0, ids = 0, results = 0, r;
	memset(c, 0, sizeof *c);
	for (size_t off = 0; (r = m2m_ota_tlv_next(in, len, &off, &t)) == 1;) {
		uint8_t tag = M2M_OTA_CTAG(t.tag);
		if (tag == M2M_OTA_CTAG(TAG_DETAILS) && t.len == 3) {
			c->number = t.val[0];
			c->type = t.val[1];
			c->qualifier = t.val[2];
			details = 1;
		} else if (tag == M2M_OTA_CTAG(TAG_IDENTITIES)) {
			ids = t.len == 2 && t.val[0] == from && t.val[1] == to;
		} else if (tag == M2M_OTA_CTAG(TAG_FILES) && !result) {
			if (t.len == 0 || t.len > M2M_CAT_FILES_MAX)
				return -1;
			memcpy(c->files, t.val, t.len);
			c->files_len = t.len;
		} else if (tag == M2M_OTA_CTAG(TAG_RESULT) && result && t.len >= 1 && !results++) {
			*result = t.val[0];
		}
	}
	return r == 0 && details && ids && (!result || results) ? 0 : -1;
}

int m2m_cat_command_parse(const uint8_t *in, size_t len, m2m_cat_command *c)
{
	m2m_ota_tlv outer;
	if (m2m_ota_tlv_outer(in, len, TAG_PROACTIVE, &outer) != 0)
		return -1;
	return items_parse(outer.val, outer.len, DEV_UICC, DEV_TERMINAL, c, NULL);
}

int m2m_cat_terminal_response_build(const m2m_cat_command *c, uint8_t result, uint8_t *out, size_t cap,
				    size_t *out_len)
{
	size_t pos = 0;
	if (details_put(c, out, cap, &pos) != 0 || identities_put(DEV_TERMINAL, DEV_UICC, out, cap, &pos) != 0 ||
	    m2m_ota_tlv_put(out, cap, &pos, TAG_RESULT, &result, 1) != 0)
		return -1;
	*out_len = pos;
	return 0;
}

int m2m_cat_terminal_response_parse(const uint8_t *in, size_t len, m2m_cat_command *c, uint8_t *result)
{
	return items_parse(in, len, DEV_TERMINAL, DEV_UICC, c, result);
}

int m2m_cat_profile_has(const uint8_t *profile, size_t len, int byte, int bit)
{
	if (byte < 1 || (size_t)byte > len || bit < 1 || bit > 8)
		return 0;
	return (profile[byte - 1] >> (bit - 1)) & 1;
}
