/*
 * The PVA's view of the agency (ca.h): the agency's own key and certificate, and a trust store
 * over its hierarchy that follows the newest CRL in the database, certauth-admin's revocations
 * included, since the admin tool writes the same database while the daemon runs.
 */
#include "certauth.h"

#include "log/log.h"

int certauth_ca_init(certauth *c)
{
	ca_context *ca = &c->ca;
	ca->pva_key = c->authority.pva_key;
	ca->pva_cert = c->authority.pva;
	ca->root = c->authority.root;
	ca->pva_chain = sk_X509_new_null();
	ca->trust = m2m_trust_new(c->authority.root);
	if (!ca->pva_chain || !sk_X509_push(ca->pva_chain, c->authority.issuing) || !ca->trust ||
	    m2m_trust_add_intermediate(ca->trust, c->authority.issuing))
		return -1;
	return certauth_ca_current(c) ? 0 : -1;
}

void certauth_ca_free(certauth *c)
{
	sk_X509_free(c->ca.pva_chain);  /* the certificates belong to c->authority */
	m2m_trust_free(c->ca.trust);
	c->ca = (ca_context){0};
}

const ca_context *certauth_ca_current(certauth *c)
{
	char err[200] = "";
	uint8_t *der = NULL;
	size_t len = 0;
	uint64_t number = 0;
	if (ca_crl_refresh(&c->authority, 0, err, sizeof err))
		m2m_warn("%s", err);
	if (ca_crl_latest(c->authority.db, &der, &len, &number) == 0 && number > m2m_trust_crl_number(c->ca.trust) &&
	    m2m_trust_set_crl(c->ca.trust, der, len) != M2M_OK)
		m2m_error("CRL %llu of this agency does not verify", (unsigned long long)number);
	OPENSSL_free(der);
	return &c->ca;
}

const ca_context *ca_get(m2m_daemon *d)
{
	certauth *c = m2m_daemon_ctx(d);
	return c && c->ca.trust ? certauth_ca_current(c) : NULL;
}

m2m_reason ca_platform_type(m2m_daemon *d, const char *model, const char *version, M2M_PLATFORM_TYPE **out)
{
	certauth *c = m2m_daemon_ctx(d);
	return c && c->authority.db ? ca_platform_get(c->authority.db, model, version, out) : M2M_R_INTERNAL;
}
