/*
 * uiccChangeRegister (docs/alt3b.md, contract step 8): the TRE, woken by the trigger, read its
 * card's certificate, ICCID and a fresh challenge, and signs UiccChangeRegistration {changeId,
 * tre, iccid, cardCertificate, cardNonce, triggerNonce}; the M2ME relays it, so only the TRE's
 * signature counts. Checked in this order:
 *   a TRE certificate signed it, for the tre it names    badSignature, badChain, certificateExpired,
 *                                                        certificateRevoked, modelRevoked, badBody
 *   its fields fit the module                            badBody
 *   a change with that changeId                          notFound
 *   the change is of that TRE                            notAuthorised
 *   of kind uicc, triggered (or ordering, delivered:
 *   a registration again)                                wrongState
 *   triggerNonce one the DRF signed for the change       notAuthorised
 *   the card certificate is DER                          badBody
 *   ... chains to the agency's root, valid, profile uicc badChain, certificateExpired,
 *                                                        certificateRevoked, notAuthorised
 *   the card is the one registered for the change        notAuthorised
 * Then: the same card nonce while `delivered` is answered uiccCredentialDelivery with the package
 * stored; while `ordering` it waits on the order. Otherwise (a first registration, a new card
 * nonce after a rollback, or after B refused) the card is stored, `ordering`, in the request's
 * step, uiccCredentialOrder {changeId, tre, iccid, cardCertificate, cardNonce, ticket} goes to the
 * change's new DPF (the ticket: a RegistrationTicket for the TRE naming SHO B and carrying the
 * changeId) and the registration is deferred until B answers:
 *   uiccCredentialPackage for the change from B (sho = the change's new SHO): stored,
 *     `delivered`, every waiting registration answered uiccCredentialDelivery with the same body;
 *   B's refusal (its decision: not a transport refusal nor internalError): back to `triggered`,
 *     the registrations refused with B's reason and text (recorded);
 *   no usable answer: still `ordering`, the registrations refused timeout, B asked again by the
 *     tick after change_retry_seconds (and after a restart).
 * An answer to an order for an older card nonce is dropped and the current card is ordered.
 */
#include "drf.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "wire/read.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* What the TRE signed. */
typedef struct registration {
	char tre[M2M_ENTITY_MAX + 1];
	uint8_t trigger_nonce[DRF_CARD_NONCE_LEN];
	drf_uicc card;
} registration;

/* The signed registration's fields into g: M2M_OK, or the reason with why. */
static m2m_reason read_registration(drf *d, const M2M_SIGNED_OBJECT *so, registration *g, char *why, size_t len)
{
	m2m_tre_signed s;
	m2m_reason r = drf_tre_signed(d, so, ASN1_ITEM_rptr(M2M_UICC_CHANGE_REGISTRATION),
				      M2M_TRE_FIELD(M2M_UICC_CHANGE_REGISTRATION), &s);
	const M2M_UICC_CHANGE_REGISTRATION *q = s.value;
	memset(g, 0, sizeof *g);
	int cert = r == M2M_OK ? ASN1_STRING_length(q->card_certificate) : 0;
	if (r != M2M_OK)
		snprintf(why, len, "%s", s.why);
	else if (m2m_read_octets(q->change_id, g->card.id, DRF_ID_LEN) || m2m_read_name(q->tre, g->tre, M2M_ENTITY_MAX) ||
		 m2m_digits(q->iccid, g->card.iccid, sizeof g->card.iccid, DRF_ICCID_MIN, DRF_ICCID_MAX) || cert < 1 ||
		 cert > DRF_CARD_CERT_MAX || m2m_read_octets(q->card_nonce, g->card.card_nonce, DRF_CARD_NONCE_LEN) ||
		 m2m_read_octets(q->trigger_nonce, g->trigger_nonce, DRF_CARD_NONCE_LEN)) {
		snprintf(why, len, "a UiccChangeRegistration has a 16-octet changeId, a tre, an ICCID of 18 to 20 digits, a card"
				   " certificate of 1 to 4096 octets and 16-octet card and trigger nonces");
		r = M2M_R_BAD_BODY;
	} else {
		memcpy(g->card.card_cert, ASN1_STRING_get0_data(q->card_certificate), (size_t)cert);
		g->card.card_cert_len = (size_t)cert;
	}
	m2m_tre_signed_clear(&s);
	return r;
}

/* A 3b change of TRE tre, as the TRE's signed messages (registration, result) name it: M2M_OK, or
 * the reason with why. */
