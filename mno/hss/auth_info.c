/*
 * authInfoRequest: the AuC's authentication vectors for a visited network (TS 33.102 6.3.2),
 * after a re-synchronisation with the USIM's AUTS when the request carries one (6.3.5). The SQN
 * state the vectors consumed is stored in the same step, before the vectors leave.
 */
#include "hss/hss_impl.h"

#include "crypto/crypto.h"
#include "wire/read.h"

#include <stdio.h>

#define MAX_VECTORS 5

/* SEQ of SQN_HE, for the audit trail (SQN is not secret; IND cycles and says little). */
static unsigned long long seq_of(const m2m_sqn_he *he)
{
	return (unsigned long long)he->seq_he;
}

static m2m_reason resynchronise(hss_context *h, const char *actor, m2m_milenage *m, hss_subscriber *s,
				const hss_resync *rs, char *why, size_t len)
{
	unsigned long long before = seq_of(&s->sqn);
	switch (m2m_aka_he_resync(m, &s->sqn, rs->rand, rs->auts)) {
	case M2M_AKA_OK:
		break;
	case M2M_AKA_MAC_FAILURE:
		snprintf(why, len, "AUTS of IMSI %s does not verify (MAC-S)", s->imsi);
		return M2M_R_AUTHENTICATION_FAILED;
	default:
		snprintf(why, len, "re-synchronisation of IMSI %s failed", s->imsi);
		return M2M_R_INTERNAL;
	}
	return hss_audit(h->db, actor, s->imsi, "resync", "AUTS verified; SQN_HE SEQ %llu -> %llu", before,
			 seq_of(&s->sqn)) ? M2M_R_INTERNAL : M2M_OK;
}

m2m_reason hss_vectors(hss_context *h, const char *actor, const char *imsi, int n, const hss_resync *resync,
		       m2m_aka_vector *out, char *why, size_t len)
{
	hss_subscriber s;
	m2m_milenage m;
	m2m_reason r = hss_serviceable(h, imsi, &s, why, len);
	if (r != M2M_OK)
		return r;
	if (n < 1 || n > MAX_VECTORS || m2m_milenage_init(&m, s.k, s.opc)) {
		hss_subscriber_wipe(&s);
		snprintf(why, len, "cannot compute vectors for IMSI %s", imsi);
		return M2M_R_INTERNAL;
	}
	if (resync)
		r = resynchronise(h, actor, &m, &s, resync, why, len);
	if (r == M2M_OK && m2m_aka_vectors(&m, &s.sqn, s.amf, n, out)) {
		snprintf(why, len, "no vector for IMSI %s (SQN exhausted or cipher failure)", imsi);
		r = M2M_R_INTERNAL;
	}
	if (r == M2M_OK && (hss_subscriber_set_sqn(h->db, imsi, &s.sqn) ||
			    hss_audit(h->db, actor, imsi, "authInfo", "%d vector(s) for %s; SQN_HE SEQ now %llu", n,
				      actor, seq_of(&s.sqn)))) {
		snprintf(why, len, "the SQN of IMSI %s cannot be stored", imsi);
		r = M2M_R_INTERNAL;
	}
	m2m_milenage_clear(&m);
	hss_subscriber_wipe(&s);
	if (r != M2M_OK)
		m2m_wipe(out, (size_t)n * sizeof *out);
	return r;
}

/* ---- the message -------------------------------------------------------------------------------- */

/* The optional resync{rand, auts}: 0 (into rs), or -1 when its lengths are wrong. */
static int read_resync(const M2M_RESYNC *q, hss_resync *rs)
{
	return m2m_read_octets(q->rand, rs->rand, sizeof rs->rand) || m2m_read_octets(q->auts, rs->auts, sizeof rs->auts)
		       ? -1
		       : 0;
}

void hss_auth_info_request(hss_context *h, m2m_request *req)
{
	const M2M_AUTH_INFO_REQUEST *q = req->env.body;
	char imsi[HSS_IMSI_MAX + 1], why[200], actor[M2M_ENTITY_MAX + 1];
	hss_resync rs;
	m2m_aka_vector v[MAX_VECTORS];
	if (hss_request_imsi(h, req, q->imsi, q->serving_network, imsi))
		return;
	if (q->num_vectors < 1 || q->num_vectors > MAX_VECTORS) {
		m2m_refuse(h->node, req, M2M_R_BAD_BODY, "numVectors must be 1 to %d", MAX_VECTORS);
		return;
	}
	if (q->resync && read_resync(q->resync, &rs)) {
		m2m_refuse(h->node, req, M2M_R_BAD_BODY, "resync needs a 16-byte rand and a 14-byte auts");
		return;
	}
	int n = (int)q->num_vectors;
	snprintf(actor, sizeof actor, "%s", req->env.sender);
	m2m_reason r = hss_vectors(h, actor, imsi, n, q->resync ? &rs : NULL, v, why, sizeof why);
	if (r != M2M_OK) {
		m2m_refuse(h->node, req, r, "%s", why);
		return;
	}
	M2M_AUTH_INFO_RESPONSE *resp = m2m_aka_auth_info_response(v, n);
	m2m_wipe(v, sizeof v);
	if (resp)
		m2m_reply(h->node, req, M2M_MSG_AUTH_INFO_RESPONSE, resp);
	else
		m2m_refuse(h->node, req, M2M_R_INTERNAL, "the vectors of IMSI %s cannot be encoded", imsi);
	m2m_aka_auth_info_response_free(resp);
}
