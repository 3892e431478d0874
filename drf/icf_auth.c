/*
 * The ICF as the HSS/AuC of its PCIDs (brief 2.1 steps 2 to 4, T-1a-7): the visited operator a
 * device attaches through routes the registration operator's MCC/MNC here.
 *   authInfoRequest: UMTS AKA vectors with K_pc (lib/aka, TS 33.102 6.3.2), after a
 *     re-synchronisation with the TRE's AUTS when asked (6.3.5); the SQN state is stored in the
 *     same step. With gate before_av, only once the PCID's TRE holds a fresh OK verdict (gate.c).
 *   updateLocation: the PCID is in use by that device at that network; another device using the
 *     same PCID meanwhile is refused (pcidInUse). The profile: the provisioning APN only, no CS.
 *   purge: not in use any more, if that network held it.
 * An expired PCID is released when a request names it, and the refusal (pcidExpired) recorded.
 */
#include "drf.h"

#include "aka/auth_info.h"
#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <stdio.h>
#include <string.h>

/* AMF of PCID vectors: the separation bit, as TS 33.401 6.1.1 asks of E-UTRAN vectors. */
static const uint8_t pcid_amf[2] = {0x80, 0x00};

/* The PCID named by a request and the serving network, which must be the sender: a network
 * speaks only for itself. 0, or -1 after refusing. */
static int read_pcid(drf *d, m2m_request *req, const ASN1_STRING *imsi_field, const ASN1_STRING *network_field,
		     char imsi[DRF_IMSI_MAX + 1])
{
	char network[M2M_ENTITY_MAX + 1];
	if (m2m_digits(imsi_field, imsi, DRF_IMSI_MAX + 1, 6, DRF_IMSI_MAX)) {
		m2m_refuse(d->node, req, M2M_R_BAD_BODY, "imsi is not 6 to 15 digits");
		return -1;
	}
	if (m2m_read_name(network_field, network, M2M_ENTITY_MAX) || strcmp(network, req->env.sender)) {
		m2m_refuse(d->node, req, M2M_R_NOT_AUTHORISED, "%s may only speak for itself as servingNetwork",
			   req->env.sender);
		return -1;
	}
	return 0;
}

/* The PCID, assigned and valid: 0, or -1 after refusing (an expiry is recorded: released). */
static int usable(drf *d, m2m_request *req, const char *imsi, int keys, drf_pcid *p)
{
	char why[200];
	m2m_reason r = drf_pcid_usable(d, imsi, keys, time(NULL), p, why, sizeof why);
	if (r == M2M_R_PCID_EXPIRED)
		m2m_refuse_recorded(d->node, req, r, "%s", why);
	else if (r != M2M_OK)
		m2m_refuse(d->node, req, r, "%s", why);
	return r == M2M_OK ? 0 : -1;
}

/* ---- authInfoRequest -------------------------------------------------------------------------- */

static m2m_reason generate(drf *d, drf_pcid *p, int n, const M2M_RESYNC *rs, m2m_aka_vector *v, char *why, size_t len)
{
	uint8_t rand[16], auts[14];
	m2m_milenage m;
	if (rs && (m2m_read_octets(rs->rand, rand, sizeof rand) || m2m_read_octets(rs->auts, auts, sizeof auts))) {
		snprintf(why, len, "resync needs a 16-byte rand and a 14-byte auts");
		return M2M_R_BAD_BODY;
	}
	if (m2m_milenage_init(&m, p->k, p->opc)) {
		snprintf(why, len, "cannot compute vectors for PCID %s", p->imsi);
		return M2M_R_INTERNAL;
	}
	m2m_aka_status s = rs ? m2m_aka_he_resync(&m, &p->sqn, rand, auts) : M2M_AKA_OK;
	m2m_reason r = s == M2M_AKA_OK ? M2M_OK : s == M2M_AKA_MAC_FAILURE ? M2M_R_AUTHENTICATION_FAILED : M2M_R_INTERNAL;
	if (r != M2M_OK)
		snprintf(why, len, "re-synchronisation of PCID %s failed (%s)", p->imsi,
			 s == M2M_AKA_MAC_FAILURE ? "AUTS does not verify" : "internal");
	if (r == M2M_OK && m2m_aka_vectors(&m, &p->sqn, pcid_amf, n, v))
		r = M2M_R_INTERNAL, snprintf(why, len, "no vector for PCID %s", p->imsi);
	m2m_milenage_clear(&m);
	if (r == M2M_OK && drf_pcid_set_sqn(d, p->imsi, &p->sqn))
		r = M2M_R_INTERNAL, snprintf(why, len, "the SQN of PCID %s cannot be stored", p->imsi);
	return r;
}

