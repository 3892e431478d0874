/*
 * The PVA's life inside certauth (pva.h): the daemon glue.
 *
 * certauth's daemon context belongs to the agency, so the PVA keeps its own here: one process
 * runs at most one PVA. Everything below (serve.c) takes the context as an argument, and the
 * agency behind two functions, so that the tests build their own without a daemon.
 */
#include "pva_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdlib.h>
#include <time.h>

static pva_context *the_pva;

static int64_t wall_clock(void)
{
	return (int64_t)time(NULL);
}

static const ca_context *agency_get(void *arg)
{
	return ca_get(arg);
}

static m2m_reason agency_platform_type(void *arg, const char *model, const char *version, M2M_PLATFORM_TYPE **out)
{
	return ca_platform_type(arg, model, version, out);
}

void pva_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	the_pva = calloc(1, sizeof *the_pva);
	m2m_node_conf *nc = calloc(1, sizeof *nc);
	if (!the_pva || !nc) {
		m2m_conf_fail(c, group, "out of memory");
		free(nc);
		return;
	}
	/* the daemon read the transport already but keeps it to itself: the peers are read again to
	 * check the relying parties against them */
	m2m_conf_node(c, nc);
	if (!c->failed)
		pva_settings_read(c, group, nc, &the_pva->settings);
	m2m_wipe(nc->secret_key, sizeof nc->secret_key);
	free(nc);
	the_pva->agency = (pva_agency){.get = agency_get, .platform_type = agency_platform_type, .arg = d};
	the_pva->now = wall_clock;
}

static void log_settings(const pva_settings *s)
{
	m2m_info("PVA: verdicts valid %llds, unknown digests %s, nonces valid %llds, %s", (long long)s->verdict_validity_s,
		 pva_unknown_policy_name(s->unknown), (long long)s->nonce_lifetime_s,
		 s->restricted ? "relying parties:" : "every peer may ask");
	for (int i = 0; i < s->nrelying; i++)
		m2m_info("PVA: relying party %s", s->relying[i]);
}

int pva_start(m2m_daemon *d)
{
	pva_context *p = the_pva;
	if (!p)
		return -1;
	p->node = m2m_daemon_node(d);
	p->db = m2m_daemon_db(d);
	int abandoned = pva_resume(p);
	if (abandoned < 0)
		return -1;
	if (abandoned)
		m2m_warn("PVA: %d challenge(s) left unanswered by the restart are void", abandoned);
	log_settings(&p->settings);
	return 0;
}

int pva_serves(int type)
{
	return type == M2M_MSG_VALIDATION_REQUEST || type == M2M_MSG_TAMPER_REPORT ||
	       type == M2M_MSG_VALIDATION_STATUS_REQUEST;
}

void pva_dispatch(m2m_daemon *d, m2m_request *req)
{
	pva_serve(the_pva, req);
}

void pva_stop(m2m_daemon *d)
{
	if (!the_pva)
		return;
	pva_pending_free_all(the_pva);
	free(the_pva);
	the_pva = NULL;
}
