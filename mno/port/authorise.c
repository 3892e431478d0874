/*
 * portRequest at the old operator A (docs/alt3a.md step 3, threat T-3a-3): the new operator B
 * asks for the subscriber's cards. A takes the port (accepted, every card accepted, audited on
 * each card's record) and answers portResponse {portId, accepted} only when all of this holds,
 * else it refuses and nothing is stored:
 *
 *   badBody          the fields break the module's sizes, a card is named twice, more than
 *                    PORT_CARDS_MAX cards, the authorisation is not a SignedData of PortAuthorisation;
 *   badChain, certificateExpired, certificateRevoked, notAuthorised
 *                    B's certificate does not chain to the agency's root as an operatorFunction
 *                    valid now, or does not name B (the sender);
 *   notAuthorised    the subscriber is not registered here, another certificate signed the
 *                    authorisation, it moves the cards to another operator than B or from another
 *                    than A, it is older than max_age_seconds (or from the future), or B names
 *                    cards it does not;
 *   badSignature     the subscriber's signature does not verify under its registered certificate;
 *   replayed         a port already used the authorisation's nonce (single use);
 *   notFound         a card is not an active card of A;
 *   notOwner         a card is not the subscriber's;
 *   contractLocked   a card's subscription is under a contract lock (mno-admin lock);
 *   wrongState       a card is suspended, is in another port, or has no OTA keyset for the USIM's
 *                    RFM (its IMSI could not be rewritten).
 *
 * The same portRequest again (a retry in a new transaction, after a restart of B) gets the same
 * portResponse, whatever the port's state since.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/ota.h"
#include "pki/pki.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CLOCK_SKEW_S 300  /* an authorisation from a few minutes ahead is a clock, not a forgery */

/* What one portRequest asks for, as read and checked. */
typedef struct asked {
	port_row p;
	port_authorised auth;
	port_device *devices;
	int n;
} asked;

static void asked_clear(asked *a)
{
	port_row_clear(&a->p);
	port_authorised_clear(&a->auth);
	free(a->devices);
}

static m2m_reason bad_body(char *why, size_t len, const char *text)
{
	snprintf(why, len, "%s", text);
	return M2M_R_BAD_BODY;
}

/* ---- the request's fields ---------------------------------------------------------------------- */

static int copy_octets(const ASN1_OCTET_STRING *s, size_t max, uint8_t **out, size_t *len)
{
	int n = ASN1_STRING_length(s);
	if (n < 1 || (size_t)n > max || !(*out = malloc((size_t)n)))
		return -1;
	memcpy(*out, ASN1_STRING_get0_data(s), (size_t)n);
	*len = (size_t)n;
	return 0;
}

static int read_device(const M2M_PORT_DEVICE *w, port_device *d, const port_device *before, int n)
{
	memset(d, 0, sizeof *d);
	if (m2m_digits(w->iccid, d->iccid, sizeof d->iccid, 18, HSS_ICCID_MAX) ||
	    m2m_digits(w->new_imsi, d->new_imsi, sizeof d->new_imsi, 6, HSS_IMSI_MAX))
		return -1;
	for (int i = 0; i < n; i++)
		if (!strcmp(before[i].iccid, d->iccid) || !strcmp(before[i].new_imsi, d->new_imsi))
			return -1;  /* a card, or a new IMSI, named twice */
	d->state = DEV_ACCEPTED;
	return 0;
}