/* gated: the validation gate, when set, is still to pass (not on the gate's resumption). */
static void auth_info(drf *d, m2m_request *req, int gated)
{
	const M2M_AUTH_INFO_REQUEST *q = req->env.body;
	char imsi[DRF_IMSI_MAX + 1], why[200];
	drf_pcid p;
	m2m_aka_vector v[DRF_MAX_VECTORS];
	if (read_pcid(d, req, q->imsi, q->serving_network, imsi))
		return;
	if (q->num_vectors < 1 || q->num_vectors > DRF_MAX_VECTORS) {
		m2m_refuse(d->node, req, M2M_R_BAD_BODY, "numVectors must be 1 to %d", DRF_MAX_VECTORS);
		return;
	}
	if (usable(d, req, imsi, 1, &p))
		return;
	if (gated && d->s.gate == DRF_GATE_BEFORE_AV && !drf_gate_pass(d, req, p.tre)) {
		drf_pcid_wipe(&p);
		return;
	}
	int n = (int)q->num_vectors;
	m2m_reason r = generate(d, &p, n, q->resync, v, why, sizeof why);
	drf_pcid_wipe(&p);
	if (r != M2M_OK) {
		m2m_wipe(v, sizeof v);
		m2m_refuse(d->node, req, r, "%s", why);
		return;
	}
	M2M_AUTH_INFO_RESPONSE *resp = m2m_aka_auth_info_response(v, n);
	m2m_wipe(v, sizeof v);
	m2m_info("%d vector(s) of PCID %s for %s", n, imsi, req->env.sender);
	if (resp)
		m2m_reply(d->node, req, M2M_MSG_AUTH_INFO_RESPONSE, resp);
	else
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the vectors of PCID %s cannot be encoded", imsi);
	m2m_aka_auth_info_response_free(resp);
}

void drf_auth_info_request(drf *d, m2m_request *req)
{
	auth_info(d, req, 1);
}

void drf_auth_info_resume(drf *d, m2m_request *req)
{
	auth_info(d, req, 0);
}

/* ---- updateLocation, purge -------------------------------------------------------------------- */

static M2M_SUBSCRIPTION_PROFILE *walled_garden(drf *d)
{
	M2M_SUBSCRIPTION_PROFILE *m = M2M_SUBSCRIPTION_PROFILE_new();
	ASN1_UTF8STRING *apn = ASN1_UTF8STRING_new();
	if (!m || !apn || m2m_set_str(apn, d->s.apn) || !sk_ASN1_UTF8STRING_push(m->allowed_apns, apn)) {
		ASN1_UTF8STRING_free(apn);
		M2M_SUBSCRIPTION_PROFILE_free(m);
		return NULL;
	}
	m->cs_allowed = 0;
	return m;
}

void drf_update_location(drf *d, m2m_request *req)
{
	const M2M_UPDATE_LOCATION *q = req->env.body;
	char imsi[DRF_IMSI_MAX + 1], imei[DRF_IMEI_MAX + 1];
	drf_pcid p;
	if (read_pcid(d, req, q->imsi, q->serving_network, imsi))
		return;
	if (m2m_digits(q->imei, imei, sizeof imei, DRF_IMEI_MIN, DRF_IMEI_MAX)) {
		m2m_refuse(d->node, req, M2M_R_BAD_BODY, "imei is not 14 to 16 digits");
		return;
	}
	if (usable(d, req, imsi, 0, &p))
		return;
	/* one device per PCID: the first 14 digits (TAC and serial number) name the device */
	if (p.imei[0] && strncmp(p.imei, imei, DRF_IMEI_MIN)) {
		m2m_refuse(d->node, req, M2M_R_PCID_IN_USE, "PCID %s is in use by IMEI %s at %s", imsi, p.imei, p.network);
		return;
	}
	M2M_SUBSCRIPTION_PROFILE *profile = walled_garden(d);
	if (!profile || drf_pcid_set_use(d, imsi, imei, req->env.sender, time(NULL))) {
		M2M_SUBSCRIPTION_PROFILE_free(profile);
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the location of PCID %s cannot be stored", imsi);
		return;
	}
	m2m_info("PCID %s (TRE %s) in use by IMEI %s at %s", imsi, p.tre, imei, req->env.sender);
	m2m_reply(d->node, req, M2M_MSG_UPDATE_LOCATION_ACK, profile);
	M2M_SUBSCRIPTION_PROFILE_free(profile);
}

void drf_purge(drf *d, m2m_request *req)
{
	const M2M_PURGE *q = req->env.body;
	char imsi[DRF_IMSI_MAX + 1];
	drf_pcid p;
	if (read_pcid(d, req, q->imsi, q->serving_network, imsi))
		return;
	int rc = drf_pcid_load(d, imsi, 0, &p);
	if (rc < 0) {
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "PCID %s cannot be read", imsi);
		return;
	}
	/* Released meanwhile (the device got its MCIM, or the PCID expired) or a late purge from a
	 * network the device has left: no location to clear, and the detach must still complete. */
	if (rc == 0 && !strcmp(p.network, req->env.sender) && drf_pcid_set_use(d, imsi, NULL, NULL, 0)) {
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "the location of PCID %s cannot be cleared", imsi);
		return;
	}
	ASN1_NULL *nothing = ASN1_NULL_new();
	m2m_reply(d->node, req, M2M_MSG_PURGE_ACK, nothing);
	ASN1_NULL_free(nothing);
}
