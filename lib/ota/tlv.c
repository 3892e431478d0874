/* One-byte-tag TLVs with short BER lengths (tlv.h). */
#include "ota/tlv.h"

#include <string.h>

int m2m_ota_tlv_put(uint8_t *out, size_t cap, size_t *pos, uint8_t tag, const uint8_t *val, size_t len)
{
	size_t head = len < 128 ? 2 : 3;
	if (len > 255 || *pos > cap || cap - *pos < head + len)
		return -1;
	out[(*pos)++] = tag;
	if (len >= 128)
		out[(*pos)++] = 0x81;
	out[(*pos)++] = (uint8_t)len;
	if (len)
		memmove(out + *pos, val, len);
	*pos += len;
	return 0;
}

int m2m_ota_tlv_next(const uint8_t *in, size_t len, size_t *off, m2m_ota_tlv *t)
{
	if (*off >= len)
		return 0;
	if (len - *off < 2)
		return -1;
	size_t p = *off + 1, n = in[p++];
	if (n == 0x81) {
		/* 81 xx is for 128..255 only: a shorter length in two bytes is not DER-clean. */
		if (p >= len || in[p] < 128)
			return -1;
		n = in[p++];
	} else if (n > 127) {
		return -1;
	}
	if (len - p < n)
		return -1;
	t->tag = in[*off];
	t->val = in + p;
	t->len = n;
	*off = p + n;
	return 1;
}

int m2m_ota_tlv_outer(const uint8_t *in, size_t len, uint8_t tag, m2m_ota_tlv *t)
{
	size_t off = 0;
	return m2m_ota_tlv_next(in, len, &off, t) == 1 && t->tag == tag && off == len ? 0 : -1;
}
