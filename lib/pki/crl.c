/*
 * The issuing CA's CRL (docs/pki.md, "Revocation"): a v2 CRL with cRLNumber and
 * authorityKeyIdentifier, one entry per revoked serial (with its reasonCode unless unspecified),
 * and, when models were withdrawn, the non-critical RevokedModels extension.
 */
#include "pki_impl.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

static int add_entry(X509_CRL *crl, const m2m_crl_entry *e)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_TIME *at = ASN1_TIME_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new();
	int ok = rev && at && serial && reason && ASN1_INTEGER_set_uint64(serial, e->serial) &&
		 X509_REVOKED_set_serialNumber(rev, serial) && !pki_set_time(at, e->revoked_at) &&
		 X509_REVOKED_set_revocationDate(rev, at) && ASN1_ENUMERATED_set(reason, e->reason) &&
		 (e->reason == M2M_CRL_UNSPECIFIED || X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0)) &&
		 X509_CRL_add0_revoked(crl, rev);
	if (!ok)
		X509_REVOKED_free(rev);
	ASN1_TIME_free(at);
	ASN1_INTEGER_free(serial);
	ASN1_ENUMERATED_free(reason);
	return ok;
}

static int add_models(X509_CRL *crl, const m2m_revoked_model *models, size_t n)
{
	if (n == 0)
		return 1;
	uint8_t *der = NULL;
	size_t len = 0;
	ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok = value && !pki_models_der(models, n, &der, &len) && ASN1_OCTET_STRING_set(value, der, (int)len) &&
		 (ext = X509_EXTENSION_create_by_OBJ(NULL, pki_oid_revoked_models(), 0, value)) &&
		 X509_CRL_add_ext(crl, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(value);
	OPENSSL_free(der);
	return ok;
}

static int add_crl_extensions(X509_CRL *crl, const m2m_crl_spec *spec, X509 *issuer)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	X509_EXTENSION *akid = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	ASN1_INTEGER *number = ASN1_INTEGER_new();
	int ok = akid && X509_CRL_add_ext(crl, akid, -1) && number && ASN1_INTEGER_set_uint64(number, spec->number) &&
		 X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) &&
		 add_models(crl, spec->models, spec->nmodels);
	X509_EXTENSION_free(akid);
	ASN1_INTEGER_free(number);
	return ok;
}

static int set_header(X509_CRL *crl, const m2m_crl_spec *spec, X509 *issuer)
{
	ASN1_TIME *this_update = ASN1_TIME_new(), *next_update = ASN1_TIME_new();
	int ok = this_update && next_update && X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
		 !pki_set_time(this_update, spec->this_update) && !pki_set_time(next_update, spec->next_update) &&
		 X509_CRL_set1_lastUpdate(crl, this_update) && X509_CRL_set1_nextUpdate(crl, next_update);
	ASN1_TIME_free(this_update);
	ASN1_TIME_free(next_update);
	return ok;
}

int m2m_pki_crl(const m2m_crl_spec *spec, X509 *issuer, EVP_PKEY *issuer_key, uint8_t **der, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	int ok = crl && spec->number > 0 && spec->next_update > spec->this_update && set_header(crl, spec, issuer);
	for (size_t i = 0; ok && i < spec->nentries; i++)
		ok = add_entry(crl, &spec->entries[i]);
	unsigned char *out = NULL;
	int n = -1;
	if (ok && add_crl_extensions(crl, spec, issuer) && X509_CRL_sort(crl) &&
	    X509_CRL_sign(crl, issuer_key, EVP_sha256()) > 0)
		n = i2d_X509_CRL(crl, &out);
	X509_CRL_free(crl);
	ERR_clear_error();
	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}
