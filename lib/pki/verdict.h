/*
 * The relying party's side of a validationResponse (R9; brief T-1a-10: "a PVA verdict unsigned or
 * for another TRE_ID is rejected"): before an operator releases anything on a verdict it checks
 * that the PVA signed it, that it is about the TRE in hand and addressed to itself, and that it
 * is still valid. Then it looks at the result: only `ok` lets it act (brief §3 step 6).
 *
 * Every relying party (an operator's DPF, the registration operator) uses it.
 */
#ifndef M2M_PKI_VERDICT_H
#define M2M_PKI_VERDICT_H

#include "pki/pki.h"
#include "wire/wire.h"

#include <stdint.h>
#include <time.h>

#define M2M_VERDICT_MAX_REASONS 16

/* What a verdict says, for a relying party that accepted it. */
typedef struct m2m_verdict_info {
	m2m_verdict_result result;  /* ok, quarantine or fail */
	m2m_validation_mode mode;
	int nreasons;
	m2m_reason reasons[M2M_VERDICT_MAX_REASONS];
	uint8_t nonce[32];
	int64_t validated_at, valid_until;  /* Unix seconds */
} m2m_verdict_info;

/*
 * cms: the DER of a validationResponse's SignedObject. trust: the agency's root (and its CRL).
 * M2M_OK when it is a Verdict signed under a valid certificate of profile pva, about tre, for
 * relying_party, and now <= validUntil; then info (may be NULL) gets what it says.
 * Otherwise: badSignature (not a SignedData over a Verdict, a signature that does not verify,
 * or a signer that is not a PVA), the reason lib/pki gives for the signer's certificate
 * (badChain, certificateExpired, certificateRevoked), or staleVerdict (past validUntil, about
 * another TRE, or addressed to another relying party).
 */
m2m_reason m2m_verdict_check(m2m_trust *trust, const uint8_t *cms, size_t len, const char *tre,
			     const char *relying_party, time_t now, m2m_verdict_info *info);

#endif
