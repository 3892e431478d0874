/*
 * The certification agency's X.509 hierarchy as every role sees it (docs/pki.md): ECDSA P-256
 * keys, certificates with a profile (a certificate policy OID) and, for a TRE, the TrePlatform
 * extension; the issuing CA's CRL with the list of revoked TRE models; CMS SignedData for the
 * objects a third party must check offline. Everything is plain OpenSSL 3: the DER this code
 * writes is checked by `openssl verify -crl_check` and `openssl cms -verify` (see docs/pki.md).
 *
 * Conventions: DER outputs are OPENSSL_malloc'd (free with OPENSSL_free; private key DER with
 * OPENSSL_clear_free). Functions taking an X509 or EVP_PKEY never take ownership of it; a
 * function returning one gives the caller a reference to free. DER inputs are strict: the
 * whole input must be one object, in DER.
 */
#ifndef M2M_PKI_H
#define M2M_PKI_H

#include "wire/messages.h"
#include "wire/reason.h"

#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The arc of this project's object identifiers (a UUID, X.667), and those under it. */
#define M2M_PKI_ARC "2.25.83150326890051473975791375598760937048"
#define M2M_OID_TRE_PLATFORM M2M_PKI_ARC ".1"    /* certificate extension: TrePlatform */
#define M2M_OID_REVOKED_MODELS M2M_PKI_ARC ".2"  /* CRL extension: RevokedModels */
#define M2M_OID_PROFILE_ARC M2M_PKI_ARC ".3"     /* .N: certificate policy of CertProfile N */

/* ---- keys (key.c) ------------------------------------------------------------------------- */

/* A fresh ECDSA P-256 key; NULL only when OpenSSL fails. */
EVP_PKEY *m2m_pki_keygen(void);
/* PKCS#8 DER of the private key, to be sealed (m2m_seal) before it is stored; 0 or -1. */
int m2m_pki_key_der(EVP_PKEY *key, uint8_t **der, size_t *len);
/* A P-256 private key from PKCS#8 DER; NULL if it is not one. */
EVP_PKEY *m2m_pki_key_from_der(const uint8_t *der, size_t len);
/* A P-256 public key from exactly the DER of its SubjectPublicKeyInfo (the whole input, the bytes
 * it re-encodes to); NULL if it is not one. A key a third party registers (a subscriber's). */
EVP_PKEY *m2m_pki_pubkey_from_der(const uint8_t *der, size_t len);

/* ECDSA with SHA-256 over the DER of value (of template item), as OpenSSL writes it
 * (Ecdsa-Sig-Value), into signature; and its check under key (NULL: it does not verify). 0 or -1.
 * For what is signed without a certificate: a subscriber's ChangeAuthorisation. (signature.c) */
int m2m_pki_sign_der_of(EVP_PKEY *key, const ASN1_ITEM *item, const void *value, ASN1_OCTET_STRING *signature);
int m2m_pki_verify_der_of(EVP_PKEY *key, const ASN1_ITEM *item, const void *value, const ASN1_OCTET_STRING *signature);

/* A PKCS#10 request for key with subject CN=cn, signed by key; 0 or -1. */
int m2m_pki_csr(EVP_PKEY *key, const char *cn, uint8_t **der, size_t *len);
/*
 * Checks a PKCS#10 request: DER, self-signature valid, a P-256 key, a subject of exactly one CN
 * of 1..63 characters. Gives the CN and the public key (a reference to free). M2M_OK,
 * M2M_R_MALFORMED (not a request, or not of that shape) or M2M_R_BAD_SIGNATURE.
 */
m2m_reason m2m_pki_csr_check(const uint8_t *der, size_t len, char cn[64], EVP_PKEY **pub);

/* ---- certificates (cert.c) ---------------------------------------------------------------- */

X509 *m2m_pki_cert_from_der(const uint8_t *der, size_t len);
/* A chain as the wire carries it (EnrolResponse.chain): 1..max certificates, each DER; NULL
 * when it is not (free with sk_X509_pop_free(chain, X509_free)). */
STACK_OF(X509) *m2m_pki_chain_from_der(const STACK_OF(ASN1_OCTET_STRING) *ders, int max);
int m2m_pki_cert_der(X509 *cert, uint8_t **der, size_t *len);
/* PEM files: how the root certificate is handed to relying parties. 0 or -1 / NULL. */
int m2m_pki_cert_write_pem(X509 *cert, const char *path);
X509 *m2m_pki_cert_read_pem(const char *path);

