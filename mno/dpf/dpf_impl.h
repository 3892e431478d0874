/*
 * The DPF inside the mno daemon: its context, its persisted orders and changes, and the
 * procedures dpf.c hands requests to, one file each (order.c, validate.c, mcim.c, package.c,
 * install.c, notify.c, tamper.c, command.c; for a change of subscription consent.c, release.c,
 * change_command.c). Every procedure runs inside the node's step transaction and
 * writes its state before it replies; a refusal changes nothing.
 *
 * One order is one state machine, keyed by the TRE and the order's nonce (table dpf_order):
 *
 *   validating --(fresh OK verdict: MCIM, pending HSS record, package)--> packaged
 *   packaged --(installResult installed: HSS active, provisioned to the DRF)--> installed
 *   packaged --(installResult refused: HSS record deleted)--> refused
 *   packaged --(a newer order of the TRE packaged, or a tamper report)--> withdrawn
 *
 * An order refused before it is packaged (a verdict other than a fresh OK) leaves no row: the
 * device may order again with the same nonce once the cause is gone.
 *
 * A change of subscription taking an installed MCIM away to another SHO is one more state
 * machine, keyed by its changeId (table dpf_change, docs/alt1a-change.md, SHO A):
 *
 *   (changeNotify, not locked) consented --(reprovision receipt)--> triggered
 *   consented or triggered --(changeRelease)--> released --(delete receipt, HSS record deleted)--> deleted
 *
 * In consented and released the signed mcimCommand is stored and sent from the tick until the
 * TRE answers it.
 */
#ifndef MNO_DPF_IMPL_H
#define MNO_DPF_IMPL_H

#include "dpf/dpf.h"
#include "dpf/settings.h"

#include "daemon/identity.h"
#include "pki/pki.h"
#include "pki/tre_signed.h"

#include <stdint.h>

#define DPF_NONCE_LEN 32
#define DPF_MCIM_ID_LEN 16
#define DPF_CHANGE_ID_LEN 16
#define DPF_KEY_LEN 16  /* what an in-flight call is about: an mcimId or a changeId */
#define DPF_ACTOR "dpf"  /* the HSS audit trail's actor for what the DPF does */

typedef struct dpf_wait dpf_wait;

/* A call sent from the tick and not answered yet (flight.c). */
typedef struct dpf_flight {
	struct dpf_context *dpf;
	uint8_t key[DPF_KEY_LEN];        /* the mcimId of a notice, the changeId of a command */
	uint8_t nonce[DPF_NONCE_LEN];    /* a command's: its answer must be about that one */
	struct dpf_flight *next;
} dpf_flight;

struct dpf_context {
	dpf_settings settings;
	hss_context *hss;  /* the MCIMs' subscriber records are the HSS's, sealed with its key */
	m2m_node *node;    /* NULL until started */
	sqlite3 *db;
	m2m_identity *id;                 /* the operator's (mno_context.id), not the DPF's own */
	char entity[M2M_ENTITY_MAX + 1];  /* the SHO tickets must name, the MCIMs' owner */
	dpf_wait *waits;                  /* orders awaiting their verdict (validate.c) */
	dpf_flight *notices;              /* provisioned calls in flight (notify.c) */
	int64_t notify_due;               /* when unacknowledged provisioned are sent again */
	dpf_flight *commands;             /* mcimCommands of changes in flight (change_command.c) */
	int64_t command_due;              /* when unanswered commands are sent again */
};

/* ---- calls in flight (flight.c) -------------------------------------------------------------- */

/* A new entry about key at the head of *list (NULL: out of memory). */
dpf_flight *dpf_flight_add(dpf_flight **list, dpf_context *dpf, const uint8_t key[DPF_KEY_LEN]);
int dpf_flying(const dpf_flight *list, const uint8_t key[DPF_KEY_LEN]);
/* Takes x off *list and frees it. */
void dpf_flight_end(dpf_flight **list, dpf_flight *x);
void dpf_flights_free(dpf_flight **list);
/* Whether what the tick retries is due now (*due passed); if so the next retry is set retry_s
 * from now. */
