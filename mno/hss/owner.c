/* The subscribers and the cards they own: see owner.h. */
#include "hss/owner.h"

#include "crypto/crypto.h"
#include "pki/pki.h"
#include "store/store.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define AUDIT_KEY "subscriber:"  /* the audit rows of a subscriber, in the IMSI column */

int hss_owner_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	return n >= 1 && n <= HSS_OWNER_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n;
}

static int audit_owner(sqlite3 *db, const char *actor, const char *id, const char *action, const char *detail)
{
	char key[sizeof AUDIT_KEY + HSS_OWNER_MAX];
	snprintf(key, sizeof key, AUDIT_KEY "%s", id);
	return hss_audit(db, actor, key, action, "%s", detail);
}

/* ---- the store ------------------------------------------------------------------------------------ */

int hss_owner_of(sqlite3 *db, const char *iccid, char owner[HSS_OWNER_MAX + 1])
{
	return m2m_store_get_text(db, "SELECT owner FROM hss_card_owner WHERE iccid = ?", iccid, owner, HSS_OWNER_MAX + 1);
}

int hss_owner_certificate(sqlite3 *db, const char *id, X509 **cert)
{
	*cert = NULL;
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT certificate FROM hss_owner WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*cert = m2m_pki_cert_from_der(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return *cert ? 0 : -1;
	return rc == SQLITE_DONE ? 1 : -1;
}

int hss_owner_release(sqlite3 *db, const char *iccid)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "DELETE FROM hss_card_owner WHERE iccid = ?");
	if (st)
		sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
	return m2m_store_run(db, st);
}

/* ---- register ------------------------------------------------------------------------------------- */

/* An ECDSA P-256 key (what the authorisations are signed with), valid at this moment. */
static hss_outcome usable_certificate(X509 *cert, const char *path, char *err, size_t len)
{
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(X509_get0_pubkey(cert), &spki);
	EVP_PKEY *p256 = n > 0 ? m2m_pki_pubkey_from_der(spki, (size_t)n) : NULL;
	OPENSSL_free(spki);
	EVP_PKEY_free(p256);
	if (!p256) {
		snprintf(err, len, "%s: the subscriber's key must be ECDSA P-256", path);
		return HSS_BAD_INPUT;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0 || X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
		snprintf(err, len, "%s: the certificate is not valid now", path);
		return HSS_BAD_INPUT;
	}
	return HSS_DONE;
}

static hss_outcome register_in(sqlite3 *db, const char *id, const uint8_t *der, size_t n, const char *actor,
			       char *err, size_t len)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1], detail[160];
	X509 *old = NULL;
	int known = hss_owner_certificate(db, id, &old);
	X509_free(old);
	sqlite3_stmt *st = known < 0 ? NULL : m2m_store_prepare(db,
		"INSERT INTO hss_owner (id, certificate, registered) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (id) DO UPDATE SET certificate = ?2, registered = ?3");
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, der, (int)n, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	}
	SHA256(der, n, digest);
	m2m_hex(digest, sizeof digest, hex);
	snprintf(detail, sizeof detail, "certificate SHA-256 %s%s", hex, known == 0 ? " replaces the earlier one" : "");
	if (m2m_store_run(db, st) || audit_owner(db, actor, id, "register", detail))
		return hss_db_failed(db, err, len);
	return HSS_DONE;
}

hss_outcome hss_owner_register(sqlite3 *db, const char *id, const char *cert_pem, const char *actor, char *err,
			       size_t len)
{
	if (!hss_owner_id_valid(id)) {
		snprintf(err, len, "%s: a subscriber is 1 to %d letters, digits, '.', '_', '-' or '@'", id ? id : "(none)",
			 HSS_OWNER_MAX);
		return HSS_BAD_INPUT;
	}
	X509 *cert = m2m_pki_cert_read_pem(cert_pem);
	if (!cert) {
		snprintf(err, len, "%s: not a PEM certificate", cert_pem);
		return HSS_BAD_INPUT;
	}
	uint8_t *der = NULL;
	size_t n = 0;
	hss_outcome r = usable_certificate(cert, cert_pem, err, len);
	if (r == HSS_DONE && m2m_pki_cert_der(cert, &der, &n)) {
		snprintf(err, len, "%s: the certificate cannot be encoded", cert_pem);
		r = HSS_FAILED;
	}
	if (r == HSS_DONE)
		r = hss_begin(db, err, len);
	if (r == HSS_DONE)
		r = hss_end(db, register_in(db, id, der, n, actor, err, len), err, len);
	OPENSSL_free(der);
	X509_free(cert);
	return r;
}

/* ---- assign --------------------------------------------------------------------------------------- */

