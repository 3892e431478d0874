/*
 * The end of a port at the new operator B (docs/alt3a.md steps 7 and 8, threat T-3a-4). The
 * tick sees a provisioned card whose record its first attach activated (the HSS did it in the
 * attach's step) and records it attached, then sends portComplete {portId, iccid, newImsi} to A
 * until A answers with its signed deletion receipt, also after a restart. The answer, in a step
 * of its own: the receipt must verify (A's operatorFunction certificate chained to the agency's
 * root, naming A) and say this port, this card and the old IMSI A transferred; then it is kept
 * with the card (completed, audited) and B queues the rotation of the card's OTA keys (mno/ota),
 * after which the keys A knew no longer work. A refusal or a receipt that does not verify is
 * logged and the card asked about again later.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/ota.h"
#include "pki/pki.h"
#include "store/store.h"
#include "wire/read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- provisioned -> attached -------------------------------------------------------------------- */

/* The port's provisioned cards whose records their first attach activated (the HSS did it in the
 * attach's step) become attached, in a transaction of the tick's own. */
static void mark_attached(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	int n = 0, rc = 0;
	char id_hex[2 * PORT_ID_LEN + 1];
	m2m_hex(id, PORT_ID_LEN, id_hex);
	if (m2m_store_begin(port->db))
		return;
	port_device *list = port_devices_active(port->db, id, &n);
	for (int i = 0; i < n && !rc; i++) {
		rc = port_device_set(port->db, id, list[i].iccid, DEV_ATTACHED, 0);
		if (!rc)
			m2m_info("port %s: card ICCID %s attached as IMSI %s", id_hex, list[i].iccid, list[i].new_imsi);
	}
	free(list);
	if (n < 0 || rc || m2m_store_commit(port->db))
		m2m_store_rollback(port->db);
}

/* ---- A's receipt -------------------------------------------------------------------------------- */

/* The receipt verifies, is A's, and says what B knows of the card. */
static m2m_reason check_receipt(port_context *port, const port_row *p, const port_device *d,
				const M2M_PORT_COMPLETE_ACK *a, char *why, size_t len)
{
	M2M_SIGNED_OBJECT so = {.cms = a->receipt};
	M2M_DELETION_RECEIPT *r = NULL;
	X509 *signer = NULL;
	char cn[M2M_ENTITY_MAX + 1] = "", iccid[HSS_ICCID_MAX + 1] = "", old_imsi[HSS_IMSI_MAX + 1] = "";
	uint8_t id[PORT_ID_LEN];
	m2m_reason rs = m2m_cms_verify_item(m2m_identity_trust(port->id), &so, ASN1_ITEM_rptr(M2M_DELETION_RECEIPT),
					    (void **)&r, &signer);
	if (rs != M2M_OK)
		snprintf(why, len, "the deletion receipt does not verify (%s)", m2m_reason_name(rs));
	else if (m2m_pki_cert_cn(signer, cn, sizeof cn) || strcmp(cn, p->peer) ||
		 m2m_pki_cert_profile(signer) != M2M_PROFILE_OPERATOR_FUNCTION)
		snprintf(why, len, "the deletion receipt is signed by %s, not by %s", cn, p->peer);
	else if (m2m_read_octets(r->port_id, id, PORT_ID_LEN) || memcmp(id, p->id, PORT_ID_LEN) ||
		 m2m_digits(r->iccid, iccid, sizeof iccid, 18, HSS_ICCID_MAX) || strcmp(iccid, d->iccid) ||
		 m2m_digits(r->old_imsi, old_imsi, sizeof old_imsi, 6, HSS_IMSI_MAX) || strcmp(old_imsi, d->old_imsi))
		snprintf(why, len, "the deletion receipt is about another port, card or IMSI");
	else
		why[0] = 0;
	M2M_DELETION_RECEIPT_free(r);
	X509_free(signer);
	return why[0] ? M2M_R_BAD_SIGNATURE : M2M_OK;
}

typedef struct completion {
	port_context *port;
	port_row p;
	port_device d;
	const M2M_PORT_COMPLETE_ACK *ack;
	int64_t rotation;
	char why[300];
} completion;

static int all_completed(port_context *port, const port_row *p)
{
	long counts[PORT_DEVICE_STATES];
	if (port_device_counts(port->db, p->id, counts))
		return -1;
	return counts[DEV_COMPLETED] == p->devices ? port_set_state(port->db, p->id, PORT_COMPLETED, 0, NULL) : 0;
}