m2m_reason drf_uicc_change_of(drf *d, const uint8_t id[DRF_ID_LEN], const char *tre, drf_change *c, char *why, size_t len)
{
	int rc = drf_change_load(d, id, c);
	if (rc < 0) {
		snprintf(why, len, "the changes of %s cannot be read", tre);
		return M2M_R_INTERNAL;
	}
	if (rc > 0) {
		snprintf(why, len, "no change of subscription has the changeId TRE %s names", tre);
		return M2M_R_NOT_FOUND;
	}
	if (strcmp(c->tre, tre)) {
		snprintf(why, len, "the change is of TRE %s, not %s", c->tre, tre);
		return M2M_R_NOT_AUTHORISED;
	}
	if (c->kind != DRF_KIND_UICC) {
		snprintf(why, len, "the change of TRE %s replaces an MCIM, not the credentials of its UICC", tre);
		return M2M_R_WRONG_STATE;
	}
	return M2M_OK;
}

/* The card's certificate: DER, chained to the agency's root, valid, profile uicc. */
static m2m_reason card_certified(drf *d, const drf_uicc *u, char *why, size_t len)
{
	X509 *cert = m2m_pki_cert_from_der(u->card_cert, u->card_cert_len);
	m2m_reason r = cert ? m2m_trust_verify(m2m_identity_trust(d->id), cert, M2M_PROFILE_UICC) : M2M_R_BAD_BODY;
	X509_free(cert);
	if (r == M2M_R_NOT_AUTHORISED)
		snprintf(why, len, "the card certificate of ICCID %s is not of profile uicc", u->iccid);
	else if (r != M2M_OK)
		snprintf(why, len, "the card certificate of ICCID %s %s", u->iccid,
			 cert ? "does not chain to the agency's root, or is not valid now" : "is not DER of a certificate");
	return r;
}

/* Everything after the signature and the body: M2M_OK with the change and the card registered
 * so far (*known: whether there is one), or the reason with why. */
static m2m_reason registrable(drf *d, const registration *g, drf_change *c, drf_uicc *old, int *known, char *why,
			      size_t len)
{
	m2m_reason r = drf_uicc_change_of(d, g->card.id, g->tre, c, why, len);
	if (r != M2M_OK)
		return r;
	if (c->state != DRF_CHANGE_TRIGGERED && c->state != DRF_CHANGE_ORDERING && c->state != DRF_CHANGE_DELIVERED) {
		snprintf(why, len, "the change of TRE %s is %s: a card is registered once it is triggered, until it completes",
			 g->tre, drf_change_state_name(c->state));
		return M2M_R_WRONG_STATE;
	}
	int rc = drf_trigger_nonce_issued(d, c->id, g->trigger_nonce);
	if (rc) {
		snprintf(why, len, rc < 0 ? "the triggers cannot be read" : "the DRF issued no such trigger nonce for the change of TRE %s",
			 g->tre);
		return rc < 0 ? M2M_R_INTERNAL : M2M_R_NOT_AUTHORISED;
	}
	if ((r = card_certified(d, &g->card, why, len)) != M2M_OK)
		return r;
	if ((rc = drf_uicc_load(d, c->id, old)) < 0) {
		snprintf(why, len, "the card of the change cannot be read");
		return M2M_R_INTERNAL;
	}
	*known = rc == 0;
	if (*known && strcmp(old->iccid, g->card.iccid)) {
		snprintf(why, len, "the change of TRE %s is for the card of ICCID %s, not %s", g->tre, old->iccid, g->card.iccid);
		return M2M_R_NOT_AUTHORISED;
	}
	return M2M_OK;
}

/* ---- the order to SHO B ------------------------------------------------------------------------- */

/* The ticket of the order: for the change's TRE, naming SHO B and its DPF, with the changeId; its
 * nonce derived from the changeId and the card nonce, so that the same order carries the same
 * ticket (stored) while it is valid. NULL on failure. */
static M2M_SIGNED_OBJECT *order_ticket(drf *d, const drf_change *c, const drf_uicc *u)
{
	drf_registration r;
	uint8_t nonce[DRF_NONCE_LEN], both[DRF_ID_LEN + DRF_CARD_NONCE_LEN];
	unsigned int n = 0;
	ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
	memcpy(both, c->id, DRF_ID_LEN);
	memcpy(both + DRF_ID_LEN, u->card_nonce, DRF_CARD_NONCE_LEN);
	M2M_SIGNED_OBJECT *so = NULL;
	if (id && ASN1_OCTET_STRING_set(id, c->id, DRF_ID_LEN) && !drf_registration_load(d, c->tre, &r) &&
	    EVP_Digest(both, sizeof both, nonce, &n, EVP_sha256(), NULL) && n == DRF_NONCE_LEN) {
		snprintf(r.sho, sizeof r.sho, "%s", c->to_sho);
		snprintf(r.dpf, sizeof r.dpf, "%s", c->to_dpf);
		so = drf_ticket(d, &r, nonce, id);
	}
	ASN1_OCTET_STRING_free(id);
	return so;
}

static void on_package(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg);

