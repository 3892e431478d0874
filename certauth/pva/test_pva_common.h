/*
 * What test_pva.c and test_pva_procedures.c share: a test certification agency made with lib/pki
 * (root, issuing CA, the PVA's certificate, TRE certificates good and bad, a CRL), the agency the
 * PVA sees (pva_agency over it), the certified platform type, and evidence a TRE would send.
 */
#ifndef CERTAUTH_PVA_TEST_PVA_COMMON_H
#define CERTAUTH_PVA_TEST_PVA_COMMON_H

#include "pva_impl.h"

#define TEST_MODEL "acme-tre"
#define TEST_WEAK_MODEL "weak-tre"  /* revoked by the agency */
#define TEST_VERSION "1.0"
#define TEST_ASSURANCE 3
#define TEST_COMPONENTS 5

/* Who signs: the TREs, each with its own certificate, and a valid non-TRE certificate. */
typedef enum test_signer {
	SIGNER_TRE1,         /* tre-1: good */
	SIGNER_TRE2,         /* tre-2: good, another TRE */
	SIGNER_EXPIRED,      /* tre-3: expired yesterday */
	SIGNER_REVOKED,      /* tre-4: in the CRL (keyCompromise) */
	SIGNER_WEAK,         /* tre-5: its model is revoked, the certificate itself is not */
	SIGNER_WEAK_REVOKED, /* tre-6: its model is revoked and so is the certificate */
	SIGNER_FOREIGN,      /* tre-7: issued by another root */
	SIGNER_OPERATOR,     /* tre-1 by name, but an operatorFunction certificate */
	SIGNERS
} test_signer;

typedef struct test_identity {
	char name[M2M_ENTITY_MAX + 1];
	EVP_PKEY *key;
	X509 *cert;
} test_identity;

typedef struct test_agency {
	EVP_PKEY *root_key, *ca_key, *foreign_key;
	X509 *root, *ca, *foreign;
	STACK_OF(X509) *chain;  /* the issuing CA: sent along with every signed object */
	test_identity ids[SIGNERS];
	EVP_PKEY *pva_key;
	X509 *pva_cert;
	ca_context ctx;         /* what ca_get gives the PVA */
	pva_agency agency;      /* the PVA's view of it */
} test_agency;

extern test_agency ta;

/* Builds ta (call from a test's init); test_agency_free from its fini. */
void test_agency_init(void);
void test_agency_free(void);

/* The component names, and the SHA-256 of each one's certified image. */
extern const char *const test_components[TEST_COMPONENTS];
void test_component_digest(int i, const char *image, uint8_t out[PVA_DIGEST_LEN]);

/* Honest evidence of a TRE whose components are the certified ones: every mode's part filled in
 * (secureBoot true, every verdict matching, a log that replays to its registers). */
void test_good_evidence(const char *tre, const uint8_t nonce[PVA_NONCE_LEN], m2m_validation_mode mode,
			pva_evidence *e);
/* Recomputes the quote's registers from its log (after a test changed the log). */
void test_seal_quote(pva_quote *q);
/* The evidence as a TRE sends it: the wire Evidence, CMS-signed by who. */
M2M_SIGNED_OBJECT *test_sign_evidence(const pva_evidence *e, test_signer who);
/* The two halves of it, for evidence the plain values cannot express (too many registers...). */
M2M_EVIDENCE *test_evidence_wire(const pva_evidence *e);
M2M_SIGNED_OBJECT *test_sign_evidence_wire(const M2M_EVIDENCE *w, test_signer who);
/* The same for a TamperReport. */
M2M_SIGNED_OBJECT *test_sign_tamper(const uint8_t id[PVA_REPORT_ID_LEN], const char *tre, test_signer who);

/* A fresh in-memory database with the node's and the PVA's tables. */
sqlite3 *test_open_db(void);

#endif
