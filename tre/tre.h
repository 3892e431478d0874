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
 * database sealed under the storage key); no function returns it and nothing logs it. The
 * network credentials (the PCID's K_pc and OPc_pc, each MCIM's K and OPc) live in sealed slots
 * and are opened only to run AKA (aka.c); they never leave the TRE.
 *
 * Alternative 1a (docs/alt1a.md): pcid.c, mcim_store.c and credential.c hold the credentials,
 * aka.c runs AKA with them, provision.c drives the MCIM download (ticket.c, package.c), and
 * commands.c obeys the MCIM owner's commands; crl.c keeps the agency's CRL they check against.
 * The change of subscription (docs/alt1a-change.md): change.c keeps the change its owner opened,
 * provision.c runs it, switch.c moves the device to the new MCIM or back.
 */
#ifndef TRE_H
#define TRE_H

#include "aka/aka.h"
#include "aka/ef_iccid.h"
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
#define TRE_IMEI_LEN 15          /* M2ME_ID: the IMEI of the TRE's M2ME */
#define TRE_IMSI_MAX 15          /* Imsi: 6..15 digits */
#define TRE_IMSI_MIN 6
#define TRE_MCIM_ID_LEN 16
#define TRE_CHANGE_ID_LEN 16     /* a change of subscription's changeId */
#define TRE_TRIGGER_NONCE_LEN 16 /* TreActivate.nonce */
#define TRE_AKA_KEY_LEN 16       /* K and OPc */
#define TRE_SLOT_MAX 63          /* "pcid", "mcim:" and 32 hex digits */
#define TRE_WAITERS 8            /* requests waiting for the agency's CRL at once */

typedef struct tre tre;

/* ---- settings.c: the tre group of the configuration file ------------------------------------- */

typedef struct tre_component {
	char name[TRE_NAME_MAX + 1];
	char file[TRE_PATH_MAX + 1];
	int reg;  /* the register its measurement extends, 0..7 */
} tre_component;

/* A PCID credential as the factory's file gives it (pcid.c). */
typedef struct tre_pcid {
	int present;
	char imsi[TRE_IMSI_MAX + 1];
	uint8_t k[TRE_AKA_KEY_LEN], opc[TRE_AKA_KEY_LEN];  /* SECRET */
	int64_t valid_until;                               /* Unix seconds */
} tre_pcid;

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
	char m2me[M2M_ENTITY_MAX + 1];             /* its M2ME: the only sender of treCredentialRequest,
						      treAkaRequest, treProvision ("" none) */
	char m2me_id[TRE_IMEI_LEN + 1];            /* the M2ME's IMEI: M2ME_ID of the discovery ("" none) */
	char drf[M2M_ENTITY_MAX + 1];              /* the registration operator: signs tickets, owns the PCID */
	char pcid_file[TRE_PATH_MAX + 1];          /* the factory's PCID file ("" none) */
	tre_pcid pcid;                             /* read from it at configuration, imported at start */
	int switch_seconds;                        /* a change: how long the attach with the new MCIM may take */
	int trigger_window;                        /* 3b: a treTrigger's issuedAt within this many seconds of now */
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

/* The same over the DER of an ASN.1 template value, into so->cms (so allocated by the caller). */
int tre_keystore_sign_item(tre *t, const ASN1_ITEM *item, const void *value, M2M_SIGNED_OBJECT *so);
/* Opens a CMS AuthEnvelopedData addressed to the attestation key's certificate (an MCIM
 * package): content OPENSSL_malloc'd, SECRET (free with OPENSSL_clear_free). M2M_OK, or
 * m2m_cms_decrypt's reason (badSignature: for another key, or tampered); wrongState before
 * enrolment. */
m2m_reason tre_keystore_decrypt(tre *t, const uint8_t *der, size_t len, uint8_t **content, size_t *clen);

/* Credential slots (the PCID's, the MCIMs'), sealed with the slot name as associated data.
 * owner: the operator that issued it. A new slot only (an existing name is an error). 0 or -1. */
