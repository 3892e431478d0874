/*
 * A network function's signing identity (identity.h): the key sealed in the role's database,
 * the certificate the agency issued for it over the protocol, and the agency's hierarchy and CRL
 * to check others against. The procedure is the TRE's (tre/enrol.c) for a function's profile:
 *   enrolRequest {csr (CN = entity id), authorisation, profile} -> enrolResponse {certificate, chain}
 *   crlRequest NULL -> crlResponse {crl}, at start and every crl_refresh_seconds
 * An answer is kept only when it certifies this key under this name and profile and chains to
 * the root the function was given.
 */
#include "daemon/identity.h"

#include "crypto/crypto.h"
#include "log/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEY_AAD "identity_key"    /* associated data of the sealed key: its row */
#define KEY_DER_MAX 512           /* PKCS#8 of a P-256 key is about 140 bytes */
#define CHAIN_MAX 4               /* EnrolResponse.chain: issuing CA, root */
#define RETRY_SECONDS 5           /* after a refusal: no loop of requests the agency refuses */
#define SECRET_MIN 16             /* EnrolRequest.authorisation (SIZE (16..64)) */

/* One background call: enrolment, or the CRL. */
typedef struct pending {
	int in_flight;
	time_t due;  /* monotonic seconds; 0: at once */
} pending;

struct m2m_identity {
	sqlite3 *db;
	uint8_t storage_key[32];
	char entity[M2M_ENTITY_MAX + 1];
	m2m_identity_settings s;
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;  /* as the agency sent it: issuing CA first */
	STACK_OF(X509) *extra;  /* the chain without the root: what signatures carry */
	m2m_trust *trust;
	pending enrol, crl;
};

static time_t monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- settings ----------------------------------------------------------------------------- */

void m2m_identity_configure(m2m_conf *c, config_setting_t *group, int profile, m2m_identity_settings *out)
{
	memset(out, 0, sizeof *out);
	out->profile = profile;
	if (!group)
		return;  /* the role reports its missing group */
	m2m_conf_peer(c, group, "agency", NULL, 1, out->agency);
	long n = m2m_conf_secret_file(c, group, "enrolment_secret_file", out->enrolment_secret, SECRET_MIN,
				      sizeof out->enrolment_secret);
	out->enrolment_secret_len = n > 0 ? (size_t)n : 0;
	const char *root = m2m_conf_str(c, group, "root_certificate", NULL, 1);
	if (root && !(out->root = m2m_pki_cert_read_pem(root)))
		m2m_conf_fail(c, config_setting_get_member(group, "root_certificate"), "%s is not a PEM certificate",
			      root);
	out->crl_refresh_seconds = (int)m2m_conf_int(c, group, "crl_refresh_seconds", 60, 1, 86400, 0);
}

void m2m_identity_settings_clear(m2m_identity_settings *s)
{
	X509_free(s->root);
	m2m_wipe(s, sizeof *s);
}

/* ---- the key, sealed in the database --------------------------------------------------------- */

static int store_key(m2m_identity *id)
{
	uint8_t *der = NULL, sealed[KEY_DER_MAX + M2M_SEAL_OVERHEAD];
	size_t len = 0;
	int rc = m2m_pki_key_der(id->key, &der, &len) || len > KEY_DER_MAX ||
		 m2m_seal(id->storage_key, KEY_AAD, strlen(KEY_AAD), der, len, sealed);
	OPENSSL_clear_free(der, len);
	if (rc)
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(id->db, "INSERT INTO identity_key (id, sealed) VALUES (1, ?1)");
	if (st)
		sqlite3_bind_blob(st, 1, sealed, (int)(len + M2M_SEAL_OVERHEAD), SQLITE_TRANSIENT);
	return m2m_store_run(id->db, st);
}

/* 0 loaded, 1 none stored yet, -1 when the stored one does not open (another storage key). */
static int load_key(m2m_identity *id)
{
	sqlite3_stmt *st = m2m_store_prepare(id->db, "SELECT sealed FROM identity_key WHERE id = 1");
	int rc = st ? 1 : -1;
	if (st && sqlite3_step(st) == SQLITE_ROW) {
		uint8_t der[KEY_DER_MAX];
		int n = sqlite3_column_bytes(st, 0);
		rc = n > M2M_SEAL_OVERHEAD && n <= KEY_DER_MAX + M2M_SEAL_OVERHEAD &&
				     !m2m_unseal(id->storage_key, KEY_AAD, strlen(KEY_AAD), sqlite3_column_blob(st, 0),
						 (size_t)n, der)
			     ? 0
			     : -1;
		if (!rc && !(id->key = m2m_pki_key_from_der(der, (size_t)n - M2M_SEAL_OVERHEAD)))
			rc = -1;
		m2m_wipe(der, sizeof der);
	}
	sqlite3_finalize(st);
	if (rc < 0)
		m2m_error("the identity key does not open with this storage key");
	return rc;
}

