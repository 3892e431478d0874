/*
 * The visited operator inside the mno daemon: its settings, its context, and the procedures
 * vno_dispatch hands requests to, one file each:
 *
 *   settings.c        the `mno` group in visited mode, the roaming table (roaming.c looks it up)
 *   attach.c          attachRequest, authResponse, authFailure, the vectors from the home operator
 *   location.c        updateLocation, profile enforcement, the session an accepted attach opens
 *   attach_state.c    the attach state machine: which event moves which state where
 *   attach_store.c    the attach records, the current vector sealed under the storage key
 *   db.c              the SQL helpers the stores share
 *   home.c            calls to a home operator on behalf of a deferred device request
 *   session.c         the protected sessions an accepted attach opens (key sealed at rest)
 *   user_plane.c      protectedData -> protectedDataEcho
 *   relay.c           relayRequest: a device's message to a network function, walled garden
 *   detach.c          detachRequest (purge at the home operator, then detachAccept)
 *   cancel_location.c cancelLocation from the home operator that serves the IMSI
 *   downlink.c        smsDeliver and treTrigger from the IMSI's home operator, relayed to the
 *                     attached device
 *   rogue.c           ATTACKER behaviour of the attack scenarios (false network, replay)
 *
 * Every procedure runs inside the node's step transaction (lib/net/node.h): it writes its state
 * and then replies (committed first), or refuses bad input (rolled back). The parts without wire
 * types or a node are separate functions, which test_vno.c calls directly.
 */
#ifndef MNO_VNO_IMPL_H
#define MNO_VNO_IMPL_H

#include "vno/vno.h"

#include "aka/aka.h"
#include "aka/session.h"
#include "wire/read.h"
#include "wire/wire.h"

#include <sqlite3.h>
#include <stdint.h>

#define VNO_PLMN_MAX 6        /* MCC (3) || MNC (2 or 3) */
#define VNO_IMSI_MAX 15
#define VNO_IMEI_MAX 16
#define VNO_APN_MAX 100
#define VNO_ROAMING_MAX 32
#define VNO_WALLED_MAX 16     /* entities a PCID session may reach */
#define VNO_ATTACH_ID_LEN 8
#define VNO_RES_MAX 16        /* RES and XRES are 4..16 octets (TS 33.102 6.3.2) */
/* Re-synchronisations allowed in one attach: the second sync failure ends it (contract). */
#define VNO_MAX_RESYNCS 1

/* ---- settings (settings.c) and the roaming table (roaming.c) --------------------------------- */

/* Attacker modes for the attack scenarios only (rogue.c); "none" is an honest network. */
typedef enum vno_attack { VNO_ATTACK_NONE, VNO_ATTACK_FALSE_NETWORK, VNO_ATTACK_REPLAY } vno_attack;

/* One roaming agreement: IMSIs starting with plmn are served by the home operator entity home.
 * pcid: home is a registration operator's ICF and these IMSIs are PCIDs (docs/alt1a.md): it
 * answers AKA like an HSS, and the sessions it authenticates are walled gardens. */
typedef struct vno_roaming {
	char plmn[VNO_PLMN_MAX + 1];
	char home[M2M_ENTITY_MAX + 1];
	int pcid;
} vno_roaming;

typedef struct vno_settings {
	char plmn[VNO_PLMN_MAX + 1];  /* our own MCC || MNC */
	uint8_t storage_key[32];      /* seals vectors and session keys at rest */
	int nroaming;
	vno_roaming roaming[VNO_ROAMING_MAX];
	int nwalled;
	char walled[VNO_WALLED_MAX][M2M_ENTITY_MAX + 1];  /* walled_garden: what a PCID session reaches */
	vno_attack attack;
} vno_settings;

/* Reads the group (NULL: missing) into out; problems go to c (m2m_conf_fail). */
void vno_settings_read(m2m_conf *c, config_setting_t *group, vno_settings *out);
/* Every roaming home and walled-garden entity must be a peer we can call (listed with an
 * endpoint in nc). */
