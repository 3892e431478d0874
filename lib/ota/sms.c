/*
 * Secured packets over SMS-PP (sms.h): SMS-DELIVER with its user data header (TS 23.040 §9.2.2.1,
 * §9.2.3.24), concatenation, the SMS-PP download ENVELOPE and the SMS-DELIVER-REPORT.
 */
#include "ota/sms.h"

#include "ota/tlv.h"

#include <stdio.h>
#include <string.h>

#define IEI_CONCAT 0x00
#define IEI_CPI 0x70       /* command packet identifier (TS 31.115 §4.2) */
#define IEI_RPI 0x71       /* response packet identifier (TS 31.115 §4.3) */
#define FO_DELIVER 0x00    /* TP-MTI of SMS-DELIVER and SMS-DELIVER-REPORT */
#define FO_MMS 0x04        /* TP-MMS: no more messages are waiting */
#define FO_UDHI 0x40
#define PI_ALL 0x07        /* TP-PI: TP-PID, TP-DCS and TP-UDL present */
#define SINGLE_ROOM (M2M_SMS_UD_MAX - 3)       /* UDHL, 70 00 */
#define FIRST_ROOM (M2M_SMS_UD_MAX - 8)        /* UDHL, 00 03 ref total seq, 70 00 */
#define NEXT_ROOM (M2M_SMS_UD_MAX - 6)         /* UDHL, 00 03 ref total seq */

static void fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
}

/* TP-OA (TS 23.040 §9.1.2.5): digit count, TON/NPI (91 with a leading '+', else 81), semi-octets. */
static int address_put(const char *addr, uint8_t *out)
{
	int intl = addr[0] == '+';
	const char *d = addr + intl;
	size_t n = strlen(d);
	if (n == 0 || n > M2M_SMS_ADDRESS_MAX || strspn(d, "0123456789") != n)
		return -1;
	out[0] = (uint8_t)n;
	out[1] = intl ? 0x91 : 0x81;
	for (size_t i = 0; i < n; i += 2) {
		uint8_t hi = i + 1 < n ? (uint8_t)(d[i + 1] - '0') : 0xF;
		out[2 + i / 2] = (uint8_t)(hi << 4 | (d[i] - '0'));
	}
	return (int)(2 + (n + 1) / 2);
}

/* Reads TP-OA into out: the octets it takes, or -1. Only decimal digits are accepted. */
static int address_get(const uint8_t *in, size_t len, char *out)
{
	if (len < 2 || in[0] == 0 || in[0] > M2M_SMS_ADDRESS_MAX || len < 2 + (in[0] + 1u) / 2)
		return -1;
	size_t n = in[0], o = 0;
	if ((in[1] & 0x70) == 0x10)
		out[o++] = '+';
	for (size_t i = 0; i < n; i++) {
		uint8_t v = (uint8_t)(i % 2 ? in[2 + i / 2] >> 4 : in[2 + i / 2] & 15);
		if (v > 9)
			return -1;
		out[o++] = (char)('0' + v);
	}
	out[o] = '\0';
	return (int)(2 + (n + 1) / 2);
}

/* The user data header of segment seq (1-based) of count: its length. */
static size_t udh_put(uint8_t *out, uint8_t ref, size_t count, size_t seq)
{
	size_t n = 1;
	if (count > 1) {
		uint8_t concat[] = {IEI_CONCAT, 3, ref, (uint8_t)count, (uint8_t)seq};
		memcpy(out + n, concat, sizeof concat);
		n += sizeof concat;
	}
	if (seq == 1) {
		out[n++] = IEI_CPI;
		out[n++] = 0;
	}
	out[0] = (uint8_t)(n - 1);
	return n;
}

static size_t segments_for(size_t len)
{
	return len <= SINGLE_ROOM ? 1 : 1 + (len - FIRST_ROOM + NEXT_ROOM - 1) / NEXT_ROOM;
}

int m2m_sms_deliver_build(const uint8_t *packet, size_t len, const char *originator, const uint8_t scts[7],
			  uint8_t ref, uint8_t (*tpdus)[M2M_SMS_TPDU_MAX], size_t *lens, size_t max, size_t *count,
			  char *err, size_t errlen)
{
	uint8_t oa[2 + M2M_SMS_ADDRESS_MAX / 2];
	int oa_len = address_put(originator, oa);
	size_t n = segments_for(len);
	if (oa_len < 0) {
		fail(err, errlen, "the originator address must be 1 to 20 digits, optionally after '+'");
		return -1;
	}
	if (n > max || n > M2M_SMS_CONCAT_MAX) {
		snprintf(err, errlen, "the packet (%zu bytes) needs %zu messages, more than %zu", len, n,
			 max < M2M_SMS_CONCAT_MAX ? max : (size_t)M2M_SMS_CONCAT_MAX);
		return -1;
	}
	for (size_t seq = 1, off = 0; seq <= n; seq++) {
		uint8_t *t = tpdus[seq - 1];
		size_t room = n == 1 ? SINGLE_ROOM : seq == 1 ? FIRST_ROOM : NEXT_ROOM;
		size_t take = len - off < room ? len - off : room, p = 0;
		t[p++] = (uint8_t)(FO_DELIVER | FO_UDHI | (seq == n ? FO_MMS : 0));
		memcpy(t + p, oa, (size_t)oa_len);
		p += (size_t)oa_len;
		t[p++] = M2M_SMS_PID_DATA_DOWNLOAD;
		t[p++] = M2M_SMS_DCS_CLASS2_8BIT;
		memcpy(t + p, scts, 7);
		p += 7;
		size_t udl_at = p++;
		size_t udh = udh_put(t + p, ref, n, seq);
		memcpy(t + p + udh, packet + off, take);
		t[udl_at] = (uint8_t)(udh + take);
		lens[seq - 1] = p + udh + take;
		off += take;
	}
	*count = n;
	return 0;
}