int drf_uicc_order(drf *d, drf_pending *p, const drf_change *c)
{
	drf_uicc u;
	if (p->in_flight)
		return 0;
	M2M_UICC_CREDENTIAL_ORDER *q = M2M_UICC_CREDENTIAL_ORDER_new();
	M2M_SIGNED_OBJECT *ticket = NULL;
	int made = q && !drf_uicc_load(d, c->id, &u) && (ticket = order_ticket(d, c, &u)) &&
		   ASN1_OCTET_STRING_set(q->change_id, c->id, DRF_ID_LEN) && !m2m_set_str(q->tre, c->tre) &&
		   !m2m_set_digits(&q->iccid, u.iccid) &&
		   ASN1_OCTET_STRING_set(q->card_certificate, u.card_cert, (int)u.card_cert_len) &&
		   ASN1_OCTET_STRING_set(q->card_nonce, u.card_nonce, DRF_CARD_NONCE_LEN) &&
		   ASN1_STRING_copy(q->ticket, ticket->cms);
	M2M_SIGNED_OBJECT_free(ticket);
	if (made) {
		memcpy(p->sent_nonce, u.card_nonce, DRF_CARD_NONCE_LEN);
		m2m_info("change of TRE %s: card %s ordered from %s", c->tre, u.iccid, c->to_dpf);
	}
	return drf_pending_call(p, c->to_dpf, M2M_MSG_UICC_CREDENTIAL_ORDER, q, made, on_package);
}

/* ---- B's answer ----------------------------------------------------------------------------------- */

/* Every waiting registration answered with the package stored, or refused (reason, text; recorded
 * when the refusal is a decision stored in the step). */
static void answer_waiters(drf *d, drf_pending *p, m2m_reason reason, int recorded, const char *text)
{
	M2M_UICC_CREDENTIAL_PACKAGE *k = reason == M2M_OK ? drf_uicc_package(d, p->id) : NULL;
	for (drf_waiter *w = p->waiting; w; w = w->next)
		if (k)
			m2m_reply(d->node, w->req, M2M_MSG_UICC_CREDENTIAL_DELIVERY, k);
		else if (recorded)
			m2m_refuse_recorded(d->node, w->req, reason, "%s", text);
		else
			m2m_refuse(d->node, w->req, reason == M2M_OK ? M2M_R_INTERNAL : reason, "%s",
				   reason == M2M_OK ? "the package cannot be read" : text);
	M2M_UICC_CREDENTIAL_PACKAGE_free(k);
	drf_waiters_clear(&p->waiting);
}

/* B's package for this change: 0, or -1. */
static int package_of(const m2m_envelope *resp, const drf_change *c)
{
	const M2M_UICC_CREDENTIAL_PACKAGE *k = resp->body;
	uint8_t id[DRF_ID_LEN];
	char sho[M2M_ENTITY_MAX + 1], imsi[DRF_IMSI_MAX + 1];
	int n = ASN1_STRING_length(k->package);
	return m2m_read_octets(k->change_id, id, sizeof id) || memcmp(id, c->id, DRF_ID_LEN) ||
			       m2m_read_name(k->sho, sho, M2M_ENTITY_MAX) || strcmp(sho, c->to_sho) ||
			       m2m_digits(k->imsi, imsi, sizeof imsi, 6, DRF_IMSI_MAX) || n < 1 || n > DRF_PACKAGE_MAX
		       ? -1
		       : 0;
}

/* B's ErrorReport, when it is B's decision: its reason (and text in why); else M2M_OK. */
static m2m_reason b_refusal(const m2m_envelope *resp, char *why, size_t len)
{
	const M2M_ERROR_REPORT *er = resp->body;
	m2m_reason r = (m2m_reason)ASN1_ENUMERATED_get(er->reason);
	if ((r >= M2M_R_WRONG_RECIPIENT && r <= M2M_R_UNREACHABLE) || r == M2M_R_INTERNAL)
		return M2M_OK;
	char text[256];
	if (m2m_str(er->text, text, sizeof text))
		text[0] = 0;
	snprintf(why, len, "%s", text);
	return r;
}

/* What B's answer decides for c (ordering): M2M_OK (delivered), B's refusal (back to triggered),
 * or M2M_R_TIMEOUT (no decision), with why; the new state saved. */
