/*
 * portRequest from the new operator B to the old operator A (docs/alt3a.md step 2): for each port
 * requesting, the tick sends {portId, authorisation, devices {iccid, newImsi}, certificate = B's
 * signing certificate} until A answers, also after a restart (A answers a portRequest it accepted
 * again with the same portResponse). Its answer, in a step of its own:
 *
 *   portResponse {portId, accepted = every card}   -> accepted: A transfers next;
 *   a refusal by A (notAuthorised, badSignature, replayed, notFound, notOwner, contractLocked, ...)
 *                                                   -> refused with A's reason and text; the new
 *                                                      IMSIs allocated for it are deleted;
 *   no answer, or A not ready (internalError)       -> sent again later.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "pki/pki.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the answer -------------------------------------------------------------------------------- */

static int accepted(port_context *port, const port_row *p, const M2M_PORT_RESPONSE *r, char *why, size_t len)
{
	int n = 0;
	port_device *list = NULL;
	if (ASN1_STRING_length(r->port_id) != PORT_ID_LEN || memcmp(ASN1_STRING_get0_data(r->port_id), p->id, PORT_ID_LEN) ||
	    r->accepted != (uint64_t)p->devices) {
		snprintf(why, len, "its portResponse is about another port, or accepts %llu of %ld cards",
			 (unsigned long long)r->accepted, p->devices);
		return -1;
	}
	list = port_devices(port->db, p->id, DEV_REQUESTED, &n);
	int rc = n < 0 || port_set_state(port->db, p->id, PORT_ACCEPTED, 0, NULL);
	for (int i = 0; i < n && !rc; i++)
		rc = hss_audit(port->db, PORT_ACTOR, list[i].new_imsi, "portIn", "card ICCID %s: %s accepted the port",
			       list[i].iccid, p->peer);
	free(list);
	if (rc)
		snprintf(why, len, "the acceptance cannot be stored");
	return rc ? -1 : 0;
}

/* why: the transport's account of A's refusal ("mno-a refused: REASON: text"). */
static int refused(port_context *port, const port_row *p, m2m_reason reason, const char *why)
{
	return port_set_state(port->db, p->id, PORT_REFUSED, (int)reason, why) || port_release_imsis(port->db, p->id, why)
		       ? -1
		       : 0;
}

/* What the answer does to the port (port_answered keeps it all or nothing). */
static int record(port_answer *a)
{
	if (a->resp && a->resp->type == M2M_MSG_PORT_RESPONSE)
		return accepted(a->port, a->p, a->resp->body, a->why, sizeof a->why);
	return refused(a->port, a->p, a->reason, a->why);
}

static void answered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	port_answered(arg, resp, reason, PORT_REQUESTING, M2M_MSG_PORT_RESPONSE, record, "accepted");
}

/* ---- sending ----------------------------------------------------------------------------------- */

static int add_devices(port_context *port, const port_row *p, M2M_PORT_REQUEST *q)
{
	int n = 0, rc = 0;
	port_device *list = port_devices(port->db, p->id, DEV_REQUESTED, &n);
	for (int i = 0; i < n && !rc; i++) {
		M2M_PORT_DEVICE *d = M2M_PORT_DEVICE_new();
		rc = !d || m2m_set_digits(&d->iccid, list[i].iccid) || m2m_set_digits(&d->new_imsi, list[i].new_imsi) ||
		     !sk_M2M_PORT_DEVICE_push(q->devices, d);
		if (rc)
			M2M_PORT_DEVICE_free(d);
	}
	free(list);
	return n < 1 || rc ? -1 : 0;
}

static M2M_PORT_REQUEST *request_of(port_context *port, const port_row *p)
{
	M2M_PORT_REQUEST *q = M2M_PORT_REQUEST_new();
	uint8_t *cert = NULL;
	size_t cert_len = 0;
	int ok = q && !m2m_pki_cert_der(m2m_identity_cert(port->id), &cert, &cert_len) &&
		 ASN1_OCTET_STRING_set(q->port_id, p->id, PORT_ID_LEN) &&
		 ASN1_OCTET_STRING_set(q->authorisation, p->authorisation, (int)p->authorisation_len) &&
		 ASN1_OCTET_STRING_set(q->certificate, cert, (int)cert_len) && !add_devices(port, p, q);
	OPENSSL_free(cert);
	if (!ok) {
		M2M_PORT_REQUEST_free(q);
		return NULL;
	}
	return q;
}

static void send_request(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	port_row p;
	if (port_flying(port, id, NULL) || port_find(port->db, id, &p))
		return;
	M2M_PORT_REQUEST *q = request_of(port, &p);
	port_flight *x = q ? port_flight_add(port, id, NULL) : NULL;
	if (x)
		port_flight_call(x, p.peer, M2M_MSG_PORT_REQUEST, q, answered);
	else
		m2m_error("the portRequest of a port to %s cannot be made", p.peer);
	M2M_PORT_REQUEST_free(q);
	port_row_clear(&p);
}

void port_request_tick(port_context *port)
{
	port_each(port, PORT_IN, PORT_REQUESTING, send_request);
}
