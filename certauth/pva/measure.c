/*
 * Measurements (appraise.h): the replay of a measurement log into registers, and the lookup of
 * a component's certified reference value.
 *
 * The extend is TCG's PCR extend with SHA-256 (brief §6.4): R = SHA-256(R || digest), each
 * register starting at 32 zero bytes, where the log's digest is already SHA-256(component)
 * (docs/protocol.asn1, Quote).
 */
#include "appraise.h"

#include <openssl/evp.h>
#include <string.h>

static int extend(uint8_t reg[PVA_DIGEST_LEN], const uint8_t digest[PVA_DIGEST_LEN])
{
	uint8_t in[2 * PVA_DIGEST_LEN];
	unsigned int len = 0;
	memcpy(in, reg, PVA_DIGEST_LEN);
	memcpy(in + PVA_DIGEST_LEN, digest, PVA_DIGEST_LEN);
	return EVP_Digest(in, sizeof in, reg, &len, EVP_sha256(), NULL) == 1 && len == PVA_DIGEST_LEN ? 0 : -1;
}

int pva_log_replays(const pva_quote *q)
{
	uint8_t regs[PVA_MAX_REGISTERS][PVA_DIGEST_LEN];
	if (q->nregisters < 1 || q->nregisters > PVA_MAX_REGISTERS || q->nlog < 0 || q->nlog > PVA_MAX_LOG)
		return 0;
	memset(regs, 0, sizeof regs);
	for (int i = 0; i < q->nlog; i++) {
		int r = q->log[i].reg;
		/* an entry for a register the quote does not cover cannot be checked: a mismatch */
		if (r < 0 || r >= q->nregisters || extend(regs[r], q->log[i].digest))
			return 0;
	}
	return memcmp(regs, q->registers, (size_t)q->nregisters * PVA_DIGEST_LEN) == 0;
}

const pva_reference *pva_reference_find(const pva_references *refs, const char *component)
{
	for (int i = 0; refs && i < refs->count; i++)
		if (!strcmp(refs->refs[i].component, component))
			return &refs->refs[i];
	return NULL;
}
