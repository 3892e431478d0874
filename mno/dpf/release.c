/*
 * changeRelease from the DRF (docs/alt1a-change.md step 6): the TRE attached with the new SHO's
 * MCIM and signed changeComplete, so this operator's MCIM is to go. The release is recorded
 * (released, audited) with the signed mcimCommand delete that the tick then sends the TRE until
 * its signed receipt comes (change_command.c: the receipt kept, the HSS record deleted), and
 * answered changeReleaseAck {changeId} as soon as it is recorded. A release of a change released
 * or deleted already gets the same ack. Refusals, which change nothing: notFound (no such change
 * of that TRE and MCIM), badBody.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/provision.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

/* The change the release names: M2M_OK with it in c, badBody, notFound or internalError. */
static m2m_reason find_released(dpf_context *dpf, const M2M_CHANGE_RELEASE *w, dpf_change *c, char *why, size_t len)
{
	uint8_t change_id[DPF_CHANGE_ID_LEN], mcim_id[DPF_MCIM_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	if (m2m_read_octets(w->change_id, change_id, sizeof change_id) || m2m_read_name(w->tre, tre, M2M_ENTITY_MAX) ||
	    m2m_read_octets(w->mcim_id, mcim_id, sizeof mcim_id)) {
		snprintf(why, len, "changeRelease needs a 16-octet changeId, a tre and a 16-octet mcimId");
		return M2M_R_BAD_BODY;
	}
	int rc = dpf_change_find(dpf->db, change_id, c);
	if (rc < 0) {
		snprintf(why, len, "the changes cannot be read");
		return M2M_R_INTERNAL;
	}
	if (rc > 0 || strcmp(c->tre, tre) || memcmp(c->mcim_id, mcim_id, sizeof mcim_id)) {
		snprintf(why, len, "%s consented to no such change of %s and this MCIM", dpf->entity, tre);
		return M2M_R_NOT_FOUND;
	}
	return M2M_OK;
}

/* consented or triggered -> released, with the delete command to send. */
static m2m_reason release(dpf_context *dpf, dpf_change *c, char *why, size_t len)
{
	char id_hex[2 * DPF_CHANGE_ID_LEN + 1];
	m2m_hex(c->change_id, sizeof c->change_id, id_hex);
	c->state = DPF_RELEASED;
	if (dpf_change_arm(dpf, c, M2M_MCIM_DELETE) || dpf_change_update(dpf->db, c) ||
	    hss_audit(dpf->db, DPF_ACTOR, c->imsi, "change", "change %s to %s complete: the MCIM is to be deleted in %s",
		      id_hex, c->to_sho, c->tre)) {
		snprintf(why, len, "the release of change %s cannot be recorded", id_hex);
		return M2M_R_INTERNAL;
	}
	m2m_info("change %s: %s moved to %s; its MCIM of %s is to be deleted", id_hex, c->tre, c->to_sho, dpf->entity);
	return M2M_OK;
}

void dpf_release_answer(dpf_context *dpf, m2m_request *req, int type, const uint8_t change_id[DPF_CHANGE_ID_LEN],
			m2m_reason r, const char *why)
{
	M2M_CHANGE_ACK *ack = r == M2M_OK ? M2M_CHANGE_ACK_new() : NULL;
	if (ack && ASN1_OCTET_STRING_set(ack->change_id, change_id, DPF_CHANGE_ID_LEN))
		m2m_reply(dpf->node, req, type, ack);
	else
		m2m_refuse(dpf->node, req, r == M2M_OK ? M2M_R_INTERNAL : r, "%s refused: %s",
			   m2m_msgtype_name(req->env.type), why[0] ? why : "the acknowledgement cannot be encoded");
	M2M_CHANGE_ACK_free(ack);
}

void dpf_change_release(dpf_context *dpf, m2m_request *req)
{
	dpf_change c;
	char why[256] = "";
	memset(&c, 0, sizeof c);
	m2m_reason r = find_released(dpf, req->env.body, &c, why, sizeof why);
	if (r == M2M_OK && (c.state == DPF_CONSENTED || c.state == DPF_TRIGGERED))
		r = release(dpf, &c, why, sizeof why);
	dpf_release_answer(dpf, req, M2M_MSG_CHANGE_RELEASE_ACK, c.change_id, r, why);
	dpf_change_clear(&c);
}
