/*
 * The attach procedure at the visited operator (TS 33.102 6.3 carried in this protocol; the
 * states and their transitions are attach_state.c's table):
 *
 *   attachRequest{imsi, imei, apn}  route by the IMSI's PLMN, authInfoRequest to the home
 *                                   operator (for a PCID: the registration operator's ICF,
 *                                   which answers as an HSS), answered with
 *                                   authChallenge{attachId, RAND, AUTN}
 *   authResponse{attachId, res}     RES against XRES (constant time), then location.c
 *   authFailure{attachId, cause}    synchFailure: authInfoRequest with resync{RAND, AUTS} and a
 *                                   new challenge; macFailure: the card says we are not its
 *                                   network, the attach ends
 *
 * Each step stores the attach before anything leaves (the node commits first). A device may only
 * continue an attach it started; an answer of the home operator is matched to its attach by id
 * and acts only if the attach still waits for it.
 */
#include "vno/vno_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <string.h>

/* ---- the checks --------------------------------------------------------------------------------- */

int vno_res_matches(const vno_vector *v, const uint8_t *res, size_t res_len)
{
	/* lengths are public (the RES length is fixed per operator); only the value is compared in
	 * constant time */
	if (v->xres_len == 0 || res_len != v->xres_len)
		return 0;
	return m2m_ct_compare(v->xres, res, res_len) == 0;
}

int vno_vector_from_wire(const M2M_AUTH_INFO_RESPONSE *resp, vno_vector *out)
{
	const M2M_AUTH_VECTOR *av = resp && sk_M2M_AUTH_VECTOR_num(resp) > 0 ? sk_M2M_AUTH_VECTOR_value(resp, 0) : NULL;
	memset(out, 0, sizeof *out);
	if (!av)
		return -1;
	int xres_len = ASN1_STRING_length(av->xres);
	if (m2m_read_octets(av->rand, out->rand, sizeof out->rand) ||
	    m2m_read_octets(av->autn, out->autn, sizeof out->autn) || m2m_read_octets(av->ck, out->ck, sizeof out->ck) ||
	    m2m_read_octets(av->ik, out->ik, sizeof out->ik) || xres_len < 4 || xres_len > VNO_RES_MAX) {
		m2m_wipe(out, sizeof *out);
		return -1;
	}
	memcpy(out->xres, ASN1_STRING_get0_data(av->xres), (size_t)xres_len);
	out->xres_len = (uint8_t)xres_len;
	return 0;
}

/* ---- moving an attach ----------------------------------------------------------------------------- */

int vno_attach_advance(vno_context *v, vno_attach *a, vno_attach_event event)
{
	int next = vno_attach_next(a->state, event, a->resyncs);
	if (next < 0) {
		m2m_error("attach in state %s cannot take event %d", vno_attach_state_name(a->state), (int)event);
		return -1;
	}
	if (next == VNO_RESYNCHRONISING)
		a->resyncs++;
	a->state = (vno_attach_state)next;
	if (a->state == VNO_ACCEPTED || a->state == VNO_FAILED) {
		/* XRES, CK and IK are of no further use: they do not stay at rest */
		m2m_wipe(&a->vector, sizeof a->vector);
		a->has_vector = 0;
	}
	return vno_attach_save(v->db, v->settings.storage_key, a);
}

int vno_send_challenge(vno_context *v, m2m_request *req, vno_attach *a, vno_attach_event event)
{
	if (vno_attach_advance(v, a, event)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach cannot be stored");
		return -1;
	}
	M2M_AUTH_CHALLENGE *ch = M2M_AUTH_CHALLENGE_new();
	ASN1_OCTET_STRING_set(ch->attach_id, a->id, sizeof a->id);
	ASN1_OCTET_STRING_set(ch->rand, a->vector.rand, sizeof a->vector.rand);
	ASN1_OCTET_STRING_set(ch->autn, a->vector.autn, sizeof a->vector.autn);
	m2m_info("attach: authChallenge to %s for IMSI %s (challenge %d)", a->device, a->imsi, a->resyncs + 1);
	m2m_reply(v->node, req, M2M_MSG_AUTH_CHALLENGE, ch);
	M2M_AUTH_CHALLENGE_free(ch);
	return 0;
}

void vno_attach_fail(vno_context *v, m2m_request *req, vno_attach *a, vno_attach_event event, m2m_reason reason,
		     const char *text)
{
	a->reason = reason;
	if (vno_attach_advance(v, a, event)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach cannot be stored");
		return;
	}
	m2m_info("attach of IMSI %s from %s failed: %s", a->imsi, a->device,
		 m2m_reason_name(reason) ? m2m_reason_name(reason) : "?");
	m2m_refuse_recorded(v->node, req, reason, "%s", text);
}

