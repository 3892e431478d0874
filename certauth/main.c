/*
 * certauth: the certification agency (its X.509 hierarchy, enrolment, CRL, certified platform
 * types; docs/pki.md) and, in the same process, the platform validation authority (certauth/pva),
 * which signs its verdicts with the agency's own certificate (ca.h).
 */
#include "certauth.h"
#include "pva/pva.h"
#include "schema.h"

#include "log/log.h"

#include <stdlib.h>

static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	certauth *ca = calloc(1, sizeof *ca);
	m2m_daemon_set_ctx(d, ca);
	if (!ca) {
		m2m_conf_fail(c, NULL, "out of memory");
		return;
	}
	ca_settings_read(c, group, &ca->settings);
	pva_configure(d, c, group ? config_setting_get_member(group, "pva") : NULL);
}

static int start(m2m_daemon *d)
{
	certauth *c = m2m_daemon_ctx(d);
	char err[300] = "";
	c->node = m2m_daemon_node(d);
	if (ca_open(&c->authority, m2m_daemon_db(d), &c->settings, m2m_daemon_entity(d), err, sizeof err)) {
		m2m_error("%s", err);
		return -1;
	}
	if (certauth_ca_init(c)) {
		m2m_error("the agency's trust store cannot be built");
		return -1;
	}
	m2m_info("certification agency up: root certificate in %s", c->settings.root_certificate);
	return pva_start(d);
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	if (pva_serves(req->env.type))
		pva_dispatch(d, req);
	else
		certauth_serve(m2m_daemon_ctx(d), req);
}

static void stop(m2m_daemon *d)
{
	certauth *c = m2m_daemon_ctx(d);
	pva_stop(d);
	if (!c)
		return;
	certauth_ca_free(c);
	ca_close(&c->authority);
	ca_settings_wipe(&c->settings);
	free(c);
	m2m_daemon_set_ctx(d, NULL);
}

static m2m_role role = {  /* not const: the schema is built at start */
	.name = "certauth",
	.description = "the certification agency and the platform validation authority (PVA)",
	.configure = configure,
	.start = start,
	.dispatch = dispatch,
	.stop = stop,
};

int main(int argc, char **argv)
{
	role.schema = certauth_schema();
	return m2m_daemon_main(argc, argv, &role);
}