/* The subject CN (the entity id); 0, or -1 when there is not exactly one that fits. */
int m2m_pki_cert_cn(X509 *cert, char *buf, size_t buflen);
/* The serial number, when it fits 63 bits (every serial this agency issues does); 0 or -1. */
int m2m_pki_cert_serial(X509 *cert, uint64_t *serial);
/* The m2m_cert_profile of an end-entity certificate (its policy OID), or -1 when none. */
int m2m_pki_cert_profile(X509 *cert);

/* The TRE platform extension: set while issuing; get gives a fresh copy (free it with
 * M2M_TRE_PLATFORM_free) or -1 when it is absent or not DER of TrePlatform. */
int m2m_pki_set_tre_platform(X509 *cert, const M2M_TRE_PLATFORM *platform);
int m2m_pki_get_tre_platform(X509 *cert, M2M_TRE_PLATFORM **platform);
/* Checks a TrePlatform against its ASN.1 sizes (model 1..63, version 1..31 characters, assurance
 * 1..7) and copies the strings out; 0, or -1 when it does not fit. */
int m2m_pki_tre_platform_read(const M2M_TRE_PLATFORM *platform, char model[64], char version[32]);

/* The ASN.1 identifier of a CertProfile ("tre"), and back (-1 for an unknown name). */
const char *m2m_pki_profile_name(int profile);
int m2m_pki_profile_from_name(const char *name);

/* ---- issuing (issue.c): what the agency does, also used by tests --------------------------- */

typedef enum m2m_cert_kind {
	M2M_CERT_ROOT,        /* self-signed, CA, no path length limit */
	M2M_CERT_ISSUING_CA,  /* CA, path length 0: issues end entities only */
	M2M_CERT_END_ENTITY,  /* digitalSignature, its profile's policy, TrePlatform for a tre */
} m2m_cert_kind;

typedef struct m2m_cert_spec {
	m2m_cert_kind kind;
	const char *cn;
	EVP_PKEY *subject_key;   /* its public half is certified */
	uint64_t serial;         /* 1..2^63-1 */
	time_t not_before, not_after;
	int profile;             /* end entity: its m2m_cert_profile */
	const M2M_TRE_PLATFORM *platform;  /* end entity of profile tre: required */
} m2m_cert_spec;

/* issuer NULL: self-signed by subject_key (the root). NULL on a spec that does not fit. */
X509 *m2m_pki_issue(const m2m_cert_spec *spec, X509 *issuer, EVP_PKEY *issuer_key);

/* ---- the CRL and the revoked models (crl.c) ------------------------------------------------ */

/* RFC 5280 CRLReason values this agency uses. */
enum { M2M_CRL_UNSPECIFIED = 0, M2M_CRL_KEY_COMPROMISE = 1, M2M_CRL_PRIVILEGE_WITHDRAWN = 9 };

typedef struct m2m_crl_entry {
	uint64_t serial;
	time_t revoked_at;
	int reason;  /* one of the above: PRIVILEGE_WITHDRAWN marks a model revocation */
} m2m_crl_entry;

/* A revoked TRE model: every version of it when version is "" (docs/pki.md, RevokedModel). */
typedef struct m2m_revoked_model {
	char model[64];
	char version[32];
} m2m_revoked_model;

typedef struct m2m_crl_spec {
	const m2m_crl_entry *entries;
	size_t nentries;
	const m2m_revoked_model *models;
	size_t nmodels;
	uint64_t number;               /* cRLNumber: strictly increasing */
	time_t this_update, next_update;
} m2m_crl_spec;

/* The DER CRL signed by the issuing CA; 0 or -1. */
int m2m_pki_crl(const m2m_crl_spec *spec, X509 *issuer, EVP_PKEY *issuer_key, uint8_t **der, size_t *len);

/* ---- trust (trust.c) ---------------------------------------------------------------------- */

typedef struct m2m_trust m2m_trust;

m2m_trust *m2m_trust_new(X509 *root);
void m2m_trust_free(m2m_trust *t);
/* An issuing CA: not trusted by itself, only as a link to the root. 0 or -1. */
int m2m_trust_add_intermediate(m2m_trust *t, X509 *ca);
/*
 * Replaces the CRL. It must be DER, signed by one of the intermediates, and not older (by
 * cRLNumber) than the one held: M2M_OK, M2M_R_MALFORMED, M2M_R_BAD_SIGNATURE (no intermediate
 * signed it) or M2M_R_REPLAYED (an older CRL: it could un-revoke). Its revoked models are
 * added to the trust's list (a model revocation is never undone). Until a CRL is set,
 * certificates are checked without revocation (docs/pki.md).
 */
