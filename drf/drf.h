/*
 * The registration operator (TR 33.812 5.1, Alternative 1a; docs/alt1a.md, docs/drf.md): one
 * process with two functions.
 *   ICF: the pool of provisional connectivity identities (PCIDs, IMSIs of its own PLMN) with their
 *        keys; it assigns them to TREs at manufacture and acts as the HSS/AuC of a PCID for the
 *        visited operator a device attaches through, gated on the PVA's verdict when so set.
 *   DRF: the registrations (which SHO and DPF a device is for) and the signed registration
 *        tickets a TRE's discovery gets; the DPF's `provisioned` releases the PCID.
 * Every procedure writes its state in the node's step transaction before its reply leaves, and a
 * refusal changes nothing (m2m_refuse rolls the step back).
 *
 * Everything but main() is a static library (drf_core) so that drf-admin and the tests share it.
 */
#ifndef DRF_H
#define DRF_H

#include "aka/aka.h"
#include "daemon/daemon.h"
#include "daemon/identity.h"
#include "pki/tre_signed.h"

#include <stdint.h>
#include <time.h>

#define DRF_IMSI_MAX 15
#define DRF_IMEI_MIN 14          /* Imei: IMEI (15) or IMEISV (16); 14 without the check digit */
#define DRF_IMEI_MAX 16
#define DRF_APN_MAX 100
#define DRF_POOL_MAX 1000000
#define DRF_LIST_MAX 32          /* suppliers, registrars */
#define DRF_NONCE_LEN 32         /* DiscoveryRequest.nonce */
#define DRF_ID_LEN 16            /* Provisioned.mcimId, DiscoveryRequest.changeId */
#define DRF_MAX_VECTORS 5
#define DRF_KEY_MAX 256          /* Registration.subscriberKey: DER SubjectPublicKeyInfo */
#define DRF_CHANGE_NONCE_LEN 16  /* ChangeAuthorisation.nonce */

typedef struct drf drf;

/* ---- settings.c: the drf group --------------------------------------------------------------- */

typedef enum drf_gate {
	DRF_GATE_AFTER_ATTACH,  /* vectors at once: the walled garden protects until the DPF validates */
	DRF_GATE_BEFORE_AV,     /* vectors only with a fresh OK verdict for the PCID's TRE */
} drf_gate;

typedef struct drf_settings {
	uint8_t storage_key[32];          /* seals K_pc and OPc_pc, and the identity key */
	m2m_identity_settings identity;   /* agency, enrolment secret, root, CRL refresh */
	char plmn[7];
	char pool_first[DRF_IMSI_MAX + 1];
	long pool_size;
	int pcid_validity_days;
	drf_gate gate;
	char pva[M2M_ENTITY_MAX + 1];     /* "" unless given (required for before_av) */
	m2m_validation_mode validation_mode;
	int min_assurance;
	int nsuppliers, nregistrars;
	char suppliers[DRF_LIST_MAX][M2M_ENTITY_MAX + 1];
	char registrars[DRF_LIST_MAX][M2M_ENTITY_MAX + 1];
	int ticket_seconds;
	char apn[DRF_APN_MAX + 1];
	int authorisation_seconds;        /* how old a subscriber's authorisation may be */
	int change_retry_seconds;         /* pause before telling the old SHO again */
	int uicc_wake_seconds;            /* 3b: how long a change may wait on the device untriggered */
} drf_settings;

/* Reads the group (NULL: missing); problems go to c. */
void drf_settings_read(m2m_conf *c, config_setting_t *group, drf_settings *out);
void drf_settings_clear(drf_settings *s);
int drf_is_supplier(const drf_settings *s, const char *id);
int drf_is_registrar(const drf_settings *s, const char *id);

/* ---- schema.c ------------------------------------------------------------------------------- */

extern const m2m_schema drf_schema;

/* ---- the process (main.c) ------------------------------------------------------------------- */

typedef struct drf_validation drf_validation;
typedef struct drf_pending drf_pending;

struct drf {
	drf_settings s;
	char entity[M2M_ENTITY_MAX + 1];
	m2m_node *node;  /* NULL in drf-admin */
	sqlite3 *db;
	m2m_identity *id;
	drf_validation *validations;  /* validationRequests in flight (gate.c) */
	drf_pending *pending;         /* changes the old SHO is being told of (change_pending.c) */
};

/* ---- expiry.c: what lasts only so long ------------------------------------------------------- */

