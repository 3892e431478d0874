/* The AuC side of AKA: vector generation (TS 33.102 §6.3.2) and re-synchronisation (§6.3.5). */
#include "aka/aka.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

int m2m_aka_av_build(m2m_milenage *m, const uint8_t rand[16], uint64_t sqn, const uint8_t amf[2],
		     m2m_aka_av *av)
{
	uint8_t sqn_b[6], ak[6];
	if (sqn > M2M_SQN_MAX)
		return -1;
	m2m_sqn_pack(sqn, sqn_b);
	memcpy(av->rand, rand, 16);
	if (m2m_milenage_f2345(m, rand, av->xres, av->ck, av->ik, ak) != 0 ||
	    m2m_milenage_f1(m, rand, sqn_b, amf, av->autn + 8) != 0)
		return -1;
	for (int i = 0; i < 6; i++)
		av->autn[i] = sqn_b[i] ^ ak[i];
	memcpy(av->autn + 6, amf, 2);
	return 0;
}

int m2m_aka_av_generate(m2m_milenage *m, m2m_sqn_he *he, const uint8_t amf[2], m2m_aka_av *av)
{
	uint8_t rand[16];
	uint64_t sqn;
	/* §6.3.2: RAND is unpredictable; the SQN is allocated only once RAND is at hand, so that a
	 * DRBG failure does not burn a sequence number. */
	if (RAND_bytes(rand, sizeof rand) != 1 || m2m_sqn_he_next(he, &sqn) != 0)
		return -1;
	return m2m_aka_av_build(m, rand, sqn, amf, av);
}

m2m_aka_status m2m_aka_auts_open(m2m_milenage *m, const uint8_t rand[16], const uint8_t auts[14],
				 uint64_t *sqn_ms)
{
	uint8_t ak_star[6], sqn_b[6], xmac_s[8];
	if (m2m_milenage_f5star(m, rand, ak_star) != 0)
		return M2M_AKA_ERROR;
	for (int i = 0; i < 6; i++)
		sqn_b[i] = auts[i] ^ ak_star[i];
	if (m2m_milenage_f1star(m, rand, sqn_b, M2M_AKA_AMF_STAR, xmac_s) != 0)
		return M2M_AKA_ERROR;
	if (CRYPTO_memcmp(xmac_s, auts + 6, 8) != 0)
		return M2M_AKA_MAC_FAILURE;
	*sqn_ms = m2m_sqn_unpack(sqn_b);
	return M2M_AKA_OK;
}

m2m_aka_status m2m_aka_he_resync(m2m_milenage *m, m2m_sqn_he *he, const uint8_t rand[16],
				 const uint8_t auts[14])
{
	uint64_t sqn_ms;
	m2m_aka_status s = m2m_aka_auts_open(m, rand, auts, &sqn_ms);
	if (s == M2M_AKA_OK && m2m_sqn_he_resync(he, sqn_ms) != 0)
		return M2M_AKA_ERROR;
	return s;
}
