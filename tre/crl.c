/*
 * The agency's CRL, so that the TRE refuses what a revoked certificate signed: a registration
 * ticket of a revoked DRF, a package or a command of a revoked DPF (brief §2.1 step 10: "the TRE
 * verifies Cert_DPF -> Root_CA"; docs/pki.md). It is fetched from the agency (crlRequest ->
 * crlResponse {crl}), kept only if the issuing CA of the TRE's own chain signed it and it is not
 * older (cRLNumber) than the one held, and persisted.
 *
 * A procedure that checks a network function's signature needs a current CRL (nextUpdate not
 * passed): provisioning fetches one before it starts, a command fetches one when the CRL held is
 * not current. The request waits (deferred) meanwhile and is refused if no CRL comes. Checks that
 * only need the root (the platform type, the TRE's own certificate) use the CRL while it is
 * current and do without it otherwise, so that a TRE that was off past nextUpdate still boots.
 */
#include "tre.h"

#include "log/log.h"
#include "wire/read.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- accepting ---------------------------------------------------------------------------- */

static int next_update(const uint8_t *der, size_t len, int64_t *at)
{
	const unsigned char *p = der;
	X509_CRL *crl = len <= LONG_MAX ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
	const ASN1_TIME *next = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
	int rc = next && !m2m_read_time(next, at) ? 0 : -1;
	X509_CRL_free(crl);
	return rc;
}

static int keep(tre *t, const uint8_t *der, size_t len, uint64_t number, int64_t next)
{
	uint8_t *copy = malloc(len);
	if (!copy)
		return -1;
	memcpy(copy, der, len);
	free(t->crl);
	t->crl = copy;
	t->crl_len = len;
	t->crl_number = number;
	t->crl_next_update = next;
	return 0;
}

/* Checked by a trust store over the TRE's chain: signed by its issuing CA. */
static m2m_reason check(tre *t, const uint8_t *der, size_t len, uint64_t *number, int64_t *next)
{
	m2m_trust *trust = tre_trust_new(t, NULL);
	m2m_reason r = trust ? m2m_trust_set_crl(trust, der, len) : M2M_R_INTERNAL;
	*number = trust ? m2m_trust_crl_number(trust) : 0;
	m2m_trust_free(trust);
	if (r == M2M_OK && *number < t->crl_number)
		r = M2M_R_REPLAYED;  /* the one held may be past nextUpdate, and so not in the store */
	if (r == M2M_OK && next_update(der, len, next))
		r = M2M_R_MALFORMED;
	return r;
}

m2m_reason tre_crl_accept(tre *t, const uint8_t *der, size_t len, char *why, size_t whylen)
{
	uint64_t number = 0;
	int64_t next = 0;
	m2m_reason r = check(t, der, len, &number, &next);
	if (r)
		return snprintf(why, whylen, "the CRL is not accepted: %s", m2m_reason_name(r)), r;
	sqlite3_stmt *st = m2m_store_prepare(t->db, "INSERT OR REPLACE INTO tre_crl (id, der) VALUES (1, ?1)");
	if (st)
		sqlite3_bind_blob(st, 1, der, (int)len, SQLITE_TRANSIENT);
	if (m2m_store_run(t->db, st) || keep(t, der, len, number, next))
		return snprintf(why, whylen, "the CRL could not be stored"), M2M_R_INTERNAL;
	return M2M_OK;
}

/* The stored CRL, checked again (the chain it is checked with is loaded first). */
int tre_crl_load(tre *t)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT der FROM tre_crl WHERE id = 1");
	if (!st)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const uint8_t *der = sqlite3_column_blob(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		uint64_t number = 0;
		int64_t next = 0;
		if (check(t, der, len, &number, &next) || keep(t, der, len, number, next))
			m2m_warn("the stored CRL is not accepted any more: fetched again when needed");
	}
	sqlite3_finalize(st);
	return 0;
}

int tre_crl_current(const tre *t)
{
	return t->crl && (int64_t)time(NULL) < t->crl_next_update;
}

/* ---- fetching for waiting requests -------------------------------------------------------- */

static void release_waiters(tre *t, m2m_reason r, const char *why)
{
	for (int i = 0; i < TRE_WAITERS; i++) {
		tre_waiter w = t->waiters[i];
		t->waiters[i] = (tre_waiter){0};
		if (w.req && r == M2M_OK)
			w.run(t, w.req);
		else if (w.req)
			m2m_refuse(t->node, w.req, r, "no current CRL of the agency: %s", why);
	}
}

static void on_crl(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	tre *t = arg;
	char why[300];
	m2m_reason r = reason ? reason : M2M_R_UNEXPECTED_MESSAGE;
	const M2M_CRL_RESPONSE *c = resp && resp->type == M2M_MSG_CRL_RESPONSE ? resp->body : NULL;
	t->crl_in_flight = 0;
	if (c)
		r = tre_crl_accept(t, ASN1_STRING_get0_data(c->crl), (size_t)ASN1_STRING_length(c->crl), why, sizeof why);
	else if (resp && resp->type == M2M_MSG_ERROR)
		r = (m2m_reason)ASN1_ENUMERATED_get(((const M2M_ERROR_REPORT *)resp->body)->reason);
	if (!c)
		m2m_call_failure(t->s.agency, resp, reason, why, sizeof why);
	if (r == M2M_OK)
		m2m_info("CRL %llu of %s kept", (unsigned long long)t->crl_number, t->s.agency);
	else
		m2m_warn("%s", why);
	release_waiters(t, r, why);
}

static int fetch(tre *t)
{
	if (t->crl_in_flight)
		return 0;
	ASN1_NULL *nothing = ASN1_NULL_new();
	t->crl_in_flight = !m2m_call(t->node, t->s.agency, M2M_MSG_CRL_REQUEST, nothing, on_crl, t);
	ASN1_NULL_free(nothing);
	return t->crl_in_flight ? 0 : -1;
}

void tre_with_crl(tre *t, m2m_request *req, int force, void (*run)(tre *t, m2m_request *req))
{
	if (!force && tre_crl_current(t)) {
		run(t, req);
		return;
	}
	int i = 0;
	while (i < TRE_WAITERS && t->waiters[i].req)
		i++;
	if (i == TRE_WAITERS) {
		m2m_refuse(t->node, req, M2M_R_WRONG_STATE, "%d requests wait for the agency's CRL already", TRE_WAITERS);
		return;
	}
	if (fetch(t)) {
		m2m_refuse(t->node, req, M2M_R_UNREACHABLE, "the agency %s cannot be asked for its CRL", t->s.agency);
		return;
	}
	t->waiters[i] = (tre_waiter){req, run};
	m2m_defer(t->node, req);
}
