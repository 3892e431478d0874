/*
 * Key and certificate at manufacture (brief §2.1 preconditions: "A TRE key pair: SK_TRE sealed,
 * PK_TRE in a certificate Cert_TRE signed by the M2MES or the certification agency, chaining to
 * Root_CA. It states the TRE type and assurance level"). The TRE asks the agency itself, with
 * a CSR for the key it generated, so that the private key never leaves it:
 *   enrolRequest {csr (CN = entity id), authorisation (enrolment secret), profile tre,
 *                 platform {model, version, assuranceLevel}} -> enrolResponse {certificate, chain}
 * The answer is kept only if it certifies this TRE's key, names this TRE, carries the platform
 * asked for, and chains to the agency's root the TRE was given.
 */
#include "tre.h"

#include "log/log.h"
#include "pki/pki.h"

#include <stdio.h>
#include <string.h>

#define CHAIN_MAX 4  /* EnrolResponse.chain: issuing CA, root */

m2m_trust *tre_trust_new(const tre *t, STACK_OF(X509) *extra)
{
	m2m_trust *trust = m2m_trust_new(t->root);
	STACK_OF(X509) *lists[] = {t->chain, extra};
	for (size_t l = 0; trust && l < sizeof lists / sizeof lists[0]; l++)
		for (int i = 0; i < sk_X509_num(lists[l]); i++)
			if (X509_cmp(sk_X509_value(lists[l], i), t->root))  /* the root is no intermediate */
				m2m_trust_add_intermediate(trust, sk_X509_value(lists[l], i));
	/* the CRL while it is current: a stale one would fail every chain (crl.c) */
	if (trust && tre_crl_current(t) && m2m_trust_set_crl(trust, t->crl, t->crl_len) != M2M_OK) {
		m2m_trust_free(trust);
		return NULL;
	}
	return trust;
}

/* ---- the answer --------------------------------------------------------------------------- */

/* The certificate says what was asked: this TRE's name, key and platform. */
static m2m_reason check_subject(const tre *t, X509 *cert, const M2M_TRE_PLATFORM *p, char *why, size_t len)
{
	char cn[64] = "", model[64] = "", version[32] = "";
	if (m2m_pki_cert_cn(cert, cn, sizeof cn) || strcmp(cn, t->entity))
		return snprintf(why, len, "the certificate names %s, not %s", cn, t->entity), M2M_R_BAD_BODY;
	if (!tre_keystore_owns(t, cert))
		return snprintf(why, len, "the certificate is for another key"), M2M_R_BAD_BODY;
	if (m2m_pki_tre_platform_read(p, model, version) || strcmp(model, t->s.model) || strcmp(version, t->s.version) ||
	    p->assurance_level != (uint64_t)t->s.assurance)
		return snprintf(why, len, "the certificate's platform is %s %s level %llu, not the one asked for", model,
				version, (unsigned long long)p->assurance_level), M2M_R_BAD_BODY;
	return M2M_OK;
}

m2m_reason tre_enrol_accept(tre *t, const M2M_ENROL_RESPONSE *r, char *why, size_t whylen)
{
	const ASN1_OCTET_STRING *c = r->certificate;
	X509 *cert = m2m_pki_cert_from_der(ASN1_STRING_get0_data(c), (size_t)ASN1_STRING_length(c));
	STACK_OF(X509) *chain = m2m_pki_chain_from_der(r->chain, CHAIN_MAX);
	m2m_trust *trust = chain ? tre_trust_new(t, chain) : NULL;
	M2M_TRE_PLATFORM *platform = NULL;
	m2m_reason rc = M2M_R_BAD_BODY;
	if (!cert || !chain)
		snprintf(why, whylen, "the certificate or its chain (1..%d) is not DER", CHAIN_MAX);
	else if (!trust)
		snprintf(why, whylen, "no trust store"), rc = M2M_R_INTERNAL;
	else if ((rc = m2m_pki_verify_tre(trust, cert, &platform)) != M2M_OK)
		snprintf(why, whylen, "the certificate does not verify against the root: %s", m2m_reason_name(rc));
	else if ((rc = check_subject(t, cert, platform, why, whylen)) == M2M_OK && tre_keystore_save_chain(t, cert, chain))
		snprintf(why, whylen, "the certificate could not be stored"), rc = M2M_R_INTERNAL;
	M2M_TRE_PLATFORM_free(platform);
	m2m_trust_free(trust);
	sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	return rc;
}

/* ---- the request -------------------------------------------------------------------------- */

static void on_enrolled(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	tre *t = arg;
	char why[300];
	m2m_reason r = M2M_R_UNEXPECTED_MESSAGE;
	if (resp && resp->type == M2M_MSG_ENROL_RESPONSE)
		r = tre_enrol_accept(t, resp->body, why, sizeof why);
	else
		m2m_call_failure(t->s.agency, resp, reason, why, sizeof why);
	if (r == M2M_OK) {
		t->enrol.in_flight = 0;
		m2m_info("enrolled with %s: certificate for %s (%s %s, assurance level %d)", t->s.agency, t->entity,
			 t->s.model, t->s.version, t->s.assurance);
	} else {
		m2m_warn("enrolment not done: %s; retrying", why);
		tre_retry_later(&t->enrol, !resp);
	}
	tre_tick(t);
}

static M2M_ENROL_REQUEST *enrol_body(tre *t)
{
	unsigned char *csr = NULL;
	size_t len = 0;
	if (tre_keystore_csr(t, &csr, &len))
		return NULL;
	M2M_ENROL_REQUEST *q = M2M_ENROL_REQUEST_new();
	ASN1_OCTET_STRING_set(q->csr, csr, (int)len);
	ASN1_OCTET_STRING_set(q->authorisation, t->s.enrolment_secret, (int)t->s.enrolment_secret_len);
	ASN1_ENUMERATED_set(q->profile, M2M_PROFILE_TRE);
	q->platform = M2M_TRE_PLATFORM_new();
	m2m_set_str(q->platform->model, t->s.model);
	m2m_set_str(q->platform->version, t->s.version);
	q->platform->assurance_level = (uint64_t)t->s.assurance;
	OPENSSL_free(csr);
	return q;
}

void tre_enrol_resume(tre *t)
{
	if (tre_enrolled(t) || t->enrol.in_flight || !tre_retry_due(&t->enrol))
		return;
	M2M_ENROL_REQUEST *q = enrol_body(t);
	t->enrol.in_flight = q && !m2m_call(t->node, t->s.agency, M2M_MSG_ENROL_REQUEST, q, on_enrolled, t);
	if (!t->enrol.in_flight)
		tre_retry_later(&t->enrol, 0);
	/* the secret travels in this one message body only: wipe our copy of it */
	if (q)
		OPENSSL_cleanse(q->authorisation->data, (size_t)q->authorisation->length);
	M2M_ENROL_REQUEST_free(q);
}
