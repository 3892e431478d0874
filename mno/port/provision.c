/*
 * portTransfer at the new operator B (docs/alt3a.md step 5, threat T-3a-1): A's package is opened
 * with B's identity key (CMS AuthEnvelopedData), its SignedData checked (A's operatorFunction
 * certificate, chained to the agency's root, naming the sender) and its PortCredentials decoded
 * strictly. Then, in this one step, every card's pending record takes its K, OPc and SQN_HE (served
 * from now, active at the first attach: hss/first_attach.h), its OTA keysets go to B's OTA server
 * with their counters, and the port becomes provisioned; the answer is portTransferAck {portId,
 * provisioned}. The same package again gets the same answer (A resends after a lost answer).
 * Refusals, which change nothing:
 *
 *   badBody        the fields break the module's sizes; the package, or what it holds, is not DER
 *                  of what it must be; a keyset's keys are not ones the OTA server uses;
 *   notFound       no port of B with that portId;
 *   notAuthorised  the sender is not the port's old operator; the package does not open with B's
 *                  key (encrypted to another, or altered: AES-GCM cannot tell which); it moves the
 *                  cards from another operator or to another one; a card or IMSI is not as B
 *                  allocated it;
 *   badSignature   the inner signature does not verify, or is not A's operatorFunction's;
 *   replayed       the port is provisioned already, from another package, or the package is
 *                  another port's;
 *   wrongState     B gave the port up (refused).
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "hss/first_attach.h"
#include "log/log.h"
#include "ota/ota.h"
#include "pki/pki.h"
#include "wire/read.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct transfer {
	port_row p;
	port_device *devices;  /* as B allocated them */
	int n;
	uint8_t digest[SHA256_DIGEST_LENGTH];  /* of the package */
	M2M_PORT_CREDENTIALS *pc;
} transfer;

static m2m_reason refusal(char *why, size_t len, m2m_reason r, const char *text)
{
	snprintf(why, len, "%s", text);
	return r;
}

/* ---- the port --------------------------------------------------------------------------------------- */

static m2m_reason find_port(port_context *port, const char *sender, const M2M_PORT_TRANSFER *q, transfer *t, char *why,
			    size_t len)
{
	uint8_t id[PORT_ID_LEN];
	int n = ASN1_STRING_length(q->package);
	if (m2m_read_octets(q->port_id, id, PORT_ID_LEN) || n < 1)
		return refusal(why, len, M2M_R_BAD_BODY, "portTransfer needs a 16-octet portId and a package");
	SHA256(ASN1_STRING_get0_data(q->package), (size_t)n, t->digest);
	int rc = port_find(port->db, id, &t->p);
	if (rc < 0)
		return refusal(why, len, M2M_R_INTERNAL, "the ports cannot be read");
	if (rc > 0 || t->p.side != PORT_IN)
		return refusal(why, len, M2M_R_NOT_FOUND, "no such port to this operator");
	if (strcmp(t->p.peer, sender)) {
		snprintf(why, len, "the port is from %s, not from %s", t->p.peer, sender);
		return M2M_R_NOT_AUTHORISED;
	}
	return M2M_OK;
}

/* A port that is past its transfer: the same package gets the same answer, another is a replay. */
static m2m_reason transferred_already(const transfer *t, char *why, size_t len)
{
	if (t->p.state == PORT_REFUSED || t->p.state == PORT_FAILED)
		return refusal(why, len, M2M_R_WRONG_STATE, t->p.state == PORT_REFUSED
								    ? "this operator gave the port up (refused)"
								    : "this operator gave the port up (no transfer in time)");
	if (t->p.package_len == sizeof t->digest && !memcmp(t->p.package, t->digest, sizeof t->digest))
		return M2M_OK;
	return refusal(why, len, M2M_R_REPLAYED, "the port is provisioned already, from another package");
}

/* ---- the package -------------------------------------------------------------------------------- */