int dpf_due(int64_t *due, int retry_s);

/* ---- orders (order_store.c) ------------------------------------------------------------------- */

typedef enum dpf_order_state {
	DPF_VALIDATING, DPF_PACKAGED, DPF_INSTALLED, DPF_REFUSED, DPF_WITHDRAWN
} dpf_order_state;

typedef struct dpf_order {
	int64_t id;                          /* increasing: a later order has a larger id */
	char tre[M2M_ENTITY_MAX + 1];
	uint8_t nonce[DPF_NONCE_LEN];
	dpf_order_state state;
	uint8_t *tre_cert;                   /* DER of the certificate that signed the order: the recipient */
	size_t tre_cert_len;
	uint8_t mcim_id[DPF_MCIM_ID_LEN];   /* packaged onwards */
	char imsi[HSS_IMSI_MAX + 1];         /* packaged onwards */
	uint8_t *package;                    /* packaged onwards: DER AuthEnvelopedData */
	size_t package_len;
} dpf_order;

const char *dpf_order_state_name(dpf_order_state s);
/* The index of name among names[0..n-1] (a state stored by its name), or -1. */
int dpf_name_index(const char *const *names, int n, const char *name);
void dpf_order_clear(dpf_order *o);
/* 0 with the order, 1 when there is none, -1 on a database error. */
int dpf_order_find(sqlite3 *db, const char *tre, const uint8_t nonce[DPF_NONCE_LEN], dpf_order *o);
int dpf_order_by_id(sqlite3 *db, int64_t id, dpf_order *o);
int dpf_order_by_mcim(sqlite3 *db, const uint8_t mcim_id[DPF_MCIM_ID_LEN], dpf_order *o);
/* A new order validating (o->id set); 0 or -1. */
int dpf_order_insert(sqlite3 *db, dpf_order *o);
/* Its MCIM made: mcimId, IMSI and package stored, state packaged; 0 or -1. */
int dpf_order_packaged(sqlite3 *db, const dpf_order *o);
int dpf_order_set_state(sqlite3 *db, int64_t id, dpf_order_state state);
int dpf_order_delete(sqlite3 *db, int64_t id);
/* A prepared query's answer (st finalized; NULL from a failed prepare): 1 a row, 0 none, -1 error. */
int dpf_exists(sqlite3_stmt *st);
/* Column i of a row, a BLOB or NULL, into a malloc'd *out (NULL, *len 0 for NULL): 0 or -1. */
int dpf_column_copy(sqlite3_stmt *st, int i, uint8_t **out, size_t *len);
/* Whether the TRE placed an order after this one that is still alive (validating or packaged): 1,
 * 0, or -1 on error. */
int dpf_order_superseded(sqlite3 *db, const dpf_order *o);

/* The orders of a TRE in one state, as (id, IMSI) pairs: malloc'd, *n of them; NULL with *n 0
 * when none, NULL with *n -1 on a database error. */
typedef struct dpf_order_ref {
	int64_t id;
	char imsi[HSS_IMSI_MAX + 1];
} dpf_order_ref;
dpf_order_ref *dpf_order_refs(sqlite3 *db, const char *tre, dpf_order_state state, int *n);
/* Withdraws an order and deletes its pending HSS record: M2M_OK or internalError. */
m2m_reason dpf_order_withdraw(dpf_context *dpf, const dpf_order_ref *ref, const char *why);

/* ---- signed objects from a TRE (tre_signed.c) ------------------------------------------------ */

/* m2m_cms_verify_tre_item under trust: M2M_OK with s filled (the signer's CN in s->tre is the TRE
 * the content names), or badSignature (also for what is not a SignedData), badBody, badChain,
 * certificateExpired, certificateRevoked, modelRevoked or internalError (no trust store yet), with
 * s->why. Clear s after. */
m2m_reason dpf_tre_signed(m2m_trust *trust, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, size_t tre_field,
			  m2m_tre_signed *s);
/* Whether a UTF8String of the module equals name. */
int dpf_same_name(const ASN1_STRING *s, const char *name);

