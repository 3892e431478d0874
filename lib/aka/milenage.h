/*
 * MILENAGE, the 3GPP example algorithm set for the AKA functions f1, f1*, f2, f3, f4, f5 and f5*
 * (TS 35.206), over AES-128 from OpenSSL.
 *
 * A context is keyed once with K and holds OPc, so that an AuC generating many vectors for one
 * subscriber, or a USIM answering many challenges, sets up the cipher only once. A context is
 * used by one thread at a time (the OpenSSL cipher context it holds is not shareable).
 * Every function returns 0, or -1 if OpenSSL fails.
 */
#ifndef M2M_AKA_MILENAGE_H
#define M2M_AKA_MILENAGE_H

#include <openssl/types.h>
#include <stdint.h>

typedef struct m2m_milenage {
	EVP_CIPHER_CTX *aes; /* AES-128-ECB keyed with K, no padding */
	uint8_t opc[16];
} m2m_milenage;

/* OPc = OP xor E_K(OP) (TS 35.206 §4.1), for operators that provision OP rather than OPc. */
int m2m_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16]);

/* Keys a context; on success it must be released with m2m_milenage_clear. */
int m2m_milenage_init(m2m_milenage *m, const uint8_t k[16], const uint8_t opc[16]);
/* Same, deriving OPc from OP with the context's own cipher. */
int m2m_milenage_init_op(m2m_milenage *m, const uint8_t k[16], const uint8_t op[16]);
/* Frees the cipher context and wipes OPc; the struct may then be initialised again. */
void m2m_milenage_clear(m2m_milenage *m);

/* f1: network authentication code MAC-A over SQN || RAND || AMF. */
int m2m_milenage_f1(m2m_milenage *m, const uint8_t rand[16], const uint8_t sqn[6],
		    const uint8_t amf[2], uint8_t mac_a[8]);
/* f1*: resynchronisation code MAC-S (TS 33.102 §6.3.3 calls it with AMF* = 0x0000). */
int m2m_milenage_f1star(m2m_milenage *m, const uint8_t rand[16], const uint8_t sqn[6],
			const uint8_t amf[2], uint8_t mac_s[8]);
/* f2, f3, f4, f5 together, as both sides always need them together: RES, CK, IK and AK. */
int m2m_milenage_f2345(m2m_milenage *m, const uint8_t rand[16], uint8_t res[8], uint8_t ck[16],
		       uint8_t ik[16], uint8_t ak[6]);
/* f5*: the anonymity key AK* that conceals SQN_MS in AUTS. */
int m2m_milenage_f5star(m2m_milenage *m, const uint8_t rand[16], uint8_t ak_star[6]);

#endif