static hss_outcome assign_one(sqlite3 *db, const char *id, const char *iccid, const char *actor, char *err, size_t len)
{
	char imsi[HSS_IMSI_MAX + 1], was[HSS_OWNER_MAX + 1] = "";
	int rc = hss_iccid_valid(iccid) ? hss_imsi_of_iccid(db, iccid, imsi) : 2;
	if (rc != 0) {
		if (rc == 2)
			snprintf(err, len, "%s: an ICCID is 18 to 20 digits", iccid);
		else if (rc == 1)
			snprintf(err, len, "ICCID %s is no card of this operator", iccid);
		return rc < 0 ? hss_db_failed(db, err, len) : rc == 2 ? HSS_BAD_INPUT : HSS_FAILED;
	}
	int owned = hss_owner_of(db, iccid, was);
	sqlite3_stmt *st = owned < 0 ? NULL : m2m_store_prepare(db,
		"INSERT INTO hss_card_owner (iccid, owner, since) VALUES (?1, ?2, ?3)"
		" ON CONFLICT (iccid) DO UPDATE SET owner = ?2, since = ?3");
	if (st) {
		sqlite3_bind_text(st, 1, iccid, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	}
	if (m2m_store_run(db, st) ||
	    hss_audit(db, actor, imsi, "owner", "card ICCID %s owned by subscriber %s%s%s", iccid, id,
		      owned == 0 ? ", before by " : "", owned == 0 ? was : ""))
		return hss_db_failed(db, err, len);
	return HSS_DONE;
}

static hss_outcome assign_in(sqlite3 *db, const char *id, char *const *iccids, int n, const char *actor, char *err,
			     size_t len)
{
	X509 *cert = NULL;
	int rc = hss_owner_certificate(db, id, &cert);
	X509_free(cert);
	if (rc) {
		if (rc > 0)
			snprintf(err, len, "subscriber %s is not registered (subscriber register)", id);
		return rc < 0 ? hss_db_failed(db, err, len) : HSS_FAILED;
	}
	hss_outcome r = HSS_DONE;
	for (int i = 0; i < n && r == HSS_DONE; i++)
		r = assign_one(db, id, iccids[i], actor, err, len);
	return r;
}

hss_outcome hss_owner_assign(sqlite3 *db, const char *id, char *const *iccids, int n, const char *actor, char *err,
			     size_t len)
{
	if (!hss_owner_id_valid(id) || n < 1) {
		snprintf(err, len, "assign takes a subscriber and one or more ICCIDs");
		return HSS_BAD_INPUT;
	}
	hss_outcome r = hss_begin(db, err, len);
	return r == HSS_DONE ? hss_end(db, assign_in(db, id, iccids, n, actor, err, len), err, len) : r;
}

/* ---- show ----------------------------------------------------------------------------------------- */

static void print_certificate(FILE *out, X509 *cert)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	unsigned int dlen = 0;
	char hex[2 * SHA256_DIGEST_LENGTH + 1] = "";
	BIO *bio = BIO_new_fp(out, BIO_NOCLOSE);
	if (X509_digest(cert, EVP_sha256(), digest, &dlen) && dlen == sizeof digest)
		m2m_hex(digest, sizeof digest, hex);
	fprintf(out, "certificate: ");
	X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_ONELINE);
	BIO_printf(bio, "\nvalid:       ");
	ASN1_TIME_print(bio, X509_get0_notBefore(cert));
	BIO_printf(bio, " to ");
	ASN1_TIME_print(bio, X509_get0_notAfter(cert));
	BIO_printf(bio, "\nsha256:      %s\n", hex);
	BIO_free(bio);
}

static hss_outcome print_cards(sqlite3 *db, const char *id, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st = m2m_store_prepare(db, "SELECT o.iccid, coalesce(s.imsi, '-'), coalesce(s.state, '-')"
						 " FROM hss_card_owner o LEFT JOIN hss_subscriber s ON s.iccid = o.iccid"
						 " AND s.state <> 'deleted' WHERE o.owner = ? ORDER BY o.iccid");
	if (!st)
		return hss_db_failed(db, err, len);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	fprintf(out, "cards:\n");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fprintf(out, "  %s imsi=%s %s\n", (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? HSS_DONE : hss_db_failed(db, err, len);
}

hss_outcome hss_owner_show(sqlite3 *db, const char *id, FILE *out, char *err, size_t len)
{
	X509 *cert = NULL;
	if (!hss_owner_id_valid(id)) {
		snprintf(err, len, "%s: not a subscriber id", id ? id : "(none)");
		return HSS_BAD_INPUT;
	}
	int rc = hss_owner_certificate(db, id, &cert);
	if (rc) {
		if (rc > 0)
			snprintf(err, len, "subscriber %s is not registered", id);
		return rc < 0 ? hss_db_failed(db, err, len) : HSS_FAILED;
	}
	fprintf(out, "subscriber:  %s\n", id);
	print_certificate(out, cert);
	X509_free(cert);
	return print_cards(db, id, out, err, len);
}
