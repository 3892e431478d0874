/*
 * The RevokedModels CRL extension (docs/pki.md): the TRE models the agency withdrew.
 *
 *   RevokedModels ::= SEQUENCE OF RevokedModel
 *   RevokedModel  ::= SEQUENCE { model UTF8String (SIZE (1..63)),
 *                                version UTF8String (SIZE (1..31)) OPTIONAL }  -- absent: every version
 */
#include "pki_impl.h"

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <string.h>

typedef struct {
	ASN1_UTF8STRING *model;
	ASN1_UTF8STRING *version;  /* OPTIONAL */
} PKI_REVOKED_MODEL;
DECLARE_ASN1_FUNCTIONS(PKI_REVOKED_MODEL)
DEFINE_STACK_OF(PKI_REVOKED_MODEL)
typedef STACK_OF(PKI_REVOKED_MODEL) PKI_REVOKED_MODELS;
DECLARE_ASN1_FUNCTIONS(PKI_REVOKED_MODELS)

ASN1_SEQUENCE(PKI_REVOKED_MODEL) = {
	ASN1_SIMPLE(PKI_REVOKED_MODEL, model, ASN1_UTF8STRING),
	ASN1_OPT(PKI_REVOKED_MODEL, version, ASN1_UTF8STRING),
} ASN1_SEQUENCE_END(PKI_REVOKED_MODEL)
IMPLEMENT_ASN1_FUNCTIONS(PKI_REVOKED_MODEL)

ASN1_ITEM_TEMPLATE(PKI_REVOKED_MODELS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, RevokedModels, PKI_REVOKED_MODEL)
ASN1_ITEM_TEMPLATE_END(PKI_REVOKED_MODELS)
IMPLEMENT_ASN1_FUNCTIONS(PKI_REVOKED_MODELS)

static PKI_REVOKED_MODEL *to_asn1(const m2m_revoked_model *m)
{
	PKI_REVOKED_MODEL *a = PKI_REVOKED_MODEL_new();
	if (!a || m2m_set_str(a->model, m->model) ||
	    (m->version[0] && (!(a->version = ASN1_UTF8STRING_new()) || m2m_set_str(a->version, m->version)))) {
		PKI_REVOKED_MODEL_free(a);
		return NULL;
	}
	return a;
}

int pki_models_der(const m2m_revoked_model *models, size_t n, uint8_t **out, size_t *len)
{
	PKI_REVOKED_MODELS *list = sk_PKI_REVOKED_MODEL_new_null();
	int ok = list != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		PKI_REVOKED_MODEL *a = to_asn1(&models[i]);
		ok = a && sk_PKI_REVOKED_MODEL_push(list, a);
		if (!ok)
			PKI_REVOKED_MODEL_free(a);
	}
	unsigned char *der = NULL;
	int dlen = ok ? i2d_PKI_REVOKED_MODELS(list, &der) : -1;
	sk_PKI_REVOKED_MODEL_pop_free(list, PKI_REVOKED_MODEL_free);
	if (dlen <= 0)
		return -1;
	*out = der;
	*len = (size_t)dlen;
	return 0;
}

/* One entry into the C form, refusing what RevokedModel's sizes do not allow. */
static int from_asn1(const PKI_REVOKED_MODEL *a, m2m_revoked_model *m)
{
	memset(m, 0, sizeof *m);
	if (ASN1_STRING_length(a->model) < 1 || m2m_str(a->model, m->model, sizeof m->model))
		return -1;
	return a->version && (ASN1_STRING_length(a->version) < 1 || m2m_str(a->version, m->version, sizeof m->version))
		       ? -1
		       : 0;
}

int pki_models_parse(const uint8_t *der, size_t len, int (*add)(void *arg, const m2m_revoked_model *m), void *arg)
{
	const unsigned char *p = der;
	PKI_REVOKED_MODELS *list = d2i_PKI_REVOKED_MODELS(NULL, &p, (long)len);
	int ok = list && pki_consumed(p, der, len);
	for (int i = 0; ok && i < sk_PKI_REVOKED_MODEL_num(list); i++) {
		m2m_revoked_model m;
		ok = !from_asn1(sk_PKI_REVOKED_MODEL_value(list, i), &m) && !add(arg, &m);
	}
	sk_PKI_REVOKED_MODEL_pop_free(list, PKI_REVOKED_MODEL_free);
	ERR_clear_error();
	return ok ? 0 : -1;
}
