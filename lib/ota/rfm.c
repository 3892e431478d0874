/*
 * Remote file management data (rfm.h): the compact command script and response (TS 102 226
 * §5.1.1, §5.1.2) and GlobalPlatform PUT KEY for a whole SCP80 keyset.
 */
#include "ota/rfm.h"

#include "crypto/crypto.h"
#include "ota/scp80_crypto.h"

#include <stdio.h>
#include <string.h>

#define KEY_TYPE_DES 0x80
#define KEY_TYPE_AES 0x88
#define KCV_LEN 3
#define KEYS_IN_SET 3     /* KIc, KID, DEK: key identifiers 1, 2, 3 */

/* The commands whose P3 is Le: they send no data. */
static int le_command(uint8_t ins)
{
	return ins == 0xB0 || ins == 0xB2 || ins == 0xC0 || ins == 0xF2;
}

int m2m_rfm_script_next(const uint8_t *script, size_t len, size_t *off, m2m_rfm_apdu *out)
{
	if (*off == len)
		return 0;
	if (*off > len || len - *off < 5)
		return -1;
	const uint8_t *p = script + *off;
	int has_le = le_command(p[1]);
	size_t lc = has_le ? 0 : p[4];
	if (len - *off - 5 < lc)
		return -1;
	*out = (m2m_rfm_apdu){.cla = p[0], .ins = p[1], .p1 = p[2], .p2 = p[3], .p3 = p[4],
			      .data = has_le ? NULL : p + 5, .lc = lc, .has_le = has_le,
			      .raw = p, .raw_len = 5 + lc};
	*off += 5 + lc;
	return 1;
}

int m2m_rfm_response_build(uint8_t executed, uint16_t sw, const uint8_t *data, size_t len, uint8_t *out,
			   size_t cap, size_t *out_len)
{
	if (cap < 3 || len > cap - 3)
		return -1;
	out[0] = executed;
	out[1] = (uint8_t)(sw >> 8);
	out[2] = (uint8_t)sw;
	if (len)
		memmove(out + 3, data, len);
	*out_len = 3 + len;
	return 0;
}

int m2m_rfm_response_parse(const uint8_t *in, size_t len, uint8_t *executed, uint16_t *sw,
			   const uint8_t **data, size_t *data_len)
{
	if (len < 3)
		return -1;
	*executed = in[0];
	*sw = (uint16_t)(in[1] << 8 | in[2]);
	*data = in + 3;
	*data_len = len - 3;
	return 0;
}

/* The key check value: the key ciphers zeros (DES) or 0x01 bytes (AES, GP Amendment D). */
static int kcv(const m2m_ota_key *k, uint8_t out[KCV_LEN])
{
	uint8_t block[16], enc[16];
	size_t n = m2m_ota_block_size(k->alg);
	memset(block, k->alg == 0x2 ? 0x01 : 0x00, sizeof block);
	if (n == 0 || m2m_ota_cipher(k, 1, 1, block, n, enc) != 0)
		return -1;
	memcpy(out, enc, KCV_LEN);
	return 0;
}

/* Wraps under the DEK: 3DES-ECB, or AES-CBC with a zero IV, the key zero-padded to whole blocks. */
static int wrap(const m2m_ota_key *dek, int enc, const uint8_t *in, size_t len, uint8_t *out)
{
	return m2m_ota_cipher(dek, dek->alg != 0x2, enc, in, len, out);
}

/*
 * One key of the set: type, length, [actual key length: AES only, GP Amendment D], the wrapped
 * key, 03, KCV. Appends at out[*pos]; 0 or -1.
 */
static int key_put(const m2m_ota_key *dek, const m2m_ota_key *k, uint8_t *out, size_t cap, size_t *pos)
{
	size_t block = m2m_ota_block_size(dek->alg), wrapped = (k->len + block - 1) / block * block;
	int aes = k->alg == 0x2;
	size_t need = 2 + (size_t)aes + wrapped + 1 + KCV_LEN;
	uint8_t plain[M2M_OTA_KEY_MAX + 16] = {0};
	if (cap - *pos < need)
		return -1;
	uint8_t *p = out + *pos;
	*p++ = aes ? KEY_TYPE_AES : KEY_TYPE_DES;
	*p++ = (uint8_t)(wrapped + (size_t)aes);
	if (aes)
		*p++ = (uint8_t)k->len;
	memcpy(plain, k->key, k->len);
	int rc = wrap(dek, 1, plain, wrapped, p);
	m2m_wipe(plain, sizeof plain);
	p += wrapped;
	*p++ = KCV_LEN;
	if (rc != 0 || kcv(k, p) != 0)
		return -1;
	*pos += need;
	return 0;
}