int tre_slot_put(tre *t, const char *slot, const char *owner, const uint8_t *secret, size_t len);
/* Opens a slot into out (max bytes); the length, or -1 when absent, too long or not opening.
 * Refused (-1) while credentials are withheld (tre_credentials_allowed). */
long tre_slot_get(tre *t, const char *slot, uint8_t *out, size_t max);
int tre_slot_count(tre *t);
/* Zeroisation: every slot deleted and its pages overwritten, and with them (ON DELETE CASCADE)
 * the PCID's and the MCIMs' rows and their SQN state; 0 or -1. */
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
 * extra (may be NULL) as intermediates; the CRL held while it is current (crl.c). */
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

/* ---- credentials: pcid.c, mcim_store.c, credential.c ---------------------------------------- */

/* One network credential the TRE holds: the PCID, or an MCIM (its row; the keys stay sealed in
 * the slot). */
typedef struct tre_credential {
	m2m_credential_kind kind;
	char slot[TRE_SLOT_MAX + 1];
	char imsi[TRE_IMSI_MAX + 1];
	char owner[M2M_ENTITY_MAX + 1];     /* the PCID's: the registration operator; an MCIM's: its SHO */
	int64_t valid_until;                /* PCID */
	uint8_t mcim_id[TRE_MCIM_ID_LEN];   /* MCIM */
	int version;                        /* MCIM: 1..255 */
	m2m_mcim_state state;               /* MCIM: installed, active or inactive */
} tre_credential;

/* Reads the factory's PCID file: 1 when there is no such file, 0 read, -1 malformed (why). */
int tre_pcid_file_read(const char *path, tre_pcid *out, char *why, size_t whylen);
/* At start: imports the PCID read from pcid_file when the TRE holds none, then deletes the file
 * (the factory's one-time injection channel). 0 or -1. */
int tre_pcid_import(tre *t);
/* From the tick: a factory file that appeared while the TRE runs is imported like one found at
 * start (the supplier's tool may run after power-on); a malformed one is reported once. */
void tre_pcid_poll(tre *t);
/* The PCID held: 0, 1 when none, -1 on a database failure. */
int tre_pcid_held(tre *t, tre_credential *c);
int tre_pcid_valid(const tre_credential *c);

/* A new MCIM in a new slot with its keys sealed and a fresh SQN state accepting what follows
 * sqn; m gives id, owner, imsi and version, and gets its slot and state (active when
 * may_activate and no other is, else installed). 0 or -1. */
int tre_mcim_install(tre *t, tre_credential *m, const uint8_t k[TRE_AKA_KEY_LEN], const uint8_t opc[TRE_AKA_KEY_LEN],
		     uint64_t sqn, int may_activate);
/* The MCIM id as its owner names it (T-1a-12: every operation names the MCIM and its owner):
 * 0 found, M2M_R_NOT_FOUND, M2M_R_NOT_OWNER (it belongs to another operator), -1 database. */
int tre_mcim_find(tre *t, const uint8_t id[TRE_MCIM_ID_LEN], const char *owner, tre_credential *m);
/* The active MCIM: 0, 1 when none, -1. */
int tre_mcim_active(tre *t, tre_credential *m);
/* activate (the active one of any owner becomes inactive) or deactivate m (found by its owner);
 * m->state is updated. 0 or -1. */
int tre_mcim_set_state(tre *t, tre_credential *m, m2m_mcim_state state);
/* Zeroises m: its slot, row and SQN state deleted, the pages overwritten. 0 or -1. */
int tre_mcim_delete(tre *t, const tre_credential *m);
/* Whether an IMSI is the PCID's or an MCIM's already. */
int tre_imsi_held(tre *t, const char *imsi);
/* The owners of the MCIMs held: tamper report recipients. Count written (at most max). */
int tre_mcim_owners(tre *t, char owners[][M2M_ENTITY_MAX + 1], int max);
int tre_mcim_count(tre *t);

/* The credential to attach with: the MCIM switched to (switching), else the active MCIM, else the
 * PCID while valid; kind none when there is none or credentials are withheld
 * (tre_credentials_allowed). */
