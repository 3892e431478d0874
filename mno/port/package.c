/*
 * The transfer package (TR 33.812 5.4.1 step 5, threat T-3a-1): PortCredentials {portId, A, B,
 * per card: iccid, oldImsi, newImsi, K, OPc, SQN, the card's OTA keysets with their counters},
 * signed by A's identity (CMS SignedData: B checks it comes from A, unchanged) and encrypted to
 * B's certificate (CMS AuthEnvelopedData, AES-256-GCM, ECDH to B's key: nobody else opens it).
 * The clear DER, which holds every K, is wiped as soon as it is signed.
 *
 * A hands over counters above its own: SQN = SEQ_HE + PORT_SEQ_RESERVE (in SEQ units, IND kept)
 * and each keyset's CNTR + PORT_COUNTER_RESERVE, because A still authenticates the device and
 * sends the rewrite under these keys after the transfer: B's first vector and first packet are
 * then newer than anything A sends meanwhile.
 */
#include "port/port_impl.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "ota/ota.h"
#include "pki/pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYSETS_MAX 15  /* PortCredential.keysets */

static int set_key(ASN1_OCTET_STRING *s, const m2m_ota_key *k)
{
	return ASN1_OCTET_STRING_set(s, k->key, (int)k->len) ? 0 : -1;
}

static M2M_OTA_KEYSET *keyset_message(const ota_card_keyset *c)
{
	M2M_OTA_KEYSET *k = M2M_OTA_KEYSET_new();
	if (!k || set_key(k->kic, &c->keys.kic) || set_key(k->kid, &c->keys.kid) || set_key(k->dek, &c->keys.dek) ||
	    !ASN1_OCTET_STRING_set(k->tar, c->tar, 3)) {
		M2M_OTA_KEYSET_free(k);
		return NULL;
	}
	k->kvn = c->keys.kvn;
	k->kic_alg = c->keys.kic.alg;
	k->kid_alg = c->keys.kid.alg;
	k->counter = c->counter + PORT_COUNTER_RESERVE;
	return k;
}

static int add_keysets(port_context *port, const char *iccid, M2M_PORT_CREDENTIAL *c)
{
	ota_card_keyset ks[KEYSETS_MAX];
	size_t n = 0;
	int rc = ota_keyset_list(port->db, port->hss->settings.storage_key, iccid, ks, KEYSETS_MAX, &n) || n < 1;
	for (size_t i = 0; i < n && !rc; i++) {
		M2M_OTA_KEYSET *k = keyset_message(&ks[i]);
		rc = !k || !sk_M2M_OTA_KEYSET_push(c->keysets, k);
		if (rc)
			M2M_OTA_KEYSET_free(k);
	}
	m2m_wipe(ks, sizeof ks);
	return rc ? -1 : 0;
}

/* The SQN B's AuC starts from: A's counter moved PORT_SEQ_RESERVE SEQ values on. */
static uint64_t sqn_for_b(const m2m_sqn_he *he)
{
	return (he->seq_he + PORT_SEQ_RESERVE) << he->p.ind_bits | he->ind_he;
}

static M2M_PORT_CREDENTIAL *credential(port_context *port, const port_device *d, char *why, size_t len)
{
	hss_subscriber s;
	M2M_PORT_CREDENTIAL *c = M2M_PORT_CREDENTIAL_new();
	int rc = !c || hss_subscriber_load(port->db, port->hss->settings.storage_key, d->old_imsi, &s);
	if (!rc && (!s.has_keys || s.state == HSS_DELETED))
		rc = -1;
	if (!rc)
		rc = m2m_set_digits(&c->iccid, d->iccid) || m2m_set_digits(&c->old_imsi, d->old_imsi) ||
		     m2m_set_digits(&c->new_imsi, d->new_imsi) || !ASN1_OCTET_STRING_set(c->k, s.k, sizeof s.k) ||
		     !ASN1_OCTET_STRING_set(c->opc, s.opc, sizeof s.opc) || add_keysets(port, d->iccid, c);
	if (!rc)
		c->sqn = sqn_for_b(&s.sqn);
	hss_subscriber_wipe(&s);
	if (rc) {
		snprintf(why, len, "the credentials of card ICCID %s cannot be read", d->iccid);
		M2M_PORT_CREDENTIAL_free(c);
		return NULL;
	}
	return c;
}

