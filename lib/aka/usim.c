/* The USIM side of AKA: verifying AUTN and the synchronisation failure (TS 33.102 §6.3.3). */
#include "aka/aka.h"

#include <openssl/crypto.h>
#include <string.h>

int m2m_aka_auts_build(m2m_milenage *m, const uint8_t rand[16], uint64_t sqn_ms, uint8_t auts[14])
{
	uint8_t sqn_b[6], ak_star[6];
	if (sqn_ms > M2M_SQN_MAX)
		return -1;
	m2m_sqn_pack(sqn_ms, sqn_b);
	if (m2m_milenage_f5star(m, rand, ak_star) != 0 ||
	    m2m_milenage_f1star(m, rand, sqn_b, M2M_AKA_AMF_STAR, auts + 6) != 0)
		return -1;
	for (int i = 0; i < 6; i++)
		auts[i] = sqn_b[i] ^ ak_star[i];
	return 0;
}

/* The order of §6.3.3: recover SQN with AK, check XMAC = MAC-A, only then judge SQN freshness. */
static m2m_aka_status check_autn(m2m_milenage *m, m2m_sqn_usim *u, const uint8_t rand[16],
				 const uint8_t autn[16], const uint8_t ak[6])
{
	uint8_t sqn_b[6], xmac[8];
	for (int i = 0; i < 6; i++)
		sqn_b[i] = autn[i] ^ ak[i];
	if (m2m_milenage_f1(m, rand, sqn_b, autn + 6, xmac) != 0)
		return M2M_AKA_ERROR;
	if (CRYPTO_memcmp(xmac, autn + 8, 8) != 0)
		return M2M_AKA_MAC_FAILURE;
	return m2m_sqn_usim_accept(u, m2m_sqn_unpack(sqn_b)) == 0 ? M2M_AKA_OK : M2M_AKA_SYNC_FAILURE;
}

m2m_aka_status m2m_aka_usim_authenticate(m2m_milenage *m, m2m_sqn_usim *u, const uint8_t rand[16],
					 const uint8_t autn[16], m2m_aka_usim_result *r)
{
	uint8_t ak[6];
	m2m_aka_status s = M2M_AKA_ERROR;
	memset(r, 0, sizeof *r);
	/* RES, CK and IK come out of the same cipher call as AK; they are released only on success. */
	if (m2m_milenage_f2345(m, rand, r->res, r->ck, r->ik, ak) == 0)
		s = check_autn(m, u, rand, autn, ak);
	if (s != M2M_AKA_OK)
		OPENSSL_cleanse(r, sizeof *r);
	if (s == M2M_AKA_SYNC_FAILURE &&
	    m2m_aka_auts_build(m, rand, m2m_sqn_usim_highest(u), r->auts) != 0)
		s = M2M_AKA_ERROR;
	return s;
}