static M2M_PORT_CREDENTIALS *decode_strict(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	M2M_PORT_CREDENTIALS *pc = len <= M2M_MAX_MESSAGE ? d2i_M2M_PORT_CREDENTIALS(NULL, &p, (long)len) : NULL;
	unsigned char *again = NULL;
	int n = pc && p == der + len ? i2d_M2M_PORT_CREDENTIALS(pc, &again) : -1;
	int ok = n >= 0 && (size_t)n == len && !memcmp(again, der, len);
	OPENSSL_clear_free(again, n > 0 ? (size_t)n : 0);
	if (!ok) {
		M2M_PORT_CREDENTIALS_free(pc);
		return NULL;
	}
	return pc;
}

/* The SignedData by A's operatorFunction identity, chained to the agency's root. */
static m2m_reason check_signer(port_context *port, const transfer *t, const uint8_t *sd, size_t sdlen,
			       uint8_t **content, size_t *clen, char *why, size_t len)
{
	X509 *signer = NULL;
	char cn[M2M_ENTITY_MAX + 1] = "";
	m2m_reason r = m2m_cms_verify(m2m_identity_trust(port->id), sd, sdlen, content, clen, &signer);
	if (r == M2M_R_MALFORMED)
		return refusal(why, len, M2M_R_BAD_BODY, "the package holds no SignedData");
	if (r != M2M_OK) {
		snprintf(why, len, "the package's signature does not verify to the agency's root (%s)", m2m_reason_name(r));
		return M2M_R_BAD_SIGNATURE;
	}
	if (m2m_pki_cert_cn(signer, cn, sizeof cn) || strcmp(cn, t->p.peer) ||
	    m2m_pki_cert_profile(signer) != M2M_PROFILE_OPERATOR_FUNCTION) {
		snprintf(why, len, "the package is signed by %s, not by the operatorFunction of %s", cn, t->p.peer);
		r = M2M_R_BAD_SIGNATURE;
		OPENSSL_clear_free(*content, *clen);
		*content = NULL;
	}
	X509_free(signer);
	return r;
}

static m2m_reason open_package(port_context *port, const M2M_PORT_TRANSFER *q, transfer *t, char *why, size_t len)
{
	uint8_t *sd = NULL, *content = NULL;
	size_t sdlen = 0, clen = 0;
	m2m_reason r = m2m_identity_decrypt(port->id, ASN1_STRING_get0_data(q->package),
					    (size_t)ASN1_STRING_length(q->package), &sd, &sdlen);
	if (r == M2M_R_MALFORMED)
		return refusal(why, len, M2M_R_BAD_BODY, "the package is not a CMS AuthEnvelopedData");
	if (r != M2M_OK)
		return refusal(why, len, r == M2M_R_INTERNAL ? r : M2M_R_NOT_AUTHORISED,
			       "the package does not open with this operator's key: encrypted to another, or altered");
	r = check_signer(port, t, sd, sdlen, &content, &clen, why, len);
	if (r == M2M_OK && !(t->pc = decode_strict(content, clen)))
		r = refusal(why, len, M2M_R_BAD_BODY, "the signed content is not DER of PortCredentials");
	OPENSSL_clear_free(sd, sdlen);
	OPENSSL_clear_free(content, clen);
	return r;
}

/* ---- what it holds ----------------------------------------------------------------------------- */

static m2m_reason check_header(port_context *port, const transfer *t, char *why, size_t len)
{
	uint8_t id[PORT_ID_LEN];
	char from[M2M_ENTITY_MAX + 1], to[M2M_ENTITY_MAX + 1];
	if (m2m_read_octets(t->pc->port_id, id, PORT_ID_LEN) || m2m_read_name(t->pc->from_sho, from, M2M_ENTITY_MAX) ||
	    m2m_read_name(t->pc->to_sho, to, M2M_ENTITY_MAX))
		return refusal(why, len, M2M_R_BAD_BODY, "PortCredentials needs a 16-octet portId, fromSho and toSho");
	if (memcmp(id, t->p.id, PORT_ID_LEN))
		return refusal(why, len, M2M_R_REPLAYED, "the package is another port's");
	if (strcmp(from, t->p.peer) || strcmp(to, port->entity)) {
		snprintf(why, len, "the package moves the cards from %s to %s", from, to);
		return M2M_R_NOT_AUTHORISED;
	}
	if (sk_M2M_PORT_CREDENTIAL_num(t->pc->credentials) != t->n)
		return refusal(why, len, M2M_R_NOT_AUTHORISED, "the package does not hold every card of the port");
	return M2M_OK;
}

