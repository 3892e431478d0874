/*
 * What the agency publishes to anyone who asks: its CRL (crlRequest) and the certified platform
 * types (platformTypeRequest), the latter as a PlatformType signed with the agency's own
 * certificate so that it can be checked offline with the root alone (docs/pki.md).
 */
#include "certauth.h"

#include <string.h>

void certauth_crl_request(certauth *c, m2m_request *req)
{
	char err[200] = "";
	uint8_t *der = NULL;
	size_t len = 0;
	uint64_t number = 0;
	M2M_CRL_RESPONSE *resp = M2M_CRL_RESPONSE_new();
	if (resp && !ca_crl_refresh(&c->authority, 0, err, sizeof err) &&
	    ca_crl_latest(c->authority.db, &der, &len, &number) == 0 && ASN1_OCTET_STRING_set(resp->crl, der, (int)len))
		m2m_reply(c->node, req, M2M_MSG_CRL_RESPONSE, resp);
	else
		m2m_refuse(c->node, req, M2M_R_INTERNAL, "%s", err[0] ? err : "the CRL cannot be read");
	OPENSSL_free(der);
	M2M_CRL_RESPONSE_free(resp);
}

/* The agency's own signature: its end-entity certificate, with the issuing CA alongside. */
static int sign_type(certauth *c, const M2M_PLATFORM_TYPE *t, M2M_SIGNED_OBJECT *so)
{
	STACK_OF(X509) *extra = sk_X509_new_null();
	int rc = extra && sk_X509_push(extra, c->authority.issuing)
			 ? m2m_cms_sign_item(c->authority.pva_key, c->authority.pva, extra,
					     ASN1_ITEM_rptr(M2M_PLATFORM_TYPE), t, so)
			 : -1;
	sk_X509_free(extra);
	return rc;
}

void certauth_platform_type_request(certauth *c, m2m_request *req)
{
	const M2M_PLATFORM_TYPE_REQUEST *q = req->env.body;
	char model[64], version[32];
	if (ASN1_STRING_length(q->model) < 1 || m2m_str(q->model, model, sizeof model) ||
	    ASN1_STRING_length(q->version) < 1 || m2m_str(q->version, version, sizeof version)) {
		m2m_refuse(c->node, req, M2M_R_BAD_BODY, "model is 1 to 63 characters, version 1 to 31");
		return;
	}
	M2M_PLATFORM_TYPE *t = NULL;
	m2m_reason r = ca_platform_get(c->authority.db, model, version, &t);
	M2M_SIGNED_OBJECT *so = r == M2M_OK ? M2M_SIGNED_OBJECT_new() : NULL;
	if (r == M2M_OK && (!so || sign_type(c, t, so)))
		r = M2M_R_INTERNAL;
	if (r == M2M_OK)
		m2m_reply(c->node, req, M2M_MSG_PLATFORM_TYPE_RESPONSE, so);
	else if (r == M2M_R_NOT_FOUND)
		m2m_refuse(c->node, req, r, "%s %s is not a certified platform type", model, version);
	else
		m2m_refuse(c->node, req, r, "%s %s cannot be served", model, version);
	M2M_SIGNED_OBJECT_free(so);
	M2M_PLATFORM_TYPE_free(t);
}
