/*
 * portComplete at the old operator A (docs/alt3a.md step 8, threat T-3a-4): B says the card
 * attached with its new IMSI, so A's copy goes. In one step: the HSS record of the old IMSI is
 * deleted (K and OPc erased, location cleared, audited), the card's OTA keysets are erased and its
 * jobs not ended are cancelled, its owner forgotten; A signs DeletionReceipt {portId, iccid,
 * oldImsi, deletedAt} with its identity, keeps it with the card (deleted) and answers
 * portCompleteAck {portId, iccid, receipt}. The same portComplete again gets the same receipt.
 * Refusals, which change nothing:
 *
 *   notFound       no such port of this operator, or no such card in it with that new IMSI;
 *   notAuthorised  the sender is not the port's new operator;
 *   wrongState     the card's transfer was not acknowledged yet (its IMSI is not rewritten);
 *   badBody        the fields break the module's sizes.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/ota.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct completed {
	uint8_t id[PORT_ID_LEN];
	char iccid[HSS_ICCID_MAX + 1], new_imsi[HSS_IMSI_MAX + 1];
	port_row p;
	port_device d;
} completed;

static m2m_reason find_card(port_context *port, const char *sender, completed *c, char *why, size_t len)
{
	int rc = port_find(port->db, c->id, &c->p);
	if (rc == 0 && c->p.side == PORT_OUT && strcmp(c->p.peer, sender)) {
		snprintf(why, len, "the port goes to %s, not to %s", c->p.peer, sender);
		return M2M_R_NOT_AUTHORISED;
	}
	if (rc == 0 && c->p.side == PORT_OUT)
		rc = port_device_find(port->db, c->id, c->iccid, &c->d);
	else if (rc == 0)
		rc = 1;
	if (rc == 0 && strcmp(c->d.new_imsi, c->new_imsi))
		rc = 1;
	if (rc)
		snprintf(why, len, rc < 0 ? "the ports cannot be read" : "%s has no such port with card ICCID %s as IMSI %s",
			 port->entity, c->iccid, c->new_imsi);
	return rc < 0 ? M2M_R_INTERNAL : rc ? M2M_R_NOT_FOUND : M2M_OK;
}

/* The receipt: DeletionReceipt signed by the identity, its DER CMS into *der (malloc'd). */
static int sign_receipt(port_context *port, const completed *c, uint8_t **der, size_t *len)
{
	M2M_DELETION_RECEIPT *r = M2M_DELETION_RECEIPT_new();
	M2M_SIGNED_OBJECT *so = M2M_SIGNED_OBJECT_new();
	int rc = !r || !so || !ASN1_OCTET_STRING_set(r->port_id, c->id, PORT_ID_LEN) || m2m_set_digits(&r->iccid, c->iccid) ||
		 m2m_set_digits(&r->old_imsi, c->d.old_imsi) || !ASN1_GENERALIZEDTIME_set(r->deleted_at, time(NULL)) ||
		 m2m_identity_sign_item(port->id, ASN1_ITEM_rptr(M2M_DELETION_RECEIPT), r, so) ||
		 !(*der = malloc((size_t)ASN1_STRING_length(so->cms)));
	if (!rc) {
		*len = (size_t)ASN1_STRING_length(so->cms);
		memcpy(*der, ASN1_STRING_get0_data(so->cms), *len);
	}
	M2M_SIGNED_OBJECT_free(so);
	M2M_DELETION_RECEIPT_free(r);
	return rc ? -1 : 0;
}

/* The old IMSI's record (unless the staff deleted it already) and the card's keys go. */
static int erase(port_context *port, const completed *c, char *why, size_t len)
{
	hss_subscriber s;
	char reason[128];
	snprintf(reason, sizeof reason, "ported to %s", c->p.peer);
	int rc = hss_subscriber_load(port->db, NULL, c->d.old_imsi, &s);
	if (rc == 0 && s.state != HSS_DELETED &&
	    hss_change_in(port->db, c->d.old_imsi, HSS_CHANGE_DELETE, PORT_ACTOR, why, len) != HSS_DONE)
		return -1;
	return rc < 0 || ota_job_cancel_card(port->db, c->iccid, reason) || ota_keyset_delete_card(port->db, c->iccid) ||
	       hss_owner_release(port->db, c->iccid) ? -1 : 0;
}