static m2m_reason read_request(const M2M_PORT_REQUEST *q, asked *a, char *why, size_t len)
{
	int n = sk_M2M_PORT_DEVICE_num(q->devices);
	if (m2m_read_octets(q->port_id, a->p.id, PORT_ID_LEN) || n < 1 || n > PORT_DEVICES_MAX ||
	    copy_octets(q->authorisation, 1024 * 1024, &a->p.authorisation, &a->p.authorisation_len) ||
	    copy_octets(q->certificate, 8192, &a->p.certificate, &a->p.certificate_len))
		return bad_body(why, len, "portRequest needs a 16-octet portId, an authorisation, 1 to 10000 devices and"
					  " a certificate");
	if (n > PORT_CARDS_MAX) {
		snprintf(why, len, "at most %d cards a port: the transfer must fit in one message", PORT_CARDS_MAX);
		return M2M_R_BAD_BODY;
	}
	if (!(a->devices = calloc((size_t)n, sizeof *a->devices))) {
		snprintf(why, len, "out of memory");
		return M2M_R_INTERNAL;
	}
	for (a->n = 0; a->n < n; a->n++)
		if (read_device(sk_M2M_PORT_DEVICE_value(q->devices, a->n), &a->devices[a->n], a->devices, a->n))
			return bad_body(why, len, "a device needs an ICCID of 18 to 20 digits and a new IMSI of 6 to 15,"
						  " each named once");
	return M2M_OK;
}

/* ---- who asks -------------------------------------------------------------------------------------- */

/* B's certificate: the agency's operatorFunction, valid now, naming the sender. */
static m2m_reason check_b(port_context *port, const char *sender, const asked *a, char *why, size_t len)
{
	X509 *cert = m2m_pki_cert_from_der(a->p.certificate, a->p.certificate_len);
	char cn[M2M_ENTITY_MAX + 1] = "";
	m2m_reason r = cert ? m2m_trust_verify(m2m_identity_trust(port->id), cert, M2M_PROFILE_OPERATOR_FUNCTION)
			    : bad_body(why, len, "the certificate is not DER of an X.509 certificate");
	if (cert && r != M2M_OK)
		snprintf(why, len, "the certificate of %s is not the agency's operatorFunction certificate valid now (%s)",
			 sender, m2m_reason_name(r));
	if (r == M2M_OK && (m2m_pki_cert_cn(cert, cn, sizeof cn) || strcmp(cn, sender))) {
		snprintf(why, len, "the certificate names %s, not %s", cn, sender);
		r = M2M_R_NOT_AUTHORISED;
	}
	X509_free(cert);
	return r;
}

/* The subscriber's signature under its registered certificate; the authorisation into a->auth. */
static m2m_reason check_signature(port_context *port, asked *a, char *why, size_t len)
{
	port_authorised claimed;
	X509 *pinned = NULL;
	m2m_reason r = port_authorisation_read(a->p.authorisation, a->p.authorisation_len, NULL, &claimed, why, len);
	int rc = r == M2M_OK ? hss_owner_certificate(port->db, claimed.subscriber, &pinned) : 0;
	if (rc) {
		snprintf(why, len, rc > 0 ? "subscriber %s is not registered with %s" : "the subscribers cannot be read",
			 claimed.subscriber, port->entity);
		r = rc > 0 ? M2M_R_NOT_AUTHORISED : M2M_R_INTERNAL;
	}
	if (r == M2M_OK)
		r = port_authorisation_read(a->p.authorisation, a->p.authorisation_len, pinned, &a->auth, why, len);
	X509_free(pinned);
	port_authorised_clear(&claimed);
	return r;
}

static m2m_reason not_authorised(char *why, size_t len, const char *fmt, const char *a, const char *b)
{
	snprintf(why, len, fmt, a, b);
	return M2M_R_NOT_AUTHORISED;
}