m2m_reason m2m_trust_set_crl(m2m_trust *t, const uint8_t *der, size_t len);
/* The cRLNumber held, 0 when none. */
uint64_t m2m_trust_crl_number(const m2m_trust *t);
/* Adds a revoked model locally (version "" or NULL: every version). 0 or -1. */
int m2m_trust_revoke_model(m2m_trust *t, const char *model, const char *version);
int m2m_trust_model_revoked(const m2m_trust *t, const char *model, const char *version);
/* Verification time: 0 (the default) means the clock at each verification. */
void m2m_trust_set_time(m2m_trust *t, time_t at);

/*
 * Chain to the root (through the intermediates), validity, revocation by the CRL when one is
 * set, and the profile (an m2m_cert_profile, or -1 for any): M2M_OK,
 * M2M_R_CERTIFICATE_EXPIRED (outside its validity, or a CA of its chain is),
 * M2M_R_CERTIFICATE_REVOKED, M2M_R_NOT_AUTHORISED (valid, but of another profile),
 * M2M_R_BAD_CHAIN (anything else: another root, a bad signature in the chain, a stale CRL).
 */
m2m_reason m2m_trust_verify(m2m_trust *t, X509 *cert, int purpose_profile);

/*
 * A TRE certificate: m2m_trust_verify with profile tre, plus the TrePlatform extension and the
 * revoked models. M2M_R_MODEL_REVOKED takes precedence over M2M_R_CERTIFICATE_REVOKED (the
 * agency revokes every certificate of a revoked model too). platform, if not NULL, gets the
 * certificate's TrePlatform on M2M_OK (free it). A tre certificate without the extension is
 * M2M_R_BAD_CHAIN.
 */
m2m_reason m2m_pki_verify_tre(m2m_trust *t, X509 *cert, M2M_TRE_PLATFORM **platform);

/* ---- CMS SignedData (cms.c) --------------------------------------------------------------- */

/* SignedData over content (eContentType id-data, embedded, binary), ECDSA with SHA-256, the
 * signer's certificate and extra (e.g. its issuing CA, so that a verifier needs only the root)
 * included. 0 or -1. */
int m2m_cms_sign(EVP_PKEY *key, X509 *signer, STACK_OF(X509) *extra, const uint8_t *content, size_t len,
		 uint8_t **der, size_t *derlen);
/*
 * Checks a SignedData: one signer, embedded id-data content, signature, the signer's chain and
 * revocation (m2m_trust_verify, any profile). Gives the content (OPENSSL_malloc'd) and the
 * signer certificate (a reference to free; the caller checks who it is: CN, profile). Either
 * output may be NULL; both are NULL unless M2M_OK. M2M_OK, M2M_R_MALFORMED (not such a SignedData), M2M_R_BAD_SIGNATURE, or
 * a reason of m2m_trust_verify.
 */
m2m_reason m2m_cms_verify(m2m_trust *t, const uint8_t *der, size_t len, uint8_t **content, size_t *clen,
			  X509 **signer);

/* The same for a signed object whose eContent is the DER of an ASN.1 template type (a
 * PlatformType, a Verdict, ...): sign i2d's it into so->cms (so allocated by the caller, e.g. a
 * message body); verify decodes it strictly (M2M_R_BAD_BODY when it is not DER of item) and
 * sets *value (free with ASN1_item_free or the type's _free) and *signer only on M2M_OK. */
int m2m_cms_sign_item(EVP_PKEY *key, X509 *signer, STACK_OF(X509) *extra, const ASN1_ITEM *item,
		      const void *value, M2M_SIGNED_OBJECT *so);
m2m_reason m2m_cms_verify_item(m2m_trust *t, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, void **value,
			       X509 **signer);

/* ---- CMS AuthEnvelopedData (envelope.c) ----------------------------------------------------- */

/* AES-256-GCM content, its key agreed with recipient's EC key (ECDH, SHA-256 KDF, AES-256 wrap).
 * 0 or -1. */
int m2m_cms_encrypt(X509 *recipient, const uint8_t *content, size_t len, uint8_t **der, size_t *derlen);
/* Opens it with key (whose certificate is cert): content OPENSSL_malloc'd. M2M_OK, M2M_R_MALFORMED
 * (not DER of an AuthEnvelopedData, or empty content) or M2M_R_BAD_SIGNATURE (not for this key,
 * or the GCM tag does not verify: tampered). */
m2m_reason m2m_cms_decrypt(EVP_PKEY *key, X509 *cert, const uint8_t *der, size_t len, uint8_t **content,
			   size_t *clen);

#endif
