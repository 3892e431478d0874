/*
 * What the certification agency gives the PVA that runs in the same process (certauth/pva/):
 * the PVA's signing key and certificate, a trust store over the agency's own hierarchy that
 * follows its CRL, and the certified platform types.
 */
#ifndef CERTAUTH_CA_H
#define CERTAUTH_CA_H

#include "daemon/daemon.h"
#include "pki/pki.h"

typedef struct ca_context {
	EVP_PKEY *pva_key;          /* signs verdicts: m2m_cms_sign(_item)(pva_key, pva_cert, pva_chain, ...) */
	X509 *pva_cert;             /* profile pva, CN = the agency's entity id */
	STACK_OF(X509) *pva_chain;  /* the issuing CA: the `extra` certificates of every signed object */
	X509 *root;                 /* the root every relying party holds (also in the root PEM file) */
	m2m_trust *trust;           /* root + issuing CA + the current CRL and revoked models */
} ca_context;

/*
 * The agency's context. Each call first brings the trust store up to date with the newest CRL
 * (revocations by certauth-admin included, and a new CRL when the held one is due), so call it
 * per request rather than keeping the pointer across steps. NULL only before start.
 */
const ca_context *ca_get(m2m_daemon *d);

/* The certified platform type of model/version: M2M_OK with *out (free with
 * M2M_PLATFORM_TYPE_free), M2M_R_NOT_FOUND, or M2M_R_INTERNAL. */
m2m_reason ca_platform_type(m2m_daemon *d, const char *model, const char *version, M2M_PLATFORM_TYPE **out);

#endif