/* Every PCID whose validity ended by now back to the pool: how many, or -1. */
int drf_pool_expire(drf *d, int64_t now);
/* That, and cached verdicts and tickets past their validity forgotten; in its own transaction
 * (from the tick, outside any step). 0 or -1. */
int drf_expire(drf *d, int64_t now);

/* ---- pool.c: the ICF's PCIDs ----------------------------------------------------------------- */

typedef struct drf_pcid {
	char imsi[DRF_IMSI_MAX + 1];
	char tre[M2M_ENTITY_MAX + 1];
	uint8_t k[16], opc[16];   /* unsealed only when loaded with keys */
	m2m_sqn_he sqn;
	int64_t assigned_at, valid_until;
	char imei[DRF_IMEI_MAX + 1];          /* "" when not in use */
	char network[M2M_ENTITY_MAX + 1];
} drf_pcid;

/* Loads the PCID imsi (keys: unseal K and OPc): 0, 1 when not assigned, -1 on failure. */
int drf_pcid_load(drf *d, const char *imsi, int keys, drf_pcid *p);
/* The PCID assigned to tre: 0, 1 when none, -1 on failure. */
int drf_pcid_of_tre(drf *d, const char *tre, int keys, drf_pcid *p);
void drf_pcid_wipe(drf_pcid *p);
/* Back to the pool: the assignment and its credentials deleted (secure_delete overwrites them). */
int drf_pcid_release(drf *d, const char *imsi);
int drf_pcid_set_sqn(drf *d, const char *imsi, const m2m_sqn_he *sqn);
/* In use by imei at network, or (imei NULL) not in use. */
int drf_pcid_set_use(drf *d, const char *imsi, const char *imei, const char *network, int64_t now);
/* The PCID of a request: M2M_OK (keys unsealed when asked), notFound, or pcidExpired after
 * releasing it (the caller records that refusal: m2m_refuse_recorded). */
m2m_reason drf_pcid_usable(drf *d, const char *imsi, int keys, int64_t now, drf_pcid *p, char *why, size_t len);
/* One PCID per TRE, the same one for a TRE that holds a valid one; all or nothing: M2M_OK, or
 * poolExhausted / internalError with why (the caller's refusal rolls back what was assigned). */
m2m_reason drf_pool_assign(drf *d, char (*tres)[M2M_ENTITY_MAX + 1], int n, int64_t now, drf_pcid *out, char *why,
			   size_t len);
/* pcidAssignRequest from a supplier. */
void drf_pcid_assign_request(drf *d, m2m_request *req);

/* ---- icf_auth.c: the ICF as the PCID's HSS/AuC ------------------------------------------------ */

void drf_auth_info_request(drf *d, m2m_request *req);
/* A deferred authInfoRequest once the gate passed it: everything again but the gate (whose verdict
 * the caller just cached), so that a PCID released meanwhile is refused. */
void drf_auth_info_resume(drf *d, m2m_request *req);
void drf_update_location(drf *d, m2m_request *req);
void drf_purge(drf *d, m2m_request *req);

/* ---- waiters.c: requests deferred until a call's outcome (gate, change) --------------------------- */

typedef struct drf_waiter {
	m2m_request *req;
	struct drf_waiter *next;
} drf_waiter;

/* The request waits on the list, deferred: 0, or -1 (out of memory: neither listed nor deferred). */
int drf_wait(drf *d, drf_waiter **list, m2m_request *req);
/* The list emptied; the requests themselves are the node's (answered, or freed with it). */
void drf_waiters_clear(drf_waiter **list);

/* ---- gate.c: the validation gate before vectors ---------------------------------------------- */

/* Whether the gate lets vectors for tre out now (1). Otherwise (0) it took the request: deferred
 * until the PVA's verdict, then resumed (drf_auth_info_resume) or refused. */
int drf_gate_pass(drf *d, m2m_request *req, const char *tre);
void drf_gate_free(drf *d);

/* ---- registration.c, discovery.c, provisioned.c: the DRF -------------------------------------- */

typedef struct drf_registration {
	char m2me[DRF_IMEI_MAX + 1];
	char tre[M2M_ENTITY_MAX + 1];
	char sho[M2M_ENTITY_MAX + 1];
	char dpf[M2M_ENTITY_MAX + 1];
	int provisioned;
	uint8_t subscriber_key[DRF_KEY_MAX];  /* DER SubjectPublicKeyInfo, P-256 */
	size_t subscriber_key_len;            /* 0: none registered */
} drf_registration;