/* Whether a TP-DCS codes 8-bit data (TS 23.038 §4), the only alphabet whose TP-UDL counts octets here. */
static int dcs_8bit(uint8_t dcs)
{
	if ((dcs & 0xF0) == 0xF0)
		return (dcs & 0x04) != 0;
	if ((dcs & 0xC0) == 0x00 || (dcs & 0xC0) == 0x40)
		return (dcs & 0x0C) == 0x04;
	return 0;
}

/*
 * Reads the information elements of a user data header (ud[0] = UDHL) into d, and whether the
 * response packet identifier is there into *response. 0 or -1.
 */
static int udh_parse(const uint8_t *ud, size_t len, m2m_sms_deliver *d, int *response)
{
	size_t end = 1 + (size_t)ud[0];
	if (end > len)
		return -1;
	for (size_t p = 1; p < end;) {
		if (end - p < 2 || end - p - 2 < ud[p + 1])
			return -1;
		uint8_t iei = ud[p], n = ud[p + 1];
		const uint8_t *v = ud + p + 2;
		if (iei == IEI_CPI || iei == IEI_RPI) {
			if (n != 0)
				return -1;
			d->command_packet |= iei == IEI_CPI;
			*response |= iei == IEI_RPI;
		} else if (iei == IEI_CONCAT) {
			if (n != 3 || v[1] == 0 || v[2] == 0 || v[2] > v[1])
				return -1;
			d->concatenated = 1;
			d->ref = v[0];
			d->total = v[1];
			d->seq = v[2];
		}
		p += 2u + n;
	}
	d->ud = ud + end;
	d->ud_len = len - end;
	return 0;
}

int m2m_sms_deliver_parse(const uint8_t *tpdu, size_t len, m2m_sms_deliver *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	if (len < 1 || (tpdu[0] & 3) != FO_DELIVER) {
		fail(err, errlen, "not an SMS-DELIVER (TP-MTI)");
		return -1;
	}
	int oa = address_get(tpdu + 1, len - 1, d->originator);
	size_t p = 1 + (size_t)(oa < 0 ? 0 : oa);
	if (oa < 0 || len - p < 10) {
		fail(err, errlen, "TP-OA is not 1 to 20 decimal digits, or the header is truncated");
		return -1;
	}
	d->pid = tpdu[p];
	d->dcs = tpdu[p + 1];
	memcpy(d->scts, tpdu + p + 2, 7);
	size_t udl = tpdu[p + 9];
	p += 10;
	if (!dcs_8bit(d->dcs) || udl != len - p || udl > M2M_SMS_UD_MAX) {
		fail(err, errlen, "TP-DCS is not 8-bit data or TP-UDL disagrees with the user data");
		return -1;
	}
	if (!(tpdu[0] & FO_UDHI)) {
		d->ud = tpdu + p;
		d->ud_len = udl;
		return 0;
	}
	int response = 0;
	if (udl == 0 || udh_parse(tpdu + p, udl, d, &response) != 0) {
		fail(err, errlen, "malformed user data header");
		return -1;
	}
	return 0;
}

static void concat_start(m2m_sms_concat *c, uint8_t ref, uint8_t total)
{
	memset(c, 0, sizeof *c);
	c->started = 1;
	c->ref = ref;
	c->total = total;
}

int m2m_sms_concat_add(m2m_sms_concat *c, const m2m_sms_deliver *d)
{
	uint8_t total = d->concatenated ? d->total : 1, seq = d->concatenated ? d->seq : 1;
	if (total > M2M_SMS_CONCAT_MAX || seq == 0 || seq > total || d->ud_len > M2M_SMS_UD_MAX)
		return -1;
	/* A single message, or another reference, starts afresh: the SMSC gave up on the old one. */
	if (!d->concatenated || !c->started || c->ref != d->ref)
		concat_start(c, d->ref, total);
	if (c->total != total)
		return -1;
	uint32_t bit = UINT32_C(1) << (seq - 1);
	if (c->have & bit) {
		/* A repeated segment is harmless when it is the same one (the SMSC retried). */
		int same = c->seg_len[seq - 1] == d->ud_len && memcmp(c->seg[seq - 1], d->ud, d->ud_len) == 0;
		return same ? 0 : -1;
	}
	memcpy(c->seg[seq - 1], d->ud, d->ud_len);
	c->seg_len[seq - 1] = d->ud_len;
	c->have |= bit;
	if (seq == 1)
		c->command_packet = d->command_packet;
	uint32_t all = total == 32 ? UINT32_MAX : (UINT32_C(1) << total) - 1;
	return c->have == all ? 1 : 0;
}

