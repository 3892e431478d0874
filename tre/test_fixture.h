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
#define FX_DRF "drf-t"                 /* the registration operator */
#define FX_M2ME "m2me-t"               /* the TRE's M2ME */
#define FX_IMEI "356938035643809"      /* its IMEI */
#define FX_PCID "001090000000001"
#define FX_MCIM_IMSI "001010000000042"

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

/* ---- Alternative 1a: network functions and what they sign --------------------------------- */

/* A network function certified by the agency: an end-entity key and certificate. */
typedef struct fx_party {
	EVP_PKEY *key;
	X509 *cert;
	uint64_t serial;
} fx_party;

void fx_party_make(fx_agency *a, fx_party *p, const char *cn, int profile);
void fx_party_free(fx_party *p);
/* The issuing CA's CRL number `number`, revoking the serials given; DER (OPENSSL_free). */
uint8_t *fx_crl(const fx_agency *a, uint64_t number, const uint64_t *revoked, size_t n, size_t *len);
/* A SignedObject over value (item) by p, its issuing CA included. */
M2M_SIGNED_OBJECT *fx_sign(const fx_agency *a, const fx_party *p, const ASN1_ITEM *item, const void *value);
/* Verifies a SignedObject over item against the agency's root; asserts the signer's CN. */
void *fx_verify(const fx_agency *a, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, const char *cn);
/* The DER of a body (i2d of item), OPENSSL_malloc'd. */
uint8_t *fx_der(const ASN1_ITEM *item, const void *value, size_t *len);

/* A RegistrationTicket for tre/m2me naming sho as SHO and DPF, expiring ttl seconds from now. */
M2M_REGISTRATION_TICKET *fx_ticket(const char *tre_id, const char *m2me, const char *sho, const uint8_t nonce[32],
				   long ttl);
/* The MCIM keys of the tests. */
extern const uint8_t fx_mcim_k[16], fx_mcim_opc[16], fx_pcid_k[16], fx_pcid_opc[16];
/* An Mcim with the tests' keys, AMF 8000 and sqn. */
M2M_MCIM *fx_mcim(const uint8_t id[16], const char *owner, const char *tre_id, const uint8_t nonce[32], const char *imsi,
		  uint64_t sqn);
/* mcimPackage: m signed by p, encrypted to the certificate `to`. */
M2M_MCIM_PACKAGE *fx_package(const fx_agency *a, const fx_party *p, const M2M_MCIM *m, X509 *to);
/* What a relayed destination answered: RelayResponse {type, DER of body}. */
M2M_RELAY_RESPONSE *fx_relayed(int type, const void *body);
/* The DRF's answer: a ticket for tre_id and FX_IMEI naming sho, signed by signer. */
M2M_RELAY_RESPONSE *fx_relayed_ticket(const fx_agency *a, const fx_party *signer, const char *tre_id, const char *sho,
				      const uint8_t nonce[32], long ttl);
/* The DPF's answer: the package of an MCIM (FX_MCIM_IMSI, sqn) for FX_ENTITY owned by owner,
 * signed by signer, encrypted to `to`. */
M2M_RELAY_RESPONSE *fx_relayed_package(const fx_agency *a, const fx_party *signer, const uint8_t id[16],
				       const char *owner, const uint8_t nonce2[32], uint64_t sqn, X509 *to);
M2M_RELAY_RESPONSE *fx_relayed_ack(const uint8_t id[16]);
/* A destination's refusal: error {reason}. */
M2M_RELAY_RESPONSE *fx_relayed_refusal(m2m_reason reason);
/* The home network's vector for sqn with keys k, opc (lib/aka, the AuC's side), AMF 8000. */
m2m_aka_av fx_vector(const uint8_t k[16], const uint8_t opc[16], uint64_t sqn);
/* An mcimCommand body signed by signer; change_id (16 bytes) or NULL. */
M2M_SIGNED_OBJECT *fx_signed_command(const fx_agency *a, const fx_party *signer, const uint8_t id[16], const char *owner,
				     const char *tre_id, int action, const uint8_t nonce[16], const uint8_t *change_id);
/* A valid PCID credential with the tests' keys. */
void fx_pcid(tre_pcid *p, int64_t valid_until);
/* The PCID file the manufacture tool writes, for p. */
void fx_write_pcid(const char *dir, const char *name, const tre_pcid *p);

/* ---- files ------------------------------------------------------------------------------ */

/* A fresh temporary directory into dir (64 bytes). */
void fx_tempdir(char *dir);
void fx_write(const char *dir, const char *name, const void *data, size_t len);
/* The component files, with their certified content. */
void fx_write_components(const char *dir);
int fx_contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m);
/* Whether the file holds the bytes (a secret that must not be there). */
int fx_file_holds(const char *path, const void *needle, size_t len);

/* ---- a TRE without transport ------------------------------------------------------------ */

typedef struct fx_tre {
	char dir[64];
	char dbpath[128];
	fx_agency agency;
	tre t;
	uint8_t storage_key[32];
	char why[256];  /* the last refusal's text (fx_provision) */
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

/* ---- driving the engine as the M2ME and the network do -------------------------------------- */

/* The agency's CRL number `number` revoking the serials given, accepted by the TRE. */
void fx_accept_crl(fx_tre *f, uint64_t number, const uint64_t *revoked, size_t n);
/* treCredential, checked to be of kind with imsi (NULL: none). */
M2M_TRE_CREDENTIAL *fx_credential(fx_tre *f, int kind, const char *imsi);
/* Everything a refusal must leave as it was: the procedure, the slots, the MCIMs and their
 * states, the open change (malloc'd text). */
char *fx_snapshot(fx_tre *f);
/* treProvision {answer} (taken); a refusal's text in f->why. */
m2m_reason fx_provision(fx_tre *f, M2M_RELAY_RESPONSE *answer, M2M_TRE_PROVISION_NEXT **next);
M2M_TRE_PROVISION_NEXT *fx_provision_ok(fx_tre *f, M2M_RELAY_RESPONSE *answer);
/* Refused with expect, and nothing changed. */
void fx_provision_refused(fx_tre *f, M2M_RELAY_RESPONSE *answer, m2m_reason expect, const char *what);
/* The step of next (taken), checked; its body decoded as a SignedObject. */
M2M_SIGNED_OBJECT *fx_step_of(M2M_TRE_PROVISION_NEXT *next, int state, const char *destination, int type);

#endif
