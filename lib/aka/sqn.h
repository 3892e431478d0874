/*
 * Sequence number management for AKA (TS 33.102 Annex C): the AuC's counter SQN_HE and the
 * USIM's array of accepted SEQ values.
 *
 * SQN is 48 bits, SQN = SEQ || IND (Annex C.1.1.1): IND, the ind_bits least significant bits,
 * selects one of a = 2^ind_bits array entries in the USIM, so that vectors handed to different
 * serving nodes (or left unused in a batch) can be used out of order. Only non-time-based SEQ
 * values are generated (Annex C.1.1); SEQ1/SEQ2 and the global counter GLC are not modelled.
 *
 * Both states are plain data (no pointers), and serialise to fixed-size big-endian blobs so
 * that a caller can persist them after every change.
 */
#ifndef M2M_AKA_SQN_H
#define M2M_AKA_SQN_H

#include <stdint.h>

#define M2M_SQN_MAX ((UINT64_C(1) << 48) - 1)
/* The common choice of IND length: 5 bits, a = 32 array entries. */
#define M2M_SQN_IND_BITS_DEFAULT 5
#define M2M_SQN_IND_BITS_MAX 8
#define M2M_SQN_ARRAY_MAX (1u << M2M_SQN_IND_BITS_MAX)
/* Δ of Annex C.2.1: the largest step forward a USIM accepts. */
#define M2M_SQN_DELTA_DEFAULT (UINT64_C(1) << 28)
/*
 * L of Annex C.2.2: a SEQ this far below the highest accepted one is refused even if its IND
 * entry would take it. The Annex leaves the value open; 1024 keeps several unused batches
 * usable out of order while bounding how old a captured vector may be.
 */
#define M2M_SQN_AGE_LIMIT_DEFAULT UINT64_C(1024)

typedef struct m2m_sqn_params {
	uint8_t ind_bits;   /* 0..M2M_SQN_IND_BITS_MAX */
	uint64_t delta;     /* Δ, >= 1 */
	uint64_t age_limit; /* L; 0 = no limit (the Annex makes L optional) */
} m2m_sqn_params;

typedef struct m2m_sqn_usim {
	m2m_sqn_params p;
	uint64_t seq_ms[M2M_SQN_ARRAY_MAX]; /* SEQ_MS(i); entries >= 2^ind_bits stay 0 */
} m2m_sqn_usim;

typedef struct m2m_sqn_he {
	m2m_sqn_params p;
	uint64_t seq_he; /* SEQ of the last vector generated */
	uint32_t ind_he; /* IND the next vector will carry */
} m2m_sqn_he;

#define M2M_SQN_USIM_BLOB_LEN (19 + 6 * M2M_SQN_ARRAY_MAX)
#define M2M_SQN_HE_BLOB_LEN 26

/* SQN as 6 octets, most significant first, as carried in AUTN and AUTS. */
void m2m_sqn_pack(uint64_t sqn, uint8_t out[6]);
uint64_t m2m_sqn_unpack(const uint8_t in[6]);

void m2m_sqn_params_default(m2m_sqn_params *p);

/* A new USIM state, every SEQ_MS(i) zero; p NULL for the defaults. -1 if p is invalid. */
int m2m_sqn_usim_init(m2m_sqn_usim *u, const m2m_sqn_params *p);
/*
 * Checks a received SQN (whose MAC has already been verified) and, if it is fresh, records it:
 * 0 when accepted, -1 when refused (state unchanged), which calls for a synchronisation failure.
 */
int m2m_sqn_usim_accept(m2m_sqn_usim *u, uint64_t sqn);
/* SQN_MS, the highest SQN accepted so far (0 for a new state): the value a sync failure reports. */
uint64_t m2m_sqn_usim_highest(const m2m_sqn_usim *u);
void m2m_sqn_usim_serialise(const m2m_sqn_usim *u, uint8_t blob[M2M_SQN_USIM_BLOB_LEN]);
/* 0, or -1 (u untouched) if the blob is not a valid USIM state. */
int m2m_sqn_usim_deserialise(m2m_sqn_usim *u, const uint8_t blob[M2M_SQN_USIM_BLOB_LEN]);

/* An AuC counter starting at SQN_HE = sqn (e.g. from provisioning); -1 if invalid. */
int m2m_sqn_he_init(m2m_sqn_he *h, const m2m_sqn_params *p, uint64_t sqn);
/* Allocates the SQN of the next vector; -1 once SEQ is exhausted. */
int m2m_sqn_he_next(m2m_sqn_he *h, uint64_t *sqn);
/* After a verified AUTS: moves SEQ_HE so that the next vector is accepted by that USIM.
 * -1 if sqn_ms is wider than 48 bits. */
int m2m_sqn_he_resync(m2m_sqn_he *h, uint64_t sqn_ms);
void m2m_sqn_he_serialise(const m2m_sqn_he *h, uint8_t blob[M2M_SQN_HE_BLOB_LEN]);
int m2m_sqn_he_deserialise(m2m_sqn_he *h, const uint8_t blob[M2M_SQN_HE_BLOB_LEN]);

#endif
