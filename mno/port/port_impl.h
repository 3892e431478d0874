/*
 * The ports inside the mno daemon (port.h): the context, the two tables and the procedures, one
 * file each. The same operator may be the new operator B of one port (side in) and the old
 * operator A of another (side out). docs/alt3a.md has the message sequence.
 *
 * A port at B (side in), one row of port_port:
 *
 *   requesting --(portResponse: A accepted)--> accepted --(portTransfer provisioned)--> provisioned
 *   requesting --(A refused the request)--> refused
 *   accepted --(no transfer within transfer_timeout_seconds)--> failed
 *   provisioned --(every card's deletion receipt from A)--> completed
 *
 * and each of its cards (port_device):
 *
 *   requested --(the transfer: HSS record pending with K, OPc, SQN; OTA keysets)--> provisioned
 *   requested --(A refused, or the transfer timed out)--> refused
 *   provisioned --(the card's first attach with the new IMSI activated the record)--> attached
 *   attached --(portCompleteAck: A's receipt verified and kept; OTA key rotation queued)--> completed
 *
 * A port at A (side out):
 *
 *   (portRequest checked) accepted --(package made and stored)--> transferring
 *   transferring --(portTransferAck: an OTA job per card rewrites EF_IMSI)--> transferred
 *   transferring --(B refused the transfer)--> failed
 *   transferred --(every card deleted)--> completed
 *
 * and each card:
 *
 *   accepted --(transfer acknowledged: OTA job queued)--> rewriting
 *   rewriting --(PoR OK, both commands done)--> rewritten
 *   rewriting --(the job failed)--> rewriteFailed
 *   rewriting, rewritten or rewriteFailed --(portComplete: record deleted, keys erased, receipt signed)--> deleted
 *
 * Each step is written before its message or answer leaves: a handler's in the node's step,
 * the tick's in a transaction of its own before it calls. The tick resumes whatever is left
 * (requesting, transferring, attached) after a restart, sending the same bytes again.
 */
#ifndef MNO_PORT_IMPL_H
#define MNO_PORT_IMPL_H

#include "port/port.h"
#include "port/settings.h"

#include "daemon/identity.h"
#include "hss/hss_impl.h"
#include "hss/owner.h"

#include <stdint.h>

#define PORT_ID_LEN 16
#define PORT_NONCE_LEN 16
#define PORT_DEVICES_MAX 10000   /* PortRequest.devices, PortCredentials.credentials */
/* The cards of one port: its package (about 250 octets a card with two keysets: 501 kB for 2000)
 * must fit in one message of M2M_MAX_MESSAGE (1 MiB); more cards are more ports. */
#define PORT_CARDS_MAX 3500
#define PORT_ACTOR "port"        /* the HSS audit trail's actor for what a port does */
#define PORT_PROGRESS 500        /* a log line every so many cards */
/* What A keeps for itself after the transfer: the OTA counters of its own rewrite (each attempt
 * takes one), and the AKA SEQ values of attaches before the rewrite. B starts above both, so the
 * card takes B's first packet and B's first vector at once (no CNTR low, no re-synchronisation). */
#define PORT_COUNTER_RESERVE 4096
#define PORT_SEQ_RESERVE 1024

typedef enum port_side { PORT_IN, PORT_OUT } port_side;

typedef enum port_state {
	PORT_REQUESTING, PORT_ACCEPTED, PORT_TRANSFERRING, PORT_TRANSFERRED, PORT_PROVISIONED, PORT_COMPLETED,
	PORT_REFUSED, PORT_FAILED
} port_state;
#define PORT_STATES (PORT_FAILED + 1)

typedef enum port_device_state {
	DEV_REQUESTED, DEV_REFUSED, DEV_PROVISIONED, DEV_ATTACHED, DEV_COMPLETED,      /* at B */
	DEV_ACCEPTED, DEV_REWRITING, DEV_REWRITTEN, DEV_REWRITE_FAILED, DEV_DELETED   /* at A */
} port_device_state;
#define PORT_DEVICE_STATES (DEV_DELETED + 1)

typedef struct port_flight port_flight;

typedef struct port_context {
	port_settings settings;
	hss_context *hss;   /* the cards' records are the HSS's, sealed with its storage key */
	m2m_node *node;     /* NULL until started */
	sqlite3 *db;
	m2m_identity *id;   /* the operator's (mno_context.id): signs, opens packages, checks others */
	char entity[M2M_ENTITY_MAX + 1];
	port_flight *flights;  /* calls sent from the tick, not answered yet */
	int64_t due;           /* when the tick's work is looked at again */
} port_context;

/* ---- rows (store.c, device_store.c) ------------------------------------------------------------ */

