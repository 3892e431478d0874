/*
 * The TRE's side of the MCIM download (docs/alt1a.md, "Initial provisioning"), a state machine
 * persisted in tre_provision. The M2ME drives it and is only a pipe: treProvision {} starts it
 * or asks for the current step again; each answer treProvision {answer} hands back what the
 * step's destination answered, and treProvisionNext {state, step, reason} says what to relay
 * next. Every step (a RelayStep: destination, message type, body) is persisted before the reply,
 * so that asking again gives it back byte for byte.
 *
 *   idle, failed  + {}                  nonce; discoveryRequest to the DRF          -> discovering
 *   discovering   + discoveryResponse   ticket checked (ticket.c); mcimRequest to
 *                                       the ticket's DPF with a fresh nonce2          -> ordering
 *   ordering      + mcimPackage         opened and checked (package.c); installed, or
 *                                       refused; installResult to the DPF            -> confirming
 *   confirming    + installAck          done (failed with the refusal's reason when the
 *                                       package was refused)                         -> done, failed
 *   any step      + error               the destination refused: failed with its reason
 *   any           + {}                  the current step again
 * Starting needs a credential to attach with (the PCID or an active MCIM), released
 * credentials (secure boot, no tamper), the TRE's certificate, and the agency's CRL, which the
 * TRE fetches first (crl.c). An answer the state does not expect is refused (unexpectedMessage)
 * and, like every refusal, changes nothing.
 */
#include "tre.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"idle", "discovering", "ordering", "confirming", "done", "failed"};

/* ---- the persisted state -------------------------------------------------------------------- */

static void state_free(tre_provision_state *p)
{
	free(p->ticket);
	free(p->step);
	memset(p, 0, sizeof *p);
}

static int copy_blob(sqlite3_stmt *st, int col, uint8_t **out, size_t *len)
{
	*len = (size_t)sqlite3_column_bytes(st, col);
	*out = *len ? malloc(*len) : NULL;
	if (*len && !*out)
		return -1;
	if (*len)
		memcpy(*out, sqlite3_column_blob(st, col), *len);
	return 0;
}

static int load(tre *t, tre_provision_state *p)
{
	memset(p, 0, sizeof *p);
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT state, reason, refusal, nonce, nonce2, mcim_id, sho, dpf,"
				       " ticket, step FROM tre_provision WHERE id = 1");
	int rc = st && sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	if (!rc) {
		p->state = (m2m_provision_state)sqlite3_column_int(st, 0);
		p->reason = (m2m_reason)sqlite3_column_int(st, 1);
		p->refusal = (m2m_reason)sqlite3_column_int(st, 2);
		m2m_store_column_blob(st, 3, p->nonce, TRE_NONCE_LEN);
		m2m_store_column_blob(st, 4, p->nonce2, TRE_NONCE_LEN);
		m2m_store_column_blob(st, 5, p->mcim_id, TRE_MCIM_ID_LEN);
		m2m_store_column_text(st, 6, p->sho, sizeof p->sho);
		m2m_store_column_text(st, 7, p->dpf, sizeof p->dpf);
		rc = copy_blob(st, 8, &p->ticket, &p->ticket_len) || copy_blob(st, 9, &p->step, &p->step_len);
	}
	sqlite3_finalize(st);
	return rc;
}

static int save(tre *t, const tre_provision_state *p)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "UPDATE tre_provision SET state = ?1, reason = ?2, refusal = ?3,"
				       " nonce = ?4, nonce2 = ?5, mcim_id = ?6, sho = ?7, dpf = ?8, ticket = ?9, step = ?10"
				       " WHERE id = 1");
	if (st) {
		sqlite3_bind_int(st, 1, p->state);
		sqlite3_bind_int(st, 2, p->reason);
		sqlite3_bind_int(st, 3, p->refusal);
		sqlite3_bind_blob(st, 4, p->nonce, TRE_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 5, p->nonce2, TRE_NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 6, p->mcim_id, TRE_MCIM_ID_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 7, p->sho, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 8, p->dpf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 9, p->ticket, (int)p->ticket_len, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 10, p->step, (int)p->step_len, SQLITE_TRANSIENT);
	}
	return m2m_store_run(t->db, st);
}