int m2m_rfm_put_key_build(const m2m_ota_key *dek, uint8_t replaces, const m2m_ota_keyset *next, uint8_t *apdu,
			  size_t cap, size_t *len, char *err, size_t errlen)
{
	const m2m_ota_key *keys[KEYS_IN_SET] = {&next->kic, &next->kid, &next->dek};
	if (m2m_ota_key_valid(dek, 0) != 0 || next->kvn < 1 || next->kvn > 15 || replaces > 15) {
		snprintf(err, errlen, "PUT KEY needs a 3DES or AES DEK and key versions 1 to 15");
		return -1;
	}
	size_t pos = 5;
	if (cap < M2M_RFM_PUT_KEY_MAX) {
		snprintf(err, errlen, "PUT KEY needs a buffer of %d bytes", M2M_RFM_PUT_KEY_MAX);
		return -1;
	}
	apdu[pos++] = next->kvn;
	for (int i = 0; i < KEYS_IN_SET; i++) {
		if (m2m_ota_key_valid(keys[i], i == 1) != 0 || key_put(dek, keys[i], apdu, cap, &pos) != 0) {
			snprintf(err, errlen, "key %d of the new keyset is not a 3DES or AES key", i + 1);
			m2m_wipe(apdu, cap);
			return -1;
		}
	}
	uint8_t head[5] = {0x80, 0xD8, replaces, 0x81, (uint8_t)(pos - 5)};
	memcpy(apdu, head, sizeof head);
	*len = pos;
	return 0;
}

/* The algorithm a key's type and length give: 3DES 2 or 3 keys, or AES; 0 when none fits. */
static uint8_t alg_of(uint8_t type, size_t len)
{
	if (type == KEY_TYPE_AES)
		return len == 16 || len == 24 || len == 32 ? 0x2 : 0;
	if (type == KEY_TYPE_DES)
		return len == 16 ? 0x5 : len == 24 ? 0x9 : 0;
	return 0;
}

/* Reads one key at in[*pos]: 0, or the reason it is refused. */
static const char *key_get(const uint8_t *in, size_t len, size_t *pos, const m2m_ota_key *dek, m2m_ota_key *k)
{
	size_t block = m2m_ota_block_size(dek->alg), p = *pos;
	if (len - p < 2)
		return "truncated";
	uint8_t type = in[p], l = in[p + 1];
	int aes = type == KEY_TYPE_AES;
	p += 2;
	if (l < 1 || len - p < (size_t)l + 1 + KCV_LEN || in[p + l] != KCV_LEN)
		return "truncated or without a 3-byte check value";
	size_t wrapped = l - (size_t)aes, klen = aes ? in[p] : (wrapped == 32 ? 24 : wrapped);
	/* A 3DES-3 key under an AES DEK is padded to 32 bytes: the only 32 a DES key can stand for. */
	if (wrapped == 0 || wrapped % block || wrapped > M2M_OTA_KEY_MAX || klen > wrapped || !alg_of(type, klen))
		return "of an unknown type or length";
	uint8_t plain[M2M_OTA_KEY_MAX];
	int rc = wrap(dek, 0, in + p + aes, wrapped, plain);
	*k = (m2m_ota_key){.alg = alg_of(type, klen), .len = klen};
	memcpy(k->key, plain, klen);
	m2m_wipe(plain, sizeof plain);
	uint8_t check[KCV_LEN];
	if (rc != 0 || kcv(k, check) != 0 || m2m_ct_compare(check, in + p + l + 1, KCV_LEN) != 0)
		return "not matching its check value (wrong DEK?)";
	*pos = p + l + 1 + KCV_LEN;
	return NULL;
}

int m2m_rfm_put_key_parse(const uint8_t *data, size_t len, const m2m_ota_key *dek, m2m_ota_keyset *next, char *err,
			  size_t errlen)
{
	static const char *const names[KEYS_IN_SET] = {"KIc", "KID", "DEK"};
	m2m_ota_keyset ks = {0};
	m2m_ota_key *keys[KEYS_IN_SET] = {&ks.kic, &ks.kid, &ks.dek};
	const char *why = NULL;
	int i = 0;
	size_t pos = 1;
	if (m2m_ota_key_valid(dek, 0) != 0 || len < 1 || data[0] < 1 || data[0] > 15) {
		snprintf(err, errlen, "PUT KEY needs a 3DES or AES DEK and a new key version 1 to 15");
		return -1;
	}
	ks.kvn = data[0];
	for (; i < KEYS_IN_SET && !why; i++)
		why = key_get(data, len, &pos, dek, keys[i]);
	if (!why && pos != len)
		why = "followed by more data";
	if (why) {
		snprintf(err, errlen, "PUT KEY: the %s is %s", names[i - 1], why);
		m2m_wipe(&ks, sizeof ks);
		return -1;
	}
	*next = ks;
	m2m_wipe(&ks, sizeof ks);
	return 0;
}
