/* enrolRequest: an entity asks for a certificate of its profile, with its enrolment secret. */
#include "certauth.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <string.h>

#define CSR_MAX 4096

static m2m_reason shape(const M2M_ENROL_REQUEST *r, int *profile, char *why, size_t len)
{
	long p = ASN1_ENUMERATED_get(r->profile);
	int csr = ASN1_STRING_length(r->csr), secret = ASN1_STRING_length(r->authorisation);
	if (p < 0 || p > M2M_PROFILE_MAX)
		snprintf(why, len, "profile %ld is not a CertProfile", p);
	else if (csr < 1 || csr > CSR_MAX || secret < CA_SECRET_MIN || secret > CA_SECRET_MAX)
		snprintf(why, len, "csr is 1 to %d bytes, authorisation %d to %d", CSR_MAX, CA_SECRET_MIN, CA_SECRET_MAX);
	else if ((p == M2M_PROFILE_TRE) != (r->platform != NULL))
		snprintf(why, len, "platform is given for profile tre, and only then");
	else
		*profile = (int)p;
	return why[0] ? M2M_R_BAD_BODY : M2M_OK;
}

static m2m_reason check_csr(const M2M_ENROL_REQUEST *r, const char *sender, EVP_PKEY **pub, char *why, size_t len)
{
	char cn[64];
	m2m_reason rc = m2m_pki_csr_check(ASN1_STRING_get0_data(r->csr), (size_t)ASN1_STRING_length(r->csr), cn, pub);
	if (rc == M2M_R_MALFORMED) {
		snprintf(why, len, "csr is not a PKCS#10 request for one CN and a P-256 key");
		return M2M_R_BAD_BODY;
	}
	if (rc != M2M_OK) {
		snprintf(why, len, "the csr's signature does not verify");
		return rc;
	}
	if (strcmp(cn, sender)) {
		snprintf(why, len, "%s asks for a certificate for %s: an entity enrols itself only", sender, cn);
		EVP_PKEY_free(*pub);
		*pub = NULL;
		return M2M_R_ENROLMENT_REFUSED;
	}
	return M2M_OK;
}

/* The configured entry of sender, its secret (constant time) and its profile. */
static m2m_reason check_authorisation(const certauth *c, const M2M_ENROL_REQUEST *r, const char *sender, int profile,
				      char *why, size_t len)
{
	const ca_enrolment *e = ca_settings_enrolment(&c->settings, sender);
	size_t n = (size_t)ASN1_STRING_length(r->authorisation);
	if (!e)
		snprintf(why, len, "%s is not listed for enrolment", sender);
	else if (n != e->secret_len || m2m_ct_compare(ASN1_STRING_get0_data(r->authorisation), e->secret, n))
		snprintf(why, len, "the authorisation of %s is wrong", sender);
	else if (profile != e->profile)
		snprintf(why, len, "%s may enrol as %s, not %s", sender, m2m_pki_profile_name(e->profile),
			 m2m_pki_profile_name(profile));
	return why[0] ? M2M_R_ENROLMENT_REFUSED : M2M_OK;
}

/* A TRE claims its platform: it must be certified, not withdrawn, at its certified level. */
static m2m_reason check_platform(certauth *c, const M2M_TRE_PLATFORM *p, char *why, size_t len)
{
	char model[64], version[32];
	M2M_PLATFORM_TYPE *t = NULL;
	if (m2m_pki_tre_platform_read(p, model, version)) {
		snprintf(why, len, "platform does not fit TrePlatform");
		return M2M_R_BAD_BODY;
	}
	if (ca_model_revoked(c->authority.db, model, version)) {
		snprintf(why, len, "model %s %s was withdrawn", model, version);
		return M2M_R_MODEL_REVOKED;
	}
	m2m_reason r = ca_platform_get(c->authority.db, model, version, &t);
	if (r == M2M_R_NOT_FOUND)
		snprintf(why, len, "%s %s is not a certified platform type", model, version);
	else if (r == M2M_OK && t->assurance_level != p->assurance_level)
		snprintf(why, len, "%s %s is certified at assurance level %llu", model, version,
			 (unsigned long long)t->assurance_level);
	M2M_PLATFORM_TYPE_free(t);
	if (r == M2M_R_INTERNAL)
		snprintf(why, len, "the platform types cannot be read");
	return r == M2M_R_INTERNAL ? r : why[0] ? M2M_R_ENROLMENT_REFUSED : M2M_OK;
}

m2m_reason certauth_enrol(certauth *c, const char *sender, const M2M_ENROL_REQUEST *req, X509 **cert, char *why,
			  size_t len)
{
	int profile = -1;
	EVP_PKEY *pub = NULL;
	why[0] = 0;
	m2m_reason r = shape(req, &profile, why, len);
	if (r == M2M_OK)
		r = check_csr(req, sender, &pub, why, len);
	if (r == M2M_OK)
		r = check_authorisation(c, req, sender, profile, why, len);
	if (r == M2M_OK && profile == M2M_PROFILE_TRE)
		r = check_platform(c, req->platform, why, len);
	if (r == M2M_OK && !(*cert = ca_issue(&c->authority, sender, profile, pub, req->platform, why, len)))
		r = M2M_R_INTERNAL;
	EVP_PKEY_free(pub);
	return r;
}

/* certificate, and the chain: issuing CA first, then the root. */
static int fill_response(certauth *c, X509 *cert, M2M_ENROL_RESPONSE *out)
{
	X509 *chain[] = {c->authority.issuing, c->authority.root};
	uint8_t *der = NULL;
	size_t len = 0;
	int ok = !m2m_pki_cert_der(cert, &der, &len) && ASN1_OCTET_STRING_set(out->certificate, der, (int)len);
	OPENSSL_free(der);
	for (size_t i = 0; ok && i < sizeof chain / sizeof chain[0]; i++) {
		ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
		der = NULL;
		ok = s && !m2m_pki_cert_der(chain[i], &der, &len) && ASN1_OCTET_STRING_set(s, der, (int)len) &&
		     sk_ASN1_OCTET_STRING_push(out->chain, s);
		if (!ok)
			ASN1_OCTET_STRING_free(s);
		OPENSSL_free(der);
	}
	return ok ? 0 : -1;
}

void certauth_enrol_request(certauth *c, m2m_request *req)
{
	char why[200];
	X509 *cert = NULL;
	m2m_reason r = certauth_enrol(c, req->env.sender, req->env.body, &cert, why, sizeof why);
	M2M_ENROL_RESPONSE *resp = r == M2M_OK ? M2M_ENROL_RESPONSE_new() : NULL;
	if (r == M2M_OK && (!resp || fill_response(c, cert, resp))) {
		r = M2M_R_INTERNAL;
		snprintf(why, sizeof why, "the enrolResponse cannot be built");
	}
	if (r == M2M_OK) {
		uint64_t serial = 0;
		m2m_pki_cert_serial(cert, &serial);
		m2m_info("issued certificate %llu to %s", (unsigned long long)serial, req->env.sender);
		m2m_reply(c->node, req, M2M_MSG_ENROL_RESPONSE, resp);
	} else {
		m2m_refuse(c->node, req, r, "%s", why);
	}
	M2M_ENROL_RESPONSE_free(resp);
	X509_free(cert);
}