void tre_credential_current(tre *t, tre_credential *c);
/* The credential whose IMSI this is, when it may run AKA: the PCID, the active MCIM, or the MCIM
 * switched to. 0, M2M_R_NOT_FOUND, or -1. */
int tre_credential_for(tre *t, const char *imsi, tre_credential *c);
/* The SQN state of a credential (USIM side, TS 33.102 Annex C). 0 or -1. */
int tre_sqn_create(tre *t, const char *slot, uint64_t sqn);
int tre_sqn_load(tre *t, const char *slot, m2m_sqn_usim *u);
int tre_sqn_save(tre *t, const char *slot, const m2m_sqn_usim *u);
/* Why credentials are withheld: wrongState (not booted, secure boot failed) or tamperDetected. */
m2m_reason tre_withheld(const tre *t, char *why, size_t len);
/* 1 (and req refused with notAuthorised) unless the sender is the configured M2ME. */
int tre_refuse_unless_m2me(tre *t, m2m_request *req);
M2M_TRE_CREDENTIAL *tre_credential_body(tre *t);
void tre_credential_request(tre *t, m2m_request *req);

/* ---- aka.c: AKA with a credential (TS 33.102 6.3.3) ---------------------------------------- */

/* treAkaRequest: M2M_OK with *resp (res, ck, ik, or auts alone on a synchronisation failure;
 * the SQN state persisted), or the refusal (macFailure, notFound, ...) with why. */
m2m_reason tre_aka_run(tre *t, const M2M_TRE_AKA_REQUEST *q, M2M_TRE_AKA_RESPONSE **resp, char *why, size_t len);
void tre_aka(tre *t, m2m_request *req);

/* ---- crl.c: the agency's CRL --------------------------------------------------------------- */

/* Keeps a CRL (DER) of the agency's issuing CA: signed by it, not older than the one held;
 * persisted. M2M_OK or m2m_trust_set_crl's reason with why. */
m2m_reason tre_crl_accept(tre *t, const uint8_t *der, size_t len, char *why, size_t whylen);
int tre_crl_load(tre *t);
/* A CRL is held and its nextUpdate has not passed: revocation can be checked. */
int tre_crl_current(const tre *t);
/* Runs run(t, req) once a current CRL is held: at once when one is and !fetch; else after a
 * crlRequest to the agency, req deferred meanwhile (refused if no CRL comes). */
void tre_with_crl(tre *t, m2m_request *req, int fetch, void (*run)(tre *t, m2m_request *req));

/* ---- relay.c: signed objects and relayed bodies -------------------------------------------- */

/* DER of a SignedObject over value (item), signed by the TRE: a relayed body. 0 or -1. */
int tre_signed_der(tre *t, const ASN1_ITEM *item, const void *value, uint8_t **der, size_t *len);
/* A relayed body (DER) of message type type, decoded strictly: the body, or NULL. */
void *tre_body_decode(int type, const uint8_t *der, size_t len);
/* Who signed a verified object: its certificate's CN and m2m_cert_profile. */
typedef struct tre_signer {
	char cn[M2M_ENTITY_MAX + 1];
	int profile;
} tre_signer;
/* Verifies a SignedObject over item (what: "the ticket", for why) against the agency's root and
 * the current CRL: M2M_OK with *value and its signer; wrongState when no current CRL is held
 * (revocation could not be checked); otherwise lib/pki's reason. */
m2m_reason tre_verify_signed(tre *t, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, const char *what, void **value,
			     tre_signer *signer, char *why, size_t len);
/* The signer is cn, certified for profile: M2M_OK, else bad_profile or bad_cn with why. */
m2m_reason tre_signer_check(const tre_signer *s, int profile, const char *cn, m2m_reason bad_profile, m2m_reason bad_cn,
			    const char *what, char *why, size_t len);

/* ---- provision.c, ticket.c, package.c: the MCIM download (docs/alt1a.md) ------------------- */

