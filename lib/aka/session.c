/* User-data protection keyed from CK and IK (session.h). */
#include "aka/session.h"

#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <string.h>

static const char label[] = "TR33812 user plane";

int m2m_session_key(const uint8_t ck[16], const uint8_t ik[16], const uint8_t session_id[M2M_SESSION_ID_LEN],
		    uint8_t key[32])
{
	uint8_t k[32], s[sizeof label - 1 + M2M_SESSION_ID_LEN];
	size_t outlen = 0;
	memcpy(k, ck, 16);
	memcpy(k + 16, ik, 16);
	memcpy(s, label, sizeof label - 1);
	memcpy(s + sizeof label - 1, session_id, M2M_SESSION_ID_LEN);
	int ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k, sizeof k, s, sizeof s, key, 32, &outlen) && outlen == 32;
	m2m_wipe(k, sizeof k);
	return ok ? 0 : -1;
}

static void nonce_for(m2m_direction dir, uint64_t counter, uint8_t nonce[12])
{
	memset(nonce, 0, 12);
	nonce[3] = (uint8_t)dir;
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

int m2m_session_seal(const uint8_t key[32], const uint8_t session_id[M2M_SESSION_ID_LEN], m2m_direction dir,
		     uint64_t counter, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12];
	nonce_for(dir, counter, nonce);
	return m2m_gcm(1, key, nonce, session_id, M2M_SESSION_ID_LEN, in, len, out, out + len);
}

int m2m_session_open(const uint8_t key[32], const uint8_t session_id[M2M_SESSION_ID_LEN], m2m_direction dir,
		     uint64_t counter, const uint8_t *in, size_t len, uint8_t *out)
{
	uint8_t nonce[12], tag[M2M_SESSION_TAG_LEN];
	if (len < M2M_SESSION_TAG_LEN)
		return -1;
	len -= M2M_SESSION_TAG_LEN;
	memcpy(tag, in + len, sizeof tag);
	nonce_for(dir, counter, nonce);
	if (m2m_gcm(0, key, nonce, session_id, M2M_SESSION_ID_LEN, in, len, out, tag) == 0)
		return 0;
	m2m_wipe(out, len);
	return -1;
}
