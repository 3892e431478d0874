/*
 * UMTS AKA (TS 33.102 §6.3) over MILENAGE: authentication vectors in the AuC, the USIM's check
 * of AUTN, and re-synchronisation with AUTS.
 *
 *   AUTN = (SQN xor AK) || AMF || MAC-A                     (§6.3.2)
 *   AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S over AMF* = 0   (§6.3.3)
 */
#ifndef M2M_AKA_AKA_H
#define M2M_AKA_AKA_H

#include "aka/milenage.h"
#include "aka/sqn.h"

#include <stdint.h>

/* AMF* of §6.3.3: MAC-S is computed over a dummy all-zero AMF. */
#define M2M_AKA_AMF_STAR ((const uint8_t[2]){0, 0})

typedef enum m2m_aka_status {
	M2M_AKA_ERROR = -1,       /* OpenSSL failed, or an argument is out of range */
	M2M_AKA_OK = 0,
	M2M_AKA_MAC_FAILURE = 1,  /* MAC-A (or MAC-S) does not verify: not from the home network */
	M2M_AKA_SYNC_FAILURE = 2, /* genuine but stale or out-of-range SQN: AUTS produced */
} m2m_aka_status;

/* An authentication vector, the quintet of §6.3.2. */
typedef struct m2m_aka_av {
	uint8_t rand[16];
	uint8_t xres[8];
	uint8_t ck[16];
	uint8_t ik[16];
	uint8_t autn[16];
} m2m_aka_av;

/* The USIM's answer: RES, CK, IK on M2M_AKA_OK; AUTS on M2M_AKA_SYNC_FAILURE; zeros otherwise. */
typedef struct m2m_aka_usim_result {
	uint8_t res[8];
	uint8_t ck[16];
	uint8_t ik[16];
	uint8_t auts[14];
} m2m_aka_usim_result;

/* AuC: the vector for a given RAND and SQN (no state); 0 or -1. */
int m2m_aka_av_build(m2m_milenage *m, const uint8_t rand[16], uint64_t sqn, const uint8_t amf[2],
		     m2m_aka_av *av);
/* AuC: the next vector for a subscriber, with a fresh RAND and the next SQN from he; 0 or -1.
 * The caller persists he afterwards. */
int m2m_aka_av_generate(m2m_milenage *m, m2m_sqn_he *he, const uint8_t amf[2], m2m_aka_av *av);
/* AuC: checks MAC-S of an AUTS sent with the failed vector's RAND and recovers SQN_MS;
 * M2M_AKA_OK, M2M_AKA_MAC_FAILURE or M2M_AKA_ERROR. */
m2m_aka_status m2m_aka_auts_open(m2m_milenage *m, const uint8_t rand[16], const uint8_t auts[14],
				 uint64_t *sqn_ms);
/* AuC: m2m_aka_auts_open, then on success moves SQN_HE (m2m_sqn_he_resync). */
m2m_aka_status m2m_aka_he_resync(m2m_milenage *m, m2m_sqn_he *he, const uint8_t rand[16],
				 const uint8_t auts[14]);

/* USIM: verifies AUTN against K and the SQN state u (updated only on M2M_AKA_OK). */
m2m_aka_status m2m_aka_usim_authenticate(m2m_milenage *m, m2m_sqn_usim *u, const uint8_t rand[16],
					 const uint8_t autn[16], m2m_aka_usim_result *r);
/* USIM: the AUTS that reports sqn_ms for this RAND; 0 or -1. */
int m2m_aka_auts_build(m2m_milenage *m, const uint8_t rand[16], uint64_t sqn_ms,
		       uint8_t auts[14]);

#endif