/* A keyset as the OTA server keeps it. The DEK's algorithm is the KIc's (OtaKeyset names none). */
static int read_key(const ASN1_OCTET_STRING *s, uint64_t alg, m2m_ota_key *k)
{
	int n = ASN1_STRING_length(s);
	if (n < 16 || n > M2M_OTA_KEY_MAX || alg > 15)
		return -1;
	k->alg = (uint8_t)alg;
	k->len = (size_t)n;
	memcpy(k->key, ASN1_STRING_get0_data(s), (size_t)n);
	return 0;
}

static int read_keyset(const M2M_OTA_KEYSET *w, ota_card_keyset *k)
{
	memset(k, 0, sizeof *k);
	k->keys.kvn = (uint8_t)w->kvn;
	k->counter = w->counter;
	return w->kvn < 1 || w->kvn > 15 || w->counter > M2M_OTA_CNTR_MAX || m2m_read_octets(w->tar, k->tar, 3) ||
		       read_key(w->kic, w->kic_alg, &k->keys.kic) || read_key(w->kid, w->kid_alg, &k->keys.kid) ||
		       read_key(w->dek, w->kic_alg, &k->keys.dek) || m2m_ota_key_valid(&k->keys.kic, 0) ||
		       m2m_ota_key_valid(&k->keys.kid, 1)
		       ? -1
		       : 0;
}

/* The card B allocated for this credential: its index, or -1. */
static int allocated(const transfer *t, const char *iccid, const char *new_imsi)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->devices[i].iccid, iccid))
			return strcmp(t->devices[i].new_imsi, new_imsi) ? -1 : i;
	return -1;
}

/* One card: its record served, its keysets stored; the old IMSI noted. */
static m2m_reason take_card(port_context *port, transfer *t, const M2M_PORT_CREDENTIAL *c, char *why, size_t len)
{
	char iccid[HSS_ICCID_MAX + 1], old_imsi[HSS_IMSI_MAX + 1], new_imsi[HSS_IMSI_MAX + 1];
	uint8_t k[16], opc[16];
	int n = sk_M2M_OTA_KEYSET_num(c->keysets), at = -1;
	m2m_reason r = M2M_OK;
	if (m2m_digits(c->iccid, iccid, sizeof iccid, 18, HSS_ICCID_MAX) ||
	    m2m_digits(c->old_imsi, old_imsi, sizeof old_imsi, 6, HSS_IMSI_MAX) ||
	    m2m_digits(c->new_imsi, new_imsi, sizeof new_imsi, 6, HSS_IMSI_MAX) || m2m_read_octets(c->k, k, 16) ||
	    m2m_read_octets(c->opc, opc, 16) || c->sqn > M2M_SQN_MAX || n < 1 || n > 15)
		r = refusal(why, len, M2M_R_BAD_BODY, "a credential needs ICCID, IMSIs, a 16-octet K and OPc, a"
						      " 48-bit SQN and 1 to 15 keysets");
	else if ((at = allocated(t, iccid, new_imsi)) < 0 || t->devices[at].state != DEV_REQUESTED)
		r = refusal(why, len, M2M_R_NOT_AUTHORISED, "a card or its new IMSI is not one this operator allocated"
							    " (or it is named twice)");
	else if (hss_first_attach_await(port->db, port->hss->settings.storage_key, new_imsi, k, opc, c->sqn, t->p.peer,
					PORT_ACTOR, why, len) != HSS_DONE)
		r = M2M_R_INTERNAL;
	for (int i = 0; i < n && r == M2M_OK; i++) {
		ota_card_keyset ks;
		if (read_keyset(sk_M2M_OTA_KEYSET_value(c->keysets, i), &ks))
			r = refusal(why, len, M2M_R_BAD_BODY, "a keyset's version, TAR, keys or counter is not one the OTA"
							      " server uses");
		else if (ota_keyset_put(port->db, port->hss->settings.storage_key, iccid, &ks))
			r = refusal(why, len, M2M_R_INTERNAL, "the OTA keysets cannot be stored");
		m2m_wipe(&ks, sizeof ks);
	}
	if (r == M2M_OK && (port_device_set_old_imsi(port->db, t->p.id, iccid, old_imsi) ||
			    port_device_set(port->db, t->p.id, iccid, DEV_PROVISIONED, 0)))
		r = refusal(why, len, M2M_R_INTERNAL, "the port's cards cannot be stored");
	if (r == M2M_OK)
		t->devices[at].state = DEV_PROVISIONED;
	m2m_wipe(k, sizeof k);
	m2m_wipe(opc, sizeof opc);
	return r;
}

