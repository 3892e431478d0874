/*
 * Issuing certificates (docs/pki.md, "Profiles"). Every certificate is X.509 v3, ECDSA with
 * SHA-256, with a subject of one CN, key identifiers, and critical basicConstraints and keyUsage,
 * so that OpenSSL's own checks (openssl verify, openssl cms -verify) accept what the agency issues.
 */
#include "pki_impl.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>

static int spec_ok(const m2m_cert_spec *s, const X509 *issuer)
{
	char model[64], version[32];
	size_t cn = s->cn ? strlen(s->cn) : 0;
	if (cn < 1 || cn > 63 || !s->subject_key || s->serial < 1 || s->serial > INT64_MAX ||
	    s->not_after <= s->not_before || (s->kind == M2M_CERT_ROOT) != (issuer == NULL))
		return 0;
	if (s->kind != M2M_CERT_END_ENTITY)
		return s->platform == NULL;
	if (s->profile < 0 || s->profile > M2M_PROFILE_MAX)
		return 0;
	if (s->profile == M2M_PROFILE_TRE)
		return m2m_pki_tre_platform_read(s->platform, model, version) == 0;
	return s->platform == NULL;
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* What the certificate may do: sign certificates and CRLs, or sign (CMS, evidence) only. */
static int add_constraints(X509 *cert, X509V3_CTX *ctx, m2m_cert_kind kind)
{
	static const char *const basic[] = {"critical,CA:TRUE", "critical,CA:TRUE,pathlen:0", "critical,CA:FALSE"};
	const char *usage = kind == M2M_CERT_END_ENTITY ? "critical,digitalSignature" : "critical,keyCertSign,cRLSign";
	return add_ext(cert, ctx, NID_basic_constraints, basic[kind]) && add_ext(cert, ctx, NID_key_usage, usage);
}

/* The profile as a certificate policy: non-critical, so generic verifiers ignore it. Built as a
 * structure: the text form of certificatePolicies needs an OpenSSL configuration database. */
static int add_profile(X509 *cert, int profile)
{
	CERTIFICATEPOLICIES *policies = CERTIFICATEPOLICIES_new();
	POLICYINFO *policy = POLICYINFO_new();
	int ok = policies && policy && (policy->policyid = OBJ_dup(pki_oid_profile(profile))) &&
		 sk_POLICYINFO_push(policies, policy);
	if (!ok)
		POLICYINFO_free(policy);
	ok = ok && X509_add1_ext_i2d(cert, NID_certificate_policies, policies, 0, 0) == 1;
	CERTIFICATEPOLICIES_free(policies);
	return ok;
}

static int add_extensions(X509 *cert, const m2m_cert_spec *s, X509 *issuer)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
	if (!add_constraints(cert, &ctx, s->kind) || !add_ext(cert, &ctx, NID_subject_key_identifier, "hash"))
		return 0;
	if (issuer && !add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always"))
		return 0;
	if (s->kind != M2M_CERT_END_ENTITY)
		return 1;
	if (!add_profile(cert, s->profile))
		return 0;
	return s->profile != M2M_PROFILE_TRE || m2m_pki_set_tre_platform(cert, s->platform) == 0;
}

static int set_names(X509 *cert, const char *cn, X509 *issuer)
{
	X509_NAME *name = X509_get_subject_name(cert);
	return X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
	       X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
}

static int set_serial(X509 *cert, uint64_t serial)
{
	return ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert), serial);
}

X509 *m2m_pki_issue(const m2m_cert_spec *spec, X509 *issuer, EVP_PKEY *issuer_key)
{
	if (!spec_ok(spec, issuer))
		return NULL;
	X509 *cert = X509_new();
	int ok = cert && X509_set_version(cert, X509_VERSION_3) && set_serial(cert, spec->serial) &&
		 !pki_set_time(X509_getm_notBefore(cert), spec->not_before) &&
		 !pki_set_time(X509_getm_notAfter(cert), spec->not_after) && set_names(cert, spec->cn, issuer) &&
		 X509_set_pubkey(cert, spec->subject_key) && add_extensions(cert, spec, issuer) &&
		 X509_sign(cert, issuer_key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(cert);
		cert = NULL;
	}
	ERR_clear_error();
	return cert;
}
