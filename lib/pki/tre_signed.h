/*
 * What a TRE signs about itself (a DiscoveryRequest, an McimOrder, an InstallResult, Evidence, a
 * ChangeComplete, ...) reaches its relying party relayed by networks that prove nothing: only the
 * CMS SignedData says who speaks. Every relying party (the DRF, an operator's DPF, the PVA) checks
 * it the same way: the signature and the signer's chain under its trust store, the signer a valid
 * TRE certificate (m2m_pki_verify_tre: profile tre, its platform extension, a model the agency has
 * not revoked), and the signer's CN the TRE the content names in its `tre` field.
 */
#ifndef M2M_PKI_TRE_SIGNED_H
#define M2M_PKI_TRE_SIGNED_H

#include "pki/pki.h"
#include "wire/wire.h"

#include <stddef.h>

/* Where the TRE a content type speaks for is: M2M_TRE_FIELD(M2M_MCIM_ORDER). The field is the
 * module's `tre UTF8String` of that type. */
#define M2M_TRE_FIELD(type) offsetof(type, tre)

/* A SignedObject from a TRE, as m2m_cms_verify_tre_item found it. */
typedef struct m2m_tre_signed {
	const ASN1_ITEM *item;
	void *value;                    /* the content, decoded: the caller may take it (set NULL) */
	X509 *cert;                     /* the signer's certificate */
	M2M_TRE_PLATFORM *platform;     /* its TrePlatform */
	char tre[M2M_ENTITY_MAX + 1];   /* its CN, which is the TRE the content names */
	char why[200];                  /* when refused: what does not hold, for the refusal's text */
} m2m_tre_signed;

/*
 * Checks so, a SignedObject over item whose tre field is at tre_field (M2M_TRE_FIELD). M2M_OK with
 * everything in out; otherwise nothing but out->why, and the reason:
 *   M2M_R_MALFORMED            not a SignedData (the caller says whether that is badBody or
 *                              badSignature for its procedure);
 *   M2M_R_BAD_BODY             the content is not DER of item, or its tre is not an entity id;
 *   M2M_R_BAD_SIGNATURE        the signature does not verify, the signer is not a TRE
 *                              certificate, or it is not the TRE the content names;
 *   M2M_R_BAD_CHAIN, M2M_R_CERTIFICATE_EXPIRED, M2M_R_CERTIFICATE_REVOKED, M2M_R_MODEL_REVOKED:
 *                              the signer's certificate, modelRevoked taking precedence (the
 *                              agency revokes every certificate of a revoked model too);
 *   M2M_R_INTERNAL             no trust store (t NULL: the relying party is not enrolled yet).
 * Free out with m2m_tre_signed_clear in every case.
 */
m2m_reason m2m_cms_verify_tre_item(m2m_trust *t, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, size_t tre_field,
				   m2m_tre_signed *out);
void m2m_tre_signed_clear(m2m_tre_signed *s);

#endif
