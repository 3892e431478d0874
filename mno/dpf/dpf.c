/*
 * The DPF in the mno daemon: its settings, its life (the signing identity, the operator's, whose
 * settings are the DPF's: mno/main.c opens it and keeps it enrolled; the provisioned notices and
 * the commands of changes of subscription resent from the tick) and the dispatch of its requests
 * to one procedure each.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/hss_impl.h"
#include "log/log.h"

#include <stdlib.h>
#include <string.h>

static void dpf_context_free(dpf_context *dpf)
{
	if (!dpf)
		return;
	dpf_waits_free(dpf);
	dpf_flights_free(&dpf->notices);
	dpf_flights_free(&dpf->commands);
	dpf_settings_clear(&dpf->settings);
	free(dpf);
}

void dpf_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx)
{
	config_setting_t *g = group ? config_setting_get_member(group, "dpf") : NULL;
	if (!g)
		return;  /* no DPF: Alternative 2 only */
	ctx->dpf = calloc(1, sizeof *ctx->dpf);
	if (!ctx->dpf)
		m2m_conf_fail(c, g, "out of memory");
	else {
		dpf_settings_read(c, g, ctx->hss->settings.plmn, &ctx->dpf->settings);
		ctx->identity = &ctx->dpf->settings.identity;  /* the operator's, opened in mno/main.c */
	}
}

int dpf_start(m2m_daemon *d, mno_context *ctx)
{
	dpf_context *dpf = ctx->dpf;
	if (!dpf)
		return 0;
	dpf->hss = ctx->hss;
	/* the HSS routes the triggers of Alternative 3b from this same registration operator */
	snprintf(ctx->hss->drf, sizeof ctx->hss->drf, "%s", dpf->settings.drf);
	dpf->node = m2m_daemon_node(d);
	dpf->db = m2m_daemon_db(d);
	snprintf(dpf->entity, sizeof dpf->entity, "%s", m2m_daemon_entity(d));
	dpf->id = ctx->id;  /* the operator's identity, shared with the ports */
	if (!dpf->id)
		return -1;
	m2m_info("DPF: MCIMs from IMSI %s (%ld), tickets of %s, verdicts of %s (mode %d, assurance >= %d)",
		 dpf->settings.imsi_first, dpf->settings.imsi_count, dpf->settings.drf, dpf->settings.pva,
		 (int)dpf->settings.mode, dpf->settings.min_assurance);
	return 0;
}

int dpf_serves(int type)
{
	return type == M2M_MSG_MCIM_REQUEST || type == M2M_MSG_INSTALL_RESULT || type == M2M_MSG_TAMPER_REPORT ||
	       type == M2M_MSG_CHANGE_NOTIFY || type == M2M_MSG_CHANGE_RELEASE || type == M2M_MSG_UICC_CREDENTIAL_ORDER ||
	       type == M2M_MSG_UICC_RELEASE;
}

/* A change of subscription is the registration operator's word: only its DRF notifies and
 * releases (the transport authenticated the sender). */
static int from_drf(dpf_context *dpf, m2m_request *req)
{
	if (!strcmp(req->env.sender, dpf->settings.drf))
		return 1;
	m2m_refuse(dpf->node, req, M2M_R_NOT_AUTHORISED, "only the DRF %s speaks of changes of subscription, not %s",
		   dpf->settings.drf, req->env.sender);
	return 0;
}

void dpf_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req)
{
	dpf_context *dpf = ctx->dpf;
	if (!m2m_identity_ready(dpf->id)) {
		m2m_refuse(dpf->node, req, M2M_R_WRONG_STATE, "the DPF of %s is not enrolled at %s yet", dpf->entity,
			   dpf->settings.identity.agency);
		return;
	}
	switch (req->env.type) {
	case M2M_MSG_MCIM_REQUEST:
		dpf_mcim_request(dpf, req);
		break;
	case M2M_MSG_INSTALL_RESULT:
		dpf_install_result(dpf, req);
		break;
	case M2M_MSG_CHANGE_NOTIFY:
		if (from_drf(dpf, req))
			dpf_change_notify(dpf, req);
		break;
	case M2M_MSG_CHANGE_RELEASE:
		if (from_drf(dpf, req))
			dpf_change_release(dpf, req);
		break;
	case M2M_MSG_UICC_CREDENTIAL_ORDER:
		if (from_drf(dpf, req))
			dpf_uicc_order(dpf, req);
		break;
	case M2M_MSG_UICC_RELEASE:
		if (from_drf(dpf, req))
			dpf_uicc_release(dpf, req);
		break;
	default:
		dpf_tamper_report(dpf, req);
	}
}

void dpf_tick(m2m_daemon *d, mno_context *ctx)
{
	dpf_context *dpf = ctx->dpf;
	if (!dpf || !dpf->id)
		return;
	dpf_notify_tick(dpf);
	dpf_change_tick(dpf);
}

void dpf_stop(mno_context *ctx)
{
	dpf_context_free(ctx->dpf);
	ctx->dpf = NULL;
}
