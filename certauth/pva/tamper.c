/*
 * tamperReport from a TRE (R6; brief §3 picks the PVA as the "TBD network entity"): a CMS
 * SignedData over TamperReport, signed by the TRE that sends it. It is recorded once, ends the
 * validity of the TRE's current verdict (record.c), and is acknowledged with tamperAck {reportId}
 * so that the TRE can drop it from its log. The same report again is acknowledged again: the
 * first ack may have been lost.
 *
 * The report must verify under a valid TRE certificate (chain, expiry, revocation) whose subject
 * is the sender; a revoked *model* does not stop it, since the key is still the TRE's own and a
 * weak platform's tamper events are the ones most worth having.
 */
#include "pva_impl.h"

#include "log/log.h"

#include <string.h>

/* What lib/pki's reasons mean for a report: not even a SignedData carries no signature. */
static m2m_reason report_trust(m2m_reason r)
{
	return r == M2M_R_MALFORMED ? M2M_R_BAD_SIGNATURE : r;
}

/* The report's fields with the module's constraints: 0, or -1 (badBody). */
static int read_report(const M2M_TAMPER_REPORT *w, pva_tamper *t)
{
	int event = 0, reaction = 0;
	memset(t, 0, sizeof *t);
	if (ASN1_STRING_length(w->report_id) != PVA_REPORT_ID_LEN || pva_read_entity(w->tre, t->tre) ||
	    m2m_read_enum(w->event, M2M_TAMPER_COMPONENT_MODIFIED, &event) ||
	    m2m_read_enum(w->reaction, M2M_TAMPER_ZEROISED, &reaction) || m2m_read_time(w->at, &t->at) ||
	    m2m_str(w->component, t->component, sizeof t->component))
		return -1;
	memcpy(t->report_id, ASN1_STRING_get0_data(w->report_id), PVA_REPORT_ID_LEN);
	t->event = (m2m_tamper_event)event;
	t->reaction = (m2m_tamper_reaction)reaction;
	return 0;
}

/* The signer must be a valid TRE certificate of the sender, naming itself in the report. */
static m2m_reason check_signer(m2m_trust *trust, X509 *signer, const char *sender, const pva_tamper *t,
			       const char **why)
{
	char cn[M2M_ENTITY_MAX + 1];
	m2m_reason r = m2m_trust_verify(trust, signer, M2M_PROFILE_TRE);
	if (r != M2M_OK) {
		*why = "the signer's certificate is not a valid TRE certificate";
		return r == M2M_R_NOT_AUTHORISED ? M2M_R_BAD_SIGNATURE : r;
	}
	if (m2m_pki_cert_cn(signer, cn, sizeof cn) || strcmp(cn, sender) || strcmp(t->tre, sender)) {
		*why = "the report is not signed by the TRE that sends it and that it names";
		return M2M_R_BAD_SIGNATURE;
	}
	return M2M_OK;
}

/* Records the report (once) and acknowledges it. */
static void acknowledge(pva_context *p, m2m_request *req, const pva_tamper *t, const M2M_SIGNED_OBJECT *so)
{
	int added = pva_tamper_save(p->db, t, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms),
				    p->now());
	if (added < 0 || (added && pva_record_tampered(p->db, t->tre))) {
		m2m_refuse(p->node, req, M2M_R_INTERNAL, "the report could not be recorded");
		return;
	}
	if (added)
		m2m_warn("TAMPER: %s reports %s%s%s", t->tre, pva_tamper_event_name(t->event), t->component[0] ? " of " : "",
			 t->component);
	M2M_TAMPER_ACK *ack = M2M_TAMPER_ACK_new();
	ASN1_OCTET_STRING_set(ack->report_id, t->report_id, PVA_REPORT_ID_LEN);
	m2m_reply(p->node, req, M2M_MSG_TAMPER_ACK, ack);
	M2M_TAMPER_ACK_free(ack);
}

void pva_tamper_report(pva_context *p, m2m_request *req)
{
	const M2M_SIGNED_OBJECT *so = req->env.body;
	const ca_context *ca = p->agency.get(p->agency.arg);
	M2M_TAMPER_REPORT *w = NULL;
	X509 *signer = NULL;
	pva_tamper t;
	const char *why = "the signature or the signer's certificate does not verify";
	if (!ca) {
		m2m_refuse(p->node, req, M2M_R_INTERNAL, "the agency's trust store is not available");
		return;
	}
	m2m_reason r = report_trust(m2m_cms_verify_item(ca->trust, so, ASN1_ITEM_rptr(M2M_TAMPER_REPORT), (void **)&w,
							&signer));
	if (r == M2M_OK && read_report(w, &t)) {
		r = M2M_R_BAD_BODY;
		why = "the report breaks the module's constraints";
	}
	if (r == M2M_OK)
		r = check_signer(ca->trust, signer, req->env.sender, &t, &why);
	if (r == M2M_OK)
		acknowledge(p, req, &t, so);
	else
		m2m_refuse(p->node, req, r, "tamper report refused: %s", why);
	M2M_TAMPER_REPORT_free(w);
	X509_free(signer);
}