size_t m2m_sms_concat_take(m2m_sms_concat *c, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (int i = 0; i < c->total; i++)
		n += c->seg_len[i];
	int complete = c->started && c->have == (c->total == 32 ? UINT32_MAX : (UINT32_C(1) << c->total) - 1);
	if (!complete || n > cap)
		n = 0;
	for (int i = 0, at = 0; n && i < c->total; at += (int)c->seg_len[i], i++)
		memcpy(out + at, c->seg[i], c->seg_len[i]);
	memset(c, 0, sizeof *c);
	return n;
}

int m2m_sms_pp_download_build(const uint8_t *tpdu, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	/* Network (83) to UICC (81): TS 31.111 §7.1.1.2. */
	static const uint8_t ids[] = {0x83, 0x81};
	uint8_t inner[4 + 3 + M2M_SMS_TPDU_MAX];
	size_t n = 0, pos = 0;
	if (len > M2M_SMS_TPDU_MAX || m2m_ota_tlv_put(inner, sizeof inner, &n, 0x82, ids, sizeof ids) != 0 ||
	    m2m_ota_tlv_put(inner, sizeof inner, &n, 0x8B, tpdu, len) != 0 ||
	    m2m_ota_tlv_put(out, cap, &pos, 0xD1, inner, n) != 0)
		return -1;
	*out_len = pos;
	return 0;
}

int m2m_sms_pp_download_parse(const uint8_t *data, size_t len, const uint8_t **tpdu, size_t *tpdu_len)
{
	m2m_ota_tlv env, t;
	int ids_ok = 0, r;
	*tpdu = NULL;
	if (m2m_ota_tlv_outer(data, len, 0xD1, &env) != 0)
		return -1;
	for (size_t off = 0; (r = m2m_ota_tlv_next(env.val, env.len, &off, &t)) == 1;) {
		uint8_t tag = M2M_OTA_CTAG(t.tag);
		if (tag == 0x02)
			ids_ok = t.len == 2 && t.val[0] == 0x83 && t.val[1] == 0x81;
		else if (tag == 0x0B) {
			*tpdu = t.val;
			*tpdu_len = t.len;
		}
	}
	return r == 0 && ids_ok && *tpdu ? 0 : -1;
}

int m2m_sms_por_ud_build(const uint8_t *packet, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	static const uint8_t udh[] = {0x02, IEI_RPI, 0x00};
	if (cap < sizeof udh || len > cap - sizeof udh)
		return -1;
	/* Moved first: packet may be out itself. */
	memmove(out + sizeof udh, packet, len);
	memcpy(out, udh, sizeof udh);
	*out_len = sizeof udh + len;
	return 0;
}

int m2m_sms_por_ud_parse(const uint8_t *ud, size_t len, const uint8_t **packet, size_t *packet_len)
{
	m2m_sms_deliver d = {0};
	int response = 0;
	if (len == 0 || udh_parse(ud, len, &d, &response) != 0 || d.command_packet || !response)
		return -1;
	*packet = d.ud;
	*packet_len = d.ud_len;
	return 0;
}

int m2m_sms_report_build(const uint8_t *ud, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t head[] = {FO_DELIVER | FO_UDHI, PI_ALL, M2M_SMS_PID_DATA_DOWNLOAD, M2M_SMS_DCS_CLASS2_8BIT,
			  (uint8_t)len};
	if (len > 255 || cap < sizeof head || len > cap - sizeof head)
		return -1;
	memmove(out + sizeof head, ud, len);
	memcpy(out, head, sizeof head);
	*out_len = sizeof head + len;
	return 0;
}

int m2m_sms_report_parse(const uint8_t *tpdu, size_t len, const uint8_t **ud, size_t *ud_len)
{
	/* SMS-DELIVER-REPORT for RP-ACK: TP-MTI, TP-PI, then what TP-PI announces (no extension). */
	if (len < 2 || (tpdu[0] & 3) != FO_DELIVER || (tpdu[1] & 0xF8))
		return -1;
	size_t p = 2 + !!(tpdu[1] & 1) + !!(tpdu[1] & 2);
	*ud = tpdu + len;
	*ud_len = 0;
	if (!(tpdu[1] & 4))
		return p == len ? 0 : -1;
	if (p >= len || tpdu[p] != len - p - 1)
		return -1;
	*ud = tpdu + p + 1;
	*ud_len = tpdu[p];
	return 0;
}
