/*
 * The platform validation authority inside certauth: its settings, its context, and the
 * procedures pva_serve hands requests to, one file each:
 *
 *   appraise.c/.h      the decision over plain values (no wire, no database): test_pva.c's table
 *   measure.c          log replay into registers, reference lookup
 *   evidence.c         Evidence from the wire into plain values, with the module's size checks
 *   (lib/wire/read.c reads constrained wire values)
 *   signed_evidence.c  the attestationEvidence as received: CMS, TRE certificate, platform type
 *   settings.c         the certauth.pva group
 *   schema.c           the tables; db.c how results and reasons are stored
 *   challenge_store.c  the nonces issued (single use, expiring)
 *   record.c           the latest outcome per TRE
 *   tamper_store.c     tamper reports received
 *   validate.c         validationRequest: challenge the TRE, defer the relying party
 *   attest.c           the TRE's answer: appraise, record, sign and send the verdict
 *   verdict.c          the Verdict and its signature
 *   tamper.c           tamperReport -> tamperAck
 *   status.c           validationStatusRequest -> validationStatus
 *   serve.c            the dispatch, and what a restart does to challenges under way
 *   pva.c              the context and the entry points of pva.h (the daemon glue)
 *   (lib/pki/verdict.c is the relying party's check of a verdict, for the operators)
 *
 * Every procedure runs inside the node's step transaction (lib/net/node.h): it writes its state
 * and then replies (committed first), or refuses bad input (rolled back).
 */
#ifndef CERTAUTH_PVA_IMPL_H
#define CERTAUTH_PVA_IMPL_H

#include "appraise.h"
#include "wire/read.h"
#include "pva.h"

#include "ca.h"
#include "pki/pki.h"
#include "wire/wire.h"

#include <sqlite3.h>
#include <stdint.h>

#define PVA_DEFAULT_VALIDITY_S 600
#define PVA_MAX_VALIDITY_S (7 * 24 * 3600)
#define PVA_DEFAULT_NONCE_LIFETIME_S 60
#define PVA_MAX_NONCE_LIFETIME_S 3600
#define PVA_REPORT_ID_LEN 16
#define PVA_REASONS_TEXT 80  /* 16 reason codes of at most 2 digits, comma separated */

/* ---- settings (settings.c) ------------------------------------------------------------------ */

typedef struct pva_settings {
	int restricted;   /* 0: every configured peer may ask */
	int nrelying;
	char relying[M2M_MAX_PEERS][M2M_ENTITY_MAX + 1];
	int64_t verdict_validity_s;
	pva_unknown_policy unknown;
	int64_t nonce_lifetime_s;
} pva_settings;

/* Reads the group (NULL: absent, the defaults) into out; nc: the configured peers. */
void pva_settings_read(m2m_conf *c, config_setting_t *group, const m2m_node_conf *nc, pva_settings *out);
/* Whether sender may ask for validations and validation status. */
int pva_may_ask(const pva_settings *s, const char *sender);
const char *pva_unknown_policy_name(pva_unknown_policy p);

/* ---- what the agency provides (ca.h), behind two functions so tests can stand in for it ----- */

typedef struct pva_agency {
	const ca_context *(*get)(void *arg);
	m2m_reason (*platform_type)(void *arg, const char *model, const char *version, M2M_PLATFORM_TYPE **out);
	void *arg;
} pva_agency;

/* ---- the context (pva.c) ------------------------------------------------------------------------ */

typedef struct pva_pending pva_pending;

typedef struct pva_context {
	pva_settings settings;
	pva_agency agency;
	m2m_node *node;   /* NULL until started */
	sqlite3 *db;
	pva_pending *pending;  /* challenges awaiting the TRE's answer (validate.c) */
	/* the clock: time(NULL), or a test's */
	int64_t (*now)(void);
} pva_context;

/* pva_dispatch without the daemon. */
void pva_serve(pva_context *p, m2m_request *req);
/* At start: nonces still 'issued' are abandoned (the requests they were for did not survive
 * the restart, and late evidence for them must not be accepted). Count, or -1. */
int pva_resume(pva_context *p);
void pva_pending_free_all(pva_context *p);

/* ---- reading the wire (evidence.c) ------------------------------------------------------------ */

int pva_read_mode(const ASN1_ENUMERATED *e, m2m_validation_mode *out);
/* An EntityId (1..63 characters, no NUL): 0 or -1. */
int pva_read_entity(const ASN1_STRING *s, char buf[M2M_ENTITY_MAX + 1]);
/* M2M_OK, or badBody when a field breaks the module's constraints. */
m2m_reason pva_evidence_from_wire(const M2M_EVIDENCE *w, pva_evidence *out);
/* The reference metrics of a PlatformType: 0, or -1 when one breaks the module's sizes. */
int pva_references_from_wire(const M2M_PLATFORM_TYPE *t, pva_references *out);

