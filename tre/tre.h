/*
 * The TRE (Trusted Environment, TR 33.812 5.1.2; brief §1 and §3): the one process of the M2M
 * equipment that holds private keys. It measures the device's components at boot, keeps the
 * certified reference values of its platform type, answers the PVA's attestation challenges
 * with signed evidence, and reports tampering. docs/tre.md describes the behaviour.
 *
 * Everything but main() is a static library (tre_core) so that the tests drive the same code.
 * The engine needs no transport: with node NULL nothing is sent, which the unit tests use.
 *
 * Secrets: the attestation key lives only in keystore.c (in memory as an EVP_PKEY, in the
 * database sealed under the storage key); no function returns it and nothing logs it.
 */
#ifndef TRE_H
#define TRE_H

#include "daemon/daemon.h"
#include "pki/pki.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TRE_REGISTERS 8          /* Quote.registers: SIZE (1..8), MeasurementLogEntry.register 0..7 */
#define TRE_DIGEST_LEN 32        /* SHA-256 */
#define TRE_MAX_COMPONENTS 32    /* Evidence.verdicts */
#define TRE_MAX_LOG 64           /* Quote.log */
#define TRE_NAME_MAX 63          /* component names, models */
#define TRE_VERSION_MAX 31       /* TrePlatform.version */
#define TRE_PATH_MAX 511
#define TRE_NONCE_LEN 32         /* AttestationChallenge.nonce */
#define TRE_REPORT_ID_LEN 16     /* TamperReport.reportId */
#define TRE_CONTENT_MAX 4096     /* TreControl.content */
#define TRE_SECRET_MIN 16        /* EnrolRequest.authorisation */
#define TRE_SECRET_MAX 64
#define TRE_MAX_RECIPIENTS 8     /* report_to */
#define TRE_MAX_FLIGHTS 64       /* tamper report deliveries tracked at once */
/* After a peer refused a request: the soonest it is asked again (there is no timer, so the
 * retry waits for the next event after that: a request, a reply, a boot). */
#define TRE_RETRY_SECONDS 5

typedef struct tre tre;

/* ---- settings.c: the tre group of the configuration file ------------------------------------- */

typedef struct tre_component {
	char name[TRE_NAME_MAX + 1];
	char file[TRE_PATH_MAX + 1];
	int reg;  /* the register its measurement extends, 0..7 */
} tre_component;

typedef struct tre_settings {
	uint8_t storage_key[32];                   /* seals the attestation key and the credential slots */
	char agency[M2M_ENTITY_MAX + 1];           /* certauth: enrolment and platform types */
	uint8_t enrolment_secret[TRE_SECRET_MAX];  /* EnrolRequest.authorisation */
	size_t enrolment_secret_len;
	char model[TRE_NAME_MAX + 1];
	char version[TRE_VERSION_MAX + 1];
	int assurance;                             /* 1..7 */
	char pva[M2M_ENTITY_MAX + 1];              /* the only entity whose challenges are answered */
	char controller[M2M_ENTITY_MAX + 1];       /* the only entity whose treControl is obeyed */
	int nreport_to;
	char report_to[TRE_MAX_RECIPIENTS][M2M_ENTITY_MAX + 1];
	m2m_tamper_reaction reaction;
	int ncomponents;
	tre_component components[TRE_MAX_COMPONENTS];
} tre_settings;

/* Reads and checks the group; problems go to c (m2m_conf_fail). *root receives the agency's
 * root certificate named by root_certificate. */
void tre_settings_read(m2m_conf *c, config_setting_t *group, tre_settings *s, X509 **root);
/* Index of a configured component, or -1. */
int tre_component_index(const tre_settings *s, const char *name);

/* ---- measure.c: measurement registers and the measurement log -------------------------------- */

typedef struct tre_log_entry {
	int reg;
	char component[TRE_NAME_MAX + 1];
	uint8_t digest[TRE_DIGEST_LEN];  /* SHA-256 of the component */
} tre_log_entry;

typedef struct tre_measurements {
	uint8_t reg[TRE_REGISTERS][TRE_DIGEST_LEN];
	int nlog;
	tre_log_entry log[TRE_MAX_LOG];
} tre_measurements;

void tre_sha256(const void *data, size_t len, uint8_t out[TRE_DIGEST_LEN]);
/* Every register back to 32 zero bytes, the log empty: the state at power-on. */
void tre_measurements_reset(tre_measurements *m);
/* R[reg] = SHA-256(R[reg] || digest), and the entry appended to the log; -1 (nothing changed)
 * when reg is out of range or the log is full. */
int tre_extend(tre_measurements *m, int reg, const char *component, const uint8_t digest[TRE_DIGEST_LEN]);
/* The registers a log replays to from power-on: what a verifier recomputes. -1 on a bad register. */
int tre_replay(const tre_log_entry *log, int n, uint8_t regs[TRE_REGISTERS][TRE_DIGEST_LEN]);
/* SHA-256 of a file's content; -1 when it cannot be read. */
int tre_digest_file(const char *path, uint8_t digest[TRE_DIGEST_LEN]);