/* What the authorisation says against who asks, when, and for which cards. */
static m2m_reason check_terms(port_context *port, const char *sender, const asked *a, char *why, size_t len)
{
	const port_authorised *au = &a->auth;
	int64_t now = (int64_t)time(NULL);
	char when[32];
	if (strcmp(au->to, sender))
		return not_authorised(why, len, "the authorisation moves the cards to %s, not to %s", au->to, sender);
	if (strcmp(au->from, port->entity))
		return not_authorised(why, len, "the authorisation moves the cards from %s, not from %s", au->from,
				      port->entity);
	if (au->issued < now - port->settings.max_age_s || au->issued > now + CLOCK_SKEW_S)
		return not_authorised(why, len, "the authorisation was issued at %s%s", hss_utc(au->issued, when, sizeof when),
				      au->issued > now ? ", in the future" : ", too long ago");
	if (au->n != a->n)
		return not_authorised(why, len, "%s names %s cards", sender, au->n > a->n ? "fewer" : "more");
	for (int i = 0; i < a->n; i++) {
		int j = 0;
		while (j < au->n && strcmp(au->iccids[j], a->devices[i].iccid))
			j++;
		if (j == au->n)
			return not_authorised(why, len, "the subscriber did not authorise card ICCID %s%s", a->devices[i].iccid,
					      "");
	}
	int used = port_nonce_used(port->db, au->nonce);
	if (used) {
		snprintf(why, len, used > 0 ? "the authorisation's nonce was used by another port" : "the ports cannot be read");
		return used > 0 ? M2M_R_REPLAYED : M2M_R_INTERNAL;
	}
	return M2M_OK;
}

/* ---- the cards ------------------------------------------------------------------------------------- */

static m2m_reason card_problem(char *why, size_t len, m2m_reason r, const char *iccid, const char *what)
{
	snprintf(why, len, "card ICCID %s %s", iccid, what);
	return r;
}

/* An active card of A, the subscriber's, not locked, in no other port, with an RFM keyset. */
static m2m_reason check_card(port_context *port, const char *subscriber, port_device *d, char *why, size_t len)
{
	hss_subscriber s;
	ota_card_keyset ks;
	char owner[HSS_OWNER_MAX + 1] = "";
	int64_t until = 0;
	int rc = hss_imsi_of_iccid(port->db, d->iccid, d->old_imsi);
	if (rc == 0)
		rc = hss_subscriber_load(port->db, NULL, d->old_imsi, &s);
	if (rc)
		return rc < 0 ? card_problem(why, len, M2M_R_INTERNAL, d->iccid, "cannot be read")
			      : card_problem(why, len, M2M_R_NOT_FOUND, d->iccid, "is no card of this operator");
	if (s.state != HSS_ACTIVE)
		return s.state == HSS_SUSPENDED ? card_problem(why, len, M2M_R_WRONG_STATE, d->iccid, "is suspended")
						: card_problem(why, len, M2M_R_NOT_FOUND, d->iccid, "has no active subscription");
	rc = hss_owner_of(port->db, d->iccid, owner);
	if (rc || strcmp(owner, subscriber))
		return card_problem(why, len, rc < 0 ? M2M_R_INTERNAL : M2M_R_NOT_OWNER, d->iccid,
				    "is not the subscriber's");
	rc = hss_locked_until(port->db, d->old_imsi, (int64_t)time(NULL), &until);
	if (rc)
		return card_problem(why, len, rc < 0 ? M2M_R_INTERNAL : M2M_R_CONTRACT_LOCKED, d->iccid,
				    "is under a contract lock");
	rc = port_device_busy(port->db, d->iccid);
	if (rc)
		return card_problem(why, len, rc < 0 ? M2M_R_INTERNAL : M2M_R_WRONG_STATE, d->iccid, "is in another port");
	rc = ota_keyset_get(port->db, port->hss->settings.storage_key, d->iccid, OTA_TAR_USIM_RFM, &ks);
	m2m_wipe(&ks, sizeof ks);
	if (rc)
		return card_problem(why, len, rc < 0 ? M2M_R_INTERNAL : M2M_R_WRONG_STATE, d->iccid,
				    "has no OTA keyset for the USIM's RFM: its IMSI cannot be rewritten");
	return M2M_OK;
}

static m2m_reason check_cards(port_context *port, asked *a, char *why, size_t len)
{
	m2m_reason r = M2M_OK;
	for (int i = 0; i < a->n && r == M2M_OK; i++)
		r = check_card(port, a->auth.subscriber, &a->devices[i], why, len);
	return r;
}