void vno_settings_check_peers(m2m_conf *c, config_setting_t *group, const vno_settings *s,
			      const m2m_node_conf *nc);
void vno_settings_wipe(vno_settings *s);
const char *vno_attack_name(vno_attack a);

/* The agreement serving imsi: the entry with the longest PLMN that prefixes it, or NULL when
 * there is no roaming agreement for it. vno_roaming_home: its home operator. */
const vno_roaming *vno_roaming_find(const vno_settings *s, const char *imsi);
const char *vno_roaming_home(const vno_settings *s, const char *imsi);
/* Only the home operator that serves an IMSI may speak about it (cancelLocation). */
int vno_serves(const vno_settings *s, const char *home, const char *imsi);

/* ---- the context (vno.c) --------------------------------------------------------------------- */

typedef struct vno_pending vno_pending;

struct vno_context {
	vno_settings settings;
	m2m_node *node;   /* NULL until started */
	sqlite3 *db;
	char entity[M2M_ENTITY_MAX + 1];  /* our own id: the servingNetwork we report */
	vno_pending *pending;             /* home calls awaiting their answer (home.c) */
};

vno_context *vno_context_new(void);
void vno_context_free(vno_context *v);

/* vno_dispatch without the daemon. */
void vno_serve(vno_context *v, m2m_request *req);


/* Identities of a request, checked: 0, or -1 (buf undefined). */
int vno_read_imsi(const ASN1_STRING *s, char imsi[VNO_IMSI_MAX + 1]);
int vno_read_imei(const ASN1_STRING *s, char imei[VNO_IMEI_MAX + 1]);
int vno_read_apn(const ASN1_STRING *s, char apn[VNO_APN_MAX + 1]);

/* ---- calls to a home operator (home.c) -------------------------------------------------------- */

/* The answer to a call made for the deferred request req about the record id (an attach or a
 * session). resp NULL: no answer (reason says why). Runs inside the answer's step. */
typedef void (*vno_home_fn)(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
			    const m2m_envelope *resp, m2m_reason reason);

/* Calls home (a home operator, or for the relay any peer); req (may be NULL) stays deferred
 * until fn answers it. 0, or -1 (fn not called). */
int vno_home_call(vno_context *v, const char *home, int type, const void *body, m2m_request *req,
		  const uint8_t id[VNO_ATTACH_ID_LEN], vno_home_fn fn);
/* purge{imsi, servingNetwork = us}: after a detach, or after a refused attach was located. */
M2M_PURGE *vno_purge_message(vno_context *v, const char *imsi);
void vno_pending_free_all(vno_context *v);

/* ---- the attach state machine (attach_state.c) ------------------------------------------------ */

typedef enum vno_attach_state {
	VNO_AWAITING_VECTORS,  /* authInfoRequest sent to the home operator */
	VNO_CHALLENGED,        /* authChallenge sent: waiting for authResponse or authFailure */
	VNO_RESYNCHRONISING,   /* authInfoRequest with resync{rand, auts} sent */
	VNO_LOCATING,          /* RES matched; updateLocation sent */
	VNO_PURGING,           /* the profile refused the attach; purge sent before refusing it */
	VNO_ACCEPTED,          /* session opened, attachAccept sent (final) */
	VNO_FAILED,            /* refused with the reason recorded (final) */
	VNO_ATTACH_STATES
} vno_attach_state;

