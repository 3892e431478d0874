/*
 * The TLVs of the ENVELOPE (BER-TLV, TS 102 220 §7.1) and of proactive commands and terminal
 * responses (COMPREHENSION-TLV, TS 102 223 §8): a one-byte tag and a length of one byte below
 * 128, else 81 xx (what fits a short APDU). Internal to lib/ota (sms.c, cat.c).
 */
#ifndef M2M_OTA_TLV_H
#define M2M_OTA_TLV_H

#include <stddef.h>
#include <stdint.h>

typedef struct m2m_ota_tlv {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
} m2m_ota_tlv;

/* Appends tag, length and len bytes of val at out[*pos]: 0, or -1 when it does not fit cap. */
int m2m_ota_tlv_put(uint8_t *out, size_t cap, size_t *pos, uint8_t tag, const uint8_t *val, size_t len);

/* Reads the TLV at in[*off] and moves past it: 1, 0 at the end, -1 when malformed or truncated. */
int m2m_ota_tlv_next(const uint8_t *in, size_t len, size_t *off, m2m_ota_tlv *t);

/* The only TLV of in with tag `tag` filling in exactly (an ENVELOPE, a D0 command): 0 or -1. */
int m2m_ota_tlv_outer(const uint8_t *in, size_t len, uint8_t tag, m2m_ota_tlv *t);

/* A COMPREHENSION-TLV tag without its "comprehension required" bit (b8). */
#define M2M_OTA_CTAG(t) ((uint8_t)((t) & 0x7F))

#endif
