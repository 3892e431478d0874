/*
 * The certificates the agency issues and revokes. Every end-entity certificate is recorded
 * (never deleted), so that a revocation by serial or by model can reach it and the CRL can
 * list it. A model revocation also revokes each TRE certificate of the model, so that any
 * X.509 verifier refuses them, not only one that reads RevokedModels (docs/pki.md).
 */
#include "authority.h"

#include "wire/wire.h"

#include <string.h>
#include <time.h>

#define DAY (24L * 3600)
#define SKEW 300  /* valid from five minutes back: a relying party's clock may be a little behind */

uint64_t ca_next_serial(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	uint64_t serial = 0;
	if (sqlite3_prepare_v2(db, "UPDATE ca_serial SET next = next + 1 WHERE id = 1 RETURNING next - 1", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		serial = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return serial;
}

static int record(ca_authority *a, X509 *cert, const char *entity, int profile, const char *model,
		  const char *version, const m2m_cert_spec *spec)
{
	uint8_t *der = NULL;
	size_t len = 0;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (!m2m_pki_cert_der(cert, &der, &len) &&
	    sqlite3_prepare_v2(a->db,
			       "INSERT INTO ca_certificate (serial, entity, profile, model, version, not_before, not_after,"
			       " der) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)spec->serial);
		sqlite3_bind_text(st, 2, entity, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, profile);
		sqlite3_bind_text(st, 4, model, -1, SQLITE_STATIC);  /* NULL binds NULL: not a tre */
		sqlite3_bind_text(st, 5, version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, spec->not_before);
		sqlite3_bind_int64(st, 7, spec->not_after);
		sqlite3_bind_blob(st, 8, der, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	OPENSSL_free(der);
	return rc;
}

X509 *ca_issue(ca_authority *a, const char *entity, int profile, EVP_PKEY *pub, const M2M_TRE_PLATFORM *platform,
	       char *err, size_t len)
{
	char model[64], version[32];
	int tre = profile == M2M_PROFILE_TRE;
	if (tre && m2m_pki_tre_platform_read(platform, model, version)) {
		snprintf(err, len, "a tre certificate needs a platform that fits TrePlatform");
		return NULL;
	}
	time_t now = time(NULL);
	m2m_cert_spec spec = {M2M_CERT_END_ENTITY, entity, pub, ca_next_serial(a->db), now - SKEW,
			      now + a->settings->validity_days * DAY, profile, tre ? platform : NULL};
	X509 *cert = spec.serial ? m2m_pki_issue(&spec, a->issuing, a->issuing_key) : NULL;
	if (!cert || record(a, cert, entity, profile, tre ? model : NULL, tre ? version : NULL, &spec)) {
		snprintf(err, len, "no certificate could be issued to %s", entity);
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* ---- listing ------------------------------------------------------------------------------ */

static void print_time(FILE *out, sqlite3_int64 t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	fputs(buf, out);
}

static void print_certificate(FILE *out, sqlite3_stmt *st)
{
	int profile = sqlite3_column_int(st, 2);
	fprintf(out, "%lld %s %s", (long long)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		m2m_pki_profile_name(profile));
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		fprintf(out, " %s/%s", (const char *)sqlite3_column_text(st, 3), (const char *)sqlite3_column_text(st, 4));
	fputs(" ", out);
	print_time(out, sqlite3_column_int64(st, 5));
	fputs("..", out);
	print_time(out, sqlite3_column_int64(st, 6));
	if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
		fputs(" revoked ", out);
		print_time(out, sqlite3_column_int64(st, 7));
	} else if (sqlite3_column_int64(st, 6) < (sqlite3_int64)time(NULL)) {
		fputs(" expired", out);
	} else {
		fputs(" valid", out);
	}
	fputc('\n', out);
}

ca_outcome ca_list(sqlite3 *db, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT serial, entity, profile, model, version, not_before, not_after, revoked_at"
			       " FROM ca_certificate ORDER BY serial",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, len, "the certificates cannot be read");
		return CA_FAILED;
	}
	while (sqlite3_step(st) == SQLITE_ROW)
		print_certificate(out, st);
	sqlite3_finalize(st);
	return CA_DONE;
}

/* ---- revocation --------------------------------------------------------------------------- */

ca_outcome ca_revoke_serial(ca_authority *a, uint64_t serial, char *err, size_t len)
{
	sqlite3_stmt *st = NULL;
	int changed = -1;
	if (sqlite3_prepare_v2(a->db,
			       "UPDATE ca_certificate SET revoked_at = ?, reason = ? WHERE serial = ? AND revoked_at IS NULL",
			       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, time(NULL));
		sqlite3_bind_int(st, 2, M2M_CRL_KEY_COMPROMISE);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)serial);
		changed = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(a->db) : -1;
	}
	sqlite3_finalize(st);
	if (changed == 0) {
		snprintf(err, len, "serial %llu is not an unrevoked certificate of this agency", (unsigned long long)serial);
		return CA_FAILED;
	}
	if (changed < 0 || ca_crl_refresh(a, 1, err, len)) {
		if (changed < 0)
			snprintf(err, len, "serial %llu cannot be revoked", (unsigned long long)serial);
		return CA_FAILED;
	}
	return CA_DONE;
}

/* Runs one UPDATE or INSERT with model and version bound as ?1, ?2 and the time as ?3. */
static int model_statement(sqlite3 *db, const char *sql, const char *model, const char *version)
{
	sqlite3_stmt *st = NULL;
	int changed = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, time(NULL));
		changed = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db) : -1;
	}
	sqlite3_finalize(st);
	return changed;
}

/* 9: privilegeWithdrawn (M2M_CRL_PRIVILEGE_WITHDRAWN), what marks a model revocation; 5: tre. */
_Static_assert(M2M_CRL_PRIVILEGE_WITHDRAWN == 9 && M2M_PROFILE_TRE == 5, "the numbers in the SQL below");
static const char revoke_model_certificates[] =
	"UPDATE ca_certificate SET revoked_at = ?3, reason = 9 WHERE profile = 5 AND model = ?1"
	" AND (?2 = '' OR version = ?2) AND revoked_at IS NULL";

ca_outcome ca_revoke_model(ca_authority *a, const char *model, const char *version, int *revoked, char *err,
			   size_t len)
{
	const char *v = version ? version : "";
	if (!model[0] || strlen(model) > 63 || strlen(v) > 31) {
		snprintf(err, len, "a model is 1 to 63 characters, a version at most 31");
		return CA_FAILED;
	}
	*revoked = model_statement(a->db, "INSERT OR IGNORE INTO ca_revoked_model VALUES (?1, ?2, ?3)", model, v) < 0
			   ? -1
			   : model_statement(a->db, revoke_model_certificates, model, v);
	if (*revoked < 0) {
		snprintf(err, len, "model %s cannot be revoked", model);
		return CA_FAILED;
	}
	return ca_crl_refresh(a, 1, err, len) ? CA_FAILED : CA_DONE;
}

int ca_model_revoked(sqlite3 *db, const char *model, const char *version)
{
	sqlite3_stmt *st = NULL;
	int found = 0;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM ca_revoked_model WHERE model = ? AND (version = '' OR version = ?)", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}