typedef enum vno_attach_event {
	VNO_EV_VECTOR,            /* home: a vector (also after a resync) */
	VNO_EV_HOME_REFUSED,      /* home: error or no answer */
	VNO_EV_RES_OK,            /* device: authResponse, RES == XRES */
	VNO_EV_RES_MISMATCH,      /* device: authResponse, RES != XRES */
	VNO_EV_SYNCH_FAILURE,     /* device: authFailure{synchFailure, auts} */
	VNO_EV_MAC_FAILURE,       /* device: authFailure{macFailure} */
	VNO_EV_PROFILE_OK,        /* home: updateLocationAck, APN and IMEI allowed */
	VNO_EV_PROFILE_REFUSED,   /* home: updateLocationAck, APN or IMEI not allowed */
	VNO_EV_PURGED,            /* home: purgeAck (or no answer) after a profile refusal */
	VNO_EV_ABANDONED,         /* restart: the device request a home answer was for is gone */
	VNO_ATTACH_EVENTS
} vno_attach_event;

/* The next state, or -1 when event is not allowed in state (the request is refused
 * wrongState). resyncs: re-synchronisations this attach already made. */
int vno_attach_next(vno_attach_state state, vno_attach_event event, int resyncs);
const char *vno_attach_state_name(vno_attach_state s);
/* -1 for an unknown name. */
int vno_attach_state_parse(const char *name);

/* ---- attach records (attach_store.c) ---------------------------------------------------------- */

/* Where the challenge of an attach came from: the home operator, or an attacker (rogue.c). */
typedef enum vno_origin { VNO_FROM_HOME, VNO_FROM_FALSE_NETWORK, VNO_FROM_REPLAY } vno_origin;

/* The vector of the current challenge. XRES, CK and IK are secret: sealed at rest. */
typedef struct vno_vector {
	uint8_t rand[16];
	uint8_t autn[16];
	uint8_t xres[VNO_RES_MAX];
	uint8_t xres_len;  /* 0: the network holds no XRES (a replayed challenge) */
	uint8_t ck[16];
	uint8_t ik[16];
} vno_vector;

typedef struct vno_attach {
	uint8_t id[VNO_ATTACH_ID_LEN];
	char device[M2M_ENTITY_MAX + 1];  /* the entity that sent attachRequest */
	char imsi[VNO_IMSI_MAX + 1];
	char imei[VNO_IMEI_MAX + 1];
	char apn[VNO_APN_MAX + 1];
	char home[M2M_ENTITY_MAX + 1];    /* "" when no home operator is involved (false network) */
	int pcid;                         /* imsi is a PCID: home is an ICF (vno_roaming.pcid) */
	vno_attach_state state;
	int resyncs;
	vno_origin origin;
	m2m_reason reason;                /* VNO_FAILED (and VNO_PURGING): why */
	int has_vector;                   /* dropped once the session key is derived */
	vno_vector vector;
	uint8_t session_id[M2M_SESSION_ID_LEN];  /* VNO_ACCEPTED */
} vno_attach;

/* A new record in VNO_AWAITING_VECTORS with a random id (not stored yet). */
void vno_attach_init(vno_attach *a, const char *device, const char *imsi, const char *imei, const char *apn,
		     const char *home);
/* Creates or replaces the record; 0 or -1. */
int vno_attach_save(sqlite3 *db, const uint8_t key[32], const vno_attach *a);
/* 0, 1 when there is no such attach, -1 on a database error or a vector that does not open. */
int vno_attach_load(sqlite3 *db, const uint8_t key[32], const uint8_t id[VNO_ATTACH_ID_LEN], vno_attach *a);
/* At start: the attaches that were waiting on a home operator end (VNO_EV_ABANDONED), since the
 * device request they would have answered did not survive the restart. Count, or -1. */
int vno_attach_abandon_waiting(sqlite3 *db, const uint8_t key[32]);
void vno_attach_wipe(vno_attach *a);

/* ---- the attach procedure (attach.c, location.c) -------------------------------------------- */

/* 1 when RES equals XRES (same length, constant-time comparison), else 0. */
int vno_res_matches(const vno_vector *v, const uint8_t *res, size_t res_len);
/* The vector of an authInfoResponse (its first): 0, or -1 when it is missing or malformed. */
int vno_vector_from_wire(const M2M_AUTH_INFO_RESPONSE *resp, vno_vector *out);
/* The subscription profile against what the device asked for: M2M_OK, apnNotAllowed (apn is not
 * one of allowedApns) or imeiNotAllowed (an imeiLock other than imei). */
