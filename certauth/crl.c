/*
 * Publishing the issuing CA's CRL: every revoked certificate ever issued (expired ones too: a
 * small agency, and a verifier at a past time still sees them), the withdrawn models, a
 * cRLNumber one above the last, and a nextUpdate crl_hours ahead. A new CRL is published on
 * every revocation and once the newest is half way to its nextUpdate.
 */
#include "authority.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Rows of a query into a growing array; the callback reads one row into the next element. */
static int collect(sqlite3 *db, const char *sql, size_t elem, void **out, size_t *n,
		   void (*read)(sqlite3_stmt *st, void *elem))
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int step = SQLITE_ERROR;
	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			void *grown = realloc(*out, cap * elem);
			if (!grown)
				break;
			*out = grown;
		}
		read(st, (char *)*out + *n * elem);
		(*n)++;
	}
	sqlite3_finalize(st);
	return step == SQLITE_DONE ? 0 : -1;
}

static void read_entry(sqlite3_stmt *st, void *elem)
{
	m2m_crl_entry *e = elem;
	e->serial = (uint64_t)sqlite3_column_int64(st, 0);
	e->revoked_at = (time_t)sqlite3_column_int64(st, 1);
	e->reason = sqlite3_column_int(st, 2);
}

static void read_model(sqlite3_stmt *st, void *elem)
{
	m2m_revoked_model *m = elem;
	memset(m, 0, sizeof *m);
	snprintf(m->model, sizeof m->model, "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(m->version, sizeof m->version, "%s", (const char *)sqlite3_column_text(st, 1));
}

static int store_crl(sqlite3 *db, const m2m_crl_spec *spec, const uint8_t *der, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO ca_crl VALUES (?, ?, ?, ?)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)spec->number);
		sqlite3_bind_int64(st, 2, spec->this_update);
		sqlite3_bind_int64(st, 3, spec->next_update);
		sqlite3_bind_blob(st, 4, der, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The newest CRL's number and its times; number 0 when there is none. -1 on a read failure. */
static int newest(sqlite3 *db, uint64_t *number, time_t *this_update, time_t *next_update)
{
	sqlite3_stmt *st = NULL;
	*number = 0;
	if (sqlite3_prepare_v2(db, "SELECT number, this_update, next_update FROM ca_crl ORDER BY number DESC LIMIT 1", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*number = (uint64_t)sqlite3_column_int64(st, 0);
		*this_update = (time_t)sqlite3_column_int64(st, 1);
		*next_update = (time_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
}

static int publish(ca_authority *a, uint64_t number)
{
	m2m_crl_entry *entries = NULL;
	m2m_revoked_model *models = NULL;
	size_t nentries = 0, nmodels = 0, len = 0;
	uint8_t *der = NULL;
	time_t now = time(NULL);
	m2m_crl_spec spec = {NULL, 0, NULL, 0, number, now, now + a->settings->crl_hours * 3600L};
	int rc = collect(a->db, "SELECT serial, revoked_at, reason FROM ca_certificate WHERE revoked_at IS NOT NULL",
			 sizeof *entries, (void **)&entries, &nentries, read_entry);
	if (!rc)
		rc = collect(a->db, "SELECT model, version FROM ca_revoked_model ORDER BY model, version", sizeof *models,
			     (void **)&models, &nmodels, read_model);
	spec.entries = entries;
	spec.nentries = nentries;
	spec.models = models;
	spec.nmodels = nmodels;
	if (!rc)
		rc = m2m_pki_crl(&spec, a->issuing, a->issuing_key, &der, &len) || store_crl(a->db, &spec, der, len) ? -1 : 0;
	OPENSSL_free(der);
	free(entries);
	free(models);
	return rc;
}

int ca_crl_refresh(ca_authority *a, int force, char *err, size_t len)
{
	uint64_t number;
	time_t this_update = 0, next_update = 0;
	if (newest(a->db, &number, &this_update, &next_update)) {
		snprintf(err, len, "the CRLs cannot be read");
		return -1;
	}
	int due = force || number == 0 || time(NULL) >= this_update + (next_update - this_update) / 2;
	if (due && publish(a, number + 1)) {
		snprintf(err, len, "CRL %llu cannot be published", (unsigned long long)number + 1);
		return -1;
	}
	return 0;
}

int ca_crl_latest(sqlite3 *db, uint8_t **der, size_t *len, uint64_t *number)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT number, der FROM ca_crl ORDER BY number DESC LIMIT 1", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	int step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = 1;
	} else if (step == SQLITE_ROW) {
		*number = (uint64_t)sqlite3_column_int64(st, 0);
		*len = (size_t)sqlite3_column_bytes(st, 1);
		*der = OPENSSL_memdup(sqlite3_column_blob(st, 1), *len);
		rc = *der ? 0 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}