static int open_key(m2m_identity *id)
{
	int rc = load_key(id);
	if (rc <= 0)
		return rc;
	if (!(id->key = m2m_pki_keygen()) || store_key(id))
		return -1;
	m2m_info("identity key pair generated (P-256), stored sealed");
	return 0;
}

/* ---- the certificate chain --------------------------------------------------------------------- */

/* Whether cert is ours (name and key) and valid under the root and the chain, of our profile. */
static m2m_reason check_cert(m2m_identity *id, X509 *cert, STACK_OF(X509) *chain, char *why, size_t len)
{
	char cn[64] = "";
	m2m_trust *t = m2m_trust_new(id->s.root);
	for (int i = 0; t && i < sk_X509_num(chain); i++)
		if (X509_cmp(sk_X509_value(chain, i), id->s.root))
			m2m_trust_add_intermediate(t, sk_X509_value(chain, i));
	m2m_reason r = t ? m2m_trust_verify(t, cert, id->s.profile) : M2M_R_INTERNAL;
	m2m_trust_free(t);
	if (r != M2M_OK)
		snprintf(why, len, "the certificate does not verify against the root as %s: %s",
			 m2m_pki_profile_name(id->s.profile), m2m_reason_name(r));
	else if (m2m_pki_cert_cn(cert, cn, sizeof cn) || strcmp(cn, id->entity))
		snprintf(why, len, "the certificate names %s, not %s", cn, id->entity), r = M2M_R_BAD_BODY;
	else if (EVP_PKEY_eq(X509_get0_pubkey(cert), id->key) != 1)
		snprintf(why, len, "the certificate is for another key"), r = M2M_R_BAD_BODY;
	return r;
}

/* Takes cert and chain over as the identity's own; the trust store learns the issuing CA. */
static void adopt(m2m_identity *id, X509 *cert, STACK_OF(X509) *chain)
{
	id->cert = cert;
	id->chain = chain;
	id->extra = sk_X509_new_null();
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		if (X509_cmp(x, id->s.root) && !m2m_trust_add_intermediate(id->trust, x))
			sk_X509_push(id->extra, x);
	}
}

static int store_cert(m2m_identity *id, int pos, X509 *x)
{
	uint8_t *der = NULL;
	size_t len = 0;
	if (m2m_pki_cert_der(x, &der, &len))
		return -1;
	sqlite3_stmt *st = m2m_store_prepare(id->db, "INSERT INTO identity_chain (pos, der) VALUES (?1, ?2)");
	if (st) {
		sqlite3_bind_int(st, 1, pos);
		sqlite3_bind_blob(st, 2, der, (int)len, SQLITE_TRANSIENT);
	}
	OPENSSL_free(der);
	return m2m_store_run(id->db, st);
}

static int store_chain(m2m_identity *id, X509 *cert, STACK_OF(X509) *chain)
{
	int rc = m2m_store_run(id->db, m2m_store_prepare(id->db, "DELETE FROM identity_chain")) || store_cert(id, 0, cert);
	for (int i = 0; !rc && i < sk_X509_num(chain); i++)
		rc = store_cert(id, i + 1, sk_X509_value(chain, i));
	return rc;
}

