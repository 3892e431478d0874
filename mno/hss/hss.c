/*
 * The home operator's HSS/AuC in the mno daemon: its settings, its life, the dispatch of the
 * requests it serves to one procedure each, and what those procedures share.
 */
#include "hss/hss_impl.h"

#include "hss/first_attach.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hss_context *hss_context_new(void)
{
	return calloc(1, sizeof(hss_context));
}

void hss_context_free(hss_context *h)
{
	if (!h)
		return;
	hss_cancels_free(h);
	hss_settings_wipe(&h->settings);  /* the storage key */
	free(h);
}

/* ---- the entry points of mno/main.c ----------------------------------------------------------- */

void hss_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx)
{
	ctx->hss = hss_context_new();
	hss_settings_read(c, group, &ctx->hss->settings);
}

int hss_start(m2m_daemon *d, mno_context *ctx)
{
	ctx->hss->node = m2m_daemon_node(d);
	ctx->hss->db = m2m_daemon_db(d);
	m2m_info("HSS/AuC of PLMN %s, clone policy %s", ctx->hss->settings.plmn,
		 ctx->hss->settings.clone_policy == HSS_CLONE_SUSPEND ? "suspend" : "log");
	return 0;
}

void hss_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req)
{
	hss_serve(ctx->hss, req);
}

void hss_stop(mno_context *ctx)
{
	hss_context_free(ctx->hss);
	ctx->hss = NULL;
}

void hss_serve(hss_context *h, m2m_request *req)
{
	switch (req->env.type) {
	case M2M_MSG_AUTH_INFO_REQUEST:
		hss_auth_info_request(h, req);
		break;
	case M2M_MSG_UPDATE_LOCATION:
		hss_update_location(h, req);
		break;
	case M2M_MSG_PURGE:
		hss_purge(h, req);
		break;
	case M2M_MSG_TRE_TRIGGER:
		hss_tre_trigger(h, req);
		break;
	default:
		m2m_refuse(h->node, req, M2M_R_UNEXPECTED_MESSAGE,
			   "a home operator serves authInfoRequest, updateLocation, purge and treTrigger, not %s",
			   m2m_msgtype_name(req->env.type));
	}
}

/* ---- shared by the procedures ---------------------------------------------------------------- */

int hss_request_imsi(hss_context *h, m2m_request *req, const ASN1_STRING *imsi_field,
		     const ASN1_STRING *network_field, char imsi[HSS_IMSI_MAX + 1])
{
	char network[M2M_ENTITY_MAX + 1];
	if (m2m_digits(imsi_field, imsi, HSS_IMSI_MAX + 1, 6, HSS_IMSI_MAX)) {
		m2m_refuse(h->node, req, M2M_R_BAD_BODY, "imsi is not 6 to 15 digits");
		return -1;
	}
	if (m2m_str(network_field, network, sizeof network) || strcmp(network, req->env.sender)) {
		m2m_refuse(h->node, req, M2M_R_NOT_AUTHORISED, "%s may only speak for itself as servingNetwork",
			   req->env.sender);
		return -1;
	}
	return 0;
}

/* A pending record is served only when a port brought its card's keys (hss/first_attach.h). A
 * database error counts as not served: the refusal then says pending, and nothing is issued. */
static int served_pending(hss_context *h, const hss_subscriber *s)
{
	return s->has_keys && hss_first_attach_awaited(h->db, s->imsi) == 1;
}

m2m_reason hss_serviceable(hss_context *h, const char *imsi, hss_subscriber *s, char *why, size_t len)
{
	int rc = hss_subscriber_load(h->db, h->settings.storage_key, imsi, s);
	if (rc < 0) {
		snprintf(why, len, "the record of IMSI %s cannot be read", imsi);
		return M2M_R_INTERNAL;
	}
	m2m_reason r = M2M_OK;
	if (rc > 0 || s->state == HSS_DELETED) {
		snprintf(why, len, "IMSI %s is not a subscriber of PLMN %s", imsi, h->settings.plmn);
		r = M2M_R_NOT_FOUND;
	} else if (s->state == HSS_PENDING && !served_pending(h, s)) {
		snprintf(why, len, "IMSI %s is pending: no card yet, or its MCIM is not installed yet", imsi);
		r = M2M_R_WRONG_STATE;
	} else if (s->state == HSS_SUSPENDED) {
		snprintf(why, len, "IMSI %s is suspended", imsi);
		r = M2M_R_SUBSCRIBER_SUSPENDED;
	}
	if (r != M2M_OK)
		hss_subscriber_wipe(s);
	return r;
}

