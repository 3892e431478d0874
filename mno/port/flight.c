/*
 * Calls a port has in flight from the tick (portRequest and portComplete of B, portTransfer of
 * A), keyed by the port and the card they are about: the tick sends again only what is not in
 * flight, and the answer's callback takes its entry off.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

port_flight *port_flight_add(port_context *port, const uint8_t id[PORT_ID_LEN], const char *iccid)
{
	port_flight *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	x->port = port;
	memcpy(x->id, id, PORT_ID_LEN);
	snprintf(x->iccid, sizeof x->iccid, "%s", iccid ? iccid : "");
	x->next = port->flights;
	port->flights = x;
	return x;
}

int port_flying(const port_context *port, const uint8_t id[PORT_ID_LEN], const char *iccid)
{
	for (const port_flight *x = port->flights; x; x = x->next)
		if (!memcmp(x->id, id, PORT_ID_LEN) && !strcmp(x->iccid, iccid ? iccid : ""))
			return 1;
	return 0;
}

void port_flight_end(port_flight *x)
{
	for (port_flight **p = &x->port->flights; *p; p = &(*p)->next)
		if (*p == x) {
			*p = x->next;
			break;
		}
	free(x);
}

void port_flights_free(port_context *port)
{
	while (port->flights)
		port_flight_end(port->flights);
}

int port_flight_call(port_flight *x, const char *peer, int type, const void *body, m2m_response_cb cb)
{
	if (!m2m_call(x->port->node, peer, type, body, cb, x))
		return 0;
	m2m_warn("%s to %s cannot be sent (is it a peer with an endpoint?)", m2m_msgtype_name(type), peer);
	port_flight_end(x);
	return -1;
}

int port_retryable(const m2m_envelope *resp, m2m_reason reason)
{
	m2m_reason r = m2m_call_reason(resp, reason);
	return !resp || r == M2M_R_TIMEOUT || r == M2M_R_UNREACHABLE || r == M2M_R_INTERNAL;
}

typedef struct recording {
	port_answer *a;
	int (*record)(port_answer *a);
} recording;

static int record_atomic(void *arg)
{
	recording *r = arg;
	return r->record(r->a);
}

/* The answer about the port p (found in the database): 0 an answer recorded, 1 a refusal
 * recorded, -1 nothing done. */
static int take_answer(port_flight *x, const m2m_envelope *resp, m2m_reason reason, port_state awaited,
		       int answer_type, int (*record)(port_answer *a), port_row *p, const char *id_hex)
{
	port_context *port = x->port;
	int found = port_find(port->db, x->id, p);
	port_answer a = {port, p, resp, m2m_call_reason(resp, reason), ""};
	m2m_call_failure(p->peer, resp, reason, a.why, sizeof a.why);
	int answer = resp && resp->type == answer_type;
	if (found || p->state != awaited)
		return -1;  /* it moved on meanwhile */
	if (!answer && port_retryable(resp, reason)) {
		m2m_warn("port %s: %s to %s not answered: %s; again in %ds", id_hex, m2m_msgtype_name(answer_type),
			 p->peer, a.why, port->settings.retry_s);
		return -1;
	}
	recording r = {&a, record};
	if (port_atomic(port->db, record_atomic, &r)) {
		m2m_warn("port %s: the answer of %s cannot be taken: %s; again in %ds", id_hex, p->peer, a.why,
			 port->settings.retry_s);
		return -1;
	}
	if (!answer)
		m2m_warn("port %s: %s refused: %s", id_hex, p->peer, a.why);
	port->due = 0;  /* the port moved on: the next tick looks at once */
	return answer ? 0 : 1;
}

void port_answered(port_flight *x, const m2m_envelope *resp, m2m_reason reason, port_state awaited, int answer_type,
		   int (*record)(port_answer *a), const char *done)
{
	port_row p;
	char id_hex[2 * PORT_ID_LEN + 1];
	m2m_hex(x->id, PORT_ID_LEN, id_hex);
	if (take_answer(x, resp, reason, awaited, answer_type, record, &p, id_hex) == 0)
		m2m_info("port %s: %s %s %ld card(s)", id_hex, p.peer, done, p.devices);
	port_flight_end(x);
	port_row_clear(&p);
}