static m2m_reason provision(port_context *port, transfer *t, char *why, size_t len)
{
	char id_hex[2 * PORT_ID_LEN + 1];
	m2m_hex(t->p.id, PORT_ID_LEN, id_hex);
	m2m_reason r = check_header(port, t, why, len);
	for (int i = 0; i < t->n && r == M2M_OK; i++) {
		r = take_card(port, t, sk_M2M_PORT_CREDENTIAL_value(t->pc->credentials, i), why, len);
		if (r == M2M_OK && (i + 1) % PORT_PROGRESS == 0)
			m2m_info("port %s: %d of %d cards provisioned", id_hex, i + 1, t->n);
	}
	if (r == M2M_OK && port_set_package(port->db, t->p.id, PORT_PROVISIONED, t->digest, sizeof t->digest))
		r = refusal(why, len, M2M_R_INTERNAL, "the port cannot be stored");
	if (r == M2M_OK)
		m2m_info("port %s: %d card(s) from %s provisioned, pending until their first attach", id_hex, t->n,
			 t->p.peer);
	return r;
}

/* ---- the message ------------------------------------------------------------------------------- */

static void reply(port_context *port, m2m_request *req, const port_row *p)
{
	M2M_PORT_TRANSFER_ACK *a = M2M_PORT_TRANSFER_ACK_new();
	if (a && ASN1_OCTET_STRING_set(a->port_id, p->id, PORT_ID_LEN)) {
		a->provisioned = (uint64_t)p->devices;
		m2m_reply(port->node, req, M2M_MSG_PORT_TRANSFER_ACK, a);
	} else
		m2m_refuse(port->node, req, M2M_R_INTERNAL, "portTransferAck cannot be encoded");
	M2M_PORT_TRANSFER_ACK_free(a);
}

static void credentials_free(M2M_PORT_CREDENTIALS *pc)
{
	for (int i = 0; pc && i < sk_M2M_PORT_CREDENTIAL_num(pc->credentials); i++) {
		M2M_PORT_CREDENTIAL *c = sk_M2M_PORT_CREDENTIAL_value(pc->credentials, i);
		OPENSSL_cleanse(c->k->data, (size_t)c->k->length);
		OPENSSL_cleanse(c->opc->data, (size_t)c->opc->length);
	}
	M2M_PORT_CREDENTIALS_free(pc);
}

void port_transfer_in(port_context *port, m2m_request *req)
{
	const M2M_PORT_TRANSFER *q = req->env.body;
	transfer t;
	char why[300] = "";
	memset(&t, 0, sizeof t);
	m2m_reason r = find_port(port, req->env.sender, q, &t, why, sizeof why);
	int past = r == M2M_OK && t.p.state != PORT_REQUESTING && t.p.state != PORT_ACCEPTED;
	if (past)
		r = transferred_already(&t, why, sizeof why);
	if (r == M2M_OK && !past && !(t.devices = port_devices(port->db, t.p.id, -1, &t.n)))
		r = refusal(why, sizeof why, M2M_R_INTERNAL, "the port's cards cannot be read");
	if (r == M2M_OK && !past)
		r = open_package(port, q, &t, why, sizeof why);
	if (r == M2M_OK && !past)
		r = provision(port, &t, why, sizeof why);
	if (r == M2M_OK)
		reply(port, req, &t.p);
	else
		m2m_refuse(port->node, req, r, "transfer refused: %s", why);
	credentials_free(t.pc);
	free(t.devices);
	port_row_clear(&t.p);
}
