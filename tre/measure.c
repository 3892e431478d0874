/*
 * Measurement registers and the measurement log (brief §3, "What the TRE measures"; the TPM
 * PCR rule). A register can only be extended, never set: R = SHA-256(R || SHA-256(component)),
 * from 32 zero bytes at power-on. The log keeps each extension {register, component, digest}, so
 * that a verifier can replay it and check it against the registers the TRE signs.
 */
#include "tre.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

void tre_sha256(const void *data, size_t len, uint8_t out[TRE_DIGEST_LEN])
{
	unsigned int n = 0;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void tre_measurements_reset(tre_measurements *m)
{
	memset(m, 0, sizeof *m);
}

static void extend_register(uint8_t reg[TRE_DIGEST_LEN], const uint8_t digest[TRE_DIGEST_LEN])
{
	uint8_t buf[2 * TRE_DIGEST_LEN];
	memcpy(buf, reg, TRE_DIGEST_LEN);
	memcpy(buf + TRE_DIGEST_LEN, digest, TRE_DIGEST_LEN);
	tre_sha256(buf, sizeof buf, reg);
}

int tre_extend(tre_measurements *m, int reg, const char *component, const uint8_t digest[TRE_DIGEST_LEN])
{
	if (reg < 0 || reg >= TRE_REGISTERS || m->nlog >= TRE_MAX_LOG || strlen(component) > TRE_NAME_MAX)
		return -1;
	tre_log_entry *e = &m->log[m->nlog++];
	e->reg = reg;
	snprintf(e->component, sizeof e->component, "%s", component);
	memcpy(e->digest, digest, TRE_DIGEST_LEN);
	extend_register(m->reg[reg], digest);
	return 0;
}

int tre_replay(const tre_log_entry *log, int n, uint8_t regs[TRE_REGISTERS][TRE_DIGEST_LEN])
{
	memset(regs, 0, TRE_REGISTERS * TRE_DIGEST_LEN);
	for (int i = 0; i < n; i++) {
		if (log[i].reg < 0 || log[i].reg >= TRE_REGISTERS)
			return -1;
		extend_register(regs[log[i].reg], log[i].digest);
	}
	return 0;
}

/* Streamed: a component (an OS image) need not fit in memory. */
int tre_digest_file(const char *path, uint8_t digest[TRE_DIGEST_LEN])
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	unsigned char buf[16384];
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n);
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, digest, NULL);
	EVP_MD_CTX_free(ctx);
	fclose(f);
	return ok ? 0 : -1;
}