typedef struct port_row {
	uint8_t id[PORT_ID_LEN];
	port_side side;
	port_state state;
	char peer[M2M_ENTITY_MAX + 1];       /* B: the old operator; A: the new one */
	char subscriber[HSS_OWNER_MAX + 1];
	long devices;
	uint8_t *authorisation;              /* DER CMS SignedData, as the subscriber signed it */
	size_t authorisation_len;
	uint8_t nonce[PORT_NONCE_LEN];       /* A: the authorisation's */
	uint8_t *certificate;                /* A: B's DER certificate, the package's recipient */
	size_t certificate_len;
	uint8_t *package;                    /* A: the package as sent; B: the SHA-256 of the one provisioned */
	size_t package_len;
	int reason;                          /* refused or failed: the m2m_reason, and why */
	char why[256];
	int64_t changed;                     /* when it took its state (Unix time) */
} port_row;

typedef struct port_device {
	char iccid[HSS_ICCID_MAX + 1];
	char old_imsi[HSS_IMSI_MAX + 1];     /* A: always; B: from the transfer on ("" before) */
	char new_imsi[HSS_IMSI_MAX + 1];
	port_device_state state;
	int64_t job_id;                      /* A: the rewrite; B: the key rotation; 0 when none */
} port_device;

const char *port_state_name(port_state s);
const char *port_device_state_name(port_device_state s);
/* "in" or "out". */
const char *port_side_name(port_side s);
void port_row_clear(port_row *p);

/* 0 with the port, 1 when there is none, -1 on a database error. */
int port_find(sqlite3 *db, const uint8_t id[PORT_ID_LEN], port_row *p);
int port_insert(sqlite3 *db, const port_row *p);
/* state, with reason and why for refused and failed (reason 0 otherwise): 0 or -1. */
int port_set_state(sqlite3 *db, const uint8_t id[PORT_ID_LEN], port_state state, int reason, const char *why);
/* transferring (A) or provisioned (B) with the package (A) or its digest (B): 0 or -1. */
int port_set_package(sqlite3 *db, const uint8_t id[PORT_ID_LEN], port_state state, const uint8_t *package, size_t len);
/* Whether a port holds this authorisation nonce already: 1, 0, or -1 on error. */
int port_nonce_used(sqlite3 *db, const uint8_t nonce[PORT_NONCE_LEN]);
/* The ports of a side in a state: malloc'd ids (*n of them; NULL with *n 0 when none, -1 on error). */
uint8_t (*port_ids(sqlite3 *db, port_side side, port_state state, int *n))[PORT_ID_LEN];
/* fn for each port of a side in a state (the tick's round over what is left). */
void port_each(port_context *port, port_side side, port_state state,
	       void (*fn)(port_context *port, const uint8_t id[PORT_ID_LEN]));

int port_device_insert(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const port_device *d);
/* 0 with the card, 1 when the port has no such card, -1 on error. */
int port_device_find(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, port_device *d);
/* A port's cards (state -1: all) in ICCID order: malloc'd, *n of them; NULL with *n -1 on error. */
port_device *port_devices(sqlite3 *db, const uint8_t id[PORT_ID_LEN], int state, int *n);
/* A port's provisioned cards whose new IMSI's record is active (their first attach): as
 * port_devices. */
port_device *port_devices_active(sqlite3 *db, const uint8_t id[PORT_ID_LEN], int *n);
/* The card's state and job (0: keep the job as it is): 0 or -1. */
int port_device_set(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, port_device_state state,
		    int64_t job_id);
/* B: the old IMSI A names in the transfer; 0 or -1. */
int port_device_set_old_imsi(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, const char *old_imsi);
/* completed (B) or deleted (A) with A's signed receipt: 0 or -1. */
int port_device_set_receipt(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, port_device_state state,
			    const uint8_t *receipt, size_t len);
/* The receipt kept (malloc'd): 0, 1 when there is none, -1 on error. */
int port_device_receipt(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *iccid, uint8_t **der, size_t *len);
/* How many of a port's cards are in each state (counts[PORT_DEVICE_STATES]): 0 or -1. */
int port_device_counts(sqlite3 *db, const uint8_t id[PORT_ID_LEN], long counts[PORT_DEVICE_STATES]);
/* Whether the card is in a port of this operator that has not ended: 1, 0, or -1 on error. */
int port_device_busy(sqlite3 *db, const char *iccid);

/* fn(arg) inside a savepoint of the caller's transaction (an answer's step, which is committed
 * whatever its callback did): its writes are kept only when it returns 0. Its result, or -1. */
int port_atomic(sqlite3 *db, int (*fn)(void *arg), void *arg);

/* ---- the subscriber's authorisation (authorisation.c) ------------------------------------------ */

typedef struct port_authorised {
	char subscriber[HSS_OWNER_MAX + 1];
	char from[M2M_ENTITY_MAX + 1], to[M2M_ENTITY_MAX + 1];
	uint8_t nonce[PORT_NONCE_LEN];
	int64_t issued;
	int n;
	char (*iccids)[HSS_ICCID_MAX + 1];  /* malloc'd, n of them, distinct */
} port_authorised;