/* ---- taking the port ------------------------------------------------------------------------------- */

static m2m_reason store(port_context *port, asked *a, const char *sender, char *why, size_t len)
{
	char id_hex[2 * PORT_ID_LEN + 1];
	m2m_hex(a->p.id, PORT_ID_LEN, id_hex);
	a->p.side = PORT_OUT;
	a->p.state = PORT_ACCEPTED;
	a->p.devices = a->n;
	snprintf(a->p.peer, sizeof a->p.peer, "%s", sender);
	snprintf(a->p.subscriber, sizeof a->p.subscriber, "%s", a->auth.subscriber);
	memcpy(a->p.nonce, a->auth.nonce, PORT_NONCE_LEN);
	int rc = port_insert(port->db, &a->p);
	for (int i = 0; i < a->n && !rc; i++)
		rc = port_device_insert(port->db, a->p.id, &a->devices[i]) ||
		     hss_audit(port->db, PORT_ACTOR, a->devices[i].old_imsi, "portOut",
			       "port %s of subscriber %s: card ICCID %s to %s as IMSI %s, accepted", id_hex,
			       a->auth.subscriber, a->devices[i].iccid, sender, a->devices[i].new_imsi);
	if (rc) {
		snprintf(why, len, "the port cannot be stored");
		return M2M_R_INTERNAL;
	}
	m2m_info("port %s: %d card(s) of subscriber %s may go to %s", id_hex, a->n, a->auth.subscriber, sender);
	port->due = 0;  /* the next tick makes the package */
	return M2M_OK;
}

static void reply(port_context *port, m2m_request *req, const uint8_t id[PORT_ID_LEN], long devices)
{
	M2M_PORT_RESPONSE *r = M2M_PORT_RESPONSE_new();
	if (r && ASN1_OCTET_STRING_set(r->port_id, id, PORT_ID_LEN)) {
		r->accepted = (uint64_t)devices;
		m2m_reply(port->node, req, M2M_MSG_PORT_RESPONSE, r);
	} else
		m2m_refuse(port->node, req, M2M_R_INTERNAL, "portResponse cannot be encoded");
	M2M_PORT_RESPONSE_free(r);
}

/* The portId of a port already known: the same answer to the same operator. */
static void known_port(port_context *port, m2m_request *req, const port_row *p)
{
	if (p->side == PORT_OUT && !strcmp(p->peer, req->env.sender))
		reply(port, req, p->id, p->devices);
	else
		m2m_refuse(port->node, req, M2M_R_WRONG_STATE, "this portId names another port");
}

void port_request_in(port_context *port, m2m_request *req)
{
	asked a;
	port_row known;
	char why[300] = "";
	memset(&a, 0, sizeof a);
	m2m_reason r = read_request(req->env.body, &a, why, sizeof why);
	int found = r == M2M_OK ? port_find(port->db, a.p.id, &known) : 1;
	if (found == 0)
		known_port(port, req, &known);
	if (found <= 0) {
		if (found < 0)
			m2m_refuse(port->node, req, M2M_R_INTERNAL, "the ports cannot be read");
		port_row_clear(&known);
		asked_clear(&a);
		return;
	}
	if (r == M2M_OK)
		r = check_b(port, req->env.sender, &a, why, sizeof why);
	if (r == M2M_OK)
		r = check_signature(port, &a, why, sizeof why);
	if (r == M2M_OK)
		r = check_terms(port, req->env.sender, &a, why, sizeof why);
	if (r == M2M_OK)
		r = check_cards(port, &a, why, sizeof why);
	if (r == M2M_OK)
		r = store(port, &a, req->env.sender, why, sizeof why);
	if (r == M2M_OK)
		reply(port, req, a.p.id, a.n);
	else
		m2m_refuse(port->node, req, r, "port refused: %s", why);
	asked_clear(&a);
}
