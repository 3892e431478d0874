/*
 * A network function's own signing identity (an operator's DPF, the registration operator's DRF):
 * a P-256 key generated in the daemon on first start and kept sealed in its database, certified
 * by the agency over the protocol exactly as a TRE is (enrolRequest with the CSR, the enrolment
 * secret and the function's CertProfile; docs/pki.md), and the agency's hierarchy and CRL to
 * check the certificates of others against.
 *
 * The private key never leaves this module: callers sign with m2m_identity_sign*. The CRL is
 * fetched from the agency (crlRequest) at start and again every refresh period, so revocations
 * reach every relying party.
 *
 * Settings it reads from the role's group (m2m_identity_configure): agency, enrolment_secret_file
 * (hex, like the TRE's), root_certificate (PEM), and the role's storage_key_file (the caller's).
 */
#ifndef M2M_DAEMON_IDENTITY_H
#define M2M_DAEMON_IDENTITY_H

#include "daemon/daemon.h"
#include "pki/pki.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct m2m_identity m2m_identity;

/* The settings part, read in the role's configure (problems to c). profile: m2m_cert_profile. */
typedef struct m2m_identity_settings {
	char agency[M2M_ENTITY_MAX + 1];
	uint8_t enrolment_secret[64];
	size_t enrolment_secret_len;
	X509 *root;              /* owned */
	int profile;
	int crl_refresh_seconds; /* default 60 */
} m2m_identity_settings;

/* Reads agency, enrolment_secret_file, root_certificate and optional crl_refresh_seconds from
 * group. The caller lists these names among its group's allowed settings (M2M_IDENTITY_SETTINGS). */
void m2m_identity_configure(m2m_conf *c, config_setting_t *group, int profile, m2m_identity_settings *out);
#define M2M_IDENTITY_SETTINGS "agency", "enrolment_secret_file", "root_certificate", "crl_refresh_seconds"
void m2m_identity_settings_clear(m2m_identity_settings *s);

/* Opens (or creates, sealed under storage_key) the key in db; takes over s->root. NULL on
 * failure (logged). Its tables are M2M_IDENTITY_SCHEMA: put it in the role's schema. */
m2m_identity *m2m_identity_open(sqlite3 *db, const uint8_t storage_key[32], const char *entity,
				m2m_identity_settings *s);
#define M2M_IDENTITY_SCHEMA                                                                      \
	"CREATE TABLE identity_key (id INTEGER PRIMARY KEY CHECK (id = 1), sealed BLOB NOT NULL);" \
	"CREATE TABLE identity_chain (pos INTEGER PRIMARY KEY, der BLOB NOT NULL);"
void m2m_identity_free(m2m_identity *id);

/* From the role's tick: enrols when not enrolled, refreshes the CRL when due (one call in flight
 * at a time, retried after a refusal or a timeout). */
void m2m_identity_tick(m2m_identity *id, m2m_node *n);

/* Enrolled: holds a certificate for its key, checked against the root. */
int m2m_identity_ready(const m2m_identity *id);
X509 *m2m_identity_cert(const m2m_identity *id);           /* NULL until ready */
STACK_OF(X509) *m2m_identity_chain(const m2m_identity *id); /* issuing CA first */

/* A trust store for checking others: the root, the issuing CA, and the latest CRL held. Owned by
 * the identity; valid until the next m2m_identity_tick. */
m2m_trust *m2m_identity_trust(m2m_identity *id);

/* CMS SignedData (m2m_cms_sign / m2m_cms_sign_item) with the identity's key and certificate,
 * the issuing CA included. -1 when not ready. */
int m2m_identity_sign(m2m_identity *id, const uint8_t *content, size_t len, uint8_t **der, size_t *derlen);
int m2m_identity_sign_item(m2m_identity *id, const ASN1_ITEM *item, const void *value, M2M_SIGNED_OBJECT *so);

/* Opens a CMS AuthEnvelopedData that another party encrypted to the identity's certificate
 * (m2m_cms_decrypt with its key, which stays here): an operator's PortTransfer package. The
 * reasons of m2m_cms_decrypt; internalError when not ready. */
m2m_reason m2m_identity_decrypt(m2m_identity *id, const uint8_t *der, size_t len, uint8_t **content, size_t *clen);

#endif
