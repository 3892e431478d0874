/*
 * The HSS/AuC inside the mno daemon: its context and the procedures hss_dispatch hands requests
 * to, one file each (auth_info.c, location.c, purge.c, cancel_location.c, tre_trigger.c). Every procedure runs
 * inside the node's step transaction: it writes its state, then replies (committed first) or
 * refuses (rolled back). The core of each procedure is a function without wire types, which the
 * unit tests call directly.
 */
#ifndef MNO_HSS_IMPL_H
#define MNO_HSS_IMPL_H

#include "hss/hss.h"
#include "hss/settings.h"
#include "hss/subscriber.h"

#include "aka/auth_info.h"

typedef struct hss_cancel hss_cancel;

struct hss_context {
	hss_settings settings;
	m2m_node *node;  /* NULL until started */
	sqlite3 *db;
	hss_cancel *cancels;  /* cancelLocation calls awaiting their ack */
	/* the registration operator, the only sender of treTrigger: the dpf group's drf (set by
	 * dpf_start), "" for an operator without one */
	char drf[M2M_ENTITY_MAX + 1];
};

hss_context *hss_context_new(void);
void hss_context_free(hss_context *h);

/* hss_dispatch without the daemon: what the tests drive with a node of their own. */
void hss_serve(hss_context *h, m2m_request *req);

/* ---- shared by the procedures (hss.c) -------------------------------------------------------- */

/* Reads the IMSI of a request and checks that the serving network it names is its sender (a
 * network reports only for itself). 0, or -1 after refusing the request. */
int hss_request_imsi(hss_context *h, m2m_request *req, const ASN1_STRING *imsi_field,
		     const ASN1_STRING *network_field, char imsi[HSS_IMSI_MAX + 1]);
/* Loads a subscriber that may be served (keys unsealed): M2M_OK, or notFound (unknown or
 * deleted), wrongState (pending: no card yet, or an MCIM not installed yet), subscriberSuspended,
 * internalError, with why. */
m2m_reason hss_serviceable(hss_context *h, const char *imsi, hss_subscriber *s, char *why, size_t len);

/* ---- authInfoRequest (auth_info.c) ----------------------------------------------------------- */

typedef struct hss_resync {
	uint8_t rand[16];  /* of the vector the USIM found out of sequence */
	uint8_t auts[14];
} hss_resync;

/* n (1..5) vectors for imsi, after re-synchronising with resync when given; the new SQN state
 * is stored and the issue audited (actor: the requesting network). M2M_OK, or the reason. */
m2m_reason hss_vectors(hss_context *h, const char *actor, const char *imsi, int n, const hss_resync *resync,
		       m2m_aka_vector *out, char *why, size_t len);
void hss_auth_info_request(hss_context *h, m2m_request *req);

/* ---- updateLocation (location.c), purge (purge.c), cancelLocation (cancel_location.c) -------- */

typedef struct hss_located {
	hss_profile profile;                   /* on M2M_OK: what the serving network enforces */
	int keep;                              /* a refusal whose changes persist (clone suspended) */
	char cancel_at[M2M_ENTITY_MAX + 1];    /* "", or the network whose location is cancelled */
	int cancel_cause;                      /* M2M_CANCEL_WITHDRAWN or M2M_CANCEL_ATTACHED_ELSEWHERE */
	char why[200];
} hss_located;

/* Records that imsi is attached at network with imei, with clone detection per clone_policy. */
m2m_reason hss_locate(hss_context *h, const char *network, const char *imsi, const char *imei, hss_located *out);
void hss_update_location(hss_context *h, m2m_request *req);
/* The profile as the module carries it (updateLocationAck, an MCIM's profile). */
M2M_SUBSCRIPTION_PROFILE *hss_profile_message(const hss_profile *p);

/* Clears the location of imsi if network holds it (*cleared 1) and otherwise changes nothing:
 * M2M_OK, notFound for an unknown IMSI, or internalError. */
m2m_reason hss_purge_at(hss_context *h, const char *network, const char *imsi, int *cleared);
void hss_purge(hss_context *h, m2m_request *req);

/* tre_trigger.c: treTrigger from the registration operator (h->drf) for a serviceable IMSI of
 * this HSS, relayed to the network serving it, its treTriggerAck (or refusal) passed back. */
void hss_tre_trigger(hss_context *h, m2m_request *req);

/* Tells network that imsi is no longer attached there (audited with actor, the entity whose
 * request caused it); the ack, or its absence, is audited when it comes. */
void hss_cancel_location(hss_context *h, const char *actor, const char *network, const char *imsi, int cause);
void hss_cancels_free(hss_context *h);

#endif
