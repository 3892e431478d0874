/* Small cryptographic helpers over OpenSSL shared by every role. */
#ifndef M2M_CRYPTO_H
#define M2M_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/* Fills buf from the OpenSSL DRBG; aborts the process if the DRBG fails (no safe fallback). */
void m2m_random(void *buf, size_t len);

/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void m2m_hex(const uint8_t *in, size_t len, char *out);
/* Parses exactly 2*len hex digits (either case, no separators); 0 or -1. */
int m2m_unhex(const char *hex, uint8_t *out, size_t len);
/* Parses any even number of hex digits up to max bytes; returns the byte count or -1. */
long m2m_unhex_var(const char *hex, uint8_t *out, size_t max);

/* Constant-time comparison; 0 when equal. */
int m2m_ct_compare(const void *a, const void *b, size_t len);
/* Wipes memory that held secrets, in a way the compiler cannot elide. */
void m2m_wipe(void *p, size_t len);

/*
 * Sealing of secrets at rest (database columns holding K, OPc, private keys): AES-256-GCM
 * under a 32-byte storage key, a fresh 12-byte nonce, and `aad` (e.g. the record id) bound in
 * so that a sealed value cannot be moved to another record.
 * Sealed form: nonce(12) || ciphertext(len) || tag(16), so out needs len + M2M_SEAL_OVERHEAD.
 */
#define M2M_SEAL_OVERHEAD 28
int m2m_seal(const uint8_t key[32], const void *aad, size_t aadlen, const uint8_t *in, size_t len,
	     uint8_t *out);
/* Returns 0 and writes sealed_len - M2M_SEAL_OVERHEAD bytes, or -1 if the tag does not verify. */
int m2m_unseal(const uint8_t key[32], const void *aad, size_t aadlen, const uint8_t *sealed,
	       size_t sealed_len, uint8_t *out);

/* AES-256-GCM with a caller-chosen 12-byte nonce (for protocols whose nonce is a counter).
 * enc 1: writes len bytes to out and the 16-byte tag; enc 0: decrypts and checks tag. 0 or -1. */
int m2m_gcm(int enc, const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aadlen,
	    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]);

#endif
