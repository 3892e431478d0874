/*
 * Platform validation of the ordering TRE (docs/alt1a.md step 5, brief §2.1 step 7, T-1a-10): the
 * DPF asks the PVA validationRequest {tre, mode, minAssurance} and defers the order until the
 * answer arrives, in a step of its own. Only a fresh OK verdict about this TRE, addressed to this
 * operator, of the mode asked lets the order proceed (m2m_verdict_check, then the result); any
 * other answer, or none, refuses every request waiting on the order, and the order is forgotten.
 *
 * The order is recorded validating before the request leaves (the step commits first). Only the
 * deferred requests are kept in memory: after a restart the device's retry finds the order
 * validating with nobody waiting, and the PVA is asked again.
 *
 * The same question serves Alternative 3b's uiccCredentialOrder (uicc_package.c): a wait is about
 * one row of one procedure (its decided callback and the row's id), and the callback acts on the
 * verdict and answers the requests waiting on it.
 */
#include "dpf/dpf_impl.h"

#include "log/log.h"
#include "pki/verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAITERS_MAX 8  /* the device's own retries while the PVA works */

struct dpf_wait {
	dpf_context *dpf;
	dpf_decided_cb decided;
	int64_t id;
	char tre[M2M_ENTITY_MAX + 1];
	m2m_request *reqs[WAITERS_MAX];
	int nreqs;
	dpf_wait *next;
};

static dpf_wait *find_wait(dpf_context *dpf, dpf_decided_cb decided, int64_t id)
{
	for (dpf_wait *w = dpf->waits; w; w = w->next)
		if (w->decided == decided && w->id == id)
			return w;
	return NULL;
}

static void unlink_wait(dpf_context *dpf, dpf_wait *w)
{
	for (dpf_wait **x = &dpf->waits; *x; x = &(*x)->next)
		if (*x == w) {
			*x = w->next;
			return;
		}
}

void dpf_waits_free(dpf_context *dpf)
{
	while (dpf->waits) {
		dpf_wait *w = dpf->waits;
		dpf->waits = w->next;
		free(w);
	}
}

/* ---- the verdict ------------------------------------------------------------------------------ */

static const char *reason_text(m2m_reason r)
{
	const char *name = m2m_reason_name(r);
	return name ? name : "?";
}

