/*
 * A relying party's view of the hierarchy: the root it was given, the issuing CAs it learnt
 * (enrolResponse chains), the newest CRL, and the revoked TRE models. Verification is
 * X509_verify_cert on a store built for each call, so nothing is cached between a CRL and the
 * next one; its error is mapped onto the protocol's reason codes.
 */
#include "pki_impl.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A growing set of revoked models (duplicates are dropped). */
typedef struct model_list {
	m2m_revoked_model *v;
	size_t n, cap;
} model_list;

struct m2m_trust {
	X509 *root;
	STACK_OF(X509) *cas;
	X509_CRL *crl;
	uint64_t crl_number;
	model_list models;
	time_t at;
};

m2m_trust *m2m_trust_new(X509 *root)
{
	m2m_trust *t = calloc(1, sizeof *t);
	if (!t || !root || !(t->cas = sk_X509_new_null()) || !X509_up_ref(root)) {
		if (t)
			sk_X509_free(t->cas);
		free(t);
		return NULL;
	}
	t->root = root;
	return t;
}

void m2m_trust_free(m2m_trust *t)
{
	if (!t)
		return;
	X509_free(t->root);
	sk_X509_pop_free(t->cas, X509_free);
	X509_CRL_free(t->crl);
	free(t->models.v);
	free(t);
}

int m2m_trust_add_intermediate(m2m_trust *t, X509 *ca)
{
	for (int i = 0; i < sk_X509_num(t->cas); i++)
		if (!X509_cmp(sk_X509_value(t->cas, i), ca))
			return 0;  /* already known: every enrolResponse repeats the chain */
	if (!X509_up_ref(ca))
		return -1;
	if (!sk_X509_push(t->cas, ca)) {
		X509_free(ca);
		return -1;
	}
	return 0;
}

void m2m_trust_set_time(m2m_trust *t, time_t at)
{
	t->at = at;
}

/* ---- revoked models ----------------------------------------------------------------------- */

static int model_matches(const m2m_revoked_model *m, const char *model, const char *version)
{
	return !strcmp(m->model, model) && (!m->version[0] || !strcmp(m->version, version ? version : ""));
}

static int add_model(void *arg, const m2m_revoked_model *m)
{
	model_list *l = arg;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].model, m->model) && !strcmp(l->v[i].version, m->version))
			return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		m2m_revoked_model *grown = realloc(l->v, cap * sizeof *grown);
		if (!grown)
			return -1;
		l->v = grown;
		l->cap = cap;
	}
	l->v[l->n++] = *m;
	return 0;
}

int m2m_trust_revoke_model(m2m_trust *t, const char *model, const char *version)
{
	m2m_revoked_model m = {{0}, {0}};
	size_t n = model ? strlen(model) : 0, v = version ? strlen(version) : 0;
	if (n < 1 || n >= sizeof m.model || v >= sizeof m.version)
		return -1;
	memcpy(m.model, model, n);
	if (v)
		memcpy(m.version, version, v);
	return add_model(&t->models, &m);
}

int m2m_trust_model_revoked(const m2m_trust *t, const char *model, const char *version)
{
	for (size_t i = 0; i < t->models.n; i++)
		if (model_matches(&t->models.v[i], model, version))
			return 1;
	return 0;
}

/* ---- the CRL ------------------------------------------------------------------------------ */

uint64_t m2m_trust_crl_number(const m2m_trust *t)
{
	return t->crl_number;
}

/* The intermediate that signed the CRL, or NULL: only an issuing CA's CRL is accepted. */
static X509 *crl_signer(const m2m_trust *t, X509_CRL *crl)
{
	for (int i = 0; i < sk_X509_num(t->cas); i++) {
		X509 *ca = sk_X509_value(t->cas, i);
		if (!X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) &&
		    X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			return ca;
	}
	return NULL;
}

static int crl_number(X509_CRL *crl, uint64_t *number)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	int ok = n && ASN1_INTEGER_get_uint64(number, n) && *number > 0;
	ASN1_INTEGER_free(n);
	return ok ? 0 : -1;
}

/* The RevokedModels extension, if any, into a list. */
static int crl_models(X509_CRL *crl, model_list *out)
{
	int at = X509_CRL_get_ext_by_OBJ(crl, pki_oid_revoked_models(), -1);
	if (at < 0)
		return 0;
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_CRL_get_ext(crl, at));
	return pki_models_parse(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), add_model, out);
}

/* Union: a model revocation is never undone, even by a CRL that no longer lists it. */
static int merge_models(model_list *into, const model_list *from)
{
	for (size_t i = 0; i < from->n; i++)
		if (add_model(into, &from->v[i]))
			return -1;
	return 0;
}