/* The step the M2ME is to relay next: its DER is what is persisted and given back. */
static int set_step(tre_provision_state *p, const char *destination, int type, uint8_t *body, size_t len)
{
	M2M_RELAY_STEP *s = M2M_RELAY_STEP_new();
	unsigned char *der = NULL;
	int n = -1;
	if (s && !m2m_set_str(s->destination, destination) && ASN1_OCTET_STRING_set(s->body, body, (int)len)) {
		s->message_type = type;
		n = i2d_M2M_RELAY_STEP(s, &der);
	}
	M2M_RELAY_STEP_free(s);
	OPENSSL_free(body);
	if (n <= 0)
		return -1;
	free(p->step);
	p->step = malloc((size_t)n);
	if (p->step)
		memcpy(p->step, der, (size_t)n);
	p->step_len = p->step ? (size_t)n : 0;
	OPENSSL_free(der);
	return p->step ? 0 : -1;
}

static void fail(tre_provision_state *p, m2m_reason reason)
{
	p->state = M2M_PROV_FAILED;
	p->reason = reason;
	free(p->step);
	p->step = NULL;
	p->step_len = 0;
}

/* ---- starting ------------------------------------------------------------------------------- */

static m2m_reason may_start(tre *t, char *why, size_t len)
{
	tre_credential c;
	if (!t->s.m2me_id[0])
		return snprintf(why, len, "no m2me_id configured: the discovery names the M2ME"), M2M_R_WRONG_STATE;
	if (!tre_enrolled(t))
		return snprintf(why, len, "not enrolled: nothing to sign the discovery with"), M2M_R_WRONG_STATE;
	if (!tre_credentials_allowed(t))
		return tre_withheld(t, why, len);
	tre_credential_current(t, &c);
	if (c.kind == M2M_CREDENTIAL_NONE)
		return snprintf(why, len, "no credential to attach with (a valid PCID or an active MCIM)"), M2M_R_WRONG_STATE;
	if (!tre_crl_current(t))
		return snprintf(why, len, "no current CRL of the agency"), M2M_R_WRONG_STATE;
	return M2M_OK;
}

static m2m_reason start(tre *t, tre_provision_state *p, char *why, size_t len)
{
	m2m_reason r = may_start(t, why, len);
	if (r)
		return r;
	state_free(p);
	m2m_random(p->nonce, sizeof p->nonce);
	uint8_t *body = NULL;
	size_t blen = 0;
	if (tre_discovery_der(t, p->nonce, &body, &blen) || set_step(p, t->s.drf, M2M_MSG_DISCOVERY_REQUEST, body, blen))
		return snprintf(why, len, "the discovery could not be signed"), M2M_R_INTERNAL;
	p->state = M2M_PROV_DISCOVERING;
	m2m_info("provisioning: discovery at %s for M2ME %s", t->s.drf, t->s.m2me_id);
	return M2M_OK;
}

/* ---- answers -------------------------------------------------------------------------------- */

static m2m_reason on_error(tre_provision_state *p, const M2M_ERROR_REPORT *er, char *why, size_t len)
{
	long reason = ASN1_ENUMERATED_get(er->reason);
	if (reason <= 0 || !m2m_reason_name((m2m_reason)reason))
		return snprintf(why, len, "the error carries no known reason"), M2M_R_BAD_BODY;
	m2m_warn("provisioning failed while %s: %s refused with %s", state_names[p->state], p->state == M2M_PROV_DISCOVERING
		 ? "the DRF" : p->dpf, m2m_reason_name((m2m_reason)reason));
	fail(p, (m2m_reason)reason);
	return M2M_OK;
}