/* "componentModified, tamperDetected" */
static void reasons_text(const m2m_verdict_info *info, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (int i = 0; i < info->nreasons && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", reason_text(info->reasons[i]));
}

/* What the PVA's signed verdict allows: M2M_OK only for a fresh OK about tre, for us. */
static m2m_reason judge(dpf_context *dpf, const char *tre, const M2M_SIGNED_OBJECT *so, char *why, size_t len)
{
	static const char *const results[] = {"ok", "quarantine", "fail"};
	m2m_verdict_info info;
	char reasons[200];
	m2m_reason r = m2m_verdict_check(m2m_identity_trust(dpf->id), ASN1_STRING_get0_data(so->cms),
					 (size_t)ASN1_STRING_length(so->cms), tre, dpf->entity, time(NULL), &info);
	if (r != M2M_OK) {
		snprintf(why, len, "the verdict on %s is not a fresh one signed by the PVA about it for %s (%s)", tre,
			 dpf->entity, reason_text(r));
		return r;
	}
	reasons_text(&info, reasons, sizeof reasons);
	if (info.result != M2M_VERDICT_OK) {
		snprintf(why, len, "the PVA found %s %s: %s", tre, results[info.result], reasons);
		return M2M_R_NOT_VALIDATED;
	}
	if (info.mode != dpf->settings.mode) {
		snprintf(why, len, "the PVA validated %s in another mode than the one asked", tre);
		return M2M_R_NOT_VALIDATED;
	}
	return M2M_OK;
}

/* The PVA's answer, or its absence: M2M_OK when what waits on it may proceed. */
static m2m_reason verdict_reason(dpf_context *dpf, const char *tre, const m2m_envelope *resp, m2m_reason reason,
				 char *why, size_t len)
{
	char failure[220];
	if (!resp || resp->type != M2M_MSG_VALIDATION_RESPONSE) {
		snprintf(why, len, "no verdict on %s: %s", tre,
			 m2m_call_failure(dpf->settings.pva, resp, reason, failure, sizeof failure));
		return M2M_R_NOT_VALIDATED;
	}
	return judge(dpf, tre, resp->body, why, len);
}

/* ---- the answer ------------------------------------------------------------------------------- */

/* Every request waiting on the order gets the same answer, sent once the step has committed
 * (a refusal too: it is a decision, recorded as the reply a retry of the request gets). */
static void answer_all(dpf_context *dpf, m2m_request **reqs, int n, m2m_reason r, const dpf_order *o, const char *why)
{
	for (int i = 0; i < n; i++)
		if (r == M2M_OK)
			dpf_package_reply(dpf, reqs[i], o);
		else
			m2m_refuse_recorded(dpf->node, reqs[i], r, "%s", why);
}

/* An MCIM order's verdict, in its own step: nothing rolls it back, so a refused order is deleted
 * explicitly to leave nothing of it. */
static void order_decided(dpf_context *dpf, int64_t id, m2m_reason verdict, const char *verdict_why,
			  m2m_request **reqs, int nreqs)
{
	dpf_order o;
	char why[256] = "";
	int rc = dpf_order_by_id(dpf->db, id, &o);
	int known = rc == 0 && o.state == DPF_VALIDATING;
	m2m_reason r = known ? verdict : M2M_R_INTERNAL;
	snprintf(why, sizeof why, "%s", known ? verdict_why : "the order awaiting this verdict is no longer recorded");
	int superseded = r == M2M_OK ? dpf_order_superseded(dpf->db, &o) : 0;
	if (superseded) {
		r = superseded < 0 ? M2M_R_INTERNAL : M2M_R_WRONG_STATE;
		snprintf(why, sizeof why, "%s placed a newer order meanwhile", o.tre);
	}
	if (r == M2M_OK)
		r = dpf_package_order(dpf, &o, why, sizeof why);
	if (r != M2M_OK && rc == 0 && dpf_order_delete(dpf->db, o.id))
		m2m_error("the refused order %lld cannot be deleted", (long long)o.id);
	if (r != M2M_OK)
		m2m_warn("order of %s refused: %s", rc == 0 ? o.tre : "?", why);
	answer_all(dpf, reqs, nreqs, r, &o, why);
	if (rc == 0)
		dpf_order_clear(&o);
}

/* A verdict, or its absence, in its own step: to the procedure waiting on it. */
static void answered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	dpf_wait *w = arg;
	char why[256] = "";
	unlink_wait(w->dpf, w);
	m2m_reason r = verdict_reason(w->dpf, w->tre, resp, reason, why, sizeof why);
	w->decided(w->dpf, w->id, r, why, w->reqs, w->nreqs);
	free(w);
}

/* ---- the question ----------------------------------------------------------------------------- */

static int ask(dpf_context *dpf, dpf_wait *w)
{
	M2M_VALIDATION_REQUEST *q = M2M_VALIDATION_REQUEST_new();
	int rc = -1;
	if (q && !m2m_set_str(q->tre, w->tre) && ASN1_ENUMERATED_set(q->mode, dpf->settings.mode)) {
		q->min_assurance = (uint64_t)dpf->settings.min_assurance;
		rc = m2m_call(dpf->node, dpf->settings.pva, M2M_MSG_VALIDATION_REQUEST, q, answered, w);
	}
	M2M_VALIDATION_REQUEST_free(q);
	return rc;
}

/* A new wait on row id about tre, its question sent; NULL when the PVA cannot be asked. */
static dpf_wait *wait_for(dpf_context *dpf, const char *tre, int64_t id, dpf_decided_cb decided)
{
	dpf_wait *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->dpf = dpf;
	w->decided = decided;
	w->id = id;
	snprintf(w->tre, sizeof w->tre, "%s", tre);
	if (ask(dpf, w)) {
		free(w);
		return NULL;
	}
	w->next = dpf->waits;
	dpf->waits = w;
	return w;
}

void dpf_validate_tre(dpf_context *dpf, m2m_request *req, const char *tre, int64_t id, dpf_decided_cb decided)
{
	dpf_wait *w = find_wait(dpf, decided, id);
	if (w && w->nreqs == WAITERS_MAX) {
		m2m_refuse(dpf->node, req, M2M_R_WRONG_STATE, "the order of %s is being validated", tre);
		return;
	}
	if (!w && !(w = wait_for(dpf, tre, id, decided))) {
		m2m_refuse(dpf->node, req, M2M_R_UNREACHABLE, "the PVA %s cannot be asked about %s", dpf->settings.pva, tre);
		return;
	}
	w->reqs[w->nreqs++] = req;
	m2m_defer(dpf->node, req);
}

void dpf_validate(dpf_context *dpf, m2m_request *req, const dpf_order *o)
{
	dpf_validate_tre(dpf, req, o->tre, o->id, order_decided);
}
