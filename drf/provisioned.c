/*
 * provisioned {tre, sho, mcimId} (brief 2.1 step 10, O7): the SHO's DPF reports that the TRE
 * confirmed the install of its MCIM. The registration records it, and the ICF releases the TRE's
 * PCID to the pool: the device attaches with its MCIM from now on. Only the SHO the device is
 * registered for may say so; said again, it changes nothing more (the newest mcimId is kept).
 *
 * During a change of subscription the new SHO reports its MCIM installed before the TRE switched
 * to it: accepted from the new SHO of the device's consented change, and nothing changes; the
 * registration moves to it at changeComplete (change_complete.c).
 */
#include "drf.h"

#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

static int mark_provisioned(drf *d, const char *tre, const uint8_t mcim_id[DRF_ID_LEN])
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "UPDATE drf_registration SET mcim_id = ?2,"
						    " provisioned_at = coalesce(provisioned_at, ?3) WHERE tre = ?1");
	if (st) {
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, mcim_id, DRF_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, time(NULL));
	}
	return m2m_store_run(d->db, st);
}

/* The TRE's PCID, if it still holds one, back to the pool: 0 or -1. */
static int release_pcid(drf *d, const char *tre)
{
	drf_pcid p;
	int rc = drf_pcid_of_tre(d, tre, 0, &p);
	if (rc == 0 && !drf_pcid_release(d, p.imsi))
		m2m_info("PCID %s of TRE %s released: back in the pool", p.imsi, tre);
	else if (rc == 0)
		rc = -1;
	return rc < 0 ? -1 : 0;
}

static void acknowledge(drf *d, m2m_request *req)
{
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(d->node, req, M2M_MSG_PROVISIONED_ACK, nothing);
	ASN1_NULL_free(nothing);
}

/* From another SHO than registered: acknowledged when it is the new SHO of the consented change. */
static void changing(drf *d, m2m_request *req, const drf_registration *r, const char *sho)
{
	drf_change c;
	int rc = drf_change_open_of(d, r->tre, &c);
	if (rc < 0)
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the changes of %s cannot be read", r->tre);
	else if (rc > 0 || c.state != DRF_CHANGE_CONSENTED || strcmp(c.to_sho, sho))
		m2m_refuse(d->node, req, M2M_R_WRONG_SHO, "TRE %s is registered for %s, not %s", r->tre, r->sho, sho);
	else {
		m2m_info("TRE %s provisioned by %s during its change: the registration moves at changeComplete", r->tre, sho);
		acknowledge(d, req);
	}
}

void drf_provisioned(drf *d, m2m_request *req)
{
	const M2M_PROVISIONED *q = req->env.body;
	char tre[M2M_ENTITY_MAX + 1], sho[M2M_ENTITY_MAX + 1];
	uint8_t mcim_id[DRF_ID_LEN];
	drf_registration r;
	if (m2m_read_name(q->tre, tre, M2M_ENTITY_MAX) || m2m_read_name(q->sho, sho, M2M_ENTITY_MAX) ||
	    m2m_read_octets(q->mcim_id, mcim_id, sizeof mcim_id)) {
		m2m_refuse(d->node, req, M2M_R_BAD_BODY, "provisioned has a tre, a sho and a 16-octet mcimId");
		return;
	}
	if (strcmp(sho, req->env.sender)) {
		m2m_refuse(d->node, req, M2M_R_NOT_AUTHORISED, "%s may report only its own provisioning, not %s's",
			   req->env.sender, sho);
		return;
	}
	int rc = drf_registration_load(d, tre, &r);
	if (rc) {
		m2m_refuse(d->node, req, rc > 0 ? M2M_R_NOT_REGISTERED : M2M_R_INTERNAL, "no registration for TRE %s", tre);
		return;
	}
	if (strcmp(r.sho, sho)) {
		changing(d, req, &r, sho);
		return;
	}
	if (mark_provisioned(d, tre, mcim_id) || release_pcid(d, tre)) {
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the provisioning of TRE %s cannot be stored", tre);
		return;
	}
	m2m_info("TRE %s provisioned by %s", tre, sho);
	acknowledge(d, req);
}
