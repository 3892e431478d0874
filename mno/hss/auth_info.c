/*
 * authInfoRequest: the AuC's authentication vectors for a visited network (TS 33.102 6.3.2),
 * after a re-synchronisation with the USIM's AUTS when the request carries one (6.3.5). The SQN
 * state the vectors consumed is stored in the same step, before the vectors leave.
 */
#include "hss/hss_impl.h"

#include "aka/gsm.h"
#include "crypto/crypto.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

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

static m2m_reason generate(m2m_milenage *m, hss_subscriber *s, int n, hss_vector *out, char *why, size_t len)
{
	for (int i = 0; i < n; i++) {
		if (m2m_aka_av_generate(m, &s->sqn, s->amf, &out[i].av)) {
			snprintf(why, len, "no vector for IMSI %s (SQN exhausted or cipher failure)", s->imsi);
			return M2M_R_INTERNAL;
		}
		m2m_gsm_c3(out[i].av.ck, out[i].av.ik, out[i].kc);
	}
	return M2M_OK;
}

m2m_reason hss_vectors(hss_context *h, const char *actor, const char *imsi, int n, const hss_resync *resync,
		       hss_vector *out, char *why, size_t len)
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
	if (r == M2M_OK)
		r = generate(&m, &s, n, out, why, len);
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

static void set_octets(ASN1_OCTET_STRING *s, const uint8_t *data, size_t len)
{
	ASN1_OCTET_STRING_set(s, data, (int)len);
}

static M2M_AUTH_INFO_RESPONSE *vectors_message(const hss_vector *v, int n)
{
	M2M_AUTH_INFO_RESPONSE *resp = sk_M2M_AUTH_VECTOR_new_null();
	for (int i = 0; i < n; i++) {
		M2M_AUTH_VECTOR *av = M2M_AUTH_VECTOR_new();
		set_octets(av->rand, v[i].av.rand, sizeof v[i].av.rand);
		set_octets(av->xres, v[i].av.xres, sizeof v[i].av.xres);
		set_octets(av->autn, v[i].av.autn, sizeof v[i].av.autn);
		set_octets(av->ck, v[i].av.ck, sizeof v[i].av.ck);
		set_octets(av->ik, v[i].av.ik, sizeof v[i].av.ik);
		set_octets(av->kc, v[i].kc, sizeof v[i].kc);
		sk_M2M_AUTH_VECTOR_push(resp, av);
	}
	return resp;
}

static void cleanse(ASN1_OCTET_STRING *s)
{
	OPENSSL_cleanse(s->data, (size_t)s->length);
}

/* XRES, CK, IK and Kc are wiped before the memory is released. */
static void vectors_free(M2M_AUTH_INFO_RESPONSE *resp)
{
	for (int i = 0; i < sk_M2M_AUTH_VECTOR_num(resp); i++) {
		M2M_AUTH_VECTOR *av = sk_M2M_AUTH_VECTOR_value(resp, i);
		cleanse(av->xres);
		cleanse(av->ck);
		cleanse(av->ik);
		cleanse(av->kc);
	}
	M2M_AUTH_INFO_RESPONSE_free(resp);
}

/* The optional resync{rand, auts}: 0 (into rs), or -1 when its lengths are wrong. */
static int read_resync(const M2M_RESYNC *q, hss_resync *rs)
{
	if (ASN1_STRING_length(q->rand) != sizeof rs->rand || ASN1_STRING_length(q->auts) != sizeof rs->auts)
		return -1;
	memcpy(rs->rand, ASN1_STRING_get0_data(q->rand), sizeof rs->rand);
	memcpy(rs->auts, ASN1_STRING_get0_data(q->auts), sizeof rs->auts);
	return 0;
}

void hss_auth_info_request(hss_context *h, m2m_request *req)
{
	const M2M_AUTH_INFO_REQUEST *q = req->env.body;
	char imsi[HSS_IMSI_MAX + 1], why[200], actor[M2M_ENTITY_MAX + 1];
	hss_resync rs;
	hss_vector v[MAX_VECTORS];
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
	M2M_AUTH_INFO_RESPONSE *resp = vectors_message(v, n);
	m2m_wipe(v, sizeof v);
	m2m_reply(h->node, req, M2M_MSG_AUTH_INFO_RESPONSE, resp);
	vectors_free(resp);
}
