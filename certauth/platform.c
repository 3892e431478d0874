/*
 * The certified platform types (brief §3: the reference values RIM certificates carry): a model
 * and version, its assurance level, and the SHA-256 of each measured component. The agency
 * serves them as PlatformType signed objects; the PVA compares measurements against them.
 */
#include "authority.h"

#include "crypto/crypto.h"
#include "wire/wire.h"

#include <string.h>
#include <time.h>

static int text_fits(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 1 && n <= max;
}

static int spec_fits(const ca_platform_spec *s, char *err, size_t len)
{
	if (!text_fits(s->model, 63) || !text_fits(s->version, 31))
		snprintf(err, len, "a model is 1 to 63 characters, a version 1 to 31");
	else if (s->assurance < 1 || s->assurance > 7)
		snprintf(err, len, "the assurance level is 1 to 7");
	else if (s->ncomponents < 1 || s->ncomponents > CA_COMPONENTS_MAX)
		snprintf(err, len, "a platform type has 1 to %d components", CA_COMPONENTS_MAX);
	for (size_t i = 0; !err[0] && i < s->ncomponents; i++)
		if (!text_fits(s->components[i].name, 63))
			snprintf(err, len, "a component name is 1 to 63 characters");
	return err[0] ? 0 : 1;
}

static int insert_type(sqlite3 *db, const ca_platform_spec *s)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO ca_platform VALUES (?, ?, ?, ?)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, s->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->version, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, s->assurance);
		sqlite3_bind_int64(st, 4, time(NULL));
		int step = sqlite3_step(st);
		rc = step == SQLITE_DONE ? 0 : step == SQLITE_CONSTRAINT ? 1 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

/* 0, 1 for a component named twice, -1. */
static int insert_components(sqlite3 *db, const ca_platform_spec *s)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO ca_reference VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) == SQLITE_OK ? 0
															 : -1;
	for (size_t i = 0; rc == 0 && i < s->ncomponents; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, s->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, s->version, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		sqlite3_bind_text(st, 4, s->components[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, s->components[i].digest, 32, SQLITE_STATIC);
		int step = sqlite3_step(st);
		rc = step == SQLITE_DONE ? 0 : step == SQLITE_CONSTRAINT ? 1 : -1;
	}
	sqlite3_finalize(st);
	return rc;
}

ca_outcome ca_platform_add(sqlite3 *db, const ca_platform_spec *spec, char *err, size_t len)
{
	err[0] = 0;
	if (!spec_fits(spec, err, len))
		return CA_FAILED;
	int rc = insert_type(db, spec);
	if (rc == 0)
		rc = insert_components(db, spec) ? 2 : 0;
	if (rc == 1)
		snprintf(err, len, "%s %s is certified already", spec->model, spec->version);
	else if (rc == 2)
		snprintf(err, len, "a component is named twice");
	else if (rc < 0)
		snprintf(err, len, "%s %s cannot be stored", spec->model, spec->version);
	return rc ? CA_FAILED : CA_DONE;
}

ca_outcome ca_platform_list(sqlite3 *db, FILE *out, char *err, size_t len)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT p.model, p.version, p.assurance, r.component, r.digest FROM ca_platform p"
			       " JOIN ca_reference r USING (model, version) ORDER BY p.model, p.version, r.position",
			       -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, len, "the platform types cannot be read");
		return CA_FAILED;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		char hex[65];
		m2m_hex(sqlite3_column_blob(st, 4), 32, hex);
		fprintf(out, "%s %s assurance=%d %s=%s\n", (const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
			(const char *)sqlite3_column_text(st, 3), hex);
	}
	sqlite3_finalize(st);
	return CA_DONE;
}

/* ---- as PlatformType ---------------------------------------------------------------------- */

static int add_reference(M2M_PLATFORM_TYPE *t, sqlite3_stmt *st)
{
	M2M_REFERENCE_METRIC *m = M2M_REFERENCE_METRIC_new();
	if (!m || m2m_set_str(m->component, (const char *)sqlite3_column_text(st, 1)) ||
	    sqlite3_column_bytes(st, 2) != 32 || !ASN1_OCTET_STRING_set(m->digest, sqlite3_column_blob(st, 2), 32) ||
	    !sk_M2M_REFERENCE_METRIC_push(t->references, m)) {
		M2M_REFERENCE_METRIC_free(m);
		return -1;
	}
	return 0;
}

m2m_reason ca_platform_get(sqlite3 *db, const char *model, const char *version, M2M_PLATFORM_TYPE **out)
{
	sqlite3_stmt *st = NULL;
	M2M_PLATFORM_TYPE *t = M2M_PLATFORM_TYPE_new();
	if (!t || m2m_set_str(t->model, model) || m2m_set_str(t->version, version) ||
	    sqlite3_prepare_v2(db,
			       "SELECT p.assurance, r.component, r.digest FROM ca_platform p JOIN ca_reference r"
			       " USING (model, version) WHERE model = ? AND version = ? ORDER BY r.position",
			       -1, &st, NULL) != SQLITE_OK) {
		M2M_PLATFORM_TYPE_free(t);
		return M2M_R_INTERNAL;
	}
	sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	int step = SQLITE_ERROR, failed = 0;
	while (!failed && (step = sqlite3_step(st)) == SQLITE_ROW) {
		t->assurance_level = (uint64_t)sqlite3_column_int(st, 0);
		failed = add_reference(t, st);
	}
	sqlite3_finalize(st);
	m2m_reason r = failed || step != SQLITE_DONE ? M2M_R_INTERNAL
		       : sk_M2M_REFERENCE_METRIC_num(t->references) ? M2M_OK
								    : M2M_R_NOT_FOUND;
	if (r == M2M_OK)
		*out = t;
	else
		M2M_PLATFORM_TYPE_free(t);
	return r;
}
