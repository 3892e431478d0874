/*
 * The PVA's decision over plain C values (brief §3, "PVA decision algorithm"): what the TRE's
 * evidence says, what the PVA asked, what the agency certified for the TRE's platform type, and
 * the policy, in; a result with its reasons out. No wire types, no database, no OpenSSL objects:
 * test_pva.c drives it table by table, and attest.c feeds it from the wire.
 *
 * The checks, in order (docs/pva.md):
 *   1. trust       the signature, chain, expiry, revocation and model revocation, as lib/pki found them
 *   2. identity    the signer's certificate and the evidence name the TRE that was asked (badSignature)
 *   3. freshness   the nonce is the one issued, unused and unexpired (nonceReplayed)
 *   4. mode        the evidence answers the mode asked and carries that mode's part (badBody)
 *   5. assurance   the certified assurance level >= the relying party's minimum (assuranceTooLow)
 *   6. tamper      no tamper flag set (tamperDetected)
 *   7. the mode's own check: autonomous secureBoot, semi-autonomous component verdicts, remote
 *      log replay and reference values (componentModified, logMismatch, unknownDigest)
 * A failure of 1 to 4 means the rest of the evidence cannot be believed: the appraisal stops there
 * with that one reason. 5 to 7 are independent findings and are all reported.
 */
#ifndef CERTAUTH_PVA_APPRAISE_H
#define CERTAUTH_PVA_APPRAISE_H

#include "wire/wire.h"

#include <stdint.h>

#define PVA_NONCE_LEN 32
#define PVA_DIGEST_LEN 32
#define PVA_COMPONENT_MAX 63     /* ComponentVerdict.component, MeasurementLogEntry.component */
#define PVA_MODEL_MAX 63         /* TrePlatform.model */
#define PVA_VERSION_MAX 31       /* TrePlatform.version */
#define PVA_MAX_VERDICTS 32      /* Evidence.verdicts */
#define PVA_MAX_REGISTERS 8      /* Quote.registers */
#define PVA_MAX_LOG 64           /* Quote.log */
#define PVA_MAX_REFERENCES 32    /* PlatformType.references */
#define PVA_MAX_REASONS 16       /* Verdict.reasons */
#define PVA_ASSURANCE_MIN 1
#define PVA_ASSURANCE_MAX 7

/* TamperFlags as a bit mask: bit m2m_tamper_event. */
#define PVA_TAMPER_BIT(e) (1u << (e))

typedef struct pva_component_verdict {
	char component[PVA_COMPONENT_MAX + 1];
	int matches;
} pva_component_verdict;

typedef struct pva_log_entry {
	int reg;  /* 0..7; checked against the quote's registers when replayed */
	char component[PVA_COMPONENT_MAX + 1];
	uint8_t digest[PVA_DIGEST_LEN];  /* SHA-256 of the component */
} pva_log_entry;

typedef struct pva_quote {
	int nregisters;
	uint8_t registers[PVA_MAX_REGISTERS][PVA_DIGEST_LEN];
	int nlog;
	pva_log_entry log[PVA_MAX_LOG];
} pva_quote;

/* Evidence (docs/protocol.asn1) once its signature was checked and its DER decoded. */
typedef struct pva_evidence {
	char tre[M2M_ENTITY_MAX + 1];
	uint8_t nonce[PVA_NONCE_LEN];
	m2m_validation_mode mode;
	unsigned tamper;            /* PVA_TAMPER_BIT(...) */
	int secure_boot;
	int has_verdicts;
	int nverdicts;
	pva_component_verdict verdicts[PVA_MAX_VERDICTS];
	int has_quote;
	pva_quote quote;
} pva_evidence;

/* What the agency certified, from the TRE certificate's platform extension. */
typedef struct pva_platform {
	char model[PVA_MODEL_MAX + 1];
	char version[PVA_VERSION_MAX + 1];
	int assurance;
} pva_platform;

/* The certified reference values of one platform type (model, version). */
typedef struct pva_reference {
	char component[PVA_COMPONENT_MAX + 1];
	uint8_t digest[PVA_DIGEST_LEN];
} pva_reference;

typedef struct pva_references {
	int count;
	pva_reference refs[PVA_MAX_REFERENCES];
} pva_references;

/* What the PVA asked the TRE, and the state of the nonce it issued. */
typedef struct pva_challenge {
	char tre[M2M_ENTITY_MAX + 1];
	char relying_party[M2M_ENTITY_MAX + 1];  /* who asked: the verdict is addressed to it */
	uint8_t nonce[PVA_NONCE_LEN];
	m2m_validation_mode mode;
	int min_assurance;
	int used;              /* evidence for it was appraised already */
	int64_t expires;       /* Unix seconds */
} pva_challenge;

/* Unknown digests: fail, or quarantine when they are the only finding. */
typedef enum pva_unknown_policy { PVA_UNKNOWN_FAIL, PVA_UNKNOWN_QUARANTINE } pva_unknown_policy;

/* Everything the appraisal looks at. trust is what lib/pki said of the CMS signature and the
 * signer's certificate (M2M_OK, or badSignature, badChain, certificateExpired,
 * certificateRevoked, modelRevoked); signer the subject of that certificate. evidence,
 * platform and refs are only read when trust is M2M_OK. */
typedef struct pva_inputs {
	m2m_reason trust;
	const char *signer;
	const pva_evidence *evidence;
	const pva_platform *platform;
	const pva_references *refs;
	const pva_challenge *challenge;
	pva_unknown_policy unknown;
	int64_t now;
} pva_inputs;

typedef struct pva_outcome {
	m2m_verdict_result result;  /* ok, quarantine or fail */
	int nreasons;
	m2m_reason reasons[PVA_MAX_REASONS];  /* each reason once, in the order of the checks */
} pva_outcome;

/* The decision (appraise.c). */
void pva_appraise(const pva_inputs *in, pva_outcome *out);

/* An outcome with the one reason that stopped the appraisal (fail). */
void pva_outcome_fail(pva_outcome *out, m2m_reason why);

/* Replays the log of q into fresh registers, R = SHA-256(R || digest) from 32 zero bytes, and
 * compares them with the quoted ones (measure.c): 1 when every register matches and every entry
 * names a quoted register, else 0. */
int pva_log_replays(const pva_quote *q);

/* The reference value certified for component, or NULL when it has none (measure.c). */
const pva_reference *pva_reference_find(const pva_references *refs, const char *component);

/* "ok", "quarantine", "fail", "never". */
const char *pva_result_name(m2m_verdict_result r);

#endif
