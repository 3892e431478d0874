/*
 * The certification agency's core, without the wire: its hierarchy (authority.c), the
 * certificates it issues and revokes (issued.c), its CRL (crl.c) and the certified platform
 * types (platform.c). The daemon's handlers, certauth-admin and the unit tests all call these.
 * Functions that change the database expect to run inside a transaction of their caller (the
 * daemon's step, the admin's command), except ca_open, which runs its own.
 */
#ifndef CERTAUTH_AUTHORITY_H
#define CERTAUTH_AUTHORITY_H

#include "settings.h"

#include "pki/pki.h"

#include <sqlite3.h>
#include <stdio.h>

typedef enum ca_outcome { CA_DONE = 0, CA_FAILED = 1 } ca_outcome;  /* also certauth-admin's exit status */

typedef struct ca_authority {
	sqlite3 *db;
	const ca_settings *settings;
	char entity[M2M_ENTITY_MAX + 1];  /* the agency's entity id: CN of its own certificate */
	EVP_PKEY *root_key, *issuing_key, *pva_key;
	X509 *root, *issuing, *pva;
} ca_authority;

/* ---- the hierarchy (authority.c) ---------------------------------------------------------- */

/*
 * Loads the hierarchy, creating it on first use (root, issuing CA, and the agency's own pva
 * certificate, which is also renewed once past half its validity), makes sure a current CRL
 * exists, and writes the root certificate to settings->root_certificate. Runs its own
 * transaction. 0, or -1 with err.
 */
int ca_open(ca_authority *a, sqlite3 *db, const ca_settings *s, const char *entity, char *err, size_t len);
void ca_close(ca_authority *a);

/* ---- issued certificates (issued.c) ------------------------------------------------------- */

/* The next serial number (shared by every certificate the agency signs), or 0 on failure. */
uint64_t ca_next_serial(sqlite3 *db);
/* Issues and records a certificate for entity's public key (platform: profile tre only), valid
 * for settings->validity_days. NULL with err on failure. */
X509 *ca_issue(ca_authority *a, const char *entity, int profile, EVP_PKEY *pub, const M2M_TRE_PLATFORM *platform,
	       char *err, size_t len);
/* Every issued certificate, one line each: serial, entity, profile, model/version, validity, state. */
ca_outcome ca_list(sqlite3 *db, FILE *out, char *err, size_t len);
/* Revokes one certificate (reason key compromise) and publishes a new CRL. */
ca_outcome ca_revoke_serial(ca_authority *a, uint64_t serial, char *err, size_t len);
/* Withdraws a model (version NULL or "": every version): every TRE certificate of it is revoked
 * (privilege withdrawn), the model is listed in RevokedModels, a new CRL is published.
 * *revoked counts the certificates newly revoked. */
ca_outcome ca_revoke_model(ca_authority *a, const char *model, const char *version, int *revoked, char *err,
			   size_t len);
/* Whether model/version was withdrawn (either that version or every version). */
int ca_model_revoked(sqlite3 *db, const char *model, const char *version);

/* ---- the CRL (crl.c) ---------------------------------------------------------------------- */

/* Publishes a new CRL when force is set, none exists, or the newest is past half its life
 * (so that relying parties never hold one past its nextUpdate). 0 or -1 with err. */
int ca_crl_refresh(ca_authority *a, int force, char *err, size_t len);
/* The newest CRL (OPENSSL_malloc'd DER) and its number; 0, 1 when there is none, -1. */
int ca_crl_latest(sqlite3 *db, uint8_t **der, size_t *len, uint64_t *number);

/* ---- certified platform types (platform.c) ------------------------------------------------ */

#define CA_COMPONENTS_MAX 32  /* PlatformType.references (SIZE (1..32)) */

typedef struct ca_component {
	char name[64];
	uint8_t digest[32];
} ca_component;

typedef struct ca_platform_spec {
	const char *model, *version;
	int assurance;  /* 1..7 */
	const ca_component *components;
	size_t ncomponents;
} ca_platform_spec;

/* Certifies a platform type; refused when it exists already or does not fit PlatformType. */
ca_outcome ca_platform_add(sqlite3 *db, const ca_platform_spec *spec, char *err, size_t len);
ca_outcome ca_platform_list(sqlite3 *db, FILE *out, char *err, size_t len);
/* The certified type as PlatformType: M2M_OK with *out, M2M_R_NOT_FOUND, or M2M_R_INTERNAL. */
m2m_reason ca_platform_get(sqlite3 *db, const char *model, const char *version, M2M_PLATFORM_TYPE **out);

#endif