m2m_reason vno_profile_enforce(const M2M_SUBSCRIPTION_PROFILE *p, const char *apn, const char *imei);

void vno_attach_request(vno_context *v, m2m_request *req);
void vno_auth_response(vno_context *v, m2m_request *req);
void vno_auth_failure(vno_context *v, m2m_request *req);
/* After a matching RES (location.c): updateLocation to the home operator; its answer enforces the
 * profile and opens the session, or purges the location and refuses. req stays deferred. */
void vno_locate(vno_context *v, m2m_request *req, vno_attach *a);

/* Moves a by event (vno_attach_next) and stores it; a final state drops the vector. 0, or -1
 * when the event is not allowed in a's state or the record cannot be stored. */
int vno_attach_advance(vno_context *v, vno_attach *a, vno_attach_event event);
/* Moves a by event and answers the device with the challenge of a->vector: shared by the honest
 * path and the rogue's. 0, or -1 after refusing the request (internalError). */
int vno_send_challenge(vno_context *v, m2m_request *req, vno_attach *a, vno_attach_event event);
/* Ends the attach: a->reason = reason, moved by event (to failed), stored, and the refusal sent
 * as the step's reply so that the failed state persists. */
void vno_attach_fail(vno_context *v, m2m_request *req, vno_attach *a, vno_attach_event event, m2m_reason reason,
		     const char *text);
/* Reloads the attach a home operator's answer (event) is for, still in a state that takes it:
 * 0, or -1 after refusing req (internalError). */
int vno_attach_answered(vno_context *v, m2m_request *req, const uint8_t id[VNO_ATTACH_ID_LEN],
			vno_attach_event event, vno_attach *a);

/* ---- sessions (session.c) and the user plane (user_plane.c) ---------------------------------- */

typedef struct vno_session {
	uint8_t id[M2M_SESSION_ID_LEN];
	char device[M2M_ENTITY_MAX + 1];
	char imsi[VNO_IMSI_MAX + 1];
	char home[M2M_ENTITY_MAX + 1];
	char apn[VNO_APN_MAX + 1];
	int pcid;              /* opened by a PCID: a walled garden (relay.c), no user data */
	uint8_t key[32];       /* m2m_session_key(CK, IK, id): sealed at rest, aad = id */
	int64_t last_uplink;   /* the highest uplink counter accepted; -1 before the first */
	int open;              /* 0 once detached or cancelled */
} vno_session;

/* A new open session for an authenticated attach: random id, key from the vector's CK and IK,
 * stored (key sealed). 0 or -1. */
int vno_session_open(sqlite3 *db, const uint8_t storage_key[32], const vno_attach *a, vno_session *out);
/* 0, 1 when unknown, -1 on a database error or a key that does not open. */
int vno_session_load(sqlite3 *db, const uint8_t storage_key[32], const uint8_t id[M2M_SESSION_ID_LEN],
		     vno_session *s);
/* The open session of imsi (the latest, should there be several): 0, 1 when there is none, -1. */
int vno_session_of_imsi(sqlite3 *db, const uint8_t storage_key[32], const char *imsi, vno_session *s);
int vno_session_set_uplink(sqlite3 *db, const uint8_t id[M2M_SESSION_ID_LEN], uint64_t counter);
int vno_session_close(sqlite3 *db, const uint8_t id[M2M_SESSION_ID_LEN]);
/* Closes every open session of imsi; how many, or -1. */
int vno_sessions_close_imsi(sqlite3 *db, const char *imsi);
void vno_session_wipe(vno_session *s);

/* Whether sender may use the session: M2M_OK, notAuthorised (another device's) or notAttached
 * (closed: detached, or cancelled by the home operator). */