static m2m_reason decide(drf *d, const m2m_envelope *resp, m2m_reason reason, drf_change *c, char *why, size_t len)
{
	int package = resp && resp->type == M2M_MSG_UICC_CREDENTIAL_PACKAGE && !package_of(resp, c);
	m2m_reason refusal = resp && resp->type == M2M_MSG_ERROR ? b_refusal(resp, why, len) : M2M_OK;
	if (!package && refusal == M2M_OK) {
		if (resp && resp->type == M2M_MSG_UICC_CREDENTIAL_PACKAGE)
			snprintf(why, len, "%s sent a package for another change or SHO", c->to_dpf);
		else
			m2m_call_failure(c->to_dpf, resp, reason, why, len);
		return M2M_R_TIMEOUT;
	}
	c->state = package ? DRF_CHANGE_DELIVERED : DRF_CHANGE_TRIGGERED;
	if ((package && drf_uicc_set_package(d, c->id, resp->body)) || drf_change_save(d, c, time(NULL))) {
		snprintf(why, len, "the outcome of the order for TRE %s cannot be stored", c->tre);
		return M2M_R_INTERNAL;
	}
	return package ? M2M_OK : refusal;
}

static void on_package(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	drf_pending *p = arg;
	drf *d = p->d;
	drf_change c;
	drf_uicc u;
	char why[300] = "";
	p->in_flight = 0;
	if (drf_change_load(d, p->id, &c) || c.state != DRF_CHANGE_ORDERING || drf_uicc_load(d, p->id, &u)) {
		answer_waiters(d, p, M2M_R_WRONG_STATE, 0, "the change is no longer ordering its card");
		drf_pending_done(p);
		return;
	}
	if (memcmp(u.card_nonce, p->sent_nonce, DRF_CARD_NONCE_LEN)) {
		/* the TRE registered a new card nonce meanwhile: that one is ordered now */
		if (drf_uicc_order(d, p, &c)) {
			answer_waiters(d, p, M2M_R_UNREACHABLE, 0, "the new SHO's DPF cannot be called");
			drf_pending_retry_later(p);
		}
		return;
	}
	m2m_reason r = decide(d, resp, reason, &c, why, sizeof why);
	if (r == M2M_R_TIMEOUT || r == M2M_R_INTERNAL) {
		m2m_warn("order of the card of TRE %s from %s: %s; asked again in %ds", c.tre, c.to_dpf, why,
			 d->s.change_retry_seconds);
		answer_waiters(d, p, r, 0, r == M2M_R_TIMEOUT ? "the new SHO has not answered yet: register again" : why);
		drf_pending_retry_later(p);
		return;
	}
	m2m_info("change of TRE %s: %s%s%s", c.tre, drf_change_state_name(c.state), r == M2M_OK ? "" : ", refused by ",
		 r == M2M_OK ? "" : c.to_sho);
	answer_waiters(d, p, r, r != M2M_OK, why);
	drf_pending_done(p);
}

/* ---- uiccChangeRegister ------------------------------------------------------------------------------ */

/* The registration waits on the order of the card, sent now unless one is in flight. */
static void wait_for_order(drf *d, m2m_request *req, const drf_change *c)
{
	drf_pending *p = drf_pending_get(d, c->id);
	if (!p || drf_uicc_order(d, p, c)) {
		if (p && !p->waiting && !p->in_flight)
			drf_pending_done(p);
		m2m_refuse(d->node, req, M2M_R_UNREACHABLE, "%s, the DPF of the new SHO, cannot be called", c->to_dpf);
		return;
	}
	if (drf_wait(d, &p->waiting, req))
		m2m_refuse(d->node, req, M2M_R_INTERNAL, "out of memory");
}

void drf_uicc_change_register(drf *d, m2m_request *req)
{
	char why[300];
	registration g;
	drf_change c;
	drf_uicc old;
	int known = 0;
	m2m_reason r = read_registration(d, req->env.body, &g, why, sizeof why);
	if (r == M2M_OK)
		r = registrable(d, &g, &c, &old, &known, why, sizeof why);
	if (r != M2M_OK) {
		m2m_refuse(d->node, req, r, "%s", why);
		return;
	}
	int same = known && !memcmp(old.card_nonce, g.card.card_nonce, DRF_CARD_NONCE_LEN);
	if (same && c.state == DRF_CHANGE_DELIVERED) {
		M2M_UICC_CREDENTIAL_PACKAGE *k = drf_uicc_package(d, c.id);
		if (k)
			m2m_reply(d->node, req, M2M_MSG_UICC_CREDENTIAL_DELIVERY, k);
		else
			m2m_refuse(d->node, req, M2M_R_INTERNAL, "the package for TRE %s cannot be read", c.tre);
		M2M_UICC_CREDENTIAL_PACKAGE_free(k);
		return;
	}
	if (!same || c.state != DRF_CHANGE_ORDERING) {
		c.state = DRF_CHANGE_ORDERING;
		if (drf_uicc_register(d, &g.card, time(NULL)) || drf_change_save(d, &c, time(NULL))) {
			m2m_refuse(d->node, req, M2M_R_INTERNAL, "the card of TRE %s cannot be stored", c.tre);
			return;
		}
		m2m_info("change of TRE %s: card %s registered (relayed by %s)", c.tre, g.card.iccid, req->env.sender);
	}
	wait_for_order(d, req, &c);
}