/* An IMEI (the check digit right) or IMEISV: 14 to 16 digits. */
int drf_imei_valid(const char *imei);
/* Registers one device for actor (audit): M2M_OK, wrongState (registered for another SHO), or
 * internalError, with why. A subscriber key replaces the one held; without one, the one held stays. */
m2m_reason drf_register(drf *d, const drf_registration *r, const char *actor, int64_t now, char *why, size_t len);
/* The registration of tre: 0, 1 when none, -1 on failure. */
int drf_registration_load(drf *d, const char *tre, drf_registration *r);
void drf_registration_request(drf *d, m2m_request *req);
void drf_discovery_request(drf *d, m2m_request *req);
void drf_provisioned(drf *d, m2m_request *req);

/* ---- tre_signature.c: objects a TRE signs --------------------------------------------------------- */

/* m2m_cms_verify_tre_item under the DRF's trust store: a valid TRE certificate (chain, revocation,
 * model, profile tre) whose CN is the TRE the content names. M2M_OK with s filled, or the
 * refusal's reason (badBody when it is not a SignedData over item) with s->why. Clear s after. */
m2m_reason drf_tre_signed(drf *d, const M2M_SIGNED_OBJECT *so, const ASN1_ITEM *item, size_t tre_field,
			  m2m_tre_signed *s);

/* ---- subscriber.c: the subscriber's key and authorisation ------------------------------------------ */

/* Whether der is exactly the DER of a SubjectPublicKeyInfo of a P-256 key: 0 or -1. */
int drf_subscriber_key_check(const uint8_t *der, size_t len);
/* Whether the authorisation's signature (ECDSA, SHA-256, over the DER of its content) verifies
 * under the registered key: 0 or -1. */
int drf_authorisation_verify(const uint8_t *key, size_t key_len, const M2M_SUBSCRIBER_AUTHORISATION *a);

/* ---- change_store.c: the changes of subscription (docs/alt1a-change.md) ------------------------------ */

typedef enum drf_change_state {
	DRF_CHANGE_NOTIFYING,  /* the old SHO is being told; the new SHO's request waits */
	DRF_CHANGE_CONSENTED,  /* the old SHO consented: discovery with the changeId names the new SHO */
	DRF_CHANGE_COMPLETE,   /* the TRE attached with the new MCIM: registration moved, old SHO to release */
	DRF_CHANGE_RELEASED,   /* the old SHO acknowledged the release: closed */
	DRF_CHANGE_REFUSED,    /* the old SHO refused: closed, its reason kept for the new SHO */
	/* Alternative 3b (docs/alt3b.md): the old SHO consented with the IMSI of the device's UICC */
	DRF_CHANGE_TRIGGERING, /* the signed trigger is due or travelling to the TRE through SHO A */
	DRF_CHANGE_TRIGGERED,  /* the TRE acknowledged a trigger: it may register (also after a rollback) */
	DRF_CHANGE_ORDERING,   /* the TRE registered its card: SHO B is ordered the credentials */
	DRF_CHANGE_DELIVERED,  /* SHO B's package is stored and answers the TRE's registration */
	DRF_CHANGE_COMPLETED,  /* the device attached with B's IMSI: registration moved, A to release */
} drf_change_state;

/* What a change replaces: 1a's MCIM, or (3b) the credentials in the device's UICC. */
typedef enum drf_change_kind {
	DRF_KIND_MCIM,
	DRF_KIND_UICC,
} drf_change_kind;

typedef struct drf_change {
	uint8_t id[DRF_ID_LEN];
	char tre[M2M_ENTITY_MAX + 1];
	char m2me[DRF_IMEI_MAX + 1];
	char from_sho[M2M_ENTITY_MAX + 1], from_dpf[M2M_ENTITY_MAX + 1];
	char to_sho[M2M_ENTITY_MAX + 1], to_dpf[M2M_ENTITY_MAX + 1];
	drf_change_state state;
	drf_change_kind kind;                 /* set by the old SHO's consent */
	char a_imsi[DRF_IMSI_MAX + 1];        /* 3b: the IMSI of A on the card (consent), to release */
	uint8_t nonce[DRF_CHANGE_NONCE_LEN];  /* the authorisation's: used once */
	int64_t issued_at;
	int has_a_mcim, has_b_mcim;
	uint8_t a_mcim_id[DRF_ID_LEN];        /* the old SHO's MCIM (changeConsent), to release */
	uint8_t b_mcim_id[DRF_ID_LEN];        /* the new SHO's (changeComplete) */
	m2m_reason refusal;                   /* refused: the old SHO's reason and text */
	char refusal_text[256];
} drf_change;