m2m_reason vno_session_usable(const vno_session *s, const char *sender);
/* Why a session cannot be used, in words (notFound, notAuthorised, notAttached). */
const char *vno_session_refusal(m2m_reason r);
/* The session field names, loaded, and usable by the request's sender: 0, or -1 after refusing
 * the request (badBody, notFound, notAuthorised, notAttached). */
int vno_session_of_device(vno_context *v, m2m_request *req, const ASN1_OCTET_STRING *field, vno_session *s);
/* vno_session_usable, walledGarden for a PCID session (no user data, T-1a-7), and the counter:
 * replayed when it is not above the last one accepted. */
m2m_reason vno_uplink_admit(const vno_session *s, const char *sender, uint64_t counter);
/* Opens the uplink data sealed under counter and seals the same plaintext downlink under the
 * same counter into echo (sealed_len bytes). M2M_OK, badBody (length), or authenticationFailed
 * (the tag does not verify: wrong key, counter, direction or session). */
m2m_reason vno_uplink_echo(const vno_session *s, uint64_t counter, const uint8_t *sealed, size_t sealed_len,
			   uint8_t *echo);

void vno_protected_data(vno_context *v, m2m_request *req);
void vno_detach_request(vno_context *v, m2m_request *req);

/* ---- the relay (relay.c) ------------------------------------------------------------------------ */

/* Whether sender may relay a message of type to destination over session s: vno_session_usable,
 * then for a PCID session walledGarden unless destination is in the walled garden and type is a
 * provisioning step (discoveryRequest, mcimRequest, installResult); on any session
 * notAuthorised for operator signalling (authInfoRequest, updateLocation, purge, ...), which
 * the destination would take as the visited operator's own. Whether destination is a peer is
 * the caller's check (unknownPeer). */
m2m_reason vno_relay_admit(const vno_settings *settings, const vno_session *s, const char *sender,
			   const char *destination, int type);
void vno_relay_request(vno_context *v, m2m_request *req);
void vno_cancel_location(vno_context *v, m2m_request *req);

/* ---- the downlink to the devices: smsDeliver, treTrigger (downlink.c) -------------------------- */

/* Whether home may send a downlink message for imsi to the device of session s (NULL: none open):
 * M2M_OK, notAuthorised (home does not serve imsi by the roaming table), notAttached (no open
 * session), walledGarden (a PCID's session). */
m2m_reason vno_downlink_admit(const vno_settings *settings, const char *home, const char *imsi, const vno_session *s);
/* smsDeliver or treTrigger: checked, relayed to the device, its answer passed back. */
void vno_downlink(vno_context *v, m2m_request *req);

/* ---- the attacker (rogue.c) --------------------------------------------------------------------- */

/* false-network: a challenge made under a random K, OPc and SQN: no USIM will accept it. 0 or -1. */
int vno_rogue_false_vector(vno_vector *out);
/* replay: remembers the last challenge relayed for imsi (RAND, AUTN: not secret). 0 or -1. */
int vno_rogue_keep_challenge(sqlite3 *db, const char *imsi, const uint8_t rand[16], const uint8_t autn[16]);
/* replay: takes (and forgets) the challenge kept for imsi: 1 found, 0 none, -1 error. */
int vno_rogue_take_challenge(sqlite3 *db, const char *imsi, vno_vector *out);
/* The attacker's handling of an attachRequest already parsed into a: 1 when it answered the
 * device itself, 0 when the attach goes to the home operator as usual. */
int vno_rogue_attach(vno_context *v, m2m_request *req, vno_attach *a);
/* The attacker's handling of a sync failure: 1 when it answered, 0 for the honest path. */
int vno_rogue_synch_failure(vno_context *v, m2m_request *req, vno_attach *a);
/* After an honest challenge went out: the replay attacker keeps it. */
void vno_rogue_relayed(vno_context *v, const vno_attach *a);

#endif