/* attached -> completed: the receipt kept, the rotation queued, all or nothing. */
static int record(void *arg)
{
	completion *c = arg;
	char id_hex[2 * PORT_ID_LEN + 1], err[200] = "";
	m2m_hex(c->p.id, PORT_ID_LEN, id_hex);
	const ASN1_OCTET_STRING *receipt = c->ack->receipt;
	/* the receipt is a fact whatever happens to the rotation: a rotation that cannot be queued is
	 * audited and logged for the staff (mno-admin ota rotate), the card completed all the same */
	if (ota_rotate_queue(c->port->db, c->port->hss->settings.storage_key, c->d.iccid, &c->rotation, err, sizeof err)) {
		c->rotation = 0;
		m2m_warn("port %s: the OTA keys of card ICCID %s cannot be rotated: %s", id_hex, c->d.iccid, err);
		if (hss_audit(c->port->db, PORT_ACTOR, c->d.new_imsi, "portIn", "OTA key rotation not queued: %s", err))
			return -1;
	}
	if (port_device_set_receipt(c->port->db, c->p.id, c->d.iccid, DEV_COMPLETED, ASN1_STRING_get0_data(receipt),
				    (size_t)ASN1_STRING_length(receipt)) ||
	    port_device_set(c->port->db, c->p.id, c->d.iccid, DEV_COMPLETED, c->rotation) ||
	    hss_audit(c->port->db, PORT_ACTOR, c->d.new_imsi, "portIn",
		      "port %s: %s deleted IMSI %s of card ICCID %s (signed receipt kept, %d octets); OTA key rotation"
		      " job %lld queued", id_hex, c->p.peer, c->d.old_imsi, c->d.iccid, ASN1_STRING_length(receipt),
		      (long long)c->rotation) ||
	    all_completed(c->port, &c->p)) {
		snprintf(c->why, sizeof c->why, "the receipt cannot be stored");
		return -1;
	}
	return 0;
}

static void answered(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	port_flight *x = arg;
	completion c = {.port = x->port};
	char id_hex[2 * PORT_ID_LEN + 1];
	m2m_hex(x->id, PORT_ID_LEN, id_hex);
	int found = port_find(c.port->db, x->id, &c.p) || port_device_find(c.port->db, x->id, x->iccid, &c.d);
	port_flight_end(x);
	if (found || c.d.state != DEV_ATTACHED) {
		port_row_clear(&c.p);
		return;  /* it moved on meanwhile */
	}
	if (!resp || resp->type != M2M_MSG_PORT_COMPLETE_ACK)
		m2m_call_failure(c.p.peer, resp, reason, c.why, sizeof c.why);
	else if (check_receipt(c.port, &c.p, &c.d, (c.ack = resp->body), c.why, sizeof c.why) == M2M_OK &&
		 port_atomic(c.port->db, record, &c) == 0)
		m2m_info("port %s: card ICCID %s completed: %s's signed deletion receipt kept; OTA key rotation job %lld",
			 id_hex, c.d.iccid, c.p.peer, (long long)c.rotation);
	if (c.why[0])
		m2m_warn("port %s: portComplete of card ICCID %s not done: %s; again in %ds", id_hex, c.d.iccid, c.why,
			 c.port->settings.retry_s);
	port_row_clear(&c.p);
}

/* ---- sending ----------------------------------------------------------------------------------- */

static void send_complete(port_context *port, const port_row *p, const port_device *d)
{
	if (port_flying(port, p->id, d->iccid))
		return;
	M2M_PORT_COMPLETE *q = M2M_PORT_COMPLETE_new();
	port_flight *x = q && ASN1_OCTET_STRING_set(q->port_id, p->id, PORT_ID_LEN) && !m2m_set_digits(&q->iccid, d->iccid) &&
				 !m2m_set_digits(&q->new_imsi, d->new_imsi)
				 ? port_flight_add(port, p->id, d->iccid)
				 : NULL;
	if (x)
		port_flight_call(x, p->peer, M2M_MSG_PORT_COMPLETE, q, answered);
	M2M_PORT_COMPLETE_free(q);
}

static void send_completes(port_context *port, const uint8_t id[PORT_ID_LEN])
{
	port_row p;
	int n = 0;
	if (port_find(port->db, id, &p))
		return;
	port_device *list = port_devices(port->db, id, DEV_ATTACHED, &n);
	for (int i = 0; i < n; i++)
		send_complete(port, &p, &list[i]);
	free(list);
	port_row_clear(&p);
}

void port_complete_tick(port_context *port)
{
	port_each(port, PORT_IN, PORT_PROVISIONED, mark_attached);
	port_each(port, PORT_IN, PORT_PROVISIONED, send_completes);
}