/* ticket.c: the DRF's RegistrationTicket (DER SignedData) an order carries, for tre, naming this
 * operator, not expired; with change_id (not NULL), a ticket naming a change must name that one.
 * M2M_OK, or badSignature, notAuthorised, wrongSho, wrongState, badBody with why. */
m2m_reason dpf_ticket_check(dpf_context *dpf, m2m_trust *trust, ASN1_OCTET_STRING *der, const char *tre,
			    const uint8_t *change_id, char *why, size_t len);

/* ---- procedures -------------------------------------------------------------------------------- */

void dpf_mcim_request(dpf_context *dpf, m2m_request *req);           /* order.c */
void dpf_install_result(dpf_context *dpf, m2m_request *req);         /* install.c */
void dpf_tamper_report(dpf_context *dpf, m2m_request *req);          /* tamper.c */

/* validate.c: asks the PVA about the order's TRE and defers req until the verdict; a second
 * request for an order already waiting joins it. On a fresh OK verdict the order is packaged
 * (dpf_package_order) and every request waiting on it gets the package. */
void dpf_validate(dpf_context *dpf, m2m_request *req, const dpf_order *o);
void dpf_waits_free(dpf_context *dpf);
/* The same for any row waiting on a verdict about tre: decided gets the verdict (M2M_OK for a
 * fresh OK, else the reason with why) in the answer's own step, with the requests waiting, and
 * answers them (m2m_reply, m2m_refuse_recorded). A wait is one (decided, id). */
typedef void (*dpf_decided_cb)(dpf_context *dpf, int64_t id, m2m_reason verdict, const char *why,
			       m2m_request **reqs, int nreqs);
void dpf_validate_tre(dpf_context *dpf, m2m_request *req, const char *tre, int64_t id, dpf_decided_cb decided);

/* mcim.c: the MCIM of an order, its IMSI the next free of the range and its subscriber record
 * created pending (keys sealed by the HSS). M2M_OK with *mcim (free with dpf_mcim_free, which
 * wipes K and OPc) and o->imsi, o->mcim_id set; poolExhausted or internalError with why. */
m2m_reason dpf_mcim_make(dpf_context *dpf, dpf_order *o, M2M_MCIM **mcim, char *why, size_t len);
void dpf_mcim_free(M2M_MCIM *m);

/* package.c: makes the order's MCIM and its package, withdraws the TRE's older packaged orders,
 * and stores the order packaged (o updated). M2M_OK, or the reason with why (nothing written). */
m2m_reason dpf_package_order(dpf_context *dpf, dpf_order *o, char *why, size_t len);
/* Answers req with the order's stored package. */
void dpf_package_reply(dpf_context *dpf, m2m_request *req, const dpf_order *o);
/* Runs steps (writes of the caller's step) in a savepoint, all or nothing, once the operator's
 * identity is ready: the verdict's step, which does not roll back a refusal, must leave nothing of
 * a failure. steps' reason (with why), or internalError. */
typedef m2m_reason (*dpf_steps_cb)(dpf_context *dpf, void *arg, char *why, size_t len);
m2m_reason dpf_all_or_nothing(dpf_context *dpf, dpf_steps_cb steps, void *arg, char *why, size_t len);
/* The DER of value (template item) signed by the operator's identity, then encrypted to recipient
 * (the MCIM package, the 3b credential blob): *out malloc'd, the clear DER wiped. 0 or -1. */
int dpf_seal_item(dpf_context *dpf, const ASN1_ITEM *item, const void *value, X509 *recipient, uint8_t **out,
		  size_t *outlen);

/* notify.c: provisioned {tre, sho, mcimId} to the DRF, persisted in the caller's step and sent
 * until the DRF acknowledges it. */
int dpf_notify_add(dpf_context *dpf, const char *tre, const uint8_t mcim_id[DPF_MCIM_ID_LEN]);
void dpf_notify_tick(dpf_context *dpf);

/* ---- changes of subscription (change_store.c) ------------------------------------------------ */

typedef enum dpf_change_state { DPF_CONSENTED, DPF_TRIGGERED, DPF_RELEASED, DPF_DELETED } dpf_change_state;

