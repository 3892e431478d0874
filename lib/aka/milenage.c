/* MILENAGE per TS 35.206 §4.1; the constants r1..r5 and c1..c5 are its default values. */
#include "aka/milenage.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

/* r1..r5 are whole bytes (64, 0, 32, 64, 96 bits), so rot() moves bytes. */
enum { R1 = 8, R2 = 0, R3 = 4, R4 = 8, R5 = 12 };
/* c1..c5 are zero except for their last byte. */
enum { C1 = 0x00, C2 = 0x01, C3 = 0x02, C4 = 0x04, C5 = 0x08 };

/* E_K over whole blocks: ECB, so several independent blocks cost one OpenSSL call. */
static int aes(m2m_milenage *m, const uint8_t *in, uint8_t *out, int len)
{
	int n = 0;
	return EVP_EncryptUpdate(m->aes, out, &n, in, len) == 1 && n == len ? 0 : -1;
}

static void xor16(uint8_t *out, const uint8_t *a, const uint8_t *b)
{
	for (int i = 0; i < 16; i++)
		out[i] = a[i] ^ b[i];
}

/* rot(x, r) cyclically shifts x left by r bits, i.e. towards the most significant end. */
static void rot(uint8_t out[16], const uint8_t in[16], int bytes)
{
	for (int i = 0; i < 16; i++)
		out[i] = in[(i + bytes) % 16];
}

/* TEMP = E_K(RAND xor OPc), the common first step of every function. */
static int temp(m2m_milenage *m, const uint8_t rand[16], uint8_t out[16])
{
	uint8_t in[16];
	xor16(in, rand, m->opc);
	return aes(m, in, out, 16);
}

/* The cipher input of OUT_n = E_K(rot(TEMP xor OPc, r_n) xor c_n) xor OPc, n = 2..5. */
static void out_n_input(const uint8_t t_opc[16], int r, uint8_t c, uint8_t block[16])
{
	rot(block, t_opc, r);
	block[15] ^= c;
}

/* OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc, IN1 = SQN||AMF||SQN||AMF. */
static int out1(m2m_milenage *m, const uint8_t rand[16], const uint8_t sqn[6], const uint8_t amf[2],
		uint8_t out[16])
{
	uint8_t t[16], in1[16], x[16];
	int rc = temp(m, rand, t);
	for (int half = 0; half < 16; half += 8) {
		memcpy(in1 + half, sqn, 6);
		memcpy(in1 + half + 6, amf, 2);
	}
	xor16(in1, in1, m->opc);
	rot(x, in1, R1);
	x[15] ^= C1;
	xor16(x, x, t);
	rc = rc ? rc : aes(m, x, out, 16);
	xor16(out, out, m->opc);
	OPENSSL_cleanse(t, sizeof t);
	return rc;
}

int m2m_milenage_opc(const uint8_t k[16], const uint8_t op[16], uint8_t opc[16])
{
	m2m_milenage m;
	if (m2m_milenage_init_op(&m, k, op) != 0)
		return -1;
	memcpy(opc, m.opc, 16);
	m2m_milenage_clear(&m);
	return 0;
}

int m2m_milenage_init(m2m_milenage *m, const uint8_t k[16], const uint8_t opc[16])
{
	m->aes = EVP_CIPHER_CTX_new();
	if (!m->aes || EVP_EncryptInit_ex(m->aes, EVP_aes_128_ecb(), NULL, k, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(m->aes, 0) != 1) {
		EVP_CIPHER_CTX_free(m->aes);
		m->aes = NULL;
		return -1;
	}
	memcpy(m->opc, opc, 16);
	return 0;
}

int m2m_milenage_init_op(m2m_milenage *m, const uint8_t k[16], const uint8_t op[16])
{
	static const uint8_t zero[16];
	uint8_t e[16];
	/* Key with a placeholder OPc: computing OPc needs E_K only, which does not read it. */
	if (m2m_milenage_init(m, k, zero) != 0)
		return -1;
	if (aes(m, op, e, 16) != 0) {
		m2m_milenage_clear(m);
		return -1;
	}
	xor16(m->opc, op, e);
	return 0;
}

void m2m_milenage_clear(m2m_milenage *m)
{
	EVP_CIPHER_CTX_free(m->aes);
	m->aes = NULL;
	OPENSSL_cleanse(m->opc, sizeof m->opc);
}

/* f1 = OUT1[0..63] (TS 35.206 §4.1). */
int m2m_milenage_f1(m2m_milenage *m, const uint8_t rand[16], const uint8_t sqn[6],
		    const uint8_t amf[2], uint8_t mac_a[8])
{
	uint8_t out[16];
	int rc = out1(m, rand, sqn, amf, out);
	memcpy(mac_a, out, 8);
	return rc;
}

/* f1* = OUT1[64..127]. */
int m2m_milenage_f1star(m2m_milenage *m, const uint8_t rand[16], const uint8_t sqn[6],
			const uint8_t amf[2], uint8_t mac_s[8])
{
	uint8_t out[16];
	int rc = out1(m, rand, sqn, amf, out);
	memcpy(mac_s, out + 8, 8);
	return rc;
}

/* f5 = OUT2[0..47], f2 = OUT2[64..127], f3 = OUT3, f4 = OUT4: OUT2..OUT4 in one ECB call. */
int m2m_milenage_f2345(m2m_milenage *m, const uint8_t rand[16], uint8_t res[8], uint8_t ck[16],
		       uint8_t ik[16], uint8_t ak[6])
{
	uint8_t t[16], in[48], out[48];
	int rc = temp(m, rand, t);
	xor16(t, t, m->opc);
	out_n_input(t, R2, C2, in);
	out_n_input(t, R3, C3, in + 16);
	out_n_input(t, R4, C4, in + 32);
	rc = rc ? rc : aes(m, in, out, 48);
	for (int b = 0; b < 48; b += 16)
		xor16(out + b, out + b, m->opc);
	memcpy(ak, out, 6);
	memcpy(res, out + 8, 8);
	memcpy(ck, out + 16, 16);
	memcpy(ik, out + 32, 16);
	OPENSSL_cleanse(t, sizeof t);
	OPENSSL_cleanse(out, sizeof out);
	return rc;
}

/* f5* = OUT5[0..47]. */
int m2m_milenage_f5star(m2m_milenage *m, const uint8_t rand[16], uint8_t ak_star[6])
{
	uint8_t t[16], in[16], out[16];
	int rc = temp(m, rand, t);
	xor16(t, t, m->opc);
	out_n_input(t, R5, C5, in);
	rc = rc ? rc : aes(m, in, out, 16);
	xor16(out, out, m->opc);
	memcpy(ak_star, out, 6);
	OPENSSL_cleanse(t, sizeof t);
	return rc;
}