static int port_done(port_context *port, const completed *c)
{
	long counts[PORT_DEVICE_STATES];
	if (port_device_counts(port->db, c->id, counts))
		return -1;
	return counts[DEV_DELETED] == c->p.devices ? port_set_state(port->db, c->id, PORT_COMPLETED, 0, NULL) : 0;
}

static m2m_reason delete_card(port_context *port, completed *c, uint8_t **receipt, size_t *rlen, char *why, size_t len)
{
	char id_hex[2 * PORT_ID_LEN + 1];
	m2m_hex(c->id, PORT_ID_LEN, id_hex);
	if (c->d.state != DEV_REWRITING && c->d.state != DEV_REWRITTEN && c->d.state != DEV_REWRITE_FAILED) {
		snprintf(why, len, "card ICCID %s is %s: its transfer is not acknowledged yet", c->iccid,
			 port_device_state_name(c->d.state));
		return M2M_R_WRONG_STATE;
	}
	if (erase(port, c, why, len) || sign_receipt(port, c, receipt, rlen) ||
	    port_device_set_receipt(port->db, c->id, c->iccid, DEV_DELETED, *receipt, *rlen) ||
	    hss_audit(port->db, PORT_ACTOR, c->d.old_imsi, "portOut",
		      "port %s: card ICCID %s attached at %s as IMSI %s; record deleted, K, OPc and OTA keys erased,"
		      " deletion receipt signed (%zu octets)", id_hex, c->iccid, c->p.peer, c->new_imsi, *rlen) ||
	    port_done(port, c)) {
		snprintf(why, len, "the deletion of card ICCID %s cannot be recorded", c->iccid);
		return M2M_R_INTERNAL;
	}
	m2m_info("port %s: card ICCID %s is %s's now; IMSI %s deleted, receipt signed", id_hex, c->iccid, c->p.peer,
		 c->d.old_imsi);
	return M2M_OK;
}

static void reply(port_context *port, m2m_request *req, const completed *c, const uint8_t *receipt, size_t len)
{
	M2M_PORT_COMPLETE_ACK *a = M2M_PORT_COMPLETE_ACK_new();
	if (a && ASN1_OCTET_STRING_set(a->port_id, c->id, PORT_ID_LEN) && !m2m_set_digits(&a->iccid, c->iccid) &&
	    ASN1_OCTET_STRING_set(a->receipt, receipt, (int)len))
		m2m_reply(port->node, req, M2M_MSG_PORT_COMPLETE_ACK, a);
	else
		m2m_refuse(port->node, req, M2M_R_INTERNAL, "portCompleteAck cannot be encoded");
	M2M_PORT_COMPLETE_ACK_free(a);
}

void port_complete_in(port_context *port, m2m_request *req)
{
	const M2M_PORT_COMPLETE *q = req->env.body;
	completed c;
	uint8_t *receipt = NULL;
	size_t rlen = 0;
	char why[300] = "";
	memset(&c, 0, sizeof c);
	m2m_reason r = M2M_OK;
	if (m2m_read_octets(q->port_id, c.id, PORT_ID_LEN) || m2m_digits(q->iccid, c.iccid, sizeof c.iccid, 18, HSS_ICCID_MAX) ||
	    m2m_digits(q->new_imsi, c.new_imsi, sizeof c.new_imsi, 6, HSS_IMSI_MAX)) {
		r = M2M_R_BAD_BODY;
		snprintf(why, sizeof why, "portComplete needs a 16-octet portId, an ICCID of 18 to 20 digits and an IMSI");
	}
	if (r == M2M_OK)
		r = find_card(port, req->env.sender, &c, why, sizeof why);
	int kept = r == M2M_OK && c.d.state == DEV_DELETED ? port_device_receipt(port->db, c.id, c.iccid, &receipt, &rlen) : 1;
	if (r == M2M_OK && kept < 0) {
		r = M2M_R_INTERNAL;
		snprintf(why, sizeof why, "the receipt cannot be read");
	} else if (r == M2M_OK && kept)
		r = delete_card(port, &c, &receipt, &rlen, why, sizeof why);
	if (r == M2M_OK)
		reply(port, req, &c, receipt, rlen);
	else
		m2m_refuse(port->node, req, r, "portComplete refused: %s", why);
	free(receipt);
	port_row_clear(&c.p);
}