typedef struct dpf_change {
	uint8_t change_id[DPF_CHANGE_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	uint8_t mcim_id[DPF_MCIM_ID_LEN];     /* this operator's MCIM the change takes away */
	char imsi[HSS_IMSI_MAX + 1];          /* its subscriber record */
	char to_sho[M2M_ENTITY_MAX + 1];
	dpf_change_state state;
	uint8_t nonce[DPF_NONCE_LEN];         /* consented and released: the pending command's */
	uint8_t *command;                     /* its DER CMS, as sent; NULL in triggered and deleted */
	size_t command_len;
} dpf_change;

const char *dpf_change_state_name(dpf_change_state s);
void dpf_change_clear(dpf_change *c);
/* 0 with the change, 1 when there is none, -1 on a database error. */
int dpf_change_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], dpf_change *c);
/* Whether a change of that MCIM is under way (not deleted): 1, 0, or -1 on error. */
int dpf_change_open_for(sqlite3 *db, const uint8_t mcim_id[DPF_MCIM_ID_LEN]);
/* A new change (state and pending command as in c); 0 or -1. */
int dpf_change_insert(sqlite3 *db, const dpf_change *c);
/* c's state and pending command (none but in consented and released); 0 or -1. */
int dpf_change_update(sqlite3 *db, const dpf_change *c);
/* deleted, with the TRE's signed receipt (NULL: proven without one); 0 or -1. */
int dpf_change_deleted(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], const uint8_t *receipt, size_t len);

/* ---- the changes' procedures ----------------------------------------------------------------- */

void dpf_change_notify(dpf_context *dpf, m2m_request *req);    /* consent.c */
void dpf_change_release(dpf_context *dpf, m2m_request *req);   /* release.c */
/* A release's answer (1a's and 3b's): the ack of type for change_id when r is M2M_OK, else the
 * refusal r with why (release.c). */
void dpf_release_answer(dpf_context *dpf, m2m_request *req, int type, const uint8_t change_id[DPF_CHANGE_ID_LEN],
			m2m_reason r, const char *why);
/* Alternative 3b (docs/alt3b.md): SHO B's credentials for the device's UICC, SHO A's release of
 * its IMSI once the device works on B. */
void dpf_uicc_order(dpf_context *dpf, m2m_request *req);       /* uicc_order.c */
void dpf_uicc_release(dpf_context *dpf, m2m_request *req);     /* uicc_release.c */

/* ---- Alternative 3b at SHO A: a change of a device on this operator's UICC (uicc_consent.c) --- */

typedef enum dpf_uicc_change_state { DPF_UICC_CONSENTED, DPF_UICC_RELEASED } dpf_uicc_change_state;

/* One row of dpf_uicc_change (schema.c has its state machine). */
typedef struct dpf_uicc_change {
	uint8_t change_id[DPF_CHANGE_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	char m2me[HSS_IMEI_MAX + 1];    /* the device the notify named */
	char imsi[HSS_IMSI_MAX + 1];    /* its card's subscriber record here */
	char to_sho[M2M_ENTITY_MAX + 1];
	dpf_uicc_change_state state;
	char iccid[HSS_ICCID_MAX + 1];  /* released: the card the release named; "" before */
} dpf_uicc_change;

/* 0 with the change, 1 when there is none, -1 on a database error. */
int dpf_uicc_change_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], dpf_uicc_change *u);
/* u released with u->iccid; 0 or -1. */
int dpf_uicc_change_released(sqlite3 *db, const dpf_uicc_change *u);
/* A new change c (changeId, tre, toSho of the notify) of the device m2me, whose TRE holds no MCIM
 * of this operator: the IMSI of the active subscriber attached with that device, unless it is
 * under a contract lock or another change, recorded consented (audited). M2M_OK with u; notFound,
 * contractLocked, wrongState or internalError with why, nothing written. */
m2m_reason dpf_uicc_consent(dpf_context *dpf, const dpf_change *c, const char *m2me, dpf_uicc_change *u, char *why,
			    size_t len);