/* The procedure as persisted (table tre_provision). */
typedef struct tre_provision_state {
	m2m_provision_state state;
	m2m_reason reason;     /* failed: why */
	m2m_reason refusal;    /* confirming: the InstallResult refused the package for this reason */
	uint8_t nonce[TRE_NONCE_LEN], nonce2[TRE_NONCE_LEN];
	uint8_t mcim_id[TRE_MCIM_ID_LEN];
	char sho[M2M_ENTITY_MAX + 1], dpf[M2M_ENTITY_MAX + 1];
	uint8_t *ticket;       /* the DRF's discoveryResponse CMS, as received */
	size_t ticket_len;
	uint8_t *step;         /* DER of the RelayStep the M2ME is to relay */
	size_t step_len;
	int has_change;        /* the procedure runs for a change of subscription: */
	uint8_t change_id[TRE_CHANGE_ID_LEN];
	int64_t deadline;      /* switching: the attach with the new MCIM before this (Unix seconds) */
	uint8_t *card;         /* 3b: the APDU the M2ME is to send to its UICC next */
	size_t card_len;
} tre_provision_state;

/* provision_store.c: the row, read at the start of a step and written before its reply. Both 0
 * or -1; free releases what load allocated (and zeroes p). */
int tre_provision_load(tre *t, tre_provision_state *p);
int tre_provision_save(tre *t, const tre_provision_state *p);
void tre_provision_free(tre_provision_state *p);
/* Copies a BLOB column into a new buffer (NULL when empty). 0 or -1. */
int tre_copy_blob(sqlite3_stmt *st, int col, uint8_t **out, size_t *len);
/* The step to relay next: a RelayStep {destination, type, body}; body (OPENSSL_malloc'd) is
 * taken. 0 or -1. */
int tre_provision_step(tre_provision_state *p, const char *destination, int type, uint8_t *body, size_t len);
void tre_provision_no_step(tre_provision_state *p);
/* The card step (3b): a copy of the APDU. 0 or -1. */
int tre_provision_card(tre_provision_state *p, const uint8_t *apdu, size_t len);
/* failed, with the reason, nothing to relay. */
void tre_provision_fail(tre_provision_state *p, m2m_reason reason);
/* The procedure's state as stored, or -1. */
int tre_provision_state_now(tre *t);

/* One treProvision: M2M_OK with *next (state persisted), or a refusal that changed nothing. */
m2m_reason tre_provision_run(tre *t, const M2M_TRE_PROVISION *p, M2M_TRE_PROVISION_NEXT **next, char *why,
			     size_t len);
void tre_provision(tre *t, m2m_request *req);

/* The discoveryRequest body for nonce, with change_id (NULL: none). 0 or -1. */
int tre_discovery_der(tre *t, const uint8_t nonce[TRE_NONCE_LEN], const uint8_t *change_id, uint8_t **der, size_t *len);
/* Checks a discoveryResponse body (a SignedObject over RegistrationTicket) against the
 * discovery p is in; on M2M_OK p gets the ticket, its SHO and DPF. */
m2m_reason tre_ticket_accept(tre *t, const M2M_SIGNED_OBJECT *so, tre_provision_state *p, char *why, size_t len);
/* The mcimRequest body: McimOrder {tre, ticket, nonce2}, signed. 0 or -1. */
int tre_order_der(tre *t, const tre_provision_state *p, uint8_t **der, size_t *len);

/* Opens an mcimPackage for the order p is in. A refusal (no state change) when it is not
 * authentic or not for this order: not for this TRE's key, a signer that is not the ticket's
 * SHO (operatorFunction, CN = sho) or whose certificate is revoked, an old nonce. M2M_OK with
 * *mcim (free with tre_mcim_free) otherwise. */
m2m_reason tre_package_open(tre *t, const M2M_MCIM_PACKAGE *pkg, const tre_provision_state *p, M2M_MCIM **mcim,
			    char *why, size_t len);
/* Installs an authentic Mcim (all or nothing): M2M_OK, or the reason to refuse it in the
 * InstallResult. In a change it is installed, not active, and replaces the new MCIM of a failed
 * attempt of the same SHO. */
