/*
 * What the TRE tests share: an agency of their own (root, issuing CA, the agency's signing
 * certificate with CN = the agency's entity id), the signed platform type of the test model, the
 * component files of a device, and a TRE opened over a temporary database (no transport).
 */
#ifndef TRE_TEST_FIXTURE_H
#define TRE_TEST_FIXTURE_H

#include "tre.h"

#define FX_ENTITY "tre-t"
#define FX_AGENCY "ca-t"
#define FX_OPERATOR "mno-a"
#define FX_MODEL "acme-tre"
#define FX_VERSION "1.0"
#define FX_LEVEL 4
#define FX_COMPONENTS 3

/* The components and their certified content: boot-rom and tre-code extend register 0, os 1. */
extern const char *const fx_component_names[FX_COMPONENTS];
extern const char *const fx_component_content[FX_COMPONENTS];
extern const int fx_component_register[FX_COMPONENTS];

typedef struct fx_agency {
	EVP_PKEY *root_key, *ca_key, *agency_key;
	X509 *root, *ca, *agency;
	uint64_t next_serial;
} fx_agency;

void fx_agency_make(fx_agency *a);
void fx_agency_free(fx_agency *a);
/* A tre certificate for the key of a DER CSR, with the platform asked for. */
X509 *fx_issue_tre(fx_agency *a, const uint8_t *csr, size_t len, const M2M_TRE_PLATFORM *platform);
/* The enrolResponse for cert: chain = issuing CA, root. */
M2M_ENROL_RESPONSE *fx_enrol_response(const fx_agency *a, X509 *cert);
/* The certified platform type of model/version with the reference values of the first n
 * components (their certified content), signed by key/signer (the agency's, or a forger's). */
M2M_SIGNED_OBJECT *fx_platform_type(const fx_agency *a, const char *model, const char *version, int n, EVP_PKEY *key,
				    X509 *signer);
/* A trust store over the agency's root only: what a relying party holds. */
m2m_trust *fx_trust(const fx_agency *a);

/* ---- files ------------------------------------------------------------------------------ */

/* A fresh temporary directory into dir (64 bytes). */
void fx_tempdir(char *dir);
void fx_write(const char *dir, const char *name, const void *data, size_t len);
/* The component files, with their certified content. */
void fx_write_components(const char *dir);
/* The bytes of a file (malloc'd); *len its size; NULL when absent. */
uint8_t *fx_read(const char *path, size_t *len);
int fx_contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m);

/* ---- a TRE without transport ------------------------------------------------------------ */

typedef struct fx_tre {
	char dir[64];
	char dbpath[128];
	fx_agency agency;
	tre t;
	uint8_t storage_key[32];
} fx_tre;

/* Settings for the components of dir: agency FX_AGENCY (also the PVA), reports to it and
 * FX_OPERATOR, controller testbed, the reaction given. */
void fx_settings(tre_settings *s, const char *dir, const uint8_t storage_key[32], m2m_tamper_reaction reaction);
/* A TRE opened over a new database: key generated; enrolled and holding its platform type
 * when provisioned (through tre_enrol_accept and tre_platform_accept, the daemon's paths). */
void fx_tre_open(fx_tre *f, m2m_tamper_reaction reaction, int provisioned);
/* Closes and opens the same database again (a power cycle), with storage_key. */
void fx_tre_reopen(fx_tre *f, const uint8_t storage_key[32]);
void fx_tre_close(fx_tre *f);
/* A boot in its own transaction, as the daemon makes one. */
void fx_boot(fx_tre *f);

#endif