/*
 * The PortAuthorisation inside a DER CMS SignedData (binary, one signer, embedded content).
 * pinned: the certificate it must be signed with (the registered one of its subscriber):
 * notAuthorised when the signer is another certificate, badSignature when the signature does not
 * verify; NULL: the content read without any check (what it claims: the new operator's look
 * before it asks, and the old operator's to find the subscriber whose certificate to use).
 * M2M_OK with out filled (clear it), else badBody (not such a SignedData, or its content not DER
 * of PortAuthorisation within the module's sizes), notAuthorised or badSignature with why.
 */
m2m_reason port_authorisation_read(const uint8_t *der, size_t len, X509 *pinned, port_authorised *out, char *why,
				   size_t wlen);
void port_authorised_clear(port_authorised *a);

/* ---- calls in flight (flight.c) ------------------------------------------------------------------ */

/* A call sent from the tick about a port (and a card of it: iccid, or "" for the port itself). */
struct port_flight {
	port_context *port;
	uint8_t id[PORT_ID_LEN];
	char iccid[HSS_ICCID_MAX + 1];
	struct port_flight *next;
};

port_flight *port_flight_add(port_context *port, const uint8_t id[PORT_ID_LEN], const char *iccid);
int port_flying(const port_context *port, const uint8_t id[PORT_ID_LEN], const char *iccid);
void port_flight_end(port_flight *x);
void port_flights_free(port_context *port);
/* Calls port's peer with body; the flight ends when the call cannot start. 0 or -1 (logged). */
int port_flight_call(port_flight *x, const char *peer, int type, const void *body, m2m_response_cb cb);
/* Whether an answer is worth waiting for again (no answer, or the peer not ready): 1, else 0. */
int port_retryable(const m2m_envelope *resp, m2m_reason reason);

/* An answer to a call about a whole port (portRequest, portTransfer), as record sees it. */
typedef struct port_answer {
	port_context *port;
	const port_row *p;
	const m2m_envelope *resp;  /* of the awaited type, or a refusal */
	m2m_reason reason;         /* the refusal's (m2m_call_reason) */
	char why[300];             /* the refusal's text; what record found wrong */
} port_answer;

/*
 * The frame of such an answer, from the call's callback: an answer about a port no longer in
 * state awaited is ignored; no answer, or a peer not ready, waits for the next send; otherwise
 * record runs, its writes kept only when it returns 0 (port_atomic), and an answer of type
 * answer_type is logged as "port ID: PEER <done> N card(s)". The flight ends.
 */
void port_answered(port_flight *x, const m2m_envelope *resp, m2m_reason reason, port_state awaited, int answer_type,
		   int (*record)(port_answer *a), const char *done);

/* ---- as the new operator B ------------------------------------------------------------------------- */

/* start.c (mno-admin port start): the port in requesting, one new IMSI per card allocated with a
 * pending HSS record (no keys yet), all or nothing. HSS_DONE with id, else why in err. */
hss_outcome port_start_in(sqlite3 *db, const hss_settings *hs, const port_settings *ps, const char *entity,
			  const char *from, const char *authorisation_file, uint8_t id[PORT_ID_LEN], char *err,
			  size_t len);
/* The pending records of a port that ended before its transfer go (audited): 0 or -1. */
int port_release_imsis(sqlite3 *db, const uint8_t id[PORT_ID_LEN], const char *why);

void port_request_tick(port_context *port);                    /* request.c */
/* timeout.c: the ports A accepted but did not transfer within transfer_timeout_seconds fail
 * (reason timeout), their pending records, which hold no key, deleted. */
void port_timeout_tick(port_context *port);
void port_transfer_in(port_context *port, m2m_request *req);   /* provision.c */
void port_complete_tick(port_context *port);                   /* complete.c */

/* ---- as the old operator A ------------------------------------------------------------------------- */

void port_request_in(port_context *port, m2m_request *req);    /* authorise.c */
/* package.c: PortCredentials of the port's cards, signed by the identity and encrypted to B's
 * certificate (malloc'd). M2M_OK or internalError with why. */
m2m_reason port_package(port_context *port, const port_row *p, uint8_t **package, size_t *len, char *why,
			size_t wlen);
void port_transfer_tick(port_context *port);                   /* transfer.c */
/* rewrite.c: an OTA job per card of the port writing its new IMSI into EF_IMSI (cards rewriting),
 * in the caller's step: 0 or -1. */
int port_rewrite_queue(port_context *port, const uint8_t id[PORT_ID_LEN]);
/* The rewrite jobs that ended: their cards rewritten or rewriteFailed. */
void port_rewrite_tick(port_context *port);
void port_complete_in(port_context *port, m2m_request *req);   /* release.c */

/* ---- mno-admin (status.c) -------------------------------------------------------------------------- */

hss_outcome port_status(sqlite3 *db, const char *id_hex, FILE *out, char *err, size_t len);
hss_outcome port_list(sqlite3 *db, FILE *out, char *err, size_t len);

#endif