m2m_reason tre_package_install(tre *t, const M2M_MCIM *mcim, const tre_provision_state *p, char *why, size_t len);
void tre_mcim_free(M2M_MCIM *m);
/* The installResult body: InstallResult {mcimId, tre, nonce2, installed or refused (reason)}. */
int tre_install_result_der(tre *t, const tre_provision_state *p, uint8_t **der, size_t *len);

/* ---- commands.c: the MCIM owner's commands (TR O4, T-1a-9, T-1a-12) ------------------------ */

/* mcimCommand: M2M_OK with the signed receipt in receipt, or a refusal that changed nothing. */
m2m_reason tre_command_run(tre *t, const M2M_SIGNED_OBJECT *so, M2M_SIGNED_OBJECT *receipt, char *why, size_t len);
void tre_mcim_command(tre *t, m2m_request *req);

/* ---- change.c, switch.c: the change of subscription (docs/alt1a-change.md) ------------------ */

/* The open change (table tre_change): from its owner's reprovision until the DRF's
 * changeCompleteAck. */
typedef struct tre_change {
	uint8_t change_id[TRE_CHANGE_ID_LEN];
	char owner[M2M_ENTITY_MAX + 1];            /* the SHO whose MCIM the change replaces */
	uint8_t mcim_id[TRE_MCIM_ID_LEN];          /* that MCIM: active until the switch commits */
	int committed;                             /* the new MCIM is the active one */
	int has_superseded;                        /* the new MCIM of a rolled-back attempt */
	uint8_t superseded[TRE_MCIM_ID_LEN];
} tre_change;

/* 0 (c filled), 1 when no change is open (c zeroed), -1. */
int tre_change_load(tre *t, tre_change *c);
int tre_change_save(tre *t, const tre_change *c);
int tre_change_close(tre *t);
/* A command (action) on MCIM m while a change is open: wrongState (with why) when it would take
 * the fallback MCIM away or touch the one being switched to; M2M_OK otherwise. */
m2m_reason tre_change_guard(tre *t, int action, const tre_credential *m, char *why, size_t len);
/* reprovision {change_id} on m, its owner's: m must be active; records the change (the same
 * change again: nothing to do; another one: replaces it unless it is under way). */
m2m_reason tre_change_begin(tre *t, const uint8_t change_id[TRE_CHANGE_ID_LEN], const tre_credential *m, char *why,
			    size_t len);
/* The new MCIM of a failed attempt, when owner's, is zeroised: the new package replaces it. */
int tre_change_supersede(tre *t, const char *owner);

/* While switching: 0 with the MCIM switched to in *b; 1 when not switching; -1. */
int tre_switch_target(tre *t, tre_credential *b);
/* installAck in a change: switching until now + switch_seconds. */
m2m_reason tre_switch_begin(tre *t, tre_provision_state *p);
/* The step changeComplete (SignedObject over ChangeComplete {changeId, tre, sho, mcimId}) to
 * the DRF, state completing. 0 or -1. */
int tre_switch_completing(tre *t, tre_provision_state *p);
/* From the tick and before every request: a switch past its deadline is rolled back (timeout). */
void tre_switch_expire(tre *t);
/* treAttached: commits or rolls back a switch (one transaction each); M2M_OK with the credential
 * to attach with now, or badBody. */
m2m_reason tre_attached_run(tre *t, const M2M_TRE_ATTACHED *q, M2M_TRE_CREDENTIAL **credential, char *why, size_t len);
void tre_attached(tre *t, m2m_request *req);

/* ---- trigger.c: the DRF's treTrigger of Alternative 3b (docs/alt3b.md) ---------------------- */

/* The change a trigger opened (table tre_uicc_change): later steps register it with the DRF. */
typedef struct tre_uicc_change {
	uint8_t change_id[TRE_CHANGE_ID_LEN];
	char drf[M2M_ENTITY_MAX + 1];
	uint8_t nonce[TRE_TRIGGER_NONCE_LEN];   /* TreActivate.nonce: the registration's triggerNonce */
} tre_uicc_change;