/* ---- reference.c: the certified reference values of the platform type ------------------------ */

typedef struct tre_reference {
	char component[TRE_NAME_MAX + 1];
	uint8_t digest[TRE_DIGEST_LEN];
} tre_reference;

typedef struct tre_references {
	char model[TRE_NAME_MAX + 1];
	char version[TRE_VERSION_MAX + 1];
	int assurance;
	int count;
	tre_reference ref[TRE_MAX_COMPONENTS];
} tre_references;

/* Checks a PlatformType against the module's sizes and copies it; -1 with why. */
int tre_references_read(const M2M_PLATFORM_TYPE *pt, tre_references *out, char *why, size_t whylen);
const tre_reference *tre_reference_find(const tre_references *r, const char *component);

/* ---- boot.c: measured and secure boot -------------------------------------------------------- */

typedef enum tre_match {
	TRE_MATCHES,     /* the digest is the certified reference value */
	TRE_MODIFIED,    /* it differs from it, or the component could not be read */
	TRE_UNCERTIFIED, /* the platform type has no reference value for it */
} tre_match;

typedef struct tre_boot_state {
	int booted;
	int secure_boot_ok;                   /* every component TRE_MATCHES */
	tre_match match[TRE_MAX_COMPONENTS];  /* by configured component index */
	tre_measurements m;
} tre_boot_state;

/* Measures every configured component in order from fresh registers, compares each with its
 * reference value and raises a tamper event for each component newly found modified. Needs
 * the reference values. 0, or -1 when the database failed (the boot state is then unchanged). */
int tre_boot(tre *t);
/* Whether the TRE may release a network credential (PCID, MCIM) now: booted, secure boot
 * passed, no tamper flag (brief §3, autonomous validation). */
int tre_credentials_allowed(const tre *t);

/* ---- keystore.c: the attestation key, the certificate chain, the credential slots ------------ */

/* Loads the sealed attestation key, or generates and seals one on first start; loads the
 * certificate chain when enrolled. 0 or -1 (logged). */
int tre_keystore_open(tre *t);
void tre_keystore_close(tre *t);
int tre_enrolled(const tre *t);
/* A PKCS#10 request, CN = the entity id, signed with the attestation key; 0 or -1. *der is
 * OPENSSL_malloc'd. */
int tre_keystore_csr(tre *t, unsigned char **der, size_t *len);
/* Whether cert certifies the attestation key. */
int tre_keystore_owns(const tre *t, X509 *cert);
/* Keeps the certificate and its chain (issuing CA first); 0 or -1. */
int tre_keystore_save_chain(tre *t, X509 *cert, STACK_OF(X509) *chain);
/* CMS SignedData over content with the attestation key and certificate; 0 or -1. *cms is
 * OPENSSL_malloc'd. Needs the certificate (tre_enrolled). */
int tre_keystore_sign(tre *t, const unsigned char *content, size_t len, unsigned char **cms, size_t *cmslen);

/* Credential slots (PCID credentials, MCIMs: later issues fill them), sealed with the slot
 * name as associated data. owner: the operator that issued it. 0 or -1. */
int tre_slot_put(tre *t, const char *slot, const char *owner, const uint8_t *secret, size_t len);
/* Opens a slot into out (max bytes); the length, or -1 when absent, too long or not opening.
 * Refused (-1) while credentials are withheld (tre_credentials_allowed). */
long tre_slot_get(tre *t, const char *slot, uint8_t *out, size_t max);
/* The owners of every slot, for tamper reports; count written (at most max). */
int tre_slot_owners(tre *t, char owners[][M2M_ENTITY_MAX + 1], int max);
int tre_slot_count(tre *t);
/* Zeroisation: every slot deleted and its pages overwritten; 0 or -1. */
int tre_slots_wipe(tre *t);

/* ---- platform.c: the local copy of the certified platform type ------------------------------- */

/* Loads the stored platform type when there is one (re-verified); 0, or -1 on a database failure. */
int tre_platform_load(tre *t);
/* Verifies a platformTypeResponse's CMS against the root and this TRE's model and version,
 * then keeps it. 0, or a reason with why. */
m2m_reason tre_platform_accept(tre *t, const unsigned char *cms, size_t len, char *why, size_t whylen);
/* Asks the agency for the platform type when there is none and none is asked. */
void tre_platform_resume(tre *t);

/* ---- enrol.c: key and certificate at manufacture --------------------------------------------- */

/* The agency's hierarchy as this TRE knows it: its root, the chain it was enrolled with, and
 * extra (may be NULL) as intermediates. */