/* Answers changeConsent {changeId, imsi}. */
void dpf_uicc_consent_reply(dpf_context *dpf, m2m_request *req, const dpf_uicc_change *u);

/* change_command.c: signs c's next mcimCommand (reprovision with the changeId, or delete) into
 * c->command and c->nonce, to be stored with c in the caller's step and sent from the tick until
 * the TRE answers. 0, or -1 (not enrolled, out of memory). */
int dpf_change_arm(dpf_context *dpf, dpf_change *c, m2m_mcim_action action);
void dpf_change_tick(dpf_context *dpf);

/* ---- Alternative 3b at SHO B: credentials for a device's UICC (uicc_order_store.c) ----------- */

/*
 * One change is one row of dpf_uicc_order (dpf_uicc_creds), its credentials made once (IMSI, sqnStart; K and OPc
 * in the HSS record, the OTA keyset in the OTA server); each card challenge of it one row of
 * dpf_uicc_package, a state machine:
 *
 *   validating --(fresh OK verdict: the change's credentials, once; the blob)--> packaged
 *
 * A verdict other than a fresh OK deletes the validating row, and the change's row when it has
 * no credentials and no other package: nothing is left of an order refused.
 */
#define DPF_CARD_NONCE_LEN 16

typedef struct dpf_uicc_creds {
	uint8_t change_id[DPF_CHANGE_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	char iccid[HSS_ICCID_MAX + 1];
	char imsi[HSS_IMSI_MAX + 1];  /* "" until the credentials are made */
	uint64_t sqn_start;
} dpf_uicc_creds;

typedef enum dpf_uicc_state { DPF_UICC_VALIDATING, DPF_UICC_PACKAGED } dpf_uicc_state;

typedef struct dpf_uicc_package {
	int64_t id;
	uint8_t change_id[DPF_CHANGE_ID_LEN];
	uint8_t card_nonce[DPF_CARD_NONCE_LEN];
	dpf_uicc_state state;
	uint8_t *card_cert;  /* DER: the recipient */
	size_t card_cert_len;
	uint8_t *package;    /* packaged: DER AuthEnvelopedData, as sent */
	size_t package_len;
} dpf_uicc_package;

/* 0 with the row, 1 when there is none, -1 on a database error. */
int dpf_uicc_order_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN], dpf_uicc_creds *o);
/* A new change without credentials; 0 or -1. */
int dpf_uicc_order_insert(sqlite3 *db, const dpf_uicc_creds *o);
/* Its credentials made: imsi and sqn_start stored; 0 or -1. */
int dpf_uicc_order_made(sqlite3 *db, const dpf_uicc_creds *o);
/* Deletes the change's row if it has no credentials and no package rows; 0 or -1. */
int dpf_uicc_order_forget(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN]);

void dpf_uicc_package_clear(dpf_uicc_package *p);
int dpf_uicc_package_find(sqlite3 *db, const uint8_t change_id[DPF_CHANGE_ID_LEN],
			  const uint8_t card_nonce[DPF_CARD_NONCE_LEN], dpf_uicc_package *p);
int dpf_uicc_package_by_id(sqlite3 *db, int64_t id, dpf_uicc_package *p);
/* A new row validating (p->id set); 0 or -1. */
int dpf_uicc_package_insert(sqlite3 *db, dpf_uicc_package *p);
/* validating -> packaged with p->package; 0 or -1. */
int dpf_uicc_package_packaged(sqlite3 *db, const dpf_uicc_package *p);
/* A validating row deleted; 0 or -1. */
int dpf_uicc_package_delete(sqlite3 *db, int64_t id);

/* uicc_package.c: asks the PVA about o's TRE for p (validating) and defers req; on a fresh OK the
 * change's credentials are made (once) and p packaged, and every request waiting gets
 * uiccCredentialPackage. */
void dpf_uicc_validate(dpf_context *dpf, m2m_request *req, const dpf_uicc_creds *o, const dpf_uicc_package *p);
/* Answers req with p's stored package. */
void dpf_uicc_package_reply(dpf_context *dpf, m2m_request *req, const dpf_uicc_creds *o, const dpf_uicc_package *p);

#endif
