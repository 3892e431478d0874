/*
 * The certauth daemon's context and the requests the agency itself serves, one file each
 * (enrol.c; publish.c: crlRequest and platformTypeRequest). certauth_serve is the dispatch
 * without the daemon, which the unit tests drive with a node of their own.
 */
#ifndef CERTAUTH_CERTAUTH_H
#define CERTAUTH_CERTAUTH_H

#include "authority.h"
#include "ca.h"

typedef struct certauth {
	ca_settings settings;
	ca_authority authority;  /* open from start to stop */
	ca_context ca;           /* what ca_get hands the PVA */
	m2m_node *node;
} certauth;

/* After ca_open: the PVA's view (trust store over the hierarchy and the newest CRL). 0 or -1. */
int certauth_ca_init(certauth *c);
void certauth_ca_free(certauth *c);
/* Brings c->ca.trust up to the newest CRL (publishing one first when due). */
const ca_context *certauth_ca_current(certauth *c);

/* The agency's own requests; anything else is the PVA's or refused. */
void certauth_serve(certauth *c, m2m_request *req);

/*
 * enrolRequest from sender: M2M_OK with the issued certificate, or the refusal's reason with
 * why. Checks, in order: the body's shape (badBody), the CSR (badBody, badSignature), its CN,
 * which must be the sender (an entity enrols itself only), the enrolment entry of that id, its
 * secret and its profile (enrolmentRefused), and for a tre the platform: not withdrawn
 * (modelRevoked), a certified type claimed at its certified assurance level (enrolmentRefused).
 */
m2m_reason certauth_enrol(certauth *c, const char *sender, const M2M_ENROL_REQUEST *req, X509 **cert, char *why,
			  size_t len);
void certauth_enrol_request(certauth *c, m2m_request *req);
void certauth_crl_request(certauth *c, m2m_request *req);
void certauth_platform_type_request(certauth *c, m2m_request *req);

#endif