const char *drf_change_state_name(drf_change_state s);
/* Loads a change: by its id, by the authorisation's (tre, nonce), or the open one of a TRE
 * (neither released nor refused). 0, 1 when none, -1 on failure. */
int drf_change_load(drf *d, const uint8_t id[DRF_ID_LEN], drf_change *c);
int drf_change_by_nonce(drf *d, const char *tre, const uint8_t nonce[DRF_CHANGE_NONCE_LEN], drf_change *c);
int drf_change_open_of(drf *d, const char *tre, drf_change *c);
/* A new change (its nonce marked used by the same row), or c's state, kind, IMSI of A, refusal
 * and MCIM ids written; 0 or -1. */
int drf_change_insert(drf *d, const drf_change *c, int64_t now);
int drf_change_save(drf *d, const drf_change *c, int64_t now);
/* The ids of up to max changes with a call of the DRF due (notifying, complete; 3b: triggering,
 * ordering, completed): how many, or -1. */
int drf_change_due(drf *d, uint8_t (*ids)[DRF_ID_LEN], int max);
/* The 3b changes waiting on the device (triggered, delivered) unchanged since since: how many, or -1. */
int drf_change_waiting(drf *d, int64_t since, uint8_t (*ids)[DRF_ID_LEN], int max);

/* ---- change_pending.c: what is being told to the old SHO, in memory -------------------------------- */

/* A change with a call to the old SHO in flight or due, and the new SHO's requests that wait on it. */
struct drf_pending {
	drf *d;
	uint8_t id[DRF_ID_LEN];
	int in_flight;
	int64_t next_at;       /* not before: the pause after a call that got no usable answer */
	char to[M2M_ENTITY_MAX + 1];  /* whom the last call went to */
	uint8_t sent_nonce[16];  /* 3b: the card nonce of the order in flight */
	drf_waiter *waiting;
	drf_pending *next;
};

/* The entry of the change id, made when there is none; NULL when out of memory. */
drf_pending *drf_pending_get(drf *d, const uint8_t id[DRF_ID_LEN]);
/* The call to the old SHO (to, type, body: freed here, made: whether it was made whole) unless one
 * is in flight, its answer to cb with p: 0, or -1 when it cannot be made or sent. */
int drf_pending_call(drf_pending *p, const char *to, int type, void *body, int made, m2m_response_cb cb);
/* Whether resp is an answer of type with the ChangeAck {changeId: id}. */
int drf_acked(const m2m_envelope *resp, int type, const uint8_t id[DRF_ID_LEN]);
/* A call that a ChangeAck {changeId} of ack_type answers, moving the change from `from` to `to`. */
typedef struct drf_ack_step {
	drf_change_state from, to;
	int ack_type;
	const char *what;  /* for the log: "release", "trigger" */
} drf_ack_step;
/* Its answer, in the callback step: 1 with the change in c moved and saved (p done); 0 when the
 * change is no longer `from` (p done) or the call is to be made again (logged, after the pause). */
int drf_pending_acked(drf_pending *p, const m2m_envelope *resp, m2m_reason reason, const drf_ack_step *s, drf_change *c);
/* The call got no usable answer: try again after the pause. */
void drf_pending_retry_later(drf_pending *p);
/* Done with the entry (its waiters answered): unlinked and freed. */
void drf_pending_done(drf_pending *p);
void drf_pending_free(drf *d);
/* From the tick: the call of every change due (notify, release; 3b: trigger, order, release),
 * unless one is in flight or its pause is not over. */
void drf_change_tick(drf *d, int64_t now);

/* ---- change_request.c, change_notify.c: SHO B asks, SHO A consents -------------------------------- */

void drf_change_request(drf *d, m2m_request *req);
/* The new SHO's answer from the change's state: changeResponse once consented, the old SHO's
 * refusal once refused (recorded: the request was deferred and the refusal is a decision). */
void drf_change_answer(drf *d, m2m_request *req, const drf_change *c, int recorded);
/* A reply whose body is SEQUENCE { changeId }: changeResponse or changeCompleteAck. */
void drf_reply_change_id(drf *d, m2m_request *req, int type, const uint8_t id[DRF_ID_LEN]);
/* changeNotify to the old SHO's DPF unless one is in flight: 0, or -1 when it cannot be called. */
int drf_change_notify(drf *d, drf_pending *p, const drf_change *c);

