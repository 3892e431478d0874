/*
 * Protection of user data after a successful attach: what stands in for the radio-layer
 * ciphering and integrity of a real access network (docs/alt2.md). Both ends derive one key
 * from CK and IK, so an echo that decrypts proves both hold the same CK/IK (requirement R12).
 *
 *   key   = HMAC-SHA-256(CK || IK, "TR33812 user plane" || sessionId)   (shape of TS 33.401 A.2)
 *   nonce = direction (4 bytes, 0 uplink, 1 downlink) || counter (8 bytes), big-endian
 *   AES-256-GCM, sessionId as associated data; sealed = ciphertext || 16-byte tag
 */
#ifndef M2M_AKA_SESSION_H
#define M2M_AKA_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define M2M_SESSION_ID_LEN 8
#define M2M_SESSION_TAG_LEN 16

typedef enum m2m_direction { M2M_UPLINK = 0, M2M_DOWNLINK = 1 } m2m_direction;

int m2m_session_key(const uint8_t ck[16], const uint8_t ik[16], const uint8_t session_id[M2M_SESSION_ID_LEN],
		    uint8_t key[32]);
/* out receives len + M2M_SESSION_TAG_LEN bytes. 0 or -1. */
int m2m_session_seal(const uint8_t key[32], const uint8_t session_id[M2M_SESSION_ID_LEN], m2m_direction dir,
		     uint64_t counter, const uint8_t *in, size_t len, uint8_t *out);
/* in holds len bytes (ciphertext || tag); out receives len - M2M_SESSION_TAG_LEN. 0, or -1 when
 * the tag does not verify (wrong key, direction, counter or session) or len is too short. */
int m2m_session_open(const uint8_t key[32], const uint8_t session_id[M2M_SESSION_ID_LEN], m2m_direction dir,
		     uint64_t counter, const uint8_t *in, size_t len, uint8_t *out);

#endif