static m2m_reason check_crl(const m2m_trust *t, X509_CRL *crl, uint64_t *number)
{
	if (crl_number(crl, number))
		return M2M_R_MALFORMED;
	if (!crl_signer(t, crl))
		return M2M_R_BAD_SIGNATURE;
	return *number < t->crl_number ? M2M_R_REPLAYED : M2M_OK;
}

m2m_reason m2m_trust_set_crl(m2m_trust *t, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = len <= LONG_MAX ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
	uint64_t number = 0;
	model_list models = {NULL, 0, 0};
	m2m_reason r = crl && pki_consumed(p, der, len) ? check_crl(t, crl, &number) : M2M_R_MALFORMED;
	if (r == M2M_OK && crl_models(crl, &models))
		r = M2M_R_MALFORMED;  /* read whole before anything changes: a CRL is taken entirely or not at all */
	if (r == M2M_OK && merge_models(&t->models, &models))
		r = M2M_R_INTERNAL;
	if (r == M2M_OK) {
		X509_CRL_free(t->crl);
		t->crl = crl;
		t->crl_number = number;
		crl = NULL;
	}
	X509_CRL_free(crl);
	free(models.v);
	ERR_clear_error();
	return r;
}

/* ---- verification ------------------------------------------------------------------------- */

static m2m_reason reason_of(int err)
{
	switch (err) {
	case X509_V_OK:
		return M2M_OK;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return M2M_R_CERTIFICATE_EXPIRED;
	case X509_V_ERR_CERT_REVOKED:
		return M2M_R_CERTIFICATE_REVOKED;
	default:  /* another root, a broken signature, no or a stale CRL, a CA used as a leaf, ... */
		return M2M_R_BAD_CHAIN;
	}
}

static X509_STORE *store_of(const m2m_trust *t)
{
	X509_STORE *store = X509_STORE_new();
	if (store && X509_STORE_add_cert(store, t->root) && (!t->crl || X509_STORE_add_crl(store, t->crl)))
		return store;
	X509_STORE_free(store);
	return NULL;
}

/* The intermediates, then what the object to check brought along (a CMS's certificates). */
static STACK_OF(X509) *untrusted_of(const m2m_trust *t, STACK_OF(X509) *extra)
{
	STACK_OF(X509) *all = sk_X509_dup(t->cas);
	for (int i = 0; all && i < sk_X509_num(extra); i++)
		if (!sk_X509_push(all, sk_X509_value(extra, i))) {
			sk_X509_free(all);
			return NULL;
		}
	return all;
}

static int chain_error(m2m_trust *t, X509 *cert, STACK_OF(X509) *extra)
{
	X509_STORE *store = store_of(t);
	STACK_OF(X509) *untrusted = untrusted_of(t, extra);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int err = X509_V_ERR_UNSPECIFIED;
	if (store && untrusted && ctx && X509_STORE_CTX_init(ctx, store, cert, untrusted)) {
		X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
		if (t->crl)
			X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK);
		if (t->at)
			X509_VERIFY_PARAM_set_time(param, t->at);
		err = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	ERR_clear_error();
	return err;
}

m2m_reason pki_verify_with(m2m_trust *t, X509 *cert, STACK_OF(X509) *extra, int profile)
{
	if (!cert || X509_check_ca(cert))
		return M2M_R_BAD_CHAIN;  /* relying parties check end entities only */
	m2m_reason r = reason_of(chain_error(t, cert, extra));
	if (r == M2M_OK && profile >= 0 && m2m_pki_cert_profile(cert) != profile)
		return M2M_R_NOT_AUTHORISED;
	return r;
}

m2m_reason m2m_trust_verify(m2m_trust *t, X509 *cert, int purpose_profile)
{
	return pki_verify_with(t, cert, NULL, purpose_profile);
}

m2m_reason m2m_pki_verify_tre(m2m_trust *t, X509 *cert, M2M_TRE_PLATFORM **platform)
{
	m2m_reason r = m2m_trust_verify(t, cert, M2M_PROFILE_TRE);
	if (r == M2M_R_BAD_CHAIN || r == M2M_R_NOT_AUTHORISED)
		return r;  /* not the agency's TRE certificate: what it claims means nothing */
	M2M_TRE_PLATFORM *p = NULL;
	char model[64], version[32];
	if (m2m_pki_get_tre_platform(cert, &p) || m2m_pki_tre_platform_read(p, model, version))
		r = M2M_R_BAD_CHAIN;
	else if (m2m_trust_model_revoked(t, model, version))
		r = M2M_R_MODEL_REVOKED;
	if (r == M2M_OK && platform)
		*platform = p;
	else
		M2M_TRE_PLATFORM_free(p);
	return r;
}
