/*
 * The visited operator in the mno daemon: its settings, its life, the dispatch of the requests
 * it serves to one procedure each, and the small helpers those procedures share.
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vno_context *vno_context_new(void)
{
	return calloc(1, sizeof(vno_context));
}

void vno_context_free(vno_context *v)
{
	if (!v)
		return;
	vno_pending_free_all(v);
	vno_settings_wipe(&v->settings);  /* the storage key */
	free(v);
}

/* ---- the entry points of mno/main.c ----------------------------------------------------------- */

void vno_configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group, mno_context *ctx)
{
	ctx->vno = vno_context_new();
	if (!ctx->vno) {
		m2m_conf_fail(c, group, "out of memory");
		return;
	}
	vno_settings_read(c, group, &ctx->vno->settings);
	if (c->failed)
		return;
	/* the daemon read the transport already, but keeps it to itself: read the peers again */
	m2m_node_conf *nc = calloc(1, sizeof *nc);
	if (!nc) {
		m2m_conf_fail(c, group, "out of memory");
		return;
	}
	m2m_conf_node(c, nc);
	vno_settings_check_peers(c, group, &ctx->vno->settings, nc);
	m2m_wipe(nc->secret_key, sizeof nc->secret_key);
	free(nc);
}

static void log_roaming(const vno_settings *s)
{
	for (int i = 0; i < s->nroaming; i++)
		m2m_info("roaming: %s %s... served by %s%s", s->roaming[i].pcid ? "PCID" : "IMSI", s->roaming[i].plmn,
			 s->roaming[i].home, s->roaming[i].pcid ? " (an ICF: walled garden)" : "");
	for (int i = 0; i < s->nwalled; i++)
		m2m_info("walled garden: a PCID session reaches %s", s->walled[i]);
}

int vno_start(m2m_daemon *d, mno_context *ctx)
{
	vno_context *v = ctx->vno;
	v->node = m2m_daemon_node(d);
	v->db = m2m_daemon_db(d);
	snprintf(v->entity, sizeof v->entity, "%s", m2m_daemon_entity(d));
	if (m2m_store_begin(v->db))
		return -1;
	int abandoned = vno_attach_abandon_waiting(v->db, v->settings.storage_key);
	if (abandoned < 0 || m2m_store_commit(v->db)) {
		m2m_store_rollback(v->db);
		return -1;
	}
	if (abandoned)
		m2m_warn("%d attach(es) waiting on a home operator ended with the restart", abandoned);
	m2m_info("visited network of PLMN %s, %d roaming agreement(s)", v->settings.plmn, v->settings.nroaming);
	log_roaming(&v->settings);
	if (v->settings.attack != VNO_ATTACK_NONE)
		m2m_warn("ATTACKER: this network runs attack \"%s\" (for the attack scenarios only)",
			 vno_attack_name(v->settings.attack));
	return 0;
}

void vno_dispatch(m2m_daemon *d, mno_context *ctx, m2m_request *req)
{
	vno_serve(ctx->vno, req);
}

void vno_stop(mno_context *ctx)
{
	vno_context_free(ctx->vno);
	ctx->vno = NULL;
}

void vno_serve(vno_context *v, m2m_request *req)
{
	switch (req->env.type) {
	case M2M_MSG_ATTACH_REQUEST:
		vno_attach_request(v, req);
		break;
	case M2M_MSG_AUTH_RESPONSE:
		vno_auth_response(v, req);
		break;
	case M2M_MSG_AUTH_FAILURE:
		vno_auth_failure(v, req);
		break;
	case M2M_MSG_PROTECTED_DATA:
		vno_protected_data(v, req);
		break;
	case M2M_MSG_DETACH_REQUEST:
		vno_detach_request(v, req);
		break;
	case M2M_MSG_CANCEL_LOCATION:
		vno_cancel_location(v, req);
		break;
	case M2M_MSG_RELAY_REQUEST:
		vno_relay_request(v, req);
		break;
	case M2M_MSG_SMS_DELIVER:
	case M2M_MSG_TRE_TRIGGER:
		vno_downlink(v, req);
		break;
	default:
		m2m_refuse(v->node, req, M2M_R_UNEXPECTED_MESSAGE,
			   "a visited operator serves attach, authentication, user data, relay, detach,"
			   " cancelLocation, smsDeliver and treTrigger, not %s", m2m_msgtype_name(req->env.type));
	}
}

/* ---- shared by the procedures ---------------------------------------------------------------- */

int vno_read_imsi(const ASN1_STRING *s, char imsi[VNO_IMSI_MAX + 1])
{
	return m2m_digits(s, imsi, VNO_IMSI_MAX + 1, 6, VNO_IMSI_MAX);
}

int vno_read_imei(const ASN1_STRING *s, char imei[VNO_IMEI_MAX + 1])
{
	return m2m_digits(s, imei, VNO_IMEI_MAX + 1, 14, VNO_IMEI_MAX);
}

int vno_read_apn(const ASN1_STRING *s, char apn[VNO_APN_MAX + 1])
{
	return s && !m2m_str(s, apn, VNO_APN_MAX + 1) && apn[0] ? 0 : -1;
}