static m2m_reason on_ticket(tre *t, tre_provision_state *p, const M2M_SIGNED_OBJECT *so, char *why, size_t len)
{
	m2m_reason r = tre_ticket_accept(t, so, p, why, len);
	if (r)
		return r;
	m2m_random(p->nonce2, sizeof p->nonce2);
	uint8_t *body = NULL;
	size_t blen = 0;
	if (tre_order_der(t, p, &body, &blen) || set_step(p, p->dpf, M2M_MSG_MCIM_REQUEST, body, blen))
		return snprintf(why, len, "the order could not be signed"), M2M_R_INTERNAL;
	p->state = M2M_PROV_ORDERING;
	m2m_info("provisioning: ticket of %s for SHO %s; ordering the MCIM from %s", t->s.drf, p->sho, p->dpf);
	return M2M_OK;
}

static m2m_reason on_package(tre *t, tre_provision_state *p, const M2M_MCIM_PACKAGE *pkg, char *why, size_t len)
{
	M2M_MCIM *mcim = NULL;
	m2m_reason r = tre_package_open(t, pkg, p, &mcim, why, len);
	if (r)
		return r;
	memcpy(p->mcim_id, ASN1_STRING_get0_data(pkg->mcim_id), TRE_MCIM_ID_LEN);
	char reason[200];
	p->refusal = tre_package_install(t, mcim, p, reason, sizeof reason);
	tre_mcim_free(mcim);
	if (p->refusal)
		m2m_warn("provisioning: the package of %s is refused: %s", p->sho, reason);
	uint8_t *body = NULL;
	size_t blen = 0;
	if (tre_install_result_der(t, p, &body, &blen) || set_step(p, p->dpf, M2M_MSG_INSTALL_RESULT, body, blen))
		return snprintf(why, len, "the install result could not be signed"), M2M_R_INTERNAL;
	p->state = M2M_PROV_CONFIRMING;
	return M2M_OK;
}

static m2m_reason on_ack(tre_provision_state *p, const M2M_INSTALL_ACK *a, char *why, size_t len)
{
	if (ASN1_STRING_length(a->mcim_id) != TRE_MCIM_ID_LEN ||
	    memcmp(ASN1_STRING_get0_data(a->mcim_id), p->mcim_id, TRE_MCIM_ID_LEN))
		return snprintf(why, len, "the acknowledgement is for another MCIM"), M2M_R_BAD_BODY;
	if (p->refusal) {
		fail(p, p->refusal);
		return M2M_OK;
	}
	p->state = M2M_PROV_DONE;
	free(p->step);
	p->step = NULL;
	p->step_len = 0;
	m2m_info("provisioning done: the MCIM of %s is confirmed", p->sho);
	return M2M_OK;
}

/* The message type the state waits for. */
static int expected(m2m_provision_state s)
{
	return s == M2M_PROV_DISCOVERING ? M2M_MSG_DISCOVERY_RESPONSE
	       : s == M2M_PROV_ORDERING  ? M2M_MSG_MCIM_PACKAGE
	       : s == M2M_PROV_CONFIRMING ? M2M_MSG_INSTALL_ACK
					  : -1;
}

static m2m_reason dispatch_answer(tre *t, tre_provision_state *p, int type, const void *body, char *why, size_t len)
{
	if (type == M2M_MSG_ERROR)
		return on_error(p, body, why, len);
	if (type == M2M_MSG_DISCOVERY_RESPONSE)
		return on_ticket(t, p, body, why, len);
	if (type == M2M_MSG_MCIM_PACKAGE)
		return on_package(t, p, body, why, len);
	return on_ack(p, body, why, len);
}

