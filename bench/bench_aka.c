/*
 * m2m-bench-aka: how fast the home operator's AuC makes authentication vectors, measured against
 * the raw AES-128 block rate of the same OpenSSL on the same core in the same run. A vector
 * costs a fresh RAND, f1 and f2345 (six AES blocks of MILENAGE, plus the OPc-keyed setup) and
 * SQN bookkeeping, so the ratio says how close the composition is to the primitive.
 * Prints figures only; nothing here passes or fails (docs/benchmarks.md).
 */
#include "aka/aka.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Single-block AES-128 encryptions per second: the primitive MILENAGE is built from. */
static double aes_blocks_per_second(double seconds)
{
	static const unsigned char key[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
					      0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
	unsigned char block[16] = {0};
	int outl;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	long n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 10000; i++)
			EVP_EncryptUpdate(ctx, block, &outl, block, 16);
		n += 10000;
	} while ((t = now() - t0) < seconds);
	EVP_CIPHER_CTX_free(ctx);
	return (double)n / t;
}

static double vectors_per_second(double seconds)
{
	static const uint8_t k[16] = {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f,
				      0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
	static const uint8_t opc[16] = {0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e,
					0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
	static const uint8_t amf[2] = {0x80, 0x00};
	m2m_milenage m;
	m2m_sqn_params p;
	m2m_sqn_he he;
	m2m_aka_av av;
	m2m_sqn_params_default(&p);
	if (m2m_milenage_init(&m, k, opc) || m2m_sqn_he_init(&he, &p, 0))
		return -1;
	long n = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 1000; i++)
			if (m2m_aka_av_generate(&m, &he, amf, &av))
				return -1;
		n += 1000;
	} while ((t = now() - t0) < seconds);
	m2m_milenage_clear(&m);
	return (double)n / t;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	if (seconds <= 0) {
		fprintf(stderr, "usage: m2m-bench-aka [SECONDS per measurement, default 2]\n");
		return 2;
	}
	double aes = aes_blocks_per_second(seconds);
	double avs = vectors_per_second(seconds);
	if (avs < 0) {
		fprintf(stderr, "m2m-bench-aka: vector generation failed\n");
		return 1;
	}
	printf("aes128_blocks_per_second %.0f\n", aes);
	printf("vectors_per_second %.0f\n", avs);
	printf("aes_blocks_per_vector_time %.1f\n", aes / avs);
	return 0;
}