/* ---- change_complete.c: the TRE attached with the new MCIM; the old SHO releases -------------------- */

void drf_change_complete(drf *d, m2m_request *req);
/* changeRelease to the old SHO's DPF unless one is in flight: 0, or -1 when it cannot be called. */
int drf_change_release(drf *d, drf_pending *p, const drf_change *c);

/* ---- Alternative 3b: the UICC re-credentialed by the new SHO through the TRE (docs/alt3b.md) --------- */

#define DRF_ICCID_MIN 18
#define DRF_ICCID_MAX 20
#define DRF_CARD_CERT_MAX 4096
#define DRF_CARD_NONCE_LEN 16
#define DRF_PACKAGE_MAX 65536

/* uicc_store.c: the card a TRE registered for a change, and SHO B's package for it. */
typedef struct drf_uicc {
	uint8_t id[DRF_ID_LEN];
	char iccid[DRF_ICCID_MAX + 1];
	uint8_t card_cert[DRF_CARD_CERT_MAX];
	size_t card_cert_len;
	uint8_t card_nonce[DRF_CARD_NONCE_LEN];
	int has_package;                      /* B answered the order for this card nonce */
	char b_imsi[DRF_IMSI_MAX + 1];
} drf_uicc;

/* The trigger nonces issued for a change (kept: the TRE's registration must name one). */
int drf_trigger_nonce_insert(drf *d, const uint8_t id[DRF_ID_LEN], const uint8_t nonce[DRF_CARD_NONCE_LEN], int64_t now);
/* 0 when nonce was issued for the change id, 1 when not, -1 on failure. */
int drf_trigger_nonce_issued(drf *d, const uint8_t id[DRF_ID_LEN], const uint8_t nonce[DRF_CARD_NONCE_LEN]);
/* The card registered for the change (without its package): 0, 1 when none, -1 on failure. */
int drf_uicc_load(drf *d, const uint8_t id[DRF_ID_LEN], drf_uicc *u);
/* The card registered (again): iccid, certificate, card nonce; B's package forgotten. 0 or -1. */
int drf_uicc_register(drf *d, const drf_uicc *u, int64_t now);
/* B's package for the card nonce registered: 0 or -1. */
int drf_uicc_set_package(drf *d, const uint8_t id[DRF_ID_LEN], const M2M_UICC_CREDENTIAL_PACKAGE *k);
/* The stored package as B sent it; NULL when none or on failure. */
M2M_UICC_CREDENTIAL_PACKAGE *drf_uicc_package(drf *d, const uint8_t id[DRF_ID_LEN]);

/* uicc_trigger.c: the signed TreActivate to the TRE through SHO A, a new nonce every attempt. */
int drf_uicc_trigger(drf *d, drf_pending *p, const drf_change *c);
/* The same for a change that has waited on the device (triggered, delivered) for
 * uicc_wake_seconds: its state stays, the ack only restarts the wait. 0 or -1. */
int drf_uicc_wake(drf *d, drf_pending *p, const drf_change *c);

/* uicc_register.c: uiccChangeRegister from the TRE, uiccCredentialOrder to SHO B. */
/* The 3b change id that TRE tre names in what it signed: M2M_OK, or notFound, notAuthorised (the
 * change of another TRE), wrongState (a change of 1a) or internalError, with why. */
m2m_reason drf_uicc_change_of(drf *d, const uint8_t id[DRF_ID_LEN], const char *tre, drf_change *c, char *why, size_t len);
void drf_uicc_change_register(drf *d, m2m_request *req);
/* The order of the card registered to the change's new DPF unless one is in flight: 0 or -1. */
int drf_uicc_order(drf *d, drf_pending *p, const drf_change *c);

/* uicc_complete.c: uiccChangeComplete from the TRE. */
void drf_uicc_change_complete(drf *d, m2m_request *req);

/* uicc_release.c: uiccRelease of A's IMSI to the old DPF, until acknowledged: `released`. */
int drf_uicc_release(drf *d, drf_pending *p, const drf_change *c);

/* discovery.c: a RegistrationTicket for r (its sho and dpf) with that nonce and changeId (may be
 * NULL), signed and stored, or the one stored for (tre, nonce); NULL on failure. */
M2M_SIGNED_OBJECT *drf_ticket(drf *d, const drf_registration *r, const uint8_t nonce[DRF_NONCE_LEN],
			      const ASN1_OCTET_STRING *change_id);

#endif