static m2m_reason on_answer(tre *t, tre_provision_state *p, const M2M_RELAY_RESPONSE *a, char *why, size_t len)
{
	int type = a->message_type, wanted = expected(p->state);
	const char *name = m2m_msgtype_name(type);
	if (wanted < 0 || (type != wanted && type != M2M_MSG_ERROR))
		return snprintf(why, len, "%s: %s is not the answer awaited", state_names[p->state], name ? name : "an unknown type"),
		       M2M_R_UNEXPECTED_MESSAGE;
	void *body = tre_body_decode(type, ASN1_STRING_get0_data(a->body), (size_t)ASN1_STRING_length(a->body));
	if (!body)
		return snprintf(why, len, "the answer is not the DER of a %s", name), M2M_R_BAD_BODY;
	m2m_reason r = dispatch_answer(t, p, type, body, why, len);
	ASN1_item_free(body, m2m_msgdef_find(type)->item());
	return r;
}

/* ---- the request ---------------------------------------------------------------------------- */

static M2M_TRE_PROVISION_NEXT *next_of(const tre_provision_state *p)
{
	M2M_TRE_PROVISION_NEXT *n = M2M_TRE_PROVISION_NEXT_new();
	ASN1_ENUMERATED_set(n->state, p->state);
	const unsigned char *q = p->step;
	if (p->step_len)
		n->step = d2i_M2M_RELAY_STEP(NULL, &q, (long)p->step_len);
	if (p->state == M2M_PROV_FAILED) {
		n->reason = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(n->reason, p->reason);
	}
	return n;
}

static m2m_reason run(tre *t, const M2M_TRE_PROVISION *q, tre_provision_state *p, char *why, size_t len)
{
	if (load(t, p))
		return snprintf(why, len, "the procedure's state could not be read"), M2M_R_INTERNAL;
	m2m_reason r = M2M_OK;
	if (q->answer)
		r = on_answer(t, p, q->answer, why, len);
	else if (p->state == M2M_PROV_IDLE || p->state == M2M_PROV_FAILED)
		r = start(t, p, why, len);
	else
		return M2M_OK;  /* the current step again, unchanged */
	if (r == M2M_OK && save(t, p))
		r = M2M_R_INTERNAL, snprintf(why, len, "the procedure's state could not be stored");
	return r;
}

/* All or nothing: a refusal leaves the state (and any install) as it was. */
m2m_reason tre_provision_run(tre *t, const M2M_TRE_PROVISION *q, M2M_TRE_PROVISION_NEXT **next, char *why, size_t len)
{
	tre_provision_state p;
	if (tre_savepoint(t->db))
		return snprintf(why, len, "no transaction"), M2M_R_INTERNAL;
	m2m_reason r = run(t, q, &p, why, len);
	if (tre_release(t->db, r != M2M_OK) && r == M2M_OK)
		r = M2M_R_INTERNAL, snprintf(why, len, "the procedure's state could not be stored");
	if (r == M2M_OK)
		*next = next_of(&p);
	state_free(&p);
	return r;
}

static void answer(tre *t, m2m_request *req)
{
	char why[256];
	M2M_TRE_PROVISION_NEXT *next = NULL;
	m2m_reason r = tre_provision_run(t, req->env.body, &next, why, sizeof why);
	if (r)
		m2m_refuse(t->node, req, r, "%s", why);
	else
		m2m_reply(t->node, req, M2M_MSG_TRE_PROVISION_NEXT, next);
	M2M_TRE_PROVISION_NEXT_free(next);
}

static int startable(tre *t)
{
	sqlite3_stmt *st = m2m_store_prepare(t->db, "SELECT state FROM tre_provision WHERE id = 1");
	int s = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return s == M2M_PROV_IDLE || s == M2M_PROV_FAILED;
}

/* A start fetches the agency's CRL first, so that a DPF revoked since the last start is refused;
 * the other steps fetch one only when the CRL held is no longer current. */
void tre_provision(tre *t, m2m_request *req)
{
	if (tre_refuse_unless_m2me(t, req))
		return;
	const M2M_TRE_PROVISION *q = req->env.body;
	tre_with_crl(t, req, !q->answer && startable(t), answer);
}
