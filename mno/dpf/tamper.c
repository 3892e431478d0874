/*
 * tamperReport from a TRE (R6; the TRE's report_to lists the operators that own a credential in
 * it): a SignedObject over TamperReport, sent by the TRE itself and signed by it. The operator
 * stops trusting what it gave that TRE: the subscriber records of the MCIMs it installed are
 * suspended (the HSS then refuses their authentication: subscriberSuspended), and a package not
 * installed yet is withdrawn. The report is acknowledged with tamperAck {reportId}; the same
 * report again is acknowledged again without acting twice (the first ack may have been lost).
 * The report is checked as an order is (tre_signed.c): a revoked TRE's key proves nothing.
 */
#include "dpf/dpf_impl.h"

#include "hss/provision.h"
#include "log/log.h"
#include "store/store.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPORT_ID_LEN 16

/* 1 when the report was received before, 0 when not, -1 on error. */
static int received(sqlite3 *db, const uint8_t *report_id)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT 1 FROM dpf_tamper WHERE report_id = ?");
	if (st)
		sqlite3_bind_blob(st, 1, report_id, REPORT_ID_LEN, SQLITE_STATIC);
	return dpf_exists(st);
}

static int record(sqlite3 *db, const uint8_t *report_id, const char *tre, int suspended)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "INSERT INTO dpf_tamper (report_id, tre, received, suspended)"
						 " VALUES (?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, report_id, REPORT_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tre, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_int(st, 4, suspended);
	return m2m_store_run(db, st);
}

/* Suspends the active records of the TRE's installed MCIMs; the count, or -1. */
static int suspend_installed(dpf_context *dpf, const char *tre)
{
	char err[256];
	int n = 0, suspended = 0;
	dpf_order_ref *refs = dpf_order_refs(dpf->db, tre, DPF_INSTALLED, &n);
	for (int i = 0; i < n && suspended >= 0; i++) {
		hss_subscriber s;
		int rc = hss_subscriber_load(dpf->db, NULL, refs[i].imsi, &s);
		if (rc < 0)
			suspended = -1;
		else if (rc == 0 && s.state == HSS_ACTIVE)  /* one the staff suspended or deleted stays so */
			suspended = hss_change_in(dpf->db, refs[i].imsi, HSS_CHANGE_SUSPEND, DPF_ACTOR, err, sizeof err) == HSS_DONE
					    ? suspended + 1
					    : -1;
	}
	free(refs);
	return n < 0 ? -1 : suspended;
}

static int withdraw_packaged(dpf_context *dpf, const char *tre)
{
	int n = 0;
	dpf_order_ref *refs = dpf_order_refs(dpf->db, tre, DPF_PACKAGED, &n);
	int rc = n < 0;
	for (int i = 0; i < n && !rc; i++)
		rc = dpf_order_withdraw(dpf, &refs[i], "its TRE reported tampering") != M2M_OK;
	free(refs);
	return rc ? -1 : 0;
}

/* Acts on a new report: M2M_OK, or internalError (nothing kept: the step rolls back). */
static m2m_reason act(dpf_context *dpf, const uint8_t *report_id, const char *tre)
{
	int suspended = suspend_installed(dpf, tre);
	if (suspended < 0 || withdraw_packaged(dpf, tre) || record(dpf->db, report_id, tre, suspended))
		return M2M_R_INTERNAL;
	m2m_warn("TAMPER: %s reports tampering: %d MCIM record(s) suspended", tre, suspended);
	return M2M_OK;
}

static m2m_reason check_report(const M2M_TAMPER_REPORT *w, const char *signer, const char *sender,
			       uint8_t report_id[REPORT_ID_LEN], const char **why)
{
	if (m2m_read_octets(w->report_id, report_id, REPORT_ID_LEN)) {
		*why = "reportId must be 16 octets";
		return M2M_R_BAD_BODY;
	}
	if (strcmp(signer, sender)) {
		*why = "the report is not signed by the TRE that sends it";
		return M2M_R_BAD_SIGNATURE;
	}
	return M2M_OK;
}

void dpf_tamper_report(dpf_context *dpf, m2m_request *req)
{
	m2m_tre_signed s;
	uint8_t report_id[REPORT_ID_LEN];
	m2m_reason r = dpf_tre_signed(m2m_identity_trust(dpf->id), req->env.body, ASN1_ITEM_rptr(M2M_TAMPER_REPORT),
				      M2M_TRE_FIELD(M2M_TAMPER_REPORT), &s);
	const char *why = s.why;
	if (r == M2M_OK)
		r = check_report(s.value, s.tre, req->env.sender, report_id, &why);
	int seen = r == M2M_OK ? received(dpf->db, report_id) : 0;
	if (r == M2M_OK && (seen < 0 || (!seen && act(dpf, report_id, s.tre) != M2M_OK))) {
		r = M2M_R_INTERNAL;
		why = "the report cannot be acted on";
	}
	if (r != M2M_OK) {
		m2m_refuse(dpf->node, req, r, "tamper report refused: %s", why);
	} else {
		M2M_TAMPER_ACK *ack = M2M_TAMPER_ACK_new();
		ASN1_OCTET_STRING_set(ack->report_id, report_id, REPORT_ID_LEN);
		m2m_reply(dpf->node, req, M2M_MSG_TAMPER_ACK, ack);
		M2M_TAMPER_ACK_free(ack);
	}
	m2m_tre_signed_clear(&s);
}