m2m_trust *tre_trust_new(const tre *t, STACK_OF(X509) *extra);
/* Verifies an enrolResponse (it certifies our key, names us, chains to the root) and keeps it.
 * 0, or a reason with why. */
m2m_reason tre_enrol_accept(tre *t, const M2M_ENROL_RESPONSE *r, char *why, size_t whylen);
/* Sends enrolRequest when not enrolled and none is in flight. */
void tre_enrol_resume(tre *t);

/* ---- tamper.c: tamper flags, reactions and reports ------------------------------------------- */

/* TamperFlags as a mask: bit m2m_tamper_event. */
#define TRE_TAMPER_BIT(e) (1u << (e))
unsigned tre_tamper_flags(const tre *t);
int tre_tamper_load(tre *t);
/* openCase: latches caseOpened; the first opening reacts and reports. 0 or -1. */
int tre_tamper_open_case(tre *t);
/* After a boot: components newly found modified (since the last boot) react and report; the
 * set found is kept for the next boot. 0 or -1. */
int tre_tamper_after_boot(tre *t, const tre_boot_state *b);
/* A recipient's tamperAck: that delivery is done (the report itself is kept). 0 or -1. */
int tre_tamper_acknowledge(tre *t, const uint8_t id[TRE_REPORT_ID_LEN], const char *recipient);
/* Reports with at least one recipient that has not acknowledged them. */
int tre_tamper_pending(tre *t);
/* Sends every report due to every recipient that has not acknowledged it. */
void tre_tamper_send_due(tre *t);
/* Makes every report delivery due now (each boot retries them). */
void tre_tamper_retry_now(tre *t);
/* The TamperReport (DER) kept for a report id; -1 when unknown. */
int tre_tamper_report_der(tre *t, const uint8_t id[TRE_REPORT_ID_LEN], unsigned char **der, size_t *len);

/* ---- evidence.c: the three forms of evidence ------------------------------------------------- */

/* The Evidence for a challenge, from the current boot (which must have happened). */
M2M_EVIDENCE *tre_evidence_build(const tre *t, const uint8_t nonce[TRE_NONCE_LEN], m2m_validation_mode mode);
ASN1_BIT_STRING *tre_tamper_bits(unsigned flags);

/* ---- attest.c, control.c: the requests the TRE serves ---------------------------------------- */

void tre_attest(tre *t, m2m_request *req);
void tre_control(tre *t, m2m_request *req);
M2M_TRE_STATUS *tre_status_body(tre *t);

/* ---- retry.c: outstanding calls and when to repeat them -------------------------------------- */

typedef struct tre_retry {
	int in_flight;
	time_t due;  /* not before (seconds, monotonic) */
} tre_retry;

time_t tre_now(void);
int tre_retry_due(const tre_retry *r);
/* A call ended without the answer wanted. waited: it timed out, having waited already, so it
 * is due at once; otherwise (a refusal, a call that could not be made) in TRE_RETRY_SECONDS. */
void tre_retry_later(tre_retry *r, int waited);
/* A one-line account of a failed call into buf, for the log. */
const char *tre_call_failure(const char *peer, const m2m_envelope *resp, m2m_reason reason, char *buf,
			     size_t len);
/* The background work: enrolment, platform type, tamper reports. Called after every event. */
void tre_tick(tre *t);

/* ---- schema.c --------------------------------------------------------------------------------- */

extern const m2m_schema tre_schema;
/* All or nothing, inside a step's transaction or on its own: tre_release undoes every write
 * since tre_savepoint when failed. Both 0 or -1. */
int tre_savepoint(sqlite3 *db);
int tre_release(sqlite3 *db, int failed);

/* ---- the context ------------------------------------------------------------------------------ */

typedef struct tre_flight {
	int used;
	uint8_t report_id[TRE_REPORT_ID_LEN];
	char recipient[M2M_ENTITY_MAX + 1];
	tre_retry retry;
	tre *owner;
} tre_flight;

struct tre {
	tre_settings s;
	char entity[M2M_ENTITY_MAX + 1];
	m2m_node *node;  /* NULL: nothing is sent (unit tests) */
	sqlite3 *db;
	X509 *root;      /* the agency's root: trust anchor for its signed objects */
	EVP_PKEY *key;   /* the attestation key: keystore.c only */
	X509 *cert;      /* NULL until enrolled */
	STACK_OF(X509) *chain;
	int have_refs;
	tre_references refs;
	tre_boot_state boot;
	int case_opened;
	tre_retry enrol, platform;
	tre_flight flights[TRE_MAX_FLIGHTS];
};

/* Sets up a TRE over an open database (schema applied): keys, platform type, tamper state.
 * Does not boot. 0 or -1. */
int tre_open(tre *t, const char *entity, sqlite3 *db, m2m_node *node);
/* Boots when the reference values are known; the tick then sends what is due. */
int tre_power_on(tre *t);
void tre_close(tre *t);

#endif
