/*
 * The validation gate of gate = "before_av" (brief 2.1 step 3, claim-1 variant): the ICF releases
 * authentication vectors for a PCID only while the TRE it was assigned to holds a fresh OK verdict
 * of the PVA, checked as every relying party checks one (lib/pki/verdict.h: signed by a PVA, about
 * this TRE, for this DRF, still valid).
 *
 * Without one, the ICF asks the PVA (validationRequest {tre, mode, minAssurance}) and defers the
 * visited operator's request; every request for the same TRE meanwhile waits on the same call.
 * When the verdict comes, an OK one is cached (drf_verdict, until its validUntil) and the waiting
 * requests are answered with vectors; otherwise they are refused with the verdict's first reason
 * (or notValidated when it gives none, it does not hold, or the PVA gave none).
 *
 * What waits is kept in memory only: after a restart the visited operator's retry starts over.
 */
#include "drf.h"

#include "log/log.h"
#include "pki/verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct drf_validation {
	drf *d;
	char tre[M2M_ENTITY_MAX + 1];
	drf_waiter *waiting;
	drf_validation *next;
};

/* ---- the cache -------------------------------------------------------------------------------- */

/* The verdict in cms, if it lets the gate open: OK, or the reason with why. */
static m2m_reason judge(drf *d, const char *tre, const uint8_t *cms, size_t len, m2m_verdict_info *info, char *why,
			size_t whylen)
{
	m2m_reason r = m2m_verdict_check(m2m_identity_trust(d->id), cms, len, tre, d->entity, time(NULL), info);
	if (r != M2M_OK) {
		snprintf(why, whylen, "the PVA's verdict on %s does not hold: %s", tre, m2m_reason_name(r));
		return M2M_R_NOT_VALIDATED;
	}
	if (info->result == M2M_VERDICT_OK)
		return M2M_OK;
	int n = snprintf(why, whylen, "the PVA did not validate %s (%s", tre,
			 info->result == M2M_VERDICT_QUARANTINE ? "quarantine" : "fail");
	for (int i = 0; i < info->nreasons && n > 0 && (size_t)n < whylen; i++)
		n += snprintf(why + n, whylen - (size_t)n, "%s%s", i ? ", " : ": ", m2m_reason_name(info->reasons[i]));
	if (n > 0 && (size_t)n < whylen)
		snprintf(why + n, whylen - (size_t)n, ")");
	return info->nreasons > 0 ? info->reasons[0] : M2M_R_NOT_VALIDATED;
}

static int cached_ok(drf *d, const char *tre)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "SELECT cms FROM drf_verdict WHERE tre = ?1");
	int ok = 0;
	if (st)
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_TRANSIENT);
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		m2m_verdict_info info;
		char why[200];
		ok = judge(d, tre, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), &info, why,
			   sizeof why) == M2M_OK;
	}
	sqlite3_finalize(st);
	return ok;
}

static int cache(drf *d, const char *tre, const ASN1_OCTET_STRING *cms, int64_t valid_until)
{
	sqlite3_stmt *st = m2m_store_prepare(d->db, "INSERT OR REPLACE INTO drf_verdict (tre, cms, valid_until)"
						    " VALUES (?1, ?2, ?3)");
	if (st) {
		sqlite3_bind_text(st, 1, tre, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 2, ASN1_STRING_get0_data(cms), ASN1_STRING_length(cms), SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, valid_until);
	}
	return m2m_store_run(d->db, st);
}

/* ---- the validations in flight ------------------------------------------------------------------ */

static void unlink_validation(drf *d, drf_validation *v)
{
	for (drf_validation **p = &d->validations; *p; p = &(*p)->next)
		if (*p == v) {
			*p = v->next;
			return;
		}
}

static void validation_free(drf_validation *v)
{
	drf_waiters_clear(&v->waiting);
	free(v);
}

void drf_gate_free(drf *d)
{
	while (d->validations) {
		drf_validation *v = d->validations;
		d->validations = v->next;
		validation_free(v);  /* the node frees the deferred requests themselves */
	}
}

/* What the PVA answered: OK (cached), or the reason every waiting request is refused with. */
static m2m_reason verdict_of(drf *d, drf_validation *v, const m2m_envelope *resp, m2m_reason reason, char *why,
			     size_t len)
{
	if (!resp || resp->type != M2M_MSG_VALIDATION_RESPONSE) {
		char failure[240];
		snprintf(why, len, "no verdict on %s: %s", v->tre,
			 m2m_call_failure(d->s.pva, resp, reason, failure, sizeof failure));
		return M2M_R_NOT_VALIDATED;
	}
	const M2M_SIGNED_OBJECT *so = resp->body;
	m2m_verdict_info info;
	m2m_reason r = judge(d, v->tre, ASN1_STRING_get0_data(so->cms), (size_t)ASN1_STRING_length(so->cms), &info, why,
			     len);
	if (r == M2M_OK && cache(d, v->tre, so->cms, info.valid_until)) {
		snprintf(why, len, "the verdict on %s cannot be stored", v->tre);
		r = M2M_R_INTERNAL;
	}
	return r;
}

static void on_verdict(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	drf_validation *v = arg;
	drf *d = v->d;
	char why[256];
	unlink_validation(d, v);
	m2m_reason r = verdict_of(d, v, resp, reason, why, sizeof why);
	if (r == M2M_OK)
		m2m_info("the PVA validated %s: its PCID's vectors are released", v->tre);
	else
		m2m_warn("%s", why);
	for (drf_waiter *w = v->waiting; w; w = w->next)
		if (r == M2M_OK)
			drf_auth_info_resume(d, w->req);
		else
			m2m_refuse(n, w->req, r, "%s", why);
	validation_free(v);
}

static drf_validation *ask_pva(drf *d, const char *tre)
{
	drf_validation *v = calloc(1, sizeof *v);
	M2M_VALIDATION_REQUEST *q = v ? M2M_VALIDATION_REQUEST_new() : NULL;
	if (q) {
		v->d = d;
		snprintf(v->tre, sizeof v->tre, "%s", tre);
		q->min_assurance = (uint64_t)d->s.min_assurance;
	}
	int sent = q && !m2m_set_str(q->tre, tre) && ASN1_ENUMERATED_set(q->mode, d->s.validation_mode) &&
		   !m2m_call(d->node, d->s.pva, M2M_MSG_VALIDATION_REQUEST, q, on_verdict, v);
	M2M_VALIDATION_REQUEST_free(q);
	if (!sent) {
		free(v);
		return NULL;
	}
	v->next = d->validations;
	d->validations = v;
	m2m_info("asking %s to validate %s before its PCID's vectors", d->s.pva, tre);
	return v;
}

int drf_gate_pass(drf *d, m2m_request *req, const char *tre)
{
	if (cached_ok(d, tre))
		return 1;
	drf_validation *v = d->validations;
	while (v && strcmp(v->tre, tre))
		v = v->next;
	int asked = !v;
	if (asked)
		v = ask_pva(d, tre);
	if (v && !drf_wait(d, &v->waiting, req))
		return 0;
	if (asked && v) {  /* the refusal drops the call just made: nothing will answer it */
		unlink_validation(d, v);
		validation_free(v);
	}
	m2m_refuse(d->node, req, M2M_R_NOT_VALIDATED, "no fresh verdict on %s, and %s cannot be asked", tre, d->s.pva);
	return 0;
}