int vno_attach_answered(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
			vno_attach_event event, vno_attach *a)
{
	if (vno_attach_load(v->db, v->settings.storage_key, id, a)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach cannot be read");
		return -1;
	}
	if (vno_attach_next(a->state, event, a->resyncs) < 0) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach moved on (%s) before the home operator answered",
			   vno_attach_state_name(a->state));
		vno_attach_wipe(a);
		return -1;
	}
	return 0;
}

/* The attach a device request continues: it exists, that device started it, and its state takes
 * event. 0, or -1 after refusing the request (nothing changed). */
static int attach_of_device(vno_context *v, m2m_request *req, const ASN1_OCTET_STRING *field,
			    vno_attach_event event, vno_attach *a)
{
	uint8_t id[VNO_ATTACH_ID_LEN];
	if (m2m_read_octets(field, id, sizeof id)) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "attachId must be %d octets", VNO_ATTACH_ID_LEN);
		return -1;
	}
	int rc = vno_attach_load(v->db, v->settings.storage_key, id, a);
	if (rc) {
		m2m_refuse(v->node, req, rc > 0 ? M2M_R_NOT_FOUND : M2M_R_INTERNAL,
			   rc > 0 ? "no such attach" : "the attach cannot be read");
		return -1;
	}
	if (strcmp(a->device, req->env.sender)) {
		m2m_refuse(v->node, req, M2M_R_NOT_AUTHORISED, "this attach was started by another device");
		vno_attach_wipe(a);
		return -1;
	}
	if (vno_attach_next(a->state, event, a->resyncs) < 0) {
		m2m_refuse(v->node, req, M2M_R_WRONG_STATE, "the attach is %s: it does not wait for this",
			   vno_attach_state_name(a->state));
		vno_attach_wipe(a);
		return -1;
	}
	return 0;
}

/* ---- vectors from the home operator -------------------------------------------------------------- */

static void on_vectors(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
		       const m2m_envelope *resp, m2m_reason reason)
{
	vno_attach a;
	if (vno_attach_answered(v, req, id, VNO_EV_VECTOR, &a))
		return;
	char text[300];
	if (resp && resp->type == M2M_MSG_AUTH_INFO_RESPONSE) {
		if (!vno_vector_from_wire(resp->body, &a.vector)) {
			a.has_vector = 1;
			if (!vno_send_challenge(v, req, &a, VNO_EV_VECTOR))
				vno_rogue_relayed(v, &a);
		} else {
			snprintf(text, sizeof text, "%s sent a malformed authentication vector", a.home);
			vno_attach_fail(v, req, &a, VNO_EV_HOME_REFUSED, M2M_R_BAD_BODY, text);
		}
	} else {
		m2m_call_failure(a.home, resp, reason, text, sizeof text);
		vno_attach_fail(v, req, &a, VNO_EV_HOME_REFUSED, m2m_call_reason(resp, reason), text);
	}
	vno_attach_wipe(&a);
}

/* authInfoRequest for a's IMSI; with auts, the resync of a's current RAND. 0 or -1. */
static int ask_vectors(vno_context *v, m2m_request *req, const vno_attach *a, const uint8_t *auts)
{
	M2M_AUTH_INFO_REQUEST *q = M2M_AUTH_INFO_REQUEST_new();
	m2m_set_digits(&q->imsi, a->imsi);
	m2m_set_str(q->serving_network, v->entity);
	q->num_vectors = 1;
	if (auts) {
		q->resync = M2M_RESYNC_new();
		ASN1_OCTET_STRING_set(q->resync->rand, a->vector.rand, sizeof a->vector.rand);
		ASN1_OCTET_STRING_set(q->resync->auts, auts, 14);
	}
	int rc = vno_home_call(v, a->home, M2M_MSG_AUTH_INFO_REQUEST, q, req, a->id, on_vectors);
	M2M_AUTH_INFO_REQUEST_free(q);
	return rc;
}

/* ---- attachRequest ------------------------------------------------------------------------------- */

static int read_attach_request(vno_context *v, m2m_request *req, char *imsi, char *imei, char *apn)
{
	const M2M_ATTACH_REQUEST *q = req->env.body;
	const char *bad = vno_read_imsi(q->imsi, imsi)   ? "imsi is not 6 to 15 digits"
			  : vno_read_imei(q->imei, imei) ? "imei is not 14 to 16 digits"
			  : vno_read_apn(q->apn, apn)    ? "apn is not 1 to 100 characters"
							 : NULL;
	if (bad)
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "%s", bad);
	return bad ? -1 : 0;
}

