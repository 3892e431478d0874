/*
 * validationRequest {tre, mode, minAssurance} from a relying party: the PVA issues a fresh nonce,
 * records it, sends the TRE attestationChallenge {nonce, mode} and defers the relying party
 * until the TRE's answer (or its absence) arrives in a step of its own (attest.c).
 *
 * Only the request and the nonce are kept in memory; the rest of the challenge is in the
 * database, where the answer reloads it. The node frees deferred requests and open calls itself
 * when it stops, so only our own records are freed here.
 */
#include "pva_impl.h"

#include "crypto/crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pva_pending {
	pva_context *p;
	m2m_request *req;
	uint8_t nonce[PVA_NONCE_LEN];
	pva_pending *next;
};

static void unlink_pending(pva_context *p, pva_pending *q)
{
	for (pva_pending **x = &p->pending; *x; x = &(*x)->next)
		if (*x == q) {
			*x = q->next;
			return;
		}
}

static void answered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	pva_pending *q = arg;
	pva_context *p = q->p;
	unlink_pending(p, q);
	pva_evidence_answered(p, q->req, q->nonce, resp, reason);
	free(q);
}

void pva_pending_free_all(pva_context *p)
{
	while (p->pending) {
		pva_pending *q = p->pending;
		p->pending = q->next;
		free(q);
	}
}

/* The challenge as the request asks it: M2M_OK, or badBody naming the field in why. */
static m2m_reason read_request(const M2M_VALIDATION_REQUEST *q, pva_challenge *c, const char **why)
{
	memset(c, 0, sizeof *c);
	if (pva_read_entity(q->tre, c->tre)) {
		*why = "tre must be an entity id of 1 to 63 characters";
		return M2M_R_BAD_BODY;
	}
	if (pva_read_mode(q->mode, &c->mode)) {
		*why = "mode must be autonomous (0), semiAutonomous (1) or remote (2)";
		return M2M_R_BAD_BODY;
	}
	if (q->min_assurance < PVA_ASSURANCE_MIN || q->min_assurance > PVA_ASSURANCE_MAX) {
		*why = "minAssurance must be 1 to 7";
		return M2M_R_BAD_BODY;
	}
	c->min_assurance = (int)q->min_assurance;
	return M2M_OK;
}

/* The TRE must be one we can call: a peer with an endpoint. */
static int callable(const pva_context *p, const char *tre)
{
	const m2m_peer_conf *peer = m2m_node_conf_peer(m2m_node_config(p->node), tre);
	return peer && peer->endpoint[0];
}

/* Sends the challenge with q as the call's record; 0, or -1 when it could not be sent. */
static int send_challenge(pva_context *p, const pva_challenge *c, pva_pending *q)
{
	M2M_ATTESTATION_CHALLENGE *ch = M2M_ATTESTATION_CHALLENGE_new();
	int rc = ch && ASN1_OCTET_STRING_set(ch->nonce, c->nonce, PVA_NONCE_LEN) && ASN1_ENUMERATED_set(ch->mode, c->mode)
			 ? m2m_call(p->node, c->tre, M2M_MSG_ATTESTATION_CHALLENGE, ch, answered, q)
			 : -1;
	M2M_ATTESTATION_CHALLENGE_free(ch);
	return rc;
}

/* Issues the nonce and challenges the TRE; req stays deferred. On failure req is refused. */
static void challenge(pva_context *p, m2m_request *req, pva_challenge *c)
{
	int64_t now = p->now();
	m2m_random(c->nonce, sizeof c->nonce);
	c->expires = now + p->settings.nonce_lifetime_s;
	snprintf(c->relying_party, sizeof c->relying_party, "%s", req->env.sender);
	pva_pending *q = calloc(1, sizeof *q);
	if (!q || pva_challenge_issue(p->db, c, req->env.sender, now)) {
		free(q);
		m2m_refuse(p->node, req, M2M_R_INTERNAL, "the challenge could not be recorded");
		return;
	}
	q->p = p;
	q->req = req;
	memcpy(q->nonce, c->nonce, sizeof q->nonce);
	if (send_challenge(p, c, q)) {
		free(q);
		m2m_refuse(p->node, req, M2M_R_UNREACHABLE, "no route to %s", c->tre);
		return;
	}
	q->next = p->pending;
	p->pending = q;
	m2m_defer(p->node, req);
}

void pva_validation_request(pva_context *p, m2m_request *req)
{
	const char *why = NULL;
	pva_challenge c;
	if (!pva_may_ask(&p->settings, req->env.sender)) {
		m2m_refuse(p->node, req, M2M_R_NOT_AUTHORISED, "%s is not a relying party of this PVA", req->env.sender);
		return;
	}
	m2m_reason r = read_request(req->env.body, &c, &why);
	if (r != M2M_OK) {
		m2m_refuse(p->node, req, r, "%s", why);
		return;
	}
	if (!callable(p, c.tre)) {
		m2m_refuse(p->node, req, M2M_R_UNKNOWN_PEER, "%s is not a TRE this PVA can reach", c.tre);
		return;
	}
	challenge(p, req, &c);
}