/* Frees a PortCredentials after wiping the keys it holds. */
static void credentials_free(M2M_PORT_CREDENTIALS *pc)
{
	for (int i = 0; pc && i < sk_M2M_PORT_CREDENTIAL_num(pc->credentials); i++) {
		M2M_PORT_CREDENTIAL *c = sk_M2M_PORT_CREDENTIAL_value(pc->credentials, i);
		OPENSSL_cleanse(c->k->data, (size_t)c->k->length);
		OPENSSL_cleanse(c->opc->data, (size_t)c->opc->length);
		for (int j = 0; j < sk_M2M_OTA_KEYSET_num(c->keysets); j++) {
			M2M_OTA_KEYSET *k = sk_M2M_OTA_KEYSET_value(c->keysets, j);
			OPENSSL_cleanse(k->kic->data, (size_t)k->kic->length);
			OPENSSL_cleanse(k->kid->data, (size_t)k->kid->length);
			OPENSSL_cleanse(k->dek->data, (size_t)k->dek->length);
		}
	}
	M2M_PORT_CREDENTIALS_free(pc);
}

static M2M_PORT_CREDENTIALS *credentials(port_context *port, const port_row *p, char *why, size_t len)
{
	int n = 0;
	char id_hex[2 * PORT_ID_LEN + 1];
	port_device *list = port_devices(port->db, p->id, DEV_ACCEPTED, &n);
	M2M_PORT_CREDENTIALS *pc = n == p->devices ? M2M_PORT_CREDENTIALS_new() : NULL;
	int rc = !pc || !ASN1_OCTET_STRING_set(pc->port_id, p->id, PORT_ID_LEN) || m2m_set_str(pc->from_sho, port->entity) ||
		 m2m_set_str(pc->to_sho, p->peer);
	if (!pc)
		snprintf(why, len, "the port's cards cannot be read");
	m2m_hex(p->id, PORT_ID_LEN, id_hex);
	for (int i = 0; i < n && !rc; i++) {
		M2M_PORT_CREDENTIAL *c = credential(port, &list[i], why, len);
		rc = !c || !sk_M2M_PORT_CREDENTIAL_push(pc->credentials, c);
		if (rc)
			M2M_PORT_CREDENTIAL_free(c);
		else if ((i + 1) % PORT_PROGRESS == 0)
			m2m_info("port %s: %d of %d cards packaged", id_hex, i + 1, n);
	}
	free(list);
	if (rc) {
		credentials_free(pc);
		return NULL;
	}
	return pc;
}

m2m_reason port_package(port_context *port, const port_row *p, uint8_t **package, size_t *len, char *why,
			size_t wlen)
{
	M2M_PORT_CREDENTIALS *pc = credentials(port, p, why, wlen);
	X509 *b = m2m_pki_cert_from_der(p->certificate, p->certificate_len);
	uint8_t *der = NULL, *sd = NULL, *pkg = NULL;
	size_t sdlen = 0, pkglen = 0;
	int read = pc != NULL, derlen = pc ? i2d_M2M_PORT_CREDENTIALS(pc, &der) : -1;
	credentials_free(pc);
	*package = NULL;
	int rc = derlen <= 0 || !b || m2m_identity_sign(port->id, der, (size_t)derlen, &sd, &sdlen) ||
		 m2m_cms_encrypt(b, sd, sdlen, &pkg, &pkglen) || !(*package = malloc(pkglen));
	if (!rc) {
		memcpy(*package, pkg, pkglen);
		*len = pkglen;
	} else if (read)
		snprintf(why, wlen, "the package for %s cannot be signed and encrypted", p->peer);
	if (der)
		OPENSSL_clear_free(der, (size_t)derlen);
	OPENSSL_clear_free(sd, sdlen);
	OPENSSL_free(pkg);
	X509_free(b);
	return rc ? M2M_R_INTERNAL : M2M_OK;
}