/* A treTrigger's signed TreActivate: M2M_OK with the change persisted in *c (and its nonce used),
 * or a refusal that stored nothing: badSignature, notAuthorised (not the configured DRF, not of
 * profile registration), wrongRecipient (another TRE), outOfWindow (issuedAt more than
 * trigger_window seconds from now), replayed (a nonce seen before), badBody; wrongState without a
 * current CRL. */
m2m_reason tre_trigger_run(tre *t, const M2M_TRE_TRIGGER *q, tre_uicc_change *c, char *why, size_t len);
/* The change opened by a trigger: 0 (c filled), 1 when none is, -1. */
int tre_uicc_change_load(tre *t, const uint8_t change_id[TRE_CHANGE_ID_LEN], tre_uicc_change *c);
void tre_trigger(tre *t, m2m_request *req);

/* ---- uicc_change.c, uicc_card.c, uicc_change_store.c: the 3b procedure (docs/alt3b.md) ------ */

#define TRE_CARD_NONCE_LEN 16         /* the card's GET CHALLENGE */
#define TRE_CARD_CERT_MAX 4096        /* UiccChangeRegistration.cardCertificate */
#define TRE_UICC_PACKAGE_MAX 8192     /* what the card's STORE DATA chain takes (docs/uicc.md) */
#define TRE_STORE_BLOCK 240           /* STORE DATA bytes per block */
#define TRE_APDU_MAX (5 + 255)

/* Where the procedure is: each phase but the two waiting for treAttached (switched, rolledBack)
 * and the two relayed steps (register, complete) is one card step. */
typedef enum tre_uicc_phase {
	TRE_UICC_OVER = 0,           /* done or failed: nothing under way */
	TRE_UICC_SELECT_ICCID,       /* uiccRegistering */
	TRE_UICC_READ_ICCID,
	TRE_UICC_GET_CERTIFICATE,
	TRE_UICC_GET_CHALLENGE,
	TRE_UICC_REGISTER,           /* uiccChangeRegister to the DRF */
	TRE_UICC_STORE,              /* uiccLoading: STORE DATA block `block` */
	TRE_UICC_SWITCH,
	TRE_UICC_SWITCHED,           /* uiccSwitching: the M2ME attaches with B's IMSI */
	TRE_UICC_ROLLBACK,
	TRE_UICC_ROLLED_BACK,        /* uiccSwitching: the M2ME attaches with A's IMSI again */
	TRE_UICC_COMPLETE,           /* uiccCompleting: uiccChangeComplete to the DRF */
	TRE_UICC_COMMIT,
	TRE_UICC_PROBE_ADF,          /* reading EF_IMSI: where the card is, after `probe` was unsure */
	TRE_UICC_PROBE_EF,
	TRE_UICC_PROBE_READ,
} tre_uicc_phase;

/* The procedure's own row (table tre_uicc_procedure); the state reported and the step or card
 * APDU to send are in tre_provision, written in the same transaction. */
typedef struct tre_uicc_procedure {
	uint8_t change_id[TRE_CHANGE_ID_LEN];
	tre_uicc_phase phase;
	tre_uicc_phase probe;        /* the probe phases: the step whose answer left the card unknown */
	int card_switched;           /* SWITCH was sent and neither ROLLBACK nor COMMIT confirmed since */
	char iccid[M2M_ICCID_MAX + 1];
	uint8_t *certificate;        /* the card's DER certificate, as far as read */
	size_t certificate_len;
	uint8_t card_nonce[TRE_CARD_NONCE_LEN];
	char sho[M2M_ENTITY_MAX + 1];        /* what the delivery names: reported, not checked */
	char imsi[TRE_IMSI_MAX + 1];         /* B's IMSI, from the delivery */
	uint8_t *package;            /* ciphertext only: the card alone opens it */
	size_t package_len;
	int block;                   /* STORE DATA: the block to send */
	int result;                  /* m2m_uicc_change_result, -1 before the attach decided */
	char attached[TRE_IMSI_MAX + 1];     /* the IMSI the device attached with */
	m2m_reason attach_reason;    /* why the attach with B did not work */
} tre_uicc_procedure;

