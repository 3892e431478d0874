/* Certificates: DER and PEM, and the fields the testbed reads (CN, serial, profile, platform). */
#include "pki_impl.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

X509 *m2m_pki_cert_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *cert = len <= LONG_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
	if (cert && !pki_consumed(p, der, len)) {
		X509_free(cert);
		cert = NULL;
	}
	ERR_clear_error();
	return cert;
}

STACK_OF(X509) *m2m_pki_chain_from_der(const STACK_OF(ASN1_OCTET_STRING) *ders, int max)
{
	int n = sk_ASN1_OCTET_STRING_num(ders);
	STACK_OF(X509) *chain = n >= 1 && n <= max ? sk_X509_new_null() : NULL;
	for (int i = 0; chain && i < n; i++) {
		const ASN1_OCTET_STRING *s = sk_ASN1_OCTET_STRING_value(ders, i);
		X509 *x = m2m_pki_cert_from_der(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
		if (!x || !sk_X509_push(chain, x)) {
			X509_free(x);
			sk_X509_pop_free(chain, X509_free);
			chain = NULL;
		}
	}
	return chain;
}

int m2m_pki_cert_der(X509 *cert, uint8_t **der, size_t *len)
{
	unsigned char *out = NULL;
	int n = i2d_X509(cert, &out);
	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}

int m2m_pki_cert_write_pem(X509 *cert, const char *path)
{
	FILE *f = fopen(path, "w");
	int ok = f && PEM_write_X509(f, cert);
	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

X509 *m2m_pki_cert_read_pem(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	ERR_clear_error();
	return cert;
}

int m2m_pki_cert_cn(X509 *cert, char *buf, size_t buflen)
{
	const X509_NAME *name = X509_get_subject_name(cert);
	int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (at < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, at) >= 0)
		return -1;  /* none, or two: which would be the entity? */
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
	int ok = n > 0 && (size_t)n < buflen && memchr(utf8, 0, (size_t)n) == NULL;
	if (ok) {
		memcpy(buf, utf8, (size_t)n);
		buf[n] = 0;
	}
	OPENSSL_free(utf8);
	return ok ? 0 : -1;
}

int m2m_pki_cert_serial(X509 *cert, uint64_t *serial)
{
	uint64_t v;
	if (!ASN1_INTEGER_get_uint64(&v, X509_get0_serialNumber(cert)) || v > INT64_MAX) {
		ERR_clear_error();
		return -1;
	}
	*serial = v;
	return 0;
}

int m2m_pki_cert_profile(X509 *cert)
{
	CERTIFICATEPOLICIES *policies = X509_get_ext_d2i(cert, NID_certificate_policies, NULL, NULL);
	int profile = -1;
	for (int i = 0; i < sk_POLICYINFO_num(policies) && profile < 0; i++)
		for (int p = 0; p <= M2M_PROFILE_MAX; p++)
			if (!OBJ_cmp(sk_POLICYINFO_value(policies, i)->policyid, pki_oid_profile(p)))
				profile = p;
	CERTIFICATEPOLICIES_free(policies);
	return profile;
}

int m2m_pki_set_tre_platform(X509 *cert, const M2M_TRE_PLATFORM *platform)
{
	unsigned char *der = NULL;
	int n = i2d_M2M_TRE_PLATFORM(platform, &der);
	ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int at = X509_get_ext_by_OBJ(cert, pki_oid_tre_platform(), -1);
	if (at >= 0)  /* replaced, never doubled */
		X509_EXTENSION_free(X509_delete_ext(cert, at));
	int ok = n > 0 && value && ASN1_OCTET_STRING_set(value, der, n) &&
		 (ext = X509_EXTENSION_create_by_OBJ(NULL, pki_oid_tre_platform(), 0, value)) &&
		 X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(value);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

int m2m_pki_get_tre_platform(X509 *cert, M2M_TRE_PLATFORM **platform)
{
	int at = X509_get_ext_by_OBJ(cert, pki_oid_tre_platform(), -1);
	if (at < 0 || X509_get_ext_by_OBJ(cert, pki_oid_tre_platform(), at) >= 0)
		return -1;
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(cert, at));
	const unsigned char *der = ASN1_STRING_get0_data(v), *p = der;
	size_t len = (size_t)ASN1_STRING_length(v);
	M2M_TRE_PLATFORM *tp = d2i_M2M_TRE_PLATFORM(NULL, &p, (long)len);
	if (!tp || !pki_consumed(p, der, len)) {
		M2M_TRE_PLATFORM_free(tp);
		ERR_clear_error();
		return -1;
	}
	*platform = tp;
	return 0;
}

/* A UTF8String of 1..max characters (bytes: the testbed's names are ASCII) copied into buf. */
static int text_field(const ASN1_STRING *s, char *buf, size_t max)
{
	return s && ASN1_STRING_length(s) >= 1 && (size_t)ASN1_STRING_length(s) <= max ? m2m_str(s, buf, max + 1)
											: -1;
}

int m2m_pki_tre_platform_read(const M2M_TRE_PLATFORM *platform, char model[64], char version[32])
{
	if (!platform || platform->assurance_level < 1 || platform->assurance_level > 7)
		return -1;
	return text_field(platform->model, model, 63) || text_field(platform->version, version, 31) ? -1 : 0;
}

static const char *const profile_names[M2M_PROFILE_MAX + 1] = {
	"operatorFunction", "otaServer", "registration", "pva", "supplier", "tre", "uicc",
};

const char *m2m_pki_profile_name(int profile)
{
	return profile >= 0 && profile <= M2M_PROFILE_MAX ? profile_names[profile] : NULL;
}

int m2m_pki_profile_from_name(const char *name)
{
	for (int p = 0; p <= M2M_PROFILE_MAX; p++)
		if (name && !strcmp(name, profile_names[p]))
			return p;
	return -1;
}
