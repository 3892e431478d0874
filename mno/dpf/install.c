/*
 * installResult: a SignedObject over InstallResult {mcimId, tre, nonce, status, reason}, signed
 * by the TRE that installed (or refused) the MCIM, relayed like the order (brief §2.1 step 10).
 * It must come from the TRE the MCIM was made for and carry that order's nonce.
 *
 *   packaged + installed: the HSS record becomes active, the order installed, and the DRF is told
 *                         (provisioned, until it acknowledges: notify.c);
 *   packaged + refused:   the order is refused and its pending HSS record deleted;
 *   the same result again (the ack was lost): the same installAck, nothing changes.
 *
 * Every answer is installAck {mcimId}; anything else is refused and changes nothing.
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/provision.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

typedef struct install_result {
	uint8_t mcim_id[DPF_MCIM_ID_LEN];
	uint8_t nonce[DPF_NONCE_LEN];
	int status;  /* m2m_install_status */
	char id_hex[2 * DPF_MCIM_ID_LEN + 1];
} install_result;

static m2m_reason read_result(const M2M_INSTALL_RESULT *w, install_result *ir, char *why, size_t len)
{
	if (m2m_read_octets(w->mcim_id, ir->mcim_id, DPF_MCIM_ID_LEN) ||
	    m2m_read_octets(w->nonce, ir->nonce, DPF_NONCE_LEN) || m2m_read_enum(w->status, M2M_INSTALL_REFUSED, &ir->status)) {
		snprintf(why, len, "installResult needs a 16-octet mcimId, a 32-octet nonce and a status of 0 or 1");
		return M2M_R_BAD_BODY;
	}
	m2m_hex(ir->mcim_id, DPF_MCIM_ID_LEN, ir->id_hex);
	return M2M_OK;
}

/* The order the result is about: M2M_OK, notFound, or nonceReplayed (not that order's nonce). */
static m2m_reason match_order(dpf_context *dpf, const install_result *ir, const char *tre, dpf_order *o, char *why,
			      size_t len)
{
	int rc = dpf_order_by_mcim(dpf->db, ir->mcim_id, o);
	if (rc < 0) {
		snprintf(why, len, "the orders cannot be read");
		return M2M_R_INTERNAL;
	}
	if (rc > 0 || strcmp(o->tre, tre)) {
		snprintf(why, len, "no MCIM %s was issued to %s", ir->id_hex, tre);
		return M2M_R_NOT_FOUND;
	}
	if (m2m_ct_compare(o->nonce, ir->nonce, DPF_NONCE_LEN)) {
		snprintf(why, len, "the install result of MCIM %s does not carry its order's nonce", ir->id_hex);
		return M2M_R_NONCE_REPLAYED;
	}
	return M2M_OK;
}

/* packaged -> installed or refused, with the HSS record following. */
static m2m_reason apply(dpf_context *dpf, const install_result *ir, const dpf_order *o, char *why, size_t len)
{
	int installed = ir->status == M2M_INSTALLED;
	hss_change change = installed ? HSS_CHANGE_ACTIVATE : HSS_CHANGE_DELETE;
	if (hss_change_in(dpf->db, o->imsi, change, DPF_ACTOR, why, len) != HSS_DONE ||
	    dpf_order_set_state(dpf->db, o->id, installed ? DPF_INSTALLED : DPF_REFUSED) ||
	    (installed && dpf_notify_add(dpf, o->tre, o->mcim_id))) {
		if (!why[0])
			snprintf(why, len, "the install of MCIM %s cannot be recorded", ir->id_hex);
		return M2M_R_INTERNAL;
	}
	m2m_info("MCIM %s (IMSI %s) %s by %s", ir->id_hex, o->imsi, installed ? "installed" : "refused", o->tre);
	return M2M_OK;
}

/* What the result does to the order in its state. */
static m2m_reason transition(dpf_context *dpf, const install_result *ir, const dpf_order *o, char *why, size_t len)
{
	dpf_order_state done = ir->status == M2M_INSTALLED ? DPF_INSTALLED : DPF_REFUSED;
	if (o->state == DPF_PACKAGED)
		return apply(dpf, ir, o, why, len);
	if (o->state == done)
		return M2M_OK;  /* a retry: the ack was lost */
	snprintf(why, len, "MCIM %s is %s: this result cannot apply", ir->id_hex, dpf_order_state_name(o->state));
	return M2M_R_WRONG_STATE;
}

void dpf_install_result(dpf_context *dpf, m2m_request *req)
{
	m2m_tre_signed s;
	char why[256] = "";
	install_result ir;
	dpf_order o;
	memset(&o, 0, sizeof o);
	m2m_reason r = dpf_tre_signed(m2m_identity_trust(dpf->id), req->env.body, ASN1_ITEM_rptr(M2M_INSTALL_RESULT),
				      M2M_TRE_FIELD(M2M_INSTALL_RESULT), &s);
	if (r != M2M_OK)
		snprintf(why, sizeof why, "install result refused: %s", s.why);
	if (r == M2M_OK)
		r = read_result(s.value, &ir, why, sizeof why);
	if (r == M2M_OK)
		r = match_order(dpf, &ir, s.tre, &o, why, sizeof why);
	if (r == M2M_OK)
		r = transition(dpf, &ir, &o, why, sizeof why);
	M2M_INSTALL_ACK *ack = r == M2M_OK ? M2M_INSTALL_ACK_new() : NULL;
	if (ack && ASN1_OCTET_STRING_set(ack->mcim_id, ir.mcim_id, DPF_MCIM_ID_LEN))
		m2m_reply(dpf->node, req, M2M_MSG_INSTALL_ACK, ack);
	else
		m2m_refuse(dpf->node, req, r == M2M_OK ? M2M_R_INTERNAL : r, "%s", why[0] ? why : "installAck cannot be encoded");
	M2M_INSTALL_ACK_free(ack);
	m2m_tre_signed_clear(&s);
	dpf_order_clear(&o);
}