/* ---- the signed evidence (signed_evidence.c) ---------------------------------------------------- */

/* What appraising a received attestationEvidence needs besides the challenge. */
typedef struct pva_appraisal {
	m2m_trust *trust;
	const pva_agency *agency;  /* the certified platform types */
	pva_unknown_policy unknown;
	int64_t now;
} pva_appraisal;

/* The whole appraisal of an attestationEvidence body: signature and certificate (lib/pki),
 * Evidence, platform type, then pva_appraise. Evidence that cannot be believed gives a fail
 * with the reason why; M2M_R_INTERNAL is returned (out untouched) only when the PVA itself
 * could not do its work (the platform types could not be read). */
m2m_reason pva_appraise_signed(const pva_appraisal *a, const M2M_SIGNED_OBJECT *so, const pva_challenge *c,
			       pva_outcome *out);

/* ---- database (db.c, challenge_store.c, record.c, tamper_store.c) ------------------------------ */

int pva_result_parse(const char *name);
void pva_reasons_text(const pva_outcome *o, char *out, size_t len);

/* A new 'issued' nonce; 0 or -1. */
int pva_challenge_issue(sqlite3 *db, const pva_challenge *c, const char *relying_party, int64_t now);
/* 0, 1 when the nonce was never issued, -1 on a database error. */
int pva_challenge_load(sqlite3 *db, const uint8_t nonce[PVA_NONCE_LEN], pva_challenge *c);
/* 'issued' -> 'used' with the outcome of its appraisal; 0 or -1. */
int pva_challenge_spend(sqlite3 *db, const uint8_t nonce[PVA_NONCE_LEN], const pva_outcome *o);
/* 'issued' -> 'abandoned' (no evidence came); 0 or -1. */
int pva_challenge_abandon(sqlite3 *db, const uint8_t nonce[PVA_NONCE_LEN]);
int pva_challenge_abandon_all(sqlite3 *db);

typedef struct pva_record {
	char tre[M2M_ENTITY_MAX + 1];
	char relying_party[M2M_ENTITY_MAX + 1];
	m2m_validation_mode mode;
	m2m_verdict_result result;
	char reasons[PVA_REASONS_TEXT];
	uint8_t nonce[PVA_NONCE_LEN];
	int64_t validated_at, valid_until;
} pva_record;

int pva_record_save(sqlite3 *db, const pva_record *r);
/* 0, 1 when the TRE was never validated, -1 on a database error. */
int pva_record_load(sqlite3 *db, const char *tre, pva_record *r);
/* A tamper report: the TRE's record (if any) becomes fail, tamperDetected. 0 or -1. */
int pva_record_tampered(sqlite3 *db, const char *tre);

typedef struct pva_tamper {
	uint8_t report_id[PVA_REPORT_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	m2m_tamper_event event;
	char component[PVA_COMPONENT_MAX + 1];  /* "" for caseOpened */
	int64_t at;
	m2m_tamper_reaction reaction;
} pva_tamper;

/* 1 when recorded, 0 when this TRE's report was recorded already, -1 on a database error. */
int pva_tamper_save(sqlite3 *db, const pva_tamper *t, const uint8_t *report, size_t report_len, int64_t now);
const char *pva_tamper_event_name(m2m_tamper_event e);

/* ---- the verdict (verdict.c) -------------------------------------------------------------------- */

/* The Verdict of an appraisal, signed by the PVA into so (allocated by the caller); 0 or -1. */
int pva_verdict_sign(const ca_context *ca, const pva_record *r, const pva_outcome *o, M2M_SIGNED_OBJECT *so);
/* A Unix time as GeneralizedTime (set must not be NULL); 0 or -1. */
int pva_set_time(ASN1_GENERALIZEDTIME *t, int64_t at);

/* ---- the procedures ----------------------------------------------------------------------------- */

void pva_validation_request(pva_context *p, m2m_request *req);  /* validate.c */
/* The TRE's answer to the challenge of nonce, for the deferred request req (attest.c). */
void pva_evidence_answered(pva_context *p, m2m_request *req, const uint8_t nonce[PVA_NONCE_LEN],
			   const m2m_envelope *resp, m2m_reason reason);
void pva_tamper_report(pva_context *p, m2m_request *req);       /* tamper.c */
void pva_status_request(pva_context *p, m2m_request *req);      /* status.c */

#endif
