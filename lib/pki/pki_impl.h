/* lib/pki internals shared by its files: the object identifiers and the RevokedModels codec. */
#ifndef M2M_PKI_IMPL_H
#define M2M_PKI_IMPL_H

#include "pki/pki.h"
#include "wire/wire.h"

/* The project's OIDs (pki.h), parsed once and kept for the life of the process. */
const ASN1_OBJECT *pki_oid_tre_platform(void);
const ASN1_OBJECT *pki_oid_revoked_models(void);
const ASN1_OBJECT *pki_oid_profile(int profile);  /* NULL outside 0..M2M_PROFILE_MAX */

/* Whether d2i consumed exactly the input: DER inputs are one object, nothing after it. */
int pki_consumed(const unsigned char *end, const uint8_t *der, size_t len);

/* A time as an X.509 Time (UTCTime before 2050, GeneralizedTime from then on, RFC 5280). */
int pki_set_time(ASN1_TIME *t, time_t at);

/* The RevokedModels extension value (docs/pki.md): DER into *out (OPENSSL_malloc'd). 0 or -1. */
int pki_models_der(const m2m_revoked_model *models, size_t n, uint8_t **out, size_t *len);
/* Decodes it; calls add for each model. 0, or -1 when it is not DER of RevokedModels. */
int pki_models_parse(const uint8_t *der, size_t len, int (*add)(void *arg, const m2m_revoked_model *m),
		     void *arg);

/* The DER of a CMS made from in (whose BIO it frees with it) when ok: 0, or -1 (also when !ok). */
int pki_cms_der(int ok, CMS_ContentInfo *cms, BIO *in, uint8_t **der, size_t *derlen);

/* m2m_trust_verify with extra untrusted certificates (those a CMS brought along). */
m2m_reason pki_verify_with(m2m_trust *t, X509 *cert, STACK_OF(X509) *extra, int profile);

#endif
