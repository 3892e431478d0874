/*
 * drf: the registration operator, initial connectivity (ICF) and discovery and registration (DRF)
 * in one process (drf.h, docs/drf.md). settings.c shows a complete drf group.
 *
 * At first start the signing key is generated (sealed in the database); the DRF then enrols with
 * the agency as profile registration and keeps its CRL fresh in the background (lib/daemon
 * identity) while it serves. Discovery needs the certificate; the ICF does not.
 */
#include "drf.h"

#include "log/log.h"

#include <stdlib.h>
#include <string.h>

static void configure(m2m_daemon *d, m2m_conf *c, config_setting_t *group)
{
	drf *f = calloc(1, sizeof *f);
	m2m_daemon_set_ctx(d, f);
	if (!f) {
		m2m_conf_fail(c, NULL, "out of memory");
		return;
	}
	drf_settings_read(c, group, &f->s);
}

static int start(m2m_daemon *d)
{
	drf *f = m2m_daemon_ctx(d);
	f->node = m2m_daemon_node(d);
	f->db = m2m_daemon_db(d);
	snprintf(f->entity, sizeof f->entity, "%s", m2m_daemon_entity(d));
	/* a released PCID's sealed keys are overwritten, not left in free pages */
	if (m2m_store_exec(f->db, "PRAGMA secure_delete = ON"))
		return -1;
	f->id = m2m_identity_open(f->db, f->s.storage_key, f->entity, &f->s.identity);
	if (!f->id)
		return -1;
	m2m_info("ICF of PLMN %s: %ld PCIDs from %s, valid %d days, gate %s; DRF tickets valid %ds", f->s.plmn,
		 f->s.pool_size, f->s.pool_first, f->s.pcid_validity_days,
		 f->s.gate == DRF_GATE_BEFORE_AV ? "before_av" : "after_attach", f->s.ticket_seconds);
	return 0;
}

static void dispatch(m2m_daemon *d, m2m_request *req)
{
	drf *f = m2m_daemon_ctx(d);
	switch (req->env.type) {
	case M2M_MSG_PCID_ASSIGN_REQUEST:
		drf_pcid_assign_request(f, req);
		break;
	case M2M_MSG_AUTH_INFO_REQUEST:
		drf_auth_info_request(f, req);
		break;
	case M2M_MSG_UPDATE_LOCATION:
		drf_update_location(f, req);
		break;
	case M2M_MSG_PURGE:
		drf_purge(f, req);
		break;
	case M2M_MSG_REGISTRATION_REQUEST:
		drf_registration_request(f, req);
		break;
	case M2M_MSG_DISCOVERY_REQUEST:
		drf_discovery_request(f, req);
		break;
	case M2M_MSG_PROVISIONED:
		drf_provisioned(f, req);
		break;
	case M2M_MSG_CHANGE_REQUEST:
		drf_change_request(f, req);
		break;
	case M2M_MSG_CHANGE_COMPLETE:
		drf_change_complete(f, req);
		break;
	case M2M_MSG_UICC_CHANGE_REGISTER:
		drf_uicc_change_register(f, req);
		break;
	case M2M_MSG_UICC_CHANGE_COMPLETE:
		drf_uicc_change_complete(f, req);
		break;
	default:
		m2m_refuse(f->node, req, M2M_R_UNEXPECTED_MESSAGE,
			   "the registration operator serves pcidAssignRequest, authInfoRequest, updateLocation, purge, "
			   "registrationRequest, discoveryRequest, provisioned, changeRequest, changeComplete, uiccChangeRegister "
			   "and uiccChangeComplete, not %s",
			   m2m_msgtype_name(req->env.type));
	}
}

/* About once a second and after every event: enrolment and CRL (identity); at most once a
 * second, expiries and the calls due for a change (notify, release; 3b: trigger, order, release). */
static void tick(m2m_daemon *d)
{
	static time_t swept, told;
	drf *f = m2m_daemon_ctx(d);
	m2m_identity_tick(f->id, f->node);
	time_t now = time(NULL);
	if (now != swept && !drf_expire(f, now))
		swept = now;
	if (now != told) {
		drf_change_tick(f, now);
		told = now;
	}
}

static void stop(m2m_daemon *d)
{
	drf *f = m2m_daemon_ctx(d);
	if (!f)
		return;
	drf_gate_free(f);
	drf_pending_free(f);
	m2m_identity_free(f->id);
	drf_settings_clear(&f->s);
	free(f);
	m2m_daemon_set_ctx(d, NULL);
}

static const m2m_role role = {
	.name = "drf",
	.description = "the registration operator: initial connectivity (ICF) and discovery and registration (DRF)",
	.schema = &drf_schema,
	.configure = configure,
	.start = start,
	.dispatch = dispatch,
	.tick = tick,
	.stop = stop,
};

int main(int argc, char **argv)
{
	return m2m_daemon_main(argc, argv, &role);
}
