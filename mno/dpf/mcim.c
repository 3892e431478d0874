/*
 * MCIM generation (brief §2.1 step 8, the CCIF's part): the next IMSI of the DPF's range that was
 * never used, a random K and OPc (as the card personalisation centre makes them, hss/
 * personalise.c), AMF 8000, the AuC's initial SQN state, the configured profile, a random
 * mcimId, version 1, this operator as owner, the ordering TRE and its nonce. The HSS record is
 * created pending in the same step: it holds the keys (sealed by the HSS) but is not served
 * until the TRE confirms the install (install.c).
 */
#include "dpf/dpf_impl.h"

#include "crypto/crypto.h"
#include "hss/hss_impl.h"
#include "hss/provision.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void dpf_mcim_free(M2M_MCIM *m)
{
	if (!m)
		return;
	if (m->k)
		OPENSSL_cleanse(m->k->data, (size_t)m->k->length);
	if (m->opc)
		OPENSSL_cleanse(m->opc->data, (size_t)m->opc->length);
	M2M_MCIM_free(m);
}

/* The subscriber record of the new MCIM, pending with its keys. */
static void make_record(const dpf_context *dpf, const char *imsi, hss_subscriber *rec)
{
	hss_subscriber_init(rec, imsi);
	m2m_random(rec->k, sizeof rec->k);
	m2m_random(rec->opc, sizeof rec->opc);
	rec->has_keys = 1;
	rec->state = HSS_PENDING;
	rec->profile = dpf->settings.profile;
}

/* The highest SQN issued so far: the AuC's SEQ and the IND of its last vector (0 when fresh). */
static uint64_t sqn_of(const m2m_sqn_he *he)
{
	return he->seq_he << he->p.ind_bits;
}

static M2M_MCIM *mcim_of(const dpf_context *dpf, const dpf_order *o, const hss_subscriber *rec)
{
	M2M_MCIM *m = M2M_MCIM_new();
	if (!m)
		return NULL;
	m->version = 1;
	m->sqn = sqn_of(&rec->sqn);
	int ok = ASN1_OCTET_STRING_set(m->mcim_id, o->mcim_id, DPF_MCIM_ID_LEN) && !m2m_set_str(m->owner, dpf->entity) &&
		 !m2m_set_str(m->tre, o->tre) && ASN1_OCTET_STRING_set(m->nonce, o->nonce, DPF_NONCE_LEN) &&
		 !m2m_set_digits(&m->imsi, rec->imsi) && ASN1_OCTET_STRING_set(m->k, rec->k, sizeof rec->k) &&
		 ASN1_OCTET_STRING_set(m->opc, rec->opc, sizeof rec->opc) && ASN1_OCTET_STRING_set(m->amf, rec->amf, 2) &&
		 ASN1_GENERALIZEDTIME_set(m->issued_at, time(NULL));
	M2M_SUBSCRIPTION_PROFILE_free(m->profile);
	m->profile = hss_profile_message(&rec->profile);
	if (!ok || !m->profile) {
		dpf_mcim_free(m);
		return NULL;
	}
	return m;
}

m2m_reason dpf_mcim_make(dpf_context *dpf, dpf_order *o, M2M_MCIM **mcim, char *why, size_t len)
{
	hss_subscriber rec;
	char detail[128], id_hex[2 * DPF_MCIM_ID_LEN + 1];
	*mcim = NULL;
	int rc = hss_imsi_first_free(dpf->db, dpf->settings.imsi_first, dpf->settings.imsi_count, o->imsi);
	if (rc) {
		snprintf(why, len, rc > 0 ? "the MCIM range of %ld IMSIs from %s is used up" : "no IMSI can be allocated",
			 dpf->settings.imsi_count, dpf->settings.imsi_first);
		return rc > 0 ? M2M_R_POOL_EXHAUSTED : M2M_R_INTERNAL;
	}
	m2m_random(o->mcim_id, sizeof o->mcim_id);
	m2m_hex(o->mcim_id, sizeof o->mcim_id, id_hex);
	snprintf(detail, sizeof detail, "MCIM %s for %s", id_hex, o->tre);
	make_record(dpf, o->imsi, &rec);
	if (hss_create(dpf->db, dpf->hss->settings.storage_key, &rec, DPF_ACTOR, "mcim", detail, why, len) == HSS_DONE)
		*mcim = mcim_of(dpf, o, &rec);
	hss_subscriber_wipe(&rec);
	if (!*mcim && !why[0])
		snprintf(why, len, "the MCIM of %s cannot be encoded", o->tre);
	return *mcim ? M2M_OK : M2M_R_INTERNAL;
}
