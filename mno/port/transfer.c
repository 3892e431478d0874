/*
 * portTransfer from the old operator A to the new operator B (docs/alt3a.md step 4). For each
 * port accepted, the tick makes the package (package.c) and stores it with the port
 * transferring, in a transaction of its own, before it is sent; then, and after a restart, it
 * sends {portId, package} with those very bytes until B answers. B's answer, in a step of its own:
 *
 *   portTransferAck {portId, provisioned = every card}  -> transferred: an OTA job per card
 *                                                          rewrites EF_IMSI (rewrite.c);
 *   a refusal by B                                       -> failed with B's reason: the cards stay
 *                                                          A's, untouched;
 *   no answer, or B not ready                            -> sent again later.
 *
 * Nothing is rewritten before B holds the records (make before break, brief §2.4 ordering hazard).
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PACKAGE_MARGIN 4096  /* the envelope around the package in the portTransfer message */

/* ---- accepted -> transferring ----------------------------------------------------------------- */

/* The port's next state with its package: transferring, or failed when the package could never
 * be sent (too large for one message; nothing of it left). 0, or -1 with why. */
static int store_package(port_context *port, const port_row *p, const uint8_t *pkg, size_t len, char *why, size_t wlen)
{
	if (len <= M2M_MAX_MESSAGE - PACKAGE_MARGIN)
		return port_set_package(port->db, p->id, PORT_TRANSFERRING, pkg, len);
	snprintf(why, wlen, "its package of %zu octets is too large for one message: fewer cards a port", len);
	return port_set_state(port->db, p->id, PORT_FAILED, M2M_R_INTERNAL, why) ? -1 : 0;
}

static void package_port(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	port_row p;
	uint8_t *pkg = NULL;
	size_t len = 0;
	char why[300] = "", id_hex[2 * PORT_ID_LEN + 1];
	m2m_hex(id, PORT_ID_LEN, id_hex);
	if (port_find(port->db, id, &p) || p.state != PORT_ACCEPTED || m2m_store_begin(port->db)) {
		port_row_clear(&p);
		return;
	}
	if (port_package(port, &p, &pkg, &len, why, sizeof why) != M2M_OK ||
	    store_package(port, &p, pkg, len, why, sizeof why) || m2m_store_commit(port->db)) {
		m2m_store_rollback(port->db);
		m2m_error("port %s: the package for %s cannot be made: %s", id_hex, p.peer, why[0] ? why : "database");
	} else if (why[0])
		m2m_error("port %s failed: %s", id_hex, why);
	else
		m2m_info("port %s: package of %ld card(s) for %s, %zu octets", id_hex, p.devices, p.peer, len);
	free(pkg);
	port_row_clear(&p);
}

/* ---- B's answer ----------------------------------------------------------------------------------- */

static int acknowledged(port_answer *a)
{
	const M2M_PORT_TRANSFER_ACK *ack = a->resp->body;
	if (ASN1_STRING_length(ack->port_id) != PORT_ID_LEN ||
	    memcmp(ASN1_STRING_get0_data(ack->port_id), a->p->id, PORT_ID_LEN) || ack->provisioned != (uint64_t)a->p->devices) {
		snprintf(a->why, sizeof a->why, "its portTransferAck is about another port, or provisioned %llu of %ld cards",
			 (unsigned long long)ack->provisioned, a->p->devices);
		return -1;
	}
	if (port_set_state(a->port->db, a->p->id, PORT_TRANSFERRED, 0, NULL) || port_rewrite_queue(a->port, a->p->id)) {
		snprintf(a->why, sizeof a->why, "the rewrite of the cards cannot be queued");
		return -1;
	}
	return 0;
}

/* What the answer does to the port (port_answered keeps it all or nothing). */
static int record(port_answer *a)
{
	if (a->resp && a->resp->type == M2M_MSG_PORT_TRANSFER_ACK)
		return acknowledged(a);
	return port_set_state(a->port->db, a->p->id, PORT_FAILED, (int)a->reason, a->why);
}

static void answered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	port_answered(arg, resp, reason, PORT_TRANSFERRING, M2M_MSG_PORT_TRANSFER_ACK, record,
		      "provisioned (their IMSIs are rewritten now):");
}

/* ---- sending ----------------------------------------------------------------------------------- */

static void send_transfer(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	port_row p;
	if (port_flying(port, id, NULL) || port_find(port->db, id, &p))
		return;
	M2M_PORT_TRANSFER *t = M2M_PORT_TRANSFER_new();
	port_flight *x = t && ASN1_OCTET_STRING_set(t->port_id, id, PORT_ID_LEN) &&
				 ASN1_OCTET_STRING_set(t->package, p.package, (int)p.package_len)
				 ? port_flight_add(port, id, NULL)
				 : NULL;
	if (x)
		port_flight_call(x, p.peer, M2M_MSG_PORT_TRANSFER, t, answered);
	M2M_PORT_TRANSFER_free(t);
	port_row_clear(&p);
}

void port_transfer_tick(port_context *port)
{
	port_each(port, PORT_OUT, PORT_ACCEPTED, package_port);
	port_each(port, PORT_OUT, PORT_TRANSFERRING, send_transfer);
}
