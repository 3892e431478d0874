/*
 * The agency's hierarchy (docs/pki.md): a root, one issuing CA, and the agency's own end-entity
 * certificate (profile pva), each key sealed in the database under the storage key. Created at
 * the first start, loaded at every later one; the root is written out for the relying parties.
 */
#include "authority.h"

#include "crypto/crypto.h"
#include "log/log.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY (24L * 3600)
#define ROOT_YEARS 20
#define ISSUING_YEARS 10

/* ---- sealed keys -------------------------------------------------------------------------- */

/* aad "certauth:ROLE": a sealed key is bound to its row and cannot be swapped with another. */
static void key_aad(const char *role, char *aad, size_t len)
{
	snprintf(aad, len, "certauth:%s", role);
}

static int store_role(ca_authority *a, const char *role, X509 *cert, EVP_PKEY *key)
{
	uint8_t *cder = NULL, *kder = NULL, *sealed = NULL;
	size_t clen = 0, klen = 0;
	char aad[32];
	key_aad(role, aad, sizeof aad);
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (!m2m_pki_cert_der(cert, &cder, &clen) && !m2m_pki_key_der(key, &kder, &klen) &&
	    (sealed = malloc(klen + M2M_SEAL_OVERHEAD)) &&
	    !m2m_seal(a->settings->storage_key, aad, strlen(aad), kder, klen, sealed) &&
	    sqlite3_prepare_v2(a->db, "INSERT OR REPLACE INTO ca_hierarchy VALUES (?, ?, ?)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, cder, (int)clen, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, sealed, (int)(klen + M2M_SEAL_OVERHEAD), SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	OPENSSL_free(cder);
	OPENSSL_clear_free(kder, klen);
	free(sealed);
	return rc;
}

static EVP_PKEY *unseal_key(const ca_authority *a, const char *role, const uint8_t *sealed, size_t len)
{
	if (len <= M2M_SEAL_OVERHEAD)
		return NULL;
	char aad[32];
	key_aad(role, aad, sizeof aad);
	size_t klen = len - M2M_SEAL_OVERHEAD;
	uint8_t *kder = malloc(klen);
	EVP_PKEY *key = NULL;
	if (kder && !m2m_unseal(a->settings->storage_key, aad, strlen(aad), sealed, len, kder))
		key = m2m_pki_key_from_der(kder, klen);
	if (kder)
		m2m_wipe(kder, klen);
	free(kder);
	return key;
}

/* 0 loaded, 1 absent, -1 unreadable (another storage key, a damaged row). */
static int load_role(ca_authority *a, const char *role, X509 **cert, EVP_PKEY **key)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(a->db, "SELECT certificate, key_sealed FROM ca_hierarchy WHERE role = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 1;
	} else if (step == SQLITE_ROW) {
		*cert = m2m_pki_cert_from_der(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		*key = unseal_key(a, role, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		rc = *cert && *key && X509_check_private_key(*cert, *key) == 1 ? 0 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

/* ---- creation ----------------------------------------------------------------------------- */

static X509 *make_ca(ca_authority *a, m2m_cert_kind kind, EVP_PKEY *key, int years, const char *what)
{
	char cn[M2M_ENTITY_MAX + 1];
	time_t now = time(NULL);
	snprintf(cn, sizeof cn, "%.40s %s", a->entity, what);
	m2m_cert_spec spec = {kind, cn, key, ca_next_serial(a->db), now - DAY, now + years * 365 * DAY, -1, NULL};
	return spec.serial ? m2m_pki_issue(&spec, kind == M2M_CERT_ROOT ? NULL : a->root,
					   kind == M2M_CERT_ROOT ? key : a->root_key)
			   : NULL;
}

static int create_cas(ca_authority *a)
{
	a->root_key = m2m_pki_keygen();
	a->issuing_key = m2m_pki_keygen();
	if (!a->root_key || !a->issuing_key || !(a->root = make_ca(a, M2M_CERT_ROOT, a->root_key, ROOT_YEARS, "root CA")) ||
	    !(a->issuing = make_ca(a, M2M_CERT_ISSUING_CA, a->issuing_key, ISSUING_YEARS, "issuing CA")))
		return -1;
	m2m_info("created the hierarchy: root and issuing CA");
	return store_role(a, "root", a->root, a->root_key) || store_role(a, "issuing", a->issuing, a->issuing_key) ? -1 : 0;
}

/* The agency's own certificate: its verdicts and signed objects are checked against it. */
static int issue_own(ca_authority *a, char *err, size_t len)
{
	EVP_PKEY *key = m2m_pki_keygen();
	X509 *cert = key ? ca_issue(a, a->entity, M2M_PROFILE_PVA, key, NULL, err, len) : NULL;
	if (!cert || store_role(a, "pva", cert, key)) {
		EVP_PKEY_free(key);
		X509_free(cert);
		return -1;
	}
	EVP_PKEY_free(a->pva_key);
	X509_free(a->pva);
	a->pva_key = key;
	a->pva = cert;
	m2m_info("issued the agency's own pva certificate");
	return 0;
}

static int own_is_revoked(ca_authority *a)
{
	uint64_t serial = 0;
	sqlite3_stmt *st = NULL;
	int revoked = 1;
	if (!m2m_pki_cert_serial(a->pva, &serial) &&
	    sqlite3_prepare_v2(a->db, "SELECT revoked_at IS NOT NULL FROM ca_certificate WHERE serial = ?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)serial);
		revoked = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return revoked;
}

/*
 * Replaced when past half its validity, so that it never lapses in use; when revoked (with
 * certauth-admin: the revocation reaches the agency's own signatures at its next start); and
 * when the agency's entity id changed.
 */
static int own_is_due(ca_authority *a)
{
	char cn[M2M_ENTITY_MAX + 1];
	int days = 0, secs = 0;
	const ASN1_TIME *nb = X509_get0_notBefore(a->pva), *na = X509_get0_notAfter(a->pva);
	if (m2m_pki_cert_cn(a->pva, cn, sizeof cn) || strcmp(cn, a->entity) || !ASN1_TIME_diff(&days, &secs, nb, na) ||
	    own_is_revoked(a))
		return 1;
	time_t half = time(NULL) - ((long)days * DAY + secs) / 2;
	return X509_cmp_time(nb, &half) < 0;
}

/* ---- opening ------------------------------------------------------------------------------ */

static int load_or_create(ca_authority *a, char *err, size_t len)
{
	int rc = load_role(a, "root", &a->root, &a->root_key);
	if (rc == 0)
		rc = load_role(a, "issuing", &a->issuing, &a->issuing_key);
	else if (rc == 1)
		rc = create_cas(a);
	if (rc) {
		snprintf(err, len, "the CA keys cannot be %s (is storage_key_file the one they were sealed with?)",
			 rc < 0 ? "read" : "created");
		return -1;
	}
	rc = load_role(a, "pva", &a->pva, &a->pva_key);
	if (rc < 0) {
		snprintf(err, len, "the agency's own key cannot be read");
		return -1;
	}
	return rc == 1 || own_is_due(a) ? issue_own(a, err, len) : 0;
}

/* Written beside and renamed: a relying party never reads half a file. */
static int write_root(ca_authority *a, char *err, size_t len)
{
	char tmp[300];
	const char *path = a->settings->root_certificate;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (m2m_pki_cert_write_pem(a->root, tmp) || rename(tmp, path)) {
		snprintf(err, len, "root_certificate %s cannot be written: %s", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

int ca_open(ca_authority *a, sqlite3 *db, const ca_settings *s, const char *entity, char *err, size_t len)
{
	memset(a, 0, sizeof *a);
	a->db = db;
	a->settings = s;
	snprintf(a->entity, sizeof a->entity, "%s", entity);
	if (m2m_store_begin(db)) {
		snprintf(err, len, "the database is busy");
		return -1;
	}
	if (load_or_create(a, err, len) || ca_crl_refresh(a, 0, err, len)) {
		m2m_store_rollback(db);
		ca_close(a);
		return -1;
	}
	if (m2m_store_commit(db)) {
		snprintf(err, len, "the hierarchy cannot be stored");
		ca_close(a);
		return -1;
	}
	if (write_root(a, err, len)) {
		ca_close(a);
		return -1;
	}
	return 0;
}

void ca_close(ca_authority *a)
{
	EVP_PKEY_free(a->root_key);
	EVP_PKEY_free(a->issuing_key);
	EVP_PKEY_free(a->pva_key);
	X509_free(a->root);
	X509_free(a->issuing);
	X509_free(a->pva);
	memset(a, 0, sizeof *a);
}
