/*
 * The AuC's answer to an authInfoRequest: n vectors for a subscriber (TS 33.102 6.3.2), each a
 * UMTS quintet with the GSM Kc derived from it (c3, 6.8.1.2) for a visited network that serves the
 * device in a 2G context, and the AuthInfoResponse that carries them. Every AuC of the system
 * answers with it: an operator's HSS for its subscribers, the registration operator's ICF for its
 * PCIDs.
 */
#ifndef M2M_AKA_AUTH_INFO_H
#define M2M_AKA_AUTH_INFO_H

#include "aka/aka.h"
#include "wire/messages.h"

#include <stdint.h>

typedef struct m2m_aka_vector {
	m2m_aka_av av;
	uint8_t kc[8];  /* c3(CK, IK) */
} m2m_aka_vector;

/* n fresh vectors into out, he moved past them (the caller stores it before they leave). 0, or -1
 * (a cipher failure or SQN exhausted) with out wiped. */
int m2m_aka_vectors(m2m_milenage *m, m2m_sqn_he *he, const uint8_t amf[2], int n, m2m_aka_vector *out);

/* The authInfoResponse carrying v[0..n-1]; NULL when it cannot be built. */
M2M_AUTH_INFO_RESPONSE *m2m_aka_auth_info_response(const m2m_aka_vector *v, int n);
/* Frees it, XRES, CK, IK and Kc wiped first. NULL is fine. */
void m2m_aka_auth_info_response_free(M2M_AUTH_INFO_RESPONSE *resp);

#endif