void vno_attach_request(vno_context *v, m2m_request *req)
{
	char imsi[VNO_IMSI_MAX + 1], imei[VNO_IMEI_MAX + 1], apn[VNO_APN_MAX + 1];
	if (read_attach_request(v, req, imsi, imei, apn))
		return;
	const vno_roaming *agreement = vno_roaming_find(&v->settings, imsi);
	const char *home = agreement ? agreement->home : NULL;
	vno_attach a;
	vno_attach_init(&a, req->env.sender, imsi, imei, apn, home);
	a.pcid = agreement && agreement->pcid;
	if (vno_rogue_attach(v, req, &a)) {
		vno_attach_wipe(&a);
		return;
	}
	if (!home) {
		m2m_refuse(v->node, req, M2M_R_ROAMING_NOT_ALLOWED, "no roaming agreement covers IMSI %s", imsi);
		return;
	}
	if (vno_attach_save(v->db, v->settings.storage_key, &a) || ask_vectors(v, req, &a, NULL)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the attach cannot be started (home %s)", home);
		return;
	}
	m2m_info("attach: %s %s, IMEI %s, APN %s from %s: vectors asked of %s", a.pcid ? "PCID" : "IMSI", imsi, imei,
		 apn, a.device, home);
	m2m_defer(v->node, req);
}

/* ---- authResponse ---------------------------------------------------------------------------------- */

void vno_auth_response(vno_context *v, m2m_request *req)
{
	const M2M_AUTH_RESPONSE *q = req->env.body;
	int res_len = ASN1_STRING_length(q->res);
	if (res_len < 4 || res_len > VNO_RES_MAX) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "res must be 4 to %d octets", VNO_RES_MAX);
		return;
	}
	vno_attach a;
	if (attach_of_device(v, req, q->attach_id, VNO_EV_RES_OK, &a))
		return;
	if (vno_res_matches(&a.vector, ASN1_STRING_get0_data(q->res), (size_t)res_len))
		vno_locate(v, req, &a);
	else
		vno_attach_fail(v, req, &a, VNO_EV_RES_MISMATCH, M2M_R_AUTHENTICATION_FAILED,
				"RES does not match: the card did not authenticate");
	vno_attach_wipe(&a);
}

/* ---- authFailure ------------------------------------------------------------------------------------ */

/* TS 33.102 6.3.5: the USIM found the SQN out of range and sent AUTS; the home operator checks it,
 * moves SQN_HE and sends a fresh vector for a new challenge in the same attach. */
static void resynchronise(vno_context *v, m2m_request *req, vno_attach *a, const uint8_t auts[14])
{
	if (vno_attach_next(a->state, VNO_EV_SYNCH_FAILURE, a->resyncs) == VNO_FAILED) {
		vno_attach_fail(v, req, a, VNO_EV_SYNCH_FAILURE, M2M_R_SYNCH_FAILURE,
				"still out of sequence after a re-synchronisation: attach ended");
		return;
	}
	if (vno_rogue_synch_failure(v, req, a))
		return;
	if (vno_attach_advance(v, a, VNO_EV_SYNCH_FAILURE) || ask_vectors(v, req, a, auts)) {
		m2m_refuse(v->node, req, M2M_R_INTERNAL, "the re-synchronisation cannot be started");
		return;
	}
	m2m_info("attach: sync failure of IMSI %s; AUTS to %s for a new vector", a->imsi, a->home);
	m2m_defer(v->node, req);
}

void vno_auth_failure(vno_context *v, m2m_request *req)
{
	const M2M_AUTH_FAILURE *q = req->env.body;
	long cause = ASN1_ENUMERATED_get(q->cause);
	uint8_t auts[14];
	if (cause != M2M_AUTH_MAC_FAILURE && cause != M2M_AUTH_SYNCH_FAILURE) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "cause must be macFailure or synchFailure");
		return;
	}
	if (cause == M2M_AUTH_SYNCH_FAILURE && m2m_read_octets(q->auts, auts, sizeof auts)) {
		m2m_refuse(v->node, req, M2M_R_BAD_BODY, "synchFailure needs a 14-octet auts");
		return;
	}
	vno_attach a;
	vno_attach_event event = cause == M2M_AUTH_MAC_FAILURE ? VNO_EV_MAC_FAILURE : VNO_EV_SYNCH_FAILURE;
	if (attach_of_device(v, req, q->attach_id, event, &a))
		return;
	if (event == VNO_EV_MAC_FAILURE)
		vno_attach_fail(v, req, &a, event, M2M_R_MAC_FAILURE,
				"the card did not authenticate this network (MAC failure): attach ended");
	else
		resynchronise(v, req, &a, auts);
	vno_attach_wipe(&a);
}
