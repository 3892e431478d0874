/*
 * The primitives of SCP80 (TS 102 225 §5.1.2, §5.1.3) over OpenSSL EVP, for scp80.c and rfm.c:
 * block ciphers with a zero IV and no padding of their own, the cryptographic checksum, the
 * CRC-32 redundancy check. Internal to lib/ota.
 */
#ifndef M2M_OTA_SCP80_CRYPTO_H
#define M2M_OTA_SCP80_CRYPTO_H

#include "ota/scp80.h"

#define M2M_OTA_CC_LEN 8
#define M2M_OTA_RC_LEN 4

/* The cipher block of a KIc/KID/DEK algorithm: 8 (3DES), 16 (AES), 0 (not supported). */
size_t m2m_ota_block_size(uint8_t alg);

/* len (a multiple of the block) from in to out, which may be in: CBC with a zero IV, or ECB. 0/-1. */
int m2m_ota_cipher(const m2m_ota_key *k, int ecb, int enc, const uint8_t *in, size_t len, uint8_t *out);

/*
 * Cryptographic checksum: 3DES CBC-MAC (the last block of 3DES-CBC over in, zero-padded to a
 * multiple of 8 here only) or AES-CMAC, both cut to 8 bytes. 0/-1.
 */
int m2m_ota_cc(const m2m_ota_key *kid, const uint8_t *in, size_t len, uint8_t out[M2M_OTA_CC_LEN]);

/* Redundancy check: CRC-32, most significant byte first. */
void m2m_ota_crc32(const uint8_t *in, size_t len, uint8_t out[M2M_OTA_RC_LEN]);

#endif