/* uicc_change_store.c: 0, 1 when there is no row yet (u zeroed, result -1), -1. */
int tre_uicc_procedure_load(tre *t, tre_uicc_procedure *u);
int tre_uicc_procedure_save(tre *t, const tre_uicc_procedure *u);
void tre_uicc_procedure_free(tre_uicc_procedure *u);
/* The change of the latest trigger still open: 0 (c filled), 1 none, -1. */
int tre_uicc_change_open(tre *t, tre_uicc_change *c);
/* The change is over (done): it and every change triggered before it are closed. 0 or -1. */
int tre_uicc_change_close(tre *t, const uint8_t change_id[TRE_CHANGE_ID_LEN]);

/* uicc_card.c: the card steps and what their answers mean. */
typedef struct tre_apdu {
	uint8_t b[TRE_APDU_MAX];
	size_t len;
} tre_apdu;
/* The APDU of a card phase (STORE DATA: block u->block of u->package). 0, -1 for no card phase. */
int tre_uicc_apdu(const tre_uicc_procedure *u, tre_apdu *a);
/* The whole length of a DER SEQUENCE from its first bytes: > 0, 0 when more bytes are needed to
 * tell, -1 when it is no SEQUENCE of at most TRE_CARD_CERT_MAX bytes. */
long tre_der_length(const uint8_t *der, size_t len);
/* The reason a refusal of the last STORE DATA block stands for (docs/uicc.md), with its text. */
m2m_reason tre_store_data_refusal(unsigned sw, const char **text);
/* SW 9000, or 91XX (proactive command pending: SWITCH and ROLLBACK queue REFRESH). */
int tre_sw_ok(unsigned sw);

/* uicc_change.c: the procedure. Whether state is one of the 3b procedure. */
int tre_uicc_state(int state);
/* treProvision {} with a 3b change open and no procedure under way: registers the change again
 * from its start, or resumes where the card is when it may hold B's credentials. */
m2m_reason tre_uicc_start(tre *t, tre_provision_state *p, const tre_uicc_change *c, char *why, size_t len);
/* treProvision in a 3b state: the card's answer, the relayed answer, or neither (the step again;
 * a STORE DATA chain restarts at block 0). */
m2m_reason tre_uicc_next(tre *t, const M2M_TRE_PROVISION *q, tre_provision_state *p, char *why, size_t len);
/* treAttached while the card switched or rolled back (state uiccSwitching). 0 or -1. */
int tre_uicc_attached(tre *t, const char *imsi, int failed, m2m_reason reason);

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
/* The background work: the switch deadline, enrolment, platform type, tamper reports. Called
 * after every event. */
void tre_tick(tre *t);

/* ---- schema.c --------------------------------------------------------------------------------- */

extern const m2m_schema tre_schema;
/* All or nothing, inside a step's transaction or on its own: tre_release undoes every write
 * since tre_savepoint when failed. Both 0 or -1. */
int tre_savepoint(sqlite3 *db);
int tre_release(sqlite3 *db, int failed);
/* The number a `SELECT COUNT(...)` gives; 0 when it fails. */
int tre_count(sqlite3 *db, const char *sql);

/* ---- the context ------------------------------------------------------------------------------ */

/* A request waiting for the agency's CRL (crl.c). */
typedef struct tre_waiter {
	m2m_request *req;
	void (*run)(tre *t, m2m_request *req);
} tre_waiter;

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
	uint8_t *crl;             /* the agency's CRL (DER), NULL until fetched */
	size_t crl_len;
	uint64_t crl_number;
	int64_t crl_next_update;
	int crl_in_flight;
	tre_waiter waiters[TRE_WAITERS];
	int pcid_file_refused;    /* a malformed factory file was reported: not again */
};

/* Sets up a TRE over an open database (schema applied): keys, platform type, tamper state.
 * Does not boot. 0 or -1. */
int tre_open(tre *t, const char *entity, sqlite3 *db, m2m_node *node);
/* Boots when the reference values are known; the tick then sends what is due. */
int tre_power_on(tre *t);
void tre_close(tre *t);

#endif