/* The stored chain, re-checked (it may have expired): kept, or dropped for a new enrolment. */
static int load_chain(m2m_identity *id)
{
	sqlite3_stmt *st = m2m_store_prepare(id->db, "SELECT pos, der FROM identity_chain ORDER BY pos");
	X509 *cert = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	int bad = !st || !chain;
	while (!bad && sqlite3_step(st) == SQLITE_ROW) {  /* position 0, the certificate, comes first */
		X509 *x = m2m_pki_cert_from_der(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		if (!x || (!cert && sqlite3_column_int(st, 0) != 0))
			bad = 1;
		else if (!cert)
			x = (cert = x, NULL);
		else if (!sk_X509_push(chain, x))
			bad = 1;
		else
			x = NULL;
		X509_free(x);
	}
	sqlite3_finalize(st);
	char why[300];
	if (!bad && cert && check_cert(id, cert, chain, why, sizeof why) == M2M_OK) {
		adopt(id, cert, chain);
		return 0;
	}
	if (cert && !bad)
		m2m_warn("the stored certificate is no longer usable (%s): enrolling again", why);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	if (bad)
		m2m_error("the stored certificate chain is not readable");
	return bad ? -1 : 0;
}

/* ---- open and close ----------------------------------------------------------------------------- */

m2m_identity *m2m_identity_open(sqlite3 *db, const uint8_t storage_key[32], const char *entity,
				m2m_identity_settings *s)
{
	m2m_identity *id = calloc(1, sizeof *id);
	if (!id)
		return NULL;
	id->db = db;
	memcpy(id->storage_key, storage_key, sizeof id->storage_key);
	snprintf(id->entity, sizeof id->entity, "%s", entity);
	id->s = *s;
	s->root = NULL;  /* ours now */
	if (!id->s.crl_refresh_seconds)
		id->s.crl_refresh_seconds = 60;
	if (!id->s.root || !(id->trust = m2m_trust_new(id->s.root)) || open_key(id) || load_chain(id)) {
		m2m_error("the signing identity of %s cannot be opened", entity);
		m2m_identity_free(id);
		return NULL;
	}
	if (id->cert)
		m2m_info("signing identity of %s: certified as %s", entity, m2m_pki_profile_name(id->s.profile));
	return id;
}

void m2m_identity_free(m2m_identity *id)
{
	if (!id)
		return;
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	sk_X509_pop_free(id->chain, X509_free);
	sk_X509_free(id->extra);  /* its members belong to chain */
	m2m_trust_free(id->trust);
	m2m_identity_settings_clear(&id->s);
	m2m_wipe(id->storage_key, sizeof id->storage_key);
	free(id);
}

/* ---- enrolment ---------------------------------------------------------------------------------- */

static void retry_later(pending *p, int waited)
{
	p->in_flight = 0;
	p->due = waited ? 0 : monotonic() + RETRY_SECONDS;  /* a timeout has waited already */
}

static m2m_reason accept_enrolment(m2m_identity *id, const M2M_ENROL_RESPONSE *r, char *why, size_t len)
{
	const ASN1_OCTET_STRING *c = r->certificate;
	X509 *cert = m2m_pki_cert_from_der(ASN1_STRING_get0_data(c), (size_t)ASN1_STRING_length(c));
	STACK_OF(X509) *chain = m2m_pki_chain_from_der(r->chain, CHAIN_MAX);
	m2m_reason rc = M2M_R_BAD_BODY;
	if (!cert || !chain)
		snprintf(why, len, "the certificate or its chain (1..%d) is not DER", CHAIN_MAX);
	else if ((rc = check_cert(id, cert, chain, why, len)) == M2M_OK && store_chain(id, cert, chain))
		snprintf(why, len, "the certificate could not be stored"), rc = M2M_R_INTERNAL;
	if (rc == M2M_OK) {
		adopt(id, cert, chain);
		return rc;
	}
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

static void on_enrolled(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2m_identity *id = arg;
	char why[300];
	m2m_reason r = M2M_R_UNEXPECTED_MESSAGE;
	if (resp && resp->type == M2M_MSG_ENROL_RESPONSE)
		r = accept_enrolment(id, resp->body, why, sizeof why);
	else
		m2m_call_failure(id->s.agency, resp, reason, why, sizeof why);
	if (r != M2M_OK) {
		m2m_warn("enrolment of %s not done: %s; retrying", id->entity, why);
		retry_later(&id->enrol, !resp);
		return;
	}
	id->enrol.in_flight = 0;
	id->crl.due = 0;  /* the CRL can be checked now that the issuing CA is known */
	m2m_info("enrolled with %s: certificate for %s as %s", id->s.agency, id->entity,
		 m2m_pki_profile_name(id->s.profile));
	m2m_identity_tick(id, n);
}

static M2M_ENROL_REQUEST *enrol_body(m2m_identity *id)
{
	uint8_t *csr = NULL;
	size_t len = 0;
	M2M_ENROL_REQUEST *q = m2m_pki_csr(id->key, id->entity, &csr, &len) ? NULL : M2M_ENROL_REQUEST_new();
	if (q && !(ASN1_OCTET_STRING_set(q->csr, csr, (int)len) &&
		   ASN1_OCTET_STRING_set(q->authorisation, id->s.enrolment_secret, (int)id->s.enrolment_secret_len) &&
		   ASN1_ENUMERATED_set(q->profile, id->s.profile))) {
		M2M_ENROL_REQUEST_free(q);
		q = NULL;
	}
	OPENSSL_free(csr);
	return q;
}

static void enrol(m2m_identity *id, m2m_node *n)
{
	M2M_ENROL_REQUEST *q = enrol_body(id);
	id->enrol.in_flight = q && !m2m_call(n, id->s.agency, M2M_MSG_ENROL_REQUEST, q, on_enrolled, id);
	if (!id->enrol.in_flight)
		retry_later(&id->enrol, 0);
	if (q)  /* the secret travels in this one message only: wipe our copy of the body */
		OPENSSL_cleanse(q->authorisation->data, (size_t)q->authorisation->length);
	M2M_ENROL_REQUEST_free(q);
}

/* ---- the CRL ------------------------------------------------------------------------------------ */

static void on_crl(m2m_node *n, const m2m_envelope *resp, m2m_reason reason, void *arg)
{
	m2m_identity *id = arg;
	char why[300];
	m2m_reason r = M2M_R_UNEXPECTED_MESSAGE;
	if (resp && resp->type == M2M_MSG_CRL_RESPONSE) {
		const ASN1_OCTET_STRING *crl = ((const M2M_CRL_RESPONSE *)resp->body)->crl;
		r = m2m_trust_set_crl(id->trust, ASN1_STRING_get0_data(crl), (size_t)ASN1_STRING_length(crl));
		r = r == M2M_R_REPLAYED ? M2M_OK : r;  /* not newer than ours: ours stays */
		snprintf(why, sizeof why, "the CRL of %s is refused: %s", id->s.agency, m2m_reason_name(r));
	} else {
		m2m_call_failure(id->s.agency, resp, reason, why, sizeof why);
	}
	if (r != M2M_OK) {
		m2m_warn("%s; retrying", why);
		retry_later(&id->crl, !resp);
		return;
	}
	id->crl.in_flight = 0;
	id->crl.due = monotonic() + id->s.crl_refresh_seconds;
	m2m_debug("CRL %llu of %s held", (unsigned long long)m2m_trust_crl_number(id->trust), id->s.agency);
}

static void fetch_crl(m2m_identity *id, m2m_node *n)
{
	ASN1_NULL *nothing = ASN1_NULL_new();
	id->crl.in_flight = nothing && !m2m_call(n, id->s.agency, M2M_MSG_CRL_REQUEST, nothing, on_crl, id);
	if (!id->crl.in_flight)
		retry_later(&id->crl, 0);
	ASN1_NULL_free(nothing);
}

void m2m_identity_tick(m2m_identity *id, m2m_node *n)
{
	if (!id || !n)
		return;
	time_t now = monotonic();
	if (!id->cert && !id->enrol.in_flight && id->enrol.due <= now)
		enrol(id, n);
	else if (id->cert && !id->crl.in_flight && id->crl.due <= now)
		fetch_crl(id, n);
}

/* ---- use ---------------------------------------------------------------------------------------- */

int m2m_identity_ready(const m2m_identity *id)
{
	return id && id->cert != NULL;
}

X509 *m2m_identity_cert(const m2m_identity *id)
{
	return id ? id->cert : NULL;
}

STACK_OF(X509) *m2m_identity_chain(const m2m_identity *id)
{
	return id && id->cert ? id->chain : NULL;
}

m2m_trust *m2m_identity_trust(m2m_identity *id)
{
	return id ? id->trust : NULL;
}

int m2m_identity_sign(m2m_identity *id, const uint8_t *content, size_t len, uint8_t **der, size_t *derlen)
{
	if (!m2m_identity_ready(id))
		return -1;
	return m2m_cms_sign(id->key, id->cert, id->extra, content, len, der, derlen);
}

int m2m_identity_sign_item(m2m_identity *id, const ASN1_ITEM *item, const void *value, M2M_SIGNED_OBJECT *so)
{
	if (!m2m_identity_ready(id))
		return -1;
	return m2m_cms_sign_item(id->key, id->cert, id->extra, item, value, so);
}

m2m_reason m2m_identity_decrypt(m2m_identity *id, const uint8_t *der, size_t len, uint8_t **content, size_t *clen)
{
	if (!m2m_identity_ready(id))
		return M2M_R_INTERNAL;
	return m2m_cms_decrypt(id->key, id->cert, der, len, content, clen);
}
